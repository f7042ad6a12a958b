"""Targets of dask input: class labels found in one pass and one-hot encoded block by block,
and lazy scores (accuracy, R^2) of lazy predictions."""

from __future__ import annotations

from typing import Any

import dask.array as da
import numpy as np


def label_classes(y: da.Array) -> np.ndarray:
    """The sorted distinct labels of dask ``y``: one pass over its blocks."""
    return np.asarray(da.unique(y).compute())


def _one_hot(y: np.ndarray, classes: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``Y_ik = 1`` where ``y_i`` is class ``k`` (one column, 1 for the second class, when
    there are two); a label not among ``classes`` is an error naming it."""
    y = np.asarray(y).ravel()
    codes = np.clip(np.searchsorted(classes, y), 0, len(classes) - 1)
    unknown = classes[codes] != y
    if unknown.any():
        labels = sorted(set(np.asarray(y[unknown]).tolist()))
        raise ValueError(
            f"y contains labels not in classes: {labels}; expected a subset of "
            f"{np.asarray(classes).tolist()}"
        )
    if len(classes) == 2:
        return (codes == 1).astype(dtype).reshape(-1, 1)
    Y = np.zeros((len(y), len(classes)), dtype=dtype)
    Y[np.arange(len(y)), codes] = 1
    return Y


def one_hot(y: da.Array, classes: np.ndarray, dtype: Any) -> da.Array:
    """The network's targets for dask labels ``y`` (1-D), encoded on the workers.

    >>> y = da.from_array(np.array([2, 0, 2, 1]), chunks=2)
    >>> one_hot(y, np.array([0, 1, 2]), float).compute().tolist()
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    """
    n_out = 1 if len(classes) == 2 else len(classes)
    dtype = np.dtype(dtype)
    return y.map_blocks(
        _one_hot, classes, dtype, dtype=dtype, chunks=(y.chunks[0], (n_out,)), new_axis=1
    )


def _column_mean(a: da.Array, w: da.Array | None) -> da.Array:
    return a.mean(axis=0) if w is None else (a * w[:, None]).sum(axis=0) / w.sum()


def lazy_accuracy(y: da.Array, pred: da.Array, sample_weight: da.Array | None = None):
    """The (weighted) share of rows predicted right, as a lazy dask scalar; a row of a 2-D
    ``y`` (multilabel) is right when all its labels are."""
    right = pred == y
    if right.ndim == 2:
        right = right.all(axis=1)
    return _column_mean(right[:, None].astype(float), sample_weight)[0]


def lazy_r2(y: da.Array, pred: da.Array, sample_weight: da.Array | None = None):
    """``R^2 = 1 - sum w (y - p)^2 / sum w (y - mean_w y)^2`` per output, averaged over outputs
    (scikit-learn's ``r2_score``), as a lazy dask scalar."""
    y = y[:, None] if y.ndim == 1 else y
    pred = pred[:, None] if pred.ndim == 1 else pred
    w = None if sample_weight is None else sample_weight.astype(float)
    res = _column_mean((y - pred) ** 2, w)
    tot = _column_mean((y - _column_mean(y, w)) ** 2, w)
    # a constant target scores 1 when predicted exactly, else 0 (scikit-learn's force_finite)
    r2 = da.where(tot > 0, 1 - res / da.where(tot > 0, tot, 1), da.where(res == 0, 1.0, 0.0))
    return r2.mean()
