"""The playground's web application through starlette's test client: HTTP, the WebSocket
protocol, bad messages, Host and Origin refusal, upload limits and export."""

from __future__ import annotations

import base64
import io
import json
import time
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.playground import create_app

pytest.importorskip("starlette")
pytest.importorskip("httpx")
with warnings.catch_warnings():  # starlette 1.x prefers httpx2 to httpx, and says so
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from chainrule.playground.server import host_rule

from conftest import playground_server

BASE = "http://127.0.0.1:8000"
ORIGIN = {"origin": BASE}


@pytest.fixture
def app():
    return create_app("127.0.0.1")


@pytest.fixture
def client(app):
    with TestClient(app, base_url=BASE) as c:
        yield c


def until(ws, kind: str) -> dict:
    """The next message of type ``kind`` (states streamed in between are skipped)."""
    for _ in range(1000):
        message = ws.receive_json()
        if message["type"] == kind:
            return message
        assert message["type"] in ("init", "state", "data", "derivation"), message
    raise AssertionError(f"no {kind} message")


def connect(client):
    ws = client.websocket_connect("ws://127.0.0.1:8000/ws", headers=dict(ORIGIN))
    return ws


def test_page_and_its_files_are_served_with_security_headers(client):
    page = client.get("/")
    assert page.status_code == 200
    for testid in ("play", "step", "reset", "dataset", "epoch", "train-loss", "test-loss"):
        assert f'data-testid="{testid}"' in page.text
    for name in ("xor", "circles", "moons", "spiral", "gauss"):
        assert f'<option value="{name}">' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    modules = ("app", "dom", "draw", "network", "derivation", "link", "pick", "settings", "status")
    for name in (*(f"{m}.js" for m in modules), "playground.css"):
        assert client.get(f"/static/{name}").status_code == 200
    assert "http://" not in page.text and "https://" not in page.text  # nothing from the web
    assert "The seed's sliders" not in page.text  # read like the random seed's
    for testid in ("seed", "data-seed", "speed", "step-minibatch", "permalink", "gradcheck"):
        assert f'data-testid="{testid}"' in page.text


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:8000", "127.0.0.1:x", ""])
def test_foreign_host_headers_are_refused(client, host):
    response = client.get("/", headers={"host": host})
    assert response.status_code == 400
    assert "Host header" in response.text


def test_loopback_names_are_accepted(client):
    for host in ("localhost:8000", "127.0.0.1", "[::1]:8000"):
        assert client.get("/", headers={"host": host}).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},  # no Origin at all
        {"origin": "http://attacker.example"},
        {"origin": "http://127.0.0.1:9999"},  # another local site
        {"origin": BASE, "host": "attacker.example:8000"},
    ],
)
def test_websockets_from_other_origins_are_refused(client, headers):
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect("ws://127.0.0.1:8000/ws", headers=headers) as ws:
            ws.receive_json()
    assert refused.value.code == 1008


def test_a_wildcard_bind_answers_to_addresses_never_to_other_domains():
    ok = host_rule("0.0.0.0")
    assert ok("192.168.1.20") and ok("localhost") and ok("::1")
    assert not ok("attacker.example")
    assert not host_rule("192.168.1.20")("10.0.0.1")


def test_the_protocol_greets_then_steps_resets_and_configures(client):
    with connect(client) as ws:
        init = ws.receive_json()
        assert init["type"] == "init" and "xor" in init["options"]["datasets"]["classification"]
        data = ws.receive_json()
        assert data["type"] == "data" and data["task"] == "classification"
        state = ws.receive_json()
        assert state["type"] == "state" and state["epoch"] == 0
        assert state["layer_sizes"] == [2, 4, 2, 1]
        ws.send_json({"type": "step"})
        assert until(ws, "state")["epoch"] == 1
        ws.send_json({"type": "reset"})
        state = until(ws, "state")
        assert state["epoch"] == 0 and state["history_from"] == 0
        ws.send_json({"type": "config", "config": {"dataset": "moons", "layers": []}})
        assert until(ws, "data")["name"] == "moons"
        state = until(ws, "state")
        assert state["layer_sizes"] == [2, 1] and state["config"]["dataset"] == "moons"


