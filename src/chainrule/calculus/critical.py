r"""Critical points: where :math:`f' = 0` (or :math:`\nabla f = 0`), found and classified.

Strings and sympy expressions are solved exactly (sympy ``solveset`` / ``solve``) when
they have at most ``MAX_SOLVE_VARIABLES`` variables, and the exact phase (solving and
classifying at most ``MAX_SOLUTIONS`` points) runs in a child process that is killed when
``EXACT_SHARE`` of the wall-clock ``time_budget`` is spent.  Otherwise -- no closed
form, too many variables or solutions, the budget spent -- and always for callables, a
numeric search runs inside ``bounds``: ``scipy.optimize.root`` on the gradient from
several starts (plus, for one variable, sign changes of ``f'`` on a grid); its records
say ``method="numeric"`` and the list's ``note`` says why.  With ``method="symbolic"``
those cases raise a ``ValueError`` instead.  For a non-polynomial system in two or more
variables, whose solutions sympy may miss, the exact solutions are completed by that
numeric search (the list then says ``method="mixed"`` if it added any).  The
classification is that of :mod:`chainrule.calculus.classify`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import sympy as sp

from chainrule.calculus import bounded
from chainrule.calculus.classify import classify_exact, classify_numeric
from chainrule.calculus.extrema import CriticalPoints, ray_limits
from chainrule.calculus.functions import (
    Fn,
    FunctionLike,
    callable_function,
    symbolic_function,
    to_expr,
)
from chainrule.calculus.limits import (
    MAX_SOLVE_VARIABLES,
    Deadline,
    OverBudget,
    check_count,
    check_order,
)
from chainrule.calculus.points import subs, to_float
from chainrule.calculus.records import CriticalPoint
from chainrule.calculus.solve import AllCritical, NoClosedForm, as_box, exact_solutions, search

__all__ = ["EXACT_SHARE", "critical_points"]

#: The part of the time budget exact solving may use; the rest is left for the numeric
#: search that replaces or completes it.
EXACT_SHARE = 0.75


def critical_points(
    f: FunctionLike,
    *,
    variables: Sequence[str] | None = None,
    bounds: Any = None,
    method: str = "auto",
    n_starts: int | None = None,
    seed: int = 0,
    max_order: int = 12,
    time_budget: float | None = None,
) -> CriticalPoints:
    r"""Find and classify the points where :math:`f' = 0` (or :math:`\nabla f = 0`).

    Parameters
    ----------
    f : str, sympy expression or callable
    variables : sequence of str, optional
        Names and order (default alphabetical; for callables, the parameter names).
    bounds : (low, high), mapping or sequence of pairs, optional
        Box for the numeric search (default (-10, 10) per variable) and for listing an
        infinite family of exact solutions.  When given, exact solutions outside it are
        dropped too.
    method : {"auto", "symbolic", "numeric"}
        ``"auto"`` tries exact solving, then falls back to numeric search.
    n_starts, seed : int
        Starts of the numeric search (at most ``MAX_STARTS``), and the seed of their random
        choice.
    max_order : int
        Highest derivative tried in the one-variable test (at most ``MAX_ORDER``).
    time_budget : float, optional
        Wall-clock seconds for the whole call (default ``TIME_BUDGET``, 10): exact solving
        may use ``EXACT_SHARE`` of it, in a child process killed when that is spent; the
        numeric search, the classification and the limits along rays use the rest.

    Returns
    -------
    CriticalPoints
        A list of :class:`CriticalPoint`, sorted by coordinates, with ``global_minimum``,
        ``global_maximum``, ``unbounded_below``, ``unbounded_above``.

    Examples
    --------
    >>> cps = critical_points("x**3 - 3*x")
    >>> [(p.point, p.value, p.kind) for p in cps]
    [({'x': -1}, 2, 'maximum'), ({'x': 1}, -2, 'minimum')]
    >>> cps.unbounded_below, cps.global_minimum
    (True, None)
    >>> for p in critical_points("x**3 + y**3 - 3*x*y"):
    ...     print(p)
    saddle at x=0, y=0, f=0  [r = 0, s = -3, t = 0, rt - s^2 < 0]
    minimum at x=1, y=1, f=-1  [r = 6, s = -3, t = 6, rt - s^2 > 0, r > 0]
    """
    if method not in ("auto", "symbolic", "numeric"):
        raise ValueError("method must be 'auto', 'symbolic' or 'numeric'")
    check_order(max_order, "max_order")
    if n_starts is not None:
        n_starts = check_count(n_starts, "n_starts", 1, "MAX_STARTS")
    deadline = Deadline(time_budget)
    fn = _function(f, variables, bounds, method)
    box = as_box(bounds, fn.names)
    search = _Search(fn, box, n_starts, seed, deadline)
    if fn.n == 0:
        return CriticalPoints([], variables=fn.names, note="f is constant: every point is critical")
    if fn.expr is None or method == "numeric":
        return search.found("")
    try:
        if fn.n > MAX_SOLVE_VARIABLES:
            raise NoClosedForm(f"exact solving is tried for up to {MAX_SOLVE_VARIABLES} variables")
        args = (fn.expr, fn.symbols, box, bounds is not None, max_order)
        exact = bounded.run(deadline.share(EXACT_SHARE), "solving grad f = 0", _exact, *args)
    except AllCritical:
        return search.result([], "symbolic", "f' is identically zero: every point is critical")
    except (NoClosedForm, OverBudget) as exc:
        reason = str(exc) or "no closed form found"
        if isinstance(exc, OverBudget):
            reason = f"gave up exact solving: {reason}"
        if method == "symbolic":
            raise ValueError(f"{reason}; try method='numeric'") from None
        return search.found(f"{reason}; ")
    return search.completed(exact, method)


class _Search:
    """The numeric search, and the list it makes, all within one deadline."""

    def __init__(
        self, fn: Fn, box: np.ndarray, n_starts: int | None, seed: int, deadline: Deadline
    ) -> None:
        self.fn, self.box, self.n_starts, self.seed = fn, box, n_starts, seed
        self.deadline = deadline

    def result(self, records: list[CriticalPoint], method: str, note: str) -> CriticalPoints:
        limits = ray_limits(self.fn, self.deadline)
        return CriticalPoints(
            records, variables=self.fn.names, method=method, note=note, fn=self.fn, limits=limits
        )

    def found(self, why: str) -> CriticalPoints:
        """The numeric search's points, with a note saying why and where."""
        records, stopped = self.records()
        note = f"{why}numeric search (scipy.optimize from several starts) in {self.where()}"
        return self.result(records, "numeric", note + stopped)

    def completed(
        self, exact: tuple[list[CriticalPoint], str, bool], method: str
    ) -> CriticalPoints:
        """The exact points, completed by a numeric search when sympy may have missed some."""
        records, note, polynomial = exact
        if self.fn.n == 1 or polynomial or method == "symbolic":
            return self.result(records, "symbolic", note)
        # sympy's solve can miss solutions of non-polynomial systems: search too.
        found, stopped = self.records()
        merge = 1e-4 * max(1.0, float(np.max(self.box[:, 1] - self.box[:, 0])))
        known = [p.coordinates() for p in records]
        added = [
            p for p in found if all(np.max(np.abs(p.coordinates() - k)) > merge for k in known)
        ]
        merged = sorted(records + added, key=lambda p: tuple(p.coordinates()))
        note = (
            f"sympy's solve may miss solutions of non-polynomial equations; a numeric "
            f"search in {self.where()} found {len(added)} more{stopped}"
        )
        return self.result(merged, "mixed" if added else "symbolic", note)

    def where(self) -> str:
        return " x ".join(f"[{lo:g}, {hi:g}]" for lo, hi in self.box)

    def records(self) -> tuple[list[CriticalPoint], str]:
        """The classified points of the numeric search, and a note on what the time budget
        cut short (``""`` if nothing)."""
        fn = self.fn
        notes = [fn.prepare(self.deadline)]
        points, stopped = search(fn, self.box, self.n_starts, self.seed, self.deadline)
        notes.append(stopped)
        records = []
        for c in points:
            with np.errstate(all="ignore"):
                if self.deadline.remaining() > 0:
                    kind, test = classify_numeric(fn, c)
                else:
                    kind, test = "inconclusive", "not classified: the time budget was spent"
                point = {name: float(v) for name, v in zip(fn.names, c, strict=True)}
                records.append(CriticalPoint(point, fn.value(c), kind, "numeric", test))
        records.sort(key=lambda p: tuple(p.point.values()))
        return records, "".join(f"; {n}" for n in notes if n)


