"""Plain-text reader: AO3-style header, chapter headings, scene breaks, paragraphs.

Offsets are exact: ``work.source_text`` is the decoded input with ``\\r\\n`` and ``\\r``
turned into ``\\n``, every ``chapter.text`` is a slice of it starting at ``chapter.offset``,
and every paragraph is a slice of its chapter with surrounding whitespace left out.

Chapter text is scanned for warnings, and so is each chapter's title (read alone, as a
passage of its own: :func:`forewarn.segment.segment`); metadata is read but not judged.
Still, prose belongs in the text, where it is read with its neighbours, so two rules keep
story prose out of titles and metadata (both shared with the Markdown reader):

- **Prose in a heading.** A chapter line whose title part is prose (more than 12 words, or
  a finished sentence of more than 4 words: :func:`forewarn.ingest.headings.prose_start`)
  keeps only its label (``Chapter 2``) as the title; the prose is the chapter's first
  paragraph.
- **Text before the first chapter heading** (:func:`take_opening`) is story, read as a first
  chapter with no title (a prologue) when it has 40 words or more, and otherwise the first
  lines of the first chapter (so that a short epigraph or opening line is scanned and the
  book's chapter numbers stay its own), except what is marked as something else: a title line
  and a ``by`` line (short, title-like, not prose: at most two such paragraphs, first in the
  opening), ``Key: value`` header paragraphs of the known keys (``Summary:``, ``Rating:``,
  ``Warnings:``...; every line of the paragraph must belong to the header), and paragraphs
  that open with a notes marker (``Notes:``, ``Note:``, ``Author's note``, ``A/N``), which go to
  the work's notes, with the list such a paragraph ends by announcing ("Notes: content
  checklist:" then "- Suicide: no"). Unmarked text is never notes, however short.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from forewarn.coverage import Ledger, audit
from forewarn.errors import EmptyInput
from forewarn.ingest._common import (
    _SHORT_OPENING_WORDS as SHORT_OPENING_WORDS,
)
from forewarn.ingest._common import (
    HEADER_LINE,
    LIST_FIELDS,
    MULTILINE_FIELDS,
    Meta,
    clean_title,
    field_for,
    is_chapter_heading,
    is_scene_break,
    is_title_like,
    spans_to_chapter,
)
from forewarn.ingest.decode import check_controls
from forewarn.ingest.headings import context_headings, is_prose, label_title, prose_start
from forewarn.work import Chapter, Work

# Line kinds.
TEXT = 0  # part of a paragraph
BLANK = 1  # separates paragraphs
BREAK = 2  # scene break: separates paragraphs, is not one
SOLO = 3  # a paragraph on its own (e.g. a Markdown sub-heading)

_LONG_LINE = 200  # no hard-wrapped paragraph has lines this long
_MIN_LINES_FOR_LINE_MODE = 3

Span = tuple[int, int]
Line = tuple[int, int, int]  # start, end, kind


@dataclass(slots=True)
class Segment:
    """The lines between two chapter headings (or before the first one)."""

    title: str | None
    lines: list[Line]
    heading: bool


def parse_text(text: str, source: str = "<text>", *, encoding: str | None = None) -> Work:
    """Parse decoded plain text into a :class:`Work` (format ``"text"``)."""
    text = normalize_newlines(text)
    check_controls(text, source)
    if not text.strip():
        raise EmptyInput(f"{source}: empty file")
    meta = Meta()
    body = parse_header(text, meta)
    segments = split_segments(text, body)
    chapters = build_chapters(text, segments, meta)
    if not chapters and body and (meta.summary or meta.notes):
        # the "header" took every word and some of it was prose ("Note: she ..." as a
        # story's only paragraph): a story is never all notes, so read it all as story
        meta, body = Meta(), 0
        chapters = build_chapters(text, split_segments(text, 0), meta)
    if not chapters:
        where = " after the header" if body else ""
        raise EmptyInput(f"{source}: no story text{where}")
    work = Work(
        chapters,
        **meta.work_fields(),
        source=source,
        format="text",
        source_text=text,
        encoding=encoding,
    )
    ledger = Ledger()
    ledger.add("text", text[body:])
    if meta.unread:
        ledger.add("header", "\n".join(meta.unread), reason="a header value forewarn does not "
                   "read (under a key such as Status: or Words:)")
    work.coverage = audit(work, ledger)
    return work


def normalize_newlines(text: str) -> str:
    """Drop a leading BOM and turn ``\\r\\n`` and lone ``\\r`` into ``\\n``."""
    text = text.removeprefix("\ufeff")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def line_spans(text: str, start: int = 0) -> list[Span]:
    """``(start, end)`` of every line of ``text[start:]``, newline excluded."""
    spans: list[Span] = []
    pos = start
    for line in text[start:].split("\n"):
        end = pos + len(line)
        spans.append((pos, end))
        pos = end + 1
    return spans


# --- header ---------------------------------------------------------------------------------


_HEADER_WINDOW = 65536  # a header is looked for in the first 64 KB only


def parse_header(text: str, meta: Meta) -> int:
    """Read ``Key: value`` lines at the top into ``meta``; return where the body starts."""
    window = text[:_HEADER_WINDOW]
    lines = line_spans(window)
    if len(window) < len(text):
        lines.pop()  # possibly cut short
    index = _header_lines(window, lines, meta)
    if index < len(lines):
        return lines[index][0]
    return min(len(text), lines[-1][1] + 1) if lines else 0


def _header_lines(text: str, lines: list[Span], meta: Meta) -> int:
    """The header over ``lines``; return the index of the first body line."""
    first = _skip_blank(text, lines, 0)
    start = _title_byline(text, lines, first, meta)
    if start == first and not _is_key_line(text, lines, first):
        return 0
    i = start
    field: str | None = None
    values: list[str] = []
    while i < len(lines):
        line = text[lines[i][0] : lines[i][1]]
        match = HEADER_LINE.match(line)
        listing = field in MULTILINE_FIELDS and bool(values) and (
            values[-1].endswith(":") or _LIST_ITEM.match(values[-1]) is not None
        )
        if match:
            _commit(meta, field, values)
            field, values = field_for(match["key"]), [match["value"].strip()]
            i += 1
        elif not line.strip():
            nxt = _skip_blank(text, lines, i)
            # an empty "Notes:" may have its text in the next paragraph, but only when the
            # header goes on after it: otherwise that paragraph is the story's first
            waiting = field in MULTILINE_FIELDS and not any(values)
            if nxt < len(lines) and (
                _is_key_line(text, lines, nxt) or (waiting and _header_resumes(text, lines, nxt))
            ):
                i = nxt
                continue
            i = nxt
            break
        elif listing and _LIST_ITEM.match(line):
            # the list a field's line announces ("Notes: content checklist:" then
            # "- Death: no"): the field's, even where the story starts under it
            values.append(line.strip())
            i += 1
            continue
        elif field is not None and _continues(field, values) and _header_resumes(text, lines, i):
            # a field's further lines, when the header goes on after them; a story that
            # starts right under "Summary: ..." is story, not summary
            values.append(line.strip())
            i += 1
        else:
            break
    _commit(meta, field, values)
    return i


def _header_resumes(text: str, lines: list[Span], i: int) -> bool:
    """Whether a key line follows the paragraph that line ``i`` is in (the header goes on)."""
    while i < len(lines):
        if _is_key_line(text, lines, i):
            return True
        if not text[lines[i][0] : lines[i][1]].strip():
            return _is_key_line(text, lines, _skip_blank(text, lines, i))
        i += 1
    return False


def _continues(field: str, values: list[str]) -> bool:
    if field in MULTILINE_FIELDS:
        return True
    return bool(values) and values[-1].endswith(",")


def _commit(meta: Meta, field: str | None, values: list[str]) -> None:
    if field is None:
        return
    joiner = " " if field in LIST_FIELDS or field.startswith("tag:") else "\n"
    meta.add_to(field, joiner.join(v for v in values if v))


def _is_key_line(text: str, lines: list[Span], i: int) -> bool:
    return i < len(lines) and HEADER_LINE.match(text, lines[i][0], lines[i][1]) is not None


def _skip_blank(text: str, lines: list[Span], i: int) -> int:
    while i < len(lines) and not text[lines[i][0] : lines[i][1]].strip():
        i += 1
    return i


def _title_byline(text: str, lines: list[Span], i: int, meta: Meta) -> int:
    """Accept ``Title`` / ``by Author`` lines just above a header; return where keys start."""
    if i >= len(lines) or _is_key_line(text, lines, i):
        return i
    title = text[lines[i][0] : lines[i][1]].strip()
    if not is_title_like(title) or is_prose(title):
        return i
    j = _skip_blank(text, lines, i + 1)
    author = None
    if j < len(lines):
        line = text[lines[j][0] : lines[j][1]].strip()
        if line[:3].lower() == "by " and is_title_like(line):
            author = line[3:].strip()
            j = _skip_blank(text, lines, j + 1)
    if not _is_key_line(text, lines, j):
        return i
    meta.title = clean_title(title)
    if author:
        meta.author = author
    return j


# --- chapters and paragraphs ---------------------------------------------------------------


def classify(text: str, start: int, end: int) -> int:
    """The kind of the line ``text[start:end]`` (never a heading: see split_segments)."""
    stripped = text[start:end].strip()
    if not stripped:
        return BLANK
    if is_scene_break(stripped):
        return BREAK
    return TEXT


_SPECIAL_INITIALS = frozenset("cCpPbBeEiIoOxX0")  # chapter/part/book/prologue..., o0o, xox
_DECORATION = "*_#=~[]<> \t"  # around a heading: "**Chapter 1**", "== Prologue =="


def split_segments(text: str, start: int = 0) -> list[Segment]:
    """Classify the lines of ``text[start:]`` and cut them at chapter-heading lines.

    Headings are lines ``is_chapter_heading`` knows by their words, and lines that only
    their context makes headings (:func:`forewarn.ingest.headings.context_headings`:
    numbered sequences, a table of contents' titles). The first segment holds whatever
    comes before the first heading. A heading whose title part is prose
    (:func:`forewarn.ingest.headings.prose_start`) keeps its label as the title and its
    prose becomes the new segment's first line (a paragraph of its own). Most lines start
    with a letter that no heading or scene break starts with, and take the fast path.
    """
    segments = [Segment(None, [], False)]
    lines = segments[0].lines
    headed = context_headings(text, start)
    pos = start
    for line in text[start:].split("\n"):
        end = pos + len(line)
        if pos in headed:
            heading = headed[pos].strip()
            segments.append(heading_segment(heading, pos + line.index(heading)))
            lines = segments[-1].lines
            pos = end + 1
            continue
        if not line or line.isspace():
            kind = BLANK
        else:
            first = line[0] if not line[0].isspace() else line.lstrip()[0]
            if first.isalnum() and first not in _SPECIAL_INITIALS:
                kind = TEXT
            else:
                stripped = line.strip()
                heading = stripped.strip(_DECORATION)
                if is_chapter_heading(heading):
                    lead = len(line) - len(line.lstrip(_DECORATION))
                    segments.append(heading_segment(heading, pos + lead))
                    lines = segments[-1].lines
                    pos = end + 1
                    continue
                kind = BREAK if is_scene_break(stripped) else TEXT
        lines.append((pos, end, kind))
        pos = end + 1
    return segments


def heading_segment(heading: str, at: int) -> Segment:
    """The segment a heading line opens; ``heading`` is its text, found at offset ``at``.

    A heading that is a title gives the segment its title. One whose title part is prose
    keeps its label (or no title) and starts the segment with the prose as a line of its
    own, so the prose is chapter text and is scanned.
    """
    start = prose_start(heading)
    if start is None:
        return Segment(clean_title(heading), [], True)
    return Segment(label_title(heading, start), [(at + start, at + len(heading), SOLO)], True)


def build_chapters(
    text: str,
    segments: list[Segment],
    meta: Meta,
    *,
    line_mode: bool = True,
    keep: Callable[[str], bool] | None = None,
    plain: Callable[[str], str] | None = None,
) -> list[Chapter]:
    """Chapters from segments, dropping empty ones; the opening is read by :func:`take_opening`.

    ``keep``, when given, decides which paragraph texts count (others get no entry);
    ``plain`` turns a paragraph's raw text into what a reader sees (Markdown: markup
    stripped), for recognising title, header and notes paragraphs in the opening.
    """
    has_headings = any(seg.heading for seg in segments)
    chapters: list[Chapter] = []
    carried: list[Span] = []  # a short opening, read with the first chapter
    for seg in segments:
        spans = paragraph_spans(text, seg.lines, line_mode=line_mode)
        if keep is not None:
            spans = [(s, e) for s, e in spans if keep(text[s:e])]
        if not seg.heading and has_headings and not chapters:
            spans = take_opening(text, spans, meta, plain=plain)
            if sum(len(text[s:e].split()) for s, e in spans) < SHORT_OPENING_WORDS:
                carried = spans  # scanned as the first chapter's opening, numbering kept
                continue
        if carried and seg.heading and spans:  # not a part heading with no text of its own
            spans, carried = carried + spans, []
        if not spans:
            continue
        chapters.append(spans_to_chapter(text, len(chapters) + 1, seg.title, spans))
    if carried:
        chapters.append(spans_to_chapter(text, len(chapters) + 1, None, carried))
    return chapters


# "Notes:", "Note:", "Author's note(s)", "Authors note", "Author note", "A/N", after any
# opening decoration ("**A/N:**", "(Author's note: ...)", "[A/N]")
_NOTES_MARK = re.compile(
    r"[\W_]*(?:notes?[ \t]*:|authors?['\u2019]?s?[ \t]+notes?\b|a/n\b)", re.IGNORECASE
)
_MAX_TITLE_PARAGRAPHS = 2
# a list item: "- Death: no", "* Violence: yes", "• none", "1. Self-harm"
_LIST_ITEM = re.compile(r"[ \t]*(?:[-*+\u2022\u2013]|\d{1,2}[.)])[ \t]+\S")


def take_opening(
    text: str,
    spans: list[Span],
    meta: Meta,
    *,
    plain: Callable[[str], str] | None = None,
) -> list[Span]:
    """Read the paragraphs before the first chapter heading; return those that are story.

    Story unless marked otherwise: leading title and ``by`` lines fill ``meta.title`` and
    ``meta.author`` (:func:`_opening_titles`), a paragraph of ``Key: value`` header lines
    goes into ``meta`` as the header would, and a paragraph that opens with a notes marker
    (``Notes:``, ``Author's note``, ``A/N``) goes to ``meta.notes``. Every other paragraph,
    however short, is returned: it becomes a first chapter and is scanned.
    """
    shown = [(plain or str)(text[s:e]).strip() for s, e in spans]
    story: list[Span] = []
    for index in range(_opening_titles(shown, meta), len(spans)):
        if _NOTES_MARK.match(shown[index]) or (
            not story
            and meta.notes
            and (meta.notes[-1].endswith(":") or _is_list(meta.notes[-1]))
            and _is_list(shown[index])
        ):
            # a notes paragraph, or the list a notes paragraph ends by announcing
            meta.notes.append(shown[index])
        elif not _header_paragraph(shown[index], meta):
            story.append(spans[index])
    return story


def _is_list(paragraph: str) -> bool:
    """Every line of ``paragraph`` is a list item."""
    return all(_LIST_ITEM.match(line) for line in paragraph.splitlines() if line.strip())


def _opening_titles(shown: list[str], meta: Meta) -> int:
    """How many leading paragraphs are a title and a ``by`` line; fill ``meta`` from them.

    At most two paragraphs, each a short title-like line that is not prose, at most one of
    them a title (it must agree with a title already known) and at most one a ``by`` line.
    """
    title = author = None
    taken = 0
    for line in shown[:_MAX_TITLE_PARAGRAPHS]:
        if not is_title_like(line) or is_prose(line) or _marked(line):
            break
        if line[:3].lower() == "by " and author is None:
            author = line[3:].strip() or None
        elif title is None and author is None:
            title = clean_title(line)
            if title and meta.title and title.casefold() != meta.title.casefold():
                title = None  # another title than the header's: not taken as one
                break
        else:
            break
        taken += 1
    if title is None and author is None:
        return 0
    meta.title = meta.title or title
    meta.author = meta.author or author
    return taken


def _marked(line: str) -> bool:
    """A notes marker or a ``Key: value`` header line: never a title."""
    return bool(_NOTES_MARK.match(line) or HEADER_LINE.match(line))


def _header_paragraph(paragraph: str, meta: Meta) -> bool:
    """Read ``paragraph`` into ``meta`` when every line of it is ``Key: value`` header (a
    known key, or a further line of a field that takes them); False, and ``meta`` left
    alone, otherwise."""
    if HEADER_LINE.match(paragraph) is None:
        return False
    lines = line_spans(paragraph)
    if _header_lines(paragraph, lines, Meta()) < len(lines):
        return False
    _header_lines(paragraph, lines, meta)
    return True


def paragraph_spans(text: str, lines: list[Line], *, line_mode: bool = True) -> list[Span]:
    """Group lines into paragraph spans (absolute, whitespace-trimmed).

    Blank lines and scene breaks separate paragraphs. With ``line_mode``, a run of lines
    with no blank line between any two of them (at least three lines) is read as one
    paragraph per line, and so is a block holding a line too long to be hard-wrapped.
    """
    blocks: list[list[Span]] = []
    solo: set[int] = set()
    current: list[Span] = []
    blank_between = False
    pending_blank = False
    text_lines = 0
    for start, end, kind in lines:
        if kind == TEXT:
            current.append((start, end))
            text_lines += 1
            blank_between = blank_between or pending_blank
            pending_blank = False
            continue
        if current:
            blocks.append(current)
            current = []
        if kind == BLANK and text_lines:
            pending_blank = True
        elif kind == SOLO:
            solo.add(len(blocks))
            blocks.append([(start, end)])
            text_lines += 1
            blank_between = blank_between or pending_blank
            pending_blank = False
    if current:
        blocks.append(current)
    per_line = line_mode and not blank_between and text_lines >= _MIN_LINES_FOR_LINE_MODE
    spans: list[Span] = []
    for index, block in enumerate(blocks):
        if index not in solo and line_mode and (per_line or _has_long_line(block)):
            spans.extend(block)
        else:
            spans.append((block[0][0], block[-1][1]))
    return [span for span in (strip_span(text, s, e) for s, e in spans) if span[0] < span[1]]


def _has_long_line(block: list[Span]) -> bool:
    return len(block) >= 3 and any(e - s > _LONG_LINE for s, e in block[:-1])


def strip_span(text: str, start: int, end: int) -> Span:
    """Move ``start``/``end`` inwards past whitespace."""
    if start < end and (text[start].isspace() or text[end - 1].isspace()):
        chunk = text[start:end]
        stripped = chunk.lstrip()
        start += len(chunk) - len(stripped)
        end -= len(stripped) - len(stripped.rstrip())
    return start, end
