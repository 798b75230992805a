"""The ``forewarn`` command. A thin shell over :func:`forewarn.scan`.

Exit codes (docs/cli.md): 0 every input scanned; 1 unexpected internal error; 2 usage
error (bad option, unknown warning name); 3 input not found or a directory; 4 empty input;
5 unsupported or binary format; 6 malformed input (broken EPUB/HTML, bad encoding, control
characters); 7 input too large. With several inputs, every input is tried; the exit code
is that of the first failure.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from forewarn.errors import ForewarnError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        self.exit(2, f"forewarn: {message}\n")


def _confidence(value: str) -> float:
    try:
        x = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 0.0 <= x <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1: {value}")
    return x


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="forewarn", description="Content warnings for fiction.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    scan = sub.add_parser("scan", help="scan stories and report their content warnings")
    scan.add_argument("paths", nargs="+", metavar="PATH",
                      help="story files (.txt .md .html .epub), or - for standard input")
    scan.add_argument("--json", action="store_true", help="print the JSON report")
    scan.add_argument("--evidence", action="store_true",
                      help="quote the passages (may spoil the story)")
    scan.add_argument("--min-confidence", type=_confidence, default=None, metavar="X",
                      help="hide warnings below this confidence (0-1, default 0.5)")
    scan.add_argument("--only", metavar="WARNING,...",
                      help="report only these warnings (ids, names or aliases)")
    scan.add_argument("--encoding", help="decode text files with this encoding")
    scan.add_argument("--lexicon-only", action="store_true",
                      help="skip the embedding model (faster, less recall)")

    tax = sub.add_parser("taxonomy", help="list the warnings forewarn knows")
    tax.add_argument("--json", action="store_true")
    return parser


def _version() -> str:
    from forewarn import __version__

    return f"forewarn {__version__}"


def _err(message: str) -> None:
    sys.stderr.write(f"forewarn: {' '.join(str(message).split())}\n")


def cmd_scan(args: argparse.Namespace) -> int:
    from forewarn.detect.lexicon import LexiconDetector
    from forewarn.ingest import read_path
    from forewarn.render.terminal import render_text
    from forewarn.scanner import DEFAULT_MIN_CONFIDENCE, Scanner
    from forewarn.taxonomy import load_taxonomy

    only = None
    if args.only:
        only = {w.id for w in load_taxonomy().parse_list(args.only)}
    floor = DEFAULT_MIN_CONFIDENCE if args.min_confidence is None else args.min_confidence
    scanner = Scanner(detectors=[LexiconDetector()] if args.lexicon_only else None,
                      min_confidence=floor)
    status = 0
    reports = []
    for i, path in enumerate(args.paths):
        try:
            work = read_path(path, encoding=args.encoding)
            report = scanner.scan_work(work).filtered(floor, only)
        except ForewarnError as exc:
            _err(str(exc))
            status = status or exc.exit_code
            continue
        if args.json:
            reports.append(report.to_dict(evidence=args.evidence))
        else:
            if i:
                print()
            print(render_text(report, evidence=args.evidence))
    if args.json and reports:
        payload = reports[0] if len(args.paths) == 1 else reports
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    return status


def cmd_taxonomy(args: argparse.Namespace) -> int:
    from forewarn.taxonomy import load_taxonomy

    tax = load_taxonomy()
    if args.json:
        print(json.dumps([{"id": w.id, "name": w.name, "group": w.group,
                           "description": w.description, "aliases": list(w.aliases)}
                          for w in tax.warnings], indent=2, ensure_ascii=False))
        return 0
    for group in tax.groups:
        print(group.name)
        for w in tax.warnings:
            if w.group == group.id:
                print(f"  {w.id:<26} {w.description}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "scan":
            return cmd_scan(args)
        return cmd_taxonomy(args)
    except ForewarnError as exc:
        _err(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: still one line, never a traceback
        _err(f"internal error: {type(exc).__name__}: {exc} (please report this)")
        return 1


if __name__ == "__main__":
    sys.exit(main())
