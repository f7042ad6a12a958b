"""Reading a model file: every size checked before anything is decompressed, every byte used
covered by a checksum, no pickle, and only the arrays that the loader asks for are read."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

import numpy as np

from chainrule.persistence.atomic import file_kind
from chainrule.persistence.entries import check_directory, read_entry
from chainrule.persistence.format import (
    ARRAY_ENTRY,
    CHECKSUM_ENTRY,
    DEFAULT_MAX_BYTES,
    ENVELOPE,
    FORMAT,
    FORMAT_VERSION,
    MAX_ENTRIES,
    MAX_META_BYTES,
    MAX_NDIM,
    META_ENTRY,
    NPY_HEADER_SLACK,
    ModelFormatError,
    check_breadth,
    check_depth,
)

__all__ = ["declared", "describe", "open_archive", "read_archive"]

# byte order, kind (bool, int, uint, float, unicode) and item size: no object, void or datetime
_DTYPE = re.compile(r"[<>|=]?[biufU][0-9]{1,6}\Z")
_SHA256 = re.compile(r"[0-9a-f]{64}\Z")
_CHECKSUM_LINE = re.compile(r"([0-9a-f]{64})  meta\.json\n?\Z")
# everything a damaged zip or .npy can make the standard library or numpy raise
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
    loader never uses is never decompressed. See :func:`read_archive`.
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
            check_directory(f, where)
            try:
                zf = stack.enter_context(zipfile.ZipFile(f))
            except zipfile.BadZipFile as e:
                raise ModelFormatError(
                    f"{where} is not a chainrule model file: not a zip archive"
                ) from e
            meta, arrays = _open(zf, where, max_bytes)
        yield meta, arrays


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
        If the file is not a zip, is truncated, lacks an entry, fails a checksum, comes from a
        newer format version, holds a JSON or zip bomb, a pickled or non-numeric array, an
        entry name that is not a plain file name, or declares arrays over ``max_bytes``.
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
    is unpacked. (A view of such a mapping passes the method on.)"""
    if name not in arrays:
        return None
    if callable(getattr(arrays, "declared", None)):
        return arrays.declared(name)
    a = np.asarray(arrays[name])
    return a.shape, a.dtype


class _LazyArrays(Mapping):
    """The arrays of an open archive, each read and verified on its first lookup."""

    def __init__(self, zf: zipfile.ZipFile, specs: dict, where: str) -> None:
        self._zf, self._specs, self._where = zf, specs, where
        self._read: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._read:
            spec = self._specs[name]
            with _damage_is_a_format_error(self._where):
                self._read[name] = _read_array(self._zf, name, *spec, self._where)
        return self._read[name]

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def declared(self, name: str) -> tuple[tuple[int, ...], np.dtype]:
        """The shape and dtype that the file declares for ``name``."""
        _, dtype, shape, _ = self._specs[name]
        return tuple(shape), dtype

    def __len__(self) -> int:
        return len(self._specs)


def _open(zf: zipfile.ZipFile, where: str, max_bytes: int | None):
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise ModelFormatError(f"{where} holds {len(infos)} entries, over {MAX_ENTRIES}")
    entries = {info.filename: info for info in infos}
    if len(entries) != len(infos):
        raise ModelFormatError(f"{where} holds two entries of the same name")

    def entry(name: str) -> zipfile.ZipInfo:
        if name not in entries:
            raise ModelFormatError(f"{where} is incomplete: it has no {name!r} entry")
        return entries[name]

    raw = bytes(read_entry(zf, entry(META_ENTRY), MAX_META_BYTES, where))
    doc = _parse_meta(raw, where)
    line = read_entry(zf, entry(CHECKSUM_ENTRY), 1024, where)
    match = _CHECKSUM_LINE.match(line.decode("ascii", errors="replace"))
    if match is None:
        raise ModelFormatError(f"{where}: {CHECKSUM_ENTRY} is malformed")
    if hashlib.sha256(raw).hexdigest() != match[1]:
        raise ModelFormatError(f"{where}: checksum mismatch in meta.json (the file is damaged)")

    specs = _array_specs(doc, where)
    # every size is checked before any array is decompressed
    total = 0
    for name, (file, dtype, shape, _) in specs.items():
        info = entry(file)
        nbytes = math.prod(shape) * dtype.itemsize
        total += nbytes
        if info.file_size > nbytes + NPY_HEADER_SLACK:
            raise ModelFormatError(
                f"{where}: entry {file!r} would unpack to {info.file_size} bytes, but array "
                f"{name!r} of shape {tuple(shape)} and dtype {dtype} needs {nbytes} "
                "(a zip bomb?)"
            )
    if max_bytes is not None and total > max_bytes:
        raise ModelFormatError(
            f"{where}: its arrays declare {total} bytes, over the limit of {max_bytes} "
            "(load(..., max_bytes=N) raises the limit for a file you trust)"
        )
    specs = {name: (entries[file], *rest) for name, (file, *rest) in specs.items()}
    meta = {key: value for key, value in doc.items() if key not in ENVELOPE}
    return meta, _LazyArrays(zf, specs, where)


