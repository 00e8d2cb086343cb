"""The student's kernel gets only the example cases of a support module, never what grades.

``autograder/kernel_view.py`` writes, for the box of each kernel, a copy of the assignment's
support module that holds the names of its ``KERNEL`` tuple and what they use. Here: the view
of each shipped assignment holds exactly the names listed below (read and approved by a person:
none of them computes a graded answer), every other name of the module (the checks, the
reference answers, the mistakes' answers, the independent re-implementations) raises the
error the report calls "used the reference implementation", and what the notebooks' own cells
use still works in the view, with the modules the assignment forbids unavailable as in the box.
The grading of a submission that calls the references is in the integrity suite
(``tests/integrity/cases_box.py``, case 17).
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from autograder import kernel_view
from autograder.box import declared_forbidden, declared_rules
from autograder.findings import FORBIDDEN

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "source_assignments"

#: what each view may hold besides the imports: read these before adding a name to a KERNEL
#: tuple. ps1's graph interpreter evaluates gates on floats (the node lists need it), no gradient
#: of a whole graph; ps4's predict classifies by the sign of Z2 and gives no sigmoid values; ps5's
#: predict gives the classes of a ReLU network (no cost, no gradient) and TEST_FUNCTIONS are the
#: functions part (c) differentiates, whose gradients only the tests hold; ps6's cases are
#: programs (plain data) whose generator evaluates steps on floats to keep them finite, with no
#: gradient of any kind. ps7's cases are seeded arrays (sweep_case draws a start of the network,
#: no loss or gradient), its loss curves are drawn from formulas, not from training, and its
#: network of part (b) is given whole (no loss or layer of part (a) with it). A variant
#: (``use_variant``, ``branch_inputs``, ``_rng``) makes inputs from the student's id: the checks
#: of a variant stay in the grader. ps5's variant makes only inputs too: ``_rng`` seeds the
#: cases, ``grad_check_point`` gives the points where part (c)'s tests run the student's
#: checker (``_POINTS``: the example's, whose gradients only the tests hold) and
#: ``training_seeds`` part (d)'s split and seed (``_TRAINING``: the example's), no reference.
APPROVED = {
    "ps1": {
        "KERNEL", "BINARY", "UNARY", "Value", "TYPE_CHECKING", "GraphCase", "describe",
        "branch_example", "sigmoid_example", "square_example", "tie_example", "self_max_example",
        "dead_node_example", "chain_example", "random_example", "random_gate_inputs", "build",
        "float_nodes", "_apply_value", "_apply_float", "_graph_references",
        # the student's variant: the id chooses inputs (course/variants.py), never an answer
        "ASSIGNMENT", "variants", "use_variant", "branch_inputs", "_rng",
    },
    "ps2": {"KERNEL", "depth_table", "random_inputs", "large_inputs", "SHAPES"},
    "ps3": {
        "KERNEL", "affine_case", "logits_case", "large_logits_cases", "lecture_example",
        "norm_case", "network_case", "kink_case",
    },
    "ps4": {
        "KERNEL", "gradient_case", "random_gradient_case", "large_case", "random_batch_cases",
        "momentum_state", "adam_state", "update_case", "moons_split", "predict", "accuracy",
        "_copy",
    },
    "ps5": {
        "KERNEL", "TEST_FUNCTIONS", "affine_case", "activation_case", "network_case",
        "kink_network_case", "digits_split", "predict", "accuracy", "_draw_params", "_keys",
        "_sizes",
        # the student's variant: the id chooses inputs (course/variants.py), never an answer
        "ASSIGNMENT", "variants", "use_variant", "_rng", "grad_check_point", "_POINTS",
        "training_seeds", "_TRAINING",
    },
    "ps6": {
        "KERNEL", "BINARY", "UNARY", "random_graph", "micrograd_example", "_apply_float",
        "_operand",
    },
    "ps7": {
        "KERNEL", "layer_case", "loss_case", "residual_case", "tiny_batch", "sweep_case",
        "loss_curves", "plot_loss_curves", "network_loss_and_grads",
    },
}  # fmt: skip
#: what a support module may import at its top level (modules and typing names, no code of ours
#: that grades)
IMPORTS = {
    "annotations", "np", "math", "copy", "dataclass", "field", "checks", "Callable", "Sequence",
    "Mapping", "Iterable", "Iterator", "Any", "warnings", "dis", "sys", "types", "contextmanager",
}  # fmt: skip


def _module_names(tree: ast.Module) -> set[str]:
    return {n for node in tree.body for n in kernel_view._defined(node)}


def _support(name: str) -> Path:
    return SOURCE / name / f"{name}_support.py"


@pytest.fixture
def view(tmp_path, monkeypatch):
    """Load the kernel's view of an assignment's support module, with the modules the
    assignment forbids unavailable (as the box's stubs make them)."""

    def load(assignment: str):
        path = _support(assignment)
        target = tmp_path / path.name
        assert kernel_view.write(path, target, assignment)
        for forbidden in declared_forbidden([path]):
            monkeypatch.setitem(sys.modules, forbidden, None)
        spec = importlib.util.spec_from_file_location(f"view_{assignment}", target)
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, spec.name, module)  # a dataclass looks itself up there
        spec.loader.exec_module(module)
        return module

    return load


