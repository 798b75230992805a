"""Every registered detector keeps the same contract (forewarn.detect's registry)."""

from __future__ import annotations

import pytest

from forewarn.detect import ENGINES, create, register, registered
from forewarn.ingest import read_text
from forewarn.segment import segment
from forewarn.taxonomy import load_taxonomy

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
