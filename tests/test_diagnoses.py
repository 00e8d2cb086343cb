"""Diagnoses that are right: the usual mistakes of ps1, ps3 and ps5, made as a student makes them.

Each case is a student's function with one realistic mistake, run through the same check that
the assignment's test cell calls (``ps1_support.check_*``, ``ps3_support.check_*``, ...). The check
must fail with the diagnosis that names the mistake (``kind``, and words of its message), with
no second diagnosis beside it, and without words that would misread it (``+=`` to a student who
adds, "forgot the upstream gradient" for a near-tie, "is wrong" with an error it calls
allowed). Hidden cases are checked as the hidden tests check them (``hidden=``): their messages
name the kind of case and never its inputs.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import math
import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from course import checks

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "source_assignments"


@pytest.fixture(scope="module")
def support(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ModuleType]:
    """The support modules, imported from copies (no ``__pycache__`` in the repository), as the
    notebooks import them."""
    modules = {}
    for assignment in ("ps1", "ps2", "ps3", "ps4", "ps5", "ps6", "ps7"):
        folder = tmp_path_factory.mktemp(assignment)
        shutil.copy(SOURCES / assignment / f"{assignment}_support.py", folder)
        name = f"{assignment}_support"
        spec = importlib.util.spec_from_file_location(name, folder / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up
        dont_write = sys.dont_write_bytecode
        sys.dont_write_bytecode = True
        try:
            spec.loader.exec_module(module)
        finally:
            sys.dont_write_bytecode = dont_write
        modules[assignment] = module
    return modules


@dataclass(frozen=True)
class Mistake:
    """A student's answer with one mistake, the check that runs it, and what it must say.

    ``run(support, func)`` calls the check as a test cell does; ``kind`` is the diagnosis (or,
    for a failure without one, the ``problem``); ``says`` words the message must contain,
    ``never`` words it must not.
    """

    assignment: str
    code: str
    run: Callable[[ModuleType, Callable], None]
    kind: str
    says: tuple[str, ...] = ()
    never: tuple[str, ...] = ()


def _gate(op, inputs, upstream, hidden=None):
    def run(support, func):
        support.check_gate(func, op, inputs, upstream, hidden=hidden)

    return run


def _graph(example, *args, hidden=None):
    def run(support, func):
        support.check_backward(func, getattr(support, example)(*args), hidden=hidden)

    return run


def _direct_indirect(u1):
    def run(support, func):
        support.check_direct_indirect(func, u1)

    return run


def _affine(seed, n_prev, n, m, hidden=None):
    def run(support, func):
        support.check_affine_backward(
            func, **support.affine_case(seed, n_prev, n, m), hidden=hidden
        )

    return run


def _softmax(large=False):
    def run(support, func):
        if large:
            Z, y = support.large_logits_cases()[0]
            support.check_softmax_ce(func, Z, y, numeric=False)
        else:
            support.check_softmax_ce(func, *support.logits_case(51, 5, 8))

    return run


def _sq_norm(run_support, func):
    run_support.check_sq_norm(func, *run_support.lecture_example())


def _network(l2, kink=False, hidden=None):
    def run(support, func):
        if kink:
            X, y, params = support.kink_case(91, 3, 5, 3, 6)
        else:
            X, y, params = support.network_case(81, n0=3, n1=4, K=3, m=5)
        support.check_two_layer(func, X, y, params, l2, hidden=hidden)

    return run


SWEEP = """
def backward(graph):
    grads = {{node["name"]: 0.0 for node in graph}}
    grads[graph[-1]["name"]] = 1.0
    for node in {order}:
        upstream = grads[node["name"]]
        for parent, local in {edges}:
            grads[parent] {update} local * upstream
    return grads
"""


def _sweep(
    order="reversed(graph)", edges='zip(node["parents"], node["local"])', update="+="
) -> str:
    return SWEEP.format(order=order, edges=edges, update=update)


def _array_sweep(dtype: str) -> str:
    return f"""
def backward(graph):
    index = {{node["name"]: i for i, node in enumerate(graph)}}
    grads = np.zeros(len(graph), dtype={dtype})
    grads[-1] = 1
    for i in range(len(graph) - 1, -1, -1):
        for parent, local in zip(graph[i]["parents"], graph[i]["local"]):
            grads[index[parent]] += local * grads[i]
    return {{node["name"]: grads[i] for i, node in enumerate(graph)}}
