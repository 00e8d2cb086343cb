"""Cases, references and checks for problem set 7 (debugging backprop).

Students: you may read this file and use its example cases (:func:`layer_case`,
:func:`loss_case`, :func:`tiny_batch`, :func:`sweep_case`) and the loss curves of part (c)
(:func:`loss_curves`, :func:`plot_loss_curves`) in your own cells. Your answers must not call
the course package's layers, network, losses, activations, gradient checker, optimizers
or training loop (``course.layers``, ``course.mlp``, ``course.losses``, ``course.activations``,
``course.gradcheck``, ``course.optim``, ``course.train``, ``course.graph``) or a library that
computes gradients for you: the tests check that. Part (b) trains the network of the locked cell
``loss_and_grads``, which is :func:`network_loss_and_grads` of this module, not your answers of
part (a).

Notation of the lectures: column vectors; a layer has ``W`` of shape ``(n, n_prev)`` and ``b`` of
shape ``(n, 1)``; a batch has one example per column, ``(n_prev, m)``; ``Z = W @ A_prev + b``;
every cost is a mean over the batch, and ``dV`` is ``dJ/dV``, of the shape of ``V``.

Part (a): every repaired function is compared with a reference written here in plain numpy and
with centred finite differences in float64 (``course.checks``, which names the likely bug). The
mistakes of the broken functions are passed to the checks as ``mistakes``, so a function left as
it was, or repaired only halfway, is told which class of bug is still there.

Part (b): the sanity checks of a training run are graded on what they return: the initial loss
of :func:`init_params`' network (computed here), the loss your ``overfit_tiny_batch`` reaches
(computed here from the parameters it returns), and the final losses of ``lr_sweep``, compared
with plain gradient descent run here from the same start. The hidden tests use other data, sizes
and seeds, so no answer can be prepared in advance. The network of part (b) does not use your
answers of part (a): a slip there costs the points of part (a) only.

Points within a test cell: :class:`Points` (``course.checks.Points``) gives each group of checks
its own points, so one slip costs the points of its group, not of the whole cell.

The course modules are imported only by the functions that check: while the assignment is
graded, the ones it forbids are not available in your kernel, and the example cases and part
(b)'s network need none of them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from course import checks
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
# What the notebook's own cells may use while the assignment is graded: the student's kernel
# gets these (and what they need) only; the checks and the reference answers run in the grader
# (see autograder/kernel_view.py)
KERNEL = (
    "network_loss_and_grads",
    "layer_case",
    "loss_case",
    "tiny_batch",
    "residual_case",
    "sweep_case",
    "loss_curves",
    "plot_loss_curves",
)

Array = np.ndarray
OVERFIT_LOSS = 0.05  # part (b): the loss a network must reach on a tiny batch
INIT_GAP = 0.1  # part (b): how far from ln K the initial loss may be
OVERFIT_SECONDS = 20.0  # part (b): one run of overfit_tiny_batch
SWEEP_SECONDS = 20.0  # part (b): one learning-rate sweep


# -- small helpers --------------------------------------------------------------------------------


def _shape(a: object) -> str:
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


def _call(
    func: Callable, *args: Any, part: str, forbid: Sequence[str] = FORBID, **kwargs: Any
) -> Any:
    __tracebackhide__ = True
    return checks.call_student(func, *args, part=part, forbid=forbid, **kwargs)


def _logsumexp(Z: Array) -> Array:
    zmax = Z.max(axis=0, keepdims=True)
    return zmax + np.log(np.exp(Z - zmax).sum(axis=0, keepdims=True))


def _one_hot(y: Array, K: int) -> Array:
    T = np.zeros((K, y.shape[0]))
    T[y, np.arange(y.shape[0])] = 1.0
    return T


def _ce(Z: Array, y: Array) -> float:
    """The mean cross-entropy of logits ``Z (K, m)`` for labels ``y (m,)``, in plain numpy."""
    return float(np.mean(_logsumexp(Z)[0] - Z[y, np.arange(y.shape[0])]))


# =================================================================================================
# part (a): the broken functions, repaired
# =================================================================================================


def layer_case(seed: int, n_prev: int, n: int, m: int) -> dict[str, Array]:
    """A seeded layer: ``A_prev (n_prev, m)``, ``W (n, n_prev)``, ``b (n, 1)``, ``dZ (n, m)``
    (scaled like the gradient of a mean cost), and, for the layers of the same width as their
    input, ``g (n, 1)`` and ``c (n, 1)`` of the scale-and-shift layer."""
    rng = np.random.default_rng(seed)
    return {
        "A_prev": rng.normal(size=(n_prev, m)),
        "W": rng.normal(size=(n, n_prev)),
        "b": rng.normal(size=(n, 1)),
        "dZ": rng.normal(size=(n, m)) / m,
        "g": rng.uniform(0.5, 2.0, size=(n, 1)),
        "c": rng.normal(size=(n, 1)),
    }


def loss_case(seed: int, K: int, m: int) -> dict[str, Array]:
    """Seeded logits ``Z (K, m)`` with labels ``y (m,)``, and predictions ``Yhat (K, m)`` with
    targets ``Y (K, m)`` of the squared error."""
    rng = np.random.default_rng(seed)
    return {
        "Z": rng.normal(scale=2.0, size=(K, m)),
        "y": rng.integers(0, K, size=m),
        "Yhat": rng.normal(size=(K, m)),
        "Y": rng.normal(size=(K, m)),
    }


def _fd(f: Callable[[Array], float], x: Array, value: object, name: str, **options: Any) -> None:
    __tracebackhide__ = True
    checks.numeric_gradient_check(
        f, x, value, name, context="compared with finite differences", **options
    )


def check_softmax_ce(
    func: Callable, Z: Array, y: Array, part: str = "part (a)", hidden: str | None = None
) -> None:
    """Run a student's ``fixed_softmax_ce(Z, y)``: the mean cross-entropy ``J`` and ``dZ``."""
    __tracebackhide__ = True
    Z = np.array(Z, dtype=np.float64)
    y = np.array(y, dtype=np.int64)
    K, m = Z.shape
    name = f"fixed_softmax_ce ({_case(f'Z {_shape(Z)}', hidden)})"
    J, dZ = _results(name, _call(func, Z.copy(), y.copy(), part=part), ("J", "dZ"))
    P = np.exp(Z - _logsumexp(Z))
    want = (P - _one_hot(y, K)) / m
    checks.check_array(f"J from {name}", _number(J), _ce(Z, y), m=m)
    mistakes = {}
    if m > 1:
        mistakes[
            f"the 1/m of the mean is lost: your dZ is the gradient of the sum over the m = {m} "
            "examples, not of their mean. The cost divides by m, so its gradient does too."
        ] = want * m
    checks.check_array(f"dZ from {name}", dZ, want, m=m, mistakes=mistakes)
    _fd(lambda z: _ce(z, y), Z, dZ, f"dZ from {name}", m=m)


