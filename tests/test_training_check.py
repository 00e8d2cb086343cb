"""ps4's training test needs a network trained on the data it is given.

A ``train`` that returns weights trained in advance, whatever the data, passes on the moons the
visible test uses; the hidden checks turn the moons round and swap the labels
(``ps4_support._turned``), so it fails there, while the sample class's honest training passes
all three checks of the notebook.
"""

from __future__ import annotations

import importlib.util
import math
import shutil
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
#: the calls of ps4's test cells for part (d), the visible one first
CALLS = [
    {"data_seed": 0, "train_seed": 0},
    {"data_seed": 1, "train_seed": 1, "hidden": "another split of the data"},
    {"data_seed": 2, "train_seed": 12345, "hidden": "another split and seed"},
]


@pytest.fixture(scope="module")
def support(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ps4")
    shutil.copy(ROOT / "source_assignments" / "ps4" / "ps4_support.py", folder)
    spec = importlib.util.spec_from_file_location("ps4_support", folder / "ps4_support.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["ps4_support"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def honest_train(support):
    """The correct sample submission's ``train`` (and the functions it uses)."""
    nb = nbformat.read(ROOT / "autograder" / "sample_class" / "ps4" / "correct.ipynb", 4)
    namespace = {"np": np, "math": math, "support": support}
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
            exec(cell.source, namespace)
    return namespace["train"]


def test_the_notebook_calls_are_the_ones_checked_here():
    source = (ROOT / "source_assignments" / "ps4" / "ps4.ipynb").read_text()
    for call in CALLS:
        words = f"data_seed={call['data_seed']}, train_seed={call['train_seed']}"
        assert words in source.replace("\\n", "\n"), words


def test_honest_training_passes_every_check(support, honest_train, capsys):
    for call in CALLS:
        support.check_training(honest_train, **call)
    assert capsys.readouterr().out.count("held-out accuracy") == len(CALLS)


def test_weights_trained_in_advance_fail_the_hidden_checks(support, honest_train):
    X, Y, _, _ = support.moons_split(0)
    fixed = honest_train(X, Y, seed=0)

    def train(X, Y, seed=0):
        return {k: v.copy() for k, v in fixed.items()}

    support.check_training(train, **CALLS[0])  # the visible check cannot tell
    for call in CALLS[1:]:
        with pytest.raises(AssertionError, match="held-out points right"):
            support.check_training(train, **call)
