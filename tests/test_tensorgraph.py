"""Tests of course.tensorgraph: every backward rule against centred finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from course.gradcheck import numerical_gradient, relative_error
from course.tensorgraph import Tensor, backward, dot, graph_edges, graph_nodes


def check_sweep(build, arrays, G):
    """Sweep the graph build(*leaves) from the upstream gradient G; compare every leaf's .grad
    with finite differences of J = sum(G * output), the output rebuilt from the arrays."""
    leaves = [Tensor(a, label=f"a{i}") for i, a in enumerate(arrays)]
    out = build(*leaves)
    out.backward(G)
    for leaf, array in zip(leaves, arrays, strict=True):

        def cost():
            return float(np.sum(G * build(*[Tensor(a) for a in arrays]).data))

        numeric = numerical_gradient(cost, array)
        assert leaf.grad.shape == array.shape
        assert relative_error(leaf.grad, numeric) < 1e-7


RNG = np.random.default_rng(0)


@pytest.mark.parametrize(
    ("name", "build", "shapes", "out_shape"),
    [
        ("matmul", lambda a, b: a @ b, [(4, 3), (3, 5)], (4, 5)),
        ("add, bias row (h,)", lambda a, b: a + b, [(4, 5), (5,)], (4, 5)),
        ("add, bias column (h, 1)", lambda a, b: a + b, [(5, 4), (5, 1)], (5, 4)),
        ("add, scalar", lambda a, b: a + b, [(), ()], ()),
        ("mul, scalar times matrix", lambda a, b: a * b, [(), (3, 2)], (3, 2)),
        ("relu", lambda a: a.relu(), [(4, 5)], (4, 5)),
        ("sigmoid", lambda a: a.sigmoid(), [(3, 2)], (3, 2)),
        ("square", lambda a: a.square(), [(3, 1)], (3, 1)),
        ("sum", lambda a: a.sum(), [(3, 2)], ()),
        ("dot", lambda a, b: dot(a, b), [(3, 1), (3, 1)], ()),
        ("ReLU layer in rows", lambda X, W, b: (X @ W + b).relu(), [(4, 3), (3, 5), (5,)], (4, 5)),
        (
            "logistic prediction",
            lambda x, w, b: (dot(x, w) + b).sigmoid(),
            [(3, 1), (3, 1), ()],
            (),
        ),
    ],
)
def test_every_rule_matches_finite_differences(name, build, shapes, out_shape):
    arrays = [RNG.normal(size=s) for s in shapes]
    if name == "relu" or name.startswith("ReLU"):
        arrays[0] += np.sign(arrays[0]) * 0.05  # keep every entry away from the kink
    G = RNG.normal(size=out_shape)
    check_sweep(build, arrays, G)


def test_scalar_output_starts_from_one_and_matches_the_scalar_rule():
    x, y = Tensor(2.0), Tensor(-3.0)
    z = x * y
    z.backward()
    assert (float(x.grad), float(y.grad), float(z.grad)) == (-3.0, 2.0, 1.0)


def test_two_outputs_the_shares_add_at_the_branch():
    x = Tensor(np.array([[1.0], [2.0], [-1.0]]))
    w = Tensor(np.array([[0.5], [-1.0], [2.0]]))
    lam = Tensor(0.1)
    yhat = dot(x, w)
    penalty = w.square().sum() * lam
    backward({yhat: 3.0})
    alone_prediction = w.grad.copy()
    backward({penalty: 1.0})
    alone_penalty = w.grad.copy()
    backward({yhat: 3.0, penalty: 1.0})
    # worked by hand: 3 x and 2 * 0.1 * w
    assert np.allclose(alone_prediction, [[3.0], [6.0], [-3.0]], rtol=0, atol=1e-15)
    assert np.allclose(alone_penalty, [[0.1], [-0.2], [0.4]], rtol=0, atol=1e-15)
    assert np.allclose(w.grad, [[3.1], [5.8], [-2.6]], rtol=0, atol=1e-15)


def test_a_second_sweep_starts_from_zero():
    a = Tensor(np.ones((2, 2)))
    s = (a * a).sum()
    s.backward()
    s.backward()
    assert np.array_equal(a.grad, 2 * np.ones((2, 2)))


def test_nodes_in_creation_order_and_edges_with_slots():
    X, W = Tensor(np.ones((2, 3)), label="X"), Tensor(np.ones((3, 4)), label="W")
    U = X @ W
    H = U.relu()
    assert graph_nodes(H) == [X, W, U, H]
    assert list(graph_edges(H)) == [(U, H, 0), (X, U, 0), (W, U, 1)]
    assert graph_nodes([U, H]) == [X, W, U, H]


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: Tensor(np.ones((4, 3)), "X") @ Tensor(np.ones((4, 5)), "W"), "inner sizes"),
        (lambda: Tensor(np.ones((4, 5))) + Tensor(np.ones((4,))), "do not broadcast"),
        (lambda: dot(Tensor(np.ones((3, 1))), Tensor(np.ones((2, 1)))), "same shape"),
        (lambda: dot(Tensor(np.ones((3, 2))), Tensor(np.ones((3, 2)))), "two vectors"),
        (lambda: Tensor([1.0, np.nan]), "nan or inf"),
    ],
)
def test_bad_shapes_and_values_get_clear_errors(make, words):
    with pytest.raises(ValueError, match=words):
        make()


def test_bad_arguments_are_type_errors():
    a = Tensor(np.ones((2, 2)))
    with pytest.raises(TypeError, match="wrap a constant"):
        a * 2.0
    with pytest.raises(TypeError, match="a Tensor"):
        Tensor(a)
    with pytest.raises(TypeError, match="dict"):
        backward([a])


def test_upstream_gradient_must_have_the_output_shape():
    H = Tensor(np.ones((4, 5))).relu()
    with pytest.raises(ValueError, match=r"shape \(5, 4\).*shape \(4, 5\)"):
        H.backward(np.ones((5, 4)))
