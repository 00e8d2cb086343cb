"""Cases 7-10, 12 and 20 of the integrity suite: submissions whose code faults rather than cheats.

Each case is the correct ps1 submission with a fault planted at the top of one answer cell, so
that the rest of that cell (the student's functions) never runs and the part earns 0; where the
kernel dies, every later cell did not run either and earns 0 too. The other parts keep full marks,
and the grader goes on with the next student. The suite's cells time out after
``CELL_TIMEOUT`` s and a notebook after ``NOTEBOOK_SECONDS`` s (``tests/integrity/case.py``), so
only a few cases wait for a timeout.

What stops each fault: the per-cell timeout (7), the box's memory limit (8), a kernel that dies
fails the cell it ran and marks every later cell as not run (9; also when it dies inside a call
from a test), the box's process limit (10), the bound on what a cell may print while it runs and
``LimitOutputSize`` (12), and the notebook's wall-time budget, which also bounds the calls the
tests make (20); see ``autograder/run.py``, ``autograder/box.py`` and ``autograder/outputs.py``.

Nothing in the kernel refuses ``os.fork`` any more: the children of a fork bomb live on in the
box, busy, until the notebook ends, and take the box's share of the processor, so how far the
cells after a bomb get within the notebook's budget depends on timing. The fork bomb is
therefore planted in the last answer (c), whose tests fail either way.
"""

from __future__ import annotations

from tests.integrity.case import (
    CELL_TIMEOUT,
    STUB,
    Case,
    blank,
    cell,
    correct,
    free_cell,
    full,
    index,
    zero_for,
)


def fault_at_top(answer: str, code: str, keep_answer: bool = False):
    """A builder: the correct submission with ``code`` first in the answer cell ``answer``.

    With ``keep_answer`` the student's correct functions follow the fault (they never run);
    otherwise the cell is the released stub (the part is blank).
    """

    def build():
        nb = correct()
        if not keep_answer:
            blank(nb, answer)
        c = cell(nb, answer)
        c.source = code.strip("\n") + "\n\n" + c.source
        return nb

    return build


# -- 7. timeouts ---------------------------------------------------------------------------------

INFINITE_LOOP = """
# an answer that never finishes
while True:
    pass
"""

SLEEP_IN_FUNCTION = '''
import time

_calls = []


def direct_indirect(u1):
    """Sleeps for ever the first time a test calls it, then answers wrongly at once."""
    _calls.append(u1)
    if len(_calls) == 1:
        time.sleep(10**9)
    return 0.0, 0.0, 0.0
'''


def sleeping_c():
    nb = correct()
    cell(nb, "c_direct_indirect").source = SLEEP_IN_FUNCTION.strip("\n")
    return nb


# -- 8. memory -----------------------------------------------------------------------------------

MEMORY_BOMB = """
def grow():
    chunks = []
    while True:  # 256 MiB more each time, until the memory limit says no
        chunks.append(bytes(2**28))


try:
    grow()
except MemoryError:
    print("the list stopped growing")
data = bytearray(64 * 2**30)  # 64 GiB at once
"""

# -- 9. exits and kernel deaths ------------------------------------------------------------------

SYS_EXIT = """
import sys

sys.exit()
"""
RAISE_SYSTEM_EXIT = """
raise SystemExit(0)
"""
OS_EXIT = """
import os

os._exit(1)
"""
SEGFAULT = """
try:
    import ctypes

    ctypes.string_at(0)  # reads address 0: a segmentation fault
except Exception:
    pass
import faulthandler

faulthandler._sigsegv()  # the same, if ctypes was refused
"""
KILL_SELF = """
import os
import signal

os.kill(os.getpid(), signal.SIGKILL)
"""


def system_exits():
    nb = fault_at_top("a_exp_reciprocal", SYS_EXIT)()
    c = cell(nb, "c_direct_indirect")
    c.source = RAISE_SYSTEM_EXIT.strip("\n") + "\n\n" + STUB
    return nb


# -- 10. processes -------------------------------------------------------------------------------

FORK_BOMB = """
import os

while True:
    if os.fork() == 0:
        while True:
            os.fork()
"""
SUBPROCESS_FLOOD = """
import subprocess

sleepers = []
while True:
    sleepers.append(subprocess.Popen(["sleep", "1000"]))
"""

