"""Input readers: plain text, Markdown, HTML (AO3 downloads included) and EPUB to a Work.

Entry points:

* :func:`read_path` reads a file (or ``"-"`` for standard input), choosing the reader
  by extension, or by sniffing the content for an unknown or missing extension;
* :func:`read_bytes` reads bytes already in memory;
* :func:`read_text` parses an already-decoded string as plain text.

Every problem with the input is a :class:`~forewarn.errors.ForewarnError` whose message
is one line starting with the source name. The readers themselves (and BeautifulSoup,
defusedxml, charset-normalizer) are imported only when needed, so importing this package
is cheap.
"""

from __future__ import annotations

import os
import re
import stat
import sys

from forewarn.errors import EmptyInput, InputNotFound, InputTooLarge, UnsupportedFormat
from forewarn.ingest._common import DEFAULT_MAX_BYTES
from forewarn.work import Work

__all__ = [
    "DEFAULT_MAX_BYTES",
    "EXTENSIONS",
    "read_bytes",
    "read_file_bytes",
    "read_path",
    "read_text",
    "sniff_format",
]

EXTENSIONS: dict[str, str] = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".epub": "epub",
}
SUPPORTED = ".txt .md .html .epub"
_UNSUPPORTED_EXTENSIONS: dict[str, str] = {
    ".pdf": "PDF",
    ".docx": "DOCX",
    ".doc": "DOC",
    ".odt": "ODT",
    ".rtf": "RTF",
    ".mobi": "MOBI",
    ".azw": "AZW",
    ".azw3": "AZW3",
    ".kfx": "KFX",
    ".fb2": "FB2",
    ".pages": "Pages",
    ".zip": "ZIP",
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".gif": "GIF",
    ".webp": "WebP",
}
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "PDF"),
    (b"{\\rtf", "RTF"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "DOC"),
)
_FORMAT_NAMES: dict[str, str] = {
    "text": "text",
    "txt": "text",
    "markdown": "markdown",
    "md": "markdown",
    "html": "html",
    "htm": "html",
    "xhtml": "html",
    "ao3-html": "html",
    "epub": "epub",
}
_STDIN = "<stdin>"
# open without waiting for a FIFO's writer, so that a FIFO can be refused rather than hang
_NONBLOCK = getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def read_path(
    path: str | os.PathLike[str],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    encoding: str | None = None,
) -> Work:
    """Read the story at ``path`` (``"-"``: standard input) into a :class:`Work`.

    Raises :class:`InputNotFound` (missing, a directory, unreadable),
    :class:`InputTooLarge` (over ``max_bytes``, checked before reading),
    :class:`EmptyInput`, :class:`UnsupportedFormat` or :class:`MalformedInput`.
    """
    name = os.fsdecode(path)
    if name == "-":
        return read_bytes(_read_stdin(max_bytes), _STDIN, encoding=encoding, max_bytes=max_bytes)
    if _URL.match(name) and not os.path.exists(name):
        raise InputNotFound(
            f"{name}: a web address; forewarn never goes online. Download the work first "
            "(on AO3: Download, then HTML or EPUB) and give forewarn the file")
    info = _stat(name)
    if stat.S_ISDIR(info.st_mode):
        raise InputNotFound(
            f"{name}: is a directory, not a file; give the files in it "
            f"({os.path.join(name, '*.txt')}) or scan the whole folder with "
            f"'forewarn batch {name}'")
    if not stat.S_ISREG(info.st_mode):
        raise _not_regular(name, info.st_mode)
    suffix = os.path.splitext(name)[1].lower()
    if suffix in _UNSUPPORTED_EXTENSIONS:
        raise _unsupported(name, _UNSUPPORTED_EXTENSIONS[suffix])
    if info.st_size > max_bytes:
        raise _too_large(name, info.st_size, max_bytes)
    data = read_file_bytes(name, max_bytes)
    return read_bytes(
        data, name, fmt=EXTENSIONS.get(suffix), encoding=encoding, max_bytes=max_bytes
    )


