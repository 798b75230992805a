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
# Never text a reader sees as prose: skipped without a word. (An <iframe>'s, <embed>'s or
# <frame>'s document is not the page's: :func:`audit_unrendered` records it as one that
# could not be read. An <object>'s children are its fallback, shown when its document does
# not load, and are read.)
SKIP_TAGS = frozenset(
    {"base", "embed", "frame", "frameset", "iframe", "input", "link", "meta", "script",
     "style", "template", "title"}
)  # fmt: skip
# Text a reader sees but that is not story: form controls and formulas. Their words are
# entered in the coverage ledger (select/option as navigation, the rest as unread text).
ASIDE_TAGS = frozenset({"math", "option", "select", "textarea"})
# Interface containers: inside one of them, a menu item (a short block all of whose text
# is a link's, a button's or a form label's) or a short heading ("Contents") is
# navigation, entered in the ledger; anything else in them is read as story, since story
# text has been found in each. <svg> (its <text>) is always read.
INTERFACE_TAGS = frozenset({"button", "form", "nav", "noscript"})
# what a menu is made of: text inside one of these is a control's, not prose
CONTROL_TAGS = frozenset({"a", "button", "label", "legend", "summary"})
_NAV_MAX_WORDS = 8
# A label shown outside the text (an image's "cover", a button's "Post Comment", a field's
# "Search"): no more words than the audit lets go unread anyway, so a line of story
# without final punctuation ("I am going to kill myself tonight") is never one.
_LABEL_MAX_WORDS = 3
_SENTENCE_END = re.compile(r"[.!?…\"”’)]\s*$")


def is_navigation_text(text: str) -> bool:
    """A menu item or label: a few words and no sentence end."""
    return len(text.split()) <= _NAV_MAX_WORDS and not _SENTENCE_END.search(text)


def is_label(text: str) -> bool:
    """A label with no link or menu around it to vouch for it: at most three words and
    no sentence end."""
    return len(text.split()) <= _LABEL_MAX_WORDS and not _SENTENCE_END.search(text)
_SPACE = re.compile(r"[\s\x00-\x1f\x7f]+")
_WORD = re.compile(r"\w")
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


def extract_blocks(root: Tag, ledger: Ledger | None = None, where: str = "",
                   skip: frozenset[int] = frozenset()) -> list[Block]:
    """Text blocks under ``root`` in document order.

    Block-level elements (``p``, ``div``, headings, list items...) each give a block;
    ``<br>`` is a line break and two of them in a row a paragraph break; ``<hr>`` gives an
    ``"hr"`` block; an image's alternative text, when it is more than a label, is a
    paragraph; scripts and styles are skipped, and the text of form controls and
    formulas goes to ``ledger`` (when given) as text not read. Inside a menu, a form or
    a button, a short block that is all links or buttons, or a short heading, is
    navigation (entered in ``ledger``). CDATA sections are text. ``skip`` holds the
    ``id()`` of elements left out with everything under them. Whitespace inside a block
    is collapsed. The walk is iterative, so deeply nested markup cannot overflow the stack.
    """
    from bs4.element import CData, NavigableString, PreformattedString, Tag

    blocks: list[Block] = []
    parts: list[str | None] = []  # None marks a <br>
    headings: list[str] = []

    interface = 0  # open interface containers
    controls = 0  # open links, buttons, labels
    prose = False  # the pending parts hold text outside any control
    links = 0  # open links
    unlinked = False  # the pending parts hold a control's words outside any link

    def flush() -> None:
        nonlocal prose, unlinked
        if parts:
            kind = headings[-1] if headings else "p"
            for text in _paragraphs(parts):
                # a menu item is a control's text; of what is not, only a short heading
                # ("Contents", "Chapters") is: a line of story in a <form> or <noscript>
                # has no final punctuation as often as a menu item has none
                # A link's text up to 8 words is a menu item ("Chapter 3: The Long Night");
                # a button's, label's or legend's only as a label: "I am going to kill
                # myself tonight" in a <button> is a line of story (interactive fiction)
                menu = (not prose and is_navigation_text(text)
                        and (not unlinked or is_label(text))) or (
                    kind in HEADINGS and is_label(text))
                if interface and menu:
                    if ledger is not None:
                        ledger.add(f"{where} menu".strip(), text, "navigation", "navigation")
                    continue
                blocks.append(Block(kind, text))
            parts.clear()
        prose = False
        unlinked = False

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
            if name in CONTROL_TAGS:
                controls -= 1
            if name == "a":
                links -= 1
            if name in HEADINGS:
                headings.pop()
        elif isinstance(child, NavigableString):
            if not isinstance(child, PreformattedString) or isinstance(child, CData):
                parts.append(str(child))
                if not controls and _WORD.search(child):  # not a "|" between links
                    prose = True
                elif controls and not links and _WORD.search(child):
                    unlinked = True
        elif isinstance(child, Tag):
            tag = (child.name or "").lower()
            if id(child) in skip:
                continue
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
                if alt and not is_label(alt):
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
                if tag in CONTROL_TAGS:
                    controls += 1
                if tag == "a":
                    links += 1
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


