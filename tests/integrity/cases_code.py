"""Cases 3-6 of the integrity suite: answers that cheat in code, not in the notebook's structure.

Each case is the correct ps1 submission with one part made *wrong* (an answer that the honest
tests fail: its points are 0) and then a cheat added that would make the wrong answer pass if it
worked: monkeypatching what the tests rely on (3), letting the package compute the answer (4),
reaching for the course's files (5), and printing a fake success (6).

The tests never run in the student's kernel (``autograder/checker.py`` runs them in the grader,
which asks the kernel only for the notebook's functions and values), so a patch made in the
kernel cannot change a verdict: each of (3) earns exactly what its honest code deserves, by
construction, and is no longer reported as such (where its code reaches for the machinery
grading relies on, the report points a human at it: "suspicious"). The package's forbidden
modules are stubs in the kernel's box (4: "delegation"), and the course's files are not in the
box at all (5).
"""

from __future__ import annotations

from tests.integrity.case import Case, append, blank, cell, correct, free_cell, full, zero_for

WRONG_MAX = '''def max_backward(a, b, upstream):
    """Wrong on purpose: the gradient goes to neither input."""
    return 0.0, 0.0
'''
WRONG_BACKWARD = '''def backward(graph):
    """Wrong on purpose: every gradient is 1."""
    return {node["name"]: 1.0 for node in graph}
'''


def wrong_max(nb):
    cell(nb, "a_max").source = WRONG_MAX
    return nb


def wrong_backward(nb):
    cell(nb, "b_backward").source = WRONG_BACKWARD
    return nb


# -- 3. monkeypatching ---------------------------------------------------------------------------

PATCH_NUMPY = """
import numpy as np

np.allclose = lambda *args, **kwargs: True
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.shape(a), dtype=bool)
np.array_equal = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
"""

PATCH_CHECKS = """
import ps1_support
from course import checks

checks.check_array = lambda *args, **kwargs: None
checks.check_tuple = lambda *args, **kwargs: None
checks.check_gradients = lambda *args, **kwargs: None
ps1_support.check_gate = lambda *args, **kwargs: None
"""

PATCH_BUILTINS = """
import builtins


class Anything:
    def __eq__(self, other):
        return True


builtins.isinstance = lambda obj, kind: True
builtins.abs = lambda x: 0.0
builtins.AssertionError = type("AssertionError", (Warning,), {})


def isinstance(obj, kind):  # noqa: A001 (a cheat: shadows the builtin in the notebook)
    return True


def abs(x):  # noqa: A001
    return 0.0
"""

PATCH_SYS_MODULES = """
import sys
import types

fake = types.ModuleType("ps1_support")
fake.__getattr__ = lambda name: (lambda *args, **kwargs: None)
sys.modules["ps1_support"] = fake
"""

PATCH_COURSE = """
from course import graph

try:
    graph.Value.backward = lambda self: None
except Exception as exc:  # the autograder refuses; a cheat would try the next trick
    print("could not patch Value.backward:", exc)
graph.maximum = lambda a, b: a
"""

PATCH_WHILE_TESTED = '''def max_backward(a, b, upstream):
    """Wrong, and while the tests call it, it turns the checks off."""
    import ps1_support
    from course import checks

    checks.check_tuple = lambda *args, **kwargs: None
    checks.check_array = lambda *args, **kwargs: None
    ps1_support.check_gate = lambda *args, **kwargs: None
    return 0.0, 0.0
'''

PATCH_CODE = """
from course import checks

checks.check_tuple.__code__ = (lambda *args, **kwargs: None).__code__
"""

SWITCH_GUARD_OFF = """
ip = get_ipython()
for event in ("pre_run_cell", "post_run_cell"):
    ip.events.callbacks[event].clear()
"""


def patched(answer: str, code: str, wrong=wrong_max):
    def build():
        return append(wrong(correct()), answer, code)

    return build


def patch_while_tested():
    nb = correct()
    cell(nb, "a_max").source = PATCH_WHILE_TESTED
    return nb


