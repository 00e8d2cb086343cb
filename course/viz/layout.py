"""Layout of a computational graph drawn as on the lecture slides: nodes, edges, number places.

The graph below a root (at most :data:`MAX_NODES` nodes) is drawn in layers, the usual way to draw
a directed acyclic graph (Sugiyama's):

* columns by depth: a leaf in the first column, every other node in the column of its longest path
  from a leaf, so the inputs are on the left and the output on the right as on the slides;
* dummy vertices where an edge spans several columns, so that it bends around the nodes between;
* crossing reduction inside each column (barycentre heuristic and transposition, from the given
  order and from seeded shuffles), then heights as close to the neighbours' as a column's order
  and spacing allow (isotonic regression), which straightens chains;
* folding: a drawing wider than :data:`course.viz.DISPLAY_WIDTH` is cut into rows where a single
  edge joins two columns, and that edge runs back below the row to the next (:func:`_fold`);
* label placement: the numbers of each edge and node go where they collide least with nodes,
  other numbers and edges, and where they are clearly nearer their own edge than any other
  (:class:`_Scene`).

Everything is in inches at scale 1 (one data unit is one inch); :mod:`course.viz.graphs` draws the
result. matplotlib is imported inside the functions that measure text and build edge paths.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import Any

from course.graph import Value, topological_order
from course.viz.common import DISPLAY_WIDTH, RED

__all__ = ["MAX_NODES"]

#: Largest graph :func:`draw_graph` agrees to draw (beyond this the numbers become unreadable).
MAX_NODES = 60

# Geometry of the graph drawing, in inches at scale 1 (the drawing uses 1 data unit = 1 inch).
_FS_VALUE = 10.0  # edge numbers
_FS_NODE = 12.0  # gate names and leaf labels
_FS_CAPTION = 10.5
_FS_TITLE = 12.5
_MIN_FS = 6.0
_R = 0.27  # radius of a gate circle
_LEAF_HH = 0.19  # half height of a leaf box
_COL_GAP = 1.25  # free space between the widest nodes of two neighbouring columns
_ROW_GAP = 0.62  # free space between two nodes of one column
_DUMMY_GAP = 0.5  # half the space kept free around an edge passing through a column
_LABEL_GAP = 0.045  # distance between an edge and its numbers
_STUB = 0.95  # length of the output stub
_MARGIN = 0.22
_PAD = 0.05  # labels keep this much free space around them
_CLEARLY_NEARER = 0.1  # an edge's number is this much nearer its own edge than any other
_NEAR = 0.16  # ... and prefer this much
_MAX_FIG = (20.0, 14.0)  # largest figure drawn, in inches; bigger drawings are scaled down
_EDGE_COLOUR = "0.25"
# a drawing wider than this (inches) is folded into rows where it can be, so that it is shown
# at full size (its margins added, it fits DISPLAY_WIDTH)
_FOLD_WIDTH = DISPLAY_WIDTH - 2 * _MARGIN - 0.15
_WRAP_INDENT = 0.55  # room left of a folded row and right of the row before, for the edge back
_ROW_FOLD_GAP = 0.85  # space between folded rows, where the edge back carries its numbers
_RESTARTS = 12  # shuffled starts of the crossing reduction (graphs of at most 40 vertices)


# --------------------------------------------------------------------------------------------
# Graph collection
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
    wrap: int | None = None  # the segment of a folded edge that runs back between two rows


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


def _layout(
    roots: list[Any], nodes: list[Any], text: Callable[[Any, int], str] = _node_text
) -> tuple[list[_Vertex], list[_Route]]:
    """Vertices and edge routes of the graph of ``nodes`` (creation order) below ``roots``.

    The nodes need ``.parents`` and ``.op`` (a :class:`course.graph.Value`, a
    :class:`course.tensorgraph.Tensor`); ``text(node, number)`` is what a node shows. With
    several roots (a graph with several outputs) every root goes to the last column.
    """
    number = {v: i + 1 for i, v in enumerate(nodes)}
    depth: dict[Any, int] = {}
    for v in nodes:  # creation order: parents before children
        depth[v] = 1 + max(depth[p] for p in v.parents) if v.parents else 0
    if len(roots) > 1:
        last = max(depth[r] for r in roots)
        for r in roots:
            depth[r] = last

    # initial order inside a column: post-order from the roots, arguments in order (x above y)
    post: dict[Any, int] = {}
    stack: list[tuple[Any, int]] = [(root, 0) for root in reversed(roots)]
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
        shown = text(v, number[v])
        vert = _Vertex(v, depth[v], float(post[v]), shown)
        w, h = _text_size(shown, _FS_NODE)
        if v.op:
            vert.hw, vert.hh = max(_R, 0.5 * w / 0.82 + 0.04), _R
        else:
            vert.hw, vert.hh = max(0.2, 0.5 * w + 0.11), _LEAF_HH
        vid[v] = len(verts)
        verts.append(vert)

    routes: list[_Route] = []
    all_edges = [(p, c, k) for c in reversed(nodes) for k, p in enumerate(c.parents)]
    for parent, child, slot in all_edges:
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

    n_cols = max(depth[r] for r in roots) + 1
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
    _fold(verts, layers, routes)
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
    """Fewest crossings found by the barycentre heuristic and the transpose step, from the
    given order and from :data:`_RESTARTS` shuffled ones (seeded: the same graph is drawn the
    same way every time). One start can stop short of the best order: in ||Wx||^2 the leaves'
    order and the products' order must change together."""
    rng = random.Random(0)
    starts = [[list(layer) for layer in layers]]
    for _ in range(_RESTARTS if len(preds) <= 40 else 1):
        starts.append([rng.sample(layer, len(layer)) for layer in layers])
    given = {v: i for layer in layers for i, v in enumerate(layer)}

    def moved(order: list[list[int]]) -> int:
        return sum(abs(i - given[v]) for layer in order for i, v in enumerate(layer))

    # of the orders with fewest crossings, the one nearest the given order (x above y)
    best: tuple[int, int, list[list[int]]] | None = None
    for start in starts:
        crossings = _transpose(start, succs, _barycentre(start, preds, succs))
        for order in (start, [layer[::-1] for layer in start]):  # upside down: as many
            key = (crossings, moved(order), order)
            if best is None or key[:2] < best[:2]:
                best = key
        if best[0] == 0 and best[1] == 0:
            break
    assert best is not None
    layers[:] = best[2]


