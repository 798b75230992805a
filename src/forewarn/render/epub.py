"""The reading copy as an EPUB 3 file.

E-readers do not support ``<details>`` reliably, so in the EPUB the text of a flagged
scene stays in place; a notice paragraph before it names its warnings and links past it
(``<a href="#after-scene-N">Skip to after this scene</a>``) to an anchor right after it.
The markup is plain XHTML (no ``epub:type`` on the notices) so that calibre and older
readers open it.

Layout of the archive:

* ``mimetype`` first, stored uncompressed;
* ``META-INF/container.xml`` pointing to ``OEBPS/content.opf``;
* ``OEBPS/content.opf``: metadata (identifier, title, language, creator, modified),
  manifest and spine;
* ``OEBPS/nav.xhtml``: the title page and table of contents (the EPUB 3 navigation
  document, first in the spine), plus ``OEBPS/toc.ncx`` for EPUB 2 readers;
* ``OEBPS/warnings.xhtml``: where the warnings sit, a strip per warning as inline SVG
  with its text equivalent (:mod:`forewarn.render.strip`), when there are any; its
  manifest item has ``properties="svg"`` as EPUB 3 requires;
* ``OEBPS/chapter-001.xhtml`` ...: one document per chapter;
* ``OEBPS/style.css``.

Every string from the story is escaped (:func:`forewarn.render.html.text`), so each
document is well-formed XML whatever the story holds.
"""

from __future__ import annotations

import io
import os
import time
import uuid
import zipfile
from collections.abc import Sequence
from typing import TYPE_CHECKING

from forewarn.coverage import unread_notice
from forewarn.render.html import (
    NOTICE,
    PAGE,
    chapter_heading,
    collapsed_phrase,
    language,
    lines,
    scene_label,
    text,
    title_of,
)

if TYPE_CHECKING:
    from forewarn.render.strip import Strip
    from forewarn.scenes import Scene
    from forewarn.work import Chapter, Work

__all__ = ["EPUB_CSS", "render_epub"]

# A fixed timestamp for the zip entries, so the same input gives the same bytes.
_ZIP_DATE = (2000, 1, 1, 0, 0, 0)

EPUB_CSS = """\
body { margin: 0 5%; line-height: 1.5; }
h1 { margin: 1.5em 0 1em; line-height: 1.25; }
p { margin: 0 0 0.8em; }
.byline, .facts { font-style: italic; }
.scene-note {
  margin: 1.5em 0 0.75em; padding: 0.5em 0.75em;
  border: 1px solid; border-left-width: 0.3em;
}
.scene { border-left: 1px dotted; padding-left: 0.75em; }
.after-scene { text-align: center; margin: 0.75em 0; }
.strip-list { list-style: none; margin: 0; padding: 0; }
.strip { margin: 0 0 1.25em; }
.strip-name { font-weight: bold; margin: 0 0 0.25em; }
.strip-svg { display: block; width: 100%; height: 1.6em; border: 1px solid; }
.strip-text, .strips-key { font-size: 0.9em; margin: 0.25em 0 0; }
.strip-scale { display: flex; font-size: 0.75em; }
.strip-scale span { flex: 1 1 0; text-align: center; }
.strip-scale-ends { justify-content: space-between; }
.strip-scale-ends span { flex: none; }
"""

STRIPS_FILE = "warnings.xhtml"

_XHTML_HEAD = """\
<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" \
xml:lang="{lang}" lang="{lang}">
<head>
<meta charset="utf-8"/>
<meta name="generator" content="forewarn"/>
<title>{title}</title>
<link rel="stylesheet" type="text/css" href="style.css"/>
</head>
"""


