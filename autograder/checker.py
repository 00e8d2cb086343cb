"""The trusted side of a test: run a grade cell's test code where no student code runs.

A grade cell's source comes from the gradebook (nbgrader's ``OverwriteCells`` put it back), never
from the submission, and it never goes to the student's kernel. :func:`run_test` runs it here,
in the grader's own process, in a namespace where

* the names the assignment's locked cells import (``np``, ``math``, the support module,
  ``checks``...) are the grader's own modules (:func:`preamble`);
* every other name is looked up in the kernel when the test first uses it (:class:`Namespace`):
  a value arrives as plain data (:mod:`autograder.wire`), a function as a :class:`Remote` that
  calls it in the kernel with plain-data arguments and a time limit, and decodes its result.

So the reference answers are computed, and compared, only here; the kernel sees the inputs a
test gives its functions, and nothing else of the test. The verdict becomes the cell's outputs as
nbgrader reads them: an error output (the check failed), a number (partial credit) or nothing
but what the test printed (full credit).
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import json
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from autograder import answers, wire


class KernelGone(RuntimeError):
    """The kernel died or stopped answering: the test cannot go on."""


class CallTimeout(RuntimeError):
    """A function of the student's did not return in time."""


class BadAnswer(AssertionError):
    """The kernel's answer is not plain data (a failed check, in the student's words)."""


#: ``send(request text, timeout seconds) -> answer text``; raises KernelGone or CallTimeout
Send = Callable[[str, float], str]


