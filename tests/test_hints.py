"""Hints name the class of bug and where to look, never the answer.

A failure message of a problem set may say "a power is missing: differentiate tanh again" but not
"tanh'(z) = 1 - tanh(z)^2"; the formula, or the line of code, is the student's to find
(source_assignments/README.md). Every text that a check can show a student is compared here with
the solutions of its problem set, written below as fragments of formulas and code, each in the
spellings a message would use (code, or math as the messages write it). The fragments are taken
from the solutions of the notebooks by hand, not read from the notebooks or the support modules.

The texts are found two ways: statically, every string literal of ``psN_support.py`` and of
``course/checks.py`` (whose messages every problem set shows) outside docstrings, f-strings with
their fields as ``{}``; and by running, the known mistakes of ps2 and ps4 as the checks make them
for real inputs, and ps2's stability hints.
"""

from __future__ import annotations

import ast
import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "source_assignments"
CHECKS = ROOT / "course" / "checks.py"
ASSIGNMENTS = ("ps1", "ps2", "ps3", "ps4", "ps7")

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
    made = {"ps2": ps2_hints(support["ps2"]), "ps4": ps4_hints(support["ps4"])}
    assert len(made["ps2"]) >= 20 and len(made["ps4"]) >= 10
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
}


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
