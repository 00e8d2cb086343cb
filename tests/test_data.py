"""Tests for course.data: the mini-batch generator, one-hot labels and the offline datasets."""

from __future__ import annotations

import math
import operator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course.data import (
    BatchGenerator,
    blobs,
    circles,
    load_digits,
    logic_gate,
    minibatches,
    moons,
    noisy_regression,
    one_hot,
    regression_truth,
    spirals,
    train_test_split,
    xor,
)

# bounded, deterministic property tests; no example database written into the repository
FAST = settings(max_examples=60, deadline=None, database=None, derandomize=True)

sizes = st.integers(min_value=1, max_value=500)
batch_sizes = st.integers(min_value=1, max_value=600)


def epoch(gen: BatchGenerator) -> list[np.ndarray]:
    return [np.asarray(idx) for idx in gen]


# --------------------------------------------------------------------------------------------
# BatchGenerator
# --------------------------------------------------------------------------------------------


@FAST
@given(m=sizes, batch_size=batch_sizes, seed=st.integers(0, 2**32 - 1))
def test_one_epoch_covers_every_index_once(m: int, batch_size: int, seed: int) -> None:
    gen = BatchGenerator(m, batch_size, seed=seed)
    batches = epoch(gen)
    n_batches = math.ceil(m / batch_size)
    assert len(gen) == n_batches
    assert len(batches) == n_batches
    for idx in batches:
        assert np.issubdtype(idx.dtype, np.integer)
        assert idx.ndim == 1
    for idx in batches[:-1]:
        assert idx.size == batch_size
    assert batches[-1].size == m - (n_batches - 1) * batch_size
    assert sorted(np.concatenate(batches).tolist()) == list(range(m))


@FAST
@given(m=st.integers(10, 500), batch_size=batch_sizes, seed=st.integers(0, 2**32 - 1))
def test_epochs_are_reshuffled(m: int, batch_size: int, seed: int) -> None:
    gen = BatchGenerator(m, batch_size, seed=seed)
    first = np.concatenate(epoch(gen))
    second = np.concatenate(epoch(gen))
    assert sorted(second.tolist()) == list(range(m))
    assert not np.array_equal(first, second)


@FAST
@given(m=st.integers(10, 500), batch_size=batch_sizes, seed=st.integers(0, 2**32 - 2))
def test_same_seed_same_epochs_different_seed_different(m: int, batch_size: int, seed: int) -> None:
    a, b = BatchGenerator(m, batch_size, seed=seed), BatchGenerator(m, batch_size, seed=seed)
    c = BatchGenerator(m, batch_size, seed=seed + 1)
    for _ in range(3):
        ea, eb, ec = epoch(a), epoch(b), epoch(c)
        assert len(ea) == len(eb)
        assert all(np.array_equal(x, y) for x, y in zip(ea, eb, strict=True))
        assert not np.array_equal(np.concatenate(ea), np.concatenate(ec))


def test_lecture_example_32_samples_batch_12() -> None:
    gen = BatchGenerator(32, 12, seed=0)
    batches = epoch(gen)
    assert [b.size for b in batches] == [12, 12, 8]
    assert len(gen) == 3
    assert np.array_equal(np.sort(np.concatenate(batches)), np.arange(32))


def test_batch_larger_than_m_gives_one_batch() -> None:
    batches = epoch(BatchGenerator(5, 100))
    assert len(batches) == 1
    assert sorted(batches[0].tolist()) == [0, 1, 2, 3, 4]


