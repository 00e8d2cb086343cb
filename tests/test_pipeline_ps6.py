"""Problem set 6 (your own autograd engine) end to end, kept lean: one sandboxed grading run.

One module-scoped run copies ``nbgrader_config.py`` and ``source_assignments/ps6/`` into a
temporary course, runs ``nbgrader generate_assignment ps6`` and then grades the bundled sample
class (``autograder/sample_class/ps6/<student>.ipynb``) once with ``python -m autograder grade
--jobs 2``, as an instructor does: the kernels in the sandbox, the tests in the grader. The tests
compare every student's points per test cell with ``expected.json`` (partial credit included)
and look for the words that name each bug in the feedback pages. Without nbgrader: the source
notebook passes its own tests; its solution runs micrograd's README example with micrograd's
numbers (micrograd as a second oracle); the reference of the checks agrees with finite
differences and with micrograd on random graphs; each usual mistake, made on purpose, is named by
the checks of ``ps6_support.py``; part (b) is graded on the student's own operations. Nothing is
written into the repository.
"""

from __future__ import annotations

import csv
import importlib.util
import math
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import nbformat
import pytest
from nbgrader_course import ROOT, Course, execute_source, graded_cells, load_expected, make_course

SOURCE = ROOT / "source_assignments" / "ps6"
SAMPLE = ROOT / "autograder" / "sample_class" / "ps6"
EXPECTED = load_expected(SAMPLE)
TOTAL = 26
GRADED = {  # grade_id -> points
    "test_a_arithmetic": 8,
    "test_a_functions": 6,
    "test_b_backward": 8,
    "test_b_long_chain": 4,
}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Course]:
    c = make_course(tmp_path_factory, "ps6")
    c.nbgrader("generate_assignment", "ps6")
    start = time.perf_counter()
    env = {k: v for k, v in c.env.items() if k != "PYTHONPATH"}  # the box's course is installed
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "--course", str(c.root), "grade", "ps6", str(SAMPLE)]
        + ["--jobs", "2", "--no-progress"],
        cwd=c.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    c.timings["grade --jobs 2"] = time.perf_counter() - start
    c.outputs["grade"] = done
    assert done.returncode == 0, done.stdout + done.stderr
    yield c
    c.report_timings("ps6 pipeline")


def _grades(course: Course) -> dict[str, dict[str, str]]:
    with open(course.root / "grades" / "ps6" / "ps6_grades.csv", newline="") as fh:
        return {row["student_id"]: row for row in csv.DictReader(fh)}


def _page(course: Course, student: str) -> str:
    html = (course.root / "grades" / "ps6" / "feedback" / f"{student}.html").read_text()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    for entity, char in (("&#39;", "'"), ("&quot;", '"'), ("&lt;", "<"), ("&gt;", ">")):
        text = text.replace(entity, char)
    return text.replace("&amp;", "&")


# -- the released version and the sample class ---------------------------------------------------


