"""MLPRegressor's own behaviour: its losses and multi-output targets."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import chainrule as cr
from chainrule import MLPRegressor


@pytest.mark.parametrize("loss", ["squared_error", "absolute_error", "huber", "poisson"])
def test_regressor_losses(loss):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = np.exp(0.5 * X[:, 0]) if loss == "poisson" else X[:, 0] - 2 * X[:, 1]
    reg = MLPRegressor(
        loss=loss, hidden_layer_sizes=(16,), solver="lbfgs", random_state=0, max_iter=500
    ).fit(X, y)
    assert reg.network_.cost_function.name == loss
    assert reg.score(X, y) > 0.9


def test_multi_output_loss_is_the_cost_whose_gradient_is_followed():
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(50, 3)), rng.normal(size=(50, 4))
    reg = MLPRegressor(
        hidden_layer_sizes=(5,), solver="lbfgs", alpha=0.0, random_state=0, max_iter=20
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, Y)
    assert reg.loss_ == pytest.approx(reg.network_.cost(X, Y), rel=1e-9)
    assert cr.check_gradients(reg.network_, X, Y) < 1e-6
