"""Every text forewarn prints for a terminal, in one style: the report (``scan``), the
verdict (``check``), the audit (``audit``), the batch summary (``batch``), a store's
numbers (``stats``) and the taxonomy (``taxonomy``). :func:`write_text` is the ``text``
output renderer (registered in :mod:`forewarn.render.formats`).

One set of helpers lays it all out: a work's first line (:func:`heading`), a section's
title (:func:`section`), a warning as aligned columns, severity first (:func:`warning_line`,
the severity in colour with :func:`severity_label`; :func:`use_colour` says when), where
it is (:func:`summarise_locations`, :func:`describe_locations`), quoted evidence
(:func:`evidence_lines`) and counts (:func:`counts`).

Story content never reaches the terminal raw: :func:`terminal_safe` shows control
characters (ANSI escapes among them) and bidirectional overrides as visible escapes, and
titles, sources, tags and other one-line fields are kept on their line (:func:`one_line`).
The only escapes in the output are the severity colours, added after.
"""

from __future__ import annotations

import os
import re
import textwrap
from collections.abc import Callable, Iterable, Sequence
from typing import IO, TYPE_CHECKING, Any

from forewarn.report import DetectedWarning, Evidence, Location, Report

if TYPE_CHECKING:
    from forewarn.audit import Audit
    from forewarn.batch.summary import BatchSummary
    from forewarn.declared import DeclaredWarning
    from forewarn.render.registry import RenderOptions
    from forewarn.taxonomy import Taxonomy
    from forewarn.verdict import Verdict

SEVERITY_LABEL = {"graphic": "GRAPHIC", "depicted": "depicted", "mentioned": "mentioned"}
#: ANSI colours per severity (bold red, yellow, dim) for a terminal; see use_colour
SEVERITY_COLOUR = {"graphic": "\033[1;31m", "depicted": "\033[33m", "mentioned": "\033[2m"}
RESET = "\033[0m"
#: The severity column's width ("mentioned").
SEVERITY_WIDTH = 9


def use_colour(stream: object) -> bool:
    """Colour only on a terminal, and never with ``NO_COLOR`` set (https://no-color.org)
    or ``TERM=dumb``."""
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


# --- the shared pieces ---------------------------------------------------------------------


def heading(title: str | None, source: str | None, word_count: int, chapters: int) -> str:
    """A work's first line: "Title  (source · 1,234 words · 3 chapters)"; the title and
    source each on one line and terminal-safe."""
    facts = [f"{word_count:,} words"]
    if chapters > 1:
        facts.append(f"{chapters} chapters")
    if title and source:
        facts.insert(0, one_line(source))
    return f"{one_line(title or source or '<text>')}  ({' · '.join(facts)})"


def section(title: str, count: int | None = None) -> str:
    """A section's first line: "Declared and found (2)"."""
    return title if count is None else f"{title} ({count})"


def coloured(severity: str, text: str, colour: bool) -> str:
    """``text`` in ``severity``'s colour when ``colour`` (and it has one)."""
    code = SEVERITY_COLOUR.get(severity)
    return f"{code}{text}{RESET}" if colour and code else text


def severity_label(severity: str, colour: bool = False) -> str:
    """The severity column: "GRAPHIC  ", "depicted ", "mentioned" (another strength, such
    as "declared", as it is), in colour when ``colour``."""
    label = f"{SEVERITY_LABEL.get(severity, severity):<{SEVERITY_WIDTH}}"
    return coloured(severity, label, colour)


def warning_line(severity: str, name: str, width: int, detail: str, *, indent: int = 2,
                 colour: bool = False) -> str:
    """A warning as aligned columns: severity, name (padded to ``width``), then ``detail``
    (its confidence and where it is): "  GRAPHIC    Blood and gore  0.99  chapter 2, 20-40%".
    ``name`` and ``detail`` are made terminal-safe; the colour is added after."""
    text = terminal_safe(f"{name:<{width}}  {detail}")
    return f"{' ' * indent}{severity_label(severity, colour)}  {text}"


def found_detail(confidence: float, locations: Sequence[Location], declared: bool = False
                 ) -> str:
    """A found warning's last columns: "0.99  chapter 2, 20-40%" (and "  (declared)")."""
    mark = "  (declared)" if declared else ""
    return f"{confidence:.2f}  {summarise_locations(locations)}{mark}"


def name_width(names: Iterable[str]) -> int:
    """The name column's width: the longest name's."""
    return max((len(n) for n in names), default=0)


