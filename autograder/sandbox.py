"""Run a student's notebook in a kernel with limits, and turn its faults into per-cell results.

Four pieces, wired into nbgrader's autograde by :func:`configure`:

* **The launcher**, ``python -m autograder.sandbox [options] -- <kernel argv...>``: sets the
  operating system's limits (memory, CPU seconds, file size, open files, no core files, and a
  process limit) and then *becomes* the kernel (``execvp``: the kernel keeps the launcher's
  process id, so jupyter_client signals and stops it as usual). As root it first drops to an
  unprivileged user id of its own (``RLIMIT_NPROC`` does not hold for root), one per running
  kernel, with a private home and temporary folder. When that user could not run the kernel (the
  Python, its libraries or the working folder are out of its reach, as under ``/root``) the
  kernel keeps root, and instead of a process limit a seccomp filter lets it start no process
  at all (threads still); it says so on stderr. On Linux the kernel also dies with the process
  that started it (``PR_SET_PDEATHSIG``).
* :class:`SandboxKernelManager`: jupyter_client's ``AsyncKernelManager`` that starts every kernel
  through the launcher, with the limits as configurable traits.
* :class:`SandboxedExecute`: nbgrader's ``Execute`` with that kernel manager, a ``startup`` code
  run in the kernel before the first cell, and faults kept per cell: a kernel that dies during
  a cell gives that cell a ``KernelDied`` error and every later code cell a ``NotRun`` error (so
  no later test passes), a cell that overruns the timeout fails with nbgrader's
  ``CellTimeoutError``, and a kernel that stays stuck after the interrupt is stopped like a dead
  one; the notebook is then finished normally, so nbgrader saves the scores of what did run.
* :class:`LimitOutputSize`: outputs bounded in characters (nbgrader's ``LimitOutput`` counts
  lines only), huge images dropped, and text cleaned of what would break the HTML or the JSON.

For the grading worker, :func:`become_subreaper` and :func:`kill_leftovers` end whatever a kernel
left running; :func:`findings_from_outputs` says in plain words what the pieces above left in an
autograded notebook.

This module imports nothing heavy at the top: the launcher runs before every kernel. The classes
that build on nbgrader and jupyter_client are made on first use (module ``__getattr__``).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import unicodedata
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autograder.findings import Finding

try:
    import resource
except ImportError:  # Windows: no limits at all
    resource = None  # type: ignore[assignment]

LINUX = sys.platform.startswith("linux")

# -- the limits ----------------------------------------------------------------------------------


@dataclass
class Limits:
    """The limits of one kernel (0 or less: no limit of that kind).

    ``memory_mb``: address space (``RLIMIT_AS``); a Python allocation beyond it raises
    ``MemoryError``. ``cpu_seconds``: CPU time of the whole kernel (``RLIMIT_CPU``: ``SIGXCPU`` at
    the limit, ``SIGKILL`` five seconds later). ``file_size_mb``: the largest file the kernel may
    write (``RLIMIT_FSIZE``; Python gets ``OSError: File too large``). ``processes``: processes
    and threads the kernel may add (``RLIMIT_NPROC``, counted per user id; a kernel that keeps
    root may start no process at all, see :func:`forbid_new_processes`). ``open_files``:
    ``RLIMIT_NOFILE``. The defaults fit grading any of the course's assignments several times
    over (ps4, the largest, peaks at about 1.1 GiB of address space and 160 MiB resident).
    """

    memory_mb: int = 4096
    cpu_seconds: int = 900
    file_size_mb: int = 64
    processes: int = 64
    open_files: int = 1024

    def argv(self) -> list[str]:
        return [
            arg
            for f in fields(self)
            for arg in (f"--{f.name.replace('_', '-')}", str(getattr(self, f.name)))
        ]


#: the first user id the launcher tries when it drops root, and how many it tries
UID_BASE = 61000
UID_COUNT = 2000
#: root's folder (mode 0711) of the per-uid lock files ``uid-<uid>.lock`` and of the kernels'
#: private folders ``home-<uid>`` (each emptied when its uid is next used)
LOCK_DIR = Path(tempfile.gettempdir()) / "autograder-sandbox"
#: extra grace of the hard CPU limit over the soft one (SIGXCPU first, then SIGKILL)
CPU_GRACE = 5

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


_LIBC: list[Any] = []


def _libc() -> Any:
    """The C library (loaded once: after dropping root, Python's own modules may be out of
    reach, so the launcher loads it before)."""
    if not _LIBC:
        try:
            import ctypes

            _LIBC.append(ctypes.CDLL(None, use_errno=True))
        except (ImportError, OSError):
            _LIBC.append(None)
    return _LIBC[0]


def _prctl(option: int, value: int) -> bool:
    libc = _libc() if LINUX else None
    if libc is None:
        return False
    try:
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _warn(message: str) -> None:
    sys.stderr.write(f"autograder.sandbox: {message}\n")
    sys.stderr.flush()


# -- /proc ---------------------------------------------------------------------------------------


@dataclass
class _Proc:
    pid: int
    ppid: int
    uid: int
    threads: int
    state: str


def _processes() -> dict[int, _Proc]:
    """Every process of the machine (Linux ``/proc``), by pid; empty elsewhere."""
    out: dict[int, _Proc] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return out
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status", encoding="utf-8", errors="replace") as fh:
                status = fh.read()
        except OSError:
            continue
        values = dict(
            line.split(":", 1) for line in status.splitlines() if ":" in line
        )  # Name, State, PPid, Uid, Threads, ...
        try:
            out[int(name)] = _Proc(
                pid=int(name),
                ppid=int(values.get("PPid", "0").strip() or 0),
                uid=int(values.get("Uid", "-1").split()[0]),
                threads=int(values.get("Threads", "1").strip() or 1),
                state=values.get("State", "?").strip()[:1],
            )
        except (ValueError, IndexError):
            continue
    return out


def _tasks_of_uid(uid: int) -> int:
    """Processes plus threads that ``uid`` has now (what ``RLIMIT_NPROC`` counts)."""
    return sum(p.threads for p in _processes().values() if p.uid == uid and p.state != "Z")


# -- no new processes (seccomp) -------------------------------------------------------------------

#: per architecture (``AUDIT_ARCH_*``): clone, clone3, and the syscalls that only make processes
_ARCH = {
    "x86_64": (0xC000003E, 56, 435, (57, 58)),  # clone, clone3, (fork, vfork)
    "aarch64": (0xC00000B7, 220, 435, ()),
}
CLONE_THREAD = 0x00010000


def forbid_new_processes() -> bool:
    """From now on (and across exec) this process may start threads but no processes: a
    seccomp filter makes ``fork``, ``vfork`` and ``clone`` without ``CLONE_THREAD`` fail with
    ``EAGAIN`` (Python: ``BlockingIOError``), and ``clone3`` with ``ENOSYS`` (the C library then
    starts threads with ``clone``). The launcher's process limit when the kernel runs as root,
    where ``RLIMIT_NPROC`` does not hold. Linux on x86_64 or aarch64; returns whether it holds.
    """
    import platform
    import struct

    libc = _libc() if LINUX else None
    arch = _ARCH.get(platform.machine())
    if libc is None or arch is None:
        return False
    import ctypes

    audit_arch, clone, clone3, only_processes = arch
    ld, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    allow, errno_ = 0x7FFF0000, 0x00050000
    eagain, enosys = errno_ | 11, errno_ | 38
    prog: list[tuple[int, int, int, int]] = [(ld, 0, 0, 4)]  # the architecture
    # another architecture (32-bit calls on a 64-bit kernel): nothing at all
    prog.append((jeq, 1, 0, audit_arch))
    prog.append((ret, 0, 0, enosys))
    prog.append((ld, 0, 0, 0))  # the system call's number
    if audit_arch == 0xC000003E:  # x32 calls (number | 0x40000000): nothing either
        prog += [(jge, 0, 1, 0x40000000), (ret, 0, 0, enosys)]
    prog += [(jeq, 0, 1, clone3), (ret, 0, 0, enosys)]
    for number in only_processes:
        prog += [(jeq, 0, 1, number), (ret, 0, 0, eagain)]
    prog += [(jeq, 0, 3, clone), (ld, 0, 0, 16), (jset, 1, 0, CLONE_THREAD)]
    prog += [(ret, 0, 0, eagain), (ret, 0, 0, allow)]
    raw = b"".join(struct.pack("HBBI", *ins) for ins in prog)
    buf = ctypes.create_string_buffer(raw, len(raw))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(prog), ctypes.addressof(buf))
    pr_set_no_new_privs, pr_set_seccomp, seccomp_mode_filter = 38, 22, 2
    if libc.prctl(pr_set_no_new_privs, 1, 0, 0, 0) != 0:
        return False
    return libc.prctl(pr_set_seccomp, seccomp_mode_filter, ctypes.byref(fprog), 0, 0) == 0


# -- the launcher --------------------------------------------------------------------------------


def _set_limits(limits: Limits, nproc: int | None) -> None:
    if resource is None:
        return
    mib = 1024 * 1024

    def put(name: str, soft: int, hard: int | None = None) -> None:
        which = getattr(resource, name, None)
        if which is None:
            return
        hard = soft if hard is None else hard
        _, old_hard = resource.getrlimit(which)
        if old_hard != resource.RLIM_INFINITY:  # never ask for more than is allowed
            soft, hard = min(soft, old_hard), min(hard, old_hard)
        try:
            resource.setrlimit(which, (soft, hard))
        except (ValueError, OSError) as exc:
            _warn(f"could not set {name} to {soft}: {exc}")

    if limits.memory_mb > 0:
        put("RLIMIT_AS", limits.memory_mb * mib)
    if limits.cpu_seconds > 0:
        put("RLIMIT_CPU", limits.cpu_seconds, limits.cpu_seconds + CPU_GRACE)
    if limits.file_size_mb > 0:
        put("RLIMIT_FSIZE", limits.file_size_mb * mib)
    if limits.open_files > 0:
        put("RLIMIT_NOFILE", limits.open_files)
    put("RLIMIT_CORE", 0)
    if nproc is not None:
        put("RLIMIT_NPROC", nproc)


def _lock_dir() -> Path | None:
    """Root's folder of lock files, made safely (a folder someone else made is not used)."""
    try:
        LOCK_DIR.mkdir(mode=0o711, exist_ok=True)
        st = os.lstat(LOCK_DIR)
    except OSError:
        return None
    import stat

    if not stat.S_ISDIR(st.st_mode) or st.st_uid != 0 or st.st_mode & 0o022:
        return None
    if stat.S_IMODE(st.st_mode) != 0o711:
        os.chmod(LOCK_DIR, 0o711)
    return LOCK_DIR


