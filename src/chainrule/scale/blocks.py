"""Dask input as row blocks: the unit that is streamed, held out and reduced over.

A dask array of ``n`` rows is a sequence of row blocks ``X_1, ..., X_K`` (its chunks along axis
0). :class:`Blocks` holds, for each block ``k``, the lazy ``X_k``, ``Y_k`` and (optionally)
``s_k``, the block's sample weights, aligned on the same rows. Nothing is computed here, except
chunk sizes a dask DataFrame does not know yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
from dask.delayed import Delayed
from dask.highlevelgraph import HighLevelGraph
from dask.optimization import cull


def as_dask_array(data: Any, name: str, *, numeric: bool = True) -> da.Array:
    """``data`` (a dask array, DataFrame or Series) as a dask array with known chunk sizes;
    ``numeric`` (default) refuses anything but real numbers (labels may be strings)."""
    if isinstance(data, dd.DataFrame | dd.Series):
        data = data.to_dask_array(lengths=True)
    if not isinstance(data, da.Array):
        raise TypeError(
            f"{name} must be a dask array, DataFrame or Series, got {type(data).__name__}"
        )
    if any(np.isnan(c) for c in data.chunks[0]):
        data = data.compute_chunk_sizes()
    if numeric and data.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {data.dtype}")
    return data


def _finite_block(block: np.ndarray, name: str, dtype: np.dtype, block_info=None) -> np.ndarray:
    """``block`` cast to ``dtype``; a NaN or infinity is an error naming the block and row."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.asarray(block).astype(dtype, copy=False)
    if np.isfinite(out).all():
        return out
    where = tuple(int(i) for i in np.argwhere(~np.isfinite(out))[0])
    info = (block_info or {}).get(0, {})
    k = info.get("chunk-location", (0,))[0]
    location = info.get("array-location", [(0, 0), (0, 0)])
    start = location[0][0]
    value = np.asarray(block)[where].item()
    column = f", column {location[1][0] + where[1]}" if len(where) > 1 else ""
    what = "NaN" if np.isnan(value) else f"{value!r} (infinite in {np.dtype(dtype).name})"
    raise ValueError(
        f"{name} holds {what} at row {start + where[0]}{column} (block {k}, rows {start} to "
        f"{start + len(out) - 1}); every value must be finite: drop or impute those rows"
    )


def finite(data: da.Array, name: str, dtype: Any) -> da.Array:
    """``data`` cast to ``dtype`` block by block, each block checked for NaN and infinities as
    it is computed (the error names ``name``, the row and the block).

    >>> import dask.array as da
    >>> finite(da.from_array(np.array([1.0, np.nan]), chunks=1), "y", float).compute()
    Traceback (most recent call last):
    ...
    ValueError: y holds NaN at row 1 (block 1, rows 1 to 1); every value must be finite: ...
    """
    return data.map_blocks(_finite_block, name, np.dtype(dtype), dtype=np.dtype(dtype))


def _aligned(data: Any, name: str, rows: tuple[int, ...], ndim: int) -> da.Array:
    """``data`` (dask, or a numpy array held on the client) as a dask array cut into the row
    blocks ``rows`` (one chunk across columns)."""
    arr = da.from_array(data) if isinstance(data, np.ndarray) else as_dask_array(data, name)
    if arr.ndim == 1 and ndim == 2:
        arr = arr[:, None]
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got a {arr.ndim}-D array of shape {arr.shape}")
    if arr.shape[0] != sum(rows):
        raise ValueError(
            f"{name} has {arr.shape[0]} rows but X has {sum(rows)}: one row per sample of X"
        )
    return arr.rechunk({0: rows, 1: -1} if ndim == 2 else {0: rows})


def _block_parts(arrays: list[da.Array]) -> list[tuple[Delayed, ...]]:
    """For each array (cut into the same row blocks, one block across columns), its blocks as
    delayed objects; block ``k`` of every array shares one graph, culled to what block ``k``
    needs. Unoptimized, so that a task the arrays share (``y`` computed from ``X``, say) keeps
    one name and block ``k``'s parts, computed in one call, compute it once (fusing it into each
    would compute it twice); culled once here, so that computing a block sends the scheduler
    its own tasks, not the whole graph's."""
    graph = dict(HighLevelGraph.merge(*(a.__dask_graph__() for a in arrays)))  # once: O(n)
    keys = [[k if a.ndim == 1 else k[0] for k in a.__dask_keys__()] for a in arrays]
    parts: list[list[Delayed]] = [[] for _ in arrays]
    for block in zip(*keys, strict=True):
        culled, _ = cull(graph, list(block))  # block k's own tasks, found from its keys
        for part, key in zip(parts, block, strict=True):
            part.append(Delayed(key, culled))
    return [tuple(part) for part in parts]


