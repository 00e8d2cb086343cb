"""Graphs, references and checks for problem set 1 (computational graphs).

Students: you may read this file and use :func:`describe` and the example graphs to explore;
your answers must not call ``course.graph`` (the tests check that). The tests build every graph
twice: with ``course.graph.Value`` (the reference gradients, by Algorithm 4) and with plain
floats (centred finite differences, float64), and compare your answers with both.

A graph is described by a *program*: one line per node, in creation order,
``(name, op, parents, arg)``, where ``arg`` is the value of an input node or the constant of a
``"+c"`` / ``"*c"`` gate. What your ``backward`` receives is the list of nodes built from it:

    {"name": "q", "op": "*", "parents": ["x", "y"], "value": -12.0, "local": [-4.0, 3.0]}

``local[k]`` is the local gradient of the node with respect to ``parents[k]``, computed by
the forward pass (the rules of part (a)).

``course.graph`` is imported only by the functions that compute reference answers: while the
assignment is graded it is not available in your kernel. The example graphs still work there:
their node lists then take each local gradient from centred finite differences of the gate
(exact for the ``+`` and ``*`` gates of the lectures' examples, within about 1e-9 otherwise:
see :func:`float_nodes`), and only their reference answers (``expected``, ``contributions``)
need ``course.graph``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from course import checks, variants

if TYPE_CHECKING:  # course.graph is imported where the references are computed
    from course.graph import Value

# code that computes gradients for you: not allowed inside a student's function (packages that
# are not installed are skipped, and none is imported to check)
FORBID = (
    "course.graph",
    "course.gradcheck",
    *checks.ALWAYS_FORBIDDEN,
)
# What the notebook's own cells may use while the assignment is graded: the student's kernel
# gets these (and what they need) only; the checks and the reference answers run in the grader
# (see autograder/kernel_view.py)
KERNEL = (
    "use_variant",
    "GraphCase",
    "describe",
    "branch_example",
    "sigmoid_example",
    "square_example",
    "tie_example",
    "self_max_example",
    "dead_node_example",
    "chain_example",
    "random_example",
    "random_gate_inputs",
)

ASSIGNMENT = "ps1"
Line = tuple[str, str, tuple[str, ...], float | None]
BINARY = ("+", "*", "max")
UNARY = ("exp", "1/x", "tanh", "*-1", "**2", "+c", "*c")


# -- one interpreter for Values, one for floats -------------------------------------------------


def _apply_value(op: str, args: list[Value], arg: float | None) -> Value:
    a = args[0]
    if op == "+":
        return a + args[1]
    if op == "*":
        return a * args[1]
    if op == "max":
        from course.graph import maximum

        return maximum(a, args[1])
    if op == "exp":
        return a.exp()
    if op == "1/x":
        return 1 / a
    if op == "tanh":
        return a.tanh()
    if op == "*-1":
        return -a
    if op == "**2":
        return a**2
    if op == "+c":
        return a + arg
    if op == "*c":
        return a * arg
    raise ValueError(f"unknown op {op!r}")


def _apply_float(op: str, args: list[float], arg: float | None) -> float:
    a = args[0]
    if op == "+":
        return a + args[1]
    if op == "*":
        return a * args[1]
    if op == "max":
        return max(a, args[1])
    if op == "exp":
        return math.exp(a)
    if op == "1/x":
        return 1.0 / a
    if op == "tanh":
        return math.tanh(a)
    if op == "*-1":
        return -a
    if op == "**2":
        return a * a
    if op == "+c":
        return a + arg
    if op == "*c":
        return a * arg
    raise ValueError(f"unknown op {op!r}")


def build(program: Sequence[Line]) -> dict[str, Value]:
    """The graph as ``course.graph.Value`` nodes, by name, created in program order."""
    from course.graph import Value

    values: dict[str, Value] = {}
    for name, op, parents, arg in program:
        if op == "input":
            v = Value(float(arg))
        else:
            v = _apply_value(op, [values[p] for p in parents], arg)
        v.label = name
        values[name] = v
    return values


def evaluate(program: Sequence[Line], shift: dict[str, float] | None = None) -> float:
    """The output (last node) in plain floats; ``shift`` adds a number to chosen nodes."""
    shift = shift or {}
    values: dict[str, float] = {}
    for name, op, parents, arg in program:
        if op == "input":
            x = float(arg)
        else:
            x = _apply_float(op, [values[p] for p in parents], arg)
        values[name] = x + shift.get(name, 0.0)
    return values[program[-1][0]]


# -- a graph with its reference answers ---------------------------------------------------------


def float_nodes(program: Sequence[Line], h: float = 2.0**-20) -> list[dict]:
    """The node list of a program without ``course.graph``, as :class:`GraphCase` gives it.

    Values come from the float interpreter; the local gradient of a node with respect to its
    argument ``k`` is the centred difference ``(gate(.., a_k + h, ..) - gate(.., a_k - h, ..))
    / 2h`` of its gate (a max gate on a tie gets 1/2, the course's convention). Exact for ``+``
    and ``*`` gates on small whole numbers, as in the lectures' examples; otherwise within about
    1e-9 of ``course.graph``'s local gradients. Used where ``course.graph`` is not available
    (while the assignment is graded), so that the example graphs can still be shown.
    """
    values: dict[str, float] = {}
    nodes = []
    for name, op, parents, arg in program:
        if op == "input":
            x, local, label = float(arg), [], "input"
        else:
            args = [values[p] for p in parents]
            x = _apply_float(op, args, arg)
            local = []
            for k in range(len(args)):
                up, down = list(args), list(args)
                up[k] += h
                down[k] -= h
                local.append((_apply_float(op, up, arg) - _apply_float(op, down, arg)) / (2 * h))
            # course.graph names a gate with a constant by the constant: "+1", "*-1.01"
            label = f"{op[0]}{arg:g}" if op in ("+c", "*c") else op
        values[name] = x
        nodes.append(
            {"name": name, "op": label, "parents": list(parents), "value": x, "local": local}
        )
    return nodes


@dataclass
class GraphCase:
    """A graph for ``backward`` with the gradients it must produce.

    ``expected``: d(output)/d(node) by ``course.graph`` (Algorithm 4), ordered from the output
    back to the inputs; ``contributions``: for each node, what each edge out of it adds, keyed
    by the edge (a branch has several). :func:`numeric_gradients` gives the same gradients by
    centred finite differences.

    Where ``course.graph`` cannot be imported (while the assignment is graded), the node list
    comes from :func:`float_nodes`, and reading ``expected`` or ``contributions`` raises the
    ImportError.
    """

    title: str
    program: list[Line]
    _nodes: list[dict] = field(init=False, repr=False)
    _references: tuple[dict, dict] | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        try:
            values = build(self.program)
        except ImportError:  # course.graph is not available: no references, the same nodes
            self._nodes = float_nodes(self.program)
        else:
            self._nodes = [
                {
                    "name": name,
                    "op": v.op or "input",
                    "parents": [p.label for p in v.parents],
                    "value": v.data,
                    "local": list(v.local_grads),
                }
                for name, v in values.items()
            ]
            self._references = _graph_references(values[self.program[-1][0]], values)

    @property
    def expected(self) -> dict[str, float]:
        """d(output)/d(node) by ``course.graph``, from the output back to the inputs."""
        return self._reference()[0]

    @property
    def contributions(self) -> dict[str, dict[str, float]]:
        """For each node, what each edge out of it adds to its gradient, by ``course.graph``."""
        return self._reference()[1]

    def _reference(self) -> tuple[dict, dict]:
        if self._references is None:
            values = build(self.program)
            self._references = _graph_references(values[self.program[-1][0]], values)
        return self._references

    def nodes(self) -> list[dict]:
        """A fresh copy of the node list (your function may change it without harm)."""
        return copy.deepcopy(self._nodes)


def numeric_gradients(case: GraphCase, h: float = 1e-6) -> dict[str, float]:
    """d(output)/d(node) of a case by centred finite differences of :func:`evaluate`, from the
    output back to the inputs (the second reference of :func:`check_backward`)."""
    out = {}
    for name in reversed([line[0] for line in case.program]):
        up = evaluate(case.program, {name: h})
        down = evaluate(case.program, {name: -h})
        out[name] = (up - down) / (2 * h)
    return out


def _graph_references(root: Value, values: dict[str, Value]) -> tuple[dict, dict]:
    """``(expected, contributions)`` of a graph of ``course.graph`` nodes (see GraphCase)."""
    from course.graph import backward_steps

    contributions: dict[str, dict[str, float]] = {name: {} for name in values}
    for step in backward_steps(root):
        edge = f"from {step.node.label!r}"
        if step.node.parents.count(step.parent) > 1:
            edge += f" (argument {step.slot + 1})"
        contributions[step.parent.label][edge] = step.contribution
    root.backward()
    expected = {name: values[name].grad for name in reversed(list(values))}
    return expected, contributions


def describe(graph: Sequence[dict]) -> str:
    """A table of a node list, one node per line, in creation order."""
    rows = [f"{'name':>6}  {'op':>6}  {'parents':<14}{'value':>12}  local gradients"]
    for n in graph:
        parents = ", ".join(n["parents"])
        local = ", ".join(f"{x:.4g}" for x in n["local"])
        rows.append(f"{n['name']:>6}  {n['op']:>6}  {parents:<14}{n['value']:>12.6g}  {local}")
    return "\n".join(rows)


# -- the student's variant (course/variants.py) ---------------------------------------------------


def use_variant(student_id: str = "") -> variants.Variant:
    """The notebook's variant, from ``STUDENT_ID`` (else the grader's id, else the JupyterHub
    login, else the example variant); prints it."""
    return variants.use(ASSIGNMENT, student_id)


def _rng(seed: int) -> np.random.Generator:
    """The generator of the cases numbered ``seed``: the example variant's is the plain seeded
    one (the cases the notebook's examples and the course's tests were written with), a
    student's is made from the student's variant."""
    variant = variants.current(ASSIGNMENT)
    return np.random.default_rng(seed) if variant.example else variant.rng(seed)


def branch_inputs(variant: variants.Variant | None = None) -> tuple[float, float]:
    """The ``(x, y)`` of :func:`branch_example` in a variant: the lecture's (3, -4) in the
    example variant, else whole numbers from 2 to 6 in size, of either sign."""
    variant = variant or variants.current(ASSIGNMENT)
    if variant.example:
        return 3.0, -4.0
    rng = variant.rng("branch")
    x, y = rng.integers(2, 7, size=2) * rng.choice([-1, 1], size=2)
    return float(x), float(y)


def check_variant(student_id: object) -> None:
    """While grading: fail a notebook whose ``STUDENT_ID`` is not the submission's id."""
    __tracebackhide__ = True
    variants.check_stated(ASSIGNMENT, student_id)


