"""Find the submissions in a folder: nbgrader's layout, or a flat folder downloaded from an LMS.

Two layouts are recognised (``layout="auto"`` picks the one that fits):

* **nbgrader** -- ``FOLDER/<student>/<assignment>/<notebook>.ipynb`` (what ``nbgrader collect``
  and ``zip_collect`` make; ``FOLDER`` is usually the course's ``submitted/``). Every file of
  the student's folder is kept (``timestamp.txt`` too, so nbgrader can tell late work).
* **flat** -- ``FOLDER/*.ipynb``, one notebook per student, as an LMS hands them out (``FOLDER``
  may also be the ``.zip`` the LMS gave). The student id comes from the file name, without
  ``.ipynb``; the first of these rules that matches decides (:data:`NAME_RULES`):

  ==========================  ====================================================  ============
  rule                        example file name                                     student id
  ==========================  ====================================================  ============
  Blackboard                  ``ps1_jsmith_attempt_2024-10-01-09-30-00_ps1``        ``jsmith``
  Moodle                      ``Jane Smith_81234_assignsubmission_file_ps1``        ``Jane_Smith``
  Canvas                      ``smithjane_1020_6543210_ps1``,                       ``1020``
                              ``smithjane_LATE_1020_6543299_ps1-1``
  ``<id>_<number>_<any>``     ``jsmith_41321_ps1``                                  ``jsmith``
  assignment first            ``ps1_jsmith``, ``ps1-jsmith``                        ``jsmith``
  assignment last             ``jsmith_ps1``, ``jsmith-ps1``                        ``jsmith``
  plain                       ``jsmith``, ``bug_overwrite_branch``                  the whole name
  ==========================  ====================================================  ============

  **Canvas** names a file ``<sortable name>[_LATE]_<user id>_<attachment id>_<file name>``. The
  sortable name (``smithjohn``) is not unique, so the numeric Canvas user id is the student id
  and the name is kept beside it for display; ``_LATE_`` is kept as the late flag. Two files of
  one user id are a resubmission: the newest (the larger attachment id) is graded. **Moodle**
  names a file ``<full name>_<participant number>_assignsubmission_file_<file name>`` (or puts
  the files in a folder of that name: "download submissions in folders"); the id is the name,
  the same in every assignment, and the participant number (which Moodle's grading worksheet
  needs) is kept beside it; two participants of the same name get the number added to their
  ids. **Blackboard**'s attempt time becomes the submission time (``timestamp.txt``, read as
  UTC), so nbgrader's late penalty applies against the due date in the gradebook.

  An id from any other rule is cut at the first ``_<digits>_``: name plain files whose ids
  contain such a part differently, or pass your own rule: ``--student-regex`` is a Python regular
  expression that must match the whole name (without ``.ipynb``) and capture the id in a group
  ``(?P<student_id>...)`` (the convention of nbgrader's ``zip_collect``; ``{assignment}``
  stands for the assignment's name). For example ``--student-regex
  '(?P<student_id>[a-z]+\\d*)_.*'``.

  Names are read in Unicode's composed form (NFC: macOS zips ``é`` as ``e`` and an accent), then
  characters other than letters, digits, ``_``, ``.``, ``@`` and ``-`` become ``_`` in an id
  (nbgrader uses the id as a folder name and in glob patterns). When one student sent two
  notebooks, the newest is graded (the submission time or Canvas's attachment id when the
  names give one, else the last in name order) and the run says which it left out. A student
  whose files hold no notebook (a PDF, an empty folder) is a row of its own that says so, with
  the files kept in ``submitted/``. A flat folder needs an assignment with one notebook, which
  each file is renamed to.

What the LMS said that nbgrader has no place for (the name shown, the LMS's number, the late
flag, the file sent) is kept beside the submission in ``submitted/<student>/<assignment>/`` as
``lms.json`` (:data:`LMS_FILE`); the submission time, when the LMS gives one, as nbgrader's
``timestamp.txt``.
"""