def evidence_lines(items: Sequence[Evidence], n: int = 3, indent: int = 6) -> list[str]:
    """The ``n`` strongest pieces of evidence, in story order, each quoted (shortened and
    terminal-safe) under its chapter and paragraph: 'ch 2 ¶5: “…”', then "… and 4 more"."""
    pad = " " * indent
    shown = sorted(items, key=lambda e: -e.score)[:n]
    out = []
    for ev in sorted(shown, key=lambda e: (e.chapter, not e.title, e.start)):
        quote = terminal_safe(textwrap.shorten(ev.snippet, 200, placeholder="\u2026"))
        where = "title" if ev.title else f"\u00b6{ev.paragraph + 1}"
        out.append(f"{pad}ch {ev.chapter} {where}: \u201c{quote}\u201d")
    if len(items) > n:
        out.append(f"{pad}\u2026 and {len(items) - n} more")
    return out


def counts(pairs: Iterable[tuple[str, int]]) -> str:
    """ "violence 3, blood-gore 2": each name on one line, each count with thousands."""
    return ", ".join(f"{one_line(k)} {v:,}" for k, v in pairs)


def by_count(counter: dict[str, int]) -> list[tuple[str, int]]:
    """Most first, then by name."""
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))


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


def describe_locations(locations: Sequence[Location]) -> str:
    """ "chapter 2, 20-40% and 85-95%; chapter 3, 0-10%"."""
    by_chapter: dict[int, list[str]] = {}
    for loc in locations:
        by_chapter.setdefault(loc.chapter, []).append(loc.describe().split(", ", 1)[1])
    return "; ".join(f"chapter {ch}, " + " and ".join(spans) for ch, spans in by_chapter.items())


# --- the report (scan) -----------------------------------------------------------------------


def render_text(report: Report, evidence: bool = False, max_evidence: int = 3,
                colour: bool = False) -> str:
    """The report as lines of text: strongest warnings first, with where they are;
    ``colour``: the severity in colour (:func:`use_colour` says when)."""
    lines = [heading(report.title, report.source, report.word_count, report.chapter_count)]
    gap = report.not_checked
    if gap is not None:
        what = "NOT CHECKED (language)" if gap[0] == "language" else "NOT FULLY CHECKED"
        lines.append(f"  {what}: {one_line(gap[1])}")
    if not report.warnings:
        lines.append(
            f"  No content warnings found at confidence {report.min_confidence:.2f} or above."
        )
    width = name_width(w.name for w in report.warnings)
    for w in report.warnings:
        lines.append(warning_line(w.severity, w.name, width,
                                  found_detail(w.confidence, w.locations, w.declared),
                                  colour=colour))
        if evidence:
            lines.extend(evidence_lines(w.evidence, max_evidence))
    if report.declared:
        declared = ", ".join(
            f"{d.name}"
            + (f" ({one_line(d.qualifier)})" if d.qualifier else "")
            + ("" if d.detected else " [not found in the text]")
            for d in _unique(report.declared)
        )
        lines.append(f"  Declared by the author: {declared}")
    return "\n".join(lines)


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
    return terminal_safe("\n".join(lines))


def _unique(declared: Iterable[DeclaredWarning]) -> list[DeclaredWarning]:
    seen: set[str] = set()
    out = []
    for d in declared:
        if d.id not in seen:
            seen.add(d.id)
            out.append(d)
    return out


# --- the verdict (check) ---------------------------------------------------------------------


def render_verdict(verdict: Verdict, colour: bool = False) -> str:
    """The verdict: the work's first line, the answer ("safe", "NOT SAFE", "UNCERTAIN",
    "NOT CHECKED"), the warnings that make it not safe under the reader's aliases, the
    reasons, and what was found that the profile allows."""
    from forewarn.verdict import NOT_CHECKED, NOT_SAFE, SAFE, UNCERTAIN

    r, label = verdict.report, verdict.profile.label
    lines = [heading(r.title, r.source, r.word_count, r.chapter_count)]
    answer = verdict.answer
    if answer == NOT_SAFE:
        lines.append("  NOT SAFE")
        width = name_width([label(w.id) for w, _ in verdict.triggered]
                           + [label(d.id) for d, _ in verdict.declared])
        for w, _ in verdict.triggered:
            lines.append(warning_line(w.severity, label(w.id), width,
                                      found_detail(w.confidence, w.locations, w.declared),
                                      indent=4, colour=colour))
        for d, _ in verdict.declared:
            lines.append(warning_line(d.severity or "declared", label(d.id), width,
                                      "declared by the author; forewarn did not find it in "
                                      "the text", indent=4, colour=colour))
    else:
        lines.append({SAFE: "  safe", UNCERTAIN: "  UNCERTAIN",
                      NOT_CHECKED: "  NOT CHECKED"}[answer])
    for reason in verdict.reasons():
        lines.append(f"    {one_line(reason)}")
    for w, _ in verdict.allowed:
        lines.append(f"    also: {one_line(label(w.id))} is {w.severity} "
                     f"({summarise_locations(w.locations)}), which this profile allows")
    return "\n".join(lines)


