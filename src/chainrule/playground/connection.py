"""The WebSocket protocol: one :class:`Connection` per page, each with its own session.

The page sends JSON objects with a ``type``; the server answers with ``state`` (epoch, losses,
heat maps, weights, gradients), ``data`` (the points), ``derivation``, ``curves``, ``export``
or ``error`` messages. A bad message gets an ``error`` reply; it never ends the connection, the
server, or another page's session.

==============  =================================================================
page sends      fields
==============  =================================================================
``play``        (none): train epoch after epoch, streaming ``state``
``pause``       (none)
``step``        (none): one epoch (or the rest of the one under way)
``minibatch``   (none): one minibatch
``gradcheck``   (none): backprop against central differences for the picked sample
``reset``       (none): new initial weights
``regenerate``  (none): new random points
``config``      ``config``: settings to change (see :mod:`chainrule.playground.config`)
``inspect``     ``subset`` ("train" or "test"), ``index``: the derivation view's sample
``curves``      ``beta``, ``theta``: the seed's sigmoid and tanh sliders
``upload``      ``name``, ``csv``: a CSV file's text (1 MB, 10,000 rows at most)
``export``      ``format`` ("crm" or "python")
==============  =================================================================
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from typing import Any

import numpy as np
from starlette.websockets import WebSocket, WebSocketDisconnect

from chainrule.playground import export, views
from chainrule.playground.config import (
    ACTIVATIONS,
    COSTS,
    MAX_LAYERS,
    MAX_UNITS,
    SOLVERS,
    SPEEDS,
)
from chainrule.playground.data import (
    CLASSIFICATION_SETS,
    FEATURES,
    MAX_CSV_BYTES,
    MAX_CSV_ROWS,
    REGRESSION_SETS,
    parse_csv_classes,
)
from chainrule.playground.session import Diverged, Session

log = logging.getLogger("chainrule.playground")

#: the largest message accepted (an upload's CSV text plus its JSON wrapping)
MAX_MESSAGE_CHARS = 2 * MAX_CSV_BYTES
#: seconds of training between two frames while playing, and the pause after each frame
FRAME_TRAINING = 0.05
FRAME_PAUSE = 0.02
#: while playing, the derivation view follows the training at most this often (seconds)
DERIVATION_EVERY = 0.25
#: the longest error text sent back (a message may echo a value the page sent)
MAX_ERROR_CHARS = 300
#: the most characters of messages read but not yet handled; more are dropped with an error
MAX_PENDING_CHARS = 8 * MAX_MESSAGE_CHARS
#: what the reader queues when the page has gone
_CLOSED = object()

OPTIONS = {
    "datasets": {"classification": CLASSIFICATION_SETS, "regression": REGRESSION_SETS},
    "features": list(FEATURES),
    "activations": ACTIVATIONS,
    "solvers": SOLVERS,
    "speeds": list(SPEEDS),
    "costs": COSTS,
    "max_layers": MAX_LAYERS,
    "max_units": MAX_UNITS,
    "max_csv_bytes": MAX_CSV_BYTES,
    "max_csv_rows": MAX_CSV_ROWS,
}


class ProtocolError(ValueError):
    """A message the server cannot act on (its text goes back to the page)."""


def parse_message(text: Any) -> dict[str, Any]:
    """A message as a dict with a string ``type``, or a :class:`ProtocolError`."""
    if not isinstance(text, str):
        raise ProtocolError("messages must be JSON text, not binary")
    if len(text) > MAX_MESSAGE_CHARS:
        raise ProtocolError(f"the message is longer than {MAX_MESSAGE_CHARS} characters")
    try:
        message = json.loads(text)
    except json.JSONDecodeError as e:
        raise ProtocolError(f"the message is not valid JSON ({e.msg})") from None
    except (ValueError, RecursionError):  # an integer of over 4300 digits; nesting too deep
        raise ProtocolError("the message holds a number too long or nesting too deep") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError('a message must be a JSON object with a "type" string')
    return message


def _finite(value: Any) -> Any:
    """``value`` with every float that is not finite (an overflow, NaN) replaced by None."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    return value


def to_json(message: dict[str, Any]) -> str:
    """The JSON text of ``message``; a number that overflowed (inf, NaN) becomes ``null``, which
    JSON can carry and the page shows as "overflow".

    >>> to_json({"cost": float("inf"), "W": [[1.5, float("nan")]]})
    '{"cost": null, "W": [[1.5, null]]}'
    """
    try:
        return json.dumps(message, allow_nan=False, default=float)
    except ValueError:
        return json.dumps(_finite(message), allow_nan=False, default=float)