def check_hand_gradients(
    hand_gradients: Callable, student_id: object = "", part: str = "part (b)"
) -> None:
    """The gradients of :func:`branch_example` that the student's ``hand_gradients()`` gives as
    numbers (``{"x": ..., "y": ...}``) for their variant. While grading, numbers made for a
    classmate's variant are named as such."""
    __tracebackhide__ = True
    check_variant(student_id)
    variant = variants.current(ASSIGNMENT)
    hand = checks.call_student(hand_gradients, part=part, forbid=FORBID)
    if not isinstance(hand, dict):
        raise checks.CheckFailure(
            'hand_gradients() must return a dict like {"x": 1.5, "y": -2.0}, not a '
            f"{type(hand).__name__}",
            name="hand_gradients",
            problem="wrong_type",
        )

    def fits(other: variants.Variant) -> bool:
        expected = branch_example(other).expected
        try:
            return all(
                math.isclose(float(hand[k]), expected[k], rel_tol=1e-6, abs_tol=1e-9)
                for k in ("x", "y")
            )
        except (KeyError, TypeError, ValueError):
            return False

    if not fits(variant):
        copied = variants.whose(ASSIGNMENT, fits)
        if copied is not None:
            raise checks.CheckFailure(
                variants.other_variant_message(copied, variant.student_id)
                + f" (hand_gradients() gives the gradients of the variant of student id {copied})",
                name="hand_gradients",
                problem="other_variant",
            )
    expected = branch_example(variant).expected
    x, y = branch_inputs(variant)
    checks.check_gradients(
        {k: hand.get(k) for k in ("x", "y")},
        {k: expected[k] for k in ("x", "y")},
        context=f"hand_gradients(), the gradients of your variant's graph (x = {x:g}, y = {y:g})",
    )


