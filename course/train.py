"""The training loop: mini-batch gradient descent with history, schedules and early stopping.

One epoch visits every training column exactly once in shuffled mini-batches; for each batch
the network runs forward (Algorithm 1), backward (Algorithm 2), and the optimizer updates the
parameters in place. After each epoch the cost and (for classifiers) the accuracy are recorded
on the training data and, when given, on validation data. Everything random is drawn from
``seed``, so a run is reproducible.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from course.arguments import choice, instance, integer
from course.data import BatchGenerator
from course.mlp import MLP
from course.optim import OPTIMIZERS, Optimizer, make_optimizer

__all__ = ["History", "train", "evaluate"]

_NET_FIX = "build one, e.g. net = MLP([2, 3, 1])"


@dataclass
class History:
    """Per-epoch record of a training run (lists have one entry per finished epoch)."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def summary(self) -> str:
        """One line: the last epoch's figures."""
        if not self.train_loss:
            return "no epoch finished"
        parts = [f"epoch {self.epochs}", f"train loss {self.train_loss[-1]:.4f}"]
        if self.train_acc:
            parts.append(f"train acc {self.train_acc[-1]:.3f}")
        if self.val_loss:
            parts.append(f"val loss {self.val_loss[-1]:.4f}")
        if self.val_acc:
            parts.append(f"val acc {self.val_acc[-1]:.3f}")
        return ", ".join(parts)


def evaluate(net: MLP, X: np.ndarray, Y: np.ndarray) -> tuple[float, float | None]:
    """``(cost, accuracy)`` of ``net`` on ``X (n_0, m)``; accuracy is None for regression."""
    instance("net", net, MLP, what="a course.mlp.MLP", fix=_NET_FIX, caller="evaluate")
    loss = net.loss(X, Y)
    acc = None if net.head.output == "identity" else net.accuracy(X, Y)
    return loss, acc


def train(
    net: MLP,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    epochs: int = 10,
    batch_size: int = 32,
    optimizer: str | Optimizer = "sgd",
    lr: float = 0.1,
    schedule: Callable[[int], float] | None = None,
    X_val: np.ndarray | None = None,
    Y_val: np.ndarray | None = None,
    early_stopping: int | None = None,
    seed: int | None = 0,
    callback: Callable[[int, History, MLP], bool | None] | None = None,
    progress: bool = False,
) -> History:
    """Train ``net`` in place on ``X (n_0, m)`` and targets ``Y`` (``(n_L, m)`` or labels ``(m,)``).

    Parameters
    ----------
    optimizer:
        An :class:`course.optim.Optimizer` or a name (``"sgd"``, ``"momentum"``, ``"nesterov"``,
        ``"adagrad"``, ``"rmsprop"``, ``"adam"``) built with learning rate ``lr``.
    schedule:
        ``schedule(epoch) -> lr``, applied at the start of every epoch.
    early_stopping:
        Patience in epochs: stop when the validation cost has not improved for that many epochs
        and put back the parameters of the best epoch (needs ``X_val``/``Y_val``).
    callback:
        Called as ``callback(epoch, history, net)`` after every epoch (for live plots); returning
        ``True`` stops training.
    progress:
        Show a tqdm progress bar over the epochs.
    """
    instance("net", net, MLP, what="a course.mlp.MLP", fix=_NET_FIX, caller="train")
    epochs = integer("epochs", epochs, at_least=0, example=10, caller="train")
    if early_stopping is not None:
        early_stopping = integer(
            "early_stopping", early_stopping, at_least=1, example=5, caller="train"
        )
    for name, fn in (("schedule", schedule), ("callback", callback)):
        if fn is not None:
            instance(name, fn, Callable, what="a function or None", caller="train")
    X = net._check_X(X)
    T = net._check_Y(Y, X.shape[1])
    has_val = X_val is not None or Y_val is not None
    if has_val and (X_val is None or Y_val is None):
        raise ValueError("pass both X_val and Y_val, or neither")
    if early_stopping is not None and not has_val:
        raise ValueError("early_stopping needs validation data: pass X_val and Y_val")
    if isinstance(optimizer, str):
        choice("optimizer", optimizer, OPTIMIZERS, example="adam", caller="train")
        opt = make_optimizer(optimizer, lr=lr)
    else:
        what = "a name such as 'adam' or a course.optim.Optimizer"
        opt = instance("optimizer", optimizer, Optimizer, what=what, caller="train")
    batches = BatchGenerator(X.shape[1], batch_size, seed=seed)
    history = History()
    best_loss, best_params, waited = np.inf, None, 0

    epoch_iter = range(epochs)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        epoch_iter = bar = tqdm(epoch_iter, desc="training", unit="epoch")

    for epoch in epoch_iter:
        if schedule is not None:
            opt.lr = float(schedule(epoch))
        history.lr.append(opt.lr)
        # A diverging run overflows somewhere; instead of numpy's warnings from deep inside a
        # matrix product, the learner gets one clear error below when the cost is not finite.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for idx in batches:
                net._step(X[:, idx], T[:, idx], opt)
            loss = net.loss(X, T)
        if not np.isfinite(loss):
            raise FloatingPointError(
                f"the training cost became {loss} at epoch {epoch + 1}: the learning rate "
                f"({opt.lr:g}) is probably too large; try a value 10 times smaller"
            )
        acc = None if net.head.output == "identity" else net.accuracy(X, T)
        history.train_loss.append(loss)
        if acc is not None:
            history.train_acc.append(acc)
        if has_val:
            vloss, vacc = evaluate(net, X_val, Y_val)
            history.val_loss.append(vloss)
            if vacc is not None:
                history.val_acc.append(vacc)
        if bar is not None:
            shown = {"loss": f"{loss:.4f}"}
            if has_val:
                shown["val_loss"] = f"{history.val_loss[-1]:.4f}"
            bar.set_postfix(shown)

        if early_stopping is not None:
            if history.val_loss[-1] < best_loss - 1e-12:
                best_loss, waited = history.val_loss[-1], 0
                best_params = {k: v.copy() for k, v in net.params.items()}
                history.best_epoch = epoch + 1
            else:
                waited += 1
                if waited >= early_stopping:
                    history.stopped_early = True
        if callback is not None and callback(epoch, history, net):
            break
        if history.stopped_early:
            break

    if bar is not None:
        bar.close()
    if best_params is not None:
        for k, v in best_params.items():
            net.params[k][...] = v
    return history
