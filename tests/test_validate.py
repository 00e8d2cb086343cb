"""``python -m course.validate`` (``course/validate.py``): an error as a student reads it (the
message, whole, and the frames of their own cells only), nbgrader's validator without its cut
lines, and the command on a released assignment in a student's folder, which has no
``nbgrader_config.py``.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbconvert.filters import strip_ansi
from nbgrader_course import make_course

from course.validate import WholeMessages, error_text, readable_error

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "autograder" / "sample_class"
CHECKS = str(ROOT / "course" / "checks.py")
LIKELY = (
    "  Likely bug: your values are exactly m = 4 times too large: you summed over the m "
    "examples of the batch but did not divide by m (the cost is the mean over the batch)."
)
MESSAGE = (
    "Your dZ from softmax_cross_entropy (Z 3x4, largest |z| = 3) is wrong.\n"
    "  relative error: 6.0e-01 (allowed: about 1e-06)\n" + LIKELY
)


def ansi(colour: int, text: str) -> str:
    return f"\x1b[{colour}m{text}\x1b[39m"


def cell_label(count: int, line: int) -> str:
    """IPython 9's coloured ``Cell In[count], line k``."""
    return ansi(36, "Cell") + ansi(36, " ") + ansi(32, f"In[{count}]") + ansi(32, f", line {line}")


def ipython_traceback(ename: str, message: str, test_cell: int = 8) -> list[str]:
    """A failed test's traceback as IPython 9 writes it when the test runs in the student's
    kernel (``nbgrader validate``, ``nbgrader autograde``): the test cell, hidden frames, the
    checking code, a frame of the student's function, the message."""
    return [
        ansi(31, "-" * 75),
        ansi(31, ename) + "                            Traceback (most recent call last)",
        cell_label(test_cell, 8)
        + "\n"
        + ansi(32, "----> 8")
        + " support.check_softmax_ce(softmax_cross_entropy, Z, y)\n",
        "    " + ansi(31, "[... skipping hidden 2 frame]") + "\n",
        ansi(36, "File ")
        + ansi(32, f"{CHECKS}:695")
        + ", in "
        + ansi(36, "check_array")
        + "(name, got)\n"
        + ansi(32, "--> 695")
        + "     raise _failure(name, found)\n",
        cell_label(5, 3)
        + ", in "
        + ansi(36, "softmax_cross_entropy")
        + "(Z, y)\n"
        + ansi(32, "----> 3")
        + "     dZ = P - T\n",
        ansi(31, ename) + f": {message}",
    ]


def error(ename: str, message: str, traceback: list[str]) -> dict:
    return {"output_type": "error", "ename": ename, "evalue": message, "traceback": traceback}


# -- the rule -------------------------------------------------------------------------------------


def test_a_failed_test_is_its_message_and_the_students_frames() -> None:
    out = error("AssertionError", MESSAGE, ipython_traceback("AssertionError", MESSAGE))
    message, frames = readable_error(out, own_cell=8)
    assert message == MESSAGE  # whole, every line
    assert len(frames) == 1  # the student's function: colours kept for the page
    assert "Cell In[5], line 3" in strip_ansi(frames[0]) and "dZ = P - T" in frames[0]
    text = error_text(out, own_cell=8)
    assert text.startswith("AssertionError: Your dZ") and LIKELY in text
    for grader in ("checks.py", "check_array", "skipping hidden", "Traceback", "In[8]", "-" * 20):
        assert grader not in text, grader
    assert "\x1b[" not in text


def test_without_its_own_cell_a_cells_frames_stay() -> None:
    out = error("AssertionError", MESSAGE, ipython_traceback("AssertionError", MESSAGE))
    _, frames = readable_error(out)
    assert [f.count("In[") for f in frames] == [1, 1]  # In[8] and In[5]; no file frame


def test_the_graders_format_of_a_students_exception() -> None:
    # autograder.answers names cells as IPython does, and checker adds the message line
    frames = (
        "Traceback (most recent call last):\n"
        "Cell In[2], line 6, in affine_forward\n    Z = helper(W, A_prev) + b\n"
        "        ^^^^^^^^^^^^^^^^^\n"
        '  File "/srv/venv/lib/python3.11/site-packages/numpy/core/numeric.py", line 9, in dot\n'
        "    return inner(a, b)\n"
        "Cell In[2], line 2, in helper\n    return W @ A.T\n"
    )
    out = error(
        "ValueError", "matmul: mismatch", [frames, "\x1b[0;31mValueError\x1b[0m: matmul: mismatch"]
    )
    message, kept = readable_error(out)
    assert message == "matmul: mismatch"
    assert [f.splitlines()[0] for f in kept] == [
        "Cell In[2], line 6, in affine_forward",
        "Cell In[2], line 2, in helper",
    ]
    assert "site-packages" not in "".join(kept)


def test_a_syntax_error_reads_as_ipython_says_it() -> None:
    out = error(
        "SyntaxError",
        "'(' was never closed (2948523948.py, line 1)",
        [
            "  " + cell_label(3, 1) + "\n    def f(:\n          ^\n",
            ansi(31, "SyntaxError") + ansi(31, ":") + " '(' was never closed\n",
        ],
    )
    message, frames = readable_error(out)
    assert message == "'(' was never closed"
    assert len(frames) == 1 and "def f(:" in frames[0] and "In[3]" in strip_ansi(frames[0])