def render_epub(
    work: Work,
    scenes: Sequence[Scene],
    *,
    profile: bool = True,
    modified: float | None = None,
    strips: Sequence[Strip] = (),
) -> bytes:
    """The bytes of an EPUB 3 reading copy of ``work`` with ``scenes`` marked.

    ``modified`` (seconds since the epoch) is the ``dcterms:modified`` date; by default
    ``SOURCE_DATE_EPOCH`` if set, else now. ``profile`` only changes the title page's
    wording, as in :func:`forewarn.render.html.render_html`. ``strips`` go on a page of
    their own after the title page, "Where the warnings sit".
    """
    title = title_of(work)
    lang = language(work)
    stamp = _timestamp(modified)
    identifier = _identifier(work)
    files = [_chapter_file(chapter) for chapter in work.chapters]
    by_chapter: dict[int, list[Scene]] = {}
    for scene in scenes:
        by_chapter.setdefault(scene.chapter, []).append(scene)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        _write(archive, "mimetype", "application/epub+zip", zipfile.ZIP_STORED)
        _write(archive, "META-INF/container.xml", _CONTAINER)
        _write(archive, "OEBPS/content.opf",
               _opf(work, title, lang, identifier, stamp, files, bool(strips)))
        _write(archive, "OEBPS/nav.xhtml",
               _nav(work, title, lang, files, len(scenes), profile, bool(strips)))
        _write(archive, "OEBPS/toc.ncx", _ncx(work, title, identifier, files, bool(strips)))
        _write(archive, "OEBPS/style.css", EPUB_CSS)
        if strips:
            _write(archive, f"OEBPS/{STRIPS_FILE}", _strips(strips, lang))
        for chapter, name in zip(work.chapters, files, strict=True):
            document = _chapter(chapter, by_chapter.get(chapter.number, []), lang)
            _write(archive, f"OEBPS/{name}", document)
    return buffer.getvalue()


def _write(archive: zipfile.ZipFile, name: str, data: str,
           compression: int = zipfile.ZIP_DEFLATED) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = compression
    info.external_attr = 0o644 << 16
    archive.writestr(info, data.encode("utf-8"))


def _timestamp(modified: float | None) -> str:
    if modified is None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
        modified = float(epoch) if epoch.isascii() and epoch.isdecimal() else time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(modified))


def _identifier(work: Work) -> str:
    """A stable ``urn:uuid:`` for the work, derived from its title, author and text."""
    key = "\x1f".join([work.title or "", work.author or "",
                       *(chapter.text for chapter in work.chapters)])
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'forewarn:' + key)}"


def _chapter_file(chapter: Chapter) -> str:
    return f"chapter-{chapter.number:03d}.xhtml"


_CONTAINER = """\
<?xml version="1.0" encoding="utf-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
<rootfiles>
<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>
</rootfiles>
</container>
"""


def _opf(work: Work, title: str, lang: str, identifier: str, stamp: str,
         files: list[str], strips: bool = False) -> str:
    metadata = [
        f'<dc:identifier id="book-id">{text(identifier)}</dc:identifier>',
        f"<dc:title>{text(title)}</dc:title>",
        f"<dc:language>{text(lang)}</dc:language>",
    ]
    if work.author and work.author.strip():
        metadata.append(f"<dc:creator>{text(' '.join(work.author.split()))}</dc:creator>")
    metadata.append(f'<meta property="dcterms:modified">{stamp}</meta>')
    manifest = [
        '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>',
        '<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>',
        '<item id="css" href="style.css" media-type="text/css"/>',
    ]
    spine = ['<itemref idref="nav"/>']
    if strips:
        manifest.append(f'<item id="warnings" href="{STRIPS_FILE}" '
                        'media-type="application/xhtml+xml" properties="svg"/>')
        spine.append('<itemref idref="warnings"/>')
    for index, name in enumerate(files, start=1):
        manifest.append(
            f'<item id="chapter-{index}" href="{name}" media-type="application/xhtml+xml"/>'
        )
        spine.append(f'<itemref idref="chapter-{index}"/>')
    return "\n".join([
        '<?xml version="1.0" encoding="utf-8"?>',
        ('<package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
         f'unique-identifier="book-id" xml:lang="{text(lang)}">'),
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">',
        *metadata,
        "</metadata>",
        "<manifest>",
        *manifest,
        "</manifest>",
        '<spine toc="ncx">',
        *spine,
        "</spine>",
        "</package>",
        "",
    ])


