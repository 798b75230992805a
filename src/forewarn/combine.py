"""Scores → calibrated probabilities: the passage combiner and the work-level aggregator.

Both are small logistic models, fitted by ``training/fit_combiner.py`` with the functions
below and read back at run time by the same code, so what the training script measured is
what a scan computes.

**Combiner** (per passage and warning)::

    p[w] = sigmoid(bias[w] + sum_k coef[w, k] * feature_k[w])

The features are named scores per warning from the detectors that read the passage:
``classifier``, the fine-tuned classifier's raw logit, and ``lexicon``, the best lexicon
hit's score (0 without one; :func:`lexicon_matrix`), and ``negated``, 1 where the
lexicon's rules read the warning's cue only negated or figurative (:func:`negation_matrix`).
The lexicon informs the probability with the weight the dev data gives it. The
``context`` features (:func:`neighbour_context`), where the fitted combiner has them, read
the classifier's logits for the passages around: ``context`` the larger of the passages
just before and after, ``context2`` of those two away, and so on. A scene rarely ends at a
passage's edge; docs/model-card.md gives what each ring added on the dev books.

Each warning's coefficients are fitted on the dev books' passages, weighted towards the
natural distribution, and shrunk towards one model pooled over all warnings, so that a
warning with few dev positives borrows the pooled slope instead of fitting noise.

**Work aggregator** (per work and warning)::

    p_work = sigmoid(c0 + c1 * p1 + c2 * p2 + c3 * p3)

where p1 >= p2 >= p3 are the probabilities of the work's three most probable passages for
the warning, read over every passage, none dropped (a fitted ``floor`` may read passages
below it as 0; the shipped fit has none). (On the logits of the same passages the fit is no
better on dev works.) It is
fitted on whole works and chapters (dev writing batches' scenes, dev books' annotated
stretches), where a noisy-or over passages stacks the same evidence read three times as
if it were independent and over-states a long work's confidence.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: What a ``context`` ring reads where a passage has no neighbour at all (a one-passage work,
#: a line read alone): the logit of a quiet passage (the dev passages' median logit is about
#: -5.5), so that "nothing around it" counts as nothing around it rather than as the
#: passage's own evidence read again.
CONTEXT_PAD = -6.0
#: A floor for the rings, tried in the seventeenth session (``fit_combiner.py
#: --context-floor``): each ring read as at least this logit (sigmoid(-2) = 0.12), so that
#: five very quiet rings cannot outweigh a passage's own evidence (read raw, a plainly
#: self-harm passage, logit 6.5, between quiet ones, -9.5, comes out under 0.02). Not
#: adopted: on the dev chapters it added false warnings and found no more (model card,
#: section 0, "What was tried"); a combiner.json without ``context_floor`` reads rings raw.
CONTEXT_FLOOR = -2.0
#: The margin of the rings, shipped since the eighteenth session (``fit_combiner.py
#: --context-margin``, its default): each ring read as at least the passage's own
#: classifier logit less this, so that quiet neighbours may lower a passage's probability
#: but cannot pull it more than the margin below its own evidence, while a quiet passage
#: among quiet ones reads as before. Chosen on dev among floors and margins by a rule
#: written first (model card, section 0, "What was tried"); a combiner.json without
#: ``context_margin`` reads its rings with no such floor.
CONTEXT_MARGIN = 6.0
LOGIT_CLIP = 9.0  # probabilities are kept within sigmoid(+-9) before taking logits
TOP = 3


def sigmoid(z: np.ndarray | float) -> np.ndarray:
    p: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(z, -40.0, 40.0)))
    return p


def logit(p: np.ndarray | float) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), sigmoid(-LOGIT_CLIP), sigmoid(LOGIT_CLIP))
    z: np.ndarray = np.log(p) - np.log1p(-p)
    return z


def fit_logistic(x: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None,
                 prior_mean: np.ndarray | None = None, prior: float = 1.0,
                 iters: int = 100) -> np.ndarray:
    """Weighted logistic regression by Newton's method with a Gaussian prior.

    ``x`` ``[n, k]`` (add a column of ones for a bias), ``y`` in [0, 1] ``[n]``; returns the
    coefficients ``[k]``. ``prior`` is the prior's precision around ``prior_mean``.

    Each Newton step is halved until it lowers the penalised loss (Armijo backtracking).
    A full step from the prior's mean can overshoot where scores are large and positives
    few (a classifier's logits reach ±15, a warning may have 30 positives in 8,000 rows):
    undamped, such a fit oscillated and ended with coefficients in the hundreds.
    """
    n, k = x.shape
    w = np.ones(n) if weight is None else np.asarray(weight, dtype=np.float64)
    mean = np.zeros(k) if prior_mean is None else np.asarray(prior_mean, dtype=np.float64)

    def loss(b: np.ndarray) -> float:
        z = x @ b
        return float(w @ (np.logaddexp(0.0, z) - y * z) + 0.5 * prior * ((b - mean) ** 2).sum())

    beta = mean.copy()
    current = loss(beta)
    for _ in range(iters):
        p = sigmoid(x @ beta)
        grad = x.T @ (w * (p - y)) + prior * (beta - mean)
        hess = (x * (w * p * (1 - p))[:, None]).T @ x + prior * np.eye(k)
        step = np.linalg.solve(hess, grad)
        decrease = float(grad @ step)  # > 0: the Hessian is positive definite
        t = 1.0
        while True:
            candidate = beta - t * step
            value = loss(candidate)
            if value <= current - 1e-4 * t * decrease or t < 1e-8:
                break
            t *= 0.5
        if value > current:  # no step lowers the loss: at the optimum to rounding
            break
        beta, current = candidate, value
        if np.abs(t * step).max() < 1e-9:
            break
    return beta


#: The knee of the ``strong`` feature: how far a passage's own classifier logit rises above
#: 4 (p 0.98 read alone), so that a fit can let a very confident passage stand on its own
#: evidence whatever its neighbours say (the model card, section 0, "What was tried").
STRONG_KNEE = 4.0


def strong_feature(classifier_logits: np.ndarray) -> np.ndarray:
    """The combiner's ``strong`` feature: ``max(logit - STRONG_KNEE, 0)``."""
    return np.maximum(np.asarray(classifier_logits, dtype=np.float64) - STRONG_KNEE, 0.0)


def _feature(name: str, scores: Mapping[str, np.ndarray], context_floor: float | None,
             context_margin: float | None = None) -> np.ndarray:
    """The combiner's feature ``name`` as it reads it, in a fit and at run time alike:
    ``strong`` derived from ``classifier`` where not given, a ring floored when asked
    (at ``context_floor``, at the passage's own classifier logit less ``context_margin``,
    or both: the higher)."""
    if name == "strong" and name not in scores:
        return strong_feature(scores["classifier"])
    x = np.asarray(scores[name], dtype=np.float64)
    if name.startswith("context"):
        if context_floor is not None:
            x = np.maximum(x, context_floor)
        if context_margin is not None:
            own = np.asarray(scores["classifier"], dtype=np.float64)
            x = np.maximum(x, own - context_margin)
    return x


@dataclass(frozen=True)
class Combiner:
    """Per-warning logistic calibration of named detector scores."""

    warnings: tuple[str, ...]
    features: tuple[str, ...]
    coef: np.ndarray  # [warnings, features]
    bias: np.ndarray  # [warnings]
    #: the ``context`` features are read as at least this (None: as they are); see
    #: :data:`CONTEXT_FLOOR`
    context_floor: float | None = None
    #: the ``context`` features are read as at least the passage's own ``classifier`` logit
    #: less this (None: no such floor); see :data:`CONTEXT_MARGIN`
    context_margin: float | None = None

    def __call__(self, scores: Mapping[str, np.ndarray]) -> np.ndarray:
        """``scores[feature]`` ``[n, warnings]`` → probabilities ``[n, warnings]``."""
        z = np.broadcast_to(self.bias, scores[self.features[0]].shape).astype(np.float64)
        for k, name in enumerate(self.features):
            z = z + self.coef[:, k] * _feature(name, scores, self.context_floor,
                                               self.context_margin)
        return sigmoid(z)

    @classmethod
    def fit(cls, warnings: Sequence[str], scores: Mapping[str, np.ndarray], y: np.ndarray,
            weight: np.ndarray | None = None, shrink: float = 20.0,
            context_floor: float | None = None,
            context_margin: float | None = None) -> Combiner:
        """``y`` ``[n, warnings]`` (nan: unknown); ``weight`` ``[n]``. Each warning's fit is
        pulled towards the pooled fit with precision ``shrink``. ``context_floor`` and
        ``context_margin``: the ``context`` features are read as at least this, or at least
        the passage's own classifier logit less that, in the fit and ever after."""
        features = tuple(scores)
        x_all = np.stack([_feature(f, scores, context_floor, context_margin)
                          for f in features], axis=2)
        n, n_w, _ = x_all.shape
        w = np.ones(n) if weight is None else np.asarray(weight, dtype=np.float64)
        have = ~np.isnan(y)
        ones = np.ones((n, n_w, 1))
        design = np.concatenate([x_all, ones], axis=2)  # [..., features + bias]
        pooled = fit_logistic(design[have], y[have], np.broadcast_to(w[:, None], y.shape)[have],
                              prior=1e-3)
        coef = np.zeros((n_w, len(features)))
        bias = np.zeros(n_w)
        for j in range(n_w):
            rows = have[:, j]
            # a warning with no dev label keeps the pooled model; the prior holds the others
            # near it (one with no dev positive mostly lowers its intercept)
            beta = (fit_logistic(design[rows, j], y[rows, j], w[rows], pooled, shrink)
                    if rows.any() else pooled)
            coef[j], bias[j] = beta[:-1], beta[-1]
        return cls(tuple(warnings), features, coef, bias, context_floor, context_margin)

    def to_json(self) -> dict:
        out: dict[str, object] = {"warnings": list(self.warnings),
                                  "features": list(self.features),
                                  "coef": {w: [round(float(c), 6) for c in self.coef[j]]
                                           for j, w in enumerate(self.warnings)},
                                  "bias": {w: round(float(self.bias[j]), 6)
                                           for j, w in enumerate(self.warnings)}}
        if self.context_floor is not None:
            out["context_floor"] = self.context_floor
        if self.context_margin is not None:
            out["context_margin"] = self.context_margin
        return out

    @classmethod
    def from_json(cls, data: Mapping) -> Combiner:
        warnings = tuple(data["warnings"])
        floor, margin = data.get("context_floor"), data.get("context_margin")
        return cls(warnings, tuple(data["features"]),
                   np.array([data["coef"][w] for w in warnings], dtype=np.float64),
                   np.array([data["bias"][w] for w in warnings], dtype=np.float64),
                   None if floor is None else float(floor),
                   None if margin is None else float(margin))


@dataclass(frozen=True)
class WorkAggregator:
    """Top passages' probabilities → the probability that the work needs the warning."""

    coef: tuple[float, ...]  # c1..c3 on the probabilities of the top passages
    intercept: float
    cap: float = 0.99
    floor: float = 0.0  # passages below it read as 0, in fitting as at run time

    def features(self, probs: Sequence[float] | np.ndarray) -> np.ndarray:
        top = sorted((float(p) if p >= self.floor else 0.0 for p in probs), reverse=True)[:TOP]
        top += [0.0] * (TOP - len(top))
        return np.array(top)

    def __call__(self, probs: Sequence[float] | np.ndarray) -> float:
        """The work's probability from its passages' (any number, any order)."""
        z = self.intercept + float(np.dot(self.coef, self.features(probs)))
        return min(self.cap, 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z)))))

    @classmethod
    def fit(cls, works: Sequence[Sequence[float]], y: Sequence[float],
            weight: Sequence[float] | None = None, floor: float = 0.0) -> WorkAggregator:
        """``works``: each (work, warning)'s passage probabilities; ``y``: whether the work
        needs the warning. The slopes are kept non-negative (more evidence never lowers
        the work's probability)."""
        probe = cls((1.0,) * TOP, 0.0, floor=floor)
        x = np.stack([probe.features(p) for p in works])
        x = np.concatenate([x, np.ones((len(x), 1))], axis=1)
        t = np.asarray(y, dtype=np.float64)
        beta = fit_logistic(x, t, None if weight is None else np.asarray(weight), prior=1e-2)
        active = list(range(TOP))
        while any(beta[k] < 0 for k in active):  # drop negative slopes and refit
            active = [k for k in active if beta[k] >= 0]
            cols = [*active, TOP]
            sub = fit_logistic(x[:, cols], t, None if weight is None else np.asarray(weight),
                               prior=1e-2)
            beta = np.zeros(TOP + 1)
            beta[cols] = sub
        return cls(tuple(float(b) for b in beta[:TOP]), float(beta[TOP]), floor=floor)

    def to_json(self) -> dict:
        return {"coef": [round(c, 6) for c in self.coef], "intercept": round(self.intercept, 6),
                "cap": self.cap, "floor": self.floor}

    @classmethod
    def from_json(cls, data: Mapping) -> WorkAggregator:
        return cls(tuple(float(c) for c in data["coef"]), float(data["intercept"]),
                   float(data["cap"]), float(data["floor"]))


