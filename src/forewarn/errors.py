"""Errors a user can cause, each with its documented exit code (see docs/cli.md).

Every error forewarn raises for bad input is a :class:`ForewarnError`; the CLI prints its
message on one line of stderr and exits with its ``exit_code``. Anything else escaping is
a bug (exit code 1, still one line).
"""

from __future__ import annotations


class ForewarnError(Exception):
    """Base class: a problem with what the user gave us, not a bug. A subclass names its
    exit code and kind in its class line (``class X(ForewarnError, exit_code=3,
    kind="not-found")``) or as class attributes."""

    exit_code = 1
    kind = "error"

    def __init_subclass__(cls, exit_code: int | None = None, kind: str | None = None,
                          **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if exit_code is not None:
            cls.exit_code = exit_code
        if kind is not None:
            cls.kind = kind


class InputNotFound(ForewarnError, exit_code=3, kind="not-found"):
    """The path does not exist, is a directory, or cannot be opened."""


class EmptyInput(ForewarnError, exit_code=4, kind="empty"):
    """The input holds no story text."""


class UnsupportedFormat(ForewarnError, exit_code=5, kind="unsupported"):
    """A binary file, or a format forewarn does not read."""


class MalformedInput(ForewarnError, exit_code=6, kind="malformed"):
    """A file of a supported format that cannot be read: broken EPUB or HTML, bad encoding."""


class InputTooLarge(ForewarnError, exit_code=7, kind="too-large"):
    """The input is larger than the configured limit."""


class TaxonomyError(ForewarnError, exit_code=2, kind="unknown-warning"):
    """An unknown warning name (in --only, a profile...)."""


class EngineUnavailable(ForewarnError, exit_code=2, kind="engine"):
    """A detection engine was asked for that this installation does not have (usage)."""


class BrokenInstall(ForewarnError, exit_code=16, kind="install"):
    """A file of forewarn's own (a model, the lexicon, the taxonomy) is missing, damaged or
    altered: the installation, not the input; reinstall forewarn."""


class UsageError(ForewarnError, exit_code=2, kind="usage"):
    """A bad setting: an environment variable's value forewarn cannot use (a typo in
    ``FOREWARN_ENGINE``), where a silent default would run something else than asked."""
