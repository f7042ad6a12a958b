"""The caller's validation set (``fit(X, y, X_val=, y_val=, sample_weight_val=)``, as
scikit-learn's ``HistGradientBoosting*`` name it): checked and encoded as the training data.
(The split early stopping draws otherwise is :class:`chainrule.training.InMemoryData`'s.)"""

from __future__ import annotations

import copy

import numpy as np
from sklearn.metrics import check_scoring

from chainrule._arrays import dispatch_namespace, namespace
from chainrule.estimators.distributed import dask_input
from chainrule.training import HeldOut


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


def check_early_stopping(estimator, stops_early: bool, incremental: bool, given: bool) -> None:
    """Early stopping (``stops_early``: it applies to the solver) needs ``fit`` (not
    ``partial_fit``) and validation samples: a ``validation_fraction`` to hold out, or a
    validation set ``given``."""
    if incremental and estimator.early_stopping:
        raise ValueError("partial_fit does not support early_stopping=True")
    if stops_early and estimator.validation_fraction == 0 and not given:
        raise ValueError(
            "early_stopping=True needs validation samples, but validation_fraction=0; "
            "set it in (0, 1), e.g. 0.1"
        )


def given_validation(training_data, X_val, y_val, sample_weight_val, X, Y) -> HeldOut:
    """The caller's validation set as held-out samples, checked and encoded by
    ``training_data`` (the estimator's, as the training data ``X``, ``Y`` were, after them):
    the fitted number of features and feature names, the network's dtype, as many target
    columns, labels among ``classes_``, and ``class_weight`` in its weights."""
    if dispatch_namespace(X_val) != dispatch_namespace(X):
        raise ValueError(
            "X_val must be of the namespace and on the device of X (with array_api_dispatch=True)"
        )
    try:
        X_v, y_v, Y_v, sw_v, _ = training_data(
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
    return HeldOut(X_v, Y_v, sw_v, y_v, X_val)


def held_out_score(estimator, score_output, net, held_out: HeldOut) -> tuple[float, float]:
    """The score (higher is better) and the loss of ``net`` on the held-out samples: the
    default score ``score_output(out, y, sample_weight)`` (accuracy, R^2, weighted as the
    samples; NaN when the outputs are not finite), ``scoring="loss"``, or another ``scoring``
    of a copy of ``estimator`` holding ``net``."""
    xp = namespace(held_out.sw)
    w_sum = float(xp.sum(held_out.sw))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        val_loss = net.batch_cost(held_out.X, held_out.Y, held_out.sw / w_sum, w_sum)
        if estimator.scoring == "loss":
            return -val_loss, val_loss
        if estimator.scoring is None:
            out = net.forward(held_out.X, validate=False)
            if not bool(xp.all(xp.isfinite(out))):
                return float("nan"), val_loss
            return float(score_output(out, held_out.y, held_out.sw)), val_loss
    scored = copy.copy(estimator)
    scored.network_ = net
    scorer = check_scoring(scored, estimator.scoring)
    return float(scorer(scored, held_out.X_given, held_out.y)), val_loss
