"""Cases, references and checks for problem set 6 (your own autograd engine).

Students: you may read this file and use its example cases (:func:`random_graph`,
:func:`micrograd_example`) in your own cells. Your ``Value`` must not use the course's engine or
gradient checker (``course.graph``, ``course.gradcheck``), the lessons' exercises
(``course.exercises``), micrograd, or a library that computes gradients for you: the tests
check that.

An expression is given to your code as plain data, a *program*: the numbers of the inputs (the
leaves, nodes ``0, ..., k-1``) and a list of steps, each of which makes one new node. In a step
an ``int`` is a node and a ``float`` a plain number, so ``("*", 2.0, 3)`` is ``2.0 * node3``
(the reflected form) and ``("**", 1, 3.0)`` is ``node1 ** 3.0``. The notebook's locked cell
``grads_of(program, inputs, sweeps)`` builds it with your ``Value``, calls ``backward()`` on
the last node ``sweeps`` times and returns the ``data`` and ``grad`` of every node as floats.

Every check compares those numbers with the course's engine (``course.graph``, which runs only
here, in the grader) and with centred finite differences in float64 of the program evaluated on
plain floats, through ``course.checks``, which names the likely bug.

Part (b) and the operations of part (a): when the gradients of a graph are wrong only because a
local gradient of part (a) is (they equal the backward sweep done with *your* operations' local
gradients, measured one operation at a time), part (b) keeps its points: part (a)'s tests
already charge that mistake.

Points within a test cell: :class:`Points` (``course.checks.Points``) gives each group of checks
its own points (as in problem set 5), so one slip costs the points of its group, not of the whole
cell.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from course import checks
from course.checks import Points  # noqa: F401 (support.Points in the test cells)

# code that computes the graded results for you: not allowed inside a student's function
# (packages that are not installed are skipped, and none is imported to check)
FORBID = (
    "course.graph",
    "course.gradcheck",
    *checks.ALWAYS_FORBIDDEN,
)
# What the notebook's own cells may use while the assignment is graded: the student's kernel
# gets these (and what they need) only; the checks and the reference answers run in the grader
# (see autograder/kernel_view.py)
KERNEL = ("BINARY", "UNARY", "random_graph", "micrograd_example")

#: the operations of a program: binary ones take two operands (nodes or numbers, at least one a
#: node; ``**`` a node and a number), unary ones a node
BINARY = ("+", "-", "*", "/", "**")
UNARY = ("exp", "tanh", "relu", "neg")

Step = tuple  # (op, operand, ...): an int is a node, a float a number
CHAIN_LENGTH = 100_000  # the long chain of part (b)
CHAIN_SECONDS = 20.0  # to build and sweep one chain (a test cell has 120 s, and two chains)


# -- the example cases (in the student's kernel too) -----------------------------------------------


def random_graph(
    seed: int, steps: int = 12, inputs: int = 3, ops: Sequence[str] | None = None
) -> tuple[list[Step], list[float]]:
    """A seeded random program of ``steps`` operations on ``inputs`` leaves: ``(program,
    inputs)``. Operands are drawn from every node made so far, so nodes are reused (branches).
    Inputs stay where each operation is smooth: no division by a number near 0, no ReLU or
    power of a number near 0, no exp of a large number."""
    if not isinstance(steps, int) or not isinstance(inputs, int) or steps < 1 or inputs < 1:
        raise ValueError(
            f"random_graph needs whole numbers steps >= 1 and inputs >= 1, got steps={steps!r}, "
            f"inputs={inputs!r}: for example random_graph(0, steps=8, inputs=2)"
        )
    ops = tuple(ops) if ops is not None else BINARY + UNARY
    unknown = [op for op in ops if op not in BINARY + UNARY]
    if unknown:
        raise ValueError(
            f"random_graph: unknown operations {unknown}; use some of {BINARY + UNARY}"
        )
    rng = np.random.default_rng(seed)
    values = [float(v) for v in rng.uniform(-2.0, 2.0, size=inputs)]
    values = [v if abs(v) > 0.2 else v + 0.5 for v in values]
    leaves = list(values)
    program: list[Step] = []
    while len(program) < steps:
        op = str(ops[rng.integers(len(ops))])
        i = int(rng.integers(len(values)))
        a = values[i]
        if op in UNARY:
            if (op == "exp" and a > 3.0) or (op == "relu" and abs(a) < 0.05):
                continue
            step: Step = (op, i)
        elif op == "**":
            k = float(rng.choice([2.0, 3.0, -1.0, 0.5, 1.5]))
            if abs(a) < 0.3 or abs(a) > 4.0 or (k % 1 and a <= 0):
                continue
            step = (op, i, k)
        else:
            j = int(rng.integers(len(values)))
            side = rng.integers(4)  # now and then a number on one side
            left: int | float = i
            right: int | float = j
            if side == 0:
                left = float(np.round(rng.uniform(-3.0, 3.0), 2)) or 1.5
            elif side == 1:
                right = float(np.round(rng.uniform(-3.0, 3.0), 2)) or 1.5
            den = _operand(right, values)
            if op == "/" and abs(den) < 0.3:
                continue
            step = (op, left, right)
        out = _apply_float(step, values)
        if not math.isfinite(out) or abs(out) > 50.0:
            continue
        program.append(step)
        values.append(out)
    return program, leaves


def micrograd_example() -> tuple[list[Step], list[float]]:
    """The example of micrograd's README as a program (``a = -4``, ``b = 2``; ``g`` last)."""
    program: list[Step] = [
        ("+", 0, 1),  # 2: c = a + b
        ("*", 0, 1),  # 3: a * b
        ("**", 1, 3.0),  # 4: b**3
        ("+", 3, 4),  # 5: d = a * b + b**3
        ("+", 2, 1.0),  # 6: c + 1
        ("+", 2, 6),  # 7: c += c + 1
        ("+", 1.0, 7),  # 8: 1 + c
        ("neg", 0),  # 9: -a
        ("+", 8, 9),  # 10: 1 + c + (-a)
        ("+", 7, 10),  # 11: c += 1 + c + (-a)
        ("*", 5, 2.0),  # 12: d * 2
        ("+", 1, 0),  # 13: b + a
        ("relu", 13),  # 14: (b + a).relu()
        ("+", 12, 14),  # 15: d * 2 + (b + a).relu()
        ("+", 5, 15),  # 16: d += ...
        ("*", 3.0, 16),  # 17: 3 * d
        ("-", 1, 0),  # 18: b - a
        ("relu", 18),  # 19: (b - a).relu()
        ("+", 17, 19),  # 20: 3 * d + (b - a).relu()
        ("+", 16, 20),  # 21: d += ...
        ("-", 11, 21),  # 22: e = c - d
        ("**", 22, 2.0),  # 23: f = e**2
        ("/", 23, 2.0),  # 24: f / 2.0
        ("/", 10.0, 23),  # 25: 10.0 / f
        ("+", 24, 25),  # 26: g = f / 2.0 + 10.0 / f
    ]
    return program, [-4.0, 2.0]


