"""The grading pipeline end to end, with the real nbgrader commands, on a copy of the course.

One module-scoped run copies ``nbgrader_config.py`` and ``source_assignments/`` into a temporary
course, then runs what an instructor runs: ``nbgrader generate_assignment ps1``, six submissions
under ``submitted/<student>/ps1/``, ``nbgrader autograde ps1``, ``nbgrader generate_feedback ps1``,
``nbgrader export`` and ``nbgrader validate`` on a student copy. Nothing is written into the
repository. The tests then read the scores from the gradebook and the export, and the feedback.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbgrader_course import (
    ROOT,
    Course,
    error_outputs,
    execute_source,
    finish,
    graded_cells,
    make_course,
)

POINTS = {"a": 6, "b": 8, "c": 6}

pytestmark = pytest.mark.slow

# -- the submissions ------------------------------------------------------------------------------

OVERWRITE_AT_BRANCHES = """
def backward(graph):
    grads = {node["name"]: 0.0 for node in graph}
    grads[graph[-1]["name"]] = 1.0
    for node in reversed(graph):
        upstream = grads[node["name"]]
        for parent, local in zip(node["parents"], node["local"]):
            grads[parent] = local * upstream  # the bug: = instead of +=
    return grads
"""

CALLS_COURSE_GRAPH = """
from course.graph import Value


def backward(graph):
    nodes = {}
    for node in graph:
        parents = tuple(nodes[p] for p in node["parents"])
        nodes[node["name"]] = Value(node["value"], parents, node["op"], tuple(node["local"]))
    nodes[graph[-1]["name"]].backward()
    return {name: v.grad for name, v in nodes.items()}
"""

RECIPROCAL_SIGN = """
def exp_backward(a, upstream):
    return math.exp(a) * upstream


def reciprocal_backward(a, upstream):
    return upstream / (a * a)  # the bug: the sign of the local gradient
"""

# correct, but written differently from the reference solution in every part
REWRITTEN = {
    "a_add_mul": """
def add_backward(a, b, upstream):
    da = upstream
    db = upstream
    return (da, db)


def mul_backward(a, b, upstream):
    switched = [b, a]
    return tuple(x * upstream for x in switched)
""",
    "a_max": """
def max_backward(a, b, upstream):
    if a == b:
        share = upstream / 2
        return share, share
    return (upstream, 0) if a > b else (0, upstream)
""",
    "a_exp_reciprocal": """
def exp_backward(a, upstream):
    return upstream * np.exp(a)


def reciprocal_backward(a, upstream):
    return upstream * (-(a**-2.0))
""",
    "b_hand": """
def hand_gradients():
    x, y = support.branch_inputs()  # my variant's x and y
    return {"x": y * y + y, "y": x * (2 * y + 1)}
""",
    "b_backward": """
def backward(graph):
    # recursion over the children, with memoisation
    by_name = {node["name"]: node for node in graph}
    children = {node["name"]: [] for node in graph}
    for node in graph:
        for k, parent in enumerate(node["parents"]):
            children[parent].append((node["name"], k))
    output = graph[-1]["name"]
    memo = {output: 1.0}

    def grad(name):
        if name not in memo:
            memo[name] = sum(by_name[c]["local"][k] * grad(c) for c, k in children[name])
        return memo[name]

    return {name: grad(name) for name in by_name}
""",
    "c_direct_indirect": """
def direct_indirect(u1):
    e = math.exp(u1) * math.exp(u1 * u1)
    return e, 2 * u1 * e, e * (1 + 2 * u1)
""",
}

# expected points per part for each student
EXPECTED = {
    "solution": {"a": 6, "b": 8, "c": 6},
    "blank": {"a": 0, "b": 0, "c": 0},
    "overwrite": {"a": 6, "b": 0, "c": 6},
    "rewritten": {"a": 6, "b": 8, "c": 6},
    "uses_graph": {"a": 6, "b": 0, "c": 6},
    "reciprocal_sign": {"a": 5, "b": 8, "c": 6},  # exp_backward's point of the cell is kept
}


def answers_of(nb: nbformat.NotebookNode) -> dict[str, str]:
    """grade_id -> source of every solution cell."""
    return {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }


def fill(release: nbformat.NotebookNode, answers: dict[str, str]) -> nbformat.NotebookNode:
    """A student's copy: the released notebook with some answer cells written."""
    nb = nbformat.from_dict(json.loads(json.dumps(release)))
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id].strip("\n")
    return nb


# -- running nbgrader -----------------------------------------------------------------------------


