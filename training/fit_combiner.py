"""Fit detection v2's combiner, work aggregator and operating points on the dev split.

Reads a training run (``training/train_classifier.py``: ``rows.json``, ``y.npy``, the dev
logits of each epoch), picks the epoch by dev mean average precision and writes
``RUN/combiner.json`` with :mod:`forewarn.combine`'s models, which the runtime applies
unchanged:

* the combiner: each warning's logistic calibration of the classifier's logit and the
  lexicon's best score (computed over each passage's whole work, as a scan does), fitted
  on every dev passage, weighted towards the natural distribution (the corpus's random
  passages and the modern scenes count 1, the pointed and scene strata, over-sampled for
  positives, count ``STRATA_WEIGHT``), shrunk towards a model pooled over all warnings;
* with ``--model``, the same fit without the ``context`` features (``combiner_alone``), for
  passages that have no neighbour to read;
* the operating points: per warning, the passage threshold that maximises F1 on the
  natural dev passages (random and modern), where there are at least ``MIN_DEV_POSITIVES``
  of them; ``DEFAULT_POINT`` elsewhere;
* the work aggregator: fitted on whole dev scenes (every passage of the dev writing
  batches' scenes) and the dev books' annotated stretches (a pointed passage with its
  annotated neighbours), one row per (work, warning).

With ``--model DIR`` (an exported classifier: ``forewarn/data/classifier`` or an export of
this run), every logit is computed by that int8 graph, exactly as a scan computes it, and the
combiner gains the ``context`` features (:func:`forewarn.combine.neighbour_context`): for
each ring up to ``--rings``, the larger of the logits of the passages that far before and
after each dev passage in its book or scene. Without it the run's own dev logits are read
and there is no ``context``.

The test split is never read here. Usage::

    python training/fit_combiner.py RUN [--epoch N] [--model DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from corpus import ANNOTATIONS as ANNOTATIONS_DIR

from forewarn.combine import (
    CONTEXT_FLOOR,
    CONTEXT_MARGIN,
    Combiner,
    WorkAggregator,
    context_ring,
    ring_keys,
    strong_feature,
)

STRATA_WEIGHT = 0.1
MIN_DEV_POSITIVES = 5
DEFAULT_POINT = 0.5
RINGS = 5  # rings of neighbours read with --model (model card, section 0: 1 to 8 tried)
SHRINK = 80.0  # chosen by grouped 5-fold CV on dev (log loss; 5, 20, 80, 320 tried)
GRID = np.round(np.arange(0.2, 0.801, 0.05), 2)


def natural_weight(ids: list[str], stratum: dict[str, str]) -> np.ndarray:
    """1 for passages of the natural distribution (random stratum, modern scenes)."""
    return np.array([1.0 if i.startswith("modern:") or stratum.get(i) == "random"
                     else STRATA_WEIGHT for i in ids])


def work_of(pid: str, drawn: dict[str, str]) -> str | None:
    """The work a passage belongs to for the aggregator: its modern scene, or the corpus
    anchor its annotated stretch was drawn around (None: a passage with no stretch)."""
    if pid.startswith("modern:"):
        return pid.split(":")[1]
    how = drawn.get(pid, "")
    if how.startswith("around:"):
        return how.split(":", 2)[2].rsplit(":", 1)[0]
    return None


def works_of(ids: list[str], drawn: dict[str, str]) -> dict[str, list[int]]:
    """Row indices per work (the anchor itself joins its stretch)."""
    groups: dict[str, list[int]] = defaultdict(list)
    anchors = set()
    for k, pid in enumerate(ids):
        w = work_of(pid, drawn)
        if w is not None:
            groups[w].append(k)
            if not pid.startswith("modern:"):
                anchors.add(w)
    for k, pid in enumerate(ids):
        if pid in anchors and k not in groups[pid]:
            groups[pid].append(k)
    return {w: rows for w, rows in groups.items() if len(rows) >= 2}


def lexicon_features(ids: list[str], wids: list[str], data: Path
                     ) -> dict[str, np.ndarray]:
    """The combiner's ``lexicon`` and ``negated`` features for passages named by id,
    computed as a scan computes them: the lexicon reads each passage's whole work (its
    book, or its scene) on the folded text; :func:`forewarn.combine.lexicon_matrix` keeps
    the best hit and :func:`forewarn.combine.negation_matrix` the cues ruled out."""
    from annotate import MODERN_DIR, modern_passages
    from corpus import book_passages, book_text

    from forewarn.combine import lexicon_matrix, negation_matrix
    from forewarn.detect.lexicon import LexiconDetector
    from forewarn.ingest.text import parse_text
    from forewarn.normalize import fold_passages
    from forewarn.segment import segment

    lexicon = LexiconDetector()
    want = {pid: k for k, pid in enumerate(ids)}
    works: dict[str, list[str]] = defaultdict(list)
    for pid in ids:
        works[pid.split(":")[1] if pid.startswith("modern:") else pid.split(":")[0]].append(pid)
    out = {"lexicon": np.zeros((len(ids), len(wids))), "negated": np.zeros((len(ids), len(wids)))}
    for name in works:
        if name.startswith("w") and "-" in name and (MODERN_DIR / name.split("-")[0]).is_dir():
            batch, stem = name.split("-", 1)
            path = MODERN_DIR / batch / f"{stem}.txt"
            work = parse_text(path.read_text(encoding="utf-8"), source=path.name)
            names = [i for i, _ in modern_passages(path)]
        else:
            work = parse_text(book_text(name, data), source=f"{name}.txt")
            names = [p.id for p in book_passages(name, data)]
        passages = fold_passages(segment(work))
        assert len(passages) == len(names), name
        rows = {p.index: r for r, p in enumerate(passages)}
        hits = lexicon.detect(passages)
        feature = {"lexicon": lexicon_matrix(hits, rows, wids),
                   "negated": negation_matrix(hits.ruled_out, rows, wids)}
        for r, pid in enumerate(names):
            if pid in want:
                for key in out:
                    out[key][want[pid]] = feature[key][r]
    return out


def ring_texts(pid: str, rings: int, data: Path) -> tuple[str, list[tuple[str, str]]]:
    """A passage's text and, for each ring 1..``rings``, the texts of the passages that far
    before and after it in its chapter or scene ("" past an end), as a scan's rings stop at
    a chapter break."""
    from annotate import MODERN_DIR, modern_passages
    from corpus import book_passages, lookup

    if pid.startswith("modern:"):
        _, scene, _ = pid.split(":")
        batch, stem = scene.split("-", 1)
        listed = modern_passages(MODERN_DIR / batch / f"{stem}.txt")
        texts = [t for _, t in listed]
        k = [i for i, _ in listed].index(pid)
        own = texts[k]
    else:
        passage = lookup(pid, data)
        same = [p for p in book_passages(passage.book, data) if p.chapter == passage.chapter]
        texts = [p.text for p in same]
        k, own = passage.index - same[0].index, passage.text
    return own, [(texts[k - r] if k - r >= 0 else "", texts[k + r] if k + r < len(texts) else "")
                 for r in range(1, rings + 1)]


def context_features(ids: list[str], clf, rings: int, data: Path
                     ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(each passage's head logits ``[n, 3W]``, the combiner's ``context`` features by
    name), computed by the exported classifier ``clf`` on the folded text as a scan reads
    it, by :func:`forewarn.combine.neighbour_context` itself on each passage's window. A
    model that reads its neighbours' text (``clf.context_tokens``) reads every passage of
    the window with the passages either side of it, as a scan does; its logits are keyed
    by position (before, text, after), not by the text alone."""
    from forewarn.combine import neighbour_context
    from forewarn.normalize import fold

    n_w = len(clf.warnings)
    reach = rings + (1 if clf.context_tokens else 0)
    windows = []  # per passage: the folded texts at keys -reach..reach ("" past an end)
    for pid in ids:
        own, around = ring_texts(pid, reach, data)
        windows.append([fold(t) if t else "" for t in
                        [b for b, _ in reversed(around)] + [own] + [a for _, a in around]])

    def key(window: list[str], k: int) -> tuple[str, str, str]:
        if not clf.context_tokens:
            return "", window[k], ""
        return (window[k - 1] if k > 0 else "", window[k],
                window[k + 1] if k + 1 < len(window) else "")

    centre = reach
    span = range(centre - rings, centre + rings + 1)
    keys = sorted({key(w, k) for w in windows for k in span if w[k]})
    at = {k: i for i, k in enumerate(keys)}
    logits = np.zeros((len(keys), 3 * n_w))
    for b in range(0, len(keys), 256):
        chunk = keys[b:b + 256]
        logits[b:b + 256] = clf.logits([t for _, t, _ in chunk], [k[0] for k in chunk],
                                       [k[2] for k in chunk])[1]
    own_logits = np.stack([logits[at[key(w, centre)]] for w in windows])
    names = list(neighbour_context(np.zeros((1, n_w)), None, rings))
    features = {name: np.zeros((len(ids), n_w)) for name in names}
    for row, w in enumerate(windows):
        # the passage (key 0) and its neighbours by their distance, as a scan lays them out
        present = [k for k in span if w[k]]
        rings_k = neighbour_context(np.stack([logits[at[key(w, k)], :n_w] for k in present]),
                                    [k - centre for k in present], rings)
        first = present.index(centre)
        for name in names:
            features[name][row] = rings_k[name][first]
    return own_logits, features


