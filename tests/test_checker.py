"""The trusted side of a test (``autograder/checker.py``): a grade cell's source runs in the grader
and reaches the student's functions only through plain-data requests.

The kernel is simulated in this process: a namespace that holds a "notebook" (student code run
with a file name of its own) and an :class:`autograder.answers.Server` over it, which answers the
JSON text that :class:`checker.Link` sends, exactly as it does inside a real kernel. Every test
cell then runs through :func:`checker.run_test` and is judged by its outputs, as nbgrader judges
them: an error output fails the cell.

Checked: a passing test, a failing check (its message, and no file of the grader's in the
traceback), a missing name, the student's exceptions (their type, their innermost function, their
traceback), the "not written yet" message of ``course.checks.call_student``, warnings that a test
turns into errors, arguments changed in place and random generators copied back; then answers a
hostile kernel could give instead (a fault, forged or random JSON, no text at all, a timeout),
each of which must fail the test, never pass it.
"""

from __future__ import annotations

import json
import sys
import textwrap
import types
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograder import answers, checker, wire

REPO = Path(__file__).resolve().parent.parent

NOTEBOOK = textwrap.dedent(
    """
    import numpy as np
    import warnings

    def double(x):
        return 2 * x

    def wrong_double(x):
        return 8 * x

    def forward(x):
        # YOUR CODE HERE
        raise NotImplementedError()

    def helper(x):
        raise NotImplementedError()

    def uses_helper(x):
        return helper(x) + 1

    def inner(x):
        return {"a": 1}[x]

    def outer(x):
        return inner(x)

    class StudentProblem(Exception):
        pass

    def raises_own(x):
        raise StudentProblem("my own exception")

    def exits(x):
        raise SystemExit(3)

    def interrupts(x):
        raise KeyboardInterrupt

    def hot(z):
        import numpy  # the notebook's np is redefined below

        return numpy.exp(z)

    def warns(x):
        warnings.warn("careful", RuntimeWarning)
        return x

    def update(params, grads, lr):
        params["W"] -= lr * grads["W"]
        params["b"] -= lr * grads["b"]
        params["steps"] = params.get("steps", 0) + 1

    def fill(buffer):
        buffer[:] = 7.0

    def append(items):
        items.append(len(items))

    def draw(rng, n):
        return rng.normal(size=n)

    def returns_object(x):
        return object()

    def returns_float_subclass(x):
        class F(float):
            pass
        return F(x)

    class Model:
        pass

    model = Model()
    values = {"w": np.arange(3.0), "n": 2**70}
    np = "the notebook's own np"
    """
)

#: the assignment's locked setup cell (imports only run in the grader)
SETUP = "import numpy as np\nfrom course import checks\nimport math"


class FakeKernel:
    """The kernel's side in this process: the notebook's namespace and the answering server."""

    def __init__(self) -> None:
        self.namespace: dict = {"__name__": "__main__"}
        exec(compile(NOTEBOOK, "<notebook cell>", "exec"), self.namespace)  # noqa: S102
        self.server = answers.Server(self.namespace)
        self.requests: list[str] = []

    def send(self, text: str, timeout: float) -> str:
        assert type(text) is str and timeout > 0
        self.requests.append(text)
        return self.server.handle(text)


@pytest.fixture
def kernel() -> FakeKernel:
    return FakeKernel()


def run(source: str, send, timeout: float = 5.0) -> list[dict]:
    link = checker.Link(send, timeout)
    return checker.run_test(textwrap.dedent(source), checker.preamble([SETUP]), link)


def error(outputs: list[dict]) -> dict:
    """The error output that fails the cell (it must have one)."""
    errors = [o for o in outputs if o["output_type"] == "error"]
    assert errors, f"the test passed: {outputs}"
    return errors[-1]


def traceback_text(out: dict) -> str:
    return "\n".join(out["traceback"])


def assert_no_grader_files(out: dict) -> None:
    text = traceback_text(out) + out["evalue"]
    for word in ("checker.py", "answers.py", "wire.py", "checks.py", str(REPO), "site-packages"):
        assert word not in text, (word, text)


# -- verdicts -------------------------------------------------------------------------------------


def test_a_passing_test_has_no_error(kernel: FakeKernel) -> None:
    outputs = run(
        """
        x = np.arange(3.0)
        checks.check_array("y", double(x), 2 * x)
        print("checked")
        """,
        kernel.send,
    )
    assert outputs == [{"output_type": "stream", "name": "stdout", "text": "checked\n"}]


def test_the_last_expression_is_shown_as_a_result(kernel: FakeKernel) -> None:
    outputs = run("double(np.float64(2.5))", kernel.send)
    assert outputs[-1]["output_type"] == "execute_result"
    assert outputs[-1]["data"]["text/plain"] in ("5.0", "np.float64(5.0)")