# -- the graphs of the problem set ----------------------------------------------------------------


def branch_example(variant: variants.Variant | None = None) -> GraphCase:
    """f = (x y + x) y at your variant's x and y (:func:`branch_inputs`; the lecture's x = 3,
    y = -4 in the example variant): x and y each feed two nodes."""
    x, y = branch_inputs(variant)
    return GraphCase(
        "f = (x*y + x) * y",
        [
            ("x", "input", (), x),
            ("y", "input", (), y),
            ("q", "*", ("x", "y"), None),
            ("s", "+", ("q", "x"), None),
            ("f", "*", ("s", "y"), None),
        ],
    )


def sigmoid_example() -> GraphCase:
    """The lecture's sigmoid neuron f = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))), gate by gate."""
    return GraphCase(
        "sigmoid neuron",
        [
            ("w0", "input", (), 2.0),
            ("x0", "input", (), -1.0),
            ("w1", "input", (), -3.0),
            ("x1", "input", (), -2.0),
            ("w2", "input", (), -3.0),
            ("a", "*", ("w0", "x0"), None),
            ("b", "*", ("w1", "x1"), None),
            ("c", "+", ("a", "b"), None),
            ("d", "+", ("c", "w2"), None),
            ("e", "*-1", ("d",), None),
            ("g", "exp", ("e",), None),
            ("h", "+c", ("g",), 1.0),
            ("f", "1/x", ("h",), None),
        ],
    )


