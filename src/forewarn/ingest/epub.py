"""EPUB 2/3 reader: container -> OPF -> spine, read in memory with :mod:`zipfile`.

* Nothing is extracted to disk; member names with ``..`` or absolute paths are ignored.
* Zip bombs are refused (:class:`MalformedInput`): more than ``8 * max_bytes`` in all
  once uncompressed, a member over 10 MB with a compression ratio above 100, or more
  than 10,000 members.
* Like a plain file, the book is limited to ``max_bytes``
  (:class:`~forewarn.errors.InputTooLarge`): no member may be larger once uncompressed,
  and the story text extracted from the spine may not hold more characters (counted
  while reading, so a bomb stops early). A document repeated in the spine is read once.
* ``container.xml``, the OPF and the NCX are parsed with :mod:`defusedxml`; content
  documents with BeautifulSoup's ``html.parser``, which is lenient with broken XHTML and
  never expands DTD entities.
* Metadata: ``dc:title``, ``dc:creator``, ``dc:description`` (summary) and ``dc:subject``
  (free-form tags). An AO3 preface page (``#preface`` with ``dl.tags``) fills the tags
  like the HTML reader and is not a chapter; a title page of ``Key: value`` lines (as
  FanFicFare writes) likewise (its keys and short values are navigation; the long value
  of a key forewarn ignores, such as "Status", is read as story); the short entries and
  headings of navigation documents are skipped, longer text in them is read.
* Each other spine document is a chapter titled by its first ``h1``-``h3`` or its
  NCX/nav label; a document holding several "Chapter N" headings is split at them.
  SVG documents in the spine are read like XHTML (their ``<text>``).
* Coverage: every document read enters its visible text in the coverage ledger, AO3
  documents too (all but their preface and afterword, which are read as metadata).
  Content documents the book links to (from its table of contents, its EPUB 2
  ``<guide>`` or its pages) or that a page shows inside itself (``<iframe>``,
  ``<object>``, ``<embed>``, an SVG ``<img>``) but that the spine leaves out are read
  after the spine. Every manifest item of an id given twice is read. What cannot be
  read is recorded in ``ledger.missing`` with the reason, so the work is not called
  fully read: a spine item missing from the manifest or the archive, an href outside
  the book, a media type no reader reads (after following manifest fallbacks), what a
  page shows that is missing, remote or not a document, and a document that declares
  XML entities in its DTD (never expanded: that is how "billion laughs" attacks work).
"""

from __future__ import annotations

import io
import mimetypes
import posixpath
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import unquote
from xml.etree.ElementTree import Element, ParseError

from forewarn.coverage import Ledger, audit
from forewarn.errors import EmptyInput, InputTooLarge, MalformedInput
from forewarn.ingest import _human
from forewarn.ingest._common import (
    DEFAULT_MAX_BYTES,
    HEADER_LINE,
    Meta,
    assemble,
    clean_title,
    dedupe,
    field_for,
    is_chapter_heading,
    is_scene_break,
)
from forewarn.ingest._html import (
    ASIDE_TAGS,
    Block,
    audit_aside,
    block_texts,
    extract_blocks,
    generated_text,
    inline_text,
    is_navigation_text,
    parse_soup,
    stylesheet_text,
    tag_children,
    visible_text,
)
from forewarn.ingest._reading_copy import drop_own_text
from forewarn.ingest.ao3_html import RawChapter, extract_ao3, is_ao3
from forewarn.ingest.decode import check_controls, decode_member
from forewarn.segment import is_bare_label
from forewarn.work import Work

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

MAX_MEMBERS = 10_000
MAX_RATIO = 100
RATIO_MIN_SIZE = 10 * 1024 * 1024
EXPANSION = 8  # total uncompressed size may be this many times max_bytes

_HTML_TYPES = frozenset({"application/xhtml+xml", "text/html", "application/x-dtbook+xml",
                         "text/xml", "application/xml", "text/xhtml"})
_HTML_SUFFIXES = (".xhtml", ".html", ".htm", ".xml")
_NCX_TYPE = "application/x-dtbncx+xml"
_SVG_TYPE = "image/svg+xml"
# An entity declaration (internal DTD subset): the document's text depends on expanding it.
_ENTITY_DECLARATION = re.compile(r"<!ENTITY", re.IGNORECASE)
_METADATA_FIELDS = frozenset({"title", "creator", "description", "subject", "language"})
MAX_FALLBACKS = 16
_BARE_AMPERSAND = re.compile(rb"&(?!#?\w{1,32};)")
_SPLIT_HEADINGS = ("h1", "h2", "h3")
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


@dataclass(frozen=True, slots=True)
class Item:
    """A manifest item: archive path, media type and EPUB 3 properties."""

    path: str
    media_type: str
    properties: frozenset[str]
    fallback: str | None = None  # the id of the item to show instead (EPUB 3 fallback chain)


