"""CSV files with a header row (``-``: standard input), parsed by pandas' C reader and checked
afterwards, so that a bad cell is named by file, line and column; any size that fits in
memory, or any size at all read block by block (:func:`iter_features`).

The line numbers and the text of a bad cell come from a second reading with the ``csv``
module, which runs only when there is an error to report. pandas is imported when a file is
read, not with this module.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import itertools
import math
import os
import stat
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from chainrule.datasets.base import STDIN, Dataset

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["iter_features", "read_csv", "read_features"]

#: rows of a block that :func:`iter_features` yields by default
BLOCK_ROWS = 65536


class _NotANumber(ValueError):
    """A cell that is not a number at all (as opposed to one out of range)."""


class _Stdin:
    """Standard input, read as it comes and kept in a temporary file as it is read, so that a
    pipe of any length streams through in bounded memory (a block is parsed as soon as it has
    arrived) and what was read can be read again (for an error's line number)."""

    def __init__(self) -> None:
        self.source = sys.stdin.buffer
        self.spool = tempfile.TemporaryFile()  # deleted when closed, or at exit

    def open(self) -> io.RawIOBase:
        """A new reading from the start: the spooled bytes, then more of standard input. Raw
        (unbuffered): a read returns what has arrived, where a buffered one would wait to
        fill its buffer."""
        return _Replay(self)


class _Replay(io.RawIOBase):
    """One reading of :class:`_Stdin` from its first byte."""

    def __init__(self, stdin: _Stdin) -> None:
        self.stdin, self.position = stdin, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        spool = self.stdin.spool
        end = spool.seek(0, io.SEEK_END)
        if self.position == end:  # all spooled bytes read: the next ones, as they arrive
            chunk = self.stdin.source.read1(len(buffer))
            if not chunk:
                return 0
            spool.write(chunk)
            end += len(chunk)
        spool.seek(self.position)
        n = spool.readinto(memoryview(buffer)[: min(len(buffer), end - self.position)])
        self.position += n
        return n


class _ArrivedText:
    """The UTF-8 text of a raw stream, each ``read`` returning what has arrived (pandas'
    reader takes that as it comes; an ``io.TextIOWrapper`` would wait to fill the size)."""

    def __init__(self, raw: io.RawIOBase) -> None:
        self.raw = raw
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()

    def read(self, size: int = -1) -> str:
        while True:
            chunk = self.raw.read(size if size > 0 else -1) or b""
            text = self.decoder.decode(chunk, final=not chunk)
            if text or not chunk:
                return text


class _Source:
    """A CSV file (a regular file, or standard input, streamed: :class:`_Stdin`), its name
    for messages, and its header row."""

    def __init__(self, path: str | Path) -> None:
        if str(path) == STDIN:
            self.where, self.data = "<stdin>", _Stdin()
        else:
            self.where, self.data = str(path), Path(path)
            try:
                mode = os.stat(path).st_mode
            except FileNotFoundError:
                raise FileNotFoundError(f"no such CSV file: {self.where}") from None
            if stat.S_ISDIR(mode):
                raise IsADirectoryError(f"{self.where} is a directory, not a CSV file")
            if not stat.S_ISREG(mode):  # reading /dev/zero never ends; opening a FIFO may block
                raise ValueError(
                    f"{self.where} is not a regular file (it is a device, a FIFO or a socket); "
                    "give a CSV file, or - for standard input"
                )
        self.header = self._header()

    def binary(self):
        """The file's bytes, as a new binary stream."""
        return self.data.open() if isinstance(self.data, _Stdin) else open(self.data, "rb")

    @contextlib.contextmanager
    def rows(self) -> Iterator[Iterator[tuple[int, list[str]]]]:
        """``(line, cells)`` of each row that holds a cell that is not blank, the header first,
        read with the csv module (with no limit on a field's size)."""
        limit = csv.field_size_limit(sys.maxsize)
        try:
            with io.TextIOWrapper(self.binary(), encoding="utf-8-sig", newline="") as text:
                reader = csv.reader(text)
                yield (
                    (reader.line_num, cells) for cells in reader if any(c.strip() for c in cells)
                )
        except UnicodeDecodeError:
            raise self._not_utf8() from None
        finally:
            csv.field_size_limit(limit)

    def _header(self) -> list[str]:
        with self.rows() as rows:
            _, cells = next(rows, (0, []))
        header = [h.strip() for h in cells]
        if not header:
            raise ValueError(f"{self.where} is empty: a CSV file needs a header row")
        numbered = [str(i) for i in range(len(header))], [str(i + 1) for i in range(len(header))]
        if all(is_number(h) for h in header) and header not in numbered:
            raise ValueError(
                f"{self.where}, line 1: the first row holds only numbers ({', '.join(header[:4])}"
                f"{', ...' if len(header) > 4 else ''}), so it looks like data, not a header; "
                "chainrule reads the first row as the column names: add a header row (for "
                "example x1,x2,...,target) so that no row is lost"
            )
        seen = set()
        for h in header:
            if h in seen:
                raise ValueError(f"{self.where}: the column name {h!r} appears twice in the header")
            seen.add(h)
        return header

    def _not_utf8(self) -> ValueError:
        """The error for a file that is not UTF-8 text, naming the line of the first bad byte."""
        with self.binary() as f:
            raw = f.read()
        try:
            raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            line = raw[: e.start].count(b"\n") + 1
            return ValueError(
                f"{self.where}, line {line}: not UTF-8 text (byte 0x{raw[e.start]:02x}); "
                "save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)"
            )
        return ValueError(f"{self.where} is not UTF-8 text")

    def frames(
        self, rows: int | None = None, text: tuple[str, ...] = ()
    ) -> Iterator[tuple[int, pd.DataFrame]]:
        """The data rows as DataFrames of at most ``rows`` rows (None: one), each with the
        index of its first row (0: the first data row); a row of blank cells is dropped. The
        columns ``text`` are kept as the file's text."""
        import pandas as pd

        options = {
            "header": 0,
            "names": self.header,
            "index_col": False,
            "dtype": dict.fromkeys(text, str),
        }
        options |= {"keep_default_na": False, "na_values": []}
        first = 0
        with self.binary() as f:
            streamed = isinstance(self.data, _Stdin)  # standard input: parsed as it arrives
            with self._parsing():
                reader = pd.read_csv(
                    _ArrivedText(f) if streamed else f,
                    encoding="utf-8-sig",
                    skipinitialspace=True,
                    chunksize=rows,
                    **options,
                )
            chunks = iter([reader] if rows is None else reader)
            while True:
                with self._parsing():
                    frame = next(chunks, None)
                if frame is None:
                    break
                frame = _without_blank_rows(frame)
                if len(frame):
                    yield first, frame
                    first += len(frame)
        if first == 0:
            raise ValueError(f"{self.where} has a header but no data rows")

    @contextlib.contextmanager
    def _parsing(self) -> Iterator[None]:
        """pandas' errors as ours: a row of the wrong length (pandas only warns of a first row
        that is too long, and drops its last fields) and text that is not UTF-8."""
        import pandas as pd

        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            warnings.simplefilter("ignore", pd.errors.DtypeWarning)  # each column is checked
            try:
                yield
            except UnicodeDecodeError:
                raise self._not_utf8() from None
            except (pd.errors.ParserError, pd.errors.ParserWarning) as e:
                raise self._ragged() or ValueError(f"{self.where}: {e}") from None

    def _ragged(self) -> ValueError | None:
        """The error for the first row whose number of fields is not the header's."""
        with self.rows() as rows:
            for line, cells in rows:
                if len(cells) != len(self.header):
                    return ValueError(
                        f"{self.where}, line {line}: {len(cells)} fields where the header has "
                        f"{len(self.header)}"
                    )
        return None

    def row(self, row: int) -> tuple[int, list[str]]:
        """The line number and the cells of data row ``row`` (0: the first); raises the error
        for a row of the wrong length."""
        with self.rows() as rows:
            next(rows)  # the header
            line, cells = next(itertools.islice(rows, row, None))
        if len(cells) != len(self.header):
            raise self._ragged()
        return line, cells

    def bad_cell(self, row: int, name: str) -> ValueError:
        """The error for data row ``row``'s cell in column ``name``, which is not a finite
        number."""
        line, cells = self.row(row)
        v = cells[self.header.index(name)].strip()
        if not is_number(v):
            return _NotANumber(
                f"{self.where}, line {line}: column {name!r} is not numeric (it holds {v!r}); "
                "feature columns must hold numbers"
            )
        what = "a missing value (NaN)" if math.isnan(float(v)) else f"{v!r}, past the float range"
        return ValueError(
            f"{self.where}, line {line}: column {name!r} holds {what}; every cell must be a "
            "finite number (impute or drop that row)"
        )

    def floats(self, frame: pd.DataFrame, names: list[str], first: int) -> np.ndarray:
        """The columns ``names`` of ``frame`` (whose first row is data row ``first``) as a
        float matrix; every cell must be a finite number."""
        import numpy as np

        X = np.empty((len(frame), len(names)))
        for j, name in enumerate(names):
            column = frame[name]
            if _numeric(column):
                X[:, j] = column.to_numpy(dtype=float)
            else:  # text: each cell a number, or the first that is not gives the error
                for i, v in enumerate(column):
                    if not is_number(v):
                        raise self.bad_cell(first + i, name)
                    X[i, j] = float(v)
            bad = np.flatnonzero(~np.isfinite(X[:, j]))
            if bad.size:
                raise self.bad_cell(first + int(bad[0]), name)
        return X


def _numeric(column: pd.Series) -> bool:
    """Whether pandas parsed a column as numbers (True and False are not)."""
    import pandas as pd

    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _numbers(cells: pd.Series) -> np.ndarray | None:
    """A text column's numbers, or None if a cell is not a number (then all are labels)."""
    import numpy as np
    import pandas as pd

    values = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=float)
    for i in np.flatnonzero(np.isnan(values)):  # NaN, or a number pandas does not read
        if not is_number(cells.iloc[i]):
            return None
        values[i] = float(cells.iloc[i])
    return values


