"""Losses and output layers: squared error, binary and multi-class cross-entropy.

Per-sample losses take the network output ``Yhat`` and targets ``T``, both shaped ``(n_L, m)``
(one sample per column), and return an array of shape ``(m,)``; a cost is their mean over the
batch. Three pairings of output activation and loss from the lectures have the same tidy
error term at the pre-activation ``Z[L]``:

* identity + half squared error:        ``dL/dZ = yhat - t``
* sigmoid + binary cross-entropy:        ``dL/dZ = yhat - t``
* softmax + cross-entropy:               ``dL/dZ = yhat - t``

while sigmoid + half squared error does not (``dL/dZ = (yhat - t) yhat (1 - yhat)``).
:class:`OutputLoss` bundles an output activation with its loss and computes the loss and the
error term straight from ``Z`` with log-sum-exp, so that large logits never overflow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course.activations import identity, sigmoid, softmax
from course.arguments import choice

__all__ = [
    "half_sse",
    "half_sse_grad",
    "binary_cross_entropy",
    "binary_cross_entropy_grad",
    "cross_entropy",
    "cross_entropy_grad",
    "logsumexp",
    "OutputLoss",
    "OUTPUT_LOSSES",
    "get_output_loss",
]

_EPS = 1e-12


def half_sse(yhat: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``L = 1/2 ||yhat - t||^2`` per sample: ``(n, m), (n, m) -> (m,)``."""
    d = yhat - t
    return 0.5 * np.sum(d * d, axis=0)


def half_sse_grad(yhat: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``dL/dyhat = yhat - t``, shape ``(n, m)``."""
    return yhat - t


def binary_cross_entropy(yhat: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``L = -t ln yhat - (1 - t) ln(1 - yhat)`` per sample, summed over rows: ``(n, m) -> (m,)``.

    ``yhat`` are probabilities; they are clipped to ``[1e-12, 1 - 1e-12]`` so a confident wrong
    answer costs a large finite number instead of ``inf``. For a sigmoid output prefer the
    logits form in :class:`OutputLoss`, which is exact.
    """
    p = np.clip(yhat, _EPS, 1.0 - _EPS)
    return -np.sum(t * np.log(p) + (1.0 - t) * np.log1p(-p), axis=0)


def binary_cross_entropy_grad(yhat: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``dL/dyhat = (yhat - t) / (yhat (1 - yhat))``, shape ``(n, m)``."""
    p = np.clip(yhat, _EPS, 1.0 - _EPS)
    return (p - t) / (p * (1.0 - p))


def cross_entropy(yhat: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``L = -sum_k t_k ln yhat_k`` per sample: ``(K, m), (K, m) -> (m,)``.

    Probabilities are clipped below at 1e-12 so that a zero probability costs a finite amount.
    """
    return -np.sum(t * np.log(np.clip(yhat, _EPS, None)), axis=0)


def cross_entropy_grad(yhat: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``dL/dyhat_k = -t_k / yhat_k``, shape ``(K, m)``."""
    return -t / np.clip(yhat, _EPS, None)


def logsumexp(z: np.ndarray, axis: int = 0) -> np.ndarray:
    """``ln sum_k e^{z_k}`` along ``axis`` (column-wise by default), without overflow."""
    zmax = np.max(z, axis=axis, keepdims=True)
    out = zmax + np.log(np.sum(np.exp(z - zmax), axis=axis, keepdims=True))
    return np.squeeze(out, axis=axis)


def _softplus(z: np.ndarray) -> np.ndarray:
    return np.logaddexp(0, z)


@dataclass(frozen=True)
class OutputLoss:
    """An output activation ``g`` paired with a per-sample loss ``L``.

    * ``activate(Z)`` gives ``Yhat = g(Z)`` for ``Z`` shaped ``(n_L, m)``;
    * ``per_sample(Z, Yhat, T)`` gives the ``(m,)`` losses, computed from ``Z`` where that is
      more stable than from ``Yhat``;
    * ``delta(Z, Yhat, T)`` gives ``dL^(i)/dZ`` for each column (not yet divided by ``m``).
    """

    output: str
    loss: str

    def activate(self, z: np.ndarray) -> np.ndarray:
        if self.output == "identity":
            return identity(z)
        if self.output == "sigmoid":
            return sigmoid(z)
        return softmax(z)

    def per_sample(self, z: np.ndarray, yhat: np.ndarray, t: np.ndarray) -> np.ndarray:
        if self.loss == "half_sse":
            return half_sse(yhat, t)
        if self.loss == "bce":
            # -t ln sigma(z) - (1-t) ln(1 - sigma(z)) = softplus(z) - t z, exactly
            return np.sum(_softplus(z) - t * z, axis=0)
        # softmax + cross-entropy: -sum_k t_k (z_k - logsumexp(z)) = logsumexp(z) sum_k t_k - t.z
        return logsumexp(z) * np.sum(t, axis=0) - np.sum(t * z, axis=0)

    def delta(self, z: np.ndarray, yhat: np.ndarray, t: np.ndarray) -> np.ndarray:
        if self.output == "sigmoid" and self.loss == "half_sse":
            return (yhat - t) * yhat * (1.0 - yhat)
        return yhat - t

    def __str__(self) -> str:
        return f"{self.output} + {self.loss}"


OUTPUT_LOSSES: dict[tuple[str, str], OutputLoss] = {
    ("identity", "half_sse"): OutputLoss("identity", "half_sse"),
    ("sigmoid", "half_sse"): OutputLoss("sigmoid", "half_sse"),
    ("sigmoid", "bce"): OutputLoss("sigmoid", "bce"),
    ("softmax", "cross_entropy"): OutputLoss("softmax", "cross_entropy"),
}

_LOSS_ALIASES = {
    "half_sse": "half_sse",
    "sse": "half_sse",
    "mse": "half_sse",
    "bce": "bce",
    "binary_cross_entropy": "bce",
    "cross_entropy": "cross_entropy",
    "ce": "cross_entropy",
}
_OUTPUT_ALIASES = {
    "identity": "identity",
    "linear": "identity",
    "sigmoid": "sigmoid",
    "softmax": "softmax",
}


def get_output_loss(output: str, loss: str) -> OutputLoss:
    """The :class:`OutputLoss` for an output activation name and a loss name.

    Names are case-insensitive. Raises ``TypeError`` if a name is not a string, ``ValueError``
    for an unknown name or a loss that does not fit its output (for instance binary
    cross-entropy on an identity output, whose values are not probabilities).
    """
    out = choice("output", output, _OUTPUT_ALIASES, example="sigmoid")
    lo = choice("loss", loss, _LOSS_ALIASES, example="half_sse")
    pair = OUTPUT_LOSSES.get((out, lo))
    if pair is None:
        fits = {
            "identity": "'half_sse'",
            "sigmoid": "'half_sse' or 'bce'",
            "softmax": "'cross_entropy'",
        }[out]
        raise ValueError(
            f"loss {loss!r} does not fit output {output!r}: a {out} output pairs with {fits}; "
            "valid pairs are identity+half_sse, sigmoid+half_sse, sigmoid+bce, "
            "softmax+cross_entropy"
        )
    return pair
