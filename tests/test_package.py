"""Tests of the package as a whole: light import, public names, documented modules."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

MODULES = ["graph", "activations", "losses", "layers", "mlp", "optim", "data", "train", "gradcheck"]
MODULES += ["arguments", "viz", "viz.common", "viz.layout", "viz.graphs", "viz.training"]
MODULES += ["validate", "exercises", "tensorgraph"]


def test_import_course_stays_light():
    code = (
        "import sys, course, course.mlp, course.graph, course.data, course.optim, course.viz;"
        "heavy = [m for m in ('matplotlib', 'ipywidgets', 'sklearn', 'torch', 'scipy')"
        " if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("name", MODULES)
def test_every_public_function_is_documented_and_typed(name):
    module = importlib.import_module(f"course.{name}")
    assert module.__doc__ and module.__doc__.strip()
    for public in getattr(module, "__all__", []):
        obj = getattr(module, public)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert obj.__doc__, f"course.{name}.{public} has no docstring"
        if inspect.isfunction(obj):
            hints = inspect.signature(obj)
            assert hints.return_annotation is not inspect.Signature.empty, (
                f"course.{name}.{public} has no return annotation"
            )
