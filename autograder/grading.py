"""Grade a class in parallel with nbgrader, one gradebook kept consistent.

``nbgrader autograde`` grades one submission after another, and its gradebook is a single sqlite
file. So the work is split like this:

1. **The parent** (this process) reads the assignment's definition from the course's gradebook
   (its notebooks, grade cells and locked cells, as ``generate_assignment`` stored them) into a
   *template*: a fresh gradebook, a copy of ``nbgrader_config.py`` and of the assignment's
   source folder. Every submission found goes to the course's ``submitted/<student>/<assignment>/``
   (the course stays a normal nbgrader course).
2. **Each worker process** grades one student at a time in a scratch course of its own (a copy of
   the template, with that one submission and that student's earlier manual grades, comments
   and extension), with nbgrader's API: ``autograde`` then ``generate_feedback``. It writes only
   in its scratch course: its own gradebook, its own ``autograded/`` and ``feedback/``.
3. **The parent** merges each student's results, one student at a time, as the workers finish:
   the automatic scores and comments into the course's gradebook (the one writer it ever has),
   and the student's ``autograded/`` and ``feedback/`` folders into place.

A submission that nbgrader cannot grade (not a notebook, a kernel that dies, ...) gives an error
row for that student; the others go on. Processes, not threads: nbgrader changes the working
directory while it converts a notebook.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
import warnings
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from autograder import submissions
from autograder.coursedir import (
    CONFIG_FILE,
    DIGEST_FILE,
    FINDINGS_FILE,
    VERDICTS_FILE,
    Course,
    prepare_environment,
)
from autograder.findings import Finding, ordered
from autograder.refresh import copy_pages
from autograder.report import (
    OUTCOME_FILE,
    Table,
    format_problems,
    format_table,
    read_table,
    stored_problems,
    write_csv,
)


@dataclass
class Earlier:
    """What the course's gradebook already knows of a student's submission, kept on regrading."""

    manual_scores: dict[str, dict[str, tuple[float | None, float | None]]]  # nb -> grade -> ..
    manual_comments: dict[str, dict[str, str | None]]  # notebook -> cell -> manual comment
    extension_seconds: float | None = None
    student: dict[str, str | None] = field(default_factory=dict)  # first_name, last_name, ...


@dataclass
class Job:
    """One student to grade: everything a worker needs, as plain picklable values."""

    assignment: str
    student: str
    template: str  # the template course (read only)
    submitted: str  # the student's submission folder (read only)
    workdir: str  # the worker's scratch course for this student (created by the worker)
    earlier: Earlier | None = None
    notebooks: list[str] = field(default_factory=list)  # the assignment's notebooks
    hardened: bool = True  # repair the notebook, run the kernel in its box, tests in the grader
    isolation: str = "bubblewrap"  # how the box is made (autograder.box.Isolation.kind)
    view: dict[str, str] = field(default_factory=dict)  # what the box sees of installed code
    boxes: str = ""  # the folder of the run's boxes
    classmates: tuple[str, ...] = ()  # the ids of the class (per-student variants)
    variant_id: str = ""  # the id of the student's variant, when not ``student``


@dataclass
class Outcome:
    """A worker's answer: whether nbgrader graded the submission, and what went wrong."""

    student: str
    workdir: str
    graded: bool  # the scores in the scratch gradebook are valid
    error: str = ""  # one line for the table and the CSV; empty when all went well
    log: str = ""  # nbgrader's log and traceback (kept for errors)
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)  # problems noticed, in plain words

    @property
    def ok(self) -> bool:
        return self.graded and not self.error


@dataclass
class Result:
    """What a grading run did."""

    assignment: str
    table: Table
    outcomes: dict[str, Outcome]
    skipped: list[tuple[str, str]]
    csv: Path
    feedback: dict[str, list[Path]]  # student -> the feedback pages in the output folder
    course_feedback: Path  # nbgrader's feedback/ folder of the course
    logs: Path
    seconds: float
    jobs: int
    layout: str
    kept: list[str] = field(default_factory=list)  # graded before and unchanged (``resume``)
    isolation: str = ""  # how the kernels were isolated, in plain words
    #: student -> what reading the folder said (another notebook left out, a namesake)
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def errors(self) -> dict[str, Outcome]:
        return {s: o for s, o in self.outcomes.items() if not o.ok}

    def problems(self) -> dict[str, list[str]]:
        """student -> what grading noticed in the submission, in plain words."""
        return {s: [str(f) for f in o.findings] for s, o in self.outcomes.items() if o.findings}

    def status(self) -> dict[str, tuple[str, str]]:
        """student -> (status, message) of this run."""
        out = {}
        for student, o in self.outcomes.items():
            if not o.graded:
                out[student] = ("error", o.error)
            elif o.error:
                out[student] = ("graded, feedback failed", o.error)
            else:
                out[student] = (self._ok(student), self.notes.get(student, ""))
        for student in self.kept:
            said = "graded by an earlier run; the submission is unchanged"
            note = self.notes.get(student, "")
            out[student] = (self._ok(student, "ok, kept"), f"{said}; {note}" if note else said)
        return out

    def _ok(self, student: str, status: str = "ok") -> str:
        row = self.table.row(student)
        manual = row is not None and row.needs_manual_grade
        return f"{status}, needs manual grading" if manual else status


# -- the template --------------------------------------------------------------------------------


