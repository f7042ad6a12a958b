"""The examples run and print what they promise."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_xor_prints_the_seed_table(capsys):
    runpy.run_path(str(EXAMPLES / "xor.py"), run_name="__main__")
    out = capsys.readouterr().out
    rows = out[out.index("Input\tOutput\tQuantized") :].splitlines()[1:]
    assert [row.split("\t")[2] for row in rows] == ["[0]", "[1]", "[1]", "[0]"]
    assert [row.split("\t")[0] for row in rows] == ["[0, 0]", "[1, 0]", "[0, 1]", "[1, 1]"]


def test_xor_restarts_from_a_local_minimum_and_says_so(capsys):
    sys.path.insert(0, str(EXAMPLES))
    try:
        import xor
    finally:
        sys.path.remove(str(EXAMPLES))
    xor.main(seed=0)  # seed 0 lands in a local minimum first
    assert "local minimum" in capsys.readouterr().out


def test_xor_updates_the_biases_too():
    """The seed's toy code never updated b (its bias line raises); chainrule's does."""
    import chainrule as cr
    from chainrule.training import train_xor

    start = cr.Network(
        [2, 2, 1], activation="sigmoid", cost="binary_cross_entropy", init="normal", random_state=3
    )
    net, failed = train_xor(seed=3)
    assert failed == []  # so net started from the weights of seed 3
    for b0, b1 in zip(start.b, net.b, strict=True):
        assert not np.allclose(b0, b1)