"""


BREADTH_FIRST = """
def backward(graph):
    by_name = {node["name"]: node for node in graph}
    grads = {node["name"]: 0.0 for node in graph}
    out = graph[-1]["name"]
    grads[out] = 1.0
    queue, seen = [out], {out}
    while queue:
        name = queue.pop(0)
        for parent, local in zip(by_name[name]["parents"], by_name[name]["local"]):
            grads[parent] += local * grads[name]
            if parent not in seen:
                seen.add(parent)
                queue.append(parent)
    return grads
"""

RECURSIVE = """
def backward(graph):
    by_name = {node["name"]: node for node in graph}
    grads = {node["name"]: 0.0 for node in graph}
    grads[graph[-1]["name"]] = 1.0

    def visit(name):
        node = by_name[name]
        for parent, local in zip(node["parents"], node["local"]):
            grads[parent] += local * grads[name]
            visit(parent)

    visit(graph[-1]["name"])
    return grads
"""


def _max(tie: str, a_larger: str = "upstream, 0.0", b_larger: str = "0.0, upstream") -> str:
    return f"""
def max_backward(a, b, upstream):
    if a > b:
        return {a_larger}
    if a < b:
        return {b_larger}
    return {tie}
"""


def _affine_backward(dA="W.T @ dZ", dW="dZ @ A_prev.T", db="dZ.sum(axis=1, keepdims=True)"):
    return f"""
def affine_backward(dZ, cache):
    A_prev, W, b = cache
    m = dZ.shape[1]
    return {dA}, {dW}, {db}
"""


SOFTMAX = """
def softmax_cross_entropy(Z, y):
    K, m = Z.shape
    S = Z - Z.max(axis={axis}, keepdims=True)
    L = S - np.log(np.exp(S).sum(axis={axis}, keepdims=True))
    P = np.exp(L)
    T = np.zeros_like(Z)
    T[y, np.arange(m)] = 1.0
    return float(-L[y, np.arange(m)].mean()), {dZ}
"""

NAIVE_SOFTMAX = """
def softmax_cross_entropy(Z, y):
    K, m = Z.shape
    P = np.exp(Z) / np.exp(Z).sum(axis=0, keepdims=True)
    J = -np.log(P[y, np.arange(m)]).mean()
    P[y, np.arange(m)] -= 1.0
    return float(J), P / m
"""


def _sq_norm_code(dW="2 * m @ x.T", dx="2 * W.T @ m") -> str:
    return f"""
def sq_norm_grads(x, W):
    m = W @ x
    return float(np.sum(m**2)), {dW}, {dx}
"""


def _network_code(divide="m", decay="2 * l2", bias_decay="0.0", mask="Z1 > 0", dZ2="P - T") -> str:
    return f"""
