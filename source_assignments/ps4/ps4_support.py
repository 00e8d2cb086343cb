"""Data, references and checks for problem set 4 (mini-batch training).

Students: you may read this file and use :func:`momentum_state`, :func:`adam_state`,
:func:`gradient_case`, :func:`moons_split` and :func:`accuracy` in your own cells (in
``train`` too). The tests compare your answers with the course package (``course.mlp.MLP`` for
the gradients, ``course.optim.Momentum`` / ``course.optim.Adam`` for the update rules) and
with centred finite differences in float64, through :mod:`course.checks`.

Conventions (as in the lectures): a batch ``X`` has shape ``(n_0, m)``, one sample per column;
the network is ``n_0 -> n_1 -> n_2`` with parameters ``{"W1": (n_1, n_0), "b1": (n_1, 1),
"W2": (n_2, n_1), "b2": (n_2, 1)}``, a sigmoid hidden layer, a sigmoid output and the binary
cross-entropy averaged over the batch,

    J = 1/m sum_i sum_k [ -t_ki ln yhat_ki - (1 - t_ki) ln(1 - yhat_ki) ].

Diagnoses that :mod:`course.checks` does not have are made here: the batch checks of part (a)
(coverage, sizes, a dropped or misplaced last batch, shuffling, use of ``rng``); the gradient
mistakes of part (b), passed as ``mistakes=`` (sigma(z) or z(1 - z) where sigma'(z) belongs, an
extra sigma' at the output, sigma(-z)), overflow or 0/0 for large ``|z|``, inputs changed in
place; the update-rule mistakes of part (c) (no bias correction, ``t`` ignored, a velocity of
the other convention, the wrong sign, parameters not updated in place, gradients changed); and
the underfitting / overfitting hint of part (d).

The course modules are imported only by the functions that need them: while the assignment is
graded, the ones it forbids are not available in your kernel. :func:`momentum_state`,
:func:`adam_state`, :func:`gradient_case`, :func:`predict` and :func:`accuracy` work there too
(the last two then compute the network's forward pass in numpy, with the same numbers);
:func:`moons_split` needs ``course.data``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from course import checks

# Parts (a)-(c): your functions must not run code of these modules (the package's batch
# generator, network, losses, activations and optimizers, or a library that does the work).
FORBID = (
    "course.data",
    "course.mlp",
    "course.layers",
    "course.optim",
    "course.train",
    "course.losses",
    "course.activations",
    "course.gradcheck",
    "course.graph",
    *checks.ALWAYS_FORBIDDEN,
)
# Part (d): the training loop is yours, built from your pieces of (a)-(c) and this module's
# helpers; the course package stays out of it as out of parts (a)-(c) (while the assignment is
# graded the box leaves every module FORBID names out of the kernel, so a rule that allowed one
# here could not be kept), and so do other libraries' training.
FORBID_TRAINING = (
    "course.data",
    "course.mlp",
    "course.layers",
    "course.optim",
    "course.train",
    "course.losses",
    "course.activations",
    "course.gradcheck",
    "course.graph",
    *checks.ALWAYS_FORBIDDEN,
)
# What the notebook's own cells may use while the assignment is graded: the student's kernel
# gets these (and what they need) only; the checks and the reference answers run in the grader
# (see autograder/kernel_view.py)
KERNEL = (
    "gradient_case",
    "random_gradient_case",
    "large_case",
    "random_batch_cases",
    "momentum_state",
    "adam_state",
    "update_case",
    "moons_split",
    "predict",
    "accuracy",
)

KEYS = ("W1", "b1", "W2", "b2")
ORDER = ("W2", "b2", "W1", "b1")  # from the output back to the inputs: the first wrong is first
THRESHOLD = 0.95  # part (d): accuracy required on the held-out points


def _copy(d: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.array(v, dtype=np.float64, copy=True) for k, v in d.items()}


def _sigmoid(z: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


# =================================================================================================
# part (a): the batches of one epoch
# =================================================================================================


def expected_sizes(m: int, batch_size: int) -> list[int]:
    """The batch sizes of one epoch: ``batch_size`` each, the last one what is left over."""
    full, rest = divmod(m, batch_size)
    return [batch_size] * full + ([rest] if rest else [])


def _as_batches(got: object, name: str) -> list[np.ndarray]:
    """What a student's ``batches`` returned, as a list of 1-D integer arrays (or a message)."""
    __tracebackhide__ = True
    if got is None:
        raise checks.CheckFailure(
            f"{name} returned None. Did you forget `return`? It should return a list of index "
            "arrays, one per mini-batch.",
            name=name,
            problem="returned_none",
        )
    if isinstance(got, np.ndarray) and got.ndim == 1:
        raise checks.CheckFailure(
            f"{name} returned one array of shape {got.shape}, but it should return a LIST of "
            "index arrays, one per mini-batch: cut the shuffled indices into pieces of "
            "batch_size.",
            name=name,
            problem="wrong_type",
        )
    if isinstance(got, (str, bytes, dict, set)) or not isinstance(got, Iterable):
        raise checks.CheckFailure(
            f"{name} should return a list of index arrays, but it returned a "
            f"{type(got).__name__}: {checks._short(got)}",
            name=name,
            problem="wrong_type",
        )
    out = []
    for k, b in enumerate(list(got)):
        arr = np.asarray(b)
        if arr.ndim != 1:
            raise checks.CheckFailure(
                f"batch {k} from {name} has shape {arr.shape}, but every batch should be a 1-D "
                "array of sample indices (columns of X), e.g. array([23, 20, 12, ...]).",
                name=f"batch {k} from {name}",
                problem="wrong_shape",
            )
        if arr.size and arr.dtype.kind not in "iu":
            raise checks.CheckFailure(
                f"batch {k} from {name} holds {arr.dtype} values ({checks._short(b)}), but "
                "indices must be integers (X[:, idx] needs integer idx): use rng.permutation(m), "
                "which gives integers.",
                name=f"batch {k} from {name}",
                problem="wrong_dtype",
            )
        out.append(arr.astype(np.int64))
    return out


