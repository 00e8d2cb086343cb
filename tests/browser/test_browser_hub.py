"""A class on JupyterHub with nbgrader's exchange, from the students' logins to their feedback.

As root, the test creates an instructor and two students (Unix accounts with passwords), the
exchange and the instructor's course in a temporary folder, releases ps1, and starts JupyterHub
(hub/jupyterhub_config.py: PAM, LocalProcessSpawner, configurable-http-proxy) on 127.0.0.1.
Then, in the browser, each student logs in on the hub's login page, gets a JupyterLab of their
own, fetches ps1 from nbgrader's Assignments list, answers part (a)'s first question, and
submits; the first also presses Validate. Between the two submissions the instructor sets the
due date, so the second is late. The instructor collects (``nbgrader collect``), grades the
collected submissions with this project's sandboxed grader (``python -m autograder grade``),
makes and releases the feedback (``nbgrader generate_feedback``, ``release_feedback``) and sees
the course in the formgrader; each student fetches their feedback and reads their score, the
late one with nbgrader's late penalty. Accounts, processes and folders are removed at the end,
also after a failure. Screenshots of every step in ``build/browser-screenshots/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from harness import LAB_SETTINGS, ROOT, VIEWPORT, free_port
from pages import menu
from playwright.sync_api import expect

sys.path.insert(0, str(ROOT / "hub"))

pytestmark = pytest.mark.skipif(
    not (sys.platform.startswith("linux") and os.geteuid() == 0),
    reason="needs root: it creates Unix accounts (an instructor and two students) that log in "
    "to JupyterHub with their passwords, and the hub runs each server as its user",
)

ASSIGNMENT = "ps1"
#: the part the students answer, and the test cell that grades it (2 of ps1's 20 points)
ANSWER_CELL, TEST_CELL, POINTS, MAX = "a_add_mul", "test_a_add_mul", 2.0, 20.0
#: starting a user's server: JupyterLab's first load on 2 cores
SPAWN_TIMEOUT = 120_000
#: Validate runs every cell of ps1 on the server
VALIDATE_TIMEOUT = 180_000
SOLUTION_MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


def answer() -> str:
    """The instructor's solution of ``ANSWER_CELL``, as a student would type it."""
    import nbformat

    source = nbformat.read(ROOT / "source_assignments" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    (cell,) = [
        c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade_id") == ANSWER_CELL
    ]
    return "\n".join(line for line in cell.source.splitlines() if not SOLUTION_MARKER.match(line))


class Class:
    """The accounts, the exchange, the instructor's course and the hub of one test run."""

    def __init__(self, base: Path) -> None:
        import classroom

        self.cr = classroom
        self.base = base
        tag = str(os.getpid())[-6:]
        self.names = {"instructor": f"bpch{tag}i", "early": f"bpch{tag}s", "late": f"bpch{tag}l"}
        self.passwords = {role: secrets.token_urlsafe(12) for role in self.names}
        self.users: dict = {}
        self.exchange = base / "exchange"
        self.course = self.home("instructor") / "course"
        self.hub = None

    def home(self, role: str) -> Path:
        return self.base / "home" / self.names[role]

    def create(self) -> None:
        cr = self.cr
        for role, name in self.names.items():
            cr.remove_user(name)  # left by a killed run with the same process id
            self.users[role] = cr.make_user(name, self.home(role), self.passwords[role])
            # a quiet JupyterLab: no news, every cell kept in the page
            for setting, value in LAB_SETTINGS.items():
                path = self.home(role) / ".jupyter" / "lab" / "user-settings" / setting
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(value))
            cr.give(self.users[role], self.home(role))
        cr.prepare_exchange(self.exchange, self.users["instructor"])
        cr.prepare_course(self.course, self.users["instructor"], [ASSIGNMENT])
        self.nbgrader("generate_assignment", ASSIGNMENT)
        self.nbgrader("release_assignment", ASSIGNMENT)

    def instructor(self, *argv: str, timeout: float = 600) -> str:
        """Run ``argv`` as the instructor in the course (as their terminal would)."""
        user = self.users["instructor"]
        env = self.cr.user_env(user, self.home("instructor"), self.exchange, self.course)
        proc = self.cr.run_as(user, argv, env, self.course, timeout=timeout)
        return self.cr.check(proc, " ".join(argv[:4]))

    def nbgrader(self, *args: str) -> str:
        return self.instructor(str(self.cr.BIN / "nbgrader"), *args)

    def start_hub(self):
        settings = {
            "BPC_HUB_PORT": str(free_port()),
            "BPC_HUB_API_PORT": str(free_port()),
            "BPC_PROXY_API_PORT": str(free_port()),
            "BPC_INSTRUCTORS": self.names["instructor"],
            "BPC_STUDENTS": f"{self.names['early']},{self.names['late']}",
            "BPC_COURSE_ROOT": str(self.course),
            "BPC_EXCHANGE": str(self.exchange),
        }
        self.hub = self.cr.Hub(settings, self.base / "state").start()
        return self.hub

    def remove(self) -> None:
        if self.hub is not None:
            self.hub.stop()
        for name in self.names.values():
            self.cr.remove_user(name)
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="module")
def klass():
    started = time.monotonic()
    base = Path(tempfile.mkdtemp(prefix="bpc-hub-", dir="/tmp"))
    base.chmod(0o755)
    made = Class(base)
    try:
        made.create()
        made.start_hub()
        print(f"class and hub ready in {time.monotonic() - started:.0f} s")
        yield made
    finally:
        if made.hub is not None:
            print(f"JupyterHub's log:\n{made.hub.log_text(3000)}")
        made.remove()


