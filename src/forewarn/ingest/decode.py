"""Bytes to text: the decoding policy shared by every reader.

Policy (see :func:`decode_text`):

* an explicit ``encoding`` is used as given (a BOM of that encoding is dropped); bytes it
  cannot decode are :class:`MalformedInput`;
* a UTF-8 BOM means UTF-8, a UTF-16/32 BOM means UTF-16/32 (decoded strictly);
* NUL bytes (outside UTF-16 without BOM, which is recognised by its zero bytes) or more
  than 5% of control bytes (and more than 8 of them) mean a binary file:
  :class:`UnsupportedFormat`;
* valid UTF-8 is UTF-8;
* bytes that *look like* UTF-8 (valid multi-byte sequences at least as many as invalid
  ones) but do not decode are :class:`MalformedInput` naming the first bad byte, because
  guessing a legacy encoding would silently garble the valid part;
* anything else is legacy 8-bit text: cp1252 when it decodes and reads as Latin-script
  text, otherwise whatever charset-normalizer finds (imported lazily).

Control characters are checked on decoded text by :func:`check_controls`: C0 controls
other than tab, line feed, carriage return and form feed (and DEL) are
:class:`MalformedInput` with their character offset.
"""

from __future__ import annotations

import codecs
import re

from forewarn.errors import MalformedInput, UnsupportedFormat

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Bytes that may appear in a text file: \t \n \f \r, ESC (tolerated here, rejected later
# with an offset) and everything from space upwards except DEL.
_TEXT_BYTES = (
    bytes([7, 8, 9, 10, 12, 13, 27]) + bytes(range(0x20, 0x7F)) + bytes(range(0x80, 0x100))
)
_BINARY_FRACTION = 0.05  # more than this share of control bytes (and
_BINARY_MIN_COUNT = 8  # more than this many) means binary

_ASCII_LETTERS = frozenset(range(0x41, 0x5B)) | frozenset(range(0x61, 0x7B))
_HIGH_LETTERS = (frozenset(range(0xC0, 0x100)) - {0xD7, 0xF7}) | frozenset(
    b"\x83\x8a\x8c\x8e\x9a\x9c\x9e\x9f"
)
_NOT_ASCII_LETTER = bytes(b for b in range(256) if b not in _ASCII_LETTERS)
_NOT_HIGH_LETTER = bytes(b for b in range(256) if b not in _HIGH_LETTERS)

_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_UTF8_LATIN = re.compile(rb"[\xc2-\xc9][\x80-\xbf]|\xe2[\x80-\x82][\x80-\xbf]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")
_DECLARED = re.compile(
    rb"""(?:<\?xml[^>]{0,200}?encoding\s*=\s*["']|<meta[^>]{0,200}?charset\s*=\s*["']?)"""
    rb"""([A-Za-z0-9._:-]{1,40})""",
    re.IGNORECASE,
)


# Codecs that exist but do not decode a document's bytes: bytes-to-bytes codecs (base64,
# hex, rot13, zlib... are refused by ``_is_text_encoding``) and these text codecs meant for
# other things (domain names, Python literals) or for nothing at all.
_NOT_DOCUMENT_CODECS = frozenset(
    {"idna", "punycode", "unicode-escape", "raw-unicode-escape", "undefined"}
)


def text_codec(name: str) -> str | None:
    """The canonical name of the text encoding ``name``; ``None`` if Python has no such codec.

    Raises :class:`ValueError` for a codec that is not a text encoding (``base64``,
    ``hex``, ``rot13``, ``idna``...): such a name is never an acceptable charset.
    """
    try:
        codec = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):
        return None
    if not getattr(codec, "_is_text_encoding", True) or codec.name in _NOT_DOCUMENT_CODECS:
        raise ValueError(f"{name!r} is not a text encoding")
    return codec.name


def binary_message(source: str) -> str:
    """The one-line message for a file that is not text."""
    return f"{source}: binary file, not a story"


def decode_text(data: bytes, source: str, encoding: str | None = None) -> tuple[str, str]:
    """Decode a text or Markdown file; return ``(text, encoding_name)``.

    The text still has its original line endings; a leading BOM is removed.
    """
    return _decode(data, source, encoding, markup=False)


def decode_markup(data: bytes, source: str, encoding: str | None = None) -> tuple[str, str]:
    """Decode an HTML file: like :func:`decode_text`, but a ``<meta charset>`` or XML
    declaration is honoured when the bytes are not valid UTF-8."""
    return _decode(data, source, encoding, markup=True)


