"""A released assignment opened as a student opens it, and nbgrader's Validate button pressed.

The instructor's ``nbgrader generate_assignment`` makes the student version of ps1 in a
temporary course. The student opens it in JupyterLab: the notebook toolbar must offer
Validate; pressed on the blank release it must report the failing tests, and pressed on a copy
whose answer cells hold the instructor's solutions it must report success. Run > Run All Cells
on the blank release runs every cell: a failing test (tagged ``raises-exception``) does not stop
the run, so every test shows its verdict.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import nbformat
import pytest
from harness import BIN, ROOT, jupyter_env
from pages import open_notebook, run_all_cells, show_cell
from playwright.sync_api import expect

ASSIGNMENT = "ps1"
#: Validate saves the notebook, then runs every cell of it on the server (ps1: about 6 s).
VALIDATE_TIMEOUT = 180_000
SOLUTION_MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


def solved(released: nbformat.NotebookNode, source: nbformat.NotebookNode):
    """The released notebook with each answer cell holding the source's solution."""
    solutions = {
        cell.metadata["nbgrader"]["grade_id"]: cell.source
        for cell in source.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }
    for cell in released.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            lines = solutions[meta["grade_id"]].splitlines()
            cell.source = "\n".join(line for line in lines if not SOLUTION_MARKER.match(line))
    return released


@pytest.fixture(scope="module")
def student_copies(lab_root, tmp_path_factory):
    """``student/blank/ps1.ipynb``, ``student/solved/ps1.ipynb`` and a second blank copy,
    ``student/run_all/ps1.ipynb``, in the server's folder."""
    course = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(
        ROOT / "source_assignments" / ASSIGNMENT,
        course / "source_assignments" / ASSIGNMENT,
        ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"),
    )
    proc = subprocess.run(
        [str(BIN / "nbgrader"), "generate_assignment", ASSIGNMENT],
        cwd=course,
        env=jupyter_env(tmp_path_factory.mktemp("nbgrader-home")),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    release = course / "release" / ASSIGNMENT
    paths = {}
    for kind in ("blank", "solved", "run_all"):
        folder = lab_root / "student" / kind
        shutil.copytree(release, folder)
        paths[kind] = f"student/{kind}/{ASSIGNMENT}.ipynb"
    notebook = lab_root / paths["solved"]
    source = nbformat.read(course / "source_assignments" / ASSIGNMENT / notebook.name, 4)
    nbformat.write(solved(nbformat.read(notebook, 4), source), notebook)
    return paths


def validate(page, lab, shots, path: str, kind: str):
    """Open ``path``, press Validate in its toolbar; the dialog nbgrader shows."""
    open_notebook(page, lab, path, f"validate-{kind}", shots)
    toolbar_button = page.locator(".jp-NotebookPanel-toolbar .validate-button")
    shots.check(
        page,
        "Validate in the notebook toolbar",
        lambda: expect(toolbar_button).to_have_text(re.compile(r"^\s*Validate\s*$")),
        why=f"{path}: the notebook toolbar has no Validate button (nbgrader's lab extension)",
    )
    toolbar_button.locator("jp-button, button").first.click()
    dialog = page.locator(".jp-Dialog")
    shots.check(
        page,
        "Validate reports",
        lambda: expect(dialog.locator("#validation-message")).to_be_visible(
            timeout=VALIDATE_TIMEOUT
        ),
        why=f"{path}: pressing Validate showed no result",
    )
    return dialog


def test_validate_reports_the_failing_tests_of_a_blank_release(page, lab, shots, student_copies):
    dialog = validate(page, lab, shots, student_copies["blank"], "blank")
    message = dialog.locator("#validation-message")

    def failed():
        expect(message).to_have_class(re.compile(r"\bvalidation-failed\b"))
        expect(message).to_contain_text("The following cell failed")

    shots.check(page, "blank release fails validation", failed, why="Validate on a blank ps1")


def test_validate_reports_success_for_a_solved_assignment(page, lab, shots, student_copies):
    dialog = validate(page, lab, shots, student_copies["solved"], "solved")
    message = dialog.locator("#validation-message")

    def passed():
        expect(message).to_have_class(re.compile(r"\bvalidation-success\b"))
        expect(message).to_contain_text("Success! Your notebook passes all the tests.")

    shots.check(page, "solved assignment passes validation", passed, why="Validate on ps1 solved")


def test_run_all_goes_past_the_failing_tests_of_a_blank_release(page, lab, shots, student_copies):
    open_notebook(page, lab, student_copies["run_all"], "run-all-blank", shots)
    run_all_cells(page, shots, "the blank release")  # every code cell gets its number
    show_cell(page, "More tests for direct_indirect")

    def every_test_ran():
        # the six visible tests of ps1 fail on a blank copy; the last test cell runs all the same
        failed = page.locator(".jp-CodeCell", has_text="You have not written")
        expect(failed).to_have_count(6)
        printed = page.locator("[data-mime-type='application/vnd.jupyter.stdout']")
        last = printed.filter(has_text="More tests for direct_indirect run during grading.")
        expect(last).to_have_count(1)

    shots.check(page, "every test ran", every_test_ran, why="Run All stopped at a failing test")
