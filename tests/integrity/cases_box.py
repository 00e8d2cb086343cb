"""Cases 14-16 of the integrity suite: the files of a submission, and the box around its kernel.

14. Files beside the notebook: a ``course`` package, a ``ps1_support.py``, a ``.pth`` file shipped
    in the student's folder, links to the instructor's files, and a notebook or folder that is
    itself a link to the course's source. Only the notebook may be graded (``autograder.intake``);
    a link is never followed.
15. The instructor's files from inside the kernel: searched for on the whole file system the box
    shows, and written (``open``, ``os.open`` with ``dir_fd``, ``rename``, ``unlink``, a ``.pth``
    in the environment's site-packages): the box shows none of the course and only read-only code.
16. Other processes and the network: every process id signalled (``os.kill``, ``kill(-1)``,
    ``pidfd_send_signal``) and connections to the host's loopback (where the suite listens during
    grading), to an abstract unix socket and to the internet: the box has its own process and
    network namespaces.
17. The support module's own code called from an answer: ``backward`` returns what one of the
    support module's sweeps computes (the breadth-first sweep is right on every graph of the
    tests). The kernel's copy of ``ps1_support`` holds only the example graphs
    (``autograder/kernel_view.py``): the call fails, part (b) earns nothing and the report says
    the answer used the reference implementation.

A payload prints ``LEAKED``, ``WROTE`` or ``REMOVED`` only when it succeeded at what the box must
prevent; the suite fails on these words in any output, and on :data:`MARKER` in any file of the
course, of the installed package or of the environment.
"""

from __future__ import annotations

from tests.integrity.case import Case, blank, cell, correct, free_cell, full, index, zero_for

#: what the payloads write into every file they can open; the suite looks for it afterwards
MARKER = "integrity-suite-payload-was-here"
#: TCP ports of the host's loopback on which the suite listens while it grades
PORTS = (47391, 47392)
#: an abstract unix socket the suite listens on while it grades
ABSTRACT = "backprop-integrity-suite"

WRONG_MAX = '''def max_backward(a, b, upstream):
    """Wrong on purpose: the gradient goes to neither input."""
    return 0.0, 0.0
'''


def wrong_max():
    nb = correct()
    cell(nb, "a_max").source = WRONG_MAX
    return nb


def with_free_cell(code: str, after: str = "test_a_add_mul", wrong: bool = False):
    """A builder: the correct submission (``wrong``: with a wrong a_max) and a cell of the
    student's own holding ``code`` right after the cell ``after``."""

    def build():
        nb = wrong_max() if wrong else correct()
        nb.cells.insert(index(nb, after) + 1, free_cell(code.strip("\n")))
        return nb

    return build


# -- 14. files beside the notebook ---------------------------------------------------------------

SHIPPED = {
    "course/__init__.py": (
        f'"""A course package shipped beside the notebook ({MARKER}): it would shadow the\n'
        'installed one where the kernel starts in the submission\'s folder."""\n\n'
        "from course import checks  # noqa: F401\n"
    ),
    "course/checks.py": (
        f'"""Every check passes ({MARKER})."""\n\n\n'
        "def __getattr__(name):\n"
        "    return lambda *args, **kwargs: None\n"
    ),
    "course/graph.py": (
        f'"""A reference that agrees with any answer ({MARKER})."""\n\nValue = float\n'
    ),
    "ps1_support.py": (
        f'"""The support module, with checks that pass everything ({MARKER})."""\n\n'
        "FORBID = ()\n\n\n"
        "def __getattr__(name):\n"
        "    return lambda *args, **kwargs: None\n"
    ),
    "sitecustomize.py": (
        f"# {MARKER}\nimport builtins\n\nbuiltins.isinstance = lambda obj, kind: True\n"
    ),
    "zz_cheat.pth": f"import os; os.environ['SHIPPED'] = '{MARKER}'\n",
    "lib/numpy/__init__.py": f"# {MARKER}\nallclose = lambda *args, **kwargs: True\n",
}

LINKED = {
    "solution.ipynb": "source_assignments/ps1/ps1.ipynb",
    "gradebook.db": "gradebook.db",
    "nbgrader_config.py": "nbgrader_config.py",
    "ps1_support.py": "source_assignments/ps1/ps1_support.py",
    "release": "release",
}


def released_blank():
    """Never submitted as such (the case puts a link in its place): a_max left blank."""
    return blank(correct(), "a_max")


# -- 15. the instructor's files from inside the kernel -------------------------------------------

