"""What the calculus entry points accept (:mod:`chainrule.calculus.functions`):
strings, sympy and callables alike; variables alphabetical unless given."""

from __future__ import annotations

import math

import pytest
import sympy as sp

from chainrule import calculus as calc

x, y = sp.symbols("x y")  # plain symbols: results mix with the user's sympy


def test_inputs_string_sympy_and_callable_agree():
    s = calc.derivative("sin(x)*exp(x)", at=0.7)
    e = calc.derivative(sp.sin(x) * sp.exp(x), at=0.7)
    c = calc.derivative(lambda t: math.sin(t) * math.exp(t), at=0.7)
    exact = math.exp(0.7) * (math.sin(0.7) + math.cos(0.7))
    assert s == pytest.approx(exact, rel=1e-14)
    assert e == pytest.approx(exact, rel=1e-14)
    assert c == pytest.approx(exact, rel=1e-8)


def test_variables_are_alphabetical_unless_given():
    assert calc.gradient("y**2 + x") == [1, 2 * y]
    assert calc.gradient("y**2 + x", variables=["y", "x"]) == [2 * y, 1]
    a, b = sp.symbols("a b")
    assert calc.gradient("b*a**2") == [2 * a * b, a**2]
