"""Training curves and activation functions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from chainrule.plotting.figures import axes_for, new_figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_activations", "plot_loss", "plot_slopes"]


def _curve(values: ArrayLike, what: str) -> np.ndarray:
    curve = np.asarray(values, dtype=float)
    if curve.ndim != 1 or curve.size == 0:
        raise ValueError(f"{what} must be a non-empty 1-D sequence, got shape {curve.shape}")
    return curve


def _epochs(curve: np.ndarray, epochs: ArrayLike | None) -> np.ndarray:
    """The x values of ``curve``: ``epochs``, or ``1, 2, ...`` when there are none."""
    if epochs is None:
        return np.arange(1, curve.size + 1)
    x = _curve(epochs, "epochs")
    if x.size != curve.size:
        raise ValueError(f"epochs has {x.size} values for a curve of {curve.size}")
    return x


# -- training curves ---------------------------------------------------------------------------


def plot_loss(
    loss_curve: ArrayLike | Any,
    validation_scores: ArrayLike | None = None,
    validation_loss: ArrayLike | None = None,
    ax: Axes | None = None,
    epochs: ArrayLike | None = None,
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
    epochs : sequence of int, optional
        The epoch of each value (the x axis); ``1, 2, ...`` by default.

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
    fig, ax = axes_for(ax, (6.4, 4.8))
    handles = ax.plot(_epochs(loss, epochs), loss, color="C0", label="training loss")
    top = ax
    if validation_loss is not None and len(validation_loss):
        curve = _curve(validation_loss, "validation_loss")
        handles += ax.plot(
            _epochs(curve, epochs), curve, color="C1", ls="--", label="validation loss"
        )
    if validation_scores is not None and len(validation_scores):
        curve = _curve(validation_scores, "validation_scores")
        twin = ax.twinx()
        handles += twin.plot(
            _epochs(curve, epochs), curve, color="C2", ls=":", label="validation score"
        )
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
    fig = new_figure(figsize=(4.0 * len(acts), 3.6))
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


def plot_slopes(beta: float = 5.0, theta: float = 5.0, h: ArrayLike | None = None) -> Figure:
    """The seed's two slider plots: ``g(h) = 1 / (1 + exp(-beta h))`` and ``tanh(theta h)``,
    each with its derivative ``dg/dh = beta g (1 - g)``, ``theta (1 - tanh^2(theta h))``.

    Each derivative (dashed) has its own y axis on the right, so a steep slope (the peak of
    ``beta / 4`` or ``theta``) does not squash the curve, which stays on ``[0, 1]`` or
    ``[-1, 1]`` on the left.

    Parameters
    ----------
    beta, theta : float, default=5
        The slopes (the seed's sliders run from -1 to 25).
    h : array, default=np.linspace(-2, 2, 401)

    Returns
    -------
    matplotlib.figure.Figure
        Two panels, sigmoid and tanh; each ``fig.axes[i]`` holds the curve and its twin the
        derivative.
    """
    from chainrule.activations import slider_curves

    h = np.linspace(-2.0, 2.0, 401) if h is None else _curve(h, "h")
    c = slider_curves(beta, theta, h)  # g, dg/dh = beta g (1 - g), tanh, theta (1 - tanh^2)
    curves = [
        (
            rf"$g(h) = 1/(1 + e^{{-\beta h}})$, $\beta$ = {beta:g}",
            c["sigmoid"],
            (-0.05, 1.05),
            "g",
            "dg/dh",
            c["sigmoid_prime"],
        ),
        (
            rf"$\tanh(\theta h)$, $\theta$ = {theta:g}",
            c["tanh"],
            (-1.1, 1.1),
            "tanh",
            "d tanh/dh",
            c["tanh_prime"],
        ),
    ]
    fig = new_figure(figsize=(9.0, 3.6))
    for ax, (title, a, limits, name, slope_name, slope) in zip(
        fig.subplots(1, 2), curves, strict=True
    ):
        ax.plot(h, a, color="C0", label=name)
        ax.set_ylim(*limits)
        ax.set_ylabel(name, color="C0")
        twin = ax.twinx()
        twin.plot(h, slope, color="C1", ls="--", label=slope_name)
        twin.set_ylabel(slope_name, color="C1")
        ax.set_title(title)
        ax.set_xlabel("$h$")
        ax.grid(alpha=0.3)
    return fig
