"""training/finetune_encoder.py: the parts that run without torch or a GPU.

The fine-tuning itself needs a GPU and torch (``training/``); what is tested here is what
decides which rows it trains and scores on, and the arithmetic of its figures, on a small
passage file written here and the project's real seed passages.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="the training scripts need scikit-learn (eval extra)")

ROOT = Path(__file__).resolve().parents[1]
WARNINGS_IN_DATA = ("violence", "death", "racism", "ableism")


def _load(name: str):
    sys.path.insert(0, str(ROOT / "training"))
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "training" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def fe():
    return _load("finetune_encoder")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """48 passages per warning in two sets and 24 works; votes vary from 0 to 3 yes."""
    root = tmp_path_factory.mktemp("data")
    (root / "passage-warnings").mkdir()
    rng = np.random.default_rng(0)
    lines = []
    n = 0
    for w in WARNINGS_IN_DATA:
        for i in range(48):
            votes = [int(v) for v in rng.integers(0, 2, size=3)]
            lines.append(json.dumps({
                "warning": w, "labels": votes, "text": f"passage {n} about {w} number {i}",
                "work_id": str(n % 24), "example_id": n, "set_id": i % 2}))
            n += 1
    (root / "passage-warnings" / "passages.jsonl").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="module")
def texts(fe, data_dir: Path):
    return fe.load_texts(data_dir)


def _set0(texts) -> np.ndarray:
    return np.array([i for i, p in enumerate(texts.passages) if p["set_id"] == 0])


def test_label_matrix_is_train_heads_rows(fe, texts) -> None:
    """Column w of the label matrix holds exactly build_rows(w)'s rows and labels."""
    th = _load("train_heads")
    idx = np.arange(len(texts.text), dtype=np.float64)[:, None]
    n_pos, n_seeds = len(texts.seed_pos), texts.n_seeds
    corpus = th.Corpus(passages=texts.passages, x_passages=idx[n_seeds:],
                       seed_pos=texts.seed_pos, x_seed_pos=idx[:n_pos],
                       seed_neg=texts.seed_neg, x_seed_neg=idx[n_pos:n_seeds])
    y = fe.label_matrix(texts, _set0(texts))
    for k, w in enumerate(th.WARNINGS):
        rows = th.build_rows(corpus, w)
        expected = dict(zip(rows.x[:, 0].astype(int).tolist(), rows.y.tolist(), strict=True))
        mine = np.flatnonzero(~np.isnan(y[:, k]))
        assert dict(zip(mine.tolist(), y[mine, k].astype(int).tolist(), strict=True)) == expected, w
    # set 1 is never a training row
    set1 = n_seeds + np.array([i for i, p in enumerate(texts.passages) if p["set_id"] == 1])
    assert np.isnan(y[set1]).all()


def test_protocol_draws_match_the_harness_and_leave_training(fe, texts) -> None:
    from forewarn.eval.passages import draw_test

    maj = np.array([sum(p["labels"]) >= 2 for p in texts.passages])
    warning = np.array([p["warning"] for p in texts.passages])
    test = fe.protocol_tests(texts, 43)
    for w in WARNINGS_IN_DATA:
        mine = np.flatnonzero(warning == w)
        expected = draw_test(43, mine[maj[mine]], mine[~maj[mine]], fe.N_TEST_PER_CLASS)
        assert set(test[np.isin(test, mine)].tolist()) == set(expected.tolist())
    assert not np.array_equal(test, fe.protocol_tests(texts, 44))
    pool = np.setdiff1d(np.arange(len(texts.passages)), test)
    y = fe.label_matrix(texts, pool)
    assert np.isnan(y[texts.n_seeds + test]).all()
    assert (~np.isnan(y[texts.n_seeds + pool])).any(axis=1).all()


def test_folds_keep_works_together(fe, texts) -> None:
    y = fe.label_matrix(texts, _set0(texts))
    rows = np.flatnonzero(~np.isnan(y).all(axis=1))
    held = fe.folds(texts, rows)
    assert len(held) == fe.N_FOLDS
    flat = np.concatenate(held)
    assert sorted(flat.tolist()) == rows.tolist()  # every row held out exactly once
    fold_of = {int(i): f for f, part in enumerate(held) for i in part}
    by_group: dict[str, set[int]] = {}
    for i in rows:
        by_group.setdefault(str(texts.group[i]), set()).add(fold_of[int(i)])
    assert all(len(f) == 1 for f in by_group.values())


