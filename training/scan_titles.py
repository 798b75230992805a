"""What the corpus's chapter titles raise when the scanner reads each alone.

Since the eighteenth session a chapter's title that says more than its label is read as a
passage of its own (``forewarn.segment.segment(titles=True)``), alone. This reads every
such title of the corpus's books (as forewarn's text reader splits them) through the
shipped scanner, one title a work, and prints how many raise a warning at the default
confidence, which, and each title that does, so that a person can judge them (model card,
section 0, "Chapter titles"). No label is made here.

Usage::

    python training/scan_titles.py [--data DIR]
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import DEFAULT_DATA, book_text, load_splits


def main(argv: list[str] | None = None) -> int:
    from forewarn.ingest.text import parse_text
    from forewarn.scanner import Scanner
    from forewarn.segment import title_text
    from forewarn.work import Chapter, Work

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = ap.parse_args(argv)
    scanner = Scanner()
    books = load_splits()["books"]
    read = 0
    raised: list[tuple[str, str, list[tuple[str, float]]]] = []
    for split in ("train", "dev", "test"):
        for book in sorted(books[split]):
            for chapter in parse_text(book_text(book, args.data), source=book).chapters:
                title = title_text(chapter)
                if title is None:
                    continue
                read += 1
                report = scanner.scan_work(Work([Chapter(1, title, "", [])]))
                if report.warnings:
                    raised.append((book, title, [(w.id, round(w.confidence, 2))
                                                 for w in report.warnings]))
    counts = collections.Counter(wid for *_, found in raised for wid, _ in found)
    print(f"titles read: {read}; raising a warning: {len(raised)}")
    print("warnings:", ", ".join(f"{w} {n}" for w, n in counts.most_common()))
    for book, title, found in raised:
        print(f"  {book}: {title!r} -> {found}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
