"""Train forewarn's per-warning embedding heads (logistic regression on static embeddings).

Runs in the project venv (``.venv``) with scikit-learn added (``training/requirements.txt``
lists the pin), and reads:

* ``../shared/data/passage-warnings/passages.jsonl``: AO3 passages, each labelled by three
  annotators for one of eight warnings. Only ``set_id == 0`` is trained on; ``set_id == 1``
  stays held out and is used here only to *report* figures, never to choose anything.
* ``training/seeds/positives.jsonl`` and ``negatives.jsonl``: original passages written
  for this project (every warning has at least 12 positives).

For each warning ``w`` the training rows are

* positives: ``w``'s seed positives, plus passages labelled for ``w`` with a majority yes;
* negatives: the seed negatives (minus any marked ``not_negative_for`` ``w``), passages
  labelled for ``w`` with a majority no, other warnings' seed positives except those of
  warnings whose passages often show ``w`` too (:data:`CONTAINS`, directional: miscarriage
  positives are no pregnancy negatives, but pregnancy positives are miscarriage
  negatives), and "background" passages: set-0 passages labelled for an unrelated warning
  (:data:`RELATED`) with a majority no (skipped for the sexual-content family, where
  unlabelled fan fiction is too often a hidden positive).

Each head is a class-balanced logistic regression on the (unit-length) embeddings, ``C``
picked from a small grid by out-of-fold average precision (5-fold CV, grouped by ``work_id`` for
passages; every seed is its own group). Platt scaling is fitted on the out-of-fold
scores, and the threshold is the lowest calibrated score at which out-of-fold precision
reaches :data:`TARGET_PRECISION` with at least :data:`MIN_TRUE_POSITIVES` hits; where it never
does, the best-F1 point but never below :data:`FALLBACK_MIN_THRESHOLD`.

Writes ``src/forewarn/data/heads.npz`` (byte-identical across runs) and ``heads.json``.

Usage::

    .venv/bin/python training/train_heads.py [--data ../shared/data] [--check-determinism]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # single-threaded BLAS: bit-for-bit reproducible fits

import argparse
import hashlib
import io
import json
import sys
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from forewarn.detect.static_model import StaticEmbedder

CACHE_DIR = ROOT / "training" / ".cache"

DEFAULT_DATA = ROOT.parent / "shared" / "data"
SEEDS_DIR = ROOT / "training" / "seeds"
DATA_OUT = ROOT / "src" / "forewarn" / "data"
# --encoder static: heads on the static model (the cascade's cheap stage);
# --encoder minilm: heads on the ONNX MiniLM encoder (the expensive stage).
OUTPUTS = {"static": "heads", "minilm": "encoder-heads"}

SEED = 13
N_FOLDS = 5
C_GRID = (0.3, 1.0, 3.0, 10.0, 30.0)
TARGET_PRECISION = 0.7
MIN_TRUE_POSITIVES = 3  # a precision over fewer hits than this is noise
# Where the target precision is out of reach, never go below this calibrated probability.
FALLBACK_MIN_THRESHOLD = 0.5

WARNINGS: tuple[str, ...] = (
    # discrimination
    "homophobia", "transphobia", "classism", "sexism", "misogyny", "racism",
    "religious-discrimination", "ableism", "body-shaming", "fatphobia",
    # aggression
    "violence", "war", "kidnapping", "death", "dying", "child-death", "animal-death",
    # abuse
    "abuse", "sexual-assault", "child-abuse", "animal-cruelty", "abusive-language",
    # pregnancy
    "pregnancy", "miscarriage", "abortion", "childbirth",
    # medical
    "blood-gore", "medical-procedures", "dissection", "vomiting",
    # mental-health
    "body-dysmorphia", "eating-disorders", "self-harm", "suicide", "mental-illness",
    "addiction",
    # sexual-content
    "sexual-content", "incest", "underage",
)  # fmt: skip

# The passage data's warning names -> forewarn ids.
PASSAGE_WARNINGS = {
    "violence": "violence", "war": "war", "death": "death", "abduction": "kidnapping",
    "misogyny": "misogyny", "homophobia": "homophobia", "racism": "racism",
    "ableism": "ableism",
}  # fmt: skip

# CONTAINS[w]: warnings whose passages often show ``w`` as well, so their seed positives are
# never negatives for ``w``. Directional on purpose: a miscarriage passage is a pregnancy
# passage (so miscarriage positives are not pregnancy negatives), but a happy pregnancy is
# exactly what the miscarriage head must learn to tell apart (so pregnancy positives are
# miscarriage negatives).
CONTAINS: dict[str, tuple[str, ...]] = {
    "homophobia": (),
    "transphobia": (),
    "classism": (),
    "sexism": ("misogyny",),
    "misogyny": ("sexism", "abusive-language"),
    "racism": ("religious-discrimination",),
    "religious-discrimination": ("racism",),
    "ableism": (),
    "body-shaming": ("fatphobia",),
    "fatphobia": ("body-shaming",),
    "violence": (
        "war", "kidnapping", "abuse", "sexual-assault", "child-abuse", "animal-cruelty",
        "blood-gore", "death",
    ),
    "war": (
        "death", "dying", "blood-gore", "child-death", "kidnapping", "medical-procedures",
        "sexual-assault", "mental-illness",
    ),
    "kidnapping": (),
    "death": (
        "dying", "child-death", "animal-death", "suicide", "war", "violence", "miscarriage",
    ),
    "dying": ("death", "child-death", "animal-death"),
    "child-death": ("miscarriage", "war"),
    "animal-death": ("animal-cruelty", "dissection"),
    "abuse": (
        "child-abuse", "abusive-language", "sexual-assault", "kidnapping", "incest",
        "underage",
    ),
    "sexual-assault": ("child-abuse", "underage", "incest", "war"),
    "child-abuse": ("underage", "incest"),
    "animal-cruelty": (),
    "abusive-language": (
        "abuse", "child-abuse", "homophobia", "transphobia", "classism", "sexism", "misogyny",
        "racism", "religious-discrimination", "ableism", "body-shaming", "fatphobia",
    ),
    "pregnancy": ("miscarriage", "abortion", "childbirth"),
    "miscarriage": ("child-death",),
    "abortion": (),
    "childbirth": ("miscarriage",),
    "blood-gore": (
        "violence", "war", "animal-cruelty", "self-harm", "miscarriage", "childbirth",
        "medical-procedures", "dissection", "animal-death",
    ),
    "medical-procedures": (
        "childbirth", "abortion", "miscarriage", "dying", "eating-disorders", "suicide",
        "blood-gore", "vomiting",
    ),
    "dissection": (),
    "vomiting": ("eating-disorders", "addiction", "pregnancy", "medical-procedures"),
    "body-dysmorphia": ("eating-disorders",),
    "eating-disorders": ("body-dysmorphia",),
    "self-harm": ("suicide",),
    "suicide": ("death",),
    "mental-illness": (
        "self-harm", "suicide", "eating-disorders", "body-dysmorphia", "addiction",
    ),
    "addiction": (),
    "sexual-content": ("incest", "underage", "sexual-assault"),
    "incest": ("child-abuse",),
    "underage": ("child-abuse", "sexual-assault", "incest"),
}  # fmt: skip

# Heads that get no background passages (fan fiction is too often sexual).
NO_BACKGROUND = frozenset({"sexual-content", "incest", "underage"})


def _check_contains(contains: dict[str, tuple[str, ...]]) -> dict[str, frozenset[str]]:
    """Validate :data:`CONTAINS`: every warning listed, only known ids, none of itself."""
    if set(contains) != set(WARNINGS):
        raise ValueError("CONTAINS must list every warning")
    for w, others in contains.items():
        bad = (set(others) - set(WARNINGS)) | ({w} & set(others))
        if bad:
            raise ValueError(f"bad CONTAINS entry for {w}: {sorted(bad)}")
    return {w: frozenset(v) for w, v in contains.items()}


NOT_NEGATIVE = _check_contains(CONTAINS)
# Background passages labelled for w' stay out of w's rows when the two are linked either
# way (passages retrieved by w' keywords sit close to w's territory).
RELATED: dict[str, frozenset[str]] = {
    w: NOT_NEGATIVE[w] | {o for o in WARNINGS if w in NOT_NEGATIVE[o]} for w in WARNINGS
}


@dataclass
class Corpus:
    """Everything embedded once: passages, seed positives and seed negatives."""

    passages: list[dict[str, object]]
    x_passages: np.ndarray
    seed_pos: list[dict[str, str]]
    x_seed_pos: np.ndarray
    seed_neg: list[dict[str, object]]
    x_seed_neg: np.ndarray


@dataclass
class Rows:
    """One head's training rows: feature matrix, labels, CV groups and provenance counts."""

    x: np.ndarray
    y: np.ndarray
    groups: np.ndarray
    # index into corpus.passages for passage rows, -1 otherwise
    passage_index: np.ndarray
    own_passage: np.ndarray  # row is a passage labelled for this very warning
    counts: dict[str, int] = field(default_factory=dict)


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def read_jsonl(path: Path) -> list[dict[str, object]]:
    """Read a JSON-lines file."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def majority(labels: object) -> int:
    """1 when at least two of the three votes are yes."""
    assert isinstance(labels, list)
    return int(sum(int(v) for v in labels) >= 2)


class CachedEncoder:
    """The ONNX MiniLM encoder with an on-disk cache keyed by text (it reads ~1,200 words/s).

    The cache (``training/.cache/``, git-ignored) is keyed by the model's sha256, so a
    rebuilt model never reuses stale vectors; the vectors are the same bytes the encoder
    gives at run time (one text per call, see :mod:`forewarn.detect.encoder`).
    """

    def __init__(self) -> None:
        from forewarn.detect.encoder import SentenceEncoder

        self.encoder = SentenceEncoder()
        self.manifest = self.encoder.manifest
        self.path = CACHE_DIR / f"encoder-{self.encoder.sha256[:16]}.npz"
        self.table: dict[str, np.ndarray] = {}
        if self.path.exists():
            with np.load(self.path) as npz:
                self.table = dict(zip(npz["keys"].tolist(), npz["vectors"], strict=True))

    def encode(self, texts: list[str]) -> np.ndarray:
        keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts, strict=True)
                          if k not in self.table}.items())
        if missing:
            t0 = time.perf_counter()
            vectors = self.encoder.encode([t for _, t in missing])
            self.table.update(zip([k for k, _ in missing], vectors, strict=True))
            print(f"encoded {len(missing)} new texts in {time.perf_counter() - t0:.0f} s")
            CACHE_DIR.mkdir(parents=True, exist_ok=True)
            names = sorted(self.table)
            np.savez(self.path, keys=np.asarray(names),
                     vectors=np.stack([self.table[k] for k in names]))
        return np.stack([self.table[k] for k in keys]).astype(np.float32)


def load_corpus(data_dir: Path, embedder: StaticEmbedder | CachedEncoder) -> Corpus:
    """Read and embed the passage data and the seeds."""
    path = data_dir / "passage-warnings" / "passages.jsonl"
    if not path.exists():
        raise SystemExit(f"passage data not found at {path} (pass --data)")
    passages = read_jsonl(path)
    seed_pos = [
        {"warning": str(r["warning"]), "text": str(r["text"])}
        for r in read_jsonl(SEEDS_DIR / "positives.jsonl")
    ]
    seed_neg = read_jsonl(SEEDS_DIR / "negatives.jsonl")
    unknown = {r["warning"] for r in seed_pos} - set(WARNINGS)
    if unknown:
        raise SystemExit(f"unknown warnings in positives.jsonl: {sorted(unknown)}")
    return Corpus(
        passages=passages,
        x_passages=embedder.encode([str(p["text"]) for p in passages]),
        seed_pos=seed_pos,
        x_seed_pos=embedder.encode([r["text"] for r in seed_pos]),
        seed_neg=seed_neg,
        x_seed_neg=embedder.encode([str(r["text"]) for r in seed_neg]),
    )


def build_rows(corpus: Corpus, warning: str) -> Rows:
    """Assemble the training rows for one warning (see the module docstring)."""
    xs: list[np.ndarray] = []
    ys: list[int] = []
    groups: list[str] = []
    pidx: list[int] = []
    own: list[bool] = []
    counts: Counter[str] = Counter()
    related = RELATED[warning]
    not_negative = NOT_NEGATIVE[warning]

    for i, r in enumerate(corpus.seed_pos):
        if r["warning"] == warning:
            label, kind = 1, "seed_positive"
        elif r["warning"] in not_negative:
            continue
        else:
            label, kind = 0, "other_seed_positive"
        xs.append(corpus.x_seed_pos[i])
        ys.append(label)
        groups.append(f"seed-pos-{i}")
        pidx.append(-1)
        own.append(False)
        counts[kind] += 1
    for i, neg in enumerate(corpus.seed_neg):
        not_for: object = neg.get("not_negative_for") or []
        assert isinstance(not_for, list)
        if warning in not_for:
            continue
        xs.append(corpus.x_seed_neg[i])
        ys.append(0)
        groups.append(f"seed-neg-{i}")
        pidx.append(-1)
        own.append(False)
        counts["seed_negative"] += 1
    for i, p in enumerate(corpus.passages):
        if p["set_id"] != 0:
            continue  # set 1 is held out
        target = PASSAGE_WARNINGS[str(p["warning"])]
        label = majority(p["labels"])
        if target == warning:
            kind = "passage_positive" if label else "passage_negative"
        elif label or target in related or warning in NO_BACKGROUND:
            continue
        else:
            kind = "background_passage"
        xs.append(corpus.x_passages[i])
        ys.append(label if target == warning else 0)
        groups.append(f"work-{p['work_id']}")
        pidx.append(i)
        own.append(target == warning)
        counts[kind] += 1
    return Rows(
        x=np.vstack(xs),
        y=np.asarray(ys, dtype=np.int64),
        groups=np.asarray(groups),
        passage_index=np.asarray(pidx, dtype=np.int64),
        own_passage=np.asarray(own, dtype=bool),
        counts=dict(sorted(counts.items())),
    )


def fit_lr(x: np.ndarray, y: np.ndarray, c: float) -> LogisticRegression:
    """Class-balanced L2 logistic regression."""
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000, tol=1e-6)
    return model.fit(x, y)


def out_of_fold(x: np.ndarray, y: np.ndarray, groups: np.ndarray, c: float) -> np.ndarray:
    """Out-of-fold decision scores from grouped, stratified 5-fold CV."""
    folds = StratifiedGroupKFold(n_splits=N_FOLDS, shuffle=True, random_state=SEED)
    scores = np.zeros(len(y), dtype=np.float64)
    for train, test in folds.split(x, y, groups):
        scores[test] = fit_lr(x[train], y[train], c).decision_function(x[test])
    return scores


def _log1pexp(z: np.ndarray) -> np.ndarray:
    """``log(1 + exp(z))`` without overflow."""
    out: np.ndarray = np.logaddexp(0.0, z)
    return out


def platt(scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt scaling: ``p = sigmoid(a * score + b)`` fitted on out-of-fold scores.

    Newton's method with backtracking on Platt's smoothed targets (which keep a few
    perfectly separated points from sending ``a`` to infinity); deterministic.
    """
    n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
    t = np.where(y == 1, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))

    def loss(a: float, b: float) -> float:
        z = a * scores + b
        return float(np.sum(_log1pexp(z) - t * z))

    a, b = 0.0, float(np.log((n_pos + 1) / (n_neg + 1)))
    current = loss(a, b)
    for _ in range(200):
        p = sigmoid(a * scores + b)
        g = np.array([np.sum((p - t) * scores), np.sum(p - t)])
        w = p * (1 - p)
        h = np.array(
            [[np.sum(w * scores * scores), np.sum(w * scores)], [np.sum(w * scores), np.sum(w)]]
        )
        step = np.linalg.solve(h + 1e-10 * np.eye(2), g)
        size = 1.0
        while size > 1e-8:
            na, nb = a - size * step[0], b - size * step[1]
            new = loss(na, nb)
            if new <= current:
                break
            size /= 2
        else:
            break
        done = current - new < 1e-12
        a, b, current = na, nb, new
        if done:
            break
    return float(a), float(b)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function, without overflow warnings."""
    out: np.ndarray = np.exp(-np.logaddexp(0.0, -z))
    return out


def choose_threshold(p: np.ndarray, y: np.ndarray) -> tuple[float, bool]:
    """Lowest threshold with precision >= target (and enough hits), else a guarded best-F1."""
    order = np.argsort(-p, kind="stable")
    ps, ys = p[order], y[order]
    tp = np.cumsum(ys)
    k = np.arange(1, len(ys) + 1)
    precision = tp / k
    recall = tp / max(1, int(y.sum()))
    # only cut between distinct scores
    last_of_tie = np.r_[ps[1:] != ps[:-1], True]
    ok = last_of_tie & (precision >= TARGET_PRECISION) & (tp >= MIN_TRUE_POSITIVES)
    if ok.any():
        i = int(np.flatnonzero(ok)[-1])
        return float(ps[i]), True
    f1 = np.where(last_of_tie, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0)
    i = int(np.argmax(f1))
    return max(float(ps[i]), FALLBACK_MIN_THRESHOLD), False


def prf(pred: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Precision, recall, F1 of boolean predictions."""
    tp = int(np.sum(pred & (y == 1)))
    fp = int(np.sum(pred & (y == 0)))
    fn = int(np.sum(~pred & (y == 1)))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def deterministic_npz(arrays: dict[str, np.ndarray]) -> bytes:
    """An ``.npz`` (zip of ``.npy``) with fixed timestamps, so equal arrays give equal bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arrays[name]),
                                      allow_pickle=False)  # fmt: skip
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, member.getvalue())
    return buf.getvalue()


def check_taxonomy() -> None:
    """Fail early if forewarn's taxonomy and :data:`WARNINGS` disagree."""
    from forewarn.taxonomy import load_taxonomy

    ids = tuple(load_taxonomy().ids)
    if set(ids) != set(WARNINGS):
        raise SystemExit(
            f"WARNINGS differs from the taxonomy: missing {sorted(set(ids) - set(WARNINGS))}, "
            f"unknown {sorted(set(WARNINGS) - set(ids))}"
        )