def _barycentre(layers: list[list[int]], preds: list[list[int]], succs: list[list[int]]) -> int:
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
    return best


def _transpose(layers: list[list[int]], succs: list[list[int]], crossings: int) -> int:
    """Swap neighbours inside a column while that removes crossings (the "transpose" step of
    Gansner et al.'s dot); returns the crossings left."""
    improved = crossings > 0
    while improved:
        improved = False
        for layer in layers:
            for i in range(len(layer) - 1):
                layer[i], layer[i + 1] = layer[i + 1], layer[i]
                c = _crossings(layers, succs)
                if c < crossings:
                    crossings, improved = c, True
                else:
                    layer[i], layer[i + 1] = layer[i + 1], layer[i]
    return crossings


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


def _fold(verts: list[_Vertex], layers: list[list[int]], routes: list[_Route]) -> None:
    """Fold a drawing wider than :data:`_FOLD_WIDTH` into rows, as text wraps into lines.

    A row ends between two columns that exactly one edge joins (a chain of one-input gates, as
    in the sigmoid neuron); that edge runs back along the space between the rows to the start
    of the next row. A graph without such a place stays in one row (and is scaled down).
    """
    hw = [max(verts[v].hw for v in layer) for layer in layers]
    xs = [verts[layer[0]].x for layer in layers]
    n = len(layers)
    last_extra = _STUB + 0.35  # the output stub and the output's name right of the last column

    def width(first: int, end: int) -> float:
        w = xs[end - 1] + hw[end - 1] - (xs[first] - hw[first])
        w += _WRAP_INDENT if first > 0 else 0.0
        return w + (last_extra if end == n else _WRAP_INDENT)

    if width(0, n) <= _FOLD_WIDTH:
        return
    col = {i: v.col for i, v in enumerate(verts)}
    crossing: dict[int, list[tuple[_Route, int]]] = {}
    for r in routes:
        for k, (_a, b) in enumerate(pairwise(r.chain)):
            crossing.setdefault(col[b], []).append((r, k))
    rows: list[tuple[int, int]] = []
    first = 0
    while width(first, n) > _FOLD_WIDTH:
        ends = [
            c
            for c in range(first + 2, n)
            if len(crossing.get(c, [])) == 1 and width(first, c) <= _FOLD_WIDTH
        ]
        if not ends:
            break
        # the last row that fits; or, when the rest then fits one row, the most even two
        end = ends[-1]
        if any(width(c, n) <= _FOLD_WIDTH for c in ends):
            end = min(ends, key=lambda c: max(width(first, c), width(c, n)))
        rows.append((first, end))
        first = end
    if not rows:
        return
    rows.append((first, n))

    # each row's columns move left to the start of the first row, the rows one below another
    left = xs[0] - hw[0]
    top = None
    for r, (a, e) in enumerate(rows):
        members = [v for d in range(a, e) for v in layers[d]]
        dx = (left + (_WRAP_INDENT if r else 0.0) + hw[a]) - xs[a]
        high = max(verts[v].y + (verts[v].hh or _DUMMY_GAP) for v in members)
        low = min(verts[v].y - (verts[v].hh or _DUMMY_GAP) for v in members)
        dy = 0.0 if top is None else top - _ROW_FOLD_GAP - high
        for v in members:
            verts[v].x += dx
            verts[v].y += dy
        top = low + dy

    # the edge between two rows: right, down into the gap, back left, down, into the next row
    for r, (_a, e) in enumerate(rows[:-1]):
        route, k = crossing[e][0]
        pa, pb = verts[route.chain[k]], verts[route.chain[k + 1]]
        members = [v for d in range(rows[r][0], e) for v in layers[d]]
        row_low = min(verts[v].y - (verts[v].hh or _DUMMY_GAP) for v in members)
        y_gap = row_low - _ROW_FOLD_GAP / 2
        x_out = pa.x + hw[e - 1] + _WRAP_INDENT * 0.6
        x_in = pb.x - hw[e] - _WRAP_INDENT * 0.6
        points = [(x_out, pa.y), (x_out, y_gap), (x_in, y_gap), (x_in, pb.y)]
        ids = []
        for x, y in points:
            verts.append(_Vertex(None, -1, 0.0, x=x, y=y))
            ids.append(len(verts) - 1)
        route.chain[k + 1 : k + 1] = ids
        route.wrap = k + 2  # the segment from (x_out, y_gap) to (x_in, y_gap)


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
    edge: int | None = None  # the number of the edge this label belongs to, if any

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

    def distance(self, i: int, box: _Box) -> float:
        """Distance from ``box`` to the ``i``-th polyline (0 where it touches it)."""
        return min(_box_to_segment(box, p, q) for p, q, _ in self._segments[i][1])

    def ambiguous(self, own: int, box: _Box) -> bool:
        """Is ``box`` less than :data:`_CLEARLY_NEARER` nearer its own polyline than another?"""
        limit = self.distance(own, box) + _CLEARLY_NEARER
        for i, (line_box, _segs) in enumerate(self._segments):
            if i == own or _box_to_box(box, line_box) >= limit:
                continue
            if self.distance(i, box) < limit:
                return True
        return False

    def cost(self, boxes: list[_Box], own: int | None) -> float:
        """10 per overlap with a node or a label, 1 per edge crossed, 0.3 per near miss; and,
        for an edge's own numbers (``own`` given), 5 per number that is not clearly nearer its
        own edge than any other (a reader would give it to the wrong edge)."""
        c = 0.0
        if own is not None:
            c += 5 * sum(self.ambiguous(own, b) for b in boxes)
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


