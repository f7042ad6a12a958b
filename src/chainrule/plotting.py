"""Figures: training curves, decision boundaries, weight matrices and activations.

matplotlib is an optional extra (``pip install "chainrule[plot]"``); it is imported only when a
function here is called. Every function draws on :class:`matplotlib.figure.Figure` objects
directly, never through ``pyplot``, so no global figure state and no GUI backend are involved:
save a figure with :func:`save_figure` (or ``fig.savefig``), or show one in a notebook by
leaving it as a cell's value.

Examples
--------
>>> fig = plot_activations(("tanh", "relu"))
>>> [ax.get_title() for ax in fig.axes]
['tanh', 'relu']
>>> len(fig.axes[0].lines)  # a(z) and da/dz
2
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "plot_activations",
    "plot_decision_boundary",
    "plot_loss",
    "plot_weights",
    "save_figure",
]


def _figure(**kwargs) -> Figure:
    """A new figure, not registered with pyplot."""
    try:
        from matplotlib.figure import Figure
    except ImportError as e:  # pragma: no cover (matplotlib is installed for the tests)
        raise ImportError("chainrule's plots need matplotlib: pip install 'chainrule[plot]'") from e
    return Figure(layout="constrained", **kwargs)


def _root_figure(ax: Axes) -> Figure:
    """The top-level figure an axes belongs to (through any subfigures)."""
    fig = ax.figure
    while getattr(fig, "figure", fig) is not fig:
        fig = fig.figure
    return fig


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is None:
        fig = _figure(figsize=figsize)
        return fig, fig.add_subplot()
    return _root_figure(ax), ax


def _curve(values: ArrayLike, what: str) -> np.ndarray:
    curve = np.asarray(values, dtype=float)
    if curve.ndim != 1 or curve.size == 0:
        raise ValueError(f"{what} must be a non-empty 1-D sequence, got shape {curve.shape}")
    return curve


# -- training curves ---------------------------------------------------------------------------


def plot_loss(
    loss_curve: ArrayLike | Any,
    validation_scores: ArrayLike | None = None,
    validation_loss: ArrayLike | None = None,
    ax: Axes | None = None,
) -> Figure:
    """The training loss per epoch, with the validation curves.

    Parameters
    ----------
    loss_curve : sequence of float or fitted estimator
        The training loss after each epoch, or an estimator with ``loss_curve_`` (its
        ``validation_scores_`` and ``validation_loss_curve_`` are used when present).
    validation_scores : sequence of float, optional
        A validation score per epoch (accuracy, R^2...), drawn against a second y axis.
    validation_loss : sequence of float, optional
        The validation loss per epoch, drawn on the loss axis (it is in the loss's units).
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if hasattr(loss_curve, "loss_curve_"):
        model = loss_curve
        loss_curve = model.loss_curve_
        if validation_scores is None:
            validation_scores = getattr(model, "validation_scores_", None)
        if validation_loss is None:
            validation_loss = getattr(model, "validation_loss_curve_", None)
    loss = _curve(loss_curve, "loss_curve")
    fig, ax = _axes(ax, (6.4, 4.8))
    handles = ax.plot(np.arange(1, loss.size + 1), loss, color="C0", label="training loss")
    top = ax
    if validation_loss is not None and len(validation_loss):
        curve = _curve(validation_loss, "validation_loss")
        epochs = np.arange(1, curve.size + 1)
        handles += ax.plot(epochs, curve, color="C1", ls="--", label="validation loss")
    if validation_scores is not None and len(validation_scores):
        curve = _curve(validation_scores, "validation_scores")
        twin = ax.twinx()
        epochs = np.arange(1, curve.size + 1)
        handles += twin.plot(epochs, curve, color="C2", ls=":", label="validation score")
        twin.set_ylabel("validation score")
        top = twin
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title("Training loss")
    # one legend for both y axes, on the axes drawn last so that no curve covers it; "best"
    # sees only that axes' curves, and a falling loss with a rising score leaves the right free
    top.legend(handles=handles, loc="best" if top is ax else "center right")
    return fig


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

    fig, ax = _axes(ax, (6.4, 4.8))
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
    return _root_figure(ax)


# -- weights -----------------------------------------------------------------------------------


def _weight_matrices(source: Any) -> list[np.ndarray]:
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

    mats = _weight_matrices(W_list)
    if ax is None:
        fig = _figure(figsize=(3.6 * len(mats), 3.4))
        axes = list(fig.subplots(1, len(mats), squeeze=False)[0])
    else:
        axes = list(ax) if isinstance(ax, Sequence | np.ndarray) else [ax]
        if len(axes) != len(mats):
            raise ValueError(f"got {len(axes)} axes for {len(mats)} weight matrices")
        fig = _root_figure(axes[0])
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


# -- activations -------------------------------------------------------------------------------


def plot_activations(
    names: str | Sequence[str] = ("sigmoid", "tanh", "relu"),
    beta: float | Sequence[float] = (1, 5),
    z: ArrayLike | None = None,
) -> Figure:
    """Each activation ``a = sigma(z)`` (solid) and its derivative ``da/dz`` (dashed).

    Parameters
    ----------
    names : str or sequence of str
        Activation names (built in or registered); ``softmax``, which is not elementwise, is
        skipped.
    beta : float or sequence of float, default=(1, 5)
        The sigmoid's slopes: one pair of curves ``1 / (1 + exp(-beta z))`` per value.
    z : array, default=np.linspace(-4, 4, 401)

    Returns
    -------
    matplotlib.figure.Figure
        One panel per activation.
    """
    from chainrule.activations import Sigmoid, get_activation

    z = np.linspace(-4.0, 4.0, 401) if z is None else np.asarray(z, dtype=float)
    if z.ndim != 1 or z.size < 2:
        raise ValueError(f"z must be a 1-D array of at least 2 points, got shape {z.shape}")
    names = [names] if isinstance(names, str) else list(names)
    betas = [float(b) for b in np.atleast_1d(beta)]
    acts = [(name, get_activation(name)) for name in names]
    acts = [(name, act) for name, act in acts if act.name != "softmax"]
    if not acts:
        raise ValueError("nothing to plot: softmax is not an elementwise activation")
    fig = _figure(figsize=(4.0 * len(acts), 3.6))
    for panel, (name, act) in zip(fig.subplots(1, len(acts), squeeze=False)[0], acts, strict=True):
        if isinstance(act, Sigmoid):
            variants = [(Sigmoid(b), rf", $\beta$ = {b:g}") for b in betas]
            panel.set_title(rf"{name}  $1 / (1 + e^{{-\beta z}})$")
        else:
            variants = [(act, "")]
            panel.set_title(name)
        for i, (sigma, suffix) in enumerate(variants):
            a = sigma(z)
            panel.plot(z, a, color=f"C{i}", label=rf"$\sigma(z)${suffix}")
            panel.plot(z, sigma.prime(z, a), color=f"C{i}", ls="--", label=rf"$\sigma'(z)${suffix}")
        panel.set_xlabel("$z$")
        panel.grid(alpha=0.3)
        panel.legend(fontsize="small", loc="best")
    return fig


# -- saving ------------------------------------------------------------------------------------


def save_figure(fig: Figure, path: str | os.PathLike, dpi: float = 100) -> Path:
    """Write ``fig`` to ``path`` safely; returns the path.

    As a model file (:func:`chainrule.persistence.atomic_write`): a temporary file, then a
    rename, so the target is the old file or the new one; only regular files are written (a
    directory, device, FIFO or socket is refused, a symbolic link followed) and an existing
    file keeps its mode. The format follows the suffix (``.png``, ``.svg``, ``.pdf``...); PNG
    when there is none. A PNG is ``figsize * dpi`` pixels.
    """
    from chainrule.persistence.atomic import atomic_write

    path = Path(path)
    fmt = path.suffix[1:].lower() or "png"
    supported = fig.canvas.get_supported_filetypes()
    if fmt not in supported:
        raise ValueError(f"unknown figure format {fmt!r}; use one of {sorted(supported)}")
    with atomic_write(path) as f:
        fig.savefig(f, format=fmt, dpi=dpi)
    return path
