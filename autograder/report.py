"""The grade table of an assignment, read from nbgrader's gradebook (the one source of truth)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from autograder.coursedir import Course
from autograder.submissions import read_lms

OUTCOME_FILE = "grading.json"  # beside the autograded notebooks: whether grading worked, why not


@dataclass
class Row:
    """One student's grades of one assignment."""

    student: str
    parts: dict[str, float | None]  # column -> points (None: not graded)
    total: float | None
    max: float
    needs_manual_grade: bool = False
    late_penalty: float = 0.0
    name: str = ""  # the name shown beside the id (the gradebook's, else the LMS's)
    late: bool | None = None  # after the due date (nbgrader), or marked late by the LMS
    submitted: str = ""  # when it was submitted (UTC), when known
    seconds_late: float = 0.0  # after the due date and the extension (nbgrader's count)


@dataclass
class Table:
    """An assignment's grade table: one column per autograded (or task) cell."""

    assignment: str
    columns: list[str]  # grade_id, or "<notebook>:<grade_id>" when notebooks share grade_ids
    max_points: dict[str, float]
    rows: list[Row] = field(default_factory=list)

    @property
    def max_total(self) -> float:
        return sum(self.max_points.values())

    def row(self, student: str) -> Row | None:
        return next((r for r in self.rows if r.student == student), None)


def _cell_order(course: Course, assignment: str, notebook: str) -> list[str]:
    """The grade_ids of a notebook in the order of its cells (released, else source version)."""
    for step in ("release", "source"):
        path = course.path(step, ".", assignment) / f"{notebook}.ipynb"
        try:
            cells = json.loads(path.read_text())["cells"]
            break
        except (OSError, ValueError, KeyError):
            continue
    else:
        return []
    return [
        c["metadata"]["nbgrader"]["grade_id"]
        for c in cells
        if c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    ]


def _score(value: float) -> float:
    return round(float(value), 4)


def read_table(course: Course, assignment: str) -> Table:
    """The grades of every submission of ``assignment`` in the course's gradebook."""
    with course.gradebook() as gb:
        found = gb.find_assignment(assignment)
        cells: list[tuple[str, str, float]] = []  # (notebook, grade_id, max points)
        for nb in sorted(found.notebooks, key=lambda n: n.name):
            graded = {c.name: c.max_score for c in [*nb.grade_cells, *nb.task_cells]}
            order = _cell_order(course, assignment, nb.name)
            names = [g for g in order if g in graded] + sorted(set(graded) - set(order))
            cells += [(nb.name, g, graded[g]) for g in names]
        names = [g for _, g, _ in cells]
        unique = len(set(names)) == len(names)

        def column(notebook: str, grade_id: str) -> str:
            return grade_id if unique else f"{notebook}:{grade_id}"

        table = Table(
            assignment,
            [column(n, g) for n, g, _ in cells],
            {column(n, g): _score(m) for n, g, m in cells},
        )
        for sub in sorted(found.submissions, key=lambda s: s.student.id):
            parts: dict[str, float | None] = dict.fromkeys(table.columns)
            graded_any = False
            for nb in sub.notebooks:
                for grade in nb.grades:
                    key = column(nb.name, grade.name)
                    if grade.auto_score is None and grade.manual_score is None:
                        continue
                    parts[key] = _score(grade.score)
                    graded_any = True
            penalty = _score(sub.late_submission_penalty or 0.0)
            lms = read_lms(course.path("submitted", sub.student.id, assignment))
            table.rows.append(
                Row(
                    student=sub.student.id,
                    parts=parts,
                    total=_score(sub.score - penalty) if graded_any else None,
                    max=_score(sub.max_score),
                    needs_manual_grade=bool(sub.needs_manual_grade),
                    late_penalty=penalty,
                    name=_name(sub.student) or str(lms.get("name") or ""),
                    late=_late(sub, lms, found.duedate),
                    seconds_late=float(sub.total_seconds_late or 0.0),
                    submitted=f"{sub.timestamp:%Y-%m-%d %H:%M:%S} UTC" if sub.timestamp else "",
                )
            )
    return table