class Connection:
    """One page: its session, the training loop that plays it, and the replies."""

    def __init__(self, websocket: WebSocket, session: Session) -> None:
        self.ws = websocket
        self.session = session
        self.lock = asyncio.Lock()  # one change of the session at a time
        self.send_lock = asyncio.Lock()
        self.player: asyncio.Task | None = None
        self.sent = (-1, 0)  # (generation, length) of the loss history the page holds
        self.pending = 0  # characters read from the socket and not yet handled
        self.derived_at = 0.0  # when the last derivation view went out

    async def send(self, message: dict[str, Any]) -> None:
        async with self.send_lock:
            await self.ws.send_text(to_json(message))

    async def send_state(self, while_playing: bool = False) -> None:
        """The state, then (when a sample is picked) its derivation with the same network: every
        change is followed by both, so the page never shows numbers of an older network; while
        playing, the derivation follows at most every :data:`DERIVATION_EVERY` seconds.
        ``while_playing``: only if still playing (the player's frames)."""
        async with self.lock:
            s = self.session
            playing = s.playing  # a pause may come while the snapshot is taken
            if while_playing and not playing:
                return
            snap = await asyncio.to_thread(s.snapshot, self.sent)
            self.sent = (s.generation, len(s.history))
            snap.update(config=s.config, task=s.task, selected=s.selected, playing=playing)
            now = time.monotonic()
            view = None
            if s.selected and (not playing or now - self.derived_at >= DERIVATION_EVERY):
                view, self.derived_at = s.derivation(), now
        await self.send({"type": "state", **snap})
        if view is not None:
            await self.send({"type": "derivation", **view})

    async def send_data(self) -> None:
        await self.send({"type": "data", **self.session.points()})

    async def run(self) -> None:
        """Greet the page, then answer its messages until it goes.

        A reader task takes every message off the socket as soon as it arrives and queues it
        here, so that the socket keeps being read (and the keepalive's pongs answered) while a
        long message, an upload, is being handled.
        """
        inbox: asyncio.Queue[Any] = asyncio.Queue()
        reader = asyncio.create_task(self._read(inbox))
        try:
            await self.send({"type": "init", "options": OPTIONS})
            await self.send_data()
            await self.send_state()
            while (raw := await inbox.get()) is not _CLOSED:
                self.pending -= len(raw)
                await self.handle(raw)
        except WebSocketDisconnect:
            return
        finally:
            reader.cancel()
            self.session.playing = False
            if self.player is not None:
                self.player.cancel()

    async def _read(self, inbox: asyncio.Queue[Any]) -> None:
        """Move the page's messages into ``inbox`` until it goes (then queue ``_CLOSED``)."""
        try:
            while (message := await self.ws.receive())["type"] != "websocket.disconnect":
                raw = message.get("text")
                raw = message.get("bytes") or "" if raw is None else raw
                if self.pending + len(raw) > MAX_PENDING_CHARS:
                    await self.send_error("too many messages are waiting; this one was dropped")
                    continue
                self.pending += len(raw)
                inbox.put_nowait(raw)
        except WebSocketDisconnect:
            pass
        finally:
            inbox.put_nowait(_CLOSED)

    async def handle(self, raw: Any) -> None:
        """Act on one message; any failure becomes an ``error`` reply."""
        try:
            message = parse_message(raw)
            handler = getattr(self, "on_" + message["type"], None)
            if handler is None:
                raise ProtocolError(f"unknown message type {message['type']!r}")
            await handler(message)
        except (ValueError, TypeError, KeyError, Diverged) as e:
            await self.send_error(str(e))
        except WebSocketDisconnect:
            raise
        except Exception as e:  # never let one page's message stop the server
            log.exception("playground message failed")
            await self.send_error(f"internal error: {e}")

    async def send_error(self, text: str) -> None:
        """An ``error`` reply, cut to :data:`MAX_ERROR_CHARS` characters."""
        if len(text) > MAX_ERROR_CHARS:
            text = text[: MAX_ERROR_CHARS - 1] + "\u2026"
        await self.send({"type": "error", "message": text})

    # -- training ----------------------------------------------------------------------------

    def _train_for(self, seconds: float) -> None:
        start = time.monotonic()
        self.session.train_epoch()
        while self.session.playing and time.monotonic() - start < seconds:
            self.session.train_epoch()

    def _frame(self) -> float:
        """One frame of play: train, and return how long to wait before the next one. At the
        speed "max" epochs for :data:`FRAME_TRAINING` seconds; otherwise one epoch or one
        minibatch, then the rest of its share of a second."""
        speed = SPEEDS[self.session.config["speed"]]
        if speed is None:
            self._train_for(FRAME_TRAINING)
            return FRAME_PAUSE
        unit, per_second = speed
        start = time.monotonic()
        if unit == "epoch":
            self.session.train_epoch()
        else:
            self.session.train_minibatch()
        return max(0.0, 1 / per_second - (time.monotonic() - start))

    async def _play(self) -> None:
        """Train frame after frame while playing, with a state after each; whoever stops the
        play (pause, step, a change) sends the state that follows, and a failure here its own."""
        try:
            while self.session.playing:
                failure, pause = None, FRAME_PAUSE
                try:
                    async with self.lock:
                        if self.session.playing:
                            pause = await asyncio.to_thread(self._frame)
                except Diverged as e:
                    failure = str(e)
                except Exception as e:  # a failure stops this page's training, nothing else
                    log.exception("playground training failed")
                    failure = f"training stopped: {e}"
                if failure is not None:
                    self.session.playing = False
                    await self.send_error(failure)
                    await self.send_state()
                    return
                await self.send_state(while_playing=True)
                await self._sleep(pause)
        except WebSocketDisconnect:  # the page went while it played
            self.session.playing = False

    async def _sleep(self, seconds: float) -> None:
        """Wait between frames, waking early when the play stops."""
        end = time.monotonic() + seconds
        while self.session.playing and (left := end - time.monotonic()) > 0:
            await asyncio.sleep(min(left, FRAME_PAUSE))

    async def on_play(self, message: dict[str, Any]) -> None:
        self.session.playing = True
        if self.player is None or self.player.done():
            self.player = asyncio.create_task(self._play())

    async def on_pause(self, message: dict[str, Any]) -> None:
        self.session.playing = False
        if self.player is not None:
            await self.player  # it ends its frame, so that this is the last state
        await self.send_state()

    async def on_step(self, message: dict[str, Any]) -> None:
        self.session.playing = False
        async with self.lock:
            await asyncio.to_thread(self.session.train_epoch)
        await self.send_state()

    async def on_minibatch(self, message: dict[str, Any]) -> None:
        self.session.playing = False
        async with self.lock:
            await asyncio.to_thread(self.session.train_minibatch)
        await self.send_state()

    async def on_gradcheck(self, message: dict[str, Any]) -> None:
        async with self.lock:
            report = self.session.gradient_check()
        if report is None:
            raise ProtocolError("pick a sample first: the check compares its own gradient")
        await self.send({"type": "gradcheck", **report})

    async def on_reset(self, message: dict[str, Any]) -> None:
        self.session.playing = False
        async with self.lock:
            self.session.reset()
        await self.send_state()

    async def _configure(self, changes: Any) -> None:
        async with self.lock:
            data_changed = self.session.configure(changes)
        if data_changed:
            await self.send_data()
        await self.send_state()

    async def on_config(self, message: dict[str, Any]) -> None:
        try:
            await self._configure(message.get("config"))
        except ValueError:
            await self.send_state()  # the page shows the settings in force again
            raise

    async def on_regenerate(self, message: dict[str, Any]) -> None:
        await self._configure({"data_seed": (self.session.config["data_seed"] + 1) % 2**31})

    # -- views -------------------------------------------------------------------------------

    async def on_inspect(self, message: dict[str, Any]) -> None:
        async with self.lock:
            self.session.select(message.get("subset", "train"), message.get("index"))
            view = self.session.derivation()
        await self.send({"type": "derivation", **view})

    async def on_curves(self, message: dict[str, Any]) -> None:
        beta, theta = message.get("beta", 5), message.get("theta", 5)
        await self.send({"type": "curves", **views.seed_curves(beta, theta)})

    async def on_upload(self, message: dict[str, Any]) -> None:
        name, text = message.get("name", "upload.csv"), message.get("csv")
        if not isinstance(text, str) or not isinstance(name, str):
            raise ProtocolError('an upload needs "name" and "csv" strings')
        X, y, task, classes = await asyncio.to_thread(parse_csv_classes, text)  # off the loop
        self.session.playing = False
        async with self.lock:
            self.session.use_upload(name[:200], X, y, task, classes)
        await self.send_data()
        await self.send_state()

    async def on_export(self, message: dict[str, Any]) -> None:
        fmt = message.get("format")
        async with self.lock:
            s = self.session
            stem = f"playground-{s.data.name if s.config['dataset'] != 'upload' else 'upload'}"
            if fmt == "crm":
                data = base64.b64encode(export.model_bytes(s.net)).decode()
                reply = {"filename": stem + ".crm", "base64": data}
            elif fmt == "python":
                text = export.script(s)
                reply = {"filename": stem + ".py", "text": text}
            else:
                raise ProtocolError(f'format must be "crm" or "python", got {fmt!r}')
        await self.send({"type": "export", "format": fmt, **reply})
