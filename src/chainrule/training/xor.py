"""The seed's toy run: a 2-2-1 sigmoid network learns XOR."""

from __future__ import annotations

from chainrule.network import Network
from chainrule.optimizers import GradientDescent


def train_xor(
    seed: int = 0, *, epochs: int = 1000, learning_rate: float = 1.0, max_restarts: int = 20
) -> tuple[Network, list[int]]:
    """The seed's toy run: a ``[2, 2, 1]`` sigmoid network learns XOR.

    Cross-entropy, full-batch gradient descent ``W^m <- W^m - lambda dC/dW^m`` (and the same for
    every ``b^m``, which the seed's toy code never updated), learning rate 1, 1000 epochs, the
    seed's standard-normal initial weights. A 2-2-1 network sometimes ends in a local minimum
    (the seed says so); then it restarts from new weights. Returns the network and the seeds of
    the runs that failed.

    >>> net, failed = train_xor(seed=1)
    >>> (net.forward([[0, 0], [1, 0], [0, 1], [1, 1]]) > 0.5).ravel().astype(int).tolist()
    [0, 1, 1, 0]
    """
    # imported here: the data sets' readers stay out of every `import chainrule.training`
    from chainrule.datasets import xor

    X, y = xor()
    Y = y.reshape(-1, 1).astype(float)
    failed = []
    for run_seed in range(seed, seed + max_restarts):
        net = Network(
            [2, 2, 1],
            activation="sigmoid",
            cost="binary_cross_entropy",
            init="normal",
            random_state=run_seed,
        )
        descent = GradientDescent(learning_rate)
        for _ in range(epochs):
            _, grad = net.cost_and_gradient(X, Y)
            descent.step(net.theta, grad)
        if ((net.forward(X) > 0.5).ravel() == y).all():
            return net, failed
        failed.append(run_seed)
    raise RuntimeError(f"none of {max_restarts} initial weights learned XOR")
