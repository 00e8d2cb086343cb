"""The instructor's command line: ``python -m autograder`` or ``backprop-grader``.

    release [ASSIGNMENT ...]      nbgrader generate_assignment (all of source_assignments/)
    grade ASSIGNMENT FOLDER       grade a folder of submissions in parallel; CSV and feedback
    report [ASSIGNMENT ...]       the grade tables, from the gradebook
    refresh ASSIGNMENT            after manual grading: the CSV and feedback again, no execution
    export ASSIGNMENT --format F  the grades as Canvas or Moodle imports them
    demo                          the whole job on the bundled sample class, in a scratch course
    gradescope ASSIGNMENT         the autograder zip that Gradescope runs

Every command but ``demo`` works on the nbgrader course in ``--course`` (default: the current
folder, which must hold ``nbgrader_config.py``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from autograder.box import IsolationError
from autograder.coursedir import Course, CourseError
from autograder.release import release
from autograder.submissions import LAYOUTS, SubmissionError


def _course(args: argparse.Namespace) -> Course:
    return Course(args.course)


def cmd_release(args: argparse.Namespace) -> int:
    course = _course(args)
    names = args.assignments or course.source_assignments()
    if not names:
        print(f"no assignment in {course.source('x').parent}", file=sys.stderr)
        return 1
    return release(course, names, force=not args.keep)


def cmd_grade(args: argparse.Namespace) -> int:
    from autograder.grading import grade, summary

    result = grade(
        _course(args),
        args.assignment,
        args.folder,
        jobs=args.jobs,
        out=args.out,
        layout=args.layout,
        regex=args.student_regex,
        progress=not args.no_progress,
        keep_scratch=args.keep_scratch,
        hardened=not args.plain,
        resume=args.resume,
        allow_unisolated=args.allow_unisolated,
    )
    print(summary(result))
    if not result.outcomes and not result.kept:
        print(f"no submission of {args.assignment} found in {args.folder}", file=sys.stderr)
        return 1
    if not args.no_similarity:
        print(similarity_section(args, result.csv.parent))
    return 2 if result.errors and args.strict else 0


def similarity_section(args: argparse.Namespace, out) -> str:
    """The similarity of the graded folder (``similarity`` with its defaults), as the last
    section of the grade run: a line, the pages written beside the CSV."""
    from autograder import similarity

    try:
        result = similarity.run(
            _course(args).root,
            args.assignment,
            Path(args.folder),
            layout=args.layout,
            regex=args.student_regex,
        )
    except Exception as exc:  # noqa: BLE001 (the grades are saved: this section only reports)
        return f"similarity:  not compared ({type(exc).__name__}: {exc})"
    page = similarity.write_html(result, Path(out) / "similarity.html")
    similarity.write_json(result, Path(out) / "similarity.json")
    students = [p for p in result.flagged if p.kind == "students"]
    course = [p for p in result.flagged if p.kind != "students"]
    if not result.flagged:
        found = "no pair of submissions above the threshold, no answer like the course's code"
    else:
        found = (
            f"{len(students)} pair(s) of submissions unusually alike, "
            f"{len(course)} answer(s) like the course's own code"
        )
    return f"similarity:  {found}: {page}"


def cmd_report(args: argparse.Namespace) -> int:
    from autograder.report import report

    print(report(_course(args), args.assignments))
    return 0


def cmd_similarity(args: argparse.Namespace) -> int:
    from autograder import similarity

    course = _course(args)
    out = Path(args.out) if args.out else course.root / "grades" / args.assignment
    try:
        result = similarity.run(
            course.root,
            args.assignment,
            Path(args.folder),
            threshold=args.threshold,
            min_tokens=args.min_chars,
            layout=args.layout,
            regex=args.student_regex,
        )
    except similarity.SimilarityError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    page = similarity.write_html(result, out / "similarity.html")
    similarity.write_json(result, out / "similarity.json")
    print(similarity.table(result))
    print(f"side by side: {page}")


def cmd_refresh(args: argparse.Namespace) -> int:
    from autograder.refresh import refresh

    done = refresh(_course(args), args.assignment, args.out)
    print(done.summary())
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from autograder.export import export

    done = export(_course(args), args.assignment, args.format, args.out, args.column)
    print(f"{args.assignment} for {args.format.capitalize()}: {done.summary()}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from autograder.demo import demo

    return demo(workdir=args.dir, jobs=args.jobs)


def cmd_gradescope(args: argparse.Namespace) -> int:
    from autograder.gradescope import build_zip

    path = build_zip(
        _course(args),
        args.assignment,
        args.out,
        args.hidden_visibility,
        args.score_visibility,
    )
    print(f"Gradescope autograder for {args.assignment}: {path}")
    print("upload it as the assignment's autograder (Ubuntu base image, Python 3.10 or newer)")
    return 0


def cmd_gradescope_run(args: argparse.Namespace) -> int:
    from autograder.gradescope import run_autograder

    return run_autograder(_course(args), args.assignment)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="backprop-grader",
        description="Release, grade and report nbgrader assignments (built on nbgrader).",
        epilog="python -m autograder COMMAND --help tells more about a command.",
    )
    p.add_argument(
        "--course",
        default=os.getcwd(),
        help="the nbgrader course folder, with nbgrader_config.py (default: the current folder)",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("release", help="nbgrader generate_assignment: the student versions")
    r.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="default: all of them")
    r.add_argument(
        "--keep", action="store_true", help="keep a release that exists (default: make it again)"
    )
    r.set_defaults(func=cmd_release)

    g = sub.add_parser(
        "grade",
        help="grade a folder of submissions in parallel",
        description=(
            "Autograde every submission in FOLDER with nbgrader, in parallel, into the course's "
            "gradebook; write a grades CSV and one feedback page per student. FOLDER is in "
            "nbgrader's layout (FOLDER/<student>/<assignment>/*.ipynb) or a flat folder of "
            "notebooks from an LMS (or its .zip), the student id taken from each file name: "
            "'<assignment>_<id>_attempt_<date>...' (Blackboard), '<id>[_LATE]_<number>_...' "
            "(Canvas, Moodle), '<assignment>_<id>', '<id>_<assignment>', or the whole name "
            "'<id>.ipynb', the first that matches (see autograder/submissions.py)."
        ),
    )
    g.add_argument("assignment", metavar="ASSIGNMENT")
    g.add_argument("folder", metavar="FOLDER", help="the submissions (a folder or a .zip)")
    g.add_argument(
        "--jobs", "-j", type=int, default=None, help="worker processes (default: one per core)"
    )
    g.add_argument(
        "--out",
        default=None,
        help="where the CSV, the feedback pages and the error logs go "
        "(default: <course>/grades/<assignment>/)",
    )
    g.add_argument("--layout", choices=LAYOUTS, default="auto", help="default: auto")
    g.add_argument(
        "--student-regex",
        default=None,
        metavar="REGEX",
        help="flat folders: a regular expression that matches a whole file name (without "
        ".ipynb) and captures the id as (?P<student_id>...); {assignment} stands for the "
        "assignment's name. Replaces the built-in rules.",
    )
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    g.add_argument(
        "--no-similarity",
        action="store_true",
        help="do not compare the submissions at the end (see the similarity command)",
    )
    g.add_argument(
        "--strict", action="store_true", help="exit with status 2 when a submission has an error"
    )
    g.add_argument("--keep-scratch", action="store_true", help="keep the workers' scratch courses")
    g.add_argument(
        "--resume",
        action="store_true",
        help="keep the results of students whose submission an earlier run graded and that has "
        "not changed since (finish a run that was interrupted)",
    )
    g.add_argument(
        "--plain",
        action="store_true",
        help="grade exactly as 'nbgrader autograde' does: no repair of the notebooks, no sandbox, "
        "tests in the student's kernel (see autograder/SECURITY.md before using it)",
    )
    g.add_argument(
        "--allow-unisolated",
        action="store_true",
        help="as root, grade even where kernels cannot be isolated at all (no bubblewrap, no "
        "setpriv): student code then runs as root",
    )
    g.set_defaults(func=cmd_grade)

    rp = sub.add_parser("report", help="print the grade tables from the gradebook")
    rp.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="default: all of them")
    rp.set_defaults(func=cmd_report)

    sm = sub.add_parser(
        "similarity",
        help="submissions whose code is unusually alike, or taken from the course",
        description=(
            "Compare the answer cells (and added cells) of every submission of ASSIGNMENT in "
            "FOLDER with each other and with the course package and the support module, "
            "ignoring what the released notebook gives everybody; names, strings and comments "
            "do not count (copydetect's fingerprints). Prints the flagged pairs and writes "
            "similarity.html (side by side, shared code marked) and similarity.json."
        ),
    )
    sm.add_argument("assignment", metavar="ASSIGNMENT")
    sm.add_argument("folder", metavar="FOLDER", help="the submissions (the layouts grade reads)")
    sm.add_argument(
        "--threshold",
        type=float,
        default=0.5,
        help="flag a pair when the shared code is at least this share of one side (default 0.5)",
    )
    sm.add_argument(
        "--min-chars",
        type=int,
        default=150,
        help="and at least this many characters of normalised code (default 150)",
    )
    sm.add_argument("--out", default=None, help="default: <course>/grades/<assignment>/")
    sm.add_argument("--layout", choices=LAYOUTS, default="auto", help="default: auto")
    sm.add_argument("--student-regex", default=None, metavar="REGEX", help="as for grade")
    sm.set_defaults(func=cmd_similarity)
    rf = sub.add_parser(
        "refresh",
        help="after manual grading: rewrite the CSV and every feedback page from the gradebook",
        description=(
            "Rewrite the grades CSV and every student's feedback page from the gradebook, with "
            "the scores and comments given in the formgrader, without running any notebook "
            "(nbgrader generate_feedback for each student)."
        ),
    )
    rf.add_argument("assignment", metavar="ASSIGNMENT")
    rf.add_argument(
        "--out", default=None, help="as for grade (default: <course>/grades/<assignment>/)"
    )
    rf.set_defaults(func=cmd_refresh)

    ex = sub.add_parser(
        "export",
        help="write the grades as Canvas or Moodle imports them",
        description=(
            "The assignment's grades from the gradebook, as a CSV that Canvas (Grades > Import) "
            "or Moodle (the assignment's grading worksheet, or the gradebook's CSV import) "
            "reads. A submission that could not be graded, or still needs manual grading, has "
            "no grade and the command lists it (see autograder/export.py)."
        ),
    )
    ex.add_argument("assignment", metavar="ASSIGNMENT")
    ex.add_argument("--format", required=True, choices=("canvas", "moodle"))
    ex.add_argument(
        "--out", default=None, help="the CSV (default: <course>/grades/<a>/<a>_<format>.csv)"
    )
    ex.add_argument(
        "--column",
        default=None,
        help="Canvas: the assignment's column as Canvas names it, with its id, e.g. "
        "'Problem set 1 (123456)' (default: the assignment's name)",
    )
    ex.set_defaults(func=cmd_export)

    d = sub.add_parser(
        "demo",
        help="release and grade the bundled sample class in a scratch course",
        description=(
            "The instructor's job end to end on the sample class of autograder/sample_class/: "
            "copy the course into a scratch folder, release every assignment, grade each "
            "assignment's sample class (flat LMS folder), print the grade tables and where the "
            "feedback is. The repository is not modified."
        ),
    )
    d.add_argument(
        "--dir",
        default=None,
        help="the scratch course (default: demo_course/ in the repository; made anew)",
    )
    d.add_argument("--jobs", "-j", type=int, default=None, help="default: one per core")
    d.set_defaults(func=cmd_demo)

    gs = sub.add_parser(
        "gradescope",
        help="build the autograder zip that Gradescope runs",
        description=(
            "A zip with setup.sh (installs this project) and run_autograder (autogrades "
            "/autograder/submission/*.ipynb with nbgrader and writes "
            "/autograder/results/results.json, one test per graded cell)."
        ),
    )
    gs.add_argument("assignment", metavar="ASSIGNMENT")
    gs.add_argument(
        "--out", default=None, help="the zip to write (default: <course>/gradescope/<a>.zip)"
    )
    gs.add_argument(
        "--hidden-visibility",
        choices=("hidden", "after_due_date", "after_published", "visible"),
        default="after_due_date",
        help="when students see the verdicts of hidden checks and the points of the parts "
        "that hold them (default: after_due_date; the visible checks' messages are shown at once)",
    )
    gs.add_argument(
        "--score-visibility",
        choices=("hidden", "after_due_date", "after_published", "visible"),
        default="visible",
        help="when students see the whole result with its total (results.json's top-level "
        "visibility; default: visible)",
    )
    gs.set_defaults(func=cmd_gradescope)

    run = sub.add_parser("gradescope-run", help=argparse.SUPPRESS)
    run.add_argument("assignment")
    run.set_defaults(func=cmd_gradescope_run)
    # argparse lists a subcommand even with help=SUPPRESS (as "==SUPPRESS=="): the command that
    # Gradescope's run_autograder calls is not one an instructor types
    sub._choices_actions = [a for a in sub._choices_actions if a.dest != "gradescope-run"]
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (CourseError, SubmissionError, IsolationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
