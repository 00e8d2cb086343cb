"""Pairs of submissions whose solution code is unusually alike, and answers taken from the course.

    python -m autograder similarity ps3 submitted/

The fingerprinting is copydetect's (winnowing of k-grams of the token stream, with variable,
function and class names, strings and comments normalised away, so renaming and comments
change nothing and moved blocks are still found). What this module adds is what a class of
nbgrader notebooks needs:

* **what is compared**: the code of each student's answer cells (matched to the assignment's by
  grade id, whatever the notebook's metadata claims) and of the cells the student added; never
  the locked cells (setup, tests), which are the same for everybody, nor a cell left as the
  release gave it (the commented scratch cells);
* **what is ignored**: the released notebook's answer cells (the stubs, the given signatures and
  docstrings) are boilerplate, removed from every fingerprint;
* **what else is compared**: the ``course`` package and the assignment's support module, which
  every student has and which hold the reference implementations: an answer pasted from
  ``course/mlp.py`` with the names changed is reported against that file;
* **the report**: a table in the terminal and an HTML page of the pairs, each shown side by
  side with the shared code marked (``similarity.html``), plus ``similarity.json``.

Two students are flagged when the shared code is at least ``threshold`` of one side's code
(after boilerplate) and at least ``min_tokens`` characters of normalised code long: short
answers (``Z = W @ A + b``) are alike in every class, and a long shared stretch is what a copy
leaves. A student and a file of the course are flagged on the length alone: a function taken
from a module is a small share of both, and honest code shares only idioms with the package
(on ps3's sample class about 30 characters with ``course/``, and about 100 with the support
module's chain of the student's own functions for one who chains them the same way; on ps6's
about 100 with ``course/graph.py``; on ps2's and ps4's at most about 45; against 292 for one
pasted function).
"""

from __future__ import annotations

import html
import io
import itertools
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

#: copydetect's defaults: k-grams of 25 characters of the normalised token stream, and a window
#: that guarantees any shared stretch of 30 is found
NOISE = 25
GUARANTEE = 30
THRESHOLD = 0.5
MIN_TOKENS = 150
#: a submission's code beyond this many characters is not compared (a notebook of megabytes of
#: generated code would only slow the comparison down)
MAX_CHARS = 200_000


class SimilarityError(ValueError):
    """What the comparison cannot work with, said in plain words."""


@dataclass
class Code:
    """One body of code to compare: a student's answers, or a file of the course."""

    name: str
    kind: str  # "student" or "course"
    text: str
    origin: str = ""


@dataclass
class Pair:
    """Two bodies of code and how much of each is shared with the other."""

    a: str
    b: str
    kind: str  # "students" or "course"
    share_a: float  # the shared part of a's code (0..1)
    share_b: float
    tokens: int  # characters of normalised code shared
    flagged: bool
    slices_a: list[tuple[int, int]] = field(default_factory=list, repr=False)
    slices_b: list[tuple[int, int]] = field(default_factory=list, repr=False)

    @property
    def share(self) -> float:
        return max(self.share_a, self.share_b)


@dataclass
class Result:
    assignment: str
    codes: dict[str, Code]
    pairs: list[Pair]
    skipped: list[tuple[str, str]]
    threshold: float
    min_tokens: int

    @property
    def flagged(self) -> list[Pair]:
        return [p for p in self.pairs if p.flagged]


# -- what is compared ----------------------------------------------------------------------------


def answer_ids(source_nb: nbformat.NotebookNode) -> tuple[set[str], set[str]]:
    """The grade ids of the assignment's answer cells, and of its other (locked) cells."""
    answers, locked = set(), set()
    for cell in source_nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        gid = meta.get("grade_id")
        if not gid:
            continue
        (answers if meta.get("solution") else locked).add(gid)
    return answers, locked


