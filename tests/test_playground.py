"""Tests of course.playground: the plain Playground and its dashboard, driven without a browser."""

from __future__ import annotations

import asyncio
import base64

import matplotlib

matplotlib.use("Agg")

import ipywidgets as W  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from readable import smallest_text  # noqa: E402

from course.data import moons, train_test_split  # noqa: E402
from course.mlp import MLP  # noqa: E402
from course.optim import Adam, make_optimizer  # noqa: E402
from course.playground import (  # noqa: E402
    CONTROL_WIDTH,
    DATASETS,
    DESCRIPTION_WIDTH,
    Playground,
    dashboard,
    make_dataset,
)
from course.viz import MIN_FONT_SIZE  # noqa: E402


def test_step_lowers_the_loss_and_grows_the_history():
    pg = Playground(dataset="moons", seed=0)
    before = pg.metrics()["train_loss"]
    assert pg.step(5) == 5
    h = pg.history
    assert pg.epoch == 5
    assert len(h.train_loss) == len(h.val_loss) == len(h.train_acc) == len(h.val_acc) == 5
    assert h.train_loss[-1] < 0.8 * before
    assert h.train_loss[-1] < h.train_loss[0]
    pg.step(2)
    assert len(h.train_loss) == 7
    assert h.train_loss[-1] == pytest.approx(pg.metrics()["train_loss"])


def test_one_epoch_is_one_pass_of_net_step_over_the_batch_generator():
    # the same epoch by hand: data, split, network, optimizer and batches built independently
    pg = Playground(dataset="moons", hidden_layers=1, units=5, lr=0.05, batch_size=16, seed=3)
    X, y = moons(200, noise=0.15, seed=3)
    X_train, X_val, y_train, y_val = train_test_split(X, y, 0.25, seed=3, stratify=True)
    np.testing.assert_array_equal(pg.X_train, X_train)
    net = MLP([2, 5, 2], hidden="tanh", output="softmax", loss="cross_entropy", seed=3)
    opt = Adam(lr=0.05)
    rng = np.random.default_rng(3)
    order = rng.permutation(X_train.shape[1])
    for start in range(0, order.size, 16):
        idx = order[start : start + 16]
        net.step(X_train[:, idx], y_train[idx], opt)
    pg.step(1)
    for k, v in net.params.items():
        np.testing.assert_allclose(pg.net.params[k], v, rtol=0, atol=1e-14)
    assert pg.history.val_loss[0] == pytest.approx(net.loss(X_val, y_val), abs=1e-14)
    assert pg.history.val_acc[0] == pytest.approx(net.accuracy(X_val, y_val))


def test_configure_changes_a_setting_and_resets():
    pg = Playground(seed=1)
    pg.step(3)
    pg.configure(units=4, optimizer="sgd", lr=0.5)
    assert pg.epoch == 0 and pg.history.train_loss == []
    assert pg.units == 4 and pg.net.sizes == [2, 4, 4, 2]
    assert type(pg.opt) is type(make_optimizer("sgd", lr=0.5)) and pg.opt.lr == 0.5
    pg.configure(dataset="spirals")
    assert pg.dataset == "spirals" and pg.net.sizes[-1] == 3
    pg.configure(l2=0.01)
    assert pg.net.l2 == 0.01


def test_reset_restores_the_initial_network():
    pg = Playground(seed=2)
    start = {k: v.copy() for k, v in pg.net.params.items()}
    pg.step(2)
    assert not np.allclose(pg.net.params["W1"], start["W1"])
    pg.reset()
    assert pg.epoch == 0
    for k, v in start.items():
        np.testing.assert_array_equal(pg.net.params[k], v)


def test_deterministic_for_a_seed():
    a, b, c = Playground(seed=4), Playground(seed=4), Playground(seed=5)
    for pg in (a, b, c):
        pg.step(4)
    assert a.history.train_loss == b.history.train_loss
    assert a.history.val_acc == b.history.val_acc
    assert a.history.train_loss != c.history.train_loss


@pytest.mark.parametrize("name", DATASETS)
def test_datasets_have_the_right_shapes_and_classes(name):
    X, y = make_dataset(name, m=120, seed=0)
    assert X.shape == (2, 120) and y.shape == (120,)
    assert set(np.unique(y)) == set(range(3 if name in ("spirals", "blobs") else 2))


def test_noisy_xor_is_labelled_by_the_xor_table():
    X, y = make_dataset("xor", m=400, seed=0)
    # the corners are (+-1, +-1) with noise 0.3: the quadrant gives the label
    quadrant = ((X[0] > 0) != (X[1] > 0)).astype(int)
    assert np.mean(quadrant == y) > 0.97


