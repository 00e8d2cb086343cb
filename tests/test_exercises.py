"""Tests of course.exercises: every worked answer passes, usual wrong answers are named, stubs
wait, and wrong shapes and types are said plainly (tests/test_notebooks.py checks that every
exercise sits in its notebook).

The wrong answers are written here as a student would write them (code run on the givens), not
taken from the module's list of known mistakes, so a mistake the module forgot, or a reference
that drifted, fails here.
"""

from __future__ import annotations

import numpy as np
import pytest

from course.exercises import EXERCISES, check, feedback, givens, solution

#: per exercise: wrong answers (code that sets ``answer``), each with the kind of mistake it must
#: be diagnosed as and words of the explanation
WRONG: dict[str, list[tuple[str, str, str]]] = {
    "chain_rule": [
        ("answer = 1 - np.tanh(x**3) ** 2", "known_mistake", "inner function"),
        ("answer = (1 - np.tanh(x) ** 2) * 3 * x**2", "known_mistake", "y = x**3"),
        ("answer = np.tanh(x**3) * 3 * x**2", "activation_for_derivative", "f'(z)"),
    ],
    "jacobian": [
        (
            "answer = np.array([[2 * x * y, x**2, 0], [np.exp(x), z, y]]).T",
            "transpose",
            "denominator layout",
        ),
        (
            "answer = np.array([[2 * x, x**2, 0], [np.exp(x), z, y]])",
            "known_mistake",
            "held constant",
        ),
    ],
    "cost_gradient": [
        ("g = np.tanh(A @ theta)\nanswer = A.T @ ((t - g) * (1 - g**2))", "sign", "sign"),
        ("g = np.tanh(A @ theta)\nanswer = A.T @ ((g - t) * g)", "activation_for_derivative", ""),
        ("g = np.tanh(A @ theta)\nanswer = A.T @ (g - t)", "known_mistake", "slope of tanh"),
        ("g = np.tanh(A @ theta)\nanswer = ((g - t) * (1 - g**2)).T @ A", "transpose", ""),
    ],
    "local_times_upstream": [
        ("answer = np.array([x * upstream, y * upstream])", "known_mistake", "switches"),
        ("answer = np.array([y, x])", "known_mistake", "upstream"),
        ("answer = -np.array([y * upstream, x * upstream])", "sign", "sign"),
    ],
    "graph_gradients": [
        (
            "q, r = a + b, b * c\nanswer = np.array([r, r, q * b])",
            "overwritten_at_branch",
            "a + b",
        ),
        (
            "q, r = a + b, b * c\nanswer = np.array([r, q * c, q * b])",
            "overwritten_at_branch",
            "b * c",
        ),
        (
            "q, r = a + b, b * c\nanswer = np.array([q, q + r * b, r * c])",
            "known_mistake",
            "switches",
        ),
    ],
    "sigmoid_neuron": [
        (
            "s = 1 / (1 + np.exp(-(w0 * x0 + w1 * x1 + w2)))\n"
            "answer = s * np.array([x0, w0, x1, w1, 1.0])",
            "activation_for_derivative",
            "f'(z)",
        ),
        (
            "s = 1 / (1 + np.exp(-(w0 * x0 + w1 * x1 + w2)))\n"
            "answer = s * (1 - s) * np.array([w0, x0, w1, x1, 1.0])",
            "known_mistake",
            "switches",
        ),
    ],
    "max_gate": [
        ("answer = np.array([z, z, max(x, y)])", "known_mistake", "both inputs"),
        ("answer = np.array([z / 2, z / 2, max(x, y)])", "known_mistake", "split"),
        ("answer = np.array([0.0, z, max(x, y)])", "known_mistake", "lost"),
    ],
    "branches_add": [
        ("answer = np.array([x, x])", "overwritten_at_branch", "through q"),
        ("answer = np.array([x + y, x])", "overwritten_at_branch", "direct"),
    ],
    "sigmoid_gate": [
        (
            "s = 1 / (1 + np.exp(-z))\nanswer = upstream * s",
            "activation_for_derivative",
            "f'(z)",
        ),
        ("s = 1 / (1 + np.exp(-z))\nanswer = s * (1 - s)", "known_mistake", "upstream"),
        ("answer = upstream * z * (1 - z)", "known_mistake", "output s = sigmoid(z)"),
    ],
    "tanh_derivative": [
        ("answer = np.tanh(z)", "activation_for_derivative", "f'(z)"),
        ("answer = 1 - z**2", "known_mistake", "output tanh(z)"),
        ("answer = 1 - np.tanh(z)", "known_mistake", "squared"),
    ],
    "relu_backward": [
        ("answer = dA * np.maximum(Z, 0)", "activation_for_derivative", "slope"),
        ("answer = dA.copy()", "known_mistake", "off"),
        ("answer = dA * (Z < 0)", "known_mistake", "wrong way round"),
        ("answer = -dA * (Z > 0)", "sign", "sign"),
    ],
    "vanishing_chain": [
        (
            "answer, a = 1.0, a0\nfor _ in range(3):\n"
            "    s = 1 / (1 + np.exp(-w * a))\n    answer *= s * (1 - s)\n    a = s",
            "known_mistake",
            "weights are missing",
        ),
        (
            "answer, a = 1.0, a0\nfor _ in range(3):\n"
            "    s = 1 / (1 + np.exp(-w * a))\n    answer *= w * s\n    a = s",
            "activation_for_derivative",
            "slope",
        ),
        (
            "answer, a = 0.0, a0\nfor _ in range(3):\n"
            "    s = 1 / (1 + np.exp(-w * a))\n    answer += w * s * (1 - s)\n    a = s",
            "known_mistake",
            "multiplies",
        ),
    ],
    "stable_softmax": [
        (
            "answer = np.exp(Z - Z.max(axis=1, keepdims=True))\n"
            "answer = answer / answer.sum(axis=1, keepdims=True)",
            "known_mistake",
            "each row",
        ),
        ("answer = np.exp(Z - Z.max(axis=0))", "known_mistake", "not normalised"),
        ("E = np.exp(Z - Z.max())\nanswer = E / E.sum()", "known_mistake", "whole batch"),
    ],
    "softmax_cross_entropy": [
        (
            "E = np.exp(Z - Z.max(axis=0))\nT = np.eye(3)[:, y]\nanswer = E / E.sum(axis=0) - T",
            "factor_m_large",
            "did not divide by m",
        ),
        (
            "E = np.exp(Z - Z.max(axis=0))\nT = np.eye(3)[:, y]\n"
            "answer = (T - E / E.sum(axis=0)) / 4",
            "sign",
            "sign",
        ),
        (
            "E = np.exp(Z - Z.max(axis=0))\nanswer = E / E.sum(axis=0) / 4",
            "known_mistake",
            "targets",
        ),
    ],
    "wx_gradient": [
        ("answer = (M @ u) @ u.T", "factor_2_small", "half"),
        ("answer = 2 * u @ (M @ u).T", "transpose", "transpose"),
    ],
    "delta_shape": [
        ("answer = (m, sizes[1])", "transpose", "transposed"),
        ("answer = (sizes[1], 1)", "known_mistake", "db1"),
        ("answer = (sizes[1], sizes[0])", "known_mistake", "W1"),
    ],
    "hidden_delta": [
        ("answer = (W2.T @ dZ2) * A1", "activation_for_derivative", "f'(z)"),
        ("answer = W2.T @ dZ2", "known_mistake", "slope"),
        ("S = 1 / (1 + np.exp(-A1))\nanswer = (W2.T @ dZ2) * S * (1 - S)", "known_mistake", "A1"),
        ("answer = ((W2.T @ dZ2) * A1 * (1 - A1)).T", "transpose", "transpose"),
    ],
    "bias_gradient": [
        ("answer = dZ2.copy()", "not_summed_over_batch", "summed over the batch"),
        ("answer = dZ2.mean(axis=1, keepdims=True)", "factor_m_small", "too small"),
        ("answer = dZ2[:, :1]", "one_example_bias", "example 0"),
        ("answer = dZ2.sum(axis=1)", "reshape", "keepdims"),
    ],
    "count_parameters": [
        (
            "answer = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))",
            "known_mistake",
            "biases",
        ),
        (
            "answer = sum(a * b for a, b in zip(sizes[:-1], sizes[1:])) + sum(sizes)",
            "known_mistake",
            "inputs",
        ),
    ],
    "batches_per_epoch": [
        ("answer = m // batch_size", "known_mistake", "last"),
        ("answer = m / batch_size", "known_mistake", "whole number"),
    ],
    "momentum_step": [
        ("answer = W + v", "known_mistake", "old velocity"),
        ("answer = W - lr * dW", "known_mistake", "SGD"),
        ("answer = W + beta * v + lr * dW", "sign", "downhill"),
    ],
    "adam_step": [
        (
            "m = (1 - beta1) * dW\nv = (1 - beta2) * dW**2\n"
            "answer = W - lr * m / (np.sqrt(v) + eps)",
            "known_mistake",
            "bias correction",
        ),
        (
            "m = dW\nv = dW**2\nanswer = W - lr * m / (v + eps)",
            "known_mistake",
            "square root",
        ),
        (
            "m = dW\nv = dW**2\nanswer = W + lr * m / (np.sqrt(v) + eps)",
            "sign",
            "uphill",
        ),
    ],
    "dual_number": [
        ("answer = np.exp(x) * (1 - np.tanh(x) ** 2)", "known_mistake", "product rule"),
        ("answer = np.exp(x) * np.tanh(x)", "known_mistake", "both"),
    ],
    "he_std": [
        ("answer = 2 / np.array(sizes[:-1])", "known_mistake", "square root"),
        ("answer = np.sqrt(2 / np.array(sizes[1:]))", "known_mistake", "n_in"),
        ("answer = 1 / np.sqrt(np.array(sizes[:-1]))", "known_mistake", "factor 2"),
    ],
    "dead_relus": [
        ("answer = (Z1 <= 0).mean()", "known_mistake", "count rows"),
        ("answer = float(np.all(Z1 <= 0, axis=1).sum())", "known_mistake", "fraction"),
        ("answer = np.any(Z1 <= 0, axis=1).mean()", "known_mistake", "every example"),
    ],
}

