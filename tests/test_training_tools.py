"""Small pieces of the training scripts that decide what a model learns or how it is chosen:
soft labels from several readings, the weight soup, and the grouped cross-validation that
compares classifiers through the combiner."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "training"))

import cv_combiner  # noqa: E402
from train_classifier import (  # noqa: E402
    average_states,
    cpu_has_bf16,
    drawn_rows,
    epoch_rows,
    length_batches,
    pad_pooled,
    quiet_rows,
    soft_presence,
    wave_rows,
    with_context,
    writing_batch_rows,
)


def test_bf16_is_allowed_only_where_the_cpu_multiplies_it_in_hardware() -> None:
    avx2 = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma f16c\n"
    amx = "processor\t: 0\nflags\t\t: fpu avx2 avx512f amx_tile amx_bf16 amx_int8\n"
    avx512bf16 = "flags\t\t: avx2 avx512f avx512_bf16\n"
    assert not cpu_has_bf16(avx2)
    assert cpu_has_bf16(amx)
    assert cpu_has_bf16(avx512bf16)
    assert not cpu_has_bf16("model name\t: amx_bf16 in a name is not a flag\n")


def test_soft_presence_is_the_share_of_readings_that_saw_a_warning() -> None:
    assert soft_presence([{"death"}]) == {}  # read once: the final label stands
    assert soft_presence([{"death", "violence"}, {"death"}]) == {"death": 1.0, "violence": 0.5}
    three = soft_presence([{"suicide"}, set(), {"suicide", "death"}])
    assert three == pytest.approx({"suicide": 2 / 3, "death": 1 / 3})


def test_a_soup_is_the_mean_of_its_ingredients() -> None:
    a = {"w": np.array([1.0, 3.0]), "b": np.array([0.0])}
    b = {"w": np.array([3.0, 5.0]), "b": np.array([2.0])}
    soup = average_states([a, b])
    assert np.allclose(soup["w"], [2.0, 4.0]) and np.allclose(soup["b"], [1.0])
    assert np.allclose(average_states([a])["w"], a["w"])
    with pytest.raises(SystemExit, match="same parameters"):
        average_states([a, {"w": a["w"]}])


def test_folds_never_split_a_book_or_a_writing_batch() -> None:
    ids = [f"book{b}:{k * 10}-{k * 10 + 9}" for b in range(7) for k in range(4)]
    ids += [f"modern:w{w:02d}-s{s:02d}:0-9" for w in range(3) for s in range(3)]
    fold = cv_combiner.folds(ids)
    groups: dict[str, set[int]] = {}
    for pid, f in zip(ids, fold, strict=True):
        groups.setdefault(cv_combiner.group_of(pid), set()).add(int(f))
    assert len(groups) == 10 and all(len(f) == 1 for f in groups.values())
    assert set(fold) == set(range(cv_combiner.FOLDS))


WIDS = ["death", "war"]


def synthetic_dev(seed: int, n: int = 600) -> tuple[list[str], np.ndarray, np.ndarray,
                                                     np.ndarray, np.random.Generator]:
    """Dev passages of ten books, two warnings at 10%: (ids, labels, an informative
    classifier's logits, noise, the generator for more)."""
    rng = np.random.default_rng(seed)
    ids = [f"book{k % 10}:{k}-{k + 1}" for k in range(n)]
    y = (rng.random((n, 2)) < 0.1).astype(float)
    informative = np.where(y > 0, 2.0, -2.0) + rng.normal(0, 1.0, (n, 2))
    noise = rng.normal(0, 1.0, (n, 2))
    return ids, y, informative, noise, rng


def test_cross_validation_rewards_an_informative_classifier_only() -> None:
    ids, y, informative, noise, _ = synthetic_dev(0)
    n, wids = len(ids), WIDS
    weight = np.ones(n)
    fold = cv_combiner.folds(ids)
    good = cv_combiner.cross_validate({"classifier": informative}, y, weight, fold, wids)
    bad = cv_combiner.cross_validate({"classifier": noise}, y, weight, fold, wids)
    assert good["mean_ap"] > 0.8 > 0.3 > bad["mean_ap"]
    assert good["log_loss"] < bad["log_loss"]
    assert good["micro_recall"] > 0.5 and good["warnings"] == 2


def test_compare_sets_two_models_side_by_side_on_the_passages_both_hold(tmp_path: Path) -> None:
    ids, y, informative, noise, rng = synthetic_dev(1)
    n, wids = len(ids), WIDS
    stratum = {pid: "random" for pid in ids}
    # the newer cache holds 50 passages the older one lacks, in another order
    extra = [f"book{k % 10}:{k}-{k + 1}" for k in range(n, n + 50)]
    order = rng.permutation(n)
    old = (ids, y, {"classifier": noise})
    new = ([ids[k] for k in order] + extra,
           np.concatenate([y[order], np.zeros((50, 2))]),
           {"classifier": np.concatenate([informative[order], np.zeros((50, 2))])})
    cv_combiner.save_cache(tmp_path / "new.npz", new)  # as --cache keeps it, read back
    new = cv_combiner.load_cache(tmp_path / "new.npz")
    both = cv_combiner.compare(old, new, wids, stratum)
    assert both["passages"] == n
    assert both["b"]["mean_ap"] > 0.8 > 0.3 > both["a"]["mean_ap"]
    assert set(both["ap_difference"]) == set(wids)
    assert all(d > 0.4 for d in both["ap_difference"].values())
    # the same model against itself: no difference, whatever the order of its rows
    same = cv_combiner.compare(new, (ids, y, {"classifier": informative}), wids, stratum)
    assert all(d == 0 for d in same["ap_difference"].values())
    with pytest.raises(SystemExit, match="share no dev passage"):
        cv_combiner.compare(old, (extra, np.zeros((50, 2)), {"classifier": np.zeros((50, 2))}),
                            wids, stratum)


def test_wave_rows_names_whole_targeted_waves_only() -> None:
    sample = [
        {"id": "a", "stratum": "targeted", "drawn": "wave3:lexicon:death"},
        {"id": "b", "stratum": "targeted", "drawn": "wave30:lexicon:death"},
        {"id": "c", "stratum": "random", "drawn": "wave3:uniform-train"},
        {"id": "d", "stratum": "targeted", "drawn": "wave5:classifier:suicide:top"},
        {"id": "e", "stratum": "random", "drawn": "trainrandom1:uniform-train"},
    ]
    assert wave_rows(sample, "wave3") == {"a"}
    assert wave_rows(sample, "wave3,wave5") == {"a", "d"}
    assert wave_rows(sample, "trainrandom1") == set()


def test_drawn_rows_adds_later_uniform_draws_for_a_rebuild() -> None:
    sample = [
        {"id": "a", "stratum": "targeted", "drawn": "wave3:lexicon:death"},
        {"id": "c", "stratum": "random", "drawn": "wave3:uniform-train"},
        {"id": "e", "stratum": "random", "drawn": "trainrandom8:uniform-train"},
        {"id": "f", "stratum": "random", "drawn": "trainrandom80:uniform-train"},
        {"id": "g", "stratum": "random", "drawn": "uniform:the first sample"},
        {"id": "h", "stratum": "scene", "drawn": "trainrandom8:odd"},
    ]
    assert drawn_rows(sample, "wave3") == {"a"}
    assert drawn_rows(sample, "wave3,trainrandom8") == {"a", "e"}
    # the first sample's strategies and writing batches are not draws to leave out
    assert drawn_rows(sample, "uniform,w76") == set()


def test_writing_batch_rows_names_whole_batches_only() -> None:
    ids = ["modern:w76-s01:0-412", "modern:w7-s02:10-90", "modern:w760-s01:0-5",
           "austen-persuasion:100-500", "modern:w77-s12:3-9"]
    assert writing_batch_rows(ids, "w76") == {"modern:w76-s01:0-412"}
    assert writing_batch_rows(ids, "wave3,w76,w77") == {"modern:w76-s01:0-412",
                                                        "modern:w77-s12:3-9"}
    assert writing_batch_rows(ids, "wave3") == set()


def test_length_batches_use_every_whole_batch_row_once_and_pad_less() -> None:
    rng = np.random.default_rng(0)
    lengths = rng.integers(10, 250, 1000)
    order = rng.permutation(1000)
    picks = length_batches(order, lengths, 16, np.random.default_rng(1), window=10)
    used = np.concatenate(picks)
    assert all(len(p) == 16 for p in picks) and len(picks) == 1000 // 16
    assert len(set(used.tolist())) == len(used) == (1000 // 16) * 16
    assert set(used.tolist()) == set(order[: len(used)].tolist())

    def padded(batches: list[np.ndarray]) -> int:
        return sum(int(lengths[p].max()) * len(p) for p in batches)

    plain = [order[k: k + 16] for k in range(0, len(used), 16)]
    assert padded(picks) < 0.8 * padded(plain)
    # the same seed gives the same epoch; batches are not in length order
    again = length_batches(order, lengths, 16, np.random.default_rng(1), window=10)
    assert all(np.array_equal(a, b) for a, b in zip(picks, again, strict=True))
    firsts = [int(lengths[p].max()) for p in picks]
    assert firsts != sorted(firsts)


class _WordTokenizer:
    """A stand-in for the WordPiece tokenizer: one id per word, [CLS]=1, [SEP]=2."""

    class _Enc:
        def __init__(self, ids: list[int]) -> None:
            self.ids = ids

    def token_to_id(self, token: str) -> int:
        return {"[CLS]": 1, "[SEP]": 2}[token]

    def encode(self, text: str, add_special_tokens: bool = True) -> _Enc:
        ids = [100 + len(w) for w in text.split()]
        return self._Enc([1, *ids, 2] if add_special_tokens else ids)


def test_context_input_pools_over_the_passage_only() -> None:
    tok = _WordTokenizer()
    seq, a, b = with_context(tok, "x yy zzz", "a bb ccc dddd", "e ff", 2)
    # the last 2 tokens before, the passage, the first 2 after
    assert seq == [1, 103, 104, 2, 101, 102, 103, 2, 101, 102, 2]
    assert seq[a:b] == [101, 102, 103, 2]
    bare, a0, b0 = with_context(tok, "x yy", "", "", 8)
    assert bare == [1, 2, 101, 102, 2, 2] and bare[a0:b0] == [101, 102, 2]
    long_seq, a1, b1 = with_context(tok, " ".join(["w"] * 400), "p " * 50, "q " * 50, 16)
    assert len(long_seq) == 256 and b1 - a1 == 256 - 32 - 4 + 1

    ids, mask, pool = pad_pooled([seq, bare], [(a, b), (a0, b0)])
    assert ids.shape == mask.shape == pool.shape == (2, len(seq))
    assert pool[0].tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0]
    assert pool[1].tolist()[:6] == [0, 0, 1, 1, 1, 0] and int(mask[1].sum()) == len(bare)


def test_the_dev_scores_cache_is_reused_only_for_the_same_model_and_passages(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    import fit_combiner
    import train_classifier

    rows = {"id": ["b:0-5", "b:6-9"], "y": np.zeros((2, 3))}
    monkeypatch.setattr(train_classifier, "load_rows", lambda data, splits: rows)
    monkeypatch.setattr("forewarn.detect.classifier.PassageClassifier", lambda model: model)
    calls: list[list[str]] = []

    def scored(ids, clf, rings, data):
        calls.append(list(ids))
        return np.full((len(ids), 3), float(len(calls))), {"context": np.ones((len(ids), 1))}

    monkeypatch.setattr(fit_combiner, "context_features", scored)
    model = tmp_path / "model"
    model.mkdir()

    def write_manifest(sha: str) -> None:
        (model / "manifest.json").write_text(json.dumps({"files": {
            "model.onnx": {"sha256": sha}, "heads.npz": {"sha256": "h"}}}))

    write_manifest("a")
    cache = tmp_path / "scores.npz"
    first = fit_combiner.scored_dev_rows(model, 5, tmp_path, cache)
    again = fit_combiner.scored_dev_rows(model, 5, tmp_path, cache)
    assert len(calls) == 1 and np.array_equal(first[2], again[2])
    assert np.array_equal(again[3]["context"], np.ones((2, 1)))
    fit_combiner.scored_dev_rows(model, 4, tmp_path, cache)  # other rings: scored again
    write_manifest("b")  # another graph: scored again
    fit_combiner.scored_dev_rows(model, 4, tmp_path, cache)
    rows["id"] = ["b:0-5"]  # other passages: scored again
    rows["y"] = np.zeros((1, 3))
    fit_combiner.scored_dev_rows(model, 4, tmp_path, cache)
    assert len(calls) == 4


def test_refit_heads_loss_gradient_matches_finite_differences() -> None:
    from refit_heads import head_loss

    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 5))
    y = (rng.random((40, 6)) < 0.3).astype(float)
    y[:, 2:] = np.where(y[:, :2].repeat(2, axis=1) > 0, y[:, 2:], np.nan)  # severity unknown
    y[5, 0] = 0.5  # a soft label
    init = rng.normal(size=(6, 6))
    params = init.ravel() + rng.normal(scale=0.3, size=init.size)
    w_pos = np.array([3.0, 2.0, 1.0, 1.0, 1.0, 1.0])
    loss, grad = head_loss(params, x, y, w_pos, init, l2=0.7)
    eps = 1e-6
    for k in rng.choice(params.size, size=12, replace=False):
        step = np.zeros_like(params)
        step[k] = eps
        numeric = (head_loss(params + step, x, y, w_pos, init, 0.7)[0]
                   - head_loss(params - step, x, y, w_pos, init, 0.7)[0]) / (2 * eps)
        assert numeric == pytest.approx(grad[k], rel=1e-4, abs=1e-8)
    assert np.isfinite(loss)


