"""Reading an LMS's download (``autograder.submissions``) without grading: who sent what, which
file of a student is graded, what the LMS said about lateness, and what is left out and why."""

from __future__ import annotations

import json
import shutil
import unicodedata
import zipfile
from pathlib import Path

import pytest
from nbgrader.utils import parse_utc

from autograder import submissions

NOTEBOOK = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


def folder_of(tmp_path: Path, names: list[str], text: str = NOTEBOOK) -> Path:
    folder = tmp_path / "download"
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def by_student(found: submissions.Found) -> dict[str, submissions.Submission]:
    return {s.student: s for s in found.submissions}


def test_canvas_students_of_one_name_stay_apart(tmp_path: Path) -> None:
    folder = folder_of(
        tmp_path, ["smithjohn_1020_6543210_ps1.ipynb", "smithjohn_LATE_1021_6543299_ps1.ipynb"]
    )
    found = by_student(submissions.find(folder, "ps1", ["ps1"]))
    assert sorted(found) == ["1020", "1021"]
    assert found["1020"].name == found["1021"].name == "smithjohn"
    assert (found["1020"].late, found["1021"].late) == (False, True)
    assert found["1021"].origin == "smithjohn_LATE_1021_6543299_ps1.ipynb"
    assert found["1020"].note == found["1021"].note == ""


def test_a_canvas_resubmission_keeps_the_newest_attachment_and_says_so(tmp_path: Path) -> None:
    # name order and attachment order disagree: "ps1-1" (Canvas's name for a second upload of
    # ps1.ipynb) sorts after "ps1", yet its attachment id is the older one here
    folder = folder_of(
        tmp_path, ["smithjohn_1020_6543400_ps1.ipynb", "smithjohn_1020_6543210_ps1-1.ipynb"]
    )
    (sub,) = submissions.find(folder, "ps1", ["ps1"]).submissions
    assert sub.student == "1020"
    assert sub.files["ps1.ipynb"].name == "smithjohn_1020_6543400_ps1.ipynb"
    assert "2 notebooks sent" in sub.note
    assert "left out smithjohn_1020_6543210_ps1-1.ipynb" in sub.note


def test_decomposed_unicode_names_become_composed_ids(tmp_path: Path) -> None:
    decomposed = unicodedata.normalize("NFD", "núñezjosé")
    assert decomposed != "núñezjosé"
    folder = folder_of(
        tmp_path, [f"{decomposed}.ipynb", f"{decomposed}_LATE_1030_6543300_ps1.ipynb"]
    )
    found = by_student(submissions.find(folder, "ps1", ["ps1"]))
    assert sorted(found) == ["1030", "núñezjosé"]
    assert found["1030"].name == "núñezjosé" and found["1030"].late is True
    assert submissions.clean_id(decomposed) == "núñezjosé"


def test_a_submission_folder_in_decomposed_unicode_is_read(tmp_path: Path) -> None:
    decomposed = unicodedata.normalize("NFD", "josé")
    (tmp_path / decomposed / "ps1").mkdir(parents=True)
    (tmp_path / decomposed / "ps1" / "ps1.ipynb").write_text(NOTEBOOK)
    found = submissions.find(tmp_path, "ps1", ["ps1"])
    assert [s.student for s in found.submissions] == ["josé"] and not found.skipped


def test_place_keeps_what_the_lms_said_and_the_time(tmp_path: Path) -> None:
    folder = folder_of(
        tmp_path,
        [
            "smithjohn_LATE_1021_6543299_ps1.ipynb",
            "ps1_jsmith_attempt_2024-10-01-09-30-00_ps1.ipynb",
        ],
    )
    found = by_student(submissions.find(folder, "ps1", ["ps1"]))
    canvas, blackboard = tmp_path / "s" / "1021", tmp_path / "s" / "jsmith"
    submissions.place(found["1021"], canvas)
    submissions.place(found["jsmith"], blackboard)
    kept = submissions.read_lms(canvas)
    assert kept["lms"] == "Canvas" and kept["late"] is True
    assert kept["name"] == "smithjohn" and kept["lms_id"] == "1021"
    assert kept["file"] == "smithjohn_LATE_1021_6543299_ps1.ipynb"
    assert not (canvas / "timestamp.txt").exists()  # Canvas's names carry no time
    stamp = (blackboard / "timestamp.txt").read_text().strip()
    assert parse_utc(stamp).isoformat() == "2024-10-01T09:30:00"  # as nbgrader reads it
    # read again in nbgrader's layout (grading submitted/ itself): nothing is lost
    shutil.copytree(canvas, tmp_path / "n" / "1021" / "ps1")
    (sub,) = submissions.find(tmp_path / "n", "ps1", ["ps1"]).submissions
    assert (sub.student, sub.name, sub.late, sub.lms) == ("1021", "smithjohn", True, "Canvas")


