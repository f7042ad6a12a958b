"""Early stopping's held-out samples: the split (scikit-learn's, drawn from the same random
stream) or the caller's validation set (``fit(X, y, X_val=, y_val=, sample_weight_val=)``, as
scikit-learn's ``HistGradientBoosting*`` name it), and the score watched on them."""

from __future__ import annotations

import numpy as np
from sklearn.base import is_classifier
from sklearn.metrics import check_scoring
from sklearn.model_selection import train_test_split
from sklearn.utils import _safe_indexing

from chainrule._arrays import dispatch_namespace, namespace, take_rows, to_numpy
from chainrule.estimators.distributed import dask_input
from chainrule.training import PlateauMonitor


def check_validation_set(X_val, y_val, sample_weight_val, *, solver: str, on_dask: bool) -> bool:
    """Whether ``fit`` was given a validation set; a ValueError when it is given in part
    (both ``X_val`` and ``y_val`` or neither, scikit-learn's rule), to L-BFGS (no epochs to
    validate), or as dask collections with ``X`` in memory (dask ``X`` takes a dask or an
    in-memory validation set)."""
    if X_val is None and y_val is None:
        if sample_weight_val is not None:
            raise ValueError("sample_weight_val is provided, but X_val and y_val were not.")
        return False
    if y_val is None:
        raise ValueError("X_val is provided, but y_val was not provided.")
    if X_val is None:
        raise ValueError("y_val is provided, but X_val was not provided.")
    if solver == "lbfgs":
        raise ValueError(
            "X_val and y_val need solver='sgd' or 'adam': they are scored after each epoch, "
            "and solver='lbfgs' has no epochs (it ignores early stopping)"
        )
    if not on_dask and any(dask_input(a) for a in (X_val, y_val, sample_weight_val)):
        raise ValueError(
            "X_val, y_val and sample_weight_val are dask collections but X is in memory: the "
            "validation set is scored in memory with X; pass them computed (.compute()), or "
            "X, y as dask collections too"
        )
    return True


class EarlyStopping:
    """The validation part of a fit (a mixin of :class:`~chainrule.estimators.base.BaseMLP`)."""

    def _validation_split(self, Y: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
        """``(train, validation)`` row indices, as scikit-learn splits them: stratified for
        one-column classifier targets only (binary; multilabel and multiclass are not), with
        ``rng`` (a ``RandomState``; a ``Generator`` gives a seed)."""
        stratify = to_numpy(Y).astype(bool) if is_classifier(self) and Y.shape[1] == 1 else None
        if not isinstance(rng, np.random.RandomState):
            rng = int(rng.integers(np.iinfo(np.int32).max))
        train, val = train_test_split(
            np.arange(Y.shape[0]),
            test_size=self.validation_fraction,
            random_state=rng,
            stratify=stratify,
        )
        if val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or the size "
                f"of your dataset (validation_fraction={self.validation_fraction} leaves "
                f"{val.shape[0]} sample(s); early stopping needs at least 2)."
            )
        return train, val

    @staticmethod
    def _split(X_given, X, Y, sw, y, indices):
        """The training part ``(X, Y, sw, y)`` and the validation part ``(X, Y, sw, y,
        X_given)`` (``X_given``: the rows of the caller's ``X``, column names kept)."""
        train, val = indices
        data = tuple(take_rows(a, train) for a in (X, Y, sw, y))
        held_out = tuple(take_rows(a, val) for a in (X, Y, sw, y))
        return data, (*held_out, _safe_indexing(X_given, val))

    def _given_validation(self, X_val, y_val, sample_weight_val, X, Y) -> tuple:
        """The caller's validation set as the held-out part ``(X, Y, sw, y, X_given)``,
        checked and encoded as the training data ``X``, ``Y`` were (after them): the fitted
        number of features and feature names, the network's dtype, as many target columns,
        labels among ``classes_``, and ``class_weight`` in its weights."""
        if dispatch_namespace(X_val) != dispatch_namespace(X):
            raise ValueError(
                "X_val must be of the namespace and on the device of X (with "
                "array_api_dispatch=True)"
            )
        try:
            X_v, y_v, Y_v, sw_v, _ = self._training_data(
                X_val, y_val, sample_weight_val, False, None, held_out=True
            )
            if Y_v.shape[1] != Y.shape[1]:
                raise ValueError(
                    f"y_val has {Y_v.shape[1]} target column(s) once encoded, but the training "
                    f"y has {Y.shape[1]}"
                )
        except (ValueError, TypeError) as e:
            kind = ValueError if isinstance(e, ValueError) else TypeError
            raise kind(f"the validation set (X_val, y_val, sample_weight_val): {e}") from e
        return X_v, Y_v, sw_v, y_v, X_val

    def _start_curves(self, record, early_stopping: bool) -> None:
        """Validation curves for a warm start of a fit that had none: they start here, and
        early stopping watches a score (higher is better), not the loss."""
        record.validation_scores, record.validation_loss_curve = [], []
        if early_stopping:
            record.monitor = PlateauMonitor(self.tol, higher_is_better=True)

    def _validation_step(self, validation):
        """``() -> (score, loss)`` on the held-out samples, or ``() -> None`` without them."""
        if validation is None:
            return lambda: None
        return lambda: self._validate(validation)

    def _validate(self, validation) -> tuple[float, float]:
        """The score (higher is better) and the loss on the held-out samples; the default
        score (accuracy, R^2, weighted as the samples) is NaN when the outputs are not finite."""
        X_val, Y_val, sw_val, y_val, X_given = validation
        xp = namespace(sw_val)
        w_sum = float(xp.sum(sw_val))
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            val_loss = self.network_.batch_cost(X_val, Y_val, sw_val / w_sum, w_sum)
            if self.scoring == "loss":
                return -val_loss, val_loss
            if self.scoring is None:
                out = self.network_.forward(X_val, validate=False)
                if not bool(xp.all(xp.isfinite(out))):
                    return float("nan"), val_loss
                return float(self._score_output(out, y_val, sw_val)), val_loss
        return float(check_scoring(self, self.scoring)(self, X_given, y_val)), val_loss

    def _score_output(self, out: np.ndarray, y, sample_weight) -> float:
        """The default score of the network's outputs ``out`` against ``y``."""
        raise NotImplementedError
