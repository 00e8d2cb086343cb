"""The grade table of an assignment, read from nbgrader's gradebook (the one source of truth)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from autograder.coursedir import Course


@dataclass
class Row:
    """One student's grades of one assignment."""

    student: str
    parts: dict[str, float | None]  # column -> points (None: not graded)
    total: float | None
    max: float
    needs_manual_grade: bool = False
    late_penalty: float = 0.0


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
            table.rows.append(
                Row(
                    student=sub.student.id,
                    parts=parts,
                    total=_score(sub.score - penalty) if graded_any else None,
                    max=_score(sub.max_score),
                    needs_manual_grade=bool(sub.needs_manual_grade),
                    late_penalty=penalty,
                )
            )
    return table


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:g}"


def format_table(table: Table, status: dict[str, str] | None = None) -> str:
    """A plain-text table: one line per student, a column per part, the total out of the max.

    ``status`` adds a last column (for example this run's errors).
    """
    header = ["student", *table.columns, "total"]
    lines = [[*header, "status"] if status else header]
    lines.append(
        ["(max)", *(_fmt(table.max_points[c]) for c in table.columns), _fmt(table.max_total)]
        + ([""] if status else [])
    )
    for row in table.rows:
        line = [row.student, *(_fmt(row.parts[c]) for c in table.columns)]
        line.append(f"{_fmt(row.total)}/{_fmt(row.max)}")
        if status:
            line.append(status.get(row.student, ""))
        lines.append(line)
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    out = []
    for k, line in enumerate(lines):
        cells = [
            cell.ljust(w) if i == 0 or i == len(line) - 1 and status else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths))
        ]
        out.append("  ".join(cells).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
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
    """The grades CSV: ``student_id``, one column per part, ``total``, ``max``, ``status``,
    ``message``, ``problems``. ``status`` maps a student of this run to (status, message); the
    other students of the gradebook are listed as "not in this run". An error row has empty
    points. ``problems``: what grading noticed per student (tampering, timeouts, ...), joined
    with "; ".
    """
    problems = problems or {}
    import csv

    path.parent.mkdir(parents=True, exist_ok=True)
    students = sorted({r.student for r in table.rows} | set(status))
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        header = ["student_id", *table.columns, "total", "max", "status", "message", "problems"]
        writer.writerow(header)
        for student in students:
            row = table.row(student)
            state, message = status.get(student, ("not in this run", ""))
            if row is None or state == "error":
                points = [""] * len(table.columns) + [""]
            else:
                points = [_csv(row.parts[c]) for c in table.columns] + [_csv(row.total)]
            found = "; ".join(problems.get(student, []))
            writer.writerow([student, *points, _csv(table.max_total), state, message, found])


def _csv(value: float | None) -> str:
    return "" if value is None else f"{value:g}"
