"""The seed's toy run: a [2, 2, 1] sigmoid network learns XOR.

Cross-entropy cost, full-batch gradient descent, learning rate 1, 1000 epochs, weights drawn
from the standard normal as in the seed's ``np.random.randn``. A 2-2-1 network sometimes lands
in a local minimum (the seed says so); then this script draws new initial weights and says so.

Run: ``python examples/xor.py``
"""

from __future__ import annotations

import numpy as np

import chainrule as cr

X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
y = np.array([[0.0], [1.0], [1.0], [0.0]])


def train_xor(seed: int, epochs: int = 1000, learning_rate: float = 1.0) -> cr.Network:
    """Full-batch gradient descent: ``W^m <- W^m - lambda dC/dW^m``, same for ``b^m``."""
    net = cr.Network(
        [2, 2, 1],
        activation="sigmoid",
        cost="binary_cross_entropy",
        init="normal",
        random_state=seed,
    )
    descent = cr.GradientDescent(learning_rate)
    for _ in range(epochs):
        _, grad = net.cost_and_gradient(X, y)
        descent.step(net.theta, grad)  # every W^m and b^m (the seed's bias update never ran)
    return net


def main(seed: int = 0, max_restarts: int = 20) -> cr.Network:
    for restart in range(max_restarts):
        net = train_xor(seed + restart)
        quantized = (net.forward(X) > 0.5).astype(int).ravel()
        if quantized.tolist() == [0, 1, 1, 0]:
            break
        print(
            f"initial weights {restart + 1} ended in a local minimum "
            f"(outputs {quantized.tolist()}); restarting from new weights"
        )
    else:
        raise RuntimeError(f"no restart out of {max_restarts} learned XOR")
    print("Input\tOutput\tQuantized")
    for x, out in zip(X.astype(int).tolist(), net.forward(X)[:, 0], strict=True):
        print(f"{x}\t{out:.4f}\t[{int(out > 0.5)}]")
    return net


if __name__ == "__main__":
    main()