def lexicon_matrix(hits: Sequence, rows: Mapping[int, int], warnings: Sequence[str]
                   ) -> np.ndarray:
    """The combiner's ``lexicon`` feature: per passage row and warning, the best lexicon
    hit's score (0 where the lexicon found nothing). ``rows`` maps a passage's index to its
    row; hits of other detectors and of passages not in ``rows`` are ignored."""
    col = {w: j for j, w in enumerate(warnings)}
    out = np.zeros((len(rows), len(warnings)))
    for h in hits:
        if h.detector == "lexicon" and h.passage in rows and h.warning in col:
            r, j = rows[h.passage], col[h.warning]
            out[r, j] = max(out[r, j], float(h.score))
    return out


def context_ring(name: str) -> int | None:
    """The ring a ``context`` feature reads: ``context`` 1, ``context2`` 2, ...; None for
    a feature that is not one."""
    if name == "context":
        return 1
    if name.startswith("context") and name[7:].isdigit() and int(name[7:]) >= 1:
        return int(name[7:])
    return None


#: Row keys for :func:`neighbour_context` that keep the rings inside a chapter: a passage's
#: key is ``chapter * CHAPTER_STRIDE + index``, so passages of two chapters are never within
#: a ring of each other.
CHAPTER_STRIDE = 10_000_000


