"""The divergence guard, end to end (:mod:`chainrule.training.epoch`): a blow-up is noticed in the
step where it happens, the fit stops with finite weights and advice, and ``max_grad_norm``
clips each step."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning

from chainrule import MLPRegressor, Network
from chainrule.engine import select
from chainrule.training import TrainingDivergedWarning

ENGINES = ["reference", "compiled"]


# -- training that blows up ---------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("scale,lr,activation", [(1e6, 0.001, "relu"), (1.0, 1e3, "tanh")])
def test_a_blow_up_stops_with_finite_weights_and_advice(engine, scale, lr, activation):
    """Unscaled features, or a learning rate far too large."""
    X, y = load_diabetes(return_X_y=True)
    reg = MLPRegressor(
        hidden_layer_sizes=(32,),
        activation=activation,
        solver="sgd",
        learning_rate_init=lr,
        max_iter=50,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no numpy warning escapes
        with select.use_engine(engine), pytest.warns(TrainingDivergedWarning) as record:
            reg.fit(X * scale, y)
    message = str(record[0].message)
    assert "the cost became" in message and "Scale the features" in message
    assert "lower learning_rate_init" in message and "max_grad_norm" in message
    assert np.isfinite(reg.network_.theta).all()
    assert np.isfinite(reg.predict(X * scale)).all()
    assert reg.n_iter_ < 50 and all(np.isfinite(reg.loss_curve_))


def test_a_blow_up_is_noticed_in_the_step_where_it_happens(monkeypatch):
    X, y = load_diabetes(return_X_y=True)
    reg = MLPRegressor(
        hidden_layer_sizes=(8,),
        solver="sgd",
        learning_rate_init=0.01,
        batch_size=50,
        max_iter=3,
        random_state=0,
    )
    steps = []
    original = Network.batch_cost_and_gradient

    def record(self, *args):
        cost, grads = original(self, *args)
        steps.append(cost)
        if len(steps) == 12:  # the 12th minibatch (in the second epoch) blows up
            cost = float("inf")
        return cost, grads

    monkeypatch.setattr(Network, "batch_cost_and_gradient", record)
    with select.use_engine("reference"), pytest.warns(TrainingDivergedWarning, match="epoch 2"):
        reg.fit(X, y)
    assert len(steps) == 12 and reg.n_iter_ == 1  # no step after the blow-up ran


def test_max_grad_norm_clips_each_step():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 3)) * 100, rng.normal(size=20) * 100
    kw = dict(
        hidden_layer_sizes=(4,),
        solver="sgd",
        momentum=0.0,
        learning_rate_init=1.0,
        batch_size=20,
        shuffle=False,
        random_state=0,
    )
    clipped = MLPRegressor(max_grad_norm=0.5, **kw)
    start = MLPRegressor(max_iter=1, **kw).partial_fit(X[:1], y[:1])  # weights to start from
    clipped.coefs_ = [W.copy() for W in start.coefs_]
    clipped.intercepts_ = [b.copy() for b in start.intercepts_]
    clipped.partial_fit(X, y)
    step = clipped.network_.theta - start.network_.theta
    assert np.linalg.norm(step) == pytest.approx(0.5)  # eta * max_grad_norm, the gradient ~1e4
    plain = MLPRegressor(**kw)
    plain.coefs_ = [W.copy() for W in start.coefs_]
    plain.intercepts_ = [b.copy() for b in start.intercepts_]
    plain.partial_fit(X, y)
    assert np.linalg.norm(plain.network_.theta - start.network_.theta) > 100


@pytest.mark.parametrize("scale", [1e200, 1e308])
@pytest.mark.parametrize("engine", ENGINES)
def test_a_blow_up_on_huge_features_keeps_finite_outputs_or_says_why(scale, engine):
    """Features around 1e200 (or 1e308) with sgd: either the weights kept give finite outputs
    on the training data, or fit raises a clear error; no numpy RuntimeWarning escapes."""
    rng = np.random.default_rng(0)
    X = rng.uniform(0.5, 1.5, size=(60, 3)) * scale
    y = rng.normal(size=60)
    reg = MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", TrainingDivergedWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        with select.use_engine(engine):
            try:
                reg.fit(X, y)
            except ValueError as error:
                assert "Scale them" in str(error) and "infinite or NaN cost" in str(error)
                return
        assert np.isfinite(reg.predict(X)).all()
