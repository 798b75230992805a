"""Export a detection-v2 run (training/train_classifier.py) for forewarn's run time.

Writes ``src/forewarn/data/classifier/``:

* ``model.onnx``: the fine-tuned MiniLM as an int8 ONNX sentence encoder, the same graph
  as ``training/export_encoder.py`` builds (mean pooling and L2 normalisation inside),
  quantised the same way (onnxruntime dynamic quantisation, QInt8 weights per channel);
* ``tokenizer.json``: the source tokenizer, padding off, truncation at 256 tokens;
* ``heads.npz``: ``weight`` ``[117, 384]`` and ``bias`` ``[117]``: one logit per warning,
  then per warning "at least depicted", then per warning "graphic";
* ``combiner.json``: the combiner, work aggregator and operating points fitted on the dev
  split by ``training/fit_combiner.py`` (:mod:`forewarn.combine` reads it);
* ``manifest.json``: the warnings in order, the run's figures, versions, and the sha256 of
  every file (checked by :mod:`forewarn.detect.classifier` at load).

The export is checked before anything is written: the int8 graph's logits for the dev
passages must agree with the torch model's (mean absolute probability difference under
0.02).

Usage::

    training/.venv/bin/python training/export_classifier.py RUN --weights DIR [--out DIR]
    training/.venv/bin/python training/export_classifier.py RUN --weights DIR --refit-only
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "src" / "forewarn" / "data" / "classifier"
MAX_TOKENS = 256
OPSET = 17
SOURCE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
SOURCE_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


FITTED_KEYS = ("combiner", "combiner_alone", "aggregator", "operating_points", "severity")


def write_combiner(combiner: dict, out: Path) -> None:
    """The run time's part of a fitted ``combiner.json`` (its dev figures go to the
    manifest)."""
    (out / "combiner.json").write_text(json.dumps(
        {k: combiner[k] for k in FITTED_KEYS if k in combiner}, indent=1) + "\n",
        encoding="utf-8")


def refit_only(run: Path, out: Path) -> int:
    """Replace the shipped combiner, aggregator, points and severity cut-offs with the
    run's refit, keeping the model files: only for the same run and epoch (the manifest's
    hash of heads.npz must match the run's export)."""
    manifest = json.loads((out / "manifest.json").read_text())
    combiner = json.loads((run / "combiner.json").read_text())
    if combiner["epoch"] != manifest["epoch"]:
        raise SystemExit(f"{run}: epoch {combiner['epoch']}, the shipped model is epoch "
                         f"{manifest['epoch']}: export the model too")
    write_combiner(combiner, out)
    manifest["fitted_on_dev"] = combiner["fitted_on"]
    manifest["files"]["combiner.json"] = {"sha256": sha256_file(out / "combiner.json"),
                                          "bytes": (out / "combiner.json").stat().st_size}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(manifest["files"]["combiner.json"]))
    return 0


