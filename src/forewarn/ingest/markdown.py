"""Markdown reader: front matter, ``#``/``##`` chapter headings, scene breaks.

Paragraph texts are **raw slices** of the source (``work.source_text`` is the decoded
file with normalised newlines), so offsets always point at the user's file: inline
markup such as ``*emphasis*`` or ``[links](url)`` stays in ``paragraph.text``. Paragraphs
that are nothing but markup (an image, an HTML comment, a tag) get no entry; ``###`` and
deeper headings are paragraphs of their own, their ``#`` markers left out of the span.
Titles (work and chapter), which carry no offsets, have their markup stripped. Character
references (``&#72;anged``) stay in the text too; the scanner reads them as a viewer shows
them (:func:`forewarn.normalize.decode_references`, offsets unchanged).

Only chapter text is scanned for warnings, so what a reader of the rendered page sees must
end up there:

- A line is dropped as a link reference definition only when CommonMark would drop it:
  ``[label]: destination`` with a destination that has no spaces (or is in ``<...>``), then
  at most a title in ``"..."``, ``'...'`` or ``(...)``, and nothing else on the line; not
  in the middle of a paragraph, and not a footnote (``[^1]: ...``, which GFM shows).
  ``[Mara]: That night she ...`` is a paragraph. (A definition spread over two lines is
  kept as text: reading a URL is harmless, dropping a sentence is not.)
- An HTML comment hides only what is inside it: text after the ``-->`` that ends a
  comment on a later line is read. A ``<!--`` line starts one only where CommonMark
  starts an HTML block (at most 3 spaces in, outside code): code, fenced with backticks
  or tildes or indented 4 spaces, is shown as written and read as story.
- Front-matter values that are not metadata are story when they are prose; an image's
  alternative text or a form field's value that is a sentence is read as a paragraph.
- The body and front matter a viewer shows go into a coverage ledger
  (:mod:`forewarn.coverage`), so what the reader drops on the way (a header value it
  ignores, an image in a chapter title) leaves the work not fully read.
- A ``#``/``##`` or setext heading whose title part is prose, and text before the first
  heading that is not marked as a title, header or notes, are chapter text, by the rules
  of :mod:`forewarn.ingest.headings` and :func:`forewarn.ingest.text.take_opening`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from forewarn.coverage import Ledger, audit
from forewarn.errors import EmptyInput, MalformedInput
from forewarn.ingest._common import HEADER_LINE, Meta, clean_title, field_for, is_chapter_heading
from forewarn.ingest._html import is_navigation_text
from forewarn.ingest.decode import check_controls
from forewarn.ingest.headings import label_title, prose_start
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

# an opening code fence (CommonMark 4.5): up to 3 spaces, then ``` or ~~~ or longer
_FENCE = re.compile(r" {0,3}(?P<fence>(?P<char>[`~])(?P=char){2,})")
# the start of a list item (CommonMark 5.2): a bullet or a number, then a space or the end
_LIST_ITEM = re.compile(r" {0,3}(?:[-+*]|\d{1,9}[.)])(?:[ \t]|$)")
# a whole line that is a link reference definition (CommonMark 4.7), in its one-line form:
# a label (not a "^" footnote), a destination with no spaces or in <...>, an optional title
_REF_DEF = re.compile(
    r" {0,3}\[(?!\^)(?=[^\]\n]*[^\s\]])(?:[^\[\]\\\n]|\\[^\n]){1,999}\]:[ \t]*"
    r"(?:<(?P<angled>[^<>\n]*)>|(?P<bare>[^\s<]\S*))"
    r"""(?:[ \t]+(?:"[^"\n]*"|'[^'\n]*'|\([^()\n]*\)))?[ \t]*"""
)
_IMAGE = re.compile(r"!\[([^\]\n]{0,500})\]\([^)\n]{0,1000}\)")
_LINK = re.compile(r"\[([^\]\n]{0,500})\]\([^)\n]{0,1000}\)")
# a link's or image's title, shown as a tooltip: [text](url "title"), 'title'
_TITLED = re.compile(
    r"(!?)\[([^\]\n]{0,500})\]\([^)\s]{0,1000}\s+(?:\"([^\"\n]*)\"|'([^'\n]*)')\s*\)")
