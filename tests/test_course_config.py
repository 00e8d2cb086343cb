"""The repository is an nbgrader course that JupyterLab's nbgrader extensions can serve.

That the buttons work in a browser is checked by the browser suite; here: the configuration
nbgrader reads, and that its JupyterLab and server extensions are installed and enabled.
"""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@functools.cache
def jupyter(*args: str) -> str:
    out = subprocess.run(
        [str(BIN / "jupyter"), *args], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    return ANSI.sub("", out.stdout + out.stderr)


def test_nbgrader_reads_the_course_configuration():
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    # the loader nbgrader itself uses for nbgrader_config.py
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    coursedir = CourseDirectory(config=config)
    assert coursedir.source_directory == "source_assignments"
    assert Path(coursedir.root).resolve() == ROOT
    api = NbGraderAPI(coursedir, config=config)
    sources = sorted(p.name for p in (ROOT / "source_assignments").iterdir() if p.is_dir())
    assert sources == ["ps1", "ps2", "ps3", "ps4", "ps5", "ps6", "ps7"]
    assert set(sources) <= set(api.get_source_assignments())


def test_nothing_for_the_instructor_is_copied_into_a_feedback_folder(tmp_path: Path) -> None:
    """``generate_feedback`` copies the files of ``autograded/<student>/<assignment>/`` that
    ``CourseDirectory.ignore`` does not name (nbgrader's find_all_files): the verdicts, the
    findings and the digest grading keeps there stay out, with the repository's configuration
    (the plain nbgrader commands) and with any course's, as the autograder reads it."""
    from nbgrader.utils import find_all_files
    from traitlets.config.loader import PyFileConfigLoader

    from autograder.coursedir import load_config

    folder = tmp_path / "autograded" / "jsmith" / "ps1"
    folder.mkdir(parents=True)
    names = ["ps1.ipynb", "ps1_support.py", "verdicts.json", "findings.json", ".submission.sha256"]
    for name in names:
        (folder / name).write_text("{}")
    other = tmp_path / "other_course"
    other.mkdir()
    (other / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.ignore = []\n")
    for config in (
        PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config(),
        load_config(ROOT),
        load_config(other),
    ):
        ignore = list(config.CourseDirectory.ignore) + ["*.ipynb"]  # as GenerateFeedback does
        copied = sorted(Path(p).name for p in find_all_files(str(folder), ignore))
        assert copied == ["ps1_support.py"]


@pytest.mark.parametrize(
    "extension",
    [
        "nbgrader.server_extensions.formgrader",
        "nbgrader.server_extensions.assignment_list",
        "nbgrader.server_extensions.course_list",
        "nbgrader.server_extensions.validate_assignment",
    ],
)
def test_nbgrader_server_extension_is_enabled(extension):
    listing = jupyter("server", "extension", "list")
    assert re.search(rf"{re.escape(extension)}\s+enabled", listing), listing
    assert re.search(rf"{re.escape(extension)}\s+OK", listing), listing


def test_nbgrader_jupyterlab_extension_is_enabled():
    listing = jupyter("labextension", "list")
    assert re.search(r"@jupyter/nbgrader v[\d.]+ enabled OK", listing), listing
    assert re.search(r"@jupyter-widgets/jupyterlab-manager v[\d.]+ enabled OK", listing)
