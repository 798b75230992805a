"""The declared-warning audit: three lists, qualifier notes, AO3 archive warnings and tags.

Fixture stories in tests/fixtures/audit declare some warnings and contain others:

* salt-and-iron.txt: "No Archive Warnings Apply"; tags "Implied/Referenced Self-Harm",
  "Grief"; summary "TW: blood, mentions of suicide". The text depicts self-harm, blood and
  graphic violence; no death, no suicide.
* second-spring.txt: "Creator Chose Not To Use Archive Warnings"; tags "Pregnancy",
  "Hospitals". The text depicts a pregnancy and remembers a miscarriage; no hospital.

The CLI runs with --lexicon-only: deterministic, independent of the embedding model.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forewarn.audit import NOT_FOUND_NOTE, audit_report, audit_work
from forewarn.cli import main
from forewarn.declared import DeclaredWarning
from forewarn.detect.lexicon import LexiconDetector
from forewarn.ingest import read_path
from forewarn.render.ao3 import AO3_TAGS, additional_tags_line, ao3_tag
from forewarn.report import DetectedWarning, Evidence, Location, Report
from forewarn.scanner import Scanner
from forewarn.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parent.parent
AUDIT = ROOT / "tests" / "fixtures" / "audit"
SALT = str(AUDIT / "salt-and-iron.txt")
SPRING = str(AUDIT / "second-spring.txt")


def audit(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["audit", "--lexicon-only", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def audit_json(capsys, *argv: str) -> dict:
    code, out, err = audit(capsys, "--json", *argv)
    assert code == 0, err
    return json.loads(out)


def ids(items: list[dict]) -> list[str]:
    return [x["id"] for x in items]


# -- the three lists, end to end -------------------------------------------------------


def test_three_lists_for_a_story_that_under_declares(capsys):
    a = audit_json(capsys, SALT)
    assert a["schema"] == "forewarn.audit/1" and a["spoiler_free"] is True
    assert ids(a["declared_and_found"]) == ["blood-gore", "self-harm"]
    assert ids(a["declared_not_found"]) == ["death", "suicide"]
    assert ids(a["found_not_declared"]) == ["violence"]

    blood, sh = a["declared_and_found"]
    assert {d["source"] for d in blood["declared_as"]} >= {"summary"}
    assert blood["note"] is None and blood["severity"] == "graphic"
    assert blood["locations"][0]["chapter"] == 1
    assert sh["declared_as"] == [{"source": "freeform_tag", "text": "Implied/Referenced Self-Harm",
                                  "qualifier": "implied", "severity": "mentioned"}]
    assert sh["note"] == "declared as implied, but depicted on the page"

    death, suicide = a["declared_not_found"]
    assert death["declared_as"][0]["text"] == "Grief"
    assert suicide["declared_as"][0]["text"] == "mentions of suicide"
    assert death["note"] == NOT_FOUND_NOTE

    (violence,) = a["found_not_declared"]
    assert violence["severity"] == "graphic" and violence["ao3_tag"] == "Graphic Violence"
    assert violence["locations"] and violence["confidence"] >= 0.5
    assert all("snippet" not in e for e in violence["evidence"])

    assert a["archive_warnings"]["declared"] == ["No Archive Warnings Apply"]
    (need,) = a["archive_warnings"]["needed"]
    assert need["archive_warning"] == "Graphic Depictions Of Violence"
    assert need["because"] == "violence"
    assert need["message"].startswith('declared "No Archive Warnings Apply", but forewarn found')
    assert a["ao3_additional_tags"] == ["Graphic Violence"]


def test_three_lists_for_a_story_with_a_remembered_loss(capsys):
    a = audit_json(capsys, SPRING)
    assert ids(a["declared_and_found"]) == ["pregnancy"]
    assert ids(a["declared_not_found"]) == ["medical-procedures"]
    assert ids(a["found_not_declared"]) == ["miscarriage"]
    (mc,) = a["found_not_declared"]
    assert mc["severity"] == "mentioned"
    assert mc["ao3_tag"] == "Implied/Referenced Miscarriage"
    # "Creator Chose Not To Use Archive Warnings" is a valid choice: nothing to ask for
    assert a["archive_warnings"]["needed"] == []


def test_text_output_is_gentle_and_spoiler_free(capsys):
    code, out, err = audit(capsys, SALT)
    assert code == 0, err
    for heading in ("Declared and found (2)", "Declared but not found (2)",
                    "Found but not declared (1)", "AO3 archive warnings"):
        assert heading in out
    assert ("forewarn did not find these in the text; detection can miss, "
            "and the author knows the story best.") in out
    assert "note: declared as implied, but depicted on the page" in out
    assert 'suggested tag: "Graphic Violence"' in out
    assert 'declared as "blood" (content notes, summary)' in out
    assert '"Graphic Depictions Of Violence"' in out
    assert "AO3 additional tags to add: Graphic Violence" in out
    assert "\u201c" not in out and "razor" not in out  # no story text


def test_evidence_quotes_the_passages(capsys):
    code, out, _ = audit(capsys, "--evidence", SALT)
    assert code == 0 and "\u201c" in out and "kicked her in the ribs" in out
    a = audit_json(capsys, "--evidence", SALT)
    assert a["spoiler_free"] is False
    assert all("snippet" in e for e in a["found_not_declared"][0]["evidence"])


def test_format_ao3_prints_one_pasteable_line(capsys):
    assert audit(capsys, "--format", "ao3", SALT) == (0, "Graphic Violence\n", "")
    assert audit(capsys, "--format", "ao3", SPRING) == (0, "Implied/Referenced Miscarriage\n", "")


def test_format_ao3_prints_nothing_when_nothing_is_missing(capsys):
    assert audit(capsys, "--format", "ao3", "--min-confidence", "1", SALT) == (0, "", "")


def test_format_json_is_the_same_as_json_and_conflicts_with_ao3(capsys):
    assert audit(capsys, "--format", "json", SPRING)[1] == audit(capsys, "--json", SPRING)[1]
    with pytest.raises(SystemExit) as info:
        main(["audit", "--json", "--format", "ao3", SPRING])
    assert info.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_min_confidence_moves_everything_to_not_found(capsys):
    a = audit_json(capsys, "--min-confidence", "1", SALT)
    assert a["declared_and_found"] == [] and a["found_not_declared"] == []
    assert ids(a["declared_not_found"]) == ["self-harm", "death", "blood-gore", "suicide"]
    assert a["min_confidence"] == 1.0


def test_unreadable_input_keeps_its_exit_code(capsys, tmp_path):
    code, out, err = audit(capsys, str(tmp_path / "missing.txt"))
    assert code == 3 and out == "" and err.count("\n") == 1


def test_library_entry_point_matches_the_cli(capsys):
    work = read_path(SALT)
    a = audit_work(work, Scanner(detectors=[LexiconDetector()]))
    assert [f.warning.id for f in a.declared_and_found] == ["blood-gore", "self-harm"]
    assert a.ao3_line() == "Graphic Violence"
    assert a.to_dict() == audit_json(capsys, SALT)


# -- rules, on hand-built reports ------------------------------------------------------


def det(wid: str, severity: str, confidence: float = 0.9) -> DetectedWarning:
    w = load_taxonomy().get(wid)
    ev = Evidence(1, 0, 0, 10, 0, 10, 0.1, confidence, severity, ("lexicon",), "r", "snip")
    return DetectedWarning(wid, w.name, w.group, confidence, severity, False, ("lexicon",),
                           (Location(1, 0.1, 0.2),), (ev,))


def dec(wid: str, qualifier: str | None = None, source: str = "freeform_tag",
        severity: str | None = None) -> DeclaredWarning:
    from forewarn.declared import qualifier_severity

    sev = severity if severity is not None else qualifier_severity(qualifier)
    return DeclaredWarning(wid, load_taxonomy().get(wid).name, source, f"{qualifier} {wid}",
                           qualifier, sev, True)


def rep(warnings: list[DetectedWarning], declared: list[DeclaredWarning] = ()) -> Report:
    return Report("w.txt", "text", "W", 1000, 1, warnings, list(declared), 0.5)


@pytest.mark.parametrize("qualifiers, severity, note", [
    (["implied"], "depicted", "declared as implied, but depicted on the page"),
    (["past"], "graphic", "declared as past, but shown in graphic detail"),
    (["referenced", "mentioned"], "depicted", "declared as referenced, but depicted on the page"),
    (["brief"], "graphic", "declared as brief, but shown in graphic detail"),
    (["brief"], "depicted", None),
    (["implied"], "mentioned", None),
    (["implied", None], "depicted", None),  # an unqualified declaration covers it
    ([None], "graphic", None),
    (["graphic"], "graphic", None),
])
def test_understated_declarations_are_pointed_out(qualifiers, severity, note):
    a = audit_report(rep([det("abuse", severity)], [dec("abuse", q) for q in qualifiers]))
    (found,) = a.declared_and_found
    assert found.note == note


GDOV = "Graphic Depictions Of Violence"


@pytest.mark.parametrize("archive, needed, phrase", [
    ([], [GDOV, "Major Character Death"], "on AO3 that calls for the archive warning"),
    (["No Archive Warnings Apply"], [GDOV, "Major Character Death"],
     'declared "No Archive Warnings Apply", but'),
    (["Major Character Death"], [GDOV], "as well"),
    (["Graphic Depictions Of Violence, Major Character Death"], [], None),
    (["Creator Chose Not To Use Archive Warnings"], [], None),
])
def test_archive_warnings_the_work_calls_for(archive, needed, phrase):
    r = rep([det("violence", "graphic"), det("war", "graphic"), det("death", "depicted"),
             det("sexual-assault", "mentioned"), det("underage", "mentioned")])
    a = audit_report(r, archive)
    assert [n.archive for n in a.archive_needed] == needed
    for n in a.archive_needed:
        assert phrase in n.message
        assert n.message.endswith('(or "Creator Chose Not To Use Archive Warnings")')
    mcd = [n for n in a.archive_needed if n.archive == "Major Character Death"]
    assert all("if a major character dies" in n.message for n in mcd)


def test_the_archive_field_is_read_as_the_report_reads_it():
    # one archive warning written with a comma stays one (and covers what it declares);
    # a list is split at commas, whitespace collapsed, empties and repeats dropped
    r = rep([det("sexual-assault", "depicted"), det("violence", "graphic")])
    a = audit_report(r, ["Rape, Non-Con", " Major   Character Death ,Major Character Death", ""])
    assert a.archive_declared == ["Rape, Non-Con", "Major Character Death"]
    assert [n.archive for n in a.archive_needed] == [GDOV]


def test_depicted_violence_does_not_call_for_the_graphic_archive_warning():
    a = audit_report(rep([det("violence", "depicted"), det("sexual-assault", "depicted"),
                          det("underage", "depicted")]), ["No Archive Warnings Apply"])
    assert [n.archive for n in a.archive_needed] == ["Rape/Non-Con", "Underage Sex"]


def test_only_found_not_declared_warnings_become_tags():
    r = rep([det("self-harm", "depicted"), det("death", "mentioned"), det("blood-gore", "depicted"),
             det("sexual-assault", "mentioned")], [dec("self-harm", "implied")])
    a = audit_report(r)
    assert a.additional_tags == ["Implied/Referenced Character Death", "Blood and Injury",
                                 "Implied/Referenced Rape/Non-con"]
    assert a.ao3_line() == ("Implied/Referenced Character Death, Blood and Injury, "
                            "Implied/Referenced Rape/Non-con")


# -- AO3 wording ---------------------------------------------------------------------


@pytest.mark.parametrize("wid, severity, tag", [
    ("self-harm", "depicted", "Self-Harm"),
    ("self-harm", "mentioned", "Implied/Referenced Self-Harm"),
    ("death", "mentioned", "Implied/Referenced Character Death"),
    ("sexual-assault", "mentioned", "Implied/Referenced Rape/Non-con"),
    ("child-abuse", "mentioned", "Implied/Referenced Child Abuse"),
    ("abuse", "mentioned", "Implied/Referenced Abuse"),
    ("miscarriage", "depicted", "Miscarriage"),
    ("miscarriage", "graphic", "Miscarriage"),
    ("blood-gore", "depicted", "Blood and Injury"),
    ("violence", "graphic", "Graphic Violence"),
    ("violence", "depicted", "Violence"),
    ("animal-cruelty", "depicted", "Animal Abuse"),
    ("abusive-language", "depicted", "Verbal Abuse"),
    ("sexual-content", "mentioned", "Implied Sexual Content"),
])
def test_ao3_tag_wording(wid, severity, tag):
    assert ao3_tag(wid, severity) == tag


def test_every_taxonomy_warning_has_an_ao3_tag():
    tax = load_taxonomy()
    assert set(AO3_TAGS) == set(tax.ids)
    for wid in tax.ids:
        for sev in ("mentioned", "depicted", "graphic"):
            assert "," not in ao3_tag(wid, sev)


def test_additional_tags_line_joins_without_repeats_or_stray_commas():
    assert additional_tags_line(["Self-Harm", " Blood, and Injury ", "Self-Harm", ""]) == (
        "Self-Harm, Blood and Injury")


def test_audit_takes_several_works_and_keeps_a_bad_one_in_place(capsys, tmp_path) -> None:
    import json
    from pathlib import Path

    from forewarn.cli import main

    example = str(Path(__file__).resolve().parent.parent / "examples" / "the-lighthouse-keeper.txt")
    missing = str(tmp_path / "missing.txt")
    assert main(["audit", "--json", example, missing, example]) == 3
    out, err = capsys.readouterr()
    first, second, third = json.loads(out)
    assert first == third and first["schema"].startswith("forewarn.audit/")
    assert second == {"source": missing, "error": f"{missing}: no such file", "exit_code": 3}
    assert err.count("\n") == 1


FLOOR_STORY = """Title: The Long Winter
Additional Tags: Implied/Referenced Alcoholism