def _parse_meta(raw: bytes, where: str) -> dict[str, Any]:
    """``meta.json`` parsed and checked down to its format tag and version."""
    try:
        check_breadth(raw, "meta.json")
    except ValueError as e:
        raise ModelFormatError(f"{where}: {e}") from e
    try:
        doc = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_keys)
    except RecursionError as e:
        raise ModelFormatError(f"{where}: meta.json is nested too deeply") from e
    except ValueError as e:
        raise ModelFormatError(f"{where}: meta.json is not valid JSON: {e}") from e
    if not isinstance(doc, dict):
        raise ModelFormatError(f"{where}: meta.json is not a JSON object")
    try:
        check_depth(doc, "meta.json")
    except ValueError as e:
        raise ModelFormatError(f"{where}: {e}") from e
    if doc.get("format") != FORMAT:
        raise ModelFormatError(
            f"{where} is not a chainrule model file: format tag {doc.get('format')!r}, "
            f"expected {FORMAT!r}"
        )
    version = doc.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFormatError(f"{where}: invalid format_version {version!r}")
    if version > FORMAT_VERSION:
        by = doc.get("chainrule_version")
        by = f" ({by})" if isinstance(by, str) else ""
        raise ModelFormatError(
            f"{where} was written by a newer chainrule{by}: format version {version}, "
            f"this chainrule reads up to {FORMAT_VERSION}; upgrade chainrule to load it"
        )
    if not isinstance(doc.get("kind"), str):
        raise ModelFormatError(f"{where}: meta.json has no 'kind' string")
    return doc


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate keys in one object: {sorted(keys)}")
    return dict(pairs)


def _array_specs(doc: dict[str, Any], where: str):
    """``{name: (file, dtype, shape, sha256)}`` from meta.json, each field checked."""
    declared = doc.get("arrays")
    if not isinstance(declared, dict):
        raise ModelFormatError(f"{where}: meta.json has no 'arrays' object")
    specs, files = {}, set()
    for name, spec in declared.items():
        bad = f"{where}: array {name!r}"
        if not isinstance(spec, dict):
            raise ModelFormatError(f"{bad} has no description")
        file, dtype, shape, sha = (spec.get(k) for k in ("file", "dtype", "shape", "sha256"))
        if not isinstance(file, str) or not ARRAY_ENTRY.match(file):
            raise ModelFormatError(
                f"{bad} names the entry {file!r}, which is not a plain .npy file name"
            )
        if file in files:
            raise ModelFormatError(f"{bad} reuses the entry {file!r}")
        files.add(file)
        if not isinstance(dtype, str) or not _DTYPE.match(dtype):
            raise ModelFormatError(
                f"{bad} has dtype {dtype!r}; only bool, integer, float and unicode-string "
                "arrays are allowed"
            )
        if not (
            isinstance(shape, list)
            and len(shape) <= MAX_NDIM
            and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)
        ):
            raise ModelFormatError(f"{bad} has an invalid shape {shape!r}")
        if not isinstance(sha, str) or not _SHA256.match(sha):
            raise ModelFormatError(f"{bad} has no valid sha256")
        try:
            dtype = np.dtype(dtype)
        except TypeError as e:
            raise ModelFormatError(f"{bad} has an unknown dtype {dtype!r}") from e
        specs[name] = (file, dtype, shape, sha)
    return specs


def _read_array(zf, name, info, dtype, shape, sha, where) -> np.ndarray:
    """One array: size-capped, checksum-verified, then parsed as ``.npy`` without pickle,
    in place (the array's memory is the buffer the entry was read into)."""
    nbytes = math.prod(shape) * dtype.itemsize
    data = read_entry(zf, info, nbytes + NPY_HEADER_SLACK, where)
    if hashlib.sha256(data).hexdigest() != sha:
        raise ModelFormatError(f"{where}: checksum mismatch in array {name!r} (damaged file)")
    header = io.BytesIO(bytes(data[:NPY_HEADER_SLACK]))
    try:
        version = np.lib.format.read_magic(header)
        read_header = {
            (1, 0): np.lib.format.read_array_header_1_0,
            (2, 0): np.lib.format.read_array_header_2_0,
        }.get(version)
        if read_header is None:
            raise ValueError(f"unsupported .npy version {version}")
        found_shape, fortran, found_dtype = read_header(header)
    except ValueError as e:
        raise ModelFormatError(f"{where}: array {name!r} is not a valid .npy file: {e}") from e
    if found_dtype.hasobject:
        raise ModelFormatError(
            f"{where}: array {name!r} is a pickled object array; chainrule never loads pickles"
        )
    if found_dtype != dtype or list(found_shape) != shape:
        raise ModelFormatError(
            f"{where}: array {name!r} holds dtype {found_dtype} and shape {found_shape}, "
            f"meta.json declares {dtype} and {tuple(shape)}"
        )
    offset = header.tell()
    if len(data) - offset > nbytes:
        raise ModelFormatError(f"{where}: array {name!r} has trailing bytes")
    if len(data) - offset < nbytes:
        raise ModelFormatError(f"{where}: array {name!r} is truncated")
    a = np.frombuffer(data, dtype=dtype, count=math.prod(shape), offset=offset)
    return a.reshape(shape, order="F" if fortran else "C")
