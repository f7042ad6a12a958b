"""Saving and loading models: a safe, versioned zip format, written atomically.

A model file (``.crm`` by convention; any name is accepted) is a zip archive holding

* ``meta.json``: the envelope ``{"format": "chainrule", "format_version": 1,
  "chainrule_version": ..., "kind": ..., "arrays": {...}}`` and the model's own JSON fields;
* ``checksum.sha256``: the SHA-256 of ``meta.json``'s bytes, in ``sha256sum`` format;
* one ``.npy`` file per array, written without pickle; ``meta.json`` records each one's file
  name, dtype, shape and SHA-256.

Loading never runs code from the file: no pickle anywhere, only the entries that ``meta.json``
names are read, every size is checked before anything is decompressed, and every byte that is
used is covered by a checksum. A file that fails any check raises :class:`ModelFormatError`.
Saving writes a temporary file next to the target and renames it over the target only once it
is complete and flushed to disk, so the target is always either the old file or the new one.
The format is documented in ``docs/model-format.md``.

Examples
--------
>>> import pathlib, tempfile
>>> import numpy as np
>>> from chainrule import Network
>>> net = Network([2, 3, 1], activation="tanh", random_state=0)
>>> with tempfile.TemporaryDirectory() as d:
...     path = pathlib.Path(d) / "net.crm"
...     save(net, path)
...     again = load(path)
>>> again
Network([2, 3, 1], activations=[tanh, identity], cost='squared_error', alpha=0.0, dtype=float64)
>>> bool(np.array_equal(again.forward([[1.0, 2.0]]), net.forward([[1.0, 2.0]])))
True
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import re
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from itertools import pairwise
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from chainrule.activations import activation_names, get_activation
from chainrule.costs import cost_names, get_cost
from chainrule.network import Network

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ModelFormatError",
    "load",
    "network_from_payload",
    "network_payload",
    "read_archive",
    "register_model_class",
    "save",
    "write_archive",
]

#: The format tag every chainrule model file carries in ``meta.json``.
FORMAT = "chainrule"
#: The newest format version this chainrule writes and reads.
FORMAT_VERSION = 1

META_ENTRY = "meta.json"
CHECKSUM_ENTRY = "checksum.sha256"
#: Largest ``meta.json`` accepted (uncompressed): a bound against JSON bombs.
MAX_META_BYTES = 10 * 2**20
#: Deepest nesting of lists and objects accepted in ``meta.json``.
MAX_META_DEPTH = 64
#: Most entries a model archive may hold.
MAX_ENTRIES = 4096
#: Room for the ``.npy`` header on top of an array's data (numpy caps headers at 10000 bytes).
NPY_HEADER_SLACK = 16384
#: Most dimensions an array may declare.
MAX_NDIM = 32

# the only entries ever read are these, so no name can point outside the archive
_ARRAY_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}\Z")
_ARRAY_ENTRY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}\.npy\Z")
# byte order, kind (bool, int, uint, float, unicode) and item size: no object, void or datetime
_DTYPE = re.compile(r"[<>|=]?[biufU][0-9]{1,6}\Z")
_SAFE_KINDS = "biufU"
_SHA256 = re.compile(r"[0-9a-f]{64}\Z")
_CHECKSUM_LINE = re.compile(r"([0-9a-f]{64})  meta\.json\n?\Z")
_ENVELOPE = ("format", "format_version", "chainrule_version", "arrays")
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
)

_MODEL_CLASSES: dict[str, type] = {}


class ModelFormatError(ValueError):
    """A file that is not a valid chainrule model file, or that this chainrule cannot load."""


# -- the model registry ------------------------------------------------------------------------


def register_model_class(cls: type) -> type:
    """Make ``cls`` loadable by :func:`load`; returns ``cls`` (usable as a decorator).

    ``cls`` needs ``to_payload(self) -> (meta, arrays)`` and a classmethod
    ``from_payload(meta, arrays)``; files record it as ``kind = cls.__name__``.
    """
    if not isinstance(cls, type):
        raise TypeError(f"expected a class, got {type(cls).__name__}")
    for method in ("to_payload", "from_payload"):
        if not callable(getattr(cls, method, None)):
            raise TypeError(f"{cls.__name__} has no {method} method")
    if cls.__name__ == "Network":
        raise ValueError("the kind 'Network' is reserved for chainrule.Network")
    _MODEL_CLASSES[cls.__name__] = cls
    return cls


# -- Network payloads --------------------------------------------------------------------------


def network_payload(net: Network) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """A network's ``(meta, arrays)``: its config and its flat weights ``theta``.

    The arrays are the network's own buffers, not copies.
    """
    return {"config": net.get_config()}, {"theta": net.theta}


def network_from_payload(meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Network:
    """Rebuild the :class:`~chainrule.Network` that :func:`network_payload` described.

    Raises
    ------
    ModelFormatError
        If the payload is malformed, or names an activation or cost that is neither built in
        nor registered.
    """
    config = meta.get("config")
    if not isinstance(config, dict):
        raise ModelFormatError("the Network payload has no 'config' object")
    missing = {"layer_sizes", "activation", "output_activation", "cost", "alpha", "dtype"}
    missing -= set(config)
    if missing:
        raise ModelFormatError(f"the Network config lacks {sorted(missing)}")
    sizes = config["layer_sizes"]
    if not (
        isinstance(sizes, list)
        and len(sizes) >= 2
        and all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in sizes)
    ):
        raise ModelFormatError(f"invalid layer_sizes {sizes!r}")
    dtype = config["dtype"]
    if dtype not in ("float32", "float64"):
        raise ModelFormatError(f"invalid dtype {dtype!r}; expected 'float32' or 'float64'")
    theta = arrays.get("theta")
    # the parameter count W^m and b^m imply, checked before anything of that size is allocated
    n_params = sum(n_out * n_in + n_out for n_in, n_out in pairwise(sizes))
    if not isinstance(theta, np.ndarray) or theta.shape != (n_params,):
        shape = getattr(theta, "shape", None)
        raise ModelFormatError(
            f"theta must have shape ({n_params},) for layer_sizes {sizes}, got {shape}"
        )
    if theta.dtype != np.dtype(dtype):
        raise ModelFormatError(f"theta has dtype {theta.dtype}, the config says {dtype}")
    hidden = config["activation"]
    if not isinstance(hidden, list) or len(hidden) != len(sizes) - 2:
        raise ModelFormatError(f"expected {len(sizes) - 2} hidden activations, got {hidden!r}")
    alpha = config["alpha"]
    if isinstance(alpha, bool) or not isinstance(alpha, int | float):
        raise ModelFormatError(f"invalid alpha {alpha!r}")
    acts = [_component(get_activation, activation_names, spec, "activation") for spec in hidden]
    output = _component(get_activation, activation_names, config["output_activation"], "activation")
    cost = _component(get_cost, cost_names, config["cost"], "cost")
    net = Network(
        sizes, activation=acts, output_activation=output, cost=cost, alpha=alpha, dtype=dtype
    )
    net.theta[...] = theta
    return net


def _component(getter, names, spec, what: str):
    """An activation or cost from its stored config, with advice when its name is unknown."""
    name = spec.get("name") if isinstance(spec, dict) else spec
    if not isinstance(name, str):
        raise ModelFormatError(f"invalid {what} config {spec!r}")
    if name not in names():
        raise ModelFormatError(
            f"the model uses the {what} {name!r}, which is neither built in nor registered: "
            f"call chainrule.register_{what}(...) with it before loading "
            f"(known {what}s: {names()})"
        )
    try:
        return getter(spec)
    except (TypeError, ValueError) as e:
        raise ModelFormatError(f"invalid {what} config {spec!r}: {e}") from e


# -- save and load -----------------------------------------------------------------------------


def save(model: Any, path: str | os.PathLike) -> None:
    """Write ``model`` to ``path`` atomically (see :func:`write_archive`).

    ``model`` is a :class:`~chainrule.Network` or an instance of a class registered with
    :func:`register_model_class`.
    """
    if hasattr(model, "to_payload"):
        kind = type(model).__name__
        if _MODEL_CLASSES.get(kind) is not type(model):
            raise ValueError(
                f"{kind} is not registered, so a saved file could not be loaded: "
                f"call chainrule.persistence.register_model_class({kind}) first"
            )
        meta, arrays = model.to_payload()
    elif isinstance(model, Network):
        kind = "Network"
        meta, arrays = network_payload(model)
    else:
        raise TypeError(f"cannot save a {type(model).__name__}: it has no to_payload method")
    if "kind" in meta:
        raise ValueError("the payload's meta may not hold a 'kind' key (save sets it)")
    write_archive(path, {"kind": kind, **meta}, arrays)


def load(path: str | os.PathLike | BinaryIO, *, max_bytes: int | None = None) -> Any:
    """Read a model that :func:`save` wrote.

    Parameters
    ----------
    path : path or binary file object
    max_bytes : int, optional
        Refuse files whose arrays add up to more than this many bytes (for untrusted files).

    Raises
    ------
    ModelFormatError
        If the file is damaged, hostile, from a newer chainrule, or of an unknown kind.
    """
    meta, arrays = read_archive(path, max_bytes=max_bytes)
    kind = meta.pop("kind")
    if kind == "Network":
        loader = network_from_payload
    elif kind in _MODEL_CLASSES:
        loader = _MODEL_CLASSES[kind].from_payload
    else:
        raise ModelFormatError(
            f"{_describe(path)} holds a model of unknown kind {kind!r} "
            f"(known kinds: {['Network', *sorted(_MODEL_CLASSES)]}); import the module that "
            f"defines it, or call chainrule.persistence.register_model_class({kind}) first"
        )
    try:
        return loader(meta, arrays)
    except ModelFormatError as e:
        raise ModelFormatError(f"{_describe(path)}: {e}") from e
    except (KeyError, IndexError, TypeError, ValueError) as e:
        raise ModelFormatError(f"{_describe(path)}: invalid {kind} payload: {e!r}") from e


# -- writing -----------------------------------------------------------------------------------


def write_archive(
    path: str | os.PathLike, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
) -> None:
    """Write ``meta`` and ``arrays`` as a model file, atomically.

    Parameters
    ----------
    path : path
        The target; it is replaced only once the new file is complete and on disk.
    meta : dict
        JSON-able fields; ``meta["kind"]`` (a str) is required. numpy scalars are stored as
        Python numbers and tuples as lists. The envelope keys ``format``, ``format_version``,
        ``chainrule_version`` and ``arrays`` are reserved.
    arrays : dict of str to ndarray
        Named arrays of bool, integer, float or unicode-string dtype; names are 1 to 100
        letters, digits, ``_``, ``.`` or ``-``, not starting with ``.`` or ``-``.

    Raises
    ------
    ValueError, TypeError
        If ``meta`` or ``arrays`` cannot be stored (an object array, a reserved key...); the
        target is left untouched.
    """
    meta = dict(meta)
    if not isinstance(meta.get("kind"), str):
        raise ValueError("meta['kind'] must be a str naming the model's class")
    reserved = [key for key in _ENVELOPE if key in meta]
    if reserved:
        raise ValueError(f"meta may not hold the reserved keys {reserved}")
    prepared = {name: _storable(name, value) for name, value in arrays.items()}
    from chainrule import __version__

    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "chainrule_version": __version__,
        **meta,
        "arrays": {
            name: {"file": f"{name}.npy", "dtype": a.dtype.str, "shape": list(a.shape)}
            for name, a in prepared.items()
        },
    }
    _check_depth(doc, "meta")  # never write a file that load would refuse
    json.dumps(doc, allow_nan=True, default=_json_default)  # fail before writing any array
    with _atomic_write(path) as f, zipfile.ZipFile(f, "w") as zf:
        for name, a in prepared.items():
            doc["arrays"][name]["sha256"] = _write_npy(zf, f"{name}.npy", a)
        text = json.dumps(doc, indent=1, allow_nan=True, default=_json_default) + "\n"
        raw = text.encode("ascii")
        if len(raw) > MAX_META_BYTES:
            raise ValueError(f"meta.json would be {len(raw)} bytes, over {MAX_META_BYTES}")
        zf.writestr(_entry(META_ENTRY, zipfile.ZIP_DEFLATED), raw)
        line = f"{hashlib.sha256(raw).hexdigest()}  {META_ENTRY}\n"
        zf.writestr(_entry(CHECKSUM_ENTRY), line.encode("ascii"))


def _storable(name: object, value: object) -> np.ndarray:
    """``value`` as an array that a ``.npy`` file holds without pickle."""
    if not isinstance(name, str) or not _ARRAY_NAME.match(name):
        raise ValueError(
            f"invalid array name {name!r}: use 1 to 100 letters, digits, '_', '.' or '-', "
            "not starting with '.' or '-'"
        )
    a = np.asarray(value)
    if a.dtype.kind not in _SAFE_KINDS or a.dtype.hasobject or a.ndim > MAX_NDIM:
        raise ValueError(
            f"array {name!r} has dtype {a.dtype} (kind {a.dtype.kind!r}); chainrule files hold "
            "only bool, integer, float and unicode-string arrays, never pickled objects: "
            "convert it (e.g. labels with np.asarray(labels, dtype=str)) first"
        )
    return a


def _entry(name: str, compression: int = zipfile.ZIP_STORED) -> zipfile.ZipInfo:
    """A zip entry with a fixed timestamp, so that the same model gives the same bytes."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = compression
    info.external_attr = 0o644 << 16
    return info


