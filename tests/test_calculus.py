"""Tests for chainrule.calculus: the seed's worked examples, every branch of the
critical-point tests, gradient descent, the numeric oracle, safety and plots."""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule import calculus as calc
from chainrule.calculus.limits import MAX_LENGTH
from chainrule.calculus.parsing import ExpressionError, parse

x, y, z = sp.symbols("x y z")  # plain symbols: results mix with the user's sympy


def kinds(cps):
    return [p.kind for p in cps]


def points(cps):
    return [tuple(float(v) for v in p.point.values()) for p in cps]


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


def test_evaluate_and_point_validation():
    assert calc.evaluate("x**4*y", {"x": 2, "y": 3}) == 48.0
    assert calc.evaluate(lambda a, b: a**4 * b, (2, 3)) == 48.0
    with pytest.raises(ValueError, match="no value"):
        calc.evaluate("x*y", {"x": 1})
    with pytest.raises(ValueError, match="unknown"):
        calc.evaluate("x", {"x": 1, "q": 2})
    with pytest.raises(ValueError, match="not real"):
        calc.evaluate("sqrt(x)", {"x": -1})


def test_estimate_behaves_as_float():
    e = calc.Estimate(2.5, 1e-9)
    assert e * 2 == 5.0 and e.error == 1e-9
    assert "error" in repr(e)


# --------------------------------------------------------------------------------------
# The numeric oracle
# --------------------------------------------------------------------------------------


def test_numeric_gradient_contract_and_restores_x_bitwise():
    rng = np.random.default_rng(0)
    x0 = rng.normal(size=50) * 10.0 ** rng.integers(-8, 8, size=50)
    xs = x0.copy()
    A = rng.normal(size=50)
    g, err = calc.numeric_gradient(lambda v: float(np.sum(A * v**2)), xs)
    assert g.shape == err.shape == x0.shape
    assert xs.tobytes() == x0.tobytes()
    # f is a quadratic (no truncation error): what is left is rounding, which err covers
    assert np.all(np.abs(g - 2 * A * x0) <= 2 * err)
    small = x0[np.abs(x0) < 10]
    g_small, _ = calc.numeric_gradient(lambda v: float(np.sum(v**2)), small.copy())
    np.testing.assert_allclose(g_small, 2 * small, rtol=1e-6, atol=1e-6)


def test_numeric_gradient_in_place_closure_as_the_network_uses_it():
    theta = np.array([0.3, -1.2, 2.0])
    snapshot = theta.copy()

    def cost(_ignored):
        return float(np.sin(theta[0]) + theta[1] ** 2 * theta[2])

    g, _ = calc.numeric_gradient(cost, theta)
    exact = [math.cos(0.3), 2 * -1.2 * 2.0, (-1.2) ** 2]
    np.testing.assert_allclose(g, exact, rtol=1e-8)
    np.testing.assert_array_equal(theta, snapshot)


def test_numeric_gradient_restores_x_when_f_raises():
    v = np.array([1.0, 2.0, 3.0])
    calls = []

    def f(w):
        calls.append(w.copy())
        if len(calls) == 4:
            raise RuntimeError("boom")
        return float(w.sum())

    with pytest.raises(RuntimeError):
        calc.numeric_gradient(f, v)
    np.testing.assert_array_equal(v, [1.0, 2.0, 3.0])


def test_numeric_gradient_error_estimate_covers_the_error():
    x0 = np.linspace(-2, 2, 9)
    g, err = calc.numeric_gradient(
        lambda v: float(np.sum(np.exp(v) * np.sin(3 * v))), x0.copy(), error=True
    )
    exact = np.exp(x0) * (np.sin(3 * x0) + 3 * np.cos(3 * x0))
    assert np.all(np.abs(g - exact) <= 10 * err + 1e-13)
    # a big step has a big, honestly reported, truncation error
    g_big, err_big = calc.numeric_gradient(
        lambda v: float(np.sum(np.exp(v) * np.sin(3 * v))), x0.copy(), step=0.1, error=True
    )
    assert np.max(np.abs(g_big - exact)) > 1e-3
    assert np.all(np.abs(g_big - exact) <= 3 * err_big)


def test_numeric_gradient_step_depends_on_dtype():
    f = lambda v: float(np.sum(v.astype(np.float64) ** 3))  # noqa: E731
    x32 = np.array([1.0, 2.0], dtype=np.float32)
    g32, _ = calc.numeric_gradient(f, x32)
    np.testing.assert_allclose(g32, [3.0, 12.0], rtol=1e-3)
    x64 = np.array([1.0, 2.0])
    g64, _ = calc.numeric_gradient(f, x64)
    np.testing.assert_allclose(g64, [3.0, 12.0], rtol=1e-9)
    assert x32.dtype == np.float32 and np.all(x32 == [1.0, 2.0])


def test_numeric_gradient_explicit_step_and_bad_inputs():
    g, _ = calc.numeric_gradient(lambda v: float(v[0] ** 2), np.array([1.0]), step=0.5)
    assert g[0] == pytest.approx(2.0)  # exact for a quadratic, whatever the step
    with pytest.raises(TypeError):
        calc.numeric_gradient(lambda v: 0.0, np.array([1, 2]))
    with pytest.raises(ValueError):
        calc.numeric_gradient(lambda v: 0.0, np.array([1.0]), step=0.0)
    g_list, _ = calc.numeric_gradient(lambda v: float(v[0] * v[1]), [2.0, 5.0])
    np.testing.assert_allclose(g_list, [5.0, 2.0])


