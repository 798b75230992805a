"""The contextual sentence encoder: all-MiniLM-L6-v2 as int8 ONNX, run by onnxruntime.

This is the expensive second stage of forewarn's cascade (see
:mod:`forewarn.detect.embedding`): a 6-layer transformer that reads words in context, so it
sees what the static model cannot (negation, who does what to whom, an event told without
its keyword). ``training/export_encoder.py`` builds the three files in
``forewarn/data/encoder/``: ``model.onnx`` (pooling and normalisation are inside the graph),
``tokenizer.json`` (padding off, truncation at 256 tokens) and ``manifest.json`` with the
sha256 of both, checked here at load time.

Run-time needs: onnxruntime, tokenizers and numpy. No torch.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tokenizers import Tokenizer

from forewarn.detect.artifacts import StaticModelError, read_verified

__all__ = ["DEFAULT_ENCODER_DIR", "SentenceEncoder", "encoder_threads"]

DEFAULT_ENCODER_DIR = Path(__file__).resolve().parent.parent / "data" / "encoder"


def encoder_threads() -> int:
    """Threads for one encoder: ``FOREWARN_THREADS`` if set, else the usable cores (max 8)."""
    value = os.environ.get("FOREWARN_THREADS", "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(8, cores))


class SentenceEncoder:
    """Embed texts with the ONNX MiniLM: float32 ``[n, 384]`` unit-length rows.

    Loading (about 0.3 s) reads and hash-checks both files and builds the onnxruntime
    session. Each text is tokenised without padding and run on its own, so a text's
    vector never depends on what it was scanned with.
    """

    def __init__(self, model_dir: str | Path | None = None, *, threads: int | None = None) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:  # a broken install, not user input
            raise StaticModelError(
                "forewarn's encoder needs onnxruntime; reinstall forewarn"
            ) from exc
        self.model_dir = Path(model_dir) if model_dir is not None else DEFAULT_ENCODER_DIR
        manifest_path = self.model_dir / "manifest.json"
        try:
            self.manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StaticModelError(f"cannot read encoder manifest {manifest_path}: {exc}") from exc
        model, tokenizer = (
            read_verified(self.model_dir, name, self.manifest, "encoder",
                           "training/export_encoder.py")
            for name in ("model.onnx", "tokenizer.json"))
        self._tokenizer = Tokenizer.from_str(tokenizer.decode("utf-8"))
        self._tokenizer.no_padding()
        self.max_tokens = int(self.manifest.get("max_tokens", 256))
        self._tokenizer.enable_truncation(max_length=self.max_tokens)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or encoder_threads()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        self.dim = int(self.manifest.get("dims", 384))
        self._max_chars = self.max_tokens * 8  # never tokenise a whole chapter to keep 256
        # Optional text -> vector memo (off by default): the evaluation harness turns it on
        # so that a passage it embeds for training is not encoded again when it is scanned.
        self.memo: dict[str, np.ndarray] | None = None

    @property
    def sha256(self) -> str:
        return str(self.manifest["files"]["model.onnx"]["sha256"])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts``; an empty or whitespace-only text gets a zero row."""
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of texts, not a single str")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        memo = self.memo
        live = []
        for i, text in enumerate(texts):
            if memo is not None and text in memo:
                out[i] = memo[text]
            elif text.strip():
                live.append(i)
        if not live:
            return out
        encodings = self._tokenizer.encode_batch([texts[i][: self._max_chars] for i in live])
        # One text per call. The int8 graph quantises activations with one scale per call,
        # so batching would make a passage's vector depend on its neighbours (and on their
        # padding: up to 0.035 apart, measured); one row per call is exact and repeatable,
        # for about 20% less throughput.
        for i, enc in zip(live, encodings, strict=True):
            ids = np.asarray([enc.ids], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
            out[i] = self._session.run(None, feeds)[0][0]
            if memo is not None:
                memo[texts[i]] = out[i]
        return out
