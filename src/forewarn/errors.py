"""Errors a user can cause, each with its documented exit code (see docs/cli.md).

Every error forewarn raises for bad input is a :class:`ForewarnError`; the CLI prints its
message on one line of stderr and exits with its ``exit_code``. Anything else escaping is
a bug (exit code 1, still one line).
"""

from __future__ import annotations


class ForewarnError(Exception):
    """Base class: a problem with what the user gave us, not a bug."""

    exit_code = 1
    kind = "error"


class InputNotFound(ForewarnError):
    """The path does not exist, is a directory, or cannot be opened."""

    exit_code = 3
    kind = "not-found"


class EmptyInput(ForewarnError):
    """The input holds no story text."""

    exit_code = 4
    kind = "empty"


class UnsupportedFormat(ForewarnError):
    """A binary file, or a format forewarn does not read."""

    exit_code = 5
    kind = "unsupported"


class MalformedInput(ForewarnError):
    """A file of a supported format that cannot be read: broken EPUB or HTML, bad encoding."""

    exit_code = 6
    kind = "malformed"


class InputTooLarge(ForewarnError):
    """The input is larger than the configured limit."""

    exit_code = 7
    kind = "too-large"


class TaxonomyError(ForewarnError):
    """An unknown warning name (in --only, a profile...)."""

    exit_code = 2
    kind = "unknown-warning"


class EngineUnavailable(ForewarnError):
    """A detection engine was asked for that this installation does not have (usage)."""

    exit_code = 2
    kind = "engine"
