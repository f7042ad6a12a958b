r"""Numeric derivatives of callables: all of them :func:`chainrule.differences.central_difference`
with its one step rule, :func:`chainrule.differences.step_size`.

==========================  =================================================================
``numeric_derivative``      ``D_h^k f(x)``, order ``k``, ``h`` for order ``k``
``numeric_gradient``        ``D_h`` in each coordinate (:mod:`chainrule.differences`)
``numeric_hessian``         ``H_ii = D_h^2`` along ``e_i``; ``H_ij`` from second differences
                            along ``u, w = h_i e_i +- h_j e_j``: ``(D^2_u - D^2_w) / 4 h_i h_j``
                            (that is, ``D_h`` in ``x_i`` of ``D_h`` in ``x_j``), ``h`` for order 2
``numeric_jacobian``        ``D_h`` of each component in each coordinate, ``h`` for order 1
==========================  =================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule.calculus.limits import check_order
from chainrule.calculus.records import Estimate
from chainrule.differences import as_scalar, central_difference, step_size

__all__ = ["numeric_derivative", "numeric_hessian", "numeric_jacobian"]


def numeric_derivative(
    f: Callable[[Any], Any], x: float, *, order: int = 1, step: float | None = None
) -> Estimate:
    r"""Derivative of any order (up to ``MAX_ORDER``) of a function of one variable.

    .. math:: f^{(k)}(x) \approx (2h)^{-k} \sum_{j=0}^{k} (-1)^j \binom{k}{j}
              f\big(x + (k - 2j) h\big)

    (error :math:`O(h^2)`), with ``h = eps**(1/(k+2)) * max(1, |x|)`` rounded to a power of
    two, ``eps`` that of ``x``'s dtype.  The error estimate compares steps ``h`` and
    ``2h`` (Richardson) and adds the rounding error.

    >>> d = numeric_derivative(lambda t: t**3, 2.0)
    >>> round(d, 8), d.error < 1e-6
    (12.0, True)
    >>> round(numeric_derivative(lambda t: t**3, 2.0, order=2), 4)
    12.0
    """
    order = check_order(order)
    x_arr = np.asarray(x)
    dtype = x_arr.dtype if np.issubdtype(x_arr.dtype, np.floating) else np.dtype(float)
    x0 = float(x_arr)
    if step is None:
        h = float(step_size(x0, order, dtype))
    else:
        h = float(step)
        if not h > 0:
            raise ValueError("step must be positive")
    d, err = central_difference(
        lambda t: as_scalar(f(t)), x0, h, order, dtype=dtype, error=order > 0
    )
    return Estimate(float(d), float(err))


def numeric_hessian(
    f: Callable[[np.ndarray], Any],
    x: np.ndarray,
    *,
    step: float | np.ndarray | None = None,
    error: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Hessian of a scalar ``f`` at ``x`` by central differences.

    .. math:: H_{ii} \approx \frac{f(x + 2h_i e_i) - 2 f(x) + f(x - 2h_i e_i)}{4 h_i^2},\quad
              H_{ij} \approx \frac{f_{++} - f_{+-} - f_{-+} + f_{--}}{4 h_i h_j}

    (``f_{+-} = f(x + h_i e_i - h_j e_j)``), with ``h`` the step rule for order 2,
    ``eps**(1/4) * max(1, |x|)``.  ``x`` is not modified.  Returns ``(H, err)``; ``err`` is
    the rounding part, plus if ``error`` the Richardson estimate of each second difference
    (both from :func:`~chainrule.differences.central_difference`).

    >>> H, err = numeric_hessian(lambda v: v[0]**2 * v[1], np.array([1.0, 3.0]))
    >>> H.round(5)
    array([[6., 2.],
           [2., 0.]])
    """
    x = np.array(x, dtype=float if not np.issubdtype(np.asarray(x).dtype, np.floating) else None)
    x = x.reshape(-1)
    h0 = step_size(x, 2) if step is None else np.broadcast_to(np.asarray(step, float), x.shape)
    if np.any(~(h0 > 0)):
        raise ValueError("step must be positive")

    def along(*directions: np.ndarray) -> Callable[[Any], np.ndarray]:
        # f at x + t d for each direction d
        return lambda t: np.array(
            [as_scalar(f((x + float(t) * d).astype(x.dtype))) for d in directions]
        )

    n = x.size
    H, err = np.empty((n, n)), np.empty((n, n))
    for i in range(n):
        e_i = np.zeros(n)
        e_i[i] = h0[i]
        # D_h^2 along e_i: t = -1, 0, 1 with step 1/2 is x - 2h_i e_i, x, x + 2h_i e_i
        d, r = central_difference(along(2 * e_i), 0.0, 0.5, 2, dtype=x.dtype, error=error)
        H[i, i], err[i, i] = d[0] / (4 * h0[i] ** 2), r[0] / (4 * h0[i] ** 2)
        for j in range(i):
            e_j = np.zeros(n)
            e_j[j] = h0[j]
            # second differences along u = e_i + e_j and w = e_i - e_j, step 1/2 each
            d, r = central_difference(
                along(e_i + e_j, e_i - e_j), 0.0, 0.5, 2, dtype=x.dtype, error=error
            )
            H[i, j] = H[j, i] = (d[0] - d[1]) / (4 * h0[i] * h0[j])
            err[i, j] = err[j, i] = (r[0] + r[1]) / (4 * h0[i] * h0[j])
    return H, err


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
    h = step_size(x, 1) if step is None else np.broadcast_to(np.asarray(step, float), x.shape)
    columns, errors = [], []
    for j in range(x.size):

        def column(t: Any, j: int = j) -> np.ndarray:
            v = x.copy()
            v[j] = t
            return np.asarray(F(v), dtype=float).reshape(-1)

        d, err = central_difference(column, x[j], float(h[j]), 1, error=error)
        columns.append(d)
        errors.append(np.broadcast_to(err, np.shape(d)))
    return np.column_stack(columns), np.column_stack(errors)
