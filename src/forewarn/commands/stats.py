"""``forewarn stats --store results.db``: what a results store holds, in numbers.

Prints the number of works (scanned, failed), per warning the number of works at each
severity, a 10-bin histogram of confidence (all warnings, or ``--warning W``), failures by
kind and the model versions in the store. ``--format json`` (``--json``) prints the same as
one object, with its ``schema`` (``forewarn.stats/1``).

Exit codes: 0 printed; 2 usage error (an unknown warning); 8 the store cannot be opened
or read; 9 psycopg is missing for a PostgreSQL store.
"""

from __future__ import annotations

import argparse
import sys

from forewarn.cli import add_format_option, output_format


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("stats", help="counts per warning and severity, confidence "
                                     "histogram and failures of a results store")
    p.add_argument("--store", required=True, metavar="FILE|URL",
                   help="the results store (a SQLite file or a postgresql:// URL)")
    p.add_argument("--warning", metavar="WARNING",
                   help="the confidence histogram of this warning only")
    add_format_option(p, "stats")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from forewarn.render.registry import render
    from forewarn.store import open_store

    fmt = output_format(args)
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
    render(fmt, "stats", [stats], sys.stdout)  # json: {"schema": "forewarn.stats/1", ...}
    return 0
