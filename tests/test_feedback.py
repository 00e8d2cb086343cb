"""The feedback page a student reads (``autograder/feedback.py`` and its template): made here from
ps3's source notebook with the outputs a grading run leaves, through the preprocessors and the
exporter that the course's ``nbgrader_config.py`` names (nbgrader's ``GetGrades``, which reads
the gradebook, is replaced by the scores it would write).

Checked: the summary names each part and each test, with its score; a failed test shows its
message whole and first, wrapped by the page's style; neither the checking code's frames nor a
path of the grading machine appear; the math is MathML in the page; the page loads nothing
(no script, no address of a CDN); markdown tables have a styled header; and the helpers that
name parts, clean paths and render math.
"""

from __future__ import annotations

import html
import re
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from traitlets.config.loader import PyFileConfigLoader
from traitlets.utils.importstring import import_item

from autograder.feedback import (
    part_heading,
    render_math,
    scrub_paths,
    title_of_test,
)

ROOT = Path(__file__).resolve().parent.parent
CHECKS = str(ROOT / "course" / "checks.py")
SITE = sysconfig.get_paths()["purelib"]
LIKELY = (
    "Likely bug: your values are exactly m = 4 times too large: you summed over the m examples "
    "of the batch but did not divide by m (the cost is the mean over the batch)."
)
MESSAGE = (
    "Your dZ from softmax_cross_entropy (Z 3x4, largest |z| = 3) is wrong.\n"
    "  relative error: 6.0e-01 (allowed: about 1e-06)\n  " + LIKELY
)
SCORES = {  # grade_id -> points given (ps3's maximum: 28)
    "test_a_forward": 2,
    "test_a_backward": 0,
    "test_b_softmax_ce": 0,
    "test_b_stable": 2,
    "test_c_lecture": 2,
    "test_c_random": 3,
    "test_d_visible": 4,
    "test_d_hidden": 6,
}


def plain_mode_failure(count: int) -> dict:
    """A failed check as IPython writes it when the test runs in the student's kernel (``nbgrader
    autograde`` without the autograder): the test cell, the checking code's frame, the message."""
    return {
        "output_type": "error",
        "ename": "AssertionError",
        "evalue": MESSAGE,
        "traceback": [
            "\x1b[31m" + "-" * 75 + "\x1b[39m",
            "\x1b[31mAssertionError\x1b[39m            Traceback (most recent call last)",
            f"\x1b[36mCell\x1b[39m\x1b[36m \x1b[39m\x1b[32mIn[{count}]\x1b[39m\x1b[32m, line 8"
            "\x1b[39m\n\x1b[32m----> 8\x1b[39m support.check_softmax_ce(softmax_cross_entropy, Z,"
            " y)",
            "    \x1b[31m[... skipping hidden 2 frame]\x1b[39m\n",
            f"\x1b[36mFile \x1b[39m\x1b[32m{CHECKS}:695\x1b[39m, in check_array(name, got)\n"
            "\x1b[32m--> 695\x1b[39m     raise _failure(name, found)\n",
            f"\x1b[31mAssertionError\x1b[39m: {MESSAGE}",
        ],
    }


def grader_failure() -> dict:
    """A student's function that raised while the grader's test called it (autograder.checker)."""
    frames = (
        "Traceback (most recent call last):\n"
        "Cell In[5], line 4, in affine_backward\n    dW = dZ @ A_prev\n         ~~~^~~~~~~\n"
        f'  File "{SITE}/numpy/_core/numeric.py", line 9, in inner\n    return f(a, b)\n'
    )
    message = "matmul: Input operand 1 has a mismatch in its core dimension 0"
    return {
        "output_type": "error",
        "ename": "ValueError",
        "evalue": message,
        "traceback": [frames, f"\x1b[0;31mValueError\x1b[0m: {message}"],
    }


def graded_ps3() -> nbformat.NotebookNode:
    """ps3's source notebook as nbgrader's ``GetGrades`` hands it to the feedback: outputs of a
    run, and each graded cell's score and points in its metadata."""
    nb = nbformat.read(ROOT / "source_assignments" / "ps3" / "ps3.ipynb", as_version=4)
    for count, cell in enumerate(nb.cells, start=1):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code":
            continue
        cell.execution_count = count
        grade_id = meta.get("grade_id")
        if grade_id == "test_a_backward":
            cell.outputs = [nbformat.from_dict(grader_failure())]
        elif grade_id == "test_b_softmax_ce":
            cell.outputs = [nbformat.from_dict(plain_mode_failure(count))]
        elif grade_id == "b_softmax_ce":  # a warning a student's cell printed, with its path
            warning = f"{SITE}/numpy/_core/_methods.py:118: RuntimeWarning: overflow in exp\n"
            cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text=warning)]
        elif meta.get("grade"):
            cell.outputs = [nbformat.v4.new_output("stream", text="passes the visible tests.\n")]
        if meta.get("grade"):
            meta["score"] = SCORES[grade_id]
    return nb


