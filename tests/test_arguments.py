"""Tests of course.arguments: the rule (TypeError for the wrong kind, ValueError for a wrong value)
and its helpers, each of whose checks can fail, with messages that name the argument and the fix."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")

import ipywidgets as W  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from course import (  # noqa: E402
    activations,
    data,
    gradcheck,
    losses,
    optim,
    playground,
    train,
    vanishing,
    widgets,
)
from course import arguments as A  # noqa: E402
from course.mlp import MLP  # noqa: E402

# --------------------------------------------------------------------------------------------
# real
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0.5, 2, np.float32(0.25), np.int64(3), np.float64(1e-3)])
def test_real_accepts_python_and_numpy_numbers(value: object) -> None:
    out = A.real("lr", value, greater_than=0)
    assert type(out) is float and out == float(value)


@pytest.mark.parametrize("value", [True, False, "0.1", None, [0.1], np.array([0.1]), 1j])
def test_real_refuses_what_is_not_a_number_with_a_type_error(value: object) -> None:
    with pytest.raises(TypeError, match=r"^lr must be a positive number, got .* of type \w+"):
        A.real("lr", value, greater_than=0, example=0.1)


def test_a_bool_is_not_a_number() -> None:
    with pytest.raises(TypeError, match="got True of type bool: pass e.g. lr=0.1$"):
        A.real("lr", True, greater_than=0, example=0.1)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -np.inf, np.float64("nan")])
def test_real_refuses_what_is_not_finite_with_a_value_error(value: object) -> None:
    with pytest.raises(ValueError, match=r"^lr must be a finite number, got -?(nan|inf)"):
        A.real("lr", value, greater_than=0, example=0.1)


@pytest.mark.parametrize(
    ("bounds", "bad", "good", "words"),
    [
        ({"greater_than": 0}, 0, 1e-9, "a positive number"),
        ({"at_least": 0}, -1e-9, 0, "a non-negative number"),
        ({"at_least": 0, "less_than": 1}, 1, 0, r"a number in the interval \[0, 1\)"),
        ({"greater_than": 0, "at_most": 1}, 0, 1, r"a number in the interval \(0, 1\]"),
        ({"greater_than": 0, "less_than": 1}, 1.0, 0.5, r"a number in the interval \(0, 1\)"),
        ({"at_least": 2.5}, 2, 2.5, "a number >= 2.5"),
        ({"greater_than": -1}, -1, 0, "a number > -1"),
        ({"at_most": 3}, 3.5, 3, "a number <= 3"),
        ({"less_than": 3}, 3, 2, "a number < 3"),
    ],
)
def test_real_bounds(bounds: dict, bad: float, good: float, words: str) -> None:
    assert A.real("x", good, **bounds) == good
    with pytest.raises(ValueError, match=rf"^x must be {words}, got {bad}: pass e\.g\. x=7$"):
        A.real("x", bad, example=7, **bounds)


def test_the_error_message_example() -> None:
    with pytest.raises(ValueError) as info:
        A.real("lr", -0.1, greater_than=0, example=0.1)
    assert str(info.value) == "lr must be a positive number, got -0.1: pass e.g. lr=0.1"


def test_fix_and_caller_are_part_of_the_message() -> None:
    with pytest.raises(ValueError) as info:
        A.real("eps", 0.0, greater_than=0, fix="pass a small number such as eps=1e-8", caller="f")
    assert str(info.value) == (
        "f: eps must be a positive number, got 0.0: pass a small number such as eps=1e-8"
    )
    with pytest.raises(ValueError, match="got -1: pass a non-negative number$"):
        A.real("k", -1, at_least=0)  # no example, no fix: the message still says what to pass


# --------------------------------------------------------------------------------------------
# integer
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [3, np.int64(3), np.int32(3), np.uint8(3)])
def test_integer_accepts_python_and_numpy_integers(value: object) -> None:
    out = A.integer("m", value, at_least=1)
    assert type(out) is int and out == 3


@pytest.mark.parametrize("value", [True, 2.5, 10.0, "3", None, np.float64(3.0)])
def test_integer_refuses_bools_and_floats_with_a_type_error(value: object) -> None:
    with pytest.raises(TypeError, match=r"^m must be a positive integer, got .* of type"):
        A.integer("m", value, at_least=1, example=10)


def test_a_whole_float_is_told_to_become_an_int() -> None:
    with pytest.raises(TypeError, match=r"got 10\.0 of type float: .*e\.g\. m=10$"):
        A.integer("m", 10.0, at_least=1)


@pytest.mark.parametrize(
    ("bounds", "bad", "words"),
    [
        ({"at_least": 1}, 0, "a positive integer"),
        ({"at_least": 0}, -1, "a non-negative integer"),
        ({"at_least": 2}, 1, "an integer >= 2"),
        ({"at_least": 1, "at_most": 8}, 9, "an integer from 1 to 8"),
        ({"at_most": 8}, 9, "an integer <= 8"),
    ],
)
def test_integer_bounds(bounds: dict, bad: int, words: str) -> None:
    with pytest.raises(ValueError, match=rf"^n must be {words}, got {bad}: pass e\.g\. n=4$"):
        A.integer("n", bad, example=4, **bounds)
    assert A.integer("n", 4, **bounds) == 4


# --------------------------------------------------------------------------------------------
# choice
# --------------------------------------------------------------------------------------------


def test_choice_returns_the_listed_name_or_the_dict_value() -> None:
    assert A.choice("dataset", " Moons ", ("moons", "circles")) == "moons"
    assert A.choice("optimizer", "ADAM", {"sgd": 1, "adam": 2}) == 2


def test_an_unknown_name_is_a_value_error_listing_the_choices() -> None:
    with pytest.raises(ValueError) as info:
        A.choice("name", "adamw", ("sgd", "adam"), caller="make_optimizer")
    assert str(info.value) == (
        "make_optimizer: name must be one of 'sgd', 'adam', got 'adamw': pass e.g. name='sgd'"
    )


@pytest.mark.parametrize("value", [3, None, b"sgd", ["sgd"], True])
def test_a_name_that_is_not_a_string_is_a_type_error(value: object) -> None:
    with pytest.raises(TypeError, match=r"^name must be a string, one of 'sgd', 'adam', got .*"):
        A.choice("name", value, ("sgd", "adam"), example="adam")


# --------------------------------------------------------------------------------------------
# array
# --------------------------------------------------------------------------------------------


def test_array_converts_and_keeps_numbers() -> None:
    a = A.array("X", [[1, 2], [3, 4]], ndim=2, dtype=np.float64)
    assert a.dtype == np.float64 and a.shape == (2, 2)
    x = np.arange(3.0)
    assert A.array("x", x) is x  # no copy when nothing changes
    assert A.array("mask", [True, False]).dtype == bool


@pytest.mark.parametrize(
    ("value", "got"),
    [
        (["a", "b"], r"\['a', 'b'\] of type list"),
        (np.array(["a"]), "an array of dtype <U1"),
        (None, "None of type NoneType"),
        ([1 + 2j], r"\[\(1\+2j\)\] of type list"),
        ({"a": 1}, "{'a': 1} of type dict"),
    ],
)
def test_an_array_of_non_numbers_is_a_type_error(value: object, got: str) -> None:
    with pytest.raises(TypeError, match=rf"^X must be an array of real numbers, got {got}"):
        A.array("X", value)


def test_a_ragged_list_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"X must be an array of a regular shape.*same number"):
        A.array("X", [[1, 2], [3]])


def test_a_wrong_number_of_dimensions_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"^X must be a 2-D array, got shape \(3,\): reshape it$"):
        A.array("X", [1, 2, 3], ndim=2)
    with pytest.raises(ValueError, match=r"^f: y must be a 1-D or 2-D array, got shape \(\)"):
        A.array("y", 3.0, ndim=(1, 2), caller="f")
    with pytest.raises(ValueError) as info:
        A.array("X", [1, 2], ndim=2, what="a data matrix (n_0, m)", fix="pass X.reshape(1, -1)")
    assert str(info.value) == (
        "X must be a data matrix (n_0, m), got shape (2,): pass X.reshape(1, -1)"
    )


def test_non_finite_entries_are_counted_and_located() -> None:
    X = np.zeros((2, 3))
    X[1, 2], X[0, 1] = np.inf, np.nan
    with pytest.raises(ValueError, match=r"^X must hold finite.* 2 non-finite .* at \(0, 1\)"):
        A.array("X", X)
    assert A.array("X", X, finite=False) is X


# --------------------------------------------------------------------------------------------
# sequence, instance
# --------------------------------------------------------------------------------------------


def test_sequence() -> None:
    assert A.sequence("z_range", (-6, 6), length=2) == [-6, 6]
    assert A.sequence("sizes", np.array([2, 3])) == [2, 3]
    assert A.sequence("sizes", range(3), non_empty=True) == [0, 1, 2]
    for wrong in ("relu", 3, {"a": 1}, None):
        with pytest.raises(TypeError, match="names must be a list or tuple, got .* of type"):
            A.sequence("names", wrong)
    with pytest.raises(ValueError, match=r"names must be a list or tuple with at least one item"):
        A.sequence("names", [], non_empty=True)
    with pytest.raises(ValueError, match=r"z_range must be a list or tuple of 2 items, got \(1,\)"):
        A.sequence("z_range", (1,), length=2)


def test_instance() -> None:
    assert A.instance("n", 3, int, what="an int") == 3
    with pytest.raises(TypeError, match="^net must be an MLP, got 'net' of type str: build one$"):
        A.instance("net", "net", int, what="an MLP", fix="build one")
    assert A.instance("f", len, Callable, what="a function") is len
    with pytest.raises(TypeError, match="^f must be a function, got 3 of type int"):
        A.instance("f", 3, Callable, what="a function")


def test_numpy_scalars_are_shown_as_plain_numbers() -> None:
    with pytest.raises(ValueError, match=r"got -1\.5: "):
        A.real("x", np.float64(-1.5), at_least=0)
    with pytest.raises(TypeError, match=r"got True of type bool"):
        A.integer("n", np.True_)


def test_long_values_are_shortened_in_messages() -> None:
    with pytest.raises(TypeError) as info:
        A.real("x", "a" * 500)
    assert len(str(info.value)) < 120 and "..." in str(info.value)


# --------------------------------------------------------------------------------------------
# the survey: every checked public function of the converted modules follows the rule
# --------------------------------------------------------------------------------------------

MODULES = (activations, losses, optim, data, gradcheck, train, vanishing, playground, widgets)

#: public functions and classes that check nothing, and why
UNCHECKED = {
    **{
        f"activations.{name}": "an element-wise function on the hot path of every layer"
        for name in activations.__all__
        if name not in ("Activation", "ACTIVATIONS", "get_activation")
    },
    **{
        f"losses.{name}": "a loss or its gradient on the hot path of every step"
        for name in losses.__all__
        if name not in ("OutputLoss", "OUTPUT_LOSSES", "get_output_loss")
    },
    "activations.Activation": "a record of a function and its derivative, built by the module",
    "losses.OutputLoss": "a record of an output and a loss, built by get_output_loss",
    "optim.Optimizer": "an abstract base class: its checks are those of the rules below",
    "optim.Schedule": "an abstract base class: its checks are those of the schedules below",
    "data.xor": "takes no argument",
    "data.load_digits": "scale is a flag: any value is read as true or false",
    "gradcheck.GradReport": "a record of a comparison, built by compare",
    "train.History": "a record the training loop fills in",
    "widgets.show": "displays whatever it is given",
}

_X = np.array([[0.0, 1.0, 2.0, 3.0]])
_w = np.zeros(2)


def _net() -> MLP:
    return MLP([1, 2, 1], output="identity")


def _square() -> float:
    return float(np.sum(_w**2))


#: name -> (a call with an argument of the wrong kind, a call with a wrong value of the right kind)
SURVEY: dict[str, tuple[Callable[[], object], Callable[[], object] | None]] = {
    "activations.get_activation": (
        lambda: activations.get_activation(3),
        lambda: activations.get_activation("relu6"),
    ),
    "losses.get_output_loss": (
        lambda: losses.get_output_loss(1, "bce"),
        lambda: losses.get_output_loss("sigmoid", "hinge"),
    ),
    "optim.SGD": (lambda: optim.SGD(lr="0.1"), lambda: optim.SGD(lr=-0.1)),
    "optim.Momentum": (lambda: optim.Momentum(0.1, beta="0.9"), lambda: optim.Momentum(0.1, 1.0)),
    "optim.Nesterov": (lambda: optim.Nesterov(lr=None), lambda: optim.Nesterov(0.1, beta=-0.1)),
    "optim.AdaGrad": (lambda: optim.AdaGrad(0.1, eps=True), lambda: optim.AdaGrad(0.1, eps=0.0)),
    "optim.RMSProp": (lambda: optim.RMSProp(0.1, rho="x"), lambda: optim.RMSProp(0.1, rho=1.5)),
    "optim.Adam": (lambda: optim.Adam(beta1=[0.9]), lambda: optim.Adam(beta2=1.0)),
    "optim.Optimizer.step": (
        lambda: optim.SGD(0.1).step([np.zeros(2)], [np.zeros(2)]),
        lambda: optim.SGD(0.1).step({"w": np.zeros(2)}, {"w": np.zeros(3)}),
    ),
    "optim.Optimizer.lr": (
        lambda: setattr(optim.SGD(0.1), "lr", "fast"),
        lambda: setattr(optim.SGD(0.1), "lr", -1.0),
    ),
    "optim.make_optimizer": (lambda: optim.make_optimizer(3), lambda: optim.make_optimizer("x")),
    "optim.constant": (lambda: optim.constant("0.1"), lambda: optim.constant(0)),
    "optim.step_decay": (
        lambda: optim.step_decay(0.1, every=2.5),
        lambda: optim.step_decay(0.1, drop=0.0),
    ),
    "optim.exponential": (
        lambda: optim.exponential(0.1, k="x"),
        lambda: optim.exponential(0.1, k=-1),
    ),
    "optim.inverse_time": (
        lambda: optim.inverse_time(0.1, k=None),
        lambda: optim.inverse_time(-0.1, k=1),
    ),
    "optim.cosine": (
        lambda: optim.cosine(0.1, total_epochs=10.0),
        lambda: optim.cosine(0.1, 10, lr_min=0.2),
    ),
    "optim.Schedule.__call__": (lambda: optim.constant(0.1)(1.5), lambda: optim.constant(0.1)(-1)),
    "optim.make_schedule": (
        lambda: optim.make_schedule(None, lr0=0.1),
        lambda: optim.make_schedule("linear", lr0=0.1),
    ),
    "data.BatchGenerator": (
        lambda: data.BatchGenerator(10, 2.5),
        lambda: data.BatchGenerator(10, 0),
    ),
    "data.minibatches": (
        lambda: data.minibatches([["a", "b"]], [0, 1], 1),
        lambda: data.minibatches([0.0, 1.0], [0, 1], 1),
    ),
    "data.one_hot": (lambda: data.one_hot(["a", "b"]), lambda: data.one_hot([0, 3], 2)),
    "data.logic_gate": (lambda: data.logic_gate(None), lambda: data.logic_gate("implies")),
    "data.moons": (lambda: data.moons(m=10.0), lambda: data.moons(m=1)),
    "data.circles": (lambda: data.circles(factor="big"), lambda: data.circles(factor=1.5)),
    "data.spirals": (lambda: data.spirals(classes=2.5), lambda: data.spirals(classes=1)),
    "data.blobs": (lambda: data.blobs(centers=2.5), lambda: data.blobs(centers=np.zeros((3, 2)))),
    "data.noisy_regression": (
        lambda: data.noisy_regression(noise="x"),
        lambda: data.noisy_regression(m=0),
    ),
    "data.regression_truth": (
        lambda: data.regression_truth("x"),
        lambda: data.regression_truth([[0.0], [0.5, 1.0]]),
    ),
    "data.train_test_split": (
        lambda: data.train_test_split(np.zeros((2, 10)), np.zeros(10), test_fraction="0.2"),
        lambda: data.train_test_split(np.zeros((2, 10)), np.zeros(10), test_fraction=1.5),
    ),
    "gradcheck.numerical_gradient": (
        lambda: gradcheck.numerical_gradient(_square, [0.0, 1.0]),
        lambda: gradcheck.numerical_gradient(_square, _w, h=0.0),
    ),
    "gradcheck.numerical_gradients": (
        lambda: gradcheck.numerical_gradients(_square, [_w]),
        lambda: gradcheck.numerical_gradients(_square, {"w": _w}, h=-1e-5),
    ),
    "gradcheck.numerical_jacobian": (
        lambda: gradcheck.numerical_jacobian(3, _w),
        lambda: gradcheck.numerical_jacobian(np.sin, _w, h=float("nan")),
    ),
    "gradcheck.relative_error": (
        lambda: gradcheck.relative_error(["a"], [1.0]),
        lambda: gradcheck.relative_error(np.zeros(3), np.zeros(2)),
    ),
    "gradcheck.compare": (
        lambda: gradcheck.compare(1, _w, _w),
        lambda: gradcheck.compare("w", _w, _w[:1]),
    ),
    "gradcheck.check_gradients": (
        lambda: gradcheck.check_gradients(_square, {"w": _w}, [_w]),
        lambda: gradcheck.check_gradients(_square, {"w": _w}, {}),
    ),
    "gradcheck.GradReport.ok": (
        lambda: gradcheck.compare("w", _w, _w).ok("1e-7"),
        lambda: gradcheck.compare("w", _w, _w).ok(-1.0),
    ),
    "train.train": (
        lambda: train.train(_net(), _X, _X, epochs=2.5),
        lambda: train.train(_net(), _X, _X, epochs=-1),
    ),
    "train.evaluate": (
        lambda: train.evaluate("net", _X, _X),
        lambda: train.evaluate(_net(), _X.T, _X),
    ),
    "vanishing.saturation_regions": (
        lambda: vanishing.saturation_regions(3),
        lambda: vanishing.saturation_regions("tanh", z_range=(3, -3)),
    ),
    "vanishing.plot_activation": (
        lambda: vanishing.plot_activation("relu", z_range="wide"),
        lambda: vanishing.plot_activation("relu6"),
    ),
    "vanishing.plot_all_activations": (
        lambda: vanishing.plot_all_activations(z_range=3),
        lambda: vanishing.plot_all_activations(z_range=(1, 1)),
    ),
    "vanishing.layer_gradient_norms": (
        lambda: vanishing.layer_gradient_norms("relu", 2.5),
        lambda: vanishing.layer_gradient_norms("relu", 0),
    ),
    "vanishing.plot_gradient_norms": (
        lambda: vanishing.plot_gradient_norms("relu", 3),
        lambda: vanishing.plot_gradient_norms([], 3),
    ),
    "vanishing.activation_study": (
        lambda: vanishing.activation_study("relu", "3"),
        lambda: vanishing.activation_study("relu", 1000),
    ),
    "vanishing.maxout_demo": (
        lambda: vanishing.maxout_demo(reference=3),
        lambda: vanishing.maxout_demo(w=()),
    ),
    "playground.make_dataset": (
        lambda: playground.make_dataset(3),
        lambda: playground.make_dataset("mnist"),
    ),
    "playground.Playground": (
        lambda: playground.Playground(units=2.5),
        lambda: playground.Playground(units=0),
    ),
    "playground.Playground.configure": (
        lambda: playground.Playground().configure(lr="fast"),
        lambda: playground.Playground().configure(lr=-1.0),
    ),
    "playground.Playground.step": (
        lambda: playground.Playground().step(1.5),
        lambda: playground.Playground().step(-1),
    ),
    "playground.Dashboard": (
        lambda: playground.Dashboard(interval="x"),
        lambda: playground.Dashboard(dpi=0),
    ),
    "playground.dashboard": (
        lambda: playground.dashboard("moons"),
        lambda: playground.dashboard(resolution=1),
    ),
    "widgets.figure_to_png": (
        lambda: widgets.figure_to_png("figure"),
        lambda: widgets.figure_to_png(Figure(), dpi=0),
    ),
    "widgets.interactive_figure": (
        lambda: widgets.interactive_figure(3, x=W.IntSlider()),
        lambda: widgets.interactive_figure(len),
    ),
    "widgets.FigureWidget": (lambda: widgets.FigureWidget(len, {"x": 3}), None),
}


def _public(module: object) -> list[str]:
    short = module.__name__.split(".")[-1]
    names = []
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            names.append(f"{short}.{name}")
    return names


def test_every_public_function_is_surveyed_or_says_why_not() -> None:
    public = {name for module in MODULES for name in _public(module)}
    missing = sorted(public - set(SURVEY) - set(UNCHECKED))
    assert not missing, f"add these to SURVEY (or to UNCHECKED, with the reason): {missing}"
    assert not set(SURVEY) & set(UNCHECKED)


@pytest.mark.parametrize("name", sorted(SURVEY))
def test_an_argument_of_the_wrong_kind_is_a_type_error(name: str) -> None:
    wrong_kind, _ = SURVEY[name]
    with pytest.raises(TypeError) as info:
        wrong_kind()
    assert " must " in str(info.value)  # the package's message, not a failure deeper down


@pytest.mark.parametrize("name", sorted(k for k, (_, wrong_value) in SURVEY.items() if wrong_value))
def test_a_wrong_value_of_the_right_kind_is_a_value_error(name: str) -> None:
    _, wrong_value = SURVEY[name]
    with pytest.raises(ValueError):
        wrong_value()
