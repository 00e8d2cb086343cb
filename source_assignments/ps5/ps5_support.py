"""Cases, references and checks for problem set 5 (a network of any depth).

Students: you may read this file and use its example cases (:func:`affine_case`,
:func:`activation_case`, :func:`network_case`, :func:`digits_split`, :func:`accuracy`, ...) in
your own cells. Your answers must not call the course package's layers, network, losses,
activations, gradient checker, optimizers or training loop (``course.layers``, ``course.mlp``,
``course.losses``, ``course.activations``, ``course.gradcheck``, ``course.optim``,
``course.train``, ``course.graph``) or a library that computes gradients for you: the tests
check that.

Notation of the lectures: column vectors; layer ``l`` has ``W[l]`` of shape ``(n_l, n_{l-1})``
and ``b[l]`` of shape ``(n_l, 1)``; a batch ``X`` has shape ``(n_0, m)``, one sample per column;
``Z[l] = W[l] @ A[l-1] + b[l]``, ``A[l] = f(Z[l])``. The cost is the mean cross-entropy over the
batch plus ``l2 * sum_l ||W[l]||^2`` (the biases are not penalised), so the penalty adds
``2 * l2 * W[l]`` to each weight gradient.

Every check compares an answer with a reference from the ``course`` package (``course.layers``,
``course.mlp``) and with centred finite differences in float64, through ``course.checks``, which
names the likely bug. The usual mistakes of this problem set that ``course.checks`` does not know
are built here and passed to it as ``mistakes``: a lost ``1/m``, weight decay on the biases or
with the wrong factor, the ReLU's slope taken from the wrong array, the sigmoid's slope taken at
the wrong place, a one-sided difference, and so on.

Points within a test cell: :class:`Points` (``course.checks.Points``) gives each group of checks
its own points, so one slip costs the points of its group, not of the whole cell (nbgrader reads
the number a test cell ends with as its partial credit).

Part (b) and the layers of part (a): :func:`check_network` takes your layer functions too.
When your ``loss_and_grads`` is wrong only because a layer of part (a) is wrong (it agrees with
the network built from *your* layers), part (b) keeps its points: part (a)'s tests already
charge that mistake.

Your variant (``course/variants.py``): the seeded cases (:func:`affine_case`,
:func:`activation_case`, :func:`network_case`, :func:`kink_network_case`), the points where part
(c)'s tests run your checker (:func:`grad_check_point`) and the split and seed of part (d)'s
training (:func:`training_seeds`) are made from your student id. Without an id (the *example*
variant) they are the numbers the problem set was written with.

The course modules are imported only by the functions that compute references: while the
assignment is graded, the ones it forbids are not available in your kernel, and the example
cases need none of them (:func:`digits_split` needs ``course.data``, which is allowed).
"""

from __future__ import annotations

import time
import warnings
import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from course import checks, variants
from course.checks import Points  # noqa: F401 (support.Points in the test cells)

# code that computes the graded results for you: not allowed inside a student's function
# (packages that are not installed are skipped, and none is imported to check)
FORBID = (
    "course.layers",
    "course.mlp",
    "course.losses",
    "course.activations",
    "course.gradcheck",
    "course.train",
    "course.optim",
    "course.graph",
    *checks.ALWAYS_FORBIDDEN,
)
# Part (d): the training loop is yours as well; other libraries' training is not allowed either
# (a literal tuple: the grader reads it without importing this module)
FORBID_TRAINING = (
    "course.layers",
    "course.mlp",
    "course.losses",
    "course.activations",
    "course.gradcheck",
    "course.train",
    "course.optim",
    "course.graph",
    *checks.ALWAYS_FORBIDDEN,
)
# What the notebook's own cells may use while the assignment is graded: the student's kernel
# gets these (and what they need) only; the checks and the reference answers run in the grader
# (see autograder/kernel_view.py)
KERNEL = (
    "use_variant",
    "grad_check_point",
    "training_seeds",
    "TEST_FUNCTIONS",
    "affine_case",
    "activation_case",
    "network_case",
    "kink_network_case",
    "digits_split",
    "predict",
    "accuracy",
)

ASSIGNMENT = "ps5"
Array = np.ndarray
THRESHOLD = 0.95  # part (d): accuracy required on the held-out digits
TRAIN_SECONDS = 40.0  # part (d): one training run; a hidden-test cell trains twice in 120 s


# -- small helpers --------------------------------------------------------------------------------


def _shape(a: Array) -> str:
    return "x".join(str(n) for n in np.shape(a)) or "scalar"


def _case(what: str, hidden: str | None) -> str:
    """``what`` (the sizes of a case) and, for a hidden case, its kind: a failure message
    shows the input values of a visible case only (see source_assignments/README.md)."""
    return what if hidden is None else f"{what}; hidden case: {hidden}"


def _results(name: str, got: object, labels: tuple[str, ...]) -> tuple[Any, ...]:
    """``got`` as a tuple of ``len(labels)`` results, or a message that says what came back."""
    __tracebackhide__ = True
    n = len(labels)
    if got is None:
        raise checks.CheckFailure(
            f"{name} returned None. Did you forget `return`? It should return {n} results: "
            f"return {', '.join(labels)}",
            name=name,
            problem="returned_none",
        )
    if not isinstance(got, (tuple, list)) or len(got) != n:
        sequence = isinstance(got, (tuple, list))
        what = f"{len(got)} results" if sequence else type(got).__name__
        raise checks.CheckFailure(
            f"{name} should return a tuple of {n} results ({', '.join(labels)}), but it "
            f"returned {what}: {checks._short(got)}",
            name=name,
            problem="wrong_count" if sequence else "wrong_type",
        )
    return tuple(got)


def _number(x: object) -> object:
    """A size-1 array (for example a (1, 1) matrix product) read as the number it holds."""
    if isinstance(x, np.ndarray) and x.size == 1 and x.dtype.kind in "iuf":
        return x.reshape(())
    return x


def _sigmoid(z: Array) -> Array:
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _one_hot(y: Array, K: int) -> Array:
    y = np.asarray(y)
    T = np.zeros((K, y.shape[0]))
    T[y, np.arange(y.shape[0])] = 1.0
    return T


def _logsumexp(Z: Array) -> Array:
    zmax = Z.max(axis=0, keepdims=True)
    return zmax + np.log(np.exp(Z - zmax).sum(axis=0, keepdims=True))


