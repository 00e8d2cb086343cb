"""The Gradescope autograder (``autograder.gradescope``): the virtualenv check of setup.sh,
Gradescope's submission metadata (the submission time and the due date, so that nbgrader's late
penalty applies), and the same maximum for every student when a part is graded by hand."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from autograder.coursedir import Course
from autograder.gradescope import CHECK_VENV_SH, pinned_environment, results, submission_times
from autograder.grading import Outcome
from autograder.report import read_table

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "autograder" / "sample_class"
BIN = Path(sys.executable).parent

#: Gradescope's documented example (gradescope-autograders.readthedocs.io, submission metadata)
METADATA = {
    "id": 123456,
    "created_at": "2018-07-31T23:30:00.000000-07:00",
    "assignment": {
        "due_date": "2018-07-31T23:00:00.000000-07:00",
        "group_size": 4,
        "group_submission": True,
        "id": 25828,
        "course_id": 1234,
        "late_due_date": None,
        "release_date": "2018-07-02T00:00:00.000000-07:00",
        "title": "Programming Assignment 1",
        "total_points": "20.0",
    },
    "submission_method": "upload",
    "users": [{"email": "student@example.com", "id": 1234, "name": "Student User"}],
    "previous_submissions": [
        {"submission_time": "2018-07-31T22:24:48.087023-07:00", "score": 12.0, "results": {}}
    ],
}

# Debian's python3 without python3-venv: "-m venv --help" works, making one does not
FAKE_PYTHON = """#!/usr/bin/env bash
if [ "$1 $2" = "-m venv" ]; then
    if [ "$3" = "--help" ]; then echo "usage: venv [-h] ENV_DIR"; exit 0; fi
    echo "The virtual environment was not created successfully because ensurepip is not"
    echo "available.  On Debian/Ubuntu systems, you need to install the python3-venv package"
    exit 1
