"""The intake stage (autograder.intake), the finding of a forbidden import, and the run findings
that the box's time budget leaves (autograder.findings, autograder.outputs)."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from autograder import submissions
from autograder.findings import delegation
from autograder.intake import take
from autograder.outputs import error_output, findings_from_outputs


def make_submission(folder: Path, secret: Path) -> None:
    """A student's folder in nbgrader's layout with everything that must not reach grading."""
    folder.mkdir(parents=True)
    (folder / "ps1.ipynb").write_text('{"cells": []}')
    (folder / "timestamp.txt").write_text("2026-12-01 10:00:00")
    (folder / "submission_secret.txt").write_text("0f" * 64)
    (folder / "ps1_support.py").write_text("raise SystemExit('imported the student copy')\n")
    (folder / "course").mkdir()
    (folder / "course" / "__init__.py").write_text("CHEATED = True\n")
    (folder / "zzz.pth").write_text("import os; os.system('true')\n")
    (folder / "notes.txt").write_text("my notes")
    (folder / "gradebook.db").symlink_to(secret)
    (folder / "linked_dir").symlink_to(secret.parent, target_is_directory=True)


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "instructor" / "gradebook.db"
    path.parent.mkdir()
    path.write_text("hidden tests and grades")
    return path


def test_only_the_notebooks_and_nbgraders_files_are_taken(tmp_path: Path, secret: Path) -> None:
    student = tmp_path / "submitted" / "jsmith" / "ps1"
    make_submission(student, secret)
    target = tmp_path / "grading"
    found = take(student, target, ["ps1"])
    taken = sorted(p.name for p in target.rglob("*"))
    assert taken == ["ps1.ipynb", "submission_secret.txt", "timestamp.txt"]
    assert (target / "ps1.ipynb").read_text() == '{"cells": []}'
    messages = {f.message: f.where for f in found}
    assert {f.kind for f in found} == {"intake"}
    links = next(w for m, w in messages.items() if "links" in m)
    code = next(w for m, w in messages.items() if "code shipped" in m)
    assert set(links.split(", ")) == {"gradebook.db", "linked_dir"}
    assert set(code.split(", ")) == {"course/", "ps1_support.py", "zzz.pth"}
    assert secret.read_text() == "hidden tests and grades"


def test_a_linked_notebook_is_not_followed(tmp_path: Path, secret: Path) -> None:
    student = tmp_path / "s" / "ps1"
    student.mkdir(parents=True)
    (student / "ps1.ipynb").symlink_to(secret)
    found = take(student, tmp_path / "grading", ["ps1"])
    assert not (tmp_path / "grading" / "ps1.ipynb").exists()
    assert [f.kind for f in found] == ["intake"] and "ps1.ipynb" in found[0].where


def test_the_lms_folders_skip_links(tmp_path: Path, secret: Path) -> None:
    flat = tmp_path / "download"
    flat.mkdir()
    (flat / "jsmith_ps1.ipynb").write_text("{}")
    (flat / "akim_ps1.ipynb").symlink_to(secret)
    found = submissions.find(flat, "ps1", ["ps1"])
    assert [s.student for s in found.submissions] == ["jsmith"]
    assert ("akim_ps1.ipynb", "a link, not a file (links are never followed)") in found.skipped
    layout = tmp_path / "submitted"
    make_submission(layout / "jsmith" / "ps1", secret)
    (sub,) = submissions.find(layout, "ps1", ["ps1"], layout="nbgrader").submissions
    assert "gradebook.db" not in sub.files and not any("linked_dir" in f for f in sub.files)
    target = tmp_path / "placed"
    submissions.place(sub, target)
    assert not any(p.is_symlink() for p in target.rglob("*"))
    assert all(os.path.realpath(p).startswith(str(target)) for p in target.rglob("*"))


def test_a_forbidden_import_is_a_delegation_finding() -> None:
    nb = nbformat.v4.new_notebook()
    answer = nbformat.v4.new_code_cell("from course.optim import Adam")
    answer.metadata["nbgrader"] = {"grade_id": "c_adam", "solution": True}
    answer.outputs = [
        error_output("ForbiddenModuleError", "course.optim is not available while ps4 is graded")
    ]
    look_alike = nbformat.v4.new_code_cell("raise ImportError('is not available while')")
    look_alike.outputs = [error_output("ImportError", "x is not available while ps4 is graded")]
    nb.cells = [answer, look_alike]
    (found,) = delegation(nb)
    assert (found.kind, found.where) == ("delegation", "c_adam")


def test_cells_left_out_by_the_time_budget_are_a_timeout_finding() -> None:
    nb = nbformat.v4.new_notebook()
    cells = []
    for grade_id, grade, ename in [
        ("a_slow", False, None),
        ("test_a", True, "OutOfTime"),
        ("b", False, "OutOfTime"),
        ("test_b", True, "OutOfTime"),
    ]:
        cell = nbformat.v4.new_code_cell("pass")
        cell.metadata["nbgrader"] = {"grade_id": grade_id, "grade": grade}
        if ename:
            cell.outputs = [error_output(ename, "not run: the notebook used up its time")]
        cells.append(cell)
    nb.cells = cells
    (found,) = findings_from_outputs(nb)
    assert found.kind == "timeout" and found.where == "test_a"
    assert "3 cells did not run" in found.message and "test_a, test_b" in found.message
