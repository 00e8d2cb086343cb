"""The training dashboard, used in a browser: standalone (Voilà) and in notebook 07 (JupyterLab).

The same walk through both: the first view, Step, Start until a few epochs ran, Pause (training
stops: the next Step is exactly one more epoch), a new dataset, one more hidden layer, and Reset.
After each action the summary under the buttons must say what happened and the picture must be
replaced by one the browser can draw.
"""

from __future__ import annotations

import re

from pages import (
    REDRAW_TIMEOUT,
    button,
    dropdown,
    image_shown,
    image_src,
    open_notebook,
    press_keys,
    run_all_cells,
    show_cell,
    slider,
    text_line,
)
from playwright.sync_api import expect

EPOCH = re.compile(r"^epoch (\d+):", re.MULTILINE)
#: Start trains one epoch after another; a few are enough to see it running.
RUNNING_EPOCHS = re.compile(r"^epoch ([4-9]|\d{2,}): train loss", re.MULTILINE)


def dashboard_box(page):
    return (
        page.locator(".widget-vbox")
        .filter(has=page.locator("button.widget-button", has_text="Step"))
        .first
    )


def epoch_shown(box) -> int:
    found = EPOCH.search(text_line(box).inner_text())
    assert found, f"the summary does not say which epoch it is: {text_line(box).inner_text()!r}"
    return int(found.group(1))


def drive_dashboard(page, box, shots, where: str) -> None:
    """Every button and two kinds of control of the dashboard ``box``, checked one by one."""
    summary = text_line(box)
    start, pause, step, reset = (button(box, n) for n in ("Start", "Pause", "Step", "Reset"))

    def check(name: str, expectation) -> None:
        shots.check(page, name, expectation, why=f"{where}: {name}")

    def first_view():
        expect(box).to_be_visible(timeout=REDRAW_TIMEOUT)
        expect(summary).to_contain_text("moons (150 training / 50 validation points)")
        expect(summary).to_contain_text("epoch 0: train loss")
        for b in (start, step, reset):
            expect(b).to_be_enabled()
        expect(pause).to_be_disabled()
        image_shown(box)
        # one status: a single text line, which says the epoch once
        expect(summary).to_have_count(1)
        assert len(EPOCH.findall(box.inner_text())) == 1, box.inner_text()

    check("first view", first_view)

    def controls_line_up():
        cells = box.locator(".widget-gridbox").first.locator(":scope > *")
        boxes = [cells.nth(i).bounding_box() for i in range(cells.count())]
        assert len(boxes) == 8, f"the grid holds {len(boxes)} cells"
        assert len({round(b["width"]) for b in boxes}) == 1, "cells of different widths"
        lefts: list[float] = []  # the columns' left edges, within 4 px
        for x in sorted(b["x"] for b in boxes):
            if not lefts or x - lefts[-1] > 4:
                lefts.append(x)
        counts: list[int] = []  # cells per row, a row being cells whose tops are within 10 px
        top = None
        for b in sorted(boxes, key=lambda b: b["y"]):
            if top is None or b["y"] - top > 10:
                top, counts = b["y"], [*counts, 0]
            counts[-1] += 1
        # a regular grid: every row but the last as full as the first, columns at fixed lefts
        assert all(c == len(lefts) for c in counts[:-1]) and counts[-1] <= len(lefts), counts
        assert len(lefts) >= 2, "the controls stand in one column"

    check("the controls line up in a grid", controls_line_up)

    def after(action, *texts: str | re.Pattern):
        old_src = image_src(box)
        action()

        def shown():
            for text in texts:
                expect(summary).to_contain_text(text, timeout=REDRAW_TIMEOUT)
            image_shown(box, old_src)

        return shown

    check("Step trains one epoch", after(step.click, re.compile(r"^epoch 1: train loss", re.M)))

    def running():
        expect(pause).to_be_enabled()
        expect(start).to_be_disabled()
        expect(summary).to_have_text(RUNNING_EPOCHS, timeout=60_000)

    start.click()
    check("Start trains epoch after epoch", running)

    def paused():
        expect(start).to_be_enabled()
        expect(pause).to_be_disabled()

    pause.click()
    check("Pause stops training", paused)
    n = epoch_shown(box)
    check(
        f"Step after Pause at epoch {n} trains exactly one more",
        after(step.click, re.compile(f"^epoch {n + 1}: train loss", re.M)),
    )
    check(
        "dataset circles builds a fresh network",
        after(
            lambda: dropdown(box, "data").select_option("circles"),
            "circles (150 training / 50 validation points), 2-8-8-2 tanh network",
            re.compile(r"^epoch 0: train loss", re.M),
        ),
    )
    check(
        "one more hidden layer by keyboard",
        after(
            lambda: press_keys(slider(box, "hidden layers"), "ArrowRight"),
            "2-8-8-8-2 tanh network",
        ),
    )
    check("Step on the new network", after(step.click, re.compile(r"^epoch 1: train loss", re.M)))
    check(
        "Reset starts again",
        after(reset.click, "circles", re.compile(r"^epoch 0: train loss", re.M)),
    )


def test_standalone_dashboard(page, voila, shots):
    """``make dashboard``: the dashboard alone on a page served by Voilà."""
    page.goto(voila.url(""))
    box = dashboard_box(page)
    shots.check(
        page,
        "open the dashboard page",
        lambda: expect(box).to_be_visible(timeout=120_000),
        why="the standalone dashboard page shows no dashboard",
    )
    drive_dashboard(page, box, shots, "standalone dashboard")


def test_dashboard_in_notebook_07(page, lab, shots):
    notebook = "07_minibatch_training.ipynb"
    open_notebook(page, lab, f"notebooks/{notebook}", notebook, shots)
    run_all_cells(page, shots, notebook)
    show_cell(page, "dashboard()")
    drive_dashboard(page, dashboard_box(page), shots, notebook)
