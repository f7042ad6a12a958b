"""The playground's pieces without a server: data, settings, training, derivation, export."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.playground import config as pg_config
from chainrule.playground.derivation import derive
from chainrule.playground.export import script
from chainrule.playground.session import Diverged, Session
from chainrule.training import SOLVERS, make_optimizer
from chainrule.training import Diverged as TrainingLoopDiverged


def test_each_solver_name_means_what_it_means_in_the_library():
    """One vocabulary (issue 23.4): every name the page offers makes the optimizer the
    library's solver table makes of it, and "sgd" (scikit-learn's Nesterov momentum in the
    estimators) is not a page name for plain gradient descent."""
    for solver in pg_config.SOLVERS:
        assert solver in SOLVERS
        s = Session()
        s.configure({"solver": solver})
        expected = make_optimizer(solver, learning_rate_init=s.config["learning_rate"])
        assert type(s.optimizer) is type(expected)
        assert vars(s.optimizer) == vars(expected)
    assert "sgd" not in pg_config.SOLVERS
    assert isinstance(Session().optimizer, cr.GradientDescent)  # the default: plain descent
    with pytest.raises(ValueError, match="solver must be one of"):
        pg_config.update_config(pg_config.default_config(), {"solver": "sgd"})


def test_a_minibatch_is_a_step_of_the_training_loops_minibatch_loop(monkeypatch):
    """The page trains through the library's one Python minibatch loop, on the reference
    engine's backend, one minibatch a call; its gradient is the one the page shows."""
    from chainrule.engine import ReferenceBackend
    from chainrule.training import MinibatchSteps

    calls = []
    original = MinibatchSteps.run

    def run(self, minibatches, grad=None):
        minibatches = list(minibatches)
        calls.append((type(self.backend), len(minibatches)))
        return original(self, minibatches, grad)

    monkeypatch.setattr(MinibatchSteps, "run", run)
    s = Session()
    s.train_minibatch()
    assert calls == [(ReferenceBackend, 1)]
    a0 = s.inputs(s.data.X_train[s.order[:10]])
    s2 = Session()
    dW, db = s2.net.gradients(a0, s2.data.y_train[s.order[:10]])
    np.testing.assert_array_equal(s.last_grads[0][0], dW[0])  # the same lines, bit for bit
    np.testing.assert_array_equal(s.last_grads[1][-1], db[-1])


def test_a_divergence_is_the_training_loops_diverged():
    """One ``Diverged``: the page's session raises the training loop's, with the cost."""
    s = Session()
    s.configure({"dataset": "plane", "layers": [pg_config.layer(8, "relu")] * 3})
    s.configure({"features": ["x1^2", "x2^2", "x1*x2"], "learning_rate": 10.0})
    with pytest.raises(TrainingLoopDiverged) as raised:
        for _ in range(50):
            s.train_epoch()
    assert not np.isfinite(raised.value.cost)


def test_a_session_trains_xor_with_every_solver():
    for solver, rate in [
        ("gradient_descent", 0.1),
        ("momentum", 0.03),
        ("nesterov", 0.03),
        ("adam", 0.03),
    ]:
        s = Session()
        s.configure({"solver": solver, "learning_rate": rate})
        start = s.losses()[0]
        for _ in range(40):
            s.train_epoch()
        assert s.losses()[0] < 0.6 * start, solver
        assert s.history[-1][0] == s.epoch == 40


def test_a_huge_learning_rate_reports_divergence():
    s = Session()
    s.configure({"dataset": "plane", "layers": [pg_config.layer(8, "relu")] * 3})
    s.configure({"features": ["x1^2", "x2^2", "x1*x2"], "learning_rate": 10.0})
    with pytest.raises(Diverged, match="lower the learning rate"):
        for _ in range(50):
            theta, epoch = s.net.theta.copy(), s.epoch
            s.train_epoch()
    np.testing.assert_array_equal(s.net.theta, theta)  # back where the epoch began
    assert s.epoch == epoch and np.isfinite(s.losses()[0])
    s.configure({"learning_rate": 1e-4})
    s.train_epoch()  # goes on from there
    assert s.epoch == epoch + 1


