"""``chainrule calc``: derivatives, gradients, critical points and gradient descent."""

from __future__ import annotations

import argparse

from chainrule.cli.common import (
    debug_parent,
    finite_float,
    natural_int,
    positive_float,
    positive_int,
)

NAME = "calc"
HELP = "derivatives, critical points, descent"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    common = debug_parent()
    common.add_argument(
        "--time-budget",
        type=positive_float,
        default=None,
        metavar="SECONDS",
        help="wall-clock seconds for the symbolic work (default 10, "
        "chainrule.calculus.limits.TIME_BUDGET)",
    )
    sub = parser.add_subparsers(dest="calc", required=True, metavar="WHAT")
    d = sub.add_parser("derivative", parents=[common], help="f'(x), symbolically")
    d.add_argument("expr")
    d.add_argument("--var")
    d.add_argument("--order", type=natural_int, default=1)
    d.add_argument("--at", help="evaluate at, e.g. x=2")
    g = sub.add_parser("gradient", parents=[common], help="the vector of partials")
    g.add_argument("expr")
    g.add_argument("--at", help="evaluate at, e.g. x=1,y=2")
    c = sub.add_parser("critical", parents=[common], help="find and classify critical points")
    c.add_argument("expr")
    gd = sub.add_parser("descent", parents=[common], help="gradient descent from a start")
    gd.add_argument("expr")
    gd.add_argument("--start", required=True, help="e.g. x=0,y=0")
    gd.add_argument("--learning-rate", type=positive_float, default=0.1)
    gd.add_argument("--momentum", type=finite_float, default=0.0)
    gd.add_argument("--max-steps", type=positive_int, default=10_000)


def assignments(text: str | None) -> dict[str, float] | None:
    """``"x=1,y=2"`` -> ``{"x": 1.0, "y": 2.0}``."""
    if text is None:
        return None
    out = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"expected NAME=VALUE pairs such as x=1,y=2, got {text!r}")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"{name.strip()}={value!r} is not a number") from None
    return out


def run(args: argparse.Namespace) -> int:
    from chainrule.calculus.limits import OverBudget

    try:
        return _run(args)
    except OverBudget as error:
        raise OverBudget(f"{error}; --time-budget SECONDS gives it more") from None


def _run(args: argparse.Namespace) -> int:
    from chainrule import calculus

    at = assignments(getattr(args, "at", None))
    budget = args.time_budget
    if args.calc == "derivative":
        d = calculus.derivative(args.expr, args.var, order=args.order, at=at, time_budget=budget)
        print(d)
    elif args.calc == "gradient":
        print(calculus.gradient(args.expr, at=at, time_budget=budget))
    elif args.calc == "critical":
        print(calculus.critical_points(args.expr, time_budget=budget).summary())
    else:
        result = calculus.gradient_descent(
            args.expr,
            assignments(args.start),
            learning_rate=args.learning_rate,
            momentum=args.momentum,
            max_steps=args.max_steps,
            time_budget=budget,
        )
        point = ", ".join(f"{k} = {v:.6g}" for k, v in result.point.items())
        print(
            f"stopped after {result.steps} steps ({result.reason}) at {point}; "
            f"f = {result.value:.6g}"
        )
        if result.note:
            print(f"note: {result.note}")
    return 0
