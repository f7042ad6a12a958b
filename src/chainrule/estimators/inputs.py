"""Input validation of the estimators: scikit-learn's checks, with messages that name the
first offending entry (:mod:`chainrule._checks`)."""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
from scipy.sparse import issparse
from sklearn.base import is_classifier, is_regressor
from sklearn.utils import assert_all_finite, compute_sample_weight
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from chainrule._arrays import (
    dispatch_namespace,
    float_dtype,
    float_dtypes,
    is_numpy,
    move,
    namespace,
    numpy_dtype,
    same_place,
    to_numpy,
)
from chainrule._checks import (
    check_sample_weight,
    explain_validation_error,
    nonfinite_message,
    sum_is_finite,
)
from chainrule.activations import get_activation
from chainrule.estimators.preflight import check_probability_output
from chainrule.network import PREDICT_ROWS, Network, by_rows

#: the sparse formats fit and predict accept
SPARSE_FORMATS = ["csr", "csc"]
#: the dtypes of the ndarrays prediction checks directly (:func:`plain_input`)
PLAIN_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
#: values up to which the finiteness test is ``isfinite(X).all()``; beyond, a sum (O(1) memory)
SMALL_INPUT = 4096


def check_same_classes(classes, fitted_classes) -> None:
    """A later ``partial_fit`` may repeat ``classes`` but not change them (scikit-learn's rule)."""
    if classes is not None and not np.array_equal(np.sort(classes), fitted_classes):
        raise ValueError(
            f"classes={list(classes)} differs from the classes of the first call, "
            f"{fitted_classes.tolist()}"
        )


def check_class_weight(class_weight) -> None:
    """A dict ``class_weight`` must hold finite, non-negative weights."""
    if not isinstance(class_weight, dict):
        return
    for label, weight in class_weight.items():
        ok = isinstance(weight, int | float | np.number) and not isinstance(weight, bool)
        if not ok or not math.isfinite(float(weight)) or float(weight) < 0:
            raise ValueError(
                f"class_weight must map classes to finite weights >= 0; class {label!r} has "
                f"weight {weight!r}"
            )


def input_dtype(place: tuple, dtype: str | None, any_float: bool = False):
    """The dtype (or the float dtypes, widest first) that ``X`` is validated to for the
    ``dtype`` parameter, in the namespace and on the device it computes in, ``place`` (its
    :func:`~chainrule._arrays.dispatch_namespace`; float32 where there is no float64)."""
    xp, where = place
    if dtype is None or any_float:
        return float_dtypes(xp, where)
    return float_dtype(xp, dtype, where)


def training_dtype(X, dtype: str | None) -> np.dtype:
    """The network's dtype: the ``dtype`` parameter if set, else that of the validated ``X``."""
    return np.dtype(dtype) if dtype is not None else numpy_dtype(X.dtype)


def validated_data(estimator, X, *y, **check_params):
    """scikit-learn's ``validate_data`` (sparse X in CSR or CSC), but X's finiteness test
    is :func:`~chainrule._checks.sum_is_finite` (a sum on two threads), with scikit-learn's
    exact test only when that sum is not finite. Casting a value too large for float32
    overflows and the sum meets inf + -inf: both end as errors, not numpy warnings."""
    with np.errstate(over="ignore", invalid="ignore"):
        try:
            checked = validate_data(
                estimator,
                X,
                *y,
                accept_sparse=SPARSE_FORMATS,
                ensure_all_finite=False,
                **check_params,
            )
        except ValueError:
            # scikit-learn reports a NaN or infinity in X before any problem with y or
            # with the number of features: so does this
            dtype = check_params.get("dtype", "numeric")
            check_array(X, accept_sparse=SPARSE_FORMATS, dtype=dtype, input_name="X")
            raise
        X_checked = checked[0] if y else checked
        if not sum_is_finite(X_checked.data if issparse(X_checked) else X_checked):
            assert_all_finite(X_checked, input_name="X", estimator_name=type(estimator).__name__)
    return checked


def validated_input(estimator, X, y, first_call: bool, place: tuple | None = None):
    """``(X, y)`` checked as scikit-learn checks them for ``fit``, ``X`` in the dtype the
    network trains on (or float32 for a float64 network: cast minibatch by minibatch);
    ``place``: X's namespace and device, if known."""
    place = dispatch_namespace(X) if place is None else place
    dtype = input_dtype(place, estimator.dtype)
    # dtype="float64" with float32 data: X stays float32 (no float64 copy of the whole data
    # set); the minibatches are cast as they are gathered. L-BFGS works on the whole of X at
    # every iteration, so it gets the float64 copy once.
    keep_float32 = estimator.dtype == "float64" and estimator.solver != "lbfgs"
    try:
        X_checked, y_checked = validated_data(
            estimator,
            X,
            y,
            reset=first_call,
            dtype=input_dtype(place, estimator.dtype, any_float=True) if keep_float32 else dtype,
            multi_output=True,
            y_numeric=is_regressor(estimator),
        )
    except (ValueError, TypeError, OverflowError) as e:
        explain_input_error(estimator, e, {"X": X, "y": y})
    wanted = training_dtype(X_checked, estimator.dtype)
    if issparse(X_checked) and X_checked.dtype != wanted:
        X_checked = X_checked.astype(wanted)  # sparse: cast once
    return X_checked, y_checked


