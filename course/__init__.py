"""backprop-course: the package behind the notebooks and assignments on backpropagation.

Modules, one per idea of the lectures:

* :mod:`course.graph`: scalar computational graphs, forward (Algorithm 3) and backward (Algorithm 4)
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

``import course`` loads numpy only; plotting and widget modules are imported on first use.
"""

from course.graph import Value, maximum
from course.mlp import MLP, count_parameters

__version__ = "0.1.0"
__all__ = ["Value", "maximum", "MLP", "count_parameters", "__version__"]
