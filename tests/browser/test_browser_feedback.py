"""The feedback page a student opens, made by a real grading run and opened from disk.

A temporary course releases ps2 and ps3, and ``python -m autograder grade`` grades three
submissions of the sample classes: ps3's ``bug_no_mean_over_batch`` (two failed tests, each with
a "Likely bug" message), ps3's ``bug_uses_package`` (an answer cell that raises an error) and
ps2's ``bug_relu_kink`` (a failed test, and a written answer that waits for a grader). The
student's page is opened as a file, without a network: it must name each part and test in its
summary, show each message whole inside the page's width (no sideways scrolling, at a laptop's
width and at a narrow one), draw the math (MathML), show no frame of the checking code and no
path of the grading machine, keep a table's header cells apart, and ask for nothing but itself.

A fourth submission, ps3's ``bug_no_mean_over_batch`` with hostile markup of its own (a markdown
cell and a cell that displays HTML, SVG and JavaScript, just before the failed test), must
leave the page where it is, and the failure message, the scores and the summary visible and on
top.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from harness import BIN, ROOT
from playwright.sync_api import expect

SAMPLE = ROOT / "autograder" / "sample_class"
STUDENTS = {"ps3": ["bug_no_mean_over_batch", "bug_uses_package"], "ps2": ["bug_relu_kink"]}
#: what a student never sees: the checking code, a traceback's frame lines, this machine's paths
GRADER_WORDS = (
    "checks.py",
    "Traceback (most recent call last)",
    "skipping hidden",
    "site-packages",
    str(ROOT),
    sys.prefix,
)

#: what the sample class says each student's feedback names (its bug)
MENTIONS = {
    student: json.loads((SAMPLE / assignment / "expected.json").read_text())[student][
        "feedback_mentions"
    ]
    for assignment, students in STUDENTS.items()
    for student in students
}

#: a student's markdown cell and a cell of theirs that displays markup, which try to hide the
#: grader's parts, cover them, restyle them or leave the page (autograder/sanitize.py)
EVIL = "https://evil.example/"
HOSTILE_MARKDOWN = f"""My notes on part (b).

<style>.feedback-message, .pull-right, #summary {{display: none !important}}</style>
<meta http-equiv="refresh" content="0;url={EVIL}">
<base href="{EVIL}">
<div style="position:fixed;top:0;left:0;width:100vw;height:100vh;background:#fff;z-index:9999">
All tests passed. Score: 28 / 28</div>

