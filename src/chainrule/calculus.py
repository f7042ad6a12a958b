r"""The mathematics behind backpropagation, as something a learner can run.

This module follows the reference derivation's "Some derivation of necessary
mathematics" part -- vectors, differentiation, partial differentiation, the gradient,
maxima and minima -- and its "Gradient Descent" part.  It is also the oracle that the
network's gradient checks rest on: :func:`numeric_gradient` is what
:func:`chainrule.check_gradients` compares backpropagation with.

A function can be given three ways:

* a **string** such as ``"(x**4 + 2)*cos(x)"``, parsed safely through a whitelist
  (:func:`parse`; strings are never handed to ``sympify``/``eval``), giving exact,
  symbolic answers;
* a **sympy expression**, also giving exact answers;
* a **Python callable**, giving numeric answers by central differences, each with an
  error estimate (:class:`Estimate`, :class:`EstimateArray`).

Variables are ordered alphabetically by name (``x`` before ``y``) unless you pass
``variables=``.

Vectors
-------
The derivation's example: with :math:`OA = \hat i + \hat j` and
:math:`OB = 3\hat i + 2\hat j`, :math:`\vec{AB} = \vec{OB} - \vec{OA} = 2\hat i + \hat j`.
Plain numpy arrays are the vectors:

>>> import numpy as np
>>> OA = np.array([1, 1])
>>> OB = np.array([3, 2])
>>> AB = OB - OA
>>> AB
array([2, 1])

The magnitude (length) :math:`|AB| = \sqrt{2^2 + 1^2} = \sqrt 5` and the direction, as a
unit vector or as the angle with the x axis:

>>> round(float(np.linalg.norm(AB)), 6)
2.236068
>>> (AB / np.linalg.norm(AB)).round(6)
array([0.894427, 0.447214])
>>> round(float(np.degrees(np.arctan2(AB[1], AB[0]))), 2)
26.57

Differentiation
---------------
:math:`f'(x) = \lim_{\Delta x \to 0} (f(x + \Delta x) - f(x)) / \Delta x`.

>>> from chainrule import calculus as calc
>>> calc.derivative("x**5")                     # power rule: (x^n)' = n x^(n-1)
5*x**4
>>> calc.derivative("(x**4 + 2)*cos(x)")        # product rule: (fg)' = f'g + fg'
4*x**3*cos(x) - (x**4 + 2)*sin(x)
>>> calc.partial("x**4*y", "x"), calc.partial("x**4*y", "y")
(4*x**3*y, x**4)
>>> calc.gradient("2*x**2 + 4*y")
[4*x, 4]
>>> calc.gradient("2*x**2 + 4*y", at={"x": 1, "y": 2})
array([4., 4.])
>>> d = calc.derivative(lambda t: t**3, at=2.0)  # numeric: central differences
>>> round(d, 6), d.error < 1e-6
(12.0, True)

Maxima and minima
-----------------
>>> for p in calc.critical_points("x**3 - 3*x"):
...     print(p)
maximum at x=-1, f=2  [f''(-1) = -6 < 0]
minimum at x=1, f=-2  [f''(1) = 6 > 0]
>>> [p.kind for p in calc.critical_points("x**3 + y**3 - 3*x*y")]
['saddle', 'minimum']

Gradient descent
----------------
:math:`x_{i+1} = x_i - \alpha \nabla f(x_i)`, stopping when :math:`\|\nabla f(x_i)\|` is small:

>>> r = calc.gradient_descent("(x-3)**2 + (y+1)**2", start={"x": 0, "y": 0}, learning_rate=0.1)
>>> r.reason, {k: round(v, 6) for k, v in r.point.items()}
('gradient norm below tol', {'x': 3.0, 'y': -1.0})

Errata to the reference derivation
----------------------------------
* Product rule: the derivation writes :math:`f(x) = f(x)\cdot g(x)`; it means
  :math:`h = f g`, :math:`h' = f'g + fg'`.
* Two-variable test: the derivation writes ":math:`r, t - s^2`"; the quantity is
  :math:`rt - s^2`, and :math:`s = \partial^2 f / \partial x \partial y` (written
  :math:`\partial^2 f/\partial xy` there).
* Gradient descent: the derivation's step :math:`x_{i+1} = x_i + \alpha v_i` climbs; a
  descent step goes *against* the gradient, :math:`x_{i+1} = x_i - \alpha \nabla f(x_i)`.
  And it stops when :math:`f(x_i) < \epsilon`, which never happens for a function whose
  minimum is above :math:`\epsilon`; the stop here is on a small gradient norm.
"""

from __future__ import annotations

import inspect
import itertools
import math
import numbers
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import sympy as sp
from scipy import optimize

from chainrule._expr import ExpressionError, parse
from chainrule.differences import as_scalar, numeric_gradient

__all__ = [
    "CONVERGED",
    "DIVERGED",
    "KINDS",
    "MAX_STEPS",
    "CriticalPoint",
    "CriticalPoints",
    "DescentResult",
    "Estimate",
    "EstimateArray",
    "ExpressionError",
    "critical_points",
    "derivative",
    "evaluate",
    "gradient",
    "gradient_descent",
    "hessian",
    "jacobian",
    "numeric_derivative",
    "numeric_gradient",
    "numeric_hessian",
    "numeric_jacobian",
    "parse",
    "partial",
    "plot_contour",
    "plot_derivatives",
]

FunctionLike = str | sp.Expr | Callable[..., Any] | float
PointLike = Mapping[Any, Any] | Sequence[Any] | np.ndarray | float

#: Reasons :func:`gradient_descent` gives for stopping.
CONVERGED = "gradient norm below tol"
MAX_STEPS = "max_steps reached"
DIVERGED = "diverged"

KINDS = ("minimum", "maximum", "saddle", "inflection", "inconclusive")

_DEFAULT_BOX = (-10.0, 10.0)


# --------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------


class Estimate(float):
    """A float computed by finite differences, with ``.error``, an estimate of its error.

    It behaves as a plain ``float`` in arithmetic; ``.error`` is an estimate of the
    absolute error (truncation plus rounding), not a guaranteed bound.

    >>> e = Estimate(12.0000001, 2e-7)
    >>> e + 1, e.error
    (13.0000001, 2e-07)
    """

    __slots__ = ("error",)
    error: float

    def __new__(cls, value: float, error: float) -> Estimate:
        obj = super().__new__(cls, value)
        obj.error = float(error)
        return obj

    def __repr__(self) -> str:
        return f"Estimate({float(self)!r}, error={self.error:.2g})"


class EstimateArray(np.ndarray):
    """A float array computed by finite differences, with ``.error`` (an array, same shape).

    Only the array returned carries ``.error``; arrays derived from it (``2 * g``,
    slices, copies) have ``error`` set to ``None``.
    """

    error: np.ndarray | None

    def __new__(cls, value: Any, error: Any) -> EstimateArray:
        obj = np.asarray(value, dtype=float).view(cls)
        obj.error = np.asarray(error, dtype=float)
        return obj

    def __array_finalize__(self, obj: Any) -> None:
        self.error = None


@dataclass(frozen=True)
class CriticalPoint:
    """A point where ``f' = 0`` (one variable) or ``grad f = 0`` (several), classified.

    Attributes
    ----------
    point : dict
        Variable name -> coordinate (exact sympy numbers when ``method == "symbolic"``,
        floats when ``"numeric"``).
    value : number
        ``f`` at the point.
    kind : str
        ``"minimum"``, ``"maximum"``, ``"saddle"``, ``"inflection"`` (one variable:
        neither) or ``"inconclusive"`` (the test fails and nothing else decides).
    method : str
        ``"symbolic"`` (solved exactly) or ``"numeric"`` (found by a numeric search).
        A :class:`CriticalPoints` list says ``"mixed"`` when exact solutions were
        completed by a numeric search.
    test : str
        The test that decided, with its numbers, e.g. ``"f''(1) = 6 > 0"``.
    note : str
        Anything else worth knowing (e.g. one point of a whole curve of critical points).
    """

    point: dict[str, Any]
    value: Any
    kind: str
    method: str = "symbolic"
    test: str = ""
    note: str = ""

    def __str__(self) -> str:
        where = ", ".join(f"{k}={_show(v)}" for k, v in self.point.items())
        text = f"{self.kind} at {where}, f={_show(self.value)}"
        if self.method != "symbolic":
            text += f" ({self.method})"
        if self.test:
            text += f"  [{self.test}]"
        if self.note:
            text += f"  ({self.note})"
        return text

    def coordinates(self) -> np.ndarray:
        """The point as a float array, in the order of :attr:`point`."""
        return np.array([float(v) for v in self.point.values()])


