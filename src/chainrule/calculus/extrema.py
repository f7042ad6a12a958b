"""The global picture: :class:`CriticalPoints`, and the limits of ``f`` along rays."""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from functools import cached_property

import numpy as np
import sympy as sp

from chainrule.calculus.classify import sign
from chainrule.calculus.functions import Fn
from chainrule.calculus.points import to_float
from chainrule.calculus.records import CriticalPoint, show

__all__ = ["CriticalPoints", "ray_limits"]


class CriticalPoints(list):
    """The list of :class:`CriticalPoint` records that ``critical_points`` returns.

    Besides the records it says how they were found (:attr:`method`, :attr:`note`) and,
    computed on first use, what is known globally:

    * :attr:`unbounded_below` / :attr:`unbounded_above`: ``True`` when ``f`` was shown to
      tend to -oo / +oo along some probed ray ``t * d`` (``t -> oo``; ``d`` an axis
      direction or, for up to three variables, a diagonal one).  ``False`` means no such
      ray was found -- not a proof of boundedness (singularities such as ``1/x`` at 0 and
      other directions are not examined).
    * :attr:`global_minimum` / :attr:`global_maximum`: the lowest / highest critical point
      found, or ``None`` when ``f`` is unbounded that way or some probed ray's limit goes
      below / above it (the extreme value is then not attained at a critical point).
    """

    def __init__(
        self,
        records: Sequence[CriticalPoint] = (),
        *,
        variables: Sequence[str] = (),
        method: str = "symbolic",
        note: str = "",
        fn: Fn | None = None,
    ) -> None:
        super().__init__(records)
        self.variables = tuple(variables)
        self.method = method
        self.note = note
        self.fn = fn

    @cached_property
    def ray_limits(self) -> tuple[tuple[tuple[int, ...], float, float], ...]:
        """``(direction, low, high)`` for each probed ray: the limit of ``f(t d)`` as
        ``t -> oo`` lies in ``[low, high]`` (``low == high`` for an ordinary limit; unknown
        limits are left out)."""
        if self.fn is None:
            return ()
        return tuple(ray_limits(self.fn))

    @property
    def unbounded_below(self) -> bool:
        """Whether ``f -> -oo`` along some probed ray."""
        return any(lo == -math.inf for _, lo, _ in self.ray_limits)

    @property
    def unbounded_above(self) -> bool:
        """Whether ``f -> +oo`` along some probed ray."""
        return any(hi == math.inf for _, _, hi in self.ray_limits)

    @property
    def global_minimum(self) -> CriticalPoint | None:
        """The lowest critical point found, if nothing probed goes lower (else ``None``)."""
        return self._extreme(low=True)

    @property
    def global_maximum(self) -> CriticalPoint | None:
        """The highest critical point found, if nothing probed goes higher (else ``None``)."""
        return self._extreme(low=False)

    def _extreme(self, *, low: bool) -> CriticalPoint | None:
        finite = [(to_float(p.value), p) for p in self]
        finite = [(v, p) for v, p in finite if math.isfinite(v)]
        if not finite:
            return None
        sign_ = 1.0 if low else -1.0
        v, best = min(finite, key=lambda item: sign_ * item[0])
        slack = 1e-9 * (1.0 + abs(v))
        for _, lo, hi in self.ray_limits:
            bound = lo if low else hi
            if sign_ * bound < sign_ * v - slack:
                return None
        return best

    def summary(self) -> str:
        """A few lines a learner can read: every point, then the global picture."""
        lines = [str(p) for p in self] or ["no critical points found"]
        if self.note:
            lines.append(f"note: {self.note}")
        for name, point, unbounded in (
            ("minimum", self.global_minimum, self.unbounded_below),
            ("maximum", self.global_maximum, self.unbounded_above),
        ):
            if unbounded:
                direction = "below" if name == "minimum" else "above"
                lines.append(f"global {name}: none (f is unbounded {direction})")
            elif point is None:
                lines.append(f"global {name}: none among the critical points found")
            else:
                lines.append(f"global {name}: f={show(point.value)} at {point.where()}")
        return "\n".join(lines)


def _directions(n: int) -> list[tuple[int, ...]]:
    if n <= 3:
        return [d for d in itertools.product((-1, 0, 1), repeat=n) if any(d)]
    axes = []
    for i in range(n):
        for s in (1, -1):
            d = [0] * n
            d[i] = s
            axes.append(tuple(d))
    return [*axes, (1,) * n, (-1,) * n]


def ray_limits(fn: Fn) -> list[tuple[tuple[int, ...], float, float]]:
    """``(d, low, high)``: bounds on ``lim f(t d)``, ``t -> oo``, for each probed ``d``."""
    out = []
    t = sp.Symbol("t", positive=True)
    for d in _directions(fn.n):
        bounds = None
        if fn.expr is not None:
            g = fn.expr.xreplace({s: di * t for s, di in zip(fn.symbols, d, strict=True)})
            bounds = _limit_at_infinity(g, t)
        if bounds is None:
            bounds = _probe(fn, np.array(d, dtype=float))
        if bounds is not None:
            out.append((d, *bounds))
    return out


def _limit_at_infinity(g: sp.Expr, t: sp.Symbol) -> tuple[float, float] | None:
    try:
        if g.is_polynomial(t):
            p = sp.Poly(g, t)
            if p.degree() <= 0:
                v = to_float(p.LC() if not p.is_zero else 0)
                return v, v
            s = sign(p.LC())
            return (math.inf, math.inf) if s > 0 else (-math.inf, -math.inf)
        lim = sp.limit(g, t, sp.oo)
    except Exception:  # sympy may fail in many ways on hard limits
        return None
    if isinstance(lim, sp.AccumBounds):
        return to_float(lim.min), to_float(lim.max)
    if lim in (sp.oo, -sp.oo):
        v = math.inf if lim == sp.oo else -math.inf
        return v, v
    if lim.is_number and lim.is_finite:
        try:
            v = to_float(lim)
        except ValueError:
            return None
        return v, v
    return None


def _probe(fn: Fn, d: np.ndarray) -> tuple[float, float] | None:
    """A numeric guess at ``lim f(t d)`` as ``t -> oo``: ``t = 10, 100, ..., 1e8``."""
    values = []
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(1, 9):
            try:
                values.append(fn.value(d * 10.0**k))
            except (ArithmeticError, ValueError):
                values.append(math.nan)
    v = np.array(values)
    last = v[-3:]
    if np.all(last == math.inf) or (np.all(np.diff(last) > 0) and last[-1] > 1e12):
        return math.inf, math.inf
    if np.all(last == -math.inf) or (np.all(np.diff(last) < 0) and last[-1] < -1e12):
        return -math.inf, -math.inf
    if np.all(np.isfinite(last)) and np.ptp(last) <= 1e-6 * (1 + abs(last[-1])):
        return float(last[-1]), float(last[-1])
    return None
