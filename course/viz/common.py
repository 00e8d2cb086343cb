"""The slides' colours (values green, gradients red), the smallest readable text, and the argument
checks all drawings share.

Used by :mod:`course.viz.layout`, :mod:`course.viz.graphs` and :mod:`course.viz.training`; it
imports no other module of the course, and matplotlib only inside :func:`_check_ax`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["GREEN", "RED", "ORANGE", "DISPLAY_WIDTH", "MIN_FONT_SIZE"]

#: Colour of forward values (as on the slides).
GREEN = "#1a9641"
#: Colour of gradients (as on the slides).
RED = "#d7191c"
#: Colour of the edge being processed in a ``step=`` drawing.
ORANGE = "#f28e00"

#: Width in inches (at the 100 dpi of :func:`course.widgets.show`: 900 pixels) of the output area
#: a notebook shows a figure in without scaling it down: GitHub's and nbviewer's page, JupyterLab
#: beside its file browser. A wider figure is shrunk to it, and its text with it.
DISPLAY_WIDTH = 9.0
#: The smallest text of every course figure, in points as displayed: its font size, times
#: ``DISPLAY_WIDTH / width`` for a figure wider than :data:`DISPLAY_WIDTH`.
MIN_FONT_SIZE = 9.0


# --------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------


def _check_ax(ax: Any, fn: str) -> None:
    from matplotlib.axes import Axes

    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(
            f"{fn}: ax must be a matplotlib Axes or None, got {type(ax).__name__}. "
            "Pass ax=None to get a new figure, or an axes from fig, ax = plt.subplots()."
        )


def _check_title(title: Any, fn: str) -> None:
    if title is not None and not isinstance(title, str):
        raise TypeError(f"{fn}: title must be a string or None, got {type(title).__name__}.")
