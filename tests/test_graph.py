"""Tests of the scalar computational-graph engine (course.graph)."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course.graph import Value, backward_steps, edges, maximum, topological_order, zero_grad


def numeric_partials(fn, xs, h=1e-6):
    """Centred differences of a function of plain floats: the independent oracle."""
    out = []
    for i in range(len(xs)):
        up = list(xs)
        down = list(xs)
        up[i] += h
        down[i] -= h
        out.append((fn(*up) - fn(*down)) / (2 * h))
    return out


def rel_err(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    den = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if den == 0 else float(np.linalg.norm(a - b) / den)


# -- the lectures' worked examples ----------------------------------------------------------------


def test_example_x_times_y_plus_z():
    # f = x*y + z at (2, 3, -2): h = 6, f = 4; df/dx = y = 3, df/dy = x = 2, df/dz = 1
    x, y, z = Value(2.0, label="x"), Value(3.0, label="y"), Value(-2.0, label="z")
    h = x * y
    f = h + z
    f.backward()
    assert (h.data, f.data) == (6.0, 4.0)
    assert (x.grad, y.grad, z.grad, h.grad) == (3.0, 2.0, 1.0, 1.0)


def test_example_x_plus_y_times_z():
    # f = (x + y) z at (-2, 5, -4): q = 3, f = -12; df/dx = df/dy = z = -4, df/dz = q = 3
    x, y, z = Value(-2.0), Value(5.0), Value(-4.0)
    q = x + y
    f = q * z
    f.backward()
    assert (q.data, f.data) == (3.0, -12.0)
    assert (x.grad, y.grad, z.grad, q.grad) == (-4.0, -4.0, 3.0, -4.0)


def test_example_direct_and_indirect_effects():
    # u2 = u1^2, u3 = e^(u1 + u2): du3/du1 = e^(u1+u2) (1 + 2 u1), the sum over two paths,
    # while the direct partial alone is only e^(u1+u2)
    for a in (-1.3, 0.0, 0.4, 1.1):
        u1 = Value(a)
        u2 = u1**2
        u3 = (u1 + u2).exp()
        u3.backward()
        total = math.exp(a + a * a) * (1 + 2 * a)
        assert u1.grad == pytest.approx(total, rel=1e-12)
        direct = math.exp(a + a * a)
        if a != 0.0:
            assert u1.grad != pytest.approx(direct)
        assert u2.grad == pytest.approx(direct, rel=1e-12)


def sigmoid_neuron_gates():
    # The slide's neuron f = 1 / (1 + e^-(w0 x0 + b)), gate by gate: *, +, *-1, exp, +1, 1/x.
    # The values w0 = -2, x0 = 3, b = 7.5 reproduce every number on the slides.
    w0, x0, b = Value(-2.0, label="w0"), Value(3.0, label="x0"), Value(7.5, label="b")
    z = w0 * x0 + b
    f = 1 / (1 + (-z).exp())
    return w0, x0, b, z, f


def test_example_sigmoid_neuron_matches_the_slides():
    w0, x0, b, z, f = sigmoid_neuron_gates()
    f.backward()
    assert z.data == 1.5
    # slide numbers, rounded to 2 decimals as printed there
    assert round(f.data, 2) == 0.82
    assert round(-1 / (1 + math.exp(-1.5)) ** 2, 2) == -0.67  # the 1/x gate, at 1.22
    assert round(z.grad, 2) == 0.15  # after exp (-0.15) and *-1 (0.15)
    assert round(x0.grad, 2) == -0.30  # (-2) * 0.15
    assert round(w0.grad, 2) == 0.45  # 3 * 0.15
    # exact values: the collapsed sigmoid gate has local gradient f (1 - f)
    s = 1 / (1 + math.exp(-1.5))
    assert z.grad == pytest.approx(s * (1 - s), rel=1e-12)
    assert (w0.grad, x0.grad, b.grad) == pytest.approx(
        (3 * s * (1 - s), -2 * s * (1 - s), s * (1 - s)), rel=1e-12
    )


def test_sigmoid_gate_collapses_the_neuron():
    w0, x0, b, _, f_gates = sigmoid_neuron_gates()
    f_gates.backward()
    v0, u0, c = Value(-2.0), Value(3.0), Value(7.5)
    f_one = (v0 * u0 + c).sigmoid()
    f_one.backward()
    assert f_one.data == pytest.approx(f_gates.data, rel=1e-15)
    assert (v0.grad, u0.grad, c.grad) == pytest.approx((w0.grad, x0.grad, b.grad), rel=1e-12)
    # slide: 0.1476 ~ 0.15 = 0.82 * (1 - 0.82), the local gradient of the collapsed gate
    assert f_one.local_grads[0] == pytest.approx(f_one.data * (1 - f_one.data))
    assert round(0.82 * (1 - 0.82), 4) == 0.1476
    assert round(f_one.local_grads[0], 2) == 0.15


def test_tanh_gate_at_the_slides_value():
    # slide: 1 - 0.9993^2 = 0.00139951 ~ 0.0014 (tanh saturates at z = 4)
    z = Value(4.0)
    t = z.tanh()
    t.backward()
    assert round(t.data, 4) == 0.9993
    assert round(1 - 0.9993**2, 8) == 0.00139951  # the slide's arithmetic on the rounded value
    exact = 1 - math.tanh(4.0) ** 2
    assert z.grad == pytest.approx(exact, rel=1e-12)
    assert round(z.grad, 4) == 0.0013  # the exact local gradient, beside the slide's 0.0014


# -- gate behaviour ---------------------------------------------------------------------------


def test_add_distributes_mul_switches_max_routes():
    a, b = Value(3.0), Value(-1.0)
    (a + b).backward()
    assert (a.grad, b.grad) == (1.0, 1.0)
    a, b = Value(3.0), Value(-1.0)
    (a * b).backward()
    assert (a.grad, b.grad) == (-1.0, 3.0)
    a, b = Value(3.0), Value(-1.0)
    maximum(a, b).backward()
    assert (a.grad, b.grad) == (1.0, 0.0)


def test_gradients_add_at_branches():
    a = Value(2.0)
    f = a * a + a  # three paths from a
    f.backward()
    assert a.grad == 2 * 2.0 + 1


def test_kinks_are_documented_values():
    x = Value(0.0)
    x.relu().backward()
    assert x.grad == 0.0
    a, b = Value(1.5), Value(1.5)
    m = maximum(a, b)
    m.backward()
    assert (m.data, a.grad, b.grad) == (1.5, 0.5, 0.5)
    a = Value(2.0)
    m = a.max(2.0)
    m.backward()
    assert a.grad == 0.5


# -- every op against centred differences, on random inputs --------------------------------------

UNARY = {
    "neg": (lambda v: -v, lambda x: -x),
    "exp": (lambda v: v.exp(), math.exp),
    "log": (lambda v: v.log(), math.log),
    "relu": (lambda v: v.relu(), lambda x: max(x, 0.0)),
    "sigmoid": (lambda v: v.sigmoid(), lambda x: 1 / (1 + math.exp(-x))),
    "tanh": (lambda v: v.tanh(), math.tanh),
    "pow3": (lambda v: v**3, lambda x: x**3),
    "pow_half": (lambda v: v**0.5, lambda x: x**0.5),
    "rpow": (lambda v: 2.5**v, lambda x: 2.5**x),
    "radd": (lambda v: 4.0 + v, lambda x: 4.0 + x),
    "rsub": (lambda v: 4.0 - v, lambda x: 4.0 - x),
    "rmul": (lambda v: -3.0 * v, lambda x: -3.0 * x),
    "rdiv": (lambda v: 2.0 / v, lambda x: 2.0 / x),
    "add_c": (lambda v: v + 1, lambda x: x + 1),
    "sub_c": (lambda v: v - 1.5, lambda x: x - 1.5),
    "mul_c": (lambda v: v * 0.5, lambda x: x * 0.5),
    "div_c": (lambda v: v / 4.0, lambda x: x / 4.0),
    "max_c": (lambda v: v.max(0.3), lambda x: max(x, 0.3)),
}
BINARY = {
    "add": (lambda a, b: a + b, lambda x, y: x + y),
    "sub": (lambda a, b: a - b, lambda x, y: x - y),
    "mul": (lambda a, b: a * b, lambda x, y: x * y),
    "div": (lambda a, b: a / b, lambda x, y: x / y),
    "max": (lambda a, b: maximum(a, b), max),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_op_matches_finite_differences(name):
    op, ref = UNARY[name]
    rng = random.Random(name)
    for _ in range(20):
        x = rng.uniform(0.2, 3.0) if name in ("log", "pow_half", "rdiv") else rng.uniform(-3, 3)
        if name in ("relu", "max_c") and abs(x - (0.3 if name == "max_c" else 0.0)) < 1e-3:
            continue  # away from the kink
        v = Value(x)
        out = op(v)
        out.backward()
        assert out.data == pytest.approx(ref(x), rel=1e-12, abs=1e-15)
        (num,) = numeric_partials(ref, [x])
        assert rel_err([v.grad], [num]) < 1e-7, (name, x, v.grad, num)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_op_matches_finite_differences(name):
    op, ref = BINARY[name]
    rng = random.Random(name)
    for _ in range(20):
        x, y = rng.uniform(-3, 3), rng.uniform(-3, 3)
        if name == "div" and abs(y) < 0.3 or name == "max" and abs(x - y) < 1e-3:
            continue
        a, b = Value(x), Value(y)
        out = op(a, b)
        out.backward()
        assert out.data == pytest.approx(ref(x, y), rel=1e-12)
        assert rel_err([a.grad, b.grad], numeric_partials(ref, [x, y])) < 1e-7


def random_expression(rng: random.Random, n_inputs: int, n_ops: int):
    """A random graph over ``n_inputs`` leaves, built twice: on Values and on floats."""
    ops = [
        ("add", 2),
        ("mul", 2),
        ("sub", 2),
        ("tanh", 1),
        ("sigmoid", 1),
        ("exp_small", 1),
        ("square", 1),
        ("addc", 1),
        ("mulc", 1),
    ]
    plan = []
    for i in range(n_ops):
        name, arity = rng.choice(ops)
        args = [rng.randrange(n_inputs + i) for _ in range(arity)]
        plan.append((name, args, rng.uniform(-2, 2)))

    def run(inputs, lib):
        nodes = list(inputs)
        for name, args, c in plan:
            a = nodes[args[0]]
            b = nodes[args[-1]]
            if name == "add":
                r = a + b
            elif name == "mul":
                r = a * b
            elif name == "sub":
                r = a - b
            elif name == "tanh":
                r = lib.tanh(a)
            elif name == "sigmoid":
                r = lib.sigmoid(a)
            elif name == "exp_small":
                r = lib.exp(lib.tanh(a))
            elif name == "square":
                r = a**2
            elif name == "addc":
                r = c + a
            else:
                r = a * c
            nodes.append(r)
        total = nodes[-1]
        for extra in nodes[n_inputs:-1]:  # make every node reach the output
            total = total + extra * 0.1
        return total

    return run


class _FloatLib:
    tanh = staticmethod(math.tanh)
    exp = staticmethod(math.exp)

    @staticmethod
    def sigmoid(x):
        return 1 / (1 + math.exp(-x))


class _ValueLib:
    tanh = staticmethod(lambda v: v.tanh())
    exp = staticmethod(lambda v: v.exp())
    sigmoid = staticmethod(lambda v: v.sigmoid())


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n_inputs=st.integers(1, 4), n_ops=st.integers(1, 12))
def test_random_graphs_match_finite_differences(seed, n_inputs, n_ops):
    rng = random.Random(seed)
    run = random_expression(rng, n_inputs, n_ops)
    xs = [rng.uniform(-1.5, 1.5) for _ in range(n_inputs)]
    leaves = [Value(x) for x in xs]
    out = run(leaves, _ValueLib)
    out.backward()
    assert out.data == pytest.approx(run(xs, _FloatLib), rel=1e-12, abs=1e-12)
    num = numeric_partials(lambda *a: run(list(a), _FloatLib), xs)
    grads = [v.grad for v in leaves]
    # a gradient that is exactly 0 (a ReLU that is off) has centred differences of about 1e-10
    # (rounding), whose relative error is 1: such entries are compared to an absolute 1e-8
    assert rel_err(grads, num) < 1e-7 or np.allclose(grads, num, rtol=0, atol=1e-8)


# -- structure, replay, and scale ---------------------------------------------------------------


def test_each_node_keeps_op_parents_and_local_gradients():
    x, y = Value(2.0), Value(3.0)
    h = x * y
    assert h.op == "*" and h.parents == (x, y) and h.local_grads == (3.0, 2.0)
    g = h + 1
    assert g.op == "+1" and g.parents == (h,) and g.local_grads == (1.0,)
    r = 1 / g
    assert r.op == "1/x" and r.local_grads == (pytest.approx(-1 / 49),)


def test_topological_order_puts_every_node_before_its_parents():
    rng = random.Random(3)
    run = random_expression(rng, 3, 30)
    out = run([Value(0.3), Value(-0.2), Value(0.9)], _ValueLib)
    order = topological_order(out)
    position = {id(v): i for i, v in enumerate(order)}
    assert order[0] is out
    for parent, child, _ in edges(out):
        assert position[id(child)] < position[id(parent)]


def test_backward_steps_replay_algorithm_4():
    x, y, z = Value(-2.0, label="x"), Value(5.0, label="y"), Value(-4.0, label="z")
    f = (x + y) * z
    steps = backward_steps(f)
    assert all(v.grad == 0.0 for v in (x, y, z))  # replay leaves .grad alone
    assert len(steps) == len(list(edges(f))) == 4
    first = steps[0]
    assert first.node is f and first.upstream == 1.0
    by_parent = {s.parent.label: s for s in steps if s.parent.label}
    assert by_parent["z"].local == 3.0 and by_parent["z"].contribution == 3.0
    assert by_parent["x"].local == 1.0 and by_parent["x"].upstream == -4.0
    assert "local" in first.describe() and "upstream" in first.describe()
    f.backward()
    finals = {}
    for s in steps:
        finals[s.parent] = s.total
    for node, total in finals.items():
        assert node.grad == total


def test_backward_steps_show_accumulation_at_a_branch():
    a = Value(3.0, label="a")
    f = a * 2 + a
    totals = [s.total for s in backward_steps(f) if s.parent is a]
    assert totals == [1.0, 3.0] or totals == [2.0, 3.0]


def test_a_node_built_by_hand_with_three_parents():
    # s = a + 2b + 3c as one node with its own local gradients; f = s * a
    # df/da = s + a * 1 = 14 + 1, df/db = a * 2 = 2, df/dc = a * 3 = 3 at (1, 2, 3)
    a, b, c = Value(1.0), Value(2.0), Value(3.0)
    s = Value(14.0, (a, b, c), "a+2b+3c", (1.0, 2.0, 3.0))
    f = s * a
    f.backward()
    assert (a.grad, b.grad, c.grad, s.grad) == (15.0, 2.0, 3.0, 1.0)
    f.backward()
    assert (a.grad, b.grad, c.grad, s.grad) == (30.0, 4.0, 6.0, 1.0)


def test_zero_grad_and_repeated_backward():
    x = Value(1.5)
    f = x * x
    f.backward()
    f.backward()
    assert x.grad == 6.0  # a leaf accumulates: twice df/dx = 2x = 3
    zero_grad(f)
    assert (x.grad, f.grad) == (0.0, 0.0)
    f.backward()
    assert x.grad == 3.0


# -- sweeping more than once: leaves accumulate, intermediate nodes restart from 0 ----------------


def test_second_sweep_of_the_worked_example():
    # c = b^2 + b with b = a^2: dc/db = 2b + 1, dc/da = (2b + 1) * 2a.
    # At a = 1.5: b = 2.25, dc/db = 5.5, dc/da = 5.5 * 3 = 16.5.
    a = Value(1.5)
    b = a * a
    c = b * b + b
    c.backward()
    assert (a.grad, b.grad, c.grad) == (16.5, 5.5, 1.0)
    c.backward()
    # the leaf a holds the sum of the two sweeps; b and c hold this sweep's gradient
    assert (a.grad, b.grad, c.grad) == (33.0, 5.5, 1.0)
    c.backward()
    assert (a.grad, b.grad, c.grad) == (49.5, 5.5, 1.0)
    (num,) = numeric_partials(lambda x: (x * x) ** 2 + x * x, [1.5])
    assert a.grad == pytest.approx(3 * num, rel=1e-8)


def test_a_sweep_overwrites_what_an_intermediate_node_held():
    a = Value(1.5)
    b = a * a
    c = b * b + b
    b.grad = 100.0  # e.g. left over from a drawing, or set by hand
    c.backward()
    assert (a.grad, b.grad) == (16.5, 5.5)


def _branchy(x, y, dp=0.0, dq=0.0):
    """r = q p + tanh(y) q with p = x y, q = p + x: x, y and p are used several times.

    ``dp`` and ``dq`` shift the intermediate values, for finite differences with respect to them.
    """
    tanh = math.tanh if isinstance(y, float) else (lambda v: v.tanh())
    p = x * y + dp
    q = p + x + dq
    return p, q, q * p + tanh(y) * q


def test_repeated_sweeps_of_a_graph_with_branches():
    xs = [0.7, -1.3]
    x, y = Value(xs[0]), Value(xs[1])
    p, q, r = _branchy(x, y)
    dx, dy = numeric_partials(lambda a, b: _branchy(a, b)[2], xs)
    (dp,) = numeric_partials(lambda h: _branchy(*xs, dp=h)[2], [0.0])
    (dq,) = numeric_partials(lambda h: _branchy(*xs, dq=h)[2], [0.0])
    for k in (1, 2, 3):
        r.backward()
        assert rel_err([x.grad, y.grad], [k * dx, k * dy]) < 1e-8, k
        assert rel_err([p.grad, q.grad], [dp, dq]) < 1e-8, k
        assert r.grad == 1.0


def test_two_roots_sharing_leaves_add_up_at_the_leaves():
    # r1 = m * x and r2 = exp(m) + y share the leaves x, y and the intermediate node m = x y
    def r1(a, b, dm=0.0):
        return (a * b + dm) * a

    def r2(a, b, dm=0.0):
        return math.exp(a * b + dm) + b

    xs = [0.4, 1.2]
    x, y = Value(xs[0]), Value(xs[1])
    m = x * y
    root1 = m * x
    root2 = m.exp() + y
    root1.backward()
    root2.backward()
    g1, g2 = numeric_partials(r1, xs), numeric_partials(r2, xs)
    assert rel_err([x.grad, y.grad], [g1[0] + g2[0], g1[1] + g2[1]]) < 1e-8
    # m is intermediate: it holds d(root2)/dm, from the last sweep only
    (dm2,) = numeric_partials(lambda h: r2(*xs, dm=h), [0.0])
    assert m.grad == pytest.approx(dm2, rel=1e-8)
    # zero_grad resets the leaves: one sweep of root1 then gives d(root1) alone
    zero_grad([root1, root2])
    root1.backward()
    assert rel_err([x.grad, y.grad], g1) < 1e-8


def test_sweeping_an_intermediate_node_then_the_output():
    # b = a^2 swept on its own (db/da = 2a = 3), then c = b^2 + b (dc/da = 16.5): a gets both
    a = Value(1.5)
    b = a * a
    c = b * b + b
    b.backward()
    assert (a.grad, b.grad) == (3.0, 1.0)
    c.backward()
    assert (a.grad, b.grad, c.grad) == (19.5, 5.5, 1.0)


def test_a_leaf_swept_by_itself_accumulates_one():
    x = Value(2.0)
    x.backward()
    x.backward()
    assert x.grad == 2.0


# -- the step-by-step record names nodes by the graph alone ---------------------------------------


def _unlabelled_graph():
    a, b = Value(2.0), Value(-3.0)
    return a * b + a


def test_step_descriptions_do_not_depend_on_earlier_graphs():
    first = [s.describe() for s in backward_steps(_unlabelled_graph())]
    _ = [Value(float(i)) * 2 for i in range(17)]  # other nodes created in between
    second = [s.describe() for s in backward_steps(_unlabelled_graph())]
    assert first == second
    # a, b are u1, u2 (their places in creation order); the two gates are named by their op
    assert first == [
        "[*] <- [+]: local 1 x upstream 1 = 1 (total 1)",
        "u1 <- [+]: local 1 x upstream 1 = 1 (total 1)",
        "u1 <- [*]: local -3 x upstream 1 = -3 (total -2)",
        "u2 <- [*]: local 2 x upstream 1 = 2 (total 2)",
    ]


def test_step_names_count_within_the_graph_described():
    # x is created first; the graph below g does not contain it, so y is u1 there
    x = Value(1.0)
    y, z = Value(2.0), Value(3.0)
    g = y * z
    names = {(s.parent_name, s.node_name) for s in backward_steps(g)}
    assert names == {("u1", "[*]"), ("u2", "[*]")}
    h = x + g
    names = {s.parent_name for s in backward_steps(h)}
    assert names == {"u1", "[*]", "u2", "u3"}
    assert {s.parent_name for s in backward_steps(h) if s.parent is y} == {"u2"}
    labelled = Value(4.0, label="w") * y
    assert {s.parent_name for s in backward_steps(labelled)} == {"w", "u1"}


def test_million_node_chain_needs_no_recursion():
    # 500,000 gates "*c" then "+d" alternate: d v / d x = c^500000 exactly, 1,000,001 nodes
    x = Value(1.0)
    v = x
    c = 1.000001
    for _ in range(500_000):
        v = v * c + 1e-6
    v.backward()
    assert x.grad == pytest.approx(c**500_000, rel=1e-9)
    assert x.grad == pytest.approx(math.exp(0.5), rel=1e-6)


def test_micrograd_api_compatibility():
    micrograd = pytest.importorskip("micrograd.engine")
    ours = _micrograd_readme_example(Value)
    theirs = _micrograd_readme_example(micrograd.Value)
    for o, t in zip(ours, theirs):
        assert o == pytest.approx(t, rel=1e-12)


def _micrograd_readme_example(V):
    a = V(-4.0)
    b = V(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    return g.data, a.grad, b.grad


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="log needs a positive input"):
        Value(-1.0).log()
    with pytest.raises(TypeError, match="exponent must be a number"):
        Value(2.0) ** Value(3.0)
    with pytest.raises(TypeError, match=r"data must be a number.*Value\(v.data\)"):
        Value(Value(1.0))
    for bad in ("1.5", None, True, [1.0]):
        with pytest.raises(TypeError, match=r"data must be a number.*e.g. Value\(2.0\)"):
            Value(bad)
    for fn in (topological_order, backward_steps, lambda r: list(edges(r))):
        with pytest.raises(TypeError, match="root must be a Value"):
            fn(3.0)
    with pytest.raises(TypeError, match="zero_grad: root must be a Value or an iterable"):
        zero_grad(3.0)
    with pytest.raises(TypeError, match=r"zero_grad: root\[1\] must be a Value, got 2"):
        zero_grad([Value(1.0), 2])
    with pytest.raises(TypeError, match="at least one Value"):
        maximum(1.0, 2.0)
    with pytest.raises(ValueError, match="positive base"):
        (-2.0) ** Value(1.0)


def test_large_inputs_are_stable():
    for x in (-1e4, -800.0, 800.0, 1e4):
        v = Value(x)
        s = v.sigmoid()
        t = v.tanh()
        s.backward()
        t.backward()
        assert 0.0 <= s.data <= 1.0 and -1.0 <= t.data <= 1.0
        assert math.isfinite(v.grad)