@dataclass
class _Book:
    """What the reader accumulates over the spine."""

    meta: Meta
    subjects: list[str]
    chapters: list[RawChapter] = field(default_factory=list)
    ledger: Ledger = field(default_factory=Ledger)
    ao3: bool = False
    previous_ao3: bool = False
    text_chars: int = 0  # characters of story text so far, capped at max_bytes


def parse_epub(data: bytes, source: str = "<epub>", *, max_bytes: int = DEFAULT_MAX_BYTES) -> Work:
    """Parse the bytes of an EPUB file into a :class:`Work` (format ``"epub"``)."""
    archive = Archive(data, source, max_bytes)
    opf_path = _rootfile(archive)
    opf = parse_xml(archive.read(opf_path), source, opf_path)
    opf_dir = posixpath.dirname(opf_path)
    manifest, shadowed, unresolved = _manifest(opf, opf_dir)
    spine, toc_id = _spine(opf, source)
    labels, linked = _toc_labels(archive, manifest, toc_id)
    meta, subjects = _opf_metadata(opf)
    reader = _Reader(archive, manifest, shadowed, labels, _Book(meta, subjects))
    reader.link(linked)
    reader.link(_guide(opf, opf_dir))
    documents = 0
    for idref in spine:
        # An id given to several manifest items is invalid, and reading systems differ in
        # the item they show for it (the first, the last): read every one of them, and
        # record any whose href cannot be read.
        items = [*shadowed.get(idref, ()), *([manifest[idref]] if idref in manifest else [])]
        if idref in unresolved:
            reader.record(f"id:{idref}", unresolved[idref])
        elif not items:
            reader.record(f"id:{idref}", f"{idref} (in the spine, not in the manifest)")
        for item in items:
            documents += reader.spine_item(item)
    if not documents:
        raise MalformedInput(f"{source}: not a valid EPUB (no readable documents in the spine)")
    reader.read_linked()
    reader.stylesheets()
    book = reader.book
    chapters, source_text = assemble(book.chapters)
    if not chapters:
        raise EmptyInput(f"{source}: no story text")
    fields = book.meta.work_fields()
    fields["freeform_tags"] = _freeform(book)
    work = Work(chapters, **fields, source=source, format="epub", source_text=source_text)
    work.coverage = audit(work, book.ledger)
    return work


