"""The printed grade table and the grades CSV (``autograder.report``), from a table made by
hand: long messages, wide names, rows that could not be graded, the late flag."""

from __future__ import annotations

import csv
from pathlib import Path

from wcwidth import wcswidth

from autograder.report import STATUS_WIDTH, Row, Table, format_table, write_csv


def table() -> Table:
    t = Table("ps1", ["a", "b"], {"a": 2.0, "b": 3.0})
    t.rows = [
        Row("1020", {"a": 2.0, "b": 3.0}, 5.0, 5.0, name="smithjohn", late=False),
        Row("1021", {"a": 1.0, "b": 0.0}, 1.0, 5.0, name="smithjohn", late=True),
        Row("1030", {"a": 2.0, "b": 1.5}, 3.5, 5.0, name="山田太郎"),
        Row("1040", {"a": None, "b": None}, None, 5.0, name="leeann"),
    ]
    return t


LONG = "error: " + "the kernel died while running cell 7 " * 12


def test_the_table_lines_up_with_wide_names_and_long_messages() -> None:
    status = {"1020": "ok", "1021": "ok", "1030": "ok", "1040": LONG}
    text = format_table(table(), status)
    lines = text.splitlines()
    assert lines[0].split() == ["student", "name", "a", "b", "total", "late", "status"]
    # every column starts at the same terminal column on every line: the totals end together
    ends = {wcswidth(line[: line.index("/5") + 2]) for line in lines if "/5" in line}
    assert len(ends) == 1, text
    row = next(line for line in lines if line.startswith("1040"))
    assert row.endswith("...") and wcswidth(row.split("  -  ")[-1].strip()) <= STATUS_WIDTH + 20
    assert max(wcswidth(line) for line in lines) < 120, text
    assert lines[-1].endswith("the CSV has it whole)")
    late = next(line for line in lines if line.startswith("1021"))
    assert " late " in late and " late " not in next(x for x in lines if x.startswith("1020"))


def test_the_csv_has_the_whole_message_and_no_max_without_a_total(tmp_path: Path) -> None:
    path = tmp_path / "ps1_grades.csv"
    status = {"1020": ("ok", ""), "1040": ("error", LONG)}
    write_csv(table(), path, status, {"1021": ["timeout (b)"]})
    with open(path, newline="", encoding="utf-8") as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh)}
    assert rows["1040"]["message"] == LONG
    assert (rows["1040"]["total"], rows["1040"]["max"], rows["1040"]["a"]) == ("", "", "")
    assert rows["1040"]["status"] == "error"
    assert (rows["1020"]["total"], rows["1020"]["max"], rows["1020"]["late"]) == ("5", "5", "no")
    assert rows["1021"]["late"] == "yes" and rows["1030"]["late"] == ""
    assert rows["1030"]["name"] == "山田太郎"
    assert rows["1021"]["status"] == "not in this run" and rows["1021"]["problems"] == "timeout (b)"
