"""Figures: each kind drawn, checked for its content, and saved as a PNG of the right size."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure
from matplotlib.image import imread
from sklearn.linear_model import LogisticRegression

import chainrule as cr
from chainrule import calculus as calc
from chainrule.plotting import (
    plot_activations,
    plot_decision_boundary,
    plot_loss,
    plot_network,
    plot_slopes,
    plot_weights,
    save_figure,
)

SRC = Path(cr.__file__).resolve().parents[1]
DPI = 40


def saved_png(fig: Figure, path: Path) -> np.ndarray:
    """Save ``fig`` as a PNG and read it back: (height, width, channels), figsize * dpi."""
    out = save_figure(fig, path, dpi=DPI)
    assert out == path
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = imread(path)
    width, height = fig.get_size_inches() * DPI
    assert image.shape[:2] == (round(height), round(width))
    assert image.std() > 0  # something was drawn
    assert os.listdir(path.parent) == [path.name]  # no temporary file left behind
    return image


def contour_sets(ax) -> list[ContourSet]:
    return [c for c in ax.collections if isinstance(c, ContourSet)]


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


# -- plot_decision_boundary --------------------------------------------------------------------


@pytest.fixture
def blobs():
    rng = np.random.default_rng(0)
    centres = np.array([[-2.0, -1.0], [2.0, 1.0], [0.0, 3.0]])
    y = np.repeat([0, 1, 2], 20)
    return centres[y] + rng.normal(scale=0.8, size=(60, 2)), y


def test_binary_probabilities_and_the_true_boundary(tmp_path, blobs):
    X, y = blobs[0][:40], blobs[1][:40]
    model = LogisticRegression().fit(X, y)
    fig = plot_decision_boundary(model, X, y, resolution=80)
    ax, colorbar = fig.axes
    assert ax.get_title() == "Decision boundary"
    assert colorbar.get_ylabel() == "P(y = 1)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["0", "1"]
    filled, line = contour_sets(ax)
    assert filled.filled and list(line.levels) == [0.5]
    # the drawn 0.5 level lies on the model's boundary w . x + b = 0
    vertices = np.concatenate(line.allsegs[0])
    margin = vertices @ model.coef_[0] + model.intercept_[0]
    spacing = (X.max() - X.min()) / 80
    assert len(vertices) > 10
    assert np.abs(margin).max() < np.linalg.norm(model.coef_) * spacing
    saved_png(fig, tmp_path / "boundary.png")


def test_multiclass_regions_and_string_labels(tmp_path, blobs):
    X, y = blobs
    labels = np.array(["ant", "bee", "cat"])[y]
    model = LogisticRegression().fit(X, labels)
    fig = plot_decision_boundary(model, X, labels, resolution=60)
    (ax,) = fig.axes  # regions, no colour bar
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["ant", "bee", "cat"]
    filled, *borders = contour_sets(ax)
    assert list(filled.levels) == [-0.5, 0.5, 1.5, 2.5]
    assert len(borders) == 3  # one outline per class
    # the borders run where the two most probable classes are equally probable
    vertices = np.concatenate([seg for b in borders for seg in b.allsegs[0]])
    top_two = np.sort(model.predict_proba(vertices), axis=1)[:, -2:]
    assert len(vertices) > 20
    assert np.abs(top_two[:, 1] - top_two[:, 0]).max() < 0.05
    # each class's points are drawn in its own colour, that of its region
    colours = [tuple(c.get_facecolor()[0]) for c in ax.collections if not isinstance(c, ContourSet)]
    assert len(set(colours)) == 3
    saved_png(fig, tmp_path / "regions.png")


def test_a_labelling_function_draws_its_boundary(blobs):
    X = blobs[0]

    def rule(G):
        return (G[:, 0] > 0.25).astype(int)

    fig = plot_decision_boundary(rule, X, (X[:, 0] > 0.25).astype(int), resolution=101)
    (ax,) = fig.axes
    _, left, right = contour_sets(ax)
    vertices = np.concatenate(left.allsegs[0] + right.allsegs[0])
    spacing = np.ptp(X[:, 0]) * 1.1 / 100
    assert np.abs(vertices[:, 0] - 0.25).max() <= spacing


def test_a_regression_function_draws_a_surface(blobs):
    X, _ = blobs
    fig = plot_decision_boundary(lambda G: G[:, 0] * G[:, 1], X, X[:, 0] * X[:, 1])
    ax, colorbar = fig.axes
    assert colorbar.get_ylabel() == "prediction"
    assert contour_sets(ax)[0].filled


@pytest.mark.parametrize("shape", [(10, 3), (10,), (10, 1)])
def test_decision_boundary_needs_two_features(shape):
    X = np.zeros(shape)
    with pytest.raises(ValueError, match="needs 2-D data"):
        plot_decision_boundary(lambda G: G[:, 0], X, np.zeros(10))


def test_decision_boundary_checks_y_and_the_model(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="y must have shape"):
        plot_decision_boundary(lambda G: G[:, 0], X, y[:5])
    with pytest.raises(TypeError, match="predict_proba or predict"):
        plot_decision_boundary(object(), X, y)


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


# -- figures show in a notebook ----------------------------------------------------------------


FIGURES = {
    "plot_loss": lambda: plot_loss([3.0, 2.0, 1.0]),
    "plot_decision_boundary": lambda: plot_decision_boundary(
        lambda G: (G[:, 0] > 0).astype(int), np.array([[-1.0, 0.0], [1.0, 1.0]]), np.array([0, 1])
    ),
    "plot_weights": lambda: plot_weights([np.eye(2)]),
    "plot_activations": lambda: plot_activations("tanh"),
    "plot_slopes": lambda: plot_slopes(),
    "plot_network": lambda: plot_network([np.eye(2)]),
    "calculus.plot_derivatives": lambda: calc.plot_derivatives("x**2", critical=False),
    "calculus.plot_contour": lambda: calc.plot_contour("x**2 + y**2", critical=False),
}


@pytest.mark.parametrize("name", FIGURES)
def test_every_figure_is_a_png_as_a_cells_value(name):
    """What IPython shows for a cell's value: a PNG, not ``<Figure size ...>`` text (the figures
    are made without pyplot, so the inline backend does not know them)."""
    formatters = pytest.importorskip("IPython.core.formatters")
    fig = FIGURES[name]()
    data, _ = formatters.DisplayFormatter().format(fig)
    assert data["image/png"][:8] == b"\x89PNG\r\n\x1a\n"
    from io import BytesIO

    image = imread(BytesIO(data["image/png"]))
    assert image.std() > 0  # something drawn


# -- save_figure -------------------------------------------------------------------------------


def test_save_figure_follows_the_suffix_and_is_atomic(tmp_path, monkeypatch):
    fig = plot_loss([2.0, 1.0])
    svg = save_figure(fig, tmp_path / "loss.svg")
    assert b"<svg" in svg.read_bytes()[:1000]
    with pytest.raises(ValueError, match="unknown figure format 'txt'"):
        save_figure(fig, tmp_path / "loss.txt")
    target = save_figure(fig, tmp_path / "loss")  # no suffix: PNG
    assert target.read_bytes()[:4] == b"\x89PNG"
    before = target.read_bytes()

    def broken(*args, **kwargs):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(fig, "savefig", broken)
    with pytest.raises(RuntimeError, match="renderer crashed"):
        save_figure(fig, target)
    assert target.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["loss", "loss.svg"]


def test_no_pyplot_and_a_lazy_matplotlib(tmp_path):
    code = (
        "import sys\n"
        "import chainrule.plotting as p\n"
        "assert 'matplotlib' not in sys.modules, 'imported at import time'\n"
        f"p.save_figure(p.plot_activations(), {str(tmp_path / 'a.png')!r})\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "a.png").stat().st_size > 1000