DRAWN_WITH_REPLACEMENT = checks.Diagnosis(
    "with_replacement",
    "the indices were drawn with replacement (rng.integers, or rng.choice(m, size) without "
    "replace=False); cut ONE permutation of 0..m-1 into pieces instead.",
)


def _size_mistake(
    sizes: list[int], want: list[int], m: int, batch_size: int
) -> list[checks.Diagnosis]:
    """What explains batch sizes ``sizes`` where ``want`` is right (at most one diagnosis)."""
    rest = m % batch_size
    if batch_size > m and not sizes:
        return [
            checks.Diagnosis(
                "no_batch",
                f"you returned no batch at all. When batch_size ({batch_size}) is "
                f"larger than m ({m}), the epoch is ONE batch holding all m samples (a loop "
                "that keeps only full batches drops this last, smaller batch).",
            )
        ]
    if rest and sizes == want[:-1]:
        return [
            checks.Diagnosis(
                "dropped_last_batch",
                f"you dropped the last, smaller batch: the {rest} samples left "
                f"over after {len(want) - 1} full batches are never used. Keep it: the last "
                f"batch of an epoch holds what is left (m - {len(want) - 1} * batch_size = "
                f"{rest} samples).",
            )
        ]
    if sorted(sizes) == sorted(want):
        return [
            checks.Diagnosis(
                "short_batch_not_last",
                "the sizes are right but the smaller batch is not the last one. "
                "Keep the short batch at the end (the lectures' R chunker shuffles the chunk "
                "sizes too; here, as in course.data.BatchGenerator, only the samples are "
                "shuffled).",
            )
        ]
    if len(sizes) == len(want) and sum(sizes) == m and max(sizes) - min(sizes) <= 1:
        return [
            checks.Diagnosis(
                "equal_parts",
                "you split into nearly equal parts (as np.array_split does). "
                "Every batch must hold exactly batch_size samples except the last.",
            )
        ]
    if sum(sizes) > m:
        return [
            checks.Diagnosis(
                "with_replacement",
                "some samples appear more than once (did you draw the indices "
                "with replacement, e.g. rng.integers or rng.choice(m, size) with "
                "replace=True?). Use one permutation of 0..m-1 per epoch.",
            )
        ]
    return []


def _check_epoch(got: list[np.ndarray], m: int, batch_size: int, name: str) -> None:
    """Every index 0..m-1 exactly once, and the sizes [batch_size, ..., rest]."""
    __tracebackhide__ = True
    sizes = [int(b.size) for b in got]
    want = expected_sizes(m, batch_size)
    allidx = np.concatenate(got) if got else np.zeros(0, dtype=np.int64)
    counts = np.bincount(allidx[(allidx >= 0) & (allidx < m)], minlength=m)
    missing = np.flatnonzero(counts == 0)
    if sizes != want:
        found = _size_mistake(sizes, want, m, batch_size)
        raise checks.CheckFailure(
            f"{name} gave batches of sizes {_sizes(sizes)}, but one epoch of m = {m} samples in "
            f"batches of {batch_size} has sizes {_sizes(want)}."
            + "".join(f"\n  Likely bug: {d.message}" for d in found),
            name=name,
            problem="wrong_sizes",
            diagnoses=found,
        )
    if allidx.size and (allidx.min() < 0 or allidx.max() >= m):
        bad = allidx[(allidx < 0) | (allidx >= m)]
        hint = " (indices start at 0 in Python, not 1)" if bad.max() == m else ""
        raise checks.CheckFailure(
            f"{name} gave index {int(bad[0])}, but the samples are the columns 0..{m - 1}{hint}.",
            name=name,
            problem="index_out_of_range",
        )
    if missing.size:
        twice = np.flatnonzero(counts > 1)
        raise checks.CheckFailure(
            f"{name} must use every sample exactly once per epoch, but sample(s) "
            f"{_few(missing)} never appear and sample(s) {_few(twice)} appear more than once. "
            f"Likely bug: {DRAWN_WITH_REPLACEMENT.message}",
            name=name,
            problem="not_every_sample",
            diagnoses=[DRAWN_WITH_REPLACEMENT],
        )


def _sizes(sizes: list[int]) -> str:
    if len(sizes) > 8:
        return "[" + ", ".join(map(str, sizes[:3])) + f", ... ({len(sizes)} batches), {sizes[-1]}]"
    return "[" + ", ".join(map(str, sizes)) + "]"


def _few(idx: np.ndarray) -> str:
    shown = ", ".join(str(int(i)) for i in idx[:5])
    return shown + (f", ... ({idx.size} in all)" if idx.size > 5 else "")


def _call_batches(func: Callable, m: int, batch_size: int, rng: Any, part: str) -> list:
    __tracebackhide__ = True
    name = f"{getattr(func, '__name__', 'your function')}({m}, {batch_size}, rng)"
    got = checks.call_student(func, m, batch_size, rng, part=part, forbid=FORBID)
    return _as_batches(got, name)


def _batches_name(func: Callable, m: int, batch_size: int, hidden: str | None) -> str:
    """``batches(10, 3, rng)``: the sizes are the kind of case, shown for a hidden one too,
    with its description (see source_assignments/README.md)."""
    name = f"{getattr(func, '__name__', 'your function')}({m}, {batch_size}, rng)"
    return name if hidden is None else f"{name} on a hidden case ({hidden})"


