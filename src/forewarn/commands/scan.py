"""``forewarn scan PATH...``: report each work's content warnings."""

from __future__ import annotations

import argparse
import sys

from forewarn import cli
from forewarn.confidence import confidence_floor


def register(sub: argparse._SubParsersAction) -> None:
    from forewarn.ingest.registry import labels_line

    p = sub.add_parser(
        "scan", help="scan stories and report their content warnings",
        description=f"Scan stories ({labels_line()}, or - for standard input) and report "
                    "which content warnings each needs, where, and how strong. No story "
                    "text is quoted unless --evidence is given.")
    cli.add_paths_argument(p)
    cli.add_format_option(p, "report")
    cli.add_evidence_option(p)
    cli.add_confidence_option(p)
    p.add_argument("--only", metavar="WARNING,...",
                   help="report only these warnings (ids, names or aliases)")
    p.add_argument("--by-chapter", action="store_true",
                   help="also print a table of chapters by warnings")
    p.add_argument("--strip", action="store_true",
                   help="also draw a strip per warning across the work: one character per "
                   "chapter (per tenth of a short work), shaded by severity")
    cli.add_scan_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from forewarn.ingest import read_path
    from forewarn.render.registry import RenderOptions, render
    from forewarn.render.terminal import use_colour
    from forewarn.scanner import Scanner
    from forewarn.taxonomy import load_taxonomy

    fmt = cli.output_format(args)
    only = ({w.id for w in load_taxonomy().parse_list(args.only)}
            if args.only is not None else None)
    floor = confidence_floor(args.min_confidence)
    scanner = Scanner(lexicon_only=args.lexicon_only, min_confidence=floor)
    reports = cli.EachInput(args.paths, lambda path: scanner.scan_work(
        read_path(path, encoding=args.encoding)).filtered(floor, only))
    options = RenderOptions(evidence=args.evidence, colour=use_colour(sys.stdout),
                            by_chapter=args.by_chapter, strip=args.strip,
                            many=len(args.paths) > 1)
    render(fmt, "report", reports, sys.stdout, options)
    return reports.status
