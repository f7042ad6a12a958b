"""Writing a model file: ``meta.json``, its checksum and one ``.npy`` entry per array."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from chainrule.persistence.atomic import atomic_write
from chainrule.persistence.format import (
    ARRAY_NAME,
    CHECKSUM_ENTRY,
    ENVELOPE,
    FORMAT,
    FORMAT_VERSION,
    MAX_META_BYTES,
    MAX_NDIM,
    META_ENTRY,
    NPY_HEADER_SLACK,
    SAFE_KINDS,
    check_breadth,
    check_depth,
)
from chainrule.version import VERSION

__all__ = ["check_meta", "write_archive"]


def write_archive(
    path: str | os.PathLike, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
) -> None:
    """Write ``meta`` and ``arrays`` as a model file, atomically.

    Parameters
    ----------
    path : path
        The target, a regular file (or a symbolic link to one); it is replaced only once the
        new file is complete and on disk (see :func:`~chainrule.persistence.atomic_write`).
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
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "chainrule_version": VERSION,
        **meta,
        "arrays": {
            name: {"file": f"{name}.npy", "dtype": a.dtype.str, "shape": list(a.shape)}
            for name, a in prepared.items()
        },
    }
    check_depth(doc, "meta")  # never write a file that load would refuse
    json.dumps(doc, allow_nan=True, default=_json_default)  # fail before writing any array
    with atomic_write(path) as f, zipfile.ZipFile(f, "w") as zf:
        for name, a in prepared.items():
            doc["arrays"][name]["sha256"] = _write_npy(zf, f"{name}.npy", a)
        text = json.dumps(doc, indent=1, allow_nan=True, default=_json_default) + "\n"
        raw = text.encode("ascii")
        _check_meta_text(raw)  # never write a file that load would refuse
        zf.writestr(_entry(META_ENTRY, zipfile.ZIP_DEFLATED), raw)
        line = f"{hashlib.sha256(raw).hexdigest()}  {META_ENTRY}\n"
        zf.writestr(_entry(CHECKSUM_ENTRY), line.encode("ascii"))


def check_meta(meta: Mapping[str, Any], room: int = 0) -> None:
    """Refuse, before any work, fields that :func:`write_archive` could not store in
    ``meta.json``: nested too deeply, or (with ``room`` bytes more for what is added later)
    over :data:`MAX_META_BYTES` or :data:`MAX_META_VALUES` (a ``ValueError``)."""
    check_depth(meta, "meta")
    _check_meta_text(json.dumps(dict(meta), indent=1, default=_json_default).encode(), room)


def _check_meta_text(raw: bytes, room: int = 0) -> None:
    if len(raw) + room > MAX_META_BYTES:
        raise ValueError(f"meta.json would be {len(raw) + room} bytes, over {MAX_META_BYTES}")
    check_breadth(raw, "meta.json")


def _storable(name: object, value: object) -> np.ndarray:
    """``value`` as an array that a ``.npy`` file holds without pickle."""
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


def _entry(name: str, compression: int = zipfile.ZIP_STORED) -> zipfile.ZipInfo:
    """A zip entry with a fixed timestamp, so that the same model gives the same bytes."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = compression
    info.external_attr = 0o644 << 16
    return info


class _HashingWriter:
    """A write-only stream that passes bytes through while hashing them."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.sha256 = hashlib.sha256()

    def write(self, data) -> int:
        self.sha256.update(data)
        return self.stream.write(data)


def _write_npy(zf: zipfile.ZipFile, entry: str, a: np.ndarray) -> str:
    """Stream ``a`` into the archive as a ``.npy`` entry; returns the entry's SHA-256."""
    big = a.nbytes + NPY_HEADER_SLACK >= 2**31
    with zf.open(_entry(entry), "w", force_zip64=big) as stream:
        out = _HashingWriter(stream)
        np.save(out, a, allow_pickle=False)
    return out.sha256.hexdigest()


def _json_default(value: object) -> object:
    if isinstance(value, np.ndarray):
        raise TypeError("meta holds an ndarray: pass arrays in `arrays`, not in `meta`")
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"meta holds a {type(value).__name__}, which JSON cannot store")
