"""nbgrader's configuration for every user of the hub (the hub puts this folder on
``JUPYTER_CONFIG_PATH``; on a machine of your own, copy it to /etc/jupyter/).

Students: the course id and the exchange, enough to fetch, submit and fetch feedback.
Instructors (the hub sets ``BPC_COURSE_ROOT`` for them): also the course folder and its own
``nbgrader_config.py`` (the repository's: assignments, grading and the feedback page), so that
the formgrader and every nbgrader command work on the course from any folder.
"""

import os

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "backprop-course"
c.Exchange.root = os.environ.get("BPC_EXCHANGE", "/srv/nbgrader/exchange")
c.Exchange.timezone = "UTC"
# nbgrader's exchange, with every submission and feedback page closed to the other students
# (autograder/exchange.py)
c.ExchangeFactory.release_assignment = "autograder.exchange.ReleaseAssignment"
c.ExchangeFactory.submit = "autograder.exchange.Submit"
c.ExchangeFactory.release_feedback = "autograder.exchange.ReleaseFeedback"

course = os.environ.get("BPC_COURSE_ROOT")
if course:
    c.CourseDirectory.root = course
    load_subconfig(os.path.join(course, "nbgrader_config.py"))  # noqa: F821 (traitlets)
    # work handed in after the due date scores 0 (the penalty is recorded beside the score)
    c.LateSubmissionPlugin.penalty_method = "zero"