def test_play_streams_states_until_paused(client):
    with connect(client) as ws:
        until(ws, "state")
        ws.send_json({"type": "play"})
        epochs = [until(ws, "state")["epoch"] for _ in range(3)]
        assert epochs == sorted(epochs) and epochs[-1] > 0
        ws.send_json({"type": "pause"})
        while until(ws, "state")["playing"]:
            pass
        ws.send_json({"type": "step"})
        state = until(ws, "state")
        assert not state["playing"]
        assert state["history"][-1][0] == state["epoch"]


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (b"\x00\x01", "JSON text, not binary"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"type": 3}', "JSON object"),
        ('{"type": "config", "config": ' + "[" * 100_000 + "]" * 100_000 + "}", "too deep"),
        ('{"type": "inspect", "index": ' + "9" * 10_000 + "}", "number too long"),
        ('{"type": "launch"}', "unknown message type 'launch'"),
        ('{"type": "config", "config": {"learning_rate": "fast"}}', "learning_rate must be"),
        ('{"type": "config", "config": 7}', "config must be an object"),
        ('{"type": "inspect", "index": 100000}', "index must be an integer in [0, 99]"),
        ('{"type": "inspect", "index": 0, "subset": "all"}', "subset must be"),
        ('{"type": "export", "format": "pickle"}', "format must be"),
        ('{"type": "curves", "beta": "x"}', "beta must be a number"),
        ('{"type": "upload", "csv": 5}', "needs"),
    ],
)
def test_a_bad_message_gets_an_error_and_the_session_goes_on(client, message, error):
    with connect(client) as ws:
        until(ws, "state")
        if isinstance(message, bytes):
            ws.send_bytes(message)
        else:
            ws.send_text(message)
        assert error in until(ws, "error")["message"]
        ws.send_json({"type": "step"})
        assert until(ws, "state")["epoch"] == 1


def test_an_error_reply_does_not_echo_a_huge_value(client):
    with connect(client) as ws:
        until(ws, "state")
        ws.send_json({"type": "config", "config": {"solver": "x" * 500_000}})
        message = until(ws, "error")["message"]
        assert message.startswith("solver must be one of") and len(message) <= 300


def test_one_pages_errors_leave_another_pages_session_alone(client, app):
    with connect(client) as a, connect(client) as b:
        until(a, "state"), until(b, "state")
        assert len(app.state.sessions) == 2
        a.send_text("garbage")
        until(a, "error")
        b.send_json({"type": "step"})
        assert until(b, "state")["epoch"] == 1
    assert app.state.sessions == {}


def test_inspect_returns_backprop_of_the_sample(client, app):
    with connect(client) as ws:
        until(ws, "state")
        ws.send_json({"type": "step"})
        until(ws, "state")
        ws.send_json({"type": "inspect", "subset": "test", "index": 4})
        view = until(ws, "derivation")
        (session,) = app.state.sessions.values()
        a0 = session.inputs(session.data.X_test[4:5])
        trace = session.net.backprop(a0, session.data.y_test[4:5])
        assert view["epoch"] == 1 and len(view["layers"]) == session.net.L
        for m, layer in enumerate(view["layers"]):
            np.testing.assert_allclose(layer["delta"], trace.delta[m][0], rtol=1e-12)
            np.testing.assert_allclose(layer["dW"], trace.dW[m], rtol=1e-12)


def test_curves_are_the_seeds_sigmoid_and_tanh(client):
    with connect(client) as ws:
        ws.send_json({"type": "curves", "beta": 5, "theta": 2})
        c = until(ws, "curves")
        h = np.array(c["h"])
        g = 1 / (1 + np.exp(-5 * h))
        np.testing.assert_allclose(c["sigmoid"], g, atol=1e-4)
        np.testing.assert_allclose(c["sigmoid_prime"], 5 * g * (1 - g), atol=2e-4)
        np.testing.assert_allclose(c["tanh"], np.tanh(2 * h), atol=1e-4)


