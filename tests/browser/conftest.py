"""Fixtures of the browser suite: one JupyterLab, one Voilà, one Chromium, a page per test.

The servers run on temporary copies (the repository's notebooks are never opened for writing)
and are stopped by their process ids when the session ends, also after a failure. Screenshots
of every step go to ``$BROWSER_SCREENSHOTS`` (default ``build/browser-screenshots``), one folder
per test; the folder is printed in the header of the run and in every failure.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from harness import ROOT, VIEWPORT, JupyterServer, Shots, launch  # noqa: E402

SCREENSHOTS = Path(os.environ.get("BROWSER_SCREENSHOTS", ROOT / "build" / "browser-screenshots"))
NOTEBOOKS = ROOT / "notebooks"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def widget_notebooks() -> list[str]:
    """The lesson notebooks whose stored outputs hold a widget."""
    return sorted(p.name for p in NOTEBOOKS.glob("*.ipynb") if WIDGET_VIEW in p.read_text())


def pytest_report_header(config):
    return f"browser screenshots: {SCREENSHOTS.resolve()}"


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(f"browser screenshots: {SCREENSHOTS.resolve()}")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def lab_root(tmp_path_factory) -> Path:
    """Copies of the widget notebooks (in ``notebooks/``) and the course configuration."""
    root = tmp_path_factory.mktemp("lab-root")
    (root / "notebooks").mkdir()
    for name in widget_notebooks():
        shutil.copy(NOTEBOOKS / name, root / "notebooks" / name)
    shutil.copy(ROOT / "nbgrader_config.py", root)  # Validate reads it from the server's folder
    return root


@pytest.fixture(scope="session")
def lab(lab_root, tmp_path_factory):
    server = JupyterServer("lab", [], lab_root, tmp_path_factory.mktemp("lab-home"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def voila(tmp_path_factory):
    """The standalone training dashboard, served as ``make dashboard`` serves it."""
    server = JupyterServer(
        "voila", ["dashboard.ipynb"], ROOT / "dashboard", tmp_path_factory.mktemp("voila-home")
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def shots(request) -> Shots:
    folder = SCREENSHOTS / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    shutil.rmtree(folder, ignore_errors=True)
    return Shots(folder)


@pytest.fixture
def page(browser, shots, request):
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    page = context.new_page()
    request.node._browser_page = (page, shots)
    try:
        yield page
    finally:
        context.close()
        # the next test starts with the processor to itself
        for server in request.node.funcargs.values():
            if isinstance(server, JupyterServer) and server.kind == "lab":
                server.shutdown_kernels()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A test that fails outside ``Shots.check`` still leaves a screenshot, named in the report."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed and hasattr(item, "_browser_page"):
        page, shots = item._browser_page
        if "screenshot: " not in str(report.longrepr):
            path = shots.take(page, "FAILED")
            report.sections.append(("browser screenshot", f"screenshot: {path}"))
