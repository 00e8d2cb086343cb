"""Hints name the class of bug and where to look, never the answer.

A failure message of a problem set may say "a power is missing: differentiate tanh again" but not
"tanh'(z) = 1 - tanh(z)^2"; the formula, or the line of code, is the student's to find
(source_assignments/README.md). Every text that a check can show a student is compared here with
the solutions of its problem set, written below as fragments of formulas and code, each in the
spellings a message would use (code, or math as the messages write it). The fragments are taken
from the solutions of the notebooks by hand, not read from the notebooks or the support modules.

The texts are found two ways: statically, every string literal of ``psN_support.py`` and of
``course/checks.py`` (whose messages every problem set shows) outside docstrings, f-strings with
their fields as ``{}``; and by running, the known mistakes of ps2, ps4, ps5 and ps6 as the checks
make them for real inputs, ps2's stability hints, and the messages of realistic wrong answers
(written below) as the checks of every problem set give them.
"""

from __future__ import annotations

import ast
import importlib.util
import math
import shutil
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "source_assignments"
CHECKS = ROOT / "course" / "checks.py"
ASSIGNMENTS = ("ps1", "ps2", "ps3", "ps4", "ps5", "ps6", "ps7")

SIGMOID_STABLE = (
    "np.exp(-np.abs(z))",
    "exp(-abs(z))",
    "e^(-|z|)",
    "exp(-|z|)",
    "e / (1 + e)",
    "1 / (1 + e) for z",
    "e^z / (1 + e^z)",
    "np.exp(z) / (1 + np.exp(z))",
    "1 / (1 + np.exp(-z))",
)
SIGMOID_PRIME = (
    "s * (1 - s)",
    "s (1 - s)",
    "sigma(z) (1 - sigma(z))",
    "sigma(z) * (1 - sigma(z))",
    "sigmoid(z) * (1 - sigmoid(z))",
    "a (1 - a)",
    "a * (1 - a)",
    "e^(-z) / (1 + e^(-z))^2",
    "np.exp(-z) / (1 + np.exp(-z))**2",
)

