"""Drawings for the lectures and notebooks: computational graphs, training curves, decision regions.

* :func:`draw_graph` draws a scalar computational graph of :mod:`course.graph` the way the slides
  do: inputs on the left, the output on the right, every edge labelled with the forward value
  flowing along it (green, above the edge) and the gradient flowing back along it (red, below).
  With ``step=k`` it shows the backward sweep (Algorithm 4) part-way through.
* :func:`graph_to_dot` writes the same graph as Graphviz DOT text (no graphviz needed here).
* :func:`plot_history` draws loss and accuracy per epoch.
* :func:`plot_decision_boundary` colours the plane by the class a classifier predicts.

matplotlib is imported inside the functions, so ``import course.viz`` stays cheap. Every function
returns a :class:`matplotlib.figure.Figure` and never calls ``plt.show()``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from numbers import Integral
from typing import TYPE_CHECKING, Any

import numpy as np

from course.graph import BackwardStep, Value, backward_steps, edges, topological_order

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "MAX_NODES",
    "GREEN",
    "RED",
    "ORANGE",
    "draw_graph",
    "graph_to_dot",
    "plot_history",
    "plot_decision_boundary",
]

#: Largest graph :func:`draw_graph` agrees to draw (beyond this the numbers become unreadable).
MAX_NODES = 60
#: Colour of forward values (as on the slides).
GREEN = "#1a9641"
#: Colour of gradients (as on the slides).
RED = "#d7191c"
#: Colour of the edge being processed in a ``step=`` drawing.
ORANGE = "#f28e00"

# Geometry of the graph drawing, in inches at scale 1 (the drawing uses 1 data unit = 1 inch).
_FS_VALUE = 10.0  # edge numbers
_FS_NODE = 12.0  # gate names and leaf labels
_FS_CAPTION = 10.5
_FS_TITLE = 12.5
_MIN_FS = 6.0
_R = 0.27  # radius of a gate circle
_LEAF_HH = 0.19  # half height of a leaf box
_COL_GAP = 1.45  # free space between the widest nodes of two neighbouring columns
_ROW_GAP = 0.62  # free space between two nodes of one column
_DUMMY_GAP = 0.36  # half the space kept free around an edge passing through a column
_LABEL_GAP = 0.045  # distance between an edge and its numbers
_STUB = 0.95  # length of the output stub
_MARGIN = 0.22
_PAD = 0.05  # labels keep this much free space around them
_NEAR = 0.16  # ... and prefer this much
_MAX_FIG = (20.0, 14.0)  # largest figure drawn, in inches; bigger drawings are scaled down
_EDGE_COLOUR = "0.25"


# --------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------


def _check_value(root: Any, fn: str) -> None:
    if not isinstance(root, Value):
        raise TypeError(
            f"{fn}(root): root must be a course.graph.Value (the output node of an expression), "
            f"got {type(root).__name__}. Build the expression from Values, e.g. "
            "x = Value(2.0, label='x'); f = x * x + 1; then call "
            f"{fn}(f)."
        )


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
# Graph collection and gradients per edge
# --------------------------------------------------------------------------------------------


def _collect(root: Value) -> list[Value]:
    """The nodes below ``root`` in creation order; ValueError beyond :data:`MAX_NODES` nodes."""
    seen = {root}
    stack = [root]
    while stack:
        for parent in stack.pop().parents:
            if parent not in seen:
                seen.add(parent)
                if len(seen) > MAX_NODES:
                    raise ValueError(
                        f"draw_graph: the graph below root has more than {MAX_NODES} nodes "
                        f"(it has at least {len(seen)}), which is too large to draw legibly. "
                        "Draw a smaller sub-expression instead (for example one neuron, or an "
                        "intermediate Value of the computation), or export the whole graph with "
                        "graph_to_dot(root) and render it with Graphviz."
                    )
                stack.append(parent)
    return list(reversed(topological_order(root)))


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
    """Gradients known after the first ``step`` steps of :func:`course.graph.backward_steps`."""
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
            f"steps (one per edge), so pass 0 <= step <= {n} (step={n} shows the finished sweep)."
        )
    deg = _out_degree(root)
    edge: dict[tuple[Value, Value, int], float] = {}
    total: dict[Value, float] = {}
    for s in steps[:step]:
        edge[s.parent, s.node, s.slot] = s.contribution if deg[s.parent] > 1 else s.total
        if deg[s.parent] > 1:
            total[s.parent] = s.total
    current = steps[step] if step < n else None
    return _Grads(edge, total, 1.0, current, n)


# --------------------------------------------------------------------------------------------
# Layout: columns by depth, dummy vertices on long edges, barycentre ordering, straight chains
# --------------------------------------------------------------------------------------------


@dataclass
class _Vertex:
    value: Value | None  # None for a dummy vertex (a long edge passing through a column)
    col: int
    key: float
    text: str = ""
    hw: float = 0.0  # half width
    hh: float = 0.0  # half height
    x: float = 0.0
    y: float = 0.0

    @property
    def is_leaf(self) -> bool:
        return self.value is not None and not self.value.parents

    def box(self, pad: float = 0.0) -> tuple[float, float, float, float]:
        return (
            self.x - self.hw - pad,
            self.y - self.hh - pad,
            self.x + self.hw + pad,
            self.y + self.hh + pad,
        )

    def boundary(self, tx: float, ty: float) -> tuple[float, float]:
        """Where the straight line from the centre towards ``(tx, ty)`` leaves the node."""
        dx, dy = tx - self.x, ty - self.y
        d = math.hypot(dx, dy)
        if self.value is None or d == 0:
            return self.x, self.y
        ux, uy = dx / d, dy / d
        if self.is_leaf:  # rectangle
            t = min(
                self.hw / abs(ux) if ux else math.inf,
                self.hh / abs(uy) if uy else math.inf,
            )
        else:  # ellipse
            t = 1.0 / math.hypot(ux / self.hw, uy / self.hh)
        return self.x + t * ux, self.y + t * uy


@dataclass
class _Route:
    parent: Value
    child: Value
    slot: int
    chain: list[int]  # vertex ids: parent, dummies..., child
    bend: float = 0.0  # sideways offset of the control point for parallel edges


@lru_cache(maxsize=4096)
def _text_size(s: str, fontsize: float) -> tuple[float, float]:
    """Width and height (inches) of a one-line text at ``fontsize`` points."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    w, _h, _d = text_to_path.get_text_width_height_descent(
        s, FontProperties(size=fontsize), ismath=False
    )
    return w / 72.0, 1.18 * fontsize / 72.0


