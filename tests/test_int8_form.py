"""The int8 weight form chosen at load (forewarn.detect.int8_form)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from forewarn.detect.int8_form import (
    WEIGHTS_ENV,
    multiplies_s8_exactly,
    signed_weights,
    weights_form,
)

DATA = Path(__file__).resolve().parent.parent / "src" / "forewarn" / "data"
AVX2 = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma f16c\n"
VNNI = "processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_vnni avx512_bf16\n"
AVX_VNNI = "flags\t\t: fpu avx2 avx_vnni\n"
AMX = "flags\t\t: fpu avx2 amx_tile amx_bf16 amx_int8\n"


def test_only_cpus_that_add_u8_by_s8_products_exactly_get_the_signed_form() -> None:
    assert not multiplies_s8_exactly(AVX2)
    assert multiplies_s8_exactly(VNNI)
    assert multiplies_s8_exactly(AVX_VNNI)
    assert multiplies_s8_exactly(AMX)
    assert not multiplies_s8_exactly("processor\t: 0\nmodel name\t: something\n")
    assert weights_form({}, AVX2) == "unsigned"
    assert weights_form({}, VNNI) == "signed"
    # the environment decides by hand, either way
    assert weights_form({WEIGHTS_ENV: "unsigned"}, VNNI) == "unsigned"
    assert weights_form({WEIGHTS_ENV: " Signed "}, AVX2) == "signed"
    assert weights_form({WEIGHTS_ENV: "auto"}, AVX2) == "unsigned"


def _graph(raw: bool = True) -> bytes:
    """A MatMulInteger with uint8 weights and zero points (as the shipped graphs store
    them), beside a DequantizeLinear whose uint8 constant is no MatMulInteger weight."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(3)
    weights = rng.integers(0, 256, size=(64, 8), dtype=np.uint8)
    zero = rng.integers(100, 156, size=8, dtype=np.uint8)
    other = rng.integers(0, 256, size=(4,), dtype=np.uint8)
    if raw:
        w = numpy_helper.from_array(weights, "w")
        z = numpy_helper.from_array(zero, "w_zero")
    else:  # uint8 values in int32_data: a layout signed_weights does not edit
        w = helper.make_tensor("w", TensorProto.UINT8, weights.shape, weights.ravel().tolist())
        z = helper.make_tensor("w_zero", TensorProto.UINT8, zero.shape, zero.tolist())
    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["a", "w", "a_zero", "w_zero"], ["y"]),
         helper.make_node("DequantizeLinear", ["other", "scale", "other_zero"], ["d"])],
        "g",
        [helper.make_tensor_value_info("a", TensorProto.UINT8, [None, 64])],
        [helper.make_tensor_value_info("y", TensorProto.INT32, [None, 8]),
         helper.make_tensor_value_info("d", TensorProto.FLOAT, [4])],
        [w, numpy_helper.from_array(np.array(0, dtype=np.uint8), "a_zero"), z,
         numpy_helper.from_array(other, "other"),
         numpy_helper.from_array(np.array(0.5, dtype=np.float32), "scale"),
         numpy_helper.from_array(np.array(7, dtype=np.uint8), "other_zero")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return onnx.ModelProto.SerializeToString(model)


def _initializers(model: bytes) -> dict[str, np.ndarray]:
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    return {t.name: numpy_helper.to_array(t)
            for t in onnx.load_from_string(model).graph.initializer}


def test_signed_weights_is_the_same_model_with_int8_weights() -> None:
    ort = pytest.importorskip("onnxruntime")
    stored = _graph()
    signed = signed_weights(stored)
    assert len(signed) == len(stored) and signed != stored
    before, after = _initializers(stored), _initializers(signed)
    for name in ("w", "w_zero"):
        assert after[name].dtype == np.int8
        assert np.array_equal(after[name].astype(int), before[name].astype(int) - 128)
    # (w - z) is unchanged, so is every product
    assert np.array_equal(after["w"].astype(int) - after["w_zero"].astype(int),
                          before["w"].astype(int) - before["w_zero"].astype(int))
    # what no MatMulInteger reads as its weights is left as it was
    for name in ("a_zero", "other", "other_zero", "scale"):
        assert after[name].dtype == before[name].dtype
        assert np.array_equal(after[name], before[name])
    # small activations: exact on every CPU, in either form
    a = np.random.default_rng(4).integers(0, 60, size=(5, 64), dtype=np.uint8)
    exact = a.astype(np.int64) @ (before["w"].astype(np.int64) - before["w_zero"].astype(np.int64))
    for model in (stored, signed):
        session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
        assert np.array_equal(session.run(["y"], {"a": a})[0], exact)


def test_a_layout_it_does_not_know_is_left_unchanged() -> None:
    stored = _graph(raw=False)
    assert signed_weights(stored) == stored
    assert signed_weights(b"") == b""
    # a graph cut short does not parse: left as it is, never half edited
    assert signed_weights(stored[:-3]) == stored[:-3]


@pytest.mark.parametrize("folder", ["classifier", "encoder"])
def test_the_shipped_graphs_convert_weight_for_weight(folder: str) -> None:
    onnx = pytest.importorskip("onnx")
    stored = (DATA / folder / "model.onnx").read_bytes()
    signed = signed_weights(stored)
    before, after = _initializers(stored), _initializers(signed)
    model = onnx.load_from_string(stored)
    weights = {n.input[i] for n in model.graph.node if n.op_type == "MatMulInteger"
               for i in (1, 3)}
    assert len(weights) >= 36  # six layers, six matrices each, and their zero points
    for name, value in before.items():
        if name in weights:
            assert value.dtype == np.uint8 and after[name].dtype == np.int8
            assert np.array_equal(after[name].astype(int), value.astype(int) - 128)
        else:
            assert after[name].dtype == value.dtype and np.array_equal(after[name], value)


def test_the_encoder_runs_the_form_the_environment_asks_for(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from forewarn.detect.encoder import SentenceEncoder

    texts = ["She held the rope until it cut into her hand.",
             "The lamp had to be wound every four hours."]
    vectors = {}
    for form in ("unsigned", "signed"):
        monkeypatch.setenv(WEIGHTS_ENV, form)
        encoder = SentenceEncoder(DATA / "classifier")
        assert encoder.weights_form == form
        vectors[form] = encoder.encode(texts)
    if multiplies_s8_exactly():
        # where u8 x s8 is exact the two forms are the same model, to the last bits
        assert np.allclose(vectors["signed"], vectors["unsigned"], atol=1e-5)
