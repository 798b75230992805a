"""The built-in output renderers, registered in one place: text, json, jsonl, csv, ao3,
parquet.

============  ======================================================  ==================
format        what it writes                                          kinds
============  ======================================================  ==================
``text``      for a terminal (story content made terminal-safe)       all but export
``json``      one JSON document with its ``schema``                   all but export
``jsonl``     one JSON object per line (per work, or error)           report, verdict,
                                                                      audit, export
``csv``       a table; a cell that could start a formula gets ``'``   report, export
``ao3``       one line of AO3 "Additional Tags" per work              audit
``parquet``   a Parquet table (``-o FILE``; needs pyarrow)            export
============  ======================================================  ==================

The text renderer is :func:`forewarn.render.terminal.write_text`, where all terminal
layout lives. See :mod:`forewarn.render.registry` for what each kind's items are. Every
JSON document carries its ``schema``: ``forewarn.report/2`` (scan, one per work),
``forewarn.check/2``, ``forewarn.audit/1``, ``forewarn.stats/1``, ``forewarn.taxonomy/1``,
``forewarn.batch/1``, ``forewarn.eval/1``; each line of an export: ``forewarn.export/1``.
"""

from __future__ import annotations

import csv
import html
import json
import re
from collections.abc import Iterable, Iterator
from typing import IO, Any

from forewarn.render.registry import Failed, RenderOptions, register_renderer
from forewarn.render.terminal import one_line, write_text

# --- json and jsonl ----------------------------------------------------------------------------

# JSON escapes C0 controls itself; these it leaves raw (with ensure_ascii=False): DEL and
# C1 controls, and the line and paragraph separators. Escaped, the JSON is the same.
_JSON_RAW = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def dumps(value: Any, indent: int | None = 2) -> str:
    """JSON as forewarn prints it: UTF-8 text, with every control character and
    bidirectional override escaped (``\\u009b``), so it is safe on a terminal and parses
    back to the same strings."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _data(kind: str, item: Any, options: RenderOptions) -> dict[str, Any]:
    """One work's result as JSON data."""
    if isinstance(item, Failed):
        entry = item.to_dict()
        return {**entry, "title": None, "safe": None} if kind == "verdict" else entry
    if kind == "report":
        return item.to_dict(evidence=options.evidence)  # type: ignore[no-any-return]
    if kind == "audit":
        return item.to_dict(evidence=options.evidence)  # type: ignore[no-any-return]
    return item.to_dict()  # type: ignore[no-any-return]


def document(kind: str, items: Iterable[Any], options: RenderOptions) -> Any:
    """The JSON document of ``kind`` (``None``: nothing to print, a single input that
    could not be read). scan and audit: one object for one input, an array for several;
    check: ``{"schema", "min_confidence", "works"}``; the others: their one object."""
    if kind in ("report", "audit"):
        results = [(item, _data(kind, item, options)) for item in items]
        if options.many:
            return [data for _, data in results]
        if not results or isinstance(results[0][0], Failed):
            return None
        return results[0][1]
    if kind == "verdict":
        from forewarn.verdict import SCHEMA

        return {"schema": SCHEMA, "min_confidence": options.meta.get("min_confidence"),
                "works": [_data(kind, item, options) for item in items]}
    [item] = list(items)
    if kind == "stats":
        return {"schema": "forewarn.stats/1", **item}
    if kind == "taxonomy":
        from forewarn.taxonomy import taxonomy_document

        return taxonomy_document(item)
    if kind == "batch":
        return item.to_dict()
    if kind == "eval":
        return json.loads(item.json())
    raise KeyError(f"no json renderer for {kind}")


def render_json(kind: str, items: Iterable[Any], out: IO[str], options: RenderOptions) -> None:
    """One JSON document (:func:`document`), written once every item is in."""
    doc = document(kind, items, options)
    if doc is not None:
        out.write(dumps(doc) + "\n")
        out.flush()


def render_jsonl(kind: str, items: Iterable[Any], out: IO[str], options: RenderOptions) -> None:
    """One JSON object per line, as each is ready: a work's report, verdict or audit
    (with its ``schema``), or ``{"source", "error", "exit_code"}``; export: each stored
    work's record."""
    records: Iterable[Any]
    if kind == "export":
        records = (r for export in items for r in export.records())
    else:
        records = (_data(kind, item, options) for item in items)
    for record in records:
        out.write(dumps(record, indent=None) + "\n")
    out.flush()


