"""The exchange of a shared server keeps students apart (autograder/exchange.py, hub/).

Real accounts (root only: an instructor and two students, removed afterwards) run the real
nbgrader commands with the hub's configuration (hub/etc/nbgrader_config.py): the instructor
releases ps1, both students fetch and submit it, the instructor collects it and releases a
feedback page to each; each student fetches their own. Then student A, knowing the exact paths
of B's files (as if they had leaked), tries to list, read, change, rename and delete B's
submission and feedback, the instructor's course and the released assignment, and B's home:
every attempt must be refused by the operating system.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "hub"))

needs_root = pytest.mark.skipif(
    not (sys.platform.startswith("linux") and os.geteuid() == 0),
    reason="needs root: it creates Unix accounts (an instructor and two students) to run "
    "nbgrader's exchange as each of them",
)

#: run as student A: each attempt on someone else's file, and what the system said
ATTEMPTS = r"""
import json, os, shutil, sys
paths = json.loads(sys.argv[1])
def attempt(what, action):
    try:
        action()
        return "allowed"
    except PermissionError:
        return "denied"
    except OSError as exc:
        return f"failed: {exc}"
def write(path):
    with open(path, "a") as fh:
        fh.write("changed by A")
def read(path):
    with open(path, "rb") as fh:
        fh.read()
out = {
    "list the exchange's inbound": attempt(0, lambda: os.listdir(paths["inbound"])),
    "list the released feedback": attempt(0, lambda: os.listdir(paths["feedback_dir"])),
    "read B's submitted notebook": attempt(0, lambda: read(paths["b_notebook"])),
    "read B's submission secret": attempt(0, lambda: read(paths["b_secret"])),
    "list B's submission": attempt(0, lambda: os.listdir(paths["b_submission"])),
    "change B's submitted notebook": attempt(0, lambda: write(paths["b_notebook"])),
    "add a file to B's submission": attempt(
        0, lambda: write(os.path.join(paths["b_submission"], "extra.py"))),
    "delete B's submitted notebook": attempt(0, lambda: os.unlink(paths["b_notebook"])),
    "rename B's submission": attempt(
        0, lambda: os.rename(paths["b_submission"], paths["b_submission"] + "x")),
    "delete B's submission": attempt(0, lambda: shutil.rmtree(paths["b_submission"])),
    "read B's feedback": attempt(0, lambda: read(paths["b_feedback"])),
    "change B's feedback": attempt(0, lambda: write(paths["b_feedback"])),
    "delete B's feedback": attempt(0, lambda: os.unlink(paths["b_feedback"])),
    "list the instructor's course": attempt(0, lambda: os.listdir(paths["course"])),
    "read the gradebook": attempt(0, lambda: read(paths["gradebook"])),
    "read the assignment's source": attempt(0, lambda: read(paths["source"])),
    "read B's collected notebook": attempt(0, lambda: read(paths["collected_b"])),
    "change the released assignment": attempt(0, lambda: write(paths["released"])),
    "list B's home": attempt(0, lambda: os.listdir(paths["b_home"])),
    "read A's own feedback": attempt(0, lambda: read(paths["a_feedback"])),
}
print(json.dumps(out))
"""


def test_grant_read_lets_one_user_read_and_no_other(tmp_path):
    """The access-control list a feedback page gets, read back from the file system."""
    import struct

    from autograder.exchange import grant_read

    page = tmp_path / "page.html"
    page.write_text("feedback")
    page.chmod(0o666)
    try:
        grant_read(str(page), 4242)
    except OSError as exc:
        pytest.skip(f"the temporary folder's file system has no ACLs: {exc.strerror}")
    assert stat.S_IMODE(page.stat().st_mode) == 0o640  # group: the mask; others: nothing
    raw = os.getxattr(page, "system.posix_acl_access")
    version, entries = struct.unpack_from("<I", raw)[0], raw[4:]
    assert version == 2
    acl = [struct.unpack_from("<HHI", entries, i) for i in range(0, len(entries), 8)]
    users = [(perm, uid) for tag, perm, uid in acl if tag == 0x02]
    assert users == [(4, 4242)], acl
    assert [perm for tag, perm, _ in acl if tag == 0x20] == [0], "others may read"


@pytest.fixture(scope="module")
def klass():
    """An instructor and students A and B with the hub's nbgrader configuration; ps1 released,
    submitted by A and B, collected, and a feedback page released to each."""
    import classroom

    base = Path(tempfile.mkdtemp(prefix="bpc-exchange-", dir="/tmp"))
    base.chmod(0o755)
    tag = str(os.getpid())[-6:]
    names = {"instructor": f"bpcx{tag}i", "a": f"bpcx{tag}a", "b": f"bpcx{tag}b"}
    made = []
    try:
        users = {}
        for role, name in names.items():
            classroom.remove_user(name)  # left by a killed run with the same process id
            users[role] = classroom.make_user(name, base / "home" / name, "unused-password")
            made.append(name)
        exchange, course = base / "exchange", base / "home" / names["instructor"] / "course"
        inst = users["instructor"]
        classroom.prepare_exchange(exchange, inst)
        classroom.prepare_course(course, inst, ["ps1"])
        env = {
            role: classroom.user_env(
                user, base / "home" / user.name, exchange, course if role == "instructor" else None
            )
            for role, user in users.items()
        }

        def run(role, *args, cwd=None):
            user = users[role]
            proc = classroom.run_as(
                user,
                [str(classroom.BIN / "nbgrader"), *args],
                env[role],
                cwd or base / "home" / user.name,
            )
            return classroom.check(proc, f"nbgrader {args[0]} as {role}")

        run("instructor", "generate_assignment", "ps1", cwd=course)
        run("instructor", "release_assignment", "ps1", cwd=course)
        for student in ("a", "b"):
            run(student, "fetch_assignment", "ps1")
            run(student, "submit", "ps1")
        run("instructor", "collect", "ps1", cwd=course)
        # a feedback page per student, where generate_feedback puts it
        for student in ("a", "b"):
            name = names[student]
            submitted = course / "submitted" / name / "ps1"
            feedback = course / "feedback" / name / "ps1"
            feedback.mkdir(parents=True)
            for kept in ("timestamp.txt", "submission_secret.txt"):
                shutil.copy(submitted / kept, feedback / kept)
            (feedback / "ps1.html").write_text(f"<p>feedback for {name}</p>")
            classroom.give(inst, course / "feedback")
        run("instructor", "release_feedback", "ps1", cwd=course)
        for student in ("a", "b"):
            run(student, "fetch_feedback", "ps1")
        yield base, exchange, course, names, users
    finally:
        for name in made:
            classroom.remove_user(name)
        shutil.rmtree(base, ignore_errors=True)


def released_feedback(exchange: Path, course: Path, name: str) -> Path:
    """The page nbgrader released for ``name``: named by the hash of their submission."""
    from nbgrader.utils import notebook_hash

    secret = (course / "feedback" / name / "ps1" / "submission_secret.txt").read_text()
    name = notebook_hash(secret=secret, notebook_id="ps1")
    return exchange / "backprop-course" / "feedback" / f"{name}.html"


@pytest.mark.slow
@needs_root
def test_each_student_fetched_their_own_feedback(klass):
    base, _, _, names, _ = klass
    for student in ("a", "b"):
        pages = list((base / "home" / names[student] / "ps1" / "feedback").glob("*/ps1.html"))
        assert len(pages) == 1, f"student {student} fetched {pages}"
        assert pages[0].read_text() == f"<p>feedback for {names[student]}</p>"


@pytest.mark.slow
@needs_root
def test_a_submission_is_closed_to_other_students(klass):
    """Its folders let in its student and the instructor's group only."""
    _, exchange, _, names, users = klass
    inbound = exchange / "backprop-course" / "inbound"
    mode = stat.S_IMODE(inbound.stat().st_mode)
    assert mode == 0o3733, f"inbound is {oct(mode)}: students add, cannot list or remove"
    (submission,) = inbound.glob(f"{names['b']}+ps1+*")
    for path in [submission, *(p for p in submission.rglob("*") if p.is_dir())]:
        info = path.stat()
        assert stat.S_IMODE(info.st_mode) == 0o750, f"{path}: {oct(info.st_mode)}"
        assert info.st_uid == users["b"].uid
        assert info.st_gid == users["instructor"].gid, f"{path} is not the instructor's group's"


