"""Run commands as an ordinary (unprivileged) user, from tests that may run as root.

Run as an ordinary user already, :func:`ordinary_user` is that user and :func:`run_as` runs the
command as it is. Run as root (CI), :func:`ordinary_user` creates a system user of its own for
the test (``useradd --system --no-create-home``; removed afterwards, with any process it left),
and :func:`run_as` runs the command as that user with ``setpriv``.

The Python of this project may live where such a user cannot go: pyenv's interpreters under
``/root`` (mode 0700), for example. Nothing of the host's permissions is changed for it: the
command runs in a private mount namespace of its own (``unshare --mount --propagation
private``), where each folder that is closed to other users and lies on the way to a folder the
command needs (the interpreter's ``sys.base_prefix``, the virtualenv's ``sys.prefix``, the
repository) is covered by an empty 0755 tmpfs, and the needed folders are bound back at their
own paths. The command sees the same paths as root does, and only those below the closed folder.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shlex
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from autograder.box import kill_processes_of

ROOT = sys.platform.startswith("linux") and os.geteuid() == 0
REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class User:
    name: str
    uid: int
    gid: int
    created: bool  # made for the test (root): removed by ordinary_user afterwards


@contextlib.contextmanager
def ordinary_user(prefix: str = "bpc-grader-test") -> Iterator[User]:
    """An unprivileged user to run commands as: this user, or (root) a new one, removed after."""
    if not ROOT:
        entry = pwd.getpwuid(os.getuid())
        yield User(entry.pw_name, entry.pw_uid, entry.pw_gid, created=False)
        return
    name = f"{prefix}-{os.getpid()}"[:32]  # one per test process: parallel runs do not collide
    with contextlib.suppress(KeyError):
        pwd.getpwnam(name)  # left by an earlier process with our pid that was killed
        subprocess.run(["userdel", name], capture_output=True)
    made = subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        raise RuntimeError(f"useradd {name} failed: {made.stderr.strip()}")
    entry = pwd.getpwnam(name)
    try:
        yield User(name, entry.pw_uid, entry.pw_gid, created=True)
    finally:
        kill_processes_of(entry.pw_uid)
        subprocess.run(["userdel", name], capture_output=True)


def _closed_ancestor(path: str) -> str | None:
    """The highest folder on the way to ``path`` (itself included) that others cannot enter."""
    current = "/"
    for part in Path(path).parts[1:]:
        current = os.path.join(current, part)
        with contextlib.suppress(OSError):
            if not os.stat(current).st_mode & 0o001:
                return current
    return None


def needed_paths() -> list[str]:
    """What a command of this project needs to reach: its Python, virtualenv and repository."""
    out: list[str] = []
    for path in (sys.base_prefix, sys.prefix, str(REPO)):
        real = os.path.realpath(path)
        if real not in out:
            out.append(real)
    return out


def reopen_script(needed: Sequence[str]) -> str:
    """Shell commands (run as root in a private mount namespace) that let other users reach
    ``needed``: each closed folder on the way covered by a 0755 tmpfs, the needed folders bound
    back at their own paths."""
    closed = {p: _closed_ancestor(p) for p in needed}
    covers = sorted({c for c in closed.values() if c is not None}, key=len)
    # a needed folder that is closed itself (a clone in a `mktemp -d` folder) is covered too,
    # and what it holds is bound back entry by entry
    moved: list[str] = []
    for path in [p for p in needed if closed[p] is not None]:
        if closed[path] == path and os.path.isdir(path):
            moved += [os.path.join(path, name) for name in sorted(os.listdir(path))]
        else:
            moved.append(path)
    moved = [p for p in dict.fromkeys(moved) if not any(p.startswith(q + "/") for q in moved)]
    lines = ["set -eu", "umask 022"]
    for i, path in enumerate(moved):
        lines.append(f"saved{i}=$(mktemp -d /tmp/bpc-reopen-XXXXXX)")
        if os.path.isdir(path):
            lines.append(f'mount --bind {shlex.quote(path)} "$saved{i}"')
        else:  # a file: bound through a file of the same kind
            lines.append(f'touch "$saved{i}/f" && mount --bind {shlex.quote(path)} "$saved{i}/f"')
    for cover in covers:
        lines.append(f"mount -t tmpfs -o mode=0755 bpc-reopen {shlex.quote(cover)}")
    for i, path in enumerate(moved):
        if os.path.isdir(path):
            lines.append(f"mkdir -p {shlex.quote(path)}")
            lines.append(f'mount --bind "$saved{i}" {shlex.quote(path)}')
            lines.append(f'umount "$saved{i}" && rmdir "$saved{i}"')
        else:
            parent = shlex.quote(os.path.dirname(path))
            lines.append(f"mkdir -p {parent} && touch {shlex.quote(path)}")
            lines.append(f'mount --bind "$saved{i}/f" {shlex.quote(path)}')
            lines.append(f'umount "$saved{i}/f" && rm "$saved{i}/f" && rmdir "$saved{i}"')
    return "\n".join(lines)


def as_user_argv(user: User, argv: Sequence[str]) -> list[str]:
    """``argv`` as ``user`` (see the module doc); as it is when we are not root."""
    if not ROOT:
        return list(argv)
    script = reopen_script(needed_paths())
    script += f'\nexec setpriv --reuid={user.uid} --regid={user.gid} --init-groups -- "$@"'
    return ["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script, "sh", *argv]


def run_as(
    user: User,
    argv: Sequence[str],
    *,
    cwd: str | Path,
    env: dict[str, str],
    timeout: float = 600,
) -> subprocess.CompletedProcess:
    """Run ``argv`` as ``user`` in ``cwd`` with exactly ``env``; its output, as text."""
    return subprocess.run(
        as_user_argv(user, argv),
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def user_env(home: Path, **extra: str) -> dict[str, str]:
    """A plain environment for a command of this project run as another user, with ``home``."""
    bindir = str(Path(sys.executable).parent)
    env = {
        "HOME": str(home),
        "PATH": f"{bindir}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
        "JUPYTER_RUNTIME_DIR": str(home / ".runtime"),
        "JUPYTER_DATA_DIR": str(home / ".data"),
        "IPYTHONDIR": str(home / ".ipython"),
        "MPLCONFIGDIR": str(home / ".mpl"),
        "TMPDIR": str(home / "tmp"),  # what the command leaves goes with its home
    }
    env.update(extra)
    return env


def shared_folder(user: User, prefix: str) -> Path:
    """A new folder owned by ``user``, with a ``tmp/`` of its own inside (for :func:`user_env`),
    in the system's temporary folder (pytest's own temporary folders are root's, 0700)."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp" if ROOT else None))
    folder.chmod(0o755)
    (folder / "tmp").mkdir(mode=0o700)
    give(user, folder)
    return folder


def give(user: User, folder: Path) -> None:
    """Make ``user`` the owner of ``folder`` and everything in it (root; else nothing to do)."""
    if not ROOT:
        return
    for top, dirs, files in os.walk(folder):
        for name in [top, *(os.path.join(top, n) for n in dirs + files)]:
            os.lchown(name, user.uid, user.gid)
