"""Drawings for the lectures and notebooks: computational graphs, training curves, decision regions.

* :func:`draw_graph` draws a scalar computational graph of :mod:`course.graph` the way the slides
  do: inputs on the left, the output on the right, every edge labelled with the forward value
  flowing along it (green, above the edge) and the gradient flowing back along it (red, below).
  With ``step=k`` it shows the backward sweep (Algorithm 4) part-way through.
* :func:`draw_array_graph` draws a graph of :mod:`course.tensorgraph` whose nodes are vectors
  and matrices, every value and gradient labelled with its shape.
* :func:`graph_to_dot` writes the same graph as Graphviz DOT text (no graphviz needed here).
* :func:`plot_history` draws loss and accuracy per epoch.
* :func:`plot_decision_boundary` colours the plane by the class a classifier predicts.

The package has one module per part of the drawing:

* :mod:`course.viz.layout`: where the nodes, edges and numbers of a graph drawing go (columns by
  depth, dummy vertices, crossing reduction, label placement);
* :mod:`course.viz.graphs`: :func:`draw_graph`, :func:`draw_array_graph` and :func:`graph_to_dot`;
* :mod:`course.viz.training`: :func:`plot_history` and :func:`plot_decision_boundary`;
* :mod:`course.viz.common`: the colours, the smallest readable text (:data:`MIN_FONT_SIZE` at
  :data:`DISPLAY_WIDTH`) and the argument checks they share.

matplotlib is imported inside the functions, so ``import course.viz`` stays cheap. Every function
returns a :class:`matplotlib.figure.Figure` and never calls ``plt.show()``.
"""

from course.viz.common import DISPLAY_WIDTH, GREEN, MIN_FONT_SIZE, ORANGE, RED
from course.viz.graphs import draw_array_graph, draw_graph, graph_to_dot
from course.viz.layout import MAX_NODES
from course.viz.training import plot_decision_boundary, plot_history

__all__ = [
    "MAX_NODES",
    "DISPLAY_WIDTH",
    "MIN_FONT_SIZE",
    "GREEN",
    "RED",
    "ORANGE",
    "draw_graph",
    "draw_array_graph",
    "graph_to_dot",
    "plot_history",
    "plot_decision_boundary",
]