from __future__ import annotations

import json
import re
import shutil
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

# (name, pattern): tried in order on the file name without ".ipynb"; {assignment} is replaced
# by the escaped assignment name. Groups other than the id: ``name`` (shown beside the id),
# ``lms_id`` (the LMS's own number), ``late``, ``order`` (a larger one is newer), ``when``.
NAME_RULES: tuple[tuple[str, str], ...] = (
    (
        "Blackboard",
        r".+?_(?P<student_id>[^_]+)_attempt_(?P<when>\d{4}(?:-\d\d){5})(?:_.*)?",
    ),
    (
        "Moodle",
        r"(?P<student_id>.+?)_(?P<lms_id>\d+)_assignsubmission_[a-z]+(?:_.*)?",
    ),
    (
        "Canvas",
        r"(?P<name>.+?)(?P<late>_late)?_(?P<student_id>\d+)_(?P<order>\d+)_.+",
    ),
    ("<id>_<number>_<any>", r"(?P<student_id>.+?)(?:_late)?_\d+_.+"),
    ("assignment first", r"{assignment}[_-](?P<student_id>.+)"),
    ("assignment last", r"(?P<student_id>.+)[_-]{assignment}"),
    ("plain", r"(?P<student_id>.+)"),
)
#: a folder of Moodle's "download submissions in folders": its files are named as if prefixed
MOODLE_FOLDER = re.compile(r".+?_\d+_assignsubmission_[a-z]+", re.IGNORECASE)
UNSAFE = re.compile(r"[^\w.@-]+")
LAYOUTS = ("auto", "nbgrader", "flat")
LMS_RULES = ("Blackboard", "Moodle", "Canvas")  # the rules that recognise an LMS's own names
LMS_FILE = "lms.json"  # beside a submission: what the LMS said (see the module's documentation)
TIMESTAMP_FILE = "timestamp.txt"  # nbgrader's: when it was submitted
#: what a zip made on macOS holds besides the files: resource forks and Finder's notes
MAC_LEFTOVERS = ("__MACOSX", ".DS_Store")


class SubmissionError(ValueError):
    """The folder cannot be read as submissions of the assignment (said in plain words)."""


@dataclass
class Identity:
    """Who sent a file, as its name says."""

    student: str  # the id nbgrader uses
    rule: str  # the name rule that matched
    name: str = ""  # the name to show beside the id, when it is not the id
    lms_id: str = ""  # the LMS's own number (Canvas user id, Moodle participant number)
    late: bool | None = None  # the LMS marked it late; None: the name does not say
    submitted_at: datetime | None = None  # when it was submitted (UTC), when the name says
    order: int | None = None  # a larger one was submitted later (Canvas's attachment id)


@dataclass
class Submission:
    """One student's submission: the files to put in ``submitted/<student>/<assignment>/``."""

    student: str
    files: dict[str, Path]  # name in the submission folder -> where it is now
    origin: str  # what the instructor recognises: the file or folder it came from
    name: str = ""  # shown beside the id (the LMS's name of the student)
    lms: str = ""  # the rule that read the file name ("Canvas", "Moodle", ...)
    lms_id: str = ""  # the LMS's own number of the student
    late: bool | None = None  # the LMS said it is late (None: it did not say)
    submitted_at: datetime | None = None  # when it was submitted (UTC), when known
    note: str = ""  # what the instructor should know (another file of the student left out)
    problem: str = ""  # why there is nothing to grade (a PDF, an empty folder); "" otherwise

    def lms_record(self) -> dict:
        """What :data:`LMS_FILE` keeps of this submission."""
        return {
            "lms": self.lms,
            "name": self.name,
            "lms_id": self.lms_id,
            "late": self.late,
            "file": self.origin,
            "note": self.note,
            "problem": self.problem,
        }


@dataclass
class Found:
    """What a folder holds: the submissions, and what was left out (with the reason)."""

    layout: str
    submissions: list[Submission] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)


