"""Solving ``grad f = 0``: exactly with sympy, or by a numeric search in a box."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import sympy as sp
from scipy import optimize

from chainrule.calculus.functions import Fn
from chainrule.calculus.limits import MAX_SOLUTIONS, Deadline, OverBudget
from chainrule.calculus.points import to_float

__all__ = ["DEFAULT_BOX", "AllCritical", "NoClosedForm", "as_box", "exact_solutions", "search"]

#: The numeric search's box for each variable, unless ``bounds`` says otherwise.
DEFAULT_BOX = (-10.0, 10.0)


class NoClosedForm(Exception):
    """sympy found no closed form (or more solutions than ``MAX_SOLUTIONS``)."""


class AllCritical(Exception):
    """``f'`` is identically zero: every point is critical."""


def as_box(bounds: Any, names: Sequence[str]) -> np.ndarray:
    """Bounds as an ``(n, 2)`` array: a pair for all, a mapping or a sequence of pairs."""
    n = len(names)
    if bounds is None:
        return np.tile(np.array(DEFAULT_BOX), (n, 1))
    if isinstance(bounds, Mapping):
        arr = np.array([bounds.get(name, DEFAULT_BOX) for name in names], dtype=float)
    else:
        arr = np.array(bounds, dtype=float)
    if arr.shape == (2,):
        arr = np.tile(arr, (n, 1))
    if arr.shape != (n, 2) or not np.all(np.isfinite(arr)) or np.any(arr[:, 0] >= arr[:, 1]):
        raise ValueError(
            f"bounds must be (low, high) or {n} such pairs of finite numbers, with low < high"
        )
    return arr


def _one_variable(g: sp.Expr, r: sp.Symbol, box: np.ndarray) -> tuple[list, str]:
    sol = sp.solveset(g, r, sp.S.Reals)
    if sol == sp.S.Reals:
        raise AllCritical
    note = ""
    if not isinstance(sol, sp.FiniteSet):
        lo, hi = box[0]
        try:
            within = sol.intersect(sp.Interval(sp.Rational(lo), sp.Rational(hi)))
        except Exception as exc:  # pragma: no cover - sympy internals
            raise NoClosedForm from exc
        if not isinstance(within, sp.FiniteSet) or isinstance(sol, sp.ConditionSet):
            raise NoClosedForm
        note = f"infinitely many critical points; those in [{lo:g}, {hi:g}] are listed"
        sol = within
    return [([v], "") for v in sol], note


def _several_variables(g: list[sp.Expr], rs: list[sp.Symbol], back: dict) -> list:
    try:
        sols = sp.solve(g, rs, dict=True)
    except (NotImplementedError, ValueError) as exc:
        raise NoClosedForm from exc
    if not sols and not all(gi.is_polynomial(*rs) for gi in g):
        raise NoClosedForm
    found = []
    for sol in sols:
        free = set().union(*(v.free_symbols for v in sol.values())) | {
            r for r in rs if r not in sol
        }
        point = [sol.get(r, r) for r in rs]
        extra = ""
        if free:  # a representative point: free variables 0, or 1 where 0 is not allowed
            rel = ", ".join(f"{back.get(k, k)} = {v.xreplace(back)}" for k, v in sol.items())
            for value in (0, 1):
                at = [c.xreplace(dict.fromkeys(free, sp.Integer(value))) for c in point]
                if not any(c.has(sp.zoo, sp.nan) for c in at):
                    break
            extra = f"one point of a set of critical points ({rel}), free variables set to {value}"
            point = at
        found.append((point, extra))
    return found


