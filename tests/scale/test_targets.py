"""Targets of dask input (:mod:`chainrule.scale.targets`): the classes found in one pass, labels
one-hot encoded block by block (one column for two classes, an unknown label named), and lazy
accuracy and R^2 equal to scikit-learn's."""

from __future__ import annotations

import numpy as np
import pytest

da = pytest.importorskip("dask.array")

from sklearn.metrics import accuracy_score, r2_score  # noqa: E402

from chainrule.scale import label_classes, lazy_accuracy, lazy_r2, one_hot  # noqa: E402

from rounding import gamma  # noqa: E402


def test_labels_are_one_hot_encoded_block_by_block():
    y = np.array(["b", "a", "c", "c", "a", "b", "b"], dtype=object)
    dy = da.from_array(y, chunks=3)
    classes = label_classes(dy)
    assert classes.tolist() == ["a", "b", "c"]
    Y = one_hot(dy, classes, np.float32)
    assert Y.chunks == ((3, 3, 1), (3,)) and Y.dtype == np.float32
    np.testing.assert_array_equal(Y.compute(), np.eye(3)[[1, 0, 2, 2, 0, 1, 1]])
    # two classes: one column, 1 for the second class (as the network's sigmoid output)
    two = one_hot(da.from_array(np.array([3, 7, 7, 3]), chunks=2), np.array([3, 7]), float)
    assert two.compute().tolist() == [[0.0], [1.0], [1.0], [0.0]]


def test_a_label_not_among_the_classes_is_named():
    # both unknown labels in block 0, none in block 1: which failing block dask's threads
    # report first would otherwise decide the message
    dy = da.from_array(np.array([0, 9, 5, 2, 1, 0]), chunks=3)
    with pytest.raises(
        ValueError, match=r"labels not in classes: \[5, 9\]; expected a subset of \[0, 1, 2\]"
    ):
        one_hot(dy, np.array([0, 1, 2]), float).compute()


def test_lazy_scores_are_scikit_learns():
    """Each a weighted mean of ``n`` terms summed in another order: within ``gamma_(2n + 8)``
    relatively (tests/rounding.py), twice that for R^2's quotient, in each computation."""
    rng = np.random.default_rng(0)
    n = 500
    y, pred = rng.integers(0, 3, n), rng.integers(0, 3, n)
    sw = rng.uniform(0.5, 2.0, n)
    lazy = [da.from_array(a, chunks=120) for a in (y, pred, sw)]
    bound = 2 * gamma(2 * n + 8)
    assert lazy_accuracy(*lazy[:2]).compute() == accuracy_score(y, pred)
    assert abs(lazy_accuracy(*lazy).compute() - accuracy_score(y, pred, sample_weight=sw)) <= bound
    Y, P = rng.integers(0, 2, (n, 3)), rng.integers(0, 2, (n, 3))  # multilabel: all right
    multi = lazy_accuracy(da.from_array(Y, chunks=(120, 3)), da.from_array(P, chunks=(120, 3)))
    assert multi.compute() == accuracy_score(Y, P)
    T = rng.normal(size=(n, 2))
    Q = T + rng.normal(scale=0.5, size=(n, 2))
    dT, dQ = da.from_array(T, chunks=(120, 2)), da.from_array(Q, chunks=(120, 2))
    for w in (None, sw):
        expected = r2_score(T, Q, sample_weight=w)
        got = lazy_r2(dT, dQ, None if w is None else lazy[2]).compute()
        assert abs(got - expected) <= 2 * (1 - expected) * 2 * bound
    one = lazy_r2(dT[:, 0], dQ[:, 0]).compute()
    assert abs(one - r2_score(T[:, 0], Q[:, 0])) <= 2 * 2 * bound


def test_a_constant_target_scores_as_scikit_learn():
    """R^2 of a constant target: 1 when predicted exactly, else 0 (``force_finite``)."""
    c = da.from_array(np.full(6, 2.0), chunks=3)
    assert lazy_r2(c, c).compute() == r2_score(np.full(6, 2.0), np.full(6, 2.0)) == 1.0
    assert lazy_r2(c, c + 1).compute() == r2_score(np.full(6, 2.0), np.full(6, 3.0)) == 0.0
