"""Gradient-descent update rules and learning-rate schedules.

Every rule updates a parameter ``theta`` from its gradient ``g = dJ/dtheta`` (all operations are
elementwise, ``lr`` is the learning rate, ``t = 1, 2, ...`` counts the steps)::

    SGD        theta -= lr * g
    Momentum   v = beta * v - lr * g;                  theta += v
    Nesterov   v_prev = v;  v = beta * v - lr * g;     theta += -beta * v_prev + (1 + beta) * v
    AdaGrad    cache += g**2;                          theta -= lr * g / (sqrt(cache) + eps)
    RMSProp    cache = rho * cache + (1 - rho) * g**2; theta -= lr * g / (sqrt(cache) + eps)
    Adam       m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g**2
               m_hat = m / (1 - beta1**t);  v_hat = v / (1 - beta2**t)
               theta -= lr * m_hat / (sqrt(v_hat) + eps)

Parameters and gradients are dicts of numpy arrays with the same keys and shapes, e.g.
``{"W1": (n1, n0), "b1": (n1, 1), ...}``. Every optimizer has the same interface,
``opt.step(params, grads)``, which updates the arrays of ``params`` *in place* and keeps the
optimizer's state (``v``, ``cache``, ``m``) in small dicts with one array per parameter key, so
the rules can be swapped in one training loop. A schedule is a callable ``epoch -> lr``; the loop
sets ``opt.lr = schedule(epoch)`` at the start of every epoch::

    opt = make_optimizer("adam", lr=1e-3)
    schedule = make_schedule("cosine", lr0=1e-3, total_epochs=20)
    for epoch in range(20):
        opt.lr = schedule(epoch)
        for batch in batches:
            grads = backward(params, batch)
            opt.step(params, grads)
"""

from __future__ import annotations

import inspect
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from course.arguments import choice, integer, real

__all__ = [
    "Optimizer",
    "SGD",
    "Momentum",
    "Nesterov",
    "AdaGrad",
    "RMSProp",
    "Adam",
    "make_optimizer",
    "OPTIMIZERS",
    "Schedule",
    "constant",
    "step_decay",
    "exponential",
    "inverse_time",
    "cosine",
    "make_schedule",
    "SCHEDULES",
]

Params = Mapping[str, np.ndarray]


# -- argument checking ----------------------------------------------------------------------------


def _check_params_grads(params: Any, grads: Any) -> None:
    """Check that ``params`` and ``grads`` are dicts of arrays with the same keys and shapes."""
    for name, value in (("params", params), ("grads", grads)):
        if not isinstance(value, Mapping):
            raise TypeError(
                f"{name} must be a dict mapping names to numpy arrays, got "
                f"{type(value).__name__}: pass e.g. {name}={{'W1': W1, 'b1': b1}}"
            )
    if params.keys() != grads.keys():
        missing = sorted(set(params) - set(grads), key=str)
        extra = sorted(set(grads) - set(params), key=str)
        problems = []
        if missing:
            problems.append(f"missing key(s) {missing}")
        if extra:
            problems.append(f"extra key(s) {extra}")
        raise ValueError(
            f"grads must have the same keys as params, but grads has {' and '.join(problems)} "
            f"(params keys: {sorted(params, key=str)}, grads keys: {sorted(grads, key=str)}): "
            "pass exactly one gradient per parameter, under the same name"
        )
    for key, theta in params.items():
        g = grads[key]
        if not isinstance(theta, np.ndarray):
            raise TypeError(
                f"params[{key!r}] must be a numpy array, got {type(theta).__name__}: "
                f"store it as np.asarray(..., dtype=float) so it can be updated in place"
            )
        if not isinstance(g, np.ndarray):
            raise TypeError(
                f"grads[{key!r}] must be a numpy array, got {type(g).__name__}: "
                f"convert it with np.asarray(...)"
            )
        if theta.dtype.kind != "f":
            raise TypeError(
                f"params[{key!r}] must be a floating-point array, got dtype {theta.dtype}: "
                f"create it with dtype=float (an integer array cannot take fractional steps)"
            )
        if g.dtype.kind not in "iuf":
            raise TypeError(
                f"grads[{key!r}] must be a real numeric array, got dtype {g.dtype}: "
                f"convert it with np.asarray(..., dtype=float)"
            )
        if g.shape != theta.shape:
            raise ValueError(
                f"grads[{key!r}] has shape {g.shape} but params[{key!r}] has shape {theta.shape}: "
                "a gradient must have exactly the shape of its parameter "
                "(check for a missing transpose or a (n,) vs (n, 1) mix-up)"
            )
        if not theta.flags.writeable:
            raise ValueError(
                f"params[{key!r}] is a read-only array, but optimizers update parameters in "
                f"place: pass a writeable array, e.g. params[{key!r}] = params[{key!r}].copy()"
            )


