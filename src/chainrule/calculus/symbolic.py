r"""Derivatives, partials, the gradient, the Hessian and the Jacobian; values at a point.

Strings and sympy expressions get exact answers, in the user's own symbols; callables get
numbers from central differences with an error estimate (they need ``at=``).  Orders are
limited to ``MAX_ORDER`` and expressions, derivatives included, to ``MAX_NODES``
(:mod:`chainrule.calculus.limits`); values at a point never spin
(:func:`chainrule.calculus.points.value_at`).  Every function takes ``time_budget``, the
wall-clock seconds its symbolic work may use (default ``TIME_BUDGET``, read at call time):
that work runs in a child process (:mod:`chainrule.calculus.bounded`), killed when the
budget is spent, and the call raises :class:`~chainrule.calculus.limits.OverBudget` (a
``TimeoutError``) naming what it was computing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy as sp

from chainrule.calculus import bounded
from chainrule.calculus.functions import (
    Fn,
    FunctionLike,
    callable_function,
    find_symbol,
    ordered_symbols,
    plain_form,
    positional,
    real_form,
    to_expr,
)
from chainrule.calculus.limits import Deadline, check_order, check_size
from chainrule.calculus.numeric import numeric_derivative, numeric_hessian, numeric_jacobian
from chainrule.calculus.points import PointLike, coords, point_array, point_hint, value_at
from chainrule.calculus.records import Estimate, EstimateArray
from chainrule.differences import numeric_gradient

__all__ = ["derivative", "differentiate", "evaluate", "gradient", "hessian", "jacobian", "partial"]


def differentiate(expr: sp.Expr, sym: sp.Symbol, order: int) -> sp.Expr:
    """``d^order expr / d sym^order``, within ``MAX_ORDER`` and ``MAX_NODES``."""
    order = check_order(order)
    for k in range(1, order + 1):
        expr = sp.diff(expr, sym)
        if expr == 0:
            break
        check_size(expr, f"the derivative of order {k}")
    return expr


def _build(kind: str, expr: Any, syms: Sequence[sp.Symbol], steps: Sequence[tuple]) -> Any:
    """The exact ``kind`` of ``expr``: a derivative (``steps`` of ``(symbol, order)``), the
    gradient, Hessian or Jacobian in ``syms``, or ``expr`` itself (``"value"``)."""
    if kind == "derivative":
        for sym, order in steps:
            expr = differentiate(expr, sym, order)
        return expr
    if kind == "gradient":
        return [sp.diff(expr, s) for s in syms]
    if kind == "hessian":
        return sp.hessian(expr, syms) if syms else sp.Matrix(0, 0, [])
    if kind == "jacobian":
        return expr.jacobian(syms)
    return expr


def _exact_job(
    kind: str,
    expr: Any,
    syms: Sequence[sp.Symbol],
    steps: Sequence[tuple],
    back: dict,
    values: Sequence[Any] | None,
) -> Any:
    """``_build``'s result in the user's symbols, or its float value(s) at ``values``
    (runs in the child process of :mod:`chainrule.calculus.bounded`)."""
    result = _build(kind, expr, syms, steps)
    if values is None:
        return plain_form(result, back)
    if isinstance(result, list):
        return np.array([value_at(r, syms, values) for r in result])
    if isinstance(result, sp.MatrixBase):
        return np.array([[value_at(e, syms, values) for e in row] for row in result.tolist()])
    return value_at(result, syms, values)


_x = sp.Symbol("x", real=True)
bounded.warm_with(_exact_job, "derivative", sp.sin(_x) * sp.log(_x), [_x], [(_x, 2)], {}, [2])


def _exact(
    kind: str,
    expr: Any,
    syms: Sequence[sp.Symbol],
    at: PointLike | None,
    deadline: Deadline,
    *,
    steps: Sequence[tuple] = (),
    back: dict | None = None,
) -> Any:
    """:func:`_exact_job` within ``deadline`` (the point is read here, so that a bad one is
    named at once)."""
    values = None if at is None else coords(at, [s.name for s in syms])
    what = "evaluating f" if kind == "value" else f"computing the {kind}"
    return bounded.run(deadline, what, _exact_job, kind, expr, syms, steps, back or {}, values)


def _numeric_point(f: Callable[..., Any], variables: Any, at: Any) -> tuple[Fn, np.ndarray]:
    """The wrapped callable and the point, for a numeric answer (a callable needs ``at``)."""
    if at is None:
        raise ValueError("a callable gets numeric answers: say where, with at=")
    fn = callable_function(f, variables, at)
    return fn, point_array(coords(at, fn.names))


def derivative(
    f: FunctionLike,
    var: str | sp.Symbol | None = None,
    *,
    order: int = 1,
    at: PointLike | None = None,
    step: float | None = None,
    time_budget: float | None = None,
) -> Any:
    r"""The derivative :math:`d^k f / dx^k`, e.g. the power rule :math:`(x^n)' = n x^{n-1}`
    and the product rule :math:`(fg)' = f'g + fg'`.

    ``var`` is needed only when ``f`` has several variables (then this is a partial);
    ``order`` is at most ``MAX_ORDER`` (50); ``at`` evaluates there (required for callables,
    which get numeric answers with ``step`` as the finite-difference step).  Symbolic work
    stops after ``time_budget`` wall-clock seconds (default ``TIME_BUDGET``) with an
    :class:`~chainrule.calculus.limits.OverBudget` (a ``TimeoutError``).

    Returns a sympy expression (symbolic, no ``at``), a float (symbolic, ``at``; ``inf``
    where the value overflows the float range; a ``ValueError`` says why where it is not
    finite) or an :class:`Estimate` (callables).

    >>> derivative("x**5"), derivative("x**5", order=2)
    (5*x**4, 20*x**3)
    >>> derivative("x**5", at=2)
    80.0
    """
    deadline = Deadline(time_budget)  # the wall-clock budget starts now
    expr = to_expr(f)
    if expr is None:
        if var is not None:
            return partial(f, var, order=order, at=at, step=step)
        if at is None:
            raise ValueError("a callable gets numeric answers: say where, with at=")
        fn = callable_function(f, None, at)
        if fn.n != 1:
            raise ValueError(f"f has variables {list(fn.names)}: use partial() or gradient()")
        (x0,) = coords(at, fn.names)
        return numeric_derivative(lambda t: fn.value(np.array([t])), x0, order=order, step=step)
    expr, back = real_form(expr)
    if var is None:
        syms = ordered_symbols(expr)
        if len(syms) > 1:
            names = [s.name for s in syms]
            raise ValueError(f"f has variables {names}: say which with var=, or use gradient()")
        sym = syms[0] if syms else sp.Symbol("x", real=True)
    else:
        sym = find_symbol(expr, var)
    syms = sorted(set(ordered_symbols(expr)) | {sym}, key=lambda s: s.name)
    steps = [(sym, order)]
    return _exact("derivative", expr, syms, at, deadline, steps=steps, back=back)


def partial(
    f: FunctionLike,
    var: str | sp.Symbol | Sequence[str | sp.Symbol],
    *,
    order: int = 1,
    at: PointLike | None = None,
    variables: Sequence[str] | None = None,
    step: float | None = None,
    time_budget: float | None = None,
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
    check_order(order * len(seq))
    deadline = Deadline(time_budget)  # the wall-clock budget starts now
    expr = to_expr(f)
    if expr is None:
        return _numeric_partial(f, seq, order, at, variables, step)
    expr, back = real_form(expr)
    steps = [(find_symbol(expr, v), order) for v in seq]
    syms = set(ordered_symbols(expr, variables)) | {sym for sym, _ in steps}
    if variables is None:
        syms_sorted = sorted(syms, key=lambda s: s.name)
    else:
        syms_sorted = list(ordered_symbols(expr, variables))
    return _exact("derivative", expr, syms_sorted, at, deadline, steps=steps, back=back)


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

    def slice_(t: Any) -> float:
        v = x.copy()
        v[i] = t
        return fn.value(v)

    return numeric_derivative(slice_, x[i], order=order * len(idx), step=step)


def gradient(
    f: FunctionLike,
    *,
    at: PointLike | None = None,
    variables: Sequence[str] | None = None,
    step: float | None = None,
    time_budget: float | None = None,
) -> Any:
    r"""The gradient, the vector of partial derivatives
    :math:`\nabla f = [\partial f/\partial x_1, \dots, \partial f/\partial x_n]^T`.

    It points where ``f`` increases fastest.  Returns a list of sympy expressions
    (symbolic), a float array (symbolic with ``at``) or an :class:`EstimateArray`
    (callables, which need ``at``).

    >>> gradient("2*x**2 + 4*y")
    [4*x, 4]
    >>> gradient("2*x**2 + 4*y", at={"x": 1, "y": 2})
    array([4., 4.])
    >>> g = gradient(lambda x, y: 2*x**2 + 4*y, at={"x": 1.0, "y": 2.0})
    >>> g.round(6), bool(np.all(g.error < 1e-6))
    (array([4., 4.]), True)
    """
    deadline = Deadline(time_budget)  # the wall-clock budget starts now
    expr = to_expr(f)
    if expr is None:
        fn, x = _numeric_point(f, variables, at)
        g, err = numeric_gradient(fn.value, x, step=step, error=True)
        return EstimateArray(g, err)
    expr, back = real_form(expr)
    syms = ordered_symbols(expr, variables)
    return _exact("gradient", expr, syms, at, deadline, back=back)


def hessian(
    f: FunctionLike,
    *,
    at: PointLike | None = None,
    variables: Sequence[str] | None = None,
    step: float | None = None,
    time_budget: float | None = None,
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
    deadline = Deadline(time_budget)  # the wall-clock budget starts now
    expr = to_expr(f)
    if expr is None:
        fn, x = _numeric_point(f, variables, at)
        H, err = numeric_hessian(fn.value, x, step=step, error=True)
        return EstimateArray(H, err)
    expr, back = real_form(expr)
    syms = ordered_symbols(expr, variables)
    return _exact("hessian", expr, syms, at, deadline, back=back)


def _numeric_jacobian(
    fs: Callable[..., Any], at: PointLike | None, variables: Any, step: float | None
) -> EstimateArray:
    if at is None:
        raise ValueError("a callable gets numeric answers: say where, with at=")
    params, variadic = positional(fs)
    n_at, at_names = point_hint(at)
    names = tuple(variables) if variables is not None else at_names
    if names is None:
        names = tuple(params) if n_at == len(params) else tuple(f"x{i}" for i in range(n_at))
    x = np.array(coords(at, names), dtype=float)
    F = (lambda v: fs(*v)) if len(params) == len(names) or variadic else fs
    J, err = numeric_jacobian(F, x, step=step, error=True)
    return EstimateArray(J, err)


def jacobian(
    fs: Sequence[FunctionLike] | sp.Matrix | Callable[..., Any],
    *,
    at: PointLike | None = None,
    variables: Sequence[str] | None = None,
    step: float | None = None,
    time_budget: float | None = None,
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
    deadline = Deadline(time_budget)  # the wall-clock budget starts now
    if callable(fs) and not isinstance(fs, (sp.Basic, str)):
        return _numeric_jacobian(fs, at, variables, step)
    if isinstance(fs, sp.MatrixBase):
        exprs = list(fs)
    elif isinstance(fs, (str, sp.Basic)):
        exprs = [to_expr(fs)]
    else:
        exprs = [to_expr(e) for e in fs]
    if any(e is None for e in exprs):
        raise TypeError("jacobian takes expressions, or a single callable returning a vector")
    vector, back = real_form(sp.Matrix(exprs))
    if variables is None:
        syms = tuple(sorted(vector.free_symbols, key=lambda s: s.name))
    else:
        syms = tuple(find_symbol(vector, v) for v in variables)
    return _exact("jacobian", vector, syms, at, deadline, back=back)


def evaluate(
    f: FunctionLike,
    at: PointLike,
    *,
    variables: Sequence[str] | None = None,
    time_budget: float | None = None,
) -> float:
    """``f`` at a point, as a float (``inf`` where it overflows the float range; a
    ``ValueError`` where it is not a finite real number there).

    >>> evaluate("x**4*y", {"x": 2, "y": 3})
    48.0
    >>> evaluate(lambda x, y: x**4 * y, (2, 3))
    48.0
    >>> evaluate("exp(exp(exp(exp(x))))", {"x": 5})
    inf
    """
    deadline = Deadline(time_budget)  # the wall-clock budget starts now
    expr = to_expr(f)
    if expr is None:
        fn = callable_function(f, variables, at)
        return fn.value(np.array(coords(at, fn.names), dtype=float))
    expr, _ = real_form(expr)
    return _exact("value", expr, ordered_symbols(expr, variables), at, deadline)
