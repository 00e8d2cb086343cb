"""Scalar computational graphs: forward (Algorithm 3) and reverse-mode backward (Algorithm 4).

Every :class:`Value` is a node ``u_i`` of the lecture's graph. It remembers

* ``data``: its forward value ``u_i = f_i(a_i)``,
* ``_prev``: its parents (the argument list ``a_i``),
* ``_local``: the local partial derivative ``d f_i / d a_{i, pi(i, j)}`` along each edge, computed
  once, during the forward pass, right where the operation is defined,
* ``_op``: the gate's name as the slides draw it (``+``, ``*``, ``*-1``, ``1/x``, ``exp``, ...).

The backward sweep is then Algorithm 4 read literally: visit the nodes from the last one created
down to the first, and for every edge add ``local gradient * upstream gradient`` to the parent.
A node created later can only depend on nodes created earlier, so the creation index *is* the
partial order of the lecture; the sweep needs no recursion, and a chain of a million nodes works.

Sweeping again gives a right answer, by PyTorch's rules (:meth:`Value.backward`): the leaves
(nodes without parents: weights, inputs) accumulate over sweeps, while every intermediate node
starts each sweep from 0 and the swept node from 1. So ``loss.backward()`` twice leaves twice
the gradient on the weights and the right one everywhere else; :func:`zero_grad` resets the
leaves between steps of training. (micrograd adds into every node, intermediate ones included,
so there a second sweep without zeroing every node gives wrong gradients.)

The class is API-compatible with micrograd's ``Value`` (``Value(x)``, ``.data``, ``.grad``,
``+ - * / **`` with numbers on either side, unary minus, ``.relu()``, ``.backward()``).
Constants never become nodes: ``x * 3`` is a one-input gate ``*3`` with local gradient 3,
exactly the ``ax`` and ``x + C`` gates of the sigmoid example.

Kinks: ``relu`` has local gradient 0 at exactly 0; ``maximum(a, b)`` routes the whole upstream
gradient to the larger input and splits it in half between the two on a tie (the average of the
two one-sided derivatives, which is also what ``torch.maximum`` does).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import count
from numbers import Real
from operator import attrgetter

from course import arguments

__all__ = [
    "Value",
    "maximum",
    "BackwardStep",
    "backward_steps",
    "topological_order",
    "edges",
    "zero_grad",
]

Number = int | float
_creation = count()  # creation index of every node: the order of the backward sweep


class Value:
    """One node ``u_i`` of a scalar computational graph.

    Parameters
    ----------
    data:
        The forward value of the node (a Python number).
    label:
        An optional name used when the graph is drawn or its backward sweep is printed.
    """

    __slots__ = ("data", "grad", "label", "_prev", "_local", "_op", "_index")

    def __init__(
        self,
        data: Number,
        _children: tuple[Value, ...] = (),
        _op: str = "",
        _local: tuple[float, ...] = (),
        label: str = "",
    ) -> None:
        if isinstance(data, bool) or not isinstance(data, Real):
            fix = (
                "use the Value itself, or Value(v.data) for a new leaf with the same number"
                if isinstance(data, Value)
                else "pass e.g. Value(2.0)"
            )
            shown = repr(data) if len(repr(data)) <= 60 else repr(data)[:57] + "..."
            raise TypeError(
                f"Value: data must be a number (int or float), got {shown} of type "
                f"{type(data).__name__}: {fix}"
            )
        self.data = data
        self.grad = 0.0
        self.label = label
        self._prev = tuple(_children)
        # Leaves built by a user get a unit local gradient for nothing (they have no edges).
        self._local = _local if _local else (1.0,) * len(self._prev)
        self._op = _op
        self._index = next(_creation)

    # -- construction of result nodes (the hot path: no validation, no closures) ----

    @staticmethod
    def _node(data: float, prev: tuple[Value, ...], local: tuple[float, ...], op: str) -> Value:
        out = _new(Value)
        out.data = data
        out.grad = 0.0
        out.label = ""
        out._prev = prev
        out._local = local
        out._op = op
        out._index = next(_creation)
        return out

    # -- binary gates ----

    def __add__(self, other: Value | Number) -> Value:
        # add gate: d(a+b)/da = 1, d(a+b)/db = 1  -> "distributes" the upstream gradient
        if isinstance(other, Value):
            return _node(self.data + other.data, (self, other), (1.0, 1.0), "+")
        return _node(self.data + other, (self,), (1.0,), ("+{}", other))

    __radd__ = __add__

    def __mul__(self, other: Value | Number) -> Value:
        # multiply gate: d(ab)/da = b, d(ab)/db = a  -> "switches" the inputs
        if isinstance(other, Value):
            return _node(self.data * other.data, (self, other), (other.data, self.data), "*")
        return _node(self.data * other, (self,), (other,), ("*{}", other))

    __rmul__ = __mul__

    def __sub__(self, other: Value | Number) -> Value:
        # d(a-b)/da = 1, d(a-b)/db = -1
        if isinstance(other, Value):
            return _node(self.data - other.data, (self, other), (1.0, -1.0), "-")
        return _node(self.data - other, (self,), (1.0,), ("-{}", other))

    def __rsub__(self, other: Number) -> Value:
        # c - a: local gradient -1
        return _node(other - self.data, (self,), (-1.0,), ("{}-x", other))

    def __truediv__(self, other: Value | Number) -> Value:
        # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
        if isinstance(other, Value):
            b = other.data
            return _node(self.data / b, (self, other), (1.0 / b, -self.data / (b * b)), "/")
        return _node(self.data / other, (self,), (1.0 / other,), ("/{}", other))

    def __rtruediv__(self, other: Number) -> Value:
        # c / a: the reciprocal gate of the slides (c = 1), local gradient -c/a^2
        a = self.data
        return _node(other / a, (self,), (-other / (a * a),), ("{}/x", other))

    def __pow__(self, k: Number) -> Value:
        # power gate a**k for a constant exponent: local gradient k a^(k-1)
        if isinstance(k, Value):
            raise TypeError(
                "Value ** Value is not supported: the exponent must be a number; "
                "write (a.log() * b).exp() for a variable exponent"
            )
        a = self.data
        return _node(a**k, (self,), (k * a ** (k - 1),), ("**{}", k))

    def __rpow__(self, c: Number) -> Value:
        # c ** a for a constant base c > 0: local gradient c^a ln c
        if c <= 0:
            raise ValueError(f"c ** Value needs a positive base c, got c = {c!r}")
        out = c**self.data
        return _node(out, (self,), (out * math.log(c),), ("{}**x", c))

    def __neg__(self) -> Value:
        # the slides' "*-1" gate
        return _node(-self.data, (self,), (-1.0,), "*-1")

    # -- unary gates ----

    def exp(self) -> Value:
        """``e^a``; local gradient ``e^a`` (the value itself)."""
        out = math.exp(self.data)
        return _node(out, (self,), (out,), "exp")

    def log(self) -> Value:
        """Natural logarithm ``ln a`` for ``a > 0``; local gradient ``1/a``."""
        a = self.data
        if a <= 0:
            raise ValueError(f"log needs a positive input, got {a!r}")
        return _node(math.log(a), (self,), (1.0 / a,), "log")

    def relu(self) -> Value:
        """``max(0, a)``; local gradient 1 for ``a > 0`` and 0 otherwise (0 at the kink)."""
        a = self.data
        if a > 0:
            return _node(a, (self,), (1.0,), "relu")
        return _node(0.0, (self,), (0.0,), "relu")

    def sigmoid(self) -> Value:
        """The sigmoid gate collapsed into one node: ``f = 1/(1+e^-a)``, local ``f(1-f)``."""
        a = self.data
        if a >= 0:
            f = 1.0 / (1.0 + math.exp(-a))
        else:
            e = math.exp(a)
            f = e / (1.0 + e)
        return _node(f, (self,), (f * (1.0 - f),), "sigmoid")

    def tanh(self) -> Value:
        """``tanh a``; local gradient ``1 - tanh(a)^2``."""
        t = math.tanh(self.data)
        return _node(t, (self,), (1.0 - t * t,), "tanh")

    def max(self, other: Value | Number) -> Value:
        """The max gate (see :func:`maximum`)."""
        return maximum(self, other)

    # -- Algorithm 4 ----

    def backward(self) -> None:
        """Reverse-mode sweep from this node (``du_n/du_n = 1``) to every node it depends on.

        What the sweep leaves in ``.grad`` follows PyTorch, so a second sweep is right too:

        * a **leaf** (a node without parents: a weight, an input) *accumulates*: each sweep adds
          d(this node)/d(leaf) to its ``.grad``. Two sweeps of the same graph leave twice the
          gradient; sweeps from two roots that share leaves leave the sum of their gradients
          (as for a loss summed over examples). Call :func:`zero_grad` to reset the leaves
          between steps of training;
        * every **intermediate** node (one with parents) starts each sweep from 0, so after the
          sweep its ``.grad`` is d(this node)/d(intermediate) of this sweep alone (PyTorch keeps
          no gradient there unless asked with ``retain_grad``; the drawings need this one);
        * this node starts from 1 (``du_n/du_n = 1``); a leaf swept by itself adds 1.
        """
        if self._prev:
            self.grad = 1.0
        else:
            self.grad += 1.0
        for node in _search(self, reset_intermediates=True):
            # node.grad is complete: every node computed from it came earlier in the sweep.
            # Each edge parent -> node adds local gradient x upstream gradient to the parent.
            g = node.grad
            parents, local = node._prev, node._local
            if len(parents) == 1:
                parents[0].grad += local[0] * g
            elif len(parents) == 2:
                parents[0].grad += local[0] * g
                parents[1].grad += local[1] * g
            else:  # a leaf (no edge), or a node built by hand with more parents
                for parent, d in zip(parents, local):
                    parent.grad += d * g

    # -- conveniences ----

    @property
    def op(self) -> str:
        """Name of the gate that produced this node (``""`` for a leaf), e.g. ``"*"`` or ``"+1"``.

        A gate with a constant operand keeps ``(template, constant)`` and is named only when
        asked: formatting a label for every node would cost a third of the forward pass.
        """
        op = self._op
        return op if isinstance(op, str) else op[0].format(_fmt(op[1]))

    @property
    def parents(self) -> tuple[Value, ...]:
        """The argument list ``a_i`` of this node, in argument order."""
        return self._prev

    @property
    def local_grads(self) -> tuple[float, ...]:
        """``d f_i / d a_{i,k}`` for each argument ``k``, in argument order."""
        return self._local

    def __repr__(self) -> str:
        name = f"{self.label}, " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"


_new = object.__new__
_node = Value._node


def _fmt(c: Number) -> str:
    return f"{c:g}" if isinstance(c, float) else str(c)


def maximum(a: Value | Number, b: Value | Number) -> Value:
    """The max gate ``max(a, b)``: it routes the upstream gradient to the larger input.

    On a tie (``a == b``) each input receives half of the upstream gradient.
    """
    if not isinstance(a, Value):
        if not isinstance(b, Value):
            raise TypeError("maximum needs at least one Value; for two numbers use max()")
        a, b = b, a
    if not isinstance(b, Value):
        x = a.data
        local = 1.0 if x > b else (0.5 if x == b else 0.0)
        return _node(x if x >= b else float(b), (a,), (local,), ("max(x,{})", b))
    x, y = a.data, b.data
    if x > y:
        local = (1.0, 0.0)
    elif x < y:
        local = (0.0, 1.0)
    else:
        local = (0.5, 0.5)
    return _node(x if x >= y else y, (a, b), local, "max")


def topological_order(root: Value) -> list[Value]:
    """Every node ``root`` depends on (itself included), latest created first.

    This is the order of Algorithm 4's loop ``for j = n-1 down to 1``: a node always comes
    before each of its parents. The graph is explored with an explicit stack, not recursion.
    """
    _check_root(root, "topological_order")
    return _search(root, reset_intermediates=False)


def _check_root(root: object, fn: str) -> None:
    arguments.instance(
        "root",
        root,
        Value,
        what="a Value (the output node of an expression)",
        fix="build the expression from Values first, e.g. f = Value(2.0) * Value(3.0)",
        caller=fn,
    )


def _search(root: Value, reset_intermediates: bool) -> list[Value]:
    """:func:`topological_order`; with ``reset_intermediates`` it also sets ``.grad = 0`` on
    every node below ``root`` that has parents, on the way (``backward`` needs no extra pass)."""
    seen = {root}
    stack = [root]
    found = [root]
    while stack:
        for parent in stack.pop()._prev:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
                found.append(parent)
                if reset_intermediates and parent._prev:
                    parent.grad = 0.0
    found.sort(key=_index, reverse=True)
    return found


_index = attrgetter("_index")


def edges(root: Value) -> Iterator[tuple[Value, Value, int]]:
    """Every edge ``(parent, child, k)`` of the graph below ``root``; ``k`` is the argument slot."""
    _check_root(root, "edges")
    for node in topological_order(root):
        for k, parent in enumerate(node._prev):
            yield parent, node, k


def zero_grad(root: Value | Iterable[Value]) -> None:
    """Set ``.grad = 0`` on every node of the graph(s) below ``root``.

    Its use is to reset the leaves (the weights) between steps of training: leaves accumulate
    over sweeps, while :meth:`Value.backward` restarts every intermediate node from 0 itself.
    """
    what = "a Value or an iterable of Values"
    arguments.instance("root", root, (Value, Iterable), what=what, caller="zero_grad")
    roots = [root] if isinstance(root, Value) else list(root)
    for i, r in enumerate(roots):
        arguments.instance(f"root[{i}]", r, Value, what="a Value", caller="zero_grad")
    for r in roots:
        for node in topological_order(r):
            node.grad = 0.0


@dataclass(frozen=True)
class BackwardStep:
    """One edge of the backward sweep: ``contribution = local * upstream`` flows to ``parent``.

    ``total`` is the parent's accumulated gradient right after this contribution was added, so a
    branch shows its gradients adding up step by step. ``node_name`` and ``parent_name`` are how
    :meth:`describe` names the two ends (see :func:`backward_steps`).
    """

    node: Value
    parent: Value
    slot: int
    local: float
    upstream: float
    contribution: float
    total: float
    node_name: str
    parent_name: str

    def describe(self) -> str:
        """A one-line account of the step, for printing or a widget label."""
        return (
            f"{self.parent_name} <- {self.node_name}: local {self.local:.4g} x upstream "
            f"{self.upstream:.4g} = {self.contribution:.4g} (total {self.total:.4g})"
        )


def _names(order: list[Value]) -> dict[Value, str]:
    """Each node of ``order`` (a :func:`topological_order`) by its label, else its gate as
    ``[op]``, else ``u<k>``: ``k`` is its place among the graph's nodes in creation order,
    ``u1`` first (the ``u_1, ..., u_n`` of the lecture, numbered as :mod:`course.viz` does)."""
    n = len(order)
    return {v: v.label or (f"[{v.op}]" if v._op else f"u{n - i}") for i, v in enumerate(order)}


def backward_steps(root: Value) -> list[BackwardStep]:
    """Replay Algorithm 4 one edge at a time without touching any ``.grad``.

    Returns the steps in the order the sweep takes them. The gradient each node ends with is
    the ``total`` of the last step into it (and ``1`` for ``root``): what :meth:`Value.backward`
    leaves on every intermediate node, and on each leaf when its ``.grad`` was 0 before.
    The names in :meth:`BackwardStep.describe` depend only on the graph below ``root``, so the
    same graph built twice is described by the same text.
    """
    _check_root(root, "backward_steps")
    order = topological_order(root)
    names = _names(order)
    grads: dict[Value, float] = {root: 1.0}
    steps: list[BackwardStep] = []
    for node in order:
        g = grads.get(node, 0.0)
        for k, (parent, local) in enumerate(zip(node._prev, node._local)):
            contribution = local * g
            total = grads.get(parent, 0.0) + contribution
            grads[parent] = total
            steps.append(
                BackwardStep(
                    node, parent, k, local, g, contribution, total, names[node], names[parent]
                )
            )
    return steps
