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
from concurrent.futures import as_completed as completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from autograder import submissions
from autograder.coursedir import CONFIG_FILE, Course, prepare_environment
from autograder.findings import Finding, ordered
from autograder.report import Table, format_problems, format_table, read_table, write_csv


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
    protected: list[str] = field(default_factory=list)  # paths student code may not reach
    hardened: bool = True  # repair the notebook, run the kernel sandboxed and guarded


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
                row = self.table.row(student)
                manual = row is not None and row.needs_manual_grade
                out[student] = ("ok, needs manual grading" if manual else "ok", "")
        for student in self.kept:
            out[student] = ("ok, kept", "graded by an earlier run; the submission is unchanged")
        return out


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
    from autograder.sandbox import become_subreaper, die_with_parent

    atexit.register(_exit_at_once)  # first: it runs after the handlers registered from here on
    die_with_parent()  # a worker dies with the run, and its kernel with it
    prepare_environment(parallel)
    log = os.open(
        os.path.join(log_folder, f"worker-{os.getpid()}.log"), os.O_WRONLY | os.O_CREAT, 0o644
    )
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    warnings.filterwarnings("ignore", module="sqlalchemy")
    _scratch_gradebooks_without_fsync(log_folder)
    become_subreaper()  # a kernel's orphans come back to this worker, which ends them
    import nbgrader.apps  # noqa: F401


def _exit_at_once() -> None:
    """A worker's last act: leave without tearing the interpreter down (half a second).

    Freeing the modules nbgrader imports takes 0.4 to 0.7 s, and the parent waits for it at the
    end of every run. multiprocessing's own pool work is done by then (``_bootstrap`` has
    returned), the kernels are shut down and the gradebooks committed; what is left is what
    multiprocessing itself skips in a forked child, which ends with ``os._exit`` too.
    """
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


def grade_one(job: Job) -> Outcome:
    """Autograde one student's submission and make the feedback, in a scratch course."""
    start = time.perf_counter()
    work = Path(job.workdir)
    outcome = Outcome(job.student, job.workdir, graded=False)
    course = None
    try:
        shutil.copytree(job.template, work)
        course = Course(work, db_url=_sqlite(work))
        submitted = course.path("submitted", job.student, job.assignment)
        shutil.copytree(job.submitted, submitted)
        if job.hardened:
            from autograder.integrity import InvalidSubmission

            try:
                outcome.findings += _repair(course, job, submitted)
            except InvalidSubmission as exc:
                outcome.findings.append(exc.finding)
                outcome.error = str(exc).splitlines()[0][:300]
                return outcome
        _seed(course, job)
        # the kernel is killed once the last cell has run: it has nothing left to save, and
        # a polite shutdown takes a third of a second per notebook
        course.config.Execute.shutdown_kernel = "immediate"
        api = course.api()
        with _hardening(course, job):
            for attempt in range(2):  # a kernel can fail to start (a port taken): again
                result = api.autograde(job.assignment, job.student, force=True, create=True)
                text = (result.get("log") or "") + (result.get("error") or "")
                retry = any(k in text for k in KERNEL_START_FAILURES)
                if result["success"] or attempt or not retry:
                    break
        outcome.log = text
        if not result["success"]:
            outcome.error = _reason(result)
            return outcome
        if job.hardened:
            _inspect(course, job, outcome)
            if outcome.error:
                return outcome
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
        if job.hardened:
            outcome.findings = ordered(outcome.findings)
            from autograder.sandbox import kill_leftovers

            killed = kill_leftovers()
            if killed:
                outcome.findings.append(
                    Finding("processes", "", f"{killed} processes left behind were stopped")
                )
            with contextlib.suppress(OSError):
                where = course.path("autograded", job.student, job.assignment) if course else None
                if where is not None and outcome.findings:  # also for a file nbgrader refused
                    where.mkdir(parents=True, exist_ok=True)
                if where is not None and where.is_dir():
                    from autograder.findings import save

                    save(outcome.findings, where / FINDINGS_FILE)
                    if outcome.graded:
                        (where / DIGEST_FILE).write_text(submission_digest(Path(job.submitted)))
    return outcome


FINDINGS_FILE = "findings.json"
DIGEST_FILE = ".submission.sha256"  # of the submission these results are for (``resume``)


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


#: run in every grading kernel before the notebook's first cell
GUARD_STARTUP = "import autograder.guard as _g; _g.install(); del _g"


def protected_paths(course: Course) -> list[str]:
    """What student code may not reach in the instructor's course: the sources (hidden tests),
    the gradebook, every student's submission, autograded notebook and feedback, the release,
    the grades and the configuration. The rest (the ``course`` package, for one) stays readable.
    """
    cd = course.coursedir
    folders = [
        cd.source_directory,
        cd.release_directory,
        cd.submitted_directory,
        cd.autograded_directory,
        cd.feedback_directory,
        "grades",
        CONFIG_FILE,
        ".nbgrader.log",
        ".autograder.lock",
    ]
    out = [str((course.root / f).resolve()) for f in folders]
    if course.db_url.startswith("sqlite:///"):
        out.append(str(Path(course.db_url[len("sqlite:///") :]).resolve()))
    return out


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


