"""The box around a grading kernel (``autograder/box.py``), checked from inside a real kernel.

One kernel is started in a box (bubblewrap, the slot's user id when we are root, small limits)
and runs code that tries what a student's code could try: who it is, what files it sees and may
write, the network, other processes, the limits (open files, file size, processes, memory), and
an interrupt. A second kernel checks that a shutdown leaves nothing of the box running. The view
of the ``course`` package that a box is given (``make_view``: subpackages copied, forbidden
modules and subpackages replaced by stubs) is checked first, on a package laid out like it.

Nothing is skipped: where bubblewrap cannot make its box, these tests fail and say why (CI
installs bubblewrap; so do ``make test`` and ``make demo``).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import os
import queue
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder import box

ROOT = sys.platform.startswith("linux") and os.geteuid() == 0
REPO = Path(__file__).resolve().parent.parent
LIMITS = box.Limits(memory_mb=1024, cpu_seconds=120, file_size_mb=1, processes=16, open_files=256)
#: what the view hides: a module of the course, a single-file module and a package of the stdlib
FORBIDDEN = ["course.graph", "colorsys", "xmlrpc"]
SECRET_ENV = "BPC_BOX_TEST_SECRET"


def require_bubblewrap() -> box.Isolation:
    isolation = box.detect()
    if isolation.kind != "bubblewrap":
        pytest.fail(
            f"the grading box needs bubblewrap, and this machine gives {isolation.kind!r}: "
            f"{isolation.summary} (install it: apt-get install bubblewrap, or make bubblewrap)"
        )
    return isolation


@dataclass
class Ran:
    stdout: str
    error: tuple[str, str] | None  # ename, evalue


class Kernel:
    """A kernel in a box of its own, driven from this process."""

    def __init__(self, where: Path, name: str, view: dict[str, str] | None = None) -> None:
        isolation = require_bubblewrap()
        self.slot = box.Slot()
        cgroup = box.Cgroup(f"test-{os.getpid()}-{name}", LIMITS) if isolation.root else None
        self.box = box.Box(
            home=where / "home",
            sockets=where / "s",
            isolation=isolation,
            limits=LIMITS,
            uid=self.slot.uid,
            view=view or {},
            env={"OPENBLAS_NUM_THREADS": "1"},
            cgroup=cgroup,
        )
        self.box.prepare()
        self.km = box.kernel_manager(self.box)
        self.loop = asyncio.new_event_loop()
        self.kc = None
        try:
            self.loop.run_until_complete(self.km.start_kernel())
            self.kc = self.km.client()
            self.kc.start_channels()
            self.loop.run_until_complete(self.kc.wait_for_ready(timeout=60))
        except BaseException:
            self.close()
            raise

    @property
    def pid(self) -> int:
        """The process the kernel manager started (bubblewrap)."""
        return self.km.provisioner.process.pid

    def run(self, code: str, timeout: float = 30) -> Ran:
        return self.loop.run_until_complete(self._run(code, timeout))

    async def _run(self, code: str, timeout: float) -> Ran:
        msg_id = self.kc.execute(code, stop_on_error=False)
        out: list[str] = []
        error = None
        deadline = time.monotonic() + timeout
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the kernel did not finish in {timeout} s: {code[:60]!r}")
            try:
                msg = await self.kc.get_iopub_msg(timeout=1)
            except queue.Empty:
                if not await self.km.is_alive():
                    raise RuntimeError("the kernel died") from None
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                out.append(content["text"])
            elif kind == "error":
                error = (content["ename"], content["evalue"])
            elif kind == "status" and content["execution_state"] == "idle":
                return Ran("".join(out), error)

    def ok(self, code: str, timeout: float = 30) -> str:
        """Run ``code``, which must not fail; what it printed."""
        ran = self.run(code, timeout)
        assert ran.error is None, ran
        return ran.stdout

    def alive(self) -> bool:
        return self.loop.run_until_complete(self.km.is_alive())

    def shutdown(self) -> None:
        if self.kc is not None:
            self.kc.stop_channels()
            self.kc = None
        with contextlib.suppress(Exception):
            self.loop.run_until_complete(self.km.shutdown_kernel(now=True))

    def close(self) -> None:
        self.shutdown()
        self.box.close()
        self.slot.close()
        self.loop.close()


@pytest.fixture(scope="module")
def course_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A course folder of the grader's, with a file the kernel must not see."""
    root = tmp_path_factory.mktemp("course")
    (root / "gradebook.db").write_text("the grades")
    (root / "hidden_tests.py").write_text("ANSWER = 42")
    return root


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    where = tmp_path_factory.mktemp("box")
    view = box.make_view(where / "view", "ps1", FORBIDDEN)
    os.environ[SECRET_ENV] = "the grader's environment"
    try:
        k = Kernel(where, "shared", view)
    finally:
        del os.environ[SECRET_ENV]
    yield k
    k.close()


