"""The compiled backend (chainrule.engine.compiled, .kernels, .blas) against the reference."""

from __future__ import annotations

import contextlib
import threading
import tracemalloc
import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

import chainrule as cr
import chainrule.engine
from chainrule import MLPClassifier, MLPRegressor
from chainrule.engine import blas, compiled, kernels, select
from chainrule.training import ArraySource, EpochRunner, TrainingRecord

HAVE_NUMBA = select.numba_available()
# "numba-blas": the numba engine with every problem treated as a large one, so that built-in
# networks run kernels.cost_and_gradient with BLAS products (small ones run the epoch kernel)
FAST = ["numba", "numba-blas"]
needs_numba = pytest.mark.skipif(not HAVE_NUMBA, reason="numba is not installed")


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def data(n=150, d=6, k=3, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(dtype)
    y = (X[:, 0] + X[:, 1] ** 2 + 0.3 * rng.normal(size=n) > 0.7).astype(int)
    y = y + (X[:, 2] > 0.5) if k == 3 else y
    return X, y


@contextlib.contextmanager
def training_with(engine: str):
    """Train with ``engine`` (one of ``"reference"`` and FAST) inside the block."""
    with pytest.MonkeyPatch.context() as mp:
        if engine == "numba-blas":
            mp.setattr(compiled, "small_problem", lambda net, batch_size: False)
        with select.use_engine(engine.removesuffix("-blas")):
            yield


def fit(engine, make, X, y, **fit_kw):
    with training_with(engine):
        return make().fit(X, y, **fit_kw)


def assert_same_fit(a, b, rtol, atol=0.0):
    np.testing.assert_allclose(a.network_.theta, b.network_.theta, rtol=rtol, atol=atol)
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=rtol, atol=atol)
    assert a._steps == b._steps and a.n_iter_ == b.n_iter_


CLASSIFIERS = {
    "relu-adam": dict(hidden_layer_sizes=(8,)),
    "relu-relu-adam-alpha": dict(hidden_layer_sizes=(8, 5), alpha=0.01),
    "tanh-sgd-nesterov": dict(hidden_layer_sizes=(7,), activation="tanh", solver="sgd"),
    "logistic-sgd": dict(
        hidden_layer_sizes=(7,), activation="logistic", solver="sgd", nesterovs_momentum=False
    ),
    "identity-adam": dict(hidden_layer_sizes=(4,), activation="identity"),
    "elu-adam (generic layer)": dict(hidden_layer_sizes=(6,), activation="elu"),
    "softplus, binary (generic layer, sigmoid output)": dict(
        hidden_layer_sizes=(6,), activation=["softplus"]
    ),
    "no hidden layer": dict(hidden_layer_sizes=()),
}


@pytest.mark.parametrize("engine", FAST)
@pytest.mark.parametrize("name", list(CLASSIFIERS))
def test_fast_paths_give_the_reference_weights(engine, name):
    X, y = data()
    params = CLASSIFIERS[name]
    if "binary" in name:
        y = y.clip(0, 1)

    def make():
        return MLPClassifier(batch_size=16, max_iter=4, random_state=0, **params)

    ref = fit("reference", make, X, y)
    assert_same_fit(fit(engine, make, X, y), ref, rtol=1e-9, atol=1e-12)


@needs_numba
@pytest.mark.parametrize("name", list(CLASSIFIERS))
def test_built_in_networks_run_one_compiled_call_per_minibatch(name, monkeypatch):
    """On large problems the numba engine computes a built-in network's minibatch in
    kernels.cost_and_gradient (BLAS products); a network with another activation runs the
    reference engine."""
    calls = []
    cost_and_gradient = kernels.cost_and_gradient

    def spy(*args):
        calls.append(args[-1])  # blas
        return cost_and_gradient(*args)

    monkeypatch.setattr(kernels, "cost_and_gradient", spy)
    X, y = data()
    fit("numba-blas", lambda: MLPClassifier(batch_size=16, max_iter=1, **CLASSIFIERS[name]), X, y)
    built_in = "generic" not in name
    assert calls == ([True] * 10 if built_in else [])  # 150 samples: 10 minibatches


