"""chainrule.engine.backend: the protocol the training loop calls, and the reference
engine's backend."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import chainrule as cr
from chainrule.engine import ReferenceBackend, backend_for, minibatch_weights, select
from chainrule.training import ArraySource, EpochRunner, MinibatchSteps, TrainingRecord
from chainrule.training import epoch as epoch_module


class Recording(ReferenceBackend):
    """The reference engine's backend, counting the protocol's calls."""

    def __init__(self, net, batch_size):
        super().__init__(net, batch_size)
        self.calls = {"gather": 0, "cost_and_gradient": 0, "update": 0, "epoch": 0}

    def gather(self, *args):
        self.calls["gather"] += 1
        return super().gather(*args)

    def cost_and_gradient(self, *args):
        self.calls["cost_and_gradient"] += 1
        return super().cost_and_gradient(*args)

    def update(self, optimizer):
        self.calls["update"] += 1
        return super().update(optimizer)

    def epoch(self, *args):
        self.calls["epoch"] += 1
        return super().epoch(*args)


def problem(n=50, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    Y = (X[:, :1] > 0).astype(float)
    return X, Y, rng.uniform(0.5, 2.0, size=n)


def net():
    return cr.Network([4, 5, 1], activation="tanh", output_activation="sigmoid",
                      cost="binary_cross_entropy", alpha=0.01, random_state=0)  # fmt: skip


def epochs(runner, n=3):
    record = TrainingRecord(monitor=None, rng=np.random.default_rng(0), optimizer=cr.Adam(0.01))
    return [runner.run(record.optimizer, record) for _ in range(n)], record.steps


def test_minibatch_weights_sum_to_one_and_skip_nothing_but_weightless_minibatches():
    w, n_b = minibatch_weights(np.array([1.0, 3.0, 4.0]))
    np.testing.assert_array_equal(w, [0.125, 0.375, 0.5])
    assert n_b == 8.0
    w, n_b = minibatch_weights(np.zeros(2))
    assert n_b == 0 and np.all(np.isfinite(w))  # no 0/0: the loop skips it
    assert minibatch_weights(np.array([2.0, 2.0]), 4.0)[1] == 4.0  # a weight summed elsewhere


def test_the_training_loop_runs_through_any_backend_and_only_through_its_protocol(monkeypatch):
    """A backend the loop has never heard of trains as the reference engine does: the loop
    asks it for the epoch (None: no kernel), then gathers, differentiates and updates through
    it, once a minibatch."""
    X, Y, sw = problem()
    with select.use_engine("reference"):
        expected = epochs(EpochRunner(net(), ArraySource(X, Y, sw, 16, shuffle=True)))
    made = []
    monkeypatch.setattr(
        epoch_module, "backend_for", lambda n, size: made.append(Recording(n, size)) or made[-1]
    )
    recording = net()
    runner = EpochRunner(recording, ArraySource(X, Y, sw, 16, shuffle=True))
    assert runner.backend is made[0]
    got = epochs(runner)
    assert got == expected  # the same losses and steps, bit for bit
    assert made[0].calls["cost_and_gradient"] == got[1] == 3 * 4  # 50 rows, 16 a minibatch


def test_a_gathering_backend_gets_the_dense_arrays_and_its_epoch_is_used(monkeypatch):
    X, Y, sw = problem()

    class Gathering(Recording):
        gathers = True

    made = []
    monkeypatch.setattr(
        epoch_module, "backend_for", lambda n, size: made.append(Gathering(n, size)) or made[-1]
    )
    _, steps = epochs(EpochRunner(net(), ArraySource(X, Y, sw, 16, shuffle=True)), n=2)
    calls = made[0].calls
    assert calls["epoch"] == 2 and calls["gather"] == steps == 8  # its epoch said None


def test_lbfgs_cost_and_gradient_go_through_the_backend(monkeypatch):
    X, Y, sw = problem()
    made = []
    monkeypatch.setattr(
        "chainrule.training.batches.backend_for",
        lambda n, size: made.append(Recording(n, size)) or made[-1],
    )
    network = net()
    objective = ArraySource(X, Y, sw, 50, shuffle=False).objective(network)
    cost, grad = objective(network.theta.copy())
    assert made[0].calls["cost_and_gradient"] == 1 and made[0].batch_size == 50
    expected, expected_grad = network.cost_and_gradient(X, Y, sw)
    assert cost == expected and grad.dtype == np.float64
    np.testing.assert_array_equal(grad, expected_grad)


def test_a_compiled_backend_pickles_without_its_buffers_and_is_made_again():
    pytest.importorskip("chainrule.engine.native")
    network = net()
    backend = backend_for(network, 16)
    assert backend.gathers and backend.X.shape == (16, 4)
    steps = pickle.loads(pickle.dumps(MinibatchSteps(network, cr.Adam(0.01), None, backend)))
    assert type(steps.backend) is type(backend) and steps.backend.net is steps.net
    assert steps.backend.X.shape == (16, 4) and steps.backend.X is not backend.X
