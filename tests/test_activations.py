"""Each activation: its values, its derivative against central differences, extreme inputs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.special import expit

import chainrule as cr
from chainrule.activations import ACTIVATIONS, activation_names

ELEMENTWISE = [n for n in ACTIVATIONS if n != "softmax"]


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_matches_central_differences(name):
    act = cr.get_activation(name)
    z = np.linspace(-3, 3, 61) + 0.0173  # off the kink at 0
    h = 1e-6
    numeric = (act(z + h) - act(z - h)) / (2 * h)
    np.testing.assert_allclose(act.prime(z, act(z)), numeric, rtol=1e-6, atol=1e-9)


def test_sigmoid_is_the_corrected_seed_formula():
    z = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_allclose(cr.Sigmoid()(z), 1 / (1 + np.exp(-z)))  # not 1 / (1 + e^z)
    s = cr.Sigmoid(beta=5.0)
    g = s(z)
    np.testing.assert_allclose(g, 1 / (1 + np.exp(-5.0 * z)))
    np.testing.assert_allclose(s.prime(z, g), 5.0 * g * (1 - g))  # beta g (1 - g)


def test_table_values():
    z = np.array([-2.0, -0.5, 0.0, 1.5])
    get = cr.get_activation
    np.testing.assert_allclose(get("tanh")(z), np.tanh(z))
    np.testing.assert_allclose(get("relu")(z), [0, 0, 0, 1.5])
    # 0 at the kink (scikit-learn, PyTorch, JAX; the seed took 1: docs/derivation.md errata)
    np.testing.assert_allclose(get("relu").prime(z, None), [0, 0, 0, 1])
    np.testing.assert_allclose(get("leaky_relu").prime(z, None), [0.01, 0.01, 0.01, 1])
    np.testing.assert_allclose(get("leaky_relu")(z), [-0.02, -0.005, 0, 1.5])
    np.testing.assert_allclose(get("elu")(z), [np.exp(-2) - 1, np.exp(-0.5) - 1, 0, 1.5])
    np.testing.assert_allclose(get("softplus")(z), np.log1p(np.exp(z)))
    np.testing.assert_allclose(get("softplus").prime(z, None), expit(z))
    np.testing.assert_allclose(get("identity")(z), z)
    assert get("logistic") == cr.Sigmoid()


def test_softmax_backward_is_the_jacobian_vector_product(rng):
    z, g = rng.normal(size=(1, 4)), rng.normal(size=(1, 4))
    sm = cr.get_activation("softmax")
    a = sm(z)
    J = np.diag(a[0]) - np.outer(a[0], a[0])  # da_k/dz_j = a_k (delta_kj - a_j)
    np.testing.assert_allclose(sm.backward(z, a, g)[0], J.T @ g[0], rtol=1e-12)
    np.testing.assert_allclose(a.sum(), 1.0)
    with pytest.raises(TypeError, match="elementwise"):
        sm.prime(z, a)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_extreme_inputs_are_finite_and_silent(name, dtype):
    act = cr.get_activation(name)
    z = np.array([[-1e4, -100.0, -1.0, 0.0, 1.0, 100.0, 1e4]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = act(z)
        d = act.backward(z, a, np.ones_like(z))
    assert a.dtype == dtype and d.dtype == dtype
    assert np.isfinite(a).all() and np.isfinite(d).all()


def test_user_activation_registration():
    sq = cr.Activation("square_test", lambda z: z * z, lambda z: 2 * z)
    cr.register_activation(sq)
    assert cr.get_activation("square_test") is sq
    assert "square_test" in activation_names()
    with pytest.raises(ValueError, match="built-in"):
        cr.register_activation(cr.Activation("tanh", np.tanh, np.tanh))
    with pytest.raises(TypeError, match="Activation"):
        cr.register_activation("tanh")


def test_activation_of_output_derivative():
    act = cr.Activation("my_tanh", np.tanh, lambda a: 1 - a**2, of_output=True)
    z = np.array([0.3])
    np.testing.assert_allclose(act.prime(z, np.tanh(z)), 1 - np.tanh(z) ** 2)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_a_dead_unit_gets_the_gradients_of_pytorch_autograd(activation):
    """A hidden unit with zero incoming weights and a zero bias has z = 0 exactly for every
    sample: chainrule's gradients are PyTorch autograd's there (ReLU'(0) = 0)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(8, 3)), np.eye(2)[rng.integers(0, 2, size=8)]
    net = cr.Network(
        [3, 4, 2], activation=activation, output_activation="softmax",
        cost="categorical_cross_entropy", random_state=0,
    )  # fmt: skip
    net.W[0][1] = 0.0  # unit 2 of the hidden layer: z = 0 for every sample
    net.b[0][...] = 0.0
    _, grad = net.cost_and_gradient(X, Y)
    W1, b1, W2, b2 = (
        torch.tensor(p, requires_grad=True) for p in (*net.W[:1], net.b[0], net.W[1], net.b[1])
    )
    hidden = torch.relu if activation == "relu" else torch.nn.functional.leaky_relu
    z2 = hidden(torch.tensor(X) @ W1.T + b1) @ W2.T + b2
    cost = -(torch.tensor(Y) * torch.log_softmax(z2, dim=1)).sum(dim=1).mean()
    cost.backward()
    expected = np.concatenate([p.grad.numpy().ravel() for p in (W1, b1, W2, b2)])
    np.testing.assert_allclose(grad, expected, rtol=1e-10, atol=1e-12)
