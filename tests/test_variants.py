"""Per-student variants (``course/variants.py``): seeds, where the id comes from, the checks of a
notebook answered for another id, what the kernel gets of them, and a class graded end to end.

The end-to-end test grades ps1 (hardened, ``--jobs 1``) for three students: alice, with her own
answers; bob, whose notebook is alice's whole (her ``STUDENT_ID`` in it); and carol, with her
own code but the numbers of part (b) typed from alice's notebook. Then alice's notebook graded as
carol's fails with the message that names both ids. ps5's variant (the seeded cases, the points
of part (c), the training runs of part (d)) is tested alike, and graded for alice and bob.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import nbformat
import numpy as np
import pytest

from course import variants
from course.checks import CheckFailure

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "autograder" / "sample_class" / "ps1"


def load_ps1() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "ps1_support_variants", ROOT / "source_assignments" / "ps1" / "ps1_support.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def no_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """No id from the environment, and nothing chosen earlier."""
    monkeypatch.delenv(variants.GRADER_ENV, raising=False)
    monkeypatch.delenv(variants.HUB_ENV, raising=False)
    monkeypatch.setattr(variants, "_USED", {})


# -- the seed -------------------------------------------------------------------------------------


def test_the_seed_is_sha256_of_salt_assignment_and_id() -> None:
    digest = hashlib.sha256(b"backprop-course\nps1\njsmith").digest()
    assert variants.variant_seed("jsmith", "ps1") == int.from_bytes(digest[:8], "big")
    assert variants.variant_seed("jsmith", "ps1", salt="other term") != variants.variant_seed(
        "jsmith", "ps1"
    )


def test_an_id_is_read_without_case_spaces_or_unicode_spelling() -> None:
    seed = variants.variant_seed("jose", "ps1")
    assert variants.variant_seed("  JOSE ", "ps1") == seed
    assert variants.variant_seed("Jos\u00e9", "ps1") == variants.variant_seed("jose\u0301", "ps1")
    assert variants.variant_seed("Jane Smith", "ps1") == variants.variant_seed("jane_smith", "ps1")
    assert variants.variant_seed("Jane Smith", "ps1") != variants.variant_seed("janesmith", "ps1")


def test_different_ids_and_assignments_give_different_variants() -> None:
    ids = [f"student{k}" for k in range(200)]
    seeds = {variants.variant_seed(i, "ps1") for i in ids}
    assert len(seeds) == len(ids)
    assert variants.variant_seed("a", "ps1") != variants.variant_seed("a", "ps5")
    codes = {variants.variant_code(s) for s in seeds}
    assert len(codes) > 195 and all(re.fullmatch(r"[A-Z2-9]{5}", c) for c in codes)
    ps1 = load_ps1()
    inputs = {ps1.branch_inputs(variants.Variant("ps1", i, "")) for i in ids}
    assert len(inputs) > 30  # 10 x 10 possible pairs of (x, y)


def test_a_variant_makes_independent_generators_per_purpose() -> None:
    v = variants.Variant("ps1", "alice", "")
    assert v.rng(1).random() == variants.Variant("ps1", "alice", "").rng(1).random()
    assert v.rng(1).random() != v.rng(2).random()


# -- where the id comes from ----------------------------------------------------------------------


def test_the_id_stated_then_the_graders_then_the_hub_login(
    no_ids: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert variants.resolve("ps1").example
    monkeypatch.setenv(variants.HUB_ENV, "hubuser")
    assert variants.resolve("ps1").student_id == "hubuser"
    monkeypatch.setenv(variants.GRADER_ENV, "graded")
    assert variants.resolve("ps1").student_id == "graded"
    assert variants.resolve("ps1", " stated ").student_id == "stated"
    with pytest.raises(TypeError, match="STUDENT_ID must be text in quotes"):
        variants.resolve("ps1", 1234)  # type: ignore[arg-type]


def test_without_an_id_the_notebook_says_how_to_state_one(
    no_ids: None, capsys: pytest.CaptureFixture[str]
) -> None:
    ps1 = load_ps1()
    variant = ps1.use_variant("")
    out = capsys.readouterr().out
    assert variant.example and "Your variant: EXAMPLE" in out
    assert 'STUDENT_ID = "your id"' in out and "JupyterHub" in out
    assert ps1.branch_inputs() == (3.0, -4.0)  # the lecture's graph
    ps1.use_variant("alice")
    assert "Your variant: " in capsys.readouterr().out
    assert ps1.branch_inputs() == ps1.branch_inputs(variants.Variant("ps1", "alice", ""))


def test_a_hub_student_who_states_another_id_is_warned(
    no_ids: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(variants.HUB_ENV, "bob")
    variants.use("ps1", "alice")
    assert "you are logged in as 'bob' but STUDENT_ID says 'alice'" in capsys.readouterr().out


# -- grading ------------------------------------------------------------------------------------


def test_grading_uses_the_submissions_id_whatever_the_notebook_states(no_ids: None) -> None:
    ps1 = load_ps1()
    ps1.use_variant("alice")  # what a kernel in the same process would have chosen
    with variants.grading("carol"):
        assert variants.current("ps1").student_id == "carol"
        carol = ps1.branch_inputs()
        ps1.check_variant("")  # nothing stated: the submission's id
        ps1.check_variant("CAROL")
        with pytest.raises(CheckFailure) as caught:
            ps1.check_variant("alice")
    assert carol == ps1.branch_inputs(variants.Variant("ps1", "carol", ""))
    assert caught.value.problem == "other_variant"
    assert str(caught.value).startswith(
        "this notebook was answered for the variant of student id alice, but it was "
        "submitted as carol"
    )
    ps1.check_variant("alice")  # outside grading (Validate) the stated id is the one in use


def hand(ps1: ModuleType, student: str) -> Callable[[], dict[str, float]]:
    """A right hand_gradients of ``student``'s variant, worked out here by the chain rule
    (f = x*y*y + x*y), independently of the support module's graph."""
    x, y = ps1.branch_inputs(variants.Variant("ps1", student, ""))
    return lambda: {"x": y * y + y, "y": 2 * x * y + x}


