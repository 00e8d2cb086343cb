"""Exercises inside the lessons: short, not graded, checked at once with the assignments' words.

Each notebook of the series has a few exercises. A cell shows what is given and a stub::

    x = 0.8
    answer = None  # your code here: dz/dx
    check("chain_rule", answer)

:func:`check` prints one of three things: "Not answered yet" while ``answer`` is still None (so
that a notebook runs top to bottom with every stub in place), "Right" when the answer matches,
or the message :mod:`course.checks` gives in the problem sets: the shapes, the entries that
differ and the likely bug (a transpose, a missing 1/m, a sign, f where f' belongs). A wrong
answer is printed, not raised, so the rest of the notebook still runs. :func:`solution` prints
a worked answer for a student who has tried.

Every exercise is an :class:`Exercise` in :data:`EXERCISES`. The expected value is computed
from the exercise's own copy of the givens (the same text the notebook shows) by another part
of the package: the scalar engine, the layers, the optimizers, the batch generator. The
student's variables are never read, so redefining a given in the notebook cannot make a wrong
answer right.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from course.checks import CheckFailure, Diagnosis, check_array

__all__ = ["Exercise", "Feedback", "EXERCISES", "check", "feedback", "solution", "givens"]

Givens = dict[str, Any]


@dataclass(frozen=True)
class Exercise:
    """One exercise: what is given, what ``answer`` holds, and how it is checked.

    ``given`` is the code that the notebook's cell shows (it defines the inputs);
    ``what`` names the answer in messages (``"dz/dx"``); ``reference(g)`` computes the right
    answer from the givens ``g`` with the package; ``mistakes(g)`` returns known wrong answers
    keyed by a :class:`~course.checks.Diagnosis`; ``clues(g)`` returns what the general
    detectors of :mod:`course.checks` need (``m``, ``activation``, ``branches``,
    ``per_example``); ``solution`` is a worked answer, code that sets ``answer``.
    """

    name: str
    notebook: str
    what: str
    given: str
    reference: Callable[[Givens], Any]
    solution: str
    mistakes: Callable[[Givens], Mapping[Diagnosis, Any]] = lambda g: {}
    clues: Callable[[Givens], dict[str, Any]] = lambda g: {}


@dataclass(frozen=True)
class Feedback:
    """What :func:`check` says: ``status`` is ``"unanswered"``, ``"right"`` or ``"wrong"``;
    ``text`` the message; ``problem`` and ``diagnoses`` those of the
    :class:`~course.checks.CheckFailure` of a wrong answer (empty otherwise)."""

    status: str
    text: str
    problem: str = ""
    diagnoses: tuple[Diagnosis, ...] = ()

    @property
    def kinds(self) -> list[str]:
        """The kinds of the mistakes recognised, likeliest first."""
        return [d.kind for d in self.diagnoses]


def givens(name: str) -> Givens:
    """The inputs of exercise ``name``: its ``given`` code run in a fresh namespace."""
    exercise = _get(name)
    namespace: Givens = {"np": np}
    exec(exercise.given, namespace)  # the package's own text, the same the notebook shows
    namespace.pop("__builtins__", None)
    return namespace


def feedback(name: str, answer: Any) -> Feedback:
    """Check ``answer`` to exercise ``name`` and return what to tell the student."""
    exercise = _get(name)
    if answer is None:
        return Feedback(
            "unanswered",
            f"Not answered yet: replace None with your {exercise.what} and run the cell again.",
        )
    g = givens(name)
    try:
        check_array(
            exercise.what,
            answer,
            exercise.reference(g),
            mistakes=exercise.mistakes(g),
            **exercise.clues(g),
        )
    except CheckFailure as exc:
        text = f'{exc}\nTry again, or run solution("{name}") to see a worked answer.'
        return Feedback("wrong", text, exc.problem, exc.diagnoses)
    return Feedback("right", f"Right: your {exercise.what} is correct.")


def check(name: str, answer: Any) -> None:
    """Print whether ``answer`` to exercise ``name`` is right, and if not, the likely bug."""
    print(feedback(name, answer).text)


def solution(name: str) -> None:
    """Print a worked answer to exercise ``name`` (code that sets ``answer``)."""
    print(_get(name).solution)


def _get(name: str) -> Exercise:
    if name not in EXERCISES:
        known = ", ".join(sorted(EXERCISES))
        raise KeyError(f"there is no exercise {name!r}; the exercises are: {known}")
    return EXERCISES[name]


# -- the references: other parts of the package ----------------------------------------------


def _value_grads(build: Callable[..., Any], *inputs: float) -> np.ndarray:
    """The gradient of the scalar ``build(*values)`` with respect to each input, by the scalar
    engine's backward sweep (Algorithm 4)."""
    from course.graph import Value

    values = [Value(float(v)) for v in inputs]
    build(*values).backward()
    return np.array([v.grad for v in values])


