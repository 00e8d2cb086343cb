"""Put a submitted notebook back into the assignment's structure before nbgrader grades it.

A student's notebook is a copy of the released one, and everything in it is the student's to
change: the cells' order, their nbgrader metadata (points, which cells are tests, which are
locked), the test cells themselves. nbgrader's own sanitising (``OverwriteCells``,
``DeduplicateIds``, ``OverwriteKernelspec``) restores some of it, not all: a test cell marked as
not graded, or deleted, or moved before the answer it tests, is graded as the student left it.

:func:`repair_submission` rebuilds each notebook from the instructor's source notebook of the
assignment (the *reference*): its identified cells (the cells with an nbgrader ``grade_id``) in
the reference's order with the reference's nbgrader metadata, the locked cells (tests, setup,
instructions) with the reference's source, the answer cells with the student's source, and the
student's own cells (without nbgrader metadata) where the student put them. Every repair is a
:class:`~autograder.findings.Finding` of kind ``"tampering"``; a file that cannot be graded at all
raises :class:`InvalidSubmission`. What the release and JupyterLab change on their own (cell ids,
outputs, execution counts, the hidden tests the release leaves out, ``editable``/``deletable``
metadata, trailing newlines) is not reported.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from autograder.findings import Finding

#: a submitted notebook larger than this is not read (a notebook of the course is < 1 MB)
MAX_BYTES = 50 * 1024 * 1024
#: what the release puts in an answer cell instead of the solution (``nbgrader_config.py``)
CODE_STUB = "# YOUR CODE HERE (then delete the next line)\nraise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"  # nbgrader's ClearSolutions.text_stub
BEGIN_SOLUTION, END_SOLUTION = "BEGIN SOLUTION", "END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
#: the flags of a cell's nbgrader metadata that decide how nbgrader treats it
FLAGS = ("grade", "solution", "locked", "task")


class InvalidSubmission(Exception):
    """A submitted file that cannot be graded; ``finding`` says why (kind ``"invalid"``)."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(message)
        self.finding = Finding("invalid", where, message)


# -- reading ----------------------------------------------------------------------------------


def _fix(name: str) -> str:
    return f"submit the {name} you downloaded and worked in, saved from Jupyter (File > Save)"


def _opening(text: str) -> str:
    """The first words of a file, for a message."""
    first = " ".join(text.strip().split())[:40]
    return repr(first + ("..." if len(text.strip()) > 40 else ""))


def read_submission(path: Path) -> NotebookNode:
    """The notebook at ``path`` as nbformat 4, or :class:`InvalidSubmission` saying what is wrong
    with the file and how to fix it: empty, too large, not text, not JSON, JSON but not a
    notebook, an nbformat version other than 4 (version 3 is converted), or a notebook whose
    structure nbformat rejects even without its outputs."""
    path = Path(path)
    name = path.name
    fix = _fix(name)

    def invalid(problem: str) -> InvalidSubmission:
        return InvalidSubmission(name, f"{name} {problem}: {fix}")

    size = path.stat().st_size
    if size == 0:
        raise invalid("is empty (0 bytes)")
    if size > MAX_BYTES:
        raise invalid(
            f"is {size / 2**20:.0f} MB, more than the {MAX_BYTES // 2**20} MB a notebook may have "
            "(clear the outputs with Edit > Clear Outputs of All Cells, then save)"
        )
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise invalid(
            f"is not a notebook: it is not text (it starts with bytes {data[:8]!r})"
        ) from None
    if not text.strip():
        raise invalid("has only blank space in it")
    try:
        raw = json.loads(text)
    except RecursionError:
        raise invalid("is not a notebook: its JSON is nested thousands of levels deep") from None
    except json.JSONDecodeError as exc:
        if not text.lstrip().startswith(("{", "[")):
            raise invalid(
                f"is not a notebook: it is plain text that starts with {_opening(text)} "
                "(a notebook is JSON starting with '{')"
            ) from None
        if not text.rstrip().endswith(("}", "]")):
            raise invalid(
                f"is not valid JSON: it stops in the middle (at line {exc.lineno}), the file "
                "was cut off"
            ) from None
        raise invalid(
            f"is not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno}): "
            "it was damaged or edited by hand"
        ) from None
    if not isinstance(raw, dict) or "cells" not in raw and "worksheets" not in raw:
        what = type(raw).__name__ if not isinstance(raw, dict) else "object"
        keys = f" with keys {', '.join(map(str, list(raw)[:5]))}" if isinstance(raw, dict) else ""
        raise invalid(f"is JSON but not a notebook (a JSON {what}{keys}, without cells)")
    major = raw.get("nbformat")
    if major not in (3, 4) or isinstance(major, bool):
        raise invalid(
            f"says it is a notebook of nbformat version {major!r}; the course's notebooks are "
            "version 4"
        )
    try:
        with warnings.catch_warnings():  # missing cell ids: _fresh_ids gives them
            warnings.simplefilter("ignore")
            nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat's conversion of version 3 and its reader raise freely
        raise invalid(f"could not be read as a notebook ({_short(exc)})") from None
    problem = _validation_problem(nb)
    if problem:
        raise invalid(f"is not a valid notebook ({problem})")
    return nb


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:160]


