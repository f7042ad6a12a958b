"""Writing a model file (format 2, :mod:`.tensors`): to a path atomically, or to a binary
file object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, BinaryIO

import numpy as np

from chainrule.persistence.atomic import atomic_write
from chainrule.persistence.format import (
    ARRAY_NAME,
    ENVELOPE,
    FORMAT,
    FORMAT_VERSION,
    MAX_NDIM,
    SAFE_KINDS,
)
from chainrule.persistence.tensors import meta_text, tensor_file
from chainrule.version import VERSION

__all__ = ["check_meta", "write_archive"]


def write_archive(
    path: str | os.PathLike | BinaryIO, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
) -> None:
    """Write ``meta`` and ``arrays`` as a model file; a path atomically.

    Parameters
    ----------
    path : path or writable binary file object
        A path names the target, a regular file (or a symbolic link to one); it is replaced
        only once the new file is complete and on disk (see
        :func:`~chainrule.persistence.atomic_write`). A file object is written from its
        position on, once the whole file has been assembled in memory.
    meta : dict
        JSON-able fields; ``meta["kind"]`` (a str) is required. numpy scalars are stored as
        Python numbers and tuples as lists. The envelope keys ``format``, ``format_version``,
        ``chainrule_version`` and ``arrays`` are reserved.
    arrays : dict of str to ndarray
        Named arrays of bool, integer, float or unicode-string dtype; names are 1 to 100
        letters, digits, ``_``, ``.`` or ``-``, not starting with ``.`` or ``-``.

    Raises
    ------
    ValueError, TypeError
        If ``meta`` or ``arrays`` cannot be stored (an object array, a reserved key...), or the
        target is a directory, device, FIFO or socket; the target is left untouched.
    """
    meta = dict(meta)
    if not isinstance(meta.get("kind"), str):
        raise ValueError("meta['kind'] must be a str naming the model's class")
    reserved = [key for key in ENVELOPE if key in meta]
    if reserved:
        raise ValueError(f"meta may not hold the reserved keys {reserved}")
    prepared = {name: _storable(name, value) for name, value in arrays.items()}
    doc = {"format": FORMAT, "format_version": FORMAT_VERSION, "chainrule_version": VERSION}
    data = tensor_file({**doc, **meta}, prepared)  # complete before the target is touched
    if hasattr(path, "write"):
        path.write(data)
        return
    with atomic_write(path) as f:
        f.write(data)


def check_meta(meta: Mapping[str, Any], room: int = 0) -> None:
    """Refuse, before any work, fields that :func:`write_archive` could not store: nested too
    deeply, too many values, or (with ``room`` bytes more for what is added later) over the
    meta's size limit (a ``ValueError``)."""
    meta_text(dict(meta), room)


def _storable(name: object, value: object) -> np.ndarray:
    """``value`` as an array that a model file holds without pickle."""
    if not isinstance(name, str) or not ARRAY_NAME.match(name):
        raise ValueError(
            f"invalid array name {name!r}: use 1 to 100 letters, digits, '_', '.' or '-', "
            "not starting with '.' or '-'"
        )
    a = np.asarray(value)
    if a.dtype.kind not in SAFE_KINDS or a.dtype.hasobject or a.ndim > MAX_NDIM:
        raise ValueError(
            f"array {name!r} has dtype {a.dtype} (kind {a.dtype.kind!r}); chainrule files hold "
            "only bool, integer, float and unicode-string arrays, never pickled objects: "
            "convert it (e.g. labels with np.asarray(labels, dtype=str)) first"
        )
    return a
