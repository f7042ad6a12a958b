r"""Central differences: the numeric oracle that gradients are checked against.

Bottom layer (numpy only): :func:`chainrule.check_gradients` and :mod:`chainrule.calculus`
both use it.  Every numeric derivative in chainrule -- gradients, derivatives of any order,
Hessians, Jacobians -- is :func:`central_difference`, with one step rule,
:func:`step_size`:

.. math:: D_h^k g(x) = (2h)^{-k} \sum_{j=0}^{k} (-1)^j \binom{k}{j} g\big(x + (k - 2j) h\big),
          \qquad h = \mathrm{pow2}\big(\epsilon^{1/(k+2)} \max(1, |x|)\big)

``D_h^k`` is the first central difference ``(g(x + h) - g(x - h)) / 2h`` applied ``k``
times; its truncation error is ``O(h^2)`` and its rounding error ``O(eps / h^k)``, which
that ``h`` balances (``eps`` is the machine epsilon of the point's dtype; rounding ``h``
to a power of two makes ``x + h`` exact more often).  The error estimate compares ``h``
with ``2h`` (Richardson): ``|D_h - D_2h| / 3``, plus the rounding error.

>>> d, err = central_difference(lambda t: t**3, 2.0, float(step_size(2.0, 1)), error=True)
>>> round(float(d), 8), bool(err < 1e-6)
(12.0, True)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["as_scalar", "central_difference", "numeric_gradient", "step_size"]


def as_scalar(value: Any) -> float:
    """``value`` as a Python float; a clear error when it is not one real number."""
    arr = np.asarray(value)
    if arr.size != 1:
        raise ValueError(f"f must return a scalar, got shape {arr.shape}")
    if np.iscomplexobj(arr):
        raise ValueError("f must return a real number")
    return float(arr.reshape(()))


def step_size(x: Any, order: int = 1, dtype: Any = None) -> np.ndarray:
    r"""The step for a central difference of order ``k`` at ``x``: the one step rule.

    .. math:: h = \epsilon^{1/(k+2)} \max(1, |x|), \text{ rounded to a power of two}

    with ``eps`` that of ``dtype`` (default: ``x``'s floating dtype, else float64).

    >>> np.log2(step_size(np.array([0.5, 3.0]), 1))
    array([-17., -16.])
    """
    x = np.asarray(x)
    if dtype is None:
        dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
    eps = float(np.finfo(dtype).eps)
    h = eps ** (1.0 / (order + 2)) * np.maximum(1.0, np.abs(x.astype(float)))
    return np.exp2(np.round(np.log2(h)))


def central_difference(
    g: Callable[[Any], Any],
    x: Any,
    h: Any,
    order: int = 1,
    *,
    dtype: Any = np.float64,
    error: bool = False,
) -> tuple[Any, Any]:
    r"""``D_h^k g(x)`` (see the module), and an estimate of its error.

    Parameters
    ----------
    g : callable
        ``g(t)``: a number or an array (a Jacobian's column) at the point ``t``.
    x : float or array
        Where.  An array ``x`` is many points at once, for a ``g`` whose entry ``i`` depends
        on ``t_i`` only (an activation, the costs of a batch along one output).
    h : float or array
        The step; ``g`` is called at ``x + (k - 2j) h`` (``j = 0..k``), in ``dtype``.
    order : int
        ``k``.
    error : bool
        Also evaluate with ``2h`` and add the Richardson estimate ``|D_h - D_2h| / 3``.

    Returns
    -------
    value, error_estimate
        Floats (arrays when ``g`` returns arrays).  Without ``error`` the estimate is the
        rounding part only, ``eps sum_j |c_j g_j| / (2h)^k``.  The divisor is the width
        of the points actually taken, in ``dtype``.

    Examples
    --------
    >>> z = np.array([-1.0, 0.5, 2.0])
    >>> d, _ = central_difference(np.tanh, z, step_size(z, 1))  # three points at once
    >>> bool(np.allclose(d, 1 - np.tanh(z) ** 2, rtol=1e-9))
    True
    """
    dtype = np.dtype(dtype)
    if order == 0:
        return np.asarray(g(dtype.type(x)), dtype=float), 0.0
    if not np.all(np.asarray(h) > 0):
        raise ValueError("step must be positive")
    eps = float(np.finfo(dtype).eps)
    coeffs = [(-1) ** j * math.comb(order, j) for j in range(order + 1)]

    def stencil(h: float) -> tuple[Any, Any]:
        points = [dtype.type(x + (order - 2 * j) * h) for j in range(order + 1)]
        width = (np.asarray(points[0], float) - np.asarray(points[-1], float)) / order  # 2h
        if np.any(width == 0):
            at = np.unravel_index(int(np.argmin(np.abs(width))), np.shape(width))
            raise ValueError(
                f"step {np.broadcast_to(h, width.shape)[at]:g} is too small to change "
                f"x = {np.broadcast_to(x, width.shape)[at]}"
            )
        values = [np.asarray(g(t), dtype=float) for t in points]
        scale = width**order
        value = sum(c * v for c, v in zip(coeffs, values, strict=True)) / scale
        rounding = eps * sum(abs(c) * np.abs(v) for c, v in zip(coeffs, values, strict=True))
        return value, rounding / scale

    d1, err = stencil(h)
    if error:
        d2, _ = stencil(2 * h)
        err = err + np.abs(d1 - d2) / 3.0
    return d1, err


def numeric_gradient(
    f: Callable[[np.ndarray], Any],
    x: np.ndarray,
    *,
    step: float | np.ndarray | None = None,
    error: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Central-difference gradient of a scalar ``f`` at a float array ``x``.

    .. math:: \frac{\partial f}{\partial x_i} \approx
              \frac{f(x + h_i e_i) - f(x - h_i e_i)}{2 h_i}

    :func:`central_difference` of order 1 in each entry.  ``f`` is evaluated at ``x``
    with one entry changed **in place** (so ``f`` may read ``x`` through a closure instead
    of its argument); each entry is restored exactly, even if ``f`` raises.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``.
    x : numpy.ndarray
        Floating array (any shape; 1-D in the usual use).  A list is copied to float64.
    step : float or array, optional
        ``h``; default :func:`step_size` of order 1, ``cbrt(eps) * max(1, |x_i|)`` rounded
        to a power of two, ``eps`` of ``x.dtype``.
    error : bool
        If true, also evaluate at ``x +- 2h e_i`` (two more calls per entry) and add the
        Richardson estimate of the truncation error.

    Returns
    -------
    grad, error_estimate : numpy.ndarray
        float64 arrays shaped like ``x``.  Without ``error=True`` the estimate is the
        rounding part only, ``eps (|f(x+h)| + |f(x-h)|) / 2h``.

    Examples
    --------
    >>> x = np.array([1.0, 2.0])
    >>> g, err = numeric_gradient(lambda v: v[0]**2 + 3*v[1], x, error=True)
    >>> g.round(8), bool(np.all(err < 1e-8)), x
    (array([2., 3.]), True, array([1., 2.]))
    """
    if not isinstance(x, np.ndarray):
        x = np.array(x, dtype=float)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"x must be a floating-point array, got dtype {x.dtype}")
    if step is None:
        h = step_size(x, 1)
    else:
        h = np.broadcast_to(np.asarray(step, dtype=float), x.shape)
        if np.any(~(h > 0)):
            raise ValueError("step must be positive")
    grad = np.empty(x.shape, dtype=float)
    err = np.empty(x.shape, dtype=float)
    for idx in np.ndindex(x.shape):
        xi = x[idx].copy()

        def along(t: Any, idx: tuple[int, ...] = idx) -> float:
            x[idx] = t
            return as_scalar(f(x))

        try:
            grad[idx], err[idx] = central_difference(
                along, xi, float(h[idx]), 1, dtype=x.dtype, error=error
            )
        finally:
            x[idx] = xi
    return grad, err
