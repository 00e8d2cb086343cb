"""Plots of a training run (the lectures on training MLPs): loss per epoch, decision regions.

* :func:`plot_history` draws loss and accuracy per epoch (the :class:`course.train.History` of a
  training run).
* :func:`plot_decision_boundary` colours the plane by the class a classifier predicts.

matplotlib is imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from course import arguments
from course.viz.common import _check_ax, _check_title

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_history", "plot_decision_boundary"]


# --------------------------------------------------------------------------------------------
# plot_history
# --------------------------------------------------------------------------------------------

_HISTORY_FIELDS = ("train_loss", "val_loss", "train_acc", "val_acc")


def _history_series(history: Any) -> dict[str, np.ndarray]:
    out = {}
    for name in _HISTORY_FIELDS:
        if isinstance(history, Mapping):
            raw = history.get(name, [])
        elif hasattr(history, name):
            raw = getattr(history, name)
        else:
            raise TypeError(
                f"plot_history(history): history must have the attributes "
                f"{', '.join(_HISTORY_FIELDS)} (lists of floats, one per epoch), but the given "
                f"{type(history).__name__} has no attribute {name!r}. Pass the History returned "
                "by course.train.train, or any object or dict with those four lists."
            )
        if raw is None:
            raw = []
        arr = arguments.array(
            f"history.{name}", raw, finite=False, caller="plot_history", dtype=float
        )
        if arr.ndim != 1:
            raise ValueError(
                f"plot_history(history): history.{name} must be 1-D (one number per epoch), got "
                f"an array of shape {arr.shape}. Append one float per epoch, e.g. "
                f"history.{name}.append(float(loss))."
            )
        out[name] = arr
    if not any(len(a) for a in out.values()):
        raise ValueError(
            "plot_history(history): every list in history is empty, so there is nothing to "
            "plot. Train for at least one epoch first."
        )
    return out


def plot_history(history: Any, ax: Axes | Sequence[Axes] | None = None) -> Figure:
    """Loss, and accuracy if recorded, per epoch for the training and the validation set.

    Parameters
    ----------
    history:
        Any object (or dict) with ``train_loss``, ``val_loss``, ``train_acc``, ``val_acc``: lists
        of floats of shape ``(n_epochs,)``, entry ``i`` belonging to epoch ``i + 1``; any of them
        may be empty (empty lists are not drawn). :class:`course.train.History` fits.
    ax:
        ``None`` for a new figure (one panel for the loss, a second for the accuracy if any was
        recorded); one Axes (the loss there, the accuracy on a twin axis at the right); or a pair
        of Axes ``(loss_ax, acc_ax)``.

    Returns
    -------
    matplotlib.figure.Figure
        One solid line per non-empty loss list and one per non-empty accuracy list
        (training in blue, validation in orange).
    """
    from matplotlib.axes import Axes as _Axes
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    series = _history_series(history)
    has_acc = bool(len(series["train_acc"]) or len(series["val_acc"]))
    own_figure = ax is None
    if ax is None:
        fig = Figure(figsize=(9.0, 3.8) if has_acc else (6.0, 4.0))
        axes = fig.subplots(1, 2 if has_acc else 1, squeeze=False)[0]
        loss_ax, acc_ax = axes[0], (axes[1] if has_acc else None)
    elif isinstance(ax, _Axes):
        fig = ax.figure
        loss_ax = ax
        acc_ax = ax.twinx() if has_acc else None
    elif isinstance(ax, Sequence) and len(ax) == 2 and all(isinstance(a, _Axes) for a in ax):
        loss_ax, acc_ax = ax[0], ax[1]
        fig = loss_ax.figure
    else:
        raise TypeError(
            f"plot_history: ax must be None, a matplotlib Axes, or a pair (loss_ax, acc_ax) of "
            f"Axes, got {type(ax).__name__}. Pass ax=None to get a new figure."
        )
    twin = acc_ax is not None and not own_figure and isinstance(ax, _Axes)
    colours = {"train": "#1f77b4", "val": "#ff7f0e"}
    names = {"train": "training", "val": "validation"}

    def draw(target: Axes, kind: str, linestyle: str) -> list:
        handles = []
        for part in ("train", "val"):
            ys = series[f"{part}_{kind}"]
            if len(ys):
                epochs = np.arange(1, len(ys) + 1)
                (line,) = target.plot(
                    epochs,
                    ys,
                    linestyle=linestyle,
                    marker="o" if len(ys) <= 30 else None,
                    markersize=4,
                    color=colours[part],
                    linewidth=1.8,
                    label=f"{names[part]} {'loss' if kind == 'loss' else 'accuracy'}",
                )
                handles.append(line)
        target.set_xlabel("epoch", fontsize=11)
        target.xaxis.set_major_locator(MaxNLocator(integer=True))
        target.tick_params(labelsize=10)
        return handles

    loss_handles = draw(loss_ax, "loss", "-")
    loss_ax.set_ylabel("loss", fontsize=11)
    loss_ax.grid(True, alpha=0.3)
    acc_handles = []
    if acc_ax is not None:
        acc_handles = draw(acc_ax, "acc", "--" if twin else "-")
        acc_ax.set_ylabel("accuracy", fontsize=11)
        if not twin:
            acc_ax.grid(True, alpha=0.3)
            acc_ax.set_title("Accuracy per epoch", fontsize=12)
    if twin:
        loss_ax.set_title("Loss and accuracy per epoch", fontsize=12)
        loss_ax.legend(handles=loss_handles + acc_handles, fontsize=10)
    else:
        loss_ax.set_title("Loss per epoch", fontsize=12)
        if loss_handles:
            loss_ax.legend(fontsize=10)
        if acc_handles:
            acc_ax.legend(fontsize=10)
    if own_figure:
        fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# plot_decision_boundary
# --------------------------------------------------------------------------------------------


def _as_labels(arr: np.ndarray, what: str, fix: str) -> np.ndarray:
    if arr.dtype == bool:
        return arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{what} must hold integer class labels, got dtype {arr.dtype}. {fix}")
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.int64)
    if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
        raise ValueError(
            f"{what} must hold integer class labels (0, 1, 2, ...), got non-integer values "
            f"such as {arr[~np.isfinite(arr) | (arr != np.round(arr))][:3].tolist()}. "
            f"{fix}"
        )
    return arr.astype(np.int64)


def plot_decision_boundary(
    predict: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    ax: Axes | None = None,
    resolution: int = 200,
    title: str | None = None,
) -> Figure:
    """The regions of the plane a classifier assigns to each class, with the data on top.

    Parameters
    ----------
    predict:
        A function taking points ``G`` of shape ``(2, k)`` (one point per column) and returning
        integer class labels of shape ``(k,)`` (``(1, k)`` is accepted too), e.g. ``net.predict``.
    X:
        The data, shape ``(2, m)``: one sample per column, rows ``x1`` and ``x2``.
    y:
        Integer class labels, shape ``(m,)``.
    ax:
        An Axes to draw into, or ``None`` for a new figure.
    resolution:
        Grid points per axis (an int from 2 to 2000); ``predict`` is called once on
        ``resolution**2`` points.
    title:
        The title; ``None`` gives "Decision regions" with the accuracy of ``predict`` on ``X``.

    Returns
    -------
    matplotlib.figure.Figure
        Filled class regions (``contourf``), class boundaries in black, and one scatter per class
        (points coloured by their true label, edged in black).
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure

    fn = "plot_decision_boundary"
    if not callable(predict):
        raise TypeError(
            f"{fn}: predict must be a function from points (2, k) to labels (k,), got "
            f"{type(predict).__name__}. Pass e.g. net.predict or lambda G: (G[0] > 0).astype(int)."
        )
    _check_ax(ax, fn)
    _check_title(title, fn)
    resolution = arguments.integer(
        "resolution",
        resolution,
        at_least=2,
        at_most=2000,
        fix="200 grid points per axis (the default) is plenty for a smooth picture",
        caller=fn,
    )
    X = arguments.array("X", X, finite=False, caller=fn, dtype=float)
    if X.ndim != 2 or X.shape[0] != 2:
        hint = (
            " It looks like one sample per row: pass X.T."
            if X.ndim == 2 and X.shape[1] == 2
            else ""
        )
        raise ValueError(
            f"{fn}: X must have shape (2, m), one 2-D sample per column, got shape {X.shape}.{hint}"
        )
    m = X.shape[1]
    if m == 0:
        raise ValueError(f"{fn}: X has shape {X.shape}: no samples to draw. Pass at least one.")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{fn}: X contains NaN or infinite values; remove those samples first.")
    y_arr = np.asarray(y)
    if y_arr.shape != (m,):
        hint = " Flatten it with y.ravel()." if y_arr.size == m else ""
        raise ValueError(
            f"{fn}: y must have shape (m,) = ({m},), one label per column of X, got shape "
            f"{y_arr.shape}.{hint}"
        )
    y_arr = _as_labels(y_arr, f"{fn}: y", "Pass class labels such as 0/1, not one-hot rows.")

    pad_x = 0.08 * (np.ptp(X[0]) or 1.0)
    pad_y = 0.08 * (np.ptp(X[1]) or 1.0)
    g1 = np.linspace(X[0].min() - pad_x, X[0].max() + pad_x, resolution)
    g2 = np.linspace(X[1].min() - pad_y, X[1].max() + pad_y, resolution)
    xx, yy = np.meshgrid(g1, g2)
    grid = np.vstack([xx.ravel(), yy.ravel()])

    def run(points: np.ndarray) -> np.ndarray:
        k = points.shape[1]
        out = np.asarray(predict(points))
        if out.size != k or (out.ndim == 2 and 1 not in out.shape) or out.ndim > 2:
            raise ValueError(
                f"{fn}: predict(G) with G of shape {points.shape} must return {k} labels, shape "
                f"({k},), got shape {out.shape}. If it returns scores or one-hot columns, wrap "
                "it: lambda G: np.argmax(scores(G), axis=0)."
            )
        return _as_labels(
            out.ravel(),
            f"{fn}: predict(G)",
            "It seems to return scores or probabilities: threshold them, e.g. "
            "lambda G: (proba(G) > 0.5).astype(int).",
        )

    Z = run(grid).reshape(xx.shape)
    acc = float(np.mean(run(X) == y_arr))

    classes = np.unique(np.concatenate([np.unique(y_arr), np.unique(Z)]))
    base = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    ]  # fmt: skip
    colours = [base[i % len(base)] for i in range(len(classes))]
    cmap = ListedColormap(colours)
    zi = np.searchsorted(classes, Z)
    levels = np.arange(len(classes) + 1) - 0.5

    own_figure = ax is None
    if ax is None:
        fig = Figure(figsize=(6.0, 5.0))
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    ax.contourf(xx, yy, zi, levels=levels, cmap=cmap, vmin=-0.5, vmax=len(classes) - 0.5,
                alpha=0.28)  # fmt: skip
    if len(np.unique(zi)) > 1:
        ax.contour(xx, yy, zi, levels=levels[1:-1], colors="black", linewidths=0.8, alpha=0.6)
    for i, c in enumerate(classes):
        mask = y_arr == c
        if mask.any():
            ax.scatter(
                X[0, mask],
                X[1, mask],
                s=28 if m <= 500 else 10,
                color=colours[i],
                edgecolors="black",
                linewidths=0.5,
                label=f"class {c}",
                zorder=3,
            )
    ax.set_xlabel("x1", fontsize=11)
    ax.set_ylabel("x2", fontsize=11)
    ax.tick_params(labelsize=10)
    ax.set_xlim(g1[0], g1[-1])
    ax.set_ylim(g2[0], g2[-1])
    ax.set_title(
        title if title is not None else f"Decision regions (accuracy on these points {acc:.1%})",
        fontsize=12,
    )
    ax.legend(fontsize=10, loc="best", framealpha=0.85)
    if own_figure:
        fig.tight_layout()
    return fig
