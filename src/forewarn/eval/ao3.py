"""Detection v2 on the AO3 passages, which the shipped classifier never trained on.

Every AO3 passage was labelled by three people for one warning. With nothing trained on
them, every passage is held out, so the figures compare directly with the published
LLM results (which also saw no training passages):

* **natural distribution**: per warning, every passage labelled for it, majority label;
  the classifier's decision is its calibrated probability at the warning's operating point
  (chosen on the annotated dev books, not here). Macro-F1 over the eight warnings;
* **the published protocol's test draws**: 20 positives and 20 negatives per warning and
  seed (seeds 43-47, the draws of ``forewarn eval passages``), in distribution (both sets)
  and out of distribution (set 1): positive-class F1, mean over seeds, mean over warnings.
"""

from __future__ import annotations

import time

import numpy as np

from forewarn.eval.common import Context, EvalError, need, read_jsonl
from forewarn.eval.metrics import Counts
from forewarn.eval.passages import (
    N_TEST_PER_CLASS,
    PAPER_ORDER,
    PASSAGE_FILE,
    PROTOCOL_SEEDS,
    PUBLISHED_ID,
    PUBLISHED_OOD,
    draw_test,
)
from forewarn.eval.report import Section, Table

#: The data's warning names that are not forewarn ids.
TO_ID = {"abduction": "kidnapping"}


def _lexicon_alone(texts: list[str], warnings: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The combiner's lexicon features for texts that stand alone (each its own work)."""

    from forewarn.combine import lexicon_matrix, negation_matrix
    from forewarn.detect.lexicon import LexiconDetector
    from forewarn.eval.common import text_work
    from forewarn.normalize import fold_passages
    from forewarn.segment import segment

    lexicon = LexiconDetector()
    score = np.zeros((len(texts), len(warnings)))
    negated = np.zeros((len(texts), len(warnings)))
    for i, text in enumerate(texts):
        passages = fold_passages(segment(text_work(text)))
        if not passages:
            continue
        rows = {p.index: 0 for p in passages}  # every segment counts for the one text
        hits = lexicon.detect(passages)
        score[i] = lexicon_matrix(hits, rows, warnings).max(axis=0)
        negated[i] = negation_matrix(hits.ruled_out, rows, warnings).max(axis=0)
    return score, negated


def ao3(ctx: Context) -> Section:
    from forewarn.detect.classifier import PassageClassifier, available

    if not available():
        raise EvalError("detection v2's classifier is not installed (forewarn/data/classifier)")
    rows = read_jsonl(need(ctx.data_dir / PASSAGE_FILE, "passage data"))
    started = time.perf_counter()
    section = Section("ao3", "AO3 passages, detection v2 (never trained on them)")
    clf = PassageClassifier()
    col = {w: j for j, w in enumerate(clf.warnings)}
    ctx.log(f"ao3: scoring {len(rows):,} passages")
    texts = [str(r["text"]) for r in rows]
    lexicon, negated = _lexicon_alone(texts, clf.warnings)
    probs = np.concatenate([clf.scores(texts[b: b + 256], lexicon[b: b + 256],
                                       negated[b: b + 256])[0]
                            for b in range(0, len(texts), 256)])
    names = [w for w in PAPER_ORDER if any(r["warning"] == w for r in rows)]
    warning = np.array([str(r["warning"]) for r in rows])
    majority = np.array([sum(int(v) for v in r["labels"]) * 2 > len(r["labels"]) for r in rows])
    set_id = np.array([int(r.get("set_id", 0)) for r in rows])
    decide = np.zeros(len(rows), dtype=bool)
    for i, r in enumerate(rows):
        wid = TO_ID.get(str(r["warning"]), str(r["warning"]))
        decide[i] = probs[i, col[wid]] >= clf.operating_points.get(wid, 0.5)

    natural = Table(["warning", "passages", "majority +", "flagged", "precision", "recall",
                     "F1"], caption="**Natural distribution**, majority labels")
    f1s = []
    for name in names:
        sel = warning == name
        c = Counts.of(decide[sel].tolist(), majority[sel].tolist())
        natural.add(name, int(sel.sum()), int(majority[sel].sum()), int(decide[sel].sum()),
                    c.precision, c.recall, c.f1)
        f1s.append(c.f1)
    natural_macro = float(np.mean(f1s))
    natural.add("macro", None, None, None, None, None, natural_macro)

    protocol = Table(["setting", *names, "mean F1", "published"],
                     caption="**Published protocol test draws** (20 + 20, seeds 43-47), "
                             "majority labels: positive-class F1, mean over seeds")
    means = {}
    for setting in ("in-distribution", "out-of-distribution"):
        cells: list[float | None] = []
        for name in names:
            pool = np.flatnonzero(warning == name)
            if setting == "out-of-distribution":
                pool = pool[set_id[pool] == 1]
            pos, neg = pool[majority[pool]], pool[~majority[pool]]
            if len(pos) == 0 or len(neg) == 0:
                cells.append(None)
                continue
            seeds = [Counts.of(decide[t].tolist(), majority[t].tolist()).f1
                     for t in (draw_test(s, pos, neg, N_TEST_PER_CLASS)
                               for s in PROTOCOL_SEEDS)]
            cells.append(float(np.mean(seeds)))
        means[setting] = float(np.mean([c for c in cells if c is not None]))
        published = PUBLISHED_ID if setting == "in-distribution" else PUBLISHED_OOD
        protocol.add(setting, *cells, means[setting],
                     ", ".join(f"{m} {v:.2f}" for m, v in published))
    section.tables += [natural, protocol]
    section.intro = ("The shipped classifier is trained on the public-domain corpus and the "
                     "project's own writing only; every AO3 passage is held out. Operating "
                     "points come from the annotated dev books.")
    section.data = {"natural_macro_f1": natural_macro, "protocol_mean_f1": means}
    section.seconds = time.perf_counter() - started
    return section
