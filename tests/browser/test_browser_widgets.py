"""Every widget of the lesson notebooks, used in JupyterLab as a student uses it.

Each notebook with a widget is opened in a real browser and run cell by cell (Run > Run All
Cells). Then every control of its widget is changed by hand (keys or a drag on a slider, a pick
from a dropdown, a button press), and the test checks what the student sees change: the text
under the controls must equal what the widget's plain function returns for the values the page
shows, and the picture must be replaced by one the browser can draw.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import matplotlib
import pytest

matplotlib.use("Agg")

from conftest import widget_notebooks  # noqa: E402
from pages import (  # noqa: E402
    REDRAW_TIMEOUT,
    drag,
    dropdown,
    image_shown,
    image_src,
    open_notebook,
    press_keys,
    run_all_cells,
    show_cell,
    slider,
    slider_value,
    text_line,
)
from playwright.sync_api import expect  # noqa: E402

from course import gates  # noqa: E402
from course import vanishing as van  # noqa: E402


@dataclass
class FigureScenario:
    """A ``course.widgets.interactive_figure`` in a notebook and what to do with it.

    ``controls`` maps each argument of ``fn`` to the kind and description of its control
    (``("slider", "a")``, ``("int slider", "step")`` or ``("dropdown", "gate")``); each action
    is ``(argument, how, what)``: ``("a", "keys", ["ArrowRight"])``, ``("a", "drag", -0.3)``
    (a fraction of the slider's width) or ``("gate", "pick", "add")``.
    """

    title: str
    fn: Callable
    controls: dict[str, tuple[str, str]]
    actions: list[tuple[str, str, object]] = field(default_factory=list)


FIGURES: dict[str, FigureScenario] = {
    "02_computational_graphs.ipynb": FigureScenario(
        "Backward sweep step by step",
        gates.example_step_figure,
        {"example": ("dropdown", "example"), "step": ("int slider", "step")},
        [
            ("step", "keys", ["ArrowRight", "ArrowRight"]),
            ("example", "pick", "sigmoid neuron"),
            ("step", "drag", 0.45),
        ],
    ),
    "03_gates.ipynb": FigureScenario(
        "How a gate routes the gradient",
        gates.gate_figure,
        {
            "gate": ("dropdown", "gate"),
            "a": ("slider", "a"),
            "b": ("slider", "b"),
            "upstream": ("slider", "upstream"),
        },
        [
            ("a", "keys", ["ArrowRight"]),
            ("gate", "pick", "add"),
            ("upstream", "drag", -0.3),
            ("b", "keys", ["ArrowLeft", "ArrowLeft", "ArrowLeft"]),
        ],
    ),
    "04_activations.ipynb": FigureScenario(
        "Gradient norm per layer",
        van.activation_study,
        {"name": ("dropdown", "activation"), "depth": ("int slider", "depth")},
        [
            ("name", "pick", "sigmoid"),
            ("depth", "keys", ["ArrowLeft"]),
            ("depth", "drag", 0.3),
        ],
    ),
}
#: Notebooks whose widget is the training dashboard (see test_browser_dashboard.py).
DASHBOARDS = {"07_minibatch_training.ipynb"}


def test_every_widget_notebook_is_covered():
    found = set(widget_notebooks())
    assert found, "no notebook holds a widget: has the widget output format changed?"
    assert found == set(FIGURES) | DASHBOARDS, (
        "a notebook with widgets needs a browser scenario here (or one was removed): "
        f"{sorted(found ^ (set(FIGURES) | DASHBOARDS))}"
    )


def figure_box(page, title: str):
    """The widget box that shows ``title`` above its controls."""
    return page.locator(".widget-vbox").filter(has_text=title).first


def control(box, kind: str, label: str):
    return dropdown(box, label) if kind == "dropdown" else slider(box, label)


def page_values(box, scenario: FigureScenario) -> dict[str, object]:
    """The value of every control, read from the page (the readout a student sees)."""
    values: dict[str, object] = {}
    for arg, (kind, label) in scenario.controls.items():
        c = control(box, kind, label)
        if kind == "dropdown":
            values[arg] = c.input_value()
        else:
            values[arg] = slider_value(c)
            if kind == "int slider":
                values[arg] = int(values[arg])
    return values


def expected_text(scenario: FigureScenario, values: dict[str, object]) -> str:
    result = scenario.fn(**values)
    items = result if isinstance(result, tuple) else (result,)
    return "".join(item for item in items if isinstance(item, str))


@pytest.mark.parametrize("notebook", sorted(FIGURES))
def test_figure_widget_follows_its_controls(notebook, page, lab, shots):
    scenario = FIGURES[notebook]
    open_notebook(page, lab, f"notebooks/{notebook}", notebook, shots)
    run_all_cells(page, shots, notebook)
    box = figure_box(page, scenario.title)
    show_cell(page, f'title="{scenario.title}"')

    def first_view():
        expect(box).to_be_visible(timeout=REDRAW_TIMEOUT)
        box.scroll_into_view_if_needed()
        for kind, label in scenario.controls.values():
            expect(control(box, kind, label)).to_be_visible()
        expect(text_line(box)).to_have_text(expected_text(scenario, page_values(box, scenario)))
        image_shown(box)

    shots.check(page, "first view", first_view, why=f"the widget {scenario.title!r} is not shown")
    for arg, how, what in scenario.actions:
        kind, label = scenario.controls[arg]
        c = control(box, kind, label)
        before = page_values(box, scenario)
        old_src = image_src(box)
        if how == "pick":
            c.select_option(str(what))
        elif how == "keys":
            press_keys(c, *what)
        else:
            drag(c, float(what))
        step = f"{label}: {how} {' '.join(what) if how == 'keys' else what}"

        def redrawn(c=c, kind=kind, before=before, old_src=old_src, arg=arg):
            if kind == "dropdown":
                expect(c).not_to_have_value(str(before[arg]))
            else:
                c.page.wait_for_function(
                    "([h, v]) => parseFloat(h.getAttribute('aria-valuenow')) !== v",
                    arg=[c.locator(".noUi-handle").element_handle(), before[arg]],
                    timeout=REDRAW_TIMEOUT,
                )
            values = page_values(box, scenario)
            want = expected_text(scenario, values)
            expect(text_line(box)).to_have_text(want, timeout=REDRAW_TIMEOUT)
            image_shown(box, old_src)

        shots.check(
            page, step, redrawn, why=f"{notebook}: after '{step}' the widget did not redraw"
        )
