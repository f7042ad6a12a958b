"""Weight matrices as heat maps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from chainrule.plotting.figures import new_figure, root_figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_weights", "weight_matrices"]


# -- weights -----------------------------------------------------------------------------------


def weight_matrices(source: Any) -> list[np.ndarray]:
    """``[W^1, ..., W^L]`` from a list, a Network, a fitted estimator or scikit-learn's MLP."""
    net = getattr(source, "network_", None)
    if net is not None:
        source = net
    if hasattr(source, "W"):
        mats = list(source.W)
    elif hasattr(source, "coefs_"):
        mats = [np.asarray(c).T for c in source.coefs_]  # scikit-learn stores W^mT
    elif isinstance(source, np.ndarray) and source.ndim == 2:
        mats = [source]
    elif isinstance(source, Sequence | np.ndarray):
        mats = list(source)
    else:
        raise TypeError(
            "plot_weights expects a list of weight matrices, a chainrule Network or a fitted "
            f"estimator, got {type(source).__name__}"
        )
    mats = [np.asarray(W, dtype=float) for W in mats]
    if not mats or any(W.ndim != 2 for W in mats):
        raise ValueError(f"expected 2-D weight matrices, got shapes {[W.shape for W in mats]}")
    return mats


def plot_weights(
    W_list: Sequence[ArrayLike] | Any, ax: Axes | Sequence[Axes] | None = None
) -> Figure:
    """Each weight matrix ``W^m``, of shape ``(N^m, N^(m-1))``, as a heat map.

    Parameters
    ----------
    W_list : sequence of 2-D arrays, Network or fitted estimator
        ``[W^1, ..., W^L]``, or anything holding them (``network_``, ``W`` or ``coefs_``).
    ax : Axes or sequence of Axes, optional
        One axes per matrix; a new figure with one subplot per layer by default.

    Returns
    -------
    matplotlib.figure.Figure
        Row ``i``, column ``j`` of panel ``m`` is the weight from unit ``j`` of layer ``m - 1``
        to unit ``i`` of layer ``m``; a diverging colour map centred at 0 (red positive, blue
        negative), symmetric about 0 in each panel.
    """
    from matplotlib.colors import Normalize
    from matplotlib.ticker import MaxNLocator

    mats = weight_matrices(W_list)
    if ax is None:
        fig = new_figure(figsize=(3.6 * len(mats), 3.4))
        axes = list(fig.subplots(1, len(mats), squeeze=False)[0])
    else:
        axes = list(ax) if isinstance(ax, Sequence | np.ndarray) else [ax]
        if len(axes) != len(mats):
            raise ValueError(f"got {len(axes)} axes for {len(mats)} weight matrices")
        fig = root_figure(axes[0])
    for m, (W, panel) in enumerate(zip(mats, axes, strict=True), start=1):
        extent = float(np.nanmax(np.abs(W))) if W.size else 0.0
        extent = extent if np.isfinite(extent) and extent > 0 else 1.0
        image = panel.imshow(
            W,
            cmap="RdBu_r",
            norm=Normalize(-extent, extent),  # 0 sits in the middle of the colour map
            aspect="auto",
            interpolation="nearest",
        )
        panel.set_title(f"$W^{{{m}}}$ {W.shape}")
        panel.xaxis.set_major_locator(MaxNLocator(integer=True))  # units are whole numbers
        panel.yaxis.set_major_locator(MaxNLocator(integer=True))
        panel.set_xlabel(f"unit of layer {m - 1}")
        panel.set_ylabel(f"unit of layer {m}")
        fig.colorbar(image, ax=panel)
    return fig
