"""The calculus toolkit's limits, in one place, and the checks that enforce them.

Every entry point refuses work it could not finish quickly, at once and with a clear
``ValueError``, instead of spinning (docs/reliability.md, "Calculus toolkit"):

=======================  ===========  ======================================================
limit                    value        what it bounds
=======================  ===========  ======================================================
``MAX_LENGTH``           1000         characters of an expression string
``MAX_DEPTH``            100          nesting of an expression string's syntax tree
``MAX_EXPONENT``         1000         size of a numeric exponent, as in ``x**1000``
``MAX_DIGITS``           5000         decimal digits of a ``number**number``
``MAX_NODES``            20000        nodes of any expression: an input, or a derivative
                                      as it is being built
``MAX_ORDER``            50           order of a derivative (symbolic or numeric), and
                                      ``critical_points``' ``max_order``
``MAX_SOLVE_VARIABLES``  4            variables for which ``critical_points`` tries exact
                                      solving (more: the numeric search)
``MAX_SOLUTIONS``        100          exact solutions ``critical_points`` classifies (more:
                                      the numeric search)
``TIME_BUDGET``          10.0         wall-clock seconds of a call's symbolic work, by
                                      default (``time_budget=``; then the numeric search,
                                      or a clear error)
``MAX_DESCENT_STEPS``    1000000      ``max_steps`` of ``gradient_descent`` (each step is
                                      kept in ``path``)
``MAX_STARTS``           1000         ``n_starts`` of ``critical_points``' numeric search
``MAX_PLOT_NUM``         2000         ``num``, points per axis, of ``plot_derivatives`` and
                                      ``plot_contour``
=======================  ===========  ======================================================

>>> check_order(3)
3
>>> try:
...     check_order(10**9)
... except ValueError as error:
...     print(error)
order 1000000000 is above the limit of 50 (chainrule.calculus.limits.MAX_ORDER)
"""

from __future__ import annotations

import numbers
import time

import sympy as sp

__all__ = [
    "MAX_DEPTH",
    "MAX_DESCENT_STEPS",
    "MAX_DIGITS",
    "MAX_EXPONENT",
    "MAX_LENGTH",
    "MAX_NODES",
    "MAX_ORDER",
    "MAX_PLOT_NUM",
    "MAX_SOLUTIONS",
    "MAX_SOLVE_VARIABLES",
    "MAX_STARTS",
    "TIME_BUDGET",
    "Deadline",
    "OverBudget",
    "check_count",
    "check_order",
    "check_size",
]

#: Longest expression string accepted, in characters.
MAX_LENGTH = 1000
#: Deepest nesting of an expression string's syntax tree accepted.
MAX_DEPTH = 100
#: Largest absolute value of a numeric exponent, as in ``x**1000``.
MAX_EXPONENT = 1000
#: Largest number of decimal digits a ``number**number`` may produce.
MAX_DIGITS = 5000
#: Largest expression, in nodes of its tree: an input, or a derivative while it is built.
MAX_NODES = 20_000
#: Highest derivative order (symbolic and numeric).
MAX_ORDER = 50
#: Most variables for which ``critical_points`` tries to solve ``grad f = 0`` exactly.
MAX_SOLVE_VARIABLES = 4
#: Most exact solutions ``critical_points`` classifies (more: the numeric search).
MAX_SOLUTIONS = 100
#: Default wall-clock seconds for one call (``time_budget=None`` reads it at call time).
TIME_BUDGET = 10.0
#: Most steps ``gradient_descent`` takes (its ``path`` keeps every one).
MAX_DESCENT_STEPS = 1_000_000
#: Most starts of ``critical_points``' numeric search.
MAX_STARTS = 1000
#: Most points per axis of a plot (``num``): a line of 2000, a contour grid of 2000^2.
MAX_PLOT_NUM = 2000


class OverBudget(TimeoutError):
    """The time budget was spent before the work finished."""


class Deadline:
    """A wall-clock budget: ``seconds`` from now (``None``: ``TIME_BUDGET``).

    Symbolic work runs in a child process killed at the deadline
    (:mod:`chainrule.calculus.bounded`); :meth:`check` is for steps in between.

    >>> Deadline(60.0).check("solving")
    >>> try:
    ...     Deadline(0.0).check("solving")
    ... except OverBudget as error:
    ...     print(error)
    solving went over the time budget of 0 s (time_budget= sets it)
    """

    def __init__(self, seconds: float | None = None) -> None:
        if seconds is None:
            seconds = TIME_BUDGET
        if isinstance(seconds, bool) or not isinstance(seconds, numbers.Real) or not seconds >= 0:
            raise ValueError(f"time_budget must be a number of seconds >= 0, got {seconds!r}")
        self.seconds = float(seconds)
        self.end = time.monotonic() + self.seconds

    def remaining(self) -> float:
        """Seconds left (negative once spent)."""
        return self.end - time.monotonic()

    def spent(self, what: str) -> str:
        """The message for ``what`` going over the budget."""
        return f"{what} went over the time budget of {self.seconds:g} s (time_budget= sets it)"

    def share(self, fraction: float) -> Deadline:
        """A deadline ``fraction`` of the remaining time from now (for a first phase)."""
        part = Deadline(max(self.remaining(), 0.0) * fraction)
        part.seconds = self.seconds
        return part

    def check(self, what: str) -> None:
        """Raise :class:`OverBudget` naming ``what`` once the budget is spent."""
        if self.remaining() <= 0:
            raise OverBudget(self.spent(what))


def check_order(order: object, name: str = "order") -> int:
    """``order`` as an int in ``[0, MAX_ORDER]``, else a clear error."""
    if not isinstance(order, numbers.Integral) or isinstance(order, bool) or order < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {order!r}")
    if order > MAX_ORDER:
        raise ValueError(
            f"{name} {order} is above the limit of {MAX_ORDER} "
            "(chainrule.calculus.limits.MAX_ORDER)"
        )
    return int(order)


def check_count(value: object, name: str, low: int, limit: str) -> int:
    """``value`` as an int from ``low`` to the limit named ``limit`` (``"MAX_STARTS"``, ...),
    else a ValueError naming both."""
    high = globals()[limit]
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or not low <= value <= high
    ):
        raise ValueError(
            f"{name} must be an integer from {low} to {high} "
            f"(chainrule.calculus.limits.{limit}), got {value!r}"
        )
    return int(value)


def check_size(expr: sp.Basic, what: str = "the expression") -> None:
    """Refuse an expression of more than ``MAX_NODES`` nodes.

    >>> check_size(sp.Symbol("x") ** 2)
    """
    count = 0
    for _ in sp.preorder_traversal(expr):
        count += 1
        if count > MAX_NODES:
            raise ValueError(
                f"{what} has more than {MAX_NODES} nodes (chainrule.calculus.limits.MAX_NODES)"
            )
