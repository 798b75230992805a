"""Detection v2: fine-tune all-MiniLM-L6-v2 end to end as one passage classifier over the
whole taxonomy, on the annotated corpus (training/annotations), the modern passages written
for the project and the project's seeds. AO3 passages are fans' works: never trained on.

Outputs per passage: one logit per warning (39), then per warning two severity logits
(at least "depicted", then "graphic": 39 + 39), over the same pooled, unit-length sentence
embedding that
forewarn's ONNX encoder returns, so the fine-tuned encoder exports with
``training/export_encoder.py``'s graph and the heads are a plain matrix.

Rows and splits (``training/annotations/splits.json``, fixed before any training):

* train: corpus passages of train books, modern passages of train writing batches, seeds;
* dev: corpus passages of dev books, modern passages of dev batches: used to pick the epoch
  and fit the calibration, never trained on;
* test: test books and batches: never used for any choice (``report`` only).

Labels are the final labels (an adjudication where there is one, else the first reading).
A seed positive is labelled for its own warning only (other warnings unknown, no loss);
seed negatives are negative for every warning except those they name. The loss is binary
cross-entropy per output with positives weighted by ``sqrt(negatives / positives)``
(capped at 30): rare warnings count without drowning the common ones.

Usage (the training venv, training/.venv: torch==2.13.0 CPU, transformers, safetensors)::

    training/.venv/bin/python training/train_classifier.py train --weights DIR --out RUN
    training/.venv/bin/python training/fit_combiner.py RUN   # combiner, points, aggregator

``train`` writes a checkpoint and the dev logits after every epoch (a stop loses at most
one epoch) and resumes from the last checkpoint when run again with the same RUN folder.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261206
MAX_TOKENS = 256
BATCH = 16
LR = 5e-5
HEAD_LR = 2e-3
WEIGHT_DECAY = 0.01
WARMUP = 0.06
MAX_POS_WEIGHT = 30.0
# The pooled embedding has unit length, so a linear head on it can only spread logits as
# far as its weights grow; the first run (a zero-initialised head on the raw unit vector)
# spent its epoch moving biases (dev mean AP 0.045). Logits are taken on the embedding
# scaled by SCALE (a cosine classifier); the export folds SCALE into the head's weights.
SCALE = 20.0
SEVERITY_OUTPUTS = ("at-least-depicted", "graphic")
LEVEL = {"mentioned": 1, "depicted": 2, "graphic": 3}


def load_rows(data: Path, soft: bool = False,
              splits: tuple[str, ...] = ("train", "dev", "test")) -> dict[str, list]:
    """Texts, label rows (nan = unknown), split and source of every usable passage of
    ``splits`` (the seeds belong to train).

    With ``soft``, a passage read more than once gets, per warning, the share of its
    readings that saw the warning (two readings that disagree: 0.5; with the adjudication:
    1/3 or 2/3) instead of the final reading's 0 or 1; severity targets stay the final
    reading's."""
    from annotate import final_labels, load_labels, modern_passage, warning_ids
    from corpus import lookup, split_of_passage

    readings: dict[str, list[set[str]]] = {}
    if soft:
        for reading in load_labels():
            readings.setdefault(reading["id"], []).append(set(reading["labels"]))

    wids = warning_ids()
    col = {w: i for i, w in enumerate(wids)}
    out: dict[str, list] = {"text": [], "y": [], "split": [], "source": [], "id": []}

    def add(text: str, y: np.ndarray, split: str, source: str, pid: str) -> None:
        out["text"].append(text)
        out["y"].append(y)
        out["split"].append(split)
        out["source"].append(source)
        out["id"].append(pid)

    n_out = len(wids) * (1 + len(SEVERITY_OUTPUTS))
    for pid, row in sorted(final_labels().items()):
        if row["source"] == "ao3":
            continue  # fans' works: evaluation only
        split = split_of_passage(pid)
        if split not in splits:
            continue
        text = lookup(pid, data).text if row["source"] == "corpus" else modern_passage(pid)[1]
        y = np.zeros(n_out, dtype=np.float32)
        # a warning's severity is learnt where the passage shows that warning (a death
        # mentioned beside graphic violence stays "mentioned"); unknown elsewhere
        y[len(wids):] = np.nan
        for wid, sev in row["labels"].items():
            j = col[wid]
            y[j] = 1.0
            y[len(wids) + j] = float(LEVEL[sev] >= 2)
            y[2 * len(wids) + j] = float(LEVEL[sev] >= 3)
        if split == "train":
            for wid, share in soft_presence(readings.get(pid, [])).items():
                y[col[wid]] = share
        add(text, y, split, row["source"], pid)
    seeds = ROOT / "training" / "seeds"
    if "train" not in splits:
        out["y"] = np.stack(out["y"]) if out["y"] else np.zeros((0, n_out), np.float32)
        return out
    for n, line in enumerate((seeds / "positives.jsonl").read_text().splitlines()):
        rec = json.loads(line)
        y = np.full(n_out, np.nan, dtype=np.float32)
        y[col[rec["warning"]]] = 1.0
        add(rec["text"], y, "train", "seed", f"seed+:{n}")
    for n, line in enumerate((seeds / "negatives.jsonl").read_text().splitlines()):
        rec = json.loads(line)
        y = np.zeros(n_out, dtype=np.float32)
        y[len(wids):] = np.nan
        for wid in rec.get("not_negative_for", []):
            if wid in col:
                y[col[wid]] = np.nan
        add(rec["text"], y, "train", "seed", f"seed-:{n}")
    out["y"] = np.stack(out["y"])
    return out