def check_batches(
    func: Callable,
    m: int,
    batch_size: int,
    seed: int = 0,
    part: str = "part (a)",
    hidden: str | None = None,
) -> None:
    """One epoch from ``func(m, batch_size, rng)``: coverage and sizes.

    ``hidden``: for a hidden test, what kind of case it is (every check of this module takes
    it); a message then names the case by its sizes and that description, never by an input
    value or a seed.
    """
    __tracebackhide__ = True
    name = _batches_name(func, m, batch_size, hidden)
    got = _call_batches(func, m, batch_size, np.random.default_rng(seed), part)
    _check_epoch(got, m, batch_size, name)


def check_shuffling(
    func: Callable,
    m: int,
    batch_size: int,
    seed: int = 0,
    part: str = "part (a)",
    hidden: str | None = None,
) -> None:
    """The order is random, drawn from ``rng``: reproducible per seed, new in every epoch."""
    __tracebackhide__ = True
    name = _batches_name(func, m, batch_size, hidden)
    rng = np.random.default_rng(seed)
    first = _call_batches(func, m, batch_size, rng, part)
    _check_epoch(first, m, batch_size, name)
    second = _call_batches(func, m, batch_size, rng, part)
    _check_epoch(second, m, batch_size, name)
    again = _call_batches(func, m, batch_size, np.random.default_rng(seed), part)
    other = _call_batches(func, m, batch_size, np.random.default_rng(seed + 7919), part)
    order = np.concatenate(first)
    if m >= 8 and np.array_equal(order, np.arange(m)):
        raise checks.CheckFailure(
            f"{name} visits the samples in the order 0, 1, 2, ..., {m - 1}: they are not "
            "shuffled. Draw a random permutation of the indices from rng (rng.permutation(m)) "
            "and cut it into batches.",
            name=name,
            problem="not_shuffled",
        )
    if m >= 8 and not np.array_equal(np.concatenate(again), order):
        raise checks.CheckFailure(
            f"Two calls of {name} with generators made from the SAME seed gave different "
            "orders. Draw the random order from the generator rng that you are given (for "
            "example rng.permutation(m)), not from np.random.shuffle / np.random.permutation "
            "(numpy's global generator) or a generator of your own: then a run can be "
            "reproduced from its seed.",
            name=name,
            problem="not_reproducible",
        )
    if m >= 8 and np.array_equal(np.concatenate(second), order):
        raise checks.CheckFailure(
            f"Two epochs in a row from the same generator rng ({name} called twice) gave the "
            "same order. Every epoch needs a NEW permutation drawn from rng: do not create a "
            "generator with a fixed seed inside the function, and do not reset rng.",
            name=name,
            problem="same_order_each_epoch",
        )
    if m >= 8 and np.array_equal(np.concatenate(other), order):
        raise checks.CheckFailure(
            f"Generators with different seeds gave the same order from {name}: the order "
            "must come from the rng you are given.",
            name=name,
            problem="ignores_rng",
        )
    if batch_size >= 2 and len(first) >= 4:
        runs = [b.size > 1 and np.all(np.diff(np.sort(b)) == 1) for b in first]
        if all(runs):
            raise checks.CheckFailure(
                f"Every batch from {name} holds consecutive samples (such as 20, 21, ..., "
                f"{20 + batch_size - 1}): you shuffled the order of the batches or of the "
                "samples inside a batch, but not the samples across batches. Shuffle all m "
                "indices first (rng.permutation(m)), then cut the permutation into batches.",
                name=name,
                problem="not_shuffled_across_batches",
            )


