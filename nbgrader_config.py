"""nbgrader configuration of the backprop-course assignments.

Run every nbgrader command from the directory of this file (nbgrader reads ``nbgrader_config.py``
from the current directory). The course root is this directory; instructor versions of the
assignments live in ``source_assignments/<assignment>/``; nbgrader creates ``release/``,
``submitted/``, ``autograded/``, ``feedback/``, ``gradebook.db`` and ``.nbgrader.log`` next to
this file (they are not part of the repository). See ``source_assignments/README.md``.
"""

import os

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

# -- where things are ----------------------------------------------------------------------------
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "source_assignments"
c.CourseDirectory.course_id = "backprop-course"
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints",
    "*.pyc",
    "__pycache__",
    "feedback",
    ".pytest_cache",
    # what the autograder keeps beside an autograded notebook for the instructor (the checks'
    # verdicts, the problems it noticed, the submission's digest): generate_feedback would copy
    # them into the student's feedback folder (autograder/coursedir.py: INSTRUCTOR_FILES)
    "verdicts.json",
    "findings.json",
    ".submission.sha256",
]
c.NbGrader.logfile = ".nbgrader.log"

# -- the student version -------------------------------------------------------------------------
c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE (then delete the next line)\nraise NotImplementedError()"
}
c.ClearSolutions.enforce_metadata = True
c.ClearHiddenTests.enforce_metadata = True

# -- running notebooks (autograde, validate) -----------------------------------------------------
# A cell may run this long before it is stopped and counted as failed: the slowest test cell of
# ps1 needs about a second, so 120 s only stops runaway code (an infinite loop, a huge graph).
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True
c.Execute.startup_timeout = 120
c.Execute.execute_retries = 0
# Per-student variants (course/variants.py): the id a notebook is graded under reaches its
# kernel before it runs, so the cases are those of the submission's variant.
c.Autograde.autograde_preprocessors = [
    "autograder.run.SubmissionId",
    "nbgrader.preprocessors.Execute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# keep long tracebacks readable in the feedback
c.LimitOutput.max_lines = 300
c.LimitOutput.max_traceback = 100

# -- feedback ------------------------------------------------------------------------------------
# The feedback page shows each test cell's result and message, but not the source of its hidden
# tests: a student who may resubmit should not learn the hidden cases from the first feedback.
# The hidden lines go from the tracebacks first (a failure quotes the lines around it), then
# from the cells (nbgrader's own ClearHiddenTests, the step that makes the student version).
# The messages keep to the same rule: a failure message shows the inputs of a visible case only.
# Every check called in a hidden region gets hidden="<the kind of case>", and its message names
# that kind and the sizes (shapes, batch size), never an input value or a seed that recreates
# it; the values expected and returned still show. See source_assignments/README.md ("Hidden
# tests"); tests/test_diagnoses.py checks the calls of every problem set and the messages.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "autograder.feedback.HideHiddenTracebackLines",
    "nbgrader.preprocessors.ClearHiddenTests",
    "autograder.feedback.ReadableFeedback",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
# ReadableFeedback names each part for the page's summary, keeps of each error its message and
# the frames of the student's own cells, and removes this machine's paths; the exporter draws
# the page: each test's message first and wrapped, the math as MathML (nothing is loaded from
# the network). See autograder/feedback.py.
c.GenerateFeedback.exporter_class = "autograder.feedback.FeedbackExporter"

# -- the exchange (only for nbgrader release_assignment / collect on a shared server) -------------
c.Exchange.timezone = "UTC"
