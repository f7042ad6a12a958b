"""Central differences: the numeric oracle that gradients are checked against.

Bottom layer (numpy only): :func:`chainrule.check_gradients` and :mod:`chainrule.calculus`
both use it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["as_scalar", "numeric_gradient"]


def as_scalar(value: Any) -> float:
    """``value`` as a Python float; a clear error when it is not one real number."""
    arr = np.asarray(value)
    if arr.size != 1:
        raise ValueError(f"f must return a scalar, got shape {arr.shape}")
    if np.iscomplexobj(arr):
        raise ValueError("f must return a real number")
    return float(arr.reshape(()))


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

    ``f`` is evaluated at ``x`` with one entry changed **in place** (so ``f`` may read
    ``x`` through a closure instead of its argument); each entry is restored exactly,
    even if ``f`` raises.  The divisor is the step actually taken,
    ``(x_i + h_i) - (x_i - h_i)`` in ``x``'s precision.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``.
    x : numpy.ndarray
        Floating array (any shape; 1-D in the usual use).  A list is copied to float64.
    step : float or array, optional
        ``h``; default ``cbrt(eps) * max(1, |x_i|)`` with ``eps`` of ``x.dtype``, which
        balances the truncation error ``O(h^2)`` against rounding ``O(eps / h)``.
    error : bool
        If true, also evaluate at ``x +- 2h e_i`` (two more calls per entry) and estimate
        the truncation error Richardson-style, ``|D(h) - D(2h)| / 3``.

    Returns
    -------
    grad, error_estimate : numpy.ndarray
        float64 arrays shaped like ``x``.  Without ``error=True`` the estimate is the
        rounding part only, ``eps (|f(x+h)| + |f(x-h)|) / 2h``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([1.0, 2.0])
    >>> g, err = numeric_gradient(lambda v: v[0]**2 + 3*v[1], x, error=True)
    >>> g.round(8), bool(np.all(err < 1e-8)), x
    (array([2., 3.]), True, array([1., 2.]))
    """
    if not isinstance(x, np.ndarray):
        x = np.array(x, dtype=float)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"x must be a floating-point array, got dtype {x.dtype}")
    eps = float(np.finfo(x.dtype).eps)
    if step is None:
        h = np.cbrt(eps) * np.maximum(1.0, np.abs(x.astype(float)))
    else:
        h = np.broadcast_to(np.asarray(step, dtype=float), x.shape)
        if np.any(~(h > 0)):
            raise ValueError("step must be positive")
    grad = np.empty(x.shape, dtype=float)
    err = np.empty(x.shape, dtype=float)
    for idx in np.ndindex(x.shape):
        xi = x[idx].copy()
        hi = float(h[idx])
        try:
            x[idx] = xi + hi
            xp = float(x[idx])
            fp = as_scalar(f(x))
            x[idx] = xi - hi
            xm = float(x[idx])
            fm = as_scalar(f(x))
            if error:
                x[idx] = xi + 2 * hi
                xp2 = float(x[idx])
                fp2 = as_scalar(f(x))
                x[idx] = xi - 2 * hi
                xm2 = float(x[idx])
                fm2 = as_scalar(f(x))
        finally:
            x[idx] = xi
        width = xp - xm
        if width == 0:
            raise ValueError(f"step {hi:g} is too small to change x{list(idx)} = {float(xi)}")
        d1 = (fp - fm) / width
        grad[idx] = d1
        rounding = eps * (abs(fp) + abs(fm)) / width
        if error:
            d2 = (fp2 - fm2) / (xp2 - xm2)
            err[idx] = abs(d1 - d2) / 3.0 + rounding
        else:
            err[idx] = rounding
    return grad, err
