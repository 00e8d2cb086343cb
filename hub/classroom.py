"""A class on a local JupyterHub: accounts, the exchange, the instructor's course, the hub.

``make hub`` runs this file as root: it creates an instructor and two students (Unix accounts
with printed passwords, their homes in ``build/hub/home/``), nbgrader's exchange and the
instructor's course, releases ps1, and starts JupyterHub on 127.0.0.1 (port 8000, or
``BPC_HUB_PORT``). Ctrl-C (or SIGTERM) stops the hub and removes the accounts and their files again.
``tests/browser/test_browser_hub.py`` builds its class with the same functions.

Every user's server runs this project's Python. When that Python lies in a folder other users
cannot enter (pyenv under ``/root``, mode 0700), the hub runs in a private mount namespace in
which the way to it is opened (``tests/ordinary_user.py`` explains how; nothing on the host
changes). On a department's machine, install the project where every user can read it
(docs/hub.md).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

HUB = Path(__file__).resolve().parent
REPO = HUB.parent
BIN = Path(sys.executable).parent
CONFIG = HUB / "jupyterhub_config.py"
CHP = REPO / "build" / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"
COURSE_ID = "backprop-course"
#: how long the hub may take to answer after it started (seconds)
STARTUP_TIMEOUT = 60

sys.path[:0] = [str(REPO), str(REPO / "tests")]  # this clone's packages, its test helpers
from ordinary_user import User, as_user_argv, needed_paths, reopen_script  # noqa: E402


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def make_user(name: str, home: Path, password: str) -> User:
    """A Unix account ``name`` with ``password`` and a home only it can enter."""
    home.parent.mkdir(parents=True, exist_ok=True)
    made = subprocess.run(
        ["useradd", "--create-home", "--home-dir", str(home), "--shell", "/bin/bash", name],
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        raise RuntimeError(f"useradd {name} failed: {made.stderr.strip()}")
    subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True)
    home.chmod(0o700)
    entry = pwd.getpwnam(name)
    return User(name, entry.pw_uid, entry.pw_gid, created=True)


def remove_user(name: str) -> None:
    """End every process of ``name``, then remove the account (its files stay where they are)."""
    from autograder.box import kill_processes_of

    with contextlib.suppress(KeyError):
        kill_processes_of(pwd.getpwnam(name).pw_uid)
        subprocess.run(["userdel", name], capture_output=True)
        subprocess.run(["groupdel", name], capture_output=True)  # if userdel left it


def give(user: User, path: Path) -> None:
    """``user`` owns ``path`` and everything in it."""
    for top, dirs, files in os.walk(path):
        for entry in [top, *(os.path.join(top, n) for n in dirs + files)]:
            os.lchown(entry, user.uid, user.gid)


def prepare_exchange(exchange: Path, instructor: User) -> None:
    """nbgrader's exchange: a folder every user may write to, with the sticky bit (a user
    removes only their own entries), and the course's folder in it, made for the instructor
    before any student could claim its name."""
    exchange.mkdir(parents=True, exist_ok=True)
    exchange.chmod(0o1777)
    course = exchange / COURSE_ID
    course.mkdir(exist_ok=True)
    os.chown(course, instructor.uid, instructor.gid)
    course.chmod(0o755)


def prepare_course(root: Path, instructor: User, assignments: Sequence[str]) -> None:
    """The instructor's course: this repository's configuration and the assignments' sources,
    owned by the instructor, closed to everybody else."""
    root.mkdir(parents=True)
    shutil.copy(REPO / "nbgrader_config.py", root)
    for assignment in assignments:
        shutil.copytree(
            REPO / "source_assignments" / assignment,
            root / "source_assignments" / assignment,
            ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"),
        )
    give(instructor, root)
    root.chmod(0o700)


def user_env(user: User, home: Path, exchange: Path, course_root: Path | None = None) -> dict:
    """The environment a hub user's server gives its terminals (hub/jupyterhub_config.py)."""
    env = {
        "HOME": str(home),
        "USER": user.name,
        "LOGNAME": user.name,
        "PATH": f"{BIN}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": str(REPO),
        "JUPYTER_CONFIG_PATH": f"{HUB / 'etc' / 'student'}:{HUB / 'etc'}",
        "BPC_EXCHANGE": str(exchange),
        "MPLBACKEND": "Agg",
    }
    if course_root is not None:
        env["BPC_COURSE_ROOT"] = str(course_root)
        env["JUPYTER_CONFIG_PATH"] = str(HUB / "etc")
    return env


