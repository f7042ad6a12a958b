"""``chainrule train`` on a folder of Parquet or ``.npy`` files too large for memory: the data
stays lazy (dask arrays), whole blocks (files, row groups) are held out for the test report,
the features are standardised with moments from one pass, and the estimator streams the
blocks (:mod:`chainrule.estimators.distributed`). numpy and dask are imported inside."""

from __future__ import annotations

import math
import sys


def split_blocks(data, test_size: float, seed: int):
    """``(X_tr, X_te, y_tr, y_te)``: ``ceil(test_size K)`` of the ``K`` row blocks, drawn with
    ``seed``, held out whole; no test split (``X_te`` None) with fewer than 2 blocks."""
    import numpy as np

    X, y = data.X, data.y.rechunk({0: data.X.chunks[0]})
    K = X.numblocks[0]
    n_test = math.ceil(test_size * K)
    if K < 2 or n_test >= K:
        print(
            f"chainrule train: note: {data.name} has {K} block(s) (files, row groups), too few "
            "to hold whole ones out: training and reporting on all of it (no test split)",
            file=sys.stderr,
        )
        return X, None, y, None
    test = np.sort(np.random.default_rng(seed).choice(K, size=n_test, replace=False))
    train = np.setdiff1d(np.arange(K), test)
    train, test = train.tolist(), test.tolist()
    return X.blocks[train], X.blocks[test], y.blocks[train], y.blocks[test]


def standardized_fit(model, X, y, info: dict, X_val=None, y_val=None):
    """``Standardized`` around ``model`` fitted on dask ``X``: the columns' mean and standard
    deviation in one pass, then ``model.fit((X - mean) / scale, y)``, lazily scaled; a
    validation set ``X_val`` (in memory) is scaled the same way."""
    import dask

    from chainrule.estimators import Standardized

    mean, scale = dask.compute(X.mean(axis=0), X.std(axis=0))
    scale[scale == 0] = 1.0  # a constant column stays as it is
    bundle = Standardized(model, mean, scale, info)
    given = {} if X_val is None else {"X_val": bundle.scaled(X_val), "y_val": y_val}
    model.fit(scaled(bundle, X), y, **given)
    return bundle


def scaled(bundle, X):
    """``(X - mean) / scale`` of dask ``X``, lazily."""
    return (X - bundle.mean) / bundle.scale