def audit_unrendered(root: Tag, ledger: Ledger, where: str = "", *,
                     styles: Tag | None = None) -> None:
    """Enter in ``ledger`` the text a browser shows outside the text nodes a reader walks:
    a text field's value or placeholder, an image's alternative text, a tooltip (``title``),
    an ``<iframe srcdoc>`` document and text a stylesheet adds (:func:`generated_text`).
    A label (a button's "Submit", an image's "cover", a field's "Search": three words at
    most, no sentence end) counts as navigation; anything longer is text the reader had to
    read (:func:`extract_blocks` reads an image's description as a paragraph; the rest it
    does not), so a work that hides prose there is not fully read. A document shown from
    elsewhere (:func:`embedded_documents`) is one that could not be read. Stylesheets
    are looked for under ``styles`` (by default ``root``: a saved page's ``<style>`` in
    the ``<head>`` applies to the part of it audited)."""
    for tag in root.find_all(True):
        name = (tag.name or "").lower()
        for label, text in _unrendered(tag, name):
            text = " ".join(text.split())
            if text:
                kind = "navigation" if is_label(text) else "content"
                ledger.add(f"{where}{label}".lstrip(), text, kind, f"{label} not read")
    for label in embedded_documents(root):
        ledger.missing.append(f"{where} {label}".lstrip())
    for text in generated_text(root if styles is None else styles):
        ledger.add(f"{where} stylesheet".lstrip(), text, "content",
                   "text added by a stylesheet (CSS content) not read")


# tooltips no one sees: a stylesheet's or a link's title names it for the browser, an
# abbreviation's title spells it out (the words are the ones shown)
_NO_TOOLTIP = frozenset({"abbr", "acronym", "head", "html", "link", "meta", "style", "title"})


def _unrendered(tag: Tag, name: str) -> Iterator[tuple[str, str]]:
    """``(label, text)`` for each text ``tag`` shows outside its text nodes."""
    if name == "iframe":
        inner = tag.get("srcdoc")
        if isinstance(inner, str):
            yield "<iframe srcdoc>", visible_text(parse_soup(inner))
    elif name == "img":
        yield "<img alt>", _attr(tag, "alt")
    elif name in ("input", "textarea"):
        kind = str(tag.get("type") or "text").lower()
        if name == "input" and kind == "hidden":
            return
        if name == "input":
            yield "<input value>", _attr(tag, "value")
        # shown, greyed, while the field is empty (a text area's text is its value)
        empty = not _attr(tag, "value") if name == "input" else not tag.get_text().strip()
        if empty:
            yield f"<{name} placeholder>", _attr(tag, "placeholder")
    if name not in _NO_TOOLTIP:
        yield "tooltip (title)", _attr(tag, "title")


