"""The reading copy as one self-contained HTML page.

The page holds the whole story, a table of contents, and every flagged scene collapsed
behind a notice with two controls that work without JavaScript: a ``<details>`` element
("Show this scene", closed by default) and a plain link past the scene
(``<a href="#after-scene-N">``) to an anchor right after it.

Nothing is loaded from anywhere: the stylesheet is inline (``data/reading.css``), there
are no scripts, fonts or images, and a Content-Security-Policy ``<meta>`` forbids scripts
and every remote load (the inline style is allowed by its hash).

Story text is untrusted. Every string that comes from the work (title, author, chapter
titles, paragraphs) goes through :func:`text` (``html.escape(..., quote=True)`` after
dropping characters that are not allowed in HTML/XML); ids, classes and attributes are
generated here, never taken from the story.
"""

from __future__ import annotations

import base64
import hashlib
import html
import os
import re
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

from forewarn import __version__
from forewarn.coverage import unread_notice

if TYPE_CHECKING:
    from forewarn.render.strip import Strip
    from forewarn.scenes import Scene
    from forewarn.work import Chapter, Paragraph, Work

__all__ = [
    "NOTICE",
    "PAGE",
    "chapter_heading",
    "collapsed_phrase",
    "content_security_policy",
    "language",
    "lines",
    "reading_css",
    "render_html",
    "scene_label",
    "text",
    "title_of",
]

# Characters XML 1.0 forbids (and HTML treats as parse errors): C0 controls other than
# tab/newline/carriage return, lone surrogates, U+FFFE and U+FFFF.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Marks forewarn's own words in the page (scene notices and controls; the header and
# contents), so that a reading copy scanned again is read without them
# (forewarn/ingest/_reading_copy.py).
NOTICE = 'data-forewarn="notice"'
PAGE = 'data-forewarn="page"'
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*")


def text(value: object) -> str:
    """``value`` as escaped HTML/XML text (quotes included), illegal characters dropped."""
    return html.escape(_ILLEGAL.sub("", str(value)), quote=True)


def lines(value: str, br: str = "<br>") -> str:
    """Escaped text with each newline as a line break (``br``)."""
    return br.join(text(line) for line in value.split("\n"))


@lru_cache(maxsize=1)
def reading_css() -> str:
    """The stylesheet of the reading copy (``forewarn/data/reading.css``)."""
    return resources.files("forewarn").joinpath("data/reading.css").read_text(encoding="utf-8")


def content_security_policy(style: str) -> str:
    """A policy that allows exactly the inline stylesheet ``style`` and nothing remote."""
    digest = base64.b64encode(hashlib.sha256(style.encode("utf-8")).digest()).decode("ascii")
    return (
        f"default-src 'none'; script-src 'none'; style-src 'sha256-{digest}'; "
        "img-src data:; font-src 'none'; connect-src 'none'; media-src 'none'; "
        "object-src 'none'; frame-src 'none'; base-uri 'none'; form-action 'none'"
    )


def title_of(work: Work) -> str:
    """The work's title, or its file name without the extension, or "Untitled"."""
    if work.title and work.title.strip():
        return " ".join(work.title.split())
    if work.source and work.source not in ("-", "<stdin>", "<text>", "<bytes>"):
        stem = os.path.splitext(os.path.basename(work.source))[0].strip()
        if stem:
            return stem
    return "Untitled"


def language(work: Work) -> str:
    """A BCP 47 language tag for the work: its declared language if it is one, else ``en``."""
    for value in work.tags.get("language", []):
        value = value.strip()
        if _LANGUAGE_TAG.fullmatch(value) and len(value) <= 35:
            return value
    return "en"


def chapter_heading(chapter: Chapter) -> str:
    """The chapter's title, or ``Chapter N`` when it has none (plain text, not escaped)."""
    title = " ".join((chapter.title or "").split())
    return title or f"Chapter {chapter.number}"


def scene_label(scene: Scene) -> str:
    """The scene's warnings for a notice: ``Death (depicted), Blood and gore (mentioned)``."""
    return ", ".join(f"{label} ({severity})" for label, severity in scene.warnings)


def collapsed_phrase(count: int, profile: bool, verb: str = "collapsed") -> str:
    """``3 scenes collapsed for you``; without a profile ``3 scenes with a content warning
    collapsed``. ``verb`` replaces "collapsed" (the EPUB marks scenes instead)."""
    noun = "scene" if count == 1 else "scenes"
    if count == 0:
        return f"No scenes {verb} for you" if profile else "No scenes with a content warning"
    if profile:
        return f"{count} {noun} {verb} for you"
    return f"{count} {noun} with a content warning {verb}"