def _point_to_segment(x: float, y: float, p: tuple[float, float], q: tuple[float, float]) -> float:
    dx, dy = q[0] - p[0], q[1] - p[1]
    d2 = dx * dx + dy * dy
    t = 0.0 if d2 == 0 else max(0.0, min(1.0, ((x - p[0]) * dx + (y - p[1]) * dy) / d2))
    return math.hypot(x - p[0] - t * dx, y - p[1] - t * dy)


def _box_to_box(a: _Box, b: _Box) -> float:
    dx = max(b[0] - a[2], 0.0, a[0] - b[2])
    dy = max(b[1] - a[3], 0.0, a[1] - b[3])
    return math.hypot(dx, dy)


def _box_to_segment(box: _Box, p: tuple[float, float], q: tuple[float, float]) -> float:
    """Distance between a box and the segment ``pq`` (0 where they meet)."""
    if _segment_hits_box(p, q, box):
        return 0.0
    corners = [(box[0], box[1]), (box[0], box[3]), (box[2], box[1]), (box[2], box[3])]
    d = min(_point_to_segment(x, y, p, q) for x, y in corners)
    for x, y in (p, q):  # an end of the segment facing a side of the box
        dx = max(box[0] - x, 0.0, x - box[2])
        dy = max(box[1] - y, 0.0, y - box[3])
        d = min(d, math.hypot(dx, dy))
    return d


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
    # the numbers go on the first segment, or on the long way back of a folded edge
    start, nxt = (pts[route.wrap], pts[route.wrap + 1]) if route.wrap is not None else pts[:2]

    def along(t: float) -> tuple[float, float, float, float]:
        return (
            start[0] + t * (nxt[0] - start[0]),
            start[1] + t * (nxt[1] - start[1]),
            nxt[0] - start[0],
            nxt[1] - start[1],
        )

    t_max = 0.65 if inner and route.wrap is None else 0.8
    return _EdgeGeom(route, vertices, codes, pts, along, t_max)