def train(data_dir: Path, encoder: str = "static") -> tuple[bytes, dict[str, object]]:
    """Train every head; return the ``.npz`` bytes and the ``.json`` metadata."""
    t0 = time.perf_counter()
    check_taxonomy()
    embedder: StaticEmbedder | CachedEncoder = (
        StaticEmbedder() if encoder == "static" else CachedEncoder())
    corpus = load_corpus(data_dir, embedder)
    print(f"embedded {len(corpus.passages)} passages, {len(corpus.seed_pos)} seed positives, "
          f"{len(corpus.seed_neg)} seed negatives in {time.perf_counter() - t0:.1f} s")  # fmt: skip

    n_w, dim = len(WARNINGS), corpus.x_passages.shape[1]
    weights = np.zeros((n_w, dim), dtype=np.float64)
    bias = np.zeros(n_w)
    platt_a = np.zeros(n_w)
    platt_b = np.zeros(n_w)
    threshold = np.zeros(n_w)
    per_warning: dict[str, dict[str, object]] = {}
    # calibrated out-of-training scores of every passage, per head (nan: none)
    oot = np.full((len(corpus.passages), n_w), np.nan)

    for k, warning in enumerate(WARNINGS):
        rows = build_rows(corpus, warning)
        xz = rows.x.astype(np.float64)
        best: tuple[float, float, np.ndarray] | None = None
        grid: dict[str, float] = {}
        for c in C_GRID:
            s = out_of_fold(xz, rows.y, rows.groups, c)
            ap = float(average_precision_score(rows.y, s))
            grid[str(c)] = round(ap, 4)
            if best is None or ap > best[0] + 1e-9:
                best = (ap, c, s)
        assert best is not None
        ap, c, oof = best
        a, b = platt(oof, rows.y)
        p_oof = sigmoid(a * oof + b)
        thr, target_met = choose_threshold(p_oof, rows.y)
        final = fit_lr(xz, rows.y, c)
        weights[k] = final.coef_[0]
        bias[k] = float(final.intercept_[0])
        platt_a[k], platt_b[k], threshold[k] = a, b, thr

        # out-of-training calibrated scores for passages: OOF where trained on, else final
        p_all = sigmoid(a * (corpus.x_passages.astype(np.float64) @ weights[k] + bias[k]) + b)
        oot[:, k] = p_all
        in_rows = rows.passage_index >= 0
        oot[rows.passage_index[in_rows], k] = p_oof[in_rows]

        info: dict[str, object] = {
            "counts": rows.counts,
            "n_positive": int(rows.y.sum()),
            "n_negative": int(len(rows.y) - rows.y.sum()),
            "C": c,
            "cv_average_precision_by_C": grid,
            "cv_average_precision": round(ap, 4),
            "cv_roc_auc": round(float(roc_auc_score(rows.y, oof)), 4),
            "platt": [round(a, 6), round(b, 6)],
            "threshold": round(thr, 6),
            "target_precision_met": target_met,
            "cv_at_threshold": prf(p_oof >= thr, rows.y),
        }
        if rows.own_passage.any():
            yp = rows.y[rows.own_passage]
            info["passage_cv_majority"] = {
                **prf(p_oof[rows.own_passage] >= thr, yp),
                "best_f1": round(best_f1(p_oof[rows.own_passage], yp), 4),
                "roc_auc": round(float(roc_auc_score(yp, p_oof[rows.own_passage])), 4),
                "n_positive": int(yp.sum()),
                "n_negative": int(len(yp) - yp.sum()),
            }
        per_warning[warning] = info
        print(f"{warning:>24}: pos {info['n_positive']:4d} neg {info['n_negative']:4d} "
              f"C {c:<5} AP {ap:.3f} thr {thr:.3f}{'' if target_met else ' (best F1)'} "
              f"cv {info['cv_at_threshold']}")  # fmt: skip

    evaluation = evaluate(corpus, oot, threshold)
    # Out-of-training passage scores for training/fit_calibration.py (never shipped).
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    np.savez(CACHE_DIR / f"oot-{encoder}.npz", oot=oot, threshold=threshold,
             warning_ids=np.asarray(WARNINGS),
             example_id=np.asarray([int(p["example_id"]) for p in corpus.passages]))
    arrays = {
        "warning_ids": np.asarray(WARNINGS),
        "weights": weights.astype(np.float32),
        "bias": bias.astype(np.float32),
        "platt_a": platt_a.astype(np.float32),
        "platt_b": platt_b.astype(np.float32),
        "threshold": threshold.astype(np.float32),
    }
    npz = deterministic_npz(arrays)
    meta: dict[str, object] = {
        "format": 1,
        "heads_npz_sha256": sha256_bytes(npz),
        "encoder": encoder,
        "encoder_sha256": (embedder.manifest["files"]["embeddings.npy"]["sha256"]
                           if encoder == "static"
                           else embedder.manifest["files"]["model.onnx"]["sha256"]),
        "score": "p = sigmoid(platt_a * (weights @ embedding + bias) + platt_b); hit when p >= "
        "threshold",
        "warning_ids": list(WARNINGS),
        "seed": SEED,
        "cv": f"StratifiedGroupKFold(n_splits={N_FOLDS}, shuffle=True, random_state={SEED}); "
        "groups: work_id for passages, one group per seed passage",
        "C_grid": list(C_GRID),
        "target_precision": TARGET_PRECISION,
        "min_true_positives": MIN_TRUE_POSITIVES,
        "fallback_min_threshold": FALLBACK_MIN_THRESHOLD,
        "not_negative_for": {w: sorted(NOT_NEGATIVE[w]) for w in WARNINGS},
        "background_excluded_for": {w: sorted(RELATED[w]) for w in WARNINGS},
        "no_background": sorted(NO_BACKGROUND),
        "training_data": {
            "passages": "../shared/data/passage-warnings/passages.jsonl, set_id == 0 only "
            "(Wiegmann et al. 2024; research use, not redistributed), majority labels",
            "passage_warning_map": PASSAGE_WARNINGS,
            "seed_positives": len(corpus.seed_pos),
            "seed_negatives": len(corpus.seed_neg),
            "seed_positives_per_warning": dict(Counter(r["warning"] for r in corpus.seed_pos)),
        },
        "versions": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "scikit-learn": metadata.version("scikit-learn"),
        },
        "per_warning": per_warning,
        "evaluation": evaluation,
    }
    print(f"trained {n_w} heads in {time.perf_counter() - t0:.1f} s")
    return npz, meta


