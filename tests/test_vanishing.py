"""Tests of course.vanishing: activation plots, gradient norms through depth, the study widget."""

from __future__ import annotations

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import ipywidgets as W  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from readable import smallest_text  # noqa: E402

from course import activations as act  # noqa: E402
from course import vanishing as van  # noqa: E402
from course.mlp import MLP  # noqa: E402
from course.viz import MIN_FONT_SIZE  # noqa: E402
from course.widgets import interactive_figure  # noqa: E402


def data_lines(ax):
    """The curves of an axes, without the axhline/axvline guides at 0."""
    return [line for line in ax.get_lines() if len(line.get_xdata()) > 2]


def test_import_does_not_load_matplotlib():
    code = "import sys, course.vanishing; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- activations drawn with their derivatives --


@pytest.mark.parametrize("name", van.HIDDEN)
def test_plot_activation_draws_f_and_its_derivative(name):
    fig = van.plot_activation(name, z_range=(-3, 3))
    (ax,) = fig.axes
    assert ax.get_title() == name
    f_line, prime_line = data_lines(ax)
    z = f_line.get_xdata()
    assert z[0] == -3 and z[-1] == 3
    a = act.ACTIVATIONS[name]
    np.testing.assert_allclose(f_line.get_ydata(), a.f(z))
    # the dashed curve is the slope of the solid one (centred differences, away from kinks)
    h = 1e-6
    smooth = np.abs(z) > 1e-3
    numeric = (a.f(z[smooth] + h) - a.f(z[smooth] - h)) / (2 * h)
    np.testing.assert_allclose(prime_line.get_ydata()[smooth], numeric, atol=1e-6)
    labels = ax.get_legend_handles_labels()[1]
    assert labels[:2] == [f"f(z) = {name}(z)", "f'(z)"]


def test_saturation_is_shaded_only_for_sigmoid_and_tanh():
    shaded = {name: len(van.plot_activation(name).axes[0].patches) for name in van.HIDDEN}
    assert shaded == {name: (2 if name in ("sigmoid", "tanh") else 0) for name in van.HIDDEN}


def test_saturation_regions_match_the_closed_form():
    # sigma'(z) = s (1 - s) = 0.05  <=>  s = (1 + sqrt(0.8)) / 2, z = ln(s / (1 - s))
    s = (1 + np.sqrt(0.8)) / 2
    z_sigmoid = np.log(s / (1 - s))
    # 1 - tanh(z)^2 = 0.05  <=>  z = artanh(sqrt(0.95))
    z_tanh = np.arctanh(np.sqrt(0.95))
    for name, edge in (("sigmoid", z_sigmoid), ("tanh", z_tanh)):
        (lo1, hi1), (lo2, hi2) = van.saturation_regions(name, (-6, 6))
        assert lo1 == -6 and hi2 == 6
        assert hi1 == pytest.approx(-edge, abs=3e-3) and lo2 == pytest.approx(edge, abs=3e-3)
    assert van.saturation_regions("relu", (0.5, 6)) == []


def test_plot_all_activations_has_every_activation_and_maxout():
    fig = van.plot_all_activations()
    panels = [ax for ax in fig.axes if ax.axison]  # the ninth axes holds the legend only
    titles = [ax.get_title() for ax in panels]
    assert titles == [*van.HIDDEN, "maxout (2 pieces)"]
    assert all(len(data_lines(ax)) == 2 for ax in panels)
    # the maxout panel: max(z, -0.5 z) and its slope 1 or -0.5 (at the tie z = 0 the first
    # piece, z, wins)
    f_line, prime_line = data_lines(panels[-1])
    z = f_line.get_xdata()
    np.testing.assert_allclose(f_line.get_ydata(), np.maximum(z, -0.5 * z))
    np.testing.assert_allclose(prime_line.get_ydata(), np.where(z >= 0, 1.0, -0.5))


# -- gradient norms through depth --


def test_layer_gradient_norms_shape_positive_and_deterministic():
    for name in van.HIDDEN:
        norms = van.layer_gradient_norms(name, depth=4, width=8, m=16, seed=3)
        assert norms.shape == (5,)
        assert np.all(np.isfinite(norms)) and np.all(norms > 0)
        np.testing.assert_array_equal(norms, van.layer_gradient_norms(name, 4, 8, 16, seed=3))
    assert not np.array_equal(
        van.layer_gradient_norms("relu", 4, seed=0), van.layer_gradient_norms("relu", 4, seed=1)
    )