def _place_edge_labels(
    scene: _Scene,
    geom: _EdgeGeom,
    index: int,
    texts: list[tuple[str, str, str]],
    fan_out: bool = False,
) -> None:
    """Put the green text above and the red text below the edge where they collide least.

    Both go to the same point along the edge when that is free, else each to its own: where two
    edges cross, the number above one edge is clear of the other before the crossing and the
    number below it after. Edges leaving a node used several times start together, so their
    numbers go further along.
    """
    sizes = [_text_size(t, _FS_VALUE) for t, _, _ in texts]
    ts = (
        (0.65, 0.75, 0.55, 0.45, 0.35, 0.85, 0.25)
        if fan_out
        else (0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78, 0.15, 0.85)
    )
    # green above and red below; or both on one side, stacked, where the other side is too near
    # another edge to tell whose number stands there (edges leaving one node, x * x)
    arrangements = [(1, -1), (1, 1), (-1, -1)]
    # per arrangement and text, every candidate place with its cost among what is placed already
    best: tuple[float, list[_Label]] | None = None
    for sides in arrangements:
        stacked = len(texts) > 1 and sides[0] == sides[1]
        options: list[list[tuple[float, int, _Label]]] = [[] for _ in texts]
        for rank, t in enumerate(ts):
            if t > geom.t_max:
                continue
            x, y, tx, ty = geom.label_at(t)
            d = math.hypot(tx, ty) or 1.0
            nx, ny = -ty / d, tx / d  # left of the direction of travel: above a rightward edge
            if ny < 0:
                nx, ny = -nx, -ny
            for k, ((text, colour, gid), (w, h), side) in enumerate(
                zip(texts, sizes, sides, strict=False)
            ):
                shallow = abs(ty) <= 1.5 * abs(tx)
                extra = 0.0
                if k and stacked:  # the second beyond the first
                    extra = sizes[0][1] + 0.02 if shallow else sizes[0][0] + 0.04
                if shallow:  # straight above / below the point
                    cx, cy = x, y + side * (_LABEL_GAP + extra + h / 2 + w / 2 * abs(ty / tx))
                else:  # steep edge: beside it
                    cx, cy = _beside(x, y, side * nx, side * ny, w, h, _LABEL_GAP + extra)
                label = _Label(text, colour, cx, cy, w, h, _FS_VALUE, gid, edge=index)
                options[k].append((scene.cost([label.box], index) + 0.01 * rank, rank, label))
        if len(texts) == 1:
            c, _r, label = min(options[0], key=lambda o: o[0])
            pairs = [(c, [label])]
        else:
            # apart only when it pays (0.5); stacked numbers stay together
            pairs = [
                (c1 + c2 + 10 * _boxes_overlap(lab1.box, lab2.box) + 0.5 * (r1 != r2), [lab1, lab2])
                for c1, r1, lab1 in options[0]
                for c2, r2, lab2 in options[1]
                if not stacked or r1 == r2
            ]
        for c, labels in pairs:
            c += 0.6 * (sides != (1, -1))  # green above and red below when that is as good
            if best is None or c < best[0]:
                best = (c, labels)
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
