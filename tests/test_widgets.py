"""Tests of course.widgets: widgets driven without a browser redraw what they show."""

from __future__ import annotations

import base64

import matplotlib

matplotlib.use("Agg")

import ipywidgets as W  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from course.widgets import figure_to_png, interactive_figure  # noqa: E402


def line_plot(slope: float, label: str = "line"):
    fig = Figure(figsize=(3, 2))
    ax = fig.subplots()
    ax.plot([0, 1], [0, slope])
    ax.set_title(f"{label}: slope {slope:g}")
    return fig, f"slope is {slope:g}"


def test_changing_a_control_redraws_with_the_new_value():
    w = interactive_figure(line_plot, title="Lines", slope=W.FloatSlider(value=1.0, min=0, max=5))
    assert w.calls == 1
    first_png = w.image.value
    assert w.text.value == "<pre>slope is 1</pre>"
    w.controls["slope"].value = 3.0  # what dragging the slider does
    assert w.calls == 2
    fig, text = w.last_result
    assert text == "slope is 3" and fig.axes[0].get_title() == "line: slope 3"
    assert w.text.value == "<pre>slope is 3</pre>"
    assert bytes(w.image.value) != bytes(first_png)
    assert bytes(w.image.value).startswith(b"\x89PNG")


def test_several_controls_are_all_passed():
    w = interactive_figure(
        line_plot,
        slope=W.FloatSlider(value=2.0),
        label=W.Dropdown(options=["a", "b"], value="a"),
    )
    w.controls["label"].value = "b"
    assert w.last_result[0].axes[0].get_title() == "b: slope 2"
    assert w.values() == {"slope": 2.0, "label": "b"}


def test_display_data_carries_a_static_preview_for_readers_without_a_kernel():
    w = interactive_figure(line_plot, title="Lines", slope=W.FloatSlider(value=1.0))
    bundle = w._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    png = base64.b64decode(bundle["image/png"])
    assert png.startswith(b"\x89PNG")
    assert bundle["text/plain"] == "[interactive figure: Lines (slope)]"
    w.controls["slope"].value = 4.0
    # the preview stays the first view: stored notebooks show what a fresh run shows first
    assert base64.b64decode(w._repr_mimebundle_()["image/png"]) == png


def test_text_only_results_and_html_escaping():
    w = interactive_figure(lambda n: f"n < {n}", n=W.IntSlider(value=2))
    assert w.text.value == "<pre>n &lt; 2</pre>"
    assert bytes(w.image.value) == b""


def test_needs_a_control():
    with pytest.raises(ValueError, match="at least one control"):
        interactive_figure(line_plot)


def test_figure_to_png_closes_pyplot_figures():
    import matplotlib.pyplot as plt

    fig = plt.figure()
    number = fig.number
    png = figure_to_png(fig)
    assert png.startswith(b"\x89PNG") and not plt.fignum_exists(number)