class _HashingWriter:
    """A write-only stream that passes bytes through while hashing them."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.sha256 = hashlib.sha256()

    def write(self, data) -> int:
        self.sha256.update(data)
        return self.stream.write(data)


def _write_npy(zf: zipfile.ZipFile, entry: str, a: np.ndarray) -> str:
    """Stream ``a`` into the archive as a ``.npy`` entry; returns the entry's SHA-256."""
    big = a.nbytes + NPY_HEADER_SLACK >= 2**31
    with zf.open(_entry(entry), "w", force_zip64=big) as stream:
        out = _HashingWriter(stream)
        np.save(out, a, allow_pickle=False)
    return out.sha256.hexdigest()


def _json_default(value: object) -> object:
    if isinstance(value, np.ndarray):
        raise TypeError("meta holds an ndarray: pass arrays in `arrays`, not in `meta`")
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"meta holds a {type(value).__name__}, which JSON cannot store")


# -- the atomic write --------------------------------------------------------------------------


@contextlib.contextmanager
def _atomic_write(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """A binary file that replaces ``path`` only once it is complete and flushed to disk.

    The bytes go to a temporary file in the target's directory (so the final rename stays on
    one file system, where ``os.replace`` is atomic); on any error the temporary file is
    removed and the target is left as it was.
    """
    target = Path(path)
    directory = target.parent
    tmp = tempfile.NamedTemporaryFile(  # closed below, before the rename
        dir=directory, prefix=f".{target.name[:100]}.", suffix=".tmp", delete=False
    )
    try:
        with tmp:
            yield tmp
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp.name, 0o666 & ~_umask())  # the mode a plain open() would have given
        os.replace(tmp.name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp.name)
        raise
    _fsync_directory(directory)


