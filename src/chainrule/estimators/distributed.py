"""Dask input to the estimators: ``fit`` and ``partial_fit`` hand the trainer blocks
(:class:`BlockData`), ``n_init`` restarts run as joblib tasks (:func:`restart_context`),
``predict*`` and ``score`` stay lazy (:mod:`chainrule.scale` does the work; ``pip install
chainrule[dask]``).

X is checked from its metadata (2-D, numeric, at least one row, the fitted number of features)
and for NaN and infinities block by block as each block is computed. Classifier labels are
found in one pass (``da.unique``) and one-hot encoded on the workers. Early stopping holds out
whole blocks. ``solver="lbfgs"`` sums each block's cost and gradient on the workers
(:class:`chainrule.scale.BlockObjective`); ``sgd`` and ``adam`` take minibatches from
:class:`chainrule.scale.BlockSource`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from functools import partial
from typing import Any

import numpy as np
from joblib.parallel import get_active_backend
from scipy.sparse import issparse
from sklearn.base import is_classifier
from sklearn.utils.validation import check_is_fitted

from chainrule.estimators.inputs import check_class_weight


def dask_input(X: Any) -> bool:
    """Whether ``X`` is a dask collection (an array, DataFrame or Series), without importing
    dask."""
    return type(X).__module__.split(".")[0] == "dask"


def as_dask(data: Any, name: str, numeric: bool = True):
    """``data`` as a dask array: dask collections as they are, anything else from memory."""
    import dask.array as da

    from chainrule.scale import as_dask_array

    if dask_input(data):
        return as_dask_array(data, name, numeric=numeric)
    return da.from_array(np.asarray(data))


class BlockData:
    """Dask training data for a :class:`~chainrule.training.Trainer` (the
    :class:`~chainrule.training.TrainingData` protocol): the checked dask ``X``, the encoded
    ``Y`` and their row blocks. Early stopping holds out whole blocks, drawn before the initial
    weights."""

    split_first = True
    in_memory_rows = 0  # the rows never sit in memory together

    def __init__(self, X, Y, blocks) -> None:
        self.X, self.Y, self.blocks = X, Y, blocks
        self.n_samples = blocks.n_samples

    def split(self, fraction: float, rng):
        return self.blocks.split(fraction, rng)

    def divide(self, split) -> tuple[BlockData, HeldOutBlocks]:
        train, held = split
        return BlockData(self.X, self.Y, train), HeldOutBlocks(held, held.weight_sums())

    def source(self, rows: int, shuffle: bool, sample_order=None):
        from chainrule.scale import BlockSource

        return BlockSource(self.blocks, rows, shuffle)

    def check_result(self, net, loss: float) -> None:
        pass  # the blocks are never in memory together to check

    def place(self, net):
        return net  # NumPy weights: the blocks come to them, or they go to the blocks


class HeldOutBlocks:
    """Held-out blocks and their weight sums (each block's total sample weight)."""

    def __init__(self, blocks, weight_sums) -> None:
        self.blocks, self.weight_sums = blocks, weight_sums


def score_blocks(kind: str, net, held_out: HeldOutBlocks) -> tuple[float, float]:
    """``(score, loss)`` of ``net`` on held-out blocks, on the workers (``kind``: what
    :func:`chainrule.scale.evaluate` scores)."""
    from chainrule.scale import evaluate

    return evaluate(net, held_out.blocks, kind, held_out.weight_sums)


def dask_data(estimator, X, y, sample_weight, first_call, classes, encode: Callable, given=False):
    """:class:`BlockData` of dask ``X``, ``y`` (``encode(y, first_call, classes, dtype) ->
    (Y, labels)``: the estimator's target encoding) and ``sample_weight`` (``given``: with a
    validation set of the caller's)."""
    from chainrule.scale import Blocks

    check_dask_settings(estimator, given)
    X = dask_features(estimator, X, first_call)
    Y, labels = encode(y, first_call, classes, X.dtype)
    sw = dask_sample_weight(estimator, sample_weight, labels, X)
    return BlockData(X, Y, Blocks.from_dask(X, Y, sw))


def check_dask_settings(estimator, given: bool = False) -> None:
    """What dask input cannot do: checkpoints, a ``scoring`` other than None or ``"loss"``
    (``given``: with a validation set of the caller's)."""
    if estimator.checkpoint is not None:
        raise ValueError(
            "checkpoint is not available with dask input: a checkpoint fingerprints the "
            "data, which is never in memory; fit dask input without checkpoint"
        )
    if (estimator.early_stopping or given) and estimator.scoring not in (None, "loss"):
        raise ValueError(
            f"scoring={estimator.scoring!r} is not available with dask input: held-out "
            "blocks are scored where they are, with scoring=None (accuracy, R^2) or 'loss'"
        )


def dask_given_validation(estimator, encode, X_val, y_val, sample_weight_val, X, Y):
    """The caller's validation set (dask, or in memory: one block) as held-out blocks,
    checked and encoded as the training ``X``, ``Y`` were (``encode``: the estimator's
    target encoding): as many features (the fitted names, where both have them), the
    network's dtype, finite values, as many target columns, labels among ``classes_`` (one
    pass over ``y_val``) and ``class_weight`` in the weights."""
    from chainrule.scale import Blocks, finite, label_classes

    try:
        if issparse(X_val):
            raise TypeError("a sparse X_val with dask X: give a dask array or X_val.toarray()")
        check_validation_names(estimator, getattr(X_val, "columns", None))
        X_v = as_dask(X_val, "X_val")
        if X_v.ndim != 2 or X_v.shape[1] != X.shape[1]:
            raise ValueError(f"X_val has shape {X_v.shape}; X has {X.shape[1]} features")
        X_v = finite(X_v, "X_val", X.dtype)
        labels = None
        if is_classifier(estimator):
            Y_v, labels = encode(y_val, False, None, X.dtype)
            classes = estimator.classes_
            unknown = [] if labels is None else np.setdiff1d(label_classes(labels), classes)
            if len(unknown):
                raise ValueError(f"y_val has labels not among the classes: {unknown.tolist()}")
        else:
            y_v = as_dask(y_val, "y_val")
            Y_v = finite(y_v.reshape(y_v.shape[0], -1), "y_val", X.dtype)
        if Y_v.shape[1] != Y.shape[1] or Y_v.shape[0] != X_v.shape[0]:
            raise ValueError(
                f"y_val has shape {Y_v.shape} once encoded, for {X_v.shape[0]} rows of X_val "
                f"and the training y's {Y.shape[1]} column(s)"
            )
        sw = dask_sample_weight(estimator, sample_weight_val, labels, X_v)
        held = Blocks.from_dask(X_v, Y_v, sw)
    except (ValueError, TypeError) as e:
        raise type(e)(f"the validation set (X_val, y_val, sample_weight_val): {e}") from e
    return HeldOutBlocks(held, held.weight_sums())


def check_validation_names(estimator, columns) -> None:
    """``X_val``'s column names must be the fitted ones, where both have them."""
    fitted = getattr(estimator, "feature_names_in_", None)
    if columns is not None and fitted is not None and list(columns) != list(fitted):
        raise ValueError(
            f"X_val has the feature names {list(columns)[:5]}..., but X had "
            f"{list(fitted)[:5]}...; give its columns in X's order"
        )


def dask_features(estimator, X, first_call: bool):
    """Dask ``X`` checked from its metadata, cast to the network's dtype and checked for
    NaN and infinities block by block (lazily); the first call sets ``n_features_in_`` and
    ``feature_names_in_``."""
    from chainrule.scale import finite

    columns = getattr(X, "columns", None)
    X = as_dask(X, "X")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"X has 0 samples (shape {X.shape}); at least 1 is needed")
    if first_call:
        estimator.n_features_in_ = X.shape[1]
        names = None if columns is None else np.asarray(list(columns), dtype=object)
        if names is not None and all(isinstance(c, str) for c in names):
            estimator.feature_names_in_ = names
        elif hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
        dtype = estimator.dtype or (np.float32 if X.dtype == np.float32 else np.float64)
    else:
        check_dask_features(estimator, X)
        dtype = estimator.network_.dtype
    return finite(X, "X", dtype)


