"""Can a static-embedding student screen the v2 classifier? (the ``--fast`` experiment)

Issue 12 allows a ``--fast`` mode for archive sweeps where a static-embedding student of
the classifier keeps at least 98% of the classifier's hits. This script builds that student
and measures it; **it is not shipped** (docs/model-card.md, "A faster mode").

The student reads a passage as the static model's token-vector mean (``forewarn/data/static``)
plus the lexicon's features, and a small MLP trained on the shipped classifier's own
probabilities over unlabelled passages of the train books (soft targets; no annotation, no
fans' works) predicts them. Two uses are measured:

* the student alone: the share of the classifier's passage hits (probability at or above the
  warning's operating point) it also reports;
* the student as a screen: one score per passage (its largest margin over the operating
  points, in logits), a cut chosen on the dev books to keep a share of the classifier's
  hits, applied to the test books: the share of passages the classifier must still read,
  and the share of its hits kept.

Steps (each writes under ``training/runs/fast/``)::

    .venv/bin/python training/distill_fast.py teacher [--train-every 3]   # onnxruntime
    training/.venv/bin/python training/distill_fast.py fit                # torch
    training/.venv/bin/python training/distill_fast.py report
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

RUNS = ROOT / "training" / "runs" / "fast"
SEED = 20261206


def _book_passages(book: str):
    from corpus import book_text

    from forewarn.ingest.text import parse_text
    from forewarn.normalize import fold_passages
    from forewarn.segment import segment

    return fold_passages(segment(parse_text(book_text(book), source=f"{book}.txt")))


def teacher(args: argparse.Namespace) -> None:
    """Score passages of every split's books with the lexicon and the shipped classifier."""
    from corpus import load_splits

    from forewarn.combine import lexicon_matrix, negation_matrix
    from forewarn.detect import create
    from forewarn.detect.static_model import StaticEmbedder

    lexicon = create("lexicon")
    classifier = create("classifier")
    embedder = StaticEmbedder()
    warnings = classifier.classifier.warnings
    RUNS.mkdir(parents=True, exist_ok=True)
    splits = load_splits()["books"]
    for split in args.splits:
        started = time.perf_counter()
        books, indexes, probs, vectors, lex, neg, words = [], [], [], [], [], [], []
        for b, book in enumerate(sorted(splits[split])):
            passages = _book_passages(book)
            if split == "train" and args.train_every > 1:
                passages = passages[b % args.train_every::args.train_every]
            if not passages:
                continue
            hints = lexicon.detect(passages)
            rows = {p.index: r for r, p in enumerate(passages)}
            scores = classifier.score(passages, hints)
            books += [book] * len(passages)
            indexes += [p.index for p in passages]
            words += [len(p.text.split()) for p in passages]
            probs.append(scores.probs.astype(np.float32))
            vectors.append(embedder.encode([p.text for p in passages]).astype(np.float16))
            lex.append(lexicon_matrix(hints, rows, warnings).astype(np.float16))
            neg.append(negation_matrix(hints.ruled_out, rows, warnings).astype(np.float16))
            print(f"{split} {book}: {len(passages)} passages "
                  f"({time.perf_counter() - started:.0f} s)", flush=True)
        np.savez_compressed(
            RUNS / f"teacher-{split}.npz", books=np.array(books), index=np.array(indexes),
            words=np.array(words), probs=np.concatenate(probs), vectors=np.concatenate(vectors),
            lexicon=np.concatenate(lex), negated=np.concatenate(neg),
            warnings=np.array(warnings))
        print(f"{split}: {len(books)} passages in {time.perf_counter() - started:.0f} s",
              flush=True)


def _features(data) -> np.ndarray:
    return np.concatenate([data["vectors"].astype(np.float32),
                           np.log1p(data["lexicon"].astype(np.float32)),
                           data["negated"].astype(np.float32)], axis=1)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-5, 1 - 1e-5)
    return np.log(p / (1 - p))


