"""A readable plain-text report for a terminal. Quotes story text only when asked."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from forewarn.report import Location, Report

SEVERITY_LABEL = {"graphic": "GRAPHIC", "depicted": "depicted", "mentioned": "mentioned"}
# ANSI colours per severity (bold red, yellow, dim) for a terminal; see use_colour
_COLOUR = {"graphic": "\033[1;31m", "depicted": "\033[33m", "mentioned": "\033[2m"}
_RESET = "\033[0m"


def use_colour(stream: object) -> bool:
    """Colour only on a terminal, and never with ``NO_COLOR`` set (https://no-color.org)
    or ``TERM=dumb``."""
    import os

    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def heading(title: str | None, source: str | None, word_count: int, chapters: int) -> str:
    """A work's first line: "Title  (source · 1,234 words · 3 chapters)"."""
    facts = [f"{word_count:,} words"]
    if chapters > 1:
        facts.append(f"{chapters} chapters")
    if title and source:
        facts.insert(0, source)
    return f"{title or source or '<text>'}  ({' · '.join(facts)})"


def render_text(report: Report, evidence: bool = False, max_evidence: int = 3,
                colour: bool = False) -> str:
    """The report as lines of text: strongest warnings first, with where they are;
    ``colour``: the severity in colour (:func:`use_colour` says when)."""
    lines = [heading(report.title, report.source, report.word_count, report.chapter_count)]
    gap = report.not_checked
    if gap is not None:
        what = "NOT CHECKED (language)" if gap[0] == "language" else "NOT FULLY CHECKED"
        lines.append(f"  {what}: {gap[1]}")
    if not report.warnings:
        lines.append(
            f"  No content warnings found at confidence {report.min_confidence:.2f} or above."
        )
    else:
        width = max(len(w.name) for w in report.warnings)
        for w in report.warnings:
            where = describe_locations(w.locations)
            mark = "  (declared)" if w.declared else ""
            label = f"{SEVERITY_LABEL[w.severity]:<9}"
            if colour:
                label = f"{_COLOUR[w.severity]}{label}{_RESET}"
            lines.append(f"  {label}  {w.name:<{width}}  {w.confidence:.2f}  {where}{mark}")
            if evidence:
                shown = sorted(w.evidence, key=lambda e: -e.score)[:max_evidence]
                for ev in sorted(shown, key=lambda e: (e.chapter, e.start)):
                    quote = textwrap.shorten(ev.snippet, 200, placeholder="\u2026")
                    lines.append(
                        f"      ch {ev.chapter} \u00b6{ev.paragraph + 1}: \u201c{quote}\u201d"
                    )
                if len(w.evidence) > max_evidence:
                    lines.append(f"      \u2026 and {len(w.evidence) - max_evidence} more")
    if report.declared:
        declared = ", ".join(
            f"{d.name}"
            + (f" ({d.qualifier})" if d.qualifier else "")
            + ("" if d.detected else " [not found in the text]")
            for d in _unique(report)
        )
        lines.append(f"  Declared by the author: {declared}")
    return "\n".join(lines)


def describe_locations(locations: Sequence[Location]) -> str:
    """ "chapter 2, 20-40% and 85-95%; chapter 3, 0-10%"."""
    by_chapter: dict[int, list[str]] = {}
    for loc in locations:
        by_chapter.setdefault(loc.chapter, []).append(loc.describe().split(", ", 1)[1])
    return "; ".join(f"chapter {ch}, " + " and ".join(spans) for ch, spans in by_chapter.items())


def _unique(report: Report) -> list:
    seen, out = set(), []
    for d in report.declared:
        if d.id not in seen:
            seen.add(d.id)
            out.append(d)
    return out