def check_dask_features(estimator, X) -> None:
    if X.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(estimator).__name__} is expecting "
            f"{estimator.n_features_in_} features as input."
        )


def dask_classes(y, classes) -> np.ndarray:
    """The labels of dask ``y``: ``classes`` if given (sorted), else found in one pass; the
    columns of a multilabel indicator (their indices)."""
    from chainrule.scale import label_classes

    y = _label_column(y)
    if y.ndim == 2:  # a multilabel indicator: its columns are the labels
        return np.eye(y.shape[1], dtype=int)
    found = np.unique(np.asarray(classes)) if classes is not None else label_classes(y)
    _check_labels(found, "classes" if classes is not None else "y")
    return found


def dask_label_targets(y, classes, dtype):
    """``(Y, labels)``: dask labels ``y`` one-hot encoded on the workers (a multilabel
    indicator as it is) and the 1-D labels (None for multilabel)."""
    from chainrule.scale import finite, one_hot

    y = _label_column(y)
    if y.ndim == 2:
        return finite(y, "y", dtype), None
    return one_hot(y, classes, dtype), y


def _label_column(y):
    """Dask labels, a column of them as 1-D."""
    y = as_dask(y, "y", numeric=False)
    return y[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y


def dask_regression_targets(y, n_outputs: int | None, dtype, poisson: bool):
    """Dask regression targets as ``(n_samples, n_outputs)`` (``n_outputs``: the fitted
    number, None on a first call), checked lazily (finite; ``poisson``: >= 0)."""
    from chainrule.scale import finite

    n = 1 if y.ndim == 1 else y.shape[1]
    if n_outputs is not None and n != n_outputs:
        raise ValueError(f"y has {n} target column(s), but the model was fitted on {n_outputs}")
    Y = finite(y.reshape(-1, n), "y", dtype)
    return Y.map_blocks(_nonnegative, dtype=Y.dtype) if poisson else Y


def dask_sample_weight(estimator, sample_weight, labels, X):
    """The samples' weights (dask, or None when all are 1), times ``class_weight``."""
    from chainrule.scale import finite

    sw = None
    if sample_weight is not None:
        if np.ndim(sample_weight) == 0 and not dask_input(sample_weight):
            sample_weight = np.full(X.shape[0], float(sample_weight))
        sw = finite(as_dask(sample_weight, "sample_weight"), "sample_weight", X.dtype)
        if sw.ndim != 1:
            raise ValueError(f"sample_weight must be 1-D, got shape {sw.shape}")
    class_weight = getattr(estimator, "class_weight", None)
    if class_weight is None:
        return sw
    if labels is None:
        raise ValueError("class_weight with dask input needs 1-D class labels y")
    classes = estimator.classes_
    per_class = _dask_class_weights(class_weight, labels, classes)
    by_label = labels.map_blocks(_class_weights, classes, per_class, dtype=X.dtype)
    return by_label if sw is None else sw * by_label.rechunk(sw.chunks)


def _dask_class_weights(class_weight, labels, classes) -> np.ndarray:
    """Each class's weight: from the dict, or ``n / (n_classes n_c)`` ("balanced", one
    pass to count the classes)."""
    import dask.array as da

    check_class_weight(class_weight)
    if class_weight == "balanced":
        codes = labels.map_blocks(_class_weights, classes, np.arange(len(classes)))
        counts = da.bincount(codes, minlength=len(classes)).compute()
        return labels.shape[0] / (len(classes) * np.maximum(counts, 1))
    return np.array([float(class_weight.get(c, 1.0)) for c in classes.tolist()])


# -- restarts as joblib tasks ------------------------------------------------------------------


def restart_context(on_dask: bool) -> Callable:
    """What each restart, a joblib task, runs in: on dask input, the calling thread's dask
    client when joblib runs the task in this process (its sequential and threading backends:
    joblib's threads do not inherit ``client.as_current()``), or on a dask worker (joblib's
    dask backend) the worker's client, out of the worker's thread pool while the run waits
    for blocks (``distributed.worker_client``), so the restarts cannot take every thread."""
    if not on_dask:
        return nullcontext
    return partial(_restart_client, _calling_client())


@contextmanager
def _restart_client(client):
    if client is not None:
        with client.as_current():
            yield
    elif _on_dask_worker():
        from distributed import worker_client

        with worker_client():
            yield
    else:
        yield


def _calling_client():
    """The dask client this thread computes with, for tasks that joblib runs in this process;
    None elsewhere, or without one."""
    from chainrule.scale import default_client

    backend, _ = get_active_backend()
    return default_client() if getattr(backend, "supports_sharedmem", False) else None


def _on_dask_worker() -> bool:
    """Whether this code runs in a task on a dask worker."""
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):  # no distributed, or not on a worker
        return False
    return True