def descendants(pid: int) -> set[int]:
    """The processes below ``pid`` (from each process's parent in /proc)."""
    parents: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = Path(f"/proc/{name}/stat").read_text()
                parents[int(name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found = {pid}
    changed = True
    while changed:
        changed = False
        for child, parent in parents.items():
            if parent in found and child not in found:
                found.add(child)
                changed = True
    return found - {pid}


# -- the tests -----------------------------------------------------------------------------------


#: a package laid out like ``course``: top-level modules, a subpackage, a package inside that
FAKE_COURSE = {
    "__init__.py": "",
    "graph.py": "VALUE = 'graph'\n",
    "checks.py": "VALUE = 'checks'\n",
    "viz/__init__.py": "from course.viz.common import RED\nfrom course.viz.graphs import draw\n",
    "viz/common.py": "RED = 'red'\n",
    "viz/graphs.py": "def draw():\n    return 'drawn'\n",
    "viz/deep/__init__.py": "",
    "viz/deep/more.py": "VALUE = 'more'\n",
}


@pytest.fixture
def fake_course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The fake package, compiled, standing in for ``course`` in :func:`box.make_view`."""
    import compileall
    import types

    package = tmp_path / "installed" / "course"
    for name, text in FAKE_COURSE.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text)
    assert compileall.compile_dir(package, quiet=1)
    module = types.ModuleType("course")
    module.__file__ = str(package / "__init__.py")
    monkeypatch.setitem(sys.modules, "course", module)
    return package


def view_files(view: Path) -> dict[str, str]:
    """The files below ``view``: path relative to ``view``, and text ("pyc" if compiled)."""
    return {
        p.relative_to(view).as_posix(): "pyc" if p.suffix == ".pyc" else p.read_text()
        for p in sorted(view.rglob("*"))
        if p.is_file()
    }


def import_from_view(where: Path, statement: str) -> str:
    """Run ``statement`` in a fresh Python that finds ``course`` in the view; what it printed."""
    code = (
        f"import sys; sys.path.insert(0, {str(where)!r})\n"
        "try:\n"
        f"    {statement}\n"
        "except ImportError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_view_copies_subpackages_with_their_compiled_files(
    fake_course: Path, tmp_path: Path
) -> None:
    where = tmp_path / "view"
    old = os.umask(0o077)  # the view is readable by the box's user whatever the grader's umask
    try:
        binds = box.make_view(where, "ps1", [])
    finally:
        os.umask(old)
    view = where / "course"
    assert binds == {str(fake_course): str(view)}
    files = view_files(view)
    assert {n: t for n, t in files.items() if n.endswith(".py")} == FAKE_COURSE
    compiled = sorted(n for n in files if n.endswith(".pyc"))
    expected = sorted(p.relative_to(fake_course).as_posix() for p in fake_course.rglob("*.pyc"))
    assert compiled == expected and len(compiled) == len(FAKE_COURSE)
    for path in [view, *view.rglob("*")]:
        mode = path.stat().st_mode & 0o777
        assert mode == (0o755 if path.is_dir() else 0o644), (path, oct(mode))
    out = import_from_view(where, "import course.viz, course.viz.deep.more as m; print(m.VALUE)")
    assert out == "more\n"
    assert import_from_view(where, "from course.viz import draw; print(draw())") == "drawn\n"


def test_the_view_holds_the_package_data_without_code(fake_course: Path, tmp_path: Path) -> None:
    """A folder of data in the package (course/datasets) is copied, but not Python code put
    in it: code reaches the box only as a module of a package, where the rules apply."""
    data = fake_course / "datasets"
    data.mkdir()
    (data / "digits.csv").write_text("0,1,2\n")
    (data / "graph.py").write_text("VALUE = 'a reference outside the package rules'\n")
    box.make_view(tmp_path / "view", "ps1", ["course.graph"])
    files = view_files(tmp_path / "view" / "course")
    assert files["datasets/digits.csv"] == "0,1,2\n"
    assert not [n for n in files if n.startswith("datasets/") and n != "datasets/digits.csv"]


def test_a_kernel_in_a_box_loads_the_shipped_digits(kernel: Kernel) -> None:
    out = kernel.ok(
        "from course.data import load_digits\nX, y = load_digits()\nprint(X.shape, y[:5])"
    )
    assert out == "(64, 1797) [0 1 2 3 4]\n"


def test_a_forbidden_subpackage_is_one_stub(fake_course: Path, tmp_path: Path) -> None:
    where = tmp_path / "view"
    box.make_view(where, "ps9", ["course.viz"])
    files = view_files(where / "course")
    viz = {n: t for n, t in files.items() if n.startswith("viz/")}
    assert list(viz) == ["viz/__init__.py"]  # nothing else of it, compiled or not
    assert "course.viz is not available while ps9 is graded" in viz["viz/__init__.py"]
    assert files["graph.py"] == FAKE_COURSE["graph.py"]
    assert any(n.startswith("__pycache__/graph.") for n in files)
    for statement in ("import course.viz", "from course.viz.deep import more"):
        out = import_from_view(where, statement)
        assert out.startswith("ForbiddenModuleError course.viz is not available"), out
    assert import_from_view(where, "from course import graph; print(graph.VALUE)") == "graph\n"


def test_a_forbidden_module_inside_a_subpackage_is_a_stub(
    fake_course: Path, tmp_path: Path
) -> None:
    where = tmp_path / "view"
    box.make_view(where, "ps9", ["course.viz.graphs", "course.checks.something"])
    files = view_files(where / "course")
    stubs = {n for n, t in files.items() if "is not available while ps9 is graded" in t}
    assert stubs == {"viz/graphs.py", "checks.py"}  # a name inside a module stubs the module
    assert "course.viz.graphs is not available" in files["viz/graphs.py"]
    assert "course.checks is not available" in files["checks.py"]
    for name in ("viz/__init__.py", "viz/common.py", "viz/deep/more.py", "graph.py"):
        assert files[name] == FAKE_COURSE[name]
    compiled = {Path(n).name.split(".")[0] for n in files if n.endswith(".pyc")}
    assert "graphs" not in compiled and "checks" not in compiled
    assert {"common", "more", "graph"} <= compiled
    out = import_from_view(where, "import course.viz")
    assert out.startswith("ForbiddenModuleError course.viz.graphs is not available"), out
    out = import_from_view(where, "from course.viz.deep import more; print(more.VALUE)")
    assert out.startswith("ForbiddenModuleError course.viz.graphs"), out  # viz/__init__ ran


def test_the_view_of_course_holds_its_viz_package(tmp_path: Path) -> None:
    import course

    package = Path(course.__file__).resolve().parent
    modules = sorted(p.name for p in (package / "viz").glob("*.py"))
    assert {"__init__.py", "graphs.py", "layout.py", "training.py"} <= set(modules)
    where = tmp_path / "whole"
    box.make_view(where, "ps9", ["course.graph"])
    for name in modules:
        copied = where / "course" / "viz" / name
        assert copied.read_bytes() == (package / "viz" / name).read_bytes(), name
    where = tmp_path / "one_module"
    box.make_view(where, "ps9", ["course.viz.graphs"])
    viz = where / "course" / "viz"
    assert "course.viz.graphs is not available" in (viz / "graphs.py").read_text()
    for name in set(modules) - {"graphs.py"}:
        assert (viz / name).read_bytes() == (package / "viz" / name).read_bytes(), name
    where = tmp_path / "package"
    box.make_view(where, "ps9", ["course.viz"])
    viz = where / "course" / "viz"
    assert [p.name for p in viz.rglob("*")] == ["__init__.py"]
    assert "course.viz is not available" in (viz / "__init__.py").read_text()


def test_a_kernel_in_a_box_draws_with_course_viz(tmp_path_factory: pytest.TempPathFactory) -> None:
    where = tmp_path_factory.mktemp("box")
    k = Kernel(where, "viz", box.make_view(where / "view", "ps1", ["colorsys"]))
    try:
        out = k.ok(
            "import os, course\n"
            "from course.graph import Value\n"
            "from course.viz import GREEN, draw_graph, layout\n"
            "x = Value(2.0, label='x'); f = x * x + 1; f.backward()\n"
            "fig = draw_graph(f)\n"
            "green = [t.get_text() for t in fig.axes[0].texts if t.get_color() == GREEN]\n"
            "print(sorted(green))\n"
            "here = os.path.join(os.path.dirname(course.__file__), 'viz')\n"
            "print(os.path.dirname(layout.__file__) == here)",
            timeout=120,
        )
    finally:
        k.close()
    # (the box has no fontconfig configuration, which matplotlib may say on stderr)
    assert out.splitlines()[-2:] == ["['2.00', '2.00', '4.00', '5.00']", "True"]


def test_this_machine_has_the_box() -> None:
    isolation = require_bubblewrap()
    assert isolation.sandboxed and isolation.root == ROOT


def test_the_kernel_is_an_unprivileged_user_without_capabilities(kernel: Kernel) -> None:
    out = kernel.ok(
        "import os\n"
        "status = open('/proc/self/status').read()\n"
        "caps = [ln.split()[1] for ln in status.splitlines() if ln.startswith('Cap')]\n"
        "print(os.getuid(), os.geteuid(), os.getgid(), os.getegid(), len(os.getgroups()))\n"
        "print(set(caps), os.environ.get('HOME'), os.getcwd())\n"
        f"print({SECRET_ENV!r} in os.environ)"
    )
    ids, caps, secret = out.splitlines()
    uid, euid, gid, egid, groups = map(int, ids.split())
    assert uid == euid != 0 and gid == egid != 0
    if ROOT:
        assert uid == gid == kernel.slot.uid >= box.UID_BASE
        assert groups == 0
    else:
        assert uid == os.getuid()
    assert caps == f"{{'0000000000000000'}} {box.BOX_HOME} {box.BOX_WORK}"
    assert secret == "False"  # the kernel's environment is its own


def test_it_cannot_read_the_shadow_file(kernel: Kernel) -> None:
    ran = kernel.run("open('/etc/shadow').read()")
    assert ran.error is not None and ran.error[0] in ("FileNotFoundError", "PermissionError")


def test_it_sees_no_course_root(kernel: Kernel, course_root: Path) -> None:
    paths = [
        REPO / "source_assignments",
        REPO / "nbgrader_config.py",
        REPO / "autograder",
        REPO / "tests",
        course_root,
        course_root / "gradebook.db",
        course_root / "hidden_tests.py",
    ]
    assert all(p.exists() for p in paths)  # here they are
    out = kernel.ok(
        "import json, os\n"
        f"repo = {str(REPO)!r}\n"
        "print(json.dumps({\n"
        f"    'exists': [os.path.exists(p) for p in {[str(p) for p in paths]!r}],\n"
        "    'repo': sorted(os.listdir(repo)) if os.path.isdir(repo) else [],\n"
        "    'top': sorted(os.listdir('/')),\n"
        "    'home': sorted(os.listdir('/home')),\n"
        "    'tmp': sorted(os.listdir('/tmp')),\n"
        "}))"
    )
    seen = json.loads(out)
    assert seen["exists"] == [False] * len(paths)
    # of the repository, at most the course package and the virtualenv are bound in
    assert set(seen["repo"]) <= {"course", Path(sys.prefix).name}
    # the root holds the system's folders and the parents of what is bound, nothing else
    bound = [*box._runtime_paths(), *kernel.box.view, str(kernel.box.sockets)]
    allowed = {"bin", "dev", "etc", "home", "lib", "lib32", "lib64", "libx32", "proc", "sbin"}
    allowed |= {"tmp", "usr"} | {Path(p).parts[1] for p in bound}
    assert set(seen["top"]) <= allowed
    assert seen["home"] == ["student"]
    # its own /tmp: empty but for the parents of what is bound below it (the sockets, and the
    # runtime when the course lives under /tmp, as in a CI clone)
    below_tmp = {
        Path(p).parts[2] for p in bound if len(Path(p).parts) > 2 and Path(p).parts[1] == "tmp"
    }
    assert set(seen["tmp"]) <= below_tmp


def test_it_cannot_write_the_course_package_or_the_environment(kernel: Kernel) -> None:
    targets = {
        "new file in course": "os.path.join(os.path.dirname(course.__file__), 'evil.py')",
        "course/checks.py": "os.path.join(os.path.dirname(course.__file__), 'checks.py')",
        "new file in the venv": "os.path.join(sys.prefix, 'evil.py')",
        "numpy": "numpy.__file__",
        "the interpreter's prefix": "os.path.join(sys.base_prefix, 'evil.py')",
    }
    for what, path in targets.items():
        ran = kernel.run(
            "import os, sys, course, course.checks, numpy\n"
            f"p = {path}\n"
            "try:\n"
            "    open(p, 'a').close()\n"
            "    print('wrote', p)\n"
            "except OSError as exc:\n"
            "    print(exc.errno)"
        )
        assert ran.error is None, (what, ran)
        assert int(ran.stdout) in (errno.EROFS, errno.EACCES), (what, ran.stdout)
    out = kernel.ok(
        "import os, sys, course\n"
        "for p in (os.path.dirname(course.__file__), sys.prefix, sys.base_prefix):\n"
        "    print(bool(os.statvfs(p).f_flag & os.ST_RDONLY))"
    )
    assert out.split() == ["True"] * 3  # read-only mounts, whatever the files' owners
    # its own folders are writable
    kernel.ok("open('notes.txt', 'w').write('x'); open('/tmp/x', 'w').write('x')")


def test_it_has_no_network(kernel: Kernel) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        out = kernel.ok(
            "import socket\n"
            f"for address in [('127.0.0.1', {port}), ('1.1.1.1', 53)]:\n"
            "    try:\n"
            "        socket.create_connection(address, timeout=3).close()\n"
            "        print('connected')\n"
            "    except OSError as exc:\n"
            "        print(type(exc).__name__)\n"
            "print([name for _, name in socket.if_nameindex()])"
        )
        server.settimeout(0.2)
        with pytest.raises(TimeoutError):
            server.accept()  # nothing reached our listening socket
    local, outside, interfaces = out.splitlines()
    assert local == "ConnectionRefusedError"  # its own loopback, where nothing listens
    assert outside != "connected"
    assert interfaces == "['lo']"


def test_it_sees_only_its_own_processes_and_cannot_signal_ours(kernel: Kernel) -> None:
    out = kernel.ok(
        "import os\n"
        "pids = [int(p) for p in os.listdir('/proc') if p.isdigit()]\n"
        "print(len(pids), os.getpid())\n"
        "names = [open(f'/proc/{p}/cmdline').read().split(chr(0))[0] for p in pids]\n"
        "print(sorted({os.path.basename(n) for n in names}))\n"
        "try:\n"
        f"    os.kill({os.getpid()}, 0)\n"
        "    print('reached')\n"
        "except OSError as exc:\n"
        "    print(type(exc).__name__)\n"
        "try:\n"
        "    os.kill(1, 0)\n"
        "    print('reached')\n"
        "except OSError as exc:\n"
        "    print(type(exc).__name__)"
    )
    counts, names, ours, init = out.splitlines()
    count, pid = map(int, counts.split())
    assert count <= 4 and pid <= 4, out  # a namespace of its own: bubblewrap and the kernel
    assert set(eval(names)) <= {"bwrap", "python", "python3"}, names
    assert ours in ("ProcessLookupError", "PermissionError")
    if ROOT:  # bubblewrap's init is root's (as an ordinary user, it is the box's own user)
        assert init == "PermissionError"


def test_forbidden_modules_raise_an_import_error_that_names_the_rule(kernel: Kernel) -> None:
    statements = {
        "import course.graph": "course.graph",
        "from course import graph": "course.graph",
        "from course.graph import Value": "course.graph",
        "import colorsys": "colorsys",
        "import xmlrpc.client": "xmlrpc",
    }
    for statement, name in statements.items():
        out = kernel.ok(
            "try:\n"
            f"    {statement}\n"
            "    print('imported')\n"
            "except ImportError as exc:\n"
            "    print(exc)"
        )
        assert f"{name} is not available while ps1 is graded" in out, (statement, out)
        assert "the assignment's rules" in out
    # the rest of the package is there
    kernel.ok("from course import checks, gradcheck, activations")


def test_packages_installed_outside_the_environment_are_not_there(kernel: Kernel) -> None:
    """The base interpreter's site-packages (sympy and scipy are installed there on this
    machine) and the system's dist-packages are empty in the box: adding one to sys.path
    must not reach a package the stubs of the environment's copy cover."""
    foreign = box._foreign_site_packages()
    assert foreign, "a virtual environment always has its base interpreter's site-packages"
    assert any(os.listdir(p) for p in foreign)  # on the host they hold packages
    out = kernel.ok(
        "import os, sys\n"
        f"for p in {foreign!r}:\n"
        "    print(p, os.path.isdir(p), len(os.listdir(p)))\n"
        f"sys.path[:0] = {foreign!r}\n"
        "try:\n"
        "    import sympy\n"
        "    print('imported', sympy.__file__)\n"
        "except ImportError as exc:\n"
        "    print('refused:', type(exc).__name__)"
    )
    for p in foreign:
        assert f"{p} True 0" in out, out
    assert "imported" not in out


def test_the_rlimits_are_set(kernel: Kernel) -> None:
    out = kernel.ok(
        "import resource as r\n"
        "print([r.getrlimit(getattr(r, 'RLIMIT_' + k)) for k in "
        "('AS', 'CPU', 'FSIZE', 'NOFILE', 'CORE')])"
    )
    mib = 1024 * 1024
    assert eval(out) == [
        (LIMITS.memory_mb * mib,) * 2,
        (LIMITS.cpu_seconds, LIMITS.cpu_seconds + 5),
        (LIMITS.file_size_mb * mib,) * 2,
        (LIMITS.open_files,) * 2,
        (0, 0),
    ]


def test_the_file_size_limit_holds(kernel: Kernel) -> None:
    out = kernel.ok(
        "with open('big', 'wb') as fh:\n"
        "    fh.write(b'x' * 100_000)\n"
        "    try:\n"
        f"        fh.write(b'x' * {2 * LIMITS.file_size_mb * 2**20})\n"
        "        fh.flush()\n"
        "        print('wrote it all')\n"
        "    except OSError as exc:\n"
        "        print(exc.errno)\n"
        "import os\n"
        "print(os.path.getsize('big'))\n"
        "os.unlink('big')"
    )
    refused, size = out.split()
    assert int(refused) == errno.EFBIG  # Python ignores SIGXFSZ: the write fails instead
    assert int(size) <= LIMITS.file_size_mb * 2**20


def test_the_process_limit_holds(kernel: Kernel) -> None:
    out = kernel.ok(
        "import os, time\n"
        "children, refused = [], None\n"
        "try:\n"
        "    for _ in range(100):\n"
        "        pid = os.fork()\n"
        "        if pid == 0:\n"
        "            time.sleep(30)\n"
        "            os._exit(0)\n"
        "        children.append(pid)\n"
        "except OSError as exc:\n"
        "    refused = exc.errno\n"
        "for pid in children:\n"
        "    os.kill(pid, 9)\n"
        "    os.waitpid(pid, 0)\n"
        "print(len(children), refused)"
    )
    forked, refused = out.split()
    assert refused == str(errno.EAGAIN)
    assert int(forked) <= LIMITS.processes
    kernel.ok("import threading; t = threading.Thread(target=print); t.start(); t.join()")


def test_an_interrupt_stops_a_sleeping_cell(kernel: Kernel) -> None:
    async def interrupted() -> tuple[dict, float]:
        msg_id = kernel.kc.execute("import time; time.sleep(60)", stop_on_error=False)
        await asyncio.sleep(0.5)
        start = time.monotonic()
        await kernel.km.interrupt_kernel()
        while True:
            reply = await kernel.kc.get_shell_msg(timeout=10)
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply["content"], time.monotonic() - start

    assert kernel.km.kernel_spec.interrupt_mode == "message"  # bubblewrap forwards no signal
    content, seconds = kernel.loop.run_until_complete(interrupted())
    assert content["status"] == "error" and content["ename"] == "KeyboardInterrupt", content
    assert seconds < 2, seconds
    assert kernel.ok("print('still here')") == "still here\n"


def test_the_memory_limit_holds(kernel: Kernel) -> None:
    if ROOT:  # the cgroup counts the whole box
        procs = []
        for folder in kernel.box.cgroup.dirs:
            procs += [int(p) for p in (folder / "cgroup.procs").read_text().split()]
        assert descendants(kernel.pid) & set(procs), "the kernel is not in its cgroup"
        memory = [d for d in kernel.box.cgroup.dirs if "memory" in d.parts]
        limit = memory[0] / "memory.limit_in_bytes" if memory else None
        if limit is not None:
            assert int(limit.read_text()) == LIMITS.memory_mb * 2**20
    attempts = {
        "calloc: address space only": f"x = bytearray({2 * LIMITS.memory_mb} * 2**20)",
        "pages written": "import numpy as np\n"
        "chunks = []\n"
        f"for _ in range({2 * LIMITS.memory_mb // 64}):\n"
        "    chunks.append(np.ones(64 * 2**20 // 8))",
    }
    for what, code in attempts.items():
        try:
            ran = kernel.run(code)
        except RuntimeError:  # killed (the cgroup's out-of-memory killer): the limit held too
            assert not kernel.alive()
            return
        assert ran.error is not None and ran.error[0] == "MemoryError", (what, ran)
    kernel.ok("del chunks")


def test_a_shutdown_leaves_no_process_of_the_box(tmp_path_factory: pytest.TempPathFactory) -> None:
    # a short folder: the kernel's unix sockets are in it (their paths have at most 107 bytes)
    k = Kernel(tmp_path_factory.mktemp("box"), "shutdown")
    try:
        k.ok(
            "import os, subprocess, time\n"
            "subprocess.Popen(['setsid', 'sleep', '300'])\n"
            "if os.fork() == 0:  # a daemon, away from the kernel\n"
            "    os.setsid()\n"
            "    if os.fork() == 0:\n"
            "        time.sleep(300)\n"
            "        os._exit(0)\n"
            "    os._exit(0)\n"
            "time.sleep(0.2)"
        )
        inside = descendants(k.pid)
        assert len(inside) >= 4  # the kernel, its sleeper and the daemon (and setpriv's exec)
        if ROOT:
            assert len(box.processes_of(k.slot.uid)) >= 3
        k.shutdown()  # the kernel manager's own shutdown (the worker then closes the box)
        deadline = time.monotonic() + 3
        left: set[int] | list[int] = inside
        while time.monotonic() < deadline:
            left = [p for p in inside if os.path.exists(f"/proc/{p}")]
            if ROOT:
                left += box.processes_of(k.slot.uid)
            if not left:
                break
            time.sleep(0.05)
        assert not left, f"processes of the box outlived its kernel: {left}"
    finally:
        k.close()