def _full(assignment: str):
    path = _support(assignment)
    spec = importlib.util.spec_from_file_location(f"full_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # a dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("assignment", sorted(APPROVED))
def test_the_view_holds_only_the_approved_names(assignment):
    tree = ast.parse(_support(assignment).read_text())
    statements, bound = kernel_view.closure(tree, kernel_view.declared(tree))
    code = bound - IMPORTS
    assert code == APPROVED[assignment], (
        f"{assignment}'s kernel view changed: new {sorted(code - APPROVED[assignment])}, "
        f"gone {sorted(APPROVED[assignment] - code)}"
    )


@pytest.mark.parametrize("assignment", sorted(APPROVED))
def test_every_other_name_raises_the_reference_error(assignment, view):
    module = view(assignment)
    everything = _module_names(ast.parse(_support(assignment).read_text()))
    hidden = sorted(n for n in everything - APPROVED[assignment] - IMPORTS if n[:2] != "__")
    assert len(hidden) >= 10  # the checks and references are there to hide
    for name in hidden:
        with pytest.raises(ImportError) as caught:
            getattr(module, name)
        assert type(caught.value).__name__ == FORBIDDEN, name
        assert f"{assignment}_support.{name} is not available" in str(caught.value)
        assert "KERNEL" not in str(caught.value)  # the student is told what to use, in words


def test_the_named_references_are_out_of_reach(view):
    """The routes to a full score that were open before the view, one per assignment."""
    ps1, ps2, ps3, ps4, ps5, ps6, ps7 = (view(f"ps{n}") for n in range(1, 8))
    for module, name in [
        (ps1, "gate_reference"),
        (ps1, "direct_indirect_reference"),
        (ps1, "numeric_gradients"),
        (ps2, "reference"),
        (ps2, "INDEPENDENT"),
        (ps3, "network_variant"),
        (ps3, "network_cost"),
        (ps3, "one_hot"),
        (ps3, "_logsumexp"),
        (ps3, "softmax_ce_reference"),
        (ps4, "_sigmoid"),
        (ps4, "reference_gradients"),
        (ps4, "_adam_step_only"),
        (ps4, "expected_sizes"),
        (ps5, "network_variant"),
        (ps5, "network_cost"),
        (ps5, "_pre_activations"),
        (ps5, "_sigmoid"),
        (ps5, "_logsumexp"),
        (ps5, "_centred"),
        (ps5, "_compose"),
        (ps6, "reference"),
        (ps6, "local_gradients"),
        (ps6, "sweep"),
        (ps6, "evaluate"),
        (ps6, "numeric_gradients"),
        (ps7, "sweep_reference"),
        (ps7, "network_loss"),
        (ps7, "_forward"),
        (ps7, "_ce"),
        (ps7, "_logsumexp"),
        (ps7, "_one_hot"),
        (ps7, "check_softmax_ce"),
    ]:
        assert not hasattr(module, "__dict__") or name not in vars(module), name
        with pytest.raises(ImportError):
            getattr(module, name)
    # the functions the view keeps cannot reach them either
    for module in (ps1, ps2, ps3, ps4, ps5, ps6, ps7):
        for value in vars(module).values():
            if getattr(value, "__module__", None) == module.__name__ and hasattr(
                value, "__globals__"
            ):
                assert value.__globals__ is vars(module)


def test_what_the_notebooks_use_still_works(view):
    ps1, ps2, ps3, ps4 = (view(f"ps{n}") for n in range(1, 5))
    full1, full3, full4 = _full("ps1"), _full("ps3"), _full("ps4")

    # ps1: the example graph of cell b_example, its node list and its table
    got, want = ps1.branch_example().nodes(), full1.branch_example().nodes()
    assert [n["name"] for n in got] == [n["name"] for n in want]
    for g, w in zip(got, want, strict=True):
        assert g["parents"] == w["parents"] and g["value"] == pytest.approx(w["value"])
        assert np.allclose(g["local"], w["local"], rtol=1e-8, atol=1e-12)
    assert "q" in ps1.describe(got)
    with pytest.raises(ImportError):  # the graph's answers need course.graph
        ps1.branch_example().expected  # noqa: B018

    # ps2: the depth table says it is not available while graded
    assert "not available while the assignment is graded" in ps2.depth_table(depth=3)

    # ps3: the scratch cells' cases are the same numbers
    a, b = ps3.network_case(0, n0=3, n1=4, K=3, m=5), full3.network_case(0, n0=3, n1=4, K=3, m=5)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert all(np.array_equal(a[2][k], b[2][k]) for k in b[2])

    # ps4: accuracy of a network, as in the scratch cell, agrees with course.mlp's
    rng = np.random.default_rng(3)
    X = rng.normal(size=(2, 200))
    Y = (rng.uniform(size=(1, 200)) < 0.5).astype(float)
    params = {
        "W1": rng.normal(size=(5, 2)),
        "b1": rng.normal(size=(5, 1)),
        "W2": rng.normal(size=(1, 5)),
        "b2": rng.normal(size=(1, 1)),
    }
    assert ps4.accuracy(params, X, Y) == full4.accuracy(params, X, Y)
    assert ps4.adam_state(params)["m"]["W1"].shape == (5, 2)

    # ps5: the scratch cells' cases are the same numbers; the test functions of part (c) (which
    # the notebook's locked cell hands to grad_check) are there and give the same values
    ps5, full5 = view("ps5"), _full("ps5")
    a, b = ps5.network_case(0, [3, 4, 4, 2], m=5), full5.network_case(0, [3, 4, 4, 2], m=5)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert all(np.array_equal(a[2][k], b[2][k]) for k in b[2])
    x = np.array([[0.5, -1.0], [2.0, 0.25]])
    for name, f in full5.TEST_FUNCTIONS.items():
        assert ps5.TEST_FUNCTIONS[name](x) == f(x), name
    assert ps5.accuracy(b[2], a[0], a[1]) == full5.accuracy(b[2], b[0], b[1])

    # ps6: the scratch cell's random programs and micrograd's example are the same plain data
    ps6, full6 = view("ps6"), _full("ps6")
    assert ps6.random_graph(0, steps=6, inputs=2) == full6.random_graph(0, steps=6, inputs=2)
    assert ps6.micrograd_example() == full6.micrograd_example()
    assert ps6.BINARY + ps6.UNARY == full6.BINARY + full6.UNARY

    # ps7: the cases of the scratch cells are the same numbers, and the figure of part (c) draws
    ps7, full7 = view("ps7"), _full("ps7")
    for a, b in (
        (ps7.layer_case(0, 3, 2, 4), full7.layer_case(0, 3, 2, 4)),
        (ps7.residual_case(1, 3, 4), full7.residual_case(1, 3, 4)),
        (ps7.loss_case(2, 3, 4), full7.loss_case(2, 3, 4)),
    ):
        assert all(np.array_equal(a[k], b[k]) for k in b)
    a, b = ps7.sweep_case(0), full7.sweep_case(0)
    assert np.array_equal(a[0], b[0]) and all(np.array_equal(a[2][k], b[2][k]) for k in b[2])
    assert all(np.array_equal(x, y) for x, y in zip(ps7.tiny_batch(3), full7.tiny_batch(3)))
    assert len(ps7.plot_loss_curves().axes) == 4
    X, y, params = full7.sweep_case(1)
    (J, grads), (J_full, grads_full) = (
        m.network_loss_and_grads(X, y, params) for m in (ps7, full7)
    )
    assert J == J_full and all(np.array_equal(grads[k], grads_full[k]) for k in grads_full)


def test_probes_get_a_plain_attribute_error(view):
    module = view("ps3")
    for name in ("__path__", "__wrapped__", "_repr_html_", "_ipython_display_"):
        assert not hasattr(module, name)


def test_a_module_without_kernel_is_given_whole(tmp_path):
    helper = tmp_path / "helpers.py"
    helper.write_text("def f():\n    return 1\n")
    assert kernel_view.build(helper.read_text(), "helpers", "psX") is None
    assert not kernel_view.write(helper, tmp_path / "out.py", "psX")
    assert not (tmp_path / "out.py").exists()


MODULE = '''
from __future__ import annotations

import numpy as np

KERNEL = ("example",)
SCALE = 2.0
TABLE = {"ref": lambda z: z * 3}


def _draw(rng: Reference) -> np.ndarray:
    return rng.normal(size=3) * SCALE


def example(seed: int = 0) -> np.ndarray:
    """A case."""
    return _draw(np.random.default_rng(seed))


class Reference:
    def answer(self, z):
        return TABLE["ref"](z)


def reference(z):
    return Reference().answer(z)
'''


def test_the_closure_follows_names_and_nothing_else(tmp_path):
    source = kernel_view.build(MODULE, "psx_support", "psx")
    namespace: dict = {}
    exec(compile(source, "psx_support.py", "exec"), namespace)
    assert {"example", "_draw", "SCALE", "np", "KERNEL"} <= set(namespace)
    # an annotation is not a use (annotations are strings here)
    assert not {"Reference", "reference", "TABLE"} & set(namespace)
    assert namespace["example"](1).shape == (3,)
    err = pytest.raises(ImportError, namespace["__getattr__"], "reference")
    assert "psx_support.reference is not available while psx is graded" in str(err.value)
    assert "may use of psx_support here: example" in str(err.value)


@pytest.mark.parametrize(
    ("kernel", "message"),
    [
        ('KERNEL = ("nothing_here",)', "KERNEL names nothing_here, which the module does not"),
        ("KERNEL = (f.__name__,)", "KERNEL must be a literal tuple of names"),
        ("KERNEL = (1, 2)", "KERNEL must be a tuple of names (strings), got (1, 2)"),
    ],
)
def test_a_bad_kernel_tuple_is_named(kernel, message):
    with pytest.raises(
        kernel_view.KernelViewError, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        kernel_view.build(f"def f():\n    pass\n\n{kernel}\n", "m", "psx")


def test_every_shipped_support_module_declares_what_the_kernel_gets():
    for path in sorted(SOURCE.glob("*/*_support.py")):
        tree = ast.parse(path.read_text())
        assert kernel_view.declared(tree) is not None, f"{path.name} has no KERNEL tuple"


#: installed libraries that differentiate, or compute activations, losses or whole networks: a
#: graded part may use none of them (scikit-learn's MLPClassifier._backprop answered ps3's part
#: (d) exactly, sympy's diff ps1's gates, scipy.special.log_softmax ps3's part (b))
LIBRARIES = {
    "micrograd", "torch", "jax", "autograd", "tensorflow", "keras", "sklearn", "scipy", "sympy",
    "mpmath",
    "course.exercises",  # the lessons' exercises: their references and worked solutions
}  # fmt: skip


@pytest.mark.parametrize("assignment", sorted(APPROVED))
def test_every_rule_forbids_the_libraries_that_do_the_work(assignment):
    rules = declared_rules(_support(assignment))
    assert "FORBID" in rules
    for name, forbidden in rules.items():
        assert LIBRARIES <= set(forbidden), (
            f"{assignment} {name} allows {sorted(LIBRARIES - set(forbidden))}"
        )


def test_a_rule_is_read_with_the_course_wide_list(tmp_path):
    module = tmp_path / "psx_support.py"
    module.write_text(
        "from course import checks\n"
        'FORBID = ("course.mlp", *checks.ALWAYS_FORBIDDEN)\n'
        'FORBID_TRAINING = ("course.train",)\n'
    )
    rules = declared_rules(module)
    assert rules["FORBID"][0] == "course.mlp" and LIBRARIES <= set(rules["FORBID"])
    assert rules["FORBID_TRAINING"] == ["course.train"]
    module.write_text('FORBID = ("course.mlp", *OTHER)\n')
    with pytest.raises(ValueError, match=r"not \*OTHER"):
        declared_rules(module)
