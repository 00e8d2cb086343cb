"""Checks that teach: compare a student's result with a reference and name the likely bug.

Every test cell of the graded assignments goes through this module. A check passes silently or
raises :class:`AssertionError` with a message written for the student::

    Your dW2 is wrong (layer 2).
      shape: expected (1, 3), got (1, 3)
      relative error: 6.0e-01 (allowed: about 1e-06)
      entries that differ most:
        [0, 2]: expected 0.125, got 0.5
        [0, 0]: expected -0.05, got -0.2
        [0, 1]: expected 0.02, got 0.08
      Likely bug: your values are exactly m = 4 times too large: you summed over the m
      examples of the batch but did not divide by m (the cost is the mean over the batch).

The diagnoses compare the wrong answer with the answers that the usual mistakes produce:

* **transposed** (``got.T`` matches),
* **off by a factor of m** (summed over the batch but not averaged, or averaged twice),
* **off by a factor of 2** (the 1/2 of the squared error, a path counted twice),
* **sign flipped**,
* **the activation where its derivative belongs** (``activation=(f, fprime, z)``),
* **overwritten instead of added at a branch** (``branches=[contribution, ...]``),
* **bias gradient not summed over the batch** (shape ``(n, m)`` for ``(n, 1)``, or one column),
* **wrong shape**, **not finite**, **None** (a forgotten ``return``), **wrong type**,
* and any mistake the caller knows about (``mistakes={"what went wrong": wrong_answer}``).

:func:`call_student` runs a student's function and turns "not written yet" into a plain message;
with ``forbid=("course.graph",)`` it also fails when the function ran any code of the package
part that the exercise asks the student to write (see :func:`own_work` for how, and its limits).
:func:`numeric_gradient_check` compares with centred finite differences in float64.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import numpy as np

from course.gradcheck import numerical_gradient, relative_error

__all__ = [
    "check_array",
    "check_tuple",
    "check_gradients",
    "numeric_gradient_check",
    "diagnose",
    "call_student",
    "own_work",
]

Activation = tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray], Any]

SHOW_ENTRIES = 3  # how many of the worst entries a message lists
OWN_WORK_MESSAGE = "this part must be computed by your own code, not {module}"
SWITCHED_OFF = "switched off the check that this part is your own work"


# -- turning what a student returned into an array -------------------------------------------


def _type_name(x: object) -> str:
    return type(x).__name__


def _as_array(name: str, got: object) -> np.ndarray:
    """``got`` as a float64 array, or an AssertionError that says what was returned instead."""
    if got is None:
        raise AssertionError(
            f"Your function returned None for {name}. Did you forget `return`? "
            "(A Python function without a return statement returns None.)"
        )
    if type(got).__name__ == "Value" and hasattr(got, "data") and hasattr(got, "grad"):
        raise AssertionError(
            f"{name} should be a number, but you returned a Value object (a graph node). "
            "Return the number itself: its .data or its .grad."
        )
    if isinstance(got, (str, bytes, dict, set)) or isinstance(got, (bool, np.bool_)):
        raise AssertionError(
            f"{name} should be a number or a numpy array of numbers, but you returned "
            f"a {_type_name(got)}: {_short(got)}"
        )
    if callable(got):
        raise AssertionError(
            f"{name} should be a number or an array, but you returned a function "
            f"({getattr(got, '__name__', _type_name(got))}). Did you forget the () to call it?"
        )
    try:
        arr = np.asarray(got)
    except (TypeError, ValueError) as exc:  # ragged lists and the like
        raise AssertionError(
            f"{name} should be a number or a numpy array of numbers, but what you returned "
            f"cannot be read as one ({_type_name(got)}: {exc})"
        ) from None
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        kind = "complex numbers" if arr.dtype.kind == "c" else f"{_type_name(got)} ({arr.dtype})"
        raise AssertionError(
            f"{name} should hold real numbers, but you returned {kind}: {_short(got)}"
        )
    if arr.dtype.kind == "b":
        raise AssertionError(
            f"{name} should hold numbers, but you returned True/False values: {_short(got)}"
        )
    return arr.astype(np.float64)


def _short(x: object, limit: int = 80) -> str:
    text = repr(x)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def _index(idx: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(i) for i in idx) + "]"


# -- recognising the usual mistakes -------------------------------------------------------------


def _close(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _candidate(
    got: np.ndarray, expected: np.ndarray, candidate: np.ndarray, rtol: float, atol: float
) -> bool:
    """True if ``got`` matches ``candidate`` and ``candidate`` really differs from ``expected``."""
    return _close(got, candidate, rtol, atol) and not _close(candidate, expected, rtol, atol)


def diagnose(
    got: np.ndarray,
    expected: np.ndarray,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    m: int | None = None,
    activation: Activation | None = None,
    branches: Sequence[Any] | Mapping[str, Any] | None = None,
    per_example: Any | None = None,
    mistakes: Mapping[str, Any] | None = None,
) -> list[str]:
    """Plain-words explanations of how ``got`` could have come from a usual mistake.

    Both arrays are float64; an empty list means no pattern was recognised. ``branches`` are the
    contributions whose sum is the right gradient (one per edge; a dict names them, e.g.
    ``{"from q": 16.0, "from s": -4.0}``), ``per_example`` is the
    ``(n, m)`` array whose sum over the batch (axis 1) is a bias gradient ``(n, 1)``.
    """
    rtol = max(rtol, 1e-9)
    found: list[str] = []

    def seen(text: str) -> None:
        if text not in found:
            found.append(text)

    for explanation, wrong in (mistakes or {}).items():
        wrong = np.asarray(wrong, dtype=np.float64)
        if _candidate(got, expected, wrong, rtol, atol):
            seen(explanation)

    # shapes that differ
    if got.shape != expected.shape:
        if got.shape == expected.T.shape and _close(got.T, expected, rtol, atol):
            seen(
                f"your result is the transpose of the right one: you returned shape {got.shape} "
                f"where {expected.shape} is expected. Check the order of a matrix product "
                "(A @ B versus B @ A, or a missing .T)."
            )
        elif expected.ndim == 2 and expected.shape[1] == 1 and got.ndim == 2:
            if got.shape[0] == expected.shape[0] and got.shape[1] > 1:
                how = ""
                if _close(got.sum(axis=1, keepdims=True), expected, rtol, atol):
                    how = " Summed over the batch, your numbers would be right."
                seen(
                    "the bias gradient was not summed over the batch: it has one column per "
                    f"example, shape {got.shape}, where {expected.shape} is expected. A bias is "
                    "shared by all examples, so add their contributions: "
                    f"db = dZ.sum(axis=1, keepdims=True).{how}"
                )
        if got.size == expected.size and _close(got.reshape(expected.shape), expected, rtol, atol):
            seen(
                f"the numbers are right but the shape is not: you returned {got.shape}, "
                f"expected {expected.shape}. Keep the shape of the variable (for a column, use "
                "keepdims=True in sums or .reshape(-1, 1))."
            )
        if not found:
            seen(
                f"wrong shape: expected {expected.shape}, got {got.shape}. A gradient always has "
                "the same shape as the variable it belongs to."
            )
        return found

    # same shape, different values
    if expected.ndim == 2 and expected.shape[0] == expected.shape[1]:
        if _candidate(got, expected, expected.T, rtol, atol):
            seen(
                "your result is the transpose of the right one (got.T would be correct). Check "
                "the order of a matrix product (A @ B versus B @ A, or a missing .T)."
            )
    if branches is not None and len(branches) >= 2:
        if isinstance(branches, Mapping):
            labels, values = list(branches), list(branches.values())
        else:
            labels = [f"number {k + 1}" for k in range(len(branches))]
            values = list(branches)
        n = len(values)
        for label, part in zip(labels, values):
            part = np.asarray(part, dtype=np.float64)
            if part.shape == got.shape and _candidate(got, expected, part, rtol, atol):
                seen(
                    "gradients overwritten instead of added at a branch: this variable feeds "
                    f"{n} edges of the graph, so its gradient is the sum of {n} contributions "
                    f"({', '.join(labels)}), but yours equals only one of them ({label}). Add "
                    "each contribution (grad += ...) instead of replacing it (grad = ...)."
                )
                break
    if _candidate(got, expected, -expected, rtol, atol):
        seen(
            "the sign is flipped: your values are the negatives of the right ones. Check a "
            "subtraction (yhat - t versus t - yhat), a minus sign in a derivative, or an "
            "update direction."
        )
    if m is not None and m > 1:
        if _candidate(got, expected, m * expected, rtol, atol):
            seen(
                f"your values are exactly m = {m} times too large: you summed over the m "
                "examples of the batch but did not divide by m (the cost is the mean over "
                "the batch)."
            )
        if _candidate(got, expected, expected / m, rtol, atol):
            seen(
                f"your values are exactly m = {m} times too small: you divided by the batch "
                "size m once too often (for example in dZ and again in dW), or averaged where "
                "the cost sums."
            )
    if _candidate(got, expected, 2.0 * expected, rtol, atol):
        seen(
            "your values are exactly 2 times the right ones: a factor of 2 is missing or "
            "extra (the 1/2 in the squared error, the 2 in d(x^2)/dx, or a path counted twice)."
        )
    if _candidate(got, expected, 0.5 * expected, rtol, atol):
        seen(
            "your values are exactly half the right ones: a factor of 2 is missing (the 2 in "
            "d(x^2)/dx, or one of two equal paths left out)."
        )
    if activation is not None:
        f, fprime, z = activation
        z = np.asarray(z, dtype=np.float64)
        fz = np.asarray(f(z), dtype=np.float64)
        dz = np.asarray(fprime(z), dtype=np.float64)
        used_f = _candidate(got, expected, fz, rtol, atol)
        if not used_f and fz.shape == expected.shape and np.all(dz != 0):
            used_f = _candidate(got, expected, expected * fz / dz, rtol, atol)
        if used_f:
            seen(
                "you used the activation f(z) where its derivative f'(z) belongs: backprop "
                "multiplies the upstream gradient by f'(z), the slope, not by the value f(z)."
            )
    if per_example is not None and expected.ndim == 2 and expected.shape[1] == 1:
        cols = np.asarray(per_example, dtype=np.float64)
        if cols.ndim == 2 and cols.shape[0] == expected.shape[0]:
            for j in range(cols.shape[1]):
                if _candidate(got, expected, cols[:, j : j + 1], rtol, atol):
                    seen(
                        f"your bias gradient equals the contribution of example {j} alone: the "
                        "bias gradient is the sum over all examples of the batch "
                        "(dZ.sum(axis=1, keepdims=True)), not one column."
                    )
                    break
    return found


# -- the checks ---------------------------------------------------------------------------------


def _report(
    name: str,
    got: np.ndarray,
    expected: np.ndarray,
    rtol: float,
    bugs: list[str],
    context: str | None,
    *,
    verdict: str = "is wrong",
    ref: str = "expected",
) -> str:
    head = f"Your {name} {verdict}" + (f" ({context})." if context else ".")
    lines = [head, f"  shape: {ref} {expected.shape}, got {got.shape}"]
    if got.shape == expected.shape:
        lines.append(
            f"  relative error: {relative_error(got, expected):.1e} (allowed: about {rtol:.0e})"
        )
        with np.errstate(invalid="ignore"):
            diff = np.abs(got - expected)
        diff = np.where(np.isfinite(diff), diff, np.inf)
        if expected.ndim == 0:
            lines.append(f"  value: {ref} {_fmt(expected.item())}, got {_fmt(got.item())}")
        else:
            order = np.argsort(-diff, axis=None, kind="stable")[:SHOW_ENTRIES]
            lines.append("  entries that differ most:")
            for flat in order:
                idx = tuple(int(i) for i in np.unravel_index(int(flat), diff.shape))
                lines.append(
                    f"    {_index(idx)}: {ref} {_fmt(expected[idx])}, got {_fmt(got[idx])}"
                )
    elif got.size and expected.size:
        lines.append(
            f"  first entries: {ref} "
            + ", ".join(_fmt(v) for v in expected.reshape(-1)[:SHOW_ENTRIES])
            + "; got "
            + ", ".join(_fmt(v) for v in got.reshape(-1)[:SHOW_ENTRIES])
        )
    for bug in bugs:
        lines.append(f"  Likely bug: {bug}")
    return "\n".join(lines)


def check_array(
    name: str,
    got: object,
    expected: Any,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    context: str | None = None,
    m: int | None = None,
    activation: Activation | None = None,
    branches: Sequence[Any] | Mapping[str, Any] | None = None,
    per_example: Any | None = None,
    mistakes: Mapping[str, Any] | None = None,
) -> None:
    """Fail with a teaching message unless ``got`` equals ``expected`` within tolerances.

    ``got`` may be a number, a numpy array or a nested list; it must have ``expected``'s shape
    and every entry must satisfy ``|got - expected| <= atol + rtol |expected|`` (float64).
    The optional arguments let :func:`diagnose` recognise more mistakes: ``m`` the batch size,
    ``activation=(f, fprime, z)``, ``branches`` the per-path contributions that must be added,
    ``per_example`` the ``(n, m)`` array a bias gradient sums, ``mistakes`` known wrong answers
    keyed by an explanation. ``context`` says where the check happened (shown in the message).
    """
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    exp = np.asarray(expected, dtype=np.float64)
    arr = _as_array(name, got)
    if arr.shape == exp.shape and np.all(np.isfinite(exp)) and not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))
        where = "" if arr.ndim == 0 else f" at {_index(tuple(int(i) for i in bad[0]))}"
        kinds = sorted({"nan" if np.isnan(v) else "inf" for v in arr[~np.isfinite(arr)]})
        raise AssertionError(
            f"Your {name} contains {' and '.join(kinds)}{where}"
            + (f" ({context})" if context else "")
            + ", but every right value is finite. Look for an overflow (exp of a large number), "
            "a division by zero, or log(0)."
        )
    if arr.shape == exp.shape and np.allclose(arr, exp, rtol=rtol, atol=atol):
        return
    bugs = diagnose(
        arr,
        exp,
        rtol=rtol,
        atol=atol,
        m=m,
        activation=activation,
        branches=branches,
        per_example=per_example,
        mistakes=mistakes,
    )
    raise AssertionError(_report(name, arr, exp, rtol, bugs, context))


def check_tuple(
    name: str,
    got: object,
    expected: Sequence[Any],
    labels: Sequence[str],
    *,
    mistakes: Sequence[Mapping[str, Any] | None] | None = None,
    **options: Any,
) -> None:
    """Check a function that returns several results, e.g. ``(da, db)``, one by one.

    ``labels`` name the results in order; ``mistakes`` (optional) gives known wrong answers
    per result; the other ``options`` go to :func:`check_array`.
    """
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    n = len(expected)
    if got is None:
        raise AssertionError(
            f"{name} returned None. Did you forget `return`? It should return {n} results: "
            f"return {', '.join(labels)}"
        )
    # np.ndim(got) would try to build one array from the results, which fails when they have
    # different shapes, e.g. (dA_prev, dW, db): test only what a tuple needs
    if not isinstance(got, (tuple, list, np.ndarray)) or (
        isinstance(got, np.ndarray) and got.ndim == 0
    ):
        raise AssertionError(
            f"{name} should return {n} results ({', '.join(labels)}) as a tuple, but it "
            f"returned a {_type_name(got)}: {_short(got)}"
        )
    if len(got) != n:
        raise AssertionError(
            f"{name} should return {n} results ({', '.join(labels)}), but it returned "
            f"{len(got)}: {_short(got)}"
        )
    for k, (label, g, e) in enumerate(zip(labels, got, expected)):
        extra = mistakes[k] if mistakes is not None else None
        check_array(f"{label} from {name}", g, e, mistakes=extra, **options)


def _per_name(option: Any, key: str) -> Any:
    if isinstance(option, Mapping):
        return option.get(key)
    return option


def check_gradients(
    got: object,
    expected: Mapping[str, Any],
    *,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    context: str | None = None,
    m: int | None = None,
    activation: Activation | Mapping[str, Activation] | None = None,
    branches: Mapping[str, Sequence[Any] | Mapping[str, Any]] | None = None,
    per_example: Mapping[str, Any] | None = None,
    mistakes: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """Check a dict of gradients ``{name: gradient}`` against the reference, name by name.

    Every key of ``expected`` must be present (extra keys are ignored). All wrong names are
    listed, in ``expected``'s order, and the first few are explained in detail: order
    ``expected`` from the output towards the inputs, so the first wrong one is where the
    mistake starts. ``activation``, ``branches``, ``per_example`` and ``mistakes`` are given per
    name (``activation`` may also be one triple for all); ``m`` applies to all.
    """
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    where = f" ({context})" if context else ""
    if got is None:
        raise AssertionError(
            f"Your function returned None{where}. Did you forget `return`? It should return a "
            "dict that maps each name to its gradient."
        )
    if not isinstance(got, Mapping):
        raise AssertionError(
            f"Your function should return a dict {{name: gradient}}{where}, but it returned a "
            f"{_type_name(got)}: {_short(got)}"
        )
    missing = [k for k in expected if k not in got]
    if missing:
        hint = ""
        if all(not isinstance(k, str) for k in got) and got:
            hint = f" Use the names (strings such as {next(iter(expected))!r}) as the keys."
        raise AssertionError(
            f"Your dict of gradients has no entry for {', '.join(repr(k) for k in missing)}"
            f"{where}. It should have one for every name: {', '.join(map(repr, expected))}; "
            f"yours has {', '.join(map(repr, list(got)[:10])) or 'none'}.{hint}"
        )
    failures: list[tuple[str, str, list[str]]] = []
    for key, exp in expected.items():
        try:
            check_array(
                f"gradient for {key!r}",
                got[key],
                exp,
                rtol=rtol,
                atol=atol,
                m=m,
                activation=_per_name(activation, key),
                branches=(branches or {}).get(key),
                per_example=(per_example or {}).get(key),
                mistakes=(mistakes or {}).get(key),
            )
        except AssertionError as exc:
            failures.append((key, str(exc), _likely(str(exc))))
    if not failures:
        return
    names = ", ".join(repr(k) for k, _, _ in failures)
    lines = [
        f"{len(failures)} of {len(expected)} gradients are wrong{where}: {names}.",
    ]
    summary = next((bugs[0] for _, _, bugs in failures if bugs), None)
    if summary:
        lines.append(f"Likely bug: {summary}")
    shown = failures[:SHOW_ENTRIES]
    for _, text, _ in shown:
        lines.append("")
        if summary:
            text = text.replace(f"Likely bug: {summary}", "Likely bug: the same as above.")
        lines.append(text)
    if len(failures) > len(shown):
        lines.append("")
        lines.append(
            f"({len(failures) - len(shown)} more are wrong. A wrong gradient makes every "
            "gradient computed from it wrong too, so fix the first one first.)"
        )
    raise AssertionError("\n".join(lines))


def _likely(message: str) -> list[str]:
    marker = "  Likely bug: "
    return [line[len(marker) :] for line in message.splitlines() if line.startswith(marker)]


def numeric_gradient_check(
    f: Callable[[Any], float],
    x: Any,
    analytic: object,
    name: str,
    *,
    h: float = 1e-5,
    tol: float = 1e-6,
    atol: float = 1e-8,
    context: str | None = None,
    **options: Any,
) -> float:
    """Compare an analytic gradient of ``f`` at ``x`` with centred finite differences.

    ``f`` takes an input shaped like ``x`` (a number or an array) and returns a number. The
    derivative is ``(f(x + h e_i) - f(x - h e_i)) / 2h`` entry by entry, in float64, with
    :func:`course.gradcheck.numerical_gradient`. The check passes when the relative error is
    below ``tol`` or every entry is within ``atol`` (a gradient that is exactly 0 makes the
    relative error meaningless). Returns the relative error. ``options`` go to
    :func:`diagnose` (``m``, ``activation``, ``branches``, ...).
    """
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    scalar = np.ndim(x) == 0
    x64 = np.array(x, dtype=np.float64).reshape(-1 if scalar else np.shape(x))
    if scalar:
        numeric = numerical_gradient(lambda: float(f(float(x64[0]))), x64, h).reshape(())
    else:
        numeric = numerical_gradient(lambda: float(f(x64)), x64, h)
    arr = _as_array(name, analytic)
    if arr.shape != numeric.shape:
        check_array(name, arr, numeric, context=context, **options)  # explains the shape
    if not np.all(np.isfinite(arr)):
        check_array(name, arr, numeric, context=context, **options)  # explains nan / inf
    err = relative_error(arr, numeric)
    if err < tol or np.all(np.abs(arr - numeric) <= atol):
        return err
    bugs = diagnose(arr, numeric, rtol=max(tol, 1e-5), atol=max(atol, 1e-7), **options)
    raise AssertionError(
        _report(
            name,
            arr,
            numeric,
            tol,
            bugs,
            context,
            verdict="does not match centred finite differences",
            ref="numeric",
        )
    )


# -- running a student's function ---------------------------------------------------------------


class _Sources:
    """Where the source files of some modules or packages are, found without importing them."""

    def __init__(self, modules: Sequence[str | ModuleType]) -> None:
        self.files: dict[str, str] = {}  # a module's file -> its name
        self.folders: list[tuple[str, str]] = []  # a package's folder -> its name
        for mod in modules:
            name = mod if isinstance(mod, str) else mod.__name__
            loaded = sys.modules.get(name)
            if loaded is not None:
                origin = getattr(loaded, "__file__", None)
                folders = list(getattr(loaded, "__path__", []))
            else:
                try:
                    spec = importlib.util.find_spec(name)
                except (ImportError, ValueError):
                    spec = None
                if spec is None:  # not installed: nothing to forbid
                    continue
                origin, folders = spec.origin, list(spec.submodule_search_locations or [])
            if folders:
                for folder in folders:
                    self.folders.append((os.path.realpath(folder) + os.sep, name))
            elif origin:
                self.files[origin] = name
                self.files[os.path.realpath(origin)] = name
        self._cache: dict[str, str | None] = {}

    def __bool__(self) -> bool:
        return bool(self.files or self.folders)

    def owner(self, filename: str) -> str | None:
        """The forbidden module that ``filename`` belongs to, if any (cached per file)."""
        if filename not in self._cache:
            found = self.files.get(filename)
            if found is None:
                real = os.path.realpath(filename)
                found = self.files.get(real)
                for folder, name in self.folders:
                    if found is None and real.startswith(folder):
                        found = name
            self._cache[filename] = found
        return self._cache[filename]


@contextmanager
def own_work(part: str | None = None, forbid: Sequence[str | ModuleType] = ()) -> Iterator[None]:
    """Fail after the block if any Python function of the ``forbid`` modules ran inside it.

    Used by :func:`call_student` so that an exercise on, say, the backward sweep cannot be
    answered by calling ``course.graph``. It installs a profile hook (``sys.setprofile``) that
    records every call into the modules' source files, whatever name or alias the student used.

    ``forbid`` holds module or package names (a package covers every file in its folder); names
    that are not installed are skipped, and nothing is imported to find them.

    Limits: it sees only Python code run in this thread (not C extensions called directly); it
    does not see code that the student copied into the notebook, libraries that are not in
    ``forbid``, or results computed before the block. A block that removes or replaces the hook
    fails too. The rest is for a human grader to notice.
    """
    files = _Sources(forbid)
    used: list[tuple[str, str]] = []
    previous = sys.getprofile()

    def hook(frame: Any, event: str, arg: Any) -> None:
        if event == "call" and not used:
            code = frame.f_code
            module = files.owner(code.co_filename)
            if module is not None:
                used.append((module, getattr(code, "co_qualname", code.co_name)))
        if previous is not None:
            previous(frame, event, arg)

    if files:
        sys.setprofile(hook)
    try:
        yield
    finally:
        removed = bool(files) and sys.getprofile() is not hook
        if files:
            sys.setprofile(previous)
    if removed:  # the block removed or replaced the hook: nothing it did can be vouched for
        what = f"{part}: " if part else ""
        raise AssertionError(
            f"{what}your function {SWITCHED_OFF} (sys.setprofile), so this part earns no credit."
        )
    if used:
        module, function = used[0]
        what = f"{part}: " if part else ""
        raise AssertionError(
            f"{what}{OWN_WORK_MESSAGE.format(module=module)}. Your function called "
            f"{function} from {module}. Such packages are there to check your answers; this "
            "exercise asks you to write the computation yourself, so an answer that lets a "
            "package do it earns no credit for this part."
        )


def call_student(
    func: Callable[..., Any],
    *args: Any,
    part: str | None = None,
    forbid: Sequence[str | ModuleType] = (),
    **kwargs: Any,
) -> Any:
    """Call a student's function and return its result, with plain messages for the usual trouble.

    * not a function (the cell defining it was not run, or the name was reused): explained;
    * still raises ``NotImplementedError`` (the unanswered stub): "you have not written ... yet";
    * ``forbid`` names modules the function may not use (see :func:`own_work`).

    Any other exception propagates unchanged, so the student sees their own traceback.
    """
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    name = getattr(func, "__name__", _type_name(func))
    if not callable(func):
        raise AssertionError(
            f"{name} should be a function, but it is a {_type_name(func)}. Run the cell that "
            "defines it, and do not reuse its name for a variable."
        )
    try:
        with own_work(part, forbid):
            return func(*args, **kwargs)
    except NotImplementedError as exc:
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        inner = tb.tb_frame.f_code.co_name if tb is not None else name
        which = name if inner in (name, "<module>", "<lambda>") else f"{inner} (used by {name})"
        raise AssertionError(
            f"You have not written {which} yet: it still raises NotImplementedError. Replace "
            "the line `raise NotImplementedError()` with your code and run the cell again."
        ) from None
