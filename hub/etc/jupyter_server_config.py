"""Every hub user's Jupyter server: the formgrader only for instructors.

The hub sets ``BPC_COURSE_ROOT`` for instructors only (hub/jupyterhub_config.py); a student's
server does not load the formgrader (it would show an empty course, or fail).
"""

import os

c = get_config()  # noqa: F821 (provided by Jupyter when it loads this file)

if not os.environ.get("BPC_COURSE_ROOT"):
    c.ServerApp.jpserver_extensions = {"nbgrader.server_extensions.formgrader": False}
