r"""Gradient descent, the reference derivation's algorithm with its sign corrected.

1. pick a start :math:`x_0`;
2. compute the gradient :math:`v_i = \nabla f(x_i)`;
3. step **against** it: :math:`\Delta_i = -\alpha v_i + \mu \Delta_{i-1}`,
   :math:`x_{i+1} = x_i + \Delta_i` (``momentum`` :math:`\mu = 0` is plain descent,
   :math:`x_{i+1} = x_i - \alpha \nabla f(x_i)`).  The step is the network's own update
   rule: :class:`chainrule.optimizers.Momentum` (or
   :class:`~chainrule.optimizers.GradientDescent` for :math:`\mu = 0`);
4. repeat until :math:`\|\nabla f(x_i)\| <` ``tol`` (not until :math:`f(x_i) < \epsilon`
   as the derivation says, which need never happen), or ``max_steps`` steps, or
   divergence: a non-finite value, or :math:`\|x\|` or :math:`|f|` beyond ``divergence``
   times their starting size.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence

import numpy as np

from chainrule.calculus.functions import FunctionLike, as_function
from chainrule.calculus.limits import Deadline, check_count
from chainrule.calculus.points import PointLike, coords, to_float
from chainrule.calculus.records import CONVERGED, DIVERGED, MAX_STEPS, DescentResult
from chainrule.optimizers import GradientDescent, Momentum, Optimizer

__all__ = ["gradient_descent"]


def _real(name: str, value: object) -> float:
    """``value`` as a float, or a ValueError naming ``name`` (strings, bools, None)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    return float(value)


def _update_rule(
    learning_rate: float, momentum: float, tol: float, max_steps: int, divergence: float
) -> Optimizer:
    """The optimizer that takes the steps, once the arguments are checked."""
    if not 0 < _real("learning_rate", learning_rate) < math.inf:
        raise ValueError("learning_rate must be positive")
    if not 0 <= _real("momentum", momentum) < 1:
        raise ValueError("momentum must be in [0, 1)")
    if not _real("tol", tol) > 0:
        raise ValueError("tol must be positive")
    if not _real("divergence", divergence) > 0:
        raise ValueError("divergence must be positive")
    check_count(max_steps, "max_steps", 0, "MAX_DESCENT_STEPS")
    if momentum:
        return Momentum(learning_rate, momentum=momentum)
    return GradientDescent(learning_rate)


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
    time_budget: float | None = None,
) -> DescentResult:
    r"""Minimise ``f`` by gradient descent (optionally with momentum); see the module.

    Strings and sympy use the exact gradient (lambdified with numpy) when sympy builds it
    within ``time_budget`` wall-clock seconds (default ``TIME_BUDGET``); callables, and
    gradients not built in time, use :func:`~chainrule.differences.numeric_gradient`.

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
    deadline = Deadline(time_budget)  # the wall-clock budget starts now
    rule = _update_rule(learning_rate, momentum, tol, max_steps, divergence)
    fn = as_function(f, variables, start)
    note = fn.prepare(deadline, kinds=["gradient"])  # descent needs no Hessian
    x = np.array([to_float(v) for v in coords(start, fn.names)], dtype=float)
    limit_x = divergence * (1.0 + float(np.linalg.norm(x)))
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
                rule.step(x, g)  # Delta_i = -alpha grad f(x_i) + mu Delta_{i-1}; x += Delta_i
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
        note=note,
    )