def main(argv: list[str] | None = None) -> int:
    from finetune_encoder import _torch_model
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from tokenizers import Tokenizer
    from train_classifier import context_of, pad_pooled, text_of, with_context
    from unsigned_weights import unsign_file

    from forewarn.combine import sigmoid

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run")
    ap.add_argument("--weights", required=True)
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--refit-only", action="store_true",
                    help="keep the shipped model files; write only the run's refit "
                    "combiner.json (same run and epoch)")
    args = ap.parse_args(argv)
    run, weights, out = Path(args.run), Path(args.weights), Path(args.out)
    if args.refit_only:
        return refit_only(run, out)
    if sha256_file(weights / "model.safetensors") != SOURCE_WEIGHTS_SHA256:
        raise SystemExit("the source weights are not the published all-MiniLM-L6-v2")
    meta = json.loads((run / "rows.json").read_text())
    # a run trained with --context N reads N tokens of each neighbour; its graph takes a
    # third input, pool_mask (the passage's own tokens)
    context = int(meta.get("context") or 0)
    combiner = json.loads((run / "combiner.json").read_text())
    epoch = combiner["epoch"]
    n_out = len(meta["warnings"]) * (1 + len(meta["severity_outputs"]))
    model = _torch_model(weights, n_out)
    model.load_state_dict(torch.load(run / f"epoch{epoch}.pt", weights_only=False)["model"])
    model.eval()

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.m = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                    pool_mask: torch.Tensor | None = None):
            # traced with two inputs, or three for a run that reads its neighbours
            return self.m.embed(input_ids, attention_mask, pool_mask)

    warnings = meta["warnings"]
    tok = Tokenizer.from_file(str(weights / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=MAX_TOKENS)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        inputs = ["input_ids", "attention_mask"] + (["pool_mask"] if context else [])
        example = tuple(torch.ones(1, 8, dtype=torch.int64) for _ in inputs)
        with torch.no_grad():
            torch.onnx.export(Encoder(), example, str(fp32),
                              dynamo=False, opset_version=OPSET, input_names=inputs,
                              output_names=["sentence_embedding"],
                              dynamic_axes={**{name: {0: "batch", 1: "tokens"}
                                               for name in inputs},
                                            "sentence_embedding": {0: "batch"}})
        staged = Path(tmp) / "model.onnx"
        quantize_dynamic(str(fp32), str(staged), weight_type=QuantType.QInt8, per_channel=True)
        unsign_file(staged)  # the same numbers on AVX2 CPUs as on VNNI/AMX ones

        # agreement: int8 ONNX against torch on dev passages
        import onnxruntime as ort

        dev = [i for i, s in enumerate(meta["split"]) if s == "dev"][:300]
        texts = [text_of(meta["ids"][i], Path(args.data)) for i in dev]
        session = ort.InferenceSession(str(staged), providers=["CPUExecutionProvider"])
        scale = float(meta.get("scale", 1.0))  # folded into the head: logits = W' e + b
        w = model.head.weight.detach().numpy() * scale
        b = model.head.bias.detach().numpy()
        diffs = []
        for i, text in zip(dev, texts, strict=True):
            if context:
                seq, start, stop = with_context(tok, text, *context_of(meta["ids"][i],
                                                                        Path(args.data)),
                                                context)
                feeds = dict(zip(("input_ids", "attention_mask", "pool_mask"),
                                 pad_pooled([seq], [(start, stop)]), strict=True))
            else:
                ids = np.array([tok.encode(text).ids], dtype=np.int64)
                feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
            vec = session.run(None, feeds)[0]
            with torch.no_grad():
                t = {k: torch.tensor(v) for k, v in feeds.items()}
                ref = model.head(model.embed(t["input_ids"], t["attention_mask"],
                                             t.get("pool_mask")) * scale).numpy()
            diffs.append(np.abs(sigmoid(vec @ w.T + b) - sigmoid(ref))[0, :len(warnings)]
                         .mean())
        agreement = float(np.mean(diffs))
        print(f"int8 vs torch: mean |p difference| {agreement:.4f} over {len(texts)} passages")
        if agreement > 0.02:
            raise SystemExit("the int8 export disagrees with the trained model; not writing it")
        (out / "model.onnx").write_bytes(staged.read_bytes())
    (out / "tokenizer.json").write_text(tok.to_str(), encoding="utf-8")
    write_combiner(combiner, out)
    np.savez(out / "heads.npz", weight=w.astype(np.float32), bias=b.astype(np.float32))
    manifest = {
        "format": "forewarn.classifier/1",
        "source_model": SOURCE_MODEL,
        "source_weights_sha256": SOURCE_WEIGHTS_SHA256,
        "licence": "Apache-2.0 (model weights)",
        "trained_on": "training/annotations (public-domain corpus, train books; modern "
                      "passages written for the project, train batches) and "
                      "training/seeds; never the AO3 passages",
        "warnings": warnings,
        "severity_outputs": meta["severity_outputs"],
        "severity_per_warning": True,
        "epoch": epoch,
        "fitted_on_dev": combiner["fitted_on"],
        "dims": int(w.shape[1]),
        "max_tokens": MAX_TOKENS,
        "context_tokens": context,
        "pooling": ("mean over pool_mask (the passage's own tokens), then L2 normalisation "
                    "(inside the graph)" if context else
                    "mean over attention mask, then L2 normalisation (inside the graph)"),
        "quantisation": ("onnxruntime quantize_dynamic, QInt8 weights, per channel; weights "
                         "stored as uint8 (int8 + 128, zero points alike: unsigned_weights.py)"),
        "agreement_int8_vs_torch_mean_abs_p": round(agreement, 5),
        "versions": {n: metadata.version(n) for n in ("torch", "transformers", "tokenizers",
                                                      "onnx", "onnxruntime", "numpy")},
        "timing_s": round(time.perf_counter() - t0, 1),
        "files": {name: {"sha256": sha256_file(out / name), "bytes": (out / name).stat().st_size}
                  for name in ("model.onnx", "tokenizer.json", "heads.npz", "combiner.json")},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: manifest[k] for k in ("epoch", "files")}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
