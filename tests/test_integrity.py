"""The tamper-and-fault suite: hostile and broken ps1 submissions, graded through the real pipeline.

One class is graded once (``autograder.grading.grade``, two workers, exactly as
``python -m autograder grade`` does) in a temporary copy of the course, from the course's own
``submitted/`` folder in nbgrader's layout (``submitted/<student>/ps1/``): 45 honest students
(the sample class of ps1, copied round-robin under new ids) and every case of
``tests/integrity/cases`` with the files and links it puts beside its notebook (the cases and
what each must score are in ``tests/integrity/cases_*.py``). While it grades, the suite listens
on the host's loopback and on an abstract unix socket, and keeps a process of its own running,
for the cases that reach for them. The tests then check that every case got the points its honest
code deserves, that the report names what was detected, that the honest students got exactly
what they get alone, that the course's files, the installed package and the gradebook are intact,
that no feedback shows a hidden test, and that no submission held a worker much longer than the
notebook's time budget or made it grow. A second test interrupts a grading run and runs it again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import resource
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from autograder.coursedir import Course
from autograder.findings import KINDS
from autograder.grading import Result, grade
from tests.integrity.case import CELL_TIMEOUT, NOTEBOOK_SECONDS, SAMPLE, Case
from tests.integrity.cases_box import ABSTRACT, MARKER, PORTS
from tests.integrity.make_cases import all_cases, stale

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HONEST = 45
CASES = all_cases()
BY_NAME = {c.name: c for c in CASES}
EXPECTED = json.loads((SAMPLE / "expected.json").read_text())
#: how long grading one submission may take at most: its budget, one cell's timeout past it,
#: the seconds a stuck kernel gets after an interrupt, and starting, saving and feedback
MOST_SECONDS = NOTEBOOK_SECONDS + CELL_TIMEOUT + 25
#: the largest resident memory a grading worker (or a kernel) may reach, in MiB
MOST_WORKER_MB = 1024

pytestmark = pytest.mark.slow


def digest(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` -> the sha256 of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def make_course(root: Path) -> Course:
    """A temporary course with ps1 released, a short cell timeout and a short notebook budget
    (a test's call of a student's function may take as long as a cell)."""
    root.mkdir(parents=True, exist_ok=True)
    config = (ROOT / "nbgrader_config.py").read_text()
    config += f"\nc.Execute.timeout = {CELL_TIMEOUT}\n"
    config += f"c.BoxedExecute.notebook_seconds = {NOTEBOOK_SECONDS}\n"
    config += f"c.BoxedExecute.call_seconds = {CELL_TIMEOUT}\n"
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
    before: dict[str, str]  # digest of the course's own files before grading
    gradebook_rows: dict[str, int]  # table -> rows, read with sqlite after grading
    seconds: float
    escaped: list[str] = field(default_factory=list)  # what reached the suite's own listeners
    worker_mb: float | None = None  # the largest resident memory of a worker or kernel, MiB


def instructor_files(root: Path) -> dict[str, str]:
    """The digest of what grading must not change in a course: its configuration, the
    assignment's source and its release."""
    files = {"nbgrader_config.py": hashlib.sha256((root / "nbgrader_config.py").read_bytes())}
    out = {name: h.hexdigest() for name, h in files.items()}
    for folder in ("source_assignments", "release"):
        out.update({f"{folder}/{k}": v for k, v in digest(root / folder).items()})
    return out


class Bait:
    """What the suite keeps open on the host while it grades: listeners on the loopback and on
    an abstract unix socket, and a process of its own. No box may reach any of them."""

    def __init__(self) -> None:
        self.sockets: list[tuple[str, socket.socket]] = []
        for port in PORTS:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:  # in use: the payload's connection would prove nothing here
                s.close()
                continue
            s.listen(8)
            self.sockets.append((f"127.0.0.1:{port}", s))
        u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            u.bind("\0" + ABSTRACT)
        except OSError:  # another run of the suite listens there
            u.close()
        else:
            u.listen(8)
            self.sockets.append((f"@{ABSTRACT}", u))
        self.process = subprocess.Popen(["sleep", "3600"])

    def reached(self) -> list[str]:
        out = []
        for name, s in self.sockets:
            readable, _, _ = select.select([s], [], [], 0)
            if readable:
                out.append(f"a connection to {name}")
        if self.process.poll() is not None:
            out.append(f"the suite's own process (ended with {self.process.returncode})")
        return out

    def close(self) -> None:
        for _, s in self.sockets:
            s.close()
        with contextlib.suppress(OSError):
            self.process.kill()
        self.process.wait()


