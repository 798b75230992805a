"""The reader registry and its contract: every registered reader reads the shared story.

One small story (a title, two chapters, three paragraphs) is written in every registered
format (``STORY_IN``: a reader without an entry there fails the contract, so a new reader
comes with its fixture). Each reader, reached by extension, by name and alias, and by
sniffing when it sniffs, must give a valid :class:`~forewarn.work.Work`: chapters numbered
from 1 whose offsets slice ``source_text`` (tests/ingest_helpers.assert_offsets), the
story's paragraphs in order, and ``format`` its name or one of its aliases.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from ingest_helpers import EpubSpec, assert_offsets, build_epub, paragraph_texts

from forewarn.errors import UnsupportedFormat
from forewarn.ingest import EXTENSIONS, read_bytes, read_path, sniff_format
from forewarn.ingest.registry import (
    accepted_media_types,
    extensions,
    extensions_line,
    formats_line,
    get_reader,
    reader_names,
    readers,
    register_reader,
    unregister_reader,
)
from forewarn.work import Chapter, Work

ROOT = Path(__file__).resolve().parent.parent

TITLE = "The Lamp Room"
CHAPTERS = [
    ("Chapter 1: Oil", ["Mara trimmed the wick and counted the steps down to the sea.",
                        "The storm had not come yet, but the gulls had gone."]),
    ("Chapter 2: Light", ["At midnight the lamp caught, and the whole bay turned gold."]),
]
PARAGRAPHS = [paras for _, paras in CHAPTERS]


def _text() -> bytes:
    body = "\n\n".join(f"{head}\n\n" + "\n\n".join(paras) for head, paras in CHAPTERS)
    return f"Title: {TITLE}\nAuthor: A. Keeper\n\n{body}\n".encode()


def _markdown() -> bytes:
    body = "\n\n".join(f"## {head}\n\n" + "\n\n".join(paras) for head, paras in CHAPTERS)
    return f"---\ntitle: {TITLE}\nauthor: A. Keeper\n---\n\n{body}\n".encode()


def _html() -> bytes:
    chapters = "".join(
        f"<h2>{html.escape(head)}</h2>" + "".join(f"<p>{html.escape(p)}</p>" for p in paras)
        for head, paras in CHAPTERS)
    return (f"<!DOCTYPE html><html><head><title>{TITLE}</title></head><body>"
            f"<h1>{TITLE}</h1>{chapters}</body></html>").encode()


def _epub() -> bytes:
    documents = [(f"ch{n}.xhtml", f"<h2>{html.escape(head)}</h2>"
                  + "".join(f"<p>{html.escape(p)}</p>" for p in paras))
                 for n, (head, paras) in enumerate(CHAPTERS, start=1)]
    return build_epub(EpubSpec(documents=documents, title=TITLE))


#: The shared story in every registered format: a reader registered without an entry
#: here fails test_every_reader_has_the_shared_fixture.
STORY_IN: dict[str, Callable[[], bytes]] = {
    "text": _text, "markdown": _markdown, "html": _html, "epub": _epub,
}


def test_every_reader_has_the_shared_fixture() -> None:
    assert set(reader_names()) <= set(STORY_IN), "a registered reader has no contract fixture"


def _check(work: Work, reader: str, source: str) -> None:
    assert isinstance(work, Work)
    assert get_reader(work.format).name == reader  # its name or an alias ("ao3-html")
    assert work.source == source
    assert work.title == TITLE
    assert_offsets(work)  # chapters numbered from 1; offsets slice source_text
    assert paragraph_texts(work) == PARAGRAPHS
    for chapter in work.chapters:
        assert isinstance(chapter, Chapter)
        for p in chapter.paragraphs:  # and the whole-work offset of each paragraph
            begin = chapter.offset + p.start
            assert work.source_text[begin:begin + len(p.text)] == p.text
    assert work.word_count == sum(len(p.split()) for paras in PARAGRAPHS for p in paras)


@pytest.mark.parametrize("name", reader_names())
def test_each_extension_reads_the_story(name: str, tmp_path: Path) -> None:
    reader = get_reader(name)
    for ext in reader.extensions:
        path = tmp_path / f"story{ext}"
        path.write_bytes(STORY_IN[name]())
        _check(read_path(path), name, str(path))


@pytest.mark.parametrize("name", reader_names())
def test_name_and_aliases_choose_the_reader(name: str) -> None:
    reader = get_reader(name)
    for alias in (reader.name, reader.name.upper(), *reader.aliases):
        _check(read_bytes(STORY_IN[name](), "story", fmt=alias), name, "story")


@pytest.mark.parametrize("name", reader_names())
def test_sniffing_finds_the_reader(name: str) -> None:
    """Without an extension, a reader that sniffs is found from the bytes alone; the one
    that does not is the fallback for text."""
    data = STORY_IN[name]()
    assert sniff_format(data, "story") == name
    _check(read_bytes(data, "story"), name, "story")


def test_the_registry_lists_the_builtins() -> None:
    assert reader_names() == ("text", "markdown", "html", "epub")
    assert formats_line() == "text, markdown, html, epub"
    assert extensions_line() == ".txt .md .html .epub"
    assert extensions() == (".txt", ".text", ".md", ".markdown", ".html", ".htm", ".xhtml",
                            ".epub")
    assert dict(EXTENSIONS) == {e: r.name for r in readers() for e in r.extensions}
    media = accepted_media_types()
    assert {"text/plain", "text/markdown", "text/html", "application/epub+zip"} <= set(media)
    assert len(media) == len(set(media))


def test_registering_a_clash_is_refused() -> None:
    read = get_reader("text").read
    with pytest.raises(ValueError, match="already registered"):
        register_reader("text", extensions=(".xyz",), read=read)
    with pytest.raises(ValueError, match=r"\.md is already read by 'markdown'"):
        register_reader("notes", extensions=(".md",), read=read)
    with pytest.raises(ValueError, match="'txt' is already taken"):
        register_reader("notes", extensions=(".notes",), read=read, aliases=("txt",))
    assert "notes" not in reader_names()


def _read_lines(data: bytes, name: str, encoding: str | None, max_bytes: int) -> Work:
    """A toy format: each line a paragraph of one chapter."""
    text = data.decode("utf-8")
    return Work(chapters=[Chapter.from_paragraphs(1, None, text.splitlines())], title=None,
                source=name, format="lines", source_text="\n\n".join(
                    line.strip() for line in text.splitlines() if line.strip()))


@pytest.fixture
def lines_reader():
    reader = register_reader("lines", label="Lines", extensions=(".lines",),
                             media_types=("text/x-lines",), read=_read_lines,
                             sniff=lambda data, head: head.startswith("%lines"))
    yield reader
    unregister_reader("lines")
    assert ".lines" not in EXTENSIONS


def test_one_registration_reaches_every_place(lines_reader, tmp_path: Path, capsys) -> None:
    """A new reader is one registration: read_path by extension, sniffing, fmt=, the
    scanner's idea of a path, accepted media types, the CLI's help and the error that
    lists what is supported."""
    from forewarn.cli import build_parser
    from forewarn.scanner import _looks_like_path

    path = tmp_path / "story.lines"
    path.write_text("first line\nsecond line\n", encoding="utf-8")
    work = read_path(path)
    assert work.format == "lines" and [p.text for p in work.chapters[0].paragraphs] == [
        "first line", "second line"]
    assert_offsets(work)
    assert sniff_format(b"%lines\nhello\n", "x") == "lines"
    assert read_bytes(b"one\ntwo\n", "x", fmt="LINES").format == "lines"
    assert _looks_like_path("missing.lines")
    assert "text/x-lines" in accepted_media_types()
    assert ".lines" in EXTENSIONS and ".lines" in extensions_line()
    with pytest.raises(UnsupportedFormat, match=r"supported: .*\.lines"):
        read_bytes(b"%PDF-1.4 ...", "paper.pdf")
    for command in ("scan", "check", "audit", "read", "batch"):
        with pytest.raises(SystemExit):
            build_parser().parse_args([command, "--help"])
        assert ".lines" in capsys.readouterr().out, command


def test_a_reader_for_an_extension_listed_as_unsupported_wins(tmp_path: Path) -> None:
    """.rtf is refused by name until a reader takes it."""
    path = tmp_path / "story.rtf"
    path.write_text("hello there\n", encoding="utf-8")
    with pytest.raises(UnsupportedFormat, match="RTF is not supported"):
        read_path(path)
    register_reader("rtf-lines", extensions=(".rtf",), read=_read_lines)
    try:
        assert read_path(path).format == "lines"
    finally:
        unregister_reader("rtf-lines")


def test_cli_help_lists_the_registered_extensions(capsys) -> None:
    from forewarn.cli import build_parser

    for command in ("scan", "check", "audit", "read", "batch"):
        with pytest.raises(SystemExit):
            build_parser().parse_args([command, "--help"])
        out = " ".join(capsys.readouterr().out.split())
        assert extensions_line() in out, command


def test_the_docs_list_the_registered_formats() -> None:
    """docs/cli.md's table of input formats is the registry's (regenerate it with
    ``forewarn.ingest.registry.readers_markdown()``)."""
    from forewarn.ingest.registry import readers_markdown

    doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    shown = re.search(r"<!-- input-formats -->\n(.*?)<!-- /input-formats -->", doc, re.S)
    assert shown is not None, "docs/cli.md has no input-formats table"
    assert shown.group(1) == readers_markdown()
