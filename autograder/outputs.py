"""What a kernel printed, bounded and cleaned, and what it tells the instructor.

* :class:`LimitOutputSize`: outputs bounded in characters (nbgrader's ``LimitOutput`` counts lines
  only), huge images dropped, and text cleaned of what would break the HTML or the JSON.
* :func:`death_reason`: plain words for the exit status of a kernel that stopped.
* :func:`findings_from_outputs`: what the run left in an autograded notebook (timeouts, a crash
  and the cells it cost, memory, processes, cut outputs), as findings for the report.
"""

from __future__ import annotations

import re
import signal
import unicodedata
from typing import TYPE_CHECKING, Any

from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer

if TYPE_CHECKING:
    from autograder.box import Limits
    from autograder.findings import Finding

# -- output bounds -------------------------------------------------------------------------------

#: how a cut is marked (and recognised by findings_from_outputs)
CUT_NOTE = "[... {n:,} characters removed by the autograder ...]"
CUT_PATTERN = re.compile(r"\[\.\.\. [\d,]+ characters removed by the autograder \.\.\.\]")
IMAGE_NOTE = "[an image of {n:,} bytes was removed by the autograder]"
#: control characters kept in text (tab, newline, carriage return, ANSI escape of tracebacks)
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def clean_text(text: str) -> str:
    """``text`` without lone surrogates, noncharacters and control characters (but tab, newline,
    carriage return and the ANSI escape), which break the feedback's HTML or the notebook's JSON."""
    return _BAD_CHARS.sub("", text)


def _boundary(text: str, at: int, forward: bool) -> int:
    """``at`` moved off a combining mark, joiner or variation selector (a whole character)."""

    def joined(i: int) -> bool:
        if not 0 < i < len(text):
            return False
        ch = text[i]
        return bool(
            unicodedata.combining(ch)
            or ch in "\u200d\ufe0f\ufe0e"
            or text[i - 1] == "\u200d"
            or 0x1F3FB <= ord(ch) <= 0x1F3FF
        )

    steps = 0
    while joined(at) and steps < 32:
        at += 1 if forward else -1
        steps += 1
    return at


