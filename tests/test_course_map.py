"""The path through the course: lessons name the problem sets they prepare for, and back.

Three places say it, and they must agree:

* each lesson's introduction (``notebooks/src/NN_*.py``, its first cell) says "Prepares for
  problem set N (psN, ...)" for every problem set it prepares for;
* each problem set's introduction (``source_assignments/psN/psN.ipynb``, the locked cell
  ``intro``) has a paragraph "**Lessons.**" that names the notebooks it relies on by file name;
* the contents page (``notebooks/README.md``) has a row per notebook with its link and the
  problem sets it prepares for.

A lesson prepares for a problem set exactly when that problem set relies on it. Every name must
exist: a lesson names at least one problem set, a problem set at least one notebook, and a link
of the contents page points to a notebook of the series.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
ASSIGNMENTS = ROOT / "source_assignments"
sys.path.insert(0, str(ROOT / "tools"))

import nbbuild  # noqa: E402

PROBLEM_SET = re.compile(r"problem set (\d+) \(ps(\d+)\b")
NOTEBOOK_FILE = re.compile(r"`(\d\d_[a-z0-9_]+)\.ipynb`")
CONTENTS_ROW = re.compile(r"^\| (\d+) \| \[([^\]]+)\]\(([^)]+)\) \| ([^|]*) \|", flags=re.MULTILINE)


def _paragraph(text: str, words: str) -> str:
    """The paragraph (between blank lines) of ``text`` that holds ``words``, or ""."""
    found = [p for p in re.split(r"\n\s*\n", text) if words in p]
    return found[0] if len(found) == 1 else "\n\n".join(found)


def lesson_intros() -> dict[str, str]:
    """Notebook stem -> the text of its first (Markdown) cell, from the sources."""
    return {
        source.stem: nbbuild.parse_source(source.read_text(encoding="utf-8"))[0].source
        for source in sorted((NOTEBOOKS / "src").glob("[0-9][0-9]_*.py"))
    }


def problem_set_intros() -> dict[str, str]:
    """Problem set (``"ps1"``, ...) -> the text of its introduction cell."""
    out = {}
    for path in sorted(ASSIGNMENTS.glob("ps*/ps*.ipynb")):
        if path.parent.name != path.stem:
            continue
        nb = nbformat.read(path, as_version=4)
        intro = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "intro"]
        out[path.stem] = intro[0].source if intro else ""
    return out


def prepares_for(intro: str) -> tuple[set[str], list[str]]:
    """The problem sets a lesson's introduction prepares for, and what is wrong in the way it
    names them ("problem set 3 (ps5, ...)")."""
    said = _paragraph(intro, "repares for")
    wrong = [f"problem set {n} (ps{m}" for n, m in PROBLEM_SET.findall(said) if n != m]
    return {f"ps{m}" for _, m in PROBLEM_SET.findall(said)}, wrong


def relies_on(intro: str) -> set[str]:
    """The notebooks (stems) a problem set's introduction names in its "Lessons" paragraph."""
    return set(NOTEBOOK_FILE.findall(_paragraph(intro, "**Lessons.**")))


def contents_rows(page: str) -> dict[str, tuple[str, str, set[str]]]:
    """Contents page: notebook stem (of the link text) -> (number, link, problem sets)."""
    rows = {}
    for number, text, link, sets in CONTENTS_ROW.findall(page):
        rows[text.removesuffix(".ipynb")] = (number, link, set(re.findall(r"ps\d+", sets)))
    return rows


