"""Cases, references and checks for problem set 3 (matrix backprop).

Students: you may read this file and use its example cases to explore; your answers must not
call ``course.mlp``, ``course.layers``, ``course.losses``, ``course.activations`` (or another
package that computes the graded result for you): the tests check that.

Notation of the lectures: column vectors; layer ``l`` has ``W`` of shape ``(n_l, n_{l-1})`` and
``b`` of shape ``(n_l, 1)``; a batch has one example per column, ``A_prev`` of shape
``(n_{l-1}, m)``; ``Z = W @ A_prev + b``; the cost ``J`` is the mean over the batch, so
``dZ = dJ/dZ`` already contains the ``1/m``.

Every check compares an answer with a reference from the ``course`` package
(``course.layers``, ``course.mlp``, ``course.losses``, ``course.graph``) and with centred finite
differences in float64, through ``course.checks``, which names the likely bug. Diagnoses that
``course.checks`` does not know are passed to it as ``mistakes`` (known wrong answers with an
explanation), built here: weight decay on the biases, the ReLU value where its derivative
belongs, ``W`` where ``W.T`` belongs, the softmax taken along the wrong axis, and so on. The
numerical-stability check of part (b) (a warning raised as an error, explained in plain words) is
also here.

Part (d) and the functions of parts (a) and (b): :func:`check_two_layer` takes your
``affine_forward``, ``affine_backward`` and ``softmax_cross_entropy`` too. When your
``two_layer_loss_and_grads`` is wrong only because one of them is wrong (it agrees with the network
chained from *your* functions), part (d) keeps its points: the tests of (a) and (b) already charge
that mistake.

The course modules are imported only by the functions that compute references: while the
assignment is graded, the ones it forbids are not available in your kernel, and the example cases
(:func:`affine_case`, :func:`network_case`, ...) need none of them.
"""

from __future__ import annotations

import re
import warnings
import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from course import checks

# code that computes the graded results for you: not allowed inside a student's function
# (packages that are not installed are skipped, and none is imported to check)
FORBID = (
    "course.mlp",
    "course.layers",
    "course.losses",
    "course.activations",
    "course.graph",
    "course.gradcheck",
    *checks.ALWAYS_FORBIDDEN,
)
# What the notebook's own cells may use while the assignment is graded: the student's kernel
# gets these (and what they need) only; the checks and the reference answers run in the grader
# (see autograder/kernel_view.py)
KERNEL = (
    "affine_case",
    "logits_case",
    "large_logits_cases",
    "lecture_example",
    "norm_case",
    "network_case",
    "kink_case",
)

Array = np.ndarray


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


def _check_each(
    name: str,
    results: tuple[Any, ...],
    expected: tuple[Any, ...],
    labels: tuple[str, ...],
    mistakes: list[dict[str, Any]],
    **options: Any,
) -> None:
    """``checks.check_array`` on each result (what ``checks.check_tuple`` does after its
    structural checks, which call ``np.ndim`` on the whole tuple and so fail with a ValueError
    when the results are arrays of different shapes)."""
    __tracebackhide__ = True
    for label, got, want, extra in zip(labels, results, expected, mistakes):
        checks.check_array(f"{label} from {name}", got, want, mistakes=extra, **options)


def _number(x: object) -> object:
    """A size-1 array (for example a (1, 1) matrix product) read as the number it holds."""
    if isinstance(x, np.ndarray) and x.size == 1 and x.dtype.kind in "iuf":
        return x.reshape(())
    return x


def one_hot(y: Array, K: int) -> Array:
    """One-hot targets ``T (K, m)``, ``T[y[i], i] = 1``, for integer labels ``y (m,)``."""
    y = np.asarray(y)
    T = np.zeros((K, y.shape[0]))
    T[y, np.arange(y.shape[0])] = 1.0
    return T


def _logsumexp(Z: Array) -> Array:
    zmax = Z.max(axis=0, keepdims=True)
    return zmax + np.log(np.exp(Z - zmax).sum(axis=0, keepdims=True))


# -- part (a): the affine layer -------------------------------------------------------------------


def affine_case(seed: int, n_prev: int, n: int, m: int) -> dict[str, Array]:
    """A seeded layer: ``A_prev (n_prev, m)``, ``W (n, n_prev)``, ``b (n, 1)``, ``dZ (n, m)``.

    ``dZ`` is scaled like a real ``dJ/dZ`` of a mean cost (it contains the ``1/m``).
    """
    rng = np.random.default_rng(seed)
    return {
        "A_prev": rng.normal(size=(n_prev, m)),
        "W": rng.normal(size=(n, n_prev)),
        "b": rng.normal(size=(n, 1)),
        "dZ": rng.normal(size=(n, m)) / m,
    }