# -- optimizers -----------------------------------------------------------------------------------


class Optimizer(ABC):
    """Base class of the update rules: ``opt.step(params, grads)`` updates ``params`` in place.

    Attributes
    ----------
    lr:
        The learning rate (a float). It may be changed between steps, e.g. by a training loop
        that sets ``opt.lr = schedule(epoch)``; ``0`` is allowed there (a schedule may decay to 0).
    t:
        The number of steps taken since the optimizer was created or last :meth:`reset`.

    A subclass lists the names of its state dicts in ``_state_names`` (each maps a parameter key
    to an array of that parameter's shape and dtype, created as zeros on the first step) and
    implements :meth:`_update` for one parameter.
    """

    _state_names: tuple[str, ...] = ()

    def __init__(self, lr: float) -> None:
        self.lr = real("lr", lr, greater_than=0, fix="pass a learning rate such as lr=0.1")
        self.t: int = 0

    @property
    def lr(self) -> float:
        """The learning rate used by the next :meth:`step`."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = real("lr", value, at_least=0, fix="set a learning rate such as opt.lr = 0.1")

    def step(self, params: Params, grads: Params) -> None:
        """Take one step: update every array ``params[k]`` in place using ``grads[k]``.

        ``params`` and ``grads`` must have the same keys, and ``grads[k]`` the same shape as
        ``params[k]``. Parameters keep their dtype (float32 stays float32). The arguments are
        checked before anything is changed, so a step that raises leaves everything as it was.
        """
        _check_params_grads(params, grads)
        self._check_state(params)
        self.t += 1
        for key, theta in params.items():
            self._update(key, theta, grads[key])

    def reset(self) -> None:
        """Forget the state (velocities, caches, moments) and set the step counter ``t`` to 0."""
        self.t = 0
        for name in self._state_names:
            getattr(self, name).clear()

    @abstractmethod
    def _update(self, key: str, theta: np.ndarray, g: np.ndarray) -> None:
        """Update the single parameter ``theta`` (in place) from its gradient ``g``."""

    def _slot(self, name: str, key: str, theta: np.ndarray) -> np.ndarray:
        """The state array ``self.<name>[key]``, created as zeros like ``theta`` if missing."""
        store: dict[str, np.ndarray] = getattr(self, name)
        if key not in store:
            store[key] = np.zeros_like(theta)
        return store[key]

    def _check_state(self, params: Params) -> None:
        for name in self._state_names:
            store: dict[str, np.ndarray] = getattr(self, name)
            for key, theta in params.items():
                if key in store and store[key].shape != theta.shape:
                    raise ValueError(
                        f"params[{key!r}] has shape {theta.shape} but the optimizer's state "
                        f"{name}[{key!r}] has shape {store[key].shape} from earlier steps: "
                        "call opt.reset() (or create a new optimizer) after changing the model"
                    )

    def __repr__(self) -> str:
        names = list(inspect.signature(type(self)).parameters)
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Vanilla (stochastic) gradient descent: ``theta -= lr * g``.

    Keeps no state. ``theta`` and ``g`` have the same shape, any shape.
    """

    _state_names = ("scratch",)

    def __init__(self, lr: float) -> None:
        super().__init__(lr)
        # not a state of the rule: a reused buffer for lr * g, so that a step allocates nothing
        # (a fresh temporary the size of a big weight matrix costs more than the arithmetic)
        self.scratch: dict[str, np.ndarray] = {}

    def _update(self, key: str, theta: np.ndarray, g: np.ndarray) -> None:
        step = self._slot("scratch", key, theta)
        np.multiply(g, self.lr, out=step, casting="same_kind")
        theta -= step