SEARCH = """
import os
import sys

# what only this course's files hold (built here, so that this cell does not hold it)
HIDDEN = b"default_rng(" + b"301)"
COURSE = b"backprop" + b"-course"
GRADES = b"test_a_" + b"add_mul"
# not looked into: the system's and the interpreter's own files
SKIP = {"/proc", "/sys", "/dev", "/usr", os.path.realpath(sys.base_prefix)}
looked = 0
for top, dirs, files in os.walk("/"):
    dirs[:] = [d for d in dirs if os.path.join(top, d) not in SKIP]
    for name in files:
        looked += 1
        path = os.path.join(top, name)
        if not name.endswith((".ipynb", ".db", ".py", ".json", ".txt", ".html")):
            continue
        try:
            with open(path, "rb") as fh:
                head = fh.read(4_000_000)
        except OSError:
            continue
        if HIDDEN in head or (name.endswith(".db") and GRADES in head):
            print("LEAKED hidden tests or grades:", path)
        if name == "nbgrader_config.py" and COURSE in head:
            print("LEAKED the course's configuration:", path)
print("looked at", looked, "files")
for folder in ("/tmp", os.path.expanduser("~"), "/home", "/root", "/work", "/srv", "/run", "/mnt"):
    try:
        print(folder, sorted(os.listdir(folder))[:30])
    except OSError as exc:
        print("refused:", folder, type(exc).__name__)
"""

WRITE = f'''
import os
import sysconfig

import course

MARKER = "{MARKER}"
package = os.path.dirname(course.__file__)
site = sysconfig.get_paths()["purelib"]
existing = [os.path.join(package, name) for name in sorted(os.listdir(package))]
for base in (os.getcwd(), os.path.expanduser("~"), "/", package):
    for up in range(6):
        root = os.path.normpath(os.path.join(base, *[".."] * up))
        for name in (
            "nbgrader_config.py",
            "gradebook.db",
            "source_assignments/ps1/ps1.ipynb",
            "source_assignments/ps1/ps1_support.py",
            "release/ps1/ps1.ipynb",
        ):
            existing.append(os.path.join(root, name))
for path in dict.fromkeys(existing):  # files that exist: appended to, never created
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    except OSError as exc:
        if not isinstance(exc, FileNotFoundError):
            print("refused:", path, type(exc).__name__)
        continue
    try:
        os.write(fd, f"\\n# {{MARKER}}\\n".encode())
        print("WROTE", path)
    except OSError as exc:
        print("refused:", path, type(exc).__name__)
    finally:
        os.close(fd)
# new files where the grader's own Python would run them
for path in (
    os.path.join(site, "zz_integrity_suite.pth"),
    os.path.join(site, "sitecustomize.py"),
    os.path.join(package, "zz_integrity_suite.py"),
    os.path.join(package, "__pycache__", "checks.cpython-311.opt-9.pyc"),
):
    try:
        with open(path, "x") as fh:
            fh.write(f"import os  # {{MARKER}}\\n")
        print("WROTE", path)
    except OSError as exc:
        print("refused:", path, type(exc).__name__)
# the same through a descriptor of the package's folder
try:
    folder = os.open(package, os.O_RDONLY | os.O_DIRECTORY)
except OSError as exc:
    print("refused: the package's folder", type(exc).__name__)
else:
    for attempt in (
        lambda: os.open("checks.py", os.O_WRONLY | os.O_TRUNC, dir_fd=folder),
        lambda: os.open("graph_copy.py", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=folder),
    ):
        try:
            fd = attempt()
            os.write(fd, f"# {{MARKER}}\\n".encode())
            os.close(fd)
            print("WROTE through a directory descriptor")
        except OSError as exc:
            print("refused:", type(exc).__name__)
    for attempt in (
        lambda: os.rename("checks.py", "checks_old.py", src_dir_fd=folder, dst_dir_fd=folder),
        lambda: os.unlink("checks.py", dir_fd=folder),
        lambda: os.chmod("checks.py", 0o666, dir_fd=folder),
    ):
        try:
            attempt()
            print("REMOVED or changed checks.py through a directory descriptor")
        except OSError as exc:
            print("refused:", type(exc).__name__)
    os.close(folder)
# the kernel's own copy of the released support module is its own to change: lenient checks
with open("ps1_support.py", "a") as fh:
    fh.write("\\n\\ndef check_gate(*args, **kwargs):\\n    return None\\n")
os.makedirs("course", exist_ok=True)
with open(os.path.join("course", "__init__.py"), "w") as fh:
    fh.write("def __getattr__(name):\\n    return lambda *args, **kwargs: None\\n")
print("changed the box's own copy of ps1_support.py and made a course package beside it")
'''

# -- 16. other processes and the network ---------------------------------------------------------

KILL = """
import os
import signal

me = os.getpid()
mine = {me, *(int(t) for t in os.listdir("/proc/self/task"))}
try:
    with open("/proc/sys/kernel/pid_max") as fh:
        top = min(int(fh.read()), 1 << 22)
except (OSError, ValueError):
    top = 1 << 16
visible = []
for pid in range(1, top + 1):
    if pid in mine:
        continue
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        continue
    except PermissionError:
        pass
    visible.append(pid)
listed = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
print("processes this kernel can see:", visible, "of", listed)
for pid in visible:
    for how in ("kill", "pidfd"):
        try:
            if how == "kill":
                os.kill(pid, signal.SIGKILL)
            else:
                fd = os.pidfd_open(pid)
                signal.pidfd_send_signal(fd, signal.SIGKILL)
                os.close(fd)
            print("signalled", pid, "with", how)
        except (OSError, AttributeError) as exc:
            print("refused:", pid, how, type(exc).__name__)
own_group = os.getpgid(0)
for pid in visible:
    try:
        group = os.getpgid(pid)
        if group != own_group:
            os.killpg(group, signal.SIGKILL)
            print("signalled the group of", pid)
    except OSError as exc:
        print("refused: the group of", pid, type(exc).__name__)
try:
    os.kill(-1, signal.SIGKILL)  # every process this user may signal, but the caller
    print("kill(-1) went through")
except OSError as exc:
    print("refused: kill(-1)", type(exc).__name__)
"""

