"""Static sentence embeddings: a token-vector table distilled from all-MiniLM-L6-v2.

The model (built by ``training/build_static_model.py`` with model2vec) is two files in
``forewarn/data/static/``: a WordPiece ``tokenizer.json`` and an ``embeddings.npy`` matrix
with one float16 vector per vocabulary token. A text's embedding is the L2-normalised mean
of its tokens' vectors, exactly what model2vec's ``StaticModel.encode`` computes (up to
model2vec's float16 output rounding), but with only numpy and ``tokenizers`` at run time.

``manifest.json`` beside them records each file's sha256; :class:`StaticEmbedder` checks
both at load time (:mod:`forewarn.detect.artifacts`) and refuses to run on a modified or
corrupt copy.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tokenizers import Tokenizer

from forewarn.detect.artifacts import StaticModelError, read_verified

__all__ = ["DEFAULT_MODEL_DIR", "StaticEmbedder"]

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "data" / "static"
_REQUIRED_FILES = ("tokenizer.json", "embeddings.npy")
_REBUILD = "training/build_static_model.py"


def _load_npy(data: bytes) -> np.ndarray:
    """Parse an ``.npy`` file held in memory without copying the array data."""
    buf = io.BytesIO(data)
    version = np.lib.format.read_magic(buf)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(buf)
    else:
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(buf)
    if fortran or dtype.hasobject or len(shape) != 2:
        raise StaticModelError("embeddings.npy must be a 2-D, C-ordered numeric array")
    count = int(np.prod(shape))
    return np.frombuffer(data, dtype=dtype, count=count, offset=buf.tell()).reshape(shape)


class StaticEmbedder:
    """Embed texts with the static model: mean of token vectors, L2-normalised, float32.

    Loading (about 0.1 s) reads and hash-checks both files; :meth:`encode` needs no other
    state. ``max_tokens`` caps the tokens used per text (the start of the text is kept);
    it defaults to the manifest's ``max_tokens`` (512).
    """

    def __init__(
        self, model_dir: str | Path | None = None, *, max_tokens: int | None = None
    ) -> None:
        self.model_dir = Path(model_dir) if model_dir is not None else DEFAULT_MODEL_DIR
        manifest_path = self.model_dir / "manifest.json"
        try:
            self.manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StaticModelError(
                f"cannot read static model manifest {manifest_path}: {exc}"
            ) from exc
        raw = {
            name: read_verified(self.model_dir, name, self.manifest, "static model", _REBUILD)
            for name in _REQUIRED_FILES
        }

        self._tokenizer = Tokenizer.from_str(raw["tokenizer.json"].decode("utf-8"))
        # The saved tokenizer already has neither, but never pad (the source MiniLM
        # tokenizer pads to 128) and never let the tokenizer truncate: we do it ourselves.
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        table = _load_npy(raw["embeddings.npy"])
        if table.shape[0] != self._tokenizer.get_vocab_size():
            raise StaticModelError(
                f"embeddings.npy has {table.shape[0]} rows for a vocabulary of "
                f"{self._tokenizer.get_vocab_size()} tokens"
            )
        # float32 copy once at load: gathering float32 rows is faster than converting later.
        self._table: np.ndarray = table.astype(np.float32)
        self.max_tokens = int(max_tokens if max_tokens is not None else self.manifest["max_tokens"])
        if self.max_tokens < 1:
            raise ValueError("max_tokens must be at least 1")
        # Cut texts by characters first so a whole novel is never tokenised to keep 512 tokens
        # (the same cut model2vec makes: max tokens times the vocabulary's median token length).
        self._max_chars = self.max_tokens * int(self.manifest.get("median_token_length", 6))
        unk = self.manifest.get("unk_token_id")
        self._unk_id: int | None = int(unk) if unk is not None else None
        self._encode_batch = getattr(self._tokenizer, "encode_batch_fast", None) or (
            self._tokenizer.encode_batch
        )

    @property
    def dim(self) -> int:
        """Number of dimensions of each embedding (256)."""
        return int(self._table.shape[1])

    @property
    def vocab_size(self) -> int:
        """Number of tokens in the vocabulary."""
        return int(self._table.shape[0])

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids used for each text: no special tokens, no padding, unknowns dropped.

        At most ``max_tokens`` tokens are kept (before unknown tokens are dropped, as
        model2vec does).
        """
        if isinstance(texts, str):
            raise TypeError("tokenize() takes a sequence of texts, not a single str")
        clipped = [text[: self._max_chars] for text in texts]
        if not clipped:
            return []
        encodings = self._encode_batch(clipped, add_special_tokens=False)
        cap, unk = self.max_tokens, self._unk_id
        if unk is None:
            return [enc.ids[:cap] for enc in encodings]
        return [[i for i in enc.ids[:cap] if i != unk] for enc in encodings]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts``: a float32 array ``[len(texts), dim]`` of unit-length rows.

        A text with no known tokens (empty, whitespace only) gets a zero row.
        """
        ids = self.tokenize(texts)
        out = np.zeros((len(ids), self.dim), dtype=np.float32)
        table = self._table
        # A plain loop of gather-and-sum beats one big gather + np.add.reduceat here: it stays
        # in cache and numpy's axis-0 reduceat is slow. The mean's 1/n factor cancels in the
        # normalisation, so sums are enough.
        for row, token_ids in enumerate(ids):
            if token_ids:
                table[token_ids].sum(axis=0, out=out[row])
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms + np.float32(1e-32), out=out)
        return out
