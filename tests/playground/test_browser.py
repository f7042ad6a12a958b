"""End to end in headless Chromium: play xor and watch the loss fall, check that the derivation
view's numbers are ``net.backprop`` of the chosen sample, walk the step mode, export.

Needs Debian's ``chromium`` (``/usr/bin/chromium``) and Playwright's Python package (no
downloaded chromium).
"""

from __future__ import annotations

import re
import runpy
import time
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr

from conftest import needs_chromium, playground_server

sync_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("uvicorn")
pytestmark = needs_chromium
#: the derivation view carries each number's full double in data-value, its text to 4 digits
EXACT, SHOWN = 1e-12, 6e-4


@pytest.fixture(scope="module")
def server():
    """A playground on 127.0.0.1 and a free port, in a thread; yields (url, app)."""
    with playground_server() as (_, port, app):
        yield f"http://127.0.0.1:{port}/", app


@pytest.fixture
def page(chromium, server):
    context = chromium.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server[0])
    eventually(lambda: page.text_content("[data-testid=train-loss]") != "\u2013")
    yield page
    context.close()
    assert errors == [], errors


def eventually(condition, timeout: float = 20.0) -> None:
    """Poll ``condition`` from Python (the page's Content-Security-Policy forbids the eval that
    Playwright's wait_for_function needs)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the page"
        time.sleep(0.05)


def epoch(page) -> int:
    return int(page.text_content("[data-testid=epoch]"))


def number(page, testid: str) -> float:
    return float(page.text_content(f"[data-testid={testid}]"))


def the_session(app):
    """The page's session (an earlier test's closed page may take a moment to let go of its)."""
    eventually(lambda: len(app.state.sessions) == 1)
    (session,) = app.state.sessions.values()
    return session


def values(page, selector: str) -> tuple[np.ndarray, np.ndarray]:
    """(data-value, shown text) of every number in the derivation view's ``selector``."""
    cells = page.query_selector_all(f"[data-testid=inspect] {selector} td.num")
    assert cells, selector
    exact = [float(c.get_attribute("data-value")) for c in cells]
    shown = [float(c.text_content()) for c in cells]
    return np.array(exact), np.array(shown)


def check(page, selector: str, expected: np.ndarray) -> None:
    exact, shown = values(page, selector)
    expected = np.asarray(expected, dtype=float).ravel()
    np.testing.assert_allclose(exact, expected, rtol=EXACT, atol=EXACT)
    np.testing.assert_allclose(shown, expected, rtol=SHOWN, atol=1e-12)


def test_play_xor_the_loss_falls_and_the_derivation_is_backprop(page, server):
    app = server[1]
    page.select_option("[data-testid=dataset]", "xor")
    options = page.query_selector_all("[data-testid=dataset] option")
    options = {o.get_attribute("value") for o in options}
    assert {"xor", "circles", "moons", "spiral", "gauss"} <= options
    start = number(page, "train-loss")
    page.click("[data-testid=play]")
    eventually(lambda: epoch(page) >= 150)
    page.click("[data-testid=play]")  # pause
    eventually(lambda: page.get_attribute("[data-testid=play]", "aria-label") == "play")
    session = the_session(app)
    eventually(lambda: epoch(page) == session.epoch)
    assert session.epoch >= 150
    assert number(page, "train-loss") < 0.7 * start
    assert number(page, "train-loss") == pytest.approx(session.history[-1][1], rel=1e-3)
    assert number(page, "test-loss") == pytest.approx(session.history[-1][2], rel=1e-3)

    page.select_option("#inspect-subset", "train")
    page.fill("[data-testid=inspect-index]", "3")
    page.click("[data-testid=inspect-go]")
    page.wait_for_selector(f"[data-testid=inspect][data-epoch='{session.epoch}'] .line")
    a0 = session.inputs(session.data.X_train[3:4])
    trace = session.net.backprop(a0, session.data.y_train[3:4])
    for m in range(1, session.net.L + 1):
        page.select_option("[data-testid=inspect-layer]", str(m))
        check(page, "[data-line=z] [data-result=z]", trace.z[m - 1])
        check(page, "[data-line=a] [data-result=a]", trace.a[m])
        check(page, "[data-line=z] [data-operand=a_prev]", trace.a[m - 1])
        check(page, "[data-line=delta] [data-result=delta]", trace.delta[m - 1])
        check(page, "[data-line=dW] [data-result=dW]", trace.dW[m - 1])
        check(page, "[data-line=db] [data-result=db]", trace.db[m - 1])
        # gradient descent: W^m <- W^m - eta dC/dW^m
        eta = session.config["learning_rate"]
        W_new = session.net.W[m - 1] - eta * trace.dW[m - 1]
        check(page, "[data-line=update] [data-result=W_new]", W_new)


