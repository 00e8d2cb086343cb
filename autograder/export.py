"""Grades as an LMS imports them, from nbgrader's gradebook: ``python -m autograder export``.

* **Canvas** (Grades > Import): ``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``,
  ``Section``, then one column for the assignment, headed ``<name> (<Canvas assignment id>)``
  (``--column``; default the assignment's name), and a ``Points Possible`` row. Canvas matches
  each row by ``ID``, the Canvas user id: the id of a student graded from a Canvas download (or
  the gradebook's ``lms_user_id``). A student without one cannot be matched and is listed
  instead. A cell left empty leaves Canvas's grade as it is.
* **Moodle**: ``Identifier``, ``Full name``, ``Email address``, ``Grade``, ``Maximum Grade``,
  ``Last modified (grade)``, ``Feedback comments``: the assignment's offline grading worksheet
  (Assignment > Upload grading worksheet, which matches ``Identifier``, ``Participant <number>``
  from Moodle's download), and the course gradebook's CSV import (Grades > Import > CSV file,
  mapping ``Email address`` to the user's email and ``Grade`` to the assignment). Moodle keeps
  a grade that changed there after ``Last modified (grade)``, left empty, unless you tick the
  override.

A submission that could not be graded, or that still needs manual grading in the formgrader,
has an empty grade (the LMS keeps what it has) and says why: in Moodle's ``Feedback comments``,
and for Canvas, whose import has no column for it, in the list the command prints.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from autograder.coursedir import Course
from autograder.report import read_table, stored_status
from autograder.submissions import read_lms

FORMATS = ("canvas", "moodle")


def _points(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


@dataclass
class Exported:
    """What an export wrote, and what it could not put in."""

    path: Path
    rows: int
    empty: list[tuple[str, str]] = field(default_factory=list)  # (student, why no grade)
    left_out: list[tuple[str, str]] = field(default_factory=list)  # (student, why no row)

    def summary(self) -> str:
        lines = [f"{self.rows} rows: {self.path}"]
        if self.empty:
            lines.append(f"no grade ({len(self.empty)}, the LMS keeps what it has):")
            lines += [f"  {student}: {why}" for student, why in self.empty]
        if self.left_out:
            lines.append(f"not in the file ({len(self.left_out)}):")
            lines += [f"  {student}: {why}" for student, why in self.left_out]
        return "\n".join(lines)


def _students(course: Course, assignment: str) -> dict[str, dict]:
    """student id -> what the gradebook and the LMS's download say of the student."""
    out = {}
    with course.gradebook() as gb:
        for sub in gb.find_assignment(assignment).submissions:
            s = sub.student
            out[s.id] = {
                "name": " ".join(n for n in (s.first_name, s.last_name) if n),
                "email": s.email or "",
                "lms_user_id": s.lms_user_id or "",
            }
    return out


def export(
    course: Course,
    assignment: str,
    fmt: str,
    out: str | Path | None = None,
    column: str | None = None,
) -> Exported:
    """Write ``assignment``'s grades for the LMS ``fmt`` (see the module's documentation)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    course.notebooks(assignment)  # says so when the assignment is not released
    table = read_table(course, assignment)
    people = _students(course, assignment)
    path = Path(out) if out else course.root / "grades" / assignment / f"{assignment}_{fmt}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    done = Exported(path, 0)
    rows = []
    for row in table.rows:
        status, why = stored_status(course, assignment, row, row.student)
        grade = _points(row.total)
        if status == "error":
            grade, comment = "", f"Not graded: {why}"
        elif row.needs_manual_grade:
            grade, comment = "", "Not graded yet: a part needs manual grading (formgrader)"
        else:
            comment = ""
        lms = read_lms(course.path("submitted", row.student, assignment))
        who = people.get(row.student, {})
        name = row.name or who.get("name", "")
        if fmt == "canvas":
            user_id = who.get("lms_user_id") or (lms.get("lms") == "Canvas" and lms.get("lms_id"))
            if not user_id:
                done.left_out.append(
                    (row.student, "no Canvas user id (not from a Canvas download)")
                )
                continue
            rows.append([name or row.student, str(user_id), "", "", "", grade])
        else:
            participant = lms.get("lms_id") if lms.get("lms") == "Moodle" else ""
            identifier = f"Participant {participant}" if participant else ""
            if not identifier and not who.get("email"):
                done.left_out.append(
                    (row.student, "no Moodle participant number and no email in the gradebook")
                )
                continue
            rows.append(
                [identifier, name or row.student, who.get("email", ""), grade]
                + [_points(table.max_total), "", comment]
            )
        if not grade:
            done.empty.append((row.student, comment))
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        if fmt == "canvas":
            writer.writerow(
                ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"] + [column or assignment]
            )
            writer.writerow(["Points Possible", "", "", "", "", _points(table.max_total)])
        else:
            writer.writerow(
                ["Identifier", "Full name", "Email address", "Grade", "Maximum Grade"]
                + ["Last modified (grade)", "Feedback comments"]
            )
        writer.writerows(rows)
    done.rows = len(rows)
    return done