NETWORK = f"""
import socket

for host in ("127.0.0.1", "localhost", "::1", "0.0.0.0"):
    for port in {PORTS!r}:
        try:
            with socket.create_connection((host, port), timeout=1):
                print("LEAKED: connected to the host at", host, port)
        except OSError as exc:
            print("refused:", host, port, type(exc).__name__)
try:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        s.connect("\\0{ABSTRACT}")
        print("LEAKED: connected to the host's abstract socket")
except OSError as exc:
    print("refused: abstract socket", type(exc).__name__)
for target in (("1.1.1.1", 53), ("8.8.8.8", 443)):
    try:
        with socket.create_connection(target, timeout=2):
            print("LEAKED: connected to the internet", target)
    except OSError as exc:
        print("refused:", target, type(exc).__name__)
try:
    print("LEAKED: a name was resolved", socket.getaddrinfo("pypi.org", 443)[:1])
except OSError as exc:
    print("refused: DNS", type(exc).__name__)
with open("/proc/net/unix") as fh:
    print("unix sockets this kernel sees:", len(fh.read().splitlines()) - 1)
"""


SUPPORT_SWEEP = '''def backward(nodes):
    """The support module's sweep instead of my own."""
    import ps1_support

    return ps1_support._sweep_breadth_first(nodes)
'''


def support_sweep():
    nb = correct()
    cell(nb, "b_backward").source = SUPPORT_SWEEP
    return nb


CASES = [
    Case(
        "ships_course_package",
        "a_max wrong, with a course package, ps1_support.py, sitecustomize.py, a .pth file and a "
        "numpy package shipped beside the notebook: left out at intake, a_max earns 0",
        wrong_max,
        zero_for("a_max"),
        {"intake"},
        beside=SHIPPED,
    ),
    Case(
        "links_to_course_files",
        "a_max wrong, with links beside the notebook to the source notebook, the gradebook, the "
        "configuration, the support module and the release folder: not followed",
        wrong_max,
        zero_for("a_max"),
        {"intake"},
        links=LINKED,
    ),
    Case(
        "notebook_is_a_link",
        "ps1.ipynb is a link to the instructor's source notebook (every answer in it): never "
        "graded",
        released_blank,
        dict.fromkeys(full(), 0),
        links={"ps1.ipynb": "source_assignments/ps1/ps1.ipynb"},
        never_graded=True,
    ),
    Case(
        "folder_is_a_link",
        "the student's ps1 folder is a link to the course's source_assignments/ps1: never graded",
        released_blank,
        dict.fromkeys(full(), 0),
        links={".": "source_assignments/ps1"},
        never_graded=True,
    ),
    Case(
        "student_folder_is_a_link",
        "the student's folder is a link to the course's source_assignments (which holds ps1/): "
        "never graded",
        released_blank,
        dict.fromkeys(full(), 0),
        links={"..": "source_assignments"},
        never_graded=True,
    ),
    Case(
        "search_file_system",
        "a cell walks the file system the box shows (but the system's and the interpreter's own "
        "files) for the hidden tests, the gradebook and the course's configuration, and lists "
        "the folders of other students and runs",
        with_free_cell(SEARCH),
        full(),
    ),
    Case(
        "write_instructor_files",
        "a_max wrong; a cell appends to the installed course package, the configuration, the "
        "gradebook and the source notebook (open, os.open with dir_fd, rename, unlink, chmod), "
        "adds a .pth to site-packages, and makes the box's own ps1_support.py lenient",
        with_free_cell(WRITE, wrong=True),
        zero_for("a_max"),
        {"suspicious"},
    ),
    Case(
        "kill_other_processes",
        "a cell sends SIGKILL to every process id it can (os.kill, killpg, kill(-1), "
        "pidfd_send_signal): it sees only its box; the grader, the other kernels and a process "
        "the suite started live on",
        with_free_cell(KILL),
        full(),
        {"suspicious"},
    ),
    Case(
        "network",
        "a cell connects to the host's loopback where the suite listens, to its abstract unix "
        "socket, to the internet and to DNS: the box has no network",
        with_free_cell(NETWORK),
        full(),
    ),
    Case(
        "calls_support_sweep",
        "backward returns ps1_support._sweep_breadth_first(nodes), the right gradients on every "
        "graph of the tests: the kernel's ps1_support has no such function, part (b) earns 0",
        support_sweep,
        zero_for("b_backward"),
        {"delegation"},
    ),
]