class _Reader:
    """Reads the book's documents, each once: the spine's, then those linked from it."""

    def __init__(self, archive: Archive, manifest: dict[str, Item],
                 shadowed: dict[str, list[Item]], labels: dict[str, str], book: _Book) -> None:
        self.archive = archive
        self.manifest = manifest
        self.by_path = {item.path: item for items in shadowed.values() for item in items}
        self.by_path.update((item.path, item) for item in manifest.values())
        self.labels = labels
        self.book = book
        self.seen: set[str] = set()  # paths (and ids) read or recorded
        self.linked: list[str] = []  # paths linked to, in order, each once
        self.queued: set[str] = set()
        self.embedded: set[str] = set()  # paths a page shows inside itself (see embed)

    def record(self, key: str, what: str) -> None:
        """Record something of the book that cannot be read (once)."""
        if key not in self.seen:
            self.seen.add(key)
            self.book.ledger.missing.append(what)

    def link(self, paths: list[str]) -> None:
        """Queue documents the book links to, to read after the spine."""
        for path in paths:
            if path not in self.queued:
                self.queued.add(path)
                self.linked.append(path)

    def embed(self, sources: list[tuple[str, str]], base: str) -> None:
        """Queue what a page shows inside itself (``(tag, address)`` pairs, see
        :func:`_embedded_sources`). Unlike a link's target, which a reader may never follow,
        this is on the page: what cannot be read is recorded."""
        for tag, address in sources:
            image = tag in ("img", "image")
            path = None if _SCHEME.match(address) else _resolve(base, address)
            if path is None:
                if image and not _is_svg_address(address):
                    continue  # a picture (a remote photo, a data: PNG): no text to read
                self.record(f"embed:{address}",
                            f"{address[:80]} (shown by <{tag}>, outside the book, not read)")
                continue
            if image and not self.is_svg(path):
                continue  # a raster image: no text to read
            if path not in self.embedded:
                # queued again even if a link queued it before: a link to nothing is
                # passed over, what a page shows is recorded
                self.embedded.add(path)
                self.queued.add(path)
                self.linked.append(path)

    def is_svg(self, path: str) -> bool:
        item = self.by_path.get(path)
        if item is not None and item.media_type:
            return item.media_type == _SVG_TYPE
        return _is_svg_address(path)

    def stylesheets(self) -> None:
        """The book's stylesheets: text one adds to a page (``::before { content: "..." }``)
        is shown and never read, so its words are counted as not read."""
        for item in self.by_path.values():
            if item.media_type != "text/css" or not self.archive.has(item.path):
                continue
            sheet = self.archive.read(item.path).decode("utf-8", "replace")
            for text in stylesheet_text(sheet):
                self.book.ledger.add(f"{item.path} stylesheet", text, "content",
                                     "text added by a stylesheet (CSS content) not read")

    def spine_item(self, item: Item) -> int:
        """Read one spine item; 1 if it was a content document read, else 0."""
        item = _with_fallback(item, self.manifest)
        if _is_document(item):
            return self.document(item)
        self.not_document(item)
        return 0

    def not_document(self, item: Item) -> None:
        """Account for an item of the book shown as a page that is no content document:
        a text document's words, else the item itself, as not read."""
        if item.path in self.seen:
            return
        if not self.archive.has(item.path):
            self.record(item.path, f"{item.path} (missing from the archive)")
        elif item.media_type.startswith("text/"):
            # a text document of a type no reader reads: say so, never drop it silently
            self.seen.add(item.path)
            where = f"{self.archive.source}: {item.path}"
            shown = decode_member(self.archive.read(item.path), where)
            self.book.ledger.add(item.path, shown, reason=f"media type {item.media_type} not read")
        else:
            kind = f"media type {item.media_type}" if item.media_type else "no media type"
            self.record(item.path, f"{item.path} ({kind}, not read)")

    def read_linked(self) -> None:
        """Read the content documents the book links to (or shows inside a page) but
        leaves out of the spine: a reader reaches them by following the link. What a
        page shows and cannot be read is recorded."""
        index = 0
        while index < len(self.linked):  # reading a document may link more
            path = self.linked[index]
            index += 1
            if path in self.seen:
                continue
            item = self.by_path.get(path)
            if item is not None:
                item = _with_fallback(item, self.manifest)
                if _is_document(item):
                    if "nav" not in item.properties:  # its lists are the reader's menu
                        self.document(item)
                elif path in self.embedded and not _is_picture(item):
                    self.not_document(item)
            elif self.archive.has(path) and path.lower().endswith((*_HTML_SUFFIXES, ".svg")):
                self.document(Item(path, "", frozenset()))
            elif path in self.embedded:  # shown, but not in the manifest: type by name
                shown = Item(path, mimetypes.guess_type(path)[0] or "", frozenset())
                if not _is_picture(shown):
                    self.not_document(shown)
            # a link to an image, a style sheet or nothing at all is no text to read

    def document(self, item: Item) -> int:
        """Read one content document (XHTML or SVG) into the book: 1 if read, else 0."""
        if item.path in self.seen:
            return 0  # a document repeated in the spine is read once
        self.seen.add(item.path)
        archive, book = self.archive, self.book
        try:
            raw = archive.read(item.path)
        except KeyError:
            book.ledger.missing.append(f"{item.path} (missing from the archive)")
            return 0
        mark = _text_mark(book)
        where = f"{archive.source}: {item.path}"
        text = decode_member(raw, where)
        del raw
        check_controls(text, where)
        if _ENTITY_DECLARATION.search(text):
            # its text depends on entities forewarn never expands: read what is there, but
            # the work is not fully read
            book.ledger.missing.append(
                f"{item.path} (declares XML entities, which forewarn does not expand)"
            )
        soup = parse_soup(text, where)
        del text
        base = posixpath.dirname(item.path)
        self.link(_document_links(soup, base))
        self.embed(_embedded_sources(soup), base)
        _read_document(book, soup, self.labels.get(item.path), item.path,
                       nav="nav" in item.properties)
        book.text_chars += _text_since(book, mark)
        if book.text_chars > archive.max_bytes:
            raise _text_too_large(archive.source, archive.max_bytes)
        return 1


def _outermost(root: Tag, match: Callable[[Tag], bool]) -> list[Tag]:
    """The elements under ``root`` that ``match`` and are not inside another that does, in
    one walk: each one's text then covers those nested in it, and elements nested
    thousands deep cost one reading of their text, not one each."""
    found: list[Tag] = []
    stack = [tag_children(root)]
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
        elif match(child):
            found.append(child)
        else:
            stack.append(tag_children(child))
    return found


def _outer_links(root: Tag) -> list[Tag]:
    """The ``<a href>`` elements under ``root`` not inside another."""
    return _outermost(root, lambda el: el.name == "a" and el.has_attr("href"))


def _document_links(soup: BeautifulSoup, base: str) -> list[str]:
    """The archive paths a document's links lead to."""
    paths = (_resolve(base, str(a["href"])) for a in soup.find_all("a", href=True))
    return [path for path in paths if path]


# Where a page shows another resource inside itself: the element and its address attribute.
# Reading systems render a content document or an SVG drawing shown this way (<img> and
# SVG <image> only count when the picture is an SVG: its <text> is words on the page).
_EMBEDDING = {"iframe": ("src",), "frame": ("src",), "embed": ("src",), "object": ("data",),
              "img": ("src",), "image": ("href", "xlink:href")}
# A URI scheme (data:, https:, about:...): not a path in the archive.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:")
_SVG_DATA = re.compile(r"data:image/svg\+xml[;,]", re.IGNORECASE)
# Media types whose resources show no text forewarn could read (pictures are not read:
# only their alt text, which is on the page).
_PICTURE_TYPES = ("image/", "audio/", "video/", "font/")


