"""Markdown reader: front matter, ``#``/``##`` chapter headings, scene breaks.

Paragraph texts are **raw slices** of the source (``work.source_text`` is the decoded
file with normalised newlines), so offsets always point at the user's file: inline
markup such as ``*emphasis*`` or ``[links](url)`` stays in ``paragraph.text``. Paragraphs
that are nothing but markup (an image, an HTML comment, a tag) get no entry; ``###`` and
deeper headings are paragraphs of their own, their ``#`` markers left out of the span.
Titles (work and chapter), which carry no offsets, have their markup stripped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from forewarn.errors import EmptyInput
from forewarn.ingest._common import Meta, clean_title, is_chapter_heading
from forewarn.ingest.decode import check_controls
from forewarn.ingest.text import (
    BLANK,
    BREAK,
    SOLO,
    TEXT,
    Line,
    Segment,
    Span,
    build_chapters,
    classify,
    line_spans,
    normalize_newlines,
)
from forewarn.work import Work

_FENCE = re.compile(r" {0,3}(`{3,})")
_REF_DEF = re.compile(r" {0,3}\[[^\]\n]{1,200}\]:")
_IMAGE = re.compile(r"!\[[^\]\n]{0,500}\]\([^)\n]{0,1000}\)")
_LINK = re.compile(r"\[([^\]\n]{0,500})\]\([^)\n]{0,1000}\)")
_REF_LINK = re.compile(r"\[([^\]\n]{0,500})\]\[[^\]\n]{0,200}\]")
_TAG = re.compile(r"</?[A-Za-z][^<>\n]{0,500}>")
_MARKERS = re.compile(r"[*_~`]+")
_YAML_KEY = re.compile(r"([A-Za-z_][\w \-']{0,60}?)[ \t]*:(?:[ \t]+(.*)|[ \t]*$)")
_MAX_FRONT_MATTER_LINES = 500


@dataclass(slots=True, eq=False)
class _Heading:
    """An ATX (``#``) or setext (``===``) heading line."""

    level: int
    title: str | None
    start: int
    end: int


Item = Line | _Heading


def parse_markdown(text: str, source: str = "<markdown>", *, encoding: str | None = None) -> Work:
    """Parse decoded Markdown into a :class:`Work` (format ``"markdown"``)."""
    text = normalize_newlines(text)
    check_controls(text, source)
    if not text.strip():
        raise EmptyInput(f"{source}: empty file")
    meta = Meta()
    body = parse_front_matter(text, meta)
    items = scan(text, line_spans(text, body))
    segments = _segments(text, items, meta)
    chapters = build_chapters(text, segments, meta, line_mode=False, keep=has_words)
    if not chapters:
        raise EmptyInput(f"{source}: no story text")
    return Work(
        chapters,
        **meta.work_fields(),
        source=source,
        format="markdown",
        source_text=text,
        encoding=encoding,
    )


def strip_inline(text: str) -> str:
    """Text without Markdown inline markup: images and comments dropped, links to text."""
    text = _drop_comments(text)
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _REF_LINK.sub(r"\1", text)
    text = _TAG.sub("", text)
    return _MARKERS.sub("", text)


def has_words(text: str) -> bool:
    """True when ``text`` holds a letter or digit once its markup is stripped."""
    return any(char.isalnum() for char in strip_inline(text))


def _drop_comments(text: str) -> str:
    parts: list[str] = []
    pos = 0
    while True:
        start = text.find("<!--", pos)
        if start < 0:
            parts.append(text[pos:])
            break
        parts.append(text[pos:start])
        end = text.find("-->", start + 4)
        if end < 0:
            break
        pos = end + 3
    return "".join(parts)


# --- front matter ---------------------------------------------------------------------------


def parse_front_matter(text: str, meta: Meta) -> int:
    """Read a leading ``---`` YAML block into ``meta``; return where the body starts."""
    if not text.startswith("---"):
        return 0
    lines = text.split("\n", _MAX_FRONT_MATTER_LINES + 2)
    if lines[0].rstrip() != "---":
        return 0
    for index in range(1, min(len(lines), _MAX_FRONT_MATTER_LINES + 1)):
        if lines[index].rstrip() in ("---", "..."):
            block = lines[1:index]
            if not any(_YAML_KEY.match(line) for line in block):
                return 0
            _read_yaml(block, meta)
            return min(len(text), sum(len(line) + 1 for line in lines[: index + 1]))
    return 0


def _read_yaml(lines: list[str], meta: Meta) -> None:
    """A small YAML subset: scalars, quoted strings, flow and block lists, ``|``/``>``."""
    i = 0
    while i < len(lines):
        match = _YAML_KEY.match(lines[i])
        i += 1
        if not match:
            continue
        key, value = match.group(1), (match.group(2) or "").strip()
        nested: list[str] = []
        while i < len(lines) and (not lines[i].strip() or lines[i][:1] in " \t-"):
            nested.append(lines[i])
            i += 1
        meta.add(key, _yaml_value(value, nested))


def _yaml_value(value: str, nested: list[str]) -> str | list[str]:
    if value[:1] in ("|", ">"):
        joiner = "\n" if value[0] == "|" else " "
        return joiner.join(line.strip() for line in nested).strip()
    if value.startswith("[") and value.endswith("]"):
        return [_unquote(item) for item in value[1:-1].split(",") if item.strip()]
    if value:
        return _unquote(value)
    items = [line.strip()[1:].strip() for line in nested if line.strip().startswith("-")]
    if items:
        return [_unquote(item) for item in items]
    return " ".join(line.strip() for line in nested)


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    comment = value.find(" #")
    return value[:comment].rstrip() if comment >= 0 else value


# --- block scan -------------------------------------------------------------------------------


def scan(text: str, lines: list[Span]) -> list[Item]:
    """Classify body lines: text, blank, break, solo, or a heading."""
    items: list[Item] = []
    fence: str | None = None
    in_comment = False
    for start, end in lines:
        line = text[start:end]
        if fence is not None:
            if line.strip().startswith(fence):
                fence = None
                items.append((start, end, BREAK))
            else:
                items.append((start, end, TEXT if line.strip() else BLANK))
            continue
        if in_comment:
            in_comment = "-->" not in line
            items.append((start, end, BREAK))
            continue
        stripped = line.strip()
        fence_match = _FENCE.match(line)
        if fence_match:
            fence = fence_match.group(1)
            items.append((start, end, BREAK))
        elif stripped.startswith("<!--"):
            in_comment = "-->" not in stripped[4:]
            items.append((start, end, BREAK if _comment_only(stripped) else TEXT))
        elif _REF_DEF.match(line):
            items.append((start, end, BREAK))
        elif stripped.startswith("#") and line[:4].lstrip(" ").startswith("#"):
            items.append(_atx(text, start, end, stripped))
        elif stripped and set(stripped) == {"="} and _setext_target(items):
            previous = items.pop()
            assert not isinstance(previous, _Heading)
            title = clean_title(strip_inline(text[previous[0] : previous[1]]))
            items.append(_Heading(1, title, previous[0], previous[1]))
        else:
            items.append((start, end, classify(text, start, end)))
    return items


def _comment_only(stripped: str) -> bool:
    end = stripped.find("-->")
    return end < 0 or not stripped[end + 3 :].strip()


def _setext_target(items: list[Item]) -> bool:
    """A ``===`` underline turns the single preceding text line into a heading."""
    if not items or isinstance(items[-1], _Heading) or items[-1][2] != TEXT:
        return False
    return len(items) < 2 or isinstance(items[-2], _Heading) or items[-2][2] != TEXT


def _atx(text: str, start: int, end: int, stripped: str) -> Item:
    level = len(stripped) - len(stripped.lstrip("#"))
    rest = stripped[level:]
    if level > 6 or (rest and rest[0] not in " \t"):
        return (start, end, classify(text, start, end))
    content = rest.strip()
    closing = content.rstrip("#")
    if closing != content and (not closing or closing[-1] in " \t"):
        content = closing.rstrip()
    if not content:
        return (start, end, BREAK)
    if level >= 3:
        line = text[start:end]
        head = line.index(content, line.index("#") + level)
        return (start + head, start + head + len(content), SOLO)
    return _Heading(level, clean_title(strip_inline(content)), start, end)


# --- chapters ---------------------------------------------------------------------------------


def _segments(text: str, items: list[Item], meta: Meta) -> list[Segment]:
    """Cut items into chapter segments at ``#``/``##`` headings (or plain chapter lines)."""
    headings = [item for item in items if isinstance(item, _Heading)]
    if not headings:
        return _plain_segments(text, items)
    top = _leading_heading(items)
    h1 = [h for h in headings if h.level == 1]
    h2 = [h for h in headings if h.level == 2]
    if top is not None and top.level == 1 and len(h1) == 1 and h2:
        meta.title = meta.title or top.title
        items = [item for item in items if item is not top]
    elif top is not None and len(headings) == 1:
        meta.title = meta.title or top.title
    segments = [Segment(None, [], False)]
    for item in items:
        if isinstance(item, _Heading):
            segments.append(Segment(item.title, [], True))
        else:
            segments[-1].lines.append(item)
    if top is not None and len(segments) > 2 and not _has_text(segments[1]):
        meta.title = meta.title or top.title  # "# Book" straight before "# Chapter 1"
    return segments


def _has_text(segment: Segment) -> bool:
    return any(kind in (TEXT, SOLO) for _, _, kind in segment.lines)


def _leading_heading(items: list[Item]) -> _Heading | None:
    for item in items:
        if isinstance(item, _Heading):
            return item
        if item[2] in (TEXT, SOLO):
            return None
    return None


def _plain_segments(text: str, items: list[Item]) -> list[Segment]:
    """No Markdown headings: split at lines such as ``Chapter 2`` or ``**Prologue**``."""
    segments = [Segment(None, [], False)]
    for item in items:
        assert not isinstance(item, _Heading)
        start, end, kind = item
        if kind == TEXT and end - start <= 140:
            plain = strip_inline(text[start:end]).strip()
            if is_chapter_heading(plain):
                segments.append(Segment(clean_title(plain), [], True))
                continue
        segments[-1].lines.append(item)
    return segments
