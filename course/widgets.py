"""Thin interactive widgets for the notebooks (ipywidgets), each driving a plain function.

A widget here never computes anything itself: it calls a plain function of the package that
returns a matplotlib figure, a text, or both, and shows the result. Tests call the same plain
functions directly (and can drive a widget's controls without a browser, see
:attr:`FigureWidget.last_result`).

Readers without a kernel (GitHub's viewer, nbviewer) cannot run widgets; every widget built
here therefore also carries a PNG of its first view in its display data, which those viewers
show in place of the live controls.

ipywidgets and matplotlib are imported only when a widget is built.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Mapping
from typing import Any

from course.arguments import instance, real

__all__ = ["figure_to_png", "show", "interactive_figure", "FigureWidget"]


def figure_to_png(fig: Any, dpi: int = 100) -> bytes:
    """PNG bytes of a matplotlib figure (the figure is closed afterwards)."""
    from matplotlib.figure import Figure

    instance(
        "fig",
        fig,
        Figure,
        what="a matplotlib Figure",
        fix="pass the Figure a plotting function returned",
    )
    dpi = real("dpi", dpi, greater_than=0, example=100)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    _close(fig)
    return buf.getvalue()


def _close(fig: Any) -> None:
    import matplotlib.pyplot as plt

    if plt.fignum_exists(getattr(fig, "number", -1)):
        plt.close(fig)


def _is_figure(obj: Any) -> bool:
    from matplotlib.figure import Figure

    return isinstance(obj, Figure)


def show(result: Any) -> None:
    """Display what a plain function returned: a figure, a text, or a tuple of those."""
    from IPython.display import Image, display

    items = result if isinstance(result, tuple) else (result,)
    for item in items:
        if item is None:
            continue
        if _is_figure(item):
            display(Image(data=figure_to_png(item)))
        elif isinstance(item, str):
            print(item)
        else:
            display(item)


def _widget_base():
    import ipywidgets as W

    class _Box(W.VBox):
        """A VBox whose display data also holds a static PNG of its first view."""

        def _repr_mimebundle_(self, **kwargs):
            bundle = super()._repr_mimebundle_(**kwargs) or {}
            png = getattr(self, "_preview_png", None)
            if png is not None:
                bundle["image/png"] = base64.b64encode(png).decode("ascii")
            # a stable text for viewers without widgets (and for nbval, which compares it)
            bundle["text/plain"] = getattr(self, "_text", "interactive widget")
            return bundle

    return _Box


class FigureWidget:
    """Controls plus a picture (and a text line) showing ``fn(**values)`` after every change.

    ``widget`` is the ipywidgets box to display; ``controls`` maps argument names to controls;
    ``image`` and ``text`` are the ipywidgets ``Image`` and ``HTML`` that show the result;
    ``last_result`` is what ``fn`` returned last and ``calls`` counts redraws (a test can set
    ``controls["x"].value`` and check both).

    The result is shown by updating the ``Image`` and ``HTML`` widgets' values rather than by
    printing into an ``Output`` widget: updates then travel as widget state, so a notebook
    runner stores and re-checks exactly the same cell outputs whatever the widget shows.
    """

    def __init__(self, fn: Callable[..., Any], controls: dict[str, Any], title: str = "") -> None:
        import ipywidgets as W

        _check(fn, controls, title, W.ValueWidget)

        self.fn = fn
        self.controls = controls
        self.calls = 0
        self.last_result: Any = None
        self.image = W.Image(format="png", layout=W.Layout(max_width="100%"))
        self.text = W.HTML()
        children = []
        if title:
            children.append(W.HTML(f"<b>{title}</b>"))
        children.append(W.HBox(list(controls.values()), layout=W.Layout(flex_flow="row wrap")))
        children += [self.text, self.image]
        self.widget = _widget_base()(children=children)
        for control in controls.values():
            control.observe(self._on_change, names="value")
        self.redraw()
        self.widget._preview_png = bytes(self.image.value) or None
        names = ", ".join(controls)
        self.widget._text = f"[interactive figure: {title or fn.__name__} ({names})]"

    def values(self) -> dict[str, Any]:
        return {name: control.value for name, control in self.controls.items()}

    def _on_change(self, change: dict) -> None:
        self.redraw()

    def redraw(self) -> Any:
        """Call ``fn`` with the current values and show the result."""
        self.calls += 1
        result = self.fn(**self.values())
        self.last_result = result
        items = result if isinstance(result, tuple) else (result,)
        texts = [item for item in items if isinstance(item, str)]
        figures = [item for item in items if _is_figure(item)]
        self.text.value = "".join(f"<pre>{html.escape(t)}</pre>" for t in texts)
        if figures:
            self.image.value = figure_to_png(figures[0])
        return result

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def _check(fn: Any, controls: Any, title: Any, control_type: type) -> None:
    instance("fn", fn, Callable, what="a function that returns a figure, a text or both")
    instance("title", title, str, what="a string", fix="pass e.g. title='Gradient per layer'")
    what = "a dict of controls"
    instance("controls", controls, Mapping, what=what, fix="pass e.g. {'x': IntSlider()}")
    for name, control in controls.items():
        what = "an ipywidgets control that holds a value"
        instance(name, control, control_type, what=what, fix=f"pass e.g. {name}=IntSlider()")


def interactive_figure(fn: Callable[..., Any], title: str = "", **controls: Any) -> FigureWidget:
    """A :class:`FigureWidget` for ``fn`` with one ipywidgets control per keyword argument.

    Example::

        from ipywidgets import Dropdown, IntSlider
        interactive_figure(plot_activation_study,
                           name=Dropdown(options=["sigmoid", "relu"]),
                           depth=IntSlider(value=5, min=1, max=20))
    """
    if not controls:
        raise ValueError("interactive_figure needs at least one control, e.g. x=IntSlider()")
    return FigureWidget(fn, controls, title)