def _node_text(v: Value, number: int) -> str:
    if v.op:
        return v.op
    text = v.label if v.label else f"u{number}"
    return text if len(text) <= 14 else text[:13] + "…"


def _layout(root: Value, nodes: list[Value]) -> tuple[list[_Vertex], list[_Route]]:
    number = {v: i + 1 for i, v in enumerate(nodes)}
    depth: dict[Value, int] = {}
    for v in nodes:  # creation order: parents before children
        depth[v] = 1 + max(depth[p] for p in v.parents) if v.parents else 0

    # initial order inside a column: post-order from the root, arguments in order (x above y)
    post: dict[Value, int] = {}
    stack: list[tuple[Value, int]] = [(root, 0)]
    while stack:
        v, i = stack.pop()
        if i < len(v.parents):
            stack.append((v, i + 1))
            p = v.parents[i]
            if p not in post:
                stack.append((p, 0))
        elif v not in post:
            post[v] = len(post)

    verts: list[_Vertex] = []
    vid: dict[Value, int] = {}
    for v in nodes:
        text = _node_text(v, number[v])
        vert = _Vertex(v, depth[v], float(post[v]), text)
        w, h = _text_size(text, _FS_NODE)
        if v.op:
            vert.hw, vert.hh = max(_R, 0.5 * w / 0.82 + 0.04), _R
        else:
            vert.hw, vert.hh = max(0.2, 0.5 * w + 0.11), _LEAF_HH
        vid[v] = len(verts)
        verts.append(vert)

    routes: list[_Route] = []
    for parent, child, slot in edges(root):
        chain = [vid[parent]]
        for d in range(depth[parent] + 1, depth[child]):
            verts.append(_Vertex(None, d, post[parent] + 0.5 + 0.01 * slot))
            chain.append(len(verts) - 1)
        chain.append(vid[child])
        routes.append(_Route(parent, child, slot, chain))

    # parallel edges (x * x): bend them apart
    groups: dict[tuple[Value, Value], list[_Route]] = {}
    for r in routes:
        if len(r.chain) == 2:
            groups.setdefault((r.parent, r.child), []).append(r)
    for group in groups.values():
        m = len(group)
        for i, r in enumerate(sorted(group, key=lambda r: r.slot)):
            r.bend = (i - (m - 1) / 2) * 0.75 if m > 1 else 0.0

    n_cols = depth[root] + 1
    layers: list[list[int]] = [[] for _ in range(n_cols)]
    for i, v in enumerate(verts):
        layers[v.col].append(i)
    preds: list[list[int]] = [[] for _ in verts]
    succs: list[list[int]] = [[] for _ in verts]
    for r in routes:
        for a, b in pairwise(r.chain):
            succs[a].append(b)
            preds[b].append(a)
    for layer in layers:
        layer.sort(key=lambda i: (verts[i].key, i))

    _reduce_crossings(layers, preds, succs)
    _assign_y(verts, layers, preds, succs)
    _assign_x(verts, layers)
    return verts, routes


