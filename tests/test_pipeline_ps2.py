"""Problem set 2 (activations) end to end, with the real nbgrader commands, on a copy of the course.

One module-scoped run copies ``nbgrader_config.py`` and ``source_assignments/ps2`` into a
temporary course and runs what an instructor runs: ``nbgrader generate_assignment ps2``, the
bundled sample class (``autograder/sample_class/ps2/<student>.ipynb``) placed under
``submitted/<student>/ps2/``, ``nbgrader autograde ps2`` and ``nbgrader generate_feedback ps2``
(and ``nbgrader validate`` on two student copies). Nothing is written into the repository. The
scores of every autograded part must equal ``autograder/sample_class/ps2/expected.json``, the
feedback of each buggy submission must name its bug, and the hand-graded written answer of
part (d) must be left for the instructor. A few fast tests call ``ps2_support`` directly.
"""

from __future__ import annotations

import importlib.util
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import nbformat
import numpy as np
import pytest
from nbgrader_course import (
    ROOT,
    Course,
    error_outputs,
    execute_source,
    finish,
    load_expected,
    make_course,
)

SOURCE = ROOT / "source_assignments" / "ps2"
SAMPLES = ROOT / "autograder" / "sample_class" / "ps2"
AUTOGRADED = {
    "test_a_sigmoid": 4,
    "test_a_sigmoid_stable": 3,
    "test_b_tanh": 4,
    "test_c_relu": 3,
    "test_c_leaky_relu": 3,
}
MANUAL = {"d_vanishing": 4}
EXPECTED = load_expected(SAMPLES)
STUDENTS = sorted(EXPECTED)

pytestmark = pytest.mark.slow


# -- running nbgrader -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Course]:
    c = make_course(tmp_path_factory, "ps2")
    root = c.root
    start = time.perf_counter()
    c.nbgrader("generate_assignment", "ps2")
    # the sample class is a flat folder of notebooks, as downloaded from an LMS
    for student in STUDENTS:
        folder = c.submission_folder(student, support=False)
        shutil.copy(SAMPLES / f"{student}.ipynb", folder / "ps2.ipynb")

    # students check their copies before submitting, each in their copy of the released folder
    # (one `nbgrader validate` for both, running alongside the autograder)
    copies = []
    for name in ("rewritten", "blank"):
        mine = root / "students" / name
        shutil.copytree(root / "release" / "ps2", mine)
        shutil.copy(SAMPLES / f"{name}.ipynb", mine / "ps2.ipynb")
        copies.append(str(mine / "ps2.ipynb"))
    validate = c.start_nbgrader("validate", *copies)
    try:
        c.nbgrader("autograde", "ps2")
        c.nbgrader("generate_feedback", "ps2")
    finally:
        c.outputs["validate"] = finish(validate)
    c.timings["total"] = time.perf_counter() - start
    yield c
    c.report_timings("nbgrader ps2 pipeline")


# -- the released version -------------------------------------------------------------------------


def test_release_has_no_solutions_and_no_hidden_tests(course: Course) -> None:
    text = (course.root / "release" / "ps2" / "ps2.ipynb").read_text()
    for secret in (
        "BEGIN SOLUTION",
        "END SOLUTION",
        "BEGIN HIDDEN TESTS",
        "np.exp(-np.abs(z))",
        "return np.where(z > 0, 1.0, 0.1)",
        "support.random_inputs(",
        "support.large_inputs(",
        "Model answer",
        "Rubric",
    ):
        assert secret not in text, secret
    nb = nbformat.reads(text, as_version=4)
    answers = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    code = [c.source for c in answers if c.cell_type == "code"]
    written = [c.source for c in answers if c.cell_type == "markdown"]
    assert len(code) == 4 and all("raise NotImplementedError()" in s for s in code)
    assert written == ["YOUR ANSWER HERE"]
    graded = {
        c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    }
    assert graded == {**AUTOGRADED, **MANUAL}
    assert sum(graded.values()) == 21
    sources = "\n".join(c.source for c in nb.cells)
    assert 'support.check_pair("relu", relu, relu_prime' in sources  # the visible tests stay
    assert (course.root / "release" / "ps2" / "ps2_support.py").exists()


# -- the sample class -----------------------------------------------------------------------------


