"""The `forewarn` command end to end: reports, JSON, filters, and every kind of bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from forewarn.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "the-lighthouse-keeper.txt"
STORIES = ROOT / "tests" / "fixtures" / "stories"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_scan_example_prints_a_spoiler_free_report(capsys):
    code, out, err = run(capsys, "scan", str(EXAMPLE))
    assert code == 0, err
    assert "The Lighthouse Keeper" in out
    assert "Blood and gore" in out and "Death" in out
    assert "chapter 2," in out and "%" in out
    # no story text is quoted without --evidence
    assert "\u201c" not in out
    assert "drowned" not in out


def test_evidence_flag_quotes_the_passages(capsys):
    code, out, _ = run(capsys, "scan", "--evidence", str(EXAMPLE))
    assert code == 0
    assert "\u201c" in out and "drowned" in out


def test_json_report_follows_the_documented_schema(capsys):
    code, out, _ = run(capsys, "scan", "--json", str(STORIES / "quiet-months.txt"))
    assert code == 0
    report = json.loads(out)
    assert report["schema"] == "forewarn.report/2"
    assert report["spoiler_free"] is True
    ids = [w["id"] for w in report["warnings"]]
    assert "miscarriage" in ids and "pregnancy" in ids
    for w in report["warnings"]:
        assert set(w) >= {"id", "name", "group", "confidence", "severity", "declared",
                          "locations", "evidence"}
        assert 0.0 <= w["confidence"] <= 1.0
        assert w["severity"] in ("mentioned", "depicted", "graphic")
        for ev in w["evidence"]:
            assert "snippet" not in ev  # spoiler-free by default
            assert ev["chapter"] >= 1 and ev["start"] < ev["end"]
    code, out, _ = run(capsys, "scan", "--json", "--evidence", str(STORIES / "quiet-months.txt"))
    assert all("snippet" in ev for w in json.loads(out)["warnings"] for ev in w["evidence"])


def test_only_and_min_confidence_filter(capsys):
    code, out, _ = run(capsys, "scan", "--json", "--only", "pregnancy loss",
                       str(STORIES / "quiet-months.txt"))
    assert code == 0
    assert [w["id"] for w in json.loads(out)["warnings"]] == ["miscarriage"]
    code, out, _ = run(capsys, "scan", "--json", "--min-confidence", "1", str(EXAMPLE))
    assert json.loads(out)["warnings"] == []


def test_unknown_warning_in_only_is_a_usage_error_with_a_suggestion(capsys):
    code, _, err = run(capsys, "scan", "--only", "miscariage", str(EXAMPLE))
    assert code == 2
    assert err.count("\n") == 1 and "miscarriage" in err


def test_several_inputs_give_a_json_array(capsys):
    code, out, _ = run(capsys, "scan", "--json", str(EXAMPLE), str(STORIES / "quiet-months.txt"))
    assert code == 0
    assert json.loads(out)[0]["title"] == "The Lighthouse Keeper"


@pytest.fixture
def bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, int]]:
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n\n")
    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    pdf = tmp_path / "story.pdf"
    pdf.write_bytes(b"%PDF-1.4\n")
    epub = tmp_path / "broken.epub"
    epub.write_bytes(b"PK\x03\x04 this is not really a zip")
    html = tmp_path / "broken.html"  # cut off mid-tag, no story text left in it
    html.write_bytes(b"<html><head><title>x</title></head><body><div><p></div></sp")
    binary_html = tmp_path / "binary.html"
    binary_html.write_bytes(b"<html><body><p>\x00\x01\x02\x00</body")
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as f:
        f.truncate(200 * 1024 * 1024)
    bad_utf8 = tmp_path / "bad-utf8.txt"
    bad_utf8.write_bytes("Caf\u00e9 na\u00efve r\u00e9sum\u00e9. ".encode() * 20 + b"\xff\xfe\xc3(")
    control = tmp_path / "control.txt"
    control.write_text("She opened the door.\x01\x02 And walked in.\n")
    return {
        "missing": (tmp_path / "nope.txt", 3),
        "directory": (tmp_path, 3),
        "empty": (empty, 4),
        "binary": (binary, 5),
        "unsupported": (pdf, 5),
        "malformed-epub": (epub, 6),
        "malformed-html": (html, 4),
        "binary-html": (binary_html, 5),
        "huge": (huge, 7),
        "invalid-utf8": (bad_utf8, 6),
        "control-chars": (control, 6),
    }


@pytest.mark.parametrize("case", ["missing", "directory", "empty", "binary", "unsupported",
                                  "malformed-epub", "malformed-html", "binary-html", "huge",
                                  "invalid-utf8",
                                  "control-chars"])
def test_bad_input_gets_one_line_and_its_exit_code(capsys, bad_inputs, case):
    path, expected = bad_inputs[case]
    code, out, err = run(capsys, "scan", str(path))
    assert code == expected, err
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("forewarn: ")
    assert "Traceback" not in err


def test_a_bad_file_does_not_stop_the_good_ones(capsys, bad_inputs):
    missing, _ = bad_inputs["missing"]
    empty, _ = bad_inputs["empty"]
    code, out, err = run(capsys, "scan", str(missing), str(EXAMPLE), str(empty))
    assert code == 3  # the first failure's code
    assert "The Lighthouse Keeper" in out
    assert err.count("\n") == 2


def test_standard_input_and_subprocess_entry_point():
    story = (STORIES / "quiet-months.txt").read_text(encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "forewarn", "scan", "--json", "-"],
                          input=story.encode(), capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    assert "miscarriage" in [w["id"] for w in json.loads(proc.stdout)["warnings"]]
    proc = subprocess.run([sys.executable, "-m", "forewarn", "scan", "/no/such/story.txt"],
                          capture_output=True, timeout=120)
    assert proc.returncode == 3
    assert proc.stderr.decode().count("\n") == 1 and b"Traceback" not in proc.stderr


def test_taxonomy_command_lists_every_warning(capsys):
    code, out, _ = run(capsys, "taxonomy", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["schema"] == "forewarn.taxonomy/1"
    ids = {w["id"] for w in doc["warnings"]}
    assert {"miscarriage", "child-death", "vomiting", "self-harm"} <= ids
    from forewarn.service.routes import cached_taxonomy

    assert doc == cached_taxonomy()  # one shape for the CLI and GET /v1/taxonomy


@pytest.fixture
def fifo(tmp_path: Path):
    import os

    from ingest_helpers import Fifo

    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this platform")
    pipe = Fifo(tmp_path / "pipe.txt")
    yield pipe.path
    pipe.close()


def test_a_fifo_is_refused_by_scan_check_and_read(capsys, fifo, tmp_path):
    code, out, err = run(capsys, "scan", "--lexicon-only", str(fifo), str(EXAMPLE))
    assert code == 3, err
    assert "The Lighthouse Keeper" in out  # the good file is still scanned
    assert err == f"forewarn: {fifo}: is a FIFO (named pipe), not a regular file " \
                  "(use - to read standard input)\n"
    profile = ROOT / "tests" / "fixtures" / "profiles" / "reader.toml"
    code, _, err = run(capsys, "check", "--profile", str(profile), str(fifo))
    assert code == 3 and err.count("\n") == 1 and "is a FIFO" in err, err
    code, _, err = run(capsys, "read", "--lexicon-only", str(fifo), "-o",
                       str(tmp_path / "copy.html"))
    assert code == 3 and err.count("\n") == 1 and "is a FIFO" in err, err
    assert not (tmp_path / "copy.html").exists()


def test_hostile_encodings_are_exit_6_with_one_line(capsys, tmp_path):
    utf8 = tmp_path / "story.txt"
    utf8.write_bytes(("The keeper climbed the stairs and lit the lamp. " * 20 + "\n\n").encode())
    rot13 = tmp_path / "rot13.html"
    rot13.write_bytes(b'<html><head><meta charset="rot13"></head><body><p>Caf\xe9.</p></body>')
    mixed = tmp_path / "mixed.txt"
    mixed.write_bytes("Caf\u00e9 at the harbour. ".encode() + b"Then \x93quoted\x94 here.\n")
    control = tmp_path / "control.html"
    control.write_bytes(b"<html><body><p>She opened \x01 the door.</p></body></html>")
    for argv, fragment in [
        (["--encoding", "hex", str(utf8)], "'hex' is not a text encoding"),
        (["--encoding", "utf-16", str(utf8)], "it reads as utf-8"),
        ([str(rot13)], "declared charset 'rot13' is not a text encoding"),
        ([str(mixed)], "invalid UTF-8 at byte"),
        ([str(control)], "control character U+0001"),
    ]:
        code, out, err = run(capsys, "scan", "--lexicon-only", *argv)
        assert code == 6, (argv, err)
        assert out == "" and err.count("\n") == 1 and fragment in err, err
        assert err.startswith("forewarn: ") and "Traceback" not in err


def test_a_bare_forewarn_prints_its_usage(capsys) -> None:
    from forewarn.cli import main as cli_main

    assert cli_main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: forewarn") and "scan" in err and "check" in err


def test_scan_and_audit_describe_themselves(capsys) -> None:
    from forewarn.cli import main as cli_main

    for command, words in (("scan", "which content warnings"), ("audit", "declares")):
        with pytest.raises(SystemExit):
            cli_main([command, "--help"])
        assert words in " ".join(capsys.readouterr().out.split())


def test_eval_with_no_part_able_to_run_says_so_and_fails(capsys, tmp_path, monkeypatch) -> None:
    import forewarn.eval as harness
    from forewarn.cli import main as cli_main
    from forewarn.eval.report import Section

    monkeypatch.setattr(harness, "run_parts", lambda names, ctx, skip_missing=True: [
        Section(n, n, skipped="no data") for n in names])
    assert cli_main(["eval", "all", "--quiet", "--data", str(tmp_path)]) == 3
    assert "no part could run" in capsys.readouterr().err


def test_scan_json_keeps_every_input_in_order_with_its_error(capsys, tmp_path) -> None:
    missing = str(tmp_path / "missing.txt")
    code, out, err = run(capsys, "scan", "--json", missing, str(EXAMPLE))
    assert code == 3 and err.count("\n") == 1
    first, second = json.loads(out)
    assert first == {"source": missing, "error": f"{missing}: no such file", "exit_code": 3}
    assert second["schema"] == "forewarn.report/2"


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch) -> None:
    import forewarn
    from forewarn.render.terminal import render_text, use_colour

    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert use_colour(Tty()) and not use_colour(object())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_colour(Tty())
    report = forewarn.scan(EXAMPLE)
    coloured, plain = render_text(report, colour=True), render_text(report)
    assert "\033[" in coloured and "\033[" not in plain
    assert coloured.replace("\033[1;31m", "").replace("\033[33m", "").replace(
        "\033[2m", "").replace("\033[0m", "") == plain


def test_many_places_are_summarised_and_by_chapter_shows_where_a_work_is_clear() -> None:
    from forewarn.render.terminal import render_by_chapter, summarise_locations
    from forewarn.report import Location

    few = [Location(2, 0.2, 0.4), Location(3, 0.0, 0.1)]
    assert summarise_locations(few) == "chapter 2, 20-40%; chapter 3, 0-10%"
    many = [Location(c, 0.5, 0.6) for c in (9, 1, 2, 3, 7, 12, 13, 14, 15)]
    line = summarise_locations(many)
    assert line == "chapters 1-3, 7, 9 and 12-15 (9 places; first: chapter 1, 50-60%)"
    import forewarn

    report = forewarn.scan(EXAMPLE)
    table = render_by_chapter(report).splitlines()
    assert table[0].startswith("By chapter") and len(table) == 2 + report.chapter_count
    header, first, second = table[1], table[2], table[3]
    col = header.index("Addiction")
    assert first[col] in "mdG" and second[col] == "\u00b7"  # the drinking is in chapter 1


def test_scan_by_chapter_prints_the_table(capsys) -> None:
    code, out, _ = run(capsys, "scan", "--by-chapter", str(EXAMPLE))
    assert code == 0 and "By chapter (G graphic" in out


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this platform")
@pytest.mark.parametrize("argv", [["taxonomy"], ["scan", "--lexicon-only", "-"]])
def test_a_full_standard_output_is_one_line_and_exit_3(argv):
    # "internal error: OSError: [Errno 28] ... (please report this)" before (review 19, 16)
    src = str(Path(__file__).resolve().parent.parent / "src")
    with open("/dev/full", "wb") as full:
        done = subprocess.run([sys.executable, "-m", "forewarn", *argv], stdout=full,
                              input=b"She made tea.\n", stderr=subprocess.PIPE, timeout=120,
                              env={**os.environ, "PYTHONPATH": src})
    err = done.stderr.decode()
    assert done.returncode == 3, err
    assert err == "forewarn: cannot write the output: No space left on device\n"


@pytest.mark.parametrize(("env", "argv", "message"), [
    ({"FOREWARN_ENGINE": "vl"}, ["scan", "{story}"], "FOREWARN_ENGINE='vl' is not an engine"),
    ({"FOREWARN_START_METHOD": "bogus"}, ["batch", "{story}", "--store", "{tmp}/r.db"],
     "FOREWARN_START_METHOD='bogus' is not a start method"),
])
def test_a_bad_environment_value_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch, env,
                                                        argv, message):
    # a typo quietly ran the other engine; a bad start method was an internal error
    # (review 19, finding 13)
    story = tmp_path / "s.txt"
    story.write_text("She made tea.\n", encoding="utf-8")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    argv = [a.replace("{story}", str(story)).replace("{tmp}", str(tmp_path)) for a in argv]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and message in err, err


def test_a_superscript_digit_in_forewarn_threads_is_not_a_crash(monkeypatch):
    from forewarn.detect.encoder import encoder_threads

    monkeypatch.setenv("FOREWARN_THREADS", "\u00b2")  # isdigit() but not int()-able
    assert encoder_threads() >= 1
