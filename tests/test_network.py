"""The forward pass and backpropagation: shapes, live parameters, exact gradients."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

from conftest import HIDDEN, OUTPUTS_FOR_COST, smooth_problem

COST_OUTPUT = [(c, o) for c, outs in OUTPUTS_FOR_COST.items() for o in outs]


def test_contract_shapes_and_names():
    net = cr.Network(
        [4, 8, 3],
        activation="tanh",
        output_activation="softmax",
        cost="categorical_cross_entropy",
        alpha=0.0,
        dtype=np.float64,
        random_state=0,
    )
    X = np.random.default_rng(0).normal(size=(10, 4))
    Y = np.eye(3)[np.arange(10) % 3]
    assert net.W[0].shape == (8, 4) and net.W[1].shape == (3, 8)
    assert net.b[0].shape == (8,) and net.b[1].shape == (3,)
    A = net.forward(X)
    assert A.shape == (10, 3)
    np.testing.assert_allclose(A.sum(axis=1), 1.0)
    C = net.cost(X, Y)
    assert isinstance(C, float) and C > 0
    dW, db = net.gradients(X, Y)
    assert [g.shape for g in dW] == [W.shape for W in net.W]
    assert [g.shape for g in db] == [b.shape for b in net.b]
    trace = net.backprop(X, Y)
    assert len(trace.z) == len(trace.delta) == 2 and len(trace.a) == 3
    assert trace.cost == pytest.approx(C)
    assert cr.check_gradients(net, X, Y) < 1e-6


def test_forward_matches_the_seed_equation(rng):
    net = cr.Network([3, 4, 2], activation="tanh", output_activation="sigmoid", random_state=1)
    x = rng.normal(size=3)
    a1 = np.tanh(net.W[0] @ x + net.b[0])  # a^1 = sigma(W^1 a^0 + b^1), column form
    a2 = 1 / (1 + np.exp(-(net.W[1] @ a1 + net.b[1])))
    np.testing.assert_allclose(net.forward(x[None, :])[0], a2, rtol=1e-12)


def test_backprop_matches_the_seed_example(rng):
    """The seed's sigmoid network with cross-entropy: delta^L = a^L - y,
    delta^(L-1) = W^LT (a^L - y) o a^(L-1) (1 - a^(L-1)), dW^m = delta^m a^(m-1)T."""
    net = cr.Network([2, 3, 1], activation="sigmoid", cost="binary_cross_entropy", random_state=2)
    x, y = rng.normal(size=2), np.array([1.0])
    trace = net.backprop(x[None, :], y[None, :])
    a0, a1, a2 = x, trace.a[1][0], trace.a[2][0]
    d2 = a2 - y
    d1 = (net.W[1].T @ d2) * a1 * (1 - a1)
    np.testing.assert_allclose(trace.delta[1][0], d2, rtol=1e-12)
    np.testing.assert_allclose(trace.delta[0][0], d1, rtol=1e-12)
    np.testing.assert_allclose(trace.dW[1], np.outer(d2, a1), rtol=1e-12)
    np.testing.assert_allclose(trace.dW[0], np.outer(d1, a0), rtol=1e-12)
    np.testing.assert_allclose(trace.db[0], d1, rtol=1e-12)


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
@pytest.mark.parametrize("cost,output", COST_OUTPUT)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_gradients_match_central_differences(hidden, cost, output, depth):
    sizes = [3] + [4] * (depth - 1) + [2]
    net, X, Y = smooth_problem(sizes, hidden, output, cost, seed=depth)
    assert cr.check_gradients(net, X, Y) < 1e-6


@pytest.mark.parametrize("cost,output", COST_OUTPUT)
def test_gradients_with_per_layer_activations_penalty_and_weights(cost, output):
    net, X, Y = smooth_problem(
        [3, 5, 4, 4, 2], ["tanh", "elu", cr.Sigmoid(beta=2.5)], output, cost, alpha=0.3, seed=7
    )
    w = np.random.default_rng(0).uniform(0.1, 3.0, size=X.shape[0])
    assert cr.check_gradients(net, X, Y) < 1e-6
    assert cr.check_gradients(net, X, Y, sample_weight=w) < 1e-6


def test_sample_weights_are_a_weighted_mean(rng):
    net = cr.Network([3, 4, 2], random_state=0)
    X, Y = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    # weights (2, 1, 1, 0) equal repeating the first sample and dropping the last
    Xr, Yr = X[[0, 0, 1, 2]], Y[[0, 0, 1, 2]]
    w = np.array([2.0, 1.0, 1.0, 0.0])
    assert net.cost(X, Y, w) == pytest.approx(net.cost(Xr, Yr))
    for g, gr in zip(net.gradients(X, Y, w)[0], net.gradients(Xr, Yr)[0], strict=True):
        np.testing.assert_allclose(g, gr, rtol=1e-12)


def test_multi_output_gradient_is_the_gradient_of_the_reported_cost(rng):
    """scikit-learn reports a mean over outputs but back-propagates a sum; chainrule does not."""
    net = cr.Network([3, 5], cost="squared_error", random_state=0)  # 5 outputs, no hidden layer
    X, Y = rng.normal(size=(8, 3)), rng.normal(size=(8, 5))
    h = 1e-6
    dW, _ = net.gradients(X, Y)
    net.W[0][0, 0] += h
    c_plus = net.cost(X, Y)
    net.W[0][0, 0] -= 2 * h
    c_minus = net.cost(X, Y)
    assert dW[0][0, 0] == pytest.approx((c_plus - c_minus) / (2 * h), rel=1e-6)


def test_l2_penalty_value(rng):
    net = cr.Network([3, 4, 1], alpha=0.5, random_state=0)
    X, Y = rng.normal(size=(6, 3)), rng.normal(size=(6, 1))
    plain = cr.Network([3, 4, 1], alpha=0.0, random_state=0)
    penalty = 0.5 * 0.5 / 6 * sum((W**2).sum() for W in net.W)
    assert net.cost(X, Y) == pytest.approx(plain.cost(X, Y) + penalty)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_end_to_end(dtype, rng):
    net = cr.Network(
        [3, 4, 3],
        activation="relu",
        output_activation="softmax",
        cost="categorical_cross_entropy",
        dtype=dtype,
        random_state=0,
    )
    X = rng.normal(size=(5, 3))  # float64 input: the network's dtype wins
    Y = np.eye(3)[[0, 1, 2, 0, 1]]
    assert net.theta.dtype == dtype
    trace = net.backprop(X, Y)
    for arrays in (trace.z, trace.a, trace.delta, trace.dW, trace.db):
        assert all(a.dtype == dtype for a in arrays)
    assert net.forward(X).dtype == dtype


def test_float32_gradients_agree_with_float64(rng):
    net = cr.Network(
        [4, 6, 3],
        activation="tanh",
        output_activation="softmax",
        cost="categorical_cross_entropy",
        random_state=0,
    )
    X, Y = rng.normal(size=(9, 4)), np.eye(3)[rng.integers(0, 3, 9)]
    _, g64 = net.cost_and_gradient(X, Y)
    _, g32 = net.copy(np.float32).cost_and_gradient(X, Y)
    np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-6)


def test_random_state_as_generator_and_int():
    a = cr.Network([3, 4, 2], random_state=np.random.default_rng(5))
    b = cr.Network([3, 4, 2], random_state=5)
    np.testing.assert_array_equal(a.theta, b.theta)
    assert not np.array_equal(a.theta, cr.Network([3, 4, 2], random_state=6).theta)


def test_default_output_activation_is_the_cost_link():
    assert cr.Network([2, 1], cost="binary_cross_entropy").activations[-1].name == "sigmoid"
    net = cr.Network([2, 3], cost="categorical_cross_entropy")
    assert net.activations[-1].name == "softmax"
    assert cr.Network([2, 1]).activations[-1].name == "identity"


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"layer_sizes": [3]}, "at least two"),
        ({"layer_sizes": [3, 0, 1]}, "positive"),
        ({"layer_sizes": [3, 4, 1], "activation": "swish"}, "unknown activation 'swish'.*tanh"),
        ({"layer_sizes": [3, 4, 1], "cost": "hinge"}, "unknown cost 'hinge'.*huber"),
        ({"layer_sizes": [3, 4, 1], "activation": ["tanh", "relu"]}, "2 hidden activations"),
        ({"layer_sizes": [3, 4, 1], "activation": "softmax"}, "output layer only"),
        ({"layer_sizes": [3, 1], "alpha": -1.0}, "alpha"),
        ({"layer_sizes": [3, 1], "dtype": np.int32}, "float32 or float64"),
        ({"layer_sizes": [3, 1], "init": "zeros"}, "unknown init"),
    ],
)
def test_bad_constructor_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cr.Network(**kwargs)


def test_bad_inputs_name_the_problem():
    net = cr.Network([3, 2], random_state=0)
    with pytest.raises(ValueError, match=r"shape \(n_samples, 3\)"):
        net.forward(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="NaN"):
        net.forward(np.array([[0.0, np.nan, 1.0]]))
    with pytest.raises(ValueError, match=r"Y must have shape \(2, 2\)"):
        net.cost(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="sample_weight"):
        net.cost(np.zeros((2, 3)), np.zeros((2, 2)), sample_weight=[0.0, 0.0])


def test_user_activation_and_cost():
    cube = cr.Activation("cube", lambda z: z**3, lambda z: 3 * z**2)
    quartic = cr.Cost("quartic", lambda y, a: ((a - y) ** 4).sum(1), lambda y, a: 4 * (a - y) ** 3)
    net, X, Y = smooth_problem([3, 4, 2], cube, "identity", quartic, seed=3)
    assert cr.check_gradients(net, X, Y) < 1e-6


def test_repr_mentions_the_layers():
    assert "Network([2, 3, 1]" in repr(cr.Network([2, 3, 1]))
