"""chainrule: multi-layer perceptrons trained by backpropagation, equation by equation.

>>> import numpy as np, chainrule as cr
>>> net = cr.Network([2, 2, 1], activation="sigmoid", cost="binary_cross_entropy", random_state=0)
>>> net.forward(np.array([[0.0, 1.0]])).shape
(1, 1)

Every public name is imported on first use (PEP 562), so that ``import chainrule`` and the
command line's ``--help`` stay fast: ``chainrule.Network`` imports ``chainrule.network``, and
``chainrule.plotting`` (any submodule) is imported when it is first looked up.
"""

from __future__ import annotations

import importlib
import importlib.util

from chainrule.version import VERSION as __version__

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
    "to_onnx",
]

# each public name -> the module that defines it
_HOMES = {
    "Activation": "chainrule.activations",
    "Sigmoid": "chainrule.activations",
    "get_activation": "chainrule.activations",
    "register_activation": "chainrule.activations",
    "Cost": "chainrule.costs",
    "get_cost": "chainrule.costs",
    "register_cost": "chainrule.costs",
    "MLPClassifier": "chainrule.estimators",
    "MLPRegressor": "chainrule.estimators",
    "Network": "chainrule.network",
    "Trace": "chainrule.network",
    "check_gradients": "chainrule.network",
    "Adam": "chainrule.optimizers",
    "GradientDescent": "chainrule.optimizers",
    "Momentum": "chainrule.optimizers",
    "Optimizer": "chainrule.optimizers",
    "ModelFormatError": "chainrule.persistence",
    "load": "chainrule.persistence",
    "save": "chainrule.persistence",
    "to_onnx": "chainrule.export",
}


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        if not name.startswith("__") and importlib.util.find_spec(f"chainrule.{name}"):
            return importlib.import_module(f"chainrule.{name}")  # chainrule.plotting, ...
        raise AttributeError(f"module 'chainrule' has no attribute {name!r}")
    if name in ("load", "save"):
        # the estimators register their classes with chainrule.persistence when imported,
        # so that chainrule.load reads every kind of file chainrule writes
        importlib.import_module("chainrule.estimators")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


from chainrule.export import install_skl2onnx_hook  # noqa: E402

install_skl2onnx_hook()  # registers with skl2onnx once skl2onnx is imported; imports neither
