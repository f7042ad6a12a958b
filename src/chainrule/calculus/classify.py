r"""Classifying a critical point, as in the reference derivation.

* one variable: :math:`f''(c) > 0` minimum, :math:`< 0` maximum; when :math:`f''(c) = 0`
  the first non-zero higher derivative :math:`f^{(k)}(c)` decides (``k`` even:
  minimum/maximum by its sign; ``k`` odd: ``"inflection"``);
* two variables: with :math:`r = f_{xx}`, :math:`s = f_{xy}`, :math:`t = f_{yy}`:
  :math:`rt - s^2 > 0` and :math:`r > 0` minimum, :math:`r < 0` maximum;
  :math:`rt - s^2 < 0` saddle; :math:`rt - s^2 = 0` the test fails (``"inconclusive"``);
* three or more: the Hessian's eigenvalues (all > 0 minimum, all < 0 maximum, mixed signs
  saddle, otherwise ``"inconclusive"``).

Exact points (sympy numbers) are classified exactly; numeric ones with a zero tolerance
from the error estimates, and where ``f''`` vanishes in one variable, ``f`` itself on
either side decides.  Each classifier returns ``(kind, test)``: the kind and the test
that decided, with its numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy as sp

from chainrule.calculus.functions import Fn
from chainrule.calculus.points import to_float
from chainrule.calculus.records import show

__all__ = ["classify_exact", "classify_numeric", "compare", "sign"]

_UNDEFINED = (
    "the derivatives the test needs are undefined at this point: f is not differentiable "
    "there (a kink, as abs(x) has at x = 0), so neither test applies"
)


def sign(v: Any) -> int:
    """Sign of an exact sympy number (0 only when it is zero).

    >>> sign(sp.sqrt(2) - 1), sign(sp.Integer(0)), sign(-3)
    (1, 0, -1)
    """
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


def compare(s: int) -> str:
    """``"> 0"``, ``"< 0"`` or ``"= 0"`` for a sign."""
    return "> 0" if s > 0 else ("< 0" if s < 0 else "= 0")


def _one_variable(expr: sp.Expr, x: sp.Symbol, c: sp.Expr, max_order: int) -> tuple[str, str]:
    d = expr
    for k in range(1, max_order + 1):
        d = sp.diff(d, x)
        if k == 1:
            continue
        v = sp.simplify(d.xreplace({x: c}))
        s = sign(v)
        if s == 0:
            continue
        if k == 2:
            return ("minimum" if s > 0 else "maximum"), f"f''({c}) = {v} {compare(s)}"
        zeros = "f''" if k == 3 else f"f'' = ... = f^({k - 1})"
        what = f"{zeros} = 0 at {c}, f^({k})({c}) = {v} {compare(s)}"
        if k % 2 == 1:
            return "inflection", f"{what}, order {k} odd"
        return ("minimum" if s > 0 else "maximum"), f"{what}, order {k} even"
    return "inconclusive", f"derivatives of order 2 to {max_order} vanish at {c}"


def _by_eigenvalues(H: np.ndarray, err: np.ndarray | float) -> tuple[str, str]:
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


def _by_rst(r: Any, s: Any, t: Any, signs: tuple[int, int]) -> tuple[str, str]:
    """The derivation's two-variable test, from the signs of ``rt - s^2`` and ``r``."""
    d_sign, r_sign = signs
    text = f"r = {show(r)}, s = {show(s)}, t = {show(t)}, rt - s^2 {compare(d_sign)}"
    if d_sign > 0:
        return ("minimum" if r_sign > 0 else "maximum"), f"{text}, r {compare(r_sign)}"
    if d_sign < 0:
        return "saddle", text
    return "inconclusive", text + ": the test fails"


def classify_exact(
    expr: sp.Expr,
    syms: Sequence[sp.Symbol],
    point: Sequence[sp.Expr],
    max_order: int,
) -> tuple[str, str]:
    """Classify an exact critical point exactly (in the child process of
    :mod:`chainrule.calculus.bounded`, which the time budget stops)."""
    try:
        if len(syms) == 1:
            return _one_variable(expr, syms[0], point[0], max_order)
        H = sp.hessian(expr, syms).xreplace(dict(zip(syms, point, strict=True)))
        if len(syms) == 2:
            r, s, t = (sp.simplify(H[0, 0]), sp.simplify(H[0, 1]), sp.simplify(H[1, 1]))
            D = sp.simplify(r * t - s**2)
            return _by_rst(r, s, t, (sign(D), sign(r)))
        Hf = np.array([[to_float(v) for v in row] for row in H.tolist()])
        return _by_eigenvalues(Hf, 0.0)
    except (TypeError, ValueError, ArithmeticError):
        # e.g. abs(x) at 0: f' = sign(x) is 0 there, but f'' is not a number
        return "inconclusive", _UNDEFINED


def _numeric_one_variable(fn: Fn, c: np.ndarray) -> tuple[str, str]:
    d2 = fn.derivative_1d(float(c[0]), 2)
    if not math.isfinite(d2):
        return "inconclusive", _UNDEFINED
    tol = 10 * d2.error + 1e-10
    if abs(d2) > tol:
        s = 1 if d2 > 0 else -1
        return ("minimum" if s > 0 else "maximum"), f"f''({c[0]:.6g}) = {d2:.6g} {compare(s)}"
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


def classify_numeric(fn: Fn, c: np.ndarray) -> tuple[str, str]:
    """Classify a numeric critical point, with zero tolerances from the error estimates."""
    if fn.n == 1:
        return _numeric_one_variable(fn, c)
    H, err = fn.hess_with_error(c)
    if not np.all(np.isfinite(H)):
        return "inconclusive", _UNDEFINED
    if fn.n == 2:
        r, s, t = H[0, 0], H[0, 1], H[1, 1]
        D = r * t - s * s
        tol_h = 10 * float(np.max(err)) + 1e-12 * max(1.0, float(np.max(np.abs(H))))
        tol_d = tol_h * (abs(r) + abs(t) + 2 * abs(s) + tol_h)
        d_sign = 0 if abs(D) <= tol_d else (1 if D > 0 else -1)
        r_sign = 0 if abs(r) <= tol_h else (1 if r > 0 else -1)
        return _by_rst(float(r), float(s), float(t), (d_sign, r_sign))
    return _by_eigenvalues(H, err)
