"""What the figure tests share (tests/plotting/): a figure saved as a PNG and read back."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.image import imread

from chainrule.plotting import save_figure

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
