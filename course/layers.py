"""Layers as forward/backward pairs with an explicit cache: Algorithms 1 and 2, one layer at a time.

Every layer is a pair of functions with one contract::

    out, cache = <layer>_forward(inputs...)
    grads = <layer>_backward(dout, cache)

``dout`` is the gradient of the cost with respect to the layer's output, and ``cache`` holds
exactly what the backward rule needs from the forward pass, so nothing is recomputed and nothing is
kept anywhere else. In the lectures' column notation (one sample per column of a batch ``(n, m)``):

=====================  ===================================  =====================================
layer                  forward                              backward
=====================  ===================================  =====================================
affine                 ``Z = W @ A_prev + b``               ``dA_prev = W.T @ dZ``,
                                                            ``dW = dZ @ A_prev.T``,
                                                            ``db = dZ`` summed over the columns
activation ``f``       ``A = f(Z)``                         ``dZ = dA * f'(Z)`` (element-wise)
output + loss          ``J = 1/m sum_i L(g(z_i), t_i)``     ``dZ = dJ * (yhat - t) / m`` for the
                                                            three matched pairs
weight decay           ``J = l2 ||W||^2``                   ``dW = dJ * 2 l2 W``
=====================  ===================================  =====================================

The ``1/m`` of the mean cost enters once, in the output layer's backward; every other ``d*`` is
already a derivative of the mean. :class:`course.mlp.MLP` is these layers chained: Algorithm 1 is
``affine_forward`` then ``activation_forward`` per layer, Algorithm 2 the backward functions in
reverse order.

Buffers: ``affine_backward`` and ``activation_backward`` take ``out=`` arrays to write their
results into, for training loops that reuse memory. That changes where results go, never what
they are.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course.activations import Activation, get_activation
from course.losses import OutputLoss, get_output_loss

__all__ = [
    "affine_forward",
    "affine_backward",
    "activation_forward",
    "activation_backward",
    "sigmoid_forward",
    "sigmoid_backward",
    "tanh_forward",
    "tanh_backward",
    "relu_forward",
    "relu_backward",
    "output_loss_forward",
    "output_loss_backward",
    "weight_decay_forward",
    "weight_decay_backward",
]

Array = np.ndarray
AffineCache = tuple[Array, Array, Array]
ActivationCache = tuple[Array, Array, Activation]
OutputLossCache = tuple[Array, Array, Array, OutputLoss]


# -- affine ------------------------------------------------------------------------------------


def affine_forward(A_prev: Array, W: Array, b: Array) -> tuple[Array, AffineCache]:
    """``Z = W @ A_prev + b`` for a batch: ``(n_prev, m), (n, n_prev), (n, 1) -> (n, m)``.

    The cache is ``(A_prev, W, b)``: ``dW`` needs the inputs, ``dA_prev`` needs the weights.
    """
    A_prev, W, b = _array(A_prev, "A_prev"), _array(W, "W"), _array(b, "b")
    _check_affine_shapes(A_prev, W, b)
    Z = W @ A_prev
    Z += b
    return Z, (A_prev, W, b)


def affine_backward(
    dZ: Array,
    cache: AffineCache,
    *,
    input_grad: bool = True,
    out: tuple[Array, Array] | None = None,
) -> tuple[Array | None, Array, Array]:
    """``(dA_prev, dW, db)`` from ``dZ (n, m)`` and the cache ``(A_prev, W, b)``.

    * ``dA_prev = W.T @ dZ``: each input collects the gradients of the units it feeds;
    * ``dW = dZ @ A_prev.T``: a sum over the batch of outer products (the ``1/m`` is in ``dZ``);
    * ``db = dZ.sum(axis=1, keepdims=True)``: a bias is shared by all the columns.

    ``input_grad=False`` skips ``dA_prev`` (returned as ``None``): the first layer's inputs are
    data, and their gradient would cost a product as large as ``dW``'s. ``out=(dW, db)`` writes the
    two parameter gradients into those arrays.
    """
    A_prev, W, _ = _check_cache(cache, 3, "affine_backward", "(A_prev, W, b)")
    dZ = _array(dZ, "dZ")
    if dZ.shape != (W.shape[0], A_prev.shape[1]):
        raise ValueError(
            f"dZ has shape {dZ.shape} but this layer's output Z has shape "
            f"{(W.shape[0], A_prev.shape[1])}: pass the gradient of the cost with respect to Z"
        )
    if out is None:
        dW = dZ @ A_prev.T
        db = dZ.sum(axis=1, keepdims=True)
    else:
        dW = np.matmul(dZ, A_prev.T, out=out[0])
        db = np.sum(dZ, axis=1, keepdims=True, out=out[1])
    dA_prev = W.T @ dZ if input_grad else None
    return dA_prev, dW, db


# -- element-wise activations --------------------------------------------------------------------


def activation_forward(
    Z: Array, activation: str | Activation = "relu"
) -> tuple[Array, ActivationCache]:
    """``A = f(Z)`` element-wise; the cache ``(Z, A, f)`` lets backward reuse ``A``.

    ``activation`` is a name from :data:`course.activations.ACTIVATIONS` (``"sigmoid"``,
    ``"tanh"``, ``"relu"``, ...) or an :class:`~course.activations.Activation`.
    """
    act = get_activation(activation)
    Z = _array(Z, "Z")
    A = act.f(Z)
    return A, (Z, A, act)


def activation_backward(dA: Array, cache: ActivationCache, *, out: Array | None = None) -> Array:
    """``dZ = dA * f'(Z)``: the chain rule through an element-wise gate, one entry at a time.

    ``f'`` is evaluated from the cache (the sigmoid's ``A (1 - A)``, tanh's ``1 - A^2``, the ReLU's
    step). ``out`` may be ``dA`` itself, to update it in place.
    """
    Z, A, act = _check_cache(cache, 3, "activation_backward", "(Z, A, activation)")
    dA = _array(dA, "dA")
    if dA.shape != Z.shape:
        raise ValueError(
            f"dA has shape {dA.shape} but the activation's output A has shape {Z.shape}: "
            "pass the gradient of the cost with respect to A"
        )
    return np.multiply(dA, act.prime(Z, A), out=out)


def sigmoid_forward(Z: Array) -> tuple[Array, ActivationCache]:
    """``A = 1 / (1 + e^-Z)`` (stable for any ``Z``); see :func:`activation_forward`."""
    return activation_forward(Z, "sigmoid")


def sigmoid_backward(dA: Array, cache: ActivationCache) -> Array:
    """``dZ = dA * A (1 - A)``."""
    return activation_backward(dA, cache)


def tanh_forward(Z: Array) -> tuple[Array, ActivationCache]:
    """``A = tanh(Z)``; see :func:`activation_forward`."""
    return activation_forward(Z, "tanh")


def tanh_backward(dA: Array, cache: ActivationCache) -> Array:
    """``dZ = dA * (1 - A^2)``."""
    return activation_backward(dA, cache)


def relu_forward(Z: Array) -> tuple[Array, ActivationCache]:
    """``A = max(0, Z)``; see :func:`activation_forward`."""
    return activation_forward(Z, "relu")


def relu_backward(dA: Array, cache: ActivationCache) -> Array:
    """``dZ = dA`` where ``Z > 0`` and 0 elsewhere (0 at the kink)."""
    return activation_backward(dA, cache)


# -- output activation and loss, together ---------------------------------------------------------


def output_loss_forward(
    Z: Array,
    T: Array,
    output: str | OutputLoss = "softmax",
    loss: str = "cross_entropy",
    *,
    cost: bool = True,
) -> tuple[float | None, OutputLossCache]:
    """The mean cost ``J = 1/m sum_i L(g(z_i), t_i)`` of the output pre-activations ``Z (n_L, m)``.

    ``T`` are targets of the same shape (one-hot columns for softmax). The output activation
    ``g`` and the loss ``L`` go together (``identity`` + ``half_sse``, ``sigmoid`` + ``half_sse``,
    ``sigmoid`` + ``bce``, ``softmax`` + ``cross_entropy``) and the losses are computed from ``Z``
    with log-sum-exp, so large logits never overflow. The cache is ``(Z, Yhat, T, pair)``.

    ``cost=False`` skips the value of ``J`` (returned as ``None``) for a training step that only
    needs the gradients.
    """
    head = output if isinstance(output, OutputLoss) else get_output_loss(output, loss)
    Z, T = _array(Z, "Z"), _array(T, "T")
    if T.shape != Z.shape:
        raise ValueError(
            f"T has shape {T.shape} but Z has shape {Z.shape}: targets need one column per "
            "sample and one row per output unit (one-hot columns for a softmax output)"
        )
    Yhat = head.activate(Z)
    J = float(np.mean(head.per_sample(Z, Yhat, T))) if cost else None
    return J, (Z, Yhat, T, head)


def output_loss_backward(dJ: float, cache: OutputLossCache) -> Array:
    """``dZ = dJ * dJ_mean/dZ``: ``(Yhat - T) / m`` for the three matched pairs.

    Sigmoid with half squared error is the unmatched pair: ``(Yhat - T) Yhat (1 - Yhat) / m``.
    ``dJ`` is 1 when this cost is the whole objective.
    """
    Z, Yhat, T, head = _check_cache(cache, 4, "output_loss_backward", "(Z, Yhat, T, pair)")
    dZ = head.delta(Z, Yhat, T)
    dZ /= Z.shape[1]
    if dJ != 1.0:
        dZ *= dJ
    return dZ


# -- weight decay --------------------------------------------------------------------------------


def weight_decay_forward(W: Array, l2: float) -> tuple[float, tuple[Array, float]]:
    """The penalty ``l2 ||W||^2`` (sum of squared entries) added to the cost; cache ``(W, l2)``."""
    W = _array(W, "W")
    return float(l2) * float(np.sum(W * W)), (W, float(l2))


def weight_decay_backward(dJ: float, cache: tuple[Array, float]) -> Array:
    """``dW = dJ * 2 l2 W``: what the penalty adds to a weight's gradient."""
    W, l2 = _check_cache(cache, 2, "weight_decay_backward", "(W, l2)")
    return (2.0 * l2 * dJ) * W


