"""Cases 7-10 and 12 of the integrity suite: submissions whose code faults rather than cheats.

Each case is the correct ps1 submission with a fault planted at the top of one answer cell, so
that the rest of that cell (the student's functions) never runs and the part earns 0; where the
kernel dies, every later cell did not run either and earns 0 too. The other parts keep full marks,
and the grader goes on with the next student. The suite's cells time out after 10 s, so only two
cases wait for a timeout.

What stops each fault: the per-cell timeout (7), the kernel's memory limit (8), the sandbox's
``KernelDied``/``NotRun`` outputs (9), the guard's refusal of processes and signals, and under it
the kernel's process limit (10), and ``LimitOutputSize`` (12); see ``autograder/sandbox.py``.
"""

from __future__ import annotations

from tests.integrity.case import STUB, Case, blank, cell, correct, full, zero_for


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
        "os.kill of its own kernel with SIGKILL in c's answer: the guard refuses the signal "
        "(without the guard the kernel dies there); c earns 0 either way",
        fault_at_top("c_direct_indirect", KILL_SELF),
        zero_for("c_direct_indirect"),
        {"processes"},
    ),
    Case(
        "fork_bomb",
        "an os.fork loop in a_add_mul: refused by the guard (and bounded by the process "
        "limit under it)",
        fault_at_top("a_add_mul", FORK_BOMB),
        zero_for("a_add_mul"),
        {"processes"},
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
]