def exact_solutions(
    expr: sp.Expr, syms: tuple[sp.Symbol, ...], box: np.ndarray, clip: bool
) -> tuple[list[tuple[list[sp.Expr], str]], str]:
    """Real solutions of grad f = 0 as exact coordinates, with per-point notes."""
    real = {s: sp.Dummy(s.name, real=True) for s in syms}
    back = {v: k for k, v in real.items()}
    g = [sp.diff(expr, s).xreplace(real) for s in syms]
    rs = [real[s] for s in syms]
    if len(syms) == 1:
        found, note = _one_variable(g[0], rs[0], box)
    else:
        found, note = _several_variables(g, rs, back), ""
    if len(found) > MAX_SOLUTIONS:
        raise NoClosedForm(f"more than {MAX_SOLUTIONS} exact solutions")
    kept: list[tuple[list[sp.Expr], str, np.ndarray]] = []
    for coords, extra in found:
        try:
            floats = np.array([to_float(c) for c in coords])
            residual = [to_float(gi.xreplace(dict(zip(rs, coords, strict=True)))) for gi in g]
        except (ValueError, TypeError):
            continue  # complex, or not a point where f is defined
        scale = 1e-8 * (1 + float(np.max(np.abs(floats))))
        if not all(math.isfinite(r) and abs(r) < scale for r in residual):
            continue
        if clip and not all(lo <= v <= hi for v, (lo, hi) in zip(floats, box, strict=True)):
            continue
        for i, (seen, seen_extra, seen_floats) in enumerate(kept):
            if np.all(np.abs(floats - seen_floats) <= 1e-12 * (1 + np.abs(seen_floats))):
                if extra and extra not in seen_extra:
                    joined = f"{seen_extra}; {extra}" if seen_extra else extra
                    kept[i] = (seen, joined, seen_floats)
                break
        else:
            kept.append((coords, extra, floats))
    return [(coords, extra) for coords, extra, _ in kept], note


def _starts(fn: Fn, box: np.ndarray, n_starts: int | None, seed: int) -> np.ndarray:
    lo, hi = box[:, 0], box[:, 1]
    if fn.n == 1:
        return np.linspace(lo[0], hi[0], n_starts or 41).reshape(-1, 1)
    count = n_starts or min(200, 30 * fn.n)
    rng = np.random.default_rng(seed)
    return np.vstack([(lo + hi) / 2, lo + (hi - lo) * rng.random((count - 1, fn.n))])


def _candidates(
    fn: Fn, box: np.ndarray, n_starts: int | None, seed: int, deadline: Deadline
) -> Iterator[np.ndarray]:
    """Roots of ``grad f`` from each start, until ``deadline`` passes."""
    if fn.n == 1:  # bracket sign changes of f' on a grid, then refine with brentq
        grid = np.linspace(box[0, 0], box[0, 1], 801)
        d = np.array([fn.grad(np.array([t]))[0] for t in grid])
        for a, b, da, db in zip(grid[:-1], grid[1:], d[:-1], d[1:], strict=True):
            if np.isfinite(da) and np.isfinite(db) and da * db < 0:
                root = optimize.brentq(lambda t: fn.grad(np.array([t]))[0], a, b)
                yield np.array([root])
    for x0 in _starts(fn, box, n_starts, seed):
        deadline.check("the numeric search")
        try:
            sol = optimize.root(fn.grad, x0, jac=fn.hess, method="hybr")
        except (ValueError, ArithmeticError, np.linalg.LinAlgError):
            continue
        yield np.asarray(sol.x, dtype=float)


def search(
    fn: Fn, box: np.ndarray, n_starts: int | None, seed: int, deadline: Deadline
) -> tuple[list[np.ndarray], str]:
    """Points in ``box`` where ``grad f = 0``, by ``scipy.optimize.root`` from several
    starts (plus, for one variable, sign changes of ``f'`` on a grid), merged; and a note,
    ``""`` unless the deadline stopped the search before its last start."""
    lo, hi = box[:, 0], box[:, 1]
    width = float(np.max(hi - lo))
    accepted = []
    note = ""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            for x in _candidates(fn, box, n_starts, seed, deadline):
                if not np.all(np.isfinite(x)):
                    continue
                if np.any(x < lo - 1e-9 * width) or np.any(x > hi + 1e-9 * width):
                    continue
                fx = fn.value(x)
                gnorm = float(np.linalg.norm(fn.grad(x)))
                if math.isfinite(fx) and gnorm <= 1e-6 * (1.0 + abs(fx)):
                    accepted.append((gnorm, x))
        except OverBudget as exc:  # the starts left are not tried
            note = str(exc)
    accepted.sort(key=lambda item: item[0])
    points: list[np.ndarray] = []
    merge = 1e-4 * max(1.0, width)
    for _, x in accepted:
        if all(np.max(np.abs(x - p)) > merge for p in points):
            points.append(x)
    return points, note