def check_mse(
    func: Callable, Yhat: Array, Y: Array, part: str = "part (a)", hidden: str | None = None
) -> None:
    """Run a student's ``fixed_mse(Yhat, Y)``: ``J = sum((Yhat - Y)^2) / (2m)`` and ``dYhat``."""
    __tracebackhide__ = True
    Yhat, Y = np.array(Yhat, dtype=np.float64), np.array(Y, dtype=np.float64)
    m = Yhat.shape[1]
    name = f"fixed_mse ({_case(f'Yhat {_shape(Yhat)}', hidden)})"
    J, dYhat = _results(name, _call(func, Yhat.copy(), Y.copy(), part=part), ("J", "dYhat"))

    def cost(yhat: Array) -> float:
        return float(np.sum((yhat - Y) ** 2) / (2 * m))

    want = (Yhat - Y) / m
    checks.check_array(f"J from {name}", _number(J), cost(Yhat), m=m)
    mistakes = {
        "your dYhat points the wrong way: it is the gradient of the cost with the sign flipped, "
        "so gradient descent would climb the cost. Check which of the two arrays the "
        "difference starts from.": -want
    }
    checks.check_array(f"dYhat from {name}", dYhat, want, m=m, mistakes=mistakes)
    _fd(cost, Yhat, dYhat, f"dYhat from {name}", m=m)


def check_affine_backward(
    func: Callable,
    A_prev: Array,
    W: Array,
    b: Array,
    dZ: Array,
    part: str = "part (a)",
    hidden: str | None = None,
) -> None:
    """Run a student's ``fixed_affine_backward(dZ, (A_prev, W, b))``: ``(dA_prev, dW, db)``."""
    __tracebackhide__ = True
    A_prev, W, b, dZ = (np.array(a, dtype=np.float64) for a in (A_prev, W, b, dZ))
    m = A_prev.shape[1]
    sizes = f"dZ {_shape(dZ)}, A_prev {_shape(A_prev)}, W {_shape(W)}"
    name = f"fixed_affine_backward ({_case(sizes, hidden)})"
    got = _call(func, dZ.copy(), (A_prev.copy(), W.copy(), b.copy()), part=part)
    labels = ("dA_prev", "dW", "db")
    results = _results(name, got, labels)
    want = (W.T @ dZ, dZ @ A_prev.T, dZ.sum(axis=1, keepdims=True))
    mistakes: list[dict[str, Array]] = [{}, {}, {}]
    mistakes[1][
        "your dW is the transpose of the right one: each entry W[i, j] connects input j to unit "
        "i, so its gradient pairs row i of dZ with row j of A_prev. The shapes tell: dW has the "
        "shape of W."
    ] = want[1].T
    for label, value, right, extra in zip(labels, results, want, mistakes):
        checks.check_array(f"{label} from {name}", value, right, m=m, mistakes=extra)

    def J(A: Array, W_: Array, b_: Array) -> float:
        return float(np.sum(dZ * (W_ @ A + b_)))

    for label, value, x, f in (
        ("dA_prev", results[0], A_prev, lambda a: J(a, W, b)),
        ("dW", results[1], W, lambda w: J(A_prev, w, b)),
        ("db", results[2], b, lambda c: J(A_prev, W, c)),
    ):
        _fd(f, x, value, f"{label} from {name}", m=m)