class Momentum(Optimizer):
    """SGD with (heavy-ball) momentum: ``v = beta * v - lr * g;  theta += v``.

    ``v`` (the velocity, ``self.v[key]``, same shape as ``theta``) starts at zero; ``beta`` in
    [0, 1) is the fraction of the velocity kept from one step to the next (``beta = 0`` is SGD).
    """

    _state_names = ("v",)

    def __init__(self, lr: float, beta: float = 0.9) -> None:
        super().__init__(lr)
        self.beta = real(
            "beta", beta, at_least=0, less_than=1, fix="pass a momentum such as beta=0.9"
        )
        self.v: dict[str, np.ndarray] = {}

    def _update(self, key: str, theta: np.ndarray, g: np.ndarray) -> None:
        v = self._slot("v", key, theta)
        v *= self.beta
        v -= self.lr * g
        theta += v


class Nesterov(Optimizer):
    """Nesterov accelerated gradient, in the form that needs only the gradient at ``theta``::

        v_prev = v
        v = beta * v - lr * g
        theta += -beta * v_prev + (1 + beta) * v

    This is the classic look-ahead rule ``v = beta * v - lr * grad J(x + beta * v); x += v``
    written in the variable ``theta = x + beta * v``: the parameters we store *are* the
    look-ahead point, so the gradient the training loop computes at ``theta`` is exactly the
    look-ahead gradient. ``v`` (``self.v[key]``) has the shape of ``theta``, starts at
    zero, and ``beta`` is in [0, 1).
    """

    _state_names = ("v",)

    def __init__(self, lr: float, beta: float = 0.9) -> None:
        super().__init__(lr)
        self.beta = real(
            "beta", beta, at_least=0, less_than=1, fix="pass a momentum such as beta=0.9"
        )
        self.v: dict[str, np.ndarray] = {}

    def _update(self, key: str, theta: np.ndarray, g: np.ndarray) -> None:
        v = self._slot("v", key, theta)
        v_prev = v.copy()
        v *= self.beta
        v -= self.lr * g
        theta += -self.beta * v_prev + (1.0 + self.beta) * v


class AdaGrad(Optimizer):
    """AdaGrad: ``cache += g**2;  theta -= lr * g / (sqrt(cache) + eps)``.

    ``cache`` (``self.cache[key]``, shape of ``theta``) is the running sum of squared gradients,
    so every coordinate gets its own, ever-decreasing step size. ``eps`` avoids division by zero.
    """

    _state_names = ("cache",)

    def __init__(self, lr: float, eps: float = 1e-8) -> None:
        super().__init__(lr)
        self.eps = real(
            "eps", eps, greater_than=0, fix="pass a small positive number such as eps=1e-8"
        )
        self.cache: dict[str, np.ndarray] = {}

    def _update(self, key: str, theta: np.ndarray, g: np.ndarray) -> None:
        cache = self._slot("cache", key, theta)
        cache += g * g
        theta -= self.lr * g / (np.sqrt(cache) + self.eps)


class RMSProp(Optimizer):
    """RMSProp: ``cache = rho * cache + (1 - rho) * g**2;  theta -= lr * g / (sqrt(cache) + eps)``.

    Like AdaGrad, but ``cache`` (``self.cache[key]``, shape of ``theta``) is an exponential moving
    average of squared gradients with decay rate ``rho`` in [0, 1), so the step does not shrink
    to zero.
    """

    _state_names = ("cache",)

    def __init__(self, lr: float, rho: float = 0.9, eps: float = 1e-8) -> None:
        super().__init__(lr)
        self.rho = real(
            "rho", rho, at_least=0, less_than=1, fix="pass a decay rate such as rho=0.9"
        )
        self.eps = real(
            "eps", eps, greater_than=0, fix="pass a small positive number such as eps=1e-8"
        )
        self.cache: dict[str, np.ndarray] = {}

    def _update(self, key: str, theta: np.ndarray, g: np.ndarray) -> None:
        cache = self._slot("cache", key, theta)
        cache *= self.rho
        cache += (1.0 - self.rho) * (g * g)
        theta -= self.lr * g / (np.sqrt(cache) + self.eps)


