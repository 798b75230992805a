"""A readable plain-text report for a terminal. Quotes story text only when asked.

Story content never reaches the terminal raw: :func:`terminal_safe` shows control
characters (ANSI escapes among them) and bidirectional overrides as visible escapes, and
titles and sources are kept on their line (:func:`one_line`).
"""

from __future__ import annotations

import re
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


# C0 controls but tab and newline, DEL, C1 controls (CSI among them), bidirectional
# embeddings, overrides and isolates: what could move the cursor, recolour or reorder text
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """``text`` with every control character but tab and newline (ANSI escapes, carriage
    returns, C1 controls) and every bidirectional override shown as a visible escape
    (``\\x1b``, ``\\u202e``), so that story content cannot drive the terminal."""
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def one_line(text: str) -> str:
    """``text`` on one line (whitespace runs, newlines among them, become one space),
    made :func:`terminal_safe`."""
    return terminal_safe(" ".join(text.split()))


def heading(title: str | None, source: str | None, word_count: int, chapters: int) -> str:
    """A work's first line: "Title  (source · 1,234 words · 3 chapters)"; the title and
    source each on one line and terminal-safe."""
    facts = [f"{word_count:,} words"]
    if chapters > 1:
        facts.append(f"{chapters} chapters")
    if title and source:
        facts.insert(0, one_line(source))
    return f"{one_line(title or source or '<text>')}  ({' · '.join(facts)})"


def render_text(report: Report, evidence: bool = False, max_evidence: int = 3,
                colour: bool = False) -> str:
    """The report as lines of text: strongest warnings first, with where they are;
    ``colour``: the severity in colour (:func:`use_colour` says when). Story content in
    it is :func:`terminal_safe` (the only escapes in it are the severity colours)."""
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
            where = summarise_locations(w.locations)
            mark = "  (declared)" if w.declared else ""
            label = f"{SEVERITY_LABEL[w.severity]:<9}"
            if colour:  # the colour codes are added after terminal_safe, here only
                label = f"{_COLOUR[w.severity]}{label}{_RESET}"
            lines.append(f"  {label}  {w.name:<{width}}  {w.confidence:.2f}  {where}{mark}")
            if evidence:
                shown = sorted(w.evidence, key=lambda e: -e.score)[:max_evidence]
                for ev in sorted(shown, key=lambda e: (e.chapter, e.start)):
                    quote = terminal_safe(
                        textwrap.shorten(ev.snippet, 200, placeholder="\u2026"))
                    lines.append(
                        f"      ch {ev.chapter} \u00b6{ev.paragraph + 1}: \u201c{quote}\u201d"
                    )
                if len(w.evidence) > max_evidence:
                    lines.append(f"      \u2026 and {len(w.evidence) - max_evidence} more")
    if report.declared:
        declared = ", ".join(
            f"{d.name}"
            + (f" ({one_line(d.qualifier)})" if d.qualifier else "")
            + ("" if d.detected else " [not found in the text]")
            for d in _unique(report)
        )
        lines.append(f"  Declared by the author: {declared}")
    return "\n".join(lines)


#: More chapters than this and a warning's places are summarised on its line.
MAX_CHAPTERS_LISTED = 4


def summarise_locations(locations: Sequence[Location], limit: int = MAX_CHAPTERS_LISTED
                        ) -> str:
    """Every place when a warning sits in at most ``limit`` chapters, else the chapters as
    ranges with the count and the first place: "chapters 1-3, 7 and 12-15 (23 places;
    first: chapter 1, 20-40%)"."""
    chapters = sorted({loc.chapter for loc in locations})
    if len(chapters) <= limit:
        return describe_locations(locations)
    ranges: list[str] = []
    lo = prev = chapters[0]
    for ch in [*chapters[1:], None]:
        if ch is not None and ch == prev + 1:
            prev = ch
            continue
        ranges.append(f"{lo}-{prev}" if prev > lo else str(lo))
        if ch is not None:
            lo = prev = ch
    listed = ", ".join(ranges[:-1]) + f" and {ranges[-1]}" if len(ranges) > 1 else ranges[0]
    first = min(locations, key=lambda loc: (loc.chapter, loc.start))
    return f"chapters {listed} ({len(locations)} places; first: {first.describe()})"


def render_by_chapter(report: Report) -> str:
    """A table of chapters by warnings (G graphic, d depicted, m mentioned, · none), so a
    reader can see how far a work is clear of what they avoid."""
    mark = {"graphic": "G", "depicted": "d", "mentioned": "m"}
    rank = {"mentioned": 1, "depicted": 2, "graphic": 3}
    cells: dict[tuple[int, str], str] = {}
    for w in report.warnings:
        for ev in w.evidence:
            key = (ev.chapter, w.id)
            if key not in cells or rank[ev.severity] > rank[cells[key]]:
                cells[key] = ev.severity
    names = [w.name for w in report.warnings]
    width = len(str(max(1, report.chapter_count)))
    lines = ["By chapter (G graphic, d depicted, m mentioned, \u00b7 none)",
             "  " + "chapter".rjust(max(7, width)) + "  " + "  ".join(names)]
    for ch in range(1, report.chapter_count + 1):
        row = [mark[cells[(ch, w.id)]] if (ch, w.id) in cells else "\u00b7"
               for w in report.warnings]
        lines.append("  " + str(ch).rjust(max(7, width)) + "  " + "  ".join(
            c.ljust(len(n)) for c, n in zip(row, names, strict=True)).rstrip())
    flagged = sorted({ch for ch, _ in cells})
    if flagged and flagged[0] > 1:
        lines.append(f"  Nothing flagged before chapter {flagged[0]}.")
    elif not flagged:
        lines.append("  Nothing flagged in any chapter.")
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