def _attr(tag: Tag, name: str) -> str:
    value = tag.get(name)
    return value if isinstance(value, str) else ""


# what a browser shows in the page from another document; an image does not hold text
# a person reads as story (an <img> is never opened either)
_EMBEDS = {"iframe": "src", "frame": "src", "embed": "src", "object": "data"}
_IMAGE = re.compile(r"(?:data:image/(?!svg)|[^?#]*\.(?:png|jpe?g|gif|webp|avif|bmp|ico)(?:[?#]|$))",
                    re.IGNORECASE)


def embedded_documents(root: Tag) -> list[str]:
    """The documents a browser would show inside the page (``<iframe src>``, ``<frame
    src>``, ``<embed src>``, ``<object data>``), named for the report. forewarn never
    fetches anything, so each is a document that could not be read. An ``<iframe
    srcdoc>`` is the page's own (audited as such), and an image shows no story text."""
    found: list[str] = []
    for tag in root.find_all(list(_EMBEDS)):
        name = (tag.name or "").lower()
        if name == "iframe" and tag.has_attr("srcdoc"):
            continue
        target = _attr(tag, _EMBEDS[name]).strip()
        kind = _attr(tag, "type").lower()
        if not target or target == "about:blank" or _IMAGE.match(target) or (
                kind.startswith("image/") and "svg" not in kind):
            continue
        # a data: URL would put the document itself in the report: name its type only
        shown = target.split(",", 1)[0] if target[:5].lower() == "data:" else target
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        found.append(f"<{name} {_EMBEDS[name]}={shown}>")
    return found


# CSS: comments; a "content" (::before/::after) or "list-style(-type)" declaration; in its
# value, a string or attr(name)
_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|$)", re.DOTALL)
_CSS_STRING = r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\''
_CSS_GENERATED = re.compile(
    rf"(?<![\w-])(?:content|list-style(?:-type)?)\s*:((?:{_CSS_STRING}|[^;}}\"'])*)",
    re.IGNORECASE)
_CSS_VALUE = re.compile(rf"({_CSS_STRING})|attr\(\s*([\w-]+)", re.IGNORECASE)
_CSS_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})\s?|(.))", re.DOTALL)


def generated_text(root: Tag) -> list[str]:
    """The text stylesheets under ``root`` (``<style>`` elements, ``style`` attributes)
    add to the page: the strings of ``content`` and ``list-style`` declarations, and for
    ``content: attr(x)`` the ``x`` attribute of every element that has one. Which
    elements a rule applies to is not worked out: forewarn does not read this text, and
    the coverage audit counts its words as not read."""
    sheets = [el.get_text() for el in root.find_all("style")]
    sheets += [_attr(el, "style") for el in root.find_all(style=True)]
    found: list[str] = []
    for sheet in sheets:
        found += stylesheet_text(sheet, root)
    return found


def stylesheet_text(sheet: str, root: Tag | None = None) -> list[str]:
    """The text the stylesheet ``sheet`` adds (see :func:`generated_text`); ``content:
    attr(x)`` reads the ``x`` attributes of the elements under ``root`` (none without)."""
    found: list[str] = []
    for declaration in _CSS_GENERATED.finditer(_CSS_COMMENT.sub("", sheet)):
        for string, attribute in _CSS_VALUE.findall(declaration.group(1)):
            if string:
                found.append(_CSS_ESCAPE.sub(_css_unescape, string[1:-1]))
            elif root is not None:
                found += [_attr(el, attribute)
                          for el in root.find_all(True, attrs={attribute: True})]
    return [text for text in found if text.strip()]


def _css_unescape(match: re.Match[str]) -> str:
    code, char = match.groups()
    if code is None:
        return char
    value = int(code, 16)
    return chr(value) if 0 < value <= 0x10FFFF and not 0xD800 <= value <= 0xDFFF else "\ufffd"