def test_sample_class_is_complete() -> None:
    files = {p.stem for p in SAMPLES.glob("*.ipynb")}
    assert files == set(EXPECTED)
    assert {"correct", "blank", "rewritten"} <= files
    bugs = [s for s in files if s.startswith("bug_")]
    assert 2 <= len(bugs) <= 4
    for student, exp in EXPECTED.items():
        assert set(exp["parts"]) == set(AUTOGRADED), student
        assert exp["total"] == sum(exp["parts"].values()), student
        assert all(0 <= exp["parts"][k] <= AUTOGRADED[k] for k in AUTOGRADED), student
    for bug in bugs:  # each buggy submission breaks exactly one part and says how
        lost = [k for k, v in EXPECTED[bug]["parts"].items() if v < AUTOGRADED[k]]
        assert len(lost) == 1, (bug, lost)
        assert EXPECTED[bug]["feedback_mentions"], bug


@pytest.mark.parametrize("student", STUDENTS)
def test_scores_per_part(course: Course, student: str) -> None:
    grades = course.grades(student)
    got = {k: grades[k]["auto_score"] for k in AUTOGRADED}
    assert got == EXPECTED[student]["parts"]
    assert sum(got.values()) == EXPECTED[student]["total"]


@pytest.mark.parametrize("student", STUDENTS)
def test_written_answer_waits_for_the_instructor(course: Course, student: str) -> None:
    written = course.grades(student)["d_vanishing"]
    score, max_score, needs_manual = course.notebook_totals(student)
    assert written["max_score"] == 4 and max_score == 21
    if student == "blank":
        # an unchanged answer cell is scored 0 automatically: nothing to grade by hand
        assert written["auto_score"] == 0 and not written["needs_manual_grade"]
        assert not needs_manual
    else:
        # an answer: no automatic score, flagged for manual grading, 0 points until graded
        assert written["auto_score"] is None and written["manual_score"] is None
        assert written["needs_manual_grade"] and needs_manual
        assert written["score"] == 0
    assert score == EXPECTED[student]["total"]


# -- the feedback ---------------------------------------------------------------------------------


@pytest.mark.parametrize("student", STUDENTS)
def test_feedback_names_the_bug(course: Course, student: str) -> None:
    text = course.feedback(student)
    for words in EXPECTED[student]["feedback_mentions"]:
        assert words in text, (student, words)


def test_correct_submissions_run_without_any_error(course: Course) -> None:
    assert error_outputs(course.autograded("correct")) == []
    assert error_outputs(course.autograded("rewritten")) == []


def test_each_bug_fails_only_its_own_test_cell(course: Course) -> None:
    """A bug fails its own cell only: with an error when the cell earns nothing, with the
    points of the function it got right when the cell earns some (its groups of checks)."""
    for student in STUDENTS:
        if not student.startswith("bug_"):
            continue
        nb = course.autograded(student)
        failed = [meta.get("grade_id") for meta, _ in error_outputs(nb)]
        parts = EXPECTED[student]["parts"]
        lost = [k for k, v in parts.items() if v == 0]
        assert failed == lost, student
        partial = {k for k, v in parts.items() if 0 < v < AUTOGRADED[k]}
        credited = {
            c.metadata["nbgrader"]["grade_id"]
            for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade")
            and any(o.output_type == "execute_result" for o in c.get("outputs", []))
        }
        assert credited == partial, student


def test_blank_submission_runs_and_every_test_says_not_written_yet(course: Course) -> None:
    errors = error_outputs(course.autograded("blank"))
    assert [meta.get("grade_id") for meta, _ in errors] == list(AUTOGRADED)
    for _, out in errors:
        assert out.ename == "AssertionError"
        assert "You have not written" in out.evalue


def test_validate_on_a_student_copy(course: Course) -> None:
    out = course.outputs["validate"].stdout
    # the notebooks are validated in order: first the rewritten one, then the blank one
    good, _, blank = out.partition("VALIDATION FAILED")
    assert good.strip() == "Success! Your notebook passes all the tests."
    assert "You have not written" in blank
    assert "YOUR ANSWER HERE" in blank  # the written answer of part (d) is still missing


# -- the source notebook passes its own tests -----------------------------------------------------


def test_source_notebook_passes_its_own_tests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nb = execute_source("ps2", tmp_path, monkeypatch)
    graded = [
        c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"
    ]
    assert [c.metadata["nbgrader"]["grade_id"] for c in graded] == list(AUTOGRADED)
    for cell in nb.cells:
        assert not [o for o in getattr(cell, "outputs", []) if o.output_type == "error"]
    for cell in graded:
        assert "pass" in "".join(o.get("text", "") for o in cell.outputs)


# -- the checks themselves, without nbgrader ------------------------------------------------------


