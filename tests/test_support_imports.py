"""The kernel side of grading works without the modules an assignment forbids.

While a problem set is graded, the student's kernel cannot import the modules that its support
module's ``FORBID`` tuples name (``course.graph`` for ps1, ``course.mlp`` for ps3, ...). The kernel
still runs the notebook's locked cells that are not tests (the setup cell, the demo cells) and the
student's answers, which may use the support module's helpers. These tests hide the forbidden
modules in a fresh interpreter (an import hook that raises ImportError for them and their
submodules), then import ``course``, ``course.checks`` and the support module and run those cells
of the source notebook, with the reference solutions, in order; then a few calls that the scratch
cells suggest, whose output must not change when the modules are hidden.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "source_assignments"
ASSIGNMENTS = ("ps1", "ps2", "ps3", "ps4", "ps5", "ps6", "ps7")
DONE = "-- all cells ran --"
SCRATCH = "-- scratch --"

#: what ``from course import checks`` must survive (every module of the package it could need)
COURSE_MODULES = (
    "course.graph",
    "course.gradcheck",
    "course.mlp",
    "course.losses",
    "course.activations",
    "course.data",
    "course.optim",
    "course.train",
    "course.vanishing",
)

#: calls that the notebooks' scratch cells suggest, run after the cells (answers defined)
SCRATCH_CALLS = {
    "ps1": """
example = support.branch_example()
print(backward(example.nodes()))
print(support.describe(support.sigmoid_example().nodes()))
print(support.describe(support.tie_example().nodes()))
print(direct_indirect(0.5))
""",
    "ps2": """
print(sigmoid(np.array([-1000.0, 0.0, 1000.0])))
for z in support.random_inputs(0)[:3]:
    print(relu_prime(z), leaky_relu(z))
""",
    "ps3": """
case = support.affine_case(0, n_prev=3, n=2, m=4)
print(affine_backward(case["dZ"], (case["A_prev"], case["W"], case["b"])))
print(softmax_cross_entropy(*support.logits_case(1, K=3, m=4)))
print(sq_norm_grads(*support.lecture_example()))
X, y, params = support.network_case(0, n0=3, n1=4, K=3, m=5)
print(two_layer_loss_and_grads(X, y, params, l2=0.1))
print(support.one_hot(y, 3))
""",
    "ps4": """
rng = np.random.default_rng(0)
print(batches(10, 4, rng))
X, Y, params = support.gradient_case(seed=2, n0=2, n1=3, n2=1, m=5)
print(mlp_gradients(X, Y, params))
state = support.momentum_state(params)
momentum_step(params, mlp_gradients(X, Y, params), state, 0.1, 0.9)
print(params, state)
X, Y, _ = support.gradient_case(seed=3, n0=2, n1=3, n2=1, m=40)
trained = train(X, Y, seed=0)  # uses support.adam_state
print(support.predict(trained, X), support.accuracy(trained, X, Y))
""",
    "ps5": """
case = support.activation_case(0, n=3, m=4)
A, cache = relu_forward(case["Z"])
print(relu_backward(case["dA"], cache))
X, y, params = support.network_case(0, [3, 4, 4, 2], m=5)
print(loss_and_grads(X, y, params, l2=0.1))
print(grad_check_on("sum of squares", np.array([[1.0, -2.0]]), 0.1))
X, y, _ = support.network_case(1, [64, 10], m=60)
trained = train(X, y, seed=0)  # digits_split needs scikit-learn, which ps5's training forbids
print(support.predict(trained, X), support.accuracy(trained, X, y))
""",
    "ps6": """
a, b = Value(2.0), Value(-3.0)
f = (a * b + 1).tanh()
f.backward()
print(f.data, a.grad, b.grad)
program, inputs = support.random_graph(0, steps=6, inputs=2)
print(program, inputs, grads_of(program, inputs))
program, inputs = support.micrograd_example()
print(grads_of(program, inputs)[1][:2], chain_of(1000, 0.5, 1.001))
""",
    "ps7": """
