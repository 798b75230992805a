"""``forewarn stats --store results.db``: what a results store holds, in numbers.

Prints the number of works (scanned, failed), per warning the number of works at each
severity, a 10-bin histogram of confidence (all warnings, or ``--warning W``), failures by
kind and the model versions in the store. ``--json`` prints the same as one object.

Exit codes: 0 printed; 2 usage error (an unknown warning); 8 the store cannot be opened
or read; 9 psycopg is missing for a PostgreSQL store.
"""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("stats", help="counts per warning and severity, confidence "
                                     "histogram and failures of a results store")
    p.add_argument("--store", required=True, metavar="FILE|URL",
                   help="the results store (a SQLite file or a postgresql:// URL)")
    p.add_argument("--warning", metavar="WARNING",
                   help="the confidence histogram of this warning only")
    p.add_argument("--json", action="store_true", help="print the numbers as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from forewarn.store import open_store

    warning = None
    if args.warning:
        from forewarn.taxonomy import load_taxonomy

        found = load_taxonomy().parse_list(args.warning)
        if len(found) != 1:
            from forewarn.errors import TaxonomyError

            raise TaxonomyError(f"--warning takes one warning, not {args.warning!r}")
        warning = found[0].id
    with open_store(args.store, read_only=True) as store:
        stats = store.stats(warning)
    stats["store"] = store.target
    if args.json:
        print(json.dumps({"schema": "forewarn.stats/1", **stats}, indent=2,
                         ensure_ascii=False))
    else:
        print(render(stats))
    return 0


def render(stats: dict[str, Any]) -> str:
    """The stats as text for a terminal."""
    from forewarn.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    lines = [f"{stats['store']}: {stats['works']:,} works ({stats['ok']:,} scanned, "
             f"{stats['failed']:,} failed); {stats['works_with_warnings']:,} with at least "
             "one warning"]
    warnings = stats["warnings"]
    if warnings:
        names = {}
        for wid in warnings:
            try:
                names[wid] = taxonomy.get(wid).name
            except Exception:  # a warning from another taxonomy version
                names[wid] = wid
        width = max(len(n) for n in names.values())
        lines.append("")
        lines.append(f"  {'warning':<{width}}  {'mentioned':>9}  {'depicted':>9}  "
                     f"{'graphic':>9}  {'works':>9}")
        for wid, counts in sorted(warnings.items(), key=lambda kv: (-kv[1]["total"], kv[0])):
            lines.append(f"  {names[wid]:<{width}}  {counts['mentioned']:>9,}  "
                         f"{counts['depicted']:>9,}  {counts['graphic']:>9,}  "
                         f"{counts['total']:>9,}")
    hist = stats["confidence_histogram"]
    bins = hist["bins"]
    top = max((b["count"] for b in bins), default=0)
    lines.append("")
    which = f" of {hist['warning']}" if hist["warning"] else " (all warnings)"
    lines.append(f"  confidence{which}")
    for b in bins:
        bar = "#" * (round(40 * b["count"] / top) if top else 0)
        lines.append(f"  {b['from']:.1f}-{b['to']:.1f}  {b['count']:>9,}  {bar}")
    if stats["failures"]:
        lines.append("")
        lines.append("  failures by kind: " + ", ".join(
            f"{k} {v:,}" for k, v in stats["failures"].items()))
    if stats["model_versions"]:
        lines.append("")
        lines.append("  model versions: " + "; ".join(
            f"{k} ({v:,} works)" for k, v in stats["model_versions"].items()))
    return "\n".join(lines)
