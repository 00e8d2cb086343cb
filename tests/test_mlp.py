"""Tests of course.mlp: the lectures' network examples, gradients against finite differences,
caches, initialisation, and the errors a student meets."""

from __future__ import annotations

import dataclasses
import math
import warnings
import zlib

import numpy as np
import pytest

from course.activations import HIDDEN_ACTIVATIONS
from course.gradcheck import check_gradients
from course.losses import OUTPUT_LOSSES
from course.mlp import MLP, count_parameters, init_params, init_std

PAIRS = sorted(OUTPUT_LOSSES)


def sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# -- the 2-2-1 example of the lectures -------------------------------------------------------------


def slide_network() -> MLP:
    net = MLP([2, 2, 1], hidden="sigmoid", output="sigmoid", loss="half_sse")
    net.params["W1"][...] = [[0.1, 0.8], [0.4, 0.6]]
    net.params["W2"][...] = [[0.3, 0.9]]
    return net  # biases stay 0: the example has none


X_SLIDE = np.array([[0.35], [0.9]])
T_SLIDE = np.array([[0.5]])


def test_2_2_1_forward_matches_hand_computation():
    net = slide_network()
    y = net.forward(X_SLIDE)
    h1 = sig(0.1 * 0.35 + 0.8 * 0.9)
    h2 = sig(0.4 * 0.35 + 0.6 * 0.9)
    out = sig(0.3 * h1 + 0.9 * h2)
    np.testing.assert_allclose(net.cache["A1"][:, 0], [h1, h2], rtol=1e-14)
    assert y[0, 0] == pytest.approx(out, rel=1e-14)
    # the slides' rounded values
    assert (round(h1, 2), round(h2, 4), round(out, 2)) == (0.68, 0.6637, 0.69)


def test_2_2_1_gradients_exact_and_beside_the_slides():
    net = slide_network()
    g = net.gradients(X_SLIDE, T_SLIDE)
    # exact, by hand with the lecture's delta rule (delta = -dL/dnet on the slides)
    h1 = sig(0.1 * 0.35 + 0.8 * 0.9)
    h2 = sig(0.4 * 0.35 + 0.6 * 0.9)
    y = sig(0.3 * h1 + 0.9 * h2)
    d2 = (0.5 - y) * y * (1 - y)
    d11 = h1 * (1 - h1) * 0.3 * d2
    d12 = h2 * (1 - h2) * 0.9 * d2
    exact_W1 = np.array([[-d11 * 0.35, -d11 * 0.9], [-d12 * 0.35, -d12 * 0.9]])
    exact_W2 = np.array([[-d2 * h1, -d2 * h2]])
    np.testing.assert_allclose(g["W1"], exact_W1, rtol=1e-12)
    np.testing.assert_allclose(g["W2"], exact_W2, rtol=1e-12)
    # the slides' numbers come from rounded intermediates (0.69, 0.68, -0.0406, -0.0027, -0.0082)
    slide_d2 = (0.5 - 0.69) * 0.69 * (1 - 0.69)
    assert round(slide_d2, 4) == -0.0406
    assert round(0.68 * (1 - 0.68) * 0.3 * -0.0406, 4) == -0.0027
    assert round(0.6637 * (1 - 0.6637) * 0.9 * -0.0406, 4) == -0.0082
    slides_W1 = np.array([[0.000945, 0.00243], [0.00287, 0.00738]])
    slides_W2 = np.array([[0.0276, 0.0269]])
    np.testing.assert_allclose(
        slides_W1, [[0.0027 * 0.35, 0.0027 * 0.9], [0.0082 * 0.35, 0.0082 * 0.9]], rtol=2e-3
    )
    # exact and slide values agree to the slides' rounding: delta kept to two significant
    # figures moves the first layer's gradients by up to 2 %
    np.testing.assert_allclose(g["W1"], slides_W1, rtol=0.02)
    np.testing.assert_allclose(g["W2"], slides_W2, rtol=0.005)