# --- the audit -------------------------------------------------------------------------------


def render_audit(audit: Audit, evidence: bool = False, max_evidence: int = 3,
                 colour: bool = False) -> str:
    """The audit: declared and found, declared but not found, found but not declared (each
    warning as a report line), the AO3 archive warnings it calls for and the tags to add.
    Quotes story text only with ``evidence``."""
    from forewarn.audit import NOT_FOUND_NOTE

    found, missing, undeclared = (audit.declared_and_found, audit.declared_not_found,
                                  audit.found_not_declared)
    width = name_width([f.warning.name for f in found] + [m.name for m in missing]
                       + [u.warning.name for u in undeclared])
    lines = [heading(audit.title, audit.source, audit.word_count, audit.chapter_count)]

    def detected(w: DetectedWarning, *notes: str) -> list[str]:
        out = [warning_line(w.severity, w.name, width, found_detail(w.confidence, w.locations),
                            colour=colour)]
        out += [f"      {note}" for note in notes if note]
        return out + (evidence_lines(w.evidence, max_evidence) if evidence else [])

    these = "these" if len(missing) > 1 else "this"
    sections = [
        ("Declared and found", None, [
            detected(f.warning, f"declared as {_as_written(f.declared)}",
                     f"note: {one_line(f.note)}" if f.note else "") for f in found]),
        ("Declared but not found", NOT_FOUND_NOTE.replace("find this", f"find {these}") + ".", [
            [warning_line(_declared_strength(m.declared), m.name, width,
                          f"declared as {_as_written(m.declared)}", colour=colour)]
            for m in missing]),
        ("Found but not declared", None, [
            detected(u.warning, f'suggested tag: "{one_line(u.tag)}"') for u in undeclared]),
    ]
    for title, after, entries in sections:
        lines += ["", section(title, len(entries))]
        for entry in entries:
            lines.extend(entry)
        if not entries:
            lines.append("  (none)")
        elif after:
            lines.append(f"  {after}")

    if audit.archive_needed:
        lines += ["", section("AO3 archive warnings")]
        lines.extend(f"  {one_line(n.message)}" for n in audit.archive_needed)
    if audit.additional_tags:
        lines += ["", f"AO3 additional tags to add: {one_line(audit.ao3_line())}"]
    return "\n".join(lines)


def _declared_strength(decls: Sequence[DeclaredWarning]) -> str:
    """The strongest severity the declarations give, else "declared"."""
    rank = {"mentioned": 1, "depicted": 2, "graphic": 3}
    said = [d.severity for d in decls if d.severity in rank]
    return max(said, key=rank.__getitem__) if said else "declared"


def _as_written(decls: Sequence[DeclaredWarning]) -> str:
    """'"blood" (content notes, summary), "Gore" (tag)': each text once, with its sources,
    on one line."""
    from forewarn.audit import SOURCE_LABELS

    sources: dict[str, list[str]] = {}
    for d in decls:
        label = SOURCE_LABELS.get(d.source, d.source)
        if label not in sources.setdefault(d.text, []):
            sources[d.text].append(label)
    return ", ".join(f'"{one_line(text)}" ({", ".join(where)})'
                     for text, where in sources.items())


# --- a batch run, a store's numbers, the taxonomy ----------------------------------------------


def render_batch(summary: BatchSummary) -> str:
    """What a batch run did: works, time and rate, what was scanned, skipped and failed,
    the warnings found (works per warning), failures by kind, memory, the store."""
    from forewarn.progress import format_duration

    s = summary
    rate = s.scanned / s.elapsed_s if s.elapsed_s > 0 else 0.0
    where = {"in-process": "1 process", "processes": f"{s.jobs} worker processes",
             "dask": f"Dask, {s.jobs} worker threads"}.get(s.mode, s.mode)
    head = "interrupted after" if s.interrupted else "done:"
    lines = [
        f"forewarn batch {head} {s.done:,} works in {format_duration(s.elapsed_s)} "
        f"({s.elapsed_s:.1f} s; {rate:.1f} works/s scanned; {one_line(where)})",
        f"  scanned {s.scanned:,}, skipped {s.skipped:,} (already stored), "
        f"failed {s.failed:,}" + (f", duplicate ids {s.duplicates:,}" if s.duplicates else ""),
    ]
    if s.skipped_failed:
        lines.append(f"  {s.skipped_failed:,} of the skipped works failed before and "
                     "are unchanged (--retry-failed scans them again)")
    if s.warnings:
        lines.append(f"  warnings found (works): {counts(by_count(s.warnings))}")
    elif s.scanned:
        lines.append("  warnings found: none")
    if s.failures:
        lines.append(f"  failures by kind: {counts(by_count(s.failures))}")
    if s.worker_peak_rss_mb:
        lines.append(f"  peak memory per worker: {s.worker_peak_rss_mb:.0f} MB")
    lines.append(f"  store: {one_line(s.store)}  (model {one_line(s.model_version)})")
    return "\n".join(lines)


