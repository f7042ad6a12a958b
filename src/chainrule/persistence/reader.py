"""Reading a model file of any format: format 2 (safetensors, :mod:`.tensors`) or format 1
(a zip of ``.npy`` files, :mod:`.legacy`), told apart by their first bytes. Either way every
size is checked before anything is read, every byte used is covered by a checksum, nothing is
unpickled, and only the arrays that the loader asks for are read."""

from __future__ import annotations

import contextlib
import os
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any, BinaryIO

import numpy as np

from chainrule.persistence.atomic import file_kind
from chainrule.persistence.format import DEFAULT_MAX_BYTES, ModelFormatError
from chainrule.persistence.legacy import ZIP_MAGIC, open_zip
from chainrule.persistence.tensors import open_tensors

__all__ = ["declared", "describe", "open_archive", "read_archive"]

# everything a damaged file can make the standard library or numpy raise
_DAMAGE = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    struct.error,
    EOFError,
    OSError,
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    OverflowError,
    NotImplementedError,
    RuntimeError,
    SyntaxError,  # a .npy header that is not a Python literal
)


def describe(path: object) -> str:
    """How messages name a model file: its path, or "the model file"."""
    name = getattr(path, "name", path) if hasattr(path, "read") else path
    return repr(os.fspath(name)) if isinstance(name, str | os.PathLike) else "the model file"


@contextlib.contextmanager
def _damage_is_a_format_error(where: str) -> Iterator[None]:
    try:
        yield
    except ModelFormatError:
        raise
    except MemoryError as e:
        raise ModelFormatError(f"{where} needs more memory than is available to read") from e
    except _DAMAGE as e:
        raise ModelFormatError(
            f"{where} is not a readable chainrule model file (damaged or truncated?): "
            f"{type(e).__name__}: {e}"
        ) from e


@contextlib.contextmanager
def open_archive(
    path: str | os.PathLike | BinaryIO, *, max_bytes: int | None = DEFAULT_MAX_BYTES
) -> Iterator[tuple[dict[str, Any], Mapping[str, np.ndarray]]]:
    """Open and verify a model file; yields ``(meta, arrays)`` while it is open.

    ``arrays`` reads (and verifies) an array only when it is looked up, so an array that the
    loader never uses is never read. See :func:`read_archive`.
    """
    where = describe(path)
    with contextlib.ExitStack() as stack:
        if hasattr(path, "read"):
            f = path
        else:
            # a device or FIFO is never opened: /dev/zero has no end, a FIFO blocks
            kind = file_kind(os.stat(path).st_mode)
            if kind is not None and kind != "a directory":  # open() says "Is a directory"
                raise ModelFormatError(f"{where} is {kind}, not a model file")
            f = stack.enter_context(open(path, "rb"))
        with _damage_is_a_format_error(where):
            start = f.tell()
            is_zip = f.read(len(ZIP_MAGIC)) == ZIP_MAGIC
            f.seek(start)
            opener = open_zip if is_zip else open_tensors
            meta, shapes, read = opener(f, where, max_bytes)
        yield meta, _LazyArrays(shapes, read, where)


def read_archive(
    path: str | os.PathLike | BinaryIO, *, max_bytes: int | None = DEFAULT_MAX_BYTES
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read and verify a model file; returns ``(meta, arrays)`` as given to ``write_archive``.

    Parameters
    ----------
    path : path or binary file object
    max_bytes : int or None, default=DEFAULT_MAX_BYTES (1 GiB)
        Refuse files whose declared arrays add up to more than this many bytes; ``None``
        lifts the cap.

    Raises
    ------
    ModelFormatError
        If the file is not a model file, is truncated, lacks an array, fails a checksum, comes
        from a newer format version, holds a JSON or zip bomb, a header over its limits, a
        pickled or non-numeric array, or declares arrays over ``max_bytes``.
    FileNotFoundError, PermissionError
        If ``path`` cannot be opened.
    """
    with open_archive(path, max_bytes=max_bytes) as (meta, arrays):
        return meta, {name: arrays[name] for name in arrays}


def declared(
    arrays: Mapping[str, np.ndarray], name: str
) -> tuple[tuple[int, ...], np.dtype] | None:
    """The shape and dtype of ``arrays[name]`` (None if there is none), from the mapping's own
    ``declared(name)`` method where it has one, as the mapping :func:`open_archive` yields
    does: then nothing is read, so a loader can refuse an array of the wrong size before it
    is read. (A view of such a mapping passes the method on.)"""
    if name not in arrays:
        return None
    if callable(getattr(arrays, "declared", None)):
        return arrays.declared(name)
    a = np.asarray(arrays[name])
    return a.shape, a.dtype


class _LazyArrays(Mapping):
    """The arrays of an open model file, each read and verified on its first lookup."""

    def __init__(
        self,
        shapes: dict[str, tuple[tuple[int, ...], np.dtype]],
        read: Callable[[str], np.ndarray],
        where: str,
    ) -> None:
        self._shapes, self._read_one, self._where = shapes, read, where
        self._read: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._read:
            if name not in self._shapes:
                raise KeyError(name)
            with _damage_is_a_format_error(self._where):
                self._read[name] = self._read_one(name)
        return self._read[name]

    def __contains__(self, name: object) -> bool:
        return name in self._shapes

    def __iter__(self) -> Iterator[str]:
        return iter(self._shapes)

    def declared(self, name: str) -> tuple[tuple[int, ...], np.dtype]:
        """The shape and dtype that the file declares for ``name``."""
        return self._shapes[name]

    def __len__(self) -> int:
        return len(self._shapes)
