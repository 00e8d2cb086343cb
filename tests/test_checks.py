"""course.checks: each usual mistake, made on purpose, is recognised and named in plain words.

The same findings are data too: each detector returns a ``Diagnosis`` (checked on examples
worked out by hand), every failing check raises a ``CheckFailure`` with its ``name``,
``problem`` and ``diagnoses``, the messages stay word for word what they were, and the grader
records the kinds (``autograder.checker.run_test``, ``autograder.run._verdict``).
"""

from __future__ import annotations

import importlib.util
import pickle
import re
import sys
from pathlib import Path

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
    checks.check_array("dx", 3, 3.0)  # an int for a float
    checks.check_array("da", np.array([3, -2]), [3.0, -2.0])  # integers where the values are whole
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
    assert len(worst) == 2  # the entries that are right are not listed
    text = message(checks.check_array, "dx", 0.5, 1.5)
    assert "value: expected 1.5, got 0.5" in text


def test_an_overall_error_within_tolerance_is_not_called_small_enough_and_wrong():
    # one small entry far off: the relative error over all entries is tiny, the entry is not
    expected = np.array([[1.0, 2.0], [3.0, 1e-4]])
    got = expected.copy()
    got[1, 1] = 0.0
    text = message(checks.check_array, "dW", got, expected)
    assert "(allowed: about 1e-06)" in text and "1 of 4 entries" not in text  # err 2e-5 > 1e-6
    got = expected * 1e3
    got[1, 1] = 1e-4 * 1e3 * (1 + 1e-5)
    text = message(checks.check_array, "dW", got, expected * 1e3)
    assert (
        "relative error: 1.3e-10 over all entries (allowed: about 1e-06), but 1 of the 4 entries "
        "is off by more than each entry may be, 1e-09 + 1e-06 x |expected|"
    ) in text
    assert text.splitlines()[-1].strip().startswith("[1, 1]: expected 0.1, got 0.100001")


def test_numbers_that_differ_never_print_the_same():
    text = message(checks.check_array, "dx", 1.0000011, 1.0000041)
    assert "value: expected 1.000004, got 1.000001" in text
    # a number whose relative error |d| / (|got| + |expected|) is within rtol, its difference not
    text = message(checks.check_array, "dx", 2.0000011, 2.0000051)
    assert "relative error" not in text
    assert "difference: 4.0e-06, more than allowed (1e-09 + 1e-06 x |expected| = 2.0e-06)" in text
    text = message(checks.check_array, "dx", [0.0, 2.000001], [0.0, 2.0000032])
    assert "[1]: expected 2.000003, got 2.000001" in text


# -- the type of the numbers ----------------------------------------------------------------------


def test_a_smaller_float_type_fails_whatever_its_values_and_says_why():
    for got in (W.astype(np.float32), W.astype(np.float16), np.float32(W[0, 0])):
        expected = W if np.ndim(got) else W[0, 0]
        exc = failure(checks.check_array, "dW", got, expected, context="layer 1")
        assert (exc.problem, kinds(exc.diagnoses)) == ("wrong_dtype", ["wrong_dtype"])
        text = str(exc)
        assert text.startswith(
            f"Your dW returns numbers of type {got.dtype} (layer 1); return float64."
        )
        assert "compute in float64 and do not convert to a smaller type" in text
        assert "is wrong" not in text and "relative error" not in text
    exc = failure(checks.numeric_gradient_check, lambda t: t**2, 3.0, np.float32(6.0), "d")
    assert exc.problem == "wrong_dtype"


def test_integers_are_named_when_the_right_values_have_a_fraction():
    exc = failure(checks.check_array, "da", 0, 0.8)
    assert (exc.problem, kinds(exc.diagnoses)) == ("wrong_dtype", ["wrong_dtype"])
    assert str(exc).startswith("Your da returns numbers of type int; return float64.")
    assert "value: expected 0.8, got 0" in str(exc)
    assert "an integer has no digits after the point" in str(exc)
    exc = failure(checks.check_array, "db", np.array([[1], [0]]), np.array([[1.0], [0.25]]))
    assert exc.problem == "wrong_dtype" and "type int64" in str(exc)
    # integers that are wrong for another reason, where the right values are whole numbers
    exc = failure(checks.check_array, "da", np.array([-3, 2]), np.array([3.0, -2.0]))
    assert (exc.problem, kinds(exc.diagnoses)) == ("wrong_values", ["sign"])
    exc = failure(checks.numeric_gradient_check, lambda t: 1 / t, 2.0, 0, "da")
    assert exc.problem == "wrong_dtype" and "numeric -0.25, got 0" in str(exc)