def square_example() -> GraphCase:
    """f = x * x + x at x = -1.5: the same parent twice, and a branch."""
    return GraphCase(
        "f = x*x + x",
        [
            ("x", "input", (), -1.5),
            ("sq", "*", ("x", "x"), None),
            ("f", "+", ("sq", "x"), None),
        ],
    )


def tie_example() -> GraphCase:
    """f = max(x, y) * z with x == y: the upstream gradient is split half and half."""
    return GraphCase(
        "f = max(x, y) * z with x == y",
        [
            ("x", "input", (), 1.25),
            ("y", "input", (), 1.25),
            ("z", "input", (), -2.0),
            ("m", "max", ("x", "y"), None),
            ("f", "*", ("m", "z"), None),
        ],
    )


def self_max_example() -> GraphCase:
    """f = exp(max(x, x)): a tie of a node with itself; both halves reach x."""
    return GraphCase(
        "f = exp(max(x, x))",
        [
            ("x", "input", (), 0.5),
            ("m", "max", ("x", "x"), None),
            ("f", "exp", ("m",), None),
        ],
    )


def dead_node_example() -> GraphCase:
    """Nodes the output does not depend on (w and v) must get gradient 0."""
    return GraphCase(
        "f = exp(x) * y, with unused nodes",
        [
            ("x", "input", (), 0.3),
            ("w", "input", (), 2.0),
            ("y", "input", (), -1.5),
            ("v", "*", ("w", "x"), None),
            ("ex", "exp", ("x",), None),
            ("f", "*", ("ex", "y"), None),
        ],
    )


def chain_example(length: int = 150) -> GraphCase:
    """A long chain of gates, and a skip connection from the first input to the output."""
    program: list[Line] = [("x", "input", (), 0.7)]
    cycle = [("*c", -1.01), ("+c", 0.3), ("tanh", None), ("*c", 1.7)]
    for k in range(length):
        op, c = cycle[k % len(cycle)]
        program.append((f"u{k + 1}", op, (program[-1][0],), c))
    program.append(("f", "+", (program[-1][0], "x"), None))
    return GraphCase(f"a chain of {length} gates with a skip connection", program)