def _embedded_sources(soup: BeautifulSoup) -> list[tuple[str, str]]:
    """``(tag, address)`` of what a page shows inside itself, in document order; an
    ``about:blank`` frame and a reference into the page itself (``#part``) show nothing."""
    found: list[tuple[str, str]] = []
    for el in soup.find_all(list(_EMBEDDING)):
        address = next((str(el[name]) for name in _EMBEDDING[el.name] if el.has_attr(name)), "")
        address = address.strip()
        if address.split("#", 1)[0] and address.lower() != "about:blank":
            found.append((el.name, address))
    return found


def _is_svg_address(address: str) -> bool:
    path = unquote(address.split("#", 1)[0].split("?", 1)[0]).lower()
    return path.endswith((".svg", ".svgz")) or _SVG_DATA.match(address) is not None


def _is_picture(item: Item) -> bool:
    return item.media_type.startswith(_PICTURE_TYPES) and not _is_document(item)  # not SVG


def _text_mark(book: _Book) -> tuple[int, int]:
    """Where the book's text ends now: (number of chapters, paragraphs in the last one)."""
    return len(book.chapters), len(book.chapters[-1][1]) if book.chapters else 0


def _text_since(book: _Book, mark: tuple[int, int]) -> int:
    """Characters of the paragraphs added since ``mark`` (a continued chapter included)."""
    chapters, paragraphs = mark
    added = 0
    if chapters and len(book.chapters) >= chapters:
        added += sum(len(p) for p in book.chapters[chapters - 1][1][paragraphs:])
    for _, texts in book.chapters[chapters:]:
        added += sum(len(p) for p in texts)
    return added


def _text_too_large(source: str, limit: int) -> InputTooLarge:
    return InputTooLarge(
        f"{source}: the book's text is too large (more than {_human(limit)}; "
        f"the limit is {_human(limit)})"
    )


# --- the archive --------------------------------------------------------------------------------


class Archive:
    """A zip archive opened in memory, with bomb checks and safe member names only."""

    def __init__(self, data: bytes, source: str, max_bytes: int) -> None:
        self.source = source
        self.max_bytes = max_bytes
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
            raise self.invalid("not a zip archive") from None
        if len(infos) > MAX_MEMBERS:
            raise self.invalid(f"{len(infos)} members, more than {MAX_MEMBERS}")
        total = sum(info.file_size for info in infos)
        limit = EXPANSION * max_bytes
        if total > limit:
            raise self.invalid(
                f"expands to {total} bytes, over the {limit}-byte limit; possible zip bomb"
            )
        for info in infos:
            if info.file_size > RATIO_MIN_SIZE and info.file_size > MAX_RATIO * max(
                info.compress_size, 1
            ):
                raise self.invalid(
                    f"member {info.filename!r} has a compression ratio over {MAX_RATIO}; "
                    "possible zip bomb"
                )
        self.members = {
            name: info
            for info in infos
            if (name := safe_name(info.filename)) is not None and not info.is_dir()
        }
        self.folded = {name.casefold(): info for name, info in self.members.items()}

    def invalid(self, reason: str) -> MalformedInput:
        """The error for a broken book."""
        return MalformedInput(f"{self.source}: not a valid EPUB ({reason})")

    def has(self, name: str) -> bool:
        """Whether a (safe) member exists, matching case-insensitively as a fallback."""
        return name in self.members or name.casefold() in self.folded

    def read(self, name: str) -> bytes:
        """A member's bytes; ``KeyError`` if absent, :class:`MalformedInput` if unreadable,
        :class:`InputTooLarge` if it is larger than ``max_bytes`` (like a plain file)."""
        info = self.members.get(name) or self.folded.get(name.casefold())
        if info is None:
            raise KeyError(name)
        if info.file_size > self.max_bytes:
            raise InputTooLarge(
                f"{self.source}: {name!r} in the EPUB is too large ({_human(info.file_size)}; "
                f"the limit is {_human(self.max_bytes)})"
            )
        if info.flag_bits & 0x1:
            raise self.invalid(f"cannot read {name}: the member is encrypted")
        try:
            with self.zip.open(info) as member:
                data = member.read(info.file_size + 1)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, zlib.error, EOFError,
                OSError, ValueError) as exc:  # fmt: skip
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            reason = _ZIPINFO.sub(repr(name), reason)  # zipfile names members by their repr
            raise self.invalid(f"cannot read {name}: {reason}") from None
        if len(data) > info.file_size:
            raise self.invalid(f"member {name!r} is larger than it says")
        return data


_ZIPINFO = re.compile(r"<ZipInfo [^>]*>")


def safe_name(name: str) -> str | None:
    """The member name, or ``None`` if it is absolute or climbs out with ``..``."""
    name = name.replace("\\", "/")
    if name.startswith("/") or re.match(r"[A-Za-z]:", name):
        return None
    if any(part == ".." for part in name.split("/")):
        return None
    return name


