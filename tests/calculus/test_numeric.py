"""Numeric derivatives of callables (:mod:`chainrule.calculus.numeric`): every order, the Hessian
and the Jacobian, against the exact values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chainrule import calculus as calc


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_numeric_derivative_orders(order):
    exact = [math.cos, lambda t: -math.sin(t), lambda t: -math.cos(t), math.sin][order - 1](0.8)
    d = calc.numeric_derivative(math.sin, 0.8, order=order)
    assert abs(d - exact) <= 10 * d.error + 1e-12
    assert abs(d - exact) < 10.0 ** (-8 + 2 * order)


def test_numeric_hessian_and_jacobian():
    H, err = calc.numeric_hessian(lambda v: v[0] ** 2 * v[1], np.array([1.0, 3.0]), error=True)
    np.testing.assert_allclose(H, [[6.0, 2.0], [2.0, 0.0]], atol=1e-6)
    assert np.all(np.abs(H - [[6.0, 2.0], [2.0, 0.0]]) <= 10 * err + 1e-12)
    J, _ = calc.numeric_jacobian(lambda v: [v[0] * v[1], v[0] + v[1]], np.array([2.0, 5.0]))
    np.testing.assert_allclose(J, [[5.0, 2.0], [1.0, 1.0]], atol=1e-8)