def _validation_problem(nb: NotebookNode) -> str:
    """What is wrong with ``nb`` after the repairs that lose nothing of the student's work
    (outputs, execution counts and cell ids are redone during grading anyway); "" if nothing."""
    if not isinstance(nb.get("cells"), list):
        return "its cells are not a list"
    if not isinstance(nb.get("metadata"), dict):
        nb["metadata"] = NotebookNode({})
    for key, needs in (("kernelspec", ("name", "display_name")), ("language_info", ("name",))):
        value = nb.metadata.get(key)
        if key in nb.metadata and not (
            isinstance(value, dict) and all(isinstance(value.get(k), str) for k in needs)
        ):
            del nb.metadata[key]  # the reference's kernelspec is put back anyway
    for number, c in enumerate(nb.cells, start=1):
        if not isinstance(c, dict) or c.get("cell_type") not in ("code", "markdown", "raw"):
            return f"cell {number} is not a code, markdown or raw cell"
        source = c.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            c["source"] = "".join(source)
        elif not isinstance(source, str):
            return f"the text of cell {number} is not text"
        if not isinstance(c.get("metadata"), dict):
            c["metadata"] = NotebookNode({})
        if c.cell_type == "code":
            c["outputs"] = []
            c["execution_count"] = None
    _fresh_ids(nb)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        where = "/".join(map(str, getattr(exc, "absolute_path", []) or []))
        return f"{exc.message[:120]}" + (f" at {where}" if where else "")
    return ""


def _fresh_ids(nb: NotebookNode) -> None:
    """Valid, unique cell ids (nbformat 4.5), keeping the ones that already are."""
    nb["nbformat"], nb["nbformat_minor"] = 4, max(5, int(nb.get("nbformat_minor") or 0))
    seen: set[str] = set()
    for c in nb.cells:
        cid = c.get("id")
        if not isinstance(cid, str) or not re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", cid) or cid in seen:
            cid = uuid.uuid4().hex[:8]
            while cid in seen:
                cid = uuid.uuid4().hex[:8]
            c["id"] = cid
        seen.add(cid)


# -- the release version of a cell -----------------------------------------------------------


def _text(cell: Any) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _normal(text: str) -> str:
    """``text`` without what editors change on their own: line endings, trailing blanks."""
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n")).strip("\n")


def without_hidden_tests(source: str) -> str:
    """``source`` as the release has it: the ``### BEGIN HIDDEN TESTS`` blocks removed, as
    nbgrader's ``ClearHiddenTests`` removes them."""
    out, hidden = [], False
    for line in source.split("\n"):
        if BEGIN_HIDDEN in line:
            hidden = True
        elif END_HIDDEN in line:
            hidden = False
        elif not hidden:
            out.append(line)
    return "\n".join(out)


def released_answer(cell: Any) -> str:
    """The source the release gives an answer cell: each solution block replaced by the stub
    (indented like it), or the whole cell the stub, as nbgrader's ``ClearSolutions`` does."""
    source = _text(cell)
    stub = (CODE_STUB if cell.get("cell_type") == "code" else TEXT_STUB).split("\n")
    out, inside, replaced = [], False, False
    for line in source.split("\n"):
        if BEGIN_SOLUTION in line:
            inside = replaced = True
            indent = re.match(r"\s*", line).group(0)
            out += [indent + s for s in stub]
        elif END_SOLUTION in line:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out) if replaced else "\n".join(stub)


# -- the structure --------------------------------------------------------------------------------


def _meta(cell: Any) -> dict:
    meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    return nbg if isinstance(nbg, dict) else {}


def _identified(cell: Any) -> str:
    """The grade id of a cell nbgrader treats as part of the assignment ("" if none)."""
    meta = _meta(cell)
    gid = meta.get("grade_id")
    if not isinstance(gid, str) or not gid:
        return ""
    return gid if any(meta.get(flag) for flag in FLAGS) else ""


