"""Gradients compared with torch.autograd, an oracle written by other people.

PyTorch is an optional extra. Without it these tests are reported as skipped; CI installs it
and sets COURSE_REQUIRE_TORCH=1, which turns a missing torch into a failure.
"""

from __future__ import annotations

import os
import random

import numpy as np
import pytest

from course.activations import HIDDEN_ACTIVATIONS
from course.gradcheck import relative_error
from course.graph import Value, maximum
from course.losses import OUTPUT_LOSSES
from course.mlp import MLP

if os.environ.get("COURSE_REQUIRE_TORCH") == "1":
    import torch  # a missing torch fails loudly in CI
else:
    torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch
F = torch.nn.functional

TORCH_ACT = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, negative_slope=0.1),
    "elu": lambda z: F.elu(z, alpha=1.0),
    "softplus": lambda z: F.softplus(z, beta=1.0, threshold=1e9),
    "swish": F.silu,
}


def t64(a):
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=True)


# -- the scalar engine ------------------------------------------------------------------------

ENGINE_CASES = {
    "x*y+z": (lambda x, y, z: x * y + z),
    "(x+y)*z": (lambda x, y, z: (x + y) * z),
    "x/y-z": (lambda x, y, z: x / y - z),
    "exp-log": (lambda x, y, z: (x * 0.3).exp() + (y * y + 1).log() * z),
    "sigmoid-tanh": (lambda x, y, z: (x * y).sigmoid() * z.tanh()),
    "relu-pow": (lambda x, y, z: (x - y).relu() ** 2 + z**3),
    "reciprocal": (lambda x, y, z: 1 / (1 + (-(x * y + z)).exp())),
    "rsub-rpow": (lambda x, y, z: (2 - x) * 1.5**y - z),
}


def _torch_max(a, b):
    return torch.maximum(a, b)


@pytest.mark.parametrize("name", sorted(ENGINE_CASES))
def test_engine_matches_autograd(name):
    fn = ENGINE_CASES[name]
    rng = random.Random(name)
    for _ in range(10):
        xs = [rng.uniform(-2, 2), rng.choice([-1, 1]) * rng.uniform(0.5, 2), rng.uniform(-2, 2)]
        vs = [Value(x) for x in xs]
        out = fn(*vs)
        out.backward()
        ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
        tout = fn(*ts) if name not in ("exp-log", "sigmoid-tanh") else _torch_version(name, *ts)
        tout.backward()
        assert out.data == pytest.approx(tout.item(), rel=1e-12)
        assert relative_error([v.grad for v in vs], [t.grad.item() for t in ts]) < 1e-12


def _torch_version(name, x, y, z):
    if name == "exp-log":
        return torch.exp(x * 0.3) + torch.log(y * y + 1) * z
    return torch.sigmoid(x * y) * torch.tanh(z)


def test_engine_max_and_kinks_agree_with_torch():
    for a, b in [(1.0, 2.0), (3.0, -1.0), (1.5, 1.5)]:
        va, vb = Value(a), Value(b)
        (maximum(va, vb) * 3).backward()
        ta, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a, b))
        (_torch_max(ta, tb) * 3).backward()
        assert (va.grad, vb.grad) == (ta.grad.item(), tb.grad.item())
    v = Value(0.0)
    v.relu().backward()
    t = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    torch.relu(t).backward()
    assert v.grad == t.grad.item() == 0.0


def _scalar(x):
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def test_repeated_sweeps_match_autograd():
    # leaves accumulate over sweeps as in torch; an intermediate node holds the gradient of the
    # latest sweep, which torch gives by autograd.grad (it keeps no .grad on intermediates)
    for a0 in (1.5, -0.7):
        a = Value(a0)
        b = a * a
        c = b * b + b
        ta = _scalar(a0)
        tb = ta * ta
        tc = tb * tb + tb
        for _ in range(3):
            c.backward()
            tc.backward(retain_graph=True)
            (dc_db,) = torch.autograd.grad(tc, tb, retain_graph=True)
            assert a.grad == pytest.approx(ta.grad.item(), rel=1e-14)
            assert b.grad == pytest.approx(dc_db.item(), rel=1e-14)


