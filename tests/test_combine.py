"""The combiner and the work aggregator (forewarn.combine): fitted by the training scripts
with these functions and read back unchanged at run time."""

from __future__ import annotations

import json

import numpy as np
import pytest

from forewarn.combine import (
    CONTEXT_PAD,
    Combiner,
    WorkAggregator,
    context_ring,
    fit_logistic,
    has_neighbour,
    logit,
    neighbour_context,
    sigmoid,
)


def test_fit_logistic_recovers_known_coefficients() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20000, 2))
    design = np.concatenate([x, np.ones((len(x), 1))], axis=1)
    truth = np.array([1.5, -0.7, 0.3])
    y = (rng.random(len(x)) < sigmoid(design @ truth)).astype(float)
    beta = fit_logistic(design, y, prior=1e-6)
    assert beta == pytest.approx(truth, abs=0.08)



def test_fit_logistic_converges_where_full_newton_steps_overshoot() -> None:
    # A rare warning whose classifier logits reach the ±15 a fine-tuned model gives: a tenth
    # of the negatives rated high, the few positives in between. Full Newton steps from the
    # prior's mean oscillated here and stopped with coefficients near 200 (found in the
    # combiner's cross-validation, where one fold's abortion fit came out inverted).
    rng = np.random.default_rng(0)
    n = 3000
    y = (rng.random(n) < 0.01).astype(float)
    z = np.where(rng.random(n) < 0.1, rng.normal(8, 3, n), rng.normal(-6, 3, n))
    z = np.where(y > 0, rng.normal(-2, 4, n), z)
    x = np.stack([z, z + rng.normal(0, 2, n), np.ones(n)], axis=1)
    mean, prior = np.array([0.5, 0.1, -1.3]), 80.0
    beta = fit_logistic(x, y, prior_mean=mean, prior=prior)
    # the penalised loss's gradient vanishes at the answer, and the answer stays near the
    # prior: the data give no reason for a large coefficient
    grad = x.T @ (sigmoid(x @ beta) - y) + prior * (beta - mean)
    assert np.abs(grad).max() < 1e-4
    assert np.abs(beta).max() < 5

def test_the_combiner_calibrates_each_warning_and_survives_json() -> None:
    rng = np.random.default_rng(1)
    n = 6000
    scores = rng.normal(size=(n, 3)) * 2
    # warning a: over-confident scores (true slope 0.5); b: shifted; c: never positive
    y = np.stack([rng.random(n) < sigmoid(0.5 * scores[:, 0]),
                  rng.random(n) < sigmoid(scores[:, 1] - 2.0),
                  np.zeros(n, dtype=bool)], axis=1).astype(float)
    y[:100, 1] = np.nan  # unknown labels are skipped
    comb = Combiner.fit(("a", "b", "c"), {"classifier": scores}, y)
    assert comb.coef[0, 0] == pytest.approx(0.5, abs=0.1)
    assert comb.bias[1] == pytest.approx(-2.0, abs=0.25)
    probs = comb({"classifier": scores})
    assert probs.shape == (n, 3) and ((probs >= 0) & (probs <= 1)).all()
    # calibrated: in the band 0.3-0.5 of warning a, about that share is positive
    band = (probs[:, 0] >= 0.3) & (probs[:, 0] < 0.5)
    assert 0.3 < y[band, 0].mean() < 0.5
    assert probs[:, 2].max() < 0.05  # no positive on dev: the intercept falls
    again = Combiner.from_json(json.loads(json.dumps(comb.to_json())))
    assert np.allclose(again({"classifier": scores}), probs, atol=1e-5)


