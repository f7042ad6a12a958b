r"""The mathematics behind backpropagation, as something a learner can run.

This module follows the reference derivation's "Some derivation of necessary
mathematics" part -- vectors, differentiation, partial differentiation, the gradient,
maxima and minima -- and its "Gradient Descent" part.  Its numeric side rests on the
same central differences as the network's gradient check
(:mod:`chainrule.differences`).

A function can be given three ways:

* a **string** such as ``"(x**4 + 2)*cos(x)"``, parsed safely through a whitelist
  (:func:`parse`; strings are never handed to ``sympify``/``eval``), giving exact,
  symbolic answers;
* a **sympy expression**, also giving exact answers;
* a **Python callable**, giving numeric answers by central differences, each with an
  error estimate (:class:`Estimate`, :class:`EstimateArray`).

Variables are ordered alphabetically by name (``x`` before ``y``) unless you pass
``variables=``.  Symbolic results are in plain symbols (or the user's own), so they mix with
the user's sympy; the limits that keep every call quick are in
:mod:`chainrule.calculus.limits`.

The package, one module per job: :mod:`~chainrule.calculus.parsing` (safe strings),
:mod:`~chainrule.calculus.symbolic` (derivatives, gradient, Hessian, Jacobian),
:mod:`~chainrule.calculus.numeric` (their central differences),
:mod:`~chainrule.calculus.critical` with :mod:`~chainrule.calculus.solve`,
:mod:`~chainrule.calculus.classify` and :mod:`~chainrule.calculus.extrema` (maxima and
minima), :mod:`~chainrule.calculus.descent` and :mod:`~chainrule.calculus.plots`.

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

from chainrule.calculus.critical import critical_points
from chainrule.calculus.descent import gradient_descent
from chainrule.calculus.extrema import CriticalPoints
from chainrule.calculus.numeric import numeric_derivative, numeric_hessian, numeric_jacobian
from chainrule.calculus.parsing import ExpressionError, parse
from chainrule.calculus.plots import plot_contour, plot_derivatives
from chainrule.calculus.records import (
    CONVERGED,
    DIVERGED,
    KINDS,
    MAX_STEPS,
    CriticalPoint,
    DescentResult,
    Estimate,
    EstimateArray,
)
from chainrule.calculus.symbolic import (
    derivative,
    evaluate,
    gradient,
    hessian,
    jacobian,
    partial,
)
from chainrule.differences import numeric_gradient

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
