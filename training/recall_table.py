"""Write ``src/forewarn/data/recall.json`` (what ``check`` calls weak) from measured recall.

Reads the JSON of ``forewarn eval annotated --json FILE`` and takes, per warning, detection
v2's recall on the annotated test passages. Where a warning has fewer than
``MIN_POSITIVES`` test positives its recall is not measured well enough to vouch for it:
it is written as ``null``, and ``check`` treats it as weak ("too few held-out examples").

    python training/recall_table.py eval-annotated.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "forewarn" / "data" / "recall.json"
MIN_POSITIVES = 20
WEAK_BELOW = 0.8


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("eval_json", type=Path)
    args = ap.parse_args(argv)
    sections = json.loads(args.eval_json.read_text(encoding="utf-8"))["sections"]
    section = next((s for s in sections if s["part"] == "annotated" and not s["skipped"]), None)
    if section is None:
        print(f"{args.eval_json}: no 'annotated' section", file=sys.stderr)
        return 1
    per = section["data"]["per_warning"]
    sys.path.insert(0, str(ROOT / "training"))
    from annotate import warning_ids

    recall = {}
    for wid in warning_ids():
        row = per.get(wid, {"positives": 0, "v2": [None, None, None]})
        n = int(row["positives"])
        measured = row["v2"][1] if n >= MIN_POSITIVES else None
        recall[wid] = {"recall": None if measured is None else round(float(measured), 2),
                       "positives": n, "source": "annotated-test"}
    OUT.write_text(json.dumps({
        "description": "Measured recall of the shipped scanner (detection v2) per warning on "
                       "the annotated test split (training/annotations: test books and "
                       "writing batches, never trained on), each passage's decision at its "
                       "warning's operating point. null: fewer than "
                       f"{MIN_POSITIVES} test positives, not measured well enough. check "
                       "calls a profile that names a warning under 'weak_below', or one "
                       "with null, uncertain rather than safe.",
        "weak_below": WEAK_BELOW,
        "sources": {"annotated-test": "docs/model-card.md, 'forewarn eval annotated'"},
        "recall": recall}, indent=1) + "\n", encoding="utf-8")
    weak = sorted(w for w, r in recall.items() if r["recall"] is None or r["recall"] < WEAK_BELOW)
    print(f"wrote {OUT}: {len(weak)} of {len(recall)} warnings weak or unmeasured")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