def test_2_2_1_weight_update_with_learning_rate_one():
    net = slide_network()
    g = net.gradients(X_SLIDE, T_SLIDE)
    for k in ("W1", "W2"):
        net.params[k] -= 1.0 * g[k]
    slides = {"W1": [[0.0991, 0.7976], [0.3971, 0.5926]], "W2": [[0.2724, 0.8731]]}
    for k, v in slides.items():
        np.testing.assert_allclose(net.params[k], v, atol=1.5e-4)
    assert net.loss(X_SLIDE, T_SLIDE) < 0.5 * (0.5 - 0.69028) ** 2  # the update helped


def test_parameter_count_784_100_10():
    assert count_parameters([784, 100, 10]) == 100 + 10 + 784 * 100 + 100 * 10 == 79_510
    net = MLP([784, 100, 10], hidden="relu", output="softmax", loss="cross_entropy")
    assert sum(v.size for v in net.params.values()) == 79_510 == net.num_parameters()


# -- gradients against centred differences -----------------------------------------------------


def random_problem(sizes, pair, m, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(sizes[0], m))
    n = sizes[-1]
    if pair[0] == "softmax":
        Y = rng.integers(0, n, size=m)
    elif pair[1] == "bce":
        Y = rng.integers(0, 2, size=(n, m)).astype(float)
    else:
        Y = rng.normal(size=(n, m))
    return X, Y


# depth 1 has no hidden layer, so its cases do not repeat for every hidden activation
GRAD_CASES = [
    pytest.param(hidden, pair, depth, m, id=f"{hidden}-{'+'.join(pair)}-depth{depth}-m{m}")
    for depth in (1, 2, 3, 4)
    for hidden in (HIDDEN_ACTIVATIONS if depth > 1 else ("sigmoid",))
    for pair in PAIRS
    for m in (1, 5)
]


@pytest.mark.parametrize("hidden, pair, depth, m", GRAD_CASES)
def test_gradients_match_finite_differences(hidden, pair, depth, m):
    sizes = [3, 4, 5, 4, 3][:depth] + [3]
    seed = zlib.crc32(f"{hidden}-{pair}-{depth}-{m}".encode())  # same data in every run
    net = MLP(sizes, hidden=hidden, output=pair[0], loss=pair[1], l2=0.03, seed=seed)
    rng = np.random.default_rng(seed)
    for b in (k for k in net.params if k.startswith("b")):
        net.params[b][...] = rng.normal(scale=0.5, size=net.params[b].shape)
    X, Y = random_problem(sizes, pair, m, seed)
    grads = net.gradients(X, Y)
    assert set(grads) == set(net.params)
    assert all(grads[k].shape == net.params[k].shape for k in grads)
    reports = check_gradients(lambda: net.loss(X, Y), net.params, grads)
    worst = max(reports.values(), key=lambda r: r.rel_error)
    assert worst.rel_error < 1e-7, str(worst)


def test_l2_penalises_weights_not_biases():
    net = MLP([2, 3, 1], l2=0.5, seed=1)
    X, Y = np.ones((2, 4)), np.zeros((1, 4))
    plain = MLP([2, 3, 1], l2=0.0, seed=1)
    g, g0 = net.gradients(X, Y), plain.gradients(X, Y)
    for k in ("W1", "W2"):
        np.testing.assert_allclose(g[k] - g0[k], 2 * 0.5 * net.params[k])
    for k in ("b1", "b2"):
        np.testing.assert_allclose(g[k], g0[k])
    expected = 0.5 * sum(float(np.sum(net.params[k] ** 2)) for k in ("W1", "W2"))
    assert net.loss(X, Y) - plain.loss(X, Y) == pytest.approx(expected)


def test_batch_gradient_is_the_mean_of_per_sample_gradients():
    net = MLP([3, 4, 2], hidden="tanh", output="softmax", loss="cross_entropy", seed=4)
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(3, 6)), rng.integers(0, 2, size=6)
    batch = net.gradients(X, y)
    per = [net.gradients(X[:, [i]], y[[i]]) for i in range(6)]
    for k in batch:
        np.testing.assert_allclose(batch[k], np.mean([p[k] for p in per], axis=0), atol=1e-15)


