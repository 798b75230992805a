"""A strip per warning: where in the work its evidence sits, and how strong it is.

The strip runs from the start of the work to its end. Every chapter has an equal share of
its length (the report knows each piece of evidence by chapter and by its position in the
chapter, 0 to 1, not the chapters' lengths), so chapter ``c`` of ``n`` spans
``(c - 1) / n`` to ``c / n`` and evidence at ``position`` p in it sits at
``(c - 1 + p) / n`` (:func:`mark_x`). There is one mark per piece of evidence.

Severity is drawn three ways, so that no one needs to tell shades apart: by shade (a
mention light, a depiction medium, a graphic passage dark), by height (a third, two
thirds, the full height of the strip) and in words (:func:`describe`:
"Blood and gore: chapter 2 (graphic), chapter 5 (mentioned)").

Three forms share this geometry:

* :func:`svg`: inline SVG for the HTML reading copy and the EPUB (the same markup is
  valid HTML and XHTML: it carries its namespace and closes every element). No scripts,
  no ``style`` attributes (the reading copy's Content-Security-Policy allows only its
  hashed stylesheet), no ids: the accessible name is an ``aria-label`` and the text
  equivalent is the caption printed beside it;
* :func:`text_row`: one line of text for a terminal, one character per chapter (or per
  tenth of a chapter in a short work): ``Blood and gore  ··░·▓··█``;
* the web page draws the same strip with DOM APIs (``service/static/app.js``).

Warning names come from the taxonomy, or from the reader's profile (an alias replaces
the name); they are escaped like every other string.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from forewarn.render.html import text
from forewarn.render.terminal import coloured
from forewarn.taxonomy import SEVERITIES, severity_rank

if TYPE_CHECKING:
    from forewarn.profile import Profile
    from forewarn.report import Report

__all__ = [
    "HEIGHT",
    "SHADES",
    "WIDTH",
    "Mark",
    "Strip",
    "cells",
    "describe",
    "legend_text",
    "mark_x",
    "render_text",
    "strips",
    "svg",
    "text_row",
]

WIDTH = 600.0
"""The strip's width in SVG user units (it scales to the page)."""
HEIGHT = 24.0
"""The strip's height in SVG user units."""
MARK_WIDTH = 4.0
"""A mark's width in SVG user units."""

#: A mark's height as a share of the strip's, by severity.
HEIGHTS = {"mentioned": 1 / 3, "depicted": 2 / 3, "graphic": 1.0}
#: The fill of a mark by severity (light, medium, dark), for readers whose CSS does not
#: reach SVG; the reading copy's stylesheet sets the same by class (and in dark mode).
SHADES = {"mentioned": "#cf6f65", "depicted": "#9c2f26", "graphic": "#3d0805"}
TRACK = "#f6f3ee"
DIVIDER = "#a39d8f"

#: Terminal characters by severity: light, medium and full shade; ``·`` where none.
BLOCKS = {"mentioned": "\u2591", "depicted": "\u2593", "graphic": "\u2588"}
ASCII_BLOCKS = {"mentioned": "m", "depicted": "d", "graphic": "G"}
EMPTY, ASCII_EMPTY = "\u00b7", "."
CHAPTER_BREAK, ASCII_CHAPTER_BREAK = "\u2502", "|"
#: A short work (fewer chapters than this) gets this many cells in all, per chapter evenly.
SHORT_WORK_CELLS = 10
#: More chapters than this share a cell, so a row stays this wide at most.
MAX_CELLS = 120


@dataclass(frozen=True, slots=True)
class Mark:
    """One piece of evidence on a strip: ``x`` from 0 (the work's start) to 1 (its end)."""

    x: float
    chapter: int
    position: float
    severity: str


@dataclass(frozen=True, slots=True)
class Strip:
    """One warning across a work of ``chapters`` chapters; marks in reading order."""

    warning: str
    label: str
    severity: str
    chapters: int
    marks: tuple[Mark, ...]
    aliased: bool = False  # the label is the reader's alias: the page never names the id

    @property
    def attribute(self) -> str:
        """`` data-warning="id"``, or nothing for an aliased warning: an alias hides the
        warning's name on the page, and in the page's source too."""
        return "" if self.aliased else f' data-warning="{text(self.warning)}"'

    def by_chapter(self) -> dict[int, str]:
        """The strongest severity in each chapter that has a mark."""
        out: dict[int, str] = {}
        for m in self.marks:
            if m.chapter not in out or severity_rank(m.severity) > severity_rank(out[m.chapter]):
                out[m.chapter] = m.severity
        return dict(sorted(out.items()))


