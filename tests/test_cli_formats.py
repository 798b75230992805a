"""One ``--format`` on every command that prints results (issue 14), its choices the
renderers registered for the command's kind; ``--json`` the same as ``--format json``;
every JSON document with its ``schema``."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from forewarn.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = str(ROOT / "examples" / "the-lighthouse-keeper.txt")
AUDIT = str(ROOT / "tests" / "fixtures" / "audit" / "salt-and-iron.txt")
PROFILE = str(ROOT / "tests" / "fixtures" / "profiles" / "reader.toml")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv", [
    ["scan", "--lexicon-only", EXAMPLE],
    ["check", "--lexicon-only", "--profile", PROFILE, EXAMPLE],
    ["audit", "--lexicon-only", AUDIT],
    ["taxonomy"],
])
def test_json_is_the_alias_of_format_json(capsys, argv: list[str]) -> None:
    code, by_alias, _ = run(capsys, *argv, "--json")
    code2, by_format, _ = run(capsys, *argv, "--format", "json")
    assert code == code2 and by_alias == by_format
    code3, both, _ = run(capsys, *argv, "--json", "--format", "json")
    assert code3 == code and both == by_alias
    assert json.loads(by_alias)["schema"].startswith("forewarn.")


def test_scan_jsonl_keeps_every_input_in_order(capsys, tmp_path) -> None:
    missing = str(tmp_path / "missing.txt")
    code, out, err = run(capsys, "scan", "--lexicon-only", "--format", "jsonl", missing,
                         EXAMPLE)
    assert code == 3 and "missing.txt: no such file" in err
    first, second = (json.loads(line) for line in out.splitlines())
    assert first == {"source": missing, "error": f"{missing}: no such file", "exit_code": 3}
    assert second["schema"] == "forewarn.report/2" and second["source"] == EXAMPLE


def test_scan_csv_is_one_row_per_warning(capsys) -> None:
    code, out, _ = run(capsys, "scan", "--lexicon-only", "--format", "csv", EXAMPLE)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    code, js, _ = run(capsys, "scan", "--lexicon-only", "--json", EXAMPLE)
    report = json.loads(js)
    assert [r["warning"] for r in rows] == [w["id"] for w in report["warnings"]]
    assert {r["title"] for r in rows} == {"The Lighthouse Keeper"}


def test_check_and_audit_jsonl(capsys) -> None:
    code, out, _ = run(capsys, "check", "--lexicon-only", "--profile", PROFILE,
                       "--format", "jsonl", EXAMPLE, AUDIT)
    lines = [json.loads(line) for line in out.splitlines()]
    assert [v["source"] for v in lines] == [EXAMPLE, AUDIT]
    code, out, _ = run(capsys, "audit", "--lexicon-only", "--format", "jsonl", AUDIT)
    [audit] = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and audit["schema"] == "forewarn.audit/1"


@pytest.mark.parametrize(("argv", "bad"), [
    (["scan", "--format", "ao3", EXAMPLE], "ao3"),
    (["check", "--profile", PROFILE, "--format", "csv", EXAMPLE], "csv"),
    (["taxonomy", "--format", "jsonl"], "jsonl"),
    (["export", "--store", "x.db", "--format", "text"], "text"),
])
def test_a_format_that_does_not_apply_is_a_usage_error(capsys, argv, bad) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert f"invalid choice: '{bad}'" in capsys.readouterr().err


def test_batch_stats_and_export_formats(capsys, tmp_path) -> None:
    folder = tmp_path / "stories"
    folder.mkdir()
    shutil.copy(EXAMPLE, folder / "=HYPERLINK(1).txt")
    db = str(tmp_path / "r.db")
    code, out, err = run(capsys, "batch", str(folder), "--store", db, "--jobs", "1",
                         "--lexicon-only", "--quiet", "--format", "json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["schema"] == "forewarn.batch/1" and summary["scanned"] == 1
    code, out, _ = run(capsys, "stats", "--store", db, "--format", "json")
    stats = json.loads(out)
    assert code == 0 and stats["schema"] == "forewarn.stats/1" and stats["works"] == 1
    code, text, _ = run(capsys, "stats", "--store", db, "--format", "text")
    assert "1 works (1 scanned, 0 failed)" in text
    code, out, _ = run(capsys, "export", "--store", db, "--format", "csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert code == 0 and rows[1][0] == "'=HYPERLINK(1).txt"  # no formula in a spreadsheet
    code, out, err = run(capsys, "export", "--store", db, "--format", "parquet")
    assert code == 2 and "--format parquet needs -o FILE" in err


def test_eval_format_json_prints_the_numbers_with_a_schema(capsys, tmp_path) -> None:
    code, out, _ = run(capsys, "eval", "documents", "--quiet", "--data", str(tmp_path),
                       "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["schema"] == "forewarn.eval/1" and doc["sections"][0]["part"] == "documents"


def test_every_json_output_names_its_schema(capsys, tmp_path) -> None:
    """Each line of an export too (forewarn.export/1)."""
    folder = tmp_path / "stories"
    folder.mkdir()
    shutil.copy(EXAMPLE, folder / "a.txt")
    db = str(tmp_path / "r.db")
    assert run(capsys, "batch", str(folder), "--store", db, "--jobs", "1", "--lexicon-only",
               "--quiet")[0] == 0
    code, out, _ = run(capsys, "export", "--store", db, "--format", "jsonl")
    assert code == 0
    [record] = [json.loads(line) for line in out.splitlines()]
    assert record["schema"] == "forewarn.export/1"
    assert record["report"]["schema"] == "forewarn.report/2"


def test_spoiler_free_json_names_no_word_of_the_story(capsys, tmp_path) -> None:
    """Without --evidence, nothing of the story's text is in the JSON: the lexicon's
    ``reason`` names its warning, not the words it matched (a cue may take a clause)."""
    story = tmp_path / "twist.txt"
    story.write_text("They dragged her, screaming that he was her real father, into the back "
                     "of the van and drove away into the night.\n", encoding="utf-8")
    for argv in (["scan", "--json"], ["audit", "--json"], ["scan", "--format", "jsonl"]):
        main([*argv, "--lexicon-only", str(story)])
        out = capsys.readouterr().out
        assert "kidnapping" in out and "real father" not in out and "van" not in out, argv
    main(["scan", "--json", "--evidence", "--lexicon-only", str(story)])
    assert "real father" in capsys.readouterr().out  # asked for: quoted
