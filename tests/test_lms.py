"""A Canvas download graded end to end (``--jobs 1``), then exported, refreshed and resumed.

The download (a zip made on a Mac) holds two students of one sortable name, late files, a name
in decomposed Unicode, a resubmission, a PDF, a truncated notebook and a notebook of another
assignment. No grade may be lost: one row per Canvas user id, each with the score of the
notebook it sent (``autograder/sample_class/ps1/expected.json``), and the rows that could not be
graded say why.
"""

from __future__ import annotations

import csv
import os
import shutil
import sys
import unicodedata
import zipfile
from pathlib import Path

import pytest

from autograder.cli import main

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "autograder" / "sample_class"
BIN = Path(sys.executable).parent
COURSE_ID = "backprop-course"

pytestmark = pytest.mark.slow

NUNEZ = unicodedata.normalize("NFD", "núñezjosé")
#: file in the Canvas zip -> the sample notebook it holds (None: its own bytes below)
DOWNLOAD = {
    "smithjohn_1020_6543210_ps1.ipynb": "correct",
    "smithjohn_LATE_1021_6543299_ps1.ipynb": "bug_overwrite_branch",
    f"{NUNEZ}_LATE_1030_6543300_ps1.ipynb": "rewritten",
    "leeann_1040_6543100_ps1.ipynb": "correct",  # sent first ...
    "leeann_1040_6543400_ps1-1.ipynb": "bug_uses_package",  # ... then this, which counts
    "山田太郎_1080_6543800_ps1.ipynb": "blank",
}
OTHERS = {
    "parkmin_1050_6543500_ps1.pdf": b"%PDF-1.4\n",
    "kimjae_1060_6543600_ps1.ipynb": b'{"cells": [{"cell_type": "code", "sour',  # cut short
    "ohsu_1070_6543700_ps1.ipynb": (SAMPLE / "ps2" / "correct.ipynb").read_bytes(),
}
EXPECTED = __import__("json").loads((SAMPLE / "ps1" / "expected.json").read_text())


def cli(*args: str) -> tuple[str, int]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(list(args))
    return out.getvalue(), code


def read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory):
    saved = dict(os.environ)
    root = tmp_path_factory.mktemp("course")
    jupyter = tmp_path_factory.mktemp("jupyter")
    shutil.copy(ROOT / "nbgrader_config.py", root)
    for name in ("ps1", "ps2"):  # ps2's source tells "another assignment" apart
        shutil.copytree(
            ROOT / "source_assignments" / name,
            root / "source_assignments" / name,
            ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"),
        )
    os.environ.update(
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        PYTHONDONTWRITEBYTECODE="1",
        JUPYTER_CONFIG_DIR=str(jupyter / "config"),
        JUPYTER_RUNTIME_DIR=str(jupyter / "runtime"),
    )
    out, code = cli("--course", str(root), "release", "ps1")
    assert code == 0, out
    yield root
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="module")
def download(tmp_path_factory: pytest.TempPathFactory) -> Path:
    archive = tmp_path_factory.mktemp("canvas") / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name, sample in DOWNLOAD.items():
            zf.write(SAMPLE / "ps1" / f"{sample}.ipynb", name)
            zf.writestr(f"__MACOSX/._{name}", b"\0\5\26\7 resource fork")
        for name, data in OTHERS.items():
            zf.writestr(name, data)
    return archive


