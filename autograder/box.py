"""The operating system's sandbox around a student's kernel (bubblewrap), and its fallback.

A grading kernel runs student code, so it runs in a *box*: a process tree that the operating
system keeps away from everything else.

* **What it sees** (bubblewrap, ``bwrap``): a root file system built for it, read-only: the
  system's programs and libraries (``/usr``), the Python that runs the kernel with its installed
  packages, and the ``course`` package as the assignment allows it (the modules it forbids are
  replaced by a stub that names the rule, see :func:`make_view`). Writable: only its own home
  (its working folder holds the files the assignment releases; ``/tmp`` is its own) and the folder
  of its sockets. Nothing of the course root (gradebook, sources, configuration, other students,
  other runs) exists in it. Its own process, network, IPC and host-name namespaces: no network at
  all, and it cannot see or signal any process outside.
* **Who it is**: an unprivileged user. Run by root, bubblewrap itself keeps root's access to host
  files, so the box switches to a user id of its own (``setpriv``, one per grading worker, from
  :data:`UID_BASE` up) before anything of the kernel runs; run by an ordinary user, bubblewrap
  makes a user namespace and the kernel is that user, with no capabilities.
* **What it may use** (``prlimit``, the last step before Python): address space, CPU seconds,
  file size, open files, processes, no core files; as root also a memory and a process cgroup
  (cgroup v1 or v2, where they can be written), which count the whole box.
* **How it is stopped**: interrupts go as messages (bubblewrap does not forward signals); killing
  bubblewrap ends the whole process namespace (``--die-with-parent``).

Where bubblewrap cannot make its namespaces (some containers), :func:`detect` says so and grading
falls back to the strongest thing that works: the kernel as a separate unprivileged user (root),
with the same limits. The report says which applied (:attr:`Isolation.summary`). Grading as root
with no isolation at all is refused unless asked for explicitly.

This module is imported by the grading worker only; nothing here runs inside the box.
"""

from __future__ import annotations

import ast
import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

LINUX = sys.platform.startswith("linux")

#: where the kernel lives inside the box
BOX_HOME = "/home/student"
BOX_WORK = f"{BOX_HOME}/work"
#: the first user id a root worker gives its boxes, and how many it tries
UID_BASE = 61000
UID_COUNT = 2000
#: root's folder (0711) of the per-uid lock files (shared by every grading run of the machine)
LOCK_DIR = Path("/tmp/backprop-grader-uids")  # one for the machine, whatever TMPDIR says
#: the cgroup (v1: under each controller; v2: under the root) that holds the boxes
CGROUP_NAME = "backprop-grader"

# -- the limits ----------------------------------------------------------------------------------


@dataclass
class Limits:
    """The limits of one box (0 or less: no limit of that kind).

    ``memory_mb``: address space of each process (``RLIMIT_AS``) and, as root, the memory of the
    whole box (a cgroup); ``cpu_seconds``: CPU time of the kernel (``RLIMIT_CPU``);
    ``file_size_mb``: the largest file it may write; ``processes``: processes and threads it may
    add; ``open_files``: file descriptors. The defaults fit any of the course's assignments several
    times over (ps4, the largest, peaks at about 1.1 GiB of address space).
    """

    memory_mb: int = 4096
    cpu_seconds: int = 900
    file_size_mb: int = 64
    processes: int = 64
    open_files: int = 1024

    def prlimit(self, nproc: int | None) -> list[str]:
        """The ``prlimit`` arguments that set these limits (``nproc``: the process limit)."""
        mib = 1024 * 1024
        args = ["--core=0"]
        if self.memory_mb > 0:
            args.append(f"--as={self.memory_mb * mib}")
        if self.cpu_seconds > 0:
            args.append(f"--cpu={self.cpu_seconds}:{self.cpu_seconds + 5}")
        if self.file_size_mb > 0:
            args.append(f"--fsize={self.file_size_mb * mib}")
        if self.open_files > 0:
            args.append(f"--nofile={self.open_files}")
        if nproc is not None and self.processes > 0:
            args.append(f"--nproc={nproc}")
        return args


LIMIT_NAMES = tuple(f.name for f in fields(Limits))


# -- which isolation this machine allows ---------------------------------------------------------


class IsolationError(RuntimeError):
    """Grading would run student code without the isolation the instructor asked for."""


