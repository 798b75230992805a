"""Re-encode an int8 ONNX graph's signed weights as unsigned, so that it computes the same
numbers on every x86 CPU.

``onnxruntime.quantization.quantize_dynamic(weight_type=QInt8)`` writes ``MatMulInteger``
nodes whose weights are int8, fed uint8 activations. On a CPU with VNNI or AMX,
onnxruntime multiplies such u8 x s8 pairs exactly; on one with AVX2 alone it uses
``vpmaddubsw``, which adds two products into a saturating int16, and large activations
overflow it. The same graph then reads text differently: the thirteenth session's AVX2
machine printed another verdict for the README's example story (addiction "mentioned" in
one stretch instead of "depicted" in two) than the machine that measured the model.

Every int8 weight ``w`` with zero point ``z`` is written as ``w + 128`` with zero point
``z + 128`` (uint8): ``(w - z) * scale`` is unchanged, so this is the same quantised model,
bit for bit in what it means; onnxruntime's u8 x u8 kernels widen to int16 before they
multiply and do not saturate, so an AVX2 CPU now computes what a VNNI CPU computed. (The
other remedy, ``reduce_range``, re-quantises the weights to 7 bits and changes the model.)

Usage (the training venv or the project's, with ``onnx``)::

    python training/unsigned_weights.py DIR [DIR ...]   # rewrites DIR/model.onnx, manifest
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path


def unsign(model) -> int:
    """Rewrite, in place, every int8 weight (and its zero point) that is the second input
    of a ``MatMulInteger`` node as uint8 shifted by 128; return how many weights."""
    import numpy as np
    from onnx import numpy_helper

    inits = {i.name: i for i in model.graph.initializer}
    consumers: dict[str, set[str]] = {}
    for node in model.graph.node:
        for name in node.input:
            consumers.setdefault(name, set()).add(node.op_type)
    done = 0
    for node in model.graph.node:
        if node.op_type != "MatMulInteger" or node.input[1] not in inits:
            continue  # activations times activations: nothing stored to re-encode
        if len(node.input) < 4 or node.input[3] not in inits:
            raise ValueError(f"{node.name}: the weights' zero point is not a stored constant "
                             "(a zero point of 0 read as uint8 would not be the same model)")
        for name in (node.input[1], node.input[3]):
            if consumers[name] != {"MatMulInteger"}:
                raise ValueError(f"{name} is read by other nodes too; not rewritten")
            values = numpy_helper.to_array(inits[name])
            if values.dtype == np.uint8:
                continue
            if values.dtype != np.int8:
                raise ValueError(f"{name}: a {values.dtype} weight, not int8")
            shifted = (values.astype(np.int16) + 128).astype(np.uint8)
            inits[name].CopyFrom(numpy_helper.from_array(shifted, name))
        done += 1
    return done


def unsign_file(path: Path) -> int:
    """:func:`unsign` an ONNX file in place."""
    import onnx

    model = onnx.load(str(path))
    n = unsign(model)
    onnx.save(model, str(path))
    return n


def restamp(folder: Path, names: tuple[str, ...], note: str = "") -> None:
    """Record the sha256 and size of ``folder``'s files ``names`` in its manifest (and add
    ``note`` to its "quantisation" once), keeping the manifest's indentation."""
    path = folder / "manifest.json"
    text = path.read_text(encoding="utf-8")
    manifest = json.loads(text)
    for name in names:
        blob = (folder / name).read_bytes()
        manifest["files"][name].update(sha256=hashlib.sha256(blob).hexdigest(), bytes=len(blob))
    if note and note not in manifest.get("quantisation", ""):
        manifest["quantisation"] = manifest.get("quantisation", "") + note
    second = text.split("\n", 2)[1] if text.count("\n") > 1 else ""
    indent = len(second) - len(second.lstrip(" ")) or 1
    path.write_text(json.dumps(manifest, indent=indent) + "\n", encoding="utf-8")


def rewrite(folder: Path) -> int:
    """Unsign ``folder/model.onnx`` and update its sha256 and size in the manifest."""
    n = unsign_file(folder / "model.onnx")
    restamp(folder, ("model.onnx",),
            note="; weights stored as uint8 (int8 + 128, zero points alike: unsigned_weights.py)")
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folders", nargs="+", type=Path)
    args = ap.parse_args(argv)
    for folder in args.folders:
        print(f"{folder}: {rewrite(folder)} weights re-encoded", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
