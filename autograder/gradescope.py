"""The Gradescope autograder of an assignment, built from the same machinery.

``python -m autograder gradescope ps1`` writes ``gradescope/ps1.zip``, to upload as the
assignment's autograder (Gradescope's Ubuntu base image). Gradescope unpacks it into
``/autograder/source/``, runs ``setup.sh`` once when it builds the image, and ``run_autograder``
for every submission. The zip holds:

* ``setup.sh`` -- a virtualenv in ``/autograder/venv`` with this project installed (``course``,
  ``autograder`` and what grading needs, nbgrader among them, pinned in ``requirements.txt`` to
  the versions installed where the zip was built: :func:`pinned_environment`);
  ``check_venv.sh`` first makes sure ``python3`` is recent enough for those pins
  (``python_version.txt``) and can make a virtualenv with pip (and names Debian's
  ``python3-venv`` when it cannot);
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

Gradescope's ``/autograder/submission_metadata.json`` gives the submission time
(``created_at``) and the due date (``assignment.due_date``; a user's own ``due_date``, an
extension, when the entry of the user has one): the time becomes nbgrader's ``timestamp.txt``
and the due date the assignment's in the gradebook, so nbgrader's late penalty
(``c.LateSubmissionPlugin`` in ``nbgrader_config.py``) applies and results.json says how late
the submission was. The parts graded by hand (written answers) are not tests: every student's
results have the same maximum, the autograded parts', and the output names the others.

A test whose cell holds hidden tests is shown to the student ``after_due_date`` by default
(``--hidden-visibility``); the others at once. For a local run, ``GRADESCOPE_ROOT`` replaces
``/autograder`` and ``GRADESCOPE_PYTHON`` the virtualenv's Python.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
import time
import zipfile
from datetime import datetime
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
HERE="$(cd "$(dirname "$0")" && pwd)"
bash "$HERE/check_venv.sh" python3 "$(cat "$HERE/python_version.txt")"
python3 -m venv /autograder/venv
/autograder/venv/bin/python -m pip install --upgrade pip
# what grading needs, at the versions the zip was built with; then the project itself, whose
# other dependencies (the dashboard's voila, the notebooks' tests) grading never imports
/autograder/venv/bin/python -m pip install -r "$HERE/requirements.txt"
/autograder/venv/bin/python -m pip install --no-deps "$HERE/project"
"""

CHECK_VENV_SH = """#!/usr/bin/env bash
# check_venv.sh [PYTHON [OLDEST]]: is PYTHON (default python3) at least version OLDEST (the
# oldest that every pinned package accepts), and can it make a virtualenv with pip in it?
# "python3 -m venv --help" works without ensurepip, which Debian and Ubuntu ship apart
# (python3-venv), so one is made and thrown away; each failure names what to do.
set -uo pipefail
PY="${1:-python3}"
OLDEST="${2:-3.0}"
AT_LEAST='import sys; v = tuple(map(int, sys.argv[1].split("."))); sys.exit(sys.version_info < v)'
if ! "$PY" -c "$AT_LEAST" "$OLDEST"; then
    {
        echo "$PY is Python $("$PY" -c 'import platform; print(platform.python_version())'), older"
        echo "than $OLDEST, the oldest that every package of requirements.txt (the versions the"
        echo "zip was built with) accepts: choose a base image whose python3 is $OLDEST or newer"
        echo "(Ubuntu 24.04 has 3.12), or build the zip with an environment of that image's Python."
    } >&2
    exit 1
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
if out="$("$PY" -m venv "$tmp/venv" 2>&1)" &&
    "$tmp/venv/bin/python" -m pip --version >/dev/null 2>&1; then
    exit 0
fi
version="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo 3)"
{
    echo "$PY cannot make a virtualenv with pip in it (its ensurepip module is missing):"
    printf '%s\\n' "$out" | tail -n 4
    echo "Install Debian's python3-venv for this Python (apt-get install -y python3-venv" \\
        "python$version-venv), or set up a Python that has ensurepip, then build again."
} >&2
exit 1
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


#: the project's dependencies that grading never imports (the dashboard and the notebooks' tests)
NOT_FOR_GRADING = ("voila", "nbval", "pytest")


def _project_requirements() -> list[str]:
    """The project's own dependencies (``pyproject.toml``; the installed metadata where Python
    has no ``tomllib``)."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        from importlib.metadata import distribution

        return list(distribution("backprop-course").requires or [])
    data = tomllib.loads((PROJECT / "pyproject.toml").read_text())
    return list(data["project"]["dependencies"])