def two_layer_loss_and_grads(X, y, params, l2):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    m = X.shape[1]
    cols = np.arange(m)
    Z1 = W1 @ X + b1
    A1 = np.maximum(Z1, 0)
    Z2 = W2 @ A1 + b2
    S = Z2 - Z2.max(axis=0, keepdims=True)
    L = S - np.log(np.exp(S).sum(axis=0, keepdims=True))
    P = np.exp(L)
    T = np.zeros_like(P)
    T[y, cols] = 1.0
    J = -L[y, cols].mean() + l2 * (np.sum(W1**2) + np.sum(W2**2))
    dZ2 = ({dZ2}) / ({divide})
    dW2 = dZ2 @ A1.T + {decay} * W2
    db2 = dZ2.sum(axis=1, keepdims=True) + {bias_decay} * b2
    dZ1 = (W2.T @ dZ2) * ({mask})
    dW1 = dZ1 @ X.T + {decay} * W1
    db1 = dZ1.sum(axis=1, keepdims=True) + {bias_decay} * b1
    return float(J), {{"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}}
"""


def _deep_network_code(divide="m", decay="2 * l2", bias_decay="0.0") -> str:
    """ps5's loss_and_grads, written in one function (its layers inline)."""
    return f"""
def loss_and_grads(X, y, params, l2):
    L = len(params) // 2
    m = X.shape[1]
    cols = np.arange(m)
    A, Zs, As = X, [], [X]
    for l in range(1, L + 1):
        Z = params[f"W{{l}}"] @ A + params[f"b{{l}}"]
        Zs.append(Z)
        A = np.maximum(Z, 0)
        As.append(A)
    S = Z - Z.max(axis=0, keepdims=True)
    logp = S - np.log(np.exp(S).sum(axis=0, keepdims=True))
    J = -logp[y, cols].mean() + l2 * sum(np.sum(params[f"W{{l}}"] ** 2) for l in range(1, L + 1))
    dZ = np.exp(logp)
    dZ[y, cols] -= 1.0
    dZ = dZ / ({divide})
    grads = {{}}
    for l in range(L, 0, -1):
        W, b = params[f"W{{l}}"], params[f"b{{l}}"]
        grads[f"W{{l}}"] = dZ @ As[l - 1].T + {decay} * W
        grads[f"b{{l}}"] = dZ.sum(axis=1, keepdims=True) + {bias_decay} * b
        if l > 1:
            dZ = (W.T @ dZ) * (Zs[l - 2] > 0)
    return float(J), grads
"""


def _deep_network(l2, hidden=None):
    def run(support, func):
        X, y, params = support.network_case(82, [4, 5, 3, 3], m=5)
        support.check_network(func, X, y, params, l2, hidden=hidden)

    return run


def _ps5_affine(run_support, func):
    run_support.check_affine_backward(func, **run_support.affine_case(12, 4, 3, 5))


def _ps5_activation(which):
    def run(support, func):
        case = support.activation_case(31, 4, 6)
        getattr(support, f"check_{which}_backward")(func, case["Z"], case["dA"])

    return run


def _ps5_grad_check(run_support, func):
    x = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.5]])
    run_support.check_grad_check(func, "sum of squares", x, 0.1, expected=2 * x)


GRAD_CHECK = """
def grad_check_on(name, x, h):
    f = TEST_FUNCTIONS[name]
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
        base = f(x)
        x[i] = old + h
        grad[i] = (f(x) - base) / h
        x[i] = old
    return grad
"""


NEAR_TIE = "two inputs that are close but not equal"

