"""Gradient checking: centred finite differences, relative error, and the worst entry.

A backward rule is trusted only when it agrees with the numbers. For a scalar function ``f``

    df/dx_i  ~  (f(x + h e_i) - f(x - h e_i)) / (2 h)

with an error of order ``h^2`` (plus rounding of order ``eps / h``). In float64 with
``h = 1e-5`` the two agree to about 1e-9 relative error for smooth functions; a relative
error above 1e-6 means a bug. The relative error compares whole arrays,
``||a - n|| / max(||a|| + ||n||, tiny)``, so entries that are nearly zero do not blow it up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from course.arguments import array, instance, real

__all__ = [
    "numerical_gradient",
    "numerical_gradients",
    "numerical_jacobian",
    "relative_error",
    "GradReport",
    "compare",
    "check_gradients",
]


def _check_f_x_h(f: Any, x: Any, h: Any, caller: str, f_name: str = "f") -> None:
    instance(f_name, f, Callable, what="a function to differentiate", caller=caller)
    what = "a float64 numpy array to nudge in place"
    fix = "convert it with x = np.asarray(x, dtype=np.float64)"
    instance("x", x, np.ndarray, what=what, fix=fix, caller=caller)
    if x.dtype != np.float64:
        raise TypeError(f"{caller}: x must be {what}, got an array of dtype {x.dtype}: {fix}")
    real("h", h, greater_than=0, example=1e-5, caller=caller)


def _check_dicts(params: Any, grads: Any, caller: str) -> None:
    """``params`` (and ``grads``, unless None) are dicts; ``grads`` has every key of ``params``."""
    fix = "pass a dict of numpy arrays such as {'W1': W1, 'b1': b1}"
    instance("params", params, Mapping, what="a dict of arrays", fix=fix, caller=caller)
    if grads is None:
        return
    instance("grads", grads, Mapping, what="a dict of arrays", fix=fix, caller=caller)
    missing = sorted(set(params) - set(grads), key=str)
    if missing:
        raise ValueError(
            f"{caller}: grads has no entry for {missing}: pass one gradient per key of params"
        )


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Centred-difference gradient of ``f()`` with respect to the array ``x``, same shape.

    ``f`` takes no arguments and reads ``x`` (a float64 array, changed in place entry by entry
    and restored before returning), so it can check a parameter inside a network:
    ``numerical_gradient(lambda: net.loss(X, Y), net.params["W1"])``.
    """
    _check_f_x_h(f, x, h, "numerical_gradient")
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat, x):
        raise ValueError("x must be a contiguous array so it can be nudged in place")
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        f_plus = f()
        flat[i] = old - h
        f_minus = f()
        flat[i] = old
        gflat[i] = (f_plus - f_minus) / (2.0 * h)
    return grad


def numerical_jacobian(
    F: Callable[[np.ndarray], np.ndarray], x: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Centred-difference Jacobian of a vector function ``F`` at the float64 array ``x``.

    Numerator layout: shape ``(number of outputs, number of inputs)``, row ``i`` is the gradient
    of ``F(x).ravel()[i]`` with respect to ``x.ravel()``. ``x`` is nudged in place and restored.
    """
    _check_f_x_h(F, x, h, "numerical_jacobian", f_name="F")
    n_out = np.asarray(F(x)).size
    rows = [
        numerical_gradient(lambda i=i: float(np.ravel(F(x))[i]), x, h).ravel() for i in range(n_out)
    ]
    return np.vstack(rows) if rows else np.zeros((0, x.size))


def numerical_gradients(
    f: Callable[[], float], params: Mapping[str, np.ndarray], h: float = 1e-5
) -> dict[str, np.ndarray]:
    """:func:`numerical_gradient` for every array of a params dict (same keys and shapes)."""
    _check_dicts(params, None, "numerical_gradients")
    real("h", h, greater_than=0, example=1e-5, caller="numerical_gradients")
    return {k: numerical_gradient(f, v, h) for k, v in params.items()}


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """``||a - b|| / max(||a|| + ||b||, 1e-300)`` (0 when both are zero)."""
    a = array("a", a, finite=False, dtype=np.float64, caller="relative_error")
    b = array("b", b, finite=False, dtype=np.float64, caller="relative_error")
    if a.shape != b.shape:
        raise ValueError(
            f"relative_error: cannot compare arrays of shapes {a.shape} and {b.shape}: "
            "pass a and b of the same shape"
        )
    num = np.linalg.norm(a - b)
    den = np.linalg.norm(a) + np.linalg.norm(b)
    return float(num / den) if den > 0 else 0.0


@dataclass(frozen=True)
class GradReport:
    """The result of comparing an analytic gradient with a numerical one."""

    name: str
    rel_error: float
    worst_index: tuple[int, ...]
    analytic: float
    numeric: float

    def ok(self, tol: float = 1e-7) -> bool:
        """Whether the relative error is below ``tol``."""
        return self.rel_error < real("tol", tol, greater_than=0, example=1e-7)

    def __str__(self) -> str:
        return (
            f"{self.name}: relative error {self.rel_error:.2e}; worst entry "
            f"{self.worst_index}: analytic {self.analytic:.8g} vs numeric {self.numeric:.8g}"
        )


def compare(name: str, analytic: np.ndarray, numeric: np.ndarray) -> GradReport:
    """A :class:`GradReport` for one array: relative error and the entry that differs most."""
    instance("name", name, str, what="a string such as 'W1'", caller="compare")
    analytic = array("analytic", analytic, finite=False, dtype=np.float64, caller="compare")
    numeric = array("numeric", numeric, finite=False, dtype=np.float64, caller="compare")
    if analytic.shape != numeric.shape:
        raise ValueError(
            f"gradient of {name} has shape {analytic.shape} but the parameter has shape "
            f"{numeric.shape}: a gradient always has its variable's shape"
        )
    diff = np.abs(analytic - numeric)
    idx = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.size else ()
    idx = tuple(int(i) for i in idx)
    return GradReport(
        name,
        relative_error(analytic, numeric),
        idx,
        float(analytic[idx]) if diff.size else 0.0,
        float(numeric[idx]) if diff.size else 0.0,
    )


def check_gradients(
    f: Callable[[], float],
    params: Mapping[str, np.ndarray],
    grads: Mapping[str, np.ndarray],
    h: float = 1e-5,
) -> dict[str, GradReport]:
    """Compare analytic ``grads`` with centred differences of ``f()`` for every parameter.

    Returns one :class:`GradReport` per key; ``str(report)`` reads like
    ``W1: relative error 3.1e-10; worst entry (2, 0): analytic 0.0123 vs numeric 0.0123``.
    """
    _check_dicts(params, grads, "check_gradients")
    numeric = numerical_gradients(f, params, h)
    return {k: compare(k, grads[k], numeric[k]) for k in params}
