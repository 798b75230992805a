"""The one sha256 check every model loader runs: shipped files pass, altered ones are refused."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from forewarn.detect.artifacts import (
    ModelIntegrityError,
    StaticModelError,
    read_verified,
    verify_sha256,
)
from forewarn.detect.embedding import DEFAULT_HEADS_PATH, load_heads
from forewarn.detect.static_model import DEFAULT_MODEL_DIR, StaticEmbedder

DATA = Path(DEFAULT_MODEL_DIR).parent


def _shipped() -> list[tuple[Path, str]]:
    """Every shipped model file with the sha256 recorded for it."""
    out = []
    for folder in ("static", "encoder", "classifier"):
        manifest = json.loads((DATA / folder / "manifest.json").read_text(encoding="utf-8"))
        out += [(DATA / folder / name, info["sha256"]) for name, info in manifest["files"].items()]
    for heads in ("heads", "encoder-heads"):
        meta = json.loads((DATA / f"{heads}.json").read_text(encoding="utf-8"))
        out.append((DATA / f"{heads}.npz", meta["heads_npz_sha256"]))
    return out


@pytest.mark.parametrize("path, expected", _shipped(), ids=lambda v: getattr(v, "name", ""))
def test_every_shipped_model_file_passes(path: Path, expected: str) -> None:
    assert verify_sha256(path, expected) == path.read_bytes()


def test_a_tampered_file_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "weights.bin"
    path.write_bytes(b"the weights as shipped")
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    assert verify_sha256(path, expected) == b"the weights as shipped"
    path.write_bytes(b"the weights, altered")
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(ModelIntegrityError) as info:
        verify_sha256(path, expected, what="test model file", recorded_in="manifest",
                      remedy="rebuild it with make_weights.py")
    assert str(info.value) == (
        f"test model file {path} fails its integrity check: sha256 {actual}, manifest says "
        f"{expected}. The file is corrupt or was modified; reinstall forewarn or rebuild it "
        "with make_weights.py."
    )
    assert isinstance(info.value, StaticModelError)


def test_bytes_already_read_are_checked_without_reading_again(tmp_path: Path) -> None:
    missing = tmp_path / "not-there.bin"
    good = hashlib.sha256(b"abc").hexdigest()
    assert verify_sha256(missing, good, data=b"abc") == b"abc"
    with pytest.raises(ModelIntegrityError, match="not-there.bin"):
        verify_sha256(missing, good, data=b"abd")


def test_an_unreadable_file_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(StaticModelError, match=r"cannot read model file .*gone\.bin") as info:
        verify_sha256(tmp_path / "gone.bin", "0" * 64)
    assert not isinstance(info.value, ModelIntegrityError)


def test_read_verified_needs_the_manifest_entry(tmp_path: Path) -> None:
    (tmp_path / "a.bin").write_bytes(b"x")
    manifest = {"files": {"a.bin": {"sha256": hashlib.sha256(b"x").hexdigest()}}}
    assert read_verified(tmp_path, "a.bin", manifest, "test", "build.py") == b"x"
    with pytest.raises(StaticModelError, match="has no sha256 for b.bin"):
        read_verified(tmp_path, "b.bin", manifest, "test", "build.py")
    (tmp_path / "a.bin").write_bytes(b"y")
    with pytest.raises(ModelIntegrityError, match=r"test file .*a\.bin .*rebuild it with build\.py"):
        read_verified(tmp_path, "a.bin", manifest, "test", "build.py")


def test_the_loaders_refuse_a_tampered_copy(tmp_path: Path) -> None:
    # a manifest loader (the static model) and the heads loader go through the same check
    static = tmp_path / "static"
    shutil.copytree(DEFAULT_MODEL_DIR, static)
    data = bytearray((static / "tokenizer.json").read_bytes())
    data[100] ^= 0x01
    (static / "tokenizer.json").write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError,
                       match=r"static model file .*tokenizer\.json fails its integrity check"):
        StaticEmbedder(static)

    heads = tmp_path / "heads.npz"
    shutil.copy(DEFAULT_HEADS_PATH, heads)
    shutil.copy(DEFAULT_HEADS_PATH.with_suffix(".json"), tmp_path / "heads.json")
    data = bytearray(heads.read_bytes())
    data[len(data) // 2] ^= 0x01
    heads.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match=r"embedding heads file .*heads\.npz fails its "
                       r"integrity check: .*heads\.json says .*train_heads\.py"):
        load_heads(heads)