fi
exec {python} "$@"
"""


def test_the_venv_check_names_python3_venv_when_ensurepip_is_missing(tmp_path: Path) -> None:
    script = tmp_path / "check_venv.sh"
    script.write_text(CHECK_VENV_SH)
    fake = tmp_path / "python3"
    fake.write_text(FAKE_PYTHON.format(python=sys.executable))
    fake.chmod(0o755)
    helps = subprocess.run([fake, "-m", "venv", "--help"], capture_output=True, text=True)
    assert helps.returncode == 0  # what the check must not rely on
    proc = subprocess.run(["bash", script, str(fake)], capture_output=True, text=True)
    assert proc.returncode == 1
    version = "{}.{}".format(*sys.version_info[:2])
    assert f"apt-get install -y python3-venv python{version}-venv" in proc.stderr
    assert "ensurepip" in proc.stderr


def test_the_venv_check_says_when_python_is_older_than_the_pins(tmp_path: Path) -> None:
    script = tmp_path / "check_venv.sh"
    script.write_text(CHECK_VENV_SH)
    proc = subprocess.run(["bash", script, sys.executable, "9.1"], capture_output=True, text=True)
    assert proc.returncode == 1
    assert f"is Python {platform.python_version()}, older\nthan 9.1" in proc.stderr
    assert "base image whose python3 is 9.1 or newer" in proc.stderr
    fake = tmp_path / "python3"  # old enough, but without ensurepip: the next check speaks
    fake.write_text(FAKE_PYTHON.format(python=sys.executable))
    fake.chmod(0o755)
    proc = subprocess.run(["bash", script, str(fake), "3.0"], capture_output=True, text=True)
    assert proc.returncode == 1 and "python3-venv" in proc.stderr and "older" not in proc.stderr


def test_the_pins_are_the_installed_versions_of_what_grading_needs() -> None:
    pins, oldest = pinned_environment()
    versions = dict(line.split("==") for line in pins)
    assert len(versions) == len(pins) and all(versions.values())
    for name, version in versions.items():
        assert metadata.version(name) == version, name
    # the project's own dependencies, and what they need in turn
    for name in ("nbgrader", "numpy", "latex2mathml", "wcwidth", "nbconvert", "jupyter-client"):
        assert name in versions, name
    for name in ("voila", "nbval"):  # the dashboard's and the notebooks' tests only
        assert name not in versions, name
    # the oldest Python named is one every pinned package accepts, and this one is not older
    assert Version(platform.python_version()) >= Version(oldest)
    for name in versions:
        wants = metadata.metadata(name).get("Requires-Python") or ""
        assert oldest in SpecifierSet(wants), (name, wants, oldest)


@pytest.mark.slow
def test_the_venv_check_passes_where_a_venv_with_pip_can_be_made(tmp_path: Path) -> None:
    script = tmp_path / "check_venv.sh"
    script.write_text(CHECK_VENV_SH)
    proc = subprocess.run(["bash", script, sys.executable], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_submission_metadata_gives_the_times_in_utc(tmp_path: Path) -> None:
    (tmp_path / "submission_metadata.json").write_text(json.dumps(METADATA))
    submitted, due, trouble = submission_times(tmp_path)
    assert (submitted.isoformat(), due.isoformat(), trouble) == (
        "2018-08-01T06:30:00",
        "2018-08-01T06:00:00",
        "",
    )
    extended = dict(METADATA, users=[{"id": 1, "assignment": {"due_date": "2018-08-02T10:00Z"}}])
    (tmp_path / "submission_metadata.json").write_text(json.dumps(extended))
    assert submission_times(tmp_path)[1].isoformat() == "2018-08-02T10:00:00"
    (tmp_path / "submission_metadata.json").write_text('{"created_at": "yesterday-ish"')
    assert submission_times(tmp_path)[:2] == (None, None)
    assert "could not be read" in submission_times(tmp_path)[2]
    (tmp_path / "submission_metadata.json").unlink()
    assert submission_times(tmp_path) == (None, None, "")


# -- with a course ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory):
    saved = dict(os.environ)
    root = tmp_path_factory.mktemp("course")
    jupyter = tmp_path_factory.mktemp("jupyter")
    shutil.copy(ROOT / "nbgrader_config.py", root)
    for name in ("ps1", "ps2"):
        shutil.copytree(
            ROOT / "source_assignments" / name,
            root / "source_assignments" / name,
            ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"),
        )
    os.environ.update(
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        PYTHONDONTWRITEBYTECODE="1",
        JUPYTER_CONFIG_DIR=str(jupyter / "config"),
        JUPYTER_RUNTIME_DIR=str(jupyter / "runtime"),
    )
    proc = subprocess.run(
        [sys.executable, "-m", "autograder", "--course", str(root), "release", "ps1", "ps2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    yield root
    os.environ.clear()
    os.environ.update(saved)


@pytest.mark.slow
def test_a_part_graded_by_hand_has_one_maximum_for_everyone(course: Path) -> None:
    """ps2's written answer (d_vanishing, 4 points): nbgrader scores an unchanged answer 0 by
    itself and leaves a written one to the formgrader. Both students' results count the same
    parts, so both are out of the same maximum."""
    c = Course(course)
    table = read_table(c, "ps2")
    assert "d_vanishing" in table.columns
    outs = {}
    for written in (False, True):
        parts = dict.fromkeys(table.columns, 0.0)
        parts["d_vanishing"] = None if written else 0.0
        table.rows = [SimpleNamespace(parts=parts, late_penalty=0.0, seconds_late=0.0)]
        table.row = lambda _student, rows=table.rows: rows[0]
        result = SimpleNamespace(
            outcomes={"student": Outcome("student", "", True)}, table=table, isolation="test"
        )
        outs[written] = results(c, "ps2", result, {})
    maxima = {k: sum(t.get("max_score", 0) for t in r["tests"]) for k, r in outs.items()}
    assert maxima[False] == maxima[True] == table.max_total - 4
    for r in outs.values():
        assert not [t for t in r["tests"] if t["name"].startswith("d_vanishing")]
        assert "Graded by hand later: d_vanishing (4 points)." in r["output"]


@pytest.mark.slow
def _ps1_branch_inputs(student_id: str) -> tuple[float, float]:
    """The (x, y) of ps1's part (b) graph in ``student_id``'s variant."""
    from course import variants

    sys.path.insert(0, str(ROOT / "source_assignments" / "ps1"))
    try:
        import ps1_support
    finally:
        sys.path.pop(0)
    return ps1_support.branch_inputs(variants.Variant("ps1", student_id, ""))


def test_a_late_gradescope_submission_gets_nbgraders_penalty(course: Path, tmp_path: Path) -> None:
    from autograder.cli import main

    archive = tmp_path / "ps1.zip"
    assert main(["--course", str(course), "gradescope", "ps1", "--out", str(archive)]) == 0
    root = tmp_path / "autograder"
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(root / "source")
        assert {"check_venv.sh", "requirements.txt", "python_version.txt"} <= set(zf.namelist())
        setup = zf.read("setup.sh").decode()
        pins = zf.read("requirements.txt").decode()
    assert 'check_venv.sh" python3 "$(cat "$HERE/python_version.txt")"' in setup
    assert 'pip install -r "$HERE/requirements.txt"' in setup
    assert 'pip install --no-deps "$HERE/project"' in setup
    assert f"\nnbgrader=={metadata.version('nbgrader')}\n" in pins
    config = root / "source" / "nbgrader_course" / "nbgrader_config.py"
    config.write_text(config.read_text() + '\nc.LateSubmissionPlugin.penalty_method = "zero"\n')
    (root / "submission").mkdir()
    # the numbers of part (b) typed for the variant of the uploader's email, the id Gradescope's
    # roster gives (course/variants.py): the grader must take the same id
    nb = nbformat.read(SAMPLE / "ps1" / "correct.ipynb", as_version=4)
    x, y = _ps1_branch_inputs(METADATA["users"][0]["email"])
    for cell in nb.cells:
        if cell.get("id") == "b-hand":
            numbers = f'{{"x": {(y + 1) * y!r}, "y": {2 * x * y + x!r}}}'
            cell.source = f"def hand_gradients():\n    return {numbers}"
    nbformat.write(nb, root / "submission" / "ps1.ipynb")
    (root / "submission_metadata.json").write_text(json.dumps(METADATA))
    # as in the zip's environment, which has no voila, nbval or pytest: importing one fails
    missing = tmp_path / "missing"
    for name in ("voila", "nbval", "pytest"):
        (missing / name).mkdir(parents=True)
        (missing / name / "__init__.py").write_text(f"raise ImportError('no {name} here')\n")
    env = dict(
        os.environ,
        GRADESCOPE_ROOT=str(root),
        GRADESCOPE_PYTHON=sys.executable,
        PYTHONPATH=os.pathsep.join([str(missing), *sys.path]),
    )
    proc = subprocess.run(
        ["bash", str(root / "source" / "run_autograder")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads((root / "results" / "results.json").read_text())
    assert sum(t.get("score", 0) for t in data["tests"]) == 20  # every test passed ...
    assert data["score"] == 0  # ... and the penalty of "zero" took it all
    assert "Submitted 30 min after the due date: a late penalty of 20 points." in data["output"]
