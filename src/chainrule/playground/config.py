"""The settings a page may change, checked one by one: a bad value is refused with a message
naming the setting, and the session keeps its old settings.

>>> config = update_config(default_config(), {"learning_rate": 0.1, "solver": "adam"})
>>> config["learning_rate"], config["solver"]
(0.1, 'adam')
>>> update_config(config, {"learning_rate": -1})
Traceback (most recent call last):
...
ValueError: learning_rate must be a number in [1e-06, 10], got -1
"""

from __future__ import annotations

import copy
from numbers import Integral, Real
from typing import Any

from chainrule.activations import ACTIVATIONS as BUILTIN_ACTIVATIONS
from chainrule.activations import get_activation
from chainrule.playground.data import CLASSIFICATION_SETS, FEATURES, REGRESSION_SETS
from chainrule.playground.schedule import SCHEDULES

#: hidden-layer activations the page offers: every built-in by its own name (no alias such
#: as "logistic") except the output-only softmax
ACTIVATIONS = tuple(
    name for name in BUILTIN_ACTIVATIONS if name != "softmax" and get_activation(name).name == name
)
SOLVERS = ("sgd", "momentum", "nesterov", "adam")
COSTS = {
    "classification": ("binary_cross_entropy", "squared_error"),
    "regression": ("squared_error", "absolute_error", "huber"),
}
#: how fast Play trains: as fast as it can, or so many epochs or minibatches a second
SPEEDS = {
    "max": None,
    "epoch10": ("epoch", 10.0),
    "epoch2": ("epoch", 2.0),
    "minibatch5": ("minibatch", 5.0),
    "minibatch1": ("minibatch", 1.0),
}
MAX_LAYERS = 6
MAX_UNITS = 8
#: the sigmoid slopes ``beta`` a layer (and the seed's sliders) may take
BETA_RANGE = (-1.0, 25.0)
#: the dropout rates a hidden layer may take while training (0: none)
DROPOUT_RANGE = (0.0, 0.9)

#: settings whose change starts training again from new weights
RESTART_KEYS = frozenset(
    {
        "dataset",
        "n_samples",
        "noise",
        "train_ratio",
        "data_seed",
        "features",
        "layers",
        "cost",
        "seed",
    }
)
#: settings that the page's data depend on
DATA_KEYS = frozenset({"dataset", "n_samples", "noise", "train_ratio", "data_seed"})

#: (lowest, highest) of each number
_RANGES: dict[str, tuple[float, float]] = {
    "n_samples": (10, 1000),
    "noise": (0.0, 0.5),
    "train_ratio": (0.1, 0.9),
    "data_seed": (0, 2**31 - 1),
    "seed": (0, 2**31 - 1),
    "learning_rate": (1e-6, 10),
    "batch_size": (1, 1000),
    "alpha": (0.0, 10.0),
    "l1_ratio": (0.0, 1.0),  # the L1 share of alpha's penalty
    "weight_decay": (0.0, 10.0),  # decoupled: W <- W - eta lambda W before each step
    "schedule_epochs": (1, 1000),
}
_INTEGERS = frozenset({"n_samples", "data_seed", "seed", "batch_size", "schedule_epochs"})


def default_config() -> dict[str, Any]:
    """The settings a new page starts with: xor, two tanh layers of 4 and 2 units, sgd."""
    return {
        "dataset": "xor",
        "n_samples": 200,
        "noise": 0.0,
        "train_ratio": 0.5,
        "data_seed": 0,
        "features": ["x1", "x2"],
        "layers": [layer(4), layer(2)],
        "learning_rate": 0.03,
        "batch_size": 10,
        "alpha": 0.0,
        "l1_ratio": 0.0,
        "weight_decay": 0.0,
        "solver": "sgd",
        "cost": "binary_cross_entropy",
        "seed": 0,
        "speed": "max",
        "schedule": "constant",
        "schedule_epochs": 50,
    }