def test_layer_gradient_norms_are_the_norms_of_the_network_gradients():
    # rebuild the documented network independently and compare with its gradients
    depth, width, m, seed = 3, 6, 5, 2
    net = MLP([10, 6, 6, 6, 1], hidden="tanh", output="identity", loss="half_sse", seed=seed)
    rng = np.random.default_rng(seed)
    X, Y = rng.standard_normal((10, m)), rng.standard_normal((1, m))
    grads = net.gradients(X, Y)
    want = [np.sqrt(np.sum(grads[f"W{l}"] ** 2)) for l in (1, 2, 3, 4)]
    got = van.layer_gradient_norms("tanh", depth, width=width, m=m, seed=seed)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_sigmoid_gradients_vanish_through_depth_and_relu_gradients_do_not():
    # Measured with the defaults (width 32, m 64, seed 0), depth 10:
    #   sigmoid |dJ/dW1| / |dJ/dW11| = 6.5e-08   (seeds 1-3: 2.0e-07, 3.2e-07, 2.1e-07)
    #   relu    |dJ/dW1| / |dJ/dW11| = 0.126     (seeds 1-3: 1.4, 0.14, 0.29)
    # The thresholds leave a factor of over 1000 (sigmoid) and 10 (relu) of margin.
    sigmoid = van.layer_gradient_norms("sigmoid", 10)
    relu = van.layer_gradient_norms("relu", 10)
    assert sigmoid[0] / sigmoid[-1] < 1e-4
    assert relu[0] / relu[-1] > 1e-2
    # the sigmoid norms shrink at every step down (measured factors 3.4 to 23 per layer)
    assert np.all(sigmoid[:-1] < sigmoid[1:] / 2)


def test_zero_weights_leave_only_the_output_layer_with_a_gradient():
    norms = van.layer_gradient_norms("sigmoid", 3, init="zeros")
    np.testing.assert_array_equal(norms[:-1], 0.0)
    # output layer: dJ/dW4 = delta4 A3^T with A3 = sigmoid(0) = 1/2 and delta4 = (0 - t) / m
    rng = np.random.default_rng(0)
    rng.standard_normal((10, 64))
    t = rng.standard_normal((1, 64))
    expected = np.linalg.norm(np.full((1, 32), 0.5 * np.sum(-t) / 64))
    assert norms[-1] == pytest.approx(expected, rel=1e-12)


def test_plot_gradient_norms_draws_one_line_per_activation():
    names = ["sigmoid", "tanh", "relu"]
    fig = van.plot_gradient_norms(names, depth=5, width=8, m=16)
    (ax,) = fig.axes
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == names
    assert ax.get_yscale() == "log"
    assert ax.get_title() == "Gradient norm per layer, 5 hidden layers"
    for name, line in zip(names, lines):
        np.testing.assert_array_equal(line.get_xdata(), np.arange(1, 7))
        np.testing.assert_array_equal(
            line.get_ydata(), van.layer_gradient_norms(name, 5, width=8, m=16)
        )


# -- the function behind the widget --


def test_activation_study_text_and_panels():
    fig, text = van.activation_study("relu", 10)
    relu, sigmoid = van.layer_gradient_norms("relu", 10), van.layer_gradient_norms("sigmoid", 10)
    assert text == (
        f"relu, depth 10: |dJ/dW1| / |dJ/dW11| = {relu[0] / relu[-1]:.3g} "
        f"(sigmoid: {sigmoid[0] / sigmoid[-1]:.3g})"
    )
    left, right = fig.axes
    assert left.get_title() == "relu" and len(data_lines(left)) == 2
    assert [line.get_label() for line in right.get_lines()] == ["relu", "sigmoid"]
    fig, text = van.activation_study("sigmoid", 3)
    assert text.startswith("sigmoid, depth 3: |dJ/dW1| / |dJ/dW4| = ")
    assert "(sigmoid" not in text
    assert [line.get_label() for line in fig.axes[1].get_lines()] == ["sigmoid"]


def test_widget_redraws_when_the_user_changes_activation_and_depth():
    w = interactive_figure(
        van.activation_study,
        name=W.Dropdown(options=list(van.HIDDEN), value="relu"),
        depth=W.IntSlider(value=10, min=1, max=20),
    )
    assert w.calls == 1 and w.last_result[1].startswith("relu, depth 10:")
    w.controls["name"].value = "tanh"
    assert w.calls == 2
    fig, text = w.last_result
    assert text.startswith("tanh, depth 10: |dJ/dW1| / |dJ/dW11|")
    assert fig.axes[0].get_title() == "tanh"
    w.controls["depth"].value = 3
    assert w.calls == 3
    fig, text = w.last_result
    assert text.startswith("tanh, depth 3: |dJ/dW1| / |dJ/dW4|")
    assert fig.axes[1].get_title() == "Gradient norm per layer, 3 hidden layers"
    assert "tanh, depth 3" in w.text.value


# -- maxout --


def test_maxout_demo_draws_pieces_their_maximum_and_the_winning_slope():
    c = np.arange(-2.0, 3.0)
    fig = van.maxout_demo(w=2 * c, b=-(c**2), reference=np.square)
    left, right = fig.axes
    lines = left.get_lines()
    assert len(lines) == 5 + 2  # five pieces, the maximum, the reference
    x = lines[0].get_xdata()
    np.testing.assert_allclose(
        lines[5].get_ydata(), np.max(np.outer(2 * c, x) - (c**2)[:, None], 0)
    )
    assert lines[6].get_label() == "reference: square"
    # tangents of x^2 stay below it and touch it at the tangent points
    assert np.all(lines[5].get_ydata() <= x**2 + 1e-12)
    (slope,) = right.get_lines()
    np.testing.assert_allclose(slope.get_ydata(), 2 * c[np.argmin(np.abs(x[:, None] - c), 1)])
    assert van.maxout_demo().axes[0].get_title() == "Maxout of 2 affine pieces"


