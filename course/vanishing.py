"""Activation functions at work: saturation and vanishing gradients through depth.

The lectures observe that the hidden activation's derivative ``f'`` multiplies the error term at
every layer of the backward pass,

    delta[l-1] = f'(Z[l-1]) * (W[l].T @ delta[l]),

so a deep stack of saturating units (the sigmoid's ``f'`` is at most 1/4) shrinks the gradients
of the first layers towards zero. This module draws the activations of :mod:`course.activations`
with their derivatives, measures ``||dJ/dW[l]||`` layer by layer in deep networks built with
:class:`course.mlp.MLP`, and provides the plain function behind the notebook's widget.

matplotlib is imported inside the plotting functions (``import course.vanishing`` stays cheap);
every plotting function returns a :class:`matplotlib.figure.Figure` and never calls ``plt.show()``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from course.activations import ACTIVATIONS, HIDDEN_ACTIVATIONS, maxout
from course.arguments import array, choice, instance, integer, real, sequence
from course.mlp import INITS, MLP

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "HIDDEN",
    "SATURATING",
    "SATURATION_LEVEL",
    "N_INPUTS",
    "plot_activation",
    "plot_all_activations",
    "saturation_regions",
    "layer_gradient_norms",
    "plot_gradient_norms",
    "activation_study",
    "maxout_demo",
]

#: The seven hidden activations, in the order the notebook presents them.
HIDDEN: tuple[str, ...] = tuple(HIDDEN_ACTIVATIONS)
#: Activations whose saturation regions :func:`plot_activation` shades.
SATURATING: tuple[str, ...] = ("sigmoid", "tanh")
#: A unit counts as saturated where ``|f'(z)| < SATURATION_LEVEL``.
SATURATION_LEVEL = 0.05
#: Inputs of the networks built by :func:`layer_gradient_norms`.
N_INPUTS = 10
#: Largest depth and width :func:`layer_gradient_norms` accepts (keeps every call well below 1 s).
MAX_DEPTH = 200
MAX_WIDTH = 1024

_F_COLOUR = "#1f77b4"
_PRIME_COLOUR = "#ff7f0e"
_COLOURS = {
    "sigmoid": "#d62728",
    "tanh": "#9467bd",
    "relu": "#2ca02c",
    "leaky_relu": "#17becf",
    "elu": "#8c564b",
    "softplus": "#e377c2",
    "swish": "#bcbd22",
}
# font sizes in points; every figure here is at most DISPLAY_WIDTH wide, so a notebook shows them
# as they are (course.viz.MIN_FONT_SIZE is the smallest)
_FS_TITLE = 12
_FS_LABEL = 11
_FS_TICK = 10
_FS_LEGEND = 10


# --------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------


def _check_name(name: Any, argument: str = "name") -> str:
    """The hidden activation ``name`` as spelled in :data:`HIDDEN`."""
    return choice(argument, name, HIDDEN, example="relu")


def _check_int(value: Any, argument: str, low: int, high: int, example: int) -> int:
    return integer(argument, value, at_least=low, at_most=high, example=example)


def _check_range(z_range: Any, argument: str = "z_range") -> tuple[float, float]:
    fix = f"pass e.g. {argument}=(-6, 6)"
    pair = sequence(argument, z_range, length=2, fix=fix)
    lo, hi = (real(f"{argument}[{i}]", v, fix=fix) for i, v in enumerate(pair))
    if not lo < hi:
        raise ValueError(
            f"{argument} must be a pair (low, high) with low < high, got {z_range!r}: {fix}"
        )
    return lo, hi


def _new_figure(rows: int, cols: int, size: tuple[float, float]) -> tuple[Figure, np.ndarray]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    return fig, fig.subplots(rows, cols, squeeze=False)


# --------------------------------------------------------------------------------------------
# Activations and their derivatives
# --------------------------------------------------------------------------------------------


def saturation_regions(
    name: str, z_range: tuple[float, float] = (-6, 6), level: float = SATURATION_LEVEL
) -> list[tuple[float, float]]:
    """Intervals of ``z_range`` where ``|f'(z)| < level``, as ``[(low, high), ...]``.

    Found on a grid of 4001 points, so the ends are accurate to ``(high - low) / 4000``. For the
    sigmoid with the default level 0.05 they start at ``|z| ~ 2.89``, for tanh at ``|z| ~ 2.18``.
    """
    activation = ACTIVATIONS[_check_name(name)]
    lo, hi = _check_range(z_range)
    z = np.linspace(lo, hi, 4001)
    flat = np.abs(activation.prime(z, activation.f(z))) < level
    regions = []
    start = None
    for i, inside in enumerate(flat):
        if inside and start is None:
            start = i
        if start is not None and (not inside or i == len(z) - 1):
            end = i if inside else i - 1
            regions.append((float(z[start]), float(z[end])))
            start = None
    return regions


def _draw_activation(
    ax: Axes, name: str, z_range: tuple[float, float], legend: bool = True
) -> None:
    """Two lines on ``ax``: ``f`` (solid blue) and ``f'`` (dashed orange); shaded saturation."""
    activation = ACTIVATIONS[name]
    z = np.linspace(z_range[0], z_range[1], 801)
    a = activation.f(z)
    ax.plot(z, a, color=_F_COLOUR, linewidth=2.0, label=f"f(z) = {name}(z)")
    ax.plot(
        z, activation.prime(z, a), color=_PRIME_COLOUR, linewidth=2.0, linestyle="--", label="f'(z)"
    )
    if name in SATURATING:
        for k, (lo, hi) in enumerate(saturation_regions(name, z_range)):
            ax.axvspan(
                lo,
                hi,
                color="0.5",
                alpha=0.18,
                linewidth=0,
                label=f"|f'| < {SATURATION_LEVEL:g} (saturated)" if k == 0 else None,
            )
    ax.axhline(0.0, color="0.6", linewidth=0.7, zorder=0)
    ax.axvline(0.0, color="0.6", linewidth=0.7, zorder=0)
    ax.set_xlim(*z_range)
    ax.set_title(name, fontsize=_FS_TITLE)
    ax.set_xlabel("z", fontsize=_FS_LABEL)
    ax.set_ylabel("value", fontsize=_FS_LABEL)
    ax.tick_params(labelsize=_FS_TICK)
    ax.grid(True, alpha=0.3)
    if legend:
        ax.legend(fontsize=_FS_LEGEND, loc="best")