def random_example(seed: int, n_inputs: int = 3, n_ops: int = 12) -> GraphCase:
    """A random graph with branches, seeded (in your variant); values stay moderate and no max
    has a tie."""
    rng = _rng(seed)
    program: list[Line] = []
    values: dict[str, float] = {}
    children: dict[str, int] = {}

    def add(name: str, op: str, parents: tuple[str, ...], arg: float | None, x: float) -> None:
        program.append((name, op, parents, arg))
        values[name] = x
        children[name] = 0
        for p in parents:
            children[p] += 1

    for i in range(n_inputs):
        x = float(np.round(rng.uniform(-2, 2), 3))
        add(f"x{i}", "input", (), x, x)
    ops = BINARY + UNARY
    for k in range(n_ops):
        names = list(values)
        for _ in range(100):
            op = ops[int(rng.integers(len(ops)))]
            # favour recent nodes, and sometimes reuse one: that makes branches
            picks = [names[-1 - int(min(rng.geometric(0.4) - 1, len(names) - 1))] for _ in "ab"]
            parents = tuple(picks[:2]) if op in BINARY else (picks[0],)
            arg = None
            if op == "+c":
                arg = float(np.round(rng.uniform(-1, 1), 2))
            elif op == "*c":
                arg = float(np.round(rng.choice([-1, 1]) * rng.uniform(0.5, 1.5), 2))
            a = values[parents[0]]
            if op == "exp" and a > 2.0:
                continue
            if op == "1/x" and abs(a) < 0.4:
                continue
            if op == "max" and abs(a - values[parents[1]]) < 0.05:
                continue
            x = _apply_float(op, [values[p] for p in parents], arg)
            if abs(x) < 30:
                break
        else:
            op, parents, arg, x = "tanh", (names[-1],), None, math.tanh(values[names[-1]])
        add(f"u{k + 1}", op, parents, arg, x)
    # every node must reach the output: add the dangling ones into it
    out = program[-1][0]
    for name in [n for n in list(values) if children[n] == 0 and n != out]:
        total = values[out] + values[name]
        add(f"s{len(program)}", "+", (out, name), None, total)
        out = program[-1][0]
    return GraphCase(f"random graph (seed {seed})", program)


# -- what the usual wrong sweeps give -------------------------------------------------------------
#
# Some mistakes of the sweep are told apart only by the whole answer: visiting the nodes in the
# wrong order leaves a node with one contribution of a branch, as overwriting does, though the
# student adds. Each function below is such a sweep, run on the node list the student received;
# when the student's answer is what one gives, its explanation is the only one given.

VISIT_ORDER = (
    "the nodes were visited in the wrong order ({how}): a node passed its gradient on to its "
    "parents before all of its own contributions had arrived, so the ones that came later never "
    "reached its parents. You add the contributions, as you should: the order is the problem, "
    "not the adding. Look at the order in which your loop visits the nodes: a node's gradient "
    "is complete only once every node that uses it has been visited."
)


def _edges(node: dict) -> list[tuple[str, float]]:
    return list(zip(node["parents"], node["local"]))


def _start(nodes: list[dict]) -> dict[str, float]:
    grads = {n["name"]: 0.0 for n in nodes}
    grads[nodes[-1]["name"]] = 1.0
    return grads


def _sweep_in_creation_order(nodes: list[dict]) -> dict[str, float]:
    """Algorithm 4 with the loop the wrong way round: from the first node created to the last."""
    grads = _start(nodes)
    for node in nodes:
        for parent, local in _edges(node):
            grads[parent] += local * grads[node["name"]]
    return grads


def _sweep_breadth_first(nodes: list[dict]) -> dict[str, float]:
    """From the output, each node passed on the first time it is reached (a queue)."""
    by_name = {n["name"]: n for n in nodes}
    grads = _start(nodes)
    queue = [nodes[-1]["name"]]
    seen = set(queue)
    while queue:
        name = queue.pop(0)
        for parent, local in _edges(by_name[name]):
            grads[parent] += local * grads[name]
            if parent not in seen:
                seen.add(parent)
                queue.append(parent)
    return grads


def _sweep_passing_on_every_time(nodes: list[dict], limit: int = 100_000) -> dict | None:
    """From the output, recursively: a node passes its whole gradient so far on each time it is
    reached (None when the graph has too many paths to follow)."""
    by_name = {n["name"]: n for n in nodes}
    grads = _start(nodes)
    visits = [0]

    def visit(name: str) -> bool:
        visits[0] += 1
        if visits[0] > limit:
            return False
        for parent, local in _edges(by_name[name]):
            grads[parent] += local * grads[name]
            if not visit(parent):
                return False
        return True

    return grads if visit(nodes[-1]["name"]) else None


def _sweep_one_edge_per_parent(nodes: list[dict]) -> dict[str, float]:
    """The right order, but a parent that appears twice in a node counted once."""
    grads = _start(nodes)
    for node in reversed(nodes):
        for parent, local in dict(_edges(node)).items():
            grads[parent] += local * grads[node["name"]]
    return grads


