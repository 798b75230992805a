"""Whole chapters: public-domain novels with plot-fact labels per warning family.

``public-domain/labels.json`` gives, per chapter file, the warning families it ``must``
have, those it ``should`` have, those it ``must_not`` have, or ``neutral: true`` for a
chapter with no warning at all. Family names are descriptive ("animal death", "grief"),
so :data:`FAMILY_MAP` maps each to the forewarn warnings that count for it (any one is
enough); a family not in the map falls back to the taxonomy's own name lookup, and one
that resolves to nothing is an error.

Each chapter is read by forewarn's own reader (:func:`forewarn.ingest.read_path`) and
scanned by the shipped scanner at the default confidence. Reported: must-recall,
should-recall, false alarms (a ``must_not`` family reported; any warning at all on a
neutral chapter), every other warning reported (neither required nor forbidden: shown,
not scored), and the time each scan took.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from forewarn.eval.common import Context, EvalError, need
from forewarn.eval.report import Section, Table

CHAPTERS_DIR = Path("public-domain")

# Family name in labels.json -> forewarn warnings that count for it. Decisions:
# * "death" accepts death, dying and child-death: all three tell a reader someone dies.
# * "grief" -> the death family: the taxonomy lists grief and mourning under death, and
#   forewarn has no separate grief warning.
# * "illness" -> dying: in Little Women 40 it is Beth's terminal (physical) illness,
#   which is what "dying" covers (deathbed, death from illness); mental-illness would
#   be wrong for it.
# * "slurs" -> abusive-language (the taxonomy's own "slurs" alias). Racism is scored as
#   its own family in the same chapters, so slurs are not also credited to it.
# * "abuse" -> abuse (cruelty by someone with power over the victim).
# * "sexual-content" as a forbidden family covers the whole sexual-content group.
FAMILY_MAP: dict[str, tuple[str, ...]] = {
    "childbirth": ("childbirth",),
    "death": ("death", "dying", "child-death"),
    "grief": ("death", "dying", "child-death"),
    "death of a child or infant": ("child-death",),
    "illness": ("dying",),
    "pregnancy": ("pregnancy",),
    "blood": ("blood-gore",),
    "animal death": ("animal-death",),
    "animal cruelty": ("animal-cruelty",),
    "violence": ("violence",),
    "abuse": ("abuse",),
    "racism": ("racism",),
    "slurs": ("abusive-language",),
    "sexual-content": ("sexual-content", "incest", "underage"),
    "suicide": ("suicide",),
    "self-harm": ("self-harm",),
}


def family_warnings(family: str) -> tuple[str, ...]:
    """The forewarn warnings that count for a family name (EvalError if none)."""
    key = family.strip().casefold()
    if key in FAMILY_MAP:
        return FAMILY_MAP[key]
    from forewarn.taxonomy import load_taxonomy

    found = load_taxonomy().resolve(family)
    if found is None:
        raise EvalError(f'labels.json: warning family "{family}" maps to no forewarn warning; '
                        "add it to forewarn.eval.chapters.FAMILY_MAP")
    return (found.id,)


def load_labels(folder: Path) -> dict[str, dict[str, Any]]:
    path = need(folder / "labels.json", "chapter labels (public-domain/labels.json)")
    try:
        works = json.loads(path.read_text(encoding="utf-8"))["works"]
    except (ValueError, KeyError, TypeError) as exc:
        raise EvalError(f"{path}: not a labels file with a 'works' object ({exc})") from None
    if not isinstance(works, dict):
        raise EvalError(f"{path}: 'works' must map chapter files to their labels")
    for name, spec in works.items():
        if not isinstance(spec, dict):
            raise EvalError(f"{path}: chapter {name}: its labels must be an object "
                            "(must, should, must_not, neutral)")
        for key in ("must", "should", "must_not"):
            families = spec.get(key, [])
            if not isinstance(families, list):
                raise EvalError(f"{path}: chapter {name}: {key!r} must be a list")
            for family in families:
                family_warnings(family)  # fail early on an unmapped family
        if not (folder / name).is_file():
            raise EvalError(f"{path}: chapter file {name} not found in {folder}")
    return dict(works)


def chapters(ctx: Context) -> Section:
    """Part 5: must-recall, should-recall and false alarms on whole chapters, with timing."""
    from forewarn.ingest import read_path

    section = Section("chapters", "Whole chapters (public-domain novels)")
    folder = Path(ctx.options.get("chapters") or ctx.data_dir / CHAPTERS_DIR)
    labels = load_labels(folder)
    load_started = time.perf_counter()
    ctx.shipped.score("Warm-up: load the models before timing.")
    load_seconds = time.perf_counter() - load_started
    started = time.perf_counter()
    table = Table(["chapter", "words", "must found", "should found", "false alarms",
                   "also reported", "scan s", "words/s"],
                  caption="**Per chapter** (a family counts as found when any of its mapped "
                          "warnings is reported; false alarms: must_not families reported, "
                          "or any warning on a neutral chapter)")
    totals = {"must": 0, "must_found": 0, "should": 0, "should_found": 0,
              "must_not": 0, "must_not_hits": 0, "neutral": 0, "neutral_flagged": 0,
              "neutral_warnings": 0, "words": 0, "seconds": 0.0}
    per: dict[str, Any] = {}
    for name, spec in labels.items():
        ctx.log(f"chapters: {name}")
        t0 = time.perf_counter()
        work = read_path(folder / name)
        scored = ctx.shipped.scan_work(work)
        seconds = time.perf_counter() - t0
        reported = set(scored.warnings)
        words = work.word_count
        totals["words"] += words
        totals["seconds"] += seconds

        def found(families: list[str], reported: set[str] = reported) -> list[str]:
            return [f for f in families if reported & set(family_warnings(f))]

        must, should = list(spec.get("must", [])), list(spec.get("should", []))
        must_not = list(spec.get("must_not", []))
        must_found, should_found, alarms = found(must), found(should), found(must_not)
        neutral = bool(spec.get("neutral"))
        covered = {w for f in must + should + must_not for w in family_warnings(f)}
        also = sorted(reported - covered)
        if neutral:
            totals["neutral"] += 1
            totals["neutral_flagged"] += int(bool(reported))
            totals["neutral_warnings"] += len(reported)
            alarm_cells = [f"{w} ({scored.warnings[w]:.2f})" for w in sorted(reported)]
            also = []
        else:
            alarm_cells = [f"{f} ({', '.join(sorted(reported & set(family_warnings(f))))})"
                           for f in alarms]
        totals["must"] += len(must)
        totals["must_found"] += len(must_found)
        totals["should"] += len(should)
        totals["should_found"] += len(should_found)
        totals["must_not"] += len(must_not)
        totals["must_not_hits"] += len(alarms)
        missed = [f for f in must if f not in must_found]
        table.add(
            name.removesuffix(".txt") + (" (neutral)" if neutral else ""),
            words,
            "–" if neutral else f"{len(must_found)}/{len(must)}"
            + (f" (missed: {', '.join(missed)})" if missed else ""),
            "–" if neutral or not should else f"{len(should_found)}/{len(should)}"
            + (f" (missed: {', '.join(f for f in should if f not in should_found)})"
               if len(should_found) < len(should) else ""),
            ", ".join(alarm_cells) or "none",
            ", ".join(f"{w} ({scored.warnings[w]:.2f})" for w in also) or "",
            round(seconds, 2),
            int(words / seconds) if seconds else None,
        )
        per[name] = {"reported": {w: round(c, 4) for w, c in sorted(scored.warnings.items())},
                     "severities": scored.severities, "must_found": must_found,
                     "must_missed": missed, "should_found": should_found,
                     "false_alarms": alarms if not neutral else sorted(reported),
                     "also_reported": also, "words": words, "seconds": round(seconds, 3)}
    summary = Table(["chapters", "must-recall", "should-recall", "must_not reported",
                     "neutral chapters flagged", "warnings on neutral chapters", "words",
                     "scan time s", "words/s"], caption="**Overall**")

    def ratio(a: float, b: float) -> str:
        return f"{a}/{b} = {a / b:.2f}" if b else "–"

    summary.add(len(labels), ratio(totals["must_found"], totals["must"]),
                ratio(totals["should_found"], totals["should"]),
                ratio(totals["must_not_hits"], totals["must_not"]),
                ratio(totals["neutral_flagged"], totals["neutral"]),
                totals["neutral_warnings"], totals["words"], round(totals["seconds"], 2),
                int(totals["words"] / totals["seconds"]) if totals["seconds"] else None)
    section.tables += [summary, table]
    mapping = Table(["family", "forewarn warnings that count"],
                    caption="**Family map** (forewarn.eval.chapters.FAMILY_MAP)")
    used = sorted({f for spec in labels.values()
                   for k in ("must", "should", "must_not") for f in spec.get(k, [])})
    for family in used:
        mapping.add(family, ", ".join(family_warnings(family)))
    section.tables.append(mapping)
    section.intro = (
        "Each chapter is read with forewarn's text reader and scanned by the shipped scanner "
        "at the default confidence. Labels are the chapters' well-known plot facts "
        "(labels.json), by family; the family map below says which forewarn warnings count.")
    loading = (f"Model loading (once, before timing): {load_seconds:.1f} s." if load_seconds
               >= 0.05 else "The models were already loaded by an earlier part.")
    section.notes.append(f"{loading} Scan times are wall-clock on this machine (shared "
                         "cores), reading the file included.")
    section.data = {"totals": totals, "chapters": per, "load_seconds": round(load_seconds, 3)}
    section.seconds = time.perf_counter() - started + load_seconds
    return section
