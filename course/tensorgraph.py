"""Computational graphs whose nodes are arrays: a node may be a scalar, vector, matrix or tensor.

The lectures define a node as a variable of any type. :mod:`course.graph` keeps every node a
number, so each edge can store its local partial derivative. Here a node holds a numpy array
``data`` and, after a backward sweep, a gradient ``grad`` **of the same shape** (the gradient of a
scalar cost by a matrix is a matrix). The local derivative of an edge would now be a Jacobian
tensor (for ``U = X @ W`` it has ``m * h * n * h`` entries, almost all zero, as notebook 05
shows), so an operation stores instead its *vector-Jacobian product*: the rule that turns the
upstream gradient of its result into the gradient it sends to each argument, written beside the
forward computation::

    U = X @ W     sends  dX = dU @ W.T   and  dW = X.T @ dU
    Y = A + b     sends  dA = dY         and  db = dY summed over the axes b was broadcast along
    H = relu(Z)   sends  dZ = dH * (Z > 0)

The sweep is Algorithm 4 again: visit the nodes from the last one created to the first and add
each rule's contribution into the parents' ``.grad``. A graph may have several outputs (a
prediction and a penalty): :func:`backward` starts from each with its own upstream gradient, and
where paths meet, at a branch, their contributions add.

Every sweep starts every node of the graph from zero (unlike :class:`course.graph.Value`, whose
leaves accumulate), so ``.grad`` always holds the gradients of the last sweep alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from itertools import count
from typing import Any

import numpy as np

__all__ = ["Tensor", "dot", "backward", "graph_nodes", "graph_edges"]

_creation = count()

# the rule of an operation: upstream gradient of its result -> one gradient per argument
_Rule = Callable[[np.ndarray], tuple[np.ndarray, ...]]


def _shape_text(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``g`` over the axes along which an argument of ``shape`` was broadcast."""
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


class Tensor:
    """One node of a computational graph whose value is an array (scalar, vector or matrix).

    Parameters
    ----------
    data:
        The value: a number or an array-like, stored as a float64 array (a copy). A number is a
        scalar node of shape ``()``.
    label:
        A name used by the drawings (:func:`course.viz.draw_array_graph`), e.g. ``"X"``.

    Attributes
    ----------
    data, grad:
        Arrays of the same shape; ``grad`` is filled by :meth:`backward` or :func:`backward`.
    op, parents:
        The operation that computed the node (``""`` for a leaf) and its arguments in order.
    """

    __slots__ = ("data", "grad", "label", "op", "parents", "_rule", "_index")

    def __init__(self, data: Any, label: str = "") -> None:
        if isinstance(data, Tensor):
            raise TypeError(
                "Tensor: data must be a number or an array, got a Tensor: use the Tensor "
                "itself, or Tensor(t.data) for a new leaf with the same values"
            )
        array = np.array(data, dtype=np.float64)
        if not np.all(np.isfinite(array)):
            raise ValueError(f"Tensor {label!r}: data holds nan or inf; pass finite numbers")
        self.data = array
        self.grad = np.zeros_like(array)
        self.label = label
        self.op = ""
        self.parents: tuple[Tensor, ...] = ()
        self._rule: _Rule | None = None
        self._index = next(_creation)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @staticmethod
    def _node(data: np.ndarray, parents: tuple[Tensor, ...], rule: _Rule, op: str) -> Tensor:
        out = Tensor(data)
        out.op, out.parents, out._rule = op, parents, rule
        return out

    def _name(self) -> str:
        return self.label or (f"the result of {self.op}" if self.op else "a leaf")

    # -- operations, each with its backward rule ----

    def __matmul__(self, other: Tensor) -> Tensor:
        a, b = self, _as_tensor(other, "@")
        if a.data.ndim != 2 or b.data.ndim != 2 or a.shape[1] != b.shape[0]:
            raise ValueError(
                f"matmul: {a._name()} has shape {_shape_text(a.shape)} and {b._name()} "
                f"{_shape_text(b.shape)}; A @ B needs two matrices whose inner sizes agree "
                f"(columns of the first = rows of the second)"
            )
        return Tensor._node(
            a.data @ b.data,
            (a, b),
            lambda g: (g @ b.data.T, a.data.T @ g),
            "matmul",
        )

    def __add__(self, other: Tensor) -> Tensor:
        a, b = self, _as_tensor(other, "+")
        _broadcast_shape(a, b, "+")
        return Tensor._node(
            a.data + b.data,
            (a, b),
            lambda g: (_unbroadcast(g, a.shape), _unbroadcast(g, b.shape)),
            "+",
        )

    def __mul__(self, other: Tensor) -> Tensor:
        a, b = self, _as_tensor(other, "*")
        _broadcast_shape(a, b, "*")
        return Tensor._node(
            a.data * b.data,
            (a, b),
            lambda g: (_unbroadcast(g * b.data, a.shape), _unbroadcast(g * a.data, b.shape)),
            "×",
        )

    def relu(self) -> Tensor:
        """``max(0, x)`` element by element; local gradient 0 at exactly 0."""
        on = self.data > 0
        return Tensor._node(np.where(on, self.data, 0.0), (self,), lambda g: (g * on,), "relu")

    def sigmoid(self) -> Tensor:
        """``1 / (1 + exp(-x))`` element by element; local gradient ``s (1 - s)``."""
        s = 0.5 * (1.0 + np.tanh(0.5 * self.data))  # overflow-free form of the logistic
        return Tensor._node(s, (self,), lambda g: (g * s * (1.0 - s),), "σ")

    def square(self) -> Tensor:
        """``x**2`` element by element (the slides' ``sqr``); local gradient ``2x``."""
        x = self.data
        return Tensor._node(x * x, (self,), lambda g: (2.0 * x * g,), "sqr")

    def sum(self) -> Tensor:
        """The sum of all entries, a scalar node; every entry receives the upstream gradient."""
        shape = self.shape
        return Tensor._node(
            np.array(self.data.sum()), (self,), lambda g: (np.full(shape, float(g)),), "sum"
        )

    # -- the backward sweep ----

    def backward(self, grad: Any = None) -> None:
        """Sweep back from this node; ``grad`` is its upstream gradient (1 for a scalar node)."""
        backward({self: 1.0 if grad is None else grad})

    def __repr__(self) -> str:
        name = f"{self.label}, " if self.label else ""
        op = f", op={self.op}" if self.op else ""
        return f"Tensor({name}shape={_shape_text(self.shape)}{op})"


