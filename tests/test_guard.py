"""The guard of the grading kernels (``autograder.guard``), in an IPython shell of its own.

An audit hook cannot be removed once added, so every check runs in a fresh Python process: an
IPython ``InteractiveShell`` with the guard installed runs cells the way a kernel does (the
``pre_run_cell`` and ``post_run_cell`` events), and the process prints what each cell did as JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autograder.guard import cell_hash

DRIVER = r"""
import json, sys
from IPython.core.interactiveshell import InteractiveShell
from autograder import guard

settings = json.loads(sys.argv[1])
cells = json.loads(sys.argv[2])
shell = InteractiveShell.instance()
shown = []
shell.showtraceback = lambda exc_tuple=None, **kw: shown.append(
    f"{exc_tuple[0].__name__}: {exc_tuple[1]}" if exc_tuple else "error")
g = guard.install(settings)
published = []
g._publish = lambda ip, test, mark: (published.append(list(g.findings)), g.findings.clear())
report = []
for code in cells:
    shown.clear()
    result = shell.run_cell(code)
    error = result.error_in_exec
    report.append({
        "error": f"{type(error).__name__}: {error}" if error else None,
        "shown": list(shown),
        "findings": published[-1] if published else [],
        "out": shell.user_ns.get("out"),
    })
print("REPORT" + json.dumps(report, default=repr))
"""


def run(cells: list[str], tests: list[int] = (), trusted: list[int] = (), **settings) -> list:
    """Run ``cells`` in a guarded shell; ``tests``/``trusted``: indices of test/locked cells."""
    cells = [textwrap.dedent(c).strip() for c in cells]
    settings = {
        "tests": [cell_hash(cells[i]) for i in tests],
        "trusted": [cell_hash(cells[i]) for i in trusted],
        **settings,
    }
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(settings), json.dumps(cells)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("REPORT")]
    assert line, proc.stdout + proc.stderr
    return json.loads(line[-1][len("REPORT") :])


TEST = """
import numpy as np
from course import checks
out = [bool(np.allclose(1.0, 2.0)), isinstance("a", int), abs(-2.0)]
checks.check_array("x", np.array([1.0]), np.array([1.0]))
"""


def test_patches_made_before_a_test_are_undone_for_it_and_reported() -> None:
    report = run(
        [
            "import numpy as np",
            """
            import builtins
            from course import checks
            np.allclose = lambda *a, **k: True
            builtins.abs = lambda x: 0.0
            def isinstance(obj, kind):
                return True
            checks.check_array = lambda *a, **k: None
            """,
            TEST,
            "out = [isinstance('a', int)]",
        ],
        tests=[2],
        trusted=[0],
    )
    assert report[2]["error"] is None
    assert report[2]["out"] == [False, False, 2.0]  # the originals answered the test
    messages = " ".join(f["message"] for f in report[1]["findings"] + report[2]["findings"])
    for name in ("numpy.allclose", "abs", "isinstance", "course.checks.check_array"):
        assert name in messages, (name, messages)
    assert report[3]["out"] == [True]  # the student's own name is theirs again after the test


def test_a_patch_made_while_the_test_runs_fails_the_test() -> None:
    report = run(
        [
            """
            def answer():
                from course import checks
                checks.check_array = lambda *a, **k: None
                return 1
            """,
            "from course import checks\nanswer()\nout = 'ran'",
            "from course import checks\nout = checks.check_array.__name__",
        ],
        tests=[1],
    )
    assert report[1]["out"] == "ran"
    assert any(s.startswith("IntegrityError") for s in report[1]["shown"]), report[1]
    assert report[2]["out"] == "check_array"  # put back


def test_protected_code_cannot_change_and_protected_classes_are_put_back() -> None:
    report = run(
        [
            "from course import checks\nchecks.check_array.__code__ = (lambda: 0).__code__",
            "from course.graph import Value\nValue.backward = lambda self: None",
            "from course.graph import Value\nout = Value.backward.__module__",
            "def mine():\n    return 1\nmine.__code__ = (lambda: 2).__code__\nout = mine()",
        ],
        tests=[2],
    )
    assert report[0]["error"].startswith("PermissionError")
    assert "course.graph.Value.backward" in report[1]["findings"][0]["message"]
    assert report[2]["out"] == "course.graph"
    assert report[3]["error"] is None and report[3]["out"] == 2  # the student's own: fine


def test_processes_signals_and_ctypes_are_refused() -> None:
    report = run(
        [
            "import os\nos.fork()",
            "import subprocess\nsubprocess.run(['true'])",
            "import os\nos.system('true')",
            "import os, signal\nos.kill(os.getpid(), signal.SIGTERM)",
            "import ctypes\nctypes.CDLL(None).fork",
            "out = sum(range(10))",
        ]
    )
    for cell in report[:5]:
        assert cell["error"] and cell["error"].startswith("PermissionError"), cell
    assert report[5]["out"] == 45
    kinds = {f["kind"] for cell in report for f in cell["findings"]}
    assert {"processes", "suspicious"} <= kinds


def test_the_course_files_are_refused_and_the_own_folder_is_not(tmp_path: Path) -> None:
    private, own = tmp_path / "course", tmp_path / "own"
    (private / "source_assignments").mkdir(parents=True)
    (private / "source_assignments" / "ps1.ipynb").write_text("{}")
    (private / "gradebook.db").write_text("")
    own.mkdir()
    (own / "data.txt").write_text("mine")
    (own / "ps1.ipynb").write_text("{}")  # the notebook being graded: it holds the hidden tests
    (tmp_path / "elsewhere.ipynb").write_text("{}")
    report = run(
        [
            f"out = open({str(private / 'source_assignments' / 'ps1.ipynb')!r}).read()",
            f"import sqlite3\nsqlite3.connect({str(private / 'gradebook.db')!r})",
            f"import os\nout = os.listdir({str(private)!r})",
            f"out = open({str(own / 'data.txt')!r}).read()",
            f"out = open({str(tmp_path / 'elsewhere.ipynb')!r}).read()",
            f"import os\nos.remove({str(private / 'gradebook.db')!r})",
            "import json\nout = json.dumps([1])",
            f"out = open({str(own / 'ps1.ipynb')!r}).read()",
        ],
        deny=[str(private)],
        allow=[str(own)],
    )
    for i in (0, 1, 2, 4, 5, 7):
        assert report[i]["error"] and report[i]["error"].startswith("PermissionError"), report[i]
    assert report[3]["out"] == "mine" and report[6]["out"] == "[1]"
    assert (private / "gradebook.db").exists()
    assert report[0]["findings"][0]["kind"] == "file access"


@pytest.mark.parametrize("name", ["numpy", "course.checks"])
def test_a_fake_module_in_sys_modules_is_replaced_for_the_test(name: str) -> None:
    report = run(
        [
            f"import sys, types\nsys.modules[{name!r}] = types.ModuleType('fake')",
            f"import {name} as m\nout = hasattr(m, '__file__')",
        ],
        tests=[1],
    )
    assert report[1]["out"] is True
    assert any("sys.modules" in f["message"] for f in report[0]["findings"])
