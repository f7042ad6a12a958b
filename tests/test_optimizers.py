"""One hand-worked update per optimizer, checked against the written formula."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


def test_gradient_descent_goes_against_the_gradient():
    theta = np.array([1.0, -2.0])
    cr.GradientDescent(0.1).step(theta, np.array([3.0, -4.0]))
    np.testing.assert_allclose(theta, [1.0 - 0.3, -2.0 + 0.4])  # w <- w - eta dC/dw


def test_momentum_is_the_seed_rule():
    # Delta w^t = -eta g^t + alpha Delta w^(t-1); w <- w + Delta w^t
    eta, alpha = 0.1, 0.5
    opt = cr.Momentum(eta, momentum=alpha)
    theta = np.array([1.0])
    g1, g2, g3 = 2.0, -1.0, 4.0
    d1 = -eta * g1
    d2 = -eta * g2 + alpha * d1
    d3 = -eta * g3 + alpha * d2
    for g in (g1, g2, g3):
        opt.step(theta, np.array([g]))
    assert theta[0] == pytest.approx(1.0 + d1 + d2 + d3)


def test_nesterov_momentum():
    eta, mu = 0.1, 0.9
    opt = cr.Momentum(eta, momentum=mu, nesterov=True)
    theta = np.array([0.0])
    v = 0.0
    w = 0.0
    for g in (1.0, 2.0):
        v = mu * v - eta * g
        w = w + mu * v - eta * g
        opt.step(theta, np.array([g]))
    assert theta[0] == pytest.approx(w)


def test_adam_two_steps_by_hand():
    eta, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    opt = cr.Adam(eta, b1, b2, eps)
    theta = np.array([0.5])
    m = v = 0.0
    w = 0.5
    for t, g in enumerate((0.3, -0.6), start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        w = w - eta * m_hat / (np.sqrt(v_hat) + eps / np.sqrt(1 - b2**t))
        opt.step(theta, np.array([g]))
    # the folded step size: eta sqrt(1-b2^t)/(1-b1^t) m / (sqrt(v) + eps)
    assert theta[0] == pytest.approx(w, rel=1e-12)
    assert opt.t == 2


def test_update_takes_the_seed_shaped_gradients(rng):
    net = cr.Network([3, 4, 2], random_state=0)
    X, Y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    before = [W.copy() for W in net.W], [b.copy() for b in net.b]
    dW, db = net.gradients(X, Y)
    dW, db = [g.copy() for g in dW], [g.copy() for g in db]
    cr.GradientDescent(0.5).update(net, dW, db)
    for m in range(net.L):
        np.testing.assert_allclose(net.W[m], before[0][m] - 0.5 * dW[m])
        np.testing.assert_allclose(net.b[m], before[1][m] - 0.5 * db[m])  # the biases move too


def test_float32_stays_float32():
    theta = np.zeros(3, dtype=np.float32)
    for opt in (cr.GradientDescent(0.1), cr.Momentum(0.1, 0.9, nesterov=True), cr.Adam(0.1)):
        opt.step(theta, np.ones(3, dtype=np.float32))
        assert theta.dtype == np.float32
    assert opt.m.dtype == np.float32


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: cr.GradientDescent(0.0), "learning_rate"),
        (lambda: cr.Momentum(0.1, momentum=1.5), "momentum"),
        (lambda: cr.Adam(0.1, beta_1=1.0), "beta_1"),
        (lambda: cr.Adam(0.1, epsilon=0.0), "epsilon"),
    ],
)
def test_bad_parameters(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_training_a_network_reduces_the_cost(rng):
    X = rng.normal(size=(64, 3))
    Y = np.sin(X @ np.array([[1.0], [-2.0], [0.5]]))
    for opt in (cr.GradientDescent(0.1), cr.Momentum(0.05, 0.9), cr.Adam(0.01)):
        net = cr.Network([3, 8, 1], activation="tanh", random_state=0)
        start = net.cost(X, Y)
        for _ in range(200):
            _, g = net.cost_and_gradient(X, Y)
            opt.step(net.theta, g)
        assert net.cost(X, Y) < 0.5 * start


# -- decoupled weight decay (W <- W - eta lambda W before the rule's step), worked by hand
# theta = [w, b]: only w is a weight (decayed = [slice(0, 1)]), b is a bias and is not decayed


def decaying(opt):
    opt.decayed = [slice(0, 1)]
    return opt


def test_gradient_descent_with_weight_decay_by_hand():
    theta = np.array([1.0, 2.0])
    decaying(cr.GradientDescent(0.1, weight_decay=0.5)).step(theta, np.array([1.0, 1.0]))
    # w: 1 - 0.1 * 0.5 * 1 = 0.95, then 0.95 - 0.1 * 1 = 0.85; b: 2 - 0.1 * 1 = 1.9
    np.testing.assert_allclose(theta, [0.85, 1.9], rtol=1e-15)


def test_momentum_with_weight_decay_by_hand():
    theta, g = np.array([1.0, 2.0]), np.array([1.0, 1.0])
    opt = decaying(cr.Momentum(0.1, momentum=0.9, weight_decay=0.5))
    opt.step(theta, g)  # w: 0.95 + (v = -0.1) = 0.85; b: 2 - 0.1 = 1.9
    opt.step(theta, g)  # w: 0.85 * 0.95 = 0.8075, v = 0.9 * -0.1 - 0.1 = -0.19: 0.6175
    np.testing.assert_allclose(theta, [0.6175, 1.71], rtol=1e-15)


def test_adamw_by_hand():
    # one step: m = 0.1 g, v = 0.001 g^2, eta_1 = eta sqrt(0.001) / 0.1, so the step is
    # eta_1 m / sqrt(v) = eta sign(g) up to epsilon (relative eps / sqrt(v) <= 1e-12 / 0.06)
    theta = np.array([1.0, 2.0])
    opt = decaying(cr.Adam(0.1, epsilon=1e-12, weight_decay=0.5))
    opt.step(theta, np.array([4.0, -2.0]))
    # w: 1 * (1 - 0.1 * 0.5) - 0.1 = 0.85; b: 2 + 0.1 = 2.1 (no decay)
    np.testing.assert_allclose(theta, [0.85, 2.1], rtol=0, atol=1e-11)
    # the moments see the gradient only, not the decay (decoupled): m = 0.1 g
    np.testing.assert_allclose(opt.m, [0.4, -0.2], rtol=1e-15)


def test_weight_decay_zero_is_the_rule_bit_for_bit(rng):
    g = rng.normal(size=(3, 7))
    for make in (cr.GradientDescent, cr.Momentum, cr.Adam):
        plain = rng.normal(size=7)
        decayed = plain.copy()
        a, b = make(0.05), decaying(make(0.05, weight_decay=0.0))
        for g_t in g:
            a.step(plain, g_t)
            b.step(decayed, g_t)
        assert np.array_equal(plain, decayed)


def test_update_decays_the_weights_not_the_biases():
    net = cr.Network([2, 1], random_state=0)
    W, b = net.W[0].copy(), net.b[0].copy()
    zero = [np.zeros_like(W)], [np.zeros_like(b)]
    cr.GradientDescent(0.1, weight_decay=2.0).update(net, *zero)
    np.testing.assert_allclose(net.W[0], 0.8 * W, rtol=1e-15)  # 1 - 0.1 * 2
    assert np.array_equal(net.b[0], b)


def test_bad_weight_decay():
    with pytest.raises(ValueError, match="weight_decay"):
        cr.Adam(0.1, weight_decay=-1.0)
