"""Lazy prediction (:mod:`chainrule.scale.predict`): a fitted model's predict function mapped
over a dask array's row blocks, equal to the in-memory prediction, an empty block left alone.

Tests that take ``client`` run on dask's local threaded scheduler and on a two-process
``LocalCluster`` (tests/scale/conftest.py)."""

from __future__ import annotations

import numpy as np
import pytest

da = pytest.importorskip("dask.array")

import chainrule as cr  # noqa: E402
from chainrule.scale import predict_blocks  # noqa: E402


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_lazy_prediction_equals_in_memory(client):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    clf = cr.MLPClassifier(hidden_layer_sizes=(6,), solver="lbfgs", max_iter=50, random_state=0)
    clf.fit(X, y)
    dX = da.from_array(X, chunks=(120, 2))
    labels = predict_blocks(clf.predict, dX, dtype=clf.classes_.dtype)
    proba = predict_blocks(clf.predict_proba, dX, dtype=float, n_outputs=3)
    assert isinstance(labels, da.Array) and labels.chunks == (dX.chunks[0],)
    assert proba.shape == (500, 3)
    np.testing.assert_array_equal(labels.compute(), clf.predict(X))
    np.testing.assert_allclose(proba.compute(), clf.predict_proba(X), rtol=0, atol=1e-12)


def test_an_empty_block_is_not_predicted():
    """A block of no rows gives an empty result of the right shape, without calling
    ``predict`` (scikit-learn's predict refuses 0 samples)."""
    seen = []

    def predict(X):
        seen.append(len(X))
        assert len(X) > 0, "predict called on an empty block"
        return np.column_stack([X.sum(axis=1), -X.sum(axis=1)])

    X = np.arange(12.0).reshape(6, 2)
    dX = da.from_array(X, chunks=((3, 0, 3), (2,)))  # as a filter can leave a block
    out = predict_blocks(predict, dX, dtype=float, n_outputs=2)
    assert out.chunks == ((3, 0, 3), (2,))
    np.testing.assert_array_equal(out.compute(scheduler="sync"), predict(X))
    assert sorted(seen) == [3, 3, 6]
    with pytest.raises(ValueError, match=r"X must be 2-D \(n_samples, n_features\)"):
        predict_blocks(predict, da.ones(4), dtype=float)
