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

    from forewarn.coverage import Ledger

HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
BLOCK_TAGS = HEADINGS | frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "center", "dd",
        "details", "dialog", "div", "dl", "dt", "figcaption", "figure", "footer", "header",
        "hgroup", "html", "li", "main", "ol", "p", "pre", "section", "summary", "table",
        "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
# Never text a reader sees as prose: skipped without a word.
SKIP_TAGS = frozenset(
    {"base", "embed", "iframe", "input", "link", "meta", "object", "script", "style",
     "template", "title"}
)  # fmt: skip
# Text a reader sees but that is not story: form controls and formulas. Their words are
# entered in the coverage ledger (select/option as navigation, the rest as unread text).
ASIDE_TAGS = frozenset({"math", "option", "select", "textarea"})
# Interface containers: a short block without a sentence end inside one of them is a menu
# item or a label (navigation, entered in the ledger); anything else in them is read as
# story, since story text has been found in each. <svg> (its <text>) is always read.
INTERFACE_TAGS = frozenset({"button", "form", "nav", "noscript"})
_NAV_MAX_WORDS = 8
_SENTENCE_END = re.compile(r"[.!?…\"”’)]\s*$")


def is_navigation_text(text: str) -> bool:
    """A menu item or label: a few words and no sentence end."""
    return len(text.split()) <= _NAV_MAX_WORDS and not _SENTENCE_END.search(text)
_SPACE = re.compile(r"[\s\x00-\x1f\x7f]+")
# the start of a tag cut off at the end of a file, as HTML's tokenizer reads one: "<" then
# a letter, "/" and a letter, "!" or "?" (a comment or declaration), and no ">" after it
_CUT_TAG = re.compile(r"<(?:/?[A-Za-z]|[!?])[^>]*")
_PARAGRAPH_BREAK = re.compile(r"\n *\n")


@dataclass(frozen=True, slots=True)
class Block:
    """A block of text: ``kind`` is ``"p"``, a heading name (``"h2"``) or ``"hr"``."""

    kind: str
    text: str


#: Elements one document may hold. With its text, a parsed element costs about 2 kB by the
#: time the work is read (350,000 ``<i>`` elements: 711 MB), so this keeps one document
#: near 400 MB; a long novel in one HTML file holds a few tens of thousands (paragraphs
#: and emphasis), and an EPUB's limit is per chapter document.
MAX_ELEMENTS = 200_000
_ELEMENT = re.compile(r"<[A-Za-z]")


def parse_soup(markup: str, source: str = "") -> BeautifulSoup:
    """Parse (X)HTML leniently with ``html.parser``.

    Raises :class:`~forewarn.errors.InputTooLarge` for a document of more than
    :data:`MAX_ELEMENTS` elements (``source`` names it in the message)."""
    from bs4 import BeautifulSoup

    from forewarn.errors import InputTooLarge

    elements = sum(1 for _ in _ELEMENT.finditer(markup))
    if elements > MAX_ELEMENTS:
        name = f"{source}: " if source else ""
        raise InputTooLarge(f"{name}too many HTML elements ({elements:,}; forewarn reads at "
                            f"most {MAX_ELEMENTS:,} in one document)")

    # A file cut off inside a tag ("...</sp", "<p class=") would leave the fragment as
    # text: drop it, as a browser does (a tag still open at the end of the file is never
    # shown). Only a tag's start is one: a "<" before a space or a digit ("I love you
    # <3", "level < 3") is text to a browser, and stays.
    cut = markup.rfind("<")
    if cut > markup.rfind(">") and _CUT_TAG.fullmatch(markup, cut):
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


def extract_blocks(root: Tag, ledger: Ledger | None = None, where: str = "") -> list[Block]:
    """Text blocks under ``root`` in document order.

    Block-level elements (``p``, ``div``, headings, list items...) each give a block;
    ``<br>`` is a line break and two of them in a row a paragraph break; ``<hr>`` gives an
    ``"hr"`` block; an image's alternative text, when it is more than a label, is a
    paragraph; scripts and styles are skipped, and the text of form controls and
    formulas goes to ``ledger`` (when given) as text not read. CDATA sections are text.
    Whitespace inside a block is collapsed. The walk is iterative, so deeply nested
    markup cannot overflow the stack.
    """
    from bs4.element import CData, NavigableString, PreformattedString, Tag

    blocks: list[Block] = []
    parts: list[str | None] = []  # None marks a <br>
    headings: list[str] = []

    interface = 0  # open interface containers

    def flush() -> None:
        if parts:
            kind = headings[-1] if headings else "p"
            for text in _paragraphs(parts):
                if interface and is_navigation_text(text):
                    if ledger is not None:
                        ledger.add(f"{where} menu".strip(), text, "navigation", "navigation")
                    continue
                blocks.append(Block(kind, text))
            parts.clear()

    stack: list[tuple[Iterator[object], str]] = [(iter(root.children), "")]
    while stack:
        children, name = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            if name in BLOCK_TAGS or name in INTERFACE_TAGS:
                flush()
            if name in INTERFACE_TAGS:
                interface -= 1
            if name in HEADINGS:
                headings.pop()
        elif isinstance(child, NavigableString):
            if not isinstance(child, PreformattedString) or isinstance(child, CData):
                parts.append(str(child))
        elif isinstance(child, Tag):
            tag = (child.name or "").lower()
            if tag in SKIP_TAGS and not (tag == "template" and is_shadow_root(child)):
                continue
            if tag in ASIDE_TAGS:
                if ledger is not None:
                    audit_aside(child, ledger, where)
                continue
            if tag == "img":
                # an image's alternative text is what a screen reader reads, and what shows
                # when the image does not: a description ("a girl weeping at a grave") is
                # read as its own paragraph; a label ("cover", "ornament") is not story
                alt = child.get("alt")
                alt = " ".join(alt.split()) if isinstance(alt, str) else ""
                if alt and not is_navigation_text(alt):
                    flush()
                    blocks.append(Block("p", alt))
                continue
            if tag == "br":
                parts.append(None)
            elif tag == "hr":
                flush()
                blocks.append(Block("hr", ""))
            else:
                if tag in BLOCK_TAGS or tag in INTERFACE_TAGS:
                    flush()
                if tag in INTERFACE_TAGS:
                    interface += 1
                if tag in HEADINGS:
                    headings.append(tag)
                stack.append((iter(child.children), tag))
    flush()
    return blocks


