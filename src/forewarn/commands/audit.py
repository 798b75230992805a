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

from forewarn import cli
from forewarn.confidence import confidence_floor


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "audit", help="compare a work's declared warnings with what it contains",
        description="For authors: compare the warnings a work declares (AO3 archive "
                    "warnings, tags, 'TW:' lines) with what forewarn finds in its text, and "
                    "suggest the warnings to add, with where the content is.")
    cli.add_paths_argument(p)
    cli.add_format_option(p, "audit")
    cli.add_evidence_option(p)
    cli.add_confidence_option(p)
    cli.add_scan_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from forewarn.audit import audit_work
    from forewarn.ingest import read_path
    from forewarn.render.registry import RenderOptions, render
    from forewarn.render.terminal import use_colour
    from forewarn.scanner import Scanner

    fmt = cli.output_format(args)
    floor = confidence_floor(args.min_confidence)
    scanner = Scanner(lexicon_only=args.lexicon_only, min_confidence=floor)
    audits = cli.EachInput(
        args.paths, lambda path: audit_work(read_path(path, encoding=args.encoding), scanner))
    options = RenderOptions(evidence=args.evidence, colour=use_colour(sys.stdout),
                            many=len(args.paths) > 1)
    render(fmt, "audit", audits, sys.stdout, options)
    return audits.status