def test_step_mode_walks_forward_then_backward(page, server):
    page.fill("[data-testid=inspect-index]", "0")
    page.click("[data-testid=inspect-go]")
    page.wait_for_selector("[data-testid=inspect] .line")
    L = the_session(server[1]).net.L
    seen = []
    for _ in range(2 * L + 2):
        page.click("[data-testid=walk-next]")
        current = page.wait_for_selector("[data-testid=inspect] .line.current")
        layer = page.get_attribute("[data-testid=inspect]", "data-layer")
        seen.append((int(layer), current.get_attribute("data-line")))
        assert current.query_selector_all(".use"), "the current line highlights what it uses"
    forward = [(m, k) for m in range(1, L + 1) for k in ("z", "a")]
    assert seen == [*forward, (L, "delta"), (L, "dW")]


def download(page, testid: str, folder) -> Path:
    """Click the export button ``testid`` and save what it downloads into ``folder``."""
    with page.expect_download() as started:
        page.click(f"[data-testid={testid}]")
    path = folder / started.value.suggested_filename
    started.value.save_as(path)
    return path


def test_step_reset_and_export(page, server, tmp_path):
    page.click("[data-testid=reset]")
    eventually(lambda: epoch(page) == 0)
    page.click("[data-testid=step]")
    eventually(lambda: epoch(page) == 1)
    path = download(page, "export", tmp_path)
    assert path.name == "playground-xor.crm"
    session = the_session(server[1])
    np.testing.assert_array_equal(cr.load(path).theta, session.net.theta)
    page.select_option("#learning_rate", "0.1")  # a change during the run
    eventually(lambda: session.config["learning_rate"] == 0.1)
    page.click("[data-testid=step]")
    eventually(lambda: epoch(page) == 2)
    path = download(page, "export-script", tmp_path)
    module = runpy.run_path(str(path), run_name="exported")  # builds the network, trains nothing
    np.testing.assert_array_equal(module["net"].theta, session.net.theta)


def test_csv_upload_and_its_size_limit(page, server, tmp_path):
    big = tmp_path / "big.csv"
    big.write_text("1,2,0\n" * 200_000)  # 1.2 MB
    page.set_input_files("[data-testid=upload]", str(big))
    eventually(lambda: "up to 1 MB" in page.text_content("[data-testid=message]"))
    rows = "".join(f"{i % 13},{(i * 7) % 11},{i % 2}\n" for i in range(50))
    (tmp_path / "mine.csv").write_text("a,b,label\n" + rows)
    page.set_input_files("[data-testid=upload]", str(tmp_path / "mine.csv"))
    eventually(lambda: page.input_value("[data-testid=dataset]") == "upload")
    assert "Loaded mine.csv: 50 points" in page.text_content("[data-testid=message]")
    session = the_session(server[1])
    assert len(session.data.y_train) + len(session.data.y_test) == 50


