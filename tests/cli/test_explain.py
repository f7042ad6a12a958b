"""``chainrule explain`` (:mod:`chainrule.cli.explain`): one sample's forward and backward pass."""

from __future__ import annotations

from commands import run


def test_explain_prints_every_layer(trained):
    out, _, _ = trained
    text = run("explain", out / "model.crm", "--sample", "7").stdout
    for piece in (
        "sample 7",
        "z^1",
        "a^1",
        "z^2",
        "a^2",
        "delta^2",
        "delta^1",
        "largest |dC/dW^2| entries",
        "dC/db^1",
    ):
        assert piece in text, piece


def test_explain_without_a_model_trains_the_xor_demo():
    text = run("explain", "--sample", "1").stdout
    assert "XOR" in text and "delta^1" in text and "layer 2 (1 units, sigmoid)" in text
