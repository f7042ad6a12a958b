"""Format 1, a zip of ``.npy`` files (:mod:`chainrule.persistence.legacy`): hostile and damaged
files refused (pickles, bombs, checksums, envelopes, declared arrays), and the files chainrule
5f97d91 wrote still load and predict as they did."""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.engine import use_engine
from chainrule.persistence import (
    FORMAT_VERSION,
    ModelFormatError,
    load,
    read_archive,
)

from model_files import forged_doc, forged_network, npy_bytes, write_raw


class Trap:
    """Pickles to a call that creates a marker file when unpickled."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


@pytest.mark.parametrize("declared", ["<f8", "|O"])
def test_pickled_object_array_is_refused_and_never_runs(tmp_path, declared):
    marker = tmp_path / "pwned"
    payload = npy_bytes(np.array([Trap(marker)], dtype=object), allow_pickle=True)
    np.load(io.BytesIO(payload), allow_pickle=True)  # the trap works when pickle is allowed
    assert marker.exists()
    marker.unlink()
    doc = forged_doc({"theta": ("theta.npy", declared, [1], payload)}, config={})
    path = write_raw(tmp_path / "evil.crm", doc, {"theta.npy": payload})
    match = "pickled object array" if declared == "<f8" else "dtype '|O'"
    with pytest.raises(ModelFormatError, match=match):
        read_archive(path)  # load reads no array here: the config is refused first
    with pytest.raises(ModelFormatError):
        load(path)
    assert not marker.exists()


def test_deeply_nested_json_is_refused(tmp_path):
    raw = b'{"format": "chainrule", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    path = write_raw(tmp_path / "bomb.crm", {}, {}, meta=raw)
    with pytest.raises(ModelFormatError, match="nested"):
        load(path)
    raw = b'{"format": "chainrule", "x": ' + b"[" * 80 + b"]" * 80 + b"}"
    path = write_raw(tmp_path / "bomb2.crm", {}, {}, meta=raw)
    with pytest.raises(ModelFormatError, match="nested deeper than 64"):
        load(path)


def test_huge_meta_json_is_refused_before_it_is_read(tmp_path, monkeypatch):
    raw = b'{"format": "chainrule", "pad": "' + b" " * (11 * 2**20) + b'"}'
    path = write_raw(tmp_path / "bomb.crm", {}, {}, meta=raw)
    assert path.stat().st_size < 2**20  # small on disk, 11 MB unpacked
    monkeypatch.setattr(json, "loads", None)  # reading it would fail differently
    with pytest.raises(ModelFormatError, match=r"'meta.json' unpacks to \d+ bytes, over"):
        load(path)


def test_zip_bomb_array_is_refused_before_it_is_read(tmp_path):
    bomb = npy_bytes(np.zeros(25_000_000))  # 200 MB of zeros, 200 kB deflated
    doc = forged_doc({"theta": ("theta.npy", "<f8", [2], bomb)}, config={})
    path = write_raw(tmp_path / "bomb.crm", doc, {"theta.npy": bomb})
    assert path.stat().st_size < 2**20
    with pytest.raises(ModelFormatError, match="zip bomb"):
        load(path)


def test_flipped_byte_in_an_array_is_detected(valid, tmp_path):
    # rewrite the file with one weight changed but every zip CRC valid: only the sha256 knows
    with zipfile.ZipFile(valid) as zf:
        meta, data = zf.read("meta.json"), bytearray(zf.read("theta.npy"))
    data[-3] ^= 0x10
    path = write_raw(tmp_path / "flipped.crm", {}, {"theta.npy": bytes(data)}, meta=meta)
    with pytest.raises(ModelFormatError, match="checksum mismatch in array 'theta'"):
        load(path)


def test_raw_flip_in_an_array_is_detected(valid):
    data = bytearray(valid.read_bytes())
    data[200] ^= 0x01  # inside theta.npy, the first entry: the zip's CRC notices
    valid.write_bytes(bytes(data))
    with pytest.raises(ModelFormatError, match="CRC"):
        load(valid)


def test_edited_meta_fails_its_checksum(valid, tmp_path):
    with zipfile.ZipFile(valid) as zf:
        entries = {name: zf.read(name) for name in zf.namelist()}
    doc = json.loads(entries.pop("meta.json"))
    doc["config"]["alpha"] = 1.0
    with zipfile.ZipFile(tmp_path / "edited.crm", "w") as zf:
        zf.writestr("meta.json", json.dumps(doc))  # the old checksum entry is kept
        for name, data in entries.items():
            zf.writestr(name, data)
    with pytest.raises(ModelFormatError, match=r"checksum mismatch in meta\.json"):
        load(tmp_path / "edited.crm")


def test_forger_helper_makes_loadable_files(tmp_path):
    assert isinstance(load(forged_network(tmp_path)), cr.Network)


def test_newer_format_version_is_refused(tmp_path):
    path = forged_network(tmp_path, format_version=FORMAT_VERSION + 1, chainrule_version="9.0")
    with pytest.raises(
        ModelFormatError,
        match=r"written by a newer chainrule \(9\.0\): "
        rf"format version {FORMAT_VERSION + 1}, "
        rf"this chainrule reads up to {FORMAT_VERSION}; upgrade",
    ):
        load(path)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"format": "pytorch"}, "format tag 'pytorch'"),
        ({"format_version": "1"}, "invalid format_version"),
        ({"kind": 3}, "no 'kind'"),
        ({"arrays": []}, "no 'arrays'"),
    ],
)
def test_bad_envelope_is_refused(tmp_path, changes, match):
    with pytest.raises(ModelFormatError, match=match):
        load(forged_network(tmp_path, **changes))


@pytest.mark.parametrize(
    ("declared", "shape", "array", "match"),
    [
        ("<c16", [2], np.zeros(2, complex), "only bool, integer, float"),
        ("|V8", [2], np.zeros(2), "only bool, integer, float"),
        ("<i3", [2], np.zeros(2), "unknown dtype"),
        ("<f8", [3], np.zeros(2), "declares"),
        ("<f4", [2], np.zeros(2), "declares"),
        ("<f8", [-2], np.zeros(2), "invalid shape"),
        ("<f8", [2], np.zeros(2), None),  # the control: this one loads
    ],
)
def test_declared_arrays_must_match(tmp_path, declared, shape, array, match):
    payload = npy_bytes(array)
    doc = forged_doc({"x": ("x.npy", declared, shape, payload)})
    path = write_raw(tmp_path / "a.crm", doc, {"x.npy": payload})
    if match is None:
        assert np.array_equal(read_archive(path)[1]["x"], array)
    else:
        with pytest.raises(ModelFormatError, match=match):
            read_archive(path)


def test_missing_entries_are_refused(valid, tmp_path):
    with zipfile.ZipFile(valid) as zf:
        entries = {name: zf.read(name) for name in zf.namelist()}
    for missing in entries:
        with zipfile.ZipFile(tmp_path / "part.crm", "w") as zf:
            for name, data in entries.items():
                if name != missing:
                    zf.writestr(name, data)
        with pytest.raises(ModelFormatError, match=f"no '{missing}' entry"):
            load(tmp_path / "part.crm")


def test_npy_with_trailing_bytes_or_a_zip_inside_is_refused(tmp_path):
    for payload, match in [
        (npy_bytes(np.zeros(2)) + b"junk", "trailing bytes"),
        (b"PK\x03\x04" + bytes(40), "not a valid .npy file"),  # np.load would open it as npz
    ]:
        doc = forged_doc({"x": ("x.npy", "<f8", [2], payload)})
        path = write_raw(tmp_path / "a.crm", doc, {"x.npy": payload})
        with pytest.raises(ModelFormatError, match=match):
            read_archive(path)


# -- format 1: files written by chainrule 5f97d91 (tests/data/format1/make.py) still load -------

FORMAT1 = Path(__file__).parents[1] / "data" / "format1"


@pytest.mark.parametrize(
    "name", ["network", "classifier", "regressor", "standardized", "checkpoint"]
)
def test_every_format1_file_loads_and_predicts_as_it_did(name):
    import chainrule.estimators  # noqa: F401 (the estimators' kinds)

    inputs = np.load(FORMAT1 / "inputs.npy")
    expected = np.load(FORMAT1 / "expected.npz")[name]
    model = load(FORMAT1 / f"{name}.crm")
    # the reference engine: the arithmetic that made ``expected`` (5 rows never reached the
    # compiled backend then), so bit for bit means the same weights came back
    with use_engine("reference"):
        if name == "network":
            found = model.forward(inputs)
        elif name == "regressor":
            found = model.predict(inputs)
        else:
            found = model.predict_proba(inputs)
    assert np.array_equal(found, expected)
    with open(FORMAT1 / f"{name}.crm", "rb") as f:  # a binary file object reads the same
        assert type(load(f)) is type(model)


def test_a_format1_checkpoint_resumes(tmp_path):
    import shutil

    checkpoint = shutil.copy(FORMAT1 / "checkpoint.crm", tmp_path / "checkpoint.crm")
    X, labels = np.load(FORMAT1 / "train_X.npy"), np.load(FORMAT1 / "train_labels.npy")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter reached
        model = cr.MLPClassifier(
            hidden_layer_sizes=5,
            solver="adam",
            max_iter=6,
            random_state=0,
            checkpoint=str(checkpoint),
            resume=True,
        ).fit(X, labels)
    assert model.n_iter_ == 6
    assert len(model.loss_curve_) == 6  # the 4 epochs of the file, then 2 more
