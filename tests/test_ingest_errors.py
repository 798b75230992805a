"""Every way the input can be wrong, and the one-line error each one gives."""

from __future__ import annotations

import io
import os
import random
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from ingest_helpers import EpubSpec, Fifo, build_epub, paragraph_texts, zip_bytes

from forewarn import ingest
from forewarn.errors import (
    EmptyInput,
    ForewarnError,
    InputNotFound,
    InputTooLarge,
    MalformedInput,
    UnsupportedFormat,
)
from forewarn.ingest import DEFAULT_MAX_BYTES, read_bytes, read_path, sniff_format

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00>\x00\x01\x00\x00\x00" + bytes(40)


def _one_line(error: ForewarnError, source: str) -> str:
    message = str(error)
    assert "\n" not in message
    assert message.startswith(f"{source}: ")
    return message


def test_default_max_bytes() -> None:
    assert DEFAULT_MAX_BYTES == 32 * 1024 * 1024


def test_missing_path(tmp_path: Path) -> None:
    missing = tmp_path / "x.txt"
    with pytest.raises(InputNotFound) as caught:
        read_path(missing)
    assert _one_line(caught.value, str(missing)) == f"{missing}: no such file"


def test_missing_relative_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputNotFound, match=r"^x\.txt: no such file$"):
        read_path("x.txt")
    with pytest.raises(InputNotFound, match=r"^x\.pdf: no such file$"):
        read_path("x.pdf")


