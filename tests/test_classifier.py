"""Detection v2: the classifier's calibrated probability is the passage score; the lexicon
grades and explains but never raises a warning alone; the shipped model is hash-checked."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from forewarn.aggregate import WorkModel, aggregate
from forewarn.combine import WorkAggregator
from forewarn.detect.artifacts import ModelIntegrityError
from forewarn.detect.classifier import (
    DEFAULT_CLASSIFIER_DIR,
    PassageClassifier,
    available,
)
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


def test_the_classifier_probability_is_the_passage_score_and_grades_it(
        work_and_passages) -> None:
    work, passages = work_and_passages
    p = passages[0]
    hits = [hit("classifier", "death", p, 0.8, "depicted"),
            hit("lexicon", "death", p, 0.3, "mentioned")]
    (w,) = aggregate(work, passages, hits, load_taxonomy())
    assert w.confidence == pytest.approx(0.8)
    assert w.severity == "depicted"  # learnt per warning; the lexicon's cue only explains
    assert set(w.detectors) == {"classifier", "lexicon"}


def test_evidence_covers_the_classifiers_passage_not_only_the_lexicons_phrase(
        work_and_passages) -> None:
    """A reading copy collapses the paragraphs evidence touches: a passage flagged by the
    classifier must not shrink to the one phrase the lexicon matched in it (a story that
    names what it shows would hide less of it)."""
    work, passages = work_and_passages
    p = passages[0]
    phrase = Hit("death", p.index, p.chapter, p.paragraph, p.end - 12, p.end - 2, 0.9,
                 "lexicon:death", "lexicon", "mentioned")
    hits = [phrase, hit("classifier", "death", p, 0.8, "depicted")]
    (w,) = aggregate(work, passages, hits, load_taxonomy())
    (ev,) = w.evidence
    assert (ev.start, ev.end) == (p.start, p.end)
    # v1, the lexicon alone: its phrase is the evidence
    (w,) = aggregate(work, passages, [phrase], load_taxonomy())
    assert (w.evidence[0].start, w.evidence[0].end) == (p.end - 12, p.end - 2)


def test_with_a_work_model_confidence_is_the_fitted_aggregator_and_evidence_its_point(
        ) -> None:
    work = read_text("\n\n".join(
        " ".join(f"Line {k} of part {part}: the gulls stood on the harbour wall." for k in range(12))
        for part in range(4)))
    passages = segment(work)
    first, second = passages[0], passages[-1]
    model = WorkModel(WorkAggregator((1.0, 0.5, 0.0), -0.5), {"death": 0.6})
    hits = [hit("classifier", "death", first, 0.7, "mentioned"),
            hit("classifier", "death", second, 0.4, "graphic"),
            hit("lexicon", "death", second, 0.9, "graphic")]
    (w,) = aggregate(work, passages, hits, load_taxonomy(), work_model=model)
    assert w.confidence == pytest.approx(model.aggregator([0.7, 0.4]), abs=1e-4)
    # evidence: the passage at or above death's operating point, not the one below it
    assert len(w.evidence) == 1 and w.evidence[0].score == pytest.approx(0.7)
    assert w.severity == "mentioned"
    # below every operating point: the strongest passage is still shown as where to look
    model = WorkModel(model.aggregator, {"death": 0.95})
    (w,) = aggregate(work, passages, hits, load_taxonomy(), work_model=model)
    assert len(w.evidence) == 1 and w.evidence[0].score == pytest.approx(0.7)
    # lexicon hits alone make no warning
    assert aggregate(work, passages, hits[2:], load_taxonomy(), work_model=model) == []


needs_model = pytest.mark.skipif(not available(), reason="no v2 classifier shipped yet")


@needs_model
def test_the_shipped_classifier_reads_every_passage_and_scores_every_warning() -> None:
    clf = PassageClassifier()
    probs, severity = clf.scores(["The kettle sang on the stove.",
                                  "He put the barrel in his mouth and pulled the trigger.", ""])
    n = len(load_taxonomy().warnings)
    assert probs.shape == (3, n) and severity.shape == (3, n)
    assert set(np.unique(severity)) <= {1, 2, 3}
    assert probs[2].max() == 0.0  # an empty passage scores nothing
    assert ((probs >= 0) & (probs <= 1)).all()
    assert probs[0].min() > 0.0  # a quiet passage still has a score for every warning


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


def test_a_passage_is_read_with_its_neighbours() -> None:
    """The shipped combiner reads the neighbours' logits: a quiet passage right after a
    beating is more probably violent than the same passage alone, or after a passage that
    is not its neighbour."""
    clf = PassageClassifier()
    assert clf.reads_neighbours
    beating = ("He hit her across the face, and when she fell he kicked her in the ribs "
               "until she stopped trying to get up.")
    after = "Afterwards the kitchen was quiet. She lay where she was and watched the clock."
    j = clf.warnings.index("violence")
    alone = clf.scores([after])[0][0, j]
    next_to = clf.scores([beating, after], indices=[7, 8])[0][1, j]
    apart = clf.scores([beating, after], indices=[7, 20])[0][1, j]
    assert next_to > alone + 0.02
    assert apart == pytest.approx(alone, abs=1e-6)


def test_a_passage_with_no_neighbour_is_read_by_the_fit_without_context() -> None:
    """A line read alone has no neighbours to read: it is scored by the combiner fitted
    without the context features, not as if quiet passages surrounded it."""
    clf = PassageClassifier()
    beating = ("He hit her across the face, and when she fell he kicked her in the ribs "
               "until she stopped trying to get up.")
    j = clf.warnings.index("violence")
    alone = clf.scores([beating])[0][0, j]
    assert clf.combiner_alone is not clf.combiner
    assert alone > 0.5
    # beside a quiet passage, its context is read: a different (context) reading
    beside = clf.scores([beating, "The kettle boiled."], indices=[1, 2])[0][0, j]
    assert beside != pytest.approx(alone, abs=1e-4)


def test_the_rings_stop_at_a_chapter_break() -> None:
    """A quiet passage that opens a new chapter is not read in the light of the last
    chapter's violence; the same passage in the same chapter is."""
    from forewarn.detect.classifier import ClassifierDetector

    beating = ("He hit her across the face, and when she fell he kicked her in the ribs "
               "until she stopped trying to get up. He dragged her by the hair across the "
               "floor and slammed her head against the cupboard door, again and again, and "
               "when she screamed he punched her in the mouth so hard that she tasted "
               "blood. Then he stood over her, breathing hard, and kicked her once more "
               "in the stomach before he walked out and left the door swinging.")
    after = ("Afterwards the kitchen was quiet. She lay where she was and watched the clock "
             "on the wall above the cooker, its second hand moving in small jerks. The tap "
             "dripped into the sink. A car went by outside, and then another, and somewhere "
             "up the street a dog barked twice and stopped. She thought about the shopping "
             "list on the fridge, and the library books that were due back on Thursday, and "
             "whether the milk would last until the weekend.")
    detector = ClassifierDetector()
    j = detector.classifier.warnings.index("violence")

    def score_of_after(text: str) -> float:
        passages = segment(read_text(text))
        assert len(passages) == 2
        return float(detector.score(passages).probs[1, j])

    same = score_of_after(f"{beating}\n\n{after}\n")
    apart = score_of_after(f"Chapter 1\n\n{beating}\n\nChapter 2\n\n{after}\n")
    assert same > apart + 0.02
    assert apart == pytest.approx(float(detector.classifier.scores([after])[0][0, j]),
                                  abs=1e-6)