# -- 12. outputs ---------------------------------------------------------------------------------

HUGE_OUTPUT = """
# a megabyte of prints: one long line, then many lines (nbgrader keeps 300 lines)
print("Ünïcødé ✓ 😀👩‍👩‍👧 שלום 中文 " * 20000)
for i in range(20000):
    print(f"line {i}: ça va? 🙂 \\x07\\x00")
"""


def huge_output():
    nb = correct()
    c = cell(nb, "a_max")
    c.source = c.source.rstrip("\n") + "\n\n" + HUGE_OUTPUT.strip("\n")
    return nb


# -- 9 (again). a kernel that dies while a test calls it -----------------------------------------

EXIT_WHEN_CALLED = '''import os


def backward(graph):
    """Ends the kernel the first time a test calls it."""
    os._exit(3)
'''
KILLED_WHEN_CALLED = '''import os
import signal


def direct_indirect(u1):
    """Kills its own kernel the first time a test calls it."""
    os.kill(os.getpid(), signal.SIGKILL)
'''


def dies_when_called(answer: str, code: str):
    def build():
        nb = correct()
        cell(nb, answer).source = code
        return nb

    return build


# -- 12 (again). a flood of output ---------------------------------------------------------------

FLOOD = """
import os
import sys

line = "flood " * 170_000 + "\\n"  # about a megabyte
for _ in range(300):  # some 300 MB through sys.stdout
    sys.stdout.write(line)
block = b"straight to the file descriptor " * 32_000 + b"\\n"  # about a megabyte
for _ in range(100):  # some 200 MB written to the descriptors 1 and 2 themselves
    os.write(1, block)
    os.write(2, block)
"""
FORGED_MESSAGES = """
ip = get_ipython()
kernel = ip.kernel
parent = kernel.get_parent("shell")
traceback = ["error " * 2_000_000]  # 12 MB, under the largest message the grader accepts
for _ in range(2000):  # error outputs of this cell, sent by the kernel's own session
    kernel.session.send(
        kernel.iopub_socket,
        "error",
        {"ename": "AssertionError", "evalue": "forged", "traceback": traceback},
        parent=parent,
        ident=b"error",
    )
"""


def at_the_end(code: str):
    """A builder: the correct submission and a cell of the student's own after every test."""

    def build():
        nb = correct()
        nb.cells.append(free_cell(code.strip("\n")))
        return nb

    return build


# -- 20. the notebook's wall-time budget ---------------------------------------------------------

STALL = f"""
import time

time.sleep({CELL_TIMEOUT - 1})  # just under the time a cell may take
"""
SLOW_CALLS = f'''import math
import time

_calls = []


def direct_indirect(u1):
    """Right, but from the fourth call on (the hidden tests) just under the time a call may
    take, every time."""
    _calls.append(u1)
    if len(_calls) > 3:
        time.sleep({CELL_TIMEOUT - 1})
    u2 = u1**2
    u3 = math.exp(u1 + u2)
    return u3, u3 * 2 * u1, u3 + u3 * 2 * u1
'''


def stall_cells():
    """Five cells of the student's own before part (c), each sleeping just under the time a
    cell may take: together longer than the notebook's budget, with a cell to spare (the cell
    whose time the budget cuts may end a moment before the budget does: the next one then
    starts, and takes what is left)."""
    nb = correct()
    at = index(nb, "c_direct_indirect")
    for k in range(5):
        nb.cells.insert(at, free_cell(STALL.strip("\n") + f"\n# stall {k + 1}"))
    return nb


def slow_calls():
    nb = correct()
    cell(nb, "c_direct_indirect").source = SLOW_CALLS
    return nb