def _claim_uid() -> tuple[int, int] | None:
    """A free user id, locked for the life of the kernel: ``(uid, lock fd)``.

    Free: no user or group of that number, no process running as it, and no other launcher
    holding its lock. The lock file descriptor is inherited by the kernel (and by anything the
    kernel starts), so the id stays taken while any of them lives.
    """
    import grp
    import pwd

    folder = _lock_dir()
    if folder is None:
        return None
    busy = {p.uid for p in _processes().values()}
    for uid in range(UID_BASE, UID_BASE + UID_COUNT):
        if uid in busy:
            continue
        try:
            pwd.getpwuid(uid)
            continue
        except KeyError:
            pass
        try:
            grp.getgrgid(uid)
            continue
        except KeyError:
            pass
        fd = _lock(folder / f"uid-{uid}.lock", create=True)
        if fd is None:
            continue
        if uid in {p.uid for p in _processes().values()}:  # started meanwhile
            os.close(fd)
            continue
        os.set_inheritable(fd, True)
        return uid, fd
    return None


def _lock(path: Path, create: bool) -> int | None:
    """An open descriptor holding the exclusive lock of ``path``, or None if it is taken."""
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


def _reachable(uid: int, paths: list[tuple[str, int]]) -> list[str]:
    """Which of ``paths`` (path, ``os.access`` mode) the user ``uid`` cannot reach (asked in a
    forked child that drops to ``uid``)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop, ask, answer, leave
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            bad = [p for p, mode in paths if not os.access(p, mode)]
            os.write(write, "\0".join(bad).encode() or b"\1")
        except BaseException:
            os.write(write, b"\2")
        finally:
            os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    answer = b"".join(chunks)
    if answer == b"\1":
        return []
    if answer in (b"", b"\2"):
        return ["(the check itself failed)"]
    return answer.decode(errors="replace").split("\0")


def _connection_file(argv: list[str]) -> tuple[int, str] | None:
    """Where the kernel's connection file is in its argv: (index of the path, path)."""
    for i, arg in enumerate(argv):
        if arg in ("-f", "--f") and i + 1 < len(argv):
            return i + 1, argv[i + 1]
        for prefix in ("-f=", "--f="):
            if arg.startswith(prefix):
                return i, arg[len(prefix) :]
    return None