def sweep_mistakes(nodes: list[dict]) -> dict[checks.Diagnosis, dict[str, float]]:
    """What the usual wrong sweeps give on ``nodes``, keyed by their explanation."""
    found = {
        checks.Diagnosis(
            "visit_order", VISIT_ORDER.format(how="from the first node created to the last")
        ): _sweep_in_creation_order(nodes),
        checks.Diagnosis(
            "visit_order", VISIT_ORDER.format(how="as your sweep reached them from the output")
        ): _sweep_breadth_first(nodes),
        checks.Diagnosis(
            "repeated_parent",
            "a node that has the same parent twice (x * x has parents ['x', 'x']) was counted "
            "once: those are two edges, and each adds its own contribution. Look at how your "
            "sweep goes over a node's parents (a dict or a set keyed by the parent keeps only "
            "one of them).",
        ): _sweep_one_edge_per_parent(nodes),
    }
    again = _sweep_passing_on_every_time(nodes)
    if again is not None:
        found[
            checks.Diagnosis(
                "passed_on_more_than_once",
                "a node passed its gradient on to its parents more than once (each time it was "
                "reached), so some contributions were counted several times. Each node must "
                "pass its gradient on exactly once, when it is complete: look at how your sweep "
                "decides when to visit a node.",
            )
        ] = again
    return found


def check_backward(
    backward: Callable, case: GraphCase, part: str = "part (b)", hidden: str | None = None
) -> None:
    """Run a student's ``backward`` on ``case`` and check it against both references.

    ``hidden``: for a hidden test, what kind of graph it is; the message then names the graph
    by that description instead of by its title (see :func:`check_gate`).
    """
    __tracebackhide__ = True
    nodes = case.nodes()
    got = checks.call_student(backward, nodes, part=part, forbid=FORBID)
    where = f"graph {case.title!r}" if hidden is None else f"a hidden graph: {hidden}"
    wrong_sweeps = sweep_mistakes(case.nodes())
    checks.check_gradients(
        got,
        case.expected,
        branches=case.contributions,
        context=where,
        whole_mistakes=wrong_sweeps,
    )
    checks.check_gradients(
        got,
        numeric_gradients(case),
        rtol=1e-5,
        atol=1e-6,
        context=f"{where}, compared with centred finite differences",
        branches=case.contributions,
        whole_mistakes=wrong_sweeps,
    )


# -- part (a): the gates --------------------------------------------------------------------------

GATES = {"add": "+", "mul": "*", "max": "max", "exp": "exp", "reciprocal": "1/x"}


def gate_reference(op: str, inputs: Sequence[float], upstream: float) -> tuple[float, ...]:
    """Local gradient x upstream for each input, from ``course.graph``."""
    from course.graph import Value

    leaves = [Value(float(x)) for x in inputs]
    out = _apply_value(op, leaves, None)
    return tuple(local * upstream for local in out.local_grads)


Diagnosis = checks.Diagnosis

FORGOT_UPSTREAM = Diagnosis(
    "forgot_upstream",
    "you forgot to multiply by the upstream gradient: the gradient that flows into an input is "
    "(local gradient) x (upstream gradient).",
)
TIE = (
    "at a tie (a == b) the course's convention splits the upstream gradient half and half "
    "between the two inputs (see the rules at the top of the notebook)."
)
NOT_A_TIE = "you split the upstream gradient between the two inputs, but a and b are not equal{how}"
NEAR_TIE = (
    " (they differ only slightly): this is not a tie, so the larger input gets all of it. Look "
    "at how you decide that there is a tie: a tolerance (np.isclose, abs(a - b) < eps) turns a "
    "near-tie into a tie."
)
ROUTED = Diagnosis(
    "max_routed_wrong",
    "the max gate routes the whole upstream gradient to the larger input and nothing to the "
    "smaller one; yours is routed the wrong way.",
)
SWITCHED = Diagnosis(
    "multiply_not_switched",
    "you used each input for its own gradient; the multiply gate switches its inputs (see the "
    "example above the exercise).",
)
RECIPROCAL_VALUE = Diagnosis(
    "reciprocal_value",
    "the local gradient of the reciprocal gate has the wrong sign and power: your da is the "
    "gate's output 1/a times the upstream gradient, its value where its derivative belongs. "
    "Differentiate 1/a.",
)
RECIPROCAL_SIGN = Diagnosis(
    "reciprocal_sign",
    "the local gradient of the reciprocal gate has the wrong sign: differentiate 1/a again, and "
    "check where its minus sign went.",
)
RECIPROCAL_POWER = Diagnosis(
    "reciprocal_power",
    "the local gradient of the reciprocal gate has the wrong power of a: differentiate "
    "1/a = a^(-1) with the power rule.",
)


