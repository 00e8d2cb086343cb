"""The machinery the pipeline tests share: a temporary copy of the nbgrader course, and readers.

``make_course`` copies ``nbgrader_config.py`` and the source assignments into a temporary course
and returns a ``Course``, whose ``nbgrader`` method runs the real ``nbgrader`` commands there with
the virtualenv's bin first on PATH. The course then reads back what nbgrader wrote: the scores
from the gradebook, the autograded notebooks and the feedback as plain text. Nothing is written
into the repository. What differs per problem set stays in its test file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
COURSE_ID = "backprop-course"


def load_expected(sample: Path) -> dict[str, dict]:
    """The ``expected.json`` of a sample class: student -> parts, total, feedback_mentions, as
    nbgrader's own commands grade them: the tests in the student's kernel, where the course
    package is whole (a student's ``in_the_students_kernel`` entry says where that differs
    from the autograder, whose sandbox leaves out the modules an assignment forbids)."""
    expected = json.loads((sample / "expected.json").read_text())
    for want in expected.values():
        own = want.pop("in_the_students_kernel", {})
        want["parts"] = {**want["parts"], **own.get("parts", {})}
        want["total"] = own.get("total", want["total"])
    return expected


def nbgrader_meta(cell: nbformat.NotebookNode) -> dict:
    return cell.metadata.get("nbgrader", {})


def graded_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """The cells nbgrader gives points for."""
    return [c for c in nb.cells if nbgrader_meta(c).get("grade")]


def error_outputs(nb: nbformat.NotebookNode) -> list[tuple[dict, dict]]:
    """(nbgrader metadata, error output) of every error raised by a code cell."""
    return [
        (nbgrader_meta(cell), out)
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "error"
    ]


def start(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen:
    """A child process that runs alongside the autograder; ``finish`` collects it."""
    return subprocess.Popen(
        args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(proc: subprocess.Popen, timeout: float = 300) -> subprocess.CompletedProcess:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@dataclass
class Course:
    """A temporary nbgrader course for one assignment (``ps1``...), with ``ps1/ps1.ipynb``."""

    root: Path
    env: dict[str, str]
    assignment: str
    timings: dict[str, float] = field(default_factory=dict)
    outputs: dict[str, subprocess.CompletedProcess] = field(default_factory=dict)

    @property
    def release(self) -> Path:
        return self.root / "release" / self.assignment

    def nbgrader(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        start_time = time.perf_counter()
        proc = subprocess.run(
            [str(BIN / "nbgrader"), *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        key = " ".join(args[:1] + tuple(a for a in args[1:] if not a.startswith("/")))
        self.timings[key] = time.perf_counter() - start_time
        self.outputs[key] = proc
        if check and proc.returncode != 0:
            raise AssertionError(f"nbgrader {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def start_nbgrader(self, *args: str) -> subprocess.Popen:
        return start([str(BIN / "nbgrader"), *args], self.root, self.env)

    def submission_folder(self, student: str, support: bool = True) -> Path:
        """``submitted/<student>/<assignment>/``, with the released support file if asked."""
        folder = self.root / "submitted" / student / self.assignment
        folder.mkdir(parents=True)
        if support:
            shutil.copy(self.release / f"{self.assignment}_support.py", folder)
        return folder

    def grades(self, student: str) -> dict[str, dict]:
        """grade_id -> what the gradebook holds for that cell of the student's notebook."""
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}", COURSE_ID) as gb:
            notebook = gb.find_submission_notebook(self.assignment, self.assignment, student)
            return {
                grade.name: {
                    "auto_score": grade.auto_score,
                    "manual_score": grade.manual_score,
                    "score": grade.score,
                    "max_score": grade.max_score,
                    "needs_manual_grade": grade.needs_manual_grade,
                }
                for grade in notebook.grades
            }

    def scores(self, student: str) -> dict[str, float]:
        """Points per graded cell (grade_id), read from the gradebook."""
        return {name: grade["score"] for name, grade in self.grades(student).items()}

    def notebook_totals(self, student: str) -> tuple[float, float, bool]:
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}", COURSE_ID) as gb:
            nb = gb.find_submission_notebook(self.assignment, self.assignment, student)
            return nb.score, nb.max_score, nb.needs_manual_grade

    def autograded(self, student: str) -> nbformat.NotebookNode:
        path = self.root / "autograded" / student / self.assignment / f"{self.assignment}.ipynb"
        return nbformat.read(path, as_version=4)

    def feedback(self, student: str) -> str:
        """The student's feedback HTML as plain text."""
        name = f"{self.assignment}.html"
        html = (self.root / "feedback" / student / self.assignment / name).read_text()
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
        for entity, char in (("&#39;", "'"), ("&quot;", '"'), ("&lt;", "<"), ("&gt;", ">")):
            text = text.replace(entity, char)
        return text.replace("&amp;", "&")

    def report_timings(self, label: str) -> None:
        print(
            f"\n{label} timings (s): " + ", ".join(f"{k}: {v:.1f}" for k, v in self.timings.items())
        )


def make_course(
    tmp_path_factory: pytest.TempPathFactory,
    assignment: str,
    all_sources: bool = False,
    **env: str,
) -> Course:
    """A temporary course holding ``nbgrader_config.py`` and the assignment's source folder
    (or all of ``source_assignments/``), with its own Jupyter config and runtime folders."""
    root = tmp_path_factory.mktemp("course")
    jupyter = tmp_path_factory.mktemp("jupyter")
    shutil.copy(ROOT / "nbgrader_config.py", root)
    sources = ROOT / "source_assignments"
    shutil.copytree(
        sources if all_sources else sources / assignment,
        root / "source_assignments" if all_sources else root / "source_assignments" / assignment,
        ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"),
    )
    environ = dict(os.environ)
    environ.update(
        PATH=f"{BIN}{os.pathsep}{environ.get('PATH', '')}",  # nbgrader runs `alembic` from PATH
        PYTHONDONTWRITEBYTECODE="1",
        JUPYTER_CONFIG_DIR=str(jupyter / "config"),  # no instructor's personal config
        JUPYTER_RUNTIME_DIR=str(jupyter / "runtime"),
        **env,
    )
    return Course(root, environ, assignment)


def execute_source(
    assignment: str, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> nbformat.NotebookNode:
    """The source notebook, solutions included, executed with nbclient in a copy in ``folder``."""
    from nbclient import NotebookClient

    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")  # the kernel inherits it
    source = ROOT / "source_assignments" / assignment
    for name in (f"{assignment}.ipynb", f"{assignment}_support.py"):
        shutil.copy(source / name, folder)
    nb = nbformat.read(folder / f"{assignment}.ipynb", as_version=4)
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()
    return nb
