"""The cascade: a cheap stage on every passage, the contextual encoder only where it points.

Stage 1 costs almost nothing: the lexicon (already run by the scanner, its hits arrive as
``hints``) and the static-embedding heads (:class:`~forewarn.detect.embedding.EmbeddingDetector`,
~250,000 words/s). A passage goes on to stage 2 when the lexicon found any cue in it, of
any tier, or when any static head scores it at or above that warning's *gate*, a level set
far below the static head's own threshold. Stage 2 runs the ONNX MiniLM encoder
(:mod:`forewarn.detect.encoder`, ~1,700 words/s on two cores) and its own per-warning heads
(``encoder-heads.npz``) on those passages only, and its hits are this detector's hits.

The gates (``cascade.json``) are chosen by ``training/choose_gates.py`` on the training
data so that stage 1 passes on the passages holding 98% of the full encoder's hits there.
A word budget per work (:data:`BUDGET_MIN_WORDS`, or :data:`BUDGET_FRACTION` of a long
work) keeps a novel's scan fast: past it, the most suspicious passages go first.
``bench/bench_cascade.py`` measures what gates and budget cost in recall against
``CascadeDetector(full=True)``, the encoder on every passage.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from forewarn.detect.artifacts import StaticModelError
from forewarn.detect.embedding import (
    DEFAULT_HEADS_PATH,
    EmbeddingDetector,
    Loaded,
    artifact_version,
    head_hits,
    load_model,
)
from forewarn.detect.encoder import DEFAULT_ENCODER_DIR, SentenceEncoder
from forewarn.work import Hit, Passage

__all__ = ["DEFAULT_ENCODER_HEADS_PATH", "DEFAULT_GATES_PATH", "CascadeDetector", "Hits"]

# The encoder's word budget per work: BUDGET_MIN_WORDS, or BUDGET_FRACTION of the work's
# words when that is more. It keeps a novel's scan within the speed targets (the encoder
# reads ~1,700 words/s on two cores); a short story is read whole wherever pointed.
BUDGET_MIN_WORDS = 600
BUDGET_FRACTION = 0.10
# FOREWARN_ENCODER=all reads every passage with the encoder (no gates, no budget: the
# most thorough, ~1,700 words/s); FOREWARN_ENCODER=<words> sets the minimum budget.
ENCODER_ENV = "FOREWARN_ENCODER"


def _from_environment() -> tuple[bool, int]:
    value = os.environ.get(ENCODER_ENV, "").strip().lower()
    if value == "all":
        return True, BUDGET_MIN_WORDS
    if value.isascii() and value.isdecimal():  # "²" is a digit int() refuses
        return False, int(value)
    return False, BUDGET_MIN_WORDS

_DATA = Path(__file__).resolve().parent.parent / "data"
DEFAULT_ENCODER_HEADS_PATH = _DATA / "encoder-heads.npz"
DEFAULT_GATES_PATH = _DATA / "cascade.json"


def load_gates(path: Path, warning_ids: Sequence[str]) -> np.ndarray:
    """Per-warning gates on the static heads' probabilities, in ``warning_ids`` order."""
    try:
        gates = json.loads(path.read_text(encoding="utf-8"))["gates"]
        return np.asarray([float(gates[w]) for w in warning_ids], dtype=np.float32)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StaticModelError(f"cannot read cascade gates {path}: {exc}") from exc


class Hits(list[Hit]):
    """The cascade's hits, and the indices of the passages its encoder read."""

    read: frozenset[int] = frozenset()


