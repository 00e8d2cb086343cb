"""Cases 17-19 of the integrity suite: the kernel against the grader's side of a test.

A test cell never runs in the student's kernel: the grader runs it, looks names up in the kernel
through ``__autograder__`` (:mod:`autograder.answers`) and reads what comes back as plain data
only (:mod:`autograder.wire`). So:

17. What a test computes is not in the kernel to find (frames, ``inspect.stack``, the garbage
    collector's objects, IPython's history), and results that are not plain data (objects equal
    to everything, subclasses of ``float`` and ``numpy.ndarray``) are refused, not compared.
18. What the kernel changes in itself (numpy's internals, builtins, IPython's transformers, event
    hooks and exception handler) changes only the student's own answers.
19. ``__autograder__.handle`` (what the grader's requests reach) faked: answers forged in every
    shape (values for functions, right-looking results, malformed arrays, arguments "changed" by
    a call, exceptions named like the grader's own, text that is not JSON, replies that never
    come), and replies sent ahead on the kernel's own shell socket for the requests it predicts:
    every test after it fails, none passes.

Each case is the correct submission with one part (or everything after one cell) made to fail
honestly: its honest score is 0 there and full marks elsewhere.
"""

from __future__ import annotations

from tests.integrity.case import Case, append, cell, correct, free_cell, full, zero_for

WRONG_MAX = '''def max_backward(a, b, upstream):
    """Wrong on purpose: the gradient goes to neither input."""
    return 0.0, 0.0
'''
WRONG_BACKWARD = '''def backward(graph):
    """Wrong on purpose: every gradient is 1."""
    return {node["name"]: 1.0 for node in graph}
'''

# -- 17. the tests' answers are not in the kernel ------------------------------------------------

FRAMES = '''import gc
import inspect
import sys

import numpy as np


class Anything:
    """Equal to everything, any number a check may ask for."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = object.__hash__

    def __float__(self):
        return 2.0

    def __int__(self):
        return 2

    __index__ = __int__

    def __array__(self, dtype=None, copy=None):
        return np.asarray(2.0)

    def __sub__(self, other):
        return 0.0

    __rsub__ = __add__ = __radd__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = __sub__

    def __abs__(self):
        return 0.0

    def __len__(self):
        return 2

    def __iter__(self):
        return iter((2.0, 0.0))

    def __getitem__(self, key):
        return 2.0

    def __repr__(self):
        return "2.0"


def looked_for_answers():
    """Whatever a test computes, if it were here: the callers' frames and every object."""
    seen = []
    frame = sys._getframe(1)
    while frame is not None:
        seen.append((frame.f_code.co_name, sorted(frame.f_locals)[:20]))
        frame = frame.f_back
    seen += [(f.function, f.filename) for f in inspect.stack()]
    for obj in gc.get_objects():
        if type(obj) is dict and ("expected" in obj or "reference" in obj):
            seen.append(("a dict of answers?", sorted(map(str, obj))[:10]))
    return seen


def max_backward(a, b, upstream):
    """Wrong: looks for the test's answer, then returns objects equal to anything."""
    print(looked_for_answers())
    return Anything(), Anything()
'''

SUBCLASSES = {
    "a_exp_reciprocal": '''import numpy as np


class Agreeable(np.ndarray):
    """An array equal to any other, whose every difference is 0."""

    def __eq__(self, other):
        return np.ones(np.shape(self), dtype=bool)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return np.zeros(np.shape(self))


class SureFloat(np.float64):
    def __eq__(self, other):
        return True

    __hash__ = np.float64.__hash__

    def __sub__(self, other):
        return 0.0


def exp_backward(a, upstream):
    """Wrong: 0, in an array subclass that agrees with any answer."""
    return np.zeros(()).view(Agreeable)


def reciprocal_backward(a, upstream):
    """Wrong: 0, as a numpy float subclass that agrees with any answer."""
    return SureFloat(0.0)
''',
    "c_direct_indirect": '''class SureFloat(float):
    """A float equal to any number, whose every difference is 0."""

    def __eq__(self, other):
        return True

    __hash__ = float.__hash__

    def __sub__(self, other):
        return SureFloat(0.0)

    __rsub__ = __sub__

    def __abs__(self):
        return SureFloat(0.0)

    def __lt__(self, other):
        return True

    __le__ = __lt__


def direct_indirect(u1):
    """Wrong: zeros that agree with any answer."""
    return SureFloat(0.0), SureFloat(0.0), SureFloat(0.0)
''',
}


