"""Points: reading the coordinates a user gives, and evaluating expressions there safely.

An exact sympy evaluation of ``exp(exp(exp(exp(5))))`` would work on a number with
about ``10**63`` digits and never finish.  :func:`value_at` therefore first runs a cheap
pass in Python complex arithmetic that notices any intermediate value beyond the float
range; only when everything fits does sympy evaluate exactly (30 digits).  Otherwise the
answer is the IEEE float one (``inf``, or ``0.0`` for ``exp(-huge)``), or a clear
``ValueError`` when that is undefined.

>>> x = sp.Symbol("x")
>>> value_at(sp.exp(sp.exp(sp.exp(sp.exp(x)))), [x], [5])
inf
>>> value_at(sp.exp(-sp.exp(sp.exp(sp.exp(x)))), [x], [5])
0.0
>>> value_at(x**4 / 3, [x], [2])
5.333333333333333
"""

from __future__ import annotations

import cmath
import math
import numbers
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import sympy as sp

__all__ = [
    "PointLike",
    "check_number",
    "coords",
    "lambdified",
    "point_array",
    "point_hint",
    "subs",
    "to_float",
    "value_at",
]

PointLike = Mapping[Any, Any] | Sequence[Any] | np.ndarray | float

# sympy function -> its complex counterpart, for the overflow-spotting pass
_COMPLEX: dict[type, Callable[..., complex]] = {
    sp.exp: cmath.exp,
    sp.log: cmath.log,
    sp.sin: cmath.sin,
    sp.cos: cmath.cos,
    sp.tan: cmath.tan,
    sp.sinh: cmath.sinh,
    sp.cosh: cmath.cosh,
    sp.tanh: cmath.tanh,
    sp.asin: cmath.asin,
    sp.acos: cmath.acos,
    sp.atan: cmath.atan,
    sp.Abs: abs,
}


def check_number(v: Any) -> Any:
    """``v`` if it is one real number (Python, numpy or a constant sympy one), else TypeError
    (ValueError for NaN)."""
    if isinstance(v, bool) or isinstance(v, (str, bytes)):
        raise TypeError(f"coordinates must be numbers, got {v!r}")
    if isinstance(v, sp.Basic):
        if not isinstance(v, sp.Expr) or v.free_symbols:
            raise TypeError(f"coordinates must be numbers, got {v!r}")
        return v
    if isinstance(v, (numbers.Real, np.floating, np.integer)):
        if v != v:
            raise ValueError("a coordinate is NaN; give real numbers")
        return v
    if isinstance(v, np.ndarray) and v.ndim == 0:
        return v.item()
    raise TypeError(f"coordinates must be real numbers, got {type(v).__name__}")


def coords(at: PointLike, names: Sequence[str]) -> list[Any]:
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
        return [check_number(given[n]) for n in names]
    if isinstance(at, (str, bytes)):
        raise TypeError("a point is a mapping, a sequence or a number, not a string")
    if isinstance(at, (Sequence, np.ndarray)) and np.ndim(at) > 0:
        if isinstance(at, np.ndarray):
            values = list(at.reshape(-1))  # numpy scalars: keep the dtype
        else:
            values = list(np.asarray(at, dtype=object).ravel())
        if len(values) != len(names):
            raise ValueError(f"expected {len(names)} coordinate(s) for {names}, got {len(values)}")
        return [check_number(v) for v in values]
    if len(names) != 1:
        raise ValueError(f"f has variables {names}; give the point as a mapping or a sequence")
    return [check_number(at)]


def point_array(values: Sequence[Any]) -> np.ndarray:
    """Coordinates as a float array, keeping a numpy float dtype given (float32 steps)."""
    dtypes = [np.asarray(v).dtype for v in values if not isinstance(v, sp.Basic)]
    if dtypes and len(dtypes) == len(values):
        if all(np.issubdtype(d, np.floating) for d in dtypes):
            return np.array(values, dtype=np.result_type(*dtypes))
    return np.array([to_float(v) for v in values], dtype=float)


def point_hint(at: PointLike | None) -> tuple[int | None, tuple[str, ...] | None]:
    """How many variables a point implies, and their names if it is a mapping."""
    if at is None:
        return None, None
    if isinstance(at, Mapping):
        names = tuple(k.name if isinstance(k, sp.Symbol) else str(k) for k in at)
        return len(names), names
    if isinstance(at, (Sequence, np.ndarray)) and not isinstance(at, (str, bytes)):
        return int(np.size(at)), None
    return 1, None


def subs(expr: sp.Expr, symbols: Sequence[sp.Symbol], values: Sequence[Any]) -> sp.Expr:
    """``expr`` with exact numbers put in: integers stay exact, floats become ``Float``."""
    mapping = {}
    for s, v in zip(symbols, values, strict=True):
        if isinstance(v, sp.Basic):
            mapping[s] = v
        elif isinstance(v, (numbers.Integral, np.integer)):
            mapping[s] = sp.Integer(int(v))
        else:
            mapping[s] = sp.Float(float(v))
    return expr.xreplace(mapping)