def test_path_through_a_file_is_not_found(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("story")
    with pytest.raises(InputNotFound, match="no such file"):
        read_path(tmp_path / "file" / "inner.txt")


def test_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dir").mkdir()
    with pytest.raises(InputNotFound, match=r"^dir: is a directory, not a file; .*forewarn batch dir"):
        read_path("dir")


@pytest.fixture
def fifo(tmp_path: Path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this platform")
    pipe = Fifo(tmp_path / "pipe.txt")
    yield pipe.path
    pipe.close()


def test_fifo_is_refused_without_blocking(fifo: Path) -> None:
    started = time.perf_counter()
    with pytest.raises(InputNotFound) as caught:
        read_path(fifo)
    assert _one_line(caught.value, str(fifo)) == (
        f"{fifo}: is a FIFO (named pipe), not a regular file (use - to read standard input)"
    )
    with pytest.raises(InputNotFound, match="is a FIFO"):
        ingest.read_file_bytes(str(fifo))  # batch reads files through this
    assert time.perf_counter() - started < 5


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_device_is_refused() -> None:
    with pytest.raises(InputNotFound, match=r"^/dev/zero: is a device, not a regular file"):
        read_path("/dev/zero")
    with pytest.raises(InputNotFound, match=r"^/dev/zero: is a device"):
        ingest.read_file_bytes("/dev/zero")


def test_socket_is_refused(tmp_path: Path) -> None:
    import socket

    if not hasattr(socket, "AF_UNIX"):
        pytest.skip("no Unix sockets")
    path = tmp_path / "s.txt"
    with socket.socket(socket.AF_UNIX) as server:
        try:
            server.bind(str(path))
        except OSError as exc:  # a path too long for a socket address
            pytest.skip(f"cannot bind a Unix socket: {exc}")
        with pytest.raises(InputNotFound, match=r"s\.txt: is a socket, not a regular file"):
            read_path(path)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can read anything")
def test_permission_denied_real(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("story")
    path.chmod(0)
    try:
        with pytest.raises(InputNotFound, match="permission denied"):
            read_path(path)
    finally:
        path.chmod(0o600)


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("story")

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(ingest, "open", denied, raising=False)
    with pytest.raises(InputNotFound) as caught:
        read_path(path)
    assert _one_line(caught.value, str(path)).endswith(": permission denied")


@pytest.mark.parametrize("content", [b"", b"   \n\t\n  \r\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf \n"])
def test_empty_or_whitespace_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(EmptyInput) as caught:
        read_path(path)
    assert _one_line(caught.value, str(path)).endswith(": empty file")


@pytest.mark.parametrize("suffix", [".md", ".html", ".epub", ""])
def test_empty_file_any_format(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"empty{suffix}"
    path.write_bytes(b"\n\n")
    with pytest.raises(EmptyInput):
        read_path(path)


def test_too_large_is_rejected_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"word " * 300)

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was opened")

    monkeypatch.setattr(ingest, "open", no_reading, raising=False)
    with pytest.raises(InputTooLarge) as caught:
        read_path(path, max_bytes=1000)
    assert _one_line(caught.value, str(path)) == (
        f"{path}: file is too large (1500 bytes; the limit is 1000 bytes)"
    )


def test_sparse_200mb_file_is_rejected_quickly(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with open(path, "wb") as handle:
        handle.truncate(200 * 1024 * 1024)
    start = time.perf_counter()
    with pytest.raises(InputTooLarge, match=r"\(200\.0 MiB; the limit is 32\.0 MiB\)$"):
        read_path(path)
    assert time.perf_counter() - start < 1


def test_exactly_max_bytes_is_allowed(tmp_path: Path) -> None:
    path = tmp_path / "fits.txt"
    path.write_bytes(b"a" * 99 + b"\n")
    assert read_path(path, max_bytes=100).word_count == 1


def test_read_bytes_too_large() -> None:
    with pytest.raises(InputTooLarge, match=r"^blob: file is too large"):
        read_bytes(b"x" * 11, "blob", max_bytes=10)


class _CountingStream(io.BytesIO):
    """A stdin stand-in that remembers how much was asked for."""

    requested = 0

    def read(self, size: int | None = -1) -> bytes:
        self.requested = size if size is not None else -1
        return super().read(size)


def _fake_stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> _CountingStream:
    stream = _CountingStream(data)
    monkeypatch.setattr(sys, "stdin", SimpleNamespace(buffer=stream))
    return stream


def test_stdin_is_read_and_sniffed(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_stdin(monkeypatch, b"<html><body><p>From a pipe.</p></body></html>")
    work = read_path("-")
    assert work.source == "<stdin>"
    assert work.format == "html"
    assert paragraph_texts(work) == [["From a pipe."]]


def test_stdin_plain_text(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_stdin(monkeypatch, b"Title: Piped\n\nA story.\n")
    work = read_path("-")
    assert (work.title, work.format) == ("Piped", "text")


def test_stdin_reads_at_most_max_bytes_plus_one(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = _fake_stdin(monkeypatch, b"x" * 5000)
    with pytest.raises(InputTooLarge, match=r"^<stdin>: file is too large \(more than 100 bytes"):
        read_path("-", max_bytes=100)
    assert stream.requested == 101


def test_stdin_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_stdin(monkeypatch, b"")
    with pytest.raises(EmptyInput, match=r"^<stdin>: empty file$"):
        read_path("-")


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("image.txt", PNG + bytes(100)),
        ("noise", random.Random(3).randbytes(4096)),
        ("noise.txt", random.Random(4).randbytes(4096)),
        ("program", ELF),
        ("program.md", ELF),
        ("controls.txt", bytes(range(1, 32)) * 20),
        ("pairs.txt", b"\x01\x00\x02\x00" * 50),
    ],
)
def test_binary_is_unsupported(tmp_path: Path, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(UnsupportedFormat) as caught:
        read_path(path)
    assert _one_line(caught.value, str(path)) == f"{path}: binary file, not a story"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("x.pdf", "PDF"),
        ("x.docx", "DOCX"),
        ("X.PDF", "PDF"),
        ("book.mobi", "MOBI"),
        ("cover.png", "PNG"),
    ],
)
def test_unsupported_extension(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, kind: str
) -> None:
    monkeypatch.chdir(tmp_path)
    Path(name).write_bytes(b"%PDF-1.7 whatever")
    with pytest.raises(UnsupportedFormat) as caught:
        read_path(name)
    assert str(caught.value) == (
        f"{name}: {kind} is not supported (supported: .txt .md .html .epub)"
    )


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
        (PNG, "PNG"),
        (b"{\\rtf1\\ansi story}", "RTF"),
        (zip_bytes({"word/document.xml": "<w:document/>"}), "DOCX"),
        (zip_bytes({"readme.txt": "hello"}), "ZIP"),
    ],
)
def test_sniffed_unsupported_formats(tmp_path: Path, data: bytes, kind: str) -> None:
    path = tmp_path / "mystery"
    path.write_bytes(data)
    with pytest.raises(UnsupportedFormat, match=rf": {kind} is not supported \(supported: "):
        read_path(path)


def test_unknown_extension_with_text_is_read(tmp_path: Path) -> None:
    path = tmp_path / "story.fic"
    path.write_text("A story with an odd extension.\n", encoding="utf-8")
    work = read_path(path)
    assert work.format == "text"
    assert work.source == str(path)


def test_utf16_without_bom_and_without_extension(tmp_path: Path) -> None:
    path = tmp_path / "windows-notes"
    path.write_bytes("Chapter 1\r\n\r\nIt rained.\r\n".encode("utf-16-le"))
    work = read_path(path)
    assert (work.format, work.encoding) == ("text", "utf-16-le")
    assert paragraph_texts(work) == [["It rained."]]


def test_sniff_format() -> None:
    assert sniff_format(b"  <!DOCTYPE html><p>x</p>") == "html"
    assert sniff_format(b"<?xml version='1.0'?>\n<html xmlns='x'>") == "html"
    assert sniff_format(b"\xef\xbb\xbf<html>") == "html"
    assert sniff_format("<html>".encode("utf-16")) == "html"
    assert sniff_format(b"Plain words.") == "text"
    assert sniff_format(build_epub(EpubSpec(documents=[("a.xhtml", "<p>x</p>")]))) == "epub"


def test_unknown_fmt_argument() -> None:
    with pytest.raises(UnsupportedFormat, match=r"^x: unknown format 'pdf'"):
        read_bytes(b"text", "x", fmt="pdf")


def test_invalid_utf8_in_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "mixed.txt"
    good = "\u201cHello,\u201d she said. Caf\u00e9, na\u00efve, r\u00e9sum\u00e9.\n".encode()
    path.write_bytes(good + b"Then a stray byte: \x92 here.\n")
    with pytest.raises(MalformedInput) as caught:
        read_path(path)
    assert _one_line(caught.value, str(path)) == (
        f"{path}: invalid UTF-8 at byte {len(good) + 19}; "
        "re-save the file as UTF-8 or pass --encoding"
    )


def test_invalid_utf8_with_explicit_encoding_is_fine() -> None:
    data = "Caf\u00e9 ".encode() + b"\x92"
    work = read_bytes(data, "x.txt", encoding="cp1252")
    assert work.source_text == "Caf\u00c3\u00a9 \u2019"


@pytest.mark.parametrize(
    ("text", "char", "offset"),
    [
        ("Hello\x01world", "U+0001", 5),
        ("Line one.\r\n\x1b[31mred", "U+001B", 10),
        ("ok\x0b", "U+000B", 2),
        ("del\x7f", "U+007F", 3),
    ],
)
def test_control_characters(text: str, char: str, offset: int) -> None:
    with pytest.raises(MalformedInput) as caught:
        read_bytes(text.encode(), "ctl.txt")
    assert str(caught.value) == f"ctl.txt: control character {char} at offset {offset}"


def test_control_character_in_markdown() -> None:
    with pytest.raises(MalformedInput, match=r"^c\.md: control character U\+0002 at offset 3$"):
        read_bytes(b"# T\x02\n\nText.\n", "c.md")


def test_explicit_unknown_encoding() -> None:
    with pytest.raises(MalformedInput, match=r"^x\.txt: unknown encoding 'klingon'$"):
        read_bytes(b"story", "x.txt", encoding="klingon")


def test_broken_utf16_with_bom() -> None:
    with pytest.raises(MalformedInput, match=r"^x\.txt: invalid UTF-16-LE at byte"):
        read_bytes(b"\xff\xfeA\x00\x00\xdc", "x.txt")


def test_malformed_epub_messages_start_with_name(tmp_path: Path) -> None:
    path = tmp_path / "story.epub"
    path.write_bytes(zip_bytes({"mimetype": "application/epub+zip"}))
    with pytest.raises(MalformedInput) as caught:
        read_path(path)
    assert str(caught.value) == f"{path}: not a valid EPUB (no META-INF/container.xml)"


def test_all_errors_are_forewarn_errors_with_exit_codes() -> None:
    for cls, code in [
        (InputNotFound, 3),
        (EmptyInput, 4),
        (UnsupportedFormat, 5),
        (MalformedInput, 6),
        (InputTooLarge, 7),
    ]:
        assert issubclass(cls, ForewarnError)
        assert cls.exit_code == code


def test_import_is_cheap() -> None:
    import subprocess

    code = (
        "import sys, forewarn.ingest; "
        "heavy = {'bs4', 'defusedxml', 'charset_normalizer', 'zipfile'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# --- hostile charset names -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (
            b'<html><head><meta charset="rot13"></head><body><p>Caf\xe9 story.</p></body></html>',
            "a.html",
            "a.html: declared charset 'rot13' is not a text encoding",
        ),
        (
            b'<?xml version="1.0" encoding="base64"?>\n<html><body><p>Caf\xe9.</p></body></html>',
            "b.html",
            "b.html: declared charset 'base64' is not a text encoding",
        ),
        (
            b"<html><head><meta charset='zlib_codec'></head><body><p>\xe9t\xe9</p></body></html>",
            "c.html",
            "c.html: declared charset 'zlib_codec' is not a text encoding",
        ),
    ],
)
def test_declared_charset_that_is_not_a_text_encoding(data: bytes, name: str, message: str) -> None:
    with pytest.raises(MalformedInput) as caught:
        read_bytes(data, name)
    assert _one_line(caught.value, name) == message