def test_upload_limits_and_a_good_upload(client):
    with connect(client) as ws:
        until(ws, "state")
        big = "1,2,0\n" * 200_000  # 1.2 MB
        ws.send_json({"type": "upload", "name": "big.csv", "csv": big})
        assert "up to 1 MB" in until(ws, "error")["message"]
        rows = "1,2,0\n" * 10_001
        ws.send_json({"type": "upload", "name": "long.csv", "csv": rows})
        assert "at most 10000" in until(ws, "error")["message"]
        good = "".join(f"{i},{(i * 7) % 11},{i % 2}\n" for i in range(30))
        ws.send_json({"type": "upload", "name": "mine.csv", "csv": good})
        data = until(ws, "data")
        assert data["name"] == "mine.csv" and len(data["train"]) + len(data["test"]) == 30
        state = until(ws, "state")
        assert state["config"]["dataset"] == "upload" and state["epoch"] == 0


def test_export_model_file_and_script(client, app):
    with connect(client) as ws:
        until(ws, "state")
        ws.send_json({"type": "step"})
        until(ws, "state")
        ws.send_json({"type": "export", "format": "crm"})
        reply = until(ws, "export")
        assert reply["filename"] == "playground-xor.crm"
        net = cr.load(io.BytesIO(base64.b64decode(reply["base64"])))
        (session,) = app.state.sessions.values()
        np.testing.assert_array_equal(net.theta, session.net.theta)
        ws.send_json({"type": "export", "format": "python"})
        reply = until(ws, "export")
        assert reply["filename"] == "playground-xor.py"
        assert "net = cr.Network(" in reply["text"] and "EPOCH = 1" in reply["text"]
        compile(reply["text"], "exported", "exec")


def test_an_overflowing_network_gets_null_numbers_a_warning_and_recovers(client):
    """Six exponential layers overflow float64: the replies stay JSON (null for the numbers
    that overflowed) and say why, no numpy warning leaks, and the page can go on."""
    six = [{"units": 4, "activation": "exponential", "beta": 1}] * 6
    with warnings.catch_warnings(record=True) as caught, connect(client) as ws:
        warnings.simplefilter("always")
        until(ws, "state")
        ws.send_json({"type": "config", "config": {"dataset": "plane", "layers": six}})
        state = until(ws, "state")
        assert state["train_loss"] is None and state["test_loss"] is None
        assert [w["kind"] for w in state["warnings"]] == ["overflow"]
        ws.send_json({"type": "inspect", "subset": "train", "index": 0})
        view = until(ws, "derivation")
        assert None in view["layers"][-1]["dW"][0] or view["cost"] is None
        ws.send_json({"type": "step"})
        assert "diverged" in until(ws, "error")["message"]
        ws.send_json({"type": "config", "config": {"layers": [{"units": 4}]}})
        state = until(ws, "state")
        assert state["warnings"] == [] and np.isfinite(state["train_loss"])
        ws.send_json({"type": "step"})
        assert until(ws, "state")["epoch"] == 1
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]


def test_a_page_that_goes_during_the_greeting_ends_quietly():
    """The greeting is inside the connection's try: a page closing then is no server error."""
    import asyncio

    from chainrule.playground.connection import Connection
    from chainrule.playground.session import Session

    class GoneSocket:
        async def send_text(self, text):
            raise WebSocketDisconnect(code=1006)

        async def receive(self):
            return {"type": "websocket.disconnect", "code": 1006}

    asyncio.run(Connection(GoneSocket(), Session()).run())  # returns, raises nothing