#: the solutions of each problem set, as fragments of formulas and code
SOLUTIONS: dict[str, tuple[str, ...]] = {
    "ps1": (
        # the gates
        "b * upstream, a * upstream",
        "-upstream / (a * a)",
        "-upstream / a**2",
        "-1/a^2",
        "-1 / a^2",
        "-a^-2",
        "-a^(-2)",
        "0.5 * upstream, 0.5 * upstream",
        "upstream / 2, upstream / 2",
        "math.exp(a) * upstream",
        # the sweep
        "reversed(graph)",
        "grads[parent] += local * upstream",
        "+= local * upstream",
        # direct and indirect effects
        "u3 * 2 * u1",
        "2 u1 e^(u1",
        "e^(u1 + u2) * 2 u1",
        "direct + indirect",
    ),
    "ps2": (
        *SIGMOID_STABLE,
        *SIGMOID_PRIME,
        "2 sigma(2z) - 1",
        "2 * sigma(2 * z) - 1",
        "2 * sigmoid(2 * z) - 1",
        "1 - tanh(z)^2",
        "1 - tanh(z)**2",
        "1 - np.tanh(z)**2",
        "1 - tanh^2",
        "1 - a^2",
        "1 - t * t",
        "1 - t**2",
        "np.tanh(z)",
        "max(0, z)",
        "np.maximum(z, 0",
        "np.maximum(0, z",
        "(z > 0)",
        "np.where(z > 0, 1",
        "z > 0, not z >= 0",
        "max(0.1 z, z)",
        "max(0.1 * z, z)",
        "np.maximum(0.1 * z, z)",
        "np.where(z > 0, z, 0.1 * z)",
        "np.where(z > 0, 1.0, 0.1)",
    ),
    "ps3": (
        "W.T @ dZ",
        "W^T dZ",
        "dZ @ A_prev.T",
        "dZ A_prev^T",
        "dZ.sum(axis=1, keepdims=True)",
        "Z - Z.max(axis=0",
        "Z - max",
        "log(sum(exp",
        "np.log(np.exp(",
        "(P - T) / m",
        "softmax(Z) - T",
        "2 * m @ x.T",
        "2 m x^T",
        "2 * W.T @ m",
        "2 W^T m",
        "2 W.T m",
        "W.T @ m",
        "(Z1 > 0)",
        "np.maximum(Z1, 0)",
        "2 * l2 * W",
        "2 l2 W",
        "(W2.T @ dZ2) *",
    ),
    "ps4": (
        # (a) the batches
        "range(0, m, batch_size)",
        "[start : start + batch_size]",
        "[i : i + batch_size]",
        "[i:i+batch_size]",
        # (b) the gradients
        *SIGMOID_STABLE,
        *SIGMOID_PRIME,
        "A1 (1 - A1)",
        "A1 * (1 - A1)",
        "Yhat (1 - Yhat)",
        "Yhat - Y",
        "(W2.T @ dZ2)",
        "W2^T dZ2",
        "dZ1 @ X.T",
        "dZ2 @ A1.T",
        "dZ2.sum(axis=1",
        "dZ1.sum(axis=1",
        # (c) momentum and Adam
        "beta v - lr g",
        "beta * v - lr * g",
        "lr * g",
        "theta += v",
        "params[name] += v",
        "u = beta u + g",
        "(1 - beta1**t)",
        "(1 - beta2**t)",
        "1 - beta1^t",
        "1 - beta2^t",
        "beta1 m + (1 - beta1) g",
        "(1 - beta1) * g",
        "(1 - beta1) g",
        "(1 - beta2) g**2",
        "(1 - beta2) * g * g",
        "(1 - beta2) g^2",
        "sqrt(v_hat) + eps",
        "m_hat / (",
        "lr * m_hat",
        "lr m_hat",
    ),
    "ps7": (
        # (a) the six repairs
        "dZ / m",
        "dZ /= m",
        "dZ = dZ / m",
        "(P - T) / m",
        "(P - Y) / m",
        "(Yhat - Y) / m",
        "Yhat - Y",
        "dZ @ A_prev.T",
        "dZ A_prev^T",
        "W.T @ dZ",
        "1 - A * A",
        "1 - A**2",
        "1 - A^2",
        "1 - tanh(Z)^2",
        "1 - np.tanh(Z)**2",
        "dA + W.T @ dZ",
        "dA += W.T @ dZ",
        "dOut + W.T @ dZ",
        "dOut + W^T dZ",
        "dOut.sum(axis=1",
        "sum(dOut, axis=1",
        "(dOut * Z).sum(axis=1",
        # (b) the sanity checks
        "np.sqrt(2.0 / n0)",
        "sqrt(2 / n0)",
        "0.01 * rng",
        "rng.normal(0.0, 0.01",
        "v.copy() for k, v in params",
        "copy.deepcopy(params)",
        "lrs[np.argmin(",
        "lrs[best]",
        "math.isfinite(J) else math.inf",
    ),
    "ps5": (
        # (a) the affine layer
        "W.T @ dZ",
        "W^T dZ",
        "W.T dZ",
        "dZ @ A_prev.T",
        "dZ A_prev^T",
        "dZ A_prev.T",
        "dZ.sum(axis=1, keepdims=True)",
        "dZ.sum(axis=1",
        "sum(dZ, axis=1",
        # (a) the ReLU and sigmoid layers
        "dA * (Z > 0)",
        "(Z > 0)",
        "np.where(Z > 0, dA",
        "Z > 0, not Z >= 0",
        *SIGMOID_STABLE,
        "dA * A * (1 - A)",
        "A * (1 - A)",
        "A (1 - A)",
        "A (1 - A) dA",
        "sigma(Z) (1 - sigma(Z))",
        # (b) the network: softmax cross-entropy, its gradient, weight decay
        "Z - Z.max(axis=0",
        "Z - max",
        "log(sum(exp",
        "np.log(np.exp(",
        "(P - T) / m",
        "softmax(Z) - T",
        "(softmax(Z) - T) / m",
        "dZ[y, columns] -= 1",
        "2 * l2 * W",
        "2 l2 W",
        "2.0 * l2",
        "dW + 2",
        "range(L, 0, -1)",
        # (c) the gradient checker
        "(f_plus - f_minus) / (2 * h)",
        "(f_plus - f_minus)",
        "x[i] = old",
        "x[i] = old + h",
        "x[i] = old - h",
        "np.ndindex(x.shape)",
        # (d) training
        "np.sqrt(2.0 / n",
        "sqrt(2 / n_{l-1})",
        "rng.permutation(m)",
        "order[start : start + batch_size]",
    ),
    "ps6": (
        # (a) the local gradients of the operations
        "(other.data, self.data)",
        "(1.0, -1.0)",
        "-a / (b * b)",
        "-a / b**2",
        "-a/b^2",
        "-a b^-2",
        "-other / (a * a)",
        "-c / a^2",
        "-1 / v^2",
        "-1/a^2",
        "1 / b, -a",
        "k * a ** (k - 1)",
        "k a^(k-1)",
        "k a^(k - 1)",
        "k * a^(k - 1)",
        "derivative of e^a is e^a",
        "e^a is its own derivative",
        "its own derivative",
        "(out,)",
        "1 - t * t",
        "1 - t**2",
        "1.0 - t * t",
        "1 - tanh^2",
        "1 - tanh(a)^2",
        "1 - tanh(x)^2",
        "1 - out^2",
        "1 - data^2",
        "1 - self.data^2",
        "1.0 if a > 0 else 0.0",
        "(a > 0)",
        "if a > 0",
        # (b) the order and the sweep
        "parent.grad += local * node.grad",
        "+= local * node.grad",
        "grad += local",
        "self.grad = 1.0",
        "node.grad = 0.0",
        "order[::-1]",
        "reversed(order)",
        "stack.append((",
        "iter(root._prev)",
        "seen.add(",
    ),
}


