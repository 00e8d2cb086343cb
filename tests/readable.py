"""How big a figure's text is where a student reads it: the test helper for every course figure.

A notebook shows a figure at most :data:`course.viz.DISPLAY_WIDTH` inches wide (at the 100 dpi of
``course.widgets.show``); a wider one is shrunk to that width, and its text with it.
"""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.text import Text

from course.viz import DISPLAY_WIDTH


def displayed_sizes(fig: Figure, dpi: float = 100.0) -> list[tuple[float, str]]:
    """``(size, text)`` of every visible text of ``fig``, the size in points as displayed.

    ``dpi`` is the resolution the figure is saved at: a figure saved at 80 dpi shows its text
    at 80 % of the size it has at 100 dpi.
    """
    width = fig.get_size_inches()[0] * dpi / 100.0
    shrink = min(1.0, DISPLAY_WIDTH / width) * dpi / 100.0
    return [
        (t.get_fontsize() * shrink, t.get_text())
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip()
    ]


def smallest_text(fig: Figure, dpi: float = 100.0) -> tuple[float, str]:
    """The smallest text of ``fig`` as displayed: ``(size in points, text)``."""
    return min(displayed_sizes(fig, dpi))