def _operand(x: int | float, values: Sequence[float]) -> float:
    return values[x] if type(x) is int else float(x)


def _apply_float(step: Step, values: Sequence[float]) -> float:
    """One step of a program on plain floats (the independent evaluator of the differences)."""
    op, *args = step
    xs = [_operand(a, values) for a in args]
    try:
        if op == "+":
            return xs[0] + xs[1]
        if op == "-":
            return xs[0] - xs[1]
        if op == "*":
            return xs[0] * xs[1]
        if op == "/":
            return xs[0] / xs[1]
        if op == "**":
            return xs[0] ** xs[1]
        if op == "exp":
            return math.exp(xs[0])
        if op == "tanh":
            return math.tanh(xs[0])
        if op == "relu":
            return xs[0] if xs[0] > 0 else 0.0
        if op == "neg":
            return -xs[0]
    except (OverflowError, ZeroDivisionError):
        return math.nan
    raise ValueError(f"unknown operation {op!r} in a program; use one of {BINARY + UNARY}")


# -- references (the grader only) ------------------------------------------------------------------


def evaluate(program: Sequence[Step], inputs: Sequence[float]) -> list[float]:
    """The value of every node of ``program`` on plain floats."""
    values = [float(x) for x in inputs]
    for step in program:
        values.append(_apply_float(step, values))
    return values


_BINARY_VALUE: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": lambda a, b: a**b,
}


