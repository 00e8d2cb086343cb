"""Run a submission: the student's cells in the boxed kernel, the tests in the grader.

:class:`BoxedExecute` takes the place of nbgrader's ``Execute`` in ``autograde`` (the other
preprocessors, ``SaveAutoGrades`` among them, stay nbgrader's own):

* every cell that is not a test runs in the student's kernel, which runs in its box
  (:mod:`autograder.box`), with a time limit per cell and a wall-time budget for the notebook
  (past it the remaining cells are not run); outputs are bounded while they stream in;
* every test cell (a grade cell that is not an answer) runs in the grader instead, through
  :mod:`autograder.checker`: its source never reaches the kernel, its verdict becomes the
  cell's outputs, and whatever the kernel printed while the test called its functions is dropped;
* a kernel that dies fails the cell it was running and marks every later code cell as not run,
  so that no later test passes; the notebook is then finished normally and nbgrader saves the
  scores of what did run.

The worker gives the box of the next kernel with :func:`boxed` (nbgrader makes the
preprocessor itself, from the configuration).
"""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import time
from pathlib import Path
from typing import Any

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbconvert.preprocessors import Preprocessor
from nbformat.notebooknode import NotebookNode, from_dict
from nbgrader.preprocessors import Execute
from traitlets import Bool, Float, Integer

from autograder import box as boxes
from autograder import checker
from autograder.outputs import death_reason, error_output
from course import variants

#: what the worker sets before autograde: the box of the next kernel, the folder whose
#: support modules the tests import (the assignment's source), and the id the submission is
#: graded under with the other ids of the class (per-student variants, course/variants.py)
_NEXT: dict[str, Any] = {}
#: what the tests of the last run found, per notebook and test cell, the visible checks apart
#: from the hidden ones: ``{notebook: {grade_id: {"visible": {...}, "hidden": {...}}}}``
VERDICTS: dict[str, dict[str, Any]] = {}


@contextlib.contextmanager
def boxed(
    box: boxes.Box,
    source: Path,
    km: Any = None,
    student: str = "",
    classmates: tuple[str, ...] = (),
):
    """While nbgrader autogrades: kernels start in ``box`` (or ``km``, a kernel manager whose
    kernel was started ahead in that box); tests import from ``source``; the submission is
    graded as ``student``'s (its variant), ``classmates`` are the class's other ids."""
    _NEXT.update(box=box, source=source, km=km, student=student, classmates=classmates)
    VERDICTS.clear()
    try:
        yield
    finally:
        _NEXT.clear()


ANSWERS_SOURCE = Path(__file__).with_name("answers.py")
#: the error of the cells the notebook's time budget left out (autograder.outputs reads it)
OUT_OF_TIME = "OutOfTime"

BOOT = """\
def __autograder_boot(source, student):
    import os
    if student:  # the id the submission is graded under: its variant (course/variants.py)
        os.environ[{env!r}] = student
    namespace = {{"__name__": "autograder_answers"}}
    exec(compile(source, "<autograder>", "exec"), namespace)
    namespace["install"]()
__autograder_boot({source!r}, {student!r})
del __autograder_boot
"""


