"""Data for training: the mini-batch generator and small offline datasets.

Everything here follows the course's column-vector notation: a data matrix ``X`` has shape
``(n_0, m)`` with ONE SAMPLE PER COLUMN, class labels ``y`` are integer arrays of shape ``(m,)``,
one-hot targets ``T`` have shape ``(K, m)`` and regression targets have shape ``(1, m)``.
The :class:`BatchGenerator` is the lecture's "chunker": every pass over it is one epoch, a fresh
random permutation of the sample indices cut into mini-batches. The datasets (logic gates,
moons, circles, spirals, blobs, a noisy sine for the overfitting study) are generated with numpy
from a seed, so nothing is downloaded and every run of a notebook sees the same numbers; the
handwritten digits come from the copy that ships inside scikit-learn.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator

import numpy as np
from numpy.typing import ArrayLike

from course.arguments import array, choice, integer, real

__all__ = [
    "BatchGenerator",
    "minibatches",
    "one_hot",
    "LOGIC_GATES",
    "logic_gate",
    "xor",
    "moons",
    "circles",
    "spirals",
    "blobs",
    "noisy_regression",
    "regression_truth",
    "load_digits",
    "train_test_split",
]

#: The gates :func:`logic_gate` knows, each as a function of two booleans.
LOGIC_GATES = {
    "and": lambda a, b: a and b,
    "or": lambda a, b: a or b,
    "nand": lambda a, b: not (a and b),
    "nor": lambda a, b: not (a or b),
    "xor": lambda a, b: a != b,
    "xnor": lambda a, b: a == b,
}


# --------------------------------------------------------------------------------------------
# argument checks
# --------------------------------------------------------------------------------------------


def _check_data_matrix(name: str, X: ArrayLike) -> np.ndarray:
    """Return ``X`` as an array of shape ``(n_0, m)``, else raise."""
    return array(
        name,
        X,
        ndim=2,
        finite=False,
        what="a 2-D data matrix of shape (n_0, m), one sample per column",
        fix=f"for a single feature pass {name}.reshape(1, -1)",
    )


def _check_targets(name: str, Y: ArrayLike, m: int, x_name: str, x_shape: tuple) -> np.ndarray:
    """Return ``Y`` as an array of shape ``(m,)`` or ``(k, m)`` matching ``m`` columns."""
    Y = np.asarray(Y)
    if Y.ndim not in (1, 2):
        raise ValueError(
            f"{name} must have shape (m,) (labels) or (k, m) (one target per column), "
            f"got shape {Y.shape}: reshape it so that samples run along the last axis"
        )
    if Y.shape[-1] != m:
        hint = " (if it is (m, k), pass its transpose)" if Y.ndim == 2 and Y.shape[0] == m else ""
        raise ValueError(
            f"{x_name} has shape {x_shape} ({m} columns) but {name} has shape {Y.shape} "
            f"({Y.shape[-1]} columns): both must hold one sample per column, pass arrays "
            f"with the same number of columns m{hint}"
        )
    return Y


# --------------------------------------------------------------------------------------------
# mini-batches
# --------------------------------------------------------------------------------------------


class BatchGenerator:
    """The lecture's "chunker": split the sample indices ``0..m-1`` into mini-batches.

    Iterating over the generator once yields one EPOCH: a sequence of integer index arrays
    (shape ``(batch_size,)``, the last one ``(m - (len(gen) - 1) * batch_size,)``) in which every
    index ``0..m-1`` appears exactly once. Each new iteration draws a NEW permutation from the
    generator's own random number generator, so the order changes from epoch to epoch, while
    two generators built with the same ``seed`` produce identical sequences of epochs.

    Parameters
    ----------
    m:
        Number of samples (columns of the data matrix ``(n_0, m)``), ``m >= 1``.
    batch_size:
        Samples per mini-batch, ``>= 1``. A value larger than ``m`` gives one batch of ``m``.
    seed:
        Seed (or ``np.random.Generator``) for ``np.random.default_rng``; ``None`` = fresh entropy.
    shuffle:
        If ``False`` every epoch visits the samples in the order ``0, 1, ..., m-1``.

    Examples
    --------
    >>> [len(idx) for idx in BatchGenerator(32, 12)]
    [12, 12, 8]
    """

    def __init__(self, m: int, batch_size: int, seed: int | None = 0, shuffle: bool = True) -> None:
        self.m = integer("m", m, at_least=1, fix="pass the number of samples, m = X.shape[1]")
        self.batch_size = integer("batch_size", batch_size, at_least=1, example=32)
        self.shuffle = bool(shuffle)
        self.seed = seed
        self._rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        """Number of mini-batches per epoch, ``ceil(m / batch_size)``."""
        return -(-self.m // self.batch_size)

    def __iter__(self) -> Iterator[np.ndarray]:
        """Yield the index arrays of one epoch (a new permutation each time)."""
        order = self._rng.permutation(self.m) if self.shuffle else np.arange(self.m)
        return self._chunks(order)

    def _chunks(self, order: np.ndarray) -> Iterator[np.ndarray]:
        for start in range(0, self.m, self.batch_size):
            yield order[start : start + self.batch_size]

    def __repr__(self) -> str:
        return (
            f"BatchGenerator(m={self.m}, batch_size={self.batch_size}, seed={self.seed!r}, "
            f"shuffle={self.shuffle})"
        )


def minibatches(
    X: ArrayLike,
    Y: ArrayLike,
    batch_size: int,
    seed: int | None = 0,
    shuffle: bool = True,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """An iterator over ``(X[:, idx], Y[..., idx])`` for the mini-batches of ONE epoch.

    The arguments are checked when ``minibatches`` is called, not when the first batch is taken.

    Parameters
    ----------
    X:
        Data matrix of shape ``(n_0, m)``, one sample per column.
    Y:
        Targets of shape ``(k, m)`` (one-hot or regression targets) or labels of shape ``(m,)``.
    batch_size, seed, shuffle:
        As for :class:`BatchGenerator`.

    Yields
    ------
    ``X_batch`` of shape ``(n_0, b)`` and ``Y_batch`` of shape ``(k, b)`` or ``(b,)``, where ``b``
    is ``batch_size`` except for a smaller last batch.
    """
    X = _check_data_matrix("X", X)
    Y = _check_targets("Y", Y, X.shape[1], "X", X.shape)
    if X.shape[1] == 0:
        raise ValueError("X has no columns (m = 0): pass at least one sample")
    batches = BatchGenerator(X.shape[1], batch_size, seed=seed, shuffle=shuffle)
    return ((X[:, idx], Y[..., idx]) for idx in batches)  # checked now, not at the first batch


# --------------------------------------------------------------------------------------------
# labels
# --------------------------------------------------------------------------------------------


def _format_values(values: np.ndarray, limit: int = 10) -> str:
    values = np.unique(values)
    shown = ", ".join(repr(v.item()) for v in values[:limit])
    return shown + (f", ... ({values.size} distinct values)" if values.size > limit else "")


def one_hot(y: ArrayLike, num_classes: int | None = None) -> np.ndarray:
    """One-hot encode integer class labels: ``(m,)`` labels in ``[0, K)`` -> ``(K, m)`` targets.

    Column ``j`` of the result is the unit vector ``e_{y_j}``: ``T[y[j], j] = 1``, all else 0.

    Parameters
    ----------
    y:
        Labels of shape ``(m,)``, integers in ``[0, K)``. Floats are accepted only if they hold
        whole numbers (``2.0``).
    num_classes:
        ``K``. Default: ``max(y) + 1``.

    Returns
    -------
    ``T`` of shape ``(K, m)``, dtype float64.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(
            f"y must be a 1-D array of labels of shape (m,), got shape {y.shape}: pass y.ravel() "
            f"for a (1, m) row, or y.argmax(axis=0) if it is already one-hot (K, m)"
        )
    if y.dtype.kind == "b":
        y = y.astype(np.int64)
    elif y.dtype.kind == "f":
        bad = y[~np.isfinite(y) | (y != np.round(y))]
        if bad.size:
            raise ValueError(
                f"y must contain integer class labels, got non-integer value(s) "
                f"{_format_values(bad)}: map the labels to the integers 0..K-1"
            )
        y = y.astype(np.int64)
    elif y.dtype.kind not in "iu":
        raise TypeError(
            f"y must contain integer class labels, got an array of dtype {y.dtype}: "
            f"map the labels to the integers 0..K-1 (e.g. with np.unique(y, return_inverse=True))"
        )
    if num_classes is None:
        if y.size == 0:
            raise ValueError("y is empty, so the number of classes is unknown: pass num_classes")
        if y.min() < 0:
            raise ValueError(
                f"y contains labels outside the valid range [0, K): got negative value(s) "
                f"{_format_values(y[y < 0])}: map the labels to the integers 0..K-1"
            )
        num_classes = int(y.max()) + 1
    else:
        fix = "pass the number of classes K (the labels run from 0 to K - 1)"
        num_classes = integer("num_classes", num_classes, at_least=1, fix=fix)
        bad = y[(y < 0) | (y >= num_classes)]
        if bad.size:
            raise ValueError(
                f"y contains labels outside the valid range [0, {num_classes}) "
                f"(num_classes={num_classes}): got {_format_values(bad)}: fix the labels or "
                f"pass a larger num_classes"
            )
    T = np.zeros((num_classes, y.size), dtype=np.float64)
    T[y, np.arange(y.size)] = 1.0
    return T