def _work(nb: Any) -> set[str]:
    """The grade ids of the answer and test cells of ``nb``."""
    return {
        gid
        for c in nb.get("cells", [])
        if (gid := _claimed(c)) and (_meta(c).get("grade") or _meta(c).get("solution"))
    }


def _foreign(nb: Any, reference: Any) -> bool:
    """``nb`` has answer or test cells, none of them the reference's: made for something else."""
    theirs = _work(nb)
    return bool(theirs) and not theirs & _work(reference)


def _claimed(cell: Any) -> str:
    """The grade id in a cell's nbgrader metadata, whatever its flags say ("" if none)."""
    gid = _meta(cell).get("grade_id")
    return gid if isinstance(gid, str) else ""


def grade_ids(nb: Any) -> list[str]:
    """The grade ids of the cells of ``nb`` that nbgrader would grade, lock or keep, in order."""
    return [gid for gid in map(_identified, nb.get("cells", [])) if gid]


def _role(meta: dict, cell_type: str) -> str:
    if meta.get("solution"):
        return "answer cell"
    if meta.get("grade"):
        return "test cell"
    if meta.get("task"):
        return "task cell"
    return "instructions cell" if cell_type == "markdown" else "locked cell"


def _points(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _number(value: float | None) -> str:
    return "none" if value is None else f"{value:g}"


def _in_order(positions: list[int], weights: list[int]) -> set[int]:
    """Indexes (into ``positions``) of the heaviest increasing subsequence: the cells that stayed
    in order; the others were moved. (Weights prefer to say a test moved, not its answer.)"""
    if not positions:
        return set()
    best = list(weights)
    back = [-1] * len(positions)
    for i in range(len(positions)):
        for j in range(i):
            if positions[j] < positions[i] and best[j] + weights[i] > best[i]:
                best[i], back[i] = best[j] + weights[i], j
    i = max(range(len(positions)), key=lambda k: best[k])
    kept = set()
    while i >= 0:
        kept.add(i)
        i = back[i]
    return kept


def _new_cell(cell_type: str, source: str, metadata: dict, cell_id: str | None) -> NotebookNode:
    if cell_type == "code":
        made = nbformat.v4.new_code_cell(source, metadata=metadata)
    elif cell_type == "markdown":
        made = nbformat.v4.new_markdown_cell(source, metadata=metadata)
    else:
        made = nbformat.v4.new_raw_cell(source, metadata=metadata)
    if cell_id:
        made["id"] = cell_id
    return made


def _restored_meta(ref: Any, student_meta: dict) -> NotebookNode:
    """The nbgrader metadata of a repaired cell: the reference's, as the release writes it."""
    meta = copy.deepcopy(dict(_meta(ref)))
    meta["cell_type"] = ref.cell_type
    if isinstance(student_meta.get("checksum"), str):
        meta["checksum"] = student_meta["checksum"]  # nbgrader recomputes it anyway
    return NotebookNode(meta)


def _metadata_findings(gid: str, ref: Any, got: dict) -> list[str]:
    """Plain words for each nbgrader flag, the points or the schema version the student changed."""
    want = _meta(ref)
    role = _role(want, ref.cell_type)
    said = []
    changes = {
        "grade": ("marked as not graded", "marked as graded"),
        "solution": ("no longer marked as an answer cell", "marked as an answer cell"),
        "locked": ("unlocked", "marked as locked"),
        "task": ("no longer marked as a task", "marked as a task"),
    }
    fixes = {"locked": ("locked again", "unlocked")}
    for flag in FLAGS:
        if bool(want.get(flag)) != bool(got.get(flag)):
            lost, gained = changes[flag]
            fix = fixes.get(flag, ("put back", "put back"))[0 if want.get(flag) else 1]
            said.append(f"{role} {gid} was {lost if want.get(flag) else gained} ({fix})")
    if want.get("grade") and got.get("grade"):
        old, new = _points(want.get("points")), _points(got.get("points"))
        if old != new:
            said.append(
                f"points of {gid} changed from {_number(old)} to "
                f"{_number(new) if new is not None else repr(got.get('points'))} (put back)"
            )
    if "schema_version" in got and got.get("schema_version") != want.get("schema_version"):
        said.append(f"nbgrader schema version changed to {got.get('schema_version')!r} (put back)")
    return said


def restore_structure(
    nb: NotebookNode,
    reference: NotebookNode,
    assignment: str,
    others: Mapping[str, Iterable[str]] | None = None,
) -> tuple[NotebookNode, list[Finding]]:
    """``nb`` rebuilt in the structure of ``reference`` (the instructor's source notebook), and
    a finding for every repair.

    The reference's identified cells come in its order: the student's cell with the same grade
    id (its first one) with the reference's nbgrader metadata and cell type, and for a locked cell
    the reference's source; a missing cell is put back (an answer cell as the release had it).
    The student's own cells stay after the identified cell they followed (the last one left in
    its place); a second copy of a locked cell is dropped, of an answer cell kept as an ordinary
    cell; cells claiming a grade id the reference does not have lose their nbgrader metadata.

    ``assignment`` names the notebook in messages (``ps1``); ``others``: the grade ids of the
    other assignments' notebooks by name, to say which one a wrong notebook was made for. Raises
    :class:`InvalidSubmission` when ``nb`` has no nbgrader metadata, or answer and test cells
    none of which the reference has.
    """
    name = f"{assignment}.ipynb" if not assignment.endswith(".ipynb") else assignment
    label = name[: -len(".ipynb")]
    refs = {gid: c for c in reference.cells if (gid := _identified(c))}
    order = list(refs)
    theirs = [gid for gid in map(_claimed, nb.cells) if gid]
    if not theirs or _foreign(nb, reference):
        raise _not_this_assignment(nb, name, label, theirs, others)

    said: list[tuple[str, str]] = []  # (where, message)

    # 1. sort the student's cells: first copies of identified cells, and the rest
    firsts: dict[str, int] = {}  # grade id -> position in nb.cells
    for i, c in enumerate(nb.cells):
        gid = _claimed(c)
        if gid in refs and gid not in firsts:
            firsts[gid] = i
    seq = sorted(firsts, key=firsts.get)
    weights = [1000 + (not _meta(refs[g]).get("grade")) for g in seq]
    stayed = {seq[i] for i in _in_order([order.index(g) for g in seq], weights)}
    for gid in seq:
        if gid not in stayed:
            role = _role(_meta(refs[gid]), refs[gid].cell_type)
            said.append((gid, f"{role} {gid} was moved (put back in its place)"))

    # 2. the student's other cells, each after the last identified cell (in place) before it
    after: dict[str, list[NotebookNode]] = {"": []}
    anchor = ""
    for i, c in enumerate(nb.cells):
        gid = _claimed(c)
        if gid in refs and firsts[gid] == i:
            if gid in stayed:
                anchor = gid
            continue
        if gid in refs:  # a later copy
            role = _role(_meta(refs[gid]), refs[gid].cell_type)
            if _meta(refs[gid]).get("locked") or not _meta(refs[gid]).get("solution"):
                said.append((gid, f"{role} {gid} appears twice (the copy was dropped)"))
                continue
            said.append(
                (gid, f"{role} {gid} appears twice (the second copy is graded as an ordinary cell)")
            )
        elif "nbgrader" in c.get("metadata", {}):
            meta = _meta(c)
            claimed = meta.get("grade_id")
            if _identified(c):
                extra = (
                    f" with {_number(_points(meta.get('points')))} points"
                    if meta.get("grade")
                    else ""
                )
                said.append(
                    (
                        str(claimed),
                        f"a cell claims the grade id {claimed!r}{extra}, which {label} does not "
                        "have (it is graded as an ordinary cell)",
                    )
                )
        free = copy.deepcopy(c)
        free.metadata.pop("nbgrader", None)
        if free.cell_type == "code" and free.metadata.get("editable") is False:
            free.metadata.pop("editable")
        after.setdefault(anchor, []).append(free)

    # 3. rebuild in the reference's order
    cells: list[NotebookNode] = list(after[""])
    for gid in order:
        ref = refs[gid]
        want = _meta(ref)
        role = _role(want, ref.cell_type)
        if gid in firsts:
            got_cell = nb.cells[firsts[gid]]
            got = _meta(got_cell)
            for message in _metadata_findings(gid, ref, got):
                said.append((gid, message))
            if got_cell.cell_type != ref.cell_type:
                said.append(
                    (
                        gid,
                        f"{role} {gid} was changed from a {ref.cell_type} cell to a "
                        f"{got_cell.cell_type} cell (put back)",
                    )
                )
            source = _text(got_cell)
            if want.get("locked"):
                full = _text(ref)
                accepted = {_normal(full), _normal(without_hidden_tests(full))}
                if _normal(source) not in accepted:
                    said.append((gid, f"{role} {gid} was edited (its source was put back)"))
                source = full
            metadata = copy.deepcopy(dict(got_cell.get("metadata", {})))
            metadata["nbgrader"] = _restored_meta(ref, got)
            new = _new_cell(ref.cell_type, source, metadata, got_cell.get("id"))
            if ref.cell_type == "code" and got_cell.cell_type == "code":
                new["outputs"] = copy.deepcopy(got_cell.get("outputs", []))
                new["execution_count"] = got_cell.get("execution_count")
            if "attachments" in got_cell and ref.cell_type == got_cell.cell_type:
                new["attachments"] = copy.deepcopy(got_cell["attachments"])
        else:
            if want.get("locked"):
                source, how = _text(ref), "put back"
            else:
                source, how = released_answer(ref), "put back as the release had it"
            said.append((gid, f"{role} {gid} was deleted ({how})"))
            metadata = {"nbgrader": _restored_meta(ref, {})}
            new = _new_cell(ref.cell_type, source, metadata, ref.get("id"))
        if want.get("locked"):
            new.metadata["editable"] = False
        if want.get("locked") or want.get("solution") or want.get("grade"):
            new.metadata["deletable"] = False
        if not want.get("locked") and new.metadata.get("editable") is False:
            new.metadata.pop("editable")
        cells.append(new)
        cells += after.get(gid, [])

    out = nbformat.v4.new_notebook()
    out.metadata = copy.deepcopy(nb.get("metadata", {}))
    if "kernelspec" in reference.metadata:  # as nbgrader's OverwriteKernelspec does
        out.metadata["kernelspec"] = copy.deepcopy(reference.metadata["kernelspec"])
    out.cells = cells
    _fresh_ids(out)
    return out, [Finding("tampering", where, message) for where, message in said]


def _not_this_assignment(
    nb: NotebookNode,
    name: str,
    label: str,
    theirs: list[str],
    others: Mapping[str, Iterable[str]] | None,
) -> InvalidSubmission:
    if not theirs:
        return InvalidSubmission(
            name,
            f"{name} has no nbgrader metadata: it was not made from the released {name} "
            f"(download the released {name}, copy your answers into its answer cells, "
            "and submit that notebook)",
        )
    work = [gid for gid in theirs if gid in _work(nb)]
    shown = ", ".join(work[:4]) + (", ..." if len(work) > 4 else "")
    best, overlap = "", 0
    for other, ids in (others or {}).items():
        common = len(set(ids) & _work(nb))
        if other != label and common > overlap:
            best, overlap = other, common
    guess = f" It looks like {best}." if best else ""
    return InvalidSubmission(
        name,
        f"{name}: its cells belong to no part of {label} (it has grade ids {shown}): was it made "
        f"for another assignment?{guess} Submit the {name} you worked in for {label}",
    )


# -- a whole submission -------------------------------------------------------------------------


def _other_assignments(source_folder: Path, assignment: str) -> dict[str, set[str]]:
    """The grade ids of each other assignment's notebooks in the course's source directory."""
    found: dict[str, set[str]] = {}
    for path in sorted(Path(source_folder).parent.glob("*/*.ipynb")):
        if path.parent.name == assignment or ".ipynb_checkpoints" in path.parts:
            continue
        try:
            ids = _work(json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            continue
        found.setdefault(path.parent.name, set()).update(ids)
    return found


def repair_submission(
    folder: Path, source_folder: Path, notebooks: list[str], assignment: str
) -> list[Finding]:
    """Repair, in place, each notebook ``<name>.ipynb`` of the submission ``folder`` against the
    instructor's ``source_folder/<name>.ipynb`` (see :func:`restore_structure`).

    Returns every finding; raises :class:`InvalidSubmission` for a missing or unreadable
    notebook, or one made for something else.
    """
    folder, source_folder = Path(folder), Path(source_folder)
    found: list[Finding] = []
    for name in notebooks:
        file = f"{name}.ipynb"
        path = folder / file
        if not path.is_file():
            present = sorted(p.name for p in folder.glob("*.ipynb"))
            has = f" (it has {', '.join(present[:5])})" if present else ""
            raise InvalidSubmission(
                file,
                f"no {file} in the submission{has}: submit your notebook under the name {file}",
            )
        nb = read_submission(path)
        reference = nbformat.read(source_folder / file, as_version=4)
        others = None
        if _foreign(nb, reference):
            others = _other_assignments(source_folder, assignment)
        repaired, findings = restore_structure(nb, reference, name, others)
        nbformat.write(repaired, path, version=4)
        found += findings
    return found
