"""An nbgrader course on disk: its configuration, nbgrader's API on it, its gradebook.

A course is a folder with an ``nbgrader_config.py`` (the repository root is one). Every command
of the autograder works on such a folder, the instructor's or a scratch copy, and reads the
configuration the way ``nbgrader`` itself does (the ``nbgrader_config.py`` files of the Jupyter
configuration path, then the course's own), except that the course root is always the folder
given: a copy of the course never writes into the original.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # nbgrader is imported lazily: it takes a second or two
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

CONFIG_FILE = "nbgrader_config.py"
#: What grading keeps beside an autograded notebook for the instructor: the visible and hidden
#: checks' verdicts of each test cell (for Gradescope), the problems it noticed (``report``) and
#: the digest of the submission they are for (``--resume``). nbgrader's ``generate_feedback``
#: copies every other file of that folder into ``feedback/<student>/<assignment>/``, so the
#: configuration ignores these names (:func:`load_config`, and the repository's
#: ``nbgrader_config.py`` for the plain ``nbgrader`` commands).
VERDICTS_FILE = "verdicts.json"
FINDINGS_FILE = "findings.json"
DIGEST_FILE = ".submission.sha256"
INSTRUCTOR_FILES = (VERDICTS_FILE, FINDINGS_FILE, DIGEST_FILE)
# BLAS libraries start one thread per core in every kernel: with one kernel per core already,
# more threads only fight over the cores
ONE_THREAD = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


class CourseError(RuntimeError):
    """A problem with the course folder that the instructor has to fix (said in plain words)."""


def prepare_environment(parallel: bool = False) -> None:
    """Set up this process's environment for nbgrader and the kernels it starts.

    nbgrader runs ``alembic`` from ``PATH`` when it creates a gradebook, so the folder of this
    Python (the virtualenv's ``bin``) goes first on ``PATH``; the processes started from here
    (grading workers, kernels) inherit it. With ``parallel``, each kernel gets one BLAS thread
    unless the caller chose otherwise.
    """
    bindir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if bindir not in path.split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + path if path else bindir
    if parallel:
        for name in ONE_THREAD:
            os.environ.setdefault(name, "1")


def load_config(root: Path) -> Config:
    """nbgrader's configuration for the course in ``root``, with ``root`` as the course root.

    Like the ``nbgrader`` command: every ``nbgrader_config.py`` on the Jupyter configuration path
    (lowest priority first), then the course's own, which wins. Whatever it says, nbgrader
    ignores the :data:`INSTRUCTOR_FILES` (they never reach a student's feedback folder).
    """
    from jupyter_core.paths import jupyter_config_path
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    config = Config()
    folders = [Path(p) for p in reversed(jupyter_config_path())]
    for folder in [*folders, root]:
        path = folder / CONFIG_FILE
        if path.is_file():
            config.merge(PyFileConfigLoader(CONFIG_FILE, str(folder)).load_config())
    config.CourseDirectory.root = str(root)
    ignore = list(config.CourseDirectory.get("ignore", CourseDirectory.ignore.default()))
    config.CourseDirectory.ignore = ignore + [n for n in INSTRUCTOR_FILES if n not in ignore]
    return config


class Course:
    """The nbgrader course in ``root`` (a folder with an ``nbgrader_config.py``).

    ``db_url`` replaces the gradebook of the configuration (a grading worker uses its own).
    """

    def __init__(self, root: str | os.PathLike[str], db_url: str | None = None) -> None:
        self.root = Path(root).resolve()
        if not (self.root / CONFIG_FILE).is_file():
            raise CourseError(
                f"{self.root} is not an nbgrader course: it has no {CONFIG_FILE} "
                "(run from the course folder or pass --course)"
            )
        self._db_url = db_url

    def __repr__(self) -> str:
        return f"Course({str(self.root)!r})"

    @cached_property
    def config(self) -> Config:
        config = load_config(self.root)
        if self._db_url is not None:
            config.CourseDirectory.db_url = self._db_url
        return config

    @cached_property
    def coursedir(self) -> CourseDirectory:
        from nbgrader.coursedir import CourseDirectory

        return CourseDirectory(config=self.config)

    def api(self) -> NbGraderAPI:
        """A fresh :class:`nbgrader.apps.NbGraderAPI` on this course."""
        from nbgrader.apps import NbGraderAPI

        return NbGraderAPI(config=self.config)

    @property
    def course_id(self) -> str:
        return self.coursedir.course_id

    @property
    def db_url(self) -> str:
        return self.coursedir.db_url

    def gradebook(self) -> Gradebook:
        """The course's gradebook (use it in a ``with`` block: it closes the connection)."""
        from nbgrader.api import Gradebook

        return Gradebook(self.db_url, self.course_id)

    def path(self, step: str, student: str, assignment: str) -> Path:
        """The folder of ``assignment`` for ``student`` in nbgrader's ``step``.

        ``step`` is one of ``"source"``, ``"release"``, ``"submitted"``, ``"autograded"``,
        ``"feedback"`` (the folder names come from the configuration).
        """
        folder = getattr(self.coursedir, f"{step}_directory")
        return Path(self.coursedir.format_path(folder, student, assignment))

    def source(self, assignment: str) -> Path:
        return self.path("source", ".", assignment).resolve()

    def source_assignments(self) -> list[str]:
        """The assignments of the source folder (each folder with a notebook), sorted."""
        top = self.source("x").parent
        if not top.is_dir():
            return []
        return sorted(
            p.name
            for p in top.iterdir()
            if p.is_dir() and not p.name.startswith(".") and any(p.glob("*.ipynb"))
        )

    def notebooks(self, assignment: str) -> list[str]:
        """The notebooks of a released assignment, from the gradebook (sorted names)."""
        from nbgrader.api import MissingEntry

        with self.gradebook() as gb:
            try:
                found = gb.find_assignment(assignment)
            except MissingEntry:
                raise CourseError(
                    f"{assignment} is not in the gradebook of {self.root}: release it first "
                    f"(python -m autograder release {assignment})"
                ) from None
            return sorted(nb.name for nb in found.notebooks)

    def release(self, assignment: str, force: bool = True) -> dict:
        """``nbgrader generate_assignment`` through the API: the student version in release/.

        Returns nbgrader's result (``success``, ``log``, ``error``).
        """
        if not self.source(assignment).is_dir():
            return {"success": False, "error": f"no folder {self.source(assignment)}"}
        return self.api().generate_assignment(assignment, force=force)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the course for one grading run at a time (a second one waits for it)."""
        with open(self.root / ".autograder.lock", "w") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                print(f"another grading run holds {self.root}; waiting for it", file=sys.stderr)
                fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