def normal(text: str) -> str:
    """Case, spaces and the two spellings of a power do not matter."""
    return "".join(text.lower().replace("**", "^").split())


def leaks(assignment: str, text: str) -> list[str]:
    """The fragments of ``assignment``'s solutions that ``text`` holds."""
    said = normal(text)
    return [f for f in SOLUTIONS[assignment] if normal(f) in said]


# -- the texts ------------------------------------------------------------------------------------


def literal_texts(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string literal of a module but its docstrings; an f-string with
    each field as ``{}``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = [v.value if isinstance(v, ast.Constant) else "{}" for v in node.values]
            found.append((node.lineno, "".join(map(str, parts))))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in docstrings:
                found.append((node.lineno, node.value))
    return found


@pytest.fixture(scope="module")
def support(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ModuleType]:
    """The support modules, imported from copies (no ``__pycache__`` in the repository)."""
    modules = {}
    for assignment in ASSIGNMENTS:
        folder = tmp_path_factory.mktemp(assignment)
        shutil.copy(SOURCES / assignment / f"{assignment}_support.py", folder)
        name = f"{assignment}_support_hints"
        spec = importlib.util.spec_from_file_location(name, folder / f"{assignment}_support.py")
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


def ps2_hints(ps2: ModuleType) -> list[str]:
    """The known mistakes of ps2 as its checks make them, on inputs with a kink, and its
    stability hints."""
    z = np.array([[-2.0, -0.5, 0.0], [0.5, 2.0, 3.0]])
    texts = [*ps2.STABILITY_HINT.values(), ps2.WHERE_HINT]
    for name in ("sigmoid", "tanh", "relu", "leaky_relu"):
        texts += [str(k) for k in ps2.forward_mistakes(name, z)]
        texts += [str(k) for k in ps2.derivative_mistakes(name, z)]
    return texts


def ps4_hints(ps4: ModuleType) -> list[str]:
    """The known mistakes of ps4's gradients and Adam steps as its checks make them."""
    X, Y, params = ps4.gradient_case(seed=2, n0=2, n1=3, n2=1, m=5)
    texts = [str(k) for by_key in ps4._variants(X, Y, params).values() for k in by_key]
    g = np.array([[0.5, -1.0]])
    for t in (1, 3):
        mistakes = ps4._adam_mistakes(0.1 * g, 0.2 * g * g, g, 0.01, 0.9, 0.999, 1e-8, t)
        texts += [str(k) for k in mistakes]
    texts.append(ps4.UNCHANGED)
    texts.append(ps4.DRAWN_WITH_REPLACEMENT.message)
    return texts


def ps5_hints(ps5: ModuleType) -> list[str]:
    """The known mistakes of ps5's layers, network and gradient checker as its checks make them,
    on cases with a square W and a unit exactly at the ReLU's kink."""
    case = ps5.affine_case(12, 3, 3, 5)  # a square W: the missing transpose has a value
    texts = [str(k) for d in ps5.affine_mistakes(case["A_prev"], case["W"], case["dZ"]) for k in d]
    Z = np.array([[-2.0, 0.0, 0.25], [1.0, 3.0, -1.5]])
    dA = np.array([[0.5, -1.0, 2.0], [0.1, -0.3, 0.7]])
    texts += [str(k) for k in ps5.relu_backward_mistakes(Z, dA)]
    texts += [str(k) for k in ps5.sigmoid_backward_mistakes(Z, dA)]
    X, y, params = ps5.network_case(82, [4, 5, 3, 3], m=6)
    mistakes_J, per_name = ps5.network_mistakes(X, y, params, 0.1)
    texts += [str(k) for k in mistakes_J]
    texts += [str(k) for by_key in per_name.values() for k in by_key]
    x = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.5]])
    texts += [str(k) for k in ps5.grad_check_mistakes("weighted sines", x, 1e-5)]
    return texts


def ps6_hints(ps6: ModuleType) -> list[str]:
    """The known mistakes of ps6's operations and sweeps as its checks make them, on a program
    that uses every operation, a branch and a reflected difference, swept twice."""
    program = [
        ("/", 0, 1),
        ("**", 2, 3.0),
        ("tanh", 3),
        ("exp", 0),
        ("relu", 4),
        ("-", 1.0, 5),
        ("*", 7, 0),
        ("+", 8, 6),
    ]
    inputs = [0.5, -1.5]
    values = ps6.evaluate(program, inputs)
    texts = [str(k) for k in ps6._mistaken_grads(program, inputs, values, 2)]
    texts += [text for table in ps6._LOCAL_MISTAKES.values() for text in table]
    return texts


# -- the tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_message_of_a_support_module_states_a_solution(assignment: str) -> None:
    path = SOURCES / assignment / f"{assignment}_support.py"
    texts = literal_texts(path)
    assert len(texts) > 50  # the module's messages were read
    found = [
        (line, text, leaks(assignment, text)) for line, text in texts if leaks(assignment, text)
    ]
    assert not found, "\n".join(
        f"{path.name}:{line}: {frags} in {text!r}" for line, text, frags in found
    )