def parse_xml(data: bytes, source: str, what: str) -> Element:
    """Parse XML with defusedxml (no entity expansion, no external references).

    A document whose only fault is a bare ``&`` is retried with it escaped.
    """
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    error: Exception | None = None
    for attempt in (data, _BARE_AMPERSAND.sub(b"&amp;", data)):
        try:
            return fromstring(attempt)
        except DefusedXmlException:
            raise MalformedInput(
                f"{source}: not a valid EPUB ({what} uses forbidden XML entities)"
            ) from None
        except ParseError as exc:
            error = exc
    raise MalformedInput(f"{source}: not a valid EPUB ({what}: {error})")


def local(tag: object) -> str:
    """An element's tag without its namespace."""
    return str(tag).rsplit("}", 1)[-1]


def _rootfile(archive: Archive) -> str:
    if not archive.has("META-INF/container.xml"):
        raise archive.invalid("no META-INF/container.xml")
    container = parse_xml(archive.read("META-INF/container.xml"), archive.source, "container.xml")
    paths = [
        (el.get("media-type"), el.get("full-path"))
        for el in container.iter()
        if local(el.tag) == "rootfile" and el.get("full-path")
    ]
    paths.sort(key=lambda pair: pair[0] != "application/oebps-package+xml")
    if not paths:
        raise archive.invalid("no rootfile in META-INF/container.xml")
    path = safe_name(unquote(str(paths[0][1])))
    if path is None or not archive.has(path):
        raise archive.invalid(f"no OPF file {paths[0][1]}")
    return path


# --- the package document --------------------------------------------------------------------


def _resolve(base: str, href: str) -> str | None:
    """The archive path ``href`` names, relative to ``base`` (an absolute href from the
    container's root); ``None`` for a remote resource or a path that leaves the book."""
    href = unquote(href.split("#", 1)[0]).strip()
    if not href or "://" in href:
        return None
    if href.startswith("/"):
        base, href = "", href.lstrip("/")
    path = posixpath.normpath(posixpath.join(base, href))
    return safe_name(path)


def _manifest(
    opf: Element, opf_dir: str
) -> tuple[dict[str, Item], dict[str, list[Item]], dict[str, str]]:
    """Items by id (the last item of an id given twice); the earlier items of such an id,
    in order; and the ids with an href that names nothing in the book (with the reason)."""
    items: dict[str, Item] = {}
    shadowed: dict[str, list[Item]] = {}
    unresolved: dict[str, str] = {}
    for el in opf.iter():
        if local(el.tag) != "item":
            continue
        ident, href = el.get("id"), el.get("href") or ""
        if not ident:
            continue
        path = _resolve(opf_dir, href)
        if path is None:
            where = "a remote resource" if "://" in href else "outside the book"
            unresolved[ident] = f"{href} ({where}, not read)" if href.strip() else (
                f"{ident} (a manifest item without an href)")
            continue
        properties = frozenset((el.get("properties") or "").split())
        media_type = (el.get("media-type") or "").split(";", 1)[0].strip().lower()
        if ident in items:
            shadowed.setdefault(ident, []).append(items[ident])
        items[ident] = Item(path, media_type, properties, el.get("fallback"))
    return items, shadowed, unresolved


def _guide(opf: Element, opf_dir: str) -> list[str]:
    """The paths of the EPUB 2 ``<guide>``'s references (cover, dedication, notes...):
    reading systems offer them ("Go to: Dedication"), so they are pages of the book even
    when the spine leaves them out."""
    paths: list[str] = []
    for guide in (el for el in opf if local(el.tag) == "guide"):
        for reference in guide:
            href = reference.get("href")
            if local(reference.tag) == "reference" and href:
                path = _resolve(opf_dir, href)
                if path:
                    paths.append(path)
    return paths


def _spine(opf: Element, source: str) -> tuple[list[str], str | None]:
    spine = next((el for el in opf.iter() if local(el.tag) == "spine"), None)
    if spine is None:
        raise MalformedInput(f"{source}: not a valid EPUB (no spine)")
    idrefs = [
        str(el.get("idref"))
        for el in spine
        if local(el.tag) == "itemref" and el.get("idref")
    ]  # linear="no" items (notes, appendices, extra scenes) are part of the book: read them
    if not idrefs:
        raise MalformedInput(f"{source}: not a valid EPUB (empty spine)")
    return idrefs, spine.get("toc")


def _is_html(item: Item) -> bool:
    return item.media_type in _HTML_TYPES or (
        not item.media_type and item.path.lower().endswith(_HTML_SUFFIXES)
    )


def _is_document(item: Item) -> bool:
    """A content document forewarn reads: XHTML (or HTML, DTBook...) or SVG."""
    return _is_html(item) or item.media_type == _SVG_TYPE or (
        not item.media_type and item.path.lower().endswith(".svg")
    )


def _with_fallback(item: Item, manifest: dict[str, Item]) -> Item:
    """The first content document in ``item``'s fallback chain (``item`` if none)."""
    current = item
    for _ in range(MAX_FALLBACKS):
        if _is_document(current) or not current.fallback:
            break
        following = manifest.get(current.fallback)
        if following is None:
            break
        current = following
    return current if _is_document(current) else item


