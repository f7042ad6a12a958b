"""Checkpoints: the whole training state, written atomically, to resume a fit from."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from scipy.sparse import issparse

from chainrule._arrays import device, move, namespace, to_numpy
from chainrule.estimators.state import json_scalar
from chainrule.persistence import ModelFormatError, read_archive, write_archive
from chainrule.training import PlateauMonitor, record_payload, restore_record


class Checkpoints:
    """Writing and resuming checkpoints (a mixin of :class:`~chainrule.estimators.base.BaseMLP`)."""

    #: parameters that may differ between a checkpoint and the estimator that resumes it
    _RESUMABLE_CHANGES = frozenset(
        {"checkpoint", "checkpoint_every", "resume", "verbose", "max_iter"}
    )

    def _write_checkpoint(self, finished: bool) -> None:
        """The model file of :meth:`save` plus the optimizer's moments, the random generator,
        the early-stopping monitor and the epoch: everything an exact resume needs."""
        meta, arrays = self.to_payload()
        record_meta, record_arrays = record_payload(self._record)
        meta["training"] = {"finished": finished, "data": self._data_fingerprint, **record_meta}
        arrays.update({f"train.{k}": v for k, v in record_arrays.items()})
        arrays["train.sample_order"] = self._source.sample_order
        split = self.__dict__.get("_split_indices")
        if split is not None:
            arrays["train.split.train"], arrays["train.split.validation"] = split
        write_archive(self.checkpoint, {"kind": type(self).__name__, **meta}, arrays)

    def _resume_from_checkpoint(self, X, Y, sw, incremental: bool):
        """With ``checkpoint`` set: False to train from the start, True to go on from the
        checkpoint's state (``resume=True`` and the file exists), ``"finished"`` when the
        checkpointed fit had already ended."""
        if self.checkpoint is None:
            return False
        if incremental or self.solver == "lbfgs" or self.n_init != 1:
            raise ValueError(
                "checkpoint needs fit (not partial_fit) with solver='sgd' or 'adam' and n_init=1"
            )
        self._param_config()  # a parameter a file cannot hold fails now, not after an epoch
        self._data_fingerprint = fingerprint(X, Y, sw)
        if not (self.resume and Path(self.checkpoint).exists()):
            return False
        meta, arrays = read_archive(self.checkpoint)
        training = meta.pop("training", None)
        if meta.pop("kind") != type(self).__name__ or not isinstance(training, dict):
            raise ModelFormatError(
                f"{self.checkpoint} is not a checkpoint of a {type(self).__name__}"
            )
        mine = json.loads(json.dumps(self._param_config(), default=json_scalar))  # as stored
        changed = [
            k
            for k, v in meta["params"].items()
            if k not in self._RESUMABLE_CHANGES and mine.get(k) != v
        ]
        if changed:
            name = changed[0]
            raise ValueError(
                f"{self.checkpoint} was written with {name}={meta['params'][name]!r}, but this "
                f"estimator has {name}={mine.get(name)!r}; resume with the same parameters "
                "(only max_iter, verbose and the checkpoint settings may change)"
            )
        if training["data"] != self._data_fingerprint:
            raise ValueError(
                f"{self.checkpoint} was written while training on other data; resume with the "
                "same X, y and sample_weight, or delete the checkpoint to start afresh"
            )
        self._restore_training(meta, arrays, training, X)
        if training["finished"]:
            return "finished"
        self._resuming = True
        return True

    def _restore_training(self, meta: dict, arrays: dict, training: dict, X) -> None:
        """The fitted attributes and the training record of a checkpoint, in the namespace and
        on the device of the training data ``X``."""
        xp, where = namespace(X), device(X)
        # the optimizer's moments and the best weights go where the weights are
        moved = [k for k in arrays if k.startswith("train.optimizer.") or k == "train.best_theta"]
        arrays = {**arrays, **{k: move(arrays[k], xp, where) for k in moved}}
        saved = type(self).from_payload(meta, arrays)
        if xp is not np:
            saved.network_ = saved.network_.to(xp, where)
        self.__dict__.update(
            {
                k: v
                for k, v in vars(saved).items()
                if k.endswith("_") or k in ("_label_binarizer", "_y_ndim")
            }
        )
        self._resume_order = arrays.get("train.sample_order")  # None in older checkpoints
        if "train.split.train" in arrays:
            self._split_indices = (arrays["train.split.train"], arrays["train.split.validation"])
        early_stopping = self.early_stopping and self.solver != "lbfgs"
        monitor = PlateauMonitor(self.tol, higher_is_better=early_stopping)
        record = self._record_from_attributes(monitor, None)
        prefix = "train."
        record_arrays = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
        restore_record(record, training, record_arrays, self._make_optimizer())
        self._publish(record)


def fingerprint(X, Y, sw) -> str:
    """A digest of the training data, so that a checkpoint resumes only on the same data."""
    digest = hashlib.blake2b(digest_size=16)
    for a in (X.data, X.indices, X.indptr) if issparse(X) else (X,):
        digest.update(np.ascontiguousarray(to_numpy(a)))
    for a in (Y, sw):
        digest.update(np.ascontiguousarray(to_numpy(a)))
    return digest.hexdigest()