def test_moodle_participants_of_one_name_stay_apart(tmp_path: Path) -> None:
    folder = folder_of(
        tmp_path,
        [
            "Jane Smith_81234_assignsubmission_file_ps1.ipynb",
            "Jane Smith_81240_assignsubmission_file_ps1.ipynb",
            "Ann Lee_81250_assignsubmission_file/ps1.ipynb",  # "download in folders"
        ],
    )
    found = by_student(submissions.find(folder, "ps1", ["ps1"]))
    assert sorted(found) == ["Ann_Lee", "Jane_Smith_81234", "Jane_Smith_81240"]
    assert found["Ann_Lee"].lms_id == "81250" and found["Ann_Lee"].name == "Ann Lee"
    assert "2 students are named Jane_Smith" in found["Jane_Smith_81240"].note


def test_a_pdf_is_a_row_of_its_own_and_a_stray_file_is_nobodys(tmp_path: Path) -> None:
    folder = folder_of(tmp_path, ["smithjohn_1020_6543210_ps1.ipynb", "readme.txt"])
    (folder / "leeann_1040_6543301_ps1.pdf").write_bytes(b"%PDF-1.4")
    (folder / "smithjohn_1020_6543211_notes.pdf").write_bytes(b"%PDF-1.4")
    found = submissions.find(folder, "ps1", ["ps1"])
    subs = by_student(found)
    assert sorted(subs) == ["1020", "1040"]
    assert subs["1040"].problem == "no notebook: sent only leeann_1040_6543301_ps1.pdf"
    assert list(subs["1040"].files) == ["leeann_1040_6543301_ps1.pdf"]  # kept for a look
    assert subs["1020"].problem == "" and "also sent smithjohn_1020_6543211_notes.pdf" in (
        subs["1020"].note
    )
    assert found.skipped == [("readme.txt", "not a notebook")]


def test_two_files_of_one_student_without_times(tmp_path: Path) -> None:
    folder = folder_of(tmp_path, ["ps1_jsmith.ipynb", "jsmith_ps1.ipynb"])
    (sub,) = submissions.find(folder, "ps1", ["ps1"]).submissions
    assert sub.files["ps1.ipynb"].name == "ps1_jsmith.ipynb"  # the last in name order
    assert "left out jsmith_ps1.ipynb" in sub.note and "last in name order" in sub.note


def test_blackboard_attempts_keep_the_latest(tmp_path: Path) -> None:
    folder = folder_of(
        tmp_path,
        [
            "ps1_jsmith_attempt_2024-10-02-08-00-00_ps1.ipynb",
            "ps1_jsmith_attempt_2024-10-01-09-30-00_ps1.ipynb",
        ],
    )
    (sub,) = submissions.find(folder, "ps1", ["ps1"]).submissions
    assert sub.submitted_at.isoformat() == "2024-10-02T08:00:00"
    assert "newest by submission time" in sub.note


def test_a_zip_from_macos_leaves_its_leftovers_out(tmp_path: Path) -> None:
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ps1 submissions/smithjohn_1020_6543210_ps1.ipynb", NOTEBOOK)
        zf.writestr("__MACOSX/ps1 submissions/._smithjohn_1020_6543210_ps1.ipynb", b"\0\5\26")
        zf.writestr("ps1 submissions/.DS_Store", b"\0\0\0\1Bud1")
        zf.writestr("__MACOSX/ps1/ps1.ipynb", b"\0")  # would look like nbgrader's layout
    folder = submissions.unpack(archive, tmp_path / "unpacked")
    assert not (tmp_path / "unpacked" / "__MACOSX").exists()
    assert folder.name == "ps1 submissions"
    found = submissions.find(folder, "ps1", ["ps1"])
    assert found.layout == "flat" and [s.student for s in found.submissions] == ["1020"]
    assert found.skipped == []


def test_a_damaged_zip_says_so(tmp_path: Path) -> None:
    archive = tmp_path / "download.zip"
    archive.write_bytes(b"PK\3\4 the download stopped here")
    with pytest.raises(submissions.SubmissionError, match="cannot be read as a zip"):
        submissions.unpack(archive, tmp_path / "unpacked")


def test_empty_folders(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert submissions.find(empty, "ps1", ["ps1"]).submissions == []
    (tmp_path / "nb" / "jsmith" / "ps1").mkdir(parents=True)
    (tmp_path / "nb" / "akim" / "ps1").mkdir(parents=True)
    (tmp_path / "nb" / "akim" / "ps1" / "answers.pdf").write_bytes(b"%PDF")
    (tmp_path / "nb" / "lee" / "ps1").mkdir(parents=True)
    (tmp_path / "nb" / "lee" / "ps1" / "ps1.ipynb").symlink_to(tmp_path / "elsewhere.ipynb")
    found = by_student(submissions.find(tmp_path / "nb", "ps1", ["ps1"]))
    assert found["jsmith"].problem == "no notebook: the folder is empty"
    assert found["akim"].problem == "no notebook: the folder holds only answers.pdf"
    assert found["lee"].problem == (
        "no notebook: the folder holds only links, never followed: ps1.ipynb"
    )


def test_lms_file_is_not_written_for_plain_names(tmp_path: Path) -> None:
    folder = folder_of(tmp_path, ["jsmith.ipynb"])
    (sub,) = submissions.find(folder, "ps1", ["ps1"]).submissions
    submissions.place(sub, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["ps1.ipynb"]
    assert json.loads((tmp_path / "out" / "ps1.ipynb").read_text())["nbformat"] == 4