class CriticalPoints(list):
    """The list of :class:`CriticalPoint` records that :func:`critical_points` returns.

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
        fn: _Fn | None = None,
    ) -> None:
        super().__init__(records)
        self.variables = tuple(variables)
        self.method = method
        self.note = note
        self._fn = fn

    @cached_property
    def ray_limits(self) -> tuple[tuple[tuple[int, ...], float, float], ...]:
        """``(direction, low, high)`` for each probed ray: the limit of ``f(t d)`` as
        ``t -> oo`` lies in ``[low, high]`` (``low == high`` for an ordinary limit; unknown
        limits are left out)."""
        if self._fn is None:
            return ()
        return tuple(_ray_limits(self._fn))

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
        finite = [p for p in self if math.isfinite(_float(p.value))]
        if not finite:
            return None
        sign = 1.0 if low else -1.0
        best = min(finite, key=lambda p: sign * _float(p.value))
        v = _float(best.value)
        slack = 1e-9 * (1.0 + abs(v))
        for _, lo, hi in self.ray_limits:
            bound = lo if low else hi
            if sign * bound < sign * v - slack:
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
                lines.append(f"global {name}: f={_show(point.value)} at {_where(point)}")
        return "\n".join(lines)


@dataclass(frozen=True)
class DescentResult:
    """What :func:`gradient_descent` did.

    Attributes
    ----------
    point : dict
        Variable name -> final coordinate.
    value : float
        ``f`` at the final point.
    path : numpy.ndarray
        Every iterate, shape ``(steps + 1, n_variables)``; ``path[0]`` is the start.
    steps : int
        Number of steps taken.
    reason : str
        Why it stopped: ``"gradient norm below tol"``, ``"max_steps reached"`` or
        ``"diverged"``.
    values : numpy.ndarray
        ``f`` along the path, shape ``(steps + 1,)``.
    gradient_norm : float
        ``||grad f||`` at the last point where it was computed.
    variables : tuple of str
        The names, in the column order of ``path``.
    """

    point: dict[str, float]
    value: float
    path: np.ndarray = field(repr=False)
    steps: int
    reason: str
    values: np.ndarray = field(repr=False)
    gradient_norm: float = math.nan
    variables: tuple[str, ...] = ()

    @property
    def converged(self) -> bool:
        """Whether it stopped on a small gradient norm."""
        return self.reason == CONVERGED


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


def _float(v: Any) -> float:
    """A real float from a number or a constant sympy expression (complex -> error)."""
    if isinstance(v, sp.Basic):
        if v.has(sp.zoo, sp.nan):
            return math.nan
        c = complex(sp.N(v, 30))
    else:
        c = complex(v)
    if c.imag != 0 and abs(c.imag) > 1e-12 * max(1.0, abs(c.real)):
        raise ValueError(f"the value {v} is not real")
    return c.real


def _show(v: Any) -> str:
    if isinstance(v, sp.Basic):
        return str(v)
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _where(p: CriticalPoint) -> str:
    return ", ".join(f"{k}={_show(v)}" for k, v in p.point.items())


def _pow2(h: np.ndarray | float) -> np.ndarray:
    """Round steps to powers of two: exactly representable, so ``x + h`` is exact more often."""
    h = np.asarray(h, dtype=float)
    return np.exp2(np.round(np.log2(h)))


def _check_number(v: Any) -> Any:
    if isinstance(v, bool) or isinstance(v, (str, bytes)):
        raise TypeError(f"coordinates must be numbers, got {v!r}")
    if isinstance(v, sp.Basic):
        if not isinstance(v, sp.Expr) or v.free_symbols:
            raise TypeError(f"coordinates must be numbers, got {v!r}")
        return v
    if isinstance(v, (numbers.Real, np.floating, np.integer)):
        return v
    if isinstance(v, np.ndarray) and v.ndim == 0:
        return v.item()
    raise TypeError(f"coordinates must be real numbers, got {type(v).__name__}")


def _coords(at: PointLike, names: Sequence[str]) -> list[Any]:
    """The coordinates of ``at`` (a mapping, a sequence or, for one variable, a number)."""
    names = list(names)
    if isinstance(at, Mapping):
        given = {(k.name if isinstance(k, sp.Symbol) else k): v for k, v in at.items()}
        for k in given:
            if not isinstance(k, str):
                raise TypeError(f"point keys must be variable names, got {k!r}")
        unknown = sorted(set(given) - set(names))
        missing = [n for n in names if n not in given]
        if unknown:
            raise ValueError(f"unknown variable(s) {unknown}; the variables are {names}")
        if missing:
            raise ValueError(f"the point gives no value for {missing}")
        return [_check_number(given[n]) for n in names]
    if isinstance(at, (str, bytes)):
        raise TypeError("a point is a mapping, a sequence or a number, not a string")
    if isinstance(at, (Sequence, np.ndarray)) and np.ndim(at) > 0:
        if isinstance(at, np.ndarray):
            values = list(at.reshape(-1))  # numpy scalars: keep the dtype
        else:
            values = list(np.asarray(at, dtype=object).ravel())
        if len(values) != len(names):
            raise ValueError(f"expected {len(names)} coordinate(s) for {names}, got {len(values)}")
        return [_check_number(v) for v in values]
    if len(names) != 1:
        raise ValueError(f"f has variables {names}; give the point as a mapping or a sequence")
    return [_check_number(at)]


def _point_array(values: Sequence[Any]) -> np.ndarray:
    """Coordinates as a float array, keeping a numpy float dtype given (float32 steps)."""
    dtypes = [np.asarray(v).dtype for v in values if not isinstance(v, sp.Basic)]
    if dtypes and len(dtypes) == len(values):
        if all(np.issubdtype(d, np.floating) for d in dtypes):
            return np.array(values, dtype=np.result_type(*dtypes))
    return np.array([_float(v) for v in values], dtype=float)


def _hint(at: PointLike | None) -> tuple[int | None, tuple[str, ...] | None]:
    """How many variables a point implies, and their names if it is a mapping."""
    if at is None:
        return None, None
    if isinstance(at, Mapping):
        names = tuple(k.name if isinstance(k, sp.Symbol) else str(k) for k in at)
        return len(names), names
    if isinstance(at, (Sequence, np.ndarray)) and not isinstance(at, (str, bytes)):
        return int(np.size(at)), None
    return 1, None


# --------------------------------------------------------------------------------------
# Functions: symbolic or callable, seen as f(vector) -> float
# --------------------------------------------------------------------------------------


def _to_expr(f: Any) -> sp.Expr | None:
    """The sympy expression for ``f``, or ``None`` when ``f`` is a plain callable."""
    if isinstance(f, str):
        return parse(f)
    if isinstance(f, sp.Basic):
        if not isinstance(f, sp.Expr):
            raise TypeError(f"expected a scalar sympy expression, got {type(f).__name__}")
        return f
    if isinstance(f, bool):
        raise TypeError("expected an expression, got a bool")
    if isinstance(f, numbers.Integral):
        return sp.Integer(int(f))
    if isinstance(f, numbers.Real):
        return sp.Float(float(f))
    if callable(f):
        return None
    raise TypeError(f"expected a string, a sympy expression or a callable, got {type(f).__name__}")


def _symbol(expr: sp.Expr, v: Any) -> sp.Symbol:
    if isinstance(v, sp.Symbol):
        return v
    if not isinstance(v, str):
        raise TypeError(f"a variable is a name or a sympy Symbol, got {v!r}")
    for s in expr.free_symbols:
        if getattr(s, "name", None) == v:
            return s
    try:
        found = parse(v)
    except ExpressionError:
        found = None
    if not isinstance(found, sp.Symbol):
        raise ValueError(f"{v!r} is not a valid variable name")
    return found


def _symbols(expr: sp.Expr, variables: Any = None) -> tuple[sp.Symbol, ...]:
    if variables is None:
        return tuple(sorted(expr.free_symbols, key=lambda s: s.name))
    if isinstance(variables, (str, sp.Symbol)):
        variables = [variables]
    syms = tuple(_symbol(expr, v) for v in variables)
    if len(set(syms)) != len(syms):
        raise ValueError("variables must be distinct")
    return syms


class _Fn:
    """A function of a vector: ``value(x)``, ``grad(x)``, ``hess(x)`` on float arrays.

    Symbolic functions get exact derivatives (lambdified with numpy); callables get
    central differences.
    """

    def __init__(
        self,
        names: Sequence[str],
        value: Callable[[np.ndarray], float],
        expr: sp.Expr | None = None,
        symbols: Sequence[sp.Symbol] = (),
    ) -> None:
        self.names = tuple(names)
        self.value = value
        self.expr = expr
        self.symbols = tuple(symbols)

    @property
    def n(self) -> int:
        return len(self.names)

    @cached_property
    def _grad_exact(self) -> Callable[..., Any]:
        assert self.expr is not None
        g = [sp.diff(self.expr, s) for s in self.symbols]
        return sp.lambdify(self.symbols, g, modules="numpy", dummify=True)

    @cached_property
    def _hess_exact(self) -> Callable[..., Any]:
        assert self.expr is not None
        h = sp.hessian(self.expr, self.symbols).tolist()
        return sp.lambdify(self.symbols, h, modules="numpy", dummify=True)

    def grad(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if self.expr is None:
            return numeric_gradient(self.value, x.copy())[0]
        return np.array(self._grad_exact(*x), dtype=float).reshape(self.n)

    def hess(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if self.expr is None:
            return numeric_hessian(self.value, x)[0]
        return np.array(self._hess_exact(*x), dtype=float).reshape(self.n, self.n)

    def hess_with_error(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.expr is None:
            return numeric_hessian(self.value, np.asarray(x, dtype=float), error=True)
        H = self.hess(x)
        return H, 1e-12 * (1.0 + np.abs(H))

    def derivative_1d(self, c: float, order: int) -> Estimate:
        """``f^(order)(c)`` for a function of one variable."""
        if self.expr is not None:
            d = sp.diff(self.expr, self.symbols[0], order)
            value = float(sp.lambdify(self.symbols, d, modules="numpy", dummify=True)(c))
            return Estimate(value, 1e-12 * (1.0 + abs(value)))
        return numeric_derivative(lambda t: self.value(np.array([t])), c, order=order)


def _realify(expr: sp.Expr) -> sp.Expr:
    """Make every variable real (strings already parse to real symbols)."""
    mapping = {
        s: sp.Symbol(s.name, real=True)
        for s in expr.free_symbols
        if type(s) is sp.Symbol and s.is_real is not True
    }
    return expr.xreplace(mapping) if mapping else expr


def _symbolic_fn(expr: sp.Expr, variables: Any = None) -> _Fn:
    """A symbolic function of real variables, seen as a function of a float vector."""
    if variables is not None:
        if isinstance(variables, (str, sp.Symbol)):
            variables = [variables]
        variables = [v.name if isinstance(v, sp.Symbol) else v for v in variables]
    expr = _realify(expr)
    syms = _symbols(expr, variables)
    others = sorted(s.name for s in expr.free_symbols - set(syms))
    if others:
        raise ValueError(f"f also depends on {others}: give them values first, or list them")
    lam = sp.lambdify(syms, expr, modules="numpy", dummify=True)

    def value(x: np.ndarray) -> float:
        return as_scalar(lam(*np.asarray(x, dtype=float)))

    return _Fn([s.name for s in syms], value, expr, syms)


def _positional(f: Callable[..., Any]) -> tuple[list[str], bool]:
    """Names of ``f``'s required positional parameters, and whether it takes ``*args``."""
    try:
        sig = inspect.signature(f)
    except (TypeError, ValueError):
        return ["x"], False
    names, variadic = [], False
    for p in sig.parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            variadic = True
        elif p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty:
            names.append(p.name)
    return names, variadic