# -- predicting ----------------------------------------------------------------------------


def predict_dask(estimator, method: str, X, n_outputs: int | None, dtype):
    """``estimator``'s ``method`` (``"predict"``, ``"predict_proba"``, ...) mapped lazily over
    the row blocks of dask ``X``: a dask array of ``n_outputs`` columns (None: 1-D)."""
    from chainrule.scale import predict_blocks

    check_is_fitted(estimator, "network_")
    X = as_dask(X, "X")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
    check_dask_features(estimator, X)
    return predict_blocks(getattr(estimator, method), X, dtype=dtype, n_outputs=n_outputs)


def score_dask(estimator, X, y, sample_weight=None):
    """The default score (accuracy, or R^2) of dask ``X`` against ``y``: a lazy dask
    scalar (``.compute()`` it, or ``float(...)``)."""
    from chainrule.scale import lazy_accuracy, lazy_r2

    pred = estimator.predict(X)
    classifier = is_classifier(estimator)
    y = as_dask(y, "y", numeric=not classifier)
    if classifier and y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    y = y.rechunk({0: pred.chunks[0]})
    if sample_weight is not None:
        sample_weight = as_dask(sample_weight, "sample_weight").rechunk(pred.chunks[0])
    return (lazy_accuracy if classifier else lazy_r2)(y, pred, sample_weight)


