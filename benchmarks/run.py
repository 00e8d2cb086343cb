"""``make bench``: every benchmark of the project, each printing ratios measured in the same run.

Needs the benchmark extras: micrograd (in ``dev``) and PyTorch (``torch``); ``make bench``
installs both. Results are printed; copy the latest figures into ``benchmarks/README.md``.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_engine  # noqa: E402
import bench_mlp  # noqa: E402


def machine() -> str:
    import numpy as np
    import torch

    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"numpy {np.__version__}, torch {torch.__version__}"
    )


def main() -> None:
    print(f"machine: {machine()}\n")
    bench_engine.main()
    print()
    bench_mlp.main()


if __name__ == "__main__":
    main()
