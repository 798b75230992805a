"""Two fitted combiners (combiner.json files) side by side on whole dev chapters.

Each reads every chapter of a chapter-labels file (``training/annotations/chapters-dev.json``
or a subset of it, e.g. the chapters read after a choice was made) the way a scan does:
the exported classifier's logits, the lexicon, the rings, then that file's combiner and
work aggregator. Prints, at the default confidence 0.5, the musts found, the false
warnings per chapter (a "should" is neither) and the log loss. The test split is never
read. Usage::

    python training/compare_chapters.py A/combiner.json B/combiner.json \\
        [--model DIR] [--chapters FILE] [--only KEYS.json] [--read-by ann345,ann346]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parent.parent

from fit_combiner import DEV_CHAPTERS, chapter_rows


def main(argv: list[str] | None = None) -> int:
    from forewarn.combine import Combiner, WorkAggregator

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("combiners", type=Path, nargs="+", help="combiner.json files")
    ap.add_argument("--model", type=Path, default=ROOT / "src" / "forewarn" / "data" / "classifier")
    ap.add_argument("--chapters", type=Path, default=DEV_CHAPTERS)
    ap.add_argument("--only", type=Path, help="a JSON list of the chapter keys to read")
    ap.add_argument("--read-by", help="only the chapters these annotators read (comma-separated)")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--detail", action="store_true",
                    help="also list, per warning, the musts missed and the false warnings")
    args = ap.parse_args(argv)
    labels = json.loads(args.chapters.read_text(encoding="utf-8"))
    if args.only:
        labels = {k: labels[k] for k in json.loads(args.only.read_text(encoding="utf-8"))}
    if args.read_by:
        readers = set(args.read_by.split(","))
        labels = {k: row for k, row in labels.items() if row.get("annotator") in readers}
    wids = json.loads((args.model / "manifest.json").read_text())["warnings"]
    with tempfile.TemporaryDirectory() as tmp:
        subset = Path(tmp) / "chapters.json"
        subset.write_text(json.dumps(labels), encoding="utf-8")
        for path in args.combiners:
            fitted = json.loads(path.read_text(encoding="utf-8"))
            combiner = Combiner.from_json(fitted["combiner"])
            alone = Combiner.from_json(fitted["combiner_alone"])
            a = fitted["aggregator"]
            aggregator = WorkAggregator(tuple(a["coef"]), a["intercept"], a.get("cap", 0.99),
                                        a.get("floor", 0.0))
            probs, y_list, names = chapter_rows(args.model, combiner, alone, wids, args.data,
                                                subset)
            # chapter_rows gives a row per chapter and warning (no "should"), in wids order
            row_wids = [w for name in sorted(labels) for w in wids
                        if w not in set(labels[name]["should"])]
            p = np.array([aggregator(x) for x in probs])
            y = np.array(y_list)
            hit = p >= 0.5
            tp, fp = int((hit & (y > 0)).sum()), int((hit & (y == 0)).sum())
            must = int((y > 0).sum())
            q = np.clip(p, 1e-6, 1 - 1e-6)
            loss = float(-(y * np.log(q) + (1 - y) * np.log(1 - q)).mean())
            n = len(set(names))
            print(f"{path}: musts found {tp}/{must} ({tp / max(must, 1):.2f}), "
                  f"{fp} false warnings in {n} chapters ({fp / max(n, 1):.2f}), "
                  f"log loss {loss:.4f}")
            if args.detail:
                missed: dict[str, int] = {}
                false: dict[str, int] = {}
                for wid, name, h, t in zip(row_wids, names, hit, y, strict=True):
                    if t > 0 and not h:
                        missed[wid] = missed.get(wid, 0) + 1
                        print(f"  missed: {name} {wid}")
                    elif h and t == 0:
                        false[wid] = false.get(wid, 0) + 1
                        print(f"  false: {name} {wid}")
                top = sorted(missed.items(), key=lambda kv: -kv[1])
                print("  missed musts by warning:", ", ".join(f"{w} {c}" for w, c in top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