@pytest.mark.slow
@needs_root
def test_student_a_cannot_reach_what_is_not_theirs(klass):
    import classroom

    base, exchange, course, names, users = klass
    inbound = exchange / "backprop-course" / "inbound"
    (b_submission,) = inbound.glob(f"{names['b']}+ps1+*")
    paths = {
        "inbound": inbound,
        "feedback_dir": exchange / "backprop-course" / "feedback",
        "b_submission": b_submission,
        "b_notebook": b_submission / "ps1.ipynb",
        "b_secret": b_submission / "submission_secret.txt",
        "b_feedback": released_feedback(exchange, course, names["b"]),
        "a_feedback": released_feedback(exchange, course, names["a"]),
        "course": course,
        "gradebook": course / "gradebook.db",
        "source": course / "source_assignments" / "ps1" / "ps1.ipynb",
        "collected_b": course / "submitted" / names["b"] / "ps1" / "ps1.ipynb",
        "released": exchange / "backprop-course" / "outbound" / "ps1" / "ps1.ipynb",
        "b_home": base / "home" / names["b"],
    }
    for key, path in paths.items():
        assert path.exists(), f"{key}: {path} is missing, the attempt would prove nothing"
    a = users["a"]
    proc = classroom.run_as(
        a,
        [sys.executable, "-c", ATTEMPTS, json.dumps({k: str(v) for k, v in paths.items()})],
        classroom.user_env(a, base / "home" / a.name, exchange),
        base / "home" / a.name,
    )
    classroom.check(proc, "the attempts of student A")
    outcome = json.loads(proc.stdout.splitlines()[-1])
    assert outcome.pop("read A's own feedback") == "allowed"
    allowed = {what: result for what, result in outcome.items() if result != "denied"}
    assert not allowed, f"student A could: {allowed}"
    # and nothing of B's changed
    assert (b_submission / "ps1.ipynb").exists() and not (b_submission / "extra.py").exists()
    assert paths["b_feedback"].read_text() == f"<p>feedback for {names['b']}</p>"
