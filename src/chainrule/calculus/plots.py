"""Pictures: ``f``, ``f'``, ``f''`` stacked, and contours with a descent path.

matplotlib (a dependency of chainrule) is imported when a picture is drawn; a figure is made
without pyplot and shows as a PNG as a notebook cell's value.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy as sp

from chainrule.calculus.critical import critical_points
from chainrule.calculus.functions import Fn, FunctionLike, as_function
from chainrule.calculus.limits import check_count
from chainrule.calculus.points import lambdified, to_float
from chainrule.calculus.records import KINDS, CriticalPoint, DescentResult
from chainrule.calculus.solve import as_box

__all__ = ["plot_contour", "plot_derivatives"]

_MARKERS = {"minimum": "v", "maximum": "^", "saddle": "X", "inflection": "D", "inconclusive": "o"}
_COLORS = {
    "minimum": "tab:green",
    "maximum": "tab:red",
    "saddle": "tab:purple",
    "inflection": "tab:orange",
    "inconclusive": "tab:gray",
}


def _on_grid(func: Callable[[np.ndarray], Any], grid: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = np.array([func(np.array([t])) for t in grid], dtype=float)
    return out


def _curves(fn: Fn, grid: np.ndarray) -> list[np.ndarray]:
    """``f``, ``f'`` and ``f''`` on the grid (exact derivatives for expressions)."""
    curves = [_on_grid(fn.value, grid)]
    if fn.expr is not None:
        x = fn.symbols[0]
        for k in (1, 2):
            lam = lambdified([x], sp.diff(fn.expr, x, k))
            curves.append(_on_grid(lambda v, lam=lam: float(lam(v[0])), grid))
    else:
        for k in (1, 2):
            curves.append(_on_grid(lambda v, k=k: fn.derivative_1d(float(v[0]), k), grid))
    return curves


def _mark_1d(axes: Any, cps: Sequence[CriticalPoint]) -> None:
    """Critical points on ``f`` (at their value) and on ``f'`` (at zero), markers by kind."""
    for kind in KINDS:
        xs = [float(p.coordinates()[0]) for p in cps if p.kind == kind]
        if xs:
            ys = [to_float(p.value) for p in cps if p.kind == kind]
            style = {"marker": _MARKERS[kind], "color": _COLORS[kind], "zorder": 3}
            axes[0].scatter(xs, ys, label=kind, **style)
            axes[1].scatter(xs, np.zeros(len(xs)), **style)
    if cps:
        axes[0].legend(fontsize=8)


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
    from chainrule._figures import new_figure

    num = check_count(num, "num", 2, "MAX_PLOT_NUM")
    lo, hi = float(domain[0]), float(domain[1])
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"domain must be (low, high) of finite numbers, low < high; got {domain}")
    grid = np.linspace(lo, hi, num)
    fn = as_function(f, None if variable is None else [variable], None, 1)
    if fn.n != 1:
        raise ValueError(f"plot_derivatives takes a function of one variable, not {fn.names}")
    fig = new_figure(figsize=(6, 7))
    axes = fig.subplots(3, 1, sharex=True)
    name = fn.names[0]
    labels = ["f", "f'", "f''"]
    titles = [
        f"f({name})" + (f" = {fn.expr}" if fn.expr is not None else ""),
        f"f'({name}): the slope of f, zero at critical points",
        f"f''({name}): the curvature of f, > 0 at a minimum, < 0 at a maximum",
    ]
    for ax, y, label, title in zip(axes, _curves(fn, grid), labels, titles, strict=True):
        ax.plot(grid, y, label=label)
        ax.set_title(title, fontsize=9)
        ax.set_ylabel(label)
        if label != "f":
            ax.axhline(0.0, color="0.6", lw=0.8, label="zero")
    axes[-1].set_xlabel(name)
    if critical:
        source = f if fn.expr is None else fn.expr
        _mark_1d(axes, critical_points(source, variables=fn.names, bounds=(lo, hi)))
    return fig


def _contour_box(
    fn: Fn, cps: Sequence[CriticalPoint], descent: DescentResult | None, bounds: Any
) -> np.ndarray:
    """The plotted box: ``bounds``, or one around the path and the critical points."""
    if bounds is not None:
        return as_box(bounds, fn.names)
    pts = [p.coordinates() for p in cps if np.all(np.isfinite(p.coordinates()))]
    if descent is not None:
        pts.extend(descent.path)
    if not pts:
        return np.array([[-3.0, 3.0], [-3.0, 3.0]])
    arr = np.array(pts)
    lo, hi = arr.min(axis=0), arr.max(axis=0)
    pad = np.maximum(0.2 * (hi - lo), 1.0)
    return np.column_stack([lo - pad, hi + pad])


def _heights(fn: Fn, box: np.ndarray, num: int) -> tuple[np.ndarray, ...]:
    xs = np.linspace(box[0, 0], box[0, 1], num)
    ys = np.linspace(box[1, 0], box[1, 1], num)
    X, Y = np.meshgrid(xs, ys)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if fn.expr is not None:
            lam = lambdified(fn.symbols, fn.expr)
            Z = np.broadcast_to(np.asarray(lam(X, Y), dtype=float), X.shape)
        else:
            Z = np.array([[fn.value(np.array([a, b])) for a in xs] for b in ys])
    return X, Y, Z


def _draw_path(ax: Any, descent: DescentResult) -> None:
    p = descent.path
    ax.plot(p[:, 0], p[:, 1], ".-", color="tab:blue", lw=1, ms=3, label="gradient descent")
    ax.plot(p[0, 0], p[0, 1], "s", color="tab:blue", label="start")
    ax.plot(p[-1, 0], p[-1, 1], "*", color="tab:blue", ms=10, label=f"end ({descent.reason})")


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
        ``True`` finds them with ``critical_points``; markers by kind.
    bounds : ((xlo, xhi), (ylo, yhi)), optional
        Default: a box around the path and the critical points (or (-3, 3)^2).

    Returns
    -------
    matplotlib.figure.Figure
        One axes: the contour set, the path (a line labelled ``"gradient descent"``), and
        one scatter per kind of critical point (labelled by kind).
    """
    from chainrule._figures import new_figure

    num = check_count(num, "num", 2, "MAX_PLOT_NUM")
    fn = as_function(f, variables, None, 2)
    if fn.n != 2:
        raise ValueError(f"plot_contour takes a function of two variables, not {fn.names}")
    if critical is True:
        source = f if fn.expr is None else fn.expr
        cps = list(critical_points(source, variables=fn.names, bounds=bounds))
    else:
        cps = [] if critical is False else list(critical)
    box = _contour_box(fn, cps, descent, bounds)
    fig = new_figure(figsize=(6, 5))
    ax = fig.subplots()
    contours = ax.contour(*_heights(fn, box, num), levels=levels, cmap="viridis")
    ax.clabel(contours, fontsize=7)
    if descent is not None:
        _draw_path(ax, descent)
    for kind in KINDS:
        pts = np.array([p.coordinates() for p in cps if p.kind == kind]).reshape(-1, 2)
        if len(pts):
            style = {"marker": _MARKERS[kind], "color": _COLORS[kind], "s": 60, "zorder": 3}
            ax.scatter(pts[:, 0], pts[:, 1], label=kind, **style)
    ax.set_xlim(box[0])
    ax.set_ylim(box[1])
    ax.set_xlabel(fn.names[0])
    ax.set_ylabel(fn.names[1])
    ax.set_title(f"f = {fn.expr}" if fn.expr is not None else "f", fontsize=9)
    if descent is not None or cps:
        ax.legend(fontsize=8, loc="best")
    return fig