# The keepalive under test: a ping every KEEPALIVE seconds, a pong due within as long again.
# Client and server share this process on a machine that may be loaded; one second is far
# beyond a runnable thread's wait for a core (milliseconds, tens under heavy load), so only a
# socket that is not read at all while the server is busy misses it.
KEEPALIVE = 1.0


@pytest.fixture
def live_server():
    """A real uvicorn playground in a thread on 127.0.0.1 whose keepalive pings every
    :data:`KEEPALIVE` seconds and gives up after as long again; yields its port."""
    with playground_server(ping_interval=KEEPALIVE) as (_, port, _):
        yield port


@pytest.mark.slow
def test_a_busy_connection_outlives_the_keepalive(live_server):
    """A 10,000-row upload, then rounds of 100 queued messages, keep the server busy for more
    than three keepalive windows: the socket is still read meanwhile (pongs included), so every
    message is answered on the same connection."""
    import asyncio

    from websockets.asyncio.client import connect as ws_connect

    base = f"127.0.0.1:{live_server}"
    rows = "".join(f"{i % 97},{(i * 7) % 89},{i % 2}\n" for i in range(10_000))
    busy_for = 3 * 2 * KEEPALIVE  # three windows of a ping and its pong's deadline

    async def talk() -> tuple[list[str], float]:
        async with ws_connect(
            f"ws://{base}/ws", origin=f"http://{base}", ping_interval=None, max_queue=None
        ) as ws:
            kinds = []
            for _ in range(3):  # init, data, state
                kinds.append(json.loads(await ws.recv())["type"])
            start = time.monotonic()
            await ws.send(json.dumps({"type": "upload", "name": "big.csv", "csv": rows}))
            kinds += [json.loads(await ws.recv())["type"] for _ in range(2)]  # data, state
            while time.monotonic() - start < busy_for:
                for _ in range(100):
                    await ws.send(json.dumps({"type": "pause"}))
                kinds += [json.loads(await ws.recv())["type"] for _ in range(100)]
            return kinds, time.monotonic() - start

    kinds, elapsed = asyncio.run(asyncio.wait_for(talk(), 300))
    assert elapsed >= busy_for  # the keepalive really had to cross the busy stretch
    assert kinds[:5] == ["init", "data", "state", "data", "state"]
    assert set(kinds[5:]) == {"state"} and len(kinds[5:]) % 100 == 0


def test_listening_beyond_loopback_warns_and_names_the_real_addresses(monkeypatch):
    from chainrule.playground import server

    assert server.announce("127.0.0.1", 8000) == [
        "chainrule playground: http://127.0.0.1:8000/  (Ctrl-C stops it)"
    ]
    monkeypatch.setattr(server, "own_addresses", lambda: ["192.168.1.20", "fd00::2"])
    first, warning = server.announce("0.0.0.0", 8000)
    assert first.startswith("chainrule playground: http://127.0.0.1:8000/")
    assert warning.startswith("warning:") and "other machines" in warning
    assert "http://192.168.1.20:8000/" in warning and "fd00" not in warning  # IPv4 only
    assert "http://[fd00::2]:8000/" in server.announce("::", 8000)[1]
    assert "http://10.1.2.3:80/" in server.announce("10.1.2.3", 80)[1]
    assert all(not a.startswith("127.") for a in server.own_addresses())


