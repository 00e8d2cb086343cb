"""Write every case of the integrity suite to ``tests/integrity/cases/`` (or check them).

    python -m tests.integrity.make_cases           # (re)write the stored case notebooks
    python -m tests.integrity.make_cases --check   # exit 1 if a stored file is out of date

Each group of cases lives in its own module (``cases_*.py``) with a list ``CASES``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
from pathlib import Path

from tests.integrity.case import CASES as FOLDER
from tests.integrity.case import Case

GROUPS = ("cases_structure", "cases_code", "cases_faults", "cases_box", "cases_channel")


def all_cases() -> list[Case]:
    """Every case of every group that exists, in the order of ``GROUPS``; names are unique."""
    found: list[Case] = []
    for group in GROUPS:
        try:
            module = importlib.import_module(f"tests.integrity.{group}")
        except ModuleNotFoundError as exc:
            if exc.name != f"tests.integrity.{group}":
                raise
            continue
        found += module.CASES
    names = [c.name for c in found]
    repeated = {n for n in names if names.count(n) > 1}
    if repeated:
        raise ValueError(f"case names used twice: {sorted(repeated)}")
    return found


def stale(cases: list[Case]) -> list[str]:
    """The stored files that differ from what their builders make (or are missing)."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            made = case.write(Path(tmp))
            stored = FOLDER / made.name
            if not stored.is_file() or stored.read_bytes() != made.read_bytes():
                out.append(made.name)
    stored = {p.name for p in FOLDER.glob("*.ipynb")}
    out += sorted(stored - {f"{c.name}.ipynb" for c in cases})
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="only check the stored files")
    args = p.parse_args(argv)
    cases = all_cases()
    if args.check:
        bad = stale(cases)
        if bad:
            print(f"out of date: {', '.join(bad)}; run python -m tests.integrity.make_cases")
            return 1
        print(f"{len(cases)} cases up to date")
        return 0
    FOLDER.mkdir(exist_ok=True)
    for old in FOLDER.glob("*.ipynb"):
        old.unlink()
    for case in cases:
        case.write(FOLDER)
    print(f"wrote {len(cases)} cases to {FOLDER}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