def test_divergence_is_caught_and_the_last_finite_parameters_kept():
    pg = Playground(optimizer="sgd", lr=1e12, activation="relu", hidden_layers=1, units=4)
    start = {k: v.copy() for k, v in pg.net.params.items()}
    ran = pg.step(5)
    assert pg.diverged and ran < 5 and pg.epoch == ran
    assert all(np.all(np.isfinite(v)) for v in pg.net.params.values())
    if ran == 0:
        np.testing.assert_array_equal(pg.net.params["W1"], start["W1"])
    assert "diverged" in pg.summary()


@pytest.mark.parametrize(
    "settings, match",
    [
        ({"dataset": "mnist"}, "dataset must be one of"),
        ({"hidden_layers": 0}, "hidden_layers must be an integer from 1"),
        ({"lr": 0.0}, "lr must be a positive number"),
        ({"lr": float("nan")}, "lr must be a finite number"),
        ({"l2": -1.0}, "l2 must be a non-negative number"),
        ({"optimizer": "lbfgs"}, "optimizer must be one of"),
    ],
)
def test_bad_settings_raise_errors_that_name_them(settings, match):
    with pytest.raises(ValueError, match=match):
        Playground(**settings)
    with pytest.raises(ValueError, match=match):
        Playground().configure(**settings)


@pytest.mark.parametrize(
    "settings, match",
    [
        ({"dataset": 3}, "dataset must be a string, one of 'moons'"),
        ({"batch_size": 2.5}, "batch_size must be a positive integer, got 2.5 of type float"),
        ({"units": True}, "units must be an integer from 1 to 256, got True of type bool"),
        ({"lr": "0.1"}, "lr must be a positive number, got '0.1' of type str"),
    ],
)
def test_settings_of_the_wrong_kind_raise_type_errors_that_name_them(settings, match):
    with pytest.raises(TypeError, match=match):
        Playground(**settings)
    with pytest.raises(TypeError, match=match):
        Playground().configure(**settings)


def test_configure_rejects_unknown_names():
    with pytest.raises(TypeError, match="unknown setting"):
        Playground().configure(learning_rate=0.1)


def test_figure_has_the_decision_regions_and_the_loss_curves():
    pg = Playground(seed=0)
    fig = pg.figure(resolution=40)
    left, right = fig.axes
    assert left.get_title() == "Decision regions" and right.get_title() == "Loss per epoch"
    assert len(right.lines) == 0  # no epoch yet
    assert fig._suptitle.get_text().startswith("epoch 0: train loss")
    pg.step(3)
    fig = pg.figure(resolution=40)
    left, right = fig.axes
    assert len(fig.axes) == 2
    assert [line.get_label() for line in right.lines] == ["training loss", "validation loss"]
    np.testing.assert_allclose(right.lines[0].get_ydata(), pg.history.train_loss)
    np.testing.assert_allclose(right.lines[1].get_ydata(), pg.history.val_loss)
    m = pg.metrics()
    assert fig._suptitle.get_text() == (
        f"epoch 3: train loss {m['train_loss']:.3f} (acc {m['train_acc']:.1%}), "
        f"validation loss {m['val_loss']:.3f} (acc {m['val_acc']:.1%})"
    )
    # training points (one scatter per class) and validation triangles (one per class)
    points = [c for c in left.collections if isinstance(c, PathCollection)]
    assert sorted(len(c.get_offsets()) for c in points) == [25, 25, 75, 75]


def test_summary_names_the_settings_and_the_epoch():
    pg = Playground(dataset="circles", units=3, optimizer="rmsprop", lr=0.01, l2=1e-3)
    pg.step(1)
    text = pg.summary()
    assert "circles" in text and "2-3-3-2" in text and "rmsprop lr 0.01" in text
    assert "L2 0.001" in text and "epoch 1:" in text


# -- the dashboard, without a browser ---------------------------------------------------------


def small_dashboard():
    pg = Playground(hidden_layers=1, units=4, seed=0)
    return dashboard(pg, interval=0.0, dpi=30, resolution=30)


def _shown_texts(widget) -> list[str]:
    """Every text a widget tree shows: values of its HTML and labels, and descriptions."""
    texts = []
    for attr in ("value", "description"):
        value = getattr(widget, attr, None)
        if isinstance(value, str):
            texts.append(value)
    for child in getattr(widget, "children", ()):
        texts += _shown_texts(child)
    return texts


def test_dashboard_says_where_training_stands_once():
    d = small_dashboard()
    for _ in range(2):
        status = d.playground.title()  # "epoch N: train loss ... validation loss ..."
        widgets = [t for t in _shown_texts(d.widget) if status in t]
        figure = [t.get_text() for t in d.last_figure.findobj(Text) if status in t.get_text()]
        assert len(widgets) + len(figure) == 1, (widgets, figure)
        assert widgets == [d.label.value]
        d.step()