class Link:
    """The grader's conversation with one kernel (see :mod:`autograder.answers`)."""

    def __init__(self, send: Send, call_timeout: float = 60.0) -> None:
        self.send = send
        self.call_timeout = call_timeout
        self.calls = 0
        self.seconds = 0.0

    def ask(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        start = time.perf_counter()
        try:
            text = self.send(json.dumps(request, allow_nan=True), timeout)
        finally:
            self.calls += 1
            self.seconds += time.perf_counter() - start
        if type(text) is not str or len(text) > wire.MAX_TEXT:
            raise BadAnswer("the kernel's answer could not be read")
        try:
            answer = json.loads(text)
        except ValueError as exc:
            raise BadAnswer("the kernel's answer could not be read") from exc
        if type(answer) is not dict:
            raise BadAnswer("the kernel's answer could not be read")
        if "fault" in answer:
            raise BadAnswer(f"the kernel could not answer: {str(answer['fault'])[:300]}")
        return answer

    def lookup(self, name: str) -> Any:
        answer = self.ask({"op": "lookup", "name": name}, 30.0)
        kind = answer.get("kind")
        if kind == "missing":
            raise NameError(f"name '{name}' is not defined")
        if kind == "value":
            try:
                return wire.decode(answer.get("value"))
            except wire.Malformed as exc:
                raise BadAnswer(f"{name} could not be read ({exc})") from None
        if kind == "function":
            handle, label = answer.get("handle"), answer.get("name")
            if type(handle) is not int:
                raise BadAnswer(f"{name} could not be read")
            usable = type(label) is str and label.isidentifier() and len(label) <= 100
            return Remote(self, handle, label if usable else name)
        if kind == "object":
            label = answer.get("type")
            label = label if type(label) is str and label.isidentifier() else "object"
            return type(label, (Opaque,), {})()
        raise BadAnswer(f"{name} could not be read")

    def call(self, fn: Remote, args: tuple, kwargs: dict[str, Any]) -> Any:
        try:
            request = {
                "op": "call",
                "handle": fn._handle,
                "args": [answers.encode(a, f"argument {i + 1}") for i, a in enumerate(args)],
                "kwargs": {k: answers.encode(v, f"argument {k}") for k, v in kwargs.items()},
                "errstate": {k: v for k, v in np.geterr().items()},
            }
        except answers.Unsupported as exc:  # a test passes something that is not data
            raise TypeError(
                f"the grader cannot pass {exc.where} ({exc.type_name}) to a kernel"
            ) from None
        answer = self.ask(request, self.call_timeout)
        for pair in answer.get("warnings", [])[:20]:
            if type(pair) is list and len(pair) == 2 and all(type(p) is str for p in pair):
                category = getattr(builtins, pair[0], None)
                if not (isinstance(category, type) and issubclass(category, Warning)):
                    category = UserWarning
                warnings.warn(pair[1], category, stacklevel=3)
        after = answer.get("after", {})
        if type(after) is dict:
            for key, new in after.items():
                target = (
                    args[int(key)]
                    if type(key) is str and key.isdigit() and int(key) < len(args)
                    else kwargs.get(key)
                )
                if target is None:
                    continue
                with contextlib.suppress(wire.Malformed):
                    wire.put_back(target, wire.decode(new))
        if "raised" in answer:
            raise _exception(answer["raised"], fn.__name__)
        if "unsupported" in answer:
            where, type_name = (list(answer["unsupported"]) + ["", ""])[:2]
            type_name = str(type_name)[:80]
            raise BadAnswer(
                f"{fn.__name__} returned a {type_name} ({str(where)[:80]}): the grader reads "
                "only numbers, numpy arrays, strings, and tuples, lists or dicts of these. "
                "Return plain values."
            )
        try:
            return wire.decode(answer.get("result"))
        except wire.Malformed as exc:
            raise BadAnswer(f"the result of {fn.__name__} could not be read ({exc})") from None


class Remote:
    """A function of the student's kernel, called from a test (see :class:`Link`)."""

    def __init__(self, link: Link, handle: int, name: str) -> None:
        self._link, self._handle = link, handle
        self.__name__ = self.__qualname__ = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        return self._link.call(self, args, kwargs)

    def __repr__(self) -> str:
        return f"<function {self.__name__} of the notebook>"


class Opaque:
    """A value of the kernel that is not plain data (only its type's name is known)."""

    def __repr__(self) -> str:
        return f"<a {type(self).__name__} object of the notebook>"


class StudentError(Exception):
    """An exception of the student's code whose class is not one of Python's own."""


def _exception(raised: Any, function: str) -> BaseException:
    if type(raised) is not dict:
        return BadAnswer(f"{function} failed, and the kernel's report could not be read")
    name = str(raised.get("type", "Exception"))[:80]
    message = str(raised.get("message", ""))[:4000]
    cls = getattr(builtins, name, None)
    if not (isinstance(cls, type) and issubclass(cls, Exception)) or cls is StopIteration:
        cls = type(name if name.isidentifier() else "StudentError", (StudentError,), {})
    try:
        exc = cls(message)
    except Exception:  # noqa: BLE001 (an exception class with other arguments)
        exc = StudentError(f"{name}: {message}")
    innermost = raised.get("innermost")
    exc.innermost = innermost if type(innermost) is str else None  # type: ignore[attr-defined]
    text = raised.get("traceback")
    exc.student_traceback = text[:6000] if type(text) is str else ""  # type: ignore[attr-defined]
    return exc


class Namespace(dict):
    """A test cell's globals: its own names and the grader's modules first, then the kernel's."""

    def __init__(self, link: Link, own: dict[str, Any]) -> None:
        super().__init__(own)
        self.link = link

    def __missing__(self, name: str) -> Any:
        if hasattr(builtins, name):
            raise KeyError(name)  # Python then takes the builtin
        value = self.link.lookup(name)
        self[name] = value
        return value


def preamble(sources: list[str]) -> dict[str, Any]:
    """The grader's own namespace for the tests: the imports of the assignment's locked cells
    (trusted: they come from the gradebook), run here."""
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
        if imports:
            code = compile(ast.Module(body=imports, type_ignores=[]), "<setup>", "exec")
            exec(code, namespace)  # noqa: S102 (the instructor's own setup)
    return namespace


def split_hidden(source: str) -> tuple[str, str | None]:
    """A test cell's visible checks and its hidden ones (None when it has none): nbgrader's
    ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` region, and what follows it."""
    lines = source.splitlines(keepends=True)
    begin = [i for i, line in enumerate(lines) if "BEGIN HIDDEN TESTS" in line]
    if not begin:
        return source, None
    visible = "".join(lines[: begin[0]])
    hidden = "".join(line for line in lines[begin[0] :] if "HIDDEN TESTS" not in line)
    return visible, hidden


def passed(outputs: list[dict[str, Any]]) -> bool:
    """Whether a test's outputs are a pass (nbgrader's rule: no error output)."""
    return not any(o.get("output_type") == "error" for o in outputs)


def run_test(
    source: str,
    base: dict[str, Any],
    link: Link,
    namespace: Namespace | None = None,
    failures: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Run a test cell's ``source`` here (see the module doc); its outputs, as nbformat dicts.

    ``namespace``: the test's namespace, to run a second part of the same cell in it.
    ``failures``: if given, a test that fails by a check of :mod:`course.checks` (a
    ``CheckFailure``) appends what the check found there, as data: ``{"name": what was checked,
    "problem": the kind of failure, "diagnoses": [the kinds of the likely bugs, each once]}``
    (the outputs stay plain nbformat)."""
    if namespace is None:
        namespace = Namespace(link, base)
    out = io.StringIO()
    outputs: list[dict[str, Any]] = []
    result: Any = None
    caught: list[warnings.WarningMessage] = []
    try:
        tree = ast.parse(source)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        with (
            contextlib.redirect_stdout(out),
            np.errstate(divide="warn", over="warn", under="ignore", invalid="warn"),  # defaults
            warnings.catch_warnings(record=True) as caught,
        ):
            warnings.simplefilter("always")
            exec(compile(tree, "<test>", "exec"), namespace)  # noqa: S102 (the instructor's test)
            if last is not None:
                expression = compile(ast.Expression(last.value), "<test>", "eval")
                result = eval(expression, namespace)  # noqa: S307 (the instructor's test)
    except KernelGone:
        raise
    except BaseException as exc:  # noqa: BLE001 (every failure is the test's verdict)
        if isinstance(exc, KeyboardInterrupt):
            raise
        if out.getvalue():
            outputs.append(_stream(out.getvalue()))
        outputs.append(_error(exc))
        if failures is not None:
            from course.checks import CheckFailure  # the grader's own, as the tests use it

            if isinstance(exc, CheckFailure):
                failures.append(
                    {
                        "name": exc.name,
                        "problem": exc.problem,
                        "diagnoses": list(dict.fromkeys(d.kind for d in exc.diagnoses)),
                    }
                )
        return outputs
    text = out.getvalue() + _warned(caught)
    if text:
        outputs.append(_stream(text))
    if result is not None:
        outputs.append(_result(result))
    return outputs


def _warned(caught: list[warnings.WarningMessage]) -> str:
    """A passing test's warnings, said without costing anything (nbgrader would give 0 to a
    cell that wrote to stderr: here only the checks decide)."""
    seen: list[str] = []
    for w in caught:
        line = f"{w.category.__name__}: {str(w.message)[:200]}"
        if line not in seen:
            seen.append(line)
    if not seen:
        return ""
    lines = "".join(f"  {line}\n" for line in seen[:5])
    return f"Warnings while the tests ran (they cost no points):\n{lines}"


def _stream(text: str) -> dict[str, Any]:
    return {"output_type": "stream", "name": "stdout", "text": text}


def _error(exc: BaseException) -> dict[str, Any]:
    ename = type(exc).__name__  # a CheckFailure is named AssertionError, as students know it
    evalue = str(exc)
    lines = []
    student = getattr(exc, "student_traceback", "")
    if student:
        lines.append(student.rstrip("\n"))
    lines.append(f"\x1b[0;31m{ename}\x1b[0m: {evalue}")
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": lines}


def _result(value: Any) -> dict[str, Any]:
    return {
        "output_type": "execute_result",
        "execution_count": None,
        "metadata": {},
        "data": {"text/plain": repr(value)},
    }
