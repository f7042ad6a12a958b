"""The file format's limits (:mod:`chainrule.persistence.format`): entries, meta values and
nesting depth, held before anything large is read or written."""

from __future__ import annotations

import json
import struct

import pytest

from chainrule.persistence import (
    ModelFormatError,
    load,
    write_archive,
)
from chainrule.persistence.format import MAX_ENTRIES, MAX_META_VALUES

from model_files import (
    forged_tensors,
    signed,
    write_tensors,
)


def test_the_format2_header_limits_hold_before_the_tensors_are_read(tmp_path, tensors_file):
    doc, tensors = tensors_file
    many = {f"t{i}": ("F64", [0], b"") for i in range(MAX_ENTRIES)}  # theta and 4096 more
    write_tensors(tmp_path / "many.crm", {"chainrule": signed(doc)}, {**tensors, **many})
    with pytest.raises(ModelFormatError, match=f"holds {MAX_ENTRIES + 1} tensors, over"):
        load(tmp_path / "many.crm")
    bomb = {"chainrule": signed(doc), "x": "[" + "0," * MAX_META_VALUES + "0]"}
    header = json.dumps({"__metadata__": bomb, "junk": [0] * MAX_META_VALUES}).encode()
    (tmp_path / "bomb.crm").write_bytes(struct.pack("<Q", len(header)) + header)
    with pytest.raises(ModelFormatError, match="values, over the limit"):
        load(tmp_path / "bomb.crm")
    with pytest.raises(ModelFormatError, match="over the limit of 100 "):
        load(forged_tensors(tmp_path, tensors_file), max_bytes=100)


def test_too_deep_meta_is_refused_at_save(tmp_path):
    deep: list = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(ValueError, match="nested deeper"):
        write_archive(tmp_path / "m.crm", {"kind": "K", "deep": deep}, {})
