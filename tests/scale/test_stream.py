"""chainrule.scale on dask input: streamed minibatches, distributed L-BFGS, lazy prediction.

Every test runs on dask's local threaded scheduler and on a two-process ``LocalCluster``."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pytest.importorskip("pyarrow")

from scipy.optimize import minimize  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

import chainrule as cr  # noqa: E402
from chainrule.scale import (  # noqa: E402
    BlockObjective,
    Blocks,
    default_client,
    iter_blocks,
    minibatches,
    predict_blocks,
)
from chainrule.scale.visit import visits_pay, workers_elsewhere  # noqa: E402
from chainrule.training import TrainingDivergedWarning  # noqa: E402

from rounding import assert_same_objective, rounding_bounds  # noqa: E402


def indexed_data(n=1000, chunks=137, weighted=True, seed=0):
    """``X`` whose first column is the row index, with matching ``Y`` and ``s`` as dask arrays."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    X[:, 0] = np.arange(n)
    Y = np.stack([np.arange(n), -np.arange(n)], axis=1).astype(float)
    sw = rng.uniform(0.5, 2.0, n) if weighted else None
    dask_sw = None if sw is None else da.from_array(sw, chunks=250)
    return (X, Y, sw), (da.from_array(X, chunks=(chunks, 2)), da.from_array(Y, chunks=300), dask_sw)


def visited(batches):
    """The row indices in the order the minibatches visit them, and the batch sizes."""
    rows = [Xb[:, 0].astype(int) for Xb, _, _ in batches]
    return np.concatenate(rows), [len(r) for r in rows]


# -- the block streamer ------------------------------------------------------------------------


def test_epoch_visits_blocks_in_seeded_order_rows_shuffled_inside(client):
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


def test_minibatches_carry_their_rows_targets_and_weights(client):
    (X, Y, sw), (dX, dY, dsw) = indexed_data()
    for Xb, Yb, swb in minibatches(Blocks.from_dask(dX, dY, dsw), 50, np.random.default_rng(0)):
        i = Xb[:, 0].astype(int)
        np.testing.assert_array_equal(Xb, X[i])
        np.testing.assert_array_equal(Yb, Y[i])
        np.testing.assert_array_equal(swb, sw[i])


def test_same_seed_same_epoch_other_seed_other_epoch():
    _, (dX, dY, _) = indexed_data(weighted=False)
    blocks = Blocks.from_dask(dX, dY)
    first, _ = visited(minibatches(blocks, 32, np.random.default_rng(3)))
    again, _ = visited(minibatches(blocks, 32, np.random.default_rng(3)))
    other, _ = visited(minibatches(blocks, 32, np.random.default_rng(4)))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert all(swb is None for _, _, swb in minibatches(blocks, 32, np.random.default_rng(3)))


def test_batch_larger_than_a_block_spans_several_blocks():
    _, (dX, dY, dsw) = indexed_data(n=100, chunks=7)
    rows, sizes = visited(minibatches(Blocks.from_dask(dX, dY, dsw), 30, np.random.default_rng(1)))
    assert sizes == [30, 30, 30, 10]
    assert sorted(rows) == list(range(100))


def test_validation_holds_out_whole_blocks(client):
    _, (dX, dY, dsw) = indexed_data()
    blocks = Blocks.from_dask(dX, dY, dsw)
    train, val = blocks.split(0.25, np.random.default_rng(0))
    assert len(val) == 2 and len(train) == len(blocks) - 2
    held = np.concatenate([Xk[:, 0] for Xk, _, _ in iter_blocks(val)]).astype(int)
    trained, _ = visited(minibatches(train, 64, np.random.default_rng(0)))
    assert sorted(np.concatenate([held, trained])) == list(range(1000))
    starts = np.cumsum((0, *blocks.rows))
    block_of = np.searchsorted(starts, held, side="right") - 1
    assert sum(blocks.rows[k] for k in set(block_of)) == len(held)  # whole blocks only


def test_one_block_cannot_be_split():
    blocks = Blocks.from_dask(da.ones((10, 2), chunks=10), da.ones(10, chunks=10))
    with pytest.raises(ValueError, match=r"whole blocks.*rechunk"):
        blocks.split(0.1, np.random.default_rng(0))


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


# -- the model visits the blocks ---------------------------------------------------------------


