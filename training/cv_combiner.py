"""Compare classifiers the way a scan uses them: grouped cross-validation of the combiner on dev.

A classifier's own dev mean average precision (``train_classifier.py``'s log) reads each
passage alone; a scan reads it through the combiner, with the lexicon and the rings of
neighbours. This script scores an exported classifier (``export_classifier.py``'s folder)
on every dev passage and its rings with the int8 graph, exactly as ``fit_combiner.py --model``
does, then fits the shipped combiner (same features, same shrinkage) on four folds of the
dev books and writing batches and scores the fifth (folds grouped by book and batch, so no
book is on both sides). It prints, on the natural dev passages (random and modern):

* mean average precision over the warnings with at least 5 natural dev positives;
* log loss;
* micro precision and recall and macro-F1 at operating points chosen as the shipped ones
  are (F1's maximum on the grid, at least 5 positives, else 0.5), but nested: chosen on
  four folds' out-of-fold probabilities, counted on the fifth.

With ``--against OTHER.npz`` (another model's ``--cache``), both are cross-validated on the
dev passages the two caches share, with the same folds, and the per-warning average
precisions are compared: how two runs are set side by side (model card, "What was tried").

The test split is never read. Usage::

    python training/cv_combiner.py RUN --model DIR [--cache FILE] [--against OTHER.npz]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from fit_combiner import (
    DEFAULT_POINT,
    MIN_DEV_POSITIVES,
    RINGS,
    SHRINK,
    best_point,
    floor_arg,
    lexicon_features,
    natural_weight,
    scored_dev_rows,
)
from train_classifier import average_precision

from forewarn.combine import CONTEXT_FLOOR, CONTEXT_MARGIN, Combiner

FOLDS = 5
FOLD_SEED = 0


def group_of(pid: str) -> str:
    """The unit no fold may split: a book, or a modern writing batch."""
    return pid.split(":")[1].split("-")[0] if pid.startswith("modern:") else pid.split(":")[0]


def folds(ids: list[str], k: int = FOLDS, seed: int = FOLD_SEED) -> np.ndarray:
    groups = sorted({group_of(i) for i in ids})
    np.random.default_rng(seed).shuffle(groups)
    fold = {g: n % k for n, g in enumerate(groups)}
    return np.array([fold[group_of(i)] for i in ids])


def cross_validate(features: dict[str, np.ndarray], y: np.ndarray, weight: np.ndarray,
                   fold: np.ndarray, wids: list[str], shrink: float = SHRINK,
                   context_floor: float | None = None,
                   context_margin: float | None = None) -> dict:
    """Out-of-fold combiner probabilities and the figures above."""
    natural = weight == 1.0
    probs = np.zeros_like(y)
    for k in range(fold.max() + 1):
        train, held = fold != k, fold == k
        combiner = Combiner.fit(wids, {n: f[train] for n, f in features.items()}, y[train],
                                weight[train], shrink=shrink, context_floor=context_floor,
                                context_margin=context_margin)
        probs[held] = combiner({n: f[held] for n, f in features.items()})
    have = ~np.isnan(y) & natural[:, None]
    q = np.clip(probs, 1e-6, 1 - 1e-6)
    loss = float(-(y * np.log(q) + (1 - y) * np.log(1 - q))[have].mean())
    aps = {}
    counts = np.zeros((len(wids), 3))  # tp, fp, fn at nested operating points
    for j, wid in enumerate(wids):
        m = natural & ~np.isnan(y[:, j])
        if y[m, j].sum() >= MIN_DEV_POSITIVES:
            aps[wid] = float(average_precision(probs[m, j], y[m, j]) or 0.0)
        for k in range(fold.max() + 1):
            pick, score = m & (fold != k), m & (fold == k)
            point = (best_point(probs[pick, j], y[pick, j], np.ones(int(pick.sum())))[0]
                     if y[pick, j].sum() >= MIN_DEV_POSITIVES else DEFAULT_POINT)
            hit, truth = probs[score, j] >= point, y[score, j] > 0.5
            counts[j] += [(hit & truth).sum(), (hit & ~truth).sum(), (~hit & truth).sum()]
    tp, fp, fn = counts.sum(axis=0)
    f1 = [2 * a / (2 * a + b + c) for a, b, c in counts if a + c >= MIN_DEV_POSITIVES]
    return {"mean_ap": float(np.mean(list(aps.values()))), "warnings": len(aps),
            "log_loss": loss, "micro_precision": float(tp / max(tp + fp, 1)),
            "micro_recall": float(tp / max(tp + fn, 1)), "macro_f1": float(np.mean(f1)),
            "isolated": isolated(features, y, probs, natural),
            "ap": {w: round(a, 3) for w, a in aps.items()}}


#: A passage the classifier reads as plainly positive (its own logit above this) ...
ISOLATED_OWN = 4.0
#: ... while every ring of its neighbours reads quiet (below this)
ISOLATED_RINGS = -2.0


def isolated(features: dict[str, np.ndarray], y: np.ndarray, probs: np.ndarray,
             natural: np.ndarray) -> dict:
    """How the out-of-fold combiner reads a plain passage among quiet ones (the combiner's
    veto, model card section 0): for the passage-warnings whose own classifier logit is
    above :data:`ISOLATED_OWN` and whose every ring is below :data:`ISOLATED_RINGS`, their
    number, the share annotated present and the mean probability given, over every dev
    passage and over the natural ones."""
    rings = [v for k, v in features.items() if k.startswith("context")]
    quiet = np.all(np.stack(rings) < ISOLATED_RINGS, axis=0) if rings else np.ones_like(y, bool)
    cells = (features["classifier"] > ISOLATED_OWN) & quiet & ~np.isnan(y)
    out = {}
    for label, where in (("all", cells), ("natural", cells & natural[:, None])):
        n = int(where.sum())
        out[label] = {"n": n, "present": round(float(y[where].mean()), 3) if n else None,
                      "mean_p": round(float(probs[where].mean()), 3) if n else None}
    return out


Cache = tuple[list[str], np.ndarray, dict[str, np.ndarray]]  # ids, labels, features


def save_cache(path: Path, cache: Cache) -> None:
    ids, y, features = cache
    np.savez(path, ids=np.array(ids), y=y, **{f"f_{k}": v for k, v in features.items()})


def load_cache(path: Path) -> Cache:
    saved = np.load(path, allow_pickle=False)
    return ([str(i) for i in saved["ids"]], saved["y"],
            {k.removeprefix("f_"): saved[k] for k in saved.files if k.startswith("f_")})


def compare(a: Cache, b: Cache, wids: list[str], stratum: dict[str, str],
            context_floor: float | None = None, context_margin: float | None = None) -> dict:
    """Cross-validate two models' dev features on the passages both hold (same folds, the
    labels of ``b``, the newer reading): {"passages", "a", "b", "ap_difference" (b - a per
    warning, most negative first)}."""
    common = sorted(set(a[0]) & set(b[0]))
    if not common:
        raise SystemExit("cv_combiner: the two caches share no dev passage")

    def rows(ids: list[str]) -> np.ndarray:
        at = {pid: k for k, pid in enumerate(ids)}
        return np.array([at[pid] for pid in common])

    y = b[1][rows(b[0])]
    weight, fold = natural_weight(common, stratum), folds(common)
    ra, rb = (cross_validate({k: v[rows(ids)] for k, v in features.items()}, y, weight, fold,
                             wids, context_floor=context_floor, context_margin=context_margin)
              for ids, _, features in (a, b))
    diff = {w: round(rb["ap"][w] - ra["ap"][w], 3) for w in ra["ap"] if w in rb["ap"]}
    return {"passages": len(common), "a": ra, "b": rb,
            "ap_difference": dict(sorted(diff.items(), key=lambda kv: kv[1]))}


def dev_features(wids: list[str], model: Path, data: Path, rings: int = RINGS,
                 scores_cache: Path | None = None
                 ) -> tuple[list[str], dict[str, np.ndarray], np.ndarray]:
    """(ids, the shipped combiner's features, presence labels) of every dev passage."""
    ids, y, logits, context = scored_dev_rows(model, rings, data, scores_cache)
    features = {"classifier": logits[:, :len(wids)], **lexicon_features(ids, wids, data),
                **context}
    return ids, features, y[:, :len(wids)].astype(np.float64)


def main(argv: list[str] | None = None) -> int:
    from annotate import load_sample

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run", type=Path, help="a training run (its rows.json names the warnings)")
    ap.add_argument("--model", type=Path, required=True, help="an exported classifier")
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--cache", type=Path, help="keep the dev features here (npz) and reuse them")
    ap.add_argument("--scores-cache", type=Path,
                    help="the dev passages' scores as fit_combiner.py --scores-cache keeps them")
    ap.add_argument("--against", type=Path,
                    help="another model's --cache: compare the two on the passages both hold")
    ap.add_argument("--context-floor", type=floor_arg, default=None,
                    help=f"read each ring's logit as at least this (e.g. {CONTEXT_FLOOR}, tried "
                         "and not adopted: the model card, section 0); default: as it is")
    ap.add_argument("--context-margin", type=floor_arg, default=CONTEXT_MARGIN,
                    help="read each ring's logit as at least the passage's own classifier "
                         "logit less this, or 'none' for no such floor (default: the "
                         "shipped %(default)s; model card, section 0)")
    args = ap.parse_args(argv)
    wids = json.loads((args.run / "rows.json").read_text())["warnings"]
    if args.cache and args.cache.is_file():
        ids, y, features = load_cache(args.cache)
    else:
        ids, features, y = dev_features(wids, args.model, Path(args.data),
                                        scores_cache=args.scores_cache)
        if args.cache:
            save_cache(args.cache, (ids, y, features))
    stratum = {r["id"]: r["stratum"] for r in load_sample()}
    if args.against is not None:
        both = compare(load_cache(args.against), (ids, y, features), wids, stratum,
                       args.context_floor, args.context_margin)
        both["a"]["model"], both["b"]["model"] = str(args.against), str(args.model)
        print(json.dumps(both))
        return 0
    weight = natural_weight(ids, stratum)
    result = cross_validate(features, y, weight, folds(ids), wids,
                            context_floor=args.context_floor,
                            context_margin=args.context_margin)
    result["model"] = str(args.model)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