def test_a_context_floor_reads_quiet_rings_alike_in_the_fit_at_run_time_and_in_json() -> None:
    # raw, five very quiet rings outweighed a passage's own evidence (a plainly self-harm
    # passage between quiet ones at p = 0.004); read as at least the floor, any quiet
    # neighbour counts alike, and the fitted floor is read back with the combiner
    rng = np.random.default_rng(2)
    n = 4000
    own = rng.normal(-4, 3, size=(n, 1))
    ring = rng.normal(-4, 3, size=(n, 1))
    y = (rng.random((n, 1)) < sigmoid(own + 0.5 * np.maximum(ring, -2.0))).astype(float)
    scores = {"classifier": own, "context": ring}
    floored = Combiner.fit(("w",), scores, y, context_floor=-2.0)
    assert floored.context_floor == -2.0
    assert floored.coef[0, 0] == pytest.approx(1.0, abs=0.2)
    quiet, quieter = {"classifier": np.array([[6.0]]), "context": np.array([[-3.0]])}, {
        "classifier": np.array([[6.0]]), "context": np.array([[-9.0]])}
    assert floored(quiet) == pytest.approx(floored(quieter))  # both under the floor
    again = Combiner.from_json(json.loads(json.dumps(floored.to_json())))
    assert again.context_floor == -2.0 and again(quieter) == pytest.approx(floored(quieter))
    raw = Combiner.fit(("w",), scores, y)  # no floor: as before, and no key in its JSON
    assert raw.context_floor is None and "context_floor" not in raw.to_json()
    assert raw(quieter)[0, 0] < raw(quiet)[0, 0]


def test_a_context_margin_lets_quiet_rings_lower_a_passage_but_not_veto_it() -> None:
    # the shipped form since the eighteenth session: each ring read as at least the
    # passage's own logit less the margin. A quiet passage among quiet ones reads exactly as
    # raw; a plainly positive one among quiet ones is not pulled down without limit
    rng = np.random.default_rng(3)
    n = 4000
    own = rng.normal(-4, 3, size=(n, 1))
    ring = rng.normal(-4, 3, size=(n, 1))
    y = (rng.random((n, 1)) < sigmoid(0.8 * own + 0.4 * ring)).astype(float)
    scores = {"classifier": own, "context": ring}
    margin = Combiner.fit(("w",), scores, y, context_margin=6.0)
    assert margin.context_margin == 6.0 and margin.context_floor is None
    quiet_in_quiet = {"classifier": np.array([[-8.0]]), "context": np.array([[-9.0]])}
    plain_in_quiet = {"classifier": np.array([[6.0]]), "context": np.array([[-9.0]])}
    plain_in_less_quiet = {"classifier": np.array([[6.0]]), "context": np.array([[0.0]])}
    # the ring is read as at least 0 (6 - 6): -9 and 0 are the same to it
    assert margin(plain_in_quiet) == pytest.approx(margin(plain_in_less_quiet))
    z = margin.bias[0] + margin.coef[0, 0] * -8.0 + margin.coef[0, 1] * -9.0
    assert margin(quiet_in_quiet)[0, 0] == pytest.approx(float(sigmoid(z)))  # untouched
    again = Combiner.from_json(json.loads(json.dumps(margin.to_json())))
    assert again.context_margin == 6.0
    assert again(plain_in_quiet) == pytest.approx(margin(plain_in_quiet))
    raw = Combiner.fit(("w",), scores, y)
    assert raw.context_margin is None and "context_margin" not in raw.to_json()
    assert raw(plain_in_quiet)[0, 0] < margin(plain_in_quiet)[0, 0]


def test_the_aggregator_is_monotone_bounded_and_order_free() -> None:
    agg = WorkAggregator((6.0, 1.5, 1.0), -5.0)
    assert agg([0.9, 0.3]) == agg([0.3, 0.9])
    assert agg([0.9]) <= agg([0.9, 0.6]) <= agg([0.9, 0.6, 0.6]) <= agg([0.95, 0.6, 0.6])
    assert agg([0.999] * 50) <= agg.cap
    assert 0.0 <= agg([]) < 0.01
    # every passage counts, however faint; a fitted floor reads those below it as 0
    assert agg([0.9, 0.1]) > agg([0.9])
    floored = WorkAggregator((6.0, 1.5, 1.0), -5.0, floor=0.2)
    assert floored([0.9, 0.1]) == floored([0.9]) < floored([0.9, 0.3])
    assert WorkAggregator.from_json(json.loads(json.dumps(agg.to_json()))) == agg
    assert WorkAggregator.from_json(json.loads(json.dumps(floored.to_json()))) == floored