# --------------------------------------------------------------------------------------------
# datasets
# --------------------------------------------------------------------------------------------


def logic_gate(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Truth table of a two-input logic gate.

    Parameters
    ----------
    name:
        One of ``"and", "or", "nand", "nor", "xor", "xnor"`` (case-insensitive).

    Returns
    -------
    ``X`` of shape ``(2, 4)``: the inputs ``(0,0), (0,1), (1,0), (1,1)`` as columns, float64;
    ``y`` of shape ``(1, 4)``: the outputs as float targets ``0.`` / ``1.``.
    """
    gate = choice("name", name, LOGIC_GATES, example="xor", caller="logic_gate")
    inputs = [(0, 0), (0, 1), (1, 0), (1, 1)]
    X = np.array(inputs, dtype=np.float64).T
    y = np.array([[float(bool(gate(bool(a), bool(b)))) for a, b in inputs]])
    return X, y


def xor() -> tuple[np.ndarray, np.ndarray]:
    """The XOR problem: ``X`` of shape ``(2, 4)``, ``y`` of shape ``(1, 4)``.

    Shortcut for ``logic_gate("xor")``.
    """
    return logic_gate("xor")


def _class_sizes(m: int, k: int) -> list[int]:
    """Split ``m`` samples into ``k`` classes whose sizes differ by at most one."""
    return [m // k + (c < m % k) for c in range(k)]


def _shuffled(
    rng: np.random.Generator, X: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    perm = rng.permutation(y.size)
    return np.ascontiguousarray(X[:, perm], dtype=np.float64), y[perm].astype(np.int64)


def moons(m: int = 200, noise: float = 0.1, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles ("moons"), a 2-D set that no straight line separates.

    Class 0 is the upper arc ``(cos t, sin t)``, class 1 the lower arc
    ``(1 - cos t, 0.5 - sin t)``, ``t`` evenly spaced in ``[0, pi]``; then Gaussian noise of
    standard deviation ``noise`` is added to every coordinate and the columns are shuffled.

    Returns
    -------
    ``X`` of shape ``(2, m)`` float64 and ``y`` of shape ``(m,)`` int64 labels in ``{0, 1}``.
    """
    m = integer("m", m, at_least=2, example=200)
    noise = real("noise", noise, at_least=0, example=0.1)
    rng = np.random.default_rng(seed)
    m0, m1 = _class_sizes(m, 2)
    t0 = np.linspace(0.0, np.pi, m0)
    t1 = np.linspace(0.0, np.pi, m1)
    upper = np.stack([np.cos(t0), np.sin(t0)])
    lower = np.stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])
    X = np.concatenate([upper, lower], axis=1)
    X = X + noise * rng.standard_normal(X.shape)
    y = np.repeat([0, 1], [m0, m1])
    return _shuffled(rng, X, y)


