"""Tests of course.viz: what is drawn (texts, colours, positions, patches), not just no errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.colors import same_color  # noqa: E402
from matplotlib.contour import ContourSet  # noqa: E402
from readable import smallest_text  # noqa: E402

from course import tensorgraph, viz  # noqa: E402
from course.graph import Value, backward_steps, edges, topological_order  # noqa: E402
from course.tensorgraph import Tensor  # noqa: E402
from course.viz.graphs import _fmt  # noqa: E402

# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def lecture_example() -> tuple[Value, Value, Value, Value]:
    x, y, z = Value(2.0, label="x"), Value(3.0, label="y"), Value(-2.0, label="z")
    return x * y + z, x, y, z


def sigmoid_neuron() -> tuple[Value, Value, Value, Value]:
    w0, x0, b = Value(-2.0, label="w0"), Value(3.0, label="x0"), Value(7.5, label="b")
    return 1 / (1 + (-(w0 * x0 + b)).exp()), w0, x0, b


def graph_axes(fig):
    return fig.axes[0]


def texts(fig, colour=None, gid=None):
    """Text artists of the graph drawing, optionally of one colour and/or one gid."""
    ax = graph_axes(fig)
    out = []
    for t in ax.texts:
        if colour is not None and not same_color(t.get_color(), colour):
            continue
        if gid is not None and t.get_gid() != gid:
            continue
        out.append(t)
    return out


def strings(artists) -> list[str]:
    return [t.get_text() for t in artists]


def patches(fig, gid):
    return [p for p in graph_axes(fig).patches if p.get_gid() == gid]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# --------------------------------------------------------------------------------------------
# import
# --------------------------------------------------------------------------------------------


def test_import_does_not_load_matplotlib():
    code = "import sys, course.viz; print('matplotlib' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert out.stdout.strip() == "False"


def test_the_package_exports_the_functions_of_its_modules():
    from course.viz import common, graphs, layout, training

    assert viz.__all__ == [
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
    assert (viz.GREEN, viz.RED, viz.ORANGE) == (common.GREEN, common.RED, common.ORANGE)
    assert (viz.DISPLAY_WIDTH, viz.MIN_FONT_SIZE) == (common.DISPLAY_WIDTH, common.MIN_FONT_SIZE)
    assert viz.MAX_NODES == layout.MAX_NODES == 60
    assert viz.draw_graph is graphs.draw_graph and viz.graph_to_dot is graphs.graph_to_dot
    assert viz.draw_array_graph is graphs.draw_array_graph
    assert viz.plot_history is training.plot_history
    assert viz.plot_decision_boundary is training.plot_decision_boundary


# --------------------------------------------------------------------------------------------
# draw_graph: the lecture examples
# --------------------------------------------------------------------------------------------


def test_lecture_example_values_gradients_and_gates():
    f, x, y, z = lecture_example()
    f.backward()
    fig = viz.draw_graph(f)
    green = strings(texts(fig, viz.GREEN))
    red = strings(texts(fig, viz.RED))
    for s in ("2.00", "3.00", "-2.00", "6.00", "4.00"):
        assert s in green, (s, green)
    for s in ("3.00", "2.00", "1.00"):  # df/dx, df/dy, df/dz
        assert s in red, (s, red)
    # one green number per edge plus the output; one red per edge plus the output
    n_edges = len(list(edges(f)))
    assert len(green) == n_edges + 1
    assert len(red) == n_edges + 1
    assert sorted(strings(texts(fig, gid="op"))) == ["*", "+"]
    assert sorted(strings(texts(fig, gid="leaf"))) == ["x", "y", "z"]
    assert len(patches(fig, "node")) == len(topological_order(f)) == 5
    assert len(patches(fig, "edge")) == n_edges == 4
    assert len(patches(fig, "edge-current")) == 0


def _text_at(fig, text, colour):
    found = [t for t in texts(fig, colour) if t.get_text() == text]
    assert len(found) == 1, (text, strings(texts(fig, colour)))
    return found[0].get_position()


def test_lecture_example_layout_green_above_red_below_leaves_left():
    f, x, y, z = lecture_example()
    f.backward()
    fig = viz.draw_graph(f)
    # edge x -> *: value 2.00 (green) above its gradient 3.00 (red)
    gx, gy = _text_at(fig, "2.00", viz.GREEN)
    rx, ry = _text_at(fig, "3.00", viz.RED)
    assert gy > ry and abs(gx - rx) < 0.3
    # edge z -> +: value -2.00 above its gradient
    gz = _text_at(fig, "-2.00", viz.GREEN)
    assert any(t.get_position()[1] < gz[1] for t in texts(fig, viz.RED))
    # output stub right of everything: 4.00 above 1.00
    out_g = _text_at(fig, "4.00", viz.GREEN)
    out_r = max((t.get_position() for t in texts(fig, viz.RED)), key=lambda p: p[0])
    assert out_g[1] > out_r[1] and abs(out_g[0] - out_r[0]) < 0.2
    # columns: leaves left of "*" left of "+"
    pos = {t.get_text(): t.get_position() for t in texts(fig) if t.get_gid() in ("op", "leaf")}
    assert pos["x"][0] == pos["y"][0] == pos["z"][0] < pos["*"][0] < pos["+"][0]
    assert pos["x"][1] > pos["y"][1] > pos["z"][1]  # argument order, top to bottom
    assert out_g[0] > pos["+"][0]


def _assert_no_text_overlap(fig):
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in graph_axes(fig).texts]
    for i, (s1, b1) in enumerate(boxes):
        for s2, b2 in boxes[i + 1 :]:
            assert not b1.overlaps(b2), f"texts {s1!r} and {s2!r} overlap"


def test_drawn_texts_do_not_overlap():
    for make in (lecture_example, sigmoid_neuron):
        f = make()[0]
        f.backward()
        _assert_no_text_overlap(viz.draw_graph(f))


def test_sigmoid_neuron_slide_numbers():
    f, w0, x0, b = sigmoid_neuron()
    f.backward()
    fig = viz.draw_graph(f)
    red = strings(texts(fig, viz.RED))
    green = strings(texts(fig, viz.GREEN))
    assert "-0.30" in red  # df/dx0
    assert "0.45" in red  # df/dw0
    assert "0.82" in green  # output
    ops = strings(texts(fig, gid="op"))
    assert sorted(ops) == sorted(["*", "+", "*-1", "exp", "+1", "1/x"])
    assert len(patches(fig, "node")) == len(topological_order(f)) == 9


def test_no_red_before_backward_or_with_show_grads_false():
    f, *_ = lecture_example()
    fig = viz.draw_graph(f)
    assert texts(fig, viz.RED) == []
    assert "4.00" in strings(texts(fig, viz.GREEN))
    f.backward()
    assert texts(viz.draw_graph(f, show_grads=False), viz.RED) == []
    assert len(texts(viz.draw_graph(f), viz.RED)) == 5


def test_unlabelled_leaves_are_numbered_and_output_label_shown():
    a, b = Value(1.0), Value(2.0)
    out = a * b
    out.label = "L"
    fig = viz.draw_graph(out)
    assert sorted(strings(texts(fig, gid="leaf"))) == ["u1", "u2"]
    assert strings(texts(fig, gid="out")) == ["L"]


def test_fan_out_shows_each_share_and_their_sum():
    a = Value(3.0, label="a")
    g = a * a + a  # dg/da = 2a + 1 = 7
    g.backward()
    fig = viz.draw_graph(g)
    assert strings(texts(fig, viz.RED, gid="grad-total")) == ["Σ 7.00"]
    edge_grads = sorted(strings(texts(fig, viz.RED, gid="grad")))
    # three edges leave a (3.00, 3.00, 1.00), one leaves a*a (1.00), plus the output stub
    assert edge_grads == ["1.00", "1.00", "1.00", "3.00", "3.00"]
    assert len(patches(fig, "edge")) == 4
    _assert_no_text_overlap(fig)


def test_leaf_only_graph():
    fig = viz.draw_graph(Value(2.5, label="w"))
    assert strings(texts(fig, gid="leaf")) == ["w"]
    assert strings(texts(fig, viz.GREEN)) == ["2.50"]


def test_draws_into_given_axes():
    f, *_ = lecture_example()
    f.backward()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3))
    assert viz.draw_graph(f, ax=ax2, title="my graph") is fig
    assert ax2.get_title() == "my graph"
    assert len(ax1.texts) == 0 and len(ax2.texts) > 0


# --------------------------------------------------------------------------------------------
# draw_graph: stepping through the backward sweep
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [lecture_example, sigmoid_neuron])
def test_step_shows_exactly_the_first_k_gradients(make):
    f = make()[0]
    steps = backward_steps(f)
    n = len(steps)
    counts = []
    for k in range(n + 1):
        fig = viz.draw_graph(f, step=k)
        # the stub's 1.00 is known from the start; then one number per step taken, the last
        # one (step k, just computed) in orange
        grads = texts(fig, viz.RED, gid="grad") + texts(fig, viz.ORANGE, gid="grad-current")
        assert len(grads) == k + 1
        expected = sorted([_fmt(s.total) for s in steps[:k]] + ["1.00"])
        assert sorted(strings(grads)) == expected
        counts.append(len(grads))
        current = patches(fig, "edge-current")
        (caption,) = strings(texts(fig, gid="caption"))
        assert caption.startswith(f"step {k} of {n}")
        if k > 0:
            assert len(current) == 1
            assert same_color(current[0].get_edgecolor(), viz.ORANGE)
            assert current[0].get_linewidth() > patches(fig, "edge")[0].get_linewidth()
            s = steps[k - 1]
            assert "local" in caption and "upstream" in caption
            assert (
                f"{_fmt(s.local)} × upstream {_fmt(s.upstream)} = {_fmt(s.contribution)}" in caption
            )
            assert strings(texts(fig, viz.ORANGE, gid="grad-current")) == [_fmt(s.contribution)]
        else:
            assert current == []
            assert "before the sweep" in caption
        assert ("the sweep is done" in caption) == (k == n)
        plt.close(fig)
    assert counts == list(range(1, n + 2))
    # the sweep is replayed from backward_steps: .grad is untouched
    assert all(v.grad == 0 for v in topological_order(f))


def test_last_step_matches_full_drawing():
    f, *_ = sigmoid_neuron()
    last = viz.draw_graph(f, step=len(backward_steps(f)))
    f.backward()
    full = viz.draw_graph(f)
    # the last step's number is orange (just computed), every other one red as in full
    known = texts(last, viz.RED) + texts(last, viz.ORANGE, gid="grad-current")
    assert sorted(strings(known)) == sorted(strings(texts(full, viz.RED)))


def test_step_highlights_the_right_edge():
    f, x, y, z = lecture_example()
    steps = backward_steps(f)
    k = next(i for i, s in enumerate(steps, start=1) if s.parent is z)
    fig = viz.draw_graph(f, step=k)
    (current,) = patches(fig, "edge-current")
    (zx, zy) = next(t.get_position() for t in texts(fig, gid="leaf") if t.get_text() == "z")
    (px, py) = next(t.get_position() for t in texts(fig, gid="op") if t.get_text() == "+")
    (x0, y0), (x1, y1) = current.get_path().get_extents().get_points()
    # the arrow runs from the box of z (lower left) to the circle of + (upper right)
    assert abs(x0 - zx) < 0.5 and abs(y0 - zy) < 0.3
    assert abs(x1 - px) < 0.5 and abs(y1 - py) < 0.5


@pytest.mark.parametrize("bad", [-1, 5, 100])
def test_step_out_of_range(bad):
    f, *_ = lecture_example()
    with pytest.raises(ValueError, match=r"step=-?\d+ is out of range.*0 <= step <= 4"):
        viz.draw_graph(f, step=bad)


@pytest.mark.parametrize("bad", [1.5, "2", True])
def test_step_wrong_type(bad):
    f, *_ = lecture_example()
    with pytest.raises(TypeError, match="step must be an int"):
        viz.draw_graph(f, step=bad)


def test_step_with_show_grads_false_is_refused():
    f, *_ = lecture_example()
    with pytest.raises(ValueError, match="show_grads=False"):
        viz.draw_graph(f, step=1, show_grads=False)


# --------------------------------------------------------------------------------------------
# draw_graph: a layout a student can read
# --------------------------------------------------------------------------------------------


def wx_squared() -> Value:
    """||Wx||^2 of notebook 05 as a scalar graph, swept backward."""
    W = [[0.3, 0.4], [0.5, 0.6]]
    Wv = [[Value(W[i][j], label=f"W{i + 1}{j + 1}") for j in range(2)] for i in range(2)]
    xv = [Value(0.1, label="x1"), Value(0.2, label="x2")]
    m = [Wv[i][0] * xv[0] + Wv[i][1] * xv[1] for i in range(2)]
    f = m[0] ** 2 + m[1] ** 2
    f.label = "f"
    f.backward()
    return f


def _swept(make):
    def build():
        f = make()[0]
        f.backward()
        return f

    return build


def _two_paths():
    u1 = Value(1.0, label="u1")
    u2 = u1**2
    u3 = (u2 + u1).exp()
    u3.backward()
    return u3


def _fan_out():
    a = Value(3.0, label="a")
    g = a * a + a
    g.backward()
    return g


def relu_rows():
    """(c) of notebook 05: H = max{0, XW + b}, one example per row, swept from a random G."""
    rng = np.random.default_rng(0)
    X = Tensor(rng.normal(size=(4, 3)), label="X")
    W = Tensor(rng.normal(size=(3, 5)), label="W")
    b = Tensor(rng.normal(size=5), label="b")
    U1 = X @ W
    U2 = U1 + b
    H = U2.relu()
    U1.label, U2.label, H.label = "U1", "U2", "H"
    H.backward(rng.normal(size=(4, 5)))
    return H, X, W, b


def prediction_and_penalty():
    """(d) of notebook 05: yhat = x^T w and P = lambda sum w^2, two outputs, w on both paths."""
    rng = np.random.default_rng(1)
    x = Tensor(rng.normal(size=(3, 1)), label="x")
    w = Tensor(rng.normal(size=(3, 1)), label="w")
    lam = Tensor(0.1, label="λ")
    yhat = tensorgraph.dot(x, w)
    penalty = w.square().sum() * lam
    yhat.label, penalty.label = "ŷ", "P"
    tensorgraph.backward({yhat: 0.5, penalty: 1.0})
    return yhat, penalty, w


DIMS = {"m": 4, "n": 3, "h": 5}

LAYOUTS = {
    "x*y + z": lambda: viz.draw_graph(_swept(lecture_example)()),
    "sigmoid neuron": lambda: viz.draw_graph(_swept(sigmoid_neuron)()),
    "sigmoid neuron, step 3": lambda: viz.draw_graph(sigmoid_neuron()[0], step=3),
    "sigmoid as one gate": lambda: viz.draw_graph(
        _swept(lambda: ((Value(-2.0) * Value(3.0) + Value(7.5)).sigmoid(),))()
    ),
    "||Wx||^2": lambda: viz.draw_graph(wx_squared()),
    "two paths": lambda: viz.draw_graph(_two_paths()),
    "fan-out": lambda: viz.draw_graph(_fan_out()),
    "array graph: ReLU layer in rows": lambda: viz.draw_array_graph(relu_rows()[0], dims=DIMS),
    "array graph: two outputs": lambda: viz.draw_array_graph(
        list(prediction_and_penalty()[:2]), dims={"n": 3}
    ),
}


def _extents(fig, artists):
    renderer = fig.canvas.get_renderer()
    return [a.get_window_extent(renderer) for a in artists]


def _outline(patch, fig) -> np.ndarray:
    """Points along an arrow as drawn (display coordinates), 20 per piece of its outline."""
    fig.canvas.draw()
    pieces = []
    to_display = patch.axes.transData  # get_path() is in data coordinates
    for poly in to_display.transform_path(patch.get_path()).to_polygons(closed_only=False):
        for a, b in zip(poly[:-1], poly[1:]):
            pieces.append(a + np.linspace(0, 1, 20)[:, None] * (b - a))
    return np.concatenate(pieces)


def _distance(points: np.ndarray, box) -> float:
    dx = np.maximum.reduce([box.x0 - points[:, 0], np.zeros(len(points)), points[:, 0] - box.x1])
    dy = np.maximum.reduce([box.y0 - points[:, 1], np.zeros(len(points)), points[:, 1] - box.y1])
    return float(np.hypot(dx, dy).min())


@pytest.mark.parametrize("name", LAYOUTS)
def test_no_two_nodes_or_numbers_overlap(name):
    fig = LAYOUTS[name]()
    FigureCanvasAgg(fig)
    nodes = _extents(fig, [p for p in graph_axes(fig).patches if p.get_gid() == "node"])
    numbers = _extents(fig, [t for t in graph_axes(fig).texts if t.get_label().startswith("_edge")])
    for i, a in enumerate(nodes):
        for b in nodes[i + 1 :]:
            assert not a.overlaps(b), f"{name}: two nodes overlap"
    for i, a in enumerate(numbers):
        assert not any(a.overlaps(n) for n in nodes), f"{name}: a number covers a node"
        for b in numbers[i + 1 :]:
            assert not a.overlaps(b), f"{name}: two numbers overlap"


@pytest.mark.parametrize("name", LAYOUTS)
def test_every_text_is_readable_where_the_notebook_shows_it(name):
    fig = LAYOUTS[name]()
    size, text = smallest_text(fig)
    assert size >= viz.MIN_FONT_SIZE, (
        f"{name}: {text!r} is shown at {size:.1f} pt in a figure "
        f"{fig.get_size_inches()[0]:.1f} in wide"
    )


@pytest.mark.parametrize("name", LAYOUTS)
def test_each_edge_number_is_nearer_its_own_edge_than_any_other(name):
    fig = LAYOUTS[name]()
    FigureCanvasAgg(fig)
    ax = graph_axes(fig)
    arrows = {
        p.get_label(): _outline(p, fig) for p in ax.patches if p.get_label().startswith("_edge")
    }
    numbers = [t for t in ax.texts if t.get_label().startswith("_edge")]
    assert numbers and len(arrows) >= 2
    renderer = fig.canvas.get_renderer()
    for t in numbers:
        box = t.get_window_extent(renderer)
        own = _distance(arrows[t.get_label()], box)
        other, nearest = min(
            (_distance(points, box), label)
            for label, points in arrows.items()
            if label != t.get_label()
        )
        assert own < other, (
            f"{name}: {t.get_text()} of {t.get_label()} is {own:.0f} px from its edge "
            f"and {other:.0f} px from {nearest}"
        )


def _crossings(fig) -> int:
    """Pairs of drawn edges that cross away from the nodes (display coordinates)."""
    FigureCanvasAgg(fig)
    ax = graph_axes(fig)
    nodes = _extents(fig, [p for p in ax.patches if p.get_gid() == "node"])
    lines = [_outline(p, fig) for p in ax.patches if p.get_gid() in ("edge", "edge-current")]

    def near_a_node(x, y):
        return any(n.x0 - 8 <= x <= n.x1 + 8 and n.y0 - 8 <= y <= n.y1 + 8 for n in nodes)

    def cross(p, q):
        for a, b in zip(p[:-1:5], p[5::5]):
            for c, d in zip(q[:-1:5], q[5::5]):
                den = (b[0] - a[0]) * (d[1] - c[1]) - (b[1] - a[1]) * (d[0] - c[0])
                if den == 0:
                    continue
                s = ((c[0] - a[0]) * (d[1] - c[1]) - (c[1] - a[1]) * (d[0] - c[0])) / den
                u = ((c[0] - a[0]) * (b[1] - a[1]) - (c[1] - a[1]) * (b[0] - a[0])) / den
                if 0 <= s <= 1 and 0 <= u <= 1:
                    x, y = a + s * (b - a)
                    if not near_a_node(x, y):
                        return True
        return False

    return sum(cross(p, q) for i, p in enumerate(lines) for q in lines[i + 1 :])


def test_edges_of_wx_squared_cross_once_the_fewest_possible():
    # x1 feeds the products of both rows of W and so does x2: whatever the order of the leaves
    # and of the four products, one pair of edges must cross (0 would need x1's and x2's
    # products each next to each other, and the two sums need one product of each)
    assert _crossings(LAYOUTS["||Wx||^2"]()) == 1


@pytest.mark.parametrize("name", [n for n in LAYOUTS if n != "||Wx||^2"])
def test_other_graphs_have_no_crossing_edges(name):
    assert _crossings(LAYOUTS[name]()) == 0


def test_a_long_chain_is_folded_into_rows_that_fit_the_notebook():
    fig = LAYOUTS["sigmoid neuron"]()
    assert fig.get_size_inches()[0] <= viz.DISPLAY_WIDTH
    ys = sorted(
        {round(t.get_position()[1], 1) for t in graph_axes(fig).texts if t.get_gid() == "op"}
    )
    assert len(ys) >= 2, "the gates sit in more than one row"
    # every gate still drawn, in the order of the chain: exp, +1 and 1/x in the second row
    ops = {t.get_text(): t.get_position() for t in graph_axes(fig).texts if t.get_gid() == "op"}
    assert set(ops) == {"*", "+", "*-1", "exp", "+1", "1/x"}
    assert ops["exp"][1] < ops["*-1"][1] and ops["exp"][0] < ops["+1"][0] < ops["1/x"][0]


# --------------------------------------------------------------------------------------------
# draw_graph: bad input
# --------------------------------------------------------------------------------------------


def test_too_large_graph_raises_helpful_error():
    v = Value(0.5, label="x")
    for _ in range(70):
        v = v.tanh()
    with pytest.raises(ValueError) as info:
        viz.draw_graph(v)
    msg = str(info.value)
    assert "too large" in msg and "smaller sub-expression" in msg
    assert str(viz.MAX_NODES) in msg and "graph_to_dot" in msg


def test_largest_allowed_graph_is_drawn():
    v = Value(0.5, label="x")
    for _ in range(viz.MAX_NODES - 1):
        v = v.tanh()
    fig = viz.draw_graph(v)
    assert len(patches(fig, "node")) == viz.MAX_NODES


@pytest.mark.parametrize("bad", [2.0, None, [Value(1.0)]])
def test_root_must_be_a_value(bad):
    with pytest.raises(TypeError, match=r"root must be a course\.graph\.Value"):
        viz.draw_graph(bad)
    with pytest.raises(TypeError, match=r"root must be a course\.graph\.Value"):
        viz.graph_to_dot(bad)


def test_ax_must_be_axes():
    f, *_ = lecture_example()
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        viz.draw_graph(f, ax="left")


def test_number_format():
    assert _fmt(0.7310585786) == "0.73"
    assert _fmt(-0.19661193) == "-0.20"
    assert _fmt(-0.0001) == "-1.0e-04"
    assert _fmt(-0.0) == "0.00"
    assert _fmt(float("nan")) == "nan"


# --------------------------------------------------------------------------------------------
# graph_to_dot
# --------------------------------------------------------------------------------------------


def test_graph_to_dot_one_line_per_node_and_edge():
    f, *_ = sigmoid_neuron()
    f.backward()
    dot = viz.graph_to_dot(f)
    lines = dot.strip().splitlines()
    assert lines[0].startswith("digraph") and lines[-1] == "}"
    node_lines = [ln for ln in lines if re.match(r"^\s*n\d+ \[", ln)]
    edge_lines = [ln for ln in lines if re.match(r"^\s*n\d+ -> n\d+ \[", ln)]
    assert len(node_lines) == len(topological_order(f)) == 9
    assert len(edge_lines) == len(list(edges(f))) == 8
    assert 'label="w0"' in dot and 'label="1/x"' in dot
    assert f'<font color="{viz.RED}">-0.30</font>' in dot
    assert f'<font color="{viz.GREEN}">0.82</font>' in dot
    assert dot.count("{") == dot.count("}")


def test_graph_to_dot_parallel_edges_and_no_grads():
    a = Value(3.0, label="a")
    g = a * a
    dot = viz.graph_to_dot(g)
    assert len(re.findall(r"n1 -> n2 \[", dot)) == 2
    assert viz.RED not in dot  # backward not called yet


def test_graph_to_dot_escapes_quotes():
    v = Value(1.0, label='say "hi"')
    dot = viz.graph_to_dot(v * 2)
    assert r'label="say \"hi\""' in dot


def test_graph_to_dot_has_no_size_limit():
    v = Value(0.5)
    for _ in range(200):
        v = v.tanh()
    assert len(re.findall(r"->", viz.graph_to_dot(v))) == 200


# --------------------------------------------------------------------------------------------
# plot_history
# --------------------------------------------------------------------------------------------


def make_history(n=5, acc=True, val=True):
    rng = np.linspace(1.0, 0.2, n)
    return SimpleNamespace(
        train_loss=list(rng),
        val_loss=list(rng + 0.1) if val else [],
        train_acc=list(1 - rng / 2) if acc else [],
        val_acc=list(0.9 - rng / 2) if acc and val else [],
    )


def test_plot_history_loss_and_accuracy_panels():
    h = make_history()
    fig = viz.plot_history(h)
    loss_ax, acc_ax = fig.axes
    assert len(loss_ax.lines) == 2 and len(acc_ax.lines) == 2
    np.testing.assert_allclose(loss_ax.lines[0].get_ydata(), h.train_loss)
    np.testing.assert_allclose(loss_ax.lines[1].get_ydata(), h.val_loss)
    np.testing.assert_allclose(acc_ax.lines[1].get_ydata(), h.val_acc)
    np.testing.assert_array_equal(loss_ax.lines[0].get_xdata(), [1, 2, 3, 4, 5])
    assert loss_ax.get_xlabel() == "epoch" and loss_ax.get_ylabel() == "loss"
    assert acc_ax.get_ylabel() == "accuracy"
    assert loss_ax.get_title() and acc_ax.get_title()
    legend = [t.get_text() for t in loss_ax.get_legend().get_texts()]
    assert legend == ["training loss", "validation loss"]


def test_plot_history_loss_only():
    fig = viz.plot_history(make_history(acc=False, val=False))
    assert len(fig.axes) == 1
    assert len(fig.axes[0].lines) == 1


def test_plot_history_on_given_axes_uses_twin_axis():
    fig, ax = plt.subplots()
    assert viz.plot_history(make_history(), ax=ax) is fig
    assert len(ax.lines) == 2
    twins = [a for a in fig.axes if a is not ax]
    assert len(twins) == 1 and len(twins[0].lines) == 2
    assert len(ax.get_legend().get_texts()) == 4


def test_plot_history_accepts_the_course_history_class_and_dicts():
    train = pytest.importorskip("course.train")
    h = train.History()
    h.train_loss += [0.9, 0.5]
    h.val_loss += [1.0, 0.7]
    assert len(viz.plot_history(h).axes[0].lines) == 2
    d = {"train_loss": [0.5, 0.4, 0.3], "train_acc": [0.6, 0.7, 0.8]}
    fig = viz.plot_history(d)
    assert [len(a.lines) for a in fig.axes] == [1, 1]


def test_plot_history_bad_input():
    with pytest.raises(TypeError, match="no attribute 'val_acc'"):
        viz.plot_history(SimpleNamespace(train_loss=[1.0], val_loss=[], train_acc=[]))
    bad = make_history()
    bad.train_loss = [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(ValueError, match=r"train_loss must be 1-D.*shape \(2, 2\)"):
        viz.plot_history(bad)
    with pytest.raises(ValueError, match="empty"):
        viz.plot_history(make_history(n=0))
    with pytest.raises(TypeError, match="pair"):
        viz.plot_history(make_history(), ax="ax")


# --------------------------------------------------------------------------------------------
# plot_decision_boundary
# --------------------------------------------------------------------------------------------


def blobs(m=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(2, m))
    X[0, : m // 2] -= 2.5
    X[0, m // 2 :] += 2.5
    y = np.array([0] * (m // 2) + [1] * (m - m // 2))
    return X, y


def by_sign(G):
    return (G[0] > 0).astype(int)


def test_decision_boundary_regions_and_points():
    X, y = blobs(40)
    fig = viz.plot_decision_boundary(by_sign, X, y, resolution=50)
    (ax,) = fig.axes
    filled = [c for c in ax.collections if isinstance(c, ContourSet) and c.filled]
    assert len(filled) == 1
    lines = [c for c in ax.collections if isinstance(c, ContourSet) and not c.filled]
    assert len(lines) == 1  # the boundary between the two classes
    scatters = [c for c in ax.collections if type(c) is PathCollection]
    assert sum(len(c.get_offsets()) for c in scatters) == 40
    assert len(scatters) == 2
    # the points of class 1 are drawn where they are
    np.testing.assert_allclose(scatters[1].get_offsets(), X[:, y == 1].T)
    assert ax.get_xlabel() == "x1" and ax.get_ylabel() == "x2"
    assert "100.0%" in ax.get_title()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class 0", "class 1"]


def test_decision_boundary_grid_shape_and_one_class():
    X, y = blobs(10)
    seen = []

    def constant(G):
        seen.append(G.shape)
        return np.zeros((1, G.shape[1]))  # (1, k) floats holding integers are accepted

    fig = viz.plot_decision_boundary(constant, X, y, resolution=30, title="constant")
    assert seen[0] == (2, 900) and seen[1] == (2, 10)
    ax = fig.axes[0]
    assert ax.get_title() == "constant"
    assert not [c for c in ax.collections if isinstance(c, ContourSet) and not c.filled]


def test_decision_boundary_bad_shapes():
    X, y = blobs(6)
    with pytest.raises(ValueError, match=r"X must have shape \(2, m\).*\(6, 2\).*X\.T"):
        viz.plot_decision_boundary(by_sign, X.T, y)
    with pytest.raises(ValueError, match=r"y must have shape \(m,\) = \(6,\).*\(6, 1\).*ravel"):
        viz.plot_decision_boundary(by_sign, X, y.reshape(6, 1))
    with pytest.raises(ValueError, match=r"must return 2500 labels.*\(2, 2500\)"):
        viz.plot_decision_boundary(lambda G: G, X, y, resolution=50)
    with pytest.raises(ValueError, match="probabilities"):
        viz.plot_decision_boundary(lambda G: 1 / (1 + np.exp(-G[0])), X, y, resolution=20)
    with pytest.raises(ValueError, match="non-integer"):
        viz.plot_decision_boundary(by_sign, X, y + 0.5)
    with pytest.raises(ValueError, match="resolution"):
        viz.plot_decision_boundary(by_sign, X, y, resolution=1)
    with pytest.raises(TypeError, match="predict must be a function"):
        viz.plot_decision_boundary(np.zeros(3), X, y)


def test_arguments_of_the_wrong_kind_are_type_errors_and_bad_values_value_errors():
    X, y = blobs(6)
    with pytest.raises(TypeError, match="X must be an array of real numbers"):
        viz.plot_decision_boundary(by_sign, np.array([["a"] * 6] * 2), y)
    with pytest.raises(TypeError, match="X must be an array of real numbers"):
        viz.plot_decision_boundary(by_sign, None, y)
    with pytest.raises(TypeError, match="resolution must be an integer from 2 to 2000, got 2.5"):
        viz.plot_decision_boundary(by_sign, X, y, resolution=2.5)
    with pytest.raises(ValueError, match="resolution must be an integer from 2 to 2000, got 1"):
        viz.plot_decision_boundary(by_sign, X, y, resolution=1)
    ragged = make_history()
    ragged.train_loss = [[1.0, 2.0], [3.0]]
    with pytest.raises(ValueError, match="history.train_loss must be an array of a regular shape"):
        viz.plot_history(ragged)
    words = make_history()
    words.val_loss = ["low", "lower"]
    with pytest.raises(TypeError, match="history.val_loss must be an array of real numbers"):
        viz.plot_history(words)


@pytest.mark.parametrize(
    "make",
    [
        lambda: viz.plot_history(make_history(n=20)),
        lambda: viz.plot_history(make_history(n=20, acc=False)),
        lambda: viz.plot_decision_boundary(by_sign, *blobs(60)),
    ],
    ids=["history with accuracy", "history", "decision boundary"],
)
def test_training_plots_are_readable_where_the_notebook_shows_them(make):
    fig = make()
    size, text = smallest_text(fig)
    assert size >= viz.MIN_FONT_SIZE, f"{text!r} is shown at {size:.1f} pt"


# --------------------------------------------------------------------------------------------
# one PNG of each kind, for looking at (set VIZ_PNG_DIR to keep them)
# --------------------------------------------------------------------------------------------


def test_save_pngs(tmp_path):
    out = Path(os.environ.get("VIZ_PNG_DIR", tmp_path))
    out.mkdir(parents=True, exist_ok=True)
    f, *_ = lecture_example()
    f.backward()
    s, *_ = sigmoid_neuron()
    X, y = blobs(60)
    a = Value(3.0, label="a")
    g = a * a + a
    g.backward()
    figures = {
        "graph_lecture": viz.draw_graph(f),
        "graph_sigmoid": viz.draw_graph(s, step=3),
        "graph_fan_out": viz.draw_graph(g),
        "history": viz.plot_history(make_history(n=20)),
        "decision_boundary": viz.plot_decision_boundary(
            lambda G: (G[0] + 0.3 * G[1] > 0).astype(int), X, y
        ),
    }
    for name, fig in figures.items():
        path = out / f"{name}.png"
        fig.savefig(path, dpi=100)
        assert path.stat().st_size > 5_000


# --------------------------------------------------------------------------------------------
# draw_array_graph: graphs whose nodes are vectors and matrices
# --------------------------------------------------------------------------------------------


def test_array_graph_labels_every_value_and_gradient_with_its_shape():
    fig = viz.draw_array_graph(relu_rows()[0], dims=DIMS)
    leaves = strings(texts(fig, gid="leaf"))
    assert sorted(leaves) == ["W (n, h)", "X (m, n)", "b (h,)"]
    assert sorted(strings(texts(fig, gid="op"))) == ["+", "matmul", "relu"]
    assert sorted(strings(texts(fig, viz.GREEN, "value"))) == ["H (m, h)", "U1 (m, h)", "U2 (m, h)"]
    red = sorted(strings(texts(fig, viz.RED, "grad")))
    assert red == ["dH (m, h)", "dU1 (m, h)", "dU2 (m, h)", "dW (n, h)", "dX (m, n)", "db (h,)"]
    assert fig.get_size_inches()[0] <= viz.DISPLAY_WIDTH


def test_array_graph_shows_the_shares_of_a_branch_and_their_sum():
    yhat, penalty, w = prediction_and_penalty()
    fig = viz.draw_array_graph([yhat, penalty], dims={"n": 3})
    assert strings(texts(fig, viz.RED, "grad-total")) == ["Σ dw (n, 1)"]
    red = strings(texts(fig, viz.RED, "grad"))
    assert red.count("share (n, 1)") == 2
    assert "dŷ (scalar)" in red and "dP (scalar)" in red
    assert len(patches(fig, "stub")) == 2
    # both outputs stand in the last column, right of every other node
    ops = {t.get_text(): t.get_position()[0] for t in texts(fig, gid="op")}
    assert ops["dot"] == ops["×"] > max(x for k, x in ops.items() if k not in ("dot", "×"))


def test_array_graph_without_gradients_draws_shapes_only():
    X = Tensor(np.ones((4, 3)), label="X")
    W = Tensor(np.ones((3, 5)), label="W")
    fig = viz.draw_array_graph(X @ W, dims=DIMS)
    assert texts(fig, viz.RED) == []
    assert strings(texts(fig, viz.GREEN, "value")) == ["u3 (m, h)"]
    fig = viz.draw_array_graph(relu_rows()[0], show_grads=False)
    assert texts(fig, viz.RED) == [] and "X (4, 3)" in strings(texts(fig, gid="leaf"))


@pytest.mark.parametrize(
    ("dims", "error", "words"),
    [
        ({"m": 4, "n": 4}, ValueError, "another name's size"),
        ({"m": 1}, ValueError, "none of size 1"),
        ({"m": 4.0}, TypeError, "maps names to sizes"),
        ([4, 3], TypeError, "must be a dict"),
    ],
)
def test_array_graph_dims_must_name_distinct_sizes(dims, error, words):
    with pytest.raises(error, match=words):
        viz.draw_array_graph(relu_rows()[0], dims=dims)


@pytest.mark.parametrize("bad", [Value(1.0), [Value(1.0)], [], 3.0])
def test_array_graph_wants_tensors(bad):
    with pytest.raises(TypeError, match="Tensor"):
        viz.draw_array_graph(bad)
