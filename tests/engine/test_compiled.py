"""The compiled engine (chainrule.engine.compiled around the extension native) against the
reference engine, through the estimators and the training loop."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import tracemalloc
import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning

import chainrule as cr
import chainrule.engine
from chainrule import MLPClassifier, MLPRegressor
from chainrule.engine import compiled, select
from chainrule.training import ArraySource, EpochRunner, TrainingRecord

native = compiled.native  # the build of the extension this CPU runs (test_native_avx2.py)

FAST = ["compiled"]


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


def fit(engine, make, X, y, **fit_kw):
    with select.use_engine(engine):
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


@pytest.mark.parametrize("name", list(CLASSIFIERS))
def test_every_built_in_network_runs_an_epoch_in_one_compiled_call(name, monkeypatch):
    """From the first step and whatever its size, a fit of a built-in network (every
    activation here is one) runs each epoch in one call to the extension."""
    calls = []
    epoch = native.epoch

    def spy(*args):
        calls.append(args[8])  # the optimizer's rule
        return epoch(*args)

    monkeypatch.setattr(native, "epoch", spy)
    X, y = data()
    fit("compiled", lambda: MLPClassifier(batch_size=16, max_iter=2, **CLASSIFIERS[name]), X, y)
    assert (
        calls == ["adam", "adam"]
        if "sgd" not in name
        else calls
        in (
            ["nesterov"] * 2,
            ["momentum"] * 2,
        )
    )


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
    clf.fit(X, y)  # import everything first
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
        with select.use_engine(eng):
            clf = MLPClassifier((6,), batch_size=16, random_state=0)
            for _ in range(3):
                clf.partial_fit(X, y, classes=[0, 1, 2])
            clf.set_params(warm_start=True, max_iter=2).fit(X, y)
        models[eng] = clf
    assert_same_fit(models[engine], models["reference"], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("engine", ["reference", *FAST])
def test_float64_from_float32_data_is_float64_from_float64_data(engine):
    """dtype="float64" keeps float32 X as it is and casts each minibatch: the same fit as
    float64 data (the cast is exact), on every path (the whole-epoch kernel, the engine)."""
    X, y = data(n=200, dtype=np.float32)
    sw = np.random.default_rng(2).uniform(0.5, 2, size=len(y))

    def make():
        return MLPClassifier(
            (12, 6), batch_size=8, max_iter=3, alpha=0.01, random_state=0, dtype="float64"
        )

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
def test_unshuffled_minibatches_match(engine, dtype):
    X, y = data(n=203, dtype=dtype)  # a last, shorter minibatch

    def make():
        return MLPClassifier(
            (16, 8), batch_size=16, max_iter=3, alpha=1e-3, shuffle=False, random_state=0
        )

    fast = fit(engine, make, X, y)
    ref = fit("reference", make, X, y)
    tol = dict(rtol=1e-9, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
    assert fast.network_.theta.dtype == dtype
    assert_same_fit(fast, ref, **tol)


# -- every built-in activation and cost, both dtypes: the kernels held to the reference ----------

HIDDEN = [name for name in native.ACTIVATIONS if name != "softmax"]
#: (output activation, cost): the canonical pairs, then pairs through dC/da^L o sigma'(z^L)
OUTPUTS = [
    ("identity", "squared_error"),
    ("softmax", "categorical_cross_entropy"),
    ("sigmoid", "binary_cross_entropy"),
    ("exponential", "poisson"),
    ("identity", "huber"),
    ("identity", "absolute_error"),
    ("tanh", "squared_error"),
    ("softmax", "squared_error"),
    ("sigmoid", "categorical_cross_entropy"),
    ("softplus", "poisson"),
    ("sigmoid", "squared_error"),
]


def network(hidden, output, cost, dtype, alpha=0.01, sizes=(5, 7, 4, 3)):
    """A network with nonzero biases: a new one's b^m are 0, and would hide a kernel that adds
    b^m wrongly or not at all. Small ones, N(0, 0.1^2), so that z^m stays O(1) as
    :func:`reorder_bound` assumes: two exponential layers raise e to e^z, and their rounding
    grows with |z| (with N(0, 0.5^2) biases, float32 gradients stray 13x that bound)."""
    net = cr.Network(
        list(sizes), activation=hidden, output_activation=output, cost=cost, alpha=alpha,
        dtype=dtype, random_state=0,
    )  # fmt: skip
    rng = np.random.default_rng(3)
    for b in net.b:
        b[...] = rng.normal(scale=0.1, size=b.shape)
    return net


def problem(cost, n, dtype, rng):
    from conftest import make_targets

    X = rng.normal(size=(n, 5)).astype(dtype)
    Y = make_targets(cost, n, 3, rng).astype(dtype)
    return X, Y, rng.uniform(0.5, 2.0, size=n).astype(dtype)


def reorder_bound(dtype, terms: int) -> float:
    """How far two orders of the same sums of ``terms`` O(1) products may round apart,
    relative to the largest value: ``terms`` roundings of ``eps`` each, on both sides, through
    the network's three layers (each elementwise function of the kernels is computed in double
    precision and rounded once, within that)."""
    return 2 * 3 * terms * float(np.finfo(dtype).eps)


def assert_minibatch_is_the_reference(net, n: int, terms: int) -> None:
    """The compiled cost and gradient of ``n`` rows against the reference engine's, within
    :func:`reorder_bound` of the longest sum, ``terms``."""
    dtype = net.dtype.type
    X, Y, sw = problem(net.cost_function.name, n, dtype, np.random.default_rng(1))
    n_b = float(sw.sum())
    w = sw / dtype(n_b)
    expected = np.empty_like(net.theta)
    ref_cost, _ = net.batch_cost_and_gradient(X, Y, w, n_b, expected)
    backend = compiled.CompiledBackend.for_network(net, n)
    assert backend is not None  # every built-in activation and cost is compiled
    got = np.full_like(net.theta, np.nan)
    got_cost = backend.cost_and_gradient((X, Y, w, n_b), got)
    bound = reorder_bound(dtype, terms)
    np.testing.assert_allclose(got_cost, ref_cost, rtol=bound)
    np.testing.assert_allclose(got, expected, rtol=0, atol=bound * np.abs(expected).max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("output, cost", OUTPUTS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_one_minibatch_is_the_reference_cost_and_gradient(hidden, output, cost, dtype):
    assert_minibatch_is_the_reference(network(hidden, output, cost, dtype), 23, 23)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n, pieces", [(90, 2), (201, 3), (333, 5)])
def test_products_cut_into_pieces_of_rows_are_the_reference(n, pieces, dtype):
    """A weight gradient over 1e6 multiply-adds (here W^2's, 40 x 300 a row) is summed over
    pieces of the rows, and delta^1 made a piece at a time (for BLAS's small-matrix kernels):
    ``pieces`` of them, of at most 1e6 // 12000 = 83 rows, the last one shorter, give the
    reference's gradient."""
    sizes = (5, 300, 40, 3)
    assert pieces == -(-n // (10**6 // (sizes[1] * sizes[2])))  # the products are cut
    net = network("tanh", "softmax", "categorical_cross_entropy", dtype, sizes=sizes)
    assert_minibatch_is_the_reference(net, n, max(n, 300))


def test_sigmoid_slopes_and_huber_deltas_are_compiled_too():
    for hidden, output, cost in [
        (cr.get_activation({"name": "sigmoid", "beta": 2.5}), "sigmoid", "binary_cross_entropy"),
        ("tanh", cr.get_activation({"name": "sigmoid", "beta": 0.5}), "binary_cross_entropy"),
        ("relu", "identity", cr.get_cost({"name": "huber", "delta": 0.3})),
    ]:
        net = network(hidden, output, cost, np.float64, alpha=0.0)
        X, Y, sw = problem(net.cost_function.name, 17, np.float64, np.random.default_rng(2))
        expected, got = np.empty_like(net.theta), np.empty_like(net.theta)
        ref_cost, _ = net.batch_cost_and_gradient(X, Y, sw / sw.sum(), sw.sum(), expected)
        got_cost = compiled.CompiledBackend.for_network(net, 17).cost_and_gradient(
            (X, Y, sw / sw.sum(), sw.sum()), got
        )
        bound = reorder_bound(np.float64, 17)
        np.testing.assert_allclose(got_cost, ref_cost, rtol=bound)
        np.testing.assert_allclose(got, expected, rtol=0, atol=bound * np.abs(expected).max())


def test_user_activations_and_costs_stay_on_the_reference_engine():
    square = cr.Activation("square", lambda z: z * z, lambda z: 2 * z)
    assert compiled.layout(network(square, "identity", "squared_error", np.float64)) is None
    relu = cr.get_activation("relu")
    relu.function = lambda z: np.maximum(z, 0.0) * 1.5  # no longer the built-in relu
    assert compiled.layout(network(relu, "identity", "squared_error", np.float64)) is None
    cube = cr.Cost(
        "squared_error", lambda y, a: ((a - y) ** 3).sum(1), lambda y, a: 3 * (a - y) ** 2
    )
    assert compiled.layout(network("relu", "identity", cube, np.float64)) is None


def train_network(engine, hidden, output, cost, dtype, optimizer, max_grad_norm=None):
    """Four epochs with L2 and sample weights on a network, through the training loop."""
    rng = np.random.default_rng(3)
    X, Y, sw = problem(cost, 90, dtype, rng)
    net = network(hidden, output, cost, dtype)
    source = ArraySource(X, Y, sw, batch_size=16, shuffle=True)
    record = TrainingRecord(monitor=None, rng=np.random.default_rng(0), optimizer=optimizer)
    with select.use_engine(engine):
        runner = EpochRunner(net, source, max_grad_norm)
        assert isinstance(runner.backend, compiled.CompiledBackend) == (engine == "compiled")
        losses = [runner.run(record.optimizer, record) for _ in range(4)]
    return net.theta, losses, record.steps


OPTIMIZERS = {
    "adam": lambda: cr.Adam(0.01),
    "momentum": lambda: cr.Momentum(0.01, 0.9),
    "nesterov": lambda: cr.Momentum(0.01, 0.8, nesterov=True),
    "gradient_descent": lambda: cr.GradientDescent(0.02),
}
#: four epochs of steps: the float32 kernels' elementwise functions round once from double
#: where NumPy's float32 functions round their own way, ~eps32 a step, amplified by the steps
TRAINED = {np.float64: dict(rtol=1e-9, atol=1e-12), np.float32: dict(rtol=2e-4, atol=2e-5)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("output, cost", OUTPUTS[:4])
# exponential hidden layers overflow within these steps (on either engine); the minibatch test
# above holds their kernels to the reference
@pytest.mark.parametrize("hidden", [name for name in HIDDEN if name != "exponential"])
def test_every_built_in_network_trains_as_the_reference(hidden, output, cost, optimizer, dtype):
    make = OPTIMIZERS[optimizer]
    ref = train_network("reference", hidden, output, cost, dtype, make())
    got = train_network("compiled", hidden, output, cost, dtype, make())
    np.testing.assert_allclose(got[0], ref[0], **TRAINED[dtype])
    np.testing.assert_allclose(got[1], ref[1], **TRAINED[dtype])
    assert got[2] == ref[2]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clipped_gradients_train_as_the_reference(dtype):
    args = ("tanh", "softmax", "categorical_cross_entropy", dtype)
    ref = train_network("reference", *args, cr.Adam(0.01), max_grad_norm=0.05)
    got = train_network("compiled", *args, cr.Adam(0.01), max_grad_norm=0.05)
    unclipped = train_network("compiled", *args, cr.Adam(0.01))
    np.testing.assert_allclose(got[0], ref[0], **TRAINED[dtype])
    assert not np.allclose(got[0], unclipped[0], **TRAINED[dtype])  # the clip did something


def test_an_optimizer_without_a_compiled_rule_steps_on_compiled_gradients():
    class Halving(cr.GradientDescent):
        name = "halving"  # a rule of its own: no compiled form

        def step(self, theta, grad):
            theta -= 0.5 * self.learning_rate * grad

    args = ("relu", "identity", "squared_error", np.float64)
    ref = train_network("reference", *args, Halving(0.1))
    got = train_network("compiled", *args, Halving(0.1))
    np.testing.assert_allclose(got[0], ref[0], **TRAINED[np.float64])
    assert got[2] == ref[2]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_compiled_gather_casts_and_weights_the_rows(dtype):
    rng = np.random.default_rng(0)
    Xs = rng.normal(size=(40, 7)).astype(np.float32)
    Ys = rng.normal(size=(40, 3)).astype(dtype)
    sw = rng.uniform(size=40).astype(dtype)
    idx = np.array([5, 0, 39, 5], dtype=np.intp)
    Xb, Yb, w = np.empty((4, 7), dtype), np.empty((4, 3), dtype), np.empty(4, dtype)
    n_b = native.gather_minibatch(Xs, Ys, sw, idx, Xb, Yb, w)
    np.testing.assert_array_equal(Xb, Xs[idx].astype(dtype))  # float32 -> float64 is exact
    np.testing.assert_array_equal(Yb, Ys[idx])
    # n_b summed in double from the dtype's values; w one division each in the dtype
    np.testing.assert_allclose(n_b, sw[idx].astype(np.float64).sum(), rtol=4 * 2.0**-53)
    np.testing.assert_array_equal(w, sw[idx] / dtype(n_b))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_optimizer_steps_are_the_numpy_steps_bit_for_bit(dtype):
    """The compiled update of each rule rounds as chainrule.optimizers' NumPy lines do."""
    rng = np.random.default_rng(0)
    theta = rng.normal(size=1000).astype(dtype)
    grads = [rng.normal(size=1000).astype(dtype) for _ in range(5)]
    for make in OPTIMIZERS.values():
        results = []
        for fused in (False, True):
            opt, th = make(), theta.copy()
            step = compiled.fused_step(opt, th) if fused else opt.step
            for g in grads:
                step(th, g)
            results.append(th)
        np.testing.assert_array_equal(results[1], results[0])


# -- what the extension promises: no threshold, the GIL released, Ctrl-C, a fallback -------------


def test_a_fit_gives_the_same_weights_in_a_new_process_and_a_warm_one():
    script = """
import numpy as np
from sklearn.datasets import load_digits
from chainrule import MLPClassifier
X, y = load_digits(return_X_y=True)
def weights():
    clf = MLPClassifier((16,), max_iter=2, random_state=0).fit(X / 16, y)
    return clf.network_.theta
first = weights()
for _ in range(2):
    MLPClassifier((32, 8), max_iter=3, random_state=1).fit(X / 16, y)
print(np.array_equal(first, weights()), first.tobytes().hex()[:64])
"""
    runs = [
        subprocess.run(
            [sys.executable, "-W", "ignore", "-c", script], capture_output=True, text=True
        ).stdout.split()
        for _ in range(2)
    ]
    assert runs[0][0] == "True" and runs[0] == runs[1]


def test_the_kernels_release_the_gil():
    """While one thread runs an epoch in the extension, Python code runs in another."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20000, 50))
    Y = np.eye(3)[rng.integers(0, 3, size=20000)]
    net = network("tanh", "softmax", "categorical_cross_entropy", np.float64, sizes=(50, 64, 3))
    backend = compiled.CompiledBackend.for_network(net, 20000)  # one step: no signal checks
    opt, grad, sw = cr.Adam(0.01), np.empty_like(net.theta), np.ones(20000)
    update = compiled.rule(opt, net.theta)
    counts, running, done = [], threading.Event(), threading.Event()

    def count():
        n = 0
        running.set()
        while not done.is_set():
            n += 1
            counts.append(n)

    thread = threading.Thread(target=count)
    thread.start()
    running.wait()
    before = len(counts)
    for _ in range(3):
        backend.run_epoch(opt, update, X, Y, sw, np.arange(20000), grad, None)
    during = len(counts) - before
    done.set()
    thread.join()
    assert during > 100  # held GIL: at most a switch or two


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="POSIX interval timers")
def test_ctrl_c_stops_a_compiled_epoch_and_keeps_the_weights():
    """A signal 0.3 s into a fit of 200 long epochs (most of its time inside the extension,
    which looks for signals every 64 steps), its handler raising KeyboardInterrupt as Ctrl-C's
    does, stops it; the steps taken are counted. The fit cannot stop early
    (``n_iter_no_change`` beyond ``max_iter``): its 2e7 steps last seconds on any machine.
    The operating system delivers the signal (an interval timer): a Python thread calling
    ``_thread.interrupt_main`` needs the GIL, which the epoch takes back every 64 steps, and
    on a loaded machine it lost that race for a whole fit (seen twice)."""

    def ctrl_c(signum, frame):
        raise KeyboardInterrupt

    rng = np.random.default_rng(0)
    X = rng.normal(size=(100_000, 4))
    y = (X[:, 0] > 0).astype(int)
    clf = MLPClassifier((4,), batch_size=1, max_iter=200, n_iter_no_change=1000, random_state=0)
    previous = signal.signal(signal.SIGALRM, ctrl_c)
    signal.setitimer(signal.ITIMER_REAL, 0.3)
    try:
        with pytest.warns(UserWarning, match="interrupted"):
            clf.fit(X, y)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert 0 < clf._steps < 200 * 100_000 and np.isfinite(clf.network_.theta).all()
    assert clf._record.optimizer.t == clf._steps


def test_without_the_extension_training_falls_back_to_the_reference_engine_and_says_so_once(
    monkeypatch,
):
    X, y = data()
    ref = fit("reference", lambda: MLPClassifier((6,), max_iter=2, random_state=0), X, y)
    select.forget_compiled()
    monkeypatch.setitem(sys.modules, "chainrule.engine.native", None)  # import raises
    monkeypatch.delitem(sys.modules, "chainrule.engine.compiled")
    for name in ("compiled", "native"):
        monkeypatch.delattr(chainrule.engine, name, raising=False)
    try:
        with pytest.warns(select.EngineFallbackWarning, match="compiled engine cannot be"):
            first = MLPClassifier((6,), max_iter=2, random_state=0).fit(X, y)
        with warnings.catch_warnings():
            warnings.simplefilter("error", select.EngineFallbackWarning)  # not a second time
            second = MLPClassifier((6,), max_iter=2, random_state=0).fit(X, y)
            assert select.engine() == "reference"
    finally:
        select.forget_compiled()
    for model in (first, second):
        np.testing.assert_array_equal(model.network_.theta, ref.network_.theta)


# -- L-BFGS's full-batch cost and gradient, and prediction ---------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lbfgs_runs_its_cost_and_gradient_compiled_as_the_reference(dtype, monkeypatch):
    X, y = data(dtype=dtype)
    sw = np.random.default_rng(2).uniform(0.5, 2, size=len(y))
    calls = []
    cost_and_gradient = native.cost_and_gradient

    def spy(*args):
        calls.append(args[1].shape[0])  # the rows of one evaluation
        return cost_and_gradient(*args)

    def make():
        return MLPClassifier((6, 4), solver="lbfgs", max_iter=5, alpha=0.01, random_state=0)

    ref = fit("reference", make, X, y, sample_weight=sw)
    monkeypatch.setattr(native, "cost_and_gradient", spy)
    got = fit("compiled", make, X, y, sample_weight=sw)
    assert calls and set(calls) == {len(X)}  # every evaluation: the whole data, compiled
    np.testing.assert_allclose(got.network_.theta, ref.network_.theta, **TRAINED[dtype])
    np.testing.assert_allclose(got.loss_curve_, ref.loss_curve_, **TRAINED[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("output, cost", OUTPUTS)
def test_prediction_of_numpy_rows_is_the_reference_forward_pass(output, cost, dtype, monkeypatch):
    calls = []
    predict = native.predict

    def spy(*args):
        calls.append(args[-1])  # logits
        return predict(*args)

    monkeypatch.setattr(native, "predict", spy)
    net = network("elu", output, cost, dtype)
    X = np.random.default_rng(4).normal(size=(37, 5)).astype(dtype)
    with select.use_engine("reference"):
        expected = net.forward(X), net.logits(X)
    got = net.forward(X), net.logits(X)
    assert calls == [False, True]
    bound = reorder_bound(dtype, 7)  # sums of at most 7 products
    for g, e in zip(got, expected, strict=True):
        assert g.dtype == dtype and g.shape == (37, 3)
        np.testing.assert_allclose(g, e, rtol=bound, atol=bound * np.abs(e).max())
    assert net.forward(X[:1]).shape == (1, 3)  # one row
    strided = np.asfortranarray(X)
    np.testing.assert_array_equal(net.forward(strided), expected[0])  # the reference
    assert calls == [False, True, False]


def test_the_kernels_refuse_arrays_that_do_not_fit_instead_of_writing_past_them():
    """The extension reads and writes through pointers: every entry point checks the shapes."""
    net = network("relu", "softmax", "categorical_cross_entropy", np.float64)
    backend = compiled.CompiledBackend.for_network(net, 8)
    X, Y, sw = problem("categorical_cross_entropy", 20, np.float64, np.random.default_rng(0))
    grad, w = np.empty_like(net.theta), sw[:8] / sw[:8].sum()
    with pytest.raises(ValueError, match="work buffer"):
        native.cost_and_gradient(backend.layout, X, Y, sw, 1.0, net.theta, grad, backend.work)
    with pytest.raises(ValueError, match="inputs"):
        native.cost_and_gradient(backend.layout, X[:8, :4].copy(), Y[:8], w, 1.0, net.theta,
                                 grad, backend.work)  # fmt: skip
    with pytest.raises(IndexError, match="row 20 of an array of 20 rows"):
        backend.gather(X, Y, sw, np.array([0, 20]))
    with pytest.raises(ValueError, match="mismatched"):
        native.step("adam", net.theta, grad, 0.1, 0.9, 0.999, 1e-8, grad[:3].copy(), grad, 1)
    opt = cr.Adam()
    with pytest.raises(IndexError):
        backend.run_epoch(opt, compiled.rule(opt, net.theta), X, Y, sw, np.arange(1, 21),
                          grad, None)  # fmt: skip
    with pytest.raises(ValueError, match="mismatched"):
        native.predict(backend.layout, X, net.theta, np.empty((3, 3)), backend.work, False)
    assert net.forward(X[:0], validate=False).shape == (0, 3)


def test_the_gather_takes_strided_blocks_and_other_dtypes_too():
    """A data frame's block may be Fortran-ordered, its weights float64 for a float32 network:
    gathered by indexing, the same minibatch as the compiled gather's."""
    net = network("relu", "softmax", "categorical_cross_entropy", np.float32)
    backend = compiled.CompiledBackend.for_network(net, 5)
    X, Y, sw = problem("categorical_cross_entropy", 20, np.float32, np.random.default_rng(0))
    idx = np.array([3, 19, 0, 7])
    expected = [a.copy() for a in backend.gather(X, Y, sw, idx)[:3]]
    got = backend.gather(np.asfortranarray(X), Y, sw.astype(np.float64), idx)
    for g, e in zip(got[:3], expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=2 * float(np.finfo(np.float32).eps))
    assert got[3] == pytest.approx(float(sw[idx].astype(np.float64).sum()), rel=1e-12)


def test_a_registered_user_activation_stays_on_the_reference_engine():
    square = cr.Activation("cr_test_compiled_square", lambda z: z * z, lambda z: 2 * z)
    cr.register_activation(square)  # the registry now gives it back by its name
    try:
        net = network(square, "identity", "squared_error", np.float64)
        assert compiled.layout(net) is None
        X = np.random.default_rng(0).normal(size=(4, 5))
        with select.use_engine("reference"):
            expected = net.forward(X)
        np.testing.assert_array_equal(net.forward(X), expected)
    finally:
        cr.activations._REGISTRY.user.pop(square.name, None)


# -- dropout: the same masks on both engines ---------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("hidden", [name for name in HIDDEN if name != "exponential"])
def test_one_minibatch_with_dropout_is_the_reference_one_with_the_same_masks(hidden, dtype):
    from chainrule.engine.reference import dropout_masks

    net = network(hidden, "softmax", "categorical_cross_entropy", dtype)
    net.dropout = (0.3, 0.6)
    rng = np.random.default_rng(1)
    X, Y, sw = problem("categorical_cross_entropy", 23, dtype, rng)
    n_b = float(sw.sum())
    w = sw / dtype(n_b)
    key, step = 2**62 + 99, 5
    masks = dropout_masks(net.dropout, key, step, net.layer_sizes, 23, net.theta)
    expected = np.empty_like(net.theta)
    ref_cost, _ = net.batch_cost_and_gradient(X, Y, w, n_b, expected, masks=masks)
    backend = compiled.CompiledBackend.for_network(net, 23)
    got = np.full_like(net.theta, np.nan)
    got_cost = backend.cost_and_gradient((X, Y, w, n_b), got, key, step)
    # the products as without dropout, and one more rounding a unit: the scale 1/(1-p)
    bound = reorder_bound(dtype, 23 + 2)
    np.testing.assert_allclose(got_cost, ref_cost, rtol=bound)
    np.testing.assert_allclose(got, expected, rtol=0, atol=bound * np.abs(expected).max())
    plain = np.empty_like(got)
    backend.cost_and_gradient((X, Y, w, n_b), plain)
    assert not np.allclose(plain, got)  # the masks did something


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("optimizer", ["adam", "momentum"])
def test_training_with_dropout_is_the_reference_training(optimizer, dtype):
    def train(engine):
        rng = np.random.default_rng(3)
        X, Y, sw = problem("categorical_cross_entropy", 90, dtype, rng)
        net = network("tanh", "softmax", "categorical_cross_entropy", dtype)
        net.dropout = (0.2, 0.5)
        source = ArraySource(X, Y, sw, batch_size=16, shuffle=True)
        record = TrainingRecord(monitor=None, rng=np.random.default_rng(0))
        make = OPTIMIZERS[optimizer]()
        with select.use_engine(engine):
            runner = EpochRunner(net, source)
            losses = [runner.run(make, record) for _ in range(4)]
        return net.theta, losses

    ref, got = train("reference"), train("compiled")
    np.testing.assert_allclose(got[0], ref[0], **TRAINED[dtype])
    np.testing.assert_allclose(got[1], ref[1], **TRAINED[dtype])
