"""Matrix backprop for multilayer perceptrons: Algorithm 1 (forward) and Algorithm 2 (backward).

Notation, as in the lectures: column vectors; a mini-batch ``X`` has shape ``(n_0, m)`` with
one sample per column; layer ``l`` has ``W[l]`` of shape ``(n_l, n_{l-1})`` and ``b[l]`` of
shape ``(n_l, 1)``;

    Z[l] = W[l] @ A[l-1] + b[l],    A[l] = f(Z[l]),    A[0] = X,    Yhat = A[L] = g(Z[L]).

The cost is the mean per-sample loss plus weight decay on the weights (never the biases):

    J = 1/m sum_i L(yhat_i, t_i) + l2 * sum_l ||W[l]||^2.

Backward (Algorithm 2, batched): start from ``delta[L] = dJ/dZ[L]`` and for ``l = L, ..., 1``

    dW[l] = delta[l] @ A[l-1].T + 2 l2 W[l]       (the 1/m is already inside delta)
    db[l] = delta[l] summed over the m columns
    delta[l-1] = (W[l].T @ delta[l]) * f'(Z[l-1])

Both are the layers of :mod:`course.layers` chained: each layer's forward function returns its
output and a cache (``A[l-1], W[l], b[l]`` for the affine part, ``Z[l], A[l]`` for the activation),
and the backward functions, called in reverse order, take those caches, so backward recomputes
nothing. The network keeps the caches of its last forward pass (see :attr:`MLP.cache`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from course import arguments
from course.activations import Activation, get_activation
from course.layers import (
    ActivationCache,
    AffineCache,
    OutputLossCache,
    activation_backward,
    activation_forward,
    affine_backward,
    affine_forward,
    output_loss_backward,
    output_loss_forward,
    weight_decay_backward,
    weight_decay_forward,
)
from course.losses import OutputLoss, get_output_loss
from course.optim import Optimizer

__all__ = ["MLP", "count_parameters", "init_params", "init_std", "INITS"]

INITS = ("auto", "zeros", "small", "xavier", "he")
_RELU_FAMILY = {"relu", "leaky_relu", "elu", "softplus", "swish"}


def count_parameters(sizes: Sequence[int]) -> int:
    """Number of weights plus biases of an MLP ``n_0 / n_1 / ... / n_L``.

    ``N_w = n_0 n_1 + n_1 n_2 + ... + n_{L-1} n_L`` and ``N_b = n_1 + ... + n_L``;
    for 784-100-10 that is 78,400 + 1,000 + 100 + 10 = 79,510.
    """
    sizes = _check_sizes(sizes)
    weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    biases = sum(sizes[1:])
    return weights + biases


def init_params(
    sizes: Sequence[int],
    init: str = "auto",
    *,
    hidden: str = "sigmoid",
    seed: int | None = 0,
    dtype: type | np.dtype = np.float64,
) -> dict[str, np.ndarray]:
    """Initial ``{"W1": (n_1, n_0), "b1": (n_1, 1), ...}``; biases start at zero.

    ``init`` is one of

    * ``"zeros"``: every weight 0 (every hidden unit then stays identical: a notebook shows why
      that fails),
    * ``"small"``: ``N(0, 0.01^2)``,
    * ``"xavier"``: ``N(0, 2 / (n_in + n_out))`` (Glorot), suited to sigmoid and tanh,
    * ``"he"``: ``N(0, 2 / n_in)``, suited to the ReLU family,
    * ``"auto"``: He for the ReLU family, Xavier otherwise.
    """
    sizes = _check_sizes(sizes)
    init = arguments.choice("init", init, INITS, example="he", caller="init_params")
    if init == "auto":
        init = "he" if hidden in _RELU_FAMILY else "xavier"
    rng = np.random.default_rng(seed)
    params: dict[str, np.ndarray] = {}
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        if init == "zeros":
            w = np.zeros((n_out, n_in))
        else:
            w = rng.normal(0.0, init_std(n_in, n_out, init), size=(n_out, n_in))
        params[f"W{l}"] = w.astype(dtype)
        params[f"b{l}"] = np.zeros((n_out, 1), dtype=dtype)
    return params


def init_std(n_in: int, n_out: int, init: str) -> float:
    """The standard deviation of the weights of a layer ``n_in -> n_out`` under ``init``
    (``"small"``, ``"xavier"`` or ``"he"``, see :func:`init_params`)."""
    n_in = arguments.integer("n_in", n_in, at_least=1, example=784, caller="init_std")
    n_out = arguments.integer("n_out", n_out, at_least=1, example=100, caller="init_std")
    init = arguments.choice(
        "init", init, ("small", "xavier", "he"), example="he", caller="init_std"
    )
    if init == "small":
        return 0.01
    if init == "xavier":
        return float(np.sqrt(2.0 / (n_in + n_out)))
    return float(np.sqrt(2.0 / n_in))


class MLP:
    """A fully connected network ``n_0 -> n_1 -> ... -> n_L`` trained by matrix backprop.

    Parameters
    ----------
    sizes:
        Layer widths ``[n_0, n_1, ..., n_L]`` (inputs first, outputs last).
    hidden:
        Hidden activation: ``sigmoid``, ``tanh``, ``relu``, ``leaky_relu``, ``elu``,
        ``softplus`` or ``swish``.
    output, loss:
        A fitting pair: ``identity``+``half_sse``, ``sigmoid``+``half_sse``,
        ``sigmoid``+``bce`` or ``softmax``+``cross_entropy``.
    l2:
        Weight-decay coefficient ``lambda``: ``J += lambda * sum ||W[l]||^2`` (biases excluded).
    seed, init, dtype:
        Weight initialisation (see :func:`init_params`) and the floating type of the parameters.

    Targets ``Y`` have shape ``(n_L, m)``; with a softmax output they may also be integer class
    labels of shape ``(m,)``.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        hidden: str = "sigmoid",
        output: str = "sigmoid",
        loss: str = "half_sse",
        l2: float = 0.0,
        seed: int | None = 0,
        init: str = "auto",
        dtype: type | np.dtype = np.float64,
    ) -> None:
        self.sizes = _check_sizes(sizes)
        self.L = len(self.sizes) - 1
        self.activation: Activation = get_activation(hidden, argument="hidden")
        if self.activation.name == "identity":
            raise ValueError(
                "hidden='identity' makes every layer affine, so the network collapses to one "
                "linear map: pick a non-linear hidden activation such as 'relu' or 'sigmoid'"
            )
        self.head: OutputLoss = get_output_loss(output, loss)
        if self.head.output == "softmax" and self.sizes[-1] < 2:
            raise ValueError(
                f"a softmax output needs at least 2 units, got sizes[-1] = {self.sizes[-1]}: "
                "use output='sigmoid', loss='bce' for a single probability"
            )
        self.l2 = arguments.real("l2", l2, at_least=0, example=1e-4)
        try:
            self.dtype = np.dtype(dtype)
        except TypeError:
            self.dtype = None
        if self.dtype is None or self.dtype.kind != "f":
            raise TypeError(
                f"dtype must be a floating type, got {dtype!r}: pass e.g. dtype=np.float64"
            )
        self.params: dict[str, np.ndarray] = init_params(
            self.sizes, init, hidden=self.activation.name, seed=seed, dtype=self.dtype
        )
        # the layers' caches of the last forward pass: (affine, activation) for l = 1..L-1, then
        # the output layer's affine cache and its (output + loss) cache or its Yhat
        self._caches: list[tuple[AffineCache, ActivationCache]] = []
        self._out_affine: AffineCache | None = None
        self._ZL: np.ndarray | None = None
        self._yhat: np.ndarray | None = None
        self._grad_buffers: dict[str, np.ndarray] | None = None

    # -- Algorithm 1 --

    def forward(self, X: np.ndarray) -> np.ndarray:
        """``Yhat = A[L]`` of shape ``(n_L, m)`` for inputs ``X`` of shape ``(n_0, m)``.

        Keeps every layer's cache for :meth:`backward`.
        """
        X = self._check_X(X)
        self._check_params()
        return self._forward(X)

    def _forward(self, X: np.ndarray) -> np.ndarray:
        self._forward_layers(X)
        self._yhat = self.head.activate(self._ZL)
        return self._yhat

    def _forward_cost(
        self, X: np.ndarray, T: np.ndarray, cost: bool = True
    ) -> tuple[float | None, OutputLossCache]:
        """Algorithm 1 up to the cost: the data term of ``J`` and the output layer's cache."""
        self._forward_layers(X)
        J, head = output_loss_forward(self._ZL, T, self.head, cost=cost)
        self._yhat = head[1]
        return J, head

    def _forward_layers(self, X: np.ndarray) -> None:
        """Every layer's forward function, up to the output pre-activation ``Z[L]``."""
        p, act = self.params, self.activation
        caches: list[tuple[AffineCache, ActivationCache]] = []
        A = X
        for l in range(1, self.L):
            Z, affine = affine_forward(A, p[f"W{l}"], p[f"b{l}"])
            A, activation = activation_forward(Z, act)
            caches.append((affine, activation))
        self._ZL, self._out_affine = affine_forward(A, p[f"W{self.L}"], p[f"b{self.L}"])
        self._caches = caches

    # -- Algorithm 2 --

    def backward(self, Y: np.ndarray) -> dict[str, np.ndarray]:
        """``dJ/dparam`` for every parameter, using the caches of the last :meth:`forward`."""
        if self._out_affine is None:
            raise RuntimeError("backward needs the caches of a forward pass: call forward(X) first")
        T = self._check_Y(Y, self._ZL.shape[1])
        _, head = output_loss_forward(self._ZL, T, self.head, cost=False)
        return self._backward(head)

    def _backward(
        self, head: OutputLossCache, out: dict[str, np.ndarray] | None = None
    ) -> dict[str, np.ndarray]:
        """Algorithm 2: the layers' backward functions in reverse order, from ``dJ/dJ = 1``.

        With ``out``, the parameter gradients are written into its arrays.
        """
        p = self.params
        dZ = output_loss_backward(1.0, head)  # dJ/dZ[L], the 1/m included
        grads: dict[str, np.ndarray] = {}
        for l in range(self.L, 0, -1):
            affine = self._out_affine if l == self.L else self._caches[l - 1][0]
            buffers = None if out is None else (out[f"W{l}"], out[f"b{l}"])
            dA, dW, db = affine_backward(dZ, affine, input_grad=l > 1, out=buffers)
            if self.l2:
                dW += weight_decay_backward(1.0, (p[f"W{l}"], self.l2))
            grads[f"W{l}"] = dW
            grads[f"b{l}"] = db
            if l > 1:  # dJ/dZ[l-1] = dJ/dA[l-1] * f'(Z[l-1]), written over dA
                dZ = activation_backward(dA, self._caches[l - 2][1], out=dA)
        return {k: grads[k] for k in p}

    def step(self, X: np.ndarray, Y: np.ndarray, optimizer) -> None:
        """One step of gradient descent on the batch ``X (n_0, m)``: forward, backward, update.

        ``optimizer`` is a :class:`course.optim.Optimizer`. The gradients go into buffers the
        network keeps and reuses (the optimizer consumes them at once), so a training step
        allocates no gradient arrays; use :meth:`gradients` to get arrays of your own.
        """
        arguments.instance(
            "optimizer", optimizer, Optimizer, what="an optimizer", fix="pass e.g. SGD(lr=0.1)"
        )
        X = self._check_X(X)
        T = self._check_Y(Y, X.shape[1])
        self._check_params()
        self._step(X, T, optimizer)

    def _step(self, X: np.ndarray, T: np.ndarray, optimizer) -> None:
        _, head = self._forward_cost(X, T, cost=False)
        buffers = self._grad_buffers
        if buffers is None or any(buffers[k].shape != v.shape for k, v in self.params.items()):
            buffers = self._grad_buffers = {k: np.empty_like(v) for k, v in self.params.items()}
        optimizer.step(self.params, self._backward(head, out=buffers))

    def gradients(self, X: np.ndarray, Y: np.ndarray) -> dict[str, np.ndarray]:
        """``dJ/dparam`` for a batch: a dict with the keys and shapes of :attr:`params`."""
        X = self._check_X(X)
        T = self._check_Y(Y, X.shape[1])
        self._check_params()
        _, head = self._forward_cost(X, T, cost=False)
        return self._backward(head)

    def loss(self, X: np.ndarray, Y: np.ndarray) -> float:
        """The cost ``J``: mean per-sample loss over the ``m`` columns plus the weight decay."""
        X = self._check_X(X)
        T = self._check_Y(Y, X.shape[1])
        self._check_params()
        data, _ = self._forward_cost(X, T)
        return data + self.penalty()

    def penalty(self) -> float:
        """``l2 * sum_l ||W[l]||^2`` (zero when ``l2 = 0``)."""
        if not self.l2:
            return 0.0
        return sum(weight_decay_forward(self.params[f"W{l}"], self.l2)[0] for l in self.layers)

    # -- using a trained network --

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class labels ``(m,)`` for classifiers, else the outputs ``(n_L, m)``.

        Softmax: the arg-max row. One sigmoid unit: 1 where ``yhat > 0.5``. Several sigmoid units
        (multi-label) or identity outputs: ``Yhat`` itself.
        """
        yhat = self.forward(X)
        if self.head.output == "softmax":
            return np.argmax(yhat, axis=0)
        if self.head.output == "sigmoid" and self.sizes[-1] == 1:
            return (yhat[0] > 0.5).astype(np.int64)
        return yhat

    def accuracy(self, X: np.ndarray, y: np.ndarray) -> float:
        """Fraction of columns of ``X`` whose predicted class equals the label in ``y``.

        ``y`` may be labels ``(m,)``, one-hot ``(K, m)`` or 0/1 targets ``(1, m)``.
        """
        if self.head.output == "identity":
            raise ValueError("accuracy needs a classifier (sigmoid or softmax output)")
        pred = self.predict(X)
        y = np.asarray(y)
        if self.head.output == "softmax" and y.ndim == 2:
            y = np.argmax(y, axis=0)
        elif y.ndim == 2:
            y = y[0]
        if y.shape != pred.shape:
            raise ValueError(f"y has shape {y.shape} but there are {pred.shape[0]} predictions")
        return float(np.mean(pred == y))

    @property
    def layers(self) -> range:
        """Layer indices ``1..L``."""
        return range(1, self.L + 1)

    @property
    def cache(self) -> dict[str, np.ndarray]:
        """The forward cache ``{"A0": X, "Z1": ..., "A1": ..., ...}`` of the last forward pass."""
        if self._out_affine is None:
            return {}
        out: dict[str, np.ndarray] = {}
        for l, ((A_prev, _, _), (Z, _, _)) in enumerate(self._caches, start=1):
            out[f"A{l - 1}"] = A_prev
            out[f"Z{l}"] = Z
        out[f"A{self.L - 1}"] = self._out_affine[0]
        out[f"Z{self.L}"] = self._ZL
        out[f"A{self.L}"] = self._yhat
        return out

    def num_parameters(self) -> int:
        """Total number of weights and biases (see :func:`count_parameters`)."""
        return count_parameters(self.sizes)

    def __repr__(self) -> str:
        widths = "-".join(str(n) for n in self.sizes)
        return (
            f"MLP({widths}, hidden={self.activation.name!r}, output={self.head.output!r}, "
            f"loss={self.head.loss!r}, l2={self.l2:g})"
        )

    # -- input checks --

    def _check_X(self, X: np.ndarray) -> np.ndarray:
        n0 = self.sizes[0]
        X = arguments.array("X", X, finite=False)
        if X.ndim == 1 and X.shape[0] == n0:
            raise ValueError(
                f"X has shape {X.shape} but the network takes a batch of shape ({n0}, m), "
                f"one sample per column: use X.reshape({n0}, 1) for a single sample"
            )
        if X.ndim != 2:
            raise ValueError(f"X has shape {X.shape} but the network expects ({n0}, m)")
        if X.shape[0] != n0:
            hint = ""
            if X.shape[1] == n0:
                hint = ": samples look like rows; pass X.T (one sample per column)"
            raise ValueError(
                f"X has shape {X.shape} but the network takes {n0} inputs: expected ({n0}, m){hint}"
            )
        if X.shape[1] == 0:
            raise ValueError("X has no columns: a batch needs at least one sample")
        if X.dtype != self.dtype:
            X = X.astype(self.dtype)
        return arguments.array("X", X)

    def _check_Y(self, Y: np.ndarray, m: int) -> np.ndarray:
        nL = self.sizes[-1]
        Y = arguments.array("Y", Y, finite=False)
        if self.head.output == "softmax" and Y.ndim == 1:
            if Y.dtype.kind not in "iu" and not (
                Y.dtype.kind == "f" and np.all(np.isfinite(Y)) and np.all(Y == np.round(Y))
            ):
                raise ValueError(f"class labels must be integers, got dtype {Y.dtype}")
            labels = Y.astype(np.int64)
            if labels.shape[0] != m:
                raise ValueError(f"Y has {labels.shape[0]} labels but X has {m} columns")
            bad = labels[(labels < 0) | (labels >= nL)]
            if bad.size:
                raise ValueError(
                    f"Y contains label {bad[0]} but the network has {nL} output classes: "
                    f"labels must be in 0..{nL - 1}"
                )
            T = np.zeros((nL, m), dtype=self.dtype)
            T[labels, np.arange(m)] = 1
            return T
        if Y.ndim == 1 and nL == 1:
            Y = Y.reshape(1, -1)
        if Y.ndim != 2 or Y.shape != (nL, m):
            raise ValueError(
                f"Y has shape {Y.shape} but the network outputs ({nL}, m) with m = {m}: "
                f"expected ({nL}, {m})"
                + (
                    "; for class labels pass a vector of shape (m,)"
                    if self.head.output == "softmax"
                    else ""
                )
            )
        if Y.dtype != self.dtype:
            Y = Y.astype(self.dtype)
        Y = arguments.array("Y", Y)
        if self.head.loss in ("bce", "cross_entropy") and (Y.min() < 0 or Y.max() > 1):
            raise ValueError(
                f"{self.head.loss} targets must lie in [0, 1], got values in "
                f"[{Y.min():g}, {Y.max():g}]: for class labels use 0/1 (or one-hot) targets"
            )
        if self.head.loss == "cross_entropy" and not np.allclose(Y.sum(axis=0), 1.0):
            col = int(np.argmax(np.abs(Y.sum(axis=0) - 1.0)))
            raise ValueError(
                f"cross-entropy targets must be one-hot (each column sums to 1); column {col} "
                f"sums to {Y[:, col].sum():g}: pass labels (m,) or one_hot(labels)"
            )
        return Y

    def _check_params(self) -> None:
        p = self.params
        for l in self.layers:
            n_in, n_out = self.sizes[l - 1], self.sizes[l]
            for name, expected in ((f"W{l}", (n_out, n_in)), (f"b{l}", (n_out, 1))):
                if name not in p:
                    raise ValueError(
                        f"params has no {name!r}: expected the keys {list(self._keys())}"
                    )
                shape = np.shape(p[name])
                if shape == expected:
                    continue
                if name[0] == "W" and shape[1:] != (n_in,):
                    why = f"layer {l} takes {n_in} inputs"
                elif name[0] == "W":
                    why = f"layer {l} has {n_out} units"
                else:
                    why = f"layer {l} has {n_out} units and biases are columns"
                raise ValueError(f"{name} has shape {shape} but {why}: expected {expected}")

    def _keys(self):
        for l in self.layers:
            yield f"W{l}"
            yield f"b{l}"


def _check_sizes(sizes: Sequence[int]) -> list[int]:
    fix = "pass the layer widths, inputs first, e.g. sizes=[2, 3, 1]"
    items = arguments.sequence("sizes", sizes, fix=fix)
    if len(items) < 2:
        raise ValueError(
            f"sizes must list at least two positive integer widths [n_0, ..., n_L] (inputs "
            f"first), got {list(items)!r}: {fix}"
        )
    return [arguments.integer(f"sizes[{i}]", n, at_least=1, fix=fix) for i, n in enumerate(items)]
