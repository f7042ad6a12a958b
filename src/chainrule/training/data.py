"""The training data a :class:`~chainrule.training.Trainer` is given (the
:class:`TrainingData` protocol), and :class:`InMemoryData`: samples in memory, dense or scipy
sparse, with scikit-learn's validation split. (Dask blocks: ``chainrule.estimators.distributed``.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils import _safe_indexing

from chainrule._arrays import device, namespace, take_rows, to_numpy
from chainrule.training.batches import ArraySource

#: the rows of a minibatch with ``batch_size="auto"`` (scikit-learn's)
AUTO_BATCH_ROWS = 200


def minibatch_rows(batch_size: int | str, n_samples: int) -> int:
    """The rows of a minibatch: ``batch_size`` (``"auto"``: 200), at most ``n_samples``."""
    return min(AUTO_BATCH_ROWS if batch_size == "auto" else batch_size, n_samples)


class TrainingData(Protocol):
    """The training samples a :class:`Trainer` is given: in memory, or dask blocks."""

    n_samples: int
    #: whether the held-out samples are drawn before the initial weights (True: dask blocks)
    #: or after them (scikit-learn's order, in memory)
    split_first: bool

    def split(self, fraction: float, rng) -> Any: ...  # the held-out part, drawn by rng
    def divide(self, split) -> tuple[TrainingData, Any]: ...  # (training part, held-out part)
    def source(self, rows: int, shuffle: bool, sample_order=None): ...  # a minibatch source
    def check_result(self, net, loss: float) -> None: ...  # after a blow-up: usable weights?
    def place(self, net): ...  # the network where the data is (namespace, device)


class InMemoryData:
    """Samples in memory, dense or scipy sparse: ``X``, the encoded targets ``Y``, the sample
    weights ``sw``, the targets ``y`` as given (for scoring) and ``X_given``, the caller's
    ``X`` (column names kept, for a scorer); ``stratify``: split stratified by ``Y``'s one
    column (binary classification, scikit-learn's rule)."""

    split_first = False

    def __init__(self, X, Y, sw, y, X_given=None, *, stratify: bool = False) -> None:
        self.X, self.Y, self.sw, self.y = X, Y, sw, y
        self.X_given = X if X_given is None else X_given
        self.stratify = stratify
        self.n_samples = X.shape[0]

    @property
    def in_memory_rows(self) -> int:
        """The rows a fit holds in memory (L-BFGS works on all of them at once)."""
        return self.n_samples

    def place(self, net):
        """``net`` in the namespace and on the device of ``X``."""
        xp = namespace(self.X)
        return net if xp is np else net.to(xp, device(self.X))

    def split(self, fraction: float, rng) -> tuple[np.ndarray, np.ndarray]:
        """``(train, validation)`` row indices, as scikit-learn splits them, drawn by ``rng``
        (a ``RandomState``; a ``Generator`` gives a seed)."""
        stratify = to_numpy(self.Y).astype(bool) if self.stratify else None
        if not isinstance(rng, np.random.RandomState):
            rng = int(rng.integers(np.iinfo(np.int32).max))
        train, val = train_test_split(
            np.arange(self.n_samples), test_size=fraction, random_state=rng, stratify=stratify
        )
        if val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or the size "
                f"of your dataset (validation_fraction={fraction} leaves {val.shape[0]} "
                "sample(s); early stopping needs at least 2)."
            )
        return train, val

    def divide(self, split) -> tuple[InMemoryData, HeldOut]:
        train, val = split
        part = InMemoryData(*(take_rows(a, train) for a in (self.X, self.Y, self.sw, self.y)))
        held = HeldOut(
            *(take_rows(a, val) for a in (self.X, self.Y, self.sw, self.y)),
            _safe_indexing(self.X_given, val),
        )
        return part, held

    def source(self, rows: int, shuffle: bool, sample_order=None) -> ArraySource:
        return ArraySource(self.X, self.Y, self.sw, rows, shuffle, sample_order=sample_order)

    def check_result(self, net, loss: float) -> None:
        """After a blow-up, the weights kept must give a finite cost and finite outputs on the
        training data (scikit-learn's error when they do not)."""
        xp = namespace(net.theta)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            finite = bool(xp.all(xp.isfinite(net.forward(self.X, validate=False))))
        if not (finite and np.isfinite(loss)):
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may contain "
                "large values and need to be preprocessed. (Training diverged, and even the "
                "weights it started from give an infinite or NaN cost on the training data: "
                f"the features are too large for the network ({net.dtype.name}). "
                "Scale them, e.g. with StandardScaler, and fit again.)"
            )


@dataclass
class HeldOut:
    """Held-out samples in memory: ``X``, ``Y``, ``sw``, ``y`` and the caller's rows
    ``X_given``."""

    X: Any
    Y: Any
    sw: Any
    y: Any
    X_given: Any
