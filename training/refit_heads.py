"""Refit an exported classifier's heads on every label read since, with its encoder frozen.

A full retrain of the classifier (``train_classifier.py``) fine-tunes the encoder end to end:
two epochs of about 40,000 passages, which a CPU with bf16 units (AMX) did in 80 minutes
and a 2-core AVX2 CPU needs more than three hours for. The heads are a plain matrix on the
encoder's pooled sentence vector (``heads.npz``: presence, "at least depicted" and
"graphic" per warning), so they can learn from labels read after the encoder was trained at
the cost of encoding the passages once:

* ``vectors``: every train passage (the same rows ``train_classifier.py train`` reads,
  with the same ``--without``) and every dev passage with its rings of neighbours, encoded
  by the exported int8 graph on the folded text as a scan reads it, cached by text;
* the heads' loss is ``train_classifier.py``'s (binary cross-entropy per output, positives
  of presence weighted by ``sqrt(negatives / positives)`` capped at 30, severity learnt
  where the warning is present, soft labels where a passage was read twice), plus an L2
  pull of strength ``--l2`` towards the heads the encoder was trained with: the encoder and
  those heads were fitted together, and the new rows are about a tenth of the old;
* the candidates (one per ``--l2``) are compared with the starting heads the way models are
  chosen here: the shipped combiner cross-validated on the dev passages (grouped 5-fold,
  ``cv_combiner.cross_validate``), mean average precision through it.

``--out DIR`` writes the best candidate as an exported classifier (the same ``model.onnx``
and tokenizer, the new ``heads.npz``, a manifest with their hashes), which
``fit_combiner.py RUN --model DIR`` then fits a combiner for, as for any export. The test
split is never read. Usage (the project's venv: numpy, scipy, onnxruntime, tokenizers)::

    python training/refit_heads.py RUN --model src/forewarn/data/classifier \\
        --without wave3,wave4,wave5 --cache VECTORS.npz [--l2 0.0001,0.001,0.01,0.1] [--out DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from fit_combiner import RINGS, context_features, lexicon_features, natural_weight
from train_classifier import pos_weights
from unsigned_weights import restamp

from forewarn.combine import sigmoid

VECTOR_BATCH = 256


class VectorCache:
    """Pooled sentence vectors of folded texts by the exported graph in ``model``, computed
    once per distinct text and kept in an npz (``texts`` sha1 keys, ``vectors``)."""

    def __init__(self, model: Path, path: Path | None = None) -> None:
        from forewarn.detect.classifier import PassageClassifier

        self.clf = PassageClassifier(model)
        if self.clf.context_tokens:
            raise SystemExit("refit_heads: this classifier reads its neighbours' text; "
                             "its vectors are not a function of the passage alone")
        manifest = json.loads((model / "manifest.json").read_text())
        self.stamp = manifest["files"]["model.onnx"]["sha256"]
        self.path = path
        self.index: dict[str, int] = {}
        self.rows: list[np.ndarray] = []
        if path is not None and path.is_file():
            saved = np.load(path, allow_pickle=False)
            if str(saved["stamp"]) == self.stamp:
                self.index = {str(k): n for n, k in enumerate(saved["keys"])}
                self.rows = list(saved["vectors"])
        self.added = 0

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def get(self, texts: list[str]) -> np.ndarray:
        # by length, so that a batch pads little (alphabetical batches ran at 45 a second)
        missing = sorted({t for t in texts if self.key(t) not in self.index},
                         key=lambda t: (len(t), t))
        for b in range(0, len(missing), VECTOR_BATCH):
            chunk = missing[b:b + VECTOR_BATCH]
            for text, vector in zip(chunk, self.clf.encoder.encode(chunk), strict=True):
                self.index[self.key(text)] = len(self.rows)
                self.rows.append(np.asarray(vector, dtype=np.float32))
        self.added += len(missing)
        dim = self.clf.weight.shape[1]
        return (np.stack([self.rows[self.index[self.key(t)]] for t in texts])
                if texts else np.zeros((0, dim), np.float32))

    def save(self) -> None:
        if self.path is None or not self.added:
            return
        keys = sorted(self.index, key=self.index.__getitem__)
        np.savez(self.path, stamp=np.array(self.stamp), keys=np.array(keys),
                 vectors=np.stack(self.rows))


class HeadsOnVectors:
    """What ``fit_combiner.context_features`` needs of a classifier (``warnings``,
    ``context_tokens``, ``logits``), with given heads on cached vectors."""

    def __init__(self, cache: VectorCache, weight: np.ndarray, bias: np.ndarray) -> None:
        self.cache, self.weight, self.bias = cache, weight, bias
        self.warnings = cache.clf.warnings
        self.context_tokens = 0

    def logits(self, texts, before=None, after=None) -> tuple[np.ndarray, np.ndarray]:
        vectors = self.cache.get(list(texts))
        return vectors, vectors @ self.weight.T + self.bias


def head_loss(params: np.ndarray, x: np.ndarray, y: np.ndarray, w_pos: np.ndarray,
              init: np.ndarray, l2: float) -> tuple[float, np.ndarray]:
    """Mean weighted binary cross-entropy over the known outputs, plus ``l2 / 2`` times the
    squared distance of the weights (not the biases) from ``init``; with its gradient.
    ``params`` is ``[outputs, dim + 1]`` flattened (weights, then the bias column)."""
    n_out = y.shape[1]
    theta = params.reshape(n_out, -1)
    z = x @ theta[:, :-1].T + theta[:, -1]
    known = ~np.isnan(y)
    t = np.where(known, y, 0.0)
    log_p = -np.logaddexp(0.0, -z)
    log_q = -np.logaddexp(0.0, z)
    per = -(w_pos * t * log_p + (1.0 - t) * log_q)
    count = max(int(known.sum()), 1)
    loss = float((per * known).sum() / count)
    p = sigmoid(z)
    grad_z = np.where(known, w_pos * t * (p - 1.0) + (1.0 - t) * p, 0.0) / count
    grad = np.concatenate([grad_z.T @ x, grad_z.sum(axis=0)[:, None]], axis=1)
    diff = theta[:, :-1] - init[:, :-1]
    loss += 0.5 * l2 * float((diff ** 2).sum()) / n_out
    grad[:, :-1] += l2 * diff / n_out
    return loss, grad.ravel()


def fit_heads(x: np.ndarray, y: np.ndarray, n_warnings: int, init: np.ndarray, l2: float,
              iters: int = 300) -> np.ndarray:
    """Heads ``[outputs, dim + 1]`` minimising :func:`head_loss` from ``init`` (L-BFGS)."""
    from scipy.optimize import minimize

    w_pos = pos_weights(y, n_warnings).astype(np.float64)
    result = minimize(head_loss, init.ravel().astype(np.float64), jac=True, method="L-BFGS-B",
                      args=(x.astype(np.float64), y.astype(np.float64), w_pos, init, l2),
                      options={"maxiter": iters})
    return np.asarray(result.x).reshape(init.shape)


def train_rows(data: Path, without: str | None) -> tuple[list[str], list[str], np.ndarray]:
    """(ids, texts, labels) of the rows ``train_classifier.py train --without`` trains on."""
    from annotate import load_sample
    from train_classifier import left_out, load_rows

    rows = load_rows(data, soft=True, splits=("train",))
    keep = np.ones(len(rows["id"]), dtype=bool)
    if without:
        drop = left_out(load_sample(), rows["id"], without)
        keep = np.array([i not in drop for i in rows["id"]])
    index = np.flatnonzero(keep)
    return ([rows["id"][i] for i in index], [rows["text"][i] for i in index],
            np.asarray(rows["y"])[index])


def write_export(model: Path, out: Path, heads: np.ndarray) -> None:
    """``model``'s export with ``heads`` in place of its heads, manifest hashes updated."""
    out.mkdir(parents=True, exist_ok=True)
    for name in ("model.onnx", "tokenizer.json", "combiner.json", "manifest.json"):
        shutil.copyfile(model / name, out / name)
    np.savez(out / "heads.npz", weight=heads[:, :-1].astype(np.float32),
             bias=heads[:, -1].astype(np.float32))
    restamp(out, ("heads.npz",))


