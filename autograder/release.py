"""Release assignments for students, one printed line each: the first stage of the class workflow.

Used by ``python -m autograder release`` and by the demo; a thin layer over nbgrader's
``generate_assignment`` (through :meth:`autograder.coursedir.Course.release`).
"""

from __future__ import annotations

import sys

from autograder.coursedir import Course, prepare_environment


def release(course: Course, names: list[str], force: bool = True) -> int:
    """Release each assignment; print one line each (and nbgrader's log when it fails).

    Returns 0 when every release succeeded, 1 otherwise.
    """
    prepare_environment()
    failed = 0
    for name in names:
        result = course.release(name, force=force)
        where = course.path("release", ".", name)
        if result["success"] and "Skipping existing" in (result.get("log") or ""):
            print(f"kept the release of {name}: {where}")
        elif result["success"]:
            print(f"released {name}: {where}")
        else:
            failed += 1
            print(f"could not release {name}:", file=sys.stderr)
            print((result.get("log") or "") + (result.get("error") or ""), file=sys.stderr)
    return 1 if failed else 0
