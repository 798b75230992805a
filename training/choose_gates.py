"""Choose the cascade's gates: how low a static head must score to wake the encoder.

The cascade (:mod:`forewarn.detect.cascade`) sends a passage to the MiniLM encoder when
the lexicon found any cue in it or when some static head scores it at or above that
warning's gate. The gates are one multiplier of the static heads' own thresholds: the
largest that still sends on the passages holding :data:`KEEP` of the encoder's hits on the
training passages (AO3 set 0 and the seeds). The held-out check (set 1, chapters, stories) is
``bench/bench_cascade.py``.

Writes ``src/forewarn/data/cascade.json``.

Usage::

    .venv/bin/python training/choose_gates.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "training"))

from train_heads import DEFAULT_DATA, SEEDS_DIR, CachedEncoder, read_jsonl

from forewarn.detect.cascade import DEFAULT_ENCODER_HEADS_PATH, DEFAULT_GATES_PATH
from forewarn.detect.embedding import EmbeddingDetector, load_heads
from forewarn.detect.lexicon import LexiconDetector
from forewarn.eval.common import text_work
from forewarn.segment import segment

KEEP = 0.98  # of the encoder's hits on the training data; the held-out figure is measured
MIN_GATE = 0.05


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=DEFAULT_GATES_PATH)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    passages = [r for r in read_jsonl(args.data / "passage-warnings" / "passages.jsonl")
                if r["set_id"] == 0]
    texts = [str(r["text"]) for r in passages]
    texts += [str(r["text"]) for r in read_jsonl(SEEDS_DIR / "positives.jsonl")]
    texts += [str(r["text"]) for r in read_jsonl(SEEDS_DIR / "negatives.jsonl")]
    static = EmbeddingDetector()
    p_static = static.score_texts(texts)
    heads = load_heads(DEFAULT_ENCODER_HEADS_PATH)
    if tuple(heads.warning_ids) != tuple(static.warning_ids):
        raise SystemExit("static and encoder heads list different warnings")
    p_enc = heads.probabilities(CachedEncoder().encode(texts))
    lexicon = LexiconDetector()
    has_cue = np.array([bool(lexicon.detect(segment(text_work(t)))) for t in texts])
    fires = p_enc >= heads.threshold
    static_thr = np.array([static.thresholds[w] for w in heads.warning_ids])
    # The largest multiplier of the static thresholds that still keeps KEEP of the
    # encoder's hits (a per-warning quantile was tried and kept fewer hits for the same
    # number of passages sent on: the static heads are noisy predictors of the encoder).
    multiplier = MIN_GATE
    for m in np.round(np.arange(1.0, MIN_GATE - 1e-9, -0.01), 2):
        chosen = has_cue | (p_static >= m * static_thr).any(axis=1)
        if fires[chosen].sum() >= KEEP * fires.sum():
            multiplier = float(m)
            break
    gates = {w: round(float(multiplier * t), 4)
             for w, t in zip(heads.warning_ids, static_thr, strict=True)}
    chosen = has_cue | (p_static >= multiplier * static_thr).any(axis=1)
    kept: dict[str, dict[str, float]] = {}
    for k, warning in enumerate(heads.warning_ids):
        n = int(fires[:, k].sum())
        kept[warning] = {"encoder_hits": n,
                         "kept": round(float(chosen[fires[:, k]].mean()), 4) if n else 1.0}
    total_hits = int(fires.sum())
    kept_hits = int(fires[chosen].sum())
    result = {
        "format": "forewarn.cascade/1",
        "rule": "a passage goes to the encoder when the lexicon found any cue in it, or when "
                "any static head's probability reaches that warning's gate",
        "gates": gates,
        "chosen_on": {
            "texts": len(texts),
            "data": "passage-warnings set_id 0 and training/seeds (training data)",
            "keep": KEEP,
            "multiplier_of_static_thresholds": multiplier,
            "passages_sent_to_encoder": round(float(chosen.mean()), 4),
            "encoder_hits_kept": round(kept_hits / max(1, total_hits), 4),
            "per_warning": kept,
        },
        "seconds": round(time.perf_counter() - started, 1),
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result["chosen_on"].items() if k != "per_warning"},
                     indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