# --- csv ---------------------------------------------------------------------------------------

REPORT_COLUMNS = ["source", "title", "warning", "name", "severity", "confidence",
                  "declared", "locations", "error"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


# control characters (C0 but tab and line breaks, DEL, C1) and the bidirectional
# overrides and isolates: a title can carry them (YAML escapes in front matter), and raw in
# a cell they move a terminal's cursor or reorder what a spreadsheet shows
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell a spreadsheet will not run: text starting with ``=``, ``+``,
    ``-``, ``@``, a tab or a line break gets a leading ``'`` (numbers stay numbers), and
    control and direction-override characters become U+FFFD."""
    if not isinstance(value, str):
        return value
    value = _UNSAFE.sub("\ufffd", value)
    if value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _report_rows(items: Iterable[Any]) -> Iterator[list[Any]]:
    from forewarn.render.terminal import describe_locations

    for item in items:
        if isinstance(item, Failed):
            yield [item.source, None, None, None, None, None, None, None,
                   item.to_dict()["error"]]
            continue
        if not item.warnings:
            yield [item.source, item.title, None, None, None, None, None, None, None]
        for w in item.warnings:
            yield [item.source, item.title, w.id, w.name, w.severity, w.confidence,
                   w.declared, describe_locations(w.locations), None]


def render_csv(kind: str, items: Iterable[Any], out: IO[str], options: RenderOptions) -> None:
    """A header row, then scan: one row per (work, warning) (a work with none: one row
    with no warning; an unreadable one: its ``error``); export: the chosen table."""
    writer = csv.writer(out)
    if kind == "report":
        writer.writerow(REPORT_COLUMNS)
        for row in _report_rows(items):
            writer.writerow([csv_cell(v) for v in row])
            out.flush()
        return
    for export in items:
        columns = export.columns
        writer.writerow(columns)
        for row in export.rows():
            writer.writerow([csv_cell(row.get(c)) for c in columns])


# --- ao3 ---------------------------------------------------------------------------------------


def render_ao3(kind: str, items: Iterable[Any], out: IO[str], options: RenderOptions) -> None:
    """audit: the AO3 tags to add, comma-separated, one line per work (nothing when there
    is nothing to add); with several works each line starts with its source, made one
    line and HTML-escaped."""
    for item in items:
        if isinstance(item, Failed):
            continue
        line = item.ao3_line()
        if line:
            if options.many:
                line = f"{html.escape(one_line(item.source or '<text>'))}: {line}"
            out.write(line + "\n")
            out.flush()


# --- parquet -----------------------------------------------------------------------------------


def render_parquet(kind: str, items: Iterable[Any], out: IO[bytes],
                   options: RenderOptions) -> None:
    """export: the chosen table as Parquet (needs pyarrow: the ``parquet`` extra)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        from forewarn.store import MissingDependency

        raise MissingDependency(
            "--format parquet needs pyarrow: pip install 'forewarn[parquet]'") from None
    from forewarn.export import parquet_schema

    for export in items:
        schema = parquet_schema(export.table)
        names = schema.names
        with pq.ParquetWriter(out, schema) as writer:
            batch: list[dict[str, Any]] = []
            for row in export.rows():
                batch.append({n: row.get(n) for n in names})
                if len(batch) >= 2000:
                    writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                    batch = []
            if batch:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))


_ALL = ("report", "verdict", "audit", "stats", "taxonomy", "batch", "eval")

register_renderer("text", kinds=_ALL, render=write_text, label="for a terminal")
register_renderer("json", kinds=_ALL, render=render_json,
                  label="the JSON document, with its schema", media_type="application/json")
register_renderer("jsonl", kinds=("report", "verdict", "audit", "export"),
                  render=render_jsonl, label="one JSON object per line",
                  media_type="application/x-ndjson")
register_renderer("csv", kinds=("report", "export"), render=render_csv,
                  label="a spreadsheet-safe table", media_type="text/csv")
register_renderer("ao3", kinds=("audit",), render=render_ao3,
                  label="one line of tags to paste into AO3's Additional Tags")
register_renderer("parquet", kinds=("export",), render=render_parquet,
                  label="a Parquet table (needs -o FILE and pyarrow)",
                  media_type="application/vnd.apache.parquet", binary=True, needs_file=True)
