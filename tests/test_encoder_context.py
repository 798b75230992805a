"""A classifier trained to read its neighbours: the run time lays each passage out exactly as
training did (``[CLS] before [SEP] passage [SEP] after [SEP]``), feeds the graph's pooling
mask, memoises by position, and takes a passage's neighbours from the passages around it.

The graphs here are built in the test (a token table, pooled two ways), so what the encoder
feeds can be checked token by token; the shipped model's own tests cover the real graph."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from forewarn.combine import neighbour_texts  # noqa: E402
from forewarn.detect.artifacts import StaticModelError  # noqa: E402
from forewarn.detect.classifier import DEFAULT_CLASSIFIER_DIR, PassageClassifier  # noqa: E402
from forewarn.detect.encoder import SentenceEncoder, context_input  # noqa: E402

DIM = 3
VOCAB = 30522


def table() -> np.ndarray:
    return np.random.default_rng(7).normal(size=(VOCAB, DIM)).astype(np.float32)


def _pooled(name: str, mask: str, nodes: list) -> None:
    """mean over ``mask`` of the token vectors ``tok`` ([1, T, DIM]) → ``name`` [1, DIM]"""
    nodes += [
        helper.make_node("Cast", [mask], [f"{name}_f"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", [f"{name}_f", "axis2"], [f"{name}_m"]),
        helper.make_node("Mul", ["tok", f"{name}_m"], [f"{name}_x"]),
        helper.make_node("ReduceSum", [f"{name}_x", "axis1"], [f"{name}_s"], keepdims=0),
        helper.make_node("ReduceSum", [f"{name}_f", "axis1"], [f"{name}_n"], keepdims=1),
        helper.make_node("Div", [f"{name}_s", f"{name}_n"], [name]),
    ]


def write_model(folder: Path, *, pool_input: bool, context_tokens: int) -> None:
    """A model folder the encoder loads: a graph whose output is the mean of the token
    vectors over the pooling mask (over the attention mask without one) beside the mean
    over every token read, so a test sees both what was pooled and what was read."""
    folder.mkdir(parents=True, exist_ok=True)
    inputs = ["input_ids", "attention_mask"] + (["pool_mask"] if pool_input else [])
    nodes = [helper.make_node("Gather", ["table", "input_ids"], ["tok"])]
    _pooled("own", "pool_mask" if pool_input else "attention_mask", nodes)
    _pooled("all", "attention_mask", nodes)
    nodes.append(helper.make_node("Concat", ["own", "all"], ["sentence_embedding"], axis=1))
    graph = helper.make_graph(
        nodes, "pooled",
        [helper.make_tensor_value_info(n, TensorProto.INT64, [1, None]) for n in inputs],
        [helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, [1, 2 * DIM])],
        initializer=[numpy_helper.from_array(table(), "table"),
                     numpy_helper.from_array(np.array([2], dtype=np.int64), "axis2"),
                     numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    (folder / "model.onnx").write_bytes(model.SerializeToString())
    shutil.copy(DEFAULT_CLASSIFIER_DIR / "tokenizer.json", folder / "tokenizer.json")
    files = {name: {"sha256": hashlib.sha256((folder / name).read_bytes()).hexdigest()}
             for name in ("model.onnx", "tokenizer.json")}
    (folder / "manifest.json").write_text(json.dumps({
        "dims": 2 * DIM, "max_tokens": 256, "context_tokens": context_tokens,
        "files": files}), encoding="utf-8")


needs_tokenizer = pytest.mark.skipif(not (DEFAULT_CLASSIFIER_DIR / "tokenizer.json").is_file(),
                                     reason="the shipped classifier's tokenizer is not built")

BEFORE = "The lamps were lit along the quay and the tide was turning."
OWN = "She did not come down to supper."
AFTER = "In the morning the house was very quiet."


@needs_tokenizer
def test_a_neighbour_reading_model_reads_the_layout_training_used(tmp_path: Path) -> None:
    write_model(tmp_path, pool_input=True, context_tokens=4)
    enc = SentenceEncoder(tmp_path)
    assert enc.context_tokens == 4
    vec = enc.encode([OWN], [BEFORE], [AFTER])[0]
    seq, start, stop = context_input(enc._tokenizer, OWN, BEFORE, AFTER, 4)
    tokenizer = enc._tokenizer
    own_ids = tokenizer.encode(OWN, add_special_tokens=False).ids
    # four tokens of each neighbour around the passage, the passage's own span pooled
    assert seq[1:5] == tokenizer.encode(BEFORE, add_special_tokens=False).ids[-4:]
    assert seq[start:stop - 1] == own_ids and stop - start == len(own_ids) + 1
    assert len(seq) == len(own_ids) + 8 + 4
    t = table()
    np.testing.assert_allclose(vec[:DIM], t[seq[start:stop]].mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(vec[DIM:], t[seq].mean(0), rtol=1e-5, atol=1e-6)
    # the neighbours are read: another neighbour changes what the graph saw, not the span
    other = enc.encode([OWN], ["Nothing at all happened."], [AFTER])[0]
    np.testing.assert_allclose(other[:DIM], vec[:DIM], rtol=1e-5, atol=1e-6)
    assert not np.allclose(other[DIM:], vec[DIM:])
    # no neighbours: the bare layout [CLS] [SEP] passage [SEP] [SEP], as seeds were trained
    bare = enc.encode([OWN])[0]
    ids = [tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]"), *own_ids,
           tokenizer.token_to_id("[SEP]"), tokenizer.token_to_id("[SEP]")]
    np.testing.assert_allclose(bare[DIM:], t[ids].mean(0), rtol=1e-5, atol=1e-6)


@needs_tokenizer
def test_the_memo_is_keyed_by_position_for_a_neighbour_reading_model(tmp_path: Path) -> None:
    write_model(tmp_path, pool_input=True, context_tokens=4)
    enc = SentenceEncoder(tmp_path)
    enc.memo = {}
    first = enc.encode([OWN, OWN], [BEFORE, ""], [AFTER, ""])
    assert len(enc.memo) == 2  # the same text in two places is two readings
    assert not np.allclose(first[0, DIM:], first[1, DIM:])
    again = enc.encode([OWN, OWN], [BEFORE, ""], [AFTER, ""])
    np.testing.assert_array_equal(first, again)
    with pytest.raises(ValueError, match="one neighbour text per text"):
        enc.encode([OWN, OWN], [BEFORE], [AFTER])


@needs_tokenizer
def test_a_model_reading_passages_alone_ignores_neighbours(tmp_path: Path) -> None:
    write_model(tmp_path, pool_input=False, context_tokens=0)
    enc = SentenceEncoder(tmp_path)
    alone = enc.encode([OWN])[0]
    np.testing.assert_array_equal(alone, enc.encode([OWN], [BEFORE], [AFTER])[0])
    ids = enc._tokenizer.encode(OWN).ids  # [CLS] passage [SEP]
    np.testing.assert_allclose(alone[:DIM], table()[ids].mean(0), rtol=1e-5, atol=1e-6)


@needs_tokenizer
@pytest.mark.parametrize(("pool_input", "context_tokens"), [(True, 0), (False, 24)])
def test_a_manifest_that_disagrees_with_its_graph_is_refused(
        tmp_path: Path, pool_input: bool, context_tokens: int) -> None:
    write_model(tmp_path, pool_input=pool_input, context_tokens=context_tokens)
    with pytest.raises(StaticModelError, match="context_tokens"):
        SentenceEncoder(tmp_path)


def test_neighbour_texts_follow_the_passage_keys() -> None:
    texts = ["a", "b", "c", "d"]
    before, after = neighbour_texts(texts, [4, 5, 9, 10])
    assert before == ["", "a", "", "c"]  # 9 has no passage 8 among the rows
    assert after == ["b", "", "d", ""]
    # keys out of order are matched by value, not by row
    before, after = neighbour_texts(texts, [10, 4, 9, 5])
    assert before == ["c", "", "", "b"] and after == ["", "d", "a", ""]
    assert neighbour_texts(texts, None) == ([""] * 4, [""] * 4)


class _Recording:
    """Stands in for a neighbour-reading encoder and records what it was asked to read."""

    context_tokens = 24
    dim = 384

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], list[str] | None, list[str] | None]] = []

    def encode(self, texts, before=None, after=None) -> np.ndarray:
        self.calls.append((list(texts), before and list(before), after and list(after)))
        return np.ones((len(texts), self.dim), dtype=np.float32) / np.sqrt(self.dim)


@pytest.mark.skipif(not (DEFAULT_CLASSIFIER_DIR / "manifest.json").is_file(),
                    reason="the shipped classifier is not built")
def test_the_classifier_gives_a_neighbour_reading_model_the_passages_around_each() -> None:
    clf = PassageClassifier()
    clf.encoder = _Recording()  # type: ignore[assignment]
    texts = ["one", "two", "three"]
    clf.scores(texts, indices=[3, 4, 8])
    assert clf.encoder.calls[-1] == (texts, ["", "one", ""], ["two", "", ""])
    clf.scores(texts)  # unrelated texts: each read alone
    assert clf.encoder.calls[-1] == (texts, ["", "", ""], ["", "", ""])
    clf.scores(texts, neighbours=(["x", "y", "z"], ["p", "q", "r"]))  # the caller's
    assert clf.encoder.calls[-1] == (texts, ["x", "y", "z"], ["p", "q", "r"])


@pytest.mark.skipif(not (DEFAULT_CLASSIFIER_DIR / "manifest.json").is_file(),
                    reason="the shipped classifier is not built")
def test_spreading_the_texts_over_threads_gives_the_same_vectors() -> None:
    """Each text is one call on one thread whatever the number of workers, so the vectors
    do not depend on it (nor on which texts were encoded together)."""
    texts = [OWN, BEFORE, AFTER, "The boat came in at dusk.", "", "He drank, and then he slept."]
    before = ["", OWN, BEFORE, AFTER, "", "The boat came in at dusk."]
    after = [BEFORE, AFTER, "", "", "", ""]
    one = SentenceEncoder(DEFAULT_CLASSIFIER_DIR, threads=1)
    two = SentenceEncoder(DEFAULT_CLASSIFIER_DIR, threads=2)
    assert (one.workers, two.workers) == (1, 2)
    first = one.encode(texts, before, after)
    np.testing.assert_array_equal(first, two.encode(texts, before, after))
    np.testing.assert_array_equal(first[3:4], two.encode(texts[3:4], before[3:4], after[3:4]))
    assert not first[4].any() and np.all(np.abs(np.linalg.norm(first[[0, 1, 2, 3, 5]], axis=1) - 1) < 1e-4)