def best_f1(p: np.ndarray, y: np.ndarray) -> float:
    """The best F1 over all thresholds (an upper bound, for reference)."""
    order = np.argsort(-p, kind="stable")
    ys = y[order]
    tp = np.cumsum(ys)
    k = np.arange(1, len(ys) + 1)
    f1 = 2 * tp / (k + max(1, int(y.sum())))
    return float(f1.max()) if len(f1) else 0.0


def evaluate(corpus: Corpus, oot: np.ndarray, threshold: np.ndarray) -> dict[str, object]:
    """Report-only figures: false alarms on 'ordinary' passages, held-out set-1 F1."""
    all_zero = np.array([majority(p["labels"]) == 0 and 1 not in p["labels"]  # type: ignore[operator]
                         for p in corpus.passages])  # fmt: skip
    set_id = np.array([p["set_id"] for p in corpus.passages])
    fires = oot >= threshold[None, :]
    out: dict[str, object] = {}
    for s in (0, 1):
        mask = all_zero & (set_id == s)
        any_fire = fires[mask].any(axis=1)
        by_head = fires[mask].sum(axis=0)
        top = sorted(
            ((WARNINGS[k], int(n)) for k, n in enumerate(by_head) if n), key=lambda t: -t[1]
        )
        out[f"set{s}_ordinary_false_alarm"] = {
            "passages": int(mask.sum()),
            "fraction_any_head": round(float(any_fire.mean()), 4),
            "mean_heads_per_passage": round(float(fires[mask].sum(axis=1).mean()), 4),
            "top_heads": top[:12],
            "scores": "out-of-fold for set 0 where trained on, else final heads"
            if s == 0
            else "final heads (set 1 never trained on)",
        }
    heldout: dict[str, object] = {}
    for name, warning in PASSAGE_WARNINGS.items():
        k = WARNINGS.index(warning)
        mask = (set_id == 1) & np.array([p["warning"] == name for p in corpus.passages])
        y = np.array([majority(p["labels"]) for p in corpus.passages])[mask]
        heldout[warning] = {
            **prf(fires[mask, k], y),
            "n_positive": int(y.sum()),
            "n_negative": int(len(y) - y.sum()),
        }
    out["set1_heldout_majority"] = heldout
    fa = out["set1_ordinary_false_alarm"]
    assert isinstance(fa, dict)
    top = fa["top_heads"][:6]
    print(f"set-1 ordinary passages with any head above threshold: "
          f"{fa['fraction_any_head']:.3f} of {fa['passages']}; top {top}")  # fmt: skip
    fa0 = out["set0_ordinary_false_alarm"]
    assert isinstance(fa0, dict)
    print(f"set-0 ordinary passages (out-of-fold): {fa0['fraction_any_head']:.3f} "
          f"of {fa0['passages']}")  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared data folder")
    parser.add_argument("--encoder", choices=sorted(OUTPUTS), default="static",
                        help="which embedding the heads read (default: static)")
    parser.add_argument("--out-npz", type=Path, default=None)
    parser.add_argument("--out-json", type=Path, default=None)
    parser.add_argument("--check-determinism", action="store_true",
                        help="train twice and compare the heads.npz sha256")  # fmt: skip
    args = parser.parse_args(argv)
    args.out_npz = args.out_npz or DATA_OUT / f"{OUTPUTS[args.encoder]}.npz"
    args.out_json = args.out_json or args.out_npz.with_suffix(".json")
    npz, meta = train(args.data, args.encoder)
    if args.check_determinism:
        npz2, _ = train(args.data, args.encoder)
        same = npz == npz2
        print(f"determinism: run 1 {sha256_bytes(npz)}, run 2 {sha256_bytes(npz2)}: "
              f"{'identical' if same else 'DIFFERENT'}")  # fmt: skip
        if not same:
            return 1
    args.out_npz.parent.mkdir(parents=True, exist_ok=True)
    args.out_npz.write_bytes(npz)
    args.out_json.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out_npz} ({len(npz):,} bytes, sha256 {sha256_bytes(npz)})")
    print(f"wrote {args.out_json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
