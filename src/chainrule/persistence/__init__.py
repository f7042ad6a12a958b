"""Saving and loading models: a safe, versioned format, written atomically.

A model file (``.crm`` by convention; any name is accepted) is, since format 2, one
safetensors file: each array a tensor, and in the header's ``__metadata__["chainrule"]`` the
JSON envelope ``{"format": "chainrule", "format_version": 2, "chainrule_version": ...,
"kind": ..., "arrays": {...}}`` with the model's own fields, each array's dtype, shape and
SHA-256, and the SHA-256 of the JSON itself. Format 1 (a zip of ``meta.json``, its checksum
and one ``.npy`` file per array) is still read.

Loading never runs code from the file: no pickle anywhere, the header is checked within limits
(its size, the number of tensors, each one's dtype, shape and place) before anything else is
read, only the arrays the model uses are read, the declared arrays are capped at
:data:`DEFAULT_MAX_BYTES` unless ``max_bytes`` says otherwise, and every byte that is used is
covered by a checksum. A file that fails any check raises :class:`ModelFormatError`. Saving to
a path writes only regular files, through :func:`atomic_write`: the target is always either
the old file or the new one. The format is documented in ``docs/model-format.md``.

The modules: :mod:`~chainrule.persistence.format` (constants, limits, the JSON checks),
:mod:`~chainrule.persistence.atomic` (safe writes), :mod:`~chainrule.persistence.writer` and
:mod:`~chainrule.persistence.reader` (any format), :mod:`~chainrule.persistence.tensors`
(format 2), :mod:`~chainrule.persistence.legacy` and :mod:`~chainrule.persistence.entries`
(format 1, the zip layer within limits), :mod:`~chainrule.persistence.models` (the one
registry of what may be restored, ``Network`` payloads, ``save`` and ``load``),
:mod:`~chainrule.persistence.estimators` (the estimators' and ``Standardized``'s payloads),
:mod:`~chainrule.persistence.records` (the training record's) and
:mod:`~chainrule.persistence.checkpoints` (a model plus its training state).

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
from chainrule.persistence.checkpoints import (
    Checkpoint,
    fingerprint,
    read_checkpoint,
    resumable,
    write_checkpoint,
)
from chainrule.persistence.estimators import (
    FITTED_ARRAYS,
    FITTED_SCALARS,
    as_plain,
    checked_classes,
    estimator_fields,
    estimator_payload,
    param_config,
    pickled_state,
    rebuildable,
    standardized_fields,
    standardized_payload,
    unpickled_state,
)
from chainrule.persistence.format import (
    DEFAULT_MAX_BYTES,
    FORMAT,
    FORMAT_VERSION,
    ModelFormatError,
)
from chainrule.persistence.models import (
    load,
    model_class,
    network_from_payload,
    network_payload,
    register_model_class,
    save,
)
from chainrule.persistence.reader import declared, open_archive, read_archive
from chainrule.persistence.records import record_payload, restore_record
from chainrule.persistence.writer import check_meta, write_archive

__all__ = [
    "DEFAULT_MAX_BYTES",
    "FITTED_ARRAYS",
    "FITTED_SCALARS",
    "FORMAT",
    "FORMAT_VERSION",
    "Checkpoint",
    "ModelFormatError",
    "as_plain",
    "atomic_write",
    "check_meta",
    "check_target",
    "checked_classes",
    "declared",
    "estimator_fields",
    "estimator_payload",
    "fingerprint",
    "load",
    "model_class",
    "network_from_payload",
    "network_payload",
    "open_archive",
    "param_config",
    "pickled_state",
    "read_archive",
    "read_checkpoint",
    "rebuildable",
    "record_payload",
    "register_model_class",
    "remove_stale_temporaries",
    "restore_record",
    "resumable",
    "save",
    "standardized_fields",
    "standardized_payload",
    "unpickled_state",
    "write_archive",
    "write_checkpoint",
]
