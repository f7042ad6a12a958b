"""The seed's beta and theta sliders (its ``@interact`` cells), as one widget.

>>> sliders = SlopeSliders(beta=5, theta=5)
>>> sliders.theta.value = 25
>>> twin = sliders.figure.axes[3]  # the tanh panel's derivative axis
>>> float(twin.lines[0].get_ydata().max())  # d tanh(theta h)/dh = theta at h = 0
25.0
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from chainrule._figures import png
from chainrule.playground.config import BETA_RANGE
from chainrule.plotting import plot_slopes

__all__ = ["SlopeSliders"]


class SlopeSliders(widgets.VBox):
    """Two sliders, ``beta`` (the sigmoid's slope) and ``theta`` (tanh's), over a picture of
    ``g(h) = 1 / (1 + exp(-beta h))`` and ``tanh(theta h)`` with their derivatives
    (:func:`chainrule.plotting.plot_slopes`), redrawn when a slider moves."""

    def __init__(self, beta: float = 5.0, theta: float = 5.0, **kwargs: Any) -> None:
        low, high = BETA_RANGE
        self.beta = widgets.FloatSlider(
            value=beta, min=low, max=high, step=0.5, description="beta", continuous_update=False
        )
        self.theta = widgets.FloatSlider(
            value=theta, min=low, max=high, step=0.5, description="theta", continuous_update=False
        )
        self.image = widgets.Image(format="png")
        super().__init__([widgets.HBox([self.beta, self.theta]), self.image], **kwargs)
        self.add_class("chainrule-slopes")
        self.redraw()
        self.beta.observe(self.redraw, names="value")
        self.theta.observe(self.redraw, names="value")

    def redraw(self, change: Any = None) -> None:
        """Draw the curves of the sliders' values (``change``: the slider's event, unused)."""
        self.figure = plot_slopes(self.beta.value, self.theta.value)
        self.image.value = png(self.figure, tight=False)
