"""Reading a model file of any format (:mod:`chainrule.persistence.reader`): what it allocates is
capped and checked before it is read, truncated, random or damaged bytes are refused, and
only regular files are read."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule import persistence
from chainrule.persistence import (
    ModelFormatError,
    load,
    read_archive,
    save,
)

from model_files import (
    MB,
    SRC,
    forged_doc,
    npy_bytes,
    peak_growth,
    read_tensors,
    signed,
    with_zeros,
    write_raw,
    write_tensors,
)


def test_max_bytes_caps_what_load_allocates(valid):
    with pytest.raises(ModelFormatError, match="over the limit of 10 "):
        load(valid, max_bytes=10)
    assert isinstance(load(valid, max_bytes=10_000), cr.Network)


@pytest.mark.parametrize("fraction", [0.5, 0.9, 0.1])
def test_truncated_file_is_refused(valid, fraction):
    data = valid.read_bytes()
    valid.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(ModelFormatError, match="not a zip"):
        load(valid)


def test_random_bytes_and_empty_files_are_refused(tmp_path):
    path = tmp_path / "noise.crm"
    path.write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(ModelFormatError, match="not a chainrule model file"):
        load(path)
    path.write_bytes(b"")
    with pytest.raises(ModelFormatError, match="not a chainrule model file"):
        load(path)


# -- fuzzing -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    """A small float32 network and the bytes of its saved file."""
    net = cr.Network([3, 4, 2], activation=cr.Sigmoid(2.0), dtype=np.float32, random_state=17)
    path = tmp_path_factory.mktemp("fuzz") / "net.crm"
    save(net, path)
    return net, path.read_bytes()


damage = st.one_of(
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)), min_size=1, max_size=4).map(
        lambda flips: ("flip", flips)
    ),
    st.integers(0, 10**6).map(lambda keep: ("truncate", keep)),
)


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(damage=damage)
def test_damaged_files_load_identically_or_raise_model_format_error(small_model, damage):
    net, data = small_model
    what, how = damage
    if what == "truncate":
        damaged = data[: how % len(data)]
    else:
        buf = bytearray(data)
        for position, mask in how:
            buf[position % len(buf)] ^= mask
        damaged = bytes(buf)
    try:
        again = load(io.BytesIO(damaged))
    except ModelFormatError:
        return
    assert again.get_config() == net.get_config()
    assert np.array_equal(again.theta, net.theta)


# -- what the reader allocates (issue 17.5) ----------------------------------------------------


def test_an_unused_declared_array_is_never_read(tmp_path):
    import tracemalloc

    net = cr.Network([3, 4, 2], random_state=4)
    path = tmp_path / "padded.crm"
    meta, arrays = persistence.network_payload(net)
    # 40 MB of zeros that deflate to a few KB: a loader that read it would allocate 40 MB
    junk = npy_bytes(np.zeros(5_000_000))
    doc = forged_doc(
        {
            "theta": ("theta.npy", "<f8", [26], npy_bytes(arrays["theta"])),
            "junk": ("junk.npy", "<f8", [5_000_000], junk),
        },
        **meta,
    )
    write_raw(path, doc, {"theta.npy": npy_bytes(arrays["theta"]), "junk.npy": junk})
    assert path.stat().st_size < 200_000
    tracemalloc.start()
    try:
        again = load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert np.array_equal(again.theta, net.theta)
    assert peak < 5_000_000


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["Network", "MLPClassifier"])
def test_a_393_kb_file_declaring_an_unused_400_mb_array_is_not_read(tmp_path, kind):
    if kind == "Network":
        save(cr.Network([3, 4, 2], random_state=0), tmp_path / "m.crm")
    else:
        X = np.random.default_rng(0).normal(size=(20, 3))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # max_iter reached
            cr.MLPClassifier(hidden_layer_sizes=4, max_iter=2).fit(X, X[:, 0] > 0).save(
                tmp_path / "m.crm"
            )
    path = with_zeros(tmp_path / "m.crm", tmp_path / "padded.crm", {"junk": 50_000_000})
    assert path.stat().st_blocks * 512 < 400_000  # 400 MB of zeros, a hole in a sparse file
    said, grown = peak_growth(path)
    assert said == "loaded"
    assert grown < 40 * MB, grown  # reading the array would take 400 MB


@pytest.mark.slow
def test_a_used_array_of_the_wrong_shape_is_refused_before_it_is_read(tmp_path):
    save(cr.Network([3, 4, 2], random_state=0), tmp_path / "m.crm")
    # theta declared (and stored) with 50 million entries where [3, 4, 2] has 26
    doc, _ = read_tensors(tmp_path / "m.crm")
    del doc["arrays"]["theta"]
    src = write_tensors(tmp_path / "bare.crm", {"chainrule": signed(doc)}, {})
    path = with_zeros(src, tmp_path / "long.crm", {"theta": 50_000_000})
    said, grown = peak_growth(path)
    assert said.startswith("refused:") and "theta must have shape (26,)" in said, said
    assert grown < 40 * MB, grown


def test_a_json_bomb_of_many_small_values_is_refused_before_it_is_parsed(tmp_path):
    # 9 MB of empty objects, under the meta.json byte limit, deflated to 9 KB
    raw = b'{"format": "chainrule", "format_version": 1, "kind": "Network", "arrays": {}, '
    raw += b'"x": [' + b",".join([b"{}"] * 3_000_000) + b"]}"
    path = write_raw(tmp_path / "wide.crm", {}, {}, meta=raw)
    said, grown = peak_growth(path)
    assert said.startswith("refused:") and "values" in said, said
    assert grown < 40 * MB, grown  # parsed, 3 million dicts take some 400 MB


def test_asking_whether_an_array_is_there_does_not_read_it(tmp_path):
    payload = npy_bytes(np.arange(3.0))
    doc = forged_doc({"x": ("x.npy", "<f8", [3], payload)})
    doc["arrays"]["x"]["sha256"] = "0" * 64  # damaged: reading it fails
    path = write_raw(tmp_path / "a.crm", doc, {"x.npy": payload})
    with persistence.open_archive(path) as (_, arrays):
        assert "x" in arrays and "y" not in arrays
        with pytest.raises(ModelFormatError, match="checksum mismatch in array 'x'"):
            arrays["x"]


@pytest.mark.parametrize("lifted", [False, True])
def test_an_impossible_declared_shape_is_a_format_error(tmp_path, lifted):
    # a .npy header that claims 10**15 float64 (8 PB), followed by 16 bytes
    buf = io.BytesIO()
    header = {"descr": "<f8", "fortran_order": False, "shape": (10**15,)}
    np.lib.format.write_array_header_1_0(buf, header)
    payload = buf.getvalue() + bytes(16)
    doc = forged_doc({"theta": ("theta.npy", "<f8", [10**15], payload)}, config={})
    path = write_raw(tmp_path / "huge.crm", doc, {"theta.npy": payload})
    kwargs = {"max_bytes": None} if lifted else {}  # the default cap, or none
    with pytest.raises(ModelFormatError, match="over the limit" if not lifted else "truncated"):
        read_archive(path, **kwargs)
    with pytest.raises(ModelFormatError):
        load(path, **kwargs)


def test_a_device_or_fifo_is_not_read_as_a_model(tmp_path):
    import resource

    os.mkfifo(tmp_path / "fifo.crm")
    code = """