def mark_x(chapter: int, position: float, chapters: int) -> float:
    """Where evidence at ``position`` (0..1) of chapter ``chapter`` (1-based) of a work of
    ``chapters`` chapters sits on the strip, from 0 (start) to 1 (end)."""
    n = max(1, chapters)
    c = min(max(1, chapter), n)
    p = min(max(0.0, float(position)), 1.0) if math.isfinite(position) else 0.0
    return (c - 1 + p) / n


def strips(report: Report, profile: Profile | None = None) -> list[Strip]:
    """A strip per warning of ``report``, strongest first as the report lists them; with
    a ``profile``, only the warnings it names, under its labels."""
    out: list[Strip] = []
    chapters = max(1, report.chapter_count,
                   *(e.chapter for w in report.warnings for e in w.evidence))
    for w in report.warnings:
        if profile is not None and profile.entry(w.id) is None:
            continue
        marks = sorted(
            (Mark(mark_x(e.chapter, e.position, chapters), e.chapter, e.position, e.severity)
             for e in w.evidence if e.severity in HEIGHTS),
            key=lambda m: (m.x, severity_rank(m.severity)),
        )
        label = profile.label(w.id) if profile is not None else w.name
        out.append(Strip(w.id, label, w.severity, chapters, tuple(marks),
                         aliased=profile is not None and label != w.name))
    return out


def describe(strip: Strip) -> str:
    """The strip in words: "Blood and gore: chapter 2 (graphic), chapters 5-7 (mentioned)".

    Each chapter with evidence is named with the strongest severity in it; neighbouring
    chapters of the same severity are joined into a range."""
    per = strip.by_chapter()
    if not per:
        return f"{strip.label}: no passages located"
    runs: list[tuple[int, int, str]] = []
    for chapter, severity in per.items():
        if runs and runs[-1][1] == chapter - 1 and runs[-1][2] == severity:
            runs[-1] = (runs[-1][0], chapter, severity)
        else:
            runs.append((chapter, chapter, severity))
    if strip.chapters == 1:  # one chapter: how far into the work, to the nearest 5%
        places: dict[int, str] = {}
        for m in strip.marks:
            at = 5 * int(m.x * 20 + 0.5)  # half up, as the web page rounds
            if at not in places or severity_rank(m.severity) > severity_rank(places[at]):
                places[at] = m.severity
        shown = [f"{at}% ({s})" for at, s in sorted(places.items())]
        return f"{strip.label}: {', '.join(shown)} of the way through"
    parts = [f"chapter {a} ({s})" if a == b else f"chapters {a}-{b} ({s})" for a, b, s in runs]
    return f"{strip.label}: {', '.join(parts)}"


def legend_text() -> str:
    """What the shades and heights mean, in words."""
    return ("Each strip runs from the start of the work (left) to its end (right), one band "
            "per chapter. Each mark is a passage: a short faint mark is a mention, a "
            "medium one a depiction, a full-height strong one a graphic passage.")