MISTAKES: dict[str, Mistake] = {
    # -- ps1 (a): the gates --------------------------------------------------------------------
    "add: forgot the upstream gradient": Mistake(
        "ps1",
        "def add_backward(a, b, upstream):\n    return 1.0, 1.0\n",
        _gate("+", (0.5, 4.0), -2.5),
        "forgot_upstream",
        ("forgot to multiply by the upstream gradient",),
    ),
    "mul: the inputs not switched": Mistake(
        "ps1",
        "def mul_backward(a, b, upstream):\n    return a * upstream, b * upstream\n",
        _gate("*", (2.0, -3.0), 1.0),
        "multiply_not_switched",
        ("switches its inputs",),
        ("sign is flipped",),
    ),
    "max: routed to the smaller input": Mistake(
        "ps1",
        _max("upstream / 2, upstream / 2", "0.0, upstream", "upstream, 0.0"),
        _gate("max", (3.0, 1.0), 2.0),
        "max_routed_wrong",
        ("routed the wrong way",),
    ),
    "max: a tie given all to a (>=)": Mistake(
        "ps1",
        "def max_backward(a, b, upstream):\n"
        "    return (upstream, 0.0) if a >= b else (0.0, upstream)\n",
        _gate("max", (2.0, 2.0), 1.0),
        "max_tie",
        ("half and half", "You gave all of it to a"),
        ("2 times", "factor of 2"),
    ),
    "max: a tie given to neither": Mistake(
        "ps1",
        _max("0.0, 0.0"),
        _gate("max", (2.0, 2.0), 1.0),
        "max_tie",
        ("half and half", "You gave it to neither"),
    ),
    "max: a near-tie read as a tie": Mistake(
        "ps1",
        "def max_backward(a, b, upstream):\n"
        "    if np.isclose(a, b):\n"
        "        return upstream / 2, upstream / 2\n"
        "    return (upstream, 0.0) if a > b else (0.0, upstream)\n",
        _gate("max", (1e-9, 0.0), 2.0, hidden=NEAR_TIE),
        "max_near_tie",
        ("not a tie", "np.isclose", f"max_backward on a hidden case ({NEAR_TIE})"),
        ("forgot", "upstream gradient: the gradient", "half the right ones", "1e-09"),
    ),
    "reciprocal: the sign": Mistake(
        "ps1",
        "def reciprocal_backward(a, upstream):\n    return upstream / (a * a)\n",
        _gate("1/x", (2.0,), 1.0),
        "reciprocal_sign",
        ("wrong sign: differentiate 1/a",),
        ("1/a^2", "-1/a", "a**2", "a^-2"),
    ),
    "reciprocal: the power": Mistake(
        "ps1",
        "def reciprocal_backward(a, upstream):\n    return -upstream / a\n",
        _gate("1/x", (-0.5,), 3.0),
        "reciprocal_power",
        ("wrong power of a",),
        ("1/a^2", "a**2", "a^-2", "a^(-2)"),
    ),
    "reciprocal: the gate's value for its derivative": Mistake(
        "ps1",
        "def reciprocal_backward(a, upstream):\n    return upstream / a\n",
        _gate("1/x", (2.0,), 1.0),
        "reciprocal_value",
        ("wrong sign and power", "Differentiate 1/a"),
        ("1/a^2", "-1/a", "ln a"),
    ),
    "exp: forgot the upstream gradient": Mistake(
        "ps1",
        "def exp_backward(a, upstream):\n    return math.exp(a)\n",
        _gate("exp", (1.0,), 2.0),
        "forgot_upstream",
        ("forgot to multiply by the upstream gradient",),
        ("half the right ones",),
    ),
    "add: returned None": Mistake(
        "ps1",
        "def add_backward(a, b, upstream):\n    da = upstream\n    db = upstream\n",
        _gate("+", (2.0, -3.0), 1.0),
        "returned_none",
        ("Did you forget `return`?",),
    ),
    # -- ps1 (b): the sweep --------------------------------------------------------------------
    "sweep: the nodes in creation order, with +=": Mistake(
        "ps1",
        _sweep(order="graph"),
        _graph("branch_example"),
        "visit_order",
        ("visited in the wrong order", "from the first node created to the last"),
        ("overwritten", "grad +=", "use +="),
    ),
    "sweep: a queue from the output": Mistake(
        "ps1",
        BREADTH_FIRST,
        _graph("random_example", 203, hidden="a random graph"),
        "visit_order",
        ("visited in the wrong order", "a hidden graph: a random graph"),
        ("overwritten", "grad +=", "seed"),
    ),
    "sweep: a node passed on each time it is reached": Mistake(
        "ps1",
        RECURSIVE,
        _graph("random_example", 203, hidden="a random graph"),
        "passed_on_more_than_once",
        ("more than once",),
        ("overwritten", "seed"),
    ),
    "sweep: overwritten at a branch (= for +=)": Mistake(
        "ps1",
        _sweep(update="="),
        _graph("branch_example"),
        "overwritten_at_branch",
        ("overwritten instead of added at a branch", "grad +="),
        ("wrong order",),
    ),
    "sweep: the same parent twice counted once": Mistake(
        "ps1",
        _sweep(edges='dict(zip(node["parents"], node["local"])).items()'),
        _graph("square_example"),
        "repeated_parent",
        ("the same parent twice", "two edges"),
        ("overwritten",),
    ),
    "sweep: integers (an int array)": Mistake(
        "ps1",
        _array_sweep("int"),
        _graph("sigmoid_example"),
        "wrong_dtype",
        ("returns numbers of type int64", "an integer has no digits after the point"),
        ("is wrong",),
    ),
    "sweep: float32": Mistake(
        "ps1",
        _array_sweep("np.float32"),
        _graph("branch_example"),
        "wrong_dtype",
        ("5 of 5 gradients hold numbers of the wrong type", "returns numbers of type float32"),
        ("is wrong", "are wrong", "relative error"),
    ),
    # -- ps1 (c): direct and indirect effects ----------------------------------------------------
    "direct_indirect: u2's value for its derivative": Mistake(
        "ps1",
        "def direct_indirect(u1):\n"
        "    u3 = math.exp(u1 + u1**2)\n"
        "    return u3, u3 * u1**2, u3 + u3 * u1**2\n",
        _direct_indirect(0.3),
        "known_mistake",
        ("the value of u2 = u1^2 where its local gradient du2/du1 belongs",),
        ("2 u1",),
    ),
    "direct_indirect: the total without the indirect path": Mistake(
        "ps1",
        "def direct_indirect(u1):\n    u3 = math.exp(u1 + u1**2)\n    return u3, u3 * 2 * u1, u3\n",
        _direct_indirect(1.0),
        "known_mistake",
        ("keeps only the direct effect",),
    ),
    # -- ps3 (a): the affine layer -------------------------------------------------------------
    "affine: transposed dW": Mistake(
        "ps3",
        _affine_backward(dW="A_prev @ dZ.T"),
        _affine(13, 4, 3, 5),
        "transpose",
        ("transpose of the right one",),
    ),
    "affine: divided by m again": Mistake(
        "ps3",
        _affine_backward(dW="dZ @ A_prev.T / m"),
        _affine(13, 4, 3, 5),
        "factor_m_small",
        ("m = 5 times too small",),
    ),
    "affine: db not summed over the batch": Mistake(
        "ps3",
        _affine_backward(db="dZ"),
        _affine(13, 4, 3, 5),
        "not_summed_over_batch",
        ("not summed over the batch",),
        ("dZ.sum", "keepdims"),
    ),
    "affine: db of shape (n,) for (n, 1)": Mistake(
        "ps3",
        _affine_backward(db="dZ.sum(axis=1)"),
        _affine(13, 4, 3, 5),
        "reshape",
        ("the numbers are right but the shape is not",),
    ),
    "affine: W where W.T belongs": Mistake(
        "ps3",
        _affine_backward(dA="W @ dZ"),
        _affine(34, 4, 4, 4, hidden="random shapes"),
        "known_mistake",
        ("where its transpose belongs", "hidden case: random shapes"),
        ("W.T @ dZ", "dA_prev ="),
    ),
    "affine: integers (an int array for db)": Mistake(
        "ps3",
        """
def affine_backward(dZ, cache):
    A_prev, W, b = cache
    n, m = dZ.shape
    db = np.zeros((n, 1), dtype=int)
    for i in range(m):
        for k in range(n):
            db[k, 0] += dZ[k, i]
    return W.T @ dZ, dZ @ A_prev.T, db
""",
        _affine(13, 4, 3, 5),
        "wrong_dtype",
        ("db from affine_backward", "returns numbers of type int64", "no digits after the point"),
        ("is wrong",),
    ),
    "affine: float32": Mistake(
        "ps3",
        """
def affine_backward(dZ, cache):
    A_prev, W, b = (a.astype(np.float32) for a in cache)
    dZ = dZ.astype(np.float32)
    return W.T @ dZ, dZ @ A_prev.T, dZ.sum(axis=1, keepdims=True)
""",
        _affine(35, 7, 1, 30, hidden="random shapes"),  # was "is wrong" at an error of 5e-8
        "wrong_dtype",
        ("returns numbers of type float32", "compute in float64"),
        ("is wrong", "relative error"),
    ),
    # -- ps3 (b): softmax cross-entropy ----------------------------------------------------------
    "softmax: no log-sum-exp (unstable)": Mistake(
        "ps3",
        NAIVE_SOFTMAX,
        _softmax(large=True),
        "no_log_sum_exp",
        ("not numerically stable", "log-sum-exp"),
        ("Z - max", "log(sum(exp"),
    ),
    "softmax: along the wrong axis": Mistake(
        "ps3",
        SOFTMAX.format(axis=1, dZ="(P - T) / m"),
        _softmax(),
        "known_mistake",
        ("wrong axis",),
        ("axis=0",),
    ),
    "softmax: dZ without 1/m": Mistake(
        "ps3",
        SOFTMAX.format(axis=0, dZ="P - T"),
        _softmax(),
        "factor_m_large",
        ("m = 8 times too large",),
    ),
    # -- ps3 (c): the gradient of ||W x||^2 --------------------------------------------------------
    "sq_norm: W where W.T belongs": Mistake(
        "ps3",
        _sq_norm_code(dx="2 * W @ m"),
        _sq_norm,
        "known_mistake",
        ("where its transpose belongs",),
        ("2 W^T m", "2 W.T m", "W.T @ m"),
    ),
    "sq_norm: dW without its 2": Mistake(
        "ps3",
        _sq_norm_code(dW="m @ x.T"),
        _sq_norm,
        "factor_2_small",
        ("exactly half the right ones",),
    ),
    # -- ps3 (d): the two-layer network ------------------------------------------------------------
    "network: relu(Z1) where relu'(Z1) belongs": Mistake(
        "ps3",
        _network_code(mask="A1"),
        _network(0.0),
        "known_mistake",
        ("where its derivative belongs",),
        ("(Z1 > 0)", "dZ1 ="),
    ),
    "network: weight decay on the biases": Mistake(
        "ps3",
        _network_code(bias_decay="2 * l2"),
        _network(0.1),
        "known_mistake",
        ("L2 weight decay applied to the biases",),
        ("2 l2 b",),
    ),
    "network: relu'(0) = 1 at the kink": Mistake(
        "ps3",
        _network_code(mask="Z1 >= 0"),
        _network(0.02, kink=True, hidden="units exactly at the ReLU's kink"),
        "known_mistake",
        ("relu'(0) = 0", "hidden case: units exactly at the ReLU's kink"),
        ("(Z1 > 0)", "(Z1 >= 0)", "l2 = 0.02"),
    ),
    "network: the decay's gradient off by 2": Mistake(
        "ps3",
        _network_code(decay="l2"),
        _network(0.1),
        "known_mistake",
        ("off by 2",),
        ("2 l2 W",),
    ),
    "network: the sign of dZ2": Mistake(
        "ps3",
        _network_code(dZ2="T - P"),
        _network(0.0),
        "sign",
        ("sign is flipped",),
    ),
    # -- ps5: layers, a network of any depth, a gradient checker --------------------------------
    "ps5 affine: transposed dW": Mistake(
        "ps5",
        _affine_backward(dW="A_prev @ dZ.T"),
        _ps5_affine,
        "transpose",
        ("transpose of the right one",),
    ),
    "ps5 affine: db not summed over the batch": Mistake(
        "ps5",
        _affine_backward(db="dZ"),
        _ps5_affine,
        "not_summed_over_batch",
        ("not summed over the batch",),
        ("dZ.sum", "keepdims"),
    ),
    "ps5 relu: the slope decided by dA, not Z": Mistake(
        "ps5",
        "def relu_backward(dA, cache):\n    return dA * (dA > 0)\n",
        _ps5_activation("relu"),
        "known_mistake",
        ("the slope is taken at the wrong place", "depends only on its input Z"),
        ("(Z > 0)", "Z > 0"),
    ),
    "ps5 sigmoid: the slope taken at A": Mistake(
        "ps5",
        "def sigmoid_backward(dA, cache):\n"
        "    s = 1 / (1 + np.exp(-cache))\n"
        "    return dA * s * (1 - s)\n",
        _ps5_activation("sigmoid"),
        "known_mistake",
        ("the slope is taken at the wrong place",),
        ("A * (1 - A)", "A (1 - A)", "A(1-A)"),
    ),
    "ps5 network: no 1/m": Mistake(
        "ps5",
        _deep_network_code(divide="1"),
        _deep_network(0.1),
        "known_mistake",
        ("did not divide by m = 5",),
        ("/ m", "dZ /="),
    ),
    "ps5 network: weight decay on the biases": Mistake(
        "ps5",
        _deep_network_code(bias_decay="2 * l2"),
        _deep_network(0.05, hidden="random"),
        "known_mistake",
        ("L2 weight decay applied to the biases", "hidden case: random"),
        ("l2 = 0.05", "2 l2 b"),
    ),
    "ps5 network: the decay's gradient l2 W": Mistake(
        "ps5",
        _deep_network_code(decay="l2"),
        _deep_network(0.1),
        "known_mistake",
        ("off by a factor of 2", "half the right one"),
        ("2 * l2", "2 l2 W"),
    ),
    "ps5 grad_check: a one-sided difference": Mistake(
        "ps5",
        GRAD_CHECK,
        _ps5_grad_check,
        "known_mistake",
        ("one-sided difference",),
        ("2 * h", "2h)", "(2h"),
    ),
}