def test_an_error_without_a_traceback_is_its_message() -> None:
    out = error("KernelDied", "the kernel stopped", [])
    assert readable_error(out) == ("the kernel stopped", [])
    assert error_text(out) == "KernelDied: the kernel stopped"


def test_the_validator_cuts_no_line() -> None:
    validator = WholeMessages()
    validator.width = 40
    validator.stream = io.StringIO()
    validator._print_error("x = 1", "AssertionError: " + MESSAGE)
    printed = validator.stream.getvalue()
    assert LIKELY.strip() in printed and "..." not in printed


def _grade_cell(outputs: list, points: float = 4) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("support.check_layers(...)")
    cell.metadata["nbgrader"] = {
        "grade": True, "solution": False, "locked": True, "grade_id": "test_a", "points": points,
    }  # fmt: skip
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    return cell


def test_partial_credit_shows_what_failed() -> None:
    """A test cell that gives some of its points says which checks failed, not only nbgrader's
    "Partial credit; passed some but not all of the tests"."""
    cell = _grade_cell(
        [
            {"output_type": "stream", "name": "stdout", "text": "affine: passed\n"},
            {"output_type": "stream", "name": "stdout", "text": "relu_backward: " + MESSAGE},
            {"output_type": "execute_result", "execution_count": 1, "metadata": {},
             "data": {"text/plain": "2.5"}},
        ]
    )  # fmt: skip
    text = WholeMessages()._extract_error(cell)
    assert text.startswith("Partial credit: 2.5 of 4 points.")
    assert LIKELY.strip() in text and "affine: passed" in text
    full = _grade_cell([{"output_type": "stream", "name": "stdout", "text": "all passed\n"}])
    assert WholeMessages()._extract_error(full) == ""


# -- the command ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def student_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """ps1 as a student has it (the released notebook and its support module, nothing else),
    and the environment to run commands in."""
    course = make_course(tmp_path_factory, "ps1")
    course.nbgrader("generate_assignment", "ps1")
    folder = tmp_path_factory.mktemp("student") / "ps1"
    shutil.copytree(course.release, folder)
    assert not (folder / "nbgrader_config.py").exists()
    return folder, {**course.env, "COLUMNS": "80"}


def with_answers_of(student: tuple[Path, dict[str, str]], sample: str, name: str) -> str:
    """A copy of the released notebook whose answer cells hold those of a sample submission."""
    folder = student[0]
    released = nbformat.read(folder / "ps1.ipynb", as_version=4)
    theirs = nbformat.read(SAMPLE / "ps1" / f"{sample}.ipynb", as_version=4)
    answers = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in theirs.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    for cell in released.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    nbformat.write(released, folder / f"{name}.ipynb")
    return f"{name}.ipynb"


def validate(student: tuple[Path, dict[str, str]], name: str) -> subprocess.CompletedProcess:
    folder, env = student
    return subprocess.run(
        [sys.executable, "-m", "course.validate", name],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_buggy_notebook_fails_with_every_message_whole(student_folder) -> None:
    proc = validate(student_folder, with_answers_of(student_folder, "bug_overwrite_branch", "bug"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert "VALIDATION FAILED ON" in out
    want = json.loads((SAMPLE / "ps1" / "expected.json").read_text())["bug_overwrite_branch"]
    for words in want["feedback_mentions"]:
        assert words in out, words
    likely = [line for line in out.splitlines() if "Likely bug" in line]
    assert likely and all(not line.endswith("...") for line in likely)
    assert max(len(line) for line in likely) > 90  # longer than nbgrader's cut, and whole
    assert "nbgrader_config.py" not in proc.stdout + proc.stderr
    for grader in ("checks.py", "skipping hidden", "Traceback (most recent call last)"):
        assert grader not in out, grader


def test_a_correct_notebook_passes(student_folder) -> None:
    proc = validate(student_folder, with_answers_of(student_folder, "correct", "solved"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Success! Your notebook passes all the tests." in proc.stdout
    assert "nbgrader_config.py" not in proc.stdout + proc.stderr


def test_a_missing_notebook_is_said_plainly(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "course.validate", "nothing.ipynb"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1 and "nothing.ipynb: no such notebook" in proc.stderr


def test_validate_shows_and_uses_the_students_variant(student_folder) -> None:
    """The student's own variant (course/variants.py): its line is shown, its numbers tested."""
    from course import variants

    folder = student_folder[0]
    name = with_answers_of(student_folder, "correct", "alice")
    nb = nbformat.read(folder / name, as_version=4)
    for cell in nb.cells:
        if cell.get("id") == "student-id":
            cell.source = 'STUDENT_ID = "alice"'
    nbformat.write(nb, folder / name)
    proc = validate(student_folder, name)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    code = variants.Variant("ps1", "alice", "").code
    assert f"Your variant: {code} (student id: alice, stated in the notebook)" in proc.stdout
    for cell in nb.cells:  # the numbers of the example variant (x = 3, y = -4) are not alice's
        if cell.get("id") == "b-hand":
            cell.source = 'def hand_gradients():\n    return {"x": 12.0, "y": -21.0}'
    nbformat.write(nb, folder / name)
    proc = validate(student_folder, name)
    assert proc.returncode == 1 and "hand_gradients()" in proc.stdout, proc.stdout
