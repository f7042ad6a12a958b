"""What the toolkit returns (:mod:`chainrule.calculus.records`)."""

from __future__ import annotations

import dataclasses

import pytest

from chainrule import calculus as calc


def test_records_are_frozen_dataclasses():
    p = calc.critical_points("x**2")[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.kind = "maximum"
    assert p.kind in calc.KINDS
    assert str(p).startswith("minimum at x=0")
