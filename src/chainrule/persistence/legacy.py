"""Reading format 1, a zip of ``.npy`` files (written by chainrule 0.1 up to format 2): every
size checked before anything is decompressed, every byte used covered by a checksum, no
pickle, and only the arrays that the loader asks for are read."""

from __future__ import annotations

import hashlib
import io
import math
import re
import zipfile
from collections.abc import Callable
from typing import Any, BinaryIO

import numpy as np

from chainrule.persistence.entries import check_directory, read_entry
from chainrule.persistence.format import (
    ARRAY_ENTRY,
    CHECKSUM_ENTRY,
    ENVELOPE,
    MAX_ENTRIES,
    MAX_META_BYTES,
    META_ENTRY,
    NPY_HEADER_SLACK,
    ModelFormatError,
    array_spec,
    parse_meta,
)

__all__ = ["ZIP_MAGIC", "open_zip"]

#: how a zip archive, so a format-1 file, begins
ZIP_MAGIC = b"PK"

_CHECKSUM_LINE = re.compile(r"([0-9a-f]{64})  meta\.json\n?\Z")


def open_zip(
    f: BinaryIO, where: str, max_bytes: int | None
) -> tuple[dict[str, Any], dict[str, tuple], Callable[[str], np.ndarray]]:
    """A format-1 file's ``meta``, its arrays' declared ``(shape, dtype)`` and a function that
    reads (and verifies) one array by name; every check but the arrays' own is done here."""
    check_directory(f, where)
    try:
        zf = zipfile.ZipFile(f)
    except zipfile.BadZipFile as e:
        raise ModelFormatError(f"{where} is not a chainrule model file: not a zip archive") from e
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
    doc = parse_meta(raw, where)
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
    shapes = {name: (tuple(shape), dtype) for name, (_, dtype, shape, _) in specs.items()}
    return meta, shapes, lambda name: _read_array(zf, name, *specs[name], where)


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
        file = spec.get("file")
        if not isinstance(file, str) or not ARRAY_ENTRY.match(file):
            raise ModelFormatError(
                f"{bad} names the entry {file!r}, which is not a plain .npy file name"
            )
        if file in files:
            raise ModelFormatError(f"{bad} reuses the entry {file!r}")
        files.add(file)
        dtype, shape, sha = array_spec(spec, bad)
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
