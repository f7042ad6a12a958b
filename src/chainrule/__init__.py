"""chainrule: multi-layer perceptrons trained by backpropagation, equation by equation.

>>> import numpy as np, chainrule as cr
>>> net = cr.Network([2, 2, 1], activation="sigmoid", cost="binary_cross_entropy", random_state=0)
>>> net.forward(np.array([[0.0, 1.0]])).shape
(1, 1)
"""

from chainrule.activations import Activation, Sigmoid, get_activation, register_activation
from chainrule.costs import Cost, get_cost, register_cost
from chainrule.estimators import MLPClassifier, MLPRegressor
from chainrule.network import Network, Trace, check_gradients
from chainrule.optimizers import Adam, GradientDescent, Momentum, Optimizer
from chainrule.persistence import ModelFormatError, load, save

__version__ = "0.1.0"

__all__ = [
    "Activation",
    "Adam",
    "Cost",
    "GradientDescent",
    "MLPClassifier",
    "MLPRegressor",
    "ModelFormatError",
    "Momentum",
    "Network",
    "Optimizer",
    "Sigmoid",
    "Trace",
    "__version__",
    "check_gradients",
    "get_activation",
    "get_cost",
    "load",
    "register_activation",
    "register_cost",
    "save",
]