Chapter 1

He had been a drunk for twenty years, and every night the bottle came out of the cupboard
before the plates were cleared. Nobody in the house mentioned it any more.
"""


def test_a_floor_below_the_scanners_shows_what_the_scanners_own_floor_leaves_out() -> None:
    """``min_confidence`` in the API is the floor of that scan: below the scanner's own, it
    shows the warnings between them (the report says the floor it was read at), and the
    audit counts them found."""
    from forewarn.ingest import read_text

    strict = Scanner(lexicon_only=True, min_confidence=0.99)
    work = read_text(FLOOR_STORY)
    assert strict.scan_work(work).warnings == []
    report = strict.scan_work(work, min_confidence=0.5)
    assert report.min_confidence == 0.5 and "addiction" in report.ids
    audit = audit_work(work, strict, min_confidence=0.5)
    assert [x.warning.id for x in audit.declared_and_found] == ["addiction"]
    assert "addiction" not in [x.declared[0].id for x in audit.declared_not_found]


@pytest.mark.parametrize("bad", [2, -1, float("nan"), 1.5])
def test_a_floor_outside_0_to_1_is_an_error_not_an_empty_report(bad) -> None:
    with pytest.raises(ValueError):
        Scanner(lexicon_only=True, min_confidence=bad)
    with pytest.raises(ValueError):
        Scanner(lexicon_only=True).scan("She made tea.", min_confidence=bad)


@pytest.mark.parametrize("source", [None, b"She made tea.", 3])
def test_scan_names_what_it_takes_when_given_something_else(source) -> None:
    with pytest.raises(TypeError, match="text, a path or a Work"):
        Scanner(lexicon_only=True).scan(source)
