"""Fixtures shared by the estimators' tests."""

from __future__ import annotations

import warnings

import pytest
from sklearn.exceptions import ConvergenceWarning


def _quiet_fit(model, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y, **kwargs)


@pytest.fixture
def quiet_fit():
    """``quiet_fit(model, X, y)``: ``model.fit(X, y)`` with its ConvergenceWarning ignored."""
    return _quiet_fit
