"""Document-level evaluation in the PAN@CLEF 2023 trigger-detection format.

Input: a folder with ``works.jsonl`` (``{"work_id", "text"}`` per line) and
``labels.jsonl`` (``{"work_id", "labels": [PAN23 label names]}``). Each work is read as
forewarn reads a plain-text story (:func:`forewarn.ingest.read_text`, so AO3-style
headers are understood), scanned by the shipped scanner at the default confidence, and its
warnings are mapped to PAN23 labels with the taxonomy (:meth:`Taxonomy.to_pan23`; a
warning may give several labels, several warnings the same one). Scores are micro- and
macro-F1 over the 32 PAN23 labels, as the shared task computed them, plus a macro-F1
over the labels that occur (in gold or prediction) at all, which is more telling on a
small set.
"""

from __future__ import annotations

import time
from pathlib import Path

from forewarn.eval.common import Context, EvalError, json_field, need, read_jsonl, repo_root
from forewarn.eval.metrics import Counts, macro_f1, micro, multilabel_counts
from forewarn.eval.report import Section, Table

# taxonomy/pan23-labels-by-frequency.txt: the 32 labels, most frequent first.
PAN23_LABELS: tuple[str, ...] = (
    "pornographic-content", "violence", "death", "sexual-assault", "abuse", "blood",
    "suicide", "pregnancy", "child-abuse", "incest", "underage", "homophobia", "self-harm",
    "dying", "kidnapping", "mental-illness", "dissection", "eating-disorders", "abduction",
    "body-hatred", "childbirth", "racism", "sexism", "miscarriages", "transphobia",
    "abortion", "fat-phobia", "animal-death", "ableism", "classism", "misogyny",
    "animal-cruelty",
)  # fmt: skip
PER_WORK_ROWS = 50  # the per-work table shows at most this many works
# The official XGBoost baseline and the best published system (the data README).
PAN23_ANCHORS = (("PAN23 XGBoost baseline", 0.72, 0.25), ("best PAN23 system (val.)", 0.74, 0.37))


def default_folder(ctx: Context) -> tuple[Path, bool]:
    """``--pan23 DIR``, else ``DATA/pan23`` when present, else the test fixture (True)."""
    given = ctx.options.get("pan23")
    if given:
        return Path(given), False
    shared = ctx.data_dir / "pan23"
    if (shared / "works.jsonl").is_file():
        return shared, False
    root = repo_root()
    if root is not None:
        return root / "tests" / "fixtures" / "eval", True
    raise EvalError("no PAN23-format data: pass --pan23 DIR (works.jsonl + labels.jsonl)")


def load(folder: Path) -> tuple[list[tuple[str, str]], dict[str, set[str]]]:
    """Works ``(work_id, text)`` in file order and gold labels per work_id."""
    works_path = need(folder / "works.jsonl", "PAN23 works.jsonl")
    labels_path = need(folder / "labels.jsonl", "PAN23 labels.jsonl")
    works: list[tuple[str, str]] = []
    for n, r in enumerate(read_jsonl(works_path), 1):
        where = f"{works_path}: work {n}"
        wid = str(json_field(r, "work_id", where, (str, int)))
        works.append((wid, json_field(r, "text", where, str)))
    seen: set[str] = set()
    for wid, _ in works:
        if wid in seen:
            raise EvalError(f"{works_path}: work id {wid!r} given twice")
        seen.add(wid)
    gold: dict[str, set[str]] = {}
    known = set(PAN23_LABELS)
    for n, r in enumerate(read_jsonl(labels_path), 1):
        where = f"{labels_path}: line {n}"
        wid = str(json_field(r, "work_id", where, (str, int)))
        labels = {str(x).strip().casefold() for x in json_field(r, "labels", where, list)}
        bad = labels - known
        if bad:
            raise EvalError(f"{labels_path}: work {wid}: not PAN23 labels: "
                            f"{', '.join(sorted(bad))}")
        if wid in gold:
            raise EvalError(f"{labels_path}: labels for work {wid!r} given twice")
        gold[wid] = labels
    missing = [w for w, _ in works if w not in gold]
    if missing:
        raise EvalError(f"{labels_path}: no labels for work(s) {', '.join(missing[:5])}")
    return works, gold


