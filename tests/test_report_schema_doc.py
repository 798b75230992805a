"""docs/report-schema.md's example report is what `forewarn scan --json` prints (issue 14)."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

from forewarn.cli import main

ROOT = Path(__file__).resolve().parent.parent
COMMAND = ["scan", "--json", "examples/the-lighthouse-keeper.txt"]


def excerpt_of(shown: object, real: object, where: str = "report") -> None:
    """``shown`` is ``real`` with some list items left off the end; "…" stands for any value."""
    if shown == "…":
        return
    if isinstance(shown, dict):
        assert isinstance(real, dict), where
        assert list(shown) == list(real), f"{where}: fields {list(shown)} != {list(real)}"
        for key, value in shown.items():
            excerpt_of(value, real[key], f"{where}.{key}")
    elif isinstance(shown, list):
        assert (isinstance(real, list) and 0 < len(shown) <= len(real)) or shown == real, where
        for index, value in enumerate(shown):
            excerpt_of(value, real[index], f"{where}[{index}]")
    else:
        assert shown == real, f"{where}: the doc shows {shown!r}, the scan prints {real!r}"


def test_the_report_schema_example_is_the_scan_output(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("FOREWARN_ENGINE", raising=False)
    doc = (ROOT / "docs" / "report-schema.md").read_text(encoding="utf-8")
    assert "`forewarn scan --json examples/the-lighthouse-keeper.txt`" in doc
    block = re.search(r"```json\n(\{\n  \"schema\": \"forewarn\.report/2\".*?)```", doc, re.S)
    assert block is not None
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(COMMAND) == 0
    excerpt_of(json.loads(block.group(1)), json.loads(out.getvalue()))