def _crossings(layers: list[list[int]], succs: list[list[int]]) -> int:
    pos = {v: i for layer in layers for i, v in enumerate(layer)}
    total = 0
    for layer in layers[:-1]:
        segs = [(pos[a], pos[b]) for a in layer for b in succs[a]]
        for i, (a1, b1) in enumerate(segs):
            for a2, b2 in segs[i + 1 :]:
                if (a1 - a2) * (b1 - b2) < 0:
                    total += 1
    return total


def _reduce_crossings(
    layers: list[list[int]], preds: list[list[int]], succs: list[list[int]]
) -> None:
    """Barycentre heuristic: sweep right and left, keep the order with fewest crossings."""
    best = _crossings(layers, succs)
    best_layers = [list(layer) for layer in layers]
    n = len(layers)
    sweeps = [(d, d - 1, preds) for d in range(1, n)] + [
        (d, d + 1, succs) for d in range(n - 2, -1, -1)
    ]
    for _ in range(8):
        if best == 0:
            break
        for d, other, neigh in sweeps:
            other_pos = {v: i for i, v in enumerate(layers[other])}
            own = {v: i for i, v in enumerate(layers[d])}

            bary = {}
            for v in layers[d]:
                ns = [other_pos[u] for u in neigh[v]]
                bary[v] = sum(ns) / len(ns) if ns else float(own[v])
            layers[d].sort(key=lambda v, bary=bary, own=own: (bary[v], own[v]))
            c = _crossings(layers, succs)
            if c < best:
                best = c
                best_layers = [list(layer) for layer in layers]
    layers[:] = best_layers


def _separation(a: _Vertex, b: _Vertex) -> float:
    if a.value is None and b.value is None:
        return 2 * _DUMMY_GAP
    if a.value is None or b.value is None:
        return _DUMMY_GAP + _ROW_GAP / 2 + (a.hh if a.value is not None else b.hh)
    return a.hh + b.hh + _ROW_GAP


def _place_column(verts: list[_Vertex], layer: list[int], desired: list[float]) -> None:
    """Closest positions to ``desired`` (top to bottom) that keep order and spacing (PAV)."""
    offs = [0.0]
    for a, b in pairwise(layer):
        offs.append(offs[-1] + _separation(verts[a], verts[b]))
    # with z_i = y_i + off_i the constraints read z_0 >= z_1 >= ...: isotonic regression
    blocks: list[list[float]] = []  # [sum, count]
    for d, o in zip(desired, offs, strict=True):
        blocks.append([d + o, 1.0])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] < blocks[-1][0] / blocks[-1][1]:
            s, c = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += c
    z = [s / c for s, c in blocks for _ in range(int(c))]
    for i, v in enumerate(layer):
        verts[v].y = z[i] - offs[i]


def _assign_y(
    verts: list[_Vertex], layers: list[list[int]], preds: list[list[int]], succs: list[list[int]]
) -> None:
    for layer in layers:
        _place_column(verts, layer, [0.0] * len(layer))
        mid = (verts[layer[0]].y + verts[layer[-1]].y) / 2
        for v in layer:
            verts[v].y -= mid

    def sweep(order: list[int], neighbours: Callable[[int], list[int]]) -> None:
        for d in order:
            desired = []
            for v in layers[d]:
                ns = neighbours(v)
                desired.append(sum(verts[u].y for u in ns) / len(ns) if ns else verts[v].y)
            _place_column(verts, layers[d], desired)

    right = list(range(1, len(layers)))
    left = list(range(len(layers) - 2, -1, -1))
    for _ in range(6):
        sweep(right, lambda v: preds[v])
        sweep(left, lambda v: succs[v])
    sweep(right + left, lambda v: preds[v] + succs[v])


def _assign_x(verts: list[_Vertex], layers: list[list[int]]) -> None:
    x = 0.0
    prev_hw = 0.0
    for d, layer in enumerate(layers):
        hw = max((verts[v].hw for v in layer), default=0.0)
        if d > 0:
            x += prev_hw + _COL_GAP + hw
        for v in layer:
            verts[v].x = x
        prev_hw = hw


# --------------------------------------------------------------------------------------------
# Geometry helpers for label placement
# --------------------------------------------------------------------------------------------

_Box = tuple[float, float, float, float]