def _umask() -> int:
    """The process umask, read without changing it (Linux); 0o022 where it cannot be read."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX; a no-op where directories cannot be opened)."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# -- reading -----------------------------------------------------------------------------------


def read_archive(
    path: str | os.PathLike | BinaryIO, *, max_bytes: int | None = None
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read and verify a model file; returns ``(meta, arrays)`` as given to :func:`write_archive`.

    Parameters
    ----------
    path : path or binary file object
    max_bytes : int, optional
        Refuse files whose arrays add up to more than this many bytes.

    Raises
    ------
    ModelFormatError
        If the file is not a zip, is truncated, lacks an entry, fails a checksum, comes from a
        newer format version, holds a JSON or zip bomb, a pickled or non-numeric array, or an
        entry name that is not a plain file name.
    FileNotFoundError, PermissionError
        If ``path`` cannot be opened.
    """
    where = _describe(path)
    with contextlib.ExitStack() as stack:
        if hasattr(path, "read"):
            f = path
        else:
            f = stack.enter_context(open(path, "rb"))
        try:
            return _read(f, where, max_bytes)
        except ModelFormatError:
            raise
        except _DAMAGE as e:
            raise ModelFormatError(
                f"{where} is not a readable chainrule model file (damaged or truncated?): "
                f"{type(e).__name__}: {e}"
            ) from e