def test_no_message_of_the_shared_checks_states_a_solution() -> None:
    texts = literal_texts(CHECKS)
    assert len(texts) > 50
    found = [
        (line, a, leaks(a, text)) for line, text in texts for a in ASSIGNMENTS if leaks(a, text)
    ]
    assert not found, found


def test_the_mistakes_as_the_checks_make_them_state_no_solution(support) -> None:
    made = {
        "ps2": ps2_hints(support["ps2"]),
        "ps4": ps4_hints(support["ps4"]),
        "ps5": ps5_hints(support["ps5"]),
        "ps6": ps6_hints(support["ps6"]),
    }
    assert len(made["ps2"]) >= 20 and len(made["ps4"]) >= 10
    assert len(made["ps5"]) >= 15 and len(made["ps6"]) >= 12
    found = [(a, text, leaks(a, text)) for a, texts in made.items() for text in texts]
    assert not [f for f in found if f[2]], [f for f in found if f[2]]


@pytest.mark.parametrize(
    "assignment, text",
    [  # hints as they were before they were rewritten: each must be caught
        ("ps2", "the square is missing: tanh'(z) = 1 - tanh(z)^2, not 1 - tanh(z)."),
        ("ps2", "yours gives 1 at z = 0. Use z > 0, not z >= 0."),
        ("ps2", "the element-wise maximum of z and 0 is np.maximum(z, 0)."),
        ("ps2", "Only ever exponentiate numbers <= 0, e.g. e^(-|z|)"),
        ("ps2", "return floats, for example (z > 0).astype(float)"),
        ("ps4", "where Adam divides them by (1 - beta1**t) and (1 - beta2**t)"),
        ("ps4", "only v is bias-corrected: m_hat = m / (1 - beta1**t) is needed too."),
        ("ps4", "the square root is missing: theta -= lr m_hat / (sqrt(v_hat) + eps)."),
        ("ps4", "you forgot the learning rate: v = beta v - lr g."),
        ("ps4", "use dJ/dZ2 = (Yhat - Y) / m directly: the sigma' factors cancel."),
        ("ps4", "Compute the sigmoid from np.exp(-np.abs(z)), which is at most 1"),
        ("ps3", "dZ1 = (W2.T @ dZ2) * relu'(Z1)"),
        ("ps1", "the local gradient of the reciprocal gate is -1/a^2"),
        ("ps5", "the gradient of A_prev is W.T @ dZ, not W @ dZ"),
        ("ps5", "the sigmoid's slope is A * (1 - A): multiply dA by it"),
        ("ps5", "the penalty l2 ||W||^2 adds 2 l2 W to dW"),
        ("ps5", "use (f_plus - f_minus) / (2 * h)"),
        ("ps6", "the local gradient of a / b with respect to b is -a / b**2"),
        ("ps6", "by the power rule the local gradient of a ** k is k * a ** (k - 1)"),
        ("ps6", "the local gradient of tanh is 1 - t**2, with t the node's data"),
        ("ps6", "write parent.grad += local * node.grad so that a branch adds up"),
    ],
)
def test_a_hint_that_states_the_solution_is_caught(assignment: str, text: str) -> None:
    assert leaks(assignment, text)


def test_words_that_name_a_mistake_are_not_caught() -> None:
    for assignment, text in [
        ("ps2", "you returned 1 - tanh(z): a power is missing."),
        ("ps2", "np.max(z, 0) is the largest entry of z along axis 0"),
        ("ps2", "you returned sigma(z) (1 + sigma(z)): a sign in your derivative is wrong."),
        ("ps4", "no bias correction: you moved theta with the running averages m and v"),
        ("ps4", "params[name] += step (or params[name] = new array)"),
        ("ps5", "you multiplied by W where its transpose belongs"),
        ("ps5", "your differences are twice too large: check the distance between the points"),
        ("ps6", "the local gradient of tanh is missing a square."),
        ("ps6", "each use of a node adds its contribution to the node's grad"),
    ]:
        assert not leaks(assignment, text), text


# -- the rewritten hints still reach the student, and a whole message gives nothing away ----------

RELU_KINK = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])


def _sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def _mlp_gradients(output_slope: bool = False, hidden_slope: str = "A1 * (1 - A1)"):
    def mlp_gradients(X, Y, params):
        W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
        m = X.shape[1]
        A1 = _sigmoid(W1 @ X + b1)
        Yhat = _sigmoid(W2 @ A1 + b2)
        dZ2 = (Yhat - Y) / m
        if output_slope:
            dZ2 = dZ2 * Yhat * (1 - Yhat)
        slope = eval(hidden_slope, {"A1": A1, "Z1": W1 @ X + b1})
        dZ1 = (W2.T @ dZ2) * slope
        return {
            "W1": dZ1 @ X.T,
            "b1": dZ1.sum(axis=1, keepdims=True),
            "W2": dZ2 @ A1.T,
            "b2": dZ2.sum(axis=1, keepdims=True),
        }

    return mlp_gradients


