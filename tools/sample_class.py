"""The sample classes follow the release: ``python -m tools.sample_class [--check]``.

Each submission of ``autograder/sample_class/<assignment>/`` is the released notebook with a
student's answers in it. When the locked cells of an assignment change (its instructions, its
tests, their points or tags), this releases every assignment with ``nbgrader
generate_assignment`` into a temporary copy of the course and puts into every submission, for
each locked cell of the release, the released source, checksum (nbgrader validate reports a
locked cell whose checksum is stale as changed), points (the integrity check reports other
points as tampering) and tags. A cell the release has and a submission lacks (a cell added to
the assignment) is put in as released, after the cell before it. The answer cells, the
student's own cells and the outputs stay as they are. ``--check`` changes nothing and exits
with 1 when a submission is out of date.

Then rebuild the integrity cases, which are made from ps1's sample class:
``python -m tests.integrity.make_cases``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "autograder" / "sample_class"


def release(course: Path, assignments: list[str]) -> dict[str, nbformat.NotebookNode]:
    """The released notebook of each assignment, made in ``course`` (a copy of the course)."""
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "source_assignments", course / "source_assignments")
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # alembic
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    out = {}
    for a in assignments:
        subprocess.run(
            [sys.executable, "-m", "nbgrader", "generate_assignment", a, "--force"],
            cwd=course,
            env=env,
            check=True,
            capture_output=True,
        )
        out[a] = nbformat.read(course / "release" / a / f"{a}.ipynb", as_version=4)
    return out


def _grade_id(cell: nbformat.NotebookNode) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _key(cell: nbformat.NotebookNode) -> str | None:
    return _grade_id(cell) or cell.get("id")


def insert_new(nb: nbformat.NotebookNode, released: nbformat.NotebookNode) -> bool:
    """Put into ``nb`` the cells of ``released`` it does not have (by grade id, else cell id):
    a cell added to the assignment (a locked cell, a new answer cell as released), placed after
    the cell of ``released`` before it. True if any was added."""
    have = {_key(c) for c in nb.cells}
    changed = False
    for k, ref in enumerate(released.cells):
        if _key(ref) in have:
            continue
        before = _key(released.cells[k - 1]) if k else None
        at = next((i + 1 for i, c in enumerate(nb.cells) if _key(c) == before), 0)
        cell = nbformat.from_dict(ref)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        nb.cells.insert(at, cell)
        have.add(_key(ref))
        changed = True
    return changed


def follow(nb: nbformat.NotebookNode, released: nbformat.NotebookNode) -> bool:
    """Give ``nb`` the cells ``released`` added (:func:`insert_new`), and its locked cells the
    source, checksum, points and tags of ``released``; True if anything changed."""
    changed = insert_new(nb, released)
    locked = {
        _grade_id(c): c for c in released.cells if c.metadata.get("nbgrader", {}).get("locked")
    }
    for cell in nb.cells:
        ref = locked.get(_grade_id(cell))
        if ref is None:
            continue
        want_checksum = ref.metadata["nbgrader"].get("checksum")
        if cell.source != ref.source:
            cell.source, changed = ref.source, True
        if cell.metadata["nbgrader"].get("checksum") != want_checksum:
            cell.metadata["nbgrader"]["checksum"], changed = want_checksum, True
        want_points = ref.metadata["nbgrader"].get("points")
        if cell.metadata["nbgrader"].get("points") != want_points:
            if want_points is None:
                cell.metadata["nbgrader"].pop("points", None)
            else:
                cell.metadata["nbgrader"]["points"] = want_points
            changed = True
        tags = ref.metadata.get("tags")
        if cell.metadata.get("tags") != tags:
            if tags:
                cell.metadata["tags"] = list(tags)
            else:
                cell.metadata.pop("tags", None)
            changed = True
    return changed


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="only say which submissions are stale")
    args = p.parse_args(argv)
    assignments = sorted(d.name for d in SAMPLES.iterdir() if d.is_dir())
    with tempfile.TemporaryDirectory() as tmp:
        released = release(Path(tmp), assignments)
    stale = []
    for a in assignments:
        for path in sorted((SAMPLES / a).glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            if follow(nb, released[a]):
                stale.append(path.relative_to(ROOT))
                if not args.check:
                    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    if args.check:
        if stale:
            print("out of date:", ", ".join(map(str, stale)), "(run python -m tools.sample_class)")
            return 1
        print("every sample submission follows the release")
        return 0
    print(f"updated {len(stale)} submissions" + "".join(f"\n  {s}" for s in stale))
    return 0


if __name__ == "__main__":
    sys.exit(main())
