"""Problem set 7 (debugging backprop) end to end, kept lean: one sandboxed grading run.

One module-scoped run copies ``nbgrader_config.py`` and ``source_assignments/ps7/`` into a
temporary course, runs ``nbgrader generate_assignment ps7`` and then grades the bundled sample
class (``autograder/sample_class/ps7/<student>.ipynb``) once with ``python -m autograder grade
--jobs 2``, as an instructor does: the kernels in the sandbox, the tests in the grader. The tests
compare every student's points per test cell with ``expected.json`` (partial credit included)
and look for the words that name each bug in the feedback pages; part (c) is left to a person.
Without nbgrader: the source notebook passes its own tests; each of the six broken functions of
the notebook fails the check of its repair with the diagnosis of its bug (so the checks can tell
the broken code from the repaired one); the usual slips of part (b) are named; the learning-rate
sweep of the checks agrees with the notebook's solution. Nothing is written into the repository.
"""

from __future__ import annotations

import csv
import functools
import importlib.util
import math
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import nbformat
import numpy as np
import pytest
from nbgrader_course import ROOT, Course, execute_source, graded_cells, load_expected, make_course

SOURCE = ROOT / "source_assignments" / "ps7"
SAMPLE = ROOT / "autograder" / "sample_class" / "ps7"
EXPECTED = load_expected(SAMPLE)
AUTOGRADED = {  # grade_id -> points
    "test_a_losses": 4,
    "test_a_layers": 8,
    "test_b_init": 2,
    "test_b_overfit": 3,
    "test_b_sweep": 3,
}
MANUAL = {"c_curves": 4}
TOTAL = 24

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Course]:
    c = make_course(tmp_path_factory, "ps7", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    c.nbgrader("generate_assignment", "ps7")
    start = time.perf_counter()
    env = {k: v for k, v in c.env.items() if k != "PYTHONPATH"}  # the box's course is installed
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "--course", str(c.root), "grade", "ps7", str(SAMPLE)]
        + ["--jobs", "2", "--no-progress"],
        cwd=c.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    c.timings["grade --jobs 2"] = time.perf_counter() - start
    c.outputs["grade"] = done
    assert done.returncode == 0, done.stdout + done.stderr
    yield c
    c.report_timings("ps7 pipeline")


def _grades(course: Course) -> dict[str, dict[str, str]]:
    with open(course.root / "grades" / "ps7" / "ps7_grades.csv", newline="") as fh:
        return {row["student_id"]: row for row in csv.DictReader(fh)}


def _page(course: Course, student: str) -> str:
    html = (course.root / "grades" / "ps7" / "feedback" / f"{student}.html").read_text()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    for entity, char in (("&#39;", "'"), ("&quot;", '"'), ("&lt;", "<"), ("&gt;", ">")):
        text = text.replace(entity, char)
    return text.replace("&amp;", "&")


# -- the released version and the sample class ---------------------------------------------------


def test_release_has_no_solutions_and_no_hidden_tests(course: Course) -> None:
    text = (course.release / "ps7.ipynb").read_text()
    for secret in (
        "BEGIN SOLUTION",
        "BEGIN HIDDEN TESTS",
        "Model answer",
        "Rubric",
        "return J, dZ / m",
        "dYhat = (Yhat - Y) / m",
        "dW = dZ @ A_prev.T",
        "dA = dA + W.T @ dZ",
        "dc = dOut.sum(axis=1",
        "rng.normal(0.0, 0.01",
        "start=51",
        "[0.03, 0.3, 3.0]",
        "[0.1, 1.0, 10.0, 1e6]",
    ):
        assert secret not in text, secret
    nb = nbformat.reads(text, as_version=4)
    stubs = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert len(stubs) == 6
    assert all("raise NotImplementedError()" in c.source for c in stubs if c.cell_type == "code")
    assert [c.source for c in stubs if c.cell_type == "markdown"] == ["YOUR ANSWER HERE"]
    assert {
        c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
        for c in graded_cells(nb)
    } == {**AUTOGRADED, **MANUAL}
    assert sum(AUTOGRADED.values()) + sum(MANUAL.values()) == TOTAL
    # the broken functions and the tool are there to read; the lessons it relies on are named
    assert "def broken_residual_backward(dOut, cache):" in text
    assert "def grad_check(f, x, h=1e-5):" in text
    for lesson in ("04_activations", "05_vectorized", "06_mlp", "07_minibatch", "problem sets 3"):
        assert lesson in text, lesson
    assert (course.release / "ps7_support.py").exists()