def _class_weights(labels: np.ndarray, classes: np.ndarray, per_class: np.ndarray) -> np.ndarray:
    """Each sample's ``per_class`` entry, found by its label (on a worker)."""
    return per_class[np.searchsorted(classes, labels)]


def _nonnegative(Y: np.ndarray, block_info=None) -> np.ndarray:
    """A block of Poisson targets, which must be >= 0 (checked on a worker)."""
    if (Y < 0).any():
        i, j = np.argwhere(Y < 0)[0]
        start = (block_info or {}).get(0, {}).get("array-location", [(0, 0)])[0][0]
        raise ValueError(
            f"loss='poisson' needs non-negative targets y; row {start + i} (output {j}) is "
            f"{Y[i, j].item()}"
        )
    return Y


def _check_labels(classes: np.ndarray, source: str) -> None:
    """Class labels must be discrete (not continuous floats), at least two of them."""
    if classes.dtype.kind == "f" and not np.all(classes == np.round(classes)):
        raise ValueError(
            "Unknown label type: continuous; MLPClassifier takes binary, multiclass or "
            "multilabel-indicator targets (use MLPRegressor for continuous targets)"
        )
    if len(classes) < 2:
        raise ValueError(
            f"{source} has only one class ({classes.tolist()[0]!r}); a classifier needs at least 2"
        )
