"""Fit the passage-score calibration that turns detector scores into probabilities.

A passage's evidence for a warning is a lexicon score (0 when no cue matched) and an
encoder-head probability (0 when below the head's threshold). Neither is a probability of
the passage showing the warning in fiction: the lexicon's tiers are hand-set, and the heads
were calibrated on their own training rows (seeds and passages together). This script fits
one small logistic model on the AO3 passage data,

    p = sigmoid(b0[w] + b1 * lexicon + b2 * encoder + b3 * lexicon * encoder),

with slopes shared by the eight labelled warnings and an intercept ``b0[w]`` per warning
(their cues differ in how often they are right), on ``set_id == 0`` passages with at least
one hit, using *out-of-fold* encoder probabilities (``training/.cache/oot-minilm.npz``, written
by ``train_heads.py --encoder minilm``) so that no passage is scored by a head that saw
it. The lexicon is rule-based and was tuned on set 0 only. The other 31 warnings have no
fiction data here to calibrate on, so they keep the uncalibrated combination (see
:mod:`forewarn.aggregate`); the model card says so. ``set_id == 1`` is never
fitted on: it is where the reliability of the result is measured, by the evaluation
harness (``forewarn eval passages``) and by ``--report`` here.

Writes ``src/forewarn/data/calibration.json`` (read by :mod:`forewarn.aggregate`).

Usage::

    .venv/bin/python training/fit_calibration.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "training"))

import itertools

from train_heads import CACHE_DIR, DEFAULT_DATA, PASSAGE_WARNINGS, majority, read_jsonl

from forewarn.detect.lexicon import LexiconDetector
from forewarn.eval.common import text_work
from forewarn.segment import segment

OUT = ROOT / "src" / "forewarn" / "data" / "calibration.json"
FEATURES = ("lexicon", "encoder", "lexicon*encoder")


def features(lex: np.ndarray, enc: np.ndarray, warning: np.ndarray,
             warnings: list[str]) -> np.ndarray:
    onehot = (warning[:, None] == np.asarray(warnings)[None, :]).astype(float)
    return np.column_stack([lex, enc, lex * enc, onehot])


def lexicon_scores(texts: list[str], targets: list[str]) -> np.ndarray:
    """The lexicon's best score for each text's own warning, scanned as the scanner does."""
    detector = LexiconDetector()
    out = np.zeros(len(texts))
    for i, (text, target) in enumerate(zip(texts, targets, strict=True)):
        hits = detector.detect(segment(text_work(text)))
        out[i] = max((h.score for h in hits if h.warning == target), default=0.0)
    return out


def reliability(p: np.ndarray, y: np.ndarray, edges: tuple[float, ...]) -> list[dict[str, float]]:
    rows = []
    for lo, hi in itertools.pairwise(edges):
        m = (p >= lo) & (p < hi if hi < 1 else p <= hi)
        if m.any():
            rows.append({"bin": f"{lo:.1f}-{hi:.1f}", "n": int(m.sum()),
                         "mean_confidence": round(float(p[m].mean()), 3),
                         "fraction_right": round(float(y[m].mean()), 3)})
    return rows


def ece(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    idx = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            total += m.sum() / len(p) * abs(p[m].mean() - y[m].mean())
    return float(total)


def main(argv: list[str] | None = None) -> int:
    from sklearn.linear_model import LogisticRegression

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--labels", choices=("minority", "majority"), default="minority",
                        help="what a confidence predicts: that at least one of the three "
                             "annotators (minority, default: the reader who would want "
                             "the warning) or most of them (majority) asked for it")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    oot_path = CACHE_DIR / "oot-minilm.npz"
    if not oot_path.exists():
        raise SystemExit(f"{oot_path} missing: run train_heads.py --encoder minilm first")
    with np.load(oot_path) as npz:
        oot, threshold = npz["oot"], npz["threshold"]
        warning_ids = [str(w) for w in npz["warning_ids"]]
        example_ids = npz["example_id"].tolist()
    rows = read_jsonl(args.data / "passage-warnings" / "passages.jsonl")
    if [int(r["example_id"]) for r in rows] != example_ids:  # type: ignore[call-overload]
        raise SystemExit("passage data changed since train_heads.py ran: retrain first")
    set0 = [i for i, r in enumerate(rows) if r["set_id"] == 0]
    targets = [PASSAGE_WARNINGS[str(rows[i]["warning"])] for i in set0]
    lex = lexicon_scores([str(rows[i]["text"]) for i in set0], targets)
    cols = [warning_ids.index(t) for t in targets]
    p_enc = oot[set0, cols]
    enc = np.where(p_enc >= threshold[cols], p_enc, 0.0)
    if args.labels == "majority":
        y = np.array([majority(rows[i]["labels"]) for i in set0])
    else:  # any of the three annotators asked for the warning
        y = np.array([int(any(int(v) for v in rows[i]["labels"])) for i in set0])
    hit = (lex > 0) | (enc > 0)
    names = sorted(set(targets))
    warning = np.asarray(targets)
    x = features(lex[hit], enc[hit], warning[hit], names)
    # one-hot intercepts and no global one: b0[w] is the warning's own column
    model = LogisticRegression(C=10.0, max_iter=5000, fit_intercept=False).fit(x, y[hit])
    coef = [float(v) for v in model.coef_[0]]
    p = model.predict_proba(x)[:, 1]
    # Where the encoder did not read the passage (lexicon-only scans, passages past the
    # cascade's budget), "no encoder hit" is no evidence: a lexicon-only model, fitted on
    # every passage with a lexicon hit, whatever the encoder said.
    cue = lex > 0
    x_lex = np.column_stack([lex[cue], (warning[cue, None] == np.asarray(names)[None, :])])
    lexicon_model = LogisticRegression(C=10.0, max_iter=5000,
                                       fit_intercept=False).fit(x_lex, y[cue])
    lex_coef = [float(v) for v in lexicon_model.coef_[0]]
    raw = 1 - (1 - lex[hit]) * (1 - 0.5 * enc[hit])  # the old combination, for comparison
    raw = np.where(lex[hit] > 0, raw, 0.75 * enc[hit])
    edges = (0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
    result = {
        "format": "forewarn.calibration/1",
        "formula": "p = sigmoid(b0[warning] + b1*lexicon + b2*encoder + b3*lexicon*encoder); "
                   "lexicon: "
                   "the passage's best lexicon score (0 if none), encoder: the encoder head's "
                   "probability when it reaches the head's threshold (else 0)",
        "coefficients": {**dict(zip(("b1", "b2", "b3"), coef[:3], strict=True)),
                         "b0": dict(zip(names, coef[3:], strict=True))},
        "lexicon_only": {"formula": "p = sigmoid(c0[warning] + c1*lexicon), for passages the "
                                    "encoder did not read",
                         "c1": lex_coef[0], "c0": dict(zip(names, lex_coef[1:], strict=True)),
                         "passages": int(cue.sum())},
        "fitted_on": {
            "data": f"passage-warnings set_id 0, {args.labels} labels, passages with any hit "
                    "for their own warning; encoder probabilities out-of-fold",
            "labels": args.labels,
            "passages": int(hit.sum()),
            "positives": int(y[hit].sum()),
            "warnings": names,
        },
        "in_sample": {
            "ece_before": round(ece(np.clip(raw, 0, 1), y[hit]), 4),
            "ece_after": round(ece(p, y[hit]), 4),
            "reliability_after": reliability(p, y[hit], edges),
        },
        "seconds": round(time.perf_counter() - started, 1),
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