def test_dashboard_controls_sit_in_a_grid_of_equal_cells():
    d = small_dashboard()
    grid = d.grid
    assert isinstance(grid, W.GridBox) and grid in d.widget.children
    assert grid.layout.grid_template_columns == f"repeat(auto-fill, {CONTROL_WIDTH})"
    cells = list(grid.children)
    assert {cell.layout.width for cell in cells} == {CONTROL_WIDTH}
    # every control of the dashboard is in the grid, once
    inside = [w for cell in cells for w in (cell.children if isinstance(cell, W.HBox) else [cell])]
    assert sorted(map(id, inside)) == sorted(map(id, d.controls.values()))
    # descriptions of one width, so that the sliders and menus start at one x in a column
    widths = {c.style.description_width for c in cells if not isinstance(c, W.HBox)}
    assert widths == {DESCRIPTION_WIDTH}


def test_dashboard_figure_text_is_readable_at_its_size():
    d = dashboard(Playground(hidden_layers=1, units=4, seed=0), interval=0.0, resolution=30)
    d.step()
    size, text = smallest_text(d.last_figure, dpi=d.dpi)  # the PNG it shows
    assert size >= MIN_FONT_SIZE, text
    size, text = smallest_text(Playground(seed=0).figure(resolution=20))
    assert size >= MIN_FONT_SIZE, text


def test_dashboard_changing_a_dropdown_reconfigures_and_redraws():
    d = small_dashboard()
    first = bytes(d.image.value)
    assert first.startswith(b"\x89PNG") and "moons" in d.label.value
    d.controls["dataset"].value = "circles"  # what picking from the dropdown does
    assert d.playground.dataset == "circles" and d.playground.epoch == 0
    assert bytes(d.image.value) != first and "circles" in d.label.value
    d.controls["optimizer"].value = "momentum"
    assert d.playground.optimizer == "momentum"
    d.controls["l2_on"].value = True
    assert d.playground.l2 == pytest.approx(d.controls["l2"].value) and d.playground.l2 > 0


def test_dashboard_step_and_reset_buttons():
    d = small_dashboard()
    before = bytes(d.image.value)
    d.buttons["step"].click()
    assert d.playground.epoch == 1 and "epoch 1:" in d.label.value
    assert bytes(d.image.value) != before
    d.buttons["step"].click()
    assert len(d.playground.history.train_loss) == 2
    d.buttons["reset"].click()
    assert d.playground.history.train_loss == [] and "epoch 0:" in d.label.value


def test_dashboard_start_runs_in_the_background_until_pause():
    d = small_dashboard()

    async def scenario():
        d.buttons["start"].click()
        assert d.running and d.buttons["start"].disabled and not d.buttons["pause"].disabled
        for _ in range(200):  # let the loop run a few epochs
            await asyncio.sleep(0.01)
            if d.playground.epoch >= 2:
                break
        d.buttons["pause"].click()
        task = d.task
        d.buttons["start"].click()  # restarted before the loop woke up: still one loop
        assert d.task is task and d.running
        await asyncio.sleep(0.01)
        d.buttons["pause"].click()
        await asyncio.wait_for(d.task, timeout=5)
        stopped_at = d.playground.epoch
        await asyncio.sleep(0.05)
        return stopped_at

    stopped_at = asyncio.run(scenario())
    assert stopped_at >= 2
    assert d.playground.epoch == stopped_at and not d.running
    assert f"epoch {stopped_at}:" in d.label.value
    assert not d.buttons["start"].disabled and d.buttons["pause"].disabled


def test_dashboard_display_data_has_a_static_preview():
    d = small_dashboard()
    bundle = d._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")
    assert bundle["text/plain"].startswith("[training dashboard: Playground(dataset='moons'")
    assert set(d.buttons) == {"start", "pause", "step", "reset"}
    assert {"dataset", "hidden_layers", "units", "activation", "lr", "batch_size", "optimizer",
            "l2"} <= set(d.controls)  # fmt: skip


def test_dashboard_clips_settings_to_its_controls():
    d = dashboard(Playground(units=40, hidden_layers=1), dpi=30, resolution=30)
    assert d.controls["units"].value == 16 and d.playground.units == 16


def test_dashboard_rejects_a_non_playground():
    with pytest.raises(
        TypeError, match="playground must be a course.playground.Playground or None"
    ):
        dashboard("moons")
    with pytest.raises(ValueError, match="resolution must be an integer from 2 to 2000"):
        dashboard(resolution=1)
