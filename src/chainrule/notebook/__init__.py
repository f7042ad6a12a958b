"""Notebook widgets: the seed's beta and theta sliders, and the playground training in the kernel.

Needs the ``jupyter`` extra (``pip install "chainrule[jupyter]"``: ipywidgets); in JupyterLab or
Jupyter Notebook 7 the widgets render with no further set-up. Leave a widget as a cell's value::

    from chainrule.notebook import Playground, SlopeSliders
    SlopeSliders()          # g(h) = 1 / (1 + exp(-beta h)) and tanh(theta h), with derivatives
    Playground()            # play, pause, step; learning rate, layers, activation, data set

The playground trains in the kernel itself, between the kernel's other work (an asyncio task
on the kernel's event loop), so the notebook stays usable while it plays; its settings and
training are :class:`chainrule.playground.session.Session`'s, the browser playground's.
"""

from __future__ import annotations

try:
    import ipywidgets  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "chainrule.notebook needs ipywidgets: pip install 'chainrule[jupyter]'"
    ) from exc

from chainrule.notebook.playground import Playground
from chainrule.notebook.sliders import SlopeSliders

__all__ = ["Playground", "SlopeSliders"]
