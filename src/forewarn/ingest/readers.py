"""The built-in readers, registered in one place: plain text, Markdown, HTML and EPUB.

Each reader's parser lives in its own module (:mod:`~forewarn.ingest.text`,
:mod:`~forewarn.ingest.markdown`, :mod:`~forewarn.ingest.ao3_html`,
:mod:`~forewarn.ingest.epub`) and is imported only when a file of that format is read.
Sniffing asks the readers in registration order: EPUB (a zip that says so), HTML (a
document that starts like one), Markdown (YAML front matter); anything else that is text
is plain text (:data:`~forewarn.ingest.registry.FALLBACK`).
"""

from __future__ import annotations

from forewarn.ingest.registry import register_reader
from forewarn.work import Work


def read_text_format(data: bytes, name: str, encoding: str | None, max_bytes: int) -> Work:
    """Plain text, with AO3-style header lines and chapter headings."""
    from forewarn.ingest.decode import decode_text
    from forewarn.ingest.text import parse_text

    text, used = decode_text(data, name, encoding)
    return parse_text(text, name, encoding=used)


def read_markdown(data: bytes, name: str, encoding: str | None, max_bytes: int) -> Work:
    """Markdown, with YAML front matter."""
    from forewarn.ingest.decode import decode_text
    from forewarn.ingest.markdown import parse_markdown

    text, used = decode_text(data, name, encoding)
    return parse_markdown(text, name, encoding=used)


def read_html(data: bytes, name: str, encoding: str | None, max_bytes: int) -> Work:
    """HTML: AO3 downloads with their tags, and other story pages."""
    from forewarn.ingest.ao3_html import parse_html
    from forewarn.ingest.decode import check_controls, decode_markup

    text, used = decode_markup(data, name, encoding)
    check_controls(text, name)
    return parse_html(text, name, encoding=used)


def read_epub(data: bytes, name: str, encoding: str | None, max_bytes: int) -> Work:
    """EPUB 2 and 3."""
    from forewarn.ingest.epub import parse_epub

    return parse_epub(data, name, max_bytes=max_bytes)


def zip_members(data: bytes) -> tuple[set[str], bytes] | None:
    """A zip's member names and its ``mimetype`` member's first bytes (``b""`` without
    one); None when ``data`` is not a zip that opens."""
    import zipfile
    from io import BytesIO

    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            names = set(archive.namelist())
            mimetype = b""
            if "mimetype" in names:
                with archive.open("mimetype") as member:
                    mimetype = member.read(100).strip()
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, NotImplementedError, EOFError):
        return None
    return names, mimetype


def sniff_epub(data: bytes, head: str) -> bool:
    """A zip whose ``mimetype`` says EPUB or that has ``META-INF/container.xml``; a damaged
    zip that says ``application/epub+zip`` near its start (the EPUB reader reports it)."""
    if not data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return False
    members = zip_members(data)
    if members is None:
        return b"application/epub+zip" in data[:100]
    names, mimetype = members
    return mimetype == b"application/epub+zip" or "META-INF/container.xml" in names


def sniff_html(data: bytes, head: str) -> bool:
    """A document that starts with ``<!doctype html``, ``<html``, or an XML declaration,
    doctype or comment followed by ``<html``."""
    start = head.lstrip().lower()
    return start.startswith(("<!doctype html", "<html")) or (
        start.startswith(("<?xml", "<!doctype", "<!--")) and "<html" in start)


def sniff_markdown(data: bytes, head: str) -> bool:
    """YAML front matter at the start (the Markdown reader's own test of it), so that a
    .md file on standard input is read as the same file by path is."""
    from forewarn.ingest.markdown import starts_with_front_matter

    return starts_with_front_matter(data)


register_reader("text", label="plain text", extensions=(".txt", ".text"),
                media_types=("text/plain",), read=read_text_format, aliases=("txt",))
register_reader("markdown", label="Markdown", extensions=(".md", ".markdown"),
                media_types=("text/markdown", "text/x-markdown"), read=read_markdown,
                sniff=sniff_markdown, aliases=("md",))
register_reader("html", label="AO3 HTML", extensions=(".html", ".htm", ".xhtml"),
                media_types=("text/html", "application/xhtml+xml"), read=read_html,
                sniff=sniff_html, aliases=("htm", "xhtml", "ao3-html"))
register_reader("epub", label="EPUB", extensions=(".epub",),
                media_types=("application/epub+zip",), read=read_epub, sniff=sniff_epub,
                binary=True)