def fit(args: argparse.Namespace) -> None:
    """Train the student on the train books' teacher scores; keep the best dev epoch."""
    import torch

    torch.manual_seed(SEED)
    torch.set_num_threads(int(os.environ.get("TRAIN_THREADS", "2")))
    train = np.load(RUNS / "teacher-train.npz")
    dev = np.load(RUNS / "teacher-dev.npz")
    x, y = torch.tensor(_features(train)), torch.tensor(train["probs"])
    xd, yd = torch.tensor(_features(dev)), dev["probs"]
    width = x.shape[1]
    n = y.shape[1]
    model = torch.nn.Sequential(torch.nn.Linear(width, args.hidden), torch.nn.GELU(),
                                torch.nn.Dropout(0.1), torch.nn.Linear(args.hidden, n))
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    best, best_state = -1.0, None
    started = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(x))
        for i in range(0, len(x), args.batch):
            idx = order[i:i + args.batch]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            pd = torch.sigmoid(model(xd)).numpy()
        kept = _dev_keep(pd, yd, dev["warnings"], args.keep)
        print(f"epoch {epoch + 1}: loss {loss.item():.4f}, dev share of passages read at "
              f"keep {args.keep}: {kept:.3f} ({time.perf_counter() - started:.0f} s)",
              flush=True)
        score = -kept
        if best_state is None or score > best:
            best, best_state = score, {k: v.clone() for k, v in model.state_dict().items()}
    assert best_state is not None
    np.savez(RUNS / "student.npz", w1=best_state["0.weight"].numpy(),
             b1=best_state["0.bias"].numpy(), w2=best_state["3.weight"].numpy(),
             b2=best_state["3.bias"].numpy())
    print(f"best dev share read {-best:.3f}; wrote {RUNS / 'student.npz'}")


def _operating_points() -> dict[str, float]:
    fitted = json.loads((ROOT / "src/forewarn/data/classifier/combiner.json").read_text())
    return {str(w): float(t) for w, t in fitted["operating_points"].items()}


def _points(warnings) -> np.ndarray:
    points = _operating_points()
    return np.array([points.get(str(w), 0.5) for w in warnings])


def screen_score(student: np.ndarray, points: np.ndarray) -> np.ndarray:
    """One score per passage: the student's largest margin over an operating point."""
    return (_logit(student) - _logit(points)).max(axis=1)


def cut_keeping(score: np.ndarray, hits: np.ndarray, keep: float) -> float:
    """The highest cut on ``score`` whose passages hold ``keep`` of the hits."""
    per_passage = hits.sum(axis=1)
    order = np.argsort(-score)
    cumulative = np.cumsum(per_passage[order]) / max(per_passage.sum(), 1)
    return float(score[order][min(np.searchsorted(cumulative, keep), len(score) - 1)])


def _dev_keep(student: np.ndarray, teacher: np.ndarray, warnings, keep: float) -> float:
    """The share of dev passages a screen keeping ``keep`` of the hits must pass on."""
    points = _points(warnings)
    score = screen_score(student, points)
    return float((score >= cut_keeping(score, teacher >= points, keep)).mean())


def student_scores(data, weights) -> np.ndarray:
    h = _features(data) @ weights["w1"].T + weights["b1"]
    h = 0.5 * h * (1 + np.tanh(0.7978845608 * (h + 0.044715 * h ** 3)))  # GELU (tanh)
    z = h @ weights["w2"].T + weights["b2"]
    return 1 / (1 + np.exp(-z))


def report(args: argparse.Namespace) -> None:
    """The student alone and as a screen: dev-chosen cuts, measured on the test books."""
    weights = dict(np.load(RUNS / "student.npz"))
    dev, test = np.load(RUNS / "teacher-dev.npz"), np.load(RUNS / "teacher-test.npz")
    points = _points(dev["warnings"])
    results = {}
    for name, data in (("dev", dev), ("test", test)):
        student, hits = student_scores(data, weights), data["probs"] >= points
        alone = float(((student >= points) & hits).sum() / hits.sum())
        results[name] = (student, hits)
        print(f"{name}: {len(hits):,} passages, {int(hits.sum()):,} classifier hits, "
              f"{hits.any(axis=1).mean():.1%} of passages hold one (the least a perfect "
              f"screen must read); the student alone keeps {alone:.1%} of the hits")
    dev_score = screen_score(results["dev"][0], points)
    test_score = screen_score(results["test"][0], points)
    test_hits = results["test"][1]
    for keep in args.keep:
        cut = cut_keeping(dev_score, results["dev"][1], keep)
        passed = test_score >= cut
        kept = float((test_hits & passed[:, None]).sum() / test_hits.sum())
        print(f"screen chosen on dev to keep {keep:.0%}: the classifier reads "
              f"{passed.mean():.1%} of test passages and {kept:.1%} of its test hits are kept")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step", required=True)
    t = sub.add_parser("teacher")
    t.add_argument("--splits", nargs="+", default=["dev", "test", "train"])
    t.add_argument("--train-every", type=int, default=3)
    f = sub.add_parser("fit")
    f.add_argument("--epochs", type=int, default=12)
    f.add_argument("--hidden", type=int, default=512)
    f.add_argument("--lr", type=float, default=1e-3)
    f.add_argument("--batch", type=int, default=256)
    f.add_argument("--keep", type=float, default=0.98)
    r = sub.add_parser("report")
    r.add_argument("--keep", type=float, nargs="+", default=[0.9, 0.95, 0.98, 0.99])
    args = parser.parse_args(argv)
    {"teacher": teacher, "fit": fit, "report": report}[args.step](args)


if __name__ == "__main__":
    main()