def test_numeric_gradient_on_thousands_of_entries():
    rng = np.random.default_rng(1)
    v = rng.normal(size=3000)
    A = rng.normal(size=3000)
    g, _ = calc.numeric_gradient(lambda w: float(A @ (w * w)), v)
    np.testing.assert_allclose(g, 2 * A * v, atol=1e-6)


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_numeric_derivative_orders(order):
    exact = [math.cos, lambda t: -math.sin(t), lambda t: -math.cos(t), math.sin][order - 1](0.8)
    d = calc.numeric_derivative(math.sin, 0.8, order=order)
    assert abs(d - exact) <= 10 * d.error + 1e-12
    assert abs(d - exact) < 10.0 ** (-8 + 2 * order)


def test_numeric_hessian_and_jacobian():
    H, err = calc.numeric_hessian(lambda v: v[0] ** 2 * v[1], np.array([1.0, 3.0]), error=True)
    np.testing.assert_allclose(H, [[6.0, 2.0], [2.0, 0.0]], atol=1e-6)
    assert np.all(np.abs(H - [[6.0, 2.0], [2.0, 0.0]]) <= 10 * err + 1e-12)
    J, _ = calc.numeric_jacobian(lambda v: [v[0] * v[1], v[0] + v[1]], np.array([2.0, 5.0]))
    np.testing.assert_allclose(J, [[5.0, 2.0], [1.0, 1.0]], atol=1e-8)


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
    r = calc.gradient_descent("x**2", start=1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.steps = 3
    assert "path" not in repr(r)


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
    start = time.perf_counter()
    with pytest.raises(ValueError) as info:
        parse(text)
    assert time.perf_counter() - start < 1.0
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

    def forbidden(*args, **kwargs):
        raise AssertionError("user text reached sympify/parse_expr")

    monkeypatch.setattr(sp, "sympify", forbidden)
    monkeypatch.setattr(sp, "parse_expr", forbidden)
    monkeypatch.setattr(sympy_parser, "parse_expr", forbidden)
    assert calc.derivative("(x**4 + 2)*cos(x)") == 4 * x**3 * sp.cos(x) - (x**4 + 2) * sp.sin(x)
    assert kinds(calc.critical_points("x**3 + y**3 - 3*x*y")) == ["saddle", "minimum"]
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


# --------------------------------------------------------------------------------------
# Plots
# --------------------------------------------------------------------------------------


@pytest.fixture
def agg():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    return matplotlib


def test_plot_derivatives(agg, tmp_path):
    fig = calc.plot_derivatives("x**3 - 3*x", domain=(-2.5, 2.5), num=101)
    f_ax, d1_ax, d2_ax = fig.axes
    assert [line.get_label() for line in f_ax.lines] == ["f"]
    assert [line.get_label() for line in d1_ax.lines] == ["f'", "zero"]
    assert [line.get_label() for line in d2_ax.lines] == ["f''", "zero"]
    np.testing.assert_allclose(d1_ax.lines[0].get_ydata(), 3 * np.linspace(-2.5, 2.5, 101) ** 2 - 3)
    np.testing.assert_allclose(d2_ax.lines[0].get_ydata(), 6 * np.linspace(-2.5, 2.5, 101))
    markers = {c.get_label(): c.get_offsets() for c in f_ax.collections}
    np.testing.assert_allclose(markers["maximum"], [[-1.0, 2.0]])
    np.testing.assert_allclose(markers["minimum"], [[1.0, -2.0]])
    out = tmp_path / "derivatives.png"
    fig.savefig(out)
    assert out.stat().st_size > 1000


def test_plot_derivatives_of_a_callable(agg, tmp_path):
    fig = calc.plot_derivatives(lambda t: t**2 + 10 * math.sin(t), domain=(-5, 5), num=41)
    assert len(fig.axes) == 3
    labels = sorted(c.get_label() for c in fig.axes[0].collections)
    assert labels == ["maximum", "minimum"]
    grid = np.linspace(-5, 5, 41)
    np.testing.assert_allclose(
        fig.axes[1].lines[0].get_ydata(), 2 * grid + 10 * np.cos(grid), atol=1e-6
    )
    fig.savefig(tmp_path / "callable.png")


def test_plot_contour_with_descent_and_critical_points(agg, tmp_path):
    f = "x**3 + y**3 - 3*x*y"
    run = calc.gradient_descent(f, start={"x": 2, "y": 0.5}, learning_rate=0.05)
    fig = calc.plot_contour(f, descent=run, num=60)
    (ax,) = fig.axes
    path_line = next(line for line in ax.lines if line.get_label() == "gradient descent")
    np.testing.assert_allclose(np.column_stack(path_line.get_data()), run.path)
    labels = {c.get_label() for c in ax.collections}
    assert {"minimum", "saddle"} <= labels
    kinds_drawn = {
        c.get_label(): c.get_offsets() for c in ax.collections if c.get_label() in calc.KINDS
    }
    np.testing.assert_allclose(kinds_drawn["saddle"], [[0.0, 0.0]])
    np.testing.assert_allclose(kinds_drawn["minimum"], [[1.0, 1.0]])
    assert any(type(c).__name__.endswith("ContourSet") for c in ax.collections)
    out = tmp_path / "contour.png"
    fig.savefig(out)
    assert out.stat().st_size > 1000


def test_plot_contour_needs_two_variables(agg):
    with pytest.raises(ValueError, match="two variables"):
        calc.plot_contour("x**2")
    fig = calc.plot_contour("x**2 + y**2", critical=False, bounds=[(-1, 1), (-2, 2)], num=20)
    assert fig.axes[0].get_xlim() == (-1.0, 1.0) and fig.axes[0].get_ylim() == (-2.0, 2.0)
