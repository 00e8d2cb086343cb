"""The gates of a computational graph and how each routes the gradient (the gate-action slides).

Plain functions behind the notebooks on computational graphs and gates:

* :func:`gate_example` builds one gate (add, multiply, max, sigmoid, tanh, exp, reciprocal) or a
  branch (``a`` used twice) from :class:`course.graph.Value` nodes and delivers an upstream
  gradient to its output;
* :func:`gate_figure` draws it (green values, red gradients) with a one-line statement of the
  rule and its numbers ("add distributes", "multiply switches", "max routes", "branches add");
* :func:`worked_example` builds the three worked examples of the lectures, and
  :func:`backward_step_figure` / :func:`example_step_figure` show Algorithm 4 one edge at a time
  (steps numbered from 1, as the sweep takes them; step 0 is the graph before the sweep);
* :func:`graph_with_edges`, :func:`forward_backward_seconds` and :func:`backward_seconds` measure
  that a backward sweep costs time proportional to the number of edges.

matplotlib is only imported (through :mod:`course.viz`) when a figure is drawn.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from course import arguments
from course.graph import Value, backward_steps, maximum, topological_order

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "GATES",
    "EXAMPLES",
    "GRAPH_KINDS",
    "gate_example",
    "gate_figure",
    "worked_example",
    "backward_step_figure",
    "example_step_figure",
    "example_steps",
    "graph_with_edges",
    "forward_backward_seconds",
    "backward_seconds",
]

#: The gates :func:`gate_example` builds, with the formula each computes.
GATES: dict[str, str] = {
    "add": "f = a + b",
    "multiply": "f = a * b",
    "max": "f = max(a, b)",
    "sigmoid": "f = 1/(1 + e^-a)",
    "tanh": "f = tanh(a)",
    "exp": "f = e^a",
    "reciprocal": "f = 1/a",
    "branch": "f = a * b + a",
}

#: The three worked examples of the lectures, with the formula each computes.
EXAMPLES: dict[str, str] = {
    "x*y + z": "f = x*y + z at x = 2, y = 3, z = -2",
    "(x + y)*z": "f = (x + y)*z at x = -2, y = 5, z = -4",
    "sigmoid neuron": "f = 1/(1 + e^-(w0*x0 + b)) at w0 = -2, x0 = 3, b = 7.5",
}

#: Shapes of graph that :func:`graph_with_edges` builds.
GRAPH_KINDS = ("chain", "sum")


# --------------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------------


def _check_gate(gate: object, fn: str) -> str:
    return arguments.choice("gate", gate, list(GATES), caller=fn)


def _check_number(x: object, name: str, fn: str) -> float:
    return arguments.real(name, x, example=1.0, caller=fn)


def _check_root(root: object, fn: str) -> Value:
    return arguments.instance(
        "root",
        root,
        Value,
        what="a course.graph.Value (the output node of an expression)",
        fix="build the expression from Values first, e.g. f = gate_example('add', 1.0, 2.0) "
        "or f = worked_example('x*y + z')",
        caller=fn,
    )


# --------------------------------------------------------------------------------------------
# one gate
# --------------------------------------------------------------------------------------------


def gate_example(gate: str, a: float, b: float = 0.0, upstream: float = 1.0) -> Value:
    """Build one gate on the inputs ``a`` and ``b`` and send ``upstream`` back through it.

    Parameters
    ----------
    gate:
        One of :data:`GATES`: ``"add"`` (a + b), ``"multiply"`` (a * b), ``"max"`` (max(a, b),
        a tie splits the gradient half-half), ``"sigmoid"``, ``"tanh"``, ``"exp"``,
        ``"reciprocal"`` (1/a; these four use ``a`` only and ignore ``b``), or ``"branch"``
        (f = a * b + a: ``a`` feeds two gates, so its gradients add).
    a, b:
        The input values (plain numbers); the leaves are labelled ``"a"`` and ``"b"``.
    upstream:
        The gradient ``dL/df`` arriving at the gate's output from the rest of a larger graph.

    Returns
    -------
    Value
        The output node, labelled ``"f"``. The graph has been swept backward and then every
        ``.grad`` in it was multiplied by ``upstream``: the output holds ``.grad == upstream``
        and each input holds ``local gradient x upstream`` (summed over its edges), exactly
        what the sweep of a larger graph would leave there. No extra node is added for the
        upstream gradient, so the drawing shows the gate alone. (With ``upstream == 0`` every
        gradient is 0, and :func:`course.viz.draw_graph` then shows no red numbers.)

    Raises
    ------
    ValueError
        For an unknown gate name (the message lists the valid ones), a non-finite input, or
        ``a == 0`` for the reciprocal gate.
    """
    gate = _check_gate(gate, "gate_example")
    a = _check_number(a, "a", "gate_example")
    b = _check_number(b, "b", "gate_example")
    upstream = _check_number(upstream, "upstream", "gate_example")
    if gate == "reciprocal" and a == 0:
        raise ValueError(
            "gate_example: the reciprocal gate 1/a is undefined at a = 0 (got a = 0.0). "
            "Pick a nonzero a, e.g. a = 1.22 as in the sigmoid example."
        )
    if gate == "exp" and a > 700:
        raise ValueError(
            f"gate_example: e^a overflows a float for a > 709 (got a = {a}). Pick a <= 700."
        )
    va = Value(a, label="a")
    vb = Value(b, label="b")
    if gate == "add":
        out = va + vb
    elif gate == "multiply":
        out = va * vb
    elif gate == "max":
        out = maximum(va, vb)
    elif gate == "sigmoid":
        out = va.sigmoid()
    elif gate == "tanh":
        out = va.tanh()
    elif gate == "exp":
        out = va.exp()
    elif gate == "reciprocal":
        out = 1 / va
    else:  # branch
        out = va * vb + va
    out.label = "f"
    out.backward()
    for node in topological_order(out):
        node.grad *= upstream
    return out


def _inputs(out: Value) -> dict[str, Value]:
    """The leaves of a gate example by label (``"a"``, and ``"b"`` when it is used)."""
    return {v.label: v for v in topological_order(out) if not v.parents}


def _rule_text(gate: str, out: Value, a: float, b: float, u: float) -> str:
    """One line: the gate's rule with its numbers (two decimals, like the drawing)."""
    leaves = _inputs(out)
    ga = leaves["a"].grad
    gb = leaves["b"].grad if "b" in leaves else 0.0
    f = out.data
    if gate == "add":
        return (
            f"add distributes: both inputs receive the upstream gradient {u:.2f} "
            f"(a: {ga:.2f}, b: {gb:.2f})"
        )
    if gate == "multiply":
        return (
            f"multiply switches: a receives b x upstream = {b:.2f} x {u:.2f} = {ga:.2f}; "
            f"b receives a x upstream = {a:.2f} x {u:.2f} = {gb:.2f}"
        )
    if gate == "max":
        if a == b:
            return (
                f"max routes, here a tie (a = b = {a:.2f}): the engine splits the upstream "
                f"gradient half-half, a receives {ga:.2f} and b receives {gb:.2f}"
            )
        big, small = ("a", "b") if a > b else ("b", "a")
        return (
            f"max routes: the larger input receives everything, {big} gets {u:.2f} "
            f"and {small} gets 0.00"
        )
    if gate == "sigmoid":
        return (
            f"sigmoid gate: local gradient f(1 - f) = {f:.2f} x (1 - {f:.2f}) = "
            f"{f * (1 - f):.4f}; a receives {f * (1 - f):.4f} x {u:.2f} = {ga:.4f}"
        )
    if gate == "tanh":
        return (
            f"tanh gate: local gradient 1 - f^2 = 1 - {f:.6f}^2 = {1 - f * f:.6f}; "
            f"a receives {1 - f * f:.6f} x {u:.2f} = {ga:.6f}"
        )
    if gate == "exp":
        return (
            f"exp gate: local gradient e^a = e^{a:.2f} = {f:.2f}; "
            f"a receives {f:.2f} x {u:.2f} = {ga:.2f}"
        )
    if gate == "reciprocal":
        return (
            f"1/x gate: local gradient -1/a^2 = -1/{a:.2f}^2 = {-1 / (a * a):.2f}; "
            f"a receives {-1 / (a * a):.2f} x {u:.2f} = {ga:.2f}"
        )
    # branch
    return (
        f"at a branch gradients add: a receives b x upstream + 1 x upstream = "
        f"{b * u:.2f} + {u:.2f} = {ga:.2f}; b receives a x upstream = {gb:.2f}"
    )


