"""What the critical-point tests share (tests/calculus/): a result's kinds and points, in order."""

from __future__ import annotations


def kinds(cps) -> list[str]:
    return [p.kind for p in cps]


def points(cps) -> list[tuple[float, ...]]:
    return [tuple(float(v) for v in p.point.values()) for p in cps]