def explain_input_error(estimator, error: Exception, inputs: dict) -> None:
    """Re-raise scikit-learn's validation ``error``, naming the first offending entry."""
    name = type(estimator).__name__
    needs = {
        "X": f"{name} needs numeric features",
        "y": f"{name} needs numeric targets (MLPClassifier takes labels)",
    }
    dtype = np.float32 if estimator.dtype == "float32" else np.float64
    better = explain_validation_error(error, inputs, name, needs, dtype)
    if better is None:
        if isinstance(error, OverflowError):
            raise ValueError(f"{error}; {needs['X']}") from error
        raise error
    raise better from error


def sample_weights(sample_weight, y, n_samples: int, dtype, class_weight=None) -> np.ndarray:
    """Each sample's weight: ``sample_weight`` (None: 1) times its class's ``class_weight``."""
    if sample_weight is None:
        sw = np.ones(n_samples, dtype=dtype)
    else:
        sw = check_sample_weight(sample_weight, n_samples, dtype, allow_scalar=True)
    if class_weight is not None:
        check_class_weight(class_weight)
        sw = sw * compute_sample_weight(class_weight, y).astype(dtype)
    return sw


def hidden_layer_sizes(hidden) -> list[int]:
    """``hidden_layer_sizes`` as a list of positive ints, or an error naming the bad one."""
    sizes = [hidden] if isinstance(hidden, Integral) else list(hidden)
    for i, h in enumerate(sizes):
        if isinstance(h, bool) or not isinstance(h, Integral) or h < 1:
            raise ValueError(
                f"hidden_layer_sizes must hold positive integers (units per hidden layer); "
                f"entry {i} is {h!r}, in {hidden!r}"
            )
    return [int(h) for h in sizes]


def network_config(
    estimator, n_features: int, n_outputs: int, dtype, *, output, cost, hidden=None
) -> dict:
    """The arguments of the :class:`~chainrule.network.Network` that ``estimator``'s parameters
    ask for, with the ``output`` activation and ``cost`` its targets need, and ``hidden`` (the
    sizes of weights assigned before the fit) or ``hidden_layer_sizes``."""
    hidden = hidden_layer_sizes(estimator.hidden_layer_sizes) if hidden is None else hidden
    activation = estimator.activation
    if isinstance(activation, list | tuple) and len(activation) != len(hidden):
        raise ValueError(
            f"activation lists {len(activation)} activations for "
            f"{len(hidden)} hidden layers; give one per hidden layer, or one for all"
        )
    if is_classifier(estimator):  # whose output must be a probability
        check_probability_output(get_activation(output), n_outputs)
    return {
        "layer_sizes": [n_features, *hidden, n_outputs],
        "activation": activation,
        "output_activation": output,
        "cost": cost,
        "alpha": estimator.alpha,
        "l1_ratio": estimator.l1_ratio,
        "dtype": dtype,
        "dropout": dropout_rates_asked(estimator),
    }


def dropout_rates_asked(estimator):
    """``dropout`` (:class:`~chainrule.network.Network` checks it per hidden layer), which
    the deterministic L-BFGS solver cannot use."""
    dropout = estimator.dropout
    if estimator.solver == "lbfgs" and np.any(np.asarray(dropout) != 0):
        raise ValueError(
            f"dropout={dropout!r} needs a stochastic solver: solver='lbfgs' takes full "
            "steps on the exact cost; use solver='adam' or 'sgd', or dropout=0"
        )
    return dropout if isinstance(dropout, Real) else list(dropout)


# -- predicting --------------------------------------------------------------------------------


def check_same_place(estimator, X, method: str) -> None:
    """``X`` must be of the namespace and on the device of the fitted weights (what
    scikit-learn's ``array_api_dispatch`` decides)."""
    net = getattr(estimator, "network_", None)
    if net is None:
        return  # not fitted: check_is_fitted says so next
    theta = net.theta
    if type(X) is np.ndarray and type(theta) is np.ndarray:
        return
    xp, _ = dispatch_namespace(X)  # NumPy: X is converted to a NumPy array
    if is_numpy(theta) if xp is np else same_place(X, theta):
        return
    raise ValueError(
        f"Inputs passed to {type(estimator).__name__}.{method}() must use the same namespace "
        "and the same device as those passed to fit() (with array_api_dispatch=True), or "
        "the model must be moved there first (chainrule.load(path, device=...))"
    )


