"""The data sets the command line trains on: scikit-learn's embedded ones (no download), the
seed's XOR, two-dimensional toy problems, CSV files (``-`` is standard input), and folders of
Parquet or ``.npy`` files too large for memory (:func:`read_folder`, lazily, with dask).

numpy and scikit-learn are imported when data is loaded, not with this module, so that the
command line's ``--help`` stays fast.

>>> data = load("xor")
>>> data.X.shape, data.task, data.feature_names
((4, 2), 'classification', ['x1', 'x2'])
"""

from __future__ import annotations

import csv
import io
import math
import os
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

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

#: how standard input is named in messages
STDIN = "-"

#: the largest CSV text read (a file or standard input), in bytes: its cells take several times
#: as much memory once parsed. Larger data: a folder of Parquet or ``.npy`` files (streamed)
MAX_CSV_BYTES = 256 * 2**20


@dataclass
class Dataset:
    """Features ``X``, targets ``y`` and where they came from (dask arrays for a folder)."""

    name: str
    X: np.ndarray
    y: np.ndarray
    task: str  # "classification" or "regression"
    feature_names: list[str] = field(default_factory=list)
    target_name: str = "target"


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


def _text(path: str | Path) -> tuple[str, str]:
    """A CSV file's name for messages and its text, decoded as UTF-8 (BOM allowed). Only a
    regular file or standard input is read, and at most :data:`MAX_CSV_BYTES` of it."""
    if str(path) == STDIN:
        where, raw = "<stdin>", sys.stdin.buffer.read(MAX_CSV_BYTES + 1)
    else:
        where = str(path)
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            raise FileNotFoundError(f"no such CSV file: {where}") from None
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(f"{where} is a directory, not a CSV file")
        if not stat.S_ISREG(mode):  # reading /dev/zero never ends; opening a FIFO may block
            raise ValueError(
                f"{where} is not a regular file (it is a device, a FIFO or a socket); give a "
                "CSV file, or - for standard input"
            )
        with open(path, "rb") as f:
            raw = f.read(MAX_CSV_BYTES + 1)
    if len(raw) > MAX_CSV_BYTES:
        raise ValueError(
            f"{where} is over the limit of {MAX_CSV_BYTES} bytes for a CSV file "
            "(chainrule.datasets.MAX_CSV_BYTES); split it, or train on a folder of Parquet or "
            ".npy files"
        )
    try:
        return where, raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ValueError(
            f"{where}, line {line}: not UTF-8 text (byte 0x{raw[e.start]:02x}); "
            "save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)"
        ) from None


def _read_table(path: str | Path) -> tuple[str, list[str], dict[str, list[tuple[int, str]]]]:
    """The header and the columns of a CSV file with a header row: each cell as
    ``(line, text)``."""
    where, text = _text(path)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = [(reader.line_num, row) for row in reader]
    if not rows or not any(cell.strip() for cell in rows[0][1]):
        raise ValueError(f"{where} is empty: a CSV file needs a header row")
    header = [h.strip() for h in rows[0][1]]
    seen = set()
    for h in header:
        if h in seen:
            raise ValueError(f"{where}: the column name {h!r} appears twice in the header")
        seen.add(h)
    body = [(line, row) for line, row in rows[1:] if any(c.strip() for c in row)]
    if not body:
        raise ValueError(f"{where} has a header but no data rows")
    for line, row in body:
        if len(row) != len(header):
            raise ValueError(
                f"{where}, line {line}: {len(row)} fields where the header has {len(header)}"
            )
    columns = {h: [(line, row[i].strip()) for line, row in body] for i, h in enumerate(header)}
    return where, header, columns