def render_html(
    work: Work,
    scenes: Sequence[Scene],
    *,
    profile: bool = True,
    css: str | None = None,
    strips: Sequence[Strip] = (),
) -> str:
    """The reading copy of ``work`` with ``scenes`` collapsed, as one HTML document.

    ``scenes`` are as :func:`forewarn.scenes.flagged_scenes` returns them: in reading
    order, not overlapping. ``profile`` says whether they were chosen by a reader's
    profile (it only changes the wording of the header). ``css`` replaces the bundled
    stylesheet (it must not contain ``</style``). ``strips`` (:func:`forewarn.render.strip.strips`)
    are drawn after the header, one inline SVG per warning with its text equivalent.
    """
    style = reading_css() if css is None else css
    if "</style" in style.lower():
        raise ValueError("the stylesheet must not contain '</style'")
    title = title_of(work)
    lang = language(work)
    policy = text(content_security_policy(style))
    by_chapter: dict[int, list[Scene]] = {}
    for scene in scenes:
        by_chapter.setdefault(scene.chapter, []).append(scene)
    out: list[str] = [
        "<!DOCTYPE html>",
        f'<html lang="{text(lang)}">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="color-scheme" content="light dark">',
        f'<meta name="generator" content="forewarn {text(__version__)}">',
        '<link rel="icon" href="data:,">',
        f"<title>{text(title)}</title>",
        f"<style>{style}</style>",
        "</head>",
        "<body>",
        f'<a class="skip-to-story" href="#story" {PAGE}>Skip to the story</a>',
        '<header class="masthead">',
        f"<h1>{text(title)}</h1>",
    ]
    if work.author and work.author.strip():
        author = text(" ".join(work.author.split()))
        out.append(f'<p class="byline" {PAGE}>by {author}</p>')
    chapters = len(work.chapters)
    facts = [
        f"{work.word_count:,} words",
        f"{chapters} chapter{'' if chapters == 1 else 's'}",
        collapsed_phrase(len(scenes), profile),
    ]
    out.append(f'<p class="facts" {PAGE}>{" &middot; ".join(text(f) for f in facts)}</p>')
    unread = unread_notice(work)
    if unread:
        out.append(f'<p class="not-checked" role="alert" {PAGE}>{text(unread)}</p>')
    if scenes:
        out.append(
            f'<p class="how-to" {PAGE}>Each collapsed scene has a note saying what it holds. '
            "&ldquo;Show this scene&rdquo; opens it; &ldquo;Skip to after this scene&rdquo; "
            "takes you to where the story goes on.</p>"
        )
    out.append("</header>")
    if strips:
        from forewarn.render.strip import svg_block

        out.extend(svg_block(strips))
    out.extend(_contents(work))
    out.append('<main id="story" tabindex="-1">')
    for chapter in work.chapters:
        out.extend(_chapter(chapter, by_chapter.get(chapter.number, []), len(scenes)))
    out.extend(["</main>", "</body>", "</html>", ""])
    return "\n".join(out)


def _contents(work: Work) -> list[str]:
    out = [
        f'<nav class="contents" aria-labelledby="contents-heading" {PAGE}>',
        '<h2 id="contents-heading">Contents</h2>',
        "<ol>",
    ]
    for chapter in work.chapters:
        out.append(
            f'<li><a href="#chapter-{chapter.number}">{text(chapter_heading(chapter))}</a></li>'
        )
    out.extend(["</ol>", "</nav>"])
    return out


def _chapter(chapter: Chapter, scenes: list[Scene], total: int) -> list[str]:
    number = chapter.number
    out = [
        f'<section class="chapter" id="chapter-{number}" aria-labelledby="chapter-{number}-title">',
        f'<h2 id="chapter-{number}-title">{text(chapter_heading(chapter))}</h2>',
    ]
    starts = {scene.first_paragraph: scene for scene in scenes}
    index = 0
    paragraphs = chapter.paragraphs
    while index < len(paragraphs):
        scene = starts.get(index)
        if scene is None:
            out.append(_paragraph(paragraphs[index]))
            index += 1
            continue
        last = min(scene.last_paragraph, len(paragraphs) - 1)
        out.extend(_scene(scene, paragraphs[index : last + 1], total))
        index = last + 1
    out.append("</section>")
    return out


def _paragraph(paragraph: Paragraph) -> str:
    return f"<p>{lines(paragraph.text)}</p>"


def _scene(scene: Scene, paragraphs: Sequence[Paragraph], total: int) -> list[str]:
    sid, n = scene.id, scene.number
    label = scene_label(scene)
    out = [
        f'<div class="scene" id="{sid}" role="group" aria-labelledby="{sid}-note">',
        (f'<p class="scene-note" id="{sid}-note" {NOTICE}><strong>Collapsed scene'
         f'<span class="visually-hidden"> {n} of {total}</span>:</strong> {text(label)}</p>'),
        '<div class="scene-controls">',
        f'<a class="skip" href="#{scene.after_id}" {NOTICE}>Skip to after this scene</a>',
        '<details class="scene-details">',
        ('<summary><span class="when-closed">Show this scene</span>'
         '<span class="when-open">Hide this scene</span></summary>'),
        '<div class="scene-text">',
    ]
    out.extend(_paragraph(p) for p in paragraphs)
    out.extend(
        [
            "</div>",
            "</details>",
            "</div>",
            "</div>",
            (f'<p class="after-scene" id="{scene.after_id}" tabindex="-1" {NOTICE}>'
             '<span aria-hidden="true">&#8258;</span>'
             f'<span class="visually-hidden">End of collapsed scene {n}.</span></p>'),
        ]
    )
    return out
