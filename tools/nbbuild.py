"""Build the course notebooks from their sources: ``python tools/nbbuild.py [NAME ...]``.

Each notebook is written as a plain Python file in ``notebooks/src/`` (the "percent" format that
editors and jupytext understand), so that it reviews and diffs like code:

    # %% [markdown]
    # # Title
    # Text of a Markdown cell, each line behind "# ".

    # %%
    print("a code cell")

    # %% tags=["nbval-ignore-output"]
    timing_that_changes_every_run()

This script turns each source into ``notebooks/<name>.ipynb``, executes it top to bottom with
nbclient (in the notebooks folder, with the environment's Python kernel), and stores it with
clean metadata: no machine paths, no execution timings, only the cell tags the source gave, and
the notebook's ``kernelspec`` and ``language_info`` exactly as JupyterLab writes them when the
kernel starts (the kernel's name, display name and language; the ``language_info`` of its
``kernel_info`` reply, Python version included), so that a notebook opened in JupyterLab is
not marked modified. ``--check`` rebuilds nothing and fails if a stored notebook's cells differ
from its source or if it was stored unexecuted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SOURCES = NOTEBOOKS / "src"
KERNEL = "python3"
_HEADER = re.compile(r"^# %%(?P<md> \[markdown\])?(?:\s+tags=(?P<tags>\[.*\]))?\s*$")


def parse_source(text: str) -> list[nbformat.NotebookNode]:
    """Cells of a percent-format source, in order."""
    cells: list[nbformat.NotebookNode] = []
    kind, tags, lines = None, [], []

    def flush() -> None:
        if kind is None:
            return
        body = "\n".join(lines).strip("\n")
        if kind == "markdown":
            body = "\n".join(_uncomment(line) for line in body.split("\n"))
            cell = nbformat.v4.new_markdown_cell(body)
        else:
            cell = nbformat.v4.new_code_cell(body)
        if tags:
            cell.metadata["tags"] = tags
        cells.append(cell)

    for line in text.split("\n"):
        match = _HEADER.match(line)
        if match:
            flush()
            kind = "markdown" if match.group("md") else "code"
            tags = json.loads(match.group("tags")) if match.group("tags") else []
            lines = []
        elif kind is not None:
            lines.append(line)
    flush()
    return cells


def _uncomment(line: str) -> str:
    if line.startswith("# "):
        return line[2:]
    if line.strip() == "#":
        return ""
    raise ValueError(f"a Markdown line must start with '# ': {line!r}")


def new_notebook(cells: list[nbformat.NotebookNode]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nb.metadata = {"kernelspec": kernelspec(), "language_info": {"name": "python"}}
    return nb


def kernelspec(name: str = KERNEL) -> dict:
    """The notebook's ``kernelspec`` as JupyterLab writes it: the installed spec's name, display
    name and language."""
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec(name)
    return {"name": name, "display_name": spec.display_name, "language": spec.language}


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Keep only what a reader needs: the kernel's metadata, tags, outputs, execution counts.

    ``nb.metadata.language_info`` must be the executing kernel's (nbclient stores it there).
    """
    # widget state is left out on purpose: it holds random model ids (every rebuild would
    # change the file) and each widget already carries a PNG of its first view
    nb.metadata = {"kernelspec": kernelspec(), "language_info": dict(nb.metadata.language_info)}
    for i, cell in enumerate(nb.cells):
        tags = cell.get("metadata", {}).get("tags")
        cell.metadata = {"tags": tags} if tags else {}
        cell.id = f"cell-{i:03d}"
    return nb


def build(source: Path, timeout: int = 120) -> Path:
    from nbclient import NotebookClient

    nb = new_notebook(parse_source(source.read_text()))
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=KERNEL,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
        record_timing=False,
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    target = NOTEBOOKS / f"{source.stem}.ipynb"
    nbformat.write(clean(nb), target)
    print(f"built {target.relative_to(ROOT)} in {seconds:.1f} s")
    return target


def check(source: Path) -> list[str]:
    """Problems with the stored notebook of ``source`` (empty when it is up to date)."""
    target = NOTEBOOKS / f"{source.stem}.ipynb"
    if not target.exists():
        return [f"{target.name} is missing: run python tools/nbbuild.py {source.stem}"]
    stored = nbformat.read(target, as_version=4)
    expected = parse_source(source.read_text())
    problems = []
    got = [(c.cell_type, c.source, c.get("metadata", {}).get("tags", [])) for c in stored.cells]
    want = [(c.cell_type, c.source, c.get("metadata", {}).get("tags", [])) for c in expected]
    if got != want:
        problems.append(f"{target.name} differs from {source.name}: rebuild it")
    for cell in stored.cells:
        if cell.cell_type == "code" and cell.source.strip() and cell.execution_count is None:
            problems.append(f"{target.name} has unexecuted code cells: rebuild it")
            break
    return problems


def main(argv: list[str] | None = None) -> int:
    # the same conditions as `make test`, whose two pytest workers each run one BLAS thread
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="notebook names (default: all)")
    parser.add_argument("--check", action="store_true", help="only check, build nothing")
    args = parser.parse_args(argv)
    sources = sorted(SOURCES.glob("*.py"))
    if args.names:
        sources = [s for s in sources if any(n in s.stem for n in args.names)]
        if not sources:
            print(f"no source in {SOURCES} matches {args.names}", file=sys.stderr)
            return 2
    if args.check:
        problems = [p for s in sources for p in check(s)]
        print("\n".join(problems) or f"{len(sources)} notebooks up to date")
        return 1 if problems else 0
    for source in sources:
        build(source)
    return 0


if __name__ == "__main__":
    sys.exit(main())
