"""A training dashboard in the spirit of TensorFlow Playground (mini-batch training, live).

:class:`Playground` is a plain object that holds everything one small experiment needs: a 2-D
dataset split into training and validation columns (``X`` of shape ``(2, m)``, labels of shape
``(m,)``), an MLP with a softmax + cross-entropy output over the classes, an optimizer, the
mini-batch generator and the per-epoch history. ``step(epochs)`` trains, ``figure()`` draws the
decision regions next to the loss curves, ``summary()`` says where training stands, and
``configure(**settings)`` changes a hyper-parameter (which starts a fresh network).

:func:`dashboard` wraps a playground in ipywidgets controls (dataset, depth, width, activation,
learning rate, batch size, optimizer, L2) and Start / Pause / Step / Reset buttons. Start trains
in an asyncio task that yields to the kernel between epochs, so the other buttons keep working
while it runs. Everything here is deterministic for a seed; matplotlib and ipywidgets are
imported only when something is drawn or built.
"""

from __future__ import annotations

import asyncio
import html
import io
from typing import Any

import numpy as np

from course.activations import HIDDEN_ACTIVATIONS
from course.arguments import choice, instance, integer, real
from course.data import (
    BatchGenerator,
    blobs,
    circles,
    moons,
    spirals,
    train_test_split,
    xor,
)
from course.mlp import MLP
from course.optim import OPTIMIZERS, make_optimizer
from course.train import History

__all__ = ["DATASETS", "Playground", "Dashboard", "dashboard", "make_dataset"]

#: The datasets a playground can train on.
DATASETS = ("moons", "circles", "spirals", "blobs", "xor")
#: Fraction of the ``m`` samples held out for validation.
VAL_FRACTION = 0.25
#: The settings :meth:`Playground.configure` accepts, in the order of the constructor.
SETTINGS = (
    "dataset",
    "hidden_layers",
    "units",
    "activation",
    "lr",
    "batch_size",
    "optimizer",
    "l2",
    "m",
    "seed",
)


# --------------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------------