def cut_text(text: str, limit: int) -> str:
    """``text`` with its middle replaced by :data:`CUT_NOTE` when longer than ``limit``."""
    if limit < 0 or len(text) <= limit:
        return text
    keep = max(0, limit - 80)
    head = _boundary(text, keep * 2 // 3, forward=False)
    tail = _boundary(text, len(text) - (keep - keep * 2 // 3), forward=True)
    removed = tail - head
    return f"{text[:head]}\n{CUT_NOTE.format(n=removed)}\n{text[tail:]}"


def _cut_lines(lines: list[str], limit: int) -> list[str]:
    """A traceback (a list of lines) at most ``limit`` characters long, head and tail kept."""
    total = sum(len(line) for line in lines)
    if limit < 0 or total <= limit:
        return lines
    lines = [cut_text(line, max(200, limit // 4)) for line in lines]
    total = sum(len(line) for line in lines)
    if total <= limit:
        return lines
    head: list[str] = []
    tail: list[str] = []
    budget = max(0, limit - 80)
    i, j = 0, len(lines) - 1
    while i <= j:  # alternately: the first lines (where) and the last (what)
        if len(lines[j]) <= budget:
            tail.insert(0, lines[j])
            budget -= len(lines[j])
            j -= 1
        else:
            break
        if i <= j and len(lines[i]) <= budget:
            head.append(lines[i])
            budget -= len(lines[i])
            i += 1
        elif i <= j:
            break
    removed = sum(len(line) for line in lines[i : j + 1])
    return [*head, CUT_NOTE.format(n=removed), *tail]


TEXT_TYPES = ("text/plain", "text/html", "text/markdown", "text/latex", "application/javascript")


class LimitOutputSize(NbGraderPreprocessor):
    """Bound each output in characters and each cell in total; drop huge images; clean text.

    Runs after nbgrader's ``LimitOutput``. Never removes an error output or an stderr stream
    (nbgrader grades a test cell by them): those are only shortened.
    """

    max_chars = Integer(20000, help="characters of one output (-1: no limit)").tag(config=True)
    max_cell_chars = Integer(100000, help="characters of one cell's outputs").tag(config=True)
    max_image_bytes = Integer(2_000_000, help="bytes of one image (base64)").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        outputs = []
        used = 0
        dropped = 0  # characters of the outputs left out once the cell is full
        note_at = -1
        for out in cell.get("outputs", []):
            limit = self.max_chars
            if self.max_cell_chars >= 0:
                left = max(200, self.max_cell_chars - used)
                limit = left if limit < 0 else min(limit, left)
            essential = out.get("output_type") == "error" or (
                out.get("output_type") == "stream" and out.get("name") == "stderr"
            )
            if self.max_cell_chars >= 0 and used >= self.max_cell_chars and not essential:
                dropped += _size(out)
                note_at = len(outputs) if note_at < 0 else note_at
                continue
            kept = self._limit(out, limit)
            used += _size(kept)
            outputs.append(kept)
        if dropped:
            text = (
                f"\n{CUT_NOTE.format(n=dropped)}\n(the cell's outputs are limited to "
                f"{self.max_cell_chars:,} characters)\n"
            )
            outputs.insert(note_at, NotebookNode(output_type="stream", name="stdout", text=text))
        cell.outputs = outputs
        return cell, resources

    def _limit(self, out, limit):
        kind = out.get("output_type")
        if kind == "stream":
            out.text = cut_text(clean_text(_joined(out.get("text", ""))), limit)
        elif kind == "error":
            out.ename = cut_text(clean_text(str(out.get("ename", ""))), 200)
            out.evalue = cut_text(clean_text(str(out.get("evalue", ""))), max(200, limit // 4))
            tb = [clean_text(_joined(line)) for line in out.get("traceback", [])]
            out.traceback = _cut_lines(tb, limit)
        elif kind in ("display_data", "execute_result"):
            data = out.get("data", {})
            for mime in list(data):
                value = data[mime]
                if mime.startswith("image/") and not mime.endswith("svg+xml"):
                    size = len(_joined(value)) if isinstance(value, str | list) else 0
                    if self.max_image_bytes >= 0 and size > self.max_image_bytes:
                        del data[mime]
                        plain = _joined(data.get("text/plain", ""))
                        data["text/plain"] = (f"{plain}\n" if plain else "") + IMAGE_NOTE.format(
                            n=size
                        )
                elif isinstance(value, str | list) and (
                    mime.startswith("text/") or mime in TEXT_TYPES or mime.endswith("+xml")
                ):
                    text = clean_text(_joined(value))
                    if len(text) > limit and mime != "text/plain":
                        del data[mime]  # cut markup would break the page: the plain text
                        plain = _joined(data.get("text/plain", ""))
                        data["text/plain"] = cut_text(plain or text, limit)
                        if CUT_PATTERN.search(data["text/plain"]) is None:
                            data["text/plain"] += "\n" + CUT_NOTE.format(n=len(text))
                    elif mime == "text/plain":
                        data[mime] = cut_text(text, limit)
                    else:
                        data[mime] = text
        return out


def _joined(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _size(out: Any) -> int:
    kind = out.get("output_type")
    if kind == "stream":
        return len(out.get("text", ""))
    if kind == "error":
        return sum(len(line) for line in out.get("traceback", [])) + len(out.get("evalue", ""))
    data = out.get("data", {})
    return sum(len(_joined(v)) for k, v in data.items() if not k.startswith("image/") or "svg" in k)


def error_output(ename: str, evalue: str) -> Any:
    """An nbformat error output (what nbgrader reads as a failed cell)."""
    return NotebookNode(
        output_type="error",
        ename=ename,
        evalue=evalue,
        traceback=[f"\x1b[0;31m{ename}\x1b[0m: {evalue}"],
    )


SIGNAL_WORDS = {
    "SIGSEGV": "it crashed (segmentation fault, SIGSEGV: memory accessed wrongly, for example "
    "through ctypes)",
    "SIGBUS": "it crashed (bus error, SIGBUS)",
    "SIGILL": "it crashed (illegal instruction, SIGILL)",
    "SIGFPE": "it crashed (arithmetic fault, SIGFPE)",
    "SIGABRT": "it aborted (SIGABRT, often memory running out inside C code)",
    "SIGKILL": "it was killed (SIGKILL: by the code itself, or by the system for using too much "
    "memory)",
    "SIGXFSZ": "it wrote a file larger than the limit (SIGXFSZ)",
}


def death_reason(code: int | None, limits: Limits | None = None) -> str:
    """Plain words for a kernel's exit status (``Popen.returncode``: a negative signal number)."""
    if limits is None:
        from autograder.box import Limits

        limits = Limits()
    if code is None:
        return "it stopped responding (its exit status is unknown)"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if name == "SIGXCPU":
            return (
                f"it used up its CPU time limit ({limits.cpu_seconds} s for the whole notebook, "
                "SIGXCPU)"
            )
        return SIGNAL_WORDS.get(name, f"it was ended by the signal {name}")
    if code == 0:
        return "it exited (exit code 0: os._exit(0) or a shutdown asked by the code)"
    return f"it exited with code {code} (os._exit or a fatal error in the code)"


# -- findings ------------------------------------------------------------------------------------

_PROCESS_WORDS = ("Resource temporarily unavailable", "can't start new thread")


def findings_from_outputs(nb: Any) -> list[Finding]:
    """What the run left in an executed notebook's outputs, as findings (plain words).

    ``timeout`` (nbgrader's ``CellTimeoutError``), ``crash`` (``KernelDied``, with the ``NotRun``
    cells counted), ``memory`` (``MemoryError``), ``processes`` (a fork or thread the process
    limit refused) and ``output`` (an output the autograder cut).
    """
    from autograder.findings import Finding

    found: list[Finding] = []
    not_run: list[str] = []
    crash: tuple[str, str] | None = None
    cut: list[str] = []
    timeouts: list[str] = []
    tests: list[str] = []  # the graded cells among the cells that did not run
    budget: str | None = None  # the first cell the notebook's time budget left out
    for number, cell in enumerate(nb.get("cells", []), start=1):
        if cell.get("cell_type") != "code":
            continue
        where = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or f"cell {number}"
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "error":
                ename, evalue = str(out.get("ename", "")), str(out.get("evalue", ""))
                if ename == "CellTimeoutError":
                    timeouts.append(where)
                    found.append(
                        Finding(
                            "timeout",
                            where,
                            "a cell ran past the time limit and was stopped; it counts as failed",
                        )
                    )
                elif ename == "CallTimeout":  # autograder.checker: a test's call stopped
                    found.append(
                        Finding(
                            "timeout",
                            where,
                            "a function this test called ran past the time limit (or the "
                            "notebook's time ran out) and was stopped; the test counts as failed",
                        )
                    )
                elif ename == "KernelDied" and crash is None:
                    crash = (where, evalue.split(": ", 1)[-1][:200])
                elif ename in ("NotRun", "OutOfTime"):  # OutOfTime: autograder.run's budget
                    not_run.append(where)
                    if budget is None and ename == "OutOfTime":
                        budget = where
                    if cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
                        tests.append(where)
                elif ename == "MemoryError":
                    found.append(
                        Finding("memory", where, "the code ran out of memory (MemoryError)")
                    )
                elif ename in ("BlockingIOError", "RuntimeError") and any(
                    w in evalue for w in _PROCESS_WORDS
                ):
                    found.append(
                        Finding(
                            "processes",
                            where,
                            "the code tried to start more processes or threads than allowed",
                        )
                    )
            text = _output_text(out)
            if CUT_PATTERN.search(text) or "removed by the autograder" in text:
                if where not in cut:
                    cut.append(where)
    if crash is None and not_run and timeouts:  # stopped after a timeout it did not recover from
        graded = tests
        found.append(
            Finding(
                "timeout",
                timeouts[-1],
                "the kernel did not stop when interrupted after the time limit, so it was "
                f"stopped; {len(not_run)} later cell{'s' * (len(not_run) != 1)} did not run"
                + (f" (tests {', '.join(graded)} earn nothing)" if graded else ""),
            )
        )
    if budget is not None:
        graded = tests
        found.append(
            Finding(
                "timeout",
                budget,
                "the notebook used up its time budget; from here on "
                f"{len(not_run)} cell{'s' * (len(not_run) != 1)} did not run"
                + (f" (tests {', '.join(graded)} earn nothing)" if graded else ""),
            )
        )
    if crash is not None:
        where, why = crash
        graded = tests
        later = (
            f"; {len(not_run)} later cell{'s' * (len(not_run) != 1)} did not run"
            + (f" (tests {', '.join(graded)} earn nothing)" if graded else "")
            if not_run
            else ""
        )
        found.append(Finding("crash", where, f"the kernel stopped here: {why}{later}"))
    for where in cut:
        found.append(
            Finding("output", where, "the output was too large and was shortened in the feedback")
        )
    return found


def _output_text(out: Any) -> str:
    kind = out.get("output_type")
    if kind == "stream":
        return _joined(out.get("text", ""))
    if kind == "error":
        return "\n".join(_joined(t) for t in out.get("traceback", []))
    data = out.get("data", {})
    return _joined(data.get("text/plain", "")) if isinstance(data, dict) else ""
