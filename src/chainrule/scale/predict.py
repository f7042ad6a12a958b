"""Lazy prediction: a fitted model's predict function applied block by block to a dask array."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dask
import dask.array as da
import numpy as np
from numpy.typing import DTypeLike

from chainrule.scale.blocks import as_dask_array


def _apply(X: np.ndarray, predict: Callable[[np.ndarray], np.ndarray], meta: np.ndarray):
    """``predict(X)`` of one block; an empty block gives ``meta``, an empty result."""
    return meta if len(X) == 0 else np.asarray(predict(X))


def predict_blocks(
    predict: Callable[[np.ndarray], np.ndarray],
    X: Any,
    *,
    dtype: DTypeLike,
    n_outputs: int | None = None,
) -> da.Array:
    """``predict`` mapped over the row blocks of dask ``X``, lazily: a dask array of
    ``(n_samples,)`` (``n_outputs`` None: labels, values) or ``(n_samples, n_outputs)`` rows
    (probabilities). The function travels to the workers once, not once per block.

    >>> import dask.array as da
    >>> y = predict_blocks(lambda X: X.sum(axis=1), da.ones((6, 2), chunks=3), dtype=float)
    >>> y.chunks, y.compute().tolist()
    (((3, 3),), [2.0, 2.0, 2.0, 2.0, 2.0, 2.0])
    """
    X = as_dask_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
    X = X.rechunk({1: -1})
    meta = np.empty((0,) if n_outputs is None else (0, n_outputs), dtype=dtype)
    kwargs: dict[str, Any] = {"dtype": dtype, "meta": meta}
    if n_outputs is None:
        kwargs.update(drop_axis=1, chunks=(X.chunks[0],))
    else:
        kwargs["chunks"] = (X.chunks[0], (n_outputs,))
    return X.map_blocks(_apply, dask.delayed(predict, pure=True), meta, **kwargs)