class Adam(Optimizer):
    """Adam: momentum (first moment ``m``) plus RMSProp (second moment ``v``), bias-corrected::

        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t),   v_hat = v / (1 - beta2**t)      (t = 1 on the first step)
        theta -= lr * m_hat / (sqrt(v_hat) + eps)

    ``m`` and ``v`` (``self.m[key]``, ``self.v[key]``) have the shape of ``theta`` and start at
    zero; the bias correction undoes that zero start, so the first step has size about ``lr``.
    """

    _state_names = ("m", "v")

    def __init__(
        self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
    ) -> None:
        super().__init__(lr)
        self.beta1 = real("beta1", beta1, at_least=0, less_than=1, example=0.9)
        self.beta2 = real("beta2", beta2, at_least=0, less_than=1, example=0.999)
        self.eps = real(
            "eps", eps, greater_than=0, fix="pass a small positive number such as eps=1e-8"
        )
        self.m: dict[str, np.ndarray] = {}
        self.v: dict[str, np.ndarray] = {}

    def _update(self, key: str, theta: np.ndarray, g: np.ndarray) -> None:
        m = self._slot("m", key, theta)
        v = self._slot("v", key, theta)
        m *= self.beta1
        m += (1.0 - self.beta1) * g
        v *= self.beta2
        v += (1.0 - self.beta2) * (g * g)
        m_hat = m / (1.0 - self.beta1**self.t)
        v_hat = v / (1.0 - self.beta2**self.t)
        theta -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adagrad": AdaGrad,
    "rmsprop": RMSProp,
    "adam": Adam,
}


def _build(factory: str, table: Mapping[str, type], name: Any, kwargs: dict) -> Any:
    """Look ``name`` up in ``table`` and call the class with ``kwargs``, with helpful errors."""
    cls = choice("name", name, table, caller=factory)
    signature = inspect.signature(cls)
    signature = signature.replace(
        parameters=[p.replace(annotation=p.empty) for p in signature.parameters.values()],
        return_annotation=signature.empty,
    )
    try:
        signature.bind(**kwargs)
    except TypeError as error:
        raise TypeError(
            f"{factory}({name!r}, ...) got keyword arguments {sorted(kwargs)} but {cls.__name__} "
            f"takes {cls.__name__}{signature} ({error}): pass the keyword arguments it lists"
        ) from None
    return cls(**kwargs)


def make_optimizer(name: str, **kwargs: Any) -> Optimizer:
    """Create an optimizer by name: ``make_optimizer("adam", lr=1e-3)`` is ``Adam(lr=1e-3)``.

    ``name`` is one of ``"sgd"``, ``"momentum"``, ``"nesterov"``, ``"adagrad"``, ``"rmsprop"``,
    ``"adam"`` (case-insensitive); ``kwargs`` are the keyword arguments of that class.
    """
    return _build("make_optimizer", OPTIMIZERS, name, kwargs)


# -- learning-rate schedules ----------------------------------------------------------------------


def _check_epoch(epoch: Any) -> int:
    fix = "call the schedule with the epoch number, counted from 0, e.g. schedule(3)"
    return integer("epoch", epoch, at_least=0, fix=fix)


def _check_lr0(lr0: Any) -> float:
    return real("lr0", lr0, greater_than=0, fix="pass an initial learning rate such as lr0=0.1")


@dataclass(frozen=True)
class Schedule(ABC):
    """Base class of the learning-rate schedules: ``schedule(epoch) -> lr``, epoch from 0."""

    @abstractmethod
    def __call__(self, epoch: int) -> float:
        """The learning rate for ``epoch`` (0, 1, 2, ...)."""


@dataclass(frozen=True)
class constant(Schedule):  # lower-case names: the repr reads like the call that built it
    """Constant learning rate: ``lr(epoch) = lr0``."""

    lr0: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "lr0", _check_lr0(self.lr0))

    def __call__(self, epoch: int) -> float:
        _check_epoch(epoch)
        return self.lr0