def _metadata_fields(metadata: Element) -> list[tuple[str, str]]:
    """``(name, text)`` of the metadata elements forewarn reads, in document order.

    One pass: an element's text is taken once, and nothing inside it is looked at again
    (a ``dc:subject`` holding 300,000 nested elements costs one walk, not 300,000).
    """
    fields: list[tuple[str, str]] = []
    stack = [iter(metadata)]
    while stack:
        el = next(stack[-1], None)
        if el is None:
            stack.pop()
        elif (name := local(el.tag)) in _METADATA_FIELDS:
            fields.append((name, "".join(el.itertext())))
        else:
            stack.append(iter(el))
    return fields


def _opf_metadata(opf: Element) -> tuple[Meta, list[str]]:
    meta = Meta()
    creators: list[str] = []
    subjects: list[str] = []
    metadata = next((el for el in opf.iter() if local(el.tag) == "metadata"), opf)
    for name, raw in _metadata_fields(metadata):
        text = " ".join(raw.split())
        if not text:
            continue
        if name == "title" and meta.title is None:
            meta.title = text
        elif name == "creator":
            creators.append(text)
        elif name == "description" and meta.summary is None:
            meta.summary = _description(raw)
        elif name == "subject":
            subjects.append(text)
        elif name == "language":
            meta.add_to("tag:language", [text])
    if creators:
        meta.author = ", ".join(dedupe(creators))
    return meta, subjects


def _description(text: str) -> str | None:
    """``dc:description`` is often escaped HTML: reduce it to paragraphs of text."""
    if "<" in text and ">" in text:
        paragraphs = block_texts(parse_soup(text))
        return "\n\n".join(paragraphs) or None
    return " ".join(text.split()) or None


def _toc_labels(
    archive: Archive, manifest: dict[str, Item], toc_id: str | None
) -> tuple[dict[str, str], list[str]]:
    """Document path -> title, from the EPUB 3 nav document and/or the EPUB 2 NCX; and
    the paths they link to, in order."""
    labels: dict[str, str] = {}
    targets: list[str] = []
    for item in manifest.values():
        if "nav" in item.properties and archive.has(item.path):
            _nav_labels(archive.read(item.path), posixpath.dirname(item.path), labels, targets)
    ncx = manifest.get(toc_id) if toc_id else None
    if ncx is None:
        ncx = next((i for i in manifest.values() if i.media_type == _NCX_TYPE), None)
    if ncx is not None and archive.has(ncx.path):
        try:
            root = parse_xml(archive.read(ncx.path), archive.source, "toc.ncx")
        except MalformedInput:
            return labels, targets  # a broken table of contents only costs chapter titles
        _ncx_labels(root, posixpath.dirname(ncx.path), labels, targets)
    return labels, targets


def _nav_labels(data: bytes, base: str, labels: dict[str, str], targets: list[str]) -> None:
    soup = parse_soup(decode_member(data))
    targets.extend(_document_links(soup, base))  # landmarks and page lists lead somewhere too
    navs = soup.find_all("nav")
    toc = next((n for n in navs if "toc" in str(n.get("epub:type") or "").split()), None)
    toc = toc or (navs[0] if navs else soup)
    for link in _outer_links(toc):
        path = _resolve(base, str(link["href"]))
        label = clean_title(inline_text(link))
        if path and label:
            labels.setdefault(path, label)


def _ncx_labels(root: Element, base: str, labels: dict[str, str], targets: list[str]) -> None:
    for point in root.iter():
        if local(point.tag) != "navPoint":
            continue
        label = content = None
        for child in point:
            if local(child.tag) == "navLabel" and label is None:
                # <navLabel><text>label</text></navLabel>: the <text> elements' own text,
                # so nesting inside a label never makes a label be read twice
                label = clean_title("".join(t.text or "" for t in child if local(t.tag) == "text"))
            elif local(child.tag) == "content":
                content = child.get("src")
        path = _resolve(base, content) if content else None
        if path:
            targets.append(path)
        if path and label:
            labels.setdefault(path, label)


# --- content documents ------------------------------------------------------------------------


