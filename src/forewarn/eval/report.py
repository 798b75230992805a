"""The harness's output: sections of markdown tables, notes, and a JSON twin of the numbers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Table:
    """A markdown table: a header row and rows of cells (numbers are formatted here)."""

    headers: Sequence[str]
    rows: list[Sequence[Any]] = field(default_factory=list)
    caption: str | None = None
    digits: int = 2

    def add(self, *cells: Any) -> None:
        if len(cells) != len(self.headers):
            raise ValueError(f"row has {len(cells)} cells, table has {len(self.headers)}")
        self.rows.append(cells)

    def cell(self, value: Any) -> str:
        if value is None:
            return "–"
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, float):
            return f"{value:.{self.digits}f}"
        return str(value).replace("|", "\\|").replace("\n", " ")

    def to_markdown(self) -> str:
        numeric = [
            all((isinstance(r[i], int | float) and not isinstance(r[i], bool)) or r[i] is None
                for r in self.rows) and any(r[i] is not None for r in self.rows)
            for i in range(len(self.headers))
        ]
        lines = []
        if self.caption:
            lines += [self.caption, ""]
        lines.append("| " + " | ".join(self.headers) + " |")
        lines.append("|" + "|".join("---:" if n else "---" for n in numeric) + "|")
        for row in self.rows:
            lines.append("| " + " | ".join(self.cell(v) for v in row) + " |")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {"caption": self.caption, "headers": list(self.headers),
                "rows": [list(r) for r in self.rows]}


@dataclass
class Section:
    """One part of the evaluation: a title, what it measures, tables, notes and raw numbers."""

    part: str
    title: str
    intro: str = ""
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None  # why the part could not run (missing data, missing extra)
    seconds: float | None = None

    def to_markdown(self) -> str:
        out = [f"## {self.title}", ""]
        if self.skipped:
            out += [f"*Skipped: {self.skipped}*", ""]
            return "\n".join(out)
        if self.intro:
            out += [self.intro, ""]
        for table in self.tables:
            out += [table.to_markdown(), ""]
        for note in self.notes:
            out.append(f"- {note}")
        if self.seconds is not None:
            out.append(f"- Ran in {self.seconds:.1f} s.")
        if self.notes or self.seconds is not None:
            out.append("")
        return "\n".join(out)

    def to_json(self) -> dict[str, Any]:
        return {"part": self.part, "title": self.title, "skipped": self.skipped,
                "seconds": self.seconds, "tables": [t.to_json() for t in self.tables],
                "notes": self.notes, "data": self.data}


def render_markdown(sections: Sequence[Section], header: Sequence[str] = ()) -> str:
    """All sections as one markdown document."""
    parts = ["# forewarn evaluation", ""]
    if header:
        parts += [*header, ""]
    parts += [s.to_markdown() for s in sections]
    return "\n".join(parts).rstrip() + "\n"


EVAL_SCHEMA = "forewarn.eval/1"


def render_json(sections: Sequence[Section], meta: dict[str, Any]) -> str:
    """Every number of a run as JSON: ``{"schema": "forewarn.eval/1", "meta", "sections"}``."""
    return json.dumps({"schema": EVAL_SCHEMA, "meta": meta,
                       "sections": [s.to_json() for s in sections]},
                      indent=2, ensure_ascii=False, default=_default) + "\n"


@dataclass
class EvalResult:
    """One ``forewarn eval`` run, as its renderers get it: the sections, the run's
    ``meta`` (environment, command, time) and the markdown header lines."""

    sections: Sequence[Section]
    meta: dict[str, Any]
    header: Sequence[str] = ()

    def markdown(self) -> str:
        return render_markdown(self.sections, self.header)

    def json(self) -> str:
        return render_json(self.sections, self.meta)


def _default(value: Any) -> Any:
    if hasattr(value, "as_dict"):
        return value.as_dict()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