def _value_jacobian(outputs: Callable[..., list[Any]], *inputs: float) -> np.ndarray:
    """The Jacobian (numerator layout: one row per output) of ``outputs(*values)``."""
    from course.graph import Value

    rows = []
    for k in range(len(outputs(*(Value(float(v)) for v in inputs)))):
        rows.append(_value_grads(lambda *v, k=k: outputs(*v)[k], *inputs))
    return np.array(rows)


def _layers() -> Any:
    import course.layers

    return course.layers


def _sigmoid(z: Any) -> np.ndarray:
    from course.activations import sigmoid

    return sigmoid(np.asarray(z, dtype=np.float64))


def _tanh_prime(z: Any) -> np.ndarray:
    from course.activations import tanh_prime

    return tanh_prime(np.asarray(z, dtype=np.float64))


def _sigmoid_prime(z: Any) -> np.ndarray:
    from course.activations import sigmoid_prime

    return sigmoid_prime(np.asarray(z, dtype=np.float64))


def _known(kind: str, message: str) -> Diagnosis:
    return Diagnosis(kind, message)


FORGOT_UPSTREAM = (
    "you returned the local gradient alone: backprop multiplies it by the upstream gradient "
    "that arrives at the node."
)
MULTIPLY_SWAPPED = (
    "you gave each input of a multiply its own value as its local gradient: a multiply gate "
    "switches its inputs."
)
F_FOR_FPRIME = (
    "you used the activation f where its derivative f' belongs: backprop multiplies by the "
    "slope of the function, not by its value."
)

EXERCISES: dict[str, Exercise] = {}


def _add(exercise: Exercise) -> None:
    EXERCISES[exercise.name] = exercise


# -- 01 · the chain rule and Jacobians -------------------------------------------------------


_add(
    Exercise(
        name="chain_rule",
        notebook="01",
        what="dz/dx",
        given="x = 0.8  # y = x**3, z = tanh(y)",
        reference=lambda g: _value_grads(lambda x: (x**3).tanh(), g["x"])[0],
        solution="y = x**3\nanswer = (1 - np.tanh(y) ** 2) * 3 * x**2",
        mistakes=lambda g: {
            _known(
                "known_mistake",
                "you differentiated the outer function and stopped: the chain rule also "
                "multiplies by the derivative of the inner function y(x).",
            ): 1 - np.tanh(g["x"] ** 3) ** 2,
            _known(
                "known_mistake",
                "you evaluated the outer derivative at x: dz/dy belongs at the inner value "
                "y = x**3.",
            ): (1 - np.tanh(g["x"]) ** 2) * 3 * g["x"] ** 2,
        },
        clues=lambda g: {"activation": (np.tanh, _tanh_prime, g["x"] ** 3)},
    )
)

_JACOBIAN_F = "F(x, y, z) = (x**2 * y, y * z + exp(x))"


def _jacobian_outputs(x: Any, y: Any, z: Any) -> list[Any]:
    return [x**2 * y, y * z + x.exp()]


_add(
    Exercise(
        name="jacobian",
        notebook="01",
        what="Jacobian",
        given=f"x, y, z = 1.0, 2.0, -1.0  # {_JACOBIAN_F}, numerator layout",
        reference=lambda g: _value_jacobian(_jacobian_outputs, g["x"], g["y"], g["z"]),
        solution=(
            "answer = np.array([\n"
            "    [2 * x * y, x**2, 0.0],  # the gradient of x**2 * y\n"
            "    [np.exp(x), z, y],  # the gradient of y * z + exp(x)\n"
            "])"
        ),
        mistakes=lambda g: {
            _known(
                "transpose",
                "you wrote the Jacobian in denominator layout (one row per input): numerator "
                "layout has one row per output and one column per input.",
            ): _value_jacobian(_jacobian_outputs, g["x"], g["y"], g["z"]).T,
            _known(
                "known_mistake",
                "in the first row a factor is missing: a variable held constant in a partial "
                "derivative stays in it as a factor.",
            ): np.array([[2 * g["x"], g["x"] ** 2, 0.0], [np.exp(g["x"]), g["z"], g["y"]]]),
        },
    )
)

_COST_GIVEN = """rng = np.random.default_rng(3)
A = rng.normal(size=(4, 3))
t = rng.normal(size=(4, 1))
theta = rng.normal(size=(3, 1))  # J = 0.5 * ||tanh(A @ theta) - t||^2"""


def _cost_gradient(g: Givens) -> np.ndarray:
    layers = _layers()
    zero = np.zeros((4, 1))
    Z, affine = layers.affine_forward(g["theta"], g["A"], zero)
    G, act = layers.tanh_forward(Z)
    _, head = layers.output_loss_forward(G, g["t"], "identity", "half_sse")
    dtheta, _, _ = layers.affine_backward(
        layers.tanh_backward(layers.output_loss_backward(1.0, head), act), affine
    )
    return dtheta


