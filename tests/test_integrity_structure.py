"""Tests of autograder.integrity: reading a submitted notebook and putting it back into the
assignment's structure (cases 1, 2 and 11 of the integrity suite, and the honest notebooks that
must pass untouched). No kernels, but for one slow test that grades repaired notebooks with
nbgrader."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbgrader.nbgraderformat import MetadataValidator

from autograder import integrity
from autograder.integrity import (
    InvalidSubmission,
    grade_ids,
    read_submission,
    released_answer,
    repair_submission,
    restore_structure,
    without_hidden_tests,
)
from tests.integrity.case import CASES as CASE_FOLDER
from tests.integrity.case import cell, correct, free_cell, index
from tests.integrity.cases_structure import CASES
from tests.integrity.make_cases import stale

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "source_assignments"
SAMPLES = ROOT / "autograder" / "sample_class"
REFERENCE = SOURCES / "ps1" / "ps1.ipynb"
TAMPERED = [c for c in CASES if not c.error]
INVALID = [c for c in CASES if c.error]

#: words each case's findings must hold (all of kind "tampering")
SAID = {
    "test_edited_to_pass": ["test cell test_a_max was edited"],
    "test_deleted": ["test cell test_b_examples was deleted", "test cell test_b_more was deleted"],
    "test_moved_to_top": ["test cell test_a_max was moved"],
    "test_moved_before_answer": ["test cell test_a_exp_reciprocal was moved"],
    "test_duplicated": ["test cell test_a_max appears twice (the copy was dropped)"],
    "points_raised": ["points of test_a_add_mul changed from 2 to 100"],
    "points_raised_blank": ["points of test_b_examples changed from 4 to 40"],
    "test_not_graded": ["test cell test_a_max was marked as not graded"],
    "test_unlocked_and_edited": [
        "test cell test_c_hidden was unlocked",
        "test_c_visible was edited",
    ],
    "solution_locked": ["answer cell a_max was marked as locked (unlocked)"],
    "schema_version_changed": ["nbgrader schema version changed to 99"],
    "extra_graded_cell": ["'test_bonus' with 50 points, which ps1 does not have"],
}
#: words the error of each invalid case must hold
INVALID_WORDS = {
    "invalid_truncated_json": ["not valid JSON", "cut off"],
    "invalid_nbformat_99": ["version 99", "version 4"],
    "invalid_text_file": ["plain text", "my answers for ps1"],
    "invalid_empty": ["empty (0 bytes)"],
    "invalid_other_assignment": ["another assignment", "ps2", "a_sigmoid"],
    "invalid_no_metadata": ["no nbgrader metadata", "released ps1.ipynb"],
}


def reference(assignment: str = "ps1") -> nbformat.NotebookNode:
    return nbformat.read(SOURCES / assignment / f"{assignment}.ipynb", as_version=4)


def meta(c) -> dict:
    return dict(c.metadata.get("nbgrader", {}))


def stored(case) -> Path:
    return CASE_FOLDER / f"{case.name}.ipynb"


def submit(tmp_path: Path, source: Path | bytes | nbformat.NotebookNode) -> Path:
    """A submission folder holding ``ps1.ipynb`` made of ``source``."""
    folder = tmp_path / "submitted"
    folder.mkdir(exist_ok=True)
    path = folder / "ps1.ipynb"
    if isinstance(source, Path):
        shutil.copy(source, path)
    elif isinstance(source, bytes):
        path.write_bytes(source)
    else:
        nbformat.write(source, path, version=4)
    return folder


def repair(tmp_path: Path, source) -> tuple[nbformat.NotebookNode, list]:
    folder = submit(tmp_path, source)
    found = repair_submission(folder, SOURCES / "ps1", ["ps1"], "ps1")
    return nbformat.read(folder / "ps1.ipynb", as_version=4), found


def assert_structure(nb: nbformat.NotebookNode, ref: nbformat.NotebookNode) -> None:
    """``nb`` has the reference's identified cells in order, with its metadata and, for locked
    cells, its source; and nbgrader's own validation accepts it."""
    assert grade_ids(nb) == grade_ids(ref)
    for gid in grade_ids(ref):
        got, want = cell(nb, gid), cell(ref, gid)
        expected = {**meta(want), "cell_type": want.cell_type}
        assert {k: v for k, v in meta(got).items() if k != "checksum"} == expected, gid
        assert got.cell_type == want.cell_type
        if meta(want)["locked"]:
            assert got.source == want.source, gid
    MetadataValidator().validate_nb(nb)  # nbgrader's CheckCellMetadata
    nbformat.validate(nb)