def reference(
    program: Sequence[Step], inputs: Sequence[float], sweeps: int = 1
) -> tuple[list[float], list[float]]:
    """``(data, grad)`` of every node from the course's engine, after ``sweeps`` backward
    sweeps from the last node."""
    from course.graph import Value

    nodes = [Value(float(x)) for x in inputs]
    for op, *args in program:
        xs = [nodes[a] if type(a) is int else a for a in args]
        if op in UNARY:
            node = -xs[0] if op == "neg" else getattr(xs[0], op)()
        else:
            node = _BINARY_VALUE[op](*xs)
        nodes.append(node)
    for _ in range(sweeps):
        nodes[-1].backward()
    return [float(n.data) for n in nodes], [float(n.grad) for n in nodes]


def local_gradients(step: Step, values: Sequence[float]) -> list[float]:
    """The right local gradient of one step with respect to each of its node operands."""
    op, *args = step
    xs = [_operand(a, values) for a in args]
    if op == "+":
        d = [1.0, 1.0]
    elif op == "-":
        d = [1.0, -1.0]
    elif op == "*":
        d = [xs[1], xs[0]]
    elif op == "/":
        d = [1.0 / xs[1], -xs[0] / xs[1] ** 2]
    elif op == "**":
        d = [xs[1] * xs[0] ** (xs[1] - 1), 0.0]
    elif op == "exp":
        d = [math.exp(xs[0])]
    elif op == "tanh":
        d = [1.0 - math.tanh(xs[0]) ** 2]
    elif op == "relu":
        d = [1.0 if xs[0] > 0 else 0.0]
    else:
        d = [-1.0]
    return [g for a, g in zip(args, d) if type(a) is int]


def sweep(
    program: Sequence[Step],
    inputs: Sequence[float],
    locals_: Sequence[Sequence[float]],
    sweeps: int = 1,
    reset: bool = True,
    accumulate: bool = True,
) -> list[float]:
    """The ``.grad`` of every node after ``sweeps`` backward sweeps with the given local
    gradients (one list per step). ``reset``: intermediate nodes start each sweep from 0 (the
    rule); ``accumulate``: contributions add up at a branch (the rule)."""
    k = len(inputs)
    grads = [0.0] * (k + len(program))
    for _ in range(sweeps):
        if reset:
            for i in range(k, len(grads) - 1):
                grads[i] = 0.0
        if program:
            grads[-1] = 1.0
        else:
            grads[-1] += 1.0
        for n in range(len(program) - 1, -1, -1):
            parents = [a for a in program[n][1:] if type(a) is int]
            for p, d in zip(parents, locals_[n]):
                if accumulate:
                    grads[p] += d * grads[k + n]
                else:
                    grads[p] = d * grads[k + n]
    return grads


def numeric_gradients(program: Sequence[Step], inputs: Sequence[float]) -> list[float]:
    """Centred differences in float64 of the last node with respect to every input."""
    out = []
    for i in range(len(inputs)):
        up, down = list(inputs), list(inputs)
        h = 1e-6 * max(1.0, abs(inputs[i]))  # a step the input's rounding does not swallow
        up[i] += h
        down[i] -= h
        out.append((evaluate(program, up)[-1] - evaluate(program, down)[-1]) / (2 * h))
    return out


# -- the checks ------------------------------------------------------------------------------------


def _case(what: str, hidden: str | None) -> str:
    return what if hidden is None else f"{what}; hidden case: {hidden}"


def _describe(step: Step, hidden: str | None = None) -> str:
    """A step in words; of a hidden case, its operation alone (its numbers are inputs)."""
    op, *args = step
    if hidden is not None:
        return f"an operation {op}"
    names = [f"node {a}" if type(a) is int else f"{a:g}" for a in args]
    if op in UNARY:
        return f"-({names[0]})" if op == "neg" else f"({names[0]}).{op}()"
    return f"{names[0]} {op} {names[1]}"


def _call(
    func: Callable, program: Sequence[Step], inputs: Sequence[float], sweeps: int, where: str
):
    __tracebackhide__ = True
    try:
        got = checks.call_student(
            func, [list(s) for s in program], list(inputs), sweeps, part=None, forbid=FORBID
        )
    except OverflowError as exc:
        found = checks.Diagnosis(
            "overflow",
            "exp of a large number overflows (math.exp(710.0) already does): arrange the "
            "computation so that exp never sees a large positive number.",
        )
        raise checks.CheckFailure(
            f"Your Value is not numerically stable ({where}): it raised OverflowError "
            f"({str(exc)[:60]}).\n  Likely bug: {found.message}",
            name="grads_of",
            problem="unstable",
            diagnoses=[found],
        ) from None
    n = len(inputs) + len(program)
    if (
        not isinstance(got, (tuple, list))
        or len(got) != 2
        or not all(isinstance(g, (tuple, list)) and len(g) == n for g in got)
    ):
        raise checks.CheckFailure(
            f"grads_of ({where}) should return two lists of {n} numbers (the data and the grad of "
            f"every node), but it returned {checks._short(got)}. Do not change the helper cell; "
            "check that data and grad of your Value are numbers.",
            name="grads_of",
            problem="wrong_type",
        )
    data, grad = got
    return data, grad


