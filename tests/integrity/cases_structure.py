"""Cases 1, 2 and 11 of the integrity suite: tampering with the notebook's structure, and files
that are not a gradable notebook.

Tampering (1, 2): the correct ps1 submission with the attacked part blank (its honest score is
0), then its test cell edited, deleted, moved or duplicated, or the nbgrader metadata of a cell
changed. :mod:`autograder.integrity` puts the structure back before nbgrader grades, so each
scores what the honest code deserves and the report says "tampering". Where the attack is on
the metadata rather than a test (points raised, an answer cell locked, a test moved before an
honest answer), the part is correct and must earn exactly its points.

Invalid files (11): each ends in an error row with nothing graded and the finding "invalid".
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat

from tests.integrity.case import (
    POINTS,
    ROOT,
    Case,
    blank,
    cell,
    clone,
    correct,
    dumps,
    free_cell,
    full,
    index,
    zero_for,
)

NOTHING = dict.fromkeys(POINTS, 0)
PS2_CORRECT = ROOT / "autograder" / "sample_class" / "ps2" / "correct.ipynb"


# -- 1. test cells edited, deleted, moved, duplicated --------------------------------------------


def edit_test_to_pass():
    nb = blank(correct(), "a_max")
    cell(nb, "test_a_max").source = "pass"
    return nb


def delete_tests():
    nb = blank(correct(), "b_backward")
    del nb.cells[index(nb, "test_b_more")]
    del nb.cells[index(nb, "test_b_examples")]
    return nb


def move_test_to_top():
    """The blank part's test moved above everything (before the setup cell)."""
    nb = blank(correct(), "a_max")
    moved = nb.cells.pop(index(nb, "test_a_max"))
    nb.cells.insert(0, moved)
    return nb


def move_test_before_answer():
    """An honest, correct answer whose test was moved above it: put back, it passes."""
    nb = correct()
    moved = nb.cells.pop(index(nb, "test_a_exp_reciprocal"))
    nb.cells.insert(index(nb, "a_exp_reciprocal"), moved)
    return nb


def duplicate_test():
    """A copy of the test cell, same grade id, its source ``pass``, right after the original
    (nbgrader's own DeduplicateIds keeps the *last* cell of a grade id)."""
    nb = blank(correct(), "a_max")
    copy = clone(cell(nb, "test_a_max"))
    copy.source = "pass"
    copy.id = "test-a-max-copy"
    nb.cells.insert(index(nb, "test_a_max") + 1, copy)
    return nb


# -- 2. cell metadata edited ---------------------------------------------------------------------


def points_raised():
    """A correct part whose test claims 100 points instead of 2: it earns 2."""
    nb = correct()
    cell(nb, "test_a_add_mul").metadata.nbgrader.points = 100
    return nb


def points_raised_blank():
    """The blank part's tests claim 40 points each."""
    nb = blank(correct(), "b_backward")
    for gid in ("test_b_examples", "test_b_more"):
        cell(nb, gid).metadata.nbgrader.points = 40
    return nb


def mark_test_not_graded():
    nb = blank(correct(), "a_max")
    meta = cell(nb, "test_a_max").metadata.nbgrader
    meta.grade = False
    del meta["points"]
    return nb


def unlock_and_empty_tests():
    """The test cell unlocked (so nbgrader's checksum would not restore it) and emptied."""
    nb = blank(correct(), "c_direct_indirect")
    for gid in ("test_c_visible", "test_c_hidden"):
        c = cell(nb, gid)
        c.metadata.nbgrader.locked = False
        c.metadata.pop("editable", None)
        c.source = "# nothing to test here\n"
    return nb


def solution_locked():
    """A correct answer cell marked as locked (nbgrader would overwrite it with the stub)."""
    nb = correct()
    c = cell(nb, "a_max")
    c.metadata.nbgrader.locked = True
    c.metadata.editable = False
    return nb


def schema_version_changed():
    """Every nbgrader cell claims schema version 99 (nbgrader refuses such a notebook)."""
    nb = blank(correct(), "a_max")
    for c in nb.cells:
        if "nbgrader" in c.metadata:
            c.metadata.nbgrader.schema_version = 99
    return nb