def test_a_failing_check_fails_with_its_message_and_no_grader_files(kernel: FakeKernel) -> None:
    outputs = run(
        """
        print("before")
        x = np.array([1.0, 2.0])
        checks.check_array("y", wrong_double(x), double(x))
        print("after")
        """,
        kernel.send,
    )
    assert outputs[0] == {"output_type": "stream", "name": "stdout", "text": "before\n"}
    out = error(outputs)
    assert out["ename"] == "AssertionError"
    assert out["evalue"].startswith("Your y is wrong") and "expected 4, got 16" in out["evalue"]
    assert "after" not in json.dumps(outputs)
    assert_no_grader_files(out)


def test_a_plain_assert_of_the_test(kernel: FakeKernel) -> None:
    out = error(run("assert double(1) == 3, 'double(1) should be 3'", kernel.send))
    assert (out["ename"], out["evalue"]) == ("AssertionError", "double(1) should be 3")
    assert_no_grader_files(out)


def test_a_missing_name_is_a_name_error(kernel: FakeKernel) -> None:
    out = error(run("backward(1.0)", kernel.send))
    assert (out["ename"], out["evalue"]) == ("NameError", "name 'backward' is not defined")


def test_the_graders_modules_come_first(kernel: FakeKernel) -> None:
    """The notebook's ``np`` is a string: the test still uses the grader's numpy and checks."""
    outputs = run("checks.check_array('v', values['w'], np.arange(3.0))", kernel.send)
    assert outputs == []
    assert not any('"np"' in r or '"checks"' in r for r in kernel.requests)


def test_the_test_source_never_reaches_the_kernel(kernel: FakeKernel) -> None:
    run(
        """
        SECRET = 123.456789
        expected = double(np.array([SECRET]))
        checks.check_array("y", double(np.array([1.0])), np.array([2.0]))
        """,
        kernel.send,
    )
    sent = "\n".join(kernel.requests)
    assert "checks" not in sent and "SECRET" not in sent and "expected" not in sent
    ops = [json.loads(r)["op"] for r in kernel.requests]
    assert set(ops) == {"lookup", "call"}


def test_values_of_the_notebook_arrive_as_data(kernel: FakeKernel) -> None:
    outputs = run(
        "print(type(values['w']).__name__, values['n'], type(model).__name__)", kernel.send
    )
    assert outputs[0]["text"] == "ndarray 1180591620717411303424 Model\n"


# -- the student's exceptions ---------------------------------------------------------------------


def test_a_student_exception_is_raised_with_its_type_and_innermost_function(
    kernel: FakeKernel,
) -> None:
    link = checker.Link(kernel.send, 5.0)
    outer = link.lookup("outer")
    with pytest.raises(KeyError) as caught:
        outer("b")
    assert type(caught.value) is KeyError
    assert caught.value.innermost == "inner"
    assert "<notebook cell>" in caught.value.student_traceback
    assert "in inner" in caught.value.student_traceback
    out = error(run("outer('b')", kernel.send))
    assert out["ename"] == "KeyError" and "'b'" in out["evalue"]
    assert "in outer" in traceback_text(out) and "in inner" in traceback_text(out)
    assert_no_grader_files(out)