def make_template(course: Course, assignment: str, where: Path) -> Path:
    """A scratch course holding only what grading ``assignment`` needs (see the module doc)."""
    where.mkdir(parents=True)
    shutil.copy2(course.root / CONFIG_FILE, where / CONFIG_FILE)
    source = course.source(assignment)
    if source.is_relative_to(course.root):  # else the workers read it where it is
        shutil.copytree(
            source,
            where / source.relative_to(course.root),
            ignore=shutil.ignore_patterns(*course.coursedir.ignore),
        )
    with course.gradebook() as gb, _new_gradebook(course, where) as tpl:
        found = gb.find_assignment(assignment)
        tpl.add_assignment(found.name, duedate=found.duedate)
        for nb in found.notebooks:
            tpl.add_notebook(nb.name, found.name, kernelspec=nb.kernelspec)
            for c in nb.grade_cells:
                tpl.add_grade_cell(
                    c.name, nb.name, found.name, max_score=c.max_score, cell_type=c.cell_type
                )
            for c in nb.solution_cells:
                tpl.add_solution_cell(c.name, nb.name, found.name)
            for c in nb.task_cells:
                tpl.add_task_cell(
                    c.name, nb.name, found.name, max_score=c.max_score, cell_type=c.cell_type
                )
            for c in nb.source_cells:
                tpl.add_source_cell(
                    c.name,
                    nb.name,
                    found.name,
                    cell_type=c.cell_type,
                    locked=c.locked,
                    source=c.source,
                    checksum=c.checksum,
                )
    return where


def _sqlite(folder: Path | str) -> str:
    return f"sqlite:///{Path(folder).resolve() / 'gradebook.db'}"


def _new_gradebook(course: Course, where: Path):
    """An empty gradebook in ``where``, of the course gradebook's schema version.

    nbgrader asks ``alembic`` for the version of a new gradebook (a subprocess that takes
    seconds); when the course's gradebook is an sqlite file, its version is simply copied.
    """
    import sqlite3

    from nbgrader.api import Gradebook

    url = course.db_url
    if url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(url[len("sqlite:///") :])) as src:
            rows = src.execute("SELECT version_num FROM alembic_version").fetchall()
        if len(rows) == 1:
            with contextlib.closing(sqlite3.connect(where / "gradebook.db")) as dst:
                dst.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
                dst.execute("INSERT INTO alembic_version (version_num) VALUES (?)", rows[0])
                dst.commit()
    return Gradebook(_sqlite(where), course.course_id)


def earlier_grades(course: Course, assignment: str) -> dict[str, Earlier]:
    """Manual grades, comments and extensions already in the course's gradebook, per student."""
    out = {}
    with course.gradebook() as gb:
        for sub in gb.find_assignment(assignment).submissions:
            student = sub.student
            out[student.id] = Earlier(
                manual_scores={
                    nb.name: {
                        g.name: (g.manual_score, g.extra_credit)
                        for g in nb.grades
                        if g.manual_score is not None or g.extra_credit is not None
                    }
                    for nb in sub.notebooks
                },
                manual_comments={
                    nb.name: {c.name: c.manual_comment for c in nb.comments if c.manual_comment}
                    for nb in sub.notebooks
                },
                extension_seconds=sub.extension.total_seconds() if sub.extension else None,
                student={
                    "first_name": student.first_name,
                    "last_name": student.last_name,
                    "email": student.email,
                    "lms_user_id": student.lms_user_id,
                },
            )
    return out


# -- the worker ----------------------------------------------------------------------------------


def _worker_init(log_folder: str, parallel: bool) -> None:
    """Each worker: nbgrader's and its kernels' output go to a log file, not the terminal.

    It imports nbgrader at once (two seconds), while the parent prepares the template.
    """
    atexit.register(_exit_at_once)  # first: it runs after the handlers registered from here on
    _die_with_parent()  # a worker dies with the run, and its kernel with it
    _bound_memory()
    prepare_environment(parallel)
    log = os.open(
        os.path.join(log_folder, f"worker-{os.getpid()}.log"), os.O_WRONLY | os.O_CREAT, 0o644
    )
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    warnings.filterwarnings("ignore", module="sqlalchemy")
    _scratch_gradebooks_without_fsync(log_folder)
    import nbgrader.apps  # noqa: F401


#: the address space a grading worker may use (MiB): bounds what a flood of output can cost it
WORKER_MEMORY_MB = 3072


def _bound_memory() -> None:
    """Bound this worker's memory (its soft limit only: the box of its kernel sets its own)."""
    try:
        import resource
    except ImportError:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    want = WORKER_MEMORY_MB * 1024 * 1024
    if hard == resource.RLIM_INFINITY or hard > want:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (want, hard))


