"""``chainrule predict``: a model's predictions for the rows of a CSV file."""

from __future__ import annotations

import argparse
import csv
import io
import sys

from chainrule.cli.common import (
    check_outputs,
    features,
    inner_model,
    load_model,
    model_argument,
    model_path,
)

NAME = "predict"
HELP = "predict the rows of a CSV file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    model_argument(parser)
    parser.add_argument("data", help="a CSV file with a header row, or - for standard input")
    parser.add_argument("--proba", action="store_true", help="add class probabilities")
    parser.add_argument(
        "-o", "--output", help="write a CSV file (a regular file) instead of standard output"
    )


def run(args: argparse.Namespace) -> int:
    from chainrule.persistence import atomic_write

    if args.output:  # a regular file, neither the model nor the data, checked before any work
        check_outputs([args.output], inputs=[model_path(args.model), args.data])
    model, info = load_model(args.model)
    X = features(info, args.data)
    pred = model.predict(X)
    header, rows = ["prediction"], [[p] for p in pred]
    if args.proba:
        inner = inner_model(model)
        if not hasattr(inner, "predict_proba"):
            raise ValueError("--proba needs a classifier; this model is a regressor")
        proba = model.predict_proba(X)
        header += [f"proba_{c}" for c in inner.classes_]
        rows = [[p, *(f"{v:.6g}" for v in pr)] for p, pr in zip(pred, proba, strict=True)]
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    if not args.output:
        sys.stdout.write(text.getvalue())
        return 0
    with atomic_write(args.output) as f:  # a failed write leaves an old file whole
        f.write(text.getvalue().encode("utf-8"))
    print(f"wrote {len(rows)} predictions to {args.output}", file=sys.stderr)
    return 0
