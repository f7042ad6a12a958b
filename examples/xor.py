"""The seed's toy run: a [2, 2, 1] sigmoid network learns XOR
==========================================================

Cross-entropy cost, full-batch gradient descent, learning rate 1, 1000 epochs, weights drawn
from the standard normal as in the seed's ``np.random.randn``. A 2-2-1 network sometimes lands
in a local minimum (the seed says so); then it draws new initial weights and says so.
The training itself is :func:`chainrule.training.train_xor`.

Run: ``python examples/xor.py`` (or ``chainrule demo xor``).
"""

from __future__ import annotations

from chainrule.datasets import xor
from chainrule.training import train_xor


def main(seed: int = 0):
    net, failed = train_xor(seed)
    for run_seed in failed:
        print(
            f"initial weights (seed {run_seed}) ended in a local minimum; "
            "restarting from new weights"
        )
    X, _ = xor()
    print("Input\tOutput\tQuantized")
    for x, out in zip(X.astype(int).tolist(), net.forward(X)[:, 0], strict=True):
        print(f"{x}\t{out:.4f}\t[{int(out > 0.5)}]")
    return net


if __name__ == "__main__":
    main()
