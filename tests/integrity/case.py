"""One hostile or broken submission of ps1 and what grading must make of it.

A case is built from the bundled sample class (``autograder/sample_class/ps1``): usually the
correct submission with one part made blank (so that the honest score of that part is 0) and
then tampered with, or a fault planted in one part. ``tests/integrity/make_cases.py`` writes every
case to ``tests/integrity/cases/<name>.ipynb`` (the files the suite grades); the suite checks the
stored files are what the builders make.

The suite grades the class in nbgrader's layout, from the course's own ``submitted/`` folder
(``submitted/<student>/ps1/ps1.ipynb``), so that a case may also put files and links beside its
notebook (``beside``, ``links``): written by the suite when it builds the class, not stored.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "autograder" / "sample_class" / "ps1"
CASES = Path(__file__).resolve().parent / "cases"

#: points of each test cell of ps1
POINTS = {
    "test_a_add_mul": 2,
    "test_a_max": 2,
    "test_a_exp_reciprocal": 2,
    "test_b_examples": 4,
    "test_b_more": 4,
    "test_c_visible": 3,
    "test_c_hidden": 3,
}
#: the test cells that grade each answer cell
TESTS_OF = {
    "a_add_mul": ["test_a_add_mul"],
    "a_max": ["test_a_max"],
    "a_exp_reciprocal": ["test_a_exp_reciprocal"],
    "b_backward": ["test_b_examples", "test_b_more"],
    "c_direct_indirect": ["test_c_visible", "test_c_hidden"],
}
#: seconds a cell may run in the suite's course (the course's default is 120), and the wall-time
#: budget of one notebook there (autograder.run.BoxedExecute.notebook_seconds; default 900)
CELL_TIMEOUT = 10
NOTEBOOK_SECONDS = 30
STUB = "# YOUR CODE HERE (then delete the next line)\nraise NotImplementedError()"


@dataclass
class Case:
    """``build()`` returns the submission: a notebook, or raw bytes for a broken file.

    ``parts``: the points each test cell must get (every test cell of ps1). ``kinds``: the kinds
    of :class:`autograder.findings.Finding` the report must list for it (at least these);
    ``one_of``: at least one of these kinds too (where what is reported depends on timing).
    ``error``: grading this submission must end in an error row (an invalid file).

    ``beside``: files put next to the notebook in the student's folder (path in the folder ->
    text). ``links``: symbolic links put there (path in the folder -> what it points at,
    relative to the course's root); the path ``"."`` makes the student's assignment folder
    itself a link, ``".."`` the student's folder, and a link named ``ps1.ipynb`` replaces the
    notebook. ``never_graded``: nothing of the submission may be graded (it is skipped, or an
    error row with no points).
    """

    name: str
    about: str
    build: Callable[[], nbformat.NotebookNode | bytes]
    parts: dict[str, float]
    kinds: set[str] = field(default_factory=set)
    error: bool = False
    one_of: set[str] = field(default_factory=set)
    beside: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    never_graded: bool = False

    @property
    def total(self) -> float:
        return sum(self.parts.values())

    def write(self, folder: Path) -> Path:
        made = self.build()
        path = folder / f"{self.name}.ipynb"
        if isinstance(made, bytes):
            path.write_bytes(made)
        else:
            path.write_text(dumps(made))
        return path

    def submit(self, submitted: Path, student: str, course: Path) -> Path:
        """Put this case into a course's ``submitted/`` folder as ``student``'s ps1, with its
        files and links beside the notebook; the folder it made."""
        top = submitted / student
        folder = top / "ps1"
        if ".." in self.links:
            top.symlink_to(course / self.links[".."])
            return folder
        top.mkdir(parents=True)
        if "." in self.links:
            folder.symlink_to(course / self.links["."])
            return folder
        folder.mkdir()
        if "ps1.ipynb" not in self.links:
            (folder / "ps1.ipynb").write_bytes((CASES / f"{self.name}.ipynb").read_bytes())
        for name, text in self.beside.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text)
        for name, target in self.links.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).symlink_to(course / target)
        return folder


def dumps(nb: nbformat.NotebookNode) -> str:
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def correct() -> nbformat.NotebookNode:
    """A fresh copy of the correct sample submission of ps1 (full marks)."""
    return nbformat.read(SAMPLE / "correct.ipynb", as_version=4)


def cell(nb: nbformat.NotebookNode, grade_id: str) -> nbformat.NotebookNode:
    """The (first) cell with this nbgrader grade id."""
    for c in nb.cells:
        if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return c
    raise KeyError(grade_id)


def index(nb: nbformat.NotebookNode, grade_id: str) -> int:
    return nb.cells.index(cell(nb, grade_id))


def blank(nb: nbformat.NotebookNode, answer: str) -> nbformat.NotebookNode:
    """``nb`` with the answer cell ``answer`` back to the released stub (its functions gone)."""
    c = cell(nb, answer)
    c.source = STUB
    return nb


def append(nb: nbformat.NotebookNode, answer: str, code: str) -> nbformat.NotebookNode:
    """``nb`` with ``code`` added at the end of the answer cell ``answer``."""
    c = cell(nb, answer)
    c.source = c.source.rstrip("\n") + "\n\n" + code.strip("\n")
    return nb


def free_cell(code: str) -> nbformat.NotebookNode:
    """A code cell without nbgrader metadata (as a student adds with the + button)."""
    made = nbformat.v4.new_code_cell(code)
    made.id = hashlib.sha1(code.encode()).hexdigest()[:8]  # the same file on every build
    return made


def full(**changes: float) -> dict[str, float]:
    """Full marks but for the test cells named (``full(test_a_max=0)``)."""
    unknown = set(changes) - set(POINTS)
    if unknown:
        raise KeyError(f"no test cell {unknown}")
    return {**POINTS, **changes}


def zero_for(*answers: str, **changes: float) -> dict[str, float]:
    """Full marks but 0 for every test of the answer cells named."""
    parts = dict(POINTS)
    for a in answers:
        for t in TESTS_OF[a]:
            parts[t] = 0
    parts.update(changes)
    return parts


def clone(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    return copy.deepcopy(nb)