case = support.loss_case(0, K=3, m=4)
Z, y = case["Z"], case["y"]
J, dZ = broken_softmax_ce(Z, y)
print(rel_error(dZ, grad_check(lambda z: broken_softmax_ce(z, y)[0], Z)))
print(fixed_residual_backward(support.residual_case(0, 3, 4)["dOut"], (Z, np.eye(3), Z)))
X, y = support.tiny_batch(0)
print(loss_and_grads(X, y, init_params([4, 16, 3], 0))[0], math.log(3))
params, losses = overfit_tiny_batch(X, y, 3, seed=0)
print(losses[0], losses[-1])
X, y, params = support.sweep_case(0)
print(lr_sweep(X, y, params, [0.1, 1.0], 5))
print(support.loss_curves()["D"][0][:3])
""",
}

#: runs in a fresh interpreter; its settings come as JSON in argv[1]
SCRIPT = r"""
import json
import os
import sys

settings = json.loads(sys.argv[1])
HIDDEN = tuple(settings["hidden"])


def hidden(name):
    return any(name == h or name.startswith(h + ".") for h in HIDDEN)


class Hide:
    '''Refuse to import a hidden module, as the grading sandbox does.'''

    def find_spec(self, name, path=None, target=None):
        if hidden(name):
            raise ImportError(f"{name} is not available while the assignment is graded (test)")
        return None


sys.meta_path.insert(0, Hide())
sys.path.insert(0, settings["root"])  # this repository's course package
sys.path.insert(0, settings["folder"])  # the support module, as in the kernel's folder
os.chdir(settings["folder"])

import course
import course.checks

__import__(settings["support"])
namespace = {"__name__": "__main__"}
for number, source in settings["cells"]:
    exec(compile(source, f"<cell {number}>", "exec"), namespace)
print(settings["done"], flush=True)
if settings["scratch"]:
    print(settings["scratch_marker"], flush=True)
    exec(compile(settings["scratch"], "<scratch>", "exec"), namespace)
