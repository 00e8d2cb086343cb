"""``python -m autograder similarity``: copies are found, honest work and given code are not.

The class is built here from ps3's sample submissions: ``rewritten`` (written independently
of the reference solution) and ``correct`` are honest; a copy of ``rewritten`` with every name
changed, comments added and independent lines swapped is a seeded copy; a student whose
``affine_backward`` is the course package's own, renamed, took it from ``course/layers.py``.
The renaming is a plain whole-word substitution, independent of copydetect.

The whole sample classes of ps1 to ps7 are honest too (every student wrote
their own answers): no pair of them is flagged, while a copy of each of them, made here with
``ast`` and ``tokenize`` (every name the student bound renamed, independent statements and two
methods swapped), is found next to its original. ps1's and ps5's classes have deliberate copies,
found next to the students they copied (:data:`COPIED_FROM`).
"""

from __future__ import annotations

import ast
import builtins
import inspect
import io
import itertools
import keyword
import os
import re
import shutil
import subprocess
import sys
import tokenize
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from autograder import similarity

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "autograder" / "sample_class"
SAMPLE = SAMPLES / "ps3"
#: the sample students who copied a classmate, and whom: the similarity check must find them
COPIED_FROM = {
    "ps1": {"copied_neighbour": "correct", "copied_numbers": "rewritten"},
    "ps5": {"copied_neighbour": "correct"},
}


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
    """A course with ps1 to ps7 released."""
    # nbgrader runs alembic from PATH: the environment's bin first, as `make` has it
    saved = os.environ["PATH"]
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{saved}"
    root = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "nbgrader_config.py", root)
    from autograder.coursedir import Course

    try:
        for assignment in ("ps1", "ps2", "ps3", "ps4", "ps5", "ps6", "ps7"):
            shutil.copytree(
                ROOT / "source_assignments" / assignment,
                root / "source_assignments" / assignment,
                ignore=shutil.ignore_patterns("__pycache__"),
            )
            assert Course(root).release(assignment)["success"]
    finally:
        os.environ["PATH"] = saved
    return root


def submit(
    folder: Path, students: dict[str, nbformat.NotebookNode | bytes], assignment: str = "ps3"
) -> Path:
    for student, nb in students.items():
        where = folder / student / assignment
        where.mkdir(parents=True)
        if isinstance(nb, bytes):
            (where / f"{assignment}.ipynb").write_bytes(nb)
        else:
            nbformat.write(nb, where / f"{assignment}.ipynb")
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


# -- the sample classes: honest students apart, copies found ------------------------------------


def _answer_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [
        c
        for c in nb.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
    ]


def _bound(code: str) -> set[str]:
    """The names ``code`` binds: parameters and targets (not ``self``, not the names of the
    functions and classes it defines, which the tests call)."""
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names - {"self"} - set(dir(builtins)) - set(keyword.kwlist)


def _renamed(code: str, names: dict[str, str]) -> str:
    """``code`` with every name token in ``names`` replaced, attributes (``.data``) left."""
    lines = code.splitlines(keepends=True)
    edits, previous = [], None
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        if tok.type == tokenize.NAME and tok.string in names and previous != ".":
            edits.append((tok.start, tok.end, names[tok.string]))
        if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT):
            previous = tok.string
    for (row, start), (_, end), new in reversed(edits):
        line = lines[row - 1]
        lines[row - 1] = line[:start] + new + line[end:]
    return "".join(lines)


