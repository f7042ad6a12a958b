"""The playground's web application (starlette) and the blocking :func:`serve` (uvicorn).

Hardening: every request must name this server in its ``Host`` header (a page on another
domain that rebinds its name to 127.0.0.1 is refused), every WebSocket must come from this
server's own origin, and each page's session lives and fails alone.
"""

from __future__ import annotations

import ipaddress
import itertools
import socket
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.responses import FileResponse, PlainTextResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketClose

from chainrule.playground.connection import MAX_MESSAGE_CHARS, Connection
from chainrule.playground.session import Session

STATIC = Path(__file__).parent / "static"
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
WILDCARDS = frozenset({"0.0.0.0", "::", ""})
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; connect-src 'self'; img-src 'self' data:"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def host_rule(host: str) -> Callable[[str], bool]:
    """Which host names a server bound to ``host`` answers to.

    Loopback names always; the bound address or name itself; and for a wildcard address
    (``0.0.0.0``, ``::``) any IP address and this machine's own names, never another domain.

    >>> ok = host_rule("127.0.0.1")
    >>> ok("localhost"), ok("127.0.0.1"), ok("attacker.example")
    (True, True, False)
    """
    names = set(LOOPBACK_NAMES) | {host.lower().strip("[]")}
    if host in WILDCARDS:
        names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
        return lambda name: name in names or _is_ip(name)
    return lambda name: name in names


def _hostname(value: str) -> str | None:
    """The host name of a ``Host`` header such as ``127.0.0.1:8000`` or ``[::1]:80``."""
    try:
        parts = urlsplit("//" + value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return None
    return parts.hostname


class Guard:
    """ASGI middleware: refuse foreign ``Host`` headers and cross-origin WebSockets, and add
    security headers to every response."""

    def __init__(self, app: ASGIApp, allowed: Callable[[str], bool]) -> None:
        self.app, self.allowed = app, allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        name = _hostname(host)
        problem = None
        if name is None or not self.allowed(name):
            problem = f"refused: the Host header {host!r} is not this server's address"
        elif scope["type"] == "websocket" and headers.get("origin", "").lower() != (
            f"http://{host}".lower()
        ):
            problem = f"refused: a WebSocket from origin {headers.get('origin')!r}"
        if problem is None:
            await self.app(scope, receive, self._with_headers(send))
        elif scope["type"] == "http":
            await PlainTextResponse(problem, status_code=400)(scope, receive, send)
        else:
            await WebSocketClose(code=1008, reason=problem)(scope, receive, send)

    @staticmethod
    def _with_headers(send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        return wrapped


async def _index(request) -> FileResponse:
    return FileResponse(STATIC / "index.html")


def create_app(host: str = "127.0.0.1") -> Starlette:
    """The application for a server bound to ``host``.

    ``app.state.sessions`` maps a connection number to its live :class:`Session`.
    """
    counter = itertools.count(1)

    async def playground_socket(websocket: WebSocket) -> None:
        await websocket.accept()
        key, session = next(counter), Session()
        app.state.sessions[key] = session
        try:
            await Connection(websocket, session).run()
        finally:
            del app.state.sessions[key]

    app = Starlette(
        routes=[
            Route("/", _index),
            WebSocketRoute("/ws", playground_socket),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ]
    )
    app.state.sessions = {}
    app.add_middleware(Guard, allowed=host_rule(host))
    return app


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``(host, port)`` (``port=0``: a free one), or a clear OSError."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise OSError(
            f"cannot listen on {host}:{port} ({e.strerror}); choose another --port"
        ) from None
    sock.listen(128)
    return sock


def url_of(host: str, port: int) -> str:
    """The address a browser opens for a server bound to ``host`` and ``port``."""
    shown = "127.0.0.1" if host in WILDCARDS else host
    return f"http://[{shown}]:{port}/" if ":" in shown else f"http://{shown}:{port}/"


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host.lower() == "localhost"


def own_addresses() -> list[str]:
    """This machine's IP addresses that other machines may reach (loopback left out): the
    addresses of its host name, and the one it would use for outside traffic (found by a UDP
    ``connect``, which sends nothing)."""
    found = set()
    try:
        found.update(socket.gethostbyname_ex(socket.gethostname())[2])
    except OSError:
        pass
    for family, target in ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1")):
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as probe:
                probe.connect((target, 9))
                found.add(probe.getsockname()[0])
        except OSError:
            pass
    return sorted(a for a in found if not _is_loopback(a))


def announce(host: str, port: int) -> list[str]:
    """The lines :func:`serve` prints: the address to open, and where the server listens beyond
    this machine (a warning: other machines can reach it)."""
    lines = [f"chainrule playground: {url_of(host, port)}  (Ctrl-C stops it)"]
    if _is_loopback(host):
        return lines
    if host in WILDCARDS:
        ipv4_only = ":" not in host  # 0.0.0.0 listens on IPv4 alone
        urls = [url_of(a, port) for a in own_addresses() if not (ipv4_only and ":" in a)]
        where = "every network interface"
    else:
        urls, where = [url_of(host, port)], host
    lines.append(
        f"warning: listening on {where}: other machines on the network can reach this "
        "playground (and run training on this machine)"
        + ("; they would open " + ", ".join(urls) if urls else "")
        + ". Use --host 127.0.0.1 to keep it to this machine."
    )
    return lines


def make_server(host: str = "127.0.0.1", port: int = 8000, ping_interval: float = 20.0):
    """``(server, socket, app)``: a uvicorn server for :func:`create_app`, not yet running.
    Each WebSocket is pinged every ``ping_interval`` seconds and closed when a pong does not
    come within as long again."""
    import uvicorn

    sock = bind(host, port)
    app = create_app(host)
    config = uvicorn.Config(
        app,
        log_level="warning",
        ws_max_size=MAX_MESSAGE_CHARS + 4096,
        ws_ping_interval=ping_interval,
        ws_ping_timeout=ping_interval,
        lifespan="off",
    )
    return uvicorn.Server(config), sock, app


def serve(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = True) -> None:
    """Run the playground until Ctrl-C; prints its address and opens it in the browser."""
    server, sock, _ = make_server(host, port)
    port = sock.getsockname()[1]
    lines = announce(host, port)
    print("\n".join(lines), flush=True)
    url = url_of(host, port)
    if open_browser:
        threading.Timer(0.5, webbrowser.open, [url]).start()
    server.run(sockets=[sock])
