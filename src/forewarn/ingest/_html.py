"""HTML helpers shared by the HTML and EPUB readers (BeautifulSoup, imported lazily).

Parsing uses the standard library's ``html.parser`` through BeautifulSoup: it is lenient
with truncated or unbalanced markup, and it never expands DTD-declared entities, so an
XHTML "billion laughs" document is inert.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
BLOCK_TAGS = HEADINGS | frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "center", "dd",
        "details", "dialog", "div", "dl", "dt", "figcaption", "figure", "footer", "header",
        "hgroup", "html", "li", "main", "ol", "p", "pre", "section", "summary", "table",
        "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
SKIP_TAGS = frozenset(
    {
        "base", "button", "embed", "form", "iframe", "input", "link", "math", "meta", "nav",
        "noscript", "object", "option", "script", "select", "style", "svg", "template",
        "textarea", "title",
    }
)  # fmt: skip
_SPACE = re.compile(r"[\s\x00-\x1f\x7f]+")
_PARAGRAPH_BREAK = re.compile(r"\n *\n")


@dataclass(frozen=True, slots=True)
class Block:
    """A block of text: ``kind`` is ``"p"``, a heading name (``"h2"``) or ``"hr"``."""

    kind: str
    text: str


def parse_soup(markup: str) -> BeautifulSoup:
    """Parse (X)HTML leniently with ``html.parser``."""
    from bs4 import BeautifulSoup

    # A file cut off inside a tag ("...</sp") would leave the fragment as text: drop it.
    cut = markup.rfind("<")
    if cut > markup.rfind(">"):
        markup = markup[:cut]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return BeautifulSoup(markup, "html.parser")


def classes(tag: Tag) -> list[str]:
    """The ``class`` attribute of a tag as a list."""
    value = tag.get("class")
    if value is None:
        return []
    return value.split() if isinstance(value, str) else list(value)


def tag_children(tag: Tag) -> Iterator[Tag]:
    """The element children of ``tag`` (text and comments skipped)."""
    from bs4 import Tag

    return (child for child in tag.children if isinstance(child, Tag))


def inline_text(tag: Tag) -> str:
    """All the text under ``tag`` on one line: blocks and line breaks become spaces."""
    return " ".join(" ".join(block.text for block in extract_blocks(tag)).split())


def extract_blocks(root: Tag) -> list[Block]:
    """Text blocks under ``root`` in document order.

    Block-level elements (``p``, ``div``, headings, list items...) each give a block;
    ``<br>`` is a line break and two of them in a row a paragraph break; ``<hr>`` gives an
    ``"hr"`` block; scripts, styles, forms and the like are skipped. Whitespace inside a
    block is collapsed. The walk is iterative, so deeply nested markup cannot overflow
    the stack.
    """
    from bs4.element import NavigableString, PreformattedString, Tag

    blocks: list[Block] = []
    parts: list[str | None] = []  # None marks a <br>
    headings: list[str] = []

    def flush() -> None:
        if parts:
            kind = headings[-1] if headings else "p"
            blocks.extend(Block(kind, text) for text in _paragraphs(parts))
            parts.clear()

    stack: list[tuple[Iterator[object], str]] = [(iter(root.children), "")]
    while stack:
        children, name = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            if name in BLOCK_TAGS:
                flush()
            if name in HEADINGS:
                headings.pop()
        elif isinstance(child, NavigableString):
            if not isinstance(child, PreformattedString):
                parts.append(str(child))
        elif isinstance(child, Tag):
            tag = (child.name or "").lower()
            if tag in SKIP_TAGS:
                continue
            if tag == "br":
                parts.append(None)
            elif tag == "hr":
                flush()
                blocks.append(Block("hr", ""))
            else:
                if tag in BLOCK_TAGS:
                    flush()
                if tag in HEADINGS:
                    headings.append(tag)
                stack.append((iter(child.children), tag))
    flush()
    return blocks


def block_texts(root: Tag) -> list[str]:
    """The non-empty paragraph texts under ``root`` (``<hr>`` dropped)."""
    return [block.text for block in extract_blocks(root) if block.kind != "hr"]


def _paragraphs(parts: list[str | None]) -> list[str]:
    """Join text parts; one ``<br>`` is a newline, two or more split paragraphs."""
    joined = "".join("\n" if part is None else _SPACE.sub(" ", part) for part in parts)
    paragraphs: list[str] = []
    for chunk in _PARAGRAPH_BREAK.split(joined):
        lines = [line.strip() for line in chunk.split("\n")]
        text = "\n".join(line for line in lines if line)
        if text:
            paragraphs.append(text)
    return paragraphs