def _describe(path: object) -> str:
    name = getattr(path, "name", path) if hasattr(path, "read") else path
    return repr(os.fspath(name)) if isinstance(name, str | os.PathLike) else "the model file"


def _read(f: BinaryIO, where: str, max_bytes: int | None):
    try:
        zf = zipfile.ZipFile(f)
    except zipfile.BadZipFile as e:
        raise ModelFormatError(f"{where} is not a chainrule model file: not a zip archive") from e
    with zf:
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

        raw = _read_entry(zf, entry(META_ENTRY), MAX_META_BYTES, where)
        doc = _parse_meta(raw, where)
        line = _read_entry(zf, entry(CHECKSUM_ENTRY), 1024, where)
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
            raise ModelFormatError(f"{where}: its arrays need {total} bytes, over {max_bytes}")
        arrays = {
            name: _read_array(zf, entries[file], name, dtype, shape, sha, where)
            for name, (file, dtype, shape, sha) in specs.items()
        }
    meta = {key: value for key, value in doc.items() if key not in _ENVELOPE}
    return meta, arrays


def _read_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, where: str) -> bytes:
    """An entry's bytes, refused if it declares or yields more than ``limit`` bytes."""
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
    with zf.open(info) as stream:
        data = stream.read(limit + 1)  # a bounded read, whatever the header claims
    if len(data) > limit:
        raise ModelFormatError(f"{where}: entry {info.filename!r} is longer than declared")
    return data


