"""The instructor's job as an ordinary user: release, grade, report and the Gradescope zip.

Graders do not run as root; these tests make sure that grading works for an ordinary user, in
a course that user owns, with the kernels in bubblewrap's box (a user namespace, no setuid).
Run as root (CI), the tests create a system user of their own and run every command as that user
through :mod:`ordinary_user` (a private mount namespace makes the Python under ``/root``
reachable, nothing on the host changes); run as an ordinary user, they run the commands as they
are.

The sample class of ps1 (``autograder/sample_class/ps1``) is graded and every score must equal
its ``expected.json``; a submission that errors, for whatever reason (a file nbgrader wrote 0444
that the next step cannot replace, a folder the user cannot enter...), fails the test. Then one
student is graded again with a single worker and no thread settings in the environment.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from ordinary_user import (
    ROOT,
    User,
    give,
    ordinary_user,
    run_as,
    shared_folder,
    user_env,
)

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "autograder" / "sample_class" / "ps1"
EXPECTED = json.loads((SAMPLE / "expected.json").read_text())
#: every assignment with a sample class (autograder/sample_class/<assignment>/expected.json)
CLASSES = sorted(p.parent.name for p in SAMPLE.parent.glob("*/expected.json"))
BUBBLEWRAP = "isolation: OS sandbox (bubblewrap"

pytestmark = pytest.mark.slow


@dataclass
class Job:
    user: User
    home: Path
    course: Path
    env: dict[str, str]

    def cli(self, *args: str, timeout: float = 600):
        """``python -m autograder --course <course> ARGS`` as the user, in the course."""
        argv = [sys.executable, "-m", "autograder", "--course", str(self.course), *args]
        return run_as(self.user, argv, cwd=self.course, env=self.env, timeout=timeout)


@pytest.fixture(scope="module")
def user() -> Iterator[User]:
    with ordinary_user() as made:
        yield made


@pytest.fixture(scope="module")
def job(user: User) -> Iterator[Job]:
    """A copy of the course owned by the user, and a home of its own."""
    home = shared_folder(user, "bpc-nonroot-")
    course = home / "classroom"
    course.mkdir()
    shutil.copy(REPO / "nbgrader_config.py", course)
    for assignment in CLASSES:
        shutil.copytree(
            REPO / "source_assignments" / assignment,
            course / "source_assignments" / assignment,
            ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"),
        )
    give(user, home)
    try:
        yield Job(user, home, course, user_env(home))
    finally:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def ran(job: Job) -> dict:
    """release, grade, report and gradescope of ps1, each as the user (stops at a failure)."""
    out: dict = {}
    steps = {
        "release": ["release", *CLASSES],
        "grade": ["grade", "ps1", str(SAMPLE), "--jobs", "2", "--no-progress"],
        "report": ["report", "ps1"],
        "gradescope": ["gradescope", "ps1"],
    }
    for name, args in steps.items():
        done = job.cli(*args)
        out[name] = done
        assert done.returncode == 0, (
            f"{name} failed as {job.user.name}:\n{done.stdout}\n{done.stderr}"
        )
    return out


def read_grades(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="") as fh:
        return {row["student_id"]: row for row in csv.DictReader(fh)}


def test_the_helper_runs_commands_as_the_ordinary_user(job: Job) -> None:
    probe = (
        "import os, sys\n"
        "print(os.getuid(), os.geteuid(), os.getgid(), sys.prefix)\n"
        "try:\n"
        "    open('/etc/shadow').read()\n"
        "    print('read /etc/shadow')\n"
        "except OSError as exc:\n"
        "    print(type(exc).__name__)\n"
        "open(os.path.join(os.environ['HOME'], 'probe'), 'w').write('x')"
    )
    before = os.stat("/root") if ROOT else None
    leftovers = set(Path("/tmp").glob("bpc-reopen-*"))
    done = run_as(job.user, [sys.executable, "-c", probe], cwd=job.home, env=job.env)
    assert done.returncode == 0, done.stderr
    ids, shadow = done.stdout.split("\n")[:2]
    uid, euid, gid, prefix = ids.split()
    assert int(uid) == int(euid) == job.user.uid != 0 and int(gid) == job.user.gid
    assert prefix == sys.prefix
    assert shadow == "PermissionError"
    assert (job.home / "probe").stat().st_uid == job.user.uid
    if ROOT:  # the host is as it was: /root's mode, no mount on it, no folder left in /tmp
        after = os.stat("/root")
        assert (after.st_mode, after.st_dev) == (before.st_mode, before.st_dev)
        assert set(Path("/tmp").glob("bpc-reopen-*")) <= leftovers


def test_release_and_grade_as_an_ordinary_user_give_the_expected_scores(
    job: Job, ran: dict
) -> None:
    grade = ran["grade"]
    n = len(list(SAMPLE.glob("*.ipynb")))  # every notebook of the sample class
    assert f"graded {n} submissions" in grade.stdout and f"{n} ok, 0 errors" in grade.stdout, (
        grade.stdout + grade.stderr
    )
    assert BUBBLEWRAP in grade.stdout, grade.stdout
    rows = read_grades(job.course / "grades" / "ps1" / "ps1_grades.csv")
    assert set(rows) == set(EXPECTED)
    for student, want in EXPECTED.items():
        row = rows[student]
        assert row["status"].startswith("ok"), (student, row)
        got = {part: float(row[part]) for part in want["parts"]}
        assert got == {k: float(v) for k, v in want["parts"].items()}, student
        assert float(row["total"]) == want["total"], student
        page = job.course / "grades" / "ps1" / "feedback" / f"{student}.html"
        for words in want["feedback_mentions"]:
            assert words in page.read_text(), (student, words)
    # everything was written by the user, in the user's course
    for student in EXPECTED:
        notebook = job.course / "autograded" / student / "ps1" / "ps1.ipynb"
        assert notebook.stat().st_uid == job.user.uid


def test_the_report_and_the_gradescope_zip_as_an_ordinary_user(job: Job, ran: dict) -> None:
    report = ran["report"].stdout
    assert f"ps1: {len(list(SAMPLE.glob('*.ipynb')))} submissions, 20 points" in report
    for student, want in EXPECTED.items():
        line = next(ln for ln in report.splitlines() if ln.startswith(student + " "))
        assert line.split()[-1] == f"{want['total']:g}/20", line
    path = job.course / "gradescope" / "ps1.zip"
    assert str(path) in ran["gradescope"].stdout
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        names = zf.namelist()
    assert "setup.sh" in names and "run_autograder" in names
    assert path.stat().st_uid == job.user.uid


def test_a_regrade_with_one_worker_and_no_thread_settings(job: Job, ran: dict) -> None:
    """The autograded notebooks of the first run (nbgrader writes them 0444) are replaced; a
    single worker sets no thread variables of its own."""
    folder = job.home / "resubmitted"
    folder.mkdir()
    shutil.copy(SAMPLE / "correct.ipynb", folder / "correct.ipynb")
    give(job.user, folder)
    assert not any(k.endswith("_NUM_THREADS") for k in job.env)
    done = job.cli("grade", "ps1", str(folder), "--jobs", "1", "--no-progress", "--out", "again")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 ok, 0 errors" in done.stdout, done.stdout + done.stderr
    assert BUBBLEWRAP in done.stdout
    rows = read_grades(job.course / "again" / "ps1_grades.csv")
    assert float(rows["correct"]["total"]) == EXPECTED["correct"]["total"]


def test_the_box_tests_pass_as_an_ordinary_user(job: Job) -> None:
    """``tests/test_box.py`` as the user: the box made in a user namespace, the kernel that user."""
    if not ROOT:
        pytest.skip("the tests run as an ordinary user already: test_box.py ran as one")
    argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests/test_box.py"]
    env = dict(job.env, OPENBLAS_NUM_THREADS="1")
    done = run_as(job.user, argv, cwd=REPO, env=env, timeout=300)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "skipped" not in done.stdout


#: cheats of every class, graded as an ordinary user: files and links beside the notebook,
#: writes to the instructor's files, signals, the network, frame walking, look-alike results,
#: patched numpy internals and IPython hooks, a forged answering server, a kernel that dies in
#: a test, delegation through a compiled file, and reading the kernel's history
HOSTILE = [
    "ships_course_package",
    "links_to_course_files",
    "folder_is_a_link",
    "write_instructor_files",
    "kill_other_processes",
    "network",
    "frame_walking",
    "subclass_results",
    "patch_numpy_internals",
    "ipython_hooks",
    "patch_builtins_alive",
    "fake_server_forged",
    "fake_server_replies",
    "fake_server_garbage",
    "kernel_kill_in_test",
    "delegate_pyc",
    "delegate_importlib",
    "read_history",
]


def _fingerprint(course: Path) -> dict[str, bytes]:
    """The instructor's files that no submission may change."""
    names = ["nbgrader_config.py"]
    names += [str(p.relative_to(course)) for p in (course / "source_assignments").rglob("*")]
    names += [str(p.relative_to(course)) for p in (course / "release").rglob("*")]
    return {n: (course / n).read_bytes() for n in names if (course / n).is_file()}


