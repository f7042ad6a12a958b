"""Input checks shared by :class:`~chainrule.Network` and the estimators.

Every check here raises the exception a scikit-learn user expects (``ValueError`` for a bad
value, ``TypeError`` for a value of the wrong kind) with a message that names the problem and
the first offending entry: ``"X contains NaN in column 3 (row 17)"``. The locating functions
run only once a cheap vectorised check (or scikit-learn's own validation) has failed, so valid
input pays nothing for them.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from numbers import Real
from typing import Any

import numpy as np
from scipy.sparse import issparse

from chainrule._arrays import namespace

# -- locating the first offending entry --------------------------------------------------------


def _column_names(X: Any) -> list | None:
    columns = getattr(X, "columns", None)
    return None if columns is None else list(columns)


def _ndarray(a: Any) -> np.ndarray | None:
    """``a`` as an ndarray of at least one dimension, or None (a ragged list, whose numpy
    error is the better message)."""
    try:
        arr = np.asarray(a)
    except Exception:
        return None
    return arr if arr.ndim else None


def _first(bad: np.ndarray) -> tuple[int, ...]:
    """The first True of ``bad``: in the lowest column, then the lowest row, for a 2-D array
    (so the message names the first offending column); in C order otherwise."""
    if bad.ndim == 2:
        col, row = (int(i[0]) for i in np.nonzero(bad.T))
        return row, col
    return tuple(int(i[0]) for i in np.nonzero(bad))


def position(index: tuple[int, ...], columns: list | None = None) -> str:
    """``"in column 3 ('age', row 17)"`` for a 2-D array, ``"at index 17"`` for a 1-D one."""
    if len(index) == 1:
        return f"at index {index[0]}"
    if len(index) != 2:
        return f"at index {index}"
    row, col = index
    label = f"{columns[col]!r}, " if columns is not None and col < len(columns) else ""
    return f"in column {col} ({label}row {row})"


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _as_number(value: Any, dtype: np.dtype) -> Any:
    """``value`` as a ``dtype`` scalar (strings such as ``"nan"`` included), None if it is not a
    number at all."""
    try:
        with np.errstate(all="ignore"):
            return dtype.type(value)
    except (ValueError, TypeError, OverflowError):
        return None


def nonfinite_message(a: Any, name: str, dtype: Any = np.float64) -> str | None:
    """``"X contains NaN in column 3 (row 17)"`` for the first NaN or infinity of ``a`` (dense,
    sparse or a DataFrame; numbers, strings or objects) once cast to ``dtype``, or None if
    there is none."""
    dtype = np.dtype(dtype)
    columns = _column_names(a)
    if issparse(a):
        coo = a.tocoo()
        data = np.asarray(coo.data)
        if data.dtype.kind not in "biuf":
            return None
        with np.errstate(all="ignore"):
            bad = ~np.isfinite(data.astype(dtype))
        if not bad.any():
            return None
        rows, cols, values = coo.row[bad], coo.col[bad], data[bad]
        k = int(np.lexsort((rows, cols))[0])  # the lowest column, then the lowest row
        index, value, count = (int(rows[k]), int(cols[k])), values[k], int(bad.sum())
    else:
        arr = _ndarray(a)
        if arr is None:
            return None
        if arr.dtype.kind in "biuf":
            with np.errstate(all="ignore"):
                bad = ~np.isfinite(arr.astype(dtype))
        else:  # strings ("nan") and objects (None, float("inf")) one by one
            bad = np.zeros(arr.shape, dtype=bool)
            for idx, v in np.ndenumerate(arr):
                number = _as_number(v, dtype) if v is not None else dtype.type("nan")
                bad[idx] = number is not None and not np.isfinite(number)
        if not bad.any():
            return None
        index = _first(bad)
        value, count = arr[index], int(bad.sum())
    value = _plain(value)
    as_float = _as_number(value, np.dtype(np.float64)) if value is not None else None
    if value is None:
        what = "a missing value (None)"
    elif as_float is None or np.isnan(as_float):
        what = "NaN"
    elif np.isinf(as_float):
        what = "infinity"
    else:
        what = f"a value too large for {dtype.name} ({value!r})"
    message = f"{name} contains {what} {position(index, columns)}"
    if count > 1:
        message += f" ({count} such entries in all)"
    return message


def non_numeric_entry(a: Any) -> tuple[tuple[int, ...], Any, list | None] | None:
    """``(index, value, columns)`` of the first entry of ``a`` that is not a number."""
    if issparse(a):
        return None
    columns = _column_names(a)
    arr = _ndarray(a)
    if arr is None:
        return None

    def is_number(v) -> bool:
        try:
            with np.errstate(all="ignore"):
                np.asarray(v, dtype=np.float64)
        except (ValueError, TypeError, OverflowError):
            return False
        return True

    if arr.ndim == 2:  # column by column, each at numpy's speed, to name the first column
        for j in range(arr.shape[1]):
            if not is_number(arr[:, j]):
                for i, v in enumerate(arr[:, j]):
                    if not is_number(v):
                        return (i, j), _plain(v), columns
        return None
    for idx, v in np.ndenumerate(arr):
        if not is_number(v):
            return idx, _plain(v), columns
    return None


def non_numeric_error(a: Any, name: str, error: Exception, what: str) -> Exception | None:
    """The error for ``a``'s first non-numeric entry (strings: ValueError; other objects, as
    numpy raises: TypeError, keeping numpy's text), or None if every entry is a number."""
    found = non_numeric_entry(a)
    if found is None:
        return None
    index, value, columns = found
    where = position(index, columns)
    if isinstance(value, int):
        digits = int(value.bit_length() * 0.30103) + 1
        return ValueError(
            f"{name} holds an integer too large for a float (about {digits} digits) {where}; {what}"
        )
    if isinstance(value, str | bytes):
        advice = (
            "encode strings and categories as numbers first (e.g. "
            "sklearn.preprocessing.OneHotEncoder)"
            if name == "X"
            else "convert it to numbers first"
        )
        return ValueError(f"{name} holds a string, {value!r}, {where}; {what}: {advice}")
    return TypeError(
        f"{name} holds a {type(value).__name__}, {value!r}, {where}, which is not a number "
        f"({error}); {what}"
    )


