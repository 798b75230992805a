"""The ``forewarn`` command: a thin shell over the library. See docs/cli.md.

Exit codes: 0 every input scanned; 1 unexpected internal error; 2 usage error (bad
option, unknown warning name); 3 input not found, a directory or not a regular file
(a FIFO, device or socket); 4 empty input;
5 unsupported or binary format; 6 malformed input (broken EPUB/HTML, bad encoding,
control characters); 7 input too large. Commands may add their own (``check``: 10 when a
work is not safe for the profile). With several inputs every input is tried; the exit
code is that of the first failure.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from forewarn.errors import ForewarnError

# Each command is a module in forewarn.commands with `register(subparsers)`, which adds
# its parser and sets `func(args) -> int`. Listed in the order `--help` shows them.
COMMANDS = ("scan", "check", "read", "audit", "profile", "batch", "export", "stats", "serve",
            "eval", "taxonomy", "completion")


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"forewarn: {message}\n")


def confidence(value: str) -> float:
    """argparse type for a number in [0, 1]."""
    try:
        x = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 0.0 <= x <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1: {value}")
    return x


def check_confidence(value: str) -> float:
    """argparse type for ``check``'s floor: [0, 0.99]. Confidence never goes above 0.99,
    so a higher floor would hide every warning and call every story safe."""
    x = confidence(value)
    if x > 0.99:
        raise argparse.ArgumentTypeError(
            f"must be at most 0.99: confidence never goes above 0.99, so {value} would "
            "leave out every warning")
    return x


def whole_number(least: int) -> Callable[[str], int]:
    """argparse type for a whole number of at least ``least``."""

    def parse(value: str) -> int:
        try:
            n = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
        if n < least:
            raise argparse.ArgumentTypeError(f"must be at least {least}: {value}")
        return n

    return parse


def seconds(most: float | None = None) -> Callable[[str], float]:
    """argparse type for a number of seconds, more than 0 (and at most ``most``)."""

    def parse(value: str) -> float:
        try:
            x = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}") from None
        if not x > 0 or (most is not None and x > most):
            within = f" (and at most {most:g})" if most is not None else ""
            raise argparse.ArgumentTypeError(f"must be more than 0{within}: {value}")
        return x

    return parse


def add_paths_argument(parser: argparse.ArgumentParser, *, one: bool = False) -> None:
    """The story ``PATH`` (``one``) or ``PATH...`` a command reads, in ``args.path(s)``."""
    if one:
        parser.add_argument("path", metavar="PATH", help=story_paths_help(one=True))
    else:
        parser.add_argument("paths", metavar="PATH", nargs="+", help=story_paths_help())


def add_evidence_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--evidence", action="store_true",
                        help="quote the passages (may spoil the story)")


def add_confidence_option(parser: argparse.ArgumentParser, *, profile: bool = False,
                          verdict: bool = False) -> None:
    """``--min-confidence X``: the confidence floor (None when not given; resolve it with
    :func:`forewarn.confidence.confidence_floor`). ``profile``: a profile's floor is the
    default; ``verdict``: at most 0.99 (:func:`check_confidence`)."""
    from forewarn.confidence import DEFAULT_MIN_CONFIDENCE

    default = (f"the profile's min_confidence, else {DEFAULT_MIN_CONFIDENCE:g}" if profile
               else f"{DEFAULT_MIN_CONFIDENCE:g}")
    parser.add_argument("--min-confidence", type=check_confidence if verdict else confidence,
                        default=None, metavar="X",
                        help=f"leave out warnings below this confidence "
                             f"({'0-0.99' if verdict else '0-1'}; default {default})")


def add_scan_options(parser: argparse.ArgumentParser, *, encoding: bool = True) -> None:
    """How stories are read and scanned: ``--encoding`` (unless ``encoding`` is False)
    and ``--lexicon-only``."""
    if encoding:
        parser.add_argument("--encoding", help="decode text files with this encoding")
    parser.add_argument("--lexicon-only", action="store_true",
                        help="skip the embedding model (faster, less recall)")


class EachInput:
    """A command's inputs, each turned into its result by ``make(path)``, in order: one
    that cannot be read is said on stderr and stands in its place as a
    :class:`~forewarn.render.registry.Failed`, and does not stop the others. ``status``
    is the first failure's exit code (0 while none failed)."""

    def __init__(self, paths: Sequence[str], make: Callable[[str], Any]) -> None:
        self.paths, self.make, self.status = list(paths), make, 0

    def __iter__(self) -> Iterator[Any]:
        from forewarn.render.registry import Failed

        for path in self.paths:
            try:
                result = self.make(path)
            except ForewarnError as exc:
                err(str(exc))
                self.status = self.status or exc.exit_code
                yield Failed(path, exc)
                continue
            yield result