def test_the_derivation_panel_follows_changes_without_show(page, server):
    """Pick a sample once; an activation change, a new layer and a new learning rate redraw
    the panel with the changed network's numbers (no Show pressed again)."""
    page.fill("[data-testid=inspect-index]", "1")
    page.click("[data-testid=inspect-go]")
    page.wait_for_selector("[data-testid=inspect] .line")
    page.select_option("[data-testid=inspect-layer]", "1")
    page.select_option(".col[data-layer='1'] select.act", "elu")
    eventually(lambda: "elu" in page.text_content("[data-testid=inspect] [data-line=a]"))
    page.click("#add-layer")
    eventually(lambda: len(page.query_selector_all("[data-testid=inspect-layer] option")) == 4)
    assert "layer 1 of 4" in page.text_content("[data-testid=inspect] .sample")
    page.select_option("#learning_rate", "0.3")
    rate = re.compile(r"\u03b7 = 0\.3(?![0-9])")  # the update line's learning rate
    eventually(lambda: rate.search(page.text_content("[data-testid=inspect] [data-line=update]")))
    session = the_session(server[1])
    assert session.config["learning_rate"] == 0.3
    trace = session.net.backprop(
        session.inputs(session.data.X_train[1:2]), session.data.y_train[1:2]
    )
    check(page, "[data-line=dW] [data-result=dW]", trace.dW[0])
    W_new = session.net.W[0] - 0.3 * trace.dW[0]
    check(page, "[data-line=update] [data-result=W_new]", W_new)


def edges(page) -> list[tuple[float, float]]:
    """(width, the exact number in its title) of every edge drawn."""
    found = []
    for path in page.query_selector_all("#edges-svg path.edge"):
        title = path.query_selector("title").text_content()
        found.append((float(path.get_attribute("stroke-width")), float(title.split("= ")[1])))
    return found


def test_gradient_edges_scale_to_tiny_gradients_with_exact_values(page, server):
    """|dC/dW| of 3e-11 to 2e-7 (a converged network) are drawn to scale, relative or
    logarithmic, each edge's title carrying the exact double."""
    session = the_session(server[1])
    dW = [np.full_like(W, 3e-11) for W in session.net.W]
    dW[0][0, 0], dW[1][0, 0] = 2e-7, 5e-9
    session.last_grads = (dW, [np.zeros_like(b) for b in session.net.b])
    page.select_option("[data-testid=edges]", "gradients")
    page.fill("#batch_size", "11")
    page.press("#batch_size", "Enter")  # a new state, with the gradients set above
    eventually(lambda: max(w for w, _ in edges(page)) > 5)
    drawn = edges(page)
    assert sorted(v for _, v in drawn) == sorted(np.concatenate([g.ravel() for g in dW]))
    width = {v: w for w, v in drawn}  # width = 0.6 + 5 size, size = |v| / 2e-7
    assert width[2e-7] == pytest.approx(5.6, abs=1e-3)
    assert width[5e-9] == pytest.approx(0.6 + 5 * 5e-9 / 2e-7, abs=1e-3)
    page.select_option("[data-testid=edge-scale]", "log")
    width = {v: w for w, v in edges(page)}  # size = log(|v| / 3e-11) / log(2e-7 / 3e-11)
    assert width[3e-11] == pytest.approx(0.6, abs=1e-3)
    assert width[5e-9] == pytest.approx(
        0.6 + 5 * np.log(5e-9 / 3e-11) / np.log(2e-7 / 3e-11), abs=1e-3
    )
    assert "3.000e-11" in page.text_content("[data-testid=edge-scale-note]")


def test_narrow_screens_and_the_keyboard(chromium, server):
    """From 360 px up nothing leaves the screen sideways; Tab reaches the feature tiles, Upload
    and the output, Enter toggles a feature and an arrow key picks a point."""
    with chromium.new_context(viewport={"width": 360, "height": 800}) as context:
        errors = narrow_and_keyboard(context.new_page(), server)
    assert errors == [], errors


