"""``make bench``: every benchmark of the project, each printing ratios measured in the same run.

Needs the benchmark extras: micrograd (in ``dev``) and PyTorch (``torch``); ``make bench``
installs both. Results are printed; copy the latest figures into ``benchmarks/README.md``.

    python benchmarks/run.py                 # all of them: engine, mlp, grading
    python benchmarks/run.py grading         # only the ones named
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

BENCHMARKS = {  # name -> module, in the order they run
    "engine": "bench_engine",
    "mlp": "bench_mlp",
    "grading": "bench_grading",
}


def machine() -> str:
    import numpy as np

    try:
        import torch

        versions = f"numpy {np.__version__}, torch {torch.__version__}"
    except ImportError:
        versions = f"numpy {np.__version__}, no torch"
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{versions}"
    )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="Run the project's benchmarks.")
    p.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"the benchmarks to run, among {', '.join(BENCHMARKS)} (default: all)",
    )
    names = p.parse_args(argv).names or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        p.error(f"no benchmark {', '.join(unknown)}: choose among {', '.join(BENCHMARKS)}")
    print(f"machine: {machine()}\n")
    for i, name in enumerate(n for n in BENCHMARKS if n in names):
        if i:
            print()
        importlib.import_module(BENCHMARKS[name]).main()


if __name__ == "__main__":
    main()