def _quietly(func: Callable, *args: Any, part: str, name: str) -> Any:
    """``call_student`` with numpy's overflow, divide and invalid warnings raised as errors."""
    __tracebackhide__ = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            with np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"):
                return checks.call_student(func, *args, part=part, forbid=FORBID)
    except (RuntimeWarning, FloatingPointError) as exc:
        found = checks.Diagnosis(
            "overflow",
            "exp of a large number overflows (e^710 is already inf), and the log of a number "
            "that rounded to 0 is -inf. Arrange the computation so that exp only ever sees "
            "numbers that are not large and positive (the lectures' stable forms of the "
            "sigmoid and of log-softmax do this).",
        )
        raise checks.CheckFailure(
            f"{name} is not numerically stable: numpy warned {str(exc)!r} (in this test a "
            f"warning counts as an error). Likely bug: {found.message}",
            name=name,
            problem="unstable",
            diagnoses=[found],
        ) from None


# =================================================================================================
# the student's variant (course/variants.py)
# =================================================================================================


def use_variant(student_id: str = "") -> variants.Variant:
    """The notebook's variant, from ``STUDENT_ID`` (else the grader's id, else the JupyterHub
    login, else the example variant); prints it."""
    return variants.use(ASSIGNMENT, student_id)


def _rng(seed: int) -> np.random.Generator:
    """The generator of the case numbered ``seed``: the example variant's is the plain seeded
    one (the cases the problem set was written with), a student's is made from the student's
    variant."""
    variant = variants.current(ASSIGNMENT)
    return np.random.default_rng(seed) if variant.example else variant.rng(seed)


def check_variant(student_id: object) -> None:
    """While grading: fail a notebook whose ``STUDENT_ID`` is not the submission's id."""
    __tracebackhide__ = True
    variants.check_stated(ASSIGNMENT, student_id)