# -- caches, dtypes, in-place params ----------------------------------------------------------


def test_backward_reuses_the_forward_cache():
    net = MLP([4, 6, 5, 3], hidden="sigmoid", output="softmax", loss="cross_entropy")
    X, y = np.random.default_rng(0).normal(size=(4, 7)), np.array([0, 1, 2, 0, 1, 2, 0])
    net.forward(X)
    expected = net.backward(y)
    calls = {"f": 0}
    original = net.activation

    def counting_f(z):
        calls["f"] += 1
        return original.f(z)

    net.activation = dataclasses.replace(original, f=counting_f)
    again = net.backward(y)  # from the cache alone
    assert calls["f"] == 0
    for k in expected:
        np.testing.assert_array_equal(again[k], expected[k])
    assert set(net.cache) == {"A0", "Z1", "A1", "Z2", "A2", "Z3", "A3"}


def test_params_are_writable_in_place():
    net = MLP([2, 2, 1], output="identity")
    X = np.ones((2, 1))
    before = net.forward(X).copy()
    net.params["b2"] += 1.0
    assert net.forward(X)[0, 0] == pytest.approx(before[0, 0] + 1.0)


def test_float32_network_keeps_float32_and_agrees_with_float64():
    kw = dict(hidden="relu", output="softmax", loss="cross_entropy", seed=3)
    n32, n64 = MLP([5, 8, 4], dtype=np.float32, **kw), MLP([5, 8, 4], **kw)
    X, y = np.random.default_rng(3).normal(size=(5, 10)), np.arange(10) % 4
    g32, g64 = n32.gradients(X.astype(np.float32), y), n64.gradients(X, y)
    for k in g32:
        assert g32[k].dtype == np.float32 and n32.params[k].dtype == np.float32
        np.testing.assert_allclose(g32[k], g64[k], rtol=1e-4, atol=1e-6)


# -- initialisation --------------------------------------------------------------------------


def test_zero_initialisation_keeps_hidden_units_identical():
    net = MLP([2, 4, 1], hidden="sigmoid", output="sigmoid", loss="bce", init="zeros")
    X = np.array([[0, 0, 1, 1], [0, 1, 0, 1]], dtype=float)
    Y = np.array([[0, 1, 1, 0]], dtype=float)
    g = net.gradients(X, Y)
    # W = 0 above makes delta = 0 below: no signal reaches the first layer's weights
    np.testing.assert_array_equal(g["W1"], 0.0)
    for _ in range(200):
        g = net.gradients(X, Y)
        for k in net.params:
            net.params[k] -= 0.5 * g[k]
    W1 = net.params["W1"]
    assert np.allclose(W1, W1[0]), "every hidden unit computes the same function"
    assert np.allclose(net.params["W2"], net.params["W2"][0, 0])


@pytest.mark.parametrize(
    "init, std", [("small", 0.01), ("xavier", math.sqrt(2 / 500)), ("he", math.sqrt(2 / 300))]
)
def test_initialisation_scales(init, std):
    p = init_params([300, 200], init, seed=0)
    assert p["W1"].std() == pytest.approx(std, rel=0.02)
    np.testing.assert_array_equal(p["b1"], 0.0)
    assert init_std(300, 200, init) == pytest.approx(std, rel=1e-12)


def test_init_std_names_its_choices_and_wants_a_layer():
    with pytest.raises(ValueError, match="xavier"):
        init_std(3, 2, "glorot")
    with pytest.raises(ValueError, match="n_in"):
        init_std(0, 2, "he")
    with pytest.raises(TypeError, match="n_out"):
        init_std(3, 2.5, "xavier")


def test_auto_init_picks_he_for_relu_and_xavier_for_sigmoid():
    relu = MLP([400, 100], hidden="relu", output="identity", seed=0)
    sigm = MLP([400, 100], hidden="sigmoid", output="identity", seed=0)
    assert relu.params["W1"].std() == pytest.approx(math.sqrt(2 / 400), rel=0.03)
    assert sigm.params["W1"].std() == pytest.approx(math.sqrt(2 / 500), rel=0.03)