def affine_reference(A_prev: Array, W: Array, b: Array, dZ: Array) -> dict[str, Array]:
    """``Z``, ``dA_prev``, ``dW``, ``db`` of the affine layer, from ``course.layers``.

    These are the layer functions ``course.mlp`` is built from (``affine_forward`` and
    ``affine_backward``, the same contract as yours); :func:`check_affine_backward` also compares
    every answer with finite differences.
    """
    from course.layers import affine_backward, affine_forward

    Z, cache = affine_forward(A_prev, W, b)
    dA_prev, dW, db = affine_backward(dZ, cache)
    return {"Z": Z, "dA_prev": dA_prev, "dW": dW, "db": db}


def _affine_forward_mistakes(A_prev: Array, W: Array) -> dict[str, Array]:
    """Known wrong answers of ``Z`` from ``affine_forward``, keyed by what went wrong."""
    return {
        "you forgot to add the bias b (it is added to every column of the product).": W @ A_prev
    }


def _affine_backward_mistakes(W: Array, dZ: Array) -> list[dict[str, Array]]:
    """Known wrong answers of ``(dA_prev, dW, db)`` from ``affine_backward``, one dict each."""
    mistakes: list[dict[str, Array]] = [{}, {}, {}]
    if W.shape[0] == W.shape[1]:
        mistakes[0][
            "you multiplied by W where its transpose belongs: each input of the layer collects "
            "the gradients of the units it feeds, and their weights are a column of W, not a row."
        ] = W @ dZ
    m = dZ.shape[1]
    if m > 1:
        for j in range(m):
            mistakes[2][
                f"your db equals the column of example {j} alone: a bias is shared by all the "
                "examples, so its gradient collects the contributions of every column of dZ."
            ] = dZ[:, j : j + 1]
    return mistakes


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
    A_prev, W, b = (np.array(a, dtype=np.float64) for a in (A_prev, W, b))
    sizes = f"A_prev {_shape(A_prev)}, W {_shape(W)}, b {_shape(b)}"
    name = f"affine_forward ({_case(sizes, hidden)})"
    got = checks.call_student(func, A_prev.copy(), W.copy(), b.copy(), part=part, forbid=FORBID)
    Z, cache = _results(name, got, ("Z", "cache"))
    expected = affine_reference(A_prev, W, b, np.zeros((W.shape[0], A_prev.shape[1])))["Z"]
    checks.check_array(f"Z from {name}", Z, expected, mistakes=_affine_forward_mistakes(A_prev, W))
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


def check_affine_backward(
    func: Callable,
    A_prev: Array,
    W: Array,
    b: Array,
    dZ: Array,
    part: str = "part (a)",
    hidden: str | None = None,
) -> None:
    """Run a student's ``affine_backward(dZ, (A_prev, W, b))``; compare with both references."""
    __tracebackhide__ = True
    A_prev, W, b, dZ = (np.array(a, dtype=np.float64) for a in (A_prev, W, b, dZ))
    m = A_prev.shape[1]
    sizes = f"dZ {_shape(dZ)}, A_prev {_shape(A_prev)}, W {_shape(W)}"
    name = f"affine_backward ({_case(sizes, hidden)})"
    cache = (A_prev.copy(), W.copy(), b.copy())
    got = checks.call_student(func, dZ.copy(), cache, part=part, forbid=FORBID)
    labels = ("dA_prev", "dW", "db")
    results = _results(name, got, labels)
    ref = affine_reference(A_prev, W, b, dZ)
    expected = (ref["dA_prev"], ref["dW"], ref["db"])
    _check_each(name, results, expected, labels, _affine_backward_mistakes(W, dZ), m=m)

    # the same three gradients by centred finite differences of J = sum(dZ * Z(A_prev, W, b))
    def J(A: Array, W_: Array, b_: Array) -> float:
        return float(np.sum(dZ * (W_ @ A + b_)))

    for label, value, f in (
        ("dA_prev", results[0], lambda a: J(a, W, b)),
        ("dW", results[1], lambda w: J(A_prev, w, b)),
        ("db", results[2], lambda c: J(A_prev, W, c)),
    ):
        x = {"dA_prev": A_prev, "dW": W, "db": b}[label]
        checks.numeric_gradient_check(
            f, x, value, f"{label} from {name}", context="compared with finite differences", m=m
        )


# -- part (b): softmax cross-entropy -------------------------------------------------------------


def logits_case(seed: int, K: int, m: int, scale: float = 3.0) -> tuple[Array, Array]:
    """Seeded logits ``Z (K, m)`` uniform in ``[-scale, scale]`` and labels ``y (m,)``."""
    rng = np.random.default_rng(seed)
    Z = rng.uniform(-scale, scale, size=(K, m))
    y = rng.integers(0, K, size=m)
    return Z, y