def _decode(data: bytes, source: str, encoding: str | None, *, markup: bool) -> tuple[str, str]:
    if encoding:
        text = _decode_forced(data, source, encoding)
        problem = _garbled(text)
        if problem:
            detected = _detect(data, source, markup)
            if problem == _NO_SPACES and (detected is None or not _has_space(detected[0])):
                return text, encoding  # no better reading: a text without spaces, perhaps
            hint = (
                f"it reads as {detected[1]}: leave out --encoding or pass --encoding {detected[1]}"
                if detected is not None
                else "check the --encoding you passed"
            )
            raise MalformedInput(
                f"{source}: decoding as {encoding} gives {problem}, not text; {hint}"
            )
        return text, encoding
    bom = _decode_bom(data, source)
    if bom is not None:
        return bom
    utf16 = _sniff_utf16(data)
    if utf16 is not None:
        return utf16
    reject_binary(data, source)
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        declared = declared_charset(data, source) if markup else None
        if declared and declared != "utf-8":
            return _decode_replacing(data, declared), declared
        if _looks_like_utf8(data):
            raise MalformedInput(
                f"{source}: invalid UTF-8 at byte {exc.start}; "
                "re-save the file as UTF-8 or pass --encoding"
            ) from None
    return _decode_legacy(data, source)