def _noisy_xor(m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``m`` points scattered around the four corners of the XOR truth table, centred at 0."""
    corners, labels = xor()  # (2, 4) inputs in {0, 1}, (1, 4) targets
    rng = np.random.default_rng(seed)
    which = rng.permutation(np.arange(m) % 4)
    X = 2.0 * corners[:, which] - 1.0 + 0.3 * rng.standard_normal((2, m))
    return X, labels[0, which].astype(np.int64)


def make_dataset(name: str, m: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The named 2-D dataset: ``X`` of shape ``(2, m)`` and integer labels ``y`` of shape ``(m,)``.

    ``moons``, ``circles`` and ``xor`` have two classes, ``spirals`` and ``blobs`` three. ``xor``
    puts ``m / 4`` noisy points around each corner ``(+-1, +-1)``, labelled by the XOR table.
    """
    name = choice("dataset", name, DATASETS)
    m = integer("m", m, at_least=20, example=200)
    if name == "moons":
        return moons(m, noise=0.15, seed=seed)
    if name == "circles":
        return circles(m, noise=0.08, seed=seed)
    if name == "spirals":
        return spirals(m, classes=3, noise=0.2, seed=seed)
    if name == "blobs":
        return blobs(m, centers=3, std=0.9, seed=seed)
    return _noisy_xor(m, seed)


# --------------------------------------------------------------------------------------------
# argument checks
# --------------------------------------------------------------------------------------------


def _check_settings(s: dict[str, Any]) -> dict[str, Any]:
    """Validated copies of the settings (names as in :data:`SETTINGS`)."""
    return {
        "dataset": choice("dataset", s["dataset"], DATASETS),
        "hidden_layers": integer(
            "hidden_layers", s["hidden_layers"], at_least=1, at_most=8, example=2
        ),
        "units": integer("units", s["units"], at_least=1, at_most=256, example=8),
        "activation": choice("activation", s["activation"], HIDDEN_ACTIVATIONS, example="tanh"),
        "lr": real("lr", s["lr"], greater_than=0, example=0.03),
        "batch_size": integer("batch_size", s["batch_size"], at_least=1, example=16),
        "optimizer": choice("optimizer", s["optimizer"], tuple(OPTIMIZERS), example="adam"),
        "l2": real("l2", s["l2"], at_least=0, fix="pass e.g. l2=0.001 (or 0 for none)"),
        "m": integer("m", s["m"], at_least=20, at_most=100_000, example=200),
        "seed": integer("seed", s["seed"], at_least=0, example=0),
    }


# --------------------------------------------------------------------------------------------
# the plain playground
# --------------------------------------------------------------------------------------------


class Playground:
    """One classifier on one 2-D dataset, trained epoch by epoch with mini-batches.

    Attributes
    ----------
    X_train, y_train, X_val, y_val:
        The data, ``(2, m_train)`` / ``(m_train,)`` and ``(2, m_val)`` / ``(m_val,)``; a stratified
        quarter of the ``m`` samples is held out for validation.
    net:
        The :class:`course.mlp.MLP` ``2 -> units x hidden_layers -> K`` (softmax output, K classes).
    opt, batches:
        The optimizer and the :class:`course.data.BatchGenerator` over the training columns.
    history:
        A :class:`course.train.History` with one entry per finished epoch.
    diverged:
        True when the last :meth:`step` stopped because the cost became inf or NaN (the
        parameters are then those of the last finite epoch).
    """

    def __init__(
        self,
        dataset: str = "moons",
        hidden_layers: int = 2,
        units: int = 8,
        activation: str = "tanh",
        lr: float = 0.03,
        batch_size: int = 16,
        optimizer: str = "adam",
        l2: float = 0.0,
        m: int = 200,
        seed: int = 0,
    ) -> None:
        given = dict(zip(SETTINGS, (dataset, hidden_layers, units, activation, lr, batch_size,
                                    optimizer, l2, m, seed)))  # fmt: skip
        self.settings: dict[str, Any] = _check_settings(given)
        self.reset()

    def __getattr__(self, name: str) -> Any:
        # pg.lr, pg.dataset, ... read the current settings
        settings = self.__dict__.get("settings", {})
        if name in settings:
            return settings[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def epoch(self) -> int:
        """Number of finished epochs since the last reset."""
        return self.history.epochs

    def reset(self) -> None:
        """Rebuild data, network, optimizer, batches and history from the current settings."""
        s = self.settings
        X, y = make_dataset(s["dataset"], s["m"], s["seed"])
        self.X_train, self.X_val, self.y_train, self.y_val = train_test_split(
            X, y, test_fraction=VAL_FRACTION, seed=s["seed"], stratify=True
        )
        classes = int(y.max()) + 1
        sizes = [2] + [s["units"]] * s["hidden_layers"] + [classes]
        self.net = MLP(sizes, hidden=s["activation"], output="softmax", loss="cross_entropy",
                       l2=s["l2"], seed=s["seed"])  # fmt: skip
        self.opt = make_optimizer(s["optimizer"], lr=s["lr"])
        self.batches = BatchGenerator(self.X_train.shape[1], s["batch_size"], seed=s["seed"])
        self.history = History()
        self.diverged = False

    def configure(self, **settings: Any) -> None:
        """Change settings (any of :data:`SETTINGS`) and :meth:`reset` the network.

        Example: ``pg.configure(optimizer="sgd", lr=0.3)``.
        """
        unknown = sorted(set(settings) - set(SETTINGS))
        if unknown:  # as Python does for an unexpected keyword argument
            raise TypeError(
                f"configure got unknown setting(s) {unknown}; expected some of "
                f"{', '.join(SETTINGS)}: check the spelling"
            )
        self.settings = _check_settings({**self.settings, **settings})
        self.reset()

    def step(self, epochs: int = 1) -> int:
        """Train ``epochs`` epochs (one epoch = one pass over shuffled mini-batches).

        After every epoch the training and validation cost and accuracy are appended to
        :attr:`history`. Returns the number of epochs run: fewer than asked if the cost stops
        being finite (then :attr:`diverged` is set and the last finite parameters are kept).
        """
        epochs = integer("epochs", epochs, at_least=0, example=1)
        net, opt, X, y = self.net, self.opt, self.X_train, self.y_train
        for done in range(epochs):
            saved = {k: v.copy() for k, v in net.params.items()}
            with np.errstate(all="ignore"):
                for idx in self.batches:
                    net.step(X[:, idx], y[idx], opt)
                loss = net.loss(X, y)
                val_loss = net.loss(self.X_val, self.y_val)
            if not (np.isfinite(loss) and np.isfinite(val_loss)):
                for k, v in saved.items():
                    net.params[k][...] = v
                self.diverged = True
                return done
            h = self.history
            h.train_loss.append(loss)
            h.val_loss.append(val_loss)
            h.train_acc.append(net.accuracy(X, y))
            h.val_acc.append(net.accuracy(self.X_val, self.y_val))
            h.lr.append(opt.lr)
        return epochs

    def metrics(self) -> dict[str, float]:
        """Current ``train_loss``, ``val_loss``, ``train_acc``, ``val_acc`` of the network."""
        net = self.net
        with np.errstate(all="ignore"):
            return {
                "train_loss": net.loss(self.X_train, self.y_train),
                "val_loss": net.loss(self.X_val, self.y_val),
                "train_acc": net.accuracy(self.X_train, self.y_train),
                "val_acc": net.accuracy(self.X_val, self.y_val),
            }

    def title(self) -> str:
        """``epoch N: train loss .. (acc ..), validation loss .. (acc ..)``."""
        v = self.metrics()
        return (
            f"epoch {self.epoch}: train loss {v['train_loss']:.3f} (acc {v['train_acc']:.1%}), "
            f"validation loss {v['val_loss']:.3f} (acc {v['val_acc']:.1%})"
        )

    def summary(self) -> str:
        """The settings, the network and where training stands, in two lines."""
        s = self.settings
        widths = "-".join(str(n) for n in self.net.sizes)
        l2 = f"L2 {s['l2']:g}" if s["l2"] else "no L2"
        lines = [
            f"{s['dataset']} ({self.X_train.shape[1]} training / {self.X_val.shape[1]} validation "
            f"points), {widths} {s['activation']} network ({self.net.num_parameters()} "
            f"parameters), {s['optimizer']} lr {s['lr']:.3g}, batch {s['batch_size']}, {l2}",
            self.title(),
        ]
        if self.diverged:
            lines.append("the cost diverged: lower the learning rate, then reset")
        return "\n".join(lines)

    def figure(self, resolution: int = 120, title: bool = True) -> Any:
        """Decision regions (left) and the loss curves (right), titled with :meth:`title`.

        Returns a ``matplotlib.figure.Figure`` (not registered with pyplot) with two Axes:
        ``"Decision regions"`` (training points as dots, validation points as triangles) and
        ``"Loss per epoch"`` (training and validation cost, one line each once an epoch ran).
        ``title=False`` leaves out the title line (the dashboard says it beside the controls).
        The figure is :data:`course.viz.DISPLAY_WIDTH` wide: a notebook shows it full size.
        """
        from matplotlib.figure import Figure

        from course.viz import DISPLAY_WIDTH, plot_decision_boundary, plot_history

        fig = Figure(figsize=(DISPLAY_WIDTH, 4.2 if title else 3.9))
        left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.0, 1.15]})
        with np.errstate(all="ignore"):
            plot_decision_boundary(self.net.predict, self.X_train, self.y_train, ax=left,
                                   resolution=resolution, title="Decision regions")  # fmt: skip
        for c in np.unique(self.y_val):  # same colours as plot_decision_boundary (tab10)
            cols = self.X_val[:, self.y_val == c]
            left.scatter(cols[0], cols[1], marker="^", s=34, color=f"C{c}", edgecolors="black",
                         linewidths=0.6, zorder=4, label=f"class {c} (validation)")  # fmt: skip
        handles, labels = left.get_legend_handles_labels()
        left.get_legend().remove()  # one legend row under the figure hides no data
        fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=10,
                   frameon=False, columnspacing=1.0, handletextpad=0.3)  # fmt: skip
        h = self.history
        if h.epochs:
            plot_history({"train_loss": h.train_loss, "val_loss": h.val_loss}, ax=right)
        else:
            right.set_title("Loss per epoch", fontsize=12)
            right.set_xlabel("epoch", fontsize=11)
            right.set_ylabel("loss", fontsize=11)
            right.text(0.5, 0.5, "no epoch yet:\npress Step or Start", ha="center",
                       va="center", fontsize=11, transform=right.transAxes)  # fmt: skip
        right.set_ylim(bottom=0)
        if title:
            fig.suptitle(self.title(), fontsize=12)
        # fixed margins rather than tight_layout: a live redraw is then about twice as fast
        top = 0.86 if title else 0.92
        fig.subplots_adjust(left=0.08, right=0.985, bottom=0.22, top=top, wspace=0.22)
        return fig

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.settings.items())
        return f"Playground({args})"