def _die_with_parent() -> None:
    """Have this process killed when its parent dies (Linux); if the parent is already gone,
    leave at once, so that nothing grades on unseen after a Ctrl-C or a kill -9 of the run."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    parent = os.getppid()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)


_SLOT: list = []  # the worker's user id for its boxes (autograder.box.Slot), made on first use
#: a kernel this worker started ahead, in a box of its own, for its next student:
#: ``(plan, box, kernel manager)``; started while the current student's notebook runs
_AHEAD: list = []
_BOXES = [0]  # how many boxes this worker made (their cgroups are named after it)


def _slot():
    from autograder.box import Slot

    if not _SLOT:
        _SLOT.append(Slot())
    return _SLOT[0]


def _exit_at_once() -> None:
    """A worker's last act: leave without tearing the interpreter down (half a second).

    The kernel started ahead for a next student that never came is stopped first.

    Freeing the modules nbgrader imports takes 0.4 to 0.7 s, and the parent waits for it at the
    end of every run. multiprocessing's own pool work is done by then (``_bootstrap`` has
    returned), the kernels are shut down and the gradebooks committed; what is left is what
    multiprocessing itself skips in a forked child, which ends with ``os._exit`` too.
    """
    with contextlib.suppress(Exception):
        _drop_ahead()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(0)


def _scratch_gradebooks_without_fsync(scratch: str) -> None:
    """In this process, the sqlite gradebooks inside ``scratch`` commit without ``fsync``.

    A worker's gradebook lives for one student in a scratch course that is deleted afterwards,
    yet nbgrader commits some 35 times per student, each commit an ``fsync`` (10-15 ms on a
    virtual disk: a fifth to a quarter of grading a short notebook). With ``synchronous = OFF``
    a commit still reaches the operating system before ``grade_one`` returns, so the parent
    reads the same gradebook as before; only a crash of the whole machine could lose it, and
    then the scratch course is lost anyway. Any other database (the course's own gradebook,
    which only the parent writes) keeps sqlite's defaults.
    """
    import sqlite3

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    inside = os.path.realpath(scratch) + os.sep

    def on_connect(connection, _record) -> None:
        if not isinstance(connection, sqlite3.Connection):
            return
        cursor = connection.cursor()
        try:
            files = [row[2] for row in cursor.execute("PRAGMA database_list") if row[1] == "main"]
            if files and files[0] and os.path.realpath(files[0]).startswith(inside):
                cursor.execute("PRAGMA synchronous = OFF")
        finally:
            cursor.close()

    event.listen(Engine, "connect", on_connect)


def _seed(course: Course, job: Job) -> None:
    """Give the scratch gradebook what the course's gradebook knows of this student."""
    from datetime import timedelta

    earlier = job.earlier
    if earlier is None:
        return
    with course.gradebook() as gb:
        gb.update_or_create_student(job.student, **earlier.student)
        sub = gb.update_or_create_submission(job.assignment, job.student)
        if earlier.extension_seconds is not None:
            sub.extension = timedelta(seconds=earlier.extension_seconds)
        for nb in sub.notebooks:
            for g in nb.grades:
                if g.name in earlier.manual_scores.get(nb.name, {}):
                    g.manual_score, g.extra_credit = earlier.manual_scores[nb.name][g.name]
            for c in nb.comments:
                if c.name in earlier.manual_comments.get(nb.name, {}):
                    c.manual_comment = earlier.manual_comments[nb.name][c.name]
        gb.db.commit()


KERNEL_START_FAILURES = ("Kernel didn't respond", "Address already in use", "Kernel died before")


EXCEPTION_LINE = re.compile(r"^\s*(?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*(?:Error|Exception)):\s*(.*)$")


def _reason(result: dict) -> str:
    """One line that says why nbgrader failed: the last exception under its own wrapper."""
    text = (result.get("log") or "") + "\n" + (result.get("error") or "")
    found = [m for m in map(EXCEPTION_LINE.match, text.splitlines()) if m]
    useful = [m for m in found if m.group(1) != "NbGraderException"]
    if useful:
        return f"{useful[-1].group(1)}: {useful[-1].group(2)}"[:300]
    errors = [ln[len("[ERROR] ") :] for ln in text.splitlines() if ln.startswith("[ERROR] ")]
    return (errors[0] if errors else "nbgrader failed")[:300]


#: the test suite sets this to a student id to make the worker grading that student die
DIE_FOR = "AUTOGRADER_TEST_WORKER_DIES_FOR"


def grade_one(job: Job) -> Outcome:
    """Autograde one student's submission and make the feedback, in a scratch course.

    The same stages for every run, in order: intake (only the notebooks, :mod:`autograder.intake`),
    repair (the assignment's structure, :mod:`autograder.integrity`), run (nbgrader's autograde;
    hardened: the student's cells in a boxed kernel and the tests in this process,
    :mod:`autograder.run`; plain: nbgrader's own ``Execute``), record (nbgrader's
    ``SaveAutoGrades``), findings, feedback. A plain run (``--plain``, trusted code) skips the
    repair and has no box; everything else is the same.
    """
    from autograder.intake import take

    start = time.perf_counter()
    if os.environ.get(DIE_FOR) == job.student:  # the test suite's fault: a worker that dies
        os._exit(70)
    outcome = Outcome(job.student, job.workdir, graded=False)
    course = None
    box = ahead = None
    try:
        shutil.copytree(job.template, Path(job.workdir))
        course = Course(job.workdir, db_url=_sqlite(job.workdir))
        submitted = course.path("submitted", job.student, job.assignment)
        outcome.findings += take(Path(job.submitted), submitted, job.notebooks)
        if job.hardened and not _repaired(course, job, submitted, outcome):
            return outcome
        _seed(course, job)
        # the kernel is killed once the last cell has run: it has nothing left to save, and
        # a polite shutdown takes a third of a second per notebook
        course.config.Execute.shutdown_kernel = "immediate"
        if job.hardened:
            box, ahead = _take_box(course, job)
            _start_ahead(course, job)  # the next student's kernel starts while this one runs
        api = course.api()
        with _running(course, job, box, ahead):
            for attempt in range(2):  # a kernel can fail to start: once more
                result = api.autograde(job.assignment, job.student, force=True, create=True)
                text = (result.get("log") or "") + (result.get("error") or "")
                retry = any(k in text for k in KERNEL_START_FAILURES)
                if result["success"] or attempt or not retry:
                    break
        outcome.log = text
        if not result["success"]:
            outcome.error = _reason(result)
            return outcome
        outcome.findings += _run_findings(course, job)
        _save_verdicts(course, job)
        outcome.graded = True
        feedback = api.generate_feedback(job.assignment, job.student, force=True)
        outcome.log += (feedback.get("log") or "") + (feedback.get("error") or "")
        if not feedback["success"]:
            outcome.error = "feedback: " + _reason(feedback)
    except Exception as exc:  # never let one student stop the others
        outcome.error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        outcome.log += traceback.format_exc()
    finally:
        outcome.seconds = time.perf_counter() - start
        if box is not None:
            outcome.findings += _clear_box(box, ahead)
        _keep_results(course, job, outcome)
    return outcome


