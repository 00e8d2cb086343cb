"""The feedback a student reads: the page ``nbgrader generate_feedback`` makes of a graded notebook.

``nbgrader_config.py`` puts these in ``GenerateFeedback``:

* :class:`HideHiddenTracebackLines` (first): nbgrader's ``ClearHiddenTests`` removes the
  hidden-test region from a test cell's source, but a failed test's traceback still quotes the
  source lines around the failure, hidden ones included. This drops those lines from the
  tracebacks; when the failing line itself is hidden it becomes ``---> (a hidden test)``.
* :class:`ReadableFeedback` (after ``ClearHiddenTests``): names every graded part (the heading of
  its part of the notebook and the first comment of the test, e.g. "Part (b): softmax
  cross-entropy" and "Tests for softmax_cross_entropy") for the summary at the top of the page;
  turns each error into its message and the frames of the student's own cells
  (:func:`course.validate.readable_error`: none of the checking code, the support module or
  a library), and removes the file paths of the grading machine from what the cells printed.
* :class:`FeedbackExporter` (``GenerateFeedback.exporter_class``): nbgrader's page with the
  template ``templates/feedback_page.html.j2``: a summary of the parts and their scores, each
  test's result above its code, messages wrapped to the page's width, markdown tables with
  their borders, and math rendered into the page as MathML (:func:`render_math`), so that the
  page shows everything without a network. Its Content-Security-Policy lets it load nothing
  (no script, no style sheet, no font, no image but those inside it). What a student controls
  (their markdown, what their cells display, their math) keeps only the allowlist of
  :mod:`autograder.sanitize`, so it cannot restyle, hide or move the grader's parts.
"""

from __future__ import annotations

import html
import os
import re
import sys
import sysconfig
from pathlib import Path
from typing import Any

import markupsafe
from jinja2 import pass_context
from nbconvert.exporters import HTMLExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Unicode, default

from autograder.sanitize import sanitize_html, sanitize_mathml

__all__ = [
    "HideHiddenTracebackLines",
    "hidden_lines",
    "strip_traceback",
    "ReadableFeedback",
    "part_heading",
    "title_of_test",
    "scrub_paths",
    "FeedbackExporter",
    "render_math",
]

TEMPLATE = Path(__file__).with_name("templates") / "feedback_page.html.j2"

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# a source line as IPython prints it in a traceback: optional arrow, line number, code
_NUMBERED = re.compile(r"^\s*(?P<arrow>-*>)?\s*\d+\s(?P<code>.*)$")


def hidden_lines(source: str, begin: str, end: str) -> set[str]:
    """The stripped lines of every hidden region of ``source``, the markers included."""
    lines: set[str] = set()
    inside = False
    for line in source.splitlines():
        if begin in line:
            inside = True
        if inside and line.strip():
            lines.add(line.strip())
        if end in line:
            inside = False
    return lines


def strip_traceback(frame: str, hidden: set[str]) -> str:
    """One traceback entry (it may span several lines) without the hidden source lines."""
    kept = []
    for line in frame.split("\n"):
        match = _NUMBERED.match(_ANSI.sub("", line))
        if match and match.group("code").strip() in hidden:
            if match.group("arrow"):
                kept.append("---> (a hidden test)")
            continue
        kept.append(line)
    return "\n".join(kept)


class HideHiddenTracebackLines(NbGraderPreprocessor):
    """Remove hidden-test source lines from the tracebacks stored in test cells' outputs."""

    begin_test_delimeter = Unicode("BEGIN HIDDEN TESTS").tag(config=True)
    end_test_delimeter = Unicode("END HIDDEN TESTS").tag(config=True)

    def preprocess_cell(
        self, cell: NotebookNode, resources: dict, index: int
    ) -> tuple[NotebookNode, dict]:
        if cell.cell_type != "code" or self.begin_test_delimeter not in cell.source:
            return cell, resources
        hidden = hidden_lines(cell.source, self.begin_test_delimeter, self.end_test_delimeter)
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [strip_traceback(f, hidden) for f in output["traceback"]]
        return cell, resources


# -- the parts, the errors and the paths ---------------------------------------------------------

#: a trailing "(7 points)" or "(4 points, graded by hand)": the page shows the score beside it
_POINTS = re.compile(r"\s*\([^()]*\bpoints?\b[^()]*\)\s*$")
_MARKUP = re.compile(r"[*`]+")
#: how long a test's title may be in the summary (its first comment, which may run on)
TITLE_CHARS = 100


#: nbgrader's automatic comment on an answer cell left as it was released (``SaveAutoGrades``)
NO_RESPONSE = "No response."


