"""``chainrule evaluate``: a model's scores on a labelled CSV file."""

from __future__ import annotations

import argparse

from chainrule.cli.common import inner_model, load_model, model_argument, report

NAME = "evaluate"
HELP = "score a model on a CSV file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    model_argument(parser)
    parser.add_argument("data", help="a CSV file with a header row, or - for standard input")
    parser.add_argument("--target", help="the target column (default: the one trained on)")


def run(args: argparse.Namespace) -> int:
    from chainrule import datasets

    model, info = load_model(args.model)
    data = datasets.read_csv(args.data, target=args.target or info.get("target"))
    X, names = data.X, info.get("features")
    if names and set(names) <= set(data.feature_names):  # the columns the model learned, in order
        X = X[:, [data.feature_names.index(name) for name in names]]
    classify = hasattr(inner_model(model), "classes_")
    print(f"chainrule evaluate: {len(data.y)} samples from {args.data}")
    print(report(model, [("all", X, data.y)], classify))
    return 0
