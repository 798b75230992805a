"""The renderer registry and its contract: every registered renderer neutralises a hostile
story for its format.

The hostile story's title, source, text and declared tags hold a ``<script>`` element,
ANSI escapes (``\\x1b[31m``), a C1 control (CSI, ``\\x9b``), a bidirectional override, a
CSV formula (``=HYPERLINK(...)``) and newlines. For every registered renderer and every
kind it renders, ``SAMPLES`` builds that kind's items from the story, and ``CHECKS`` names
what the format must guarantee: text shows no escape it did not write and keeps the title
on one line; JSON and JSON lines parse back to the very same title; CSV cells cannot start
a formula; the AO3 line holds no markup; Parquet keeps the title as data. A renderer
registered without a check, or a kind without a sample, fails the contract.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from forewarn.render.registry import (
    KINDS,
    Failed,
    RenderOptions,
    format_help,
    get_renderer,
    register_renderer,
    render_to_string,
    renderer_names,
    renderers,
    unregister_renderer,
)
from forewarn.work import Chapter, Work

EVIL = ('Evil <script>alert(1)</script> \x1b[31mRED\x1b[0m \x9b2J \u202eesrever '
        '=HYPERLINK("http://evil.example","click")\nGRAPHIC  Forged line')
EVIL_SOURCE = '=HYPERLINK("http://evil.example")<script>x</script>\x1b[2J\n.txt'
STORY = [
    "He stabbed the guard and beat him until he stopped moving. Blood pooled on the stones "
    f"and soaked into the straw. {EVIL}",
    f"{EVIL} The knife went in again and again; blood ran from the wound over his hands.",
]


def _work() -> Work:
    chapter = Chapter.from_paragraphs(1, EVIL, STORY)
    return Work(chapters=[chapter], title=EVIL, source=EVIL_SOURCE, format="text",
                source_text=chapter.text, freeform_tags=[f"Violence {EVIL}", "Blood"],
                content_notes=[EVIL])


@pytest.fixture(scope="module")
def report():
    from forewarn.scanner import Scanner

    found = Scanner(lexicon_only=True, min_confidence=0.0).scan_work(_work())
    assert found.warnings, "the hostile story should have warnings to render"
    assert found.title == EVIL and found.source == EVIL_SOURCE
    return found


def _failed() -> Failed:
    from forewarn.errors import MalformedInput

    return Failed(EVIL_SOURCE, MalformedInput(f"{EVIL_SOURCE}: broken {EVIL}"))


def _verdicts(report) -> list[Any]:
    from forewarn.profile import Profile
    from forewarn.verdict import Verdict

    profile = Profile.from_dict({"avoid": {"violence": "mentioned", "blood": {
        "severity": "mentioned", "alias": "the red thing"}}}, source="p.toml")
    return [Verdict.of(report, profile, 0.0), _failed()]


def _audits(report) -> list[Any]:
    from forewarn.audit import audit_report

    return [audit_report(report), _failed()]


def _stats(report) -> list[Any]:
    bins = [{"from": i / 10, "to": (i + 1) / 10, "count": i} for i in range(10)]
    return [{"store": EVIL_SOURCE, "works": 2, "ok": 1, "failed": 1, "works_with_warnings": 1,
             "warnings": {"violence": {"mentioned": 0, "depicted": 1, "graphic": 0,
                                       "total": 1}},
             "confidence_histogram": {"warning": None, "bins": bins},
             "failures": {EVIL: 1}, "model_versions": {EVIL: 1}}]


def _taxonomy(report) -> list[Any]:
    from forewarn.taxonomy import load_taxonomy

    return [load_taxonomy()]


def _batch(report) -> list[Any]:
    from forewarn.batch import BatchSummary

    return [BatchSummary(total=2, scanned=1, failed=1, store=EVIL_SOURCE, model_version=EVIL,
                         warnings=Counter({"violence": 1}), failures=Counter({EVIL: 1}))]


class _Store:
    """What an export reads from a store, holding the hostile work."""

    def __init__(self, report) -> None:
        self.report = report

    def iter_works(self, **filters: Any):
        yield {"work_id": EVIL, "source": EVIL_SOURCE, "content_hash": "abc",
               "forewarn_version": "1", "model_version": "m", "status": "ok",
               "error_kind": None, "error_message": None, "title": EVIL, "format": "text",
               "word_count": 50, "chapters": 1, "warning_count": len(self.report.warnings),
               "report": self.report.to_json(evidence=False), "scanned_at": "-1"}
        yield {"work_id": "+2", "source": "@x", "content_hash": "def",
               "forewarn_version": "1", "model_version": "m", "status": "failed",
               "error_kind": "malformed", "error_message": EVIL, "title": None,
               "format": None, "word_count": None, "chapters": None, "warning_count": None,
               "report": None, "scanned_at": "-1"}

    def iter_warnings(self, **filters: Any):
        for w in self.report.warnings:
            yield {"work_id": EVIL, "warning": w.id, "severity": w.severity,
                   "severity_rank": 2, "confidence": w.confidence, "declared": w.declared}


def _export(report) -> list[Any]:
    from forewarn.export import Export

    return [Export(_Store(report))]


def _eval(report) -> list[Any]:
    from forewarn.eval.report import EvalResult, Section, Table

    section = Section(part="testset", title=EVIL, intro=EVIL,
                      tables=[Table(headers=["warning", "F1"], rows=[[EVIL, 0.5]])],
                      notes=[EVIL])
    return [EvalResult([section], {"command": EVIL}, [f"- command: {EVIL}"])]


#: Each kind's items, built from the hostile story's report.
SAMPLES: dict[str, Callable[[Any], list[Any]]] = {
    "report": lambda report: [report, _failed()],
    "verdict": _verdicts,
    "audit": _audits,
    "stats": _stats,
    "taxonomy": _taxonomy,
    "batch": _batch,
    "export": _export,
    "eval": _eval,
}


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


_RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def check_text(kind: str, out: str, options: RenderOptions) -> None:
    """No control character or bidi override but the colours it writes itself; the title
    is on one line."""
    if options.colour:
        out = re.sub(r"\x1b\[(?:1;31|33|2|0)m", "", out)
    assert not _RAW_CONTROL.search(out), repr(_RAW_CONTROL.search(out))
    assert "\\x1b[31m" in out or kind in ("taxonomy", "export")  # shown, not obeyed
    if kind != "eval":  # eval's markdown notes may span lines; the rest keep a title whole
        for line in out.splitlines():
            assert not line.startswith("GRAPHIC  Forged"), "a newline in a title forged a line"


def _check_json_value(kind: str, value: Any) -> None:
    if kind != "taxonomy":
        assert EVIL in _strings(value) or EVIL_SOURCE in _strings(value), \
            "the hostile strings round-trip"


def check_json(kind: str, out: str, options: RenderOptions) -> None:
    """Valid JSON, with its schema, giving back the very same strings; no raw control."""
    assert not _RAW_CONTROL.search(out.replace("\n", "")), "raw control characters in JSON"
    value = json.loads(out)
    _check_json_value(kind, value)
    schemas = [value.get("schema")] if isinstance(value, dict) else [
        v.get("schema") for v in value if "error" not in v]
    assert all(isinstance(s, str) and s.startswith("forewarn.") for s in schemas), schemas


def check_jsonl(kind: str, out: str, options: RenderOptions) -> None:
    """One valid JSON object per line, giving back the very same strings."""
    assert not _RAW_CONTROL.search(out.replace("\n", ""))
    lines = out.splitlines()
    assert len(lines) >= 2
    values = [json.loads(line) for line in lines]
    _check_json_value(kind, values)


def check_csv(kind: str, out: str, options: RenderOptions) -> None:
    """A table no cell of which a spreadsheet would run as a formula; the strings intact
    behind the guard."""
    rows = list(csv.reader(io.StringIO(out)))
    assert len(rows) >= 3
    cells = [cell for row in rows for cell in row]
    starts = [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r", "\n")]
    assert not starts, starts
    # no control or direction-override character reaches a cell (they become U+FFFD);
    # line breaks stay, quoted, as CSV allows
    assert not [c for c in cells if _RAW_CONTROL.search(c.replace("\n", ""))]
    shown = [_RAW_CONTROL.sub("\ufffd", s) for s in (EVIL_SOURCE, EVIL)]
    assert any(("'" + v) in cells or v in cells for v in shown)


def check_ao3(kind: str, out: str, options: RenderOptions) -> None:
    """Tags to paste into AO3: no markup, no control characters, one line per work."""
    assert "<script" not in out.lower() and "<" not in out
    assert not _RAW_CONTROL.search(out.replace("\n", ""))
    assert len(out.splitlines()) == 1  # one audited work with tags to add (the other failed)


def check_parquet(kind: str, out: bytes, options: RenderOptions) -> None:
    """A Parquet file keeping the strings as data."""
    assert isinstance(out, bytes) and out[:4] == b"PAR1"
    pq = pytest.importorskip("pyarrow.parquet")
    table = pq.read_table(io.BytesIO(out)).to_pylist()
    assert table[0]["work_id"] == EVIL


#: What each format guarantees; a renderer registered without a check fails the contract.
CHECKS: dict[str, Callable[[str, Any, RenderOptions], None]] = {
    "text": check_text, "json": check_json, "jsonl": check_jsonl, "csv": check_csv,
    "ao3": check_ao3, "parquet": check_parquet,
}

CASES = [(r.name, kind) for r in renderers() for kind in sorted(r.kinds)]


def test_every_renderer_and_kind_has_a_check_and_a_sample() -> None:
    assert {r.name for r in renderers()} <= set(CHECKS)
    assert set(KINDS) <= set(SAMPLES)
    assert set(KINDS) == {k for r in renderers() for k in r.kinds}, "a kind nobody renders"


@pytest.mark.parametrize(("name", "kind"), CASES)
@pytest.mark.parametrize("colour", [False, True], ids=["plain", "colour"])
def test_renderer_neutralises_a_hostile_story(report, name: str, kind: str,
                                              colour: bool) -> None:
    if name == "parquet":
        pytest.importorskip("pyarrow")
    options = RenderOptions(evidence=True, colour=colour, by_chapter=True, many=True,
                            meta={"min_confidence": 0.5})
    out = render_to_string(name, kind, SAMPLES[kind](report), options)
    assert out, f"{name} wrote nothing for {kind}"
    CHECKS[name](kind, out, options)


def test_one_json_object_for_one_input_and_nothing_for_one_failure(report) -> None:
    one = json.loads(render_to_string("json", "report", [report]))
    assert one["schema"] == "forewarn.report/2" and one["title"] == EVIL
    assert render_to_string("json", "report", [_failed()]) == ""
    [entry] = json.loads(render_to_string("json", "report", [_failed()],
                                          RenderOptions(many=True)))
    assert entry["source"] == EVIL_SOURCE and entry["exit_code"] == 6


def test_the_registry_gives_each_command_its_formats() -> None:
    assert renderer_names("report") == ("text", "json", "jsonl", "csv")
    assert renderer_names("verdict") == ("text", "json", "jsonl")
    assert renderer_names("audit") == ("text", "json", "jsonl", "ao3")
    assert renderer_names("export") == ("jsonl", "csv", "parquet")
    for kind in ("stats", "taxonomy", "batch", "eval"):
        assert renderer_names(kind) == ("text", "json")
    assert get_renderer("parquet", "export").needs_file
    with pytest.raises(KeyError):
        get_renderer("ao3", "report")
    assert format_help("export", "jsonl").startswith("jsonl (default); csv: ")


def test_register_checks_its_kinds_and_name() -> None:
    def nothing(kind, items, out, options):
        out.write("x\n")

    with pytest.raises(ValueError, match="unknown kind"):
        register_renderer("yaml", kinds=("reports",), render=nothing)
    with pytest.raises(ValueError, match="already registered"):
        register_renderer("json", kinds=("report",), render=nothing)


def test_one_registration_reaches_every_command(capsys) -> None:
    """A new format is one registration: it is a --format choice of the commands of its
    kinds, in their help, and what they print."""
    from forewarn.cli import build_parser, main

    def tsv(kind, items, out, options):
        for tax in items:
            for w in tax.warnings:
                out.write(f"{w.id}\t{w.name}\n")

    register_renderer("tsv", kinds=("taxonomy",), render=tsv, label="tab-separated")
    try:
        with pytest.raises(SystemExit):
            build_parser().parse_args(["taxonomy", "--help"])
        assert "tsv: tab-separated" in " ".join(capsys.readouterr().out.split())
        assert main(["taxonomy", "--format", "tsv"]) == 0
        assert "violence\tViolence" in capsys.readouterr().out.splitlines()
        with pytest.raises(SystemExit):  # not a choice where it does not apply
            build_parser().parse_args(["stats", "--store", "x.db", "--format", "tsv"])
    finally:
        unregister_renderer("tsv")
    capsys.readouterr()


@pytest.mark.parametrize("command", [
    ["scan", "PATH"], ["check", "--profile", "P", "PATH"], ["audit", "PATH"],
    ["stats", "--store", "S"], ["taxonomy"], ["batch", "IN", "--store", "S"]])
def test_json_conflicts_with_another_format(command: list[str], capsys) -> None:
    from forewarn.cli import main

    first = "ao3" if command[0] == "audit" else "text"
    with pytest.raises(SystemExit) as exc:
        main([*command, "--json", "--format", first])
    assert exc.value.code == 2
    assert f"--json conflicts with --format {first}" in capsys.readouterr().err


def test_the_docs_list_the_registered_formats() -> None:
    """docs/cli.md's table of output formats is the registry's (regenerate it with
    ``forewarn.render.registry.renderers_markdown()``), and every ``--format a|b|c`` a doc
    shows for a command is exactly that command's formats."""
    from pathlib import Path

    from forewarn.render.registry import renderers_markdown

    root = Path(__file__).resolve().parent.parent
    doc = (root / "docs" / "cli.md").read_text(encoding="utf-8")
    shown = re.search(r"<!-- output-formats -->\n(.*?)<!-- /output-formats -->", doc, re.S)
    assert shown is not None, "docs/cli.md has no output-formats table"
    assert shown.group(1) == renderers_markdown()
    kind_of = {command: kind for kind, command in KINDS.items()}
    seen = set()
    for path in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        # a synopsis: "forewarn COMMAND ..." up to the next "forewarn " or blank line
        for block in re.finditer(r"forewarn (\w+)\b(.*?)(?=\nforewarn |\n\n|\n```|$)",
                                 text, re.S):
            command, rest = block.group(1), block.group(2)
            for listed in re.findall(r"--format ((?:\w+\|)+\w+)", rest):
                assert tuple(listed.split("|")) == renderer_names(kind_of[command]), \
                    f"{path.name}: forewarn {command} --format {listed}"
                seen.add(command)
    assert set(KINDS.values()) <= seen, "docs/cli.md shows every command's --format"