def run_as(user: User, argv: Sequence[str], env: dict, cwd: Path, timeout: float = 600):
    """Run ``argv`` as ``user`` (as a terminal of their server would); its output, as text."""
    return subprocess.run(
        as_user_argv(user, argv),
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def check(proc: subprocess.CompletedProcess, what: str) -> str:
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout + proc.stderr


@dataclass
class Hub:
    """JupyterHub with hub/jupyterhub_config.py, in a process group of its own.

    ``settings`` are the ``BPC_*`` variables of the configuration; ``stop()`` ends the hub,
    its proxy and every user's server by the hub's process group id.
    """

    settings: dict[str, str]
    state: Path
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings['BPC_HUB_PORT']}"

    @property
    def log(self) -> Path:
        return self.state / "jupyterhub.log"

    def start(self) -> Hub:
        if not CHP.exists():
            raise RuntimeError(f"JupyterHub's proxy is missing ({CHP}): run make hub-proxy")
        self.state.mkdir(parents=True, exist_ok=True)
        self.state.chmod(0o700)
        env = {
            "PATH": f"{BIN}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
            "LANG": "C.UTF-8",
            "HOME": str(self.state),
            "BPC_HUB_STATE": str(self.state),
            "BPC_CHP": str(CHP),
            **self.settings,
        }
        hub = [str(BIN / "jupyterhub"), "-f", str(CONFIG)]
        script = reopen_script(needed_paths()) + '\nexec "$@"'
        argv = ["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script, "sh"]
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [*argv, *hub],
                cwd=self.state,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterHub exited at startup:\n{self.log_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/hub/api", timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"JupyterHub did not answer {self.url} within {STARTUP_TIMEOUT} s:\n"
                    f"{self.log_text()}"
                )
            time.sleep(0.2)  # polling the hub's API, not waiting on a page

    def log_text(self, tail: int = 6000) -> str:
        try:
            return self.log.read_text()[-tail:]
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM to the hub (it stops the users' servers and the proxy), then SIGKILL to
        what is left of its process group."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        if self.proc.poll() is None:
            self.proc.wait(timeout=10)


def main() -> int:
    if not is_root():
        print(
            "make hub creates Unix accounts (an instructor and two students) and starts "
            "JupyterHub, which runs each user's server as that user: run it as root "
            "(sudo make hub). docs/hub.md explains the deployment.",
            file=sys.stderr,
        )
        return 1
    if not CHP.exists():
        print(f"configurable-http-proxy is missing ({CHP}): run make hub.", file=sys.stderr)
        return 1
    base = REPO / "build" / "hub"
    homes, exchange, state = base / "home", base / "exchange", base / "state"
    for folder in (homes, exchange, state):
        if folder.exists():
            print(f"{folder} exists: a try-out is running or was killed; remove it first.")
            return 1
    base.mkdir(parents=True, exist_ok=True)
    base.chmod(0o755)
    accounts = {
        name: secrets.token_urlsafe(9)
        for name in ("bpc-instructor", "bpc-student1", "bpc-student2")
    }
    instructor_name, *student_names = accounts
    # Ctrl-C, kill and a closed terminal all end the try-out the same way, cleaning up
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for stop in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop, signal.default_int_handler)
    made: list[str] = []
    hub = None
    try:
        users = {}
        for name, password in accounts.items():
            with contextlib.suppress(KeyError):
                pwd.getpwnam(name)
                print(f"user {name} exists already: remove it (userdel {name}) first.")
                return 1
            users[name] = make_user(name, homes / name, password)
            made.append(name)
        instructor = users[instructor_name]
        course_root = homes / instructor_name / COURSE_ID
        prepare_exchange(exchange, instructor)
        assignments = sorted(p.name for p in (REPO / "source_assignments").glob("ps*"))
        prepare_course(course_root, instructor, assignments)
        env = user_env(instructor, homes / instructor_name, exchange, course_root)
        print("releasing ps1 as the instructor (nbgrader generate_assignment, release_assignment)")
        for command in (["generate_assignment", "ps1"], ["release_assignment", "ps1"]):
            check(
                run_as(instructor, [str(BIN / "nbgrader"), *command], env, course_root),
                f"nbgrader {command[0]}",
            )
        settings = {
            "BPC_HUB_PORT": os.environ.get("BPC_HUB_PORT", "8000"),
            **{
                k: os.environ[k]
                for k in ("BPC_HUB_API_PORT", "BPC_PROXY_API_PORT")
                if k in os.environ
            },
            "BPC_INSTRUCTORS": instructor_name,
            "BPC_STUDENTS": ",".join(student_names),
            "BPC_COURSE_ROOT": str(course_root),
            "BPC_EXCHANGE": str(exchange),
        }
        hub = Hub(settings, state).start()
        print(f"\nJupyterHub: {hub.url} (log: {hub.log})\n")
        for name, password in accounts.items():
            role = "instructor" if name == instructor_name else "student"
            print(f"  {role:10}  {name:15}  password {password}")
        print(
            f"\nThe instructor's course: {course_root} (the formgrader: {hub.url}/user/"
            f"{instructor_name}/formgrader). Ctrl-C stops the hub and removes the accounts."
        )
        with contextlib.suppress(KeyboardInterrupt):
            hub.proc.wait()
        return 0
    finally:
        if hub is not None:
            hub.stop()
        for name in made:
            remove_user(name)
        for folder in (homes, exchange, state):
            shutil.rmtree(folder, ignore_errors=True)
        if made:
            print("accounts and their files removed")


if __name__ == "__main__":
    sys.exit(main())
