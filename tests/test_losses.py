"""Tests of course.losses: values, error terms against finite differences, stability, pairing."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from course.gradcheck import relative_error
from course.losses import (
    OUTPUT_LOSSES,
    binary_cross_entropy,
    binary_cross_entropy_grad,
    cross_entropy,
    cross_entropy_grad,
    get_output_loss,
    half_sse,
    half_sse_grad,
    logsumexp,
)


def targets_for(pair, rng, n, m):
    if pair.output == "softmax":
        return np.eye(n)[:, rng.integers(0, n, size=m)]
    if pair.loss == "bce":
        return rng.integers(0, 2, size=(n, m)).astype(float)
    return rng.normal(size=(n, m))


def test_values_against_hand_computation():
    yhat = np.array([[0.2, 0.9], [0.7, 0.4]])
    t = np.array([[0.0, 1.0], [1.0, 0.0]])
    np.testing.assert_allclose(half_sse(yhat, t), [0.5 * (0.04 + 0.09), 0.5 * (0.01 + 0.16)])
    bce0 = -math.log(0.8) - math.log(0.7)
    bce1 = -math.log(0.9) - math.log(0.6)
    np.testing.assert_allclose(binary_cross_entropy(yhat, t), [bce0, bce1])
    np.testing.assert_allclose(cross_entropy(yhat, t), [-math.log(0.7), -math.log(0.9)])


@pytest.mark.parametrize(
    "loss, grad",
    [
        (half_sse, half_sse_grad),
        (binary_cross_entropy, binary_cross_entropy_grad),
        (cross_entropy, cross_entropy_grad),
    ],
)
def test_loss_gradients_wrt_yhat(loss, grad):
    rng = np.random.default_rng(0)
    yhat = rng.uniform(0.1, 0.9, size=(3, 4))
    t = np.eye(3)[:, [0, 2, 1, 1]]
    numeric = np.zeros_like(yhat)
    h = 1e-6
    for idx in np.ndindex(*yhat.shape):
        up, down = yhat.copy(), yhat.copy()
        up[idx] += h
        down[idx] -= h
        numeric[idx] = (loss(up, t).sum() - loss(down, t).sum()) / (2 * h)
    assert relative_error(grad(yhat, t), numeric) < 1e-7


@pytest.mark.parametrize("key", sorted(OUTPUT_LOSSES))
def test_error_term_matches_finite_differences_of_the_loss_in_z(key):
    pair = OUTPUT_LOSSES[key]
    rng = np.random.default_rng(3)
    n, m = 3, 5
    z = rng.normal(size=(n, m)) * 2
    t = targets_for(pair, rng, n, m)

    def total(zz):
        return pair.per_sample(zz, pair.activate(zz), t).sum()

    numeric = np.zeros_like(z)
    h = 1e-6
    for idx in np.ndindex(*z.shape):
        up, down = z.copy(), z.copy()
        up[idx] += h
        down[idx] -= h
        numeric[idx] = (total(up) - total(down)) / (2 * h)
    assert relative_error(pair.delta(z, pair.activate(z), t), numeric) < 1e-7


@pytest.mark.parametrize("key", sorted(OUTPUT_LOSSES))
def test_per_sample_loss_from_z_equals_the_plain_formula(key):
    pair = OUTPUT_LOSSES[key]
    rng = np.random.default_rng(4)
    z = rng.normal(size=(3, 6))
    t = targets_for(pair, rng, 3, 6)
    yhat = pair.activate(z)
    plain = {"half_sse": half_sse, "bce": binary_cross_entropy, "cross_entropy": cross_entropy}[
        pair.loss
    ](yhat, t)
    np.testing.assert_allclose(pair.per_sample(z, yhat, t), plain, rtol=1e-10)


def test_yhat_minus_t_for_the_canonical_pairs():
    rng = np.random.default_rng(5)
    z = rng.normal(size=(4, 3))
    for key in [("identity", "half_sse"), ("sigmoid", "bce"), ("softmax", "cross_entropy")]:
        pair = OUTPUT_LOSSES[key]
        t = targets_for(pair, rng, 4, 3)
        yhat = pair.activate(z)
        np.testing.assert_allclose(pair.delta(z, yhat, t), yhat - t)
    pair = OUTPUT_LOSSES[("sigmoid", "half_sse")]  # the pattern does not hold here
    t = rng.normal(size=(4, 3))
    yhat = pair.activate(z)
    assert not np.allclose(pair.delta(z, yhat, t), yhat - t)


@pytest.mark.parametrize("key", sorted(OUTPUT_LOSSES))
def test_no_overflow_or_nan_for_huge_logits(key):
    pair = OUTPUT_LOSSES[key]
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0]])
    t = np.array([[0.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yhat = pair.activate(z)
        per = pair.per_sample(z, yhat, t)
        d = pair.delta(z, yhat, t)
    assert np.all(np.isfinite(per)) and np.all(np.isfinite(d))
    if pair.loss in ("bce", "cross_entropy"):
        # a confident wrong answer costs about |z|, exactly as the maths says
        assert per[0] == pytest.approx(2e4 if pair.loss == "bce" else 2e4, rel=1e-9)


def test_logsumexp_is_exact_and_stable():
    z = np.array([[1000.0, 1.0], [1000.0, 2.0]])
    np.testing.assert_allclose(logsumexp(z), [1000 + math.log(2), math.log(math.e + math.e**2)])


def test_pairing_errors_name_the_fix():
    with pytest.raises(ValueError, match="does not fit output 'identity'"):
        get_output_loss("identity", "bce")
    with pytest.raises(ValueError, match="does not fit output 'softmax'.*'cross_entropy'"):
        get_output_loss("softmax", "half_sse")
    with pytest.raises(
        ValueError, match="loss must be one of 'half_sse'.*'cross_entropy'.*, got 'hinge'"
    ):
        get_output_loss("sigmoid", "hinge")
    with pytest.raises(ValueError, match="output must be one of 'identity'.*'softmax', got 'relu'"):
        get_output_loss("relu", "half_sse")