def _momentum(lr_used: bool = True, old_velocity: bool = False):
    def momentum_step(params, grads, state, lr, beta):
        for k in params:
            old = state["v"][k].copy()
            state["v"][k] = beta * old - (lr if lr_used else 1.0) * grads[k]
            params[k] += old if old_velocity else state["v"][k]

    return momentum_step


def _adam(correct: bool = True, root: bool = True, store_hat: bool = False):
    def adam_step(params, grads, state, lr, beta1, beta2, eps, t):
        for k in params:
            g = grads[k]
            m = beta1 * state["m"][k] + (1 - beta1) * g
            v = beta2 * state["v"][k] + (1 - beta2) * g * g
            mh, vh = (m / (1 - beta1**t), v / (1 - beta2**t)) if correct else (m, v)
            params[k] -= lr * mh / ((np.sqrt(vh) if root else vh) + eps)
            state["m"][k], state["v"][k] = (mh, v) if store_hat else (m, v)

    return adam_step


def _ps2(name, f, fprime, stable=False):
    def run(ps2):
        if stable:
            ps2.check_stable(name, f, np.array([-1000.0, 0.0, 1000.0]), "part (a)")
        else:
            ps2.check_pair(name, f, fprime, RELU_KINK, "part")

    return run


def _ps4_gradients(func):
    def run(ps4):
        ps4.check_mlp_gradients(func, *ps4.gradient_case(seed=2, n0=2, n1=3, n2=1, m=5))

    return run


# ps5: layers, a network and a gradient checker with one slip each

PS5_Z = np.array([[-2.0, 0.0, 0.25], [1.0, 3.0, -1.5]])  # a unit exactly at the kink
PS5_DA = np.array([[0.5, -1.0, 2.0], [0.1, -0.3, 0.7]])


def _affine_forward(A_prev, W, b):
    return W @ A_prev + b, (A_prev, W, b)


def _affine_backward(transpose: bool = True, summed: bool = True):
    def affine_backward(dZ, cache):
        A_prev, W, b = cache
        dA_prev = (W.T if transpose else W) @ dZ
        db = dZ.sum(axis=1, keepdims=True) if summed else dZ[:, :1]
        return dA_prev, dZ @ A_prev.T, db

    return affine_backward


def _relu_forward(Z):
    return np.maximum(Z, 0.0), Z


def _relu_backward(dA, Z):
    return dA * (Z > 0)


def _network(mean: bool = True, decay_on_biases: bool = False, decay_in_grads: bool = True):
    def loss_and_grads(X, y, params, l2):
        L, m = len(params) // 2, X.shape[1]
        A, caches = X, []
        for l in range(1, L + 1):
            Z, cache = _affine_forward(A, params[f"W{l}"], params[f"b{l}"])
            caches.append((cache, Z))
            if l < L:
                A = np.maximum(Z, 0.0)
        shifted = Z - Z.max(axis=0, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))
        decayed = [f"W{l}" for l in range(1, L + 1)]
        decayed += [f"b{l}" for l in range(1, L + 1)] if decay_on_biases else []
        J = -log_p[y, np.arange(m)].mean() + l2 * sum(np.sum(params[k] ** 2) for k in decayed)
        dZ = np.exp(log_p)
        dZ[y, np.arange(m)] -= 1.0
        if mean:
            dZ = dZ / m
        grads = {}
        for l in range(L, 0, -1):
            dA, grads[f"W{l}"], grads[f"b{l}"] = _affine_backward()(dZ, caches[l - 1][0])
            if l > 1:
                dZ = _relu_backward(dA, caches[l - 2][1])
        for k in decayed if decay_in_grads else ():
            grads[k] = grads[k] + 2 * l2 * params[k]
        return float(J), grads

    return loss_and_grads


def _grad_check(sides: tuple[float, float] = (1.0, -1.0), restore: bool = True):
    def grad_check(f, x, h=1e-5):
        grad = np.zeros(x.shape)
        for i in np.ndindex(x.shape):
            old = x[i]
            x[i] = old + sides[0] * h
            up = f(x)
            x[i] = old + sides[1] * h
            down = f(x)
            if restore:
                x[i] = old
            grad[i] = (up - down) / ((sides[0] - sides[1]) * h)
        return grad

    return grad_check


def _ps5_grad_check(grad_check, keeps_x: bool = False):
    def run(ps5):
        def grad_check_on(name, x, h):  # the notebook's helper cell
            return grad_check(ps5.TEST_FUNCTIONS[name], x, h)

        x = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.5]])
        k = np.arange(1.0, 7.0).reshape(2, 3)
        if keeps_x:
            ps5.check_grad_check(grad_check_on, "sum of cubes", x, 0.1, None, keeps_x=True)
        else:
            ps5.check_grad_check(grad_check_on, "weighted sines", x, 1e-5, k * np.cos(x))

    return run