def _name(student) -> str:
    """A student's name as the gradebook has it ("" when it has none)."""
    return " ".join(n for n in (student.first_name, student.last_name) if n)


def _late(sub, lms: dict, duedate) -> bool | None:
    """Late: the LMS said so, or nbgrader finds the submission time after the due date (with
    the student's extension). ``None`` when neither can tell."""
    if lms.get("late") is True:
        return True
    if sub.timestamp is not None and duedate is not None:
        return sub.total_seconds_late > 0
    return False if lms.get("late") is False else None


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:g}"


#: the widest a status (with its message) or a name is shown in the printed table; the CSV has
#: the whole text
STATUS_WIDTH = 60
NAME_WIDTH = 24


def width(text: str) -> int:
    """The columns ``text`` takes in a terminal: two for a wide (CJK) character, none for a
    combining accent (``wcwidth``); its length where ``wcwidth`` cannot tell."""
    from wcwidth import wcswidth

    found = wcswidth(text)
    return found if found >= 0 else len(text)


def shorten(text: str, most: int) -> str:
    """``text`` on one line, cut to ``most`` terminal columns with "..." when longer."""
    from wcwidth import wcwidth

    text = " ".join(text.split())
    if width(text) <= most:
        return text
    out, used = [], 0
    for char in text:
        w = max(wcwidth(char), 0)
        if used + w > most - 3:
            break
        out.append(char)
        used += w
    return "".join(out).rstrip() + "..."


def _pad(text: str, size: int, left: bool) -> str:
    fill = " " * max(size - width(text), 0)
    return text + fill if left else fill + text