def _private_home(uid: int, argv: list[str]) -> tuple[str, list[str], dict[str, str]]:
    """A private folder for ``uid`` (home, temporary files, the connection file), the argv
    pointing to the copied connection file, and the environment that points to the folder."""
    top = str(LOCK_DIR / f"home-{uid}")  # the uid's lock is held: nobody else uses it
    shutil.rmtree(top, ignore_errors=True)  # what an earlier kernel of this uid left
    os.mkdir(top, 0o700)
    env: dict[str, str] = {}
    layout = {
        "HOME": "home",
        "TMPDIR": "tmp",
        "IPYTHONDIR": "home/.ipython",
        "MPLCONFIGDIR": "home/.matplotlib",
        "XDG_CONFIG_HOME": "home/.config",
        "XDG_CACHE_HOME": "home/.cache",
        "XDG_DATA_HOME": "home/.local/share",
        "XDG_RUNTIME_DIR": "run",
        "JUPYTER_RUNTIME_DIR": "run/jupyter",
    }
    for name, rel in layout.items():
        path = os.path.join(top, rel)
        os.makedirs(path, mode=0o700, exist_ok=True)
        env[name] = path
    argv = list(argv)
    found = _connection_file(argv)
    if found is not None:
        index, path = found
        if os.path.isfile(path):
            target = os.path.join(top, "run", os.path.basename(path))
            shutil.copyfile(path, target)
            os.chmod(target, 0o600)
            argv[index] = target if argv[index] == path else argv[index].replace(path, target)
    for folder, dirs, files in os.walk(top):
        for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
            os.chown(name, uid, uid)
    return top, argv, env


