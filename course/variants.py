"""Per-student variants: the numbers of an assignment made from the student's id.

nbgrader releases one notebook for the whole class, so a student's own numbers are chosen when
the notebook runs, from the student's id:

* in the student's kernel, :func:`use` takes the id the notebook states (``STUDENT_ID = "..."``),
  else the one the grader gives the kernel while grading (:data:`GRADER_ENV`), else the
  JupyterHub login (:data:`HUB_ENV`, nbgrader's student id on a hub); with none of these it
  says how to state one and gives the *example* variant (the lectures' numbers), for trying
  things;
* in the grader, :func:`grading` sets the id of the submission being graded (the name of its
  folder in ``submitted/``), whatever the notebook states: the tests build their cases from
  that id, and :func:`check_stated` fails, naming both ids, a notebook that was answered for
  another one.

A support module's case builders take their numbers from :func:`current` (``.seed``,
``.rng(purpose)``). The seed is a SHA-256 of :data:`SALT`, the assignment and the id, the same
on every machine and in every Python (never ``hash()``, which changes per process). The seed
only makes inputs: a student sees their own anyway, and the reference answers stay in the
grader, so the salt is not a secret. Change it for a new offering of the course so that last
term's numbers fit nobody.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

#: mixed into every seed; a new value for each offering of the course
SALT = "backprop-course"
#: the id the grader gives the student's kernel while grading (autograder/run.py)
GRADER_ENV = "BACKPROP_STUDENT_ID"
#: the login on JupyterHub, which is also nbgrader's student id there
HUB_ENV = "JUPYTERHUB_USER"

HOW_TO_STATE = (
    'write your student id in the cell above, as STUDENT_ID = "your id" (on the course\'s '
    "JupyterHub your login is used without it; from an LMS, the id your instructor gave you), "
    "then run the notebook again"
)


def normalize(student_id: object) -> str:
    """An id as compared: text, composed Unicode, no surrounding spaces, case ignored, and
    every character but letters, digits and ``_ . @ -`` read as ``_``, as the grader makes ids
    of LMS file names (a Moodle student who writes "Jane Smith" is ``Jane_Smith`` there)."""
    text = unicodedata.normalize("NFC", str(student_id)).strip().casefold()
    return re.sub(r"[^\w.@-]", "_", text)


def variant_seed(student_id: str, assignment: str, salt: str = SALT) -> int:
    """The seed of a student's variant: 64 bits of SHA-256 of salt, assignment and id."""
    text = f"{salt}\n{assignment}\n{normalize(student_id)}".encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "big")


def variant_code(seed: int) -> str:
    """A short code of a variant, to compare two notebooks at a glance (``K7QFX``)."""
    letters = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
    code = ""
    for _ in range(5):
        seed, k = divmod(seed, len(letters))
        code += letters[k]
    return code


@dataclass(frozen=True)
class Variant:
    """One student's variant of one assignment. ``student_id`` is "" for the example variant;
    ``source`` says where the id came from."""

    assignment: str
    student_id: str
    source: str

    @property
    def example(self) -> bool:
        return not self.student_id

    @property
    def seed(self) -> int:
        return variant_seed(self.student_id, self.assignment)

    @property
    def code(self) -> str:
        return "EXAMPLE" if self.example else variant_code(self.seed)

    def rng(self, purpose: int | str) -> np.random.Generator:
        """A generator for one use of the variant (``purpose``: what it makes, e.g. a case
        number): two purposes give independent numbers."""
        mix = int.from_bytes(hashlib.sha256(f"{self.seed}:{purpose}".encode()).digest()[:8], "big")
        return np.random.default_rng(mix)

    def describe(self) -> str:
        if self.example:
            return (
                "Your variant: EXAMPLE (no student id known). These are the lectures' numbers, "
                f"for trying things; your graded work uses your own: {HOW_TO_STATE}."
            )
        return f"Your variant: {self.code} (student id: {self.student_id}, {self.source})"


@dataclass
class _Grading:
    student_id: str
    classmates: tuple[str, ...]


_USED: dict[str, Variant] = {}  # in the kernel: the variant each assignment's notebook uses
_GRADING: list[_Grading] = []  # in the grader: the submission being graded


