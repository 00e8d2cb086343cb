"""``python -m autograder``: the instructor's command line (see :mod:`autograder.cli`)."""

from autograder.cli import main

# the guard matters: grading workers are started with "spawn", which imports this module again
if __name__ == "__main__":
    raise SystemExit(main())