def test_same_seed_same_network():
    a, b = MLP([3, 5, 2], seed=7), MLP([3, 5, 2], seed=7)
    c = MLP([3, 5, 2], seed=8)
    np.testing.assert_array_equal(a.params["W1"], b.params["W1"])
    assert not np.array_equal(a.params["W1"], c.params["W1"])


# -- predictions ---------------------------------------------------------------------------


def test_predict_and_accuracy():
    net = MLP([2, 3], hidden="relu", output="softmax", loss="cross_entropy")
    net.params["W1"][...] = [[1, 0], [0, 1], [-1, -1]]
    X = np.array([[3.0, 0.0, -2.0], [0.0, 3.0, -2.0]])
    np.testing.assert_array_equal(net.predict(X), [0, 1, 2])
    assert net.accuracy(X, np.array([0, 1, 1])) == pytest.approx(2 / 3)
    binary = MLP([1, 1], output="sigmoid", loss="bce")
    binary.params["W1"][...] = 1.0
    np.testing.assert_array_equal(binary.predict(np.array([[-1.0, 2.0]])), [0, 1])


# -- stability -------------------------------------------------------------------------------


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: "+".join(p))
@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
def test_huge_inputs_give_finite_loss_and_gradients(pair, hidden):
    net = MLP([2, 3, 2], hidden=hidden, output=pair[0], loss=pair[1], seed=0)
    X = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]])
    Y = np.array([0, 1, 1]) if pair[0] == "softmax" else np.array([[0.0, 1, 1], [1, 0, 1]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = net.loss(X, Y)
        grads = net.gradients(X, Y)
    assert np.isfinite(loss)
    assert all(np.all(np.isfinite(g)) for g in grads.values())


# -- errors that teach ----------------------------------------------------------------------


def test_wrong_weight_shape_names_the_layer_and_the_fix():
    net = MLP([2, 4, 3])
    net.params["W2"] = np.zeros((3, 5))
    with pytest.raises(
        ValueError,
        match=r"W2 has shape \(3, 5\) but layer 2 takes 4 inputs: "
        r"expected \(3, 4\)",
    ):
        net.forward(np.zeros((2, 1)))
    net = MLP([2, 4, 3])
    net.params["W1"] = np.zeros((5, 2))
    with pytest.raises(ValueError, match=r"W1 has shape \(5, 2\) but layer 1 has 4 units"):
        net.forward(np.zeros((2, 1)))
    net = MLP([2, 4, 3])
    net.params["b1"] = np.zeros(4)
    with pytest.raises(ValueError, match=r"b1 has shape \(4,\).*expected \(4, 1\)"):
        net.forward(np.zeros((2, 1)))
    net = MLP([2, 4, 3])
    del net.params["b2"]
    with pytest.raises(ValueError, match="params has no 'b2'"):
        net.forward(np.zeros((2, 1)))


def test_input_errors():
    net = MLP([3, 4, 2], output="softmax", loss="cross_entropy")
    with pytest.raises(ValueError, match=r"samples look like rows; pass X.T"):
        net.forward(np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"use X.reshape\(3, 1\)"):
        net.forward(np.zeros(3))
    with pytest.raises(ValueError, match=r"non-finite value.*\(1, 2\)"):
        bad = np.zeros((3, 4))
        bad[1, 2] = np.nan
        net.forward(bad)
    with pytest.raises(
        ValueError,
        match=r"label 2 but the network has 2 output classes: "
        r"labels must be in 0..1",
    ):
        net.gradients(np.zeros((3, 3)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"Y has shape \(2, 5\).*expected \(2, 3\)"):
        net.loss(np.zeros((3, 3)), np.zeros((2, 5)))
    with pytest.raises(ValueError, match="must be integers"):
        net.loss(np.zeros((3, 2)), np.array([0.5, 1.0]))
    sig = MLP([1, 1], output="sigmoid", loss="bce")
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 1\]"):
        sig.loss(np.zeros((1, 2)), np.array([[0.0, 2.0]]))
    with pytest.raises(RuntimeError, match="call forward"):
        MLP([1, 1]).backward(np.zeros((1, 1)))


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(sizes=[3]), ValueError, "at least two positive integer widths"),
        (dict(sizes=[3, 0, 1]), ValueError, r"sizes\[1\] must be a positive integer, got 0"),
        (dict(sizes="abc"), TypeError, r"sizes must be a list or tuple.*e.g. sizes=\[2, 3, 1\]"),
        (dict(sizes=[2.5, 1]), TypeError, r"sizes\[0\] must be a positive integer, got 2.5"),
        (dict(sizes=[True, 1]), TypeError, r"sizes\[0\] must be a positive integer, got True"),
        (dict(sizes=[2, 1], hidden="relu6"), ValueError, "hidden must be one of .*, got 'relu6'"),
        (dict(sizes=[2, 1], hidden=3), TypeError, "hidden must be a string"),
        (dict(sizes=[2, 1], hidden="identity"), ValueError, "collapses to one linear map"),
        (dict(sizes=[2, 1], output="identity", loss="bce"), ValueError, "does not fit output"),
        (dict(sizes=[2, 1], output="softmax", loss="cross_entropy"), ValueError, "at least 2"),
        (dict(sizes=[2, 1], l2=-1.0), ValueError, "l2 must be a non-negative number, got -1.0"),
        (dict(sizes=[2, 1], l2="0.1"), TypeError, "l2 must be a non-negative number, got '0.1'"),
        (dict(sizes=[2, 1], init="ones"), ValueError, "init must be one of .*, got 'ones'"),
        (dict(sizes=[2, 1], init=None), TypeError, "init must be a string"),
        (dict(sizes=[2, 1], dtype=np.int64), TypeError, "dtype must be a floating type"),
    ],
)
def test_constructor_errors(kwargs, error, message):
    sizes = kwargs.pop("sizes")
    with pytest.raises(error, match=message):
        MLP(sizes, **kwargs)


