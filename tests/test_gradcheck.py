"""The derivative check of user activations and costs (:mod:`chainrule.gradcheck`): a wrong
derivative is refused the first time a network uses it, with the numbers that disagree; right
ones and the built-ins pass."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import MLPRegressor


def data(n=20, d=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), np.arange(n) % 2


# -- the derivative check of user activations and costs --------------------------------------------


def test_user_activation_with_a_wrong_derivative_is_refused():
    mine = cr.Activation("mine", lambda z: z * z, lambda z: z)  # d(z^2)/dz is 2z, not z
    pattern = (
        r"activation 'mine': derivative (\S+) at z=(\S+) disagrees with central differences "
        r"(\S+) \(relative error"
    )
    with pytest.raises(ValueError, match=pattern) as info:
        cr.Network([3, 4, 1], activation=mine)
    d, z, fd = map(float, re.search(pattern, str(info.value)).groups())
    assert d == pytest.approx(z, rel=1e-5) and fd == pytest.approx(2 * z, rel=1e-5)
    with pytest.raises(ValueError, match="activation 'mine'"):
        MLPRegressor(activation=mine, max_iter=1).fit(*data())
    with pytest.raises(ValueError, match="activation 'mine'"):
        cr.Network([3, 1], output_activation=mine)


def test_derivative_of_a_instead_of_z_suggests_of_output():
    tanh = cr.Activation("my_tanh", np.tanh, lambda a: 1 - a**2)  # forgot of_output=True
    with pytest.raises(ValueError, match=r"'my_tanh'.*pass of_output=True"):
        cr.Network([3, 4, 1], activation=tanh)


@pytest.mark.parametrize(
    "act",
    [
        cr.Activation("cube_ok", lambda z: z**3, lambda z: 3 * z**2),
        cr.Activation("tanh_ok", np.tanh, lambda a: 1 - a**2, of_output=True),
        cr.Activation(
            "swish_ok",
            lambda z: z / (1 + np.exp(-z)),
            lambda z: (1 + np.exp(-z) + z * np.exp(-z)) / (1 + np.exp(-z)) ** 2,
        ),
        cr.Activation(  # kinks at -1 and 1: a one-sided derivative is accepted there
            "hard_tanh", lambda z: np.clip(z, -1, 1), lambda z: (np.abs(z) <= 1).astype(z.dtype)
        ),
        cr.Activation("double", lambda z: 2 * z, lambda z: 2.0),  # a scalar derivative
        cr.Activation("sqrt", np.sqrt, lambda z: 0.5 / np.sqrt(z)),  # NaN for z < 0: skipped
        cr.Activation(  # float32 values: longer steps, looser tolerance
            "tanh32",
            lambda z: np.tanh(z).astype(np.float32),
            lambda z: (1 - np.tanh(z) ** 2).astype(np.float32),
        ),
    ],
    ids=lambda a: a.name,
)
def test_user_activations_with_right_derivatives_pass(act):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        cr.Network([3, 4, 1], activation=act, random_state=0)


def test_user_activation_must_be_elementwise():
    total = cr.Activation("total", lambda z: z.sum(), lambda z: 1.0)
    with pytest.raises(ValueError, match="'total': its function returned shape"):
        cr.Network([3, 4, 1], activation=total)


def test_builtin_activations_skip_the_check():
    tanh = cr.get_activation("tanh")
    tanh.derivative = lambda a: 0 * a  # wrong, but a built-in is trusted: no check
    cr.Network([3, 4, 1], activation=tanh)


def test_user_cost_with_a_wrong_derivative_is_refused():
    half = cr.Cost("no_half", lambda y, a: ((a - y) ** 2).sum(1), lambda y, a: a - y)
    with pytest.raises(ValueError, match=r"cost 'no_half': derivative dC/da .* disagrees"):
        cr.Network([3, 4, 2], cost=half)
    with pytest.raises(ValueError, match="cost 'no_half'"):
        MLPRegressor(loss=half, max_iter=1).fit(*data())
    good = cr.Cost("half", lambda y, a: 0.5 * ((a - y) ** 2).sum(1), lambda y, a: a - y)
    cr.Network([3, 4, 2], cost=good)
