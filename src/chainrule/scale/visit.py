"""The model visits the blocks: an epoch's minibatch steps run on the worker holding each block.

Streaming a block to the client moves all its bytes; the network and its optimizer's state are
often far smaller (a 100-64-32-1 network with Adam: 200 kB, against 16 MB for a block of 20,000
rows of 100 float64 features). :func:`visit_blocks` runs an epoch as a chain of tasks, one per
block in the epoch's order. Task ``k`` runs on a worker holding block ``k``: it takes the steps
(the network and the optimizer, :class:`chainrule.training.MinibatchSteps`) and the rows left
over by task ``k - 1``, shuffles the block's rows by the permutation drawn here, runs the
minibatch steps, and hands on the updated steps and the rows left over. The next ``prefetch``
blocks are computed while the chain runs. SGD stays sequential (one block after another); what
no longer travels is the data. The minibatches, and so the weights, are those of streaming the
blocks to the client (:func:`chainrule.scale.minibatches`: the same draws, in the same order).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from chainrule.scale.blocks import Blocks
from chainrule.scale.stream import Batch, cut, index_dtype, weighted

#: what a task of the chain hands on: ``(steps, rows left over, sum_b |b| C_b, steps taken,
#: the cost that was not finite or None)``
Visit = tuple[object, Batch | None, float, int, float | None]


def model_nbytes(steps) -> int:
    """The bytes that travel with the model: its parameters and its optimizer's arrays."""
    state = steps.optimizer.state().values()
    return steps.net.theta.nbytes + sum(a.nbytes for a in state if isinstance(a, np.ndarray))


def _visit(previous: Visit, X, Y, sw, rows, batch_size: int, dtype, last: bool) -> Visit:
    """On a worker: the minibatch steps of one block, after those of the blocks before."""
    steps, carry, _, _, cost = previous
    if cost is not None:  # a block before diverged: the client stops at it
        return steps, None, 0.0, 0, cost
    block = (X, Y, sw)
    if rows is not None:
        block = tuple(None if a is None else np.take(a, rows, axis=0) for a in block)
    left: list[Batch | None] = []

    def batches():
        left.append((yield from cut(block, carry, batch_size)))

    total, n_steps, cost = steps.run(weighted(batches(), dtype))
    carry = left[0] if left and cost is None else None
    if last and carry is not None:  # the epoch's last minibatch is shorter
        more, n_more, cost = steps.run(weighted([carry], dtype))
        total, n_steps, carry = total + more, n_steps + n_more, None
    return steps, carry, total, n_steps, cost


def visit_blocks(
    steps,
    blocks: Blocks,
    batch_size: int,
    rng: np.random.Generator,
    dtype,
    *,
    client,
    shuffle: bool = True,
    prefetch: int = 2,
) -> tuple[float, int, float | None]:
    """One epoch of ``steps`` over ``blocks``, each block's steps on the worker holding it:
    ``(sum_b |b| C_b, steps taken, None)``, or the cost that was not finite third (the steps
    stop before it). ``steps`` ends with the weights and optimizer state of the last block
    visited, also when interrupted."""
    order = rng.permutation(len(blocks)) if shuffle else np.arange(len(blocks))
    previous: Visit | object = (steps, None, 0.0, 0, None)
    pending: deque = deque()  # the chain's tasks not yet collected, in order
    total, n_steps, cost, latest = 0.0, 0, None, steps
    try:
        for i, k in enumerate(order):
            n_k = int(blocks.rows[k])
            rows = rng.permutation(n_k).astype(index_dtype(n_k)) if shuffle else None
            parts = client.compute([t for t in blocks.block(k) if t is not None])
            X, Y, *sw = parts
            last = i == len(order) - 1
            previous = client.submit(
                _visit, previous, X, Y, sw[0] if sw else None, rows, batch_size, dtype, last,
                pure=False,
            )  # fmt: skip
            pending.append(previous)
            while len(pending) > prefetch or (last and pending):
                latest, _, more, n_more, cost = pending.popleft().result()
                total, n_steps = total + more, n_steps + n_more
                if cost is not None:
                    return total, n_steps, cost
        return total, n_steps, None
    finally:
        client.cancel(list(pending))
        if latest is not steps:
            steps.adopt(latest)
