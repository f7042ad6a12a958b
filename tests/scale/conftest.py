"""Fixtures of the dask tests: one cluster for the folder, and the data and fits they share."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from conftest import dask_cluster


@pytest.fixture(scope="session")
def cluster_client():
    """One :func:`dask_cluster` for every test of tests/scale that asks for it (they leave no
    data behind), started at the first and closed when the session ends: one start, not one
    per module."""
    with dask_cluster() as client:
        yield client


def _indexed_data(n=1000, chunks=137, weighted=True, seed=0):
    """``X`` whose first column is the row index, with matching ``Y`` and ``s`` as dask arrays."""
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    X[:, 0] = np.arange(n)
    Y = np.stack([np.arange(n), -np.arange(n)], axis=1).astype(float)
    sw = rng.uniform(0.5, 2.0, n) if weighted else None
    dask_sw = None if sw is None else da.from_array(sw, chunks=250)
    return (X, Y, sw), (da.from_array(X, chunks=(chunks, 2)), da.from_array(Y, chunks=300), dask_sw)


def _visited(batches):
    """The row indices in the order the minibatches visit them, and the batch sizes."""
    rows = [Xb[:, 0].astype(int) for Xb, _, _ in batches]
    return np.concatenate(rows), [len(r) for r in rows]


def _fit_regressor(X, Y, sw=None, **params):
    """An MLPRegressor fitted on ``X``, ``Y`` (and ``sw``) with small defaults."""
    from chainrule import MLPRegressor

    defaults = dict(hidden_layer_sizes=(6,), max_iter=3, batch_size=64, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MLPRegressor(**{**defaults, **params}).fit(X, Y, sample_weight=sw)


@pytest.fixture
def indexed_data():
    """``indexed_data(n, chunks, weighted, seed)``: ``(X, Y, s)`` in memory and as dask arrays,
    the first column of ``X`` the row index."""
    return _indexed_data


@pytest.fixture
def visited():
    """``visited(minibatches)``: the row indices in the order visited, and the batch sizes."""
    return _visited


@pytest.fixture
def fit_regressor():
    """``fit_regressor(X, Y, sw, **params)``: a small MLPRegressor fitted, quietly."""
    return _fit_regressor