def test_the_version_names_the_fitted_combiner_too(tmp_path: Path) -> None:
    """A refit of the combiner alone changes what a scan reports, so it changes the version
    a report and a batch store record."""
    import json

    from forewarn.detect.classifier import ClassifierDetector

    target = tmp_path / "classifier"
    target.mkdir()
    shutil.copy(DEFAULT_CLASSIFIER_DIR / "manifest.json", target / "manifest.json")
    manifest = json.loads((target / "manifest.json").read_text())
    shipped = ClassifierDetector().version
    assert shipped.startswith(manifest["files"]["model.onnx"]["sha256"][:12] + "+")
    manifest["files"]["combiner.json"]["sha256"] = "f" * 64
    (target / "manifest.json").write_text(json.dumps(manifest))
    refit = ClassifierDetector(target).version
    assert refit != shipped and refit.split("+")[0] == shipped.split("+")[0]


def test_a_passage_longer_than_the_model_reads_at_once_is_read_to_its_end() -> None:
    """A run of characters the segmenter cannot cut (no space) must not push the rest of
    the passage past what the model reads: the passage is read in pieces and each output
    is its largest over them."""
    from forewarn.detect.classifier import PassageClassifier, available

    if not available():
        pytest.skip("the shipped classifier is not installed")
    clf = PassageClassifier()
    scene = ("Later she tied the rope to the beam in the barn and stepped off the chair "
             "because she wanted to end her life.")
    run = "fldhksakglffkllkjdfdljasdagagkjjj" * 70  # 2,310 characters, no space
    pieces = clf.encoder.windows([scene, f"It was a long day. {run}\n\n{scene}"])
    assert pieces[0] == [scene]
    assert len(pieces[1]) > 1 and pieces[1][-1].endswith("end her life.")
    _, alone = clf.logits([scene])
    _, hidden = clf.logits([f"It was a long day. {run}\n\n{scene}"])
    col = clf.warnings.index("suicide")
    assert hidden[0, col] >= alone[0, col] - 1e-4
    words = " ".join(["harbour"] * 600)  # many tokens, every piece within the limit
    assert all(len(clf.encoder._tokenizer.encode(p).ids) <= clf.encoder.max_tokens
               for p in clf.encoder.windows([words])[0])


def test_a_scan_tokenises_each_passage_once_and_reads_the_same_ids() -> None:
    """``pieces`` hands ``encode`` the ids it tokenised (the scan's one tokenisation of a
    passage); they are the ids ``encode`` makes itself, so the vectors are the same."""
    from forewarn.detect.classifier import PassageClassifier, available

    if not available():
        pytest.skip("the shipped classifier is not installed")
    enc = PassageClassifier().encoder
    texts = ["Short.", "", "   ",
             "She walked the long way home along the river, counting the gulls. " * 4,
             "word " * 400,  # more tokens than the model reads: pieces, tokenised later
             "x" * 3000]
    planned = enc.pieces(texts)
    assert [p for p, _ in planned[0]] == ["Short."]
    assert planned[1] == [("", None)] and planned[2] == [("   ", None)]
    assert len(planned[4]) > 1 and all(ids is None for _, ids in planned[4])
    flat = [p for ps in planned for p, _ in ps]
    ids = [i for ps in planned for _, i in ps]
    for text, known in zip(flat, ids, strict=True):
        if known is not None:
            assert known == enc._tokenizer.encode(text[:enc._max_chars]).ids
    assert np.array_equal(enc.encode(flat, token_ids=ids), enc.encode(flat))
    with pytest.raises(ValueError):
        enc.encode(flat, token_ids=ids[:-1])
