"""Tests of course.gates: routed gradients, the drawn numbers, the step-by-step sweep, widgets."""

from __future__ import annotations

import math
import re

import matplotlib

matplotlib.use("Agg")

import ipywidgets as W  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import same_color  # noqa: E402
from readable import smallest_text  # noqa: E402

from course import gates, viz  # noqa: E402
from course.graph import Value, backward_steps, edges, topological_order  # noqa: E402
from course.viz.graphs import _fmt  # noqa: E402
from course.widgets import interactive_figure  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def leaves(out):
    return {v.label: v for v in topological_order(out) if not v.parents}


def coloured(fig, colour):
    return [t.get_text() for t in fig.axes[0].texts if same_color(t.get_color(), colour)]


def numeric(fn, a, b, h=1e-6):
    """Centred differences of a plain-float function: the independent oracle."""
    return (fn(a + h, b) - fn(a - h, b)) / (2 * h), (fn(a, b + h) - fn(a, b - h)) / (2 * h)


def sigma(z):
    return 1 / (1 + math.exp(-z))


# -- gate_example: each gate routes the gradient by its rule ------------------------------------


@pytest.mark.parametrize(
    "gate, a, b, u, grad_a, grad_b",
    [
        ("add", 2.0, -3.0, 2.0, 2.0, 2.0),  # distributes
        ("multiply", 2.0, -3.0, 2.0, -6.0, 4.0),  # switches: a gets b*u, b gets a*u
        ("max", 2.0, -3.0, 2.0, 2.0, 0.0),  # routes to the larger
        ("max", -1.0, 4.0, 0.5, 0.0, 0.5),
        ("max", 1.5, 1.5, 2.0, 1.0, 1.0),  # tie: half-half
        ("exp", 1.0, 0.0, 2.0, 2 * math.e, 0.0),
        ("reciprocal", 1.22, 0.0, 1.0, -1 / 1.22**2, 0.0),
        ("sigmoid", 1.5, 0.0, 1.0, sigma(1.5) * (1 - sigma(1.5)), 0.0),
        ("tanh", 4.0, 0.0, 1.0, 1 - math.tanh(4.0) ** 2, 0.0),
        ("branch", 2.0, -3.0, 2.0, (-3.0 + 1.0) * 2.0, 2.0 * 2.0),  # gradients add at a
    ],
)
def test_gate_routes_hand_computed_gradients(gate, a, b, u, grad_a, grad_b):
    out = gates.gate_example(gate, a, b, upstream=u)
    ins = leaves(out)
    assert out.grad == u and out.label == "f"
    assert ins["a"].grad == pytest.approx(grad_a, rel=1e-12, abs=1e-15)
    if gate in ("sigmoid", "tanh", "exp", "reciprocal"):
        assert set(ins) == {"a"}  # one-input gates do not use b
    else:
        assert ins["b"].grad == pytest.approx(grad_b, rel=1e-12, abs=1e-15)


FORMULAS = {
    "add": lambda a, b: a + b,
    "multiply": lambda a, b: a * b,
    "max": max,
    "sigmoid": lambda a, b: sigma(a),
    "tanh": lambda a, b: math.tanh(a),
    "exp": lambda a, b: math.exp(a),
    "reciprocal": lambda a, b: 1 / a,
    "branch": lambda a, b: a * b + a,
}


@pytest.mark.parametrize("gate", list(gates.GATES))
def test_gate_values_and_gradients_match_finite_differences(gate):
    a, b, u = 0.7, -1.3, -1.5
    out = gates.gate_example(gate, a, b, upstream=u)
    assert out.data == pytest.approx(FORMULAS[gate](a, b))
    da, db = numeric(FORMULAS[gate], a, b)
    ins = leaves(out)
    assert ins["a"].grad == pytest.approx(u * da, rel=1e-6)
    if "b" in ins:
        assert ins["b"].grad == pytest.approx(u * db, abs=1e-8)


def test_branch_gradients_add_edge_by_edge():
    out = gates.gate_example("branch", 2.0, 3.0, upstream=1.0)
    into_a = [s for s in backward_steps(out) if s.parent.label == "a"]
    assert sorted(s.contribution for s in into_a) == [1.0, 3.0]  # direct edge 1, via * it is b
    assert into_a[-1].total == 4.0 == leaves(out)["a"].grad


def test_upstream_scales_every_gradient():
    one = gates.gate_example("multiply", 2.0, 5.0, upstream=1.0)
    three = gates.gate_example("multiply", 2.0, 5.0, upstream=-3.0)
    assert [v.grad * -3.0 for v in topological_order(one)] == [
        v.grad for v in topological_order(three)
    ]