def student(code: str, support: ModuleType | None = None) -> Callable:
    """The function that ``code`` defines, as a student's cell defines it (ps5's test functions
    of part (c) at hand, as the notebook's locked cell has them)."""
    namespace: dict = {"np": np, "math": math}
    if support is not None and hasattr(support, "TEST_FUNCTIONS"):
        namespace["TEST_FUNCTIONS"] = support.TEST_FUNCTIONS
    exec(code, namespace)
    return next(v for k, v in namespace.items() if callable(v) and not k.startswith("__"))


def failure_of(support: dict[str, ModuleType], mistake: Mistake) -> checks.CheckFailure:
    func = student(mistake.code, support[mistake.assignment])
    old = np.geterr()
    try:
        with pytest.raises(checks.CheckFailure) as info:
            mistake.run(support[mistake.assignment], func)
    finally:
        np.seterr(**old)
    return info.value


def assert_no_contradiction(text: str) -> None:
    """A report never calls allowed what it calls wrong, nor prints two different numbers the
    same."""
    for err, allowed in re.findall(r"relative error: (\S+) \(allowed: about (\S+?)\)", text):
        assert float(err) > float(allowed), text
    for want, got in re.findall(r"(?:value|\]): (?:expected|numeric) (\S+), got (\S+)", text):
        assert want != got, text