def as_float_array(a: np.ndarray, dtype: Any, name: str, what: str) -> np.ndarray:
    """A numeric ndarray ``a`` cast to ``dtype``, or the error that names its first non-number.

    Casting never warns: a value too large for ``dtype`` becomes infinity, which the caller's
    finiteness check reports.
    """
    kind = a.dtype.kind
    if kind == "c":
        raise ValueError(f"{name} holds complex numbers; {what}")
    try:
        with np.errstate(all="ignore"):
            return a.astype(dtype, copy=False)
    except (ValueError, TypeError, OverflowError) as e:
        error = non_numeric_error(a, name, e, what)
        if error is None:
            raise TypeError(f"{name} must hold numbers, got dtype {a.dtype}: {e}") from e
        raise error from e


def sum_is_finite(a: np.ndarray) -> bool:
    """Whether ``sum(a)`` is finite: scikit-learn's first test for NaN and infinity, in O(1)
    memory (a sum that overflows proves neither: the exact test follows a failed one). Arrays
    of 32 MB or more are summed in two halves on two threads, since the pass is bound by
    memory bandwidth (~8 ms a core for 188 MB)."""
    if not isinstance(a, np.ndarray):  # another array namespace: one sum on its device
        xp = namespace(a)
        return bool(xp.isfinite(xp.sum(a)))
    if a.nbytes < 2**25 or a.ndim == 0 or len(a) < 2:
        return bool(np.isfinite(_quiet_sum(a)))
    half = len(a) // 2
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(_quiet_sum, a[:half])  # numpy releases the GIL while it sums
        halves = np.array([_quiet_sum(a[half:]), first.result()])
    return bool(np.isfinite(_quiet_sum(halves)))