def audit_aside(el: Tag, ledger: Ledger, where: str = "") -> None:
    """Enter a form control's or formula's text in ``ledger``: a menu's options one by one,
    each navigation when it is a few words with no sentence end (a chapter picker), text
    not read otherwise; a text area's or formula's text, not read."""
    name = (el.name or "").lower()
    if name in ("select", "option"):
        options = [el] if name == "option" else el.find_all("option")
        for option in options:
            text = " ".join(option.get_text(" ").split())
            if text:
                kind = "navigation" if is_navigation_text(text) else "content"
                ledger.add(f"{where}<option>".lstrip(), text, kind, "<option> not read")
        return
    ledger.add(f"{where}<{name}>".lstrip(), el.get_text(" "), "content", f"<{name}> not read")


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


# text no reader shows, and form controls (extract_blocks enters those in the ledger)
_UNSEEN = frozenset({"script", "style", "title", "template", "head"}) | ASIDE_TAGS
# where the reader's own joining puts a space: block boundaries, line breaks, cells
_BREAKS = BLOCK_TAGS | INTERFACE_TAGS | frozenset({"br", "hr"})


def is_shadow_root(tag: Tag) -> bool:
    """A ``<template shadowrootmode=...>``: declarative shadow DOM, which browsers render."""
    return tag.has_attr("shadowrootmode") or tag.has_attr("shadowroot")


def visible_text(root: Tag, skip: frozenset[int] = frozenset()) -> str:
    """Every text a person would see under ``root`` (scripts, styles, comments aside):
    what the coverage audit holds a reader's output against.

    Inline text is joined as the reader joins it (``<span>T</span>he`` is "The", as a
    drop cap shows it) and block boundaries become spaces. ``skip`` holds the ``id()`` of
    elements left out with everything under them (regions audited apart). One iterative
    walk over the tree: linear in its size however deep it nests."""
    from bs4.element import CData, NavigableString, PreformattedString, Tag

    out: list[str] = []
    stack: list[Iterator[object]] = [iter(root.children)]
    names: list[str] = []
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
            if names and names.pop() in _BREAKS:
                out.append(" ")
            continue
        if isinstance(child, Tag):
            name = (child.name or "").lower()
            if id(child) in skip or (name in _UNSEEN and not (
                    name == "template" and is_shadow_root(child))):
                continue
            if name in _BREAKS:
                out.append(" ")
            names.append(name)
            stack.append(iter(child.children))
        elif isinstance(child, NavigableString):
            if isinstance(child, PreformattedString) and not isinstance(child, CData):
                continue
            out.append(str(child))
    return "".join(out)


def audit_unrendered(root: Tag, ledger: Ledger, where: str = "") -> None:
    """Enter in ``ledger`` the text a browser shows outside the text nodes a reader walks:
    a text field's value, an image's alternative text, an ``<iframe srcdoc>`` document.
    A few words with no sentence end (a button's "Submit", an image's "cover") count as
    navigation; anything longer is text the reader had to read (:func:`extract_blocks`
    reads an image's description as a paragraph; a field's value and a ``srcdoc`` it
    does not), so a work that hides prose there is not fully read."""
    for tag in root.find_all(["input", "img", "iframe"]):
        name = tag.name
        if name == "iframe":
            inner = tag.get("srcdoc")
            text = visible_text(parse_soup(inner)) if isinstance(inner, str) else ""
            label = "<iframe srcdoc>"
        else:
            attr = "alt" if name == "img" else "value"
            value = tag.get(attr)
            text = value if isinstance(value, str) else ""
            if name == "input" and str(tag.get("type") or "text").lower() == "hidden":
                continue
            label = f"<{name} {attr}>"
        text = " ".join(text.split())
        if not text:
            continue
        kind = "navigation" if is_navigation_text(text) else "content"
        ledger.add(f"{where}{label}".lstrip(), text, kind, f"{label} not read")