def test_two_roots_sharing_leaves_match_autograd():
    for x0, y0 in [(0.4, 1.2), (-1.1, 0.3)]:
        x, y = Value(x0), Value(y0)
        m = x * y
        roots = [(m * x).tanh(), m.exp() + y, (m + 1) * (y - x)]
        tx, ty = _scalar(x0), _scalar(y0)
        tm = tx * ty
        troots = [torch.tanh(tm * tx), torch.exp(tm) + ty, (tm + 1) * (ty - tx)]
        for r, tr in zip(roots, troots):
            r.backward()
            tr.backward(retain_graph=True)
            assert (x.grad, y.grad) == pytest.approx((tx.grad.item(), ty.grad.item()), rel=1e-13)
            (dr_dm,) = torch.autograd.grad(tr, tm, retain_graph=True)
            assert m.grad == pytest.approx(dr_dm.item(), rel=1e-13)
        # a leaf swept by itself adds 1, as torch does
        x.backward()
        tx.backward()
        assert x.grad == pytest.approx(tx.grad.item(), rel=1e-13)


# -- activations ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", HIDDEN_ACTIVATIONS)
def test_activation_derivatives_match_autograd(name):
    from course.activations import ACTIVATIONS

    z = np.random.default_rng(0).uniform(-5, 5, size=(6, 7))
    tz = t64(z)
    TORCH_ACT[name](tz).sum().backward()
    act = ACTIVATIONS[name]
    np.testing.assert_allclose(act.f(z), TORCH_ACT[name](t64(z)).detach().numpy(), rtol=1e-12)
    assert relative_error(act.prime(z, act.f(z)), tz.grad.numpy()) < 1e-12


# -- whole networks ---------------------------------------------------------------------------


def torch_cost(net: MLP, X, Y, params):
    """The same network and cost written with torch operations."""
    a = torch.tensor(X, dtype=torch.float64)
    for l in net.layers:
        z = params[f"W{l}"] @ a + params[f"b{l}"]
        a = TORCH_ACT[net.activation.name](z) if l < net.L else z
    z = a
    m = X.shape[1]
    out, loss = net.head.output, net.head.loss
    if out == "softmax":
        data = F.cross_entropy(z.T, torch.tensor(Y, dtype=torch.long), reduction="mean")
    else:
        t = torch.tensor(Y, dtype=torch.float64)
        if loss == "bce":
            data = F.binary_cross_entropy_with_logits(z, t, reduction="sum") / m
        else:
            yhat = torch.sigmoid(z) if out == "sigmoid" else z
            data = 0.5 * ((yhat - t) ** 2).sum() / m
    decay = sum((params[f"W{l}"] ** 2).sum() for l in net.layers)
    return data + net.l2 * decay


CASES = [
    pytest.param(h, pair, depth, m, id=f"{h}-{'+'.join(pair)}-depth{depth}-m{m}")
    for depth in (1, 2, 3, 4)
    for h in (HIDDEN_ACTIVATIONS if depth > 1 else ("relu",))
    for pair in sorted(OUTPUT_LOSSES)
    for m in (1, 6)
]


@pytest.mark.parametrize("hidden, pair, depth, m", CASES)
def test_mlp_gradients_match_autograd(hidden, pair, depth, m):
    sizes = [4, 5, 3, 4][:depth] + [3]
    net = MLP(sizes, hidden=hidden, output=pair[0], loss=pair[1], l2=0.01, seed=depth)
    rng = np.random.default_rng(depth * 10 + m)
    for k in net.params:
        if k.startswith("b"):
            net.params[k][...] = rng.normal(scale=0.3, size=net.params[k].shape)
    X = rng.normal(size=(sizes[0], m))
    if pair[0] == "softmax":
        Y = rng.integers(0, sizes[-1], size=m)
    elif pair[1] == "bce":
        Y = rng.integers(0, 2, size=(sizes[-1], m)).astype(float)
    else:
        Y = rng.normal(size=(sizes[-1], m))
    ours = net.gradients(X, Y)
    params = {k: t64(v) for k, v in net.params.items()}
    cost = torch_cost(net, X, Y, params)
    cost.backward()
    assert net.loss(X, Y) == pytest.approx(cost.item(), rel=1e-12)
    for k in ours:
        assert relative_error(ours[k], params[k].grad.numpy()) < 1e-10, k


