"""Activation functions and their derivatives (the lectures' sigmoid, tanh, ReLU family, softmax).

Each hidden activation ``f`` acts element-wise on a pre-activation array ``Z`` of any shape
(usually ``(n_l, m)``) and comes with its derivative ``f'``. The derivative takes both ``Z`` and
the already computed ``A = f(Z)``, so that backprop reuses the forward cache instead of
recomputing: the sigmoid's ``f' = A(1 - A)`` and tanh's ``f' = 1 - A^2`` are the slides'
"implementation note".

Everything is numerically stable for large inputs (tested up to ``|z| = 1e4``): no overflow
warnings, no NaN.

Kinks are resolved the way most libraries do: ``relu'(0) = 0`` and ``leaky_relu'(0) = alpha``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from course.arguments import choice

__all__ = [
    "Activation",
    "ACTIVATIONS",
    "get_activation",
    "identity",
    "identity_prime",
    "sigmoid",
    "sigmoid_prime",
    "tanh",
    "tanh_prime",
    "relu",
    "relu_prime",
    "leaky_relu",
    "leaky_relu_prime",
    "elu",
    "elu_prime",
    "softplus",
    "softplus_prime",
    "swish",
    "swish_prime",
    "softmax",
    "maxout",
]

LEAKY_SLOPE = 0.1  # the lectures' leaky ReLU: max(0.1 z, z)
ELU_ALPHA = 1.0


def identity(z: np.ndarray) -> np.ndarray:
    """``f(z) = z`` (the output activation of linear regression)."""
    return z


def identity_prime(z: np.ndarray, a: np.ndarray | None = None) -> np.ndarray:
    """``f'(z) = 1``, same shape as ``z``."""
    return np.ones_like(z)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """``sigma(z) = 1 / (1 + e^-z)``, computed without overflow for any ``z``.

    Written as ``e^min(z, 0) / (1 + e^-|z|)``: both exponents are <= 0, so nothing overflows, and
    for very negative ``z`` the result keeps its full relative precision (``sigma(-50) = 1.9e-22``,
    not 0). That is ``1 / (1 + e^-z)`` for ``z >= 0`` and ``e^z / (e^z + 1)`` for ``z < 0``, without
    a branch: four passes over the array in place, faster than a ``where`` of the two cases.
    """
    z = np.asarray(z)
    if z.dtype.kind != "f":
        z = z.astype(np.float64)
    if z.ndim == 0:
        return sigmoid(z.reshape(1)).reshape(())
    num = np.minimum(z, 0)
    np.exp(num, out=num)
    den = np.abs(z)
    np.negative(den, out=den)
    np.exp(den, out=den)
    den += 1.0
    num /= den
    return num


def sigmoid_prime(z: np.ndarray, a: np.ndarray | None = None) -> np.ndarray:
    """``sigma'(z) = sigma(z) (1 - sigma(z))``; pass ``a = sigma(z)`` to reuse the forward value.

    From ``z`` alone it is computed as ``e^-|z| / (1 + e^-|z|)^2``, which stays accurate where
    ``sigma(z)`` rounds to 1 (``sigma'(50) = 1.9e-22``, not 0). From a cached ``a`` it is the
    lectures' ``a (1 - a)``, exact up to that rounding.
    """
    if a is not None:
        return a * (1.0 - a)
    e = np.exp(-np.abs(z))
    return e / ((1.0 + e) * (1.0 + e))


def tanh(z: np.ndarray) -> np.ndarray:
    """``tanh(z) = (e^z - e^-z) / (e^z + e^-z)``."""
    return np.tanh(z)


def tanh_prime(z: np.ndarray, a: np.ndarray | None = None) -> np.ndarray:
    """``tanh'(z) = 1 - tanh(z)^2``; pass ``a = tanh(z)`` to reuse the forward value."""
    t = np.tanh(z) if a is None else a
    return 1.0 - t * t


def relu(z: np.ndarray) -> np.ndarray:
    """``max(0, z)``."""
    return np.maximum(z, 0)


def relu_prime(z: np.ndarray, a: np.ndarray | None = None) -> np.ndarray:
    """The unit step ``u(z)``: 1 where ``z > 0``, 0 elsewhere (0 at the kink ``z = 0``)."""
    return (np.asarray(z) > 0).astype(np.result_type(z, np.float32))


