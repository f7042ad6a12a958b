"""``chainrule train --validation FILE``: a validation set of one's own, a CSV file with the
training data's columns, read by the same reader. Early stopping watches it instead of a split
of the training rows, the validation curves (and the loss plot's validation loss) are its, the
report scores it, and the run's model records its path. Everything is checked before training:
its columns, its labels (a class the training data lacks is an error naming it), that it is not
empty and is no output of the run. numpy is imported inside the functions."""

from __future__ import annotations

import argparse

from chainrule import datasets


def add_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--validation",
        metavar="FILE",
        help="a CSV file with the training data's columns, or - for standard input: early "
        "stopping and the validation curves use it instead of a split of the training rows",
    )


def check_arguments(args: argparse.Namespace) -> None:
    """Refuse, before any data is read, ``--validation`` with arguments it does not go with."""
    if args.validation is None:
        return
    if args.solver == "lbfgs":
        raise ValueError(
            "--validation needs --solver adam or sgd: the validation set is scored after each "
            "epoch, and lbfgs has no epochs"
        )
    if args.validation == datasets.STDIN and args.data == datasets.STDIN:
        raise ValueError("--data - and --validation - cannot both read standard input")


def read(args: argparse.Namespace, data: datasets.Dataset):
    """``(X_val, y_val)`` of ``--validation`` (None without it): its feature columns in the
    order of ``data``'s, and its targets as ``data``'s (labels of the training classes, or
    numbers). A ValueError names the file and what is wrong."""
    if args.validation is None:
        return None
    path = args.validation
    try:
        val = datasets.read_csv(path, target=data.target_name)
    except ValueError as e:
        raise ValueError(f"--validation {path}: {e}") from None
    X_val = _columns(val, data, path)
    return X_val, _targets(val.y, data, path)


def _columns(val: datasets.Dataset, data: datasets.Dataset, path: str):
    """The validation file's features in the training data's column order; other columns
    than the training data's are an error naming them."""
    missing = [n for n in data.feature_names if n not in val.feature_names]
    extra = [n for n in val.feature_names if n not in data.feature_names]
    if missing or extra:
        problems = [f"no column {', '.join(map(repr, missing))}"] if missing else []
        problems += [f"other columns ({', '.join(map(repr, extra))})"] if extra else []
        raise ValueError(
            f"--validation {path} has {' and '.join(problems)}; it needs the training data's "
            f"columns, {[*data.feature_names, data.target_name]!r} (in any order)"
        )
    return val.X[:, [val.feature_names.index(n) for n in data.feature_names]]


def _targets(y, data: datasets.Dataset, path: str):
    """The validation targets as the training targets are: labels among the training classes
    (in their type: labels such as ``1`` and ``a`` are read as text in both), or numbers."""
    import numpy as np

    target = data.target_name
    if data.task == "regression":
        if y.dtype.kind in "US":
            raise ValueError(
                f"--validation {path}: the target {target!r} holds labels ({str(y[0])!r}, "
                "...), but the training data's target is numeric (a regression)"
            )
        return y.astype(float)
    classes = np.unique(data.y)
    if hasattr(classes, "compute"):  # a folder's labels: one pass over them
        classes = classes.compute()
    if classes.dtype.kind == "O":  # text labels of a Parquet file
        classes = classes.astype(str)
    if classes.dtype.kind in "US":
        y = y.astype(str)
    elif y.dtype.kind == "f" and np.all(y == np.round(y)):
        y = y.astype(classes.dtype)
    if y.dtype.kind in "US" and classes.dtype.kind not in "US":
        unknown = np.unique(y).tolist()  # text labels against numeric classes: none is one
    else:
        unknown = np.setdiff1d(y, classes).tolist()
    if unknown:
        raise ValueError(
            f"--validation {path}: the target {target!r} holds {len(unknown)} class(es) the "
            f"training data does not have: {unknown[:5]!r}; the training classes are "
            f"{classes.tolist()[:20]!r}"
        )
    return y
