"""Tests for course.optim: update rules checked by hand, on a quadratic, and their error messages.

Expected values are always computed here, with the formulas written out in plain arithmetic (or
with numpy.linalg.solve as an independent oracle), never by calling the code under test.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course.optim import (
    OPTIMIZERS,
    SCHEDULES,
    SGD,
    AdaGrad,
    Adam,
    Momentum,
    Nesterov,
    Optimizer,
    RMSProp,
    Schedule,
    constant,
    cosine,
    exponential,
    inverse_time,
    make_optimizer,
    make_schedule,
    step_decay,
)

# The tiny problem of the hand-checked steps: theta = [1, -2], first gradient g1, second g2.
THETA0 = (1.0, -2.0)
G1 = (0.5, 0.25)
G2 = (-1.0, 0.5)

# Factories rather than instances: every test gets fresh optimizers with empty state.
ALL_OPTIMIZERS = [
    pytest.param(lambda: SGD(lr=0.1), id="SGD"),
    pytest.param(lambda: Momentum(lr=0.1), id="Momentum"),
    pytest.param(lambda: Nesterov(lr=0.1), id="Nesterov"),
    pytest.param(lambda: AdaGrad(lr=0.1), id="AdaGrad"),
    pytest.param(lambda: RMSProp(lr=0.01), id="RMSProp"),
    pytest.param(lambda: Adam(lr=0.1), id="Adam"),
]
MakeOptimizer = Callable[[], Optimizer]


def two_steps(opt: Optimizer) -> tuple[np.ndarray, np.ndarray]:
    """theta after one step with G1 and after a second step with G2."""
    params = {"w": np.array(THETA0)}
    opt.step(params, {"w": np.array(G1)})
    after_one = params["w"].copy()
    opt.step(params, {"w": np.array(G2)})
    return after_one, params["w"].copy()


def close(actual: np.ndarray, expected: list[float]) -> None:
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-15)


# -- one and two steps, by hand -------------------------------------------------------------------


def test_sgd_by_hand() -> None:
    one, two = two_steps(SGD(lr=0.1))
    close(one, [1.0 - 0.1 * 0.5, -2.0 - 0.1 * 0.25])
    close(one, [0.95, -2.025])
    close(two, [0.95 - 0.1 * -1.0, -2.025 - 0.1 * 0.5])
    close(two, [1.05, -2.075])


def test_momentum_by_hand() -> None:
    one, two = two_steps(Momentum(lr=0.1, beta=0.9))
    v1 = [0.9 * 0.0 - 0.1 * 0.5, 0.9 * 0.0 - 0.1 * 0.25]  # [-0.05, -0.025]
    close(one, [1.0 + v1[0], -2.0 + v1[1]])
    close(one, [0.95, -2.025])
    v2 = [0.9 * v1[0] - 0.1 * -1.0, 0.9 * v1[1] - 0.1 * 0.5]  # [0.055, -0.0725]
    close(two, [0.95 + v2[0], -2.025 + v2[1]])
    close(two, [1.005, -2.0975])


def test_nesterov_by_hand() -> None:
    one, two = two_steps(Nesterov(lr=0.1, beta=0.9))
    v0 = [0.0, 0.0]
    v1 = [0.9 * v0[0] - 0.1 * 0.5, 0.9 * v0[1] - 0.1 * 0.25]  # [-0.05, -0.025]
    theta1 = [1.0 - 0.9 * v0[0] + 1.9 * v1[0], -2.0 - 0.9 * v0[1] + 1.9 * v1[1]]
    close(one, theta1)
    close(one, [0.905, -2.0475])
    v2 = [0.9 * v1[0] - 0.1 * -1.0, 0.9 * v1[1] - 0.1 * 0.5]  # [0.055, -0.0725]
    close(two, [theta1[0] - 0.9 * v1[0] + 1.9 * v2[0], theta1[1] - 0.9 * v1[1] + 1.9 * v2[1]])
    close(two, [1.0545, -2.16275])


def test_adagrad_by_hand() -> None:
    eps = 1e-8
    one, two = two_steps(AdaGrad(lr=0.1, eps=eps))
    cache1 = [0.5**2, 0.25**2]  # [0.25, 0.0625]
    theta1 = [
        1.0 - 0.1 * 0.5 / (math.sqrt(cache1[0]) + eps),
        -2.0 - 0.1 * 0.25 / (math.sqrt(cache1[1]) + eps),
    ]
    close(one, theta1)
    np.testing.assert_allclose(one, [0.9, -2.1], rtol=1e-7)  # the first step is lr * sign(g)
    cache2 = [cache1[0] + 1.0, cache1[1] + 0.25]  # [1.25, 0.3125]: the cache accumulates
    close(
        two,
        [
            theta1[0] - 0.1 * -1.0 / (math.sqrt(cache2[0]) + eps),
            theta1[1] - 0.1 * 0.5 / (math.sqrt(cache2[1]) + eps),
        ],
    )
    np.testing.assert_allclose(two, [0.9 + 0.1 / math.sqrt(1.25), -2.1 - 0.1 / math.sqrt(1.25)])


def test_rmsprop_by_hand() -> None:
    eps = 1e-8
    one, two = two_steps(RMSProp(lr=0.01, rho=0.9, eps=eps))
    cache1 = [0.9 * 0.0 + 0.1 * 0.25, 0.9 * 0.0 + 0.1 * 0.0625]  # [0.025, 0.00625]
    theta1 = [
        1.0 - 0.01 * 0.5 / (math.sqrt(cache1[0]) + eps),
        -2.0 - 0.01 * 0.25 / (math.sqrt(cache1[1]) + eps),
    ]
    close(one, theta1)
    # g / sqrt(0.1 g^2) = sqrt(10) for every coordinate
    np.testing.assert_allclose(one, [1.0 - 0.01 * math.sqrt(10), -2.0 - 0.01 * math.sqrt(10)])
    cache2 = [0.9 * cache1[0] + 0.1 * 1.0, 0.9 * cache1[1] + 0.1 * 0.25]  # [0.1225, 0.030625]
    close(
        two,
        [
            theta1[0] - 0.01 * -1.0 / (math.sqrt(cache2[0]) + eps),
            theta1[1] - 0.01 * 0.5 / (math.sqrt(cache2[1]) + eps),
        ],
    )
    # sqrt(0.1225) = 0.35 and sqrt(0.030625) = 0.175, so both steps have size 0.01 / 0.35
    np.testing.assert_allclose(
        two, [theta1[0] + 0.01 / 0.35, theta1[1] - 0.01 * 0.5 / 0.175], rtol=1e-7
    )


def test_adam_by_hand() -> None:
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    one, two = two_steps(Adam(lr=lr, beta1=b1, beta2=b2, eps=eps))
    # t = 1
    m1 = [(1 - b1) * 0.5, (1 - b1) * 0.25]
    v1 = [(1 - b2) * 0.5**2, (1 - b2) * 0.25**2]
    mh = [m1[0] / (1 - b1**1), m1[1] / (1 - b1**1)]
    vh = [v1[0] / (1 - b2**1), v1[1] / (1 - b2**1)]
    theta1 = [
        1.0 - lr * mh[0] / (math.sqrt(vh[0]) + eps),
        -2.0 - lr * mh[1] / (math.sqrt(vh[1]) + eps),
    ]
    close(one, theta1)
    np.testing.assert_allclose(one, [0.9, -2.1], rtol=1e-7)  # bias correction: a step of lr
    # t = 2
    m2 = [b1 * m1[0] + (1 - b1) * -1.0, b1 * m1[1] + (1 - b1) * 0.5]  # [-0.055, 0.0725]
    v2 = [b2 * v1[0] + (1 - b2) * 1.0, b2 * v1[1] + (1 - b2) * 0.25]  # [0.00124975, 0.0003124375]
    mh = [m2[0] / (1 - b1**2), m2[1] / (1 - b1**2)]
    vh = [v2[0] / (1 - b2**2), v2[1] / (1 - b2**2)]
    close(
        two,
        [
            theta1[0] - lr * mh[0] / (math.sqrt(vh[0]) + eps),
            theta1[1] - lr * mh[1] / (math.sqrt(vh[1]) + eps),
        ],
    )
    np.testing.assert_allclose(m2, [-0.055, 0.0725])
    np.testing.assert_allclose(v2, [0.00124975, 0.0003124375])


def test_lr_can_be_changed_between_steps() -> None:
    opt = SGD(lr=0.1)
    params = {"w": np.array(THETA0)}
    opt.lr = 0.5
    opt.step(params, {"w": np.array(G1)})
    close(params["w"], [1.0 - 0.5 * 0.5, -2.0 - 0.5 * 0.25])
    opt.lr = 0.0  # a schedule may decay to zero: then nothing moves
    opt.step(params, {"w": np.array(G2)})
    close(params["w"], [0.75, -2.125])


def test_step_counter_and_reset() -> None:
    opt = Momentum(lr=0.1, beta=0.9)
    params = {"w": np.array(THETA0)}
    for _ in range(3):
        opt.step(params, {"w": np.array(G1)})
    assert opt.t == 3
    opt.reset()
    assert opt.t == 0
    assert opt.v == {}
    params = {"w": np.array(THETA0)}
    opt.step(params, {"w": np.array(G1)})  # behaves like a fresh optimizer: v starts at 0
    close(params["w"], [1.0 - 0.1 * 0.5, -2.0 - 0.1 * 0.25])
    assert opt.t == 1


def test_adam_reset_restarts_bias_correction() -> None:
    opt = Adam(lr=0.1)
    params = {"w": np.array(THETA0)}
    for _ in range(5):
        opt.step(params, {"w": np.array(G2)})
    opt.reset()
    params = {"w": np.array(THETA0)}
    opt.step(params, {"w": np.array(G1)})
    np.testing.assert_allclose(params["w"], [0.9, -2.1], rtol=1e-7)


@pytest.mark.parametrize("make", ALL_OPTIMIZERS)
def test_state_is_kept_per_key(make: MakeOptimizer) -> None:
    """Stepping {"a", "b"} together is the same as stepping each key with its own optimizer."""
    rng = np.random.default_rng(1)
    a0, b0 = rng.standard_normal((3, 2)), rng.standard_normal((3, 1))
    together = {"a": a0.copy(), "b": b0.copy()}
    alone_a, alone_b = {"a": a0.copy()}, {"b": b0.copy()}
    opt_ab, opt_a, opt_b = make(), make(), make()
    for _ in range(4):
        ga, gb = rng.standard_normal((3, 2)), rng.standard_normal((3, 1))
        opt_ab.step(together, {"a": ga, "b": gb})
        opt_a.step(alone_a, {"a": ga})
        opt_b.step(alone_b, {"b": gb})
    np.testing.assert_array_equal(together["a"], alone_a["a"])
    np.testing.assert_array_equal(together["b"], alone_b["b"])


# -- in place, dtypes -----------------------------------------------------------------------------


@pytest.mark.parametrize("make", ALL_OPTIMIZERS)
def test_updates_in_place_and_leaves_grads_alone(make: MakeOptimizer) -> None:
    opt = make()
    W, b = np.array([[1.0, -2.0], [0.5, 3.0]]), np.array([[0.1], [-0.1]])
    params = {"W": W, "b": b}
    grads = {"W": np.array([[0.5, 0.25], [-1.0, 2.0]]), "b": np.array([[1.0], [-1.0]])}
    grads_before = {k: v.copy() for k, v in grads.items()}
    for _ in range(2):
        opt.step(params, grads)
    assert params["W"] is W and params["b"] is b
    assert not np.array_equal(W, [[1.0, -2.0], [0.5, 3.0]])  # the held array itself moved
    assert not np.array_equal(b, [[0.1], [-0.1]])
    for key in grads:
        np.testing.assert_array_equal(grads[key], grads_before[key])


@pytest.mark.parametrize("make", ALL_OPTIMIZERS)
@pytest.mark.parametrize("grad_dtype", [np.float32, np.float64])
def test_float32_stays_float32(make: MakeOptimizer, grad_dtype: type) -> None:
    p32 = {"w": np.array(THETA0, dtype=np.float32)}
    p64 = {"w": np.array(THETA0)}
    opt32, opt64 = make(), make()
    for g in (G1, G2, G1):
        opt32.step(p32, {"w": np.array(g, dtype=grad_dtype)})
        opt64.step(p64, {"w": np.array(g)})
    assert p32["w"].dtype == np.float32
    for state in opt32._state_names:
        assert getattr(opt32, state)["w"].dtype == np.float32
    np.testing.assert_allclose(p32["w"], p64["w"], rtol=1e-5)


def test_integer_gradients_are_accepted() -> None:
    params = {"w": np.array([1.0, 2.0])}
    SGD(lr=0.5).step(params, {"w": np.array([1, -2])})
    close(params["w"], [1.0 - 0.5 * 1, 2.0 - 0.5 * -2])


# -- convergence on a convex quadratic -----------------------------------------------------------


def quadratic() -> tuple[np.ndarray, np.ndarray]:
    """A (5x5, SPD, eigenvalues 1..10 so condition number 10) and c, for J = th'A th/2 - c'th."""
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    A = Q @ np.diag([1.0, 3.25, 5.5, 7.75, 10.0]) @ Q.T
    return (A + A.T) / 2, rng.standard_normal(5)


THETA_START = np.array([3.0, -2.0, 1.0, 4.0, -1.0])


@pytest.mark.parametrize(
    ("opt", "steps", "decay"),
    [
        (SGD(lr=0.1), 300, None),
        (Momentum(lr=0.05, beta=0.9), 500, None),
        (Nesterov(lr=0.05, beta=0.9), 500, None),
        (AdaGrad(lr=1.0), 1000, None),
        # RMSProp and Adam take steps of size ~lr right to the end, so anneal lr to get close
        (RMSProp(lr=0.05), 1500, exponential(lr0=0.05, k=5 / 1500)),
        (Adam(lr=0.1), 1000, exponential(lr0=0.1, k=5 / 1000)),
    ],
    ids=lambda x: type(x).__name__ if isinstance(x, Optimizer) else None,
)
def test_minimises_a_convex_quadratic(opt: Optimizer, steps: int, decay: Schedule | None) -> None:
    A, c = quadratic()
    assert np.linalg.cond(A) == pytest.approx(10.0)

    def J(theta: np.ndarray) -> float:
        return 0.5 * theta @ A @ theta - c @ theta

    theta_star = np.linalg.solve(A, c)
    params = {"theta": THETA_START.copy()}
    for epoch in range(steps):
        if decay is not None:
            opt.lr = decay(epoch)
        opt.step(params, {"theta": A @ params["theta"] - c})
    gap_start = J(THETA_START) - J(theta_star)
    assert J(params["theta"]) - J(theta_star) < 1e-6 * gap_start
    np.testing.assert_allclose(params["theta"], theta_star, atol=1e-3)


def test_nesterov_equals_the_look_ahead_formulation() -> None:
    """Classic NAG: v = beta v - lr grad(x + beta v); x += v. Ours stores theta = x + beta v."""
    A, c = quadratic()
    lr, beta = 0.05, 0.9

    def grad(theta: np.ndarray) -> np.ndarray:
        return A @ theta - c

    x, v = THETA_START.copy(), np.zeros(5)  # classic, gradient at the look-ahead point
    opt = Nesterov(lr=lr, beta=beta)
    params = {"theta": THETA_START.copy()}  # theta_0 = x_0 + beta * 0
    for _ in range(200):
        v = beta * v - lr * grad(x + beta * v)
        x = x + v
        opt.step(params, {"theta": grad(params["theta"])})
        np.testing.assert_allclose(params["theta"], x + beta * v, rtol=1e-10, atol=1e-12)
    theta_star = np.linalg.solve(A, c)
    np.testing.assert_allclose(x, theta_star, atol=1e-6)
    np.testing.assert_allclose(params["theta"], theta_star, atol=1e-6)


# -- properties -----------------------------------------------------------------------------------

finite = st.floats(-10.0, 10.0, allow_nan=False)
vectors = st.lists(finite, min_size=1, max_size=6)


@settings(max_examples=50, deadline=None)
@given(theta=vectors, data=st.data(), lr=st.floats(1e-4, 10.0))
def test_sgd_is_theta_minus_lr_g(theta: list[float], data: st.DataObject, lr: float) -> None:
    g = data.draw(st.lists(finite, min_size=len(theta), max_size=len(theta)))
    params = {"w": np.array(theta)}
    SGD(lr=lr).step(params, {"w": np.array(g)})
    close(params["w"], [t - lr * gi for t, gi in zip(theta, g, strict=True)])


magnitudes = st.lists(
    st.tuples(st.floats(0.1, 10.0), st.sampled_from([-1.0, 1.0])), min_size=1, max_size=6
)


@settings(max_examples=50, deadline=None)
@given(g=magnitudes, scale=st.floats(0.5, 100.0))
@pytest.mark.parametrize("cls", [AdaGrad, RMSProp, Adam])
def test_adaptive_steps_ignore_the_gradient_scale(
    cls: type[Optimizer], g: list[tuple[float, float]], scale: float
) -> None:
    """AdaGrad, RMSProp and Adam divide by a running RMS of g: scaling g by c > 0 changes nothing
    (up to eps)."""
    grad = np.array([m * s for m, s in g])
    p1, p2 = {"w": np.zeros(len(g))}, {"w": np.zeros(len(g))}
    o1, o2 = cls(lr=0.01), cls(lr=0.01)
    for factor in (1.0, -0.5, 2.0):
        o1.step(p1, {"w": factor * grad})
        o2.step(p2, {"w": scale * factor * grad})
    np.testing.assert_allclose(p1["w"], p2["w"], rtol=1e-6, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(g=magnitudes, lr=st.floats(1e-4, 1.0))
def test_adam_first_step_is_lr_times_sign(g: list[tuple[float, float]], lr: float) -> None:
    params = {"w": np.zeros(len(g))}
    Adam(lr=lr).step(params, {"w": np.array([m * s for m, s in g])})
    np.testing.assert_allclose(params["w"], [-lr * s for _, s in g], rtol=1e-7)


# -- errors ---------------------------------------------------------------------------------------


def test_missing_and_extra_grad_keys_are_named() -> None:
    params = {"W1": np.zeros((2, 2)), "b1": np.zeros((2, 1))}
    with pytest.raises(ValueError, match=r"missing key\(s\) \['b1'\]"):
        SGD(lr=0.1).step(params, {"W1": np.zeros((2, 2))})
    with pytest.raises(ValueError, match=r"extra key\(s\) \['W2'\]"):
        SGD(lr=0.1).step(params, {**params, "W2": np.zeros(1)})
    with pytest.raises(ValueError, match=r"missing key\(s\) \['b1'\] and extra key\(s\) \['b2'\]"):
        SGD(lr=0.1).step(params, {"W1": np.zeros((2, 2)), "b2": np.zeros((2, 1))})


def test_mismatched_shapes_name_the_key_and_both_shapes() -> None:
    params = {"b1": np.zeros((3, 1))}
    with pytest.raises(ValueError, match=r"grads\['b1'\] has shape \(3,\).*shape \(3, 1\)"):
        Momentum(lr=0.1).step(params, {"b1": np.zeros(3)})


def test_failed_step_changes_nothing() -> None:
    opt = Adam(lr=0.1)
    params = {"a": np.array([1.0, 2.0]), "b": np.array([3.0])}
    with pytest.raises(ValueError, match="shape"):
        opt.step(params, {"a": np.array([1.0, 1.0]), "b": np.array([1.0, 1.0])})
    assert opt.t == 0
    assert opt.m == {} and opt.v == {}
    np.testing.assert_array_equal(params["a"], [1.0, 2.0])


def test_state_from_another_shape_asks_for_reset() -> None:
    opt = RMSProp(lr=0.1)
    opt.step({"w": np.zeros(2)}, {"w": np.ones(2)})
    with pytest.raises(ValueError, match=r"cache\['w'\] has shape \(2,\).*reset"):
        opt.step({"w": np.zeros(3)}, {"w": np.ones(3)})
    opt.reset()
    opt.step({"w": np.zeros(3)}, {"w": np.ones(3)})


@pytest.mark.parametrize(
    ("params", "grads", "error", "words"),
    [
        ([np.zeros(2)], [np.zeros(2)], TypeError, "params must be a dict"),
        ({"w": np.zeros(2)}, np.zeros(2), TypeError, "grads must be a dict"),
        ({"w": [0.0, 1.0]}, {"w": np.zeros(2)}, TypeError, r"params\['w'\] must be a numpy array"),
        ({"w": np.zeros(2)}, {"w": [0.0, 1.0]}, TypeError, r"grads\['w'\] must be a numpy array"),
        ({"w": np.zeros(2, dtype=int)}, {"w": np.zeros(2)}, TypeError, "floating-point.*int"),
        ({"w": np.zeros(2)}, {"w": np.array(["a", "b"])}, TypeError, "real numeric"),
    ],
)
def test_bad_params_or_grads(params: object, grads: object, error: type, words: str) -> None:
    with pytest.raises(error, match=words):
        SGD(lr=0.1).step(params, grads)  # type: ignore[arg-type]


def test_read_only_params_are_refused() -> None:
    w = np.zeros(2)
    w.flags.writeable = False
    with pytest.raises(ValueError, match=r"params\['w'\] is a read-only array.*copy"):
        SGD(lr=0.1).step({"w": w}, {"w": np.ones(2)})


@pytest.mark.parametrize(
    ("lr", "error", "words"),
    [
        (-0.1, ValueError, r"lr must be a positive number, got -0\.1: pass .*lr=0\.1"),
        (0.0, ValueError, "lr must be a positive number, got 0.0"),
        (float("nan"), ValueError, "lr must be a finite number"),
        (float("inf"), ValueError, "lr must be a finite number"),
        ("0.1", TypeError, "lr must be a positive number, got '0.1' of type str"),
        (True, TypeError, "lr must be a positive number, got True of type bool"),
        (None, TypeError, "lr must be a positive number, got None of type NoneType"),
    ],
)
@pytest.mark.parametrize("cls", list(OPTIMIZERS.values()))
def test_bad_lr(cls: type[Optimizer], lr: object, error: type, words: str) -> None:
    with pytest.raises(error, match=words):
        cls(lr=lr)


def test_lr_setter_is_checked() -> None:
    opt = Adam()
    assert opt.lr == 1e-3
    opt.lr = np.float32(0.5)
    assert opt.lr == 0.5 and type(opt.lr) is float
    with pytest.raises(ValueError, match="lr must be a non-negative number, got -1"):
        opt.lr = -1
    with pytest.raises(TypeError, match="lr must be a non-negative number, got 'fast' of type str"):
        opt.lr = "fast"  # type: ignore[assignment]
    assert opt.lr == 0.5


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (
            lambda: Momentum(lr=0.1, beta=1.0),
            r"beta must be a number in the interval \[0, 1\), got 1\.0",
        ),
        (lambda: Nesterov(lr=0.1, beta=-0.5), r"beta must be a number in the interval \[0, 1\)"),
        (lambda: AdaGrad(lr=0.1, eps=0.0), "eps must be a positive number, got 0.0"),
        (
            lambda: RMSProp(lr=0.1, rho=1.5),
            r"rho must be a number in the interval \[0, 1\), got 1\.5",
        ),
        (lambda: RMSProp(lr=0.1, eps=-1e-8), "eps must be a positive number"),
        (lambda: Adam(beta1=1.0), r"beta1 must be a number in the interval \[0, 1\)"),
        (lambda: Adam(beta2=2), r"beta2 must be a number in the interval \[0, 1\), got 2"),
    ],
)
def test_bad_hyperparameters(make: object, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        make()  # type: ignore[operator]


def test_make_optimizer() -> None:
    opt = make_optimizer("momentum", lr=0.2, beta=0.5)
    assert type(opt) is Momentum
    assert (opt.lr, opt.beta) == (0.2, 0.5)
    assert type(make_optimizer("Adam")) is Adam
    assert set(OPTIMIZERS) == {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"}
    assert repr(opt) == "Momentum(lr=0.2, beta=0.5)"


def test_make_optimizer_errors() -> None:
    with pytest.raises(
        ValueError, match=r"make_optimizer: name must be one of 'sgd'.*'adam', got 'adamw'"
    ):
        make_optimizer("adamw", lr=0.1)
    with pytest.raises(TypeError, match="name must be a string, one of .*, got 3 of type int"):
        make_optimizer(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"'beta'.*SGD\(lr\)"):
        make_optimizer("sgd", lr=0.1, beta=0.9)
    with pytest.raises(TypeError, match="missing a required argument: 'lr'"):
        make_optimizer("sgd")


def test_optimizer_base_class_is_abstract() -> None:
    with pytest.raises(TypeError):
        Optimizer(lr=0.1)  # type: ignore[abstract]


# -- schedules ------------------------------------------------------------------------------------


def test_constant() -> None:
    s = constant(0.1)
    assert [s(0), s(1), s(1000)] == [0.1, 0.1, 0.1]


def test_step_decay() -> None:
    s = step_decay(0.1, drop=0.5, every=10)
    assert s(0) == 0.1
    assert s(9) == 0.1
    assert s(10) == pytest.approx(0.1 * 0.5)
    assert s(25) == pytest.approx(0.1 * 0.5 * 0.5)
    assert step_decay(1.0)(30) == pytest.approx(0.125)  # defaults: drop=0.5, every=10


def test_exponential() -> None:
    s = exponential(0.1, k=0.5)
    assert s(0) == 0.1
    assert s(2) == pytest.approx(0.1 * math.e**-1.0)
    assert s(2) == pytest.approx(0.036787944117144)
    assert exponential(0.1, k=0)(50) == 0.1


def test_inverse_time() -> None:
    s = inverse_time(0.1, k=0.5)
    assert s(0) == 0.1
    assert s(2) == pytest.approx(0.05)
    assert s(4) == pytest.approx(0.1 / 3.0)


def test_cosine() -> None:
    s = cosine(0.1, total_epochs=10, lr_min=0.01)
    assert s(0) == 0.1
    assert s(5) == pytest.approx((0.1 + 0.01) / 2)  # halfway: cos(pi/2) = 0
    assert s(2) == pytest.approx(0.01 + 0.09 * (1 + 0.8090169943749475) / 2)  # cos(pi/5)
    assert s(10) == 0.01
    assert s(11) == 0.01
    assert s(1000) == 0.01
    assert cosine(0.1, total_epochs=4)(4) == pytest.approx(0.0, abs=1e-18)


@settings(max_examples=50, deadline=None)
@given(lr0=st.floats(1e-4, 10.0), k=st.floats(0.0, 2.0), epoch=st.integers(0, 500))
def test_decaying_schedules_never_increase(lr0: float, k: float, epoch: int) -> None:
    for s in (
        step_decay(lr0, drop=0.5, every=3),
        exponential(lr0, k),
        inverse_time(lr0, k),
        cosine(lr0, total_epochs=100, lr_min=lr0 / 10),
    ):
        assert 0.0 <= s(epoch + 1) <= s(epoch) <= lr0


def test_schedules_print_nicely_and_are_frozen() -> None:
    assert repr(step_decay(0.1)) == "step_decay(lr0=0.1, drop=0.5, every=10)"
    assert repr(cosine(1, 50)) == "cosine(lr0=1.0, total_epochs=50, lr_min=0.0)"
    assert repr(constant(0.5)) == "constant(lr0=0.5)"
    s = exponential(0.1, k=0.1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.k = 0.2  # type: ignore[misc]
    assert s == exponential(0.1, k=0.1)


def test_schedule_drives_an_optimizer() -> None:
    opt = SGD(lr=1.0)
    params = {"w": np.array([1.0])}
    s = step_decay(0.1, drop=0.5, every=2)
    for epoch in range(4):  # lr = 0.1, 0.1, 0.05, 0.05
        opt.lr = s(epoch)
        opt.step(params, {"w": np.array([1.0])})
    close(params["w"], [1.0 - 0.1 - 0.1 - 0.05 - 0.05])


@pytest.mark.parametrize(
    ("make", "error", "words"),
    [
        (lambda: constant(0), ValueError, "lr0 must be a positive number, got 0"),
        (
            lambda: constant("0.1"),
            TypeError,
            "lr0 must be a positive number, got '0.1' of type str",
        ),
        (
            lambda: step_decay(0.1, drop=0.0),
            ValueError,
            r"drop must be a number in the interval \(0, 1\]",
        ),
        (lambda: step_decay(0.1, drop=1.5), ValueError, "drop must be a number in the interval"),
        (lambda: step_decay(0.1, every=0), ValueError, "every must be a positive integer, got 0"),
        (lambda: step_decay(0.1, every=2.5), TypeError, "every must be a positive integer"),
        (lambda: exponential(0.1, k=-1), ValueError, "k must be a non-negative number, got -1"),
        (lambda: inverse_time(-0.1, k=1), ValueError, "lr0 must be a positive number"),
        (lambda: cosine(0.1, total_epochs=0), ValueError, "total_epochs must be a positive"),
        (lambda: cosine(0.1, 10, lr_min=0.2), ValueError, "lr_min must not exceed lr0"),
        (lambda: cosine(0.1, 10, lr_min=-0.1), ValueError, "lr_min must be a non-negative"),
    ],
)
def test_bad_schedule_arguments(make: object, error: type, words: str) -> None:
    with pytest.raises(error, match=words):
        make()  # type: ignore[operator]


@pytest.mark.parametrize("schedule_name", sorted(SCHEDULES))
def test_bad_epochs(schedule_name: str) -> None:
    kwargs = {"constant": {}, "step_decay": {}, "exponential": {"k": 0.1}}
    kwargs |= {"inverse_time": {"k": 0.1}, "cosine": {"total_epochs": 10}}
    s = make_schedule(schedule_name, lr0=0.1, **kwargs[schedule_name])
    with pytest.raises(ValueError, match="epoch must be a non-negative integer, got -1"):
        s(-1)
    with pytest.raises(TypeError, match="epoch must be a non-negative integer, got 1.5"):
        s(1.5)  # type: ignore[arg-type]
    assert s(np.int64(3)) == s(3)


def test_make_schedule() -> None:
    s = make_schedule("cosine", lr0=0.1, total_epochs=10)
    assert s == cosine(0.1, 10)
    assert type(make_schedule("Step_Decay", lr0=1.0)) is step_decay
    assert set(SCHEDULES) == {"constant", "step_decay", "exponential", "inverse_time", "cosine"}
    with pytest.raises(
        ValueError, match=r"make_schedule: name must be one of 'constant'.*'cosine', got 'linear'"
    ):
        make_schedule("linear", lr0=0.1)
    with pytest.raises(TypeError, match=r"missing a required argument: 'total_epochs'"):
        make_schedule("cosine", lr0=0.1)