def _callable_fn(
    f: Callable[..., Any], variables: Any = None, at: Any = None, n: int | None = None
) -> _Fn:
    """View a callable as a function of a vector.

    ``f(x, y)`` (one parameter per variable, named after them) is called as ``f(*v)``;
    ``f(v)`` with one parameter and a point of several coordinates gets the whole vector.
    """
    params, variadic = _positional(f)
    n_at, at_names = _hint(at)
    if isinstance(variables, str):
        variables = [variables]
    names = tuple(str(v) for v in variables) if variables is not None else at_names
    count = len(names) if names is not None else (n_at if n_at is not None else n)

    if count is None or (not variadic and count == len(params)):
        if names is not None and not variadic and set(names) == set(params):
            names = tuple(params)  # call order is the signature's
        names = names if names is not None else tuple(params)
        if variadic and not names:
            raise ValueError("say how many variables f(*args) takes: pass variables= or a point")
        if len(names) == 1:
            return _Fn(names, lambda x: as_scalar(f(x[0])))
        return _Fn(names, lambda x: as_scalar(f(*x)))
    if variadic:
        names = names if names is not None else tuple(f"x{i + 1}" for i in range(count))
        return _Fn(names, lambda x: as_scalar(f(*x)))
    if len(params) == 1:
        p = params[0]
        names = names if names is not None else tuple(f"{p}[{i}]" for i in range(count))
        return _Fn(names, lambda x: as_scalar(f(x)))
    raise ValueError(f"f takes {len(params)} argument(s) {params} but the point has {count}")


def _fn(f: Any, variables: Any = None, at: Any = None, n: int | None = None) -> _Fn:
    expr = _to_expr(f)
    if expr is None:
        return _callable_fn(f, variables, at, n)
    return _symbolic_fn(expr, variables)


def _subs(expr: sp.Expr, syms: Sequence[sp.Symbol], values: Sequence[Any]) -> sp.Expr:
    mapping = {}
    for s, v in zip(syms, values, strict=True):
        if isinstance(v, sp.Basic):
            mapping[s] = v
        elif isinstance(v, (numbers.Integral, np.integer)):
            mapping[s] = sp.Integer(int(v))
        else:
            mapping[s] = sp.Float(float(v))
    return expr.xreplace(mapping)


def _at_float(expr: sp.Expr, syms: Sequence[sp.Symbol], at: PointLike) -> float:
    values = _coords(at, [s.name for s in syms])
    return _float(_subs(expr, syms, values))


# --------------------------------------------------------------------------------------
# Numeric differentiation
# --------------------------------------------------------------------------------------


def numeric_derivative(
    f: Callable[[Any], Any], x: float, *, order: int = 1, step: float | None = None
) -> Estimate:
    r"""Derivative of any order of a function of one variable, by central differences.

    .. math:: f^{(k)}(x) \approx h^{-k} \sum_{j=0}^{k} (-1)^j \binom{k}{j}
              f\left(x + (k/2 - j) h\right)

    (error :math:`O(h^2)`), with ``h = eps**(1/(k+2)) * max(1, |x|)`` rounded to a power of
    two, ``eps`` that of ``x``'s dtype.  The error estimate compares steps ``h`` and
    ``2h`` (Richardson) and adds the rounding error.

    >>> d = numeric_derivative(lambda t: t**3, 2.0)
    >>> round(d, 8), d.error < 1e-6
    (12.0, True)
    >>> round(numeric_derivative(lambda t: t**3, 2.0, order=2), 4)
    12.0
    """
    if not isinstance(order, numbers.Integral) or order < 0:
        raise ValueError("order must be a non-negative integer")
    x_arr = np.asarray(x)
    dtype = x_arr.dtype if np.issubdtype(x_arr.dtype, np.floating) else np.dtype(float)
    x0 = float(x_arr)
    if order == 0:
        return Estimate(as_scalar(f(dtype.type(x0))), 0.0)
    eps = float(np.finfo(dtype).eps)
    if step is None:
        h = float(_pow2(eps ** (1.0 / (order + 2)) * max(1.0, abs(x0))))
    else:
        h = float(step)
        if not h > 0:
            raise ValueError("step must be positive")
    ks = np.arange(order + 1)
    coeffs = np.array([(-1) ** int(k) * math.comb(order, int(k)) for k in ks], dtype=float)

    def stencil(h: float) -> tuple[float, float]:
        values = np.array(
            [as_scalar(f(dtype.type(x0 + (order / 2 - k) * h))) for k in ks], dtype=float
        )
        return float(coeffs @ values) / h**order, float(np.abs(coeffs) @ np.abs(values))

    d1, size = stencil(h)
    d2, _ = stencil(2 * h)
    return Estimate(d1, abs(d1 - d2) / 3.0 + eps * size / h**order)