NAMES = sorted(EXERCISES)
CASES = [(name, *case) for name in NAMES for case in WRONG.get(name, [])]


def run(code: str, name: str) -> object:
    """What ``answer`` is after ``code`` runs on the givens of exercise ``name``."""
    namespace = givens(name)
    exec(code, namespace)
    return namespace["answer"]


def test_every_exercise_has_at_least_two_wrong_answers_here():
    assert set(WRONG) == set(EXERCISES)
    assert all(len(WRONG[name]) >= 2 for name in EXERCISES)


@pytest.mark.parametrize("name", NAMES)
def test_the_worked_solution_is_right(name, capsys):
    answer = run(EXERCISES[name].solution, name)
    result = feedback(name, answer)
    assert result.status == "right", result.text
    check(name, answer)
    assert capsys.readouterr().out.startswith("Right: ")


@pytest.mark.parametrize(("name", "code", "kind", "words"), CASES)
def test_a_usual_wrong_answer_gets_its_diagnosis(name, code, kind, words):
    result = feedback(name, run(code, name))
    assert result.status == "wrong"
    assert result.kinds and result.kinds[0] == kind, result.text
    assert "Likely bug: " in result.text
    assert words.lower() in result.diagnoses[0].message.lower(), result.text
    assert f'solution("{name}")' in result.text