_REF_LINK = re.compile(r"\[([^\]\n]{0,500})\]\[[^\]\n]{0,200}\]")
_TAG = re.compile(r"</?[A-Za-z][^<>\n]{0,500}>")
_MARKERS = re.compile(r"[*_~`]+")
_CLOSED_COMMENT = re.compile(r"<!--.*?-->", re.S)
# the attributes of an HTML tag whose text a page shows: an image's alternative text (shown
# when the image is missing, and read aloud) and a form field's value and placeholder
_SHOWN_ATTRIBUTE = re.compile(
    r"""\s(?:alt|value|placeholder)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""", re.I)


@dataclass(slots=True, eq=False)
class _Heading:
    """An ATX (``#``) or setext (``===``) heading line.

    ``prose`` is the span of the heading's text that is story prose (see
    :func:`forewarn.ingest.headings.prose_start`), which the chapter reads as its first
    paragraph; ``title`` is then the heading's label alone, or ``None``.
    """

    level: int
    title: str | None
    start: int
    end: int
    prose: Span | None = None


Item = Line | _Heading


def parse_markdown(text: str, source: str = "<markdown>", *, encoding: str | None = None) -> Work:
    """Parse decoded Markdown into a :class:`Work` (format ``"markdown"``)."""
    text = normalize_newlines(text)
    check_controls(text, source)
    if not text.strip():
        raise EmptyInput(f"{source}: empty file")
    meta = Meta()
    ledger = Ledger()
    fields: list[Line] = []  # front-matter values read as story
    body = parse_front_matter(text, meta, source, story=fields, ledger=ledger)
    literal: set[int] = set()
    items = scan(text, line_spans(text, body), literal)
    items = _shown_paragraphs(text, [*fields, *items], literal, ledger)
    segments = _segments(text, items, meta)
    chapters = build_chapters(text, segments, meta, line_mode=False, plain=strip_inline)
    if not chapters:
        raise EmptyInput(f"{source}: no story text")
    work = Work(
        chapters,
        **meta.work_fields(),
        source=source,
        format="markdown",
        source_text=text,
        encoding=encoding,
    )
    work.coverage = audit(work, ledger)
    return work


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
    return _alnum(strip_inline(text))


def shown_text(text: str) -> str:
    """What a viewer shows of Markdown ``text`` outside code, as words to audit.

    Unlike :func:`strip_inline`, an image's alternative text and the ``alt``, ``value``
    and ``placeholder`` of an HTML tag are kept: a missing image shows its alternative
    text, and a form field its value. Only a closed comment is dropped (an unclosed
    ``<!--`` inside a paragraph is text, in CommonMark).
    """
    text = _CLOSED_COMMENT.sub(" ", text)
    # a title is shown (as a tooltip): its words count, so a paragraph that is only a
    # titled link is kept, and the classifier reads its raw text, title and all
    text = _TITLED.sub(lambda m: f"{m[1]}[{m[2]}]() {m[3] or m[4] or ''} ", text)
    text = _IMAGE.sub(r" \1 ", text)
    text = _LINK.sub(r"\1", text)
    text = _REF_LINK.sub(r"\1", text)
    text = _TAG.sub(_tag_text, text)
    return _MARKERS.sub("", text)


def _tag_text(tag: re.Match[str]) -> str:
    values = [next(v for v in m.groups() if v is not None)
              for m in _SHOWN_ATTRIBUTE.finditer(tag[0])]
    return f" {' '.join(values)} "


def _alnum(text: str) -> bool:
    return any(char.isalnum() for char in text)


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

MAX_FRONT_MATTER = 64 * 1024  # characters between the two fences, checked before parsing
_MAX_DEPTH = 32  # nested lists and mappings
_MAX_NODES = 20_000
_OPEN = re.compile(r"---[ \t]*\n")
_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.M)
# "key: value" or "key:" at the start of a line: where a front-matter mapping begins
_YAML_KEY = re.compile(r"""(?:[A-Za-z_][\w \-']{0,60}?|"[^"\n]{1,60}"|'[^'\n]{1,60}')"""
                       r"[ \t]*:(?:[ \t]|$)")
# a line a YAML block may hold: a key, an indented or list line, a comment, flow punctuation
_YAML_LINE = re.compile(r"""[ \t]|-|#|[\[\]{}]|$|(?:[A-Za-z_][\w \-']{0,60}?|"[^"\n]{1,60}"|"""
                        r"""'[^'\n]{1,60}')[ \t]*:(?:[ \t]|$)""")


