"""After manual grading: the grades CSV and every feedback page again, from the gradebook.

``python -m autograder refresh ps1``. Scores given in the formgrader change the gradebook only;
the CSV and the feedback pages a grading run wrote would then be stale. This runs nbgrader's
``generate_feedback`` for every student of the assignment that has autograded notebooks (it
converts the graded notebooks with the gradebook's scores and comments; nothing is executed),
copies the pages where ``grade`` puts them, and rewrites the CSV with each student's status as
the last grading left it. A student whose feedback cannot be made keeps an error in the CSV;
the others go on.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from autograder.coursedir import Course, prepare_environment
from autograder.report import (
    Table,
    format_problems,
    format_table,
    read_table,
    stored_problems,
    stored_status,
    write_csv,
)


@dataclass
class Refreshed:
    """What ``refresh`` rewrote."""

    table: Table
    csv: Path
    status: dict[str, tuple[str, str]]
    pages: dict[str, list[Path]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # student -> why no new feedback
    problems: dict[str, list[str]] = field(default_factory=dict)  # what grading noticed

    def summary(self) -> str:
        status = {s: f"{st}: {msg}" if msg else st for s, (st, msg) in self.status.items()}
        n = sum(1 for p in self.pages.values() if p)
        lines = [
            f"{self.table.assignment}: {len(self.table.rows)} students from the gradebook, "
            f"{n} feedback page{'s' * (n != 1)} made again (nothing executed)",
            "",
            format_table(self.table, status) + format_problems(self.problems),
            "",
            f"grades CSV:  {self.csv}",
            f"feedback:    {self.csv.parent / 'feedback'}/<student>.html",
        ]
        lines += [f"no new feedback for {s}: {why}" for s, why in sorted(self.failed.items())]
        return "\n".join(lines)


def refresh(course: Course, assignment: str, out: str | Path | None = None) -> Refreshed:
    """Rewrite ``assignment``'s CSV and feedback pages from the gradebook (see the module doc)."""
    prepare_environment()
    notebooks = course.notebooks(assignment)
    out = Path(out) if out is not None else course.root / "grades" / assignment
    with course.lock():
        table = read_table(course, assignment)
        status = {r.student: stored_status(course, assignment, r, r.student) for r in table.rows}
        done = Refreshed(table, out / f"{assignment}_grades.csv", status)
        api = course.api()
        for row in table.rows:
            graded = course.path("autograded", row.student, assignment)
            copies = []
            if status[row.student][0] != "error" and graded.is_dir():
                made = api.generate_feedback(assignment, row.student, force=True)
                if not made["success"]:
                    why = (made.get("error") or "nbgrader failed").strip().splitlines()[-1]
                    done.failed[row.student] = why[:300]
                    status[row.student] = ("graded, feedback failed", why[:300])
                copies = copy_pages(course, assignment, row.student, notebooks, out)
            else:
                copy_pages(course, assignment, row.student, notebooks, out, remove=True)
            done.pages[row.student] = copies
        problems = {r.student: stored_problems(course, assignment, r.student) for r in table.rows}
        write_csv(table, done.csv, status, problems)
    done.status, done.problems = status, problems
    return done


def copy_pages(
    course: Course,
    assignment: str,
    student: str,
    notebooks: list[str],
    out: Path,
    remove: bool = False,
) -> list[Path]:
    """nbgrader's feedback pages of a student, copied to ``out/feedback/`` as ``grade`` names
    them; with ``remove`` (nothing graded), an old copy is deleted."""
    source = course.path("feedback", student, assignment)
    copies = []
    for nb in notebooks:
        name = f"{student}.html" if len(notebooks) == 1 else f"{student}_{nb}.html"
        target = out / "feedback" / name
        if not remove and (source / f"{nb}.html").is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / f"{nb}.html", target)
            copies.append(target)
        elif target.exists():
            target.unlink()
    return copies
