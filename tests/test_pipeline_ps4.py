"""Problem set 4 (mini-batch training) through the real nbgrader pipeline, on a copy of the course.

One module-scoped run copies ``nbgrader_config.py`` and ``source_assignments/ps4/`` into a
temporary course and runs what an instructor runs: ``nbgrader generate_assignment ps4``, the
bundled sample class (``autograder/sample_class/ps4/<student>.ipynb``, a flat folder as
downloaded from an LMS) placed under ``submitted/<student>/ps4/ps4.ipynb``, ``nbgrader autograde
ps4`` and ``nbgrader generate_feedback ps4``. Meanwhile the source notebook, solutions included,
is executed with nbclient. Nothing is written into the repository. The tests then compare every
student's points per graded cell with ``autograder/sample_class/ps4/expected.json`` and look for
the words that name each bug in the feedback.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbgrader_course import (
    ROOT,
    Course,
    error_outputs,
    finish,
    graded_cells,
    load_expected,
    make_course,
    start,
)

SOURCE = ROOT / "source_assignments" / "ps4"
SAMPLE = ROOT / "autograder" / "sample_class" / "ps4"
TOTAL = 28
GRADED = {  # grade_id -> points
    "test_a_batches": 3,
    "test_a_more": 3,
    "test_b_gradients": 4,
    "test_b_more": 4,
    "test_c_momentum": 3,
    "test_c_adam": 3,
    "test_c_adam_more": 2,
    "test_d_train": 2,
    "test_d_more": 4,
}

pytestmark = pytest.mark.slow

EXPECTED: dict[str, dict] = load_expected(SAMPLE)
BUGGY = [s for s in EXPECTED if s.startswith("bug_")]

# run the source notebook in a child process while nbgrader autogrades (2 cores, ~60 s budget)
EXECUTE_SOURCE = """
import sys
import nbformat
from nbclient import NotebookClient

path = sys.argv[1]
nb = nbformat.read(path, as_version=4)
NotebookClient(nb, timeout=120, kernel_name="python3",
               resources={"metadata": {"path": sys.argv[2]}}).execute()
