"""The playground's entry point (:func:`chainrule.playground.serve`): the real server, as the
command runs it."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")


def test_serve_prints_its_address_and_refuses_foreign_hosts():
    """The real server, as ``chainrule playground --port 0 --no-browser`` runs it."""
    import httpx

    code = "from chainrule.playground import serve; serve('127.0.0.1', 0, open_browser=False)"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        assert httpx.get(url, timeout=30).status_code == 200
        assert httpx.get(url, headers={"host": "evil.example"}, timeout=30).status_code == 400
    finally:
        proc.terminate()
        proc.wait(20)
