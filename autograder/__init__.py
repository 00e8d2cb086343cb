"""The instructor's autograder: release the assignments, grade a class in parallel, report.

Built on nbgrader: every notebook is released, autograded and turned into feedback by nbgrader
itself (through its Python API, :class:`nbgrader.apps.NbGraderAPI`), and every score lives in
nbgrader's gradebook. What this package adds is the instructor's side around it: submissions as
they come out of an LMS (a flat folder of notebooks named after the students), grading across
all cores with one gradebook that stays consistent, a CSV and one feedback page per student,
and a Gradescope autograder built from the same machinery. See ``autograder/README.md``.

Run ``python -m autograder --help`` (or ``backprop-grader --help``).
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