def _boxes_overlap(a: _Box, b: _Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _touch(a: _Box, b: _Box) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _segment_hits_box(p: tuple[float, float], q: tuple[float, float], box: _Box) -> bool:
    """Liang-Barsky clipping: does the segment ``pq`` pass through ``box``?"""
    t0, t1 = 0.0, 1.0
    dx, dy = q[0] - p[0], q[1] - p[1]
    for pk, qk in (
        (-dx, p[0] - box[0]),
        (dx, box[2] - p[0]),
        (-dy, p[1] - box[1]),
        (dy, box[3] - p[1]),
    ):
        if pk == 0:
            if qk < 0:
                return False
        else:
            r = qk / pk
            if pk < 0:
                t0 = max(t0, r)
            else:
                t1 = min(t1, r)
            if t0 > t1:
                return False
    return True


def _beside(
    mx: float, my: float, nx: float, ny: float, w: float, h: float, gap: float = _LABEL_GAP
) -> tuple[float, float]:
    """Centre of a ``w x h`` box touching the line through ``(mx, my)`` on the side ``n``."""
    off = gap + 0.5 * w * abs(nx) + 0.5 * h * abs(ny)
    return mx + nx * off, my + ny * off


def _centred_box(cx: float, cy: float, w: float, h: float) -> _Box:
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


@dataclass
class _Label:
    text: str
    colour: str
    x: float
    y: float
    w: float
    h: float
    fontsize: float
    gid: str
    weight: str = "normal"

    @property
    def box(self) -> _Box:
        return _centred_box(self.x, self.y, self.w, self.h)


class _Scene:
    """Everything to draw, in inches at scale 1, with the obstacles used for label placement."""

    def __init__(self) -> None:
        self.labels: list[_Label] = []
        self.node_boxes: list[_Box] = []
        self.polylines: list[list[tuple[float, float]]] = []
        self._segments: list[tuple[_Box, list[tuple[Any, Any, _Box]]]] = []

    def add_polyline(self, line: list[tuple[float, float]]) -> None:
        self.polylines.append(line)
        segs = [(p, q, (*map(min, p, q), *map(max, p, q))) for p, q in pairwise(line)]
        xs, ys = [p[0] for p in line], [p[1] for p in line]
        self._segments.append(((min(xs), min(ys), max(xs), max(ys)), segs))

    def cost(self, boxes: list[_Box], own: int | None) -> float:
        """10 per overlap with a node or a label, 1 per edge crossed, 0.3 per near miss."""
        c = 0.0
        for b in boxes:
            near = (b[0] - _NEAR, b[1] - _NEAR, b[2] + _NEAR, b[3] + _NEAR)
            b = (b[0] - _PAD, b[1] - _PAD, b[2] + _PAD, b[3] + _PAD)
            for other in self.node_boxes:
                c += 10 if _boxes_overlap(b, other) else 0.3 * _boxes_overlap(near, other)
            for lab in self.labels:
                other = lab.box
                c += 10 if _boxes_overlap(b, other) else 0.3 * _boxes_overlap(near, other)
            for i, (line_box, segs) in enumerate(self._segments):
                if i == own or not _touch(near, line_box):
                    continue
                hit = close = False
                for p, q, seg_box in segs:
                    if not _touch(near, seg_box):
                        continue
                    if _segment_hits_box(p, q, b):
                        hit = True
                        break
                    close = close or _segment_hits_box(p, q, near)
                c += 1 if hit else 0.3 * close
        return c


def _bezier(p0, c, p2, t: float) -> tuple[float, float, float, float]:
    """Point and tangent of a quadratic Bezier curve at ``t``."""
    u = 1 - t
    x = u * u * p0[0] + 2 * u * t * c[0] + t * t * p2[0]
    y = u * u * p0[1] + 2 * u * t * c[1] + t * t * p2[1]
    tx = 2 * u * (c[0] - p0[0]) + 2 * t * (p2[0] - c[0])
    ty = 2 * u * (c[1] - p0[1]) + 2 * t * (p2[1] - c[1])
    return x, y, tx, ty


@dataclass
class _EdgeGeom:
    route: _Route
    vertices: list[tuple[float, float]]
    codes: list[int]
    polyline: list[tuple[float, float]]  # straight approximation, for collision tests
    label_at: Callable[[float], tuple[float, float, float, float]]  # t -> point, tangent
    t_max: float


def _edge_geometry(route: _Route, verts: list[_Vertex]) -> _EdgeGeom:
    from matplotlib.path import Path

    pv, cv = verts[route.chain[0]], verts[route.chain[-1]]
    if len(route.chain) == 2 and route.bend:
        dx, dy = cv.x - pv.x, cv.y - pv.y
        d = math.hypot(dx, dy)
        ctrl = ((pv.x + cv.x) / 2 - dy / d * route.bend, (pv.y + cv.y) / 2 + dx / d * route.bend)
        s = pv.boundary(*ctrl)
        e = cv.boundary(*ctrl)
        poly = [_bezier(s, ctrl, e, t / 8)[:2] for t in range(9)]
        return _EdgeGeom(
            route,
            [s, ctrl, e],
            [Path.MOVETO, Path.CURVE3, Path.CURVE3],
            poly,
            lambda t: _bezier(s, ctrl, e, t),
            0.8,
        )
    inner = [(verts[i].x, verts[i].y) for i in route.chain[1:-1]]
    first = inner[0] if inner else (cv.x, cv.y)
    last = inner[-1] if inner else (pv.x, pv.y)
    s = pv.boundary(*first)
    e = cv.boundary(*last)
    pts = [s, *inner, e]
    vertices: list[tuple[float, float]] = [s]
    codes = [Path.MOVETO]
    rho = 0.3  # corners at the dummies are rounded off
    for i in range(1, len(pts) - 1):
        q, a, b = pts[i], pts[i - 1], pts[i + 1]
        vertices += [
            (q[0] + rho * (a[0] - q[0]), q[1] + rho * (a[1] - q[1])),
            q,
            (q[0] + rho * (b[0] - q[0]), q[1] + rho * (b[1] - q[1])),
        ]
        codes += [Path.LINETO, Path.CURVE3, Path.CURVE3]
    vertices.append(e)
    codes.append(Path.LINETO)
    nxt = pts[1]

    def along(t: float) -> tuple[float, float, float, float]:
        return (
            s[0] + t * (nxt[0] - s[0]),
            s[1] + t * (nxt[1] - s[1]),
            nxt[0] - s[0],
            nxt[1] - s[1],
        )

    return _EdgeGeom(route, vertices, codes, pts, along, 0.65 if inner else 0.8)


def _place_edge_labels(
    scene: _Scene,
    geom: _EdgeGeom,
    index: int,
    texts: list[tuple[str, str, str]],
    fan_out: bool = False,
) -> None:
    """Put the green text above and the red text below the edge where they collide least.

    Edges leaving a node used several times start together, so their numbers go further along.
    """
    sizes = [_text_size(t, _FS_VALUE) for t, _, _ in texts]
    best: tuple[float, list[_Label]] | None = None
    ts = (0.65, 0.75, 0.55, 0.45, 0.35) if fan_out else (0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78)
    for rank, t in enumerate(ts):
        if t > geom.t_max:
            continue
        x, y, tx, ty = geom.label_at(t)
        d = math.hypot(tx, ty) or 1.0
        nx, ny = -ty / d, tx / d  # left of the direction of travel: "above" a rightward edge
        if ny < 0:
            nx, ny = -nx, -ny
        labels = []
        for (text, colour, gid), (w, h), side in zip(texts, sizes, (1, -1), strict=False):
            if abs(ty) <= 1.5 * abs(tx):  # shallow edge: straight above / below the midpoint
                cx, cy = x, y + side * (_LABEL_GAP + h / 2 + w / 2 * abs(ty / tx))
            else:  # steep edge: beside it
                cx, cy = _beside(x, y, side * nx, side * ny, w, h)
            labels.append(_Label(text, colour, cx, cy, w, h, _FS_VALUE, gid))
        c = scene.cost([lab.box for lab in labels], index) + 0.01 * rank
        if best is None or c < best[0]:
            best = (c, labels)
        if c < 0.005:
            break
    assert best is not None
    scene.labels += best[1]


def _place_node_label(scene: _Scene, v: _Vertex, text: str, gid: str) -> None:
    w, h = _text_size(text, _FS_VALUE)
    candidates = [
        (v.x, v.y - v.hh - 0.03 - h / 2),
        (v.x, v.y + v.hh + 0.03 + h / 2),
        (v.x - v.hw - 0.04 - w / 2, v.y - v.hh - h / 2),
        (v.x + v.hw + 0.04 + w / 2, v.y - v.hh - h / 2),
        (v.x - v.hw - 0.04 - w / 2, v.y + v.hh + h / 2),
        (v.x + v.hw + 0.04 + w / 2, v.y + v.hh + h / 2),
    ]
    best = min(
        candidates,
        key=lambda c: (
            scene.cost([_centred_box(c[0], c[1], w, h)], None) + 0.01 * candidates.index(c)
        ),
    )
    scene.labels.append(_Label(text, RED, best[0], best[1], w, h, _FS_VALUE, gid, "bold"))


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
    are ordered to avoid crossing edges (barycentre heuristic). A gate is a circle showing its
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
        first). An int ``k`` with ``0 <= k <= len(backward_steps(root))`` draws the backward sweep
        of Algorithm 4 after its first ``k`` steps, computed from
        :func:`course.graph.backward_steps` (``.grad`` is neither read nor changed): red numbers
        only where a gradient has arrived, and the edge of step ``k`` (``backward_steps(root)[k]``,
        the one being computed now) drawn thick and orange with its number in orange and a
        caption ``local x upstream = contribution``. ``k = len(...)`` shows the finished sweep.
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

    verts, routes = _layout(root, nodes)
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
    order = sorted(
        range(len(geoms)), key=lambda i: (verts[routes[i].chain[0]].col, -geoms[i].polyline[0][1])
    )
    for i in order:
        r = routes[i]
        key = (r.parent, r.child, r.slot)
        texts = [(_fmt(r.parent.data), GREEN, "value")]
        if key in grads.edge:
            texts.append((_fmt(grads.edge[key]), RED, "grad"))
        elif key == current_key:
            texts.append((_fmt(current.contribution), ORANGE, "grad-current"))
        _place_edge_labels(scene, geoms[i], i, texts, fan_out=deg[r.parent] > 1)

    caption = None
    if step is not None:
        if current is None:
            msg = f"backward sweep finished: all {grads.n_steps} steps done, every gradient known"
        else:
            names = {v: _node_text(v, i + 1) for i, v in enumerate(nodes)}
            pname = names[current.parent] if not current.parent.op else f"[{current.parent.op}]"
            msg = (
                f"step {int(step) + 1} of {grads.n_steps}: {pname} ← [{current.node.op}]   "
                f"local {_fmt(current.local)} × upstream {_fmt(current.upstream)} "
                f"= {_fmt(current.contribution)}"
            )
            if _out_degree(root)[current.parent] > 1:
                msg += f"   (total so far {_fmt(current.total)})"
        caption = msg

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

    for g in geoms:
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
        )
        ax.add_patch(arrow)
    # output stub
    rv = max(real, key=lambda v: v.col)
    ax.add_patch(
        FancyArrowPatch(
            (rv.x + rv.hw, rv.y),
            (rv.x + rv.hw + _STUB, rv.y),
            arrowstyle="-|>",
            mutation_scale=13 * max(scale, 0.5),
            linewidth=1.3 * max(scale, 0.5),
            color=_EDGE_COLOUR,
            shrinkA=0,
            shrinkB=0,
            zorder=1,
            gid="stub",
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


# --------------------------------------------------------------------------------------------
# plot_history
# --------------------------------------------------------------------------------------------

_HISTORY_FIELDS = ("train_loss", "val_loss", "train_acc", "val_acc")


def _history_series(history: Any) -> dict[str, np.ndarray]:
    out = {}
    for name in _HISTORY_FIELDS:
        if isinstance(history, Mapping):
            raw = history.get(name, [])
        elif hasattr(history, name):
            raw = getattr(history, name)
        else:
            raise TypeError(
                f"plot_history(history): history must have the attributes "
                f"{', '.join(_HISTORY_FIELDS)} (lists of floats, one per epoch), but the given "
                f"{type(history).__name__} has no attribute {name!r}. Pass the History returned "
                "by course.train.train, or any object or dict with those four lists."
            )
        if raw is None:
            raw = []
        try:
            arr = np.asarray(raw, dtype=float)
        except (TypeError, ValueError) as err:
            raise TypeError(
                f"plot_history(history): history.{name} must be a list of numbers, one per "
                f"epoch, got {type(raw).__name__} that cannot be read as numbers ({err})."
            ) from None
        if arr.ndim != 1:
            raise ValueError(
                f"plot_history(history): history.{name} must be 1-D (one number per epoch), got "
                f"an array of shape {arr.shape}. Append one float per epoch, e.g. "
                f"history.{name}.append(float(loss))."
            )
        out[name] = arr
    if not any(len(a) for a in out.values()):
        raise ValueError(
            "plot_history(history): every list in history is empty, so there is nothing to "
            "plot. Train for at least one epoch first."
        )
    return out


def plot_history(history: Any, ax: Axes | Sequence[Axes] | None = None) -> Figure:
    """Loss, and accuracy if recorded, per epoch for the training and the validation set.

    Parameters
    ----------
    history:
        Any object (or dict) with ``train_loss``, ``val_loss``, ``train_acc``, ``val_acc``: lists
        of floats of shape ``(n_epochs,)``, entry ``i`` belonging to epoch ``i + 1``; any of them
        may be empty (empty lists are not drawn). :class:`course.train.History` fits.
    ax:
        ``None`` for a new figure (one panel for the loss, a second for the accuracy if any was
        recorded); one Axes (the loss there, the accuracy on a twin axis at the right); or a pair
        of Axes ``(loss_ax, acc_ax)``.

    Returns
    -------
    matplotlib.figure.Figure
        One solid line per non-empty loss list and one per non-empty accuracy list
        (training in blue, validation in orange).
    """
    from matplotlib.axes import Axes as _Axes
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    series = _history_series(history)
    has_acc = bool(len(series["train_acc"]) or len(series["val_acc"]))
    own_figure = ax is None
    if ax is None:
        fig = Figure(figsize=(10.5, 4.0) if has_acc else (6.0, 4.0))
        axes = fig.subplots(1, 2 if has_acc else 1, squeeze=False)[0]
        loss_ax, acc_ax = axes[0], (axes[1] if has_acc else None)
    elif isinstance(ax, _Axes):
        fig = ax.figure
        loss_ax = ax
        acc_ax = ax.twinx() if has_acc else None
    elif isinstance(ax, Sequence) and len(ax) == 2 and all(isinstance(a, _Axes) for a in ax):
        loss_ax, acc_ax = ax[0], ax[1]
        fig = loss_ax.figure
    else:
        raise TypeError(
            f"plot_history: ax must be None, a matplotlib Axes, or a pair (loss_ax, acc_ax) of "
            f"Axes, got {type(ax).__name__}. Pass ax=None to get a new figure."
        )
    twin = acc_ax is not None and not own_figure and isinstance(ax, _Axes)
    colours = {"train": "#1f77b4", "val": "#ff7f0e"}
    names = {"train": "training", "val": "validation"}

    def draw(target: Axes, kind: str, linestyle: str) -> list:
        handles = []
        for part in ("train", "val"):
            ys = series[f"{part}_{kind}"]
            if len(ys):
                epochs = np.arange(1, len(ys) + 1)
                (line,) = target.plot(
                    epochs,
                    ys,
                    linestyle=linestyle,
                    marker="o" if len(ys) <= 30 else None,
                    markersize=4,
                    color=colours[part],
                    linewidth=1.8,
                    label=f"{names[part]} {'loss' if kind == 'loss' else 'accuracy'}",
                )
                handles.append(line)
        target.set_xlabel("epoch", fontsize=11)
        target.xaxis.set_major_locator(MaxNLocator(integer=True))
        target.tick_params(labelsize=10)
        return handles

    loss_handles = draw(loss_ax, "loss", "-")
    loss_ax.set_ylabel("loss", fontsize=11)
    loss_ax.grid(True, alpha=0.3)
    acc_handles = []
    if acc_ax is not None:
        acc_handles = draw(acc_ax, "acc", "--" if twin else "-")
        acc_ax.set_ylabel("accuracy", fontsize=11)
        if not twin:
            acc_ax.grid(True, alpha=0.3)
            acc_ax.set_title("Accuracy per epoch", fontsize=12)
    if twin:
        loss_ax.set_title("Loss and accuracy per epoch", fontsize=12)
        loss_ax.legend(handles=loss_handles + acc_handles, fontsize=10)
    else:
        loss_ax.set_title("Loss per epoch", fontsize=12)
        if loss_handles:
            loss_ax.legend(fontsize=10)
        if acc_handles:
            acc_ax.legend(fontsize=10)
    if own_figure:
        fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# plot_decision_boundary
# --------------------------------------------------------------------------------------------


def _as_labels(arr: np.ndarray, what: str, fix: str) -> np.ndarray:
    if arr.dtype == bool:
        return arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{what} must hold integer class labels, got dtype {arr.dtype}. {fix}")
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.int64)
    if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
        raise ValueError(
            f"{what} must hold integer class labels (0, 1, 2, ...), got non-integer values "
            f"such as {arr[~np.isfinite(arr) | (arr != np.round(arr))][:3].tolist()}. "
            f"{fix}"
        )
    return arr.astype(np.int64)


def plot_decision_boundary(
    predict: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    ax: Axes | None = None,
    resolution: int = 200,
    title: str | None = None,
) -> Figure:
    """The regions of the plane a classifier assigns to each class, with the data on top.

    Parameters
    ----------
    predict:
        A function taking points ``G`` of shape ``(2, k)`` (one point per column) and returning
        integer class labels of shape ``(k,)`` (``(1, k)`` is accepted too), e.g. ``net.predict``.
    X:
        The data, shape ``(2, m)``: one sample per column, rows ``x1`` and ``x2``.
    y:
        Integer class labels, shape ``(m,)``.
    ax:
        An Axes to draw into, or ``None`` for a new figure.
    resolution:
        Grid points per axis (an int from 2 to 2000); ``predict`` is called once on
        ``resolution**2`` points.
    title:
        The title; ``None`` gives "Decision regions" with the accuracy of ``predict`` on ``X``.

    Returns
    -------
    matplotlib.figure.Figure
        Filled class regions (``contourf``), class boundaries in black, and one scatter per class
        (points coloured by their true label, edged in black).
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure

    fn = "plot_decision_boundary"
    if not callable(predict):
        raise TypeError(
            f"{fn}: predict must be a function from points (2, k) to labels (k,), got "
            f"{type(predict).__name__}. Pass e.g. net.predict or lambda G: (G[0] > 0).astype(int)."
        )
    _check_ax(ax, fn)
    _check_title(title, fn)
    if isinstance(resolution, bool) or not isinstance(resolution, Integral):
        raise TypeError(f"{fn}: resolution must be an int, got {type(resolution).__name__}.")
    if not 2 <= resolution <= 2000:
        raise ValueError(
            f"{fn}: resolution must be between 2 and 2000 grid points per axis, got "
            f"{resolution}. 200 (the default) is plenty for a smooth picture."
        )
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] != 2:
        hint = (
            " It looks like one sample per row: pass X.T."
            if X.ndim == 2 and X.shape[1] == 2
            else ""
        )
        raise ValueError(
            f"{fn}: X must have shape (2, m), one 2-D sample per column, got shape {X.shape}.{hint}"
        )
    m = X.shape[1]
    if m == 0:
        raise ValueError(f"{fn}: X has shape {X.shape}: no samples to draw. Pass at least one.")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{fn}: X contains NaN or infinite values; remove those samples first.")
    y_arr = np.asarray(y)
    if y_arr.shape != (m,):
        hint = " Flatten it with y.ravel()." if y_arr.size == m else ""
        raise ValueError(
            f"{fn}: y must have shape (m,) = ({m},), one label per column of X, got shape "
            f"{y_arr.shape}.{hint}"
        )
    y_arr = _as_labels(y_arr, f"{fn}: y", "Pass class labels such as 0/1, not one-hot rows.")

    pad_x = 0.08 * (np.ptp(X[0]) or 1.0)
    pad_y = 0.08 * (np.ptp(X[1]) or 1.0)
    g1 = np.linspace(X[0].min() - pad_x, X[0].max() + pad_x, resolution)
    g2 = np.linspace(X[1].min() - pad_y, X[1].max() + pad_y, resolution)
    xx, yy = np.meshgrid(g1, g2)
    grid = np.vstack([xx.ravel(), yy.ravel()])

    def run(points: np.ndarray) -> np.ndarray:
        k = points.shape[1]
        out = np.asarray(predict(points))
        if out.size != k or (out.ndim == 2 and 1 not in out.shape) or out.ndim > 2:
            raise ValueError(
                f"{fn}: predict(G) with G of shape {points.shape} must return {k} labels, shape "
                f"({k},), got shape {out.shape}. If it returns scores or one-hot columns, wrap "
                "it: lambda G: np.argmax(scores(G), axis=0)."
            )
        return _as_labels(
            out.ravel(),
            f"{fn}: predict(G)",
            "It seems to return scores or probabilities: threshold them, e.g. "
            "lambda G: (proba(G) > 0.5).astype(int).",
        )

    Z = run(grid).reshape(xx.shape)
    acc = float(np.mean(run(X) == y_arr))

    classes = np.unique(np.concatenate([np.unique(y_arr), np.unique(Z)]))
    base = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    ]  # fmt: skip
    colours = [base[i % len(base)] for i in range(len(classes))]
    cmap = ListedColormap(colours)
    zi = np.searchsorted(classes, Z)
    levels = np.arange(len(classes) + 1) - 0.5

    own_figure = ax is None
    if ax is None:
        fig = Figure(figsize=(6.0, 5.0))
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    ax.contourf(xx, yy, zi, levels=levels, cmap=cmap, vmin=-0.5, vmax=len(classes) - 0.5,
                alpha=0.28)  # fmt: skip
    if len(np.unique(zi)) > 1:
        ax.contour(xx, yy, zi, levels=levels[1:-1], colors="black", linewidths=0.8, alpha=0.6)
    for i, c in enumerate(classes):
        mask = y_arr == c
        if mask.any():
            ax.scatter(
                X[0, mask],
                X[1, mask],
                s=28 if m <= 500 else 10,
                color=colours[i],
                edgecolors="black",
                linewidths=0.5,
                label=f"class {c}",
                zorder=3,
            )
    ax.set_xlabel("x1", fontsize=11)
    ax.set_ylabel("x2", fontsize=11)
    ax.tick_params(labelsize=10)
    ax.set_xlim(g1[0], g1[-1])
    ax.set_ylim(g2[0], g2[-1])
    ax.set_title(
        title if title is not None else f"Decision regions (accuracy on these points {acc:.1%})",
        fontsize=12,
    )
    ax.legend(fontsize=10, loc="best", framealpha=0.85)
    if own_figure:
        fig.tight_layout()
    return fig
