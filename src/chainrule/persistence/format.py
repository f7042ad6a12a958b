"""The model file format's constants, limits and error (``docs/model-format.md``)."""

from __future__ import annotations

import re

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
    "MAX_META_BYTES",
    "MAX_META_DEPTH",
    "MAX_META_VALUES",
    "MAX_NDIM",
    "META_ENTRY",
    "NPY_HEADER_SLACK",
    "SAFE_KINDS",
    "ModelFormatError",
    "check_breadth",
    "check_depth",
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
#: Most values (numbers, strings, lists, objects) in ``meta.json``: a bound on what parsing it
#: takes (some 100 MB at most), counted before it is parsed.
MAX_META_VALUES = 1_000_000
#: Most entries a model archive may hold.
MAX_ENTRIES = 4096
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