def large_logits_cases() -> list[tuple[Array, Array]]:
    """Logits as large as ``|z| = 1e4``: naive ``exp`` overflows, naive ``log`` meets 0."""
    cases = [
        (np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0], [0.0, 0.0, 1e4]]), np.array([1, 0, 2])),
        (np.full((4, 2), 1e4), np.array([3, 0])),  # every logit the same, huge
        (np.full((3, 1), -1e4), np.array([1])),  # every logit the same, hugely negative
        (np.array([[800.0, 1000.0], [-1000.0, 710.0]]), np.array([1, 0])),
    ]
    rng = np.random.default_rng(401)
    for K, m in ((5, 6), (2, 1), (10, 3)):
        cases.append((rng.uniform(-1e4, 1e4, size=(K, m)), rng.integers(0, K, size=m)))
    return cases


def softmax_ce_reference(Z: Array, y: Array) -> tuple[float, Array]:
    """``(J, dZ)`` from ``course.losses``: mean cross-entropy and ``(softmax(Z) - T) / m``."""
    from course.losses import get_output_loss

    head = get_output_loss("softmax", "cross_entropy")
    T = one_hot(y, Z.shape[0])
    P = head.activate(Z)
    J = float(np.mean(head.per_sample(Z, P, T)))
    return J, head.delta(Z, P, T) / Z.shape[1]


NO_LOG_SUM_EXP = checks.Diagnosis(
    "no_log_sum_exp",
    "exp of a large number overflows (e^710 is already inf) and the log of a probability that "
    "rounded to 0 is -inf. Use the two facts of part (b): softmax does not change when the same "
    "number is subtracted from a whole column, and log softmax can be computed without taking "
    "the log of a probability (the log-sum-exp trick).",
)


def _run_numerically(func: Callable, *args: Any, part: str, name: str) -> Any:
    """``call_student`` with numpy's overflow, divide and invalid warnings raised as errors."""
    __tracebackhide__ = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            with np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"):
                return checks.call_student(func, *args, part=part, forbid=FORBID)
    except (RuntimeWarning, FloatingPointError) as exc:
        raise checks.CheckFailure(
            f"{name} is not numerically stable: numpy warned {str(exc)!r} (in this test a "
            f"warning counts as an error). Likely bug: {NO_LOG_SUM_EXP.message}",
            name=name,
            problem="unstable",
            diagnoses=[NO_LOG_SUM_EXP],
        ) from None


def _softmax_ce_mistakes(Z: Array, y: Array) -> list[dict[str, Any]]:
    """Known wrong answers of ``J`` and of ``dZ`` from ``softmax_cross_entropy``."""
    from course.activations import softmax

    K, m = Z.shape
    T = one_hot(y, K)
    with np.errstate(all="ignore"):
        P_rows = softmax(Z, axis=1)
        lse_rows = np.log(np.exp(Z - Z.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True))
        J_rows = float(np.mean(np.sum(T * (lse_rows + Z.max(axis=1, keepdims=True) - Z), axis=0)))
    rows = (
        "you took the softmax along the wrong axis: over the examples of the batch instead of "
        "over the K classes of each example (each column is one example)."
    )
    mistakes_J = {rows: J_rows} if np.isfinite(J_rows) else {}
    mistakes_dZ = {
        "you forgot to subtract the one-hot targets: your dZ holds the probabilities alone "
        "(divided by m).": softmax(Z) / m,
        "you subtracted the label itself instead of its one-hot column: T has a 1 in row y[i] "
        "of column i and 0 elsewhere.": (softmax(Z) - y[None, :]) / m,
    }
    if np.all(np.isfinite(P_rows)):
        mistakes_dZ[rows] = (P_rows - T) / m
    return [mistakes_J, mistakes_dZ]


def check_softmax_ce(
    func: Callable,
    Z: Array,
    y: Array,
    part: str = "part (b)",
    numeric: bool = True,
    hidden: str | None = None,
) -> None:
    """Run a student's ``softmax_cross_entropy(Z, y)`` and check ``J`` and ``dZ``.

    Warnings (overflow, division by zero, invalid value) count as errors; ``numeric`` adds the
    finite-difference check of ``dZ`` (skipped for huge logits, where it would lose digits).
    """
    __tracebackhide__ = True
    Z = np.array(Z, dtype=np.float64)
    y = np.array(y, dtype=np.int64)
    m = Z.shape[1]
    biggest = float(np.max(np.abs(Z)))
    size = f"Z {_shape(Z)}" + (f", largest |z| = {biggest:.3g}" if hidden is None else "")
    name = f"softmax_cross_entropy ({_case(size, hidden)})"
    got = _run_numerically(func, Z.copy(), y.copy(), part=part, name=name)
    J, dZ = _results(name, got, ("J", "dZ"))
    J = _number(J)
    J_ref, dZ_ref = softmax_ce_reference(Z, y)
    mistakes = _softmax_ce_mistakes(Z, y)
    _check_each(name, (J, dZ), (J_ref, dZ_ref), ("J", "dZ"), mistakes, m=m)
    if numeric:
        checks.numeric_gradient_check(
            lambda z: softmax_ce_reference(z, y)[0],
            Z,
            dZ,
            f"dZ from {name}",
            context="compared with finite differences of the mean cross-entropy",
            m=m,
        )