def subclass_results():
    nb = correct()
    for answer, code in SUBCLASSES.items():
        cell(nb, answer).source = code
    return nb


def frame_walking():
    nb = correct()
    cell(nb, "a_max").source = FRAMES
    return nb


HISTORY = """
import json

ip = get_ipython()
print("In:", In)
print("_ih:", _ih)
print("Out:", Out, _oh)
hm = ip.history_manager
print("raw:", hm.input_hist_raw)
print("parsed:", hm.input_hist_parsed)
print("outputs:", hm.output_hist)
try:
    print("session:", list(hm.get_range(output=True)))
    print("tail:", list(hm.get_tail(1000, raw=True, output=True, include_latest=True)))
    print("search:", list(hm.search("*", raw=True, output=True)))
except Exception as exc:
    print("history database:", type(exc).__name__, exc)
print("names:", sorted(ip.user_ns))
print("the request of this cell:", ip.kernel.get_parent())
print("everything the grader asked:", json.dumps(asked)[:200000])
"""

RECORD_REQUESTS = """
# every request of the grader, kept (the inputs of the tests' calls among them)
asked = []
_real_handle = __autograder__.handle  # the grader asks through this object's method


class Recorder:
    def handle(self, text):
        asked.append(text)
        return _real_handle(text)


__autograder__.handle = Recorder().handle
"""


def read_history():
    nb = append(correct(), "a_add_mul", RECORD_REQUESTS)
    nb.cells.append(free_cell(HISTORY.strip("\n")))
    return nb


# -- 18. the kernel changes itself ---------------------------------------------------------------

PATCH_NUMPY_INTERNALS = """
import gc
import math

import numpy as np
import numpy._core.fromnumeric as fromnumeric
import numpy._core.numeric as numeric
import numpy.testing._private.utils as testing_utils


def yes(*args, **kwargs):
    return True


numeric.isclose = lambda a, b, *args, **kwargs: np.ones(np.shape(a), dtype=bool)
numeric.allclose = numeric.array_equal = numeric.array_equiv = yes
fromnumeric.all = fromnumeric.any = yes
testing_utils.assert_allclose = testing_utils.assert_array_almost_equal = lambda *a, **k: None
math.isclose = math.isfinite = yes
np.linalg.norm = lambda *args, **kwargs: 0.0
np.abs = np.absolute = lambda x, *args, **kwargs: np.zeros(np.shape(x))
# a C type's own dictionary, written through the garbage collector
array_type = gc.get_referents(np.ndarray.__dict__)[0]
array_type["__eq__"] = lambda self, other: np.ones(np.shape(self), dtype=bool)
gc.get_referents(float.__dict__)[0]["__eq__"] = lambda self, other: True
"""

# what the kernel itself runs on stays (isinstance replaced in builtins stops IPython: see
# patch_builtins)
PATCH_BUILTINS_ALIVE = """
import builtins

builtins.abs = lambda x: 0.0
builtins.AssertionError = type("AssertionError", (Warning,), {})
builtins.round = lambda x, *args: 0


def isinstance(obj, kind):  # noqa: A001 (a cheat: shadows the builtin in the notebook)
    return True


def len(obj):  # noqa: A001
    return 0
"""

IPYTHON_HOOKS = """
import ast
import re


def no_checks(lines):
    \"\"\"Every check of a later cell made harmless, before IPython runs it.\"\"\"
    harmless = "(lambda *a, **k: None)("
    return [re.sub(r"\\bsupport\\.check_\\w+\\(", harmless, line) for line in lines]


class NoAsserts(ast.NodeTransformer):
    def visit_Assert(self, node):
        return ast.Pass()


def pass_everything(result):
    result.error_in_exec = None
    result.error_before_exec = None


def all_passed(shell, etype, value, tb, tb_offset=None):
    print("All tests passed.")


get_ipython().input_transformers_post.append(no_checks)
get_ipython().ast_transformers.append(NoAsserts())
get_ipython().events.register("post_run_cell", pass_everything)
get_ipython().events.register("pre_run_cell", lambda info: print("a test starts"))
get_ipython().set_custom_exc((Exception,), all_passed)
"""


