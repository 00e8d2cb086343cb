"""Checks that teach: compare a student's result with a reference and name the likely bug.

Every test cell of the graded assignments goes through this module. A check passes silently or
raises :class:`CheckFailure` (an :class:`AssertionError`) with a message written for the
student::

    Your dW2 is wrong (layer 2).
      shape: expected (1, 3), got (1, 3)
      relative error: 6.0e-01 (allowed: about 1e-06)
      entries that differ most:
        [0, 2]: expected 0.125, got 0.5
        [0, 0]: expected -0.05, got -0.2
        [0, 1]: expected 0.02, got 0.08
      Likely bug: your values are exactly m = 4 times too large: you summed over the m
      examples of the batch but did not divide by m (the cost is the mean over the batch).

and with the same facts as data, for the grader: ``exc.name`` (``"dW2"``), ``exc.problem``
(``"wrong_values"``) and ``exc.diagnoses``, one :class:`Diagnosis` per recognised mistake
(here ``kind="factor_m_large"``). The message is made from the diagnoses, never the other way.

Each usual mistake has one detector, a function that returns a :class:`Diagnosis` or None
(:func:`diagnoses` runs them all, in this order):

* any mistake the caller knows about (:func:`known_mistakes`, with
  ``mistakes={"what went wrong": wrong_answer}``, kind ``"known_mistake"``, or
  ``mistakes={Diagnosis(kind, "what went wrong"): wrong_answer}``); when one fits, it is the
  whole explanation and the detectors below do not run (:func:`check_tuple` and
  :func:`check_gradients` also take ``whole_mistakes``, wrong answers of all the results
  together, for a mistake that only the whole answer tells apart);
* ``transpose``: ``got.T`` matches (:func:`transposed`);
* ``not_summed_over_batch``: a bias gradient ``(n, m)`` for ``(n, 1)``
  (:func:`not_summed_over_batch`); ``reshape``: the right numbers in another shape
  (:func:`reshaped`); ``wrong_shape`` when no other explains a shape (:func:`wrong_shape`);
* ``overwritten_at_branch``: one contribution of a branch instead of their sum
  (:func:`overwritten_at_branch`, with ``branches=[contribution, ...]``);
* ``sign``: the negatives of the right values (:func:`sign_flipped`);
* ``factor_m_large`` / ``factor_m_small``: off by the batch size m (:func:`factor_m_large`,
  :func:`factor_m_small`); ``factor_2_large`` / ``factor_2_small``: off by 2 (the 1/2 of the
  squared error, a path counted twice: :func:`factor_2_large`, :func:`factor_2_small`);
* ``activation_for_derivative``: the activation where its derivative belongs
  (:func:`activation_for_derivative`, with ``activation=(f, fprime, z)``);
* ``one_example_bias``: the bias gradient of one example of the batch
  (:func:`one_example_bias`, with ``per_example``).

Before values are compared, a result that is not finite, None (a forgotten ``return``) or not
numbers at all fails with its own ``problem`` (see :class:`CheckFailure`), and so does one held
in a float type smaller than float64 (``"wrong_dtype"``, whatever its values); a wrong result of
integers where the right values have digits after the point fails as ``"wrong_dtype"`` too, the
integers named as the cause. :func:`check_dtype` asks for float64 whatever the values, in the
same words.

:func:`call_student` runs a student's function and turns "not written yet" into a plain message;
with ``forbid=("course.graph",)`` it also fails when the function ran any code of the package
part that the exercise asks the student to write (see :func:`own_work` for how, and its limits).
:func:`numeric_gradient_check` compares with centred finite differences in float64.

:class:`Points` gives each group of checks within one test cell its own points, so one slip
costs its group's points, not the whole cell's (nbgrader reads the number a test cell ends with
as its partial credit). It only counts: it computes nothing that is graded.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any, NamedTuple

import numpy as np

# course.gradcheck is imported by the functions that use it, not here: a problem set's grading
# may hide it from the student's kernel, where this module must still import

__all__ = [
    "ALWAYS_FORBIDDEN",
    "Diagnosis",
    "CheckFailure",
    "check_array",
    "check_tuple",
    "check_gradients",
    "check_dtype",
    "dtype_diagnosis",
    "numeric_gradient_check",
    "diagnose",
    "diagnoses",
    "recognised",
    "Answers",
    "call_student",
    "own_work",
    "Points",
    # the detectors, in the order diagnoses() runs them
    "known_mistakes",
    "transposed",
    "not_summed_over_batch",
    "reshaped",
    "wrong_shape",
    "overwritten_at_branch",
    "sign_flipped",
    "factor_m_large",
    "factor_m_small",
    "factor_2_large",
    "factor_2_small",
    "activation_for_derivative",
    "one_example_bias",
]

Activation = tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray], Any]

#: what no graded part of any problem set may use, beside the course modules each one names:
#: the lessons' exercises (references and worked solutions) and the installed libraries that
#: differentiate or compute activations, losses or whole networks. A support module writes
#: ``FORBID = ("course.mlp", ..., *checks.ALWAYS_FORBIDDEN)``; the grader reads that form
#: without importing the support module (``autograder.box.declared_rules``).
ALWAYS_FORBIDDEN = (
    "course.exercises",
    "micrograd",
    "torch",
    "jax",
    "autograd",
    "tensorflow",
    "keras",
    "sklearn",
    "scipy",
    "sympy",
    "mpmath",
)
SHOW_ENTRIES = 3  # how many of the worst entries a message lists
OWN_WORK_MESSAGE = "this part must be computed by your own code, not {module}"
SWITCHED_OFF = "switched off the check that this part is your own work"
RTOL, ATOL = 1e-6, 1e-9  # the default tolerances: |got - expected| <= ATOL + RTOL |expected|


# -- what a check finds -------------------------------------------------------------------------


@dataclass(frozen=True)
class Diagnosis:
    """A usual mistake that explains a wrong answer.

    ``kind`` is a short name that stays the same whatever the wording (``"transpose"``,
    ``"factor_m_large"``, ...: see the module doc), for the grader's records; ``message`` is the
    explanation for the student, shown after "Likely bug:".
    """

    kind: str
    message: str


#: the mistakes a caller knows about: the wrong answer each one gives, keyed by its explanation
#: (kind ``"known_mistake"``) or by a :class:`Diagnosis`
Mistakes = Mapping[str | Diagnosis, Any]


class CheckFailure(AssertionError):
    """A failed check: ``str(exc)`` is the message for the student, and the same facts as data.

    ``name``: what was checked (``"dW2"``, ``"gradient for 'W1'"``, a part or a function);
    ``problem``: the kind of failure, one of ``"wrong_values"``, ``"wrong_shape"``,
    ``"wrong_dtype"``, ``"not_finite"``, ``"returned_none"``, ``"wrong_type"``, ``"wrong_count"``
    (a tuple of the wrong length), ``"missing_keys"``, ``"not_written"``, ``"not_a_function"``,
    ``"own_work"``, ``"own_work_switched_off"`` (and those of the problem sets' own checks);
    ``diagnoses``: the mistakes recognised, the likeliest first; ``parts``: for a check of
    several results (:func:`check_gradients`), the failure of each wrong one.

    The class shows itself as ``AssertionError`` (its ``__name__``): what a student reads, in
    the kernel's traceback and in nbgrader's feedback, stays the same as a plain ``assert``.
    """

    def __init__(
        self,
        message: str,
        *,
        name: str = "",
        problem: str = "wrong_values",
        diagnoses: Sequence[Diagnosis] = (),
        parts: Sequence[CheckFailure] = (),
    ) -> None:
        super().__init__(message)
        self.name = name
        self.problem = problem
        self.diagnoses: tuple[Diagnosis, ...] = tuple(diagnoses)
        self.parts: tuple[CheckFailure, ...] = tuple(parts)


CheckFailure.__name__ = "AssertionError"  # see the class doc (its __qualname__ stays its own)


# -- turning what a student returned into an array -------------------------------------------


def _type_name(x: object) -> str:
    return type(x).__name__


def _as_array(name: str, got: object) -> np.ndarray:
    """``got`` as a float64 array, or a CheckFailure that says what was returned instead."""

    def fail(message: str, problem: str = "wrong_type") -> CheckFailure:
        return CheckFailure(message, name=name, problem=problem)

    if got is None:
        raise fail(
            f"Your function returned None for {name}. Did you forget `return`? "
            "(A Python function without a return statement returns None.)",
            "returned_none",
        )
    if type(got).__name__ == "Value" and hasattr(got, "data") and hasattr(got, "grad"):
        raise fail(
            f"{name} should be a number, but you returned a Value object (a graph node). "
            "Return the number itself: its .data or its .grad."
        )
    if isinstance(got, (str, bytes, dict, set)) or isinstance(got, (bool, np.bool_)):
        raise fail(
            f"{name} should be a number or a numpy array of numbers, but you returned "
            f"a {_type_name(got)}: {_short(got)}"
        )
    if callable(got):
        raise fail(
            f"{name} should be a number or an array, but you returned a function "
            f"({getattr(got, '__name__', _type_name(got))}). Did you forget the () to call it?"
        )
    try:
        arr = np.asarray(got)
    except (TypeError, ValueError) as exc:  # ragged lists and the like
        raise fail(
            f"{name} should be a number or a numpy array of numbers, but what you returned "
            f"cannot be read as one ({_type_name(got)}: {exc})"
        ) from None
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        kind = "complex numbers" if arr.dtype.kind == "c" else f"{_type_name(got)} ({arr.dtype})"
        raise fail(f"{name} should hold real numbers, but you returned {kind}: {_short(got)}")
    if arr.dtype.kind == "b":
        raise fail(f"{name} should hold numbers, but you returned True/False values: {_short(got)}")
    return arr.astype(np.float64)


def _short(x: object, limit: int = 80) -> str:
    text = repr(x)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def _index(idx: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(i) for i in idx) + "]"


def _pair(expected: float, got: float) -> tuple[str, str]:
    """Two numbers printed with 6 significant digits, or with as many more as it takes to show
    that they differ (a report never prints two different numbers the same)."""
    for digits in range(6, 18):
        a, b = f"{expected:.{digits}g}", f"{got:.{digits}g}"
        if a != b:
            break
    return a, b


# -- the type of the numbers ----------------------------------------------------------------------
#
# Results are compared in float64. A result held in a smaller float type (float32, float16) has
# lost digits before it is compared, so whether it passes would depend on the data: it fails
# at once, whatever its values, and the message says the type is the problem. A result of
# integers is fine when the right values are whole numbers (``mul_backward(3, -2, 2)`` may
# return ints); when they are not, the integers are the problem, and the message says that
# rather than only "expected 0.8, got 0". Every problem set words these failures the same way
# (:func:`check_dtype`).

LOW_PRECISION = (
    "numbers of type {dtype} keep only about {digits} significant digits, too few for these "
    "checks: compute in float64 and do not convert to a smaller type (look for "
    "np.float32(...), .astype(np.float32) or dtype=np.float32)."
)
INTEGERS = (
    "an integer has no digits after the point, so they were cut off: compute with floats "
    "(look for int(...), a floor division //, or an array made to hold integers, such as "
    "np.zeros(n, dtype=int) or np.array([0, 0]))."
)


def _number_type(got: object) -> np.dtype:
    """The dtype of the numbers in ``got`` (which :func:`_as_array` accepted)."""
    return np.asarray(got).dtype


def _type_words(got: object, dtype: np.dtype) -> str:
    """``int`` for Python integers, else the dtype's name (``int64``, ``float32``)."""
    if dtype.kind in "iu" and not isinstance(got, (np.ndarray, np.generic)):
        return "int"
    return dtype.name


def _dtype_head(name: str, type_words: str, context: str | None, like: str = "") -> str:
    where = f" ({context})" if context else ""
    return f"Your {name} returns numbers of type {type_words}{where}; return float64{like}."


def dtype_diagnosis(dtype: np.dtype | str, how: str | None = None) -> Diagnosis:
    """The explanation of a result held in numbers of the wrong type (kind ``"wrong_dtype"``);
    ``how`` replaces the usual advice."""
    dtype = np.dtype(dtype)
    if how is None:
        if dtype.kind == "f":
            digits = {2: 3, 4: 7}.get(dtype.itemsize, 15)
            how = LOW_PRECISION.format(dtype=dtype.name, digits=digits)
        else:
            how = INTEGERS
    return Diagnosis("wrong_dtype", how)


def _low_precision(name: str, got: object, context: str | None, like: str = "") -> _Mismatch | None:
    """A result in a float type smaller than float64: a mismatch whatever its values."""
    dtype = _number_type(got)
    if dtype.kind != "f" or dtype.itemsize >= 8:
        return None
    head = _dtype_head(name, _type_words(got, dtype), context, like)
    return _Mismatch("wrong_dtype", head, [dtype_diagnosis(dtype)])


def _integers(
    name: str,
    got: object,
    arr: np.ndarray,
    expected: np.ndarray,
    rtol: float,
    atol: float | None,
    context: str | None,
    *,
    ref: str = "expected",
) -> _Mismatch | None:
    """A wrong result of integers where some right value is not a whole number: the integers
    are the problem (None when the type does not explain it)."""
    dtype = _number_type(got)
    if dtype.kind not in "iu" or arr.shape != expected.shape:
        return None
    tol = (atol or 0.0) + rtol * np.abs(expected)
    fractional = np.abs(expected - np.round(expected)) > tol
    wrong = ~(np.abs(arr - expected) <= tol)
    if not np.any(fractional & wrong):
        return None
    head = _dtype_head(name, _type_words(got, dtype), context)
    facts = "\n".join([head, *_numbers(arr, expected, rtol, atol, ref=ref)])
    return _Mismatch("wrong_dtype", facts, [dtype_diagnosis(dtype)])


def check_dtype(
    name: str,
    got: object,
    *,
    context: str | None = None,
    like: str = "",
    integers: str | None = None,
) -> None:
    """Fail unless ``got`` holds float64 numbers (for a problem set that asks for float64 even
    when the values are whole numbers). ``like`` ends the first sentence (``", like z"``);
    ``integers`` replaces the usual advice for integers. Same words as the checks of values."""
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    _as_array(name, got)
    dtype = _number_type(got)
    if dtype == np.float64:
        return
    head = _dtype_head(name, _type_words(got, dtype), context, like)
    found = [dtype_diagnosis(dtype, integers if dtype.kind in "iu" else None)]
    raise CheckFailure(head + _likely(found), name=name, problem="wrong_dtype", diagnoses=found)


# -- recognising the usual mistakes: one detector each --------------------------------------------
#
# A detector takes the float64 arrays ``got`` and ``expected`` (and what its mistake needs, None
# when the caller did not give it) and returns a Diagnosis if ``got`` is what that mistake
# gives, else None. A wrong answer counts only if it really differs from ``expected`` (at
# x = 0, -x is no diagnosis).


def _close(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _candidate(
    got: np.ndarray, expected: np.ndarray, candidate: np.ndarray, rtol: float, atol: float
) -> bool:
    """True if ``got`` matches ``candidate`` and ``candidate`` really differs from ``expected``."""
    return _close(got, candidate, rtol, atol) and not _close(candidate, expected, rtol, atol)


def transposed(
    got: np.ndarray, expected: np.ndarray, *, rtol: float = RTOL, atol: float = ATOL
) -> Diagnosis | None:
    """``got.T`` is right: the order of a matrix product, or a missing ``.T``."""
    if got.shape != expected.shape:
        if got.shape == expected.T.shape and _close(got.T, expected, rtol, atol):
            return Diagnosis(
                "transpose",
                f"your result is the transpose of the right one: you returned shape {got.shape} "
                f"where {expected.shape} is expected. Check the order of a matrix product "
                "(A @ B versus B @ A, or a missing .T).",
            )
    elif expected.ndim == 2 and expected.shape[0] == expected.shape[1]:
        if _candidate(got, expected, expected.T, rtol, atol):
            return Diagnosis(
                "transpose",
                "your result is the transpose of the right one (got.T would be correct). Check "
                "the order of a matrix product (A @ B versus B @ A, or a missing .T).",
            )
    return None


def not_summed_over_batch(
    got: np.ndarray, expected: np.ndarray, *, rtol: float = RTOL, atol: float = ATOL
) -> Diagnosis | None:
    """A bias gradient ``(n, 1)`` returned with one column per example, ``(n, m)``."""
    if not (expected.ndim == 2 and expected.shape[1] == 1 and got.ndim == 2):
        return None
    if got.shape[0] != expected.shape[0] or got.shape[1] <= 1:
        return None
    how = ""
    if _close(got.sum(axis=1, keepdims=True), expected, rtol, atol):
        how = " Summed over the batch, your numbers would be right."
    return Diagnosis(
        "not_summed_over_batch",
        "the bias gradient was not summed over the batch: it has one column per "
        f"example, shape {got.shape}, where {expected.shape} is expected. A bias is "
        "shared by all the examples, so its gradient adds up their contributions into one "
        f"column.{how}",
    )


def reshaped(
    got: np.ndarray, expected: np.ndarray, *, rtol: float = RTOL, atol: float = ATOL
) -> Diagnosis | None:
    """The right numbers in another shape (a column flattened, a sum without keepdims)."""
    if got.shape == expected.shape or got.size != expected.size:
        return None
    if not _close(got.reshape(expected.shape), expected, rtol, atol):
        return None
    return Diagnosis(
        "reshape",
        f"the numbers are right but the shape is not: you returned {got.shape}, "
        f"expected {expected.shape}. Keep the shape of the variable (for a column, use "
        "keepdims=True in sums or .reshape(-1, 1)).",
    )


def wrong_shape(got: np.ndarray, expected: np.ndarray) -> Diagnosis | None:
    """A shape that differs, with no better explanation (:func:`diagnoses` asks last)."""
    if got.shape == expected.shape:
        return None
    return Diagnosis(
        "wrong_shape",
        f"wrong shape: expected {expected.shape}, got {got.shape}. A gradient always has "
        "the same shape as the variable it belongs to.",
    )


def overwritten_at_branch(
    got: np.ndarray,
    expected: np.ndarray,
    branches: Sequence[Any] | Mapping[str, Any] | None,
    *,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> Diagnosis | None:
    """One contribution of a branch where their sum belongs (``grad =`` for ``grad +=``).

    ``branches`` are the contributions whose sum is the right gradient, one per edge; a dict
    names them, e.g. ``{"from q": 16.0, "from s": -4.0}``.
    """
    if branches is None or len(branches) < 2:
        return None
    if isinstance(branches, Mapping):
        labels, values = list(branches), list(branches.values())
    else:
        labels = [f"number {k + 1}" for k in range(len(branches))]
        values = list(branches)
    n = len(values)
    for label, part in zip(labels, values):
        part = np.asarray(part, dtype=np.float64)
        if part.shape == got.shape and _candidate(got, expected, part, rtol, atol):
            return Diagnosis(
                "overwritten_at_branch",
                "gradients overwritten instead of added at a branch: this variable feeds "
                f"{n} edges of the graph, so its gradient is the sum of {n} contributions "
                f"({', '.join(labels)}), but yours equals only one of them ({label}). Add "
                "each contribution (grad += ...) instead of replacing it (grad = ...).",
            )
    return None


def sign_flipped(
    got: np.ndarray, expected: np.ndarray, *, rtol: float = RTOL, atol: float = ATOL
) -> Diagnosis | None:
    """``-expected``: a subtraction the wrong way round, a lost minus sign."""
    if not _candidate(got, expected, -expected, rtol, atol):
        return None
    return Diagnosis(
        "sign",
        "the sign is flipped: your values are the negatives of the right ones. Check a "
        "subtraction (yhat - t versus t - yhat), a minus sign in a derivative, or an "
        "update direction.",
    )


def factor_m_large(
    got: np.ndarray, expected: np.ndarray, m: int | None, *, rtol: float = RTOL, atol: float = ATOL
) -> Diagnosis | None:
    """``m * expected``: summed over the batch of ``m`` examples, not averaged."""
    if m is None or m <= 1 or not _candidate(got, expected, m * expected, rtol, atol):
        return None
    return Diagnosis(
        "factor_m_large",
        f"your values are exactly m = {m} times too large: you summed over the m "
        "examples of the batch but did not divide by m (the cost is the mean over "
        "the batch).",
    )


def factor_m_small(
    got: np.ndarray, expected: np.ndarray, m: int | None, *, rtol: float = RTOL, atol: float = ATOL
) -> Diagnosis | None:
    """``expected / m``: divided by the batch size once too often."""
    if m is None or m <= 1 or not _candidate(got, expected, expected / m, rtol, atol):
        return None
    return Diagnosis(
        "factor_m_small",
        f"your values are exactly m = {m} times too small: you divided by the batch "
        "size m once too often (for example in dZ and again in dW), or averaged where "
        "the cost sums.",
    )


def factor_2_large(
    got: np.ndarray, expected: np.ndarray, *, rtol: float = RTOL, atol: float = ATOL
) -> Diagnosis | None:
    """``2 * expected``: the 1/2 of the squared error, or a path counted twice."""
    if not _candidate(got, expected, 2.0 * expected, rtol, atol):
        return None
    return Diagnosis(
        "factor_2_large",
        "your values are exactly 2 times the right ones: a factor of 2 is missing or "
        "extra (the 1/2 in the squared error, the 2 in d(x^2)/dx, or a path counted twice).",
    )


def factor_2_small(
    got: np.ndarray, expected: np.ndarray, *, rtol: float = RTOL, atol: float = ATOL
) -> Diagnosis | None:
    """``expected / 2``: the 2 of d(x^2)/dx, or one of two equal paths left out."""
    if not _candidate(got, expected, 0.5 * expected, rtol, atol):
        return None
    return Diagnosis(
        "factor_2_small",
        "your values are exactly half the right ones: a factor of 2 is missing (the 2 in "
        "d(x^2)/dx, or one of two equal paths left out).",
    )


def activation_for_derivative(
    got: np.ndarray,
    expected: np.ndarray,
    activation: Activation | None,
    *,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> Diagnosis | None:
    """``f(z)`` where ``f'(z)`` belongs, alone or times the upstream gradient.

    ``activation=(f, fprime, z)``; ``expected`` is ``fprime(z)`` or ``upstream * fprime(z)``.
    """
    if activation is None:
        return None
    f, fprime, z = activation
    z = np.asarray(z, dtype=np.float64)
    fz = np.asarray(f(z), dtype=np.float64)
    dz = np.asarray(fprime(z), dtype=np.float64)
    used_f = _candidate(got, expected, fz, rtol, atol)
    if not used_f and fz.shape == expected.shape and np.all(dz != 0):
        used_f = _candidate(got, expected, expected * fz / dz, rtol, atol)
    if not used_f:
        return None
    return Diagnosis(
        "activation_for_derivative",
        "you used the activation f(z) where its derivative f'(z) belongs: backprop "
        "multiplies the upstream gradient by f'(z), the slope, not by the value f(z).",
    )


def one_example_bias(
    got: np.ndarray,
    expected: np.ndarray,
    per_example: Any,
    *,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> Diagnosis | None:
    """A bias gradient ``(n, 1)`` that is one column of ``per_example`` ``(n, m)``, not their
    sum over the batch."""
    if per_example is None or not (expected.ndim == 2 and expected.shape[1] == 1):
        return None
    cols = np.asarray(per_example, dtype=np.float64)
    if cols.ndim != 2 or cols.shape[0] != expected.shape[0]:
        return None
    for j in range(cols.shape[1]):
        if _candidate(got, expected, cols[:, j : j + 1], rtol, atol):
            return Diagnosis(
                "one_example_bias",
                f"your bias gradient equals the contribution of example {j} alone: a bias "
                "is shared by all the examples of the batch, so its gradient collects the "
                "contribution of every one of them, not of one column.",
            )
    return None


def known_mistakes(
    got: np.ndarray,
    expected: np.ndarray,
    mistakes: Mistakes,
    *,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> list[Diagnosis]:
    """The caller's known mistakes whose wrong answer ``got`` is, in the caller's order.

    A key is the explanation (kind ``"known_mistake"``) or a :class:`Diagnosis`.
    """
    found = []
    for key, wrong in mistakes.items():
        wrong = np.asarray(wrong, dtype=np.float64)
        if _candidate(got, expected, wrong, rtol, atol):
            found.append(key if isinstance(key, Diagnosis) else Diagnosis("known_mistake", key))
    return found


def diagnoses(
    got: np.ndarray,
    expected: np.ndarray,
    *,
    rtol: float = RTOL,
    atol: float = ATOL,
    m: int | None = None,
    activation: Activation | None = None,
    branches: Sequence[Any] | Mapping[str, Any] | None = None,
    per_example: Any | None = None,
    mistakes: Mistakes | None = None,
) -> list[Diagnosis]:
    """The usual mistakes that could have given ``got``.

    Both arrays are float64; an empty list means no pattern was recognised. The caller's
    ``mistakes`` come first, and when one of them fits it is the whole explanation: the
    general detectors run only when none does (a known mistake names the cause of a factor 2
    or a sign; a general reading of the same numbers beside it would be a second, spurious
    diagnosis). The other arguments are what some detectors need (see each): ``m`` the batch
    size, ``activation=(f, fprime, z)``, ``branches`` the contributions of a branch,
    ``per_example`` the ``(n, m)`` array whose sum over the batch (axis 1) is a bias gradient
    ``(n, 1)``.
    """
    tol = {"rtol": max(rtol, 1e-9), "atol": atol}
    known = known_mistakes(got, expected, mistakes or {}, **tol)
    if known:
        return _unique(known)
    if got.shape != expected.shape:
        found = _unique(
            [
                transposed(got, expected, **tol),
                not_summed_over_batch(got, expected, **tol),
                reshaped(got, expected, **tol),
            ]
        )
        return found or _unique([wrong_shape(got, expected)])
    return _unique(
        [
            transposed(got, expected, **tol),
            overwritten_at_branch(got, expected, branches, **tol),
            sign_flipped(got, expected, **tol),
            factor_m_large(got, expected, m, **tol),
            factor_m_small(got, expected, m, **tol),
            factor_2_large(got, expected, **tol),
            factor_2_small(got, expected, **tol),
            activation_for_derivative(got, expected, activation, **tol),
            one_example_bias(got, expected, per_example, **tol),
        ]
    )


def _unique(found: Sequence[Diagnosis | None]) -> list[Diagnosis]:
    """The diagnoses found (not None), each explanation once (two known mistakes may give the
    same answer)."""
    out: list[Diagnosis] = []
    for d in found:
        if d is not None and d.message not in [seen.message for seen in out]:
            out.append(d)
    return out


def diagnose(got: np.ndarray, expected: np.ndarray, **options: Any) -> list[str]:
    """The explanations of :func:`diagnoses`, as the student reads them (same arguments)."""
    return [d.message for d in diagnoses(got, expected, **options)]


def recognised(got: object, expected: Any, **options: Any) -> bool:
    """Whether ``got`` is ``expected`` or a wrong answer that :func:`diagnoses` explains (the
    same options), as real numbers: a transpose, a factor ``m``, a sign, a column of the batch,
    one of the caller's known ``mistakes``... A shape that differs and nothing else, or numbers
    no usual mistake gives (zeros, noise), are not recognised.

    A check that credits a part built on the student's earlier parts asks this of every
    result those parts give inside the chain: a slip of an earlier part is credited once, but
    an earlier part that answers its own tests right and something else inside the chain (its
    kernel remembers what ran before) gets no credit, since nothing charges it.
    """
    try:
        value = np.asarray(got, dtype=np.float64)
        want = np.asarray(expected, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return False
    if value.shape == want.shape and np.allclose(value, want, rtol=RTOL, atol=ATOL):
        return True
    if not np.all(np.isfinite(value)):
        return False
    for found in diagnoses(value, want, **options):
        if found.kind == "wrong_shape":
            continue
        if found.kind == "reshape" and want.ndim > 1 and 1 not in want.shape:
            continue  # a column kept flat is a slip; a matrix in any shape would pick the errors
        if found.kind == "not_summed_over_batch" and not _close(
            value.sum(axis=1, keepdims=True), want, RTOL, ATOL
        ):
            continue  # any (n, m) array is "not summed": its sum must be the right gradient
        return True
    return False


# -- the checks ---------------------------------------------------------------------------------


class _Mismatch(NamedTuple):
    """A wrong array: its ``problem``, the report's facts, and the mistakes recognised."""

    problem: str
    facts: str
    diagnoses: list[Diagnosis]


def _likely(found: Sequence[Diagnosis], same: Diagnosis | None = None) -> str:
    """The "Likely bug" lines of a report; ``same``: the one already said above."""
    return "".join(
        "\n  Likely bug: "
        + ("the same as above." if same is not None and d.message == same.message else d.message)
        for d in found
    )


def _facts(
    name: str,
    got: np.ndarray,
    expected: np.ndarray,
    rtol: float,
    atol: float | None,
    context: str | None,
    *,
    verdict: str = "is wrong",
    ref: str = "expected",
) -> str:
    """The first lines of a report on a wrong array: what was wrong, and the numbers."""
    head = f"Your {name} {verdict}" + (f" ({context})." if context else ".")
    return "\n".join([head, *_numbers(got, expected, rtol, atol, ref=ref)])


def _numbers(
    got: np.ndarray, expected: np.ndarray, rtol: float, atol: float | None, *, ref: str
) -> list[str]:
    """The report's numbers: the shapes, the relative error, the entries that are off.

    With ``atol`` the test is entry by entry, ``|got - expected| <= atol + rtol |expected|``,
    and only the entries that fail it are listed (a report never calls right what it calls
    wrong: an overall relative error below ``rtol`` says so, and says which entries are off).
    With ``atol=None`` the test is the relative error itself (finite differences).
    """
    from course.gradcheck import relative_error

    lines = [f"  shape: {ref} {expected.shape}, got {got.shape}"]
    if got.shape == expected.shape:
        err = relative_error(got, expected)
        with np.errstate(invalid="ignore"):
            diff = np.abs(got - expected)
        diff = np.where(np.isfinite(diff), diff, np.inf)
        if atol is None:
            off = diff > 0
        else:
            off = ~(diff <= atol + rtol * np.abs(expected))
        if atol is None or err > rtol:
            lines.append(f"  relative error: {err:.1e} (allowed: about {rtol:.0e})")
        elif expected.size == 1:
            lines.append(
                f"  difference: {diff.item():.1e}, more than allowed ({atol:.0e} + {rtol:.0e} x "
                f"|{ref}| = {atol + rtol * abs(expected.item()):.1e})"
            )
        else:
            count = int(np.sum(off))
            lines.append(
                f"  relative error: {err:.1e} over all entries (allowed: about {rtol:.0e}), but "
                f"{count} of the {off.size} entries {'is' if count == 1 else 'are'} off by "
                f"more than each entry may be, {atol:.0e} + {rtol:.0e} x |{ref}|"
            )
        if expected.ndim == 0:
            want, have = _pair(expected.item(), got.item())
            lines.append(f"  value: {ref} {want}, got {have}")
        else:
            order = np.argsort(-diff, axis=None, kind="stable")
            shown = [int(flat) for flat in order if off.flat[int(flat)]][:SHOW_ENTRIES]
            lines.append("  entries that differ most:")
            for flat in shown:
                idx = tuple(int(i) for i in np.unravel_index(flat, diff.shape))
                want, have = _pair(expected[idx], got[idx])
                lines.append(f"    {_index(idx)}: {ref} {want}, got {have}")
    elif got.size and expected.size:
        lines.append(
            f"  first entries: {ref} "
            + ", ".join(_fmt(v) for v in expected.reshape(-1)[:SHOW_ENTRIES])
            + "; got "
            + ", ".join(_fmt(v) for v in got.reshape(-1)[:SHOW_ENTRIES])
        )
    return lines


def _compare(
    name: str,
    got: object,
    expected: Any,
    *,
    rtol: float,
    atol: float,
    context: str | None,
    **clues: Any,
) -> _Mismatch | None:
    """:func:`check_array` without the raise of a wrong array: None if ``got`` is right.

    What is not an array of finite numbers still raises its CheckFailure.
    """
    __tracebackhide__ = True
    exp = np.asarray(expected, dtype=np.float64)
    arr = _as_array(name, got)
    low = _low_precision(name, got, context)
    if low is not None:
        return low
    if arr.shape == exp.shape and np.all(np.isfinite(exp)) and not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))
        where = "" if arr.ndim == 0 else f" at {_index(tuple(int(i) for i in bad[0]))}"
        kinds = sorted({"nan" if np.isnan(v) else "inf" for v in arr[~np.isfinite(arr)]})
        raise CheckFailure(
            f"Your {name} contains {' and '.join(kinds)}{where}"
            + (f" ({context})" if context else "")
            + ", but every right value is finite. Look for an overflow (exp of a large number), "
            "a division by zero, or log(0).",
            name=name,
            problem="not_finite",
        )
    if arr.shape == exp.shape and np.allclose(arr, exp, rtol=rtol, atol=atol):
        return None
    integers = _integers(name, got, arr, exp, rtol, atol, context)
    if integers is not None:
        return integers
    return _Mismatch(
        "wrong_values" if arr.shape == exp.shape else "wrong_shape",
        _facts(name, arr, exp, rtol, atol, context),
        diagnoses(arr, exp, rtol=rtol, atol=atol, **clues),
    )


def _failure(name: str, found: _Mismatch) -> CheckFailure:
    return CheckFailure(
        found.facts + _likely(found.diagnoses),
        name=name,
        problem=found.problem,
        diagnoses=found.diagnoses,
    )


def check_array(
    name: str,
    got: object,
    expected: Any,
    *,
    rtol: float = RTOL,
    atol: float = ATOL,
    context: str | None = None,
    m: int | None = None,
    activation: Activation | None = None,
    branches: Sequence[Any] | Mapping[str, Any] | None = None,
    per_example: Any | None = None,
    mistakes: Mistakes | None = None,
) -> None:
    """Fail with a teaching message unless ``got`` equals ``expected`` within tolerances.

    ``got`` may be a number, a numpy array or a nested list; it must have ``expected``'s shape
    and every entry must satisfy ``|got - expected| <= atol + rtol |expected|`` (float64).
    The optional arguments let :func:`diagnoses` recognise more mistakes: ``m`` the batch size,
    ``activation=(f, fprime, z)``, ``branches`` the per-path contributions that must be added,
    ``per_example`` the ``(n, m)`` array a bias gradient sums, ``mistakes`` known wrong answers
    keyed by an explanation (or a :class:`Diagnosis`). ``context`` says where the check
    happened (shown in the message). Raises :class:`CheckFailure`, whose ``name`` is ``name``.
    """
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    found = _compare(
        name,
        got,
        expected,
        rtol=rtol,
        atol=atol,
        context=context,
        m=m,
        activation=activation,
        branches=branches,
        per_example=per_example,
        mistakes=mistakes,
    )
    if found is not None:
        raise _failure(name, found)


def _whole_mistake(
    got: Sequence[Any],
    expected: Sequence[Any],
    whole: Mapping[str | Diagnosis, Sequence[Any]],
    rtol: float,
    atol: float,
) -> tuple[str | Diagnosis, Sequence[Any]] | None:
    """The first of ``whole`` (known wrong answers of all the results together) that ``got``
    is, result by result, if any: a mistake that explains every result explains the answer
    better than any reading of one result alone."""
    tol = {"rtol": max(rtol, 1e-9), "atol": atol}
    for key, answer in whole.items():
        differs = False
        for g, e, a in zip(got, expected, answer, strict=True):
            try:
                g = _as_array("", g)
            except CheckFailure:
                break
            a = np.asarray(a, dtype=np.float64)
            if not _close(g, a, **tol):
                break
            differs = differs or not _close(a, np.asarray(e, dtype=np.float64), **tol)
        else:
            if differs:
                return key, answer
    return None


def check_tuple(
    name: str,
    got: object,
    expected: Sequence[Any],
    labels: Sequence[str],
    *,
    mistakes: Sequence[Mistakes | None] | None = None,
    whole_mistakes: Mapping[str | Diagnosis, Sequence[Any]] | None = None,
    **options: Any,
) -> None:
    """Check a function that returns several results, e.g. ``(da, db)``, one by one.

    ``labels`` name the results in order; ``mistakes`` (optional) gives known wrong answers
    per result; ``whole_mistakes`` known wrong answers of all the results together, keyed by
    the explanation: when ``got`` is one of them, that explanation is the only one given (a
    result that matches some other mistake on its own is not misread); the other ``options``
    go to :func:`check_array`.
    """
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    n = len(expected)
    if got is None:
        raise CheckFailure(
            f"{name} returned None. Did you forget `return`? It should return {n} results: "
            f"return {', '.join(labels)}",
            name=name,
            problem="returned_none",
        )
    # np.ndim(got) would try to build one array from the results, which fails when they have
    # different shapes, e.g. (dA_prev, dW, db): test only what a tuple needs
    if not isinstance(got, (tuple, list, np.ndarray)) or (
        isinstance(got, np.ndarray) and got.ndim == 0
    ):
        raise CheckFailure(
            f"{name} should return {n} results ({', '.join(labels)}) as a tuple, but it "
            f"returned a {_type_name(got)}: {_short(got)}",
            name=name,
            problem="wrong_type",
        )
    if len(got) != n:
        raise CheckFailure(
            f"{name} should return {n} results ({', '.join(labels)}), but it returned "
            f"{len(got)}: {_short(got)}",
            name=name,
            problem="wrong_count",
        )
    whole = _whole_mistake(
        got,
        expected,
        whole_mistakes or {},
        options.get("rtol", RTOL),
        options.get("atol", ATOL),
    )
    for k, (label, g, e) in enumerate(zip(labels, got, expected)):
        extra = mistakes[k] if mistakes is not None else None
        if whole is not None:
            extra = {whole[0]: whole[1][k]}
        check_array(f"{label} from {name}", g, e, mistakes=extra, **options)


def _per_name(option: Any, key: str) -> Any:
    if isinstance(option, Mapping):
        return option.get(key)
    return option


def check_gradients(
    got: object,
    expected: Mapping[str, Any],
    *,
    rtol: float = RTOL,
    atol: float = ATOL,
    context: str | None = None,
    m: int | None = None,
    activation: Activation | Mapping[str, Activation] | None = None,
    branches: Mapping[str, Sequence[Any] | Mapping[str, Any]] | None = None,
    per_example: Mapping[str, Any] | None = None,
    mistakes: Mapping[str, Mistakes] | None = None,
    whole_mistakes: Mapping[str | Diagnosis, Mapping[str, Any]] | None = None,
) -> None:
    """Check a dict of gradients ``{name: gradient}`` against the reference, name by name.

    Every key of ``expected`` must be present (extra keys are ignored). All wrong names are
    listed, in ``expected``'s order, and the first few are explained in detail: order
    ``expected`` from the output towards the inputs, so the first wrong one is where the
    mistake starts. ``activation``, ``branches``, ``per_example`` and ``mistakes`` are given per
    name (``activation`` may also be one triple for all); ``m`` applies to all.
    ``whole_mistakes`` are known wrong answers of the whole dict (a name one leaves out has its
    right gradient there), keyed by the explanation: when ``got`` is one of them, that
    explanation is the only one given, for every wrong name.

    The CheckFailure of wrong gradients is that of the first wrong one (its ``name`` and
    ``problem``), with the diagnoses of all (the first one's first) and each one's failure in
    ``parts``.
    """
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    where = f" ({context})" if context else ""
    if got is None:
        raise CheckFailure(
            f"Your function returned None{where}. Did you forget `return`? It should return a "
            "dict that maps each name to its gradient.",
            name="gradients",
            problem="returned_none",
        )
    if not isinstance(got, Mapping):
        raise CheckFailure(
            f"Your function should return a dict {{name: gradient}}{where}, but it returned a "
            f"{_type_name(got)}: {_short(got)}",
            name="gradients",
            problem="wrong_type",
        )
    missing = [k for k in expected if k not in got]
    if missing:
        hint = ""
        if all(not isinstance(k, str) for k in got) and got:
            hint = f" Use the names (strings such as {next(iter(expected))!r}) as the keys."
        raise CheckFailure(
            f"Your dict of gradients has no entry for {', '.join(repr(k) for k in missing)}"
            f"{where}. It should have one for every name: {', '.join(map(repr, expected))}; "
            f"yours has {', '.join(map(repr, list(got)[:10])) or 'none'}.{hint}",
            name="gradients",
            problem="missing_keys",
        )
    wrong: list[tuple[str, str, CheckFailure]] = []  # key, facts, the failure
    keys = list(expected)
    wholes = {
        explanation: [answer.get(k, expected[k]) for k in keys]
        for explanation, answer in (whole_mistakes or {}).items()
    }
    whole = _whole_mistake([got[k] for k in keys], [expected[k] for k in keys], wholes, rtol, atol)
    for k, (key, exp) in enumerate(expected.items()):
        name = f"gradient for {key!r}"
        try:
            found = _compare(
                name,
                got[key],
                exp,
                rtol=rtol,
                atol=atol,
                context=None,
                m=m,
                activation=_per_name(activation, key),
                branches=(branches or {}).get(key),
                per_example=(per_example or {}).get(key),
                mistakes=(mistakes or {}).get(key) if whole is None else {whole[0]: whole[1][k]},
            )
        except CheckFailure as exc:  # not an array of finite numbers: its message, no diagnoses
            wrong.append((key, str(exc), exc))
            continue
        if found is not None:
            wrong.append((key, found.facts, _failure(name, found)))
    if not wrong:
        return
    names = ", ".join(repr(key) for key, _, _ in wrong)
    # numbers of the wrong type are the type's fault, not one gradient's passed on to the next
    types = all(part.problem == "wrong_dtype" for _, _, part in wrong)
    what = "hold numbers of the wrong type" if types else "are wrong"
    lines = [f"{len(wrong)} of {len(expected)} gradients {what}{where}: {names}."]
    summary = next((part.diagnoses[0] for _, _, part in wrong if part.diagnoses), None)
    if summary is not None:
        lines.append(f"Likely bug: {summary.message}")
    shown = wrong[:SHOW_ENTRIES]
    for _, facts, part in shown:
        lines.append("")
        lines.append(facts + _likely(part.diagnoses, same=summary))
    if len(wrong) > len(shown):
        lines.append("")
        lines.append(
            f"({len(wrong) - len(shown)} more {what}"
            + (
                " too.)"
                if types
                else ". A wrong gradient makes every gradient computed from it wrong too, so "
                "fix the first one first.)"
            )
        )
    parts = [part for _, _, part in wrong]
    raise CheckFailure(
        "\n".join(lines),
        name=parts[0].name,
        problem=parts[0].problem,
        diagnoses=_unique([d for part in parts for d in part.diagnoses]),
        parts=parts,
    )


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
    :func:`diagnoses` (``m``, ``activation``, ``branches``, ...).
    """
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    from course.gradcheck import numerical_gradient, relative_error

    scalar = np.ndim(x) == 0
    x64 = np.array(x, dtype=np.float64).reshape(-1 if scalar else np.shape(x))
    if scalar:
        numeric = numerical_gradient(lambda: float(f(float(x64[0]))), x64, h).reshape(())
    else:
        numeric = numerical_gradient(lambda: float(f(x64)), x64, h)
    arr = _as_array(name, analytic)
    low = _low_precision(name, analytic, context)
    if low is not None:
        raise _failure(name, low)
    if arr.shape != numeric.shape:
        check_array(name, arr, numeric, context=context, **options)  # explains the shape
    if not np.all(np.isfinite(arr)):
        check_array(name, arr, numeric, context=context, **options)  # explains nan / inf
    err = relative_error(arr, numeric)
    if err < tol or np.all(np.abs(arr - numeric) <= atol):
        return err
    integers = _integers(name, analytic, arr, numeric, tol, None, context, ref="numeric")
    if integers is not None:
        raise _failure(name, integers)
    found = diagnoses(arr, numeric, rtol=max(tol, 1e-5), atol=max(atol, 1e-7), **options)
    facts = _facts(
        name,
        arr,
        numeric,
        tol,
        None,
        context,
        verdict="does not match centred finite differences",
        ref="numeric",
    )
    raise CheckFailure(facts + _likely(found), name=name, problem="wrong_values", diagnoses=found)


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
    """Fail after the block if any Python function of the ``forbid`` modules ran inside it
    (a :class:`CheckFailure` with problem ``"own_work"``, and ``name`` the ``part``).

    Used by :func:`call_student` so that an exercise on, say, the backward sweep cannot be
    answered by calling ``course.graph``. It installs a profile hook (``sys.setprofile``) that
    records every call into the modules' source files, whatever name or alias the student used.

    ``forbid`` holds module or package names (a package covers every file in its folder); names
    that are not installed are skipped, and nothing is imported to find them.

    Limits: it sees only Python code run in this thread (not C extensions called directly); it
    does not see code that the student copied into the notebook, libraries that are not in
    ``forbid``, or results computed before the block. A block that removes or replaces the hook
    fails too (``"own_work_switched_off"``). The rest is for a human grader to notice.
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
        raise CheckFailure(
            f"{what}your function {SWITCHED_OFF} (sys.setprofile), so this part earns no credit.",
            name=part or "",
            problem="own_work_switched_off",
        )
    if used:
        module, function = used[0]
        what = f"{part}: " if part else ""
        raise CheckFailure(
            f"{what}{OWN_WORK_MESSAGE.format(module=module)}. Your function called "
            f"{function} from {module}. Such packages are there to check your answers; this "
            "exercise asks you to write the computation yourself, so an answer that lets a "
            "package do it earns no credit for this part.",
            name=part or "",
            problem="own_work",
        )


def call_student(
    func: Callable[..., Any],
    *args: Any,
    part: str | None = None,
    forbid: Sequence[str | ModuleType] = (),
    **kwargs: Any,
) -> Any:
    """Call a student's function and return its result, with plain messages for the usual trouble.

    * not a function (the cell defining it was not run, or the name was reused): explained
      (a :class:`CheckFailure`, problem ``"not_a_function"``);
    * still raises ``NotImplementedError`` (the unanswered stub): "you have not written ... yet"
      (``"not_written"``);
    * ``forbid`` names modules the function may not use (see :func:`own_work`).

    Any other exception propagates unchanged, so the student sees their own traceback.
    """
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    name = getattr(func, "__name__", _type_name(func))
    if not callable(func):
        raise CheckFailure(
            f"{name} should be a function, but it is a {_type_name(func)}. Run the cell that "
            "defines it, and do not reuse its name for a variable.",
            name=name,
            problem="not_a_function",
        )
    try:
        with own_work(part, forbid):
            return func(*args, **kwargs)
    except NotImplementedError as exc:
        # where it was raised: the last frame, or (when the grader called the function in the
        # student's kernel) the name the kernel reported
        inner = getattr(exc, "innermost", None)
        tb = exc.__traceback__
        while inner is None and tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        if inner is None:
            inner = tb.tb_frame.f_code.co_name if tb is not None else name
        which = name if inner in (name, "<module>", "<lambda>") else f"{inner} (used by {name})"
        raise CheckFailure(
            f"You have not written {which} yet: it still raises NotImplementedError. Replace "
            "the line `raise NotImplementedError()` with your code and run the cell again.",
            name=name,
            problem="not_written",
        ) from None


# -- a student's answers, collected before a check may reveal anything --------------------------


class Answers:
    """A student's answers to several calls of one function, all made at once, before any check
    uses them: ``call(key)`` calls the function for one key (a weight decay, say).

    A check that credits a later part on the student's earlier functions chains those functions
    itself, and so sends into the kernel the intermediate values of the case (the hidden
    layer's output, the gradients between layers). A later call of the student's function on
    the same case could replay them, so every answer the checks of a case will compare is
    asked for first. :meth:`result` gives an answer, or raises the error the call raised.
    """

    def __init__(self, func: Callable, call: Callable[[Any], Any], keys: Sequence[Any]) -> None:
        self.func = func
        self._got: dict[Any, tuple[Any, BaseException | None]] = {}
        for key in keys:
            try:
                self._got[key] = (call(key), None)
            except Exception as exc:  # noqa: BLE001 (kept: the check that asks for it raises it)
                if type(exc).__name__ == "KernelGone":
                    raise
                self._got[key] = (None, exc)

    def __contains__(self, key: Any) -> bool:
        return key in self._got

    def result(self, key: Any) -> Any:
        """The answer for ``key``; the error its call raised, raised again."""
        __tracebackhide__ = True
        if key not in self._got:
            raise KeyError(
                f"no answer was collected for {key!r}: collect every key a case's checks use "
                f"(collected: {sorted(self._got, key=repr)})"
            )
        got, raised = self._got[key]
        if raised is not None:
            raise raised
        return got


# -- points per group of checks within a test cell ----------------------------------------------


class Points:
    """Partial credit within one test cell: each group of checks has its own points.

    ::

        points = checks.Points()
        with points.group("affine_forward", 1):
            support.check_affine_forward(affine_forward, A_prev, W, b)
        ...
        points.total()   # the cell's last line

    A group whose checks all pass earns its points; a failed check costs its group's points
    only, and its message is printed at once (a group loses its points once, and says so once).
    :meth:`total` returns nothing when every group passed (nbgrader then gives the whole cell's
    points), the points earned as a number when some failed (nbgrader's partial credit), and
    raises the first failure when none earned anything. Groups may continue in the hidden part
    of the cell: a hidden failure costs its group too. The grader's ``KernelGone`` (the student's
    kernel died) is never a group's failure: it goes on up, and the grader handles it.
    """

    def __init__(self) -> None:
        self.points: dict[str, float] = {}
        self.failed: dict[str, BaseException] = {}

    @contextmanager
    def group(self, name: str, points: float) -> Iterator[None]:
        """A group of checks worth ``points``: the ``with`` block is its checks."""
        self.points.setdefault(name, float(points))
        try:
            yield
        except Exception as exc:
            if type(exc).__name__ == "KernelGone":  # the grader's: the test cannot go on
                raise
            if name not in self.failed:  # a group loses its points once, said once
                self.failed[name] = exc
                print(f"[{name}: 0 of {self.points[name]:g} points]\n{_failure_text(exc)}\n")

    def passes(self, what: str) -> None:
        """Say whether every check so far passed (the visible tests end with it)."""
        if self.failed:
            lost = ", ".join(self.failed)
            print(f"{what}: some visible tests fail ({lost}); their messages are above.")
        else:
            print(f"{what}: every visible test passes.")

    def earned(self) -> float:
        """The points of the groups that passed so far."""
        return sum(p for name, p in self.points.items() if name not in self.failed)

    def total(self) -> float | None:
        """The cell's verdict (its last line): None when every group passed, the points earned
        when some did, the first failure raised when none did."""
        __tracebackhide__ = True
        if not self.failed:
            return None
        earned, whole = self.earned(), sum(self.points.values())
        lines = [
            f"  {name}: {0 if name in self.failed else p:g} of {p:g}"
            for name, p in self.points.items()
        ]
        if earned > 0:
            print(f"Points of this test: {earned:g} of {whole:g}\n" + "\n".join(lines))
            return float(earned)
        first = next(iter(self.failed.values()))
        raise CheckFailure(
            f"No check of this test passed (0 of {whole:g} points); the first failure:\n"
            f"{_failure_text(first)}",
            name=getattr(first, "name", ""),
            problem=getattr(first, "problem", "wrong_values"),
            diagnoses=getattr(first, "diagnoses", ()),
        )


def _failure_text(exc: BaseException) -> str:
    """A failure in the student's words: a check's message, or the error their code raised."""
    if isinstance(exc, AssertionError):
        return str(exc)
    return f"Your code raised {type(exc).__name__}: {exc}"
