"""JupyterHub for a class of backprop-course on one machine: local accounts, nbgrader's exchange.

Students and instructors log in with their Unix account and password (PAM); each gets a
JupyterLab of their own, run as their own user (LocalProcessSpawner), with this project's
Python environment (the course package, nbgrader and its extensions). Every server reads
``hub/etc/`` (``JUPYTER_CONFIG_PATH``): the course id and the exchange folder for nbgrader, and
for instructors also their course folder, so that the formgrader shows the course. See
docs/hub.md.

Everything a department sets is read from the environment (``make hub`` sets it for a
try-out); the defaults are those of a machine where the course lives in /srv:

* ``BPC_HUB_IP`` (127.0.0.1), ``BPC_HUB_PORT`` (8000): where the proxy listens, the address
  users open (a department puts TLS in front of it, or sets ``c.JupyterHub.ssl_cert``);
* ``BPC_HUB_API_PORT`` (8081), ``BPC_PROXY_API_PORT`` (8001): the hub's API and the proxy's
  REST API, on 127.0.0.1;
* ``BPC_HUB_STATE`` (/srv/jupyterhub): the hub's database and cookie secret;
* ``BPC_INSTRUCTORS``, ``BPC_STUDENTS``: comma-separated user names, the only ones who may log
  in;
* ``BPC_COURSE_ROOT`` (/srv/backprop-course): the instructors' course folder (``nbgrader
  generate_assignment``, ``collect``, the formgrader and ``python -m autograder`` work there);
* ``BPC_EXCHANGE`` (/srv/nbgrader/exchange): nbgrader's exchange;
* ``BPC_CHP`` (build/hub/node_modules/.bin/configurable-http-proxy): the proxy, from npm
  (``make hub-proxy``).
"""

import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BIN = Path(sys.executable).parent  # this project's virtualenv: the hub and every user's server


def names(variable: str) -> set[str]:
    return {n.strip() for n in os.environ.get(variable, "").split(",") if n.strip()}


instructors = names("BPC_INSTRUCTORS")
students = names("BPC_STUDENTS")
state = Path(os.environ.get("BPC_HUB_STATE", "/srv/jupyterhub"))
course_root = os.environ.get("BPC_COURSE_ROOT", "/srv/backprop-course")
exchange = os.environ.get("BPC_EXCHANGE", "/srv/nbgrader/exchange")

# -- network: everything on the loopback interface ------------------------------------------------
c.JupyterHub.bind_url = (
    f"http://{os.environ.get('BPC_HUB_IP', '127.0.0.1')}:{os.environ.get('BPC_HUB_PORT', '8000')}"
)
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{os.environ.get('BPC_HUB_API_PORT', '8081')}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ.get('BPC_PROXY_API_PORT', '8001')}"
c.ConfigurableHTTPProxy.command = [
    os.environ.get(
        "BPC_CHP", str(REPO / "build" / "hub" / "node_modules" / ".bin" / "configurable-http-proxy")
    )
]
c.ConfigurableHTTPProxy.should_start = True

# -- the hub's own files ---------------------------------------------------------------------------
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every user's server

# -- who may log in: local accounts and their passwords ------------------------------------------
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = instructors | students
c.Authenticator.admin_users = set()  # nobody administers other users from the browser
c.PAMAuthenticator.open_sessions = False  # no login session (utmp, systemd) per server

# -- each user's server: their own Unix user, this project's environment --------------------------
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.ip = "127.0.0.1"
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 120
c.Spawner.environment = {
    "PATH": f"{BIN}:/usr/local/bin:/usr/bin:/bin",
    "PYTHONPATH": str(REPO),  # the course and autograder packages of this clone
    # nbgrader_config.py, jupyter_server_config.py; for students also JupyterLab without the
    # instructor's panels (Create Assignment, Courses)
    "JUPYTER_CONFIG_PATH": f"{HERE / 'etc' / 'student'}:{HERE / 'etc'}",
    "BPC_EXCHANGE": exchange,
    "MPLBACKEND": "Agg",
}


def instructor_environment(spawner):
    """An instructor's server also knows the course folder (the formgrader's course), and
    shows the instructor's panels."""
    if spawner.user.name in instructors:
        spawner.environment["BPC_COURSE_ROOT"] = course_root
        spawner.environment["JUPYTER_CONFIG_PATH"] = str(HERE / "etc")


c.Spawner.pre_spawn_hook = instructor_environment