def test_2_2_1_example_against_autograd():
    net = MLP([2, 2, 1], hidden="sigmoid", output="sigmoid", loss="half_sse")
    net.params["W1"][...] = [[0.1, 0.8], [0.4, 0.6]]
    net.params["W2"][...] = [[0.3, 0.9]]
    X, Y = np.array([[0.35], [0.9]]), np.array([[0.5]])
    ours = net.gradients(X, Y)
    params = {k: t64(v) for k, v in net.params.items()}
    torch_cost(net, X, Y, params).backward()
    for k in ours:
        np.testing.assert_allclose(ours[k], params[k].grad.numpy(), rtol=1e-12, atol=1e-18)


# -- the layers, one at a time ------------------------------------------------------------------


def test_affine_layer_matches_autograd():
    from course.layers import affine_backward, affine_forward

    rng = np.random.default_rng(21)
    A, W, b, G = (rng.normal(size=s) for s in ((4, 6), (3, 4), (3, 1), (3, 6)))
    Z, cache = affine_forward(A, W, b)
    dA, dW, db = affine_backward(G, cache)
    tA, tW, tb = t64(A), t64(W), t64(b)
    # torch's Linear works on rows: Z.T = A.T W.T + b.T
    tZ = F.linear(tA.T, tW, tb[:, 0]).T
    (tZ * torch.from_numpy(G)).sum().backward()
    np.testing.assert_allclose(Z, tZ.detach().numpy(), rtol=1e-14)
    for ours, theirs in ((dA, tA), (dW, tW), (db, tb)):
        assert relative_error(ours, theirs.grad.numpy()) < 1e-13


@pytest.mark.parametrize("name", HIDDEN_ACTIVATIONS)
def test_activation_layers_match_autograd(name):
    from course.layers import activation_backward, activation_forward

    rng = np.random.default_rng(22)
    Z = rng.normal(scale=3.0, size=(5, 4))
    G = rng.normal(size=Z.shape)
    A, cache = activation_forward(Z, name)
    dZ = activation_backward(G, cache)
    tZ = t64(Z)
    tA = TORCH_ACT[name](tZ)
    (tA * torch.from_numpy(G)).sum().backward()
    np.testing.assert_allclose(A, tA.detach().numpy(), rtol=1e-13, atol=1e-300)
    assert relative_error(dZ, tZ.grad.numpy()) < 1e-12


@pytest.mark.parametrize("pair", sorted(OUTPUT_LOSSES))
def test_output_loss_layers_match_autograd(pair):
    from course.layers import output_loss_backward, output_loss_forward

    output, loss = pair
    rng = np.random.default_rng(23)
    K, m = 4, 5
    Z = rng.normal(scale=4.0, size=(K, m))
    if output == "softmax":
        y = rng.integers(0, K, size=m)
        T = np.eye(K)[:, y]
    elif loss == "bce":
        T = rng.integers(0, 2, size=(K, m)).astype(float)
    else:
        T = rng.random((K, m))
    J, cache = output_loss_forward(Z, T, output, loss)
    dZ = output_loss_backward(1.0, cache)
    tZ, tT = t64(Z), torch.from_numpy(T)
    if output == "softmax":
        tJ = F.cross_entropy(tZ.T, torch.from_numpy(y))
    elif loss == "bce":
        tJ = F.binary_cross_entropy_with_logits(tZ, tT, reduction="sum") / m
    else:
        yhat = tZ if output == "identity" else torch.sigmoid(tZ)
        tJ = 0.5 * ((yhat - tT) ** 2).sum() / m
    tJ.backward()
    assert J == pytest.approx(tJ.item(), rel=1e-13)
    assert relative_error(dZ, tZ.grad.numpy()) < 1e-12