def test_sample_class_is_made_from_the_current_release(course: Course) -> None:
    """Every locked cell of every sample submission is the released one (no stale samples)."""
    release = nbformat.read(course.release / "ps7.ipynb", as_version=4)
    locked = {c.id: c for c in release.cells if c.metadata.get("nbgrader", {}).get("locked")}
    assert set(EXPECTED) == {p.stem for p in SAMPLE.glob("*.ipynb")}
    for student in EXPECTED:
        nb = nbformat.read(SAMPLE / f"{student}.ipynb", as_version=4)
        theirs = {c.id: c for c in nb.cells if c.id in locked}
        assert {k: c.source for k, c in theirs.items()} == {
            k: c.source for k, c in locked.items()
        }, student
        for key, cell in theirs.items():  # the checksums nbgrader validate compares with
            assert cell.metadata == locked[key].metadata, (student, key)
        ids = [c.metadata["nbgrader"]["grade_id"] for c in graded_cells(nb)]
        assert ids == [*EXPECTED[student]["parts"], *MANUAL], student


def test_the_sample_class_has_each_slip_once() -> None:
    """Correct, blank, written differently, the package, and single slips that cost one group
    of checks: the points of one group (its cell's partial credit), in one cell."""
    assert {"correct", "blank", "rewritten", "bug_uses_package"} <= set(EXPECTED)
    slips = [s for s in EXPECTED if s.startswith("bug_") and s != "bug_uses_package"]
    assert 4 <= len(slips) <= 6
    cells = set()
    for student in slips:
        lost = {g for g, p in EXPECTED[student]["parts"].items() if p < AUTOGRADED[g]}
        assert len(lost) == 1, (student, lost)
        cells |= lost
    assert {g.split("_")[1] for g in cells} == {"a", "b"}  # slips in both automatic parts


# -- the scores and the feedback ------------------------------------------------------------------


def test_the_run_is_sandboxed_and_every_student_graded(course: Course) -> None:
    out = course.outputs["grade"].stdout
    assert f"{len(EXPECTED)} ok, 0 errors" in out and "bubblewrap" in out, out


@pytest.mark.parametrize("student", list(EXPECTED))
def test_scores_per_part(course: Course, student: str) -> None:
    row = _grades(course)[student]
    want = EXPECTED[student]
    assert {part: float(row[part]) for part in want["parts"]} == want["parts"], row
    assert sum(float(row[part]) for part in AUTOGRADED) == want["total"]
    if student != "blank":  # the written answer waits for a person
        assert row["c_curves"] == "" and "needs manual grading" in row["status"], row


@pytest.mark.parametrize("student", list(EXPECTED))
def test_feedback_names_the_bug(course: Course, student: str) -> None:
    text = _page(course, student)
    for words in EXPECTED[student]["feedback_mentions"]:
        assert words in text, (student, words)
    if student.startswith("bug_") and student != "bug_uses_package":
        assert "Likely bug" in text
    for hidden in ("start=51", "[0.03, 0.3, 3.0]", "1e6]", "[20, 50, 26]"):
        assert hidden not in text  # no hidden test in the feedback
    assert "Rubric" not in text


# -- the source notebook passes its own tests -----------------------------------------------------


