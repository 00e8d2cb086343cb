"""Computational graphs drawn like the lecture slides: values in green, gradients in red.

* :func:`draw_graph` draws a scalar computational graph of :mod:`course.graph` the way the slides
  do: inputs on the left, the output on the right, every edge labelled with the forward value
  flowing along it (green, above the edge) and the gradient flowing back along it (red, below).
  With ``step=k`` it shows the backward sweep (Algorithm 4) part-way through.
* :func:`draw_array_graph` draws, with the same layout, a graph of :mod:`course.tensorgraph`
  whose nodes are vectors and matrices, every value and gradient labelled with its shape.
* :func:`graph_to_dot` writes the same graph as Graphviz DOT text (no graphviz needed here).

The red numbers are read from ``.grad`` after ``root.backward()``, or taken from
:func:`course.graph.backward_steps` part-way through Algorithm 4 (``step=k``). Where the nodes,
edges and numbers go is computed by :mod:`course.viz.layout`; :func:`_render` draws it with
matplotlib, imported inside the function.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Integral
from typing import TYPE_CHECKING, Any

import numpy as np

from course.graph import BackwardStep, Value, backward_steps, edges, topological_order
from course.viz.common import GREEN, ORANGE, RED, _check_ax, _check_title
from course.viz.layout import (
    _EDGE_COLOUR,
    _FS_CAPTION,
    _FS_NODE,
    _FS_TITLE,
    _FS_VALUE,
    _MARGIN,
    _MAX_FIG,
    _MIN_FS,
    _STUB,
    MAX_NODES,
    _collect,
    _edge_geometry,
    _EdgeGeom,
    _Label,
    _layout,
    _node_text,
    _place_edge_labels,
    _place_node_label,
    _Route,
    _Scene,
    _text_size,
    _Vertex,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["draw_graph", "draw_array_graph", "graph_to_dot"]


# --------------------------------------------------------------------------------------------
# Input checks and numbers
# --------------------------------------------------------------------------------------------


def _check_value(root: Any, fn: str) -> None:
    if not isinstance(root, Value):
        raise TypeError(
            f"{fn}(root): root must be a course.graph.Value (the output node of an expression), "
            f"got {type(root).__name__}. Build the expression from Values, e.g. "
            "x = Value(2.0, label='x'); f = x * x + 1; then call "
            f"{fn}(f)."
        )


def _fmt(v: float) -> str:
    """Two decimals, as on the slides; tiny or huge numbers in scientific notation."""
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v != 0 and (abs(v) < 0.005 or abs(v) >= 1e5):
        return f"{v:.1e}"
    s = f"{v:.2f}"
    return "0.00" if s == "-0.00" else s


# --------------------------------------------------------------------------------------------
# Gradients per edge
# --------------------------------------------------------------------------------------------


def _out_degree(root: Value) -> dict[Value, int]:
    deg: dict[Value, int] = {}
    for parent, _child, _slot in edges(root):
        deg[parent] = deg.get(parent, 0) + 1
    return deg


@dataclass
class _Grads:
    """Red numbers of a drawing: per edge, per node used more than once, and at the output."""

    edge: dict[tuple[Value, Value, int], float]
    total: dict[Value, float]
    root: float | None
    current: BackwardStep | None = None
    n_steps: int = 0


def _grads_from_attributes(root: Value, nodes: list[Value], show: bool) -> _Grads:
    """Gradients read from ``.grad`` (after ``root.backward()``)."""
    if not show or all(v.grad == 0 for v in nodes):
        return _Grads({}, {}, None)
    deg = _out_degree(root)
    edge: dict[tuple[Value, Value, int], float] = {}
    total: dict[Value, float] = {}
    for parent, child, slot in edges(root):
        if deg[parent] == 1:
            edge[parent, child, slot] = parent.grad
        else:
            # a node used several times: each edge carries its own share, the shares add up
            edge[parent, child, slot] = child.local_grads[slot] * child.grad
            total[parent] = parent.grad
    return _Grads(edge, total, root.grad)


def _grads_from_steps(root: Value, step: Any) -> _Grads:
    """Gradients known after steps ``1 ... step`` of :func:`course.graph.backward_steps`.

    Steps are numbered as the sweep takes them, from 1 (``backward_steps(root)[0]``) to ``n``;
    step 0 is the graph before the sweep. The edge of step ``step`` is the ``current`` one.
    """
    steps = backward_steps(root)
    n = len(steps)
    if isinstance(step, bool) or not isinstance(step, Integral):
        raise TypeError(
            f"draw_graph: step must be an int between 0 and {n} (the number of steps done of the "
            f"backward sweep), got {step!r} of type {type(step).__name__}."
        )
    step = int(step)
    if not 0 <= step <= n:
        raise ValueError(
            f"draw_graph: step={step} is out of range: the backward sweep of this graph has {n} "
            f"steps (one per edge), numbered 1 to {n}, so pass 0 <= step <= {n} (step=0 draws "
            f"the graph before the sweep, step={n} the finished sweep)."
        )
    deg = _out_degree(root)
    edge: dict[tuple[Value, Value, int], float] = {}
    total: dict[Value, float] = {}
    for s in steps[:step]:
        edge[s.parent, s.node, s.slot] = s.contribution if deg[s.parent] > 1 else s.total
        if deg[s.parent] > 1:
            total[s.parent] = s.total
    current = steps[step - 1] if step > 0 else None
    return _Grads(edge, total, 1.0, current, n)


# --------------------------------------------------------------------------------------------
# draw_graph
# --------------------------------------------------------------------------------------------


def draw_graph(
    root: Value,
    *,
    step: int | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    show_grads: bool = True,
) -> Figure:
    """Draw the computational graph below ``root`` like the lecture slides.

    Inputs (leaves) are on the left in the first column, the output on the right; every other
    node sits in the column of its depth (the longest path from a leaf), and the nodes of a column
    are ordered to avoid crossing edges (barycentre heuristic from several seeded starts). A
    drawing wider than a notebook shows at full size (:data:`course.viz.DISPLAY_WIDTH`) is folded
    into rows where one edge joins two columns (a chain of gates), that edge running back below
    the row like a line of text wrapping. A gate is a circle showing its
    name (``op``), a leaf a box showing its ``label`` (or ``u<k>``, ``k`` = its position in the
    creation order ``u_1 ... u_n`` of the graph).

    Every edge ``parent -> child`` carries two numbers, with 2 decimals:

    * above it, in green: the forward value of ``parent`` (what flows forward along the edge);
    * below it, in red: the gradient flowing back along the edge. For a node used once this is
      its ``.grad``; for a node used several times (fan-out) each edge shows its own share
      ``local * child.grad``, and the sum of the shares, the node's ``.grad``, is printed in bold
      red as ``Σ ...`` next to the node ("gradients add at branches").

    A short stub right of the output shows its value (green) and its gradient, 1.00 (red).

    Parameters
    ----------
    root:
        A :class:`course.graph.Value`: the output of the expression. At most :data:`MAX_NODES`
        nodes (ValueError beyond: draw a sub-expression instead).
    step:
        ``None`` (default) draws the gradients stored in ``.grad`` (call ``root.backward()``
        first). An int ``k`` with ``0 <= k <= n = len(backward_steps(root))`` draws the backward
        sweep of Algorithm 4 after its steps ``1 ... k``, computed from
        :func:`course.graph.backward_steps` (``.grad`` is neither read nor changed). Steps are
        numbered from 1, one per edge in the order the sweep takes them (step ``k`` is
        ``backward_steps(root)[k - 1]``); ``k = 0`` is the graph before the sweep, ``k = n`` the
        finished sweep. Red numbers show only where a gradient has arrived; the edge of step
        ``k``, the one just computed, is drawn thick and orange with its number in orange, and
        a caption ``step k of n: ... local x upstream = contribution`` says how.
    ax:
        An existing matplotlib Axes to draw into, or ``None`` for a new figure sized to the graph.
    title:
        The title; ``None`` picks one that says what the colours mean.
    show_grads:
        ``False`` draws the forward values only. With ``True`` (default) gradients are shown
        unless every ``.grad`` in the graph is 0 (i.e. ``backward`` has not been called).

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the drawing (``ax.figure`` when ``ax`` is given).
    """
    _check_value(root, "draw_graph")
    _check_ax(ax, "draw_graph")
    _check_title(title, "draw_graph")
    if not isinstance(show_grads, bool):
        raise TypeError(
            f"draw_graph: show_grads must be True or False, got {show_grads!r} "
            f"of type {type(show_grads).__name__}."
        )
    nodes = _collect(root)
    if step is not None:
        if not show_grads:
            raise ValueError(
                "draw_graph: step= draws the backward sweep, which is about gradients, but "
                "show_grads=False hides them. Drop show_grads=False, or drop step=."
            )
        grads = _grads_from_steps(root, step)
    else:
        grads = _grads_from_attributes(root, nodes, show_grads)
    show_red = grads.root is not None

    verts, routes = _layout([root], nodes)
    scene = _Scene()
    real = [v for v in verts if v.value is not None]
    scene.node_boxes = [v.box(0.03) for v in real]
    geoms = [_edge_geometry(r, verts) for r in routes]
    for g in geoms:
        scene.add_polyline(g.polyline)

    # the output stub
    rv = next(v for v in real if v.value is root)
    stub_s = (rv.x + rv.hw, rv.y)
    stub_e = (rv.x + rv.hw + _STUB, rv.y)
    scene.add_polyline([stub_s, stub_e])
    stub_texts = [(_fmt(root.data), GREEN, "value")]
    if show_red:
        stub_texts.append((_fmt(grads.root), RED, "grad"))
    stub_geom = _EdgeGeom(
        _Route(root, root, -1, []),
        [],
        [],
        [stub_s, stub_e],
        lambda t: (stub_s[0] + t * _STUB, stub_s[1], 1.0, 0.0),
        0.5,
    )
    _place_edge_labels(scene, stub_geom, len(geoms), stub_texts)
    if root.label:
        w, h = _text_size(root.label, _FS_NODE)
        scene.labels.append(
            _Label(root.label, "black", stub_e[0] + 0.08 + w / 2, rv.y, w, h, _FS_NODE, "out")
        )

    # totals of nodes used more than once
    for v in real:
        if v.value in grads.total:
            _place_node_label(scene, v, f"Σ {_fmt(grads.total[v.value])}", "grad-total")

    # edge labels, column by column, top to bottom
    deg = _out_degree(root)
    current = grads.current
    current_key = (current.parent, current.node, current.slot) if current else None
    # (edges bent apart first in their column: they have the least room for their numbers)
    order = sorted(
        range(len(geoms)),
        key=lambda i: (
            verts[routes[i].chain[0]].col,
            routes[i].bend == 0,
            -geoms[i].polyline[0][1],
        ),
    )
    for i in order:
        r = routes[i]
        key = (r.parent, r.child, r.slot)
        texts = [(_fmt(r.parent.data), GREEN, "value")]
        if key == current_key:
            texts.append((_fmt(grads.edge[key]), ORANGE, "grad-current"))
        elif key in grads.edge:
            texts.append((_fmt(grads.edge[key]), RED, "grad"))
        _place_edge_labels(scene, geoms[i], i, texts, fan_out=deg[r.parent] > 1)

    caption = None
    if step is not None:
        n = grads.n_steps
        if current is None:
            caption = f"step 0 of {n}: before the sweep, only the output's gradient 1.00 is known"
        else:
            names = {v: _node_text(v, i + 1) for i, v in enumerate(nodes)}
            pname = names[current.parent] if not current.parent.op else f"[{current.parent.op}]"
            caption = (
                f"step {int(step)} of {n}: {pname} ← [{current.node.op}]   "
                f"local {_fmt(current.local)} × upstream {_fmt(current.upstream)} "
                f"= {_fmt(current.contribution)}"
            )
            if _out_degree(root)[current.parent] > 1:
                caption += f"   (total so far {_fmt(current.total)})"
            if int(step) == n:
                caption += "   the sweep is done"

    if title is None:
        if step is not None:
            title = "Backward sweep: values (green), gradients known so far (red)"
        elif show_red:
            title = "Computational graph: values (green), gradients (red)"
        else:
            title = "Computational graph: forward values (green)"

    return _render(scene, verts, geoms, routes, current_key, caption, title, ax)


def _render(
    scene: _Scene,
    verts: list[_Vertex],
    geoms: list[_EdgeGeom],
    routes: list[_Route],
    current_key: tuple[Value, Value, int] | None,
    caption: str | None,
    title: str,
    ax: Axes | None,
    outputs: list[_Vertex] | None = None,
    stub: float = _STUB,
) -> Figure:
    from matplotlib.figure import Figure
    from matplotlib.patches import Ellipse, FancyArrowPatch, FancyBboxPatch
    from matplotlib.path import Path

    real = [v for v in verts if v.value is not None]
    xs0 = [b[0] for b in scene.node_boxes] + [lab.box[0] for lab in scene.labels]
    xs1 = [b[2] for b in scene.node_boxes] + [lab.box[2] for lab in scene.labels]
    ys0 = [b[1] for b in scene.node_boxes] + [lab.box[1] for lab in scene.labels]
    ys1 = [b[3] for b in scene.node_boxes] + [lab.box[3] for lab in scene.labels]
    for line in scene.polylines:
        xs0 += [p[0] for p in line]
        xs1 += [p[0] for p in line]
        ys0 += [p[1] for p in line]
        ys1 += [p[1] for p in line]
    x0, x1, y0, y1 = min(xs0), max(xs1), min(ys0), max(ys1)
    if caption:
        cw, ch = _text_size(caption, _FS_CAPTION)
        y0 -= ch + 0.22
        cap_y = y0 + ch / 2
        extra = max(0.0, cw - (x1 - x0)) / 2
        x0, x1 = x0 - extra, x1 + extra
    tw, th = _text_size(title, _FS_TITLE)
    extra = max(0.0, tw - (x1 - x0) + 0.1) / 2
    x0, x1 = x0 - extra - _MARGIN, x1 + extra + _MARGIN
    y0, y1 = y0 - _MARGIN, y1 + _MARGIN

    width, height = x1 - x0, y1 - y0
    top = th + 0.2  # room for the title above the drawing
    if ax is None:
        scale = min(1.0, _MAX_FIG[0] / width, _MAX_FIG[1] / (height + top))
        fig = Figure(figsize=(width * scale, (height + top) * scale))
        ax = fig.add_axes((0.0, 0.0, 1.0, height / (height + top)))
    else:
        fig = ax.figure
        pos = ax.get_position()
        fw, fh = fig.get_size_inches()
        scale = min(1.0, pos.width * fw / width, pos.height * fh / (height + top))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    ax.set_axis_off()

    def fs(size: float) -> float:
        return max(_MIN_FS, size * scale)

    # an edge and its numbers share a label "_edge <i>" (underscore: never in a legend)
    for i, g in enumerate(geoms):
        r = g.route
        is_current = (r.parent, r.child, r.slot) == current_key
        arrow = FancyArrowPatch(
            path=Path(g.vertices, g.codes),
            arrowstyle="-|>",
            mutation_scale=13 * max(scale, 0.5),
            linewidth=(3.2 if is_current else 1.3) * max(scale, 0.5),
            color=ORANGE if is_current else _EDGE_COLOUR,
            zorder=3 if is_current else 1,
            gid="edge-current" if is_current else "edge",
            label=f"_edge {i}",
        )
        ax.add_patch(arrow)
    # output stubs
    for k, rv in enumerate(outputs or [max(real, key=lambda v: v.col)]):
        ax.add_patch(
            FancyArrowPatch(
                (rv.x + rv.hw, rv.y),
                (rv.x + rv.hw + stub, rv.y),
                arrowstyle="-|>",
                mutation_scale=13 * max(scale, 0.5),
                linewidth=1.3 * max(scale, 0.5),
                color=_EDGE_COLOUR,
                shrinkA=0,
                shrinkB=0,
                zorder=1,
                gid="stub",
                label=f"_edge {len(geoms) + k}",
            )
        )
    for v in real:
        if v.is_leaf:
            patch = FancyBboxPatch(
                (v.x - v.hw, v.y - v.hh),
                2 * v.hw,
                2 * v.hh,
                boxstyle="round,pad=0,rounding_size=0.08",
                facecolor="#e8eef7",
                edgecolor="#4a5a70",
                linewidth=1.1 * max(scale, 0.5),
                zorder=4,
                gid="node",
            )
            colour, gid, style = "#1f2d3d", "leaf", "italic"
        else:
            patch = Ellipse(
                (v.x, v.y),
                2 * v.hw,
                2 * v.hh,
                facecolor="white",
                edgecolor="0.15",
                linewidth=1.5 * max(scale, 0.5),
                zorder=4,
                gid="node",
            )
            colour, gid, style = "black", "op", "normal"
        ax.add_patch(patch)
        ax.text(
            v.x,
            v.y,
            v.text,
            ha="center",
            va="center_baseline",
            fontsize=fs(_FS_NODE + 2 if len(v.text) == 1 and not v.is_leaf else _FS_NODE),
            color=colour,
            fontstyle=style,
            zorder=5,
            gid=gid,
        )
    for lab in scene.labels:
        ax.text(
            lab.x,
            lab.y,
            lab.text,
            ha="center",
            va="center",
            fontsize=fs(lab.fontsize),
            color=lab.colour,
            fontweight=lab.weight,
            zorder=6,
            gid=lab.gid,
            label=f"_edge {lab.edge}" if lab.edge is not None else "",
        )
    if caption:
        ax.text(
            (x0 + x1) / 2,
            cap_y,
            caption,
            ha="center",
            va="center",
            fontsize=fs(_FS_CAPTION),
            color=ORANGE,
            fontweight="bold",
            gid="caption",
        )
    ax.set_title(title, fontsize=fs(_FS_TITLE), pad=6 * scale)
    return fig


# --------------------------------------------------------------------------------------------
# draw_array_graph
# --------------------------------------------------------------------------------------------


def _check_dims(dims: Any) -> dict[int, str]:
    """``{"m": 4, "n": 3}`` -> ``{4: "m", 3: "n"}``, with a clear error for an unusable map."""
    if dims is None:
        return {}
    if not isinstance(dims, Mapping):
        raise TypeError(
            "draw_array_graph: dims must be a dict from a letter to a size, e.g. "
            f"{{'m': 4, 'n': 3}}, got {type(dims).__name__}"
        )
    names: dict[int, str] = {}
    for letter, size in dims.items():
        if not isinstance(letter, str) or isinstance(size, bool) or not isinstance(size, Integral):
            raise TypeError(
                f"draw_array_graph: dims maps names to sizes, e.g. {{'m': 4}}; got {letter!r}: "
                f"{size!r}"
            )
        if size < 2 or int(size) in names:
            raise ValueError(
                f"draw_array_graph: dims gives {letter!r} the size {size}, which is 1 or another "
                "name's size too, so a shape could not say which one it means: build the "
                "example with a different size for every name (and none of size 1)"
            )
        names[int(size)] = letter
    return names


def draw_array_graph(
    outputs: Any,
    *,
    dims: Mapping[str, int] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    show_grads: bool = True,
) -> Figure:
    """Draw a graph of :class:`course.tensorgraph.Tensor` nodes with the shapes they carry.

    The layout is that of :func:`draw_graph`: inputs (leaves) on the left in boxes that show
    their label and shape, e.g. ``X (m, n)``; every operation a circle with its name (``matmul``,
    ``+``, ``relu``, ...). An edge out of an operation carries, in green above it, the name and
    shape of the value that flows forward (``U1 (m, h)``; ``u<k>`` when the node has no label),
    and every edge, in red below it, the name and shape of the gradient flowing back
    (``dX (m, n)``): a gradient has the shape of its variable. A node used by several operations
    (a branch) sends a share along each edge and shows ``Σ d<name>`` beside it: the shares add.
    Each output gets a stub on the right with its value and, after a sweep, its upstream
    gradient; with several outputs they all stand in the last column.

    Parameters
    ----------
    outputs:
        One output Tensor, or a list of them (a graph with several outputs).
    dims:
        Names of sizes, e.g. ``{"m": 4, "n": 3, "h": 5}``: a size in a shape is written as its
        name. Every name needs its own size, none of them 1 (sizes without a name are printed).
    ax, title:
        As for :func:`draw_graph`.
    show_grads:
        ``False`` draws the forward shapes only; with ``True`` the red gradients show once a
        backward sweep has filled ``.grad`` (not while every gradient is zero).
    """
    from course.tensorgraph import Tensor, graph_nodes

    roots = [outputs] if isinstance(outputs, Tensor) else outputs
    if not isinstance(roots, list | tuple) or not roots:
        raise TypeError(
            "draw_array_graph: outputs must be a course.tensorgraph.Tensor or a list of them, "
            f"got {type(outputs).__name__}"
        )
    for r in roots:
        if not isinstance(r, Tensor):
            raise TypeError(
                "draw_array_graph: every output must be a course.tensorgraph.Tensor, got "
                f"{type(r).__name__}; build the graph from Tensors, e.g. H = (X @ W + b).relu()"
            )
    roots = list(dict.fromkeys(roots))
    _check_ax(ax, "draw_array_graph")
    _check_title(title, "draw_array_graph")
    if not isinstance(show_grads, bool):
        raise TypeError(f"draw_array_graph: show_grads must be True or False, got {show_grads!r}")
    names = _check_dims(dims)
    nodes = graph_nodes(roots)
    if len(nodes) > MAX_NODES:
        raise ValueError(
            f"draw_array_graph: the graph has {len(nodes)} nodes, more than {MAX_NODES}: draw "
            "a smaller part of it"
        )
    number = {v: i + 1 for i, v in enumerate(nodes)}

    def shape(v: Tensor) -> str:
        if not v.shape:
            return "(scalar)"
        parts = [names.get(s, str(s)) for s in v.shape]
        return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"

    def name(v: Tensor) -> str:
        return v.label or f"u{number[v]}"

    def text(v: Tensor, _number: int) -> str:
        return v.op if v.op else f"{name(v)} {shape(v)}"

    show_red = show_grads and any(np.any(v.grad != 0) for v in nodes)
    verts, routes = _layout(roots, nodes, text)
    scene = _Scene()
    real = [v for v in verts if v.value is not None]
    scene.node_boxes = [v.box(0.03) for v in real]
    geoms = [_edge_geometry(r, verts) for r in routes]
    for g in geoms:
        scene.add_polyline(g.polyline)

    out_verts = [next(v for v in real if v.value is r) for r in roots]
    stub_texts = []
    for r in roots:
        texts = [(f"{name(r)} {shape(r)}", GREEN, "value")]
        if show_red:
            texts.append((f"d{name(r)} {shape(r)}", RED, "grad"))
        stub_texts.append(texts)
    # the stubs are long enough to carry their numbers clear of the output nodes
    widest = max(_text_size(t, _FS_VALUE)[0] for texts in stub_texts for t, _c, _g in texts)
    stub = max(_STUB, widest + 0.3)
    for k, (r, rv, texts) in enumerate(zip(roots, out_verts, stub_texts, strict=True)):
        stub_s = (rv.x + rv.hw, rv.y)
        stub_e = (rv.x + rv.hw + stub, rv.y)
        scene.add_polyline([stub_s, stub_e])
        stub_geom = _EdgeGeom(
            _Route(r, r, -1, []),
            [],
            [],
            [stub_s, stub_e],
            lambda t, s=stub_s: (s[0] + t * stub, s[1], 1.0, 0.0),
            0.5,
        )
        _place_edge_labels(scene, stub_geom, len(geoms) + k, texts)

    fan_out = {v for v in nodes if sum(v in c.parents for c in nodes) > 1}
    if show_red:
        for v in real:
            if v.value in fan_out:
                _place_node_label(scene, v, f"Σ d{name(v.value)} {shape(v.value)}", "grad-total")
    order = sorted(
        range(len(geoms)),
        key=lambda i: (
            verts[routes[i].chain[0]].col,
            routes[i].bend == 0,
            -geoms[i].polyline[0][1],
        ),
    )
    for i in order:
        parent = routes[i].parent
        texts = []
        if parent.op:
            texts.append((f"{name(parent)} {shape(parent)}", GREEN, "value"))
        if show_red:
            red = (
                f"share {shape(parent)}"
                if parent in fan_out
                else f"d{name(parent)} {shape(parent)}"
            )
            texts.append((red, RED, "grad"))
        if texts:
            _place_edge_labels(scene, geoms[i], i, texts, fan_out=parent in fan_out)

    if title is None:
        title = (
            "Shapes of the values (green) and of the gradients (red)"
            if show_red
            else "Shapes of the values (green)"
        )
    return _render(scene, verts, geoms, routes, None, None, title, ax, out_verts, stub)


# --------------------------------------------------------------------------------------------
# graph_to_dot
# --------------------------------------------------------------------------------------------


def _dot_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _html(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def graph_to_dot(root: Value) -> str:
    """The graph below ``root`` as Graphviz DOT text, drawn left to right like :func:`draw_graph`.

    One line ``n<k> [...]`` per node (``k`` = position in creation order, ``u_k`` of the lecture;
    gates are circles labelled with their ``op``, leaves boxes labelled with their ``label``) and
    one line ``n<i> -> n<k> [...]`` per edge, labelled with the forward value of the parent in
    green above the gradient flowing back along the edge in red (red only once ``.grad`` has
    been filled by ``backward``). Render it with ``dot -Tpng graph.dot -o graph.png`` or the
    ``graphviz`` Python package; nothing here needs graphviz. There is no size limit.
    """
    _check_value(root, "graph_to_dot")
    nodes = list(reversed(topological_order(root)))
    number = {v: i + 1 for i, v in enumerate(nodes)}
    grads = _grads_from_attributes(root, nodes, True)
    lines = [
        "digraph backprop {",
        "  rankdir=LR;",
        '  node [fontname="Helvetica", fontsize=12];',
        '  edge [fontname="Helvetica", fontsize=10, arrowsize=0.7];',
    ]
    for v in nodes:
        attrs = [f"label={_dot_string(_node_text(v, number[v]))}"]
        if v.op:
            attrs.append("shape=circle" if len(v.op) <= 3 else "shape=ellipse")
        else:
            attrs += ["shape=box", 'style="rounded,filled"', 'fillcolor="#e8eef7"']
        extra = []
        if v is root:
            extra.append(f'<font color="{GREEN}">{_fmt(root.data)}</font>')
            if grads.root is not None:
                extra.append(f'<font color="{RED}">{_fmt(grads.root)}</font>')
        if v in grads.total:
            extra.append(f'<font color="{RED}"><b>Σ {_fmt(grads.total[v])}</b></font>')
        if extra:
            attrs.append("xlabel=<" + "<br/>".join(extra) + ">")
        lines.append(f"  n{number[v]} [{', '.join(attrs)}];")
    for parent, child, slot in edges(root):
        parts = [f'<font color="{GREEN}">{_html(_fmt(parent.data))}</font>']
        if (parent, child, slot) in grads.edge:
            g = grads.edge[parent, child, slot]
            parts.append(f'<font color="{RED}">{_html(_fmt(g))}</font>')
        lines.append(f"  n{number[parent]} -> n{number[child]} [label=<{'<br/>'.join(parts)}>];")
    lines.append("}")
    return "\n".join(lines) + "\n"