def _children_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


@pytest.fixture(scope="module")
def graded(environment, tmp_path_factory: pytest.TempPathFactory) -> Graded:
    root = tmp_path_factory.mktemp("integrity_course")
    course = make_course(root)
    submitted = root / "submitted"
    submitted.mkdir()
    # the sample class's honest students (a copier's notebook fails under every id, as it should)
    samples = sorted(p for p in SAMPLE.glob("*.ipynb") if not p.stem.startswith("copied_"))
    honest = {}
    for k in range(HONEST):
        source = samples[k % len(samples)]
        student = f"honest{k:02d}_{source.stem}"
        (submitted / student / "ps1").mkdir(parents=True)
        shutil.copy(source, submitted / student / "ps1" / "ps1.ipynb")
        honest[student] = source.stem
    for case in CASES:
        case.submit(submitted, f"hostile_{case.name}", root)
    before = instructor_files(root)
    peak_before = _children_peak_mb()
    bait = Bait()
    try:
        start = time.perf_counter()
        result = grade(course, "ps1", submitted, jobs=2, out=tmp_path_factory.mktemp("out"))
        seconds = time.perf_counter() - start
        escaped = bait.reached()
    finally:
        bait.close()
    peak = _children_peak_mb()
    with sqlite3.connect(root / "gradebook.db") as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        rows = {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}
        rows["integrity_check"] = db.execute("PRAGMA integrity_check").fetchone()[0]
    slowest = sorted(result.outcomes.values(), key=lambda o: -o.seconds)[:5]
    print(
        f"\nintegrity suite: graded {len(result.outcomes)} submissions in {seconds:.1f} s; "
        f"slowest: {', '.join(f'{o.student} {o.seconds:.1f} s' for o in slowest)}; "
        f"largest worker or kernel: {peak:.0f} MiB"
    )
    worker_mb = peak if peak_before < MOST_WORKER_MB else None  # else earlier tests' children
    return Graded(course, result, honest, before, rows, seconds, escaped, worker_mb)


def problems_of(graded: Graded, student: str) -> list:
    return graded.result.outcomes[student].findings


def test_the_stored_cases_are_what_their_builders_make() -> None:
    assert not stale(CASES), "run: python -m tests.integrity.make_cases"
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_case_gets_what_its_honest_code_deserves(graded: Graded, case: Case) -> None:
    student = f"hostile_{case.name}"
    outcome = graded.result.outcomes.get(student)
    row = graded.result.table.row(student)
    if case.never_graded:  # skipped when the class was read, or an error row: never points
        skipped = [name for name, _ in graded.result.skipped if f"/{student}" in name]
        assert outcome is None or not outcome.graded, (student, row and row.parts)
        assert outcome is not None or skipped, f"{student} is neither graded nor skipped"
        assert row is None or not row.total, (student, row.parts)
        return
    assert outcome is not None, f"{student} was not graded: {graded.result.skipped}"
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
    if case.never_graded and student not in graded.result.outcomes:
        reasons = [why for name, why in graded.result.skipped if f"/{student}" in name]
        assert reasons and all(len(why) > 10 for why in reasons), graded.result.skipped
        return
    findings = problems_of(graded, student)
    kinds = {f.kind for f in findings}
    assert case.kinds <= kinds, f"{case.name}: expected {case.kinds}, found {findings}"
    if case.one_of:
        assert case.one_of & kinds, f"{case.name}: expected one of {case.one_of}, found {findings}"
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


def _marked(folder: Path) -> list[str]:
    """Files under ``folder`` that hold the payloads' marker (or are named after the suite)."""
    found = []
    for path in folder.rglob("*"):
        if "integrity_suite" in path.name:
            found.append(str(path))
        elif path.is_file() and not path.is_symlink() and path.stat().st_size < 50_000_000:
            with contextlib.suppress(OSError):
                if MARKER.encode() in path.read_bytes():
                    found.append(str(path))
    return found