def nfc(text: str) -> str:
    """``text`` in Unicode's composed form (macOS writes file names decomposed)."""
    return unicodedata.normalize("NFC", text)


def clean_id(text: str) -> str:
    """A student id nbgrader can use as a folder name: composed Unicode (NFC), unsafe characters
    become ``_``."""
    return UNSAFE.sub("_", nfc(text).strip()).strip("_")


def compile_rule(pattern: str, assignment: str) -> re.Pattern[str]:
    """A name rule for ``assignment``: ``{assignment}`` is replaced, case is ignored."""
    rule = re.compile(pattern.replace("{assignment}", re.escape(assignment)), re.IGNORECASE)
    if "student_id" not in rule.groupindex and "student" not in rule.groupindex:
        raise SubmissionError(f"the rule {pattern!r} has no group (?P<student_id>...)")
    return rule


def _stem(filename: str) -> str:
    return filename[: -len(".ipynb")] if filename.lower().endswith(".ipynb") else filename


def identify(
    filename: str, assignment: str, regex: str | None = None
) -> tuple[Identity | None, str]:
    """Who sent ``filename``, by the first name rule that matches (see the module's
    documentation), and the rule's name; ``(None, reason)`` when no rule gives an id. With
    ``regex``, only that rule is tried."""
    stem = nfc(_stem(filename))
    rules = [("--student-regex", regex)] if regex else list(NAME_RULES)
    for rule_name, pattern in rules:
        match = compile_rule(pattern, assignment).fullmatch(stem)
        if match is None:
            continue
        groups = match.groupdict()
        found = clean_id(groups.get("student_id") or groups.get("student") or "")
        if not found:
            continue
        if found.lower() == assignment.lower():
            return None, f"the name {filename!r} holds no student id"
        who = Identity(found, rule_name)
        if rule_name == "Canvas":
            who.name, who.lms_id = nfc(groups["name"]), found
            who.late, who.order = bool(groups.get("late")), int(groups["order"])
        elif rule_name == "Moodle":
            who.name, who.lms_id = nfc(groups["student_id"]).strip(), groups["lms_id"]
        elif rule_name == "Blackboard":
            who.submitted_at = datetime.strptime(groups["when"], "%Y-%m-%d-%H-%M-%S")
        return who, rule_name
    return None, f"no student id in {filename!r} (the name rule does not match)"


def student_id(
    filename: str, assignment: str, regex: str | None = None
) -> tuple[str | None, str | None]:
    """The student id in an LMS file name, and the name of the rule that found it.

    ``(None, reason)`` when no rule gives an id. With ``regex``, only that rule is tried.
    """
    who, rule = identify(filename, assignment, regex)
    return (who.student, rule) if who else (None, rule)


def _natural(text: str) -> list:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", text)]


def _is_hidden(path: Path) -> bool:
    return path.name.startswith(".") or path.name in ("__pycache__", *MAC_LEFTOVERS)


def detect_layout(folder: Path, assignment: str) -> str:
    """``"nbgrader"`` if some ``folder/<student>/<assignment>/`` exists, else ``"flat"``."""
    if any(p.is_dir() and not _is_hidden(p.parent) for p in folder.glob(f"*/{assignment}")):
        return "nbgrader"
    return "flat"


def unpack(archive: Path, into: Path) -> Path:
    """Extract an LMS's zip of submissions into ``into`` and return the folder to read.

    What macOS adds to a zip (``__MACOSX/``, ``._*`` resource forks, ``.DS_Store``) is left out.
    """
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SubmissionError(
            f"{archive} cannot be read as a zip ({exc}): download it again, or unpack it and "
            "pass the folder"
        ) from None
    with zf:
        members = []
        for member in zf.infolist():  # no absolute paths or .. in the names
            target = (into / member.filename).resolve()
            if not target.is_relative_to(into.resolve()):
                raise SubmissionError(f"{archive} holds an unsafe path: {member.filename}")
            parts = Path(member.filename).parts
            if any(p in MAC_LEFTOVERS or p.startswith("._") for p in parts):
                continue
            members.append(member)
        try:
            zf.extractall(into, members)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
            raise SubmissionError(
                f"{archive} is damaged ({exc}): download it again, or unpack what you can and "
                "pass the folder"
            ) from None
    into.mkdir(parents=True, exist_ok=True)
    entries = [p for p in into.iterdir() if not _is_hidden(p)]
    if len(entries) == 1 and entries[0].is_dir() and not MOODLE_FOLDER.fullmatch(entries[0].name):
        return entries[0]  # the zip holds one folder
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


