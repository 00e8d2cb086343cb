"""Checks of a public function's arguments, with one rule for ``TypeError`` and ``ValueError``.

The rule is Python's own convention:

* ``TypeError`` when an argument is of the WRONG KIND: not a number (a bool counts as not a
  number), a float where an integer is expected, not a string, not an array of numbers, not
  callable, not the container asked for;
* ``ValueError`` when it is of the right kind but an UNACCEPTABLE VALUE: negative, out of range,
  not finite, a name that is not among the choices, the wrong shape, number of dimensions or
  length, empty.

Every message names the argument (and the function, when ``caller`` is given), shows what was
given and says how to fix it, since the course's errors speak to a student::

    lr must be a positive number, got -0.1: pass e.g. lr=0.1

Each helper returns the argument converted (``float``, ``int``, the name as listed in the choices,
an ndarray): a function checks and converts in one line, where it is entered, never in a loop.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["real", "integer", "choice", "array", "sequence", "instance"]

_NO = object()  # no example given


def _show(value: Any, typed: bool = False) -> str:
    """A one-line repr of ``value``, cut after 60 characters, and its type if ``typed``."""
    shown = value.item() if isinstance(value, np.generic) else value  # 0.5, not np.float64(0.5)
    text = " ".join(repr(shown).split())
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"{text} of type {type(value).__name__}" if typed else text


def _message(
    name: str, what: str, got: str, fix: str | None, example: Any, caller: str | None
) -> str:
    if fix is None:
        fix = f"pass e.g. {name}={example!r}" if example is not _NO else f"pass {what}"
    return f"{caller + ': ' if caller else ''}{name} must be {what}, got {got}: {fix}"


def _described(noun: str, low: Any, low_open: bool, high: Any, high_open: bool) -> str:
    """``"a positive number"``, ``"a number in the interval [0, 1)"``, ``"an integer >= 2"``..."""
    low_text, high_text = (f"{x:g}" if isinstance(x, float) else str(x) for x in (low, high))
    if noun == "integer" and low is not None and high is not None:
        return f"an integer from {low} to {high}"
    if high is None and (low == 0 or (noun == "integer" and low == 1)):
        return f"a {'positive' if low_open or low == 1 else 'non-negative'} {noun}"
    article = "an" if noun == "integer" else "a"
    if high is None and low is None:
        return f"{article} {noun}"
    if high is None:
        return f"{article} {noun} {'>' if low_open else '>='} {low_text}"
    if low is None:
        return f"{article} {noun} {'<' if high_open else '<='} {high_text}"
    left, right = "(" if low_open else "[", ")" if high_open else "]"
    return f"{article} {noun} in the interval {left}{low_text}, {high_text}{right}"


def real(
    name: str,
    value: Any,
    *,
    greater_than: float | None = None,
    at_least: float | None = None,
    less_than: float | None = None,
    at_most: float | None = None,
    example: Any = _NO,
    fix: str | None = None,
    caller: str | None = None,
) -> float:
    """``value`` as a finite ``float`` within the bounds given (at most one per side).

    ``TypeError`` unless it is an int, a float or a numpy number (a bool is refused);
    ``ValueError`` if it is NaN or infinite, or out of bounds.
    """
    low = greater_than if greater_than is not None else at_least
    high = less_than if less_than is not None else at_most
    what = _described("number", low, greater_than is not None, high, less_than is not None)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(_message(name, what, _show(value, True), fix, example, caller))
    x = float(value)
    inside = (
        (greater_than is None or x > greater_than)
        and (at_least is None or x >= at_least)
        and (less_than is None or x < less_than)
        and (at_most is None or x <= at_most)
    )
    if inside and math.isfinite(x):
        return x
    what = what if math.isfinite(x) else "a finite number"
    raise ValueError(_message(name, what, _show(value), fix, example, caller))


def integer(
    name: str,
    value: Any,
    *,
    at_least: int | None = None,
    at_most: int | None = None,
    example: Any = _NO,
    fix: str | None = None,
    caller: str | None = None,
) -> int:
    """``value`` as an ``int`` from ``at_least`` to ``at_most`` (either may be left out).

    ``TypeError`` unless it is an int or a numpy integer (a bool or a float such as ``10.0`` is
    refused, as ``range`` refuses them); ``ValueError`` out of bounds.
    """
    what = _described("integer", at_least, False, at_most, False)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer():
            fix = f"pass a whole number as an int, e.g. {name}={int(value)}"
        raise TypeError(_message(name, what, _show(value, True), fix, example, caller))
    if (at_least is not None and value < at_least) or (at_most is not None and value > at_most):
        raise ValueError(_message(name, what, _show(value), fix, example, caller))
    return int(value)


def choice(
    name: str,
    value: Any,
    choices: Iterable[str],
    *,
    example: Any = _NO,
    fix: str | None = None,
    caller: str | None = None,
) -> Any:
    """The one of ``choices`` that ``value`` names; ``choices[value]`` if ``choices`` is a dict.

    Case and surrounding spaces do not matter. ``TypeError`` unless ``value`` is a string;
    ``ValueError`` if it names none of the choices (the message lists them all).
    """
    names = list(choices)
    listed = ", ".join(repr(c) for c in names)
    example = names[0] if example is _NO else example
    if not isinstance(value, str):
        what = f"a string, one of {listed}"
        raise TypeError(_message(name, what, _show(value, True), fix, example, caller))
    found = {c.lower(): c for c in names}.get(value.strip().lower())
    if found is None:
        raise ValueError(_message(name, f"one of {listed}", _show(value), fix, example, caller))
    return choices[found] if isinstance(choices, Mapping) else found


def array(
    name: str,
    value: Any,
    *,
    ndim: int | tuple[int, ...] | None = None,
    dtype: Any = None,
    finite: bool = True,
    what: str | None = None,
    fix: str | None = None,
    caller: str | None = None,
) -> np.ndarray:
    """``np.asarray(value)``, converted to ``dtype`` if given, once it is checked.

    ``TypeError`` if its entries are not real numbers (bool, int, float); ``ValueError`` for a
    ragged nested list, a number of dimensions not in ``ndim`` (``what`` describes the shape
    expected and ``fix`` how to get it) or, if ``finite``, NaN or inf (counted, first one located).
    """
    prefix = f"{caller}: " if caller else ""
    try:
        a = np.asarray(value)
    except ValueError:  # numpy refuses nested lists of unequal lengths
        raise ValueError(
            f"{prefix}{name} must be an array of a regular shape, got {_show(value)}, whose rows "
            "differ in length: give every row the same number of entries"
        ) from None
    if a.dtype.kind not in "biuf":
        got = (
            f"an array of dtype {a.dtype}" if isinstance(value, np.ndarray) else _show(value, True)
        )
        raise TypeError(
            f"{prefix}{name} must be an array of real numbers, got {got}: "
            f"pass numbers (numbers read as text convert with np.asarray({name}, dtype=float))"
        )
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if allowed is not None and a.ndim not in allowed:
        what = what or f"a {' or '.join(f'{d}-D' for d in allowed)} array"
        raise ValueError(_message(name, what, f"shape {a.shape}", fix or "reshape it", _NO, caller))
    if finite and a.dtype.kind == "f" and not np.isfinite(a).all():
        bad = np.argwhere(~np.isfinite(a))
        raise ValueError(
            f"{prefix}{name} must hold finite numbers, but it contains {len(bad)} non-finite "
            f"value(s) (NaN or inf), the first at {tuple(int(i) for i in bad[0])}: remove or "
            "replace them"
        )
    return a if dtype is None else a.astype(dtype, copy=False)


def sequence(
    name: str,
    value: Any,
    *,
    length: int | None = None,
    non_empty: bool = False,
    fix: str | None = None,
    caller: str | None = None,
) -> list:
    """The items of a list, tuple, range or 1-D array, as a list (each item is yours to check).

    ``TypeError`` for anything else, a string in particular; ``ValueError`` if it is empty
    although ``non_empty``, or does not have ``length`` items.
    """
    what = "a list or tuple"
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise TypeError(_message(name, what, _show(value, True), fix, _NO, caller))
    items = list(value)
    if (non_empty and not items) or (length is not None and len(items) != length):
        what += f" of {length} items" if length is not None else " with at least one item"
        raise ValueError(_message(name, what, _show(value), fix, _NO, caller))
    return items


def instance(
    name: str,
    value: Any,
    types: type | tuple[type, ...],
    *,
    what: str,
    fix: str | None = None,
    caller: str | None = None,
) -> Any:
    """``value`` itself if it is an instance of ``types``, else a ``TypeError`` saying ``what``.

    ``types=collections.abc.Callable`` asks for a function (anything callable).
    """
    if not isinstance(value, types):
        raise TypeError(_message(name, what, _show(value, True), fix, _NO, caller))
    return value