# -- part (c): the gradient of ||W x||^2 ----------------------------------------------------------


def lecture_example() -> tuple[Array, Array]:
    """The lectures' ``x = (0.1, 0.2)`` (a column) and ``W = [[0.3, 0.4], [0.5, 0.6]]``."""
    return np.array([[0.1], [0.2]]), np.array([[0.3, 0.4], [0.5, 0.6]])


def norm_case(seed: int, k: int, n: int) -> tuple[Array, Array]:
    """A seeded column ``x (n, 1)`` and matrix ``W (k, n)``."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 1)), rng.normal(size=(k, n))


def sq_norm_reference(x: Array, W: Array) -> tuple[float, Array, Array]:
    """``(f, df/dW, df/dx)`` of ``f = ||W x||^2``, by the scalar graph of ``course.graph``."""
    from course.graph import Value

    k, n = W.shape
    Wv = [[Value(float(W[i, j])) for j in range(n)] for i in range(k)]
    xv = [Value(float(x[j, 0])) for j in range(n)]
    mv = [sum((Wv[i][j] * xv[j] for j in range(n)), 0.0) for i in range(k)]
    f = sum((mi * mi for mi in mv), 0.0)
    f.backward()
    dW = np.array([[Wv[i][j].grad for j in range(n)] for i in range(k)])
    dx = np.array([[xv[j].grad] for j in range(n)])
    return f.data, dW, dx


def check_sq_norm(
    func: Callable, x: Array, W: Array, part: str = "part (c)", hidden: str | None = None
) -> None:
    """Run a student's ``sq_norm_grads(x, W)`` and check ``(f, dW, dx)`` against both references."""
    __tracebackhide__ = True
    x = np.array(x, dtype=np.float64)
    W = np.array(W, dtype=np.float64)
    name = f"sq_norm_grads ({_case(f'x {_shape(x)}, W {_shape(W)}', hidden)})"
    got = checks.call_student(func, x.copy(), W.copy(), part=part, forbid=FORBID)
    labels = ("f", "dW", "dx")
    f, dW, dx = _results(name, got, labels)
    f = _number(f)
    expected = sq_norm_reference(x, W)
    m = W @ x
    mistakes: list[dict[str, Any]] = [
        {
            "f is the squared norm ||W x||^2; you returned the norm itself (without the "
            "square).": float(np.linalg.norm(m))
        },
        {},
        {},
    ]
    if W.shape[0] == W.shape[1]:
        mistakes[2][
            "you multiplied by W where its transpose belongs: x_j reaches every m_k through "
            "W[k, j], so its gradient collects along a column of W, not a row."
        ] = 2 * W @ m
    _check_each(name, (f, dW, dx), expected, labels, mistakes)
    checks.numeric_gradient_check(
        lambda w: float(np.sum((w @ x) ** 2)), W, dW, f"dW from {name}", context="df/dW"
    )
    checks.numeric_gradient_check(
        lambda v: float(np.sum((W @ v) ** 2)), x, dx, f"dx from {name}", context="df/dx"
    )


# -- part (d): a two-layer network ----------------------------------------------------------------

KEYS = ("W2", "b2", "W1", "b1")  # from the output back to the input: the first wrong one is first


def network_case(
    seed: int, n0: int, n1: int, K: int, m: int, *, margin: float = 1e-3
) -> tuple[Array, Array, dict[str, Array]]:
    """Seeded ``X (n0, m)``, labels ``y (m,)`` and parameters; no ``Z1`` within ``margin`` of 0.

    Away from the ReLU's kink, centred finite differences are exact enough to check every
    gradient. The biases are not zero (so weight decay on them would show).
    """
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        X = rng.normal(size=(n0, m))
        params = {
            "W1": rng.normal(scale=1.0 / np.sqrt(n0), size=(n1, n0)),
            "b1": rng.normal(scale=0.5, size=(n1, 1)),
            "W2": rng.normal(scale=1.0 / np.sqrt(n1), size=(K, n1)),
            "b2": rng.normal(scale=0.5, size=(K, 1)),
        }
        Z1 = params["W1"] @ X + params["b1"]
        if np.min(np.abs(Z1)) > margin and np.any(Z1 < 0) and np.any(Z1 > 0):
            break
    y = rng.integers(0, K, size=m)
    return X, y, {k: params[k] for k in ("W1", "b1", "W2", "b2")}