def log_in(browser, stack: contextlib.ExitStack, klass: Class, role: str, shots):
    """A browser window of its own (its own cookies) for ``role``, closed with ``stack``; the
    hub's login page filled in and sent. The hub then starts the user's server."""
    context = stack.enter_context(contextlib.closing(browser.new_context(viewport=VIEWPORT)))
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto(f"{klass.hub.url}/hub/login")
    shots.check(
        page,
        f"{role}: the hub's login page",
        lambda: expect(page.locator("#login_submit")).to_be_visible(),
        why="the hub showed no login form",
    )
    page.fill("#username_input", klass.names[role])
    page.fill("#password_input", klass.passwords[role])
    page.click("#login_submit")
    return page


def in_lab(page, klass: Class, role: str, shots):
    """Wait until the user's JupyterLab, served through the hub, is open."""
    shots.check(
        page,
        f"{role}: logged in, JupyterLab",
        lambda: expect(page.locator("#jp-main-dock-panel")).to_be_visible(timeout=SPAWN_TIMEOUT),
        why=f"{role} logged in, but their JupyterLab did not open through the hub",
    )
    assert page.url.startswith(f"{klass.hub.url}/user/{klass.names[role]}/lab"), page.url
    return page


def assignment_list(page, shots, role: str, shelf: str):
    """Nbgrader > Assignment List, once ``shelf`` (``released``, ``fetched`` or ``submitted``)
    lists ps1; that list."""
    menu(page, "Nbgrader", "Assignment List")
    listed = page.locator(f"#{shelf}_assignments_list")
    shots.check(
        page,
        f"{role}: the assignment list",
        lambda: expect(listed).to_contain_text(ASSIGNMENT, timeout=60_000),
        why=f"{role}: nbgrader's assignment list has no {ASSIGNMENT} among the {shelf} ones",
    )
    return listed