def _repaired(course: Course, job: Job, submitted: Path, outcome: Outcome) -> bool:
    """The repair stage: False (and the outcome says why) for a file that is no notebook of
    this assignment."""
    from autograder.integrity import InvalidSubmission

    try:
        outcome.findings += _repair(course, job, submitted)
    except InvalidSubmission as exc:
        outcome.findings.append(exc.finding)
        outcome.error = str(exc).splitlines()[0][:300]
        return False
    return True


def _clear_box(box, ahead) -> list[Finding]:
    """End whatever the student's box still runs; what that says."""
    if ahead is not None:  # started ahead, and not used (the run stopped before its kernel)
        from jupyter_core.utils import run_sync

        with contextlib.suppress(Exception):
            if ahead.has_kernel:
                run_sync(ahead.shutdown_kernel)(now=True)
    # a box of its own process namespace leaves nothing behind once its kernel is gone;
    # without one, whatever runs as the box's user id is a leftover of this student
    killed = _slot().kill_all() if not box.isolation.sandboxed else 0
    _close_box(box)
    if killed:
        return [Finding("processes", "", f"{killed} processes left behind were stopped")]
    return []


def _keep_results(course: Course | None, job: Job, outcome: Outcome) -> None:
    """Beside the autograded notebooks: the findings, and the digest of the submission they
    are for (``resume``)."""
    from autograder.findings import save

    outcome.findings = ordered(outcome.findings)
    if course is None:
        return
    where = course.path("autograded", job.student, job.assignment)
    with contextlib.suppress(OSError):
        if outcome.findings:  # also for a file nbgrader refused
            where.mkdir(parents=True, exist_ok=True)
            save(outcome.findings, where / FINDINGS_FILE)
        if outcome.graded and where.is_dir():
            (where / DIGEST_FILE).write_text(submission_digest(Path(job.submitted)))


def _box(course: Course, job: Job):
    """The box of this student's kernel (see autograder.box), in the run's folder of boxes."""
    from autograder import box as boxes
    from autograder import kernel_view

    settings = course.config.get("BoxedExecute", {})
    limits = boxes.Limits(
        **{k: int(settings[k]) for k in boxes.LIMIT_NAMES if k in settings},
    )
    isolation = boxes.detect()
    if isolation.kind != job.isolation:
        raise boxes.IsolationError(
            f"this worker can isolate kernels as {isolation.kind!r}, the run planned "
            f"{job.isolation!r}"
        )
    slot = _slot() if isolation.kind != "none" else None
    uid = slot.uid if slot is not None else os.getuid()
    _BOXES[0] += 1
    folder = Path(job.boxes) / f"{os.getpid()}-{_BOXES[0]}"
    threads = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    env = {k: os.environ.get(k, "") for k in threads}  # unset with --jobs 1
    box = boxes.Box(
        home=folder / "home",
        sockets=folder / "s",
        isolation=isolation,
        limits=limits,
        uid=uid,
        view=job.view,
        env={k: v for k, v in env.items() if v},
        cgroup=boxes.Cgroup(f"w{os.getpid()}-{_BOXES[0]}", limits) if isolation.root else None,
    )
    box.prepare()
    source = course.source(job.assignment)
    for path in sorted(source.iterdir()):
        if path.is_file() and not path.is_symlink() and path.suffix != ".ipynb":
            # a support module: only what its KERNEL tuple names (see autograder.kernel_view)
            if path.suffix != ".py" or not kernel_view.write(
                path, box.work / path.name, job.assignment
            ):
                shutil.copy2(path, box.work / path.name)
    if os.geteuid() == 0 and uid != 0:
        for path in box.work.iterdir():
            os.lchown(path, uid, uid)
    return box


def _plan(job: Job) -> tuple:
    """What makes two students' boxes interchangeable (the same run, the same settings)."""
    return (job.assignment, job.template, job.boxes, job.isolation, tuple(sorted(job.view.items())))


def _take_box(course: Course, job: Job):
    """The box for this student: the one started ahead, if it fits, with its kernel manager."""
    if _AHEAD and _AHEAD[0][0] == _plan(job):
        _, box, km = _AHEAD.pop()
        return box, km
    _drop_ahead()
    return _box(course, job), None


def _start_ahead(course: Course, job: Job) -> None:
    """Start a kernel for this worker's next student now, in a fresh box (bubblewrap only: its
    process namespace keeps it apart from the current student's)."""
    from jupyter_core.utils import run_sync

    from autograder.box import kernel_manager

    if job.isolation != "bubblewrap" or _AHEAD:
        return
    box = None
    try:
        box = _box(course, job)
        km = kernel_manager(box)
        run_sync(km.start_kernel)()
    except Exception:  # the next student starts a kernel the usual way
        if box is not None:
            _close_box(box)
        return
    _AHEAD.append((_plan(job), box, km))


def _drop_ahead() -> None:
    while _AHEAD:
        _, box, km = _AHEAD.pop()
        from jupyter_core.utils import run_sync

        with contextlib.suppress(Exception):
            run_sync(km.shutdown_kernel)(now=True)
        _close_box(box)