def test_numbers_of_a_classmates_variant_are_named(no_ids: None) -> None:
    ps1 = load_ps1()
    with variants.grading("carol", classmates=["alice", "bob", "carol"]):
        ps1.check_hand_gradients(hand(ps1, "carol"))
        with pytest.raises(CheckFailure) as caught:
            ps1.check_hand_gradients(hand(ps1, "bob"))
        assert "variant of student id bob, but it was submitted as carol" in str(caught.value)
        right = hand(ps1, "carol")()
        with pytest.raises(CheckFailure) as caught:
            ps1.check_hand_gradients(lambda: {"x": right["x"] + 1, "y": right["y"]})
        assert "student id" not in str(caught.value) and "hand_gradients" in str(caught.value)
    with variants.grading("carol"):  # no class known: a plain wrong answer
        with pytest.raises(CheckFailure) as caught:
            ps1.check_hand_gradients(hand(ps1, "bob"))
        assert "student id" not in str(caught.value)


def test_the_kernel_gets_the_inputs_of_its_variant_and_no_answer(tmp_path: Path) -> None:
    from autograder.kernel_view import write

    target = tmp_path / "ps1_support.py"
    assert write(ROOT / "source_assignments" / "ps1" / "ps1_support.py", target, "ps1")
    text = target.read_text()
    for kept in ("def use_variant", "def branch_inputs", "def _rng", "def random_gate_inputs"):
        assert kept in text, kept
    for graded in ("def check_hand_gradients", "def check_variant", "def check_backward"):
        assert graded not in text, graded
    # course.variants itself holds no answer: only ids, seeds and the messages
    source = (ROOT / "course" / "variants.py").read_text()
    assert "expected" not in source and "import course.graph" not in source


# -- a class graded end to end --------------------------------------------------------------------