def random_batch_cases(seed: int, count: int = 12) -> list[tuple[int, int]]:
    """Seeded ``(m, batch_size)`` pairs, most with m not a multiple of batch_size."""
    rng = np.random.default_rng(seed)
    cases = []
    for k in range(count):
        m = int(rng.integers(2, 300))
        if k % 4 == 0:
            batch_size = int(rng.integers(1, 6))
        elif k % 4 == 1:
            batch_size = int(rng.integers(m + 1, m + 50))  # larger than m
        else:
            batch_size = int(rng.integers(2, max(3, m // 2)))
            if m % batch_size == 0:
                m += 1
        cases.append((m, batch_size))
    return cases


# =================================================================================================
# part (b): batch-averaged gradients of a one-hidden-layer network
# =================================================================================================


def check_sigmoid(
    func: Callable, z: Any, part: str = "part (b)", hidden: str | None = None
) -> None:
    """``func(z)`` against ``course.activations.sigmoid``, with numpy's overflow an error."""
    __tracebackhide__ = True
    from course.activations import sigmoid as reference_sigmoid

    z = np.array(z, dtype=np.float64)
    if hidden is None:
        where = f"z between {z.min():g} and {z.max():g}"
    else:
        where = f"z of shape {z.shape}; hidden case: {hidden}"
    try:
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            got = checks.call_student(func, z.copy(), part=part, forbid=FORBID)
    except FloatingPointError as exc:
        raise checks.CheckFailure(
            f"Your sigmoid is not numerically stable ({where}): "
            f'numpy reported "{exc}". np.exp(-z) overflows for z below -709 (and np.exp(z) '
            "above 709). Compute the sigmoid so that np.exp only ever sees numbers <= 0: for "
            "negative z, the fraction 1 / (1 + e^(-z)) can be rewritten (multiply its numerator "
            "and denominator by the same number). Note that np.where(condition, a, b) "
            "evaluates BOTH a and b for every entry.",
            name="sigmoid(z)",
            problem="unstable",
        ) from None
    checks.check_array(
        "sigmoid(z)",
        got,
        reference_sigmoid(z),
        rtol=1e-7,
        atol=1e-12,
        context=where,
        mistakes={
            "you computed sigma(-z) = 1 - sigma(z): the sign of the exponent is "
            "flipped.": reference_sigmoid(-z)
        },
    )


def reference_gradients(
    X: np.ndarray, Y: np.ndarray, params: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """dJ/dparam from ``course.mlp.MLP`` (sigmoid hidden, sigmoid output, BCE), output first."""
    from course.mlp import MLP

    n0, n1, n2 = X.shape[0], params["W1"].shape[0], params["W2"].shape[0]
    net = MLP([n0, n1, n2], hidden="sigmoid", output="sigmoid", loss="bce", init="zeros")
    net.params = _copy(params)
    grads = net.gradients(np.array(X, dtype=np.float64), np.array(Y, dtype=np.float64))
    return {k: grads[k] for k in ORDER}


def cost(X: np.ndarray, Y: np.ndarray, params: Mapping[str, np.ndarray]) -> float:
    """J: the binary cross-entropy averaged over the batch, computed from Z2 (no log(0)), by
    ``course.losses``."""
    from course.losses import OutputLoss

    A1 = _sigmoid(params["W1"] @ X + params["b1"])
    Z2 = params["W2"] @ A1 + params["b2"]
    return float(np.mean(OutputLoss("sigmoid", "bce").per_sample(Z2, _sigmoid(Z2), Y)))


def _variants(X: np.ndarray, Y: np.ndarray, params: Mapping[str, np.ndarray]) -> dict:
    """The gradients that the usual mistakes produce (for ``mistakes=``), by key."""
    W1, b1, W2, b2 = (params[k] for k in KEYS)
    m = X.shape[1]
    Z1 = W1 @ X + b1
    A1 = _sigmoid(Z1)
    Yhat = _sigmoid(W2 @ A1 + b2)

    def grads(dZ2: np.ndarray, slope: np.ndarray) -> dict[str, np.ndarray]:
        dZ1 = (W2.T @ dZ2) * slope
        return {
            "W2": dZ2 @ A1.T,
            "b2": dZ2.sum(axis=1, keepdims=True),
            "W1": dZ1 @ X.T,
            "b1": dZ1.sum(axis=1, keepdims=True),
        }

    dZ2 = (Yhat - Y) / m
    right_slope = A1 * (1 - A1)
    found: dict[str, dict[str, np.ndarray]] = {k: {} for k in KEYS}

    def add(text: str, g: dict[str, np.ndarray], keys: Iterable[str]) -> None:
        for k in keys:
            found[k][text] = g[k]

    add(
        "you used the activation sigma(Z1) where its derivative sigma'(Z1) belongs: backprop "
        "multiplies by the slope of the hidden activation, not its value.",
        grads(dZ2, A1),
        ("W1", "b1"),
    )
    add(
        "you evaluated the sigmoid's derivative at the pre-activation Z1: the formula written "
        "with the sigmoid's value takes the activation A1 = sigma(Z1), not Z1.",
        grads(dZ2, Z1 * (1 - Z1)),
        ("W1", "b1"),
    )
    add(
        "you multiplied the output error by an extra sigma'(Z2). With a sigmoid output and "
        "the cross-entropy, that factor cancels against the derivative of the loss (your "
        "formula belongs to the squared error): see the error term of part (b).",
        grads(dZ2 * Yhat * (1 - Yhat), right_slope),
        KEYS,
    )
    return found


def _per_example(X: np.ndarray, Y: np.ndarray, params: Mapping[str, np.ndarray]) -> dict:
    """The (n, m) per-example contributions whose sum over the batch is each bias gradient."""
    m = X.shape[1]
    A1 = _sigmoid(params["W1"] @ X + params["b1"])
    Yhat = _sigmoid(params["W2"] @ A1 + params["b2"])
    dZ2 = (Yhat - Y) / m
    dZ1 = (params["W2"].T @ dZ2) * A1 * (1 - A1)
    return {"b2": dZ2, "b1": dZ1}


def gradient_case(
    seed: int, n0: int = 2, n1: int = 3, n2: int = 1, m: int = 5, scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """A seeded batch ``X (n0, m)``, 0/1 targets ``Y (n2, m)`` and parameters of that network.

    ``scale`` multiplies the weights and biases (large values saturate the sigmoids).
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n0, m))
    Y = (rng.uniform(size=(n2, m)) < 0.5).astype(np.float64)
    params = {
        "W1": scale * rng.normal(size=(n1, n0)),
        "b1": scale * rng.normal(size=(n1, 1)),
        "W2": scale * rng.normal(size=(n2, n1)),
        "b2": scale * rng.normal(size=(n2, 1)),
    }
    return X, Y, params


def random_gradient_case(seed: int) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Random shapes and batch size (1 included), moderate values."""
    rng = np.random.default_rng(seed)
    n0, n1, n2 = (int(rng.integers(1, 7)), int(rng.integers(1, 9)), int(rng.integers(1, 4)))
    m = int(rng.choice([1, 2, 3, 7, 16, 33]))
    return gradient_case(seed + 1000, n0, n1, n2, m, scale=float(rng.uniform(0.5, 2.0)))


def large_case(seed: int, m: int = 6) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """A batch whose pre-activations reach |z| of about 1e4 (and some stay small)."""
    X, Y, params = gradient_case(seed, n0=3, n1=4, n2=1, m=m)
    X[:, : m // 2] *= 100.0
    params["W1"] *= 40.0
    params["W2"] *= 3000.0
    return X, Y, params


def check_mlp_gradients(
    func: Callable,
    X: np.ndarray,
    Y: np.ndarray,
    params: Mapping[str, np.ndarray],
    *,
    numeric: bool = True,
    stable: bool = False,
    part: str = "part (b)",
    hidden: str | None = None,
) -> None:
    """Run ``func(X, Y, params)`` and compare with ``course.mlp.MLP`` and finite differences.

    ``stable``: run the student's code with numpy's overflow (and 0/0, x/0) turned into errors,
    for pre-activations as large as 1e4.
    """
    __tracebackhide__ = True
    X = np.array(X, dtype=np.float64)
    Y = np.array(Y, dtype=np.float64)
    params = _copy(params)
    keep = (X.copy(), Y.copy(), _copy(params))
    m = X.shape[1]
    shapes = f"n0, n1, n2 = {X.shape[0]}, {params['W1'].shape[0]}, {params['W2'].shape[0]}"
    where = f"batch of m = {m}, {shapes}" + (f"; hidden case: {hidden}" if hidden else "")
    if stable:
        z_max = max(
            float(np.abs(params["W1"] @ X + params["b1"]).max()),
            float(np.abs(params["W2"] @ _sigmoid(params["W1"] @ X + params["b1"])).max()),
        )
        if hidden is None:
            where += f", pre-activations up to |z| = {z_max:.0f}"
        try:
            with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
                got = checks.call_student(func, X, Y, params, part=part, forbid=FORBID)
        except FloatingPointError as exc:
            if "overflow" in str(exc):
                hint = (
                    "For large |z|, np.exp(-z) or np.exp(z) overflows (e^710 is already inf). "
                    "Compute the sigmoid so that np.exp only ever sees numbers <= 0 (your "
                    "sigmoid must pass its own test first), and note that np.where(condition, "
                    "a, b) evaluates BOTH branches for every entry."
                )
            else:
                hint = (
                    "A saturated sigmoid is exactly 0 or 1 in floating point, so dividing by "
                    "sigma'(Z2) or taking log(Yhat) divides by 0. With a sigmoid output and "
                    "the cross-entropy, the sigma' factors cancel on paper: compute the output "
                    "error term in its simplified form (part (b)), never through that quotient."
                )
            raise checks.CheckFailure(
                f"Your mlp_gradients is not numerically stable ({where}): numpy reported "
                f'"{exc}". {hint}',
                name="mlp_gradients",
                problem="unstable",
            ) from None
    else:
        got = checks.call_student(func, X, Y, params, part=part, forbid=FORBID)
    for label, before, after in (
        ("X", keep[0], X),
        ("Y", keep[1], Y),
        *((f"params[{k!r}]", keep[2][k], params[k]) for k in KEYS),
    ):
        if not np.array_equal(before, after):
            raise checks.CheckFailure(
                f"Your mlp_gradients changed its input {label} ({where}). It must only read "
                "X, Y and params: compute new arrays (A = ..., not A += ... on an input).",
                name=label,
                problem="changed_input",
            )
    expected = reference_gradients(X, Y, params)
    checks.check_gradients(
        got,
        expected,
        context=where,
        m=m,
        per_example=_per_example(X, Y, params),
        mistakes=_variants(X, Y, params),
    )
    if numeric:
        for key in ORDER:

            def f(value: np.ndarray, key: str = key) -> float:
                return cost(X, Y, {**params, key: value})

            checks.numeric_gradient_check(
                f,
                params[key],
                got[key],
                f"gradient for {key!r}",
                context=f"{where}, compared with centred finite differences of J",
                m=m,
            )


# =================================================================================================
# part (c): momentum and Adam
# =================================================================================================


def momentum_state(params: Mapping[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """The state before the first momentum step: ``{"v": {name: zeros like params[name]}}``."""
    return {"v": {k: np.zeros_like(p, dtype=np.float64) for k, p in params.items()}}


def adam_state(params: Mapping[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """The state before the first Adam step: ``{"m": {name: zeros}, "v": {name: zeros}}``."""
    return {
        "m": {k: np.zeros_like(p, dtype=np.float64) for k, p in params.items()},
        "v": {k: np.zeros_like(p, dtype=np.float64) for k, p in params.items()},
    }


def update_case(seed: int, shapes: dict[str, tuple[int, ...]] | None = None) -> dict:
    """Seeded parameters and a gradient sequence; every |g| is in [0.2, 2] (eps stays tiny)."""
    rng = np.random.default_rng(seed)
    if shapes is None:
        n0, n1, n2 = (int(rng.integers(1, 6)) for _ in range(3))
        shapes = {"W1": (n1, n0), "b1": (n1, 1), "W2": (n2, n1), "b2": (n2, 1)}
    params = {k: rng.normal(size=s) for k, s in shapes.items()}

    def grad() -> dict[str, np.ndarray]:
        return {
            k: rng.choice([-1.0, 1.0], size=s) * rng.uniform(0.2, 2.0, size=s)
            for k, s in shapes.items()
        }

    return {"params": params, "grads": [grad() for _ in range(8)]}


def _check_returned_copy(result: object, params: dict, before: dict, name: str, where: str) -> None:
    """A function that returns new parameters instead of updating the dict it was given."""
    __tracebackhide__ = True
    unchanged = all(np.array_equal(params[k], before[k]) for k in before)
    if unchanged and isinstance(result, Mapping) and set(before) <= set(result):
        raise checks.CheckFailure(
            f"Your {name} returned new parameters but left the dict params unchanged ({where}). "
            "Update params in place: params[name] += step (or params[name] = new array); the "
            "training loop keeps using the same dict.",
            name=name,
            problem="not_in_place",
        )


UNCHANGED = (
    "params did not change: update the dict you were given in place (params[name] += step, "
    "or params[name] = new array), not a copy of it or a new local dict."
)


def _check_unchanged(grads: dict, grads_keep: dict, name: str, where: str) -> None:
    __tracebackhide__ = True
    for k in grads_keep:
        if not np.array_equal(grads[k], grads_keep[k]):
            raise checks.CheckFailure(
                f"Your {name} changed grads[{k!r}] ({where}). It must only read the gradients: "
                "compute with them into new arrays, never in place on g (no g *= ... or "
                "g -= ...).",
                name=f"grads[{k!r}]",
                problem="changed_input",
            )


def _state_array(state: object, slot: str, key: str, name: str, where: str) -> object:
    __tracebackhide__ = True
    if not isinstance(state, Mapping) or slot not in state:
        raise checks.CheckFailure(
            f"After your {name}, the state dict has no entry {slot!r} ({where}). Keep the "
            f"running averages in the dict you were given: state[{slot!r}][name].",
            name=f"state[{slot!r}]",
            problem="missing_state",
        )
    inner = state[slot]
    if not isinstance(inner, Mapping) or key not in inner:
        raise checks.CheckFailure(
            f"After your {name}, state[{slot!r}] has no entry {key!r} ({where}): keep one "
            f"array per parameter, state[{slot!r}][{key!r}] with the shape of params[{key!r}].",
            name=f"state[{slot!r}][{key!r}]",
            problem="missing_state",
        )
    return inner[key]


def check_momentum(
    func: Callable,
    seed: int,
    lr: float = 0.1,
    beta: float = 0.9,
    steps: int = 5,
    shapes: dict[str, tuple[int, ...]] | None = None,
    part: str = "part (c)",
    hidden: str | None = None,
) -> None:
    """Several steps of ``func(params, grads, state, lr, beta)`` against course.optim.Momentum."""
    __tracebackhide__ = True
    from course.optim import Momentum

    case = update_case(seed, shapes)
    params = _copy(case["params"])
    state = momentum_state(params)
    name = "momentum_step"
    for t, grads in enumerate(case["grads"][:steps], start=1):
        where = f"step {t}, " + (
            f"lr = {lr:g}, beta = {beta:g}" if hidden is None else f"hidden case: {hidden}"
        )
        before, v_before, grads_keep = _copy(params), _copy(state["v"]), _copy(grads)
        ref_params = _copy(before)
        opt = Momentum(lr, beta)
        opt.v = _copy(v_before)
        opt.step(ref_params, _copy(grads))
        result = checks.call_student(
            func, params, grads, state, lr, beta, part=f"{part}, {name}", forbid=FORBID
        )
        _check_unchanged(grads, grads_keep, name, where)
        _check_returned_copy(result, params, before, name, where)
        for k in before:
            v = v_before[k]
            g = grads_keep[k]
            new_v = beta * v - lr * g
            mistakes = {
                "you forgot the learning rate in the velocity's update.": beta * v - g,
                "you took a plain gradient-descent step without the velocity: momentum keeps a "
                "fraction beta of the previous step.": -lr * g,
            }
            if np.any(v):
                mistakes.update(
                    {
                        "the step is applied with the wrong sign: this problem set's velocity "
                        "already points downhill, so check the sign with which theta takes "
                        "it.": -new_v,
                        "the velocity has the wrong sign: gradient descent goes against the "
                        "gradient; check the sign of the gradient's term in your velocity's "
                        "update.": beta * v + lr * g,
                        "you moved theta with the OLD velocity: update the velocity first, then "
                        "move theta with the new one.": v,
                        UNCHANGED: np.zeros_like(v),
                    }
                )
            else:  # the first step: v = 0, so several mistakes give the same numbers
                mistakes[
                    "the step goes uphill, along the gradient instead of against it: check "
                    "the sign of the gradient's term in the velocity and the sign with which "
                    "theta takes the velocity."
                ] = -new_v
                mistakes[
                    "params did not change in the first step. Either you moved theta with the "
                    "OLD velocity (0 at the first step: update the velocity first, then move "
                    "theta with the new one), or you did not update the dict you were given in "
                    "place (params[name] += ..., or params[name] = new array)."
                ] = np.zeros_like(v)
            checks.check_array(
                f"step of params[{k!r}] (new value - old value)",
                np.asarray(params[k], dtype=np.float64) - before[k],
                ref_params[k] - before[k],
                context=where,
                mistakes=mistakes,
            )
        for k in before:
            got_v = _state_array(state, "v", k, name, where)
            checks.check_array(
                f"velocity state['v'][{k!r}]",
                got_v,
                opt.v[k],
                context=where,
                mistakes={
                    "you stored the other convention of momentum: a running sum of the "
                    "gradients, with the learning rate applied only when theta moves. This "
                    "problem set's velocity is the step itself, learning rate and sign "
                    "included (part (c)): store that in state['v'].": -opt.v[k] / lr,
                },
            )


def _adam_mistakes(
    m0: np.ndarray,
    v0: np.ndarray,
    g: np.ndarray,
    lr: float,
    b1: float,
    b2: float,
    eps: float,
    t: int,
) -> dict[str, np.ndarray]:
    m = b1 * m0 + (1 - b1) * g
    v = b2 * v0 + (1 - b2) * g * g
    mh, vh = m / (1 - b1**t), v / (1 - b2**t)
    found = {
        "no bias correction: you moved theta with the running averages m and v themselves, "
        "where Adam uses their bias-corrected versions m_hat and v_hat. The averages start at "
        "0, so without the correction the first steps are far too small or too large.": -lr
        * m
        / (np.sqrt(v) + eps),
        "only m is bias-corrected: v needs its correction too (with its own beta).": -lr
        * mh
        / (np.sqrt(v) + eps),
        "only v is bias-corrected: m needs its correction too (with its own beta).": -lr
        * m
        / (np.sqrt(vh) + eps),
        "the square root is missing: v_hat averages SQUARED gradients, so look at what the "
        "step divides m_hat by.": -lr * mh / (vh + eps),
        "beta1 and beta2 are swapped: check which running average each one belongs "
        "to.": _adam_step_only(m0, v0, g, lr, b2, b1, eps, t),
        "the bias correction used the wrong t: t is the number of this step, 1 on the first "
        "step (use the t you are given, do not count steps yourself).": _adam_step_only(
            m0, v0, g, lr, b1, b2, eps, t + 1
        ),
    }
    if t != 1:
        found[
            "you used t = 1 in the bias correction, but this is step t = "
            f"{t}: use the t you are given (the step number), do not count steps yourself."
        ] = _adam_step_only(m0, v0, g, lr, b1, b2, eps, 1)
    if t > 1:
        found[
            "the bias correction used t - 1: t is the number of this step, 1 on the first step."
        ] = _adam_step_only(m0, v0, g, lr, b1, b2, eps, t - 1)
    return found


def _adam_step_only(m0, v0, g, lr, b1, b2, eps, t) -> np.ndarray:
    m = b1 * m0 + (1 - b1) * g
    v = b2 * v0 + (1 - b2) * g * g
    return -lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)


def check_adam(
    func: Callable,
    seed: int,
    lr: float = 0.01,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    steps: int = 5,
    t0: int = 1,
    warm: bool = False,
    shapes: dict[str, tuple[int, ...]] | None = None,
    part: str = "part (c)",
    hidden: str | None = None,
) -> None:
    """Several steps of ``func(params, grads, state, lr, beta1, beta2, eps, t)`` from ``t0``.

    Compared with course.optim.Adam. ``warm``: start from a non-zero state, as when a run
    resumes at step ``t0``.
    """
    __tracebackhide__ = True
    from course.optim import Adam

    case = update_case(seed, shapes)
    params = _copy(case["params"])
    state = adam_state(params)
    if warm:
        rng = np.random.default_rng(seed + 1)
        for k in params:
            state["m"][k] = 0.3 * rng.normal(size=params[k].shape)
            state["v"][k] = rng.uniform(0.05, 1.0, size=params[k].shape)
    name = "adam_step"
    for t, grads in enumerate(case["grads"][:steps], start=t0):
        where = f"step t = {t}, " + (
            f"lr = {lr:g}, beta1 = {beta1:g}, beta2 = {beta2:g}, eps = {eps:g}"
            if hidden is None
            else f"hidden case: {hidden}"
        )
        before, grads_keep = _copy(params), _copy(grads)
        m_before, v_before = _copy(state["m"]), _copy(state["v"])
        ref_params = _copy(before)
        opt = Adam(lr, beta1, beta2, eps)
        opt.m, opt.v, opt.t = _copy(m_before), _copy(v_before), t - 1
        opt.step(ref_params, _copy(grads))
        result = checks.call_student(
            func,
            params,
            grads,
            state,
            lr,
            beta1,
            beta2,
            eps,
            t,
            part=f"{part}, {name}",
            forbid=FORBID,
        )
        _check_unchanged(grads, grads_keep, name, where)
        _check_returned_copy(result, params, before, name, where)
        for k in before:
            mistakes = _adam_mistakes(
                m_before[k], v_before[k], grads_keep[k], lr, beta1, beta2, eps, t
            )
            mistakes[UNCHANGED] = np.zeros_like(before[k])
            checks.check_array(
                f"step of params[{k!r}] (new value - old value)",
                np.asarray(params[k], dtype=np.float64) - before[k],
                ref_params[k] - before[k],
                context=where,
                mistakes=mistakes,
            )
        for k in before:
            g = grads_keep[k]
            checks.check_array(
                f"first moment state['m'][{k!r}]",
                _state_array(state, "m", k, name, where),
                opt.m[k],
                context=where,
                mistakes={
                    "you stored the bias-corrected m_hat in the state; keep the running "
                    "average m itself there (m_hat is recomputed from it every "
                    "step).": opt.m[k] / (1 - beta1**t),
                    "the new gradient enters m with the wrong weight: in a running (moving) "
                    "average, the weights of the old average and of the new value add up to "
                    "1.": beta1 * m_before[k] + g,
                },
            )
            checks.check_array(
                f"second moment state['v'][{k!r}]",
                _state_array(state, "v", k, name, where),
                opt.v[k],
                context=where,
                mistakes={
                    "you stored the bias-corrected v_hat in the state; keep the running "
                    "average v itself there.": opt.v[k] / (1 - beta2**t),
                    "v averages the SQUARED gradients, not the gradients.": beta2 * v_before[k]
                    + (1 - beta2) * g,
                },
            )


# =================================================================================================
# part (d): training
# =================================================================================================


def moons_split(
    seed: int = 0, m: int = 400, noise: float = 0.1
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``X_train (2, 300), Y_train (1, 300), X_test (2, 100), Y_test (1, 100)`` from
    ``course.data.moons`` (0/1 float targets), split 75/25 with both classes in proportion."""
    from course.data import moons, train_test_split

    X, y = moons(m=m, noise=noise, seed=seed)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_fraction=0.25, seed=seed, stratify=True)
    Y_tr = y_tr.reshape(1, -1).astype(np.float64)
    Y_te = y_te.reshape(1, -1).astype(np.float64)
    return X_tr, Y_tr, X_te, Y_te


def predict(params: Mapping[str, np.ndarray], X: np.ndarray) -> np.ndarray:
    """0/1 predictions ``(1, m)`` by ``course.mlp.MLP``: 1 where sigma(Z2) > 1/2.

    Where ``course.mlp`` is not available (in the student's kernel while the assignment is
    graded), the same forward pass in numpy, written out here rather than with this module's
    sigmoid (which the kernel does not get), predicting 1 where ``Z2 > 0``: the same decisions
    except for a ``Z2`` within rounding of 0.
    """
    try:
        from course.mlp import MLP
    except ImportError:
        p = _copy(params)
        Z1 = p["W1"] @ np.asarray(X, dtype=np.float64) + p["b1"]
        A1 = 0.5 * (1.0 + np.tanh(0.5 * Z1))
        Z2 = p["W2"] @ A1 + p["b2"]
        return (Z2[0] > 0).astype(np.float64).reshape(1, -1)
    n0, h = params["W1"].shape[1], params["W1"].shape[0]
    net = MLP([n0, h, 1], hidden="sigmoid", output="sigmoid", loss="bce", init="zeros")
    net.params = _copy(params)
    return net.predict(np.asarray(X, dtype=np.float64)).reshape(1, -1).astype(np.float64)


def accuracy(params: Mapping[str, np.ndarray], X: np.ndarray, Y: np.ndarray) -> float:
    """Fraction of the columns of ``X`` classified right (``Y`` holds 0/1 targets ``(1, m)``)."""
    return float(np.mean(predict(params, X) == np.asarray(Y).reshape(1, -1)))


def _check_trained_params(got: object, n0: int) -> dict[str, np.ndarray]:
    __tracebackhide__ = True
    if got is None:
        raise checks.CheckFailure(
            "Your train returned None. Did you forget `return params`? It should return the "
            "trained parameters {'W1': ..., 'b1': ..., 'W2': ..., 'b2': ...}.",
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
    missing = [k for k in KEYS if k not in got]
    if missing:
        raise checks.CheckFailure(
            f"The dict returned by train has no {', '.join(map(repr, missing))}: it must hold "
            "W1, b1, W2 and b2.",
            name="train",
            problem="missing_keys",
        )
    params = {k: checks._as_array(f"params[{k!r}] from train", got[k]) for k in KEYS}
    h = params["W1"].shape[0] if params["W1"].ndim == 2 else -1
    want = {"W1": (h, n0), "b1": (h, 1), "W2": (1, h), "b2": (1, 1)}
    for k in KEYS:
        if params[k].shape != want[k] or h < 1:
            raise checks.CheckFailure(
                f"params[{k!r}] from train has shape {params[k].shape}; for {n0} inputs, h "
                f"hidden units and one output the shapes are W1 ({h}, {n0}), b1 ({h}, 1), "
                f"W2 (1, {h}), b2 (1, 1).",
                name=f"params[{k!r}] from train",
                problem="wrong_shape",
            )
        if not np.all(np.isfinite(params[k])):
            raise checks.CheckFailure(
                f"params[{k!r}] from train contains nan or inf: the training diverged. Lower "
                "the learning rate, and check parts (b) and (c) first.",
                name=f"params[{k!r}] from train",
                problem="not_finite",
            )
    return params


def _turned(
    X_tr: np.ndarray, Y_tr: np.ndarray, X_te: np.ndarray, Y_te: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The same split turned about the training points' centre by an angle of 60 to 300
    degrees drawn from ``seed``, with the labels swapped (0 <-> 1)."""
    angle = np.deg2rad(np.random.default_rng(10_000 + seed).uniform(60.0, 300.0))
    R = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    centre = X_tr.mean(axis=1, keepdims=True)
    return R @ (X_tr - centre) + centre, 1.0 - Y_tr, R @ (X_te - centre) + centre, 1.0 - Y_te


def check_training(
    func: Callable,
    data_seed: int = 0,
    train_seed: int = 0,
    threshold: float = THRESHOLD,
    part: str = "part (d)",
    hidden: str | None = None,
) -> None:
    """Train on a moons split and require ``threshold`` accuracy on its held-out points.

    Returns nothing: a number as the last value of a test cell would be read by nbgrader as
    partial credit.

    A hidden check trains on the moons turned about their centre by an angle drawn from
    ``data_seed``, with the two labels swapped (:func:`_turned`): a network learns it as well,
    but weights trained in advance and returned whatever the data (which pass on the moons
    themselves) classify it no better than chance.
    """
    __tracebackhide__ = True
    X_tr, Y_tr, X_te, Y_te = moons_split(data_seed)
    if hidden is not None:
        X_tr, Y_tr, X_te, Y_te = _turned(X_tr, Y_tr, X_te, Y_te, data_seed)
    got = checks.call_student(
        func, X_tr.copy(), Y_tr.copy(), seed=train_seed, part=part, forbid=FORBID_TRAINING
    )
    params = _check_trained_params(got, X_tr.shape[0])
    train_acc = accuracy(params, X_tr, Y_tr)
    test_acc = accuracy(params, X_te, Y_te)
    if hidden is None:
        where = f"moons data seed {data_seed}, train(X, Y, seed={train_seed})"
    else:
        where = f"hidden case: {hidden}"
    if test_acc < threshold:
        if train_acc < threshold:
            hint = checks.Diagnosis(
                "underfitting",
                "The training accuracy is low too: the network has not learned the training "
                "set yet (underfitting). Train longer (more epochs), use a larger learning "
                "rate or more hidden units, and make sure parts (a)-(c) pass their tests: a "
                "wrong gradient or update rule trains badly or not at all.",
            )
        else:
            hint = checks.Diagnosis(
                "overfitting",
                "The training accuracy is fine but the held-out accuracy is not: the network "
                "learned the training points too specifically. Use fewer epochs or hidden "
                "units.",
            )
        raise checks.CheckFailure(
            f"Your trained network classifies {test_acc:.1%} of the {Y_te.shape[1]} held-out "
            f"points right ({where}); at least {threshold:.0%} is required. Training "
            f"accuracy: {train_acc:.1%}.\n  {hint.message}",
            name="train",
            problem="low_accuracy",
            diagnoses=[hint],
        )
    print(
        f"{where}: held-out accuracy {test_acc:.1%} (required {threshold:.0%}), "
        f"training accuracy {train_acc:.1%}."
    )


__all__ = [
    "FORBID",
    "FORBID_TRAINING",
    "THRESHOLD",
    "accuracy",
    "adam_state",
    "check_adam",
    "check_batches",
    "check_momentum",
    "check_mlp_gradients",
    "check_shuffling",
    "check_sigmoid",
    "check_training",
    "cost",
    "expected_sizes",
    "gradient_case",
    "large_case",
    "momentum_state",
    "moons_split",
    "predict",
    "random_batch_cases",
    "random_gradient_case",
    "reference_gradients",
    "update_case",
]
