"""What the toolkit returns: numeric estimates, critical points, descent runs."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

__all__ = [
    "CONVERGED",
    "DIVERGED",
    "KINDS",
    "MAX_STEPS",
    "CriticalPoint",
    "DescentResult",
    "Estimate",
    "EstimateArray",
    "show",
]

#: Reasons :func:`~chainrule.calculus.gradient_descent` gives for stopping.
CONVERGED = "gradient norm below tol"
MAX_STEPS = "max_steps reached"
DIVERGED = "diverged"

#: The kinds of critical point.
KINDS = ("minimum", "maximum", "saddle", "inflection", "inconclusive")


def show(v: Any) -> str:
    """A number as a learner reads it: exact sympy numbers as they are, floats to 6 digits.

    >>> show(sp.sqrt(2)), show(2 / 3)
    ('sqrt(2)', '0.666667')
    """
    if isinstance(v, float) and not isinstance(v, sp.Basic):
        return f"{v:.6g}"
    return str(v)


class Estimate(float):
    """A float computed by finite differences, with ``.error``, an estimate of its error.

    It behaves as a plain ``float`` in arithmetic; ``.error`` is an estimate of the
    absolute error (truncation plus rounding), not a guaranteed bound.

    >>> e = Estimate(12.0000001, 2e-7)
    >>> e + 1, e.error
    (13.0000001, 2e-07)
    """

    __slots__ = ("error",)
    error: float

    def __new__(cls, value: float, error: float) -> Estimate:
        obj = super().__new__(cls, value)
        obj.error = float(error)
        return obj

    def __repr__(self) -> str:
        return f"Estimate({float(self)!r}, error={self.error:.2g})"


class EstimateArray(np.ndarray):
    """A float array computed by finite differences, with ``.error`` (an array, same shape).

    Only the array returned carries ``.error``; arrays derived from it (``2 * g``,
    slices, copies) have ``error`` set to ``None``.
    """

    error: np.ndarray | None

    def __new__(cls, value: Any, error: Any) -> EstimateArray:
        obj = np.asarray(value, dtype=float).view(cls)
        obj.error = np.asarray(error, dtype=float)
        return obj

    def __array_finalize__(self, obj: Any) -> None:
        self.error = None


@dataclass(frozen=True)
class CriticalPoint:
    """A point where ``f' = 0`` (one variable) or ``grad f = 0`` (several), classified.

    Attributes
    ----------
    point : dict
        Variable name -> coordinate (exact sympy numbers when ``method == "symbolic"``,
        floats when ``"numeric"``).
    value : number
        ``f`` at the point.
    kind : str
        ``"minimum"``, ``"maximum"``, ``"saddle"``, ``"inflection"`` (one variable:
        neither) or ``"inconclusive"`` (the test fails and nothing else decides).
    method : str
        ``"symbolic"`` (solved exactly) or ``"numeric"`` (found by a numeric search).
        A :class:`~chainrule.calculus.CriticalPoints` list says ``"mixed"`` when exact
        solutions were completed by a numeric search.
    test : str
        The test that decided, with its numbers, e.g. ``"f''(1) = 6 > 0"``.
    note : str
        Anything else worth knowing (e.g. one point of a whole curve of critical points).
    """

    point: dict[str, Any]
    value: Any
    kind: str
    method: str = "symbolic"
    test: str = ""
    note: str = ""

    def where(self) -> str:
        """The coordinates as ``"x=1, y=2"``."""
        return ", ".join(f"{k}={show(v)}" for k, v in self.point.items())

    def __str__(self) -> str:
        text = f"{self.kind} at {self.where()}, f={show(self.value)}"
        if self.method != "symbolic":
            text += f" ({self.method})"
        if self.test:
            text += f"  [{self.test}]"
        if self.note:
            text += f"  ({self.note})"
        return text

    def coordinates(self) -> np.ndarray:
        """The point as a float array, in the order of :attr:`point`."""
        return np.array([float(v) for v in self.point.values()])


@dataclass(frozen=True)
class DescentResult:
    """What :func:`~chainrule.calculus.gradient_descent` did.

    Attributes
    ----------
    point : dict
        Variable name -> final coordinate.
    value : float
        ``f`` at the final point.
    path : numpy.ndarray
        Every iterate, shape ``(steps + 1, n_variables)``; ``path[0]`` is the start.
    steps : int
        Number of steps taken.
    reason : str
        Why it stopped: ``"gradient norm below tol"``, ``"max_steps reached"`` or
        ``"diverged"``.
    values : numpy.ndarray
        ``f`` along the path, shape ``(steps + 1,)``.
    gradient_norm : float
        ``||grad f||`` at the last point where it was computed.
    variables : tuple of str
        The names, in the column order of ``path``.
    note : str
        ``""``, or why the gradient was central differences for an expression (sympy did
        not build it within the time budget).
    """

    point: dict[str, float]
    value: float
    path: np.ndarray = field(repr=False)
    steps: int
    reason: str
    values: np.ndarray = field(repr=False)
    gradient_norm: float = math.nan
    variables: tuple[str, ...] = ()
    note: str = ""

    @property
    def converged(self) -> bool:
        """Whether it stopped on a small gradient norm."""
        return self.reason == CONVERGED
