"""Checkpoints: a model file plus the whole training state (the training record, the order of
the samples, the validation split, whether the fit had ended and a digest of the data),
written atomically, to resume a fit from exactly where it was."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import issparse

from chainrule._arrays import move, to_numpy
from chainrule.persistence.estimators import json_scalar
from chainrule.persistence.format import ModelFormatError
from chainrule.persistence.reader import read_archive
from chainrule.persistence.records import record_payload, restore_record
from chainrule.persistence.writer import write_archive
from chainrule.training import TrainingRecord

#: parameters that may differ between a checkpoint and the estimator that resumes it
RESUMABLE_CHANGES = frozenset({"checkpoint", "checkpoint_every", "resume", "verbose", "max_iter"})
#: the prefix of the training state's arrays in a checkpoint
TRAIN = "train."


def fingerprint(X, Y, sw) -> str:
    """A digest of the training data, so that a checkpoint resumes only on the same data."""
    digest = hashlib.blake2b(digest_size=16)
    for a in (X.data, X.indices, X.indptr) if issparse(X) else (X,):
        digest.update(np.ascontiguousarray(to_numpy(a)))
    for a in (Y, sw):
        digest.update(np.ascontiguousarray(to_numpy(a)))
    return digest.hexdigest()


def write_checkpoint(
    path, kind: str, model: tuple[dict, dict], progress, data_fingerprint: str
) -> None:
    """Write the model file ``model`` (``(meta, arrays)`` of a ``kind``) with ``progress``
    (:class:`chainrule.training.Progress`: the record, sample order, split, and whether the
    fit ended)."""
    meta, arrays = model
    record_meta, record_arrays = record_payload(progress.record)
    meta["training"] = {"finished": progress.finished, "data": data_fingerprint, **record_meta}
    arrays.update({f"{TRAIN}{k}": v for k, v in record_arrays.items()})
    arrays[f"{TRAIN}sample_order"] = progress.sample_order
    if progress.split is not None:
        arrays[f"{TRAIN}split.train"], arrays[f"{TRAIN}split.validation"] = progress.split
    write_archive(path, {"kind": kind, **meta}, arrays)


@dataclass
class Checkpoint:
    """A checkpoint read back: the model file's ``meta`` and ``arrays`` (the optimizer's moments
    and the best weights already where the training data is), the training state."""

    meta: dict
    arrays: dict
    training: dict

    @property
    def finished(self) -> bool:
        return bool(self.training["finished"])

    @property
    def sample_order(self) -> np.ndarray | None:
        return self.arrays.get(f"{TRAIN}sample_order")  # None in older checkpoints

    @property
    def split(self) -> tuple[np.ndarray, np.ndarray] | None:
        if f"{TRAIN}split.train" not in self.arrays:
            return None
        return self.arrays[f"{TRAIN}split.train"], self.arrays[f"{TRAIN}split.validation"]

    def restore_record(self, record: TrainingRecord, optimizer) -> None:
        """Put the checkpoint's record state (random generator, optimizer, plateau monitor)
        into ``record``, which holds the fitted attributes' part."""
        arrays = {k[len(TRAIN) :]: v for k, v in self.arrays.items() if k.startswith(TRAIN)}
        restore_record(record, self.training, arrays, optimizer)


def read_checkpoint(path, kind: str, params: dict, data_fingerprint: str, xp, where) -> Checkpoint:
    """The checkpoint at ``path`` of a ``kind`` estimator, checked against the resuming one's
    parameters ``params`` (as JSON; only :data:`RESUMABLE_CHANGES` may differ) and data;
    the arrays the training moves go to ``xp`` on ``where``."""
    meta, arrays = read_archive(path)
    training = meta.pop("training", None)
    if meta.pop("kind") != kind or not isinstance(training, dict):
        raise ModelFormatError(f"{path} is not a checkpoint of a {kind}")
    mine = json.loads(json.dumps(params, default=json_scalar))  # as stored
    changed = [
        k for k, v in meta["params"].items() if k not in RESUMABLE_CHANGES and mine.get(k) != v
    ]
    if changed:
        name = changed[0]
        raise ValueError(
            f"{path} was written with {name}={meta['params'][name]!r}, but this "
            f"estimator has {name}={mine.get(name)!r}; resume with the same parameters "
            "(only max_iter, verbose and the checkpoint settings may change)"
        )
    if training["data"] != data_fingerprint:
        raise ValueError(
            f"{path} was written while training on other data; resume with the "
            "same X, y and sample_weight, or delete the checkpoint to start afresh"
        )
    # the optimizer's moments and the best weights go where the weights are
    moved = [k for k in arrays if k.startswith(f"{TRAIN}optimizer.") or k == f"{TRAIN}best_theta"]
    arrays = {**arrays, **{k: move(arrays[k], xp, where) for k in moved}}
    return Checkpoint(meta, arrays, training)


def resumable(path, resume: bool) -> bool:
    """Whether a fit resumes from the checkpoint at ``path``: asked to, and it exists."""
    return resume and Path(path).exists()
