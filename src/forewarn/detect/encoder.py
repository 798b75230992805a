"""The contextual sentence encoder: all-MiniLM-L6-v2 as int8 ONNX, run by onnxruntime.

This is the expensive second stage of forewarn's cascade (see
:mod:`forewarn.detect.embedding`): a 6-layer transformer that reads words in context, so it
sees what the static model cannot (negation, who does what to whom, an event told without
its keyword). ``training/export_encoder.py`` builds the three files in
``forewarn/data/encoder/``: ``model.onnx`` (pooling and normalisation are inside the graph),
``tokenizer.json`` (padding off, truncation at 256 tokens) and ``manifest.json`` with the
sha256 of both, checked here at load time.

A model trained to read its neighbours (``training/train_classifier.py --context``; the
manifest's ``context_tokens``) reads each passage as ``[CLS] end of the passage before [SEP]
passage [SEP] start of the passage after [SEP]`` (:func:`context_input`), and its graph has a
third input, ``pool_mask``: the embedding is the mean over the passage's own tokens, so the
neighbours are read but the vector stays the passage's.

Run-time needs: onnxruntime, tokenizers and numpy. No torch.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from tokenizers import Tokenizer

from forewarn.detect.artifacts import StaticModelError, read_verified
from forewarn.detect.int8_form import signed_weights, weights_form

__all__ = ["DEFAULT_ENCODER_DIR", "SentenceEncoder", "context_input", "encoder_threads"]

DEFAULT_ENCODER_DIR = Path(__file__).resolve().parent.parent / "data" / "encoder"


def encoder_threads() -> int:
    """Threads for one encoder (each runs one text at a time): ``FOREWARN_THREADS`` if set,
    else the usable cores (max 8)."""
    value = os.environ.get("FOREWARN_THREADS", "").strip()
    if value.isascii() and value.isdecimal() and int(value) > 0:
        return int(value)
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(8, cores))


def context_input(tokenizer: Any, passage: str, before: str, after: str, n: int,
                  max_tokens: int = 256) -> tuple[list[int], int, int]:
    """One passage with its neighbours as a model trained with ``--context n`` reads it:
    ``[CLS] before [SEP] passage [SEP] after [SEP]``, the last ``n`` tokens of the passage
    before and the first ``n`` of the one after (none past a chapter's or a work's end), and
    the span of the passage's own tokens, its closing [SEP] included, over which the
    embedding is pooled. The passage gives way to the neighbours when the whole would pass
    ``max_tokens``. ``tokenizer``: a ``tokenizers.Tokenizer`` (truncating at ``max_tokens``,
    as in training). Training (``training/train_classifier.py``) calls this same function."""
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    b = tokenizer.encode(before, add_special_tokens=False).ids[-n:] if before and n else []
    a = tokenizer.encode(after, add_special_tokens=False).ids[:n] if after and n else []
    room = max_tokens - len(b) - len(a) - 4
    own = tokenizer.encode(passage, add_special_tokens=False).ids[:room]
    seq = [cls_id, *b, sep_id, *own, sep_id, *a, sep_id]
    start = len(b) + 2
    return seq, start, start + len(own) + 1


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
        # Each text is one call on one thread, and the texts are spread over ``threads``
        # workers: on a 2-core machine 1.5x the throughput of one call at a time on two
        # intra-op threads (measured: 199 against 129 passages a second), and the same
        # vectors, since no call is split.
        self.workers = max(1, threads or encoder_threads())
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # the verified graph in the weight form this CPU multiplies exactly and fastest
        # (forewarn.detect.int8_form: int8 where it has VNNI or AMX, else uint8 as stored)
        self.weights_form = weights_form()
        if self.weights_form == "signed":
            model = signed_weights(model)
        self._session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        self.dim = int(self.manifest.get("dims", 384))
        self._max_chars = self.max_tokens * 8  # never tokenise a whole chapter to keep 256
        # tokens read from each neighbouring passage (0: passages are read alone)
        self.context_tokens = int(self.manifest.get("context_tokens", 0))
        inputs = {i.name for i in self._session.get_inputs()}
        if bool(self.context_tokens) != ("pool_mask" in inputs):
            raise StaticModelError(f"{self.model_dir}: the manifest's context_tokens and the "
                                   "graph's inputs disagree; rebuild it with "
                                   "training/export_classifier.py")
        # Optional text -> vector memo (off by default): the evaluation harness turns it on
        # so that a passage it embeds for training is not encoded again when it is scanned.
        # A model that reads neighbours memoises by (before, text, after).
        self.memo: dict[Any, np.ndarray] | None = None

    @property
    def sha256(self) -> str:
        return str(self.manifest["files"]["model.onnx"]["sha256"])

    def encode(self, texts: Sequence[str], before: Sequence[str] | None = None,
               after: Sequence[str] | None = None, *,
               token_ids: Sequence[Sequence[int] | None] | None = None) -> np.ndarray:
        """Embed ``texts``; an empty or whitespace-only text gets a zero row. ``before`` and
        ``after``: each text's neighbouring passages ("" for none), read by a model trained
        with them and ignored by one that reads passages alone; not given, every text is
        read without neighbours. ``token_ids``: for a model that reads passages alone, each
        text's ids as this encoder's tokenizer gives them (:meth:`pieces`), or None where
        the text is to be tokenised here."""
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of texts, not a single str")
        n = len(texts)
        context = bool(self.context_tokens)
        prev: list[str] = [""] * n if before is None or not context else list(before)
        nxt: list[str] = [""] * n if after is None or not context else list(after)
        if len(prev) != n or len(nxt) != n:
            raise ValueError("before and after need one neighbour text per text")
        out = np.zeros((n, self.dim), dtype=np.float32)
        memo = self.memo
        live, keys = [], []
        for i, text in enumerate(texts):
            key: Any = (prev[i], text, nxt[i]) if context else text
            if memo is not None and key in memo:
                out[i] = memo[key]
            elif text.strip():
                live.append(i)
                keys.append(key)
        if not live:
            return out
        cut = self._max_chars
        if context:
            feeds_of = [self._context_feeds(texts[i][:cut], prev[i][:cut], nxt[i][:cut])
                        for i in live]
        else:
            known: list[Sequence[int] | None] = (
                [None] * n if token_ids is None else list(token_ids))
            if len(known) != n:
                raise ValueError("token_ids needs one entry per text")
            todo = [i for i in live if known[i] is None]
            for i, enc in zip(todo, self._tokenizer.encode_batch([texts[i][:cut] for i in todo]),
                              strict=True):
                known[i] = enc.ids
            feeds_of = []
            for i in live:
                ids = np.asarray([known[i]], dtype=np.int64)
                feeds_of.append({"input_ids": ids, "attention_mask": np.ones_like(ids)})
        # One text per call. The int8 graph quantises activations with one scale per call,
        # so batching would make a passage's vector depend on its neighbours (and on their
        # padding: up to 0.035 apart, measured); one row per call is exact and repeatable.
        # The calls run on ``workers`` threads (onnxruntime releases the GIL), in a pool made
        # for this call, so that a process forked after loading never inherits dead threads.
        def run(feeds: dict[str, np.ndarray]) -> np.ndarray:
            return np.asarray(self._session.run(None, feeds)[0][0])

        workers = min(self.workers, len(live))
        if workers > 1:
            with ThreadPoolExecutor(workers, thread_name_prefix="forewarn-encoder") as pool:
                rows = list(pool.map(run, feeds_of))
        else:
            rows = [run(feeds) for feeds in feeds_of]
        for i, key, row in zip(live, keys, rows, strict=True):
            out[i] = row
            if memo is not None:
                memo[key] = out[i]
        return out

    def windows(self, texts: Sequence[str]) -> list[list[str]]:
        """Each text as the pieces the model reads whole: the text itself when it fits in
        ``max_tokens`` tokens and the characters :meth:`encode` keeps (nearly every
        passage), else consecutive pieces within both, cut at token boundaries, so that no
        token goes unread. (A passage over them is one the segmenter could not cut: a
        run of characters with no space, which the tokenizer reads as one unknown word.)
        """
        return [[piece for piece, _ in pieces] for pieces in self.pieces(texts)]

    def pieces(self, texts: Sequence[str]) -> list[list[tuple[str, list[int] | None]]]:
        """:meth:`windows`, each piece with the token ids :meth:`encode` would feed for it
        (``token_ids``), so that a scan tokenises each passage once; None for a piece cut
        out of a longer text, which :meth:`encode` tokenises itself."""
        out: list[list[tuple[str, list[int] | None]]] = [[(t, None)] for t in texts]
        room, cut = self.max_tokens - 2, self._max_chars  # [CLS] and [SEP] take two
        todo = [i for i, t in enumerate(texts) if t.strip()]
        for i, enc in zip(todo, self._tokenizer.encode_batch([texts[i] for i in todo]),
                          strict=True):
            text = texts[i]
            if len(text) <= room:  # fewer characters than room: fits, and no overflow
                out[i] = [(text, enc.ids)]
                continue
            spans = [o for part in (enc, *enc.overflowing)
                     for o, special in zip(part.offsets, part.special_tokens_mask, strict=True)
                     if not special]
            if len(spans) <= room and len(text) <= cut:
                out[i] = [(text, enc.ids)]
                continue
            pieces: list[str] = []
            first, last, count = 0, 0, 0
            for s, e in spans:
                if count and (count == room or e - first > cut):
                    pieces.append(text[first:last])
                    count = 0
                if not count:
                    first = s
                count, last = count + 1, e
            if count:
                pieces.append(text[first:last])
            out[i] = [(piece, None) for piece in pieces] or [(text, None)]
        return out

    def _context_feeds(self, text: str, before: str, after: str) -> dict[str, np.ndarray]:
        seq, start, stop = context_input(self._tokenizer, text, before, after,
                                         self.context_tokens, self.max_tokens)
        ids = np.asarray([seq], dtype=np.int64)
        pool = np.zeros_like(ids)
        pool[0, start:stop] = 1
        return {"input_ids": ids, "attention_mask": np.ones_like(ids), "pool_mask": pool}
