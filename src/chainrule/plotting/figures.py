"""The figures every plot draws on: made without pyplot (shown in a notebook all the same),
saved through the safe writer."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["axes_for", "new_figure", "root_figure", "save_figure"]


def new_figure(**kwargs) -> Figure:
    """A new figure, not registered with pyplot, shown as a PNG as a notebook cell's value."""
    from chainrule._figures import new_figure as notebook_figure

    return notebook_figure(**kwargs)


def root_figure(ax: Axes) -> Figure:
    """The top-level figure an axes belongs to (through any subfigures)."""
    fig = ax.figure
    while getattr(fig, "figure", fig) is not fig:
        fig = fig.figure
    return fig


def axes_for(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is None:
        fig = new_figure(figsize=figsize)
        return fig, fig.add_subplot()
    return root_figure(ax), ax


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
