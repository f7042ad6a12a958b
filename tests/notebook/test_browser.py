"""The notebook widgets in a real browser: JupyterLab on 127.0.0.1 (started and stopped here, a
token, no browser of its own, a temporary root), Debian's Chromium driven by Playwright opens a
notebook of the widget cells of ``docs/derivation.ipynb``, runs them, and checks that the seed's
sliders and the playground render and react.

Needs ``/usr/bin/chromium``, Playwright's Python package (no downloaded browser) and JupyterLab.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import needs_chromium

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("jupyterlab")
pytest.importorskip("ipywidgets")
pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.slow,
    needs_chromium,
]
#: the widget cells of the derivation notebook
WIDGET_TAGS = {"sliders", "playground"}
#: milliseconds for the server to answer, and for a kernel's answer to reach the page: guards
#: against a hang, not timings (a cold kernel imports chainrule and matplotlib first; on a 2-core
#: machine under load that took over 45 s once, against 19 s when quiet)
START, ANSWER = 120_000, 120_000


#: the current notebook's kernel is connected and idle (JupyterLab's own state)
KERNEL_IDLE = """() => {
  const app = window.jupyterapp;
  const context = app && app.shell.currentWidget && app.shell.currentWidget.sessionContext;
  const kernel = context && context.isReady && context.session && context.session.kernel;
  return Boolean(kernel) && kernel.status === "idle";
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def widget_notebook(path: Path) -> None:
    """The derivation notebook's widget cells, outputs cleared, as a notebook at ``path``."""
    nb = nbformat.read(ROOT / "docs/derivation.ipynb", as_version=4)
    nb.cells = [
        c
        for c in nb.cells
        if c.cell_type == "code" and WIDGET_TAGS & set(c.metadata.get("tags", []))
    ]
    assert len(nb.cells) == len(WIDGET_TAGS)
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on 127.0.0.1 and a free port, with a token; yields the notebook's URL."""
    home = tmp_path_factory.mktemp("jupyter")
    root = home / "root"
    root.mkdir()
    widget_notebook(root / "widgets.ipynb")
    # no "official Jupyter news?" toast over the page
    notification = home / "settings/@jupyterlab/apputils-extension/notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    token, port = secrets.token_hex(16), free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
    }
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1"]
    command += [
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.allow_root=True",  # CI runs as root
        "--LabApp.extension_manager=readonly",  # no look-ups on PyPI
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: the kernel's state, commands
        f"--LabApp.user_settings_dir={home / 'settings'}",
        f"--LabApp.workspaces_dir={home / 'workspaces'}",
    ]
    log = (home / "server.log").open("wb")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=home)
    try:
        status = f"http://127.0.0.1:{port}/api/status?token={token}"
        deadline = time.monotonic() + START / 1000
        while True:
            assert server.poll() is None, (home / "server.log").read_text()[-3000:]
            try:
                with urllib.request.urlopen(status, timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/lab/tree/widgets.ipynb?token={token}"
    finally:
        server.send_signal(signal.SIGTERM)  # the server shuts its kernels down
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
        log.close()


def image_source(page, selector: str) -> str:
    """The ``src`` of the image under ``selector`` once it has loaded (a blob URL per picture)."""
    page.wait_for_function(
        "s => { const i = document.querySelector(s); "
        "return i && i.complete && i.naturalWidth > 0 }",
        arg=selector,
        timeout=ANSWER,
    )
    return page.get_attribute(selector, "src")


def epoch(page) -> int:
    text = page.text_content(".chainrule-playground .widget-html-content")
    return int(re.match(r"epoch (\d+) ·", text).group(1))


def test_the_widgets_render_and_react_in_jupyterlab(lab, chromium):
    page = chromium.new_page(viewport={"width": 1400, "height": 1100})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(lab)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=START)
    # Run All Cells once the notebook's kernel is up and idle (on a loaded machine the menu
    # could be clicked before the notebook had its kernel, and nothing ran)
    page.wait_for_function(KERNEL_IDLE, timeout=START)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")

    # the seed's sliders: beta and theta at 5 over their picture; a new beta, a new picture
    sliders = ".chainrule-slopes"
    page.wait_for_selector(f"{sliders} img", timeout=ANSWER)
    labels = page.locator(f"{sliders} .widget-slider .widget-label").all_text_contents()
    assert labels == ["beta", "theta"]
    readouts = page.locator(f"{sliders} .widget-readout")
    assert [float(t) for t in readouts.all_text_contents()] == [5.0, 5.0]
    before = image_source(page, f"{sliders} img")
    readouts.nth(0).click()
    page.keyboard.press("Control+a")
    page.keyboard.type("20")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "([s, old]) => document.querySelector(s).src !== old",
        arg=[f"{sliders} img", before],
        timeout=ANSWER,
    )
    assert float(readouts.nth(0).text_content()) == 20.0
    image_source(page, f"{sliders} img")

    # the playground: epoch 0 drawn; step trains one epoch; play trains until pause
    playground = ".chainrule-playground"
    page.wait_for_selector(f"{playground} img", timeout=ANSWER)
    image_source(page, f"{playground} img")
    assert epoch(page) == 0
    page.click(f"{playground} button:has-text('step')")
    page.wait_for_function(
        "s => document.querySelector(s).textContent.startsWith('epoch 1 ·')",
        arg=f"{playground} .widget-html-content",
        timeout=ANSWER,
    )
    page.click(f"{playground} button:has-text('play')")
    page.wait_for_function(
        "s => parseInt(document.querySelector(s).textContent.slice(6)) >= 3",
        arg=f"{playground} .widget-html-content",
        timeout=ANSWER,
    )
    page.click(f"{playground} button:has-text('pause')")
    page.wait_for_selector(f"{playground} button:has-text('play')", timeout=ANSWER)
    paused = epoch(page)
    page.wait_for_timeout(1500)  # more than a frame's interval: nothing more is trained
    assert epoch(page) == paused

    # new hidden layers: a new network from epoch 0, a new picture
    before = image_source(page, f"{playground} img")
    layers = page.locator(f"{playground} input[type=text]")
    layers.fill("3")
    layers.press("Enter")
    page.wait_for_function(
        "([s, old]) => document.querySelector(s).src !== old",
        arg=[f"{playground} img", before],
        timeout=ANSWER,
    )
    assert epoch(page) == 0
    assert page.locator("text=Error displaying widget").count() == 0
    page.close()
    assert errors == [], errors
