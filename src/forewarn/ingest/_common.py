"""Pieces shared by the readers: metadata fields, headings, scene breaks, assembly."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from forewarn.work import Chapter, Paragraph

DEFAULT_MAX_BYTES = 32 * 1024 * 1024

# --- labelled metadata fields ------------------------------------------------------------

# Canonical destinations: a Work attribute, "tag:<name>" for Work.tags, or "ignore"
# (recognised so it is not mistaken for story text, but not kept).
_FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title", "work title", "story title"),
    "author": ("author", "authors", "creator", "creators", "writer", "written by", "by"),
    "rating": ("rating", "ratings", "rated"),
    "archive_warnings": ("archive warning", "archive warnings"),
    "freeform": (
        "additional tags",
        "additional tag",
        "freeform",
        "freeforms",
        "freeform tags",
        "tags",
        "tag",
    ),
    "content_notes": (
        "warning",
        "warnings",
        "content warning",
        "content warnings",
        "content note",
        "content notes",
        "trigger warning",
        "trigger warnings",
        "tw",
        "tws",
        "cw",
        "cws",
    ),
    "summary": ("summary", "description", "blurb"),
    "notes": (
        "notes",
        "note",
        "author's note",
        "author's notes",
        "authors note",
        "authors notes",
        "author note",
        "author notes",
        "a/n",
    ),
    "tag:category": ("category", "categories"),
    "tag:fandom": ("fandom", "fandoms"),
    "tag:relationship": ("relationship", "relationships", "pairing", "pairings", "ship", "ships"),
    "tag:character": ("character", "characters"),
    "tag:language": ("language",),
    "tag:series": ("series",),
    "tag:collection": ("collection", "collections"),
    "tag:genre": ("genre", "genres"),
    "ignore": (
        "stats",
        "published",
        "updated",
        "completed",
        "words",
        "word count",
        "chapters",
        "status",
        "packaged",
    ),
}
# what the ignored keys hold: dates, counts, "Complete", "3/3", an AO3 stats line
_STATS_WORDS = frozenset({
    "published", "updated", "completed", "complete", "completion", "words", "word", "count",
    "chapters", "chapter", "comments", "kudos", "bookmarks", "hits", "status", "in",
    "progress", "ongoing", "wip", "abandoned", "hiatus", "finished", "unfinished", "yes",
    "no", "packaged", "fanficfare", "by", "on", "of", "at", "am", "pm", "utc", "gmt", "jan",
    "january", "feb", "february", "mar", "march", "apr", "april", "may", "jun", "june", "jul",
    "july", "aug", "august", "sep", "sept", "september", "oct", "october", "nov", "november",
    "dec", "december", "mon", "monday", "tue", "tuesday", "wed", "wednesday", "thu",
    "thursday", "fri", "friday", "sat", "saturday", "sun", "sunday",
})
_LETTERS = re.compile(r"[^\W\d_]+")


def looks_like_stats(value: str) -> bool:
    """Whether ``value`` is what an ignored header key holds (a date, a count, a status):
    at most two words outside the stats vocabulary."""
    return sum(w.casefold() not in _STATS_WORDS for w in _LETTERS.findall(value)) <= 2


FIELD_OF: dict[str, str] = {
    alias: target for target, aliases in _FIELD_ALIASES.items() for alias in aliases
}
LIST_FIELDS = frozenset({"archive_warnings", "freeform", "content_notes"})
# Fields whose value may continue on the following lines of a text header.
MULTILINE_FIELDS = frozenset({"summary", "notes"})

_KEY_ALTERNATION = "|".join(
    re.escape(alias).replace(r"\ ", r"[ \t]+").replace("'", "['\u2019]?")
    for alias in sorted(FIELD_OF, key=len, reverse=True)
)
# "Key: value" at the start of a line, for the known keys only.
HEADER_LINE = re.compile(
    rf"[ \t]*(?P<key>{_KEY_ALTERNATION})[ \t]*:[ \t]*(?P<value>.*)",
    re.IGNORECASE,
)


def field_for(label: str) -> str | None:
    """The canonical field for a label such as ``"Archive Warnings:"``, or ``None``."""
    key = " ".join(label.strip().rstrip(":").replace("\u2019", "'").replace("_", " ").split())
    return FIELD_OF.get(key.lower())


_NOTE_SPLIT = re.compile(r"[,;]|\.\s")


def split_list(value: str) -> list[str]:
    """Split a comma- or semicolon-separated tag list, dropping empty items."""
    return [item.strip() for item in re.split(r"[,;]", value) if item.strip()]


def _text_and_items(target: str, value: str | list[str]) -> tuple[str, list[str]]:
    """A field value as one string and as a list of items.

    Strings are split at commas and semicolons; content notes also at sentence ends
    ("blood. Also fire." gives two notes). Lists are kept as they are.
    """
    if isinstance(value, list):
        items = [" ".join(v.split()) for v in value if v and v.strip()]
        return ", ".join(items), items
    text = value.strip()
    if target == "content_notes":
        return text, [i.strip(" .") for i in _NOTE_SPLIT.split(text) if i.strip(" .")]
    return text, split_list(text)


@dataclass
class Meta:
    """Metadata collected while reading, turned into ``Work`` keyword arguments at the end."""

    title: str | None = None
    author: str | None = None
    summary: str | None = None
    notes: list[str] = field(default_factory=list)
    rating: str | None = None
    archive_warnings: list[str] = field(default_factory=list)
    freeform_tags: list[str] = field(default_factory=list)
    content_notes: list[str] = field(default_factory=list)
    tags: dict[str, list[str]] = field(default_factory=dict)
    # values of keys forewarn ignores ("Status:", "Words:") that are not what such a key
    # holds: a reader sees them, forewarn does not read them, so the coverage audit counts
    # their words as not read (a sentence there must not pass as a stats line)
    unread: list[str] = field(default_factory=list)

    def add(self, label: str, value: str | list[str]) -> bool:
        """Store ``value`` under a labelled field; return False for an unknown label."""
        target = field_for(label)
        if target is None:
            return False
        self.add_to(target, value)
        return True

    def add_to(self, target: str, value: str | list[str]) -> None:
        """Store ``value`` under a canonical field name (see ``FIELD_OF``)."""
        text, items = _text_and_items(target, value)
        if not text:
            return
        if target == "ignore":
            if not looks_like_stats(text):
                self.unread.append(text)
            return
        if target == "title":
            self.title = self.title or " ".join(text.split())
        elif target == "author":
            self.author = self.author or " ".join(text.split())
        elif target == "rating":
            self.rating = self.rating or text
        elif target == "summary":
            self.summary = f"{self.summary}\n\n{text}" if self.summary else text
        elif target == "notes":
            self.notes.append(text)
        elif target == "archive_warnings":
            self.archive_warnings.extend(items)
        elif target == "freeform":
            self.freeform_tags.extend(items)
        elif target == "content_notes":
            self.content_notes.extend(items)
        elif target.startswith("tag:"):
            self.tags.setdefault(target[4:], []).extend(items)

    def work_fields(self) -> dict[str, Any]:
        """Keyword arguments for :class:`~forewarn.work.Work` (lists de-duplicated)."""
        notes = "\n\n".join(self.notes) if self.notes else None
        content = list(self.content_notes)
        for text in (self.summary, notes):
            if text:
                content.extend(content_notes_in(text))
        return {
            "title": self.title,
            "author": self.author,
            "summary": self.summary,
            "notes": notes,
            "rating": self.rating,
            "archive_warnings": dedupe(self.archive_warnings),
            "freeform_tags": dedupe(self.freeform_tags),
            "content_notes": dedupe(content),
            "tags": {name: dedupe(values) for name, values in self.tags.items() if values},
        }


def dedupe(items: list[str]) -> list[str]:
    """Drop repeats (case-insensitively), keeping the first spelling and the order."""
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        key = item.casefold()
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


_NOTE_LEAD = re.compile(
    r"(?<![\w])(?:tw|cw|trigger[ \t]+warnings?|content[ \t]+(?:warnings?|notes?)|warnings?)"
    r"(?:[ \t]*(?::|//)|[ \t]+[-\u2013\u2014])[ \t]*([^\n]{1,400})",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")


def content_notes_in(text: str) -> list[str]:
    """Items of "TW: a, b" / "Content warnings: ..." lines inside a summary or notes."""
    notes: list[str] = []
    for match in _NOTE_LEAD.finditer(text):
        value = match.group(1)
        end = _SENTENCE_END.search(value)
        if end:
            value = value[: end.start()]
        notes.extend(item for item in split_list(value) if len(item) <= 80)
    return notes


# --- chapter headings and scene breaks ------------------------------------------------------

_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    "fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    "eighty|ninety|hundred"
)
_ROMAN = r"(?=[ivxlcdm])m{0,3}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})"
WELL_FORMED_ROMAN = re.compile(_ROMAN)  # lower case, one to 3999 ("iiii", "vx" are not)
_NUMBER = rf"(?:\d{{1,4}}|{_ROMAN}|(?:{_NUMBER_WORDS})(?:[ -](?:{_NUMBER_WORDS}))*)"
CHAPTER_HEADING = re.compile(
    rf"(?:(?:chapter|chap\.?|ch\.|part|book)[ \t]+{_NUMBER}\b|prologue|epilogue|interlude)"
    r"(?:[ \t]*(?:[:.|\-\u2013\u2014][ \t]*(?P<rest>.{0,100}))?)?",
    re.IGNORECASE,
)
_MAX_HEADING = 120

_SYMBOLS_ONLY = re.compile(r"[\W_]+")
_ORNAMENT = re.compile(
    r"[\W_]*(?:(?:o0)+o|(?:0o)+0|(?:oO)+o|(?:Oo)+O|(?:xX)+x|(?:Xx)+X|xox|oxo)[\W_]*"
)


def is_chapter_heading(line: str) -> bool:
    """True for a stripped line such as ``Chapter 3: Title``, ``CHAPTER III`` or ``Prologue``."""
    return 0 < len(line) <= _MAX_HEADING and CHAPTER_HEADING.fullmatch(line) is not None


def is_scene_break(line: str) -> bool:
    """True for a stripped, non-empty line of only symbols (``***``, ``~~~``) or ``o0o``."""
    if not line or len(line) > 80:
        return False
    return bool(_SYMBOLS_ONLY.fullmatch(line) or _ORNAMENT.fullmatch(line))


def is_title_like(line: str) -> bool:
    """A short single line that reads as a title rather than a sentence."""
    words = line.split()
    return (
        0 < len(words) <= 12
        and len(line) <= 100
        and "\n" not in line
        and not line.endswith((".", ",", ";", ":"))
    )


_SHORT_OPENING_WORDS = 40


def take_opening(paragraphs: list[str], meta: Meta) -> bool:
    """Handle text before the first chapter heading; True when it is not a chapter.

    A title line (and a ``by`` line) fills ``meta.title``/``meta.author``; other short
    text (under 40 words, such as an author's note) goes to ``meta.notes``; anything
    longer is story text and becomes a chapter of its own.
    """
    if not paragraphs:
        return True
    if _opening_title(paragraphs, meta):
        return True
    if sum(len(p.split()) for p in paragraphs) < _SHORT_OPENING_WORDS:
        meta.notes.append("\n\n".join(paragraphs))
        return True
    return False


def _opening_title(paragraphs: list[str], meta: Meta) -> bool:
    if len(paragraphs) > 2 or not all(is_title_like(line) for line in paragraphs):
        return False
    title = author = None
    for line in paragraphs:
        if line[:3].lower() == "by ":
            author = line[3:].strip()
        elif title is None:
            title = clean_title(line)
        else:
            return False
    if title and meta.title and title.casefold() != meta.title.casefold():
        return False
    meta.title = meta.title or title
    meta.author = meta.author or author
    return True


# --- assembly ---------------------------------------------------------------------------------


def spans_to_chapter(
    text: str, number: int, title: str | None, spans: list[tuple[int, int]]
) -> Chapter:
    """A chapter whose text is ``text[first start:last end]``; spans are absolute offsets."""
    offset = spans[0][0]
    paragraphs = [Paragraph(text[s:e], s - offset, e - offset) for s, e in spans]
    return Chapter(number, title, text[offset : spans[-1][1]], paragraphs, offset)


def assemble(raw: list[tuple[str | None, list[str]]]) -> tuple[list[Chapter], str]:
    """Chapters from ``(title, paragraphs)`` pairs; return them and the joined source text.

    Empty chapters are dropped; chapter texts are joined with blank lines, and every
    chapter's ``offset`` points into that joined text.
    """
    chapters: list[Chapter] = []
    texts: list[str] = []
    offset = 0
    for title, paragraphs in raw:
        paras = [p for p in paragraphs if p.strip() and not is_scene_break(p.strip())]
        if not paras:
            continue
        chapter = Chapter.from_paragraphs(len(chapters) + 1, title, paras, offset)
        if not chapter.text:
            continue
        chapters.append(chapter)
        texts.append(chapter.text)
        offset += len(chapter.text) + 2
    return chapters, "\n\n".join(texts)


def clean_title(title: str | None) -> str | None:
    """Collapse whitespace; empty becomes ``None``."""
    if title is None:
        return None
    title = " ".join(title.split())
    return title or None
