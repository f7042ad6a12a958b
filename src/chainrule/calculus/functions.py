"""A function, however given (string, sympy expression, callable), seen as ``f(vector) -> float``.

Symbols: strings parse to plain ``sympy.Symbol`` objects, and users bring their own.  The
toolkit works with real symbols inside (:func:`real_form`: ``abs(x)`` differentiates to
``sign(x)``, ``solveset`` works over the reals) and hands every result back in the
user's own symbols (:func:`plain_form`), so results mix with the user's sympy.
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy as sp

from chainrule.calculus import bounded
from chainrule.calculus.limits import MAX_NODES, Deadline, check_size
from chainrule.calculus.numeric import numeric_derivative, numeric_hessian
from chainrule.calculus.parsing import ExpressionError, parse
from chainrule.calculus.points import lambdified, point_hint
from chainrule.calculus.records import Estimate
from chainrule.differences import as_scalar, numeric_gradient

__all__ = [
    "Fn",
    "FunctionLike",
    "as_function",
    "callable_function",
    "find_symbol",
    "ordered_symbols",
    "plain_form",
    "positional",
    "real_form",
    "symbolic_function",
    "to_expr",
]

FunctionLike = str | sp.Expr | Callable[..., Any] | float


def to_expr(f: Any) -> sp.Expr | None:
    """The sympy expression for ``f`` (within ``MAX_NODES``), or ``None`` for a callable."""
    if isinstance(f, str):
        return parse(f)
    if isinstance(f, sp.Basic):
        if not isinstance(f, sp.Expr):
            raise TypeError(f"expected a scalar sympy expression, got {type(f).__name__}")
        check_size(f)
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


def real_form(expr: Any) -> tuple[Any, dict[sp.Symbol, sp.Symbol]]:
    """``expr`` with every symbol not known to be real made real, and the map back."""
    mapping = {
        s: sp.Symbol(s.name, real=True)
        for s in expr.free_symbols
        if type(s) is sp.Symbol and s.is_real is not True
    }
    back = {real: s for s, real in mapping.items()}
    return (expr.xreplace(mapping) if mapping else expr), back


def plain_form(result: Any, back: dict[sp.Symbol, sp.Symbol]) -> Any:
    """A result in the user's own symbols again (see :func:`real_form`)."""
    if isinstance(result, list):
        return [plain_form(r, back) for r in result]
    return result.xreplace(back) if back and hasattr(result, "xreplace") else result


def find_symbol(expr: sp.Expr, v: Any) -> sp.Symbol:
    """The symbol of ``expr`` named ``v`` (or a new real one of that name)."""
    if isinstance(v, sp.Symbol):  # the user's symbol: its real form inside expr, if there
        return next((s for s in expr.free_symbols if getattr(s, "name", None) == v.name), v)
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
    return sp.Symbol(v, real=True)


def ordered_symbols(expr: sp.Expr, variables: Any = None) -> tuple[sp.Symbol, ...]:
    """``variables`` as symbols of ``expr``; by default all of them, alphabetically."""
    if variables is None:
        return tuple(sorted(expr.free_symbols, key=lambda s: s.name))
    if isinstance(variables, (str, sp.Symbol)):
        variables = [variables]
    syms = tuple(find_symbol(expr, v) for v in variables)
    if len(set(syms)) != len(syms):
        raise ValueError("variables must be distinct")
    return syms


def _derivative_job(item: tuple[str, sp.Expr, tuple[sp.Symbol, ...]]) -> Any:
    """The gradient (a list) or the Hessian (a list of rows) of ``expr``, or ``None`` when
    sympy cannot build it or it has more than ``MAX_NODES`` nodes in all (then central
    differences are cheaper)."""
    kind, expr, syms = item
    try:
        if kind == "gradient":
            result = [sp.diff(expr, s) for s in syms]
        else:
            result = sp.hessian(expr, syms).tolist()
    except (TypeError, ValueError, ArithmeticError, NotImplementedError):
        return None  # sympy cannot: central differences can
    size = sum(1 for e in sp.flatten(result) for _ in sp.preorder_traversal(e))
    return result if size <= MAX_NODES else None


#: the exact derivatives :meth:`Fn.prepare` builds
DERIVATIVES = ("gradient", "hessian")

_x, _y = sp.symbols("x y", real=True)
bounded.warm_with(_derivative_job, ("hessian", _x * sp.sin(_y), (_x, _y)))


