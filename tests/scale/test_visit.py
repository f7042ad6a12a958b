"""An epoch's minibatch steps block by block (:mod:`chainrule.scale.visit`): where each block is
(the model visits the blocks) or here (the blocks come to the model), the same minibatches, the
same steps, the same weights; a bad block named and a diverging visit stopped with finite
weights.

Dropout on dask input: the epoch's mask key travels with the minibatch steps
(:class:`chainrule.training.MinibatchSteps`) from block to block, here (blocks streamed) or on
the workers (the model visits the blocks), and so does the count of the epoch's steps that
numbers each step's masks: the same masks as the in-memory fit's."""

import warnings

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")

from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from chainrule import MLPClassifier, MLPRegressor  # noqa: E402
from chainrule.training import TrainingDivergedWarning  # noqa: E402

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


# -- the model visits the blocks, or they come to it ----------------------------------------------


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_the_model_visiting_the_blocks_takes_the_steps_of_streaming(
    cluster_client, solver, indexed_data, fit_regressor
):
    """Where the blocks are (the model visits them) or here (they are streamed), on the cluster
    or on the threaded scheduler: the same minibatches, the same steps, the same weights."""
    _, (dX, dY, dsw) = indexed_data(n=900, chunks=(100, 170, 130, 250, 250))
    dX, dY = dX / 1000.0, dY / 1000.0  # the index columns, scaled
    fits = {}
    with cluster_client.as_current():
        for visits in (True, False):
            with dask.config.set({"chainrule.visit-blocks": visits}):
                fits[visits] = fit_regressor(dX, dY, dsw, solver=solver)
    fits["threads"] = fit_regressor(dX, dY, dsw, solver=solver)
    for other in (False, "threads"):
        np.testing.assert_array_equal(fits[True].network_.theta, fits[other].network_.theta)
        # the epoch's loss is summed block by block there: equal up to the order of the sum
        np.testing.assert_allclose(fits[True].loss_curve_, fits[other].loss_curve_, rtol=1e-12)
    assert fits[True].t_ == 3 * 900 and fits[True].n_iter_ == 3


def test_classifier_partial_fit_and_early_stopping_visit_as_they_stream(cluster_client):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(700, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    dX, dy = da.from_array(X, chunks=(100, 4)), da.from_array(y, chunks=100)
    dsw = da.from_array(rng.uniform(0.5, 2.0, 700), chunks=100)
    params = dict(hidden_layer_sizes=(8,), batch_size=48, max_iter=4, random_state=0)
    fitted = {}
    with cluster_client.as_current(), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for visits in (True, False):
            with dask.config.set({"chainrule.visit-blocks": visits}):
                stopped = MLPClassifier(**params, early_stopping=True, n_iter_no_change=100)
                stopped.fit(dX, dy, sample_weight=dsw)
                partial = MLPClassifier(**params)
                for _ in range(2):
                    partial.partial_fit(dX, dy, classes=[0, 1, 2])
                fitted[visits] = stopped, partial
    for a, b in zip(fitted[True], fitted[False], strict=True):
        np.testing.assert_array_equal(a.network_.theta, b.network_.theta)
    assert fitted[True][0].validation_scores_ == fitted[False][0].validation_scores_


def test_a_bad_block_met_by_the_visiting_model_is_named(cluster_client, fit_regressor):
    X = np.random.default_rng(0).normal(size=(300, 3))
    X[250, 1] = np.nan
    dX, dY = da.from_array(X, chunks=(100, 3)), da.from_array(X[:, 0], chunks=100)
    with cluster_client.as_current(), dask.config.set({"chainrule.visit-blocks": True}):
        with pytest.raises(ValueError, match=r"X holds NaN at row 250, column 1 \(block 2"):
            fit_regressor(dX, dY)


def test_a_visit_that_diverges_keeps_finite_weights(cluster_client):
    X, Y = np.random.default_rng(0).normal(size=(600, 3)), np.random.default_rng(1).normal(size=600)
    dX, dY = da.from_array(X * 1e3, chunks=(100, 3)), da.from_array(Y * 1e3, chunks=100)
    with cluster_client.as_current(), dask.config.set({"chainrule.visit-blocks": True}):
        reg = MLPRegressor(hidden_layer_sizes=(6,), solver="sgd", learning_rate_init=10.0)
        with pytest.warns(TrainingDivergedWarning, match="diverged"):
            reg.fit(dX, dY)
    assert reg.n_iter_ < 10 and np.isfinite(reg.network_.theta).all()
