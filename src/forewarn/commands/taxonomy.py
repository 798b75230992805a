"""``forewarn taxonomy``: list the warnings forewarn knows, by group.

``--format json`` (``--json``) prints the same document as the service's
``GET /v1/taxonomy`` (``forewarn.taxonomy/1``).
"""

from __future__ import annotations

import argparse
import sys

from forewarn.cli import add_format_option, output_format


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("taxonomy", help="list the warnings forewarn knows")
    add_format_option(p, "taxonomy")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from forewarn.render.registry import render
    from forewarn.taxonomy import load_taxonomy

    render(output_format(args), "taxonomy", [load_taxonomy()], sys.stdout)
    return 0
