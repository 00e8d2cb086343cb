"""What grading noticed about one submission, in plain words for the instructor's report.

Every part of the hardened pipeline speaks through :class:`Finding`: the repair of the
notebook's structure before nbgrader sees it (:mod:`autograder.integrity`), the kernel's limits
and the execution (:mod:`autograder.sandbox`), and the guard inside the kernel
(:mod:`autograder.guard`). A finding never changes a score by itself: the score follows from what
the tests saw; a finding says *why* a part earned what it did, or what a human should look at.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

#: The kinds of problem, in the order the report lists them, with a heading for each.
KINDS = {
    "invalid": "invalid file",
    "tampering": "tampering with the notebook",
    "monkeypatch": "changed what the tests rely on",
    "delegation": "used the reference implementation",
    "file access": "reached for the course's files",
    "processes": "started processes",
    "timeout": "timeout",
    "memory": "memory limit",
    "crash": "kernel crash",
    "output": "oversized output",
    "suspicious": "code for a human to look at",
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

OWN_WORK_WORDS = "must be computed by your own code"
SWITCHED_OFF = "switched off the check that this part is your own work"  # course.checks


@dataclass
class Analysis:
    """What the outputs of one autograded notebook say (see :func:`analyse`)."""

    findings: list[Finding]
    unguarded: list[str]  # test cells (grade ids) that ran without the guard's mark
    guard_started: bool  # the first locked code cell carries the guard's mark


def _nbgrader(cell: Any) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _where(cell: Any, number: int) -> str:
    return _nbgrader(cell).get("grade_id") or f"cell {number}"


def analyse(nb: Any, guarded: bool) -> Analysis:
    """Findings from the outputs of an autograded notebook (a ``NotebookNode``).

    Reads the guard's outputs (``guard.MIME``), the failures the course's checks explain as
    delegation to the package, and, with ``guarded``, which test cells ran without the guard.
    """
    from autograder.guard import MIME

    findings: list[Finding] = []
    unguarded: list[str] = []
    started = not guarded
    first_locked = True
    for number, cell in enumerate(nb.get("cells", []), start=1):
        if cell.get("cell_type") != "code":
            continue
        meta = _nbgrader(cell)
        where = _where(cell, number)
        marked = False
        for out in cell.get("outputs", []):
            data = out.get("data", {}) if out.get("output_type") == "display_data" else {}
            if MIME in data:
                payload = data[MIME] if isinstance(data[MIME], dict) else {}
                marked = marked or payload.get("guard") == "on"
                for f in payload.get("findings", []):
                    if isinstance(f, dict) and f.get("kind") in KINDS and f.get("message"):
                        findings.append(Finding(f["kind"], where, str(f["message"])[:300]))
            if out.get("output_type") == "error" and SWITCHED_OFF in str(out.get("evalue", "")):
                findings.append(
                    Finding(
                        "tampering",
                        where,
                        "the answer switched off the check that it is the student's own work",
                    )
                )
            if out.get("output_type") == "error" and OWN_WORK_WORDS in str(out.get("evalue", "")):
                findings.append(
                    Finding(
                        "delegation",
                        where,
                        "the answer let the course package compute the part graded here "
                        f"({str(out.get('evalue', '')).split('. ')[0][:160]})",
                    )
                )
        if meta.get("locked") and first_locked:
            first_locked = False
            started = started or marked
        if guarded and meta.get("grade") and cell.get("execution_count") and not marked:
            unguarded.append(meta.get("grade_id", where))
    return Analysis(findings, unguarded, started)


def without_guard_outputs(nb: Any) -> Any:
    """``nb`` without the guard's machine-readable outputs (their plain words stay)."""
    from autograder.guard import MIME

    for cell in nb.get("cells", []):
        kept = []
        for out in cell.get("outputs", []):
            data = out.get("data")
            if isinstance(data, dict) and MIME in data:
                del data[MIME]
                if not data:
                    continue
                out.get("metadata", {}).pop(MIME, None)
            kept.append(out)
        if "outputs" in cell:
            cell["outputs"] = kept
    return nb


def guard_settings(
    references: list[Any], cwd: str, deny: list[str], support: list[str]
) -> dict[str, Any]:
    """The guard's settings (see :func:`autograder.guard.install`) for one submission.

    ``references``: the instructor's notebooks of the assignment (their locked code cells are
    the trusted cells, the graded ones among them the tests); ``cwd``: the folder the kernel
    runs in (always allowed); ``deny``: the protected files and folders.
    """
    from autograder.guard import cell_hash

    tests, trusted = [], []
    for nb in references:
        for cell in nb.get("cells", []):
            meta = _nbgrader(cell)
            if cell.get("cell_type") != "code" or not meta.get("locked"):
                continue
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else source
            (tests if meta.get("grade") else trusted).append(cell_hash(source))
    return {"tests": tests, "trusted": trusted, "deny": deny, "allow": [cwd], "support": support}


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
        return [Finding.from_dict(d) for d in json.loads(p.read_text())]
    except (ValueError, KeyError, TypeError):
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