def narrow_and_keyboard(page, server) -> list[str]:
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server[0])
    eventually(lambda: page.text_content("[data-testid=train-loss]") != "\u2013")
    for width in (360, 800, 1400):
        page.set_viewport_size({"width": width, "height": 800})
        eventually(lambda w=width: page.evaluate("document.documentElement.scrollWidth") <= w)
        box = page.query_selector("[data-testid=boundary]").bounding_box()
        assert 0 <= box["x"] and box["x"] + box["width"] <= width
    page.set_viewport_size({"width": 360, "height": 800})
    seen = set()
    for _ in range(200):
        page.keyboard.press("Tab")
        focused = page.query_selector(":focus")
        seen.add(focused.get_attribute("data-feature") or focused.get_attribute("data-testid"))
        if {"x1^2", "upload-button", "boundary"} <= seen:
            break
    assert {"x1^2", "upload-button", "boundary"} <= seen, seen
    session = the_session(server[1])
    page.focus("[data-feature='x1^2']")
    page.keyboard.press("Enter")
    eventually(lambda: session.config["features"] == ["x1", "x2", "x1^2"])
    page.wait_for_selector("[data-feature='x1^2'][aria-pressed=true]")
    page.focus("[data-testid=boundary]")
    page.keyboard.press("ArrowRight")
    page.wait_for_selector("[data-testid=inspect] .line")
    assert session.selected is not None
    return errors


def test_for_a_class_seed_minibatch_accuracy_and_a_link_that_restores_it(page, server, chromium):
    session = the_session(server[1])
    page.fill("[data-testid=seed]", "7")
    page.press("[data-testid=seed]", "Enter")
    page.select_option(".col[data-layer='1'] select.act", "relu")
    page.select_option("[data-testid=speed]", "minibatch1")
    eventually(lambda: (session.config["seed"], session.config["speed"]) == (7, "minibatch1"))
    page.click("[data-testid=step-minibatch]")
    eventually(lambda: page.text_content("[data-testid=minibatch]") == "minibatch 1 of 10")
    train, test = session.accuracies()
    assert float(page.text_content("[data-testid=train-accuracy]")) == pytest.approx(
        train, abs=5e-4
    )
    assert float(page.text_content("[data-testid=test-accuracy]")) == pytest.approx(test, abs=5e-4)
    eventually(lambda: "%22seed%22%3A7" in page.url)
    link = page.url + "&hide=data,export"
    other = chromium.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    other.goto(link)
    eventually(lambda: len(server[1].state.sessions) == 2)
    restored = next(s for s in server[1].state.sessions.values() if s is not session)
    eventually(lambda: restored.config == session.config)
    assert not other.is_visible("[data-testid=dataset]") and not other.is_visible(
        "[data-testid=export]"
    )
    assert other.is_visible("[data-testid=play]")
    other.context.close()


def test_chain_rule_gradient_check_and_the_optimizers_state(page, server):
    session = the_session(server[1])
    page.select_option("#solver", "adam")
    page.click("[data-testid=step]")
    eventually(lambda: epoch(page) == 1)
    page.fill("[data-testid=inspect-index]", "2")
    page.click("[data-testid=inspect-go]")
    page.wait_for_selector("[data-testid=inspect] .line")
    page.select_option("[data-testid=inspect-layer]", "1")
    # by keyboard as by mouse: the cell takes the focus, Enter opens its chain rule
    page.focus("[data-testid=inspect] [data-result=dW] td[data-row='1'][data-col='0']")
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=chain] [data-chain=result]")
    trace = session.net.backprop(
        session.inputs(session.data.X_train[2:3]), session.data.y_train[2:3]
    )
    result = float(page.get_attribute("[data-testid=chain] [data-chain=result]", "data-value"))
    assert result == trace.dW[0][1, 0]
    # delta^1_2 = (sum over the 2 units of layer 2 of W^2_i2 delta^2_i) sigma'(z^1_2)
    assert len(page.query_selector_all("[data-testid=chain] [data-chain=W_next]")) == 2
    t = session.optimizer.t + 1  # the update line shows the next step's bias corrections
    shown = page.text_content("[data-testid=inspect] [data-line=update]")
    assert f"t = {t}" in shown and "1\u2212\u03b2\u2081" in shown
    check(
        page, "[data-line=update] [data-result=W_new]", session.derivation()["layers"][0]["W_new"]
    )
    page.click("[data-testid=gradcheck]")
    page.wait_for_selector("[data-testid=gradcheck-result].good")
    error = float(page.get_attribute("[data-testid=gradcheck-result]", "data-relative-error"))
    assert error < 1e-6 and "Good is below 1e-6" in page.text_content(
        "[data-testid=gradcheck-result]"
    )
    page.click("[data-testid=step]")  # a new network: the check's result says it is old
    page.wait_for_selector("[data-testid=gradcheck-result][data-stale=true]")


