"""The global picture: :class:`CriticalPoints`, and the limits of ``f`` along rays."""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from functools import cached_property

import numpy as np
import sympy as sp

from chainrule.calculus import bounded
from chainrule.calculus.classify import sign
from chainrule.calculus.functions import Fn
from chainrule.calculus.limits import Deadline
from chainrule.calculus.points import to_float
from chainrule.calculus.records import CriticalPoint, show

__all__ = ["CriticalPoints", "ray_limits"]

#: Where ``f(t d)`` is sampled along each probed ray: ``t = 0.1 ... 1e8``, 8 per decade.
_T = 10.0 ** (np.arange(-8, 65) / 8)


class CriticalPoints(list):
    """The list of :class:`CriticalPoint` records that ``critical_points`` returns.

    Besides the records it says how they were found (:attr:`method`, :attr:`note`) and,
    computed on first use, what is known globally:

    * :attr:`unbounded_below` / :attr:`unbounded_above`: ``True`` when ``f`` was shown to
      tend to -oo / +oo along some probed ray ``t * d`` (``t -> oo``; ``d`` an axis
      direction or a diagonal one: all of them for up to three variables, else those with
      at most one sign differing from the others).  ``False`` means no such
      ray was found -- not a proof of boundedness (singularities such as ``1/x`` at 0 and
      other directions are not examined).
    * :attr:`global_minimum` / :attr:`global_maximum`: the lowest / highest critical point
      found, or ``None`` when ``f`` is unbounded that way, or some probed ray's limit, or
      some value of ``f`` sampled along the rays, goes below / above it (the extreme value
      is then not attained at a critical point).
    """

    def __init__(
        self,
        records: Sequence[CriticalPoint] = (),
        *,
        variables: Sequence[str] = (),
        method: str = "symbolic",
        note: str = "",
        fn: Fn | None = None,
        limits: Sequence[tuple[tuple[int, ...], float, float]] | None = None,
    ) -> None:
        super().__init__(records)
        self.variables = tuple(variables)
        self.method = method
        self.note = note
        self.fn = fn
        if limits is not None:  # computed already, within the caller's time budget
            self.__dict__["ray_limits"] = tuple(limits)

    @cached_property
    def ray_limits(self) -> tuple[tuple[tuple[int, ...], float, float], ...]:
        """``(direction, low, high)`` for each probed ray: the limit of ``f(t d)`` as
        ``t -> oo`` lies in ``[low, high]`` (``low == high`` for an ordinary limit; unknown
        limits are left out)."""
        if self.fn is None:
            return ()
        return tuple(ray_limits(self.fn, Deadline()))

    @cached_property
    def sampled(self) -> tuple[float, float]:
        """The lowest and highest finite value of ``f`` sampled along the probed rays."""
        if self.fn is None:
            return math.inf, -math.inf
        values = np.concatenate([_samples(self.fn, d) for d in _directions(self.fn.n)])
        values = values[np.isfinite(values)]
        return (float(values.min()), float(values.max())) if values.size else (math.inf, -math.inf)

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
        seen = self.sampled[0 if low else 1]
        for bound in [seen, *(lo if low else hi for _, lo, hi in self.ray_limits)]:
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
    # the diagonals, and those with one sign flipped (x*y*z*w goes to -oo along them)
    flipped = [tuple(-1 if j == i else 1 for j in range(n)) for i in range(n)]
    diagonals = [(1,) * n, *flipped]
    return [*axes, *diagonals, *(tuple(-v for v in d) for d in diagonals)]


def ray_limits(fn: Fn, deadline: Deadline) -> list[tuple[tuple[int, ...], float, float]]:
    """``(d, low, high)``: bounds on ``lim f(t d)``, ``t -> oo``, for each probed ``d``:
    sympy's limits, as many as ``deadline`` allows (in a child process), then numeric
    probes."""
    t = sp.Symbol("t", positive=True)
    directions = _directions(fn.n)
    exact: list = [None] * len(directions)
    if fn.expr is not None and deadline.remaining() > 0:
        rays = [
            (fn.expr.xreplace({s: di * t for s, di in zip(fn.symbols, d, strict=True)}), t)
            for d in directions
        ]
        exact = bounded.stream(deadline, "limits along rays", _limit_at_infinity, rays)
    out = []
    for d, bounds in zip(directions, exact, strict=True):
        if bounds is None:
            bounds = _probe(_samples(fn, np.array(d, dtype=float)))
        if bounds is not None:
            out.append((d, *bounds))
    return out


def _limit_at_infinity(ray: tuple[sp.Expr, sp.Symbol]) -> tuple[float, float] | None:
    g, t = ray
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


_t = sp.Symbol("t", positive=True)
bounded.warm_with(_limit_at_infinity, (_t * sp.exp(-_t) + sp.atan(_t), _t))


def _samples(fn: Fn, d: Sequence[float]) -> np.ndarray:
    """``f(t d)`` at each ``t`` of ``_T`` (NaN where it cannot be evaluated)."""
    values = []
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for t in _T:
            try:
                values.append(fn.value(np.asarray(d, dtype=float) * t))
            except (ArithmeticError, ValueError, TypeError):
                values.append(math.nan)
    return np.array(values)


def _probe(values: np.ndarray) -> tuple[float, float] | None:
    """A numeric guess at ``lim f(t d)`` as ``t -> oo`` from :func:`_samples`: the values
    at ``t = 1e6, 1e7, 1e8``, or (for an oscillation whose size grows without bound, such
    as ``t**10 sin(t**2)``) the highest and lowest value in each of the last three
    decades."""
    with np.errstate(all="ignore"):  # NaN where f is undefined: no verdict, no warning
        return _verdict(values)


def _verdict(values: np.ndarray) -> tuple[float, float] | None:
    last = values[-17::8]  # t = 1e6, 1e7, 1e8
    if np.all(last == math.inf) or (np.all(np.diff(last) > 0) and last[-1] > 1e12):
        return math.inf, math.inf
    if np.all(last == -math.inf) or (np.all(np.diff(last) < 0) and last[-1] < -1e12):
        return -math.inf, -math.inf
    if np.all(np.isfinite(last)) and np.ptp(last) <= 1e-6 * (1 + abs(last[-1])):
        return float(last[-1]), float(last[-1])
    decades = values[-24:].reshape(3, 8)  # t in (1e5, 1e6], (1e6, 1e7], (1e7, 1e8]
    high, low = decades.max(axis=1), decades.min(axis=1)
    growing = np.all(np.diff(high) > 0) and np.all(np.diff(low) < 0)
    if np.all(np.isfinite(decades)) and growing and high[-1] > 1e12 and low[-1] < -1e12:
        return -math.inf, math.inf
    return None