@contextlib.contextmanager
def _hardening(course: Course, job: Job):
    """While nbgrader autogrades: the kernel runs sandboxed, with the guard started first."""
    if not job.hardened:
        yield
        return
    import json

    import nbformat

    from autograder import guard, sandbox
    from autograder.findings import guard_settings

    source = course.source(job.assignment)
    references = [nbformat.read(source / f"{nb}.ipynb", as_version=4) for nb in job.notebooks]
    support = sorted(p.stem for p in source.glob("*.py") if p.stem.isidentifier())
    cwd = course.path("autograded", job.student, job.assignment)
    scratch = Path(job.workdir).resolve().parent.parent  # every student's scratch course
    settings = guard_settings(
        references, str(cwd.resolve()), [*job.protected, str(scratch)], support
    )
    sandbox.configure(course.config, startup=GUARD_STARTUP)
    os.environ[guard.ENV] = json.dumps(settings)
    try:
        yield
    finally:
        os.environ.pop(guard.ENV, None)


def _inspect(course: Course, job: Job, outcome: Outcome) -> None:
    """After autograde: read what the guard and the sandbox left in the autograded notebooks.

    A test cell that ran without the guard's mark earns nothing; a kernel in which the guard did
    not start at all is an error of the grader, not of the student (the row says so).
    """
    import nbformat

    from autograder.findings import analyse, without_guard_outputs
    from autograder.sandbox import findings_from_outputs

    folder = course.path("autograded", job.student, job.assignment)
    zeroed: list[tuple[str, str]] = []
    for name in job.notebooks:
        path = folder / f"{name}.ipynb"
        if not path.is_file():
            continue
        nb = nbformat.read(path, as_version=4)
        found = analyse(nb, guarded=True)
        outcome.findings += found.findings + findings_from_outputs(nb)
        nbformat.write(without_guard_outputs(nb), path)  # read; the feedback shows the words
        if not found.guard_started and not any(f.kind == "crash" for f in outcome.findings):
            outcome.error = (
                f"the autograder's guard did not start in the kernel of {name}.ipynb "
                "(see the log); grade this submission again"
            )
            return
        for grade_id in found.unguarded:
            zeroed.append((name, grade_id))
            outcome.findings.append(
                Finding(
                    "tampering",
                    grade_id,
                    "this test ran with the autograder's guard switched off by the notebook's "
                    "code; it earns nothing",
                )
            )
    if zeroed:
        with course.gradebook() as gb:
            for name, grade_id in zeroed:
                grade = gb.find_grade(grade_id, name, job.assignment, job.student)
                if grade.auto_score:
                    grade.auto_score = 0.0
            gb.db.commit()


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
) -> Result:
    """Grade every submission of ``assignment`` in ``folder`` (see the module's documentation).

    ``jobs`` worker processes (default: the number of cores); ``out`` receives the CSV, a copy of
    each feedback page and the logs of the errors (default: ``<course>/grades/<assignment>/``).
    ``hardened`` (the default) repairs each notebook's structure, runs its kernel with limits and
    the guard, and reports what it finds (``autograder/SECURITY.md``); without it, grading is
    plain ``nbgrader autograde``. With ``resume``, a student whose submission was graded by an
    earlier run and has not changed since is kept as graded (a run that was interrupted is
    finished by running it again with ``resume``).
    """
    start = time.perf_counter()
    jobs = max(1, jobs or os.cpu_count() or 1)
    out = Path(out) if out is not None else course.root / "grades" / assignment
    prepare_environment(parallel=jobs > 1)
    scratch = Path(tempfile.mkdtemp(prefix=f"autograder-{assignment}-"))
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
            earlier = earlier_grades(course, assignment)
            protected = protected_paths(course)
            todo = []
            kept: list[str] = []
            for sub in found.submissions:
                target = course.path("submitted", sub.student, assignment)
                if Path(sub.origin).resolve() != target.resolve():
                    submissions.place(sub, target)
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
                        protected,
                        hardened,
                    )
                )
            outcomes = _run(course, todo, workers, progress) if todo else {}
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
        )
        _write_outputs(course, result, notebooks)
        result.seconds = time.perf_counter() - start
        return result
    finally:
        if workers is not None:
            workers.close()
        if not keep_scratch:
            shutil.rmtree(scratch, ignore_errors=True)


def _run(course: Course, todo: list[Job], workers: Workers, progress: bool) -> dict[str, Outcome]:
    """Grade the jobs on the workers and merge each result into the course as it arrives."""
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
    pending = list(todo)
    with course.gradebook() as gb, bar:
        for attempt in range(2):  # a worker process that died takes its pool down: once more
            if attempt:
                workers.restart()
            broken: list[Job] = []
            futures: dict[Future, Job] = {workers.pool.submit(grade_one, j): j for j in pending}
            for future in completed(futures):
                job = futures[future]
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    if attempt == 0:
                        broken.append(job)
                        shutil.rmtree(job.workdir, ignore_errors=True)
                        continue
                    outcome = Outcome(job.student, job.workdir, False, "the worker process died")
                except Exception as exc:
                    outcome = Outcome(job.student, job.workdir, False, repr(exc)[:300])
                try:
                    merge(course, gb, job.assignment, outcome)
                except Exception as exc:
                    gb.db.rollback()
                    outcome.graded = False
                    outcome.error = f"merging into the gradebook: {exc}"[:300]
                    outcome.log += traceback.format_exc()
                outcomes[job.student] = outcome
                if not outcome.ok:
                    bar.write(f"  {job.student}: ERROR {outcome.error}", file=sys.stderr)
                bar.set_postfix_str(f"{job.student} {outcome.seconds:.1f}s", refresh=False)
                bar.update()
                shutil.rmtree(job.workdir, ignore_errors=True)
            pending = broken
            if not pending:
                break
    return outcomes


def _write_outputs(course: Course, result: Result, notebooks: list[str]) -> None:
    """The CSV, the feedback pages copied under the output folder, the logs of the errors."""
    out = result.csv.parent
    write_csv(result.table, result.csv, result.status(), result.problems())
    pages = out / "feedback"
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
