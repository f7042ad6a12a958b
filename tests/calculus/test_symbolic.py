"""Tests for chainrule.calculus: the seed's worked examples, derivatives, partials,
gradient, Hessian and Jacobian, and the numeric oracle."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from chainrule import calculus as calc

x, y, z = sp.symbols("x y z")  # plain symbols: results mix with the user's sympy


# --------------------------------------------------------------------------------------
# The seed's worked examples, with the seed's answers
# --------------------------------------------------------------------------------------


def test_vectors_ab_is_ob_minus_oa():
    OA = np.array([1, 1])  # i + j
    OB = np.array([3, 2])  # 3i + 2j
    AB = OB - OA
    np.testing.assert_array_equal(AB, [2, 1])  # 2i + j
    assert np.linalg.norm(AB) == pytest.approx(math.sqrt(5))
    np.testing.assert_allclose(AB / np.linalg.norm(AB), [2 / math.sqrt(5), 1 / math.sqrt(5)])


def test_power_rule_x5():
    assert calc.derivative("x**5") == 5 * x**4
    assert calc.derivative("x**5", order=2) == 20 * x**3
    assert calc.derivative("x**5", order=6) == 0
    assert calc.derivative("x**5", at=2) == 80.0


def test_power_rule_general_n():
    n = sp.Symbol("n")
    assert sp.simplify(calc.derivative(x**n, "x") - n * x ** (n - 1)) == 0


def test_product_rule_seed_example():
    d = calc.derivative("(x**4 + 2)*cos(x)")
    assert str(d) == "4*x**3*cos(x) - (x**4 + 2)*sin(x)"
    seed_answer = 4 * x**3 * sp.cos(x) - x**4 * sp.sin(x) - 2 * sp.sin(x)
    assert sp.simplify(d - seed_answer) == 0


def test_product_rule_corrected_statement():
    # Erratum: the seed writes f(x) = f(x) g(x); the rule is h = f g, h' = f'g + f g'.
    f, g = sp.Function("f")(x), sp.Function("g")(x)
    assert calc.derivative(f * g, "x") == f.diff(x) * g + f * g.diff(x)


def test_partials_of_x4_y():
    assert calc.partial("x**4*y", "x") == 4 * x**3 * y
    assert calc.partial("x**4*y", "y") == x**4
    assert calc.partial("x**4*y", ["x", "y"]) == 4 * x**3
    assert calc.partial("x**4*y", "x", at={"x": 1, "y": 2}) == 8.0


def test_gradient_of_2x2_plus_4y():
    assert calc.gradient("2*x**2 + 4*y") == [4 * x, 4]
    np.testing.assert_array_equal(calc.gradient("2*x**2 + 4*y", at={"x": 1, "y": 2}), [4.0, 4.0])
    np.testing.assert_array_equal(calc.gradient("2*x**2 + 4*y", at=(3, 0)), [12.0, 4.0])


def test_derivative_is_the_limit_of_the_difference_quotient():
    # dy/dx = lim (f(x + dx) - f(x)) / dx: the quotients approach the symbolic answer.
    exact = calc.derivative("x**5", at=1.5)
    quotients = [((1.5 + h) ** 5 - 1.5**5) / h for h in (1e-1, 1e-2, 1e-3, 1e-4)]
    errors = [abs(q - exact) for q in quotients]
    assert errors == sorted(errors, reverse=True)
    assert errors[-1] < 1e-2


def test_numeric_derivative_of_callable():
    d = calc.derivative(lambda t: t**3, at=2.0)
    assert isinstance(d, calc.Estimate)
    assert d == pytest.approx(12.0, abs=1e-8)
    assert 0 <= d.error < 1e-6
    assert abs(d - 12.0) <= 10 * d.error + 1e-12


# --------------------------------------------------------------------------------------
# Derivatives, partials, gradient, Hessian, Jacobian
# --------------------------------------------------------------------------------------


def test_derivative_needs_a_variable_when_there_are_several():
    with pytest.raises(ValueError, match="variables"):
        calc.derivative("x*y")
    assert calc.derivative("x*y", "y") == x


def test_derivative_of_a_constant_is_zero():
    assert calc.derivative("5") == 0
    assert calc.derivative(7) == 0


def test_hessian_symbolic_and_at_a_point():
    H = calc.hessian("x**3 + y**3 - 3*x*y")
    assert H == sp.Matrix([[6 * x, -3], [-3, 6 * y]])
    np.testing.assert_array_equal(
        calc.hessian("x**3 + y**3 - 3*x*y", at=(1, 1)), [[6, -3], [-3, 6]]
    )


def test_hessian_of_callable_has_error_estimate():
    H = calc.hessian(lambda a, b: a**3 * b, at=(1.0, 2.0))
    np.testing.assert_allclose(H, [[12.0, 3.0], [3.0, 0.0]], atol=1e-6)
    assert H.error.shape == (2, 2)
    assert np.all(np.abs(np.asarray(H) - [[12.0, 3.0], [3.0, 0.0]]) <= 10 * H.error + 1e-9)


def test_jacobian_symbolic_numeric():
    J = calc.jacobian(["x*y", "x + y**2"])
    assert J == sp.Matrix([[y, x], [1, 2 * y]])
    np.testing.assert_array_equal(
        calc.jacobian(["x*y", "x + y**2"], at={"x": 2, "y": 3}), [[3, 2], [1, 6]]
    )
    Jn = calc.jacobian(lambda a, b: [a * b, a + b**2], at=(2.0, 3.0))
    np.testing.assert_allclose(Jn, [[3, 2], [1, 6]], atol=1e-8)
    Jv = calc.jacobian(lambda v: v**2, at=[1.0, 2.0, 3.0])
    np.testing.assert_allclose(Jv, np.diag([2.0, 4.0, 6.0]), atol=1e-8)


def test_partials_of_callables():
    f = lambda a, b: a**4 * b  # noqa: E731
    assert calc.partial(f, "a", at=(1.0, 2.0)) == pytest.approx(8.0, rel=1e-8)
    assert calc.partial(f, "b", at=(1.0, 2.0)) == pytest.approx(1.0, rel=1e-8)
    assert calc.partial(f, ["a", "b"], at=(1.0, 2.0)) == pytest.approx(4.0, rel=1e-6)
    assert calc.partial(f, "a", order=2, at=(1.0, 2.0)) == pytest.approx(24.0, rel=1e-6)
    with pytest.raises(ValueError, match="unknown variable"):
        calc.partial(f, "c", at=(1.0, 2.0))


def test_gradient_of_callable_is_estimate_array():
    g = calc.gradient(lambda a, b: 2 * a**2 + 4 * b, at={"a": 1.0, "b": 2.0})
    assert isinstance(g, calc.EstimateArray)
    np.testing.assert_allclose(g, [4.0, 4.0], atol=1e-8)
    assert g.error.shape == (2,) and np.all(g.error < 1e-6)
    assert (2 * g).error is None  # derived arrays carry no estimate
    gv = calc.gradient(lambda v: np.sum(v**2), at=[1.0, 2.0, 3.0])
    np.testing.assert_allclose(gv, [2.0, 4.0, 6.0], atol=1e-8)
    # a float32 point gets float32-sized steps, and an error estimate to match
    g32 = calc.gradient(lambda a, b: a**3 + b, at=np.array([2.0, 1.0], dtype=np.float32))
    assert np.all(g32.error > 1e-6)
    assert np.all(np.abs(g32 - [12.0, 1.0]) <= 2 * g32.error)


def test_callables_need_a_point():
    with pytest.raises(ValueError, match="at="):
        calc.derivative(lambda t: t**2)
    with pytest.raises(ValueError, match="at="):
        calc.gradient(lambda a, b: a * b)


def test_estimate_behaves_as_float():
    e = calc.Estimate(2.5, 1e-9)
    assert e * 2 == 5.0 and e.error == 1e-9
    assert "error" in repr(e)