def ring_keys(passages: Iterable) -> list[int]:
    """The keys :func:`neighbour_context` matches passages by, so that its rings stay inside
    a chapter: ``chapter * CHAPTER_STRIDE + index`` for each passage. A chapter's title
    passage (``title``) gets a key of its own, below every other and far from the next
    title's, so that it has no ring (it is read alone) and is no passage's ring."""
    return [-(p.index + 1) * CHAPTER_STRIDE if getattr(p, "title", False)
            else p.chapter * CHAPTER_STRIDE + p.index for p in passages]


class _Rows:
    """Finds, for every row, the row whose key is its own plus an offset."""

    def __init__(self, indices: Sequence[int] | None, n: int) -> None:
        self.index = np.asarray(indices if indices is not None and n > 1 else [], dtype=int)
        self.order = np.argsort(self.index, kind="stable")
        self.ranked = self.index[self.order]

    def at(self, offset: int) -> tuple[np.ndarray, np.ndarray]:
        """(which rows have a row ``offset`` away, and those rows, in the same order); only
        for a non-empty ``index``."""
        target = self.index + offset
        pos = np.clip(np.searchsorted(self.ranked, target), 0, len(self.ranked) - 1)
        found = self.ranked[pos] == target
        return found, self.order[pos[found]]


def has_neighbour(indices: Sequence[int] | None, n: int) -> np.ndarray:
    """Per row, whether a row for the passage just before or just after it is present
    (``indices``: each row's passage index; None: ``n`` unrelated rows, none has)."""
    rows = _Rows(indices, n)
    if not len(rows.index):
        return np.zeros(n, dtype=bool)
    has: np.ndarray = np.logical_or(rows.at(-1)[0], rows.at(1)[0])
    return has


