"""What grading noticed about one submission, in plain words for the instructor's report.

Every stage of hardened grading speaks through :class:`Finding`: the intake of the files
(:mod:`autograder.intake`), the repair of the notebook's structure before nbgrader sees it
(:mod:`autograder.integrity`), and the run in the box (:mod:`autograder.outputs`). A finding
never changes a score by itself: the score follows from what the tests saw; a finding says *why*
a part earned what it did, or what a human should look at.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

#: The kinds of problem, in the order the report lists them, with a heading for each.
KINDS = {
    "invalid": "invalid file",
    "intake": "files beside the notebook",
    "tampering": "tampering with the notebook",
    "delegation": "used the reference implementation",
    "processes": "started processes",
    "timeout": "timeout",
    "memory": "memory limit",
    "crash": "kernel crash",
    "output": "oversized output",
    "suspicious": "code for a human to look at",
    "variant": "answered for another student's variant",
}


@dataclass(frozen=True)
class Finding:
    """One problem: its ``kind`` (a key of :data:`KINDS`), where (a grade id, a cell, a file or
    ``""``) and a sentence for the instructor (and, where it helps, the student)."""

    kind: str
    where: str
    message: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind of finding {self.kind!r}: use one of {list(KINDS)}")

    def __str__(self) -> str:
        where = f" ({self.where})" if self.where else ""
        return f"{KINDS[self.kind]}{where}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> Finding:
        return cls(data["kind"], data.get("where", ""), data["message"])


def ordered(findings: list[Finding]) -> list[Finding]:
    """By kind (the order of :data:`KINDS`), otherwise as found; the same problem found in
    several places is one finding whose ``where`` names them all."""
    order = list(KINDS)
    places: dict[tuple[str, str], list[str]] = {}
    for f in findings:
        seen = places.setdefault((f.kind, f.message), [])
        for where in f.where.split(", "):
            if where and where not in seen:
                seen.append(where)
    merged = [Finding(kind, ", ".join(where), message) for (kind, message), where in places.items()]
    return sorted(merged, key=lambda f: order.index(f.kind))


# -- what an autograded notebook tells ------------------------------------------------------------

FORBIDDEN = "ForbiddenModuleError"  # what autograder.box.STUB raises: a forbidden import


def _nbgrader(cell: Any) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _where(cell: Any, number: int) -> str:
    return _nbgrader(cell).get("grade_id") or f"cell {number}"


def delegation(nb: Any) -> list[Finding]:
    """The cells of an autograded notebook that imported a module the assignment forbids (the
    box replaces each by a stub that raises ``ForbiddenModuleError``, an ImportError that names
    the rule), in the cell itself or in a function a test called."""
    found: list[Finding] = []
    for number, cell in enumerate(nb.get("cells", []), start=1):
        if cell.get("cell_type") != "code":
            continue
        where = _nbgrader(cell).get("grade_id") or f"cell {number}"
        for out in cell.get("outputs", []):
            evalue = str(out.get("evalue", ""))
            if out.get("output_type") == "error" and out.get("ename") == FORBIDDEN:
                found.append(
                    Finding(
                        "delegation",
                        where,
                        "the answer imports a reference implementation the assignment forbids "
                        f"({evalue.split(':')[0][:120]})",
                    )
                )
    return found


def other_variant(nb: Any) -> list[Finding]:
    """The test cells of an autograded notebook that failed because the notebook was answered
    for another student's variant (``course/variants.py``): its ``STUDENT_ID``, or numbers
    that are a classmate's. The first sentence of the check's message names both ids."""
    from course.variants import OTHER_VARIANT

    found: list[Finding] = []
    for number, cell in enumerate(nb.get("cells", []), start=1):
        meta = _nbgrader(cell)
        if cell.get("cell_type") != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        for out in cell.get("outputs", []):
            evalue = str(out.get("evalue", ""))
            if out.get("output_type") == "error" and OTHER_VARIANT in evalue:
                said = evalue[evalue.index(OTHER_VARIANT) :].split(":")[0][:200]
                found.append(Finding("variant", meta.get("grade_id") or f"cell {number}", said))
    return found


def save(findings: list[Finding], path: Any) -> None:
    """Write ``findings`` as JSON (the autograder keeps them next to the autograded notebook)."""
    import json
    from pathlib import Path

    Path(path).write_text(json.dumps([f.to_dict() for f in ordered(findings)], indent=1) + "\n")


def load(path: Any) -> list[Finding]:
    import json
    from pathlib import Path

    p = Path(path)
    if not p.is_file():
        return []
    try:
        return [Finding.from_dict(d) for d in json.loads(p.read_text()) if d.get("kind") in KINDS]
    except (ValueError, KeyError, TypeError, AttributeError):
        return [Finding("invalid", p.name, "the file of findings could not be read")]


#: code a human should look at when it appears in an answer: (pattern, why)
SUSPICIOUS = [
    (r"get_ipython\(\)\s*\.\s*(events|ast_transformers|input_transformers)", "IPython's hooks"),
    (r"\bautograder\b", "the autograder's own modules"),
    (r"\baddaudithook\b|\bsys\.set(profile|trace)\b", "Python's audit or profiling hooks"),
    (r"\bctypes\b|\bcffi\b", "C functions (ctypes)"),
    (r"\.__code__\b|\bFunctionType\b|\bCodeType\b", "function code objects"),
    (r"\bsys\.modules\b", "the table of loaded modules"),
    (r"\bbuiltins\b|__builtins__", "Python's builtins"),
    (r"\bgc\.get_(referrers|referents|objects)\b", "the garbage collector's object graph"),
    (r"\bos\.(fork|kill|system|exec\w*|_exit)\b|\bsubprocess\b", "processes and signals"),
    (r"\bgradebook\b|source_assignments|\.ipynb\b", "the course's files"),
]


def suspicious_code(nb: Any) -> list[Finding]:
    """Lines of the notebook's own code (not its locked cells) that reach for the machinery
    grading relies on. They cost no points (an honest student may use some of it); they tell the
    instructor where to look."""
    import re

    found: list[Finding] = []
    for number, cell in enumerate(nb.get("cells", []), start=1):
        meta = _nbgrader(cell)
        if cell.get("cell_type") != "code" or meta.get("locked"):
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        for lineno, line in enumerate(source.splitlines(), start=1):
            code = line.split("#", 1)[0]
            for pattern, why in SUSPICIOUS:
                if re.search(pattern, code):
                    found.append(
                        Finding(
                            "suspicious",
                            _where(cell, number),
                            f"line {lineno} uses {why}: {line.strip()[:120]}",
                        )
                    )
                    break
    return found[:20]
