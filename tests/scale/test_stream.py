"""The block streamer (:mod:`chainrule.scale.stream`): an epoch's minibatches streamed from dask
blocks in a seeded order, the next blocks prefetched, nothing left behind on the cluster, and
the scheduler dask would use.

Tests that take ``client`` run on dask's local threaded scheduler and on a two-process
``LocalCluster`` (tests/scale/conftest.py)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
pytest.importorskip("distributed")

import chainrule as cr  # noqa: E402
from chainrule.scale import Blocks, default_client, iter_blocks, minibatches  # noqa: E402

# -- the block streamer ------------------------------------------------------------------------


def test_epoch_visits_blocks_in_seeded_order_rows_shuffled_inside(client, indexed_data, visited):
    _, (dX, dY, dsw) = indexed_data()
    blocks = Blocks.from_dask(dX, dY, dsw)
    rows, sizes = visited(minibatches(blocks, 64, np.random.default_rng(7)))
    # the same draws by hand: block order, then one permutation per block, in that order
    rng = np.random.default_rng(7)
    starts = np.cumsum((0, *blocks.rows))
    expected = [starts[k] + rng.permutation(blocks.rows[k]) for k in rng.permutation(len(blocks))]
    np.testing.assert_array_equal(rows, np.concatenate(expected))
    assert sorted(rows) == list(range(1000))  # every row exactly once
    assert sizes == [64] * 15 + [40]  # the same size across block edges, the rest at the end


def test_minibatches_carry_their_rows_targets_and_weights(client, indexed_data):
    (X, Y, sw), (dX, dY, dsw) = indexed_data()
    for Xb, Yb, swb in minibatches(Blocks.from_dask(dX, dY, dsw), 50, np.random.default_rng(0)):
        i = Xb[:, 0].astype(int)
        np.testing.assert_array_equal(Xb, X[i])
        np.testing.assert_array_equal(Yb, Y[i])
        np.testing.assert_array_equal(swb, sw[i])


def test_same_seed_same_epoch_other_seed_other_epoch(indexed_data, visited):
    _, (dX, dY, _) = indexed_data(weighted=False)
    blocks = Blocks.from_dask(dX, dY)
    first, _ = visited(minibatches(blocks, 32, np.random.default_rng(3)))
    again, _ = visited(minibatches(blocks, 32, np.random.default_rng(3)))
    other, _ = visited(minibatches(blocks, 32, np.random.default_rng(4)))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert all(swb is None for _, _, swb in minibatches(blocks, 32, np.random.default_rng(3)))


def test_batch_larger_than_a_block_spans_several_blocks(indexed_data, visited):
    _, (dX, dY, dsw) = indexed_data(n=100, chunks=7)
    rows, sizes = visited(minibatches(Blocks.from_dask(dX, dY, dsw), 30, np.random.default_rng(1)))
    assert sizes == [30, 30, 30, 10]
    assert sorted(rows) == list(range(100))


def recorded_blocks(n_blocks, rows=5):
    """Blocks whose computation records its index in ``started`` and sets ``events[k]``."""
    started, events = [], [threading.Event() for _ in range(n_blocks)]

    def make(k):
        started.append(k)
        events[k].set()
        return np.full((rows, 2), float(k))

    parts = [
        da.from_delayed(dask.delayed(make)(k), shape=(rows, 2), dtype=float)
        for k in range(n_blocks)
    ]
    return Blocks.from_dask(da.concatenate(parts), da.zeros(rows * n_blocks, chunks=rows)), (
        started,
        events,
    )


def test_next_block_is_computed_while_the_current_one_is_used():
    blocks, (started, events) = recorded_blocks(4)
    stream = iter_blocks(blocks, [2, 0, 3, 1], prefetch=1)
    Xk, _, _ = next(stream)
    assert Xk[0, 0] == 2
    assert events[0].wait(timeout=30)  # block 0 started before anyone asked for it
    assert started == [2, 0]  # and no further ahead than prefetch
    assert [Xk[0, 0] for Xk, _, _ in stream] == [0, 3, 1]


def test_no_prefetch_computes_on_demand():
    blocks, (started, _) = recorded_blocks(3)
    stream = iter_blocks(blocks, prefetch=0)
    next(stream)
    assert started == [0]
    stream.close()


def test_cluster_holds_only_the_current_and_prefetched_blocks(cluster_client):
    X = da.random.default_rng(0).normal(size=(4000, 3), chunks=(500, 3))
    blocks = Blocks.from_dask(X, da.zeros(4000, chunks=500))
    keys = {d.key for d in blocks.X}
    with cluster_client.as_current():
        for _ in minibatches(blocks, 100, np.random.default_rng(0)):
            in_memory = {k for ks in cluster_client.has_what().values() for k in ks}
            assert len(keys & in_memory) <= 3  # the current block and 2 ahead (the default)

    def cluster_empty():
        return not any(cluster_client.has_what().values())

    for _ in range(300):  # releasing is asynchronous: give the scheduler a moment
        if cluster_empty():
            break
        threading.Event().wait(0.1)
    assert cluster_empty()  # nothing left behind once the epoch is over


def test_a_stream_closed_early_leaves_another_streams_blocks_alone(cluster_client):
    # two fits on the same arrays compute the same keys; the first one stopping (an error
    # in its epoch) must not cancel the blocks the second one is waiting for
    X = da.random.default_rng(0).normal(size=(600, 3), chunks=(100, 3))
    blocks = Blocks.from_dask(X, da.zeros(600, chunks=100))
    with cluster_client.as_current():
        first, second = iter_blocks(blocks, prefetch=5), iter_blocks(blocks, prefetch=5)
        next(first)
        next(second)  # both hold futures of blocks 1-5 now
        first.close()
        rest = [Xk for Xk, _, _ in second]
    np.testing.assert_array_equal(np.concatenate(rest), X[100:].compute())


def test_a_batch_size_below_one_is_refused():
    with pytest.raises(ValueError, match="batch_size"):
        next(minibatches(Blocks.from_dask(da.ones((3, 2)), da.ones(3)), 0, None))


# -- the scheduler -------------------------------------------------------------------------------


def test_the_scheduler_dask_would_use_decides(cluster_client):
    assert default_client() is None
    with cluster_client.as_current():
        assert default_client() is cluster_client
        with dask.config.set(scheduler="threads"):  # a local scheduler asked for explicitly
            assert default_client() is None


# -- memory ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_streaming_keeps_the_client_small(cluster_client):
    psutil = pytest.importorskip("psutil")
    n, d, bound = 400_000, 100, 80 * 2**20  # 320 MB of data, 80 MB of client growth allowed
    X = da.random.default_rng(0).normal(size=(n, d), chunks=(10_000, d))
    Y = da.random.default_rng(1).normal(size=(n, 1), chunks=(10_000, 1))
    assert X.nbytes > 3 * bound
    process, peak, done = psutil.Process(), [0], threading.Event()

    def watch():
        while not done.wait(0.005):
            peak[0] = max(peak[0], process.memory_info().rss)

    net = cr.Network([d, 8, 1], activation="relu", random_state=0)
    optimizer = cr.Adam(1e-3)

    def step(Xb, Yb):
        _, grad = net.cost_and_gradient(Xb, Yb)
        optimizer.step(net.theta, grad)

    step(np.zeros((1000, d)), np.zeros((1000, 1)))  # compile and import first: not data
    seen = 0
    with cluster_client.as_current():
        blocks = Blocks.from_dask(X, Y)
        baseline = process.memory_info().rss
        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            for Xb, Yb, _ in minibatches(blocks, 1000, np.random.default_rng(0)):
                step(Xb, Yb)
                seen += len(Xb)
        finally:
            done.set()
            watcher.join()
    assert seen == n
    assert peak[0] - baseline < bound
