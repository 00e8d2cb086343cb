"""Intake: only the assignment's notebooks of a submission go on to grading.

A submission folder may hold anything: files the student made, files shipped on purpose
(``course/__init__.py``, ``psN_support.py``, a ``.pth`` file, a package), links to the
instructor's files. :func:`take` copies into the grading folder the assignment's notebooks (and
nbgrader's ``timestamp.txt`` and ``submission_secret.txt``) and nothing else, never through a
link: every regular file is opened with ``O_NOFOLLOW``. What it leaves out that could have
changed grading (Python code, packages, links) is a finding; the files the assignment releases
come from the instructor.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from autograder.findings import Finding

#: nbgrader's own files of a submission: the time it was submitted (late work), and the secret
#: that names its feedback page in the exchange (``nbgrader release_feedback`` needs it)
KEEP = ("timestamp.txt", "submission_secret.txt")
CODE_SUFFIXES = (".py", ".pyc", ".pth", ".so", ".pyd")


def _copy(source: Path, target: Path, limit: int) -> None:
    """Copy a regular file without following a link (at most ``limit`` bytes)."""
    fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(f"{source.name} is not a regular file")
        if st.st_size > limit:
            raise OSError(f"{source.name} is larger than {limit // (1024 * 1024)} MiB")
        with os.fdopen(os.dup(fd), "rb") as fh, open(target, "wb") as out:
            out.write(fh.read(limit + 1)[:limit])
    finally:
        os.close(fd)


def take(
    submitted: Path, target: Path, notebooks: list[str], limit: int = 64 * 1024 * 1024
) -> list[Finding]:
    """Copy the notebooks of ``submitted`` into ``target`` (see the module doc); the findings."""
    wanted = {f"{nb}.ipynb" for nb in notebooks} | set(KEEP)
    found: list[Finding] = []
    target.mkdir(parents=True, exist_ok=True)
    links: list[str] = []
    code: list[str] = []
    for top, dirs, files in os.walk(submitted, followlinks=False):
        here = Path(top)
        for name in sorted(dirs):
            path = here / name
            rel = str(path.relative_to(submitted))
            if path.is_symlink():
                links.append(rel)
            elif (path / "__init__.py").exists() and not (path / "__init__.py").is_symlink():
                code.append(rel + "/")
        dirs[:] = [d for d in dirs if not (here / d).is_symlink()]
        for name in sorted(files):
            path = here / name
            rel = str(path.relative_to(submitted))
            if path.is_symlink():
                links.append(rel)
                continue
            if rel in wanted:
                try:
                    _copy(path, target / rel, limit)
                except OSError as exc:
                    found.append(Finding("intake", rel, f"not graded: {exc}"))
            elif name.endswith(CODE_SUFFIXES) and not any(c in rel for c in code):
                code.append(rel)
    if links:
        found.append(
            Finding(
                "intake",
                ", ".join(links[:10]),
                "links in the submission were not followed (a link could point at the course's "
                "files); only the notebook is graded",
            )
        )
    if code:
        found.append(
            Finding(
                "intake",
                ", ".join(code[:10]),
                "code shipped beside the notebook was left out (it could replace the course's "
                "own modules); grading uses the assignment's files",
            )
        )
    return found
