"""The seed's toy run (:func:`chainrule.training.xor.train_xor`): a 2-2-1 sigmoid network learns
XOR, restarting from new weights after a local minimum."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.training.xor import train_xor

POINTS = [[0, 0], [1, 0], [0, 1], [1, 1]]


def test_the_network_learns_xor_and_names_the_seeds_that_did_not():
    net, failed = train_xor(seed=0)
    assert (net.forward(np.array(POINTS)) > 0.5).ravel().astype(int).tolist() == [0, 1, 1, 0]
    for seed in failed:  # each seed named failed fails alone
        with pytest.raises(RuntimeError, match="none of 1 initial weights"):
            train_xor(seed=seed, max_restarts=1)


def test_no_training_learns_nothing_and_says_so():
    with pytest.raises(RuntimeError, match="none of 3 initial weights learned XOR"):
        train_xor(epochs=0, max_restarts=3)
