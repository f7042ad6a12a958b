"""Parsing (:mod:`chainrule.calculus.parsing`): numeric and symbolic answers agree on random
smooth functions parsed from text, and hostile strings are refused."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule import calculus as calc
from chainrule.calculus.limits import MAX_LENGTH
from chainrule.calculus.parsing import ExpressionError, parse

x, y, z = sp.symbols("x y z")  # plain symbols: results mix with the user's sympy


# --------------------------------------------------------------------------------------
# Numeric and symbolic answers agree on random smooth functions
# --------------------------------------------------------------------------------------


def _trees(depth):
    leaf = st.sampled_from(["x", "y", "1", "2", "3", "0.5"])
    if depth == 0:
        return leaf
    sub = _trees(depth - 1)
    return st.one_of(
        leaf,
        st.tuples(sub, st.sampled_from(["+", "-", "*"]), sub).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(st.sampled_from(["sin", "cos", "tanh", "atan"]), sub).map(
            lambda t: f"{t[0]}({t[1]})"
        ),
        sub.map(lambda s: f"exp({s}/8)"),
        sub.map(lambda s: f"({s})**2"),
    )


smooth = _trees(3)


coordinate = st.floats(min_value=-1.5, max_value=1.5, allow_nan=False)


@settings(max_examples=30, deadline=None)
@given(smooth, coordinate, coordinate)
def test_numeric_gradient_agrees_with_symbolic(text, a, b):
    expr = parse(text)
    exact = calc.gradient(expr, at={"x": a, "y": b}, variables=["x", "y"])
    lam = sp.lambdify([x, y], expr, modules="numpy")
    numeric = calc.gradient(lambda x, y: float(lam(x, y)), at={"x": a, "y": b})
    assert np.all(np.abs(numeric - exact) <= 10 * numeric.error + 1e-7 * (1 + np.abs(exact)))


@settings(max_examples=30, deadline=None)
@given(smooth, coordinate)
def test_numeric_second_derivative_agrees_with_symbolic(text, a):
    expr = parse(text).subs(y, sp.Rational(1, 3))
    exact = calc.derivative(expr, "x", order=2, at={"x": a}) if expr.free_symbols else 0.0
    lam = sp.lambdify([x], expr, modules="numpy")
    numeric = calc.numeric_derivative(lambda t: float(lam(t)), a, order=2)
    assert abs(numeric - exact) <= 10 * numeric.error + 1e-5 * (1 + abs(exact))


@settings(max_examples=30, deadline=None)
@given(smooth)
def test_parse_round_trips_through_str(text):
    expr = parse(text)
    assert parse(str(expr)) == expr


# --------------------------------------------------------------------------------------
# Safety: hostile strings are refused, and never reach sympify / eval
# --------------------------------------------------------------------------------------

HOSTILE = [
    ("__import__('os').system('echo pwned')", "__import__('os').system"),
    ("().__class__.__bases__[0].__subclasses__()", "()"),
    ("x.__class__", "attribute access"),
    ("open('/etc/passwd').read()", "open('/etc/passwd').read"),
    ("eval('1+1')", "function 'eval' is not allowed"),
    ("exec('import os')", "function 'exec' is not allowed"),
    ("getattr(x, 'y')", "function 'getattr' is not allowed"),
    ("lambda: 0", "lambda"),
    ("[c for c in 'abc']", "comprehension"),
    ("'a string'", "string"),
    ("b'bytes'", "string"),
    ("x if y else z", "conditional"),
    ("x < y", "comparison"),
    ("x and y", "'and'/'or'"),
    ("x[0]", "indexing"),
    ("{x}", "set"),
    ("(x, y)", "tuple"),
    ("f'{x}'", "f-string"),
    ("(q := 1)", ":="),
    ("sin(*x)", "unpacking"),
    ("sin(x=1)", "keyword"),
    ("sin(x, y)", "takes 1"),
    ("x // y", "'//'"),
    ("x % y", "'%'"),
    ("x @ y", "'@'"),
    ("~x", "'~'"),
    ("x ^ 2", "write powers as **"),
    ("1j", "complex"),
    ("True", "bool"),
    ("None", "NoneType"),
    ("__builtins__", "__builtins__"),
    ("_x + 1", "_x"),
    ("sin", "needs an argument"),
    ("x; import os", "not a valid expression"),
    ("import os", "not a valid expression"),
    ("2x", "not a valid expression"),
    ("", "empty"),
    ("9**9**9**9", "exponents are limited"),
    ("x**(10**6)", "exponents are limited"),
    ("(10**100)**100", "digits"),
    ("1e999", "too large"),
    ("1/0", "undefined"),
    ("-" * 200 + "x", "nested more than"),
    ("x + " * 300 + "x", "characters long"),
]


@pytest.mark.parametrize(("text", "named"), HOSTILE)
def test_hostile_strings_are_refused_naming_the_part(text, named):
    with pytest.raises(ValueError) as info:
        parse(text)
    assert isinstance(info.value, ExpressionError)
    assert named in str(info.value)


def test_every_entry_point_refuses_hostile_strings(tmp_path):
    canary = tmp_path / "pwned"
    text = f"open({str(canary)!r}, 'w').write('x')"
    for call in (
        lambda: calc.derivative(text),
        lambda: calc.partial(text, "x"),
        lambda: calc.gradient(text),
        lambda: calc.hessian(text),
        lambda: calc.jacobian([text]),
        lambda: calc.evaluate(text, {}),
        lambda: calc.critical_points(text),
        lambda: calc.gradient_descent(text, start=(0,)),
    ):
        with pytest.raises(ValueError, match="refused"):
            call()
    assert not canary.exists()


def test_hostile_variable_names_and_coordinates_are_refused():
    with pytest.raises(ValueError):
        calc.partial("x**2", "__import__('os')")
    with pytest.raises(TypeError):
        calc.evaluate("x", {"x": "__import__('os').system('echo pwned')"})
    with pytest.raises(TypeError):
        calc.gradient("x*y", at=["1", "2"])


def test_length_cap():
    assert parse("x + " * 240 + "x") is not None  # 964 characters: fine
    with pytest.raises(ExpressionError, match=str(MAX_LENGTH)):
        parse("x" * (MAX_LENGTH + 1))


def test_strings_never_reach_sympify_or_parse_expr(monkeypatch):
    import sympy.parsing.sympy_parser as sympy_parser

    def guarded(real):
        # sympy itself sympifies names ("yotta") when it imports a module lazily (solve
        # imports sympy.physics.units); an expression, as the user's text, is refused
        def call(text, *args, **kwargs):
            if isinstance(text, str) and not text.isidentifier():
                raise AssertionError(f"user text reached sympify/parse_expr: {text!r}")
            return real(text, *args, **kwargs)

        return call

    monkeypatch.setattr(sp, "sympify", guarded(sp.sympify))
    monkeypatch.setattr(sp, "parse_expr", guarded(sp.parse_expr))
    monkeypatch.setattr(sympy_parser, "parse_expr", guarded(sympy_parser.parse_expr))
    assert calc.derivative("(x**4 + 2)*cos(x)") == 4 * x**3 * sp.cos(x) - (x**4 + 2) * sp.sin(x)
    cps = calc.critical_points("x**3 + y**3 - 3*x*y")
    assert [p.kind for p in cps] == ["saddle", "minimum"]
    assert calc.gradient_descent("(x-1)**2", start=0.0).converged


def test_whitelisted_functions_and_constants_parse():
    expr = parse(
        "sin(x) + cos(x) + tan(x) + exp(x) + log(x) + sqrt(x) + tanh(x) + sinh(x)"
        " + cosh(x) + asin(x) + acos(x) + atan(x) + abs(x) + pi + E + log(x, 2)"
    )
    assert expr.free_symbols == {x}
    assert expr.has(sp.pi, sp.E, sp.Abs(x), sp.asin(x))
    assert parse("0.1") == sp.Rational(1, 10)
    assert parse("2**(-3)") == sp.Rational(1, 8)