def pinned_environment() -> tuple[list[str], str]:
    """``name==version`` of every package grading installs (the project's dependencies less
    :data:`NOT_FOR_GRADING`, and all that they need, with the extras asked for), at the version
    installed here, where the tests pass; and the oldest Python version (``3.N``) that all of
    them accept (the highest lower bound of their ``Requires-Python``).

    ``setup.sh`` installs these (``requirements.txt``), then the project without its
    dependencies, so Gradescope grades with the versions this zip was built with, not whatever is
    newest on the day the image is built, and without what grading never imports.
    """
    from importlib.metadata import PackageNotFoundError, distribution

    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    def wanted(req: Requirement, extras: tuple[str, ...]) -> bool:
        if req.marker is None:
            return True
        return any(req.marker.evaluate({"extra": extra}) for extra in ("", *extras))

    todo = [
        (Requirement(r), ())
        for r in _project_requirements()
        if canonicalize_name(Requirement(r).name) not in NOT_FOR_GRADING
    ]
    found: dict[str, tuple[str, str]] = {}  # name -> (version, Requires-Python)
    done: set[tuple[str, str]] = set()
    while todo:
        req, extras = todo.pop()
        if not wanted(req, extras):
            continue
        name = canonicalize_name(req.name)
        keys = {(name, e) for e in ("", *sorted(req.extras))}
        if keys <= done:
            continue
        done |= keys
        try:
            dist = distribution(req.name)
        except PackageNotFoundError:
            raise RuntimeError(
                f"{req.name} (needed by grading) is not installed in {sys.prefix}: build the "
                "Gradescope zip from the project's environment (make install)"
            ) from None
        found[name] = (dist.version, dist.metadata.get("Requires-Python") or "")
        todo += [(Requirement(r), tuple(req.extras)) for r in dist.requires or []]
    floors = [
        Version(spec.version)
        for _, wants in found.values()
        for spec in SpecifierSet(wants)
        if spec.operator in (">=", ">", "~=")
    ]
    oldest = str(max(floors, default=Version("3.0")))
    return [f"{name}=={version}" for name, (version, _) in sorted(found.items())], oldest


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
        (stage / "check_venv.sh").write_text(CHECK_VENV_SH)
        pins, oldest = pinned_environment()
        (stage / "requirements.txt").write_text(
            "# the versions this zip was built and tested with (python -m autograder gradescope)\n"
            + "".join(f"{line}\n" for line in pins)
        )
        (stage / "python_version.txt").write_text(f"{oldest}\n")
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
                    if path.name in ("setup.sh", "run_autograder", "check_venv.sh"):
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


def manual_parts(course: Course, assignment: str) -> set[str]:
    """The grade_ids (and ``notebook:grade_id``) of the parts graded by hand: written answers,
    code answers that are graded cells too, tasks. From the gradebook's definition of the
    assignment, never from a student's scores: nbgrader gives an unchanged written answer an
    automatic 0, and a part must not count for one student and not for another."""
    found = set()
    with course.gradebook() as gb:
        for nb in gb.find_assignment(assignment).notebooks:
            solutions = {c.name for c in nb.solution_cells}
            for c in nb.grade_cells:
                if c.cell_type != "code" or c.name in solutions:
                    found |= {c.name, f"{nb.name}:{c.name}"}
            for c in nb.task_cells:
                found |= {c.name, f"{nb.name}:{c.name}"}
    return found


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
    by_hand = manual_parts(course, assignment)
    tests, manual = [], []
    for k, column in enumerate(result.table.columns, start=1):
        grade_id = column.split(":")[-1]
        maximum = result.table.max_points[column]
        if column in by_hand:  # the same for every student, whatever nbgrader scored
            manual.append(f"{grade_id} ({maximum:g} points)")
            continue
        score = row.parts.get(column)
        if score is None:  # an autograded part without a score: it earned nothing
            score = 0.0
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
    lines += _late_lines(row)
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
        "score": max(auto - row.late_penalty, 0.0),
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


