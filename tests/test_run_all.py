"""A failing test does not stop Run All, and still fails.

Every test cell of the assignments carries the cell tag ``raises-exception``. JupyterLab (and
Notebook 7, the same code) sends each cell of a Run All to the kernel at once with
``stop_on_error`` false for a cell so tagged (``OutputArea.execute`` of @jupyterlab/outputarea),
so the kernel does not abort the cells queued after a failing test, and a student sees the
verdict of every part in one run; nbclient continues past such a cell too. Grading is unchanged:
nbgrader runs every cell whatever the tags (its ``Execute`` has ``allow_errors = True``) and
scores a test cell from its outputs (an error output is 0 points), ``nbgrader validate`` and
``python -m course.validate`` report the error output, and the autograder runs the test cells
in the grader. The instructions of each assignment say so.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "source_assignments"
SAMPLES = ROOT / "autograder" / "sample_class"
ASSIGNMENTS = tuple(sorted(p.name for p in SOURCES.iterdir() if (p / f"{p.name}.ipynb").is_file()))
TAG = "raises-exception"

NOTEBOOKS = [SOURCES / a / f"{a}.ipynb" for a in ASSIGNMENTS] + sorted(SAMPLES.glob("ps*/*.ipynb"))


def is_test(cell: dict) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_test_cell_and_only_a_test_cell_is_tagged(path: Path) -> None:
    nb = json.loads(path.read_text())
    tests = [c for c in nb["cells"] if is_test(c)]
    assert tests
    for cell in nb["cells"]:
        tagged = TAG in cell.get("metadata", {}).get("tags", [])
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        assert tagged == is_test(cell), (grade_id, cell["metadata"])


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_instructions_say_that_run_all_goes_on(assignment: str) -> None:
    nb = json.loads((SOURCES / assignment / f"{assignment}.ipynb").read_text())
    intro = "".join(nb["cells"][0]["source"])
    words = " ".join(intro.split())
    assert f"`{TAG}`" in intro and "does not stop *Run All*" in words


# -- what the tag does: a Run All as JupyterLab sends it, and nbgrader's score --------------------


def run_all_as_jupyterlab(nb: nbformat.NotebookNode, cwd: Path) -> list[str]:
    """The status of each code cell's reply when every cell is sent at once, with stop_on_error
    false for a cell tagged raises-exception (JupyterLab's Run All); an "aborted" cell did not
    run."""
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", cwd=str(cwd))
    try:
        cells = [c for c in nb.cells if c.cell_type == "code"]
        ids = [
            kc.execute(c.source, stop_on_error=TAG not in c.metadata.get("tags", [])) for c in cells
        ]
        replies: dict[str, str] = {}
        while len(replies) < len(ids):
            msg = kc.get_shell_msg(timeout=60)
            parent = msg["parent_header"].get("msg_id")
            if parent in ids:
                replies[parent] = msg["content"]["status"]
        return [replies[i] for i in ids]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def blank(tmp_path_factory: pytest.TempPathFactory) -> tuple[nbformat.NotebookNode, Path]:
    """ps1's blank sample submission (every visible test fails), in a folder with its support
    module."""
    folder = tmp_path_factory.mktemp("blank")
    shutil.copy(SOURCES / "ps1" / "ps1_support.py", folder)
    return nbformat.read(SAMPLES / "ps1" / "blank.ipynb", as_version=4), folder


def test_run_all_runs_every_test_cell_of_a_blank_notebook(blank, monkeypatch) -> None:
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")  # the kernel inherits it
    nb, folder = blank
    tests = [is_test(c) for c in nb.cells if c.cell_type == "code"]
    statuses = run_all_as_jupyterlab(nb, folder)
    assert set(statuses) == {"ok", "error"}  # every cell ran: none was aborted
    failed = [t for t, s in zip(tests, statuses) if s == "error"]
    assert len(failed) >= 6 and all(failed)  # the released tests of a blank notebook fail

    untagged = nbformat.from_dict(json.loads(json.dumps(nb)))
    for cell in untagged.cells:
        cell.metadata.pop("tags", None)
    statuses = run_all_as_jupyterlab(untagged, folder)
    first = tests.index(True)
    assert statuses[first] == "error" and set(statuses[first + 1 :]) == {"aborted"}


def test_nbgrader_scores_a_failed_tagged_test_zero(blank, monkeypatch) -> None:
    from nbgrader.preprocessors import Execute
    from nbgrader.utils import determine_grade

    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    nb, folder = blank
    executed, _ = Execute(timeout=120).preprocess(
        nbformat.from_dict(json.loads(json.dumps(nb))), {"metadata": {"path": str(folder)}}
    )
    failed = [
        c for c in executed.cells if any(o.output_type == "error" for o in c.get("outputs", []))
    ]
    assert len(failed) >= 6
    for cell in failed:  # every failed test ran, and scores 0 of its points
        assert is_test(cell) and TAG in cell.metadata["tags"]
        score, points = determine_grade(cell)
        assert score == 0 and points > 0
