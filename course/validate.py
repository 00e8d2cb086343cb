"""Check a notebook before you submit it: run it, and print what each failing test says, whole.

``python -m course.validate ps3.ipynb`` (from the folder of the released assignment, or with a
path) does what ``nbgrader validate`` does: it runs the notebook from the top in a new kernel,
as the grader will, and lists every test cell that fails, with its message. Unlike
``nbgrader validate`` it cuts no line (nbgrader's validator cuts each line of a message at 90
characters, and the "Likely bug" sentence with it), shows a failed test as the feedback shows it
(the message first, then the lines of *your* cells where the error was raised, without the
frames of the checking code), and needs no ``nbgrader_config.py`` beside the notebook. It exits
with status 0 when every test passes and 1 otherwise.

:func:`readable_error` is the rule both this command and the feedback page of the grader
(:mod:`autograder.feedback`) use to show an error.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nbconvert.filters import strip_ansi
from nbgrader import utils
from nbgrader.validator import Validator
from traitlets.config import Config

__all__ = ["readable_error", "error_text", "WholeMessages", "validate", "main"]

#: the first line of one frame of a traceback that lies in a notebook cell (IPython's label,
#: which :mod:`autograder.answers` writes too); group 1 is the cell's execution count
_CELL_FRAME = re.compile(r"^\s*Cell In\[(\d+)\], line \d+")
#: the first line of any other frame: a file (the checking code, a library, Python itself)
_FILE_FRAME = re.compile(r"^\s*File\s")
#: lines that only frame a traceback: IPython's rule and title, Python's title, hidden frames
_HEADER = re.compile(r"^-{10,}$|Traceback \(most recent call last\)|^\s*\[\.\.\. skipping hidden")


def readable_error(output: Any, own_cell: int | None = None) -> tuple[str, list[str]]:
    """What a student needs of an error output: its message, and the frames of their own cells.

    ``output`` is an nbformat error output (``ename``, ``evalue``, ``traceback``). The message is
    the last line of the traceback without the error's name (IPython's, which reads better than
    ``evalue`` for a ``SyntaxError``), or else ``evalue``. The frames (each a string, ANSI colours
    kept) are those of notebook cells (``Cell In[n], line k``), in order; the frames of files
    (the checking code, the support module, numpy, ...) and the title lines are left out, and so
    are the frames of the cell ``In[own_cell]`` (a test cell's own lines: pass its execution
    count).
    """
    ename = str(output.get("ename", "") or "Error")
    evalue = str(output.get("evalue", ""))
    lines = [str(t) for t in output.get("traceback", []) or []]
    message = evalue
    if lines:
        last = strip_ansi(lines[-1]).strip()
        if last == ename or last.startswith(f"{ename}:"):
            message = last[len(ename) :].lstrip(":").strip() or evalue
            lines = lines[:-1]
    frames: list[str] = []
    current: list[str] | None = None  # the lines of the frame being read, None: left out
    for line in "\n".join(lines).split("\n"):
        plain = strip_ansi(line)
        cell = _CELL_FRAME.match(plain)
        if cell or _FILE_FRAME.match(plain) or _HEADER.search(plain):
            if current:
                frames.append("\n".join(current).rstrip())
            keep = cell is not None and (own_cell is None or int(cell.group(1)) != own_cell)
            current = [line] if keep else None
        elif current is not None:
            current.append(line)
    if current:
        frames.append("\n".join(current).rstrip())
    return message, [f for f in frames if f.strip()]


def error_text(output: Any, own_cell: int | None = None) -> str:
    """An error output as plain text: ``Name: message``, then the frames of the student's cells."""
    message, frames = readable_error(output, own_cell)
    ename = str(output.get("ename", "") or "Error")
    text = f"{ename}: {message}" if message else ename
    if frames:
        text += "\n\nRaised in your code:\n" + "\n\n".join(strip_ansi(f) for f in frames)
    return text