def _tie(what: str) -> Diagnosis:
    return Diagnosis("max_tie", f"{TIE} {what}")


def _gate_mistakes(
    op: str, inputs: Sequence[float], up: float
) -> tuple[list[dict[Diagnosis, float]], dict[Diagnosis, tuple[float, ...]]]:
    """Known wrong answers of a gate: per result (``da``, ``db``), and of the whole answer."""
    local = gate_reference(op, inputs, 1.0)
    mistakes: list[dict[Diagnosis, float]] = [{} for _ in inputs]
    whole: dict[Diagnosis, tuple[float, ...]] = {}
    if op == "max":
        a, b = inputs
        if a == b:
            whole[_tie("You gave all of it to a, the first input.")] = (up, 0.0)
            whole[_tie("You gave all of it to b, the second input.")] = (0.0, up)
            whole[_tie("You gave it to neither.")] = (0.0, 0.0)
            whole[_tie("You gave all of it to both.")] = (up, up)
            for k in range(2):
                mistakes[k][_tie("You gave this input all of it.")] = up
                mistakes[k][_tie("You gave this input nothing.")] = 0.0
        else:
            if abs(a - b) <= 1e-3 * max(1.0, abs(a), abs(b)):
                split = Diagnosis("max_near_tie", NOT_A_TIE.format(how=NEAR_TIE))
            else:
                split = Diagnosis(
                    "max_split",
                    NOT_A_TIE.format(
                        how=": only a tie is split; otherwise the larger input gets all of it."
                    ),
                )
            whole[split] = (up / 2, up / 2)
            whole[ROUTED] = (local[1] * up, local[0] * up)
            mistakes[0][ROUTED] = local[1] * up
            mistakes[1][ROUTED] = local[0] * up
    if up != 1.0:
        whole[FORGOT_UPSTREAM] = tuple(local)
        for k, g in enumerate(local):
            mistakes[k].setdefault(FORGOT_UPSTREAM, g)
    if op == "*":
        a, b = inputs
        whole[SWITCHED] = (a * up, b * up)
        mistakes[0][SWITCHED] = a * up
        mistakes[1][SWITCHED] = b * up
    if op == "1/x":
        (a,) = inputs
        mistakes[0][RECIPROCAL_VALUE] = up / a
        mistakes[0][RECIPROCAL_SIGN] = up / (a * a)
        mistakes[0][RECIPROCAL_POWER] = -up / a
    return mistakes, whole


def check_gate(
    func: Callable,
    op: str,
    inputs: Sequence[float],
    upstream: float,
    part: str = "part (a)",
    hidden: str | None = None,
) -> None:
    """Run a student's gate function and compare with ``course.graph`` and finite differences.

    ``hidden``: for a hidden test, what kind of case it is ("a near-tie of the two inputs"). A
    failure message shows the inputs of a visible case (``max_backward(3, 1, 2)``); for a hidden
    case it names the kind of case instead, never the numbers (see source_assignments/README.md).
    """
    __tracebackhide__ = True
    got = checks.call_student(func, *inputs, upstream, part=part, forbid=FORBID)
    expected = gate_reference(op, inputs, upstream)
    function = getattr(func, "__name__", "your function")
    if hidden is None:
        name = f"{function}({', '.join(f'{x:g}' for x in (*inputs, upstream))})"
    else:
        name = f"{function} on a hidden case ({hidden})"
    mistakes, whole = _gate_mistakes(op, inputs, upstream)
    labels = ("da", "db")[: len(inputs)]
    if len(inputs) == 1:
        checks.check_array(f"da from {name}", got, expected[0], mistakes=mistakes[0])
        results = [got]
    else:
        checks.check_tuple(name, got, expected, labels, mistakes=mistakes, whole_mistakes=whole)
        results = list(got)
    if op == "max" and 0 < abs(inputs[0] - inputs[1]) < 1e-3:
        return  # finite differences would step over the kink: the reference above decides
    for k, label in enumerate(labels):

        def f(t: float, k: int = k) -> float:
            xs = list(inputs)
            xs[k] = t
            return upstream * _apply_float(op, xs, None)

        h = 1e-5 * min(1.0, abs(inputs[k])) if op == "1/x" else 1e-5
        checks.numeric_gradient_check(
            f, inputs[k], results[k], f"{label} from {name}", h=h, context="local gradient"
        )


