"""The playground's slider curves are the ones :func:`chainrule.plotting.plot_slopes` draws
(one helper, :func:`chainrule.activations.slider_curves`, computes both)."""

from __future__ import annotations

import numpy as np

from chainrule.playground.views import rounded, seed_curves
from chainrule.plotting import plot_slopes


def test_the_page_and_the_figure_draw_the_same_curves():
    beta, theta = 7.5, -0.5
    page = seed_curves(beta, theta)
    h = np.asarray(page["h"])
    fig = plot_slopes(beta, theta, h=h)
    sigmoid_ax, tanh_ax = fig.axes[0], fig.axes[1]
    drawn = {
        "sigmoid": sigmoid_ax.lines[0].get_ydata(),
        "tanh": tanh_ax.lines[0].get_ydata(),
    }
    # each curve's derivative is on its twin axis (the figure's third and fourth axes)
    twins = fig.axes[2:]
    drawn["sigmoid_prime"] = twins[0].lines[0].get_ydata()
    drawn["tanh_prime"] = twins[1].lines[0].get_ydata()
    for name, values in drawn.items():
        assert page[name] == rounded(values), name
