"""Dropout on dask input: the epoch's mask key travels with the minibatch steps
(:class:`chainrule.training.MinibatchSteps`) from block to block, here (blocks streamed) or on
the workers (the model visits the blocks), and so does the count of the epoch's steps that
numbers each step's masks: the same masks as the in-memory fit's."""

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")

from chainrule import MLPRegressor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def regression(n=600, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    Y = np.stack([np.sin(X[:, 0]) + X[:, 1], X[:, 2] * X[:, 3]], axis=1)
    return X, Y


def lazy(a, rows):
    return da.from_array(a, chunks=(rows, *a.shape[1:]))


PARAMS = dict(hidden_layer_sizes=(6, 5), max_iter=3, random_state=0, batch_size=50)


@pytest.mark.parametrize("visit", [False, True])
def test_dropout_on_dask_is_the_in_memory_fit(client, visit):
    """Without shuffling, blocks (of 75 rows, so minibatches straddle them) and rows come in
    order: the in-memory minibatches, and with the epoch's key and step numbers, its masks.
    Equal to the in-memory fit as the plain streamed fit is (the existing bound of
    tests/estimators/test_distributed.py: the same steps, summed in another order). Under the
    threaded scheduler (no workers) the blocks stream here whatever ``visit`` says."""
    X, Y = regression()
    ordered = {**PARAMS, "shuffle": False, "solver": "sgd", "dropout": [0.5, 0.3]}
    memory = MLPRegressor(**ordered).fit(X, Y)
    with dask.config.set({"chainrule.visit-blocks": visit}):
        streamed = MLPRegressor(**ordered).fit(lazy(X, 75), lazy(Y, 75))
    np.testing.assert_allclose(streamed.network_.theta, memory.network_.theta, atol=1e-12)
    plain = MLPRegressor(**{**ordered, "dropout": 0.0}).fit(X, Y)
    assert not np.allclose(plain.network_.theta, memory.network_.theta)  # masks were applied


def test_dropout_on_dask_is_reproducible(client):
    """Shuffled: the same seed gives the same weights (masks and order from random_state), and
    another seed other ones."""
    X, Y = regression()
    params = {**PARAMS, "dropout": 0.4}
    a = MLPRegressor(**params).fit(lazy(X, 100), lazy(Y, 100))
    again = MLPRegressor(**params).fit(lazy(X, 100), lazy(Y, 100))
    other = MLPRegressor(**{**params, "random_state": 1}).fit(lazy(X, 100), lazy(Y, 100))
    np.testing.assert_array_equal(a.network_.theta, again.network_.theta)
    assert not np.array_equal(a.network_.theta, other.network_.theta)
