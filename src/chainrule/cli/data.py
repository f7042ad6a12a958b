"""``chainrule data NAME -o FILE``: a built-in data set as a CSV file (its features, then its
target), to look at, or to give to ``predict``, ``evaluate`` and ``train --data``."""

from __future__ import annotations

import argparse
import csv
import io
import sys

from chainrule import datasets
from chainrule.cli.common import check_outputs

NAME = "data"
HELP = "write a built-in data set as a CSV file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", choices=list(datasets.BUILTIN), help="the data set")
    parser.add_argument(
        "-o", "--output", metavar="PATH", help="the CSV file to write (default: standard output)"
    )


def csv_text(data: datasets.Dataset) -> str:
    """``data`` as CSV text: a header row, then one row per sample; the numbers as Python
    writes them (the shortest text that reads back as the same float)."""
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow([*data.feature_names, data.target_name])
    for x, y in zip(data.X.tolist(), data.y.tolist(), strict=True):
        writer.writerow([*x, y])
    return text.getvalue()


def run(args: argparse.Namespace) -> int:
    from chainrule.persistence import atomic_write

    if args.output:
        check_outputs([args.output])  # a regular file, checked before any work
    data = datasets.load(args.name)
    text = csv_text(data)
    if not args.output:
        sys.stdout.write(text)
        return 0
    with atomic_write(args.output) as f:  # a failed write leaves an old file whole
        f.write(text.encode("utf-8"))
    print(
        f"wrote {args.name} to {args.output}: {len(data.y)} rows, {data.X.shape[1]} feature "
        f"columns, then the target {data.target_name!r}",
        file=sys.stderr,
    )
    return 0
