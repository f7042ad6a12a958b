"""What the model-file tests share (tests/persistence/): files forged entry by entry, in format 1
(a zip of ``.npy`` files) and format 2 (safetensors), and a fresh process's peak memory while
it loads one."""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule import persistence

SRC = Path(persistence.__file__).resolve().parents[1]


def assert_same_network(a: cr.Network, b: cr.Network, X: np.ndarray) -> None:
    assert a.get_config() == b.get_config()
    assert a.theta.dtype == b.theta.dtype
    assert np.array_equal(a.theta, b.theta)
    assert np.array_equal(a.forward(X), b.forward(X))  # bit for bit


def write_raw(path: Path, doc: dict, entries: dict[str, bytes], *, meta: bytes | None = None):
    """A zip holding ``entries`` and a ``meta.json`` with a correct checksum: a forger's file."""
    raw = json.dumps(doc).encode() if meta is None else meta
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("meta.json", raw)
        zf.writestr("checksum.sha256", f"{hashlib.sha256(raw).hexdigest()}  meta.json\n")
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def npy_bytes(a: np.ndarray, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=allow_pickle)
    return buf.getvalue()


def forged_doc(arrays: dict[str, tuple[str, str, list[int], bytes]], **fields) -> dict:
    """A meta.json whose arrays (name -> file, dtype, shape, bytes) carry correct checksums."""
    doc = {"format": "chainrule", "format_version": 1, "chainrule_version": "0.1.0"}
    doc.update({"kind": "Network", **fields})
    doc["arrays"] = {
        name: {
            "file": file,
            "dtype": dtype,
            "shape": shape,
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        for name, (file, dtype, shape, data) in arrays.items()
    }
    return doc


def signed(doc: dict) -> str:
    """``doc`` as format 2's ``__metadata__["chainrule"]``: its JSON, then its SHA-256."""
    text = json.dumps(doc)
    return f'{text[:-1]},"meta_sha256":"{hashlib.sha256(text.encode()).hexdigest()}"}}'


def write_tensors(path: Path, metadata: dict, tensors: dict[str, tuple]) -> Path:
    """A safetensors file, a forger's: ``tensors`` maps a name to ``(dtype, shape, data)``,
    ``data`` its bytes or a number of zero bytes (written as a hole: a sparse file)."""
    header, offset = {"__metadata__": metadata}, 0
    for name, (dtype, shape, data) in tensors.items():
        n = data if isinstance(data, int) else len(data)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw)
        for _, _, data in tensors.values():
            if isinstance(data, int):
                f.seek(data, os.SEEK_CUR)
            else:
                f.write(data)
        f.truncate()
    return path


def read_tensors(path: Path) -> tuple[dict, dict[str, tuple]]:
    """A format-2 file's chainrule document and its tensors, as :func:`write_tensors` takes."""
    from safetensors import safe_open

    with safe_open(path, "np") as f:
        text = f.metadata()["chainrule"]
        tensors = {}
        for name in f.keys():
            a = f.get_tensor(name)
            tensors[name] = (ST_DTYPES[a.dtype.str], list(a.shape), a.tobytes())
    return json.loads(text[: text.rindex(',"meta_sha256"')] + "}"), tensors


ST_DTYPES = {"<f8": "F64", "<f4": "F32", "<i8": "I64", "<u4": "U32", "|b1": "BOOL"}


def forged_network(tmp_path, **changes):
    """A well-checksummed file from a valid network, with meta.json fields replaced."""
    net = cr.Network([3, 4, 2], random_state=16)
    payload = npy_bytes(net.theta)
    doc = forged_doc(
        {"theta": ("theta.npy", "<f8", [net.n_params], payload)}, config=net.get_config()
    )
    doc.update(changes)
    entries = {"theta.npy": payload}
    return write_raw(tmp_path / "forged.crm", doc, entries)


PEAK = """
import resource, sys
import chainrule as cr
import chainrule.estimators  # noqa: F401 (the estimators' kinds)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    cr.load(sys.argv[1])
    print("loaded")
except cr.persistence.ModelFormatError as e:
    print("refused:", e)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


def peak_growth(path: Path) -> tuple[str, int]:
    """Load ``path`` in a fresh process: what it said, and how much its peak memory grew (in
    bytes) while loading."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        [sys.executable, "-c", PEAK, str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    said, grown = result.stdout.rsplit("\n", 2)[:2]
    return said, int(grown) * (1 if sys.platform == "darwin" else 1024)  # ru_maxrss: KiB on Linux


def with_zeros(src: Path, dst: Path, zeros: dict[str, int], **changes) -> Path:
    """``src``'s model file (format 2) plus float64 arrays of zeros (name -> length) as holes
    in a sparse, well-checksummed ``dst``, never held in memory; ``changes`` replace fields
    of the chainrule document."""
    doc, tensors = read_tensors(src)
    doc.update(changes)
    chunk = bytes(2**20)
    for name, n in zeros.items():
        sha = hashlib.sha256()
        for start in range(0, 8 * n, len(chunk)):
            sha.update(chunk[: min(len(chunk), 8 * n - start)])
        doc["arrays"][name] = {"dtype": "<f8", "shape": [n], "sha256": sha.hexdigest()}
        tensors[name] = ("F64", [n], 8 * n)
    return write_tensors(dst, {"chainrule": signed(doc)}, tensors)


MB = 2**20


def forged_tensors(tmp_path, tensors_file, doc_change=None, tensor_change=None, sign=True):
    doc, tensors = json.loads(json.dumps(tensors_file[0])), dict(tensors_file[1])
    if doc_change:
        doc_change(doc)
    if tensor_change:
        tensor_change(tensors)
    metadata = {"chainrule": signed(doc) if sign else json.dumps(doc)}
    return write_tensors(tmp_path / "forged.crm", metadata, tensors)


def _set(mapping, key, value):
    mapping[key] = value
