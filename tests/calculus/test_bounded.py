"""Issue 21.4: the wall-clock time budget (chainrule.calculus.bounded) and the results that
were wrong or internal: abs's kinks, an unbounded oscillation, a family of critical points
whose representative divided by zero, leaked warnings, a NaN derivative."""

from __future__ import annotations

import multiprocessing
import os
import time
import warnings

import numpy as np
import pytest

from chainrule import calculus as calc
from chainrule.calculus import bounded, limits
from chainrule.calculus.limits import Deadline, OverBudget
from chainrule.cli.main import main


def _slow_square(x: float) -> float:
    if x > 1:
        time.sleep(60)
    return x * x


def _refuse(x: float) -> float:
    raise ValueError(f"no {x}")


def test_bounded_work_returns_its_result_or_its_error():
    assert bounded.run(Deadline(30), "squaring", _slow_square, 0.5) == 0.25
    with pytest.raises(ValueError, match="no 3"):
        bounded.run(Deadline(30), "refusing", _refuse, 3)


def test_work_past_the_deadline_is_killed_and_named():
    with pytest.raises(OverBudget, match=r"squaring went over the time budget of 1 s"):
        bounded.run(Deadline(1), "squaring", _slow_square, 2.0)
    assert multiprocessing.active_children() == []  # the child is gone, not left running
    # a stream keeps what was done in time: the third item sleeps past the deadline
    assert bounded.stream(Deadline(1), "squaring", _slow_square, [0.5, 1.0, 2.0, 0.1]) == [
        0.25,
        1.0,
        None,
        None,
    ]
    assert multiprocessing.active_children() == []


def test_the_budget_is_configurable_and_checked(monkeypatch):
    with pytest.raises(ValueError, match="time_budget must be a number of seconds >= 0"):
        calc.derivative("x**2", time_budget=-1)
    monkeypatch.setattr(limits, "TIME_BUDGET", 0.0)  # read at call time
    with pytest.raises(OverBudget, match=r"computing the derivative went over .* of 0 s"):
        calc.derivative("x**2")
    assert calc.derivative("x**2", time_budget=30) == 2 * calc.parse("x")


def test_abs_kinks_are_reported_not_a_name_error():
    cps = calc.critical_points("abs(x) + abs(y)")
    assert [(p.point, p.kind) for p in cps] == [({"x": 0.0, "y": 0.0}, "inconclusive")]
    assert "f is not differentiable there (a kink" in cps[0].test
    assert cps.global_minimum is cps[0] and cps.unbounded_above
    axes = calc.plot_derivatives("abs(x)", num=5).axes  # x = -3, -1.5, 0, 1.5, 3
    f2 = axes[2].lines[0].get_ydata()
    assert list(f2[[0, 1, 3, 4]]) == [0.0] * 4 and np.isnan(f2[2])  # f'' = 2 DiracDelta(x)


def test_an_oscillation_that_grows_has_no_global_extremum():
    cps = calc.critical_points("(x**2 + y**2 - 1)**5*sin(x*y)", method="numeric")
    assert len(cps) > 0
    assert cps.unbounded_above and cps.unbounded_below
    assert cps.global_maximum is None and cps.global_minimum is None
    assert "global maximum: none (f is unbounded above)" in cps.summary()


def test_a_family_whose_representative_at_zero_is_undefined_is_listed():
    # grad f = 0 on x*y*z*w = +-1/sqrt(3) (w = 1/(sqrt(3) x y z): free variables 1, not 0)
    # and where two variables vanish
    cps = calc.critical_points("x**3*y**3*z**3*w**3 - x*y*z*w")
    products = sorted(
        round(float(p.point["x"] * p.point["y"] * p.point["z"] * p.point["w"]), 12) for p in cps
    )
    assert products == [round(-(3**-0.5), 12), 0.0, round(3**-0.5, 12)]
    assert all("set of critical points" in p.note for p in cps)
    assert cps.unbounded_below and cps.unbounded_above  # along (-1, 1, 1, 1) and (1, 1, 1, 1)


def test_no_runtime_warning_leaks_from_log():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cps = calc.critical_points("log(x)*log(y)")
        text = cps.summary()
    assert [(p.point, p.kind) for p in cps] == [({"x": 1, "y": 1}, "saddle")]
    assert "global minimum: none (f is unbounded below)" in text


def test_a_value_that_is_not_finite_says_why(capsys):
    with pytest.raises(ValueError, match=r"1/x is not finite at x=0 .*outside its domain"):
        calc.derivative("log(x)", at={"x": 0})
    assert main(["calc", "derivative", "log(x)", "--at", "x=0"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("chainrule calc: error: 1/x is not finite at x=0.0")


def test_descent_without_time_for_the_exact_gradient_uses_differences(capsys):
    r = calc.gradient_descent("(x - 3)**2 + (y + 1)**2", start=(0, 0), time_budget=0)
    assert r.converged and r.note.startswith("central differences for the derivatives")
    # it stops at |grad f| = 2 |(x - 3, y + 1)| < tol = 1e-8, and the central difference of
    # a quadratic is exact up to rounding (eps |f| / h, below 1e-12 near the minimum)
    assert r.point == pytest.approx({"x": 3.0, "y": -1.0}, abs=1e-8)
    argv = ["calc", "descent", "(x - 3)**2", "--start", "x=0", "--time-budget", "1e-9"]
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("stopped after") and out[1].startswith("note: central differences")


def test_descent_builds_the_gradient_and_no_hessian():
    """gradient_descent steps with grad f alone: a Hessian too large to build (over MAX_NODES
    nodes) is not built, costs no time, and is no reason for a note."""
    from chainrule.calculus.functions import _derivative_job

    n = 16
    product = "*".join(f"x{i}" for i in range(n))
    f = " + ".join(f"(x{i} - {i % 3})**2" for i in range(n)) + f" + sin({product}) / 100"
    expr = calc.parse(f)
    syms = tuple(sorted(expr.free_symbols, key=lambda s: int(s.name[1:])))
    assert _derivative_job(("gradient", expr, syms)) is not None
    assert _derivative_job(("hessian", expr, syms)) is None  # over MAX_NODES
    r = calc.gradient_descent(f, start=[0.5] * n, learning_rate=0.1, max_steps=200)
    assert r.converged and r.note == ""


def _square_in_a_daemon(x: float) -> float:
    return calc.evaluate("x**2", {"x": x})


@pytest.mark.slow
def test_a_daemonic_process_that_may_not_fork_still_gets_answers():
    with multiprocessing.get_context("spawn").Pool(1) as pool:  # pool workers are daemons
        assert pool.map(_square_in_a_daemon, [3.0]) == [9.0]


def _die(code: int) -> None:
    os._exit(code)


def test_a_child_that_dies_is_a_clear_error():
    with pytest.raises(RuntimeError, match=r"dying failed: .* without an answer \(exit code 3\)"):
        bounded.run(Deadline(30), "dying", _die, 3)


def test_the_command_line_reports_the_fallback(capsys):
    argv = ["calc", "critical", "x**13 - 7*x**5 + x", "--time-budget", "2"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "note: gave up exact solving: solving grad f = 0 went over the time budget of 2 s" in out
