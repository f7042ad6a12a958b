"""Decision boundaries of a two-feature model (:mod:`chainrule.plotting.boundary`)."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.contour import ContourSet
from sklearn.linear_model import LogisticRegression

from chainrule.plotting import (
    plot_decision_boundary,
)

from pictures import saved_png


def contour_sets(ax) -> list[ContourSet]:
    return [c for c in ax.collections if isinstance(c, ContourSet)]


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