def extra_graded_cell():
    """A cell the student added, claiming a grade id ps1 does not have, with 50 points."""
    nb = correct()
    extra = free_cell("pass  # a bonus test that always passes")
    extra.id = "bonus-test"  # fixed, so that the stored file does not change
    extra.metadata.nbgrader = {
        "grade": True,
        "grade_id": "test_bonus",
        "locked": True,
        "points": 50,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    nb.cells.insert(index(nb, "outro"), extra)
    return nb


# -- 11. invalid files ---------------------------------------------------------------------------


def truncated_json() -> bytes:
    text = dumps(correct())
    return text[: len(text) // 2].encode()


def nbformat_99() -> bytes:
    raw = json.loads(dumps(correct()))
    raw["nbformat"] = 99
    return (json.dumps(raw, indent=1, sort_keys=True) + "\n").encode()


def text_file() -> bytes:
    """The answers pasted into a text file, renamed ps1.ipynb."""
    answers = [cell(correct(), gid).source for gid in ("a_add_mul", "a_max", "b_backward")]
    return ("my answers for ps1\n\n" + "\n\n\n".join(answers) + "\n").encode()


def empty_file() -> bytes:
    return b""


def other_assignment():
    """The correct ps2 notebook, submitted as ps1."""
    return nbformat.read(Path(PS2_CORRECT), as_version=4)


def no_metadata():
    """The correct ps1 answers, with every cell's nbgrader metadata removed (as a copy of the
    cells into a new notebook has)."""
    nb = correct()
    for c in nb.cells:
        c.metadata.pop("nbgrader", None)
        c.metadata.pop("editable", None)
        c.metadata.pop("deletable", None)
    return nb


CASES = [
    Case(
        "test_edited_to_pass",
        "a_max blank, its test cell's source replaced by `pass`",
        edit_test_to_pass,
        zero_for("a_max"),
        {"tampering"},
    ),
    Case(
        "test_deleted",
        "b_backward blank, both its test cells deleted",
        delete_tests,
        zero_for("b_backward"),
        {"tampering"},
    ),
    Case(
        "test_moved_to_top",
        "a_max blank, its test cell moved to the top of the notebook",
        move_test_to_top,
        zero_for("a_max"),
        {"tampering"},
    ),
    Case(
        "test_moved_before_answer",
        "all correct, the test of exp/reciprocal moved above its answer (put back, it passes)",
        move_test_before_answer,
        full(),
        {"tampering"},
    ),
    Case(
        "test_duplicated",
        "a_max blank, a `pass` copy of its test cell with the same grade id after it",
        duplicate_test,
        zero_for("a_max"),
        {"tampering"},
    ),
    Case(
        "points_raised",
        "all correct, test_a_add_mul's points raised from 2 to 100",
        points_raised,
        full(),
        {"tampering"},
    ),
    Case(
        "points_raised_blank",
        "b_backward blank, its tests' points raised to 40 each",
        points_raised_blank,
        zero_for("b_backward"),
        {"tampering"},
    ),
    Case(
        "test_not_graded",
        "a_max blank, its test cell marked as not graded (no points)",
        mark_test_not_graded,
        zero_for("a_max"),
        {"tampering"},
    ),
    Case(
        "test_unlocked_and_edited",
        "direct_indirect blank, its test cells unlocked and emptied",
        unlock_and_empty_tests,
        zero_for("c_direct_indirect"),
        {"tampering"},
    ),
    Case(
        "solution_locked",
        "all correct, the answer cell a_max marked as locked",
        solution_locked,
        full(),
        {"tampering"},
    ),
    Case(
        "schema_version_changed",
        "a_max blank, every cell's nbgrader schema version changed to 99",
        schema_version_changed,
        zero_for("a_max"),
        {"tampering"},
    ),
    Case(
        "extra_graded_cell",
        "all correct, plus a cell claiming grade id test_bonus worth 50 points",
        extra_graded_cell,
        full(),
        {"tampering"},
    ),
    Case(
        "invalid_truncated_json",
        "the notebook's JSON cut off halfway",
        truncated_json,
        NOTHING,
        {"invalid"},
        error=True,
    ),
    Case(
        "invalid_nbformat_99",
        "a notebook claiming nbformat version 99",
        nbformat_99,
        NOTHING,
        {"invalid"},
        error=True,
    ),
    Case(
        "invalid_text_file",
        "a plain text file of answers renamed ps1.ipynb",
        text_file,
        NOTHING,
        {"invalid"},
        error=True,
    ),
    Case("invalid_empty", "an empty file (0 bytes)", empty_file, NOTHING, {"invalid"}, error=True),
    Case(
        "invalid_other_assignment",
        "the correct ps2 notebook submitted as ps1",
        other_assignment,
        NOTHING,
        {"invalid"},
        error=True,
    ),
    Case(
        "invalid_no_metadata",
        "the correct ps1 answers with all nbgrader metadata removed",
        no_metadata,
        NOTHING,
        {"invalid"},
        error=True,
    ),
]
