"""Decision boundaries of a two-feature model."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from chainrule.plotting.figures import axes_for, root_figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_decision_boundary"]


# -- decision boundaries -----------------------------------------------------------------------


def plot_decision_boundary(
    predict_fn_or_model: Callable[[np.ndarray], ArrayLike] | Any,
    X: ArrayLike,
    y: ArrayLike,
    ax: Axes | None = None,
    resolution: int = 200,
) -> Figure:
    """What a classifier predicts over the plane of two features, with the data on top.

    Parameters
    ----------
    predict_fn_or_model : estimator or callable
        A model with ``predict_proba`` (filled contours of the probability of the positive
        class for two classes, of the predicted class otherwise, with the 0.5 or class
        boundaries drawn), or with ``predict``, or a function of an ``(n, 2)`` array returning
        labels (regions per class), values (a filled contour plot) or an ``(n, k)`` array of
        class probabilities.
    X : array of shape (n_samples, 2)
    y : array of shape (n_samples,)
        The points' labels (or target values), used for their colours.
    ax : matplotlib Axes, optional
    resolution : int, default=200
        Grid points along each axis.

    Returns
    -------
    matplotlib.figure.Figure
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(
            f"plot_decision_boundary needs 2-D data, X of shape (n_samples, 2); got {X.shape}"
        )
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},), got {y.shape}")
    if int(resolution) < 2:
        raise ValueError(f"resolution must be at least 2, got {resolution}")
    model = predict_fn_or_model
    # the grid: the data's bounding box and 5% on every side
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = np.where(hi > lo, 0.05 * (hi - lo), 0.5)
    g0, g1 = (np.linspace(lo[i] - pad[i], hi[i] + pad[i], int(resolution)) for i in (0, 1))
    xx, yy = np.meshgrid(g0, g1)
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    if hasattr(model, "predict_proba"):
        out = np.asarray(model.predict_proba(grid))
    elif hasattr(model, "predict"):
        out = np.asarray(model.predict(grid))
    elif callable(model):
        out = np.asarray(model(grid))
    else:
        raise TypeError("expected a model with predict_proba or predict, or a function")

    fig, ax = axes_for(ax, (6.4, 4.8))
    fitted = getattr(model, "classes_", None)
    if out.ndim == 2 and out.shape[1] > 1:  # class probabilities
        classes = np.asarray(fitted) if fitted is not None else np.arange(out.shape[1])
        _draw_probabilities(ax, xx, yy, out, classes, fig)
    else:
        out = out.reshape(-1)
        if out.dtype.kind == "f" and (
            y.dtype.kind not in "biuf" or not np.isin(out, np.unique(y)).all()
        ):
            _draw_values(ax, xx, yy, out, X, y, fig)  # a regressor's surface
            return _label_plane(ax)
        classes = np.asarray(fitted) if fitted is not None else np.unique(np.r_[y, out])
        _draw_regions(ax, xx, yy, _class_index(out, classes), len(classes))
    _scatter_classes(ax, X, y, classes)
    return _label_plane(ax)


def _class_index(labels: np.ndarray, classes: np.ndarray) -> np.ndarray:
    index = {c: i for i, c in enumerate(classes.tolist())}
    return np.array([index.get(c, -1) for c in labels.tolist()])


def _class_colors(k: int):
    from matplotlib import colormaps

    if k == 2:  # the two ends of the diverging map the binary probabilities use
        return [colormaps["RdBu_r"](0.1), colormaps["RdBu_r"](0.9)]
    cmap = colormaps["tab10" if k <= 10 else "tab20" if k <= 20 else "turbo"]
    return [cmap(i if k <= 20 else i / (k - 1)) for i in range(k)]


def _draw_probabilities(ax, xx, yy, proba, classes, fig) -> None:
    k = proba.shape[1]
    if k == 2:
        # the probability of the positive class, with its 0.5 level: the decision boundary
        p = proba[:, 1].reshape(xx.shape)
        filled = ax.contourf(
            xx, yy, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", vmin=0, vmax=1, alpha=0.8
        )
        if p.min() < 0.5 < p.max():
            ax.contour(xx, yy, p, levels=[0.5], colors="k", linewidths=1.5)
        fig.colorbar(filled, ax=ax, label=f"P(y = {classes[1]})")
    else:
        _draw_regions(ax, xx, yy, proba.argmax(axis=1), k, proba)


def _draw_regions(ax, xx, yy, index, k, proba=None) -> None:
    """Filled regions of the predicted class, each outlined where another class takes over.

    With probabilities, class ``i``'s border is where ``p_i`` equals the largest other
    ``p_j`` (a smooth curve); with labels only, it is the edge of the grid cells it wins.
    """
    from matplotlib.colors import ListedColormap

    cmap = ListedColormap(_class_colors(k))
    ax.contourf(
        xx, yy, index.reshape(xx.shape), levels=np.arange(k + 1) - 0.5, cmap=cmap, alpha=0.35
    )
    for i in np.unique(index):
        if proba is not None:
            margin = proba[:, i] - np.delete(proba, i, axis=1).max(axis=1)
        else:
            margin = (index == i) - 0.5
        margin = margin.reshape(xx.shape)
        if margin.min() < 0 < margin.max():
            ax.contour(xx, yy, margin, levels=[0.0], colors="k", linewidths=0.8)


def _draw_values(ax, xx, yy, values, X, y, fig) -> None:
    surface = ax.contourf(xx, yy, values.reshape(xx.shape), levels=20, cmap="viridis")
    fig.colorbar(surface, ax=ax, label="prediction")
    if y.dtype.kind in "biuf":
        ax.scatter(X[:, 0], X[:, 1], c=y, cmap="viridis", norm=surface.norm, edgecolors="k")
    else:
        ax.scatter(X[:, 0], X[:, 1], color="w", edgecolors="k")


def _scatter_classes(ax, X, y, classes) -> None:
    """The points, one colour per class (the colours of the regions), with a legend."""
    present = np.unique(y)
    known = classes.tolist()
    extra = [c for c in present.tolist() if c not in known]
    colors = _class_colors(len(known) + len(extra))
    for i, c in enumerate(known + extra):
        mask = y == c
        if mask.any():
            ax.scatter(X[mask, 0], X[mask, 1], color=colors[i], edgecolors="k", label=str(c))
    ax.legend(title="class", loc="best")


def _label_plane(ax) -> Figure:
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title("Decision boundary")
    return root_figure(ax)