import sys, chainrule as cr
for path in sys.argv[1:]:
    try:
        cr.load(path)
    except cr.persistence.ModelFormatError as e:
        print(e)
"""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }

    def bounded():  # /dev/zero read to its end would take all memory: stop at 4 GB
        resource.setrlimit(resource.RLIMIT_AS, (4 * 2**30, 4 * 2**30))

    result = subprocess.run(
        [sys.executable, "-c", code, "/dev/zero", str(tmp_path / "fifo.crm")],
        capture_output=True, text=True, env=env, timeout=60, preexec_fn=bounded,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "'/dev/zero' is a character device, not a model file",
        f"'{tmp_path / 'fifo.crm'}' is a FIFO (named pipe), not a model file",
    ]


def test_the_default_cap_and_lifting_it(tmp_path):
    payload = npy_bytes(np.zeros(2))
    shape = [persistence.DEFAULT_MAX_BYTES // 8 + 1]
    doc = forged_doc({"x": ("x.npy", "<f8", shape, payload)})  # declared bytes are capped
    path = write_raw(tmp_path / "a.crm", doc, {"x.npy": payload})
    with pytest.raises(ModelFormatError, match=f"over the limit of {2**30} "):
        read_archive(path)
    with pytest.raises(ModelFormatError, match="declares"):  # lifted: the real shape differs
        read_archive(path, max_bytes=None)