class WholeMessages(Validator):
    """nbgrader's validator, which prints every line whole and each error as a student reads it."""

    def _preprocess(self, nb: Any) -> Any:
        self._variant_notebook = nb = super()._preprocess(nb)  # the notebook as it ran
        return nb

    def _indent(self, val: str) -> str:
        # nbgrader cuts each line at ``width``; a terminal wraps long lines by itself
        return "\n".join(self.indent + strip_ansi(line) for line in val.split("\n"))

    def _extract_error(self, cell: Any) -> str:
        if cell.cell_type != "code":
            return super()._extract_error(cell)
        own = cell.get("execution_count") if utils.is_grade(cell) else None
        errors = []
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                errors.append(error_text(output, own if not utils.is_solution(cell) else None))
            elif output.output_type == "stream" and output.name == "stderr":
                errors.append(output.text)
        if not errors and utils.is_grade(cell):
            score, most = utils.determine_grade(cell, self.log)
            if score is not None and most is not None and score < most:
                # partial credit: the checks that failed printed their messages (nbgrader
                # itself says only "passed some but not all of the tests")
                printed = "".join(
                    o.get("text", "")
                    for o in cell.get("outputs", [])
                    if o.output_type == "stream" and o.get("name") == "stdout"
                )
                head = f"Partial credit: {score:g} of {most:g} points."
                return head + ("\n" + printed.rstrip("\n") if printed.strip() else "")
        return "\n".join(errors) if errors else super()._extract_error(cell)


def _config() -> Config:
    """The configuration ``nbgrader validate`` would read (the ``nbgrader_config.py`` files of the
    Jupyter configuration path, then of the current folder), read without a warning when there is
    none: a student's folder has none, and needs none."""
    from jupyter_core.paths import jupyter_config_path
    from traitlets.config.loader import PyFileConfigLoader

    config = Config()
    config.Execute.timeout = 120  # as the course's own configuration
    config.Execute.interrupt_on_timeout = True
    folders = [Path(p) for p in reversed(jupyter_config_path())] + [Path.cwd()]
    for folder in dict.fromkeys(folders):
        if (folder / "nbgrader_config.py").is_file():
            config.merge(PyFileConfigLoader("nbgrader_config.py", str(folder)).load_config())
    return config


def _variant_lines(validator: Validator) -> list[str]:
    """What the notebook said of its variant (per-student variants, ``course/variants.py``):
    the student sees whose numbers the tests just used."""
    nb = getattr(validator, "_variant_notebook", None)
    lines = []
    for cell in nb.cells if nb is not None else []:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            text = str(output.get("text", "")) if output.get("output_type") == "stream" else ""
            lines += [line for line in text.splitlines() if line.startswith("Your variant:")]
    return lines


def validate(notebook: str | os.PathLike[str], width: int | None = None) -> bool:
    """Run ``notebook`` and print what fails (nbgrader's report, every line whole); True when it
    passes: no test fails, no test cell was changed, no cell changed its type."""
    path = Path(notebook)
    if width is None:
        width = min(max(shutil.get_terminal_size((90, 24)).columns, 40), 120)
    validator = WholeMessages(config=_config())
    validator.width = width
    results = validator.validate(str(path))
    if results.get("type_changed"):
        validator._print_num_type_changed(len(results["type_changed"]))
        for cell in results["type_changed"]:
            validator._print_type_changed(cell["old_type"], cell["new_type"], cell["source"])
        return False
    if results.get("changed"):
        validator._print_num_changed(len(results["changed"]))
        for cell in results["changed"]:
            validator._print_changed(cell["source"])
        return False
    for line in _variant_lines(validator):
        print(line)
    failed = results.get("failed", [])
    validator._print_num_failed(len(failed))
    for cell in failed:
        validator._print_error(cell["source"], cell["raw_error"])
    return not failed


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m course.validate NOTEBOOK [NOTEBOOK ...]``: 0 when every notebook passes."""
    parser = argparse.ArgumentParser(
        prog="python -m course.validate",
        description="Run a notebook as the grader will and print every failing test's message "
        "whole (nbgrader validate, without cut lines).",
    )
    parser.add_argument("notebooks", nargs="+", metavar="NOTEBOOK", help="an .ipynb file")
    args = parser.parse_args(argv)
    ok = True
    for name in args.notebooks:
        path = Path(name)
        if not path.is_file():
            print(f"{name}: no such notebook", file=sys.stderr)
            ok = False
            continue
        if len(args.notebooks) > 1:
            print(f"== {name}")
        ok = validate(path) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