def gate_figure(gate: str, a: float, b: float = 0.0, upstream: float = 1.0) -> tuple[Figure, str]:
    """The drawing of :func:`gate_example` and a one-line statement of the gate's rule.

    Returns
    -------
    (Figure, str)
        ``course.viz.draw_graph`` of the gate (forward values green, gradients red, the output
        stub showing ``upstream``), titled ``"<gate> gate: <formula>"``, and a text such as
        ``"add distributes: both inputs receive the upstream gradient 2.00 (a: 2.00, b: 2.00)"``.
        For the reciprocal gate at ``a = 0`` (undefined) the figure is empty, its title and the
        text say so: a slider passing through 0 then shows a message instead of failing.
    """
    from course.viz import draw_graph

    gate = _check_gate(gate, "gate_figure")
    a = _check_number(a, "a", "gate_figure")
    b = _check_number(b, "b", "gate_figure")
    upstream = _check_number(upstream, "upstream", "gate_figure")
    title = f"{gate} gate: {GATES[gate]}"
    if gate == "reciprocal" and a == 0:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(5.0, 1.2))
        ax = fig.add_subplot()
        ax.set_axis_off()
        ax.set_title(f"{title}: undefined at a = 0", fontsize=12)
        return fig, "1/x gate: 1/a is undefined at a = 0; move a away from 0"
    out = gate_example(gate, a, b, upstream)
    fig = draw_graph(out, title=f"{title}  (upstream gradient {upstream:.2f})")
    return fig, _rule_text(gate, out, a, b, upstream)