@pytest.fixture(scope="module")
def support() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "ps2_support_under_test", SOURCE / "ps2_support.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _stable_sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def _fails(check, *args, **kwargs) -> str:
    with pytest.raises(AssertionError) as info:
        check(*args, **kwargs)
    return str(info.value)


def test_a_sigmoid_that_calls_the_package_earns_neither_sigmoid_part(support: ModuleType) -> None:
    from course import activations

    def sigmoid(z):
        return activations.sigmoid(z)

    def sigmoid_prime(z):
        s = _stable_sigmoid(z)
        return s * (1 - s)

    z = np.array([-1000.0, 0.0, 2.0])
    for message in (
        _fails(support.check_pair, "sigmoid", sigmoid, sigmoid_prime, z, "part (a)"),
        _fails(support.check_stable, "sigmoid", sigmoid, z, "part (a)"),
    ):
        assert "not course.activations" in message


def test_c_level_functions_of_forbidden_packages_are_found(support: ModuleType) -> None:
    special = pytest.importorskip("scipy.special")
    expit = special.expit

    def direct(z):
        return expit(z)

    def through_module(z):
        return special.expit(z)

    def helper_uses_it(z):
        return direct(z)

    def sigmoid_prime(z):
        return _stable_sigmoid(z) * (1 - _stable_sigmoid(z))

    for sigmoid in (direct, through_module, helper_uses_it, expit):
        message = _fails(support.check_pair, "sigmoid", sigmoid, sigmoid_prime, [0.5], "part (a)")
        assert "not scipy.special" in message
    assert support.uses_forbidden(_stable_sigmoid) is None  # numpy is allowed


def test_both_forms_of_the_derivative_are_accepted(support: ModuleType) -> None:
    def from_forward(z):
        s = _stable_sigmoid(z)
        return s * (1 - s)

    def from_z(z):
        e = np.exp(-np.abs(z))
        return e / (1 + e) ** 2

    for z in support.random_inputs(7, scale=30.0):
        support.check_pair("sigmoid", _stable_sigmoid, from_forward, z, "part (a)")
        support.check_pair("sigmoid", _stable_sigmoid, from_z, z, "part (a)")
    for z in support.large_inputs(8):
        for fprime in (from_forward, from_z):
            support.check_stable("sigmoid", fprime, z, "part (a)", label="sigmoid_prime")


def test_a_derivative_unstable_only_through_its_sigmoid_is_charged_once(
    support: ModuleType, capsys: pytest.CaptureFixture
) -> None:
    def naive(z):
        return 1 / (1 + np.exp(-z))

    def built_on_naive(z):
        s = naive(z)
        return s * (1 - s)

    def own_naive(z):  # overflows by itself: inf / inf = nan
        e = np.exp(-z)
        return e / (1 + e) ** 2

    z = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    args = ("sigmoid", built_on_naive, z, "(a)")
    support.check_stable(*args, label="sigmoid_prime", forward=naive)
    assert "inherits the overflow of your sigmoid" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="not stable"):  # without its sigmoid: its own
        support.check_stable(*args, label="sigmoid_prime")
    for fprime, sigmoid in ((own_naive, naive), (own_naive, _stable_sigmoid)):
        message = _fails(
            support.check_stable,
            "sigmoid",
            fprime,
            z,
            "(a)",
            label="sigmoid_prime",
            forward=sigmoid,
        )
        assert "not stable" in message
    for z in support.large_inputs(203):  # the hidden cases too
        support.check_stable(
            "sigmoid", built_on_naive, z, "(a)", label="sigmoid_prime", forward=naive, hidden="x"
        )


def test_the_messages_name_the_usual_mistakes(support: ModuleType) -> None:
    z = np.array([-2.0, 0.0, 3.0])

    def relu(z):
        return np.maximum(z, 0.0)

    def relu_in_place(z):
        z[z < 0] = 0
        return z

    def relu_prime_int(z):
        return (z > 0).astype(int)

    def leaky(z):
        return np.maximum(0.01 * z, z)

    def leaky_prime(z):
        return np.where(z > 0, 1.0, 0.01)

    def naive(z):
        return 1 / (1 + np.exp(-z))

    assert "in place" in _fails(support.check_pair, "relu", relu_in_place, np.sign, z, "(c)")
    assert "float64" in _fails(support.check_pair, "relu", relu, relu_prime_int, z, "(c)")
    assert "slope 0.01" in _fails(support.check_pair, "leaky_relu", leaky, leaky_prime, z, "(c)")
    message = _fails(support.check_stable, "sigmoid", naive, np.array([1.0, -1e4]), "(a)")
    assert "overflow" in message and "at z = -10000" in message