nbformat.write(nb, path)
"""


@dataclass
class Run:
    """The temporary course, and the source notebook executed alongside the autograder."""

    course: Course
    executed_source: subprocess.CompletedProcess
    executed_path: Path


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    c = make_course(
        tmp_path_factory,
        "ps4",
        OPENBLAS_NUM_THREADS="1",  # two kernels at once on two cores
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
    )
    began = time.perf_counter()

    # the source notebook with its solutions, in a folder of its own
    run_dir = tmp_path_factory.mktemp("source_run")
    for name in ("ps4.ipynb", "ps4_support.py"):
        shutil.copy(SOURCE / name, run_dir)
    executing = start(
        [sys.executable, "-c", EXECUTE_SOURCE, str(run_dir / "ps4.ipynb"), str(run_dir)],
        run_dir,
        c.env,
    )
    try:
        c.nbgrader("generate_assignment", "ps4")
        for path in sorted(SAMPLE.glob("*.ipynb")):
            # with the support file the student downloaded
            shutil.copy(path, c.submission_folder(path.stem) / "ps4.ipynb")
        c.nbgrader("autograde", "ps4")
        c.nbgrader("generate_feedback", "ps4")
    finally:
        executed = finish(executing)
    c.timings["total"] = time.perf_counter() - began
    yield Run(c, executed, run_dir / "ps4.ipynb")
    c.report_timings("ps4 pipeline")


@pytest.fixture(scope="module")
def course(run: Run) -> Course:
    return run.course


# -- the released version -------------------------------------------------------------------------


def test_release_has_no_solutions_and_no_hidden_tests(course: Course) -> None:
    text = (course.root / "release" / "ps4" / "ps4.ipynb").read_text()
    for secret in (
        "BEGIN SOLUTION",
        "END SOLUTION",
        "BEGIN HIDDEN TESTS",
        "END HIDDEN TESTS",
        "rng.permutation(m)  # a new random order",
        "dZ2 = (Yhat - Y) / m",
        "m_hat = m / (1.0 - beta1**t)",
        "support.large_case(",
        "support.random_batch_cases(",
        "warm=True",
        "data_seed=1",
    ):
        assert secret not in text, secret
    nb = nbformat.reads(text, as_version=4)
    stubs = [c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert len(stubs) == 5
    assert all("raise NotImplementedError()" in s for s in stubs)
    assert stubs[1].count("raise NotImplementedError()") == 2  # sigmoid and mlp_gradients
    tests = {
        c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    }
    assert tests == GRADED and sum(tests.values()) == TOTAL
    assert "support.check_batches(batches, 32, 12)" in text  # visible tests stay
    assert "support.check_training(train, data_seed=0, train_seed=0)" in text
    assert (course.root / "release" / "ps4" / "ps4_support.py").exists()


# -- the sample class -----------------------------------------------------------------------------


def test_sample_class_is_complete() -> None:
    students = {p.stem for p in SAMPLE.glob("*.ipynb")}
    assert students == set(EXPECTED)
    assert {"correct", "blank", "rewritten"} <= students
    assert 2 <= len(BUGGY) <= 4
    for student, want in EXPECTED.items():
        assert set(want["parts"]) == set(GRADED), student
        assert want["total"] == sum(want["parts"].values()), student
        assert all(0 <= want["parts"][k] <= GRADED[k] for k in GRADED), student
    for student in BUGGY:  # each bug costs points, and names itself in the feedback
        assert EXPECTED[student]["total"] < TOTAL and EXPECTED[student]["feedback_mentions"]


def test_submissions_are_made_from_the_released_notebook(course: Course) -> None:
    release = nbformat.read(course.root / "release" / "ps4" / "ps4.ipynb", as_version=4)
    locked = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in release.cells
        if c.metadata.get("nbgrader", {}).get("locked")
    }
    for path in SAMPLE.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
        assert ids == [c.metadata.get("nbgrader", {}).get("grade_id") for c in release.cells]
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in locked:
                assert cell.source == locked[grade_id], (path.stem, grade_id)
            if cell.metadata.get("nbgrader", {}).get("solution") and path.stem != "blank":
                assert "NotImplementedError" not in cell.source, (path.stem, grade_id)
                assert "BEGIN SOLUTION" not in cell.source, (path.stem, grade_id)


# -- the scores -----------------------------------------------------------------------------------


@pytest.mark.parametrize("student", list(EXPECTED))
def test_scores_per_part(course: Course, student: str) -> None:
    got = course.scores(student)
    assert got == EXPECTED[student]["parts"]
    assert sum(got.values()) == EXPECTED[student]["total"]


def test_correct_and_rewritten_run_without_any_error(course: Course) -> None:
    assert error_outputs(course.autograded("correct")) == []
    assert error_outputs(course.autograded("rewritten")) == []


def test_blank_submission_says_not_written_yet_in_every_test(course: Course) -> None:
    errors = error_outputs(course.autograded("blank"))
    assert len(errors) == len(GRADED)  # one per graded test cell, nowhere else
    for meta, out in errors:
        assert meta.get("grade") is True
        assert out.ename == "AssertionError"
        assert "You have not written" in out.evalue


def test_buggy_submissions_fail_only_with_teaching_messages(course: Course) -> None:
    """Each buggy submission fails a test: with an error (a cell of no points), or with the
    partial credit of a cell whose groups of checks did not all pass, said in its output."""
    for student in BUGGY:
        nb = course.autograded(student)
        errors = error_outputs(nb)
        partial = [
            c
            for c in graded_cells(nb)
            if any(o.output_type == "execute_result" for o in c.outputs)
            and "Points of this test" in "".join(o.get("text", "") for o in c.outputs)
        ]
        assert errors or partial, student
        for meta, out in errors:
            assert meta.get("grade") is True, student
            assert out.ename == "AssertionError", (student, out.ename, out.evalue)


def test_partial_credit_says_which_groups_failed(course: Course) -> None:
    """A slip in mlp_gradients costs its 3 points of each cell of part (b), not sigmoid's."""
    nb = course.autograded("bug_no_mean_over_batch")
    for grade_id in ("test_b_gradients", "test_b_more"):
        cell = next(c for c in graded_cells(nb) if c.metadata["nbgrader"]["grade_id"] == grade_id)
        printed = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        results = [o for o in cell.outputs if o.output_type == "execute_result"]
        assert [o.data["text/plain"] for o in results] == ["1.0"], grade_id
        assert "[mlp_gradients: 0 of 3 points]" in printed, grade_id
        assert "Points of this test: 1 of 4" in printed, grade_id


# -- the feedback ---------------------------------------------------------------------------------


@pytest.mark.parametrize("student", list(EXPECTED))
def test_feedback_names_the_bug(course: Course, student: str) -> None:
    text = course.feedback(student)
    for words in EXPECTED[student]["feedback_mentions"]:
        assert words in text, (student, words)
    if student in BUGGY:
        assert "Likely bug" in text or "must be computed by your own code" in text


def test_feedback_of_the_package_caller_says_no_credit(course: Course) -> None:
    text = course.feedback("bug_uses_package")
    assert "Your function called Adam.__init__ from course.optim" in text
    assert "earns no credit for this part" in text


# -- the source notebook passes its own tests -----------------------------------------------------


def test_source_notebook_passes_its_own_tests(run: Run) -> None:
    proc = run.executed_source
    assert proc is not None and proc.returncode == 0, proc and proc.stderr[-3000:]
    nb = nbformat.read(run.executed_path, as_version=4)
    graded = graded_cells(nb)
    assert len(graded) == len(GRADED)
    assert error_outputs(nb) == []
    for cell in graded:
        text = "".join(o.get("text", "") for o in cell.outputs)
        assert "pass" in text or "during grading" in text, cell.metadata["nbgrader"]["grade_id"]