def test_source_notebook_passes_its_own_tests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nb = execute_source("ps7", tmp_path, monkeypatch)
    graded = [c for c in graded_cells(nb) if c.cell_type == "code"]
    assert len(graded) == len(AUTOGRADED)
    for cell in graded:
        text = "".join(o.get("text", "") for o in cell.outputs)
        assert not [o for o in cell.outputs if o.output_type in ("error", "execute_result")]
        assert "every visible test passes" in text, text
    demo = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "a_demo")
    printed = "".join(o.get("text", "") for o in demo.outputs)
    errors = {line.split()[0]: float(line.split()[-1]) for line in printed.splitlines()}
    # the checker finds the one wrong gradient of the broken affine layer, and only that one
    assert errors["dW"] > 0.1 and errors["dA_prev"] < 1e-8 and errors["db"] < 1e-8
    figure = next(
        c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "c_figure"
    )
    assert any("image/png" in o.get("data", {}) for o in figure.outputs)


# -- the checks alone -----------------------------------------------------------------------------


@functools.cache
def _support() -> ModuleType:
    """``ps7_support`` imported without writing a ``__pycache__`` into the repository."""
    spec = importlib.util.spec_from_file_location("ps7_support", SOURCE / "ps7_support.py")
    module = importlib.util.module_from_spec(spec)
    dont_write = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = dont_write
    return module


@pytest.fixture(scope="module")
def support() -> ModuleType:
    return _support()


def _cells(*grade_ids: str, changes: tuple[tuple[str, str], ...] = ()) -> dict:
    """The namespace of the source notebook's cells ``grade_ids``, with ``changes`` made."""
    namespace: dict = {"np": np, "math": math, "support": _support()}
    cells = nbformat.read(SOURCE / "ps7.ipynb", as_version=4).cells
    sources = [
        c.source for c in cells if c.metadata.get("nbgrader", {}).get("grade_id") in grade_ids
    ]
    for old, _ in changes:
        assert any(old in s for s in sources), old
    for source in sources:
        for old, new in changes:
            source = source.replace(old, new)
        exec(source, namespace)
    return namespace


def _check(support: ModuleType, which: str, func, hidden: str | None = None) -> None:
    case = support.layer_case(5, 3, 3, 4)
    wide = support.layer_case(6, 4, 2, 5)
    loss = support.loss_case(7, 3, 5)
    if which == "softmax_ce":
        support.check_softmax_ce(func, loss["Z"], loss["y"], hidden=hidden)
    elif which == "mse":
        support.check_mse(func, loss["Yhat"], loss["Y"], hidden=hidden)
    elif which == "affine_backward":
        for c in (case, wide):
            support.check_affine_backward(func, c["A_prev"], c["W"], c["b"], c["dZ"], hidden=hidden)
    elif which == "tanh_backward":
        support.check_tanh_backward(func, case["A_prev"], case["dZ"], hidden=hidden)
    elif which == "residual_backward":
        support.check_residual_backward(func, **support.residual_case(8, 3, 4), hidden=hidden)
    else:
        Z = case["W"] @ case["A_prev"]
        support.check_scale_shift_backward(func, Z, case["g"], case["c"], case["dZ"], hidden=hidden)


# the broken function of the notebook -> the words the message of its repair's check must contain
BROKEN = {
    "softmax_ce": "the 1/m of the mean is lost",
    "mse": "your dYhat points the wrong way",
    "affine_backward": "your dW is the transpose of the right one",
    "tanh_backward": "you multiplied by tanh itself",
    "residual_backward": "your dA holds one path only, the one through the layer",
    "scale_shift_backward": "your dc keeps one column per example",
}


@pytest.mark.parametrize("which", list(BROKEN))
def test_each_broken_function_fails_with_the_name_of_its_bug(support, which) -> None:
    """The locked cell's broken functions are what a student who repaired nothing submits: each
    fails its check, and the message names the class of its bug; the repaired one passes."""
    broken = _cells("a_broken")[f"broken_{which}"]
    with pytest.raises(AssertionError) as info:
        _check(support, which, broken)
    assert BROKEN[which] in str(info.value), str(info.value)
    assert "Likely bug" in str(info.value)
    fixed = _cells("a_broken", "a_losses", "a_layers")[f"fixed_{which}"]
    _check(support, which, fixed)
    _check(support, which, fixed, hidden="random")


