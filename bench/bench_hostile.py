"""Benchmark `forewarn scan` on hostile inputs: it must stay bounded in time and memory.

Builds each hostile file in a temporary folder (none is ever committed), runs the real
command on it N times (a fresh process each time) and prints the median wall time, the
peak resident memory of the process and its exit code:

* an EPUB whose spine repeats one 9.9 MB document 2,000 times (a file of about 17 KB);
* an EPUB of 25 documents of 9.9 MB each (about 424 KB; 247 MB of markup);
* a 3 MB plain-text paragraph without a single punctuation mark;
* an AO3 HTML work with 20,000 distinct tags of about 290 characters (about 5.9 MB).

    python bench/bench_hostile.py [--runs 3] [--timeout 120]

Targets (issue 13): each under 30 s and 600 MB. A bomb may be refused (exit 7: its text
is over the 32 MiB limit) or scanned (exit 0); either is fine as long as it is bounded.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

DOC_BYTES = int(9.9 * 1000 * 1000)
SENTENCE = "The tide came in over the grey stones and the gulls went quiet. "


def forewarn_command() -> list[str]:
    return [sys.executable, "-m", "forewarn"]


def _container() -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
        '<rootfiles><rootfile full-path="content.opf" '
        'media-type="application/oebps-package+xml"/></rootfiles></container>'
    )


def _opf(items: list[str], spine: list[str]) -> str:
    manifest = "".join(
        f'<item id="{i}" href="{i}.xhtml" media-type="application/xhtml+xml"/>' for i in items
    )
    refs = "".join(f'<itemref idref="{i}"/>' for i in spine)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="u">'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
        "<dc:title>Bomb</dc:title><dc:identifier id=\"u\">x</dc:identifier></metadata>"
        f"<manifest>{manifest}</manifest><spine>{refs}</spine></package>"
    )


def _big_document(size: int = DOC_BYTES) -> bytes:
    """An XHTML document of about ``size`` bytes: paragraphs of plain sentences."""
    paragraph = "<p>" + SENTENCE * 12 + "</p>\n"
    head = '<?xml version="1.0" encoding="utf-8"?>\n<html><body>\n'
    tail = "</body></html>\n"
    count = (size - len(head) - len(tail)) // len(paragraph)
    return (head + paragraph * count + tail).encode()


def _epub(documents: dict[str, bytes], spine: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), "application/epub+zip", compress_type=zipfile.ZIP_STORED
        )
        archive.writestr("META-INF/container.xml", _container())
        archive.writestr("content.opf", _opf(list(documents), spine))
        for ident, data in documents.items():
            archive.writestr(f"{ident}.xhtml", data)
    return buffer.getvalue()


def repeated_spine_epub() -> bytes:
    """One 9.9 MB document, its idref repeated 2,000 times in the spine."""
    return _epub({"c1": _big_document()}, ["c1"] * 2000)


def many_large_documents_epub() -> bytes:
    """25 distinct documents of 9.9 MB each."""
    doc = _big_document()
    documents = {f"c{i}": doc.replace(b"<body>", f"<body><!-- {i} -->".encode()) for i in
                 range(1, 26)}
    return _epub(documents, list(documents))


def long_paragraph_text(size: int = 3 * 1000 * 1000) -> bytes:
    """A 3 MB paragraph of words with no punctuation and no line break."""
    words = ["tide", "stone", "gull", "harbour", "lamp", "rope", "salt", "night", "boat"]
    out, total, i = [], 0, 0
    while total < size:
        word = words[i % len(words)]
        out.append(word)
        total += len(word) + 1
        i += 1
    return (" ".join(out) + "\n").encode()


def many_tags_html(count: int = 20000) -> bytes:
    """An AO3-style page whose tag list holds ``count`` distinct tags of ~290 characters."""
    tags = "".join(f"<a>x{i}{'(' * 280}a)y</a>" for i in range(count))
    return (
        '<!DOCTYPE html><html><head><title>Tags</title></head><body><div id="preface">'
        '<div class="meta"><dl class="tags"><dt>Additional Tags:</dt><dd>'
        f"{tags}</dd></dl></div></div>"
        f'<div id="chapters" class="userstuff"><p>{SENTENCE * 20}</p></div></body></html>'
    ).encode()


def run_once(args: list[str], timeout: float) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MB) and exit code of one run (-9: killed at the timeout)."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = started + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.05)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024, proc.returncode  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per run")
    args = parser.parse_args()
    cmd = forewarn_command()
    cases = [
        ("EPUB, spine repeats 1 doc x2000", "repeat.epub", repeated_spine_epub),
        ("EPUB, 25 docs of 9.9 MB", "many.epub", many_large_documents_epub),
        ("3 MB paragraph, no punctuation", "paragraph.txt", long_paragraph_text),
        ("AO3 HTML, 20,000 long tags", "tags.html", many_tags_html),
    ]
    print(
        f"forewarn scan on hostile inputs, median of {args.runs} runs  ({platform.machine()},"
        f" {os.cpu_count()} cores, Python {platform.python_version()})"
    )
    print(
        f"{'input':<34} {'file KB':>8} {'median s':>9} {'max s':>7} {'peak MB':>8} {'exit':>5}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for label, name, build in cases:
            path = Path(tmp) / name
            path.write_bytes(build())
            results = [run_once([*cmd, "scan", str(path)], args.timeout) for _ in range(args.runs)]
            walls = [w for w, _, _ in results]
            codes = sorted({c for _, _, c in results})
            print(
                f"{label:<34} {path.stat().st_size / 1024:>8.0f}"
                f" {statistics.median(walls):>9.2f} {max(walls):>7.2f}"
                f" {max(m for _, m, _ in results):>8.0f} {','.join(map(str, codes)):>5}",
                flush=True,
            )
            path.unlink()


if __name__ == "__main__":
    main()
