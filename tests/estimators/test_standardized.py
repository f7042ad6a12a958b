"""``Standardized`` (:mod:`chainrule.estimators.standardized`): features standardised without
overflow, near and past the float range."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from chainrule import MLPClassifier


def test_standardized_scales_huge_features_without_overflow():
    from chainrule.estimators import Standardized

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2)) * 1e200 + 3e200
    y = (X[:, 0] > 3e200).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = Standardized.fit(MLPClassifier((6,), solver="lbfgs", random_state=0), X, y)
    Z = model.transform(X)
    assert np.isfinite(Z).all() and np.abs(Z).max() > 0.5
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(Z.std(axis=0), 1, rtol=1e-5)
    assert model.score(X, y) > 0.8


@pytest.mark.parametrize(
    "dtype,value", [("float64", 1.79e308), ("float64", -1.79e308), ("float32", 1e39)]
)
def test_standardizing_past_the_float_range_names_the_value_not_infinity(dtype, value):
    """A finite value whose standardised value leaves the model's float range (issue 17.4):
    an error naming the sample, column and value, not "X contains infinity"."""
    from chainrule.estimators import Standardized

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3)) * 0.5  # every scale below 1
    y = (X[:, 0] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = Standardized.fit(MLPClassifier((4,), max_iter=3, dtype=dtype), X, y)
    assert (model.scale < 1).all()
    X_new = X[:3].copy()
    X_new[1, 2] = value
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(ValueError, match=r"X\[1, 2\] = .*past the " + dtype) as caught:
            model.predict(X_new)
    assert "infinity" not in str(caught.value)


def test_standardizing_values_near_the_float_range_is_correct():
    """``x - mean`` overflows but ``(x - mean) / scale`` is in range: computed exactly, and
    only there (the other cells keep the direct formula)."""
    from chainrule.estimators import Standardized

    model = Standardized(None, mean=[-1.5e308, 1e308], scale=[1e307, 0.5])
    X = np.array([[1e308, 1e308], [0.0, 9.9e307]])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        Z = model.scaled(X)
    np.testing.assert_allclose(Z, [[25.0, 0.0], [15.0, (9.9e307 - 1e308) / 0.5]], rtol=1e-12)