def _parse_meta(raw: bytes, where: str) -> dict[str, Any]:
    """``meta.json`` parsed and checked down to its format tag and version."""
    try:
        doc = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_keys)
    except RecursionError as e:
        raise ModelFormatError(f"{where}: meta.json is nested too deeply") from e
    except ValueError as e:
        raise ModelFormatError(f"{where}: meta.json is not valid JSON: {e}") from e
    if not isinstance(doc, dict):
        raise ModelFormatError(f"{where}: meta.json is not a JSON object")
    try:
        _check_depth(doc, "meta.json")
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


def _check_depth(doc: object, what: str) -> None:
    """Refuse lists and objects nested deeper than :data:`MAX_META_DEPTH`."""
    stack = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list | tuple):
            children = value
        else:
            continue
        if depth > MAX_META_DEPTH:
            raise ValueError(f"{what} is nested deeper than {MAX_META_DEPTH} levels")
        stack.extend((child, depth + 1) for child in children)


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
        if not isinstance(file, str) or not _ARRAY_ENTRY.match(file):
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


def _read_array(zf, info, name, dtype, shape, sha, where) -> np.ndarray:
    """One array: size-capped, checksum-verified, then parsed as ``.npy`` without pickle."""
    nbytes = math.prod(shape) * dtype.itemsize
    data = _read_entry(zf, info, nbytes + NPY_HEADER_SLACK, where)
    if hashlib.sha256(data).hexdigest() != sha:
        raise ModelFormatError(f"{where}: checksum mismatch in array {name!r} (damaged file)")
    stream = io.BytesIO(data)
    try:
        # np.load's .npy reader, without np.load's fallbacks to npz and pickle
        a = np.lib.format.read_array(stream, allow_pickle=False)
    except ValueError as e:
        if "pickle" in str(e):
            raise ModelFormatError(
                f"{where}: array {name!r} is a pickled object array; chainrule never loads pickles"
            ) from e
        raise ModelFormatError(f"{where}: array {name!r} is not a valid .npy file: {e}") from e
    if stream.tell() != len(data):
        raise ModelFormatError(f"{where}: array {name!r} has trailing bytes")
    if a.dtype != dtype or list(a.shape) != shape:
        raise ModelFormatError(
            f"{where}: array {name!r} holds dtype {a.dtype} and shape {a.shape}, "
            f"meta.json declares {dtype} and {tuple(shape)}"
        )
    if a.dtype.kind not in _SAFE_KINDS:  # pragma: no cover (the declared dtype was checked)
        raise ModelFormatError(f"{where}: array {name!r} has dtype {a.dtype}")
    return a