def decode_member(data: bytes, source: str | None = None) -> str:
    """Decode one XHTML/XML document inside an EPUB, leniently (bad bytes become U+FFFD).

    Valid UTF-8 is read as UTF-8; other bytes with the declared charset.

    A declared charset that is not a text encoding (``base64``) is :class:`MalformedInput`
    naming ``source``; without a ``source`` it is ignored (the document is read as UTF-8).
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(name, errors="replace")
    try:
        declared = declared_charset(data, source) or "utf-8"
    except MalformedInput:
        if source is not None:
            raise
        declared = "utf-8"
    try:
        # bytes that are valid UTF-8 are UTF-8, whatever the declaration says: a document
        # declaring utf-16 or latin-1 over UTF-8 bytes would otherwise be read as garbage
        # (and its story lost); real latin-1 prose is almost never valid UTF-8
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return _decode_replacing(data, declared)


def declared_charset(data: bytes, source: str | None = None) -> str | None:
    """The encoding an XML declaration or ``<meta>`` tag names in the first 2 KB, if known.

    An unknown name is ``None``; a codec that is not a text encoding (``rot13``,
    ``base64``) is :class:`MalformedInput`: such a file is broken or hostile.
    """
    match = _DECLARED.search(data[:2048])
    if not match:
        return None
    name = match.group(1).decode("ascii").lower()
    try:
        return text_codec(name)
    except ValueError:
        raise MalformedInput(
            f"{source or '<input>'}: declared charset {name!r} is not a text encoding"
        ) from None


def _decode_replacing(data: bytes, encoding: str) -> str:
    """``data.decode(encoding, errors="replace")``; a codec that fails outright is UTF-8."""
    try:
        return data.decode(encoding, errors="replace")
    except (UnicodeError, LookupError):
        return data.decode("utf-8", errors="replace")


def reject_binary(data: bytes, source: str) -> None:
    """Raise :class:`UnsupportedFormat` for NUL bytes or too many control bytes."""
    if b"\x00" in data:
        raise UnsupportedFormat(binary_message(source))
    if not data:
        return
    odd = len(data.translate(None, _TEXT_BYTES))
    if odd > _BINARY_MIN_COUNT and odd / len(data) > _BINARY_FRACTION:
        raise UnsupportedFormat(binary_message(source))


def check_controls(text: str, source: str) -> None:
    """Raise :class:`MalformedInput` at the first disallowed control character."""
    match = _CONTROL.search(text)
    if match:
        raise MalformedInput(
            f"{source}: control character U+{ord(match.group()):04X} at offset {match.start()}"
        )


def looks_like_text(data: bytes) -> bool:
    """Cheap check used when sniffing a file of unknown type."""
    sample = data[:65536]
    if sample.startswith(tuple(bom for bom, _ in _BOMS)):
        return True
    if _sniff_utf16(sample) is not None:
        return True
    if b"\x00" in sample:
        return False
    odd = len(sample.translate(None, _TEXT_BYTES))
    return odd <= _BINARY_MIN_COUNT or odd / len(sample) <= _BINARY_FRACTION


def _decode_forced(data: bytes, source: str, encoding: str) -> str:
    try:
        name = text_codec(encoding)
    except ValueError as exc:
        raise MalformedInput(f"{source}: {exc}; check the --encoding you passed") from None
    if name is None:
        raise MalformedInput(f"{source}: unknown encoding {encoding!r}")
    if name == "utf-8" and data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode(name)
    except UnicodeDecodeError as exc:
        raise MalformedInput(
            f"{source}: cannot decode as {encoding} at byte {exc.start}; "
            "check the --encoding you passed"
        ) from None
    except UnicodeError:
        raise MalformedInput(
            f"{source}: cannot decode as {encoding}; check the --encoding you passed"
        ) from None
    return text.removeprefix("\ufeff")


def _decode_bom(data: bytes, source: str) -> tuple[str, str] | None:
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(name), name
            except UnicodeDecodeError as exc:
                raise MalformedInput(
                    f"{source}: invalid {name.upper()} at byte {exc.start + len(bom)}; "
                    "re-save the file as UTF-8 or pass --encoding"
                ) from None
    return None


def _sniff_utf16(data: bytes) -> tuple[str, str] | None:
    """Recognise BOM-less UTF-16 by its zero bytes all falling on one parity."""
    sample = data[:4096]
    if len(sample) < 4 or len(data) % 2 or b"\x00" not in sample:
        return None
    even, odd = sample[0::2], sample[1::2]
    for zeros, other, name in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if zeros.count(0) >= 0.4 * len(zeros) and other.count(0) == 0:
            try:
                text = data.decode(name)
            except UnicodeDecodeError:
                return None
            return (text, name) if _readable(text) else None
    return None


def _readable(text: str) -> bool:
    """No NUL, and at least 95% printable characters at the start."""
    if "\x00" in text:
        return False
    head = text[:2048]
    printable = sum(1 for char in head if char.isprintable() or char in "\t\n\r\f")
    return printable >= 0.95 * len(head)


def _looks_like_utf8(data: bytes) -> bool:
    """Whether undecodable bytes are more likely UTF-8 gone wrong than a legacy encoding.

    True when valid multi-byte sequences are at least as many as invalid bytes, or when
    any of them is a common accented Latin letter or punctuation mark in UTF-8 (``é`` is
    ``Ã©`` and ``’`` is ``â€™`` in cp1252, which real legacy text hardly ever holds): a
    file mixing UTF-8 with cp1252 cannot be decoded either way without garbling a part.
    """
    valid = len(_UTF8_MULTIBYTE.findall(data))
    if not valid:
        return False
    invalid = data.decode("utf-8", errors="replace").count("\ufffd") - data.count(b"\xef\xbf\xbd")
    return valid >= invalid or _UTF8_LATIN.search(data) is not None


# Characters that only garbage decodes to: unassigned, private use, surrogates, controls.
_JUNK_CATEGORIES = frozenset({"Cn", "Co", "Cs", "Cc"})
_GARBLED_SAMPLE = 4096
_GARBLED_MIN_LENGTH = 32
_NO_SPACES = "no spaces or line breaks"


def _garbled(text: str) -> str | None:
    """Why ``text`` (decoded with a forced encoding) is not text, or ``None`` if it reads.

    NUL characters (a UTF-16 file read as 8-bit), no space or line break at all in a
    text of some length (an 8-bit file read as UTF-16/32: every pair of bytes becomes
    one CJK-looking character; refused only when the detected encoding does give spaces),
    or more than a tenth of unassigned, private-use or control characters.
    """
    if "\x00" in text:
        return "NUL characters"
    sample = text[:_GARBLED_SAMPLE]
    if len(sample.strip()) < _GARBLED_MIN_LENGTH:
        return None
    if not _has_space(sample):
        return _NO_SPACES
    import unicodedata

    junk = sum(
        1
        for char in sample
        if char not in "\t\n\r\f" and unicodedata.category(char) in _JUNK_CATEGORIES
    )
    if junk > 0.1 * len(sample):
        return "mostly unassigned or control characters"
    return None


def _detect(data: bytes, source: str, markup: bool) -> tuple[str, str] | None:
    """The text and encoding without a forced encoding, or ``None`` if that fails too."""
    try:
        return _decode(data, source, None, markup=markup)
    except (MalformedInput, UnsupportedFormat):
        return None


def _has_space(text: str) -> bool:
    return any(char.isspace() for char in text[:_GARBLED_SAMPLE].strip())


def _decode_legacy(data: bytes, source: str) -> tuple[str, str]:
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = None
    if text is not None and _mostly_ascii_letters(data):
        return text, "cp1252"
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        if text is not None:
            return text, "cp1252"
        raise MalformedInput(
            f"{source}: cannot tell the text encoding; re-save the file as UTF-8 or pass --encoding"
        )
    try:
        return data.decode(best.encoding), best.encoding
    except (UnicodeDecodeError, LookupError):
        raise MalformedInput(
            f"{source}: cannot tell the text encoding; re-save the file as UTF-8 or pass --encoding"
        ) from None


def _mostly_ascii_letters(data: bytes) -> bool:
    """True when at most 30% of the letters are cp1252 accented letters (Western text)."""
    ascii_letters = len(data.translate(None, _NOT_ASCII_LETTER))
    high_letters = len(data.translate(None, _NOT_HIGH_LETTER))
    return high_letters <= 0.3 * (ascii_letters + high_letters)