# -- input checks --------------------------------------------------------------------------------


def _array(x: Any, name: str) -> Array:
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return x
    a = np.asarray(x)
    if a.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be a numeric array, got {type(x).__name__} ({a.dtype})")
    return a.astype(np.float64)


def _check_affine_shapes(A_prev: Array, W: Array, b: Array) -> None:
    if W.ndim != 2:
        raise ValueError(f"W has shape {W.shape} but a layer's weights are a matrix (n, n_prev)")
    n, n_prev = W.shape
    if A_prev.ndim != 2 or A_prev.shape[0] != n_prev:
        hint = ""
        if A_prev.ndim == 1 and A_prev.shape[0] == n_prev:
            hint = f": for one sample pass A_prev.reshape({n_prev}, 1)"
        elif A_prev.ndim == 2 and A_prev.shape[1] == n_prev:
            hint = ": samples look like rows; pass A_prev.T (one sample per column)"
        raise ValueError(
            f"A_prev has shape {A_prev.shape} but W {W.shape} takes {n_prev} inputs: "
            f"expected ({n_prev}, m){hint}"
        )
    if b.shape != (n, 1):
        hint = f": use b.reshape({n}, 1)" if b.size == n else ""
        raise ValueError(
            f"b has shape {b.shape} but the layer has {n} units: expected ({n}, 1){hint}"
        )


def _check_cache(cache: Any, size: int, fn: str, layout: str) -> tuple:
    if not isinstance(cache, tuple) or len(cache) != size:
        raise TypeError(
            f"{fn} takes the cache its forward function returned, the tuple {layout}; "
            f"got {type(cache).__name__}"
            + (f" of length {len(cache)}" if isinstance(cache, (tuple, list)) else "")
        )
    return cache
