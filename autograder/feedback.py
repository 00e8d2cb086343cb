"""Feedback without the hidden tests: a preprocessor for ``nbgrader generate_feedback``.

nbgrader's ``ClearHiddenTests`` removes the hidden-test region from a test cell's source, but a
failed test's traceback still quotes the source lines around the failure, hidden ones included.
:class:`HideHiddenTracebackLines` runs first and drops those lines from the tracebacks; when the
failing line itself is hidden it becomes ``---> (a hidden test)``. The assertion message, which
is what explains the mistake, stays. ``nbgrader_config.py`` puts it in
``GenerateFeedback.preprocessors``.
"""

from __future__ import annotations

import re

from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

__all__ = ["HideHiddenTracebackLines", "hidden_lines", "strip_traceback"]

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
