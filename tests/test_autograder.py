"""The instructor's autograder (``python -m autograder``) on a temporary copy of the course.

One module-scoped course (``nbgrader_config.py`` and ``source_assignments/`` copied into a
temporary folder; nothing is written into the repository) releases every assignment that has a
sample class. Each sample class (``autograder/sample_class/<assignment>/``, a flat LMS-style
folder with an ``expected.json``) is graded once, in one parallel run with ``--jobs 2``, and its
results are kept for the tests. A second run on ps1 then brings an nbgrader-layout folder with a
resubmission, a new student and a notebook that is not JSON.
"""

from __future__ import annotations

import contextlib
import csv
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder import submissions
from autograder.cli import main

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "autograder" / "sample_class"
CLASSES = sorted(p.parent.name for p in SAMPLE.glob("*/expected.json"))
BIN = Path(sys.executable).parent
COURSE_ID = "backprop-course"
PS1_PARTS = [
    "test_a_add_mul",
    "test_a_max",
    "test_a_exp_reciprocal",
    "test_b_examples",
    "test_b_more",
    "test_c_visible",
    "test_c_hidden",
]

pytestmark = pytest.mark.slow


def text_of(page: Path) -> str:
    """The words of an HTML page."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.read_text())))


def read_csv(path: Path) -> tuple[list[str], dict[str, dict[str, str]]]:
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    return list(reader.fieldnames or []), {r["student_id"]: r for r in rows}


def gradebook_scores(
    root: Path, assignment: str, auto: bool = False
) -> dict[str, dict[str, float]]:
    """student -> grade_id -> points (``auto``: the automatic points only, without the manual
    grades an earlier test gave), read with nbgrader's own API."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", COURSE_ID) as gb:
        return {
            sub.student.id: {
                g.name: g.auto_score if auto else g.score for nb in sub.notebooks for g in nb.grades
            }
            for sub in gb.find_assignment(assignment).submissions
        }


@dataclass
class Run:
    """What one grading run left: its output, CSV and feedback, read right after it."""

    stdout: str
    stderr: str
    returncode: int
    columns: list[str]
    rows: dict[str, dict[str, str]]
    feedback: dict[str, str]  # student -> text of the feedback page
    scores: dict[str, dict[str, float]]  # from the gradebook
    auto: dict[str, dict[str, float]]  # the automatic points only, from the gradebook


def read_run(root: Path, assignment: str, out: Path, proc: tuple[str, str, int]) -> Run:
    columns, rows = read_csv(out / f"{assignment}_grades.csv")
    pages = {p.stem: text_of(p) for p in (out / "feedback").glob("*.html")}
    return Run(
        *proc,
        columns,
        rows,
        pages,
        gradebook_scores(root, assignment),
        gradebook_scores(root, assignment, auto=True),
    )


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of the course with the assignments of the sample classes released."""
    saved = dict(os.environ)
    root = tmp_path_factory.mktemp("course")
    jupyter = tmp_path_factory.mktemp("jupyter")
    shutil.copy(ROOT / "nbgrader_config.py", root)
    for name in {"ps1", *CLASSES}:
        shutil.copytree(
            ROOT / "source_assignments" / name,
            root / "source_assignments" / name,
            ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"),
        )
    os.environ.update(
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        PYTHONDONTWRITEBYTECODE="1",
        JUPYTER_CONFIG_DIR=str(jupyter / "config"),  # no instructor's personal config
        JUPYTER_RUNTIME_DIR=str(jupyter / "runtime"),
    )
    proc = subprocess.run(
        [sys.executable, "-m", "autograder", "--course", str(root), "release", *sorted(CLASSES)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in CLASSES:
        assert f"released {name}" in proc.stdout
        assert (root / "release" / name).is_dir()
    yield root
    os.environ.clear()
    os.environ.update(saved)


def cli(*args: str) -> tuple[str, str, int]:
    """The command line, in this process (its workers are processes of their own)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return out.getvalue(), err.getvalue(), code


