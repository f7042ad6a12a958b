"""A tour of the seed's "Some derivation of necessary mathematics" and "Gradient Descent"
======================================================================================

Every worked example of the seed, run: vectors, the power and product rules, partial
derivatives, the gradient, maxima and minima in one and two variables, and gradient descent
(with the seed's sign corrected); then how results mix with your own sympy, and the limits
that keep every call quick. See docs/calculus.md.

Run: ``python examples/calculus_tour.py`` (add ``--plots DIR`` to write the figures, with
matplotlib, which chainrule depends on).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import sympy

from chainrule import calculus as calc


def section(title: str) -> None:
    print(f"\n== {title}")


def main(plots: Path | None = None) -> None:
    section("Vectors: AB = OB - OA")
    OA, OB = np.array([1, 1]), np.array([3, 2])
    AB = OB - OA
    print(f"OA = {OA}, OB = {OB}, AB = {AB}  (2i + j)")
    print(f"|AB| = {np.linalg.norm(AB):.4f} (sqrt 5), direction {AB / np.linalg.norm(AB)}")

    section("Differentiation")
    print("power rule    d/dx x**5              =", calc.derivative("x**5"))
    print("second order  d2/dx2 x**5            =", calc.derivative("x**5", order=2))
    print("product rule  d/dx (x**4 + 2)*cos(x) =", calc.derivative("(x**4 + 2)*cos(x)"))
    d = calc.derivative(lambda t: t**3, at=2.0)
    print(f"numeric       d/dt t**3 at 2         = {float(d):.10f} (error ~ {d.error:.1e})")

    section("Partial differentiation and the gradient")
    print("df/dx of x**4*y =", calc.partial("x**4*y", "x"))
    print("df/dy of x**4*y =", calc.partial("x**4*y", "y"))
    print("grad(2x^2 + 4y) =", calc.gradient("2*x**2 + 4*y"))
    print("    at (1, 2)   =", calc.gradient("2*x**2 + 4*y", at={"x": 1, "y": 2}))

    section("Maxima and minima, one variable (f'' test, higher derivatives when f'' = 0)")
    for f in ("x**3 - 3*x", "x**3", "x**4", "-x**4"):
        print(f"f = {f}")
        print("  " + calc.critical_points(f).summary().replace("\n", "\n  "))

    section("Maxima and minima, two variables (rt - s^2 test)")
    for f in ("x**3 + y**3 - 3*x*y", "x**4 + y**4"):
        print(f"f = {f}")
        print("  " + calc.critical_points(f).summary().replace("\n", "\n  "))

    section("No closed form: a numeric search, which says so")
    cps = calc.critical_points("x**2 + 10*sin(x)")
    print("  " + cps.summary().replace("\n", "\n  "))

    section("Gradient descent: x <- x - alpha * grad f(x), stop on a small gradient")
    run = calc.gradient_descent("(x-3)**2 + (y+1)**2", start={"x": 0, "y": 0}, learning_rate=0.1)
    print(
        f"  {run.reason} after {run.steps} steps at", {k: round(v, 6) for k, v in run.point.items()}
    )
    fast = calc.gradient_descent(
        "(x-3)**2 + (y+1)**2", start={"x": 0, "y": 0}, learning_rate=0.1, momentum=0.5
    )
    print(f"  with momentum 0.5: {fast.reason} after {fast.steps} steps")
    bad = calc.gradient_descent("x**2", start=1.0, learning_rate=1.5)
    print(f"  x**2 with learning rate 1.5: {bad.reason} after {bad.steps} steps")
    numeric = calc.gradient_descent(lambda x, y: (x - 3) ** 2 + (y + 1) ** 2, start=(0, 0))
    print(f"  the same on a Python callable: {numeric.reason}, point {numeric.point}")
    assert math.isclose(numeric.point["x"], 3.0, abs_tol=1e-6)

    section("Your own sympy, and the limits that keep every call quick")
    x = sympy.Symbol("x")  # a plain symbol, as a sympy user writes it
    d = calc.derivative("sin(x)*exp(x)")
    print(
        "  d/dx sin(x)*exp(x) - exp(x)*(sin(x) + cos(x)) =",
        sympy.simplify(d - sympy.exp(x) * (sympy.sin(x) + sympy.cos(x))),
    )
    print("  exp(exp(exp(exp(x)))) at x=5 =", calc.evaluate("exp(exp(exp(exp(x))))", {"x": 5}))
    try:
        calc.derivative("exp(x**2)", order=200)
    except ValueError as error:
        print(f"  order 200: {error}")
    many = calc.critical_points(" + ".join(f"(x{i}**4 - x{i}**2)" for i in range(6)))
    print(f"  six quartics: {len(many)} points; {many.note.split(';')[0]}")

    if plots is not None:
        plots.mkdir(parents=True, exist_ok=True)
        fig = calc.plot_derivatives("x**3 - 3*x", domain=(-2.5, 2.5))
        fig.savefig(plots / "derivatives.png", dpi=120)
        descent = calc.gradient_descent(
            "x**3 + y**3 - 3*x*y", start={"x": 2, "y": 0.5}, learning_rate=0.05
        )
        fig = calc.plot_contour("x**3 + y**3 - 3*x*y", descent=descent)
        fig.savefig(plots / "contour.png", dpi=120)
        print(f"\nwrote {plots / 'derivatives.png'} and {plots / 'contour.png'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="the seed's calculus, every worked example run")
    parser.add_argument("--plots", type=Path, default=None, help="folder for the figures")
    main(parser.parse_args().plots)
