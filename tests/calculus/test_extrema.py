"""Tests for chainrule.calculus: every branch of the critical-point tests, global extrema,
and gradient descent."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import sympy as sp

from chainrule import calculus as calc
from chainrule.calculus.parsing import parse

x, y, z = sp.symbols("x y z")  # plain symbols: results mix with the user's sympy


def kinds(cps):
    return [p.kind for p in cps]


def points(cps):
    return [tuple(float(v) for v in p.point.values()) for p in cps]


# --------------------------------------------------------------------------------------
# Critical points: every branch of both tests
# --------------------------------------------------------------------------------------


def test_critical_points_issue_example_1d():
    cps = calc.critical_points("x**3 - 3*x")
    assert [(p.point, p.value, p.kind) for p in cps] == [
        ({"x": -1}, 2, "maximum"),
        ({"x": 1}, -2, "minimum"),
    ]
    assert cps.method == "symbolic" and all(p.method == "symbolic" for p in cps)
    assert "f''(1) = 6 > 0" in cps[1].test


def test_critical_points_exact_irrational():
    cps = calc.critical_points("x**3 - 6*x")
    assert [p.point["x"] for p in cps] == [-sp.sqrt(2), sp.sqrt(2)]
    assert kinds(cps) == ["maximum", "minimum"]


@pytest.mark.parametrize(
    ("f", "kind", "order"),
    [
        ("x**2", "minimum", 2),
        ("-x**2", "maximum", 2),
        ("x**3", "inflection", 3),
        ("x**4", "minimum", 4),
        ("-x**4", "maximum", 4),
        ("x**5", "inflection", 5),
        ("x**6", "minimum", 6),
    ],
)
def test_one_variable_test_and_higher_derivatives(f, kind, order):
    cps = calc.critical_points(f)
    assert len(cps) == 1
    (p,) = cps
    assert p.point == {"x": 0} and p.kind == kind
    if order > 2:
        assert f"f^({order})(0)" in p.test


def test_one_variable_inconclusive_when_derivatives_run_out():
    (p,) = calc.critical_points("x**6", max_order=5)
    assert p.kind == "inconclusive"


@pytest.mark.parametrize(
    ("f", "kind", "sign"),
    [
        ("x**2 + y**2", "minimum", "> 0, r > 0"),
        ("-x**2 - y**2", "maximum", "> 0, r < 0"),
        ("x**2 - y**2", "saddle", "< 0"),
        ("x**4 + y**4", "inconclusive", "= 0: the test fails"),
    ],
)
def test_two_variable_rt_minus_s2_test(f, kind, sign):
    (p,) = calc.critical_points(f)
    assert p.point == {"x": 0, "y": 0}
    assert p.kind == kind
    assert f"rt - s^2 {sign}" in p.test


def test_two_variable_issue_example():
    cps = calc.critical_points("x**3 + y**3 - 3*x*y")
    assert [(p.point, p.value, p.kind) for p in cps] == [
        ({"x": 0, "y": 0}, 0, "saddle"),
        ({"x": 1, "y": 1}, -1, "minimum"),
    ]
    assert "r = 6, s = -3, t = 6" in cps[1].test


def test_rt_minus_s2_not_the_seeds_misprint():
    # r = 4, s = 3/2, t = 1: rt - s^2 = 7/4 > 0 (a minimum); the misprint "t - s^2" < 0
    # would call it a saddle.
    (p,) = calc.critical_points("2*x**2 + 1.5*x*y + y**2/2")
    assert p.kind == "minimum"
    assert "rt - s^2 > 0" in p.test


@pytest.mark.parametrize(
    ("f", "kind"),
    [
        ("x**2 + y**2 + z**2 - x*y", "minimum"),
        ("-x**2 - y**2 - z**2", "maximum"),
        ("x**2 - y**2 + z**2", "saddle"),
        ("x**4 + y**2 + z**2", "inconclusive"),
    ],
)
def test_three_variables_by_hessian_eigenvalues(f, kind):
    (p,) = calc.critical_points(f)
    assert p.point == {"x": 0, "y": 0, "z": 0}
    assert p.kind == kind
    assert "Hessian eigenvalues" in p.test


def test_transcendental_falls_back_to_numeric_and_says_so():
    cps = calc.critical_points("x**2 + 10*sin(x)")
    assert cps.method == "numeric"
    assert "numeric" in cps.note and "no closed form" in cps.note
    assert all(p.method == "numeric" for p in cps)
    assert kinds(cps) == ["minimum", "maximum", "minimum"]
    for p in cps:
        c = p.point["x"]
        assert abs(2 * c + 10 * math.cos(c)) < 1e-8
        assert p.value == pytest.approx(c**2 + 10 * math.sin(c))
    assert cps.global_minimum is cps[0]
    assert cps.global_minimum.point["x"] == pytest.approx(-1.30644, abs=1e-5)
    assert "numeric" in str(cps[0])


def test_transcendental_two_variables_numeric():
    cps = calc.critical_points("x**2 + y**2 + sin(3*x)", bounds=(-3, 3), n_starts=25)
    assert cps.method == "numeric"
    assert kinds(cps) == ["minimum", "saddle", "minimum"]
    for p in cps:
        g = calc.gradient("x**2 + y**2 + sin(3*x)", at=p.point)
        assert np.linalg.norm(g) < 1e-8


def test_infinitely_many_exact_solutions_are_listed_in_bounds():
    cps = calc.critical_points("sin(x)", bounds=(-4, 4))
    assert cps.method == "symbolic"
    assert [p.point["x"] for p in cps] == [-sp.pi / 2, sp.pi / 2]
    assert kinds(cps) == ["minimum", "maximum"]
    assert "infinitely many" in cps.note


def test_non_polynomial_system_is_completed_by_numeric_search():
    cps = calc.critical_points("sin(x)*sin(y)", bounds=(-3, 3))
    assert cps.method == "mixed" and "numeric search" in cps.note
    assert sorted(p.method for p in cps) == ["numeric"] * 3 + ["symbolic"] * 2
    expected = {(0, 0): "saddle", (1, 1): "maximum", (-1, -1): "maximum"}
    expected.update({(1, -1): "minimum", (-1, 1): "minimum"})
    got = {tuple(round(c / (math.pi / 2)) for c in p.coordinates()): p.kind for p in cps}
    assert got == expected


def test_non_differentiable_point_is_inconclusive():
    assert calc.derivative("abs(x)") == sp.sign(x)  # variables are real inside
    (p,) = calc.critical_points("abs(x)")
    assert p.kind == "inconclusive" and "undefined" in p.test


def test_other_symbols_must_be_given_values():
    with pytest.raises(ValueError, match="also depends on"):
        calc.critical_points("x**2 + a*y", variables=["x", "y"])
    (p,) = calc.critical_points(parse("x**2 + a*x").subs(sp.Symbol("a"), 2))
    assert p.point == {"x": -1}


def test_curve_of_critical_points_is_reported():
    (p,) = calc.critical_points("(x - y)**2")
    assert p.kind == "inconclusive"
    assert "set of critical points" in p.note


def test_constant_function():
    cps = calc.critical_points("5")
    assert list(cps) == [] and "every point" in cps.note


def test_callables_are_searched_numerically():
    cps = calc.critical_points(lambda x: x**3 - 3 * x)
    assert cps.method == "numeric"
    assert kinds(cps) == ["maximum", "minimum"]
    assert points(cps) == [pytest.approx((-1.0,)), pytest.approx((1.0,))]
    cps2 = calc.critical_points(lambda x, y: x**3 + y**3 - 3 * x * y)
    assert kinds(cps2) == ["saddle", "minimum"]
    np.testing.assert_allclose(points(cps2), [[0, 0], [1, 1]], atol=1e-6)


@pytest.mark.parametrize(
    ("f", "kind"),
    [(lambda x: x**4, "minimum"), (lambda x: -(x**4), "maximum"), (lambda x: x**3, "inflection")],
)
def test_numeric_degenerate_one_variable(f, kind):
    (p,) = calc.critical_points(f)
    assert p.kind == kind and abs(p.point["x"]) < 1e-3


def test_numeric_search_of_vector_callable_in_three_variables():
    cps = calc.critical_points(
        lambda v: v[0] ** 2 + 2 * v[1] ** 2 - v[2] ** 2, bounds=[(-2, 2)] * 3
    )
    (p,) = cps
    assert p.kind == "saddle"
    assert list(p.point) == ["v[0]", "v[1]", "v[2]"]
    np.testing.assert_allclose(p.coordinates(), 0, atol=1e-8)


def test_numeric_and_symbolic_critical_points_agree():
    f = "x**4 - 4*x**2 + x*y + y**2"
    exact = calc.critical_points(f)
    numeric = calc.critical_points(f, method="numeric", bounds=(-3, 3))
    assert kinds(exact) == kinds(numeric)
    np.testing.assert_allclose(points(exact), points(numeric), atol=1e-7)


@pytest.mark.parametrize("n_starts", [10**9, 0, -3, 2.5, True])
def test_n_starts_is_checked_against_its_limit(n_starts):  # 10**9 starts spun
    with pytest.raises(ValueError, match="n_starts must be an integer from 1 to 1000"):
        calc.critical_points("sin(x)*exp(-x**2) + x**2", n_starts=n_starts)


def test_method_argument_is_checked():
    with pytest.raises(ValueError):
        calc.critical_points("x**2", method="magic")
    with pytest.raises(ValueError, match="symbolic"):
        calc.critical_points(lambda t: t**2, method="symbolic")


def test_global_extrema_and_unboundedness():
    cubic = calc.critical_points("x**3 - 3*x")
    assert cubic.unbounded_below and cubic.unbounded_above
    assert cubic.global_minimum is None and cubic.global_maximum is None

    quartic = calc.critical_points("x**4 + y**4")
    assert not quartic.unbounded_below and quartic.unbounded_above
    assert quartic.global_minimum is quartic[0] and quartic.global_maximum is None

    bump = calc.critical_points("exp(-x**2)")
    assert bump.global_maximum is bump[0]
    assert bump.global_minimum is None  # f -> 0 < 1 far away: the infimum is not attained
    assert not bump.unbounded_below

    wave = calc.critical_points("sin(x)", bounds=(-4, 4))
    assert not wave.unbounded_below and not wave.unbounded_above
    assert wave.global_minimum.value == -1 and wave.global_maximum.value == 1

    numeric = calc.critical_points(lambda x, y: (x - 1) ** 2 + (y + 2) ** 2)
    assert numeric.global_minimum.point == pytest.approx({"x": 1.0, "y": -2.0})
    assert numeric.unbounded_above and not numeric.unbounded_below
    assert "global minimum: f=" in numeric.summary()


def test_records_are_frozen_dataclasses():
    p = calc.critical_points("x**2")[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.kind = "maximum"
    assert p.kind in calc.KINDS
    assert str(p).startswith("minimum at x=0")


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
