"""Each cost: its values, dC/da against central differences, saturated outputs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.costs import COSTS

from conftest import make_targets


def _valid_outputs(name, rng, shape):
    if name in ("binary_cross_entropy", "categorical_cross_entropy"):
        return rng.uniform(0.05, 0.95, size=shape)
    if name == "poisson":
        return rng.uniform(0.5, 3.0, size=shape)
    return rng.normal(size=shape)


@pytest.mark.parametrize("name", list(COSTS))
def test_derivative_matches_central_differences(name, rng):
    cost = cr.get_cost(name)
    y = make_targets(name, 5, 3, rng)
    a = _valid_outputs(name, rng, y.shape)
    if name in ("absolute_error", "huber"):
        a = y + rng.choice([-1, 1], size=y.shape) * rng.uniform(0.1, 0.9, size=y.shape)
    h = 1e-6
    numeric = np.empty_like(a)
    for idx in np.ndindex(a.shape):
        ap, am = a.copy(), a.copy()
        ap[idx] += h
        am[idx] -= h
        numeric[idx] = (cost(y, ap).sum() - cost(y, am).sum()) / (2 * h)
    np.testing.assert_allclose(cost.derivative(y, a), numeric, rtol=1e-6, atol=1e-9)


def test_seed_table_values():
    y, a = np.array([[1.0, 0.0]]), np.array([[0.8, 0.3]])
    se = cr.get_cost("squared_error")
    assert se(y, a)[0] == pytest.approx(0.5 * ((y - a) ** 2).sum())
    np.testing.assert_allclose(se.derivative(y, a), a - y)  # not the seed's y - a
    bce = cr.get_cost("binary_cross_entropy")
    seed_form = ((y - 1) * np.log(1 - a) - y * np.log(a)).sum()
    assert bce(y, a)[0] == pytest.approx(seed_form)
    np.testing.assert_allclose(bce.derivative(y, a), (a - y) / (a * (1 - a)))
    cce = cr.get_cost("categorical_cross_entropy")
    assert cce(np.array([[0.0, 1.0]]), np.array([[0.4, 0.6]]))[0] == pytest.approx(-np.log(0.6))
    huber = cr.get_cost("huber", delta=1.0)
    assert huber(np.zeros((1, 2)), np.array([[0.5, 3.0]]))[0] == pytest.approx(0.125 + 2.5)
    assert cr.get_cost("absolute_error")(y, a)[0] == pytest.approx(0.5)
    poisson = cr.get_cost("poisson")
    assert poisson(np.array([[2.0]]), np.array([[3.0]]))[0] == pytest.approx(
        3 - 2 * np.log(3) + 2 * np.log(2) - 2
    )


@pytest.mark.parametrize(
    "name,link", [("binary_cross_entropy", "sigmoid"), ("categorical_cross_entropy", "softmax")]
)
def test_logit_form_equals_the_plain_form(name, link, rng):
    cost, act = cr.get_cost(name), cr.get_activation(link)
    z = rng.normal(size=(6, 3))
    y = make_targets(name, 6, 3, rng)
    np.testing.assert_allclose(cost.from_logits(y, z), cost(y, act(z)), rtol=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "cost,output",
    [
        ("binary_cross_entropy", "sigmoid"),
        ("categorical_cross_entropy", "softmax"),
        ("binary_cross_entropy", "softmax"),
        ("categorical_cross_entropy", "sigmoid"),
        ("squared_error", "identity"),
        ("poisson", "exponential"),
        ("huber", "tanh"),
    ],
)
def test_saturated_outputs_stay_finite_and_silent(cost, output, dtype):
    net = cr.Network([2, 2], output_activation=output, cost=cost, dtype=dtype, random_state=0)
    net.W[0][...] = [[1.0, 0.0], [0.0, 1.0]]
    X = np.array([[1e4, -1e4], [-1e4, 1e4], [0.0, 0.0]], dtype=dtype)
    Y = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        C = net.cost(X, Y)
        _, g = net.cost_and_gradient(X, Y)
    assert np.isfinite(C) and np.isfinite(g).all() and g.dtype == dtype


def test_saturated_cross_entropy_is_exact_from_logits():
    """Computed from z, the cost of a confidently wrong sigmoid output is |z|, not a clip."""
    net = cr.Network([1, 1], cost="binary_cross_entropy", random_state=0)
    net.W[0][...] = 1.0
    net.b[0][...] = 0.0
    assert net.cost(np.array([[-800.0]]), np.array([[1.0]])) == pytest.approx(800.0)


def test_user_cost_registration():
    c = cr.Cost("cube_test", lambda y, a: ((a - y) ** 3).sum(1), lambda y, a: 3 * (a - y) ** 2)
    cr.register_cost(c)
    assert cr.get_cost("cube_test") is c
    with pytest.raises(ValueError, match="built-in"):
        cr.register_cost(cr.Cost("huber", None, None))