@pytest.fixture(scope="module")
def graded(course: Path, tmp_path_factory: pytest.TempPathFactory):
    """assignment -> its sample class graded once (ps1 through ``python -m autograder``)."""
    cache: dict[str, Run] = {}

    def run(assignment: str) -> Run:
        if assignment not in cache:
            out = tmp_path_factory.mktemp(f"out_{assignment}")
            args = ["--course", str(course), "grade", assignment, str(SAMPLE / assignment)]
            args += ["--jobs", "2", "--out", str(out)]
            if assignment == "ps1":  # the real command, as an instructor types it
                p = subprocess.run(
                    [sys.executable, "-m", "autograder", *args],
                    cwd=ROOT,
                    capture_output=True,
                    text=True,
                    timeout=600,
                )
                result = (p.stdout, p.stderr, p.returncode)
            else:
                result = cli(*args, "--no-progress")
            cache[assignment] = read_run(course, assignment, out, result)
        return cache[assignment]

    return run


# -- the sample classes ---------------------------------------------------------------------------


def test_the_cli_grades_the_ps1_class_in_parallel(graded) -> None:
    run = graded("ps1")
    assert run.returncode == 0, run.stdout + run.stderr
    n = len(list((SAMPLE / "ps1").glob("*.ipynb")))  # every notebook of the sample class
    assert n >= 5
    assert f"graded {n} submissions (flat layout)" in run.stdout
    assert f"with 2 workers: {n} ok, 0 errors" in run.stdout
    assert "grading ps1: 100%" in run.stderr  # the progress bar
    expected = json.loads((SAMPLE / "ps1" / "expected.json").read_text())
    assert set(run.rows) == set(expected)
    for student, want in expected.items():
        assert set(want["parts"]) == set(PS1_PARTS)
        assert run.scores[student] == want["parts"], student
        assert {p: float(run.rows[student][p]) for p in PS1_PARTS} == want["parts"]
        assert float(run.rows[student]["total"]) == want["total"]
        for words in want["feedback_mentions"]:
            assert words in run.feedback[student], (student, words)
        assert_reads_well(run.feedback[student], student)
    assert "overwritten instead of added at a branch" in run.feedback["bug_overwrite_branch"]
    assert "not course.graph" in run.feedback["bug_uses_package"]
    # the last section: the class compared, the page written beside the CSV
    line = next(x for x in run.stdout.splitlines() if x.startswith("similarity:"))
    page = Path(line.rsplit(": ", 1)[1])
    assert page.name == "similarity.html" and page.is_file(), line
    # the two deliberate copies; calling the package (bug_uses_package) is not pasting its code
    assert "2 pair(s) of submissions unusually alike, 0 answer(s) like the course's" in line
    assert "copied_neighbour" in page.read_text() and "copied_numbers" in page.read_text()


@pytest.mark.parametrize("assignment", CLASSES)
def test_sample_class_scores_and_feedback(graded, assignment: str) -> None:
    run = graded(assignment)
    assert run.returncode == 0, run.stdout + run.stderr
    expected = json.loads((SAMPLE / assignment / "expected.json").read_text())
    for student, want in expected.items():
        row = run.rows[student]
        assert row["status"].startswith("ok"), (student, row)
        got = {part: run.scores[student][part] for part in want["parts"]}
        assert got == want["parts"], student
        assert float(row["total"]) == want["total"], student
        for words in want.get("feedback_mentions", []):
            assert words in run.feedback[student], (student, words)
        assert_reads_well(run.feedback[student], student)


def assert_reads_well(page: str, student: str) -> None:
    """A feedback page names the parts, and shows neither the grader nor its machine."""
    assert "Part (a)" in page and "Test cell" not in page, student
    for grader in ("checks.py", "site-packages", "Traceback (most recent", str(ROOT), BIN):
        assert str(grader) not in page, (student, grader)


def test_the_csv_has_the_columns_and_the_totals(graded) -> None:
    run = graded("ps1")
    assert run.columns == [
        "student_id",
        "name",
        *PS1_PARTS,
        "total",
        "max",
        "late",
        "submitted",
        "status",
        "message",
        "problems",
    ]
    for student, row in run.rows.items():
        parts = sum(float(row[p]) for p in PS1_PARTS)
        assert float(row["total"]) == parts, student
        assert row["max"] == "20" and row["status"] == "ok" and row["message"] == ""
        # plain file names: no LMS said a name or lateness, and no time is known
        assert row["name"] == row["late"] == row["submitted"] == "", row


def test_report_prints_the_table_from_the_gradebook(graded, course: Path) -> None:
    graded("ps1")
    out, _, code = cli("--course", str(course), "report", "ps1")
    assert code == 0
    assert re.search(r"^correct\s+2\s+2\s+2\s+4\s+4\s+3\s+3\s+20/20$", out, re.MULTILINE)
    assert re.search(r"^bug_uses_package\s.*\s12/20$", out, re.MULTILINE)


