"""Personal profiles: parsing, names and aliases, errors, severity thresholds."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from forewarn.declared import DeclaredWarning
from forewarn.detect.lexicon import LexiconDetector
from forewarn.errors import ForewarnError
from forewarn.profile import Profile, ProfileEntry, ProfileError, load_profile
from forewarn.report import DetectedWarning, Location, Report
from forewarn.scanner import Scanner
from forewarn.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parent.parent
PROFILES = ROOT / "tests" / "fixtures" / "profiles"
STORIES = ROOT / "tests" / "fixtures" / "stories"
AUDIT = ROOT / "tests" / "fixtures" / "audit"


def detected(wid: str, severity: str, confidence: float = 0.9,
             declared: bool = False) -> DetectedWarning:
    w = load_taxonomy().get(wid)
    return DetectedWarning(wid, w.name, w.group, confidence, severity, declared, ("lexicon",),
                           (Location(1, 0.1, 0.2),), ())


def declared(wid: str, severity: str | None = None, qualifier: str | None = None,
             text: str = "tag") -> DeclaredWarning:
    return DeclaredWarning(wid, load_taxonomy().get(wid).name, "freeform_tag", text,
                           qualifier, severity, False)


def report(*warnings: DetectedWarning, decl: tuple[DeclaredWarning, ...] = ()) -> Report:
    return Report("x.txt", "text", None, 100, 1, list(warnings), list(decl), 0.5)


def profile(data: dict) -> Profile:
    return Profile.from_dict(data)


def lexicon_scan(path: Path) -> Report:
    # the lexicon alone: deterministic, and independent of the embedding model
    return Scanner(detectors=[LexiconDetector()]).scan(path)


# -- parsing -------------------------------------------------------------------------


def test_table_form_with_aliases_severities_and_settings():
    p = load_profile(PROFILES / "reader.toml")
    assert p.entries == (
        ProfileEntry("miscarriage", "depicted", None),
        ProfileEntry("self-harm", "mentioned", None),
        ProfileEntry("blood-gore", "graphic", "the red thing"),
    )
    assert p.min_confidence == 0.6


def test_list_form_avoids_any_mention():
    p = load_profile(str(PROFILES / "list-form.toml"))
    assert p.entries == (ProfileEntry("miscarriage", "mentioned", None),
                         ProfileEntry("suicide", "mentioned", None))
    assert p.min_confidence is None


@pytest.mark.parametrize("name, wid", [
    ("pregnancy loss", "miscarriage"), ("mc", "miscarriage"), ("Miscarriage", "miscarriage"),
    ("sh", "self-harm"), ("Self Harm", "self-harm"), ("blood", "blood-gore"),
    ("rape", "sexual-assault"),
])
def test_names_and_aliases_resolve_through_the_taxonomy(name, wid):
    assert profile({"avoid": {name: "depicted"}}).entries[0].warning == wid
    assert profile({"avoid": [name]}).entries[0].warning == wid


def test_severity_spelling_is_forgiving_but_any_means_mentioned():
    p = profile({"avoid": {"sh": " Depicted ", "blood": "any", "mc": {"alias": "x"}}})
    assert [e.min_severity for e in p.entries] == ["depicted", "mentioned", "mentioned"]


def test_list_of_tables_is_accepted_for_json_clients():
    p = profile({"avoid": [{"warning": "mc", "severity": "graphic", "alias": "it"}, "sh"]})
    assert p.entries == (ProfileEntry("miscarriage", "graphic", "it"),
                         ProfileEntry("self-harm", "mentioned", None))


def test_to_dict_round_trips_by_id():
    p = load_profile(PROFILES / "reader.toml")
    data = p.to_dict()
    assert data == {
        "avoid": {"miscarriage": "depicted", "self-harm": "mentioned",
                  "blood-gore": {"severity": "graphic", "alias": "the red thing"}},
        "settings": {"min_confidence": 0.6},
    }
    assert Profile.from_dict(data) == p
    assert "settings" not in load_profile(PROFILES / "list-form.toml").to_dict()


def test_profile_is_frozen():
    p = load_profile(PROFILES / "list-form.toml")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.min_confidence = 0.1  # type: ignore[misc]


# -- errors --------------------------------------------------------------------------


def one_line(exc: ProfileError) -> str:
    text = str(exc)
    assert "\n" not in text and text
    assert isinstance(exc, ForewarnError) and exc.exit_code == 2
    return text


def test_unknown_name_suggests_the_nearest():
    with pytest.raises(ProfileError) as info:
        load_profile(PROFILES / "unknown-name.toml")
    msg = one_line(info.value)
    assert "unknown-name.toml" in msg and '"miscariage"' in msg
    assert "did you mean: miscarriage" in msg


def test_unknown_severity_lists_the_valid_ones():
    with pytest.raises(ProfileError) as info:
        load_profile(PROFILES / "bad-severity.toml")
    msg = one_line(info.value)
    assert '"sometimes"' in msg and "mentioned, depicted, graphic" in msg


def test_toml_syntax_error_names_the_line():
    with pytest.raises(ProfileError) as info:
        load_profile(PROFILES / "bad-syntax.toml")
    msg = one_line(info.value)
    assert "not valid TOML" in msg and "line 3" in msg


def test_missing_file_and_directory():
    with pytest.raises(ProfileError) as info:
        load_profile(PROFILES / "nope.toml")
    assert "nope.toml: no such profile file" in one_line(info.value)
    with pytest.raises(ProfileError) as info:
        load_profile(PROFILES)
    assert "directory" in one_line(info.value)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs")
def test_a_fifo_or_a_device_is_refused_without_reading_it(tmp_path):
    fifo = tmp_path / "profile.toml"
    os.mkfifo(fifo)  # opening it to read would wait for a writer for ever
    for path in (fifo, Path("/dev/zero")):
        if not path.exists():
            continue
        with pytest.raises(ProfileError) as info:
            load_profile(path)
        assert "not a regular file" in one_line(info.value)


def test_an_oversized_or_deeply_nested_profile_is_one_profile_error(tmp_path):
    big = tmp_path / "big.toml"
    big.write_text("[avoid]\n" + "# padding\n" * 40_000, encoding="utf-8")
    with pytest.raises(ProfileError) as info:
        load_profile(big)
    assert "too large" in one_line(info.value)
    deep = tmp_path / "deep.toml"
    deep.write_text("x = " + "[" * 20_000 + "]" * 20_000 + "\n", encoding="utf-8")
    with pytest.raises(ProfileError) as info:
        load_profile(deep)
    assert "nested too deeply" in one_line(info.value) or "not valid TOML" in one_line(
        info.value)


def test_non_utf8_file(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('[avoid]\n"sh" = "mentioned" # caf\xe9\n'.encode("latin-1"))
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert "UTF-8" in one_line(info.value)


@pytest.mark.parametrize("data, expected", [
    ({"avoids": {"sh": "mentioned"}}, 'unknown key "avoids"'),  # a typo must not mean "safe"
    ({}, "avoids nothing"),
    ({"avoid": {}}, "avoids nothing"),
    ({"avoid": []}, "avoids nothing"),
    ({"avoid": "sh"}, "avoid must be a table"),
    ({"avoid": {"sh": 3}}, "must be a severity"),
    ({"avoid": {"sh": {"severity": "graphic", "alais": "x"}}}, 'unknown key "alais"'),
    ({"avoid": {"sh": {"alias": ""}}}, "alias is empty"),
    ({"avoid": {"sh": {"alias": 5}}}, "alias must be text"),
    ({"avoid": [3]}, "must be a warning name"),
    ({"avoid": [{"severity": "graphic"}]}, 'needs a "warning"'),
    ({"avoid": ["sh"], "settings": {"min_confidence": 1.5}}, "from 0 to 1"),
    ({"avoid": ["sh"], "settings": {"min_confidence": True}}, "from 0 to 1"),
    ({"avoid": ["sh"], "settings": {"min_conf": 0.5}}, 'unknown key "min_conf"'),
    ({"avoid": ["sh"], "settings": 3}, "settings must be a table"),
    ({"avoid": {"": "graphic"}}, "empty warning name"),
])
def test_structural_errors(data, expected):
    with pytest.raises(ProfileError) as info:
        Profile.from_dict(data, source="me.toml")
    msg = one_line(info.value)
    assert msg.startswith("me.toml: ") and expected in msg


def test_two_names_for_one_warning_is_an_error_that_does_not_say_the_word():
    with pytest.raises(ProfileError) as info:
        profile({"avoid": {"mc": "mentioned", "pregnancy loss": "graphic"}})
    msg = one_line(info.value)
    assert '"mc"' in msg and '"pregnancy loss"' in msg and "same warning" in msg
    assert "miscarriage" not in msg.lower()


# -- labels --------------------------------------------------------------------------


def test_label_is_the_alias_or_the_taxonomy_name():
    p = load_profile(PROFILES / "reader.toml")
    assert p.label("blood-gore") == "the red thing"
    assert p.label("miscarriage") == "Miscarriage"
    assert p.label("violence") == "Violence"  # not in the profile: still a name
    assert p.label("no-such-id") == "no-such-id"


# -- thresholds ----------------------------------------------------------------------


def test_avoids_respects_the_entry_severity():
    p = load_profile(PROFILES / "miscarriage-depicted.toml")
    assert p.avoids("miscarriage", "mentioned") is None
    assert p.avoids("miscarriage", "depicted") == ProfileEntry("miscarriage", "depicted", None)
    assert p.avoids("miscarriage", "graphic") is not None
    assert p.avoids("self-harm", "graphic") is None
    graphic_only = profile({"avoid": {"blood": "graphic"}})
    assert graphic_only.avoids("blood-gore", "depicted") is None
    assert graphic_only.avoids("blood-gore", "graphic") is not None


def test_triggered_is_strongest_first_and_honours_min_confidence():
    p = profile({"avoid": {"mc": "depicted", "sh": "mentioned", "blood": "graphic"},
                 "settings": {"min_confidence": 0.6}})
    r = report(detected("self-harm", "mentioned", 0.95), detected("miscarriage", "depicted", 0.7),
               detected("blood-gore", "depicted", 0.99),  # below its entry's severity
               detected("violence", "graphic", 0.99),  # not avoided
               detected("miscarriage", "graphic", 0.55))  # below min_confidence
    got = [(w.id, w.severity) for w, _ in p.triggered(r)]
    assert got == [("miscarriage", "depicted"), ("self-harm", "mentioned")]
    assert [w.id for w, _ in p.below_threshold(r)] == ["blood-gore"]
    assert dataclasses.replace(p, min_confidence=None).triggered(r)[0][0].severity == "graphic"


def test_a_mentioned_miscarriage_does_not_trigger_depicted_but_a_depicted_one_does():
    p = load_profile(PROFILES / "miscarriage-depicted.toml")
    mentioned = lexicon_scan(AUDIT / "second-spring.txt")  # "two years ago she had lost the baby"
    assert mentioned.get("miscarriage").severity == "mentioned"
    assert p.triggered(mentioned) == []
    assert [w.id for w, _ in p.below_threshold(mentioned)] == ["miscarriage"]
    depicted = lexicon_scan(STORIES / "quiet-months.txt")
    assert [(w.id, w.severity) for w, _ in p.triggered(depicted)] == [("miscarriage", "depicted")]
    anything = load_profile(PROFILES / "list-form.toml")
    assert [w.id for w, _ in anything.triggered(mentioned)] == ["miscarriage"]


def test_declared_but_undetected_warnings_count_unless_declared_weaker():
    p = load_profile(PROFILES / "miscarriage-depicted.toml")
    plain = report(decl=(declared("miscarriage"),))
    assert [d.id for d, _ in p.declared_triggered(plain)] == ["miscarriage"]
    weaker = report(decl=(declared("miscarriage", "mentioned", "past"),))
    assert p.declared_triggered(weaker) == []
    # once detected, detection decides (here: a mention, which the entry allows)
    seen = report(detected("miscarriage", "mentioned"), decl=(declared("miscarriage"),))
    assert p.declared_triggered(seen) == [] and p.triggered(seen) == []
    # ...unless it was detected below the profile's confidence floor
    faint = report(detected("miscarriage", "depicted", 0.3), decl=(declared("miscarriage"),))
    floor = dataclasses.replace(p, min_confidence=0.5)
    assert [d.id for d, _ in floor.declared_triggered(faint)] == ["miscarriage"]
    twice = report(decl=(declared("miscarriage"), declared("miscarriage", text="TW: mc")))
    assert len(p.declared_triggered(twice)) == 1


def test_a_near_miss_just_under_the_floor_shows_the_digits_that_put_it_under():
    from forewarn.verdict import Verdict

    profile = Profile.from_dict({"avoid": {"blood": "mentioned"}})
    verdict = Verdict.of(report(detected("blood-gore", "depicted", 0.9899)), profile, floor=0.99)
    (line,) = [r for r in verdict.reasons() if r.startswith("possible")]
    assert "confidence 0.9899, below the floor 0.99" in line
    verdict = Verdict.of(report(detected("blood-gore", "depicted", 0.7)), profile, floor=0.8)
    assert any("confidence 0.70, below the floor 0.80" in r for r in verdict.reasons())
