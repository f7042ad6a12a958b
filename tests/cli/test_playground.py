"""The playground command: its options, and serve called with them."""

from __future__ import annotations

import argparse
import importlib

import pytest


def _command():
    return importlib.import_module("chainrule.cli.playground")


def test_command_parses_its_options_and_calls_serve(monkeypatch):
    cmd = _command()
    assert cmd.NAME == "playground" and cmd.HELP
    parser = argparse.ArgumentParser()
    cmd.add_arguments(parser)
    args = parser.parse_args([])
    assert (args.host, args.port, args.no_browser) == ("127.0.0.1", 8000, False)
    calls = []
    monkeypatch.setattr("chainrule.playground.serve", lambda *a, **k: calls.append((a, k)))
    args = parser.parse_args(["--port", "0", "--no-browser", "--host", "::1"])
    assert cmd.run(args) == 0
    assert calls == [(("::1", 0), {"open_browser": False})]
    with pytest.raises(ValueError, match="--port must be in"):
        cmd.run(parser.parse_args(["--port", "70000"]))
