"""One terminal style: the report, the verdict and the audit print a warning in the same
columns, colour its severity the same way, and the domain objects hold no text layout."""

from __future__ import annotations

import re

import pytest

from forewarn.profile import Profile
from forewarn.render.terminal import (
    render_audit,
    render_text,
    render_verdict,
    severity_label,
    warning_line,
)

STORY = "tests/fixtures/audit/salt-and-iron.txt"
_COLOURS = re.compile(r"\x1b\[(?:1;31|33|2|0)m")


@pytest.fixture(scope="module")
def scanned():
    from forewarn.audit import audit_work
    from forewarn.ingest import read_path
    from forewarn.scanner import Scanner

    scanner = Scanner(lexicon_only=True)
    work = read_path(STORY)
    report = scanner.scan_work(work)
    return report, audit_work(work, scanner)


def _warning_lines(text: str) -> dict[str, str]:
    """The lines that start with a severity column, by their text without the indent."""
    out = {}
    for line in _COLOURS.sub("", text).splitlines():
        stripped = line.lstrip()
        if stripped.split("  ")[0].strip() in ("GRAPHIC", "depicted", "mentioned"):
            out[stripped.split()[1]] = stripped
    return out


def test_a_warning_is_the_same_line_in_the_report_the_verdict_and_the_audit(scanned) -> None:
    from forewarn.verdict import Verdict

    report, audit = scanned
    assert report.warnings
    profile = Profile.from_dict({"avoid": {w.id: "mentioned" for w in report.warnings}},
                                source="p.toml")
    verdict = Verdict.of(report, profile, report.min_confidence)
    in_report = _warning_lines(render_text(report))
    in_verdict = _warning_lines(render_verdict(verdict))
    in_audit = _warning_lines(render_audit(audit))
    for w in report.warnings:
        first = w.name.split()[0]
        severity = in_report[first].split(None, 1)[0]
        assert in_verdict[first].split(None, 1)[0] == severity
        assert in_audit[first].split(None, 1)[0] == severity
        # severity column, then name, confidence and where, whatever the name's padding
        for line in (in_report[first], in_verdict[first], in_audit[first]):
            assert line.startswith(severity_label(w.severity) + "  " + w.name)
            assert f"{w.confidence:.2f}  chapter" in line


def test_colour_marks_the_severity_in_every_renderer(scanned) -> None:
    from forewarn.verdict import Verdict

    report, audit = scanned
    profile = Profile.from_dict({"avoid": {w.id: "mentioned" for w in report.warnings}},
                                source="p.toml")
    verdict = Verdict.of(report, profile, report.min_confidence)
    for render in (lambda c: render_text(report, colour=c),
                   lambda c: render_verdict(verdict, colour=c),
                   lambda c: render_audit(audit, colour=c)):
        coloured, plain = render(True), render(False)
        assert "\x1b[" in coloured and "\x1b[" not in plain
        assert _COLOURS.sub("", coloured) == plain


def test_warning_line_escapes_the_name_but_keeps_its_own_colour() -> None:
    line = warning_line("graphic", "Evil \x1b[31mRED", 12, "0.99  chapter 1, 0-5%",
                        colour=True)
    assert line.startswith("  \x1b[1;31mGRAPHIC  \x1b[0m  Evil \\x1b[31mRED")
    assert warning_line("declared", "x", 1, "declared by the author") == \
        "  declared   x  declared by the author"


def test_domain_objects_hold_data_not_text_layout() -> None:
    import forewarn.audit
    from forewarn.batch.summary import BatchSummary
    from forewarn.verdict import Verdict

    assert not hasattr(Verdict, "render")
    assert not hasattr(BatchSummary, "render")
    assert not hasattr(forewarn.audit, "render_text")


def test_the_batch_summary_text_keeps_names_on_one_line() -> None:
    from collections import Counter

    from forewarn.batch.summary import BatchSummary
    from forewarn.render.terminal import render_batch

    summary = BatchSummary(total=2, scanned=1, failed=1, elapsed_s=2.0, mode="in-process",
                           store="a\nb.db", model_version="m\x1b[2J",
                           warnings=Counter({"violence": 1}),
                           failures=Counter({"bad\nkind": 1}))
    text = render_batch(summary)
    assert "\x1b" not in text.replace("\\x1b", "")
    assert "  failures by kind: bad kind 1" in text.splitlines()
    assert text.splitlines()[-1] == "  store: a b.db  (model m\\x1b[2J)"