@dataclass(frozen=True)
class Blocks:
    """The row blocks ``(X_k, Y_k, s_k)`` of a dataset, each a :class:`dask.delayed.Delayed`.

    ``sample_weight`` is None when every sample weighs 1. ``rows[k]`` is block ``k``'s length,
    ``row_nbytes`` the bytes of one row of ``X``, ``Y`` and ``s`` together.
    """

    X: tuple[Delayed, ...]
    Y: tuple[Delayed, ...]
    sample_weight: tuple[Delayed, ...] | None
    rows: tuple[int, ...]
    row_nbytes: int = 0

    @classmethod
    def from_dask(cls, X: Any, Y: Any, sample_weight: Any = None) -> Blocks:
        """The blocks of dask ``X`` (2-D), ``Y`` (targets already encoded, 1-D or 2-D) and
        ``sample_weight`` (1-D), cut where ``X``'s chunks are; empty blocks are dropped.
        ``Y`` and ``sample_weight`` may also be numpy arrays.

        >>> import dask.array as da
        >>> X = da.ones((10, 3), chunks=(4, 3)); Y = da.zeros(10, chunks=5)
        >>> Blocks.from_dask(X, Y).rows
        (4, 4, 2)
        """
        X = as_dask_array(X, "X")
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
        if X.shape[0] == 0:
            raise ValueError(f"X has 0 samples (shape {X.shape}); at least 1 is needed")
        rows = tuple(int(c) for c in X.chunks[0] if c > 0)
        X = X.rechunk({0: rows, 1: -1})
        Y = _aligned(Y, "Y", rows, ndim=2)
        sw = None if sample_weight is None else _aligned(sample_weight, "sample_weight", rows, 1)
        parts = _block_parts([X, Y] if sw is None else [X, Y, sw])
        return cls(
            X=parts[0],
            Y=parts[1],
            sample_weight=None if sw is None else parts[2],
            rows=rows,
            row_nbytes=sum(
                a.itemsize * int(np.prod(a.shape[1:])) for a in (X, Y, sw) if a is not None
            ),
        )

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def nbytes(self) -> int:
        """The bytes of every block together."""
        return self.row_nbytes * self.n_samples

    @property
    def n_samples(self) -> int:
        """The number of rows over all blocks."""
        return sum(self.rows)

    def block(self, k: int) -> tuple[Delayed, Delayed, Delayed | None]:
        """Block ``k``'s lazy ``(X_k, Y_k, s_k)``."""
        sw = None if self.sample_weight is None else self.sample_weight[k]
        return self.X[k], self.Y[k], sw

    def take(self, indices: Sequence[int]) -> Blocks:
        """The blocks at ``indices``, in that order."""
        pick = [int(k) for k in indices]
        return Blocks(
            X=tuple(self.X[k] for k in pick),
            Y=tuple(self.Y[k] for k in pick),
            sample_weight=None
            if self.sample_weight is None
            else tuple(self.sample_weight[k] for k in pick),
            rows=tuple(self.rows[k] for k in pick),
            row_nbytes=self.row_nbytes,
        )

    def split(self, validation_fraction: float, rng: np.random.Generator) -> tuple[Blocks, Blocks]:
        """``(train, validation)``: ``round(fraction K)`` whole blocks (at least 1) drawn by
        ``rng`` are held out, for early stopping.

        >>> import dask.array as da
        >>> b = Blocks.from_dask(da.ones((10, 2), chunks=2), da.ones(10, chunks=2))
        >>> train, val = b.split(0.2, np.random.default_rng(0))
        >>> len(train), len(val), train.n_samples + val.n_samples
        (4, 1, 10)
        """
        if not 0 < validation_fraction < 1:
            raise ValueError(f"validation_fraction must be in (0, 1), got {validation_fraction}")
        if len(self) < 2:
            raise ValueError(
                f"early stopping holds out whole blocks, but the data has {len(self)} block; "
                "rechunk X along its rows into more blocks (X.rechunk({0: rows_per_block}))"
            )
        n_val = min(max(1, round(validation_fraction * len(self))), len(self) - 1)
        held = np.sort(rng.choice(len(self), size=n_val, replace=False))
        kept = np.setdiff1d(np.arange(len(self)), held)
        return self.take(kept), self.take(held)

    def weight_sums(self) -> np.ndarray:
        """``S_k``, each block's total sample weight (its row count when unweighted)."""
        if self.sample_weight is None:
            return np.asarray(self.rows, dtype=np.float64)
        sums = dask.compute(*[dask.delayed(np.sum)(s) for s in self.sample_weight])
        return np.asarray(sums, dtype=np.float64)

    def persist(self) -> Blocks:
        """The same blocks computed once and kept in the cluster's memory (with a
        ``distributed.Client``; with a local scheduler, in this process's memory)."""
        K = len(self)
        sw = () if self.sample_weight is None else self.sample_weight
        kept = dask.persist(*self.X, *self.Y, *sw)  # one graph: shared inputs computed once
        return Blocks(
            X=kept[:K],
            Y=kept[K : 2 * K],
            sample_weight=kept[2 * K :] or None,
            rows=self.rows,
            row_nbytes=self.row_nbytes,
        )