def _cost_mistakes(g: Givens) -> dict[Diagnosis, Any]:
    A, t, theta = g["A"], g["t"], g["theta"]
    G = np.tanh(A @ theta)
    return {
        _known("activation_for_derivative", F_FOR_FPRIME): A.T @ ((G - t) * G),
        _known(
            "known_mistake",
            "the factor of the inner function g = tanh(A theta) is missing: the row dJ/dg "
            "passes through the Jacobian of g, which holds the slope of tanh.",
        ): A.T @ (G - t),
    }


_add(
    Exercise(
        name="cost_gradient",
        notebook="01",
        what="gradient of J with respect to theta",
        given=_COST_GIVEN,
        reference=_cost_gradient,
        solution=(
            "g = np.tanh(A @ theta)\n"
            "dJ_dg = g - t  # the gradient of the cost with respect to g\n"
            "answer = A.T @ (dJ_dg * (1 - g**2))  # through diag(1 - g^2) A, shape of theta"
        ),
        mistakes=_cost_mistakes,
    )
)


# -- 02 · computational graphs ---------------------------------------------------------------


_add(
    Exercise(
        name="local_times_upstream",
        notebook="02",
        what="[dL/dx, dL/dy]",
        given="x, y, upstream = 3.0, -4.0, 2.0  # u = x * y, and dL/du = upstream",
        reference=lambda g: _value_grads(lambda x, y: x * y * g["upstream"], g["x"], g["y"]),
        solution="answer = np.array([y * upstream, x * upstream])",
        mistakes=lambda g: {
            _known("known_mistake", MULTIPLY_SWAPPED): [
                g["x"] * g["upstream"],
                g["y"] * g["upstream"],
            ],
            _known("known_mistake", FORGOT_UPSTREAM): [g["y"], g["x"]],
        },
    )
)


def _two_paths(a: Any, b: Any, c: Any) -> Any:
    return (a + b) * (b * c)


def _two_paths_branches(g: Givens) -> dict[str, Any]:
    a, b, c = g["a"], g["b"], g["c"]
    q, r = a + b, b * c
    return {"through a + b": [r, r, q * b], "through b * c": [r, q * c, q * b]}


_add(
    Exercise(
        name="graph_gradients",
        notebook="02",
        what="[df/da, df/db, df/dc]",
        given="a, b, c = 1.0, -2.0, 3.0  # q = a + b, r = b * c, f = q * r",
        reference=lambda g: _value_grads(_two_paths, g["a"], g["b"], g["c"]),
        solution=(
            "q, r = a + b, b * c  # forward\n"
            "dq, dr = r, q  # f = q * r\n"
            "answer = np.array([dq, dq + dr * c, dr * b])  # b feeds q and r: its two parts add"
        ),
        mistakes=lambda g: {
            _known("known_mistake", MULTIPLY_SWAPPED): [
                g["a"] + g["b"],
                g["a"] + g["b"] + g["b"] * g["c"] * g["b"],
                g["b"] * g["c"] * g["c"],
            ],
        },
        clues=lambda g: {"branches": _two_paths_branches(g)},
    )
)


def _neuron(w0: Any, x0: Any, w1: Any, x1: Any, w2: Any) -> Any:
    return (w0 * x0 + w1 * x1 + w2).sigmoid()


def _neuron_mistakes(g: Givens) -> dict[Diagnosis, Any]:
    z = g["w0"] * g["x0"] + g["w1"] * g["x1"] + g["w2"]
    s = float(_sigmoid_prime(z))
    return {
        _known("known_mistake", MULTIPLY_SWAPPED): s
        * np.array([g["w0"], g["x0"], g["w1"], g["x1"], 1.0]),
    }


_NEURON_ORDER = ("w0", "x0", "w1", "x1", "w2")


def _neuron_z(g: Givens) -> np.ndarray:
    return np.full(5, g["w0"] * g["x0"] + g["w1"] * g["x1"] + g["w2"])


_add(
    Exercise(
        name="sigmoid_neuron",
        notebook="02",
        what="gradient [df/dw0, df/dx0, df/dw1, df/dx1, df/dw2]",
        given=("w0, x0, w1, x1, w2 = 0.5, 1.5, -1.0, 0.25, 0.2  # f = sigmoid(w0*x0 + w1*x1 + w2)"),
        reference=lambda g: _value_grads(_neuron, *(g[k] for k in _NEURON_ORDER)),
        solution=(
            "s = 1 / (1 + np.exp(-(w0 * x0 + w1 * x1 + w2)))  # forward\n"
            "dz = s * (1 - s)  # through the sigmoid gate\n"
            "answer = dz * np.array([x0, w0, x1, w1, 1.0])  # the add gates pass dz on"
        ),
        mistakes=_neuron_mistakes,
        clues=lambda g: {"activation": (_sigmoid, _sigmoid_prime, _neuron_z(g))},
    )
)


# -- 03 · gates ------------------------------------------------------------------------------


