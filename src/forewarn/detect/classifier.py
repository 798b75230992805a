"""Detection v2: one fine-tuned passage classifier that reads every passage.

all-MiniLM-L6-v2, fine-tuned end to end on forewarn's annotated corpus
(``training/train_classifier.py``; never on fans' works), exported to int8 ONNX with its
tokenizer and heads (``training/export_classifier.py``) in ``forewarn/data/classifier/``.
Every file's sha256 is checked against ``manifest.json`` at load.

For each passage it gives a probability per warning: the head's logit through the
per-warning calibration fitted on the dev books (the same :func:`calibrate` the training
script's figures use), with no threshold applied, and a severity from the two severity
outputs. :class:`ClassifierDetector` turns those into hits for the aggregator; it emits a
hit for every (passage, warning) at or above :data:`HIT_FLOOR`, so near misses stay visible
to ``check``'s "possible" floor.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from forewarn.detect.encoder import SentenceEncoder
from forewarn.detect.static_model import StaticModelError, _read_verified
from forewarn.work import Hit, Passage

DEFAULT_CLASSIFIER_DIR = Path(__file__).resolve().parent.parent / "data" / "classifier"
HIT_FLOOR = 0.2
REBUILD = "training/export_classifier.py"


def calibrate(logits: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-warning Platt scaling: ``sigmoid(a * logit + b)`` (columns are warnings)."""
    return 1.0 / (1.0 + np.exp(-(logits * a + b)))


def available(model_dir: Path = DEFAULT_CLASSIFIER_DIR) -> bool:
    return (model_dir / "manifest.json").is_file()


class PassageClassifier:
    """Probabilities per warning for passages (float32 ``[n, warnings]``) and severities."""

    def __init__(self, model_dir: str | Path | None = None) -> None:
        self.model_dir = Path(model_dir) if model_dir is not None else DEFAULT_CLASSIFIER_DIR
        self.encoder = SentenceEncoder(self.model_dir)
        manifest: dict[str, Any] = self.encoder.manifest
        heads = np.load(io.BytesIO(_read_verified(self.model_dir, "heads.npz", manifest,
                                                  "classifier", REBUILD)))
        self.warnings: list[str] = list(manifest["warnings"])
        n = len(self.warnings)
        self.weight = heads["weight"].astype(np.float32)
        self.bias = heads["bias"].astype(np.float32)
        if self.weight.shape[0] != n + len(manifest["severity_outputs"]):
            raise StaticModelError(f"{self.model_dir}: heads do not match the manifest")
        cal = manifest["calibration"]
        self.a = np.array([cal[w][0] for w in self.warnings], dtype=np.float32)
        self.b = np.array([cal[w][1] for w in self.warnings], dtype=np.float32)
        self.version = self.encoder.sha256[:12]

    def scores(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(probability per warning ``[n, W]``, severity logits ``[n, 2]``)."""
        vectors = self.encoder.encode(list(texts))
        logits = vectors @ self.weight.T + self.bias
        n = len(self.warnings)
        probs = calibrate(logits[:, :n], self.a, self.b)
        empty = ~vectors.any(axis=1)
        probs[empty] = 0.0
        return probs, logits[:, n:]


@cache
def shared_classifier(model_dir: Path = DEFAULT_CLASSIFIER_DIR) -> PassageClassifier:
    return PassageClassifier(model_dir)


def severity_of(severity_logits: np.ndarray) -> str:
    depicted, graphic = severity_logits[0], severity_logits[1]
    if graphic > 0 and depicted > 0:
        return "graphic"
    return "depicted" if depicted > 0 else "mentioned"


class ClassifierDetector:
    """Reads every passage with the v2 classifier; one hit per (passage, warning) whose
    probability reaches :data:`HIT_FLOOR`, scored with that probability."""

    name = "classifier"

    def __init__(self, model_dir: Path | None = None) -> None:
        self.model_dir = model_dir or DEFAULT_CLASSIFIER_DIR

    @property
    def classifier(self) -> PassageClassifier:
        return shared_classifier(self.model_dir)

    @property
    def version(self) -> str:
        manifest = json.loads((self.model_dir / "manifest.json").read_text(encoding="utf-8"))
        return str(manifest["files"]["model.onnx"]["sha256"])[:12]

    def warm_up(self) -> None:
        _ = self.classifier

    def detect(self, passages: Sequence[Passage]) -> list[Hit]:
        if not passages:
            return []
        probs, severity = self.classifier.scores([p.text for p in passages])
        hits: list[Hit] = []
        rows, cols = np.nonzero(probs >= HIT_FLOOR)
        for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
            p = passages[i]
            wid = self.classifier.warnings[j]
            hits.append(Hit(wid, p.index, p.chapter, p.paragraph, p.start, p.end,
                            float(probs[i, j]), f"classifier:{wid}", self.name,
                            severity_of(severity[i])))
        return hits
