"""``forewarn scan PATH...``: report each work's content warnings."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from forewarn.cli import confidence, err, error_entry
from forewarn.errors import ForewarnError

if TYPE_CHECKING:
    from forewarn.report import Report


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "scan", help="scan stories and report their content warnings",
        description="Scan stories (plain text with AO3-style headers, AO3 HTML, EPUB, "
                    "Markdown, or - for standard input) and report which content warnings "
                    "each needs, where, and how strong. No story text is quoted unless "
                    "--evidence is given.")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="story files (.txt .md .html .epub), or - for standard input")
    p.add_argument("--json", action="store_true", help="print the JSON report")
    p.add_argument("--evidence", action="store_true",
                   help="quote the passages (may spoil the story)")
    p.add_argument("--min-confidence", type=confidence, default=None, metavar="X",
                   help="hide warnings below this confidence (0-1, default 0.5)")
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


def render_strips(report: Report) -> str:
    """The report's strips for standard output: shaded blocks where it can print them
    (ASCII letters otherwise), in colour only where :func:`use_colour` allows."""
    from forewarn.render.strip import BLOCKS, render_text, strips
    from forewarn.render.terminal import use_colour

    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        "".join(BLOCKS.values()).encode(encoding)
        ascii_only = False
    except (LookupError, UnicodeEncodeError):
        ascii_only = True
    return render_text(strips(report), ascii_only=ascii_only,
                       colour=use_colour(sys.stdout))


def run(args: argparse.Namespace) -> int:
    from forewarn.ingest import read_path
    from forewarn.render.terminal import render_by_chapter, render_text, use_colour
    from forewarn.scanner import DEFAULT_MIN_CONFIDENCE, Scanner
    from forewarn.taxonomy import load_taxonomy

    only = {w.id for w in load_taxonomy().parse_list(args.only)} if args.only else None
    floor = DEFAULT_MIN_CONFIDENCE if args.min_confidence is None else args.min_confidence
    scanner = Scanner(lexicon_only=args.lexicon_only, min_confidence=floor)
    status = 0
    reports = []
    for path in args.paths:
        try:
            report = scanner.scan_work(read_path(path, encoding=args.encoding))
        except ForewarnError as exc:
            err(str(exc))
            status = status or exc.exit_code
            if args.json:  # every input keeps its place, as in `check --json`
                reports.append(error_entry(path, exc))
            continue
        report = report.filtered(floor, only)
        if args.json:
            reports.append(report.to_dict(evidence=args.evidence))
        else:
            if len(reports):
                print()
            reports.append(report)
            print(render_text(report, evidence=args.evidence, colour=use_colour(sys.stdout)),
                  flush=True)
            if args.by_chapter and report.warnings:
                print(render_by_chapter(report), flush=True)
            if getattr(args, "strip", False) and report.warnings:
                print(render_strips(report), flush=True)
    if args.json and (len(args.paths) > 1 or not status):
        print(json.dumps(reports[0] if len(args.paths) == 1 else reports,
                         ensure_ascii=False, indent=2))
    return status