@dataclass(frozen=True)
class Isolation:
    """How the grading kernels are isolated on this machine.

    ``kind``: ``"bubblewrap"`` (the box of the module doc), ``"user"`` (fallback: a separate
    unprivileged user with limits, no namespaces) or ``"none"`` (the kernel runs as the grading
    user, with limits only). ``detail`` says why, in plain words.
    """

    kind: str
    detail: str
    root: bool

    @property
    def summary(self) -> str:
        words = {
            "bubblewrap": "OS sandbox (bubblewrap: own file system view, no network, own "
            "processes, an unprivileged user, limits)",
            "user": "FALLBACK: no sandbox; each kernel runs as a separate unprivileged user with "
            "limits, and can read what that user may read and use the network",
            "none": "NO ISOLATION: kernels run as the grading user with limits only; student "
            "code can read and change whatever this user can",
        }[self.kind]
        return f"{words}. {self.detail}".strip()

    @property
    def sandboxed(self) -> bool:
        return self.kind == "bubblewrap"


def _run_quietly(argv: list[str]) -> tuple[bool, str]:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError) as exc:
        return False, str(exc)
    said = (done.stderr or done.stdout).strip().splitlines()
    return done.returncode == 0, said[-1] if said else ""


#: set to ``user`` or ``none`` to grade with a weaker isolation than this machine allows (to try
#: the fallback; it is said like any fallback)
WEAKER = "BACKPROP_GRADER_ISOLATION"


@lru_cache(maxsize=1)
def detect() -> Isolation:
    """Try bubblewrap (and, as root, the switch of user) once; say what works here."""
    asked = os.environ.get(WEAKER, "")
    found = _detect(bubblewrap=asked not in ("user", "none"))
    if asked == "none" and found.kind != "none":
        return Isolation("none", f"{WEAKER}=none asked for it", found.root)
    if asked == "user" and found.kind == "user":
        return Isolation("user", f"{WEAKER}=user asked for it", found.root)
    return found


def _detect(bubblewrap: bool = True) -> Isolation:
    root = LINUX and os.geteuid() == 0
    if not LINUX:
        return Isolation("none", "this is not Linux: there is no sandbox", root)
    bwrap, setpriv, prlimit = (shutil.which(p) for p in ("bwrap", "setpriv", "prlimit"))
    if prlimit is None:
        return Isolation("none", "prlimit (util-linux) is missing", root)
    why = ""
    if not bubblewrap:
        why = f"bubblewrap is not used ({WEAKER})"
    elif bwrap is None:
        why = "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    else:
        probe = [bwrap, *_namespaces(root), "--ro-bind", "/", "/", "--proc", "/proc"]
        probe += ["--dev", "/dev", "--"]
        if root:
            probe += _drop(setpriv or "setpriv", UID_BASE + UID_COUNT)
        probe += ["/bin/true"]
        if root and setpriv is None:
            why = "setpriv (util-linux) is missing"
        else:
            ok, said = _run_quietly(probe)
            if ok:
                return Isolation("bubblewrap", "", root)
            why = (
                f"bubblewrap cannot create its namespaces here ({said or 'it failed'}); in a "
                "container, allow user namespaces or run it with --privileged"
            )
    if root and setpriv is not None:
        python = os.path.join(sys.prefix, "bin", "python")
        check = f"import sys, ipykernel; assert sys.base_prefix == {sys.base_prefix!r}"
        probe = [*_drop(setpriv, UID_BASE + UID_COUNT), python, "-I", "-c", check]
        ok, said = _run_quietly(probe)
        if ok:
            return Isolation("user", why, root)
        why += (
            f"; and a separate user cannot run this Python ({python}: {said or 'it failed'}): "
            "put the virtualenv and its base Python where every user may read them, not under "
            "a 0700 folder such as /root"
        )
    return Isolation("none", why, root)


def _namespaces(root: bool) -> list[str]:
    """bubblewrap's namespace options: as root no user namespace (the switch of user needs the
    host's ids), as a user a user namespace (that is what lets bubblewrap run unprivileged)."""
    common = ["--die-with-parent", "--new-session"]
    if root:
        flags = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
        return [*flags, "--unshare-cgroup-try", *common]
    return ["--unshare-all", "--cap-drop", "ALL", *common]


def _drop(setpriv: str, uid: int) -> list[str]:
    return [
        setpriv,
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--no-new-privs",
        "--bounding-set=-all",
        "--inh-caps=-all",
        "--",
    ]


