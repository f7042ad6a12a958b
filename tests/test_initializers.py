"""The initial weights: each init's statistics, and the default that follows the activation."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


@pytest.mark.parametrize("init", ["glorot_uniform", "he_normal", "normal"])
def test_initialisation_statistics(init):
    net = cr.Network([400, 300, 1], activation="relu", init=init, random_state=0)
    W = net.W[0]
    expected_std = {
        "glorot_uniform": np.sqrt(6 / 700) / np.sqrt(3),
        "he_normal": np.sqrt(2 / 400),
        "normal": 1.0,
    }[init]
    assert W.std() == pytest.approx(expected_std, rel=0.02)
    assert abs(W.mean()) < 0.05 * expected_std
    if init != "normal":
        assert not net.b[0].any()


def test_default_init_follows_the_activation():
    relu = cr.Network([500, 400, 1], activation="relu", random_state=0)
    tanh = cr.Network([500, 400, 1], activation="tanh", random_state=0)
    assert relu.W[0].std() == pytest.approx(np.sqrt(2 / 500), rel=0.02)  # He
    assert tanh.W[0].std() == pytest.approx(np.sqrt(2 / 900), rel=0.02)  # Glorot: r / sqrt(3)