def check_tanh_backward(
    func: Callable, Z: Array, dA: Array, part: str = "part (a)", hidden: str | None = None
) -> None:
    """Run a student's ``fixed_tanh_backward(dA, A)`` (the cache is ``A = tanh(Z)``)."""
    __tracebackhide__ = True
    Z, dA = np.array(Z, dtype=np.float64), np.array(dA, dtype=np.float64)
    A = np.tanh(Z)
    name = f"fixed_tanh_backward ({_case(f'dA {_shape(dA)}', hidden)})"
    got = _call(func, dA.copy(), A.copy(), part=part)
    mistakes = {
        "you multiplied by tanh itself, the layer's output A, where its derivative belongs: "
        "backprop through an activation multiplies the upstream gradient by the slope of the "
        "activation at Z, which can be written with A alone.": dA * A,
        "you returned the slope alone: multiply it by the upstream gradient dA (the chain rule).": 1
        - A * A,
    }
    checks.check_array(f"dZ from {name}", got, dA * (1 - A * A), mistakes=mistakes)
    _fd(lambda z: float(np.sum(dA * np.tanh(z))), Z, got, f"dZ from {name}")


def _residual(A: Array, W: Array, b: Array) -> Array:
    return A + np.maximum(W @ A + b, 0.0)


def check_residual_backward(
    func: Callable,
    A: Array,
    W: Array,
    b: Array,
    dOut: Array,
    part: str = "part (a)",
    hidden: str | None = None,
) -> None:
    """Run a student's ``fixed_residual_backward(dOut, (A, W, Z))`` of ``Out = A + relu(W A +
    b)``: ``(dA, dW, db)``. No pre-activation of the case may be 0 (finite differences)."""
    __tracebackhide__ = True
    A, W, b, dOut = (np.array(a, dtype=np.float64) for a in (A, W, b, dOut))
    m = A.shape[1]
    Z = W @ A + b
    name = f"fixed_residual_backward ({_case(f'dOut {_shape(dOut)}, W {_shape(W)}', hidden)})"
    got = _call(func, dOut.copy(), (A.copy(), W.copy(), Z.copy()), part=part)
    labels = ("dA", "dW", "db")
    results = _results(name, got, labels)
    dZ = dOut * (Z > 0)
    through = W.T @ dZ
    want = (dOut + through, dZ @ A.T, dZ.sum(axis=1, keepdims=True))
    mistakes: list[dict[str, Array]] = [
        {
            "your dA holds one path only, the one through the layer: A reaches the output by "
            "two paths (the skip connection and the layer), and at such a branch the "
            "gradients of the paths add up. Look for an assignment that replaces what an "
            "earlier line put there.": through,
            "your dA holds one path only, the skip connection: A reaches the output by two "
            "paths (the skip connection and the layer), and at such a branch the gradients "
            "of the paths add up.": dOut,
        },
        {},
        {},
    ]
    for label, value, right, extra in zip(labels, results, want, mistakes):
        checks.check_array(f"{label} from {name}", value, right, m=m, mistakes=extra)

    def J(A_: Array, W_: Array, b_: Array) -> float:
        return float(np.sum(dOut * _residual(A_, W_, b_)))

    for label, value, x, f in (
        ("dA", results[0], A, lambda a: J(a, W, b)),
        ("dW", results[1], W, lambda w: J(A, w, b)),
        ("db", results[2], b, lambda c: J(A, W, c)),
    ):
        _fd(f, x, value, f"{label} from {name}", m=m)