# -- errors --


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: van.plot_activation("sigmiod"), "name must be one of 'sigmoid'"),
        (lambda: van.plot_activation("identity"), "got 'identity'"),
        (lambda: van.plot_activation("relu", z_range=(3, -3)), "z_range must be a pair"),
        (lambda: van.plot_activation("relu", z_range=(3,)), "z_range must be a list .* 2 items"),
        (lambda: van.plot_activation("relu", z_range=(0, np.inf)), "must be a finite number"),
        (lambda: van.layer_gradient_norms("RELU6", 3), "hidden must be one of"),
        (lambda: van.layer_gradient_norms("relu", 0), "depth must be an integer from 1"),
        (lambda: van.layer_gradient_norms("relu", 3, width=0), "width must be an integer"),
        (lambda: van.layer_gradient_norms("relu", 3, m=0), "m must be an integer"),
        (lambda: van.layer_gradient_norms("relu", 3, init="glorot"), "init must be one of"),
        (lambda: van.plot_gradient_norms([], 3), "hidden_names must be a list .* at least one"),
        (lambda: van.plot_gradient_norms(["relu", "nope"], 3), "hidden_names must be one of"),
        (lambda: van.activation_study("soft", 3), "name must be one of"),
        (lambda: van.activation_study("relu", -1), "depth must be an integer"),
        (lambda: van.maxout_demo(w=(1, 2), b=(0,)), "b must hold one finite intercept"),
        (lambda: van.maxout_demo(w=()), "w must be a non-empty list"),
        (lambda: van.maxout_demo(w=(1, np.nan)), "w must hold finite numbers"),
    ],
)
def test_bad_input_raises_a_helpful_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: van.plot_activation(3), "name must be a string, one of 'sigmoid'"),
        (lambda: van.plot_activation("relu", z_range="wide"), "z_range must be a list or tuple"),
        (lambda: van.plot_activation("relu", z_range=(0, "6")), r"z_range\[1\] must be a number"),
        (lambda: van.layer_gradient_norms("relu", 2.5), "depth must be an integer .*got 2.5"),
        (lambda: van.plot_gradient_norms("relu", 3), "hidden_names must be a list or tuple"),
        (lambda: van.activation_study("relu", True), "depth must be an integer .*got True"),
        (lambda: van.maxout_demo(w=("a", "b")), "w must be an array of real numbers"),
        (lambda: van.maxout_demo(reference=3), "reference must be a function"),
        (lambda: van.maxout_demo(title=3), "title must be a string or None"),
    ],
)
def test_input_of_the_wrong_kind_raises_a_helpful_type_error(call, match):
    with pytest.raises(TypeError, match=match):
        call()


def test_names_are_case_insensitive():
    assert van.saturation_regions("Sigmoid") == van.saturation_regions("sigmoid")


# -- every figure is readable where the notebook shows it -------------------------------------

FIGURES = {
    "plot_activation": lambda: van.plot_activation("tanh"),
    "plot_all_activations": lambda: van.plot_all_activations(),
    "plot_gradient_norms": lambda: van.plot_gradient_norms(["sigmoid", "relu"], depth=3),
    "activation_study": lambda: van.activation_study("relu", 3)[0],
    "maxout_demo": lambda: van.maxout_demo(),
    "maxout_demo, 7 pieces": lambda: van.maxout_demo(
        w=np.arange(-3.0, 4.0), b=-(np.arange(-3.0, 4.0) ** 2) / 4, reference=np.square
    ),
}


@pytest.mark.parametrize("name", FIGURES)
def test_legends_and_every_text_are_readable_where_the_notebook_shows_them(name):
    fig = FIGURES[name]()
    size, text = smallest_text(fig)
    assert size >= MIN_FONT_SIZE, (
        f"{name}: {text!r} is shown at {size:.1f} pt, "
        f"the figure being {fig.get_size_inches()[0]:.1f} in wide"
    )
    assert any(ax.get_legend() for ax in fig.axes) or fig.legends, "the legend is drawn"


def test_the_activation_grid_has_one_legend_for_all_panels():
    fig = van.plot_all_activations()
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    assert len(legends) == 1
    labels = [t.get_text() for t in legends[0].get_texts()]
    assert labels == ["f(z), the activation", "f'(z)", "|f'| < 0.05: saturated"]
    panels = [ax for ax in fig.axes if ax.axison]
    assert len(panels) == 8 and all(len(ax.lines) >= 2 for ax in panels)


def test_the_maxout_legend_hides_no_data():
    fig = van.maxout_demo(w=np.arange(-3.0, 4.0), b=np.zeros(7))
    left = fig.axes[0]
    fig.canvas.draw()
    legend = left.get_legend().get_window_extent()
    assert legend.y1 <= left.get_window_extent().y0, "the pieces' legend stands under the axes"