# -- a user id per worker ------------------------------------------------------------------------


def _lock(path: Path, create: bool) -> int | None:
    flags = os.O_RDONLY | os.O_NOFOLLOW | (os.O_CREAT if create else 0)
    try:
        fd = os.open(path, flags, 0o600)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _uid_in_use(uid: int) -> bool:
    import grp
    import pwd

    try:
        pwd.getpwuid(uid)
        return True
    except KeyError:
        pass
    try:
        grp.getgrgid(uid)
        return True
    except KeyError:
        pass
    return bool(processes_of(uid))


def processes_of(uid: int) -> list[int]:
    """The processes that run as ``uid`` now (Linux ``/proc``)."""
    found = []
    with contextlib.suppress(OSError):
        for name in os.listdir("/proc"):
            if name.isdigit():
                with contextlib.suppress(OSError):
                    if os.stat(f"/proc/{name}").st_uid == uid:
                        found.append(int(name))
    return found


def kill_processes_of(uid: int) -> int:
    """SIGKILL every process of ``uid`` until none is left; how many were killed."""
    return kill_until_gone(lambda: processes_of(uid))


def kill_until_gone(find, rounds: int = 50) -> int:
    """SIGKILL the processes ``find()`` names until it names none (a process may fork meanwhile:
    at most ``rounds`` passes); how many were killed."""
    import time

    killed = 0
    for _ in range(rounds):
        found = find()
        if not found:
            break
        for pid in found:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
        time.sleep(0.02)
    return killed


class Slot:
    """The user id that one grading worker gives its boxes (root), held by a lock for the life of
    the worker; an ordinary user's boxes are that user (in a user namespace)."""

    def __init__(self) -> None:
        self.uid = os.getuid()
        self._fd: int | None = None
        if LINUX and os.geteuid() == 0:
            LOCK_DIR.mkdir(mode=0o711, exist_ok=True)
            st = os.lstat(LOCK_DIR)
            if st.st_uid != 0 or st.st_mode & 0o022:
                raise IsolationError(f"{LOCK_DIR} is not root's own folder: remove it")
            for uid in range(UID_BASE, UID_BASE + UID_COUNT):
                fd = _lock(LOCK_DIR / f"uid-{uid}.lock", create=True)
                if fd is None:
                    continue
                if _uid_in_use(uid):
                    os.close(fd)
                    continue
                self.uid, self._fd = uid, fd
                break
            else:
                raise IsolationError("no free user id for the grading kernels")

    @property
    def separate(self) -> bool:
        """The boxes run as a user of their own (root grading)."""
        return self._fd is not None

    def kill_all(self) -> int:
        """SIGKILL every process of this slot's user id (root); how many there were."""
        return kill_processes_of(self.uid) if self.separate else 0

    def close(self) -> None:
        if self._fd is not None:
            self.kill_all()
            os.close(self._fd)
            self._fd = None


# -- cgroups (root) ------------------------------------------------------------------------------


