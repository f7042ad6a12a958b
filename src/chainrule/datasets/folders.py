"""Folders of Parquet or ``.npy`` files too large for memory, read lazily with dask."""

from __future__ import annotations

from pathlib import Path

from chainrule.datasets.base import Dataset

__all__ = ["read_folder"]


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
