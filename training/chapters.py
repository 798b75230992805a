"""Whole chapters of the test books, as forewarn reads them, for chapter-level evaluation.

A chapter is named ``book#N``: chapter N of the book as forewarn's plain-text reader splits
it (``forewarn.ingest.text.parse_text``), so ``forewarn eval annotated`` scans exactly the
text an annotator read. Labels live in ``training/annotations/chapters.json`` (no text):

    {"book#N": {"must": [ids], "should": [ids], "neutral": bool, "annotator": name,
                "note": "why, without quoting"}}

``must``: warnings the chapter plainly needs (a reader would want each); ``should``:
present but slight (a passing mention), reporting it or not is both fine; any other
warning reported is a false warning. ``neutral``: nothing warning-worthy at all.

Usage::

    python training/chapters.py list BOOK          # chapters: number, words, first words
    python training/chapters.py show BOOK N        # the chapter's text
    python training/chapters.py books              # the test books
    python training/chapters.py validate           # labels against taxonomy and splits
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import ANNOTATIONS, DEFAULT_DATA, book_text, load_splits

LABELS = ANNOTATIONS / "chapters.json"


def chapters(book: str, data: Path = DEFAULT_DATA):
    from forewarn.ingest.text import parse_text

    return parse_text(book_text(book, data), source=f"{book}.txt").chapters


def chapter_text(name: str, data: Path = DEFAULT_DATA) -> str:
    book, _, number = name.partition("#")
    return chapters(book, data)[int(number) - 1].text


def test_books() -> list[str]:
    return sorted(load_splits()["books"]["test"])


def validate() -> list[str]:
    from annotate import warning_ids

    wids = set(warning_ids())
    tests = set(test_books())
    problems = []
    for name, row in json.loads(LABELS.read_text(encoding="utf-8")).items():
        book, _, number = name.partition("#")
        if book not in tests:
            problems.append(f"{name}: not a test book")
        if not number.isdigit():
            problems.append(f"{name}: no chapter number")
        for key in ("must", "should"):
            bad = set(row.get(key, [])) - wids
            if bad:
                problems.append(f"{name}: {key}: unknown warnings {sorted(bad)}")
        if row.get("neutral") and (row.get("must") or row.get("should")):
            problems.append(f"{name}: neutral with warnings")
        if set(row.get("must", [])) & set(row.get("should", [])):
            problems.append(f"{name}: a warning both must and should")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("books")
    ls = sub.add_parser("list")
    ls.add_argument("book")
    sh = sub.add_parser("show")
    sh.add_argument("book")
    sh.add_argument("number", type=int)
    sub.add_parser("validate")
    args = ap.parse_args(argv)
    if args.cmd == "books":
        print("\n".join(test_books()))
    elif args.cmd == "list":
        for ch in chapters(args.book):
            words = len(ch.text.split())
            print(f"{ch.number:4d} {words:7,d}  {' '.join(ch.text.split()[:12])}")
    elif args.cmd == "show":
        print(chapters(args.book)[args.number - 1].text)
    else:
        problems = validate()
        print("\n".join(problems) or f"ok: {len(json.loads(LABELS.read_text()))} chapters")
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