def _read_document(book: _Book, soup: BeautifulSoup, label: str | None, where: str,
                   *, nav: bool = False) -> None:
    """Add one spine document's chapters (or metadata) to ``book``, and its text to the
    book's coverage ledger. In the navigation document (``nav``) the ``<nav>`` lists are
    navigation; whatever else it holds is read like any document. In a reading copy
    forewarn wrote, its scene notices are not read (:mod:`forewarn.ingest._reading_copy`)."""
    copy_author = drop_own_text(soup, book.ledger, where)
    if copy_author:
        book.meta.author = book.meta.author or copy_author
    if nav:
        _take_navigation(book, soup, where)
    _take_own_strips(book, soup, where)
    if _is_ao3(soup, book):
        found = extract_ao3(soup)
        book.ao3 = True
        _merge(book.meta, found.meta)
        for title, paragraphs in found.chapters:
            if title is None and book.previous_ao3 and book.chapters:
                book.chapters[-1][1].extend(paragraphs)  # a chapter split over two files
            else:
                book.chapters.append((title or label, paragraphs))
            book.previous_ao3 = True
        _audit_ao3(book.ledger, soup, where)
        return
    book.previous_ao3 = False
    blocks = [block for block in extract_blocks(soup, book.ledger, where) if block.kind != "hr"]
    book.ledger.add(where, visible_text(soup))
    for text in generated_text(soup):  # a page's own <style> and style attributes
        book.ledger.add(f"{where} stylesheet", text, "content",
                        "text added by a stylesheet (CSS content) not read")
    if _is_navigation(soup, blocks):
        # a table of contents: its link items are navigation; any prose in it is read
        links = {inline_text(a) for a in _outer_links(soup)}
        prose = [b for b in blocks if b.text not in links and not is_navigation_text(b.text)]
        for b in blocks:
            if b not in prose:
                book.ledger.add(f"{where} contents", b.text, "navigation", "table of contents")
        if prose:
            # a heading too long for a contents page's title is text of the page, not the
            # title of a chapter (a title is read alone, not with its page): read it as a
            # paragraph
            read = [Block("p", b.text) if b.kind in _HEADINGS else b for b in prose]
            book.chapters.extend(_document_chapters(read, label))
        return
    if not book.chapters and _read_title_page(blocks, book.meta):
        # the Key: value lines are metadata; any other line of the page is story
        rest = []
        for b in blocks:
            for line in b.text.split("\n"):
                field = _title_page_field(line)
                if field is not None:
                    key, value, ignored = field
                    # the key is a label; a short value ("Complete", "12,034") may pass as
                    # one too. A longer value is metadata (the page's fields are) and
                    # audited as such, unless forewarn ignores its key ("Status"), which
                    # leaves it nowhere: then the line is read as story.
                    book.ledger.add(f"{where} field", key, "navigation", "title page field")
                    if is_navigation_text(value):
                        book.ledger.add(f"{where} field", value, "navigation",
                                        "title page field")
                    elif ignored:
                        rest.append(line)
                elif line.strip() and b.kind not in _HEADINGS:
                    rest.append(line)
        if rest:
            book.chapters.append((label, rest))
        return
    book.chapters.extend(_document_chapters(blocks, label))


def _is_ao3(soup: BeautifulSoup, book: _Book) -> bool:
    """An AO3 document, or a part of an AO3 download that an EPUB keeps in a document of
    its own: the preface page (``#preface`` holding AO3's ``dl.tags``) or, in a book
    already known to be AO3's, the afterword."""
    if is_ao3(soup, known=book.ao3):
        return True
    preface = soup.find(id="preface")
    if preface is not None and preface.find("dl", class_="tags") is not None:
        return True
    return book.ao3 and soup.find(id="afterword") is not None


def _audit_ao3(ledger: Ledger, soup: BeautifulSoup, where: str) -> None:
    """Enter an AO3 document in the coverage ledger: all of it but the preface (or its tag
    list) and the afterword, AO3's own page furniture (stats, "posted originally on")
    around the tags, summary and notes it read as metadata. The chapters, and anything
    outside AO3's structure, are audited like any document."""
    chapters = soup.find(id="chapters")
    preface = soup.find(id="preface")
    furniture: list[Tag | None] = [
        preface if preface is not None else soup.find("dl", class_="tags"),
        soup.find(id="afterword"),
    ]
    for el in furniture:
        if el is not None and (chapters is None or all(p is not el for p in chapters.parents)):
            el.extract()
    # form controls, formulas: not read (one entry holds those nested in it)
    for el in _outermost(soup, lambda el: (el.name or "").lower() in ASIDE_TAGS):
        audit_aside(el, ledger, where)
    ledger.add(where, visible_text(soup))


# The title page of forewarn's own reading copy (render/epub.py): these pieces are
# forewarn's words, not the story's.
_OWN_CLASSES = frozenset({"byline", "facts", "reading-note", "not-checked"})


def _take_navigation(book: _Book, soup: BeautifulSoup, where: str) -> None:
    """Move the navigation document's ``<nav>`` lists (and, in forewarn's own reading copy,
    its title page) into the ledger as navigation, out of the document."""
    for el in soup.find_all("nav"):
        links = {inline_text(a) for a in _outer_links(el)}
        for block in extract_blocks(el):
            # a heading ("Contents") is navigation only as short as a menu item: the nav
            # document is in the spine, so a person pages through a long one
            if block.text in links or is_navigation_text(block.text):
                book.ledger.add(f"{where} contents", block.text, "navigation",
                                "table of contents")
            else:  # prose inside a <nav>: read it
                book.chapters.append((None, [block.text]))
        el.decompose()
    generator = soup.find("meta", attrs={"name": "generator"})
    if generator is not None and str(generator.get("content", "")).startswith("forewarn"):
        for el in soup.find_all(["h1", "p"]):
            if el.name == "h1" or _OWN_CLASSES & set(el.get("class") or []):
                book.ledger.add(f"{where} title page", inline_text(el), "navigation",
                                "forewarn's own title page")
                el.decompose()