def test_refit_heads_learns_new_labels_and_the_pull_holds_it_near_the_start() -> None:
    from refit_heads import fit_heads, head_loss
    from train_classifier import pos_weights

    rng = np.random.default_rng(4)
    x = rng.normal(size=(400, 8))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    truth = rng.normal(scale=8.0, size=(2, 8))
    y = np.full((400, 6), np.nan)
    y[:, :2] = (x @ truth.T > 0).astype(float)
    init = np.zeros((6, 9))  # heads that know nothing yet
    loose = fit_heads(x, y, 2, init, l2=1e-6)
    tight = fit_heads(x, y, 2, init, l2=10.0)
    w_pos = pos_weights(y, 2)
    start = head_loss(init.ravel(), x, y, w_pos, init, 0.0)[0]
    assert head_loss(loose.ravel(), x, y, w_pos, init, 0.0)[0] < 0.5 * start
    accuracy = ((x @ loose[:2, :-1].T + loose[:2, -1] > 0) == (y[:, :2] > 0.5)).mean()
    assert accuracy > 0.9
    assert np.linalg.norm(tight) < np.linalg.norm(loose)
    assert np.allclose(loose[2:], 0.0)  # outputs with no known label stay where they began


def test_refit_heads_export_is_a_classifier_forewarn_loads(tmp_path: Path) -> None:
    from refit_heads import write_export

    from forewarn.detect.classifier import DEFAULT_CLASSIFIER_DIR, PassageClassifier

    shipped = PassageClassifier(DEFAULT_CLASSIFIER_DIR)
    heads = np.concatenate([shipped.weight, shipped.bias[:, None]], axis=1).astype(np.float64)
    heads[:, -1] += 1.0
    write_export(DEFAULT_CLASSIFIER_DIR, tmp_path / "refit", heads)
    refit = PassageClassifier(tmp_path / "refit")  # the manifest's hashes are checked here
    assert np.allclose(refit.bias, shipped.bias + 1.0)
    assert np.allclose(refit.weight, shipped.weight)