def _shortened(text: str) -> str:
    """A comment on one line of the summary: its words, cut at :data:`TITLE_CHARS`."""
    words = " ".join(text.split())
    return words if len(words) <= TITLE_CHARS else words[: TITLE_CHARS - 1].rstrip() + "…"


def _plain(text: str) -> str:
    """Markdown of one line as plain words: emphasis and code marks and the points removed."""
    return _POINTS.sub("", _MARKUP.sub("", text)).strip().rstrip(":.")


def part_heading(source: str) -> str | None:
    """The first heading (``#`` to ``###``) of a markdown cell, as plain words, or None."""
    for line in source.splitlines():
        match = re.match(r"^\s{0,3}#{1,3}\s+(.+?)\s*#*\s*$", line)
        if match:
            return _plain(match.group(1)) or None
    return None


def title_of_test(source: str) -> str | None:
    """What a test cell says it tests: its first comment (which may run over several lines, and
    may follow the cell's imports), without the points, e.g. ``Tests for affine_forward``; None
    when the cell has no such comment."""
    words: list[str] = []
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith("#") and "HIDDEN TESTS" not in stripped:
            words.append(stripped.lstrip("#").strip())
        elif words or not (stripped == "" or re.match(r"(import|from)\s", stripped)):
            break
    title = _plain(" ".join(w for w in words if w))
    if len(title) > TITLE_CHARS:
        title = title[: TITLE_CHARS - 1].rsplit(" ", 1)[0] + "\u2026"
    return title or None


def _prefixes() -> list[str]:
    """Folders of the grading machine that file paths in outputs start with (longest first): the
    installed packages, Python's own library, the environment, and where the course's and the
    grader's packages are."""
    import autograder
    import course

    found = set()
    paths = sysconfig.get_paths()
    for key in ("purelib", "platlib", "stdlib", "platstdlib"):
        if paths.get(key):
            found.add(paths[key])
    found.update({sys.prefix, sys.base_prefix, sys.exec_prefix})
    for package in (course, autograder):
        if getattr(package, "__file__", None):
            found.add(str(Path(package.__file__).parent.parent))
    out = set()
    for path in found:
        out.add(path.rstrip(os.sep))
        out.add(os.path.realpath(path).rstrip(os.sep))
    return sorted((p for p in out if len(p) > 1), key=len, reverse=True)


#: a path into installed packages, whatever machine it comes from, up to the package's name
_SITE_PACKAGES = re.compile(r"[^\s\"'()\[\]<>,=]*[/\\](?:site|dist)-packages[/\\]")


def scrub_paths(text: str, prefixes: list[str] | None = None) -> str:
    """``text`` without the grading machine's folders: ``/srv/venv/lib/python3.11/site-packages/
    numpy/core/x.py`` becomes ``numpy/core/x.py``, ``/home/prof/course/course/checks.py``
    becomes ``course/checks.py``."""
    for prefix in _prefixes() if prefixes is None else prefixes:
        text = text.replace(prefix + os.sep, "")
    return _SITE_PACKAGES.sub("", text)


def _status(score: Any, points: Any) -> str:
    if score is None:
        return "pending"
    if float(score) >= float(points or 0):
        return "passed"
    return "partial" if float(score) > 0 else "failed"