def _close_box(box) -> None:
    box.close()
    shutil.rmtree(box.home, ignore_errors=True)
    shutil.rmtree(box.sockets, ignore_errors=True)


@contextlib.contextmanager
def _running(course: Course, job: Job, box, ahead=None):
    """While nbgrader autogrades: plain, or the kernel in ``box`` and the tests here."""
    if box is None:
        yield
        return
    from autograder.run import boxed

    configure(course.config)
    student = job.variant_id or job.student
    classmates = tuple(s for s in job.classmates if s not in (job.student, student))
    with boxed(box, course.source(job.assignment), ahead, student, classmates):
        yield


def class_ids(course: Course, assignment: str, found: list) -> tuple[str, ...]:
    """Every student of the class for ``assignment``: those of this run and those with a
    submission in the course (a check of a per-student variant names the one whose numbers a
    notebook holds, course/variants.py)."""
    ids = {sub.student for sub in found}
    folder = course.path("submitted", ".", assignment).parent.parent
    if folder.is_dir():
        ids.update(p.name for p in folder.iterdir() if (p / assignment).is_dir())
    return tuple(sorted(ids))


def configure(config) -> None:
    """In nbgrader's configuration ``config``: ``BoxedExecute`` replaces ``Execute``, and
    ``LimitOutputSize`` follows ``LimitOutput``."""
    from nbgrader.converters.autograde import Autograde

    current = config.Autograde.get("autograde_preprocessors") or list(
        Autograde.autograde_preprocessors.default()
    )
    names = [p if isinstance(p, str) else f"{p.__module__}.{p.__qualname__}" for p in current]
    out: list[str] = []
    for name in names:
        short = name.rsplit(".", 1)[-1]
        if short in ("Execute", "BoxedExecute"):
            out.append("autograder.run.BoxedExecute")
        elif short != "LimitOutputSize":
            out.append(name)
        if short == "LimitOutput":
            out.append("autograder.outputs.LimitOutputSize")
    if "autograder.outputs.LimitOutputSize" not in out:
        out.append("autograder.outputs.LimitOutputSize")
    config.Autograde.autograde_preprocessors = out
    # the grading kernel's settings also apply to the box (nbgrader reads Execute's)
    for key in ("timeout", "interrupt_on_timeout", "startup_timeout", "shutdown_kernel"):
        if key in config.get("Execute", {}):
            setattr(config.BoxedExecute, key, config.Execute[key])


def _save_verdicts(course: Course, job: Job) -> None:
    """Keep the tests' verdicts (autograder.run.VERDICTS) beside the autograded notebooks."""
    import json

    if not job.hardened:
        return
    from autograder.run import VERDICTS

    folder = course.path("autograded", job.student, job.assignment)
    if folder.is_dir():
        (folder / VERDICTS_FILE).write_text(json.dumps(VERDICTS, indent=1) + "\n")


def _run_findings(course: Course, job: Job) -> list[Finding]:
    """What the run left in the autograded notebooks (timeouts, crashes, cut outputs)."""
    import nbformat

    from autograder.findings import delegation, other_variant
    from autograder.outputs import findings_from_outputs

    folder = course.path("autograded", job.student, job.assignment)
    found: list[Finding] = []
    for name in job.notebooks:
        path = folder / f"{name}.ipynb"
        if path.is_file():
            nb = nbformat.read(path, as_version=4)
            found += findings_from_outputs(nb) + delegation(nb) + other_variant(nb)
    return found


def submission_digest(folder: Path) -> str:
    """The sha256 of a submission folder: every file's relative path and bytes."""
    import hashlib

    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(folder)).encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def _graded_before(course: Course, assignment: str, student: str, submitted: Path) -> bool:
    """The course holds results of this very submission (an earlier run merged them)."""
    from nbgrader.api import MissingEntry

    stamp = course.path("autograded", student, assignment) / DIGEST_FILE
    if not stamp.is_file() or stamp.read_text().strip() != submission_digest(submitted):
        return False
    with course.gradebook() as gb:
        try:
            sub = gb.find_submission(assignment, student)
        except MissingEntry:
            return False
        return all(
            g.auto_score is not None
            for nb in sub.notebooks
            for g in nb.grades
            if g.cell_type == "code"
        ) and bool(sub.notebooks)


def _repair(course: Course, job: Job, submitted: Path) -> list[Finding]:
    """Put the submission's cells back in the assignment's structure (see autograder.integrity),
    and point at code a human should look at."""
    import nbformat

    from autograder.findings import suspicious_code
    from autograder.integrity import repair_submission

    source = course.source(job.assignment)
    found = repair_submission(submitted, source, job.notebooks, job.assignment)
    for name in job.notebooks:
        found += suspicious_code(nbformat.read(submitted / f"{name}.ipynb", as_version=4))
    return found


# -- the parent: merging -------------------------------------------------------------------------