_add(
    Exercise(
        name="max_gate",
        notebook="03",
        what="[df/dx, df/dy, df/dz]",
        given="x, y, z = 3.0, 1.0, -2.0  # f = max(x, y) * z",
        reference=lambda g: _value_grads(lambda x, y, z: x.max(y) * z, g["x"], g["y"], g["z"]),
        solution=(
            "m = max(x, y)  # forward: x wins\n"
            "dm = z  # the multiply gate switches\n"
            "answer = np.array([dm if x > y else 0.0, dm if y > x else 0.0, m])"
        ),
        mistakes=lambda g: {
            _known(
                "known_mistake",
                "you passed the gradient to both inputs of the max: a max gate routes it to "
                "the input that won and gives the other nothing.",
            ): [g["z"], g["z"], max(g["x"], g["y"])],
            _known(
                "known_mistake",
                "you split the gradient between the inputs of the max, as if it were an "
                "average: a max gate routes all of it to one input.",
            ): [g["z"] / 2, g["z"] / 2, max(g["x"], g["y"])],
            _known(
                "known_mistake",
                "the gradient went to the input that lost: a max gate routes it to the larger "
                "input.",
            ): [0.0, g["z"], max(g["x"], g["y"])],
        },
    )
)

_add(
    Exercise(
        name="branches_add",
        notebook="03",
        what="[df/dx, df/dy]",
        given="x, y = 2.0, -1.0  # q = x + y, f = q * x",
        reference=lambda g: _value_grads(lambda x, y: (x + y) * x, g["x"], g["y"]),
        solution=(
            "q = x + y  # forward\n"
            "dq, dx_direct = x, q  # the multiply gate f = q * x switches\n"
            "answer = np.array([dq + dx_direct, dq])  # x feeds two edges: the parts add"
        ),
        clues=lambda g: {
            "branches": {
                "through q": [g["x"], g["x"]],
                "direct": [g["x"] + g["y"], g["x"]],
            }
        },
    )
)

_add(
    Exercise(
        name="sigmoid_gate",
        notebook="03",
        what="gradient dL/dz",
        given=(
            "z = np.array([-2.0, 0.0, 1.5, 4.0])\n"
            "upstream = np.array([1.0, 2.0, -1.0, 0.5])  # dL/ds for s = sigmoid(z)"
        ),
        reference=lambda g: _layers().sigmoid_backward(
            g["upstream"], _layers().sigmoid_forward(g["z"])[1]
        ),
        solution=(
            "s = 1 / (1 + np.exp(-z))  # forward\n"
            "answer = upstream * s * (1 - s)  # local gradient times upstream"
        ),
        mistakes=lambda g: {
            _known("known_mistake", FORGOT_UPSTREAM): _sigmoid_prime(g["z"]),
            _known(
                "known_mistake",
                "you applied the sigmoid's local gradient to its input z: it is written in "
                "terms of the gate's output s = sigmoid(z).",
            ): g["upstream"] * g["z"] * (1 - g["z"]),
        },
        clues=lambda g: {"activation": (_sigmoid, _sigmoid_prime, g["z"])},
    )
)


# -- 04 · activations ------------------------------------------------------------------------


def _tanh(z: Any) -> np.ndarray:
    return np.tanh(np.asarray(z, dtype=np.float64))


def _sum_of_tanh(*z: Any) -> Any:
    """tanh(z_1) + ... + tanh(z_n): its gradient holds tanh' at each z_i."""
    total = z[0].tanh()
    for zi in z[1:]:
        total = total + zi.tanh()
    return total


_add(
    Exercise(
        name="tanh_derivative",
        notebook="04",
        what="tanh'(z)",
        given="z = np.array([-1.5, -0.2, 0.0, 0.7, 3.0])",
        reference=lambda g: _value_grads(_sum_of_tanh, *g["z"]),
        solution="answer = 1 - np.tanh(z) ** 2",
        mistakes=lambda g: {
            _known(
                "known_mistake",
                "you applied the derivative's formula to z: it is written in terms of the "
                "unit's output tanh(z).",
            ): 1 - g["z"] ** 2,
            _known(
                "known_mistake",
                "the output tanh(z) appears in the derivative squared, not as it is.",
            ): 1 - np.tanh(g["z"]),
        },
        clues=lambda g: {"activation": (_tanh, _tanh_prime, g["z"])},
    )
)

_add(
    Exercise(
        name="relu_backward",
        notebook="04",
        what="dZ",
        given=(
            "Z = np.array([[1.5, -0.5], [-2.0, 0.3]])\n"
            "dA = np.array([[0.2, -1.0], [0.4, 0.7]])  # A = relu(Z); dA = dJ/dA"
        ),
        reference=lambda g: _layers().relu_backward(g["dA"], _layers().relu_forward(g["Z"])[1]),
        solution="answer = dA * (Z > 0)  # the slope is 1 where the unit is on, 0 where it is off",
        mistakes=lambda g: {
            _known("activation_for_derivative", F_FOR_FPRIME): g["dA"] * np.maximum(g["Z"], 0),
            _known(
                "known_mistake",
                "the gradient went through units that are off: where z < 0 a ReLU has slope 0 "
                "and lets nothing back.",
            ): g["dA"],
            _known(
                "known_mistake",
                "your mask is the wrong way round: it lets the gradient through where the unit "
                "is off and stops it where the unit is on.",
            ): g["dA"] * (g["Z"] < 0),
        },
    )
)