def test_gate_example_errors_name_the_valid_choices():
    with pytest.raises(ValueError, match="'add', 'multiply', 'max'.*'branch'"):
        gates.gate_example("divide", 1.0, 2.0)
    with pytest.raises(ValueError, match="undefined at a = 0"):
        gates.gate_example("reciprocal", 0.0, 1.0)
    with pytest.raises(ValueError, match="upstream must be a finite number, got nan"):
        gates.gate_example("add", 1.0, 2.0, upstream=float("nan"))
    with pytest.raises(TypeError, match="a must be a number, got '1' of type str"):
        gates.gate_example("add", "1", 2.0)
    with pytest.raises(TypeError, match="b must be a number, got True"):
        gates.gate_example("add", 1.0, True)
    with pytest.raises(TypeError, match="gate must be a string"):
        gates.gate_example(3, 1.0, 2.0)
    with pytest.raises(ValueError, match="overflows"):
        gates.gate_example("exp", 800.0)


# -- gate_figure: the drawn numbers, the title and the rule text --------------------------------


def test_add_figure_shows_the_distributed_gradient():
    fig, text = gates.gate_figure("add", 1.0, -4.0, upstream=2.0)
    red = coloured(fig, viz.RED)
    green = coloured(fig, viz.GREEN)
    assert sorted(red) == ["2.00", "2.00", "2.00"]  # both edges and the output stub
    assert sorted(green) == ["-3.00", "-4.00", "1.00"]
    assert fig.axes[0].get_title().startswith("add gate: f = a + b")
    assert text.startswith("add distributes") and "2.00" in text


def test_multiply_figure_shows_the_switched_gradients():
    fig, text = gates.gate_figure("multiply", 2.0, 3.0, upstream=2.0)
    assert sorted(coloured(fig, viz.RED)) == ["2.00", "4.00", "6.00"]
    assert "6.00" in coloured(fig, viz.GREEN)
    assert "a receives b x upstream = 3.00 x 2.00 = 6.00" in text
    assert "b receives a x upstream = 2.00 x 2.00 = 4.00" in text


def test_max_figure_routes_to_the_larger_and_says_so():
    fig, text = gates.gate_figure("max", -1.0, 2.5, upstream=1.5)
    assert sorted(coloured(fig, viz.RED)) == ["0.00", "1.50", "1.50"]
    assert text == "max routes: the larger input receives everything, b gets 1.50 and a gets 0.00"
    _, tie = gates.gate_figure("max", 2.0, 2.0, upstream=1.0)
    assert "half-half" in tie and "a receives 0.50 and b receives 0.50" in tie


def test_branch_figure_shows_shares_and_their_sum():
    fig, text = gates.gate_figure("branch", 2.0, 3.0, upstream=2.0)
    texts = {t.get_gid(): t.get_text() for t in fig.axes[0].texts if t.get_gid() == "grad-total"}
    assert texts == {"grad-total": "Σ 8.00"}  # 6 (via *) + 2 (direct) at a
    assert text.startswith("at a branch gradients add") and "6.00 + 2.00 = 8.00" in text


def test_unary_gate_figures_state_their_local_gradient():
    fig, text = gates.gate_figure("sigmoid", 1.5, upstream=1.0)
    assert "0.1491" in text and "0.82 x (1 - 0.82)" in text
    assert "0.15" in coloured(fig, viz.RED) and "0.82" in coloured(fig, viz.GREEN)
    _, text = gates.gate_figure("reciprocal", 1.22)
    assert "-1/1.22^2 = -0.67" in text
    _, text = gates.gate_figure("exp", -1.5, upstream=-0.67)
    assert "e^-1.50 = 0.22" in text and "= -0.15" in text
    _, text = gates.gate_figure("tanh", 4.0)
    assert f"{1 - math.tanh(4.0) ** 2:.6f}" in text


@pytest.mark.parametrize("gate", list(gates.GATES))
def test_every_gate_figure_has_its_title(gate):
    fig, text = gates.gate_figure(gate, 0.5, 1.5, 1.0)
    assert fig.axes[0].get_title().startswith(f"{gate} gate: {gates.GATES[gate]}")
    assert text


def test_reciprocal_at_zero_draws_a_message_instead_of_failing():
    fig, text = gates.gate_figure("reciprocal", 0.0, 1.0)
    assert "undefined at a = 0" in fig.axes[0].get_title() and "undefined" in text
    with pytest.raises(ValueError, match="gate must be one of"):
        gates.gate_figure("min", 1.0, 2.0)


