"""``chainrule plot``: a model's loss curve, weights or decision boundary, or the activations,
written as a PNG through the same safe writer as model files."""

from __future__ import annotations

import argparse
from pathlib import Path

from chainrule.cli.common import (
    DEFAULT_OUT,
    check_outputs,
    finite_float,
    inner_model,
    load_model,
    model_argument,
    model_path,
)

NAME = "plot"
HELP = "draw a model's pictures"


def _floats(text: str) -> list[float]:
    try:
        return [finite_float(s) for s in text.split(",")]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected numbers such as 1,5, got {text!r}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    model_argument(parser, nargs="?")
    parser.add_argument(
        "--what", default="loss", choices=["loss", "boundary", "weights", "activations"]
    )
    parser.add_argument(
        "--beta",
        type=_floats,
        default=[1.0, 5.0],
        help="sigmoid slopes for --what activations (default: 1,5)",
    )
    parser.add_argument("--data", help="2-D data for --what boundary")
    parser.add_argument("-o", "--output", help="the PNG file (default: OUT/WHAT.png)")
    parser.add_argument("--out", default=DEFAULT_OUT)


def _figure(args):
    from chainrule import datasets, plotting

    if args.what == "activations":
        return plotting.plot_activations(beta=tuple(args.beta))
    if args.model is None:
        raise ValueError(f"--what {args.what} needs a MODEL file")
    model, info = load_model(args.model)
    if args.what == "loss":
        return plotting.plot_loss(inner_model(model))
    if args.what == "weights":
        return plotting.plot_weights(inner_model(model))
    source = args.data or info.get("data")
    if source is None:
        raise ValueError("give --data: the model file does not say which data it learned")
    data = datasets.load(source, target=info.get("target"))
    if data.X.shape[1] != 2:
        raise ValueError(
            f"a decision boundary needs 2-D data; {source} has {data.X.shape[1]} features"
        )
    return plotting.plot_decision_boundary(model, data.X, data.y)


def run(args: argparse.Namespace) -> int:
    from chainrule import plotting

    path = Path(args.output or Path(args.out) / f"{args.what}.png")
    if path.parent.exists():  # before drawing; the model and the data are not overwritten
        model = model_path(args.model) if args.model is not None else None
        check_outputs([path], inputs=[model, args.data])
    figure = _figure(args)
    path.parent.mkdir(parents=True, exist_ok=True)
    plotting.save_figure(figure, path)
    print(f"saved the {args.what} plot to {path}")
    return 0
