"""Critical points (:mod:`chainrule.calculus.critical`): found and classified, exact or numeric,
and the two agree."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from chainrule import calculus as calc
from chainrule.calculus.parsing import parse

from critical_points import kinds, points

x, y, z = sp.symbols("x y z")  # plain symbols: results mix with the user's sympy


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


def test_two_variable_issue_example():
    cps = calc.critical_points("x**3 + y**3 - 3*x*y")
    assert [(p.point, p.value, p.kind) for p in cps] == [
        ({"x": 0, "y": 0}, 0, "saddle"),
        ({"x": 1, "y": 1}, -1, "minimum"),
    ]
    assert "r = 6, s = -3, t = 6" in cps[1].test


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


def test_numeric_and_symbolic_critical_points_agree():
    f = "x**4 - 4*x**2 + x*y + y**2"
    exact = calc.critical_points(f)
    numeric = calc.critical_points(f, method="numeric", bounds=(-3, 3))
    assert kinds(exact) == kinds(numeric)
    np.testing.assert_allclose(points(exact), points(numeric), atol=1e-7)
