"""Saving and loading models: a safe, versioned zip format, written atomically.

A model file (``.crm`` by convention; any name is accepted) is a zip archive holding

* ``meta.json``: the envelope ``{"format": "chainrule", "format_version": 1,
  "chainrule_version": ..., "kind": ..., "arrays": {...}}`` and the model's own JSON fields;
* ``checksum.sha256``: the SHA-256 of ``meta.json``'s bytes, in ``sha256sum`` format;
* one ``.npy`` file per array, written without pickle; ``meta.json`` records each one's file
  name, dtype, shape and SHA-256.

Loading never runs code from the file: no pickle anywhere, only the entries that ``meta.json``
names are read (and of those only the arrays the model uses), every size is checked before
anything is decompressed, the declared arrays are capped at :data:`DEFAULT_MAX_BYTES` unless
``max_bytes`` says otherwise, and every byte that is used is covered by a checksum. A file that
fails any check raises :class:`ModelFormatError`. Saving writes only regular files, through
:func:`atomic_write`: the target is always either the old file or the new one.
The format is documented in ``docs/model-format.md``.

The modules: :mod:`~chainrule.persistence.format` (constants and limits),
:mod:`~chainrule.persistence.atomic` (safe writes), :mod:`~chainrule.persistence.writer` and
:mod:`~chainrule.persistence.reader` (the archive), :mod:`~chainrule.persistence.entries` (the
zip layer, within limits), :mod:`~chainrule.persistence.models` (the registry, ``Network``
payloads, ``save`` and ``load``).

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

from chainrule.persistence.atomic import atomic_write, check_target, remove_stale_temporaries
from chainrule.persistence.format import (
    DEFAULT_MAX_BYTES,
    FORMAT,
    FORMAT_VERSION,
    ModelFormatError,
)
from chainrule.persistence.models import (
    load,
    network_from_payload,
    network_payload,
    register_model_class,
    save,
)
from chainrule.persistence.reader import declared, open_archive, read_archive
from chainrule.persistence.writer import check_meta, write_archive

__all__ = [
    "DEFAULT_MAX_BYTES",
    "FORMAT",
    "FORMAT_VERSION",
    "ModelFormatError",
    "atomic_write",
    "check_meta",
    "check_target",
    "declared",
    "load",
    "network_from_payload",
    "network_payload",
    "open_archive",
    "read_archive",
    "register_model_class",
    "remove_stale_temporaries",
    "save",
    "write_archive",
]
