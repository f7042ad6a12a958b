"""The playground's data: two-dimensional problems, their input features, and CSV uploads.

Every point lies in the square ``[-6, 6]^2`` the page draws. Classification targets are 0 and 1
(the sigmoid output's range); regression targets lie in about ``[-1, 1]``.

>>> data = make_dataset("xor", n_samples=100, noise=0.0, train_ratio=0.5, seed=0)
>>> data.X_train.shape, data.X_test.shape, data.task
((50, 2), (50, 2), 'classification')
>>> make_features(np.array([[1.0, 2.0]]), ["x1", "x1*x2", "x2^2"])
array([[1., 2., 4.]])
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from chainrule import datasets

#: half the side of the square the points lie in
RADIUS = 6.0
#: the largest CSV upload, in bytes, and in rows of data
MAX_CSV_BYTES = 1_000_000
MAX_CSV_ROWS = 10_000

CLASSIFICATION_SETS = ("xor", "circles", "moons", "spiral", "gauss")
REGRESSION_SETS = ("plane", "sine")

#: the input features, each a function of the points ``X = [x1, x2]``
FEATURES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "x1": lambda X: X[:, 0],
    "x2": lambda X: X[:, 1],
    "x1^2": lambda X: X[:, 0] ** 2,
    "x2^2": lambda X: X[:, 1] ** 2,
    "x1*x2": lambda X: X[:, 0] * X[:, 1],
    "sin(x1)": lambda X: np.sin(X[:, 0]),
    "sin(x2)": lambda X: np.sin(X[:, 1]),
}


@dataclass
class PlaygroundData:
    """Points split into a training and a test set, with their task."""

    name: str
    task: str  # "classification" or "regression"
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def make_features(X: np.ndarray, features: Sequence[str]) -> np.ndarray:
    """The network's input ``a^0``: one column per chosen feature of the points ``X``."""
    unknown = [f for f in features if f not in FEATURES]
    if unknown or not features:
        raise ValueError(f"features must be a non-empty subset of {list(FEATURES)}, got {features}")
    return np.column_stack([FEATURES[f](X) for f in features])


