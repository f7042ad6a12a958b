"""The numeric oracle (:mod:`chainrule.differences`): central differences, their step rule, the
error estimate, and the arrays they perturb restored bit for bit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chainrule import calculus as calc

# --------------------------------------------------------------------------------------
# The numeric oracle
# --------------------------------------------------------------------------------------


def test_numeric_gradient_contract_and_restores_x_bitwise():
    rng = np.random.default_rng(0)
    x0 = rng.normal(size=50) * 10.0 ** rng.integers(-8, 8, size=50)
    xs = x0.copy()
    A = rng.normal(size=50)
    g, err = calc.numeric_gradient(lambda v: float(np.sum(A * v**2)), xs)
    assert g.shape == err.shape == x0.shape
    assert xs.tobytes() == x0.tobytes()
    # f is a quadratic (no truncation error): what is left is rounding, which err covers
    assert np.all(np.abs(g - 2 * A * x0) <= 2 * err)
    small = x0[np.abs(x0) < 10]
    g_small, _ = calc.numeric_gradient(lambda v: float(np.sum(v**2)), small.copy())
    np.testing.assert_allclose(g_small, 2 * small, rtol=1e-6, atol=1e-6)


def test_numeric_gradient_in_place_closure_as_the_network_uses_it():
    theta = np.array([0.3, -1.2, 2.0])
    snapshot = theta.copy()

    def cost(_ignored):
        return float(np.sin(theta[0]) + theta[1] ** 2 * theta[2])

    g, _ = calc.numeric_gradient(cost, theta)
    exact = [math.cos(0.3), 2 * -1.2 * 2.0, (-1.2) ** 2]
    np.testing.assert_allclose(g, exact, rtol=1e-8)
    np.testing.assert_array_equal(theta, snapshot)


def test_numeric_gradient_restores_x_when_f_raises():
    v = np.array([1.0, 2.0, 3.0])
    calls = []

    def f(w):
        calls.append(w.copy())
        if len(calls) == 4:
            raise RuntimeError("boom")
        return float(w.sum())

    with pytest.raises(RuntimeError):
        calc.numeric_gradient(f, v)
    np.testing.assert_array_equal(v, [1.0, 2.0, 3.0])


def test_numeric_gradient_error_estimate_covers_the_error():
    x0 = np.linspace(-2, 2, 9)
    g, err = calc.numeric_gradient(
        lambda v: float(np.sum(np.exp(v) * np.sin(3 * v))), x0.copy(), error=True
    )
    exact = np.exp(x0) * (np.sin(3 * x0) + 3 * np.cos(3 * x0))
    assert np.all(np.abs(g - exact) <= 10 * err + 1e-13)
    # a big step has a big, honestly reported, truncation error
    g_big, err_big = calc.numeric_gradient(
        lambda v: float(np.sum(np.exp(v) * np.sin(3 * v))), x0.copy(), step=0.1, error=True
    )
    assert np.max(np.abs(g_big - exact)) > 1e-3
    assert np.all(np.abs(g_big - exact) <= 3 * err_big)


def test_numeric_gradient_step_depends_on_dtype():
    f = lambda v: float(np.sum(v.astype(np.float64) ** 3))  # noqa: E731
    x32 = np.array([1.0, 2.0], dtype=np.float32)
    g32, _ = calc.numeric_gradient(f, x32)
    np.testing.assert_allclose(g32, [3.0, 12.0], rtol=1e-3)
    x64 = np.array([1.0, 2.0])
    g64, _ = calc.numeric_gradient(f, x64)
    np.testing.assert_allclose(g64, [3.0, 12.0], rtol=1e-9)
    assert x32.dtype == np.float32 and np.all(x32 == [1.0, 2.0])


def test_numeric_gradient_explicit_step_and_bad_inputs():
    g, _ = calc.numeric_gradient(lambda v: float(v[0] ** 2), np.array([1.0]), step=0.5)
    assert g[0] == pytest.approx(2.0)  # exact for a quadratic, whatever the step
    with pytest.raises(TypeError):
        calc.numeric_gradient(lambda v: 0.0, np.array([1, 2]))
    with pytest.raises(ValueError):
        calc.numeric_gradient(lambda v: 0.0, np.array([1.0]), step=0.0)
    g_list, _ = calc.numeric_gradient(lambda v: float(v[0] * v[1]), [2.0, 5.0])
    np.testing.assert_allclose(g_list, [5.0, 2.0])


def test_numeric_gradient_on_thousands_of_entries():
    rng = np.random.default_rng(1)
    v = rng.normal(size=3000)
    A = rng.normal(size=3000)
    g, _ = calc.numeric_gradient(lambda w: float(A @ (w * w)), v)
    np.testing.assert_allclose(g, 2 * A * v, atol=1e-6)
