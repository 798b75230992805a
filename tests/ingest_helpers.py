"""Helpers for the ingest tests: offset checks and EPUB files built in memory."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from forewarn.work import Work

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"


def assert_offsets(work: Work) -> None:
    """Every paragraph is where its offsets say, in its chapter and in the source text."""
    assert work.chapters, "a work has at least one chapter"
    for number, chapter in enumerate(work.chapters, start=1):
        assert chapter.number == number
        assert chapter.text, "no empty chapters"
        assert chapter.paragraphs, "no chapter without paragraphs"
        assert work.source_text[chapter.offset : chapter.offset + len(chapter.text)] == chapter.text
        previous_end = 0
        for paragraph in chapter.paragraphs:
            assert paragraph.text, "no empty paragraphs"
            assert paragraph.text == paragraph.text.strip()
            assert chapter.text[paragraph.start : paragraph.end] == paragraph.text
            begin = chapter.offset + paragraph.start
            assert work.source_text[begin : chapter.offset + paragraph.end] == paragraph.text
            assert paragraph.start >= previous_end, "paragraphs are in order, not overlapping"
            previous_end = paragraph.end


def paragraph_texts(work: Work) -> list[list[str]]:
    """The paragraph texts of each chapter."""
    return [[p.text for p in chapter.paragraphs] for chapter in work.chapters]


XHTML = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">
<head><title>{title}</title><link rel="stylesheet" href="style.css" type="text/css"/></head>
<body>
{body}
</body>
</html>
"""


@dataclass
class EpubSpec:
    """A small EPUB to build: documents (in spine order) and package metadata."""

    documents: list[tuple[str, str]]  # (file name, body markup)
    version: int = 3
    title: str = "Salt and Lamplight"
    creator: str = "A. Writer"
    description: str | None = None
    subjects: list[str] = field(default_factory=list)
    toc: dict[str, str] = field(default_factory=dict)  # file name -> label
    opf_dir: str = "OEBPS"
    manifest_order: list[str] | None = None  # file names, if not the spine order
    non_linear: set[str] = field(default_factory=set)


def document(title: str, body: str) -> str:
    """A complete XHTML document around ``body``."""
    return XHTML.format(title=escape(title), body=body)


def build_epub(spec: EpubSpec) -> bytes:
    """The bytes of an EPUB 2 (with NCX) or EPUB 3 (with nav document) file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), "application/epub+zip", compress_type=zipfile.ZIP_STORED
        )
        archive.writestr("META-INF/container.xml", container_xml(f"{spec.opf_dir}/content.opf"))
        archive.writestr(f"{spec.opf_dir}/content.opf", opf_xml(spec))
        for name, body in spec.documents:
            archive.writestr(f"{spec.opf_dir}/{name}", document(name, body))
        if spec.version >= 3:
            archive.writestr(f"{spec.opf_dir}/nav.xhtml", nav_xhtml(spec))
        else:
            archive.writestr(f"{spec.opf_dir}/toc.ncx", ncx_xml(spec))
        archive.writestr(f"{spec.opf_dir}/style.css", "p { margin: 0; }")
    return buffer.getvalue()


def container_xml(opf_path: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles>
    <rootfile full-path="{opf_path}" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>
"""


NON_LINEAR = ' linear="no"'


def _item_id(name: str) -> str:
    return "item-" + name.replace(".", "-").replace("/", "-")