def render(nb: nbformat.NotebookNode) -> str:
    """The page, from the preprocessors and the exporter of the course's configuration."""
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    exporter = import_item(config.GenerateFeedback.exporter_class)(config=config)
    for name in config.GenerateFeedback.preprocessors:
        if not name.endswith("GetGrades"):  # (it reads the gradebook: done by graded_ps3)
            exporter.register_preprocessor(import_item(name)(config=config), enabled=True)
    resources = {
        "nbgrader": {"notebook": "ps3", "score": 19, "max_score": 28, "late_penalty": 0},
        "metadata": {"path": str(ROOT / "source_assignments" / "ps3")},
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body


@pytest.fixture(scope="module")
def page() -> str:
    return render(graded_ps3())


def words_of(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def summary_of(page: str) -> str:
    return words_of(page[page.index('id="summary"') : page.index('id="notebook"')])


# -- the page -------------------------------------------------------------------------------------


def test_the_configuration_makes_this_page() -> None:
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    assert config.GenerateFeedback.exporter_class == "autograder.feedback.FeedbackExporter"
    steps = [name.rsplit(".", 1)[-1] for name in config.GenerateFeedback.preprocessors]
    assert steps.index("HideHiddenTracebackLines") < steps.index("ClearHiddenTests")
    assert steps.index("ClearHiddenTests") < steps.index("ReadableFeedback")


def test_the_summary_names_every_part_and_test_with_its_score(page: str) -> None:
    summary = summary_of(page)
    assert "ps3: 19 of 28 points" in summary
    assert "Test cell" not in page
    for words in (
        "Part (a): the affine layer 2 / 7",
        "Tests for affine_forward 2 / 2",
        "Tests for affine_backward 0 / 5",
        "Part (b): softmax cross-entropy 2 / 6",
        "Tests for softmax_cross_entropy 0 / 4",
        "Tests for softmax_cross_entropy with very large logits 2 / 2",
        "Part (d): a two-layer network with weight decay 10 / 10",
    ):
        assert words in summary, words
    assert "(7 points)" not in summary  # the score says it
    assert summary.count("Part (") == 4
    assert 'href="#test_b_softmax_ce"' in page and 'name="test_b_softmax_ce"' in page


def test_a_failed_test_shows_its_part_score_and_whole_message_first(page: str) -> None:
    start = page.index('name="test_b_softmax_ce"')
    cell = page[start : page.index("</details>", start)]
    words = words_of(cell)
    order = [
        words.index(w)
        for w in (
            "Part (b): softmax cross-entropy: Tests for softmax_cross_entropy",
            "Score: 0 / 4",
            "AssertionError",
            "Your dZ",
        )
    ]
    assert order == sorted(order)
    assert LIKELY in words  # one piece: no line cut
    assert words.index(LIKELY) < words.index("The test's code")  # the code comes after
    assert "feedback-message" in cell


def test_messages_wrap_to_the_page(page: str) -> None:
    style = re.sub(r"/\*.*?\*/", "", re.findall(r"<style[^>]*>(.*?)</style>", page, re.S)[-1])
    rules = {
        " ".join(selector.split()): " ".join(body.split())
        for selector, body in re.findall(r"([^{}]+)\{([^}]*)\}", style)
    }
    wrapping = rules["div.output_area pre, .feedback-result pre"]
    assert "white-space: pre-wrap" in wrapping and "overflow-wrap: anywhere" in wrapping


def test_no_frame_of_the_checking_code_and_no_path_of_this_machine(page: str) -> None:
    words = words_of(page)
    for grader in (
        "checks.py",
        "skipping hidden",
        "Traceback (most recent call last)",
        "site-packages",
        str(ROOT),
        SITE,
        sys.prefix,
    ):
        assert grader not in words, grader
    # the student's own frame stays, and the warning keeps its place in numpy, without the path
    assert "Cell In[5], line 4, in affine_backward" in words and "dW = dZ @ A_prev" in words
    assert "numpy/_core/_methods.py:118: RuntimeWarning: overflow in exp" in words


def test_math_is_mathml_in_the_page(page: str) -> None:
    assert page.count("<math") > 50
    prose = words_of(re.sub(r"<pre.*?</pre>|<code.*?</code>", " ", page, flags=re.S))
    for tex in (r"\partial", r"\lVert", r"\frac", "$$", "$Z"):
        assert tex not in prose, tex


def test_the_page_loads_nothing(page: str) -> None:
    assert "<script" not in page and "mathjax" not in page.lower()
    assert "@font-face" not in page
    for attribute in re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)""", page):
        assert not re.match(r"(https?:)?//", attribute), attribute
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", page)
    assert not re.search(r"\bcdn", page, re.I)
    policy = BeautifulSoup(page, "html.parser").find(
        "meta", attrs={"http-equiv": "Content-Security-Policy"}
    )
    assert policy is not None and "default-src 'none'" in policy["content"]
    # default-src does not cover these two: a student's <base> or <form> in a markdown cell or an
    # HTML output could otherwise point the page's links or a submit button elsewhere
    assert "base-uri 'none'" in policy["content"]
    assert "form-action 'none'" in policy["content"]


def test_a_markdown_table_has_its_header_apart(page: str) -> None:
    assert re.search(r"<thead>\s*<tr>\s*<th>part</th>\s*<th>you write</th>", page)
    assert re.search(r"\.rendered_html th, \.rendered_html td \{[^}]*padding", page)


def test_a_score_a_grader_has_still_to_give_is_said_so() -> None:
    nb = graded_ps3()
    nb.cells.append(
        nbformat.v4.new_markdown_cell(
            "An answer.",
            metadata={
                "nbgrader": {
                    "grade": True,
                    "solution": True,
                    "grade_id": "e_written",
                    "points": 4,
                    "score": None,
                }
            },
        )
    )
    summary = summary_of(render(nb))
    assert "Your written answer to be graded" in summary


def test_names_and_messages_are_text_not_markup() -> None:
    nb = graded_ps3()
    cell = next(
        c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_a_forward"
    )
    cell.source = "# Tests for <b>x</b> < y (2 points)\n" + cell.source
    cell.outputs = [
        nbformat.v4.new_output("error", ename="<i>Odd</i>", evalue="<img src=x>", traceback=[])
    ]
    page = render(nb)
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt; &lt; y" in page
    assert "<i>Odd</i>" not in page and "<img src=x>" not in page


# -- the helpers ----------------------------------------------------------------------------------


def test_part_heading_and_title_of_test() -> None:
    assert part_heading("## Part (a): the affine layer (7 points)\n\ntext") == (
        "Part (a): the affine layer"
    )
    assert part_heading("## Part (d): why (4 points, graded by hand)") == "Part (d): why"
    assert part_heading("no heading\n# but here **bold**") == "but here bold"
    assert part_heading("text only") is None
    assert title_of_test("# Tests for affine_forward (2 points)\nimport numpy as np") == (
        "Tests for affine_forward"
    )
    after_imports = "import ps2_support as support\n\n# Tests for relu (3 points)\ncheck()"
    assert title_of_test(after_imports) == "Tests for relu"
    assert title_of_test("# More tests\n# run during grading (3 points)\nx = 1") == (
        "More tests run during grading"
    )
    assert title_of_test("check(x)\n# a comment later") is None
    assert title_of_test("### BEGIN HIDDEN TESTS\ncheck(x)") is None
    assert len(title_of_test("# " + "word " * 60) or "") <= 100


def test_scrub_paths() -> None:
    text = (
        f"{SITE}/numpy/core/x.py:3: RuntimeWarning\n"
        "/other/env/lib/python3.12/site-packages/scipy/y.py, line 4\n"
        f"{CHECKS}:695\n"
    )
    assert scrub_paths(text) == (
        "numpy/core/x.py:3: RuntimeWarning\nscipy/y.py, line 4\ncourse/checks.py:695\n"
    )


def test_render_math() -> None:
    inline = render_math(r"\lvert z\rvert = 10^4")
    assert inline.startswith("<math") and 'display="inline"' in inline
    assert '<mo stretchy="false" lspace="0" rspace="0">|</mo>' in inline
    assert render_math("|z| = 1").count('<mo stretchy="false" lspace="0" rspace="0">') == 2
    assert 'display="block"' in render_math(r"\frac{\partial J}{\partial z}", display=True)
    assert "<mrow><mi>f</mi><mo>\u2032</mo></mrow>" in render_math("f'(z)")
    assert "<mi>softmax</mi>" in render_math(r"\operatorname{softmax}(z)")
    assert '<mo lspace="0" rspace="0">/</mo>' in render_math(r"\partial J / \partial Z")
    assert render_math(r"\frac{1}{") == r'<code class="tex">$\frac{1}{$</code>'


def test_comments_say_which_answer_and_who_made_them() -> None:
    """The summary lists each comment on an answer once, with its part and its words: a grader's
    comment as such, nbgrader's "No response." on an answer left blank as a note; a comment on
    a test cell (no answer to link to) is not listed."""
    nb = graded_ps3()
    comments = {"a_affine_forward": "No response.", "d_two_layer": "Neat use of <b>keepdims</b>."}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") in comments:
            meta["comment"] = comments[meta["grade_id"]]
        elif meta.get("grade_id") == "test_a_forward":
            meta["comment"] = "A comment on a test cell."
    page = render(nb)
    summary = summary_of(page)
    soup = BeautifulSoup(page, "html.parser")
    rows = [" ".join(row.get_text(" ").split()) for row in soup.select("tr.comment")]
    assert rows == [
        "Note on your answer in Part (a): the affine layer No response.",
        "Your grader's comment on your answer in Part (d): a two-layer network with weight decay "
        "Neat use of <b>keepdims</b>.",
    ], summary
    assert "A comment on a test cell" not in summary
    assert not soup.select("tr.comment b")  # the summary shows the comment as text
    anchors = {a["name"] for a in soup.find_all("a") if a.get("name")}
    for link in soup.select("tr.comment a"):
        assert link["href"][1:] in anchors
