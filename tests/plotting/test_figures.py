"""The figures every plot draws on (:mod:`chainrule.plotting.figures`): saved atomically as
their suffix says, and no pyplot (each a PNG as a notebook cell's value: tests/test_figures.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import chainrule as cr
from chainrule.plotting import plot_loss, save_figure

SRC = Path(cr.__file__).resolve().parents[1]


def test_save_figure_follows_the_suffix_and_is_atomic(tmp_path, monkeypatch):
    fig = plot_loss([2.0, 1.0])
    svg = save_figure(fig, tmp_path / "loss.svg")
    assert b"<svg" in svg.read_bytes()[:1000]
    with pytest.raises(ValueError, match="unknown figure format 'txt'"):
        save_figure(fig, tmp_path / "loss.txt")
    target = save_figure(fig, tmp_path / "loss")  # no suffix: PNG
    assert target.read_bytes()[:4] == b"\x89PNG"
    before = target.read_bytes()

    def broken(*args, **kwargs):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(fig, "savefig", broken)
    with pytest.raises(RuntimeError, match="renderer crashed"):
        save_figure(fig, target)
    assert target.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["loss", "loss.svg"]


def test_no_pyplot_and_a_lazy_matplotlib(tmp_path):
    code = (
        "import sys\n"
        "import chainrule.plotting as p\n"
        "assert 'matplotlib' not in sys.modules, 'imported at import time'\n"
        f"p.save_figure(p.plot_activations(), {str(tmp_path / 'a.png')!r})\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "a.png").stat().st_size > 1000
