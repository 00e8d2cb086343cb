"""``python -m autograder demo`` (``make demo``): the instructor's job on the bundled sample class.

In a scratch course (``demo_course/`` in the repository by default, made anew each time and
ignored by git; the repository's own files are only read): release every assignment of
``source_assignments/``, grade each assignment's sample class ``autograder/sample_class/<a>/``
(a flat folder of notebooks, as downloaded from an LMS) in parallel, print the grade tables and
where the feedback pages are, and check every score against the class's ``expected.json``.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import time
from pathlib import Path

from autograder.coursedir import CONFIG_FILE, Course, CourseError
from autograder.grading import Result, grade, summary
from autograder.release import release

REPO = Path(__file__).resolve().parent.parent
SAMPLE_CLASS = Path(__file__).resolve().parent / "sample_class"
MARKER = ".autograder-demo"  # a folder the demo made (and may therefore delete)


def feedback_text(page: Path) -> str:
    """The words of a feedback page: tags removed, entities decoded, whitespace collapsed."""
    text = re.sub(r"<[^>]+>", " ", page.read_text(errors="replace"))
    return re.sub(r"\s+", " ", html.unescape(text))


def compare_with_expected(result: Result, expected_file: Path) -> list[str]:
    """What differs from ``expected.json`` (empty when everything matches)."""
    expected = json.loads(expected_file.read_text())
    problems = []
    for student, want in sorted(expected.items()):
        row = result.table.row(student)
        if row is None or student not in result.outcomes:
            problems.append(f"{student}: not graded")
            continue
        got = {part: row.parts.get(part) for part in want["parts"]}
        if got != {k: float(v) for k, v in want["parts"].items()} or row.total != want["total"]:
            problems.append(f"{student}: expected {want['total']} {want['parts']}, got {got}")
        pages = result.feedback.get(student) or []
        text = " ".join(feedback_text(p) for p in pages)
        for words in want.get("feedback_mentions", []):
            if words not in text:
                problems.append(f"{student}: the feedback does not say {words!r}")
    return problems


def fresh_course(workdir: Path) -> Course:
    """A scratch copy of the repository's course: its nbgrader configuration and sources."""
    if workdir.exists():
        if not (workdir / MARKER).exists():
            raise CourseError(f"{workdir} exists and was not made by the demo: pass another --dir")
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    (workdir / MARKER).write_text("made by `python -m autograder demo`; safe to delete\n")
    shutil.copy2(REPO / CONFIG_FILE, workdir / CONFIG_FILE)
    shutil.copytree(
        REPO / "source_assignments",
        workdir / "source_assignments",
        ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "*.pyc"),
    )
    return Course(workdir)


def demo(workdir: str | Path | None = None, jobs: int | None = None) -> int:
    """Run the demo; 0 when every assignment was released and graded as expected."""
    start = time.perf_counter()
    workdir = Path(workdir) if workdir else REPO / "demo_course"
    course = fresh_course(workdir.resolve())
    assignments = course.source_assignments()
    print(f"scratch course: {course.root} (a copy of {REPO}'s nbgrader course)\n")

    print(f"== releasing {len(assignments)} assignments: {', '.join(assignments)}")
    failed = [a for a in assignments if release(course, [a]) != 0]
    print()

    problems: dict[str, list[str]] = {}
    graded = []
    for name in assignments:
        folder = SAMPLE_CLASS / name
        if name in failed:
            continue
        if not folder.is_dir():
            print(f"== {name}: no sample class in {folder}, not graded\n")
            continue
        print(f"== grading the sample class of {name} ({folder})")
        result = grade(course, name, folder, jobs=jobs, out=course.root / "grades" / name)
        print(summary(result))
        graded.append(result)
        expected = folder / "expected.json"
        if expected.is_file():
            problems[name] = compare_with_expected(result, expected)
            if problems[name]:
                print(f"{name} differs from {expected}:")
                print("\n".join(f"  {p}" for p in problems[name]))
            else:
                print(f"every score and feedback page agrees with {expected.name}")
        print()

    print(f"== done in {time.perf_counter() - start:.0f} s")
    for result in graded:
        bad = len(result.errors)
        print(
            f"  {result.assignment}: {len(result.outcomes)} students, "
            f"{bad} error{'s' * (bad != 1)}, CSV {result.csv}"
        )
    print(f"feedback pages: {course.root / 'grades'}/<assignment>/feedback/<student>.html")
    print(f"gradebook:      {course.db_url}  (python -m autograder --course {workdir} report)")
    print(f"the scratch course {course.root} is a copy made for the demo: delete it when done")
    if failed:
        print(f"could not release: {', '.join(failed)}")
    mismatched = [a for a, p in problems.items() if p]
    if mismatched:
        print(f"scores differ from expected.json: {', '.join(mismatched)}")
    return 1 if failed or mismatched or any(r.errors for r in graded) else 0