def test_no_shuffle_keeps_order() -> None:
    batches = epoch(BatchGenerator(7, 3, shuffle=False))
    assert [b.tolist() for b in batches] == [[0, 1, 2], [3, 4, 5], [6]]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"m": 10, "batch_size": 0}, ValueError, r"batch_size must be a positive integer, got 0"),
        ({"m": 10, "batch_size": -3}, ValueError, r"batch_size .*got -3: pass e\.g\. batch_size="),
        ({"m": 0, "batch_size": 4}, ValueError, r"m must be a positive integer, got 0.*X\.shape"),
        ({"m": 10, "batch_size": 2.5}, TypeError, r"batch_size must be a .*integer, got 2\.5 of"),
        ({"m": 10.0, "batch_size": 2}, TypeError, r"m must be a .*integer, got 10\.0 .* m=10$"),
        ({"m": 10, "batch_size": True}, TypeError, r"batch_size must be a .*integer, got True"),
    ],
)
def test_batch_generator_rejects_bad_arguments(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        BatchGenerator(**kwargs)


def test_batch_generator_accepts_numpy_integers() -> None:
    gen = BatchGenerator(np.int64(10), np.int32(4))
    assert [b.size for b in gen] == [4, 4, 2]


# --------------------------------------------------------------------------------------------
# minibatches
# --------------------------------------------------------------------------------------------


def test_minibatches_slices_matching_columns() -> None:
    m = 23
    # every column of X encodes its own index: column j is (j, 100 + j, 200 + j)
    X = np.arange(m) + np.array([[0], [100], [200]])
    Y = -np.arange(m).reshape(1, m) * 2.0  # column j of Y is -2 j
    labels = np.arange(m) % 4
    seen = []
    for Xb, Yb in minibatches(X, Y, batch_size=5, seed=3):
        assert Xb.shape[0] == 3 and Yb.shape[0] == 1 and Xb.shape[1] == Yb.shape[1]
        j = Xb[0]
        assert np.array_equal(Xb[1], 100 + j) and np.array_equal(Xb[2], 200 + j)
        assert np.array_equal(Yb[0], -2.0 * j)
        seen.extend(j.tolist())
    assert sorted(seen) == list(range(m))
    sizes_ = []
    for Xb, yb in minibatches(X, labels, batch_size=5, seed=3):
        assert yb.shape == (Xb.shape[1],)
        assert np.array_equal(yb, Xb[0] % 4)
        sizes_.append(yb.size)
    assert sizes_ == [5, 5, 5, 5, 3]


def test_minibatches_follows_the_batch_generator() -> None:
    X = np.arange(40).reshape(2, 20)
    T = one_hot(np.arange(20) % 3)
    got = [Xb for Xb, _ in minibatches(X, T, 6, seed=11)]
    expected = [X[:, idx] for idx in BatchGenerator(20, 6, seed=11)]
    assert len(got) == len(expected) == 4
    assert all(np.array_equal(a, b) for a, b in zip(got, expected, strict=True))


def test_minibatches_rejects_mismatched_columns() -> None:
    X = np.zeros((3, 10))
    with pytest.raises(ValueError, match=r"X has shape \(3, 10\).*Y has shape \(1, 9\)"):
        list(minibatches(X, np.zeros((1, 9)), 4))
    with pytest.raises(ValueError, match=r"\(10, 2\).*transpose"):
        list(minibatches(X, np.zeros((10, 2)), 4))
    with pytest.raises(ValueError, match=r"X must be a 2-D data matrix.*\(n_0, m\)"):
        list(minibatches(np.zeros(10), np.zeros(10), 4))
    with pytest.raises(ValueError, match=r"batch_size must be a positive integer"):
        list(minibatches(X, np.zeros(10), 0))


# --------------------------------------------------------------------------------------------
# one_hot
# --------------------------------------------------------------------------------------------


@FAST
@given(
    labels=st.lists(st.integers(0, 9), min_size=1, max_size=50),
    extra=st.integers(0, 3),
)
def test_one_hot_round_trip(labels: list[int], extra: int) -> None:
    y = np.array(labels)
    K = max(labels) + 1 + extra
    T = one_hot(y, K)
    assert T.shape == (K, len(labels))
    assert T.dtype == np.float64
    # independent construction: column j is the unit vector e_{y_j}
    assert np.array_equal(T, np.eye(K)[:, y])
    assert np.array_equal(T.argmax(axis=0), y)
    assert np.array_equal(T.sum(axis=0), np.ones(len(labels)))
    assert one_hot(y).shape == (max(labels) + 1, len(labels))


def test_one_hot_accepts_whole_floats() -> None:
    assert np.array_equal(one_hot(np.array([2.0, 0.0])), [[0, 1], [0, 0], [1, 0]])


def test_one_hot_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match=r"outside the valid range \[0, 3\).*got 3, 7"):
        one_hot([0, 1, 3, 7], num_classes=3)
    with pytest.raises(ValueError, match=r"valid range \[0, K\).*negative.*-1"):
        one_hot([0, -1, 2])
    with pytest.raises(ValueError, match=r"valid range \[0, 4\).*got -2"):
        one_hot([0, -2, 2], num_classes=4)
    with pytest.raises(ValueError, match=r"integer class labels.*non-integer.*1\.5"):
        one_hot([0.0, 1.5, 2.0])
    with pytest.raises(ValueError, match=r"non-integer.*nan"):
        one_hot(np.array([0.0, np.nan]))
    with pytest.raises(TypeError, match=r"integer class labels.*dtype <U"):
        one_hot(np.array(["cat", "dog"]))
    with pytest.raises(ValueError, match=r"1-D array of labels of shape \(m,\).*\(1, 4\)"):
        one_hot(np.zeros((1, 4), dtype=int))
    with pytest.raises(ValueError, match=r"num_classes must be a positive integer, got 0"):
        one_hot([0, 1], num_classes=0)
    with pytest.raises(ValueError, match=r"empty.*num_classes"):
        one_hot(np.array([], dtype=int))


