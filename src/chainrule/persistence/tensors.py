"""Format 2: a model file is one safetensors file (https://huggingface.co/docs/safetensors).

Its header's ``__metadata__`` holds one key, ``chainrule``: the JSON text of the format tag
and version, the model's fields and its arrays' dtypes, shapes and SHA-256, which ends with
the SHA-256 of the text before it (``,"meta_sha256":"..."}``). Each array is a tensor of the
same name; a unicode-string array of dtype ``<Un``, a ``uint32`` tensor (UTF-32 code points)
with one more axis of length ``n``. Reading checks the header within the limits of
:mod:`.format` before anything else is read, and every tensor against ``meta`` before it is
read.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import struct
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO

import numpy as np

from chainrule.persistence.format import (
    ARRAY_NAME,
    ENVELOPE,
    MAX_ENTRIES,
    MAX_HEADER_BYTES,
    MAX_META_BYTES,
    ModelFormatError,
    array_spec,
    bounded_json,
    check_breadth,
    check_depth,
    parse_meta,
)

__all__ = ["META_KEY", "open_tensors", "tensor_file"]

#: the key of the safetensors header's ``__metadata__`` that holds chainrule's JSON
META_KEY = "chainrule"

# safetensors' dtype names, by numpy dtype (little-endian: safetensors' byte order)
_DTYPES = {
    "|b1": "BOOL",
    "|u1": "U8",
    "|i1": "I8",
    "<u2": "U16",
    "<i2": "I16",
    "<u4": "U32",
    "<i4": "I32",
    "<u8": "U64",
    "<i8": "I64",
    "<f2": "F16",
    "<f4": "F32",
    "<f8": "F64",
}
_ITEMSIZE = {name: np.dtype(numpy).itemsize for numpy, name in _DTYPES.items()}
_HEADER_LENGTH = struct.Struct("<Q")  # the header's length in bytes, before the header
#: the bytes signing adds to the meta text: ``,"meta_sha256":"<64 hex digits>"``
SIGNATURE_BYTES = len(',"meta_sha256":""') + 64
_SIGNED = re.compile(rb'(.*),"meta_sha256":"([0-9a-f]{64})"\}\Z', re.DOTALL)


def tensor_file(doc: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> bytes:
    """The bytes of a format-2 file holding ``doc`` (the envelope and the model's fields) and
    ``arrays``; ``doc["arrays"]`` is filled in with each array's dtype, shape and SHA-256."""
    import safetensors.numpy

    tensors, doc["arrays"] = {}, {}
    for name, a in arrays.items():
        a = a.astype(a.dtype.newbyteorder("<"), order="C", copy=False)
        doc["arrays"][name] = {
            "dtype": a.dtype.str,
            "shape": list(a.shape),
            "sha256": hashlib.sha256(a.reshape(-1).view(np.uint8)).hexdigest(),
        }
        if a.dtype.kind == "U":  # a string of n characters as n UTF-32 code points
            a = a.reshape(-1).view("<u4").reshape(*a.shape, a.dtype.itemsize // 4)
        tensors[name] = a
    text = meta_text(doc)
    sha = hashlib.sha256(text.encode("ascii")).hexdigest()
    text = f'{text[:-1]},"meta_sha256":"{sha}"}}'
    # one key: safetensors writes the keys of __metadata__ in no fixed order
    return safetensors.numpy.save(tensors, metadata={META_KEY: text})


def meta_text(doc: Mapping[str, Any], room: int = 0) -> str:
    """``doc`` as the JSON text a file stores (ASCII: non-ASCII escaped), before it is signed
    with its SHA-256; a ``ValueError`` where load would refuse it: nested too deeply, too many
    values, or (signed, with ``room`` bytes more for what is added later) over
    ``MAX_META_BYTES``."""
    check_depth(doc, "meta")  # never write a file that load would refuse
    text = json.dumps(doc, allow_nan=True, default=_json_default)
    check_breadth(text.encode("ascii"), "meta")
    size = len(text) + SIGNATURE_BYTES + room
    if size > MAX_META_BYTES:
        raise ValueError(f"meta would be {size} bytes, over {MAX_META_BYTES}")
    return text


def _json_default(value: object) -> object:
    if isinstance(value, np.ndarray):
        raise TypeError("meta holds an ndarray: pass arrays in `arrays`, not in `meta`")
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"meta holds a {type(value).__name__}, which JSON cannot store")


def open_tensors(
    f: BinaryIO, where: str, max_bytes: int | None
) -> tuple[dict[str, Any], dict[str, tuple], Callable[[str], np.ndarray]]:
    """A format-2 file's ``meta``, its arrays' declared ``(shape, dtype)`` and a function that
    reads (and verifies) one array by name; every check but the arrays' checksums is done
    here, before any tensor is read."""
    start = f.tell()
    size = f.seek(0, 2) - start
    f.seek(start)
    prefix = f.read(_HEADER_LENGTH.size)
    if len(prefix) < _HEADER_LENGTH.size:
        raise ModelFormatError(f"{where} is not a chainrule model file: {size} bytes long")
    (n,) = _HEADER_LENGTH.unpack(prefix)
    if n > MAX_HEADER_BYTES:
        raise ModelFormatError(
            f"{where} is not a chainrule model file: a safetensors header would take {n} "
            f"bytes, over the limit of {MAX_HEADER_BYTES}"
        )
    if _HEADER_LENGTH.size + n > size:
        raise ModelFormatError(
            f"{where} is not a chainrule model file (or it is truncated): its header would "
            f"take {n} bytes of {size - _HEADER_LENGTH.size}"
        )
    header = _header(f.read(n), where)
    doc = _meta(header.pop("__metadata__", None), where)
    shapes = _tensors(header, doc, where, size - _HEADER_LENGTH.size - n)
    total = sum(end - begin for begin, end in header.values())
    if max_bytes is not None and total > max_bytes:
        raise ModelFormatError(
            f"{where}: its arrays declare {total} bytes, over the limit of {max_bytes} "
            "(load(..., max_bytes=N) raises the limit for a file you trust)"
        )
    data = start + _HEADER_LENGTH.size + n
    meta = {key: value for key, value in doc.items() if key not in ENVELOPE}

    def read(name: str) -> np.ndarray:
        begin, end = header[name]
        buffer = bytearray(end - begin)
        f.seek(data + begin)
        if f.readinto(buffer) != len(buffer):
            raise ModelFormatError(f"{where}: array {name!r} is truncated")
        if hashlib.sha256(buffer).hexdigest() != doc["arrays"][name]["sha256"]:
            raise ModelFormatError(f"{where}: checksum mismatch in array {name!r} (damaged file)")
        shape, dtype = shapes[name]
        return np.frombuffer(buffer, dtype=dtype).reshape(shape)

    return meta, shapes, read


def _header(raw: bytes, where: str) -> dict[str, Any]:
    """The safetensors header: a JSON object, checked for size before it is parsed."""
    not_safetensors = (
        f"{where} is not a chainrule model file: neither a zip archive (format 1) nor a "
        "safetensors file (format 2)"
    )
    header = bounded_json(raw, where, "its safetensors header", not_safetensors)
    if len(header) > MAX_ENTRIES + 1:
        raise ModelFormatError(f"{where} holds {len(header) - 1} tensors, over {MAX_ENTRIES}")
    return header


def _meta(metadata: object, where: str) -> dict[str, Any]:
    """The chainrule document of a safetensors header's ``__metadata__``, checksum verified."""
    text = metadata.get(META_KEY) if isinstance(metadata, dict) else None
    if not isinstance(text, str):
        raise ModelFormatError(
            f"{where} is a safetensors file but not a chainrule model file: its header has no "
            f"__metadata__ key {META_KEY!r}"
        )
    raw = text.encode("utf-8", errors="replace")
    if len(raw) > MAX_META_BYTES:
        raise ModelFormatError(f"{where}: meta takes {len(raw)} bytes, over {MAX_META_BYTES}")
    signed = _SIGNED.match(raw)
    if signed is None:
        raise ModelFormatError(f"{where}: meta does not end with its meta_sha256")
    raw = signed[1] + b"}"
    if hashlib.sha256(raw).hexdigest().encode() != signed[2]:
        raise ModelFormatError(f"{where}: checksum mismatch in meta (the file is damaged)")
    doc = parse_meta(raw, where)
    if not isinstance(doc.get("arrays"), dict):
        raise ModelFormatError(f"{where}: meta has no 'arrays' object")
    return doc


def _tensors(header: dict[str, Any], doc: dict[str, Any], where: str, data_bytes: int):
    """Each tensor's ``(shape, dtype)`` as ``meta`` declares it, checked against the tensor's
    own entry; the entries are replaced by their ``(begin, end)``, which must tile the data
    that follows the header exactly."""
    arrays = doc["arrays"]
    if set(arrays) != set(header):
        raise ModelFormatError(
            f"{where}: meta declares the arrays {sorted(arrays)[:10]}, the file holds the "
            f"tensors {sorted(header)[:10]}"
        )
    shapes = {}
    for name, entry in header.items():
        bad = f"{where}: array {name!r}"
        if not ARRAY_NAME.match(name) or not isinstance(arrays[name], dict):
            raise ModelFormatError(f"{bad} has an invalid name or description")
        dtype, shape, _ = array_spec(arrays[name], bad)
        stored = [*shape, dtype.itemsize // 4] if dtype.kind == "U" else shape
        expected = {
            "dtype": "U32" if dtype.kind == "U" else _DTYPES.get(dtype.newbyteorder("<").str),
            "shape": stored,
        }
        if (
            expected["dtype"] is None
            or not isinstance(entry, dict)
            or {k: entry.get(k) for k in expected} != expected
        ):
            raise ModelFormatError(
                f"{bad}: meta declares dtype {dtype} and shape {tuple(shape)}, but the tensor "
                f"is {entry!r:.200}"
            )
        offsets = entry.get("data_offsets")
        if not (
            isinstance(offsets, list)
            and len(offsets) == 2
            and all(isinstance(i, int) and not isinstance(i, bool) for i in offsets)
            and offsets[1] - offsets[0] == math.prod(stored) * _ITEMSIZE[expected["dtype"]]
        ):
            raise ModelFormatError(f"{bad} has data offsets {offsets!r:.80} for its shape")
        header[name] = tuple(offsets)
        shapes[name] = (tuple(shape), dtype.newbyteorder("<"))
    ends = 0
    for begin, end in sorted(header.values()):
        if begin != ends:
            raise ModelFormatError(f"{where}: its tensors overlap or leave a gap at byte {ends}")
        ends = end
    if ends != data_bytes:
        raise ModelFormatError(
            f"{where}: its tensors take {ends} bytes, but {data_bytes} follow the header "
            "(truncated, or bytes appended)"
        )
    return shapes
