"""``python -m autograder similarity``: copies are found, honest work and given code are not.

The class is built here from ps3's sample submissions: ``rewritten`` (written independently
of the reference solution) and ``correct`` are honest; a copy of ``rewritten`` with every name
changed, comments added and independent lines swapped is a seeded copy; a student whose
``affine_backward`` is the course package's own, renamed, took it from ``course/layers.py``.
The renaming is a plain whole-word substitution, independent of copydetect.
"""

from __future__ import annotations

import inspect
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from autograder import similarity

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "autograder" / "sample_class" / "ps3"


def rename(code: str, names: dict[str, str]) -> str:
    """``code`` with every identifier in ``names`` replaced (whole words)."""
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    return pattern.sub(lambda m: names[m.group(1)], code)


def answer(nb: nbformat.NotebookNode, grade_id: str) -> nbformat.NotebookNode:
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def seeded_copy() -> nbformat.NotebookNode:
    """``rewritten`` with its names changed, comments added, two independent lines swapped."""
    nb = nbformat.read(SAMPLE / "rewritten.ipynb", as_version=4)
    names = {
        "W1": "first_w", "b1": "first_b", "W2": "second_w", "b2": "second_b", "K": "classes",
        "m": "count", "T": "targets", "grads": "gradients", "J": "cost", "x": "column",
        "z1": "pre1", "a1": "act1", "z2": "pre2", "top": "biggest", "lse": "logsum",
        "dz2": "delta2", "dz1": "delta1", "dW": "grad_w", "db": "grad_b", "dz": "delta",
        "A_prev": "inputs", "W": "weights", "n": "units", "k": "col", "i": "j",
    }  # fmt: skip
    for gid in ("d_two_layer", "a_affine_backward"):
        cell = answer(nb, gid)
        lines = rename(cell.source, names).splitlines()
        if gid == "a_affine_backward":  # the two zero arrays do not depend on each other
            at = next(k for k, line in enumerate(lines) if "grad_w = np.zeros" in line)
            lines[at], lines[at + 1] = lines[at + 1], lines[at]
        lines.insert(1, "    # my own version, worked out on paper first")
        cell.source = "\n".join(lines)
    return nb