def resolve(assignment: str, stated: str = "") -> Variant:
    """The variant the student's kernel uses: the stated id, the grader's, the hub login, or
    the example."""
    if not isinstance(stated, str):
        raise TypeError(
            f'STUDENT_ID must be text in quotes, like STUDENT_ID = "jsmith", not a '
            f"{type(stated).__name__}"
        )
    if stated.strip():
        return Variant(assignment, stated.strip(), "stated in the notebook")
    if os.environ.get(GRADER_ENV, "").strip():
        return Variant(assignment, os.environ[GRADER_ENV].strip(), "the submission's id")
    if os.environ.get(HUB_ENV, "").strip():
        return Variant(assignment, os.environ[HUB_ENV].strip(), "your JupyterHub login")
    return Variant(assignment, "", "none")


def use(assignment: str, stated: str = "") -> Variant:
    """In the notebook: choose the variant (see :func:`resolve`), print it, and return it."""
    variant = resolve(assignment, stated)
    _USED[assignment] = variant
    print(variant.describe())
    hub = os.environ.get(HUB_ENV, "").strip()
    if stated.strip() and hub and normalize(hub) != normalize(stated):
        print(
            f"Careful: you are logged in as {hub!r} but STUDENT_ID says {stated.strip()!r}. "
            "Your work is graded with the variant of the id it is submitted under."
        )
    return variant


def current(assignment: str) -> Variant:
    """The variant the cases are made from: in the grader the submission's (:func:`grading`),
    in the kernel the one :func:`use` chose (else what :func:`resolve` finds)."""
    if _GRADING:
        return Variant(assignment, _GRADING[-1].student_id, "the submission's id")
    return _USED.get(assignment) or resolve(assignment)


@contextlib.contextmanager
def grading(student_id: str, classmates: Sequence[str] = ()) -> Iterator[Variant]:
    """In the grader, while one submission is graded: cases use ``student_id``'s variant;
    ``classmates`` (the other ids of the class) let a check name whose numbers were copied."""
    _GRADING.append(_Grading(student_id, tuple(c for c in classmates if c != student_id)))
    try:
        yield Variant("", student_id, "the submission's id")
    finally:
        _GRADING.pop()


#: how every message of a notebook answered for another id begins (autograder/findings.py)
OTHER_VARIANT = "this notebook was answered for the variant of student id"


def other_variant_message(answered_for: str, submitted_as: str) -> str:
    """The words of a failed check of a notebook answered for ``answered_for``'s variant."""
    return (
        f"{OTHER_VARIANT} {answered_for}, but it was "
        f"submitted as {submitted_as}: the numbers of each student's variant come from their "
        "own id, so these answers cannot count for this submission"
    )


def check_stated(assignment: str, stated: object) -> None:
    """Fail when the notebook states an id other than the one it is graded under (in the
    kernel, where nothing is being graded, a stated id is the one in use: nothing to check)."""
    __tracebackhide__ = True
    from course.checks import CheckFailure

    # the grader's id; in a kernel of plain nbgrader autograde, the one it was given
    graded = _GRADING[-1].student_id if _GRADING else os.environ.get(GRADER_ENV, "").strip()
    if not graded:
        return
    if not isinstance(stated, str):  # a number or a list would switch this check off
        raise CheckFailure(
            f'STUDENT_ID should be your id as text, in quotes (or "" to leave it unstated), '
            f"but it is {type(stated).__name__} {str(stated)[:60]!r}. Write STUDENT_ID = "
            f'"{graded}" and run the notebook again.',
            name="STUDENT_ID",
            problem="other_variant",
        )
    if not stated.strip():
        return
    if normalize(stated) != normalize(graded):
        raise CheckFailure(
            other_variant_message(stated.strip(), graded),
            name="STUDENT_ID",
            problem="other_variant",
        )


def whose(assignment: str, fits: Callable[[Variant], bool]) -> str | None:
    """In the grader: the classmate whose variant ``fits`` (answers made for it), or None."""
    if not _GRADING:
        return None
    for other in _GRADING[-1].classmates:
        if fits(Variant(assignment, other, "a classmate's id")):
            return other
    return None