def _take_own_strips(book: _Book, soup: BeautifulSoup, where: str) -> None:
    """Move the "Where the warnings sit" page of forewarn's own reading copy
    (render/strip.py: a ``<section class="strips">``) into the ledger, out of the
    document: its warning names are forewarn's words, not the story's."""
    generator = soup.find("meta", attrs={"name": "generator"})
    if generator is None or not str(generator.get("content", "")).startswith("forewarn"):
        return
    for el in soup.find_all("section", class_="strips"):
        book.ledger.add(f"{where} strips", inline_text(el), "navigation",
                        "forewarn's own strips")
        el.decompose()


def _title_page_field(line: str) -> tuple[str, str, bool] | None:
    """``(key, value, ignored)`` of a title page's ``Key: value`` line with a key forewarn
    knows (``ignored``: one whose value it drops, such as "Status" or "Words"), else None."""
    m = HEADER_LINE.match(line)
    target = field_for(m["key"]) if m is not None else None
    if m is None or target is None:
        return None
    return m["key"], m["value"], target == "ignore"


def _is_navigation(soup: BeautifulSoup, blocks: list[Block]) -> bool:
    """A table of contents: apart from headings, most of its text is short links."""
    links = [a for a in _outer_links(soup) if is_navigation_text(inline_text(a))]
    if len(links) < 3:
        return False
    linked = sum(len(inline_text(a)) for a in links)
    total = sum(len(block.text) for block in blocks if block.kind not in _HEADINGS)
    return total > 0 and linked >= 0.8 * total


def _read_title_page(blocks: list[Block], meta: Meta) -> bool:
    """A page of ``Key: value`` lines before the story: read it as metadata. Only keys
    forewarn knows count ("Title", "Rating", "Warnings"...): dialogue written as
    ``Name: line`` is story."""
    lines = [line for block in blocks for line in block.text.split("\n") if line.strip()]
    keyed = [m for m in (HEADER_LINE.match(line) for line in lines)
             if m and field_for(m["key"]) is not None]
    if len(keyed) < 3 or len(keyed) < 0.5 * len(lines):
        return False
    page = Meta()
    for match in keyed:
        page.add(match["key"], match["value"])
    first = lines[0]
    if not HEADER_LINE.match(first) and " by " in first:
        title, _, author = first.partition(" by ")
        page.title, page.author = page.title or clean_title(title), page.author or author.strip()
    _merge(meta, page)
    return True


def _document_chapters(blocks: list[Block], label: str | None) -> list[RawChapter]:
    """One chapter, or several when the document holds several chapter headings."""
    heads = [b for b in blocks if b.kind in _SPLIT_HEADINGS and is_chapter_heading(b.text)]
    if len(heads) >= 2:
        chapters: list[RawChapter] = [(label, [])]
        for block in blocks:
            if block in heads:
                chapters.append((clean_title(block.text), []))
            elif not is_scene_break(block.text):
                chapters[-1][1].append(block.text)
        return [c for c in chapters if c[1]]
    title = label
    for index, block in enumerate(blocks):
        if block.kind in _SPLIT_HEADINGS:
            title = clean_title(block.text) or label
            if label and is_bare_label(title) and not is_bare_label(label):
                # the page says "Chapter 2", the contents "Chapter 2: The Night He Hanged
                # Himself": a reader sees both, and the title is read (review 20)
                title = label
            blocks = blocks[:index] + blocks[index + 1 :]
            break
        if block.kind == "p":
            break
    return [(title, [b.text for b in blocks if not is_scene_break(b.text)])]


def _merge(meta: Meta, other: Meta) -> None:
    """Fold a page's metadata into the book's: the page fills gaps, its summary wins."""
    meta.title = meta.title or other.title
    meta.author = meta.author or other.author
    meta.rating = meta.rating or other.rating
    if other.summary:
        meta.summary = other.summary
    meta.notes.extend(other.notes)
    meta.archive_warnings.extend(other.archive_warnings)
    meta.freeform_tags.extend(other.freeform_tags)
    meta.content_notes.extend(other.content_notes)
    for name, values in other.tags.items():
        meta.tags.setdefault(name, []).extend(values)


def _freeform(book: _Book) -> list[str]:
    """Free-form tags: the preface's, then subjects not already filed elsewhere.

    AO3 puts every tag (and "Fanworks") into ``dc:subject``, so subjects that the preface
    filed as rating, warning, fandom, character... are not free-form tags.
    """
    freeform = list(book.meta.freeform_tags)
    filed: set[str] = set()
    if book.ao3:
        filed.add("fanworks")
        filed.update(w.casefold() for w in book.meta.archive_warnings)
        if book.meta.rating:
            filed.add(book.meta.rating.casefold())
        for values in book.meta.tags.values():
            filed.update(v.casefold() for v in values)
    freeform.extend(s for s in book.subjects if s.casefold() not in filed)
    return dedupe(freeform)
