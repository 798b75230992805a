"""The README's example output is what the scan prints today."""

from __future__ import annotations

import re
from pathlib import Path

from forewarn.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_the_quick_start_output_matches_the_scan(capsys, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("FOREWARN_ENGINE", raising=False)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = re.search(r"```\n(The Lighthouse Keeper .*?)```", readme, re.S)
    assert shown is not None, "the README shows no example scan"
    assert main(["scan", "examples/the-lighthouse-keeper.txt"]) == 0
    printed = capsys.readouterr().out
    assert printed == shown.group(1), "README.md's example output is stale: regenerate it"


def test_the_audit_example_matches_the_audit(capsys, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("FOREWARN_ENGINE", raising=False)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = "$ forewarn audit tests/fixtures/audit/salt-and-iron.txt\n"
    shown = re.search(re.escape(command) + r"(.*?)```", readme, re.S)
    assert shown is not None, "the README shows no example audit"
    assert main(["audit", "tests/fixtures/audit/salt-and-iron.txt"]) == 0
    assert capsys.readouterr().out == shown.group(1), "README.md's audit example is stale"