def _with_answers(sample: str, student_id: str = "", hand_source: str | None = None) -> str:
    nb = nbformat.read(SAMPLE / f"{sample}.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.get("id") == "student-id":
            cell.source = f'STUDENT_ID = "{student_id}"'
        if cell.get("id") == "b-hand" and hand_source is not None:
            cell.source = hand_source
    return nbformat.writes(nb)


@pytest.mark.slow
def test_a_class_graded_under_each_students_id(tmp_path: Path) -> None:
    from autograder.coursedir import Course
    from autograder.grading import grade
    from autograder.release import release

    root = tmp_path / "course"
    root.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", root)
    shutil.copytree(ROOT / "source_assignments" / "ps1", root / "source_assignments" / "ps1")
    course = Course(root)
    assert release(course, ["ps1"]) == 0
    ps1 = load_ps1()
    alice = hand(ps1, "alice")()
    typed = f'def hand_gradients():\n    return {{"x": {alice["x"]!r}, "y": {alice["y"]!r}}}'
    notebooks = {
        "alice": _with_answers("correct", "alice"),
        "bob": _with_answers("correct", "alice"),  # alice's notebook, as she sent it
        "carol": _with_answers("rewritten", "", typed),  # alice's numbers, typed
        "dave": _with_answers("correct", ""),  # computed from the variant: right for anyone
    }
    incoming = tmp_path / "incoming"
    for student, text in notebooks.items():
        (incoming / student / "ps1").mkdir(parents=True)
        (incoming / student / "ps1" / "ps1.ipynb").write_text(text)
    result = grade(course, "ps1", incoming, jobs=1, out=tmp_path / "out")
    totals = {s: result.table.row(s).total for s in notebooks}
    assert totals == {"alice": 20, "bob": 0, "carol": 16, "dave": 20}
    assert result.table.row("carol").parts["test_b_examples"] == 0
    page = {s: (tmp_path / "out" / "feedback" / f"{s}.html").read_text() for s in notebooks}
    named = "this notebook was answered for the variant of student id alice, but it was submitted"
    assert f"{named} as bob" in page["bob"]
    assert f"{named} as carol" in page["carol"]
    gives = "hand_gradients() gives the gradients of the variant of student id alice"
    assert gives in page["carol"]
    assert "student id alice" not in page["alice"] + page["dave"]
    kinds = {s: {f.kind for f in result.outcomes[s].findings} for s in notebooks}
    assert kinds["bob"] == kinds["carol"] == {"variant"}
    assert not kinds["alice"] and not kinds["dave"]
    assert "answered for another student's variant" in result.problems()["bob"][0]


# -- ps5: the cases, points and training runs of each student's variant ---------------------------


SAMPLE5 = ROOT / "autograder" / "sample_class" / "ps5"


def load_ps5() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "ps5_support_variants", ROOT / "source_assignments" / "ps5" / "ps5_support.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_ps5s_example_variant_keeps_the_numbers_it_was_written_with(no_ids: None) -> None:
    ps5 = load_ps5()
    assert ps5.use_variant("").example
    case = ps5.affine_case(11, 4, 3, 5)  # numpy's generator of seed 11, drawn in this order
    rng = np.random.default_rng(11)
    assert np.array_equal(case["A_prev"], rng.normal(size=(4, 5)))
    assert np.array_equal(case["W"], rng.normal(size=(3, 4)))
    assert ps5.grad_check_point("matrix").tolist() == [[1.0, -2.0, 0.5], [3.0, 0.0, -1.5]]
    assert ps5.grad_check_point("column").tolist() == [[0.3], [-1.2], [2.0], [0.7]]
    assert ps5.grad_check_point("vector").tolist() == [1.5, -0.5, 2.0, 0.8, -1.1]
    assert ps5.grad_check_point("one entry").tolist() == [[2.5]]
    assert [ps5.training_seeds(run) for run in range(3)] == [(0, 0), (1, 1), (2, 12345)]
    assert ps5.variant_shapes("affine", [(1, 1, 1), (7, 1, 30)]) == [[1, 1, 1], [7, 1, 30]]
    with pytest.raises(ValueError, match="kind is one of"):
        ps5.grad_check_point("cube")


def test_ps5s_numbers_are_each_students_own(no_ids: None) -> None:
    ps5 = load_ps5()
    example = ps5.network_case(81, [3, 4, 3], m=5)[0]
    made = {}
    for student in ("alice", "bob"):
        ps5.use_variant(student)
        X, y, params = ps5.network_case(81, [3, 4, 3], m=5)
        assert X.shape == (3, 5) and y.shape == (5,) and params["W2"].shape == (3, 4)
        made[student] = (X, ps5.grad_check_point("matrix"), ps5.training_seeds(1))
        with variants.grading(student):  # the grader makes the same from the submission's id
            assert np.array_equal(ps5.network_case(81, [3, 4, 3], m=5)[0], X)
            assert ps5.training_seeds(1) == made[student][2]
    (Xa, xa, ta), (Xb, xb, tb) = made["alice"], made["bob"]
    assert not np.array_equal(Xa, Xb) and not np.array_equal(Xa, example)
    assert not np.array_equal(xa, xb) and ta != tb
    assert ps5.training_seeds(0) != ps5.training_seeds(1)  # bob's visible and hidden runs


def test_ps5s_shapes_and_points_keep_what_the_tests_are_about(no_ids: None) -> None:
    """The hidden tests' kinds survive every variant: the depths, a width or batch of 1, sizes
    near the written ones; the points of part (c) have no entry 0 (the product's gradient)."""
    ps5 = load_ps5()
    written = [[3, 4, 7], [2, 3, 2, 1], [1, 2, 2, 2, 2, 4], [6, 3, 5, 4, 3, 10, 16]]
    changed = 0
    for k in range(100):
        with variants.grading(f"student{k}"):
            shapes = ps5.variant_shapes("depths", written)
            for shape, base in zip(shapes, written):
                assert len(shape) == len(base)
                for n, b in zip(shape, base):
                    assert n == 1 if b == 1 else max(2, b - b // 2) <= n <= b + b // 2
            changed += shapes != written
            for kind, size in (("matrix", (2, 3)), ("column", (4, 1)), ("vector", (5,))):
                x = ps5.grad_check_point(kind)
                assert x.shape == size and np.all(x != 0) and np.all(np.abs(x) <= 3)
    assert changed > 90


def test_ps5_fails_a_notebook_answered_for_another_id(no_ids: None) -> None:
    ps5 = load_ps5()
    with variants.grading("carol"):
        ps5.check_variant("")
        ps5.check_variant("Carol")
        with pytest.raises(CheckFailure) as caught:
            ps5.check_variant("alice")
    assert caught.value.problem == "other_variant"
    assert "variant of student id alice, but it was submitted as carol" in str(caught.value)


def test_ps5s_kernel_gets_the_inputs_of_its_variant_and_no_check(tmp_path: Path) -> None:
    from autograder.kernel_view import write

    target = tmp_path / "ps5_support.py"
    assert write(ROOT / "source_assignments" / "ps5" / "ps5_support.py", target, "ps5")
    text = target.read_text()
    for kept in ("def use_variant", "def _rng", "def grad_check_point", "def training_seeds"):
        assert kept in text, kept
    for graded in ("def check_variant", "def check_network", "def check_grad_check"):
        assert graded not in text, graded


@pytest.mark.slow
def test_ps5_graded_under_each_students_id(tmp_path: Path) -> None:
    """Hardened grading of ps5: alice's own notebook earns everything under her id's cases and
    training runs; the same notebook submitted as bob's earns nothing and says whose it is."""
    from autograder.coursedir import Course
    from autograder.grading import grade
    from autograder.release import release

    root = tmp_path / "course"
    root.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", root)
    shutil.copytree(ROOT / "source_assignments" / "ps5", root / "source_assignments" / "ps5")
    course = Course(root)
    assert release(course, ["ps5"]) == 0
    nb = nbformat.read(SAMPLE5 / "correct.ipynb", as_version=4)
    (cell,) = [c for c in nb.cells if c.get("id") == "student-id"]
    cell.source = 'STUDENT_ID = "alice"'
    incoming = tmp_path / "incoming"
    for student in ("alice", "bob"):
        (incoming / student / "ps5").mkdir(parents=True)
        nbformat.write(nb, incoming / student / "ps5" / "ps5.ipynb")
    result = grade(course, "ps5", incoming, jobs=1, out=tmp_path / "out")
    assert {s: result.table.row(s).total for s in ("alice", "bob")} == {"alice": 28, "bob": 0}
    page = (tmp_path / "out" / "feedback" / "bob.html").read_text()
    assert "answered for the variant of student id alice, but it was submitted as bob" in page
    assert {f.kind for f in result.outcomes["bob"].findings} == {"variant"}
    assert not result.outcomes["alice"].findings


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))


@pytest.mark.parametrize("stated", [0, 7.5, None, ["alice"], {"id": "alice"}])
def test_a_stated_id_that_is_not_text_fails_instead_of_switching_the_check_off(
    no_ids: None, stated: object
) -> None:
    """The kernel sends STUDENT_ID as any plain value: a number or a list must not turn the
    check of the stated id off (a review's copied notebook scored 16 and 20 of 20 that way)."""
    ps1, ps5 = load_ps1(), load_ps5()
    with variants.grading("carol"):
        for support in (ps1, ps5):
            with pytest.raises(CheckFailure) as caught:
                support.check_variant(stated)
            assert caught.value.problem == "other_variant"
            assert "STUDENT_ID should be your id as text" in str(caught.value)
    variants.check_stated("ps1", 0)  # in a kernel where nothing is graded: nothing to check