# -- worked examples and the step-by-step sweep --------------------------------------------------


@pytest.mark.parametrize(
    "name, value, grads",
    [
        ("x*y + z", 4.0, {"x": 3.0, "y": 2.0, "z": 1.0}),
        ("(x + y)*z", -12.0, {"x": -4.0, "y": -4.0, "z": 3.0}),
        (
            "sigmoid neuron",
            sigma(1.5),
            {
                "w0": 3 * sigma(1.5) * (1 - sigma(1.5)),
                "x0": -2 * sigma(1.5) * (1 - sigma(1.5)),
                "b": sigma(1.5) * (1 - sigma(1.5)),
            },
        ),
    ],
)
def test_worked_examples(name, value, grads):
    f = gates.worked_example(name)
    f.backward()
    assert f.data == pytest.approx(value, rel=1e-12)
    got = {k: v.grad for k, v in leaves(f).items()}
    assert got == pytest.approx(grads, rel=1e-12)


def test_sigmoid_neuron_is_built_gate_by_gate():
    f = gates.worked_example("sigmoid neuron")
    ops = [v.op for v in reversed(topological_order(f)) if v.parents]
    assert ops == ["*", "+", "*-1", "exp", "+1", "1/x"]
    with pytest.raises(ValueError, match="'x\\*y \\+ z'"):
        gates.worked_example("xor")


@pytest.mark.parametrize("name", list(gates.EXAMPLES))
def test_backward_step_figure_text_is_the_step_description(name):
    root = gates.worked_example(name)
    steps = backward_steps(root)
    n = len(steps)
    for k, s in enumerate(steps, start=1):
        fig, text = gates.backward_step_figure(root, k)
        assert text.startswith(f"step {k} of {n}: {s.describe()}")
        # the edge of step k, just computed, is orange, with its contribution as the number
        current = [t.get_text() for t in fig.axes[0].texts if t.get_gid() == "grad-current"]
        assert current == [_fmt(s.contribution)]
        # the edges of the steps before it carry a red number (plus the output stub)
        assert len([t for t in fig.axes[0].texts if t.get_gid() == "grad"]) == k
        plt.close(fig)
    fig, text = gates.backward_step_figure(root, 0)
    assert text.startswith(f"step 0 of {n}: before the sweep")
    assert [t for t in fig.axes[0].texts if t.get_gid() == "grad-current"] == []
    fig, text = gates.backward_step_figure(root, n)
    assert text.endswith("the sweep is done, every gradient known")
    assert sum(1 for _ in edges(root)) == n


@pytest.mark.parametrize("name", list(gates.EXAMPLES))
def test_slider_caption_title_and_text_count_steps_alike(name):
    """One numbering: the value k the slider passes is "step k of n" in the title, the caption
    and the text, and the orange edge is the k-th of the sweep (backward_steps(...)[k - 1])."""
    steps = backward_steps(gates.worked_example(name))
    n = len(steps)
    assert gates.example_steps(name) == n
    for k in range(n + 1):
        fig, text = gates.example_step_figure(name, k)
        ax = fig.axes[0]
        (caption,) = [t.get_text() for t in ax.texts if t.get_gid() == "caption"]
        said = {
            m.group(0)
            for part in (ax.get_title(), caption, text)
            for m in re.finditer(r"step \d+ of \d+", part)
        }
        assert said == {f"step {k} of {n}"}, (ax.get_title(), caption, text)
        current = [t.get_text() for t in ax.texts if t.get_gid() == "grad-current"]
        assert current == ([_fmt(steps[k - 1].contribution)] if k else [])
        plt.close(fig)


def test_step_slider_of_notebook_02_ends_at_the_examples_last_step():
    """The notebook's slider: its maximum follows the example (dlink), and a step beyond a
    smaller example's last is brought back to that last step, which the text then names."""
    menu = W.Dropdown(options=list(gates.EXAMPLES), value="sigmoid neuron")
    slider = W.IntSlider(value=1, min=0, max=gates.example_steps("sigmoid neuron"))
    W.dlink((menu, "value"), (slider, "max"), gates.example_steps)
    w = interactive_figure(gates.example_step_figure, example=menu, step=slider)
    assert slider.max == 8
    slider.value = 7
    assert w.last_result[1].startswith("step 7 of 8:")
    menu.value = "x*y + z"
    assert (slider.max, slider.value) == (4, 4)
    assert w.last_result[1].startswith("step 4 of 4:")
    menu.value = "(x + y)*z"
    assert slider.max == 4 and w.last_result[1].startswith("step 4 of 4:")