def check_scale_shift_backward(
    func: Callable,
    Z: Array,
    g: Array,
    c: Array,
    dOut: Array,
    part: str = "part (a)",
    hidden: str | None = None,
) -> None:
    """Run a student's ``fixed_scale_shift_backward(dOut, (Z, g))`` of ``Out = g * Z + c`` (``g``
    and ``c`` of shape ``(n, 1)``, broadcast over the columns): ``(dZ, dg, dc)``."""
    __tracebackhide__ = True
    Z, g, c, dOut = (np.array(a, dtype=np.float64) for a in (Z, g, c, dOut))
    m = Z.shape[1]
    name = f"fixed_scale_shift_backward ({_case(f'dOut {_shape(dOut)}', hidden)})"
    got = _call(func, dOut.copy(), (Z.copy(), g.copy()), part=part)
    labels = ("dZ", "dg", "dc")
    results = _results(name, got, labels)
    want = (g * dOut, (dOut * Z).sum(axis=1, keepdims=True), dOut.sum(axis=1, keepdims=True))
    broadcast = (
        "your {0} keeps one column per example: {0} was broadcast over the m columns of the "
        "batch in the forward pass, so its gradient adds up the contributions of every "
        "column, and has the shape of {0}. Kept this way, an update would broadcast {0} "
        "itself to (n, m)."
    )
    mistakes: list[dict[str, Array]] = [
        {},
        {broadcast.format("dg"): dOut * Z},
        {broadcast.format("dc"): dOut},
    ]
    per_example = (None, dOut * Z, dOut)
    for label, value, right, extra, each in zip(labels, results, want, mistakes, per_example):
        checks.check_array(
            f"{label} from {name}", value, right, m=m, mistakes=extra, per_example=each
        )

    def J(Z_: Array, g_: Array, c_: Array) -> float:
        return float(np.sum(dOut * (g_ * Z_ + c_)))

    for label, value, x, f in (
        ("dZ", results[0], Z, lambda z: J(z, g, c)),
        ("dg", results[1], g, lambda v: J(Z, v, c)),
        ("dc", results[2], c, lambda v: J(Z, g, v)),
    ):
        _fd(f, x, value, f"{label} from {name}", m=m)


def residual_case(seed: int, n: int, m: int, margin: float = 1e-3) -> dict[str, Array]:
    """A seeded skip-connection layer ``A (n, m)``, ``W (n, n)``, ``b (n, 1)``, ``dOut (n, m)``,
    with no pre-activation within ``margin`` of 0 and some units on and some off."""
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        A, W, b = rng.normal(size=(n, m)), rng.normal(size=(n, n)), rng.normal(size=(n, 1))
        Z = W @ A + b
        if np.min(np.abs(Z)) > margin and (Z.size < 2 or (np.any(Z > 0) and np.any(Z < 0))):
            break
    return {"A": A, "W": W, "b": b, "dOut": rng.normal(size=(n, m)) / m}


# =================================================================================================
# part (b): the sanity checks of a training run
# =================================================================================================


def tiny_batch(seed: int, n0: int = 4, K: int = 3, m: int = 10) -> tuple[Array, Array]:
    """``X (n0, m)`` and labels ``y (m,)`` drawn at random (nothing to learn but the batch
    itself), every class present when ``m >= K``."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n0, m))
    y = rng.permutation(np.arange(m) % K)
    return X, y


def sweep_case(
    seed: int, n0: int = 4, n1: int = 8, K: int = 3, m: int = 30
) -> tuple[Array, Array, dict[str, Array]]:
    """``X (n0, m)``, labels ``y (m,)`` that a network can learn (the class of the largest of K
    random projections), and the start ``W1, b1, W2, b2`` of a two-layer network: He's
    initialisation for ``W1``, a small ``W2``, zero biases."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n0, m))
    y = np.argmax(rng.normal(size=(K, n0)) @ X, axis=0)
    params = {
        "W1": rng.normal(scale=np.sqrt(2.0 / n0), size=(n1, n0)),
        "b1": np.zeros((n1, 1)),
        "W2": rng.normal(scale=0.01, size=(K, n1)),
        "b2": np.zeros((K, 1)),
    }
    return X, y, params


def _forward(X: Array, params: Mapping[str, Array]) -> tuple[Array, Array, Array]:
    Z1 = params["W1"] @ X + params["b1"]
    A1 = np.maximum(Z1, 0.0)
    return Z1, A1, params["W2"] @ A1 + params["b2"]


def network_loss(X: Array, y: Array, params: Mapping[str, Array]) -> float:
    """The mean cross-entropy of the two-layer ReLU network ``params`` on ``(X, y)``."""
    return _ce(_forward(X, params)[2], y)