def err(message: str) -> None:
    """Print one line on stderr, whatever the message holds: a file name's escape
    sequences shown as visible escapes, never run by the terminal."""
    from forewarn.render.terminal import one_line

    sys.stderr.write(f"forewarn: {one_line(str(message))}\n")


def error_entry(source: str, exc: ForewarnError) -> dict[str, object]:
    """An input that could not be read, in its place in a JSON array of results."""
    from forewarn.render.registry import Failed

    return Failed(source, exc).to_dict()


def add_format_option(parser: argparse.ArgumentParser, kind: str, *, default: str = "text",
                      json_alias: bool = True) -> None:
    """``--format`` for a command that prints results of ``kind``: its choices and help are
    the renderers registered for that kind (:mod:`forewarn.render.registry`);
    ``json_alias`` adds ``--json``, the same as ``--format json``. Read the choice with
    :func:`output_format`."""
    from forewarn.render.registry import format_help, renderer_names

    parser.add_argument("--format", choices=renderer_names(kind), default=None,
                        help=format_help(kind, default))
    if json_alias:
        parser.add_argument("--json", action="store_true", help="the same as --format json")
    parser.set_defaults(format_default=default, format_parser=parser, format_kind=kind)


def output_format(args: argparse.Namespace) -> str:
    """The format a command was asked for: ``--format``, else ``json`` with ``--json``,
    else the command's default. ``--json`` with another ``--format`` is a usage error."""
    as_json = getattr(args, "json", None) is True
    fmt = args.format or ("json" if as_json else args.format_default)
    if as_json and fmt != "json":
        args.format_parser.error(f"--json conflicts with --format {fmt}")
    return str(fmt)


def story_paths_help(one: bool = False) -> str:
    """The help of a PATH argument, with the extensions the registered readers take."""
    from forewarn.ingest.registry import extensions_line

    what = "a story file" if one else "story files"
    return f"{what} ({extensions_line()}), or - for standard input"


def build_parser() -> argparse.ArgumentParser:
    from forewarn import __version__

    parser = Parser(prog="forewarn", description="Content warnings for fiction.")
    parser.add_argument("--version", action="version", version=f"forewarn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"forewarn.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"forewarn.commands.{name}":
                raise
            continue
        module.register(sub)
    return parser


# a disk full, over quota, a file too large, an I/O error: where output cannot be written
_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    if not (sys.argv[1:] if argv is None else list(argv)):
        parser.print_help(sys.stderr)  # a bare ``forewarn``: what it can do
        return 2
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except ForewarnError as exc:
        err(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        err("interrupted")
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:
        if exc.errno not in _FULL:
            err(f"internal error: {type(exc).__name__}: {exc} (please report this)")
            return 1
        # standard output (or another file) on a full or failing disk: the machine's
        # state, not a bug; as with -o FILE (exit 3)
        err(f"cannot write the output: {exc.strerror or exc}")
        return 3
    except Exception as exc:  # a bug: still one line, never a traceback
        err(f"internal error: {type(exc).__name__}: {exc} (please report this)")
        return 1


if __name__ == "__main__":
    sys.exit(main())