def test_a_hidden_case_does_not_show_its_inputs(support) -> None:
    broken = _cells("a_broken")["broken_mse"]
    loss = support.loss_case(7, 3, 5)
    with pytest.raises(AssertionError) as info:
        support.check_mse(broken, loss["Yhat"], loss["Y"], hidden="random")
    assert "hidden case: random" in str(info.value)
    X, y, params = support.sweep_case(0)
    ns = _cells("a_broken", "a_losses", "a_layers", "b_network", "b_sweep")
    ns["lr_sweep"] = lambda *args: ([1.0, 2.0, 3.0], 0.5)
    with pytest.raises(AssertionError) as info:
        support.check_sweep(ns["lr_sweep"], X, y, params, [0.1, 0.5, 7.25], 5, "losses", hidden="x")
    assert "7.25" not in str(info.value) and "hidden case: x" in str(info.value)


def _part_b(*changes: tuple[str, str]) -> dict:
    return _cells(
        "a_broken", "a_losses", "a_layers", "b_network", "b_init", "b_overfit", "b_sweep",
        changes=changes,
    )  # fmt: skip


def test_the_sweep_of_the_checks_is_the_notebooks(support) -> None:
    """Two gradient descents, the checks' and the solution's lr_sweep on the locked network,
    give the same final losses; the solution's choice is their argmin."""
    ns = _part_b()
    for seed, lrs in ((0, [0.001, 0.01, 0.1, 1.0, 10.0]), (3, [0.05, 0.5, 5.0])):
        X, y, params = support.sweep_case(seed, m=25)
        want = support.sweep_reference(X, y, params, lrs, 15)
        got, best = ns["lr_sweep"](X, y, params, lrs, 15)
        assert got == pytest.approx(want, rel=1e-9)
        assert best == lrs[int(np.argmin(want))]
        # and the loss of the checks is the network's, at the start: near ln K
        assert support.network_loss(X, y, params) == pytest.approx(math.log(3), abs=0.05)


# slips of part (b): (old, new) in the solution, the check, the words of the message
SLIPS = {
    "init: He for the output layer too": (
        ("rng.normal(0.0, 0.01, size=(K, n1))", "rng.normal(0.0, np.sqrt(2.0 / n1), size=(K, n1))"),
        "init",
        "confident before it has learned anything",
    ),
    "init: every hidden unit alike": (
        ("rng.normal(0.0, np.sqrt(2.0 / n0), size=(n1, n0))", "np.full((n1, n0), 0.5)"),
        "init",
        "all start with the same weights",
    ),
    "init: W1 far too small": (
        ("rng.normal(0.0, np.sqrt(2.0 / n0), size=(n1, n0))", "rng.normal(0.0, 1e-3, (n1, n0))"),
        "init",
        "He's initialisation",
    ),
    "overfit: too few steps": (("range(300)", "range(30)"), "overfit", "not far enough"),
    "overfit: a learning rate that diverges": (
        ("params[k] - 0.5 * grads[k]", "params[k] - 300.0 * grads[k]"),
        "overfit",
        "memorise",
    ),
    "sweep: every run from where the last one ended": (
        ("p = {k: v.copy() for k, v in params.items()}", "p = params"),
        # in place: the update changes the arrays it was given
        (
            "p = {k: p[k] - lr * grads[k] for k in p}",
            "p.update({k: p[k] - lr * grads[k] for k in p})",
        ),
        "losses",
        "starts where the previous one ended",
    ),
    "sweep: the lowest loss for the rate": (
        ("return final_losses, lrs[best]", "return final_losses, final_losses[best]"),
        "best",
        "you returned the lowest final loss itself",
    ),
}


