"""nbgrader's exchange on a shared server, with each student's files kept from the others.

nbgrader's own exchange (``nbgrader.exchange.default``) hides a submission by its name: the
``inbound`` folder cannot be listed, and each submission is named with a random string. But the
submission itself is readable by every user (files 0644, its folder 0777), and a released
feedback page is readable by every user (0644, named by a hash). A student who learns such a
name (from a shared screen, a log, a command history) can read, change or delete another's
work. These classes keep nbgrader's layout and names, and close that gap with permissions:

* ``inbound`` (0733 with set-group-id: students may add, not list) also gets the sticky bit,
  so that a student can neither delete nor rename an entry that is not theirs;
* a submission's folders are owned by its student and belong to the instructor's group (the
  group of ``inbound``, inherited through set-group-id), mode 0750: the instructor reads the
  submission (``nbgrader collect``), other students cannot even enter its folder. (Its files
  stay 0644: ``timestamp.txt`` is written after the copy, when the folder has lost its
  set-group-id bit, so it belongs to the student's own group and the instructor reads it as
  one of the others);
* a released feedback page is owned by the instructor, mode 0640, with a POSIX access-control
  entry that lets its student (the user named as the student id) read it, and nobody else.

Select them in the configuration every user reads (``hub/nbgrader_config.py`` does)::

    c.ExchangeFactory.release_assignment = "autograder.exchange.ReleaseAssignment"
    c.ExchangeFactory.submit = "autograder.exchange.Submit"
    c.ExchangeFactory.release_feedback = "autograder.exchange.ReleaseFeedback"

``tests/test_exchange.py`` runs the real nbgrader commands as an instructor and two students and
checks that one student can reach nothing of the other's.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import stat
import struct

from nbgrader.exchange.default.release_assignment import ExchangeReleaseAssignment
from nbgrader.exchange.default.release_feedback import ExchangeReleaseFeedback
from nbgrader.exchange.default.submit import ExchangeSubmit
from nbgrader.utils import notebook_hash

#: modes of what a student submits: its folders let in the student and the instructor's group
SUBMISSION_DIR = 0o750
SUBMISSION_FILE = 0o644
#: mode of a released feedback page (its student reads it through an access-control entry)
FEEDBACK_FILE = 0o640

# POSIX access-control list as Linux stores it (the system.posix_acl_access attribute,
# include/uapi/linux/posix_acl_xattr.h): a version, then (tag, permissions, id) entries by tag
_ACL_VERSION = 2
_ACL_USER_OBJ, _ACL_USER, _ACL_GROUP_OBJ, _ACL_MASK, _ACL_OTHER = 0x01, 0x02, 0x04, 0x10, 0x20
_ACL_UNDEFINED_ID = 0xFFFFFFFF
_READ, _WRITE = 4, 2


def grant_read(path: str, uid: int) -> None:
    """Give the user ``uid`` read access to ``path`` and take it from every other user.

    The owner keeps read and write, the file's group reads; others get nothing. Raises
    ``OSError`` where the file system has no access-control lists.
    """
    entries = [
        (_ACL_USER_OBJ, _READ | _WRITE, _ACL_UNDEFINED_ID),
        (_ACL_USER, _READ, uid),
        (_ACL_GROUP_OBJ, _READ, _ACL_UNDEFINED_ID),
        (_ACL_MASK, _READ, _ACL_UNDEFINED_ID),
        (_ACL_OTHER, 0, _ACL_UNDEFINED_ID),
    ]
    value = struct.pack("<I", _ACL_VERSION) + b"".join(struct.pack("<HHI", *e) for e in entries)
    os.setxattr(path, "system.posix_acl_access", value)


class ReleaseAssignment(ExchangeReleaseAssignment):
    """``nbgrader release_assignment``; ``inbound`` also gets the sticky bit."""

    def init_dest(self):
        super().init_dest()
        info = os.stat(self.inbound_path)
        if info.st_mode & stat.S_ISVTX:
            return
        if info.st_uid != os.geteuid():  # another grader's (groupshared): theirs to change
            self.log.warning(
                "%s has no sticky bit, so students can rename each other's submissions: "
                "its owner should run chmod +t on it",
                self.inbound_path,
            )
            return
        os.chmod(self.inbound_path, stat.S_IMODE(info.st_mode) | stat.S_ISVTX)


class Submit(ExchangeSubmit):
    """``nbgrader submit``; the copy in ``inbound`` is readable by the instructor's group only."""

    def copy_files(self):
        super().copy_files()
        dest = os.path.join(self.inbound_path, self.assignment_filename)
        # nbgrader leaves the submission's folder 0777: closed to other students here
        self.set_perms(dest, fileperms=SUBMISSION_FILE, dirperms=SUBMISSION_DIR)


class ReleaseFeedback(ExchangeReleaseFeedback):
    """``nbgrader release_feedback``; each page is readable by its student only."""

    def copy_files(self):
        super().copy_files()
        # the pages nbgrader just released: <outbound feedback>/<hash of the submission>.html
        pattern = re.compile(
            re.escape(os.path.sep).join(
                [
                    self.coursedir.format_path(
                        self.coursedir.feedback_directory,
                        "(?P<student_id>.*)",
                        self.coursedir.assignment_id,
                        escape=True,
                    ),
                    "(?P<notebook_id>.*).html",
                ]
            )
        )
        for html_file in glob.glob(os.path.join(self.src_path, "*.html")):
            match = pattern.match(html_file)
            if match is None:
                continue  # nbgrader has logged it and released nothing
            student_id, notebook_id = match.group("student_id", "notebook_id")
            folder = os.path.dirname(html_file)
            with open(os.path.join(folder, "submission_secret.txt")) as fh:
                secret = fh.read()
            checksum = notebook_hash(secret=secret, notebook_id=notebook_id)
            released = os.path.join(self.dest_path, f"{checksum}.html")
            if not os.path.exists(released):
                continue  # skipped by nbgrader (an excluded student)
            try:
                uid = pwd.getpwnam(student_id).pw_uid
            except KeyError:
                self.fail(
                    f"Feedback for {student_id!r}: no user of that name on this machine, so "
                    f"its page cannot be made readable to that student alone ({released})."
                )
            os.chmod(released, FEEDBACK_FILE)
            try:
                grant_read(released, uid)
            except OSError as exc:
                self.fail(
                    f"Could not let {student_id!r} alone read {released}: the file system of "
                    f"the exchange has no access-control lists ({exc.strerror}). The page is "
                    f"left readable by the instructor only; mount the exchange with ACLs "
                    f"(ext4, xfs, tmpfs and most NFS servers have them)."
                )