def scores(course: Course, student: str) -> dict[str, float]:
    """Points per part, read from the gradebook."""
    per_part = dict.fromkeys(POINTS, 0.0)
    for grade_id, score in course.scores(student).items():
        per_part[grade_id.split("_")[1]] += score
    return per_part


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Course]:
    c = make_course(tmp_path_factory, "ps1", all_sources=True)
    root = c.root
    start = time.perf_counter()

    c.nbgrader("generate_assignment", "ps1")
    release = nbformat.read(root / "release" / "ps1" / "ps1.ipynb", as_version=4)
    source = nbformat.read(root / "source_assignments" / "ps1" / "ps1.ipynb", as_version=4)
    solutions = answers_of(source)
    submissions = {
        "solution": source,
        "blank": release,
        "overwrite": fill(release, {**solutions, "b_backward": OVERWRITE_AT_BRANCHES}),
        "rewritten": fill(release, REWRITTEN),
        "uses_graph": fill(release, {**solutions, "b_backward": CALLS_COURSE_GRAPH}),
        "reciprocal_sign": fill(release, {**solutions, "a_exp_reciprocal": RECIPROCAL_SIGN}),
    }
    for student, nb in submissions.items():
        nbformat.write(nb, c.submission_folder(student) / "ps1.ipynb")

    # a student checks their copy before submitting (runs alongside the autograder)
    validate = {
        name: c.start_nbgrader("validate", str(root / "submitted" / name / "ps1" / "ps1.ipynb"))
        for name in ("rewritten", "blank")
    }
    try:
        c.nbgrader("autograde", "ps1")
        c.nbgrader("generate_feedback", "ps1")
        c.nbgrader("export")
    finally:
        for name, proc in validate.items():
            c.outputs[f"validate {name}"] = finish(proc)
    c.timings["total"] = time.perf_counter() - start
    yield c
    c.report_timings("nbgrader pipeline")


# -- the released version -------------------------------------------------------------------------


def test_release_has_no_solutions_and_no_hidden_tests(course: Course) -> None:
    text = (course.root / "release" / "ps1" / "ps1.ipynb").read_text()
    for secret in (
        "BEGIN SOLUTION",
        "END SOLUTION",
        "BEGIN HIDDEN TESTS",
        "grads[parent] += local * upstream",
        "return b * upstream, a * upstream",
        "support.random_example(seed)",
        "support.tie_example()",
    ):
        assert secret not in text, secret
    nb = nbformat.reads(text, as_version=4)
    stubs = [c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert len(stubs) == 6 and all("raise NotImplementedError()" in s for s in stubs)
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert sum(c.metadata["nbgrader"]["points"] for c in tests) == 20
    assert "support.check_backward(backward, support.branch_example())" in text  # visible tests
    assert (course.root / "release" / "ps1" / "ps1_support.py").exists()


# -- the scores -----------------------------------------------------------------------------------


@pytest.mark.parametrize("student", list(EXPECTED))
def test_scores_per_part(course: Course, student: str) -> None:
    assert scores(course, student) == EXPECTED[student]


def test_export_agrees_with_the_gradebook(course: Course) -> None:
    with open(course.root / "grades.csv", newline="") as fh:
        rows = {row["student_id"]: row for row in csv.DictReader(fh)}
    for student, parts in EXPECTED.items():
        assert float(rows[student]["raw_score"]) == sum(parts.values())
        assert float(rows[student]["max_score"]) == 20


def test_blank_submission_runs_and_every_test_says_not_written_yet(course: Course) -> None:
    errors = error_outputs(course.autograded("blank"))
    assert len(errors) == 7  # one per graded test cell, nowhere else
    for meta, out in errors:
        assert meta.get("grade") is True
        assert out.ename == "AssertionError"
        assert "You have not written" in out.evalue


def test_solution_runs_without_any_error(course: Course) -> None:
    assert error_outputs(course.autograded("solution")) == []
    assert error_outputs(course.autograded("rewritten")) == []


# -- the feedback ---------------------------------------------------------------------------------


def test_feedback_names_the_overwrite_bug(course: Course) -> None:
    text = course.feedback("overwrite")
    assert "overwritten instead of added at a branch" in text
    assert "relative error" in text


def test_feedback_says_the_package_must_not_do_the_work(course: Course) -> None:
    text = course.feedback("uses_graph")
    assert "this part must be computed by your own code, not course.graph" in text


def test_feedback_shows_messages_not_the_checking_code(course: Course) -> None:
    # nbgrader's own autograde runs the tests in the student's kernel: their tracebacks go
    # through the checking code, which the page leaves out (autograder.feedback)
    for student in ("overwrite", "blank", "uses_graph"):
        text = course.feedback(student)
        for grader in ("checks.py", "ps1_support.py", "most recent call", "skipping hidden"):
            assert grader not in text, (student, grader)
        assert "Test cell" not in text
        assert "Part (b): the backward sweep, Algorithm 4" in text
    text = course.feedback("overwrite")
    assert (
        "Tests for backward on the two graphs of the lectures, and your hand_gradients 0 / 4"
        in text
    )


def test_feedback_keeps_hidden_tests_hidden(course: Course) -> None:
    # the hidden cases stay hidden from the feedback; their results still count and show
    source = (ROOT / "source_assignments" / "ps1" / "ps1.ipynb").read_text()
    assert "BEGIN HIDDEN TESTS" in source
    for student in ("overwrite", "uses_graph", "solution"):
        text = course.feedback(student)
        assert "BEGIN HIDDEN TESTS" not in text and "END HIDDEN TESTS" not in text
        assert "Score:" in text


def test_validate_on_a_student_copy(course: Course) -> None:
    good = course.outputs["validate rewritten"]
    assert good.returncode == 0 and "Success! Your notebook passes all the tests." in good.stdout
    blank = course.outputs["validate blank"]
    assert "You have not written" in blank.stdout + blank.stderr
    assert "Success!" not in blank.stdout


# -- the source notebook passes its own tests -----------------------------------------------------


def test_source_notebook_passes_its_own_tests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nb = execute_source("ps1", tmp_path, monkeypatch)
    graded = graded_cells(nb)
    assert len(graded) == 7
    for cell in graded:
        text = "".join(o.get("text", "") for o in cell.outputs)
        assert not [o for o in cell.outputs if o.output_type == "error"]
        assert "pass" in text or "during grading" in text