class ReadableFeedback(NbGraderPreprocessor):
    """Name the graded parts (``resources["feedback_page"]``), make each error readable and
    remove the grading machine's paths from the outputs (see the module doc)."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        self._prefixes = _prefixes()
        self._part = ""
        self._parts: list[dict[str, Any]] = []
        self._tests: dict[str, dict[str, Any]] = {}
        self._comments: list[dict[str, str]] = []
        self._waiting = _waiting_for_a_grader(resources.get("nbgrader", {}))
        nb, resources = super().preprocess(nb, resources)
        waiting = sum(float(t["points"] or 0) for t in self._tests.values() if t["score"] is None)
        resources["feedback_page"] = {
            "parts": self._parts,
            "tests": self._tests,
            "waiting_points": waiting,  # points a grader has still to give
            "comments": self._comments,  # the comments on the student's answers, in order
        }
        return nb, resources

    def preprocess_cell(
        self, cell: NotebookNode, resources: dict, index: int
    ) -> tuple[NotebookNode, dict]:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "markdown" and meta.get("locked"):
            # only the instructor's cells name parts (a student's own heading does not)
            self._part = part_heading(cell.source) or self._part
        if cell.cell_type == "code":
            test = bool(meta.get("grade")) and not meta.get("solution")
            own = cell.get("execution_count") if test else None
            for output in cell.get("outputs", []):
                self._clean(output, own)
        if meta.get("grade") or meta.get("task"):
            self._record(cell, meta)
        comment = str(meta.get("comment") or "").strip()
        if comment and (meta.get("solution") or meta.get("task")):
            self._comments.append(
                {
                    "grade_id": str(meta.get("grade_id", "")),
                    "part": self._part,
                    "text": _shortened(comment),
                    # nbgrader's own words for an answer cell left as released, not a person's
                    "by": "nbgrader" if comment == NO_RESPONSE else "grader",
                }
            )
        return cell, resources

    def _clean(self, output: NotebookNode, own_cell: int | None) -> None:
        from course.validate import readable_error

        kind = output.get("output_type")
        if kind == "error":
            message, frames = readable_error(output, own_cell)
            output.evalue = scrub_paths(message, self._prefixes)
            output.traceback = [scrub_paths(f, self._prefixes) for f in frames]
        elif kind == "stream":
            output.text = scrub_paths(str(output.get("text", "")), self._prefixes)
        elif kind in ("execute_result", "display_data"):
            data = output.get("data", {})
            if isinstance(data.get("text/plain"), str):
                data["text/plain"] = scrub_paths(data["text/plain"], self._prefixes)

    def _record(self, cell: NotebookNode, meta: dict[str, Any]) -> None:
        grade_id = str(meta.get("grade_id", ""))
        if meta.get("solution") and cell.cell_type == "markdown":
            title = "Your written answer"
        elif meta.get("solution"):
            title = "Your code, graded by hand"
        elif meta.get("task"):
            title = "Your task"
        else:
            title = title_of_test(cell.source) or grade_id
        score, points = meta.get("score"), meta.get("points", 0)
        if grade_id in self._waiting:
            score = None  # nbgrader says 0 until a grader gives a score
        test = {
            "grade_id": grade_id,
            "part": self._part,
            "title": title,
            "score": score,
            "points": points,
            "status": _status(score, points),
        }
        self._tests[grade_id] = test
        if not self._parts or self._parts[-1]["title"] != self._part:
            self._parts.append({"title": self._part, "tests": []})
        part = self._parts[-1]
        part["tests"].append(test)
        known = [t["score"] for t in part["tests"] if t["score"] is not None]
        part["score"] = sum(float(s) for s in known) if known else None
        part["points"] = sum(float(t["points"] or 0) for t in part["tests"])
        part["pending"] = bool(known) and len(known) < len(part["tests"])
        part["status"] = (
            "pending" if len(known) < len(part["tests"]) else _status(part["score"], part["points"])
        )


def _waiting_for_a_grader(nbgrader: dict[str, Any]) -> set[str]:
    """The grade ids of the notebook's cells that still need a score from a grader (nbgrader
    reads them from its gradebook; without one, none)."""
    names = ("db_url", "notebook", "assignment", "student")
    if not all(nbgrader.get(n) for n in names):
        return set()
    from nbgrader.api import Gradebook, MissingEntry

    try:
        with Gradebook(nbgrader["db_url"]) as gradebook:
            notebook = gradebook.find_submission_notebook(
                nbgrader["notebook"], nbgrader["assignment"], nbgrader["student"]
            )
            return {g.name for g in notebook.grades if g.needs_manual_grade}
    except MissingEntry:
        return set()


# -- the page ------------------------------------------------------------------------------------

_FONT_FACE = re.compile(r"@font-face\s*\{[^}]*\}")
_BARS = re.compile(r'<mo(?: stretchy="false")?>(&#x0007C;|&#x02016;)</mo>')
_PRIME = re.compile(r"<msup>(<mi>[^<]*</mi>|<mo>[^<]*</mo>)<mi>(&#x0203[234];)</mi></msup>")
_WORD_OPERATOR = re.compile(r"<mo>([A-Za-z]{2,})</mo>")


def render_math(tex: str, display: bool = False) -> str:
    """TeX as MathML, which browsers draw themselves (no MathJax, no network), spaced as TeX
    spaces it: ``\\lvert`` bars that do not stretch, ``/`` and ``\\partial`` without an
    operator's space, primes beside their letter (not raised a second time), operator names set
    as names. TeX it cannot read stays as its source, in a ``<code>``. The MathML keeps only the
    allowlist of :func:`autograder.sanitize.sanitize_mathml`: latex2mathml copies the argument
    of ``\\text`` (``\\textbf``, ``\\mbox``, ``\\fbox``...) as markup, and makes attributes of
    ``\\style``, ``\\href`` and ``\\color``."""
    try:
        from latex2mathml.converter import convert

        mathml = convert(tex.strip(), display="block" if display else "inline")
    except Exception:  # noqa: BLE001 (not installed, or TeX it cannot read)
        marks = "$$" if display else "$"
        return f'<code class="tex">{html.escape(marks + tex + marks)}</code>'
    mathml = _BARS.sub(r'<mo stretchy="false" lspace="0" rspace="0">\1</mo>', mathml)
    mathml = mathml.replace("<mo>&#x0002F;</mo>", '<mo lspace="0" rspace="0">/</mo>')
    mathml = mathml.replace("<mo>&#x02202;</mo>", "<mi>&#x02202;</mi>")  # a letter, as in TeX
    mathml = _PRIME.sub(r"<mrow>\1<mo>\2</mo></mrow>", mathml)
    return sanitize_mathml(_WORD_OPERATOR.sub(r"<mi>\1</mi>", mathml))


class MathMLRenderer(IPythonRenderer):
    """nbconvert's markdown renderer, with the math as MathML instead of TeX for MathJax."""

    def block_math(self, body: str) -> str:
        return render_math(body, display=True)

    def inline_math(self, body: str) -> str:
        return render_math(body)

    def latex_environment(self, name: str, body: str) -> str:
        return render_math(f"\\begin{{{name}}}{body}\\end{{{name}}}", display=True)