def parse_front_matter(text: str, meta: Meta, source: str = "<markdown>", *,
                       story: list[Line] | None = None, ledger: Ledger | None = None) -> int:
    """Read a leading ``---`` YAML block into ``meta``; return where the body starts.

    The block is front matter when its first line that is not blank or a comment is a
    ``key:`` line and a closing ``---`` (or ``...``) line follows within
    :data:`MAX_FRONT_MATTER` characters; otherwise the ``---`` is a rule and the lines
    after it are story text, as before. The block is parsed by PyYAML's safe loader
    with aliases refused and nesting bounded (:func:`load_front_matter`); a block that
    is not valid YAML, over the size limit, or that uses an alias is
    :class:`MalformedInput`. Fields of a type forewarn cannot use (a mapping where a
    title or a list of warnings belongs) are not metadata; the story is still read.

    A viewer shows the whole block (GitHub, as a table), so every value forewarn does not
    keep as metadata (a key it does not know, such as ``epigraph:``, or one it ignores,
    such as ``status:``) is story when it is prose: its span goes to ``story`` as a
    paragraph of its own. Values that are data (:func:`is_data`) and the keys are
    accounted in ``ledger`` as navigation; the rest of the block as what a person sees.
    """
    span = front_matter_span(text, source)
    if span is None:
        return 0
    start, end, body = span
    data = load_front_matter(text[start:end], source, first_line=2)
    if not isinstance(data, dict):
        return 0  # not a mapping (unreachable after a "key:" line; kept as a guard)
    for key, value in data.items():
        if isinstance(key, str):
            field = _field_value(value)
            if field is not None:
                meta.add(key, field)
    if story is not None or ledger is not None:
        _shown_fields(text[start:end], start, [] if story is None else story,
                      Ledger() if ledger is None else ledger)
    return body


def _shown_fields(block: str, offset: int, story: list[Line], ledger: Ledger) -> None:
    """Sort the scalars of a front-matter block (already checked by
    :func:`load_front_matter`) into metadata, data and story; see :func:`parse_front_matter`."""
    import yaml

    root = yaml.compose(block, Loader=_loader_class())
    if not isinstance(root, yaml.MappingNode):
        return
    for key_node, value_node in root.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        target = field_for(key) if isinstance(key, str) else None
        kept: list[yaml.Node] = []  # what _field_value keeps: a scalar or a list's scalars
        if target not in (None, "ignore"):
            kept = [value_node] if isinstance(value_node, yaml.ScalarNode) else [
                node for node in value_node.value
                if isinstance(node, yaml.ScalarNode)] if isinstance(
                value_node, yaml.SequenceNode) else []
        for node, is_key in (*_scalars(key_node, True), *_scalars(value_node, False)):
            value = str(node.value)
            if is_key or is_data(value):
                ledger.add("front matter", value, "navigation")
            elif any(node is other for other in kept):
                ledger.add("front matter", value)  # metadata: the audit matches it there
            else:  # read as story, and accounted with the body's paragraphs
                story.append((offset + node.start_mark.index, offset + node.end_mark.index,
                              SOLO))


def _scalars(node: Any, is_key: bool) -> Iterator[tuple[Any, bool]]:
    """The scalar nodes under ``node``, each with whether it is a mapping's key."""
    import yaml

    if isinstance(node, yaml.ScalarNode):
        yield node, is_key
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _scalars(item, is_key)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield from _scalars(key, True)
            yield from _scalars(value, is_key)