def test_the_aggregator_fit_keeps_slopes_non_negative_and_beats_noisy_or() -> None:
    rng = np.random.default_rng(2)
    works, y = [], []
    for _ in range(3000):
        positive = rng.random() < 0.3
        n = int(rng.integers(3, 12))
        base = rng.beta(1, 12, size=n)  # quiet passages
        if positive:
            base[0] = rng.beta(6, 2)
        elif rng.random() < 0.3:  # a false passage read three times over
            base[:3] = rng.beta(3, 3)
        works.append(base)
        y.append(float(positive))
    agg = WorkAggregator.fit(works, y)
    assert all(c >= 0 for c in agg.coef)
    fitted = np.array([agg(w) for w in works])
    noisy_or = np.array([1 - np.prod(1 - np.sort(w)[::-1][:3]) for w in works])
    t = np.array(y)
    assert np.mean((fitted - t) ** 2) < np.mean((noisy_or - t) ** 2)


def test_logit_is_clipped_not_infinite() -> None:
    assert np.isfinite(logit(np.array([0.0, 1.0]))).all()
    assert logit(0.5) == pytest.approx(0.0)


def test_neighbour_context_takes_the_larger_neighbour_and_only_real_neighbours() -> None:
    logits = np.array([[1.0, -5.0], [-3.0, -4.0], [2.0, -6.0], [-1.0, 0.5]])
    # rows 0-2 are passages 10, 11, 12; row 3 is passage 20 (not a neighbour of 12)
    out = neighbour_context(logits, [10, 11, 12, 20])["context"]
    assert out[0].tolist() == [-3.0, -4.0]  # only passage 11 follows it
    assert out[1].tolist() == [2.0, -5.0]  # the larger of 10 and 12, warning by warning
    assert out[2].tolist() == [-3.0, -4.0]  # only 11: 20 is not adjacent
    assert out[3].tolist() == [CONTEXT_PAD] * 2  # no neighbour: a quiet passage's logit


def test_outer_rings_read_further_and_fall_back_to_the_ring_inside() -> None:
    logits = np.array([[0.0], [1.0], [2.0], [3.0], [9.0]])
    rings = neighbour_context(logits, [0, 1, 2, 3, 4], rings=3)
    assert list(rings) == ["context", "context2", "context3"]
    assert rings["context"][:, 0].tolist() == [1.0, 2.0, 3.0, 9.0, 3.0]
    assert rings["context2"][:, 0].tolist() == [2.0, 3.0, 9.0, 1.0, 2.0]
    # three away: passage 3 for 0, passage 4 for 1, none for 2 (ring 2 kept), 0 for 3
    assert rings["context3"][:, 0].tolist() == [3.0, 9.0, 9.0, 0.0, 1.0]
    # the rows' order does not matter, only their passage indices
    shuffled = neighbour_context(logits[::-1], [4, 3, 2, 1, 0], rings=3)
    assert shuffled["context3"][::-1].tolist() == rings["context3"].tolist()


def test_unrelated_texts_have_quiet_context() -> None:
    logits = np.array([[1.0], [4.0], [-2.0]])
    rings = neighbour_context(logits, None, rings=2)
    assert rings["context"].tolist() == rings["context2"].tolist() == [[CONTEXT_PAD]] * 3
    assert neighbour_context(logits[:1], [3])["context"].tolist() == [[CONTEXT_PAD]]
    assert context_ring("context") == 1 and context_ring("context3") == 3
    assert context_ring("classifier") is None and context_ring("context0") is None


def test_has_neighbour_needs_a_passage_right_before_or_after() -> None:
    assert has_neighbour([4, 5, 9], 3).tolist() == [True, True, False]
    assert has_neighbour([7], 1).tolist() == [False]
    assert has_neighbour(None, 2).tolist() == [False, False]
