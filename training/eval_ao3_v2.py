"""Detection v2 on the AO3 passages (evaluation only: the model never trained on them).

Each AO3 passage was labelled by three people for one warning; this scores every passage
with the shipped v2 classifier (``forewarn/data/classifier``) and, per warning, compares
"the classifier's probability reaches the threshold" with the majority vote, on the
natural distribution of the file (all passages labelled for that warning). The shipped v1
scanner's figures on the same protocol are in docs/model-card.md, section 7.3.

Usage::

    .venv/bin/python training/eval_ao3_v2.py [--data ../shared/data] [--threshold 0.5]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from forewarn.detect.classifier import PassageClassifier

ROOT = Path(__file__).resolve().parent.parent
AO3_TO_ID = {"abduction": "kidnapping"}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--threshold", type=float, default=0.5)
    args = ap.parse_args()
    rows = [json.loads(x) for x in
            (Path(args.data) / "passage-warnings" / "passages.jsonl").read_text().splitlines()]
    clf = PassageClassifier()
    probs, _ = clf.scores([r["text"] for r in rows])
    col = {w: j for j, w in enumerate(clf.warnings)}
    by: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    for r, p in zip(rows, probs, strict=True):
        wid = AO3_TO_ID.get(r["warning"], r["warning"])
        gold = sum(int(v) for v in r["labels"]) >= 2
        by[r["warning"]].append((bool(p[col[wid]] >= args.threshold), gold))
    print("| warning | passages | majority + | flagged | precision | recall | F1 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    f1s = []
    for w, items in sorted(by.items()):
        flag = np.array([f for f, _ in items])
        gold = np.array([g for _, g in items])
        tp = int((flag & gold).sum())
        p = tp / max(1, flag.sum())
        r = tp / max(1, gold.sum())
        f1 = 2 * p * r / max(1e-9, p + r)
        f1s.append(f1)
        print(f"| {w} | {len(items)} | {int(gold.sum())} | {int(flag.sum())} | {p:.2f} | "
              f"{r:.2f} | {f1:.2f} |")
    print(f"\nmacro F1 {np.mean(f1s):.3f} at threshold {args.threshold}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
