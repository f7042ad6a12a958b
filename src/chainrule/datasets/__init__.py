"""The data sets the command line trains on: scikit-learn's embedded ones (no download), the
seed's XOR, two-dimensional toy problems, CSV files (``-`` is standard input), and folders of
Parquet or ``.npy`` files too large for memory (:func:`read_folder`, lazily, with dask).
The modules: :mod:`.csvfiles` (CSV files, through pandas), :mod:`.folders` (folders, through
dask and pyarrow), :mod:`.base` (:class:`Dataset`).

numpy and scikit-learn are imported when data is loaded, not with this module, so that the
command line's ``--help`` stays fast.

>>> data = load("xor")
>>> data.X.shape, data.task, data.feature_names
((4, 2), 'classification', ['x1', 'x2'])
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from chainrule.datasets.base import STDIN, Dataset
from chainrule.datasets.csvfiles import is_number, iter_features, read_csv, read_features
from chainrule.datasets.folders import read_folder

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "BUILTIN",
    "STDIN",
    "Dataset",
    "is_number",
    "iter_features",
    "load",
    "read_csv",
    "read_features",
    "read_folder",
    "xor",
]

#: built-in data sets: name -> task
BUILTIN = {
    "digits": "classification",
    "iris": "classification",
    "wine": "classification",
    "breast_cancer": "classification",
    "diabetes": "regression",
    "moons": "classification",
    "circles": "classification",
    "xor": "classification",
}


def xor() -> tuple[np.ndarray, np.ndarray]:
    """The seed's XOR table: inputs ``[0,0], [1,0], [0,1], [1,1]``, targets ``0 1 1 0``."""
    import numpy as np

    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    return X, np.array([0, 1, 1, 0])


def _builtin(name: str):
    """``(X, y)`` or a scikit-learn Bunch for a built-in data set other than XOR."""
    from sklearn import datasets as skdatasets

    if name == "moons":
        return skdatasets.make_moons(400, noise=0.2, random_state=0)
    if name == "circles":
        return skdatasets.make_circles(400, noise=0.1, factor=0.5, random_state=0)
    return getattr(skdatasets, f"load_{name}")()


def load(name: str, *, target: str | None = None) -> Dataset:
    """A built-in data set by name, or a CSV file by path (``-``: standard input); ``target``
    names a CSV file's target column, by default the last one."""
    import numpy as np

    if name in BUILTIN:
        task = BUILTIN[name]
        if name == "xor":
            X, y = xor()
            return Dataset(name, X, y, task, ["x1", "x2"])
        result = _builtin(name)
        if isinstance(result, tuple):
            X, y = result
            names = [f"x{i + 1}" for i in range(X.shape[1])]
        else:
            X, y, names = result.data, result.target, list(result.feature_names)
        return Dataset(name, np.asarray(X, dtype=float), np.asarray(y), task, names)
    path = Path(name)
    if name != STDIN and path.suffix.lower() != ".csv" and not path.exists():
        raise ValueError(
            f"unknown data set {name!r}: give one of {sorted(BUILTIN)}, the path of a CSV "
            "file, or - for standard input"
        )
    return read_csv(name, target=target)
