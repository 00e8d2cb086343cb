"""Structure of the notebook series: built from its sources, executed, clean, complete.

The notebooks' outputs themselves are checked by nbval (``make test`` runs
``pytest --nbval notebooks``); these tests check what nbval does not.
"""

from __future__ import annotations

import base64
import json
import re
import struct
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SOURCES = sorted((NOTEBOOKS / "src").glob("*.py"))
sys.path.insert(0, str(ROOT / "tools"))

import nbbuild  # noqa: E402

from course.viz import DISPLAY_WIDTH, MIN_FONT_SIZE  # noqa: E402

MACHINE_PATH = re.compile(r"(/work/|/tmp/|/root/|/home/[a-z]|\\\\Users\\\\|C:\\\\)")


def test_there_is_a_series():
    assert len(SOURCES) >= 7, "the series has seven notebooks"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_stored_notebook_is_built_from_its_source_and_executed(source):
    assert nbbuild.check(source) == []


@pytest.fixture(scope="module")
def fresh_kernel():
    """What JupyterLab writes into a notebook's metadata when its kernel starts: the kernel's
    name, display name and language (``kernelspec``) and the ``language_info`` of a freshly
    started kernel's ``kernel_info`` reply."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", cwd=str(NOTEBOOKS))
    try:
        reply = kc.kernel_info(reply=True, timeout=120)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    spec = KernelSpecManager().get_kernel_spec("python3")
    return {
        "kernelspec": {
            "name": "python3",
            "display_name": spec.display_name,
            "language": spec.language,
        },
        "language_info": reply["content"]["language_info"],
    }


def _without_version(metadata: dict) -> dict:
    info = {k: v for k, v in metadata["language_info"].items() if k != "version"}
    return {**metadata, "language_info": info}


#: every notebook a student opens: the lessons, the assignments (released as they are) and the
#: dashboard
OPENED = [NOTEBOOKS / f"{s.stem}.ipynb" for s in SOURCES] + sorted(
    [*ROOT.glob("source_assignments/*/*.ipynb"), ROOT / "dashboard" / "dashboard.ipynb"]
)


@pytest.mark.parametrize("path", OPENED, ids=lambda p: str(p.relative_to(ROOT)))
def test_metadata_is_what_a_fresh_kernel_writes(path, fresh_kernel):
    """Stored metadata that differs from the kernel's marks the notebook modified on opening,
    and a student who saves it then has a conflict on the next git pull."""
    stored = json.loads(path.read_text())["metadata"]
    kernel = {k: v for k, v in stored.items() if k in ("kernelspec", "language_info")}
    assert _without_version(kernel) == _without_version(fresh_kernel), (
        "rebuild the notebook (make notebooks): its metadata is not what the kernel writes"
    )


def test_notebooks_store_one_python_version_the_kernels(fresh_kernel):
    """Every notebook stores one Python version: the one the building kernel reported.

    A kernel reports its exact version (3.11.7, not 3.11), so no stored version matches every
    machine. The notebooks hold the version of the environment that builds and checks them
    (``make notebooks`` and CI); on a machine with another Python the comparison is skipped, as
    rebuilding there would only move the difference to every other machine."""
    stored = {
        str(p.relative_to(ROOT)): json.loads(p.read_text())["metadata"]["language_info"].get(
            "version"
        )
        for p in OPENED
    }
    versions = set(stored.values())
    assert len(versions) == 1 and None not in versions, (
        f"rebuild the notebooks (make notebooks) with one Python: {stored}"
    )
    (version,) = versions
    running = fresh_kernel["language_info"]["version"]
    if version != running:
        pytest.skip(f"the notebooks store Python {version}; this environment's kernel is {running}")


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_metadata_is_clean(source):
    path = NOTEBOOKS / f"{source.stem}.ipynb"
    text = path.read_text()
    nb = json.loads(text)
    assert set(nb["metadata"]) == {"kernelspec", "language_info"}
    assert not MACHINE_PATH.search(text), MACHINE_PATH.search(text).group(0)
    for cell in nb["cells"]:
        assert set(cell.get("metadata", {})) <= {"tags"}
    counts = [c["execution_count"] for c in nb["cells"] if c["cell_type"] == "code"]
    assert counts == list(range(1, len(counts) + 1)), "executed top to bottom, once"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_each_notebook_has_goals_exercises_and_a_summary(source):
    cells = nbbuild.parse_source(source.read_text())
    markdown = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# ")
    assert "What you will be able to do" in markdown
    assert "Check yourself" in markdown
    assert markdown.count("<details>") >= 3, "a few exercises with answers to reveal"
    assert markdown.count("<details>") == markdown.count("</details>")
    assert "Summary" in markdown


def test_contents_page_lists_every_notebook_in_order():
    contents = (NOTEBOOKS / "README.md").read_text()
    positions = [contents.find(f"{s.stem}.ipynb") for s in SOURCES]
    assert all(p >= 0 for p in positions), "every notebook is on the contents page"
    assert positions == sorted(positions), "in the order of the series"


def test_parse_source_round_trip():
    text = (
        "# %% [markdown]\n# # Title\n#\n# Text with $x^2$.\n\n"
        '# %% tags=["a"]\nx = 1\n\n# %%\nprint(x)\n'
    )
    cells = nbbuild.parse_source(text)
    assert [c.cell_type for c in cells] == ["markdown", "code", "code"]
    assert cells[0].source == "# Title\n\nText with $x^2$."
    assert cells[1].source == "x = 1" and cells[1].metadata["tags"] == ["a"]
    with pytest.raises(ValueError, match="must start with '# '"):
        nbbuild.parse_source("# %% [markdown]\n#no space\n")


def _png_width(data: str) -> int:
    return struct.unpack(">I", base64.b64decode(data[:44])[16:20])[0]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_figures_are_shown_at_a_readable_size(source):
    """A notebook shows a figure at most DISPLAY_WIDTH inches (at 100 dpi) wide and shrinks a
    wider one with its text; matplotlib's text is 10 pt unless a source says otherwise. So every
    stored figure is shrunk by at most 10 % (10 pt stays above MIN_FONT_SIZE), and no source
    asks for a font size below MIN_FONT_SIZE."""
    nb = json.loads((NOTEBOOKS / f"{source.stem}.ipynb").read_text())
    limit = 100 * DISPLAY_WIDTH * 10 / MIN_FONT_SIZE
    for i, cell in enumerate(nb["cells"]):
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            if png:
                width = _png_width(png)
                assert width <= limit, f"cell {i}: a figure {width} px wide is shrunk to fit"
    sizes = re.findall(r"fontsize=(\d+(?:\.\d+)?)", source.read_text())
    small = [s for s in sizes if float(s) < MIN_FONT_SIZE]
    assert not small, f"font sizes below {MIN_FONT_SIZE} pt: {small}"