#: usual mistakes of one operation: op -> {explanation: wrong local gradients (of the node
#: operands, as a function of the operand values)}
_LOCAL_MISTAKES: dict[str, dict[str, Callable[[list[float]], list[float]]]] = {
    "/": {
        "the local gradient of a / b with respect to the divisor b has the wrong sign: "
        "differentiate a / b as a function of b again.": lambda x: [1 / x[1], x[0] / x[1] ** 2],
        "the local gradient of a / b with respect to the divisor b leaves out the dividend a: "
        "differentiate a / b as a function of b again.": lambda x: [1 / x[1], -1 / x[1] ** 2],
        "the local gradient of a / b with respect to a is not the one of dividing by b: "
        "differentiate a / b as a function of a again.": lambda x: [x[1], -x[0] / x[1] ** 2],
    },
    "**": {
        "your local gradient of a ** k still has the power it had before differentiating: "
        "apply the power rule again.": lambda x: [x[1] * x[0] ** x[1]],
        "a factor is missing in front of your local gradient of a ** k: apply the power rule "
        "again.": lambda x: [x[0] ** (x[1] - 1)],
        "the factor in front of your local gradient of a ** k is not the power rule's: apply "
        "the power rule again.": lambda x: [(x[1] - 1) * x[0] ** (x[1] - 1)],
    },
    "tanh": {
        "the local gradient of tanh is written with the square of its input: it is a function "
        "of tanh's output (the node's data), not of the input.": lambda x: [1 - x[0] ** 2],
        "the local gradient of tanh is missing a square.": lambda x: [1 - math.tanh(x[0])],
    },
    "exp": {
        "exp is differentiated as if it were a power of a (by the power rule): e^a is an "
        "exponential, whose derivative is a rule of its own (lesson 02).": lambda x: [
            x[0] * math.exp(x[0] - 1)
        ],
    },
    "relu": {
        "relu'(0) = 0 in this course (as in PyTorch): at exactly 0 the local gradient of "
        "relu is 0, not 1.": lambda x: [1.0 if x[0] >= 0 else 0.0],
        "the local gradient of relu is its output, not its slope.": lambda x: [max(x[0], 0.0)],
    },
    "-": {
        "the local gradient of c - v (a number on the left, the reflected form) has the "
        "wrong sign: it is the one of v - c.": lambda x: [0.0, 1.0],  # (c, v)
    },
}


def _wrong_locals(step: Step, values: list[float]) -> dict[str, list[float]]:
    """The local gradients of ``step`` (of its node operands) under each usual mistake of its
    operation that changes them here."""
    op = step[0]
    right = local_gradients(step, values)
    out: dict[str, list[float]] = {}
    if op == "-" and type(step[1]) is int:  # only the reflected form c - v has a usual slip
        return out
    xs = [_operand(a, values) for a in step[1:]]
    for text, wrong in _LOCAL_MISTAKES.get(op, {}).items():
        try:
            w = wrong(xs)
        except (OverflowError, ZeroDivisionError, ValueError):
            continue
        w = [g for a, g in zip(step[1:], w + [0.0]) if type(a) is int][: len(right)]
        if w != right:
            out[text] = w
    return out


def _mistaken_grads(
    program: Sequence[Step], inputs: Sequence[float], values: list[float], sweeps: int
) -> dict[str, list[float]]:
    """Known wrong answers (``.grad`` of every node) of the usual mistakes on this program."""
    right = [local_gradients(s, values) for s in program]
    wrongs = [_wrong_locals(s, values) for s in program]
    out: dict[str, list[float]] = {}
    for table in _LOCAL_MISTAKES.values():
        for text in table:
            if any(text in w for w in wrongs):
                locals_ = [w.get(text, r) for w, r in zip(wrongs, right)]
                out[text] = sweep(program, inputs, locals_, sweeps)
    out[
        "a node used twice (a branch) gets its gradient overwritten instead of added up: "
        "each use of a node adds its contribution to the node's grad."
    ] = sweep(program, inputs, right, sweeps, accumulate=False)
    if sweeps > 1:
        out[
            "a second backward() starts the intermediate nodes from the grad the first one left: "
            "only the leaves (nodes without parents) accumulate over sweeps; every other node "
            "must start each sweep from 0."
        ] = sweep(program, inputs, right, sweeps, reset=False)
        out[
            "the leaves are reset at each backward(): by PyTorch's rule a leaf accumulates over "
            "sweeps (only zero_grad resets it), so two sweeps leave twice its gradient."
        ] = sweep(program, inputs, right, 1)
    return out