def test_the_smaller_points(page, server, tmp_path):
    rows = "".join(f"{i},{(i * 7) % 11},{'yes' if i % 3 else 'no'}\n" for i in range(40))
    (tmp_path / "buys.csv").write_text("a,b,buys\n" + rows)
    page.set_input_files("[data-testid=upload]", str(tmp_path / "buys.csv"))
    eventually(lambda: "class 1: yes" in page.text_content("[data-testid=message]"))
    eventually(lambda: page.is_disabled("#noise") and page.is_disabled("#n_samples"))
    page.fill("#batch_size", "0")
    page.press("#batch_size", "Enter")
    eventually(lambda: page.input_value("#batch_size") == "10")
    assert "from 1 to 1000" in page.text_content("[data-testid=message]")
    page.select_option("#alpha", "0.01")
    eventually(lambda: page.is_visible("[data-testid=l2-note]"))
    assert "L2" in page.text_content("[data-testid=l2-note]")
    page.fill("#theta", "25")
    page.dispatch_event("#theta", "input")
    eventually(lambda: '"dg":[0,25]' in (page.get_attribute("#tanh-plot", "data-scales") or ""))
    assert '"g":[-1,1]' in page.get_attribute("#tanh-plot", "data-scales")


@pytest.mark.slow
def test_a_stopped_server_is_shown_as_stopped(chromium):
    context = chromium.new_context()
    page = context.new_page()
    with playground_server() as (_, port, _):
        page.goto(f"http://127.0.0.1:{port}/")
        eventually(lambda: page.text_content("[data-testid=train-loss]") != "\u2013")
    eventually(lambda: "server stopped" in page.text_content("[data-testid=message]"))
    assert page.is_disabled("[data-testid=play]")
    time.sleep(10)  # the message does not go away as a passing one does (after 9 s)
    assert "server stopped" in page.text_content("[data-testid=message]")
    context.close()


def test_dead_units_are_named_and_outlined(page, server):
    session = the_session(server[1])
    page.select_option(".col[data-layer='1'] select.act", "relu")
    # the network, not the config: configure publishes the config before it builds the network
    eventually(lambda: session.net.activations[0].name == "relu")
    session.net.b[0][...] = [-100.0, 0.0, 0.0, 0.0]  # unit 1: z < 0 on every point
    session.net.W[0][0] = 0.0
    page.fill("#batch_size", "12")
    page.press("#batch_size", "Enter")  # a new state of these weights
    page.wait_for_selector("[data-testid=warnings] li.dead")
    assert "layer 1: unit 1 dead" in page.text_content("[data-testid=warnings]")
    assert "dead" in page.get_attribute(".col[data-layer='1'] .node", "class")


