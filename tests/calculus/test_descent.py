"""Gradient descent (:mod:`chainrule.calculus.descent`), the reference derivation's algorithm
with its sign corrected: its steps, its stopping rules, divergence and momentum."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import sympy as sp

from chainrule import calculus as calc

x, y, z = sp.symbols("x y z")  # plain symbols: results mix with the user's sympy


# --------------------------------------------------------------------------------------
# Gradient descent
# --------------------------------------------------------------------------------------


def test_gradient_descent_issue_example():
    r = calc.gradient_descent("(x-3)**2 + (y+1)**2", start={"x": 0, "y": 0}, learning_rate=0.1)
    assert r.reason == "gradient norm below tol" and r.converged
    assert r.point == pytest.approx({"x": 3.0, "y": -1.0}, abs=1e-7)
    assert r.value == pytest.approx(0.0, abs=1e-14)
    assert r.path.shape == (r.steps + 1, 2)
    np.testing.assert_array_equal(r.path[0], [0.0, 0.0])
    assert r.gradient_norm < 1e-8
    assert np.all(np.diff(r.values) < 0)
    assert r.variables == ("x", "y")


def test_descent_steps_go_against_the_gradient():
    # Erratum: the seed's x_{i+1} = x_i + alpha * grad climbs.
    r = calc.gradient_descent("(x-3)**2 + (y+1)**2", start=(0, 0), learning_rate=0.1, max_steps=1)
    grad0 = calc.gradient("(x-3)**2 + (y+1)**2", at=(0, 0))  # [-6, 2]
    np.testing.assert_allclose(r.path[1], r.path[0] - 0.1 * grad0)
    assert r.values[1] < r.values[0]
    assert r.reason == "max_steps reached" and r.steps == 1


def test_descent_stops_on_gradient_norm_not_on_f_below_eps():
    # Erratum: the seed stops when f < eps, which never happens when min f = 5.
    r = calc.gradient_descent("(x - 1)**2 + 5", start=4.0, learning_rate=0.25)
    assert r.converged and r.value == pytest.approx(5.0)


def test_descent_from_a_critical_point_takes_no_step():
    r = calc.gradient_descent("x**2 + y**2", start=(0, 0))
    assert r.steps == 0 and r.converged and r.path.shape == (1, 2)


def test_descent_divergence_is_detected():
    r = calc.gradient_descent("x**2", start=1.0, learning_rate=1.5)
    assert r.reason == "diverged" and not r.converged
    assert r.steps < 100
    unbounded = calc.gradient_descent("x**3", start=-1.0, learning_rate=0.1)
    assert unbounded.reason == "diverged"
    nan = calc.gradient_descent("log(x)", start=1.0, learning_rate=0.5)
    assert nan.reason == "diverged"


def test_descent_max_steps():
    r = calc.gradient_descent("x**2", start=1.0, learning_rate=1e-4, max_steps=25)
    assert r.reason == "max_steps reached" and r.steps == 25 and r.path.shape == (26, 1)


def test_momentum_speeds_up_an_ill_conditioned_valley():
    f = "x**2/100 + y**2"
    plain = calc.gradient_descent(f, start=(5, 1), learning_rate=0.4)
    heavy = calc.gradient_descent(f, start=(5, 1), learning_rate=0.4, momentum=0.8)
    assert plain.converged and heavy.converged
    assert heavy.steps < plain.steps / 3
    np.testing.assert_allclose(heavy.path[1], plain.path[1])  # no velocity on step one


def test_descent_on_a_callable_matches_the_symbolic_run():
    sym = calc.gradient_descent("(x-3)**2 + (y+1)**2", start=(0, 0))
    num = calc.gradient_descent(lambda x, y: (x - 3) ** 2 + (y + 1) ** 2, start=(0, 0))
    assert num.converged
    assert num.variables == ("x", "y")
    np.testing.assert_allclose(num.path[:10], sym.path[:10], atol=1e-7)
    assert num.point == pytest.approx(sym.point, abs=1e-6)


def test_descent_argument_checks():
    with pytest.raises(ValueError):
        calc.gradient_descent("x**2", start=1.0, learning_rate=0)
    with pytest.raises(ValueError):
        calc.gradient_descent("x**2", start=1.0, momentum=1.0)
    for name, value, message in [
        ("learning_rate", "0.1", "learning_rate must be a real number, got '0.1'"),
        ("learning_rate", math.inf, "learning_rate must be positive"),
        ("learning_rate", math.nan, "learning_rate must be positive"),
        ("momentum", None, "momentum must be a real number"),
        ("tol", math.nan, "tol must be positive"),
        ("divergence", math.nan, "divergence must be positive"),
    ]:
        with pytest.raises(ValueError, match=message):
            calc.gradient_descent("x**2", start=1.0, **{name: value})
    for max_steps in (10**12, -1, 2.5, True):  # 10**12 steps would spin and fill memory
        with pytest.raises(ValueError, match="max_steps must be an integer from 0 to 1000000"):
            calc.gradient_descent("x**2", start=1.0, learning_rate=1e-12, max_steps=max_steps)
    r = calc.gradient_descent("x**2", start=1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.steps = 3
    assert "path" not in repr(r)
