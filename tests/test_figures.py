"""The figure class every plot returns (:mod:`chainrule._figures`): matplotlib's, made without
pyplot, shown as a PNG as a notebook cell's value."""

from __future__ import annotations

from io import BytesIO

import numpy as np
import pytest
from matplotlib.image import imread

from chainrule import calculus as calc
from chainrule._figures import NotebookFigure, new_figure, png
from chainrule.plotting import (
    plot_activations,
    plot_decision_boundary,
    plot_loss,
    plot_network,
    plot_slopes,
    plot_weights,
)

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
    image = imread(BytesIO(data["image/png"]))
    assert image.std() > 0  # something drawn


def test_a_new_figure_is_a_notebook_figure_laid_out_unless_told():
    fig = new_figure(figsize=(2, 1))
    assert isinstance(fig, NotebookFigure) and fig.get_layout_engine() is not None
    assert type(fig.get_layout_engine()).__name__ == "ConstrainedLayoutEngine"
    assert new_figure(layout=None).get_layout_engine() is None


def test_png_is_the_whole_figure_or_what_is_drawn():
    """``tight=False``: the whole canvas, ``figsize * dpi`` pixels; ``tight``: cropped to what
    is drawn (one small text near a corner: far fewer pixels)."""
    fig = new_figure(figsize=(4, 3), layout=None)
    fig.text(0.1, 0.1, "z")
    whole = imread(BytesIO(png(fig, tight=False, dpi=50)))
    assert whole.shape[:2] == (150, 200)
    cropped = imread(BytesIO(png(fig, dpi=50)))
    assert cropped.shape[0] < 75 and cropped.shape[1] < 100
    assert fig._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"