def wave_rows(sample: list[dict], waves: str) -> set[str]:
    """The ids of the targeted passages drawn in the named waves (comma-separated wave
    names, the part of a passage's ``drawn`` before its first colon)."""
    names = set(waves.split(","))
    return {r["id"] for r in sample
            if r["stratum"] == "targeted" and r["drawn"].split(":")[0] in names}


def drawn_rows(sample: list[dict], names: str) -> set[str]:
    """The ids of the passages of the named draws, for ``--without``: targeted waves
    (``wave3``, as :func:`wave_rows`) and the later uniform draws (``trainrandom8``, stratum
    ``random``), so that a run can be rebuilt without what was read after it started.
    Other names are ignored (writing batches are :func:`writing_batch_rows`'s)."""
    uniform = {n for n in names.split(",") if re.fullmatch(r"(?:train|dev|test)random\d+", n)}
    return wave_rows(sample, names) | {r["id"] for r in sample if r["stratum"] == "random"
                                       and r["drawn"].split(":")[0] in uniform}


def left_out(sample: list[dict], ids: list[str], names: str) -> set[str]:
    """The ids ``--without names`` leaves out: the named draws' and writing batches'."""
    return drawn_rows(sample, names) | writing_batch_rows(ids, names)


def writing_batch_rows(ids: list[str], names: str) -> set[str]:
    """The ids of the modern passages of the named writing batches (comma-separated, e.g.
    ``w76,w77``; ``modern:w76-s01:0-412`` is of ``w76``). Other names are ignored."""
    batches = {n for n in names.split(",") if re.fullmatch(r"w\d+", n)}
    return {i for i in ids
            if i.startswith("modern:") and i.split(":")[1].split("-")[0] in batches}


def quiet_rows(y: np.ndarray, n_warnings: int) -> np.ndarray:
    """Rows annotated with no warning at all (every presence label known and 0)."""
    presence = y[:, :n_warnings]
    return ~np.isnan(presence).any(axis=1) & (np.nan_to_num(presence) == 0).all(axis=1)


def epoch_rows(train: np.ndarray, quiet: np.ndarray, share: float,
               rng: np.random.Generator) -> np.ndarray:
    """One epoch's rows: every row that carries a warning (or an unknown), and ``share`` of
    the quiet rows (``quiet`` aligned with ``train``), drawn afresh each epoch so that over
    several epochs every quiet row is read. ``share`` 1 is every row."""
    if share >= 1.0:
        return train
    quiet_idx = np.flatnonzero(quiet)
    keep = rng.choice(quiet_idx, round(share * len(quiet_idx)), replace=False)
    return np.sort(np.concatenate([train[~quiet], train[keep]]))