def _nbgrader_folder(*parts: str) -> str:
    import nbgrader

    return str(Path(nbgrader.__file__).parent.joinpath("server_extensions", "formgrader", *parts))


class FeedbackExporter(HTMLExporter):
    """nbgrader's feedback exporter with the page of ``templates/feedback_page.html.j2``, which
    extends nbgrader's feedback template, and the markdown's math as MathML."""

    #: what a student's cells show (markdown, HTML outputs) keeps only the allowlist of
    #: autograder.sanitize; scripts and widgets are left out (nbconvert's own switch)
    sanitize_html = Bool(True).tag(config=True)

    @default("template_name")
    def _template_name_default(self) -> str:
        return "feedback"  # nbgrader's, which ours extends (GenerateFeedback configures it too)

    @default("extra_template_basedirs")
    def _extra_template_basedirs_default(self) -> list[str]:
        return [os.getcwd(), _nbgrader_folder("templates")]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.template_name = "feedback"
        nbgrader_templates = _nbgrader_folder("templates")
        if nbgrader_templates not in self.extra_template_basedirs:
            self.extra_template_basedirs = [*self.extra_template_basedirs, nbgrader_templates]
        bootstrap = _nbgrader_folder("static", "node_modules", "bootstrap", "dist", "css")
        if bootstrap not in self.extra_template_paths:
            self.extra_template_paths = [*self.extra_template_paths, bootstrap]
        self.template_file = str(TEMPLATE)  # nbconvert adds its folder to the template paths
        self.template_paths = self._template_paths()  # (computed once, before those changes)

    def _init_resources(self, resources: dict) -> dict:
        resources = super()._init_resources(resources)
        include = resources["include_css"]

        def include_css(name: str) -> markupsafe.Markup:
            # bootstrap without its icon font: the page shows no icon, and loads no file
            return markupsafe.Markup(_FONT_FACE.sub("", str(include(name))))  # noqa: S704

        resources["include_css"] = include_css
        return resources

    def default_filters(self):
        """nbconvert's filters, with ``clean_html`` (which nbconvert's templates apply to an
        HTML output, markdown and code when ``sanitize_html`` is on) made the page's allowlist."""
        for name, function in super().default_filters():
            yield name, sanitize_html if name == "clean_html" else function

    @pass_context
    def markdown2html(self, context: Any, source: str) -> str:
        """Markdown (a cell, a ``text/markdown`` output, a grader's comment) as HTML with the
        math as MathML, sanitised (:func:`~autograder.sanitize.sanitize_html`). Images come
        from the cell's attachments only: a file of this machine is never read into the page."""
        cell = context.get("cell", {})
        path = context.get("resources", {}).get("metadata", {}).get("path", "")
        renderer = MathMLRenderer(
            escape=False,
            attachments=cell.get("attachments", {}),
            embed_images=False,
            path=path,
            anchor_link_text=self.anchor_link_text,
            exclude_anchor_links=True,  # the page shows none, and keeps no id of a student's
            **getattr(self, "lexer_options", {}),
        )
        return sanitize_html(MarkdownWithMath(renderer=renderer).render(source))