def _swapped(code: str) -> tuple[str, int]:
    """``code`` with, in every block, the first two adjacent one-line assignments to plain
    names that do not depend on each other swapped (neither writes a name the other one
    uses), and the first two methods of a class moved past each other; and how many pairs
    were swapped."""
    lines = code.splitlines(keepends=True)
    swaps = 0

    def names(node: ast.AST) -> set[str]:
        return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}

    def targets(node: ast.stmt) -> list[ast.expr]:
        if isinstance(node, ast.Assign):
            return node.targets
        return [node.target] if isinstance(node, ast.AugAssign) else []

    def simple(node: ast.stmt) -> bool:
        """A one-line assignment to plain names (``x = ...``, ``a, b = ...``, ``x += ...``)."""
        return (
            node.lineno == node.end_lineno
            and bool(targets(node))
            and all(
                isinstance(n, ast.Name) or (isinstance(n, ast.Tuple) and n is t)
                for t in targets(node)
                for n in ast.walk(t)
                if not isinstance(n, ast.expr_context)
            )
        )

    for block in ast.walk(ast.parse(code)):
        body = getattr(block, "body", None)
        if not isinstance(body, list):
            continue
        for first, second in zip(body, body[1:]):
            if not (simple(first) and simple(second)):
                continue
            wrote_1 = set().union(*(names(t) for t in targets(first)))
            wrote_2 = set().union(*(names(t) for t in targets(second)))
            if wrote_1 & names(second) or wrote_2 & names(first):
                continue
            a, b = first.lineno - 1, second.lineno - 1
            lines[a], lines[b] = lines[b], lines[a]
            swaps += 1
            break
    # then (the lines move: parsed again) two methods, which never depend on their order
    for block in ast.walk(ast.parse("".join(lines))):
        if not isinstance(block, ast.ClassDef):
            continue
        methods = [s for s in block.body if isinstance(s, ast.FunctionDef)]
        if len(methods) >= 2 and block.body.index(methods[1]) == block.body.index(methods[0]) + 1:
            first, second = methods[0], methods[1]
            a0, a1 = first.lineno - 1, first.end_lineno
            b0, b1 = second.lineno - 1, second.end_lineno
            lines[a0:b1] = lines[b0:b1] + lines[a1:b0] + lines[a0:a1]
            swaps += 1
            break
    return "".join(lines), swaps


def _names(nb: nbformat.NotebookNode) -> set[str]:
    return set().union(*(_bound(c.source) for c in _answer_cells(nb)))


def disguised(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` as a copier hands it in: every name its answers bind renamed (the same
    way in every cell), two independent statements of each block swapped."""
    nb = nbformat.from_dict(nb)
    cells = _answer_cells(nb)
    names = {name: f"q{k}_{name[::-1].strip('_')}" for k, name in enumerate(sorted(_names(nb)))}
    swaps = 0
    for cell in cells:
        code, n = _swapped(cell.source)
        swaps += n
        cell.source = _renamed(code, names)
    assert len(names) >= 5 and swaps >= 1, "the copy should differ from its original"
    return nb


@pytest.mark.parametrize("assignment", ["ps1", "ps2", "ps3", "ps4", "ps5", "ps6", "ps7"])
def test_the_sample_class_is_honest_and_a_disguised_copy_is_found(course, tmp_path, assignment):
    """Every sample student wrote their own answers: no pair of them is flagged (but a
    deliberate copy and whom it copied), and none took code from the course but the one who
    calls the package. A renamed and reordered copy of each of them is flagged against its
    original, and against nobody else (but the copies of that original)."""
    originals = {
        p.stem: nbformat.read(p, as_version=4)
        for p in sorted((SAMPLES / assignment).glob("*.ipynb"))
    }
    copiers = COPIED_FROM.get(assignment, {})
    assert {name for name in originals if name.startswith("copied_")} == set(copiers)
    # who wrote code of their own: names beyond the parameters of the release's stubs (not
    # blank, nor ps6's student who only imports the package)
    given = _names(originals["blank"])
    copied = [
        name
        for name, nb in originals.items()
        if name not in copiers and len(_names(nb) - given) >= 5
    ]
    assert len(copied) >= len(originals) - len(copiers) - 2
    copies = {f"{name}_copy": disguised(originals[name]) for name in copied}
    for name in copied:
        assert student_text(copies[f"{name}_copy"]) != student_text(originals[name])
    got = similarity.run(course, assignment, submit(tmp_path, {**originals, **copies}, assignment))
    students = [p for p in got.flagged if p.kind == "students"]

    def whose(name: str) -> str:
        """Whose work a submission is: a copy's original."""
        name = name.removesuffix("_copy")
        return COPIED_FROM.get(assignment, {}).get(name, name)

    honest = [(p.a, p.b, round(p.share, 2)) for p in students if whose(p.a) != whose(p.b)]
    assert honest == []
    assert {frozenset((p.a, p.b)) for p in students} == {
        frozenset(pair)
        for pair in itertools.combinations([*originals, *copies], 2)
        if whose(pair[0]) == whose(pair[1])
    }
    for name in copied:
        assert _pair(got, name, f"{name}_copy").share > 0.7
    from_course = {p.a for p in got.flagged if p.kind == "course"}
    assert from_course <= {"bug_uses_package", "bug_uses_package_copy"}


def student_text(nb: nbformat.NotebookNode) -> str:
    return "\n".join(c.source for c in _answer_cells(nb))
