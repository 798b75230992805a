"""What the cascade's cheap stage costs in recall, and what it saves in time.

Runs the embedding cascade on the same passages, after the lexicon as the scanner does:
as shipped (the encoder only where the lexicon or a static head points, within the word
budget), with the gates but no budget, and full (the encoder on every passage). Prints,
per corpus, the share of passages sent to the encoder, the share of the full encoder's
hits the cascade keeps, and the encoder time both ways. Target (issue 3): at least 98% of the
full model's hits kept.

Corpora, all held out from choosing the gates (training/choose_gates.py uses set 0 and
the seeds): the AO3 passages of set_id 1 (each one work), the public-domain chapters, and
this folder's novel and story (ordinary prose, mostly nothing to warn about).

    python bench/bench_cascade.py [--data ../shared/data] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from forewarn.detect.cascade import CascadeDetector  # noqa: E402
from forewarn.detect.lexicon import LexiconDetector  # noqa: E402
from forewarn.eval.common import text_work  # noqa: E402
from forewarn.ingest import read_path  # noqa: E402
from forewarn.segment import segment  # noqa: E402
from forewarn.work import Passage, Work  # noqa: E402


def corpora(data: Path, limit: int | None) -> dict[str, list[Work]]:
    out: dict[str, list[Work]] = {}
    passages = data / "passage-warnings" / "passages.jsonl"
    if passages.exists():
        rows = [json.loads(line) for line in passages.open(encoding="utf-8")]
        texts = [r["text"] for r in rows if r["set_id"] == 1][:limit]
        out["AO3 passages, set 1"] = [text_work(t) for t in texts]
    chapters = sorted((data / "public-domain").glob("*.txt"))
    if chapters:
        out["public-domain chapters"] = [read_path(p) for p in chapters]
    corpus = ROOT / "bench" / "corpus"
    paths = [*sorted((corpus / "novel-chapters").glob("*.txt")), corpus / "story-2500.txt"]
    out["bench novel + story"] = [read_path(p) for p in paths]
    return out


def measure(works: list[Work], budget: int | None) -> dict[str, float]:
    lexicon = LexiconDetector()
    if budget is None:
        gated = CascadeDetector(full=False)
    else:
        gated = CascadeDetector(full=False, budget_min_words=budget, budget_fraction=0.0)
    full = CascadeDetector(full=True)
    n_passages = n_gated = kept = total = 0
    t_gated = t_full = 0.0
    for work in works:
        passages: list[Passage] = segment(work)
        hints = lexicon.detect(passages)
        started = time.perf_counter()
        hits_gated = {(h.passage, h.warning) for h in gated.detect(passages, hints)}
        t_gated += time.perf_counter() - started
        started = time.perf_counter()
        hits_full = {(h.passage, h.warning) for h in full.detect(passages, hints)}
        t_full += time.perf_counter() - started
        n_passages += len(passages)
        n_gated += gated.last_gated
        total += len(hits_full)
        kept += len(hits_full & hits_gated)
    return {"works": len(works), "passages": n_passages,
            "sent_to_encoder": n_gated / max(1, n_passages),
            "full_hits": total, "kept": kept / max(1, total),
            "seconds_gated": t_gated, "seconds_full": t_full}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--limit", type=int, default=None, help="at most N set-1 passages")
    args = parser.parse_args(argv)
    data = corpora(args.data, args.limit)
    for label, budget in (("shipped cascade (gates + word budget)", None),
                          ("gates only (no budget)", 10**9)):
        print(f"\n{label}")
        print(f"{'corpus':<24} {'works':>5} {'passages':>8} {'to encoder':>10} "
              f"{'full hits':>9} {'kept':>7} {'s gated':>8} {'s full':>7}")
        all_hits = all_kept = 0.0
        for name, works in data.items():
            m = measure(works, budget)
            all_hits += m["full_hits"]
            all_kept += m["kept"] * m["full_hits"]
            print(f"{name:<24} {m['works']:>5} {m['passages']:>8} "
                  f"{m['sent_to_encoder']:>10.1%} {m['full_hits']:>9} {m['kept']:>7.1%} "
                  f"{m['seconds_gated']:>8.1f} {m['seconds_full']:>7.1f}")
        print(f"all corpora: {all_kept / max(1, all_hits):.1%} of the full encoder's hits kept")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