def plot_activation(name: str, z_range: tuple[float, float] = (-6, 6)) -> Figure:
    """One activation ``f`` of :mod:`course.activations` and its derivative ``f'`` over ``z_range``.

    The axes holds two curves evaluated at 801 points ``z`` of shape ``(801,)``: ``f(z)`` (solid)
    and ``f'(z)`` (dashed), a legend, and the name as title. For the saturating sigmoid and tanh,
    the regions where ``|f'(z)| < 0.05`` are shaded grey (see :func:`saturation_regions`).
    """
    name = _check_name(name)
    z_range = _check_range(z_range)
    fig, axes = _new_figure(1, 1, (6.0, 4.0))
    _draw_activation(axes[0, 0], name, z_range)
    fig.tight_layout()
    return fig


def _maxout_pieces(
    w: Sequence[float], b: Sequence[float], x: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pieces ``(k, 1, m)``, maxout value ``(m,)`` and slope of the winning piece ``(m,)``."""
    w_arr = np.asarray(w, dtype=float).reshape(-1, 1, 1)
    b_arr = np.asarray(b, dtype=float).reshape(-1, 1, 1)
    pieces = w_arr * x.reshape(1, 1, -1) + b_arr
    value = maxout(pieces)[0]
    slope = w_arr[np.argmax(pieces, axis=0)[0], 0, 0]
    return pieces, value, slope


def plot_all_activations(z_range: tuple[float, float] = (-4, 4)) -> Figure:
    """A 3 x 3 grid: the seven hidden activations of :data:`HIDDEN`, a two-piece maxout, and one
    legend for all of them.

    Each of the first seven panels is :func:`plot_activation`'s drawing (two lines, ``f`` and
    ``f'``, titled with the name). The eighth shows ``max(z, -0.5 z)``, a maxout unit of two
    affine pieces, with its derivative (the slope of the winning piece). The ninth holds the
    legend the panels share: ``f(z)`` solid, ``f'(z)`` dashed, the saturated regions grey.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from course.viz import DISPLAY_WIDTH

    z_range = _check_range(z_range)
    fig, axes = _new_figure(3, 3, (DISPLAY_WIDTH, 9.0))
    for ax, name in zip(axes.flat, HIDDEN):
        _draw_activation(ax, name, z_range, legend=False)
    ax = axes.flat[len(HIDDEN)]
    z = np.linspace(z_range[0], z_range[1], 801)
    _, value, slope = _maxout_pieces((1.0, -0.5), (0.0, 0.0), z)
    ax.plot(z, value, color=_F_COLOUR, linewidth=2.0)
    ax.plot(z, slope, color=_PRIME_COLOUR, linewidth=2.0, linestyle="--")
    ax.axhline(0.0, color="0.6", linewidth=0.7, zorder=0)
    ax.axvline(0.0, color="0.6", linewidth=0.7, zorder=0)
    ax.set_xlim(*z_range)
    ax.set_title("maxout (2 pieces)", fontsize=_FS_TITLE)
    ax.set_xlabel("z", fontsize=_FS_LABEL)
    ax.set_ylabel("value", fontsize=_FS_LABEL)
    ax.tick_params(labelsize=_FS_TICK)
    ax.grid(True, alpha=0.3)
    key = axes.flat[len(HIDDEN) + 1]
    key.set_axis_off()
    key.legend(
        handles=[
            Line2D([], [], color=_F_COLOUR, linewidth=2.0, label="f(z), the activation"),
            Line2D([], [], color=_PRIME_COLOUR, linewidth=2.0, linestyle="--", label="f'(z)"),
            Patch(color="0.5", alpha=0.18, label=f"|f'| < {SATURATION_LEVEL:g}: saturated"),
        ],
        loc="center",
        fontsize=_FS_LABEL,
        frameon=False,
    )
    fig.suptitle("Activation functions f (solid) and their derivatives f' (dashed)", fontsize=13)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# Gradient norms through depth
# --------------------------------------------------------------------------------------------


def layer_gradient_norms(
    hidden: str,
    depth: int,
    width: int = 32,
    m: int = 64,
    seed: int = 0,
    init: str = "auto",
) -> np.ndarray:
    """``||dJ/dW[l]||_F`` for ``l = 1..depth+1`` in a fresh, untrained deep network.

    The network is ``MLP([10, width, ..., width, 1])`` with ``depth`` hidden layers of
    activation ``hidden`` and an identity output with half squared error: its output error term
    ``delta[L] = (yhat - t) / m`` contains no activation derivative, so every change of size
    from one layer to the next comes from the hidden layers' ``f'`` and weights.
    Weights are drawn by :func:`course.mlp.init_params` with ``init`` (``"auto"``: Xavier for
    sigmoid and tanh, He for the ReLU family) and ``seed``; the batch ``X`` of shape ``(10, m)``
    and the targets ``(1, m)`` are standard normal, drawn with ``np.random.default_rng(seed)``.
    The gradients come from :meth:`course.mlp.MLP.gradients` (Algorithm 2).

    Returns
    -------
    numpy.ndarray
        Shape ``(depth + 1,)``; entry ``l - 1`` is the Frobenius norm of ``dJ/dW[l]``, so the
        first entry belongs to the layer next to the inputs and the last to the output layer.
        With ``init="zeros"`` every entry but the last is 0 (the lectures' observation: with
        ``W = 0`` the error terms below the output vanish).
    """
    hidden = _check_name(hidden, "hidden")
    depth = _check_int(depth, "depth", 1, MAX_DEPTH, 10)
    width = _check_int(width, "width", 1, MAX_WIDTH, 32)
    m = _check_int(m, "m", 1, 100_000, 64)
    init = choice("init", init, INITS, example="auto")
    net = MLP(
        [N_INPUTS] + [width] * depth + [1],
        hidden=hidden,
        output="identity",
        loss="half_sse",
        seed=seed,
        init=init,
    )
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N_INPUTS, m))
    Y = rng.standard_normal((1, m))
    grads = net.gradients(X, Y)
    return np.array([np.linalg.norm(grads[f"W{l}"]) for l in net.layers])