@dataclass(frozen=True)
class step_decay(Schedule):
    """Step decay: ``lr(epoch) = lr0 * drop ** (epoch // every)``.

    The rate is multiplied by ``drop`` in (0, 1] once every ``every`` epochs.
    """

    lr0: float
    drop: float = 0.5
    every: int = 10

    def __post_init__(self) -> None:
        object.__setattr__(self, "lr0", _check_lr0(self.lr0))
        drop = real("drop", self.drop, greater_than=0, at_most=1, example=0.5)
        object.__setattr__(self, "drop", drop)
        object.__setattr__(self, "every", integer("every", self.every, at_least=1, example=10))

    def __call__(self, epoch: int) -> float:
        return self.lr0 * self.drop ** (_check_epoch(epoch) // self.every)


@dataclass(frozen=True)
class exponential(Schedule):
    """Exponential decay: ``lr(epoch) = lr0 * exp(-k * epoch)``, with ``k >= 0``."""

    lr0: float
    k: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "lr0", _check_lr0(self.lr0))
        object.__setattr__(self, "k", real("k", self.k, at_least=0, example=0.1))

    def __call__(self, epoch: int) -> float:
        return self.lr0 * math.exp(-self.k * _check_epoch(epoch))


@dataclass(frozen=True)
class inverse_time(Schedule):
    """Inverse-time (1/t) decay: ``lr(epoch) = lr0 / (1 + k * epoch)``, with ``k >= 0``."""

    lr0: float
    k: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "lr0", _check_lr0(self.lr0))
        object.__setattr__(self, "k", real("k", self.k, at_least=0, example=0.1))

    def __call__(self, epoch: int) -> float:
        return self.lr0 / (1.0 + self.k * _check_epoch(epoch))


@dataclass(frozen=True)
class cosine(Schedule):
    """Cosine annealing from ``lr0`` down to ``lr_min`` over ``total_epochs`` epochs::

        lr(epoch) = lr_min + (lr0 - lr_min) * (1 + cos(pi * min(epoch, total) / total)) / 2

    so ``lr(0) = lr0``, ``lr(total_epochs) = lr_min``, and it stays at ``lr_min`` afterwards.
    """

    lr0: float
    total_epochs: int
    lr_min: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "lr0", _check_lr0(self.lr0))
        total = integer("total_epochs", self.total_epochs, at_least=1, example=50)
        object.__setattr__(self, "total_epochs", total)
        lr_min = real("lr_min", self.lr_min, at_least=0, example=0.0)
        if lr_min > self.lr0:
            raise ValueError(
                f"lr_min must not exceed lr0, got lr_min={self.lr_min!r} > lr0={self.lr0!r}: "
                "pass a final learning rate lr_min <= lr0"
            )
        object.__setattr__(self, "lr_min", lr_min)

    def __call__(self, epoch: int) -> float:
        epoch = min(_check_epoch(epoch), self.total_epochs)
        if epoch == 0:
            return self.lr0  # exactly, whatever the rounding of the formula below
        lr = (
            self.lr_min
            + (self.lr0 - self.lr_min) * (1.0 + math.cos(math.pi * epoch / self.total_epochs)) / 2.0
        )
        return min(self.lr0, max(self.lr_min, lr))  # rounding must not leave [lr_min, lr0]


SCHEDULES: dict[str, type[Schedule]] = {
    "constant": constant,
    "step_decay": step_decay,
    "exponential": exponential,
    "inverse_time": inverse_time,
    "cosine": cosine,
}


def make_schedule(name: str, **kwargs: Any) -> Schedule:
    """Create a schedule by name: ``make_schedule("cosine", lr0=0.1, total_epochs=50)``.

    ``name`` is one of ``"constant"``, ``"step_decay"``, ``"exponential"``, ``"inverse_time"``,
    ``"cosine"`` (case-insensitive); ``kwargs`` are the fields of that schedule.
    """
    return _build("make_schedule", SCHEDULES, name, kwargs)
