"""The global picture (:mod:`chainrule.calculus.extrema`): global extrema and unboundedness."""

from __future__ import annotations

import pytest
import sympy as sp

from chainrule import calculus as calc

x, y, z = sp.symbols("x y z")  # plain symbols: results mix with the user's sympy


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
