"""The seed's beta and theta sliders (:mod:`chainrule.notebook.sliders`), in this process (no
kernel, no browser): each control redraws its curves."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
from chainrule.notebook import SlopeSliders


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# -- the seed's sliders --------------------------------------------------------------------------


def test_the_sliders_redraw_the_seeds_curves():
    sliders = SlopeSliders()
    assert (sliders.beta.value, sliders.theta.value) == (5, 5)  # the seed's defaults
    assert (sliders.beta.min, sliders.beta.max) == (-1, 25)  # the seed's interact ranges
    assert (sliders.theta.min, sliders.theta.max) == (-1, 25)
    before = sliders.image.value
    assert before[:4] == b"\x89PNG"
    sliders.beta.value = 12
    g_axes, _, g_slope, _ = sliders.figure.axes
    h = g_axes.lines[0].get_xdata()
    g = sigmoid(12 * h)
    assert np.allclose(g_axes.lines[0].get_ydata(), g)
    assert np.allclose(g_slope.lines[0].get_ydata(), 12 * g * (1 - g))
    assert sliders.image.value != before  # the picture shown is the new one
    sliders.theta.value = 25
    _, t_axes, _, t_slope = sliders.figure.axes  # a new figure
    t = np.tanh(25 * h)
    assert np.allclose(t_axes.lines[0].get_ydata(), t)
    assert np.allclose(t_slope.lines[0].get_ydata(), 25 * (1 - t**2))
    assert t_axes.get_ylim() == (-1.1, 1.1)  # the derivative's peak of 25 does not squash it


def test_the_sliders_draw_a_negative_and_a_zero_slope():
    sliders = SlopeSliders(beta=-1, theta=0)
    g_axes, t_axes, _, t_slope = sliders.figure.axes
    h = g_axes.lines[0].get_xdata()
    assert np.allclose(g_axes.lines[0].get_ydata(), sigmoid(-h))  # decreasing
    assert np.all(t_axes.lines[0].get_ydata() == 0) and np.all(t_slope.lines[0].get_ydata() == 0)