def read_csv(path: str | Path, *, target: str | None = None) -> Dataset:
    """Read a CSV file with a header row (``-``: standard input): ``target`` names the target
    column (by default the last). Feature columns must hold finite numbers (an error names the
    file, line and column of the first that does not); the target may hold numbers or labels
    (strings are labels), and no cell of it may be empty."""
    import numpy as np

    where, header, columns = _read_table(path)
    target = target or header[-1]
    if target not in columns:
        raise ValueError(f"{where} has no column {target!r}; its columns are {header}")
    names = [h for h in header if h != target]
    if not names:
        raise ValueError(f"{where} has no feature columns besides the target {target!r}")
    X = np.column_stack([_numeric_column(columns[h], h, where) for h in names])
    cells = columns[target]
    for line, value in cells:
        if not value:
            raise ValueError(f"{where}, line {line}: the target {target!r} is empty")
    try:
        y = _numeric_column(cells, target, where)
        task = "classification" if np.all(y == np.round(y)) and len(set(y)) <= 20 else "regression"
        if task == "classification":
            y = y.astype(int)
    except _NotANumber:
        y, task = np.array([v for _, v in cells]), "classification"  # strings are labels
    name = "stdin" if where == "<stdin>" else Path(where).stem
    return Dataset(name, X, y, task, names, target)


def read_features(
    path: str | Path, names: list[str] | None = None, *, exclude: tuple[str, ...] = ()
) -> np.ndarray:
    """The feature matrix of a CSV file (``-``: standard input): the columns ``names`` in that
    order when the file has them all, or else every column but those in ``exclude``, in file
    order."""
    import numpy as np

    where, header, columns = _read_table(path)
    if not names or not set(names) <= set(header):
        names = [h for h in header if h not in exclude]
    if not names:
        raise ValueError(f"{where} has no feature columns")
    return np.column_stack([_numeric_column(columns[h], h, where) for h in names])


class _NotANumber(ValueError):
    """A cell that is not a number at all (as opposed to one out of range)."""


def _numeric_column(cells: list[tuple[int, str]], name: str, where: str) -> np.ndarray:
    """A column as floats; every cell must be a finite number."""
    import numpy as np

    out = np.empty(len(cells))
    for i, (line, v) in enumerate(cells):
        try:
            out[i] = x = float(v)
        except ValueError:
            raise _NotANumber(
                f"{where}, line {line}: column {name!r} is not numeric (it holds {v!r}); "
                "feature columns must hold numbers"
            ) from None
        if not math.isfinite(x):
            what = "a missing value (NaN)" if math.isnan(x) else f"{v!r}, past the float range"
            raise ValueError(
                f"{where}, line {line}: column {name!r} holds {what}; every cell must be a "
                "finite number (impute or drop that row)"
            )
    return out


def _npy_block(path: str):
    """The dask array of one ``.npy`` file (read when a worker computes it), one block."""
    import dask
    import dask.array as da
    import numpy as np

    try:
        header = np.load(path, mmap_mode="r")  # reads the shape and dtype only
    except (ValueError, OSError) as e:
        raise ValueError(f"{path} is not a .npy file numpy can read: {e}") from None
    if header.ndim != 2 or header.dtype.kind not in "biuf":
        raise ValueError(
            f"{path} holds a {header.ndim}-D {header.dtype} array; each .npy file of a folder "
            "must be a 2-D numeric table (rows: samples, last column: the target)"
        )
    return da.from_delayed(dask.delayed(np.load)(path), shape=header.shape, dtype=header.dtype)


def _folder_table(folder: Path, target: str | None):
    """``(X, y, feature names, target name)`` of a folder's Parquet or ``.npy`` files."""
    import dask.array as da

    parquet = sorted(folder.glob("*.parquet"))
    npy = sorted(folder.glob("*.npy"))
    if parquet:
        return _parquet_table(parquet, target, folder)
    if not npy:
        raise ValueError(
            f"{folder} holds no .parquet or .npy files: give a folder of Parquet files (one "
            "table) or of .npy files (2-D arrays, the target in the last column)"
        )
    blocks = [_npy_block(str(p)) for p in npy]
    widths = sorted({b.shape[1] for b in blocks})
    if len(widths) > 1:
        raise ValueError(f"the .npy files of {folder} have different numbers of columns {widths}")
    table = da.concatenate(blocks)
    d = table.shape[1]
    column = d - 1 if target is None else _column_index(target, d, folder)
    keep = [i for i in range(d) if i != column]
    names = [f"x{i + 1}" for i in range(len(keep))]
    return table[:, keep], table[:, column], names, target or "target"


