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
Work, chapter and end notes go to ``Work.notes``; only chapter text is story text.
``Work.source_text`` is the chapter texts joined by blank lines.
"""

from __future__ import annotations

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
    split_list,
    take_opening,
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
        _audit_ao3_story(workskin, ledger, page=True)
    elif is_ao3(soup):
        found, fmt = extract_ao3(soup), "ao3-html"
        _audit_ao3_story(soup, ledger)
    else:
        found, fmt = extract_generic(soup, ledger), "html"
        ledger.add("html", visible_text(soup))
        audit_unrendered(soup, ledger)
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
    # AO3's downloads are audited over everything but their preface and afterword (read
    # as metadata: tags, summary, notes, the archive's messages), a saved work page over
    # its #chapters; other HTML against everything a person would see in it
    work.coverage = audit(work, ledger)
    return work


def _audit_ao3_story(root: BeautifulSoup | Tag, ledger: Ledger, *, page: bool = False) -> None:
    """Enter an AO3 document in the coverage ledger: everything a person would see but
    AO3's own furniture, which the reader takes as metadata or leaves (the download's
    ``#preface`` and ``#afterword``: title, tags, summary, notes, the archive's messages),
    so that story text anywhere else (a second ``#chapters``, a ``userstuff`` after it,
    an epilogue in a ``div`` of its own) is text not read. A work page saved from the
    browser (``page``) is audited over its ``#chapters``, its site furniture being no story.
    """
    furniture: frozenset[int] = frozenset()
    if page:
        region = root.find(id="chapters")
        if region is None:
            return
        root = region
    else:
        furniture = frozenset(id(el) for el in (root.find(id="preface"),
                                                root.find(id="afterword")) if el is not None)
    ledger.add("html", visible_text(root, furniture))
    for el in root.find_all(list(ASIDE_TAGS)):
        if el.find_parent(list(ASIDE_TAGS)) is None:  # else its container's entry has it
            audit_aside(el, ledger)
    audit_unrendered(root, ledger)


# --- AO3 ------------------------------------------------------------------------------------


def is_ao3(soup: BeautifulSoup | Tag, *, known: bool = False) -> bool:
    """True for a document with AO3's download structure (or part of it, in an EPUB).

    ``known`` says the book is already known to come from AO3, so a bare
    ``<div id="chapters">`` (class names renamed by a converter) is enough.
    """
    chapters = soup.find("div", id="chapters")
    if chapters is None:
        return False  # ids such as "preface" or "afterword" alone are any book's
    return bool(
        known
        or "userstuff" in classes(chapters)
        or soup.find(id="preface")
        or soup.find("dl", class_="tags")
        or soup.find(id="afterword")
    )


def extract_ao3(soup: BeautifulSoup | Tag) -> Extracted:
    """Metadata, notes and chapters of an AO3 download document."""
    found = Extracted()
    preface = soup.find(id="preface")
    if preface is not None:
        read_preface(preface, found.meta)
    else:
        tags = soup.find("dl", class_="tags")
        if tags is not None:
            read_tags(tags, found.meta)
    chapters = soup.find(id="chapters")
    if chapters is not None:
        found.chapters = _ao3_chapters(chapters, found.meta)
    afterword = soup.find(id="afterword")
    if afterword is not None:
        for quote in _quotes(afterword):
            _add_note(found.meta, "End Notes", quote)
    return found


def read_preface(preface: Tag, meta: Meta) -> None:
    """Title, author, tags, summary and notes from AO3's ``#preface``."""
    tags = preface.find("dl", class_="tags") or preface.find("dl")
    if tags is not None:
        read_tags(tags, meta)
    heading = preface.find("h1")
    if heading is None:
        message = preface.find("p", class_="message")
        heading = message.find("b") if message is not None else None
    if heading is not None:
        meta.title = meta.title or clean_title(inline_text(heading))
    byline = preface.find(class_="byline")
    if byline is not None:
        authors = [inline_text(a) for a in byline.find_all("a")]
        author = ", ".join(a for a in authors if a) or inline_text(byline)
        meta.author = meta.author or clean_title(_strip_by(author))
    for quote in _quotes(preface):
        label = _label_of(quote)
        if label.lower().startswith("summary"):
            meta.add_to("summary", "\n\n".join(block_texts(quote)))
        else:
            text = "\n\n".join(block_texts(quote))
            if text:
                meta.notes.append(text)


def read_tags(dl: Tag, meta: Meta) -> None:
    """``<dt>Label:</dt><dd><a>tag</a>, <a>tag</a></dd>`` pairs into ``meta``."""
    for dt in dl.find_all("dt"):
        target = field_for(inline_text(dt))
        dd = dt.find_next_sibling(["dd", "dt"])
        if target is None or dd is None or dd.name != "dd":
            continue
        links = [inline_text(a) for a in dd.find_all("a")]
        values = [v for v in links if v] or split_list(inline_text(dd))
        meta.add_to(target, values)


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
    ``#workskin`` and never read.
    """
    found = Extracted()
    tags = workskin.find_previous("dl", class_="work") or workskin.find("dl", class_="work")
    if tags is not None:
        read_tags(tags, found.meta)
    preface = workskin.find("div", class_="preface")
    if preface is not None:
        _read_page_preface(preface, found.meta)
    chapters = workskin.find(id="chapters")
    if chapters is not None:
        found.chapters = _page_chapters(chapters, found.meta)
    endnotes = workskin.find(id="work_endnotes")
    if endnotes is not None:
        for quote in _quotes(endnotes):
            _add_note(found.meta, "End Notes", quote)
    return found


def _read_page_preface(preface: Tag, meta: Meta) -> None:
    title = preface.find(class_="title")
    if title is not None:
        meta.title = meta.title or clean_title(inline_text(title))
    byline = preface.find(class_="byline")
    if byline is not None:
        authors = [inline_text(a) for a in byline.find_all("a")]
        meta.author = meta.author or clean_title(", ".join(authors) or inline_text(byline))
    summary = preface.find(class_="summary")
    if summary is not None:
        meta.add_to("summary", "\n\n".join(t for q in _quotes(summary) for t in block_texts(q)))
    notes = preface.find(class_="notes")
    if notes is not None:
        for quote in _quotes(notes):
            text = "\n\n".join(block_texts(quote))
            if text:
                meta.notes.append(text)


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
    if headed and take_opening(chapters[0][1], found.meta):
        chapters = chapters[1:]
    found.chapters = [c for c in chapters if c[1]]
    return found


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
    if any(b.kind in _SPLIT_HEADINGS and is_chapter_heading(b.text) for b in blocks):
        return lambda b: b.kind in _SPLIT_HEADINGS and is_chapter_heading(b.text)
    if sum(1 for b in blocks if b.kind == "h2") >= 2:
        return lambda b: b.kind == "h2"
    return lambda b: False