def _xor(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(-5, 5, size=(n, 2))
    X += np.where(X > 0, 0.3, -0.3)  # a small gap along the axes
    return X, (X[:, 0] * X[:, 1] < 0).astype(float)  # 1 where the signs differ


def _circles(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    inner = np.arange(n) < n // 2
    r = np.where(inner, rng.uniform(0, 2.5, n), rng.uniform(3.5, 5.0, n))
    angle = rng.uniform(0, 2 * np.pi, n)
    return np.column_stack([r * np.cos(angle), r * np.sin(angle)]), inner.astype(float)


def _moons(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    upper = np.arange(n) < n // 2
    t = rng.uniform(0, np.pi, n)
    x = np.where(upper, np.cos(t), 1 - np.cos(t))
    y = np.where(upper, np.sin(t), 0.5 - np.sin(t))
    return np.column_stack([3.5 * (x - 0.5), 3.5 * (y - 0.25)]), upper.astype(float)


def _spiral(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    first = np.arange(n) < n // 2
    r = rng.uniform(0.05, 1.0, n) * 5
    angle = 1.75 * r + np.where(first, 0.0, np.pi)
    return np.column_stack([r * np.sin(angle), r * np.cos(angle)]), first.astype(float)


def _gauss(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    positive = np.arange(n) < n // 2
    centre = np.where(positive, 2.0, -2.0)[:, None]
    return centre + rng.normal(0, 1.0, size=(n, 2)), positive.astype(float)


def _plane(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(-RADIUS, RADIUS, size=(n, 2))
    return X, (X[:, 0] + X[:, 1]) / (2 * RADIUS)


def _sine(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(-RADIUS, RADIUS, size=(n, 2))
    return X, np.sin(X[:, 0] / 2) * np.cos(X[:, 1] / 3)


_GENERATORS = {
    "xor": _xor,
    "circles": _circles,
    "moons": _moons,
    "spiral": _spiral,
    "gauss": _gauss,
    "plane": _plane,
    "sine": _sine,
}


def split(
    name: str, task: str, X: np.ndarray, y: np.ndarray, train_ratio: float, seed: int
) -> PlaygroundData:
    """Shuffle the points and keep ``round(train_ratio n)`` of them (at least one) for training."""
    order = np.random.default_rng(seed).permutation(len(y))
    k = min(max(1, round(train_ratio * len(y))), len(y) - 1)
    train, test = order[:k], order[k:]
    return PlaygroundData(name, task, X[train], y[train], X[test], y[test])


def make_dataset(
    name: str, *, n_samples: int = 200, noise: float = 0.0, train_ratio: float = 0.5, seed: int = 0
) -> PlaygroundData:
    """One of the built-in problems, with Gaussian noise of standard deviation ``2 noise`` added
    to the points' coordinates, split into training and test points."""
    if name not in _GENERATORS:
        raise ValueError(f"unknown data set {name!r}; valid names are {list(_GENERATORS)}")
    rng = np.random.default_rng(seed)
    X, y = _GENERATORS[name](n_samples, rng)
    X = X + rng.normal(0, 2 * noise, size=X.shape)
    task = "classification" if name in CLASSIFICATION_SETS else "regression"
    return split(name, task, X, y, train_ratio, seed)


def _parse_number(text: str, row: int, column: int) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"row {row}, column {column} is {text!r}, not a number") from None
    if not np.isfinite(value):
        raise ValueError(f"row {row}, column {column} is {text!r}, not a finite number")
    return value


def _rows(text: str) -> list[list[str]]:
    """The CSV's data rows (a header row of non-numbers is dropped), or a clear error."""
    filled = (r for r in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in r))
    try:  # a header, the rows allowed, and one more: enough to refuse, without reading on
        rows = list(itertools.islice(filled, MAX_CSV_ROWS + 2))
    except csv.Error as e:  # a field over 128 KiB, an unclosed quote, ...
        raise ValueError(f"the CSV file cannot be read: {e}") from None
    if rows:
        try:
            [float(cell) for cell in rows[0][:2]]
        except ValueError:
            rows = rows[1:]  # a header (the features are numbers; a target may be a label)
    if len(rows) < 2:
        raise ValueError("the CSV file holds fewer than 2 rows of data")
    if len(rows) > MAX_CSV_ROWS:
        raise ValueError(
            f"the CSV file has more than {MAX_CSV_ROWS} rows; the playground takes at most "
            f"{MAX_CSV_ROWS}"
        )
    return rows


def scale_table(table: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """``[x1, x2, y]`` rows scaled as :func:`parse_csv` describes: ``(X, y, task)``."""
    X, y = table[:, :2], table[:, 2]
    # centre and half-span from halves, so that 1e308 - (-1e308) does not overflow
    mid, half = X.max(axis=0) / 2 + X.min(axis=0) / 2, X.max(axis=0) / 2 - X.min(axis=0) / 2
    scaled = (X - mid) / np.where(half > 0, half, 1.0) * RADIUS
    X = np.where(half > 0, scaled, -RADIUS)  # x -> [-6, 6]; a constant column at -6
    values = np.unique(y)
    if len(values) <= 2:
        return X, (y == values[-1]).astype(float), "classification"
    centre, half = y.max() / 2 + y.min() / 2, y.max() / 2 - y.min() / 2
    return X, (y - centre) / half, "regression"  # y -> [-1, 1]


def parse_csv(content: bytes | str) -> tuple[np.ndarray, np.ndarray, str]:
    """Two feature columns and a target column from CSV text: ``(X, y, task)``.

    The features are scaled linearly onto ``[-6, 6]``. A target of two distinct values makes a
    classification problem: numbers (the smaller becomes 0, the larger 1) or labels such as
    yes/no (in alphabetical order: "no" 0, "yes" 1). A target of more numbers makes a
    regression problem, scaled onto ``[-1, 1]``. A target with one value is refused.
    """
    return parse_csv_classes(content)[:3]


def parse_csv_classes(content: bytes | str) -> tuple[np.ndarray, np.ndarray, str, list[str]]:
    """:func:`parse_csv` and the names of classes 0 and 1 (``[]`` for a regression)."""
    size = len(content.encode() if isinstance(content, str) else content)
    if size > MAX_CSV_BYTES:
        raise ValueError(
            f"the CSV file is {size / 1e6:.1f} MB; the playground takes files up to "
            f"{MAX_CSV_BYTES / 1e6:.0f} MB"
        )
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValueError("the CSV file is not UTF-8 text") from None
    rows = _rows(content)
    for i, row in enumerate(rows, 1):
        if len(row) != 3:
            raise ValueError(
                f"data row {i} has {len(row)} columns; the playground takes exactly 3 "
                f"(two features, then the target)"
            )
    X = np.array([[_parse_number(r[j], i, j + 1) for j in (0, 1)] for i, r in enumerate(rows, 1)])
    targets = [r[2].strip() for r in rows]
    labels = sorted(set(targets))
    if len(labels) == 1:
        raise ValueError(
            f"the target column is {labels[0]!r} in every row: there is nothing to learn (it "
            "needs two classes, or numbers that vary)"
        )
    if not any(datasets.is_number(t) for t in targets):  # labels, such as yes / no
        if len(labels) != 2:
            raise ValueError(
                f"the target column holds {len(labels)} different labels; the playground "
                "classifies two (or give numbers for a regression)"
            )
        y = np.array([float(t == labels[1]) for t in targets])
        return *scale_table(np.column_stack([X, y])), labels
    y = np.array([_parse_number(t, i, 3) for i, t in enumerate(targets, 1)])
    values = np.unique(y)
    X, y, task = scale_table(np.column_stack([X, y]))
    return X, y, task, [f"{v:g}" for v in values] if task == "classification" else []


def load_csv(path: str, *, train_ratio: float = 0.5, seed: int = 0) -> PlaygroundData:
    """A CSV file read, scaled and split as the playground does with an upload."""
    with open(path, "rb") as f:
        X, y, task = parse_csv(f.read())
    return split(path, task, X, y, train_ratio, seed)
