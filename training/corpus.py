"""Passages of the public-domain fiction corpus, addressed by book file and character offsets.

The corpus (``../shared/data/fiction-corpus/*.txt.gz``) is never copied into the repository:
a passage is named ``<book stem>:<start>-<end>``, where the offsets index the book's
decompressed text, and its text is read back from the corpus whenever it is needed.

Passages are exactly what forewarn's own reader and segmenter produce for the book read as
a plain-text file (:func:`forewarn.ingest.text.parse_text`, then :func:`forewarn.segment.segment`),
so training and scanning see the same units. Plain-text chapters are slices of the decoded
input, so ``chapter.offset + passage.start`` is the passage's offset in the book.
"""

from __future__ import annotations

import bisect
import csv
import gzip
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from forewarn.ingest.text import parse_text
from forewarn.segment import segment

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data"
ANNOTATIONS = ROOT / "training" / "annotations"
SPLITS_FILE = ANNOTATIONS / "splits.json"
MODERN_DIR = ANNOTATIONS / "modern"

_ID = re.compile(r"^(?P<book>[a-z0-9-]+):(?P<start>\d+)-(?P<end>\d+)$")


@dataclass(frozen=True, slots=True)
class CorpusPassage:
    """One segmenter passage of a corpus book; ``start``/``end`` index the book's text."""

    book: str
    start: int
    end: int
    index: int  # position among the book's passages
    text: str
    chapter: int = 1  # the chapter forewarn's reader puts it in

    @property
    def id(self) -> str:
        return f"{self.book}:{self.start}-{self.end}"


def parse_id(passage_id: str) -> tuple[str, int, int]:
    m = _ID.match(passage_id)
    if not m:
        raise ValueError(f"not a corpus passage id: {passage_id!r}")
    return m["book"], int(m["start"]), int(m["end"])


def corpus_dir(data: Path = DEFAULT_DATA) -> Path:
    return Path(data) / "fiction-corpus"


def manifest(data: Path = DEFAULT_DATA) -> list[dict[str, str]]:
    with open(corpus_dir(data) / "MANIFEST.tsv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def book_stem(file_name: str) -> str:
    return file_name.removesuffix(".txt.gz")


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@cache
def book_text(book: str, data: Path = DEFAULT_DATA) -> str:
    """The book's decompressed text. The few stray control characters (one book has a
    U+0016 that forewarn refuses as corrupt input) become spaces, one for one, so that
    offsets still address the file's text."""
    with gzip.open(corpus_dir(data) / f"{book}.txt.gz", "rt", encoding="utf-8") as f:
        return _CONTROL.sub(" ", f.read())


@cache
def book_passages(book: str, data: Path = DEFAULT_DATA) -> tuple[CorpusPassage, ...]:
    """The book's passages in reading order, as forewarn segments the book."""
    text = book_text(book, data)
    work = parse_text(text, source=f"{book}.txt")
    offsets = {ch.number: ch.offset for ch in work.chapters}
    out: list[CorpusPassage] = []
    for p in segment(work):
        start = offsets[p.chapter] + p.start
        end = offsets[p.chapter] + p.end
        # plain-text chapters are slices of the decoded input: the offsets must hold
        assert text[start:end] == p.text, f"{book}: offsets do not address the passage"
        out.append(CorpusPassage(book, start, end, len(out), p.text, p.chapter))
    return tuple(out)


def all_books(data: Path = DEFAULT_DATA) -> list[str]:
    return [book_stem(row["file"]) for row in manifest(data)]


def iter_corpus(data: Path = DEFAULT_DATA) -> Iterator[CorpusPassage]:
    for book in all_books(data):
        yield from book_passages(book, data)


@cache
def _index_by_id(book: str, data: Path = DEFAULT_DATA) -> dict[str, int]:
    return {p.id: p.index for p in book_passages(book, data)}


def lookup(passage_id: str, data: Path = DEFAULT_DATA) -> CorpusPassage:
    """The passage named ``passage_id``: the span of the book's text its id names, which is
    what the annotator read.

    Most ids are passages forewarn's segmenter still makes. A few are not, where the reader
    has since learnt a heading inside the span (a lone "II" between two paragraphs now
    starts a chapter): the span's text is returned all the same, with the index of the
    current passage where it starts, so that its neighbours are still its neighbours.
    KeyError when the span is not inside the book.
    """
    book, start, end = parse_id(passage_id)
    index = _index_by_id(book, data).get(passage_id)
    if index is not None:
        return book_passages(book, data)[index]
    text = book_text(book, data)
    if not 0 <= start < end <= len(text):
        raise KeyError(f"{passage_id}: not a span of {book}")
    starts = [p.start for p in book_passages(book, data)]
    nearest = max(bisect.bisect_right(starts, start) - 1, 0)
    return CorpusPassage(book, start, end, nearest, text[start:end],
                         book_passages(book, data)[nearest].chapter)


def neighbours(passage: CorpusPassage, data: Path = DEFAULT_DATA) -> tuple[str, str]:
    """The texts of the passages before and after (empty at a book's ends)."""
    ps = book_passages(passage.book, data)
    before = ps[passage.index - 1].text if passage.index > 0 else ""
    after = ps[passage.index + 1].text if passage.index + 1 < len(ps) else ""
    return before, after


def load_splits() -> dict:
    with open(SPLITS_FILE, encoding="utf-8") as f:
        return json.load(f)


@cache
def _split_tables() -> tuple[dict[str, str], dict[str, str]]:
    splits = load_splits()
    books = {b: name for name, names in splits["books"].items() for b in names}
    batches = {b: name for name, names in splits["modern_batches"].items() for b in names}
    return books, batches


def split_of_passage(pid: str) -> str:
    """``train``, ``dev`` or ``test`` for a corpus or modern passage id (by its book or its
    writing batch); ``eval`` for an AO3 passage, which is never trained on."""
    books, batches = _split_tables()
    if pid.startswith("ao3:"):
        return "eval"
    if pid.startswith("modern:"):
        return batches[pid.split(":")[1].split("-")[0]]
    return books[parse_id(pid)[0]]