def variant_shapes(purpose: str, shapes: Sequence[Sequence[int]]) -> list[list[int]]:
    """The sizes of a test's random cases in the variant: ``shapes`` as written in the example
    variant; in a student's, every size above 1 drawn again around it (from half of it, at
    least 2, to one and a half times it), and every 1 kept (one unit, one example: the edge
    cases the tests are about)."""
    variant = variants.current(ASSIGNMENT)
    if variant.example:
        return [list(shape) for shape in shapes]
    rng = variant.rng(f"shapes {purpose}")
    return [
        [n if n <= 1 else int(rng.integers(max(2, n - n // 2), n + n // 2 + 1)) for n in shape]
        for shape in shapes
    ]


#: the points of part (c)'s tests in the example variant, by kind
_POINTS = {
    "matrix": [[1.0, -2.0, 0.5], [3.0, 0.0, -1.5]],
    "column": [[0.3], [-1.2], [2.0], [0.7]],
    "vector": [1.5, -0.5, 2.0, 0.8, -1.1],
    "one entry": [[2.5]],
}


def grad_check_point(kind: str = "matrix") -> Array:
    """A point ``x`` where part (c)'s tests run your ``grad_check``, in your variant: a
    ``"matrix"`` (2, 3), a ``"column"`` (4, 1), a ``"vector"`` (5,) or ``"one entry"`` (1, 1).
    In a student's variant the entries are halves from -3 to 3 (tenths from -2 to 2 in the
    column), none of them 0."""
    if kind not in _POINTS:
        raise ValueError(f"kind is one of {', '.join(map(repr, _POINTS))}; got {kind!r}")
    variant = variants.current(ASSIGNMENT)
    example = np.array(_POINTS[kind], dtype=np.float64)
    if variant.example:
        return example
    rng = variant.rng(f"point {kind}")
    top, step = (20, 10.0) if kind == "column" else (6, 2.0)
    size = rng.integers(1, top + 1, size=example.shape) * rng.choice([-1, 1], size=example.shape)
    return size / step


#: part (d)'s digits split and training seed of each test run in the example variant
_TRAINING = {0: (0, 0), 1: (1, 1), 2: (2, 12345)}


def training_seeds(run: int = 0) -> tuple[int, int]:
    """``(data_seed, train_seed)`` of part (d)'s test run ``run`` in your variant (run 0: the
    visible test): the test trains ``train(X_train, y_train, seed=train_seed)`` on
    ``digits_split(data_seed)``."""
    variant = variants.current(ASSIGNMENT)
    if variant.example:
        return _TRAINING[run]
    data_seed, train_seed = variant.rng(f"training {run}").integers(0, 1_000_000, size=2)
    return int(data_seed), int(train_seed)


# =================================================================================================
# part (a): the layers
# =================================================================================================


def affine_case(seed: int, n_prev: int, n: int, m: int) -> dict[str, Array]:
    """A seeded layer (in your variant): ``A_prev (n_prev, m)``, ``W (n, n_prev)``, ``b (n,
    1)``, ``dZ (n, m)``.

    ``dZ`` is scaled like a real ``dJ/dZ`` of a mean cost (it contains the ``1/m``).
    """
    rng = _rng(seed)
    return {
        "A_prev": rng.normal(size=(n_prev, m)),
        "W": rng.normal(size=(n, n_prev)),
        "b": rng.normal(size=(n, 1)),
        "dZ": rng.normal(size=(n, m)) / m,
    }


def activation_case(
    seed: int, n: int, m: int, scale: float = 2.0, *, margin: float = 1e-3
) -> dict[str, Array]:
    """Seeded pre-activations ``Z (n, m)`` (none within ``margin`` of 0) and ``dA (n, m)``, in
    your variant."""
    rng = _rng(seed)
    Z = rng.uniform(-scale, scale, size=(n, m))
    Z = np.where(np.abs(Z) < margin, margin * np.sign(Z + 0.5 * margin), Z)
    return {"Z": Z, "dA": rng.normal(size=(n, m)) / m}


def _check_cache(name: str, cache: object, want: Array, what: str) -> None:
    __tracebackhide__ = True
    got = np.asarray(cache) if isinstance(cache, (np.ndarray, list)) else cache
    if not isinstance(got, np.ndarray) or got.shape != want.shape or not np.allclose(got, want):
        raise checks.CheckFailure(
            f"The cache from {name} should be {what} (shape {want.shape}), but it is "
            f"{checks._short(cache)}. The backward function receives exactly this cache.",
            name=f"cache from {name}",
            problem="wrong_cache",
        )


def check_affine_forward(
    func: Callable,
    A_prev: Array,
    W: Array,
    b: Array,
    part: str = "part (a)",
    hidden: str | None = None,
) -> None:
    """Run a student's ``affine_forward`` and check ``Z`` and the cache ``(A_prev, W, b)``.

    ``hidden``: for a hidden test, what kind of case it is (every check of this module takes
    it); the message then names the case by its sizes and that description.
    """
    __tracebackhide__ = True
    from course.layers import affine_forward

    A_prev, W, b = (np.array(a, dtype=np.float64) for a in (A_prev, W, b))
    sizes = f"A_prev {_shape(A_prev)}, W {_shape(W)}, b {_shape(b)}"
    name = f"affine_forward ({_case(sizes, hidden)})"
    got = checks.call_student(func, A_prev.copy(), W.copy(), b.copy(), part=part, forbid=FORBID)
    Z, cache = _results(name, got, ("Z", "cache"))
    expected, _ = affine_forward(A_prev, W, b)
    checks.check_array(f"Z from {name}", Z, expected, mistakes=affine_forward_mistakes(A_prev, W))
    if not isinstance(cache, (tuple, list)) or len(cache) != 3:
        raise checks.CheckFailure(
            f"The cache from {name} should be the tuple (A_prev, W, b), but it is "
            f"{checks._short(cache)}. affine_backward receives exactly this tuple.",
            name=f"cache from {name}",
            problem="wrong_cache",
        )
    for label, want, have in zip(("A_prev", "W", "b"), (A_prev, W, b), cache):
        if np.shape(have) != want.shape or not np.array_equal(np.asarray(have), want):
            raise checks.CheckFailure(
                f"The cache from {name} should be the tuple (A_prev, W, b), in this order, but "
                f"its entry for {label} is not the {label} you received (shape "
                f"{np.shape(have)}, expected {want.shape}).",
                name=f"cache from {name}",
                problem="wrong_cache",
            )


def affine_forward_mistakes(A_prev: Array, W: Array) -> dict[str, Array]:
    """Known wrong answers of ``Z`` from ``affine_forward``, keyed by what went wrong."""
    return {
        "you forgot to add the bias b (it is added to every column of the product).": W @ A_prev
    }


def affine_mistakes(A_prev: Array, W: Array, dZ: Array) -> list[dict[str, Array]]:
    """Known wrong answers of ``(dA_prev, dW, db)``, keyed by what went wrong."""
    m = A_prev.shape[1]
    mistakes: list[dict[str, Array]] = [{}, {}, {}]
    if W.shape[0] == W.shape[1]:
        mistakes[0][
            "you multiplied by W where its transpose belongs: each input of the layer collects "
            "the gradients of the units it feeds, and their weights are a column of W, not a row."
        ] = W @ dZ
    if m > 1:
        for j in range(m):
            mistakes[2][
                f"your db equals the column of example {j} alone: a bias is shared by all the "
                "examples, so its gradient collects the contributions of every column of dZ."
            ] = dZ[:, j : j + 1]
    return mistakes


def check_affine_backward(
    func: Callable,
    A_prev: Array,
    W: Array,
    b: Array,
    dZ: Array,
    part: str = "part (a)",
    hidden: str | None = None,
) -> None:
    """Run a student's ``affine_backward(dZ, (A_prev, W, b))``; compare with ``course.layers``
    and with finite differences."""
    __tracebackhide__ = True
    from course.layers import affine_backward

    A_prev, W, b, dZ = (np.array(a, dtype=np.float64) for a in (A_prev, W, b, dZ))
    m = A_prev.shape[1]
    sizes = f"dZ {_shape(dZ)}, A_prev {_shape(A_prev)}, W {_shape(W)}"
    name = f"affine_backward ({_case(sizes, hidden)})"
    cache = (A_prev.copy(), W.copy(), b.copy())
    got = checks.call_student(func, dZ.copy(), cache, part=part, forbid=FORBID)
    labels = ("dA_prev", "dW", "db")
    results = _results(name, got, labels)
    expected = affine_backward(dZ, (A_prev, W, b))
    mistakes = affine_mistakes(A_prev, W, dZ)
    for label, value, want, extra in zip(labels, results, expected, mistakes):
        checks.check_array(f"{label} from {name}", value, want, mistakes=extra, m=m)

    # the same three gradients by centred finite differences of J = sum(dZ * Z(A_prev, W, b))
    def J(A: Array, W_: Array, b_: Array) -> float:
        return float(np.sum(dZ * (W_ @ A + b_)))

    for label, value, x, f in (
        ("dA_prev", results[0], A_prev, lambda a: J(a, W, b)),
        ("dW", results[1], W, lambda w: J(A_prev, w, b)),
        ("db", results[2], b, lambda c: J(A_prev, W, c)),
    ):
        checks.numeric_gradient_check(
            f, x, value, f"{label} from {name}", context="compared with finite differences", m=m
        )


def check_relu_forward(
    func: Callable, Z: Array, part: str = "part (a)", hidden: str | None = None
) -> None:
    """Run a student's ``relu_forward(Z)``: ``A = max(Z, 0)`` and the cache ``Z``."""
    __tracebackhide__ = True
    from course.layers import relu_forward

    Z = np.array(Z, dtype=np.float64)
    name = f"relu_forward ({_case(f'Z {_shape(Z)}', hidden)})"
    got = checks.call_student(func, Z.copy(), part=part, forbid=FORBID)
    A, cache = _results(name, got, ("A", "cache"))
    expected, _ = relu_forward(Z)
    checks.check_array(
        f"A from {name}",
        A,
        expected,
        mistakes=relu_forward_mistakes(Z),
    )
    _check_cache(name, cache, Z, "Z, the array you received")


def relu_forward_mistakes(Z: Array) -> dict[str, Array]:
    """Known wrong answers of ``A`` from ``relu_forward``, keyed by what went wrong."""
    return {"you kept the negative entries and zeroed the positive ones.": np.minimum(Z, 0)}


def relu_backward_mistakes(Z: Array, dA: Array) -> dict[str, Array]:
    """Known wrong answers of ``dZ`` from ``relu_backward``, keyed by what went wrong."""
    A = np.maximum(Z, 0.0)
    found = {
        "you multiplied by the ReLU's output A, its value, where its slope belongs: backprop "
        "through an activation multiplies the upstream gradient by the activation's "
        "derivative at Z.": dA * A,
        "you left out the ReLU's derivative: the gradient passes only through the units that "
        "are on, and the units that are off pass nothing back.": dA,
        "the slope is taken at the wrong place: you decided which units are on from the "
        "upstream gradient dA, but whether a ReLU is on depends only on its input Z.": dA
        * (dA > 0),
    }
    if np.any(Z == 0):
        found[
            "at the kink Z = 0 exactly, you used relu'(0) = 1; this course's convention is "
            "relu'(0) = 0 (as PyTorch's). Look at how your mask treats the entries where Z is "
            "exactly 0."
        ] = dA * (Z >= 0)
    return found


def check_relu_backward(
    func: Callable, Z: Array, dA: Array, part: str = "part (a)", hidden: str | None = None
) -> None:
    """Run a student's ``relu_backward(dA, Z)`` (the cache is ``Z``)."""
    __tracebackhide__ = True
    from course.layers import relu_backward, relu_forward

    Z, dA = np.array(Z, dtype=np.float64), np.array(dA, dtype=np.float64)
    name = f"relu_backward ({_case(f'dA {_shape(dA)}', hidden)})"
    got = checks.call_student(func, dA.copy(), Z.copy(), part=part, forbid=FORBID)
    _, cache = relu_forward(Z)
    checks.check_array(
        f"dZ from {name}", got, relu_backward(dA, cache), mistakes=relu_backward_mistakes(Z, dA)
    )
    if np.min(np.abs(Z)) > 1e-4:  # away from the kink, finite differences are exact enough
        checks.numeric_gradient_check(
            lambda z: float(np.sum(dA * np.maximum(z, 0.0))),
            Z,
            got,
            f"dZ from {name}",
            context="compared with finite differences",
        )


def check_sigmoid_forward(
    func: Callable, Z: Array, part: str = "part (a)", hidden: str | None = None
) -> None:
    """Run a student's ``sigmoid_forward(Z)``: ``A`` (stable for any ``Z``) and the cache ``A``."""
    __tracebackhide__ = True
    from course.layers import sigmoid_forward

    Z = np.array(Z, dtype=np.float64)
    size = f"Z {_shape(Z)}" + (f", largest |z| = {np.max(np.abs(Z)):.3g}" if hidden is None else "")
    name = f"sigmoid_forward ({_case(size, hidden)})"
    got = _quietly(func, Z.copy(), part=part, name=name)
    A, cache = _results(name, got, ("A", "cache"))
    expected, _ = sigmoid_forward(Z)
    checks.check_array(
        f"A from {name}",
        A,
        expected,
        rtol=1e-7,
        atol=1e-12,
        mistakes={"your exponent has the wrong sign: your A is 1 - sigmoid(Z).": _sigmoid(-Z)},
    )
    _check_cache(name, cache, expected, "A = sigmoid(Z), what sigmoid_backward needs")


def sigmoid_backward_mistakes(Z: Array, dA: Array) -> dict[str, Array]:
    """Known wrong answers of ``dZ`` from ``sigmoid_backward``, keyed by what went wrong."""
    A = _sigmoid(Z)
    at_A = _sigmoid(A)
    return {
        "the slope is taken at the wrong place: the cache holds A = sigmoid(Z), the layer's "
        "output, and you applied the sigmoid to it once more before taking the slope. The "
        "derivative belongs at Z, and it can be written with A alone.": dA * at_A * (1 - at_A),
        "you multiplied by the sigmoid's value A where its slope belongs: backprop through "
        "an activation multiplies the upstream gradient by the derivative.": dA * A,
        "you returned the sigmoid's slope alone: multiply it by the upstream gradient dA "
        "(the chain rule).": A * (1 - A),
    }


def check_sigmoid_backward(
    func: Callable, Z: Array, dA: Array, part: str = "part (a)", hidden: str | None = None
) -> None:
    """Run a student's ``sigmoid_backward(dA, A)`` (the cache is ``A = sigmoid(Z)``)."""
    __tracebackhide__ = True
    from course.layers import sigmoid_backward, sigmoid_forward

    Z, dA = np.array(Z, dtype=np.float64), np.array(dA, dtype=np.float64)
    name = f"sigmoid_backward ({_case(f'dA {_shape(dA)}', hidden)})"
    A, cache = sigmoid_forward(Z)
    got = _quietly(func, dA.copy(), A.copy(), part=part, name=name)
    checks.check_array(
        f"dZ from {name}",
        got,
        sigmoid_backward(dA, cache),
        mistakes=sigmoid_backward_mistakes(Z, dA),
    )
    if np.max(np.abs(Z)) < 30:
        checks.numeric_gradient_check(
            lambda z: float(np.sum(dA * _sigmoid(z))),
            Z,
            got,
            f"dZ from {name}",
            context="compared with finite differences",
        )


# =================================================================================================
# part (b): the loss and gradients of an L-layer network
# =================================================================================================


def _keys(L: int) -> tuple[str, ...]:
    """``W1, b1, ..., WL, bL``."""
    return tuple(f"{p}{l}" for l in range(1, L + 1) for p in ("W", "b"))


def _order(L: int) -> tuple[str, ...]:
    """From the output back to the input: the first wrong gradient is where a mistake starts."""
    return tuple(f"{p}{l}" for l in range(L, 0, -1) for p in ("W", "b"))


def _depth(params: Mapping[str, Array]) -> int:
    return len(params) // 2


def _sizes(sizes: Sequence[int], m: int) -> list[int]:
    """``sizes`` as a list of positive whole numbers, at least two, or an error that says how
    to pass them (a student calls the case functions in scratch cells)."""
    ok = isinstance(sizes, (list, tuple)) and len(sizes) >= 2
    ok = ok and all(isinstance(n, (int, np.integer)) and n >= 1 for n in sizes)
    if not ok:
        raise ValueError(
            f"sizes should list the widths n_0, n_1, ..., n_L of the network's layers, the "
            f"inputs first and the classes last, at least two positive whole numbers; got "
            f"{sizes!r}. For example [3, 4, 2]: 3 inputs, 4 hidden ReLU units, 2 classes."
        )
    if not isinstance(m, (int, np.integer)) or m < 1:
        raise ValueError(f"m is the number of examples in the batch, at least 1; got {m!r}.")
    return [int(n) for n in sizes]


def _draw_params(rng: np.random.Generator, sizes: Sequence[int]) -> dict[str, Array]:
    params = {}
    for l in range(1, len(sizes)):
        params[f"W{l}"] = rng.normal(
            scale=1.0 / np.sqrt(sizes[l - 1]), size=(sizes[l], sizes[l - 1])
        )
        params[f"b{l}"] = rng.normal(scale=0.5, size=(sizes[l], 1))
    return params


def _pre_activations(X: Array, params: Mapping[str, Array]) -> list[Array]:
    """``Z[1], ..., Z[L]`` of the ReLU network."""
    A, Zs = X, []
    L = _depth(params)
    for l in range(1, L + 1):
        Z = params[f"W{l}"] @ A + params[f"b{l}"]
        Zs.append(Z)
        A = np.maximum(Z, 0.0)
    return Zs


def network_case(
    seed: int, sizes: Sequence[int], m: int, *, margin: float = 1e-3, scale: float = 1.0
) -> tuple[Array, Array, dict[str, Array]]:
    """Seeded ``X (n_0, m)``, labels ``y (m,)`` and parameters ``W1, b1, ..., WL, bL`` (in your
    variant) of the network ``sizes = [n_0, n_1, ..., n_L]``; no hidden pre-activation within ``margin`` of 0,
    and some units on and some off in every hidden layer where there is more than one entry.

    Away from the ReLU's kink, centred finite differences are exact enough to check every
    gradient. The biases are not zero (so weight decay on them would show); ``scale``
    multiplies the output layer's weights (large logits).
    """
    sizes = _sizes(sizes, m)
    rng = _rng(seed)
    for _ in range(1000):
        X = rng.normal(size=(sizes[0], m))
        params = _draw_params(rng, sizes)
        A, fine = X, True
        for l in range(1, len(sizes) - 1):  # the hidden layers, as the network computes them
            Z = params[f"W{l}"] @ A + params[f"b{l}"]
            A = np.maximum(Z, 0.0)
            on_and_off = Z.size < 2 or (np.any(Z < 0) and np.any(Z > 0))
            fine = fine and np.min(np.abs(Z)) > margin and on_and_off
        if fine:
            break
    L = len(sizes) - 1
    params[f"W{L}"] = params[f"W{L}"] * scale
    y = rng.integers(0, sizes[-1], size=m)
    return X, y, params


def kink_network_case(
    seed: int, sizes: Sequence[int], m: int
) -> tuple[Array, Array, dict[str, Array]]:
    """A case where some pre-activations of the first hidden layer are exactly 0 (small whole
    numbers), on the ReLU's kink; seeded, in your variant."""
    sizes = _sizes(sizes, m)
    rng = _rng(seed)
    for _ in range(1000):
        X = rng.integers(-2, 3, size=(sizes[0], m)).astype(np.float64)
        W1 = rng.integers(-1, 2, size=(sizes[1], sizes[0])).astype(np.float64)
        b1 = rng.integers(-1, 2, size=(sizes[1], 1)).astype(np.float64)
        Z1 = W1 @ X + b1
        if np.sum(Z1 == 0) >= 2 and np.any(Z1 > 0):
            break
    params = _draw_params(rng, sizes)
    params["W1"], params["b1"] = W1, b1
    return X, rng.integers(0, sizes[-1], size=m), {k: params[k] for k in _keys(len(sizes) - 1)}


def network_reference(
    X: Array, y: Array, params: Mapping[str, Array], l2: float
) -> tuple[float, dict[str, Array]]:
    """``(J, grads)`` from ``course.mlp.MLP(sizes, hidden="relu", output="softmax", ...)``."""
    from course.mlp import MLP

    L = _depth(params)
    sizes = [params["W1"].shape[1]] + [params[f"W{l}"].shape[0] for l in range(1, L + 1)]
    net = MLP(sizes, hidden="relu", output="softmax", loss="cross_entropy", l2=l2)
    net.params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    J = net.loss(X, y)
    grads = net.gradients(X, y)
    return J, {k: grads[k] for k in _order(L)}


def network_cost(X: Array, y: Array, params: Mapping[str, Array], l2: float) -> float:
    """The cost in plain numpy, for finite differences: mean cross-entropy plus weight decay."""
    L = _depth(params)
    Z = _pre_activations(X, params)[-1]
    T = _one_hot(y, Z.shape[0])
    data = float(np.mean(_logsumexp(Z)[0] - np.sum(T * Z, axis=0)))
    return data + l2 * sum(float(np.sum(params[f"W{l}"] ** 2)) for l in range(1, L + 1))


def network_variant(
    X: Array,
    y: Array,
    params: Mapping[str, Array],
    l2: float,
    *,
    mean: bool = True,
    decay: float = 2.0,
    decay_bias: bool = False,
    mask: str = "step",
) -> dict[str, Array]:
    """The gradients with one usual mistake (``mean=False``: no 1/m; ``decay``: the factor of
    ``l2 W``; ``decay_bias``: decay on the biases too; ``mask``: ``"step"`` (right),
    ``"step_ge"`` (relu'(0) = 1), ``"value"`` (relu instead of relu'), ``"none"``)."""
    L = _depth(params)
    m = X.shape[1]
    Zs = _pre_activations(X, params)
    As = [X] + [np.maximum(Z, 0.0) for Z in Zs[:-1]]
    P = np.exp(Zs[-1] - _logsumexp(Zs[-1]))
    dZ = (P - _one_hot(y, P.shape[0])) / (m if mean else 1)
    grads: dict[str, Array] = {}
    for l in range(L, 0, -1):
        W, b = params[f"W{l}"], params[f"b{l}"]
        grads[f"W{l}"] = dZ @ As[l - 1].T + decay * l2 * W
        grads[f"b{l}"] = dZ.sum(axis=1, keepdims=True) + (decay * l2 * b if decay_bias else 0.0)
        if l > 1:
            Z = Zs[l - 2]
            factor = {"step": Z > 0, "step_ge": Z >= 0, "value": As[l - 1], "none": 1.0}[mask]
            dZ = (W.T @ dZ) * factor
    return grads


def network_mistakes(
    X: Array, y: Array, params: Mapping[str, Array], l2: float
) -> tuple[dict[str, float], dict[str, dict[str, Array]]]:
    """Known wrong answers for ``J`` and for each gradient, keyed by what went wrong."""
    L = _depth(params)
    m = X.shape[1]
    hidden_Z = _pre_activations(X, params)[:-1]
    data = network_cost(X, y, params, 0.0)
    penalty = network_cost(X, y, params, l2) - data
    bias_penalty = l2 * sum(float(np.sum(params[f"b{l}"] ** 2)) for l in range(1, L + 1))
    weights, biases = (
        tuple(f"W{l}" for l in range(L, 0, -1)),
        tuple(f"b{l}" for l in range(L, 0, -1)),
    )
    mistakes_J: dict[str, float] = {}
    per_name: dict[str, dict[str, Array]] = {k: {} for k in _order(L)}

    def add(text: str, grads: Mapping[str, Array], names: tuple[str, ...] = _order(L)) -> None:
        for k in names:
            per_name[k][text] = grads[k]

    if m > 1:
        mistakes_J[
            f"you summed the cross-entropy over the batch instead of taking the mean (the batch "
            f"has m = {m} examples)."
        ] = m * data + penalty
    if l2 > 0:
        mistakes_J[
            "your J leaves out the weight decay: the cost has two terms, the mean cross-entropy "
            "and the penalty."
        ] = data
        mistakes_J[
            "L2 weight decay applied to the biases: the penalty is on the weights only, never on "
            "the biases."
        ] = data + penalty + bias_penalty
        mistakes_J[
            "your penalty is twice the stated one: J adds l2 times the sum of the squared "
            "weights, with no factor 2."
        ] = data + 2 * penalty
        add(
            f"you did not divide by m = {m}: the cost is the mean over the batch, so the "
            "gradient of its cross-entropy part carries a 1/m (the weight-decay part does not).",
            network_variant(X, y, params, l2, mean=False),
        )
        add(
            "L2 weight decay applied to the biases: the penalty is on the weights only, so the "
            "biases' gradients have no weight-decay term.",
            network_variant(X, y, params, l2, decay_bias=True),
            biases,
        )
        for factor, how in ((1.0, "half"), (4.0, "twice")):
            add(
                f"the weight-decay part of your dW is off by a factor of 2 ({how} the right "
                "one): differentiate the penalty as this notebook states it (l2 times a sum of "
                "squares, with no 1/2 in front), entry by entry.",
                network_variant(X, y, params, l2, decay=factor),
                weights,
            )
        add(
            "your gradient leaves out the weight decay: the penalty depends on every weight "
            "matrix, so it adds a term to each of their gradients.",
            network_variant(X, y, params, l2, decay=0.0),
            weights,
        )
    elif m > 1:
        add(
            f"you did not divide by m = {m}: the cost is the mean over the batch, so its "
            "gradient carries a 1/m.",
            network_variant(X, y, params, l2, mean=False),
        )
    if L > 1:
        inner = tuple(k for k in _order(L) if int(k[1:]) < L)
        add(
            "you used the ReLU itself, relu(Z), where its derivative belongs: backprop through "
            "the ReLU multiplies by its slope relu'(Z), not by its value.",
            network_variant(X, y, params, l2, mask="value"),
            inner,
        )
        add(
            "you left out the ReLU's derivative: the gradient that reaches a hidden layer's Z "
            "passes through the ReLU's slope, which is 0 for the units that are off.",
            network_variant(X, y, params, l2, mask="none"),
            inner,
        )
        if any(np.any(Z == 0) for Z in hidden_Z):
            add(
                "at the kink Z = 0 exactly, you used relu'(0) = 1; this course's convention is "
                "relu'(0) = 0 (as PyTorch's). Look at how your mask treats the entries where Z "
                "is exactly 0.",
                network_variant(X, y, params, l2, mask="step_ge"),
                inner,
            )
    return mistakes_J, per_name


class _NotASlip(Exception):
    """A student's layer gave, inside the chain, what no test of its own would charge."""


def _compose(
    layers: Sequence[Callable],
    X: Array,
    y: Array,
    params: Mapping[str, Array],
    l2: float,
    part: str,
) -> tuple[float, dict[str, Array]] | None:
    """``(J, grads)`` of the network built from a student's layers of part (a), chained as the
    reference chains its own (the output layer and the penalty are the reference's); None when
    the layers cannot be chained (not written, an error, a result of the wrong kind).

    Every result of a layer is compared here with the reference layer on the same inputs (the
    chain's, made of the student's earlier results): it must be the right answer or one of
    that layer's usual slips (:func:`course.checks.recognised`), or the chain gives None. A
    layer that answers its own tests right and something else inside the chain is charged by
    nothing, so it earns no credit.
    """
    from course.layers import affine_backward as ref_affine_backward

    affine_forward, affine_backward, relu_forward, relu_backward = layers
    L = _depth(params)
    m = X.shape[1]

    def call(func: Callable, *args: Any) -> Any:
        return checks.call_student(func, *args, part=part, forbid=FORBID)

    def slip(results: Sequence[Any], wants: Sequence[Array], mistakes: Sequence[Any]) -> None:
        for got, want, known in zip(results, wants, mistakes, strict=True):
            if not checks.recognised(got, want, m=m, mistakes=known):
                raise _NotASlip

    def pair(got: Any) -> tuple[Array, Any]:
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise _NotASlip
        return np.asarray(got[0], dtype=np.float64), got[1]

    try:
        A, trail = X, []
        for l in range(1, L + 1):
            W, b = params[f"W{l}"], params[f"b{l}"]
            Z, affine = pair(call(affine_forward, A, W, b))
            slip([Z], [W @ A + b], [affine_forward_mistakes(A, W)])
            act = None
            if l < L:
                A_next, act = pair(call(relu_forward, Z))
                slip([A_next], [np.maximum(Z, 0)], [relu_forward_mistakes(Z)])
            trail.append((A, W, b, Z, affine, act))
            if l < L:
                A = A_next
        T = _one_hot(y, Z.shape[0])
        J = float(np.mean(_logsumexp(Z)[0] - np.sum(T * Z, axis=0)))
        J += l2 * sum(float(np.sum(params[f"W{l}"] ** 2)) for l in range(1, L + 1))
        dZ = (np.exp(Z - _logsumexp(Z)) - T) / m
        grads: dict[str, Array] = {}
        for l in range(L, 0, -1):
            A_prev, W, b, _, affine, _ = trail[l - 1]
            got = call(affine_backward, dZ, affine)
            if not isinstance(got, (tuple, list)) or len(got) != 3:
                raise _NotASlip
            slip(got, ref_affine_backward(dZ, (A_prev, W, b)), affine_mistakes(A_prev, W, dZ))
            dA, dW, db = (np.asarray(g, dtype=np.float64) for g in got)
            grads[f"W{l}"] = dW + 2.0 * l2 * W
            grads[f"b{l}"] = db
            if l > 1:
                Z_prev, act = trail[l - 2][3], trail[l - 2][5]
                dZ = np.asarray(call(relu_backward, dA, act), dtype=np.float64)
                slip([dZ], [dA * (Z_prev > 0)], [relu_backward_mistakes(Z_prev, dA)])
        return J, grads
    except Exception as exc:  # noqa: BLE001 (any failure: the layers cannot be chained)
        if type(exc).__name__ == "KernelGone":
            raise
        return None


def _agrees(
    J: object, grads: object, J_ref: float, grads_ref: Mapping[str, Array], only: str | None
) -> bool:
    """Whether ``(J, grads)`` equal ``(J_ref, grads_ref)`` within the checks' tolerances (the
    part of them that ``only`` names)."""
    try:
        if only != "grads":
            checks.check_array("J", J, J_ref)
        if only != "J":
            checks.check_gradients(grads, grads_ref)
    except checks.CheckFailure:
        return False
    return True


def answers_of(
    func: Callable,
    X: Array,
    y: Array,
    params: Mapping[str, Array],
    l2s: Sequence[float],
    part: str = "part (b)",
) -> checks.Answers:
    """The student's ``loss_and_grads`` on one case, for each weight decay of ``l2s``, asked
    for at once, before any check of the case: give it to :func:`check_network` in place of
    the function when a case is checked more than once (a check that chains the student's
    layers sends the case's hidden layers and gradients into the kernel, where a later call
    could replay them)."""
    X = np.array(X, dtype=np.float64)
    y = np.array(y, dtype=np.int64)
    params = {k: np.array(params[k], dtype=np.float64) for k in _keys(_depth(params))}

    def call(l2: float) -> Any:
        copies = {k: v.copy() for k, v in params.items()}
        return _quietly(func, X.copy(), y.copy(), copies, l2, part=part, name="loss_and_grads")

    answers = checks.Answers(func, call, [float(l2) for l2 in l2s])
    answers.case = _digest(X, y, params)  # type: ignore[attr-defined]
    return answers


def _digest(X: Array, y: Array, params: Mapping[str, Array]) -> int:
    """A fingerprint of a case, to tell that answers belong to it."""
    parts = [np.ascontiguousarray(a).tobytes() for a in (X, y, *params.values())]
    return zlib.crc32(b"|".join(parts))


def check_network(
    func: Callable | checks.Answers,
    X: Array,
    y: Array,
    params: Mapping[str, Array],
    l2: float,
    layers: Sequence[Callable] | None = None,
    only: str | None = None,
    part: str = "part (b)",
    hidden: str | None = None,
) -> None:
    """Run a student's ``loss_and_grads(X, y, params, l2)`` and compare with ``course.mlp`` and
    finite differences (only for the parameters whose finite differences cross no ReLU kink).

    ``only``: ``"J"`` checks the cost alone, ``"grads"`` the gradients alone (each its own
    points in a test), None both.

    ``func``: the student's function, or its answers on this case (:func:`answers_of`), which
    a test collects first when it checks the case more than once.

    ``layers``: the student's ``(affine_forward, affine_backward, relu_forward,
    relu_backward)``. When the answer is wrong but equals the network chained from those
    layers, and they differ from the reference layers here, the check passes and says so: the
    mistake is part (a)'s, and part (a)'s tests charge it.
    """
    __tracebackhide__ = True
    X = np.array(X, dtype=np.float64)
    y = np.array(y, dtype=np.int64)
    L = _depth(params)
    params = {k: np.array(params[k], dtype=np.float64) for k in _keys(L)}
    m = X.shape[1]
    sizes = "-".join(
        str(n) for n in [X.shape[0]] + [params[f"W{l}"].shape[0] for l in range(1, L + 1)]
    )
    if hidden is None:
        where = f"network {sizes}, batch m = {m}, l2 = {l2:g}"
    else:
        decay = "with" if l2 else "without"
        where = _case(f"network {sizes}, batch m = {m}, {decay} weight decay", hidden)
    name = f"loss_and_grads ({where})"
    if isinstance(func, checks.Answers):
        answers = func
        if getattr(answers, "case", None) != _digest(X, y, params):
            raise ValueError("check_network: these answers were collected on another case")
    else:
        answers = answers_of(func, X, y, params, [l2], part)
    try:
        got = answers.result(float(l2))
    except checks.CheckFailure as exc:
        if exc.problem == "unstable":  # said again with this check's name of the case
            raise checks.CheckFailure(
                str(exc).replace("loss_and_grads", name, 1),
                name=name,
                problem=exc.problem,
                diagnoses=list(exc.diagnoses),
            ) from None
        raise
    J, grads = _results(name, got, ("J", "grads"))
    J = _number(J)
    J_ref, grads_ref = network_reference(X, y, params, l2)
    try:
        mistakes_J, mistakes = network_mistakes(X, y, params, l2)
        if only != "grads":
            checks.check_array(f"J from {name}", J, J_ref, m=m, mistakes=mistakes_J)
        if only == "J":
            return
        checks.check_gradients(grads, grads_ref, context=where, m=m, mistakes=mistakes)
        hidden_Z = _pre_activations(X, params)[:-1]
        kinks = [l for l, Z in enumerate(hidden_Z, start=1) if np.min(np.abs(Z)) <= 1e-3]
        # a kink in layer l makes the finite differences of layers 1..l+1 unreliable
        smooth = [k for k in _order(L) if not kinks or int(k[1:]) > max(kinks) + 1]
        for key in smooth:

            def cost(value: Array, key: str = key) -> float:
                return network_cost(X, y, {**params, key: value}, l2)

            checks.numeric_gradient_check(
                cost,
                params[key],
                grads[key],
                f"gradient for {key!r}",
                context=f"{where}, compared with finite differences",
                m=m,
            )
    except checks.CheckFailure:
        if layers is not None:
            composed = _compose(layers, X, y, params, l2, part)
            if (
                composed is not None
                and not _agrees(*composed, J_ref, grads_ref, only)
                and _agrees(J, grads, *composed, only)
            ):
                print(
                    f"{name}: your result is the network built from your own layers of part "
                    "(a), which are wrong on this case; part (a)'s tests charge that mistake, "
                    "so this check passes. Fix the layers and this result will be right too."
                )
                return
        raise


# =================================================================================================
# part (c): a gradient checker
# =================================================================================================

#: the test functions of part (c), as the notebook's locked cell defines them (for the wrong
#: answers of the usual mistakes; the right answers are written in the tests)
TEST_FUNCTIONS: dict[str, Callable[[Array], float]] = {
    "sum of squares": lambda x: float(np.sum(x**2)),
    "sum of cubes": lambda x: float(np.sum(x**3)),
    "weighted sines": lambda x: float(
        np.sum(np.arange(1, x.size + 1).reshape(x.shape) * np.sin(x))
    ),
    "log-sum-exp": lambda x: float(np.log(np.sum(np.exp(x)))),
    "product": lambda x: float(np.prod(x)),
}


def _one_sided(f: Callable[[Array], float], x: Array, h: float, sign: float) -> Array:
    out = np.zeros_like(x)
    base = f(x)
    for i in np.ndindex(x.shape):
        step = x.copy()
        step[i] += sign * h
        out[i] = sign * (f(step) - base) / h
    return out


def _centred(f: Callable[[Array], float], x: Array, h: float) -> Array:
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        out[i] = (f(up) - f(down)) / (2 * h)
    return out


def grad_check_mistakes(name: str, x: Array, h: float) -> dict[str, Array]:
    """Known wrong answers of ``grad_check`` on a test function, keyed by what went wrong."""
    f = TEST_FUNCTIONS[name]
    centred = _centred(f, x, h)
    together = (f(x + h) - f(x - h)) / (2 * h)
    return {
        "you took a one-sided difference (from x to x + h): its error shrinks only like h, "
        "where the centred difference's shrinks like h^2. Step to both sides of x.": _one_sided(
            f, x, h, 1.0
        ),
        "you took a one-sided difference (from x - h to x): its error shrinks only like h, "
        "where the centred difference's shrinks like h^2. Step to both sides of x.": _one_sided(
            f, x, h, -1.0
        ),
        "your differences are twice too large: check the distance between the two points "
        "whose values you compare.": 2 * centred,
        "you nudged every entry of x at once: each entry of the gradient needs its own "
        "nudge, with the other entries left where they are.": np.full_like(x, together),
    }


def check_grad_check(
    func: Callable,
    name: str,
    x: Array,
    h: float,
    expected: Array | None,
    rtol: float = 1e-6,
    keeps_x: bool = False,
    part: str = "part (c)",
    hidden: str | None = None,
) -> None:
    """Run a student's ``grad_check`` through the notebook's ``grad_check_on(name, x, h)`` on a
    test function whose result is known (``expected``, written in the test); ``keeps_x``:
    check that ``x`` is left as it was instead (its own points in a test)."""
    __tracebackhide__ = True
    x = np.array(x, dtype=np.float64)
    size = f"x {_shape(x)}" + (f", h = {h:g}" if hidden is None else "")
    where = f"{name}, {_case(size, hidden)}"
    arg = x.copy()
    got = checks.call_student(func, name, arg, h, part=part, forbid=FORBID)
    if keeps_x:
        if np.array_equal(arg, x):
            return
        raise checks.CheckFailure(
            f"Your grad_check changed x ({where}): after the call, x holds other numbers than "
            "before. A checker nudges one entry at a time and must put each entry back as it "
            "was (or work on a copy), or the caller's array is left changed.",
            name="grad_check",
            problem="changed_input",
        )
    checks.check_array(
        f"grad_check result ({where})",
        got,
        np.array(expected, dtype=np.float64),
        rtol=rtol,
        atol=1e-9,
        mistakes=grad_check_mistakes(name, x, h),
    )


# =================================================================================================
# part (d): training on the digits
# =================================================================================================


def digits_split(seed: int = 0) -> tuple[Array, Array, Array, Array]:
    """``X_train (64, 1348), y_train (1348,), X_test (64, 449), y_test (449,)``: the bundled 8x8
    digits of ``course.data.load_digits`` (pixels in [0, 1], one image per column, labels 0-9),
    split 75/25 with every digit in proportion."""
    from course.data import load_digits, train_test_split

    X, y = load_digits()
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_fraction=0.25, seed=seed, stratify=True)
    return X_tr, y_tr, X_te, y_te


def predict(params: Mapping[str, Array], X: Array) -> Array:
    """The class of each column of ``X``: the largest output of the ReLU network ``params``."""
    A = np.asarray(X, dtype=np.float64)
    L = len(params) // 2
    for l in range(1, L + 1):
        Z = np.asarray(params[f"W{l}"], dtype=np.float64) @ A + np.asarray(params[f"b{l}"])
        A = np.maximum(Z, 0.0) if l < L else Z
    return np.argmax(A, axis=0)


def accuracy(params: Mapping[str, Array], X: Array, y: Array) -> float:
    """Fraction of the columns of ``X`` classified right (``y``: labels ``(m,)``)."""
    return float(np.mean(predict(params, X) == np.asarray(y).reshape(-1)))


def _trained_params(got: object, n0: int, K: int) -> dict[str, Array]:
    __tracebackhide__ = True
    if got is None:
        raise checks.CheckFailure(
            "Your train returned None. Did you forget `return params`? It should return the "
            "trained parameters {'W1': ..., 'b1': ..., ..., 'WL': ..., 'bL': ...}.",
            name="train",
            problem="returned_none",
        )
    if not isinstance(got, Mapping):
        raise checks.CheckFailure(
            f"Your train should return the dict of parameters, but it returned a "
            f"{type(got).__name__}: {checks._short(got)}",
            name="train",
            problem="wrong_type",
        )
    L = len(got) // 2
    missing = [k for k in _keys(max(L, 1)) if k not in got]
    if missing or len(got) % 2:
        raise checks.CheckFailure(
            f"The dict returned by train has the keys {sorted(map(str, got))}; it must hold "
            "W1, b1, ..., WL, bL for a network of L layers and nothing else.",
            name="train",
            problem="missing_keys",
        )
    params = {k: checks._as_array(f"params[{k!r}] from train", got[k]) for k in _keys(L)}
    n_prev = n0
    for l in range(1, L + 1):
        W, b = params[f"W{l}"], params[f"b{l}"]
        n = W.shape[0] if W.ndim == 2 else -1
        want_n = K if l == L else n
        if W.shape != (want_n, n_prev) or b.shape != (want_n, 1):
            raise checks.CheckFailure(
                f"Layer {l} of the network from train has W{l} of shape {W.shape} and b{l} of "
                f"shape {b.shape}; it takes {n_prev} inputs, so W{l} should be "
                f"({want_n}, {n_prev}) and b{l} ({want_n}, 1)"
                + (f" (the last layer has one unit per class, {K})." if l == L else "."),
                name="params from train",
                problem="wrong_shape",
            )
        if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
            raise checks.CheckFailure(
                f"W{l} or b{l} from train contains nan or inf: the training diverged. Lower the "
                "learning rate, and check parts (a) and (b) first.",
                name="params from train",
                problem="not_finite",
            )
        n_prev = want_n
    return params


def check_training(
    func: Callable,
    data_seed: int = 0,
    train_seed: int = 0,
    threshold: float = THRESHOLD,
    seconds: float = TRAIN_SECONDS,
    part: str = "part (d)",
    hidden: str | None = None,
) -> None:
    """Train on a digits split and require ``threshold`` accuracy on its held-out images,
    within ``seconds``.

    Returns nothing: a number as the last value of a test cell would be read by nbgrader as
    partial credit.
    """
    __tracebackhide__ = True
    X_tr, y_tr, X_te, y_te = digits_split(data_seed)
    if hidden is None:
        where = f"digits split seed {data_seed}, train(X, y, seed={train_seed})"
    else:
        where = f"hidden case: {hidden}"
    start = time.perf_counter()
    got = checks.call_student(
        func, X_tr.copy(), y_tr.copy(), seed=train_seed, part=part, forbid=FORBID_TRAINING
    )
    took = time.perf_counter() - start
    params = _trained_params(got, X_tr.shape[0], 10)
    train_acc = accuracy(params, X_tr, y_tr)
    test_acc = accuracy(params, X_te, y_te)
    if took > seconds:
        raise checks.CheckFailure(
            f"Your train took {took:.0f} s ({where}); one run may take at most {seconds:.0f} s "
            "here, since the grader stops a test cell after 120 s and a hidden-test cell trains "
            "twice. Use fewer epochs or a smaller network (a run of a few seconds is plenty).",
            name="train",
            problem="too_slow",
        )
    if test_acc < threshold:
        if train_acc < threshold:
            hint = checks.Diagnosis(
                "underfitting",
                "The training accuracy is low too: the network has not learned the training "
                "set yet (underfitting). Train longer, use a larger learning rate or more "
                "hidden units, and make sure parts (a) and (b) pass their tests: a wrong "
                "gradient trains badly or not at all.",
            )
        else:
            hint = checks.Diagnosis(
                "overfitting",
                "The training accuracy is fine but the held-out accuracy is not: the network "
                "learned the training images too specifically. Use fewer epochs or more "
                "weight decay.",
            )
        raise checks.CheckFailure(
            f"Your trained network classifies {test_acc:.1%} of the {y_te.size} held-out "
            f"digits right ({where}); at least {threshold:.0%} is required. Training "
            f"accuracy: {train_acc:.1%}.\n  {hint.message}",
            name="train",
            problem="low_accuracy",
            diagnoses=[hint],
        )
    print(
        f"{where}: held-out accuracy {test_acc:.1%} (required {threshold:.0%}), training "
        f"accuracy {train_acc:.1%}, {took:.1f} s."
    )