@pytest.mark.parametrize("encoding", ["hex", "base64", "rot13", "zlib", "uu", "idna",
                                      "punycode", "unicode_escape", "undefined"])
def test_forced_encoding_that_is_not_a_text_encoding(encoding: str) -> None:
    with pytest.raises(MalformedInput) as caught:
        read_bytes(b"A story about the sea.\n", "x.txt", encoding=encoding)
    message = _one_line(caught.value, "x.txt")
    assert message.endswith("is not a text encoding; check the --encoding you passed")


def test_epub_member_declaring_a_bytes_codec(monkeypatch: pytest.MonkeyPatch) -> None:
    import ingest_helpers

    monkeypatch.setattr(
        ingest_helpers, "XHTML", ingest_helpers.XHTML.replace('encoding="utf-8"', 'encoding="hex"')
    )
    data = build_epub(EpubSpec(documents=[("c.xhtml", "<p>The tide came in.</p>")]))
    with pytest.raises(MalformedInput) as caught:
        read_bytes(data, "h.epub")
    assert str(caught.value) == "h.epub: OEBPS/c.xhtml: declared charset 'hex' is not a text encoding"


# --- mixed encodings, control characters in every format ---------------------------------------


def test_mostly_utf8_with_a_few_cp1252_bytes_is_refused() -> None:
    # one UTF-8 "é" and three cp1252 quotes: more bad bytes than good sequences, but the
    # good one is a UTF-8 letter, so reading it all as cp1252 would garble it ("Ã©")
    data = "Caf\u00e9 at the harbour. ".encode() + b"Then \x93quoted\x94 and \x92 here.\n"
    with pytest.raises(MalformedInput) as caught:
        read_bytes(data, "mixed.txt")
    assert _one_line(caught.value, "mixed.txt") == (
        "mixed.txt: invalid UTF-8 at byte 27; re-save the file as UTF-8 or pass --encoding"
    )
    assert read_bytes(data, "mixed.txt", encoding="cp1252").source_text.startswith("Caf\u00c3")