def opf_xml(spec: EpubSpec) -> str:
    names = [name for name, _ in spec.documents]
    order = spec.manifest_order or names
    items = [
        f'<item id="{_item_id(n)}" href="{n}" media-type="application/xhtml+xml"/>' for n in order
    ]
    items.append('<item id="css" href="style.css" media-type="text/css"/>')
    if spec.version >= 3:
        items.append(
            '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>'
        )
        spine_open = "<spine>"
    else:
        items.append('<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>')
        spine_open = '<spine toc="ncx">'
    refs = [
        f'<itemref idref="{_item_id(n)}"{NON_LINEAR if n in spec.non_linear else ""}/>'
        for n in names
    ]
    meta = [
        f"<dc:title>{escape(spec.title)}</dc:title>",
        f"<dc:creator>{escape(spec.creator)}</dc:creator>",
    ]
    if spec.description is not None:
        meta.append(f"<dc:description>{escape(spec.description)}</dc:description>")
    meta.extend(f"<dc:subject>{escape(s)}</dc:subject>" for s in spec.subjects)
    meta.append("<dc:language>en</dc:language>")
    meta.append(
        '<dc:identifier id="uid">urn:uuid:00000000-0000-4000-8000-000000000000</dc:identifier>'
    )
    version = "3.0" if spec.version >= 3 else "2.0"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="{version}" unique-identifier="uid">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:opf="http://www.idpf.org/2007/opf">
    {"".join(meta)}
  </metadata>
  <manifest>
    {"".join(items)}
  </manifest>
  {spine_open}
    {"".join(refs)}
  </spine>
</package>
"""


def nav_xhtml(spec: EpubSpec) -> str:
    links = "".join(
        f'<li><a href="{name}">{escape(label)}</a></li>' for name, label in spec.toc.items()
    )
    body = f'<nav epub:type="toc" id="toc"><h1>Contents</h1><ol>{links}</ol></nav>'
    return document("Contents", body)


def ncx_xml(spec: EpubSpec) -> str:
    points = "".join(
        f'<navPoint id="p{i}" playOrder="{i}"><navLabel><text>{escape(label)}</text></navLabel>'
        f'<content src="{name}"/></navPoint>'
        for i, (name, label) in enumerate(spec.toc.items(), start=1)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1">
  <head><meta name="dtb:uid" content="urn:uuid:00000000-0000-4000-8000-000000000000"/></head>
  <docTitle><text>{escape(spec.title)}</text></docTitle>
  <navMap>{points}</navMap>
</ncx>
"""


def zip_bytes(
    members: Mapping[str, bytes | str], *, compression: int = zipfile.ZIP_DEFLATED
) -> bytes:
    """A zip archive with exactly these members (for broken-EPUB tests)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return buffer.getvalue()


AO3_PREFACE = """
<div id="preface">
  <h2 class="toc-heading">Preface</h2>
  <p class="message"><b>Salt and Lamplight</b><br/>Posted originally on the
  <a href="https://archiveofourown.org/">Archive of Our Own</a>.</p>
  <div class="meta">
    <dl class="tags">
      <dt>Rating:</dt><dd><a href="#">Teen And Up Audiences</a></dd>
      <dt>Archive Warning:</dt><dd><a href="#">No Archive Warnings Apply</a></dd>
      <dt>Fandom:</dt><dd><a href="#">Original Work</a></dd>
      <dt>Characters:</dt><dd><a href="#">Orla</a>, <a href="#">Benedek</a></dd>
      <dt>Additional Tags:</dt><dd><a href="#">Found Family</a>, <a href="#">Shipwrecks</a></dd>
      <dt>Stats:</dt><dd>Published: 2024-01-01 Words: 400 Chapters: 2/2</dd>
    </dl>
    <h1>Salt and Lamplight</h1>
    <div class="byline">by <a rel="author" href="#">inkpot</a></div>
    <p>Summary</p>
    <blockquote class="userstuff"><p>Two keepers, one lamp. CW: injury.</p></blockquote>
  </div>
</div>
"""


class Fifo:
    """A named pipe for tests; a watchdog unblocks a reader stuck on it after ``timeout``.

    Opening a FIFO for reading waits for a writer: code that does not refuse FIFOs hangs.
    The watchdog opens it for writing and closes it, so such code sees an empty file (and
    the test fails on the exit code) instead of hanging the test run.
    """

    def __init__(self, path: Path, timeout: float = 15.0) -> None:
        import os
        import threading

        self.path = path
        os.mkfifo(path)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, args=(timeout,), daemon=True)
        self._thread.start()

    def _watch(self, timeout: float) -> None:
        import os

        if self._stop.wait(timeout):
            return
        while not self._stop.is_set():
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # no reader yet (ENXIO) or the FIFO is gone
                self._stop.wait(0.1)
                continue
            os.close(fd)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
