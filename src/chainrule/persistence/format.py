"""The model file format's constants, limits and error (``docs/model-format.md``), and the
checks of its JSON that both formats share."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

__all__ = [
    "ARRAY_ENTRY",
    "ARRAY_NAME",
    "CHECKSUM_ENTRY",
    "DEFAULT_MAX_BYTES",
    "ENVELOPE",
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_DIRECTORY_BYTES",
    "MAX_ENTRIES",
    "MAX_HEADER_BYTES",
    "MAX_META_BYTES",
    "MAX_META_DEPTH",
    "MAX_META_VALUES",
    "MAX_NDIM",
    "META_ENTRY",
    "NPY_HEADER_SLACK",
    "SAFE_KINDS",
    "ModelFormatError",
    "array_spec",
    "bounded_json",
    "check_breadth",
    "check_depth",
    "parse_meta",
]

#: The format tag every chainrule model file carries in ``meta.json``.
FORMAT = "chainrule"
#: The format version this chainrule writes (2: safetensors); it reads every version up to it
#: (1: a zip of ``.npy`` files).
FORMAT_VERSION = 2

META_ENTRY = "meta.json"
CHECKSUM_ENTRY = "checksum.sha256"
#: Largest ``meta.json`` accepted (uncompressed): a bound against JSON bombs.
MAX_META_BYTES = 10 * 2**20
#: Deepest nesting of lists and objects accepted in ``meta.json``.
MAX_META_DEPTH = 64
#: Most values (numbers, strings, lists, objects) in ``meta.json``: a bound on what parsing it
#: takes (some 100 MB at most), counted before it is parsed.
MAX_META_VALUES = 1_000_000
#: Most entries a model archive (format 1) or tensors a safetensors file (format 2) may hold.
MAX_ENTRIES = 4096
#: Largest safetensors header accepted (format 2): the JSON text of ``meta`` (escaped as a
#: JSON string, at most twice as long) and 256 bytes a tensor.
MAX_HEADER_BYTES = 2 * MAX_META_BYTES + 256 * MAX_ENTRIES
#: Largest zip central directory accepted: 256 bytes an entry (a model file's take under 200).
MAX_DIRECTORY_BYTES = 256 * MAX_ENTRIES
#: Room for the ``.npy`` header on top of an array's data (numpy caps headers at 10000 bytes).
NPY_HEADER_SLACK = 16384
#: Most dimensions an array may declare.
MAX_NDIM = 32
#: The default cap on the bytes that a file's declared arrays add up to (1 GiB):
#: ``load(path, max_bytes=...)`` raises or lifts it (``None``: no cap).
DEFAULT_MAX_BYTES = 2**30

# array names and entries: plain file names, so no name can point outside the archive
ARRAY_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}\Z")
ARRAY_ENTRY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}\.npy\Z")
#: dtype kinds a file may hold: bool, int, uint, float, unicode (no object, void or datetime)
SAFE_KINDS = "biufU"
#: the envelope keys of ``meta.json``, which are not the model's own fields
ENVELOPE = ("format", "format_version", "chainrule_version", "arrays")

# byte order, kind (bool, int, uint, float, unicode) and item size: no object, void or datetime
_DTYPE = re.compile(r"[<>|=]?[biufU][0-9]{1,6}\Z")
_SHA256 = re.compile(r"[0-9a-f]{64}\Z")
# a JSON string, escapes included: what is left without them is punctuation, numbers, literals
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')


class ModelFormatError(ValueError):
    """A file that is not a valid chainrule model file, or that this chainrule cannot load."""


def check_depth(doc: object, what: str) -> None:
    """Refuse lists and objects nested deeper than :data:`MAX_META_DEPTH` (a ``ValueError``)."""
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


def check_breadth(text: bytes, what: str) -> None:
    """Refuse JSON ``text`` of more than :data:`MAX_META_VALUES` values (a ``ValueError``),
    counted without parsing it: outside strings, each comma ends one and each ``[`` or ``{``
    opens one (a bound from above, of key-value pairs too)."""
    skeleton = _JSON_STRING.sub(b"", text)
    n = skeleton.count(b",") + skeleton.count(b"[") + skeleton.count(b"{") + 1
    if n > MAX_META_VALUES:
        raise ValueError(f"{what} holds some {n} values, over the limit of {MAX_META_VALUES}")


def bounded_json(raw: bytes, where: str, what: str, invalid: str | None = None) -> dict:
    """``raw`` parsed as a JSON object within the limits (values, depth, no repeated key);
    ``what`` names it in messages, ``invalid`` replaces the message for text that is not JSON.
    """
    try:
        check_breadth(raw, what)
    except ValueError as e:
        raise ModelFormatError(f"{where}: {e}") from e
    try:
        doc = json.loads(raw.decode("utf-8"), object_pairs_hook=unique_keys)
    except RecursionError as e:
        raise ModelFormatError(f"{where}: {what} is nested too deeply") from e
    except ValueError as e:
        raise ModelFormatError(f"{invalid or f'{where}: {what} is not valid JSON'}: {e}") from e
    if not isinstance(doc, dict):
        raise ModelFormatError(f"{where}: {what} is not a JSON object")
    try:
        check_depth(doc, what)
    except ValueError as e:
        raise ModelFormatError(f"{where}: {e}") from e
    return doc


def parse_meta(raw: bytes, where: str) -> dict[str, Any]:
    """A model file's ``meta`` JSON (``meta.json`` in format 1), parsed within the limits and
    checked down to its format tag, version and kind."""
    doc = bounded_json(raw, where, "meta")
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
        raise ModelFormatError(f"{where}: meta has no 'kind' string")
    return doc


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads``' ``object_pairs_hook``: an object, refused if a key appears twice."""
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate keys in one object: {sorted(keys)}")
    return dict(pairs)


def array_spec(spec: dict[str, Any], bad: str) -> tuple[np.dtype, list[int], str]:
    """The ``(dtype, shape, sha256)`` that ``meta["arrays"]`` declares for one array, each field
    checked (``bad`` starts the messages: "FILE: array NAME")."""
    dtype, shape, sha = (spec.get(k) for k in ("dtype", "shape", "sha256"))
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
        return np.dtype(dtype), shape, sha
    except TypeError as e:
        raise ModelFormatError(f"{bad} has an unknown dtype {dtype!r}") from e