def _chain(w: float, a0: Any) -> Any:
    a = a0
    for _ in range(3):
        a = (a * w).sigmoid()
    return a


def _chain_mistakes(g: Givens) -> dict[Diagnosis, Any]:
    w, a = g["w"], g["a0"]
    zs = []
    for _ in range(3):
        zs.append(w * a)
        a = float(_sigmoid(w * a))
    slopes = [float(_sigmoid_prime(z)) for z in zs]
    values = [float(_sigmoid(z)) for z in zs]
    return {
        _known("activation_for_derivative", F_FOR_FPRIME): float(np.prod(values)) * w**3,
        _known(
            "known_mistake",
            "the weights are missing: every layer's factor is the weight on its edge times "
            "the slope of its sigmoid.",
        ): float(np.prod(slopes)),
        _known(
            "known_mistake",
            "you added the factors of the layers: along one path through the layers the "
            "chain rule multiplies them.",
        ): w * sum(slopes),
    }


_add(
    Exercise(
        name="vanishing_chain",
        notebook="04",
        what="da3/da0",
        given="w, a0 = 1.5, 0.5  # a_k = sigmoid(w * a_(k-1)) for k = 1, 2, 3",
        reference=lambda g: _value_grads(lambda a0: _chain(g["w"], a0), g["a0"])[0],
        solution=(
            "answer, a = 1.0, a0\n"
            "for _ in range(3):\n"
            "    s = 1 / (1 + np.exp(-w * a))  # forward through one layer\n"
            "    answer *= w * s * (1 - s)  # the weight times the sigmoid's slope\n"
            "    a = s"
        ),
        mistakes=_chain_mistakes,
    )
)


# -- 05 · vectorized backprop ----------------------------------------------------------------


def _softmax(Z: Any, axis: int = 0) -> np.ndarray:
    from course.activations import softmax

    return softmax(np.asarray(Z, dtype=np.float64), axis=axis)


def _softmax_mistakes(g: Givens) -> dict[Diagnosis, Any]:
    Z = g["Z"]
    shifted = np.exp(Z - Z.max(axis=0, keepdims=True))
    return {
        _known(
            "known_mistake",
            "you normalised each row: a column holds the scores of one example, so each "
            "column of probabilities must sum to 1.",
        ): _softmax(Z, axis=1),
        _known(
            "known_mistake",
            "the exponentials are not normalised: each column of probabilities must sum to 1.",
        ): shifted,
        _known(
            "known_mistake",
            "you normalised over the whole batch at once: each example (column) gets its own sum.",
        ): np.exp(Z - Z.max()) / np.exp(Z - Z.max()).sum(),
    }


_add(
    Exercise(
        name="stable_softmax",
        notebook="05",
        what="softmax of Z",
        given="Z = np.array([[1000.0, -3.0], [1001.0, 0.0], [1002.0, 2.0]])  # (K, m) = (3, 2)",
        reference=lambda g: _softmax(g["Z"]),
        solution=(
            "E = np.exp(Z - Z.max(axis=0, keepdims=True))  # at most exp(0) = 1: no overflow\n"
            "answer = E / E.sum(axis=0, keepdims=True)"
        ),
        mistakes=_softmax_mistakes,
    )
)

_CE_GIVEN = """Z = np.array([[0.5, -1.0, 2.0, 0.0], [1.0, 0.5, -0.5, 1.5], [-0.5, 2.0, 0.0, 1.0]])
y = np.array([0, 2, 1, 2])  # the class of each of the m = 4 examples; J is the mean loss"""


def _ce_delta(g: Givens) -> np.ndarray:
    from course.data import one_hot

    layers = _layers()
    _, head = layers.output_loss_forward(g["Z"], one_hot(g["y"], 3), "softmax", "cross_entropy")
    return layers.output_loss_backward(1.0, head)


_add(
    Exercise(
        name="softmax_cross_entropy",
        notebook="05",
        what="dJ/dZ",
        given=_CE_GIVEN,
        reference=_ce_delta,
        solution=(
            "E = np.exp(Z - Z.max(axis=0, keepdims=True))\n"
            "Yhat = E / E.sum(axis=0, keepdims=True)\n"
            "T = np.eye(3)[:, y]  # one-hot columns\n"
            "answer = (Yhat - T) / Z.shape[1]"
        ),
        mistakes=lambda g: {
            _known(
                "known_mistake",
                "the targets are missing: the gradient compares the predicted probabilities "
                "with the one-hot targets.",
            ): _softmax(g["Z"]) / 4,
        },
        clues=lambda g: {"m": 4},
    )
)

