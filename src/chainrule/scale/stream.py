"""Minibatches streamed from dask blocks: the data comes to the model, one block at a time.

One epoch visits the blocks in a seeded random order and shuffles the rows inside each block.
While the model trains on block ``k``, the next ``prefetch`` blocks are on their way: computed
on the workers and copied here by a background thread with a ``distributed.Client``, computed
by a background thread with dask's local schedulers. The client holds the current block, at
most ``prefetch`` blocks ahead and fewer than ``batch_size`` rows carried over a block edge, so
every minibatch but the epoch's last has exactly ``batch_size`` rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import dask
import numpy as np
from dask.base import get_scheduler

from chainrule.engine import minibatch_weights
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
    """Starts blocks ahead and hands them back as numpy arrays, in order.

    With a ``distributed.Client`` a block is computed on the workers (``client.compute``, at
    once) and then copied to this process by a background thread (``client.gather``, one block
    after another): the copy, not only the computation, overlaps the training on the block
    before. With a local scheduler the background thread computes the block itself.
    """

    def __init__(self, blocks: Blocks, client) -> None:
        self.blocks = blocks
        self.client = client
        self.pool = ThreadPoolExecutor(1, "chainrule-prefetch")
        self.futures: list = []  # the cluster's futures of the blocks in flight

    def start(self, k: int) -> Future:
        """A handle on block ``k`` being computed and fetched."""
        parts = [t for t in self.blocks.block(k) if t is not None]
        if self.client is None:
            return self.pool.submit(dask.compute, *parts)
        futures = self.client.compute(parts)
        self.futures.append(futures)
        return self.pool.submit(self._gather, futures)

    def _gather(self, futures) -> list:
        parts = self.client.gather(futures, direct=True)  # from the workers, not via the scheduler
        self.futures.remove(futures)  # the copy is here: the workers may drop theirs
        return parts

    def result(self, handle: Future) -> Batch:
        """The numpy ``(X_k, Y_k, s_k)`` of a handle :meth:`start` returned."""
        X, Y, *sw = handle.result()
        return X, Y, sw[0] if sw else None

    def close(self) -> None:
        """Stops what is in flight: the threads' work is cancelled or waited for, this fit's
        futures on the cluster released."""
        self.pool.shutdown(wait=True, cancel_futures=True)
        for futures in self.futures:
            for future in futures:
                # this fit's hold only: ``client.cancel`` would cancel the key for every
                # holder, and a later fit on the same arrays computes the same keys
                future.release()
        self.futures.clear()


def iter_blocks(
    blocks: Blocks, order: Sequence[int] | None = None, *, prefetch: int = 2, client=None
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
        fetcher.close()


def epoch_order(n_blocks: int, rng: np.random.Generator, shuffle: bool) -> np.ndarray:
    """The order an epoch visits the blocks in: ``rng.permutation(K)``, or as stored."""
    return rng.permutation(n_blocks) if shuffle else np.arange(n_blocks)


def row_order(n_k: int, rng: np.random.Generator, shuffle: bool) -> np.ndarray:
    """The order an epoch visits a block's rows in: ``rng.permutation(n_k)``, or as stored."""
    return rng.permutation(n_k) if shuffle else np.arange(n_k)


def plan(rows: np.ndarray, n_carried: int, batch_size: int) -> tuple[np.ndarray, list, np.ndarray]:
    """How a block whose rows come in the order ``rows`` is cut into minibatches after
    ``n_carried`` rows left over by the blocks before: ``(head, whole, rest)``, ``head`` the
    rows that complete the carried ones to a minibatch (all of ``rows`` when too few),
    ``whole`` the index arrays of the whole minibatches that follow, ``rest`` the rows left
    over (fewer than ``batch_size``).

    >>> head, whole, rest = plan(np.arange(10), 3, 4)
    >>> head.tolist(), [w.tolist() for w in whole], rest.tolist()
    ([0], [[1, 2, 3, 4], [5, 6, 7, 8]], [9])
    """
    start = min(batch_size - n_carried, len(rows)) if n_carried else 0
    n_full = start + (len(rows) - start) // batch_size * batch_size
    whole = [rows[i : i + batch_size] for i in range(start, n_full, batch_size)]
    return rows[:start], whole, rows[n_full:]


def take(batch: Batch, rows: np.ndarray) -> Batch:
    """The rows ``rows`` of a block or minibatch ``(X, Y, s)``."""
    X, Y, sw = batch
    return X[rows], Y[rows], None if sw is None else sw[rows]


def join(head: Batch, tail: Batch) -> Batch:
    """The rows of ``head`` followed by those of ``tail``."""
    X, Y = np.concatenate([head[0], tail[0]]), np.concatenate([head[1], tail[1]])
    sw = None if head[2] is None else np.concatenate([head[2], tail[2]])
    return X, Y, sw


def cut(
    block: Batch, carry: Batch | None, rows: np.ndarray, batch_size: int
) -> tuple[Batch | None, list[np.ndarray], Batch | None]:
    """A block whose rows come in the order ``rows``, cut into minibatches after ``carry`` (the
    rows left over by the blocks before, or None): ``(first, whole, carry)``, ``first`` the
    minibatch that completes ``carry`` with the block's first rows (None without a carry, or
    when the block is too short to complete it), ``whole`` the index arrays of the whole
    minibatches that follow, ``carry`` the rows left over for the next block."""
    head, whole, rest = plan(rows, 0 if carry is None else len(carry[0]), batch_size)
    first = None
    if carry is not None:
        carry = join(carry, take(block, head))
        if len(carry[0]) < batch_size:
            return None, whole, carry
        first = carry
    return first, whole, take(block, rest) if len(rest) else None


def minibatches(
    blocks: Blocks,
    batch_size: int,
    rng: np.random.Generator,
    *,
    prefetch: int = 2,
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
    order = epoch_order(len(blocks), rng, shuffle)
    for block in iter_blocks(blocks, order, prefetch=prefetch, client=client):
        first, whole, carry = cut(block, carry, row_order(len(block[0]), rng, shuffle), batch_size)
        if first is not None:
            yield first
        for idx in whole:
            yield take(block, idx)
    if carry is not None:
        yield carry


def weighted(batches: Iterable[Batch], dtype) -> Iterator[tuple]:
    """``(X_b, Y_b, w, n_b)`` in ``dtype`` for each minibatch ``(X_b, Y_b, s_b)``: ``w`` sums to
    1, ``n_b`` is the minibatch's weight (its rows when ``s_b`` is None); minibatches of weight 0
    are skipped."""
    for X_b, Y_b, sw_b in batches:
        if sw_b is None:
            n_b = float(len(X_b))
            w = np.full(len(X_b), 1.0 / n_b, dtype=dtype)
        else:
            w, n_b = minibatch_weights(sw_b)
            if n_b == 0:
                continue
            w = w.astype(dtype, copy=False)
        yield X_b.astype(dtype, copy=False), Y_b.astype(dtype, copy=False), w, n_b
