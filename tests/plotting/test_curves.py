"""Training curves and activation functions (:mod:`chainrule.plotting.curves`): each drawn,
checked for its content."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.figure import Figure

from chainrule.plotting import (
    plot_activations,
    plot_loss,
    plot_slopes,
)

from pictures import saved_png

# -- plot_loss ---------------------------------------------------------------------------------


def test_plot_loss_draws_training_and_validation_curves(tmp_path):
    loss = [1.0, 0.6, 0.4, 0.35, 0.3]
    fig = plot_loss(loss, validation_scores=[0.5, 0.7, 0.8, 0.82, 0.85], validation_loss=loss[::-1])
    ax, twin = fig.axes
    assert ax.get_title() == "Training loss"
    assert (ax.get_xlabel(), ax.get_ylabel(), twin.get_ylabel()) == (
        "epoch",
        "loss",
        "validation score",
    )
    assert [line.get_label() for line in ax.lines] == ["training loss", "validation loss"]
    assert [line.get_label() for line in twin.lines] == ["validation score"]
    assert np.array_equal(ax.lines[0].get_xdata(), [1, 2, 3, 4, 5])  # epochs count from 1
    assert np.array_equal(ax.lines[0].get_ydata(), loss)
    assert ax.get_legend() is None  # the legend sits on the twin, which is drawn on top
    legend = [t.get_text() for t in twin.get_legend().get_texts()]
    assert legend == ["training loss", "validation loss", "validation score"]
    saved_png(fig, tmp_path / "loss.png")


def test_plot_loss_reads_a_fitted_estimator(tmp_path):
    model = SimpleNamespace(loss_curve_=[3.0, 2.0, 1.5], validation_scores_=[0.1, 0.5, 0.6])
    fig = plot_loss(model)
    assert len(fig.axes) == 2
    assert np.array_equal(fig.axes[1].lines[0].get_ydata(), [0.1, 0.5, 0.6])
    bare = plot_loss(SimpleNamespace(loss_curve_=[3.0, 2.0], validation_scores_=None))
    assert len(bare.axes) == 1 and len(bare.axes[0].lines) == 1
    saved_png(fig, tmp_path / "loss.png")


def test_plot_loss_draws_on_given_axes():
    fig = Figure()
    left, right = fig.subplots(1, 2)
    assert plot_loss([1.0, 0.5], ax=right) is fig
    assert len(right.lines) == 1 and len(left.lines) == 0


def test_plot_loss_at_given_epochs():
    fig = plot_loss([3.0, 2.0, 1.5], validation_loss=[3.1, 2.2, 1.9], epochs=[0, 10, 30])
    (ax,) = fig.axes
    for line in ax.lines:
        assert np.array_equal(line.get_xdata(), [0, 10, 30])
    with pytest.raises(ValueError, match="epochs has 2 values for a curve of 3"):
        plot_loss([3.0, 2.0, 1.5], epochs=[0, 1])


@pytest.mark.parametrize("bad", [[], [[1.0, 2.0]]])
def test_plot_loss_refuses_a_non_curve(bad):
    with pytest.raises(ValueError, match="non-empty 1-D"):
        plot_loss(bad)


# -- plot_activations --------------------------------------------------------------------------


def test_plot_activations_draws_each_function_and_derivative(tmp_path):
    fig = plot_activations()
    sigmoid, tanh, relu = fig.axes
    assert sigmoid.get_title().startswith("sigmoid")
    assert (tanh.get_title(), relu.get_title()) == ("tanh", "relu")
    assert (len(sigmoid.lines), len(tanh.lines), len(relu.lines)) == (4, 2, 2)
    z = sigmoid.lines[2].get_xdata()
    assert np.array_equal(z, np.linspace(-4, 4, 401))
    a5 = 1 / (1 + np.exp(-5 * z))  # the seed's logistic with beta = 5
    assert np.allclose(sigmoid.lines[2].get_ydata(), a5)
    assert np.allclose(sigmoid.lines[3].get_ydata(), 5 * a5 * (1 - a5))
    assert sigmoid.lines[3].get_linestyle() == "--"
    assert np.array_equal(relu.lines[1].get_ydata(), (z > 0).astype(float))  # ReLU'(0) = 0
    assert np.allclose(tanh.lines[1].get_ydata(), 1 - np.tanh(z) ** 2)
    saved_png(fig, tmp_path / "activations.png")


def test_plot_activations_options():
    fig = plot_activations(["softmax", "softplus", "logistic"], beta=2.0, z=[-1.0, 0.0, 1.0])
    assert len(fig.axes) == 2  # softmax skipped
    logistic = fig.axes[1]
    assert len(logistic.lines) == 2
    assert np.allclose(logistic.lines[0].get_ydata(), 1 / (1 + np.exp(-2 * np.array([-1, 0, 1]))))
    with pytest.raises(ValueError, match="softmax is not an elementwise"):
        plot_activations("softmax")
    with pytest.raises(ValueError, match="unknown activation"):
        plot_activations("nope")


# -- plot_slopes: the seed's beta and theta sliders ---------------------------------------------


def test_plot_slopes_draws_the_seeds_curves_and_their_derivatives(tmp_path):
    fig = plot_slopes(beta=5, theta=2)
    sigmoid, tanh, sigmoid_slope, tanh_slope = fig.axes  # the two panels, then their twins
    h = sigmoid.lines[0].get_xdata()
    assert np.array_equal(h, np.linspace(-2, 2, 401))
    g = 1 / (1 + np.exp(-5 * h))  # the seed's logistic(h, beta)
    assert np.allclose(sigmoid.lines[0].get_ydata(), g)
    assert np.allclose(sigmoid_slope.lines[0].get_ydata(), 5 * g * (1 - g))  # beta g (1 - g)
    t = np.tanh(2 * h)  # the seed's hyperbolic_tangent(h * theta)
    assert np.allclose(tanh.lines[0].get_ydata(), t)
    assert np.allclose(tanh_slope.lines[0].get_ydata(), 2 * (1 - t**2))  # theta (1 - tanh^2)
    assert "5" in sigmoid.get_title() and "2" in tanh.get_title()
    saved_png(fig, tmp_path / "slopes.png")


def test_a_steep_slope_does_not_squash_the_curve():
    """At theta = 25 the derivative peaks at 25 (the issue's squashed tanh): it has its own
    axis, and the curve's axis still spans [-1, 1] with a margin, not [-1, 25]."""
    fig = plot_slopes(beta=25, theta=25)
    sigmoid, tanh, sigmoid_slope, tanh_slope = fig.axes
    assert tanh.get_ylim() == (-1.1, 1.1) and sigmoid.get_ylim() == (-0.05, 1.05)
    assert tanh_slope.get_ylim()[1] >= 25 and sigmoid_slope.get_ylim()[1] >= 25 / 4
    assert tanh_slope.lines[0].get_ydata().max() == pytest.approx(25)
    assert not tanh.lines[0].get_ydata().max() > 1  # the curve is on its own axis