def scored_dev_rows(model: Path, rings: int, data: Path, cache: Path | None = None
                    ) -> tuple[list[str], np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Every dev passage labelled today (the graph scores any passage, so not only those a
    run knew when it was trained): (ids, label rows ``[n, 3W]``, the exported classifier
    ``model``'s head logits ``[n, 3W]``, its ``context`` features). ``cache``: an npz
    that keeps them, reused while the model's graph and heads, the rings and the dev
    passages are the same (``fit_combiner.py`` and ``cv_combiner.py`` can share one)."""
    from train_classifier import load_rows

    from forewarn.detect.classifier import PassageClassifier

    current = load_rows(data, splits=("dev",))
    manifest = json.loads((model / "manifest.json").read_text())
    stamp = json.dumps([manifest["files"]["model.onnx"]["sha256"],
                        manifest["files"]["heads.npz"]["sha256"], rings])
    if cache is not None and cache.is_file():
        saved = np.load(cache, allow_pickle=False)
        if str(saved["stamp"]) == stamp and [str(i) for i in saved["ids"]] == current["id"]:
            return (current["id"], current["y"], saved["logits"],
                    {k.removeprefix("c_"): saved[k] for k in saved.files if k.startswith("c_")})
    logits, context = context_features(current["id"], PassageClassifier(model), rings, data)
    if cache is not None:
        np.savez(cache, stamp=np.array(stamp), ids=np.array(current["id"]), logits=logits,
                 **{f"c_{k}": v for k, v in context.items()})
    return current["id"], current["y"], logits, context


DEV_CHAPTERS = ANNOTATIONS_DIR / "chapters-dev.json"


def chapter_rows(model: Path, combiner: Combiner, alone: Combiner | None, wids: list[str],
                 data: Path, labels_path: Path = DEV_CHAPTERS
                 ) -> tuple[list[np.ndarray], list[float], list[str]]:
    """Whole dev chapters read by annotators, as the work aggregator's rows: per chapter and
    warning, the passage probabilities a scan of the chapter computes with ``combiner`` (the
    run time's own code, :meth:`PassageClassifier.scores`), and 1 for a must, 0 for a
    warning the chapter does not have; a "should" is neither and gives no row."""
    from chapters import chapter_text

    from forewarn.combine import lexicon_matrix, negation_matrix
    from forewarn.detect.classifier import PassageClassifier
    from forewarn.detect.lexicon import LexiconDetector
    from forewarn.ingest.text import parse_text
    from forewarn.normalize import fold_passages
    from forewarn.segment import segment

    if not labels_path.is_file():
        return [], [], []
    labels = json.loads(labels_path.read_text(encoding="utf-8"))
    clf = PassageClassifier(model)
    clf.combiner, clf.combiner_alone = combiner, alone or combiner
    lexicon = LexiconDetector()
    probs_out: list[np.ndarray] = []
    y_out: list[float] = []
    names: list[str] = []
    for name, row in sorted(labels.items()):
        work = parse_text(chapter_text(name, data), source=name)
        passages = fold_passages(segment(work))
        hits = lexicon.detect(passages)
        rows = {p.index: r for r, p in enumerate(passages)}
        probs, _ = clf.scores([p.text for p in passages], lexicon_matrix(hits, rows, wids),
                              negation_matrix(hits.ruled_out, rows, wids),
                              indices=ring_keys(passages))
        must, should = set(row["must"]), set(row["should"])
        for j, wid in enumerate(wids):
            if wid in should:
                continue
            probs_out.append(probs[:, j].astype(np.float64))
            y_out.append(1.0 if wid in must else 0.0)
            names.append(name)
    return probs_out, y_out, names


def report_chapter_fit(stretches: list, stretches_y: list, chapters: list, chapters_y: list,
                       names: list[str]) -> None:
    """Print how the aggregator fitted with and without the dev chapters reads chapters it
    did not see: 2-fold by book (fit on the stretches and one half of the books' chapters,
    score the other half)."""
    if not chapters:
        return
    books = sorted({n.split("#")[0] for n in names})
    half = {b: k % 2 for k, b in enumerate(books)}
    fold = np.array([half[n.split("#")[0]] for n in names])
    y = np.array(chapters_y)
    for label, use in (("stretches only", False), ("stretches + chapters", True)):
        p = np.zeros(len(chapters))
        for k in (0, 1):
            train = [c for c, f in zip(chapters, fold, strict=True) if f != k] if use else []
            train_y = [t for t, f in zip(chapters_y, fold, strict=True) if f != k] if use else []
            agg = WorkAggregator.fit(stretches + train, stretches_y + train_y)
            for i in np.flatnonzero(fold == k):
                p[i] = agg(chapters[i])
        q = np.clip(p, 1e-6, 1 - 1e-6)
        loss = float(-(y * np.log(q) + (1 - y) * np.log(1 - q)).mean())
        at = p >= 0.5
        tp, fp = int((at & (y > 0)).sum()), int((at & (y == 0)).sum())
        fn = int((~at & (y > 0)).sum())
        n = max(len(set(names)), 1)
        print(f"dev chapters, {label}: log loss {loss:.4f}, at 0.5 recall "
              f"{tp / max(tp + fn, 1):.2f}, {fp / n:.2f} false per chapter ({n} chapters)")


def floor_arg(value: str) -> float | None:
    """``--context-floor``: a logit, or ``none`` for the rings as they are."""
    return None if value.strip().lower() == "none" else float(value)


def best_point(p: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    best = (DEFAULT_POINT, -1.0)
    for t in GRID:
        hit = p >= t
        tp = float((w * (hit & (y > 0.5))).sum())
        fp = float((w * (hit & (y < 0.5))).sum())
        fn = float((w * (~hit & (y > 0.5))).sum())
        f1 = 2 * tp / max(1e-9, 2 * tp + fp + fn)
        if f1 > best[1] + 1e-9:
            best = (float(t), f1)
    return best


SEVERITY_GRID = np.round(np.arange(-3.0, 1.01, 0.25), 2)


def severity_cutoffs(logits: np.ndarray, y: np.ndarray, n_w: int) -> dict:
    """Logit cut-offs of the severity outputs (pooled over warnings: "graphic" is too rare
    per warning), on the dev passage-warnings annotated present: "depicted" where the
    annotators' severity is matched most often, then "graphic" where its F1 is highest
    (the rare class a plain agreement count would never predict)."""
    present = y[:, :n_w] == 1
    depicted_out, graphic_out = logits[:, n_w:2 * n_w][present], logits[:, 2 * n_w:][present]
    true = np.where(y[:, 2 * n_w:][present] == 1, 3,
                    np.where(y[:, n_w:2 * n_w][present] == 1, 2, 1))

    def predict(td: float, tg: float) -> np.ndarray:
        dep = depicted_out > td
        return np.where(dep & (graphic_out > tg), 3, np.where(dep, 2, 1))

    td = max(SEVERITY_GRID, key=lambda t: ((predict(t, np.inf) == true).mean(), -abs(t)))

    def graphic_f1(tg: float) -> float:
        pred = predict(td, tg)
        tp = float(((pred == 3) & (true == 3)).sum())
        return 2 * tp / max(1e-9, float((pred == 3).sum() + (true == 3).sum()))

    tg = max(SEVERITY_GRID, key=lambda t: (graphic_f1(t), t))
    pred = predict(td, tg)
    return {"depicted": float(td), "graphic": float(tg),
            "dev_exact": round(float((pred == true).mean()), 3),
            "dev_graphic_f1": round(graphic_f1(tg), 3), "dev_present": len(true),
            "dev_graphic": int((true == 3).sum())}


def main(argv: list[str] | None = None) -> int:
    from annotate import load_sample

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--epoch", type=int, help="default: the best dev mean AP")
    ap.add_argument("--no-lexicon", dest="lexicon", action="store_false",
                    help="fit on the classifier's logits alone")
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--model", type=Path,
                    help="an exported classifier: compute every logit with its int8 graph "
                         "and add the neighbours' features (context, context2, ...)")
    ap.add_argument("--rings", type=int, default=RINGS,
                    help="with --model: how many rings of neighbours (default %(default)s)")
    ap.add_argument("--scores-cache", type=Path,
                    help="with --model: keep the dev passages' scores in this npz and reuse "
                         "them (cv_combiner.py --scores-cache reads the same file)")
    ap.add_argument("--with-chapters", action="store_true",
                    help="with --model: fit the aggregator on the dev chapters too")
    ap.add_argument("--shrink", type=float, default=SHRINK,
                    help="the combiner's pull towards the pooled model (default %(default)s)")
    ap.add_argument("--strong", action="store_true",
                    help="add the 'strong' feature: how far a passage's own logit rises above "
                         "STRONG_KNEE (forewarn.combine)")
    ap.add_argument("--context-floor", type=floor_arg, default=None,
                    help=f"read each ring's logit as at least this (e.g. {CONTEXT_FLOOR}, tried "
                         "and not adopted: the model card, section 0); default: as it is")
    ap.add_argument("--without", default="",
                    help="with --model: leave out the dev passages of these draws and writing "
                         "batches (comma-separated, as train_classifier.py --without), to "
                         "rebuild a fit made before they were read")
    ap.add_argument("--context-margin", type=floor_arg, default=CONTEXT_MARGIN,
                    help="read each ring's logit as at least the passage's own classifier "
                         "logit less this, or 'none' for no such floor (default: the "
                         "shipped %(default)s; model card, section 0)")
    args = ap.parse_args(argv)
    run = args.run
    meta = json.loads((run / "rows.json").read_text())
    wids = meta["warnings"]
    n_w = len(wids)
    y_all = np.load(run / "y.npy")
    log = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    epoch = args.epoch or max(log, key=lambda r: r["mean_ap"])["epoch"]
    dev = np.load(run / f"dev-epoch{epoch}.npz")
    rows = dev["rows"]
    ids = [meta["ids"][i] for i in rows]
    y_dev = y_all[rows]
    all_logits = dev["logits"].astype(np.float64)
    context: dict[str, np.ndarray] = {}
    sample = load_sample()
    if args.model is not None:
        ids, y_dev, all_logits, context = scored_dev_rows(args.model, args.rings,
                                                          Path(args.data), args.scores_cache)
        if args.without:
            from train_classifier import left_out

            gone = left_out(sample, ids, args.without)
            keep = np.array([pid not in gone for pid in ids])
            print(f"--without {args.without}: {int((~keep).sum())} dev passages left out")
            ids = [pid for pid, k in zip(ids, keep, strict=True) if k]
            y_dev, all_logits = y_dev[keep], all_logits[keep]
            context = {k: v[keep] for k, v in context.items()}
    logits = all_logits[:, :n_w]
    y = y_dev[:, :n_w].astype(np.float64)
    stratum = {r["id"]: r["stratum"] for r in sample}
    drawn = {r["id"]: r["drawn"] for r in sample}
    weight = natural_weight(ids, stratum)
    natural = weight == 1.0

    features = {"classifier": logits}
    if args.lexicon:
        features.update(lexicon_features(ids, wids, Path(args.data)))
        print(f"dev passage-warnings with a negated cue: {int(features['negated'].sum())}, "
              f"with a lexicon hit: {int((features['lexicon'] > 0).sum())}")
    features.update(context)
    if args.strong:
        features["strong"] = strong_feature(logits)
    combiner = Combiner.fit(wids, features, y, weight, shrink=args.shrink,
                            context_floor=args.context_floor if context else None,
                            context_margin=args.context_margin if context else None)
    probs = combiner(features)
    # a passage with no neighbour at all (a one-passage work, a line read alone) has no
    # context to read: the run time scores it with this fit of the other features alone
    alone = (Combiner.fit(wids, {k: v for k, v in features.items() if context_ring(k) is None},
                          y, weight, shrink=args.shrink) if context else None)

    points: dict[str, float] = {}
    dev_f1: dict[str, float] = {}
    for j, wid in enumerate(wids):
        keep = natural & ~np.isnan(y[:, j])
        if y[keep, j].sum() >= MIN_DEV_POSITIVES:
            points[wid], dev_f1[wid] = best_point(probs[keep, j], y[keep, j], weight[keep])
        else:
            points[wid] = DEFAULT_POINT

    severity = severity_cutoffs(all_logits, y_dev, n_w)
    print("severity cut-offs", severity)

    groups = works_of(ids, drawn)
    work_probs, work_y = [], []
    for members in groups.values():
        for j in range(n_w):
            labels = y[members, j]
            if np.isnan(labels).any():
                continue
            work_probs.append(probs[members, j])
            work_y.append(float(labels.max() > 0.5))
    if args.model is not None:
        # whole dev chapters (read by annotators, training/annotations/chapters-dev.json):
        # works ten times longer than the stretches, which is what a scan meets. How the
        # aggregator reads them is always printed; they join its fit with --with-chapters
        # (on the 36 read so far they changed nothing a held-out half could tell)
        more, more_y, chapter_names = chapter_rows(args.model, combiner, alone, wids,
                                                   Path(args.data))
        report_chapter_fit(work_probs, work_y, more, more_y, chapter_names)
        if args.with_chapters:
            work_probs, work_y = work_probs + more, work_y + more_y
    aggregator = WorkAggregator.fit(work_probs, work_y)

    # dev figures (the choices were made here, so they are optimistic; test figures come
    # from `forewarn eval annotated`)
    band_rows = []
    flat_p = probs[natural][~np.isnan(y[natural])]
    flat_y = y[natural][~np.isnan(y[natural])]
    for lo in np.arange(0.0, 1.0, 0.1):
        sel = (flat_p >= lo) & (flat_p < lo + 0.1)
        if sel.sum():
            band_rows.append((round(float(lo), 1), int(sel.sum()), float(flat_y[sel].mean())))
    wp = np.array([aggregator(p) for p in work_probs])
    wy = np.array(work_y)
    noisy_or = np.array([1 - np.prod(1 - np.sort(p)[::-1][:3]) for p in work_probs])

    def brier(p: np.ndarray) -> float:
        return float(np.mean((p - wy) ** 2))

    max_p = np.array([float(np.max(p)) for p in work_probs])
    at = wp >= 0.5
    tp, fp, fn = int((at & (wy > 0.5)).sum()), int((at & (wy < 0.5)).sum()), \
        int((~at & (wy > 0.5)).sum())
    summary = {
        "epoch": epoch, "dev_passages": len(ids), "dev_natural_passages": int(natural.sum()),
        "works": len(groups), "work_rows": len(work_y), "work_positives": int(wy.sum()),
        "aggregator_brier": brier(wp), "noisy_or_brier": brier(noisy_or),
        "max_passage_brier": brier(max_p),
        "work_level_at_0.5": {"precision": tp / max(1, tp + fp), "recall": tp / max(1, tp + fn),
                              "false_per_work": fp / max(1, len(groups))},
        "calibration_bands_dev_natural": band_rows, "dev_f1_at_point": dev_f1,
    }
    summary["logits"] = (f"the exported graph in {args.model}" if args.model is not None
                         else f"the run's dev-epoch{epoch}.npz")
    out = {"epoch": epoch, "combiner": combiner.to_json(),
           **({"combiner_alone": alone.to_json()} if alone is not None else {}),
           "aggregator": aggregator.to_json(),
           "operating_points": points, "severity": severity, "fitted_on": summary}
    (run / "combiner.json").write_text(json.dumps(out, indent=1), encoding="utf-8")
    print(json.dumps({k: v for k, v in summary.items() if k != "dev_f1_at_point"}, indent=1))
    print("aggregator", aggregator.to_json())
    print("points", {w: t for w, t in points.items() if t != DEFAULT_POINT})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