def _draw_norms(ax: Axes, norms: dict[str, np.ndarray], depth: int) -> None:
    for name, values in norms.items():
        layers = np.arange(1, len(values) + 1)
        ax.semilogy(
            layers,
            values,
            marker="o",
            markersize=4,
            linewidth=1.8,
            color=_COLOURS.get(name),
            label=name,
        )
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("layer l (1 = next to the inputs)", fontsize=_FS_LABEL)
    ax.set_ylabel("||dJ/dW[l]|| (log scale)", fontsize=_FS_LABEL)
    ax.set_title(f"Gradient norm per layer, {depth} hidden layers", fontsize=_FS_TITLE)
    ax.tick_params(labelsize=_FS_TICK)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=_FS_LEGEND)


def plot_gradient_norms(
    hidden_names: Sequence[str],
    depth: int,
    width: int = 32,
    m: int = 64,
    seed: int = 0,
    init: str = "auto",
) -> Figure:
    """Semilog-y plot of :func:`layer_gradient_norms` for several activations on one axes.

    One line per name in ``hidden_names`` (``depth + 1`` points each, layer index on x), with the
    same ``width``, ``m``, ``seed`` and ``init`` for every activation, a legend and the title
    "Gradient norm per layer, <depth> hidden layers".
    """
    fix = "pass a list of activation names, e.g. hidden_names=['sigmoid', 'relu']"
    names = sequence("hidden_names", hidden_names, non_empty=True, fix=fix)
    hidden_names = [_check_name(name, "hidden_names") for name in names]
    norms = {
        name: layer_gradient_norms(name, depth, width=width, m=m, seed=seed, init=init)
        for name in hidden_names
    }
    fig, axes = _new_figure(1, 1, (7.0, 4.5))
    _draw_norms(axes[0, 0], norms, depth)
    fig.tight_layout()
    return fig