def _ps5_network(loss_and_grads, only: str):
    def run(ps5):
        layers = (_affine_forward, _affine_backward(), _relu_forward, _relu_backward)
        X, y, params = ps5.network_case(82, [4, 5, 3, 3], m=6)
        ps5.check_network(loss_and_grads, X, y, params, 0.1, layers, only=only)

    return run


# ps6: a Value with one slip each, and the notebook's helper cells written with it


def _engine(
    divisor_sign: bool = False,
    tanh_local: str = "1 - t * t",
    exp_by_power_rule: bool = False,
    relu_at_zero: float = 0.0,
    reflected_sign: bool = False,
    overwrite: bool = False,
    reset: bool = True,
    recursive: bool = False,
):
    class Value:
        def __init__(self, data, prev=(), local=()):
            self.data, self.grad = float(data), 0.0
            self._prev, self._local = tuple(prev), tuple(local)

        def _binary(self, other, value, d_self, d_other):
            if isinstance(other, Value):
                a, b = self.data, other.data
                return Value(value(a, b), (self, other), (d_self(a, b), d_other(a, b)))
            return Value(value(self.data, other), (self,), (d_self(self.data, other),))

        def __add__(self, o):
            return self._binary(o, lambda a, b: a + b, lambda a, b: 1.0, lambda a, b: 1.0)

        __radd__ = __add__

        def __mul__(self, o):
            return self._binary(o, lambda a, b: a * b, lambda a, b: b, lambda a, b: a)

        __rmul__ = __mul__

        def __neg__(self):
            return self * -1.0

        def __sub__(self, o):
            return self._binary(o, lambda a, b: a - b, lambda a, b: 1.0, lambda a, b: -1.0)

        def __rsub__(self, c):
            return Value(c - self.data, (self,), (1.0 if reflected_sign else -1.0,))

        def __truediv__(self, o):
            sign = 1.0 if divisor_sign else -1.0
            return self._binary(
                o, lambda a, b: a / b, lambda a, b: 1 / b, lambda a, b: sign * a / (b * b)
            )

        def __rtruediv__(self, c):
            return Value(c / self.data, (self,), (-c / (self.data * self.data),))

        def __pow__(self, k):
            return Value(self.data**k, (self,), (k * self.data ** (k - 1),))

        def exp(self):
            a = self.data
            local = a * math.exp(a - 1) if exp_by_power_rule else math.exp(a)
            return Value(math.exp(a), (self,), (local,))

        def tanh(self):
            a, t = self.data, math.tanh(self.data)
            return Value(t, (self,), (eval(tanh_local, {"a": a, "t": t}),))

        def relu(self):
            a = self.data
            local = 1.0 if a > 0 else relu_at_zero if a == 0 else 0.0
            return Value(max(a, 0.0), (self,), (local,))

        def backward(self):
            order = _order_recursive(self) if recursive else _order(self)
            for node in order[1:]:
                if node._prev and reset:
                    node.grad = 0.0
            self.grad = 1.0 if self._prev else self.grad + 1.0
            for node in order:
                for parent, local in zip(node._prev, node._local):
                    if overwrite:
                        parent.grad = local * node.grad
                    else:
                        parent.grad += local * node.grad

    return Value


def _order(root):
    order, seen, stack = [], {root}, [(root, iter(root._prev))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent not in seen:
                seen.add(parent)
                stack.append((parent, iter(parent._prev)))
                break
        else:
            stack.pop()
            order.append(node)
    return order[::-1]


def _order_recursive(root):
    order, seen = [], set()

    def visit(node):
        if node not in seen:
            seen.add(node)
            for parent in node._prev:
                visit(parent)
            order.append(node)

    visit(root)
    return order[::-1]


OPS = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": lambda a, b: a**b,
    "exp": lambda a: a.exp(),
    "tanh": lambda a: a.tanh(),
    "relu": lambda a: a.relu(),
    "neg": lambda a: -a,
}


def _ps6_graph(program, inputs, what, sweeps=1, nodes="leaves", **slip):
    Value = _engine(**slip)

    def grads_of(program, inputs, sweeps=1):  # the notebook's helper cell
        made = [Value(x) for x in inputs]
        for op, *args in program:
            made.append(OPS[op](*[made[a] if type(a) is int else a for a in args]))
        for _ in range(sweeps):
            made[-1].backward()
        return [float(n.data) for n in made], [float(n.grad) for n in made]

    return lambda ps6: ps6.check_graph(grads_of, program, inputs, what, sweeps, nodes)


def _ps6_chain(**slip):
    Value = _engine(**slip)

    def chain_of(n, x, factor):  # the notebook's helper cell
        v = leaf = Value(x)
        for _ in range(n):
            v = v * factor
        v.backward()
        return float(v.data), float(leaf.grad)

    return lambda ps6: ps6.check_chain(chain_of, ps6.CHAIN_LENGTH, 0.5, 1.00001)


