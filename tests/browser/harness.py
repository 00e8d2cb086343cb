"""What the browser suite and ``make screenshots`` share: servers, the browser, screenshots.

``JupyterServer`` starts JupyterLab (or Voilà) on 127.0.0.1 with a random port and token in a
process group of its own, waits until it answers, and stops it by that process id. ``launch``
starts the system Chromium headless through Playwright (Playwright's own browser downloads are
not used). ``Shots`` numbers and saves a screenshot of every step, and ``check`` turns a failed
expectation into an error that names the screenshot showing what a student would have seen.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
#: How long a server may take to answer after it started (seconds).
STARTUP_TIMEOUT = 90
#: The window every page is shown in (CSS pixels).
VIEWPORT = {"width": 1280, "height": 900}

CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--no-first-run",
    "--metrics-recording-only",
    "--disable-dev-shm-usage",
    "--disable-gpu",
]
#: JupyterLab settings for a quiet, predictable page: no news or update pop-ups, every cell
#: kept in the page (so that a test can find any cell's output), no autosave in the middle.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}


def chromium() -> str:
    """Path of the system Chromium (``$CHROMIUM`` if set); ``make chromium`` installs it."""
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser"):
        path = candidate and shutil.which(candidate)
        if path:
            return path
    raise RuntimeError(
        "the browser tests need Chromium: run `make chromium` (Debian: apt-get install chromium) "
        "or set CHROMIUM=/path/to/chromium"
    )


def launch(playwright):
    """The system Chromium, headless, with background networking off."""
    args = list(CHROMIUM_ARGS)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to sandbox itself as root
    return playwright.chromium.launch(executable_path=chromium(), headless=True, args=args)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jupyter_env(home: Path) -> dict[str, str]:
    """An environment whose Jupyter user configuration, data and runtime live under ``home``.

    The virtualenv's own configuration (nbgrader's and ipywidgets' extensions) still applies.
    """
    env = dict(os.environ)
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        PYTHONDONTWRITEBYTECODE="1",
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "lab-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "lab-workspaces"),
        MPLBACKEND="Agg",
    )
    for name, value in LAB_SETTINGS.items():
        path = home / "lab-settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    return env


class JupyterServer:
    """A Jupyter server (``jupyter lab`` or ``voila``) of our own, on 127.0.0.1.

    ``url(path)`` is the address of a page with the token; ``stop()`` ends the server and its
    kernels by the server's process group id. The server's output goes to ``log``.
    """

    def __init__(self, kind: str, args: list[str], cwd: Path, home: Path) -> None:
        self.kind = kind
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.log = home / f"{kind}.log"
        home.mkdir(parents=True, exist_ok=True)
        if kind == "lab":
            command = [
                str(BIN / "jupyter"),
                "lab",
                "--no-browser",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={self.port}",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={cwd}",
                *args,
            ]
            if hasattr(os, "geteuid") and os.geteuid() == 0:
                command.append("--allow-root")  # CI containers run as root
        elif kind == "voila":
            command = [
                str(BIN / "voila"),
                "--no-browser",
                "--Voila.ip=127.0.0.1",
                f"--Voila.port={self.port}",
                "--Voila.port_retries=0",
                f"--Voila.token={self.token}",
                *args,
            ]
        else:
            raise ValueError(f"kind must be 'lab' or 'voila', got {kind!r}")
        self.command = command
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                command,
                cwd=cwd,
                env=jupyter_env(home),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: stop() ends kernels too
            )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "") -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base}/{path.lstrip('/')}{sep}token={self.token}"

    def _wait_until_ready(self) -> None:
        probe = self.url("api/status" if self.kind == "lab" else "")
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited at startup:\n{self.log_text()}")
            try:
                with urllib.request.urlopen(probe, timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{self.kind} did not answer {self.base} within {STARTUP_TIMEOUT} s:\n"
                    f"{self.log_text()}"
                )
            time.sleep(0.2)  # polling the server's status, not waiting on a page

    def shutdown_kernels(self) -> None:
        """Shut down every kernel the server runs (what File > Shut Down Kernels does)."""
        headers = {"Authorization": f"token {self.token}"}
        request = urllib.request.Request(self.url("api/kernels"), headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            kernels = json.load(response)
        for kernel in kernels:
            request = urllib.request.Request(
                self.url(f"api/kernels/{kernel['id']}"), headers=headers, method="DELETE"
            )
            urllib.request.urlopen(request, timeout=60).close()

    def log_text(self, tail: int = 4000) -> str:
        try:
            return self.log.read_text()[-tail:]
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM to the server (it shuts its kernels down), then SIGKILL to its group."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # kernels left over in its group
        except ProcessLookupError:
            pass
        if self.proc.poll() is None:
            self.proc.wait(timeout=10)


class Shots:
    """Numbered screenshots of every step in ``folder`` (``01-open-02.png``, ...)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        folder.mkdir(parents=True, exist_ok=True)

    def take(self, page, name: str, locator=None) -> Path:
        self.count += 1
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")
        path = self.folder / f"{self.count:03d}-{slug}.png"
        try:
            if locator is not None:
                locator.screenshot(path=str(path), timeout=10_000)
            else:
                page.screenshot(path=str(path), timeout=10_000)
        except Exception as exc:  # a page that cannot be drawn still gets a failure report
            try:
                page.screenshot(path=str(path), timeout=10_000)
            except Exception:
                path = path.with_suffix(".txt")
                path.write_text(f"no screenshot: {exc}\n")
        return path

    def check(self, page, name: str, expectation: Callable[[], object], why: str = ""):
        """Run ``expectation`` (a Playwright ``expect`` or a condition to wait for); screenshot.

        On success the screenshot shows the step done; on failure it shows the page at the
        moment the expectation gave up, and the error names that screenshot.
        """
        try:
            result = expectation()
        except AssertionError as exc:
            path = self.take(page, f"{name}-FAILED")
            raise AssertionError(f"{why or name}: {exc}\nscreenshot: {path}") from None
        except Exception as exc:  # Playwright's TimeoutError from wait_for and friends
            if type(exc).__name__ != "TimeoutError":
                raise
            path = self.take(page, f"{name}-FAILED")
            raise AssertionError(f"{why or name}: {exc}\nscreenshot: {path}") from None
        self.take(page, name)
        return result