def read_bytes(
    data: bytes,
    name: str = "<bytes>",
    *,
    fmt: str | None = None,
    encoding: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Work:
    """Read a story held in memory.

    ``fmt`` (``text``, ``markdown``, ``html``, ``epub``) chooses the reader; without it,
    a known extension on ``name`` does, and otherwise the content is sniffed. ``name`` is
    used as ``Work.source`` and in error messages.
    """
    if len(data) > max_bytes:
        raise _too_large(name, len(data), max_bytes)
    if not data.strip():
        raise EmptyInput(f"{name}: empty file")
    if fmt is None:
        fmt = EXTENSIONS.get(os.path.splitext(name)[1].lower()) or sniff_format(data, name)
    elif fmt.lower() in _FORMAT_NAMES:
        fmt = _FORMAT_NAMES[fmt.lower()]
    else:
        raise UnsupportedFormat(
            f"{name}: unknown format {fmt!r} (supported: text, markdown, html, epub)"
        )
    return _READERS[fmt](data, name, encoding, max_bytes)


def read_text(text: str, source: str = "<text>") -> Work:
    """Parse an already-decoded string as plain text."""
    from forewarn.ingest.text import parse_text

    return parse_text(text, source)


def sniff_format(data: bytes, name: str = "<bytes>") -> str:
    """Guess the format of ``data``: ``epub``, ``html`` or ``text``.

    Raises :class:`UnsupportedFormat` for other archives, documents and binaries.
    """
    from forewarn.ingest.decode import binary_message, looks_like_text

    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _sniff_zip(data, name)
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            raise _unsupported(name, kind)
    if not looks_like_text(data):
        raise UnsupportedFormat(binary_message(name))
    head = _head_text(data).lstrip().lower()
    if head.startswith(("<!doctype html", "<html")) or (
        head.startswith(("<?xml", "<!doctype", "<!--")) and "<html" in head
    ):
        return "html"
    from forewarn.ingest.markdown import starts_with_front_matter

    if starts_with_front_matter(data):
        return "markdown"  # YAML front matter, read as a .md file by path is
    return "text"


# --- readers ------------------------------------------------------------------------------------


def _read_text_format(data: bytes, name: str, encoding: str | None, max_bytes: int) -> Work:
    from forewarn.ingest.decode import decode_text
    from forewarn.ingest.text import parse_text

    text, used = decode_text(data, name, encoding)
    return parse_text(text, name, encoding=used)


def _read_markdown(data: bytes, name: str, encoding: str | None, max_bytes: int) -> Work:
    from forewarn.ingest.decode import decode_text
    from forewarn.ingest.markdown import parse_markdown

    text, used = decode_text(data, name, encoding)
    return parse_markdown(text, name, encoding=used)


def _read_html(data: bytes, name: str, encoding: str | None, max_bytes: int) -> Work:
    from forewarn.ingest.ao3_html import parse_html
    from forewarn.ingest.decode import check_controls, decode_markup

    text, used = decode_markup(data, name, encoding)
    check_controls(text, name)
    return parse_html(text, name, encoding=used)


def _read_epub(data: bytes, name: str, encoding: str | None, max_bytes: int) -> Work:
    from forewarn.ingest.epub import parse_epub

    return parse_epub(data, name, max_bytes=max_bytes)


_READERS = {
    "text": _read_text_format,
    "markdown": _read_markdown,
    "html": _read_html,
    "epub": _read_epub,
}


# --- files and streams ------------------------------------------------------------------------

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def _stat(name: str) -> os.stat_result:
    try:
        return os.stat(name)
    except (FileNotFoundError, NotADirectoryError):
        raise InputNotFound(f"{name}: no such file") from None
    except PermissionError:
        raise InputNotFound(f"{name}: permission denied") from None
    except (OSError, ValueError) as exc:
        raise InputNotFound(f"{name}: cannot open ({_reason(exc)})") from None


def read_file_bytes(name: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """A file's bytes, at most ``max_bytes`` (InputNotFound / InputTooLarge otherwise).

    Only a regular file is read: a FIFO, device or socket is :class:`InputNotFound`, found
    without blocking (the file is opened non-blocking and checked with ``fstat``).
    """
    try:
        fd = os.open(name, os.O_RDONLY | _NONBLOCK)
        with open(fd, "rb") as handle:
            mode = os.fstat(fd).st_mode
            if stat.S_ISDIR(mode):
                raise IsADirectoryError(name)
            if not stat.S_ISREG(mode):
                raise _not_regular(name, mode)
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputNotFound(f"{name}: no such file") from None
    except IsADirectoryError:
        raise InputNotFound(f"{name}: is a directory, not a file") from None
    except PermissionError:
        raise InputNotFound(f"{name}: permission denied") from None
    except OSError as exc:
        raise InputNotFound(f"{name}: cannot read ({_reason(exc)})") from None
    if len(data) > max_bytes:
        raise _too_large(name, len(data), max_bytes, at_least=True)
    return data


def _read_stdin(max_bytes: int) -> bytes:
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        raise InputNotFound(f"{_STDIN}: standard input is not available")
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _too_large(_STDIN, len(data), max_bytes, at_least=True)
    return bytes(data)


def _not_regular(name: str, mode: int) -> InputNotFound:
    if stat.S_ISFIFO(mode):
        kind = "a FIFO (named pipe)"
    elif stat.S_ISSOCK(mode):
        kind = "a socket"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "a device"
    else:
        kind = "a special file"
    return InputNotFound(f"{name}: is {kind}, not a regular file (use - to read standard input)")


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc).splitlines()[0] or type(exc).__name__


def _too_large(name: str, size: int, limit: int, *, at_least: bool = False) -> InputTooLarge:
    more = "more than " if at_least else ""
    return InputTooLarge(
        f"{name}: file is too large ({more}{_human(size if not at_least else limit)}; "
        f"the limit is {_human(limit)})"
    )


def _human(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size} bytes"
    return f"{size / (1024 * 1024):.1f} MiB"


def _unsupported(name: str, kind: str) -> UnsupportedFormat:
    return UnsupportedFormat(f"{name}: {kind} is not supported (supported: {SUPPORTED})")


def _sniff_zip(data: bytes, name: str) -> str:
    """``epub`` for an EPUB; :class:`UnsupportedFormat` naming other zip-based formats."""
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
        # A damaged zip: let the EPUB reader report it if it claims to be one.
        return "epub" if b"application/epub+zip" in data[:100] else _raise_zip(name, "ZIP")
    if mimetype == b"application/epub+zip" or "META-INF/container.xml" in names:
        return "epub"
    if "word/document.xml" in names:
        return _raise_zip(name, "DOCX")
    if mimetype.startswith(b"application/vnd.oasis.opendocument"):
        return _raise_zip(name, "ODT")
    return _raise_zip(name, "ZIP")


def _raise_zip(name: str, kind: str) -> str:
    raise _unsupported(name, kind)


def _head_text(data: bytes) -> str:
    """The first characters of ``data`` as text, for sniffing only."""
    head = data[:2048]
    for bom, codec in (
        (b"\xef\xbb\xbf", "utf-8"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if head.startswith(bom):
            return head[len(bom) :].decode(codec, errors="ignore")
    return head.decode("latin-1")