def _results(fe, texts, sign: float, oof_sign: float = 1.0):
    """Logits that say +5 for every true label (sign 1) or the opposite (sign -1); the
    out-of-fold logits (which Platt scaling and thresholds are fitted on) by oof_sign."""
    from train_heads import PASSAGE_WARNINGS, WARNINGS

    n, k = len(texts.text), len(WARNINGS)
    y = fe.label_matrix(texts, _set0(texts))
    rows = np.flatnonzero(~np.isnan(y).all(axis=1))
    truth = np.nan_to_num(y, nan=0.0)
    for i, p in enumerate(texts.passages):  # every passage's own label, set 1 included
        truth[texts.n_seeds + i] = 0
        truth[texts.n_seeds + i, WARNINGS.index(PASSAGE_WARNINGS[p["warning"]])] = (
            sum(p["labels"]) >= 2)
    logits = (sign * (10 * truth - 5)).astype(np.float32)
    oof = (oof_sign * (10 * truth - 5)).astype(np.float32)
    results = {"train_rows": rows, "oof": oof, "oof_c0": oof,
               "ship_logits": logits, "warning_ids": np.asarray(WARNINGS)}
    assert logits.shape == (n, k)
    for seed in (43, 44):
        test = fe.protocol_tests(texts, seed)
        results[f"id_{seed}_passages"] = test
        results[f"id_{seed}_logits"] = logits[texts.n_seeds + test]
    return results


def test_figures_perfect_and_inverted_scores(fe, texts) -> None:
    good = fe.figures(_results(fe, texts, 1.0), texts)
    assert good["protocol"]["fine-tuned"]["in-distribution"]["mean F1"] == 1.0
    assert good["protocol"]["fine-tuned"]["in-distribution"]["violence"][2] == 2  # seeds run
    assert good["protocol"]["fine-tuned"]["out-of-distribution"]["mean F1"] == 1.0
    assert good["natural"]["majority"]["macro-F1 set 1"] == 1.0
    assert good["natural"]["majority"]["macro-F1 all"] == 1.0
    assert good["ordinary_set1_any_head"] == 0.0
    # held-out scores that disagree with the out-of-fold ones the thresholds came from
    bad = fe.figures(_results(fe, texts, -1.0, oof_sign=1.0), texts)
    assert bad["protocol"]["fine-tuned"]["in-distribution"]["mean F1"] == 0.0
    assert bad["natural"]["majority"]["macro-F1 set 1"] == 0.0
    assert 0.0 < bad["natural"]["majority"]["macro-F1 all"] < 1.0  # set 0 is out-of-fold
    assert bad["ordinary_set1_any_head"] > 0.0
    # "OR lexicon": a lexicon that finds every passage makes every prediction positive
    every = np.ones(len(texts.passages), dtype=bool)
    either = fe.figures(_results(fe, texts, -1.0), texts, lexicon_hit=every)
    per = either["protocol"]["fine-tuned OR lexicon"]["in-distribution"]
    assert 0.6 < per["mean F1"] < 0.7  # always yes on balanced draws: F1 2/3


def test_results_are_scored_against_the_seeds_they_were_made_with(
        fe, texts, data_dir) -> None:
    """The seed files only grow: a results file keeps its own seed prefix, and refuses to
    be scored once a seed it used has been edited."""
    n_pos, n_neg = len(texts.seed_pos) - 5, len(texts.seed_neg) - 3
    fewer = fe.load_texts(data_dir, (n_pos, n_neg))
    assert (len(fewer.seed_pos), len(fewer.seed_neg)) == (n_pos, n_neg)
    assert fewer.text[:n_pos] == texts.text[:n_pos]
    results = {"seed_counts": np.array([n_pos, n_neg]),
               "seeds_sha256": np.asarray(fe.seeds_digest(fewer))}
    assert len(fe.texts_for(results, data_dir).text) == len(fewer.text)
    results["seeds_sha256"] = np.asarray(fe.seeds_digest(texts))  # a different seed set
    with pytest.raises(SystemExit, match="changed"):
        fe.texts_for(results, data_dir)
    with pytest.raises(SystemExit, match="does not say"):
        fe.texts_for({}, data_dir)