@pytest.mark.parametrize("name", list(MISTAKES))
def test_each_mistake_gets_its_diagnosis_and_nothing_wrong_beside_it(support, name) -> None:
    mistake = MISTAKES[name]
    exc = failure_of(support, mistake)
    text = str(exc)
    kinds = [d.kind for d in exc.diagnoses]
    assert mistake.kind in (kinds[:1] or [exc.problem]), (kinds, exc.problem, text)
    # no second, spurious reading: one kind of mistake, one explanation per wrong result
    assert len(set(kinds)) <= 1, text
    assert all(len(part.diagnoses) <= 1 for part in exc.parts), text
    for words in mistake.says:
        assert words in text, (words, text)
    for words in mistake.never:
        assert words not in text, (words, text)
    assert_no_contradiction(text)


def test_there_are_the_mistakes_of_the_issue() -> None:
    # the 21 mistakes tried as a student and the four that were misdiagnosed, and more
    assert len(MISTAKES) >= 25
    assert {m.assignment for m in MISTAKES.values()} == {"ps1", "ps3", "ps5"}


# -- right answers still pass, however they are written -------------------------------------------

RIGHT = {
    "ps1": [
        (_max("upstream / 2, upstream / 2", "upstream, 0", "0, upstream"), _gate("max", (1, 3), 2)),
        (_max("0.5 * upstream, 0.5 * upstream"), _gate("max", (1e-9, 0.0), 2.0, hidden=NEAR_TIE)),
        (
            "def mul_backward(a, b, upstream):\n    return b * upstream, a * upstream\n",
            _gate("*", (3, -2), 2),
        ),
        (_sweep(), _graph("random_example", 205)),
        (_array_sweep("float"), _graph("chain_example")),
    ],
    "ps3": [
        (_affine_backward(), _affine(34, 4, 4, 4)),
        (_network_code(), _network(0.02, kink=True)),
    ],
    "ps5": [
        (_affine_backward(), _ps5_affine),
        (_deep_network_code(), _deep_network(0.1)),
        (
            GRAD_CHECK.replace("base = f(x)", "x[i] = old - h\n        base = f(x)").replace(
                ") / h", ") / (2 * h)"
            ),
            _ps5_grad_check,
        ),
    ],
}


