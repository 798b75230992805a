"""Flagged scenes: whole paragraphs, merging of neighbours, profile thresholds and labels."""

from __future__ import annotations

import pytest

from forewarn.profile import Profile, ProfileEntry
from forewarn.report import DetectedWarning, Evidence, Report
from forewarn.scenes import Scene, flagged_scenes, scene_at
from forewarn.taxonomy import load_taxonomy, severity_rank
from forewarn.work import Chapter, Work

TAX = load_taxonomy()


def make_work(*chapters: int) -> Work:
    """A work whose chapter ``i`` has ``chapters[i]`` paragraphs of two sentences each."""
    return Work(
        [
            Chapter.from_paragraphs(
                number,
                f"Chapter {number}",
                [f"Sentence one of {number}.{i}. Sentence two of {number}.{i}."
                 for i in range(count)],
            )
            for number, count in enumerate(chapters, start=1)
        ],
        title="Test",
    )


def ev(work: Work, chapter: int, paragraph: int, severity: str = "depicted", *,
       start: int | None = None, end: int | None = None) -> Evidence:
    """Evidence on the second sentence of a paragraph (or an explicit span)."""
    para = work.chapters[chapter - 1].paragraphs[paragraph]
    second = para.text.index("Sentence two")
    s = para.start + second if start is None else start
    e = para.end if end is None else end
    return Evidence(chapter, paragraph, s, e, s, e, 0.5, 0.9, severity, ("lexicon",),
                    "test", "")


def warning(warning_id: str, *evidence: Evidence, confidence: float = 0.9) -> DetectedWarning:
    definition = TAX.get(warning_id)
    severity = max((e.severity for e in evidence), key=severity_rank)
    return DetectedWarning(warning_id, definition.name, definition.group, confidence,
                           severity, False, ("lexicon",), (), tuple(evidence))


def report(*warnings: DetectedWarning) -> Report:
    return Report(None, "text", "Test", 100, 3, list(warnings), [], 0.5)


def covered_text(work: Work, scene: Scene) -> str:
    chapter = work.chapters[scene.chapter - 1]
    first = chapter.paragraphs[scene.first_paragraph]
    last = chapter.paragraphs[scene.last_paragraph]
    return chapter.text[first.start : last.end]


def test_a_scene_covers_whole_paragraphs_never_part_of_a_sentence():
    work = make_work(5)
    # evidence that starts mid-paragraph and ends mid-sentence
    para = work.chapters[0].paragraphs[2]
    item = ev(work, 1, 2, start=para.start + 5, end=para.start + 20)
    [scene] = flagged_scenes(work, report(warning("violence", item)))
    assert (scene.chapter, scene.first_paragraph, scene.last_paragraph) == (1, 2, 2)
    text = covered_text(work, scene)
    assert text == para.text
    assert text.startswith("Sentence one") and text.endswith(".")
    assert scene.id == "scene-1" and scene.after_id == "after-scene-1" and scene.number == 1


def test_evidence_that_spans_two_paragraphs_flags_both():
    work = make_work(6)
    chapter = work.chapters[0]
    item = ev(work, 1, 1, start=chapter.paragraphs[1].start + 3,
              end=chapter.paragraphs[2].start + 4)
    [scene] = flagged_scenes(work, report(warning("violence", item)))
    assert (scene.first_paragraph, scene.last_paragraph) == (1, 2)


def test_neighbours_within_the_gap_merge_into_one_scene_with_all_warnings():
    work = make_work(10)
    r = report(
        warning("violence", ev(work, 1, 1, "depicted")),
        warning("blood-gore", ev(work, 1, 3, "graphic")),  # one unflagged paragraph between
        warning("death", ev(work, 1, 4, "mentioned")),  # adjacent
    )
    [scene] = flagged_scenes(work, r)
    assert (scene.first_paragraph, scene.last_paragraph) == (1, 4)
    assert scene.warnings == (
        ("Blood and gore", "graphic"),
        ("Violence", "depicted"),
        ("Death", "mentioned"),
    )  # strongest first
    assert scene.severity == "graphic"
    # the gap paragraph is inside the scene: whole paragraphs from first to last
    assert scene_at([scene], 1, 2) is scene and scene_at([scene], 1, 5) is None