def test_l1_and_weight_decay_controls_and_their_derivation(page, server):
    """Beside the L2 penalty: an L1 share and weight decay, shown in the note and in the
    derivation view's dW and update lines."""
    page.select_option("#alpha", "0.1")
    page.select_option("#l1_ratio", "1")
    page.select_option("#weight_decay", "0.1")
    session = the_session(server[1])
    eventually(lambda: session.net.l1_ratio == 1.0 and session.optimizer.weight_decay == 0.1)
    # one reply a change: the note shows the last one's settings once its reply is in
    note = "[data-testid=l2-note]"
    eventually(lambda: all(p in page.text_content(note) for p in ("L1 share r = 1", "decays W")))
    page.fill("[data-testid=inspect-index]", "1")
    page.click("[data-testid=inspect-go]")
    page.wait_for_selector("[data-testid=inspect] .line")
    assert "sign(W" in page.text_content("[data-testid=inspect] [data-line=dW]")
    assert "weight decay" in page.text_content("[data-testid=inspect] [data-line=update]")
    trace = session.net.backprop(
        session.inputs(session.data.X_train[1:2]), session.data.y_train[1:2]
    )
    m = len(session.net.W) - 1  # the panel opens on the last layer
    check(page, "[data-line=dW] [data-result=dW]", trace.dW[m])
    eta = session.optimizer.learning_rate
    check(
        page,
        "[data-line=update] [data-result=W_new]",
        (1 - eta * 0.1) * session.net.W[m] - eta * trace.dW[m],
    )


def test_the_schedule_is_chosen_and_shown_in_the_derivation(page, server):
    """A step schedule halving the rate every epoch: after two epochs the derivation view
    writes its formula and eta_2 = 0.03 / 4, and its update steps by that rate."""
    page.select_option("[data-testid=schedule]", "step")
    page.fill("[data-testid=schedule-epochs]", "1")
    page.press("[data-testid=schedule-epochs]", "Enter")
    session = the_session(server[1])
    eventually(lambda: session.config["schedule_epochs"] == 1)
    for n in (1, 2):
        page.click("[data-testid=step]")
        eventually(lambda n=n: epoch(page) == n)
    page.fill("[data-testid=inspect-index]", "0")
    page.click("[data-testid=inspect-go]")
    page.wait_for_selector("[data-testid=schedule-view]")
    page.select_option("[data-testid=inspect-layer]", "1")
    shown = page.text_content("[data-testid=schedule-view]")
    assert "step schedule: \u03b7_e = \u03b7_0 0.5^floor(e / T)" in shown
    assert "\u03b7_0 = 0.03, T = 1, epoch e = 2: \u03b7_2 = 0.0075" in shown
    assert session.optimizer.learning_rate == 0.0075
    rate = re.compile(r"\u03b7 = 0\.0075(?![0-9])")  # the update line's learning rate
    eventually(lambda: rate.search(page.text_content("[data-testid=inspect] [data-line=update]")))
    check(
        page, "[data-line=update] [data-result=W_new]", session.derivation()["layers"][0]["W_new"]
    )


def test_a_dropout_rate_per_layer_reaches_training_and_the_derivation(page, server):
    """Layer 1's dropout field sets its rate; the derivation shows the mask's equation."""
    page.fill("[data-testid=dropout-1]", "0.5")
    page.press("[data-testid=dropout-1]", "Enter")
    page.dispatch_event("[data-testid=dropout-1]", "change")
    session = the_session(server[1])
    eventually(lambda: session.net.dropout == (0.5, 0.0))  # the new network is in place
    page.fill("[data-testid=inspect-index]", "1")
    page.click("[data-testid=inspect-go]")
    page.wait_for_selector("[data-testid=inspect] .line")
    page.select_option("[data-testid=inspect-layer]", "1")
    eventually(lambda: page.query_selector("[data-testid=inspect] [data-line=dropout]") is not None)
    line = page.text_content("[data-testid=inspect] [data-line=dropout]")
    assert "Bernoulli" in line and "p = 0.5" in line and "scaled by 2" in line
    page.select_option("[data-testid=inspect-layer]", "2")  # layer 2 drops nothing
    eventually(lambda: "layer 2 of" in page.text_content("[data-testid=inspect] .sample"))
    assert page.query_selector("[data-testid=inspect] [data-line=dropout]") is None
