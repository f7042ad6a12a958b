"""Weight matrices as heat maps (:mod:`chainrule.plotting.weights`)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.figure import Figure

import chainrule as cr
from chainrule.plotting import (
    plot_weights,
)

from pictures import saved_png

# -- plot_weights ------------------------------------------------------------------------------


def test_plot_weights_of_a_network(tmp_path):
    net = cr.Network([4, 8, 3], activation="tanh", random_state=0)
    fig = plot_weights(net)
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 2 and len(fig.axes) == 4  # and a colour bar each
    assert [ax.get_title() for ax in panels] == ["$W^{1}$ (8, 4)", "$W^{2}$ (3, 8)"]
    for ax, W in zip(panels, net.W, strict=True):
        image = ax.images[0]
        assert np.array_equal(image.get_array(), W)
        assert image.norm.vmin == -image.norm.vmax == -np.abs(W).max()  # centred at 0
        assert image.get_cmap().name == "RdBu_r"
    saved_png(fig, tmp_path / "weights.png")


def test_plot_weights_accepts_estimators_and_lists():
    net = cr.Network([2, 5, 1], random_state=1)
    fitted = SimpleNamespace(network_=net)
    assert [ax.images[0].get_array().shape for ax in plot_weights(fitted).axes if ax.images] == [
        (5, 2),
        (1, 5),
    ]
    sklearn_like = SimpleNamespace(coefs_=[np.ones((2, 5)), np.ones((5, 1))])  # W^mT
    titles = [ax.get_title() for ax in plot_weights(sklearn_like).axes if ax.images]
    assert titles == ["$W^{1}$ (5, 2)", "$W^{2}$ (1, 5)"]
    fig = plot_weights([np.zeros((2, 2))])  # an all-zero matrix still gets a centred scale
    assert fig.axes[0].images[0].norm.vmin == -1.0


def test_plot_weights_draws_on_given_axes_and_checks_them():
    fig = Figure()
    axes = fig.subplots(1, 2)
    assert plot_weights([np.eye(2), np.ones((1, 2))], ax=axes) is fig
    with pytest.raises(ValueError, match="got 1 axes for 2"):
        plot_weights([np.eye(2), np.ones((1, 2))], ax=axes[0])
    with pytest.raises(ValueError, match="2-D weight matrices"):
        plot_weights([np.ones(3)])
    with pytest.raises(TypeError, match="plot_weights expects"):
        plot_weights(42)