def test_settings_that_keep_the_weights_keep_them():
    s = Session()
    for _ in range(3):
        s.train_epoch()
    theta = s.net.theta.copy()
    s.configure({"alpha": 0.1, "learning_rate": 0.1, "solver": "adam"})
    np.testing.assert_array_equal(s.net.theta, theta)
    assert s.epoch == 3 and s.net.alpha == 0.1 and isinstance(s.optimizer, cr.Adam)
    s.configure({"layers": [pg_config.layer(3, "sigmoid", 2.0)]})
    assert s.epoch == 0 and s.net.layer_sizes == (2, 3, 1)
    assert s.net.activations[0].beta == 2.0


def test_dead_and_saturated_units_are_named():
    """A ReLU unit with sigma'(z) = 0 on every training point is dead; a steep sigmoid unit
    with sigma'(z) under 1% of its peak on 95% of the points is saturated."""
    from chainrule.playground.views import unit_warnings

    s = Session()
    s.configure({"layers": [pg_config.layer(2, "relu")]})
    A0 = s.inputs(s.data.X_train)
    s.net.W[0][...] = [[1.0, 0.0], [0.0, 0.0]]
    s.net.b[0][...] = [0.5, -1.0]  # unit 2: z = -1 on every point
    (dead,) = unit_warnings(s.net, A0)
    assert (dead["kind"], dead["layer"], dead["units"]) == ("dead", 1, [1])
    assert "layer 1: unit 2 dead" in dead["text"]
    s.configure({"layers": [pg_config.layer(2, "sigmoid", beta=25.0)]})
    s.net.W[0][...] = [[5.0, 0.0], [0.0, 0.01]]
    s.net.b[0][...] = 0.0
    (flat,) = unit_warnings(s.net, A0)
    # unit 1: beta z = 125 x1, flat wherever |x1| > 0.06; unit 2: beta z = 0.25 x2, never flat
    assert np.mean(np.abs(A0[:, 0]) > 0.06) > 0.95
    assert (flat["kind"], flat["layer"], flat["units"]) == ("saturated", 1, [0])
    assert unit_warnings(s.net, A0, (0.5, np.inf))[0]["kind"] == "overflow"


def test_the_snapshot_carries_exact_weights_and_tiny_gradients():
    """A converged network's |dC/dW| of 1e-11 are sent as they are, not rounded to 0."""
    s = Session()
    s.train_epoch()
    dW = [g * 1e-9 for g in s.last_grads[0]]
    s.last_grads = (dW, s.last_grads[1])
    snap = s.snapshot()
    for m in range(s.net.L):
        np.testing.assert_array_equal(snap["dW"][m], np.abs(dW[m]))
        np.testing.assert_array_equal(snap["W"][m], s.net.W[m])


def test_minibatch_steps_make_up_the_epoch_and_the_export_finishes_it(tmp_path, run_script):
    """Minibatch by minibatch is the epoch (the same weights, bit for bit); a script exported
    in the middle of an epoch finishes it as the page would."""
    a, b = Session(), Session()
    a.train_epoch()
    steps = 0
    while not b.train_minibatch():
        steps += 1
        assert b.epoch == 0 and b.snapshot()["minibatch"] == steps
    assert steps + 1 == b.snapshot()["minibatches"] == 10  # 100 points, 10 a minibatch
    np.testing.assert_array_equal(a.net.theta, b.net.theta)
    for _ in range(3):
        b.train_minibatch()
    module = run_script(tmp_path, script(b), run_name="exported")
    b.train_epoch()
    module["train_epoch"]()
    assert b.epoch == 2
    np.testing.assert_array_equal(module["net"].theta, b.net.theta)


