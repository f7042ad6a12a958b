"""The figure class every chainrule plot returns: matplotlib's, made without pyplot, that shows
itself in a notebook.

A :class:`matplotlib.figure.Figure` built without ``pyplot`` is not known to IPython's inline
backend, so as a cell's value it shows as ``<Figure size 640x480 with 1 Axes>`` text. This
subclass gives IPython a PNG (``_repr_png_``), so the picture is the cell's value in a fresh
kernel, with or without ``%matplotlib inline``. Imported only when a plot is drawn (it imports
matplotlib).
"""

from __future__ import annotations

import io
from typing import Any

from matplotlib.figure import Figure

__all__ = ["NotebookFigure", "new_figure", "png"]


def png(fig: Figure, tight: bool = True, dpi: float | None = None) -> bytes:
    """``fig`` as PNG bytes; ``tight``: cropped to what is drawn (as the inline backend does,
    at the price of drawing twice)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight" if tight else None, dpi=dpi)
    return buffer.getvalue()


class NotebookFigure(Figure):
    """A :class:`matplotlib.figure.Figure` that IPython displays as a PNG."""

    def _repr_png_(self) -> bytes:
        return png(self)


def new_figure(**kwargs: Any) -> NotebookFigure:
    """A new figure (a constrained layout unless ``layout`` says otherwise), not registered
    with pyplot."""
    kwargs.setdefault("layout", "constrained")
    return NotebookFigure(**kwargs)