# --------------------------------------------------------------------------------------------
# the worked examples and the backward sweep step by step
# --------------------------------------------------------------------------------------------


def worked_example(name: str) -> Value:
    """A fresh graph of one of the lectures' worked examples (see :data:`EXAMPLES`).

    * ``"x*y + z"`` at ``(2, 3, -2)``: ``f = 4``, ``df/dx = 3``, ``df/dy = 2``, ``df/dz = 1``;
    * ``"(x + y)*z"`` at ``(-2, 5, -4)``: ``f = -12``, ``df/dx = df/dy = -4``, ``df/dz = 3``;
    * ``"sigmoid neuron"``: ``f = 1/(1 + e^-(w0 x0 + b))`` gate by gate (``*``, ``+``, ``*-1``,
      ``exp``, ``+1``, ``1/x``) at ``w0 = -2``, ``x0 = 3``, ``b = 7.5``.

    Leaves carry their names as labels and the output is labelled ``"f"``. Nothing is swept:
    call ``f.backward()`` for the gradients, or use :func:`course.graph.backward_steps`.
    """
    name = arguments.choice("name", name, list(EXAMPLES), caller="worked_example")
    if name == "x*y + z":
        x, y, z = Value(2.0, label="x"), Value(3.0, label="y"), Value(-2.0, label="z")
        f = x * y + z
    elif name == "(x + y)*z":
        x, y, z = Value(-2.0, label="x"), Value(5.0, label="y"), Value(-4.0, label="z")
        f = (x + y) * z
    elif name == "sigmoid neuron":
        w0, x0, b = Value(-2.0, label="w0"), Value(3.0, label="x0"), Value(7.5, label="b")
        f = 1 / (1 + (-(w0 * x0 + b)).exp())
    f.label = "f"
    return f


def backward_step_figure(root: Value, step: int, title: str | None = None) -> tuple[Figure, str]:
    """The backward sweep (Algorithm 4) of ``root``'s graph after its steps ``1 ... step``.

    Steps are numbered as the sweep takes them, one per edge, from 1 to
    ``n = len(backward_steps(root))``: step ``k`` is ``backward_steps(root)[k - 1]``. Step 0 is
    the graph before the sweep.

    Parameters
    ----------
    root:
        The output node of a graph of at most :data:`course.viz.MAX_NODES` nodes.
    step:
        ``0 <= step <= n``.
    title:
        Title of the drawing; ``None`` keeps :func:`course.viz.draw_graph`'s default.

    Returns
    -------
    (Figure, str)
        ``draw_graph(root, step=step)`` (the edge of step ``step`` in orange, the caption
        ``step k of n: ...``) and the same numbering in words: ``"step k of n: "`` followed by
        ``backward_steps(root)[k - 1].describe()``, ending ``"the sweep is done"`` at
        ``k = n``. ``.grad`` is neither read nor changed.
    """
    from course.viz import draw_graph

    root = _check_root(root, "backward_step_figure")
    steps = backward_steps(root)
    n = len(steps)
    step = arguments.integer(
        "step",
        step,
        at_least=0,
        at_most=n,
        fix=f"this graph has {n} edges, one step each, numbered 1 to {n}; step=0 is the graph "
        "before the sweep",
        caller="backward_step_figure",
    )
    fig = draw_graph(root, step=step, title=title)
    if step == 0:
        return fig, f"step 0 of {n}: before the sweep, only the output's gradient (1) is known"
    text = f"step {step} of {n}: {steps[step - 1].describe()}"
    if step == n:
        text += "; the sweep is done, every gradient known"
    return fig, text


