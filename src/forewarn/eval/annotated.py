"""Held-out figures on the annotated corpus (``training/annotations``): detection v2 against v1.

Everything here is the **test** split, which no training or fitting step reads: the 16 test
books' annotated passages, the test writing batches' scenes, and the test-book chapters of
``training/annotations/chapters.json``. Figures:

* **per warning**, on every annotated test passage: precision, recall and F1 of each
  passage's decision (v2: the passage's calibrated probability at the warning's operating
  point; v1: the shipped scanner on the passage read alone, at the default confidence);
* **natural distribution** (what a reader meets: the test books' random passages and every
  passage of the test scenes): micro precision and recall, and the false-alarm rate
  (passages annotated with no warning that get one);
* **calibration**: v2's probabilities in bands of 0.1 against the share of passages that
  truly show the warning, on the natural passages;
* **whole works**: each test scene and each labelled test chapter scanned whole by the
  scanner: expected warnings found, false warnings.

Needs the source checkout (``training/``) and the corpus (``--data``).
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from forewarn.eval.common import Context, EvalError, Shipped, repo_root, text_work
from forewarn.eval.report import Section, Table


def _training_modules() -> tuple[Any, Any, Any]:
    root = repo_root()
    if root is None or not (root / "training" / "annotations" / "labels").is_dir():
        raise EvalError("the annotated corpus (training/annotations) is part of forewarn's "
                        "source checkout; run this part from one")
    path = str(root / "training")
    if path not in sys.path:
        sys.path.insert(0, path)
    return (importlib.import_module("annotate"), importlib.import_module("corpus"),
            importlib.import_module("chapters"))


def _prf(tp: int, fp: int, fn: int) -> tuple[float | None, float | None, float | None]:
    p = tp / (tp + fp) if tp + fp else None
    r = tp / (tp + fn) if tp + fn else None
    f = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None
    return p, r, f


RANK = {"mentioned": 1, "depicted": 2, "graphic": 3}


def _scanned(ctx: Context, shipped: Shipped, texts: list[str], wids: list[str]
             ) -> tuple[np.ndarray, np.ndarray]:
    """The scanner's warnings for each passage read alone as a work, at the default
    confidence (what ``forewarn scan`` says of that passage), and their severity ranks."""
    out = np.zeros((len(texts), len(wids)), dtype=bool)
    severity = np.zeros((len(texts), len(wids)), dtype=np.int8)
    col = {w: j for j, w in enumerate(wids)}
    for i, text in enumerate(texts):
        scored = shipped.score(text)
        for w in scored.warnings:
            out[i, col[w]] = True
            severity[i, col[w]] = RANK[scored.severities[w]]
        if i % 1000 == 0:
            ctx.log(f"annotated: {shipped.engine} scanner {i}/{len(texts)}")
    return out, severity


def _severity_table(gold: np.ndarray, runs: dict[str, tuple[np.ndarray, np.ndarray]]
                    ) -> tuple[Table, dict[str, Any]]:
    """Severity where a decision and the label agree that the warning is there: exact
    agreement, and the share called stronger or weaker than the annotators did."""
    table = Table(["decision", "both say present", "same severity", "stronger", "weaker",
                   "gold graphic found graphic"],
                  caption="**Severity** (passage-warnings both the decision and the "
                          "label call present)")
    out: dict[str, Any] = {}
    for name, (decided, predicted) in runs.items():
        both = decided & (gold > 0)
        g, pr = gold[both], predicted[both]
        n = int(both.sum())
        graphic = g == 3
        row = (n, float((g == pr).mean()) if n else None,
               float((pr > g).mean()) if n else None, float((pr < g).mean()) if n else None,
               f"{int((pr[graphic] == 3).sum())}/{int(graphic.sum())}")
        table.add(name, *row)
        out[name] = row
    return table, out


def annotated(ctx: Context) -> Section:
    annotate, corpus, chapters_mod = _training_modules()
    from forewarn.detect.classifier import PassageClassifier, available

    if not available():
        raise EvalError("detection v2's classifier is not installed (forewarn/data/classifier)")
    data = Path(ctx.data_dir)
    if not (corpus.corpus_dir(data) / "MANIFEST.tsv").is_file():
        raise EvalError(f"the public-domain corpus is not under {data} (pass --data DIR)")
    started = time.perf_counter()
    section = Section("annotated", "Held-out annotated data (test books and scenes)")
    wids = annotate.warning_ids()
    labels = annotate.final_labels()
    strata = {r["id"]: r["stratum"] for r in annotate.load_sample()}
    rows = [(pid, row) for pid, row in sorted(labels.items())
            if row["source"] != "ao3" and corpus.split_of_passage(pid) == "test"]
    texts = []
    for pid, row in rows:
        texts.append(annotate.modern_passage(pid)[1] if row["source"] == "modern"
                     else corpus.lookup(pid, data).text)
    gold = np.zeros((len(rows), len(wids)), dtype=bool)
    col = {w: j for j, w in enumerate(wids)}
    for i, (_, row) in enumerate(rows):
        for w in row["labels"]:
            gold[i, col[w]] = True
    natural = np.array([row["source"] == "modern" or strata.get(pid) == "random"
                        for pid, row in rows])
    ctx.log(f"annotated: {len(rows)} test passages ({int(natural.sum())} natural)")

    clf = PassageClassifier()
    if clf.warnings != wids:
        raise EvalError("the classifier's warnings are not the taxonomy's")
    # the lexicon feature as training/fit_combiner.py computes it (each passage's whole work)
    lex = importlib.import_module("fit_combiner").lexicon_features(
        [pid for pid, _ in rows], wids, data)
    # the context features as training/fit_combiner.py computes them (the passages around
    # each one in its book or scene)
    context = (importlib.import_module("fit_combiner").context_features(
        [pid for pid, _ in rows], clf, clf.rings, data)[1] if clf.reads_neighbours else None)
    # a model that reads its neighbours' text reads each passage with the passages either
    # side of it in its chapter or scene, as a scan does
    before: list[str] = []
    after: list[str] = []
    if clf.context_tokens:
        ring_texts = importlib.import_module("fit_combiner").ring_texts
        for pid, _ in rows:
            (b_text, a_text), = ring_texts(pid, 1, data)[1]
            before.append(b_text)
            after.append(a_text)
    probs = np.zeros((len(texts), len(wids)), dtype=np.float32)
    severity = np.zeros((len(texts), len(wids)), dtype=np.int8)
    for b in range(0, len(texts), 256):
        probs[b: b + 256], severity[b: b + 256] = clf.scores(
            texts[b: b + 256], lex["lexicon"][b: b + 256], lex["negated"][b: b + 256],
            context=None if context is None else {k: v[b: b + 256] for k, v in context.items()},
            neighbours=(before[b: b + 256], after[b: b + 256]) if before else None)
    points = np.array([clf.operating_points.get(w, 0.5) for w in wids])
    v2 = probs >= points
    engines = {"v2": Shipped(engine="v2"), "v1": Shipped(engine="v1")}
    v1, v1_severity = _scanned(ctx, engines["v1"], texts, wids)
    v2_scan, v2_scan_severity = _scanned(ctx, engines["v2"], texts, wids)
    gold_rank = np.zeros((len(rows), len(wids)), dtype=np.int8)
    for i, (_, row) in enumerate(rows):
        for w, sev in row["labels"].items():
            gold_rank[i, col[w]] = RANK[sev]
    severity_table, severity_json = _severity_table(gold_rank, {
        "v2 passage": (v2, severity), "v2 scan": (v2_scan, v2_scan_severity),
        "v1 scan": (v1, v1_severity)})

    per = Table(["warning", "test +", "v2 P", "v2 R", "v2 F1", "v1 P", "v1 R", "v1 F1",
                 "point"], caption="**Per warning, every annotated test passage** (v2 at "
                                   "its operating point; v1 at the default confidence)")
    scored_f1 = []
    per_json = {}
    for j, w in enumerate(wids):
        g = gold[:, j]
        if not g.any() and not v2[:, j].any():
            continue
        p2 = _prf(int((v2[:, j] & g).sum()), int((v2[:, j] & ~g).sum()),
                  int((~v2[:, j] & g).sum()))
        p1 = _prf(int((v1[:, j] & g).sum()), int((v1[:, j] & ~g).sum()),
                  int((~v1[:, j] & g).sum()))
        per.add(w, int(g.sum()), *p2, *p1, float(points[j]))
        per_json[w] = {"positives": int(g.sum()), "v2": p2, "v1": p1}
        if g.sum() >= 20 and p2[2] is not None:
            scored_f1.append(p2[2])

    def micro(decide: np.ndarray, sel: np.ndarray) -> tuple[Any, ...]:
        d, g = decide[sel], gold[sel]
        tp, fp, fn = int((d & g).sum()), int((d & ~g).sum()), int((~d & g).sum())
        clean = ~g.any(1)
        alarm = float(d[clean].any(1).mean()) if clean.any() else None
        return (*_prf(tp, fp, fn)[:2], alarm, int(sel.sum()), int(clean.sum()))

    nat = Table(["passages", "engine", "micro P", "micro R", "false-alarm rate", "n",
                 "n with no warning"],
                caption="**Natural distribution** (test books' random passages; every "
                        "passage of the test scenes). v2 passage: the classifier's "
                        "probability at the warning's operating point; scan: the scanner "
                        "on the passage read alone, at the default confidence")
    is_modern = np.array([row["source"] == "modern" for _, row in rows])
    nat_json = {}
    for name, sel in (("books, random", natural & ~is_modern), ("modern scenes", is_modern),
                      ("both", natural)):
        for engine, decide in (("v2 passage", v2), ("v2 scan", v2_scan), ("v1 scan", v1)):
            m = micro(decide, sel)
            nat.add(name, engine, *m)
            nat_json[f"{name}/{engine}"] = m

    bands = Table(["band", "passage-warnings", "observed share", "|gap|"],
                  caption="**Calibration of v2** (natural passages, every warning)")
    flat_p = probs[natural].ravel()
    flat_g = gold[natural].ravel()
    worst = 0.0
    band_json = []
    for lo in np.arange(0.0, 1.0, 0.1):
        sel = (flat_p >= lo) & (flat_p < lo + 0.1 if lo < 0.9 else flat_p <= 1.0)
        if sel.sum() == 0:
            continue
        share = float(flat_g[sel].mean())
        mid = lo + 0.05
        gap = abs(share - mid)
        if sel.sum() >= 20:
            worst = max(worst, gap)
        bands.add(f"{lo:.1f}-{lo + 0.1:.1f}", int(sel.sum()), share, gap)
        band_json.append((round(float(lo), 1), int(sel.sum()), share))

    works = _works(ctx, engines, annotate, chapters_mod, rows, gold, wids, data)
    section.tables += [nat, per, bands, severity_table, *works["tables"]]
    macro = float(np.mean(scored_f1)) if scored_f1 else None
    section.intro = (
        "The test split of the annotated corpus: never trained on, never used for a choice "
        "(epochs, calibration, operating points and the work aggregator are fitted on dev).")
    section.notes.append(
        f"v2 macro-F1 over warnings with at least 20 test positives: "
        f"{macro:.3f} ({len(scored_f1)} warnings)" if macro is not None else
        "no warning has 20 test positives")
    section.notes.append(f"Calibration: the largest gap in a band of at least 20 "
                         f"passage-warnings is {worst:.3f}.")
    section.data = {"per_warning": per_json, "natural": nat_json, "bands": band_json,
                    "macro_f1_20": macro, "worst_band_gap": worst, "works": works["data"],
                    "severity": severity_json}
    section.seconds = time.perf_counter() - started
    return section


def _works(ctx: Context, engines: dict[str, Shipped], annotate: Any, chapters_mod: Any,
           rows: list, gold: np.ndarray, wids: list[str], data: Path) -> dict[str, Any]:
    """Whole test scenes and labelled test chapters, each scanned whole by v2 and v1."""
    from forewarn.ingest.text import parse_text

    scenes: dict[str, set[str]] = defaultdict(set)
    for i, (pid, row) in enumerate(rows):
        if row["source"] == "modern":
            scenes[pid.split(":")[1]].update(w for j, w in enumerate(wids) if gold[i, j])
    table = Table(["works", "engine", "expected", "found", "recall", "false warnings",
                   "false per work", "quiet works", "quiet works flagged", "no-must works",
                   "no-must works with a false warning"],
                  caption="**Whole works** (scenes: expected = any passage's label; "
                          "chapters: must, with should neither required nor false; quiet: "
                          "nothing at all, so any warning is false; no-must: nothing a reader "
                          "needs warning of, slight mentions allowed)")
    out: dict[str, Any] = {}
    scene_files = {f"{p.parent.name}-{p.stem}": p for p in annotate.modern_scenes()}
    chapter_labels = {}
    if chapters_mod.LABELS.is_file():
        chapter_labels = json.loads(chapters_mod.LABELS.read_text(encoding="utf-8"))
    for engine, shipped in engines.items():
        for kind in ("scenes", "chapters"):
            expected = found = false = quiet = quiet_flagged = calm = calm_false = 0
            detail = {}
            items: list[tuple[str, set[str], set[str], Any]] = []
            if kind == "scenes":
                for name, want in sorted(scenes.items()):
                    text = scene_files[name].read_text(encoding="utf-8")
                    items.append((name, want, set(), parse_text(text, source=name)))
            else:
                for name, spec in sorted(chapter_labels.items()):
                    items.append((name, set(spec.get("must", [])), set(spec.get("should", [])),
                                  text_work(chapters_mod.chapter_text(name, data), name)))
            if not items:
                continue
            for name, must, should, work in items:
                reported = set(shipped.scan_work(work).warnings)
                expected += len(must)
                found += len(must & reported)
                bad = reported - must - should
                false += len(bad)
                if not must and not should:
                    quiet += 1
                    quiet_flagged += bool(reported)
                if not must:
                    calm += 1
                    calm_false += bool(bad)
                detail[name] = {"missed": sorted(must - reported), "false": sorted(bad)}
            table.add(kind, engine, expected, found, found / expected if expected else None,
                      false, false / len(items), quiet, quiet_flagged, calm, calm_false)
            out[f"{kind}/{engine}"] = detail
            ctx.log(f"annotated: {kind} with {engine} done")
    return {"tables": [table], "data": out}
