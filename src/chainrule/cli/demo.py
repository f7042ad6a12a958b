"""``chainrule demo xor``: the seed's XOR run and its table."""

from __future__ import annotations

import argparse

NAME = "demo"
HELP = "the seed's XOR run"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", choices=["xor"])
    parser.add_argument("--seed", type=int, default=0)


def xor_table(net) -> str:
    """The seed's table: Input, Output, Quantized."""
    from chainrule import datasets

    X, _ = datasets.xor()
    lines = ["Input\tOutput\tQuantized"]
    for x, out in zip(X.astype(int).tolist(), net.forward(X)[:, 0], strict=True):
        lines.append(f"{x}\t{out:.4f}\t[{int(out > 0.5)}]")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from chainrule.training import train_xor

    net, failed = train_xor(args.seed)
    for run_seed in failed:
        print(
            f"initial weights (seed {run_seed}) ended in a local minimum; "
            "restarting from new weights"
        )
    print(xor_table(net))
    return 0