def example_steps(example: str) -> int:
    """The number of steps of the backward sweep of one of the :data:`EXAMPLES` (its edges):
    the largest step of :func:`example_step_figure`, for a slider's ``max``."""
    return len(backward_steps(worked_example(example)))


def example_step_figure(example: str, step: int) -> tuple[Figure, str]:
    """:func:`backward_step_figure` for one of the :data:`EXAMPLES`, for a slider over steps.

    Steps are numbered from 1 to :func:`example_steps` ``(example)``, step 0 being the graph
    before the sweep; the title says ``"step k of n"`` as the caption and the text do. A step
    beyond the example's last (a slider still at 8 when the example changes to one with 4 edges)
    shows the last step.
    """
    root = worked_example(example)
    step = arguments.integer(
        "step",
        step,
        at_least=0,
        fix="steps are numbered from 1 (the first edge of the sweep); 0 is before the sweep",
        caller="example_step_figure",
    )
    n = len(backward_steps(root))
    k = min(int(step), n)
    return backward_step_figure(root, k, title=f"{example}: backward sweep, step {k} of {n}")


# --------------------------------------------------------------------------------------------
# the cost of the backward sweep
# --------------------------------------------------------------------------------------------


def graph_with_edges(n_edges: int, kind: str = "chain") -> Value:
    """A graph with exactly ``n_edges`` edges, returned as its output node.

    * ``"chain"``: ``tanh(tanh(... tanh(x)))``, one input, ``n_edges`` one-input gates in a row;
    * ``"sum"``: a neuron's weighted sum ``w1*x1 + w2*x2 + ...`` (4 edges per extra term, 2 for
      the first), topped by 0 to 3 ``tanh`` gates to reach the exact edge count; it has about
      ``n_edges / 2`` inputs, all of which receive a gradient from one sweep.

    Values are seeded (deterministic) and stay bounded.
    """
    n_edges = arguments.integer(
        "n_edges", n_edges, at_least=1, example=1000, caller="graph_with_edges"
    )
    kind = arguments.choice("kind", kind, GRAPH_KINDS, caller="graph_with_edges")
    if kind == "chain":
        out = Value(0.5, label="x")
        for _ in range(n_edges):
            out = out.tanh()
        return out
    terms = (n_edges + 2) // 4  # k terms use 4k - 2 edges
    used = 4 * terms - 2 if terms else 0
    out = Value(0.5, label="x1") if terms == 0 else None
    for i in range(terms):
        # deterministic inputs in [-1, 1] (no random state needed)
        w = Value(math.sin(1.0 + i), label=f"w{i + 1}")
        x = Value(math.cos(2.0 + 3.0 * i), label=f"x{i + 1}")
        term = w * x
        out = term if out is None else out + term
    for _ in range(n_edges - used):
        out = out.tanh()
    return out


def forward_backward_seconds(
    n_edges: int, kind: str = "chain", repeat: int = 3
) -> tuple[float, float]:
    """Wall-clock seconds to build (forward) and to sweep (backward) a graph of ``n_edges`` edges.

    Each is the best of ``repeat`` runs (the least disturbed by other processes). The numbers
    depend on the machine: compare them with each other, not with fixed thresholds.
    """
    repeat = arguments.integer(
        "repeat", repeat, at_least=1, example=3, caller="forward_backward_seconds"
    )
    forward = backward = math.inf
    for _ in range(int(repeat)):
        t0 = time.perf_counter()
        root = graph_with_edges(n_edges, kind)
        t1 = time.perf_counter()
        root.backward()
        t2 = time.perf_counter()
        forward = min(forward, t1 - t0)
        backward = min(backward, t2 - t1)
    return forward, backward


def backward_seconds(
    n_edges_list: Sequence[int], repeat: int = 3, kind: str = "chain"
) -> list[float]:
    """Seconds ``.backward()`` takes on graphs with the given numbers of edges, one per size.

    Algorithm 4 does a constant amount of work per edge, so the times grow in proportion to the
    number of edges (a slope near 1 on log-log axes). Best of ``repeat`` runs per size.
    """
    sizes = arguments.sequence(
        "n_edges_list",
        n_edges_list,
        non_empty=True,
        fix="pass e.g. n_edges_list=[1000, 10000, 100000]",
        caller="backward_seconds",
    )
    return [forward_backward_seconds(n, kind, repeat)[1] for n in sizes]
