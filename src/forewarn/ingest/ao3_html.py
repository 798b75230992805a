"""HTML reader: AO3's download format, and generic story HTML.

AO3 downloads (``app/views/downloads/`` in otwcode/otwarchive) look like::

    <div id="preface">
      <p class="message"><b>Title</b> ...</p>
      <div class="meta">
        <dl class="tags"><dt>Rating:</dt><dd><a>Mature</a></dd> ...</dl>
        <h1>Title</h1>
        <div class="byline">by <a>author</a></div>
        <p>Summary</p><blockquote class="userstuff">...</blockquote>
        <p>Notes</p><blockquote class="userstuff">...</blockquote>
      </div>
    </div>
    <div id="chapters" class="userstuff">
      <div class="meta group"><h2 class="heading">Chapter 1: ...</h2>
        <p>Chapter Notes</p><blockquote class="userstuff">...</blockquote></div>
      <div class="userstuff">...chapter text...</div>
      <div class="meta" id="endnotes1">...</div>
      ...
    </div>
    <div id="afterword"><div id="endnotes"><blockquote class="userstuff">...</div></div>

A one-shot has a single ``<div class="userstuff">`` in ``#chapters`` and no headings.
Work, chapter and end notes go to ``Work.notes``; chapter text is story text, and so is
any text of the preface and afterword that is neither metadata nor AO3's own words (a
"Preface" heading, the "Posted originally on..." message, labels): read before the first
chapter and after the last. ``Work.source_text`` is the chapter texts joined by blank lines.

The coverage audit holds the reader to everything a person would see in the document
(for a work page saved from the browser, in its ``#workskin``), AO3's own words counting
as navigation: so text the reader missed anywhere makes the work not fully read.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from forewarn.coverage import Ledger, audit
from forewarn.errors import EmptyInput
from forewarn.ingest._common import (
    Meta,
    assemble,
    clean_title,
    field_for,
    is_chapter_heading,
    is_scene_break,
    looks_like_stats,
    split_list,
)
from forewarn.ingest._html import (
    ASIDE_TAGS,
    Block,
    audit_aside,
    audit_unrendered,
    block_texts,
    classes,
    extract_blocks,
    inline_text,
    is_label,
    parse_soup,
    tag_children,
    visible_text,
)
from forewarn.ingest._reading_copy import drop_own_text
from forewarn.work import Work

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

RawChapter = tuple[str | None, list[str]]
_SPLIT_HEADINGS = ("h1", "h2", "h3")


@dataclass
class Extracted:
    """What one HTML document yields: metadata and ``(title, paragraphs)`` chapters."""

    meta: Meta = field(default_factory=Meta)
    chapters: list[RawChapter] = field(default_factory=list)


def parse_html(text: str, source: str = "<html>", *, encoding: str | None = None) -> Work:
    """Parse decoded HTML into a :class:`Work` (format ``"ao3-html"`` or ``"html"``)."""
    soup = parse_soup(text, source)
    ledger = Ledger()
    # a reading copy forewarn wrote: its scene notices and header are not the story
    copy_author = drop_own_text(soup, ledger, "html")
    workskin = soup.find(id="workskin")
    if workskin is not None:
        found, fmt = extract_ao3_page(workskin), "ao3-html"
        _audit_ao3(workskin, ledger)
    elif is_ao3(soup):
        found, fmt = extract_ao3(soup), "ao3-html"
        _audit_ao3(soup, ledger)
    else:
        found, fmt = extract_generic(soup, ledger), "html"
        ledger.add("html", visible_text(soup))
    # what a browser shows outside the text nodes: field values, tooltips, a stylesheet's
    # text (a <style> in the <head> applies to a saved work page's #workskin too)
    audit_unrendered(soup if workskin is None else workskin, ledger, styles=soup)
    found.meta.author = found.meta.author or copy_author
    chapters, source_text = assemble(found.chapters)
    if not chapters:
        raise EmptyInput(f"{source}: no story text")
    work = Work(
        chapters,
        **found.meta.work_fields(),
        source=source,
        format=fmt,
        source_text=source_text,
        encoding=encoding,
    )
    # held against everything a person would see (a saved work page: in its #workskin,
    # the site's navigation, comments and kudos being no part of the work)
    work.coverage = audit(work, ledger)
    return work


def _audit_ao3(root: BeautifulSoup | Tag, ledger: Ledger) -> None:
    """Enter an AO3 document (or a saved work page's ``#workskin``) in the coverage
    ledger: everything a person would see in it, and AO3's own words (:func:`ao3_words`)
    as navigation. Title, tags, summary and notes are accounted for by the metadata the
    reader took from them, story text by the chapters; so text the reader missed anywhere
    (a second ``#chapters``, a paragraph in the preface, an epilogue in a ``div`` of its
    own, a word loose among the tag links) is text not read."""
    ledger.add("html", visible_text(root))
    for el in ao3_words(root):
        ledger.add("html AO3", inline_text(el), "navigation", "AO3's own words")
    for el in root.find_all(list(ASIDE_TAGS)):
        if el.find_parent(list(ASIDE_TAGS)) is None:  # else its container's entry has it
            audit_aside(el, ledger)


# AO3's own sentences around a work: the download's "Posted originally on the Archive of
# Our Own at <url>." (after the title in bold) and "Please drop by the Archive and comment
# to let the creator know if you enjoyed their work!", its link to the end notes, and a
# work page's "(See the end of the chapter for more notes.)". Matched whole, so that a
# sentence of story given one of these classes is read.
_AO3_MESSAGE = re.compile(
    r"(?:.{0,400}\s)?Posted originally on the [^.]{1,60}(?: at \S{1,300})?\.?"
    r"|Please .{1,60} to let the (?:creators?|authors?) know if you enjoyed their work!?",
    re.IGNORECASE | re.DOTALL)
_AO3_NOTES_LINK = re.compile(r"\(?See the end of the (?:work|chapter) for (?:more )?notes\.?\)?",
                             re.IGNORECASE)


def ao3_words(root: BeautifulSoup | Tag) -> list[Tag]:
    """The elements under ``root`` that hold AO3's own words, neither story nor the
    author's metadata: the download's "Preface"/"Afterword" headings, its messages, the
    "by" of a byline, the labels before the summary and notes, the tag list's labels and
    stats, and a work page's module headings ("Summary:", "Notes:") and links to the end
    notes."""
    found: list[Tag] = []
    for el in root.find_all(["h2", "h3", "p", "div", "dt", "dd"]):
        names = classes(el)
        text = inline_text(el)
        if "byline" in names:  # "by" and the author links (the author read as metadata)
            own = not _loose_words(el, "by", "and")
        elif el.name in ("h2", "h3"):
            own = ("toc-heading" in names or ("heading" in names and el.find_parent(
                class_="module") is not None)) and is_label(text)
        elif el.name == "p" and "message" in names:
            own = _AO3_MESSAGE.fullmatch(text) is not None
        elif el.name in ("p", "div") and ("endnote-link" in names or "jump" in names):
            own = _AO3_NOTES_LINK.fullmatch(text) is not None
        elif el.name == "p":
            own = _is_quote_label(el)
        elif el.name == "dt":
            own = field_for(text) is not None
        else:  # a "Stats:" value: dates and counts
            own = _is_stats(el)
        if own:
            found.append(el)
    return found


def _is_quote_label(p: Tag) -> bool:
    """A ``<p>Summary</p>``-style label just before a blockquote (AO3's download)."""
    after = next((s for s in p.next_siblings if getattr(s, "name", None) or str(s).strip()),
                 None)
    return getattr(after, "name", None) == "blockquote" and is_label(inline_text(p))


def _is_stats(dd: Tag) -> bool:
    dt = dd.find_previous_sibling(["dt", "dd"])
    return (dt is not None and dt.name == "dt" and field_for(inline_text(dt)) == "ignore"
            and looks_like_stats(inline_text(dd)))


# --- AO3 ------------------------------------------------------------------------------------


def is_ao3(soup: BeautifulSoup | Tag, *, known: bool = False) -> bool:
    """True for a document with AO3's download structure (or part of it, in an EPUB).

    ``known`` says the book is already known to come from AO3, so a bare
    ``<div id="chapters">`` (class names renamed by a converter) is enough.
    """
    chapters = soup.find("div", id="chapters")
    if chapters is None:
        return False
    # ids such as "chapters", "preface" or "afterword" are any book's: it takes what only
    # AO3 writes, its class for the author's text, its tag list or one of its messages
    return bool(
        known
        or "userstuff" in classes(chapters)
        or soup.find("dl", class_="tags")
        or any(_AO3_MESSAGE.fullmatch(inline_text(p))
               for p in soup.find_all("p", class_="message"))
    )


def extract_ao3(soup: BeautifulSoup | Tag) -> Extracted:
    """Metadata, notes and chapters of an AO3 download document.

    Text of the preface and afterword that is neither metadata (tags, title, byline,
    summary and notes) nor AO3's own words (:func:`ao3_words`) is read as story: the
    preface's before the first chapter, the afterword's after the last."""
    found = Extracted()
    chapters = soup.find(id="chapters")
    preface, afterword = (_region(soup, name, chapters) for name in ("preface", "afterword"))
    used: list[Tag] = []  # what was read as metadata
    if preface is not None:
        used += read_preface(preface, found.meta)
    else:
        tags = soup.find("dl", class_="tags")
        if tags is not None:
            used += read_tags(tags, found.meta)
    if chapters is not None:
        found.chapters = _ao3_chapters(chapters, found.meta)
    if afterword is not None:
        for quote in _quotes(afterword):
            _add_note(found.meta, "End Notes", quote)
            used.append(quote)
    for region, at in ((preface, 0), (afterword, len(found.chapters))):
        if region is not None:
            skip = frozenset(id(el) for el in used + ao3_words(region))
            rest = [b.text for b in extract_blocks(region, skip=skip) if b.kind != "hr"]
            if rest:
                found.chapters.insert(at, (None, rest))
    return found


def _region(soup: BeautifulSoup | Tag, name: str, chapters: Tag | None) -> Tag | None:
    """AO3's ``#preface`` or ``#afterword``, unless it sits in ``#chapters`` (read there)."""
    el = soup.find(id=name)
    if el is None or (chapters is not None and any(p is chapters for p in el.parents)):
        return None
    return el


def read_preface(preface: Tag, meta: Meta) -> list[Tag]:
    """Title, author, tags, summary and notes from AO3's ``#preface``; returns the
    elements read (so that the rest of the preface can be read as story)."""
    used: list[Tag] = []
    tags = preface.find("dl", class_="tags") or preface.find("dl")
    if tags is not None:
        used += read_tags(tags, meta)
    heading = preface.find("h1")
    if heading is None:
        message = preface.find("p", class_="message")
        heading = message.find("b") if message is not None else None
    if heading is not None:
        meta.title = meta.title or clean_title(inline_text(heading))
        used.append(heading)
    byline = preface.find(class_="byline")
    if byline is not None:
        authors = [inline_text(a) for a in byline.find_all("a")]
        author = ", ".join(a for a in authors if a) or inline_text(byline)
        if _loose_words(byline, "by", "and"):  # not only links: the byline as written
            author = inline_text(byline)
        meta.author = meta.author or clean_title(_strip_by(author))
        used.append(byline)
    for quote in _quotes(preface):
        label = _label_of(quote)
        if label.lower().startswith("summary"):
            meta.add_to("summary", "\n\n".join(block_texts(quote)))
        else:
            text = "\n\n".join(block_texts(quote))
            if text:
                meta.notes.append(text)
        used.append(quote)
    return used


def read_tags(dl: Tag, meta: Meta) -> list[Tag]:
    """``<dt>Label:</dt><dd><a>tag</a>, <a>tag</a></dd>`` pairs into ``meta``; returns the
    ``dt`` and ``dd`` elements read. A label forewarn does not know, and a value of a key
    it ignores that is not a date or a count (``Stats:``), is not read."""
    used: list[Tag] = []
    for dt in dl.find_all("dt"):
        target = field_for(inline_text(dt))
        dd = dt.find_next_sibling(["dd", "dt"])
        if target is None or dd is None or dd.name != "dd":
            continue
        used.append(dt)
        if target == "ignore" and not looks_like_stats(inline_text(dd)):
            continue
        links = [inline_text(a) for a in dd.find_all("a")]
        # the links are the tags; words between them other than commas ("Part 2 of" a
        # series, or anything else) make the value read as written
        values = [v for v in links if v] if links and not _loose_words(dd) else []
        meta.add_to(target, values or split_list(inline_text(dd)))
        used.append(dd)
    return used


def _loose_words(el: Tag, *allowed: str) -> bool:
    """Whether ``el`` has words outside its links (``allowed`` ones aside)."""
    from bs4.element import NavigableString

    loose = " ".join(str(t) for t in el.find_all(string=True)
                     if isinstance(t, NavigableString) and t.find_parent("a") is None)
    return any(w.casefold() not in allowed for w in re.findall(r"\w+", loose))


def _ao3_chapters(container: Tag, meta: Meta) -> list[RawChapter]:
    for label in container.find_all(class_="toc-heading"):
        label.decompose()
    children = [(child, _chapter_part(child)) for child in tag_children(container)]
    if not any(part == "meta" for _, part in children):
        return [(None, block_texts(container))]
    chapters: list[RawChapter] = []
    title: str | None = None  # of the chapter being read
    pending = False  # a heading was read and its text is still to come
    for child, part in children:
        if part == "endnotes":
            for quote in _quotes(child):
                _add_note(meta, _label_of(quote) or "Chapter End Notes", quote, title)
        elif part == "meta":
            heading = child.find(["h2", "h3"])
            title = clean_title(inline_text(heading)) if heading is not None else None
            pending = True
            for quote in _quotes(child):
                _add_note(meta, _label_of(quote) or "Chapter Notes", quote, title)
        elif part == "content":
            chapters.append((title if pending else None, block_texts(child)))
            pending = False
    return chapters


def _chapter_part(tag: Tag) -> str:
    """What a child of ``#chapters`` is: ``meta`` (heading, notes), ``content``, ``endnotes``.

    Class names are checked first; ebook converters that rename classes keep the
    structure, so a div led by an ``<h2>`` with few paragraphs also counts as ``meta``.
    """
    if str(tag.get("id") or "").startswith("endnotes"):
        return "endnotes"
    names = classes(tag)
    if "userstuff" in names:
        return "content"
    if "meta" in names and tag.find(class_="heading") is not None:
        return "meta"
    first = next(tag_children(tag), None)
    if first is not None and first.name == "h2" and len(tag.find_all("p", recursive=False)) <= 3:
        return "meta"
    return "content" if tag.name == "div" else "other"


# --- AO3 work page saved from a browser ------------------------------------------------------


def extract_ao3_page(workskin: Tag) -> Extracted:
    """A work page as shown on AO3 (``#workskin``), saved from the browser.

    Tags come from the ``dl.work.meta`` list before the work skin; chapters are
    ``#chapters > div.chapter`` (``h3.title``, ``div.userstuff``), or a single
    ``div.userstuff`` for a one-shot. Site navigation, comments and kudos are outside
    ``#workskin`` and never read. Any other text in ``#workskin`` (a related work's note,
    an afterword of the author's own making) is read as story after the chapters.
    """
    found = Extracted()
    tags = workskin.find_previous("dl", class_="work") or workskin.find("dl", class_="work")
    if tags is not None:
        read_tags(tags, found.meta)
    used: list[Tag] = []  # what was read as metadata or chapters
    preface = workskin.find("div", class_="preface")
    if preface is not None:
        used += _read_page_preface(preface, found.meta)
    chapters = workskin.find(id="chapters")
    if chapters is not None:
        found.chapters = _page_chapters(chapters, found.meta)
        used.append(chapters)
    endnotes = workskin.find(id="work_endnotes")
    if endnotes is not None:
        for quote in _quotes(endnotes):
            _add_note(found.meta, "End Notes", quote)
            used.append(quote)
    skip = frozenset(id(el) for el in used + ao3_words(workskin))
    rest = [b.text for b in extract_blocks(workskin, skip=skip) if b.kind != "hr"]
    if rest:
        found.chapters.append((None, rest))
    return found


def _read_page_preface(preface: Tag, meta: Meta) -> list[Tag]:
    """Title, author, summary and notes of a work page; returns the elements read."""
    used: list[Tag] = []
    title = preface.find(class_="title")
    if title is not None:
        meta.title = meta.title or clean_title(inline_text(title))
        used.append(title)
    byline = preface.find(class_="byline")
    if byline is not None:
        authors = [inline_text(a) for a in byline.find_all("a")]
        if _loose_words(byline, "by", "and"):
            authors = [inline_text(byline)]
        meta.author = meta.author or clean_title(", ".join(authors) or inline_text(byline))
        used.append(byline)
    summary = preface.find(class_="summary")
    if summary is not None:
        quotes = _quotes(summary)
        meta.add_to("summary", "\n\n".join(t for q in quotes for t in block_texts(q)))
        used += quotes
    notes = preface.find(class_="notes")
    if notes is not None:
        for quote in _quotes(notes):
            text = "\n\n".join(block_texts(quote))
            if text:
                meta.notes.append(text)
            used.append(quote)
    return used


def _page_chapters(container: Tag, meta: Meta) -> list[RawChapter]:
    for landmark in container.find_all(class_="landmark"):
        landmark.decompose()  # "Chapter Text" / "Work Text:" labels for screen readers
    chapter_divs = [c for c in tag_children(container) if "chapter" in classes(c)]
    if not chapter_divs:
        return [(None, block_texts(container))]
    chapters: list[RawChapter] = []
    for div in chapter_divs:
        heading = div.find("h3", class_="title")
        title = clean_title(inline_text(heading)) if heading is not None else None
        content: list[str] = []
        for part in tag_children(div):
            names = classes(part)
            if "userstuff" in names:
                content.extend(block_texts(part))
            elif "preface" in names:
                for quote in _quotes(part):
                    _add_note(meta, _module_label(quote), quote, title)
        chapters.append((title, content))
    return chapters


def _module_label(quote: Tag) -> str:
    module = quote.find_parent("div", class_="module")
    names = classes(module) if module is not None else []
    if "end" in names:
        return "Chapter End Notes"
    return "Chapter Summary" if "summary" in names else "Chapter Notes"


def _quotes(tag: Tag) -> list[Tag]:
    """Outermost blockquotes under ``tag`` (user text may nest its own)."""
    return [q for q in tag.find_all("blockquote") if q.find_parent("blockquote") is None]


def _label_of(quote: Tag) -> str:
    """The ``<p>Summary</p>``-style label just before a blockquote."""
    label = quote.find_previous_sibling("p")
    return inline_text(label).rstrip(":") if label is not None else ""


def _add_note(meta: Meta, label: str, quote: Tag, chapter: str | None = None) -> None:
    text = "\n\n".join(block_texts(quote))
    if text:
        where = f"{label} ({chapter})" if chapter else label
        meta.notes.append(f"{where}:\n{text}")


def _strip_by(text: str) -> str:
    return text[3:] if text[:3].lower() == "by " else text


# --- generic HTML -----------------------------------------------------------------------------


def extract_generic(soup: BeautifulSoup | Tag, ledger: Ledger | None = None) -> Extracted:
    """Chapters of ordinary story HTML: ``<h1>``-``<h3>`` "Chapter" headings split it.

    The page ``<title>`` (or a leading non-chapter ``<h1>``) is the work title. When no
    heading reads like a chapter heading but there are several ``<h2>``, those split.
    """
    found = Extracted()
    page_title = soup.find("title")
    found.meta.title = clean_title(inline_text(page_title)) if page_title else None
    blocks = [b for b in extract_blocks(soup, ledger, "html") if b.kind != "hr"]
    blocks = _drop_title_heading(blocks, found.meta)
    splits = _split_test(blocks)
    chapters: list[RawChapter] = [(None, [])]
    headed = False
    for block in blocks:
        if splits(block):
            chapters.append((clean_title(block.text), []))
            headed = True
        elif not is_scene_break(block.text):
            chapters[-1][1].append(block.text)
    if headed:
        chapters = _read_opening(chapters, found.meta)
    found.chapters = [c for c in chapters if c[1]]
    return found


def _read_opening(chapters: list[RawChapter], meta: Meta) -> list[RawChapter]:
    """The text before the first chapter heading (``chapters[0]``), read as the text
    reader reads it (:func:`forewarn.ingest.text.take_opening`): a title and ``by`` line,
    ``Key: value`` header lines and a marked note (``A/N``, ``Notes:``) go to ``meta``;
    the rest is story, a chapter of its own from 40 words, else the first chapter's
    opening lines. Unmarked text is never notes: notes are not scanned."""
    from forewarn.ingest._common import _SHORT_OPENING_WORDS
    from forewarn.ingest.text import take_opening

    opening = chapters[0][1]
    text = "\n\n".join(opening)
    spans, at = [], 0
    for paragraph in opening:
        spans.append((at, at + len(paragraph)))
        at += len(paragraph) + 2
    story = [text[s:e] for s, e in take_opening(text, spans, meta)]
    if sum(len(p.split()) for p in story) >= _SHORT_OPENING_WORDS or len(chapters) == 1:
        return [(None, story), *chapters[1:]]
    # carried into the first chapter that has text (a part heading may have none)
    rest = chapters[1:]
    first = next(i for i, c in enumerate(rest) if c[1]) if any(c[1] for c in rest) else 0
    title, paragraphs = rest[first]
    rest[first] = (title, story + paragraphs)
    return rest


def _drop_title_heading(blocks: list[Block], meta: Meta) -> list[Block]:
    """A non-chapter ``<h1>`` before any text is the work title, not story text."""
    for index, block in enumerate(blocks):
        if block.kind == "h1" and not is_chapter_heading(block.text):
            meta.title = clean_title(block.text) or meta.title
            return blocks[:index] + blocks[index + 1 :]
        if block.kind == "p" or block.kind in _SPLIT_HEADINGS:
            return blocks
    return blocks


def _split_test(blocks: list[Block]) -> Callable[[Block], bool]:
    """How chapters are recognised in these blocks."""
    # a heading broken by <br> ("Chapter 2<br>The Night He Hanged Himself") is a chapter's
    # heading when its first line is
    def heading(b: Block) -> bool:
        first = b.text.strip().split("\n", 1)[0].strip()
        return b.kind in _SPLIT_HEADINGS and (is_chapter_heading(b.text)
                                              or is_chapter_heading(first))

    if any(heading(b) for b in blocks):
        return heading
    if sum(1 for b in blocks if b.kind == "h2") >= 2:
        return lambda b: b.kind == "h2"
    return lambda b: False