_WX_GIVEN = """M = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
u = np.array([[2.0], [1.0], [-1.0]])  # f = ||M u||^2"""


def _wx_gradient(g: Givens) -> np.ndarray:
    layers = _layers()
    Z, affine = layers.affine_forward(g["u"], g["M"], np.zeros((2, 1)))
    _, head = layers.output_loss_forward(Z, np.zeros_like(Z), "identity", "half_sse")
    _, dW, _ = layers.affine_backward(layers.output_loss_backward(2.0, head), affine)
    return dW  # half the squared norm, times 2


_add(
    Exercise(
        name="wx_gradient",
        notebook="05",
        what="df/dM",
        given=_WX_GIVEN,
        reference=_wx_gradient,
        solution="answer = 2 * (M @ u) @ u.T  # the shape of M: (2, 1) @ (1, 3)",
    )
)


# -- 06 · the MLP algorithm ------------------------------------------------------------------


def _dz1_shape(g: Givens) -> tuple[int, int]:
    from course.mlp import MLP

    layers = _layers()
    sizes, m = g["sizes"], g["m"]
    net = MLP(sizes, hidden="relu", output="softmax", loss="cross_entropy")
    X = np.ones((sizes[0], m))
    Z1, affine1 = layers.affine_forward(X, net.params["W1"], net.params["b1"])
    A1, act1 = layers.relu_forward(Z1)
    Z2, _ = layers.affine_forward(A1, net.params["W2"], net.params["b2"])
    dA1 = net.params["W2"].T @ np.ones_like(Z2)
    return layers.relu_backward(dA1, act1).shape


_add(
    Exercise(
        name="delta_shape",
        notebook="06",
        what="dZ1 shape",
        given="sizes, m = [4, 6, 3], 5  # a 4-6-3 network, a mini-batch of m = 5 columns",
        reference=_dz1_shape,
        solution="answer = (sizes[1], m)  # one row per unit of layer 1, one column per example",
        mistakes=lambda g: {
            _known(
                "transpose",
                "your shape is transposed: examples are columns, so dZ1 has one row per unit "
                "and one column per example.",
            ): (g["m"], g["sizes"][1]),
            _known(
                "known_mistake",
                "that is the shape of db1: dZ1 still has one column per example (the bias "
                "gradient sums them).",
            ): (g["sizes"][1], 1),
            _known(
                "known_mistake",
                "that is the shape of W1: dZ1 has the shape of Z1, the layer's output for the "
                "batch.",
            ): (g["sizes"][1], g["sizes"][0]),
        },
    )
)

_DELTA_GIVEN = """rng = np.random.default_rng(6)
W2 = rng.normal(size=(2, 3))
dZ2 = rng.normal(size=(2, 4))  # the error term of layer 2 for m = 4 examples
Z1 = rng.normal(size=(3, 4))
A1 = 1 / (1 + np.exp(-Z1))  # layer 1 is sigmoid"""


def _hidden_delta(g: Givens) -> np.ndarray:
    layers = _layers()
    dA1, _, _ = layers.affine_backward(g["dZ2"], (g["A1"], g["W2"], np.zeros((2, 1))))
    return layers.sigmoid_backward(dA1, layers.sigmoid_forward(g["Z1"])[1])


_add(
    Exercise(
        name="hidden_delta",
        notebook="06",
        what="dZ1",
        given=_DELTA_GIVEN,
        reference=_hidden_delta,
        solution="answer = (W2.T @ dZ2) * A1 * (1 - A1)  # back through W2, then sigmoid'(Z1)",
        mistakes=lambda g: {
            _known(
                "known_mistake",
                "the slope of layer 1's activation is missing: the error term passes back "
                "through the weights and then through f'(Z1).",
            ): g["W2"].T @ g["dZ2"],
            _known(
                "known_mistake",
                "you took the derivative at A1: the slope of the activation belongs at the "
                "pre-activation Z1.",
            ): (g["W2"].T @ g["dZ2"]) * _sigmoid_prime(g["A1"]),
        },
        clues=lambda g: {"activation": (_sigmoid, _sigmoid_prime, g["Z1"])},
    )
)

_add(
    Exercise(
        name="bias_gradient",
        notebook="06",
        what="db2",
        given=(
            "dZ2 = np.array([[0.1, -0.3, 0.2, 0.4], [-0.2, 0.1, 0.05, -0.1]])"
            "  # holds the 1/m already"
        ),
        reference=lambda g: _layers().affine_backward(
            g["dZ2"], (np.zeros((1, 4)), np.zeros((2, 1)), np.zeros((2, 1))), input_grad=False
        )[2],
        solution="answer = dZ2.sum(axis=1, keepdims=True)  # a bias is shared by every column",
        clues=lambda g: {"m": 4, "per_example": g["dZ2"]},
    )
)


