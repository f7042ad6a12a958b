"""What a fit checks before it allocates or trains (:mod:`chainrule.estimators.preflight`): the
memory a fit needs, estimated from above, and a continued fit that changed its targets."""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from chainrule import MLPClassifier, MLPRegressor
from chainrule.estimators.preflight import fit_memory_need


def test_partial_fit_with_another_number_of_targets_is_refused():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    reg = MLPRegressor(hidden_layer_sizes=(4,), random_state=0)
    reg.partial_fit(X, rng.normal(size=30))
    with pytest.raises(ValueError, match="y has 2 target column"):
        reg.partial_fit(X, rng.normal(size=(30, 2)))


# -- memory -------------------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_the_memory_estimate_is_at_most_what_a_fit_allocates(solver):
    """The estimate a fit is refused by counts only buffers the fit holds at once (parameters,
    gradient, optimizer state, a minibatch's z, a and delta), so it never exceeds the peak that
    tracemalloc (which sees every NumPy allocation) measures: a refused fit would not have
    fitted."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(400, 20)), rng.integers(0, 3, size=400)
    clf = MLPClassifier((300, 300), solver=solver, max_iter=1, random_state=0)
    need = fit_memory_need([20, 300, 300, 3], np.float64, clf.get_params(), 400)
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sum(need.values()) <= peak
