"""The engine's selection: CHAINRULE_ENGINE, use_engine, and the names it refuses."""

from __future__ import annotations

import pytest

from chainrule.engine import select


def test_engine_selection(monkeypatch):
    monkeypatch.setenv("CHAINRULE_ENGINE", "reference")
    assert select.engine() == "reference"
    with select.use_engine("compiled"):
        assert select.engine() == "compiled"
    monkeypatch.setenv("CHAINRULE_ENGINE", "numba")  # gone
    with pytest.raises(ValueError, match="unknown engine"):
        select.engine()
    with pytest.raises(ValueError, match="unknown engine"), select.use_engine("cuda"):
        pass
    monkeypatch.delenv("CHAINRULE_ENGINE")
    assert select.engine() == "compiled"
