"""Metadata routing of ``X_val``, ``y_val`` and ``sample_weight_val`` (requested as for
scikit-learn's ``HistGradientBoosting*``): through ``cross_validate``, ``GridSearchCV`` and a
``Pipeline``; unrequested, refused by scikit-learn's own error."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning, UnsetMetadataPassedError
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from chainrule import MLPClassifier

PARAMS = dict(hidden_layer_sizes=(5,), activation="tanh", random_state=0, max_iter=30)


@pytest.fixture(scope="module")
def halves():
    """Iris, scaled: 100 training rows and a validation set of 50 (not as many rows as X or
    a fold of it: scikit-learn indexes a fit parameter of len(X) rows as it indexes X)."""
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))
    train, val = order[:100], order[100:]
    sw_val = rng.uniform(0.5, 2.0, len(val))
    return X[train], y[train], X[val], y[val], sw_val


@pytest.fixture(autouse=True)
def routing():
    with sklearn.config_context(enable_metadata_routing=True), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _requested(**params):
    est = MLPClassifier(early_stopping=True, **PARAMS, **params)
    return est.set_fit_request(X_val=True, y_val=True, sample_weight_val=True)


def test_cross_validate_hands_every_fold_the_whole_set(halves):
    X, y, X_val, y_val, sw_val = halves
    given = dict(X_val=X_val, y_val=y_val, sample_weight_val=sw_val)
    folds = StratifiedKFold(3)
    result = cross_validate(_requested(), X, y, cv=folds, params=given, return_estimator=True)
    for est, (train, _) in zip(result["estimator"], folds.split(X, y), strict=True):
        assert est.t_ == est.n_iter_ * len(train)  # the fold's rows, none held out
        # each fold scored the whole set, weighted: its kept weights give the best score
        assert est.best_validation_score_ == pytest.approx(
            est.score(X_val, y_val, sample_weight=sw_val), abs=4 * np.finfo(float).eps
        )


def test_grid_search_routes_sample_weight_val(halves):
    X, y, X_val, y_val, sw_val = halves
    search = GridSearchCV(_requested(), {"alpha": [1e-4, 1e-2]}, cv=2)
    search.fit(X, y, X_val=X_val, y_val=y_val, sample_weight_val=sw_val)
    best = search.best_estimator_
    assert best.best_validation_score_ == pytest.approx(
        best.score(X_val, y_val, sample_weight=sw_val), abs=4 * np.finfo(float).eps
    )


def test_unrequested_sample_weight_val_is_refused(halves):
    X, y, X_val, y_val, sw_val = halves
    est = MLPClassifier(early_stopping=True, **PARAMS).set_fit_request(X_val=True, y_val=True)
    with pytest.raises(UnsetMetadataPassedError, match="sample_weight_val"):
        cross_validate(
            est, X, y, cv=2, params=dict(X_val=X_val, y_val=y_val, sample_weight_val=sw_val)
        )


def test_pipeline_in_a_grid_search_transforms_and_routes_the_set(halves):
    X, y, X_val, y_val, _ = halves
    X, X_val = 10 * X + 3, 10 * X_val + 3
    mlp = MLPClassifier(early_stopping=True, **PARAMS).set_fit_request(X_val=True, y_val=True)
    pipe = Pipeline([("scale", StandardScaler()), ("mlp", mlp)], transform_input=["X_val"])
    search = GridSearchCV(pipe, {"mlp__alpha": [1e-4, 1e-2]}, cv=2)
    search.fit(X, y, X_val=X_val, y_val=y_val)
    best = search.best_estimator_
    assert best.score(X_val, y_val) == best[-1].best_validation_score_


def test_without_routing_a_search_passes_the_set_as_fit_parameters(halves):
    """With routing off (scikit-learn's default), a search hands fit parameters to every fit
    as they are (``X_val`` not of ``len(X)`` rows: not indexed by the folds)."""
    X, y, X_val, y_val, _ = halves
    with sklearn.config_context(enable_metadata_routing=False):
        est = MLPClassifier(early_stopping=True, **PARAMS)
        search = GridSearchCV(est, {"alpha": [1e-4, 1e-2]}, cv=2)
        search.fit(X, y, X_val=X_val, y_val=y_val)
    best = search.best_estimator_
    assert best.t_ == best.n_iter_ * len(X)
    assert best.score(X_val, y_val) == best.best_validation_score_
