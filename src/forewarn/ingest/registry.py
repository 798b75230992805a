"""The reader registry: every input format forewarn reads, registered once.

A reader is one module plus one :func:`register_reader` call. What the rest of forewarn
knows about input formats is read from here: the extensions ``read_path`` and the
scanner recognise (:data:`EXTENSIONS`, :func:`extensions`), the formats ``fmt=`` accepts
(:func:`get_reader`, names and aliases), the order content is sniffed in
(:func:`sniff_readers`), the media types a service accepts (:func:`accepted_media_types`),
and the lists of formats in the CLI's help and the docs (:func:`extensions_line`,
:func:`formats_line`, :func:`labels_line`, :func:`readers_markdown`).

The built-in readers (text, markdown, html, epub) are registered in
:mod:`forewarn.ingest.readers`, which :func:`readers` loads before answering.

A reader's ``read(data, name, encoding, max_bytes)`` takes the raw bytes and returns a
:class:`~forewarn.work.Work` whose chapters' offsets slice its ``source_text``
(:mod:`forewarn.work`); every problem is a :class:`~forewarn.errors.ForewarnError` whose
message starts with ``name``. ``sniff(data, head)`` (optional) says whether bytes of
unknown type are this format; ``head`` is the first characters decoded for a look.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from forewarn.work import Work

__all__ = [
    "EXTENSIONS",
    "FALLBACK",
    "Reader",
    "accepted_media_types",
    "extensions",
    "extensions_line",
    "formats_line",
    "get_reader",
    "labels_line",
    "reader_for_extension",
    "reader_names",
    "readers",
    "readers_markdown",
    "register_reader",
    "sniff_readers",
    "unregister_reader",
]

ReadFunction = Callable[[bytes, str, "str | None", int], Work]
SniffFunction = Callable[[bytes, str], bool]

# the reader for content no other reader's sniff claims (after the binary checks)
FALLBACK = "text"


@dataclass(frozen=True, slots=True)
class Reader:
    """One input format.

    ``name``: what ``fmt=`` and ``Work.format`` call it; ``label``: how help and docs name
    it ("AO3 HTML"); ``extensions``: lower-case, with the dot, the first the usual one;
    ``media_types``: what a service accepts for it, the first the usual one; ``aliases``:
    other names ``fmt=`` accepts; ``sniff``: recognises the format from its bytes
    (``None``: never sniffed, only chosen by extension or name, or as the fallback);
    ``binary``: the format is not text (EPUB: a zip), so its ``sniff`` is asked about
    content that is not text, and a text format's about content that is.
    """

    name: str
    label: str
    extensions: tuple[str, ...]
    media_types: tuple[str, ...]
    read: ReadFunction
    sniff: SniffFunction | None = None
    aliases: tuple[str, ...] = ()
    binary: bool = False


_READERS: dict[str, Reader] = {}
# extension -> reader name, kept up to date by register_reader (read_path, batch and the
# scanner read it)
EXTENSIONS: dict[str, str] = {}
_BUILTINS_LOADED = False


def register_reader(
    name: str,
    *,
    extensions: tuple[str, ...] | list[str],
    read: ReadFunction,
    label: str | None = None,
    media_types: tuple[str, ...] | list[str] = (),
    sniff: SniffFunction | None = None,
    aliases: tuple[str, ...] | list[str] = (),
    binary: bool = False,
    replace: bool = False,
) -> Reader:
    """Register a reader; returns it. Raises ``ValueError`` for a name, alias or extension
    another reader already has (``replace=True`` replaces a reader of the same name)."""
    name = name.strip().lower()
    if not name:
        raise ValueError("a reader needs a name")
    exts = tuple(e.lower() if e.startswith(".") else f".{e.lower()}" for e in extensions)
    if not exts:
        raise ValueError(f"reader {name!r}: give at least one extension")
    reader = Reader(name=name, label=label or name, extensions=exts,
                    media_types=tuple(m.lower() for m in media_types), read=read, sniff=sniff,
                    aliases=tuple(a.lower() for a in aliases), binary=binary)
    _load_builtins()
    if name in _READERS and not replace:
        raise ValueError(f"a reader named {name!r} is already registered")
    others = [r for r in _READERS.values() if r.name != name]
    taken_names = {n for r in others for n in (r.name, *r.aliases)}
    clash = sorted(taken_names & {name, *reader.aliases})
    if clash:
        raise ValueError(f"reader {name!r}: the name {clash[0]!r} is already taken")
    taken_exts = {e for r in others for e in r.extensions}
    clash = sorted(taken_exts & set(exts))
    if clash:
        raise ValueError(f"reader {name!r}: extension {clash[0]} is already read by "
                         f"{EXTENSIONS[clash[0]]!r}")
    _READERS[name] = reader
    _rebuild_extensions()
    return reader


def unregister_reader(name: str) -> None:
    """Remove a reader (tests, plugins replacing a built-in). Unknown names are ignored."""
    _READERS.pop(name.lower(), None)
    _rebuild_extensions()


def readers() -> tuple[Reader, ...]:
    """Every registered reader, in registration order (the built-ins first)."""
    _load_builtins()
    return tuple(_READERS.values())


def reader_names() -> tuple[str, ...]:
    """The readers' names, in registration order: ``("text", "markdown", "html", "epub")``
    with only the built-ins."""
    return tuple(r.name for r in readers())


def get_reader(name: str) -> Reader:
    """The reader called ``name`` or one of its aliases (any case); ``KeyError`` if none."""
    key = name.strip().lower()
    for reader in readers():
        if key == reader.name or key in reader.aliases:
            return reader
    raise KeyError(name)


def reader_for_extension(suffix: str) -> Reader | None:
    """The reader for a file extension (``".epub"``, any case), or ``None``."""
    _load_builtins()
    found = EXTENSIONS.get(suffix.lower())
    return _READERS[found] if found else None


def extensions() -> tuple[str, ...]:
    """Every extension a reader takes, in registration order."""
    return tuple(e for r in readers() for e in r.extensions)


def sniff_readers(binary: bool = False) -> tuple[Reader, ...]:
    """The readers that recognise content (of binary formats, or of text formats), in the
    order they are asked: registration order."""
    return tuple(r for r in readers() if r.sniff is not None and r.binary == binary)


def accepted_media_types() -> tuple[str, ...]:
    """Every media type a reader declares, without repeats, in registration order: the
    uploads a service can accept (anything else it can refuse with 415)."""
    return tuple(dict.fromkeys(m for r in readers() for m in r.media_types))


def extensions_line() -> str:
    """Each reader's usual extension: ``".txt .md .html .epub"`` (help strings, errors)."""
    return " ".join(r.extensions[0] for r in readers())


