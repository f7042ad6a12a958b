"""The calculus toolkit's limits (issue 17.6, 17.7, 17.9): nothing spins, huge values give
inf or a clear error, and results mix with the user's own sympy.

Calls that used to spin run in a subprocess with a generous timeout (20 s; 56 s for four
calls at a 4 s budget), so that a regression fails the test instead of hanging the suite;
the bound is behaviour (it returns at all), not a benchmark.  Issue 21.4 is at the end.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import sympy as sp

from chainrule import calculus as calc
from chainrule.calculus import limits

BOUND_S = 20


def run_isolated(body: str, bound: float = BOUND_S) -> dict:
    """Run ``body`` (which sets ``result``, a JSON-able dict) in a fresh interpreter."""
    code = "import json\nfrom chainrule import calculus as calc\n" + textwrap.dedent(body)
    code += "\nprint(json.dumps(result))\n"
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=bound
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"did not return within {bound} s:\n{body}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


HUGE_ORDERS = [
    'calc.derivative("exp(x)", order=10**9)',
    'calc.derivative("sin(x)*x", order=10**9, at=1.0)',
    "calc.derivative(lambda t: t**2, order=10**9, at=1.0)",
    "calc.numeric_derivative(lambda t: t**2, 1.0, order=10**9)",
    'calc.partial("x*y", "x", order=10**9)',
    'calc.derivative("exp(x**2)", order=200)',
]


@pytest.mark.slow
def test_huge_derivative_orders_are_refused_at_once():
    result = run_isolated(
        """
        result = {}
        for call in CALLS:
            try:
                result[call] = repr(eval(call))
            except ValueError as error:
                result[call] = "ValueError: " + str(error)
        """.replace("CALLS", repr(HUGE_ORDERS))
    )
    for call in HUGE_ORDERS:
        assert result[call].startswith("ValueError: "), (call, result[call])
        assert f"limit of {limits.MAX_ORDER}" in result[call]


@pytest.mark.slow
def test_six_decoupled_quartics_fall_back_to_the_numeric_search():
    result = run_isolated(
        """
        f = " + ".join(f"(x{i}**4 - x{i}**2)" for i in range(6))
        cps = calc.critical_points(f)
        result = {"method": cps.method, "note": cps.note, "n": len(cps),
                  "kinds": sorted({p.kind for p in cps}),
                  "lowest": min(float(p.value) for p in cps)}
        """
    )
    assert result["method"] == "numeric"
    assert f"up to {limits.MAX_SOLVE_VARIABLES} variables" in result["note"]
    assert result["n"] > 0 and "minimum" in result["kinds"] and "saddle" in result["kinds"]
    assert result["lowest"] == pytest.approx(-1.5)  # six times min(t**4 - t**2) = -1/4


@pytest.mark.slow
def test_nested_exponentials_at_a_point_give_inf():
    result = run_isolated(
        """
        import sympy
        result = {}
        for label, point in (("int", 5), ("float", 5.0), ("sympy", sympy.Integer(5))):
            values = [calc.evaluate("exp(exp(exp(exp(x))))", {"x": point}),
                      calc.evaluate("-exp(exp(exp(exp(x))))", {"x": point}),
                      calc.evaluate("exp(-exp(exp(exp(x))))", {"x": point}),
                      calc.derivative("exp(exp(exp(x)))", at={"x": point}),
                      float(calc.gradient("exp(exp(exp(exp(x))))*y", at=(point, 1))[0])]
            result[label] = [repr(v) for v in values]
        """
    )
    expected = ["inf", "-inf", "0.0", "inf", "inf"]
    assert result == {"int": expected, "float": expected, "sympy": expected}


def test_overflow_that_leaves_no_float_answer_is_a_clear_error():
    with pytest.raises(ValueError, match="overflows the float range"):
        calc.evaluate("exp(exp(x)) - exp(exp(x) + 1)", {"x": 800})  # inf - inf
    with pytest.raises(ValueError, match="overflows the float range"):
        calc.evaluate("exp(exp(x))/exp(exp(x) + 1)", {"x": 10})  # inf / inf


@pytest.mark.parametrize(
    "call",
    [
        lambda: calc.evaluate("x**2", {"x": math.nan}),
        lambda: calc.gradient("x*y", at=[1.0, np.nan]),
        lambda: calc.derivative(lambda x: x**2, at=float("nan")),
        lambda: calc.gradient_descent("x**2", start=math.nan),
    ],
)
def test_a_nan_coordinate_is_named(call):
    with pytest.raises(ValueError, match="a coordinate is NaN"):
        call()


def test_values_in_range_stay_exact():
    assert calc.evaluate("exp(x)/3", {"x": 700}) == pytest.approx(math.exp(700) / 3, rel=1e-15)
    assert calc.evaluate("x**1000", {"x": 10}) == math.inf
    assert calc.evaluate("exp(-exp(x))", {"x": 10}) == 0.0
    with pytest.raises(ValueError, match="not real"):
        calc.evaluate("sqrt(x)", {"x": -1})
    with pytest.raises(ValueError, match=r"log\(x\) is not finite at x=0 .*outside its domain"):
        calc.evaluate("log(x)", {"x": 0})


def test_orders_up_to_the_limit_work():
    assert calc.derivative("x**60", order=limits.MAX_ORDER) != 0
    d = calc.derivative("exp(x**2)", order=10, at=0)
    assert d == 30240.0  # 10! / 5!
    with pytest.raises(ValueError, match="max_order"):
        calc.critical_points("x**2", max_order=10**6)


def test_expression_size_is_capped():
    x = sp.Symbol("x")
    big = sp.Add(*[x**k for k in range(1, 7000)])  # about 21000 nodes
    for call in (calc.derivative, calc.gradient, calc.hessian):
        with pytest.raises(ValueError, match="MAX_NODES"):
            call(big)


def test_time_budget_falls_back_to_the_numeric_search_or_gives_up():
    f = "x**4 - 4*x**2 + x*y + y**2"
    spent = calc.critical_points(f, time_budget=0.0, bounds=(-3, 3))
    assert spent.method == "numeric" and list(spent) == []  # no time for the search either
    assert "gave up exact solving" in spent.note and "time budget of 0 s" in spent.note
    assert "the numeric search went over the time budget" in spent.note
    with pytest.raises(ValueError, match=r"gave up exact solving.*method='numeric'"):
        calc.critical_points(f, time_budget=0.0, method="symbolic")
    with pytest.raises(ValueError, match="time_budget"):
        calc.critical_points(f, time_budget=-1)


def test_too_many_exact_solutions_go_to_the_numeric_search():
    f = " + ".join(f"(x{i}**4 - x{i}**2)" for i in range(4))  # 3**4 = 81 solutions: exact
    assert calc.critical_points(f).method == "symbolic"
    x, y = sp.symbols("x y")
    slope = x * (x**2 - 1) * (x**2 - 4) * (x**2 - 9) * (x**2 - 16) * (x**2 - 25)
    g = sp.integrate(slope, x)  # 11 critical points in x, so 11**2 > 100 in x and y
    cps = calc.critical_points(g + g.subs(x, y), bounds=(-6, 6))
    assert cps.method == "numeric" and f"more than {limits.MAX_SOLUTIONS}" in cps.note


# --------------------------------------------------------------------------------------
# Issue 17.9: results mix with the user's own sympy
# --------------------------------------------------------------------------------------


def test_results_mix_with_the_users_plain_symbols():
    x, y = sp.Symbol("x"), sp.Symbol("y")
    expected = sp.exp(x) * (sp.sin(x) + sp.cos(x))
    assert sp.simplify(calc.derivative("sin(x)*exp(x)") - expected) == 0
    assert calc.parse("x*y") == x * y
    assert calc.gradient("x**2*y") == [2 * x * y, x**2]
    assert calc.hessian("x*y") == sp.Matrix([[0, 1], [1, 0]])
    assert calc.jacobian(["x*y", "x + y"]) == sp.Matrix([[y, x], [1, 1]])
    assert calc.partial("x**4*y", ["x", "y"]) - 4 * x**3 == 0
    for result in (calc.derivative("abs(x)*y", "x"), *calc.gradient("sqrt(x**2)*y")):
        assert all(s.assumptions0 == x.assumptions0 for s in result.free_symbols)
    assert calc.derivative("abs(x)") == sp.sign(x)  # real inside: abs' is sign


def test_results_keep_the_users_own_symbols():
    x = sp.Symbol("x")
    t = sp.Symbol("t", positive=True)
    assert calc.derivative(sp.sin(x) * x) - (sp.cos(x) * x + sp.sin(x)) == 0
    assert calc.derivative(sp.sin(x) * x, x) == calc.derivative(sp.sin(x) * x, "x")
    assert calc.derivative(t**3) == 3 * t**2  # the user's positive t, kept
    assert calc.gradient(x * t) == [x, t]


def test_numeric_derivatives_share_one_step_rule():
    # the same step for the same order, whichever function asks: h = pow2(eps^(1/(k+2)))
    from chainrule.differences import step_size

    assert step_size(1.0, 1) == 2.0**-17 and step_size(1.0, 2) == 2.0**-13
    seen = []

    def f(v):
        seen.append(np.array(v, dtype=float).copy())
        return float(np.sum(np.asarray(v) ** 2))

    calc.numeric_gradient(f, np.array([1.0]))
    assert sorted(float(s[0]) for s in seen) == [1 - 2.0**-17, 1 + 2.0**-17]
    seen.clear()
    calc.numeric_derivative(lambda t: f(np.array([t])), 1.0)
    assert sorted({float(s[0]) for s in seen}) == [
        1 - 2 * 2.0**-17,
        1 - 2.0**-17,
        1 + 2.0**-17,
        1 + 2 * 2.0**-17,
    ]
    seen.clear()
    calc.numeric_hessian(f, np.array([1.0]))
    assert sorted({float(s[0]) for s in seen}) == [1 - 2 * 2.0**-13, 1.0, 1 + 2 * 2.0**-13]


# --------------------------------------------------------------------------------------
# Issue 21.4: the time budget is wall time, for every call (symbolic work in a child
# process that is killed when it is spent); each call below ran for a minute or more
# --------------------------------------------------------------------------------------

SLOW_EXACT = [
    "x**13 - 7*x**5 + x",
    "x**50 - 3*x**49 + x",
    "x**20*y**20 - x*y",
    "x**5*y**5 + z**5 - x*y*z",
]


@pytest.mark.slow
def test_slow_exact_solving_gives_way_to_the_numeric_search():
    # four calls of 4 s each, in one interpreter; each took a minute or more before
    result = run_isolated(
        f"""
        import numpy as np
        result = {{}}
        for f in {SLOW_EXACT!r}:
            cps = calc.critical_points(f, time_budget=4)
            grad = [float(np.max(np.abs(cps.fn.grad(p.coordinates())))) for p in cps]
            values = [abs(float(p.value)) for p in cps]
            result[f] = {{"method": cps.method, "note": cps.note, "grad": grad,
                          "values": values, "summary": cps.summary()}}
        """,
        bound=2 * BOUND_S + 4 * len(SLOW_EXACT),
    )
    for f in SLOW_EXACT:
        found = result[f]
        assert found["method"] == "numeric", (f, found["note"])
        assert found["note"].startswith("gave up exact solving: solving grad f = 0 went over")
        assert "time budget of 4 s" in found["note"]
        assert found["grad"], (f, found["summary"])  # the search found points, critical ones:
        for g, v in zip(found["grad"], found["values"], strict=True):
            assert g <= 1e-6 * (1 + v)  # the search's own acceptance test


@pytest.mark.slow
def test_the_gradient_of_a_long_product_stops_at_the_budget():
    product = "*".join(f"x{i}" for i in range(200))  # 36 s to differentiate
    with pytest.raises(TimeoutError) as info:
        calc.gradient(product, time_budget=2)
    assert isinstance(info.value, limits.OverBudget)
    assert str(info.value).startswith("computing the gradient went over the time budget of 2 s")
    cli = subprocess.run(
        [sys.executable, "-m", "chainrule", "calc", "gradient", product, "--time-budget", "2"],
        capture_output=True,
        text=True,
        timeout=BOUND_S,
    )
    assert cli.returncode == 1 and cli.stdout == ""
    assert cli.stderr.strip() == (
        "chainrule calc: error: computing the gradient went over the time budget of 2 s "
        "(time_budget= sets it); --time-budget SECONDS gives it more"
    )