def network_loss_and_grads(
    X: Array, y: Array, params: Mapping[str, Array]
) -> tuple[float, dict[str, Array]]:
    """Part (b)'s network ``X (n0, m) -> ReLU -> softmax``, labels ``y (m,)``: its mean
    cross-entropy ``J`` and the gradients ``{"W1", "b1", "W2", "b2"}``. The locked cell of part
    (b) hands it to your training functions as ``loss_and_grads``, so that part (b) does not
    depend on your answers of part (a). A run that diverges gives a ``J`` that is not finite,
    without numpy's warnings.

    It is written in one piece, with no helper of this module: your kernel gets this function
    while the assignment is graded, and no loss or layer of part (a) with it."""
    W1, b1, W2, b2 = (np.asarray(params[k], dtype=np.float64) for k in ("W1", "b1", "W2", "b2"))
    m = X.shape[1]
    columns = np.arange(m)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        Z1 = W1 @ X + b1
        A1 = np.maximum(Z1, 0.0)
        Z2 = W2 @ A1 + b2
        top = Z2.max(axis=0, keepdims=True)
        log_p = Z2 - top - np.log(np.exp(Z2 - top).sum(axis=0, keepdims=True))
        J = float(-log_p[y, columns].mean())
        dZ2 = np.exp(log_p)
        dZ2[y, columns] -= 1.0
        dZ2 /= m
        dZ1 = (W2.T @ dZ2) * (Z1 > 0)
        grads = {
            "W1": dZ1 @ X.T,
            "b1": dZ1.sum(axis=1, keepdims=True),
            "W2": dZ2 @ A1.T,
            "b2": dZ2.sum(axis=1, keepdims=True),
        }
    return J, grads


def sweep_reference(
    X: Array, y: Array, params: Mapping[str, Array], lrs: Sequence[float], steps: int
) -> list[float]:
    """The loss after ``steps`` steps of full-batch gradient descent from ``params``, for each
    learning rate (``inf`` for a run whose loss is not finite)."""
    out = []
    for lr in lrs:
        p = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
        with np.errstate(all="ignore"):
            for _ in range(steps):
                _, grads = network_loss_and_grads(X, y, p)
                p = {k: p[k] - lr * grads[k] for k in p}
            loss = network_loss(X, y, p)
        out.append(loss if math.isfinite(loss) else math.inf)
    return out


def _params(name: str, got: object, sizes: Sequence[int]) -> dict[str, Array]:
    """``got`` as the parameters of a two-layer network ``n0 -> (any width) -> K``."""
    __tracebackhide__ = True
    n0, K = sizes[0], sizes[-1]
    if got is None:
        raise checks.CheckFailure(
            f"{name} returned None. Did you forget `return`? It should return the parameters "
            "{'W1': ..., 'b1': ..., 'W2': ..., 'b2': ...}.",
            name=name,
            problem="returned_none",
        )
    if not isinstance(got, Mapping) or set(map(str, got)) != {"W1", "b1", "W2", "b2"}:
        keys = sorted(map(str, got)) if isinstance(got, Mapping) else type(got).__name__
        raise checks.CheckFailure(
            f"{name} should give the dict of parameters with the keys W1, b1, W2, b2 (and no "
            f"other), but it gave {keys}.",
            name=name,
            problem="missing_keys",
        )
    params = {k: checks._as_array(f"params[{k!r}] from {name}", got[k]) for k in got}
    n1 = params["W1"].shape[0] if params["W1"].ndim == 2 else -1
    if len(sizes) == 3:
        n1 = sizes[1]
    want = {"W1": (n1, n0), "b1": (n1, 1), "W2": (K, n1), "b2": (K, 1)}
    for k, shape in want.items():
        if params[k].shape != shape:
            raise checks.CheckFailure(
                f"params[{k!r}] from {name} has shape {params[k].shape}, but the network "
                f"{n0} -> {n1} -> {K} needs {shape} (W of shape (n_l, n_(l-1)), b of shape "
                "(n_l, 1)).",
                name=name,
                problem="wrong_shape",
            )
        if not np.all(np.isfinite(params[k])):
            raise checks.CheckFailure(
                f"params[{k!r}] from {name} contains nan or inf: the training diverged. Try "
                "a smaller learning rate.",
                name=name,
                problem="not_finite",
            )
    return params


