"""A fitted model as the ONNX converter sees it (:func:`chainrule.export.describe.describe`):
its kind, its outputs, and an error naming what is missing."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from chainrule import MLPClassifier, MLPRegressor
from chainrule.export.describe import describe


@pytest.mark.parametrize(
    ("model", "Y", "kind", "n_outputs"),
    [
        (MLPClassifier, [0, 1] * 10, "binary", 2),
        (MLPClassifier, [0, 1, 2, 3] * 5, "multiclass", 4),
        (MLPClassifier, np.eye(3, dtype=int)[[0, 1, 2, 0] * 5] | [1, 0, 0], "multilabel", 3),
        (MLPRegressor, np.arange(20.0), "regressor", 1),
    ],
)
def test_each_kind_of_model_is_described(model, Y, kind, n_outputs):
    X = np.random.default_rng(0).normal(size=(20, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = model(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(X, Y)
    spec = describe(fitted)
    assert (spec.kind, spec.n_outputs, spec.n_features) == (kind, n_outputs, 3)
    assert [W.shape for W in spec.coefs] == [(3, 4), (4, spec.coefs[-1].shape[1])]


def test_what_is_not_a_fitted_chainrule_mlp_is_refused():
    with pytest.raises(TypeError, match="converts chainrule's MLPClassifier"):
        describe(object())
    with pytest.raises(NotFittedError):
        describe(MLPClassifier())
