"""The playground's derivation panel: backprop of one sample, the update, the gradient check."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.playground.derivation import derive
from chainrule.playground.session import Session


def test_the_derivation_is_backprop_of_one_sample_and_one_update():
    s = Session()
    s.configure({"alpha": 0.01, "solver": "gradient_descent", "learning_rate": 0.1})
    for _ in range(2):
        s.train_epoch()
    a0 = s.inputs(s.data.X_train[5:6])
    y = s.data.y_train[5]
    view = derive(s.net, s.optimizer, "gradient_descent", a0[0], y)
    trace = s.net.backprop(a0, np.array([[y]]))
    for m, layer in enumerate(view["layers"]):
        np.testing.assert_allclose(layer["z"], trace.z[m][0])
        np.testing.assert_allclose(layer["a"], trace.a[m + 1][0])
        np.testing.assert_allclose(layer["delta"], trace.delta[m][0])
        np.testing.assert_allclose(layer["dW"], trace.dW[m])
        # dC/dW^m = delta^m a^(m-1)T + alpha W^m (one sample: n = 1)
        np.testing.assert_allclose(
            layer["dW"], np.outer(layer["delta"], layer["a_prev"]) + 0.01 * s.net.W[m]
        )
        np.testing.assert_allclose(layer["W_new"], s.net.W[m] - 0.1 * trace.dW[m])
        if m + 1 < s.net.L:  # delta^m = (W^(m+1)T delta^(m+1)) o sigma'(z^m)
            np.testing.assert_allclose(
                layer["delta"], np.array(layer["backsum"]) * layer["sigma_prime"]
            )
    assert view["canonical"]  # sigmoid output with binary cross-entropy: delta^L = a^L - y
    np.testing.assert_allclose(view["layers"][-1]["delta"], view["layers"][-1]["a"][0] - y)


def test_the_derivation_leaves_the_optimizer_alone():
    s = Session()
    s.configure({"solver": "adam"})
    s.train_epoch()
    t, theta = s.optimizer.t, s.net.theta.copy()
    derive(s.net, s.optimizer, "adam", s.inputs(s.data.X_train[:1])[0], s.data.y_train[0])
    assert s.optimizer.t == t
    np.testing.assert_array_equal(s.net.theta, theta)


def test_the_gradient_check_says_good_for_backprop_and_wrong_for_a_wrong_gradient():
    from chainrule.playground import derivation

    s = Session()
    s.train_epoch()
    s.select("train", 3)
    theta = s.net.theta.copy()
    report = s.gradient_check()
    assert report["verdict"] == "good" and report["relative_error"] < 1e-6
    assert np.array_equal(s.net.theta, theta)  # every weight put back exactly
    assert report["parameters"] == s.net.theta.size

    class Wrong(type(s.net)):
        def backprop(self, X, Y, sample_weight=None):
            trace = super().backprop(X, Y, sample_weight)
            trace.dW[0] *= 1.01  # 1% off in one layer
            return trace

    wrong = s.net.copy()
    wrong.__class__ = Wrong
    report = derivation.gradient_check(wrong, s.inputs(s.data.X_train[3:4])[0], s.data.y_train[3])
    assert report["verdict"] == "wrong" and report["relative_error"] > 1e-3


@pytest.mark.parametrize("solver", ["momentum", "adam"])
def test_the_update_line_carries_the_optimizers_state(solver):
    """Momentum: v <- mu v - eta g, W <- W + v. Adam: t, 1 - b1^t, 1 - b2^t, m, v and
    eta_t = eta sqrt(1 - b2^t) / (1 - b1^t), each by hand from the state before the step."""
    s = Session()
    s.configure({"solver": solver})
    for _ in range(2):
        s.train_epoch()
    s.select("train", 0)
    view = s.derivation()
    layer = view["layers"][0]
    state = layer["optimizer_state"]
    g, eta = np.array(layer["dW"]), view["learning_rate"]
    if solver == "momentum":
        v = 0.9 * np.array(state["velocity_before"]["W"]) - eta * g
        np.testing.assert_allclose(state["velocity"]["W"], v, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(layer["W_step"], v, rtol=1e-9, atol=1e-15)
    else:
        rule = view["optimizer"]
        t = s.optimizer.t + 1
        assert rule["t"] == t and rule["correction_1"] == pytest.approx(1 - 0.9**t, rel=1e-14)
        m = 0.9 * np.array(state["m_before"]["W"]) + 0.1 * g
        v = 0.999 * np.array(state["v_before"]["W"]) + 0.001 * g**2
        np.testing.assert_allclose(state["m"]["W"], m, rtol=1e-12, atol=1e-18)
        np.testing.assert_allclose(state["v"]["W"], v, rtol=1e-12, atol=1e-18)
        eta_t = eta * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        assert rule["step_size"] == pytest.approx(eta_t, rel=1e-14)
        np.testing.assert_allclose(layer["W_step"], -eta_t * m / (np.sqrt(v) + 1e-8), rtol=1e-9)