def test_the_course_files_and_the_gradebook_are_intact(graded: Graded) -> None:
    root = graded.course.root
    assert instructor_files(root) == graded.before
    assert graded.gradebook_rows["integrity_check"] == "ok"
    expected_students = len(graded.result.outcomes)
    never = {f"hostile_{c.name}" for c in CASES if c.never_graded}
    assert set(graded.result.outcomes) >= {
        *graded.honest,
        *(f"hostile_{c.name}" for c in CASES if not c.never_graded),
    }
    assert len(graded.result.outcomes) <= len(graded.honest) + len(CASES)
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
            leaked += [
                (student, word) for word in ("LEAKED", "WROTE", "REMOVED") if word in outputs
            ]
    assert not leaked, leaked
    # what a payload writes is nowhere outside its own box: the course, the installed package,
    # the environment's site-packages
    site = Path(sysconfig.get_paths()["purelib"])
    touched = _marked(root / "source_assignments") + _marked(root / "release")
    touched += _marked(ROOT / "course") + _marked(ROOT / "source_assignments" / "ps1")
    touched += [str(p) for p in site.glob("*integrity_suite*")]
    touched += [str(p) for p in root.iterdir() if p.is_file() and MARKER.encode() in p.read_bytes()]
    assert not touched, touched
    assert not never & {s for s, o in graded.result.outcomes.items() if o.graded}


def test_nothing_reached_the_host(graded: Graded) -> None:
    """No box connected to the suite's listeners or signalled its process."""
    assert not graded.escaped, graded.escaped


def _hidden_test_lines() -> list[str]:
    """The lines of ps1's hidden tests that the released notebook does not hold."""
    source = nbformat.read(ROOT / "source_assignments" / "ps1" / "ps1.ipynb", as_version=4)
    released = nbformat.read(SAMPLE / "blank.ipynb", as_version=4)
    visible = {line.strip() for c in released.cells for line in c.source.splitlines()}
    # a line that a released line also holds (the opening of a call that the hidden tests split
    # over lines, "support.check_backward(") tells nothing of the hidden tests
    released_text = "\n".join(c.source for c in released.cells)
    hidden = []
    for c in source.cells:
        inside = False
        for line in c.source.splitlines():
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            elif (
                inside
                and len(line.strip()) > 20
                and line.strip() not in visible
                and line.strip() not in released_text
            ):
                hidden.append(line.strip())
    assert len(hidden) > 10
    return hidden


def _output_text(nb: nbformat.NotebookNode) -> str:
    """Everything the outputs of a notebook's cells say, as text."""
    parts = []
    for c in nb.cells:
        for out in c.get("outputs", []):
            parts += [str(out.get(key, "")) for key in ("text", "ename", "evalue")]
            parts += [str(line) for line in out.get("traceback", [])]
            parts += [str(v) for v in out.get("data", {}).values()]
    return "\n".join(parts)


def test_no_feedback_shows_a_hidden_test(graded: Graded) -> None:
    """Neither a feedback page nor an output of an autograded notebook holds a line of the
    hidden tests (the kernel never had them to print)."""
    import html

    hidden = _hidden_test_lines()
    shown = []
    for student, pages in graded.result.feedback.items():
        for page in pages:
            text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))
            shown += [(student, "feedback", line) for line in hidden if line in text]
        notebook = graded.course.root / "autograded" / student / "ps1" / "ps1.ipynb"
        if notebook.is_file():
            text = _output_text(nbformat.read(notebook, as_version=4))
            shown += [(student, "outputs", line) for line in hidden if line in text]
    assert graded.result.feedback, "no feedback pages"
    assert not shown, shown[:5]


def test_no_submission_holds_a_worker_past_its_budget(graded: Graded) -> None:
    outcomes = graded.result.outcomes.items()
    slow = {s: round(o.seconds, 1) for s, o in outcomes if o.seconds > MOST_SECONDS}
    assert not slow, f"longer than {MOST_SECONDS} s: {slow}"


def test_the_workers_stay_small(graded: Graded) -> None:
    if graded.worker_mb is None:
        pytest.skip("an earlier test's process was already larger than the bound")
    assert graded.worker_mb < MOST_WORKER_MB, f"{graded.worker_mb:.0f} MiB"


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
    course = make_course(tmp_path / "the_course")  # not "course": it would shadow the package
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
