"""Tests for the embedding detector (static embeddings + per-warning heads)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from forewarn.detect import embedding
from forewarn.detect.artifacts import ModelIntegrityError
from forewarn.detect.embedding import DEFAULT_HEADS_PATH, EmbeddingDetector, load_heads
from forewarn.work import Hit, Passage

# Written for these tests (not taken from the training seeds).
VIOLENT = (
    "Marco caught the man by the throat and slammed him against the van, then punched "
    "him again and again until his knees buckled, and kicked him as he lay on the "
    "pavement."
)
SELF_HARM = (
    "Alone in the locked bathroom she rolled up her sleeve, took the razor blade from "
    "its hiding place in the soap dish and drew it across her forearm, beside the older "
    "scars, and pulled her cuff back down before dinner."
)
BLAND = (
    "On Saturday morning they walked to the farmers' market, bought apples and a loaf "
    "of sourdough, and sat by the fountain in the sunshine reading the newspaper."
)


def _passage(index: int, text: str, start: int = 0) -> Passage:
    return Passage(
        index=index,
        chapter=1,
        paragraph=index,
        start=start,
        end=start + len(text),
        text=text,
        chapter_position=0.0,
    )


@pytest.fixture(scope="module")
def detector() -> EmbeddingDetector:
    return EmbeddingDetector()


def test_constructor_does_no_work(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    det = EmbeddingDetector(model_dir=missing, heads_path=missing / "heads.npz")
    assert det.name == "embedding"
    with pytest.raises(Exception, match="nowhere"):
        det.detect([_passage(0, BLAND)])


def test_model_is_loaded_once_per_process(detector: EmbeddingDetector) -> None:
    detector.warning_ids  # noqa: B018  (forces the load)
    size = len(embedding._CACHE)
    other = EmbeddingDetector()
    assert other._model() is detector._model()
    assert len(embedding._CACHE) == size


def test_warning_ids_and_thresholds(detector: EmbeddingDetector) -> None:
    ids = detector.warning_ids
    assert len(ids) == len(set(ids)) == 39
    assert {"violence", "self-harm", "miscarriage", "sexual-content", "war"} <= set(ids)
    thresholds = detector.thresholds
    assert set(thresholds) == set(ids)
    assert all(0.0 < t < 1.0 for t in thresholds.values())


def test_clear_violence_passage_is_flagged(detector: EmbeddingDetector) -> None:
    passage = _passage(3, VIOLENT, start=120)
    hits = detector.detect([passage])
    violence = [h for h in hits if h.warning == "violence"]
    assert len(violence) == 1
    hit = violence[0]
    assert isinstance(hit, Hit)
    assert (hit.passage, hit.chapter, hit.paragraph) == (3, 1, 3)
    assert (hit.start, hit.end) == (passage.start, passage.end)
    assert hit.reason == "embedding:violence"
    assert hit.detector == "embedding"
    assert hit.severity is None
    assert detector.thresholds["violence"] <= hit.score <= 1.0


def test_clear_self_harm_passage_is_flagged(detector: EmbeddingDetector) -> None:
    hits = detector.detect([_passage(0, SELF_HARM)])
    assert "self-harm" in {h.warning for h in hits}


def test_bland_passage_stays_below_every_threshold(detector: EmbeddingDetector) -> None:
    scores = detector.scores([_passage(0, BLAND)])[0]
    thresholds = np.array([detector.thresholds[w] for w in detector.warning_ids])
    assert (scores < thresholds).all()
    assert detector.detect([_passage(0, BLAND)]) == []


def test_scores_shape_range_and_determinism(detector: EmbeddingDetector) -> None:
    passages = [_passage(i, t) for i, t in enumerate([VIOLENT, SELF_HARM, BLAND, ""])]
    first = detector.scores(passages)
    assert first.shape == (4, len(detector.warning_ids))
    assert first.dtype == np.float32
    assert ((first >= 0) & (first <= 1)).all()
    assert not first[3].any()  # empty text: no evidence, no score
    np.testing.assert_array_equal(first, detector.scores(passages))
    np.testing.assert_array_equal(first, EmbeddingDetector().scores(passages))
    # a passage scores the same alone as in a batch
    np.testing.assert_allclose(first[1], detector.scores(passages[1:2])[0], atol=1e-5)


def test_hits_follow_passage_order(detector: EmbeddingDetector) -> None:
    passages = [_passage(0, BLAND), _passage(1, VIOLENT), _passage(2, SELF_HARM)]
    hits = detector.detect(passages)
    assert [h.passage for h in hits] == sorted(h.passage for h in hits)
    assert 0 not in {h.passage for h in hits}
    assert detector.detect([]) == []


def test_tampered_heads_fail_the_hash_check(tmp_path: Path) -> None:
    target = tmp_path / "heads.npz"
    shutil.copy(DEFAULT_HEADS_PATH, target)
    shutil.copy(DEFAULT_HEADS_PATH.with_suffix(".json"), tmp_path / "heads.json")
    load_heads(target)
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError):
        load_heads(target)


def test_warning_ids_match_the_taxonomy(detector: EmbeddingDetector) -> None:
    from forewarn.taxonomy import load_taxonomy

    assert set(detector.warning_ids) == set(load_taxonomy().ids)
