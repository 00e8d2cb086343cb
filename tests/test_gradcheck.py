"""Tests of course.gradcheck against functions whose gradients are known in closed form."""

from __future__ import annotations

import numpy as np
import pytest

from course.gradcheck import (
    check_gradients,
    compare,
    numerical_gradient,
    numerical_gradients,
    numerical_jacobian,
    relative_error,
)


def test_numerical_gradient_of_known_functions():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(4, 4))
    x = rng.normal(size=(4, 1))
    # f = x^T A x  ->  grad = (A + A^T) x
    num = numerical_gradient(lambda: (x.T @ A @ x).item(), x)
    np.testing.assert_allclose(num, (A + A.T) @ x, rtol=1e-8)
    y = rng.uniform(0.5, 2.0, size=(2, 3))
    num = numerical_gradient(lambda: float(np.sum(np.log(y) * y)), y)
    np.testing.assert_allclose(num, np.log(y) + 1, rtol=1e-8)
    assert np.all(y > 0.5)  # restored after nudging


def test_norm_of_Wx_example_from_the_lectures():
    # f(x, W) = ||W x||^2 with x = (0.1, 0.2), W = [[0.3, 0.4], [0.5, 0.6]]:
    # m = W x = (0.11, 0.17), f = 0.11^2 + 0.17^2 = 0.041, df/dW = 2 m x^T, df/dx = 2 W^T m
    x = np.array([[0.1], [0.2]])
    W = np.array([[0.3, 0.4], [0.5, 0.6]])
    m = W @ x
    np.testing.assert_allclose(m[:, 0], [0.11, 0.17])
    assert float(np.sum(m**2)) == pytest.approx(0.041)
    dW = 2 * m @ x.T
    dx = 2 * W.T @ m
    np.testing.assert_allclose(dW, [[0.022, 0.044], [0.034, 0.068]])
    np.testing.assert_allclose(
        dx, [[2 * (0.11 * 0.3 + 0.17 * 0.5)], [2 * (0.11 * 0.4 + 0.17 * 0.6)]]
    )
    assert dW.shape == W.shape and dx.shape == x.shape  # a gradient has its variable's shape
    f = lambda: float(np.sum((W @ x) ** 2))  # noqa: E731
    assert relative_error(dW, numerical_gradient(f, W)) < 1e-9
    assert relative_error(dx, numerical_gradient(f, x)) < 1e-9


def test_relative_error_properties():
    a = np.array([1.0, 2.0, 3.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(a, -a) == pytest.approx(1.0)
    assert relative_error(a, a * (1 + 1e-6)) == pytest.approx(0.5e-6, rel=1e-3)
    with pytest.raises(ValueError, match=r"shapes \(3,\) and \(2,\)"):
        relative_error(a, a[:2])


def test_compare_reports_the_worst_entry():
    analytic = np.array([[1.0, 2.0], [3.0, 4.0]])
    numeric = analytic.copy()
    numeric[1, 0] = 3.5
    report = compare("W1", analytic, numeric)
    assert report.worst_index == (1, 0)
    assert (report.analytic, report.numeric) == (3.0, 3.5)
    assert not report.ok()
    assert "W1" in str(report) and "(1, 0)" in str(report)
    with pytest.raises(ValueError, match="a gradient always has its variable's shape"):
        compare("W1", analytic.T[:, :1], numeric)


def test_check_gradients_finds_a_wrong_gradient():
    params = {"a": np.array([1.0, -2.0]), "b": np.array([[0.5]])}

    def f():
        return float(np.sum(params["a"] ** 2) + 3 * params["b"][0, 0] ** 3)

    good = {"a": 2 * params["a"], "b": 9 * params["b"] ** 2}
    bad = {"a": 2 * params["a"], "b": 3 * params["b"] ** 2}
    assert all(r.ok() for r in check_gradients(f, params, good).values())
    reports = check_gradients(f, params, bad)
    assert reports["a"].ok() and not reports["b"].ok()
    with pytest.raises(ValueError, match="check_gradients: grads has no entry for \\['b'\\]"):
        check_gradients(f, params, {"a": good["a"]})
    assert set(numerical_gradients(f, params)) == {"a", "b"}


def test_needs_a_float64_array():
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda: 0.0, np.zeros(3, dtype=np.float32))
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda: 0.0, [1.0, 2.0])


def test_numerical_jacobian_in_numerator_layout():
    # f = 3 x^2 y, g = 5 x y + y^3: J = [[6 y x, 3 x^2], [5 y, 5 x + 3 y^2]]
    v = np.array([1.5, -2.0])

    def F(w):
        x, y = w
        return np.array([3 * x**2 * y, 5 * x * y + y**3])

    x, y = v
    expected = np.array([[6 * y * x, 3 * x**2], [5 * y, 5 * x + 3 * y**2]])
    J = numerical_jacobian(F, v)
    assert J.shape == (2, 2)
    assert relative_error(J, expected) < 1e-9
    np.testing.assert_array_equal(v, [1.5, -2.0])  # restored