def test_release_has_no_solutions_and_no_hidden_tests(course: Course) -> None:
    text = (course.release / "ps6.ipynb").read_text()
    for secret in (
        "BEGIN SOLUTION",
        "BEGIN HIDDEN TESTS",
        "-a / (b * b)",
        "t = math.tanh(self.data)",
        "parent.grad += local * node.grad",
        "range(201, 207)",
        "150_000",
    ):
        assert secret not in text, secret
    nb = nbformat.reads(text, as_version=4)
    stubs = [c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert len(stubs) == 2 and all("raise NotImplementedError()" in s for s in stubs)
    assert stubs[0].count("raise NotImplementedError()") == 14  # one per method
    tests = graded_cells(nb)
    assert {
        c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"] for c in tests
    } == (GRADED)
    assert sum(GRADED.values()) == TOTAL
    assert "def grads_of(program, inputs, sweeps=1):" in text  # the locked helper is visible
    assert "after problem set 1" in text and "lessons 01-03" in text
    assert (course.release / "ps6_support.py").exists()


def test_sample_class_is_made_from_the_current_release(course: Course) -> None:
    """Every locked cell of every sample submission is the released one (no stale samples)."""
    release = nbformat.read(course.release / "ps6.ipynb", as_version=4)
    locked = {c.id: c for c in release.cells if c.metadata.get("nbgrader", {}).get("locked")}
    assert set(EXPECTED) == {p.stem for p in SAMPLE.glob("*.ipynb")}
    for student in EXPECTED:
        nb = nbformat.read(SAMPLE / f"{student}.ipynb", as_version=4)
        theirs = {c.id: c for c in nb.cells if c.id in locked}
        assert {k: c.source for k, c in theirs.items()} == {
            k: c.source for k, c in locked.items()
        }, student
        for key, cell in theirs.items():  # the checksums nbgrader validate compares with
            assert cell.metadata == locked[key].metadata, (student, key)
        ids = [c.metadata["nbgrader"]["grade_id"] for c in graded_cells(nb)]
        assert ids == list(EXPECTED[student]["parts"]), student


def test_the_sample_class_has_each_slip_once() -> None:
    """Correct, blank, written differently, the package, and single slips that cost one part."""
    assert {"correct", "blank", "rewritten", "bug_uses_package"} <= set(EXPECTED)
    slips = [s for s in EXPECTED if s.startswith("bug_") and s != "bug_uses_package"]
    assert 4 <= len(slips) <= 6
    for student in slips:
        lost = {g for g, p in EXPECTED[student]["parts"].items() if p < GRADED[g]}
        assert lost, student
        assert len({g.split("_")[1] for g in lost}) == 1, (student, lost)  # part a or part b


# -- the scores and the feedback ------------------------------------------------------------------


def test_the_run_is_sandboxed_and_every_student_graded(course: Course) -> None:
    out = course.outputs["grade"].stdout
    assert f"{len(EXPECTED)} ok, 0 errors" in out and "bubblewrap" in out, out


@pytest.mark.parametrize("student", list(EXPECTED))
def test_scores_per_part(course: Course, student: str) -> None:
    row = _grades(course)[student]
    want = EXPECTED[student]
    assert {part: float(row[part]) for part in want["parts"]} == want["parts"], row
    assert sum(float(row[part]) for part in GRADED) == want["total"]


@pytest.mark.parametrize("student", list(EXPECTED))
def test_feedback_names_the_bug(course: Course, student: str) -> None:
    text = _page(course, student)
    for words in EXPECTED[student]["feedback_mentions"]:
        assert words in text, (student, words)
    if student.startswith("bug_") and student != "bug_uses_package":
        assert "Likely bug" in text
    assert "range(201, 207)" not in text  # no hidden test in the feedback


# -- the source notebook, and micrograd's example -------------------------------------------------


def test_source_notebook_passes_its_own_tests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nb = execute_source("ps6", tmp_path, monkeypatch)
    graded = graded_cells(nb)
    assert len(graded) == len(GRADED)
    for cell in graded:
        text = "".join(o.get("text", "") for o in cell.outputs)
        assert not [o for o in cell.outputs if o.output_type in ("error", "execute_result")]
        assert "passes" in text, text


def _solution(*changes: tuple[str, str]) -> dict:
    """The namespace of the source notebook's answer cells and helper cell, with ``changes``
    (old, new) made to them, as a student's kernel would hold it."""
    cells = [
        c.source
        for c in nbformat.read(SOURCE / "ps6.ipynb", as_version=4).cells
        if c.metadata.get("nbgrader", {}).get("grade_id") in ("a_value", "b_backward", "helpers")
    ]
    for old, _ in changes:
        assert any(old in source for source in cells), old
    namespace: dict = {"math": math}
    for source in cells:
        for old, new in changes:
            source = source.replace(old, new)
        exec(source, namespace)
    return namespace


MICROGRAD_README = """
a = Value(-4.0)
b = Value(2.0)
c = a + b
d = a * b + b**3
c += c + 1
c += 1 + c + (-a)
d += d * 2 + (b + a).relu()
d += 3 * d + (b - a).relu()
e = c - d
f = e**2
g = f / 2.0
g += 10.0 / f
g.backward()
"""


def test_micrograds_readme_example_runs_on_the_solution() -> None:
    ours = _solution()
    exec(MICROGRAD_README, ours)
    assert f"{ours['g'].data:.4f}" == "24.7041"  # the numbers micrograd's README prints
    assert f"{ours['a'].grad:.4f}" == "138.8338" and f"{ours['b'].grad:.4f}" == "645.5773"
    pytest.importorskip("micrograd")
    from micrograd.engine import Value

    theirs = {"Value": Value}
    exec(MICROGRAD_README, theirs)
    for name in ("a", "b", "g"):
        assert ours[name].data == pytest.approx(theirs[name].data, rel=1e-12)
        assert ours[name].grad == pytest.approx(theirs[name].grad, rel=1e-12)


# -- the checks alone -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def support(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """``ps6_support`` imported from a copy, so that no ``__pycache__`` lands in the repository."""
    folder = tmp_path_factory.mktemp("support")
    shutil.copy(SOURCE / "ps6_support.py", folder)
    spec = importlib.util.spec_from_file_location("ps6_support", folder / "ps6_support.py")
    module = importlib.util.module_from_spec(spec)
    dont_write = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = dont_write
    return module


@pytest.mark.parametrize("seed", range(12))
def test_the_reference_agrees_with_finite_differences_and_micrograd(support, seed) -> None:
    """The oracles of the checks agree: course.graph, centred differences in float64 of the
    program on plain floats, and micrograd (on the operations it has)."""
    program, inputs = support.random_graph(seed, steps=15, inputs=3)
    data, grad = support.reference(program, inputs)
    assert data == pytest.approx(support.evaluate(program, inputs), rel=1e-12)
    numeric = support.numeric_gradients(program, inputs)
    assert grad[:3] == pytest.approx(numeric, rel=1e-5, abs=1e-6)
    assert support.sweep(program, inputs, [support.local_gradients(s, data) for s in program])[
        :3
    ] == pytest.approx(grad[:3], rel=1e-12, abs=1e-15)
    pytest.importorskip("micrograd")
    from micrograd.engine import Value

    program, inputs = support.random_graph(seed, steps=15, inputs=3, ops=("+", "-", "*", "relu"))
    nodes = [Value(x) for x in inputs]
    for op, *args in program:
        xs = [nodes[a] if type(a) is int else a for a in args]
        nodes.append(xs[0].relu() if op == "relu" else support._BINARY_VALUE[op](*xs))
    nodes[-1].backward()
    assert [n.grad for n in nodes[:3]] == pytest.approx(
        support.reference(program, inputs)[1][:3], rel=1e-12, abs=1e-15
    )


# name: (changes to the solution, the check to run, the words the message must contain)
MISTAKES = {
    "division: the sign for b": (
        [("(1.0 / b, -a / (b * b))", "(1.0 / b, a / (b * b))")],
        ([("/", 0, 1)], [3.0, -1.5], 1),
        "with respect to the divisor b has the wrong sign",
    ),
    "division: without a": (
        [("(1.0 / b, -a / (b * b))", "(1.0 / b, -1 / (b * b))")],
        ([("/", 0, 1)], [3.0, -1.5], 1),
        "leaves out the dividend a",
    ),
    "power: the exponent kept": (
        [("(k * a ** (k - 1),)", "(k * a**k,)")],
        ([("**", 0, 3.0)], [1.5], 1),
        "the power it had before differentiating",
    ),
    "power: no factor k": (
        [("(k * a ** (k - 1),)", "(a ** (k - 1),)")],
        ([("**", 0, 3.0)], [1.5], 1),
        "a factor is missing",
    ),
    "tanh: from the input": (
        [("(1.0 - t * t,)", "(1.0 - self.data**2,)")],
        ([("tanh", 0)], [0.5], 1),
        "a function of tanh's output",
    ),
    "tanh: no square": (
        [("(1.0 - t * t,)", "(1.0 - t,)")],
        ([("tanh", 0)], [0.5], 1),
        "missing a square",
    ),
    "tanh: overflow": (
        [("t = math.tanh(self.data)", "t = 1 - 2 / (math.exp(2 * self.data) + 1)")],
        ([("tanh", 0)], [1000.0], 1),
        "not numerically stable",
    ),
    "exp: as a power": (
        [('(self,), "exp", (out,)', '(self,), "exp", (self.data * math.exp(self.data - 1),)')],
        ([("exp", 0)], [0.7], 1),
        "as if it were a power of a",
    ),
    "relu: relu'(0) = 1": (
        [("(1.0 if a > 0 else 0.0,)", "(1.0 if a >= 0 else 0.0,)")],
        ([("relu", 0)], [0.0], 1),
        "relu'(0) = 0",
    ),
    "reflected minus: the gradient of v - c": (
        [
            (
                'return Value(other - self.data, (self,), "-", (-1.0,))',
                'return Value(other - self.data, (self,), "-", (1.0,))',
            )
        ],
        ([("-", 1.0, 0)], [1.5], 1),
        "it is the one of v - c",
    ),
    "backward: overwrite at a branch": (
        [("parent.grad += local * node.grad", "parent.grad = local * node.grad")],
        ([("*", 0, 0)], [3.0], 1),
        "overwritten instead of added up",
    ),
    "backward: intermediates not reset": (
        [("        if node._prev:  # an intermediate node", "        if False:  # no reset")],
        ([("*", 0, 1), ("+", 2, 0), ("tanh", 3)], [0.5, -1.5], 2),
        "only the leaves (nodes without parents) accumulate",
    ),
    "backward: leaves reset too": (
        [("        if node._prev:  # an intermediate node", "        if True:  # all")],
        ([("*", 0, 1), ("+", 2, 0), ("tanh", 3)], [0.5, -1.5], 2),
        "the leaves are reset at each backward()",
    ),
}


@pytest.mark.parametrize("name", list(MISTAKES))
def test_the_checks_name_each_usual_mistake(support, name) -> None:
    changes, (program, inputs, sweeps), words = MISTAKES[name]
    namespace = _solution(*changes)
    with pytest.raises(AssertionError) as info:
        support.check_graph(namespace["grads_of"], program, inputs, "a case", sweeps=sweeps)
    assert words in str(info.value), str(info.value)
    assert "Likely bug" in str(info.value)


def test_a_recursive_order_fails_the_long_chain_only(support) -> None:
    namespace = _solution()
    exec(
        "def topological_order(root):\n"
        "    order, seen = [], set()\n"
        "    def build(node):\n"
        "        if node not in seen:\n"
        "            seen.add(node)\n"
        "            for parent in node._prev:\n"
        "                build(parent)\n"
        "            order.append(node)\n"
        "    build(root)\n"
        "    return order[::-1]\n",
        namespace,
    )
    program, inputs = support.random_graph(3)
    support.check_graph(namespace["grads_of"], program, inputs, "a random graph")
    with pytest.raises(AssertionError, match="explicit stack"):
        support.check_chain(namespace["chain_of"], support.CHAIN_LENGTH, 0.5, 1.00001)
    start = time.perf_counter()
    support.check_chain(_solution()["chain_of"], support.CHAIN_LENGTH, 0.5, 1.00001)
    assert time.perf_counter() - start < 10  # far within the grader's 60 s per call
    with pytest.raises(AssertionError, match="visit each node once"):
        support.check_chain(_solution()["chain_of"], 20_000, 0.5, 1.00001, seconds=0.0)


def test_part_b_is_graded_on_the_students_own_operations(support, capsys) -> None:
    """A graph whose gradients are wrong only by a wrong local gradient of part (a) passes part
    (b)'s check, and says why; a mistake of the sweep on top is still charged."""
    program, inputs = support.micrograd_example()  # 10.0 / f: the reflected division
    graph = ([("/", 0, 1), ("tanh", 2), ("*", 3, 0), ("+", 4, 1)], [1.3, -0.7])  # a branch
    for change in (
        ("(1.0 / b, -a / (b * b))", "(1.0 / b, a / (b * b))"),
        ("(-other / (a * a),)", "(other / (a * a),)"),  # the reflected 1 / v
        ("(1.0 - t * t,)", "(1.0 - self.data**2,)"),
    ):
        namespace = _solution(change)
        wrong = 0
        for prog, ins in ((program, inputs), graph):
            try:
                support.check_graph(namespace["grads_of"], prog, ins, "a graph")
            except AssertionError:  # wrong, against the reference
                wrong += 1
                support.check_graph(namespace["grads_of"], prog, ins, "a graph", own_locals=True)
                assert "your own operations of part (a)" in capsys.readouterr().out
        assert wrong, change
        namespace = _solution(change, ("parent.grad += local", "parent.grad = local"))
        for prog, ins in ((program, inputs), graph):
            with pytest.raises(AssertionError):
                support.check_graph(namespace["grads_of"], prog, ins, "a", own_locals=True)
    # a right answer needs no second chance, and a wrong sweep gets none from right operations
    support.check_graph(_solution()["grads_of"], program, inputs, "a graph", own_locals=True)
    assert capsys.readouterr().out == ""


def test_part_b_gets_no_second_chance_from_operations_that_are_no_usual_slip(support) -> None:
    """The second chance holds only when each operation's measured local gradients are its
    right ones or a usual slip of it: a sweep that passes nothing back (every local gradient
    measures 0, so the sweep "with the student's own operations" is 0 too) gets none."""
    namespace = _solution(("parent.grad += local * node.grad", "parent.grad += 0.0 * local"))
    for program, inputs in (
        support.micrograd_example(),
        ([("/", 0, 1), ("tanh", 2), ("*", 3, 0), ("+", 4, 1)], [1.3, -0.7]),
    ):
        with pytest.raises(AssertionError):
            support.check_graph(namespace["grads_of"], program, inputs, "a", own_locals=True)


def test_the_cases_say_how_to_call_them(support) -> None:
    for bad in ({"steps": 0}, {"inputs": 2.5}, {"steps": "10"}):
        with pytest.raises(ValueError, match="for example random_graph"):
            support.random_graph(0, **bad)
    with pytest.raises(ValueError, match="unknown operations"):
        support.random_graph(0, ops=("sin",))
    program, inputs = support.random_graph(0, steps=6, inputs=2)
    assert len(program) == 6 and len(inputs) == 2
    assert all(type(x) is float for x in inputs)
    assert support.random_graph(0, steps=6, inputs=2) == (program, inputs)  # seeded


def test_the_grader_reads_every_forbidden_module(support) -> None:
    from autograder.box import declared_forbidden

    read = declared_forbidden([SOURCE / "ps6_support.py"])
    assert set(read) == set(support.FORBID)
    assert {"course.graph", "course.gradcheck", "micrograd", "torch"} <= set(read)


def test_points_give_partial_credit(support, capsys) -> None:
    points = support.Points()
    with points.group("first", 1):
        pass
    with points.group("second", 3):
        raise support.checks.CheckFailure("Your thing is wrong.\n  Likely bug: a slip.")
    assert points.total() == 1.0
    assert "Points of this test: 1 of 4" in capsys.readouterr().out


def test_a_hidden_case_does_not_show_its_numbers(support) -> None:
    namespace = _solution(("return Value(other - self.data,", "return Value(self.data - other,"))
    with pytest.raises(AssertionError) as info:
        support.check_graph(namespace["grads_of"], [("-", 2.75, 0)], [1.5], "c - v", hidden="x")
    assert "an operation -" in str(info.value) and "2.75" not in str(info.value)
    with pytest.raises(AssertionError) as info:
        support.check_graph(namespace["grads_of"], [("-", 2.75, 0)], [1.5], "c - v")
    assert "2.75 - node 0" in str(info.value)
