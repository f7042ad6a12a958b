"""Classifying a critical point (:mod:`chainrule.calculus.classify`): every branch of the
one-variable test, of ``rt - s^2`` and of the Hessian's eigenvalues."""

from __future__ import annotations

import pytest
import sympy as sp

from chainrule import calculus as calc

x, y, z = sp.symbols("x y z")  # plain symbols: results mix with the user's sympy


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


def test_non_differentiable_point_is_inconclusive():
    assert calc.derivative("abs(x)") == sp.sign(x)  # variables are real inside
    (p,) = calc.critical_points("abs(x)")
    assert p.kind == "inconclusive" and "undefined" in p.test


@pytest.mark.parametrize(
    ("f", "kind"),
    [(lambda x: x**4, "minimum"), (lambda x: -(x**4), "maximum"), (lambda x: x**3, "inflection")],
)
def test_numeric_degenerate_one_variable(f, kind):
    (p,) = calc.critical_points(f)
    assert p.kind == kind and abs(p.point["x"]) < 1e-3
