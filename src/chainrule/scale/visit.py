"""An epoch's minibatch steps block by block: where each block is (the model visits the blocks)
or here (the blocks come to the model).

Streaming a block to the client moves all its bytes; the network and its optimizer's state are
often far smaller (a 100-64-32-1 network with Adam: 200 kB, against 16 MB for a block of 20,000
rows of 100 float64 features). :func:`visit_blocks` runs an epoch as a chain of tasks, one per
block in the epoch's order. Task ``k`` runs on a worker holding block ``k``: it takes the steps
(the network and the optimizer, :class:`chainrule.training.MinibatchSteps`) and the rows left
over by task ``k - 1``, runs the block's minibatch steps (:func:`visit_block`) and hands on the
updated steps and the rows left over. The next ``prefetch`` blocks are computed while the
chain runs. SGD stays sequential (one block after another); what no longer travels is the data.
:func:`stream_blocks` runs the same :func:`visit_block` here, on blocks streamed to the client.
Both draw the block order, then each block's row order, from ``rng`` in the epoch's order, as
:func:`chainrule.scale.minibatches` does: the same minibatches, the same steps.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections import deque
from itertools import chain

import numpy as np

from chainrule.scale.blocks import Blocks
from chainrule.scale.stream import Batch, cut, epoch_order, iter_blocks, row_order, weighted

#: one block's outcome: ``(sum_b |b| C_b, steps taken, the cost that was not finite or None,
#: the rows left over)``
Outcome = tuple[float, int, float | None, Batch | None]


def model_nbytes(steps) -> int:
    """The bytes that travel with the model: its parameters and its optimizer's arrays."""
    state = steps.optimizer.state().values()
    return steps.net.theta.nbytes + sum(a.nbytes for a in state if isinstance(a, np.ndarray))


def visits_pay(model_bytes: float, block_bytes: float, elsewhere: bool) -> bool:
    """Whether the model should visit the blocks: when the workers are on other machines (a
    block crosses the network to reach the client, where the client's link caps the rate of
    every worker together) and the model is the smaller of the two. On this machine a block's
    copy is a memory copy, cheaper than a hop of the chain (a task round trip through the
    scheduler).

    >>> visits_pay(200e3, 16e6, elsewhere=True), visits_pay(200e3, 16e6, elsewhere=False)
    (True, False)
    """
    return elsewhere and model_bytes < block_bytes


def workers_elsewhere(client) -> bool:
    """Whether some of the client's workers run on another machine than this process."""
    from distributed.comm import get_address_host

    here = {"localhost", socket.gethostname(), socket.getfqdn()}
    with contextlib.suppress(OSError):
        here.update(socket.gethostbyname_ex(socket.gethostname())[2])
    hosts = {get_address_host(address) for address in client.scheduler_info()["workers"]}
    return any(host not in here and not _loopback(host) for host in hosts)


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name, not an address
        return False


def visit_block(
    steps, carry: Batch | None, block: Batch, rows: np.ndarray, batch_size: int, dtype, last: bool
) -> Outcome:
    """The minibatch steps of one block whose rows come in the order ``rows``, after ``carry``
    (the rows left over by the blocks before, or None); ``last``: the epoch's last block, whose
    rows left over make the epoch's last, shorter minibatch."""
    X, Y, sw = block
    first, whole, carry = cut(block, carry, rows, batch_size)
    ones = np.ones(len(X), dtype=dtype) if sw is None else sw
    head = weighted([] if first is None else [first], dtype)
    batches = chain(head, steps.gathered(X, Y, ones, whole))
    total, n_steps, cost = steps.run(batches)
    if cost is None and last and carry is not None:
        more, n_more, cost = steps.run(weighted([carry], dtype))
        total, n_steps, carry = total + more, n_steps + n_more, None
    return total, n_steps, cost, carry


def stream_blocks(
    steps, blocks: Blocks, batch_size: int, rng, dtype, *, shuffle: bool = True, prefetch: int = 2
) -> tuple[float, int, float | None]:
    """One epoch of ``steps`` here, on the blocks streamed to this process: ``(sum_b |b| C_b,
    steps taken, None)``, or the cost that was not finite third (the steps stop before it)."""
    order = epoch_order(len(blocks), rng, shuffle)
    total, n_steps, cost, carry = 0.0, 0, None, None
    for i, block in enumerate(iter_blocks(blocks, order, prefetch=prefetch)):
        rows = row_order(len(block[0]), rng, shuffle)
        last = i == len(order) - 1
        more, n_more, cost, carry = visit_block(steps, carry, block, rows, batch_size, dtype, last)
        total, n_steps = total + more, n_steps + n_more
        if cost is not None:
            break
    return total, n_steps, cost


def _visit(previous: tuple, X, Y, sw, rows, batch_size: int, dtype, last: bool) -> tuple:
    """On a worker: ``(steps, outcome)`` of one block, after ``previous``, the block before's."""
    steps, (_, _, cost, carry) = previous
    if cost is not None:  # a block before diverged: the client stops at it
        return steps, (0.0, 0, cost, None)
    return steps, visit_block(steps, carry, (X, Y, sw), rows, batch_size, dtype, last)


def visit_blocks(
    steps, blocks: Blocks, batch_size: int, rng, dtype, *, client, shuffle=True, prefetch=2
) -> tuple[float, int, float | None]:
    """One epoch of ``steps`` over ``blocks``, each block's steps on the worker holding it:
    ``(sum_b |b| C_b, steps taken, None)``, or the cost that was not finite third (the steps
    stop before it). ``steps`` ends with the weights and optimizer state of the last block
    visited, also when interrupted."""
    order = epoch_order(len(blocks), rng, shuffle)
    previous: object = (steps, (0.0, 0, None, None))
    pending: deque = deque()  # the chain's tasks not yet collected, in order
    total, n_steps, latest = 0.0, 0, steps
    try:
        for i, k in enumerate(order):
            rows = row_order(blocks.rows[k], rng, shuffle)
            X, Y, *sw = client.compute([t for t in blocks.block(k) if t is not None])
            last = i == len(order) - 1
            previous = client.submit(
                _visit, previous, X, Y, sw[0] if sw else None, rows, batch_size, dtype, last,
                pure=False,
            )  # fmt: skip
            pending.append(previous)
            while len(pending) > prefetch or (last and pending):
                latest, (more, n_more, cost, _) = pending.popleft().result()
                total, n_steps = total + more, n_steps + n_more
                if cost is not None:
                    return total, n_steps, cost
        return total, n_steps, None
    finally:
        client.cancel(list(pending))
        if latest is not steps:
            steps.adopt(latest)