def test_pure_cp1252_is_still_read() -> None:
    data = "\u201cCaf\u00e9,\u201d she said \u2014 na\u00efve \u00c9mile\u2019s.\n".encode("cp1252")
    work = read_bytes(data, "legacy.txt")
    assert work.encoding == "cp1252"
    assert work.source_text.startswith("\u201cCaf\u00e9,\u201d")


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"<html><body><p>She opened \x01 the door.</p></body></html>", "c.html",
         "c.html: control character U+0001 at offset 26"),
        (b"<p>The \x1b[31mred door.</p>", "c.htm", "c.htm: control character U+001B at offset 7"),
    ],
)
def test_control_characters_in_html(data: bytes, name: str, message: str) -> None:
    with pytest.raises(MalformedInput) as caught:
        read_bytes(data, name)
    assert str(caught.value) == message


def test_control_characters_in_epub() -> None:
    data = build_epub(EpubSpec(documents=[("c.xhtml", "<p>She opened \x02 the door.</p>")]))
    with pytest.raises(MalformedInput, match=r"^e\.epub: OEBPS/c\.xhtml: control character "
                                             r"U\+0002 at offset \d+$"):
        read_bytes(data, "e.epub")


def test_tab_newline_and_form_feed_are_fine_in_html() -> None:
    work = read_bytes(b"<html><body><p>One\ttwo\r\nthree\x0cfour.</p></body></html>", "ok.html")
    assert "four" in work.source_text