leaked = sorted(name for name in sys.modules if hidden(name))
assert not leaked, f"hidden modules were imported: {leaked}"
"""


def forbidden(assignment: str) -> list[str]:
    """The names in the support module's ``FORBID...`` tuples, read without importing it (as the
    grader reads them)."""
    from autograder.box import declared_forbidden

    return declared_forbidden([SOURCES / assignment / f"{assignment}_support.py"])


def kernel_cells(assignment: str) -> list[tuple[int, str]]:
    """The code cells a grading kernel runs besides the tests: the locked cells that are not
    graded (setup, demos), the answer cells, here with the reference solutions, and the cells
    that are the student's own (ps1's ``STUDENT_ID``, the scratch cells)."""
    nb = json.loads((SOURCES / assignment / f"{assignment}.ipynb").read_text())
    cells = []
    for number, cell in enumerate(nb["cells"]):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] != "code":
            continue
        locked_demo = meta.get("locked") and not meta.get("grade")
        if locked_demo or (meta.get("solution") and not meta.get("grade")) or not meta:
            cells.append((number, "".join(cell["source"])))
    return cells


def run(
    assignment: str, hidden: list[str], scratch: str = "", support: str | None = None
) -> subprocess.CompletedProcess:
    settings = {
        "hidden": hidden,
        "root": str(ROOT),
        "folder": str(SOURCES / assignment),
        "support": support or f"{assignment}_support",
        "cells": kernel_cells(assignment),
        "done": DONE,
        "scratch": scratch,
        "scratch_marker": SCRATCH,
    }
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(settings)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_every_assignment_forbids_something_and_has_kernel_cells():
    for assignment in ASSIGNMENTS:
        assert "course.graph" in forbidden(assignment)
        numbers = [n for n, _ in kernel_cells(assignment)]
        assert len(numbers) >= 4, assignment  # the setup cell and the answer cells at least
        setup = kernel_cells(assignment)[0][1]
        assert f"import {assignment}_support as support" in setup
        assert "from course import checks" in setup
    assert "course.train" in forbidden("ps4") and "course.data" in forbidden("ps4")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_kernel_cells_run_without_the_forbidden_modules(assignment):
    hidden = forbidden(assignment)
    done = run(assignment, hidden, SCRATCH_CALLS[assignment])
    assert done.returncode == 0 and DONE in done.stdout, (
        f"with {', '.join(hidden)} hidden:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    )
    # the helpers that work without those modules give the same results as with them
    normal = run(assignment, [], SCRATCH_CALLS[assignment])
    assert normal.returncode == 0, normal.stderr[-5000:]
    assert done.stdout.split(SCRATCH)[1] == normal.stdout.split(SCRATCH)[1]


def test_ps1_shows_the_example_graph_exactly_as_course_graph_builds_it():
    hidden = run("ps1", forbidden("ps1"))
    normal = run("ps1", [])
    assert hidden.returncode == 0 and normal.returncode == 0, hidden.stderr + normal.stderr
    assert "node q as your function receives it:" in hidden.stdout
    assert "'local': [-4.0, 3.0]" in hidden.stdout
    assert hidden.stdout == normal.stdout


def test_ps2_depth_table_says_why_it_is_missing():
    hidden = run("ps2", forbidden("ps2"))
    assert hidden.returncode == 0, hidden.stderr[-5000:]
    assert "course.vanishing, which is not available while the assignment is graded" in (
        hidden.stdout
    )
    normal = run("ps2", [])
    assert normal.returncode == 0, normal.stderr[-5000:]
    assert "first/last" in normal.stdout and "not available" not in normal.stdout


def test_hiding_really_hides():
    """The harness itself: a support module that imports a hidden module fails to import."""
    done = run("ps1", ["numpy"])
    assert done.returncode != 0 and "ImportError" in done.stderr
    assert "numpy is not available" in done.stderr


def test_checks_import_and_work_without_any_other_course_module():
    code = (
        "import sys\n"
        f"HIDDEN = {COURSE_MODULES!r}\n"
        "class Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if any(name == h or name.startswith(h + '.') for h in HIDDEN):\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, Hide())\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from course import checks\n"
        "checks.check_array('dW', [[1.0, 2.0]], [[1.0, 2.0]])\n"
        "checks.check_gradients({'a': 1.0}, {'a': 1.0})\n"
        "assert checks.call_student(lambda x: 2 * x, 3.0, forbid=HIDDEN) == 6.0\n"
        "print(sorted(m for m in sys.modules if m.startswith('course')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['course', 'course.checks']"


def test_import_course_imports_no_submodule_and_the_shortcuts_still_work():
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "import course\n"
        "print(sorted(m for m in sys.modules if m.startswith('course')))\n"
        "from course import Value, maximum\n"
        "x = Value(3.0); y = Value(-4.0)\n"
        "f = (x * y + x) * y; f.backward()\n"
        "print(f.data, x.grad, y.grad, maximum(x, y).data, 'course.mlp' in sys.modules)\n"
        "net = course.MLP([2, 3, 1], seed=0)\n"
        "print(course.count_parameters([2, 3, 1]), net.sizes, course.Value is Value)\n"
        "print(course.__version__)\n"
        "print(sorted(set(course.__all__) - set(dir(course))))\n"
        "try:\n"
        "    course.no_such_name\n"
        "except AttributeError as exc:\n"
        "    print('AttributeError:', exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "['course']"  # neither course.graph nor course.mlp
    assert lines[1] == "36.0 12.0 -21.0 3.0 False"  # f = (xy + x) y at x = 3, y = -4
    assert lines[2] == "13 [2, 3, 1] True"
    assert lines[3] == "0.1.0"
    assert lines[4] == "[]"  # dir(course) lists every name of __all__
    assert lines[5] == "AttributeError: module 'course' has no attribute 'no_such_name'"