def _read_columns(path: str, columns: list[str], dtype):
    """Columns of one Parquet file as a numpy array (on the worker that computes the block);
    one column name as a string: that column, 1-D."""
    import numpy as np
    import pyarrow.parquet as pq

    names = [columns] if isinstance(columns, str) else columns
    values = np.asarray(pq.read_table(path, columns=names).to_pandas().to_numpy(dtype=dtype))
    return values[:, 0] if isinstance(columns, str) else values


def _parquet_table(files: list[Path], target: str | None, folder: Path):
    """``(X, y, feature names, target name)`` of Parquet files, one dask block per file, from
    the files' metadata (row counts, column names and types); the features must be numeric."""
    import dask
    import dask.array as da
    import numpy as np
    import pyarrow.parquet as pq

    schema = pq.read_schema(files[0])
    columns = [c for c in schema.names if not c.startswith("__index_level_")]
    target = target or columns[-1]
    if target not in columns:
        raise ValueError(f"{folder} has no column {target!r}; its columns are {columns}")
    names = [c for c in columns if c != target]
    types = {c: schema.field(c).type for c in columns}
    if not names:
        raise ValueError(f"{folder} has no feature columns besides the target {target!r}")
    bad = [c for c in names if not _is_number(types[c])]
    if bad:
        raise ValueError(f"{folder}: the feature columns must be numeric; {bad} are not")
    y_dtype = np.dtype(float) if _is_number(types[target]) else np.dtype(object)
    X_parts, y_parts = [], []
    for path in files:
        rows = pq.read_metadata(path).num_rows
        found = pq.read_schema(path).names
        if not set(columns) <= set(found):
            raise ValueError(f"{path} lacks the columns {sorted(set(columns) - set(found))}")
        read = dask.delayed(_read_columns)
        X_parts.append(da.from_delayed(read(str(path), names, float), (rows, len(names)), float))
        y_parts.append(da.from_delayed(read(str(path), target, y_dtype), (rows,), y_dtype))
    return da.concatenate(X_parts), da.concatenate(y_parts), names, target


def _is_number(arrow_type) -> bool:
    import pyarrow as pa

    t = pa.types
    return t.is_integer(arrow_type) or t.is_floating(arrow_type) or t.is_boolean(arrow_type)


def _column_index(target: str, d: int, folder: Path) -> int:
    """A ``.npy`` folder's target column from ``--target`` (its index, from 0)."""
    try:
        column = int(target)
    except ValueError:
        raise ValueError(
            f"{folder} holds .npy files, whose columns have no names: give --target as a "
            f"column index (0 to {d - 1}; default: the last)"
        ) from None
    if not 0 <= column < d:
        raise ValueError(f"--target {column} is out of range: the .npy files have {d} columns")
    return column


def read_folder(path: str | Path, *, target: str | None = None) -> Dataset:
    """A folder of Parquet files (one table; ``target`` names the target column, by default
    the last) or of ``.npy`` files (2-D arrays stacked by rows; the target is the last column,
    or ``target`` as a column index), as lazy dask arrays: nothing is read but the files'
    metadata and, to tell classification from regression, the target column (integers, or
    numbers with at most 20 distinct values, are classes; strings are labels).
    Needs ``pip install chainrule[dask]``."""
    import dask.array as da
    import numpy as np

    folder = Path(path)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder")
    X, y, names, target_name = _folder_table(folder, target)
    if X.shape[0] == 0:
        raise ValueError(f"the files of {folder} hold no rows")
    task = "classification"
    if y.dtype.kind in "fc":
        values = da.unique(y).compute()
        integral = len(values) <= 20 and np.all(values == np.round(values))
        task = "classification" if integral else "regression"
        if integral:
            y = y.astype(int)
    elif y.dtype.kind not in "biuOUSb":
        raise ValueError(f"the target {target_name!r} of {folder} has dtype {y.dtype}")
    return Dataset(folder.name, X, y, task, names, target_name)
