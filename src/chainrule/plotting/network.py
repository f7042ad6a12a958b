"""A network as a picture: its units in columns, its weights as lines."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from chainrule.plotting.figures import axes_for
from chainrule.plotting.weights import weight_matrices

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_network"]


def _unit_heights(n: int) -> np.ndarray:
    """``n`` units spread evenly around 0, one apart."""
    return np.arange(n)[::-1] - (n - 1) / 2


def plot_network(source: Any, ax: Axes | None = None) -> Figure:
    """Layer ``m``'s units in column ``m``; ``W^m_ij`` a line from unit ``j`` of layer ``m - 1``
    to unit ``i`` of layer ``m``, red for a positive weight and blue for a negative one, as wide
    as ``|W^m_ij|`` is to the largest ``|W|`` of the network.

    Parameters
    ----------
    source : Network, fitted estimator or list of weight matrices
        As :func:`plot_weights` takes it; a network's activations label its layers.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        One line per weight (``ax.lines``, layer by layer, ``W^m`` row by row) and one scatter
        of units per layer.

    Examples
    --------
    >>> import chainrule as cr
    >>> fig = plot_network(cr.Network([2, 3, 1], random_state=0))
    >>> len(fig.axes[0].lines)  # 2*3 + 3*1 weights
    9
    """
    from matplotlib import colormaps

    mats = weight_matrices(source)
    sizes = [mats[0].shape[1], *(W.shape[0] for W in mats)]
    biggest = max(float(np.abs(W).max()) for W in mats) or 1.0
    fig, ax = axes_for(ax, (1.6 * len(sizes) + 1, 3.6))
    cmap = colormaps["RdBu_r"]
    for m, W in enumerate(mats, 1):
        y_in, y_out = _unit_heights(sizes[m - 1]), _unit_heights(sizes[m])
        for i, j in np.ndindex(W.shape):
            ax.plot(
                [m - 1, m],
                [y_in[j], y_out[i]],
                color=cmap(0.5 + 0.5 * W[i, j] / biggest),
                lw=0.5 + 3.5 * abs(W[i, j]) / biggest,
                zorder=1,
            )
    net = getattr(source, "network_", source)
    names = [a.name for a in getattr(net, "activations", [])]
    labels = ["input", *(names or [f"layer {m}" for m in range(1, len(sizes))])]
    for m, (n, label) in enumerate(zip(sizes, labels, strict=True)):
        ax.scatter(np.full(n, m), _unit_heights(n), s=220, color="w", edgecolors="k", zorder=2)
        ax.annotate(label, (m, -max(sizes) / 2 - 0.2), ha="center", va="top", fontsize=8)
    ax.set_xlim(-0.5, len(sizes) - 0.5)
    ax.set_ylim(-max(sizes) / 2 - 0.8, max(sizes) / 2)
    ax.set_axis_off()
    ax.set_title(f"Network {' - '.join(map(str, sizes))}")
    return fig