def neighbour_texts(texts: Sequence[str], indices: Sequence[int] | None
                    ) -> tuple[list[str], list[str]]:
    """Per row, the texts of the passages just before and just after it ("" where that
    passage is not among the rows), matched by index as :func:`neighbour_context` matches
    them (``indices``: each row's passage index; None: unrelated texts, none has)."""
    before, after = [""] * len(texts), [""] * len(texts)
    rows = _Rows(indices, len(texts))
    if len(rows.index):
        for offset, side in ((-1, before), (1, after)):
            found, at = rows.at(offset)
            for row, other in zip(np.flatnonzero(found).tolist(), at.tolist(), strict=True):
                side[row] = texts[other]
    return before, after


def neighbour_context(logits: np.ndarray, indices: Sequence[int] | None = None,
                      rings: int = 1) -> dict[str, np.ndarray]:
    """The combiner's ``context`` features, ring by ring: ``context`` (ring 1) is, per row,
    the larger of the classifier's logits ``[n, warnings]`` for the passages just before
    and just after it; ``context2`` the same for the passages two away, and so on up to
    ``rings``. Passages are matched by index (``indices``: each row's passage index; None:
    the rows are unrelated passages, with no neighbours). Where a ring has no passage on
    either side (a work's ends, a passage read alone) it takes the ring inside it, and ring
    1 :data:`CONTEXT_PAD`, a quiet passage's logit."""
    logits = np.asarray(logits, dtype=np.float64)
    out: dict[str, np.ndarray] = {}
    inner = np.full(logits.shape, CONTEXT_PAD)
    match = _Rows(indices, len(logits))
    for ring in range(1, rings + 1):
        feature = inner.copy()
        if len(match.index):
            either = np.full(logits.shape, -np.inf)
            for offset in (-ring, ring):
                found, rows = match.at(offset)
                either[found] = np.maximum(either[found], logits[rows])
            has = np.isfinite(either)
            feature[has] = either[has]
        out["context" if ring == 1 else f"context{ring}"] = feature
        inner = feature
    return out


def negation_matrix(ruled_out: Iterable[tuple[int, str]], rows: Mapping[int, int],
                    warnings: Sequence[str]) -> np.ndarray:
    """The combiner's ``negated`` feature: 1 where the lexicon read a cue for the warning in
    the passage only negated or figurative ("I'm not pregnant", "I could kill for a
    coffee"), else 0."""
    col = {w: j for j, w in enumerate(warnings)}
    out = np.zeros((len(rows), len(warnings)))
    for passage, warning in ruled_out:
        if passage in rows and warning in col:
            out[rows[passage], col[warning]] = 1.0
    return out


def load(path: Path) -> tuple[Combiner, WorkAggregator, dict[str, float]]:
    """A fitted ``combiner.json``: combiner, aggregator and per-warning operating points."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return (Combiner.from_json(data["combiner"]), WorkAggregator.from_json(data["aggregator"]),
            {str(w): float(t) for w, t in data["operating_points"].items()})
