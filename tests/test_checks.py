"""course.checks: each usual mistake, made on purpose, is recognised and named in plain words."""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest

from course import checks
from course.activations import relu, relu_prime, sigmoid, sigmoid_prime, tanh, tanh_prime
from course.graph import Value
from course.mlp import MLP

RNG = np.random.default_rng(7)
W = RNG.normal(size=(3, 4))  # a non-square gradient
S = RNG.normal(size=(3, 3))  # a square, non-symmetric one


def message(call, *args, **kwargs) -> str:
    """The AssertionError message of a failing check (fails the test if the check passes)."""
    with pytest.raises(AssertionError) as info:
        call(*args, **kwargs)
    return str(info.value)


def likely(text: str) -> str:
    return " ".join(line for line in text.splitlines() if "Likely bug" in line)


# -- correct answers pass -------------------------------------------------------------------------


def test_correct_answers_pass_whatever_their_form():
    checks.check_array("dW", W.copy(), W)
    checks.check_array("dW", W.tolist(), W)  # a nested list
    checks.check_array("dW", W.astype(np.float32), W, rtol=1e-6, atol=1e-6)
    checks.check_array("dx", 3, 3.0)  # an int for a float
    checks.check_array("dx", np.float64(2.5), 2.5)
    checks.check_array("dW", W * (1 + 1e-9), W)  # rounding differences
    loops = np.zeros_like(W)
    for i in range(W.shape[0]):
        for j in range(W.shape[1]):
            loops[i, j] = W[i, j]
    checks.check_array("dW", loops, W)
    checks.check_gradients({"a": 1.0, "b": W, "extra": "ignored"}, {"a": 1.0, "b": W})
    checks.check_tuple("mul_backward(2, 3, 1)", (3.0, 2.0), (3.0, 2.0), ("da", "db"))


def test_a_real_mlp_gradient_passes_against_itself_and_finite_differences():
    X, Y = RNG.normal(size=(2, 5)), RNG.normal(size=(1, 5))
    net = MLP([2, 3, 1], hidden="tanh", output="identity", loss="half_sse", seed=0)
    grads = net.gradients(X, Y)
    checks.check_gradients(grads, {k: v.copy() for k, v in grads.items()}, m=5)
    W1 = net.params["W1"]

    def loss(w):
        saved = W1.copy()
        W1[...] = w
        try:
            return net.loss(X, Y)
        finally:
            W1[...] = saved

    err = checks.numeric_gradient_check(loss, W1.copy(), grads["W1"], "dW1")
    assert err < 1e-7


# -- each diagnosis triggers on its mistake and names it ------------------------------------------


def test_transposed_non_square():
    text = message(checks.check_array, "dW", W.T, W)
    assert "transpose" in likely(text)
    assert "(3, 4)" in text and "(4, 3)" in text


def test_transposed_square():
    text = message(checks.check_array, "dW", S.T, S)
    assert "transpose" in likely(text)


def test_factor_m_both_ways():
    assert "m = 5 times too large" in likely(message(checks.check_array, "dW", 5 * W, W, m=5))
    assert "did not divide by m" in likely(message(checks.check_array, "dW", 5 * W, W, m=5))
    assert "m = 5 times too small" in likely(message(checks.check_array, "dW", W / 5, W, m=5))


def test_factor_two_both_ways():
    assert "2 times the right ones" in likely(message(checks.check_array, "dW", 2 * W, W))
    assert "half the right ones" in likely(message(checks.check_array, "dW", W / 2, W))


def test_sign_flipped():
    assert "sign is flipped" in likely(message(checks.check_array, "dW", -W, W))


@pytest.mark.parametrize(
    "f, fprime", [(sigmoid, sigmoid_prime), (tanh, tanh_prime), (relu, relu_prime)]
)
def test_activation_where_its_derivative_belongs(f, fprime):
    z = RNG.normal(size=(3, 4)) + 0.1
    upstream = RNG.normal(size=(3, 4))
    expected = upstream * fprime(z)
    # the value itself...
    if f is not relu:
        text = message(checks.check_array, "dZ", f(z), fprime(z), activation=(f, fprime, z))
        assert "activation f(z) where its derivative f'(z) belongs" in likely(text)
    # ... or times the upstream gradient
    if np.all(fprime(z) != 0):
        text = message(
            checks.check_array, "dZ", upstream * f(z), expected, activation=(f, fprime, z)
        )
        assert "activation f(z) where its derivative f'(z) belongs" in likely(text)


def test_overwritten_instead_of_added_at_a_branch():
    text = message(checks.check_array, "dx", -4.0, 12.0, branches=[16.0, -4.0])
    assert "overwritten instead of added at a branch" in likely(text)
    assert "grad +=" in likely(text)
    named = {"from 'q'": 16.0, "from 's'": -4.0}
    text = message(checks.check_array, "dx", 16.0, 12.0, branches=named)
    assert "only one of them (from 'q')" in likely(text)
    # gradients as arrays, through check_gradients
    a, b = RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3))
    text = message(
        checks.check_gradients, {"h": b, "x": 1.0}, {"h": a + b, "x": 1.0}, branches={"h": [a, b]}
    )
    assert text.startswith("1 of 2 gradients are wrong: 'h'.")
    assert "Likely bug: gradients overwritten instead of added at a branch" in text


