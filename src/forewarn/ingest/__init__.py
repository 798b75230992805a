"""Input readers: plain text, Markdown, HTML (AO3 downloads included) and EPUB to a Work.

The readers are registered in :mod:`forewarn.ingest.registry` (the built-ins in
:mod:`forewarn.ingest.readers`); this module chooses one and guards the input. Entry points:

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
from forewarn.ingest.registry import (
    EXTENSIONS,
    FALLBACK,
    extensions_line,
    formats_line,
    get_reader,
    reader_for_extension,
    readers,
    sniff_readers,
)
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

readers()  # registers the built-in readers (forewarn.ingest.readers) and fills EXTENSIONS

# extensions of formats no reader takes, for a clear error before reading (a registered
# reader's extension wins over this list)
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
    if suffix not in EXTENSIONS and suffix in _UNSUPPORTED_EXTENSIONS:
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

    ``fmt`` (a registered reader's name or alias: ``text``, ``markdown``, ``html``,
    ``epub``...) chooses the reader; without it, a known extension on ``name`` does, and
    otherwise the content is sniffed. ``name`` is used as ``Work.source`` and in error
    messages.
    """
    if len(data) > max_bytes:
        raise _too_large(name, len(data), max_bytes)
    if not data.strip():
        raise EmptyInput(f"{name}: empty file")
    if fmt is None:
        reader = reader_for_extension(os.path.splitext(name)[1]) or get_reader(
            sniff_format(data, name))
    else:
        try:
            reader = get_reader(fmt)
        except KeyError:
            raise UnsupportedFormat(
                f"{name}: unknown format {fmt!r} (supported: {formats_line()})") from None
    return reader.read(data, name, encoding, max_bytes)


def read_text(text: str, source: str = "<text>") -> Work:
    """Parse an already-decoded string as plain text."""
    from forewarn.ingest.text import parse_text

    return parse_text(text, source)


def sniff_format(data: bytes, name: str = "<bytes>") -> str:
    """Guess the format of ``data``: the name of the first registered reader whose
    ``sniff`` claims it (binary readers are asked about content that is not text, text
    readers about text), else ``text`` for text.

    Raises :class:`UnsupportedFormat` for other archives, documents and binaries.
    """
    from forewarn.ingest.decode import binary_message, looks_like_text

    head = _head_text(data)
    is_zip = data.startswith((b"PK\x03\x04", b"PK\x05\x06"))
    kind = next((k for magic, k in _MAGIC if data.startswith(magic)), None)
    binary = is_zip or kind is not None or not looks_like_text(data)
    for reader in sniff_readers(binary=binary):
        assert reader.sniff is not None
        if reader.sniff(data, head):
            return reader.name
    if is_zip:
        raise _unsupported(name, _zip_kind(data))
    if kind is not None:
        raise _unsupported(name, kind)
    if binary:
        raise UnsupportedFormat(binary_message(name))
    return FALLBACK


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
    return UnsupportedFormat(f"{name}: {kind} is not supported (supported: {extensions_line()})")


def _zip_kind(data: bytes) -> str:
    """What a zip no reader takes is, for the error: DOCX, ODT, or ZIP."""
    from forewarn.ingest.readers import zip_members

    members = zip_members(data)
    if members is None:
        return "ZIP"
    names, mimetype = members
    if "word/document.xml" in names:
        return "DOCX"
    if mimetype.startswith(b"application/vnd.oasis.opendocument"):
        return "ODT"
    return "ZIP"


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