CASES = [
    Case(
        "timeout_loop",
        "an infinite loop at the top of b's answer: the cell times out, b's tests fail",
        fault_at_top("b_backward", INFINITE_LOOP, keep_answer=True),
        zero_for("b_backward"),
        {"timeout"},
    ),
    Case(
        "timeout_sleep",
        "c's function sleeps for ever when the first test calls it: that test times out, "
        "the next fails (a wrong answer)",
        sleeping_c,
        zero_for("c_direct_indirect"),
        {"timeout"},
    ),
    Case(
        "memory_bomb",
        "a growing list and a 64 GiB bytearray at the top of a_max: MemoryError, a_max fails",
        fault_at_top("a_max", MEMORY_BOMB),
        zero_for("a_max"),
        {"memory"},
    ),
    Case(
        "system_exit",
        "sys.exit() in a_exp_reciprocal and raise SystemExit in c: IPython turns both into a "
        "failing cell, the kernel lives on",
        system_exits,
        zero_for("a_exp_reciprocal", "c_direct_indirect"),
        set(),
    ),
    Case(
        "kernel_exit",
        "os._exit(1) in c's answer: the kernel dies there, c's tests do not run",
        fault_at_top("c_direct_indirect", OS_EXIT),
        zero_for("c_direct_indirect"),
        {"crash"},
    ),
    Case(
        "kernel_segfault",
        "a segmentation fault (ctypes.string_at(0)) in b's answer: the kernel dies, b's and "
        "c's tests do not run",
        fault_at_top("b_backward", SEGFAULT),
        zero_for("b_backward", "c_direct_indirect"),
        {"crash"},
    ),
    Case(
        "kernel_kill",
        "os.kill of its own kernel with SIGKILL in c's answer: the kernel dies there, c's tests "
        "do not run",
        fault_at_top("c_direct_indirect", KILL_SELF),
        zero_for("c_direct_indirect"),
        {"crash"},
    ),
    Case(
        "fork_bomb",
        "an os.fork loop at the top of c's answer, bounded by the box's process limit: the cell "
        "fails when a fork is refused, or times out while the children churn; c earns 0 (the "
        "children live on in the box, so the bomb is in the last answer: see the module doc)",
        fault_at_top("c_direct_indirect", FORK_BOMB),
        zero_for("c_direct_indirect"),
        one_of={"processes", "timeout"},
    ),
    Case(
        "subprocess_flood",
        "subprocess.Popen(['sleep', '1000']) in a loop in a_exp_reciprocal: refused",
        fault_at_top("a_exp_reciprocal", SUBPROCESS_FLOOD),
        zero_for("a_exp_reciprocal"),
        {"processes"},
    ),
    Case(
        "huge_output",
        "a correct submission that prints a megabyte (one long line, 20,000 lines; non-ASCII, "
        "emoji, control characters): full marks, the feedback stays small and readable",
        huge_output,
        full(),
        {"output"},
    ),
    Case(
        "kernel_exit_in_test",
        "backward calls os._exit when the first test calls it: the kernel dies inside the "
        "check, b's tests and c's earn nothing, the grader goes on",
        dies_when_called("b_backward", EXIT_WHEN_CALLED),
        zero_for("b_backward", "c_direct_indirect"),
        {"crash"},
    ),
    Case(
        "kernel_kill_in_test",
        "direct_indirect sends SIGKILL to its own kernel when a test calls it: c earns nothing",
        dies_when_called("c_direct_indirect", KILLED_WHEN_CALLED),
        zero_for("c_direct_indirect"),
        {"crash"},
    ),
    Case(
        "output_flood",
        "after the last test, a cell prints some 300 MB through sys.stdout and writes 200 MB "
        "to the descriptors 1 and 2: the grader reads little of it, the feedback stays small, "
        "and the kernels the worker starts next are not affected",
        at_the_end(FLOOD),
        full(),
        one_of={"output", "timeout"},
    ),
    Case(
        "forged_messages",
        "after the last test, a cell sends 2000 forged error outputs of 12 MB each through the "
        "kernel's own session: the worker's memory stays bounded",
        at_the_end(FORGED_MESSAGES),
        full(),
    ),
    Case(
        "stall_cells",
        "five cells before part (c) sleep just under the cell timeout each: the notebook's "
        "budget runs out, part (c) does not run",
        stall_cells,
        zero_for("c_direct_indirect"),
        {"timeout"},
    ),
    Case(
        "stall_in_calls",
        "direct_indirect is right, but sleeps just under the call timeout on every call of the "
        "hidden tests: the budget runs out inside test_c_hidden, which fails",
        slow_calls,
        full(test_c_hidden=0),
        {"timeout"},
    ),
]
