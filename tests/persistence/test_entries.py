"""The zip layer of a model file (:mod:`chainrule.persistence.entries`): entry names, duplicates and
the central directory checked before anything is parsed."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from chainrule.persistence import (
    ModelFormatError,
    load,
)

from model_files import MB, forged_doc, npy_bytes, peak_growth, write_raw


def test_duplicate_entries_are_refused(valid, tmp_path):
    with zipfile.ZipFile(valid) as zf:
        meta, data = zf.read("meta.json"), zf.read("theta.npy")
    path = write_raw(tmp_path / "twice.crm", {}, {"theta.npy": data}, meta=meta)
    with zipfile.ZipFile(path, "a") as zf, pytest.warns(UserWarning, match="Duplicate name"):
        zf.writestr("theta.npy", npy_bytes(np.zeros(26)))
    with pytest.raises(ModelFormatError, match="two entries of the same name"):
        load(path)


@pytest.mark.parametrize(
    "file", ["../../etc/passwd", "/etc/passwd", "sub/theta.npy", ".hidden.npy", "meta.json"]
)
def test_entry_names_must_be_plain_npy_names(tmp_path, file):
    payload = npy_bytes(np.zeros(26))
    doc = forged_doc({"theta": (file, "<f8", [26], payload)}, config={})
    path = write_raw(tmp_path / "evil.crm", doc, {"theta.npy": payload})
    with pytest.raises(ModelFormatError, match=r"not a plain \.npy file name"):
        load(path)


def central_directory_bomb(path: Path, n: int) -> Path:
    """A zip whose central directory lists ``n`` empty entries (no local headers: a zip reader
    parses the whole directory before it reads any entry)."""
    entry = struct.Struct("<4s4B4HL2L5H2L")  # APPNOTE 4.3.12, as zipfile reads it
    directory = b"".join(
        entry.pack(b"PK\x01\x02", 20, 3, 20, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0)
        + f"{i:06x}".encode()
        for i in range(n)
    )
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, len(directory), 0, 0)
    path.write_bytes(directory + end)
    return path


def test_a_huge_central_directory_is_refused_before_it_is_parsed(tmp_path):
    path = central_directory_bomb(tmp_path / "dir.crm", 400_000)  # 21 MB
    said, grown = peak_growth(path)
    assert said.startswith("refused:") and "central directory" in said, said
    assert grown < 20 * MB, grown  # parsed, 400,000 entries take some 200 MB