def guard_off():
    nb = wrong_max(correct())
    nb.cells.insert(nb.cells.index(cell(nb, "a_add_mul")) + 1, free_cell(SWITCH_GUARD_OFF))
    return append(nb, "a_add_mul", PATCH_CHECKS)


# -- 4. delegation -------------------------------------------------------------------------------

DELEGATE_BODY = """
    nodes = {}
    for node in graph:
        parents = tuple(nodes[p] for p in node["parents"])
        nodes[node["name"]] = VALUE(node["value"], parents, node["op"], tuple(node["local"]))
    nodes[graph[-1]["name"]].backward()
    return {name: v.grad for name, v in nodes.items()}
"""

DELEGATIONS = {
    "delegate_direct": ("from course.graph import Value", "Value"),
    "delegate_alias": ("import course.graph as cg\nmy_node = cg.Value", "my_node"),
    "delegate_importlib": (
        'import importlib\nengine = importlib.import_module("course" + ".graph")',
        "engine.Value",
    ),
    "delegate_dunder_import": (
        'Value = __import__("course.graph", fromlist=["Value"]).Value',
        "Value",
    ),
    "delegate_exec_source": (
        "import os\n\nimport course\n\n"
        '_path = os.path.join(os.path.dirname(course.__file__), "graph.py")\n'
        '_graph = {"__name__": "course.graph"}\n'
        "with open(_path) as _fh:\n"
        '    exec(compile(_fh.read(), _path, "exec"), _graph)',
        '_graph["Value"]',
    ),
    "delegate_pyc": (
        "import glob\nimport importlib.util\nimport marshal\nimport os\n\nimport course\n\n"
        '_graph = {"__name__": "course.graph"}\n'
        '_folder = os.path.join(os.path.dirname(course.__file__), "__pycache__")\n'
        '_compiled = sorted(glob.glob(os.path.join(_folder, "graph.*.pyc")))\n'
        "if _compiled:  # the compiled module, past its 16-byte header\n"
        '    with open(_compiled[0], "rb") as _fh:\n'
        "        exec(marshal.loads(_fh.read()[16:]), _graph)\n"
        "else:  # no compiled copy: the code object the import system itself would run\n"
        '    _spec = importlib.util.find_spec("course.graph")\n'
        '    exec(_spec.loader.get_code("course.graph"), _graph)',
        '_graph["Value"]',
    ),
    "delegate_copy": (
        "import copy\nimport types\nfrom course import graph\n\n"
        "MyValue = type('MyValue', (graph.Value,), {})\n"
        "own_backward = types.FunctionType(graph.Value.backward.__code__, {})",
        "MyValue",
    ),
}


def delegate(name: str):
    setup, value = DELEGATIONS[name]

    def build():
        nb = correct()
        cell(
            nb, "b_backward"
        ).source = f"{setup}\n\n\ndef backward(graph):{DELEGATE_BODY.replace('VALUE', value)}"
        return nb

    return build


# -- 5. the course's files -----------------------------------------------------------------------

READ_FILES = """
import os
import sqlite3
from pathlib import Path

import course

candidates = [Path("..") / ("../" * k) for k in range(7)]
candidates.append(Path(course.__file__).resolve().parent.parent)
candidates.append(Path(os.environ.get("PWD", ".")))
try:
    print("LEAKED hidden tests here", len(open("ps1.ipynb").read()))
except Exception as exc:
    print("refused:", type(exc).__name__)
for base in candidates:
    for target in ("source_assignments/ps1/ps1.ipynb", "gradebook.db", "release", "submitted"):
        path = base / target
        try:
            if path.suffix == ".db":
                rows = sqlite3.connect(path).execute("SELECT * FROM grade").fetchall()
                print("LEAKED gradebook", path, len(rows))
            elif path.is_dir():
                print("LEAKED folder", path, os.listdir(path))
            elif path.exists():
                print("LEAKED hidden tests", path, len(path.read_text()))
        except Exception as exc:
            print("refused:", type(exc).__name__)
"""

