"""The ONNX encoder, the cascade that decides where it runs, and the score calibration."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from forewarn.aggregate import Calibration, calibration
from forewarn.detect.artifacts import ModelIntegrityError
from forewarn.detect.cascade import CascadeDetector
from forewarn.detect.encoder import DEFAULT_ENCODER_DIR, SentenceEncoder
from forewarn.detect.lexicon import LexiconDetector
from forewarn.eval.common import text_work
from forewarn.scanner import Scanner, default_detectors
from forewarn.segment import segment

LOSS = ("At the twelve-week scan the sonographer went quiet and moved the wand again and "
        "again. Then she put it down and said she was so sorry, there was no heartbeat.")
BLAND = ("The bus was late again, so they shared an umbrella at the stop and argued "
         "cheerfully about which film to see on Saturday.")


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return SentenceEncoder(threads=1)


def test_encoder_gives_unit_vectors_and_zero_for_blank(encoder: SentenceEncoder) -> None:
    vectors = encoder.encode([LOSS, "   ", BLAND])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors[[0, 2]], axis=1), 1.0, atol=1e-3)
    assert not vectors[1].any()
    with pytest.raises(TypeError):
        encoder.encode(LOSS)  # type: ignore[arg-type]


def test_encoder_vector_does_not_depend_on_its_neighbours(encoder: SentenceEncoder) -> None:
    alone = encoder.encode([LOSS])[0]
    with_others = encoder.encode([BLAND * 5, LOSS, "Hi."])[1]
    assert np.array_equal(alone, with_others)


def test_encoder_puts_paraphrases_together(encoder: SentenceEncoder) -> None:
    a, b, c = encoder.encode([
        "He punched the stranger hard in the face.",
        "The man struck someone with his fist.",
        "She watered the tomatoes in the garden.",
    ])
    assert float(a @ b) > float(a @ c)


def test_encoder_refuses_a_modified_model(tmp_path: Path) -> None:
    copy = tmp_path / "encoder"
    shutil.copytree(DEFAULT_ENCODER_DIR, copy)
    data = bytearray((copy / "model.onnx").read_bytes())
    data[-10] ^= 0xFF
    (copy / "model.onnx").write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="encoder file .*model.onnx.*export_encoder"):
        SentenceEncoder(copy)


def test_manifest_records_agreement_with_the_source_model() -> None:
    manifest = json.loads((DEFAULT_ENCODER_DIR / "manifest.json").read_text("utf-8"))
    assert manifest["agreement"]["int8_min_cosine"] >= 0.98
    assert manifest["max_tokens"] == 256


def test_engine_v1_is_lexicon_then_cascade_and_v2_lexicon_then_classifier() -> None:
    names = [type(d).__name__ for d in default_detectors("v1")]
    assert names == ["LexiconDetector", "CascadeDetector"]
    names = [type(d).__name__ for d in default_detectors("v2")]
    assert names == ["LexiconDetector", "ClassifierDetector"]


def test_lexicon_cue_sends_a_passage_to_the_encoder() -> None:
    passages = segment(text_work(f"{BLAND}\n\n{BLAND}\n\nHe stabbed him in the gut."))
    cascade = CascadeDetector()
    without = cascade.gate(passages)
    hints = LexiconDetector().detect(passages)
    assert hints, "the lexicon should find the stabbing"
    with_hints = cascade.gate(passages, hints)
    hinted = {h.passage for h in hints}
    for i, passage in enumerate(passages):
        assert with_hints[i] == (without[i] or passage.index in hinted)
    assert with_hints.sum() >= without.sum()


def test_bland_text_never_reaches_the_encoder() -> None:
    cascade = CascadeDetector()
    passages = segment(text_work("\n\n".join([BLAND] * 6)))
    assert cascade.detect(passages) == []
    assert cascade.last_total == len(passages) and cascade.last_gated == 0


def test_cascade_hits_are_a_subset_of_the_full_encoder() -> None:
    text = "\n\n".join([BLAND * 4, LOSS * 2, BLAND * 4, "He hit her across the face. " * 6])
    passages = segment(text_work(text))
    assert len(passages) >= 3
    hints = LexiconDetector().detect(passages)
    gated = {(h.passage, h.warning, round(h.score, 4))
             for h in CascadeDetector().detect(passages, hints)}
    full_detector = CascadeDetector(full=True)
    full = {(h.passage, h.warning, round(h.score, 4))
            for h in full_detector.detect(passages, hints)}
    assert gated <= full
    assert full_detector.last_gated == len(passages)
    assert any(w == "miscarriage" for _, w, _ in full)


def test_calibration_is_monotone_in_each_detector() -> None:
    cal = calibration()
    assert cal.calibrated("violence") and not cal.calibrated("miscarriage")
    grid = np.linspace(0.0, 1.0, 11)
    for warning in ("violence", "death", "miscarriage"):
        for other in (0.0, 0.5, 0.9):
            by_lexicon = [cal(warning, x, other) for x in grid]
            by_model = [cal(warning, other, x) for x in grid]
            assert all(b >= a - 1e-12 for a, b in itertools.pairwise(by_lexicon))
            assert all(b >= a - 1e-12 for a, b in itertools.pairwise(by_model))


def test_calibration_formula_by_hand() -> None:
    cal = Calibration({"violence": -1.0}, b1=2.0, b2=1.0, b3=0.5)
    # z = -1 + 2*0.5 + 1*0.4 + 0.5*0.5*0.4 = 0.5
    assert cal("violence", 0.5, 0.4) == pytest.approx(1 / (1 + np.exp(-0.5)))
    assert cal("violence", 0.0, 0.0) == pytest.approx(1 / (1 + np.e))
    # uncalibrated warnings: noisy-or of the lexicon and the model
    assert cal("miscarriage", 0.6, 0.8) == pytest.approx(1 - 0.4 * 0.2)
    assert cal("miscarriage", 0.6, 0.0) == 0.6
    assert cal("miscarriage", 0.0, 0.8) == pytest.approx(0.8)


def test_scan_reports_the_cascade_version() -> None:
    versions = Scanner(engine="v1").versions
    assert versions["embedding"].count("+") == 3


def test_budget_bounds_the_words_the_encoder_reads() -> None:
    violent = "He punched him and kicked him and stabbed him, and the blood ran. " * 6
    text = "\n\n".join([violent, BLAND * 4] * 8)
    passages = segment(text_work(text))
    hints = LexiconDetector().detect(passages)
    pointed = CascadeDetector(budget_min_words=10**6).gate(passages, hints)
    assert pointed.sum() >= 8
    tight = CascadeDetector(budget_min_words=150, budget_fraction=0.0).gate(passages, hints)
    words = sum(len(p.text.split()) for p, chosen in zip(passages, tight, strict=False) if chosen)
    assert 0 < tight.sum() < pointed.sum()
    assert words <= 150 or tight.sum() == 1  # the first pick is always read
    assert not (tight & ~pointed).any()  # the budget only drops passages, never adds


def test_environment_chooses_thoroughness(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOREWARN_ENCODER", "all")
    assert CascadeDetector().full
    monkeypatch.setenv("FOREWARN_ENCODER", "5000")
    detector = CascadeDetector()
    assert not detector.full and detector.budget_min_words == 5000
    monkeypatch.setenv("FOREWARN_ENCODER", "nonsense")
    assert CascadeDetector().budget_min_words == 600
    assert CascadeDetector(full=True, budget_min_words=7).budget_min_words == 7


def test_detect_says_which_passages_the_encoder_read() -> None:
    text = "\n\n".join([BLAND * 4, "He stabbed him twice and kicked him in the ribs. " * 6,
                        BLAND * 4])
    passages = segment(text_work(text))
    hints = LexiconDetector().detect(passages)
    cascade = CascadeDetector()
    hits = cascade.detect(passages, hints)
    chosen = cascade.gate(passages, hints)
    assert hits.read == frozenset(p.index for p, c in zip(passages, chosen, strict=True) if c)
    assert {h.passage for h in hits} <= hits.read
    assert len(hits.read) == cascade.last_gated


def test_lexicon_alone_is_calibrated_as_unread() -> None:
    cal = calibration()
    # where the encoder read a passage and stayed silent, that is evidence against;
    # where it never read it, the lexicon-only form applies
    assert cal("violence", 0.9, 0.0, read=False) != cal("violence", 0.9, 0.0, read=True)
    assert cal("miscarriage", 0.9, 0.0, read=False) == cal("miscarriage", 0.9, 0.0) == 0.9


def test_the_version_says_how_much_the_encoder_reads_when_not_the_default(monkeypatch) -> None:
    # FOREWARN_ENCODER=all finds more, yet a results store took it for the same model and
    # skipped every work (review 19, finding 7)
    default = Scanner(engine="v1").versions["embedding"]
    monkeypatch.setenv("FOREWARN_ENCODER", "all")
    assert Scanner(engine="v1").versions["embedding"] == f"{default}@encoder-all"
    monkeypatch.setenv("FOREWARN_ENCODER", "2000")
    assert Scanner(engine="v1").versions["embedding"] == f"{default}@encoder-2000"