def formats_line(sep: str = ", ") -> str:
    """The readers' names: ``"text, markdown, html, epub"``."""
    return sep.join(reader_names())


def labels_line() -> str:
    """The readers' labels in prose: ``"plain text, Markdown, AO3 HTML and EPUB"``."""
    labels = [r.label for r in readers()]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def readers_markdown() -> str:
    """The input formats as the markdown table docs/cli.md shows (a test keeps the two
    the same)."""
    rows = ["| format | extensions | media types | recognised without an extension |",
            "|---|---|---|---|"]
    for r in readers():
        sniffed = "yes" if r.sniff is not None else ("the fallback for text"
                                                     if r.name == FALLBACK else "no")
        rows.append(f"| `{r.name}` ({r.label}) | {' '.join(f'`{e}`' for e in r.extensions)} "
                    f"| {', '.join(f'`{m}`' for m in r.media_types)} | {sniffed} |")
    return "\n".join(rows) + "\n"


def _rebuild_extensions() -> None:
    EXTENSIONS.clear()
    for reader in _READERS.values():
        for ext in reader.extensions:
            EXTENSIONS[ext] = reader.name


def _load_builtins() -> None:
    global _BUILTINS_LOADED
    if not _BUILTINS_LOADED:
        _BUILTINS_LOADED = True
        import forewarn.ingest.readers  # noqa: F401  (registers the built-ins)
