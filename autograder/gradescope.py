"""The Gradescope autograder of an assignment, built from the same machinery.

``python -m autograder gradescope ps1`` writes ``gradescope/ps1.zip``, to upload as the
assignment's autograder (Gradescope's Ubuntu base image). Gradescope unpacks it into
``/autograder/source/``, runs ``setup.sh`` once when it builds the image, and ``run_autograder``
for every submission. The zip holds:

* ``setup.sh`` -- a virtualenv in ``/autograder/venv`` with this project installed (``course``,
  ``autograder`` and their dependencies, nbgrader among them);
* ``run_autograder`` -- autogrades ``/autograder/submission/*.ipynb`` with
  ``python -m autograder gradescope-run``: the student's notebook graded by nbgrader exactly as
  ``grade`` does (one student, one worker), then ``/autograder/results/results.json`` in
  Gradescope's format with one test per autograded cell (its points, and its output: the
  message that names the bug);
* ``project/`` -- this project's source, to install; ``nbgrader_course/`` -- a course holding
  only this assignment: ``nbgrader_config.py``, its source folder (the hidden tests and the
  support files that nbgrader puts back before grading) and a gradebook with the assignment's
  definition and no student in it;
* ``gradescope.json`` -- the assignment and the visibility of the tests.

A test whose cell holds hidden tests is shown to the student ``after_due_date`` by default
(``--hidden-visibility``); the others at once. For a local run, ``GRADESCOPE_ROOT`` replaces
``/autograder`` and ``GRADESCOPE_PYTHON`` the virtualenv's Python.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

from autograder.coursedir import Course, prepare_environment

PROJECT = Path(__file__).resolve().parent.parent
PROJECT_FILES = ("pyproject.toml", "README.md", "LICENSE", "course", "autograder")
IGNORE = shutil.ignore_patterns(
    "__pycache__", "*.pyc", ".ipynb_checkpoints", "sample_class", "*.egg-info"
)
VISIBILITY = ("hidden", "after_due_date", "after_published", "visible")
STUDENT = "student"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder's image.
set -euo pipefail
apt-get update
# bubblewrap: each student's kernel runs in an OS sandbox where the container allows one (the
# grading falls back to a separate unprivileged user where it does not; results.json says which)
apt-get install -y python3 python3-venv python3-pip bubblewrap util-linux
python3 -m venv /autograder/venv
/autograder/venv/bin/python -m pip install --upgrade pip
/autograder/venv/bin/python -m pip install /autograder/source/project
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for each submission; it writes $ROOT/results/results.json.
set -uo pipefail
ROOT="${{GRADESCOPE_ROOT:-/autograder}}"
PYTHON="${{GRADESCOPE_PYTHON:-$ROOT/venv/bin/python}}"
export PATH="$(dirname "$PYTHON"):$PATH"  # nbgrader runs alembic from PATH
export PYTHONPATH="$ROOT/source/project${{PYTHONPATH:+:$PYTHONPATH}}"
export GRADESCOPE_ROOT="$ROOT"
mkdir -p "$ROOT/results"
cd "$ROOT/source/nbgrader_course"
exec "$PYTHON" -m autograder --course "$ROOT/source/nbgrader_course" gradescope-run {assignment}
"""


