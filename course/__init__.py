"""backprop-course: the package behind the notebooks and assignments on backpropagation.

Modules, one per idea of the lectures:

* :mod:`course.graph`: scalar computational graphs, forward (Algorithm 3) and backward (Algorithm 4)
* :mod:`course.tensorgraph`: computational graphs whose nodes are vectors and matrices
* :mod:`course.activations`: sigmoid, tanh, the ReLU family, softmax, with derivatives
* :mod:`course.losses`: squared error and cross-entropies, paired with output layers
* :mod:`course.mlp`: matrix backprop for multilayer perceptrons (Algorithms 1 and 2)
* :mod:`course.optim`: SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam; learning-rate schedules
* :mod:`course.data`: the mini-batch generator and offline datasets
* :mod:`course.train`: the training loop with history
* :mod:`course.gradcheck`: centred finite differences and relative errors
* :mod:`course.viz`: drawings of graphs and training (imports matplotlib when used)
* :mod:`course.gates`, :mod:`course.vanishing`, :mod:`course.playground`: the plain functions
  behind the notebooks' widgets, and the training dashboard
* :mod:`course.widgets`: thin ipywidgets wrappers around those plain functions
* :mod:`course.checks`: the checks the assignments' tests use, which name a student's likely bug
* :mod:`course.exercises`: the notebooks' exercises, checked at once with those same checks
* :mod:`course.validate`: ``python -m course.validate ps1.ipynb``, a student's check of a
  notebook before submitting it (``nbgrader validate`` with every message whole)
* :mod:`course.arguments`: the checks of the package's own arguments, with one rule for
  ``TypeError`` (wrong kind) and ``ValueError`` (wrong value)

``import course`` imports none of these modules: each is loaded when it is first imported, and
the shortcuts ``course.Value``, ``course.maximum`` (from :mod:`course.graph`), ``course.MLP`` and
``course.count_parameters`` (from :mod:`course.mlp`) when they are first used. So the package
imports even where some of its modules are not available (a problem set's grading hides the ones
it forbids), and plotting and widget modules are never loaded before they are needed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers and editors only: nothing is imported at run time
    from course.graph import Value, maximum
    from course.mlp import MLP, count_parameters

__version__ = "0.1.0"
__all__ = ["Value", "maximum", "MLP", "count_parameters", "__version__"]

# the shortcuts and the module each one comes from, imported on first use (PEP 562)
_LAZY = {
    "Value": "course.graph",
    "maximum": "course.graph",
    "MLP": "course.mlp",
    "count_parameters": "course.mlp",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'course' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later uses find it directly
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