@pytest.mark.parametrize(
    "assignment, k", [(a, k) for a, cases in RIGHT.items() for k in range(len(cases))]
)
def test_right_answers_pass(support, assignment: str, k: int) -> None:
    code, run = RIGHT[assignment][k]
    run(support[assignment], student(code, support[assignment]))


# -- hidden cases: their kind, never their inputs -------------------------------------------------


def test_a_visible_case_shows_its_inputs_and_a_hidden_one_only_its_kind(support) -> None:
    ps1, ps3 = support["ps1"], support["ps3"]
    split = student(MISTAKES["max: a near-tie read as a tie"].code)
    text = str(failure_of(support, Mistake("ps1", _max("0.0, 0.0"), _gate("max", (2, 2), 1), "")))
    assert "max_backward(2, 2, 1)" in text  # visible: the call itself
    with pytest.raises(checks.CheckFailure) as info:
        ps1.check_gate(split, "max", (1e-9, 0.0), 2.0, hidden=NEAR_TIE)
    assert "1e-09" not in str(info.value) and "(1e-" not in str(info.value)

    with pytest.raises(checks.CheckFailure) as info:
        ps1.check_direct_indirect(
            student("def direct_indirect(u1):\n    return 0.0, 0.0, 0.0\n"),
            2.5,
            hidden="a special point",
        )
    assert "direct_indirect at a hidden u1 (a special point)" in str(info.value)
    assert "2.5" not in str(info.value)

    with pytest.raises(checks.CheckFailure) as info:
        ps3.check_softmax_ce(student(NAIVE_SOFTMAX), *ps3.large_logits_cases()[3], hidden="big")
    assert "hidden case: big" in str(info.value) and "largest |z|" not in str(info.value)

    wrong = student(_network_code(decay="l2"))
    X, y, params = ps3.network_case(85, 1, 2, 2, 10)
    with pytest.raises(checks.CheckFailure) as info:
        ps3.check_two_layer(wrong, X, y, params, 0.05, hidden="random")
    text = str(info.value)
    assert "network 1-2-2, batch m = 10, with weight decay; hidden case: random" in text
    assert "0.05" not in text
    with pytest.raises(checks.CheckFailure) as info:
        ps3.check_two_layer(wrong, X, y, params, 0.05)
    assert "l2 = 0.05" in str(info.value)  # visible: the inputs