class CascadeDetector:
    """Static heads and lexicon cues pick the passages; the MiniLM heads decide.

    Hits are named ``embedding`` (the aggregator's model slot) with reason
    ``encoder:<warning>``. After each :meth:`detect`, :attr:`last_gated` and
    :attr:`last_total` say how many passages reached stage 2.
    """

    name = "embedding"
    uses_hints = True

    def __init__(
        self,
        *,
        full: bool | None = None,
        budget_min_words: int | None = None,
        budget_fraction: float = BUDGET_FRACTION,
        static_model_dir: str | Path | None = None,
        static_heads_path: str | Path | None = None,
        encoder_dir: str | Path | None = None,
        encoder_heads_path: str | Path | None = None,
        gates_path: str | Path | None = None,
    ) -> None:
        env_full, env_words = _from_environment()
        self.full = env_full if full is None else full
        self.budget_min_words = env_words if budget_min_words is None else budget_min_words
        self.budget_fraction = budget_fraction
        self.static = EmbeddingDetector(static_model_dir, static_heads_path or DEFAULT_HEADS_PATH)
        self._encoder_dir = Path(encoder_dir) if encoder_dir else DEFAULT_ENCODER_DIR
        self._heads_path = (Path(encoder_heads_path) if encoder_heads_path
                            else DEFAULT_ENCODER_HEADS_PATH)
        self._gates_path = Path(gates_path) if gates_path else DEFAULT_GATES_PATH
        self._gates: np.ndarray | None = None
        self.last_gated = 0
        self.last_total = 0

    def _model(self) -> Loaded:
        return load_model(self._encoder_dir, self._heads_path, SentenceEncoder)

    @property
    def encoder(self) -> SentenceEncoder:
        """The stage-2 sentence encoder (loaded on first use, shared in the process)."""
        encoder = self._model().embedder
        assert isinstance(encoder, SentenceEncoder)
        return encoder

    def warm_up(self) -> None:
        """Load both stages now (a scan loads the encoder only when a passage needs it)."""
        self._model()
        self.static.scores([])

    @property
    def warning_ids(self) -> tuple[str, ...]:
        return self._model().heads.warning_ids

    @property
    def thresholds(self) -> dict[str, float]:
        heads = self._model().heads
        return {w: float(t) for w, t in zip(heads.warning_ids, heads.threshold, strict=True)}

    @property
    def version(self) -> str:
        """Static model and heads, then encoder and its heads: sha256 prefixes; then how much
        the encoder reads when that is not the default (``@encoder-all``, ``@encoder-2000``),
        since it changes what is found and a results store must tell the two apart."""
        base = (f"{self.static.version}+"
                f"{artifact_version(self._encoder_dir, self._heads_path, 'model.onnx')}")
        if self.full:
            return f"{base}@encoder-all"
        if self.budget_min_words != BUDGET_MIN_WORDS or self.budget_fraction != BUDGET_FRACTION:
            return f"{base}@encoder-{self.budget_min_words}"
        return base

    def gate(self, passages: Sequence[Passage], hints: Sequence[Hit] = ()) -> np.ndarray:
        """Which passages go on to the encoder (bool ``[len(passages)]``).

        Pointed at: a lexicon cue, or a static head at or above its gate. When the pointed
        passages hold more words than the budget, the most suspicious go first, by how
        far the static heads rise above their gates (a lexicon cue counts as 1 + its
        score, like a static head at twice its gate).
        """
        if self.full:
            return np.ones(len(passages), dtype=bool)
        if self._gates is None:
            self._gates = load_gates(self._gates_path, self.static.warning_ids)
        ratio = (self.static.scores(passages) / self._gates).max(axis=1, initial=0.0)
        position = {p.index: i for i, p in enumerate(passages)}
        for hit in hints:
            i = position.get(hit.passage)
            if i is not None and hit.detector == "lexicon":
                ratio[i] = max(ratio[i], 1.0 + hit.score)  # a cue counts like a clear static lead
        pointed = np.flatnonzero(ratio >= 1.0)
        words_all = np.array([len(p.text.split()) for p in passages])
        words = words_all[pointed]
        budget = max(self.budget_min_words, self.budget_fraction * int(words_all.sum()))
        chosen = np.zeros(len(passages), dtype=bool)
        if words.sum() <= budget:
            chosen[pointed] = True
            return chosen
        spent = 0
        for j in np.argsort(-ratio[pointed], kind="stable"):
            if spent + words[j] > budget and spent:
                break
            chosen[pointed[j]] = True
            spent += int(words[j])
        return chosen

    def scores(self, passages: Sequence[Passage]) -> np.ndarray:
        """Encoder-head probabilities ``[len(passages), len(warning_ids)]`` for every passage."""
        model = self._model()
        return model.heads.probabilities(model.embedder.encode([p.text for p in passages]))

    def detect(self, passages: Sequence[Passage], hints: Sequence[Hit] = ()) -> Hits:
        """Hits of the encoder heads on the passages the cheap stage picked; the returned
        list's ``read`` says which passages (by index) the encoder read."""
        self.last_total, self.last_gated = len(passages), 0
        out = Hits()
        if not passages:
            return out
        chosen = np.flatnonzero(self.gate(passages, hints))
        self.last_gated = len(chosen)
        if not len(chosen):
            return out
        picked = [passages[i] for i in chosen.tolist()]
        heads = self._model().heads
        probs = self.scores(picked)
        probs[[not p.text.strip() for p in picked]] = 0.0
        out.extend(head_hits(picked, probs, heads, self.name, "encoder"))
        out.read = frozenset(p.index for p in picked)
        return out