def test_hostile_submissions_as_an_ordinary_user_earn_their_honest_scores(
    job: Job, ran: dict
) -> None:
    """The integrity suite's cheats (tests/integrity) beside an honest student, graded by an
    ordinary user: each gets exactly what its honest code deserves, and nothing of the
    instructor's changes."""
    sys.path.insert(0, str(REPO))
    try:
        from tests.integrity.case import CELL_TIMEOUT, NOTEBOOK_SECONDS
        from tests.integrity.make_cases import all_cases
    finally:
        sys.path.remove(str(REPO))
    cases = {c.name: c for c in all_cases() if c.name in HOSTILE}
    assert sorted(cases) == sorted(HOSTILE)
    folder = job.home / "hostile"
    folder.mkdir()
    for name, case in cases.items():
        case.submit(folder, f"h_{name}", job.course)
    shutil.copytree(SAMPLE / ".." / "ps1", folder / "honest" / "ps1", dirs_exist_ok=True)
    for other in (folder / "honest" / "ps1").iterdir():
        if other.name != "correct.ipynb":
            other.unlink()
    (folder / "honest" / "ps1" / "correct.ipynb").rename(folder / "honest" / "ps1" / "ps1.ipynb")
    give(job.user, folder)
    # the integrity suite's short time limits (tests/integrity/case.py): a reply that never
    # comes costs seconds, not minutes
    config = job.course / "nbgrader_config.py"
    config.write_text(
        config.read_text()
        + f"\nc.Execute.timeout = {CELL_TIMEOUT}\n"
        + f"c.BoxedExecute.notebook_seconds = {NOTEBOOK_SECONDS}\n"
        + f"c.BoxedExecute.call_seconds = {CELL_TIMEOUT}\n"
    )
    before = _fingerprint(job.course)
    done = job.cli(
        "grade", "ps1", str(folder), "--layout", "nbgrader", "--jobs", "2", "--no-progress",
        "--out", "hostile", timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert BUBBLEWRAP in done.stdout
    rows = read_grades(job.course / "hostile" / "ps1_grades.csv")
    assert float(rows["honest"]["total"]) == EXPECTED["correct"]["total"]
    for name, case in cases.items():
        row = rows.get(f"h_{name}")
        if case.never_graded:  # a link instead of a folder: nothing of it is graded
            assert row is None or row["status"] == "error" or not row["total"], (name, row)
            continue
        assert row is not None and row["status"].startswith("ok"), (name, row)
        got = {part: float(row[part]) for part in case.parts}
        assert got == case.parts, name
    assert _fingerprint(job.course) == before
    # the gradebook is whole, and the students graded before keep their grades
    import sqlite3

    with sqlite3.connect(job.course / "gradebook.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    report = job.cli("report", "ps1")
    assert report.returncode == 0, report.stderr
    for student, want in EXPECTED.items():
        line = next(ln for ln in report.stdout.splitlines() if ln.startswith(student + " "))
        assert line.split()[-1] == f"{want['total']:g}/20", line
    feedback = (job.course / "hostile" / "feedback").glob("*.html")
    hidden = "for seed in range(201, 211)"  # a line of ps1's hidden tests
    assert not any(hidden in page.read_text() for page in feedback)


@pytest.mark.parametrize("assignment", [c for c in CLASSES if c != "ps1"])
def test_the_other_sample_classes_as_an_ordinary_user(job: Job, ran: dict, assignment: str) -> None:
    """ps2 to ps5 graded by the user (ps1 above): every score and feedback mention as in
    their ``expected.json``, the kernels in bubblewrap's box."""
    expected = json.loads((SAMPLE.parent / assignment / "expected.json").read_text())
    folder = str(SAMPLE.parent / assignment)
    done = job.cli("grade", assignment, folder, "--jobs", "2", "--no-progress", timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(expected)} ok, 0 errors" in done.stdout, done.stdout + done.stderr
    assert BUBBLEWRAP in done.stdout
    rows = read_grades(job.course / "grades" / assignment / f"{assignment}_grades.csv")
    for student, want in expected.items():
        row = rows[student]
        assert row["status"].startswith("ok"), (student, row)
        got = {part: float(row[part]) if row[part] else None for part in want["parts"]}
        wanted = {k: float(v) if v is not None else None for k, v in want["parts"].items()}
        assert got == wanted, (assignment, student)
        page = job.course / "grades" / assignment / "feedback" / f"{student}.html"
        for words in want["feedback_mentions"]:
            assert words in page.read_text(), (student, words)