def numeric_hessian(
    f: Callable[[np.ndarray], Any],
    x: np.ndarray,
    *,
    step: float | np.ndarray | None = None,
    error: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Hessian of a scalar ``f`` at ``x`` by central differences.

    .. math:: H_{ii} \approx \frac{f(x + h_i e_i) - 2 f(x) + f(x - h_i e_i)}{h_i^2},\quad
              H_{ij} \approx \frac{f_{++} - f_{+-} - f_{-+} + f_{--}}{4 h_i h_j}

    with ``h = eps**(1/4) * max(1, |x|)``.  ``x`` is not modified.  Returns ``(H, err)``;
    ``err`` is the rounding part, plus the Richardson truncation estimate if ``error``.

    >>> H, err = numeric_hessian(lambda v: v[0]**2 * v[1], np.array([1.0, 3.0]))
    >>> H.round(5)
    array([[6., 2.],
           [2., 0.]])
    """
    x = np.array(x, dtype=float if not np.issubdtype(np.asarray(x).dtype, np.floating) else None)
    x = x.reshape(-1)
    n = x.size
    eps = float(np.finfo(x.dtype).eps)
    if step is None:
        h0 = _pow2(eps**0.25 * np.maximum(1.0, np.abs(x)))
    else:
        h0 = np.broadcast_to(np.asarray(step, dtype=float), x.shape).copy()

    def F(v: np.ndarray) -> float:
        return as_scalar(f(v.astype(x.dtype)))

    def second(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        H = np.empty((n, n))
        S = np.empty((n, n))
        f0 = F(x)
        E = np.diag(h)
        for i in range(n):
            fp, fm = F(x + E[i]), F(x - E[i])
            H[i, i] = (fp - 2 * f0 + fm) / h[i] ** 2
            S[i, i] = (abs(fp) + 2 * abs(f0) + abs(fm)) / h[i] ** 2
            for j in range(i):
                fpp = F(x + E[i] + E[j])
                fpm = F(x + E[i] - E[j])
                fmp = F(x - E[i] + E[j])
                fmm = F(x - E[i] - E[j])
                H[i, j] = H[j, i] = (fpp - fpm - fmp + fmm) / (4 * h[i] * h[j])
                S[i, j] = S[j, i] = (abs(fpp) + abs(fpm) + abs(fmp) + abs(fmm)) / (4 * h[i] * h[j])
        return H, S

    H1, S1 = second(h0)
    err = eps * S1
    if error:
        H2, _ = second(2 * h0)
        err = err + np.abs(H1 - H2) / 3.0
    return H1, err


def numeric_jacobian(
    F: Callable[[np.ndarray], Any],
    x: np.ndarray,
    *,
    step: float | np.ndarray | None = None,
    error: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Jacobian ``J[i, j] = dF_i/dx_j`` of a vector function ``F`` at ``x``, by central
    differences (column ``j`` from ``F(x +- h_j e_j)``).  ``x`` is not modified.

    >>> J, _ = numeric_jacobian(lambda v: [v[0] * v[1], v[0] + v[1]], np.array([2.0, 5.0]))
    >>> J.round(6)
    array([[5., 2.],
           [1., 1.]])
    """
    x = np.array(x, dtype=float).reshape(-1)
    eps = float(np.finfo(x.dtype).eps)
    if step is None:
        h = np.cbrt(eps) * np.maximum(1.0, np.abs(x))
    else:
        h = np.broadcast_to(np.asarray(step, dtype=float), x.shape)

    def Fv(v: np.ndarray) -> np.ndarray:
        return np.asarray(F(v), dtype=float).reshape(-1)

    columns, errors = [], []
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = h[j]
        fp, fm = Fv(x + e), Fv(x - e)
        d1 = (fp - fm) / (2 * h[j])
        err = eps * (np.abs(fp) + np.abs(fm)) / (2 * h[j])
        if error:
            d2 = (Fv(x + 2 * e) - Fv(x - 2 * e)) / (4 * h[j])
            err = err + np.abs(d1 - d2) / 3.0
        columns.append(d1)
        errors.append(err)
    return np.column_stack(columns), np.column_stack(errors)


# --------------------------------------------------------------------------------------
# Derivatives, partials, gradient, Hessian, Jacobian
# --------------------------------------------------------------------------------------


def _diff(expr: sp.Expr, sym: sp.Symbol, order: int) -> sp.Expr:
    if not isinstance(order, numbers.Integral) or isinstance(order, bool) or order < 0:
        raise ValueError("order must be a non-negative integer")
    for _ in range(int(order)):
        expr = sp.diff(expr, sym)
        if expr == 0:
            break
    return expr


def derivative(
    f: FunctionLike,
    var: str | sp.Symbol | None = None,
    *,
    order: int = 1,
    at: PointLike | None = None,
    step: float | None = None,
) -> Any:
    r"""The derivative :math:`d^k f / dx^k`.

    :math:`f'(x) = \lim_{\Delta x \to 0} \frac{f(x + \Delta x) - f(x)}{\Delta x}`; e.g. the
    power rule :math:`(x^n)' = n x^{n-1}` and the product rule :math:`(fg)' = f'g + fg'`.

    Parameters
    ----------
    f : str, sympy expression or callable
    var : str or Symbol, optional
        The variable; needed only when ``f`` has several (then this is a partial).
    order : int
        How many times to differentiate.
    at : number or mapping, optional
        Evaluate there.  Required for callables, which get numeric answers.
    step : float, optional
        Finite-difference step for callables (default chosen for the dtype).

    Returns
    -------
    sympy expression (symbolic, no ``at``), float (symbolic, ``at``) or
    :class:`Estimate` (callable: a float with ``.error``).

    Examples
    --------
    >>> derivative("x**5"), derivative("x**5", order=2)
    (5*x**4, 20*x**3)
    >>> derivative("x**5", at=2)
    80.0
    """
    expr = _to_expr(f)
    if expr is None:
        if var is not None:
            return partial(f, var, order=order, at=at, step=step)
        if at is None:
            raise ValueError("a callable gets numeric answers: say where, with at=")
        fn = _callable_fn(f, None, at)
        if fn.n != 1:
            raise ValueError(f"f has variables {list(fn.names)}: use partial() or gradient()")
        (x0,) = _coords(at, fn.names)
        return numeric_derivative(lambda t: fn.value(np.array([t])), x0, order=order, step=step)
    if var is None:
        syms = _symbols(expr)
        if len(syms) > 1:
            names = [s.name for s in syms]
            raise ValueError(f"f has variables {names}: say which with var=, or use gradient()")
        sym = syms[0] if syms else sp.Symbol("x")
    else:
        sym = _symbol(expr, var)
    d = _diff(expr, sym, order)
    if at is None:
        return d
    syms = set(_symbols(expr)) | {sym}
    return _at_float(d, sorted(syms, key=lambda s: s.name), at)


def partial(
    f: FunctionLike,
    var: str | sp.Symbol | Sequence[str | sp.Symbol],
    *,
    order: int = 1,
    at: PointLike | None = None,
    variables: Sequence[str] | None = None,
    step: float | None = None,
) -> Any:
    r"""A partial derivative: differentiate in ``var``, holding the other variables fixed.

    ``var`` may be a sequence for a mixed partial: ``partial(f, ["x", "y"])`` is
    :math:`\partial^2 f / \partial x \partial y` (differentiate in x, then in y).

    >>> partial("x**4*y", "x"), partial("x**4*y", "y"), partial("x**4*y", ["x", "y"])
    (4*x**3*y, x**4, 4*x**3)
    >>> partial("x**4*y", "x", at={"x": 1, "y": 2})
    8.0
    """
    many = isinstance(var, Sequence) and not isinstance(var, str)
    seq = list(var) if many else [var]
    if many and order != 1:
        raise ValueError("give order=1 with a sequence of variables (repeat a name instead)")
    expr = _to_expr(f)
    if expr is None:
        return _numeric_partial(f, seq, order, at, variables, step)
    d = expr
    for v in seq:
        d = _diff(d, _symbol(expr, v), order)
    if at is None:
        return d
    syms = set(_symbols(expr, variables)) | {_symbol(expr, v) for v in seq}
    if variables is None:
        syms_sorted = sorted(syms, key=lambda s: s.name)
    else:
        syms_sorted = list(_symbols(expr, variables))
    return _at_float(d, syms_sorted, at)


def _numeric_partial(
    f: Callable[..., Any],
    seq: list[Any],
    order: int,
    at: PointLike | None,
    variables: Any,
    step: float | None,
) -> Estimate:
    fn, x = _numeric_point(f, variables, at)
    idx = []
    for v in seq:
        name = v.name if isinstance(v, sp.Symbol) else v
        if name not in fn.names:
            raise ValueError(f"unknown variable {name!r}; the variables are {list(fn.names)}")
        idx.append(fn.names.index(name))
    if len(idx) == 2 and idx[0] != idx[1]:
        i, j = idx
        H, err = numeric_hessian(fn.value, x, step=step, error=True)
        return Estimate(H[i, j], err[i, j])
    if len(set(idx)) != 1:
        raise ValueError("numeric mixed partials go up to second order")
    i = idx[0]
    k = order * len(idx)

    def slice_(t: Any) -> float:
        v = x.copy()
        v[i] = t
        return fn.value(v)

    return numeric_derivative(slice_, x[i], order=k, step=step)


def _numeric_point(f: Callable, variables, at):
    """The wrapped callable and the point, for a numeric answer (a callable needs ``at``)."""
    if at is None:
        raise ValueError("a callable gets numeric answers: say where, with at=")
    fn = _callable_fn(f, variables, at)
    return fn, _point_array(_coords(at, fn.names))


def gradient(
    f: FunctionLike,
    *,
    at: PointLike | None = None,
    variables: Sequence[str] | None = None,
    step: float | None = None,
) -> Any:
    r"""The gradient, the vector of partial derivatives
    :math:`\nabla f = [\partial f/\partial x_1, \dots, \partial f/\partial x_n]^T`.

    It points where ``f`` increases fastest.

    Returns
    -------
    list of sympy expressions (symbolic), a float array (symbolic with ``at``) or an
    :class:`EstimateArray` (callables, which need ``at``).

    >>> gradient("2*x**2 + 4*y")
    [4*x, 4]
    >>> gradient("2*x**2 + 4*y", at={"x": 1, "y": 2})
    array([4., 4.])
    >>> g = gradient(lambda x, y: 2*x**2 + 4*y, at={"x": 1.0, "y": 2.0})
    >>> g.round(6), bool(np.all(g.error < 1e-6))
    (array([4., 4.]), True)
    """
    expr = _to_expr(f)
    if expr is None:
        fn, x = _numeric_point(f, variables, at)
        g, err = numeric_gradient(fn.value, x, step=step, error=True)
        return EstimateArray(g, err)
    syms = _symbols(expr, variables)
    grads = [sp.diff(expr, s) for s in syms]
    if at is None:
        return grads
    values = _coords(at, [s.name for s in syms])
    return np.array([_float(_subs(g, syms, values)) for g in grads])


def hessian(
    f: FunctionLike,
    *,
    at: PointLike | None = None,
    variables: Sequence[str] | None = None,
    step: float | None = None,
) -> Any:
    r"""The Hessian, the matrix of second partials :math:`H_{ij} = \partial^2 f /
    \partial x_i \partial x_j`.  For two variables it holds the derivation's
    :math:`r = f_{xx}`, :math:`s = f_{xy}`, :math:`t = f_{yy}`.

    >>> hessian("x**3 + y**3 - 3*x*y")
    Matrix([
    [6*x,  -3],
    [ -3, 6*y]])
    >>> hessian("x**3 + y**3 - 3*x*y", at=(1, 1))
    array([[ 6., -3.],
           [-3.,  6.]])
    """
    expr = _to_expr(f)
    if expr is None:
        fn, x = _numeric_point(f, variables, at)
        H, err = numeric_hessian(fn.value, x, step=step, error=True)
        return EstimateArray(H, err)
    syms = _symbols(expr, variables)
    H = sp.hessian(expr, syms) if syms else sp.Matrix(0, 0, [])
    if at is None:
        return H
    values = _coords(at, [s.name for s in syms])
    return np.array([[_float(_subs(h, syms, values)) for h in row] for row in H.tolist()])


def jacobian(
    fs: Sequence[FunctionLike] | sp.Matrix | Callable[..., Any],
    *,
    at: PointLike | None = None,
    variables: Sequence[str] | None = None,
    step: float | None = None,
) -> Any:
    r"""The Jacobian of a vector function, :math:`J_{ij} = \partial f_i / \partial x_j`.

    ``fs`` is a sequence of expressions (strings or sympy) or a callable returning a
    vector (numeric; needs ``at``).

    >>> jacobian(["x*y", "x + y**2"])
    Matrix([
    [y,   x],
    [1, 2*y]])
    >>> jacobian(["x*y", "x + y**2"], at={"x": 2, "y": 3})
    array([[3., 2.],
           [1., 6.]])
    """
    if callable(fs) and not isinstance(fs, (sp.Basic, str)):
        if at is None:
            raise ValueError("a callable gets numeric answers: say where, with at=")
        params, variadic = _positional(fs)
        n_at, at_names = _hint(at)
        names = tuple(variables) if variables is not None else at_names
        if names is None:
            names = tuple(params) if n_at == len(params) else tuple(f"x{i}" for i in range(n_at))
        x = np.array(_coords(at, names), dtype=float)
        if len(params) == len(names) or variadic:
            F = lambda v: fs(*v)  # noqa: E731
        else:
            F = fs
        J, err = numeric_jacobian(F, x, step=step, error=True)
        return EstimateArray(J, err)
    if isinstance(fs, sp.MatrixBase):
        exprs = list(fs)
    elif isinstance(fs, (str, sp.Basic)):
        exprs = [_to_expr(fs)]
    else:
        exprs = [_to_expr(e) for e in fs]
    if any(e is None for e in exprs):
        raise TypeError("jacobian takes expressions, or a single callable returning a vector")
    vector = sp.Matrix(exprs)
    if variables is None:
        syms = tuple(sorted(vector.free_symbols, key=lambda s: s.name))
    else:
        syms = tuple(_symbol(vector, v) for v in variables)
    J = vector.jacobian(syms)
    if at is None:
        return J
    values = _coords(at, [s.name for s in syms])
    return np.array([[_float(_subs(e, syms, values)) for e in row] for row in J.tolist()])


def evaluate(f: FunctionLike, at: PointLike, *, variables: Sequence[str] | None = None) -> float:
    """``f`` at a point, as a float.

    >>> evaluate("x**4*y", {"x": 2, "y": 3})
    48.0
    >>> evaluate(lambda x, y: x**4 * y, (2, 3))
    48.0
    """
    expr = _to_expr(f)
    if expr is None:
        fn = _callable_fn(f, variables, at)
        return fn.value(np.array(_coords(at, fn.names), dtype=float))
    return _at_float(expr, _symbols(expr, variables), at)


# --------------------------------------------------------------------------------------
# Critical points
# --------------------------------------------------------------------------------------


class _NoClosedForm(Exception):
    pass


def _sign(v: Any) -> int:
    """Sign of an exact sympy number (0 only when it is zero)."""
    if not isinstance(v, sp.Basic):
        v = sp.Float(float(v))
    if not v.is_number or v.has(sp.zoo, sp.nan, sp.oo, -sp.oo, sp.DiracDelta):
        raise ValueError(f"{v} is not a finite number")
    if v.is_zero:
        return 0
    if v.is_positive:
        return 1
    if v.is_negative:
        return -1
    c = complex(sp.N(v, 50))
    if abs(c.real) < 1e-40:
        return 0 if sp.simplify(v) == 0 or abs(c.real) < 1e-60 else int(math.copysign(1, c.real))
    return 1 if c.real > 0 else -1


def _cmp(sign: int) -> str:
    return "> 0" if sign > 0 else ("< 0" if sign < 0 else "= 0")


def _box(bounds: Any, names: Sequence[str]) -> np.ndarray:
    """Bounds as an ``(n, 2)`` array: a pair for all, a mapping or a sequence of pairs."""
    n = len(names)
    if bounds is None:
        return np.tile(np.array(_DEFAULT_BOX), (n, 1))
    if isinstance(bounds, Mapping):
        rows = [bounds.get(name, _DEFAULT_BOX) for name in names]
        return np.array(rows, dtype=float).reshape(n, 2)
    arr = np.array(bounds, dtype=float)
    if arr.shape == (2,):
        arr = np.tile(arr, (n, 1))
    if arr.shape != (n, 2) or np.any(arr[:, 0] >= arr[:, 1]):
        raise ValueError(f"bounds must be (low, high) or {n} such pairs, with low < high")
    return arr


def _classify_1d_exact(expr: sp.Expr, x: sp.Symbol, c: sp.Expr, max_order: int) -> tuple[str, str]:
    d = expr
    for k in range(1, max_order + 1):
        d = sp.diff(d, x)
        if k == 1:
            continue
        v = sp.simplify(d.xreplace({x: c}))
        s = _sign(v)
        if s == 0:
            continue
        if k == 2:
            return ("minimum" if s > 0 else "maximum"), f"f''({c}) = {v} {_cmp(s)}"
        zeros = "f''" if k == 3 else f"f'' = ... = f^({k - 1})"
        what = f"{zeros} = 0 at {c}, f^({k})({c}) = {v} {_cmp(s)}"
        if k % 2 == 1:
            return "inflection", f"{what}, order {k} odd"
        return ("minimum" if s > 0 else "maximum"), f"{what}, order {k} even"
    return "inconclusive", f"derivatives of order 2 to {max_order} vanish at {c}"


def _classify_hessian(H: np.ndarray, err: np.ndarray | float) -> tuple[str, str]:
    """Classify by the Hessian's eigenvalues (floats, with a zero tolerance from ``err``)."""
    ev = np.linalg.eigvalsh((H + H.T) / 2)
    tol = float(np.max(err)) * 10 + 1e-12 * max(1.0, float(np.max(np.abs(ev))))
    signs = [0 if abs(e) <= tol else (1 if e > 0 else -1) for e in ev]
    text = "Hessian eigenvalues " + ", ".join(f"{e:.6g}" for e in ev)
    if all(s > 0 for s in signs):
        return "minimum", text + ": all > 0"
    if all(s < 0 for s in signs):
        return "maximum", text + ": all < 0"
    if 1 in signs and -1 in signs:
        return "saddle", text + ": mixed signs"
    return "inconclusive", text + ": some = 0, the test fails"


def _classify_rst(r: Any, s: Any, t: Any, signs: tuple[int, int]) -> tuple[str, str]:
    """The derivation's two-variable test, from the signs of ``rt - s^2`` and ``r``."""
    d_sign, r_sign = signs
    text = f"r = {_show(r)}, s = {_show(s)}, t = {_show(t)}, rt - s^2 {_cmp(d_sign)}"
    if d_sign > 0:
        return ("minimum" if r_sign > 0 else "maximum"), f"{text}, r {_cmp(r_sign)}"
    if d_sign < 0:
        return "saddle", text
    return "inconclusive", text + ": the test fails"


def _classify_exact(
    expr: sp.Expr, syms: Sequence[sp.Symbol], point: Sequence[sp.Expr], max_order: int
) -> tuple[str, str]:
    try:
        return _classify_exact_tests(expr, syms, point, max_order)
    except (TypeError, ValueError, ArithmeticError):
        # e.g. abs(x) at 0: f' = sign(x) is 0 there, but f'' is not a number
        return "inconclusive", "the derivatives the test needs are undefined at this point"


def _classify_exact_tests(
    expr: sp.Expr, syms: Sequence[sp.Symbol], point: Sequence[sp.Expr], max_order: int
) -> tuple[str, str]:
    if len(syms) == 1:
        return _classify_1d_exact(expr, syms[0], point[0], max_order)
    H = sp.hessian(expr, syms).xreplace(dict(zip(syms, point, strict=True)))
    if len(syms) == 2:
        r, s, t = (sp.simplify(H[0, 0]), sp.simplify(H[0, 1]), sp.simplify(H[1, 1]))
        D = sp.simplify(r * t - s**2)
        return _classify_rst(r, s, t, (_sign(D), _sign(r)))
    Hf = np.array([[_float(v) for v in row] for row in H.tolist()])
    return _classify_hessian(Hf, 0.0)


def _classify_numeric(fn: _Fn, c: np.ndarray) -> tuple[str, str]:
    if fn.n == 1:
        d2 = fn.derivative_1d(float(c[0]), 2)
        tol = 10 * d2.error + 1e-10
        if abs(d2) > tol:
            s = 1 if d2 > 0 else -1
            return ("minimum" if s > 0 else "maximum"), f"f''({c[0]:.6g}) = {d2:.6g} {_cmp(s)}"
        # f'' vanishes (to working accuracy): the higher derivatives decide; numerically,
        # read their effect off f itself on either side of c.
        delta = 1e-3 * max(1.0, abs(float(c[0])))
        f0 = fn.value(c)
        fl, fr = fn.value(c - delta), fn.value(c + delta)
        side = (int(np.sign(fl - f0)), int(np.sign(fr - f0)))
        text = f"f''({c[0]:.6g}) = 0 to working accuracy; higher order: f(c -+ {delta:.3g}) - f(c)"
        if side == (1, 1):
            return "minimum", f"{text} > 0 on both sides"
        if side == (-1, -1):
            return "maximum", f"{text} < 0 on both sides"
        if 0 not in side:
            return "inflection", f"{text} changes sign"
        return "inconclusive", f"{text} = 0"
    H, err = fn.hess_with_error(c)
    if fn.n == 2:
        r, s, t = H[0, 0], H[0, 1], H[1, 1]
        D = r * t - s * s
        tol_h = 10 * float(np.max(err)) + 1e-12 * max(1.0, float(np.max(np.abs(H))))
        tol_d = tol_h * (abs(r) + abs(t) + 2 * abs(s) + tol_h)
        d_sign = 0 if abs(D) <= tol_d else (1 if D > 0 else -1)
        r_sign = 0 if abs(r) <= tol_h else (1 if r > 0 else -1)
        return _classify_rst(float(r), float(s), float(t), (d_sign, r_sign))
    return _classify_hessian(H, err)


def _exact_solutions(
    expr: sp.Expr, syms: tuple[sp.Symbol, ...], box: np.ndarray, clip: bool
) -> tuple[list[tuple[list[sp.Expr], str]], str]:
    """Real solutions of grad f = 0 as exact coordinates, with per-point notes."""
    real = {s: sp.Dummy(s.name, real=True) for s in syms}
    back = {v: k for k, v in real.items()}
    g = [sp.diff(expr, s).xreplace(real) for s in syms]
    rs = [real[s] for s in syms]
    note = ""
    found: list[tuple[list[sp.Expr], str]] = []
    if len(syms) == 1:
        sol = sp.solveset(g[0], rs[0], sp.S.Reals)
        if sol == sp.S.Reals:
            raise _AllCritical
        if not isinstance(sol, sp.FiniteSet):
            lo, hi = box[0]
            try:
                within = sol.intersect(sp.Interval(sp.Rational(lo), sp.Rational(hi)))
            except Exception as exc:  # pragma: no cover - sympy internals
                raise _NoClosedForm from exc
            if not isinstance(within, sp.FiniteSet) or isinstance(sol, sp.ConditionSet):
                raise _NoClosedForm
            note = f"infinitely many critical points; those in [{lo:g}, {hi:g}] are listed"
            sol = within
        found = [([v], "") for v in sol]
    else:
        try:
            sols = sp.solve(g, rs, dict=True)
        except (NotImplementedError, ValueError) as exc:
            raise _NoClosedForm from exc
        if not sols and not all(gi.is_polynomial(*rs) for gi in g):
            raise _NoClosedForm
        for sol in sols:
            free = set().union(*(v.free_symbols for v in sol.values())) | {
                r for r in rs if r not in sol
            }
            extra = ""
            if free:
                rel = ", ".join(f"{back.get(k, k)} = {v.xreplace(back)}" for k, v in sol.items())
                extra = f"one point of a set of critical points ({rel}), free variables set to 0"
            zero = {r: sp.Integer(0) for r in free}
            coords = [sol.get(r, r).xreplace(zero) for r in rs]
            found.append((coords, extra))
    real_found = []
    for coords, extra in found:
        try:
            floats = [_float(c) for c in coords]
        except (ValueError, TypeError):
            continue  # complex
        residual = [_float(gi.xreplace(dict(zip(rs, coords, strict=True)))) for gi in g]
        scale = 1e-8 * (1 + max(map(abs, floats)))
        if not all(math.isfinite(r) and abs(r) < scale for r in residual):
            continue
        if clip and not all(lo <= v <= hi for v, (lo, hi) in zip(floats, box, strict=True)):
            continue
        for i, (seen, seen_extra) in enumerate(real_found):
            if all(
                abs(_float(a) - b) <= 1e-12 * (1 + abs(b))
                for a, b in zip(coords, map(_float, seen), strict=True)
            ):
                if extra and extra not in seen_extra:
                    real_found[i] = (seen, f"{seen_extra}; {extra}" if seen_extra else extra)
                break
        else:
            real_found.append((coords, extra))
    return real_found, note


class _AllCritical(Exception):
    pass


def _numeric_solutions(fn: _Fn, box: np.ndarray, n_starts: int | None, seed: int) -> list:
    n = fn.n
    lo, hi = box[:, 0], box[:, 1]
    width = float(np.max(hi - lo))
    rng = np.random.default_rng(seed)
    if n == 1:
        starts = np.linspace(lo[0], hi[0], n_starts or 41).reshape(-1, 1)
    else:
        count = n_starts or min(200, 30 * n)
        starts = np.vstack([(lo + hi) / 2, lo + (hi - lo) * rng.random((count - 1, n))])
    candidates = []
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if n == 1:  # bracket sign changes of f' on a grid, then refine with brentq
            grid = np.linspace(lo[0], hi[0], 801)
            d = np.array([fn.grad(np.array([t]))[0] for t in grid])
            for a, b, da, db in zip(grid[:-1], grid[1:], d[:-1], d[1:], strict=True):
                if np.isfinite(da) and np.isfinite(db) and da * db < 0:
                    root = optimize.brentq(lambda t: fn.grad(np.array([t]))[0], a, b)
                    candidates.append(np.array([root]))
        for x0 in starts:
            try:
                sol = optimize.root(fn.grad, x0, jac=fn.hess, method="hybr")
            except (ValueError, ArithmeticError, np.linalg.LinAlgError):
                continue
            candidates.append(np.asarray(sol.x, dtype=float))
        accepted = []
        for x in candidates:
            if not np.all(np.isfinite(x)):
                continue
            if np.any(x < lo - 1e-9 * width) or np.any(x > hi + 1e-9 * width):
                continue
            fx = fn.value(x)
            gnorm = float(np.linalg.norm(fn.grad(x)))
            if math.isfinite(fx) and gnorm <= 1e-6 * (1.0 + abs(fx)):
                accepted.append((gnorm, x))
    accepted.sort(key=lambda item: item[0])
    points: list[np.ndarray] = []
    merge = 1e-4 * max(1.0, width)
    for _, x in accepted:
        if all(np.max(np.abs(x - p)) > merge for p in points):
            points.append(x)
    return points


def critical_points(
    f: FunctionLike,
    *,
    variables: Sequence[str] | None = None,
    bounds: Any = None,
    method: str = "auto",
    n_starts: int | None = None,
    seed: int = 0,
    max_order: int = 12,
) -> CriticalPoints:
    r"""Find and classify the points where :math:`f' = 0` (or :math:`\nabla f = 0`).

    Classification, as in the reference derivation:

    * one variable: :math:`f''(c) > 0` minimum, :math:`< 0` maximum; when
      :math:`f''(c) = 0` the first non-zero higher derivative :math:`f^{(k)}(c)` decides
      (``k`` even: minimum/maximum by its sign; ``k`` odd: ``"inflection"``);
    * two variables: with :math:`r = f_{xx}`, :math:`s = f_{xy}`, :math:`t = f_{yy}`:
      :math:`rt - s^2 > 0` and :math:`r > 0` minimum, :math:`r < 0` maximum;
      :math:`rt - s^2 < 0` saddle; :math:`rt - s^2 = 0` the test fails
      (``"inconclusive"``);
    * three or more: the Hessian's eigenvalues (all > 0 minimum, all < 0 maximum, mixed
      signs saddle, otherwise ``"inconclusive"``).

    Strings and sympy expressions are solved exactly (sympy ``solveset`` / ``solve``).
    Where no closed form is found -- and always for callables -- a numeric search runs
    inside ``bounds``: ``scipy.optimize.root`` on the gradient from several starts (plus,
    for one variable, sign changes of ``f'`` on a grid); its records say
    ``method="numeric"``.  For a non-polynomial system in two or more variables, whose
    solutions sympy may miss, the exact solutions are completed by that numeric search
    (the list then says ``method="mixed"`` if it added any).  Numeric classification uses
    a zero tolerance from the error estimates; where ``f''`` vanishes in one variable,
    ``f`` itself on either side decides.

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
    n_starts : int, optional
        Number of starts of the numeric search.
    seed : int
        Seed for the random starts (the search is deterministic for a given seed).
    max_order : int
        Highest derivative tried in the one-variable test.

    Returns
    -------
    CriticalPoints
        A list of :class:`CriticalPoint`, sorted by coordinates, with
        ``global_minimum``, ``global_maximum``, ``unbounded_below``, ``unbounded_above``.

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
    expr = _to_expr(f)
    if expr is None:
        n_hint = None
        if bounds is not None and not isinstance(bounds, Mapping):
            arr = np.array(bounds, dtype=float)
            n_hint = arr.shape[0] if arr.ndim == 2 else None
        at = dict.fromkeys(bounds) if isinstance(bounds, Mapping) else None
        fn = _callable_fn(f, variables, at, n_hint)
        if method == "symbolic":
            raise ValueError("a callable has no symbolic form: use method='numeric' or 'auto'")
    else:
        fn = _symbolic_fn(expr, variables)
    names = fn.names
    box = _box(bounds, names)
    if fn.n == 0:
        return CriticalPoints([], variables=names, note="f is constant: every point is critical")

    if fn.expr is not None and method != "numeric":
        try:
            solutions, note = _exact_solutions(fn.expr, fn.symbols, box, clip=bounds is not None)
        except _AllCritical:
            return CriticalPoints(
                [], variables=names, note="f' is identically zero: every point is critical", fn=fn
            )
        except _NoClosedForm:
            if method == "symbolic":
                raise ValueError("sympy found no closed form; try method='numeric'") from None
        else:
            exact = []
            for coords, extra in solutions:
                kind, test = _classify_exact(fn.expr, fn.symbols, coords, max_order)
                value = sp.simplify(_subs(fn.expr, fn.symbols, coords))
                point = {name: sp.simplify(c) for name, c in zip(names, coords, strict=True)}
                exact.append(CriticalPoint(point, value, kind, "symbolic", test, extra))
            exact.sort(key=lambda p: tuple(_float(v) for v in p.point.values()))
            polynomial = all(sp.diff(fn.expr, s).is_polynomial(*fn.symbols) for s in fn.symbols)
            if fn.n == 1 or polynomial or method == "symbolic":
                return CriticalPoints(exact, variables=names, method="symbolic", note=note, fn=fn)
            # sympy's solve can miss solutions of non-polynomial systems: search too.
            found = _numeric_records(fn, box, n_starts, seed)
            merge = 1e-4 * max(1.0, float(np.max(box[:, 1] - box[:, 0])))
            known = [p.coordinates() for p in exact]
            added = [
                p for p in found if all(np.max(np.abs(p.coordinates() - k)) > merge for k in known)
            ]
            records = sorted(exact + added, key=lambda p: tuple(p.coordinates()))
            note = (
                f"sympy's solve may miss solutions of non-polynomial equations; a numeric "
                f"search in {_where_box(box)} found {len(added)} more"
            )
            method_used = "mixed" if added else "symbolic"
            return CriticalPoints(records, variables=names, method=method_used, note=note, fn=fn)

    records = _numeric_records(fn, box, n_starts, seed)
    why = "no closed form found; " if fn.expr is not None and method == "auto" else ""
    note = f"{why}numeric search (scipy.optimize from several starts) in {_where_box(box)}"
    return CriticalPoints(records, variables=names, method="numeric", note=note, fn=fn)


def _where_box(box: np.ndarray) -> str:
    return " x ".join(f"[{lo:g}, {hi:g}]" for lo, hi in box)


def _numeric_records(
    fn: _Fn, box: np.ndarray, n_starts: int | None, seed: int
) -> list[CriticalPoint]:
    records = []
    for c in _numeric_solutions(fn, box, n_starts, seed):
        kind, test = _classify_numeric(fn, c)
        point = {name: float(v) for name, v in zip(fn.names, c, strict=True)}
        records.append(CriticalPoint(point, fn.value(c), kind, "numeric", test))
    records.sort(key=lambda p: tuple(p.point.values()))
    return records


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


def _ray_limits(fn: _Fn) -> list[tuple[tuple[int, ...], float, float]]:
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
                v = _float(p.LC() if not p.is_zero else 0)
                return v, v
            s = _sign(p.LC())
            return (math.inf, math.inf) if s > 0 else (-math.inf, -math.inf)
        lim = sp.limit(g, t, sp.oo)
    except Exception:  # sympy may fail in many ways on hard limits
        return None
    if isinstance(lim, sp.AccumBounds):
        return _float(lim.min), _float(lim.max)
    if lim in (sp.oo, -sp.oo):
        v = math.inf if lim == sp.oo else -math.inf
        return v, v
    if lim.is_number and lim.is_finite:
        try:
            v = _float(lim)
        except ValueError:
            return None
        return v, v
    return None


def _probe(fn: _Fn, d: np.ndarray) -> tuple[float, float] | None:
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


# --------------------------------------------------------------------------------------
# Gradient descent
# --------------------------------------------------------------------------------------


def gradient_descent(
    f: FunctionLike,
    start: PointLike,
    *,
    learning_rate: float = 0.1,
    momentum: float = 0.0,
    tol: float = 1e-8,
    max_steps: int = 10_000,
    variables: Sequence[str] | None = None,
    divergence: float = 1e12,
) -> DescentResult:
    r"""Minimise ``f`` by gradient descent (optionally with momentum).

    The reference derivation's algorithm, with its sign corrected:

    1. pick a start :math:`x_0`;
    2. compute the gradient :math:`v_i = \nabla f(x_i)`;
    3. step **against** it: :math:`\Delta_i = -\alpha v_i + \mu \Delta_{i-1}`,
       :math:`x_{i+1} = x_i + \Delta_i` (``momentum`` :math:`\mu = 0` is plain descent,
       :math:`x_{i+1} = x_i - \alpha \nabla f(x_i)`);
    4. repeat until :math:`\|\nabla f(x_i)\| <` ``tol`` (not until :math:`f(x_i) < \epsilon`
       as the derivation says, which need never happen), or ``max_steps`` steps, or
       divergence: a non-finite value, or :math:`\|x\|` or :math:`|f|` beyond
       ``divergence`` times their starting size.

    Strings and sympy use the exact gradient (lambdified with numpy); callables use
    :func:`numeric_gradient`.

    Returns
    -------
    DescentResult
        ``point``, ``value``, ``path`` (shape ``(steps + 1, n)``), ``steps``, ``reason``.

    Examples
    --------
    >>> r = gradient_descent("(x-3)**2 + (y+1)**2", start={"x": 0, "y": 0})
    >>> r.reason, r.steps, r.path.shape
    ('gradient norm below tol', 91, (92, 2))
    >>> gradient_descent("x**2", start=1.0, learning_rate=1.5).reason
    'diverged'
    """
    if not learning_rate > 0:
        raise ValueError("learning_rate must be positive")
    if not 0 <= momentum < 1:
        raise ValueError("momentum must be in [0, 1)")
    if not tol > 0:
        raise ValueError("tol must be positive")
    if max_steps < 0:
        raise ValueError("max_steps must be >= 0")
    fn = _fn(f, variables, start)
    x = np.array([_float(v) for v in _coords(start, fn.names)], dtype=float)
    limit_x = divergence * (1.0 + float(np.linalg.norm(x)))
    velocity = np.zeros_like(x)
    path = [x.copy()]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fx = fn.value(x)
        limit_f = divergence * (1.0 + abs(fx)) if math.isfinite(fx) else math.inf
        values = [fx]
        reason = DIVERGED if not math.isfinite(fx) else ""
        gnorm = math.nan
        while not reason:
            g = fn.grad(x)
            gnorm = float(np.linalg.norm(g))
            if not math.isfinite(gnorm):
                reason = DIVERGED
            elif gnorm < tol:
                reason = CONVERGED
            elif len(path) - 1 >= max_steps:
                reason = MAX_STEPS
            else:
                velocity = momentum * velocity - learning_rate * g
                x = x + velocity
                fx = fn.value(x)
                path.append(x.copy())
                values.append(fx)
                if (
                    not (np.all(np.isfinite(x)) and math.isfinite(fx))
                    or np.linalg.norm(x) > limit_x
                    or abs(fx) > limit_f
                ):
                    reason = DIVERGED
    return DescentResult(
        point={name: float(v) for name, v in zip(fn.names, x, strict=True)},
        value=float(values[-1]),
        path=np.array(path),
        steps=len(path) - 1,
        reason=reason,
        values=np.array(values),
        gradient_norm=gnorm,
        variables=fn.names,
    )


# --------------------------------------------------------------------------------------
# Plots (matplotlib is an optional extra: chainrule[plot])
# --------------------------------------------------------------------------------------

_MARKERS = {"minimum": "v", "maximum": "^", "saddle": "X", "inflection": "D", "inconclusive": "o"}
_COLORS = {
    "minimum": "tab:green",
    "maximum": "tab:red",
    "saddle": "tab:purple",
    "inflection": "tab:orange",
    "inconclusive": "tab:gray",
}


def _figure(**kwargs: Any) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("plotting needs matplotlib: pip install 'chainrule[plot]'") from exc
    return Figure(**kwargs)


def _on_grid(func: Callable[[np.ndarray], Any], grid: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = np.array([func(np.array([t])) for t in grid], dtype=float)
    return out


def plot_derivatives(
    f: FunctionLike,
    *,
    domain: tuple[float, float] = (-3.0, 3.0),
    variable: str | None = None,
    num: int = 400,
    critical: bool = True,
) -> Any:
    """Connect ``f``, ``f'`` and ``f''`` graphically: three stacked plots sharing the x axis.

    Where ``f'`` crosses zero ``f`` is flat (a critical point); where ``f''`` is positive
    ``f`` curves up (a minimum there), negative, down.  With ``critical=True`` the
    classified critical points inside ``domain`` are marked on ``f`` (markers by kind)
    and on ``f'`` (at zero).

    Returns
    -------
    matplotlib.figure.Figure
        Axes ``f``, ``f'``, ``f''``; each holds one curve labelled ``"f"``, ``"f'"``,
        ``"f''"`` (``f'`` and ``f''`` also a zero line).
    """
    lo, hi = float(domain[0]), float(domain[1])
    grid = np.linspace(lo, hi, num)
    variables = None if variable is None else [variable]
    fn = _fn(f, variables, None, 1)
    if fn.n != 1:
        raise ValueError(f"plot_derivatives takes a function of one variable, not {fn.names}")
    curves = [_on_grid(fn.value, grid)]
    if fn.expr is not None:
        x = fn.symbols[0]
        for k in (1, 2):
            lam = sp.lambdify([x], sp.diff(fn.expr, x, k), modules="numpy", dummify=True)
            curves.append(_on_grid(lambda v, lam=lam: float(lam(v[0])), grid))
    else:
        for k in (1, 2):
            curves.append(_on_grid(lambda v, k=k: fn.derivative_1d(float(v[0]), k), grid))

    fig = _figure(figsize=(6, 7), layout="constrained")
    axes = fig.subplots(3, 1, sharex=True)
    name = fn.names[0]
    labels = ["f", "f'", "f''"]
    titles = [
        f"f({name})" + (f" = {fn.expr}" if fn.expr is not None else ""),
        f"f'({name}): the slope of f, zero at critical points",
        f"f''({name}): the curvature of f, > 0 at a minimum, < 0 at a maximum",
    ]
    for ax, y, label, title in zip(axes, curves, labels, titles, strict=True):
        ax.plot(grid, y, label=label)
        ax.set_title(title, fontsize=9)
        ax.set_ylabel(label)
        if label != "f":
            ax.axhline(0.0, color="0.6", lw=0.8, label="zero")
    axes[-1].set_xlabel(name)
    if critical:
        cps = critical_points(
            f if fn.expr is None else fn.expr, variables=fn.names, bounds=(lo, hi)
        )
        for kind in KINDS:
            xs = [float(p.coordinates()[0]) for p in cps if p.kind == kind]
            if xs:
                ys = [_float(p.value) for p in cps if p.kind == kind]
                axes[0].scatter(
                    xs, ys, marker=_MARKERS[kind], color=_COLORS[kind], zorder=3, label=kind
                )
                axes[1].scatter(
                    xs, np.zeros(len(xs)), marker=_MARKERS[kind], color=_COLORS[kind], zorder=3
                )
        if cps:
            axes[0].legend(fontsize=8)
    return fig


def plot_contour(
    f: FunctionLike,
    *,
    descent: DescentResult | None = None,
    critical: bool | Sequence[CriticalPoint] = True,
    bounds: Any = None,
    variables: Sequence[str] | None = None,
    levels: int = 30,
    num: int = 200,
) -> Any:
    """Contour plot of a function of two variables, with a descent path and critical points.

    Parameters
    ----------
    descent : DescentResult, optional
        Drawn as a line with dots from start to finish (start and end marked).
    critical : bool or sequence of CriticalPoint
        ``True`` finds them with :func:`critical_points`; markers by kind.
    bounds : ((xlo, xhi), (ylo, yhi)), optional
        Default: a box around the path and the critical points (or (-3, 3)^2).

    Returns
    -------
    matplotlib.figure.Figure
        One axes: the contour set, the path (a line labelled ``"gradient descent"``), and
        one scatter per kind of critical point (labelled by kind).
    """
    fn = _fn(f, variables, None, 2)
    if fn.n != 2:
        raise ValueError(f"plot_contour takes a function of two variables, not {fn.names}")
    if critical is True:
        cps = list(
            critical_points(f if fn.expr is None else fn.expr, variables=fn.names, bounds=bounds)
        )
    elif critical is False:
        cps = []
    else:
        cps = list(critical)
    if bounds is None:
        pts = [p.coordinates() for p in cps if np.all(np.isfinite(p.coordinates()))]
        if descent is not None:
            pts.extend(descent.path)
        if pts:
            arr = np.array(pts)
            lo, hi = arr.min(axis=0), arr.max(axis=0)
            pad = np.maximum(0.2 * (hi - lo), 1.0)
            box = np.column_stack([lo - pad, hi + pad])
        else:
            box = np.array([[-3.0, 3.0], [-3.0, 3.0]])
    else:
        box = _box(bounds, fn.names)
    xs = np.linspace(box[0, 0], box[0, 1], num)
    ys = np.linspace(box[1, 0], box[1, 1], num)
    X, Y = np.meshgrid(xs, ys)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if fn.expr is not None:
            lam = sp.lambdify(fn.symbols, fn.expr, modules="numpy", dummify=True)
            Z = np.broadcast_to(np.asarray(lam(X, Y), dtype=float), X.shape)
        else:
            Z = np.array([[fn.value(np.array([a, b])) for a in xs] for b in ys])
    fig = _figure(figsize=(6, 5), layout="constrained")
    ax = fig.subplots()
    contours = ax.contour(X, Y, Z, levels=levels, cmap="viridis")
    ax.clabel(contours, fontsize=7)
    if descent is not None:
        p = descent.path
        ax.plot(p[:, 0], p[:, 1], ".-", color="tab:blue", lw=1, ms=3, label="gradient descent")
        ax.plot(p[0, 0], p[0, 1], "s", color="tab:blue", label="start")
        ax.plot(p[-1, 0], p[-1, 1], "*", color="tab:blue", ms=10, label=f"end ({descent.reason})")
    for kind in KINDS:
        pts = [p.coordinates() for p in cps if p.kind == kind]
        if pts:
            arr = np.array(pts)
            ax.scatter(
                arr[:, 0],
                arr[:, 1],
                marker=_MARKERS[kind],
                color=_COLORS[kind],
                s=60,
                zorder=3,
                label=kind,
            )
    ax.set_xlim(box[0])
    ax.set_ylim(box[1])
    ax.set_xlabel(fn.names[0])
    ax.set_ylabel(fn.names[1])
    title = f"f = {fn.expr}" if fn.expr is not None else "f"
    ax.set_title(title, fontsize=9)
    if descent is not None or cps:
        ax.legend(fontsize=8, loc="best")
    return fig