def test_an_epoch_reads_every_warning_row_and_a_fresh_share_of_the_quiet_ones() -> None:
    # two warnings, then their severity outputs (unknown where the warning is absent)
    y = np.zeros((10, 4))
    y[:, 2:] = np.nan
    y[0] = [1.0, 0.0, 1.0, np.nan]  # a warning
    y[1, 1] = 0.5  # a soft label
    y[2, :2] = [1.0, np.nan]  # a seed positive: the other warning unknown
    y[3, 0] = np.nan  # unknown for one warning: not known to be quiet
    quiet = quiet_rows(y, 2)
    assert quiet.tolist() == [False] * 4 + [True] * 6
    train = np.arange(100, 110)
    rng = np.random.default_rng(0)
    first = epoch_rows(train, quiet, 0.5, rng)
    second = epoch_rows(train, quiet, 0.5, rng)
    for rows in (first, second):
        assert set(train[:4]) <= set(rows)
        assert len(rows) == 4 + 3
    assert set(first) != set(second)  # another draw of the quiet rows
    assert np.array_equal(epoch_rows(train, quiet, 1.0, rng), train)


def test_refit_heads_reads_the_shipped_heads_exactly_as_a_scan_does(tmp_path: Path) -> None:
    from refit_heads import HeadsOnVectors, VectorCache

    from forewarn.detect.classifier import DEFAULT_CLASSIFIER_DIR

    texts = ["She buried her brother on a grey morning.", "The kettle boiled; they had tea."]
    cache = VectorCache(DEFAULT_CLASSIFIER_DIR, tmp_path / "vectors.npz")
    heads = HeadsOnVectors(cache, cache.clf.weight, cache.clf.bias)
    vectors, logits = heads.logits(texts)
    _, scan_logits = cache.clf.logits(texts)
    assert np.allclose(logits, scan_logits, atol=1e-4)
    cache.save()
    again = VectorCache(DEFAULT_CLASSIFIER_DIR, tmp_path / "vectors.npz")
    assert np.array_equal(again.get(texts), vectors)
    assert again.added == 0  # read back, not encoded again


