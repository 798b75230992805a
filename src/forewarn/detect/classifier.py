"""Detection v2: one fine-tuned passage classifier that reads every passage.

all-MiniLM-L6-v2, fine-tuned end to end on forewarn's annotated corpus
(``training/train_classifier.py``; never on fans' works), exported to int8 ONNX with its
tokenizer and heads (``training/export_classifier.py``) in ``forewarn/data/classifier/``,
with the combiner, work aggregator and operating points that ``training/fit_combiner.py``
fitted on the dev split (``combiner.json``, read by :mod:`forewarn.combine`). Every file's
sha256 is checked against ``manifest.json`` at load.

For each passage it gives a calibrated probability per warning (the combiner applied to the
head's logits, the lexicon's features and, where the fit has it, the neighbouring passages'
logits; no threshold) and, per warning, a severity from that warning's two severity
outputs, cut where ``fit_combiner.py`` chose on dev. :meth:`ClassifierDetector.score`
returns all of them (:class:`~forewarn.work.PassageScores`); the scanner hands them to the
work aggregator whole. :meth:`ClassifierDetector.detect` states the same reading as claims:
a hit where a passage reaches the warning's operating point.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from forewarn.aggregate import WorkModel
from forewarn.combine import (
    Combiner,
    WorkAggregator,
    context_ring,
    has_neighbour,
    lexicon_matrix,
    negation_matrix,
    neighbour_context,
    neighbour_texts,
    ring_keys,
)
from forewarn.detect.artifacts import StaticModelError, read_verified
from forewarn.detect.encoder import SentenceEncoder
from forewarn.work import Hit, Passage, PassageScores

DEFAULT_CLASSIFIER_DIR = Path(__file__).resolve().parent.parent / "data" / "classifier"
REBUILD = "training/export_classifier.py"


def available(model_dir: Path = DEFAULT_CLASSIFIER_DIR) -> bool:
    return (model_dir / "manifest.json").is_file()


class PassageClassifier:
    """Probabilities per warning for passages (float32 ``[n, warnings]``) and severities."""

    def __init__(self, model_dir: str | Path | None = None) -> None:
        self.model_dir = Path(model_dir) if model_dir is not None else DEFAULT_CLASSIFIER_DIR
        self.encoder = SentenceEncoder(self.model_dir)
        manifest: dict[str, Any] = self.encoder.manifest
        heads = np.load(io.BytesIO(read_verified(self.model_dir, "heads.npz", manifest,
                                                 "classifier", REBUILD)))
        self.warnings: list[str] = list(manifest["warnings"])
        n = len(self.warnings)
        self.weight = heads["weight"].astype(np.float32)
        self.bias = heads["bias"].astype(np.float32)
        fitted = json.loads(read_verified(self.model_dir, "combiner.json", manifest,
                                          "classifier", REBUILD))
        self.combiner = Combiner.from_json(fitted["combiner"])
        # a passage with no neighbour at all is read by the fit without the context features
        self.combiner_alone = (Combiner.from_json(fitted["combiner_alone"])
                               if "combiner_alone" in fitted else self.combiner)
        self.aggregator = WorkAggregator.from_json(fitted["aggregator"])
        self.operating_points: dict[str, float] = {
            str(w): float(t) for w, t in fitted["operating_points"].items()}
        # the severity outputs' logit cut-offs chosen on dev (0: even odds)
        cutoffs = fitted.get("severity", {})
        self.severity_cutoffs = (float(cutoffs.get("depicted", 0.0)),
                                 float(cutoffs.get("graphic", 0.0)))
        if list(self.combiner.warnings) != self.warnings:
            raise StaticModelError(f"{self.model_dir}: the combiner's warnings do not match")
        if self.weight.shape[0] != n * (1 + len(manifest["severity_outputs"])):
            raise StaticModelError(f"{self.model_dir}: heads do not match the manifest")
        self.version = self.encoder.sha256[:12]

    @property
    def context_tokens(self) -> int:
        """Tokens the model reads from each neighbouring passage (0: it reads passages
        alone)."""
        return self.encoder.context_tokens

    def logits(self, texts: Sequence[str], before: Sequence[str] | None = None,
               after: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(sentence vectors ``[n, 384]``, head logits ``[n, 3W]``: per warning presence,
        then "at least depicted", then "graphic"). ``before``/``after``: each text's
        neighbouring passages, for a model that reads them (see
        :meth:`SentenceEncoder.encode`)."""
        if self.context_tokens:
            vectors = self.encoder.encode(list(texts), before, after)
            return vectors, vectors @ self.weight.T + self.bias
        # a passage longer than the model reads at once is read in pieces, each output its
        # largest over them (what is in any piece is in the passage); its vector is the
        # first piece's
        pieces = self.encoder.pieces(list(texts))
        flat = [p for ps in pieces for p, _ in ps]
        vectors = self.encoder.encode(flat, token_ids=[ids for ps in pieces for _, ids in ps])
        logits = vectors @ self.weight.T + self.bias
        if len(flat) == len(texts):
            return vectors, logits
        owner = np.repeat(np.arange(len(texts)), [len(ps) for ps in pieces])
        first = np.concatenate([[0], np.cumsum([len(ps) for ps in pieces])[:-1]])
        most = np.full((len(texts), logits.shape[1]), -np.inf, dtype=logits.dtype)
        np.maximum.at(most, owner, logits)
        return vectors[first], most

    @property
    def rings(self) -> int:
        """How many rings of neighbours the fitted combiner reads (``context``,
        ``context2``, ...; 0: none)."""
        return max((context_ring(f) or 0 for f in self.combiner.features), default=0)

    @property
    def reads_neighbours(self) -> bool:
        return self.rings > 0

    def scores(self, texts: Sequence[str], lexicon: np.ndarray | None = None,
               negated: np.ndarray | None = None, *, indices: Sequence[int] | None = None,
               context: Mapping[str, np.ndarray] | None = None,
               neighbours: tuple[Sequence[str], Sequence[str]] | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """(probability per warning ``[n, W]``, severity rank per warning ``[n, W]``:
        1 mentioned, 2 depicted, 3 graphic). ``lexicon`` and ``negated``: the lexicon's
        features ``[n, W]`` (:func:`forewarn.combine.lexicon_matrix`,
        :func:`forewarn.combine.negation_matrix`; zeros when not given). ``indices``: each
        text's passage index, so that passages near each other are each other's context
        (:func:`forewarn.combine.neighbour_context`; None: unrelated texts, each read
        alone); ``context``: the context features computed by the caller instead. A text
        with no neighbour at all is scored by the fit without the context features.
        ``neighbours``: (before, after), each text's neighbouring passages for a model that
        reads them, where the caller knows them; by default the texts found by ``indices``
        (none without)."""
        if neighbours is None and self.context_tokens:
            neighbours = neighbour_texts(texts, indices)
        vectors, logits = self.logits(texts, *(neighbours or (None, None)))
        n = len(self.warnings)
        zeros = np.zeros((len(texts), n))
        features = {"classifier": logits[:, :n],
                    "lexicon": zeros if lexicon is None else lexicon,
                    "negated": zeros if negated is None else negated}
        if not self.reads_neighbours:
            probs = self.combiner(features).astype(np.float32)
        else:
            features.update(neighbour_context(logits[:, :n], indices, self.rings)
                            if context is None else context)
            probs = self.combiner(features).astype(np.float32)
            alone = (~has_neighbour(indices, len(texts)) if context is None
                     else np.zeros(len(texts), dtype=bool))
            if alone.any():
                probs[alone] = self.combiner_alone(
                    {k: v[alone] for k, v in features.items()}).astype(np.float32)
        probs[~vectors.any(axis=1)] = 0.0
        depicted = logits[:, n:2 * n] > self.severity_cutoffs[0]
        graphic = logits[:, 2 * n:3 * n] > self.severity_cutoffs[1]
        severity = np.where(depicted & graphic, 3, np.where(depicted, 2, 1)).astype(np.int8)
        return probs, severity


@cache
def shared_classifier(model_dir: Path = DEFAULT_CLASSIFIER_DIR) -> PassageClassifier:
    return PassageClassifier(model_dir)


@cache
def _version(model_dir: Path) -> str:
    """The model's and its fitted combiner's sha256 prefixes from the manifest
    (``model+combiner``), read once per process: every report names it, and a refit of the
    combiner alone changes what a scan reports, so it changes the version too (a batch
    store then scans its works again). The model itself need not be loaded."""
    manifest = json.loads((model_dir / "manifest.json").read_text(encoding="utf-8"))
    files = manifest["files"]
    return f"{str(files['model.onnx']['sha256'])[:12]}+{str(files['combiner.json']['sha256'])[:8]}"


class ClassifierDetector:
    """Reads every passage with the v2 classifier. :meth:`score` gives every passage's
    probability per warning, unthresholded; :meth:`detect` a hit where a passage reaches the
    warning's operating point."""

    name = "classifier"
    uses_hints = True  # the lexicon's hits are one of the combiner's features

    def __init__(self, model_dir: Path | None = None) -> None:
        self.model_dir = model_dir or DEFAULT_CLASSIFIER_DIR

    @property
    def classifier(self) -> PassageClassifier:
        return shared_classifier(self.model_dir)

    @property
    def version(self) -> str:
        return _version(self.model_dir)

    @property
    def work_model(self) -> WorkModel:
        """The fitted work aggregator and operating points the aggregator applies."""
        c = self.classifier
        return WorkModel(c.aggregator, c.operating_points)

    def warm_up(self) -> None:
        _ = self.classifier

    def score(self, passages: Sequence[Passage], hints: Sequence[Hit] = ()) -> PassageScores:
        """Every passage's probability and severity per warning (no threshold)."""
        clf = self.classifier
        if not passages:
            empty = np.zeros((0, len(clf.warnings)))
            return PassageScores(self.name, tuple(clf.warnings), (),
                                 empty.astype(np.float32), empty.astype(np.int8))
        rows = {p.index: r for r, p in enumerate(passages)}
        probs, severity = clf.scores(
            [p.text for p in passages], lexicon_matrix(hints, rows, clf.warnings),
            negation_matrix(getattr(hints, "ruled_out", ()), rows, clf.warnings),
            # the rings stop at a chapter break (a chapter rarely goes on with its scene)
            indices=ring_keys(passages))
        return PassageScores(self.name, tuple(clf.warnings), tuple(p.index for p in passages),
                             probs, severity)

    def detect(self, passages: Sequence[Passage], hints: Sequence[Hit] = ()) -> list[Hit]:
        if not passages:
            return []
        scores = self.score(passages, hints)
        points = np.array([self.classifier.operating_points.get(w, 0.5)
                           for w in scores.warnings])
        rows, cols = np.nonzero(scores.probs >= points)
        return [scores.hit(i, j, passages[i]) for i, j in zip(rows.tolist(), cols.tolist(),
                                                               strict=True)]