def random_gate_inputs(
    seed: int, op: str, count: int = 12
) -> list[tuple[tuple[float, ...], float]]:
    """Seeded ``(inputs, upstream)`` cases for a gate (in your variant), with integers and
    negatives mixed in."""
    rng = _rng(seed)
    arity = 2 if op in BINARY else 1
    cases = []
    for k in range(count):
        xs = rng.uniform(-3, 3, size=arity)
        if k % 4 == 1:
            xs = np.round(xs)
        if op == "1/x":
            xs = np.where(np.abs(xs) < 0.2, 0.2 + np.abs(xs), xs)
        if op == "max" and arity == 2 and abs(xs[0] - xs[1]) < 1e-3:
            xs[1] += 0.5
        up = float(np.round(rng.normal() * 2, 3)) if k % 3 else 1.0
        cases.append((tuple(float(x) for x in xs), up))
    return cases


# -- part (c): direct and indirect effects --------------------------------------------------------


def random_points(seed: int, count: int = 10) -> list[float]:
    """Seeded points u1 in [-2, 1.5] (in your variant) for :func:`check_direct_indirect`."""
    return [float(u) for u in _rng(seed).uniform(-2.0, 1.5, size=count)]


def direct_indirect_reference(u1: float) -> tuple[float, float, float]:
    """(direct, indirect, total) of u3 = exp(u1 + u2), u2 = u1^2, from ``course.graph``."""
    case = GraphCase(
        "u3 = exp(u1 + u2), u2 = u1^2",
        [
            ("u1", "input", (), u1),
            ("u2", "**2", ("u1",), None),
            ("s", "+", ("u1", "u2"), None),
            ("u3", "exp", ("s",), None),
        ],
    )
    # u1's two contributions: directly into s, and through u2
    direct, indirect = case.contributions["u1"]["from 's'"], case.contributions["u1"]["from 'u2'"]
    return direct, indirect, case.expected["u1"]


def check_direct_indirect(
    func: Callable, u1: float, part: str = "part (c)", hidden: str | None = None
) -> None:
    """Run a student's ``direct_indirect`` at ``u1`` and compare with the references.

    ``hidden``: for a hidden test, what kind of point ``u1`` is; the message then names it by
    that description instead of by its value (see :func:`check_gate`).
    """
    __tracebackhide__ = True
    got = checks.call_student(func, u1, part=part, forbid=FORBID)
    direct, indirect, total = direct_indirect_reference(u1)
    s = u1 + u1 * u1
    mistakes = [
        {},
        {
            "in the indirect effect you used the value of u2 = u1^2 where its local gradient "
            "du2/du1 belongs (a node's value for its derivative): differentiate u2 with respect "
            "to u1.": math.exp(s) * u1 * u1,
        },
        {
            "your total keeps only the direct effect: u1 also reaches u3 through u2, so add "
            "the indirect effect (the contributions of the two paths are added).": direct,
            "your total keeps only the indirect effect: u1 is also a direct input of u3, so "
            "add the direct effect (the contributions of the two paths are added).": indirect,
        },
    ]
    function = getattr(func, "__name__", "your function")
    name = f"{function}({u1:g})" if hidden is None else f"{function} at a hidden u1 ({hidden})"
    checks.check_tuple(
        name, got, (direct, indirect, total), ("direct", "indirect", "total"), mistakes=mistakes
    )
    checks.numeric_gradient_check(
        lambda t: math.exp(t + t * t), u1, got[2], f"total from {name}", context="du3/du1"
    )