def activation_study(name: str, depth: int) -> tuple[Figure, str]:
    """What the notebook's widget shows for one activation and one depth.

    Left: ``f`` and ``f'`` of ``name`` over ``[-6, 6]`` (as :func:`plot_activation`). Right: the
    gradient norm per layer of :func:`layer_gradient_norms` (defaults, seed 0) for ``name`` and,
    when ``name`` is not the sigmoid, for the sigmoid to compare with.

    Returns the figure and one line of text such as
    ``"relu, depth 10: |dJ/dW1| / |dJ/dW11| = 0.126 (sigmoid: 6.52e-08)"``: the ratio of the
    first layer's gradient norm to the last layer's, i.e. how much of the error signal reaches
    the layer next to the inputs.
    """
    name = _check_name(name)
    depth = _check_int(depth, "depth", 1, MAX_DEPTH, 10)
    names = [name] if name == "sigmoid" else [name, "sigmoid"]
    norms = {n: layer_gradient_norms(n, depth) for n in names}
    fig, axes = _new_figure(1, 2, (9.0, 4.0))
    _draw_activation(axes[0, 0], name, (-6.0, 6.0))
    _draw_norms(axes[0, 1], norms, depth)
    fig.suptitle(f"{name} with {depth} hidden layers", fontsize=13)
    fig.tight_layout()

    def ratio(values: np.ndarray) -> float:
        return float(values[0] / values[-1])

    text = f"{name}, depth {depth}: |dJ/dW1| / |dJ/dW{depth + 1}| = {ratio(norms[name]):.3g}"
    if name != "sigmoid":
        text += f" (sigmoid: {ratio(norms['sigmoid']):.3g})"
    return fig, text


# --------------------------------------------------------------------------------------------
# Maxout
# --------------------------------------------------------------------------------------------


def _reference_label(fn: Callable) -> str:
    name = getattr(fn, "__name__", "")
    return f"reference: {name}" if name and not name.startswith("<") else "reference"