@pytest.mark.parametrize("name", list(SLIPS))
def test_the_checks_name_each_slip_of_part_b(support, name) -> None:
    *changes, which, words = SLIPS[name]
    ns = _part_b(*changes)
    with pytest.raises(AssertionError) as info:
        if which == "init":
            support.check_init(ns["init_params"], [4, 16, 3], seed=0)
        elif which == "overfit":
            X, y = support.tiny_batch(0)
            support.check_overfit(ns["overfit_tiny_batch"], X, y, K=3, seed=0)
        else:
            X, y, params = support.sweep_case(0)
            lrs = [0.001, 0.01, 0.1, 1.0, 10.0]
            support.check_sweep(ns["lr_sweep"], X, y, params, lrs, steps=25, only=which)
    assert words in str(info.value), str(info.value)


def test_the_network_of_part_b_has_the_gradients_of_its_cost(support) -> None:
    """The locked cell's network (the support module's, given to the kernel) against centred
    finite differences of its cost, in float64, away from the ReLU's kink."""
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(4, 7)), rng.integers(0, 3, size=7)
    params = {
        "W1": rng.normal(size=(6, 4)),
        "b1": rng.normal(size=(6, 1)),
        "W2": rng.normal(size=(3, 6)),
        "b2": rng.normal(size=(3, 1)),
    }
    assert np.min(np.abs(params["W1"] @ X + params["b1"])) > 1e-3
    J, grads = support.network_loss_and_grads(X, y, params)
    P = np.exp(params["W2"] @ np.maximum(params["W1"] @ X + params["b1"], 0) + params["b2"])
    P /= P.sum(axis=0)
    assert J == pytest.approx(-np.mean(np.log(P[y, np.arange(7)])), rel=1e-12)
    h = 1e-6
    for key, value in params.items():
        numeric = np.zeros_like(value)
        for i in np.ndindex(value.shape):
            up = {**params, key: value.copy()}
            down = {**params, key: value.copy()}
            up[key][i] += h
            down[key][i] -= h
            numeric[i] = (
                support.network_loss_and_grads(X, y, up)[0]
                - support.network_loss_and_grads(X, y, down)[0]
            ) / (2 * h)
        assert np.allclose(grads[key], numeric, rtol=1e-6, atol=1e-8), key


def test_a_slip_of_part_a_costs_part_a_only(support) -> None:
    """Part (b) trains the locked cell's network (the support module's), not the student's
    repairs: with the broken softmax gradient's lost 1/m left in (its check fails), the
    solution's part (b) still passes every check, the hidden cases too. (When the network was
    built from fixed_softmax_ce, this slip failed the tiny batch as well.)"""
    slip = ("return J, dZ / m  # the cost is a mean: so is its gradient", "return J, dZ")
    ns = _part_b(slip)
    with pytest.raises(AssertionError, match="the 1/m of the mean is lost"):
        _check(support, "softmax_ce", ns["fixed_softmax_ce"])
    support.check_init(ns["init_params"], [4, 16, 3], seed=0)
    for seed, (n0, K, m) in ((0, (4, 3, 10)), (51, (6, 5, 12)), (52, (3, 2, 8))):
        X, y = support.tiny_batch(seed, n0=n0, K=K, m=m)
        support.check_overfit(ns["overfit_tiny_batch"], X, y, K=K, seed=seed, hidden="x")
    X, y, params = support.sweep_case(0)
    for only in ("losses", "best"):
        support.check_sweep(ns["lr_sweep"], X, y, params, [0.01, 0.1, 1.0], 10, only)


def test_overfitting_needs_a_right_gradient(support) -> None:
    """The point of the tiny batch: with a lost 1/m in the network's gradient (a slip the
    gradient checker would find), the solution's settings no longer memorise it."""
    ns = _part_b()
    right = ns["loss_and_grads"]

    def lost_m(X, y, params):
        J, grads = right(X, y, params)
        return J, {k: g * X.shape[1] for k, g in grads.items()}

    ns["loss_and_grads"] = lost_m
    X, y = support.tiny_batch(0)
    with pytest.raises(AssertionError, match="on the batch it was trained on"):
        support.check_overfit(ns["overfit_tiny_batch"], X, y, K=3, seed=0)


