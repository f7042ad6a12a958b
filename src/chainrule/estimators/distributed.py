"""Dask input to the estimators: ``fit`` and ``partial_fit`` stream blocks, ``predict*`` and
``score`` stay lazy (:mod:`chainrule.scale` does the work; ``pip install chainrule[dask]``).

X is checked from its metadata (2-D, numeric, at least one row, the fitted number of features)
and for NaN and infinities block by block as each block is computed. Classifier labels are
found in one pass (``da.unique``) and one-hot encoded on the workers. Early stopping holds out
whole blocks. ``solver="lbfgs"`` sums each block's cost and gradient on the workers
(:class:`chainrule.scale.BlockObjective`); ``sgd`` and ``adam`` take minibatches from
:class:`chainrule.scale.BlockSource`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.sparse import issparse
from sklearn.base import ClassifierMixin
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.validation import check_is_fitted

from chainrule.estimators.inputs import check_class_weight, check_same_classes
from chainrule.training import restart_generators


def dask_input(X: Any) -> bool:
    """Whether ``X`` is a dask collection (an array, DataFrame or Series), without importing
    dask."""
    return type(X).__module__.split(".")[0] == "dask"


def _as_dask(data: Any, name: str, numeric: bool = True):
    """``data`` as a dask array: dask collections as they are, anything else from memory."""
    import dask.array as da

    from chainrule.scale import as_dask_array

    if dask_input(data):
        return as_dask_array(data, name, numeric=numeric)
    return da.from_array(np.asarray(data))


class DaskInput:
    """``fit``, ``partial_fit``, ``predict*`` and ``score`` on dask input (a mixin of
    :class:`~chainrule.estimators.base.BaseMLP`)."""

    # -- fitting -------------------------------------------------------------------------------

    def _fit_dask(self, X, y, sample_weight=None, *, incremental=False, classes=None,
                  validation_set=None):  # fmt: skip
        """:meth:`fit` (``incremental``: one pass of :meth:`partial_fit`) on dask input;
        ``validation_set``: the caller's ``(X_val, y_val, sample_weight_val)``, or None."""
        from chainrule.scale import Blocks, BlockSource

        first_call = not (incremental or self.warm_start) or not hasattr(self, "network_")
        self._check_dask_settings(incremental, validation_set is not None)
        X = self._dask_features(X, first_call)
        Y, labels = self._dask_targets(y, first_call, classes, X.dtype)
        if not first_call:
            self._continue_network(X.shape[1], Y.shape[1])
        blocks = Blocks.from_dask(X, Y, self._dask_sample_weight(sample_weight, labels, X))
        n_runs = self.n_init if first_call and not incremental else 1
        rngs = restart_generators(self.random_state, n_runs)
        record = None if first_call else self._continued_record()
        validation = None
        if validation_set is not None:
            validation = self._dask_given_validation(*validation_set, X, Y)
        elif self.early_stopping and not incremental:
            rng = rngs[0] if first_call else record.rng
            rng = self.__dict__.pop("_split_rng", rng)  # run 0's generator, for a restart
            blocks, validation = blocks.split(self.validation_fraction, rng)
        # early_stopping decides, as in memory: a given set without it is recorded, not watched
        stops_early = validation is not None and (self.early_stopping or validation_set is None)
        ctx = self._init_callback_context(max_subtasks=1 if incremental else self.max_iter * n_runs)
        ctx.call_on_fit_task_begin(estimator=self, X=X, y=y)
        self._blew_up = False
        runs = []
        for run_rng in rngs:
            if first_call:
                self.network_ = self._build_network(X.shape[1], Y.shape[1], X.dtype, run_rng)
                record = self._new_record(run_rng, stops_early, validation is not None)
            record.rng = run_rng
            if validation is not None and record.validation_scores is None:
                self._start_curves(record, stops_early)  # a warm start of a fit without one
            self._publish(record)
            source = BlockSource(blocks, self._batch_size(blocks.n_samples), self.shuffle)
            hooks = self._fit_hooks(ctx, X, y, self._dask_validation_step(validation))
            interrupted = self._train(source, record, hooks, incremental, stops_early)
            self._publish(record)
            runs.append((self._run_criterion(), self.network_, record))
            if interrupted:
                break
        if len(rngs) > 1:
            self.best_run_ = max(range(len(runs)), key=lambda k: (runs[k][0], -k))
            self.network_ = runs[self.best_run_][1]
            self._publish(runs[self.best_run_][2])
        ctx.call_on_fit_task_end(estimator=self, X=X, y=y)
        return self

    def _partial_fit_dask(self, X, y, sample_weight=None, classes=None):
        """:meth:`partial_fit` on dask input: one pass over the blocks."""
        if not hasattr(self, "network_"):
            self._validate_params()
            multilabel = np.ndim(y) == 2 and y.shape[1] > 1
            if isinstance(self, ClassifierMixin) and classes is None and not multilabel:
                raise ValueError("classes must be passed on the first call to partial_fit")
        else:
            check_same_classes(classes, self.classes_)
        return self._fit_dask(X, y, sample_weight, incremental=True, classes=classes)

    def _check_dask_settings(self, incremental: bool, given: bool = False) -> None:
        """``given``: whether the caller gave a validation set."""
        if self.checkpoint is not None:
            raise ValueError(
                "checkpoint is not available with dask input: a checkpoint fingerprints the "
                "data, which is never in memory; fit dask input without checkpoint"
            )
        if self.early_stopping and not incremental and not given and self.validation_fraction == 0:
            raise ValueError(
                "early_stopping=True needs validation samples, but validation_fraction=0; "
                "set it in (0, 1), e.g. 0.1"
            )
        if (self.early_stopping and not incremental) or given:
            if self.scoring not in (None, "loss"):
                raise ValueError(
                    f"scoring={self.scoring!r} is not available with dask input: held-out "
                    "blocks are scored where they are, with scoring=None (accuracy, R^2) or "
                    "'loss'"
                )

    def _dask_features(self, X, first_call: bool):
        """Dask ``X`` checked from its metadata, cast to the network's dtype and checked for
        NaN and infinities block by block (lazily)."""
        from chainrule.scale import finite

        columns = getattr(X, "columns", None)
        X = _as_dask(X, "X")
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
        if X.shape[0] == 0:
            raise ValueError(f"X has 0 samples (shape {X.shape}); at least 1 is needed")
        if first_call:
            self.n_features_in_ = X.shape[1]
            names = None if columns is None else np.asarray(list(columns), dtype=object)
            if names is not None and all(isinstance(c, str) for c in names):
                self.feature_names_in_ = names
            elif hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
            dtype = self.dtype or (np.float32 if X.dtype == np.float32 else np.float64)
        else:
            self._check_dask_features(X)
            dtype = self.network_.dtype
        return finite(X, "X", dtype)

    def _check_dask_features(self, X) -> None:
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input."
            )

    def _dask_targets(self, y, first_call: bool, classes, dtype):
        """``(Y, labels)``: the network's targets as a dask array (encoded on the workers) and
        the 1-D class labels (None for a regressor or multilabel targets)."""
        from chainrule.scale import finite, label_classes, one_hot

        if not isinstance(self, ClassifierMixin):
            y = _as_dask(y, "y")
            n = 1 if y.ndim == 1 else y.shape[1]
            if first_call:
                self._y_ndim = y.ndim
            elif n != self.n_outputs_:
                raise ValueError(
                    f"y has {n} target column(s), but the model was fitted on {self.n_outputs_}"
                )
            Y = finite(y.reshape(-1, n), "y", dtype)
            if self.loss == "poisson":
                Y = Y.map_blocks(_nonnegative, dtype=Y.dtype)
            return Y, None
        y = _as_dask(y, "y", numeric=False)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim == 2:  # a multilabel indicator: its columns are the labels
            if first_call:
                self._label_binarizer = LabelBinarizer().fit(np.eye(y.shape[1], dtype=int))
                self.classes_ = self._label_binarizer.classes_
            return finite(y, "y", dtype), None
        if first_call:
            found = np.unique(np.asarray(classes)) if classes is not None else label_classes(y)
            _check_labels(found, "classes" if classes is not None else "y")
            self._label_binarizer = LabelBinarizer().fit(found)
            self.classes_ = self._label_binarizer.classes_
        return one_hot(y, self.classes_, dtype), y

    def _dask_sample_weight(self, sample_weight, labels, X):
        """The samples' weights (dask, or None when all are 1), times ``class_weight``."""
        from chainrule.scale import finite

        sw = None
        if sample_weight is not None:
            if np.ndim(sample_weight) == 0 and not dask_input(sample_weight):
                sample_weight = np.full(X.shape[0], float(sample_weight))
            sw = finite(_as_dask(sample_weight, "sample_weight"), "sample_weight", X.dtype)
            if sw.ndim != 1:
                raise ValueError(f"sample_weight must be 1-D, got shape {sw.shape}")
        class_weight = getattr(self, "class_weight", None)
        if class_weight is None:
            return sw
        if labels is None:
            raise ValueError("class_weight with dask input needs 1-D class labels y")
        per_class = self._dask_class_weights(class_weight, labels)
        by_label = labels.map_blocks(_class_weights, self.classes_, per_class, dtype=X.dtype)
        return by_label if sw is None else sw * by_label.rechunk(sw.chunks)

    def _dask_class_weights(self, class_weight, labels) -> np.ndarray:
        """Each class's weight: from the dict, or ``n / (n_classes n_c)`` ("balanced", one
        pass to count the classes)."""
        import dask.array as da

        check_class_weight(class_weight)
        if class_weight == "balanced":
            codes = labels.map_blocks(_class_weights, self.classes_, np.arange(len(self.classes_)))
            counts = da.bincount(codes, minlength=len(self.classes_)).compute()
            return labels.shape[0] / (len(self.classes_) * np.maximum(counts, 1))
        return np.array([float(class_weight.get(c, 1.0)) for c in self.classes_.tolist()])

    def _dask_given_validation(self, X_val, y_val, sample_weight_val, X, Y):
        """The caller's validation set (dask, or in memory: one block) as row
        :class:`~chainrule.scale.Blocks`, checked and encoded as the training ``X``, ``Y``
        were: as many features (the fitted names, where both have them), the network's dtype,
        finite values, as many target columns, labels among ``classes_`` (one pass over
        ``y_val``) and ``class_weight`` in the weights."""
        from chainrule.scale import Blocks, finite, label_classes

        try:
            if issparse(X_val):
                raise TypeError("a sparse X_val with dask X: give a dask array or X_val.toarray()")
            self._check_val_names(getattr(X_val, "columns", None))
            X_v = _as_dask(X_val, "X_val")
            if X_v.ndim != 2 or X_v.shape[1] != X.shape[1]:
                raise ValueError(f"X_val has shape {X_v.shape}; X has {X.shape[1]} features")
            X_v = finite(X_v, "X_val", X.dtype)
            labels = None
            if isinstance(self, ClassifierMixin):
                Y_v, labels = self._dask_targets(y_val, False, None, X.dtype)
                unknown = (
                    [] if labels is None else np.setdiff1d(label_classes(labels), self.classes_)
                )
                if len(unknown):
                    raise ValueError(f"y_val has labels not among the classes: {unknown.tolist()}")
            else:
                y_v = _as_dask(y_val, "y_val")
                Y_v = finite(y_v.reshape(y_v.shape[0], -1), "y_val", X.dtype)
            if Y_v.shape[1] != Y.shape[1] or Y_v.shape[0] != X_v.shape[0]:
                raise ValueError(
                    f"y_val has shape {Y_v.shape} once encoded, for {X_v.shape[0]} rows of X_val "
                    f"and the training y's {Y.shape[1]} column(s)"
                )
            sw = self._dask_sample_weight(sample_weight_val, labels, X_v)
            return Blocks.from_dask(X_v, Y_v, sw)
        except (ValueError, TypeError) as e:
            raise type(e)(f"the validation set (X_val, y_val, sample_weight_val): {e}") from e

    def _check_val_names(self, columns) -> None:
        """``X_val``'s column names must be the fitted ones, where both have them."""
        fitted = getattr(self, "feature_names_in_", None)
        if columns is not None and fitted is not None and list(columns) != list(fitted):
            raise ValueError(
                f"X_val has the feature names {list(columns)[:5]}..., but X had "
                f"{list(fitted)[:5]}...; give its columns in X's order"
            )

    def _dask_validation_step(self, validation):
        """``() -> (score, loss)`` on the held-out blocks, on the workers; or ``() -> None``."""
        from chainrule.scale import evaluate

        if validation is None:
            return lambda: None
        weight_sums = validation.weight_sums()
        if self.scoring == "loss":
            kind = "loss"
        elif not isinstance(self, ClassifierMixin):
            kind = "r2"
        else:
            kind = "argmax" if self._label_binarizer.y_type_ == "multiclass" else "threshold"
        return lambda: evaluate(self.network_, validation, kind, weight_sums)

    # -- predicting ----------------------------------------------------------------------------

    def _predict_dask(self, method: str, X):
        """``method`` (``"predict"``, ``"predict_proba"``, ``"predict_log_proba"``) mapped
        lazily over the row blocks of dask ``X``: a dask array."""
        from chainrule.scale import predict_blocks

        check_is_fitted(self, "network_")
        X = _as_dask(X, "X")
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
        self._check_dask_features(X)
        classifier = isinstance(self, ClassifierMixin)
        if method != "predict":
            n_out = 2 if self._label_binarizer.y_type_ == "binary" else len(self.classes_)
            dtype = self.network_.dtype
        elif classifier and self._label_binarizer.y_type_.startswith("multilabel"):
            n_out, dtype = len(self.classes_), self.classes_.dtype
        elif classifier:
            n_out, dtype = None, self.classes_.dtype
        else:
            n_out = None if self._y_ndim == 1 else self.n_outputs_
            dtype = self.network_.dtype
        return predict_blocks(getattr(self, method), X, dtype=dtype, n_outputs=n_out)

    def _score_dask(self, X, y, sample_weight=None):
        """The default score (accuracy, or R^2) of dask ``X`` against ``y``: a lazy dask
        scalar (``.compute()`` it, or ``float(...)``)."""
        from chainrule.scale import lazy_accuracy, lazy_r2

        pred = self._predict_dask("predict", X)
        classifier = isinstance(self, ClassifierMixin)
        y = _as_dask(y, "y", numeric=not classifier)
        if classifier and y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        y = y.rechunk({0: pred.chunks[0]})
        if sample_weight is not None:
            sample_weight = _as_dask(sample_weight, "sample_weight").rechunk(pred.chunks[0])
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