MADE: dict[str, tuple[str, object, str]] = {  # name: (assignment, run(support), words it says)
    "tanh': the square missing": (
        "ps2",
        _ps2("tanh", np.tanh, lambda z: 1 - np.tanh(z)),
        "a power is missing",
    ),
    "tanh': the square of the wrong thing": (
        "ps2",
        _ps2("tanh", np.tanh, lambda z: (1 - np.tanh(z)) ** 2),
        "the square applies to the wrong quantity",
    ),
    "sigmoid': the formula at z": (
        "ps2",
        _ps2("sigmoid", _sigmoid, lambda z: z * (1 - z)),
        "the derivative's formula at z itself",
    ),
    "relu': 1 at the kink": (
        "ps2",
        _ps2("relu", lambda z: np.maximum(z, 0.0), lambda z: np.where(z >= 0, 1.0, 0.0)),
        "how your comparison treats z = 0",
    ),
    "relu: np.max for np.maximum": (
        "ps2",
        _ps2("relu", lambda z: np.max(z, 0), lambda z: (z > 0) * 1.0),
        "a reduction",
    ),
    "leaky_relu': ReLU's derivative": (
        "ps2",
        _ps2("leaky_relu", lambda z: np.where(z > 0, z, 0.1 * z), lambda z: (z > 0) * 1.0),
        "not flat",
    ),
    "relu': integers": (
        "ps2",
        _ps2("relu", lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(int)),
        "return floats instead of integers",
    ),
    "sigmoid: overflow": (
        "ps2",
        _ps2("sigmoid", lambda z: 1 / (1 + np.exp(-z)), None, stable=True),
        "np.exp only ever sees numbers <= 0",
    ),
    "ps4 sigmoid: overflow": (
        "ps4",
        lambda ps4: ps4.check_sigmoid(lambda z: 1 / (1 + np.exp(-z)), [-1000.0, 0.0, 5.0]),
        "np.exp only ever sees numbers <= 0",
    ),
    "gradients: sigma'(Z2) at the output": (
        "ps4",
        _ps4_gradients(_mlp_gradients(output_slope=True)),
        "an extra sigma'(Z2)",
    ),
    "gradients: sigma(Z1) for its derivative": (
        "ps4",
        _ps4_gradients(_mlp_gradients(hidden_slope="A1")),
        "where its derivative sigma'(Z1) belongs",
    ),
    "gradients: the derivative at Z1": (
        "ps4",
        _ps4_gradients(_mlp_gradients(hidden_slope="Z1 * (1 - Z1)")),
        "at the pre-activation Z1",
    ),
    "momentum: no learning rate": (
        "ps4",
        lambda ps4: ps4.check_momentum(_momentum(lr_used=False), seed=1, lr=0.1, beta=0.9),
        "you forgot the learning rate",
    ),
    "momentum: the old velocity": (
        "ps4",
        lambda ps4: ps4.check_momentum(_momentum(old_velocity=True), seed=1, lr=0.1, beta=0.9),
        "OLD velocity",
    ),
    "adam: no bias correction": (
        "ps4",
        lambda ps4: ps4.check_adam(_adam(correct=False), seed=1),
        "no bias correction",
    ),
    "adam: no square root": (
        "ps4",
        lambda ps4: ps4.check_adam(_adam(root=False), seed=1),
        "the square root is missing",
    ),
    "adam: m_hat in the state": (
        "ps4",
        lambda ps4: ps4.check_adam(_adam(store_hat=True), seed=1),
        "keep the running average m itself there",
    ),
    "ps5 affine_backward: W for its transpose": (
        "ps5",
        lambda ps5: ps5.check_affine_backward(
            _affine_backward(transpose=False), **ps5.affine_case(12, 3, 3, 5)
        ),
        "where its transpose belongs",
    ),
    "ps5 affine_backward: db of one example": (
        "ps5",
        lambda ps5: ps5.check_affine_backward(
            _affine_backward(summed=False), **ps5.affine_case(12, 4, 3, 5)
        ),
        "a bias is shared by all the examples",
    ),
    "ps5 relu_backward: 1 at the kink": (
        "ps5",
        lambda ps5: ps5.check_relu_backward(lambda dA, Z: dA * (Z >= 0), PS5_Z, PS5_DA),
        "how your mask treats the entries where Z is exactly 0",
    ),
    "ps5 relu_backward: the value for the slope": (
        "ps5",
        lambda ps5: ps5.check_relu_backward(lambda dA, Z: dA * np.maximum(Z, 0), PS5_Z, PS5_DA),
        "its value, where its slope belongs",
    ),
    "ps5 sigmoid_backward: the sigmoid applied again": (
        "ps5",
        lambda ps5: ps5.check_sigmoid_backward(
            lambda dA, A: dA * _sigmoid(A) * (1 - _sigmoid(A)), PS5_Z, PS5_DA
        ),
        "the slope is taken at the wrong place",
    ),
    "ps5 sigmoid_backward: the slope alone": (
        "ps5",
        lambda ps5: ps5.check_sigmoid_backward(lambda dA, A: A * (1 - A), PS5_Z, PS5_DA),
        "the sigmoid's slope alone",
    ),
    "ps5 network: no mean over the batch": (
        "ps5",
        _ps5_network(_network(mean=False), only="grads"),
        "you did not divide by m",
    ),
    "ps5 network: weight decay on the biases": (
        "ps5",
        _ps5_network(_network(decay_on_biases=True), only="J"),
        "applied to the biases",
    ),
    "ps5 network: the gradients without weight decay": (
        "ps5",
        _ps5_network(_network(decay_in_grads=False), only="grads"),
        "leaves out the weight decay",
    ),
    "ps5 grad_check: one-sided": (
        "ps5",
        _ps5_grad_check(_grad_check(sides=(1.0, 0.0))),
        "one-sided difference",
    ),
    "ps5 grad_check: x left changed": (
        "ps5",
        _ps5_grad_check(_grad_check(restore=False), keeps_x=True),
        "Your grad_check changed x",
    ),
    "ps6 /: the divisor's sign": (
        "ps6",
        _ps6_graph([("/", 0, 1)], [3.0, -1.5], "a / b", divisor_sign=True),
        "with respect to the divisor b has the wrong sign",
    ),
    "ps6 tanh: no square": (
        "ps6",
        _ps6_graph([("tanh", 0)], [0.5], "v.tanh()", tanh_local="1 - t"),
        "missing a square",
    ),
    "ps6 tanh: the square of the input": (
        "ps6",
        _ps6_graph([("tanh", 0)], [0.5], "v.tanh()", tanh_local="1 - a * a"),
        "the square of its input",
    ),
    "ps6 exp: by the power rule": (
        "ps6",
        _ps6_graph([("exp", 0)], [0.7], "v.exp()", exp_by_power_rule=True),
        "as if it were a power of a",
    ),
    "ps6 relu: 1 at the kink": (
        "ps6",
        _ps6_graph([("relu", 0)], [0.0], "v.relu() at the kink 0", relu_at_zero=1.0),
        "at exactly 0 the local gradient of relu is 0",
    ),
    "ps6 c - v: the sign": (
        "ps6",
        _ps6_graph([("-", 1.0, 0)], [1.5], "1 - v", reflected_sign=True),
        "the reflected form",
    ),
    "ps6 backward: overwritten at a branch": (
        "ps6",
        _ps6_graph([("*", 0, 1), ("+", 2, 0)], [2.0, -3.0], "a * b + a", overwrite=True),
        "overwritten instead of added up",
    ),
    "ps6 backward: a second sweep not started anew": (
        "ps6",
        _ps6_graph(
            [("*", 0, 1), ("+", 2, 0), ("tanh", 3)],
            [0.5, -1.5],
            "(a * b + a).tanh()",
            sweeps=2,
            nodes="all",
            reset=False,
        ),
        "starts the intermediate nodes from the grad the first one left",
    ),
    "ps6 backward: a recursive order": (
        "ps6",
        _ps6_chain(recursive=True),
        "is recursive",
    ),
}