# --------------------------------------------------------------------------------------------
# logic gates
# --------------------------------------------------------------------------------------------

GATES = {
    "and": lambda a, b: a and b,
    "or": lambda a, b: a or b,
    "nand": lambda a, b: not (a and b),
    "nor": lambda a, b: not (a or b),
    "xor": operator.xor,
    "xnor": lambda a, b: not (a ^ b),
}


@pytest.mark.parametrize("name", sorted(GATES))
def test_logic_gate_truth_tables(name: str) -> None:
    X, y = logic_gate(name)
    assert X.shape == (2, 4) and y.shape == (1, 4)
    assert y.dtype == np.float64
    assert X.T.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    for j, (a, b) in enumerate([(False, False), (False, True), (True, False), (True, True)]):
        assert y[0, j] == float(bool(GATES[name](a, b)))


def test_xor_shortcut_and_case() -> None:
    X, y = xor()
    assert y.tolist() == [[0.0, 1.0, 1.0, 0.0]]
    assert np.array_equal(logic_gate("XOR")[1], y)


def test_logic_gate_unknown_name() -> None:
    with pytest.raises(ValueError, match=r"name must be one of 'and'.*'xnor', got 'implies'"):
        logic_gate("implies")
    with pytest.raises(TypeError, match=r"name must be a string"):
        logic_gate(3)


# --------------------------------------------------------------------------------------------
# 2-D classification sets
# --------------------------------------------------------------------------------------------

DATASETS = {
    "moons": (moons, 2),
    "circles": (circles, 2),
    "spirals": (spirals, 3),
    "blobs": (blobs, 3),
}


@pytest.mark.parametrize("name", sorted(DATASETS))
@pytest.mark.parametrize("m", [7, 100, 301])
def test_2d_dataset_shapes_balance_determinism(name: str, m: int) -> None:
    make, k = DATASETS[name]
    X, y = make(m=m, seed=4)
    assert X.shape == (2, m) and X.dtype == np.float64
    assert y.shape == (m,) and y.dtype == np.int64
    assert np.all(np.isfinite(X))
    counts = np.bincount(y, minlength=k)
    assert counts.size == k and counts.sum() == m
    assert counts.max() - counts.min() <= 1
    X2, y2 = make(m=m, seed=4)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    X3, _ = make(m=m, seed=5)
    assert not np.array_equal(X, X3)