def front_matter_span(text: str, source: str = "<markdown>") -> tuple[int, int, int] | None:
    """``(start, end, body)`` of a leading YAML block in normalised ``text``, or ``None``.

    ``text[start:end]`` is the YAML between the fences; ``body`` is where the story
    starts (after the closing fence's line). Raises :class:`MalformedInput` when the
    block looks like front matter but runs past :data:`MAX_FRONT_MATTER` characters.
    """
    if not _OPEN.match(text):
        return None
    start = text.index("\n") + 1
    if not _starts_mapping(text, start):
        return None
    window = text[start : start + MAX_FRONT_MATTER + 1]
    close = _CLOSE.search(window)
    if close is not None and text[start + close.end() : start + close.end() + 1] not in ("", "\n"):
        close = None  # a line cut by the window's end, longer than the fence in the text
    if close is None or close.start() > MAX_FRONT_MATTER:
        if len(window) > MAX_FRONT_MATTER and _all_yaml(window[:MAX_FRONT_MATTER]):
            raise MalformedInput(
                f"{source}: front matter is over {MAX_FRONT_MATTER // 1024} KiB "
                "(or its closing '---' line is missing)"
            )
        return None
    end = start + close.start()
    newline = text.find("\n", start + close.end())
    return start, end, len(text) if newline < 0 else newline + 1


def starts_with_front_matter(data: bytes) -> bool:
    """True when ``data`` opens with YAML front matter as :func:`front_matter_span` reads it.

    For sniffing a story with no file name (standard input, an upload): such a story is
    read as Markdown, as a ``.md`` file by path is. A block over the size limit counts
    (so that the Markdown reader reports it); only the first bytes are decoded.
    """
    head = data[: MAX_FRONT_MATTER * 4 + 4096]
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"),
                       (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            text = head[len(bom) :].decode(codec, errors="ignore")
            break
    else:
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # cut inside a character at the end, or another encoding
            text = head[: exc.start].decode("utf-8") if exc.start > len(head) - 4 else (
                head.decode("latin-1"))
    text = normalize_newlines(text[: MAX_FRONT_MATTER * 2])
    try:
        return front_matter_span(text) is not None
    except MalformedInput:
        return True


def _starts_mapping(text: str, start: int) -> bool:
    """True when the first line after ``start`` that is not blank or a comment is ``key:``."""
    pos = start
    while pos < len(text) and pos - start <= MAX_FRONT_MATTER:
        newline = text.find("\n", pos)
        line = text[pos:] if newline < 0 else text[pos:newline]
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return stripped not in ("---", "...") and bool(_YAML_KEY.match(line))
        if newline < 0:
            return False
        pos = newline + 1
    return False


def _all_yaml(block: str) -> bool:
    """Every whole line of ``block`` could be YAML (the last, cut short, is not judged)."""
    return all(_YAML_LINE.match(line) for line in block.split("\n")[:-1])


def load_front_matter(block: str, source: str = "<markdown>", *, first_line: int = 1) -> object:
    """``block`` parsed as YAML, safely; one-line :class:`MalformedInput` when it cannot be.

    PyYAML's safe loader (libyaml's when PyYAML has it; no Python objects are ever
    built), after a pass over the parser's events that refuses aliases (``*name``, what
    "billion laughs" documents are built of), nesting deeper than ``_MAX_DEPTH`` and more
    than ``_MAX_NODES`` values, so the document built is never larger than the text.
    Plain scalars stay strings (``title: 1984`` and ``rating: yes`` are text, not a number
    and a boolean); an empty value or ``~`` is ``None``. ``first_line`` is the file's line
    number of the block's first line, for the messages.
    """
    import yaml  # imported on first use: importing forewarn.ingest stays cheap

    if len(block) > MAX_FRONT_MATTER:
        raise MalformedInput(f"{source}: front matter is over {MAX_FRONT_MATTER // 1024} KiB")
    loader_class = _loader_class()
    try:
        _check_events(yaml.parse(block, Loader=loader_class))
        loader = loader_class(block)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except _Refused as exc:
        line = first_line + exc.line
        raise MalformedInput(f"{source}: front matter line {line}: {exc.reason}") from None
    except yaml.YAMLError as exc:
        raise MalformedInput(_yaml_message(exc, block, source, first_line)) from None
    except RecursionError:  # cannot happen with the depth limit; belt and braces
        raise MalformedInput(f"{source}: front matter is nested too deeply") from None


class _Refused(Exception):
    def __init__(self, reason: str, line: int) -> None:
        super().__init__(reason)
        self.reason, self.line = reason, line


def _check_events(events: Iterator[object]) -> None:
    """Refuse aliases, deep nesting and too many values, from the parser's events."""
    import yaml

    def line(event: Any) -> int:
        mark = event.start_mark
        return mark.line if mark is not None else 0

    depth = nodes = 0
    for event in events:
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(f"YAML aliases (*{event.anchor}) are not allowed",
                           line(event))
        if isinstance(event, yaml.NodeEvent):  # scalars, and starts of lists and mappings
            nodes += 1
            if nodes > _MAX_NODES:
                raise _Refused(f"more than {_MAX_NODES:,} values", line(event))
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > _MAX_DEPTH:
                raise _Refused(f"nested more than {_MAX_DEPTH} levels deep", line(event))
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


_LOADER: type | None = None


def _loader_class() -> type:
    """PyYAML's safe loader (libyaml's if built in) resolving no implicit types but null."""
    global _LOADER
    if _LOADER is not None:
        return _LOADER
    import yaml

    base = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader

    class FrontMatterLoader(base):  # type: ignore[misc, valid-type]
        # only null is resolved implicitly: other plain scalars stay the text written
        yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, re.Pattern[str]]]]] = {
            key: [(tag, regexp) for tag, regexp in resolvers if tag.endswith(":null")]
            for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
        }

    _LOADER = FrontMatterLoader
    return _LOADER


