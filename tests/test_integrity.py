"""The tamper-and-fault suite: hostile and broken ps1 submissions, graded through the real pipeline.

One class is graded once (``autograder.grading.grade``, two workers, exactly as
``python -m autograder grade`` does) in a temporary copy of the course: 45 honest students (the
sample class of ps1, copied round-robin under new ids) and every case of ``tests/integrity/cases``
(the cases and what each must score are in ``tests/integrity/cases_*.py``). The tests then check
that every case got the points its honest code deserves, that the report names what was
detected, that the honest students got exactly what they get alone, and that the course's files
and gradebook are intact. A second test interrupts a grading run and runs it again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder.coursedir import Course
from autograder.findings import KINDS
from autograder.grading import Result, grade
from tests.integrity.case import CASES as CASE_FOLDER
from tests.integrity.case import SAMPLE, Case
from tests.integrity.make_cases import all_cases, stale

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HONEST = 45
CELL_TIMEOUT = 10  # seconds a cell may run in this suite's course (the course default is 120)
CASES = all_cases()
BY_NAME = {c.name: c for c in CASES}
EXPECTED = json.loads((SAMPLE / "expected.json").read_text())

pytestmark = pytest.mark.slow


def digest(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` -> the sha256 of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def make_course(root: Path) -> Course:
    """A temporary course with ps1 released and a short cell timeout."""
    root.mkdir(parents=True, exist_ok=True)
    config = (ROOT / "nbgrader_config.py").read_text()
    config += f"\nc.Execute.timeout = {CELL_TIMEOUT}\n"
    (root / "nbgrader_config.py").write_text(config)
    shutil.copytree(
        ROOT / "source_assignments" / "ps1",
        root / "source_assignments" / "ps1",
        ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"),
    )
    course = Course(root)
    released = course.release("ps1")
    assert released["success"], released.get("log")
    return course


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    saved = dict(os.environ)
    jupyter = tmp_path_factory.mktemp("jupyter")
    os.environ.update(
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        PYTHONDONTWRITEBYTECODE="1",
        JUPYTER_CONFIG_DIR=str(jupyter / "config"),
        JUPYTER_RUNTIME_DIR=str(jupyter / "runtime"),
    )
    yield
    os.environ.clear()
    os.environ.update(saved)


@dataclass
class Graded:
    course: Course
    result: Result
    honest: dict[str, str]  # student -> the sample notebook it is a copy of
    before: dict[str, str]  # digest of the course's source folder before grading
    gradebook_rows: dict[str, int]  # table -> rows, read with sqlite after grading
    seconds: float


@pytest.fixture(scope="module")
def graded(environment, tmp_path_factory: pytest.TempPathFactory) -> Graded:
    root = tmp_path_factory.mktemp("integrity_course")
    course = make_course(root)
    folder = tmp_path_factory.mktemp("class")
    samples = sorted(p for p in SAMPLE.glob("*.ipynb"))
    honest = {}
    for k in range(HONEST):
        source = samples[k % len(samples)]
        student = f"honest{k:02d}_{source.stem}"
        shutil.copy(source, folder / f"{student}.ipynb")
        honest[student] = source.stem
    for case in CASES:
        shutil.copy(CASE_FOLDER / f"{case.name}.ipynb", folder / f"hostile_{case.name}.ipynb")
    before = digest(root / "source_assignments")
    start = time.perf_counter()
    result = grade(course, "ps1", folder, jobs=2, out=tmp_path_factory.mktemp("out"))
    seconds = time.perf_counter() - start
    with sqlite3.connect(root / "gradebook.db") as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        rows = {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}
    print(f"\nintegrity suite: graded {len(result.outcomes)} submissions in {seconds:.1f} s")
    return Graded(course, result, honest, before, rows, seconds)


def problems_of(graded: Graded, student: str) -> list:
    return graded.result.outcomes[student].findings


def test_the_stored_cases_are_what_their_builders_make() -> None:
    assert not stale(CASES), "run: python -m tests.integrity.make_cases"
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_case_gets_what_its_honest_code_deserves(graded: Graded, case: Case) -> None:
    student = f"hostile_{case.name}"
    outcome = graded.result.outcomes[student]
    row = graded.result.table.row(student)
    if case.error:
        assert not outcome.graded and outcome.error, (student, outcome)
        assert row is None or not row.total
        return
    assert outcome.graded, (student, outcome.error, outcome.log[-2000:])
    assert row is not None
    got = {part: row.parts[part] for part in case.parts}
    assert got == case.parts, f"{case.name} ({case.about}): {got} != {case.parts}"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_case_is_reported_in_plain_words(graded: Graded, case: Case) -> None:
    student = f"hostile_{case.name}"
    findings = problems_of(graded, student)
    kinds = {f.kind for f in findings}
    assert case.kinds <= kinds, f"{case.name}: expected {case.kinds}, found {findings}"
    for f in findings:
        assert f.kind in KINDS and len(f.message) > 10
    line = "; ".join(graded.result.problems().get(student, []))
    for kind in case.kinds:
        assert KINDS[kind] in line


def test_the_honest_students_are_unaffected(graded: Graded) -> None:
    for student, source in graded.honest.items():
        outcome = graded.result.outcomes[student]
        assert outcome.ok, (student, outcome.error)
        row = graded.result.table.row(student)
        want = EXPECTED[source]
        assert row.total == want["total"], (student, row.parts, want)
        assert row.parts == want["parts"], student
        kinds = {f.kind for f in outcome.findings}
        allowed = {"delegation"} if source == "bug_uses_package" else set()
        assert kinds <= allowed, (student, outcome.findings)


def test_the_course_files_and_the_gradebook_are_intact(graded: Graded) -> None:
    root = graded.course.root
    assert digest(root / "source_assignments") == graded.before
    expected_students = len(graded.honest) + len(CASES)
    assert graded.gradebook_rows["submitted_assignment"] == expected_students
    assert graded.gradebook_rows["student"] == expected_students
    assert len(graded.result.table.rows) == expected_students
    leaked = []
    for student in graded.result.outcomes:
        page = root / "autograded" / student / "ps1" / "ps1.ipynb"
        if page.is_file():
            outputs = json.dumps(
                [c.get("outputs", []) for c in json.loads(page.read_text())["cells"]]
            )
            leaked += [student for word in ("LEAKED", "WROTE", "REMOVED") if word in outputs]
    assert not leaked, leaked


def test_feedback_stays_bounded_and_readable(graded: Graded) -> None:
    pages = {s: p for s, ps in graded.result.feedback.items() for p in ps}
    assert pages, "no feedback pages"
    biggest = max(p.stat().st_size for p in pages.values())
    assert biggest < 3_000_000, biggest
    for student, page in pages.items():
        text = page.read_text(encoding="utf-8")  # valid UTF-8
        assert "\ufffd" not in text or "unicode" in student, student


def test_the_report_lists_every_hostile_student(graded: Graded) -> None:
    from autograder.report import report

    text = report(graded.course, ["ps1"])
    for case in CASES:
        if case.kinds:
            assert f"hostile_{case.name}:" in text, case.name
    for student in graded.honest:
        assert f"  {student}:" not in text or graded.honest[student] == "bug_uses_package"


# -- 13: the grader interrupted -------------------------------------------------------------------


def _kernels_under(folder: str) -> list[int]:
    """Processes whose working directory is inside ``folder`` (kernels left behind)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.readlink(entry / "cwd").startswith(folder):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill"])