def maxout_demo(
    w: Sequence[float] = (1.0, -0.5),
    b: Sequence[float] = (0.0, 0.0),
    x_range: tuple[float, float] = (-3, 3),
    title: str | None = None,
    reference: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Figure:
    """A 1-D maxout unit ``f(x) = max_j (w_j x + b_j)`` drawn with its affine pieces.

    ``w`` and ``b`` hold the ``k`` slopes and intercepts (the slides' two-piece unit is
    ``max(w1 x + b1, w2 x + b2)``). Left panel: the ``k`` pieces (thin dashed lines) and their
    maximum (thick line), a convex piecewise-linear function; right panel: its derivative, the
    slope ``w_j`` of the winning piece (the gradient is routed to it, as by a max gate). The
    values come from :func:`course.activations.maxout` on pieces of shape ``(k, 1, 801)``.
    With ``reference`` (a function of ``x`` of shape ``(801,)``), that function is drawn too, as
    a grey dotted line labelled with its ``__name__``: e.g. a convex curve the pieces touch.
    So the figure has ``k + 1`` lines on the left (``k + 2`` with a reference) and one on the
    right.
    """
    w_arr = array("w", w, dtype=float)
    b_arr = array("b", b, dtype=float) + 0.0  # + 0.0 turns -0.0 into 0.0 for the labels
    if w_arr.ndim != 1 or len(w_arr) < 1:
        raise ValueError(
            f"w must be a non-empty list of finite slopes, got {w!r}: pass e.g. w=(1, -0.5)"
        )
    if b_arr.shape != w_arr.shape:
        raise ValueError(
            f"b must hold one finite intercept per slope in w ({len(w_arr)}), got {b!r}: "
            f"pass e.g. b={tuple([0.0] * len(w_arr))}"
        )
    if reference is not None:
        what = "a function of x or None"
        instance("reference", reference, Callable, what=what, fix="pass e.g. reference=np.square")
    if title is not None:
        instance("title", title, str, what="a string or None", fix="pass e.g. title='maxout'")
    lo, hi = _check_range(x_range, "x_range")
    x = np.linspace(lo, hi, 801)
    pieces, value, slope = _maxout_pieces(w_arr, b_arr, x)
    entries = len(w_arr) + 1 + (reference is not None)  # in the legend under the left panel
    fig, axes = _new_figure(1, 2, (9.0, 4.0 + 0.14 * ((entries + 1) // 2)))
    left, right = axes[0]
    for j in range(len(w_arr)):
        left.plot(
            x,
            pieces[j, 0],
            linestyle="--",
            linewidth=1.0,
            alpha=0.8,
            label=f"piece {j + 1}: {w_arr[j]:g} x + {b_arr[j]:g}".replace("+ -", "- "),
        )
    left.plot(x, value, color="k", linewidth=2.6, label="maxout: max of the pieces")
    if reference is not None:
        left.plot(
            x,
            np.asarray(reference(x), dtype=float),
            color="0.45",
            linestyle=":",
            linewidth=2.0,
            label=_reference_label(reference),
        )
    span = value.max() - value.min()
    left.set_ylim(value.min() - 0.15 * span - 0.1, value.max() + 0.15 * span + 0.1)
    right.plot(x, slope, color=_PRIME_COLOUR, linewidth=2.0, label="f'(x) = slope of the winner")
    k = len(w_arr)
    left.set_title(title or f"Maxout of {k} affine piece{'s' * (k > 1)}", fontsize=_FS_TITLE)
    right.set_title("Its derivative", fontsize=_FS_TITLE)
    for ax, ylabel in ((left, "f(x)"), (right, "f'(x)")):
        ax.set_xlim(lo, hi)
        ax.set_xlabel("x", fontsize=_FS_LABEL)
        ax.set_ylabel(ylabel, fontsize=_FS_LABEL)
        ax.tick_params(labelsize=_FS_TICK)
        ax.grid(True, alpha=0.3)
    # the pieces' legend under the drawing, where it hides none of it, in two columns
    left.legend(fontsize=_FS_LEGEND, loc="upper center", bbox_to_anchor=(0.5, -0.17), ncol=2,
                frameon=False, columnspacing=1.0, handlelength=1.6)  # fmt: skip
    right.legend(fontsize=_FS_LEGEND, loc="upper left")
    fig.tight_layout()
    return fig