def main(argv: list[str] | None = None) -> int:
    from annotate import load_sample
    from cv_combiner import cross_validate, folds
    from train_classifier import load_rows

    from forewarn.normalize import fold

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run", type=Path, help="a training run (its rows.json names the warnings)")
    ap.add_argument("--model", type=Path, required=True, help="the exported classifier")
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--without", help="as train_classifier.py train --without")
    ap.add_argument("--cache", type=Path, help="keep the passages' vectors here (npz)")
    ap.add_argument("--l2", default="0.0001,0.001,0.01,0.1",
                    help="comma-separated pulls towards the starting heads to compare")
    ap.add_argument("--out", type=Path, help="write the best candidate's export here")
    args = ap.parse_args(argv)
    data = Path(args.data)
    wids = json.loads((args.run / "rows.json").read_text())["warnings"]
    cache = VectorCache(args.model, args.cache)
    ids, texts, y = train_rows(data, args.without)
    x = cache.get([fold(t) for t in texts])
    cache.save()
    print(f"{len(ids)} train rows encoded ({cache.added} new vectors)", file=sys.stderr)
    init = np.concatenate([cache.clf.weight, cache.clf.bias[:, None]], axis=1).astype(np.float64)

    dev = load_rows(data, splits=("dev",))
    dev_ids, dev_y = dev["id"], np.asarray(dev["y"])[:, :len(wids)].astype(np.float64)
    lexicon = lexicon_features(dev_ids, wids, data)
    stratum = {r["id"]: r["stratum"] for r in load_sample()}
    weight, fold_of = natural_weight(dev_ids, stratum), folds(dev_ids)

    def through_combiner(heads: np.ndarray) -> dict:
        clf = HeadsOnVectors(cache, heads[:, :-1], heads[:, -1])
        logits, context = context_features(dev_ids, clf, RINGS, data)
        features = {"classifier": logits[:, :len(wids)], **lexicon, **context}
        return cross_validate(features, dev_y, weight, fold_of, wids)

    results = {"start": through_combiner(init)}
    cache.save()
    best, best_ap = init, results["start"]["mean_ap"]
    for l2 in (float(v) for v in args.l2.split(",")):
        heads = fit_heads(x, y, len(wids), init, l2)
        results[f"l2={l2:g}"] = r = through_combiner(heads)
        moved = float(np.linalg.norm(heads[:, :-1] - init[:, :-1]) / np.linalg.norm(init[:, :-1]))
        r["moved"] = moved
        print(f"l2={l2:g}: mean AP {r['mean_ap']:.4f} (start {results['start']['mean_ap']:.4f}), "
              f"log loss {r['log_loss']:.4f}, weights moved {moved:.3f}", file=sys.stderr)
        if r["mean_ap"] > best_ap:
            best, best_ap = heads, r["mean_ap"]
    print(json.dumps(results))
    if args.out is not None:
        write_export(args.model, args.out, best)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
