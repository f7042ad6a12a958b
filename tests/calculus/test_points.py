"""Points read and checked (:mod:`chainrule.calculus.points`): a
value for every variable and no other, a real value at the point."""

from __future__ import annotations

import pytest

from chainrule import calculus as calc


def test_evaluate_and_point_validation():
    assert calc.evaluate("x**4*y", {"x": 2, "y": 3}) == 48.0
    assert calc.evaluate(lambda a, b: a**4 * b, (2, 3)) == 48.0
    with pytest.raises(ValueError, match="no value"):
        calc.evaluate("x*y", {"x": 1})
    with pytest.raises(ValueError, match="unknown"):
        calc.evaluate("x", {"x": 1, "q": 2})
    with pytest.raises(ValueError, match="not real"):
        calc.evaluate("sqrt(x)", {"x": -1})
