"""The instructor's autograder (``autograder.grading.grade``) against bare notebook execution.

Everything happens in temporary folders: a scratch course (``nbgrader_config.py`` and the
assignment's source copied from the repository, released with nbgrader), flat folders of
submissions copied from ``autograder/sample_class/<assignment>/`` under new student ids, and the
outputs. The repository is only read. Two things are measured, each in the same run:

1. **Per submission**: grading a correct submission (``grade(..., jobs=1)``, the public API that
   ``python -m autograder grade`` calls) against the bare cost of running the same notebook with
   nbclient: ``NotebookClient(nb).execute()`` in a fresh kernel on the notebook nbgrader autograded
   (the submission with its locked test cells and hidden tests in place), in a copy of its folder
   (the assignment's support module next to it). Grading is timed three ways: the whole command
   ``python -m autograder grade`` on one submission (start-up included: Python, nbgrader's import
   in the command and in its worker, the template), the marginal cost of one more submission in
   a run of ``K`` through the API (``(T_K - T_1) / (K - 1)``), and the worker's own time per
   student. Then a breakdown, in a real worker process: scratch course, nbgrader's
   autograde (its own work, kernel start, cells, kernel shutdown), feedback HTML, and the time the
   sqlite commits take within them.
2. **Throughput**: ``N`` submissions (the sample class's notebooks, copied round-robin under
   distinct ids into one flat folder) graded with ``jobs=1`` and with ``jobs=2``, each in a fresh
   course; every score is checked against the sample class's ``expected.json``.

    python benchmarks/bench_grading.py [--assignment ps3] [--n 100] [--repeat 5]

``--n 0`` measures only the first part.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from autograder.coursedir import CONFIG_FILE, ONE_THREAD, Course, prepare_environment
from autograder.grading import (
    Job,
    Result,
    Workers,
    boxes_of,
    grade,
    grade_one,
    make_template,
    plan_boxes,
)

REPO = Path(__file__).resolve().parent.parent
SAMPLE_CLASS = REPO / "autograder" / "sample_class"
BATCH = 6  # correct submissions in the run that gives the marginal cost of one more


# -- setting up ----------------------------------------------------------------------------------


def make_course(root: Path, assignment: str) -> Course:
    """A scratch course with ``assignment`` released (the repository is only read)."""
    root.mkdir(parents=True)
    shutil.copy2(REPO / CONFIG_FILE, root / CONFIG_FILE)
    shutil.copytree(
        REPO / "source_assignments" / assignment,
        root / "source_assignments" / assignment,
        ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "*.pyc"),
    )
    course = Course(root)
    released = course.release(assignment)
    if not released["success"]:
        raise RuntimeError(f"could not release {assignment}: {released.get('error')}")
    return course


def flat_folder(folder: Path, sources: list[Path], n: int, tag: str) -> dict[str, str]:
    """``n`` copies of ``sources`` (round-robin) as ``<name>-<tag><k>.ipynb``: id -> source name."""
    folder.mkdir(parents=True)
    ids = {}
    for k in range(n):
        source = sources[k % len(sources)]
        student = f"{source.stem}-{tag}{k:03d}"
        shutil.copy2(source, folder / f"{student}.ipynb")
        ids[student] = source.stem
    return ids


def timed_grade(
    course: Course, assignment: str, folder: Path, jobs: int, out: Path, hardened: bool = True
):
    """Wall time of ``grade`` and its result; it must have graded every submission."""
    saved = {name: os.environ.get(name) for name in ONE_THREAD}
    start = time.perf_counter()
    result = grade(
        course, assignment, folder, jobs=jobs, out=out, progress=False, hardened=hardened
    )
    seconds = time.perf_counter() - start
    for name, value in saved.items():  # grade(jobs > 1) sets one BLAS thread in this process
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    if result.errors:
        raise RuntimeError(f"grading errors: { {s: o.error for s, o in result.errors.items()} }")
    return seconds, result


def cli_grade(course: Course, assignment: str, folder: Path, out: Path) -> float:
    """Wall time of ``python -m autograder grade`` on ``folder``, one worker: a whole command,
    as an instructor (or Gradescope, one submission at a time) runs it."""
    command = [sys.executable, "-m", "autograder", "--course", str(course.root), "grade"]
    command += [assignment, str(folder), "--jobs", "1", "--out", str(out), "--no-progress"]
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=out.parent, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - start
    if proc.returncode != 0 or "1 ok, 0 errors" not in proc.stdout:
        raise RuntimeError(f"{' '.join(command)} failed:\n{proc.stdout}{proc.stderr}")
    return seconds


def check_totals(result: Result, ids: dict[str, str], expected: dict) -> None:
    """Every student got the total that ``expected.json`` gives the notebook it is a copy of."""
    assert set(result.outcomes) == set(ids), "not every submission was graded"
    for student, source in ids.items():
        row = result.table.row(student)
        want = expected[source]["total"]
        assert row is not None and row.total == want, (student, row and row.total, want)


# -- bare execution ------------------------------------------------------------------------------


def bare_execute(notebook: Path) -> float:
    """``NotebookClient(nb).execute()`` in a fresh kernel, in the notebook's folder (outputs
    cleared first); the test cells must all pass (a correct submission)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    client = NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(notebook.parent)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, f"{notebook} raised {errors[0].ename}: {errors[0].evalue}"
    return seconds