def test_case_files_are_up_to_date():
    mine = {f"{c.name}.ipynb" for c in CASES}
    assert not set(stale(CASES)) & mine, "run: python -m tests.integrity.make_cases"


# -- 11. invalid files ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", INVALID, ids=[c.name for c in INVALID])
def test_invalid_case_is_refused_with_a_reason(case, tmp_path):
    folder = submit(tmp_path, stored(case))
    with pytest.raises(InvalidSubmission) as info:
        repair_submission(folder, SOURCES / "ps1", ["ps1"], "ps1")
    message = str(info.value)
    for words in INVALID_WORDS[case.name]:
        assert words in message
    assert info.value.finding.kind == "invalid"
    assert info.value.finding.where == "ps1.ipynb"
    assert info.value.finding.message == message
    assert "\n" not in message and len(message) < 300
    assert "submit" in message.lower()  # says how to fix it
    assert (folder / "ps1.ipynb").read_bytes() == stored(case).read_bytes()  # left as it was


@pytest.mark.parametrize(
    "content, words",
    [
        (b"[1, 2, 3]", "JSON but not a notebook (a JSON list"),
        (b"[" * 100_000 + b"]" * 100_000, "nested thousands of levels deep"),
        (
            b'{"name": "ps1", "answers": []}',
            "JSON but not a notebook (a JSON object with keys name",
        ),
        (b"   \n\n  ", "only blank space"),
        (b"PK\x03\x04\x14\x00\x00\x08\xff\xfe", "not text (it starts with bytes"),
        (b'{"cells": [], "metadata": {}, "nbformat": "4"}', "nbformat version '4'"),
        (b'{"cells": [], "metadata": {}, "nbformat": 2}', "nbformat version 2"),
        (b'{"cells": [1], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}', "ps1.ipynb"),
        (b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5,}', "line 1 column"),
    ],
)
def test_files_that_are_not_notebooks(tmp_path, content, words):
    path = tmp_path / "ps1.ipynb"
    path.write_bytes(content)
    with pytest.raises(InvalidSubmission, match="ps1.ipynb") as info:
        read_submission(path)
    assert words in str(info.value)


def test_a_cell_that_is_not_a_cell(tmp_path):
    raw = json.loads(stored(TAMPERED[0]).read_text())
    raw["cells"][3] = {"cell_type": "code", "source": 42, "metadata": {}}
    path = tmp_path / "ps1.ipynb"
    path.write_text(json.dumps(raw))
    with pytest.raises(InvalidSubmission, match="is not a valid notebook"):
        read_submission(path)


def test_a_notebook_too_large(tmp_path, monkeypatch):
    monkeypatch.setattr(integrity, "MAX_BYTES", 1000)
    path = tmp_path / "ps1.ipynb"
    shutil.copy(SAMPLES / "ps1" / "correct.ipynb", path)
    with pytest.raises(InvalidSubmission, match="more than the 0 MB"):
        read_submission(path)


def test_a_version_3_notebook_is_converted(tmp_path):
    v3 = nbformat.convert(correct(), 3)
    path = tmp_path / "ps1.ipynb"
    path.write_text(nbformat.writes(v3, version=3))
    nb = read_submission(path)
    assert nb.nbformat == 4
    repaired, found = restore_structure(nb, reference(), "ps1")
    assert found == []
    assert_structure(repaired, reference())


def test_a_missing_notebook(tmp_path):
    folder = tmp_path / "submitted"
    folder.mkdir()
    (folder / "PS1 final.ipynb").write_text("{}")
    with pytest.raises(InvalidSubmission, match=r"no ps1.ipynb in the submission \(it has PS1"):
        repair_submission(folder, SOURCES / "ps1", ["ps1"], "ps1")


def test_outputs_and_a_byte_order_mark_are_no_problem(tmp_path):
    nb = correct()
    first = next(c for c in nb.cells if c.cell_type == "code")
    first.outputs = [nbformat.v4.new_output("stream", text="x" * 1000)]
    first.execution_count = 3
    path = tmp_path / "ps1.ipynb"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(nb).encode())
    got = read_submission(path)
    assert grade_ids(got) == grade_ids(nb)


# -- 1 and 2: tampering --------------------------------------------------------------------------


@pytest.mark.parametrize("case", TAMPERED, ids=[c.name for c in TAMPERED])
def test_tampering_is_repaired_and_reported(case, tmp_path):
    repaired, found = repair(tmp_path, stored(case))
    assert_structure(repaired, reference())
    assert found and {f.kind for f in found} == {"tampering"}
    said = " | ".join(f.message for f in found)
    for words in SAID[case.name]:
        assert words in said
    again, more = restore_structure(repaired, reference(), "ps1")
    assert more == []  # a repaired notebook needs no repair
    assert grade_ids(again) == grade_ids(repaired)