def test_check_dtype_asks_for_float64_in_the_same_words():
    checks.check_dtype("relu_prime(z)", np.ones(3))
    exc = failure(
        checks.check_dtype,
        "relu_prime(z)",
        np.ones(3, dtype=int),
        context="z of shape (3,)",
        like=", like z",
        integers="use (z > 0).astype(float)",
    )
    assert (exc.problem, kinds(exc.diagnoses)) == ("wrong_dtype", ["wrong_dtype"])
    assert str(exc) == (
        "Your relu_prime(z) returns numbers of type int64 (z of shape (3,)); return float64, like "
        "z.\n  Likely bug: use (z > 0).astype(float)"
    )
    exc = failure(checks.check_dtype, "f", np.ones(3, dtype=np.float32))
    assert "compute in float64 and do not convert to a smaller type" in str(exc)


# -- mistakes that only the whole answer tells apart ----------------------------------------------


def test_whole_mistakes_of_a_tuple_are_the_only_explanation():
    # max(1e-9, 0) with upstream 2: the right answer is (2, 0); a near-tie read as a tie gives
    # (1, 1), whose da is also what forgetting the upstream gradient gives (local 1)
    near_tie = checks.Diagnosis("near_tie", "a near-tie is not a tie")
    per_result = [{"you forgot the upstream gradient": 1.0}, {}]
    args = ("max_backward", (1.0, 1.0), (2.0, 0.0), ("da", "db"))
    exc = failure(checks.check_tuple, *args, mistakes=per_result)
    assert kinds(exc.diagnoses) == ["known_mistake"]  # one result alone: misread
    exc = failure(
        checks.check_tuple, *args, mistakes=per_result, whole_mistakes={near_tie: (1.0, 1.0)}
    )
    assert exc.diagnoses == (near_tie,) and "forgot" not in str(exc)
    # an answer that is not the whole mistake: the per-result mistakes as before
    exc = failure(
        checks.check_tuple,
        "max_backward",
        (1.0, 0.0),
        (2.0, 0.0),
        ("da", "db"),
        mistakes=per_result,
        whole_mistakes={near_tie: (1.0, 1.0)},
    )
    assert kinds(exc.diagnoses) == ["known_mistake"]


def test_whole_mistakes_of_a_dict_of_gradients():
    order = checks.Diagnosis("visit_order", "the nodes were visited in the wrong order")
    expected = {"f": 1.0, "s": -4.0, "x": 12.0}
    wrong = {"f": 1.0, "s": -4.0, "x": -4.0}  # x equals one branch: also an overwrite, alone
    branches = {"x": {"from 'q'": 16.0, "from 's'": -4.0}}
    exc = failure(checks.check_gradients, wrong, expected, branches=branches)
    assert kinds(exc.diagnoses) == ["overwritten_at_branch"]
    exc = failure(
        checks.check_gradients,
        wrong,
        expected,
        branches=branches,
        whole_mistakes={order: {"x": -4.0}},
    )
    assert exc.diagnoses == (order,) and "+=" not in str(exc)


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


# -- typed results: one detector per mistake ------------------------------------------------------
#
# Each detector on a small example worked out by hand: the wrong answer is written down, not
# computed by the code under test.

COL = np.array([[3.0], [7.0]])  # a bias gradient (2, 1)...
PER_EXAMPLE = np.array([[1.0, 2.0], [3.0, 4.0]])  # ... the sum over the batch of these columns


def kinds(found) -> list[str]:
    return [d.kind for d in found]


