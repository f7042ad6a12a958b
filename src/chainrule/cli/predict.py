"""``chainrule predict``: a model's predictions for the rows of a CSV file, read, predicted and
written block by block, so that a file larger than memory streams through."""

from __future__ import annotations

import argparse
import csv
import io
import sys

from chainrule.cli.common import (
    check_outputs,
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
    import contextlib

    from chainrule import datasets
    from chainrule.persistence import atomic_write

    if args.output:  # a regular file, neither the model nor the data, checked before any work
        check_outputs([args.output], inputs=[model_path(args.model), args.data])
    model, info = load_model(args.model)
    inner = inner_model(model)
    if args.proba and not hasattr(inner, "predict_proba"):
        raise ValueError("--proba needs a classifier; this model is a regressor")
    header = ["prediction"] + ([f"proba_{c}" for c in inner.classes_] if args.proba else [])
    exclude = (info["target"],) if info.get("target") else ()
    blocks = datasets.iter_features(args.data, info.get("features"), exclude=exclude)
    n = 0
    with contextlib.ExitStack() as stack:
        # a failed write leaves an old file whole
        out = stack.enter_context(atomic_write(args.output)) if args.output else None
        for X in blocks:
            text = _rows(model, X, header if n == 0 else None, args.proba)
            if out is None:
                sys.stdout.write(text)
            else:
                out.write(text.encode("utf-8"))
            n += len(X)
    if args.output:
        print(f"wrote {n} predictions to {args.output}", file=sys.stderr)
    return 0


def _rows(model, X, header: list[str] | None, proba: bool) -> str:
    """One block's predictions as CSV text, after ``header`` when one is given."""
    pred = model.predict(X)
    rows = [[p] for p in pred]
    if proba:
        proba = model.predict_proba(X)
        rows = [[p, *(f"{v:.6g}" for v in pr)] for p, pr in zip(pred, proba, strict=True)]
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    if header is not None:
        writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue()