def read_lms(folder: Path) -> dict:
    """What :data:`LMS_FILE` in a submission folder says (``{}`` when there is none)."""
    try:
        data = json.loads((Path(folder) / LMS_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _find_nbgrader(folder: Path, assignment: str) -> Found:
    found = Found("nbgrader")
    for student_dir in sorted(folder.iterdir(), key=lambda p: _natural(p.name)):
        if not student_dir.is_dir() or _is_hidden(student_dir):
            continue
        sub = student_dir / assignment
        if not sub.is_dir():
            continue
        student = clean_id(student_dir.name)
        if student != nfc(student_dir.name):
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
        kept = read_lms(sub)
        entry = Submission(
            student,
            files,
            str(sub),
            name=str(kept.get("name") or ""),
            lms=str(kept.get("lms") or ""),
            lms_id=str(kept.get("lms_id") or ""),
            late=kept.get("late") if isinstance(kept.get("late"), bool) else None,
            note=str(kept.get("note") or ""),
        )
        if not any(name.endswith(".ipynb") for name in files):
            sent = sorted(n for n in files if n not in (LMS_FILE, TIMESTAMP_FILE))
            links = sorted(str(q.relative_to(sub)) for q in sub.rglob("*") if q.is_symlink())
            if links:
                sent.append(f"links, never followed: {', '.join(links[:5])}")
            entry.problem = (
                f"no notebook: the folder holds only {', '.join(sent[:5])}"
                if sent
                else "no notebook: the folder is empty"
            )
        found.submissions.append(entry)
    return found


def _flat_files(folder: Path, found: Found) -> list[tuple[str, Path]]:
    """``(name to read, path)`` of the files of a flat folder; the files of Moodle's folders
    per participant are read as ``<folder>_<file>``."""
    out = []
    for path in sorted(folder.iterdir(), key=lambda p: _natural(p.name)):
        if _is_hidden(path):
            continue
        if path.is_symlink():
            found.skipped.append((path.name, "a link, not a file (links are never followed)"))
        elif path.is_file():
            out.append((path.name, path))
        elif path.is_dir() and MOODLE_FOLDER.fullmatch(nfc(path.name)):
            for inner in sorted(path.iterdir(), key=lambda p: _natural(p.name)):
                if _is_hidden(inner) or inner.is_symlink() or not inner.is_file():
                    continue
                out.append((f"{path.name}_{inner.name}", inner))
    return out


def _newest_last(item: tuple[Identity, str, Path]) -> tuple:
    who, name, _ = item
    when = who.submitted_at.timestamp() if who.submitted_at else float("-inf")
    order = who.order if who.order is not None else -1
    return (when, order, _natural(name))


def _find_flat(folder: Path, assignment: str, notebooks: list[str], regex: str | None) -> Found:
    if len(notebooks) != 1:
        raise SubmissionError(
            f"{assignment} has {len(notebooks)} notebooks ({', '.join(notebooks)}): a flat folder "
            "holds one notebook per student, so use nbgrader's layout "
            "(FOLDER/<student>/<assignment>/<notebook>.ipynb)"
        )
    target = f"{notebooks[0]}.ipynb"
    found = Found("flat")
    # (id, the LMS's number) -> the student's notebooks and other files
    sent: dict[tuple[str, str], list[tuple[Identity, str, Path]]] = {}
    other: dict[tuple[str, str], list[tuple[Identity, str, Path]]] = {}
    for name, path in _flat_files(folder, found):
        is_notebook = name.lower().endswith(".ipynb")
        stem = name if is_notebook else name.rsplit(".", 1)[0] if "." in name else name
        who, why = identify(stem, assignment, regex)
        if who is None:
            found.skipped.append((name, why if is_notebook else "not a notebook"))
            continue
        key = (who.student, who.lms_id)
        (sent if is_notebook else other).setdefault(key, []).append((who, name, path))
    for key, files in list(other.items()):
        # a file that is no notebook is a student's when an LMS's name says whose it is, or the
        # student sent a notebook too; otherwise (notes.txt, grades.csv) it is nobody's
        if key not in sent and files[0][0].rule not in (*LMS_RULES, "--student-regex"):
            found.skipped += [(name, "not a notebook") for _, name, _ in files]
            del other[key]
    keys = sorted(set(sent) | set(other), key=lambda k: (_natural(k[0]), k[1]))
    ids: dict[str, list[tuple[str, str]]] = {}
    for key in keys:
        ids.setdefault(key[0], []).append(key)
    for student, same in ids.items():
        for key in same:
            # two participants of one name (Moodle) are two students: the number tells them apart
            sid = clean_id(f"{student}_{key[1]}") if len(same) > 1 else student
            found.submissions.append(
                _flat_submission(sid, target, sent.get(key, []), other.get(key, []))
            )
            if len(same) > 1:
                found.submissions[-1].note = (
                    f"{len(same)} students are named {student}: this one is {sid}"
                    + (f"; {found.submissions[-1].note}" if found.submissions[-1].note else "")
                )
    return found


def _flat_submission(
    student: str,
    target: str,
    notebooks: list[tuple[Identity, str, Path]],
    others: list[tuple[Identity, str, Path]],
) -> Submission:
    """One student's submission of a flat folder: the newest notebook, or a problem."""
    if notebooks:
        ordered = sorted(notebooks, key=_newest_last)
        who, name, path = ordered[-1]
        files = {target: path}
        left = [n for _, n, _ in ordered[:-1]]
    else:
        who, name, _ = others[0]
        files = {n: p for _, n, p in others}
        left = []
    entry = Submission(
        student,
        files,
        name,
        name=who.name,
        lms=who.rule if who.rule in LMS_RULES else "",
        lms_id=who.lms_id,
        late=who.late,
        submitted_at=who.submitted_at,
    )
    if left:
        newest = (
            "newest by submission time"
            if who.submitted_at
            else "newest by Canvas's attachment number"
            if who.order is not None
            else "last in name order"
        )
        entry.note = f"{len(ordered)} notebooks sent: graded {name} ({newest}), left out " + (
            ", ".join(left)
        )
    if not notebooks:
        entry.problem = f"no notebook: sent only {', '.join(n for _, n, _ in others[:5])}"
    elif others:
        entry.note = "; ".join(
            filter(None, [entry.note, f"also sent {', '.join(n for _, n, _ in others[:5])}"])
        )
    return entry


def _linked(path: Path, top: Path) -> bool:
    """``path`` or a folder between ``top`` and it is a symbolic link."""
    while path != top and path != path.parent:
        if path.is_symlink():
            return True
        path = path.parent
    return False


def place(submission: Submission, destination: Path) -> None:
    """Put a submission's files in ``destination`` (it replaces what was there), with what the
    LMS said (:data:`LMS_FILE`) and, when the LMS gave the time, nbgrader's ``timestamp.txt``."""
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    for name, source in submission.files.items():
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    if submission.submitted_at and not (destination / TIMESTAMP_FILE).exists():
        stamp = submission.submitted_at.strftime("%Y-%m-%d %H:%M:%S.%f UTC")
        (destination / TIMESTAMP_FILE).write_text(stamp + "\n")
    record = submission.lms_record()
    if any(v not in ("", None) for k, v in record.items() if k != "file"):
        (destination / LMS_FILE).write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")