class Cgroup:
    """A memory and process cgroup for one box, where this machine lets us write one (root)."""

    def __init__(self, name: str, limits: Limits) -> None:
        self.dirs: list[Path] = []
        if not (LINUX and os.geteuid() == 0):
            return
        base = Path("/sys/fs/cgroup")
        with contextlib.suppress(OSError):
            if (base / "cgroup.controllers").is_file():  # v2
                self._v2(base, name, limits)
            else:
                self._v1(base, name, limits)

    def _v1(self, base: Path, name: str, limits: Limits) -> None:
        settings = {
            "memory": {"memory.limit_in_bytes": limits.memory_mb * 1024 * 1024}
            if limits.memory_mb > 0
            else {},
            "pids": {"pids.max": limits.processes + 8} if limits.processes > 0 else {},
        }
        for controller, values in settings.items():
            if not values or not (base / controller).is_dir():
                continue
            folder = base / controller / CGROUP_NAME / name
            try:
                folder.mkdir(parents=True, exist_ok=True)
                for key, value in values.items():
                    (folder / key).write_text(str(value))
                swap = folder / "memory.memsw.limit_in_bytes"
                if controller == "memory" and swap.exists():
                    with contextlib.suppress(OSError):
                        swap.write_text(str(values["memory.limit_in_bytes"]))
            except OSError:
                with contextlib.suppress(OSError):
                    folder.rmdir()
                continue
            self.dirs.append(folder)

    def _v2(self, base: Path, name: str, limits: Limits) -> None:
        parent = base / CGROUP_NAME
        parent.mkdir(exist_ok=True)
        with contextlib.suppress(OSError):
            (parent / "cgroup.subtree_control").write_text("+memory +pids")
        folder = parent / name
        folder.mkdir(exist_ok=True)
        try:
            if limits.memory_mb > 0:
                (folder / "memory.max").write_text(str(limits.memory_mb * 1024 * 1024))
                with contextlib.suppress(OSError):
                    (folder / "memory.swap.max").write_text("0")
            if limits.processes > 0:
                (folder / "pids.max").write_text(str(limits.processes + 8))
        except OSError:
            with contextlib.suppress(OSError):
                folder.rmdir()
            return
        self.dirs.append(folder)

    def prefix(self) -> list[str]:
        """A command prefix that moves itself into the cgroups, then runs the rest."""
        if not self.dirs:
            return []
        script = 'for f in "$@"; do [ "$f" = -- ] && break; echo $$ > "$f" || exit 97; done; '
        script += 'while [ "$1" != -- ]; do shift; done; shift; exec "$@"'
        return ["/bin/sh", "-c", script, "sh", *(str(d / "cgroup.procs") for d in self.dirs), "--"]

    @staticmethod
    def sweep() -> int:
        """Remove the cgroups that grading workers no longer alive left behind (a worker killed
        with SIGKILL cannot clean up); how many. Their names start with ``w<pid of the worker>``."""
        removed = 0
        base = Path("/sys/fs/cgroup")
        parents = [base / c / CGROUP_NAME for c in ("memory", "pids")] + [base / CGROUP_NAME]
        for parent in parents:
            with contextlib.suppress(OSError):
                for folder in parent.iterdir():
                    pid = folder.name[1:].split("-")[0]
                    if not (folder.is_dir() and folder.name.startswith("w") and pid.isdigit()):
                        continue
                    if Path(f"/proc/{pid}").exists():
                        continue
                    stale = Cgroup.__new__(Cgroup)
                    stale.dirs = [folder]
                    stale.close()
                    removed += not folder.exists()
        return removed

    def close(self) -> None:
        """Kill whatever is left in the cgroups, then remove them."""
        for folder in self.dirs:
            kill_until_gone(lambda folder=folder: _members(folder))
            with contextlib.suppress(OSError):
                folder.rmdir()
        self.dirs = []