def check_init(
    func: Callable, sizes: Sequence[int], seed: int, part: str = "part (b)",
    hidden: str | None = None,
) -> None:  # fmt: skip
    """Run a student's ``init_params(sizes, seed)`` and check the network it starts from: the
    shapes, hidden units that differ from one another, and a loss at initialisation within
    ``INIT_GAP`` of ln K on random inputs of unit scale (measured here)."""
    __tracebackhide__ = True
    sizes = [int(n) for n in sizes]
    n0, n1, K = sizes
    name = f"init_params ({_case(f'sizes {sizes}', hidden)})"
    got = _call(func, list(sizes), seed, part=part)
    params = _params(name, got, sizes)
    W1 = params["W1"]
    if n1 > 1 and np.allclose(W1, W1[:1]):
        raise checks.CheckFailure(
            f"The hidden units of {name} all start with the same weights: they compute the "
            "same thing and receive the same gradient, so they stay equal forever. Draw W1 at "
            "random (the symmetry must be broken).",
            name=name,
            problem="symmetric",
        )
    he = math.sqrt(2.0 / n0)
    spread = float(np.std(W1))
    if not 0.5 * he <= spread <= 2.0 * he:
        raise checks.CheckFailure(
            f"The weights W1 from {name} have a standard deviation of {spread:.3g}; He's "
            f"initialisation for a ReLU layer with {n0} inputs gives about {he:.3g} (within a "
            "factor of 2 is fine). Too small and the signal fades, too large and it grows at "
            "every layer.",
            name=name,
            problem="wrong_scale",
        )
    rng = np.random.default_rng([seed, 7])
    X = rng.normal(size=(n0, 500))
    y = rng.integers(0, K, size=500)
    J0 = network_loss(X, y, params)
    if not abs(J0 - math.log(K)) <= INIT_GAP:
        found = checks.Diagnosis(
            "initial_loss",
            "the network is confident before it has learned anything: its outputs are large "
            "at initialisation, so its first predictions are far from uniform and mostly "
            "wrong. Start the output layer with much smaller weights (or zero biases) so that "
            "every class starts with about the same probability.",
        )
        raise checks.CheckFailure(
            f"The loss at initialisation of the network from {name} is {J0:.4g} on random "
            f"inputs of unit scale, but a network that has learned nothing yet should predict "
            f"about 1/K for each of the K = {K} classes, a loss near ln K = {math.log(K):.4g} "
            f"(allowed: within {INIT_GAP:g}).\n  Likely bug: {found.message}",
            name=name,
            problem="initial_loss",
            diagnoses=[found],
        )


def _floats(name: str, got: object, n: int | None = None) -> list[float]:
    __tracebackhide__ = True
    try:
        values = [float(v) for v in np.asarray(got, dtype=np.float64).reshape(-1)]
    except (TypeError, ValueError):
        raise checks.CheckFailure(
            f"{name} should be a list of numbers, but it is {checks._short(got)}",
            name=name,
            problem="wrong_type",
        ) from None
    if n is not None and len(values) != n:
        raise checks.CheckFailure(
            f"{name} should hold {n} numbers (one per learning rate), but it holds "
            f"{len(values)}: {checks._short(got)}",
            name=name,
            problem="wrong_count",
        )
    return values


def check_overfit(
    func: Callable, X: Array, y: Array, K: int, seed: int, part: str = "part (b)",
    hidden: str | None = None,
) -> None:  # fmt: skip
    """Run a student's ``overfit_tiny_batch(X, y, K, seed)``: the parameters it returns must
    reach a loss below ``OVERFIT_LOSS`` on the batch (measured here), and its list of losses
    must go down."""
    __tracebackhide__ = True
    X = np.array(X, dtype=np.float64)
    y = np.array(y, dtype=np.int64)
    n0, m = X.shape
    what = f"X {_shape(X)}, K = {K}" + (f", seed = {seed}" if hidden is None else "")
    name = f"overfit_tiny_batch ({_case(what, hidden)})"
    start = time.perf_counter()
    got = _call(func, X.copy(), y.copy(), K, seed, part=part)
    took = time.perf_counter() - start
    params, losses = _results(name, got, ("params", "losses"))
    params = _params(name, params, [n0, K])
    losses = _floats(f"the losses from {name}", losses)
    if took > OVERFIT_SECONDS:
        raise checks.CheckFailure(
            f"Your overfit_tiny_batch took {took:.0f} s ({name}); it may take at most "
            f"{OVERFIT_SECONDS:.0f} s. A tiny batch needs a few hundred steps at most: raise "
            "the learning rate rather than the number of steps.",
            name=name,
            problem="too_slow",
        )
    if len(losses) < 2:
        raise checks.CheckFailure(
            f"The losses from {name} should list the loss at every step of the training "
            f"(at least two numbers), but there are {len(losses)}.",
            name=name,
            problem="wrong_count",
        )
    final = network_loss(X, y, params)
    if not final < OVERFIT_LOSS:
        if losses[-1] > losses[0]:
            hint = (
                "your losses went up: the learning rate is too large (or the update goes the "
                "wrong way)."
            )
        else:
            hint = (
                "the loss goes down but not far enough: train for more steps or with a "
                "larger learning rate, and give the network enough hidden units to memorise "
                f"the {m} examples. If the loss stalls whatever you do, a gradient is wrong."
            )
        found = checks.Diagnosis("no_overfit", hint)
        raise checks.CheckFailure(
            f"The network from {name} has a loss of {final:.4g} on the batch it was trained "
            f"on; a network that can learn at all should memorise {m} examples, to a loss "
            f"below {OVERFIT_LOSS:g}.\n  Likely bug: {found.message}",
            name=name,
            problem="no_overfit",
            diagnoses=[found],
        )
    if not losses[-1] < losses[0]:
        raise checks.CheckFailure(
            f"The losses from {name} should be the training loss step by step, from the "
            f"first to the last; yours do not go down (first {losses[0]:.4g}, last "
            f"{losses[-1]:.4g}), although the network's loss at the end is {final:.4g}.",
            name=name,
            problem="wrong_losses",
        )