# -- the breakdown, in a worker process ----------------------------------------------------------


def _timed(table: dict[str, float], key: str, fn: Callable) -> Callable:
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            table[key] += time.perf_counter() - start
            table[f"{key} (calls)"] += 1

    return wrapper


def timed_grade_one(job: Job) -> dict[str, float]:
    """``grade_one`` in a grading worker, with the time of each phase (run in the worker)."""
    from nbclient import NotebookClient
    from nbgrader.apps import NbGraderAPI
    from nbgrader.preprocessors import Execute
    from sqlalchemy.engine.default import DefaultDialect

    from autograder import checker, grading

    times: dict[str, float] = defaultdict(float)
    hooks = [
        (checker, "run_test", "tests in the grader"),
        (checker.Link, "ask", "round trips"),
        (grading, "_start_ahead", "kernel started ahead"),
        (NbGraderAPI, "autograde", "autograde"),
        (NbGraderAPI, "generate_feedback", "feedback"),
        (Execute, "preprocess", "execute"),
        (NotebookClient, "start_new_kernel", "kernel launch"),
        (NotebookClient, "start_new_kernel_client", "kernel ready"),
        (NotebookClient, "_cleanup_kernel", "kernel shutdown"),
        (DefaultDialect, "do_commit", "sqlite commits"),
    ]
    saved = [(cls, name, cls.__dict__.get(name)) for cls, name, _ in hooks]
    for cls, name, key in hooks:
        setattr(cls, name, _timed(times, key, getattr(cls, name)))
    try:
        start = time.perf_counter()
        outcome = grade_one(job)
        times["total"] = time.perf_counter() - start
    finally:
        for cls, name, original in saved:
            if original is None:
                delattr(cls, name)
            else:
                setattr(cls, name, original)
    if not outcome.ok:
        raise RuntimeError(f"{job.student}: {outcome.error}")
    return dict(times)


def breakdown(course: Course, assignment: str, student: str, scratch: Path, repeat: int):
    """Median time of each phase of grading one submission, in a real worker (spawned, with
    the pool initializer of a grading run), after one warm-up."""
    from autograder.box import detect

    template = make_template(course, assignment, scratch / "template")
    view = plan_boxes(course, assignment, scratch)
    submitted = str(course.path("submitted", student, assignment))
    workers = Workers(1, scratch, parallel=False)
    runs = []
    try:
        for i in range(repeat + 1):
            job = Job(
                assignment,
                student,
                str(template),
                submitted,
                str(scratch / "students" / f"s{i}"),
                notebooks=course.notebooks(assignment),
                isolation=detect().kind,
                view=view,
                boxes=str(boxes_of(scratch)),
            )
            runs.append(workers.pool.submit(timed_grade_one, job).result())
    finally:
        workers.close()
    runs = runs[1:]

    def med(key: str) -> float:
        return statistics.median(r.get(key, 0.0) for r in runs)

    start = med("kernel launch") + med("kernel ready")
    phases = {
        "scratch course, boxes (copy template, submission, seed)": statistics.median(
            r["total"] - r["autograde"] - r["feedback"] - r.get("kernel started ahead", 0.0)
            for r in runs
        ),
        "nbgrader autograde, its own work": statistics.median(
            r["autograde"] - r["execute"] for r in runs
        ),
        "kernel start (launch + ready; launched ahead, so mostly ready)": start,
        "cells": statistics.median(
            r["execute"]
            - r.get("kernel launch", 0.0)
            - r.get("kernel ready", 0.0)
            - r.get("kernel shutdown", 0.0)
            for r in runs
        ),
        "kernel shutdown": med("kernel shutdown"),
        "feedback HTML (generate_feedback)": med("feedback"),
    }
    phases["(of the cells: the tests, run in the grader)"] = med("tests in the grader")
    calls = med("round trips (calls)")
    phases[f"(of those: {calls:.0f} round trips to the kernel)"] = med("round trips")
    phases["the next student's kernel started ahead"] = med("kernel started ahead")
    return phases, med("total"), med("sqlite commits")