def _replace_tree(source: Path, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    if source.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(source, target)


def merge(course: Course, gb, assignment: str, outcome: Outcome) -> None:
    """Bring one student's results from the worker's scratch course into the course.

    ``gb`` is the course's open gradebook. Like ``nbgrader autograde``: the automatic scores and
    comments are replaced; manual scores stay, and a grade that has one is marked for review.
    A submission that could not be graded keeps no automatic score, is flagged and needs manual
    grading (it reads 0 points until then).
    """
    from nbgrader.api import Gradebook

    student = outcome.student
    work = Path(outcome.workdir)
    gb.update_or_create_student(student)
    with warnings.catch_warnings():  # nbgrader's add_submission makes SQLAlchemy complain
        warnings.simplefilter("ignore")
        sub = gb.update_or_create_submission(assignment, student)
    if outcome.graded:
        with Gradebook(_sqlite(work), course.course_id) as wgb:
            done = wgb.find_submission(assignment, student)
            sub.timestamp = done.timestamp
            for wnb in done.notebooks:
                nb = gb.find_submission_notebook(wnb.name, assignment, student)
                nb.late_submission_penalty = wnb.late_submission_penalty
                grades = {g.name: g for g in nb.grades}
                for wg in wnb.grades:
                    g = grades[wg.name]
                    g.auto_score = wg.auto_score
                    g.needs_manual_grade = g.manual_score is not None or wg.auto_score is None
                comments = {c.name: c for c in nb.comments}
                for wc in wnb.comments:
                    comments[wc.name].auto_comment = wc.auto_comment
    else:
        for nb in sub.notebooks:
            nb.flagged = True
            for g in nb.grades:
                g.auto_score = None
                g.needs_manual_grade = True
    gb.db.commit()
    for step in ("autograded", "feedback"):
        target = course.path(step, student, assignment)
        _replace_tree(work / target.relative_to(course.root), target)


# -- the whole run -------------------------------------------------------------------------------


class Workers:
    """The worker processes ("spawn": nothing of the parent's state, sqlite included, is shared).

    Started first thing in a run, so that they import nbgrader while the parent imports it too
    and makes the template.
    """

    def __init__(self, count: int, scratch: Path, parallel: bool) -> None:
        self.count, self.scratch, self.parallel = count, scratch, parallel
        self.pool: ProcessPoolExecutor | None = None
        self.start()

    def start(self) -> None:
        self.pool = ProcessPoolExecutor(
            max_workers=self.count,
            mp_context=get_context("spawn"),
            initializer=_worker_init,
            initargs=(str(self.scratch), self.parallel),
        )
        for _ in range(self.count):  # start them all now (a pool starts them on demand)
            self.pool.submit(os.getpid)

    def restart(self) -> None:
        self.close()
        self.start()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def grade(
    course: Course,
    assignment: str,
    folder: str | Path,
    jobs: int | None = None,
    out: str | Path | None = None,
    layout: str = "auto",
    regex: str | None = None,
    progress: bool = True,
    keep_scratch: bool = False,
    hardened: bool = True,
    resume: bool = False,
    allow_unisolated: bool = False,
    variant_ids: dict[str, str] | None = None,
) -> Result:
    """Grade every submission of ``assignment`` in ``folder`` (see the module's documentation).

    ``variant_ids``: the id a student's variant is made from where it is not the student's id
    (Gradescope grades every upload as one student; its roster gives the id, see
    :mod:`autograder.gradescope`).

    ``jobs`` worker processes (default: the number of cores); ``out`` receives the CSV, a copy of
    each feedback page and the logs of the errors (default: ``<course>/grades/<assignment>/``).
    ``hardened`` (the default) repairs each notebook's structure, runs its kernel with limits and
    the guard, and reports what it finds (``autograder/SECURITY.md``); without it, grading is
    plain ``nbgrader autograde``. With ``resume``, a student whose submission was graded by an
    earlier run and has not changed since is kept as graded (a run that was interrupted is
    finished by running it again with ``resume``).

    Hardened grading as root refuses to run student code without isolation
    (:class:`autograder.box.IsolationError`) unless ``allow_unisolated``.
    """
    from autograder import box as boxes

    start = time.perf_counter()
    isolation = boxes.detect()
    if hardened and isolation.kind == "none" and isolation.root and not allow_unisolated:
        raise boxes.IsolationError(
            "refusing to grade as root with no isolation at all: "
            f"{isolation.detail}. Install bubblewrap, or pass --allow-unisolated to grade anyway"
        )
    jobs = max(1, jobs or os.cpu_count() or 1)
    out = Path(out) if out is not None else course.root / "grades" / assignment
    prepare_environment(parallel=jobs > 1)
    scratch = Path(tempfile.mkdtemp(prefix=f"autograder-{assignment}-"))
    scratch.chmod(0o711)  # the boxes' folders below it are each their user's; the rest is 0700
    workers = None
    try:
        with course.lock():
            folder = Path(folder)
            if folder.is_file() and folder.suffix.lower() == ".zip":
                folder = submissions.unpack(folder, scratch / "unpacked")
            # the workers start first: each imports nbgrader (two seconds) while this process
            # imports it too, reads the gradebook and makes the template. A submission is one
            # entry of the folder (a notebook, or a student's folder), so no more are needed.
            entries = sum(1 for _ in folder.iterdir()) if folder.is_dir() else 0
            if entries:
                workers = Workers(min(jobs, entries), scratch, jobs > 1)
            notebooks = course.notebooks(assignment)
            found = submissions.find(folder, assignment, notebooks, layout, regex)
            template = make_template(course, assignment, scratch / "template")
            template.chmod(0o700)  # the hidden tests: no box's user may enter
            (scratch / "students").mkdir(mode=0o700, exist_ok=True)
            earlier = earlier_grades(course, assignment)
            view = plan_boxes(course, assignment, scratch) if hardened else {}
            todo = []
            kept: list[str] = []
            nothing: list[Outcome] = []  # students who sent no notebook: nothing to run
            record_students(course, found.submissions)
            classmates = class_ids(course, assignment, found.submissions)
            for sub in found.submissions:
                target = course.path("submitted", sub.student, assignment)
                if Path(sub.origin).resolve() != target.resolve():
                    submissions.place(sub, target)
                if sub.problem:
                    where = scratch / "students" / sub.student  # never made: no results
                    nothing.append(Outcome(sub.student, str(where), False, sub.problem))
                    continue
                if resume and _graded_before(course, assignment, sub.student, target):
                    kept.append(sub.student)
                    continue
                todo.append(
                    Job(
                        assignment,
                        sub.student,
                        str(template),
                        str(target),
                        str(scratch / "students" / sub.student),
                        earlier.get(sub.student),
                        notebooks,
                        hardened,
                        isolation.kind,
                        view,
                        str(boxes_of(scratch)),
                        classmates,
                        (variant_ids or {}).get(sub.student, ""),
                    )
                )
            outcomes = _run(course, todo, workers, progress) if todo else {}
            outcomes.update(_record_nothing(course, assignment, nothing))
            table = read_table(course, assignment)
        result = Result(
            kept=kept,
            assignment=assignment,
            table=table,
            outcomes=outcomes,
            skipped=found.skipped,
            csv=out / f"{assignment}_grades.csv",
            feedback={},
            course_feedback=course.root / course.coursedir.feedback_directory,
            logs=out / "logs",
            seconds=0.0,
            jobs=jobs,
            layout=found.layout,
            isolation=isolation.summary if hardened else "none (--plain: nbgrader's own run)",
            notes={sub.student: sub.note for sub in found.submissions if sub.note},
        )
        _write_outputs(course, result, notebooks)
        result.seconds = time.perf_counter() - start
        return result
    finally:
        if workers is not None:
            workers.close()
        if not keep_scratch:
            if boxes_of(scratch) != scratch / BOXES:
                shutil.rmtree(boxes_of(scratch), ignore_errors=True)
            shutil.rmtree(scratch, ignore_errors=True)


def record_students(course: Course, found: list[submissions.Submission]) -> None:
    """The names and LMS numbers the download gives, into the course's gradebook, where the
    gradebook has none yet (a roster the instructor imported wins): the formgrader shows the
    name beside the id."""
    with course.gradebook() as gb:
        for sub in found:
            if not (sub.name or sub.lms == "Canvas"):
                continue
            student = gb.update_or_create_student(sub.student)
            if sub.name and not (student.first_name or student.last_name):
                student.last_name = sub.name
            if sub.lms == "Canvas" and not student.lms_user_id:
                student.lms_user_id = sub.lms_id
        gb.db.commit()


def _record_nothing(course: Course, assignment: str, nothing: list[Outcome]) -> dict:
    """Students whose files hold nothing to grade: an error row each, flagged in the gradebook
    (their files are in ``submitted/`` for a look by hand)."""
    out = {}
    if not nothing:
        return out
    with course.gradebook() as gb:
        for outcome in nothing:
            outcome.log = outcome.error
            try:
                merge(course, gb, assignment, outcome)
            except Exception as exc:  # the row says so; the other students go on
                gb.db.rollback()
                outcome.error += f" (and flagging it in the gradebook failed: {exc})"[:300]
                outcome.log += "\n" + traceback.format_exc()
            with contextlib.suppress(OSError):
                save_outcome(course, assignment, outcome)
            out[outcome.student] = outcome
    return out


def save_outcome(course: Course, assignment: str, outcome: Outcome) -> None:
    """Keep a student's outcome in ``autograded/<student>/<assignment>/`` (``refresh`` reads it)."""
    import json

    folder = course.path("autograded", outcome.student, assignment)
    folder.mkdir(parents=True, exist_ok=True)
    state = {"graded": outcome.graded, "error": outcome.error}
    (folder / OUTCOME_FILE).write_text(json.dumps(state) + "\n")


BOXES = "boxes"  # the folder of a run's boxes, in its scratch folder
#: a kernel's sockets are files in its box's folder, and a socket's path may be 107 bytes at
#: most: below a longer scratch folder, the boxes go to a short folder of the system's own
SHORT_ENOUGH = 48


def boxes_folder(scratch: Path) -> Path:
    """Where a run's boxes go: ``scratch/boxes``, or a short folder in ``/tmp`` when that path is
    too long for the kernels' sockets (the run removes it with its scratch folder)."""
    folder = scratch / BOXES
    if len(str(folder)) > SHORT_ENOUGH and os.path.isdir("/tmp"):
        short = Path(tempfile.mkdtemp(prefix="bg-", dir="/tmp"))
        (scratch / "boxes.where").write_text(str(short))
        return short
    return folder


def boxes_of(scratch: Path) -> Path:
    where = scratch / "boxes.where"
    return Path(where.read_text()) if where.is_file() else scratch / BOXES


def plan_boxes(course: Course, assignment: str, scratch: Path) -> dict[str, str]:
    """Make the run's folder of boxes, and the view of installed code its boxes share (the
    ``course`` package without what the assignment forbids: :func:`autograder.box.make_view`)."""
    from autograder import box as boxes

    folder = boxes_folder(scratch)
    folder.mkdir(mode=0o711, exist_ok=True)
    folder.chmod(0o711)
    boxes.Cgroup.sweep()
    if boxes.detect().kind != "bubblewrap":
        return {}
    source = course.source(assignment)
    forbidden = boxes.declared_forbidden(sorted(source.glob("*.py")))
    return boxes.make_view(scratch / "view", assignment, forbidden)


def _run(course: Course, todo: list[Job], workers: Workers, progress: bool) -> dict[str, Outcome]:
    """Grade the jobs on the workers and merge each result into the course as it arrives.

    A worker process that dies takes its pool down, so only a few jobs are handed out at a time
    (one more than there are workers): when the pool breaks, the jobs it held are the suspects;
    the others go on in a new pool, and each suspect is graded again alone, so a submission that
    kills its worker charges only itself (an error row) and never the students beside it.
    """
    from collections import deque
    from concurrent.futures import FIRST_COMPLETED, wait

    from tqdm import tqdm

    outcomes: dict[str, Outcome] = {}
    bar = tqdm(
        total=len(todo),
        desc=f"grading {todo[0].assignment}",
        unit="student",
        disable=not progress,
        file=sys.stderr,
        dynamic_ncols=True,
    )

    def record(job: Job, outcome: Outcome) -> None:
        try:
            merge(course, gb, job.assignment, outcome)
        except Exception as exc:
            gb.db.rollback()
            outcome.graded = False
            outcome.error = f"merging into the gradebook: {exc}"[:300]
            outcome.log += traceback.format_exc()
        with contextlib.suppress(OSError):
            save_outcome(course, job.assignment, outcome)
        outcomes[job.student] = outcome
        if not outcome.ok:
            bar.write(f"  {job.student}: ERROR {outcome.error}", file=sys.stderr)
        bar.set_postfix_str(f"{job.student} {outcome.seconds:.1f}s", refresh=False)
        bar.update()
        shutil.rmtree(job.workdir, ignore_errors=True)

    def result_of(future: Future, job: Job) -> Outcome:
        try:
            return future.result()
        except Exception as exc:
            return Outcome(job.student, job.workdir, False, repr(exc)[:300])

    queue = deque(todo)
    suspects: list[Job] = []
    with course.gradebook() as gb, bar:
        held: dict[Future, Job] = {}
        while queue or held:
            while queue and len(held) <= workers.count:
                job = queue.popleft()
                held[workers.pool.submit(grade_one, job)] = job
            done, _ = wait(held, return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                job = held.pop(future)
                if isinstance(future.exception(), BrokenProcessPool):
                    broken = True
                    suspects.append(job)
                else:
                    record(job, result_of(future, job))
            if broken:  # every job the pool still held is lost with it
                suspects += held.values()
                held.clear()
                for job in suspects:
                    shutil.rmtree(job.workdir, ignore_errors=True)
                workers.restart()
        for job in suspects:  # each alone: a second death is that submission's own doing
            alone = Workers(1, workers.scratch, workers.parallel)
            try:
                future = alone.pool.submit(grade_one, job)
                if isinstance(future.exception(), BrokenProcessPool):
                    outcome = Outcome(
                        job.student,
                        job.workdir,
                        False,
                        "the grading worker died while grading this submission (twice)",
                    )
                else:
                    outcome = result_of(future, job)
            finally:
                alone.close()
            record(job, outcome)
    return outcomes


def _write_outputs(course: Course, result: Result, notebooks: list[str]) -> None:
    """The CSV, the feedback pages copied under the output folder, the logs of the errors."""
    out = result.csv.parent
    problems = result.problems()
    for student in result.kept:  # their findings, as the earlier run kept them
        problems[student] = stored_problems(course, result.assignment, student)
    write_csv(result.table, result.csv, result.status(), problems)
    pages = out / "feedback"
    for student in result.kept:  # their pages, as nbgrader made them (refresh makes them anew)
        result.feedback[student] = copy_pages(course, result.assignment, student, notebooks, out)
    for student, outcome in sorted(result.outcomes.items()):
        source = course.path("feedback", student, result.assignment)
        copies = []
        for nb in notebooks:
            name = f"{student}.html" if len(notebooks) == 1 else f"{student}_{nb}.html"
            target = pages / name
            if (source / f"{nb}.html").is_file() and outcome.graded:
                pages.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source / f"{nb}.html", target)
                copies.append(target)
            elif target.exists():
                target.unlink()  # an earlier run's page no longer says the truth
        result.feedback[student] = copies
        log = result.logs / f"{student}.log"
        if outcome.ok:
            log.unlink(missing_ok=True)
        else:
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text(outcome.log or outcome.error)


def summary(result: Result) -> str:
    """What the instructor reads at the end of a run: the table and where everything is."""
    status = {s: st if not msg else f"{st}: {msg}" for s, (st, msg) in result.status().items()}
    for row in result.table.rows:
        status.setdefault(row.student, "not in this run")
    n, bad = len(result.outcomes), len(result.errors)
    kept = f", kept {len(result.kept)} graded before" if result.kept else ""
    lines = [
        f"{result.assignment}: graded {n} submission{'s' * (n != 1)}{kept} "
        f"({result.layout} layout) "
        f"in {result.seconds:.1f} s with {result.jobs} worker{'s' * (result.jobs != 1)}: "
        f"{n - bad} ok, {bad} error{'s' * (bad != 1)}",
        f"isolation: {result.isolation}" if result.isolation else "",
        "",
        format_table(result.table, status) + format_problems(result.problems()),
        "",
    ]
    other = sorted(name for name, why in result.skipped if why == "not a notebook")
    if other:
        lines.append(f"not notebooks, left out: {', '.join(other)}")
    for name, why in result.skipped:
        if why != "not a notebook":
            lines.append(f"skipped {name}: {why}")
    lines += [
        f"grades CSV:  {result.csv}",
        f"feedback:    {result.csv.parent / 'feedback'}/<student>.html "
        f"(nbgrader's copies: {result.course_feedback}/<student>/{result.assignment}/)",
    ]
    if result.errors:
        lines.append(f"error logs:  {result.logs}/<student>.log")
    return "\n".join(lines)