def test_the_answers_without_their_slip_pass_the_same_checks(support) -> None:
    """The wrong answers above differ from right ones only by their slip."""
    right = [
        lambda ps5: ps5.check_affine_backward(_affine_backward(), **ps5.affine_case(12, 3, 3, 5)),
        lambda ps5: ps5.check_relu_backward(_relu_backward, PS5_Z, PS5_DA),
        lambda ps5: ps5.check_sigmoid_backward(lambda dA, A: dA * A * (1 - A), PS5_Z, PS5_DA),
        _ps5_network(_network(), only=None),
        _ps5_grad_check(_grad_check()),
        _ps5_grad_check(_grad_check(), keeps_x=True),
    ]
    for run in right:
        run(support["ps5"])
    every = [("/", 0, 1), ("**", 2, 3.0), ("tanh", 3), ("exp", 0), ("relu", 4)]
    every += [("-", 1.0, 5), ("*", 7, 0), ("+", 8, 6)]
    for program, inputs, sweeps in (
        (every, [0.5, -1.5], 1),
        (every, [0.5, -1.5], 2),
        ([("relu", 0)], [0.0], 1),
    ):
        _ps6_graph(program, inputs, "right", sweeps, "all")(support["ps6"])
    _ps6_chain()(support["ps6"])


@pytest.mark.parametrize("name", list(MADE))
def test_a_mistake_gets_its_hint_and_the_message_states_no_solution(support, name) -> None:
    from course import checks

    assignment, run, words = MADE[name]
    old = np.geterr()
    try:
        with pytest.raises(checks.CheckFailure) as info:
            run(support[assignment])
    finally:
        np.seterr(**old)
    text = str(info.value)
    assert words in text, text
    assert not leaks(assignment, text), (leaks(assignment, text), text)