def _calls(source: str) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "support"
        and node.func.attr.startswith("check_")
    ]


def test_the_other_problem_sets_hide_the_inputs_of_hidden_cases_too(support) -> None:
    ps2, ps4 = support["ps2"], support["ps4"]
    z = np.array([-2.0, 0.5, 3.0])
    wrong = student("def sigmoid(z):\n    return 1 / (1 + np.exp(z))\n")
    right = student("def sigmoid_prime(z):\n    s = 1 / (1 + np.exp(-z))\n    return s * (1 - s)\n")
    with pytest.raises(checks.CheckFailure) as info:
        ps2.check_pair("sigmoid", wrong, right, z, "part (a)")
    assert "z = [-2, 0.5, 3]" in str(info.value)  # visible: the values
    with pytest.raises(checks.CheckFailure) as info:
        ps2.check_pair("sigmoid", wrong, right, z, "part (a)", hidden="random z")
    assert "z of shape (3,); hidden case: random z" in str(info.value)
    assert "z = [" not in str(info.value)

    no_beta = student(
        "def momentum_step(params, grads, state, lr, beta):\n"
        "    for k in params:\n"
        "        params[k] -= lr * grads[k]\n"
    )
    with pytest.raises(checks.CheckFailure) as info:
        ps4.check_momentum(no_beta, seed=504, lr=0.05, beta=0.8, hidden="random")
    assert "step 1, hidden case: random" in str(info.value)
    assert "0.05" not in str(info.value) and "0.8" not in str(info.value)
    with pytest.raises(checks.CheckFailure) as info:
        ps4.check_momentum(no_beta, seed=504, lr=0.05, beta=0.8)
    assert "lr = 0.05, beta = 0.8" in str(info.value)


@pytest.mark.parametrize("assignment", ["ps1", "ps2", "ps3", "ps4", "ps5", "ps6", "ps7"])
def test_every_hidden_check_names_its_kind_and_no_visible_one_does(assignment: str) -> None:
    nb = json.loads((SOURCES / assignment / f"{assignment}.ipynb").read_text())
    hidden_calls = visible_calls = 0
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or not cell["metadata"].get("nbgrader", {}).get("grade"):
            continue
        visible, _, rest = source.partition("### BEGIN HIDDEN TESTS")
        hidden = rest.partition("### END HIDDEN TESTS")[0]
        for call in _calls(visible):
            assert "hidden" not in {k.arg for k in call.keywords}, ast.unparse(call)
            visible_calls += 1
        for call in _calls(hidden):
            assert "hidden" in {k.arg for k in call.keywords}, ast.unparse(call)
            hidden_calls += 1
    assert hidden_calls and visible_calls