def _usual_locals(
    program: Sequence[Step], measured: Sequence[Sequence[float]], values: list[float]
) -> bool:
    """Whether each operation's measured local gradients are its right ones or those of one of
    its usual mistakes (:data:`_LOCAL_MISTAKES`). Part (b)'s second chance holds only then: an
    operation that answers its own tests right and something else when measured (its kernel
    remembers what ran before) is charged by nothing."""
    for step, got in zip(program, measured, strict=True):
        right = local_gradients(step, values)
        for want in (right, *_wrong_locals(step, values).values()):
            if len(got) == len(want) and np.allclose(got, want, rtol=1e-7, atol=1e-9):
                break
        else:
            return False
    return True


def _own_locals(
    func: Callable, program: Sequence[Step], values: list[float]
) -> list[list[float]] | None:
    """The local gradients of the student's operations at the nodes of ``program``, measured
    one operation at a time on fresh leaves (None if that fails)."""
    out = []
    try:
        for step in program:
            op, *args = step
            leaves = [values[a] for a in args if type(a) is int]
            it = iter(range(len(leaves)))
            one = (op, *[next(it) if type(a) is int else a for a in args])
            _, grad = func([list(one)], leaves, 1)
            out.append([float(g) for g in grad[: len(leaves)]])
    except Exception as exc:  # noqa: BLE001 (the measure is only a second chance)
        if type(exc).__name__ == "KernelGone":
            raise
        return None
    return out


def check_graph(
    func: Callable,
    program: Sequence[Step],
    inputs: Sequence[float],
    what: str,
    sweeps: int = 1,
    nodes: str = "leaves",
    own_locals: bool = False,
    hidden: str | None = None,
) -> None:
    """Build ``program`` on ``inputs`` with the student's ``Value`` through the notebook's
    ``grads_of``, sweep ``sweeps`` times, and compare every node's data and the grads of
    ``nodes`` (``"leaves"`` or ``"all"``) with the course's engine and finite differences.

    ``own_locals``: part (b)'s second chance (see the module doc): a wrong answer that equals
    the sweep done with the student's own local gradients passes, and says so.
    """
    __tracebackhide__ = True
    program = [tuple(s) for s in program]
    inputs = [float(x) for x in inputs]
    k = len(inputs)
    where = _case(
        f"{what}, {len(program)} operations"
        + (f", {sweeps} backward() calls" if sweeps > 1 else ""),
        hidden,
    )
    data, grad = _call(func, program, inputs, sweeps, where)
    want_data, want_grad = reference(program, inputs, sweeps)
    for n, (g, w) in enumerate(zip(data, want_data)):
        label = "input" if n < k else _describe(program[n - k], hidden)
        checks.check_array(
            f"data of node {n} ({label})", g, w, context=where, rtol=1e-9, atol=1e-12
        )
    upto = k if nodes == "leaves" else k + len(program)
    mistakes = {
        text: wrong[:upto]
        for text, wrong in _mistaken_grads(program, inputs, want_data, sweeps).items()
    }
    name = "grads of the inputs" if nodes == "leaves" else "grads of the nodes"
    try:
        checks.check_array(
            f"{name} after backward()",
            grad[:upto],
            want_grad[:upto],
            context=where,
            rtol=1e-7,
            atol=1e-9,
            mistakes=mistakes,
        )
    except checks.CheckFailure:
        if own_locals:
            measured = _own_locals(func, program, want_data)
            right = [local_gradients(s, want_data) for s in program]
            if (
                measured is not None
                and _usual_locals(program, measured, want_data)
                and not np.allclose(
                    np.concatenate([np.ravel(m) for m in measured] + [[0.0]]),
                    np.concatenate([np.ravel(r) for r in right] + [[0.0]]),
                    rtol=1e-7,
                    atol=1e-9,
                )
            ):
                own = sweep(program, inputs, measured, sweeps)
                if np.allclose(grad[:upto], own[:upto], rtol=1e-7, atol=1e-9):
                    print(
                        f"{where}: your gradients are the backward sweep done with your own "
                        "operations of part (a), whose local gradients are wrong here; part "
                        "(a)'s tests charge that mistake, so this check passes. Fix the "
                        "operations and this result will be right too."
                    )
                    return
        raise
    if sweeps == 1 and program and not _near_kink(program, want_data):
        checks.check_array(
            f"{name} after backward()",
            grad[:k],
            numeric_gradients(program, inputs),
            context=f"{where}, compared with finite differences",
            rtol=1e-5,
            atol=1e-6,
        )