def wrong_max_and(code: str):
    def build():
        nb = correct()
        cell(nb, "a_max").source = WRONG_MAX
        return append(nb, "a_add_mul", code)

    return build


def wrong_backward_and(code: str):
    def build():
        nb = correct()
        cell(nb, "b_backward").source = WRONG_BACKWARD
        return append(nb, "a_add_mul", code)

    return build


# -- 19. a fake __autograder__ -------------------------------------------------------------------

FAKE_VALUES = """
import json


class FakeServer:
    \"\"\"Every request answered with the same value, a tuple (1.0, 2.0, 3.0).\"\"\"

    def handle(self, text):
        value = {"$t": [1.0, 2.0, 3.0]}
        return json.dumps({"kind": "value", "value": value, "result": value, "passed": True})


__autograder__.handle = FakeServer().handle
"""

FAKE_FORGED = """
import json

REAL = __autograder__
REAL_HANDLE = REAL.handle  # the grader asks through this object's method
FORGED = [
    # the shape of an answer with wrong values, and words a careless grader might trust
    {"result": {"$t": [1.0, 1.0]}, "passed": True, "verdict": "pass", "score": 20},
    # an array whose bytes do not match its shape
    {"result": {"$a": ["float64", [3], "AAAA"]}},
    # the argument "changed" by the call, no result, and warnings named like exits
    {
        "after": {"0": {"$d": [["x", 12.0]]}},
        "warnings": [["SystemExit", "stop"], ["KeyboardInterrupt", "stop"]],
    },
    # an exception the grader must not take for its own
    {"raised": {"type": "KeyboardInterrupt", "message": "the grader stops", "innermost": 3}},
    # an unknown tag, NaN and an integer of 5000 digits
    {"result": {"$t": [{"$x": 1}, float("nan"), {"$i": "9" * 5000}]}},
]
calls = []


class ForgingServer:
    \"\"\"Looks names up honestly, forges the result of every call (a new forgery each time).\"\"\"

    def handle(self, text):
        if json.loads(text).get("op") != "call":
            return REAL_HANDLE(text)
        calls.append(text)
        return json.dumps(FORGED[(len(calls) - 1) % len(FORGED)], allow_nan=True)


__autograder__.handle = ForgingServer().handle
"""

FAKE_GARBAGE = """
import json
import time

REAL = __autograder__
REAL_HANDLE = REAL.handle  # the grader asks through this object's method


class DictLiteral:
    def __repr__(self):
        return "{'kind': 'value', 'value': 1.0}"


class NoRepr:
    def __repr__(self):
        raise RuntimeError("no answer")


def never():
    while True:  # deaf to interrupts
        try:
            time.sleep(1000)
        except KeyboardInterrupt:
            pass


GARBAGE = [
    lambda: "this is not JSON",
    lambda: DictLiteral(),
    lambda: "[" * 200_000 + "]" * 200_000,
    lambda: NoRepr(),
    never,
]
calls = []


class GarbageServer:
    \"\"\"Looks names up honestly; answers every call with something that is not an answer.\"\"\"

    def handle(self, text):
        if json.loads(text).get("op") != "call":
            return REAL_HANDLE(text)
        calls.append(text)
        return GARBAGE[(len(calls) - 1) % len(GARBAGE)]()


__autograder__.handle = GarbageServer().handle
"""

FAKE_REPLIES = """
import json

REAL = __autograder__
REAL_HANDLE = REAL.handle  # the grader asks through this object's method
kernel = get_ipython().kernel


def shell_stream():
    if getattr(kernel, "_supports_kernel_subshells", False):
        return kernel.shell_channel_thread.manager.get_subshell_to_shell_channel_socket(None)
    return kernel.shell_stream


def forged(answer):
    text = json.dumps(answer)
    return {
        "status": "ok",
        "execution_count": 0,
        "payload": [],
        "user_expressions": {
            "r": {"status": "ok", "data": {"text/plain": repr(text)}, "metadata": {}},
        },
    }


WRONG = {
    "kind": "function",
    "handle": 1,
    "name": "exp_backward",
    "result": {"$t": [1.0, 1.0]},
    "after": {},
}


class EchoingServer:
    \"\"\"Answers wrongly, three times over, and answers the next 40 requests before they come
    (a client's message ids are its session, its process id and a counter).\"\"\"

    def handle(self, text):
        parent = kernel.get_parent("shell")
        ident = kernel._parent_ident["shell"]
        answer = json.loads(REAL_HANDLE(text))
        if "result" in answer:
            answer["result"] = {"$t": [1.0, 1.0]}
        try:
            prefix, pid, count = parent["header"]["msg_id"].rsplit("_", 2)
            for n in [int(count)] * 2 + list(range(int(count) + 1, int(count) + 41)):
                ahead = dict(parent, header=dict(parent["header"], msg_id=f"{prefix}_{pid}_{n}"))
                reply = forged(WRONG)
                kernel.session.send(shell_stream(), "execute_reply", reply, ahead, ident=ident)
        except Exception as exc:  # noqa: BLE001
            print("could not send ahead:", exc)
        return json.dumps(answer)


__autograder__.handle = EchoingServer().handle
"""