def test_a_students_frames_name_their_cells_as_ipython_does(
    kernel: FakeKernel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a real kernel a cell's code has a file name of IPython's, which it shows as
    ``Cell In[n]``; the message is said once, after the frames (the grader adds it)."""

    class Compiler:
        def format_code_name(self, name: str) -> tuple[str, str] | None:
            return ("Cell", "In[4]") if name == "<notebook cell>" else None

    shell = types.SimpleNamespace(compile=Compiler())
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    out = error(run("outer('b')", kernel.send))
    text = traceback_text(out)
    assert "Cell In[4], line" in text and ", in inner" in text
    assert "<notebook cell>" not in text
    assert [line for line in text.splitlines() if "KeyError" in line] == [
        "\x1b[0;31mKeyError\x1b[0m: 'b'"
    ]


def test_an_exception_class_of_the_notebook_is_not_the_graders(kernel: FakeKernel) -> None:
    link = checker.Link(kernel.send, 5.0)
    with pytest.raises(checker.StudentError) as caught:
        link.lookup("raises_own")(1)
    assert type(caught.value).__name__ == "StudentProblem"
    out = error(run("raises_own(1)", kernel.send))
    assert (out["ename"], out["evalue"]) == ("StudentProblem", "my own exception")


@pytest.mark.parametrize("name", ["exits", "interrupts"])
def test_system_exit_and_keyboard_interrupt_of_the_student_fail_the_test(
    kernel: FakeKernel, name: str
) -> None:
    out = error(run(f"{name}(1)", kernel.send))  # run_test itself returns
    assert out["ename"] in ("SystemExit", "KeyboardInterrupt")


def test_an_unwritten_function_gets_the_not_written_message(kernel: FakeKernel) -> None:
    out = error(run("checks.call_student(forward, 1.0)", kernel.send))
    assert out["ename"] == "AssertionError"
    assert out["evalue"].startswith("You have not written forward yet: it still raises")
    out = error(run("checks.call_student(uses_helper, 1.0)", kernel.send))
    assert out["evalue"].startswith("You have not written helper (used by uses_helper) yet")
    out = error(run("forward(1.0)", kernel.send))  # without call_student: the plain error
    assert out["ename"] == "NotImplementedError"


# -- warnings, in-place changes and random generators --------------------------------------------


def test_warnings_are_emitted_again_in_the_test(kernel: FakeKernel) -> None:
    strict = """
        import warnings
        warnings.simplefilter("error", RuntimeWarning)
        hot(np.array([1000.0]))
        """
    out = error(run(strict, kernel.send))
    assert (out["ename"], out["evalue"]) == ("RuntimeWarning", "overflow encountered in exp")
    out = error(run(strict.replace("hot(np.array([1000.0]))", "warns(1)"), kernel.send))
    assert (out["ename"], out["evalue"]) == ("RuntimeWarning", "careful")
    lenient = run("hot(np.array([1000.0]))", kernel.send)  # the default: shown, not an error
    assert lenient[-1]["output_type"] == "execute_result"


def test_numpy_error_settings_of_the_test_apply_in_the_kernel(kernel: FakeKernel) -> None:
    out = error(run("np.seterr(over='raise')\nhot(np.array([1000.0]))", kernel.send))
    np.seterr(over="warn")
    assert out["ename"] == "FloatingPointError"


def test_arguments_changed_in_place_are_copied_back(kernel: FakeKernel) -> None:
    outputs = run(
        """
        W, b = np.ones((2, 2)), np.zeros(2)
        params = {"W": W, "b": b}
        update(params, {"W": np.full((2, 2), 10.0), "b": np.array([1.0, -1.0])}, lr=0.1)
        assert params["W"] is W and params["b"] is b
        assert np.allclose(W, 0.0) and np.allclose(b, [-0.1, 0.1]), (W, b)
        assert params["steps"] == 1
        buffer = np.zeros(3)
        fill(buffer=buffer)
        assert list(buffer) == [7.0] * 3
        items = [1]
        append(items)
        assert items == [1, 1]
        print("ok")
        """,
        kernel.send,
    )
    assert outputs == [{"output_type": "stream", "name": "stdout", "text": "ok\n"}]


def test_a_random_generator_moves_on_as_if_the_call_were_local(kernel: FakeKernel) -> None:
    outputs = run(
        """
        rng, same = np.random.default_rng(7), np.random.default_rng(7)
        got = draw(rng, 3)
        assert np.array_equal(got, same.normal(size=3))
        assert rng.normal() == same.normal()
        print("ok")
        """,
        kernel.send,
    )
    assert outputs[-1]["text"] == "ok\n"


def test_results_that_are_not_data_fail_with_a_plain_message(kernel: FakeKernel) -> None:
    for call, word in [("returns_object(1)", "object"), ("returns_float_subclass(1.0)", "F")]:
        out = error(run(call, kernel.send))
        assert out["ename"] == "BadAnswer"
        assert f"returned a {word}" in out["evalue"] and "Return plain values" in out["evalue"]


def test_arguments_that_are_not_data_are_not_sent(kernel: FakeKernel) -> None:
    out = error(run("double(object())", kernel.send))
    assert out["ename"] == "TypeError" and "cannot pass argument 1" in out["evalue"]
    assert not any('"call"' in r for r in kernel.requests)


# -- hostile kernels -----------------------------------------------------------------------------

TESTS = {
    "a value": "checks.check_array('w', values['w'], np.array([0.0, 1.0, 2.0]))",
    "a call": "checks.check_array('y', double(np.array([1.0, 2.0])), np.array([2.0, 4.0]))",
}


def forged(kernel: FakeKernel, reply, on: str = "call"):
    """A send that answers honestly, but ``reply`` for the requests of kind ``on``."""

    def send(text: str, timeout: float):
        if json.loads(text)["op"] == on or on == "any":
            return reply
        return kernel.send(text, timeout)

    return send


def test_the_honest_kernel_passes_both_tests(kernel: FakeKernel) -> None:
    for source in TESTS.values():
        assert run(source, kernel.send) == []


ARRAY_1 = {"$a": ["float64", [1], "AAAAAAAA8D8="]}
BAD_REPLIES = {
    "a fault": json.dumps({"fault": "the server broke"}),
    "not JSON": "<html>",
    "JSON but a list": "[1, 2]",
    "JSON but a number": "42",
    "empty": "",
    "bytes": b'{"result": 1.0}',
    "None": None,
    "a dict object": {"result": 1.0},
    "an int": 42,
    "a str subclass": type("S", (str,), {})('{"kind": "missing"}'),
    "a huge text": "x" * (wire.MAX_TEXT + 1),
    "deeply nested JSON": "[" * 100_000 + "]" * 100_000,
    "a malformed value": json.dumps({"kind": "value", "value": {"$a": ["object", [1], ""]}}),
    "a result of a wrong shape": json.dumps({"result": ARRAY_1, "after": {}, "warnings": []}),
    "an unknown tag": json.dumps({"result": {"$pickle": "x"}}),
    "a function with a bad handle": json.dumps({"kind": "function", "handle": "1", "name": "f"}),
    "a function named like code": json.dumps(
        {"kind": "function", "handle": 1, "name": "os.system('x')"}
    ),
    "an unknown kind": json.dumps({"kind": "trust me"}),
    "raised: not a dict": json.dumps({"raised": "x"}),
    "raised: KeyboardInterrupt": json.dumps({"raised": {"type": "KeyboardInterrupt"}}),
    "raised: SystemExit": json.dumps({"raised": {"type": "SystemExit", "message": "0"}}),
    "raised: GeneratorExit": json.dumps({"raised": {"type": "GeneratorExit"}}),
    "raised: a class name with code": json.dumps({"raised": {"type": "os.system('x')"}}),
    "raised: an exception class with other arguments": json.dumps(
        {"raised": {"type": "UnicodeDecodeError", "message": "x"}}
    ),
    "unsupported result": json.dumps({"unsupported": ["the result", "Evil"]}),
    "warnings and no result": json.dumps(
        {"warnings": [["KeyboardInterrupt", "x"], ["SystemExit", "y"], [1, 2], "z"]}
    ),
    "after of other arguments": json.dumps(
        {"after": {"0": ARRAY_1, "99": 1, "x": {"$q": 1}, "-1": 2}, "result": None}
    ),
}


@pytest.mark.parametrize("reply", BAD_REPLIES.values(), ids=BAD_REPLIES.keys())
@pytest.mark.parametrize("test", TESTS.values(), ids=TESTS.keys())
def test_a_bad_reply_fails_the_test(kernel: FakeKernel, test: str, reply) -> None:
    on = "any" if test == TESTS["a value"] else "call"
    out = error(run(test, forged(kernel, reply, on)))
    assert_no_grader_files(out)


def test_a_fault_and_an_unreadable_reply_say_so(kernel: FakeKernel) -> None:
    out = error(run(TESTS["a call"], forged(kernel, BAD_REPLIES["a fault"])))
    assert (out["ename"], out["evalue"]) == (
        "BadAnswer",
        "the kernel could not answer: the server broke",
    )
    for reply in ("<html>", None, b"{}", "[1]"):
        out = error(run(TESTS["a call"], forged(kernel, reply)))
        assert (out["ename"], out["evalue"]) == (
            "BadAnswer",
            "the kernel's answer could not be read",
        )


def test_a_timeout_fails_the_test_and_later_tests_go_on(kernel: FakeKernel) -> None:
    def slow(text: str, timeout: float) -> str:
        if json.loads(text)["op"] == "call":
            raise checker.CallTimeout(f"a function of yours did not return within {timeout:g} s")
        return kernel.send(text, timeout)

    out = error(run(TESTS["a call"], slow, timeout=2.0))
    assert (out["ename"], out["evalue"]) == (
        "CallTimeout",
        "a function of yours did not return within 2 s",
    )
    assert run(TESTS["a call"], kernel.send) == []


def test_a_dead_kernel_stops_the_notebook(kernel: FakeKernel) -> None:
    def dead(text: str, timeout: float) -> str:
        raise checker.KernelGone("it was killed (SIGKILL)")

    with pytest.raises(checker.KernelGone):
        run(TESTS["a call"], dead)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(["$a", "$s", "$d", "$t", "$g", "float64", "object", "KeyboardInterrupt"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["result", "after", "raised", "warnings", "unsupported", "kind", "value", "handle"]
                + ["name", "type", "message", "innermost", "fault", "$a", "$d", "$t", "$g", "0"]
            )
            | st.text(max_size=4),
            inner,
            max_size=5,
        )
    ),
    max_leaves=25,
)


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(reply=json_values)
def test_random_json_replies_never_pass(kernel: FakeKernel, reply) -> None:
    text = json.dumps(reply)
    for test in TESTS.values():
        on = "any" if test == TESTS["a value"] else "call"
        error(run(test, forged(kernel, text, on)))