# --------------------------------------------------------------------------------------------
# the widget
# --------------------------------------------------------------------------------------------

BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 150)
L2_DEFAULT = 1e-3
#: Width of every cell of the dashboard's grid of controls, and of a control's description.
CONTROL_WIDTH = "290px"
DESCRIPTION_WIDTH = "110px"
L2_BOX_WIDTH = "56px"


class Dashboard:
    """ipywidgets controls and buttons driving a :class:`Playground` (see :func:`dashboard`).

    ``widget`` is the box to display; ``controls`` maps setting names (plus ``"l2_on"``, the
    check box that switches L2 on) to controls; ``buttons`` maps ``"start"``, ``"pause"``,
    ``"step"``, ``"reset"`` to buttons; ``image`` (an ipywidgets ``Image``) shows the PNG of
    ``playground.figure(title=False)`` (``last_figure``) and ``label`` (an ``HTML``, the one
    status line of the dashboard) the ``summary()``. ``task`` is the asyncio task of a running
    Start (``None`` before the first), ``running`` says whether it trains.

    The controls sit in a grid of equal cells (:data:`CONTROL_WIDTH` wide, their descriptions
    :data:`DESCRIPTION_WIDTH`), as many to a row as the page has room for, so that they line up
    in columns whatever the width of the page.
    """

    def __init__(
        self,
        playground: Playground | None = None,
        interval: float = 0.05,
        max_epochs: int = 1000,
        dpi: int = 100,
        resolution: int = 120,
    ) -> None:
        import ipywidgets as W

        from course.widgets import _widget_base

        if playground is not None:
            what = "a course.playground.Playground or None"
            fix = "pass e.g. playground=Playground(dataset='circles')"
            instance("playground", playground, Playground, what=what, fix=fix)
        self.interval = real("interval", interval, at_least=0, example=0.05)
        self.max_epochs = integer("max_epochs", max_epochs, at_least=0, example=1000)
        self.dpi = integer("dpi", dpi, at_least=1, example=80)
        self.resolution = integer("resolution", resolution, at_least=2, at_most=2000, example=120)
        self.playground = playground if playground is not None else Playground()
        self.running = False
        self.task: asyncio.Task | None = None
        self.redraws = 0
        self.last_figure: Any = None
        s = self.playground.settings
        cell = {
            "style": {"description_width": DESCRIPTION_WIDTH},
            "layout": W.Layout(width=CONTROL_WIDTH),
        }
        self.controls: dict[str, Any] = {
            "dataset": W.Dropdown(options=DATASETS, value=s["dataset"], description="data",
                                  **cell),
            "hidden_layers": W.IntSlider(value=min(s["hidden_layers"], 4), min=1, max=4,
                                         description="hidden layers", **cell),
            "units": W.IntSlider(value=min(s["units"], 16), min=1, max=16,
                                 description="units per layer", **cell),
            "activation": W.Dropdown(options=HIDDEN_ACTIVATIONS, value=s["activation"],
                                     description="activation", **cell),
            "optimizer": W.Dropdown(options=tuple(OPTIMIZERS), value=s["optimizer"],
                                    description="optimizer", **cell),
            "batch_size": W.Dropdown(options=sorted({*BATCH_SIZES, s["batch_size"]}),
                                     value=s["batch_size"], description="batch size", **cell),
            "lr": W.FloatLogSlider(value=min(max(s["lr"], 1e-4), 1.0), base=10, min=-4, max=0,
                                   step=0.1, readout_format=".4f", description="learning rate",
                                   **cell),
            "l2_on": W.Checkbox(value=s["l2"] > 0, description="L2", indent=False,
                                layout=W.Layout(width=L2_BOX_WIDTH)),
            "l2": W.FloatLogSlider(value=min(max(s["l2"] or L2_DEFAULT, 1e-6), 1.0), base=10,
                                   min=-6, max=0, step=0.5, readout_format=".0e",
                                   description="lambda",
                                   style={"description_width": "initial"},
                                   layout=W.Layout(width="auto", flex="1 1 auto")),
        }  # fmt: skip
        self.buttons: dict[str, Any] = {
            name: W.Button(description=name.capitalize(), icon=icon, layout=W.Layout(width="90px"))
            for name, icon in (("start", "play"), ("pause", "pause"), ("step", "step-forward"),
                               ("reset", "undo"))
        }  # fmt: skip
        self.image = W.Image(format="png", layout=W.Layout(max_width="100%"))
        self.label = W.HTML()
        c = self.controls
        l2 = W.HBox([c["l2_on"], c["l2"]], layout=W.Layout(width=CONTROL_WIDTH))
        cells = [c[k] for k in ("dataset", "hidden_layers", "units", "activation", "optimizer",
                                "batch_size", "lr")] + [l2]  # fmt: skip
        self.grid = W.GridBox(
            cells,
            layout=W.Layout(grid_template_columns=f"repeat(auto-fill, {CONTROL_WIDTH})",
                            grid_gap="4px 12px", width="100%"),
        )  # fmt: skip
        rows = [self.grid, W.HBox(list(self.buttons.values()))]
        self.widget = _widget_base()(children=[*rows, self.label, self.image])
        for control in self.controls.values():
            control.observe(self._on_setting, names="value")
        self.buttons["start"].on_click(self._on_start)
        self.buttons["pause"].on_click(self._on_pause)
        self.buttons["step"].on_click(self._on_step)
        self.buttons["reset"].on_click(self._on_reset)
        if self.settings() != {k: s[k] for k in self.settings()}:
            # a setting outside a control's range was clipped: train what the controls show
            self.playground.configure(**self.settings())
        self.redraw()
        # a viewer without widgets shows this picture alone: with the status as its title line
        buf = io.BytesIO()
        self.playground.figure(self.resolution).savefig(buf, format="png", dpi=self.dpi)
        self.widget._preview_png = buf.getvalue()
        self.widget._text = f"[training dashboard: {self.playground!r}]"

    # -- what the controls hold --

    def settings(self) -> dict[str, Any]:
        """The playground settings the controls currently show."""
        c = self.controls
        values = {k: c[k].value for k in SETTINGS if k in c and k != "l2"}
        values["l2"] = float(c["l2"].value) if c["l2_on"].value else 0.0
        return values

    # -- actions (each calls the plain playground) --

    def redraw(self) -> None:
        """Show the playground's current figure and summary."""
        self.redraws += 1
        # the figure has fixed margins, so it is saved as is: no second pass to find a tight
        # bounding box (course.widgets.figure_to_png), which would make a live redraw slower
        buf = io.BytesIO()
        # the status is the label's alone: the figure goes without its title line
        self.last_figure = self.playground.figure(self.resolution, title=False)
        self.last_figure.savefig(buf, format="png", dpi=self.dpi)
        self.image.value = buf.getvalue()
        self.label.value = f"<pre>{html.escape(self.playground.summary())}</pre>"
        self.buttons["start"].disabled = self.running
        self.buttons["pause"].disabled = not self.running

    def start(self) -> asyncio.Task | None:
        """Train in the background, one epoch at a time, until :meth:`pause` (or max_epochs)."""
        if self.running:
            return self.task
        self.running = True
        self.buttons["start"].disabled = True
        self.buttons["pause"].disabled = False
        if self.task is None or self.task.done():
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # called outside a running loop (not from a kernel)
                loop = asyncio.get_event_loop()
            self.task = loop.create_task(self._run())
        # else: paused during the last sleep and not yet woken: that loop simply goes on
        return self.task

    async def _run(self) -> None:
        try:
            while self.running and self.playground.epoch < self.max_epochs:
                self.playground.step(1)
                if self.playground.diverged:
                    break
                self.redraw()
                await asyncio.sleep(self.interval)
        finally:
            self.running = False
            self.redraw()

    def pause(self) -> None:
        """Stop a running Start after the epoch in progress."""
        self.running = False
        self.buttons["start"].disabled = False
        self.buttons["pause"].disabled = True

    def step(self) -> None:
        """Pause, train exactly one epoch, redraw."""
        self.pause()
        self.playground.step(1)
        self.redraw()

    def reset(self) -> None:
        """Pause and start over with a fresh network (same settings)."""
        self.pause()
        self.playground.reset()
        self.redraw()

    # -- callbacks --

    def _on_setting(self, change: dict) -> None:
        self.pause()
        self.playground.configure(**self.settings())
        self.redraw()

    def _on_start(self, button: Any) -> None:
        self.start()

    def _on_pause(self, button: Any) -> None:
        self.pause()

    def _on_step(self, button: Any) -> None:
        self.step()

    def _on_reset(self, button: Any) -> None:
        self.reset()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def dashboard(playground: Playground | None = None, **options: Any) -> Dashboard:
    """The training dashboard for ``playground`` (a default :class:`Playground` if None).

    Leave the result as the last expression of a notebook cell to show it. ``options`` go to
    :class:`Dashboard` (``interval`` between epochs in seconds, ``max_epochs``, and
    the ``dpi`` and grid ``resolution`` of the picture).
    """
    return Dashboard(playground, **options)
