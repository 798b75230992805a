"""forewarn's own words in a reading copy it wrote (``forewarn read``), kept out of the story.

A reading copy (``render/html.py``, ``render/epub.py``) holds the story and forewarn's page
furniture around it: a notice before each flagged scene ("Collapsed scene 1 of 2:
Miscarriage (depicted)", "Content note: the next scene contains ..."), the scene's
controls ("Skip to after this scene", "Show this scene"), the mark after it, and a
header (word count, how-to, byline, contents). Scanned again, that furniture would be
read as story text, and the notices name warnings. The renderers mark each piece with
``data-forewarn="notice"`` (scene notices and controls) or ``data-forewarn="page"`` (the
header and contents); copies written before the markers are recognised by their class
names.

Only a document that says forewarn generated it (``<meta name="generator"
content="forewarn ...">``) is looked at, and a marked element is dropped only when its
text is exactly what forewarn writes there: a story cannot hide its own text from the
scan by borrowing the marker. Dropped text goes to the coverage ledger as navigation.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

    from forewarn.coverage import Ledger

MARKER = "data-forewarn"
# class names forewarn's renderers give the same pieces (copies written before MARKER)
_OWN_CLASSES = frozenset({"scene-note", "skip", "after-scene", "skip-to-story", "facts",
                          "how-to", "reading-note", "not-checked", "byline", "contents"})
_SEVERITY = r"\((?:mentioned|depicted|graphic)\)"
_MAX_CHARS = 6_000  # a notice names at most every warning, each with a reader's alias
# a scene's warnings as a notice lists them: each a name or a reader's alias (a single
# line of at most 80 characters, profile.py) and its severity, at most one per warning;
# no sentence inside an item, so that a story cannot pass its own prose off as a list
_ITEM = rf"[^().!?;:<>\n]{{1,80}} {_SEVERITY}"
_LIST = rf"(?:{_ITEM}, ){{0,40}}{_ITEM}"
# why forewarn could not vouch for every word (coverage.gap's reasons)
_UNREAD = (r"(?:the work is in [^.<>]{1,120}|[\d,]+ (?:words|document\(s\))"
           r" [^<>]{1,300})")
# the header's count of scenes (render.html.collapsed_phrase), every wording it has
_COUNT = (r"(?:No scenes (?:collapsed|marked) for you|No scenes with a content warning"
          r"|\d+ scenes? (?:collapsed|marked) for you"
          r"|\d+ scenes? with a content warning (?:collapsed|marked))")
# every text forewarn writes in a marked element, whitespace collapsed; exactly, with no
# free text after forewarn's words (a story could pass its own sentences off as a tail)
_OWN_TEXTS = re.compile(
    "|".join((
        rf"Collapsed scene(?: \d+ of \d+)?: {_LIST}",
        rf"Content note: the next scene contains {_LIST}\. Skip to after this scene",
        r"Skip to after this scene",
        r"Skip to the story",
        r"Show this sceneHide this scene",
        r"\u2042(?:End of collapsed scene \d+\.)?",
        rf"[\d,]+ words · \d+ chapters? · {_COUNT}",
        r"Each collapsed scene has a note saying what it holds\. \u201cShow this scene\u201d "
        r"opens it; \u201cSkip to after this scene\u201d takes you to where the story goes on\.",
        r"A note before each marked scene says what it holds and links to where the story "
        r"goes on\.",
        r"forewarn did not check all of this work, so scenes may be left open that it would "
        rf"have collapsed: {_UNREAD}\.",
    )),
    re.S,
)


# a byline names people: a sentence in it (". " and a capital, "!", "?") is a story's text
_SENTENCE = re.compile(r"[a-z]{2,}[.!?]\s+[A-Z]|[!?]")


def is_reading_copy(soup: BeautifulSoup | Tag) -> bool:
    """True for a document forewarn generated (its ``generator`` meta says so)."""
    generator = soup.find("meta", attrs={"name": "generator"})
    if generator is None:
        return False
    content = generator.get("content")
    return isinstance(content, str) and content.split(" ", 1)[0] == "forewarn"


def drop_own_text(soup: BeautifulSoup | Tag, ledger: Ledger | None = None,
                  where: str = "") -> str | None:
    """Remove forewarn's notices and page furniture from a reading copy ``soup``.

    Does nothing to a document forewarn did not generate. Returns the author named in
    the copy's byline ("by ..."), or None. Removed text is entered in ``ledger`` as
    navigation (forewarn's words, not the story's).
    """
    if not is_reading_copy(soup):
        return None
    from bs4 import Tag

    author: str | None = None
    for section in soup.find_all("section", class_="strips"):
        if _is_own_strips(section):
            if ledger is not None:
                ledger.add(f"{where} forewarn's strips".strip(), section.get_text(" "),
                           "navigation", "forewarn's own strips in a reading copy")
            section.decompose()
    candidates = soup.find_all(
        lambda el: isinstance(el, Tag) and (
            el.has_attr(MARKER) or el.name == "summary" or bool(_OWN_CLASSES & _classes(el)))
    )
    for el in candidates:
        if el.decomposed:
            continue
        text = " ".join(el.get_text("").split())
        names = _classes(el)
        if el.name == "nav" and "contents" in names:
            if not _is_contents(el):
                continue
        elif "byline" in names and el.name == "p":
            if not text.startswith("by ") or len(text) > 200 or _SENTENCE.search(text):
                continue
            author = author or text[3:].strip() or None
        elif len(text) > _MAX_CHARS or not _OWN_TEXTS.fullmatch(text):
            continue
        if ledger is not None:
            notes = f"{where} forewarn's notes".strip()
            own, labels = _split_labels(text)
            ledger.add(notes, own, "navigation", "forewarn's own notices in a reading copy")
            if labels:  # a reader's alias or a story's words: forewarn cannot tell which
                ledger.add(notes, " ".join(labels), "content",
                           "names in forewarn's scene notices that are not warnings' names")
        el.decompose()
    return author


_NOTICE = re.compile(r"(Collapsed scene(?: \d+ of \d+)?: |Content note: the next scene "
                     r"contains )(.*?)(\. Skip to after this scene)?", re.S)
_LABEL = re.compile(rf"([^().!?;:<>\n]{{1,80}}) ({_SEVERITY})")


def _split_labels(text: str) -> tuple[str, list[str]]:
    """A notice's text as (forewarn's words, the labels in it that are no warning's name).

    A scene notice lists warnings by name, or by the reader's own alias for one (any line
    of up to 80 characters). Names are forewarn's words; an alias cannot be told from a
    story's own text made to look like one, so its words are not counted as read: a
    forged notice that hides a story's sentences leaves the work not fully read."""
    notice = _NOTICE.fullmatch(text)
    if notice is None:
        return text, []
    from forewarn.taxonomy import load_taxonomy

    names = {w.name for w in load_taxonomy()}
    own, others = [notice.group(1)], []
    for item in notice.group(2).split(", "):
        label = _LABEL.fullmatch(item)
        if label is not None and label.group(1) in names:
            own.append(item)
        elif label is not None:
            others.append(label.group(1))
            own.append(label.group(2))
        else:  # a label with ", " in it: all of it the reader's (or the story's) words
            others.append(item)
    own.append(notice.group(3) or "")
    return " ".join(own), others