def test_2d_datasets_default_sizes() -> None:
    assert moons()[0].shape == (2, 200)
    assert circles()[0].shape == (2, 200)
    assert spirals()[0].shape == (2, 300)
    assert blobs()[0].shape == (2, 200)
    assert np.array_equal(np.unique(spirals(classes=5)[1]), np.arange(5))


def _linearly_separable(X: np.ndarray, y: np.ndarray) -> bool:
    """LP feasibility: is there (w, b) with s_j (w . x_j + b) >= 1, s_j = +-1?"""
    from scipy.optimize import linprog

    s = np.where(y == 1, 1.0, -1.0)
    A = -(s[:, None] * np.vstack([X, np.ones(X.shape[1])]).T)
    res = linprog(np.zeros(3), A_ub=A, b_ub=-np.ones(X.shape[1]), bounds=[(None, None)] * 3)
    assert res.status in (0, 2)
    return res.status == 0


def test_moons_not_linearly_separable_but_blobs_are() -> None:
    X, y = moons(m=200, noise=0.1, seed=0)
    assert not _linearly_separable(X, y)
    assert not _linearly_separable(*moons(m=200, noise=0.0))
    # sanity check of the checker itself on two far-apart blobs
    Xb, yb = blobs(m=100, centers=[[-5, 5], [0, 0]], std=0.5)
    assert _linearly_separable(Xb, yb)


def test_moons_noiseless_geometry_each_class_one_arc() -> None:
    X, y = moons(m=400, noise=0.0)
    upper, lower = X[:, y == 0], X[:, y == 1]
    # upper arc: unit circle around (0, 0), y >= 0; lower arc: unit circle around (1, 0.5)
    assert np.allclose(np.hypot(upper[0], upper[1]), 1.0)
    assert np.all(upper[1] >= -1e-12)
    assert np.allclose(np.hypot(lower[0] - 1.0, lower[1] - 0.5), 1.0)
    assert np.all(lower[1] <= 0.5 + 1e-12)
    # connected: along each arc, consecutive points are close (no gap bigger than 0.05)
    # (the lower arc is the upper one turned half a turn, so measure its angle the other way)
    for pts, cx, cy, sign in [(upper, 0.0, 0.0, 1.0), (lower, 1.0, 0.5, -1.0)]:
        angles = np.sort(np.arctan2(sign * (pts[1] - cy), sign * (pts[0] - cx)))
        assert np.max(np.diff(angles)) < 0.05
        assert np.ptp(angles) > 3.1  # the arc spans (almost) half a turn
    assert np.linalg.norm(upper.mean(axis=1) - lower.mean(axis=1)) > 0.5


def test_moons_class_means_differ() -> None:
    X, y = moons(m=500, noise=0.1, seed=1)
    mean0, mean1 = X[:, y == 0].mean(axis=1), X[:, y == 1].mean(axis=1)
    # upper moon centred near (0, 0.64), lower one near (1, -0.14)
    assert mean0[0] < 0.3 < 0.7 < mean1[0]
    assert mean0[1] > mean1[1] + 0.5


def test_circles_radii() -> None:
    X, y = circles(m=1000, noise=0.05, factor=0.3, seed=2)
    r = np.hypot(X[0], X[1])
    assert r[y == 0].mean() > r[y == 1].mean()
    assert abs(r[y == 0].mean() - 1.0) < 0.05
    assert abs(r[y == 1].mean() - 0.3) < 0.05
    Xc, yc = circles(m=50, noise=0.0, factor=0.5)
    assert np.allclose(np.hypot(*Xc)[yc == 0], 1.0)
    assert np.allclose(np.hypot(*Xc)[yc == 1], 0.5)


