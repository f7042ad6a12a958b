"""Solving ``grad f = 0`` (:mod:`chainrule.calculus.solve`): exactly with sympy, or by a numeric
search in a box where sympy cannot, and the search's arguments checked."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from chainrule import calculus as calc

from critical_points import kinds, points

x, y, z = sp.symbols("x y z")  # plain symbols: results mix with the user's sympy


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


def test_callables_are_searched_numerically():
    cps = calc.critical_points(lambda x: x**3 - 3 * x)
    assert cps.method == "numeric"
    assert kinds(cps) == ["maximum", "minimum"]
    assert points(cps) == [pytest.approx((-1.0,)), pytest.approx((1.0,))]
    cps2 = calc.critical_points(lambda x, y: x**3 + y**3 - 3 * x * y)
    assert kinds(cps2) == ["saddle", "minimum"]
    np.testing.assert_allclose(points(cps2), [[0, 0], [1, 1]], atol=1e-6)


def test_numeric_search_of_vector_callable_in_three_variables():
    cps = calc.critical_points(
        lambda v: v[0] ** 2 + 2 * v[1] ** 2 - v[2] ** 2, bounds=[(-2, 2)] * 3
    )
    (p,) = cps
    assert p.kind == "saddle"
    assert list(p.point) == ["v[0]", "v[1]", "v[2]"]
    np.testing.assert_allclose(p.coordinates(), 0, atol=1e-8)


@pytest.mark.parametrize("n_starts", [10**9, 0, -3, 2.5, True])
def test_n_starts_is_checked_against_its_limit(n_starts):  # 10**9 starts spun
    with pytest.raises(ValueError, match="n_starts must be an integer from 1 to 1000"):
        calc.critical_points("sin(x)*exp(-x**2) + x**2", n_starts=n_starts)


def test_method_argument_is_checked():
    with pytest.raises(ValueError):
        calc.critical_points("x**2", method="magic")
    with pytest.raises(ValueError, match="symbolic"):
        calc.critical_points(lambda t: t**2, method="symbolic")
