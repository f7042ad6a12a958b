"""Figures: training curves, decision boundaries, weight matrices and activations.

matplotlib (a dependency of chainrule) is imported only when a function here is called. Every
function draws on a :class:`matplotlib.figure.Figure` directly, never through ``pyplot``, so no
global figure state and no GUI backend are involved: save a figure with :func:`save_figure` (or
``fig.savefig``), or show one in a notebook by leaving it as a cell's value (it is a PNG there,
in a fresh kernel too; the notebook widgets are in :mod:`chainrule.notebook`).

Examples
--------
>>> fig = plot_activations(("tanh", "relu"))
>>> [ax.get_title() for ax in fig.axes]
['tanh', 'relu']
>>> len(fig.axes[0].lines)  # a(z) and da/dz
2
"""

from chainrule.plotting.boundary import plot_decision_boundary
from chainrule.plotting.curves import plot_activations, plot_loss, plot_slopes
from chainrule.plotting.figures import save_figure
from chainrule.plotting.network import plot_network
from chainrule.plotting.weights import plot_weights

__all__ = [
    "plot_activations",
    "plot_decision_boundary",
    "plot_loss",
    "plot_network",
    "plot_slopes",
    "plot_weights",
    "save_figure",
]
