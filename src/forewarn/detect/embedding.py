"""The embedding detector: static sentence embeddings plus one linear head per warning.

Each passage is embedded with :class:`~forewarn.detect.static_model.StaticEmbedder`; each
warning's head (logistic regression, Platt-calibrated, trained by
``training/train_heads.py``) turns the embedding into a probability, and a passage gets a
:class:`~forewarn.work.Hit` for every warning whose probability reaches that warning's
threshold. The heads live in ``forewarn/data/heads.npz``; ``heads.json`` beside it records
how they were trained and the sha256 that is checked at load time.

Loading is lazy (on the first :meth:`EmbeddingDetector.detect` or :meth:`scores`) and
cached per process, so creating many detectors costs one load.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from forewarn.detect.artifacts import StaticModelError, verify_sha256
from forewarn.detect.static_model import DEFAULT_MODEL_DIR, StaticEmbedder
from forewarn.work import Hit, Passage

__all__ = [
    "DEFAULT_HEADS_PATH",
    "Embedder",
    "EmbeddingDetector",
    "Heads",
    "Loaded",
    "artifact_version",
    "head_hits",
    "load_heads",
    "load_model",
]

DEFAULT_HEADS_PATH = Path(__file__).resolve().parent.parent / "data" / "heads.npz"
_HEAD_ARRAYS = ("warning_ids", "weights", "bias", "platt_a", "platt_b", "threshold")


@dataclass(frozen=True)
class Heads:
    """Per-warning linear heads: ``p = sigmoid(a * (W @ x + bias) + b)``, hit if ``p >= t``."""

    warning_ids: tuple[str, ...]
    weights: np.ndarray  # [n_warnings, dims] float32
    bias: np.ndarray  # [n_warnings]
    platt_a: np.ndarray  # [n_warnings]
    platt_b: np.ndarray  # [n_warnings]
    threshold: np.ndarray  # [n_warnings]

    def probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        """Calibrated probabilities ``[n, n_warnings]`` (float32) for embeddings ``[n, dims]``."""
        z = embeddings.astype(np.float32, copy=False) @ self.weights.T + self.bias
        z = self.platt_a * z + self.platt_b
        probs: np.ndarray = np.exp(-np.logaddexp(np.float32(0.0), -z)).astype(np.float32)
        return probs


def load_heads(path: str | Path = DEFAULT_HEADS_PATH) -> Heads:
    """Load ``heads.npz``, checking its sha256 against ``heads.json`` beside it."""
    path = Path(path)
    meta_path = path.with_suffix(".json")
    try:
        data = path.read_bytes()
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        expected = str(meta["heads_npz_sha256"])
    except (OSError, ValueError, KeyError) as exc:
        raise StaticModelError(f"cannot load embedding heads {path}: {exc}") from exc
    verify_sha256(path, expected, data=data, what="embedding heads file",
                  recorded_in=meta_path.name, remedy="retrain with training/train_heads.py")
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        missing = [name for name in _HEAD_ARRAYS if name not in npz.files]
        if missing:
            raise StaticModelError(f"{path} lacks arrays: {', '.join(missing)}")
        arrays = {name: npz[name] for name in _HEAD_ARRAYS}
    n = len(arrays["warning_ids"])
    weights = np.ascontiguousarray(arrays["weights"], dtype=np.float32)
    if weights.shape[0] != n or any(arrays[k].shape != (n,) for k in _HEAD_ARRAYS[2:]):
        raise StaticModelError(f"{path}: head arrays disagree on the number of warnings")
    return Heads(
        warning_ids=tuple(str(w) for w in arrays["warning_ids"]),
        weights=weights,
        bias=arrays["bias"].astype(np.float32),
        platt_a=arrays["platt_a"].astype(np.float32),
        platt_b=arrays["platt_b"].astype(np.float32),
        threshold=arrays["threshold"].astype(np.float32),
    )


class Embedder(Protocol):
    """What the heads read: ``encode(texts)`` gives ``[n, dim]`` float32 rows."""

    @property
    def dim(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class Loaded:
    """An embedding model and the heads trained on its vectors."""

    embedder: Embedder
    heads: Heads


_CACHE: dict[tuple[Callable[[Path], Embedder], Path, Path], Loaded] = {}
_CACHE_LOCK = threading.Lock()


def load_model(
    model_dir: Path, heads_path: Path, embedder: Callable[[Path], Embedder] = StaticEmbedder
) -> Loaded:
    """Load (once per process, embedder kind and path pair) an embedder and its heads."""
    key = (embedder, model_dir.resolve(), heads_path.resolve())
    with _CACHE_LOCK:
        loaded = _CACHE.get(key)
        if loaded is None:
            model = embedder(model_dir)
            heads = load_heads(heads_path)
            if heads.weights.shape[1] != model.dim:
                raise StaticModelError(
                    f"heads {heads_path.name} expect {heads.weights.shape[1]}-dim vectors, "
                    f"the model in {model_dir} gives {model.dim}"
                )
            loaded = _CACHE[key] = Loaded(model, heads)
        return loaded


def artifact_version(model_dir: Path, heads_path: Path, model_file: str = "embeddings.npy") -> str:
    """``<model file sha256[:12]>+<heads sha256[:12]>`` from the manifests (no hashing)."""
    try:
        manifest = json.loads((model_dir / "manifest.json").read_text(encoding="utf-8"))
        meta = json.loads(heads_path.with_suffix(".json").read_text(encoding="utf-8"))
        model = str(manifest["files"][model_file]["sha256"])[:12]
        heads = str(meta["heads_npz_sha256"])[:12]
    except (OSError, ValueError, KeyError):
        return "unknown"
    return f"{model}+{heads}"


class EmbeddingDetector:
    """Flags passages whose embedding a warning's head scores at or above its threshold.

    Construction does no work; the model loads on first use and is shared by every
    detector in the process. Each hit spans its whole passage, with the calibrated
    probability as ``score`` and ``reason`` ``"embedding:<warning>"``.
    """

    name = "embedding"

    def __init__(
        self, model_dir: str | Path | None = None, heads_path: str | Path | None = None
    ) -> None:
        self._model_dir = Path(model_dir) if model_dir is not None else DEFAULT_MODEL_DIR
        self._heads_path = Path(heads_path) if heads_path is not None else DEFAULT_HEADS_PATH
        self._loaded: Loaded | None = None

    def _model(self) -> Loaded:
        if self._loaded is None:
            self._loaded = load_model(self._model_dir, self._heads_path)
        return self._loaded

    @property
    def warning_ids(self) -> tuple[str, ...]:
        """The warnings this detector scores, in the column order of :meth:`scores`."""
        return self._model().heads.warning_ids

    @property
    def version(self) -> str:
        """The shipped artifacts' identity: static model and heads sha256 prefixes."""
        return artifact_version(self._model_dir, self._heads_path)

    @property
    def thresholds(self) -> dict[str, float]:
        """Each warning's hit threshold on the calibrated probability."""
        heads = self._model().heads
        return {w: float(t) for w, t in zip(heads.warning_ids, heads.threshold, strict=True)}

    def score_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities ``[len(texts), len(warning_ids)]`` (float32).

        A text with no known tokens (empty, whitespace) scores 0 for every warning.
        """
        model = self._model()
        embeddings = model.embedder.encode(list(texts))
        probs = model.heads.probabilities(embeddings)
        probs[~embeddings.any(axis=1)] = 0.0
        return probs

    def scores(self, passages: Sequence[Passage]) -> np.ndarray:
        """Calibrated probabilities ``[len(passages), len(warning_ids)]`` for passages."""
        return self.score_texts([p.text for p in passages])

    def detect(self, passages: Sequence[Passage]) -> list[Hit]:
        """One hit per (passage, warning) whose probability reaches the warning's threshold.

        Hits come in passage order, then in :attr:`warning_ids` order.
        """
        if not passages:
            return []
        heads = self._model().heads
        return head_hits(passages, self.scores(passages), heads, self.name, "embedding")


def head_hits(
    passages: Sequence[Passage], probs: np.ndarray, heads: Heads, detector: str, reason: str
) -> list[Hit]:
    """One hit per (passage, warning) whose probability reaches the warning's threshold.

    ``probs`` is ``[len(passages), len(heads.warning_ids)]``. Hits come in passage order,
    then in warning order; each spans its whole passage.
    """
    rows, cols = np.nonzero(probs >= heads.threshold)
    hits: list[Hit] = []
    for i, k in zip(rows.tolist(), cols.tolist(), strict=True):
        passage = passages[i]
        warning = heads.warning_ids[k]
        hits.append(
            Hit(
                warning=warning,
                passage=passage.index,
                chapter=passage.chapter,
                paragraph=passage.paragraph,
                start=passage.start,
                end=passage.end,
                score=float(probs[i, k]),
                reason=f"{reason}:{warning}",
                detector=detector,
                severity=None,
            )
        )
    return hits