def _yaml_message(exc: Exception, block: str, source: str, first_line: int) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f" line {first_line + mark.line}, column {mark.column + 1}" if mark else ""
    hint = ""
    line = block.split("\n")[mark.line] if mark and mark.line < block.count("\n") + 1 else ""
    if "mapping values are not allowed" in problem:
        hint = " (put a value that holds ': ' in quotes)"
    elif "\t" in line[: len(line) - len(line.lstrip())]:
        hint = " (indent with spaces, not tabs)"
    return f"{source}: front matter{where} is not valid YAML: {problem}{hint}"


def _field_value(value: object) -> str | list[str] | None:
    """A front-matter value as forewarn's metadata takes it: text or a list of texts.

    Scalars become text; a list keeps its scalar items; a mapping (or a list of lists)
    has no meaning for a title, a warning or a tag, and is ignored.
    """
    if isinstance(value, list):
        items = [str(item) for item in value if _scalar(item) and item is not None]
        return items or None
    if value is None or not _scalar(value):
        return None
    return str(value)


def _scalar(value: object) -> bool:
    return not isinstance(value, dict | list | set | tuple | bytes)


# --- block scan -------------------------------------------------------------------------------


def scan(text: str, lines: list[Span], literal: set[int] | None = None) -> list[Item]:
    """Classify body lines: text, blank, break, solo, or a heading.

    Code is shown as it is written, so its lines are text (``<!--`` or ``# x`` in code is
    neither a comment nor a heading). The starts of lines shown literally (the lines of
    fenced and indented code) are added to ``literal``: their markup is not stripped
    when judging whether a paragraph shows any words.
    """
    items: list[Item] = []
    literal = set() if literal is None else literal
    fence: tuple[str, int] | None = None  # the open fence's character and length
    in_comment = False
    in_list = False  # a list item may be open: see _hides
    for start, end in lines:
        line = text[start:end]
        stripped = line.strip()
        if fence is not None:
            if _closes(line, fence):
                fence = None
                items.append((start, end, BREAK))
            else:
                items.append((start, end, TEXT if stripped else BLANK))
                literal.add(start)
            continue
        if in_comment:
            close = line.find("-->")
            if close < 0:
                items.append((start, end, BREAK))
                continue
            # the comment ends here: what follows "-->" on the line is shown
            in_comment = False
            after = start + close + 3
            items.append((after, end, TEXT) if has_words(text[after:end]) else (start, end, BREAK))
            continue
        indent = _indent(line)
        if stripped:
            if _LIST_ITEM.match(line):
                in_list = True
            elif indent == 0 and items and _kind(items[-1]) == BLANK:
                in_list = False  # a new block at the left margin closes any list
        if indent >= 4 and stripped:
            # an indented code block (CommonMark 4.4), or a paragraph's continuation line,
            # or a list item's text: shown either way, never a fence, comment or heading
            if not _in_paragraph(items):
                literal.add(start)
            items.append((start, end, TEXT))
            continue
        fence_match = _FENCE.match(line)
        if fence_match and (fence_match["char"] == "~" or "`" not in line[fence_match.end() :]):
            # a backtick fence's info string has no backtick (else the line is inline code)
            fence = (fence_match["char"], len(fence_match["fence"]))
            items.append((start, end, BREAK))
        elif stripped.startswith("<!--") and not (in_list and indent):
            # an HTML block (CommonMark 4.6, start condition 2) hides up to its "-->". An
            # indented "<!--" after a list item may be inside the item's fenced code, which
            # is shown: it is read as text rather than risk hiding the rest of the file
            in_comment = "-->" not in stripped[4:]
            in_list = False
            items.append((start, end, BREAK if _comment_only(stripped) else TEXT))
        elif _is_ref_def(line) and not _in_paragraph(items):
            items.append((start, end, BREAK))
        elif stripped.startswith("#"):
            items.append(_atx(text, start, end, stripped))
        elif stripped and set(stripped) == {"="} and _setext_target(items):
            previous = items.pop()
            assert not isinstance(previous, _Heading)
            content = text[previous[0] : previous[1]].strip()
            at = text.index(content, previous[0])
            items.append(_heading(1, content, at, previous[0], previous[1]))
        else:
            items.append((start, end, classify(text, start, end)))
    return items