# -- SVG -------------------------------------------------------------------------------


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def svg(strip: Strip, *, width: float = WIDTH, height: float = HEIGHT) -> str:
    """The strip as one inline ``<svg>`` element (valid in HTML and in XHTML).

    ``role="img"`` with an ``aria-label`` naming the warning and saying where it sits;
    a ``<title>`` (a tooltip) says the same. Marks are ``<rect>`` elements of class
    ``mark mark-<severity>`` with ``data-chapter`` and ``data-severity``."""
    n = strip.chapters
    summary = describe(strip)
    out = [
        (f'<svg xmlns="http://www.w3.org/2000/svg" class="strip-svg" role="img" '
         f'viewBox="0 0 {_num(width)} {_num(height)}" preserveAspectRatio="none" '
         f'width="100%" height="{_num(height)}" '
         f'focusable="false" aria-label="{text(summary)}"{strip.attribute} '
         f'data-chapters="{n}">'),
        f"<title>{text(summary)}</title>",
        (f'<rect class="strip-track" x="0" y="0" width="{_num(width)}" '
         f'height="{_num(height)}" fill="{TRACK}"/>'),
    ]
    step = _divider_step(n, width)
    for c in range(step, n, step):
        x = _num(width * c / n)
        out.append(f'<line class="strip-chapter" x1="{x}" y1="0" x2="{x}" y2="{_num(height)}" '
                   f'stroke="{DIVIDER}" stroke-width="1"/>')
    for m in sorted(strip.marks, key=lambda m: severity_rank(m.severity)):  # strongest on top
        h = height * HEIGHTS[m.severity]
        left = min(max(0.0, m.x * width - MARK_WIDTH / 2), width - MARK_WIDTH)
        out.append(
            f'<rect class="mark mark-{m.severity}" x="{_num(left)}" y="{_num(height - h)}" '
            f'width="{_num(MARK_WIDTH)}" height="{_num(h)}" fill="{SHADES[m.severity]}" '
            f'data-chapter="{m.chapter}" data-severity="{m.severity}"/>'
        )
    out.append("</svg>")
    return "".join(out)


def _divider_step(chapters: int, width: float) -> int:
    """Draw a line between every ``step`` chapters: all of them while they are at least
    6 units apart, else every 5th, 10th, 25th... chapter."""
    if chapters <= 1:
        return chapters or 1
    for step in (1, 5, 10, 25, 50, 100, 250, 500, 1000):
        if width * step / chapters >= 6:
            return step
    return chapters


def svg_block(items: Sequence[Strip], heading_level: int = 2) -> list[str]:
    """The strips as a section of a page (HTML or XHTML: the markup is the same): a
    heading, the key, and per warning its name, the SVG and its text equivalent."""
    h = f"h{heading_level}"
    out = [
        '<section class="strips" id="where-warnings-sit" aria-labelledby="strips-heading" '
        'data-forewarn="page">',
        f'<{h} id="strips-heading">Where the warnings sit</{h}>',
        f'<p class="strips-key">{text(legend_text())}</p>',
        '<ul class="strip-list">',
    ]
    for s in items:
        out.append(f'<li class="strip"{s.attribute}>'
                   f'<p class="strip-name">{text(s.label)}</p>{svg(s)}{scale(s.chapters)}'
                   f'<p class="strip-text">{text(describe(s))}</p></li>')
    out.extend(["</ul>", "</section>"])
    return out


#: Up to this many chapters, the scale under a strip numbers every chapter's band.
MAX_SCALE_LABELS = 20


def scale(chapters: int) -> str:
    """The chapter numbers under a strip, for the eye only (the text equivalent says it
    all): each band's number up to :data:`MAX_SCALE_LABELS` chapters, else the first and
    the last chapter at the ends. Laid out by the stylesheet (equal flex items), so no
    ``style`` attribute is needed."""
    if chapters <= 1:
        return ""
    if chapters <= MAX_SCALE_LABELS:
        spans = "".join(f"<span>{c}</span>" for c in range(1, chapters + 1))
        return f'<div class="strip-scale" aria-hidden="true">{spans}</div>'
    return ('<div class="strip-scale strip-scale-ends" aria-hidden="true">'
            f"<span>chapter 1</span><span>chapter {chapters}</span></div>")


# -- terminal --------------------------------------------------------------------------


def cells(chapters: int) -> tuple[int, int]:
    """How a row is cut: ``(cells per chapter, chapters per cell)``. A short work (under
    10 chapters) gets about ten cells in all, the same number per chapter; a long one a
    cell per chapter, or per few chapters past :data:`MAX_CELLS`."""
    n = max(1, chapters)
    if n < SHORT_WORK_CELLS:
        return math.ceil(SHORT_WORK_CELLS / n), 1
    return 1, math.ceil(n / MAX_CELLS)


