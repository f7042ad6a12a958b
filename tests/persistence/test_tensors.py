"""Format 2, one safetensors file (:mod:`chainrule.persistence.tensors`): readable without
chainrule, crafted or edited files refused, the header's limits held before the tensors are
read."""

from __future__ import annotations

import json
import struct
import warnings
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.persistence import (
    ModelFormatError,
    load,
    save,
)

from model_files import (
    _set,
    assert_same_network,
    forged_tensors,
    read_tensors,
    signed,
    write_tensors,
)

# -- format 2: one safetensors file ------------------------------------------------------------


def test_a_model_file_reads_without_chainrule_through_safetensors_and_json(tmp_path, monkeypatch):
    X = np.random.default_rng(0).normal(size=(30, 3))
    labels = np.where(X[:, 0] > 0, "yes", "no")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter reached
        model = cr.MLPClassifier(hidden_layer_sizes=4, max_iter=5, random_state=0).fit(X, labels)
    model.save(tmp_path / "model.crm")
    # the snippet of docs/model-format.md, as written
    doc = (Path(__file__).parents[2] / "docs" / "model-format.md").read_text()
    snippet = doc.split("### Reading a file without chainrule")[1].split("```python")[1]
    monkeypatch.chdir(tmp_path)
    names = {}
    exec(snippet.split("```")[0], names)
    assert names["meta"]["format"] == "chainrule" and names["meta"]["format_version"] == 2
    assert names["meta"]["kind"] == "MLPClassifier"
    assert np.array_equal(names["theta"], model.network_.theta)
    assert names["arrays"]["classes_"].tolist() == ["no", "yes"]


def test_a_file_that_safetensors_itself_wrote_loads(tmp_path, X):
    from safetensors.numpy import save_file

    net = cr.Network([3, 4, 2], random_state=3)
    save(net, tmp_path / "ours.crm")
    doc, _ = read_tensors(tmp_path / "ours.crm")
    save_file({"theta": net.theta}, tmp_path / "theirs.crm", metadata={"chainrule": signed(doc)})
    assert_same_network(net, load(tmp_path / "theirs.crm"), X)


def test_the_forger_makes_loadable_format2_files(tmp_path, tensors_file):
    assert isinstance(load(forged_tensors(tmp_path, tensors_file)), cr.Network)


@pytest.mark.parametrize(
    "doc_change,tensor_change,match",
    [
        (None, lambda t: _set(t, "theta", ("F32", [26], bytes(104))), "meta declares dtype"),
        (None, lambda t: _set(t, "theta", ("F64", [2, 13], t["theta"][2])), "meta declares"),
        (None, lambda t: _set(t, "extra", ("F64", [1], bytes(8))), "meta declares the arrays"),
        (None, lambda t: _set(t, "theta", ("F64", [26], bytes(200))), "data offsets"),
        (lambda d: _set(d["arrays"]["theta"], "dtype", "|O"), None, "only bool, integer"),
        (lambda d: _set(d["arrays"]["theta"], "sha256", "0" * 64), None, "checksum mismatch"),
        (lambda d: _set(d, "format_version", 3), None, "newer chainrule"),
        (lambda d: _set(d, "format", "other"), None, "format tag 'other'"),
        (lambda d: _set(d, "kind", 7), None, "no 'kind' string"),
        (lambda d: _set(d, "deep", json.loads("[" * 70 + "]" * 70)), None, "nested deeper"),
    ],
)
def test_a_crafted_format2_file_is_refused(
    tmp_path, tensors_file, doc_change, tensor_change, match
):
    path = forged_tensors(tmp_path, tensors_file, doc_change, tensor_change)
    with pytest.raises(ModelFormatError, match=match):
        load(path)


def test_a_format2_file_edited_without_its_checksum_is_refused(tmp_path, tensors_file):
    def edit(doc):
        doc["config"]["alpha"] = 1.0

    path = forged_tensors(tmp_path, tensors_file, edit, sign=False)
    with pytest.raises(ModelFormatError, match="does not end with its meta_sha256"):
        load(path)
    doc, tensors = tensors_file
    text = signed(doc).replace('"alpha": 0.0', '"alpha": 1.0')
    path = write_tensors(tmp_path / "edited.crm", {"chainrule": text}, tensors)
    with pytest.raises(ModelFormatError, match="checksum mismatch in meta"):
        load(path)


@pytest.mark.parametrize(
    "header,match",
    [
        (struct.pack("<Q", 2**40), "header would take 1099511627776 bytes, over the limit"),
        (struct.pack("<Q", 1000) + b"{}", "truncated"),
        (struct.pack("<Q", 4) + b"[1] ", "not a JSON object"),
        (struct.pack("<Q", 8) + b"not json", "neither a zip archive"),
        (struct.pack("<Q", 2) + b"{}", "not a chainrule model file: its header has no"),
        (b"\x01", "not a chainrule model file: 1 bytes long"),
    ],
)
def test_a_file_that_is_not_a_chainrule_safetensors_file_is_refused(tmp_path, header, match):
    (tmp_path / "x.crm").write_bytes(header)
    with pytest.raises(ModelFormatError, match=match):
        load(tmp_path / "x.crm")


def test_a_plain_safetensors_file_is_not_taken_for_a_model(tmp_path):
    from safetensors.numpy import save_file

    save_file({"weight": np.zeros(3)}, tmp_path / "plain.safetensors")
    with pytest.raises(ModelFormatError, match="a safetensors file but not a chainrule model"):
        load(tmp_path / "plain.safetensors")


@pytest.mark.parametrize("cut", [0.1, 0.5, 0.95])
def test_a_truncated_or_padded_format2_file_is_refused(tmp_path, cut):
    save(cr.Network([30, 40, 2], random_state=0), tmp_path / "m.crm")
    data = (tmp_path / "m.crm").read_bytes()
    (tmp_path / "m.crm").write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(ModelFormatError, match="truncated"):
        load(tmp_path / "m.crm")
    (tmp_path / "m.crm").write_bytes(data + b"\0")
    with pytest.raises(ModelFormatError, match="bytes appended"):
        load(tmp_path / "m.crm")


def test_overlapping_tensors_are_refused(tmp_path, tensors_file):
    doc, tensors = tensors_file
    path = write_tensors(tmp_path / "o.crm", {"chainrule": signed(doc)}, tensors)
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + n])
    header["theta"]["data_offsets"] = [8, 216]  # 26 float64, 8 bytes in: one gap, one overlap
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + raw[8 + n :] + bytes(8))
    with pytest.raises(ModelFormatError, match="overlap or leave a gap at byte 0"):
        load(path)