def leaky_relu(z: np.ndarray, alpha: float = LEAKY_SLOPE) -> np.ndarray:
    """``max(alpha z, z)`` with the lectures' slope ``alpha = 0.1``."""
    return np.where(z > 0, z, alpha * z)


def leaky_relu_prime(
    z: np.ndarray, a: np.ndarray | None = None, alpha: float = LEAKY_SLOPE
) -> np.ndarray:
    """1 where ``z > 0``, ``alpha`` elsewhere (``alpha`` at the kink)."""
    z = np.asarray(z)
    return np.where(z > 0, 1.0, alpha).astype(np.result_type(z, np.float32))


def elu(z: np.ndarray, alpha: float = ELU_ALPHA) -> np.ndarray:
    """``z`` for ``z > 0``, ``alpha (e^z - 1)`` otherwise (exp only sees non-positive inputs)."""
    return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0)))


def elu_prime(z: np.ndarray, a: np.ndarray | None = None, alpha: float = ELU_ALPHA) -> np.ndarray:
    """1 for ``z > 0``, ``alpha e^z`` otherwise (continuous at 0 when ``alpha = 1``)."""
    return np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0))).astype(
        np.result_type(z, np.float32)
    )


def softplus(z: np.ndarray) -> np.ndarray:
    """``ln(1 + e^z)``, a smooth ReLU, computed as ``logaddexp(0, z)`` (no overflow)."""
    return np.logaddexp(0, z).astype(np.result_type(z, np.float32), copy=False)


def softplus_prime(z: np.ndarray, a: np.ndarray | None = None) -> np.ndarray:
    """``softplus'(z) = sigma(z)``."""
    return sigmoid(z)


def swish(z: np.ndarray) -> np.ndarray:
    """``z sigma(z)`` (swish with beta = 1, also called SiLU)."""
    return z * sigmoid(z)


def swish_prime(z: np.ndarray, a: np.ndarray | None = None) -> np.ndarray:
    """``sigma(z) + z sigma(z) (1 - sigma(z))``."""
    s = sigmoid(z)
    return s + z * s * (1.0 - s)


def softmax(z: np.ndarray, axis: int = 0) -> np.ndarray:
    """Column-wise softmax ``e^{z_k} / sum_j e^{z_j}`` of ``Z`` shaped ``(K, m)``.

    The column maximum is subtracted first, so the largest exponent is ``e^0 = 1``:
    no overflow, and the result is unchanged because softmax ignores a constant shift.
    """
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    e /= np.sum(e, axis=axis, keepdims=True)
    return e


def maxout(z_pieces: np.ndarray) -> np.ndarray:
    """Maxout unit: the maximum over ``k`` affine pieces.

    ``z_pieces`` has shape ``(k, n, m)``: piece ``j`` is ``W_j A + b_j``. Returns ``(n, m)``.
    Its gradient routes to the winning piece, like the max gate.
    """
    return np.max(z_pieces, axis=0)


@dataclass(frozen=True)
class Activation:
    """An element-wise activation ``f`` with its derivative ``f'(z, a)``."""

    name: str
    f: Callable[[np.ndarray], np.ndarray]
    prime: Callable[[np.ndarray, np.ndarray | None], np.ndarray]

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return self.f(z)


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("identity", identity, identity_prime),
        Activation("sigmoid", sigmoid, sigmoid_prime),
        Activation("tanh", tanh, tanh_prime),
        Activation("relu", relu, relu_prime),
        Activation("leaky_relu", leaky_relu, leaky_relu_prime),
        Activation("elu", elu, elu_prime),
        Activation("softplus", softplus, softplus_prime),
        Activation("swish", swish, swish_prime),
    )
}
HIDDEN_ACTIVATIONS = tuple(name for name in ACTIVATIONS if name != "identity")


def get_activation(name: str | Activation, *, argument: str = "activation") -> Activation:
    """Look up an activation by name (case-insensitive), with an error that lists the names.

    ``TypeError`` if ``name`` is neither a string nor an :class:`Activation`, ``ValueError`` if it
    names no activation; ``argument`` is the name the error gives it.
    """
    if isinstance(name, Activation):
        return name
    return choice(argument, name, ACTIVATIONS, example="relu")
