"""The project's own held-out test set: ``tests/eval/testset-a.jsonl`` and ``-b.jsonl``.

Each line is ``{"warning", "label", "kind", "text"}``: a short passage written for forewarn,
labelled for one warning, with its kind (``positive``, ``positive-mentioned``,
``positive-implicit``, ``figurative``, ``negated``, ``harmless``, ``neighbour:<warning>``).
The shipped scanner reads each text as a one-chapter work; a line is predicted positive
when the scanner reports the line's warning at the default confidence. Reported: per
warning precision, recall and F1 (over that warning's lines), accuracy per kind, and a
summary per file.

The files may be partial while they are being written: whatever lines parse are used,
malformed lines (a half-written last line) are counted and skipped, and absent files give
a clear message rather than an error deep in the harness.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from forewarn.eval.common import Context, EvalError, repo_root
from forewarn.eval.metrics import Counts, macro, micro
from forewarn.eval.report import Section, Table

DEFAULT_FILES = ("tests/eval/testset-a.jsonl", "tests/eval/testset-b.jsonl")
KIND_ORDER = ("positive", "positive-mentioned", "positive-implicit", "figurative", "negated",
              "harmless", "neighbour:*")
_TRUE = {"1", "true", "yes", "y", "positive", "pos", "t"}
_FALSE = {"0", "false", "no", "n", "negative", "neg", "f"}


def default_files(ctx: Context) -> list[Path]:
    given = ctx.options.get("testset")
    if given:
        return [Path(p) for p in given]
    root = repo_root() or Path.cwd()
    return [root / f for f in DEFAULT_FILES]


def parse_label(value: Any, kind: str) -> bool | None:
    """A line's label as a bool; from its kind when the label is missing; None if unclear."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if value not in (0, 1):  # 0.4 is not a yes
            return None
        return bool(value)
    if isinstance(value, str):
        v = value.strip().casefold()
        if v in _TRUE:
            return True
        if v in _FALSE:
            return False
        return None
    if value is None and kind:
        return kind.startswith("positive")
    return None


def kind_group(kind: str) -> str:
    """``neighbour:death`` -> ``neighbour:*``; other kinds as they are."""
    k = kind.strip().casefold()
    if k.startswith(("neighbour:", "neighbor:")):
        return "neighbour:*"
    return k or "(none)"