class Fn:
    """A function of a vector: ``value(x)``, ``grad(x)``, ``hess(x)`` on float arrays.

    Symbolic functions get exact derivatives (lambdified with numpy) when sympy builds them
    within the time budget (:meth:`prepare`); callables, and the rest, central differences.
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
        self.exact_gradient: Callable[..., Any] | None = None
        self.exact_hessian: Callable[..., Any] | None = None
        self.note = ""
        #: the exact derivatives tried already (a callable has none to try)
        self._prepared = set(DERIVATIVES) if expr is None else set()

    @property
    def n(self) -> int:
        return len(self.names)

    def prepare(self, deadline: Deadline | None = None, kinds: Sequence[str] = DERIVATIVES) -> str:
        """Build the exact derivatives ``kinds`` (``"gradient"``, ``"hessian"``) not tried yet
        within ``deadline`` (each one that is not built in time stays central differences);
        returns a note, ``""`` when every one tried was built."""
        kinds = [kind for kind in kinds if kind not in self._prepared]
        if not kinds:
            return self.note
        self._prepared.update(kinds)
        items = [(kind, self.expr, self.symbols) for kind in kinds]
        built = bounded.stream(deadline or Deadline(), "differentiating f", _derivative_job, items)
        for kind, result in zip(kinds, built, strict=True):
            if result is None:
                self.note = (
                    "central differences for the derivatives sympy did not build within the "
                    "time budget (or within MAX_NODES nodes)"
                )
            else:
                setattr(self, f"exact_{kind}", lambdified(self.symbols, result))
        return self.note

    def grad(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        self.prepare(kinds=["gradient"])
        if self.exact_gradient is None:
            return numeric_gradient(self.value, x.copy())[0]
        return np.array(self.exact_gradient(*x), dtype=float).reshape(self.n)

    def hess(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        self.prepare(kinds=["hessian"])
        if self.exact_hessian is None:
            return numeric_hessian(self.value, x)[0]
        return self.hess_with_error(x)[0]

    def hess_with_error(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(x, dtype=float)
        self.prepare(kinds=["hessian"])
        if self.exact_hessian is None:
            return numeric_hessian(self.value, x, error=True)
        H = np.array(self.exact_hessian(*x), dtype=float).reshape(self.n, self.n)
        return H, 1e-12 * (1.0 + np.abs(H))

    def derivative_1d(self, c: float, order: int) -> Estimate:
        """``f^(order)(c)`` for a function of one variable (exact for ``order`` 2 when the
        Hessian was built)."""
        self.prepare(kinds=["hessian"])
        if order == 2 and self.exact_hessian is not None:
            H, err = self.hess_with_error(np.array([c]))
            return Estimate(H[0, 0], err[0, 0])
        return numeric_derivative(lambda t: self.value(np.array([t])), c, order=order)


def symbolic_function(expr: sp.Expr, variables: Any = None) -> Fn:
    """A symbolic function of real variables, seen as a function of a float vector."""
    if variables is not None:
        if isinstance(variables, (str, sp.Symbol)):
            variables = [variables]
        variables = [v.name if isinstance(v, sp.Symbol) else v for v in variables]
    expr, _ = real_form(expr)
    syms = ordered_symbols(expr, variables)
    others = sorted(s.name for s in expr.free_symbols - set(syms))
    if others:
        raise ValueError(f"f also depends on {others}: give them values first, or list them")
    lam = lambdified(syms, expr)

    def value(x: np.ndarray) -> float:
        return as_scalar(lam(*np.asarray(x, dtype=float)))

    return Fn([s.name for s in syms], value, expr, syms)


def positional(f: Callable[..., Any]) -> tuple[list[str], bool]:
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


def callable_function(
    f: Callable[..., Any], variables: Any = None, at: Any = None, n: int | None = None
) -> Fn:
    """View a callable as a function of a vector.

    ``f(x, y)`` (one parameter per variable, named after them) is called as ``f(*v)``;
    ``f(v)`` with one parameter and a point of several coordinates gets the whole vector.
    """
    params, variadic = positional(f)
    n_at, at_names = point_hint(at)
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
            return Fn(names, lambda x: as_scalar(f(x[0])))
        return Fn(names, lambda x: as_scalar(f(*x)))
    if variadic:
        names = names if names is not None else tuple(f"x{i + 1}" for i in range(count))
        return Fn(names, lambda x: as_scalar(f(*x)))
    if len(params) == 1:
        p = params[0]
        names = names if names is not None else tuple(f"{p}[{i}]" for i in range(count))
        return Fn(names, lambda x: as_scalar(f(x)))
    raise ValueError(f"f takes {len(params)} argument(s) {params} but the point has {count}")


def as_function(f: Any, variables: Any = None, at: Any = None, n: int | None = None) -> Fn:
    """``f`` (string, sympy or callable) as an :class:`Fn`."""
    expr = to_expr(f)
    if expr is None:
        return callable_function(f, variables, at, n)
    return symbolic_function(expr, variables)
