"""The parameters both estimators take, with scikit-learn's constraints."""

from __future__ import annotations

import os
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, Options, StrOptions

from chainrule.activations import Activation
from chainrule.initializers import INITS

#: where the HTML repr's "?" links to (the estimators' page of chainrule's documentation, in
#: the repository; ``[project.urls]`` of pyproject.toml names the same place)
DOCS_URL = "https://github.com/chainrule/chainrule/blob/main/docs/migrating.md"

#: the parameters both estimators take, with scikit-learn's constraints
PARAMETER_CONSTRAINTS: dict = {
    "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
    "activation": [str, Activation, list, tuple],
    "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
    "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
    "power_t": [Interval(Real, 0, None, closed="left")],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "shuffle": ["boolean"],
    "random_state": ["random_state", np.random.Generator],
    "tol": [Interval(Real, 0, None, closed="left")],
    "verbose": ["verbose"],
    "warm_start": ["boolean"],
    "momentum": [Interval(Real, 0, 1, closed="both")],
    "nesterovs_momentum": ["boolean"],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="left")],
    "beta_1": [Interval(Real, 0, 1, closed="left")],
    "beta_2": [Interval(Real, 0, 1, closed="left")],
    "epsilon": [Interval(Real, 0, None, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
    "max_fun": [Interval(Integral, 1, None, closed="left")],
    "output_activation": [str, Activation, None],
    "n_init": [Interval(Integral, 1, None, closed="left")],
    "init": [StrOptions(set(INITS)), None],
    "scoring": [str, callable, None],
    "dtype": [StrOptions({"float32", "float64"}), None],
    "max_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
    "checkpoint": [str, os.PathLike, None],
    "checkpoint_every": [Interval(Integral, 1, None, closed="left")],
    "resume": ["boolean"],
}