@pytest.fixture(scope="module")
def graded(course: Path, download: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("out")
    text, code = cli(
        "--course", str(course), "grade", "ps1", str(download), "--jobs", "1",
        "--out", str(out), "--no-progress",
    )  # fmt: skip
    assert code == 0, text
    return text, {r["student_id"]: r for r in read(out / "ps1_grades.csv")}, out


def test_no_grade_is_lost(graded) -> None:
    text, rows, _ = graded
    assert sorted(rows) == ["1020", "1021", "1030", "1040", "1050", "1060", "1070", "1080"]
    for student, sample in [
        ("1020", "correct"),
        ("1021", "bug_overwrite_branch"),
        ("1030", "rewritten"),
        ("1040", "bug_uses_package"),
        ("1080", "blank"),
    ]:
        assert rows[student]["status"] == "ok", rows[student]
        assert float(rows[student]["total"]) == EXPECTED[sample]["total"], student
        assert rows[student]["max"] == "20"
    assert rows["1020"]["name"] == rows["1021"]["name"] == "smithjohn"
    assert rows["1030"]["name"] == "núñezjosé"  # composed again
    assert rows["1080"]["name"] == "山田太郎"
    assert "left out leeann_1040_6543100_ps1.ipynb" in rows["1040"]["message"]
    assert "10 ok" not in text and "5 ok, 3 errors" in text, text


def test_the_late_flag_is_kept(graded, course: Path) -> None:
    _, rows, _ = graded
    assert {s: rows[s]["late"] for s in ("1020", "1021", "1030")} == {
        "1020": "no",
        "1021": "yes",
        "1030": "yes",
    }


def test_files_that_cannot_be_graded_are_rows_that_say_why(graded) -> None:
    text, rows, out = graded
    pdf, cut, other = rows["1050"], rows["1060"], rows["1070"]
    for row in (pdf, cut, other):
        assert row["status"] == "error"
        assert row["total"] == row["max"] == row["test_a_max"] == ""
    assert pdf["message"] == "no notebook: sent only parkmin_1050_6543500_ps1.pdf"
    assert "not valid JSON" in cut["message"]
    assert "made for another assignment" in other["message"]
    assert not (out / "feedback" / "1050.html").exists()
    assert (out / "logs" / "1050.log").read_text().startswith("no notebook")
    assert "__MACOSX" not in text


def test_the_gradebook_knows_the_names_and_canvas_ids(graded, course: Path) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb:
        students = {s.id: (s.last_name, s.lms_user_id) for s in gb.students}
        assert students["1021"] == ("smithjohn", "1021")
        sub = gb.find_submission("ps1", "1050")
        assert all(
            g.needs_manual_grade and g.auto_score is None for n in sub.notebooks for g in n.grades
        )


def test_the_canvas_export_has_one_row_per_user_id(graded, course: Path, tmp_path: Path) -> None:
    _, rows, _ = graded
    target = tmp_path / "canvas.csv"
    text, code = cli(
        "--course", str(course), "export", "ps1", "--format", "canvas", "--out", str(target),
        "--column", "Problem set 1 (4242)",
    )  # fmt: skip
    assert code == 0, text
    with open(target, newline="", encoding="utf-8") as fh:
        lines = list(csv.reader(fh))
    assert lines[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"] + [
        "Problem set 1 (4242)"
    ]
    assert lines[1][0] == "Points Possible" and lines[1][-1] == "20"
    ids = [line[1] for line in lines[2:]]
    assert sorted(ids) == sorted(rows) and len(ids) == len(set(ids))
    grade = {line[1]: line[-1] for line in lines[2:]}
    assert grade["1020"] == "20" and grade["1021"] == str(EXPECTED["bug_overwrite_branch"]["total"])
    assert grade["1040"] == str(EXPECTED["bug_uses_package"]["total"])
    assert grade["1050"] == grade["1060"] == grade["1070"] == ""  # Canvas keeps its own
    assert "1050: Not graded: no notebook" in text and "1060: Not graded:" in text


def test_the_moodle_export_says_why_a_row_has_no_grade(
    graded, course: Path, tmp_path: Path
) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb:
        for student in ("1020", "1050"):
            gb.update_or_create_student(student, email=f"s{student}@uni.example")
    target = tmp_path / "moodle.csv"
    text, code = cli(
        "--course", str(course), "export", "ps1", "--format", "moodle", "--out", str(target)
    )
    assert code == 0, text
    rows = {r["Email address"]: r for r in read(target)}
    assert set(rows) == {"s1020@uni.example", "s1050@uni.example"}
    assert rows["s1020@uni.example"]["Grade"] == "20"
    assert rows["s1050@uni.example"]["Grade"] == ""
    assert rows["s1050@uni.example"]["Feedback comments"].startswith("Not graded: no notebook")
    assert "1030: no Moodle participant number and no email" in text


def test_refresh_after_manual_grading_executes_nothing(graded, course: Path) -> None:
    from nbgrader.api import Gradebook

    _, rows, out = graded
    graded_nb = course / "autograded" / "1021" / "ps1" / "ps1.ipynb"
    before = graded_nb.stat().st_mtime_ns
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb:
        grade = gb.find_grade("test_b_more", "ps1", "ps1", "1021")
        grade.manual_score = 3.5  # the formgrader's override
        gb.find_comment("b_backward", "ps1", "ps1", "1021").manual_comment = "Close: see (b)."
        gb.db.commit()
    text, code = cli("--course", str(course), "refresh", "ps1", "--out", str(out))
    assert code == 0, text
    new = {r["student_id"]: r for r in read(out / "ps1_grades.csv")}
    want = (
        EXPECTED["bug_overwrite_branch"]["total"]
        - EXPECTED["bug_overwrite_branch"]["parts"]["test_b_more"]
        + 3.5
    )
    assert float(new["1021"]["total"]) == want
    assert new["1020"]["total"] == rows["1020"]["total"]
    assert new["1050"]["status"] == "error" and new["1050"]["message"].startswith("no notebook")
    assert new["1060"]["status"] == "error" and "not valid JSON" in new["1060"]["message"]
    page = (out / "feedback" / "1021.html").read_text()
    assert "Close: see (b)." in page
    assert graded_nb.stat().st_mtime_ns == before  # nothing was run again


def test_resume_keeps_needs_manual_grading(graded, course: Path, download: Path) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb:
        gb.find_grade("test_c_hidden", "ps1", "ps1", "1030").needs_manual_grade = True
        gb.db.commit()
    out = graded[2].parent / "resumed"
    text, code = cli(
        "--course", str(course), "grade", "ps1", str(download), "--jobs", "1", "--resume",
        "--out", str(out), "--no-progress",
    )  # fmt: skip
    assert code == 0, text
    rows = {r["student_id"]: r for r in read(out / "ps1_grades.csv")}
    assert rows["1030"]["status"] == "ok, kept, needs manual grading"
    assert rows["1020"]["status"] == "ok, kept"
    assert "left out leeann_1040_6543100_ps1.ipynb" in rows["1040"]["message"]
    assert (out / "feedback" / "1020.html").is_file()  # the kept students' pages too
    assert rows["1050"]["status"] == "error"


def test_an_empty_folder_or_a_damaged_zip_stops_with_a_plain_message(
    graded, course: Path, tmp_path: Path
) -> None:
    (tmp_path / "empty").mkdir()
    text, code = cli("--course", str(course), "grade", "ps1", str(tmp_path / "empty"))
    assert code == 1 and "no submission of ps1 found in" in text and "Traceback" not in text
    damaged = tmp_path / "submissions.zip"
    damaged.write_bytes(b"PK\3\4 the download stopped here")
    text, code = cli("--course", str(course), "grade", "ps1", str(damaged))
    assert code == 1 and "cannot be read as a zip" in text and "Traceback" not in text
    rows = {r["student_id"] for r in read(course / "grades" / "ps1" / "ps1_grades.csv")}
    assert rows >= {"1020", "1021"}  # the class's grades are still there
