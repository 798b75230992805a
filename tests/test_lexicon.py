"""The word-and-phrase detector: cues, negation, figurative use, context, severity."""

from __future__ import annotations

import pytest

from forewarn.detect.lexicon import LexiconDetector, _required_literals, load_lexicon
from forewarn.segment import segment
from forewarn.work import Chapter, Work


def detect(*paragraphs: str, chapters: list[list[str]] | None = None):
    chapters = chapters or [list(paragraphs)]
    work = Work([Chapter.from_paragraphs(i + 1, None, c) for i, c in enumerate(chapters)])
    return work, LexiconDetector().detect(segment(work))


def warnings_of(*paragraphs: str) -> set[str]:
    return {h.warning for h in detect(*paragraphs)[1]}


def test_every_pattern_compiles_and_names_a_known_warning():
    from forewarn.taxonomy import load_taxonomy

    lex = load_lexicon()
    ids = set(load_taxonomy().ids)
    assert {r.warning for r in lex.rules} <= ids
    assert len(lex.rules) >= 35
    assert all(r.context is None or r.context in ids for r in lex.rules)


@pytest.mark.parametrize("text, warning", [
    ("She had been pregnant for eleven weeks when she told her mother.", "pregnancy"),
    ("He stabbed the guard twice and ran.", "violence"),
    ("She pulled her sleeves down over the fresh cuts on her wrists.", "self-harm"),
    ("He swallowed the whole bottle of sleeping pills and lay down.", "suicide"),
    ("Jo retched into the sink until there was nothing left.", "vomiting"),
    ("Her waters broke at midnight and by dawn she was in labour.", "childbirth"),
    ("The vet said it was time, and they put the old dog to sleep.", "animal-death"),
    ("A white van pulled up and a man bundled the girl into the back of the van.", "kidnapping"),
])
def test_clear_cues_are_found(text, warning):
    assert warning in warnings_of(text)


@pytest.mark.parametrize("text, warning", [
    ("She was not pregnant, thank God, just late.", "pregnancy"),
    ("I could kill for a coffee right now.", "violence"),
    ("This deadline is killing me.", "violence"),
    ("The nurse took a routine blood test and said all was well.", "blood-gore"),
    ("I'm dying to see the photos from the wedding.", "dying"),
    ("She was bored to death in the meeting.", "death"),
    ("He never hit her, not once in forty years.", "violence"),
    ("The clock struck twelve and they shot a glance at the door.", "violence"),
])
def test_negated_and_figurative_uses_are_not_hits(text, warning):
    assert warning not in warnings_of(text)


def test_weak_cues_alone_never_make_a_hit():
    # "hit", "blade" and "hurt" are weak cues for violence: alone they prove nothing
    assert "violence" not in warnings_of("The blade of the fan hurt to look at; the song was a hit.")


def test_miscarriage_is_found_from_events_without_the_word():
    _, hits = detect(chapters=[
        ["The test was positive. She was eight weeks pregnant and they chose names."],
        ["In the night the cramping started, and then the bleeding, bright red, with clots.",
         "At the hospital the doctor moved the probe. \"I'm so sorry. There's no heartbeat.\"",
         "In the car he said it plainly: we lost the baby."],
    ])
    mc = [h for h in hits if h.warning == "miscarriage"]
    assert {h.chapter for h in mc} == {2}
    assert max(h.score for h in mc) >= 0.9
    assert "miscarriage" not in {h.reason.split(":")[2] for h in mc}


def test_loss_cues_without_pregnancy_context_are_not_a_miscarriage():
    _, hits = detect("In the night the cramping started, and then the bleeding, with clots.",
                     "At the hospital the doctor stitched the cut on his arm.")
    assert "miscarriage" not in {h.warning for h in hits}


def test_severity_mentioned_graphic_and_depicted():
    _, hits = detect("Years ago, her brother had been stabbed outside a pub.")
    assert [h.severity for h in hits if h.warning == "violence"] == ["mentioned"]
    _, hits = detect("He stabbed him again and again; blood gushed over the tiles and "
                     "pooled around the shattered bone of his wrist, the flesh torn open.")
    assert "graphic" in {h.severity for h in hits if h.warning == "violence"}
    _, hits = detect("He punched him in the face and walked away.")
    assert [h.severity for h in hits if h.warning == "violence"] == ["depicted"]


def test_hit_spans_point_at_the_sentence_in_the_chapter_text():
    work, hits = detect("It was a quiet morning by the sea.",
                        "Then the man stabbed the guard twice and ran.")
    hit = next(h for h in hits if h.warning == "violence")
    text = work.chapters[0].text[hit.start:hit.end]
    assert text == "Then the man stabbed the guard twice and ran."
    assert hit.reason.startswith("lexicon:violence:")
    assert 0.5 <= hit.score <= 1.0


def test_required_literals_gate_is_sound():
    assert _required_literals("stabb(?:ed|ing)") == ("stabb",)
    assert set(_required_literals("(?:cock|dick)s?")) == {"cock", "dick"}
    assert _required_literals("\\w+n't") == ("n't",)
    # an optional group never becomes a requirement
    assert _required_literals("(?:very )?bad") == ("bad",)


def test_long_input_is_linear_enough():
    import time

    text = "She walked to the shop and bought bread and milk. " * 4000  # ~40k words
    work = Work([Chapter.from_paragraphs(1, None, [text[i:i + 2000] for i in
                                                    range(0, len(text), 2000)])])
    passages = segment(work)
    started = time.perf_counter()
    assert LexiconDetector().detect(passages) == []
    assert time.perf_counter() - started < 20  # a guard against pathological regexes only


@pytest.mark.parametrize("text, warning", [
    ("A chink of light showed under the door.", "racism"),
    ("She had conceived a dislike of him at once.", "pregnancy"),
])
def test_word_senses_from_the_chapter_run_are_not_hits(text, warning):
    assert warning not in warnings_of(text)
