"""Detection v2: the classifier's calibrated probability is the passage score; the lexicon
grades and explains but never raises a warning alone; the shipped model is hash-checked."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from forewarn.aggregate import aggregate
from forewarn.detect.classifier import (
    DEFAULT_CLASSIFIER_DIR,
    HIT_FLOOR,
    PassageClassifier,
    available,
    calibrate,
    severity_of,
)
from forewarn.detect.static_model import ModelIntegrityError
from forewarn.ingest import read_text
from forewarn.segment import segment
from forewarn.taxonomy import load_taxonomy
from forewarn.work import Hit

STORY = ("The harbour was grey in the morning and the gulls stood on the wall.\n\n"
         "By noon the boat had not come back, and by evening they knew it never would.\n")


def hit(detector: str, warning: str, passage, score: float, severity: str | None = None):
    return Hit(warning, passage.index, passage.chapter, passage.paragraph, passage.start,
               passage.end, score, f"{detector}:{warning}", detector, severity)


@pytest.fixture
def work_and_passages():
    work = read_text(STORY)
    return work, segment(work)


def test_a_lexicon_hit_alone_never_raises_a_warning_in_v2(work_and_passages) -> None:
    work, passages = work_and_passages
    p = passages[0]
    hits = [hit("lexicon", "death", p, 0.95, "mentioned"),
            hit("classifier", "death", p, 0.25, "depicted")]
    assert aggregate(work, passages, hits, load_taxonomy()) == []
    # v1 (no classifier hits): the same lexicon hit is evidence on its own
    assert [w.id for w in aggregate(work, passages, hits[:1], load_taxonomy())] == ["death"]


def test_the_classifier_probability_is_the_passage_score_and_the_lexicon_grades_it(
        work_and_passages) -> None:
    work, passages = work_and_passages
    p = passages[0]
    hits = [hit("classifier", "death", p, 0.8, "depicted"),
            hit("lexicon", "death", p, 0.3, "mentioned")]
    (w,) = aggregate(work, passages, hits, load_taxonomy())
    assert w.confidence == pytest.approx(0.8)
    assert w.severity == "mentioned"  # the lexicon's severity cue wins over the model's
    assert set(w.detectors) == {"classifier", "lexicon"}


def test_calibration_and_severity_helpers() -> None:
    logits = np.array([[0.0, 2.0], [-1.0, 1.0]], dtype=np.float32)
    a = np.array([1.0, 0.5], dtype=np.float32)
    b = np.array([0.0, -1.0], dtype=np.float32)
    got = calibrate(logits, a, b)
    assert got[0, 0] == pytest.approx(0.5)
    assert got[0, 1] == pytest.approx(1 / (1 + np.exp(-(0.5 * 2.0 - 1.0))))
    assert severity_of(np.array([1.0, 1.0])) == "graphic"
    assert severity_of(np.array([1.0, -1.0])) == "depicted"
    assert severity_of(np.array([-1.0, 2.0])) == "mentioned"


needs_model = pytest.mark.skipif(not available(), reason="no v2 classifier shipped yet")


@needs_model
def test_the_shipped_classifier_reads_every_passage_and_scores_every_warning() -> None:
    clf = PassageClassifier()
    probs, severity = clf.scores(["The kettle sang on the stove.",
                                  "He put the barrel in his mouth and pulled the trigger.", ""])
    assert probs.shape == (3, len(load_taxonomy().warnings)) and severity.shape == (3, 2)
    assert probs[2].max() == 0.0  # an empty passage scores nothing
    assert ((probs >= 0) & (probs <= 1)).all() and HIT_FLOOR > 0


@needs_model
def test_a_modified_classifier_file_fails_its_integrity_check(tmp_path: Path) -> None:
    copy = tmp_path / "classifier"
    shutil.copytree(DEFAULT_CLASSIFIER_DIR, copy)
    data = bytearray((copy / "heads.npz").read_bytes())
    data[-10] ^= 0xFF
    (copy / "heads.npz").write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError):
        PassageClassifier(copy)


@pytest.mark.skipif(available(), reason="a v2 classifier is installed")
def test_asking_for_v2_without_the_model_is_one_clear_line(monkeypatch, capsys) -> None:
    from forewarn.cli import main

    monkeypatch.setenv("FOREWARN_ENGINE", "v2")
    code = main(["scan", "examples/the-lighthouse-keeper.txt"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "detection v2 is not part" in err