def _indent(line: str) -> int:
    """The columns of a line's leading spaces and tabs (tab stops of 4, as CommonMark)."""
    column = 0
    for char in line:
        if char == " ":
            column += 1
        elif char == "\t":
            column += 4 - column % 4
        else:
            break
    return column


def _closes(line: str, fence: tuple[str, int]) -> bool:
    """A closing code fence (CommonMark 4.5): at most 3 spaces in, the opening fence's
    character at least as many times, then nothing but spaces. ``~~~`` does not close a
    backtick fence, nor does a line with an info string ("```python")."""
    char, length = fence
    stripped = line.strip(" \t")
    run = len(stripped) - len(stripped.lstrip(char))
    return _indent(line) <= 3 and run >= length and not stripped[run:]


def _kind(item: Item) -> int | None:
    return None if isinstance(item, _Heading) else item[2]


def _shown_paragraphs(text: str, items: list[Item], literal: set[int],
                      ledger: Ledger) -> list[Item]:
    """``items`` with the paragraphs that show no story turned blank; what each shows, to
    ``ledger`` for the coverage audit.

    A paragraph is read when its text shows words with the markup stripped, when it holds
    code with words (shown as written), or when what it shows only through markup (an
    image's alternative text, a form field's value) is more than a label: a missing
    image's ``![cover](c.png)`` is accounted as navigation, as the HTML reader accounts a
    short ``alt``, but a sentence there is read as story.
    """
    out = list(items)
    run: list[int] = []

    def judge(indices: list[int]) -> None:
        lines = [out[i] for i in indices]
        assert not any(isinstance(line, _Heading) for line in lines)
        spans = [(line[0], line[1]) for line in lines if not isinstance(line, _Heading)]
        raw = text[spans[0][0] : spans[-1][1]]
        if any(s in literal and _alnum(text[s:e]) for s, e in spans) or has_words(raw):
            for s, e in spans:
                _account_line(text[s:e] if s in literal else shown_text(text[s:e]), ledger)
            return
        shown = " ".join(shown_text(raw).split())
        if _alnum(shown) and not is_navigation_text(shown):
            ledger.add("markdown", shown)
            return
        if _alnum(shown):
            ledger.add("markdown", shown, "navigation")
        for i, (s, e) in zip(indices, spans, strict=True):
            out[i] = (s, e, BLANK)

    for index, item in enumerate(items):
        if not isinstance(item, _Heading) and item[2] == TEXT:
            run.append(index)
            continue
        if run:
            judge(run)
            run = []
        if isinstance(item, _Heading):
            ledger.add("markdown", shown_text(text[item.start : item.end]))
        elif item[2] == SOLO:
            judge([index])
    if run:
        judge(run)
    return out


def _account_line(shown: str, ledger: Ledger) -> None:
    """Add a shown line to ``ledger``; a ``Key: value`` header line's key is a label.

    The key (``Rating:``) is not kept by the header it belongs to, so it counts as
    navigation; so does the value of a key forewarn ignores (``Words: 1,204``) when it is
    data, but a sentence there is content, and left unread when the header drops it.
    """
    match = HEADER_LINE.match(shown)
    if match is None:
        ledger.add("markdown", shown)
        return
    ledger.add("markdown", match["key"], "navigation")
    value = match["value"]
    if field_for(match["key"]) == "ignore" and is_data(value):
        ledger.add("markdown", value, "navigation")
    else:
        ledger.add("markdown", value)