def build_zip(
    course: Course,
    assignment: str,
    out: str | Path | None = None,
    hidden_visibility: str = "after_due_date",
    score_visibility: str = "visible",
) -> Path:
    """Write the autograder zip of a released ``assignment`` of ``course``; return its path.

    ``hidden_visibility``: when students see the verdicts of the hidden checks;
    ``score_visibility``: when they see the whole result, total included (the visible checks'
    tests stay visible at once)."""
    from autograder.grading import make_template

    for value in (hidden_visibility, score_visibility):
        if value not in VISIBILITY:
            raise ValueError(f"visibility must be one of {', '.join(VISIBILITY)}, not {value!r}")
    prepare_environment()
    course.notebooks(assignment)  # says so when the assignment is not released
    out = Path(out) if out else course.root / "gradescope" / f"{assignment}.zip"
    with tempfile.TemporaryDirectory(prefix="gradescope-") as tmp:
        stage = Path(tmp) / "zip"
        make_template(course, assignment, stage / "nbgrader_course")
        (stage / "project").mkdir()
        for name in PROJECT_FILES:
            source = PROJECT / name
            if source.is_dir():
                shutil.copytree(source, stage / "project" / name, ignore=IGNORE)
            elif source.is_file():
                shutil.copy2(source, stage / "project" / name)
        (stage / "setup.sh").write_text(SETUP_SH)
        (stage / "run_autograder").write_text(RUN_AUTOGRADER.format(assignment=assignment))
        (stage / "gradescope.json").write_text(
            json.dumps(
                {
                    "assignment": assignment,
                    "hidden_visibility": hidden_visibility,
                    "score_visibility": score_visibility,
                }
            )
            + "\n"
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(stage.rglob("*")):
                if path.is_file():
                    info = zipfile.ZipInfo.from_file(path, path.relative_to(stage).as_posix())
                    if path.name in ("setup.sh", "run_autograder"):
                        info.external_attr = 0o755 << 16
                    zf.writestr(info, path.read_bytes(), zipfile.ZIP_DEFLATED)
    return out


# -- inside Gradescope -------------------------------------------------------------------------


def _hidden_cells(course: Course, assignment: str) -> set[str]:
    """grade_ids of the source cells that hold hidden tests."""
    found = set()
    for path in course.source(assignment).glob("*.ipynb"):
        for cell in json.loads(path.read_text())["cells"]:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            source = "".join(cell.get("source", ""))
            if meta.get("grade") and "BEGIN HIDDEN TESTS" in source:
                found.add(meta["grade_id"])
    return found


def _verdicts(course: Course, assignment: str) -> dict[str, dict]:
    """``grade_id`` (and ``notebook:grade_id``) -> the visible and hidden checks' verdicts the
    run kept (``verdicts.json`` beside the autograded notebooks; see autograder.run)."""
    from autograder.coursedir import VERDICTS_FILE

    path = course.path("autograded", STUDENT, assignment) / VERDICTS_FILE
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    out: dict[str, dict] = {}
    for notebook, cells in data.items() if isinstance(data, dict) else []:
        for grade_id, verdict in cells.items() if isinstance(cells, dict) else []:
            out[grade_id] = out[f"{notebook}:{grade_id}"] = verdict
    return out


def _clean(text: str) -> str:
    return ANSI.sub("", text).strip()


def _cell_outputs(path: Path) -> dict[str, tuple[str, str]]:
    """grade_id -> (title: the cell's first comment line, output text) of a graded notebook."""
    out = {}
    if not path.is_file():
        return out
    for cell in json.loads(path.read_text())["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if not grade_id or cell.get("cell_type") != "code":
            continue
        lines = "".join(cell.get("source", "")).strip().splitlines()
        comments = []
        for line in lines:  # the comment that opens the cell says what it tests
            if not line.startswith("#"):
                break
            comments.append(line.lstrip("#").strip())
        title = " ".join(comments)
        text = []
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream":
                text.append("".join(o.get("text", "")))
            elif o.get("output_type") == "error":
                text.append(ANSI.sub("", f"{o.get('ename', 'Error')}: {o.get('evalue', '')}"))
            elif "data" in o and "text/plain" in o["data"]:
                text.append("".join(o["data"]["text/plain"]))
        out[grade_id] = (title, "\n".join(t.rstrip("\n") for t in text).strip())
    return out


def results(course: Course, assignment: str, result, settings: dict) -> dict:
    """Gradescope's results.json for one submission (``result``: a grading Result, or None)."""
    outcome = result.outcomes.get(STUDENT) if result is not None else None
    if outcome is None or not outcome.graded:
        why = outcome.error if outcome else "no notebook of this assignment in the submission"
        return {
            "score": 0.0,
            "output": f"Your notebook could not be graded: {why}\n"
            "Upload the .ipynb file of this assignment, saved from Jupyter.",
            "visibility": "visible",
            "stdout_visibility": "hidden",
            "tests": [],
        }
    outputs = {}
    for nb in course.notebooks(assignment):
        graded = course.path("autograded", STUDENT, assignment) / f"{nb}.ipynb"
        for grade_id, text in _cell_outputs(graded).items():
            outputs[grade_id] = outputs[f"{nb}:{grade_id}"] = text
    row = result.table.row(STUDENT)
    hidden = _hidden_cells(course, assignment)
    verdicts = _verdicts(course, assignment)
    later = settings.get("hidden_visibility", "after_due_date")
    tests, manual = [], []
    for k, column in enumerate(result.table.columns, start=1):
        grade_id = column.split(":")[-1]
        score = row.parts.get(column)
        if score is None:  # no automatic score: graded by hand
            manual.append(grade_id)
            continue
        maximum = result.table.max_points[column]
        title, text = outputs.get(column, ("", ""))
        name = f"{grade_id}: {title}" if title else grade_id
        status = "passed" if score >= maximum else "failed"
        split = verdicts.get(column) or verdicts.get(grade_id) or {}
        if grade_id in hidden and "visible" in split and "hidden" in split:
            # the visible checks' messages at once; the hidden ones, with the points, later
            tests.append(
                {
                    "name": f"{name} (visible checks)",
                    "number": f"{k}.1",
                    "status": "passed" if split["visible"].get("passed") else "failed",
                    "output": _clean(str(split["visible"].get("output", ""))),
                    "visibility": "visible",
                }
            )
            more = str(split["hidden"].get("output", ""))
            if not split["hidden"].get("ran", True):
                more = "Not run: the visible checks of this part failed first."
            elif not more.strip():
                more = "All checks of this part pass." if status == "passed" else more
            tests.append(
                {
                    "name": f"{name} (all checks)",
                    "number": f"{k}.2",
                    "score": score,
                    "max_score": maximum,
                    "status": status,
                    "output": _clean(more),
                    "visibility": later,
                }
            )
            continue
        tests.append(
            {
                "name": name,
                "number": str(k),
                "score": score,
                "max_score": maximum,
                "status": status,
                "output": text,
                "visibility": later if grade_id in hidden else "visible",
            }
        )
    auto = sum(t.get("score", 0.0) for t in tests)
    lines = [f"Autograded: {auto:g} / {sum(t.get('max_score', 0.0) for t in tests):g} points."]
    if manual:
        lines.append(f"Graded by hand later: {', '.join(manual)}.")
    if hidden:
        lines.append(
            "Each part's visible checks are shown at once; its hidden checks, which run more "
            "cases, and the points are shown later."
        )
    if outcome.findings:
        lines.append("Noticed while grading (see autograder/SECURITY.md):")
        lines += [f"- {f}" for f in outcome.findings]
    return {
        "score": auto,
        "output": "\n".join(lines),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"isolation": result.isolation},
    } | (
        {"visibility": settings["score_visibility"]}
        if settings.get("score_visibility", "visible") != "visible"
        else {}
    )


def run_autograder(course: Course, assignment: str) -> int:
    """Grade ``$GRADESCOPE_ROOT/submission/*.ipynb`` and write ``results/results.json``.

    The notebook named like the assignment's is graded, else the only notebook sent.
    """
    from autograder.grading import grade

    start = time.perf_counter()
    root = Path(os.environ.get("GRADESCOPE_ROOT", "/autograder"))
    settings_file = course.root.parent / "gradescope.json"
    settings = json.loads(settings_file.read_text()) if settings_file.is_file() else {}
    notebooks = course.notebooks(assignment)
    sent = [
        p
        for p in sorted((root / "submission").rglob("*.ipynb"))
        if ".ipynb_checkpoints" not in p.parts
    ]
    inbox = Path(tempfile.mkdtemp(prefix="submission-"))
    folder = inbox / STUDENT / assignment
    folder.mkdir(parents=True)
    for nb in notebooks:
        exact = [p for p in sent if p.name == f"{nb}.ipynb"]
        pick = exact or (sent if len(sent) == 1 and len(notebooks) == 1 else [])
        if pick:
            shutil.copy2(pick[0], folder / f"{nb}.ipynb")
    result = None
    if any(folder.iterdir()):
        result = grade(
            course, assignment, inbox, jobs=1, layout="nbgrader", progress=False,
            out=root / "results" / "grading",
        )  # fmt: skip
    shutil.rmtree(inbox, ignore_errors=True)
    data = results(course, assignment, result, settings)
    data["execution_time"] = round(time.perf_counter() - start, 1)
    target = root / "results" / "results.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(data, indent=2) + "\n")
    print(data["output"])
    for t in data["tests"]:
        points = f"{t['score']:g}/{t['max_score']:g}" if "score" in t else t["status"]
        print(f"  {t['name']}: {points}")
    return 0