def _count(g: Givens) -> int:
    from course.mlp import count_parameters

    return count_parameters(g["sizes"])


_add(
    Exercise(
        name="count_parameters",
        notebook="06",
        what="number of parameters",
        given="sizes = [3, 5, 4, 2]  # n0, n1, n2, n3",
        reference=_count,
        solution=(
            "weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))\n"
            "biases = sum(sizes[1:])  # the inputs have no bias\n"
            "answer = weights + biases"
        ),
        mistakes=lambda g: {
            _known(
                "known_mistake",
                "the biases are missing: every unit of layers 1 to L has one.",
            ): sum(a * b for a, b in zip(g["sizes"][:-1], g["sizes"][1:])),
            _known(
                "known_mistake",
                "you gave the inputs biases too: layer 0 is the data and has no parameters.",
            ): _count(g) + g["sizes"][0],
        },
    )
)


# -- 07 · mini-batch training ----------------------------------------------------------------


def _batches(g: Givens) -> int:
    from course.data import BatchGenerator

    return sum(1 for _ in BatchGenerator(g["m"], g["batch_size"]))


_add(
    Exercise(
        name="batches_per_epoch",
        notebook="07",
        what="number of mini-batches in one epoch",
        given="m, batch_size = 1000, 64",
        reference=_batches,
        solution="answer = -(-m // batch_size)  # rounded up: the last batch is smaller",
        mistakes=lambda g: {
            _known(
                "known_mistake",
                "you left out the last, smaller batch: an epoch visits every sample once.",
            ): g["m"] // g["batch_size"],
            _known(
                "known_mistake",
                "a number of batches is a whole number: the samples left over form one more, "
                "smaller batch.",
            ): g["m"] / g["batch_size"],
        },
    )
)

_MOMENTUM_GIVEN = """W = np.array([[0.5, -1.0], [2.0, 0.0]])
v = np.array([[0.1, 0.0], [-0.2, 0.3]])  # the velocity after earlier steps
dW = np.array([[1.0, -2.0], [0.5, 4.0]])
lr, beta = 0.1, 0.9  # v = beta * v - lr * dW, then W = W + v"""


def _momentum(g: Givens) -> np.ndarray:
    from course.optim import Momentum

    opt = Momentum(lr=g["lr"], beta=g["beta"])
    params = {"W": g["W"].copy()}
    opt.v["W"] = g["v"].copy()
    opt.step(params, {"W": g["dW"]})
    return params["W"]


_add(
    Exercise(
        name="momentum_step",
        notebook="07",
        what="W after one momentum step",
        given=_MOMENTUM_GIVEN,
        reference=_momentum,
        solution="v_new = beta * v - lr * dW\nanswer = W + v_new",
        mistakes=lambda g: {
            _known(
                "known_mistake",
                "you stepped with the old velocity: update v first, then move W by the new v.",
            ): g["W"] + g["v"],
            _known(
                "known_mistake",
                "the velocity is missing: that is a plain SGD step, with no memory of the "
                "earlier ones.",
            ): g["W"] - g["lr"] * g["dW"],
            _known(
                "sign",
                "the gradient pushes the wrong way: a step goes downhill, against the gradient.",
            ): g["W"] + g["beta"] * g["v"] + g["lr"] * g["dW"],
        },
    )
)

_ADAM_GIVEN = """W = np.array([0.5, -1.0, 2.0])
dW = np.array([0.2, -3.0, 0.01])
lr, beta1, beta2, eps = 0.01, 0.9, 0.999, 1e-8  # Adam's first step: t = 1, m = v = 0"""


def _adam(g: Givens) -> np.ndarray:
    from course.optim import Adam

    opt = Adam(lr=g["lr"], beta1=g["beta1"], beta2=g["beta2"], eps=g["eps"])
    params = {"W": g["W"].copy()}
    opt.step(params, {"W": g["dW"]})
    return params["W"]


def _adam_mistakes(g: Givens) -> dict[Diagnosis, Any]:
    W, dW, lr, b1, b2, eps = (g[k] for k in ("W", "dW", "lr", "beta1", "beta2", "eps"))
    m, v = (1 - b1) * dW, (1 - b2) * dW**2
    return {
        _known(
            "known_mistake",
            "the bias correction is missing: the moments start at zero, so on the first steps "
            "they are too small until they are divided by 1 - beta**t.",
        ): W - lr * m / (np.sqrt(v) + eps),
        _known(
            "known_mistake",
            "the square root is missing: the step divides by the root of the second moment, "
            "so that it has the size of lr whatever the size of the gradient.",
        ): W - lr * (m / (1 - b1)) / (v / (1 - b2) + eps),
        _known(
            "sign",
            "the step goes uphill: Adam moves against the gradient's first moment.",
        ): W + lr * (m / (1 - b1)) / (np.sqrt(v / (1 - b2)) + eps),
    }