def kink_case(seed: int, n0: int, n1: int, K: int, m: int) -> tuple[Array, Array, dict]:
    """A case where some hidden pre-activations are exactly 0 (integers), on the ReLU's kink."""
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        X = rng.integers(-2, 3, size=(n0, m)).astype(np.float64)
        W1 = rng.integers(-1, 2, size=(n1, n0)).astype(np.float64)
        b1 = rng.integers(-1, 2, size=(n1, 1)).astype(np.float64)
        Z1 = W1 @ X + b1
        if np.sum(Z1 == 0) >= 2 and np.any(Z1 > 0):
            break
    params = {
        "W1": W1,
        "b1": b1,
        "W2": rng.normal(size=(K, n1)),
        "b2": rng.normal(scale=0.5, size=(K, 1)),
    }
    return X, rng.integers(0, K, size=m), params


def network_reference(
    X: Array, y: Array, params: Mapping[str, Array], l2: float
) -> tuple[float, dict[str, Array]]:
    """``(J, grads)`` from ``course.mlp.MLP([n0, n1, K], hidden="relu", output="softmax", ...)``."""
    from course.mlp import MLP

    n1, n0 = params["W1"].shape
    K = params["W2"].shape[0]
    net = MLP([n0, n1, K], hidden="relu", output="softmax", loss="cross_entropy", l2=l2)
    net.params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    J = net.loss(X, y)
    grads = net.gradients(X, y)
    return J, {k: grads[k] for k in KEYS}


def network_cost(X: Array, y: Array, params: Mapping[str, Array], l2: float) -> float:
    """The cost in plain numpy, for finite differences: mean cross-entropy plus weight decay."""
    Z1 = params["W1"] @ X + params["b1"]
    Z2 = params["W2"] @ np.maximum(Z1, 0) + params["b2"]
    T = one_hot(y, Z2.shape[0])
    data = float(np.mean(_logsumexp(Z2)[0] - np.sum(T * Z2, axis=0)))
    return data + l2 * float(np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))


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
    W1, b1, W2, b2 = (params[k] for k in ("W1", "b1", "W2", "b2"))
    m = X.shape[1]
    Z1 = W1 @ X + b1
    A1 = np.maximum(Z1, 0)
    Z2 = W2 @ A1 + b2
    P = np.exp(Z2 - _logsumexp(Z2))
    dZ2 = (P - one_hot(y, Z2.shape[0])) / (m if mean else 1)
    dA1 = W2.T @ dZ2
    factor = {"step": Z1 > 0, "step_ge": Z1 >= 0, "value": A1, "none": 1.0}[mask]
    dZ1 = dA1 * factor
    grads = {
        "W2": dZ2 @ A1.T + decay * l2 * W2,
        "b2": dZ2.sum(axis=1, keepdims=True),
        "W1": dZ1 @ X.T + decay * l2 * W1,
        "b1": dZ1.sum(axis=1, keepdims=True),
    }
    if decay_bias:
        grads["b1"] = grads["b1"] + decay * l2 * b1
        grads["b2"] = grads["b2"] + decay * l2 * b2
    return grads


def _network_mistakes(
    X: Array, y: Array, params: Mapping[str, Array], l2: float
) -> tuple[dict[str, float], dict[str, dict[str, Array]]]:
    """Known wrong answers for ``J`` and for each gradient, keyed by what went wrong."""
    m = X.shape[1]
    Z1 = params["W1"] @ X + params["b1"]
    penalty = l2 * float(np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))
    data = network_cost(X, y, params, 0.0)
    bias_penalty = l2 * float(np.sum(params["b1"] ** 2) + np.sum(params["b2"] ** 2))
    mistakes_J: dict[str, float] = {}
    per_name: dict[str, dict[str, Array]] = {k: {} for k in KEYS}

    def add(text: str, grads: Mapping[str, Array], names: tuple[str, ...] = KEYS) -> None:
        for k in names:
            per_name[k][text] = grads[k]

    if l2 > 0:
        mistakes_J[
            "your J leaves out the weight decay: the cost of part (d) has two terms, the mean "
            "cross-entropy and the penalty."
        ] = data
        mistakes_J[
            "L2 weight decay applied to the biases: the penalty is on the weights only, never on "
            "b1 or b2."
        ] = data + penalty + bias_penalty
        mistakes_J[
            f"you summed the cross-entropy over the batch instead of taking the mean (the batch "
            f"has m = {m} examples); the penalty is added once, not per example."
        ] = m * data + penalty
        add(
            f"you did not divide by m = {m}: the cost is the mean over the batch, so the "
            "gradient of its cross-entropy part carries a 1/m (the weight-decay part does not).",
            network_variant(X, y, params, l2, mean=False),
        )
        add(
            "L2 weight decay applied to the biases: the penalty is on the weights only, so the "
            "biases' gradients have no weight-decay term.",
            network_variant(X, y, params, l2, decay_bias=True),
            ("b2", "b1"),
        )
        add(
            "the weight-decay part of your dW is off by 2: differentiate l2 ||W||^2, a sum of "
            "squares, entry by entry.",
            network_variant(X, y, params, l2, decay=1.0),
            ("W2", "W1"),
        )
        add(
            "your gradient leaves out the weight decay: the penalty depends on W1 and W2, so it "
            "adds a term to each of their gradients.",
            network_variant(X, y, params, l2, decay=0.0),
            ("W2", "W1"),
        )
        add(
            "the weight-decay part of your dW has the wrong sign: the penalty is added to the "
            "cost, and it grows with every |W[i, j]|.",
            network_variant(X, y, params, l2, decay=-2.0),
            ("W2", "W1"),
        )
    add(
        "you used the ReLU itself, relu(Z1), where its derivative belongs: backprop through the "
        "ReLU multiplies by its slope relu'(Z1), not by its value.",
        network_variant(X, y, params, l2, mask="value"),
        ("W1", "b1"),
    )
    add(
        "you left out the ReLU's derivative: the gradient that reaches Z1 passes through the "
        "ReLU's slope, which is 0 for the units that are off.",
        network_variant(X, y, params, l2, mask="none"),
        ("W1", "b1"),
    )
    if np.any(Z1 == 0):
        add(
            "at the kink Z1 = 0 exactly, you used relu'(0) = 1; this course's convention is "
            "relu'(0) = 0 (as PyTorch's). Look at how your mask treats the entries where Z1 is "
            "exactly 0.",
            network_variant(X, y, params, l2, mask="step_ge"),
            ("W1", "b1"),
        )
    return mistakes_J, per_name