def map_problems(lessons: dict[str, str], problem_sets: dict[str, str], page: str) -> list[str]:
    """Everything on which the three places disagree, or that names what does not exist."""
    problems = []
    forward = {}
    for stem, intro in lessons.items():
        sets, wrong = prepares_for(intro)
        forward[stem] = sets
        problems += [f"{stem} says {w}" for w in wrong]
        if not sets:
            problems.append(f"{stem} names no problem set it prepares for")
        problems += [
            f"{stem} prepares for {s}, which does not exist" for s in sets - set(problem_sets)
        ]
    backward = {}
    for ps, intro in problem_sets.items():
        stems = relies_on(intro)
        backward[ps] = stems
        if not stems:
            problems.append(f"{ps} names no lesson it relies on")
        problems += [
            f"{ps} relies on {s}.ipynb, which does not exist" for s in stems - set(lessons)
        ]
    for stem, sets in forward.items():
        for ps in sorted(sets & set(problem_sets)):
            if stem not in backward[ps]:
                problems.append(f"{stem} prepares for {ps}, but {ps} does not name {stem}")
    for ps, stems in backward.items():
        for stem in sorted(stems & set(lessons)):
            if ps not in forward[stem]:
                problems.append(f"{ps} relies on {stem}, but {stem} does not prepare for {ps}")
    rows = contents_rows(page)
    for stem, sets in forward.items():
        if stem not in rows:
            problems.append(f"the contents page has no row for {stem}")
            continue
        number, link, listed = rows[stem]
        if link != f"{stem}.ipynb" or not (NOTEBOOKS / link).is_file():
            problems.append(f"the contents page links {stem} to {link}")
        if int(number) != int(stem[:2]):
            problems.append(f"the contents page numbers {stem} as {number}")
        if listed != sets:
            problems.append(
                f"the contents page says {stem} prepares for {sorted(listed)}, the notebook "
                f"says {sorted(sets)}"
            )
    problems += [
        f"the contents page lists {stem}, not a notebook" for stem in set(rows) - set(lessons)
    ]
    named = set(re.findall(r"\bps\d+\b", page))
    problems += [
        f"the contents page names {ps}, which does not exist" for ps in named - set(problem_sets)
    ]
    return problems


def _the_course() -> tuple[dict[str, str], dict[str, str], str]:
    page = (NOTEBOOKS / "README.md").read_text(encoding="utf-8")
    return lesson_intros(), problem_set_intros(), page


def test_the_course_has_lessons_and_problem_sets_to_map() -> None:
    lessons, problem_sets, page = _the_course()
    assert len(lessons) >= 8 and len(problem_sets) >= 6
    assert len(contents_rows(page)) == len(lessons)


def test_lessons_problem_sets_and_the_contents_page_agree() -> None:
    assert map_problems(*_the_course()) == []


def test_every_problem_set_is_prepared_for_by_some_lesson() -> None:
    lessons, problem_sets, _ = _the_course()
    prepared = set().union(*(prepares_for(intro)[0] for intro in lessons.values()))
    assert prepared == set(problem_sets)


def test_a_wrong_link_anywhere_is_found() -> None:
    lessons, problem_sets, page = _the_course()
    first = sorted(lessons)[0]
    cases = {
        "a lesson names another problem set": (
            {**lessons, first: lessons[first].replace("(ps1,", "(ps2,", 1)},
            problem_sets,
            page,
        ),
        "a lesson names a problem set that does not exist": (
            {**lessons, first: lessons[first].replace("problem set 1 (ps1", "problem set 9 (ps9")},
            problem_sets,
            page,
        ),
        "a problem set names another notebook": (
            lessons,
            {
                **problem_sets,
                "ps2": problem_sets["ps2"].replace("04_activations", "05_activations"),
            },
            page,
        ),
        "a problem set forgets a lesson": (
            lessons,
            {**problem_sets, "ps1": problem_sets["ps1"].replace("`03_gates.ipynb`", "gates")},
            page,
        ),
        "the contents page lists other problem sets": (
            lessons,
            problem_sets,
            page.replace("| ps1, ps6 |", "| ps1 |", 1),
        ),
        "the contents page links a file that does not exist": (
            lessons,
            problem_sets,
            page.replace("](03_gates.ipynb)", "](03_gate.ipynb)", 1),
        ),
    }
    for name, (les, sets, text) in cases.items():
        assert text != page or les != lessons or sets != problem_sets, name  # the case changed
        assert map_problems(les, sets, text), name