def student_code(
    nb: nbformat.NotebookNode,
    answers: set[str],
    locked: set[str],
    given: frozenset[str] = frozenset(),
) -> str:
    """The code a student wrote: their answer cells and the code cells they added, in order,
    without the cells left as the release gave them (``given``: the released cells' sources)."""
    parts = []
    for cell in nb.get("cells", []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in locked:
            continue  # setup and tests: the same for everybody (or tampered, and not theirs)
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(str(s) for s in source)
        if isinstance(source, str) and source.strip() and source not in given:
            parts.append(source)
    return "\n\n".join(parts)[:MAX_CHARS]


def released_code(release_nb: nbformat.NotebookNode, answers: set[str]) -> str:
    """What every student was given in the answer cells (stubs, signatures, docstrings)."""
    return "\n\n".join(
        c.source
        for c in release_nb.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade_id") in answers
    )


def course_files(support: list[Path]) -> list[Code]:
    """The course package's modules and the assignment's support modules, as code to compare."""
    import course

    package = Path(course.__file__).resolve().parent
    out = [
        Code(f"course/{p.relative_to(package).as_posix()}", "course", p.read_text(), str(p))
        for p in sorted(package.rglob("*.py"))
    ]
    out += [Code(p.name, "course", p.read_text(), str(p)) for p in support]
    return out


# -- the comparison ------------------------------------------------------------------------------


def _fingerprint(code: Code, boilerplate: list[int]):
    from copydetect.detector import CodeFingerprint

    return CodeFingerprint(
        f"{code.name}.py" if not code.name.endswith(".py") else code.name,
        NOISE,
        GUARANTEE - NOISE + 1,
        boilerplate=boilerplate,
        fp=io.StringIO(code.text),
    )


def _slices(array) -> list[tuple[int, int]]:
    if getattr(array, "size", 0) == 0:
        return []
    return [(int(s), int(e)) for s, e in zip(array[0], array[1], strict=True)]


def compare(
    students: list[Code],
    given: str,
    references: list[Code],
    threshold: float = THRESHOLD,
    min_tokens: int = MIN_TOKENS,
) -> list[Pair]:
    """Every pair of students, and every student with every file of the course, most alike
    first (only pairs that share something)."""
    from copydetect.detector import compare_files

    if not 0 < threshold <= 1:
        raise SimilarityError(f"the threshold is a share of the code, in (0, 1]; got {threshold}")
    boiler = sorted(_fingerprint(Code("given", "given", given), []).hashes) if given else []
    prints = {c.name: _fingerprint(c, boiler) for c in students}
    refs = {c.name: _fingerprint(c, boiler) for c in references}
    pairs = []
    todo = [(a, b, "students") for a, b in itertools.combinations(prints, 2)]
    todo += [(a, r, "course") for a in prints for r in refs]
    for a, b, kind in todo:
        fa = prints[a]
        fb = prints[b] if kind == "students" else refs[b]
        if not fa.hashes or not fb.hashes:
            continue
        tokens, (share_a, share_b), (sa, sb) = compare_files(fa, fb)
        if tokens == 0:
            continue
        share_a, share_b = float(share_a), float(share_b)
        if kind == "students":
            flagged = max(share_a, share_b) >= threshold and int(tokens) >= min_tokens
        else:  # one function taken from a module is a small share of either side: its length
            flagged = int(tokens) >= min_tokens  # is what tells (honest code shares idioms only)
        pairs.append(
            Pair(a, b, kind, share_a, share_b, int(tokens), flagged, _slices(sa), _slices(sb))
        )
    pairs.sort(key=lambda p: (not p.flagged, -(p.share if p.kind == "students" else p.share_a)))
    return pairs


def run(
    course_root: Path,
    assignment: str,
    folder: Path,
    threshold: float = THRESHOLD,
    min_tokens: int = MIN_TOKENS,
    layout: str = "auto",
    regex: str | None = None,
) -> Result:
    """Compare the submissions of ``assignment`` in ``folder`` (the layouts ``grade`` reads)."""
    from autograder import submissions
    from autograder.coursedir import Course

    course = Course(course_root)
    source = course.source(assignment)
    notebooks = sorted(p.stem for p in source.glob("*.ipynb"))
    if not notebooks:
        raise SimilarityError(f"no notebook in {source}: is {assignment!r} an assignment here?")
    answers: set[str] = set()
    locked: set[str] = set()
    given = []
    unchanged: set[str] = set()
    for name in notebooks:
        src = nbformat.read(source / f"{name}.ipynb", as_version=4)
        a, lk = answer_ids(src)
        answers |= a
        locked |= lk
        released = course.path("release", ".", assignment) / f"{name}.ipynb"
        if not released.is_file():
            raise SimilarityError(
                f"{released} is missing: the released notebook tells what every student was "
                f"given. Release it first: python -m autograder release {assignment}"
            )
        released_nb = nbformat.read(released, as_version=4)
        given.append(released_code(released_nb, a))
        unchanged |= {c.source for c in released_nb.cells if c.cell_type == "code"}
    found = submissions.find(folder, assignment, notebooks, layout, regex)
    students, skipped = [], list(found.skipped)
    for sub in found.submissions:
        texts = []
        for fname, path in sorted(sub.files.items()):
            if not fname.endswith(".ipynb"):
                continue
            try:
                nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
            except Exception as exc:  # not a notebook: nothing to compare
                skipped.append((sub.origin, f"not a readable notebook ({type(exc).__name__})"))
                break
            texts.append(student_code(nb, answers, locked, frozenset(unchanged)))
        else:
            students.append(Code(sub.student, "student", "\n\n".join(texts), sub.origin))
    support = sorted(p for p in source.glob("*.py"))
    references = course_files(support)
    pairs = compare(students, "\n\n".join(given), references, threshold, min_tokens)
    codes = {c.name: c for c in [*students, *references]}
    return Result(assignment, codes, pairs, skipped, threshold, min_tokens)


# -- what the instructor reads -------------------------------------------------------------------


def table(result: Result, limit: int = 20) -> str:
    """The most alike pairs, flagged ones first, as a plain-text table."""
    rows = [p for p in result.pairs if p.flagged] or result.pairs[:5]
    lines = [
        f"similarity of {result.assignment}: {len(result.flagged)} pair(s) flagged "
        f"(shared code >= {result.threshold:.0%} of one side and >= {result.min_tokens} "
        f"characters of normalised code)"
    ]
    if not result.flagged:
        lines.append("no pair above the threshold; the most alike:")
    for p in rows[:limit]:
        mark = "FLAG" if p.flagged else "    "
        share = (
            f"{p.share_a:4.0%} / {p.share_b:4.0%}"
            if p.kind == "students"
            else f"{p.share_a:4.0%} of it"
        )
        lines.append(f"  {mark} {p.a:<28} {p.b:<34} {share:>13}  {p.tokens:>6} shared")
    for origin, why in result.skipped:
        lines.append(f"  skipped {origin}: {why}")
    return "\n".join(lines)


def _marked(text: str, slices: list[tuple[int, int]]) -> str:
    out, at = [], 0
    for start, end in sorted(slices):
        start = max(start, at)
        if end <= start:
            continue
        out.append(html.escape(text[at:start]))
        out.append("<mark>" + html.escape(text[start:end]) + "</mark>")
        at = end
    out.append(html.escape(text[at:]))
    return "".join(out)


def write_html(result: Result, path: Path, limit: int = 30) -> Path:
    """The page of the pairs, each flagged one side by side with the shared code marked."""
    import jinja2
    from markupsafe import Markup

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=True,
    )
    shown = []
    for p in result.flagged[:limit] or result.pairs[: min(5, limit)]:
        share = (
            f"{p.share_a:.0%} / {p.share_b:.0%}"
            if p.kind == "students"
            else f"{p.share_a:.0%} of the student's code"
        )
        shown.append(
            {
                "pair": p,
                "share": share,
                # _marked escapes every character of the code itself
                "left": Markup(_marked(result.codes[p.a].text, p.slices_a)),
                "right": Markup(_marked(result.codes[p.b].text, p.slices_b)),
            }
        )
    page = env.get_template("similarity.html.j2").render(
        assignment=result.assignment,
        summary=table(result, limit=0).splitlines()[0],
        shown=shown,
        skipped=result.skipped,
    )
    path.write_text(page, encoding="utf-8")
    return path


def write_json(result: Result, path: Path) -> Path:
    data = {
        "assignment": result.assignment,
        "threshold": result.threshold,
        "min_tokens": result.min_tokens,
        "pairs": [
            {k: v for k, v in asdict(p).items() if not k.startswith("slices")}
            for p in result.pairs
            if p.flagged
        ],
        "skipped": [list(s) for s in result.skipped],
    }
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return path