def fetch_and_answer(page, klass: Class, role: str, shots, validate: bool) -> None:
    """Fetch ps1 from the list, open it, type the answer of part (a)'s first cell, save;
    ``validate``: press Validate and read its report."""
    # a student's JupyterLab has neither the instructor's panel nor the formgrader
    expect(page.locator(".jp-SideBar").get_by_text("Create Assignment")).to_have_count(0)
    formgrader = page.request.get(f"{klass.hub.url}/user/{klass.names[role]}/formgrader")
    assert formgrader.status == 404, f"{role} reached the formgrader: {formgrader.status}"
    released = assignment_list(page, shots, role, "released")
    released.get_by_role("button", name="Fetch").click()
    fetched = page.locator("#fetched_assignments_list")
    shots.check(
        page,
        f"{role}: fetched",
        lambda: expect(fetched).to_contain_text(ASSIGNMENT, timeout=60_000),
        why=f"{role}: fetching {ASSIGNMENT} put nothing in the downloaded assignments",
    )
    name = klass.names[role]
    page.goto(f"{klass.hub.url}/user/{name}/lab/tree/{ASSIGNMENT}/{ASSIGNMENT}.ipynb")
    shots.check(
        page,
        f"{role}: {ASSIGNMENT} open",
        lambda: expect(page.locator(".jp-StatusBar-TextItem", has_text="| Idle")).to_be_visible(
            timeout=120_000
        ),
        why=f"{role}: {ASSIGNMENT}.ipynb did not open with an idle kernel",
    )
    cell = page.locator(".jp-CodeCell").filter(
        has=page.locator(".jp-InputArea", has_text="def add_backward")
    )
    editor = cell.locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(answer())  # no auto-indent: the text as the student means it
    shots.check(
        page,
        f"{role}: part (a) answered",
        lambda: expect(editor).not_to_contain_text("NotImplementedError"),
        why=f"{role}: the answer did not replace the cell's stub",
    )
    page.keyboard.press("Control+s")
    shots.check(
        page,
        f"{role}: saved",
        lambda: page.wait_for_function(
            "() => !document.querySelector('.jp-mod-dirty')", timeout=30_000
        ),
        why=f"{role}: the notebook was not saved",
    )
    if validate:
        page.locator(".jp-NotebookPanel-toolbar .validate-button").locator(
            "jp-button, button"
        ).first.click()
        message = page.locator(".jp-Dialog #validation-message")
        shots.check(
            page,
            f"{role}: Validate reports",
            lambda: expect(message).to_be_visible(timeout=VALIDATE_TIMEOUT),
            why=f"{role}: pressing Validate showed no result",
        )
        # the other parts are not answered yet: they fail, the answered one does not
        expect(message).to_contain_text("The following cell failed")
        expect(message).to_contain_text("max_backward")
        expect(message).not_to_contain_text("add_backward")
        page.locator(".jp-Dialog").get_by_role("button").last.click()
        expect(page.locator(".jp-Dialog")).to_have_count(0)


def submit(page, role: str, shots) -> None:
    fetched = assignment_list(page, shots, role, "fetched")
    fetched.get_by_role("button", name="Submit").click()
    submitted = page.locator("#submitted_assignments_list")
    shots.check(
        page,
        f"{role}: submitted",
        lambda: expect(submitted).to_contain_text(ASSIGNMENT, timeout=60_000),
        why=f"{role}: submitting {ASSIGNMENT} left nothing in the submitted assignments",
    )