WRITE_FILES = """
import os
from pathlib import Path

import course

for base in [Path("..") / ("../" * k) for k in range(7)]:
    for target in ("gradebook.db", "source_assignments/ps1/ps1.ipynb"):
        path = base / target
        try:
            if path.exists():
                with open(path, "a") as fh:
                    fh.write("corrupted")
                print("WROTE", path)
        except Exception as exc:
            print("refused:", type(exc).__name__)
        try:
            os.remove(path)
            print("REMOVED", path)
        except Exception as exc:
            print("refused:", type(exc).__name__)
"""


# -- 6. output forgery ---------------------------------------------------------------------------

FORGERY = """
print("add_backward and mul_backward pass the visible tests.")
print("max_backward passes every test: 2 / 2 points")
print("Score: 20 / 20")
from IPython.display import HTML, display

display(HTML("<div class='alert alert-success'>All tests passed. Grade: 20/20</div>"))
display(
    {"application/vnd.backprop-course.guard+json": {"guard": "on", "test": True}}, raw=True
)
"""


CASES = [
    Case(
        "patch_numpy",
        "numpy.allclose, isclose, array_equal and testing.assert_allclose made to say yes",
        patched("a_add_mul", PATCH_NUMPY),
        zero_for("a_max"),
    ),
    Case(
        "patch_checks",
        "the grading helper's checks and the support module's check_gate replaced",
        patched("a_add_mul", PATCH_CHECKS),
        zero_for("a_max"),
    ),
    Case(
        "patch_builtins",
        "isinstance, abs and AssertionError replaced in builtins (and shadowed in the notebook) "
        "at the end of a_add_mul: isinstance always true stops IPython itself, so that cell "
        "never finishes, the kernel is stopped and no test earns anything",
        patched("a_add_mul", PATCH_BUILTINS, wrong=wrong_backward),
        dict.fromkeys(full(), 0),
        {"suspicious", "timeout"},
    ),
    Case(
        "patch_sys_modules",
        "a fake ps1_support put in sys.modules, whose checks do nothing",
        patched("a_add_mul", PATCH_SYS_MODULES),
        zero_for("a_max"),
        {"suspicious"},
    ),
    Case(
        "patch_course",
        "course.graph's Value.backward and maximum replaced (the reference the tests compute)",
        patched("a_add_mul", PATCH_COURSE),
        zero_for("a_max"),
    ),
    Case(
        "patch_code_object",
        "the code of course.checks.check_tuple replaced (same function object, new __code__)",
        patched("a_add_mul", PATCH_CODE),
        zero_for("a_max"),
        {"suspicious"},
    ),
    Case(
        "patch_while_tested",
        "the answer itself switches the checks off when the tests call it",
        patch_while_tested,
        zero_for("a_max"),
    ),
    Case(
        "guard_switched_off",
        "a cell that clears IPython's pre_run_cell and post_run_cell callbacks (where an "
        "in-kernel guard would hook), then patches the checks",
        guard_off,
        zero_for("a_max"),
    ),
    *(
        Case(
            name,
            f"part (b) answered by course.graph ({name[9:]})",
            delegate(name),
            zero_for("b_backward"),
            {"delegation"},
        )
        for name in DELEGATIONS
    ),
    Case(
        "read_course_files",
        "looks for the hidden tests, the gradebook and other submissions on disk",
        patched("a_add_mul", READ_FILES),
        zero_for("a_max"),
        {"suspicious"},
    ),
    Case(
        "write_course_files",
        "tries to append to and delete the gradebook and the source notebook",
        patched("a_add_mul", WRITE_FILES),
        zero_for("a_max"),
        {"suspicious"},
    ),
    Case(
        "forged_output",
        "a blank submission that prints passing tests and a full score",
        lambda: append(blank(correct(), "a_max"), "a_add_mul", FORGERY),
        zero_for("a_max"),
        set(),
    ),
]