def read_lines(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The well-formed lines of one file, and a description of each bad one."""
    from forewarn.taxonomy import load_taxonomy

    tax = load_taxonomy()
    good: list[dict[str, Any]] = []
    bad: list[str] = []
    with path.open(encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                bad.append(f"{path.name}:{number}: not valid JSON (half-written?)")
                continue
            if not isinstance(row, dict) or not str(row.get("text") or "").strip():
                bad.append(f"{path.name}:{number}: no text")
                continue
            definition = tax.resolve(str(row.get("warning") or ""))
            if definition is None:
                bad.append(f"{path.name}:{number}: unknown warning {row.get('warning')!r}")
                continue
            kind = str(row.get("kind") or "")
            label = parse_label(row.get("label"), kind)
            if label is None:
                bad.append(f"{path.name}:{number}: unreadable label {row.get('label')!r}")
                continue
            good.append({"warning": definition.id, "label": label, "kind": kind,
                         "group": kind_group(kind), "text": str(row["text"]),
                         "file": path.name})
    return good, bad


def testset(ctx: Context) -> Section:
    """Part 6: per-warning P/R/F1 and per-kind accuracy of the shipped scanner."""
    section = Section("testset", "The project's held-out test set (tests/eval)")
    started = time.perf_counter()
    files = default_files(ctx)
    present = [p for p in files if p.is_file()]
    if not present:
        raise EvalError(
            "no test-set files found: " + ", ".join(str(p) for p in files)
            + " (they are written by hand for forewarn; pass --testset FILE to use others)")
    lines: list[dict[str, Any]] = []
    problems: list[str] = []
    for path in present:
        good, bad = read_lines(path)
        lines += good
        problems += bad
    if not lines:
        raise EvalError(f"the test-set files hold no usable lines: "
                        f"{', '.join(str(p) for p in present)}")
    ctx.log(f"testset: scanning {len(lines):,} lines")
    for row in lines:
        row["confidence"] = ctx.shipped.score(row["text"]).warnings.get(row["warning"])
        row["predicted"] = row["confidence"] is not None

    by_warning: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in lines:
        by_warning[row["warning"]].append(row)
    kinds_present = [k for k in KIND_ORDER if any(r["group"] == k for r in lines)]
    kinds_present += sorted({r["group"] for r in lines} - set(KIND_ORDER))
    counts: dict[str, Counts] = {}
    table = Table(["warning", "lines", "pos", "neg", "P", "R", "F1",
                   *(f"acc {k}" for k in kinds_present)],
                  caption="**Per warning**: precision, recall, F1 over the warning's lines; "
                          "accuracy per kind (share of lines the scanner got right)")
    from forewarn.taxonomy import load_taxonomy

    order = {w: i for i, w in enumerate(load_taxonomy().ids)}
    for warning in sorted(by_warning, key=lambda w: order.get(w, 999)):
        rows = by_warning[warning]
        c = Counts.of([r["predicted"] for r in rows], [r["label"] for r in rows])
        counts[warning] = c
        table.add(warning, len(rows), c.positives, c.n - c.positives, c.precision, c.recall,
                  c.f1, *(_accuracy([r for r in rows if r["group"] == k])
                          for k in kinds_present))
    pooled = micro(counts.values())
    table.add("macro (mean over warnings)", len(lines), pooled.positives,
              pooled.n - pooled.positives, macro(c.precision for c in counts.values()),
              macro(c.recall for c in counts.values()), macro(c.f1 for c in counts.values()),
              *(_accuracy([r for r in lines if r["group"] == k]) for k in kinds_present))
    kinds = Table(["kind", "gold", "lines", "accuracy", "flagged"],
                  caption="**Per kind** (all warnings together)")
    for k in kinds_present:
        rows = [r for r in lines if r["group"] == k]
        gold = {r["label"] for r in rows}
        kinds.add(k, "positive" if gold == {True} else "negative" if gold == {False}
                  else "mixed", len(rows), _accuracy(rows),
                  sum(r["predicted"] for r in rows) / len(rows))
    files_table = Table(["file", "lines", "warnings", "micro-P", "micro-R", "micro-F1",
                         "macro-F1"], caption="**Per file**")
    for name in [p.name for p in present] + (["all"] if len(present) > 1 else []):
        rows = lines if name == "all" else [r for r in lines if r["file"] == name]
        per = {w: Counts.of([r["predicted"] for r in rows if r["warning"] == w],
                            [r["label"] for r in rows if r["warning"] == w])
               for w in {r["warning"] for r in rows}}
        p = micro(per.values())
        files_table.add(name, len(rows), len(per), p.precision, p.recall, p.f1,
                        macro(c.f1 for c in per.values()))
    section.tables += [files_table, table, kinds, _reliability_table(lines)]
    section.intro = (
        f"{len(lines):,} lines for {len(by_warning)} warnings from "
        f"{', '.join(p.name for p in present)}. Each text is scanned by the shipped scanner "
        "as a one-chapter work; a line is predicted positive when the scanner reports its "
        "warning at the default confidence (other warnings it reports are ignored here).")
    absent = [p.name for p in files if not p.is_file()]
    if absent:
        section.notes.append(f"Not found (yet): {', '.join(absent)}.")
    if problems:
        shown = "; ".join(problems[:5]) + (f"; … {len(problems) - 5} more"
                                           if len(problems) > 5 else "")
        section.notes.append(f"{len(problems)} line(s) skipped: {shown}.")
    thin = sorted(w for w, c in counts.items() if c.positives < 15 or c.n - c.positives < 15)
    if thin:
        section.notes.append(f"Fewer than 15 positives or 15 negatives so far (figures "
                             f"noisy): {', '.join(thin)}.")
    section.data = {"files": [str(p) for p in present], "lines": len(lines),
                    "skipped": problems,
                    "per_warning": {w: c.as_dict() for w, c in counts.items()},
                    "per_kind": {k: _accuracy([r for r in lines if r["group"] == k])
                                 for k in kinds_present}}
    section.seconds = time.perf_counter() - started
    return section


def _reliability_table(lines: list[dict[str, Any]]) -> Table:
    """What a reported confidence means on these lines: of the lines whose own warning the
    scanner reports at a confidence in a bin, the fraction truly positive."""
    from forewarn.eval.passages import reliability

    reported = [r for r in lines if r["predicted"]]
    table = Table(["confidence", "reported", "mean confidence", "fraction right"],
                  caption="**Calibration on the test set**: lines whose own warning the "
                          "scanner reports, by confidence. Half of each warning's lines are "
                          "positive, far more than in fiction, so this is an optimistic "
                          "reading; 31 of these warnings have no calibration data (model "
                          "card, section 6).")
    for label, n, mean_conf, frac in reliability([r["confidence"] for r in reported],
                                                 [r["label"] for r in reported]):
        table.add(label, n, mean_conf, frac)
    return table


def _accuracy(rows: list[dict[str, Any]]) -> float | None:
    if not rows:
        return None
    correct: int = sum(r["predicted"] == r["label"] for r in rows)
    return correct / len(rows)