def _members(cgroup: Path) -> list[int]:
    """The processes in a cgroup (none once it is gone)."""
    try:
        return [int(p) for p in (cgroup / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


# -- the view of the course package --------------------------------------------------------------


def _rule(value: ast.expr) -> list[str]:
    """The names a ``FORBID`` tuple holds: string literals, and ``*checks.ALWAYS_FORBIDDEN``
    (the course-wide list, taken from the grader's own ``course.checks``). Anything else in it
    is a mistake of the assignment's author, said as such."""
    if not isinstance(value, ast.Tuple | ast.List):
        raise ValueError("a FORBID rule is a tuple of module names")
    out: list[str] = []
    for item in value.elts:
        if isinstance(item, ast.Constant) and isinstance(item.value, str):
            out.append(item.value)
        elif (
            isinstance(item, ast.Starred)
            and isinstance(item.value, ast.Attribute)
            and isinstance(item.value.value, ast.Name)
            and (item.value.value.id, item.value.attr) == ("checks", "ALWAYS_FORBIDDEN")
        ):
            from course.checks import ALWAYS_FORBIDDEN

            out += ALWAYS_FORBIDDEN
        else:
            raise ValueError(
                f"a FORBID rule holds module names as strings and *checks.ALWAYS_FORBIDDEN, "
                f"not {ast.unparse(item)}"
            )
    return out


def declared_rules(path: Path) -> dict[str, list[str]]:
    """The ``FORBID`` and ``FORBID_TRAINING`` tuples of a support module, by name (read, not
    imported)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rules: dict[str, list[str]] = {}
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        for t in targets:
            if isinstance(t, ast.Name) and t.id.startswith("FORBID"):
                rules[t.id] = _rule(node.value)
    return rules


def declared_forbidden(support_files: list[Path]) -> list[str]:
    """The modules an assignment's graded parts must not use: the ``FORBID`` and
    ``FORBID_TRAINING`` tuples of its support modules (read, not imported)."""
    out: list[str] = []
    for path in support_files:
        try:
            rules = declared_rules(path)
        except (OSError, SyntaxError, ValueError):
            continue
        for names in rules.values():
            out += [v for v in names if v not in out]
    return out


STUB = '''"""Not available while {assignment} is graded."""


class ForbiddenModuleError(ImportError):
    """A module the assignment's graded parts must not use (autograder.findings matches it)."""


raise ForbiddenModuleError(
    "{module} is not available while {assignment} is graded: this part must be computed by your "
    "own code, not {module} (the assignment's rules). Use it to check your work before you "
    "submit, not in your answers."
)
'''


def _copy_package(
    source: Path, target: Path, name: str, forbidden: list[str], assignment: str
) -> None:
    """Copy the package ``name`` from ``source`` to ``target``: its modules with their compiled
    files, its folders of data (without code), then its subpackages the same way. A module that
    ``forbidden`` names (or names a name inside) becomes a stub, without its compiled files; a
    subpackage that it names becomes a folder holding only a stub ``__init__.py``."""
    (target / "__pycache__").mkdir(parents=True)
    for path in sorted(source.glob("*.py")):
        module = f"{name}.{path.stem}"
        if any(m == module or m.startswith(module + ".") for m in forbidden):
            (target / path.name).write_text(STUB.format(assignment=assignment, module=module))
            continue
        shutil.copy2(path, target / path.name)
        for compiled in (source / "__pycache__").glob(f"{path.stem}.*.pyc"):
            shutil.copy2(compiled, target / "__pycache__" / compiled.name)
    for folder in sorted(p for p in source.iterdir() if p.is_dir() and not p.is_symlink()):
        if folder.name == "__pycache__":
            continue
        if not (folder / "__init__.py").is_file():  # data the package reads (course/datasets)
            skip = shutil.ignore_patterns("*.py", "*.pyc", "__pycache__")  # code only in packages
            shutil.copytree(folder, target / folder.name, ignore=skip)
            continue
        module = f"{name}.{folder.name}"
        if module in forbidden:
            (target / folder.name).mkdir()
            stub = STUB.format(assignment=assignment, module=module)
            (target / folder.name / "__init__.py").write_text(stub)
        else:
            _copy_package(folder, target / folder.name, module, forbidden, assignment)


def make_view(where: Path, assignment: str, forbidden: list[str]) -> dict[str, str]:
    """The read-only files a box sees in place of installed code: ``{box path: host path}``.

    ``course`` is copied with its subpackages, without the forbidden modules: each becomes a stub
    that raises an ImportError naming the rule (a forbidden subpackage, such as ``course.viz``,
    as a whole; a module inside one, such as ``course.viz.graphs``, alone), and their compiled
    files are left out. Every other forbidden package that is installed is covered by such a stub
    too.
    """
    import importlib.util

    import course

    binds: dict[str, str] = {}
    if getattr(course, "__file__", None) is None:
        raise IsolationError(
            f"the course package is shadowed by a folder named course ({list(course.__path__)}): "
            "run the autograder from another folder"
        )
    package = Path(course.__file__).resolve().parent
    view = where / "course"
    shutil.rmtree(view, ignore_errors=True)
    _copy_package(package, view, "course", forbidden, assignment)
    binds[str(package)] = str(view)
    stubs = where / "stubs"
    for name in forbidden:
        if name == "course" or name.startswith("course."):
            continue
        parts = name.split(".")
        if any(".".join(parts[:k]) in forbidden for k in range(1, len(parts))):
            continue  # a package that is forbidden whole is one stub already
        top = name.split(".")[0]
        try:
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.origin:
            continue
        installed = Path(spec.origin).parent if spec.submodule_search_locations else None
        if installed is None:  # a single-file module
            stub = stubs / f"{top}.py"
            stub.parent.mkdir(parents=True, exist_ok=True)
            stub.write_text(STUB.format(assignment=assignment, module=top))
            binds[str(Path(spec.origin))] = str(stub)
            continue
        parts = name.split(".")[1:]
        target = installed.joinpath(*parts)
        if not target.is_dir():
            if target.with_suffix(".py").is_file():
                stub = stubs / (name + ".py")
                stub.parent.mkdir(parents=True, exist_ok=True)
                stub.write_text(STUB.format(assignment=assignment, module=name))
                binds[str(target.with_suffix(".py"))] = str(stub)
            continue
        stub_dir = stubs / name
        stub_dir.mkdir(parents=True, exist_ok=True)
        (stub_dir / "__init__.py").write_text(STUB.format(assignment=assignment, module=name))
        binds[str(target)] = str(stub_dir)
    for folder, _dirs, files in os.walk(where):
        os.chmod(folder, 0o755)
        for f in files:
            os.chmod(os.path.join(folder, f), 0o644)
    return binds


# -- the box of one kernel -----------------------------------------------------------------------


def _runtime_paths() -> list[str]:
    """What Python needs to run the kernel: the interpreter's prefix and the environment's."""
    paths = [sys.base_prefix, sys.prefix]
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        import sysconfig

        value = sysconfig.get_paths().get(key)
        if value:
            paths.append(value)
    out: list[str] = []
    for p in paths:
        real = os.path.realpath(p)
        if not any(real == o or real.startswith(o + os.sep) for o in out):
            out = [o for o in out if not o.startswith(real + os.sep)]
            out.append(real)
    return out


def _foreign_site_packages() -> list[str]:
    """Folders of installed Python packages that the box would show but the kernel's Python
    does not use: the base interpreter's own site-packages beside a virtual environment, and
    the system's dist-packages under ``/usr``. A forbidden package installed there (sympy,
    scipy) is out of reach of the stubs, which cover the copy the environment imports, and one
    ``sys.path.insert`` would load it; the box lays an empty, read-only folder over each."""
    import glob
    import sysconfig

    own = {
        os.path.realpath(p)
        for key in ("purelib", "platlib")
        if (p := sysconfig.get_paths().get(key))
    }
    candidates = [
        sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_prefix})[key]
        for key in ("purelib", "platlib")
    ]
    for root in ("/usr/lib", "/usr/local/lib", "/usr/lib64", "/usr/local/lib64"):
        candidates += glob.glob(f"{root}/python3*/dist-packages")
        candidates += glob.glob(f"{root}/python3*/site-packages")
        candidates += glob.glob(f"{root}/python3/dist-packages")
    out: list[str] = []
    for path in candidates:
        real = os.path.realpath(path)
        if not os.path.isdir(real) or real in out:
            continue
        # never one that holds, or lies inside, a folder the kernel's Python needs
        if any(
            o == real or o.startswith(real + os.sep) or real.startswith(o + os.sep) for o in own
        ):
            continue
        out.append(real)
    return sorted(out)


SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = (
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/alternatives",
    "/etc/hosts",
)

#: the first code the kernel's Python runs: the interpreter must be the grader's (a Python that
#: cannot read its own prefix silently falls back to another one), the released files are
#: importable after the course's own modules, and the kernel starts
BOOT = """\
import sys
if (sys.prefix, sys.base_prefix) != ({prefix!r}, {base!r}):
    sys.stderr.write("the grading box cannot reach the grader's Python ({base}); got ")
    sys.stderr.write(sys.base_prefix + "\\n")
    raise SystemExit(3)
sys.path.append({work!r})
from ipykernel import kernelapp
kernelapp.launch_new_instance()
"""


@dataclass
class Box:
    """One kernel's box: its host folders, who it runs as, its limits, and what it sees.

    ``home``: host folder shown as :data:`BOX_HOME` (the working folder ``work/`` inside it holds
    the released files); ``sockets``: the folder of the kernel's sockets and connection file
    (same path inside and out); ``view``: installed paths replaced for this assignment
    (:func:`make_view`).
    """

    home: Path
    sockets: Path
    isolation: Isolation
    limits: Limits
    uid: int
    view: dict[str, str]
    env: dict[str, str]
    cgroup: Cgroup | None = None

    @property
    def work(self) -> Path:
        return self.home / "work"

    def prepare(self) -> None:
        """Make the host folders and give them to the box's user."""
        for folder in (self.home, self.work, self.home / "tmp", self.sockets):
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o700)
        if os.geteuid() == 0 and self.uid != 0:
            for folder in (self.home, self.sockets):
                for top, dirs, files in os.walk(folder):
                    for name in [top, *(os.path.join(top, n) for n in dirs + files)]:
                        os.lchown(name, self.uid, self.uid)

    def python_argv(self, connection_file: str) -> list[str]:
        work = BOX_WORK if self.isolation.sandboxed else str(self.work)
        boot = BOOT.format(prefix=sys.prefix, base=sys.base_prefix, work=work)
        return [
            os.path.join(sys.prefix, "bin", "python"),
            "-I",
            "-c",
            boot,
            "-f",
            connection_file,
            "--IPKernelApp.ignore_cwd=True",
            "--HistoryManager.enabled=False",
            "--IPKernelApp.parent_handle=0",
        ]

    def kernel_env(self) -> dict[str, str]:
        home = BOX_HOME if self.isolation.sandboxed else str(self.home)
        env = {
            "HOME": home,
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "TMPDIR": "/tmp" if self.isolation.sandboxed else f"{home}/tmp",
            "IPYTHONDIR": f"{home}/.ipython",
            "MPLCONFIGDIR": f"{home}/.config/matplotlib",
            "JUPYTER_RUNTIME_DIR": f"{home}/.local/share/jupyter/runtime",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        env.update(self.env)
        return env

    def nproc(self) -> int | None:
        """The process limit: per user id, so as an ordinary user what that user runs already
        counts too."""
        if self.limits.processes <= 0:
            return None
        if self.uid != os.getuid() or os.geteuid() == 0:
            return self.limits.processes + 1
        mine = 0
        with contextlib.suppress(OSError):
            for name in os.listdir("/proc"):
                if name.isdigit():
                    with contextlib.suppress(OSError, ValueError):
                        status = Path(f"/proc/{name}/status").read_text()
                        uid = int(status.split("\nUid:")[1].split()[0])
                        if uid == self.uid:
                            threads = int(status.split("\nThreads:")[1].split()[0])
                            mine += threads
        return mine + self.limits.processes

    def output_file(self) -> int:
        """A descriptor of the file that takes what the kernel writes to its descriptors 1 and 2:
        beside the box's folders, where the box cannot reach it. Not the worker's own log: a
        kernel that fills a shared file up to its file size limit would make every later
        kernel of the worker die at its first write."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC
        return os.open(self.home.parent / "kernel-output.log", flags, 0o600)

    def argv(self, connection_file: str) -> list[str]:
        """The command that starts the kernel in this box."""
        limits = ["prlimit", *self.limits.prlimit(self.nproc()), "--"]
        python = self.python_argv(connection_file)
        prefix = self.cgroup.prefix() if self.cgroup else []
        if not self.isolation.sandboxed:
            env = ["env", "-i", *(f"{k}={v}" for k, v in self.kernel_env().items())]
            chdir = ["env", f"--chdir={self.work}"]
            if self.isolation.kind == "user":
                return [*prefix, *_drop("setpriv", self.uid), *chdir, *env, *limits, *python]
            return [*prefix, *chdir, *env, *limits, *python]
        args = ["bwrap", *_namespaces(self.isolation.root)]
        made: set[str] = {"/"}

        def parents(path: str) -> None:
            parts = Path(path).parts[1:-1]
            current = ""
            for part in parts:
                current += "/" + part
                if current not in made:
                    args.extend(["--perms", "0755", "--dir", current])
                    made.add(current)

        def bind(source: str, target: str, writable: bool = False) -> None:
            parents(target)
            args.extend(["--bind" if writable else "--ro-bind", source, target])
            made.add(target)

        for path in SYSTEM_DIRS:
            if os.path.islink(path):
                args.extend(["--symlink", os.readlink(path), path])
                made.add(path)
            elif os.path.isdir(path):
                bind(path, path)
        for path in ETC_FILES:
            if os.path.exists(path):
                bind(path, path)
        # its own /tmp and home first: what is bound after them may lie below them (a clone of
        # the course in /tmp, say) and stays visible, read-only
        bind(str(self.home / "tmp"), "/tmp", writable=True)
        bind(str(self.home), BOX_HOME, writable=True)
        for path in _runtime_paths():
            bind(path, path)
        for path in _foreign_site_packages():
            args.extend(["--perms", "0555", "--tmpfs", path, "--remount-ro", path])
        for target, source in sorted(self.view.items()):
            bind(source, target)
        args.extend(["--proc", "/proc", "--dev", "/dev"])
        bind(str(self.sockets), str(self.sockets), writable=True)
        args.extend(["--chdir", BOX_WORK, "--clearenv"])
        for key, value in self.kernel_env().items():
            args.extend(["--setenv", key, value])
        args.append("--")
        if self.isolation.root:
            args.extend(_drop("setpriv", self.uid))
        return [*prefix, *args, *limits, *python]

    def close(self) -> None:
        if self.cgroup is not None:
            self.cgroup.close()


# -- the kernel manager and client ---------------------------------------------------------------

#: the largest message the grader accepts from a kernel (a bigger one is dropped unread)
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


def _classes() -> dict[str, type]:
    if _CLASSES:
        return _CLASSES
    import zmq
    from jupyter_client.asynchronous import AsyncKernelClient
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager

    class BoxKernelClient(AsyncKernelClient):
        """A kernel client that refuses oversized messages (they are dropped by ZeroMQ before
        they reach memory) and keeps few of them waiting."""

        async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
            """jupyter_client's wait, without its last 0.2 s: once the kernel has answered
            ``kernel_info`` and IOPub has delivered a message (it is connected), what IOPub
            still holds is dropped at once instead of waiting 0.2 s for more."""
            import asyncio
            import queue
            import time

            deadline = time.monotonic() + (timeout if timeout is not None else 60.0)
            while True:
                self.kernel_info()
                try:
                    msg = await self.shell_channel.get_msg(timeout=1)
                except queue.Empty:
                    msg = None
                if msg is not None and msg["msg_type"] == "kernel_info_reply":
                    try:
                        await self.iopub_channel.get_msg(timeout=0.2)
                    except queue.Empty:
                        pass
                    else:
                        self._handle_kernel_info_reply(msg)
                        break
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")
                await asyncio.sleep(0)
            for _ in range(1000):
                try:
                    await self.iopub_channel.get_msg(timeout=0)
                except queue.Empty:
                    break

        wait_for_ready = _async_wait_for_ready  # jupyter_client binds the name to its own

        def _create_connected_socket(self, channel: str, identity: bytes | None = None):
            url = self._make_url(channel)
            sock = self.context.socket(
                {"iopub": zmq.SUB, "shell": zmq.DEALER, "stdin": zmq.DEALER}.get(
                    channel, zmq.DEALER
                )
                if channel != "hb"
                else zmq.REQ
            )
            sock.linger = 1000
            sock.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
            sock.setsockopt(zmq.RCVHWM, 64)
            if identity:
                sock.identity = identity
            sock.connect(url)
            return sock

    class BoxKernelManager(AsyncKernelManager):
        """Starts the kernel in its :class:`Box`, over unix sockets (the box has no network)."""

        box: Box | None = None

        @property
        def kernel_spec(self):
            return KernelSpec(
                argv=["python"],
                display_name="Python 3 (grading box)",
                language="python",
                interrupt_mode="message",
            )

        async def _async_wait(self, pollinterval: float = 0.1) -> None:
            # after a kill, jupyter_client polls every 0.1 s: a box dies within milliseconds
            import asyncio

            while await self._async_is_alive():
                await asyncio.sleep(0.005)

        def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
            assert self.box is not None
            cf = self.connection_file
            if os.geteuid() == 0 and self.box.uid != 0:
                with contextlib.suppress(OSError):
                    os.chown(cf, self.box.uid, self.box.uid)
            return self.box.argv(cf)

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            assert self.box is not None
            out = self.box.output_file()  # the kernel's output: its own file (Box.output_file)
            try:
                kw.update(stdout=out, stderr=out)
                await super()._async_launch_kernel(kernel_cmd, **kw)
            finally:
                os.close(out)

    for cls in (BoxKernelManager, BoxKernelClient):
        cls.__qualname__ = cls.__name__
        _CLASSES[cls.__name__] = cls
    return _CLASSES


_CLASSES: dict[str, type] = {}


def kernel_manager(box: Box) -> Any:
    """A kernel manager that starts its kernel in ``box``."""
    cls = _classes()["BoxKernelManager"]
    km = cls(
        transport="ipc",
        ip=str(box.sockets / "k"),
        connection_file=str(box.sockets / "kernel.json"),
        client_factory=_classes()["BoxKernelClient"],
    )
    km.box = box
    return km


def __getattr__(name: str) -> Any:
    if name in ("BoxKernelManager", "BoxKernelClient"):
        return _classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