def _function(f: Any, variables: Any, bounds: Any, method: str) -> Fn:
    expr = to_expr(f)
    if expr is not None:
        return symbolic_function(expr, variables)
    if method == "symbolic":
        raise ValueError("a callable has no symbolic form: use method='numeric' or 'auto'")
    n_hint = None
    if bounds is not None and not isinstance(bounds, Mapping):
        arr = np.array(bounds, dtype=float)
        n_hint = arr.shape[0] if arr.ndim == 2 else None
    at = dict.fromkeys(bounds) if isinstance(bounds, Mapping) else None
    return callable_function(f, variables, at, n_hint)


def _exact(
    expr: sp.Expr, symbols: tuple[sp.Symbol, ...], box: np.ndarray, clip: bool, max_order: int
) -> tuple[list[CriticalPoint], str, bool]:
    """The exact critical points, classified, a note, and whether ``grad f`` is polynomial
    (raises NoClosedForm, AllCritical; runs in the child process of
    :mod:`chainrule.calculus.bounded`)."""
    solutions, note = exact_solutions(expr, symbols, box, clip)
    exact = []
    for coords, extra in solutions:
        kind, test = classify_exact(expr, symbols, coords, max_order)
        value = sp.simplify(subs(expr, symbols, coords))
        point = {s.name: sp.simplify(c) for s, c in zip(symbols, coords, strict=True)}
        exact.append(CriticalPoint(point, value, kind, "symbolic", test, extra))
    exact.sort(key=lambda p: tuple(to_float(v) for v in p.point.values()))
    polynomial = all(sp.diff(expr, s).is_polynomial(*symbols) for s in symbols)
    return exact, note, polynomial


_x, _y = sp.symbols("x y", real=True)
_BOX = np.array([[-10.0, 10.0]] * 2)
bounded.warm_with(_exact, _x**3 - 3 * _x, (_x,), _BOX[:1], False, 12)
# the solve of two variables imports sympy.physics.units (0.35 s) the first time it runs
bounded.warm_with(_exact, _x**3 + _y**3 - 3 * _x * _y, (_x, _y), _BOX, False, 12)