def test_bias_not_summed_over_the_batch():
    dZ = RNG.normal(size=(3, 6))
    db = dZ.sum(axis=1, keepdims=True)
    text = message(checks.check_array, "db", dZ, db)
    assert "not summed over the batch" in likely(text)
    assert "Summed over the batch, your numbers would be right" in likely(text)
    text = message(checks.check_array, "db", dZ[:, 2:3], db, per_example=dZ)
    assert "contribution of example 2 alone" in likely(text)


def test_wrong_shapes():
    text = message(checks.check_array, "dW", W[:2], W)
    assert "wrong shape: expected (3, 4), got (2, 4)" in likely(text)
    col = RNG.normal(size=(3, 1))
    text = message(checks.check_array, "db", col.ravel(), col)
    assert "numbers are right but the shape is not" in likely(text)
    assert "keepdims=True" in likely(text)


def test_none_means_a_forgotten_return():
    assert "did you forget `return`" in message(checks.check_array, "dW", None, W).lower()
    text = message(checks.check_gradients, None, {"W": W})
    assert "returned None" in text and "return" in text
    text = message(checks.check_tuple, "add_backward(1, 2, 3)", None, (3, 3), ("da", "db"))
    assert "returned None" in text and "return da, db" in text


@pytest.mark.parametrize(
    "got, words",
    [
        ("0.5", "you returned a str"),
        ({"W": 1}, "you returned a dict"),
        (True, "you returned a bool"),
        ([1, [2, 3]], "cannot be read as one"),
        (1 + 2j, "complex numbers"),
        (print, "forget the () to call it"),
        (Value(2.0), "Value object"),
    ],
)
def test_wrong_types(got, words):
    assert words in message(checks.check_array, "dx", got, 0.5)


def test_containers_of_the_wrong_kind():
    assert "should return a dict" in message(checks.check_gradients, [W], {"W": W})
    text = message(checks.check_gradients, {0: W}, {"W": W})
    assert "no entry for 'W'" in text and "Use the names" in text
    text = message(checks.check_tuple, "mul_backward(2, 3, 1)", 3.0, (3.0, 2.0), ("da", "db"))
    assert "should return 2 results (da, db) as a tuple" in text
    text = message(checks.check_tuple, "mul_backward(2, 3, 1)", (3.0,), (3.0, 2.0), ("da", "db"))
    assert "it returned 1" in text


def test_non_finite_values():
    bad = W.copy()
    bad[1, 2] = np.nan
    text = message(checks.check_array, "dW", bad, W)
    assert "contains nan at [1, 2]" in text and "overflow" in text
    assert "inf" in message(checks.check_array, "dx", np.inf, 1.0)


def test_known_mistakes_supplied_by_the_test():
    text = message(
        checks.check_array, "da", 2.0, -3.0, mistakes={"the multiply gate switches": 2.0}
    )
    assert "the multiply gate switches" in likely(text)


def test_unrecognised_mistake_still_gives_the_facts():
    text = message(checks.check_array, "dW", W + 1.0, W)
    assert "Likely bug" not in text
    assert "relative error" in text


# -- messages carry the numbers -------------------------------------------------------------------


def test_message_has_relative_error_and_the_worst_entries():
    got = W.copy()
    got[0, 1] += 1.0
    got[2, 3] -= 3.0
    text = message(checks.check_array, "dW2", got, W, context="layer 2")
    assert text.startswith("Your dW2 is wrong (layer 2).")
    assert re.search(r"relative error: \d\.\de[+-]\d\d", text)
    lines = [line.strip() for line in text.splitlines()]
    worst = lines[lines.index("entries that differ most:") + 1 :][:3]
    assert worst[0].startswith("[2, 3]: expected") and worst[1].startswith("[0, 1]: expected")
    assert len(worst) == 3 and all(": expected" in line and ", got" in line for line in worst)
    text = message(checks.check_array, "dx", 0.5, 1.5)
    assert "value: expected 1.5, got 0.5" in text


def test_check_gradients_lists_every_wrong_name_and_explains_the_first_ones():
    expected = {f"W{k}": W * k for k in range(1, 6)}
    got = {k: 2 * v for k, v in expected.items()}
    text = message(checks.check_gradients, got, expected, context="graph g")
    assert text.startswith("5 of 5 gradients are wrong (graph g): 'W1', 'W2', 'W3', 'W4', 'W5'.")
    assert text.count("Your gradient for") == 3
    assert "2 more are wrong" in text
    assert text.splitlines()[1].startswith("Likely bug: your values are exactly 2 times")


# -- finite differences ---------------------------------------------------------------------------