def to_pan23(warning_ids: set[str] | list[str]) -> set[str]:
    """The PAN23 labels forewarn's warnings map to (the taxonomy's ``pan23`` field)."""
    from forewarn.taxonomy import load_taxonomy

    tax = load_taxonomy()
    out: set[str] = set()
    for wid in warning_ids:
        out.update(tax.to_pan23(wid))
    return out


def documents(ctx: Context) -> Section:
    """Part 3: scan each work, map to PAN23 labels, micro/macro-F1 over the 32 labels."""
    from forewarn.errors import ForewarnError
    from forewarn.eval.common import text_work
    from forewarn.ingest import read_text

    section = Section("documents", "Document level: PAN23 format")
    started = time.perf_counter()
    folder, is_fixture = default_folder(ctx)
    works, gold = load(folder)
    predicted: list[set[str]] = []
    golds: list[set[str]] = []
    per_work = Table(["work", "words", "gold labels", "predicted labels", "missed",
                      "false alarms"], caption="**Per work**")
    for work_id, text in works:
        try:
            work = read_text(text, source=work_id)
        except ForewarnError:
            work = text_work(text, work_id)  # no story text after a header: read it raw
        scored = ctx.shipped.scan_work(work)
        labels = to_pan23(list(scored.warnings))
        predicted.append(labels)
        golds.append(gold[work_id])
        if len(per_work.rows) < PER_WORK_ROWS:
            per_work.add(work_id, work.word_count,
                         ", ".join(sorted(gold[work_id])) or "none",
                         ", ".join(sorted(labels)) or "none",
                         ", ".join(sorted(gold[work_id] - labels)),
                         ", ".join(sorted(labels - gold[work_id])))
    counts = multilabel_counts(predicted, golds, PAN23_LABELS)
    pooled = micro(counts.values())
    summary = Table(["scores", "micro-P", "micro-R", "micro-F1", "macro-F1 (32 labels)",
                     "macro-F1 (labels present)"],
                    caption=f"**{len(works)} works from {folder}**"
                            + (" (the test fixture: written for forewarn)" if is_fixture else ""))
    summary.add("shipped forewarn", pooled.precision, pooled.recall, pooled.f1,
                macro_f1(counts.values()), macro_f1(counts.values(), defined_only=True))
    for name, mi, ma in PAN23_ANCHORS:
        summary.add(f"reference: {name} (PAN23 test data)", None, None, mi, ma, None)
    section.tables.append(summary)
    labels_table = Table(["label", "works", "predicted", "TP", "P", "R", "F1"],
                         caption="**Per label** (labels with gold or predicted works)")
    for label in PAN23_LABELS:
        c = counts[label]
        if c.defined:
            labels_table.add(label, c.positives, c.predicted, c.tp, c.precision, c.recall, c.f1)
    section.tables += [labels_table, per_work]
    if len(works) > PER_WORK_ROWS:
        section.notes.append(f"The per-work table shows the first {PER_WORK_ROWS} of "
                             f"{len(works)} works; --json has every prediction.")
    section.intro = (
        "Each work is read like a plain-text story (headers understood), scanned by the "
        "shipped scanner at the default confidence, and its warnings mapped to PAN23 labels "
        "through the taxonomy. Micro-F1 pools all (work, label) decisions; macro-F1 averages "
        "the 32 labels' F1, a label with no gold and no predicted work counting 0 (as "
        "scikit-learn's zero_division=0 and the shared task did); 'labels present' averages "
        "only labels that occur.")
    if is_fixture:
        section.notes.append(
            "These are the small original documents in tests/fixtures/eval (no PAN23 works "
            "are in ../shared/data: the corpus is not redistributable). They check the "
            "plumbing, not forewarn's accuracy on AO3; the PAN23 anchors are on a different "
            "data set and are not comparable.")
    section.data = {"folder": str(folder), "fixture": is_fixture, "works": len(works),
                    "micro": pooled.as_dict(),
                    "macro_f1": macro_f1(counts.values()),
                    "macro_f1_present": macro_f1(counts.values(), defined_only=True),
                    "per_label": {k: v.as_dict() for k, v in counts.items() if v.defined},
                    "predicted": {w: sorted(p) for (w, _), p in zip(works, predicted,
                                                                     strict=True)}}
    section.seconds = time.perf_counter() - started
    return section


__all__ = ["PAN23_LABELS", "Counts", "documents", "load", "to_pan23"]
