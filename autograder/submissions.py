"""Find the submissions in a folder: nbgrader's layout, or a flat folder downloaded from an LMS.

Two layouts are recognised (``layout="auto"`` picks the one that fits):

* **nbgrader** -- ``FOLDER/<student>/<assignment>/<notebook>.ipynb`` (what ``nbgrader collect``
  and ``zip_collect`` make; ``FOLDER`` is usually the course's ``submitted/``). Every file of
  the student's folder is kept (``timestamp.txt`` too, so nbgrader can tell late work).
* **flat** -- ``FOLDER/*.ipynb``, one notebook per student, as an LMS hands them out (``FOLDER``
  may also be the ``.zip`` the LMS gave). The student id comes from the file name, without
  ``.ipynb``; the first of these rules that matches decides (:data:`NAME_RULES`):

  ==========================  =================================================  ==============
  rule                        example file name                                  student id
  ==========================  =================================================  ==============
  Blackboard                  ``ps1_jsmith_attempt_2024-10-01-09-30-00_ps1``     ``jsmith``
  Canvas, Moodle              ``smithjane_LATE_41321_2741_ps1``                  ``smithjane``
  (``<id>_<number>_<any>``)   ``Jane Smith_81234_assignsubmission_file_ps1``     ``Jane_Smith``
  assignment first            ``ps1_jsmith``, ``ps1-jsmith``                     ``jsmith``
  assignment last             ``jsmith_ps1``, ``jsmith-ps1``                     ``jsmith``
  plain                       ``jsmith``, ``bug_overwrite_branch``               the whole name
  ==========================  =================================================  ==============

  So an id is cut at the first ``_<digits>_``: name plain files whose ids contain such a part
  differently, or pass your own rule: ``--student-regex`` is a Python regular expression that
  must match the whole name (without ``.ipynb``) and capture the id in a group
  ``(?P<student_id>...)`` (the convention of nbgrader's ``zip_collect``; ``{assignment}``
  stands for the assignment's name). For example ``--student-regex
  '(?P<student_id>[a-z]+\\d*)_.*'``.

  Characters other than letters, digits, ``_``, ``.``, ``@`` and ``-`` become ``_`` in an id
  (nbgrader uses the id as a folder name and in glob patterns). When two files give the same id
  (a resubmission), the last in name order is graded and a warning says so. A flat folder needs
  an assignment with one notebook, which each file is renamed to.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

# (name, pattern): tried in order on the file name without ".ipynb"; {assignment} is replaced
# by the escaped assignment name
NAME_RULES: tuple[tuple[str, str], ...] = (
    ("Blackboard", r".+?_(?P<student_id>[^_]+)_attempt_\d{4}(?:-\d\d){5}(?:_.*)?"),
    ("Canvas, Moodle", r"(?P<student_id>.+?)(?:_late)?_\d+_.+"),
    ("assignment first", r"{assignment}[_-](?P<student_id>.+)"),
    ("assignment last", r"(?P<student_id>.+)[_-]{assignment}"),
    ("plain", r"(?P<student_id>.+)"),
)
UNSAFE = re.compile(r"[^\w.@-]+")
LAYOUTS = ("auto", "nbgrader", "flat")


class SubmissionError(ValueError):
    """The folder cannot be read as submissions of the assignment (said in plain words)."""


@dataclass
class Submission:
    """One student's submission: the files to put in ``submitted/<student>/<assignment>/``."""

    student: str
    files: dict[str, Path]  # name in the submission folder -> where it is now
    origin: str  # what the instructor recognises: the file or folder it came from


@dataclass
class Found:
    """What a folder holds: the submissions, and what was left out (with the reason)."""

    layout: str
    submissions: list[Submission] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)


def clean_id(text: str) -> str:
    """A student id nbgrader can use as a folder name: unsafe characters become ``_``."""
    return UNSAFE.sub("_", text.strip()).strip("_")


def compile_rule(pattern: str, assignment: str) -> re.Pattern[str]:
    """A name rule for ``assignment``: ``{assignment}`` is replaced, case is ignored."""
    rule = re.compile(pattern.replace("{assignment}", re.escape(assignment)), re.IGNORECASE)
    if "student_id" not in rule.groupindex and "student" not in rule.groupindex:
        raise SubmissionError(f"the rule {pattern!r} has no group (?P<student_id>...)")
    return rule


def student_id(
    filename: str, assignment: str, regex: str | None = None
) -> tuple[str | None, str | None]:
    """The student id in an LMS file name, and the name of the rule that found it.

    ``(None, reason)`` when no rule gives an id. With ``regex``, only that rule is tried.
    """
    stem = filename[: -len(".ipynb")] if filename.lower().endswith(".ipynb") else filename
    rules = [("--student-regex", regex)] if regex else list(NAME_RULES)
    for name, pattern in rules:
        match = compile_rule(pattern, assignment).fullmatch(stem)
        if match is None:
            continue
        groups = match.groupdict()
        found = clean_id(groups.get("student_id") or groups.get("student") or "")
        if not found:
            continue
        if found.lower() == assignment.lower():
            return None, f"the name {filename!r} holds no student id"
        return found, name
    return None, f"no student id in {filename!r} (the name rule does not match)"