def test_repair_keeps_the_answers_and_the_students_own_cells(tmp_path):
    nb = correct()
    scratch = free_cell("print(max_backward(1, 2, 3))")
    nb.cells.insert(index(nb, "a_max") + 1, scratch)  # between the answer and its test
    nb.cells.insert(0, free_cell("# my notes"))
    moved = nb.cells.pop(index(nb, "test_a_max"))
    nb.cells.insert(0, moved)
    repaired, found = repair(tmp_path, nb)
    assert [f.where for f in found] == ["test_a_max"]
    sources = [c.source for c in repaired.cells]
    assert sources[0] == "# my notes"
    at = index(repaired, "a_max")
    assert sources[at + 1] == scratch.source
    assert sources[at + 2] == cell(reference(), "test_a_max").source
    for gid in ("a_add_mul", "a_max", "b_backward"):
        assert cell(repaired, gid).source == cell(correct(), gid).source


def test_a_deleted_answer_comes_back_as_the_release_had_it(tmp_path):
    nb = correct()
    del nb.cells[index(nb, "a_max")]
    repaired, found = repair(tmp_path, nb)
    blank = nbformat.read(SAMPLES / "ps1" / "blank.ipynb", as_version=4)
    assert cell(repaired, "a_max").source == cell(blank, "a_max").source
    assert [f.message for f in found] == [
        "answer cell a_max was deleted (put back as the release had it)"
    ]


def test_a_copied_answer_cell_stays_as_an_ordinary_cell(tmp_path):
    """Copy and paste of an answer cell copies its metadata: the copy's code still runs."""
    nb = correct()
    copy_ = copy.deepcopy(cell(nb, "b_backward"))
    copy_.source = "def backward(graph):\n    return {}  # my second try\n"
    copy_.id = "second-try"
    nb.cells.insert(index(nb, "b_backward") + 1, copy_)
    repaired, found = repair(tmp_path, nb)
    at = index(repaired, "b_backward")
    assert repaired.cells[at + 1].source == copy_.source
    assert "nbgrader" not in repaired.cells[at + 1].metadata
    assert [f.where for f in found] == ["b_backward"]
    assert "appears twice" in found[0].message


def test_a_cell_type_changed_is_put_back(tmp_path):
    nb = correct()
    i = index(nb, "test_a_max")
    old = nb.cells[i]
    nb.cells[i] = nbformat.v4.new_markdown_cell("nothing here", metadata=old.metadata)
    repaired, found = repair(tmp_path, nb)
    assert cell(repaired, "test_a_max").cell_type == "code"
    said = [f.message for f in found]
    assert "test cell test_a_max was changed from a code cell to a markdown cell (put back)" in said
    assert "test cell test_a_max was edited (its source was put back)" in said


def test_the_kernelspec_is_the_references(tmp_path):
    nb = correct()
    nb.metadata.kernelspec = {"name": "evil", "display_name": "Evil", "language": "python"}
    nb.metadata.custom = {"kept": True}
    repaired, found = repair(tmp_path, nb)
    assert repaired.metadata.kernelspec == reference().metadata.kernelspec
    assert repaired.metadata.custom == {"kept": True}
    assert found == []


# -- honest notebooks: nothing to report ---------------------------------------------------------