@pytest.mark.parametrize("name", NAMES)
def test_an_unanswered_stub_waits_without_failing(name, capsys):
    result = feedback(name, None)
    assert result.status == "unanswered"
    check(name, None)
    out = capsys.readouterr().out
    assert out.startswith("Not answered yet: replace None with your ")
    assert EXERCISES[name].what in out


@pytest.mark.parametrize("name", NAMES)
def test_a_wrong_shape_is_named(name):
    right = np.asarray(run(EXERCISES[name].solution, name), dtype=np.float64)
    wrong = np.concatenate([right.reshape(-1), [1.0]])
    result = feedback(name, wrong)
    assert result.status == "wrong" and result.problem == "wrong_shape", result.text
    assert f"expected {right.shape}, got {wrong.shape}" in result.text


@pytest.mark.parametrize("name", NAMES)
def test_numbers_of_a_smaller_type_are_named(name):
    right = np.asarray(run(EXERCISES[name].solution, name), dtype=np.float64)
    result = feedback(name, right.astype(np.float32))
    assert result.status == "wrong" and result.problem == "wrong_dtype", result.text
    assert "float32" in result.text and "float64" in result.text


@pytest.mark.parametrize("name", NAMES)
def test_an_answer_that_is_not_numbers_is_named(name):
    result = feedback(name, "0.5")
    assert result.status == "wrong" and result.problem == "wrong_type", result.text
    assert "str" in result.text


def test_an_answer_to_other_givens_is_wrong():
    """The check computes from its own copy of the givens: a student who changed a given and
    answered for the new value has not answered the exercise."""
    namespace = givens("chain_rule")
    namespace["x"] = 0.5
    exec(EXERCISES["chain_rule"].solution, namespace)
    assert feedback("chain_rule", namespace["answer"]).status == "wrong"


def test_the_references_agree_with_finite_differences():
    """An oracle outside the references: centred differences of the exercises' functions."""
    from course.gradcheck import numerical_gradient

    g = givens("chain_rule")
    x = np.array([g["x"]])
    numeric = numerical_gradient(lambda: float(np.tanh(x[0] ** 3)), x)[0]
    assert feedback("chain_rule", numeric).status == "right"
    g = givens("cost_gradient")
    theta = g["theta"].copy()
    cost = lambda: 0.5 * float(np.sum((np.tanh(g["A"] @ theta) - g["t"]) ** 2))  # noqa: E731
    assert feedback("cost_gradient", numerical_gradient(cost, theta)).status == "right"
    g = givens("wx_gradient")
    M = g["M"].copy()
    numeric = numerical_gradient(lambda: float(np.sum((M @ g["u"]) ** 2)), M)
    assert feedback("wx_gradient", numeric).status == "right"


def test_solution_prints_the_worked_answer(capsys):
    solution("stable_softmax")
    assert capsys.readouterr().out.strip() == EXERCISES["stable_softmax"].solution
    with pytest.raises(KeyError, match="there is no exercise 'softmax'"):
        solution("softmax")


def test_overflow_in_a_naive_softmax_is_named():
    with np.errstate(over="ignore", invalid="ignore"):
        naive = run("answer = np.exp(Z) / np.exp(Z).sum(axis=0)", "stable_softmax")
    result = feedback("stable_softmax", naive)
    assert result.problem == "not_finite" and "overflow" in result.text