def test_the_derivation_follows_every_change_without_asking_again(client, app):
    """After a sample is picked, every change that affects its numbers (activation, layers,
    learning rate, solver, alpha, Regenerate, a step) sends its derivation again, computed with
    the changed network."""
    with connect(client) as ws:
        until(ws, "state")
        ws.send_json({"type": "inspect", "subset": "train", "index": 2})
        until(ws, "derivation")
        (session,) = app.state.sessions.values()
        layers = [{"units": 3, "activation": "elu"}, {"units": 2}, {"units": 2}]
        changes = [
            {"config": {"layers": layers}},
            {"config": {"learning_rate": 0.3}},
            {"config": {"solver": "adam"}},
            {"config": {"alpha": 0.01}},
            {"type": "regenerate"},
            {"type": "step"},
        ]
        for change in changes:
            ws.send_json({"type": "config", **change})
            state = until(ws, "state")
            view = until(ws, "derivation")
            assert (view["epoch"], view["subset"], view["index"]) == (state["epoch"], "train", 2)
            a0 = session.inputs(session.data.X_train[2:3])
            trace = session.net.backprop(a0, session.data.y_train[2:3])
            assert len(view["layers"]) == 4 and view["layers"][0]["activation"] == "elu"
            for m, layer in enumerate(view["layers"]):
                np.testing.assert_allclose(layer["dW"], trace.dW[m], rtol=1e-12)
            assert view["learning_rate"] == session.config["learning_rate"]
            assert view["solver"] == session.config["solver"]
        assert (view["learning_rate"], view["solver"], view["alpha"]) == (0.3, "adam", 0.01)


def test_after_an_upload_points_and_noise_change_nothing(client):
    rows = "".join(f"{i},{(i * 7) % 11},{'yes' if i % 3 else 'no'}\n" for i in range(30))
    with connect(client) as ws:
        until(ws, "state")
        ws.send_json({"type": "upload", "name": "buys.csv", "csv": "a,b,buys\n" + rows})
        assert until(ws, "data")["classes"] == ["no", "yes"]
        assert until(ws, "state")["epoch"] == 0
        ws.send_json({"type": "step"})
        assert until(ws, "state")["epoch"] == 1
        ws.send_json({"type": "config", "config": {"n_samples": 500, "noise": 0.3}})
        assert until(ws, "state")["epoch"] == 1  # no restart, no new points


def test_a_refused_setting_is_followed_by_the_settings_in_force(client):
    with connect(client) as ws:
        until(ws, "state")
        ws.send_json({"type": "config", "config": {"batch_size": 0}})
        state = ws.receive_json()
        assert state["type"] == "state" and state["config"]["batch_size"] == 10
        assert "batch_size must be" in until(ws, "error")["message"]


def test_minibatch_steps_gradient_check_and_a_slow_speed(client):
    with connect(client) as ws:
        state = until(ws, "state")
        assert state["accuracy"] is not None and "minibatch1" in until_init_options(client)
        ws.send_json({"type": "minibatch"})
        state = until(ws, "state")
        assert (state["epoch"], state["minibatch"], state["minibatches"]) == (0, 1, 10)
        ws.send_json({"type": "gradcheck"})
        assert "pick a sample first" in until(ws, "error")["message"]
        ws.send_json({"type": "inspect", "subset": "test", "index": 5})
        until(ws, "derivation")
        ws.send_json({"type": "gradcheck"})
        report = until(ws, "gradcheck")
        assert report["verdict"] == "good" and (report["subset"], report["index"]) == ("test", 5)
        ws.send_json({"type": "config", "config": {"speed": "minibatch5"}})
        until(ws, "state")
        ws.send_json({"type": "play"})
        states = [until(ws, "state") for _ in range(3)]  # one minibatch a frame
        assert [s["minibatch"] for s in states] == [2, 3, 4]
        ws.send_json({"type": "pause"})


def until_init_options(client) -> list:
    with connect(client) as ws:
        return ws.receive_json()["options"]["speeds"]


def test_while_playing_the_derivation_follows_with_the_states_network(client):
    """During play the picked sample's derivation keeps coming, each one of the network of the
    state just before it (never of an older one)."""
    with connect(client) as ws:
        until(ws, "state")
        ws.send_json({"type": "inspect", "subset": "train", "index": 0})
        until(ws, "derivation")
        ws.send_json({"type": "play"})
        epoch, views = None, []
        while len(views) < 3:
            message = ws.receive_json()
            if message["type"] == "state":
                epoch = message["epoch"]
            elif message["type"] == "derivation":
                assert message["epoch"] == epoch
                views.append(epoch)
        ws.send_json({"type": "pause"})
    assert views == sorted(views) and views[-1] > 0
