"""``forewarn audit PATH [PATH ...]``: what a work declares against what forewarn finds.

``--format text`` (default) prints the three lists (declared and found, declared but not
found, found but not declared) and the AO3 archive warnings the work calls for;
``--format json`` (or ``--json``) the ``forewarn.audit/1`` object (docs/audit.md);
``--format ao3`` one comma-separated line of the tags to add, ready to paste into AO3's
"Additional Tags" field (nothing when there is nothing to add).

Several works are audited in turn (JSON: an array in order, an unreadable work as
``{"source", "error", "exit_code"}``; ao3: one line per work, prefixed by its path).

Exit codes: 0 when every work was audited, whatever the audits say; 2 for a usage error;
3-7 when a work cannot be read (the first failure's code; docs/cli.md).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import Any

from forewarn.cli import add_format_option, confidence, err, output_format, story_paths_help
from forewarn.confidence import DEFAULT_MIN_CONFIDENCE, confidence_floor
from forewarn.errors import ForewarnError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "audit", help="compare a work's declared warnings with what it contains",
        description="For authors: compare the warnings a work declares (AO3 archive "
                    "warnings, tags, 'TW:' lines) with what forewarn finds in its text, and "
                    "suggest the warnings to add, with where the content is.")
    p.add_argument("paths", metavar="PATH", nargs="+", help=story_paths_help())
    add_format_option(p, "audit")
    p.add_argument("--evidence", action="store_true",
                   help="quote the passages (may spoil the story)")
    p.add_argument("--min-confidence", type=confidence, default=None, metavar="X",
                   help="leave out warnings below this confidence (0-1, default "
                   f"{DEFAULT_MIN_CONFIDENCE:g})")
    p.add_argument("--encoding", help="decode text files with this encoding")
    p.add_argument("--lexicon-only", action="store_true",
                   help="skip the embedding model (faster, less recall)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from forewarn.audit import audit_work
    from forewarn.ingest import read_path
    from forewarn.render.registry import Failed, RenderOptions, render
    from forewarn.render.terminal import use_colour
    from forewarn.scanner import Scanner

    fmt = output_format(args)
    floor = confidence_floor(args.min_confidence)
    scanner = Scanner(lexicon_only=args.lexicon_only, min_confidence=floor)
    status = 0

    def audits() -> Iterator[Any]:  # one bad input does not stop the others
        nonlocal status
        for path in args.paths:
            try:
                audit = audit_work(read_path(path, encoding=args.encoding), scanner)
            except ForewarnError as exc:
                err(str(exc))
                status = status or exc.exit_code
                yield Failed(path, exc)
                continue
            yield audit

    options = RenderOptions(evidence=args.evidence, colour=use_colour(sys.stdout),
                            many=len(args.paths) > 1)
    render(fmt, "audit", audits(), sys.stdout, options)
    return status