def circles(
    m: int = 200, noise: float = 0.05, factor: float = 0.5, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles: class 0 on radius 1, class 1 on radius ``factor``.

    Angles are evenly spaced around each circle, Gaussian noise of standard deviation ``noise``
    is added to every coordinate and the columns are shuffled.

    Returns
    -------
    ``X`` of shape ``(2, m)`` float64 and ``y`` of shape ``(m,)`` int64 labels in ``{0, 1}``.
    """
    m = integer("m", m, at_least=2, example=200)
    noise = real("noise", noise, at_least=0, example=0.05)
    fix = "pass the inner radius over the outer one, e.g. factor=0.5"
    factor = real("factor", factor, greater_than=0, less_than=1, fix=fix)
    rng = np.random.default_rng(seed)
    m0, m1 = _class_sizes(m, 2)
    t0 = np.linspace(0.0, 2 * np.pi, m0, endpoint=False)
    t1 = np.linspace(0.0, 2 * np.pi, m1, endpoint=False)
    outer = np.stack([np.cos(t0), np.sin(t0)])
    inner = factor * np.stack([np.cos(t1), np.sin(t1)])
    X = np.concatenate([outer, inner], axis=1)
    X = X + noise * rng.standard_normal(X.shape)
    y = np.repeat([0, 1], [m0, m1])
    return _shuffled(rng, X, y)


def spirals(
    m: int = 300, classes: int = 3, noise: float = 0.2, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Spiral arms, one per class (a classic toy set that no straight line can split).

    Arm ``c`` has radii ``r`` evenly spaced in ``[0, 1]`` and angles evenly spaced in
    ``[4c, 4(c+1)]`` plus Gaussian noise of standard deviation ``noise`` (on the angle only,
    so every point stays inside the unit disc); the point is ``r (sin angle, cos angle)``.
    Columns are shuffled.

    Returns
    -------
    ``X`` of shape ``(2, m)`` float64 and ``y`` of shape ``(m,)`` int64 labels ``0..classes-1``.
    """
    classes = integer("classes", classes, at_least=2, example=3)
    m = integer("m", m, at_least=classes, example=100 * classes)
    noise = real("noise", noise, at_least=0, example=0.2)
    rng = np.random.default_rng(seed)
    sizes = _class_sizes(m, classes)
    arms = []
    for c, size in enumerate(sizes):
        r = np.linspace(0.0, 1.0, size)
        angle = np.linspace(4.0 * c, 4.0 * (c + 1), size) + noise * rng.standard_normal(size)
        arms.append(r * np.stack([np.sin(angle), np.cos(angle)]))
    X = np.concatenate(arms, axis=1)
    y = np.repeat(np.arange(classes), sizes)
    return _shuffled(rng, X, y)


def blobs(
    m: int = 200, centers: int | ArrayLike = 3, std: float = 0.5, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Isotropic Gaussian blobs, one per class.

    Parameters
    ----------
    m:
        Number of samples, ``>= `` the number of classes.
    centers:
        Either the number of classes ``K`` (the centers are then put evenly on a circle of
        radius 3 around the origin) or the centers themselves as columns, shape ``(2, K)``.
    std:
        Standard deviation of every blob.

    Returns
    -------
    ``X`` of shape ``(2, m)`` float64 and ``y`` of shape ``(m,)`` int64 labels ``0..K-1``.
    """
    if isinstance(centers, numbers.Real) or centers is None:  # a number of classes
        fix = "pass a number of classes such as centers=3, or the centers as columns (2, K)"
        k = integer("centers", centers, at_least=1, fix=fix)
        angle = 2 * np.pi * np.arange(k) / k
        C = 3.0 * np.stack([np.cos(angle), np.sin(angle)])
    else:
        C = array("centers", centers, dtype=np.float64)
        if C.ndim != 2 or C.shape[0] != 2 or C.shape[1] < 1:
            raise ValueError(
                f"centers must be a number of classes or a finite array of shape (2, K) with the "
                f"centers as columns, got shape {C.shape}: pass e.g. centers=3 or "
                f"centers=[[0, 2], [0, 2]]"
            )
        k = C.shape[1]
    m = integer("m", m, at_least=k, example=100 * k)
    std = real("std", std, at_least=0, example=0.5)
    rng = np.random.default_rng(seed)
    sizes = _class_sizes(m, k)
    y = np.repeat(np.arange(k), sizes)
    X = C[:, y] + std * rng.standard_normal((2, m))
    return _shuffled(rng, X, y)


def regression_truth(x: ArrayLike) -> np.ndarray:
    """The noiseless curve behind :func:`noisy_regression`: ``sin(2 pi x)``, same shape as ``x``.

    Pass e.g. ``np.linspace(0, 1, 200).reshape(1, -1)`` (shape ``(1, 200)``) to plot it.
    """
    return np.sin(2.0 * np.pi * array("x", x, finite=False, dtype=np.float64))


def noisy_regression(
    m: int = 20, noise: float = 0.1, seed: int | None = 12345
) -> tuple[np.ndarray, np.ndarray]:
    """A 1-D noisy regression set for the overfitting / polynomial-fit study.

    ``x`` is evenly spaced over ``[0, 1]`` (sorted, endpoints included) and
    ``y = sin(2 pi x) + noise * N(0, 1)``; see :func:`regression_truth` for the noiseless curve.

    Returns
    -------
    ``X`` of shape ``(1, m)`` and ``Y`` of shape ``(1, m)``, both float64.
    """
    m = integer("m", m, at_least=1, example=20)
    noise = real("noise", noise, at_least=0, example=0.1)
    rng = np.random.default_rng(seed)
    X = np.linspace(0.0, 1.0, m).reshape(1, m)
    Y = regression_truth(X) + noise * rng.standard_normal((1, m))
    return X, Y


def load_digits(scale: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The 8x8 handwritten digits shipped with the course (``course/datasets/digits.csv.gz``,
    the UCI set that scikit-learn also ships; nothing is downloaded).

    Returns
    -------
    ``X`` of shape ``(64, 1797)`` float64, one flattened image per column, with pixel values
    divided by 16 into ``[0, 1]`` when ``scale`` is true (raw ``0..16`` otherwise), and
    ``y`` of shape ``(1797,)`` int64 labels ``0..9``.
    """
    import gzip
    from pathlib import Path

    path = Path(__file__).with_name("datasets") / "digits.csv.gz"
    with gzip.open(path, "rt", encoding="ascii") as fh:
        table = np.loadtxt(fh, delimiter=",", dtype=np.int64)
    X = np.ascontiguousarray(table[:, :64].T, dtype=np.float64)
    if scale:
        X = X / 16.0
    y = np.ascontiguousarray(table[:, 64])
    return X, y


# --------------------------------------------------------------------------------------------
# train / test split
# --------------------------------------------------------------------------------------------


def train_test_split(
    X: ArrayLike,
    y: ArrayLike,
    test_fraction: float = 0.2,
    seed: int | None = 0,
    stratify: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split the columns (samples) of ``X`` and ``y`` at random into a training and a test set.

    ``round(test_fraction * m)`` columns (at least 1, at most ``m - 1``) go to the test set.
    Inside each part the columns keep their original order (a sorted ``x`` stays sorted).

    Parameters
    ----------
    X:
        Data matrix of shape ``(n_0, m)``.
    y:
        Labels ``(m,)`` or targets ``(k, m)``.
    test_fraction:
        Fraction of the samples put in the test set, strictly between 0 and 1.
    seed:
        Seed for ``np.random.default_rng``.
    stratify:
        If true, every class (every distinct column of ``y``: a label, a one-hot vector, a 0/1
        target) is split in the same proportion, up to one sample per class.

    Returns
    -------
    ``X_train (n_0, m_train)``, ``X_test (n_0, m_test)``, ``y_train``, ``y_test`` (``(m_train,)``
    / ``(m_test,)`` or ``(k, m_train)`` / ``(k, m_test)``, like ``y``).
    """
    X = _check_data_matrix("X", X)
    y = _check_targets("y", y, X.shape[1], "X", X.shape)
    m = X.shape[1]
    if m < 2:
        raise ValueError(
            f"X has {m} column(s): a train/test split needs at least 2 samples, pass more data"
        )
    test_fraction = real("test_fraction", test_fraction, greater_than=0, less_than=1, example=0.2)
    n_test = min(max(round(test_fraction * m), 1), m - 1)
    rng = np.random.default_rng(seed)
    order = rng.permutation(m)
    if stratify:
        _, cls = np.unique(y.reshape(-1, m).T, axis=0, return_inverse=True)
        cls = np.asarray(cls).ravel()[order]
        counts = np.bincount(cls)
        # rank of each (shuffled) sample inside its class
        rank = np.empty(m, dtype=np.int64)
        for c in range(counts.size):
            rank[cls == c] = np.arange(counts[c])
        # interleave the classes proportionally: sample number r of a class of size n sits at
        # (r + 0.5) / n of the way through; taking the first n_test keeps every class's share
        order = order[np.argsort((rank + 0.5) / counts[cls], kind="stable")]
    test = np.sort(order[:n_test])
    train = np.sort(order[n_test:])
    return X[:, train], X[:, test], y[..., train], y[..., test]