def _dirac_delta(t: Any, *k: Any) -> Any:
    """``DiracDelta`` (the derivative of ``sign``, at a kink of ``abs``) in floating point:
    0 away from the kink, NaN (undefined) on it."""
    return np.where(np.asarray(t) == 0, np.nan, 0.0)


#: What ``lambdify`` uses for functions numpy lacks.
_NUMERIC = [{"DiracDelta": _dirac_delta}, "numpy"]


def lambdified(syms: Sequence[sp.Symbol], expr: Any) -> Callable[..., Any]:
    """``expr`` as a numpy function of ``syms`` (``DiracDelta`` included)."""
    return sp.lambdify(list(syms), expr, modules=_NUMERIC, dummify=True)


def _rough(expr: sp.Basic, env: dict[sp.Basic, complex]) -> complex:
    """``expr`` in complex floating point; OverflowError if any value leaves the float range.

    Other errors (an unknown function, a pole) mean "no verdict": the exact pass decides.
    """
    if expr in env:
        return env[expr]
    if expr.is_Number or expr.is_NumberSymbol:
        value = complex(expr)  # OverflowError for an integer beyond the float range
    else:
        args = [_rough(a, env) for a in expr.args]
        if isinstance(expr, sp.Add):
            value = sum(args, 0j)
        elif isinstance(expr, sp.Mul):
            value = math.prod(args, start=1 + 0j)
        elif isinstance(expr, sp.Pow):
            value = args[0] ** args[1]
        elif type(expr) in _COMPLEX:
            value = complex(_COMPLEX[type(expr)](*args))
        else:
            raise NotImplementedError(type(expr).__name__)
    if not (math.isfinite(value.real) and math.isfinite(value.imag)):
        raise OverflowError("beyond the float range")
    return value


def _ieee(expr: sp.Expr, symbols: Sequence[sp.Symbol], values: Sequence[Any]) -> float:
    """``expr`` in float64 arithmetic (numpy), for when an intermediate value overflows."""
    floats = []  # numpy floats: x**1000 overflows to inf, as Python floats would not
    for v in values:
        try:
            floats.append(np.float64(float(v)))
        except OverflowError:
            floats.append(np.float64(math.inf if v > 0 else -math.inf))
    lam = lambdified(symbols, expr)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = np.asarray(lam(*floats))
    if result.size != 1 or np.iscomplexobj(result) or np.isnan(result):
        raise ValueError(
            f"{expr} cannot be evaluated at this point in floating point: an intermediate "
            "value overflows the float range (about 1.8e308)"
        )
    return float(result)


def value_at(expr: sp.Expr, symbols: Sequence[sp.Symbol], values: Sequence[Any]) -> float:
    """``expr`` at a point, as a real float: exact evaluation when every intermediate value
    fits a float, the IEEE float result (``inf``, ``0.0``) when one overflows.

    Raises ``ValueError`` when the value is not real, not finite (``log(x)`` at 0, ``1/x``
    at 0: outside the domain or a pole), or undefined in floating point.
    """
    try:
        env = {
            s: _rough(v, {}) if isinstance(v, sp.Basic) else complex(v)
            for s, v in zip(symbols, values, strict=True)
        }
        _rough(expr, env)
    except OverflowError:
        return _ieee(expr, symbols, values)
    except (ArithmeticError, ValueError, TypeError, NotImplementedError, RecursionError):
        pass  # a pole or an unknown function: no verdict, and no overflow seen
    exact = subs(expr, symbols, values)
    if exact.has(sp.zoo, sp.nan):
        where = ", ".join(f"{s}={v}" for s, v in zip(symbols, values, strict=True))
        raise ValueError(
            f"{expr} is not finite at {where or 'this point'} (sympy gives "
            f"{sp.simplify(exact)}): the point is outside its domain, or a pole"
        )
    c = complex(sp.N(exact, 30))
    if c.imag != 0 and abs(c.imag) > 1e-12 * max(1.0, abs(c.real)):
        raise ValueError(f"the value {exact} is not real")
    return c.real


def to_float(v: Any) -> float:
    """A real float from a number or a constant sympy expression (complex -> ValueError).

    >>> to_float(sp.sqrt(2)), to_float(3)
    (1.4142135623730951, 3.0)
    """
    if isinstance(v, sp.Basic):
        return value_at(v, (), ())
    c = complex(v)
    if c.imag != 0 and abs(c.imag) > 1e-12 * max(1.0, abs(c.real)):
        raise ValueError(f"the value {v} is not real")
    return c.real
