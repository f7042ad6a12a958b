"""The reference engine's own lines that no other test reaches: dropout's masks, and the
penalty ``alpha / n sum_m (l1_ratio |W^m|_1 + (1 - l1_ratio) / 2 ||W^m||^2)`` and its gradient,
worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.engine import reference

W = [np.array([[1.0, -2.0], [0.0, 3.0]]), np.array([[0.5, -0.5]])]


def test_the_penalty_by_hand():
    # alpha 0.2, n 4, l1_ratio 0.25: alpha_1 = 0.05, alpha_2 = 0.15; |W|_1 = 7, ||W||^2 = 14.5
    # 0.05 / 4 * 7 + 0.15 / (2 * 4) * 14.5 = 0.0875 + 0.271875
    assert reference.penalty(W, 0.2, 4, 0.25) == pytest.approx(0.359375, rel=1e-15)
    assert reference.penalty(W, 0.2, 4, 0.0) == 0.5 * 0.2 / 4 * 14.5  # L2 alone, as before
    assert reference.penalty(W, 0.2, 4, 1.0) == pytest.approx(0.2 / 4 * 7, rel=1e-15)


def test_the_penalty_gradient_by_hand():
    # with no data term (delta and a zero), dW^m = alpha_2 / n W^m + alpha_1 / n sign(W^m):
    # 0.0375 W + 0.0125 sign(W), sign(0) = 0
    identity = [cr.get_activation("identity")] * 2
    a = [np.zeros((1, 2)), np.zeros((1, 2)), np.zeros((1, 1))]
    _, dW, db = reference.backward(W, identity, a[1:], a, np.zeros((1, 1)), 0.2, 4, l1_ratio=0.25)
    np.testing.assert_allclose(dW[0], [[0.05, -0.0875], [0.0, 0.125]], rtol=1e-15)
    np.testing.assert_allclose(dW[1], [[0.03125, -0.03125]], rtol=1e-15)
    assert not db[0].any() and not db[1].any()  # the biases are not penalized


def test_l1_ratio_zero_is_the_l2_gradient_bit_for_bit(rng):
    net = cr.Network([3, 4, 2], activation="tanh", alpha=0.3, random_state=0)
    X, Y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    z, a = reference.forward(net.W, net.b, net.activations, X)
    delta_L = reference.output_delta(z[-1], a[-1], Y, net.activations[-1], net.cost_function)
    old = reference.backward(net.W, net.activations, z, a, delta_L, 0.3, 5)
    new = reference.backward(net.W, net.activations, z, a, delta_L, 0.3, 5, l1_ratio=0.0)
    for ours, before in zip(old[1] + old[2], new[1] + new[2], strict=True):
        assert np.array_equal(ours, before)


def test_the_network_cost_includes_the_l1_term(rng):
    X, Y = rng.normal(size=(6, 3)), rng.normal(size=(6, 1))
    plain = cr.Network([3, 4, 1], activation="tanh", random_state=0)
    mixed = cr.Network([3, 4, 1], activation="tanh", alpha=0.5, l1_ratio=0.4, random_state=0)
    expected = plain.cost(X, Y) + reference.penalty(mixed.W, 0.5, 6, 0.4)
    assert mixed.cost(X, Y) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("bad", [-0.1, 1.5])
def test_l1_ratio_outside_zero_one_is_refused(bad):
    with pytest.raises(ValueError, match="l1_ratio"):
        cr.Network([2, 1], l1_ratio=bad)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_masks_keep_one_minus_p_of_the_units_scaled_by_its_inverse(p, dtype):
    mask = reference.dropout_mask(2**62 + 12345, 7, 1, (400, 250), p, dtype)
    scale = dtype(1 / (1 - p))
    assert mask.dtype == dtype and mask.shape == (400, 250)
    assert set(np.unique(mask)) <= {dtype(0), scale}
    kept = np.mean(mask != 0)
    # 100000 independent Bernoulli(1 - p) draws: 6 standard deviations of their mean
    assert abs(kept - (1 - p)) < 6 * np.sqrt(p * (1 - p) / mask.size)


def test_dropout_masks_are_a_function_of_key_step_and_layer():
    def mask(key, step, m):
        return reference.dropout_mask(key, step, m, (30, 20), 0.5, np.float64)

    assert np.array_equal(mask(1, 2, 0), mask(1, 2, 0))
    others = [mask(2, 2, 0), mask(1, 3, 0), mask(1, 2, 1)]
    assert all(not np.array_equal(mask(1, 2, 0), other) for other in others)
    # a unit's draw does not depend on the minibatch's number of rows
    assert np.array_equal(mask(1, 2, 0)[:10], reference.dropout_mask(1, 2, 0, (10, 20), 0.5, float))


def test_no_mask_for_a_rate_of_zero():
    masks = reference.dropout_masks([0.0, 0.5], 9, 0, [3, 4, 5, 2], 6, np.zeros(3, np.float32))
    assert masks[0] is None and masks[1].shape == (6, 5) and masks[1].dtype == np.float32