def _same_loss(got: float, want: float) -> bool:
    """A final loss of the sweep equals the reference's: within the tolerance, or ``inf`` both
    (a run that diverged)."""
    if math.isinf(want):
        return got == want
    return math.isfinite(got) and abs(got - want) <= 1e-6 + 1e-5 * abs(want)


def _rate(lrs: Sequence[float], i: int, hidden: str | None) -> str:
    """Rate ``i`` of a sweep: its value in a visible case, its place in a hidden one."""
    return f"lr = {lrs[i]:g}" if hidden is None else f"rate {i + 1} of {len(lrs)}"


def check_sweep(
    func: Callable,
    X: Array,
    y: Array,
    params: Mapping[str, Array],
    lrs: Sequence[float],
    steps: int,
    only: str,
    part: str = "part (b)",
    hidden: str | None = None,
) -> None:
    """Run a student's ``lr_sweep(X, y, params, lrs, steps)``: ``(final_losses, best_lr)``.

    ``only="losses"``: the final losses equal full-batch gradient descent run here from the same
    start, and a run that diverged here (its loss is not finite) is ``math.inf`` there, as the
    instructions ask (not ``nan``, which no rate can be compared with); ``only="best"``: the
    chosen rate is the one with the lowest final loss among the student's own losses."""
    __tracebackhide__ = True
    X = np.array(X, dtype=np.float64)
    y = np.array(y, dtype=np.int64)
    lrs = [float(v) for v in lrs]
    params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    K = params["W2"].shape[0]
    what = f"X {_shape(X)}, K = {K}, {len(lrs)} rates, {steps} steps"
    if hidden is None:
        what += f", lrs = {lrs}"
    name = f"lr_sweep ({_case(what, hidden)})"
    start = time.perf_counter()
    copies = {k: v.copy() for k, v in params.items()}
    got = _call(func, X.copy(), y.copy(), copies, list(lrs), steps, part=part)
    took = time.perf_counter() - start
    losses, best = _results(name, got, ("final_losses", "best_lr"))
    losses = _floats(f"the final losses from {name}", losses, len(lrs))
    if took > SWEEP_SECONDS:
        raise checks.CheckFailure(
            f"Your lr_sweep took {took:.0f} s ({name}); it may take at most {SWEEP_SECONDS:.0f} s.",
            name=name,
            problem="too_slow",
        )
    if only == "losses":
        want = sweep_reference(X, y, params, lrs, steps)
        bad = [i for i, (g, w) in enumerate(zip(losses, want)) if not _same_loss(g, w)]
        if bad:
            i = bad[0]
            lines = "\n".join(
                f"    {_rate(lrs, j, hidden)}: expected {want[j]:.6g}, got {losses[j]:.6g}"
                for j in bad
            )
            hints = []
            if all(math.isnan(losses[j]) and math.isinf(want[j]) for j in bad):
                hints.append(
                    checks.Diagnosis(
                        "diverged_as_nan",
                        "the runs that diverged are recorded as nan: a run whose loss is not "
                        "finite must be recorded as math.inf (the instructions), because nan "
                        "compares as neither smaller nor larger than any number and would "
                        "spoil the choice of the best rate. Look at what you record after the "
                        "last step when the loss is not a finite number.",
                    )
                )
            elif i > 0 and _same_loss(losses[0], want[0]):
                hints.append(
                    checks.Diagnosis(
                        "shared_start",
                        "the first run is right and the later ones are not: every run must "
                        "start from the same initial parameters, but yours starts where the "
                        "previous one ended (the updates changed the arrays of params in "
                        "place). Give each run its own copy of the parameters.",
                    )
                )
            likely = f"\n  Likely bug: {hints[0].message}" if hints else ""
            raise checks.CheckFailure(
                f"The final losses from {name} differ from plain gradient descent run from "
                f"the same start ({len(bad)} of {len(lrs)} rates):\n{lines}\n  Each run "
                "starts from params, takes `steps` full-batch steps (params minus lr times "
                "the gradient) and reports the loss after the last one (inf when it is not "
                f"finite).{likely}",
                name=name,
                problem="wrong_values",
                diagnoses=hints,
            )
        return
    finite = [i for i, v in enumerate(losses) if math.isfinite(v)]
    if not finite:
        raise checks.CheckFailure(
            f"Every final loss from {name} is inf or nan, so no rate can be chosen; at least "
            "the smallest rates should train.",
            name=name,
            problem="not_finite",
        )
    right = lrs[min(finite, key=lambda i: losses[i])]
    best = _number(best)
    try:
        best_value = float(best)
    except (TypeError, ValueError):
        best_value = math.nan
    if best_value != right:
        found = None
        if best_value not in lrs and best_value in losses:
            found = checks.Diagnosis(
                "chose_loss",
                "you returned the lowest final loss itself; lr_sweep returns the learning rate "
                "that gave it (the entry of lrs at the same place).",
            )
        elif best_value in lrs and not math.isfinite(losses[lrs.index(best_value)]):
            found = checks.Diagnosis(
                "chose_diverged",
                "you chose a rate whose run diverged: a loss that is nan compares as neither "
                "smaller nor larger than any number, and np.argmin and np.min return it. Set "
                "aside the runs whose loss is not finite before you choose.",
            )
        likely = f"\n  Likely bug: {found.message}" if found is not None else ""
        raise checks.CheckFailure(
            f"The rate chosen by {name}"
            + (f" is {checks._short(best)}, but" if hidden is None else " is not the right one:")
            + f" the lowest of your final losses among the runs that did not diverge is "
            f"{losses[lrs.index(right)]:.6g}, at {_rate(lrs, lrs.index(right), hidden)}: "
            f"choose that one.{likely}",
            name=name,
            problem="wrong_choice",
            diagnoses=[found] if found is not None else [],
        )