def format_table(table: Table, status: dict[str, str] | None = None) -> str:
    """A plain-text table: one line per student, a column per part, the total out of the max.

    A name column when the gradebook or the LMS gave names; ``status`` adds a last column (for
    example this run's errors), cut to :data:`STATUS_WIDTH` columns (the CSV has it whole).
    Widths are terminal columns, so wide (CJK) names line up.
    """
    names = any(row.name for row in table.rows)
    late = any(row.late for row in table.rows)
    header = ["student", *(["name"] if names else []), *table.columns, "total"]
    header += ["late"] if late else []
    lines = [[*header, "status"] if status else header]
    blank = [""] * names
    lines.append(
        ["(max)", *blank, *(_fmt(table.max_points[c]) for c in table.columns)]
        + [_fmt(table.max_total)]
        + [""] * late
        + ([""] if status else [])
    )
    for row in table.rows:
        line = [row.student, *([shorten(row.name, NAME_WIDTH)] if names else [])]
        line += [_fmt(row.parts[c]) for c in table.columns]
        line.append(f"{_fmt(row.total)}/{_fmt(row.max)}" if row.total is not None else "-")
        if late:
            line.append("late" if row.late else "")
        if status:
            line.append(shorten(status.get(row.student, ""), STATUS_WIDTH))
        lines.append(line)
    widths = [max(width(line[i]) for line in lines) for i in range(len(lines[0]))]
    left = {0, *([1] if names else []), *([len(header) - 1] if late else [])}
    left |= {len(lines[0]) - 1} if status else set()
    cut = status and any(shorten(m, STATUS_WIDTH) != " ".join(m.split()) for m in status.values())
    out = []
    for k, line in enumerate(lines):
        cells = [_pad(cell, w, i in left) for i, (cell, w) in enumerate(zip(line, widths))]
        out.append("  ".join(cells).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    if cut:
        out.append(
            f"(a status longer than {STATUS_WIDTH} columns is cut here; the CSV has it whole)"
        )
    return "\n".join(out)


def released_assignments(course: Course) -> list[str]:
    """The assignments in the gradebook (released at least once), sorted by name."""
    with course.gradebook() as gb:
        return sorted(a.name for a in gb.assignments)


def report(course: Course, assignments: list[str] | None = None) -> str:
    """The grade tables of the given assignments (default: every one in the gradebook), each
    followed by the problems grading found per student (tampering, timeouts, invalid files...).
    """
    names = assignments or released_assignments(course)
    if not names:
        return f"the gradebook of {course.root} holds no assignment yet"
    parts = []
    for name in names:
        table = read_table(course, name)
        title = f"{name}: {len(table.rows)} submissions, {table.max_total:g} points"
        found = {r.student: stored_problems(course, name, r.student) for r in table.rows}
        parts.append(title + "\n" + format_table(table) + format_problems(found))
    return "\n\n".join(parts)


def stored_problems(course: Course, assignment: str, student: str) -> list[str]:
    """The problems the last grading found in a student's submission, in plain words."""
    from autograder.coursedir import FINDINGS_FILE
    from autograder.findings import load

    folder = course.path("autograded", student, assignment)
    return [str(f) for f in load(folder / FINDINGS_FILE)]


def format_problems(problems: dict[str, list[str]]) -> str:
    """The "problems found" section of a report: per student, one line per problem."""
    found = {s: p for s, p in sorted(problems.items()) if p}
    if not found:
        return ""
    lines = ["", "", f"problems found ({len(found)} student{'s' * (len(found) != 1)}):"]
    for student, items in found.items():
        lines.append(f"  {student}:")
        lines += [f"    - {item}" for item in items]
    return "\n".join(lines)


def write_csv(
    table: Table,
    path: Path,
    status: dict[str, tuple[str, str]],
    problems: dict[str, list[str]] | None = None,
) -> None:
    """The grades CSV: ``student_id``, ``name``, one column per part, ``total``, ``max``,
    ``late`` (``yes``, ``no``, or empty when nothing tells), ``submitted`` (UTC), ``status``,
    ``message``, ``problems``. ``status`` maps a student of this run to (status, message); the
    other students of the gradebook are listed as "not in this run". A row without a total
    (an error: nothing could be graded) has every point empty, ``max`` included, and its status
    and message say why. ``problems``: what grading noticed per student (tampering, timeouts,
    ...), joined with "; ".
    """
    problems = problems or {}
    import csv

    path.parent.mkdir(parents=True, exist_ok=True)
    students = sorted({r.student for r in table.rows} | set(status))
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        header = ["student_id", "name", *table.columns, "total", "max", "late", "submitted"]
        writer.writerow([*header, "status", "message", "problems"])
        for student in students:
            row = table.row(student)
            state, message = status.get(student, ("not in this run", ""))
            if row is None or state == "error" or row.total is None:
                points = [""] * (len(table.columns) + 2)
                if state != "error" and not message:
                    message = "no grade: it could not be graded (see its row of that run)"
            else:
                points = [_csv(row.parts[c]) for c in table.columns]
                points += [_csv(row.total), _csv(table.max_total)]
            late = "" if row is None or row.late is None else ("yes" if row.late else "no")
            name, submitted = (row.name, row.submitted) if row else ("", "")
            found = "; ".join(problems.get(student, []))
            writer.writerow([student, name, *points, late, submitted, state, message, found])


def _csv(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def stored_status(
    course: Course, assignment: str, row: Row | None, student: str
) -> tuple[str, str]:
    """A student's (status, message) as the last grading left it, read from the course: its
    ``grading.json`` beside the autograded notebooks (autograder.grading.save_outcome), what the
    LMS download said (no notebook), and the gradebook's row."""
    kept = read_lms(course.path("submitted", student, assignment))
    try:
        state = json.loads(
            (course.path("autograded", student, assignment) / OUTCOME_FILE).read_text()
        )
    except (OSError, ValueError):
        state = {}
    note = str(kept.get("note") or "")
    if not isinstance(state, dict):
        state = {}
    if state.get("graded") is False or row is None or row.total is None:
        why = state.get("error") or kept.get("problem") or "it has no automatic score"
        return "error", str(why)
    status = "ok, needs manual grading" if row.needs_manual_grade else "ok"
    if state.get("error"):
        return "graded, feedback failed", str(state["error"])
    return status, note