def launch(argv: list[str], limits: Limits, switch_user: bool = True, uid_file: str = "") -> None:
    """Set the limits, drop root if we are root (see the module doc), then exec ``argv``."""
    if not argv:
        raise SystemExit("autograder.sandbox: no command to run (give it after --)")
    parent = os.getppid()
    _libc()  # now, while this Python's own modules are surely in reach
    with contextlib.suppress(OSError):
        os.setsid()  # usually done already by jupyter_client (start_new_session)
    nproc: int | None = None
    env = dict(os.environ)
    dropped: int | None = None
    lock_fd: int | None = None
    home = ""
    why_root = ""  # why a root kernel keeps root (said on stderr)
    if LINUX and os.geteuid() == 0 and switch_user:
        claimed = _claim_uid()
        if claimed is None:
            why_root = f"there is no free user id to run it as (is {LOCK_DIR} root's?)"
        else:
            uid, lock_fd = claimed
            program = shutil.which(argv[0]) or argv[0]
            needs = [(program, os.X_OK), (os.getcwd(), os.R_OK | os.X_OK)]
            if os.path.realpath(program) == os.path.realpath(sys.executable):
                needs += [(p, os.R_OK | os.X_OK) for p in _import_roots()]
            bad = _reachable(uid, needs)
            if bad:
                os.close(lock_fd)
                lock_fd = None
                why_root = (
                    f"an unprivileged user cannot reach {', '.join(bad)} (to fix: put the "
                    "virtualenv, its Python and the course in folders everyone may read, not "
                    "under a 0700 folder such as /root or one made by mktemp -d)"
                )
            else:
                dropped = uid
                home, argv, private = _private_home(uid, argv)
                env.update(private)
                nproc = max(1, limits.processes) + 1  # the kernel itself and what it may add
    elif LINUX and limits.processes > 0 and os.geteuid() != 0:
        nproc = _tasks_of_uid(os.getuid()) + limits.processes
    if LINUX and os.geteuid() == 0 and dropped is None and limits.processes > 0:
        # root ignores RLIMIT_NPROC: instead, no processes at all (threads still)
        held = forbid_new_processes()
        if switch_user or not held:
            _warn(
                f"the kernel runs as root{': ' + why_root if why_root else ''}. "
                + (
                    "Instead of a process limit, it may start no processes at all (threads are "
                    "bounded by the memory limit); the other limits hold."
                    if held
                    else "The process limit does not hold for it; the other limits do."
                )
            )
    if uid_file:
        with contextlib.suppress(OSError):
            Path(uid_file).write_text(f"{dropped if dropped is not None else ''}\n{home}\n")
    _set_limits(limits, nproc if limits.processes > 0 else None)
    if dropped is not None:
        os.setgroups([])
        os.setgid(dropped)
        os.setuid(dropped)
        if lock_fd is not None:
            os.set_inheritable(lock_fd, True)
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # after setuid: a change of user clears it
    if LINUX and os.getppid() != parent:  # the parent died before the line above
        os._exit(1)
    os.execvpe(argv[0], argv, env)


def _import_roots() -> list[str]:
    """Folders a kernel on this interpreter must read: this package's and the libraries'."""
    import sysconfig

    roots = [str(Path(__file__).resolve().parent.parent)]
    paths = sysconfig.get_paths()
    for key in ("stdlib", "purelib", "platlib"):
        if paths.get(key) and os.path.isdir(paths[key]):
            roots.append(paths[key])
    return list(dict.fromkeys(roots))


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if "--" in argv:
        cut = argv.index("--")
        options, command = argv[:cut], argv[cut + 1 :]
    else:
        options, command = argv, []
    p = argparse.ArgumentParser(
        prog="python -m autograder.sandbox",
        description="Run a command (a Jupyter kernel) with limits: options -- command...",
    )
    defaults = Limits()
    for f in fields(Limits):
        p.add_argument(f"--{f.name.replace('_', '-')}", type=int, default=getattr(defaults, f.name))
    p.add_argument(
        "--no-switch-user",
        action="store_true",
        help="as root, keep root (the process limit then does not hold)",
    )
    p.add_argument("--uid-file", default="", help="write the user id used and its folder here")
    args = p.parse_args(options)
    limits = Limits(**{f.name: getattr(args, f.name) for f in fields(Limits)})
    launch(command, limits, switch_user=not args.no_switch_user, uid_file=args.uid_file)


# -- the grading worker: leftovers ---------------------------------------------------------------

#: files where launchers started by this process wrote the user id they used (see launch)
_UID_FILES: list[str] = []
#: processes of the worker that are not a kernel's leftovers
_KEEP_COMMANDS = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")


def become_subreaper() -> bool:
    """Make this process (a grading worker) adopt the orphans of its descendants (Linux).

    Then a process a kernel started and abandoned (a daemon, a double fork) still descends from
    the worker, and :func:`kill_leftovers` finds it. Returns whether it worked.
    """
    return _prctl(PR_SET_CHILD_SUBREAPER, 1)


def die_with_parent() -> None:
    """Have this process killed when its parent dies (Linux); if the parent is already gone,
    leave at once. A grading worker calls it, so nothing grades on unseen after a Ctrl-C or a
    kill -9 of the run (its kernels die with it, see :func:`launch`)."""
    if not LINUX:
        return
    parent = os.getppid()
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the call
        os._exit(1)