def text_row(strip: Strip, *, ascii_only: bool = False, colour: bool = False) -> str:
    """The strip as characters: the strongest severity in each cell (``░ ▓ █``, or with
    ``ascii_only`` ``m d G``), ``·`` (``.``) where there is none; a short work has a
    ``│`` between chapters."""
    n = strip.chapters
    per_chapter, chapters_per_cell = cells(n)
    blocks = ASCII_BLOCKS if ascii_only else BLOCKS
    empty = ASCII_EMPTY if ascii_only else EMPTY
    count = n * per_chapter if per_chapter > 1 else math.ceil(n / chapters_per_cell)
    strongest: list[str | None] = [None] * count
    for m in strip.marks:
        if per_chapter > 1:
            within = min(per_chapter - 1, int(min(max(m.position, 0.0), 1.0) * per_chapter))
            index = (m.chapter - 1) * per_chapter + within
        else:
            index = (m.chapter - 1) // chapters_per_cell
        index = min(max(index, 0), count - 1)
        now = strongest[index]
        if now is None or severity_rank(m.severity) > severity_rank(now):
            strongest[index] = m.severity
    chars = [_cell(s, blocks, empty, colour) for s in strongest]
    if per_chapter > 1 and n > 1:
        bar = ASCII_CHAPTER_BREAK if ascii_only else CHAPTER_BREAK
        groups = ["".join(chars[i:i + per_chapter]) for i in range(0, count, per_chapter)]
        return bar.join(groups)
    return "".join(chars)


def _cell(severity: str | None, blocks: dict[str, str], empty: str, colour: bool) -> str:
    if severity is None:
        return empty
    return coloured(severity, blocks[severity], colour)


def render_text(items: Iterable[Strip], *, ascii_only: bool = False,
                colour: bool = False) -> str:
    """The strips of a work as rows of text under a key and a ruler of chapter numbers."""
    items = list(items)
    if not items:
        return "Where the warnings sit: nothing to draw."
    blocks = ASCII_BLOCKS if ascii_only else BLOCKS
    empty = ASCII_EMPTY if ascii_only else EMPTY
    n = items[0].chapters
    per_chapter, chapters_per_cell = cells(n)
    if per_chapter > 1 and n == 1:
        unit = "one character per tenth of the work"
    elif per_chapter > 1:
        unit = f"{per_chapter} characters per chapter"
    elif chapters_per_cell > 1:
        unit = f"one character per {chapters_per_cell} chapters"
    else:
        unit = "one character per chapter"
    key = ", ".join(f"{blocks[s]} {s}" for s in SEVERITIES)
    width = max(len(s.label) for s in items)
    lines = [f"Where the warnings sit ({unit}; {key}, {empty} none)"]
    ruler = _ruler(n, per_chapter, chapters_per_cell)
    if ruler.strip():
        lines.append("  " + " " * width + "  " + ruler.rstrip())
    for s in items:
        lines.append(f"  {s.label:<{width}}  {text_row(s, ascii_only=ascii_only, colour=colour)}")
    return "\n".join(lines)


def _ruler(chapters: int, per_chapter: int, chapters_per_cell: int) -> str:
    """Chapter numbers over the row: each chapter's number in a short work; 1, 10, 20 ...
    (where they fit) in a long one."""
    if per_chapter > 1:
        if chapters == 1:
            return ""
        return " ".join(str(c).ljust(per_chapter)[:per_chapter] for c in range(1, chapters + 1))
    count = math.ceil(chapters / chapters_per_cell)
    row = [" "] * (count + 4)
    every = 10 * chapters_per_cell
    marks = [1, *range(every, chapters + 1, every)]
    for c in marks:
        at = (c - 1) // chapters_per_cell
        label = str(c)
        taken = row[max(0, at - 1):at + len(label)]
        if at + len(label) > len(row) or any(ch != " " for ch in taken):
            continue
        row[at:at + len(label)] = list(label)
    return "".join(row)


def terminal_strips(report: Report, out: IO[str], colour: bool) -> str:
    """The report's strips for a terminal stream: shaded blocks where ``out``'s encoding
    can print them (ASCII letters otherwise), in colour only when ``colour``."""
    encoding = getattr(out, "encoding", None) or "ascii"
    try:
        "".join(BLOCKS.values()).encode(encoding)
        ascii_only = False
    except (LookupError, UnicodeEncodeError):
        ascii_only = True
    return render_text(strips(report), ascii_only=ascii_only, colour=colour)

