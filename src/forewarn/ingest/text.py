"""Plain-text reader: AO3-style header, chapter headings, scene breaks, paragraphs.

Offsets are exact: ``work.source_text`` is the decoded input with ``\\r\\n`` and ``\\r``
turned into ``\\n``, every ``chapter.text`` is a slice of it starting at ``chapter.offset``,
and every paragraph is a slice of its chapter with surrounding whitespace left out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from forewarn.coverage import Ledger, audit
from forewarn.errors import EmptyInput
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
    take_opening,
)
from forewarn.ingest.decode import check_controls
from forewarn.ingest.headings import context_headings
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
    if not is_title_like(title):
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
    comes before the first heading. Most lines start
    with a letter that no heading or scene break starts with, and take the fast path.
    """
    segments = [Segment(None, [], False)]
    lines = segments[0].lines
    headed = context_headings(text, start)
    pos = start
    for line in text[start:].split("\n"):
        end = pos + len(line)
        if pos in headed:
            segments.append(Segment(clean_title(headed[pos]), [], True))
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
                    segments.append(Segment(clean_title(heading), [], True))
                    lines = segments[-1].lines
                    pos = end + 1
                    continue
                kind = BREAK if is_scene_break(stripped) else TEXT
        lines.append((pos, end, kind))
        pos = end + 1
    return segments


def build_chapters(
    text: str,
    segments: list[Segment],
    meta: Meta,
    *,
    line_mode: bool = True,
    keep: Callable[[str], bool] | None = None,
) -> list[Chapter]:
    """Chapters from segments, dropping empty ones and a title-only opening.

    ``keep``, when given, decides which paragraph texts count (others get no entry).
    """
    has_headings = any(seg.heading for seg in segments)
    chapters: list[Chapter] = []
    for seg in segments:
        spans = paragraph_spans(text, seg.lines, line_mode=line_mode)
        if keep is not None:
            spans = [(s, e) for s, e in spans if keep(text[s:e])]
        if not spans:
            continue
        if not seg.heading and has_headings and take_opening([text[s:e] for s, e in spans], meta):
            continue
        chapters.append(spans_to_chapter(text, len(chapters) + 1, seg.title, spans))
    return chapters


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