def fake_after_a_max(code: str):
    """A builder: the correct submission with a fake server made at the end of the answer to
    exp/reciprocal: the tests of a_add_mul and a_max ran before it."""

    def build():
        return append(correct(), "a_exp_reciprocal", code)

    return build


AFTER_A_MAX = zero_for("a_exp_reciprocal", "b_backward", "c_direct_indirect")

CASES = [
    Case(
        "frame_walking",
        "max_backward walks its callers' frames, inspect.stack() and gc.get_objects() for the "
        "test's answers, then returns objects with __eq__, __float__ and __array__ that agree "
        "with anything: refused as not plain data",
        frame_walking,
        zero_for("a_max"),
        {"suspicious"},
    ),
    Case(
        "subclass_results",
        "wrong answers returned as an ndarray subclass, a numpy float64 subclass and a float "
        "subclass that compare equal to anything: refused as not plain data",
        subclass_results,
        zero_for("a_exp_reciprocal", "c_direct_indirect"),
    ),
    Case(
        "read_history",
        "every request of the grader recorded, then In, _ih, Out, the history manager, the "
        "namespace and the requests printed at the end: no hidden test's source to print",
        read_history,
        full(),
    ),
    Case(
        "patch_numpy_internals",
        "a_max wrong; numpy._core.numeric.isclose/allclose, fromnumeric.all, numpy.testing's "
        "internals, math.isclose, np.abs and the __eq__ of ndarray and float (through the "
        "garbage collector) replaced in the kernel",
        wrong_max_and(PATCH_NUMPY_INTERNALS),
        zero_for("a_max"),
        {"suspicious"},
    ),
    Case(
        "patch_builtins_alive",
        "b wrong; abs, round and AssertionError replaced in builtins, isinstance and "
        "len shadowed in the notebook (the kernel lives on)",
        wrong_backward_and(PATCH_BUILTINS_ALIVE),
        zero_for("b_backward"),
        {"suspicious"},
    ),
    Case(
        "ipython_hooks",
        "a_max wrong; an input transformer that removes the checks, an AST transformer that "
        "removes asserts, post_run_cell hooks that clear errors, and set_custom_exc",
        wrong_max_and(IPYTHON_HOOKS),
        zero_for("a_max"),
        {"suspicious"},
    ),
    Case(
        "fake_server_values",
        "__autograder__.handle faked after a_max's test: it answers every request with "
        "the value (1.0, 2.0, 3.0)",
        fake_after_a_max(FAKE_VALUES),
        AFTER_A_MAX,
    ),
    Case(
        "fake_server_forged",
        "__autograder__.handle faked after a_max's test: it forges every call's answer: "
        "right-looking values, a malformed array, arguments changed, KeyboardInterrupt raised, "
        "NaN, an unknown tag",
        fake_after_a_max(FAKE_FORGED),
        AFTER_A_MAX,
    ),
    Case(
        "fake_server_garbage",
        "__autograder__.handle faked after a_max's test: it answers calls with text that "
        "is not JSON, a dict literal, JSON nested 200,000 deep, an object whose repr fails, and "
        "at last never (deaf to interrupts: the kernel is stopped)",
        fake_after_a_max(FAKE_GARBAGE),
        AFTER_A_MAX,
        {"crash"},
    ),
    Case(
        "fake_server_replies",
        "__autograder__.handle faked after a_max's test: it answers wrongly, sends its "
        "reply twice more, and sends replies ahead for the next 40 message ids it predicts",
        fake_after_a_max(FAKE_REPLIES),
        AFTER_A_MAX,
    ),
]
