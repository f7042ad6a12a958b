"""The parameters beyond scikit-learn's: ``l1_ratio`` and ``weight_decay`` through fitting,
saving, checkpoints and resume."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError

import chainrule as cr
from chainrule import MLPClassifier, MLPRegressor

DECAY = dict(l1_ratio=0.5, alpha=0.01, weight_decay=0.05)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:400] / 16.0, y[:400]


def quiet_fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_each_changes_the_fit_and_the_network_keeps_l1_ratio(digits, solver):
    X, y = digits
    kw = dict(hidden_layer_sizes=(8,), max_iter=3, random_state=0, solver=solver)
    plain = quiet_fit(MLPClassifier(**kw), X, y)
    decayed = quiet_fit(MLPClassifier(**kw, weight_decay=0.1), X, y)
    l1 = quiet_fit(MLPClassifier(**kw, l1_ratio=1.0), X, y)
    assert l1.network_.l1_ratio == 1.0
    for other in (decayed, l1):
        assert not np.array_equal(other.network_.theta, plain.network_.theta)
    # decay shrinks: the weights end smaller than without it
    assert np.linalg.norm(decayed.coefs_[0]) < np.linalg.norm(plain.coefs_[0])


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_resume_with_decay_and_l1_gives_the_uninterrupted_model(digits, tmp_path, solver):
    X, y = digits
    kw = dict(hidden_layer_sizes=(8,), solver=solver, random_state=0, **DECAY)
    path = tmp_path / "fit.ckpt"
    whole = quiet_fit(MLPClassifier(max_iter=6, **kw), X, y)
    quiet_fit(MLPClassifier(max_iter=3, checkpoint=path, **kw), X, y)  # "killed" after 3
    resumed = quiet_fit(MLPClassifier(max_iter=6, checkpoint=path, resume=True, **kw), X, y)
    np.testing.assert_array_equal(resumed.network_.theta, whole.network_.theta)
    assert resumed.loss_curve_ == whole.loss_curve_


def test_resume_refuses_another_weight_decay(digits, tmp_path):
    X, y = digits
    kw = dict(hidden_layer_sizes=(8,), max_iter=2, random_state=0, checkpoint=tmp_path / "c")
    quiet_fit(MLPClassifier(weight_decay=0.1, **kw), X, y)
    with pytest.raises(ValueError, match="weight_decay"):
        MLPClassifier(weight_decay=0.2, resume=True, **kw).fit(X, y)


def test_a_saved_model_keeps_both(digits, tmp_path):
    X, y = digits
    model = quiet_fit(
        MLPRegressor(hidden_layer_sizes=(8,), max_iter=3, random_state=0, **DECAY), X, y
    )
    cr.save(model, tmp_path / "m.crm")
    back = cr.load(tmp_path / "m.crm")
    assert {k: back.get_params()[k] for k in DECAY} == DECAY
    assert back.network_.l1_ratio == 0.5
    np.testing.assert_array_equal(back.predict(X), model.predict(X))
    # a warm start continues with them
    back.set_params(warm_start=True, max_iter=1)
    quiet_fit(back, X, y)
    assert back.network_.l1_ratio == 0.5


@pytest.mark.parametrize("bad", [dict(l1_ratio=1.5), dict(l1_ratio=-0.1), dict(weight_decay=-1)])
def test_bad_values_are_refused_by_name(digits, bad):
    with pytest.raises(InvalidParameterError, match=next(iter(bad))):
        MLPClassifier(**bad).fit(*digits)


def test_loss_curve_includes_the_l1_term(digits):
    """One full-batch sgd epoch: loss_curve_[0] is the cost at the initial weights, penalty
    included. The initial weights are read from a fit whose step 1e-300 g leaves every weight
    as it was (below half an ulp of any weight here)."""
    X, y = digits
    kw = dict(hidden_layer_sizes=(8,), solver="sgd", batch_size=len(X), max_iter=1)
    kw.update(shuffle=False, random_state=0, alpha=2.0)
    start = quiet_fit(MLPClassifier(**kw, learning_rate_init=1e-300), X, y).coefs_
    l1 = quiet_fit(MLPClassifier(**kw, l1_ratio=1.0), X, y).loss_curve_[0]
    l2 = quiet_fit(MLPClassifier(**kw), X, y).loss_curve_[0]
    abs_sum = sum(np.abs(W).sum() for W in start)
    sq_sum = sum((W**2).sum() for W in start)
    # the same data term; the penalties alpha/n |W|_1 and alpha/(2n) ||W||^2 differ
    expected = 2.0 / len(X) * (abs_sum - sq_sum / 2)
    # two costs of ~3 in float64, each summed in another order than here (~1e-13 apart at most),
    # against a difference of ~0.4: 1e-9 relative leaves that room
    assert l1 - l2 == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    "extra", [dict(dropout=[0.3]), dict(solver="sgd", learning_rate="cosine")], ids=str
)
def test_a_saved_model_keeps_dropout_and_the_schedule(digits, tmp_path, extra):
    """Saved and loaded, the model keeps the parameter, predicts as before and, warm-started,
    trains on as the model that was never saved (the same masks and rates)."""
    X, y = digits
    kw = dict(hidden_layer_sizes=(8,), max_iter=3, random_state=0, **extra)
    model = quiet_fit(MLPClassifier(**kw), X, y)
    cr.save(model, tmp_path / "m.crm")
    back = cr.load(tmp_path / "m.crm")
    assert {k: back.get_params()[k] for k in extra} == extra
    np.testing.assert_array_equal(back.predict_proba(X), model.predict_proba(X))
    for m in (model, back):
        quiet_fit(m.set_params(warm_start=True, max_iter=2), X, y)
    np.testing.assert_array_equal(back.network_.theta, model.network_.theta)