def is_test(cell: Any) -> bool:
    """A test cell: a code cell that nbgrader grades and that is not the student's answer."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def trusted_setup(source: Path | None, notebook: str) -> list[str]:
    """The instructor's setup cells of ``notebook`` (locked code cells that are not tests), read
    from the assignment's source: their imports make the tests' own namespace. Never read from
    the submission, whose metadata could call any cell locked."""
    import nbformat

    if source is None or not (source / f"{notebook}.ipynb").is_file():
        return []
    nb = nbformat.read(source / f"{notebook}.ipynb", as_version=4)
    out = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("locked") and not meta.get("grade"):
            out.append(cell.source)
    return out


class SubmissionId(Preprocessor):
    """Before a notebook runs: the id it is graded under goes to the environment the kernel
    inherits (``course.variants.GRADER_ENV``), so that plain ``nbgrader autograde`` makes the
    cases of the submission's variant and fails a notebook answered for another id. Hardened
    grading does not rely on it: its box starts with a clean environment, and the grader gives
    the id to the kernel and to the tests itself (:func:`boxed`)."""

    enabled = Bool(True)  # nbconvert's preprocessors are off unless configured

    def preprocess(self, nb, resources):
        student = str((resources or {}).get("nbgrader", {}).get("student") or "")
        if student:
            os.environ[variants.GRADER_ENV] = student
        else:
            os.environ.pop(variants.GRADER_ENV, None)
        return nb, resources


class BoxedExecute(Execute):
    """nbgrader's Execute with the kernel in a box and the tests in the grader (module doc)."""

    notebook_seconds = Integer(
        900, help="wall-time budget of one notebook in seconds (0: none); later cells do not run"
    ).tag(config=True)
    call_seconds = Float(
        60.0, help="how long one call of a student's function from a test may take"
    ).tag(config=True)
    stuck_seconds = Integer(
        5, help="after an interrupt, how long the kernel may stay busy before it is stopped"
    ).tag(config=True)
    # the box's limits (defaults: autograder.box.Limits), read by the worker when it makes the box
    memory_mb = Integer(
        boxes.Limits.memory_mb, help="memory of the box (address space; as root a cgroup), MiB"
    ).tag(config=True)
    cpu_seconds = Integer(boxes.Limits.cpu_seconds, help="CPU seconds of the kernel").tag(
        config=True
    )
    file_size_mb = Integer(
        boxes.Limits.file_size_mb, help="largest file the kernel writes, MiB"
    ).tag(config=True)
    processes = Integer(
        boxes.Limits.processes, help="processes and threads the kernel may add"
    ).tag(config=True)
    open_files = Integer(boxes.Limits.open_files, help="open files of the kernel").tag(config=True)
    max_stream_chars = Integer(
        2_000_000, help="characters a cell may send while it runs; the rest is dropped unread"
    ).tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        self._stopped: tuple[int, str] | None = None
        self._out_of_time = False
        self._deadline = time.monotonic() + self.notebook_seconds if self.notebook_seconds else 0
        self._ready = False
        self._sent: dict[int, int] = {}
        self._dropped: dict[int, int] = {}
        self.iopub_timeout = max(self.iopub_timeout, self.stuck_seconds)
        source = _NEXT.get("source")
        if source is not None:
            sys.path.insert(0, str(source))
        try:
            notebook = str((resources or {}).get("unique_key", ""))
            self._base = checker.preamble(trusted_setup(source, notebook))
            student = str(_NEXT.get("student") or "")
            with (
                variants.grading(student, _NEXT.get("classmates", ()))
                if student
                else (contextlib.nullcontext())
            ):
                return super().preprocess(nb, resources, km)
        finally:
            if source is not None:
                with contextlib.suppress(ValueError):
                    sys.path.remove(str(source))

    def create_kernel_manager(self):
        box = _NEXT.get("box")
        if box is None:
            raise RuntimeError("no box for the kernel: grade through autograder.grading")
        ahead = _NEXT.pop("km", None)
        self.km = ahead if ahead is not None else boxes.kernel_manager(box)
        return self.km

    # -- one cell --------------------------------------------------------------------------------

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not cell.source.strip():
            return super().preprocess_cell(cell, resources, index)
        if self._stopped is None and self._deadline and time.monotonic() >= self._deadline:
            self._stopped = (
                index + 1,
                f"the notebook used up its time ({self.notebook_seconds} s in all)",
            )
            self._out_of_time = True
        if self._stopped is not None:
            number, why = self._stopped
            ename = OUT_OF_TIME if self._out_of_time else "NotRun"
            cell.outputs = [error_output(ename, f"not run: {why} (in cell {number})")]
            cell.execution_count = None
            return cell, self.resources
        if not self._ready:
            self._boot()
        if is_test(cell):
            return self._test(cell, index)
        saved = self.timeout
        if self._deadline:
            left = max(1, int(self._deadline - time.monotonic()))
            self.timeout = left if saved is None else min(saved, left)
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            why = self._death()
            self._stopped = (index + 1, f"the kernel stopped: {why}")
            cell.outputs = [
                *[o for o in cell.get("outputs", []) if o.get("output_type") != "error"],
                error_output("KernelDied", f"the kernel stopped while this cell ran: {why}"),
            ]
        except CellTimeoutError:  # the interrupt did not bring the kernel back
            self._kill()
            self._stopped = (index + 1, "the kernel did not stop after a timeout")
            cell.outputs = [
                *cell.get("outputs", []),
                error_output(
                    self.error_on_timeout.get("ename", "CellTimeoutError"),
                    f"the cell ran longer than {self.timeout} s and the kernel did not stop "
                    "when interrupted, so it was stopped",
                ),
            ]
        finally:
            self.timeout = saved
        self._note_dropped(cell, index)
        return cell, self.resources

    def _test(self, cell, index):
        """Run a test cell in the grader: its visible checks, then (if they pass) its hidden
        ones, in one namespace; both verdicts are kept for Gradescope (:data:`VERDICTS`)."""
        link = checker.Link(self._send_in_time, self.call_seconds)
        cell.execution_count = None
        visible, hidden = checker.split_hidden(cell.source)
        verdict: dict[str, Any] = {}
        outputs: list[dict[str, Any]] = []
        try:
            namespace = checker.Namespace(link, self._base)
            found: list[dict[str, Any]] = []
            outputs = checker.run_test(visible, self._base, link, namespace, found)
            verdict["visible"] = _verdict(outputs, found)
            if hidden is not None:
                if checker.passed(outputs):
                    found = []
                    more = checker.run_test(hidden, self._base, link, namespace, found)
                    verdict["hidden"] = _verdict(more, found)
                    outputs += more
                else:
                    verdict["hidden"] = {**_verdict([]), "passed": False, "ran": False}
        except checker.KernelGone as exc:
            why = str(exc) or self._death()
            self._stopped = (index + 1, f"the kernel stopped: {why}")
            died = error_output("KernelDied", f"the kernel stopped while this test ran: {why}")
            outputs.append(died)
            part = "hidden" if "visible" in verdict else "visible"
            verdict[part] = _verdict([died])
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", f"cell {index + 1}")
        notebook = str(self.resources.get("unique_key", ""))
        VERDICTS.setdefault(notebook, {})[grade_id] = verdict
        cell.outputs = [from_dict(o) for o in outputs]
        return cell, self.resources

    # -- talking to the kernel -------------------------------------------------------------------

    def _boot(self) -> None:
        """Start the answering side in the kernel (see :mod:`autograder.answers`), and open the
        comm the tests ask through."""
        import uuid

        from autograder.answers import COMM_TARGET

        self._ready = True
        self._seq = 0
        self._comm = uuid.uuid4().hex
        code = BOOT.format(
            source=ANSWERS_SOURCE.read_text(encoding="utf-8"),
            env=variants.GRADER_ENV,
            student=str(_NEXT.get("student") or ""),
        )
        try:
            self._run_silently(code, 60.0)
        except (checker.KernelGone, checker.CallTimeout) as exc:
            self._stopped = (1, f"the kernel stopped before the first cell: {exc}")
            return
        assert self.kc is not None
        opened = {"comm_id": self._comm, "target_name": COMM_TARGET, "data": {}}
        self.kc.shell_channel.send(self.kc.session.msg("comm_open", opened))

    def _send_in_time(self, text: str, timeout: float) -> str:
        """:meth:`_send` within what is left of the notebook's time budget: a test's calls count
        against it too (else a function just under the call timeout, called many times, would
        hold the worker for as long as it likes)."""
        if self._deadline:
            left = self._deadline - time.monotonic()
            if left <= 0:
                raise checker.CallTimeout(
                    f"the notebook used up its time ({self.notebook_seconds} s in all)"
                )
            timeout = min(timeout, left)
        return self._send(text, timeout)

    def _send(self, text: str, timeout: float) -> str:
        """Ask the kernel (a request of :mod:`autograder.answers`); its answer, as text."""
        from jupyter_core.utils import run_sync

        return run_sync(self._async_ask)(text, timeout)

    async def _async_ask(self, text: str, timeout: float) -> str:
        assert self.kc is not None
        self._seq += 1
        seq = self._seq
        content = {"comm_id": self._comm, "data": {"seq": seq, "request": text}}
        self.kc.shell_channel.send(self.kc.session.msg("comm_msg", content))

        def ours(msg: dict[str, Any]) -> bool:
            # everything else the kernel publishes meanwhile (what the calls print) is dropped
            reply = msg.get("content", {}) if msg.get("msg_type") == "comm_msg" else {}
            data = reply.get("data") if reply.get("comm_id") == self._comm else None
            return isinstance(data, dict) and data.get("seq") == seq

        msg = await self._reply(self.kc.get_iopub_msg, ours, timeout)
        answer = msg["content"]["data"].get("answer")
        if type(answer) is not str:
            raise checker.BadAnswer("the kernel's answer could not be read")
        return answer

    def _run_silently(
        self, code: str, timeout: float, expressions: dict[str, str] | None = None
    ) -> dict[str, Any]:
        from jupyter_core.utils import run_sync

        return run_sync(self._async_run_silently)(code, timeout, expressions or {})

    async def _async_run_silently(
        self, code: str, timeout: float, expressions: dict[str, str]
    ) -> dict[str, Any]:
        assert self.kc is not None
        msg_id = self.kc.execute(
            code,
            silent=True,
            store_history=False,
            user_expressions=expressions,
            allow_stdin=False,
        )

        def ours(msg: dict[str, Any]) -> bool:
            return msg.get("parent_header", {}).get("msg_id") == msg_id

        msg = await self._reply(self.kc.get_shell_msg, ours, timeout)
        await self._drain()
        return msg.get("content", {})

    async def _reply(self, receive: Any, ours: Any, timeout: float) -> dict[str, Any]:
        """The first message ``receive`` gives that is ``ours``, within ``timeout`` seconds: past
        it the kernel is interrupted (:class:`checker.CallTimeout` once it answers), and killed
        when it stays busy (:class:`checker.KernelGone`)."""
        deadline = time.monotonic() + timeout
        interrupted = False
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                if interrupted:
                    self._kill()
                    raise checker.KernelGone("it did not stop after an interrupt")
                interrupted = True
                with contextlib.suppress(Exception):
                    await self.km.interrupt_kernel()
                deadline = time.monotonic() + self.stuck_seconds
                continue
            try:
                msg = await receive(timeout=min(left, 1.0))
            except queue.Empty:
                if not await self.km.is_alive():
                    raise checker.KernelGone(self._death()) from None
                continue
            if not ours(msg):
                continue
            if interrupted:
                raise checker.CallTimeout(
                    f"a function of yours did not return within {timeout:g} s, so it was "
                    "interrupted"
                )
            return msg

    async def _drain(self) -> None:
        """Drop what the kernel published meanwhile (the output of the calls is not shown)."""
        assert self.kc is not None
        for _ in range(10_000):
            try:
                await self.kc.get_iopub_msg(timeout=0)
            except queue.Empty:
                return

    # -- bounded outputs -------------------------------------------------------------------------

    def output(self, outs, msg, display_id, cell_index):
        used = self._sent.get(cell_index, 0)
        size = _message_size(msg)
        # past the bound only the cell's first error is kept (it makes the cell a failed one):
        # the kernel can send any number of error messages of its own
        first_error = msg.get("msg_type") == "error" and not any(
            o.get("output_type") == "error" for o in outs
        )
        if used + size > self.max_stream_chars and not first_error:
            self._dropped[cell_index] = self._dropped.get(cell_index, 0) + size
            return None
        self._sent[cell_index] = used + size
        return super().output(outs, msg, None, cell_index)

    def handle_comm_msg(self, outs, msg, cell_index):
        return None  # no widgets while grading

    def _update_display_id(self, display_id, msg):
        return None

    def _note_dropped(self, cell, index) -> None:
        dropped = self._dropped.pop(index, 0)
        if dropped:
            from autograder.outputs import CUT_NOTE

            cell.outputs.append(
                NotebookNode(
                    output_type="stream",
                    name="stdout",
                    text=f"\n{CUT_NOTE.format(n=dropped)}\n(the cell printed more than "
                    f"{self.max_stream_chars:,} characters)\n",
                )
            )

    # -- a kernel that stops ---------------------------------------------------------------------

    def _process(self):
        prov = getattr(self.km, "provisioner", None)
        return getattr(prov, "process", None)

    def _kill(self) -> None:
        proc = self._process()
        if proc is None:
            return
        with contextlib.suppress(OSError):
            os.killpg(os.getpgid(proc.pid), 9)
        with contextlib.suppress(OSError):
            proc.kill()
        with contextlib.suppress(Exception):
            proc.wait(5)

    def _death(self) -> str:
        proc = self._process()
        code = None
        if proc is not None:
            with contextlib.suppress(Exception):
                code = proc.wait(2)
        box = getattr(self.km, "box", None)
        return death_reason(code, box.limits if box is not None else None)