def render_stats(stats: dict[str, Any]) -> str:
    """A results store's numbers: works, per warning the works at each severity, the
    confidence histogram, failures by kind and model versions."""
    from forewarn.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    lines = [f"{one_line(stats['store'])}: {stats['works']:,} works ({stats['ok']:,} scanned, "
             f"{stats['failed']:,} failed); {stats['works_with_warnings']:,} with at least "
             "one warning"]
    warnings = stats["warnings"]
    if warnings:
        names = {}
        for wid in warnings:
            try:
                names[wid] = one_line(taxonomy.get(wid).name)
            except Exception:  # a warning from another taxonomy version
                names[wid] = one_line(wid)
        width = name_width(names.values())
        lines.append("")
        lines.append(f"  {'warning':<{width}}  {'mentioned':>9}  {'depicted':>9}  "
                     f"{'graphic':>9}  {'works':>9}")
        for wid, c in sorted(warnings.items(), key=lambda kv: (-kv[1]["total"], kv[0])):
            lines.append(f"  {names[wid]:<{width}}  {c['mentioned']:>9,}  "
                         f"{c['depicted']:>9,}  {c['graphic']:>9,}  {c['total']:>9,}")
    hist = stats["confidence_histogram"]
    bins = hist["bins"]
    top = max((b["count"] for b in bins), default=0)
    which = f" of {one_line(hist['warning'])}" if hist["warning"] else " (all warnings)"
    lines += ["", f"  confidence{which}"]
    for b in bins:
        bar = "#" * (round(40 * b["count"] / top) if top else 0)
        lines.append(f"  {b['from']:.1f}-{b['to']:.1f}  {b['count']:>9,}  {bar}")
    if stats["failures"]:
        lines += ["", f"  failures by kind: {counts(stats['failures'].items())}"]
    if stats["model_versions"]:
        lines += ["", "  model versions: " + "; ".join(
            f"{one_line(k)} ({v:,} works)" for k, v in stats["model_versions"].items())]
    return "\n".join(lines)


def render_taxonomy(tax: Taxonomy) -> str:
    """Every warning, under its group: id and description."""
    lines = []
    for group in tax.groups:
        lines.append(one_line(group.name))
        for w in tax.warnings:
            if w.group == group.id:
                lines.append(terminal_safe(f"  {w.id:<26} {w.description}"))
    return "\n".join(lines)


# --- the text output renderer ----------------------------------------------------------------


def write_text(kind: str, items: Iterable[Any], out: IO[str], options: RenderOptions) -> None:
    """The ``text`` output renderer, for a terminal. Several works are separated by a blank
    line; an input that could not be read is left out (its error is on stderr)."""
    from forewarn.render.registry import Failed

    single: dict[str, Callable[[Any], str]] = {
        "stats": render_stats, "taxonomy": render_taxonomy, "batch": render_batch,
        "eval": lambda result: terminal_safe(result.markdown().rstrip("\n"))}
    if kind in single:
        for item in items:
            out.write(single[kind](item) + "\n")
            out.flush()
        return
    if kind not in ("report", "verdict", "audit"):
        raise KeyError(f"no text renderer for {kind}")
    shown = 0
    for item in items:
        if isinstance(item, Failed):
            continue
        if shown:
            out.write("\n")
        shown += 1
        if kind == "report":
            text = render_text(item, evidence=options.evidence, colour=options.colour)
            if options.by_chapter and item.warnings:
                text += "\n" + render_by_chapter(item)
            if options.strip and item.warnings:
                from forewarn.render.strip import terminal_strips

                text += "\n" + terminal_strips(item, out, options.colour)
        elif kind == "verdict":
            text = render_verdict(item, colour=options.colour)
        else:
            text = render_audit(item, evidence=options.evidence, colour=options.colour)
        out.write(text + "\n")
        out.flush()