def _command(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _sandbox_uids() -> tuple[set[int], list[str]]:
    """The user ids (and private folders) of the kernels this process started, forgotten."""
    uids: set[int] = set()
    homes: list[str] = []
    for path in list(_UID_FILES):
        try:
            text = Path(path).read_text().splitlines()
        except OSError:
            text = []
        if text and text[0].strip().isdigit():
            uids.add(int(text[0]))
        if len(text) > 1 and text[1].strip():
            homes.append(text[1].strip())
        with contextlib.suppress(OSError):
            os.unlink(path)
        _UID_FILES.remove(path)
    return uids, homes


def kill_leftovers(rounds: int = 50) -> int:
    """SIGKILL every process still running below this one, and every process of the user ids
    its sandboxed kernels ran as; reap them. Returns how many were killed.

    For the grading worker after each student: the kernel is gone by then, so whatever is left
    (a forked child, a daemon) is the submission's. Each pass kills what it finds; at most
    ``rounds`` passes (a process may fork while being killed; the process limit bounds that).
    A user id is cleared only while this process holds its lock: once the descendants are
    gone, a lock still held means another worker's kernel runs as that id now.
    """
    if not LINUX:
        return 0
    uids, homes = _sandbox_uids()
    killed: set[int] = set()
    _kill_rounds(lambda procs: _below(procs, os.getpid()), killed, rounds)
    for uid in uids:
        fd = _lock(LOCK_DIR / f"uid-{uid}.lock", create=False)
        if fd is None:
            continue
        try:
            _kill_rounds(
                lambda procs, u=uid: {p.pid for p in procs.values() if p.uid == u}, killed, rounds
            )
            home = str(LOCK_DIR / f"home-{uid}")
            if home in homes:
                shutil.rmtree(home, ignore_errors=True)
        finally:
            os.close(fd)
    return len(killed)


def _below(procs: dict[int, _Proc], me: int) -> set[int]:
    """The descendants of ``me`` (but multiprocessing's own helpers)."""
    out = set()
    for proc in procs.values():
        seen, p = set(), proc
        while p is not None and p.ppid and p.ppid not in seen:
            if p.ppid == me:
                if not any(k in _command(proc.pid) for k in _KEEP_COMMANDS):
                    out.add(proc.pid)
                break
            seen.add(p.pid)
            p = procs.get(p.ppid)
    return out


def _kill_rounds(select, killed: set[int], rounds: int) -> None:
    """Kill the processes ``select(processes)`` names, and reap this process's dead children,
    until none is left (at most ``rounds`` passes)."""
    me = os.getpid()
    for _ in range(rounds):
        procs = _processes()
        chosen = select(procs)
        alive = {pid for pid in chosen if procs[pid].state != "Z"}
        zombies = {pid for pid in chosen if procs[pid].state == "Z" and procs[pid].ppid == me}
        for pid in alive:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
        for pid in zombies:
            with contextlib.suppress(OSError):
                os.waitpid(pid, os.WNOHANG)
        if not alive and not zombies:
            return
        time.sleep(0.005 if not alive else 0.02)


# -- output bounds -------------------------------------------------------------------------------

#: how a cut is marked (and recognised by findings_from_outputs)
CUT_NOTE = "[... {n:,} characters removed by the autograder ...]"
CUT_PATTERN = re.compile(r"\[\.\.\. [\d,]+ characters removed by the autograder \.\.\.\]")
IMAGE_NOTE = "[an image of {n:,} bytes was removed by the autograder]"
#: control characters kept in text (tab, newline, carriage return, ANSI escape of tracebacks)
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def clean_text(text: str) -> str:
    """``text`` without lone surrogates, noncharacters and control characters (but tab, newline,
    carriage return and the ANSI escape), which break the feedback's HTML or the notebook's JSON."""
    return _BAD_CHARS.sub("", text)


def _boundary(text: str, at: int, forward: bool) -> int:
    """``at`` moved off a combining mark, joiner or variation selector (a whole character)."""

    def joined(i: int) -> bool:
        if not 0 < i < len(text):
            return False
        ch = text[i]
        return bool(
            unicodedata.combining(ch)
            or ch in "\u200d\ufe0f\ufe0e"
            or text[i - 1] == "\u200d"
            or 0x1F3FB <= ord(ch) <= 0x1F3FF
        )

    steps = 0
    while joined(at) and steps < 32:
        at += 1 if forward else -1
        steps += 1
    return at


def cut_text(text: str, limit: int) -> str:
    """``text`` with its middle replaced by :data:`CUT_NOTE` when longer than ``limit``."""
    if limit < 0 or len(text) <= limit:
        return text
    keep = max(0, limit - 80)
    head = _boundary(text, keep * 2 // 3, forward=False)
    tail = _boundary(text, len(text) - (keep - keep * 2 // 3), forward=True)
    removed = tail - head
    return f"{text[:head]}\n{CUT_NOTE.format(n=removed)}\n{text[tail:]}"


def _cut_lines(lines: list[str], limit: int) -> list[str]:
    """A traceback (a list of lines) at most ``limit`` characters long, head and tail kept."""
    total = sum(len(line) for line in lines)
    if limit < 0 or total <= limit:
        return lines
    lines = [cut_text(line, max(200, limit // 4)) for line in lines]
    total = sum(len(line) for line in lines)
    if total <= limit:
        return lines
    head: list[str] = []
    tail: list[str] = []
    budget = max(0, limit - 80)
    i, j = 0, len(lines) - 1
    while i <= j:  # alternately: the first lines (where) and the last (what)
        if len(lines[j]) <= budget:
            tail.insert(0, lines[j])
            budget -= len(lines[j])
            j -= 1
        else:
            break
        if i <= j and len(lines[i]) <= budget:
            head.append(lines[i])
            budget -= len(lines[i])
            i += 1
        elif i <= j:
            break
    removed = sum(len(line) for line in lines[i : j + 1])
    return [*head, CUT_NOTE.format(n=removed), *tail]


TEXT_TYPES = ("text/plain", "text/html", "text/markdown", "text/latex", "application/javascript")


def _classes() -> dict[str, type]:
    """The classes built on nbgrader and jupyter_client, made once (they are slow to import)."""
    if _CLASSES:
        return _CLASSES
    from jupyter_client.manager import AsyncKernelManager
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbformat.notebooknode import NotebookNode
    from nbgrader.preprocessors import Execute, NbGraderPreprocessor
    from traitlets import Bool, Integer, Unicode

    class SandboxKernelManager(AsyncKernelManager):
        """Starts the kernel through the launcher of :mod:`autograder.sandbox`, with limits."""

        memory_mb = Integer(Limits.memory_mb, help="address space of a kernel, MiB").tag(
            config=True
        )
        cpu_seconds = Integer(Limits.cpu_seconds, help="CPU seconds of a whole kernel").tag(
            config=True
        )
        file_size_mb = Integer(Limits.file_size_mb, help="largest file a kernel writes, MiB").tag(
            config=True
        )
        processes = Integer(Limits.processes, help="processes and threads a kernel may add").tag(
            config=True
        )
        open_files = Integer(Limits.open_files, help="open files of a kernel").tag(config=True)
        switch_user = Bool(True, help="as root, run the kernel as an unprivileged user id").tag(
            config=True
        )

        def limits(self) -> Limits:
            return Limits(
                memory_mb=self.memory_mb,
                cpu_seconds=self.cpu_seconds,
                file_size_mb=self.file_size_mb,
                processes=self.processes,
                open_files=self.open_files,
            )

        def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
            cmd = super().format_kernel_cmd(extra_arguments)
            prefix = [sys.executable, "-m", "autograder.sandbox", *self.limits().argv()]
            if not self.switch_user:
                prefix.append("--no-switch-user")
            elif LINUX and os.geteuid() == 0:  # the launcher says which user id it took
                fd, uid_file = tempfile.mkstemp(prefix="autograder-kernel-uid-", suffix=".txt")
                os.close(fd)
                _UID_FILES.append(uid_file)
                prefix += ["--uid-file", uid_file]
            return [*prefix, "--", *cmd]

    class SandboxedExecute(Execute):
        """nbgrader's Execute in a sandboxed kernel, with faults kept per cell (module doc)."""

        startup = Unicode(
            "", help="Python code the kernel runs before the notebook's first cell"
        ).tag(config=True)
        stuck_seconds = Integer(
            5, help="after a timeout's interrupt, how long the kernel may stay busy"
        ).tag(config=True)

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("kernel_manager_class", SandboxKernelManager)
            super().__init__(*args, **kwargs)
            self._stopped: tuple[int, str] | None = None  # (cell number, why) once it stops

        def preprocess(self, nb, resources=None, km=None):
            self._stopped = None
            if self.startup and not any("exec_lines" in a for a in self.extra_arguments):
                self.extra_arguments = [
                    *self.extra_arguments,
                    f"--IPKernelApp.exec_lines={self.startup}",
                ]
            self.iopub_timeout = max(self.iopub_timeout, self.stuck_seconds)
            return super().preprocess(nb, resources, km)

        def preprocess_cell(self, cell, resources, index):
            if cell.cell_type != "code" or not cell.source.strip():
                return super().preprocess_cell(cell, resources, index)
            if self._stopped is not None:
                number, _ = self._stopped
                cell.outputs = [
                    _error(
                        "NotRun",
                        f"not run: the kernel stopped in an earlier cell (cell {number})",
                    )
                ]
                cell.execution_count = None
                return cell, self.resources
            try:
                return super().preprocess_cell(cell, resources, index)
            except DeadKernelError:
                why = self._death()
                self._stopped = (index + 1, why)
                cell.outputs = [
                    *[o for o in cell.get("outputs", []) if o.get("output_type") != "error"],
                    _error("KernelDied", f"the kernel stopped while this cell ran: {why}"),
                ]
            except CellTimeoutError:  # the interrupt did not bring the kernel back
                self._kill()
                self._stopped = (index + 1, "timeout")
                cell.outputs = [
                    *cell.get("outputs", []),
                    _error(
                        self.error_on_timeout.get("ename", "CellTimeoutError"),
                        f"the cell ran longer than {self.timeout} s and the kernel did not stop "
                        "when interrupted, so it was stopped",
                    ),
                ]
            return cell, self.resources

        def _process(self):
            prov = getattr(self.km, "provisioner", None)
            return getattr(prov, "process", None)

        def _kill(self) -> None:
            proc = self._process()
            if proc is None:
                return
            with contextlib.suppress(OSError):
                os.killpg(os.getpgid(proc.pid), signal.SIGKILL)
            with contextlib.suppress(OSError):
                proc.kill()
            with contextlib.suppress(Exception):
                proc.wait(5)

        def _death(self) -> str:
            """Why the kernel died, in plain words (from its exit status)."""
            proc = self._process()
            code = None
            if proc is not None:
                with contextlib.suppress(Exception):
                    code = proc.wait(2)
            limits = self.km.limits() if hasattr(self.km, "limits") else Limits()
            return death_reason(code, limits)

    class LimitOutputSize(NbGraderPreprocessor):
        """Bound each output in characters and each cell in total; drop huge images; clean text.

        Runs after nbgrader's ``LimitOutput``. Never removes an error output or an stderr stream
        (nbgrader grades a test cell by them): those are only shortened.
        """

        max_chars = Integer(20000, help="characters of one output (-1: no limit)").tag(config=True)
        max_cell_chars = Integer(100000, help="characters of one cell's outputs").tag(config=True)
        max_image_bytes = Integer(2_000_000, help="bytes of one image (base64)").tag(config=True)

        def preprocess_cell(self, cell, resources, index):
            if cell.cell_type != "code":
                return cell, resources
            outputs = []
            used = 0
            dropped = 0  # characters of the outputs left out once the cell is full
            note_at = -1
            for out in cell.get("outputs", []):
                limit = self.max_chars
                if self.max_cell_chars >= 0:
                    left = max(200, self.max_cell_chars - used)
                    limit = left if limit < 0 else min(limit, left)
                essential = out.get("output_type") == "error" or (
                    out.get("output_type") == "stream" and out.get("name") == "stderr"
                )
                if self.max_cell_chars >= 0 and used >= self.max_cell_chars and not essential:
                    dropped += _size(out)
                    note_at = len(outputs) if note_at < 0 else note_at
                    continue
                kept = self._limit(out, limit)
                used += _size(kept)
                outputs.append(kept)
            if dropped:
                text = (
                    f"\n{CUT_NOTE.format(n=dropped)}\n(the cell's outputs are limited to "
                    f"{self.max_cell_chars:,} characters)\n"
                )
                outputs.insert(
                    note_at, NotebookNode(output_type="stream", name="stdout", text=text)
                )
            cell.outputs = outputs
            return cell, resources

        def _limit(self, out, limit):
            kind = out.get("output_type")
            if kind == "stream":
                out.text = cut_text(clean_text(_joined(out.get("text", ""))), limit)
            elif kind == "error":
                out.ename = cut_text(clean_text(str(out.get("ename", ""))), 200)
                out.evalue = cut_text(clean_text(str(out.get("evalue", ""))), max(200, limit // 4))
                tb = [clean_text(_joined(line)) for line in out.get("traceback", [])]
                out.traceback = _cut_lines(tb, limit)
            elif kind in ("display_data", "execute_result"):
                data = out.get("data", {})
                for mime in list(data):
                    value = data[mime]
                    if mime.startswith("image/") and not mime.endswith("svg+xml"):
                        size = len(_joined(value)) if isinstance(value, str | list) else 0
                        if self.max_image_bytes >= 0 and size > self.max_image_bytes:
                            del data[mime]
                            plain = _joined(data.get("text/plain", ""))
                            data["text/plain"] = (
                                f"{plain}\n" if plain else ""
                            ) + IMAGE_NOTE.format(n=size)
                    elif isinstance(value, str | list) and (
                        mime.startswith("text/") or mime in TEXT_TYPES or mime.endswith("+xml")
                    ):
                        text = clean_text(_joined(value))
                        if len(text) > limit and mime != "text/plain":
                            del data[mime]  # cut markup would break the page: the plain text
                            plain = _joined(data.get("text/plain", ""))
                            data["text/plain"] = cut_text(plain or text, limit)
                            if CUT_PATTERN.search(data["text/plain"]) is None:
                                data["text/plain"] += "\n" + CUT_NOTE.format(n=len(text))
                        elif mime == "text/plain":
                            data[mime] = cut_text(text, limit)
                        else:
                            data[mime] = text
            return out

    for cls in (SandboxKernelManager, SandboxedExecute, LimitOutputSize):
        cls.__qualname__ = cls.__name__  # autograder.sandbox.<name>, where configure points
        _CLASSES[cls.__name__] = cls
    return _CLASSES


_CLASSES: dict[str, type] = {}


def __getattr__(name: str) -> Any:
    if name in ("SandboxKernelManager", "SandboxedExecute", "LimitOutputSize"):
        return _classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _joined(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _size(out: Any) -> int:
    kind = out.get("output_type")
    if kind == "stream":
        return len(out.get("text", ""))
    if kind == "error":
        return sum(len(line) for line in out.get("traceback", [])) + len(out.get("evalue", ""))
    data = out.get("data", {})
    return sum(len(_joined(v)) for k, v in data.items() if not k.startswith("image/") or "svg" in k)


def _error(ename: str, evalue: str) -> Any:
    from nbformat.notebooknode import NotebookNode

    return NotebookNode(
        output_type="error",
        ename=ename,
        evalue=evalue,
        traceback=[f"\x1b[0;31m{ename}\x1b[0m: {evalue}"],
    )


SIGNAL_WORDS = {
    "SIGSEGV": "it crashed (segmentation fault, SIGSEGV: memory accessed wrongly, for example "
    "through ctypes)",
    "SIGBUS": "it crashed (bus error, SIGBUS)",
    "SIGILL": "it crashed (illegal instruction, SIGILL)",
    "SIGFPE": "it crashed (arithmetic fault, SIGFPE)",
    "SIGABRT": "it aborted (SIGABRT, often memory running out inside C code)",
    "SIGKILL": "it was killed (SIGKILL: by the code itself, or by the system for using too much "
    "memory)",
    "SIGXFSZ": "it wrote a file larger than the limit (SIGXFSZ)",
}


def death_reason(code: int | None, limits: Limits | None = None) -> str:
    """Plain words for a kernel's exit status (``Popen.returncode``: a negative signal number)."""
    limits = limits or Limits()
    if code is None:
        return "it stopped responding (its exit status is unknown)"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if name == "SIGXCPU":
            return (
                f"it used up its CPU time limit ({limits.cpu_seconds} s for the whole notebook, "
                "SIGXCPU)"
            )
        return SIGNAL_WORDS.get(name, f"it was ended by the signal {name}")
    if code == 0:
        return "it exited (exit code 0: os._exit(0) or a shutdown asked by the code)"
    return f"it exited with code {code} (os._exit or a fatal error in the code)"


# -- findings ------------------------------------------------------------------------------------

_PROCESS_WORDS = ("Resource temporarily unavailable", "can't start new thread")


def findings_from_outputs(nb: Any) -> list[Finding]:
    """What the sandbox left in an executed notebook's outputs, as findings (plain words).

    ``timeout`` (nbgrader's ``CellTimeoutError``), ``crash`` (``KernelDied``, with the ``NotRun``
    cells counted), ``memory`` (``MemoryError``), ``processes`` (a fork or thread the process
    limit refused) and ``output`` (an output the autograder cut).
    """
    from autograder.findings import Finding

    found: list[Finding] = []
    not_run: list[str] = []
    crash: tuple[str, str] | None = None
    cut: list[str] = []
    timeouts: list[str] = []
    tests: list[str] = []  # the graded cells among the cells that did not run
    for number, cell in enumerate(nb.get("cells", []), start=1):
        if cell.get("cell_type") != "code":
            continue
        where = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or f"cell {number}"
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "error":
                ename, evalue = str(out.get("ename", "")), str(out.get("evalue", ""))
                if ename == "CellTimeoutError":
                    timeouts.append(where)
                    found.append(
                        Finding(
                            "timeout",
                            where,
                            "a cell ran past the time limit and was stopped; it counts as failed",
                        )
                    )
                elif ename == "KernelDied" and crash is None:
                    crash = (where, evalue.split(": ", 1)[-1][:200])
                elif ename == "NotRun":
                    not_run.append(where)
                    if cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
                        tests.append(where)
                elif ename == "MemoryError":
                    found.append(
                        Finding("memory", where, "the code ran out of memory (MemoryError)")
                    )
                elif ename in ("BlockingIOError", "RuntimeError") and any(
                    w in evalue for w in _PROCESS_WORDS
                ):
                    found.append(
                        Finding(
                            "processes",
                            where,
                            "the code tried to start more processes or threads than allowed",
                        )
                    )
            text = _output_text(out)
            if CUT_PATTERN.search(text) or "removed by the autograder" in text:
                if where not in cut:
                    cut.append(where)
    if crash is None and not_run and timeouts:  # stopped after a timeout it did not recover from
        graded = tests
        found.append(
            Finding(
                "timeout",
                timeouts[-1],
                "the kernel did not stop when interrupted after the time limit, so it was "
                f"stopped; {len(not_run)} later cell{'s' * (len(not_run) != 1)} did not run"
                + (f" (tests {', '.join(graded)} earn nothing)" if graded else ""),
            )
        )
    if crash is not None:
        where, why = crash
        graded = tests
        later = (
            f"; {len(not_run)} later cell{'s' * (len(not_run) != 1)} did not run"
            + (f" (tests {', '.join(graded)} earn nothing)" if graded else "")
            if not_run
            else ""
        )
        found.append(Finding("crash", where, f"the kernel stopped here: {why}{later}"))
    for where in cut:
        found.append(
            Finding("output", where, "the output was too large and was shortened in the feedback")
        )
    return found


def _output_text(out: Any) -> str:
    kind = out.get("output_type")
    if kind == "stream":
        return _joined(out.get("text", ""))
    if kind == "error":
        return "\n".join(_joined(t) for t in out.get("traceback", []))
    data = out.get("data", {})
    return _joined(data.get("text/plain", "")) if isinstance(data, dict) else ""


# -- wiring into nbgrader ------------------------------------------------------------------------

LIMIT_NAMES = {f.name for f in fields(Limits)} | {"switch_user"}


def configure(
    config: Any, *, timeout: int | None = None, startup: str | None = None, **limits: Any
) -> None:
    """Make nbgrader's autograde run in the sandbox: in ``config`` (a traitlets ``Config``),
    ``SandboxedExecute`` replaces ``Execute`` and ``LimitOutputSize`` follows ``LimitOutput``.

    ``timeout``: seconds a cell may run (``Execute.timeout`` otherwise); ``startup``: code the
    kernel runs before the first cell; ``limits``: any of ``memory_mb``, ``cpu_seconds``,
    ``file_size_mb``, ``processes``, ``open_files`` (0: none) and ``switch_user``.
    """
    unknown = set(limits) - LIMIT_NAMES
    if unknown:
        raise TypeError(f"unknown sandbox limits {sorted(unknown)}: use {sorted(LIMIT_NAMES)}")
    from nbgrader.converters.autograde import Autograde

    current = config.Autograde.get("autograde_preprocessors") or list(
        Autograde.autograde_preprocessors.default()
    )
    names = [p if isinstance(p, str) else f"{p.__module__}.{p.__qualname__}" for p in current]
    out: list[str] = []
    for name in names:
        short = name.rsplit(".", 1)[-1]
        if short in ("Execute", "SandboxedExecute"):
            out.append(f"{__name__}.SandboxedExecute")
        elif short == "LimitOutputSize":
            continue
        else:
            out.append(name)
        if short == "LimitOutput":
            out.append(f"{__name__}.LimitOutputSize")
    if f"{__name__}.LimitOutputSize" not in out:
        out.append(f"{__name__}.LimitOutputSize")
    config.Autograde.autograde_preprocessors = out
    if timeout is not None:
        config.SandboxedExecute.timeout = timeout
    if startup is not None:
        config.SandboxedExecute.startup = startup
    for name, value in limits.items():
        setattr(config.SandboxKernelManager, name, value)


if __name__ == "__main__":
    main()
