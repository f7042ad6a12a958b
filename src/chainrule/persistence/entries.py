"""The zip layer of a model file, within limits: the size of the central directory checked
before ``zipfile`` parses it, and one entry's bytes read with its declared size capped.

(APPNOTE.TXT, the zip specification: 4.3.12 the central directory, 4.3.14-4.3.16 the end
records that give its size.)
"""

from __future__ import annotations

import os
import struct
import zipfile
from typing import BinaryIO

from chainrule.persistence.format import MAX_DIRECTORY_BYTES, ModelFormatError

__all__ = ["check_directory", "read_entry"]

_END = struct.Struct("<4s4H2LH")  # end of central directory record (4.3.16)
_END64_LOCATOR = struct.Struct("<4sLQL")  # zip64 end of central directory locator (4.3.15)
_END64 = struct.Struct("<4sQ2H2L4Q")  # zip64 end of central directory record (4.3.14)
_CHUNK = 2**20


def check_directory(f: BinaryIO, where: str) -> None:
    """Refuse a zip whose central directory takes more than :data:`MAX_DIRECTORY_BYTES`.

    ``zipfile`` reads and parses the whole directory when it opens a file, some 500 bytes of
    memory for each 46-byte entry, before any other check can run. The size is the one that
    the end record ``zipfile`` finds declares; ``f``'s position is kept.
    """
    position = f.tell()
    try:
        size = _directory_size(f)
    finally:
        f.seek(position)
    if size is not None and size > MAX_DIRECTORY_BYTES:
        raise ModelFormatError(
            f"{where}: its zip central directory takes {size} bytes, over the limit of "
            f"{MAX_DIRECTORY_BYTES} (a model file has a few entries)"
        )


def _directory_size(f: BinaryIO) -> int | None:
    """The directory size of the end record, found as ``zipfile`` finds it: without a comment
    at the very end, else the last one in the final 64 KiB; None if there is none."""
    f.seek(0, os.SEEK_END)
    start = max(0, f.tell() - _END.size - 0xFFFF)
    f.seek(start)
    tail = f.read(_END.size + 0xFFFF)  # bounded: a stream may not end where it says
    at = len(tail) - _END.size
    if at < 0:
        return None
    if not (tail[at : at + 4] == b"PK\x05\x06" and tail[-2:] == b"\0\0"):
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or at + _END.size > len(tail):
            return None
    size = _END.unpack_from(tail, at)[5]
    # a zip64 record and its locator, just before the end record, give the size instead
    end = start + at
    if end >= _END64.size + _END64_LOCATOR.size:
        f.seek(end - _END64.size - _END64_LOCATOR.size)
        data = f.read(_END64.size + _END64_LOCATOR.size)
        if data[:4] == b"PK\x06\x06" and data[_END64.size : _END64.size + 4] == b"PK\x06\x07":
            size = _END64.unpack_from(data)[8]
    return size


def read_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, where: str) -> bytearray:
    """An entry's bytes, refused if it declares or yields more than ``limit`` bytes, or other
    than it declares; read in chunks into one buffer (no second copy)."""
    if info.file_size > limit:
        raise ModelFormatError(
            f"{where}: entry {info.filename!r} unpacks to {info.file_size} bytes, "
            f"over the limit of {limit}"
        )
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ModelFormatError(
            f"{where}: entry {info.filename!r} uses compression method {info.compress_type}; "
            "chainrule reads only stored and deflated entries"
        )
    if info.flag_bits & 0x1:
        raise ModelFormatError(f"{where}: entry {info.filename!r} is encrypted")
    data = bytearray(info.file_size)
    view, n = memoryview(data), 0
    with zf.open(info) as stream:
        while n < len(data):
            chunk = stream.read(min(_CHUNK, len(data) - n))
            if not chunk:
                raise ModelFormatError(f"{where}: entry {info.filename!r} is shorter than declared")
            view[n : n + len(chunk)] = chunk
            n += len(chunk)
        if stream.read(1):  # reading to the end also checks the CRC-32
            raise ModelFormatError(f"{where}: entry {info.filename!r} is longer than declared")
    return data