def fetch_feedback(page, klass: Class, role: str, shots) -> str:
    """Fetch Feedback in the list, open the page it fetched; its text."""
    submitted = assignment_list(page, shots, role, "submitted")
    submitted.get_by_role("button", name="Fetch Feedback").click()
    view = submitted.get_by_text("(view feedback)")
    shots.check(
        page,
        f"{role}: feedback fetched",
        lambda: expect(view).to_be_visible(timeout=60_000),
        why=f"{role}: Fetch Feedback found no feedback",
    )
    (html,) = (klass.home(role) / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html")
    rel = html.relative_to(klass.home(role))
    page.goto(f"{klass.hub.url}/user/{klass.names[role]}/files/{rel}")
    shots.take(page, f"{role}: the feedback page")
    return page.locator("body").inner_text()


def scores(klass: Class) -> dict[str, tuple[float, float]]:
    """Each student's (score, late penalty) of ps1 in the instructor's gradebook."""
    with sqlite3.connect(klass.course / "gradebook.db") as db:
        rows = db.execute(
            "SELECT s.student_id, SUM(g.auto_score), n.late_submission_penalty "
            "FROM submitted_assignment s JOIN assignment a ON s.assignment_id = a.id "
            "JOIN submitted_notebook n ON n.assignment_id = s.id "
            "JOIN grade g ON g.notebook_id = n.id WHERE a.name = ? GROUP BY n.id",
            (ASSIGNMENT,),
        ).fetchall()
    return {student: (score, penalty or 0.0) for student, score, penalty in rows}


def test_a_class_on_the_hub_from_login_to_feedback(browser, klass, shots):
    started = time.monotonic()

    def lap(what: str) -> None:
        print(f"{time.monotonic() - started:5.0f} s  {what}")

    early, late = klass.names["early"], klass.names["late"]
    with contextlib.ExitStack() as windows:
        pages = {}
        for role in ("early", "late"):
            pages[role] = in_lab(log_in(browser, windows, klass, role, shots), klass, role, shots)
            fetch_and_answer(pages[role], klass, role, shots, validate=role == "early")
            submit(pages[role], role, shots)
            lap(f"{role} submitted")
            if role == "early":
                # the due date passes between the two submissions
                due = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
                klass.nbgrader("db", "assignment", "add", ASSIGNMENT, f"--duedate={due}")
                lap("due date set")

        # the instructor logs in (the hub starts their server meanwhile) and grades
        instructor = log_in(browser, windows, klass, "instructor", shots)
        out = klass.nbgrader("collect", ASSIGNMENT)
        assert f"Collecting submission: {early}" in out and f"Collecting submission: {late}" in out
        lap("collected")
        graded = klass.instructor(
            sys.executable, "-m", "autograder", "--course", str(klass.course), "grade",
            ASSIGNMENT, str(klass.course / "submitted"), "--jobs", "2",
        )  # fmt: skip
        assert "isolation: OS sandbox (bubblewrap" in graded, graded
        lap("graded in the sandbox")
        klass.nbgrader("generate_feedback", ASSIGNMENT, "--force")
        klass.nbgrader("release_feedback", ASSIGNMENT)
        lap("feedback made and released")
        got = scores(klass)
        assert got[early] == (POINTS, 0.0), f"the early student's score, penalty: {got[early]}"
        # nbgrader's late penalty ("zero", hub/etc/nbgrader_config.py): the whole score
        assert got[late] == (POINTS, POINTS), f"the late student's score, penalty: {got[late]}"

        in_lab(instructor, klass, "instructor", shots)
        expect(instructor.locator(".jp-SideBar").get_by_text("Create Assignment")).to_be_visible()
        instructor.goto(f"{klass.hub.url}/user/{klass.names['instructor']}/formgrader")
        shots.check(
            instructor,
            "instructor: the formgrader lists ps1",
            lambda: expect(instructor.locator("body")).to_contain_text(ASSIGNMENT, timeout=60_000),
            why="the instructor's formgrader does not show the course",
        )
        lap("the formgrader shows the course")

        # the page's total is nbgrader's score less the late penalty, shown on a line of its own
        for role, total in (("early", POINTS), ("late", 0.0)):
            text = fetch_feedback(pages[role], klass, role, shots)
            assert f"{ASSIGNMENT}: {total:g} of {MAX:g} points" in text, text[:1000]
            penalty = f"Late submission penalty\t-{POINTS:g}"
            assert (penalty in text) == (role == "late"), text[:1000]
        lap("each student read their feedback")
