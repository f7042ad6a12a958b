"""The fit object: :class:`chainrule.training.Trainer` trains without an estimator, and the
estimators' fits are exactly its fits; the one best-of-restarts rule."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from chainrule import MLPClassifier, MLPRegressor, Network
from chainrule.training import (
    FitSettings,
    InMemoryData,
    LearningRateSchedule,
    Trainer,
    best_run,
    make_optimizer,
    restart_generators,
)


def settings(**changes) -> FitSettings:
    values = dict(
        solver="adam",
        max_iter=5,
        max_fun=15000,
        tol=1e-4,
        n_iter_no_change=10,
        verbose=False,
        schedule=LearningRateSchedule("constant", 0.01),
        batch_size="auto",
        shuffle=True,
        early_stopping=False,
        validation_fraction=0.1,
    )
    return FitSettings(**{**values, **changes})


@pytest.mark.parametrize("early_stopping", [False, True])
def test_a_trainer_fits_without_an_estimator_as_the_estimator_does(early_stopping):
    """The same data, initial weights (assigned before the fit, so nothing is drawn for
    them), settings and generator give the estimator's weights and curves bit for bit: the
    estimator adds nothing to the training, it hands over and publishes."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = X[:, 0] - 2 * X[:, 1] + 0.1 * rng.normal(size=300)
    start = Network([4, 6, 1], activation="relu", alpha=1e-4, random_state=0)
    reg = MLPRegressor(
        hidden_layer_sizes=(6,),
        max_iter=5,
        learning_rate_init=0.01,
        random_state=3,
        early_stopping=early_stopping,
        warm_start=True,  # the weights assigned below are the initial ones
    )
    reg.coefs_ = [W.T.copy() for W in start.W]
    reg.intercepts_ = [b.copy() for b in start.b]
    trainer = Trainer(
        InMemoryData(X, y.reshape(-1, 1), np.ones(300), y),
        settings(early_stopping=early_stopping),
        build_network=lambda generator: start.copy(),
        make_optimizer=lambda: make_optimizer("adam", learning_rate_init=0.01),
        score=_r2_and_loss,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter reached
        reg.fit(X, y)
        result = trainer.fit(restart_generators(3, 1))
    np.testing.assert_array_equal(result.net.theta, reg.network_.theta)
    assert result.record.loss_curve == reg.loss_curve_
    assert result.record.validation_scores == getattr(reg, "validation_scores_", None)


def _r2_and_loss(net, held_out):
    from sklearn.metrics import r2_score

    w = held_out.sw / held_out.sw.sum()
    loss = net.batch_cost(held_out.X, held_out.Y, w, float(held_out.sw.sum()))
    out = net.forward(held_out.X, validate=False).ravel()
    return float(r2_score(held_out.y, out, sample_weight=held_out.sw)), loss


def test_best_run_is_the_highest_criterion_first_of_equals():
    assert best_run([1.0, 3.0, 2.0]) == 1
    assert best_run([2.0, 2.0, 1.0]) == 0  # the first of equals
    assert best_run([1.0, float("nan"), 0.5]) == 0  # a NaN never replaces an earlier run
    assert best_run([-1.0]) == 0


@pytest.mark.parametrize("Model", [MLPClassifier, MLPRegressor])
def test_the_estimators_keep_the_trainers_best_run(Model):
    """``best_run_`` is the run with the best criterion (the lowest final loss here) of the
    same runs fitted one by one with ``n_init=1`` and each run's generator."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 3))
    y = (X[:, 0] > 0).astype(int) if Model is MLPClassifier else X[:, 0] * X[:, 1]
    params = dict(hidden_layer_sizes=(3,), max_iter=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = Model(**params, n_init=3, random_state=5).fit(X, y)
        runs = [
            Model(**params, random_state=generator).fit(X, y)
            for generator in restart_generators(5, 3)
        ]
    losses = [run.loss_ for run in runs]
    assert fitted.best_run_ == best_run([-loss for loss in losses])
    np.testing.assert_array_equal(fitted.network_.theta, runs[fitted.best_run_].network_.theta)