def fit_regressor(X, Y, sw=None, **params):
    """An MLPRegressor fitted on ``X``, ``Y`` (and ``sw``) with small defaults."""
    defaults = dict(hidden_layer_sizes=(6,), max_iter=3, batch_size=64, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return cr.MLPRegressor(**{**defaults, **params}).fit(X, Y, sample_weight=sw)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_the_model_visiting_the_blocks_takes_the_steps_of_streaming(cluster_client, solver):
    """Where the blocks are (the model visits them) or here (they are streamed), on the cluster
    or on the threaded scheduler: the same minibatches, the same steps, the same weights."""
    _, (dX, dY, dsw) = indexed_data(n=900, chunks=(100, 170, 130, 250, 250))
    dX, dY = dX / 1000.0, dY / 1000.0  # the index columns, scaled
    fits = {}
    with cluster_client.as_current():
        for visits in (True, False):
            with dask.config.set({"chainrule.visit-blocks": visits}):
                fits[visits] = fit_regressor(dX, dY, dsw, solver=solver)
    fits["threads"] = fit_regressor(dX, dY, dsw, solver=solver)
    for other in (False, "threads"):
        np.testing.assert_array_equal(fits[True].network_.theta, fits[other].network_.theta)
        # the epoch's loss is summed block by block there: equal up to the order of the sum
        np.testing.assert_allclose(fits[True].loss_curve_, fits[other].loss_curve_, rtol=1e-12)
    assert fits[True].t_ == 3 * 900 and fits[True].n_iter_ == 3


def test_classifier_partial_fit_and_early_stopping_visit_as_they_stream(cluster_client):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(700, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    dX, dy = da.from_array(X, chunks=(100, 4)), da.from_array(y, chunks=100)
    dsw = da.from_array(rng.uniform(0.5, 2.0, 700), chunks=100)
    params = dict(hidden_layer_sizes=(8,), batch_size=48, max_iter=4, random_state=0)
    fitted = {}
    with cluster_client.as_current(), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for visits in (True, False):
            with dask.config.set({"chainrule.visit-blocks": visits}):
                stopped = cr.MLPClassifier(**params, early_stopping=True, n_iter_no_change=100)
                stopped.fit(dX, dy, sample_weight=dsw)
                partial = cr.MLPClassifier(**params)
                for _ in range(2):
                    partial.partial_fit(dX, dy, classes=[0, 1, 2])
                fitted[visits] = stopped, partial
    for a, b in zip(fitted[True], fitted[False], strict=True):
        np.testing.assert_array_equal(a.network_.theta, b.network_.theta)
    assert fitted[True][0].validation_scores_ == fitted[False][0].validation_scores_


def test_a_bad_block_met_by_the_visiting_model_is_named(cluster_client):
    X = np.random.default_rng(0).normal(size=(300, 3))
    X[250, 1] = np.nan
    dX, dY = da.from_array(X, chunks=(100, 3)), da.from_array(X[:, 0], chunks=100)
    with cluster_client.as_current(), dask.config.set({"chainrule.visit-blocks": True}):
        with pytest.raises(ValueError, match=r"X holds NaN at row 250, column 1 \(block 2"):
            fit_regressor(dX, dY)


def test_a_visit_that_diverges_keeps_finite_weights(cluster_client):
    X, Y = np.random.default_rng(0).normal(size=(600, 3)), np.random.default_rng(1).normal(size=600)
    dX, dY = da.from_array(X * 1e3, chunks=(100, 3)), da.from_array(Y * 1e3, chunks=100)
    with cluster_client.as_current(), dask.config.set({"chainrule.visit-blocks": True}):
        reg = cr.MLPRegressor(hidden_layer_sizes=(6,), solver="sgd", learning_rate_init=10.0)
        with pytest.warns(TrainingDivergedWarning, match="diverged"):
            reg.fit(dX, dY)
    assert reg.n_iter_ < 10 and np.isfinite(reg.network_.theta).all()


def test_the_model_visits_remote_blocks_smaller_than_it(cluster_client, monkeypatch):
    import chainrule.scale.source as source

    assert visits_pay(200e3, 16e6, elsewhere=True)
    assert not visits_pay(20e6, 16e6, elsewhere=True)  # a model larger than a block stays
    assert not visits_pay(200e3, 16e6, elsewhere=False)  # one machine: copies are cheap
    assert not workers_elsewhere(cluster_client)  # the loopback cluster is on this machine
    visits = []
    original = source.visit_blocks

    def spy(*args, **kwargs):
        visits.append(args[0].net.n_params)
        return original(*args, **kwargs)

    monkeypatch.setattr(source, "visit_blocks", spy)
    X, Y = np.random.default_rng(0).normal(size=(400, 5)), np.random.default_rng(1).normal(size=400)
    dX, dY = da.from_array(X, chunks=(200, 5)), da.from_array(Y, chunks=200)  # 9.6 kB a block
    with cluster_client.as_current():
        fit_regressor(dX, dY, hidden_layer_sizes=(4,), max_iter=1)  # here: the blocks come
        monkeypatch.setattr(source, "workers_elsewhere", lambda client: True)
        fit_regressor(dX, dY, hidden_layer_sizes=(4,), max_iter=1)  # 29 parameters: it visits
        fit_regressor(dX, dY, hidden_layer_sizes=(400,), max_iter=1)  # 2801: blocks come here
    assert visits == [29]
    with cluster_client.as_current(), dask.config.set({"chainrule.visit-blocks": "sometimes"}):
        with pytest.raises(ValueError, match="'auto', True or False"):
            fit_regressor(dX, dY, max_iter=1)


def test_the_scheduler_dask_would_use_decides(cluster_client):
    assert default_client() is None
    with cluster_client.as_current():
        assert default_client() is cluster_client
        with dask.config.set(scheduler="threads"):  # a local scheduler asked for explicitly
            assert default_client() is None


def test_dask_dataframe_input(client):
    pd = pytest.importorskip("pandas")
    (X, Y, _), _ = indexed_data(n=200, weighted=False)
    frame = dd.from_pandas(pd.DataFrame(X, columns=list("abcd")), npartitions=3)
    target = dd.from_pandas(pd.Series(Y[:, 0]), npartitions=3)
    blocks = Blocks.from_dask(frame, target)
    assert blocks.n_samples == 200 and len(blocks) == 3
    rows, _ = visited(minibatches(blocks, 16, np.random.default_rng(0)))
    assert sorted(rows) == list(range(200))


def test_bad_input_is_named():
    with pytest.raises(TypeError, match="X must be a dask array"):
        Blocks.from_dask(np.ones((3, 2)), da.ones(3))
    with pytest.raises(ValueError, match="Y has 4 rows but X has 3"):
        Blocks.from_dask(da.ones((3, 2)), da.ones(4))
    with pytest.raises(TypeError, match="real numbers"):
        Blocks.from_dask(da.from_array(np.array([["a"], ["b"]])), da.ones(2))
    with pytest.raises(ValueError, match="batch_size"):
        next(minibatches(Blocks.from_dask(da.ones((3, 2)), da.ones(3)), 0, None))


# -- distributed cost and gradient for L-BFGS --------------------------------------------------


def regression_problem(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(600, 5))
    Y = np.stack([np.sin(X[:, 0]) + X[:, 1], X[:, 2] * X[:, 3]], axis=1)
    sw = rng.uniform(0.2, 3.0, 600)
    net = cr.Network([5, 8, 2], activation="tanh", alpha=0.05, random_state=seed)
    return net, X, Y, sw


def test_block_objective_equals_in_memory_cost_and_gradient(client):
    net, X, Y, sw = regression_problem()
    sw[100:200] = 0.0  # a block of zero weight adds nothing
    blocks = Blocks.from_dask(da.from_array(X, chunks=(100, 5)), da.from_array(Y), sw)
    objective = BlockObjective(net, blocks)
    assert len(objective.blocks) == 5
    cost, grad = objective(net.theta)
    cost_mem, grad_mem = net.cost_and_gradient(X, Y, sw)
    assert_same_objective((cost, grad), (cost_mem, grad_mem), rounding_bounds(net, X, Y, sw))


def test_block_objective_unweighted_equals_in_memory(client):
    _, X, Y, _ = regression_problem(1)
    net1 = cr.Network([5, 8, 1], activation="tanh", alpha=0.05, random_state=1)
    objective = BlockObjective(net1, Blocks.from_dask(da.from_array(X, chunks=(77, 5)), Y[:, :1]))
    cost, grad = objective(net1.theta)
    cost_mem, grad_mem = net1.cost_and_gradient(X, Y[:, :1])
    assert_same_objective((cost, grad), (cost_mem, grad_mem), rounding_bounds(net1, X, Y[:, :1]))


def test_lbfgs_on_blocks_minimises_the_in_memory_cost(client):
    """scipy's L-BFGS driven by the blocks' objective learns, and wherever it goes the objective
    is the in-memory one within the rounding bound. (The weights after the same number of
    iterations are not compared: the two sums differ in their last bits, and L-BFGS's curvature
    pairs amplify that on a non-convex cost by a factor nothing bounds, as between two BLAS
    builds.)"""
    net, X, Y, sw = regression_problem(2)
    x0 = net.theta.copy()
    objective = BlockObjective(net, Blocks.from_dask(da.from_array(X, chunks=(150, 5)), Y, sw))
    options = {"maxiter": 50, "gtol": 1e-12}
    on_blocks = minimize(objective, x0, jac=True, method="L-BFGS-B", options=options)
    assert on_blocks.nit == 50
    assert on_blocks.fun < 0.5 * objective(x0)[0]  # it learned
    net.theta[...] = on_blocks.x
    in_memory = net.cost_and_gradient(X, Y, sw)
    assert_same_objective(objective(on_blocks.x), in_memory, rounding_bounds(net, X, Y, sw))


def test_all_zero_weights_are_an_error():
    net, X, Y, _ = regression_problem()
    blocks = Blocks.from_dask(da.from_array(X, chunks=(100, 5)), Y, np.zeros(600))
    with pytest.raises(ValueError, match="sums to zero"):
        BlockObjective(net, blocks)


# -- lazy prediction ---------------------------------------------------------------------------


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