def length_batches(order: np.ndarray, lengths: np.ndarray, batch: int, rng: np.random.Generator,
                   window: int = 50) -> list[np.ndarray]:
    """An epoch's batches of passages of similar length: ``order`` (already shuffled) is cut
    into windows of ``window`` batches, each window sorted by length and cut into batches,
    and the batches are shuffled. Every row of the whole batches of ``order`` is used once;
    a batch pads to its longest passage, so similar lengths pad less (random batches of the
    training rows are 61% real tokens)."""
    n = (len(order) // batch) * batch
    order = order[:n]
    out: list[np.ndarray] = []
    span = batch * window
    for start in range(0, n, span):
        chunk = order[start: start + span]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        out.extend(chunk[k: k + batch] for k in range(0, len(chunk), batch))
    return [out[k] for k in rng.permutation(len(out))]


def with_context(tok, passage: str, before: str, after: str, n: int) -> tuple[list[int], int, int]:
    """One input with its neighbours (the last ``n`` tokens of the passage before, the first
    ``n`` of the one after) and the span of the passage's own tokens, over which the
    embedding is pooled: the run time's own :func:`forewarn.detect.encoder.context_input`,
    so that training and scanning cannot lay a passage out differently."""
    from forewarn.detect.encoder import context_input

    return context_input(tok, passage, before, after, n, MAX_TOKENS)


def pad_pooled(sequences: list[list[int]],
               spans: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Token id lists → (ids, attention mask, pooling mask over each ``spans`` range), int64
    arrays zero-padded to the longest (``torch.from_numpy`` each for the model)."""
    from finetune_encoder import pad_ids

    ids, mask = pad_ids(sequences)
    pool = np.zeros_like(ids)
    for r, (a, b) in enumerate(spans):
        pool[r, a:b] = 1
    return ids, mask, pool


def soft_presence(readings: list[set[str]]) -> dict[str, float]:
    """Per warning any reading saw, the share of the readings that saw it; nothing for a
    passage read once (its final reading stands)."""
    if len(readings) < 2:
        return {}
    return {wid: sum(wid in r for r in readings) / len(readings)
            for wid in sorted(set().union(*readings))}


def pos_weights(y: np.ndarray, n_warnings: int, severity: bool = False) -> np.ndarray:
    """Presence outputs: positives weighted by ``sqrt(negatives / positives)`` (capped).
    Severity outputs are unweighted unless ``severity``, when their positives ("graphic" is
    rare among present warnings) are weighted the same way; either way the severity
    cut-offs are chosen on dev by ``fit_combiner.py``."""
    pos = np.nansum(y, axis=0)
    neg = np.sum(~np.isnan(y), axis=0) - pos
    w = np.where(pos > 0, np.minimum(np.sqrt(neg / np.maximum(pos, 1)), MAX_POS_WEIGHT), 1.0)
    if not severity:
        w[n_warnings:] = 1.0
    return w


def average_precision(scores: np.ndarray, y: np.ndarray) -> float | None:
    keep = ~np.isnan(y)
    s, t = scores[keep], y[keep]
    if t.sum() == 0:
        return None
    order = np.argsort(-s, kind="stable")
    t = t[order]
    hits = np.cumsum(t)
    precision = hits / np.arange(1, len(t) + 1)
    return float((precision * t).sum() / t.sum())


def dev_summary(logits: np.ndarray, y: np.ndarray, n_warnings: int) -> dict:
    aps = {}
    for j in range(n_warnings):
        ap = average_precision(logits[:, j], y[:, j])
        if ap is not None:
            aps[j] = ap
    return {"mean_ap": float(np.mean(list(aps.values()))) if aps else 0.0,
            "warnings_with_positives": len(aps)}


def cpu_has_bf16(cpuinfo: str | None = None) -> bool:
    """Whether the CPU multiplies bf16 in hardware (AMX or AVX-512 BF16), read from
    /proc/cpuinfo's flags. Without them torch emulates bf16 autocast: the twelfth session's
    recipe (``--bf16``, on a CPU with AMX) trained 16-25 passages a second on 2 cores; on the
    thirteenth session's AVX2-only CPU it had not reached its 50th step (800 passages) after
    nine minutes, where fp32 ran 7 a second. Where the flags cannot be read (not Linux),
    assume it has them."""
    from forewarn.detect.int8_form import cpu_flags

    flags = cpu_flags(cpuinfo)
    return flags is None or bool(flags & {"avx512_bf16", "amx_bf16"})


def cmd_train(args: argparse.Namespace) -> int:
    import torch

    if args.bf16 and not cpu_has_bf16():
        print("train: --bf16 needs a CPU with AMX or AVX-512 BF16 (this one has neither, so "
              "torch would emulate it many times slower); leave --bf16 out", file=sys.stderr)
        return 2
    from annotate import warning_ids
    from finetune_encoder import _torch_model, pad_batch
    from tokenizers import Tokenizer

    torch.set_num_threads(int(os.environ.get("TRAIN_THREADS", 0)) or max(1, os.cpu_count() or 1))
    run = Path(args.out)
    run.mkdir(parents=True, exist_ok=True)
    rows = load_rows(Path(args.data), soft=args.soft)
    wids = warning_ids()
    split = np.array(rows["split"])
    train = np.flatnonzero(split == "train")
    dev = np.flatnonzero(split == "dev")
    if args.focus or args.without:
        from annotate import load_sample

        sample = load_sample()
    if args.focus:
        # a continuation: every train row of the named wave(s) plus a random sample of the
        # others (rehearsal, so what the warm start learnt is kept)
        fresh = wave_rows(sample, args.focus)
        is_fresh = np.array([rows["id"][i] in fresh for i in train])
        rng0 = np.random.default_rng(args.seed)
        others = train[~is_fresh]
        train = np.concatenate([train[is_fresh],
                                rng0.choice(others, min(args.rehearse, len(others)),
                                            replace=False)])
        print(f"continuation: {int(is_fresh.sum())} rows of {args.focus}, "
              f"{min(args.rehearse, len(others))} rehearsed", flush=True)
    if args.without:
        # an ablation, or a rebuild: leave the named draws' and writing batches' train rows out
        dropped = left_out(sample, rows["id"], args.without)
        keep = np.array([rows["id"][i] not in dropped for i in train], dtype=bool)
        print(f"without {args.without}: {int((~keep).sum())} train rows left out", flush=True)
        train = train[keep]
    if args.limit:
        rng0 = np.random.default_rng(args.seed)
        train = rng0.choice(train, min(args.limit, len(train)), replace=False)
        dev = dev[: max(50, args.limit // 4)]
    y = rows["y"]
    (run / "rows.json").write_text(json.dumps({
        "ids": rows["id"], "split": rows["split"], "source": rows["source"],
        "warnings": wids, "severity_outputs": list(SEVERITY_OUTPUTS),
        "severity_per_warning": True, "scale": SCALE, "context": args.context}),
        encoding="utf-8")
    np.save(run / "y.npy", y)
    print(f"rows: {len(train)} train, {len(dev)} dev (of {len(y)})", flush=True)

    tok = Tokenizer.from_file(str(Path(args.weights) / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=MAX_TOKENS)
    spans: list[tuple[int, int]] | None = None
    if args.context:
        tokens, spans = [], []
        for pid, text in zip(rows["id"], rows["text"], strict=True):
            before, after = context_of(pid, Path(args.data))
            seq, a, b = with_context(tok, text, before, after, args.context)
            tokens.append(seq)
            spans.append((a, b))
    else:
        tokens = [e.ids for e in tok.encode_batch(rows["text"])]

    def batch(idx: np.ndarray):
        if spans is None:
            return pad_batch([tokens[i] for i in idx])
        padded = pad_pooled([tokens[i] for i in idx], [spans[i] for i in idx])
        return tuple(map(torch.from_numpy, padded))

    torch.manual_seed(args.seed)
    inner = _torch_model(Path(args.weights), y.shape[1])

    class Scaled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = inner
            self.bert = inner.bert
            self.head = inner.head

        def forward(self, ids: torch.Tensor, mask: torch.Tensor,
                    pool: torch.Tensor | None = None) -> torch.Tensor:
            return self.inner.head(self.inner.embed(ids, mask, pool) * SCALE)

    model = Scaled()
    if args.freeze_layers:
        # the embeddings and the lowest transformer layers stay as pre-trained: no gradient
        # flows below the first trained layer, so a step costs less (the CPU recipe)
        for param in model.bert.embeddings.parameters():
            param.requires_grad_(False)
        for layer in model.bert.encoder.layer[: args.freeze_layers]:
            for param in layer.parameters():
                param.requires_grad_(False)
    w_pos = torch.tensor(pos_weights(y[train], len(wids), args.weight_severity),
                         dtype=torch.float32)
    encoder_params = [p for p in model.bert.parameters() if p.requires_grad]
    opt = torch.optim.AdamW([{"params": encoder_params, "lr": args.lr},
                             {"params": model.head.parameters(), "lr": HEAD_LR}],
                            weight_decay=WEIGHT_DECAY)
    quiet = quiet_rows(y[train], len(wids))
    per_epoch = len(train) - int(quiet.sum()) + round(args.negatives * int(quiet.sum()))
    steps_per_epoch = max(1, per_epoch // BATCH)
    total = steps_per_epoch * args.epochs
    warm = max(1, int(WARMUP * total))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
    start_epoch = 0
    last = sorted(run.glob("epoch*.pt"))
    if args.init and not last:
        # warm start: another run's weights, a fresh optimiser and learning-rate schedule
        inner.load_state_dict(torch.load(args.init, weights_only=False)["model"])
        print(f"weights from {args.init}", flush=True)
    if last:
        state = torch.load(last[-1], weights_only=False)
        inner.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        start_epoch = state["epoch"]
        print(f"resuming after epoch {start_epoch}", flush=True)

    def score(idx: np.ndarray) -> np.ndarray:
        model.eval()
        out = predict(model, [tokens[i] for i in idx], y.shape[1],
                      None if spans is None else [spans[i] for i in idx])
        model.train()
        return out

    lengths = np.array([len(t) for t in tokens])
    for epoch in range(start_epoch, args.epochs):
        rng = np.random.default_rng(args.seed + epoch)
        order = rng.permutation(epoch_rows(train, quiet, args.negatives, rng))
        if args.bucket:
            picks = length_batches(order, lengths, BATCH, rng)
        else:
            picks = [order[b * BATCH: (b + 1) * BATCH] for b in range(steps_per_epoch)]
        model.train()
        t0 = time.perf_counter()
        running = 0.0
        for b, pick in enumerate(picks):
            inputs = batch(pick)
            target = torch.tensor(y[pick])
            have = ~torch.isnan(target)
            target = torch.nan_to_num(target)
            # bf16 matrix products where the CPU has them (AMX, AVX-512 BF16); weights,
            # optimiser and loss stay fp32
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
                logits = model(*inputs).float()
            bce = torch.nn.functional.binary_cross_entropy_with_logits(
                logits, target, pos_weight=w_pos, reduction="none")
            loss = (bce * have).sum() / have.sum().clamp(min=1)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            running = 0.98 * running + 0.02 * float(loss) if b else float(loss)
            if b % args.log_every == 0:
                rate = (b + 1) * BATCH / (time.perf_counter() - t0)
                print(f"epoch {epoch + 1} step {b}/{steps_per_epoch} loss {running:.4f} "
                      f"({rate:.1f} passages/s)", flush=True)
        dev_logits = score(dev)
        summary = dev_summary(dev_logits, y[dev], len(wids))
        summary.update(epoch=epoch + 1, seconds=round(time.perf_counter() - t0, 1),
                       train_rows=len(train), dev_rows=len(dev), seed=args.seed,
                       soft=args.soft, lr=args.lr, bucket=args.bucket, bf16=args.bf16,
                       context=args.context, epochs=args.epochs, without=args.without,
                       focus=args.focus, init=args.init, negatives=args.negatives,
                       freeze_layers=args.freeze_layers)
        print(json.dumps(summary), flush=True)
        np.savez(run / f"dev-epoch{epoch + 1}.npz", logits=dev_logits, rows=dev)
        torch.save({"model": inner.state_dict(), "opt": opt.state_dict(),
                    "sched": sched.state_dict(), "epoch": epoch + 1, "scale": SCALE},
                   run / f"epoch{epoch + 1}.pt")
        with open(run / "log.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(summary) + "\n")
    test = np.flatnonzero(split == "test")
    if not args.limit:
        np.savez(run / "test.npz", logits=score(test), rows=test)
    return 0


def predict(forward, sequences: list[list[int]], n_out: int,
            spans: list[tuple[int, int]] | None = None) -> np.ndarray:
    """``forward(ids, mask)``'s logits ``[len(sequences), n_out]`` for token id lists, in
    batches of 64 of similar length, without gradients; with ``spans`` (inputs with
    context), ``forward(ids, mask, pool)``."""
    import torch
    from finetune_encoder import pad_batch

    out = np.zeros((len(sequences), n_out), dtype=np.float32)
    order = sorted(range(len(sequences)), key=lambda k: len(sequences[k]))
    with torch.no_grad():
        for b in range(0, len(order), 64):
            pick = order[b: b + 64]
            seqs = [sequences[k] for k in pick]
            if spans is None:
                out[pick] = forward(*pad_batch(seqs)).numpy()
            else:
                padded = pad_pooled(seqs, [spans[k] for k in pick])
                out[pick] = forward(*map(torch.from_numpy, padded)).numpy()
    return out


def average_states(states: list[dict]) -> dict:
    """The element-wise mean of models' weights (torch state dicts, or any mapping of
    arrays); the models must have the same parameters."""
    keys = list(states[0])
    if any(list(s) != keys for s in states[1:]):
        raise SystemExit("soup: the checkpoints do not hold the same parameters")
    return {k: sum(s[k] for s in states) / len(states) for k in keys}


def cmd_soup(args: argparse.Namespace) -> int:
    """A uniform "model soup": the average of several fine-tuned checkpoints' weights, every
    one of them started from the same published MiniLM weights (so they lie in one basin
    and their average is a model, not a blur). It costs nothing at run time: the soup is
    one model of the same shape. Writes RUN like ``train`` does (``epoch1.pt``, the dev
    logits, the test logits, ``log.jsonl``), so ``fit_combiner.py`` and
    ``export_classifier.py`` read it unchanged."""
    import torch
    from annotate import warning_ids
    from finetune_encoder import _torch_model
    from tokenizers import Tokenizer

    torch.set_num_threads(int(os.environ.get("TRAIN_THREADS", 0)) or max(1, os.cpu_count() or 1))
    for c in args.checkpoints:
        rows_of = Path(c).parent / "rows.json"
        if rows_of.is_file() and json.loads(rows_of.read_text()).get("context"):
            raise SystemExit(f"{c} was trained with --context: a soup reads passages alone")
    run = Path(args.out)
    run.mkdir(parents=True, exist_ok=True)
    soup = average_states([torch.load(c, weights_only=False)["model"]
                           for c in args.checkpoints])
    rows = load_rows(Path(args.data))
    wids = warning_ids()
    y = rows["y"]
    (run / "rows.json").write_text(json.dumps({
        "ids": rows["id"], "split": rows["split"], "source": rows["source"],
        "warnings": wids, "severity_outputs": list(SEVERITY_OUTPUTS),
        "severity_per_warning": True, "scale": SCALE,
        "soup_of": [str(c) for c in args.checkpoints]}), encoding="utf-8")
    np.save(run / "y.npy", y)
    model = _torch_model(Path(args.weights), y.shape[1])
    model.load_state_dict(soup)
    model.eval()
    tok = Tokenizer.from_file(str(Path(args.weights) / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=MAX_TOKENS)
    split = np.array(rows["split"])

    def score(idx: np.ndarray) -> np.ndarray:
        return predict(lambda ids, mask: model.head(model.embed(ids, mask) * SCALE),
                       [tok.encode(rows["text"][i]).ids for i in idx], y.shape[1])

    dev = np.flatnonzero(split == "dev")
    dev_logits = score(dev)
    summary = dev_summary(dev_logits, y[dev], len(wids))
    summary.update(epoch=1, soup_of=[str(c) for c in args.checkpoints], dev_rows=len(dev))
    print(json.dumps(summary), flush=True)
    np.savez(run / "dev-epoch1.npz", logits=dev_logits, rows=dev)
    torch.save({"model": soup, "epoch": 1, "scale": SCALE}, run / "epoch1.pt")
    (run / "log.jsonl").write_text(json.dumps(summary) + "\n", encoding="utf-8")
    if not args.no_test:
        test = np.flatnonzero(split == "test")
        np.savez(run / "test.npz", logits=score(test), rows=test)
    return 0


def context_of(pid: str, data: Path) -> tuple[str, str]:
    """The texts of a passage's neighbours (before, after); seeds have none."""
    from annotate import modern_passage
    from corpus import lookup, neighbours

    if pid.startswith("seed"):
        return "", ""
    if pid.startswith("modern:"):
        before, _, after = modern_passage(pid)
        return before, after
    return neighbours(lookup(pid, data), data)


def text_of(pid: str, data: Path) -> str:
    """A corpus or modern passage's text by its id (seeds are never dev or test rows)."""
    from annotate import modern_passage
    from corpus import lookup

    return modern_passage(pid)[1] if pid.startswith("modern:") else lookup(pid, data).text


def cmd_score(args: argparse.Namespace) -> int:
    """Score the test rows with one epoch's checkpoint (test.npz), e.g. after a stop."""
    import torch
    from finetune_encoder import _torch_model
    from tokenizers import Tokenizer

    run = Path(args.run)
    meta = json.loads((run / "rows.json").read_text())
    context = int(meta.get("context") or 0)
    y = np.load(run / "y.npy")
    tok = Tokenizer.from_file(str(Path(args.weights) / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=MAX_TOKENS)
    split = np.array(meta["split"])
    test = np.flatnonzero(split == "test")
    model = _torch_model(Path(args.weights), y.shape[1])
    model.load_state_dict(torch.load(run / f"epoch{args.epoch}.pt", weights_only=False)["model"])
    model.eval()
    scale = float(meta.get("scale", 1.0))
    out = np.zeros((len(test), y.shape[1]), dtype=np.float32)
    with torch.no_grad():
        for k, i in enumerate(test):
            text = text_of(meta["ids"][i], Path(args.data))
            if context:  # as the run was trained: with its neighbours, pooled over its own
                seq, a, b = with_context(tok, text, *context_of(meta["ids"][i],
                                                                 Path(args.data)), context)
                ids, _, pool = map(torch.from_numpy, pad_pooled([seq], [(a, b)]))
            else:
                ids, pool = torch.tensor([tok.encode(text).ids]), None
            out[k] = model.head(model.embed(ids, torch.ones_like(ids), pool) * scale
                                ).numpy()[0]
    np.savez(run / "test.npz", logits=out, rows=test)
    print(f"scored {len(test)} test rows with epoch {args.epoch}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--weights", required=True, help="folder with config.json, "
                   "model.safetensors and tokenizer.json of all-MiniLM-L6-v2")
    t.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    t.add_argument("--out", required=True)
    t.add_argument("--epochs", type=int, default=2)
    t.add_argument("--lr", type=float, default=LR)
    t.add_argument("--limit", type=int, default=0, help="a subset, to explore")
    t.add_argument("--init", help="start from this checkpoint's weights (epochN.pt of a "
                   "run) with a fresh optimiser and schedule")
    t.add_argument("--focus", help="train on these targeted waves' rows (comma-separated, "
                   "e.g. wave3) plus --rehearse others: a continuation of --init")
    t.add_argument("--rehearse", type=int, default=6000)
    t.add_argument("--without", help="leave these draws' (targeted waves, later uniform "
                   "draws) and writing batches' train rows out (comma-separated names, e.g. "
                   "wave3,wave4,wave5,trainrandom8,w76): an ablation, or a rebuild of a run "
                   "made before later labels")
    t.add_argument("--log-every", type=int, default=50, help="steps between progress lines")
    t.add_argument("--weight-severity", action="store_true",
                   help="weight the severity outputs' positives like the presence outputs'")
    t.add_argument("--soft", action="store_true",
                   help="soft presence targets where a passage was read more than once")
    t.add_argument("--seed", type=int, default=SEED)
    t.add_argument("--bucket", action="store_true",
                   help="batches of similar length (less padding; about 1.5x faster)")
    t.add_argument("--context", type=int, default=0, metavar="TOKENS",
                   help="read this many tokens of each neighbouring passage with the passage "
                        "(the embedding is pooled over the passage's own tokens)")
    t.add_argument("--freeze-layers", type=int, default=0, metavar="N",
                   help="keep the embeddings and the lowest N of the 6 layers as pre-trained")
    t.add_argument("--negatives", type=float, default=1.0, metavar="SHARE",
                   help="each epoch reads this share of the rows annotated with no warning "
                        "(drawn afresh per epoch) and every other row")
    t.add_argument("--bf16", action="store_true",
                   help="bf16 autocast for the CPU's matrix products (AMX or AVX-512 BF16)")
    t.set_defaults(fn=cmd_train)
    so = sub.add_parser("soup", help="average fine-tuned checkpoints' weights into one model")
    so.add_argument("checkpoints", nargs="+", help="epochN.pt files of runs from the same "
                    "published weights")
    so.add_argument("--weights", required=True)
    so.add_argument("--out", required=True)
    so.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    so.add_argument("--no-test", action="store_true", help="score the dev rows only")
    so.set_defaults(fn=cmd_soup)
    sc = sub.add_parser("score")
    sc.add_argument("run")
    sc.add_argument("--weights", required=True)
    sc.add_argument("--epoch", type=int, required=True)
    sc.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    sc.set_defaults(fn=cmd_score)
    args = ap.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    raise SystemExit(main())