METADATA = "submission_metadata.json"


def submission_times(root: Path) -> tuple[datetime | None, datetime | None, str]:
    """(when it was submitted, when it was due, what was wrong) from Gradescope's
    ``submission_metadata.json`` in ``root``, both in UTC without a time zone (as nbgrader keeps
    them). A missing file or field gives ``None``; an unreadable one says so in the third item.
    """
    from nbgrader.utils import parse_utc

    path = root / METADATA
    if not path.is_file():
        return None, None, ""
    try:
        data = json.loads(path.read_text())
        submitted = parse_utc(data["created_at"]) if data.get("created_at") else None
        dates = [(data.get("assignment") or {}).get("due_date")]
        for user in data.get("users") or []:  # a user's own due date (an extension), if given
            dates.append((user.get("assignment") or {}).get("due_date"))
        due = max((parse_utc(d) for d in dates if d), default=None)
        return submitted, due, ""
    except (OSError, ValueError, TypeError, AttributeError, OverflowError) as exc:
        return None, None, f"{METADATA} could not be read ({exc}): graded without a due date"


def roster_id(root: Path) -> str:
    """The student's id for a per-student variant (``course/variants.py``), from Gradescope's
    ``submission_metadata.json``: the roster's student id (``sid``), else the email; "" when
    neither is known (the notebook is then graded with the id it states, see
    :func:`run_autograder`)."""
    try:
        users = json.loads((root / METADATA).read_text()).get("users") or []
    except (OSError, ValueError, AttributeError):
        return ""
    for user in users[:1]:
        for key in ("sid", "email"):
            if isinstance(user, dict) and str(user.get(key) or "").strip():
                return str(user[key]).strip()
    return ""


def _late_lines(row) -> list[str]:
    """What results.json says of lateness (nothing for a submission on time)."""
    if not row.seconds_late:
        return []
    minutes = round(row.seconds_late / 60)
    late = f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
    if row.late_penalty:
        return [
            f"Submitted {late} after the due date: a late penalty of {row.late_penalty:g} points."
        ]
    return [f"Submitted {late} after the due date (no late penalty)."]


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
    submitted, due, trouble = submission_times(root)
    if submitted is not None:
        (folder / "timestamp.txt").write_text(f"{submitted:%Y-%m-%d %H:%M:%S.%f} UTC\n")
    if due is not None:  # this container's copy of the gradebook: one submission's
        with course.gradebook() as gb:
            gb.update_or_create_assignment(assignment, duedate=due)
    result = None
    if any(folder.iterdir()):
        result = grade(
            course, assignment, inbox, jobs=1, layout="nbgrader", progress=False,
            out=root / "results" / "grading", variant_ids={STUDENT: roster_id(root)},
        )  # fmt: skip
    shutil.rmtree(inbox, ignore_errors=True)
    data = results(course, assignment, result, settings)
    if trouble:
        data["output"] += "\n" + trouble
    data["execution_time"] = round(time.perf_counter() - start, 1)
    target = root / "results" / "results.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(data, indent=2) + "\n")
    print(data["output"])
    for t in data["tests"]:
        points = f"{t['score']:g}/{t['max_score']:g}" if "score" in t else t["status"]
        print(f"  {t['name']}: {points}")
    return 0