def _is_own_strips(section: Tag) -> bool:
    """The copy's "Where the warnings sit" section (``render/strip.py``'s ``svg_block``):
    exactly its heading and key, then per warning its name, the drawing, the chapter
    numbers and the line in words that starts with that name. Any other text in it (a
    story borrowing the section) keeps the whole section in the story."""
    from bs4.element import NavigableString

    from forewarn.render.strip import legend_text

    heading = section.find(["h1", "h2", "h3", "h4", "h5", "h6"])
    key = section.find("p", class_="strips-key")
    if heading is None or heading.get_text(" ", strip=True) != "Where the warnings sit":
        return False
    if key is None or " ".join(key.get_text(" ").split()) != legend_text():
        return False
    allowed: set[int] = {id(heading), id(key)}
    for item in section.find_all("li", class_="strip"):
        name = item.find("p", class_="strip-name")
        words = item.find("p", class_="strip-text")
        if name is None or words is None:
            return False
        label = " ".join(name.get_text(" ").split())
        if not label or not " ".join(words.get_text(" ").split()).startswith(label + ":"):
            return False
        allowed.update({id(name), id(words)})
        allowed.update(id(el) for el in item.find_all("svg"))
        allowed.update(id(el) for el in item.find_all(class_="strip-scale"))
    for node in section.find_all(string=True):
        if not isinstance(node, NavigableString) or not node.strip():
            continue
        parent: Tag | None = node.parent
        while parent is not None and parent is not section and id(parent) not in allowed:
            parent = parent.parent
        if parent is section or parent is None:
            return False  # text outside forewarn's own pieces
        if "strip-scale" in _classes(parent) and not node.strip().isdigit():
            return False
    return True


def _classes(el: Tag) -> set[str]:
    value = el.get("class")
    if value is None:
        return set()
    return set(value.split() if isinstance(value, str) else value)


def _is_contents(nav: Tag) -> bool:
    """The reading copy's table of contents: links to its own chapters, a "Contents" heading."""
    links = nav.find_all("a")
    if not links or any(not str(a.get("href") or "").startswith("#chapter-") for a in links):
        return False
    from bs4.element import NavigableString

    rest = [
        str(node) for node in nav.find_all(string=True)
        if isinstance(node, NavigableString) and node.find_parent("a") is None
    ]
    return " ".join(" ".join(rest).split()) == "Contents"