$\\text{{<style>.panel {{visibility: hidden}}</style>}}$ and
$\\style{{position:fixed;top:0;left:0;width:100vw;height:100vh;background:#fff}}{{x}}$

</div></div></div></div><!-- the grader's markup after this
"""
HOSTILE_CODE = f"""from IPython.display import HTML, SVG, Javascript, display
display(HTML('<style>.feedback-result {{display: none}}</style>'
             '<meta http-equiv="refresh" content="0;url={EVIL}">'
             '<div style="position:fixed;inset:0;background:#fff;z-index:9999">Passed.</div>'))
display(SVG('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40">'
            '<style>.feedback-message {{display: none}}</style>'
            '<circle cx="20" cy="20" r="15" fill="#3c763d"/></svg>'))
display(Javascript('location.href = "{EVIL}"'))
print("displayed my markup")
"""


def hostile_submission(folder: Path) -> Path:
    """ps3's bug_no_mean_over_batch with the hostile cells just before its failed test."""
    import nbformat

    nb = nbformat.read(SAMPLE / "ps3" / "bug_no_mean_over_batch.ipynb", as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if c.get("id") == "test-b-softmax-ce")
    nb.cells[at:at] = [
        nbformat.v4.new_markdown_cell(HOSTILE_MARKDOWN),
        nbformat.v4.new_code_cell(HOSTILE_CODE),
    ]
    path = folder / "hostile_markup.ipynb"
    nbformat.write(nb, path)
    return path


NO_SIDEWAYS_SCROLL = (
    "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
)


@pytest.fixture(scope="module")
def feedback(tmp_path_factory) -> dict[str, Path]:
    """student -> the feedback page the grading run wrote for them."""
    course = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for assignment in STUDENTS:
        shutil.copytree(
            ROOT / "source_assignments" / assignment,
            course / "source_assignments" / assignment,
            ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"),
        )
    jupyter = tmp_path_factory.mktemp("jupyter")
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # nbgrader runs alembic
        "PYTHONDONTWRITEBYTECODE": "1",
        "JUPYTER_CONFIG_DIR": str(jupyter / "config"),
        "JUPYTER_RUNTIME_DIR": str(jupyter / "runtime"),
    }

    def autograder(*args: str) -> None:
        proc = subprocess.run(
            [sys.executable, "-m", "autograder", "--course", str(course), *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr

    autograder("release", *STUDENTS)
    pages = {}
    for assignment, students in STUDENTS.items():
        folder = tmp_path_factory.mktemp(f"class-{assignment}")
        for student in students:
            shutil.copy(SAMPLE / assignment / f"{student}.ipynb", folder)
        if assignment == "ps3":
            students = [*students, hostile_submission(folder).stem]
        out = tmp_path_factory.mktemp(f"grades-{assignment}")
        autograder("grade", assignment, str(folder), "--out", str(out), "--no-progress")
        for student in students:
            pages[student] = out / "feedback" / f"{student}.html"
            assert pages[student].is_file(), student
    return pages


def open_page(page, path: Path, shots, name: str) -> list[str]:
    """Open ``path`` from disk; the addresses the page asked for (itself included)."""
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto(path.as_uri())
    shots.check(page, f"open {name}", lambda: expect(page.locator("#summary")).to_be_visible())
    return asked


def test_a_failed_test_reads_well(page, shots, feedback) -> None:
    asked = open_page(page, feedback["bug_no_mean_over_batch"], shots, "ps3 feedback")
    summary = page.locator("#summary")

    def names_the_parts():
        expect(summary).to_contain_text("ps3: 22 of 28 points")
        expect(summary).to_contain_text("Part (b): softmax cross-entropy")
        expect(summary.locator("tr.test.failed")).to_have_count(2)
        expect(summary.locator("tr.test.failed").first).to_contain_text(
            "Tests for softmax_cross_entropy"
        )
        expect(summary.locator("tr.test.failed").first).to_contain_text("0 / 4")
        expect(summary).not_to_contain_text("Test cell")

    shots.check(page, "the summary names the parts and tests", names_the_parts)

    failed = page.locator(".feedback-test.failed").first
    failed.scroll_into_view_if_needed()
    message = failed.locator(".feedback-message")

    def the_message_first_and_whole():
        expect(failed.locator(".panel-heading")).to_contain_text(
            "Part (b): softmax cross-entropy: Tests for softmax_cross_entropy"
        )
        expect(failed.locator(".panel-heading")).to_contain_text("Score: 0 / 4")
        expect(message).to_be_visible()
        expect(message).to_contain_text("Likely bug: ")
        # part (b)'s own diagnosis here; what the sample class says of the other parts (part
        # (d) passes with the student's own functions chained) elsewhere on the page
        expect(message).to_contain_text("Your dZ from softmax_cross_entropy")
        expect(message).to_contain_text("did not divide by m")
        for words in MENTIONS["bug_no_mean_over_batch"]:
            expect(page.locator("body")).to_contain_text(words)
        # it wraps inside its box: no scroll bar of its own, nothing past the page's edge
        assert message.evaluate("e => e.scrollWidth <= e.clientWidth")
        assert page.evaluate(NO_SIDEWAYS_SCROLL)
        expect(failed.locator("details.feedback-code")).not_to_have_attribute("open", "")

    shots.check(page, "the message of a failed test", the_message_first_and_whole)
    shots.take(page, "a failed test, alone", failed)

    text = page.locator("body").inner_text()
    for word in GRADER_WORDS:
        assert word not in text, word
    assert [url for url in asked if not url.startswith(("file:", "data:"))] == []


def test_math_and_tables_are_drawn(page, shots, feedback) -> None:
    open_page(page, feedback["bug_no_mean_over_batch"], shots, "ps3 feedback")
    maths = page.locator(".text_cell_render math")

    def math_drawn():
        assert maths.count() > 50
        sizes = maths.evaluate_all(
            "ms => ms.slice(0, 40).map(m => [m.getBoundingClientRect().width,"
            " m.getBoundingClientRect().height])"
        )
        assert all(w > 0 and h > 0 for w, h in sizes), sizes
        prose = page.locator(".text_cell_render").first.inner_text()
        assert "$" not in prose and "\\partial" not in prose and "\\lVert" not in prose

    shots.check(page, "the math is drawn", math_drawn)
    table = page.locator(".text_cell_render table").first
    table.scroll_into_view_if_needed()

    def header_cells_apart():
        heads = table.locator("thead th")
        expect(heads.first).to_have_text("part")
        padding = heads.evaluate_all(
            "hs => hs.map(h => parseFloat(getComputedStyle(h).paddingLeft))"
        )
        assert min(padding) >= 5, padding
        boxes = heads.evaluate_all("hs => hs.map(h => h.getBoundingClientRect().toJSON())")
        for left, right in zip(boxes, boxes[1:]):
            assert right["x"] >= left["x"] + left["width"] - 1

    shots.check(page, "a table's header", header_cells_apart)
    shots.take(page, "the intro, with its table and math", page.locator(".text_cell_render").first)
    part_b = page.locator(".text_cell_render", has_text="softmax cross-entropy (6 points)")
    shots.take(page, "the math of part (b)", part_b)


def test_narrow_window_has_no_sideways_scrolling(page, shots, feedback) -> None:
    page.set_viewport_size({"width": 700, "height": 900})
    open_page(page, feedback["bug_no_mean_over_batch"], shots, "ps3 feedback, narrow")
    shots.check(page, "narrow: no sideways scrolling", lambda: page.evaluate(NO_SIDEWAYS_SCROLL))
    failed = page.locator(".feedback-test.failed").first
    failed.scroll_into_view_if_needed()

    def wraps():
        assert page.evaluate(NO_SIDEWAYS_SCROLL)
        message = failed.locator(".feedback-message")
        assert message.evaluate("e => e.scrollWidth <= e.clientWidth")

    shots.check(page, "narrow: the message wraps", wraps)


def test_an_answer_that_raises_shows_only_the_students_lines(page, shots, feedback) -> None:
    open_page(page, feedback["bug_uses_package"], shots, "ps3 feedback, an answer that raises")
    error = page.locator(".feedback-error", has_text="ForbiddenModuleError").first
    error.scroll_into_view_if_needed()

    def own_lines_only():
        expect(error.locator(".feedback-message")).to_contain_text(
            "ForbiddenModuleError: course.mlp is not available while ps3 is graded"
        )
        expect(error.locator(".feedback-frames")).to_contain_text("from course.mlp import MLP")
        expect(error.locator(".feedback-frames")).not_to_contain_text("File ")
        text = page.locator("body").inner_text()
        for word in GRADER_WORDS:
            assert word not in text, word

    shots.check(page, "an error in an answer cell", own_lines_only)
    shots.take(page, "the error, alone", error)


def test_a_written_answer_waits_for_its_grader(page, shots, feedback) -> None:
    open_page(page, feedback["bug_relu_kink"], shots, "ps2 feedback")
    summary = page.locator("#summary")

    def says_so():
        expect(summary).to_contain_text("4 of them still to be graded by hand")
        expect(summary.locator("tr.test", has_text="Your written answer")).to_contain_text(
            "to be graded"
        )
        expect(summary).to_contain_text("Tests for relu and relu_prime, the kink at z = 0")

    shots.check(page, "the written answer is to be graded", says_so)


def test_a_students_markup_leaves_the_graders_parts_visible(page, shots, feedback) -> None:
    path = feedback["hostile_markup"]
    asked = open_page(page, path, shots, "ps3 feedback with a student's hostile markup")
    page.wait_for_timeout(1500)  # a refresh of 0 seconds, or a script, would have left by now
    assert page.url == path.as_uri()
    failed = page.locator(".feedback-test.failed", has_text="Tests for softmax_cross_entropy")
    failed = failed.first
    failed.scroll_into_view_if_needed()
    message = failed.locator(".feedback-message")
    notes = page.locator(".text_cell_render", has_text="My notes on part (b).")

    def the_graders_parts_show():
        expect(page.locator("#summary")).to_be_visible()
        expect(page.locator("#summary tr.test.failed").first).to_be_visible()
        expect(failed.locator(".panel-heading .pull-right")).to_contain_text("Score: 0 / 4")
        expect(failed.locator(".panel-heading .pull-right")).to_be_visible()
        assert message.is_visible()
        expect(message).to_contain_text("Likely bug: ")
        # on top: the element at the message's centre is the message (no overlay covers it)
        on_top = message.evaluate(
            "e => { const r = e.getBoundingClientRect();"
            " const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);"
            " return e.contains(top); }"
        )
        assert on_top
        # the student's words are there, without their markup's effects
        expect(notes).to_be_visible()
        expect(page.locator(".output_area pre", has_text="displayed my markup")).to_be_visible()
        assert page.locator("style").count() == page.locator("head style").count()
        assert page.evaluate("document.querySelectorAll('[style]').length") == 0

    shots.check(
        page, "the student's markup changes nothing of the grader's", the_graders_parts_show
    )
    shots.take(page, "the failed test after the hostile cells", failed)
    assert [url for url in asked if not url.startswith(("file:", "data:"))] == []