def _natural(text: str) -> list:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", text)]


def _is_hidden(path: Path) -> bool:
    return path.name.startswith(".") or path.name == "__pycache__"


def detect_layout(folder: Path, assignment: str) -> str:
    """``"nbgrader"`` if some ``folder/<student>/<assignment>/`` exists, else ``"flat"``."""
    if any(p.is_dir() for p in folder.glob(f"*/{assignment}")):
        return "nbgrader"
    return "flat"


def unpack(archive: Path, into: Path) -> Path:
    """Extract an LMS's zip of submissions into ``into`` and return the folder to read."""
    with zipfile.ZipFile(archive) as zf:
        for member in zf.infolist():  # no absolute paths or .. in the names
            target = (into / member.filename).resolve()
            if not target.is_relative_to(into.resolve()):
                raise SubmissionError(f"{archive} holds an unsafe path: {member.filename}")
        zf.extractall(into)
    entries = [p for p in into.iterdir() if not _is_hidden(p) and p.name != "__MACOSX"]
    if len(entries) == 1 and entries[0].is_dir():  # the zip holds one folder
        return entries[0]
    return into


def find(
    folder: str | Path,
    assignment: str,
    notebooks: list[str],
    layout: str = "auto",
    regex: str | None = None,
) -> Found:
    """The submissions of ``assignment`` in ``folder`` (see the module's documentation).

    ``notebooks`` are the names of the assignment's notebooks (without ``.ipynb``).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise SubmissionError(f"{folder} is not a folder")
    if layout == "auto":
        layout = detect_layout(folder, assignment)
    if layout == "nbgrader":
        return _find_nbgrader(folder, assignment)
    if layout == "flat":
        return _find_flat(folder, assignment, notebooks, regex)
    raise SubmissionError(f"unknown layout {layout!r}: use one of {', '.join(LAYOUTS)}")


def _find_nbgrader(folder: Path, assignment: str) -> Found:
    found = Found("nbgrader")
    for student_dir in sorted(folder.iterdir(), key=lambda p: _natural(p.name)):
        if not student_dir.is_dir() or _is_hidden(student_dir):
            continue
        sub = student_dir / assignment
        if not sub.is_dir():
            continue
        student = clean_id(student_dir.name)
        if student != student_dir.name:
            found.skipped.append((str(student_dir), f"the id is not usable; rename it {student}"))
            continue
        if student_dir.is_symlink() or sub.is_symlink():  # it could be the course's own folder
            found.skipped.append((str(sub), "a link, not a folder (links are never followed)"))
            continue
        files = {
            str(p.relative_to(sub)): p
            for p in sorted(sub.rglob("*"))
            if p.is_file()
            and not _linked(p, sub)
            and not any(_is_hidden(q) for q in p.relative_to(sub).parents)
            and not _is_hidden(p)
        }
        if not any(name.endswith(".ipynb") for name in files):
            found.skipped.append((str(sub), "no notebook in the folder"))
            continue
        found.submissions.append(Submission(student, files, str(sub)))
    return found


def _find_flat(folder: Path, assignment: str, notebooks: list[str], regex: str | None) -> Found:
    if len(notebooks) != 1:
        raise SubmissionError(
            f"{assignment} has {len(notebooks)} notebooks ({', '.join(notebooks)}): a flat folder "
            "holds one notebook per student, so use nbgrader's layout "
            "(FOLDER/<student>/<assignment>/<notebook>.ipynb)"
        )
    target = f"{notebooks[0]}.ipynb"
    found = Found("flat")
    by_student: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir(), key=lambda p: _natural(p.name)):
        if _is_hidden(path) or not path.is_file():
            continue
        if path.is_symlink():
            found.skipped.append((path.name, "a link, not a file (links are never followed)"))
            continue
        if not path.name.lower().endswith(".ipynb"):
            found.skipped.append((path.name, "not a notebook"))
            continue
        student, why = student_id(path.name, assignment, regex)
        if student is None:
            found.skipped.append((path.name, why or "no student id"))
            continue
        by_student.setdefault(student, []).append(path)
    for student, paths in sorted(by_student.items()):
        chosen = paths[-1]
        for other in paths[:-1]:
            found.skipped.append((other.name, f"{student} also sent {chosen.name} (graded)"))
        found.submissions.append(Submission(student, {target: chosen}, chosen.name))
    return found


def _linked(path: Path, top: Path) -> bool:
    """``path`` or a folder between ``top`` and it is a symbolic link."""
    while path != top and path != path.parent:
        if path.is_symlink():
            return True
        path = path.parent
    return False


def place(submission: Submission, destination: Path) -> None:
    """Put a submission's files in ``destination`` (it replaces what was there)."""
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    for name, source in submission.files.items():
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