def test_spirals_inside_unit_disc_and_arms_turn() -> None:
    X, y = spirals(m=300, classes=3, noise=0.2, seed=0)
    r = np.hypot(X[0], X[1])
    assert np.all(r <= 1.0 + 1e-12)
    assert r.max() > 0.99
    # noiseless arm c: the point with radius r has angle 4c + 4r (measured from the y-axis)
    X0, y0 = spirals(m=90, classes=3, noise=0.0)
    r0 = np.hypot(X0[0], X0[1])
    keep = r0 > 1e-9
    angle = np.arctan2(X0[0], X0[1])[keep]
    expected = 4.0 * y0[keep] + 4.0 * r0[keep]
    assert np.allclose(np.cos(angle), np.cos(expected))
    assert np.allclose(np.sin(angle), np.sin(expected))


def test_blobs_with_given_centers() -> None:
    C = np.array([[0.0, 10.0, -10.0, 0.0], [0.0, 0.0, 5.0, -8.0]])
    X, y = blobs(m=4000, centers=C, std=0.5, seed=9)
    assert np.array_equal(np.unique(y), np.arange(4))
    for c in range(4):
        pts = X[:, y == c]
        assert np.allclose(pts.mean(axis=1), C[:, c], atol=0.1)
        assert np.allclose(pts.std(axis=1), 0.5, atol=0.05)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: moons(m=1), ValueError, r"m must be an integer >= 2, got 1"),
        (lambda: moons(noise=-0.1), ValueError, r"noise must be a non-negative number, got -0\.1"),
        (lambda: circles(factor=1.5), ValueError, r"factor .* interval \(0, 1\), got 1\.5"),
        (lambda: spirals(m=2, classes=3), ValueError, r"m must be an integer >= 3, got 2"),
        (lambda: spirals(classes=1), ValueError, r"classes must be an integer >= 2, got 1"),
        (lambda: blobs(centers=np.zeros((3, 2))), ValueError, r"centers .*\(2, K\).*\(3, 2\)"),
        (lambda: blobs(std="big"), TypeError, r"std must be a non-negative number, got 'big'"),
        (lambda: noisy_regression(m=0), ValueError, r"m must be a positive integer, got 0"),
    ],
)
def test_dataset_argument_errors(call, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call()


# --------------------------------------------------------------------------------------------
# noisy regression
# --------------------------------------------------------------------------------------------


def test_noisy_regression_shape_and_sorted_x() -> None:
    X, Y = noisy_regression()
    assert X.shape == (1, 20) and Y.shape == (1, 20)
    assert X.dtype == np.float64 and Y.dtype == np.float64
    assert np.all(np.diff(X[0]) > 0)
    assert X[0, 0] == 0.0 and X[0, -1] == 1.0
    assert np.allclose(np.diff(X[0]), 1 / 19)
    X2, Y2 = noisy_regression()
    assert np.array_equal(Y, Y2)
    assert not np.array_equal(Y, noisy_regression(seed=1)[1])


def test_noisy_regression_residuals_match_noise_level() -> None:
    X, Y = noisy_regression(m=20000, noise=0.3, seed=7)
    residual = Y - np.sin(2 * np.pi * X)
    assert abs(residual.std() - 0.3) < 0.01
    assert abs(residual.mean()) < 0.01
    X0, Y0 = noisy_regression(m=50, noise=0.0)
    assert np.allclose(Y0, np.sin(2 * np.pi * X0))


def test_regression_truth_is_the_sine() -> None:
    x = np.array([[0.0, 0.25, 0.5, 0.75]])
    assert regression_truth(x).shape == (1, 4)
    assert np.allclose(regression_truth(x), [[0.0, 1.0, 0.0, -1.0]])


# --------------------------------------------------------------------------------------------
# digits
# --------------------------------------------------------------------------------------------


def test_load_digits() -> None:
    from sklearn import datasets

    X, y = load_digits()
    assert X.shape == (64, 1797) and X.dtype == np.float64
    assert y.shape == (1797,) and np.issubdtype(y.dtype, np.integer)
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.array_equal(np.unique(y), np.arange(10))
    raw = datasets.load_digits()
    assert np.array_equal(X[:, 5] * 16, raw.data[5])
    assert np.array_equal(y, raw.target)
    Xr, _ = load_digits(scale=False)
    assert Xr.max() == 16.0


# --------------------------------------------------------------------------------------------
# train_test_split
# --------------------------------------------------------------------------------------------


@FAST
@given(m=st.integers(2, 300), fraction=st.floats(0.01, 0.99), seed=st.integers(0, 1000))
def test_train_test_split_is_a_partition(m: int, fraction: float, seed: int) -> None:
    X = np.arange(m) + np.array([[0], [1000]])  # column j encodes j
    y = np.arange(m) * 3
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_fraction=fraction, seed=seed)
    train, test = X_tr[0].tolist(), X_te[0].tolist()
    assert not set(train) & set(test)
    assert sorted(train + test) == list(range(m))
    assert np.array_equal(X_tr[1], X_tr[0] + 1000)
    assert np.array_equal(y_tr, X_tr[0] * 3) and np.array_equal(y_te, X_te[0] * 3)
    expected_test = min(max(round(fraction * m), 1), m - 1)
    assert len(test) == expected_test and len(train) == m - expected_test