def test_an_interrupted_run_loses_nothing_and_a_second_run_finishes(
    environment, tmp_path: Path, how: signal.Signals
) -> None:
    course = make_course(tmp_path / "course")
    folder = tmp_path / "class"
    folder.mkdir()
    names = {}
    for k, source in enumerate(sorted(SAMPLE.glob("*.ipynb")) * 2):
        student = f"s{k:02d}_{source.stem}"
        shutil.copy(source, folder / f"{student}.ipynb")
        names[student] = source.stem
    command = [sys.executable, "-m", "autograder", "--course", str(course.root), "grade", "ps1"]
    command += [str(folder), "--jobs", "2", "--no-progress", "--out", str(tmp_path / "out")]
    scratch = tmp_path / "tmp"  # the run's scratch courses, and so its kernels' folders
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    proc = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    graded_dir = course.root / "autograded"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        done = list(graded_dir.glob("*/ps1/findings.json")) if graded_dir.is_dir() else []
        if len(done) >= 2:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(how)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode != 0
    deadline = time.monotonic() + 30
    while _kernels_under(str(scratch)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _kernels_under(str(scratch)), "kernels left running"

    def scores() -> dict[str, float]:
        with sqlite3.connect(course.root / "gradebook.db") as db:
            return {
                student: total
                for student, total in db.execute(
                    "SELECT s.student_id, SUM(COALESCE(g.auto_score, 0)) "
                    "FROM submitted_assignment s JOIN submitted_notebook n "
                    "ON n.assignment_id = s.id JOIN grade g ON g.notebook_id = n.id "
                    "GROUP BY s.id"
                )
            }

    first = scores()
    for student, total in first.items():  # what was merged is right (or not yet graded)
        assert total in (EXPECTED[names[student]]["total"], 0), (student, total)
    merged = len(list(graded_dir.glob("*/ps1/findings.json")))
    assert merged >= 2
    second = subprocess.run(
        [*command, "--resume"], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert second.returncode == 0, second.stdout + second.stderr
    kept = re.search(r"kept (\d+) graded before", second.stdout)
    assert kept and int(kept.group(1)) >= merged - 2, second.stdout  # the rest was regraded
    final = scores()
    assert final == {s: EXPECTED[n]["total"] for s, n in names.items()}
    with sqlite3.connect(course.root / "gradebook.db") as db:
        per_student = db.execute(
            "SELECT student_id, COUNT(*) FROM submitted_assignment GROUP BY student_id"
        ).fetchall()
    assert all(count == 1 for _, count in per_student) and len(per_student) == len(names)
    regraded = len(names) - int(kept.group(1))
    assert re.search(rf"{regraded} ok, 0 errors", second.stdout), second.stdout