#: what grading keeps beside an autograded notebook for the instructor alone
INSTRUCTOR_FILES = {"verdicts.json", "findings.json", ".submission.sha256"}


def test_a_feedback_folder_holds_nothing_for_the_instructor(graded, course: Path) -> None:
    """nbgrader's generate_feedback copies every file beside an autograded notebook into the
    student's feedback folder: the checks' verdicts, the problems grading noticed (the code it
    finds suspicious) and the submission's digest stay with the instructor, after a grading run
    and after the plain ``nbgrader generate_feedback`` (the formgrader's button) alike."""
    graded("ps1")
    kept = {p.name for p in course.glob("autograded/*/ps1/*")}
    assert INSTRUCTOR_FILES <= kept  # (the run keeps them: for Gradescope, report, --resume)

    def sent() -> set[str]:
        return {p.name for p in course.glob("feedback/*/ps1/*")}

    assert "ps1.html" in sent() and not sent() & INSTRUCTOR_FILES, sent()
    proc = subprocess.run(
        [str(BIN / "nbgrader"), "generate_feedback", "ps1", "--force"],
        cwd=course,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ps1.html" in sent() and not sent() & INSTRUCTOR_FILES, sent()


# -- an nbgrader-layout folder: a resubmission, a new student, a broken notebook -------------------


@pytest.fixture(scope="module")
def second_run(graded, course: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    graded("ps1")  # first, the class
    inbox = tmp_path_factory.mktemp("inbox")
    for student, source in [("correct", "correct"), ("new_student", "rewritten")]:
        folder = inbox / student / "ps1"
        folder.mkdir(parents=True)
        shutil.copy(SAMPLE / "ps1" / f"{source}.ipynb", folder / "ps1.ipynb")
        (folder / "timestamp.txt").write_text("2025-03-01 10:00:00.000000 UTC")
    (inbox / "broken" / "ps1").mkdir(parents=True)
    (inbox / "broken" / "ps1" / "ps1.ipynb").write_text('{"cells": [')  # not JSON
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb:
        # the instructor overrode a score in the formgrader, and commented
        gb.find_grade("test_c_hidden", "ps1", "ps1", "correct").manual_score = 1.5
        gb.find_comment("b_backward", "ps1", "ps1", "correct").manual_comment = "Neat sweep."
        gb.db.commit()
    out = tmp_path_factory.mktemp("out_second")
    result = cli(
        "--course", str(course), "grade", "ps1", str(inbox), "-j", "2", "--out", str(out),
        "--no-progress",
    )  # fmt: skip
    return read_run(course, "ps1", out, result)


def test_nbgrader_layout_is_graded(second_run: Run, course: Path) -> None:
    assert second_run.returncode == 0, second_run.stdout + second_run.stderr
    assert "graded 3 submissions (nbgrader layout)" in second_run.stdout
    assert second_run.rows["new_student"]["status"] == "ok"
    assert second_run.rows["new_student"]["total"] == "20"
    assert second_run.rows["new_student"]["submitted"] == "2025-03-01 10:00:00 UTC"
    assert second_run.scores["new_student"] == dict.fromkeys(PS1_PARTS, 0) | {
        "test_a_add_mul": 2, "test_a_max": 2, "test_a_exp_reciprocal": 2,
        "test_b_examples": 4, "test_b_more": 4, "test_c_visible": 3, "test_c_hidden": 3,
    }  # fmt: skip
    assert (course / "autograded" / "new_student" / "ps1" / "ps1.ipynb").is_file()
    assert (course / "feedback" / "new_student" / "ps1" / "ps1.html").is_file()
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb:
        stamp = gb.find_submission("ps1", "new_student").timestamp
    assert stamp is not None and (stamp.year, stamp.month, stamp.day) == (2025, 3, 1)


def test_a_broken_notebook_is_an_error_row_and_the_others_are_graded(second_run: Run) -> None:
    broken = second_run.rows["broken"]
    assert broken["status"] == "error"
    assert "JSON" in broken["message"] and "ps1.ipynb" in broken["message"], broken
    assert broken["total"] == broken["max"] == broken["test_b_more"] == ""
    assert "broken: ERROR ps1.ipynb is not valid JSON" in second_run.stderr
    assert "2 ok, 1 error" in second_run.stdout
    assert second_run.rows["correct"]["status"].startswith("ok")
    assert "broken" not in second_run.feedback


def test_a_regrade_keeps_the_manual_grades(second_run: Run, course: Path) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb:
        grade = gb.find_grade("test_c_hidden", "ps1", "ps1", "correct")
        assert (grade.auto_score, grade.manual_score, grade.needs_manual_grade) == (3, 1.5, True)
        comment = gb.find_comment("b_backward", "ps1", "ps1", "correct").manual_comment
        assert comment == "Neat sweep."
    row = second_run.rows["correct"]
    assert (row["test_c_hidden"], row["total"]) == ("1.5", "18.5")
    assert row["status"] == "ok, needs manual grading"
    assert "Neat sweep." in second_run.feedback["correct"]  # the feedback has both
    assert "18.5" in second_run.feedback["correct"]


def test_grading_again_does_not_duplicate_rows(second_run: Run, graded) -> None:
    first = graded("ps1")
    # every student once, in the CSV and in the gradebook: the 5 of the class + 2 new ones
    assert sorted(second_run.rows) == sorted([*first.rows, "new_student", "broken"])
    assert sorted(second_run.scores) == sorted(second_run.rows)
    for student in first.rows:  # the class is still there, with the same grades
        if student != "correct":  # regraded (with a manual score, see below)
            assert second_run.scores[student] == first.scores[student]
            assert second_run.rows[student]["status"] == "not in this run"
            assert second_run.rows[student]["total"] == first.rows[student]["total"]


# -- student ids from LMS file names (no grading) --------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "student"),
    [
        ("jsmith.ipynb", "jsmith"),
        ("bug_overwrite_branch.ipynb", "bug_overwrite_branch"),
        ("smithjane_41321_2741_ps1.ipynb", "41321"),  # Canvas: the user id
        ("smithjane_LATE_41321_2741_ps1-1.ipynb", "41321"),  # Canvas, late resubmission
        ("smithjane_41321_ps1.ipynb", "smithjane"),  # one number: cut at it
        ("Jane Smith_81234_assignsubmission_file_ps1.ipynb", "Jane_Smith"),  # Moodle
        ("ps1_jsmith_attempt_2024-10-01-09-30-00_ps1.ipynb", "jsmith"),  # Blackboard
        ("ps1_jsmith.ipynb", "jsmith"),
        ("PS1-jsmith.ipynb", "jsmith"),
        ("jsmith_ps1.ipynb", "jsmith"),
        ("j.smith@uni.edu.ipynb", "j.smith@uni.edu"),
    ],
)
def test_student_id_from_lms_file_names(filename: str, student: str) -> None:
    assert submissions.student_id(filename, "ps1")[0] == student


def test_student_id_with_a_regex_and_names_without_one() -> None:
    regex = r"(?P<student_id>\d+)-{assignment}-.*"
    assert submissions.student_id("12345-ps1-final.ipynb", "ps1", regex) == (
        "12345",
        "--student-regex",
    )
    assert submissions.student_id("notes.ipynb", "ps1", regex)[0] is None
    assert submissions.student_id("ps1.ipynb", "ps1")[0] is None  # the assignment's own name
    with pytest.raises(submissions.SubmissionError, match="student_id"):
        submissions.student_id("a.ipynb", "ps1", r"(?P<name>.+)")


def test_a_flat_folder_and_its_zip(tmp_path: Path) -> None:
    folder = tmp_path / "download"
    folder.mkdir()
    for name in ["b_1_2_ps1.ipynb", "a.ipynb", "b_1_3_ps1.ipynb", "readme.txt", "ps1.ipynb"]:
        (folder / name).write_text("{}")
    found = submissions.find(folder, "ps1", ["ps1"])
    assert found.layout == "flat"
    assert [(s.student, s.origin) for s in found.submissions] == [
        ("1", "b_1_3_ps1.ipynb"),  # Canvas's user 1: the newer attachment of two
        ("a", "a.ipynb"),
    ]
    assert "left out b_1_2_ps1.ipynb" in found.submissions[0].note
    assert {name for name, _ in found.skipped} == {"readme.txt", "ps1.ipynb"}
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(folder / "a.ipynb", "download/a.ipynb")
    unpacked = submissions.unpack(archive, tmp_path / "unpacked")
    assert [s.student for s in submissions.find(unpacked, "ps1", ["ps1"]).submissions] == ["a"]
    with pytest.raises(submissions.SubmissionError, match="nbgrader's layout"):
        submissions.find(folder, "ps1", ["part1", "part2"])


# -- the Gradescope autograder ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def gradescope_zip(course: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("gradescope") / "ps1.zip"
    out, err, code = cli("--course", str(course), "gradescope", "ps1", "--out", str(target))
    assert code == 0, out + err
    return target


def gradescope_root(archive: Path, where: Path) -> Path:
    """A stand-in for Gradescope's /autograder: the zip unpacked in source/, no submission yet."""
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(where / "source")
    for name in ("run_autograder", "setup.sh"):
        (where / "source" / name).chmod(0o755)
    (where / "submission").mkdir()
    return where


def test_the_gradescope_zip_holds_no_student_data(gradescope_zip: Path) -> None:
    names = set(zipfile.ZipFile(gradescope_zip).namelist())
    for name in [
        "setup.sh",
        "run_autograder",
        "gradescope.json",
        "project/pyproject.toml",
        "project/course/checks.py",
        "project/autograder/grading.py",
        "nbgrader_course/nbgrader_config.py",
        "nbgrader_course/gradebook.db",
        "nbgrader_course/source_assignments/ps1/ps1.ipynb",  # hidden tests are put back from it
        "nbgrader_course/source_assignments/ps1/ps1_support.py",
    ]:
        assert name in names, name
    assert not [n for n in names if "sample_class" in n or "submitted/" in n or "feedback/" in n]
    info = zipfile.ZipFile(gradescope_zip).getinfo("run_autograder")
    assert info.external_attr >> 16 & 0o111  # executable
    with zipfile.ZipFile(gradescope_zip) as zf:
        setup = zf.read("setup.sh").decode()
    assert 'pip install --no-deps "$HERE/project"' in setup
    check = subprocess.run(["bash", "-n", "-c", setup], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_run_autograder_writes_gradescope_results(gradescope_zip: Path, tmp_path: Path) -> None:
    root = gradescope_root(gradescope_zip, tmp_path / "autograder")
    shutil.copy(SAMPLE / "ps1" / "bug_overwrite_branch.ipynb", root / "submission" / "mine.ipynb")
    env = dict(os.environ, GRADESCOPE_ROOT=str(root), GRADESCOPE_PYTHON=sys.executable)
    proc = subprocess.run(
        ["bash", str(root / "source" / "run_autograder")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 12
    parts: dict[str, list[dict]] = {}
    for t in results["tests"]:
        parts.setdefault(t["name"].split(":")[0], []).append(t)
    assert list(parts) == PS1_PARTS
    expected = json.loads((SAMPLE / "ps1" / "expected.json").read_text())
    for grade_id, points in expected["bug_overwrite_branch"]["parts"].items():
        (scored,) = [t for t in parts[grade_id] if "score" in t]  # the points, once per part
        assert scored["score"] == points
        assert scored["status"] == ("passed" if points else "failed")
    (examples,) = parts["test_b_examples"]  # visible checks only: one test, visible at once
    assert "overwritten instead of added at a branch" in examples["output"]
    assert examples["visibility"] == "visible"
    # a part with hidden checks: its visible checks' message at once, the rest after the due date
    visible, everything = parts["test_b_more"]
    assert visible["name"].endswith("(visible checks)") and visible["visibility"] == "visible"
    assert visible["status"] == "failed" and "overwritten" in visible["output"]
    assert "score" not in visible
    assert everything["visibility"] == "after_due_date" and everything["max_score"] == 4
    assert "Not run" in everything["output"]  # the visible checks failed first
    visible, everything = parts["test_c_hidden"]
    assert visible["status"] == "passed" and everything["status"] == "passed"
    assert everything["score"] == 3
    assert "BEGIN HIDDEN" not in json.dumps(results)
    assert examples["max_score"] == 4
    assert {"score", "output", "tests", "execution_time", "visibility"} <= set(results)
    assert results["extra_data"]["isolation"].startswith("OS sandbox (bubblewrap")


def test_run_autograder_without_a_notebook(
    gradescope_zip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = gradescope_root(gradescope_zip, tmp_path / "autograder")
    (root / "submission" / "answers.txt").write_text("I wrote it on paper")
    monkeypatch.setenv("GRADESCOPE_ROOT", str(root))
    course = root / "source" / "nbgrader_course"
    out, err, code = cli("--course", str(course), "gradescope-run", "ps1")
    assert code == 0, out + err
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 0 and results["tests"] == []
    assert "could not be graded" in results["output"]


def test_traceback_lines_of_hidden_tests_are_removed():
    from autograder.feedback import hidden_lines, strip_traceback

    source = (
        "check(visible)\n### BEGIN HIDDEN TESTS\ncheck(secret_case)\nprint('x')\n"
        "### END HIDDEN TESTS\n"
    )
    hidden = hidden_lines(source, "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
    assert hidden == {
        "### BEGIN HIDDEN TESTS",
        "check(secret_case)",
        "print('x')",
        "### END HIDDEN TESTS",
    }
    frame = (
        "Cell In[5], line 3\n\x1b[0;32m      1\x1b[0m check(visible)\n"
        "\x1b[0;32m      2\x1b[0m ### BEGIN HIDDEN TESTS\n"
        "\x1b[0;32m----> 3\x1b[0m check(secret_case)\n"
        "\x1b[0;32m      4\x1b[0m print('x')"
    )
    out = strip_traceback(frame, hidden)
    assert "secret_case" not in out and "BEGIN HIDDEN" not in out and "print('x')" not in out
    assert "check(visible)" in out and "---> (a hidden test)" in out


# -- a dying worker; the trusted verdicts against the student's own ------------------------------


def test_a_worker_that_dies_charges_only_its_own_student(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("correct", "bug_overwrite_branch", "blank", "rewritten"):
        shutil.copy(SAMPLE / "ps1" / f"{name}.ipynb", folder / f"{name}.ipynb")
    from autograder.grading import DIE_FOR

    monkeypatch.setenv(DIE_FOR, "bug_overwrite_branch")  # its worker dies, every time
    out = tmp_path / "out"
    args = ["--course", str(course), "grade", "ps1", str(folder), "--jobs", "2"]
    proc = cli(*args, "--out", str(out), "--no-progress")
    run = read_run(course, "ps1", out, proc)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.rows["bug_overwrite_branch"]["status"] == "error"
    assert "worker died" in run.rows["bug_overwrite_branch"]["message"]
    expected = json.loads((SAMPLE / "ps1" / "expected.json").read_text())
    scores = gradebook_scores(course, "ps1", auto=True)
    for student in ("correct", "blank", "rewritten"):
        assert run.rows[student]["status"].startswith("ok"), run.rows[student]
        got = {part: scores[student][part] for part in expected[student]["parts"]}
        assert got == expected[student]["parts"], student


@pytest.mark.parametrize("assignment", CLASSES)
def test_trusted_verdicts_agree_with_the_students_own_run(
    graded, course: Path, tmp_path: Path, assignment: str
) -> None:
    """``--plain`` runs the tests in the student's kernel, as Validate does; the default runs
    them in the grader. Every sample student gets the same points per test cell both ways."""
    trusted_scores = graded(assignment).auto
    args = ["--course", str(course), "grade", assignment, str(SAMPLE / assignment)]
    args += ["--jobs", "2", "--no-progress", "--plain", "--out", str(tmp_path / "plain")]
    plain = read_run(course, assignment, tmp_path / "plain", cli(*args))
    assert plain.returncode == 0, plain.stdout + plain.stderr
    own_scores = plain.auto
    expected = json.loads((SAMPLE / assignment / "expected.json").read_text())
    for student, want in expected.items():
        parts = list(want["parts"])
        own = {p: own_scores[student][p] for p in parts}
        trusted = {p: trusted_scores[student][p] for p in parts}
        assert trusted == want["parts"], student
        # where the sandbox's absence of a forbidden module costs more, expected.json says so
        differ = want.get("in_the_students_kernel", {}).get("parts", {})
        assert own == {**want["parts"], **differ}, student
        assert all(trusted[p] == 0 for p in differ), student


def test_the_run_says_how_the_kernels_were_isolated(graded) -> None:
    run = graded("ps1")
    assert "isolation: OS sandbox (bubblewrap" in run.stdout, run.stdout[-2000:]


def test_the_help_lists_only_the_instructors_commands(capsys) -> None:
    from autograder.cli import parser

    text = parser().format_help()
    assert "similarity" in text and "gradescope" in text
    assert "SUPPRESS" not in text and "gradescope-run" not in text