def _near_kink(program: Sequence[Step], values: Sequence[float]) -> bool:
    """Whether a relu of the program has its input so close to 0 that differences cross it."""
    return any(s[0] == "relu" and abs(_operand(s[1], values)) < 1e-3 for s in program)


def check_forward(
    func: Callable,
    program: Sequence[Step],
    inputs: Sequence[float],
    what: str,
    hidden: str | None = None,
) -> None:
    """The data of every node only (no gradient), e.g. for very large inputs."""
    __tracebackhide__ = True
    program = [tuple(s) for s in program]
    inputs = [float(x) for x in inputs]
    where = _case(what, hidden)
    data, _ = _call(func, program, inputs, 0, where)
    want = evaluate(program, inputs)
    for n, (g, w) in enumerate(zip(data, want)):
        label = "input" if n < len(inputs) else _describe(program[n - len(inputs)], hidden)
        checks.check_array(
            f"data of node {n} ({label})", g, w, context=where, rtol=1e-9, atol=1e-12
        )


def check_chain(
    func: Callable,
    n: int,
    x: float,
    factor: float,
    seconds: float = CHAIN_SECONDS,
    hidden: str | None = None,
) -> None:
    """A chain ``v = x; v = v * factor`` (``n`` times), swept through the notebook's
    ``chain_of(n, x, factor)``: the leaf's grad is ``factor ** n``, without RecursionError and
    within ``seconds`` (building and sweeping)."""
    __tracebackhide__ = True
    where = _case(f"a chain of {n} multiplications", hidden)
    slow = checks.Diagnosis(
        "too_slow",
        "the sweep takes more than a constant time per node: a search in a list (`node in "
        "visited` with a list) for every node makes it quadratic. Keep the nodes you have "
        "seen in a set, and visit each node once.",
    )
    start = time.perf_counter()
    try:
        got = checks.call_student(func, n, x, factor, part=None, forbid=FORBID)
    except RecursionError as exc:
        found = checks.Diagnosis(
            "recursion",
            "your topological order (or backward) is recursive: Python stops after about "
            "1000 nested calls, and a chain of this length needs as many. Walk the graph with "
            "an explicit stack (a list you append to and pop from) instead.",
        )
        raise checks.CheckFailure(
            f"Your backward() on {where} raised RecursionError ({str(exc)[:80]}).\n"
            f"  Likely bug: {found.message}",
            name="backward",
            problem="recursion",
            diagnoses=[found],
        ) from None
    except Exception as exc:
        if type(exc).__name__ != "CallTimeout":  # the grader's: the kernel did not answer
            raise
        raise checks.CheckFailure(
            f"Your backward() on {where} did not finish in the time the grader gives a call.\n"
            f"  Likely bug: {slow.message}",
            name="backward",
            problem="too_slow",
            diagnoses=[slow],
        ) from None
    took = time.perf_counter() - start
    if took > seconds:
        raise checks.CheckFailure(
            f"Your Value took {took:.1f} s to build and sweep {where}; at most {seconds:g} s "
            f"is allowed (the course's engine needs well under a second).\n"
            f"  Likely bug: {slow.message}",
            name="backward",
            problem="too_slow",
            diagnoses=[slow],
        )
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise checks.CheckFailure(
            f"chain_of ({where}) should return (data, grad), but it returned "
            f"{checks._short(got)}. Do not change the helper cell.",
            name="chain_of",
            problem="wrong_type",
        )
    data, grad = got
    checks.check_array(f"data of the chain's last node ({where})", data, x * factor**n, rtol=1e-8)
    checks.check_array(f"grad of the chain's input ({where})", grad, factor**n, rtol=1e-8)