_add(
    Exercise(
        name="adam_step",
        notebook="07",
        what="W after Adam's first step",
        given=_ADAM_GIVEN,
        reference=_adam,
        solution=(
            "m = (1 - beta1) * dW  # from m = 0\n"
            "v = (1 - beta2) * dW**2  # from v = 0\n"
            "m_hat, v_hat = m / (1 - beta1), v / (1 - beta2)  # t = 1\n"
            "answer = W - lr * m_hat / (np.sqrt(v_hat) + eps)"
        ),
        mistakes=_adam_mistakes,
    )
)


# -- 08 · depth, initialisation and history --------------------------------------------------


_add(
    Exercise(
        name="dual_number",
        notebook="08",
        what="dual part of f(x + 1ε)",
        given="x = 0.6  # f(x) = exp(x) * tanh(x), one forward sweep with the seed dx = 1",
        reference=lambda g: _value_grads(lambda x: x.exp() * x.tanh(), g["x"])[0],
        solution=(
            "a, da = np.exp(x), np.exp(x)  # exp carries its value and its slope times dx\n"
            "b, db = np.tanh(x), 1 - np.tanh(x) ** 2\n"
            "answer = da * b + a * db  # the dual part of a product: the product rule"
        ),
        mistakes=lambda g: {
            _known(
                "known_mistake",
                "you multiplied the dual parts: the dual part of a product is a' b + a b' "
                "(the product rule), because ε² = 0 leaves only the two cross terms.",
            ): np.exp(g["x"]) * (1 - np.tanh(g["x"]) ** 2),
            _known(
                "known_mistake",
                "only one of the product's two terms is there: a' b + a b' needs both, one per "
                "factor that depends on x.",
            ): np.exp(g["x"]) * np.tanh(g["x"]),
        },
    )
)


def _he_std(g: Givens) -> np.ndarray:
    from course.mlp import init_std

    sizes = g["sizes"]
    return np.array([init_std(a, b, "he") for a, b in zip(sizes[:-1], sizes[1:])])


_add(
    Exercise(
        name="he_std",
        notebook="08",
        what="standard deviations of W1, W2, W3",
        given="sizes = [784, 256, 64, 10]  # a ReLU network: He initialisation",
        reference=_he_std,
        solution=(
            "n_in = np.array(sizes[:-1])  # the inputs of layers 1, 2, 3\n"
            "answer = np.sqrt(2 / n_in)  # ReLU halves the variance; the 2 makes up for it"
        ),
        mistakes=lambda g: {
            _known(
                "known_mistake",
                "that is the variance 2 / n_in: the standard deviation is its square root.",
            ): 2 / np.array(g["sizes"][:-1]),
            _known(
                "known_mistake",
                "you divided by the layer's outputs: the forward variance grows with the "
                "number of inputs that each unit sums, n_in.",
            ): np.sqrt(2 / np.array(g["sizes"][1:])),
            _known(
                "known_mistake",
                "the factor 2 is missing: sqrt(1 / n_in) keeps the variance of tanh layers, "
                "but ReLU sets half of its inputs to zero and halves the variance at each layer.",
            ): np.sqrt(1 / np.array(g["sizes"][:-1])),
        },
    )
)

_DEAD_GIVEN = """Z1 = np.array([
    [0.5, -1.0, 2.0, 0.3, -0.2],
    [-3.0, -0.1, -2.0, -0.4, -1.0],
    [0.0, 0.2, -0.5, 1.0, 0.0],
    [-0.7, -2.0, -0.3, -1.5, -0.9],
])  # layer 1 of a ReLU network: 4 units, m = 5 examples"""


def _dead_fraction(g: Givens) -> float:
    layers = _layers()
    Z1 = g["Z1"]
    _, cache = layers.relu_forward(Z1)
    dZ = layers.relu_backward(np.ones_like(Z1), cache)  # what reaches each unit's weights
    return float(np.mean(np.all(dZ == 0, axis=1)))


_add(
    Exercise(
        name="dead_relus",
        notebook="08",
        what="fraction of dead units",
        given=_DEAD_GIVEN,
        reference=_dead_fraction,
        solution=(
            "dead = np.all(Z1 <= 0, axis=1)  # a unit is dead if no example switches it on\n"
            "answer = dead.mean()"
        ),
        mistakes=lambda g: {
            _known(
                "known_mistake",
                "you counted the zero entries: a unit is dead only when it is off for every "
                "example of the batch, so count rows.",
            ): float(np.mean(g["Z1"] <= 0)),
            _known(
                "known_mistake",
                "you counted the dead units: the question asks for their fraction of the layer.",
            ): float(np.sum(np.all(g["Z1"] <= 0, axis=1))),
            _known(
                "known_mistake",
                "you counted units that are off for some example: a dead unit is off for every "
                "example of the batch, and so gets no gradient at all.",
            ): float(np.mean(np.any(g["Z1"] <= 0, axis=1))),
        },
    )
)
