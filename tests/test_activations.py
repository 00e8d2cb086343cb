"""Tests of course.activations: derivatives against centred differences, stability, kinks."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from course import activations as act
from course.gradcheck import relative_error

NAMES = list(act.HIDDEN_ACTIVATIONS)

# Closed forms written independently of the module, element by element with the math library.
REFERENCE = {
    "sigmoid": lambda z: 1 / (1 + math.exp(-z)),
    "tanh": math.tanh,
    "relu": lambda z: max(0.0, z),
    "leaky_relu": lambda z: max(0.1 * z, z),
    "elu": lambda z: z if z > 0 else math.exp(z) - 1,
    "softplus": lambda z: math.log(1 + math.exp(z)),
    "swish": lambda z: z / (1 + math.exp(-z)),
}


def test_every_hidden_activation_is_registered():
    assert set(NAMES) == set(REFERENCE)


@pytest.mark.parametrize("name", NAMES)
def test_forward_matches_closed_form(name):
    rng = np.random.default_rng(0)
    z = rng.uniform(-6, 6, size=(4, 9))
    got = act.ACTIVATIONS[name].f(z)
    want = np.vectorize(REFERENCE[name])(z)
    assert got.shape == z.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_derivative_matches_centred_differences(name):
    rng = np.random.default_rng(1)
    z = rng.uniform(-4, 4, size=(5, 8))
    z[np.abs(z) < 1e-3] = 0.5  # stay off the kinks
    a = act.ACTIVATIONS[name].f(z)
    h = 1e-6
    ref = np.vectorize(REFERENCE[name])
    numeric = (ref(z + h) - ref(z - h)) / (2 * h)
    for analytic in (act.ACTIVATIONS[name].prime(z, a), act.ACTIVATIONS[name].prime(z, None)):
        assert relative_error(analytic, numeric) < 1e-7


@pytest.mark.parametrize("name", NAMES)
def test_stable_for_huge_inputs(name):
    z = np.array([[-1e4, -1e3, -50.0, 0.0, 50.0, 1e3, 1e4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = act.ACTIVATIONS[name].f(z)
        d = act.ACTIVATIONS[name].prime(z, a)
    assert np.all(np.isfinite(a)) and np.all(np.isfinite(d))


def test_saturation_values():
    z = np.array([-1e4, 1e4])
    np.testing.assert_array_equal(act.sigmoid(z), [0.0, 1.0])
    np.testing.assert_array_equal(act.sigmoid_prime(z), [0.0, 0.0])
    # deep in saturation the derivative is tiny but not zero: e^-50 / (1 + e^-50)^2
    assert act.sigmoid_prime(np.array([50.0]))[0] == pytest.approx(math.exp(-50), rel=1e-12)
    np.testing.assert_array_equal(act.tanh_prime(z), [0.0, 0.0])
    assert act.softplus(np.array([1e4]))[0] == 1e4


def test_kinks_follow_the_documented_convention():
    zero = np.zeros(1)
    assert act.relu_prime(zero)[0] == 0.0
    assert act.leaky_relu_prime(zero)[0] == pytest.approx(0.1)
    assert act.elu_prime(zero)[0] == 1.0  # e^0 = 1 = right derivative: no kink for alpha = 1


def test_sigmoid_derivative_is_f_times_one_minus_f():
    z = np.linspace(-5, 5, 11)
    f = np.array([1 / (1 + math.exp(-v)) for v in z])
    np.testing.assert_allclose(act.sigmoid_prime(z), f * (1 - f), rtol=1e-12)


def test_softmax_columns_and_stability():
    z = np.array([[1.0, 1000.0, -1e4], [2.0, 1000.0, 1e4], [3.0, -1000.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = act.softmax(z)
    np.testing.assert_allclose(p.sum(axis=0), 1.0)
    e = np.exp([1.0, 2.0, 3.0])
    np.testing.assert_allclose(p[:, 0], e / e.sum(), rtol=1e-12)
    np.testing.assert_allclose(p[:, 1], [0.5, 0.5, 0.0], atol=1e-300)
    np.testing.assert_allclose(p[:, 2], [0.0, 1.0, 0.0])


def test_softmax_jacobian_is_diag_minus_outer():
    z = np.array([[0.3], [-1.2], [2.0]])
    p = act.softmax(z)[:, 0]
    h = 1e-6
    numeric = np.zeros((3, 3))
    for j in range(3):
        dz = np.zeros((3, 1))
        dz[j] = h
        numeric[:, j] = (act.softmax(z + dz) - act.softmax(z - dz))[:, 0] / (2 * h)
    assert relative_error(np.diag(p) - np.outer(p, p), numeric) < 1e-8


def test_maxout_takes_the_best_piece():
    pieces = np.array([[[1.0, -2.0]], [[0.5, 3.0]]])  # k=2 pieces, n=1 unit, m=2 samples
    np.testing.assert_array_equal(act.maxout(pieces), [[1.0, 3.0]])


def test_unknown_name_lists_the_choices():
    with pytest.raises(ValueError, match="hidden must be one of .*'sigmoid'.*, got 'relu6'"):
        act.get_activation("relu6", argument="hidden")
    with pytest.raises(
        TypeError, match="activation must be a string, one of 'identity'.*, got 3 of type int"
    ):
        act.get_activation(3)


def test_float32_stays_float32():
    z = np.linspace(-3, 3, 7, dtype=np.float32)
    for name in NAMES:
        a = act.ACTIVATIONS[name].f(z)
        assert a.dtype == np.float32, name
        assert act.ACTIVATIONS[name].prime(z, a).dtype == np.float32, name
