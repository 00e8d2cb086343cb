"""Tests of course.layers: every backward function against centred finite differences in float64
and against numbers worked by hand; the cache contract; the buffers; the errors; MLP = layers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from course import layers
from course.activations import HIDDEN_ACTIVATIONS
from course.losses import OUTPUT_LOSSES
from course.mlp import MLP


def numeric_grad(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """dF/dx by centred differences, one entry at a time, in float64."""
    x = np.array(x, dtype=np.float64)
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        up = f(x)
        x[idx] = old - h
        down = f(x)
        x[idx] = old
        g[idx] = (up - down) / (2 * h)
    return g


def rel_err(a: np.ndarray, b: np.ndarray) -> float:
    """Largest difference relative to the largest entry (entries far below it are compared with
    the same absolute tolerance, as a centred difference only gets them to ~1e-10)."""
    return float(np.max(np.abs(a - b)) / max(1e-12, np.max(np.abs(a) + np.abs(b))))


def affine_case(seed: int, n_prev: int = 4, n: int = 3, m: int = 5):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n_prev, m))
    W = rng.normal(size=(n, n_prev))
    b = rng.normal(size=(n, 1))
    G = rng.normal(size=(n, m))  # dJ/dZ of the cost J = sum(G * Z)
    return A, W, b, G


# -- affine ----------------------------------------------------------------------------------


def test_affine_forward_by_hand():
    A = np.array([[1.0, 2.0], [3.0, -1.0]])  # two samples, one per column
    W = np.array([[0.5, -1.0], [2.0, 0.0], [1.0, 1.0]])
    b = np.array([[0.1], [0.2], [0.3]])
    Z, cache = layers.affine_forward(A, W, b)
    # column 0: W @ (1, 3) + b; column 1: W @ (2, -1) + b
    expected = np.array([[0.5 - 3 + 0.1, 1 + 1 + 0.1], [2 + 0.2, 4 + 0.2], [4 + 0.3, 1 + 0.3]])
    np.testing.assert_allclose(Z, expected, rtol=1e-15)
    assert cache[0] is A and cache[1] is W and cache[2] is b


def test_affine_backward_by_hand():
    A = np.array([[1.0, 2.0], [3.0, -1.0]])
    W = np.array([[0.5, -1.0], [2.0, 0.0], [1.0, 1.0]])
    b = np.zeros((3, 1))
    dZ = np.array([[1.0, 0.0], [0.0, 2.0], [-1.0, 1.0]])
    _, cache = layers.affine_forward(A, W, b)
    dA, dW, db = layers.affine_backward(dZ, cache)
    # dA[:, j] = sum_i dZ[i, j] W[i, :]
    np.testing.assert_allclose(dA, [[0.5 - 1.0, 4.0 + 1.0], [-1.0 - 1.0, 0.0 + 1.0]], rtol=1e-15)
    # dW[i, k] = sum_j dZ[i, j] A[k, j]
    np.testing.assert_allclose(dW, [[1.0, 3.0], [4.0, -2.0], [-1.0 + 2.0, -3.0 - 1.0]])
    np.testing.assert_allclose(db, [[1.0], [2.0], [0.0]])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("shape", [(4, 3, 5), (1, 1, 1), (6, 2, 1), (2, 7, 9)])
def test_affine_backward_against_finite_differences(seed, shape):
    A, W, b, G = affine_case(seed, *shape)
    _, cache = layers.affine_forward(A, W, b)
    dA, dW, db = layers.affine_backward(G, cache)

    def J(A_, W_, b_):
        return float(np.sum(G * (W_ @ A_ + b_)))

    assert rel_err(dA, numeric_grad(lambda a: J(a, W, b), A)) < 1e-7
    assert rel_err(dW, numeric_grad(lambda w: J(A, w, b), W)) < 1e-7
    assert rel_err(db, numeric_grad(lambda c: J(A, W, c), b)) < 1e-7
    assert (dA.shape, dW.shape, db.shape) == (A.shape, W.shape, b.shape)


def test_affine_backward_skips_the_input_gradient_and_writes_into_buffers():
    A, W, b, G = affine_case(7)
    _, cache = layers.affine_forward(A, W, b)
    dA_full, dW_full, db_full = layers.affine_backward(G, cache)
    bufW, bufb = np.full_like(W, np.nan), np.full_like(b, np.nan)
    dA, dW, db = layers.affine_backward(G, cache, input_grad=False, out=(bufW, bufb))
    assert dA is None
    assert dW is bufW and db is bufb
    np.testing.assert_array_equal(bufW, dW_full)
    np.testing.assert_array_equal(bufb, db_full)


def test_affine_forward_keeps_float32_and_converts_integers():
    A = np.ones((2, 3), dtype=np.float32)
    W = np.ones((1, 2), dtype=np.float32)
    b = np.zeros((1, 1), dtype=np.float32)
    Z, _ = layers.affine_forward(A, W, b)
    assert Z.dtype == np.float32
    Z, _ = layers.affine_forward(np.ones((2, 3), dtype=int), [[1, 2]], [[3]])
    assert Z.dtype == np.float64
    np.testing.assert_array_equal(Z, [[6.0, 6.0, 6.0]])


def test_affine_errors_name_the_problem_and_the_fix():
    A, W, b, G = affine_case(1, 4, 3, 5)
    with pytest.raises(ValueError, match=r"samples look like rows; pass A_prev.T"):
        layers.affine_forward(A.T, W, b)
    with pytest.raises(ValueError, match=r"A_prev.reshape\(4, 1\)"):
        layers.affine_forward(A[:, 0], W, b)
    with pytest.raises(ValueError, match=r"b has shape \(3,\).*b.reshape\(3, 1\)"):
        layers.affine_forward(A, W, b[:, 0])
    with pytest.raises(ValueError, match=r"W has shape \(12,\)"):
        layers.affine_forward(A, W.ravel(), b)
    with pytest.raises(TypeError, match="A_prev must be a numeric array"):
        layers.affine_forward(np.array([["a"] * 5] * 4), W, b)
    _, cache = layers.affine_forward(A, W, b)
    with pytest.raises(ValueError, match=r"dZ has shape \(5, 3\).*\(3, 5\)"):
        layers.affine_backward(G.T, cache)
    with pytest.raises(TypeError, match=r"the tuple \(A_prev, W, b\); got list of length 2"):
        layers.affine_backward(G, [A, W])


# -- activations -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", HIDDEN_ACTIVATIONS)
def test_activation_backward_against_finite_differences(name):
    rng = np.random.default_rng(3)
    Z = rng.normal(scale=2.0, size=(4, 6))
    Z[np.abs(Z) < 1e-3] = 0.5  # away from the kinks of the ReLU family
    G = rng.normal(size=Z.shape)
    A, cache = layers.activation_forward(Z, name)
    dZ = layers.activation_backward(G, cache)

    def J(z):
        return float(np.sum(G * layers.activation_forward(z, name)[0]))

    assert rel_err(dZ, numeric_grad(J, Z)) < 1e-6
    assert cache[0] is Z and cache[1] is A


@pytest.mark.parametrize(
    "pair, derivative",
    [
        ("sigmoid", lambda z: math.exp(-z) / (1 + math.exp(-z)) ** 2),
        ("tanh", lambda z: 1 - math.tanh(z) ** 2),
        ("relu", lambda z: 1.0 if z > 0 else 0.0),
    ],
)
def test_named_activation_pairs_by_hand(pair, derivative):
    forward = getattr(layers, f"{pair}_forward")
    backward = getattr(layers, f"{pair}_backward")
    Z = np.array([[-2.0, -0.5, 0.0], [0.25, 1.0, 3.0]])
    dA = np.array([[1.0, -2.0, 0.5], [3.0, 1.0, -1.0]])
    _, cache = forward(Z)
    dZ = backward(dA, cache)
    expected = np.array([[dA[i, j] * derivative(Z[i, j]) for j in range(3)] for i in range(2)])
    np.testing.assert_allclose(dZ, expected, rtol=1e-12, atol=1e-300)


def test_activation_backward_in_place_and_errors():
    Z = np.array([[0.5, -1.0]])
    _, cache = layers.sigmoid_forward(Z)
    dA = np.array([[2.0, 4.0]])
    s = 1 / (1 + np.exp(-Z))
    out = layers.activation_backward(dA, cache, out=dA)
    assert out is dA
    np.testing.assert_allclose(dA, [[2.0, 4.0]] * s * (1 - s), rtol=1e-15)
    with pytest.raises(ValueError, match=r"dA has shape \(2, 1\).*\(1, 2\)"):
        layers.activation_backward(np.ones((2, 1)), cache)
    with pytest.raises(ValueError, match="activation must be one of .*, got 'sigmoidd'"):
        layers.activation_forward(Z, "sigmoidd")


def test_sigmoid_forward_is_stable_for_large_inputs():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        A, cache = layers.sigmoid_forward(np.array([[-1e4, -800.0, -50.0, 0.0, 50.0, 1e4]]))
        dZ = layers.sigmoid_backward(np.ones((1, 6)), cache)
    # sigma(-50) = e^-50 / (1 + e^-50), kept to full relative precision
    assert A[0, 2] == pytest.approx(math.exp(-50) / (1 + math.exp(-50)), rel=1e-15)
    np.testing.assert_array_equal(A[0, [0, 1, 3, 4, 5]], [0.0, 0.0, 0.5, 1.0, 1.0])
    assert np.all(np.isfinite(dZ))


# -- output and loss ---------------------------------------------------------------------------


def targets_for(output: str, loss: str, K: int, m: int, rng) -> np.ndarray:
    if output == "softmax":
        T = np.zeros((K, m))
        T[rng.integers(0, K, size=m), np.arange(m)] = 1
        return T
    if loss == "bce":
        return rng.integers(0, 2, size=(K, m)).astype(float)
    return rng.normal(size=(K, m)) if output == "identity" else rng.random((K, m))


@pytest.mark.parametrize("pair", sorted(OUTPUT_LOSSES))
def test_output_loss_backward_against_finite_differences(pair):
    output, loss = pair
    rng = np.random.default_rng(11)
    K, m = 3, 4
    Z = rng.normal(size=(K, m))
    T = targets_for(output, loss, K, m, rng)
    J, cache = layers.output_loss_forward(Z, T, output, loss)
    dZ = layers.output_loss_backward(1.0, cache)
    assert (
        rel_err(dZ, numeric_grad(lambda z: layers.output_loss_forward(z, T, output, loss)[0], Z))
        < 1e-6
    )
    # dJ scales the gradient (the chain rule from a larger cost)
    np.testing.assert_allclose(layers.output_loss_backward(2.5, cache), 2.5 * dZ, rtol=1e-15)


def test_output_loss_by_hand():
    # softmax + cross-entropy on one sample with logits (0, ln 3): probabilities 1/4, 3/4
    Z = np.array([[0.0], [math.log(3.0)]])
    T = np.array([[0.0], [1.0]])
    J, cache = layers.output_loss_forward(Z, T)
    assert J == pytest.approx(-math.log(0.75), rel=1e-14)
    np.testing.assert_allclose(layers.output_loss_backward(1.0, cache), [[0.25], [-0.25]])
    # half squared error, mean over 2 samples: J = (1/2)(1/2)(1^2 + 2^2)
    J, cache = layers.output_loss_forward(
        np.array([[1.0, 3.0]]), np.array([[0.0, 1.0]]), "identity", "half_sse"
    )
    assert J == pytest.approx(1.25, rel=1e-15)
    np.testing.assert_allclose(layers.output_loss_backward(1.0, cache), [[0.5, 1.0]], rtol=1e-15)
    # cost=False gives the same cache without the value
    none, cache2 = layers.output_loss_forward(Z, T, cost=False)
    assert none is None
    np.testing.assert_array_equal(cache2[1], layers.output_loss_forward(Z, T)[1][1])


def test_output_loss_is_stable_for_large_logits():
    Z = np.array([[1e4, -1e4], [-1e4, 1e4], [0.0, 0.0]])
    T = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        J, cache = layers.output_loss_forward(Z, T)
        dZ = layers.output_loss_backward(1.0, cache)
    # sample 0 puts everything on the wrong class: loss 2e4; sample 1 is right: loss 0
    assert J == pytest.approx(1e4, rel=1e-12)
    np.testing.assert_allclose(dZ, [[0.5, 0.0], [-0.5, 0.0], [0.0, 0.0]], atol=1e-300)


def test_output_loss_errors():
    with pytest.raises(ValueError, match=r"T has shape \(2, 3\) but Z has shape \(3, 2\)"):
        layers.output_loss_forward(np.zeros((3, 2)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="does not fit output"):
        layers.output_loss_forward(np.zeros((1, 2)), np.zeros((1, 2)), "identity", "bce")


def test_weight_decay_pair():
    W = np.array([[1.0, -2.0], [0.5, 0.0]])
    penalty, cache = layers.weight_decay_forward(W, 0.1)
    assert penalty == pytest.approx(0.1 * (1 + 4 + 0.25), rel=1e-15)
    dW = layers.weight_decay_backward(1.0, cache)
    np.testing.assert_allclose(
        dW, numeric_grad(lambda w: layers.weight_decay_forward(w, 0.1)[0], W), rtol=1e-8
    )


# -- the network is the layers chained -----------------------------------------------------------


@pytest.mark.parametrize("hidden", ["sigmoid", "relu", "tanh"])
def test_three_layer_network_from_the_layers_matches_finite_differences(hidden):
    """A 4-5-3-2 network written out with the layer functions, checked against differences of
    its own cost, then compared with MLP on the same parameters."""
    rng = np.random.default_rng(5)
    net = MLP([4, 5, 3, 2], hidden=hidden, output="softmax", loss="cross_entropy", l2=0.01, seed=2)
    X = rng.normal(size=(4, 6))
    y = rng.integers(0, 2, size=6)
    T = np.zeros((2, 6))
    T[y, np.arange(6)] = 1

    def cost(params):
        A, caches = X, []
        for l in (1, 2):
            Z, aff = layers.affine_forward(A, params[f"W{l}"], params[f"b{l}"])
            A, act = layers.activation_forward(Z, hidden)
            caches.append((aff, act))
        Z, aff3 = layers.affine_forward(A, params["W3"], params["b3"])
        J, head = layers.output_loss_forward(Z, T)
        decay = [layers.weight_decay_forward(params[f"W{l}"], 0.01) for l in (1, 2, 3)]
        return J + sum(p for p, _ in decay), caches, aff3, head, decay

    params = {k: v.copy() for k, v in net.params.items()}
    _, caches, aff3, head, decay = cost(params)
    grads = {}
    dZ = layers.output_loss_backward(1.0, head)
    for l, aff in ((3, aff3), (2, caches[1][0]), (1, caches[0][0])):
        dA, dW, db = layers.affine_backward(dZ, aff)
        grads[f"W{l}"] = dW + layers.weight_decay_backward(1.0, decay[l - 1][1])
        grads[f"b{l}"] = db
        if l > 1:
            dZ = layers.activation_backward(dA, caches[l - 2][1])
    for key, value in params.items():

        def J(v, key=key):
            return cost({**params, key: v})[0]

        assert rel_err(grads[key], numeric_grad(J, value)) < 1e-5, key
    mlp_grads = net.gradients(X, y)
    for key in params:
        np.testing.assert_allclose(mlp_grads[key], grads[key], rtol=1e-12, atol=1e-15)
    assert net.loss(X, y) == pytest.approx(cost(params)[0], rel=1e-14)


def test_mlp_cache_is_the_layers_caches():
    net = MLP([3, 4, 2], hidden="tanh", output="sigmoid", loss="bce")
    X = np.random.default_rng(0).normal(size=(3, 5))
    yhat = net.forward(X)
    cache = net.cache
    assert sorted(cache) == ["A0", "A1", "A2", "Z1", "Z2"]
    assert cache["A0"] is X
    np.testing.assert_allclose(cache["Z1"], net.params["W1"] @ X + net.params["b1"], rtol=1e-14)
    np.testing.assert_allclose(cache["A1"], np.tanh(cache["Z1"]), rtol=1e-14)
    np.testing.assert_allclose(cache["Z2"], net.params["W2"] @ cache["A1"] + net.params["b2"])
    assert cache["A2"] is yhat


def test_step_rejects_non_finite_inputs_before_changing_anything():
    from course.optim import SGD

    # zero weights: a NaN in X must still be caught (0 * NaN is NaN in Z[1])
    for init in ("zeros", "auto"):
        net = MLP([3, 4, 2], output="softmax", loss="cross_entropy", init=init)
        before = {k: v.copy() for k, v in net.params.items()}
        for bad in (np.nan, np.inf, -np.inf):
            X = np.ones((3, 5))
            X[2, 3] = bad
            with pytest.raises(
                ValueError,
                match=r"X must hold finite numbers.*contains 1 non-finite value.*\(2, 3\)",
            ):
                net.step(X, np.array([0, 1, 0, 1, 0]), SGD(lr=0.1))
            for k in before:
                np.testing.assert_array_equal(net.params[k], before[k])


def test_step_accepts_finite_inputs_that_overflow_a_layer():
    from course.optim import SGD

    net = MLP([2, 3, 2], hidden="sigmoid", output="softmax", loss="cross_entropy", seed=1)
    X = np.array([[1e308, -1e308], [1e308, 1e308]])  # finite, but W X overflows to inf
    with np.errstate(all="ignore"):
        net.step(X, np.array([0, 1]), SGD(lr=0.1))