def layer(
    units: int, activation: str = "tanh", beta: float = 1.0, dropout: float = 0.0
) -> dict[str, Any]:
    """One hidden layer's settings (``beta`` is the sigmoid's slope, ``dropout`` the rate at
    which training drops its units)."""
    return {"units": units, "activation": activation, "beta": beta, "dropout": dropout}


def number_in_range(
    key: str, value: Any, low: float, high: float, integer: bool = False
) -> float | int:
    """``value`` as a float (an int if ``integer``) in ``[low, high]``, or a ValueError naming
    ``key``: bools, strings, NaN, infinities and (``integer``) fractions are refused."""
    kind = "an integer" if integer else "a number"
    ok = isinstance(value, Real) and not isinstance(value, bool) and low <= value <= high
    if not ok or (integer and not (isinstance(value, Integral) or float(value).is_integer())):
        raise ValueError(f"{key} must be {kind} in [{low:g}, {high:g}], got {value!r}")
    return int(value) if integer else float(value)


def _choice(key: str, value: Any, options) -> str:
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{key} must be one of {list(options)}, got {value!r}")
    return value


def _layers(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or len(value) > MAX_LAYERS:
        raise ValueError(f"layers must be a list of at most {MAX_LAYERS} hidden layers")
    layers = []
    for m, spec in enumerate(value, 1):
        if not isinstance(spec, dict) or set(spec) - {"units", "activation", "beta", "dropout"}:
            raise ValueError(
                f"layer {m} must be an object with units, activation, beta and dropout"
            )
        units = number_in_range(f"layer {m} units", spec.get("units"), 1, MAX_UNITS, True)
        act = _choice(f"layer {m} activation", spec.get("activation", "tanh"), ACTIVATIONS)
        beta = number_in_range(f"layer {m} beta", spec.get("beta", 1.0), *BETA_RANGE)
        p = number_in_range(f"layer {m} dropout", spec.get("dropout", 0.0), *DROPOUT_RANGE)
        layers.append(layer(units, act, beta, p))
    return layers


def _features(value: Any) -> list[str]:
    if not isinstance(value, list) or not value or len(set(map(str, value))) != len(value):
        raise ValueError(
            f"features must be a non-empty list of distinct names from {list(FEATURES)}"
        )
    for name in value:
        _choice("each feature", name, FEATURES)
    return [f for f in FEATURES if f in value]  # the page's order


def task_of(config: dict[str, Any], upload_task: str | None = None) -> str:
    """``"classification"`` or ``"regression"``: the task of the configured data set."""
    if config["dataset"] == "upload":
        return upload_task or "classification"
    return "classification" if config["dataset"] in CLASSIFICATION_SETS else "regression"


def update_config(
    config: dict[str, Any], changes: Any, upload_task: str | None = None
) -> dict[str, Any]:
    """A new settings dict: ``config`` with ``changes`` applied, each checked."""
    if not isinstance(changes, dict):
        raise ValueError("config must be an object of settings")
    new = copy.deepcopy(config)
    for key, value in changes.items():
        if key in _RANGES:
            new[key] = number_in_range(key, value, *_RANGES[key], key in _INTEGERS)
        elif key == "dataset":
            names = (*CLASSIFICATION_SETS, *REGRESSION_SETS)
            new[key] = _choice(key, value, (*names, "upload") if upload_task else names)
        elif key == "features":
            new[key] = _features(value)
        elif key == "layers":
            new[key] = _layers(value)
        elif key == "solver":
            new[key] = _choice(key, value, SOLVERS)
        elif key == "schedule":
            new[key] = _choice(key, value, SCHEDULES)
        elif key == "speed":
            new[key] = _choice(key, value, SPEEDS)
        elif key == "cost":
            new[key] = _choice(key, value, (*COSTS["classification"], *COSTS["regression"]))
        else:
            raise ValueError(f"unknown setting {key!r}")
    costs = COSTS[task_of(new, upload_task)]
    if new["cost"] not in costs:
        if "cost" in changes:
            raise ValueError(f"cost must be one of {list(costs)} for this data set")
        new["cost"] = costs[0]
    return new