def test_numeric_gradient_check():
    A = RNG.normal(size=(3, 3))

    def f(x):
        return float(x @ A @ x)

    x = RNG.normal(size=3)
    assert checks.numeric_gradient_check(f, x, (A + A.T) @ x, "df/dx") < 1e-8
    text = message(checks.numeric_gradient_check, f, x, 2 * (A + A.T) @ x, "df/dx")
    assert "does not match centred finite differences" in text
    assert "numeric" in text and "2 times the right ones" in text
    # scalars, and a gradient that is exactly 0 (relative error is meaningless there)
    checks.numeric_gradient_check(lambda t: t**3, 2.0, 12.0, "d(t^3)/dt")
    checks.numeric_gradient_check(lambda t: np.exp(t + t * t), -0.5, 0.0, "du3/du1")
    assert "wrong shape" in message(checks.numeric_gradient_check, f, x, np.ones(4), "df/dx")
    assert "returned None" in message(checks.numeric_gradient_check, f, x, None, "df/dx")


# -- running a student's function -----------------------------------------------------------------


def stub(a, b):
    raise NotImplementedError()


def own_sweep(a, b):
    return b, a


def calls_backward(a, b):
    x, y = Value(a), Value(b)
    (x * y).backward()
    return x.grad, y.grad


def test_call_student_returns_the_result_and_explains_an_unwritten_stub():
    assert checks.call_student(own_sweep, 2.0, 3.0, forbid=("course.graph",)) == (3.0, 2.0)
    assert "You have not written stub yet" in message(checks.call_student, stub, 1, 2)

    def uses_stub(a, b):
        return stub(a, b)

    text = message(checks.call_student, uses_stub, 1, 2)
    assert "You have not written stub (used by uses_stub) yet" in text
    assert "should be a function" in message(checks.call_student, 3.0)
    with pytest.raises(ZeroDivisionError):  # the student's own errors reach them unchanged
        checks.call_student(lambda: 1 / 0)


def test_call_student_detects_the_package_doing_the_work():
    text = message(
        checks.call_student, calls_backward, 2.0, 3.0, part="part (b)", forbid=("course.graph",)
    )
    assert text.startswith(
        "part (b): this part must be computed by your own code, not course.graph"
    )
    assert "no credit" in text
    # an alias or a module object makes no difference
    import course.graph as engine

    def via_alias(a, b):
        v = engine.maximum(engine.Value(a), b)
        return v.data

    assert "not course.graph" in message(checks.call_student, via_alias, 1.0, 2.0, forbid=(engine,))
    # without forbid, or with another module, the same function is fine
    assert checks.call_student(calls_backward, 2.0, 3.0) == (3.0, 2.0)
    assert checks.call_student(calls_backward, 2.0, 3.0, forbid=("course.mlp",)) == (3.0, 2.0)


def test_call_student_forbids_whole_packages_and_skips_missing_ones():
    micrograd = pytest.importorskip("micrograd.engine")

    def with_micrograd(a):
        x = micrograd.Value(a)
        (x * x).backward()
        return x.grad

    text = message(checks.call_student, with_micrograd, 3.0, forbid=("micrograd",))
    assert "not micrograd" in text
    assert checks.call_student(own_sweep, 1, 2, forbid=("no_such_package_here",)) == (2, 1)


def test_own_work_restores_a_previous_profiler():
    calls = []

    def profiler(frame, event, arg):
        calls.append(event)

    old = sys.getprofile()
    sys.setprofile(profiler)
    try:
        with pytest.raises(AssertionError):
            checks.call_student(calls_backward, 1.0, 2.0, forbid=("course.graph",))
        assert sys.getprofile() is profiler
    finally:
        sys.setprofile(old)
    assert "call" in calls  # the previous profiler kept receiving events meanwhile
    assert sys.getprofile() is old


def test_check_tuple_accepts_results_of_different_shapes():
    from course.checks import check_tuple

    rng = np.random.default_rng(0)
    dA, dW, db = rng.normal(size=(3, 4)), rng.normal(size=(2, 3)), rng.normal(size=(2, 1))
    check_tuple("affine_backward", (dA, dW, db), (dA, dW, db), ("dA_prev", "dW", "db"))
    with pytest.raises(AssertionError, match="dW from affine_backward"):
        check_tuple("affine_backward", (dA, dW.T.T * 2, db), (dA, dW, db), ("dA_prev", "dW", "db"))


def test_own_work_fails_a_function_that_switches_the_check_off():
    from course import graph as engine

    def sneaky(a, b):
        sys.setprofile(None)  # then the package does the work, unseen
        v = engine.Value(a) * engine.Value(b)
        v.backward()
        return v.data

    old = sys.getprofile()
    text = message(checks.call_student, sneaky, 2.0, 3.0, part="part (b)", forbid=("course.graph",))
    assert "switched off the check" in text and text.startswith("part (b)")
    assert sys.getprofile() is old
    # the same function without forbid is simply called
    assert checks.call_student(sneaky, 2.0, 3.0) == 6.0
    sys.setprofile(old)