def test_detector_transposed():
    tall = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    found = checks.transposed(np.array([[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]), tall)
    assert found.kind == "transpose" and "shape (2, 3) where (3, 2) is expected" in found.message
    square = np.array([[1.0, 2.0], [3.0, 4.0]])
    found = checks.transposed(np.array([[1.0, 3.0], [2.0, 4.0]]), square)
    assert found.kind == "transpose" and "got.T would be correct" in found.message
    symmetric = np.array([[1.0, 2.0], [2.0, 1.0]])  # its transpose is itself: no diagnosis
    assert checks.transposed(symmetric, symmetric) is None
    assert checks.transposed(np.array([[1.0, 2.0], [3.0, 5.0]]), square) is None


def test_detector_not_summed_over_batch():
    found = checks.not_summed_over_batch(PER_EXAMPLE, COL)
    assert found.kind == "not_summed_over_batch"
    assert "Summed over the batch, your numbers would be right." in found.message
    other = checks.not_summed_over_batch(np.array([[1.0, 1.0], [1.0, 1.0]]), COL)
    assert other.kind == "not_summed_over_batch" and "would be right" not in other.message
    assert checks.not_summed_over_batch(np.array([[1.0, 2.0]]), COL) is None  # 1 row for 2
    assert checks.not_summed_over_batch(COL, COL) is None


def test_detector_reshaped():
    found = checks.reshaped(np.array([3.0, 7.0]), COL)
    assert found.kind == "reshape" and "you returned (2,), expected (2, 1)" in found.message
    assert checks.reshaped(np.array([3.0, 8.0]), COL) is None  # other numbers
    assert checks.reshaped(np.array([[7.0], [3.0]]), COL) is None  # the same shape


def test_detector_wrong_shape():
    found = checks.wrong_shape(np.zeros(3), COL)
    assert found.kind == "wrong_shape" and "expected (2, 1), got (3,)" in found.message
    assert checks.wrong_shape(np.zeros((2, 1)), COL) is None


def test_detector_overwritten_at_branch():
    # x feeds q (contribution 16) and s (contribution -4): dx = 12
    found = checks.overwritten_at_branch(np.array(-4.0), np.array(12.0), [16.0, -4.0])
    assert found.kind == "overwritten_at_branch" and "(number 2)" in found.message
    named = {"from 'q'": 16.0, "from 's'": -4.0}
    found = checks.overwritten_at_branch(np.array(16.0), np.array(12.0), named)
    assert "only one of them (from 'q')" in found.message
    assert checks.overwritten_at_branch(np.array(12.0), np.array(12.0), named) is None
    assert checks.overwritten_at_branch(np.array(16.0), np.array(12.0), [16.0]) is None
    assert checks.overwritten_at_branch(np.array(16.0), np.array(12.0), None) is None


def test_detector_sign_flipped():
    right = np.array([1.0, -2.0])
    assert checks.sign_flipped(np.array([-1.0, 2.0]), right).kind == "sign"
    assert checks.sign_flipped(np.array([-1.0, -2.0]), right) is None
    assert checks.sign_flipped(np.zeros(2), np.zeros(2)) is None  # -0 is 0: no diagnosis


def test_detectors_of_the_factor_m():
    right = np.array([0.5, -1.0])
    found = checks.factor_m_large(np.array([2.0, -4.0]), right, 4)
    assert found.kind == "factor_m_large" and "m = 4 times too large" in found.message
    found = checks.factor_m_small(np.array([0.125, -0.25]), right, 4)
    assert found.kind == "factor_m_small" and "m = 4 times too small" in found.message
    assert checks.factor_m_large(np.array([2.0, -4.0]), right, 3) is None
    assert checks.factor_m_large(right, right, 1) is None
    assert checks.factor_m_small(np.array([0.125, -0.25]), right, None) is None


def test_detectors_of_the_factor_2():
    right = np.array([0.5, -1.0])
    assert checks.factor_2_large(np.array([1.0, -2.0]), right).kind == "factor_2_large"
    assert checks.factor_2_small(np.array([0.25, -0.5]), right).kind == "factor_2_small"
    assert checks.factor_2_large(np.array([0.25, -0.5]), right) is None
    assert checks.factor_2_small(np.array([1.0, -2.0]), right) is None


def test_detector_activation_for_derivative():
    # f(z) = z^3, f'(z) = 3 z^2 at z = (1, 2): f = (1, 8), f' = (3, 12)
    cube = (lambda z: z**3, lambda z: 3 * z**2, np.array([1.0, 2.0]))
    found = checks.activation_for_derivative(np.array([1.0, 8.0]), np.array([3.0, 12.0]), cube)
    assert found.kind == "activation_for_derivative"
    # times the upstream gradient (2, -1): right (6, -12), with f instead of f' (2, -8)
    found = checks.activation_for_derivative(np.array([2.0, -8.0]), np.array([6.0, -12.0]), cube)
    assert found.kind == "activation_for_derivative"
    assert (
        checks.activation_for_derivative(np.array([2.0, 8.0]), np.array([3.0, 12.0]), cube) is None
    )
    assert (
        checks.activation_for_derivative(np.array([1.0, 8.0]), np.array([3.0, 12.0]), None) is None
    )


def test_detector_one_example_bias():
    found = checks.one_example_bias(np.array([[2.0], [4.0]]), COL, PER_EXAMPLE)
    assert found.kind == "one_example_bias" and "example 1 alone" in found.message
    assert checks.one_example_bias(np.array([[1.0], [3.0]]), COL, PER_EXAMPLE).kind == (
        "one_example_bias"
    )
    assert checks.one_example_bias(np.array([[2.0], [3.0]]), COL, PER_EXAMPLE) is None
    assert checks.one_example_bias(np.array([[2.0], [4.0]]), COL, None) is None


def test_known_mistakes_keep_the_callers_kind_or_are_known_mistakes():
    switched = checks.Diagnosis("switched_inputs", "the multiply gate switches its inputs")
    mistakes = {"you forgot the upstream gradient": 3.0, switched: 2.0}
    found = checks.known_mistakes(np.array(2.0), np.array(-3.0), mistakes)
    assert found == [switched]
    found = checks.known_mistakes(np.array(3.0), np.array(-3.0), mistakes)
    assert found == [checks.Diagnosis("known_mistake", "you forgot the upstream gradient")]
    assert checks.known_mistakes(np.array(3.0), np.array(3.0), mistakes) == []  # right: none
    text = message(checks.check_array, "da", 2.0, -3.0, mistakes=mistakes)
    assert "Likely bug: the multiply gate switches its inputs" in text


def test_diagnoses_runs_the_detectors_in_order_and_diagnose_gives_their_words():
    right = np.array([0.5, -1.0])
    got = np.array([1.0, -2.0])  # 2 x right: with m = 2, both explanations fit
    found = checks.diagnoses(got, right, m=2)
    assert kinds(found) == ["factor_m_large", "factor_2_large"]
    assert checks.diagnose(got, right, m=2) == [d.message for d in found]
    extra = {checks.Diagnosis("doubled", "you doubled it"): got}
    # a known mistake that fits is the whole explanation: no general reading beside it
    assert kinds(checks.diagnoses(got, right, mistakes=extra)) == ["doubled"]
    other = {checks.Diagnosis("tripled", "you tripled it"): 3 * got}
    assert kinds(checks.diagnoses(got, right, mistakes=other)) == ["factor_2_large"]
    # a shape that differs: only the shape detectors, and wrong_shape when none fits
    assert kinds(checks.diagnoses(np.array([3.0, 7.0]), COL)) == ["reshape"]
    assert kinds(checks.diagnoses(PER_EXAMPLE, COL)) == ["not_summed_over_batch"]
    assert kinds(checks.diagnoses(np.zeros(3), COL)) == ["wrong_shape"]
    assert checks.diagnoses(np.array([0.3, 0.1]), right) == []


# -- typed results: what each failing check raises ------------------------------------------------


def failure(call, *args, **kwargs) -> checks.CheckFailure:
    """The CheckFailure of a failing check (fails the test if the check passes)."""
    with pytest.raises(checks.CheckFailure) as info:
        call(*args, **kwargs)
    return info.value


def test_a_check_failure_is_an_assertion_error_by_name_too():
    exc = failure(checks.check_array, "dW", 2 * W, W)
    assert isinstance(exc, AssertionError)
    assert type(exc).__name__ == "AssertionError"  # the kernel's ename, what students read
    assert type(exc).__qualname__ == "CheckFailure"
    again = pickle.loads(pickle.dumps(exc))
    assert (str(again), again.name, again.problem) == (str(exc), "dW", "wrong_values")
    assert again.diagnoses == exc.diagnoses


ARRAY_FAILURES = [
    # (got, expected, options, problem, kinds)
    (4 * W, W, {"m": 4}, "wrong_values", ["factor_m_large"]),
    (W + 1.0, W, {}, "wrong_values", []),
    (W.T, W, {}, "wrong_shape", ["transpose"]),
    (np.array([3.0, 7.0]), COL, {}, "wrong_shape", ["reshape"]),
    (np.array([np.nan, 1.0]), np.array([1.0, 1.0]), {}, "not_finite", []),
    (None, W, {}, "returned_none", []),
    ("0.5", 0.5, {}, "wrong_type", []),
    (print, 0.5, {}, "wrong_type", []),
    (Value(2.0), 0.5, {}, "wrong_type", []),
]


@pytest.mark.parametrize("got, expected, options, problem, found", ARRAY_FAILURES)
def test_check_array_failures_are_typed(got, expected, options, problem, found):
    exc = failure(checks.check_array, "dW2", got, expected, **options)
    assert (exc.name, exc.problem, kinds(exc.diagnoses)) == ("dW2", problem, found)
    for d in exc.diagnoses:  # each diagnosis is a line of the message
        assert f"  Likely bug: {d.message}" in str(exc).splitlines()
    assert exc.parts == ()


def test_check_tuple_failures_are_typed():
    name, labels = "mul_backward(2, 3, 1)", ("da", "db")
    for got, problem in ((None, "returned_none"), (3.0, "wrong_type"), ((3.0,), "wrong_count")):
        exc = failure(checks.check_tuple, name, got, (3.0, 2.0), labels)
        assert (exc.name, exc.problem, exc.diagnoses) == (name, problem, ())
    switched = checks.Diagnosis("switched_inputs", "the multiply gate switches its inputs")
    exc = failure(
        checks.check_tuple, name, (3.0, 3.0), (3.0, 2.0), labels, mistakes=[{}, {switched: 3.0}]
    )
    assert (exc.name, exc.problem) == ("db from mul_backward(2, 3, 1)", "wrong_values")
    assert exc.diagnoses == (switched,)


def test_check_gradients_failures_are_typed():
    for got, problem in ((None, "returned_none"), ([W], "wrong_type"), ({0: W}, "missing_keys")):
        exc = failure(checks.check_gradients, got, {"W": W})
        assert (exc.name, exc.problem, exc.diagnoses) == ("gradients", problem, ())
    expected = {"W2": W, "b2": COL, "W1": S}
    got = {"W2": W, "b2": PER_EXAMPLE, "W1": -S}  # b2 not summed, then W1 with the sign flipped
    exc = failure(checks.check_gradients, got, expected)
    assert (exc.name, exc.problem) == ("gradient for 'b2'", "wrong_shape")  # the first wrong one
    assert kinds(exc.diagnoses) == ["not_summed_over_batch", "sign"]
    assert [(p.name, p.problem, kinds(p.diagnoses)) for p in exc.parts] == [
        ("gradient for 'b2'", "wrong_shape", ["not_summed_over_batch"]),
        ("gradient for 'W1'", "wrong_values", ["sign"]),
    ]
    got = {"W2": W, "b2": None, "W1": S}
    exc = failure(checks.check_gradients, got, expected)
    assert (exc.name, exc.problem, exc.diagnoses) == ("gradient for 'b2'", "returned_none", ())


def test_numeric_gradient_check_failures_are_typed():
    exc = failure(checks.numeric_gradient_check, lambda t: t**2, 3.0, 12.0, "d(t^2)/dt")
    assert (exc.name, exc.problem, kinds(exc.diagnoses)) == (
        "d(t^2)/dt",
        "wrong_values",
        ["factor_2_large"],
    )
    exc = failure(checks.numeric_gradient_check, lambda t: t**2, 3.0, None, "d(t^2)/dt")
    assert exc.problem == "returned_none"


def test_call_student_and_own_work_failures_are_typed():
    exc = failure(checks.call_student, stub, 1, 2)
    assert (exc.name, exc.problem, exc.diagnoses) == ("stub", "not_written", ())
    exc = failure(checks.call_student, 3.0)
    assert (exc.name, exc.problem) == ("float", "not_a_function")
    exc = failure(
        checks.call_student, calls_backward, 2.0, 3.0, part="part (b)", forbid=("course.graph",)
    )
    assert (exc.name, exc.problem) == ("part (b)", "own_work")
    from course import graph as engine

    def sneaky(a, b):
        sys.setprofile(None)
        return (engine.Value(a) * engine.Value(b)).data

    old = sys.getprofile()
    exc = failure(checks.call_student, sneaky, 2.0, 3.0, part="part (b)", forbid=(engine,))
    sys.setprofile(old)
    assert (exc.name, exc.problem) == ("part (b)", "own_work_switched_off")


# -- the messages stay word for word what they were ----------------------------------------------


def test_the_message_of_a_wrong_array_is_unchanged():
    exc = failure(
        checks.check_array,
        "dW2",
        [[-0.2, 0.08, 0.5]],
        [[-0.05, 0.02, 0.125]],
        m=4,
        context="layer 2",
    )
    assert str(exc) == (
        "Your dW2 is wrong (layer 2).\n"
        "  shape: expected (1, 3), got (1, 3)\n"
        "  relative error: 6.0e-01 (allowed: about 1e-06)\n"
        "  entries that differ most:\n"
        "    [0, 2]: expected 0.125, got 0.5\n"
        "    [0, 0]: expected -0.05, got -0.2\n"
        "    [0, 1]: expected 0.02, got 0.08\n"
        "  Likely bug: your values are exactly m = 4 times too large: you summed over the m "
        "examples of the batch but did not divide by m (the cost is the mean over the batch)."
    )


def test_the_message_of_a_wrong_shape_is_unchanged():
    exc = failure(checks.check_array, "db", [1.0, 2.0], [[1.0], [2.0]])
    assert str(exc) == (
        "Your db is wrong.\n"
        "  shape: expected (2, 1), got (2,)\n"
        "  first entries: expected 1, 2; got 1, 2\n"
        "  Likely bug: the numbers are right but the shape is not: you returned (2,), expected "
        "(2, 1). Keep the shape of the variable (for a column, use keepdims=True in sums or "
        ".reshape(-1, 1))."
    )


def test_the_message_of_wrong_gradients_is_unchanged():
    exc = failure(
        checks.check_gradients,
        {"W2": [2.0, -4.0], "b2": [1.0]},
        {"W2": np.array([1.0, -2.0]), "b2": np.array([0.5])},
    )
    assert str(exc) == (
        "2 of 2 gradients are wrong: 'W2', 'b2'.\n"
        "Likely bug: your values are exactly 2 times the right ones: a factor of 2 is missing or "
        "extra (the 1/2 in the squared error, the 2 in d(x^2)/dx, or a path counted twice).\n"
        "\n"
        "Your gradient for 'W2' is wrong.\n"
        "  shape: expected (2,), got (2,)\n"
        "  relative error: 3.3e-01 (allowed: about 1e-06)\n"
        "  entries that differ most:\n"
        "    [1]: expected -2, got -4\n"
        "    [0]: expected 1, got 2\n"
        "  Likely bug: the same as above.\n"
        "\n"
        "Your gradient for 'b2' is wrong.\n"
        "  shape: expected (1,), got (1,)\n"
        "  relative error: 3.3e-01 (allowed: about 1e-06)\n"
        "  entries that differ most:\n"
        "    [0]: expected 0.5, got 1\n"
        "  Likely bug: the same as above."
    )
    # each part keeps its own words
    assert str(exc.parts[1]).endswith(
        "  Likely bug: your values are exactly 2 times the right ones: a factor of 2 is missing "
        "or extra (the 1/2 in the squared error, the 2 in d(x^2)/dx, or a path counted twice)."
    )


def test_the_plain_messages_are_unchanged():
    assert str(failure(checks.call_student, stub, 1, 2)) == (
        "You have not written stub yet: it still raises NotImplementedError. Replace the line "
        "`raise NotImplementedError()` with your code and run the cell again."
    )
    assert str(
        failure(checks.check_tuple, "add_backward(1, 2, 3)", None, (3, 3), ("da", "db"))
    ) == (
        "add_backward(1, 2, 3) returned None. Did you forget `return`? It should return 2 "
        "results: return da, db"
    )


# -- the problem sets' own checks fail typed too --------------------------------------------------


def _support(assignment: str):
    """A problem set's support module, loaded from its file (as the tests of a notebook do)."""
    path = Path(__file__).resolve().parent.parent / "source_assignments" / assignment
    spec = importlib.util.spec_from_file_location(
        f"{assignment}_support", path / f"{assignment}_support.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_batch_checks_of_ps4_name_their_mistake():
    ps4 = _support("ps4")

    def drops_last(m, batch_size, rng):
        order = rng.permutation(m)
        return [order[i : i + batch_size] for i in range(0, m - batch_size + 1, batch_size)]

    exc = failure(ps4.check_batches, drops_last, 10, 3)
    assert (exc.problem, kinds(exc.diagnoses)) == ("wrong_sizes", ["dropped_last_batch"])
    assert "  Likely bug: you dropped the last, smaller batch" in str(exc)

    def with_replacement(m, batch_size, rng):
        idx = rng.integers(0, m, size=m)
        return [idx[i : i + batch_size] for i in range(0, m, batch_size)]

    exc = failure(ps4.check_batches, with_replacement, 40, 7)
    assert (exc.problem, kinds(exc.diagnoses)) == ("not_every_sample", ["with_replacement"])
    assert str(exc).endswith("Likely bug: " + exc.diagnoses[0].message)


# -- the grader records the typed failure ---------------------------------------------------------


def test_the_grader_records_what_a_failed_check_found():
    from autograder import checker, run

    def no_kernel(text: str, timeout: float) -> str:
        raise AssertionError("this test needs nothing of a kernel")

    link = checker.Link(no_kernel)
    base = checker.preamble(["import numpy as np\nfrom course import checks"])
    source = "checks.check_array('dW', np.array([2.0, -4.0]), np.array([0.5, -1.0]), m=4)"
    found: list = []
    outputs = checker.run_test(source, base, link, failures=found)
    assert outputs[-1]["ename"] == "AssertionError"  # what nbgrader and the student see
    assert outputs[-1]["evalue"].startswith("Your dW is wrong.")
    assert set(outputs[-1]) == {"output_type", "ename", "evalue", "traceback"}  # plain nbformat
    assert found == [{"name": "dW", "problem": "wrong_values", "diagnoses": ["factor_m_large"]}]
    verdict = run._verdict(outputs, found)
    assert (verdict["passed"], verdict["problem"], verdict["diagnoses"]) == (
        False,
        "wrong_values",
        ["factor_m_large"],
    )
    # two gradients with the same mistake: its kind once
    source = (
        "checks.check_gradients({'b2': np.ones((2, 3)), 'b1': np.ones((1, 3))}, "
        "{'b2': np.full((2, 1), 3.0), 'b1': np.full((1, 1), 3.0)})"
    )
    found = []
    checker.run_test(source, base, link, failures=found)
    assert found == [
        {
            "name": "gradient for 'b2'",
            "problem": "wrong_shape",
            "diagnoses": ["not_summed_over_batch"],
        }
    ]
    # a passing test, and a failure that is not a check's: nothing typed to record
    for source in ("checks.check_array('dW', 1.0, 1.0)", "assert 1 == 2, 'plain'"):
        found = []
        outputs = checker.run_test(source, base, link, failures=found)
        assert found == []
        assert (run._verdict(outputs, found)["problem"], run._verdict(outputs)["diagnoses"]) == (
            None,
            [],
        )


# -- Points: partial credit per group of checks within a test cell --------------------------------


def _fail(name: str = "dW") -> None:
    checks.check_array(name, np.array([1.0, 2.0]), np.array([1.0, 3.0]))


def test_points_all_groups_pass_gives_nothing_and_prints_nothing(capsys) -> None:
    points = checks.Points()
    with points.group("forward", 1):
        checks.check_array("Z", np.ones(2), np.ones(2))
    with points.group("backward", 2):
        pass
    assert points.total() is None and points.earned() == 3
    assert capsys.readouterr().out == ""


def test_points_a_failing_group_costs_only_its_points_and_says_so_once(capsys) -> None:
    points = checks.Points()
    with points.group("forward", 1):
        pass
    for _ in range(3):  # a group may be entered again (a loop, the hidden region): one loss
        with points.group("backward", 2):
            _fail()
    out = capsys.readouterr().out
    assert out.count("[backward: 0 of 2 points]") == 1 and out.count("Your dW is wrong") == 1
    assert points.total() == 1.0
    out = capsys.readouterr().out
    assert "Points of this test: 1 of 3" in out and "backward: 0 of 2" in out


def test_points_a_group_keeps_its_first_points() -> None:
    points = checks.Points()
    with points.group("J", 1):
        pass
    with points.group("J", 5):  # the same group again: its points are those it was given first
        _fail()
    assert points.points == {"J": 1.0} and points.earned() == 0


def test_points_no_group_passed_raises_the_first_failure() -> None:
    points = checks.Points()
    with points.group("forward", 1):
        _fail("Z")
    with points.group("backward", 2):
        raise ValueError("shapes do not align")
    with pytest.raises(checks.CheckFailure) as info:
        points.total()
    text = str(info.value)
    assert text.startswith("No check of this test passed (0 of 3 points)")
    assert "Your Z is wrong" in text and "shapes do not align" not in text
    assert info.value.name == "Z" and info.value.problem == "wrong_values"
    assert isinstance(info.value, AssertionError)


def test_points_an_error_of_the_students_code_is_said_as_such(capsys) -> None:
    points = checks.Points()
    with points.group("backward", 2):
        raise ValueError("shapes do not align")
    out = capsys.readouterr().out
    assert "Your code raised ValueError: shapes do not align" in out
    with pytest.raises(checks.CheckFailure, match="Your code raised ValueError"):
        points.total()


def test_points_groups_go_on_in_the_hidden_region(capsys) -> None:
    points = checks.Points()
    with points.group("forward", 1):
        pass
    with points.group("backward", 2):
        pass
    points.passes("affine layer")
    assert "affine layer: every visible test passes." in capsys.readouterr().out
    with points.group("backward", 2):  # hidden checks of a visible group
        _fail()
    with points.group("hidden shapes", 1):  # a group of hidden checks alone
        pass
    assert points.total() == 2.0


def test_points_passes_names_the_groups_that_lost_points(capsys) -> None:
    points = checks.Points()
    with points.group("forward", 1):
        _fail()
    points.passes("affine layer")
    assert "affine layer: some visible tests fail (forward)" in capsys.readouterr().out


def test_points_lets_the_graders_kernel_gone_through() -> None:
    class KernelGone(RuntimeError):  # the grader's (autograder.checker), known by its name
        pass

    points = checks.Points()
    with pytest.raises(KernelGone), points.group("backward", 2):
        raise KernelGone("the kernel died")
    assert points.failed == {}
    with pytest.raises(KeyboardInterrupt), points.group("backward", 2):
        raise KeyboardInterrupt


def test_points_with_the_graders_own_kernel_gone() -> None:
    from autograder.checker import KernelGone

    points = checks.Points()
    with pytest.raises(KernelGone), points.group("backward", 2):
        raise KernelGone("the kernel died")


def test_points_computes_nothing_graded() -> None:
    """Points is in course.checks, which the student's kernel imports: it only counts."""
    import inspect

    source = inspect.getsource(checks.Points)
    assert "np." not in source and "course." not in source


def test_recognised_takes_the_right_answer_and_the_usual_slips_only() -> None:
    """What a chained credit accepts from an earlier part: the right answer or a mistake the
    diagnoses name, with numbers that fit it, never zeros, noise, or a shape alone."""
    rng = np.random.default_rng(7)
    A, dZ = rng.normal(size=(3, 5)), rng.normal(size=(4, 5)) / 5
    dW = dZ @ A.T  # (4, 3)
    db = dZ.sum(axis=1, keepdims=True)
    assert checks.recognised(dW, dW, m=5)
    assert checks.recognised(dW.tolist(), dW, m=5)  # as plain data from the kernel
    assert checks.recognised(dW.T, dW, m=5)  # a transpose
    assert checks.recognised(5 * dW, dW, m=5)  # no 1/m
    assert checks.recognised(-dW, dW, m=5)  # a sign
    assert checks.recognised(2 * dW, dW)  # a factor 2
    assert checks.recognised(dZ, db, m=5)  # not summed over the batch, and its sum is db
    assert checks.recognised(dZ[:, 2:3], db, per_example=dZ)  # one example's column
    assert checks.recognised(A[:1], dW, mistakes={"a known mistake": A[:1]})
    assert not checks.recognised(np.zeros_like(dW), dW, m=5)
    assert not checks.recognised(dW + rng.normal(size=dW.shape), dW, m=5)
    assert not checks.recognised(1.5 * dW, dW, m=5)
    assert not checks.recognised(np.zeros((4, 5)), db, m=5)  # any (n, m) has that shape
    assert not checks.recognised(np.zeros((3, 4)), dW, m=5)  # the transpose's shape alone
    assert not checks.recognised(np.full_like(dW, np.nan), dW, m=5)
    assert not checks.recognised("dW", dW)
    assert not checks.recognised([[1.0, 2.0], [3.0]], dW)
    assert checks.recognised(2.5, 2.5) and checks.recognised(12.5, 2.5, m=5)
    assert not checks.recognised(0.0, 2.5, m=5)