def _quiet_sum(a: np.ndarray) -> np.generic:
    """``np.sum(a)`` without numpy's warnings (inf + -inf, an overflowing sum): numpy's error
    state is per thread, so each thread sets its own."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.sum(a)


def check_finite(a: np.ndarray, name: str, original: Any = None) -> None:
    """Raise ``ValueError`` naming the first NaN or infinity of the float array ``a``, which
    was cast from ``original`` (the message shows the original value if casting overflowed)."""
    if not np.isfinite(a).all():
        message = None if original is None else nonfinite_message(original, name, a.dtype)
        raise ValueError(message or nonfinite_message(a, name, a.dtype))


def explain_validation_error(
    error: Exception,
    inputs: dict[str, Any],
    estimator: str,
    needs: dict[str, str],
    dtype: Any = np.float64,
) -> Exception | None:
    """A clearer error than the one scikit-learn's ``validate_data`` raised about ``inputs``
    (``{"X": X, "y": y}``): it names the first NaN, infinity or non-number and its position.
    ``needs`` says, per input, what ``estimator`` needs of it. None when there is nothing to
    add."""
    message = str(error)
    shape = getattr(inputs.get("X"), "shape", None)
    if "at least one array or dtype" in message and shape is not None and 0 in shape:
        # numpy's words for a DataFrame without columns: say it as scikit-learn does for arrays
        what = "0 feature(s)" if len(shape) == 2 and shape[1] == 0 else "0 sample(s)"
        return ValueError(
            f"Found array with {what} (shape={tuple(shape)}) while a minimum of 1 is required by "
            f"{estimator}."
        )
    if isinstance(error, ValueError) and ("NaN" in message or "infinity" in message):
        names = [n for n in inputs if message.startswith(f"Input {n} ")] or list(inputs)
        for name in names:
            found = nonfinite_message(inputs[name], name, dtype)
            if found is not None:
                if "too large" in found:
                    return ValueError(
                        f"{found}; scale {name} down (e.g. sklearn.preprocessing.StandardScaler) "
                        "or compute in float64 (dtype='float64')"
                    )
                advice = (
                    "impute missing values first (e.g. sklearn.impute.SimpleImputer) or drop "
                    "those samples"
                    if name == "X"
                    else "drop the samples whose target is missing or infinite"
                )
                return ValueError(
                    f"{found}; {estimator} does not accept missing or infinite values: {advice}"
                )
    if "could not convert" in message or "argument must be" in message or "too large" in message:
        for name in inputs:
            found = non_numeric_error(inputs[name], name, error, needs[name])
            if found is not None:
                return found
    return None


# -- sample weights ----------------------------------------------------------------------------


def check_sample_weight(
    sample_weight: Any, n_samples: int, dtype: Any, *, allow_scalar: bool = False
) -> np.ndarray:
    """``sample_weight`` as a ``(n_samples,)`` array of finite, non-negative weights, not all
    zero and with a finite sum."""
    sw = np.asarray(sample_weight)
    if sw.ndim == 0 and allow_scalar:
        sw = np.full(n_samples, sw)
    if sw.shape != (n_samples,):
        raise ValueError(
            f"sample_weight has shape {sw.shape}; expected ({n_samples},), one weight per sample"
        )
    sw = as_float_array(sw, dtype, "sample_weight", "weights must be real numbers")
    if not np.isfinite(sw).all():
        raise ValueError(nonfinite_message(sw, "sample_weight", dtype))
    if (sw < 0).any():
        i = int(np.flatnonzero(sw < 0)[0])
        raise ValueError(f"sample_weight must be non-negative; sample {i} has weight {sw[i]}")
    with np.errstate(over="ignore"):
        total = sw.sum()
    if not total > 0:
        raise ValueError("sample_weight sums to zero: no sample would be learned from")
    if not np.isfinite(total):
        raise ValueError(
            f"sample_weight sums to more than {np.dtype(dtype).name} can hold; scale the weights "
            "down (only their ratios and, with alpha > 0, their sum matter)"
        )
    return sw


# -- a Network's own inputs ----------------------------------------------------------------------


def network_input(X: Any, n_in: int, dtype: Any) -> np.ndarray:
    """``X`` as a finite ``(n_samples, N^0)`` array of the network's ``dtype``, or a ValueError
    (TypeError for non-numbers) that names the problem and the first offending entry."""
    if issparse(X):
        raise TypeError(
            "X is a scipy sparse matrix; Network takes dense arrays (use X.toarray()), "
            "while MLPClassifier and MLPRegressor take sparse input"
        )
    X = np.asarray(X)
    if X.ndim == 1 and X.shape[0] == n_in:
        X = X.reshape(1, -1)  # one sample
    if X.ndim != 2:
        hint = "; a single sample is X.reshape(1, -1)" if X.ndim == 1 else ""
        raise ValueError(
            f"X must be a 2-D array of shape (n_samples, {n_in}), got a {X.ndim}-D array "
            f"of shape {X.shape}{hint}"
        )
    if X.shape[1] != n_in:
        raise ValueError(
            f"X has {X.shape[1]} features but the network's input layer has {n_in}: "
            f"X must have shape (n_samples, {n_in}), got {X.shape}"
        )
    if X.shape[0] == 0:
        raise ValueError(f"X has 0 samples (shape {X.shape}); at least 1 is needed")
    raw = X
    X = as_float_array(X, dtype, "X", "the network's input must be numeric")
    check_finite(X, "X", raw)
    return X


def network_target(Y: Any, n_samples: int, n_out: int, dtype: Any) -> np.ndarray:
    """``Y`` as a finite ``(n_samples, N^L)`` array of the network's ``dtype``."""
    if issparse(Y):
        raise TypeError("Y is a scipy sparse matrix; Network takes dense targets")
    Y = np.asarray(Y)
    if Y.ndim == 1 and n_out == 1:
        Y = Y.reshape(-1, 1)
    if Y.shape != (n_samples, n_out):
        raise ValueError(
            f"Y must have shape ({n_samples}, {n_out}), one row of {n_out} target(s) per "
            f"sample of X, got {Y.shape}"
        )
    raw = Y
    Y = as_float_array(Y, dtype, "Y", "targets must be numeric")
    check_finite(Y, "Y", raw)
    return Y


def batch_weights(sample_weight: Any, n_samples: int, dtype: Any) -> np.ndarray:
    """``w_i`` with ``sum_i w_i = 1``: the batch cost is ``C = sum_i w_i C_i``."""
    if sample_weight is None:
        return np.full(n_samples, 1.0 / n_samples, dtype=dtype)
    sw = check_sample_weight(sample_weight, n_samples, dtype)
    return sw / sw.sum()


def dropout_rates(dropout: Any, n_hidden: int) -> tuple[float, ...]:
    """Dropout's rate of each of ``n_hidden`` hidden layers, from one rate for all or one a
    layer, each in [0, 1); a ValueError naming the problem otherwise."""
    rates = [dropout] * n_hidden if isinstance(dropout, Real) else list(dropout)
    if len(rates) != n_hidden:
        raise ValueError(
            f"dropout lists {len(rates)} rates for {n_hidden} hidden layers; give one per "
            "hidden layer, or one for all"
        )
    for p in rates:
        if isinstance(p, bool) or not isinstance(p, Real) or not 0 <= p < 1:
            raise ValueError(f"dropout rates must be numbers in [0, 1), got {p!r}")
    return tuple(float(p) for p in rates)