# =================================================================================================
# part (c): reading loss curves
# =================================================================================================


def loss_curves(seed: int = 0, epochs: int = 60) -> dict[str, tuple[Array, Array]]:
    """Four runs' training and validation loss per epoch, ``{"A": (train, val), ...}``: curves
    drawn (seeded) with the shapes of four situations that part (c) asks you to recognise, on a
    problem with K = 10 classes."""
    rng = np.random.default_rng(seed)
    t = np.arange(epochs, dtype=np.float64)
    lnK = math.log(10)

    def noisy(curve: Array, scale: float) -> Array:
        return curve * np.exp(rng.normal(scale=scale, size=curve.shape))

    # A: a loss that falls for a few epochs, then jumps about and climbs
    a = 0.9 + (lnK - 0.9) * np.exp(-t / 2) + 0.025 * np.maximum(t - 6, 0)
    a = a + 0.5 * np.abs(np.sin(1.7 * t)) * (t > 5)
    A = (noisy(a, 0.08), noisy(a + 0.1, 0.08))
    # B: a slow, almost straight descent that is far from done
    b = lnK - 0.012 * t
    B = (noisy(b, 0.004), noisy(b + 0.02, 0.004))
    # C: the training loss goes to 0, the validation loss turns back up
    train = 0.02 + (lnK - 0.02) * np.exp(-t / 8)
    val = 0.55 + (lnK - 0.55) * np.exp(-t / 6) + 0.012 * np.maximum(t - 15, 0)
    C = (noisy(train, 0.02), noisy(val, 0.02))
    # D: flat at ln K from the first epoch
    D = (noisy(np.full_like(t, lnK), 0.0005), noisy(np.full_like(t, lnK), 0.0005))
    return {"A": A, "B": B, "C": C, "D": D}


def plot_loss_curves(seed: int = 0) -> Any:
    """The figure of part (c): the runs of :func:`loss_curves`, one panel each, the training
    loss solid and the validation loss dashed, with ln 10 marked."""
    import matplotlib.pyplot as plt

    runs = loss_curves(seed)
    fig, axes = plt.subplots(2, 2, figsize=(9, 6.2), sharey=True)
    for ax, (label, (train, val)) in zip(axes.flat, runs.items()):
        epochs = np.arange(1, train.size + 1)
        ax.plot(epochs, train, label="training loss")
        ax.plot(epochs, val, "--", label="validation loss")
        ax.axhline(math.log(10), color="gray", lw=0.8, ls=":")
        ax.text(1, math.log(10) + 0.1, "ln 10", color="gray", fontsize=10)
        ax.set_title(f"run {label}", fontsize=12)
        ax.set_ylim(0, 4)
        ax.tick_params(labelsize=10)
    for ax in axes[1]:
        ax.set_xlabel("epoch", fontsize=11)
    for ax in axes[:, 0]:
        ax.set_ylabel("mean cross-entropy", fontsize=11)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=11, frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    plt.close(fig)
    return fig