def from_the_package() -> nbformat.NotebookNode:
    """``correct``, with an ``affine_backward`` that is course.layers' own with names changed."""
    from course import layers

    nb = nbformat.read(SAMPLE / "correct.ipynb", as_version=4)
    code = inspect.getsource(layers.affine_backward)
    answer(nb, "a_affine_backward").source = rename(
        code, {"A_prev": "X_in", "W": "weights", "dZ": "grad_out", "dW": "g_w", "db": "g_b"}
    )
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    # nbgrader runs alembic from PATH: the environment's bin first, as `make` has it
    saved = os.environ["PATH"]
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{saved}"
    root = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "nbgrader_config.py", root)
    shutil.copytree(
        ROOT / "source_assignments" / "ps3",
        root / "source_assignments" / "ps3",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    from autograder.coursedir import Course

    try:
        assert Course(root).release("ps3")["success"]
    finally:
        os.environ["PATH"] = saved
    return root


def submit(folder: Path, students: dict[str, nbformat.NotebookNode | bytes]) -> Path:
    for student, nb in students.items():
        where = folder / student / "ps3"
        where.mkdir(parents=True)
        if isinstance(nb, bytes):
            (where / "ps3.ipynb").write_bytes(nb)
        else:
            nbformat.write(nb, where / "ps3.ipynb")
    return folder


@pytest.fixture(scope="module")
def result(course, tmp_path_factory):
    folder = submit(
        tmp_path_factory.mktemp("submitted"),
        {
            "honest_correct": nbformat.read(SAMPLE / "correct.ipynb", as_version=4),
            "honest_rewritten": nbformat.read(SAMPLE / "rewritten.ipynb", as_version=4),
            "copier": seeded_copy(),
            "pasted_package": from_the_package(),
            "blank_one": nbformat.read(SAMPLE / "blank.ipynb", as_version=4),
            "blank_two": nbformat.read(SAMPLE / "blank.ipynb", as_version=4),
            "not_a_notebook": b"%PDF-1.4 this is a scanned page",
        },
    )
    return similarity.run(course, "ps3", folder)


def _pair(result, a, b):
    for p in result.pairs:
        if {p.a, p.b} == {a, b}:
            return p
    return None


def test_a_renamed_reordered_copy_is_flagged(result):
    pair = _pair(result, "copier", "honest_rewritten")
    assert pair is not None and pair.flagged
    assert min(pair.share_a, pair.share_b) > 0.8


def test_honest_students_are_not_flagged(result):
    pair = _pair(result, "honest_correct", "honest_rewritten")
    assert pair is None or not pair.flagged
    # the copy of rewritten shares with correct only what rewritten does
    copy = _pair(result, "copier", "honest_correct")
    assert copy is None or not copy.flagged


def test_code_pasted_from_the_package_is_reported_against_its_file(result):
    pasted = [p for p in result.flagged if p.kind == "course" and p.a == "pasted_package"]
    assert [p.b for p in pasted] == ["course/layers.py"]
    # nobody else took code from the course
    assert not [p for p in result.flagged if p.kind == "course" and p.a != "pasted_package"]


def test_what_the_release_gives_everybody_is_not_shared(result):
    assert _pair(result, "blank_one", "blank_two") is None


def test_a_file_that_is_not_a_notebook_is_skipped_with_its_reason(result):
    assert [why for origin, why in result.skipped if "not_a_notebook" in origin] == [
        "not a readable notebook (NotJSONError)"
    ]
    assert "not_a_notebook" not in result.codes


def test_the_tests_cells_are_not_compared(course, tmp_path):
    """Two students who differ in everything they wrote, with the same long code in a test
    cell (a tampered test: the grader restores it anyway) are not a pair."""
    a = nbformat.read(SAMPLE / "correct.ipynb", as_version=4)
    b = nbformat.read(SAMPLE / "rewritten.ipynb", as_version=4)
    long = "\n".join(
        f"value_{k} = compute(step={k}, scale={k} * 2.5) + offset_{k}" for k in range(40)
    )
    for nb in (a, b):
        answer(nb, "test_d_visible").source = long
    got = similarity.run(course, "ps3", submit(tmp_path, {"a": a, "b": b}))
    pair = _pair(got, "a", "b")
    assert pair is None or not pair.flagged


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.marked = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.marked += tag == "mark"


def test_the_page_shows_pairs_side_by_side_and_escapes_code(course, tmp_path):
    hostile = seeded_copy()
    answer(hostile, "d_two_layer").source += "\n# </pre><script>alert(1)</script><img src=x>"
    folder = submit(
        tmp_path / "sub",
        {"x": hostile, "y": nbformat.read(SAMPLE / "rewritten.ipynb", as_version=4)},
    )
    got = similarity.run(course, "ps3", folder)
    page = similarity.write_html(got, tmp_path / "similarity.html")
    parsed = _Page()
    parsed.feed(page.read_text())
    assert "script" not in parsed.tags and "img" not in parsed.tags
    assert parsed.marked >= 2  # shared code marked on both sides
    assert "&lt;/pre&gt;&lt;script&gt;" in page.read_text()


def test_the_command_prints_the_pairs_and_writes_the_page(course, tmp_path):
    folder = submit(
        tmp_path / "sub",
        {
            "copier": seeded_copy(),
            "honest_rewritten": nbformat.read(SAMPLE / "rewritten.ipynb", as_version=4),
        },
    )
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "autograder", "--course", str(course), "similarity", "ps3",
         str(folder), "--out", str(out)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "1 pair(s) flagged" in proc.stdout
    assert "FLAG copier" in proc.stdout or "FLAG honest_rewritten" in proc.stdout
    assert (out / "similarity.html").is_file() and (out / "similarity.json").is_file()


def test_an_unreleased_assignment_is_named(tmp_path):
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    shutil.copytree(ROOT / "source_assignments" / "ps3", tmp_path / "source_assignments" / "ps3")
    (tmp_path / "sub").mkdir()
    with pytest.raises(similarity.SimilarityError, match="python -m autograder release ps3"):
        similarity.run(tmp_path, "ps3", tmp_path / "sub")


def test_a_threshold_outside_zero_one_is_refused():
    with pytest.raises(similarity.SimilarityError, match=r"in \(0, 1\]; got 50"):
        similarity.compare([], "", [], threshold=50)
