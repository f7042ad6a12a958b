"""W and b: live views of the network's one parameter vector theta."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


def test_parameters_are_live():
    net = cr.Network([2, 3, 1], random_state=0)
    x = np.array([[1.0, -1.0]])
    net.W[0][...] = 0.5
    net.b[0][...] = 0.0
    net.W[1][...] = 1.0
    net.b[1][...] = 0.0
    # hidden z = 0.5 - 0.5 = 0, a = sigmoid(0) = 0.5, output = 3 * 0.5 (identity)
    assert net.forward(x)[0, 0] == pytest.approx(1.5)
    net.W[1] = np.full((1, 3), 2.0)  # assignment writes into the buffer as well
    assert net.forward(x)[0, 0] == pytest.approx(3.0)
    assert np.shares_memory(net.W[1], net.theta)
    with pytest.raises(ValueError, match="shape"):
        net.W[1] = np.zeros((3, 1))