def _verdict(
    outputs: list[dict[str, Any]], failures: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """One part's verdict: passed, its words (what the test printed, or why it failed) and,
    when a check of course.checks failed it (``failures``, from :func:`checker.run_test`), the
    kind of failure (``"problem"``, e.g. ``"wrong_values"``) and the kinds of the likely bugs
    it recognised (``"diagnoses"``, e.g. ``["factor_m_large"]``); otherwise None and []."""
    words = []
    for o in outputs:
        if o.get("output_type") == "stream":
            words.append(str(o.get("text", "")))
        elif o.get("output_type") == "error":
            words.append(f"{o.get('ename', 'Error')}: {o.get('evalue', '')}")
    failure = failures[-1] if failures else {}
    return {
        "passed": checker.passed(outputs),
        "ran": True,
        "output": "".join(words)[:20000],
        "problem": failure.get("problem"),
        "diagnoses": list(failure.get("diagnoses", [])),
    }


def _message_size(msg: dict[str, Any]) -> int:
    content = msg.get("content", {})
    if "text" in content:
        return len(str(content["text"]))
    data = content.get("data")
    if isinstance(data, dict):
        return sum(len(str(v)) for v in data.values())
    return sum(len(str(v)) for v in content.values()) if isinstance(content, dict) else 0