def _nav(work: Work, title: str, lang: str, files: list[str], count: int,
         profile: bool, strips: bool = False) -> str:
    out = [_XHTML_HEAD.format(lang=text(lang), title=text(title)), "<body>",
           f"<h1>{text(title)}</h1>"]
    if work.author and work.author.strip():
        author = text(" ".join(work.author.split()))
        out.append(f'<p class="byline" {PAGE}>by {author}</p>')
    chapters = len(work.chapters)
    facts = [f"{work.word_count:,} words", f"{chapters} chapter{'' if chapters == 1 else 's'}",
             collapsed_phrase(count, profile, "marked")]
    out.append(f'<p class="facts" {PAGE}>{text(" · ".join(facts))}</p>')
    unread = unread_notice(work)
    if unread:
        out.append(f'<p class="not-checked" {PAGE}>{text(unread)}</p>')
    if count:
        out.append(f'<p class="reading-note" {PAGE}>A note before each marked scene says what it '
                   "holds and links to where the story goes on.</p>")
    out.append('<nav epub:type="toc" id="toc" aria-labelledby="toc-title">')
    out.append('<h2 id="toc-title">Contents</h2>')
    out.append("<ol>")
    if strips:
        out.append(f'<li><a href="{STRIPS_FILE}">Where the warnings sit</a></li>')
    for chapter, name in zip(work.chapters, files, strict=True):
        out.append(f'<li><a href="{name}">{text(chapter_heading(chapter))}</a></li>')
    out.extend(["</ol>", "</nav>", "</body>", "</html>", ""])
    return "\n".join(out)


def _ncx(work: Work, title: str, identifier: str, files: list[str],
         strips: bool = False) -> str:
    entries = [("Where the warnings sit", STRIPS_FILE)] if strips else []
    entries += [(chapter_heading(chapter), name)
                for chapter, name in zip(work.chapters, files, strict=True)]
    points = []
    for order, (label, name) in enumerate(entries, start=1):
        points.append(
            f'<navPoint id="nav-{order}" playOrder="{order}">'
            f"<navLabel><text>{text(label)}</text></navLabel>"
            f'<content src="{name}"/></navPoint>'
        )
    return "\n".join([
        '<?xml version="1.0" encoding="utf-8"?>',
        '<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1">',
        (f'<head><meta name="dtb:uid" content="{text(identifier)}"/>'
         '<meta name="dtb:depth" content="1"/></head>'),
        f"<docTitle><text>{text(title)}</text></docTitle>",
        "<navMap>",
        *points,
        "</navMap>",
        "</ncx>",
        "",
    ])


def _strips(strips: Sequence[Strip], lang: str) -> str:
    from forewarn.render.strip import svg_block

    out = [_XHTML_HEAD.format(lang=text(lang), title="Where the warnings sit"), "<body>",
           *svg_block(strips, heading_level=1), "</body>", "</html>", ""]
    return "\n".join(out)


def _chapter(chapter: Chapter, scenes: list[Scene], lang: str) -> str:
    heading = chapter_heading(chapter)
    out = [_XHTML_HEAD.format(lang=text(lang), title=text(heading)), "<body>",
           f'<section id="chapter-{chapter.number}">', f"<h1>{text(heading)}</h1>"]
    starts = {scene.first_paragraph: scene for scene in scenes}
    paragraphs = chapter.paragraphs
    index = 0
    while index < len(paragraphs):
        scene = starts.get(index)
        if scene is None:
            out.append(f"<p>{lines(paragraphs[index].text, '<br/>')}</p>")
            index += 1
            continue
        last = min(scene.last_paragraph, len(paragraphs) - 1)
        out.append(
            f'<p class="scene-note" id="{scene.id}-note" {NOTICE}><b>Content note:</b> '
            f'the next scene contains {text(scene_label(scene))}. '
            f'<a href="#{scene.after_id}">Skip to after this scene</a></p>'
        )
        out.append(f'<div class="scene" id="{scene.id}">')
        out.extend(f"<p>{lines(p.text, '<br/>')}</p>" for p in paragraphs[index : last + 1])
        out.append("</div>")
        out.append(f'<p class="after-scene" id="{scene.after_id}" {NOTICE}>&#8258;</p>')
        index = last + 1
    out.extend(["</section>", "</body>", "</html>", ""])
    return "\n".join(out)