def test_step_text_names_unlabelled_leaves_as_the_drawing_does():
    # unlabelled leaves: the text and the drawing both say u1, u2 (creation order in the graph),
    # however many nodes were created before, so the same graph gives the same text twice
    def build():
        a, b = Value(0.5), Value(-2.0)
        return (a * b).tanh() + a

    texts = []
    for _ in range(2):
        root = build()
        for k in range(1, len(backward_steps(root)) + 1):
            fig, text = gates.backward_step_figure(root, k)
            leaves = {t.get_text() for t in fig.axes[0].texts if t.get_gid() == "leaf"}
            assert leaves == {"u1", "u2"}
            assert set(re.findall(r"\bu\d+\b", text)) <= leaves
            texts.append(text)
            plt.close(fig)
    n = len(texts) // 2
    assert texts[:n] == texts[n:]
    assert "u2 <- [*]: local 0.5" in texts[n - 1]  # d(a*b)/db = a = 0.5


def test_backward_step_figure_bad_step():
    root = gates.worked_example("x*y + z")
    for bad in (-1, 5):
        with pytest.raises(ValueError, match="step must be an integer from 0 to 4"):
            gates.backward_step_figure(root, bad)
    for bad in (1.0, True, "1"):
        with pytest.raises(TypeError, match="step must be an integer from 0 to 4"):
            gates.backward_step_figure(root, bad)
    with pytest.raises(TypeError, match="root must be a course.graph.Value"):
        gates.backward_step_figure(3.0, 0)


def test_example_step_figure_clamps_and_titles():
    fig, text = gates.example_step_figure("x*y + z", 8)
    assert text.startswith("step 4 of 4:") and text.endswith(
        "the sweep is done, every gradient known"
    )
    assert fig.axes[0].get_title() == "x*y + z: backward sweep, step 4 of 4"
    fig, text = gates.example_step_figure("sigmoid neuron", 3)
    steps = backward_steps(gates.worked_example("sigmoid neuron"))
    assert text == f"step 3 of 8: {steps[2].describe()}"
    assert "exp" in text and "-0.1491" in text  # e^-1.5 x (-0.67) = -0.15 on the slides
    with pytest.raises(ValueError, match="step must be a non-negative integer, got -1"):
        gates.example_step_figure("x*y + z", -1)
    with pytest.raises(TypeError, match="step must be a non-negative integer, got '1'"):
        gates.example_step_figure("x*y + z", "1")
    with pytest.raises(TypeError, match="name must be a string"):
        gates.worked_example(3)


# -- widgets built and driven without a browser -------------------------------------------------


def test_gate_widget_redraws_when_the_gate_or_inputs_change():
    w = interactive_figure(
        gates.gate_figure,
        title="Gates",
        gate=W.Dropdown(options=list(gates.GATES), value="add"),
        a=W.FloatSlider(value=2.0, min=-3, max=3, step=0.1),
        b=W.FloatSlider(value=3.0, min=-3, max=3, step=0.1),
        upstream=W.FloatSlider(value=2.0, min=-3, max=3, step=0.1),
    )
    assert w.calls == 1 and w.last_result[1].startswith("add distributes")
    w.controls["gate"].value = "multiply"
    assert w.calls == 2
    fig, text = w.last_result
    assert text.startswith("multiply switches") and "= 6.00" in text
    assert fig.axes[0].get_title().startswith("multiply gate")
    w.controls["gate"].value = "reciprocal"
    w.controls["a"].value = 0.0  # the slider passes through 0: a message, no exception
    assert w.calls == 4 and "undefined" in w.last_result[1]
    w.controls["upstream"].value = -1.0
    w.controls["a"].value = 2.0
    assert w.calls == 6 and w.last_result[1].endswith("-0.25 x -1.00 = 0.25")


def test_step_widget_shows_the_text_of_the_chosen_step():
    w = interactive_figure(
        gates.example_step_figure,
        title="Backward sweep",
        example=W.Dropdown(options=list(gates.EXAMPLES), value="x*y + z"),
        step=W.IntSlider(value=1, min=0, max=8),
    )
    first = w.last_result[1]
    xyz = backward_steps(gates.worked_example("x*y + z"))
    assert w.calls == 1 and first == f"step 1 of 4: {xyz[0].describe()}"
    w.controls["step"].value = 3
    assert w.calls == 2
    assert w.last_result[1] == f"step 3 of 4: {xyz[2].describe()}"
    w.controls["example"].value = "sigmoid neuron"
    assert w.calls == 3
    fig, text = w.last_result
    assert (
        text
        == f"step 3 of 8: {backward_steps(gates.worked_example('sigmoid neuron'))[2].describe()}"
    )
    assert fig.axes[0].get_title().startswith("sigmoid neuron")
    w.controls["step"].value = 8
    assert w.last_result[1].startswith("step 8 of 8:")
    assert w.last_result[1].endswith("the sweep is done, every gradient known")