def dot(x: Tensor, w: Tensor) -> Tensor:
    """``x^T w`` of two vectors of the same shape, a scalar node (the slides' ``dot``).

    Backward: ``dx = g w`` and ``dw = g x``, each with the shape of its vector.
    """
    x, w = _as_tensor(x, "dot"), _as_tensor(w, "dot")
    if x.shape != w.shape or x.data.size != max(x.shape, default=1):
        raise ValueError(
            f"dot: {x._name()} has shape {_shape_text(x.shape)} and {w._name()} "
            f"{_shape_text(w.shape)}; x^T w needs two vectors of the same shape, e.g. both (n, 1)"
        )
    return Tensor._node(
        np.array(float(np.sum(x.data * w.data))),
        (x, w),
        lambda g: (float(g) * w.data, float(g) * x.data),
        "dot",
    )


def _as_tensor(t: Any, op: str) -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(
            f"{op}: both arguments must be Tensors, got {type(t).__name__}; wrap a constant "
            f"as a leaf, e.g. lam = Tensor(0.01, label='λ')"
        )
    return t


def _broadcast_shape(a: Tensor, b: Tensor, op: str) -> tuple[int, ...]:
    try:
        return np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(
            f"{op}: {a._name()} has shape {_shape_text(a.shape)} and {b._name()} "
            f"{_shape_text(b.shape)}, which do not broadcast; a bias of a (m, h) matrix has "
            "shape (h,) or (1, h) in rows, (h, 1) in columns"
        ) from None


def graph_nodes(outputs: Tensor | list[Tensor]) -> list[Tensor]:
    """Every node the outputs depend on (the outputs too), in creation order ``u_1 ... u_n``."""
    roots = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    for r in roots:
        _as_tensor(r, "graph_nodes")
    seen = set(roots)
    stack = list(roots)
    while stack:
        for parent in stack.pop().parents:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return sorted(seen, key=lambda v: v._index)


def graph_edges(outputs: Tensor | list[Tensor]) -> Iterator[tuple[Tensor, Tensor, int]]:
    """Every edge ``(parent, child, k)`` below the outputs, ``k`` the argument slot."""
    for node in reversed(graph_nodes(outputs)):
        for k, parent in enumerate(node.parents):
            yield parent, node, k


def backward(seeds: Mapping[Tensor, Any]) -> None:
    """Algorithm 4 from one or several outputs at once.

    ``seeds`` maps each output to its upstream gradient ``dJ/d(output)`` (an array of the
    output's shape, or 1.0 for a scalar output that is itself the cost). Every node below the
    outputs starts from zero; each node, visited after all nodes computed from it, sends its rule's
    contributions to its parents, which add up where paths meet.
    """
    if not isinstance(seeds, Mapping) or not seeds:
        raise TypeError(
            "backward: pass a dict {output: upstream gradient}, e.g. {J: 1.0} or "
            "{yhat: dyhat, penalty: 1.0}"
        )
    nodes = graph_nodes(list(seeds))
    for v in nodes:
        v.grad = np.zeros_like(v.data)
    for out, g in seeds.items():
        g = np.asarray(g, dtype=np.float64)
        if g.shape != out.shape and not (g.ndim == 0 and out.data.size == 1):
            raise ValueError(
                f"backward: the upstream gradient of {out._name()} has shape "
                f"{_shape_text(g.shape)} but the node has shape {_shape_text(out.shape)}: a "
                "gradient has the shape of its variable"
            )
        out.grad = out.grad + np.broadcast_to(g, out.shape)
    for v in reversed(nodes):
        if v._rule is None:
            continue
        for parent, contribution in zip(v.parents, v._rule(v.grad), strict=True):
            assert contribution.shape == parent.shape, (v.op, contribution.shape, parent.shape)
            parent.grad = parent.grad + contribution
