"""``make screenshots``: the README's pictures, taken in a browser from the running course.

``docs/screenshots/dashboard.png`` is the standalone training dashboard (Voilà, as started by
``make dashboard``) after 25 presses of Step; ``docs/screenshots/graph.png`` is the backward-sweep
widget of notebook 02 in JupyterLab, at step 2 of (x + y) z. Both come from the same
servers and helpers as the browser tests (``tests/browser``), so they show what a student sees.
Steps are pressed one by one (no timed training), so a rerun gives the same pictures. Every step
of the way is also saved in ``build/screenshot-steps/``.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from harness import JupyterServer, Shots, launch  # noqa: E402
from pages import (  # noqa: E402
    REDRAW_TIMEOUT,
    button,
    dropdown,
    image_shown,
    open_notebook,
    press_keys,
    run_all_cells,
    slider,
    slider_value,
    text_line,
)
from playwright.sync_api import expect, sync_playwright  # noqa: E402

from course import gates  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
EPOCHS = 25
GRAPH_NOTEBOOK = "02_computational_graphs.ipynb"
GRAPH_TITLE = "Backward sweep step by step"
GRAPH_EXAMPLE, GRAPH_STEP = "(x + y)*z", 2


def dashboard_png(browser, work: Path, shots: Shots) -> Path:
    server = JupyterServer("voila", ["dashboard.ipynb"], ROOT / "dashboard", work / "voila")
    try:
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(server.url(""))
        box = page.locator(".widget-vbox").filter(has=page.locator("button", has_text="Step")).first
        expect(box).to_be_visible(timeout=120_000)
        step = button(box, "Step")
        for epoch in range(1, EPOCHS + 1):
            step.click()
            expect(text_line(box)).to_contain_text(
                re.compile(f"^epoch {epoch}: ", re.M), timeout=REDRAW_TIMEOUT
            )
        image_shown(box)
        page.mouse.click(1090, 890)  # the keyboard focus ring off the Step button
        path = OUT / "dashboard.png"
        box.screenshot(path=str(path))
        shots.take(page, "dashboard")
        return path
    finally:
        server.stop()


def graph_png(browser, work: Path, shots: Shots) -> Path:
    root = work / "lab-root"
    root.mkdir()
    shutil.copy(ROOT / "notebooks" / GRAPH_NOTEBOOK, root)
    server = JupyterServer("lab", [], root, work / "lab")
    try:
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        open_notebook(page, server, GRAPH_NOTEBOOK, "screenshots", shots)
        run_all_cells(page, shots, GRAPH_NOTEBOOK)
        box = page.locator(".widget-vbox").filter(has_text=GRAPH_TITLE).first
        box.scroll_into_view_if_needed()
        dropdown(box, "example").select_option(GRAPH_EXAMPLE)
        first = int(slider_value(slider(box, "step")))
        expect(text_line(box)).to_have_text(
            gates.example_step_figure(GRAPH_EXAMPLE, first)[1], timeout=REDRAW_TIMEOUT
        )
        step = slider(box, "step")
        press_keys(step, *["ArrowRight"] * (GRAPH_STEP - first))
        want = gates.example_step_figure(GRAPH_EXAMPLE, GRAPH_STEP)[1]
        expect(text_line(box)).to_have_text(want, timeout=REDRAW_TIMEOUT)
        image_shown(box)
        page.mouse.click(5, 880)  # the keyboard focus ring off the slider's handle
        path = OUT / "graph.png"
        box.screenshot(path=str(path))
        shots.take(page, "graph")
        return path
    finally:
        server.stop()


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        work = Path(tmp)
        shots = Shots(ROOT / "build" / "screenshot-steps")  # each step, to see what went wrong
        browser = launch(playwright)
        try:
            for make in (dashboard_png, graph_png):
                path = make(browser, work, shots)
                print(f"{path.relative_to(ROOT)}: {path.stat().st_size // 1024} KB")
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
