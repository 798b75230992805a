"""``forewarn read PATH [--profile me.toml] [-o story.html|story.epub]``: a reading copy.

Writes the whole story with the scenes the reader's profile avoids collapsed (HTML:
behind a ``<details>`` with a link past the scene) or marked (EPUB: a notice with a link
past the scene). Without ``--profile`` the reader's default profile is used
(``forewarn profile``), and without one every reported warning is collapsed. Without
``-o`` the HTML goes to standard output. See docs/reading-copy.md.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import sys
import tempfile

from forewarn.cli import (
    add_confidence_option,
    add_paths_argument,
    add_scan_options,
    whole_number,
)
from forewarn.confidence import confidence_floor
from forewarn.errors import ForewarnError

FORMATS: dict[str, str] = {".html": "html", ".htm": "html", ".epub": "epub"}


class OutputError(ForewarnError, exit_code=2, kind="usage"):
    """A bad ``-o``: an unknown extension, the input file itself, or an unwritable path."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "read",
        help="write a reading copy with the scenes you avoid collapsed",
        description="Write the story as one self-contained HTML page (or an EPUB) in which "
        "every scene your profile avoids is collapsed behind a note, with controls to show "
        "it or skip past it.",
    )
    add_paths_argument(p, one=True)
    p.add_argument("--profile", metavar="FILE",
                   help="your profile (TOML): which warnings to collapse, from what severity; "
                   "without it every reported warning is collapsed")
    p.add_argument("-o", "--output", metavar="FILE", type=output_path,
                   help="write to FILE: .html/.htm (one page) or .epub; "
                   "without it, HTML goes to standard output")
    p.add_argument("--gap", type=whole_number(0), default=None, metavar="N",
                   help="merge flagged passages at most N paragraphs apart (default 1)")
    add_confidence_option(p, profile=True, verdict=True)  # at 1, nothing is collapsed
    add_scan_options(p)
    p.set_defaults(func=run)


def output_path(value: str) -> str:
    """argparse type for ``-o``: a path ending in .html, .htm or .epub."""
    if not value.strip():
        raise argparse.ArgumentTypeError("empty output path")
    if os.path.splitext(value)[1].lower() not in FORMATS:
        raise argparse.ArgumentTypeError(
            f"{value}: the output must end in .html, .htm or .epub"
        )
    return value


def run(args: argparse.Namespace) -> int:
    from forewarn.ingest import read_path
    from forewarn.scanner import Scanner
    from forewarn.scenes import DEFAULT_MAX_GAP, flagged_scenes, without_flagged_titles

    output: str | None = args.output
    if output is not None:
        output_path(output)  # also when run() is called without the parser
        check_not_input(args.path, output)
    from forewarn.profile import load_profile, resolve_profile

    path = resolve_profile(args.profile)  # the reader's default profile when none is given
    profile = load_profile(path) if path is not None else None
    floor = confidence_floor(args.min_confidence, profile)
    if profile is not None:  # the option wins over the profile's floor, as in check
        profile = dataclasses.replace(profile, min_confidence=floor)
    work = read_path(args.path, encoding=args.encoding)
    scanner = Scanner(lexicon_only=args.lexicon_only, min_confidence=floor)
    report = scanner.scan_work(work)
    max_gap = DEFAULT_MAX_GAP if args.gap is None else args.gap
    scenes = flagged_scenes(work, report, profile, max_gap=max_gap)
    work = without_flagged_titles(work, report, profile)  # a flagged title is not shown
    from forewarn.render.strip import strips

    drawn = strips(report, profile)
    fmt = FORMATS[os.path.splitext(output)[1].lower()] if output else "html"
    if fmt == "epub":
        from forewarn.render.epub import render_epub

        data = render_epub(work, scenes, profile=profile is not None, strips=drawn)
    else:
        from forewarn.render.html import render_html

        data = render_html(work, scenes, profile=profile is not None,
                           strips=drawn).encode("utf-8")
    if output is None:
        sys.stdout.flush()
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is None:
            sys.stdout.write(data.decode("utf-8"))
        else:
            buffer.write(data)
            buffer.flush()
    else:
        write_atomically(output, data)
    return 0


def check_not_input(source: str, output: str) -> None:
    """Refuse an output path that is the input file (or a link to it)."""
    if source == "-":
        return
    same = os.path.realpath(source) == os.path.realpath(output)
    if not same:
        with contextlib.suppress(OSError):
            same = os.path.samefile(source, output)
    if same:
        raise OutputError(f"{output}: is the input file; choose another output name")


def write_atomically(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory.

    The temporary file is flushed to disk and then renamed over ``path``
    (:func:`os.replace`), so ``path`` holds either its old content or the whole new one,
    never a half-written file. The new file gets the usual permissions (``0666`` less
    the umask).
    """
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise OutputError(f"{path}: is a directory")
    if not os.path.isdir(directory):
        raise OutputError(f"{path}: no such directory {directory}")
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp",
                                    dir=directory)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o666 & ~_umask())
        os.replace(temp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
