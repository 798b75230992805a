"""Every registered detector keeps the same contract (forewarn.detect's registry)."""

from __future__ import annotations

import pytest

from forewarn.detect import ENGINES, create, register, registered
from forewarn.ingest import read_text
from forewarn.segment import segment
from forewarn.taxonomy import load_taxonomy
from forewarn.work import Passage

STORY = (
    "Title: Contract\n\n"
    "The kettle sang and the cat slept on the windowsill all afternoon.\n\n"
    "He hit her across the face, and blood ran from her split lip onto the floor.\n\n"
    "At the funeral they read the letter he left before he hanged himself in the barn.\n\n"
    "She was pregnant, and the morning sickness kept her from the harvest.\n"
)


def _usable(key: str) -> bool:
    if key == "classifier":
        from forewarn.detect.classifier import available

        return available()
    return True


@pytest.mark.parametrize("key", registered())
def test_every_detector_keeps_the_contract(key: str) -> None:
    if not _usable(key):
        pytest.skip(f"{key}: its model is not installed")
    detector = create(key)
    assert isinstance(detector.name, str) and detector.name
    work = read_text(STORY)
    passages = segment(work)
    hits = list(detector.detect(passages))
    assert hits == list(detector.detect(passages)), "not deterministic"
    assert list(detector.detect([])) == []
    ids = {w.id for w in load_taxonomy().warnings}
    for h in hits:
        assert h.warning in ids
        assert 0.0 <= h.score <= 1.0
        assert 0 <= h.passage < len(passages)
        p = passages[h.passage]
        assert h.chapter == p.chapter
        assert p.start <= h.start <= h.end <= p.end, "a hit lies outside its passage"
        assert h.detector == detector.name
        assert h.severity in (None, "mentioned", "depicted", "graphic")


@pytest.mark.parametrize("key", registered())
def test_a_scoring_detector_scores_exactly_the_passages_it_is_given(key: str) -> None:
    """A detector with ``score`` gives a probability for every passage and warning, with no
    threshold: one row per passage given, in order, even for a passage it finds nothing in."""
    if not _usable(key):
        pytest.skip(f"{key}: its model is not installed")
    detector = create(key)
    if not hasattr(detector, "score"):
        pytest.skip(f"{key}: reports hits only")
    passages = segment(read_text(STORY))
    ids = {w.id for w in load_taxonomy().warnings}
    for given in (passages, passages[2:], passages[:1], []):
        scores = detector.score(given)
        assert scores.passages == tuple(p.index for p in given)
        assert scores.probs.shape == (len(given), len(scores.warnings))
        assert scores.severity.shape == scores.probs.shape
        assert set(scores.warnings) <= ids
        assert ((scores.probs >= 0) & (scores.probs <= 1)).all()
        assert set(scores.severity.ravel().tolist()) <= {1, 2, 3}
    # each paragraph its own passage: the quiet one still gets a row of small, not
    # missing, probabilities, far below the hanging's suicide
    paragraphs = STORY.split("\n\n")[1:]
    own = [Passage(i, 1, i, 0, len(t), t, 0.0) for i, t in enumerate(paragraphs)]
    whole = detector.score(own)
    again = detector.score(own)
    assert (whole.probs == again.probs).all(), "not deterministic"
    col = whole.warnings.index("suicide")
    assert 0.0 < whole.probs[0, col] < 0.2 < whole.probs[2, col]
    # its hits are the same reading, thresholded: each one's score is its passage's
    for h in detector.detect(own):
        assert h.score == pytest.approx(float(whole.probs[h.passage, whole.warnings.index(
            h.warning)]), abs=1e-6)


def test_engines_name_only_registered_detectors() -> None:
    for engine, keys in ENGINES.items():
        assert set(keys) <= set(registered()), engine


def test_registering_a_detector_is_one_line(monkeypatch) -> None:
    import forewarn.detect as registry

    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    register("lexicon-again", "forewarn.detect.lexicon:LexiconDetector")
    assert create("lexicon-again").name == "lexicon"
    with pytest.raises(ValueError):
        register("bad", "no colon here")
    with pytest.raises(KeyError):
        create("nothing-by-this-name")
