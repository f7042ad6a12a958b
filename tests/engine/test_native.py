"""The kernels' L1 term and decoupled weight decay (native.pyx) held to the reference engine
and to chainrule.optimizers' NumPy steps, in both dtypes."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.engine import compiled, select
from chainrule.training import ArraySource, EpochRunner, TrainingRecord

DTYPES = [np.float32, np.float64]


def network(dtype, l1_ratio=0.5, alpha=0.05):
    net = cr.Network(
        [5, 7, 3], activation="tanh", output_activation="softmax",
        cost="categorical_cross_entropy", alpha=alpha, l1_ratio=l1_ratio, dtype=dtype,
        random_state=0,
    )  # fmt: skip
    net.W[0][0, :3] = 0  # sign(0) = 0: exact zeros take no L1 step
    return net


def problem(n, dtype, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5)).astype(dtype)
    Y = np.eye(3, dtype=dtype)[rng.integers(0, 3, size=n)]
    return X, Y, rng.uniform(0.5, 2.0, size=n).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("l1_ratio", [0.0, 0.5, 1.0])
def test_one_minibatch_with_l1_is_the_reference_cost_and_gradient(dtype, l1_ratio):
    net = network(dtype, l1_ratio)
    X, Y, sw = problem(23, dtype)
    n_b = float(sw.sum())
    w = sw / dtype(n_b)
    expected, got = np.empty_like(net.theta), np.full_like(net.theta, np.nan)
    ref_cost, _ = net.batch_cost_and_gradient(X, Y, w, n_b, expected)
    got_cost = compiled.CompiledBackend.for_network(net, 23).cost_and_gradient((X, Y, w, n_b), got)
    # the penalty's terms are the same elementwise lines on both sides; the data terms are sums
    # of 23 products in another order (BLAS): 23 roundings a side, through two layers
    bound = 2 * 2 * 23 * float(np.finfo(dtype).eps)
    np.testing.assert_allclose(got_cost, ref_cost, rtol=bound)
    np.testing.assert_allclose(got, expected, rtol=0, atol=bound * np.abs(expected).max())


class PythonAdam(cr.Adam):
    """Adam without a compiled rule (its name is its own): the NumPy step of chainrule.optimizers
    on the compiled minibatch gradients."""

    name = None


def train(engine, dtype, optimizer, epochs=4):
    net = network(dtype)
    X, Y, sw = problem(90, dtype, seed=3)
    source = ArraySource(X, Y, sw, batch_size=16, shuffle=True)
    record = TrainingRecord(monitor=None, rng=np.random.default_rng(0), optimizer=optimizer)
    with select.use_engine(engine):
        runner = EpochRunner(net, source)
        losses = [runner.run(optimizer, record) for _ in range(epochs)]
    return net.theta, losses


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_epoch_kernel_decays_as_the_numpy_step_bit_for_bit(dtype):
    """Same compiled gradients, stepped in the kernel or by ``Adam.step`` in NumPy: the decay
    ``W <- (1 - eta lambda) W`` of the weights (not the biases) rounds the same way."""
    fused = train("compiled", dtype, cr.Adam(0.01, weight_decay=0.5))
    numpy = train("compiled", dtype, PythonAdam(0.01, weight_decay=0.5))
    plain = train("compiled", dtype, cr.Adam(0.01))
    np.testing.assert_array_equal(fused[0], numpy[0])
    assert fused[1] == numpy[1]
    assert not np.array_equal(fused[0], plain[0])  # the decay did something


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "make",
    [
        lambda: cr.Adam(0.01, weight_decay=0.5),
        lambda: cr.Momentum(0.01, 0.9, nesterov=True, weight_decay=0.5),
        lambda: cr.GradientDescent(0.05, weight_decay=0.5),
    ],
)
def test_training_with_l1_and_weight_decay_is_the_reference(dtype, make):
    ref = train("reference", dtype, make())
    got = train("compiled", dtype, make())
    # the engines differ only by the order of the data term's sums (the test above holds the
    # penalty and the decay to the same lines); over 4 epochs of 6 steps each, as the plain
    # networks' training test in test_compiled.py: float32's functions round once from double
    # in the kernels, NumPy's their own way
    tol = dict(rtol=1e-9, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(got[0], ref[0], **tol)
    np.testing.assert_allclose(got[1], ref[1], **tol)


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_fused_minibatch_step_decays_as_the_numpy_step(dtype):
    rng = np.random.default_rng(0)
    net = network(dtype)
    grads = [rng.normal(size=net.theta.size).astype(dtype) for _ in range(5)]
    results = []
    for fused in (False, True):
        opt, theta = cr.Adam(0.05, weight_decay=0.3), net.theta.copy()
        opt.decayed = cr.optimizers.weight_slices(net.layer_sizes)
        step = compiled.fused_step(opt, theta) if fused else opt.step
        for g in grads:
            step(theta, g)
        results.append(theta)
    np.testing.assert_array_equal(results[1], results[0])
