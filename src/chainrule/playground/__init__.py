"""The playground: train a small network in the browser and watch backpropagation happen.

``chainrule playground`` (or :func:`serve`) starts a local web application: training runs in
chainrule's engine on the server and streams over a WebSocket to a page that draws the data,
the decision boundary, every neuron, the weights and gradients, the losses, and one sample's
derivation with the numbers plugged in. Needs the ``playground`` extra (starlette, uvicorn);
:mod:`chainrule.playground.data` alone does not.
"""

from __future__ import annotations

from typing import Any


def serve(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = True) -> None:
    """Run the playground on ``host:port`` until Ctrl-C (blocking); prints its address and, with
    ``open_browser``, opens it. ``port=0`` picks a free port."""
    from chainrule.playground.server import serve as run_server

    run_server(host, port, open_browser)


def create_app(host: str = "127.0.0.1") -> Any:
    """The starlette application for a server bound to ``host`` (for tests and ASGI servers)."""
    from chainrule.playground.server import create_app as make_app

    return make_app(host)


__all__ = ["create_app", "serve"]
