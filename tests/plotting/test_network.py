"""A network as a picture (:mod:`chainrule.plotting.network`)."""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule.plotting import (
    plot_network,
)

from pictures import saved_png

# -- plot_network ------------------------------------------------------------------------------


def test_plot_network_draws_every_weight(tmp_path):
    net = cr.Network([2, 3, 1], activation="tanh", random_state=0)
    fig = plot_network(net)
    (ax,) = fig.axes
    assert ax.get_title() == "Network 2 - 3 - 1"
    assert len(ax.lines) == 2 * 3 + 3 * 1
    weights = np.concatenate([W.ravel() for W in net.W])  # layer by layer, row by row
    widths = np.array([line.get_linewidth() for line in ax.lines])
    biggest = np.abs(weights).max()
    assert np.allclose(widths, 0.5 + 3.5 * np.abs(weights) / biggest)  # as wide as |W_ij|
    reds = np.array([line.get_color()[0] > line.get_color()[2] for line in ax.lines])
    assert np.array_equal(reds, weights > 0)  # red positive, blue negative
    # W^1_ij joins unit j of the input to unit i of layer 1: the line of W^1_01 starts at the
    # second input unit (the lower one) and ends at the first unit of layer 1 (the top one)
    x, y = ax.lines[1].get_data()
    assert list(x) == [0, 1] and y[0] < 0 < y[1]
    labels = [t.get_text() for t in ax.texts]
    assert labels == ["input", "tanh", "identity"]
    saved_png(fig, tmp_path / "network.png")
