"""The figures every plot draws on (:mod:`chainrule.plotting.figures`): each a PNG as a notebook
cell's value, saved atomically as its suffix says, and no pyplot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

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