@pytest.mark.parametrize("engine", FAST)
@pytest.mark.parametrize("binary", [True, False])
def test_sample_weights_multilabel_and_regression_match(engine, binary):
    X, y = data(k=2 if binary else 3)
    sw = np.random.default_rng(1).uniform(0, 2, size=len(y))
    sw[:20] = 0  # minibatches of zero weight are skipped alike
    Y = np.column_stack([y > 0, X[:, 3] > 0]).astype(int)
    for make, target in [
        (lambda: MLPClassifier((6,), batch_size=10, max_iter=3, random_state=1), y),
        (lambda: MLPClassifier((6,), batch_size=10, max_iter=3, random_state=1), Y),
        (lambda: MLPRegressor(hidden_layer_sizes=(6,), batch_size=10, max_iter=3), X[:, :2]),
        (lambda: MLPRegressor(loss="huber", batch_size=10, max_iter=3, random_state=2), X[:, 0]),
    ]:
        ref = fit("reference", make, X, target, sample_weight=sw)
        fast = fit(engine, make, X, target, sample_weight=sw)
        if isinstance(ref, MLPRegressor) and ref.random_state is None:
            continue  # different initial weights: only checks that it runs
        assert_same_fit(fast, ref, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("engine", FAST)
def test_float32_fast_path_matches_within_float32_rounding(engine):
    X, y = data(dtype=np.float32)

    def make():
        return MLPClassifier((16, 8), batch_size=32, max_iter=1, random_state=0)

    ref = fit("reference", make, X, y)
    fast = fit(engine, make, X, y)
    assert fast.network_.theta.dtype == np.float32
    assert_same_fit(fast, ref, rtol=1e-4, atol=1e-5)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_small_batch_kernel_matches_the_large_batch_path(dtype):
    """The compiled whole-epoch kernel (small problems) against the BLAS path (large ones),
    forced onto the same problem."""
    X, y = data(n=200, dtype=dtype)

    def make():
        return MLPClassifier((12, 6), batch_size=8, max_iter=3, alpha=0.01, random_state=0)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(compiled, "small_problem", lambda net, batch_size: False)
        large = fit("numba", make, X, y)
    small = fit("numba", make, X, y)
    assert small.network_.theta.dtype == dtype
    tol = dict(rtol=1e-9, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
    assert_same_fit(small, large, **tol)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "make",
    [
        lambda: cr.Adam(0.01),
        lambda: cr.Momentum(0.1, 0.9),
        lambda: cr.Momentum(0.1, 0.8, nesterov=True),
    ],
)
def test_fused_optimizer_steps_are_the_numpy_steps(make, dtype):
    """The compiled backend finds each optimizer's fused step by its name; it is the pure
    update rule of chainrule.optimizers, bit for bit up to rounding."""
    rng = np.random.default_rng(0)
    theta = rng.normal(size=1000).astype(dtype)
    grads = [rng.normal(size=1000).astype(dtype) for _ in range(5)]
    results = {}
    for fused in (False, True):
        opt, th = make(), theta.copy()
        step = compiled.fused_step(opt, th) if fused else opt.step
        assert (step == opt.step) is not fused
        for g in grads:
            step(th, g)
        results[fused] = th
        assert th.dtype == dtype
    np.testing.assert_allclose(
        results[True], results[False], rtol=2e-7 if dtype == np.float32 else 1e-15
    )


def test_gradient_descent_has_a_fused_step_too():
    opt, theta = cr.GradientDescent(0.5), np.array([1.0, 2.0])
    compiled.fused_step(opt, theta)(theta, np.array([2.0, -2.0]))
    np.testing.assert_array_equal(theta, [0.0, 3.0])


def test_float32_stays_float32_end_to_end():
    X, y = data(dtype=np.float32)
    for engine in ["reference", *FAST]:
        clf = fit(engine, lambda: MLPClassifier((8,), batch_size=16, max_iter=2), X, y)
        net = clf.network_
        assert net.dtype == np.float32 and net.theta.dtype == np.float32
        assert all(W.dtype == np.float32 for W in clf.coefs_)
        opt = clf._record.optimizer
        assert opt.m.dtype == np.float32 and opt.v.dtype == np.float32
        assert clf.predict_proba(X).dtype == np.float32
        assert np.isfinite(clf.loss_)
        # the buffers do not outlive the fit
        assert not any(isinstance(v, compiled.CompiledBackend) for v in vars(clf).values())


@pytest.mark.parametrize("dtype", [None, "float64"])
def test_fit_makes_no_copy_of_float32_data(dtype):
    """A float32, C-contiguous X is trained on in place: minibatches are gathered into small
    buffers (and, with dtype="float64", cast one minibatch at a time), so a fit allocates far
    less than the data."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20000, 100)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    clf = MLPClassifier((64,), batch_size=200, max_iter=1, dtype=dtype)
    clf.fit(X, y)  # compile and import everything first (a fit this long loads numba)
    tracemalloc.start()
    try:
        clf.fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert clf.network_.dtype == (np.float64 if dtype else np.float32)
    assert peak < 0.5 * X.nbytes


def test_sparse_and_mismatched_dtypes_take_the_reference_path():
    X, y = data()
    Xs = sparse.csr_matrix(np.where(np.abs(X) > 1, X, 0))

    def make():
        return MLPClassifier((6,), batch_size=16, max_iter=2, random_state=0)

    ref = fit("reference", make, Xs, y)
    for engine in FAST:
        assert_same_fit(fit(engine, make, Xs, y), ref, rtol=1e-12)


@pytest.mark.parametrize("engine", FAST)
def test_partial_fit_and_warm_start_match(engine):
    X, y = data()
    models = {}
    for eng in ("reference", engine):
        with training_with(eng):
            clf = MLPClassifier((6,), batch_size=16, random_state=0)
            for _ in range(3):
                clf.partial_fit(X, y, classes=[0, 1, 2])
            clf.set_params(warm_start=True, max_iter=2).fit(X, y)
        models[eng] = clf
    assert_same_fit(models[engine], models["reference"], rtol=1e-9, atol=1e-12)


def test_engine_selection(monkeypatch):
    monkeypatch.setenv("CHAINRULE_ENGINE", "reference")
    assert select.engine() == "reference"
    with select.use_engine("numba"):
        assert select.engine() == "numba"
    monkeypatch.setenv("CHAINRULE_ENGINE", "fortran")
    with pytest.raises(ValueError, match="unknown engine"):
        select.engine()
    with pytest.raises(ValueError, match="unknown engine"), select.use_engine("cuda"):
        pass
    monkeypatch.delenv("CHAINRULE_ENGINE")
    assert select.engine() == "numba"


@pytest.mark.parametrize("engine", ["reference", *FAST])
@pytest.mark.parametrize("small", [True, False])
def test_float64_from_float32_data_is_float64_from_float64_data(engine, small):
    """dtype="float64" keeps float32 X as it is and casts each minibatch: the same fit as
    float64 data (the cast is exact), on every path (the whole-epoch kernel, the engine)."""
    X, y = data(n=200, dtype=np.float32)
    sw = np.random.default_rng(2).uniform(0.5, 2, size=len(y))

    def make():
        return MLPClassifier(
            (12, 6), batch_size=8, max_iter=3, alpha=0.01, random_state=0, dtype="float64"
        )

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(compiled, "small_problem", lambda net, batch_size: small)
        from32 = fit(engine, make, X, y, sample_weight=sw)
        from64 = fit(engine, make, X.astype(np.float64), y, sample_weight=sw)
    assert from32.network_.theta.dtype == np.float64
    np.testing.assert_array_equal(from32.network_.theta, from64.network_.theta)
    assert from32.loss_curve_ == from64.loss_curve_
    proba = from32.predict_proba(X)
    assert proba.dtype == np.float64
    np.testing.assert_array_equal(proba, from64.predict_proba(X.astype(np.float64)))
    ref = fit("reference", make, X.astype(np.float64), y, sample_weight=sw)
    assert_same_fit(from32, ref, rtol=1e-9, atol=1e-12)


def test_float64_from_float32_strided_and_sparse_input():
    """Float32 input that the compiled gather does not take (Fortran order, sparse) with
    dtype="float64" gives the float64 fit, on the reference engine."""
    X, y = data(dtype=np.float32)
    X[np.abs(X) < 0.5] = 0

    def make(**kw):
        return MLPClassifier((6,), batch_size=16, max_iter=2, random_state=0, **kw)

    ref = fit("reference", make, X.astype(np.float64), y)
    X_strided = np.asfortranarray(X)  # not C-contiguous: the reference engine
    for engine in FAST:
        for data32 in (X, X_strided, sparse.csr_matrix(X)):
            got = fit(engine, lambda: make(dtype="float64"), data32, y)
            assert got.network_.dtype == np.float64
            assert_same_fit(got, ref, rtol=1e-9, atol=1e-12)
    lbfgs = MLPClassifier((6,), solver="lbfgs", max_iter=5, random_state=0, dtype="float64")
    assert lbfgs.fit(X, y).network_.dtype == np.float64


@pytest.mark.parametrize("engine", FAST)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unshuffled_minibatches_are_read_in_place_and_match(engine, dtype):
    """shuffle=False: the minibatches are slices of X read in place, not gathered copies."""
    X, y = data(n=203, dtype=dtype)  # a last, shorter minibatch

    def make():
        return MLPClassifier(
            (16, 8), batch_size=16, max_iter=3, alpha=1e-3, shuffle=False, random_state=0
        )

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(compiled, "small_problem", lambda net, batch_size: False)
        fast = fit(engine, make, X, y)
    ref = fit("reference", make, X, y)
    tol = dict(rtol=1e-9, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
    assert fast.network_.theta.dtype == dtype
    assert_same_fit(fast, ref, **tol)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_backward_kernels_are_the_numpy_lines(dtype):
    rng = np.random.default_rng(0)
    W = rng.normal(size=(37, 53)).astype(dtype)
    dW = rng.normal(size=W.shape).astype(dtype)
    c = dtype(1e-3)
    expected = dW + W * c
    got = dW.copy()
    sumsq = kernels.add_scaled_sumsq(got, W, c)
    np.testing.assert_array_equal(got, expected)  # the update itself is exact
    np.testing.assert_allclose(sumsq, np.vdot(W.astype(np.float64), W), rtol=1e-12)
    D = rng.normal(size=(29, 53)).astype(dtype)
    T = (rng.random(size=D.shape) > 0.5).astype(dtype)
    db = np.empty(53, dtype=dtype)
    masked = D * T
    kernels.mask_colsum(D, T, db)
    np.testing.assert_array_equal(D, masked)
    rtol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(db, masked.sum(axis=0), rtol=rtol, atol=rtol)
    Xs = rng.normal(size=(40, 7)).astype(np.float32)
    Ys = rng.normal(size=(40, 3)).astype(dtype)
    sw = rng.uniform(size=40).astype(dtype)
    idx = np.array([5, 0, 39, 5])
    Xb, Yb, w = np.empty((4, 7), dtype), np.empty((4, 3), dtype), np.empty(4, dtype)
    n_b = kernels.gather_minibatch(Xs, Ys, sw, idx, Xb, Yb, w)
    np.testing.assert_array_equal(Xb, Xs[idx].astype(dtype))
    np.testing.assert_array_equal(Yb, Ys[idx])
    np.testing.assert_allclose(n_b, sw[idx].sum(), rtol=1e-6)
    np.testing.assert_allclose(w, sw[idx] / sw[idx].sum(), rtol=1e-6)


@needs_numba
def test_the_compiled_products_call_numpys_blas():
    """The kernels' products go to the cblas gemm of numpy's own BLAS (one thread pool with
    numpy's products), found in numpy's PyPI wheels; elsewhere to numba's np.dot."""
    from llvmlite import binding

    for letter in "sd":
        numpys = blas.numpy_cblas_gemm(letter)
        used = binding.address_of_symbol(f"chainrule_cblas_{letter}gemm")
        library = np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
        if library == "scipy-openblas":  # numpy's wheels
            assert numpys is not None
        assert used == (numpys or used)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemm_products_and_their_fallback(dtype):
    """blas.gemm and the np.dot fallback compute op(A) op(B) for every transposition."""
    fallback = blas.gemm_by_numba(dtype).ctypes
    rng = np.random.default_rng(0)
    M, N, K = 5, 3, 7
    for ta in (blas.NO_TRANS, blas.TRANS):
        for tb in (blas.NO_TRANS, blas.TRANS):
            A = rng.normal(size=(M, K) if ta == blas.NO_TRANS else (K, M)).astype(dtype)
            B = rng.normal(size=(K, N) if tb == blas.NO_TRANS else (N, K)).astype(dtype)
            expected = (A if ta == blas.NO_TRANS else A.T) @ (B if tb == blas.NO_TRANS else B.T)
            C = np.empty((M, N), dtype=dtype)
            blas.gemm(ta, tb, A, B, C)
            np.testing.assert_allclose(C, expected, rtol=1e-5 if dtype == np.float32 else 1e-12)
            C2 = np.full((M, N), np.nan, dtype=dtype)
            pointers = [X.ctypes.data for X in (A, B, C2)]
            fallback(101, ta, tb, M, N, K, 1, pointers[0], A.shape[1], pointers[1], B.shape[1],
                     0, pointers[2], N)  # fmt: skip
            np.testing.assert_allclose(C2, expected, rtol=1e-5 if dtype == np.float32 else 1e-12)


# -- the minibatch gathered on a worker thread (CompiledBackend.prefetched) ----------------------


def gather_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("chainrule-gather")]


@pytest.fixture
def prefetching(monkeypatch):
    """Every shuffled epoch of the numba engine gathers on the worker thread (not only large
    problems with a core left idle); counts the epochs that did."""
    epochs = []
    prefetched = compiled.CompiledBackend.prefetched

    def spy(self, *args):
        epochs.append(self)
        return prefetched(self, *args)

    monkeypatch.setattr(compiled, "small_problem", lambda net, batch_size: False)
    monkeypatch.setattr(compiled, "prefetch_pays", lambda batch_size, X: True)
    monkeypatch.setattr(compiled.CompiledBackend, "prefetched", spy)
    return epochs


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_prefetched_minibatches_give_the_same_fit(prefetching, monkeypatch, dtype):
    """Gathering minibatch k + 1 on a worker thread during step k gives the weights of the
    inline gather bit for bit (the same rows, copied by the same kernel), so the reference's;
    float32 data with dtype="float64" is cast as it is gathered there too."""
    X, y = data(n=203, dtype=np.float32)  # a last, shorter minibatch
    sw = np.random.default_rng(2).uniform(0.5, 2, size=len(y))
    sw[:40] = 0  # some minibatches may have no weight

    def make():
        return MLPClassifier(
            (12, 6), batch_size=16, max_iter=3, alpha=0.01, random_state=0, dtype=dtype
        )

    threads = threading.active_count()
    prefetched = fit("numba", make, X, y, sample_weight=sw)
    assert len(prefetching) == 3 and threading.active_count() == threads
    assert not gather_threads()
    monkeypatch.setattr(compiled, "prefetch_pays", lambda batch_size, X: False)
    inline = fit("numba", make, X, y, sample_weight=sw)
    assert len(prefetching) == 3
    np.testing.assert_array_equal(prefetched.network_.theta, inline.network_.theta)
    assert prefetched.loss_curve_ == inline.loss_curve_
    ref = fit("reference", make, X.astype(dtype), y, sample_weight=sw)
    tol = dict(rtol=1e-9, atol=1e-12) if dtype == "float64" else dict(rtol=1e-4, atol=1e-5)
    assert_same_fit(prefetched, ref, **tol)


@needs_numba
@pytest.mark.parametrize("stop", ["KeyboardInterrupt", "divergence", "error"])
def test_a_stopped_fit_leaves_no_gather_thread(prefetching, monkeypatch, stop):
    """The worker is joined however the epoch ends: Ctrl-C, a diverged step, an exception."""
    X, y = data(n=200)
    clf = MLPClassifier((8,), batch_size=16, max_iter=5, random_state=0)
    original = EpochRunner._step
    calls = {"n": 0}

    def step(self, step, cost, record):
        calls["n"] += 1
        if calls["n"] == 20:  # in the second epoch, with the next minibatch being gathered
            assert len(gather_threads()) == 1
            if stop == "KeyboardInterrupt":
                raise KeyboardInterrupt
            if stop == "error":
                raise RuntimeError("boom")
            cost = float("nan")
        return original(self, step, cost, record)

    monkeypatch.setattr(EpochRunner, "_step", step)
    with select.use_engine("numba"):
        if stop == "error":
            with pytest.raises(RuntimeError, match="boom"):
                clf.fit(X, y)
        else:
            with pytest.warns(UserWarning, match="interrupted" if stop[0] == "K" else "diverged"):
                clf.fit(X, y)
            assert clf.n_iter_ == 1
    assert len(prefetching) == 2 and not gather_threads()


def test_prefetch_only_where_it_pays():
    """Only minibatches of 64k values or more, of C-contiguous data, with the compiled gather
    and a core the BLAS leaves idle."""
    X = np.zeros((300, 784), dtype=np.float32)
    Y = np.zeros((300, 10), dtype=np.float32)
    spare_core = compiled.cores() > 1
    with threadpool_limits(1, user_api="blas"):
        assert compiled.prefetch_pays(256, X) == spare_core
        assert not compiled.prefetch_pays(64, X)  # 50k values
    with threadpool_limits(compiled.cores(), user_api="blas"):
        assert not compiled.prefetch_pays(256, X) or compiled.blas_threads() < compiled.cores()
    # data the compiled gather does not take never reaches it: Fortran order, sparse
    sw = np.ones(300, dtype=np.float32)
    assert ArraySource(X, Y, sw, 256, True).dense(np.float32) is not None
    assert ArraySource(np.asfortranarray(X), Y, sw, 256, True).dense(np.float32) is None
    assert ArraySource(sparse.csr_matrix(X), Y, sw, 256, True).dense(np.float32) is None
    net = cr.Network([784, 10], dtype=np.float32)
    with select.use_engine("reference"):
        assert select.compiled_backend(net, 256) is None
    with select.use_engine("numba"):
        assert select.compiled_backend(net, 256) is not None


# -- every built-in pair, both dtypes: the compiled backend held to the reference engine -------

PAIRS = [
    ("identity", "squared_error"),
    ("softmax", "categorical_cross_entropy"),
    ("sigmoid", "binary_cross_entropy"),
]


def train_network(engine, hidden, output, cost, dtype, small):
    """Four epochs of Adam with L2 on a built-in network, through the training loop."""
    from conftest import make_targets

    rng = np.random.default_rng(3)
    X = rng.normal(size=(90, 5)).astype(dtype)
    Y = make_targets(cost, 90, 3, rng).astype(dtype)
    sw = rng.uniform(0.5, 2.0, size=90).astype(dtype)
    net = cr.Network(
        [5, 7, 4, 3], activation=hidden, output_activation=output, cost=cost, alpha=0.01,
        dtype=dtype, random_state=0,
    )  # fmt: skip
    source = ArraySource(X, Y, sw, batch_size=16, shuffle=True)
    record = TrainingRecord(monitor=None, rng=np.random.default_rng(0), optimizer=cr.Adam(0.01))
    with pytest.MonkeyPatch.context() as mp, select.use_engine(engine):
        mp.setattr(compiled, "small_problem", lambda net, batch_size: small)
        runner = EpochRunner(net, source)
        assert (runner.backend is not None) == (engine == "numba")
        losses = [runner.run(record.optimizer, record) for _ in range(4)]
    return net.theta, losses


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("output, cost", PAIRS)
@pytest.mark.parametrize("hidden", list(compiled.HIDDEN_CODES))
@pytest.mark.parametrize("small", [True, False])
def test_every_built_in_pair_matches_the_reference(hidden, output, cost, dtype, small):
    ref_theta, ref_losses = train_network("reference", hidden, output, cost, dtype, small)
    theta, losses = train_network("numba", hidden, output, cost, dtype, small)
    tol = dict(rtol=1e-9, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(theta, ref_theta, **tol)
    np.testing.assert_allclose(losses, ref_losses, **tol)


def test_without_numba_training_falls_back_to_the_reference_engine_and_says_so_once(
    monkeypatch,
):
    """Where numba cannot be imported, chainrule warns once and trains on the reference (a
    fit asks for numba at once when the numba engine is chosen, else once it is long)."""
    import sys

    X, y = data()
    ref = fit("reference", lambda: MLPClassifier((6,), max_iter=2, random_state=0), X, y)
    select.forget_compiled()
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba raises ImportError
    for name in ("compiled", "kernels", "blas"):  # imported afresh, without numba
        monkeypatch.delitem(sys.modules, f"chainrule.engine.{name}")
        monkeypatch.delattr(chainrule.engine, name, raising=False)
    try:
        with (
            pytest.warns(select.EngineFallbackWarning, match="numba cannot be imported"),
            select.use_engine("numba"),
        ):
            first = MLPClassifier((6,), max_iter=2, random_state=0).fit(X, y)
        with warnings.catch_warnings():
            warnings.simplefilter("error", select.EngineFallbackWarning)  # not a second time
            second = MLPClassifier((6,), max_iter=2, random_state=0).fit(X, y)
            assert select.engine() == "reference"
    finally:
        select.forget_compiled()
    for model in (first, second):
        np.testing.assert_allclose(model.network_.theta, ref.network_.theta, rtol=1e-12)