def test_gap_is_a_parameter():
    work = make_work(10)
    r = report(warning("violence", ev(work, 1, 1), ev(work, 1, 4)))  # two paragraphs apart
    assert [(s.first_paragraph, s.last_paragraph) for s in flagged_scenes(work, r)] == [
        (1, 1), (4, 4)]
    assert [(s.first_paragraph, s.last_paragraph)
            for s in flagged_scenes(work, r, max_gap=2)] == [(1, 4)]
    r = report(warning("violence", ev(work, 1, 1), ev(work, 1, 3)))  # one apart
    assert len(flagged_scenes(work, r)) == 1
    assert len(flagged_scenes(work, r, max_gap=0)) == 2
    r = report(warning("violence", ev(work, 1, 1), ev(work, 1, 2)))  # adjacent
    assert len(flagged_scenes(work, r, max_gap=0)) == 1
    with pytest.raises(ValueError):
        flagged_scenes(work, r, max_gap=-1)


def test_scenes_never_merge_across_chapters_and_are_numbered_in_reading_order():
    work = make_work(4, 4)
    r = report(
        warning("death", ev(work, 2, 0)),
        warning("violence", ev(work, 1, 3), ev(work, 1, 0)),
    )
    scenes = flagged_scenes(work, r, max_gap=5)
    assert [(s.chapter, s.first_paragraph, s.last_paragraph, s.id) for s in scenes] == [
        (1, 0, 3, "scene-1"),
        (2, 0, 0, "scene-2"),
    ]


def test_the_same_warning_twice_in_a_scene_keeps_its_strongest_severity():
    work = make_work(4)
    r = report(warning("violence", ev(work, 1, 1, "mentioned"), ev(work, 1, 2, "graphic")))
    [scene] = flagged_scenes(work, r)
    assert scene.warnings == (("Violence", "graphic"),)


def test_without_a_profile_every_reported_warning_is_collapsed_by_name():
    work = make_work(12)
    r = report(
        warning("violence", ev(work, 1, 1, "mentioned")),
        warning("vomiting", ev(work, 1, 6, "depicted")),
        warning("miscarriage", ev(work, 1, 10, "graphic")),
    )
    scenes = flagged_scenes(work, r)
    assert [s.warnings for s in scenes] == [
        (("Violence", "mentioned"),),
        (("Vomiting", "depicted"),),
        (("Miscarriage", "graphic"),),
    ]


def test_profile_severity_thresholds_apply_to_each_evidence_item():
    work = make_work(12)
    r = report(
        # a mention of violence (kept visible) and a depiction (collapsed)
        warning("violence", ev(work, 1, 1, "mentioned"), ev(work, 1, 8, "depicted")),
        warning("vomiting", ev(work, 1, 5, "graphic")),  # not in the profile
        warning("death", ev(work, 1, 11, "mentioned")),
    )
    profile = Profile((ProfileEntry("violence", "depicted", None),
                       ProfileEntry("death", "mentioned", None)))
    scenes = flagged_scenes(work, r, profile)
    assert [(s.first_paragraph, s.warnings) for s in scenes] == [
        (8, (("Violence", "depicted"),)),
        (11, (("Death", "mentioned"),)),
    ]
    # at "graphic" the depiction is not enough either
    strict = Profile((ProfileEntry("violence", "graphic", None),))
    assert flagged_scenes(work, r, strict) == []


def test_profile_aliases_label_the_scenes_and_hide_the_names():
    work = make_work(5)
    r = report(
        warning("blood-gore", ev(work, 1, 1, "graphic")),
        warning("violence", ev(work, 1, 2, "depicted")),
    )
    profile = Profile((
        ProfileEntry("blood-gore", "mentioned", "the red thing"),
        ProfileEntry("violence", "mentioned", "the red thing"),
    ))
    [scene] = flagged_scenes(work, r, profile)
    # two warnings under one alias: one entry, the strongest severity
    assert scene.warnings == (("the red thing", "graphic"),)
    assert "Blood" not in repr(scene) and "Violence" not in repr(scene)


def test_profile_min_confidence_leaves_out_unsure_warnings():
    work = make_work(5)
    r = report(warning("violence", ev(work, 1, 1), confidence=0.55))
    entries = (ProfileEntry("violence", "mentioned", None),)
    assert len(flagged_scenes(work, r, Profile(entries))) == 1
    assert flagged_scenes(work, r, Profile(entries, min_confidence=0.6)) == []


def test_evidence_outside_the_work_is_ignored():
    work = make_work(3)
    bad_chapter = Evidence(7, 0, 0, 5, 0, 5, 0.1, 0.9, "depicted", ("lexicon",), "x", "")
    between = Evidence(1, 99, 10_000, 10_005, 0, 5, 0.1, 0.9, "depicted", ("lexicon",), "x", "")
    r = report(warning("violence", bad_chapter, between))
    assert flagged_scenes(work, r) == []


def test_no_warnings_no_scenes():
    assert flagged_scenes(make_work(3), report()) == []
