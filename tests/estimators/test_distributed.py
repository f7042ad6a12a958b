"""The estimators on dask input: fit and partial_fit stream blocks, L-BFGS sums blocks on the
workers, predict*/score stay lazy, restarts run as joblib tasks.

Tests run on dask's local threaded scheduler and on a two-process ``LocalCluster``."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

import joblib  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.utils.class_weight import compute_sample_weight  # noqa: E402

from chainrule import MLPClassifier, MLPRegressor  # noqa: E402
from chainrule.engine.select import use_engine  # noqa: E402

from rounding import assert_same_objective, rounding_bounds, starting_objectives  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def classification(n=600, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    sw = rng.uniform(0.5, 2.0, n)
    return X, y, sw


def regression(n=600, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    Y = np.stack([np.sin(X[:, 0]) + X[:, 1], X[:, 2] * X[:, 3]], axis=1)
    return X, Y


def lazy(a, rows=100):
    return da.from_array(a, chunks=(rows, *a.shape[1:]))


# -- fit: the same weights as in memory where it is promised (L-BFGS) ----------------------------


def assert_same_start(seen, X, Y, sw=None) -> None:
    """Both fits started from the same weights, where their costs and gradients agree within
    twice the float64 rounding bound (tests/rounding.py): the blocks compute the in-memory
    objective, summed in another order. The weights after the fits are not compared: L-BFGS
    amplifies a difference in the last bits by a factor nothing bounds."""
    (net, in_memory), (on_dask, from_blocks) = seen
    np.testing.assert_array_equal(on_dask.theta, net.theta)
    assert_same_objective(from_blocks, in_memory, rounding_bounds(net, X, Y, sw))


def test_lbfgs_on_dask_computes_the_in_memory_classifier(client, monkeypatch):
    X, y, sw = classification()
    seen = starting_objectives(monkeypatch)
    params = dict(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=25, random_state=0)
    memory = MLPClassifier(**params).fit(X, y, sample_weight=sw)
    on_dask = MLPClassifier(**params).fit(lazy(X), lazy(y, 150), sample_weight=lazy(sw, 250))
    assert on_dask.n_iter_ == memory.n_iter_ == 25
    np.testing.assert_array_equal(on_dask.classes_, memory.classes_)
    assert_same_start(seen, X, np.eye(3)[y], sw)
    assert on_dask.t_ == memory.t_ == 0  # lbfgs: t_ 0


def test_lbfgs_on_dask_dataframe_computes_the_in_memory_regressor(client, monkeypatch):
    X, Y = regression()
    frame = dd.from_pandas(pd.DataFrame(X, columns=list("abcd")), npartitions=4)
    targets = dd.from_pandas(pd.DataFrame(Y, columns=["u", "v"]), npartitions=4)
    seen = starting_objectives(monkeypatch)
    params = dict(hidden_layer_sizes=(6,), activation="tanh", solver="lbfgs", max_iter=30)
    MLPRegressor(**params, random_state=2).fit(X, Y)
    on_dask = MLPRegressor(**params, random_state=2).fit(frame, targets)
    assert_same_start(seen, X, Y)
    assert list(on_dask.feature_names_in_) == list("abcd")


# -- fit and partial_fit by minibatches -----------------------------------------------------------


def test_adam_streams_dataframe_series_and_weights(client):
    X, y, sw = classification()
    frame = dd.from_pandas(pd.DataFrame(X), npartitions=5)
    labels = dd.from_pandas(pd.Series(y), npartitions=3)
    weights = dd.from_pandas(pd.Series(sw), npartitions=2)
    clf = MLPClassifier(
        hidden_layer_sizes=(16,), max_iter=8, random_state=0, batch_size=64, learning_rate_init=0.01
    )
    clf.fit(frame, labels, sample_weight=weights)
    assert clf.n_iter_ == 8 and clf.t_ == 8 * 600
    assert clf.loss_curve_[-1] < 0.6 * clf.loss_curve_[0]  # it learned
    assert clf.score(X, y) > 0.8


def test_same_seed_same_weights_and_no_shuffle_reads_in_order():
    X, Y = regression()
    params = dict(hidden_layer_sizes=(5,), max_iter=3, random_state=0, batch_size=50)
    a = MLPRegressor(**params).fit(lazy(X), lazy(Y))
    b = MLPRegressor(**params).fit(lazy(X, 70), lazy(Y, 70))  # other blocks: other epochs
    again = MLPRegressor(**params).fit(lazy(X), lazy(Y))
    np.testing.assert_array_equal(a.network_.theta, again.network_.theta)
    assert not np.array_equal(a.network_.theta, b.network_.theta)
    # without shuffling, blocks and rows come in order: the in-memory minibatches exactly
    ordered = {**params, "shuffle": False, "solver": "sgd"}
    memory = MLPRegressor(**ordered).fit(X, Y)
    streamed = MLPRegressor(**ordered).fit(lazy(X, 75), lazy(Y, 75))
    np.testing.assert_allclose(streamed.network_.theta, memory.network_.theta, atol=1e-12)


def test_partial_fit_is_one_pass(client):
    X, y, _ = classification()
    clf = MLPClassifier(hidden_layer_sizes=(8,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(lazy(X), lazy(y))
    clf.partial_fit(lazy(X), lazy(y), classes=[0, 1, 2])
    clf.partial_fit(lazy(X), lazy(y))
    # each call is one epoch (n_iter_ 1, as scikit-learn); t_ counts every sample seen
    assert clf.n_iter_ == 1 and clf.t_ == 1200 and list(clf.classes_) == [0, 1, 2]
    with pytest.raises(ValueError, match=r"labels not in classes: \[7\]"):
        clf.partial_fit(lazy(X), lazy(np.where(y == 2, 7, y)))
    reg = MLPRegressor(hidden_layer_sizes=(4,), random_state=0)
    reg.partial_fit(lazy(X), lazy(X[:, 0]))
    with pytest.raises(AttributeError, match="partial_fit"):  # absent for lbfgs, as scikit-learn
        MLPRegressor(solver="lbfgs").partial_fit(lazy(X), lazy(X[:, 0]))


def test_early_stopping_holds_out_whole_blocks(client):
    X, y, _ = classification(n=900)
    rows = (100, 120, 140, 160, 180, 200)
    dX = da.from_array(X, chunks=(rows, 5))
    clf = MLPClassifier(
        hidden_layer_sizes=(8,), max_iter=6, early_stopping=True, validation_fraction=0.2,
        random_state=0, n_iter_no_change=100,
    )  # fmt: skip
    clf.fit(dX, da.from_array(y, chunks=300))
    per_epoch = clf.t_ // clf.n_iter_
    assert 900 - per_epoch in rows  # the rows trained on: all but one whole block
    assert len(clf.validation_scores_) == 6 and 0 <= clf.best_validation_score_ <= 1
    assert clf.validation_loss_curve_[-1] < clf.validation_loss_curve_[0]


def test_class_weight_on_dask_weighs_as_in_memory(monkeypatch):
    X, y, _ = classification()
    params = dict(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=20, random_state=0)
    for class_weight in ("balanced", {0: 1.0, 1: 3.0, 2: 0.5}):
        seen = starting_objectives(monkeypatch)
        MLPClassifier(**params, class_weight=class_weight).fit(X, y)
        MLPClassifier(**params, class_weight=class_weight).fit(lazy(X), lazy(y))
        sw = compute_sample_weight(class_weight, y)
        assert_same_start(seen, X, np.eye(3)[y], sw)


# -- lazy prediction -----------------------------------------------------------------------------


def test_predictions_are_lazy_and_equal_in_memory(client):
    X, y, sw = classification()
    clf = MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=30, random_state=0)
    clf.fit(X, y)
    dX = lazy(X, 130)
    for method in ("predict", "predict_proba", "predict_log_proba"):
        out = getattr(clf, method)(dX)
        assert isinstance(out, da.Array) and out.chunks[0] == dX.chunks[0]
        np.testing.assert_allclose(out.compute(), getattr(clf, method)(X), rtol=0, atol=1e-12)
    score = clf.score(dX, lazy(y), sample_weight=lazy(sw))
    assert isinstance(score, da.Array)
    assert float(score) == pytest.approx(clf.score(X, y, sample_weight=sw), abs=1e-12)
    X2, Y = regression()
    reg = MLPRegressor(hidden_layer_sizes=(6,), solver="lbfgs", max_iter=20, random_state=0)
    reg.fit(X2, Y)
    np.testing.assert_allclose(reg.predict(lazy(X2)).compute(), reg.predict(X2), atol=1e-12)
    assert float(reg.score(lazy(X2), lazy(Y))) == pytest.approx(reg.score(X2, Y), abs=1e-12)
    one = MLPRegressor(hidden_layer_sizes=(3,), max_iter=5, random_state=0).fit(X2, Y[:, 0])
    assert one.predict(lazy(X2)).shape == (600,)


def test_binary_and_multilabel_on_dask(monkeypatch):
    X, y, _ = classification()
    seen = starting_objectives(monkeypatch)
    params = dict(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=20, random_state=0)
    labels = np.array(["no", "yes"])[(y > 0).astype(int)]
    MLPClassifier(**params).fit(X, labels)
    binary = MLPClassifier(**params)
    binary.fit(lazy(X), da.from_array(labels.astype(object), chunks=100))
    assert list(binary.classes_) == ["no", "yes"]
    # the blocks encode the labels as in memory (one column, 1 for the second class): from the
    # same weights, the same starting cost, a sum of n positive log-losses in another order:
    # within (2n + 8) u of the sum (tests/rounding.py), plus a few roundings per term
    ((net, (in_memory, _)), (on_dask, (from_blocks, _))) = seen
    np.testing.assert_array_equal(on_dask.theta, net.theta)
    u = np.finfo(np.float64).eps / 2
    assert from_blocks == pytest.approx(in_memory, rel=(2 * len(X) + 8 + 16) * u)
    np.testing.assert_array_equal(binary.predict(lazy(X)).compute(), binary.predict(X))
    assert binary.predict_proba(lazy(X)).shape == (600, 2)
    Y = np.stack([y == 1, y == 2, X[:, 3] > 0], axis=1).astype(int)
    multi = MLPClassifier(hidden_layer_sizes=(6,), max_iter=5, random_state=0)
    multi.fit(lazy(X), lazy(Y))
    np.testing.assert_array_equal(multi.predict(lazy(X)).compute(), multi.predict(X))
    assert float(multi.score(lazy(X), lazy(Y))) == pytest.approx(multi.score(X, Y))


# -- restarts as joblib tasks ---------------------------------------------------------------------


def test_n_init_restarts_spread_over_the_cluster(cluster_client):
    X, y, _ = classification(n=300)
    params = dict(hidden_layer_sizes=(4,), max_iter=8, random_state=3, n_init=3)
    here = MLPClassifier(**params).fit(X, y)
    single = MLPClassifier(**{**params, "n_init": 1}).fit(X, y)
    with cluster_client.as_current(), distributed.get_task_stream(cluster_client) as stream:
        with joblib.parallel_config(backend="dask", wait_for_workers_timeout=30):
            spread = MLPClassifier(**params).fit(X, y)
    assert any("run_task" in str(task["key"]) for task in stream.data)  # ran on the workers
    np.testing.assert_array_equal(spread.network_.theta, here.network_.theta)
    assert spread.best_run_ == here.best_run_ and spread.loss_ == here.loss_
    if here.best_run_ == 0:
        np.testing.assert_array_equal(here.network_.theta, single.network_.theta)
    assert here.loss_ <= single.loss_


def restarts_on_dask(params, X, y, *, in_process=False):
    """A fit of ``X``, ``y`` on dask with restarts; ``in_process``: by the in-process loop."""
    from chainrule.estimators.base import BaseMLP

    with pytest.MonkeyPatch.context() as m:
        if in_process:
            m.setattr(BaseMLP, "_restarts_apply", lambda self: False)
        return MLPClassifier(**params).fit(lazy(X, 50), lazy(y, 50))


def held_out_blocks(monkeypatch):
    """The blocks (their keys) each early-stopping split holds out, as the splits are drawn."""
    from chainrule.scale import Blocks

    held, split = [], Blocks.split

    def recording(blocks, fraction, rng):
        train, validation = split(blocks, fraction, rng)
        held.append([str(block.key) for block in validation.X])
        return train, validation

    monkeypatch.setattr(Blocks, "split", recording)
    return held


RESTARTS = dict(hidden_layer_sizes=(3,), max_iter=4, n_init=3, random_state=1)


@pytest.mark.parametrize("early_stopping", [False, True])
def test_n_init_on_dask_input_as_tasks_equals_the_in_process_loop(monkeypatch, early_stopping):
    X, y, _ = classification(n=300)
    params = {**RESTARTS, "early_stopping": early_stopping, "validation_fraction": 0.3}
    held = held_out_blocks(monkeypatch)
    loop = restarts_on_dask(params, X, y, in_process=True)
    assert len(held) == int(early_stopping)
    tasks = restarts_on_dask(params, X, y)
    # the trainer draws the held-out blocks once, before the runs, and hands them to every run
    assert len(held) == 2 * early_stopping and all(h == held[0] for h in held)
    np.testing.assert_array_equal(tasks.network_.theta, loop.network_.theta)
    assert tasks.best_run_ == loop.best_run_ and tasks.loss_curve_ == loop.loss_curve_
    assert getattr(tasks, "validation_scores_", None) == getattr(loop, "validation_scores_", None)
    assert "_split_rng" not in vars(tasks)


def test_n_init_on_dask_input_as_threads_on_a_cluster(cluster_client):
    X, y, _ = classification(n=300)
    params = {**RESTARTS, "early_stopping": True, "random_state": 3}
    with cluster_client.as_current():
        loop = restarts_on_dask(params, X, y, in_process=True)
        assert loop.best_run_ > 0  # a run that held out other blocks would show
        with joblib.parallel_config(backend="threading", n_jobs=2):
            threads = restarts_on_dask(params, X, y)
    np.testing.assert_array_equal(threads.network_.theta, loop.network_.theta)
    assert threads.best_run_ == loop.best_run_
    assert threads.validation_scores_ == loop.validation_scores_


def test_n_init_on_dask_input_as_tasks_on_the_cluster(cluster_client):
    """Under joblib's dask backend each restart is a task on a worker that streams the blocks
    through the worker's client (out of the worker's thread pool while it waits for them: two
    one-thread workers, three restarts, no deadlock)."""
    X, y, _ = classification(n=300)
    params = {**RESTARTS, "early_stopping": True, "random_state": 3}
    with cluster_client.as_current():
        loop = restarts_on_dask(params, X, y, in_process=True)
        assert loop.best_run_ > 0  # a run that held out other blocks would show
        with distributed.get_task_stream(cluster_client) as stream:
            with joblib.parallel_config(backend="dask", wait_for_workers_timeout=30):
                spread = restarts_on_dask(params, X, y)
    assert sum("run_task" in str(task["key"]) for task in stream.data) == 3  # on the workers
    np.testing.assert_array_equal(spread.network_.theta, loop.network_.theta)
    assert spread.best_run_ == loop.best_run_
    assert spread.validation_scores_ == loop.validation_scores_


def test_n_init_on_dask_input_keeps_the_best_run():
    X, y, _ = classification(n=300)
    params = dict(hidden_layer_sizes=(3,), max_iter=5, random_state=1)
    single = MLPClassifier(**params).fit(lazy(X), lazy(y))
    best = MLPClassifier(**params, n_init=3).fit(lazy(X), lazy(y))
    assert best.best_run_ in range(3) and best.loss_ <= single.loss_


# -- bad input ------------------------------------------------------------------------------------


def test_bad_dask_input_is_named():
    X, y, _ = classification()
    bad = X.copy()
    bad[437, 2] = np.nan
    with pytest.raises(ValueError, match=r"X holds NaN at row 437, column 2 \(block 4"):
        MLPClassifier(max_iter=1).fit(lazy(bad), lazy(y))
    with pytest.raises(ValueError, match="only one class"):
        MLPClassifier().fit(lazy(X), lazy(np.zeros(600)))
    with pytest.raises(ValueError, match="continuous"):
        MLPClassifier().fit(lazy(X), lazy(X[:, 0]))
    with pytest.raises(TypeError, match="real numbers"):
        MLPRegressor().fit(da.from_array(X.astype(str)), lazy(y))
    with pytest.raises(ValueError, match="0 samples"):
        MLPRegressor().fit(lazy(X)[:0], lazy(y)[:0])
    with pytest.raises(ValueError, match="checkpoint is not available"):
        MLPRegressor(checkpoint="x.crm").fit(lazy(X), lazy(X[:, 0]))
    with pytest.raises(ValueError, match="scoring='r2' is not available"):
        MLPRegressor(early_stopping=True, scoring="r2").fit(lazy(X), lazy(X[:, 0]))
    counts = np.arange(600.0)
    counts[437] = -1
    with pytest.raises(ValueError, match=r"non-negative targets y; row 437 \(output 0\) is -1"):
        MLPRegressor(loss="poisson", max_iter=1).fit(lazy(X), lazy(counts))
    fitted = MLPRegressor(hidden_layer_sizes=(2,), max_iter=2).fit(X, X[:, 0])
    with pytest.raises(ValueError, match="X has 4 features, but MLPRegressor is expecting 5"):
        fitted.predict(lazy(X[:, :4]))


# -- memory ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_fit_on_dask_larger_than_the_client_may_grow(cluster_client):
    psutil = pytest.importorskip("psutil")
    n, d, bound = 400_000, 100, 60 * 2**20  # 320 MB of data, 60 MiB of client growth allowed
    X = da.random.default_rng(0).normal(size=(n, d), chunks=(10_000, d))
    y = X[:, 0] - X[:, 1] + da.random.default_rng(1).normal(scale=0.1, size=n, chunks=10_000)
    assert X.nbytes > 4 * bound
    params = dict(hidden_layer_sizes=(8,), max_iter=1, random_state=0, batch_size=500)
    with use_engine("compiled"):  # import the compiled engine first: that is not data
        MLPRegressor(**params).fit(np.zeros((1000, d)), np.zeros(1000))
    process, peak, done = psutil.Process(), [0], threading.Event()

    def watch():
        while not done.wait(0.005):
            peak[0] = max(peak[0], process.memory_info().rss)

    with cluster_client.as_current():
        MLPRegressor(**params).fit(X[:20_000], y[:20_000])  # imports and first block: not data
        baseline = process.memory_info().rss
        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                reg = MLPRegressor(**params).fit(X, y)
            prediction = reg.predict(X)
            mean = float(prediction.mean().compute())
        finally:
            done.set()
            watcher.join()
    assert reg.t_ == n and np.isfinite(mean)
    assert peak[0] - baseline < bound


# -- early stopping decided once: the solver with epochs, dask as in memory --------------------


def test_lbfgs_ignores_early_stopping_on_dask_as_in_memory():
    """L-BFGS has no epochs to stop: with ``early_stopping=True`` it trains on every block,
    as in memory (it held out blocks before), so the fit is the one without early stopping."""
    X, Y = regression(n=300)
    params = dict(hidden_layer_sizes=(3,), solver="lbfgs", max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        watched = MLPRegressor(**params, early_stopping=True).fit(lazy(X, 50), lazy(Y, 50))
        plain = MLPRegressor(**params).fit(lazy(X, 50), lazy(Y, 50))
    np.testing.assert_array_equal(watched.network_.theta, plain.network_.theta)
    assert watched.loss_curve_ == plain.loss_curve_


def test_partial_fit_refuses_early_stopping_on_dask_as_in_memory():
    X, y, _ = classification(n=200)
    clf = MLPClassifier(hidden_layer_sizes=(3,), early_stopping=True)
    for data in ((X, y), (lazy(X, 50), lazy(y, 50))):
        with pytest.raises(ValueError, match="partial_fit does not support early_stopping"):
            clf.partial_fit(*data, classes=[0, 1, 2])