# -- the benchmark -------------------------------------------------------------------------------


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def per_submission(root: Path, assignment: str, repeat: int) -> dict:
    course = make_course(root / "course1", assignment)
    correct = SAMPLE_CLASS / assignment / "correct.ipynb"
    bare, single, marginal, worker, plain = [], [], [], [], []
    student = ""
    for r in range(repeat):
        ids = flat_folder(root / f"cli{r}", [correct], 1, f"cli{r}-")
        single.append(cli_grade(course, assignment, root / f"cli{r}", root / f"out-cli{r}"))
        ids = flat_folder(root / f"single{r}", [correct], 1, f"one{r}-")
        (student,) = ids
        t1, _ = timed_grade(course, assignment, root / f"single{r}", 1, root / f"out-one{r}")
        ids = flat_folder(root / f"batch{r}", [correct], BATCH, f"batch{r}-")
        tk, result = timed_grade(course, assignment, root / f"batch{r}", 1, root / f"out-b{r}")
        here = root / f"bare{r}"
        shutil.copytree(course.path("autograded", student, assignment), here)
        bare.append(bare_execute(here / f"{assignment}.ipynb"))
        marginal.append((tk - t1) / (BATCH - 1))
        worker += [o.seconds for o in result.outcomes.values()]
        flat_folder(root / f"plain{r}", [correct], BATCH, f"plain{r}-")
        _, unguarded = timed_grade(
            course, assignment, root / f"plain{r}", 1, root / f"out-p{r}", hardened=False
        )
        plain += [o.seconds for o in unguarded.outcomes.values()]
    phases, total, commits = breakdown(course, assignment, student, root / "breakdown", repeat)
    return {
        "bare": bare,
        "single": single,
        "marginal": marginal,
        "worker": worker,
        "plain": plain,
        "phases": phases,
        "phases total": total,
        "sqlite commits": commits,
    }


def throughput(root: Path, assignment: str, n: int) -> dict:
    sources = sorted((SAMPLE_CLASS / assignment).glob("*.ipynb"))
    expected = json.loads((SAMPLE_CLASS / assignment / "expected.json").read_text())
    out = {}
    for jobs in (1, 2):
        course = make_course(root / f"course-j{jobs}", assignment)
        ids = flat_folder(root / f"class-j{jobs}", sources, n, "")
        before = load()
        seconds, result = timed_grade(
            course, assignment, root / f"class-j{jobs}", jobs, root / f"out-j{jobs}"
        )
        after = load()
        check_totals(result, ids, expected)
        out[jobs] = {"seconds": seconds, "load": (before, after), "worker": result.outcomes}
    return out


def main(assignment: str = "ps3", n: int = 100, repeat: int = 5) -> dict:
    import nbclient
    import nbgrader

    saved = dict(os.environ)
    root = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    try:
        os.environ["JUPYTER_RUNTIME_DIR"] = str(root / "jupyter-runtime")  # kernel files
        os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
        prepare_environment()
        print(
            f"Grading with the autograder (nbgrader {nbgrader.__version__}, nbclient "
            f"{nbclient.__version__}), {assignment}, in {root}"
        )
        print(f"per submission ({repeat} rounds, {load()}) ...", flush=True)
        one = per_submission(root, assignment, repeat)
        if n:
            print(f"{n} submissions, jobs 1 then jobs 2 ({load()}) ...", flush=True)
        many = throughput(root, assignment, n) if n else {}
        print_report(assignment, n, one, many)
        return {"per submission": one, "throughput": many}
    finally:
        os.environ.clear()
        os.environ.update(saved)
        shutil.rmtree(root, ignore_errors=True)


def print_report(assignment: str, n: int, one: dict, many: dict) -> None:
    med = statistics.median
    bare = med(one["bare"])
    print(f"\nPer submission: a correct {assignment} submission (median of the rounds; best)")
    rows = [
        ("bare: NotebookClient(nb).execute(), fresh kernel", one["bare"]),
        ("python -m autograder grade, one submission", one["single"]),
        (f"grade, one more submission in a run (of {BATCH})", one["marginal"]),
        ("grade, the worker's time per submission", one["worker"]),
        ("grade --plain (tests in the kernel, no sandbox), the same", one["plain"]),
    ]
    for label, values in rows:
        ratio = "" if values is one["bare"] else f"  {med(values) / bare:5.2f}x bare"
        print(f"  {label:52} {med(values):6.2f} s  (best {min(values):.2f} s){ratio}")
    print(f"  breakdown of one submission in a worker (median, total {one['phases total']:.2f} s):")
    for label, seconds in one["phases"].items():
        print(f"    {label:50} {seconds:6.2f} s")
    print(f"    {'(of all these: sqlite commits)':50} {one['sqlite commits']:6.2f} s")

    if not many:
        return
    t1, t2 = many[1]["seconds"], many[2]["seconds"]
    print(f"\n{n} submissions of {assignment} (sample class copies), one flat folder")
    for jobs in (1, 2):
        s = many[jobs]["seconds"]
        per = med(o.seconds for o in many[jobs]["worker"].values())
        print(
            f"  --jobs {jobs}: {s:6.1f} s, {n / s * 60:5.1f} submissions/min "
            f"(worker median {per:.2f} s per submission)"
        )
        print(
            f"    {many[jobs]['load'][0]} before, {many[jobs]['load'][1]} after "
            f"(this run alone adds about {jobs})"
        )
    print(f"  speed-up jobs 2 / jobs 1: {t1 / t2:.2f}x")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--assignment", default="ps3")
    p.add_argument("--n", type=int, default=100, help="submissions in the throughput runs")
    p.add_argument("--repeat", type=int, default=5, help="rounds of the per-submission timing")
    args = p.parse_args()
    sys.exit(0 if main(args.assignment, args.n, args.repeat) else 1)
