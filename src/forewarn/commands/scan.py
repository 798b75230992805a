"""``forewarn scan PATH...``: report each work's content warnings."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import Any

from forewarn.cli import add_format_option, confidence, err, output_format, story_paths_help
from forewarn.confidence import DEFAULT_MIN_CONFIDENCE, confidence_floor
from forewarn.errors import ForewarnError


def register(sub: argparse._SubParsersAction) -> None:
    from forewarn.ingest.registry import labels_line

    p = sub.add_parser(
        "scan", help="scan stories and report their content warnings",
        description=f"Scan stories ({labels_line()}, or - for standard input) and report "
                    "which content warnings each needs, where, and how strong. No story "
                    "text is quoted unless --evidence is given.")
    p.add_argument("paths", nargs="+", metavar="PATH", help=story_paths_help())
    add_format_option(p, "report")
    p.add_argument("--evidence", action="store_true",
                   help="quote the passages (may spoil the story)")
    p.add_argument("--min-confidence", type=confidence, default=None, metavar="X",
                   help="hide warnings below this confidence (0-1, default "
                   f"{DEFAULT_MIN_CONFIDENCE:g})")
    p.add_argument("--only", metavar="WARNING,...",
                   help="report only these warnings (ids, names or aliases)")
    p.add_argument("--encoding", help="decode text files with this encoding")
    p.add_argument("--by-chapter", action="store_true",
                   help="also print a table of chapters by warnings")
    p.add_argument("--strip", action="store_true",
                   help="also draw a strip per warning across the work: one character per "
                   "chapter (per tenth of a short work), shaded by severity")
    p.add_argument("--lexicon-only", action="store_true",
                   help="skip the embedding model (faster, less recall)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from forewarn.ingest import read_path
    from forewarn.render.registry import Failed, RenderOptions, render
    from forewarn.render.terminal import use_colour
    from forewarn.scanner import Scanner
    from forewarn.taxonomy import load_taxonomy

    fmt = output_format(args)
    only = {w.id for w in load_taxonomy().parse_list(args.only)} if args.only else None
    floor = confidence_floor(args.min_confidence)
    scanner = Scanner(lexicon_only=args.lexicon_only, min_confidence=floor)
    status = 0

    def reports() -> Iterator[Any]:  # every input keeps its place, a failure as Failed
        nonlocal status
        for path in args.paths:
            try:
                report = scanner.scan_work(read_path(path, encoding=args.encoding))
            except ForewarnError as exc:
                err(str(exc))
                status = status or exc.exit_code
                yield Failed(path, exc)
                continue
            yield report.filtered(floor, only)

    options = RenderOptions(evidence=args.evidence, colour=use_colour(sys.stdout),
                            by_chapter=args.by_chapter, strip=args.strip,
                            many=len(args.paths) > 1)
    render(fmt, "report", reports(), sys.stdout, options)
    return status