def jupyterlab_touches(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """What saving from JupyterLab or another editor may change, none of it tampering."""
    for n, c in enumerate(nb.cells):
        c.id = f"lab-{n}"
        c.metadata["trusted"] = True
        c.metadata["collapsed"] = False
        c.metadata.pop("editable", None)
        c.metadata["deletable"] = True
        if c.cell_type == "code":
            c.execution_count = n
            c.outputs = [nbformat.v4.new_output("stream", text=f"out {n}\n")]
        c.source = c.source.rstrip("\n") + "\n\n"  # a trailing newline more
    nb.metadata["widgets"] = {}
    return nb


def test_an_honest_notebook_gives_no_finding(tmp_path):
    nb = jupyterlab_touches(correct())
    nb.cells.insert(index(nb, "a_max") + 1, free_cell("max_backward(1.0, 2.0, 1.0)"))
    nb.cells.append(nbformat.v4.new_markdown_cell("My notes."))
    raw = json.loads(nbformat.writes(nb))
    for c in raw["cells"][::2]:
        c["source"] = "".join(c["source"])  # a string, where nbformat writes a list of lines
    repaired, found = repair(tmp_path, json.dumps(raw).encode())
    assert found == []
    assert_structure(repaired, reference())
    assert cell(repaired, "a_max").source == cell(nb, "a_max").source
    assert repaired.cells[index(repaired, "a_max") + 1].source == "max_backward(1.0, 2.0, 1.0)"
    assert repaired.cells[-1].source == "My notes."


def test_the_reference_itself_gives_no_finding():
    """A test cell with its hidden tests (the source, not the release) is not reported."""
    repaired, found = restore_structure(reference(), reference(), "ps1")
    assert found == []
    assert_structure(repaired, reference())


SAMPLE_NOTEBOOKS = sorted(SAMPLES.glob("ps*/*.ipynb"))


@pytest.mark.parametrize(
    "path", SAMPLE_NOTEBOOKS, ids=[f"{p.parent.name}/{p.stem}" for p in SAMPLE_NOTEBOOKS]
)
def test_sample_class_notebooks_give_no_finding(path, tmp_path):
    """The sample classes are real student copies of the release (answers, untouched tests)."""
    assignment = path.parent.name
    folder = tmp_path / assignment
    folder.mkdir()
    shutil.copy(path, folder / f"{assignment}.ipynb")
    found = repair_submission(folder, SOURCES / assignment, [assignment], assignment)
    assert found == []
    repaired = nbformat.read(folder / f"{assignment}.ipynb", as_version=4)
    assert_structure(repaired, reference(assignment))
    before = nbformat.read(path, as_version=4)
    assert [c.source for c in repaired.cells] != [] and len(repaired.cells) == len(before.cells)
    for c in before.cells:
        gid = meta(c).get("grade_id")
        if gid and meta(c).get("solution"):
            assert cell(repaired, gid).source == c.source  # the student's answers stay


@pytest.mark.parametrize("assignment", ["ps1", "ps2", "ps3", "ps4", "ps5", "ps6", "ps7"])
def test_the_release_version_is_what_nbgrader_releases(assignment):
    """The blank sample is nbgrader's release: our stubs and hidden-test removal match it."""
    ref = reference(assignment)
    blank = nbformat.read(SAMPLES / assignment / "blank.ipynb", as_version=4)
    for gid in grade_ids(ref):
        want = cell(ref, gid)
        if meta(want).get("solution"):
            assert released_answer(want) == cell(blank, gid).source, gid
        elif meta(want).get("locked"):
            assert without_hidden_tests(want.source) == cell(blank, gid).source, gid


def test_the_code_stub_is_the_courses():
    text = (ROOT / "nbgrader_config.py").read_text()
    assert json.dumps(integrity.CODE_STUB) in text


# -- nbgrader grades the repaired notebooks ------------------------------------------------------


@pytest.mark.slow
def test_nbgrader_grades_repaired_notebooks(tmp_path_factory):
    """Repaired notebooks that plain nbgrader would misgrade or refuse autograde without error
    and earn what the honest code deserves."""
    from tests.nbgrader_course import make_course

    names = ["test_moved_before_answer", "test_not_graded", "schema_version_changed"]
    chosen = [c for c in TAMPERED if c.name in names]
    course = make_course(tmp_path_factory, "ps1")
    course.nbgrader("generate_assignment", "ps1", "--force")
    for case in chosen:
        folder = course.submission_folder(case.name)
        shutil.copy(stored(case), folder / "ps1.ipynb")
        assert repair_submission(folder, course.root / "source_assignments" / "ps1", ["ps1"], "ps1")
    course.nbgrader("autograde", "ps1", "--force", "--create", "--Execute.timeout=30")
    for case in chosen:
        assert course.scores(case.name) == case.parts, case.name


def test_a_test_cell_with_every_flag_off_is_still_that_test(tmp_path):
    nb = correct()
    m = cell(nb, "test_b_more").metadata.nbgrader
    m.grade = m.locked = False
    repaired, found = repair(tmp_path, nb)
    assert_structure(repaired, reference())
    assert sorted(f.message for f in found) == [
        "test cell test_b_more was marked as not graded (put back)",
        "test cell test_b_more was unlocked (locked again)",
    ]


def test_broken_notebook_metadata_is_not_fatal(tmp_path):
    raw = json.loads(stored(TAMPERED[0]).read_text())
    raw["metadata"]["kernelspec"] = "python3"
    raw["metadata"]["language_info"] = {"version": 3}
    path = tmp_path / "ps1.ipynb"
    path.write_text(json.dumps(raw))
    nb = read_submission(path)
    repaired, _ = restore_structure(nb, reference(), "ps1")
    assert repaired.metadata.kernelspec == reference().metadata.kernelspec
    nbformat.validate(repaired)
