"""What several commands share: argument types, reading a model (or a run directory), and the
report of scores. numpy, scikit-learn and the estimators are imported inside the functions."""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

from chainrule.datasets import STDIN

#: the folder ``chainrule train`` and ``chainrule plot`` write to by default
DEFAULT_OUT = "chainrule-out"
#: the model file inside a run directory
MODEL_FILE = "model.crm"


def debug_parent() -> argparse.ArgumentParser:
    """The parent parser of every (sub-)command: ``--debug``."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    return parent


# -- argument types: nonsensical numbers are refused by the parser (exit 2) ---------------------


def positive_int(text: str) -> int:
    """An integer >= 1."""
    return _int_at_least(text, 1)


def natural_int(text: str) -> int:
    """An integer >= 0."""
    return _int_at_least(text, 0)


def _int_at_least(text: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
    return value


def finite_float(text: str) -> float:
    """A finite number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0."""
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return value


def non_negative_float(text: str) -> float:
    """A finite number >= 0."""
    value = finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def unit_interval(text: str) -> float:
    """A number in [0, 1]."""
    value = finite_float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def open_unit_interval(text: str) -> float:
    """A number strictly between 0 and 1."""
    value = finite_float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be strictly between 0 and 1, got {text}")
    return value


def model_argument(parser: argparse.ArgumentParser, **kwargs) -> None:
    """The positional MODEL: a model file, or the run directory ``chainrule train`` wrote."""
    parser.add_argument(
        "model",
        help=kwargs.pop("help", f"a model file, or a run directory holding {MODEL_FILE}"),
        **kwargs,
    )


# -- models ------------------------------------------------------------------------------------


def model_path(path: str | Path) -> Path:
    """``path``, or the model inside it when it is a run directory."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        raise FileNotFoundError(
            f"no model file {path}: give a file that `chainrule train` saved, or its run "
            f"folder (--out, default {DEFAULT_OUT})"
        )
    if path.is_dir():
        inside = path / MODEL_FILE
        if not inside.is_file():
            raise FileNotFoundError(
                f"{path} is a directory without a {MODEL_FILE}: give a model file, or the "
                "folder that `chainrule train --out` wrote"
            )
        return inside
    return path


def load_model(path: str | Path):
    """``(model, info)``: a trained estimator (or ``Standardized``) and what it was trained on.

    Loaded with the default cap on declared array bytes
    (:data:`chainrule.persistence.DEFAULT_MAX_BYTES`).
    """
    from chainrule.estimators import Standardized
    from chainrule.persistence import DEFAULT_MAX_BYTES, load

    model = load(model_path(path), max_bytes=DEFAULT_MAX_BYTES)
    if not hasattr(model, "predict"):
        raise ValueError(f"{path} holds a {type(model).__name__}, not a trained estimator")
    return model, (model.info if isinstance(model, Standardized) else {})


def inner_model(model):
    """The estimator itself: ``model.model`` for a ``Standardized`` one."""
    from chainrule.estimators import Standardized

    return model.model if isinstance(model, Standardized) else model


# -- outputs -----------------------------------------------------------------------------------


def check_outputs(outputs, inputs=()) -> list[Path]:
    """The files a command writes, each checked before any work: a regular file that may be
    written (:func:`chainrule.persistence.check_target`), and neither one of the command's
    ``inputs`` nor another output, so that no command destroys what it reads. "The same file"
    is the same device and inode (``os.stat``), so a symbolic link, a hard link or a run
    directory that leads to an input is caught too; ``None`` and ``-`` (standard input) among
    the inputs are skipped. Returns the files, symbolic links resolved."""
    from chainrule.persistence import check_target

    taken = {}  # (st_dev, st_ino), or the path of a file yet to be made -> what it is
    for path in inputs:
        key = None if path is None or str(path) == STDIN else _identity(path)
        if key is not None:
            taken.setdefault(key, f"input {path}")
    targets = []
    for path in outputs:
        target = check_target(path)
        key = _identity(target) or str(target)
        if key in taken:
            raise ValueError(
                f"the output {path} is the same file as the {taken[key]}: writing it would "
                "destroy that; give another output"
            )
        taken[key] = f"output {path}"
        targets.append(target)
    return targets


def _identity(path) -> tuple[int, int] | None:
    """``(st_dev, st_ino)`` of the file ``path`` leads to, or None where there is none."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


# -- the report --------------------------------------------------------------------------------


def report(model, splits, classify: bool) -> str:
    """Accuracy (or R^2 and MAE) on each ``(name, X, y)`` split; for a classifier, then the
    confusion matrix of the last split."""
    from sklearn.metrics import accuracy_score, confusion_matrix, mean_absolute_error, r2_score

    lines = []
    column = max(16, *(len(name) + 11 for name, _, _ in splits))  # "validation accuracy "
    for name, X, y in splits:
        pred = model.predict(X)
        if classify:
            lines.append(f"{name + ' accuracy':<{column}}{accuracy_score(y, pred):.4f}")
        else:
            lines.append(
                f"{name + ' R^2':<{column}}{r2_score(y, pred):.4f}   "
                f"MAE {mean_absolute_error(y, pred):.4f}"
            )
    if classify:
        labels = inner_model(model).classes_
        cm = confusion_matrix(y, pred, labels=labels)
        width = max(5, *(len(str(c)) for c in labels), len(str(cm.max())))
        lines.append(f"confusion matrix ({name}; rows: true, columns: predicted)")
        lines.append(" " * width + "".join(f"{c!s:>{width + 1}}" for c in labels))
        for label, row in zip(labels, cm, strict=True):
            lines.append(f"{label!s:>{width}}" + "".join(f"{v:>{width + 1}}" for v in row))
    return "\n".join(lines)