def test_unsigned_weights_compute_the_exact_integer_product_on_every_cpu(tmp_path: Path) -> None:
    """int8 weights stored as uint8 (+128, zero points alike) mean the same model, and
    onnxruntime multiplies them exactly even where its u8 x s8 kernel saturates (AVX2)."""
    onnx = pytest.importorskip("onnx")
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
    from unsigned_weights import unsign, unsign_file

    rng = np.random.default_rng(5)
    weights = rng.integers(-127, 128, size=(64, 8)).astype(np.int8)
    weights[:, 0] = 127  # the worst case for a saturating int16 pair sum
    w_zero = np.zeros(8, dtype=np.int8)
    w_zero[3] = -5
    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["a", "w", "a_zero", "w_zero"], ["y"])], "g",
        [helper.make_tensor_value_info("a", TensorProto.UINT8, [None, 64])],
        [helper.make_tensor_value_info("y", TensorProto.INT32, [None, 8])],
        [numpy_helper.from_array(weights, "w"),
         numpy_helper.from_array(np.array(0, dtype=np.uint8), "a_zero"),
         numpy_helper.from_array(w_zero, "w_zero")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    assert unsign_file(path) == 1
    stored = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(path)).graph.initializer}
    assert stored["w"].dtype == np.uint8 and stored["w_zero"].dtype == np.uint8
    # the dequantised weights are unchanged
    assert np.array_equal(stored["w"].astype(int) - stored["w_zero"].astype(int),
                          weights.astype(int) - w_zero.astype(int))
    a = np.full((4, 64), 255, dtype=np.uint8)
    a[1:] = rng.integers(0, 256, size=(3, 64))
    exact = a.astype(np.int64) @ (weights.astype(np.int64) - w_zero.astype(np.int64))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert np.array_equal(session.run(None, {"a": a})[0], exact)
    again = onnx.load(str(path))
    assert unsign(again) == 1  # already unsigned: left as it is
    assert np.array_equal(numpy_helper.to_array(again.graph.initializer[0]), stored["w"])
