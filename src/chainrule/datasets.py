"""The data sets the command line trains on: scikit-learn's embedded ones (no download), the
seed's XOR, two-dimensional toy problems, and CSV files.

>>> data = load("xor")
>>> data.X.shape, data.task, data.feature_names
((4, 2), 'classification', ['x1', 'x2'])
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn import datasets as skdatasets

#: built-in data sets: name -> (loader, task)
BUILTIN = {
    "digits": (skdatasets.load_digits, "classification"),
    "iris": (skdatasets.load_iris, "classification"),
    "wine": (skdatasets.load_wine, "classification"),
    "breast_cancer": (skdatasets.load_breast_cancer, "classification"),
    "diabetes": (skdatasets.load_diabetes, "regression"),
    "moons": (lambda: skdatasets.make_moons(400, noise=0.2, random_state=0), "classification"),
    "circles": (
        lambda: skdatasets.make_circles(400, noise=0.1, factor=0.5, random_state=0),
        "classification",
    ),
    "xor": (None, "classification"),
}


@dataclass
class Dataset:
    """Features ``X``, targets ``y`` and where they came from."""

    name: str
    X: np.ndarray
    y: np.ndarray
    task: str  # "classification" or "regression"
    feature_names: list[str] = field(default_factory=list)
    target_name: str = "target"


def xor() -> tuple[np.ndarray, np.ndarray]:
    """The seed's XOR table: inputs ``[0,0], [1,0], [0,1], [1,1]``, targets ``0 1 1 0``."""
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    return X, np.array([0, 1, 1, 0])


def load(name: str, *, target: str | None = None) -> Dataset:
    """A built-in data set by name, or a CSV file by path (``target`` names its target column,
    by default the last one)."""
    if name in BUILTIN:
        loader, task = BUILTIN[name]
        if name == "xor":
            X, y = xor()
            return Dataset(name, X, y, task, ["x1", "x2"])
        result = loader()
        if isinstance(result, tuple):
            X, y = result
            names = [f"x{i + 1}" for i in range(X.shape[1])]
        else:
            X, y, names = result.data, result.target, list(result.feature_names)
        return Dataset(name, np.asarray(X, dtype=float), np.asarray(y), task, names)
    path = Path(name)
    if path.suffix.lower() != ".csv" and not path.exists():
        raise ValueError(
            f"unknown data set {name!r}: give one of {sorted(BUILTIN)} or the path of a CSV file"
        )
    return read_csv(path, target=target)


def _read_table(path: str | Path) -> tuple[Path, list[str], dict[str, list[str]]]:
    """The header and the columns (as text) of a CSV file with a header row."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such CSV file: {path}")
    with path.open(newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise ValueError(f"{path} is empty: a CSV file needs a header row")
    header, body = [h.strip() for h in rows[0]], [r for r in rows[1:] if any(c.strip() for c in r)]
    if not body:
        raise ValueError(f"{path} has a header but no data rows")
    for line, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ValueError(
                f"{path}, line {line}: {len(row)} fields where the header has {len(header)}"
            )
    return path, header, {h: [row[i].strip() for row in body] for i, h in enumerate(header)}


def read_csv(path: str | Path, *, target: str | None = None) -> Dataset:
    """Read a CSV file with a header row: ``target`` names the target column (by default the
    last). Feature columns must be numeric (an error names the first one that is not); the
    target may hold numbers or labels (strings are labels)."""
    path, header, columns = _read_table(path)
    target = target or header[-1]
    if target not in columns:
        raise ValueError(f"{path} has no column {target!r}; its columns are {header}")
    names = [h for h in header if h != target]
    if not names:
        raise ValueError(f"{path} has no feature columns besides the target {target!r}")
    X = np.column_stack([_numeric_column(columns[h], h, path) for h in names])
    try:
        y = np.array([float(v) for v in columns[target]])
        task = "classification" if np.all(y == np.round(y)) and len(set(y)) <= 20 else "regression"
        if task == "classification":
            y = y.astype(int)
    except ValueError:
        y, task = np.array(columns[target]), "classification"  # string targets are labels
    return Dataset(path.stem, X, y, task, names, target)


def read_features(
    path: str | Path, names: list[str] | None = None, *, exclude: tuple[str, ...] = ()
) -> np.ndarray:
    """The feature matrix of a CSV file: the columns ``names`` in that order when the file has
    them all, or else every column but those in ``exclude``, in file order."""
    path, header, columns = _read_table(path)
    if not names or not set(names) <= set(header):
        names = [h for h in header if h not in exclude]
    return np.column_stack([_numeric_column(columns[h], h, path) for h in names])


def _numeric_column(values: list[str], name: str, path: Path) -> np.ndarray:
    out = np.empty(len(values))
    for i, v in enumerate(values):
        try:
            out[i] = float(v)
        except ValueError:
            raise ValueError(
                f"{path}: column {name!r} is not numeric (line {i + 2} holds {v!r}); "
                "feature columns must hold numbers"
            ) from None
    return out
