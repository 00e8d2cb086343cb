"""Driving JupyterLab and ipywidgets the way a person does: menus, sliders, dropdowns, buttons.

Every helper waits on what the page shows (a prompt number, a readout, a label), never on the
clock. ``Shots.check`` (see ``harness``) wraps each expectation so that a failure names the
screenshot of the moment it failed.
"""

from __future__ import annotations

import re

from harness import JupyterServer, Shots
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

#: Running every cell of the slowest notebook takes about 40 s on 2 cores.
RUN_ALL_TIMEOUT = 240_000
#: A widget redraw (a kernel round trip and a matplotlib figure) takes well under a second.
REDRAW_TIMEOUT = 30_000

ALL_CELLS_RAN = """() => {
    const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
    return prompts.length > 0 && prompts.every(p => /^\\[\\d+\\]:$/.test(p.textContent.trim()));
}"""


NO_CELL_RAN = """() => {
    const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
    return prompts.length > 0 && prompts.every(p => !/\\d/.test(p.textContent));
}"""


def open_notebook(page: Page, lab: JupyterServer, path: str, workspace: str, shots: Shots):
    """Open ``path`` in a fresh JupyterLab workspace and wait until its kernel is idle."""
    slug = re.sub(r"[^A-Za-z0-9-]+", "-", workspace)
    page.goto(lab.url(f"lab/workspaces/{slug}/tree/{path}"))
    shots.check(
        page,
        f"open {path}",
        lambda: expect(page.locator(".jp-StatusBar-TextItem", has_text="| Idle")).to_be_visible(
            timeout=120_000
        ),
        why=f"{path} did not open with an idle kernel in JupyterLab",
    )


def menu(page: Page, menu_name: str, item: str) -> None:
    """Pick ``item`` from the menu bar's ``menu_name`` menu."""
    page.locator(".lm-MenuBar-item", has_text=re.compile(f"^{re.escape(menu_name)}$")).click()
    page.locator(".lm-Menu-item").filter(
        has=page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$"))
    ).click()


def run_all_cells(page: Page, shots: Shots, name: str) -> None:
    """Clear the stored outputs, Run > Run All Cells, and wait until every code cell shows its
    new execution number (the stored notebook's numbers are gone first, so none is stale)."""
    menu(page, "Edit", "Clear Outputs of All Cells")
    shots.check(
        page,
        f"clear the outputs of {name}",
        lambda: page.wait_for_function(NO_CELL_RAN, timeout=REDRAW_TIMEOUT),
        why=f"the stored outputs of {name} were not cleared",
    )
    menu(page, "Run", "Run All Cells")
    shots.check(
        page,
        f"run all cells of {name}",
        lambda: page.wait_for_function(ALL_CELLS_RAN, timeout=RUN_ALL_TIMEOUT, polling=500),
        why=f"not every cell of {name} finished running",
    )


def show_cell(page: Page, source: str) -> None:
    """Scroll to the first code cell whose source contains ``source`` (so that a screenshot
    shows its output, or what stands there instead)."""
    cell = page.locator(".jp-CodeCell").filter(has=page.locator(".jp-InputArea", has_text=source))
    cell.first.scroll_into_view_if_needed()


def slider(box: Locator, label: str) -> Locator:
    """The slider whose description is ``label``."""
    return box.locator(".widget-slider").filter(
        has=box.page.locator(".widget-label", has_text=re.compile(f"^{re.escape(label)}$"))
    )


def dropdown(box: Locator, label: str) -> Locator:
    """The ``<select>`` of the dropdown whose description is ``label``."""
    return (
        box.locator(".widget-dropdown")
        .filter(has=box.page.locator(".widget-label", has_text=re.compile(f"^{re.escape(label)}$")))
        .locator("select")
    )


def button(box: Locator, label: str) -> Locator:
    return box.locator("button.widget-button", has_text=re.compile(f"^\\s*{re.escape(label)}$"))


def slider_value(control: Locator) -> float:
    return float(control.locator(".noUi-handle").get_attribute("aria-valuenow"))


def press_keys(control: Locator, *keys: str) -> None:
    """Click a slider's handle and press keys (ArrowRight moves it one step up)."""
    handle = control.locator(".noUi-handle")
    handle.click()
    for key in keys:
        handle.press(key)


def drag(control: Locator, fraction: float) -> None:
    """Drag a slider's handle by ``fraction`` of the slider's width (negative: to the left)."""
    page = control.page
    handle = control.locator(".noUi-handle")
    handle.scroll_into_view_if_needed()
    track = control.locator(".noUi-base").bounding_box()
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + fraction * track["width"], y, steps=8)
    page.mouse.up()


def image_src(box: Locator) -> str:
    return box.locator("img.widget-image").get_attribute("src") or ""


def image_shown(box: Locator, old_src: str | None = None) -> None:
    """The widget's picture is on the page, was replaced (if ``old_src`` is given), and the
    browser could decode it."""
    img = box.locator("img.widget-image")
    expect(img).to_be_visible(timeout=REDRAW_TIMEOUT)
    if old_src is not None:
        expect(img).not_to_have_attribute("src", old_src, timeout=REDRAW_TIMEOUT)
    try:
        img.page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0",
            arg=img.element_handle(timeout=REDRAW_TIMEOUT),
            timeout=REDRAW_TIMEOUT,
        )
    except PlaywrightTimeoutError:
        raise AssertionError("the widget's picture is broken: the browser cannot draw it") from None


def text_line(box: Locator) -> Locator:
    """The text a figure widget prints under its controls."""
    return box.locator(".widget-html pre")
