"""Tests for the static sentence-embedding model (numpy + tokenizers only)."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from forewarn.detect.artifacts import ModelIntegrityError, StaticModelError
from forewarn.detect.static_model import DEFAULT_MODEL_DIR, StaticEmbedder


@pytest.fixture(scope="module")
def embedder() -> StaticEmbedder:
    return StaticEmbedder()


def _copy_model(tmp_path: Path) -> Path:
    target = tmp_path / "static"
    shutil.copytree(DEFAULT_MODEL_DIR, target)
    return target


def _flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_manifest_describes_the_files() -> None:
    manifest = json.loads((DEFAULT_MODEL_DIR / "manifest.json").read_text())
    assert manifest["source_model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert manifest["dims"] == 256
    assert set(manifest["files"]) == {"tokenizer.json", "embeddings.npy"}
    for name, info in manifest["files"].items():
        assert (DEFAULT_MODEL_DIR / name).stat().st_size == info["bytes"]


def test_tampered_embeddings_fail_the_hash_check(tmp_path: Path) -> None:
    model_dir = _copy_model(tmp_path)
    StaticEmbedder(model_dir)  # the intact copy loads
    _flip_byte(model_dir / "embeddings.npy", 5000)
    with pytest.raises(ModelIntegrityError, match="embeddings.npy"):
        StaticEmbedder(model_dir)


def test_tampered_tokenizer_fails_the_hash_check(tmp_path: Path) -> None:
    model_dir = _copy_model(tmp_path)
    _flip_byte(model_dir / "tokenizer.json", 100)
    with pytest.raises(ModelIntegrityError, match="tokenizer.json"):
        StaticEmbedder(model_dir)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    model_dir = _copy_model(tmp_path)
    (model_dir / "tokenizer.json").unlink()
    with pytest.raises(StaticModelError, match="tokenizer.json"):
        StaticEmbedder(model_dir)


def test_encode_shape_dtype_and_normalisation(embedder: StaticEmbedder) -> None:
    texts = ["The rain fell all night.", "A short one.", "", "   "]
    vectors = embedder.encode(texts)
    assert vectors.shape == (4, embedder.dim) == (4, 256)
    assert vectors.dtype == np.float32
    norms = np.linalg.norm(vectors, axis=1)
    np.testing.assert_allclose(norms[:2], 1.0, atol=1e-5)
    assert not vectors[2:].any()  # no tokens, zero vector
    assert embedder.encode([]).shape == (0, 256)


def test_encode_rejects_a_bare_string(embedder: StaticEmbedder) -> None:
    with pytest.raises(TypeError):
        embedder.encode("not a list")


def test_encode_is_deterministic_and_batch_independent(embedder: StaticEmbedder) -> None:
    texts = ["She opened the window.", "The train was late again.", "He laughed."]
    together = embedder.encode(texts)
    alone = np.vstack([embedder.encode([t]) for t in texts])
    np.testing.assert_array_equal(together, embedder.encode(texts))
    np.testing.assert_allclose(together, alone, atol=1e-6)


def test_similar_sentences_are_closer_than_unrelated(embedder: StaticEmbedder) -> None:
    a, b, c = embedder.encode(
        [
            "The soldiers shelled the town and the army advanced at dawn.",
            "Troops bombarded the village before the infantry attack.",
            "She baked a lemon cake and iced it for her sister's birthday.",
        ]
    )
    assert float(a @ b) > float(a @ c) + 0.1
    d, e = embedder.encode(
        ["He bought a loaf of bread and some cheese at the bakery.", "The bakery sold bread."]
    )
    assert float(d @ e) > float(d @ a)


def test_no_padding_to_a_fixed_length(embedder: StaticEmbedder) -> None:
    short, longer = embedder.tokenize(["Hello there.", "word " * 300])
    assert 0 < len(short) < 10  # the source MiniLM tokenizer would pad this to 128
    assert len(longer) == 300
    assert len(short) != len(longer)


def test_long_texts_are_truncated(embedder: StaticEmbedder) -> None:
    (ids,) = embedder.tokenize(["blood " * 5000])
    assert len(ids) == embedder.max_tokens == 512
    capped = StaticEmbedder(max_tokens=16)
    (few,) = capped.tokenize(["blood " * 100])
    assert len(few) == 16


def test_loads_quickly() -> None:
    start = time.perf_counter()
    StaticEmbedder()
    # typically well under 0.1 s; generous bound so a busy CI machine does not flake
    assert time.perf_counter() - start < 1.5