def is_data(value: str) -> bool:
    """A value that is data, not prose: at most three words and no sentence end
    (a date, a word count, a layout name, a short title)."""
    return len(value.split()) <= 3 and not _SENTENCE_END.search(value)


_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]]*\s*$")


def _is_ref_def(line: str) -> bool:
    """True for a whole-line link reference definition, which CommonMark does not show."""
    match = _REF_DEF.fullmatch(line)
    if match is None:
        return False
    bare = match["bare"]
    return bare is None or _balanced(bare)


def _balanced(destination: str) -> bool:
    """A bare destination's parentheses are balanced (CommonMark), and it has no controls."""
    if destination.endswith("\\"):
        return False  # an escape with nothing to escape: not judged, kept as text
    depth = 0
    escaped = False
    for char in destination:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return False
        elif ord(char) < 0x20 or char == "\x7f":
            return False
    return depth == 0


def _in_paragraph(items: list[Item]) -> bool:
    """The previous line is paragraph text, which a definition cannot interrupt."""
    return bool(items) and not isinstance(items[-1], _Heading) and items[-1][2] == TEXT


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
    line = text[start:end]
    head = line.index(content, line.index("#") + level)
    if level >= 3:
        return (start + head, start + head + len(content), SOLO)
    return _heading(level, content, start + head, start, end)


def _heading(level: int, content: str, at: int, start: int, end: int) -> _Heading:
    """A heading whose raw text ``content`` lies at offset ``at``, its prose split off."""
    title, prose = split_heading(content, at)
    return _Heading(level, title, start, end, prose)


def split_heading(content: str, at: int) -> tuple[str | None, Span | None]:
    """``(title, prose span)`` of a heading whose raw text ``content`` lies at offset ``at``.

    Whether the heading holds prose is judged on the text shown (markup stripped) by
    :func:`forewarn.ingest.headings.prose_start`; the prose span is then a raw slice of the
    line from the end of the label (``Chapter 2:``) on, or the whole of ``content`` when
    the label cannot be told in the raw text. A heading with no prose is all title.
    """
    shown = strip_inline(content)
    if prose_start(shown) is None:
        return clean_title(shown), None
    cut = prose_start(content) or 0
    label = strip_inline(content[:cut])
    end = len(content)
    if _MARKERS.match(content):  # "**Chapter 2: prose**": the closing "**" is not prose
        end = len(content.rstrip("*_~"))
    return label_title(label, len(label)), (at + cut, at + max(end, cut))


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
        _title(meta, top)
        items = [item for item in items if item is not top]
    elif top is not None and len(headings) == 1:
        _title(meta, top)
    segments = [Segment(None, [], False)]
    for item in items:
        if isinstance(item, _Heading):
            lines: list[Line] = [] if item.prose is None else [(*item.prose, SOLO)]
            segments.append(Segment(item.title, lines, True))
        else:
            segments[-1].lines.append(item)
    if top is not None and len(segments) > 2 and not _has_text(segments[1]):
        _title(meta, top)  # "# Book" straight before "# Chapter 1"
    return segments


def _title(meta: Meta, top: _Heading) -> None:
    """The leading heading as the work's title; where the front matter gave another, the
    heading is kept as a note (a subtitle, a longer title): a reader sees it, so its words
    are the work's, not lost between two titles."""
    if not meta.title:
        meta.title = top.title
    elif top.title and top.title.casefold() != meta.title.casefold():
        meta.notes.append(top.title)


def _has_text(segment: Segment) -> bool:
    return any(kind in (TEXT, SOLO) for _, _, kind in segment.lines)


def _leading_heading(items: list[Item]) -> _Heading | None:
    """The heading before any text, which may be the work's title (never one with prose)."""
    for item in items:
        if isinstance(item, _Heading):
            return item if item.prose is None else None
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
                raw = text[start:end].strip()
                title, prose = split_heading(raw, text.index(raw, start))
                # "**Chapter 2: That night she ...**": the prose is the chapter's text
                lines: list[Line] = [] if prose is None else [(*prose, SOLO)]
                segments.append(Segment(title, lines, True))
                continue
        segments[-1].lines.append(item)
    return segments
