"""``forewarn taxonomy``: list the warnings forewarn knows, by group."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("taxonomy", help="list the warnings forewarn knows")
    p.add_argument("--json", action="store_true", help="print the taxonomy as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from forewarn.taxonomy import load_taxonomy, taxonomy_document

    tax = load_taxonomy()
    if args.json:  # the same document as the service's GET /v1/taxonomy
        print(json.dumps(taxonomy_document(tax), indent=2, ensure_ascii=False))
        return 0
    for group in tax.groups:
        print(group.name)
        for w in tax.warnings:
            if w.group == group.id:
                print(f"  {w.id:<26} {w.description}")
    return 0