# -- the cost of the backward sweep ------------------------------------------------------------


@pytest.mark.parametrize("kind", gates.GRAPH_KINDS)
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6, 7, 10, 101])
def test_graph_with_edges_has_exactly_that_many_edges(kind, n):
    assert sum(1 for _ in edges(gates.graph_with_edges(n, kind))) == n


def test_sum_graph_gives_every_input_a_gradient_in_one_sweep():
    f = gates.graph_with_edges(42, "sum")  # 11 terms: 22 inputs
    f.backward()
    ins = leaves(f)
    assert len(ins) == 22
    for i in range(1, 12):
        assert ins[f"w{i}"].grad == pytest.approx(ins[f"x{i}"].data)
        assert ins[f"x{i}"].grad == pytest.approx(ins[f"w{i}"].data)


def test_backward_seconds_one_positive_float_per_size():
    sizes = [100, 1000, 20000]
    secs = gates.backward_seconds(sizes, repeat=2)
    assert len(secs) == len(sizes) and all(isinstance(s, float) and s > 0 for s in secs)
    assert secs[-1] > secs[0]  # 200 times the edges: loosely, more time
    fwd, bwd = gates.forward_backward_seconds(1000, "sum", repeat=1)
    assert fwd > 0 and bwd > 0


def test_cost_helpers_reject_bad_input():
    with pytest.raises(ValueError, match="n_edges must be a positive integer, got 0"):
        gates.graph_with_edges(0)
    with pytest.raises(TypeError, match="n_edges must be a positive integer, got 2.5"):
        gates.graph_with_edges(2.5)
    with pytest.raises(ValueError, match="kind must be one of 'chain', 'sum'"):
        gates.graph_with_edges(10, "tree")
    with pytest.raises(TypeError, match="kind must be a string"):
        gates.graph_with_edges(10, 1)
    with pytest.raises(ValueError, match="repeat must be a positive integer, got 0"):
        gates.forward_backward_seconds(10, repeat=0)
    with pytest.raises(TypeError, match="repeat must be a positive integer, got 1.5"):
        gates.forward_backward_seconds(10, repeat=1.5)
    with pytest.raises(TypeError, match="n_edges_list must be a list or tuple"):
        gates.backward_seconds(1000)
    with pytest.raises(ValueError, match="n_edges_list must be a list or tuple with at least one"):
        gates.backward_seconds([])


# -- the module itself ---------------------------------------------------------------------------


def test_import_does_not_load_matplotlib_or_widgets():
    import subprocess
    import sys

    code = (
        "import sys, course.gates; "
        "print([m for m in ('matplotlib', 'ipywidgets') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_functions_are_documented_and_typed():
    import inspect

    assert gates.__doc__.splitlines()[0].endswith("(the gate-action slides).")
    for public in gates.__all__:
        obj = getattr(gates, public)
        if inspect.isfunction(obj):
            assert obj.__doc__, public
            sig = inspect.signature(obj)
            assert sig.return_annotation is not inspect.Signature.empty, public
            for p in sig.parameters.values():
                assert p.annotation is not inspect.Parameter.empty, (public, p.name)


@pytest.mark.parametrize("gate", list(gates.GATES))
def test_gate_figures_are_readable_where_the_notebook_shows_them(gate):
    fig, _ = gates.gate_figure(gate, 1.5, -2.0, upstream=2.0)
    size, text = smallest_text(fig)
    assert size >= viz.MIN_FONT_SIZE, f"{gate}: {text!r} is shown at {size:.1f} pt"


@pytest.mark.parametrize("name", list(gates.EXAMPLES))
def test_step_figures_are_readable_where_the_notebook_shows_them(name):
    for step in range(gates.example_steps(name) + 1):
        fig, _ = gates.example_step_figure(name, step)
        size, text = smallest_text(fig)
        assert size >= viz.MIN_FONT_SIZE, f"{name}, step {step}: {text!r} at {size:.1f} pt"
        plt.close(fig)