def test_step_needs_an_optimizer():
    net = MLP([2, 1])
    with pytest.raises(
        TypeError, match=r"optimizer must be an optimizer, got 'sgd'.*SGD\(lr=0.1\)"
    ):
        net.step(np.zeros((2, 3)), np.zeros((1, 3)), "sgd")


def test_inputs_of_the_wrong_kind_are_type_errors():
    net = MLP([2, 2], output="softmax", loss="cross_entropy")
    with pytest.raises(TypeError, match="X must be an array of real numbers"):
        net.forward(np.array([["a", "b"]] * 2))
    with pytest.raises(TypeError, match="Y must be an array of real numbers"):
        net.loss(np.zeros((2, 2)), np.array(["0", "1"]))
    with pytest.raises(ValueError, match="X must be an array of a regular shape"):
        net.forward([[1.0, 2.0], [3.0]])


def test_step_is_one_gradient_step_and_leaves_returned_gradients_alone():
    from course.optim import SGD

    kw = dict(hidden="tanh", output="softmax", loss="cross_entropy", l2=0.01, seed=5)
    net, ref = MLP([3, 4, 3], **kw), MLP([3, 4, 3], **kw)
    X, y = np.random.default_rng(5).normal(size=(3, 6)), np.array([0, 1, 2, 2, 1, 0])
    kept = net.gradients(X, y)
    kept_copy = {k: v.copy() for k, v in kept.items()}
    for _ in range(3):
        g = ref.gradients(X, y)
        for k in ref.params:
            ref.params[k] -= 0.3 * g[k]
        net.step(X, y, SGD(lr=0.3))
    for k in net.params:
        np.testing.assert_allclose(net.params[k], ref.params[k], rtol=1e-13)
        np.testing.assert_array_equal(kept[k], kept_copy[k])  # not reused as a buffer
