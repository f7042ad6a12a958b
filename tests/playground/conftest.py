"""Fixtures shared by the playground's tests."""

from __future__ import annotations

import runpy

import pytest


def _run_script(tmp_path, source: str, run_name: str = "__main__", argv=("retrain.py",)) -> dict:
    """Run an exported script as ``python retrain.py ARGS`` would, in ``tmp_path``."""
    (tmp_path / "retrain.py").write_text(source)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        patch.setattr("sys.argv", list(argv))
        return runpy.run_path(str(tmp_path / "retrain.py"), run_name=run_name)


@pytest.fixture
def run_script():
    """``run_script(tmp_path, source, run_name, argv)``: an exported script run in ``tmp_path``."""
    return _run_script