def test_train_test_split_sizes_and_determinism() -> None:
    X = np.arange(200).reshape(2, 100)
    T = np.arange(300).reshape(3, 100)
    X_tr, X_te, T_tr, T_te = train_test_split(X, T, test_fraction=0.25, seed=3)
    assert X_tr.shape == (2, 75) and X_te.shape == (2, 25)
    assert T_tr.shape == (3, 75) and T_te.shape == (3, 25)
    assert np.array_equal(T_te[0], X_te[0])  # both encode the column index
    again = train_test_split(X, T, test_fraction=0.25, seed=3)
    assert np.array_equal(again[1], X_te)
    other = train_test_split(X, T, test_fraction=0.25, seed=4)
    assert not np.array_equal(other[1], X_te)
    # sorted x stays sorted in both parts
    Xr, Yr = noisy_regression(m=30)
    xr_tr, xr_te, _, _ = train_test_split(Xr, Yr, seed=0)
    assert np.all(np.diff(xr_tr[0]) > 0) and np.all(np.diff(xr_te[0]) > 0)


def test_train_test_split_stratified_keeps_class_shares() -> None:
    y = np.repeat([0, 1, 2], [600, 300, 100])
    X = np.arange(1000).reshape(1, 1000)
    T = np.eye(3)[:, y]  # the same classes as one-hot targets (K, m)
    test_sets = set()
    for seed in range(20):
        _, X_te, _, y_te = train_test_split(X, y, test_fraction=0.2, seed=seed, stratify=True)
        assert np.array_equal(y_te, y[X_te[0]])
        counts = np.bincount(y_te, minlength=3)
        assert counts.sum() == 200
        assert np.all(np.abs(counts - np.array([120, 60, 20])) <= 1)
        _, _, _, T_te = train_test_split(X, T, test_fraction=0.2, seed=seed, stratify=True)
        assert np.all(np.abs(T_te.sum(axis=1) - np.array([120, 60, 20])) <= 1)
        test_sets.add(tuple(X_te[0].tolist()))
    assert len(test_sets) == 20  # still random inside each class


@pytest.mark.parametrize(
    ("fraction", "error"),
    [(0, ValueError), (1, ValueError), (-0.1, ValueError), (1.5, ValueError)]
    + [(float("nan"), ValueError), (True, TypeError), ("0.2", TypeError), (None, TypeError)],
)
def test_train_test_split_bad_fraction(fraction: object, error: type) -> None:
    words = r"test_fraction must be a (finite number|number in the interval \(0, 1\)), got"
    with pytest.raises(error, match=words):
        train_test_split(np.zeros((2, 10)), np.zeros(10), test_fraction=fraction)


def test_train_test_split_shape_errors() -> None:
    with pytest.raises(ValueError, match=r"X has shape \(2, 10\).*y has shape \(9,\)"):
        train_test_split(np.zeros((2, 10)), np.zeros(9))
    with pytest.raises(ValueError, match=r"at least 2 samples"):
        train_test_split(np.zeros((2, 1)), np.zeros(1))