def test_a_diverging_run_is_inf_and_nan_fails(support) -> None:
    """The hidden sweep whose largest rate diverges: the reference marks that run math.inf (and
    only that one), the solution passes, and an lr_sweep that records nan for it fails with a
    message that names the slip; one that keeps the diverged run's finite loss fails too."""
    X, y, params = support.sweep_case(63, n0=3, n1=8, K=3, m=40)
    rates, steps = [0.1, 1.0, 10.0, 1e6], 40
    want = support.sweep_reference(X, y, params, rates, steps)
    assert want[-1] == math.inf and all(math.isfinite(w) for w in want[:-1])
    ns = _part_b()
    for only in ("losses", "best"):
        support.check_sweep(ns["lr_sweep"], X, y, params, rates, steps, only, hidden="x")
    as_nan = _part_b(("J if math.isfinite(J) else math.inf", "J"))
    assert math.isnan(as_nan["lr_sweep"](X, y, params, rates, steps)[0][-1])
    with pytest.raises(AssertionError) as info:
        support.check_sweep(as_nan["lr_sweep"], X, y, params, rates, steps, "losses", hidden="x")
    message = str(info.value)
    assert "rate 4 of 4: expected inf, got nan" in message, message
    assert "recorded as nan" in message and "Likely bug" in message, message
    support.check_sweep(as_nan["lr_sweep"], X, y, params, rates, steps, "best", hidden="x")
    large = lambda *args: (want[:-1] + [1e300], 1.0)  # noqa: E731
    with pytest.raises(AssertionError, match="expected inf, got 1e"):
        support.check_sweep(large, X, y, params, rates, steps, "losses", hidden="x")


def test_the_grader_reads_every_forbidden_module(support) -> None:
    from autograder.box import declared_forbidden

    read = declared_forbidden([SOURCE / "ps7_support.py"])
    assert set(read) == set(support.FORBID)
    assert {"course.layers", "course.losses", "course.gradcheck", "torch"} <= set(read)


def test_the_loss_curves_are_the_four_situations(support) -> None:
    """The curves of part (c) show what the rubric reads from them."""
    runs = support.loss_curves()
    lnK = math.log(10)
    (a_tr, _), (b_tr, b_val), (c_tr, c_val), (d_tr, d_val) = (runs[k] for k in "ABCD")
    assert a_tr.min() < 1.5 and a_tr[-10:].mean() > a_tr.min() + 0.8  # down, then up
    assert np.all(np.diff(b_tr) < 0.02) and b_tr[-1] > 0.6 * lnK  # slow, far from done
    assert c_tr[-1] < 0.1 and c_val[-1] > c_val.min() + 0.3  # the gap that opens
    assert np.allclose(d_tr, lnK, atol=0.01) and np.allclose(d_val, lnK, atol=0.01)
    assert all(np.array_equal(x, y) for x, y in zip(runs["A"], support.loss_curves()["A"]))


def test_the_figure_of_the_loss_curves_is_readable_where_it_is_shown(support) -> None:
    """The course's rule for figures (course.viz): at most DISPLAY_WIDTH wide, no text smaller
    than MIN_FONT_SIZE there, one legend for the four panels."""
    sys.path.insert(0, str(ROOT / "tests"))
    from readable import smallest_text

    from course.viz import DISPLAY_WIDTH, MIN_FONT_SIZE

    fig = support.plot_loss_curves()
    assert fig.get_size_inches()[0] <= DISPLAY_WIDTH
    size, text = smallest_text(fig)
    assert size >= MIN_FONT_SIZE, f"{text!r} is shown at {size:.1f} pt"
    assert len(fig.legends) == 1 and not any(ax.get_legend() for ax in fig.axes)
    assert [ax.get_title() for ax in fig.axes] == [f"run {k}" for k in "ABCD"]