def is_number(text: object) -> bool:
    """Whether ``float(text)`` reads ``text`` as a number (``"1e3"``, ``" 2 "``, ``"nan"``)."""
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


def _without_blank_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without its rows of blank cells (``,,`` lines: pandas skips empty lines only,
    and a row of blank cells can only be where every column holds text)."""
    import pandas as pd

    if len(frame) == 0 or any(pd.api.types.is_numeric_dtype(c) for _, c in frame.items()):
        return frame
    blank = frame.apply(lambda column: column.astype(str).str.strip() == "").all(axis=1)
    return frame[~blank.to_numpy()].reset_index(drop=True) if blank.any() else frame


def read_csv(path: str | Path, *, target: str | None = None) -> Dataset:
    """Read a CSV file with a header row (``-``: standard input): ``target`` names the target
    column (by default the last). Feature columns must hold finite numbers (an error names the
    file, line and column of the first that does not); the target may hold numbers or labels
    (strings are labels), and no cell of it may be empty."""
    import numpy as np

    source = _Source(path)
    where, header = source.where, source.header
    target = target or header[-1]
    if target not in header:
        raise ValueError(f"{where} has no column {target!r}; its columns are {header}")
    names = [h for h in header if h != target]
    if not names:
        raise ValueError(f"{where} has no feature columns besides the target {target!r}")
    [(_, frame)] = list(source.frames(text=(target,)))  # the target as text: labels kept
    X = source.floats(frame, names, 0)
    cells = frame[target].fillna("").str.strip()  # NaN: a row too short, found by row()
    empty = np.flatnonzero((cells == "").to_numpy())
    if empty.size:
        line, _ = source.row(int(empty[0]))
        raise ValueError(f"{where}, line {line}: the target {target!r} is empty")
    y = _numbers(cells)
    if y is None:
        y, task = cells.to_numpy(dtype=str), "classification"  # strings are labels
    else:
        bad = np.flatnonzero(~np.isfinite(y))
        if bad.size:
            raise source.bad_cell(int(bad[0]), target)
        task = "classification" if np.all(y == np.round(y)) and len(set(y)) <= 20 else "regression"
        if task == "classification":
            y = y.astype(int)
    name = "stdin" if where == "<stdin>" else Path(where).stem
    return Dataset(name, X, y, task, names, target)


def _feature_names(source: _Source, names: list[str] | None, exclude: tuple[str, ...]):
    """The columns ``names`` when the file has them all, else every column not excluded."""
    if not names or not set(names) <= set(source.header):
        names = [h for h in source.header if h not in exclude]
    if not names:
        raise ValueError(f"{source.where} has no feature columns")
    return names


def read_features(
    path: str | Path, names: list[str] | None = None, *, exclude: tuple[str, ...] = ()
) -> np.ndarray:
    """The feature matrix of a CSV file (``-``: standard input): the columns ``names`` in that
    order when the file has them all, or else every column but those in ``exclude``, in file
    order."""
    [X] = list(iter_features(path, names, exclude=exclude, rows=None))
    return X


def iter_features(
    path: str | Path,
    names: list[str] | None = None,
    *,
    exclude: tuple[str, ...] = (),
    rows: int | None = BLOCK_ROWS,
) -> Iterator[np.ndarray]:
    """:func:`read_features` block by block, each of at most ``rows`` rows (None: one block),
    so that a file larger than memory can be read; an error names the file's line."""
    source = _Source(path)
    names = _feature_names(source, names, exclude)
    for first, frame in source.frames(rows):
        yield source.floats(frame, names, first)
