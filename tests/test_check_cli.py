"""`forewarn check --profile`: verdicts, aliases that never leak, exit codes.

The CLI runs with --lexicon-only so the verdicts are deterministic and do not depend on
the embedding model; production runs use the default detectors.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forewarn.cli import main

ROOT = Path(__file__).resolve().parent.parent
PROFILES = ROOT / "tests" / "fixtures" / "profiles"
STORIES = ROOT / "tests" / "fixtures" / "stories"
AUDIT = ROOT / "tests" / "fixtures" / "audit"
QUIET = str(STORIES / "quiet-months.txt")  # a pregnancy that ends in miscarriage
SAFE = str(STORIES / "hard-negatives.txt")
MENTION = str(AUDIT / "second-spring.txt")  # a miscarriage remembered, not depicted


def check(capsys, profile: str | Path, *argv: str) -> tuple[int, str, str]:
    code = main(["check", "--lexicon-only", "--profile", str(profile), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# -- aliases -------------------------------------------------------------------------


def test_alias_never_leaks_in_text_output(capsys):
    code, out, err = check(capsys, PROFILES / "alias-mc.toml", QUIET)
    assert code == 10, err
    assert "NOT SAFE" in out and "the thing" in out
    assert "miscarriage" not in out.lower()
    assert "chapter 2," in out and "%" in out  # where, without quoting
    assert "\u201c" not in out and "heartbeat" not in out


def test_alias_never_leaks_in_json_output(capsys):
    code, out, err = check(capsys, PROFILES / "alias-mc.toml", "--json", QUIET)
    assert code == 10, err
    assert "miscarriage" not in out.lower()
    data = json.loads(out)
    assert data["schema"] == "forewarn.check/2"
    (work,) = data["works"]
    assert work["safe"] is False and work["source"] == QUIET
    (w,) = work["warnings"]
    assert w["label"] == "the thing" and "id" not in w and "name" not in w
    assert w["severity"] == "depicted" and w["detected"] is True
    assert w["locations"] and all(loc["chapter"] == 2 for loc in w["locations"])
    assert "evidence" not in w and "lexicon:" not in json.dumps(work)


def test_alias_does_not_leak_from_an_authors_declaration(capsys, tmp_path):
    # the author tags the avoided warning; the text never shows it: NOT SAFE, still no word
    story = write(tmp_path, "tagged.txt",
                  "Title: Beans\nAdditional Tags: Miscarriage, Gardening\n\nChapter 1\n\n"
                  "In April they planted beans along the fence and argued about names.\n")
    for extra in ((), ("--json",)):
        code, out, err = check(capsys, PROFILES / "alias-mc.toml", *extra, story)
        assert code == 10, err
        assert "miscarriage" not in out.lower() and "the thing" in out
    assert "declared by the author" in check(capsys, PROFILES / "alias-mc.toml", story)[1]
    w = json.loads(check(capsys, PROFILES / "alias-mc.toml", "--json", story)[1])
    assert w["works"][0]["warnings"] == [{
        "label": "the thing", "severity": None, "confidence": None, "where": None,
        "locations": [], "detected": False, "declared": True,
    }]


@pytest.mark.usefixtures("measured_recall")
def test_alias_never_leaks_for_an_allowed_mention(capsys, tmp_path):
    profile = write(tmp_path, "p.toml", '[avoid]\nmc = { severity = "depicted", alias = "x-1" }\n')
    code, out, _ = check(capsys, profile, MENTION)
    # uncertain (forewarn is weak at miscarriage), never by its name
    assert code == 13 and "x-1 is mentioned" in out and "miscarriage" not in out.lower()
    assert "forewarn is weak at x-1" in out  # measured_recall: miscarriage 0.6
    code, out, _ = check(capsys, profile, "--json", MENTION)
    assert code == 13 and "miscarriage" not in out.lower()
    (allowed,) = json.loads(out)["works"][0]["allowed"]
    assert allowed["label"] == "x-1" and allowed["severity"] == "mentioned" and "id" not in allowed


def test_without_alias_the_name_and_id_are_shown(capsys):
    code, out, _ = check(capsys, PROFILES / "miscarriage-depicted.toml", "--json", QUIET)
    assert code == 10
    w = json.loads(out)["works"][0]["warnings"][0]
    assert (w["id"], w["name"], w["label"]) == ("miscarriage", "Miscarriage", "Miscarriage")


# -- verdicts and exit codes -----------------------------------------------------------


@pytest.mark.usefixtures("measured_recall")
def test_a_safe_story_exits_0(capsys):
    code, out, err = check(capsys, PROFILES / "dissection.toml", SAFE)
    assert code == 0, err
    assert "safe" in out and "NOT SAFE" not in out and "UNCERTAIN" not in out
    code, out, _ = check(capsys, PROFILES / "dissection.toml", "--json", SAFE)
    assert code == 0
    assert json.loads(out)["works"] == [{
        "source": SAFE, "title": None, "safe": True, "answer": "safe", "reasons": [],
        "checked": {"complete": True, "kind": None, "reason": None},
        "warnings": [], "possible": [], "allowed": [], "weak": []}]


def test_nothing_found_for_a_warning_forewarn_is_weak_at_is_uncertain(capsys):
    # miscarriage is rare in held-out text: its recall is weak or unmeasured, and
    # "nothing found" is no "safe"
    from forewarn.verdict import recall_table

    weak_below, recall = recall_table()
    assert recall["miscarriage"] is None or recall["miscarriage"] < weak_below
    code, out, err = check(capsys, PROFILES / "miscarriage-depicted.toml", SAFE)
    assert code == 13, err
    assert "UNCERTAIN" in out and "Miscarriage" in out and "finding nothing says little" in out
    code, out, _ = check(capsys, PROFILES / "miscarriage-depicted.toml", "--json", SAFE)
    (work,) = json.loads(out)["works"]
    assert work["safe"] is None and work["answer"] == "uncertain"
    assert work["reasons"] and "Miscarriage" in work["reasons"][0]


def test_a_warning_with_too_few_held_out_examples_is_never_vouched_for(monkeypatch):
    from forewarn import verdict
    from forewarn.profile import Profile

    monkeypatch.setattr(verdict, "recall_table", lambda: (0.8, {"dissection": None}))
    profile = Profile.from_dict({"avoid": {"dissection": "mentioned"}})
    ((entry, recall),) = verdict.weak_warnings(profile)
    assert entry.warning == "dissection" and recall is None


def test_an_unsafe_story_exits_10_and_names_severity_and_place(capsys):
    code, out, _ = check(capsys, PROFILES / "miscarriage-depicted.toml", QUIET)
    assert code == 10
    assert "NOT SAFE" in out and "depicted" in out and "Miscarriage" in out
    assert "chapter 2, " in out
    assert "Pregnancy" not in out  # only what the profile avoids


def test_a_mention_below_the_entry_severity_is_safe_and_said_so(capsys):
    code, out, _ = check(capsys, PROFILES / "miscarriage-depicted.toml", MENTION)
    assert code == 13  # allowed, and uncertain only because forewarn is weak at miscarriage
    assert "NOT SAFE" not in out
    assert "Miscarriage is mentioned" in out and "which this profile allows" in out
    code, out, _ = check(capsys, PROFILES / "alias-mc.toml", MENTION)  # any mention counts
    assert code == 10 and "miscarriage" not in out.lower()


@pytest.mark.usefixtures("measured_recall")
def test_several_works_exit_10_when_any_is_unsafe(capsys):
    code, out, _ = check(capsys, PROFILES / "miscarriage-depicted.toml", "--json", SAFE, QUIET)
    assert code == 10
    assert [w["safe"] for w in json.loads(out)["works"]] == [None, False]
    code, out, _ = check(capsys, PROFILES / "dissection.toml", "--json", SAFE, QUIET)
    assert code == 0 and [w["safe"] for w in json.loads(out)["works"]] == [True, True]


@pytest.mark.usefixtures("measured_recall")
def test_input_errors_win_over_not_safe(capsys, tmp_path):
    missing = str(tmp_path / "missing.txt")
    code, out, err = check(capsys, PROFILES / "miscarriage-depicted.toml", QUIET, missing)
    assert code == 3  # an unread work cannot be called safe
    assert "NOT SAFE" in out  # the readable work is still checked
    assert err.count("\n") == 1 and err.startswith("forewarn: ") and "missing.txt" in err
    empty = write(tmp_path, "empty.txt", "   \n")
    code, out, _ = check(capsys, PROFILES / "dissection.toml", "--json", empty, SAFE, missing)
    assert code == 4  # the first failure's code
    works = json.loads(out)["works"]
    assert [w["safe"] for w in works] == [None, True, None]
    assert works[0]["exit_code"] == 4 and works[2]["exit_code"] == 3 and works[0]["error"]


@pytest.mark.parametrize("name", ["unknown-name.toml", "bad-severity.toml", "bad-syntax.toml",
                                  "nope.toml"])
def test_a_bad_profile_is_exit_2_one_line_and_checks_nothing(capsys, name):
    code, out, err = check(capsys, PROFILES / name, QUIET)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("forewarn: ") and name in err


def test_a_profile_is_required(capsys, monkeypatch, tmp_path):
    # no --profile and no default profile (docs/profiles.md): one line, exit 2
    monkeypatch.delenv("FOREWARN_PROFILE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert main(["check", QUIET]) == 2
    assert "--profile" in capsys.readouterr().err


def test_profile_min_confidence_applies_and_the_option_overrides_it(capsys, tmp_path):
    loose = write(tmp_path, "loose.toml",
                  '[avoid]\nmc = "mentioned"\n[settings]\nmin_confidence = 0.35\n')
    code, out, _ = check(capsys, loose, "--json", QUIET)
    assert code == 10 and json.loads(out)["min_confidence"] == 0.35
    code, out, _ = check(capsys, loose, "--json", "--min-confidence", "0.5", QUIET)
    assert code == 10 and json.loads(out)["min_confidence"] == 0.5


@pytest.mark.parametrize("where", ["profile", "option"])
def test_a_floor_over_0_99_is_refused(capsys, tmp_path, where):
    # confidence never goes above 0.99: a floor of 1.0 would call every story safe
    if where == "profile":
        profile = write(tmp_path, "p.toml", '[avoid]\nmc = "mentioned"\n[settings]\n'
                        "min_confidence = 1.0\n")
        code, out, err = check(capsys, profile, QUIET)
    else:
        with pytest.raises(SystemExit) as exc:
            check(capsys, PROFILES / "dissection.toml", "--min-confidence", "1", QUIET)
        code = exc.value.code
        out, err = capsys.readouterr()
        err = err.splitlines()[-1] + "\n"  # argparse prints its usage line first
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "0.99" in err
