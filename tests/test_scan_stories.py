"""forewarn.scan on whole stories written for the tests (tests/fixtures/stories)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import forewarn
from forewarn.ingest import read_text

STORIES = Path(__file__).resolve().parent / "fixtures" / "stories"

# False warnings detection v2 still gives on these stories (docs/model-card.md, section 0,
# "known errors"). The tests below hold every other expectation; the strict xfail tests
# hold the whole one, and fail loudly the day a model no longer makes the error.
KNOWN_V2_ERRORS = {
    # the loss read as a birth: the annotation guide counts a pregnancy loss as neither a
    # birth nor a child's death nor an abortion (the abortion the ninth to thirteenth
    # sessions' models read into it is gone since the fourteenth's)
    "quiet-months": {"childbirth"},
    "hard-negatives": set(),  # the football "slaughter" read as violence: fixed by context
}
V2_ERROR = "a known error of detection v2 (docs/model-card.md, section 0)"


def labels(name: str) -> dict:
    return json.loads((STORIES / f"{name}.labels.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def quiet_months():
    return forewarn.scan(STORIES / "quiet-months.txt")


def test_miscarriage_without_the_word_is_reported_with_evidence(quiet_months):
    text = (STORIES / "quiet-months.txt").read_text(encoding="utf-8")
    assert "miscarr" not in text.lower()
    expected = labels("quiet-months")
    for warning in expected["must"]:
        found = quiet_months.get(warning)
        assert found is not None, f"{warning} not reported"
        assert found.confidence >= 0.8
        assert found.evidence
        right = {tuple(p) for p in expected["paragraphs"][warning]}
        places = {(e.chapter, e.paragraph) for e in found.evidence}
        # evidence lies in the paragraphs where it happens, and the strongest evidence does
        assert places & right
        best = max(found.evidence, key=lambda e: e.score)
        assert (best.chapter, best.paragraph) in right
    mc = quiet_months.get("miscarriage")
    assert 2 in {e.chapter for e in mc.evidence}
    assert mc.declared is False


@pytest.mark.xfail(strict=True, reason=V2_ERROR + ": the pregnancy test scene is evidence")
def test_the_miscarriage_is_placed_only_where_it_happens(quiet_months):
    assert {e.chapter for e in quiet_months.get("miscarriage").evidence} == {2}


def test_the_miscarriage_story_is_not_flagged_for_what_it_does_not_contain(quiet_months):
    for warning in set(labels("quiet-months")["must_not"]) - KNOWN_V2_ERRORS["quiet-months"]:
        assert quiet_months.get(warning) is None, f"false {warning}"


@pytest.mark.xfail(strict=True, reason=V2_ERROR + ": childbirth")
def test_the_miscarriage_story_gets_no_childbirth_or_eating_disorder(quiet_months):
    for warning in labels("quiet-months")["must_not"]:
        assert quiet_months.get(warning) is None, f"false {warning}"


def test_evidence_offsets_point_into_the_original_file(quiet_months):
    source = (STORIES / "quiet-months.txt").read_text(encoding="utf-8")
    for w in quiet_months.warnings:
        for ev in w.evidence:
            # the quote (the lexicon cue's sentence, or the passage's start) lies inside
            # the evidence's span, which is the whole passage the classifier flagged
            assert ev.snippet.rstrip("\u2026")[:100] in " ".join(
                source[ev.offset_start:ev.offset_end].split())


def test_hard_negatives_raise_no_false_warnings():
    report = forewarn.scan(STORIES / "hard-negatives.txt")
    flagged = set(report.ids) & set(labels("hard-negatives")["must_not"])
    assert not flagged - KNOWN_V2_ERRORS["hard-negatives"], f"false warnings: {flagged}"


def test_hard_negatives_raise_none_of_their_false_warnings():
    report = forewarn.scan(STORIES / "hard-negatives.txt")
    assert not set(report.ids) & set(labels("hard-negatives")["must_not"])


@pytest.fixture(scope="module")
def one_scene():
    return forewarn.scan(STORIES / "one-scene.txt")


def test_one_plain_scene_among_quiet_ones_raises_nothing_it_does_not_hold(one_scene):
    assert not set(one_scene.ids) & set(labels("one-scene")["must_not"])
    assert "blood-gore" in one_scene.ids  # the cuts' blood, in the scene's paragraph
    assert {(e.chapter, e.paragraph) for e in one_scene.get("blood-gore").evidence} == {(1, 3)}


def test_one_plain_scene_of_self_harm_among_quiet_ones_is_reported(one_scene):
    # until the eighteenth session its quiet neighbours vetoed it (under 0.02, the
    # classifier's own p 0.998); the combiner's rings now read at least its own logit less
    # the margin (forewarn.combine.CONTEXT_MARGIN)
    found = one_scene.get("self-harm")
    assert found is not None and {(e.chapter, e.paragraph) for e in found.evidence} == {(1, 3)}
    assert found.confidence >= 0.8


@pytest.fixture(scope="module")
def sampler_misses() -> set[str]:
    text = (STORIES / "warnings-sampler.txt").read_text(encoding="utf-8")
    scenes = [s.strip() for s in re.split(r"\n\s*\*\s*\*\s*\*\s*\n", text)]
    expected = labels("warnings-sampler")["scenes"]
    assert len(scenes) == len(expected)
    return {s["warning"] for s in expected
            if s["warning"] not in forewarn.scan(read_text(scenes[s["index"]])).ids}


def test_each_scene_of_the_sampler_gets_its_warning(sampler_misses):
    # each scene read alone, so scored without neighbours (the twelfth and thirteenth
    # sessions' model missed the shop scene's racism this way)
    assert not sampler_misses, f"missed: {sampler_misses}"


def test_declared_warnings_are_reported_apart_from_detection():
    story = ("Title: Harbour\nSummary: A quiet story. TW: self-harm, miscarriage\n\n"
             "They walked along the harbour wall and bought chips, and the gulls screamed "
             "over the boats while the tide came in.\n")
    report = forewarn.scan(story)
    declared = {d.id: d for d in report.declared}
    assert set(declared) == {"self-harm", "miscarriage"}
    assert all(d.source == "summary" and d.detected is False for d in declared.values())
    assert report.get("self-harm") is None  # declaring is not detecting


def test_report_json_round_trips_and_matches_the_api(quiet_months):
    data = json.loads(quiet_months.to_json())
    assert data["schema"] == "forewarn.report/2"
    assert [w["id"] for w in data["warnings"]] == quiet_months.ids
    assert data["warnings"][0]["evidence"][0]["snippet"]
    assert "snippet" not in json.loads(quiet_months.to_json(evidence=False))["warnings"][0][
        "evidence"][0]


def test_warnings_are_sorted_strongest_first(quiet_months):
    from forewarn.taxonomy import severity_rank

    keys = [(-severity_rank(w.severity), -w.confidence) for w in quiet_months.warnings]
    assert keys == sorted(keys)


def test_scan_accepts_text_paths_and_reports_missing_files():
    from forewarn.errors import InputNotFound

    assert forewarn.scan("He stabbed the guard, then beat him senseless. Blood pooled on "
                         "the stones.").get("violence") is not None
    with pytest.raises(InputNotFound):
        forewarn.scan("no-such-story.txt")


def test_a_one_line_story_with_a_slash_is_text_not_a_path():
    report = forewarn.scan("He said and/or she said: he stabbed the guard and ran.")
    assert report.source == "<text>"