def test_accuracy_is_the_share_classified_right():
    s = Session()
    train, test = s.accuracies()
    out = s.net.forward(s.inputs(s.data.X_test))[:, 0]
    assert test == np.mean((out >= 0.5) == s.data.y_test) and 0 <= train <= 1
    s.configure({"dataset": "sine"})
    assert s.accuracies() is None


def test_l1_and_weight_decay_in_the_derivation_and_the_exported_script(tmp_path, run_script):
    """An L1 share changes the network's penalty (same weights), weight decay the optimizer;
    one sample's dW^m gains alpha_2 W + alpha_1 sign(W) and its gradient-descent update is
    W <- (1 - eta lambda) W - eta dW (n = 1); the exported script trains on as the page."""
    s = Session()
    s.configure({"n_samples": 60, "alpha": 0.1, "solver": "gradient_descent", "learning_rate": 0.1})
    s.train_epoch()
    theta = s.net.theta.copy()
    s.configure({"l1_ratio": 0.25, "weight_decay": 0.5})
    np.testing.assert_array_equal(s.net.theta, theta)
    assert s.net.l1_ratio == 0.25 and s.optimizer.weight_decay == 0.5
    a0, y = s.inputs(s.data.X_train[3:4]), s.data.y_train[3]
    view = derive(s.net, s.optimizer, "gradient_descent", a0[0], y)
    assert view["l1_ratio"] == 0.25 and view["weight_decay"] == 0.5
    for m, layer in enumerate(view["layers"]):
        W = s.net.W[m]
        data_term = np.outer(layer["delta"], layer["a_prev"])
        # alpha_2 = 0.1 * 0.75, alpha_1 = 0.1 * 0.25
        np.testing.assert_allclose(layer["dW"], data_term + 0.075 * W + 0.025 * np.sign(W))
        np.testing.assert_allclose(
            layer["W_new"], (1 - 0.1 * 0.5) * W - 0.1 * np.array(layer["dW"])
        )
        np.testing.assert_allclose(layer["b_new"], s.net.b[m] - 0.1 * np.array(layer["db"]))
    s.train_epoch()
    module = run_script(tmp_path, script(s), run_name="exported")
    np.testing.assert_array_equal(module["net"].theta, s.net.theta)
    s.train_epoch()
    module["train_epoch"]()
    np.testing.assert_array_equal(module["net"].theta, s.net.theta)


def test_dropout_per_layer_trains_through_the_masks_and_is_shown_in_the_derivation():
    from chainrule.engine.reference import dropout_masks

    session = Session()
    layers = [
        {**spec, "dropout": p} for spec, p in zip(session.config["layers"], (0.5, 0.0), strict=True)
    ]
    session.configure({"layers": layers, "solver": "gradient_descent"})
    assert session.net.dropout == (0.5, 0.0)
    before = session.net.copy()
    session.train_minibatch()  # the epoch's first step: its key from the session's seed
    key = session.dropout_key
    assert key is not None
    batch = session.order[: session.cursor]
    X, y = session.inputs(session.data.X_train[batch]), session.data.y_train[batch]
    n = len(batch)
    masks = dropout_masks((0.5, 0.0), key, 0, before.layer_sizes, n, before.theta)
    _, grad = before.batch_cost_and_gradient(X, y.reshape(n, 1).astype(float), np.full(n, 1 / n),
                                             float(n), None, masks)  # fmt: skip
    plain = before.copy()
    plain.theta -= session.config["learning_rate"] * before.cost_and_gradient(X, y)[1]
    before.theta -= session.config["learning_rate"] * grad
    np.testing.assert_array_equal(session.net.theta, before.theta)
    assert not np.allclose(session.net.theta, plain.theta)  # the mask dropped units
    derivation = derive(session.net, session.optimizer, "gradient_descent", X[0], float(y[0]))
    assert [L["dropout"] for L in derivation["layers"]] == [0.5, 0.0, 0.0]
    with pytest.raises(ValueError, match="layer 1 dropout"):
        session.configure({"layers": [{**layers[0], "dropout": 1.0}]})