class _Chained:
    """What a student's functions of parts (a) and (b) give, chained as part (d) chains them:
    ``result`` ``(J, grads)``, or the error the chain ran into (``raised``: in the chain's own
    arithmetic or in a student's function), or neither: the functions cannot be chained (not
    written, not the student's own work), or one of them gave, inside the chain, something other
    than its right answer or one of its usual slips (see :func:`course.checks.recognised`),
    which nothing charges."""

    def __init__(
        self, result: tuple[float, dict[str, Array]] | None, raised: Exception | None
    ) -> None:
        self.result, self.raised = result, raised


class _NotASlip(Exception):
    """A student's function gave, inside the chain, what no test of its own would charge."""


class _Raised(Exception):
    """A student's function raised inside the chain (``error``): the chain fails with it."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _compose(
    pieces: Sequence[Callable],
    X: Array,
    y: Array,
    params: Mapping[str, Array],
    l2: float,
    part: str,
) -> _Chained:
    """The network chained from a student's ``(affine_forward, affine_backward,
    softmax_cross_entropy)`` of parts (a) and (b), as the instructions of part (d) chain them
    (the ReLU, its slope and the weight decay are done here, in plain numpy).

    Every result of the student's functions is compared, here, with the reference function on
    the same inputs (the chain's own, made of the student's earlier results): it must be the
    right answer or a usual slip of that function, or the chain gives nothing.
    """
    affine_forward, affine_backward, softmax_cross_entropy = pieces
    m = X.shape[1]

    def call(func: Callable, *args: Any) -> Any:
        try:
            return checks.call_student(func, *args, part=part, forbid=FORBID)
        except checks.CheckFailure as exc:  # not written, or not the student's own work
            raise _NotASlip from exc
        except Exception as exc:  # the student's function fails here: the chain fails alike
            if type(exc).__name__ == "KernelGone":
                raise
            raise _Raised(exc) from exc

    def slip(results: Any, references: Callable[[], Sequence[Any]], mistakes: Sequence) -> None:
        """Each of ``results`` is its reference or a usual slip of it."""
        try:
            wants = references()
        except Exception as exc:  # the student's earlier results do not fit the reference
            raise _NotASlip from exc
        if not isinstance(results, (tuple, list)) or len(results) != len(wants):
            raise _NotASlip
        for got, want, known in zip(results, wants, mistakes):
            if not checks.recognised(_number(got), want, m=m, mistakes=known):
                raise _NotASlip

    def forward(A: Array, W: Array, b: Array) -> tuple[Array, Any]:
        got = call(affine_forward, A, W, b)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise _NotASlip
        slip(got[:1], lambda: [W @ A + b], [_affine_forward_mistakes(A, W)])
        return np.asarray(got[0], dtype=np.float64), got[1]

    def backward(dZ: Array, cache: Any, A: Array, W: Array, b: Array) -> list[Array]:
        got = call(affine_backward, dZ, cache)

        def reference() -> list[Array]:
            ref = affine_reference(A, W, b, dZ)
            return [ref["dA_prev"], ref["dW"], ref["db"]]

        slip(got, reference, _affine_backward_mistakes(W, dZ))
        return [np.asarray(g, dtype=np.float64) for g in got]

    try:
        W1, b1, W2, b2 = (params[k] for k in ("W1", "b1", "W2", "b2"))
        Z1, cache1 = forward(X, W1, b1)
        A1 = np.maximum(Z1, 0)
        Z2, cache2 = forward(A1, W2, b2)
        got = call(softmax_cross_entropy, Z2, y)
        slip(got, lambda: softmax_ce_reference(Z2, y), _softmax_ce_mistakes(Z2, y))
        J, dZ2 = float(_number(got[0])), np.asarray(got[1], dtype=np.float64)
    except (_NotASlip, checks.CheckFailure):
        return _Chained(None, None)
    except _Raised as raised:
        return _Chained(None, raised.error)
    try:  # from here on only the student's backward results may fail the chain
        J = J + l2 * float(np.sum(W1**2) + np.sum(W2**2))
        dA1, dW2, db2 = backward(dZ2, cache2, A1, W2, b2)
        dZ1 = dA1 * (Z1 > 0)
        _, dW1, db1 = backward(dZ1, cache1, X, W1, b1)
        grads = {"W1": dW1 + 2 * l2 * W1, "b1": db1, "W2": dW2 + 2 * l2 * W2, "b2": db2}
        return _Chained((J, grads), None)
    except (_NotASlip, checks.CheckFailure):
        return _Chained(None, None)
    except _Raised as raised:
        return _Chained(None, raised.error)
    except Exception as exc:  # noqa: BLE001 (the chain's arithmetic fails on a slip's shape)
        if type(exc).__name__ == "KernelGone":
            raise
        return _Chained(None, exc)


_SHAPE = re.compile(r"\(\s*\d*(?:\s*,\s*\d*)*\s*\)")


def _same_error(a: BaseException, b: BaseException) -> bool:
    """Whether two errors are the same error: the same type and message, up to the order of the
    shapes it names (``dW + 2 * l2 * W`` and ``2 * l2 * W + dW`` fail alike)."""

    def words(exc: BaseException) -> tuple[str, str, list[str]]:
        text = str(exc)
        shapes = sorted(re.sub(r"\s", "", t) for t in _SHAPE.findall(text))
        return type(exc).__name__, _SHAPE.sub("()", text).strip(), shapes

    return words(a) == words(b)


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


def _square_twin_agrees(
    func: Callable,
    X: Array,
    y: Array,
    params: Mapping[str, Array],
    l2: float,
    pieces: Sequence[Callable],
    part: str,
    only: str | None,
) -> bool:
    """Whether the student's network equals the chain of their own functions on a twin of the
    case where every matrix is square (inputs, units, classes and batch all of one size n), so
    that a slip which breaks the chain's shapes (a transposed ``dW`` or ``dA_prev``) gives
    numbers.

    An error alone proves little: ``raise ValueError(...)`` with the words the chain runs into
    costs nothing to write. On the twin the same slip gives wrong numbers, and only a network
    that really chains the student's functions gives the same ones: the whole result is
    compared (the cost and every gradient), whichever of them the failed check was about. The
    student's function answers first, on a twin of its own for each check (drawn from the
    case, the decay and the check), before the grader's chain sends the twin's hidden layer
    and gradients into the kernel.
    """
    n = max(X.shape[0], params["W1"].shape[0], params["W2"].shape[0], X.shape[1], 2)
    seed = zlib.crc32(np.ascontiguousarray(X).tobytes() + f"{l2!r}{only}".encode()) % 2**31
    X2, y2, params2 = network_case(seed, n0=n, n1=n, K=n, m=n)
    copies = {k: v.copy() for k, v in params2.items()}
    try:
        got = checks.call_student(func, X2.copy(), y2.copy(), copies, l2, part=part, forbid=FORBID)
        J, grads = _results("two_layer_loss_and_grads", got, ("J", "grads"))
    except Exception as exc:  # noqa: BLE001 (no numbers: no credit)
        if type(exc).__name__ == "KernelGone":
            raise
        return False
    composed = _compose(pieces, X2, y2, params2, l2, part).result
    if composed is None:
        return False
    J_ref, grads_ref = network_reference(X2, y2, params2, l2)
    if _agrees(*composed, J_ref, grads_ref, None):
        return False
    return _agrees(_number(J), grads, *composed, None)


def answers_of(
    func: Callable,
    X: Array,
    y: Array,
    params: Mapping[str, Array],
    l2s: Sequence[float],
    part: str = "part (d)",
) -> checks.Answers:
    """The student's ``two_layer_loss_and_grads`` on one case, for each weight decay of
    ``l2s``, asked for at once, before any check of the case: give it to
    :func:`check_two_layer` in place of the function when a case is checked more than once (a
    check that chains the student's functions of parts (a) and (b) sends the case's hidden
    layer and gradients into the kernel, where a later call could replay them)."""
    X = np.array(X, dtype=np.float64)
    y = np.array(y, dtype=np.int64)
    params = {k: np.array(params[k], dtype=np.float64) for k in ("W1", "b1", "W2", "b2")}

    def call(l2: float) -> Any:
        copies = {k: v.copy() for k, v in params.items()}
        return checks.call_student(func, X.copy(), y.copy(), copies, l2, part=part, forbid=FORBID)

    answers = checks.Answers(func, call, [float(l2) for l2 in l2s])
    answers.case = _digest(X, y, params)  # type: ignore[attr-defined]
    return answers


def _digest(X: Array, y: Array, params: Mapping[str, Array]) -> int:
    """A fingerprint of a case, to tell that answers belong to it."""
    parts = [np.ascontiguousarray(a).tobytes() for a in (X, y, *(params[k] for k in KEYS))]
    return zlib.crc32(b"|".join(parts))


def check_two_layer(
    func: Callable | checks.Answers,
    X: Array,
    y: Array,
    params: Mapping[str, Array],
    l2: float,
    part: str = "part (d)",
    hidden: str | None = None,
    pieces: Sequence[Callable] | None = None,
    only: str | None = None,
) -> None:
    """Run a student's ``two_layer_loss_and_grads`` and compare with ``course.mlp`` and finite
    differences (only for the parameters whose finite differences do not cross a ReLU kink).

    ``only``: ``"J"`` checks the cost alone, ``"grads"`` the gradients alone (each its own
    points in a test), None both.

    ``func``: the student's function, or its answers on this case (:func:`answers_of`), which
    a test collects first when it checks the case more than once.

    ``pieces``: the student's ``(affine_forward, affine_backward, softmax_cross_entropy)``.
    When the answer is wrong but equals the network chained from those functions, and they are
    wrong on this case, the check passes and says so: the mistake is part (a)'s or (b)'s, and
    their tests charge it. So does an answer that fails with the very error the chain of those
    functions runs into (a transposed ``dW`` that cannot take its weight decay), when on a
    square twin of the case it gives the chain's numbers.
    """
    __tracebackhide__ = True
    X = np.array(X, dtype=np.float64)
    y = np.array(y, dtype=np.int64)
    params = {k: np.array(params[k], dtype=np.float64) for k in ("W1", "b1", "W2", "b2")}
    m = X.shape[1]
    n1, n0 = params["W1"].shape
    K = params["W2"].shape[0]
    if hidden is None:
        where = f"network {n0}-{n1}-{K}, batch m = {m}, l2 = {l2:g}"
    else:
        decay = "with" if l2 else "without"
        where = _case(f"network {n0}-{n1}-{K}, batch m = {m}, {decay} weight decay", hidden)
    name = f"two_layer_loss_and_grads ({where})"
    yours = (
        "your own functions of parts (a) and (b), which are wrong on this case; their tests "
        "charge that mistake, so this check passes. Fix them and this result will be right too."
    )
    if isinstance(func, checks.Answers):
        answers = func
        if getattr(answers, "case", None) != _digest(X, y, params):
            raise ValueError("check_two_layer: these answers were collected on another case")
    else:
        answers = answers_of(func, X, y, params, [l2], part)
    try:
        got = answers.result(float(l2))
    except checks.CheckFailure:
        raise
    except Exception as exc:
        if type(exc).__name__ == "KernelGone" or pieces is None:
            raise
        chained = _compose(pieces, X, y, params, l2, part)
        if (
            chained.raised is not None
            and _same_error(exc, chained.raised)
            and _square_twin_agrees(answers.func, X, y, params, l2, pieces, part, only)
        ):
            print(
                f"{name}: your function fails ({type(exc).__name__}: {str(exc)[:200]}) exactly as "
                f"the network chained from {yours}"
            )
            return
        raise
    J, grads = _results(name, got, ("J", "grads"))
    J = _number(J)
    J_ref, grads_ref = network_reference(X, y, params, l2)
    try:
        mistakes_J, mistakes = _network_mistakes(X, y, params, l2)
        if only != "grads":
            checks.check_array(f"J from {name}", J, J_ref, m=m, mistakes=mistakes_J)
        if only == "J":
            return
        checks.check_gradients(grads, grads_ref, context=where, m=m, mistakes=mistakes)

        # finite differences of the cost, except across a kink of the ReLU
        Z1 = params["W1"] @ X + params["b1"]
        smooth = KEYS if np.min(np.abs(Z1)) > 1e-3 else ("W2", "b2")
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
        if pieces is not None:
            composed = _compose(pieces, X, y, params, l2, part).result
            if (
                composed is not None
                and not _agrees(*composed, J_ref, grads_ref, only)
                and _agrees(J, grads, *composed, only)
            ):
                print(f"{name}: your result is the network chained from {yours}")
                return
        raise
