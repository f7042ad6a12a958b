"""Minibatches streamed from dask blocks: the data comes to the model, one block at a time.

One epoch visits the blocks in a seeded random order and shuffles the rows inside each block.
While the model trains on block ``k``, block ``k + 1`` is being computed: on the workers with a
``distributed.Client`` (a future), in a background thread with dask's local schedulers. The
client holds the current block, at most ``prefetch`` blocks ahead and fewer than
``batch_size`` rows carried over a block edge, so every minibatch but the epoch's last has
exactly ``batch_size`` rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import dask
import numpy as np
from dask.base import get_scheduler

from chainrule.scale.blocks import Blocks

#: a minibatch ``(X_b, Y_b, s_b)``; ``s_b`` is None when the samples are unweighted
Batch = tuple[np.ndarray, np.ndarray, np.ndarray | None]


def default_client():
    """The ``distributed.Client`` that ``dask.compute`` would use now, or None when it would use a
    local scheduler (none started, or ``dask.config.set(scheduler="threads")`` in force)."""
    try:
        from distributed import Client
    except ImportError:  # dask without distributed: local schedulers only
        return None
    client = getattr(get_scheduler(), "__self__", None)  # the client's bound ``get``
    return client if isinstance(client, Client) else None


class _Prefetcher:
    """Starts computing blocks ahead and hands them back as numpy arrays, in order."""

    def __init__(self, blocks: Blocks, client) -> None:
        self.blocks = blocks
        self.client = client
        self.pool = None if client is not None else ThreadPoolExecutor(1, "chainrule-prefetch")

    def start(self, k: int):
        """A handle on block ``k`` being computed (a list of futures, or one thread future)."""
        triple = self.blocks.block(k)
        if self.client is not None:
            return self.client.compute([t for t in triple if t is not None])
        return self.pool.submit(dask.compute, *(t for t in triple if t is not None))

    def result(self, handle) -> Batch:
        """The numpy ``(X_k, Y_k, s_k)`` of a handle :meth:`start` returned."""
        parts = self.client.gather(handle) if self.client is not None else handle.result()
        X, Y, *sw = parts
        return X, Y, sw[0] if sw else None

    def cancel(self, handles) -> None:
        for handle in handles:
            if self.client is not None:
                self.client.cancel(handle)
            else:
                handle.cancel()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


def iter_blocks(
    blocks: Blocks, order: Sequence[int] | None = None, *, prefetch: int = 1, client=None
) -> Iterator[Batch]:
    """The numpy blocks ``(X_k, Y_k, s_k)`` in ``order`` (default: as stored), computing up to
    ``prefetch`` blocks ahead of the one handed out. ``client`` defaults to the current
    ``distributed.Client``, if any."""
    if prefetch < 0:
        raise ValueError(f"prefetch must be >= 0, got {prefetch}")
    order = list(range(len(blocks)) if order is None else order)
    fetcher = _Prefetcher(blocks, client if client is not None else default_client())
    pending: list = []
    try:
        for i in range(len(order)):
            # blocks order[i], ..., order[i + prefetch] are in flight while order[i] is used
            while len(pending) < prefetch + 1 and i + len(pending) < len(order):
                pending.append(fetcher.start(order[i + len(pending)]))
            yield fetcher.result(pending.pop(0))
    finally:
        fetcher.cancel(pending)


def _take(batch: Batch, rows: np.ndarray) -> Batch:
    X, Y, sw = batch
    return X[rows], Y[rows], None if sw is None else sw[rows]


def _join(head: Batch, tail: Batch) -> Batch:
    X, Y = np.concatenate([head[0], tail[0]]), np.concatenate([head[1], tail[1]])
    sw = None if head[2] is None else np.concatenate([head[2], tail[2]])
    return X, Y, sw


def minibatches(
    blocks: Blocks,
    batch_size: int,
    rng: np.random.Generator,
    *,
    prefetch: int = 1,
    client=None,
    shuffle: bool = True,
) -> Iterator[Batch]:
    """The numpy minibatches ``(X_b, Y_b, s_b)`` of one epoch over ``blocks``.

    The block order is ``rng.permutation(K)``; block ``k``'s rows are visited in
    ``rng.permutation(n_k)``; rows left over at a block's end open the next minibatch, so every
    row is visited once and every minibatch but the last has ``batch_size`` rows. Every draw
    comes from ``rng`` on the calling thread, so an epoch is reproducible from its seed.
    ``shuffle=False`` visits the blocks and their rows in order (and draws nothing).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    carry: Batch | None = None  # fewer than batch_size rows from the blocks before
    order = rng.permutation(len(blocks)) if shuffle else np.arange(len(blocks))
    for block in iter_blocks(blocks, order, prefetch=prefetch, client=client):
        n_k = len(block[0])
        perm = rng.permutation(n_k) if shuffle else np.arange(n_k)
        if carry is not None:
            need = batch_size - len(carry[0])
            carry = _join(carry, _take(block, perm[:need]))
            perm = perm[need:]
            if len(carry[0]) < batch_size:
                continue
            yield carry
            carry = None
        n_full = len(perm) - len(perm) % batch_size
        for start in range(0, n_full, batch_size):
            yield _take(block, perm[start : start + batch_size])
        if n_full < len(perm):
            carry = _take(block, perm[n_full:])
    if carry is not None:
        yield carry
