"""``chainrule playground``: train a network in the browser and watch backpropagation happen."""

from __future__ import annotations

import argparse
import socket

NAME = "playground"
HELP = "open the interactive playground in the browser (needs chainrule[playground])"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this machine only)",
    )
    parser.add_argument(
        "--port", type=int, default=8000, metavar="N", help="port (default: 8000; 0: a free one)"
    )
    parser.add_argument(
        "--no-browser", action="store_true", help="print the address without opening a browser"
    )


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise ValueError(f"--port must be in [0, 65535], got {args.port}")
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as e:
        raise ImportError(
            f"the playground needs starlette and uvicorn ({e.name} is missing): "
            f'pip install "chainrule[playground]"'
        ) from None
    from chainrule.playground import serve

    check_host(args.host)
    serve(args.host, args.port, open_browser=not args.no_browser)
    return 0


def check_host(host: str) -> None:
    """Refuse a ``--host`` that names no address of this machine, before a port is tried (so
    that the error is about the host, not the port)."""
    try:
        family, kind, _, _, address = socket.getaddrinfo(host, 0, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as e:
        reason = getattr(e, "strerror", None) or str(e)
        raise ValueError(
            f"--host {host}: no such address ({reason}); give an address of this machine, "
            "such as 127.0.0.1 (this machine only)"
        ) from None
    with socket.socket(family, kind) as probe:
        try:
            probe.bind(address)  # port 0: any free one, so only the address can fail
        except OSError as e:
            raise ValueError(
                f"--host {host}: this machine cannot listen on that address ({e.strerror}); "
                "give one of its own addresses, such as 127.0.0.1 (this machine only)"
            ) from None