def checked_input(estimator, X):
    """``X`` validated for prediction: dense float32 or float64 (not necessarily the network's
    dtype: :func:`network_rows` casts each chunk) or scipy sparse.

    A float32 or float64 ndarray of the fitted number of features gets scikit-learn's checks
    done directly (:func:`plain_input`); anything else, and any input failing a check,
    goes through ``validate_data``, so the errors and warnings are scikit-learn's.
    """
    plain = plain_input(estimator, X)
    if plain is not None:
        return plain
    try:
        dtype = input_dtype(dispatch_namespace(X), estimator.dtype)
        X_checked = validated_data(estimator, X, dtype=dtype, reset=False)
    except (ValueError, TypeError, OverflowError) as e:
        explain_input_error(estimator, e, {"X": X})
    if issparse(X_checked) and X_checked.format == "csc" and X_checked.shape[0] > PREDICT_ROWS:
        X_checked = X_checked.tocsr()  # chunks of rows (network.by_rows) are cheap in CSR
    return X_checked


def plain_input(estimator, X) -> np.ndarray | None:
    """``X`` itself when it passes every check ``validate_data`` makes of it (an ndarray of
    2 dimensions, float32 or float64, the fitted number of features, at least one row, all
    finite, no feature names expected), cast to ``dtype`` where that is set; else None."""
    if type(X) is not np.ndarray or X.ndim != 2 or not any(X.dtype is t for t in PLAIN_DTYPES):
        return None
    n, d = X.shape
    names = getattr(estimator, "feature_names_in_", None)
    if n == 0 or d != getattr(estimator, "n_features_in_", None) or names is not None:
        return None
    dtype = estimator.dtype
    if dtype is not None and X.dtype != dtype:
        with np.errstate(over="ignore"):
            X = X.astype(dtype)  # validate_data's cast; overflow fails the next test
    finite = np.isfinite(X).all() if X.size <= SMALL_INPUT else sum_is_finite(X)
    return X if finite else None


def network_rows(rows, X, net):
    """A chunk of rows of the checked ``X`` in ``net``'s dtype: float64 input on a float32
    model is cast to float32 (the predictions are float32), and a value beyond float32's
    range is an error naming it, not an infinity."""
    theta = net.theta
    if rows.dtype == theta.dtype:
        return rows
    with np.errstate(over="ignore"):
        if is_numpy(theta):
            rows = rows.astype(net.dtype)
        else:
            rows = namespace(theta).astype(rows, theta.dtype)
    values = rows.data if issparse(rows) else rows
    xp = namespace(values)
    if not bool(xp.all(xp.isfinite(values))):
        found = nonfinite_message(X, "X", net.dtype)
        raise ValueError(f"{found}; this model computes in {net.dtype.name}")
    return rows


def training_data(
    estimator,
    encode_targets,
    X,
    y,
    sample_weight,
    first_call: bool,
    classes,
    held_out: bool = False,
):
    """``(X, y, Y, sw, dtype)``: the validated data, the targets ``Y`` that
    ``encode_targets(y, first_call, classes, dtype, held_out=)`` gives, the sample weights and
    the network's dtype (``held_out``: a validation set, whose labels may be any of the fitted
    classes). With ``array_api_dispatch``, everything follows X's namespace and device: the
    targets are encoded and the weights checked on the host, then moved there once."""
    xp, where = dispatch_namespace(X)
    X, y = validated_input(estimator, X, move(y, xp, where), first_call, (xp, where))
    dtype = training_dtype(X, estimator.dtype)  # X may be float32 for a float64 network
    y_host = to_numpy(y)
    Y = encode_targets(y_host, first_call, classes, dtype, held_out=held_out)
    sw_host = None if sample_weight is None else to_numpy(sample_weight)
    class_weight = getattr(estimator, "class_weight", None)
    sw = sample_weights(sw_host, y_host, X.shape[0], dtype, class_weight)
    return X, y, move(Y, xp, where), move(sw, xp, where), dtype


def predicted(estimator, X, compute):
    """``compute(network_, rows)`` for the rows of the checked ``X`` in the network's dtype,
    in chunks of :data:`~chainrule.network.PREDICT_ROWS` rows written into one output
    (:func:`~chainrule.network.by_rows`): a float64 ``X`` on a float32 model gives float32
    predictions, and the memory beyond the output is one chunk's."""
    net = getattr(estimator, "network_", None)
    if net is None:
        check_is_fitted(estimator, "network_")
    X_checked = checked_input(estimator, X)

    def chunk(rows):
        rows = network_rows(rows, X, net)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return compute(net, rows)

    return by_rows(X_checked, chunk)


def output(net: Network, rows) -> np.ndarray:
    """``a^L`` of each row."""
    return net.forward(rows, validate=False)


def scaled_logits(net: Network, rows) -> np.ndarray:
    """``beta z^L``: the output activation's argument (scaled by a sigmoid's slope)."""
    return net.logits(rows, validate=False) * net.activations[-1].link_scale