# --- a forced encoding that gives garbage ----------------------------------------------------


def test_forced_utf16_on_a_utf8_file_is_refused() -> None:
    data = ("The keeper climbed the stairs and lit the lamp. " * 20 + "\n\n").encode()
    assert len(data) % 2 == 0
    with pytest.raises(MalformedInput) as caught:
        read_bytes(data, "s.txt", encoding="utf-16")
    assert _one_line(caught.value, "s.txt") == (
        "s.txt: decoding as utf-16 gives no spaces or line breaks, not text; "
        "it reads as utf-8: leave out --encoding or pass --encoding utf-8"
    )


def test_forced_8bit_on_a_utf16_file_is_refused() -> None:
    data = "The keeper lit the lamp.\n".encode("utf-16-le")
    with pytest.raises(MalformedInput, match=r"^s\.txt: decoding as latin-1 gives NUL characters"):
        read_bytes(data, "s.txt", encoding="latin-1")
    with pytest.raises(MalformedInput, match=r"gives NUL characters, not text; it reads as utf-16"):
        read_bytes(data, "s.html", encoding="cp1252")


def test_forced_encoding_that_fits_is_read() -> None:
    chinese = "\u706f\u5854\u770b\u5b88\u4eba\u722c\u4e0a\u697c\u68af\uff0c\u70b9\u4eae\u4e86\u706f\u3002\n"
    assert read_bytes((chinese * 5).encode("utf-16"), "z.txt", encoding="utf-16").word_count > 0
    short = read_bytes("Hi.\n".encode("utf-16-le"), "z.txt", encoding="utf-16-le")
    assert short.source_text.strip() == "Hi."


def test_forced_encoding_without_spaces_is_read_when_nothing_reads_better() -> None:
    # a one-line Japanese text with no space or line break, in Shift JIS: the forced
    # encoding gives no spaces, but neither does any other reading
    japanese = "\u71c8\u53f0\u5b88\u306f\u968e\u6bb5\u3092\u767b\u3063\u3066\u706f\u3092" * 4
    work = read_bytes(japanese.encode("shift_jis"), "j.txt", encoding="shift_jis")
    assert work.source_text == japanese


def test_a_web_address_or_a_folder_says_what_to_do_instead(tmp_path, capsys) -> None:
    from forewarn.cli import main as cli_main

    assert cli_main(["scan", "https://archiveofourown.org/works/123"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Download" in err and "never goes online" in err
    assert cli_main(["scan", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a directory" in err and "forewarn batch" in err
