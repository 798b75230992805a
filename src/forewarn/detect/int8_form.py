"""Which form of the int8 weights a CPU multiplies fastest, and the switch between them.

The shipped graphs (the classifier and the v1 encoder) store their quantised weights as
uint8 (``training/unsigned_weights.py``): onnxruntime multiplies uint8 activations by
uint8 weights exactly on every x86 CPU, while its u8 x s8 kernel saturates on CPUs with
AVX2 alone. On CPUs with VNNI (AVX-512 VNNI, AVX-VNNI) or AMX, u8 x s8 is exact too and
much faster: on the fourteenth session's AVX-512 VNNI machine the classifier's graph ran
1.4x faster with int8 weights, the same logits to the last bit, and a 101,000-word novel
scanned in 12.3 s against 15.4 s.

So at load, where the CPU says it multiplies u8 x s8 exactly, :func:`signed_weights`
turns the verified uint8 weights back into the int8 ones they were made from (each weight
and its zero point minus 128: ``(w - z) * scale`` is unchanged, the same model). It edits
the serialized graph in place, without the ``onnx`` package: the two forms differ only in
each weight tensor's ``data_type`` (2, uint8, against 3, int8: one byte either way) and in
its raw bytes (the top bit flipped), so no length changes.

``FOREWARN_INT8_WEIGHTS`` chooses by hand: ``unsigned`` (every CPU computes the same
numbers), ``signed`` (fast on VNNI and AMX; saturates on AVX2 alone), ``auto`` (default).
"""

from __future__ import annotations

import os
import platform
from collections.abc import Iterator

import numpy as np

__all__ = ["WEIGHTS_ENV", "cpu_flags", "multiplies_s8_exactly", "signed_weights", "weights_form"]

WEIGHTS_ENV = "FOREWARN_INT8_WEIGHTS"
# CPU flags under which onnxruntime's u8 x s8 kernels add products exactly (32-bit sums)
_EXACT_S8_FLAGS = {"avx512_vnni", "avx_vnni", "amx_int8"}
_UINT8, _INT8 = 2, 3  # onnx TensorProto.DataType


def cpu_flags(cpuinfo: str | None = None) -> set[str] | None:
    """The CPU's feature flags from ``/proc/cpuinfo`` (or from ``cpuinfo`` given as its
    text); None where they cannot be read. ``training/train_classifier.py`` asks it too."""
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
                cpuinfo = f.read(1 << 20)
        except OSError:
            return None
    return {flag for line in cpuinfo.splitlines() if line.startswith("flags")
            for flag in line.partition(":")[2].split()}


def multiplies_s8_exactly(cpuinfo: str | None = None) -> bool:
    """True where the CPU has VNNI or AMX int8 (read from ``/proc/cpuinfo``'s flags, or from
    ``cpuinfo`` given as its text); False on other CPUs and where it cannot be told."""
    if cpuinfo is None and platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    return bool(_EXACT_S8_FLAGS & (cpu_flags(cpuinfo) or set()))


def weights_form(environ: dict[str, str] | None = None, cpuinfo: str | None = None) -> str:
    """``"signed"`` or ``"unsigned"``: the form this process should run the graphs in."""
    value = (os.environ if environ is None else environ).get(WEIGHTS_ENV, "").strip().lower()
    if value in ("signed", "unsigned"):
        return value
    return "signed" if multiplies_s8_exactly(cpuinfo) else "unsigned"


def _varint(buf: bytes | bytearray, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ValueError("truncated varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _fields(buf: bytes | bytearray, start: int, end: int
            ) -> Iterator[tuple[int, int, int, int, int]]:
    """(field number, wire type, value start, value end, varint value) of a message."""
    pos = start
    while pos < end:
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, nxt = _varint(buf, pos)
            yield field, wire, pos, nxt, value
        elif wire == 2:
            size, pos = _varint(buf, pos)
            nxt = pos + size
            if nxt > end:
                raise ValueError("a field runs past its message")
            yield field, wire, pos, nxt, size
        elif wire == 1:
            nxt = pos + 8
            yield field, wire, pos, nxt, 0
        elif wire == 5:
            nxt = pos + 4
            yield field, wire, pos, nxt, 0
        else:
            raise ValueError(f"unsupported wire type {wire}")
        pos = nxt


def signed_weights(model: bytes) -> bytes:
    """The graph ``model`` (serialized ONNX) with every uint8 weight and zero point that a
    ``MatMulInteger`` node reads as its second and fourth inputs turned into int8 (minus
    128). Anything else is left as it is; a graph that holds no such weights, or stores
    them in another layout than ``raw_data``, is returned unchanged, and so is anything
    that does not parse (the caller has verified the file's hash; this is a guard, and the
    stored form computes the same model)."""
    try:
        return _signed_weights(model)
    except ValueError:
        return model


def _signed_weights(model: bytes) -> bytes:
    buf = bytearray(model)
    graphs = [(s, e) for f, w, s, e, _ in _fields(buf, 0, len(buf)) if f == 7 and w == 2]
    if len(graphs) != 1:
        return model
    g0, g1 = graphs[0]
    wanted: set[str] = set()
    tensors: list[tuple[int, int]] = []
    for field, wire, s, e, _ in _fields(buf, g0, g1):
        if wire != 2:
            continue
        if field == 1:  # NodeProto
            inputs, op = [], ""
            for nf, nw, ns, ne, _ in _fields(buf, s, e):
                if nf == 1 and nw == 2:
                    inputs.append(bytes(buf[ns:ne]).decode("utf-8", "replace"))
                elif nf == 4 and nw == 2:
                    op = bytes(buf[ns:ne]).decode("utf-8", "replace")
            if op == "MatMulInteger" and len(inputs) >= 4:
                wanted.update((inputs[1], inputs[3]))
        elif field == 5:  # TensorProto (an initializer)
            tensors.append((s, e))
    flips: list[tuple[int, int, int]] = []  # (data_type byte, raw start, raw end)
    for s, e in tensors:
        name, dtype_at, dtype, raw = None, -1, 0, None
        for tf, tw, ts, te, value in _fields(buf, s, e):
            if tf == 8 and tw == 2:
                name = bytes(buf[ts:te]).decode("utf-8", "replace")
            elif tf == 2 and tw == 0:
                dtype_at, dtype = ts, value
            elif tf == 9 and tw == 2:
                raw = (ts, te)
        if name not in wanted or dtype != _UINT8:
            continue
        if raw is None or _next(buf, dtype_at) != dtype_at + 1:
            return model  # not the layout this edit assumes: keep the form that is exact
        flips.append((dtype_at, *raw))
    if not flips:
        return model
    view = np.frombuffer(buf, dtype=np.uint8)  # shares buf's memory
    for dtype_at, r0, r1 in flips:
        buf[dtype_at] = _INT8
        view[r0:r1] ^= 0x80  # u - 128 as a two's-complement byte
    return bytes(buf)


def _next(buf: bytes | bytearray, pos: int) -> int:
    """The position after the varint at ``pos``."""
    return _varint(buf, pos)[1]
