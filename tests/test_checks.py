"""Bad input (issue 7, phase 1): each case raises the exception scikit-learn users expect, with a
message that names the problem and, where it helps, the offending column or index.

The first part holds one test per case of docs/reliability.md's table; the second throws random
shapes, dtypes, NaN patterns, parameters and bytes at fit, predict, Network and load, and accepts
only a fitted model with finite predictions or a ValueError/TypeError: never another exception, a
numpy warning or a NaN prediction."""

from __future__ import annotations

import contextlib
import io
import os
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

import chainrule as cr
from chainrule import MLPClassifier, MLPRegressor
from chainrule.estimators import preflight
from chainrule.estimators.inputs import validated_input
from chainrule.persistence import ModelFormatError

ESTIMATORS = [MLPClassifier, MLPRegressor]


ACTIVATION_NAMES = r"unknown activation 'swishy'; valid names are \['elu', .*'relu', .*'tanh'"


def quiet(estimator):
    """Small, fast settings; ConvergenceWarning is expected after two epochs."""
    return estimator.set_params(hidden_layer_sizes=(3,), max_iter=2, random_state=0)


def data(n=20, d=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), np.arange(n) % 2


def fit(cls, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return quiet(cls()).fit(X, y, **kwargs)


@pytest.fixture(scope="module")
def fitted():
    X, y = data()
    return {cls: fit(cls, X, y) for cls in ESTIMATORS}


# == Network ======================================================================================


@pytest.fixture
def net():
    return cr.Network([3, 4, 2], activation="tanh", random_state=0)


def test_network_nan_in_X_names_row_and_column(net):
    X = np.zeros((5, 3))
    X[4, 2] = np.nan
    with pytest.raises(ValueError, match=r"X contains NaN in column 2 \(row 4\)"):
        net.forward(X)


def test_network_infinity_in_Y_names_row_and_column(net):
    Y = np.zeros((5, 2))
    Y[3, 1] = -np.inf
    with pytest.raises(ValueError, match=r"Y contains infinity in column 1 \(row 3\)"):
        net.cost(np.zeros((5, 3)), Y)


def test_network_1d_X_says_how_to_reshape(net):
    with pytest.raises(ValueError, match=r"2-D array .* got a 1-D array.*reshape\(1, -1\)"):
        net.forward(np.zeros(5))


def test_network_3d_X(net):
    with pytest.raises(ValueError, match=r"2-D array of shape \(n_samples, 3\), got a 3-D array"):
        net.forward(np.zeros((2, 3, 1)))


def test_network_zero_samples(net):
    with pytest.raises(ValueError, match="X has 0 samples"):
        net.forward(np.zeros((0, 3)))


def test_network_zero_or_wrong_number_of_features(net):
    with pytest.raises(ValueError, match="X has 0 features but the network's input layer has 3"):
        net.forward(np.zeros((4, 0)))
    with pytest.raises(ValueError, match="X has 2 features but the network's input layer has 3"):
        net.forward(np.zeros((4, 2)))


def test_network_string_feature_names_the_column(net):
    with pytest.raises(ValueError, match=r"X holds a string, 'b', in column 1 \(row 0\)"):
        net.forward([["1", "b", "3"]])


def test_network_object_feature_is_a_type_error(net):
    X = np.array([[1.0, 2.0, 3.0], [4.0, {"a": 1}, 6.0]], dtype=object)
    with pytest.raises(TypeError, match=r"X holds a dict, .* in column 1 \(row 1\)"):
        net.forward(X)


def test_network_complex_and_sparse_input(net):
    with pytest.raises(ValueError, match="complex"):
        net.forward(np.ones((2, 3)) + 1j)
    with pytest.raises(TypeError, match="sparse"):
        net.forward(sp.csr_matrix(np.ones((2, 3))))


def test_network_value_too_large_for_float32():
    net = cr.Network([3, 2], dtype=np.float32, random_state=0)
    with pytest.raises(ValueError, match=r"too large for float32 \(1e\+39\) in column 0 \(row 0\)"):
        net.forward([[1e39, 0.0, 0.0]])


@pytest.mark.parametrize(
    "sample_weight,match",
    [
        ([1.0], r"sample_weight has shape \(1,\); expected \(2,\)"),
        ([1.0, -0.5], "sample_weight must be non-negative; sample 1 has weight -0.5"),
        ([0.0, 0.0], "sample_weight sums to zero"),
        ([1.0, np.nan], "sample_weight contains NaN at index 1"),
        ([1e308, 1e308], "sample_weight sums to more than float64 can hold"),
    ],
)
def test_network_bad_sample_weight(net, sample_weight, match):
    with pytest.raises(ValueError, match=match):
        net.cost(np.zeros((2, 3)), np.zeros((2, 2)), sample_weight=sample_weight)


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"layer_sizes": [3, -1, 2]}, ValueError, "positive; layer 1 has -1 units"),
        ({"layer_sizes": [3, 2.5, 2]}, ValueError, "integers; layer 1 is 2.5"),
        ({"layer_sizes": [3, "4", 2]}, TypeError, "integers; layer 1 is '4'"),
        ({"layer_sizes": 3}, TypeError, "sequence of integers"),
        ({"layer_sizes": [3]}, ValueError, "at least two"),
        ({"layer_sizes": [3, 2, 1], "activation": "swishy"}, ValueError, ACTIVATION_NAMES),
        ({"layer_sizes": [3, 1], "output_activation": "swishy"}, ValueError, ACTIVATION_NAMES),
        ({"layer_sizes": [3, 1], "cost": "hinge"}, ValueError, r"unknown cost 'hinge'.*huber"),
        ({"layer_sizes": [3, 1], "init": "zeros"}, ValueError, r"unknown init.*he_normal"),
        ({"layer_sizes": [3, 1], "alpha": -1.0}, ValueError, "alpha must be >= 0"),
        ({"layer_sizes": [3, 1], "alpha": np.inf}, ValueError, "alpha must be >= 0 and finite"),
        ({"layer_sizes": [3, 1], "alpha": "x"}, TypeError, "alpha must be a real number"),
        ({"layer_sizes": [3, 1], "dtype": np.int32}, ValueError, "float32 or float64"),
    ],
)
def test_network_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        cr.Network(**kwargs)


# == the estimators ===============================================================================


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_nan_in_X_names_row_and_column(cls, fitted):
    X, y = data()
    X[17, 3] = np.nan
    match = r"X contains NaN in column 3 \(row 17\); \w+ does not accept missing"
    with pytest.raises(ValueError, match=match):
        fit(cls, X, y)
    with pytest.raises(ValueError, match=match):
        fitted[cls].predict(X)


def test_partial_fit_checks_its_input_as_fit_does():
    X, y = data()
    X[2, 0] = np.nan
    with pytest.raises(ValueError, match=r"X contains NaN in column 0 \(row 2\)"):
        MLPClassifier((3,)).partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match=r"X contains NaN in column 0 \(row 2\)"):
        MLPRegressor(hidden_layer_sizes=(3,)).partial_fit(X, y)
    with pytest.raises(ValueError, match="sample_weight sums to zero"):
        MLPRegressor(hidden_layer_sizes=(3,)).partial_fit(data()[0], y, sample_weight=np.zeros(20))


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_infinity_in_X_names_row_and_column(cls):
    X, y = data()
    X[5, 1] = np.inf
    X[2, 3] = -np.inf  # the first offending column is named
    with pytest.raises(ValueError, match=r"X contains infinity in column 1 \(row 5\) \(2 such"):
        fit(cls, X, y)


def test_a_nan_in_X_is_reported_before_problems_with_y_or_the_features():
    """scikit-learn's order: X's NaN first, then y, the sample counts, the feature count."""
    X, y = data()
    Xn = X.copy()
    Xn[2, 1] = np.nan
    message = r"X contains NaN in column 1 \(row 2\)"
    y_nan = y.astype(float)
    y_nan[4] = np.nan
    for bad_y in (y_nan, y[:10], np.zeros((len(y), 2, 2))):
        with pytest.raises(ValueError, match=message):
            fit(MLPRegressor, Xn, bad_y)
    fitted = fit(MLPRegressor, X, y)
    with pytest.raises(ValueError, match=message):
        fitted.predict(np.hstack([Xn, Xn]))


def test_the_finiteness_test_of_large_X_sums_on_two_threads():
    """X of 32 MB or more is summed in two halves on two threads; either half may hold the
    NaN, and a sum that overflows is not taken for an infinity."""
    from chainrule._checks import sum_is_finite

    X = np.ones((2**17, 64))  # 64 MB
    assert sum_is_finite(X)
    for row in (5, 2**17 - 5):
        X[row, 3] = np.nan
        assert not sum_is_finite(X)
        X[row, 3] = 1.0
    big = np.full((2**18, 32), 3e38, dtype=np.float32)  # finite, but sums to infinity
    assert not sum_is_finite(big)
    halves = np.zeros((2**23, 2), dtype=np.float32)  # each half sums to 2e38: both do 4e38
    halves[0, 0] = halves[-1, 0] = 2e38
    assert not sum_is_finite(halves)
    clf = MLPRegressor(hidden_layer_sizes=(2,), max_iter=1)
    checked, _ = validated_input(clf, big, np.zeros(len(big)), first_call=True)
    assert checked is big  # the exact test found nothing: no error, no copy


def test_nan_in_a_dataframe_or_sparse_X_names_the_column():
    X, y = data()
    X[10, 1] = np.nan
    with pytest.raises(ValueError, match=r"X contains NaN in column 1 \('b', row 10\)"):
        fit(MLPClassifier, pd.DataFrame(X, columns=list("abcd")), y)
    with pytest.raises(ValueError, match=r"X contains NaN in column 1 \(row 10\)"):
        fit(MLPClassifier, sp.csr_matrix(X), y)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_nan_in_y_names_the_index(cls):
    X, y = data()
    y = y.astype(float)
    y[3] = np.nan
    with pytest.raises(ValueError, match="y contains NaN at index 3"):
        fit(cls, X, y)


def test_nan_in_2d_y_and_none_in_object_y():
    X, _ = data()
    Y = np.zeros((20, 2))
    Y[6, 1] = np.nan
    with pytest.raises(ValueError, match=r"y contains NaN in column 1 \(row 6\)"):
        fit(MLPRegressor, X, Y)
    y = np.array([1.0] * 7 + [None] + [2.0] * 12, dtype=object)
    with pytest.raises(ValueError, match="y contains NaN at index 7"):
        fit(MLPRegressor, X, y)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_1d_X(cls, fitted):
    X, y = data()
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        fit(cls, X[:, 0], y)
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        fitted[cls].predict(X[0])


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_3d_X(cls):
    X, y = data()
    with pytest.raises(ValueError, match="Found array with dim 3"):
        fit(cls, X.reshape(20, 2, 2), y)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_zero_samples(cls, fitted):
    X, y = data()
    with pytest.raises(ValueError, match=r"0 sample\(s\) \(shape=\(0, 4\)\)"):
        fit(cls, X[:0], y[:0])
    with pytest.raises(ValueError, match=r"0 sample\(s\)"):
        fitted[cls].predict(X[:0])


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_zero_features(cls, fitted):
    X, y = data()
    match = r"0 feature\(s\) \(shape=\(20, 0\)\) while a minimum of 1 is required"
    with pytest.raises(ValueError, match=match):
        fit(cls, X[:, :0], y)
    with pytest.raises(ValueError, match=match):
        fit(cls, pd.DataFrame(X[:, :0]), y)  # numpy's own words would be "at least one array"
    with pytest.raises(ValueError, match=match):
        fitted[cls].predict(pd.DataFrame(X[:, :0]))


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_string_feature_names_the_column(cls):
    X, y = data()
    X = X.astype(object)
    X[2, 1] = "abc"
    with pytest.raises(
        ValueError, match=r"X holds a string, 'abc', in column 1 \(row 2\).*Encoder"
    ):
        fit(cls, X, y)
    df = pd.DataFrame(data()[0], columns=list("abcd")).assign(c="x")
    with pytest.raises(ValueError, match=r"X holds a string, 'x', in column 2 \('c', row 0\)"):
        fit(cls, df, y)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_object_feature_is_a_type_error(cls):
    X, y = data()
    X = X.astype(object)
    X[3, 2] = {"a": 1}
    match = r"X holds a dict, .* in column 2 \(row 3\).*argument must be a string or a real number"
    with pytest.raises(TypeError, match=match):
        fit(cls, X, y)


def test_integer_too_large_for_a_float():
    X, y = data()
    X = X.astype(object)
    X[1, 0] = 10**400
    with pytest.raises(ValueError, match=r"integer too large .* in column 0 \(row 1\)"):
        fit(MLPClassifier, X, y)


def test_value_too_large_for_float32():
    X, y = data()
    X[0, 2] = 1e39
    with pytest.raises(ValueError, match=r"too large for float32 \(1e\+39\) in column 2 \(row 0\)"):
        quiet(MLPRegressor(dtype="float32")).fit(X, y)
    model = fit(MLPRegressor, data()[0].astype(np.float32), y)
    with pytest.raises(ValueError, match=r"too large for float32 .*computes in float32"):
        model.predict(X)


def test_string_target_of_the_regressor_names_the_index():
    X, _ = data()
    y = ["1.0"] * 5 + ["tall"] + ["2.0"] * 14
    with pytest.raises(ValueError, match=r"y holds a string, 'tall', at index 5.*numeric targets"):
        fit(MLPRegressor, X, y)


def test_poisson_target_must_be_non_negative():
    X, _ = data()
    y = np.ones(20)
    y[4] = -2.0
    with pytest.raises(ValueError, match=r"poisson.*non-negative.*y\[4\] is -2.0"):
        quiet(MLPRegressor(loss="poisson")).fit(X, y)


@pytest.mark.parametrize("y", [np.zeros(20), np.array(["cat"] * 20)])
def test_one_class_target_is_learned_as_scikit_learn_does(y):
    """One class: one sigmoid output trained towards 0; predict gives that class and
    predict_proba two columns (scikit-learn's LabelBinarizer behaviour)."""
    X, _ = data()
    clf = fit(MLPClassifier, X, y)
    assert clf.classes_.tolist() == [y[0]] and clf.n_outputs_ == 1
    assert (clf.predict(X) == y[0]).all()
    assert clf.predict_proba(X).shape == (20, 2)


def test_partial_fit_label_not_in_classes():
    X, y = data()
    with pytest.raises(ValueError, match=r"y contains labels not in classes: \[7\]"):
        MLPClassifier((3,)).partial_fit(X, np.where(y == 1, 7, 0), classes=[0, 1])
    clf = MLPClassifier((3,)).partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match=r"labels not seen in the first call: \[7\]"):
        clf.partial_fit(X, np.where(y == 1, 7, 0))
    one = MLPClassifier((3,)).partial_fit(X, np.zeros(20, dtype=int), classes=[0])
    assert one.classes_.tolist() == [0]  # one class is accepted, as scikit-learn


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_predict_with_the_wrong_number_of_features(cls, fitted):
    with pytest.raises(ValueError, match=r"X has 3 features, but .* is expecting 4 features"):
        fitted[cls].predict(data()[0][:, :3])


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_predict_with_other_feature_names(cls):
    X, y = data()
    model = fit(cls, pd.DataFrame(X, columns=list("abcd")), y)
    match = "feature names should match those that were passed during fit.*unseen at fit time:\n- e"
    with pytest.raises(ValueError, match=re.compile(match, re.DOTALL)):
        model.predict(pd.DataFrame(X, columns=list("abce")))
    with pytest.raises(ValueError, match="must be in the same order"):
        model.predict(pd.DataFrame(X, columns=list("abcd"))[list("bacd")])


@pytest.mark.parametrize("method", ["predict", "predict_proba", "predict_log_proba", "score"])
def test_predict_before_fit_is_not_fitted_error(method):
    X, y = data()
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(MLPClassifier(), method)(*((X, y) if method == "score" else (X,)))
    with pytest.raises(NotFittedError, match="not fitted yet"):
        MLPRegressor().predict(X)


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize(
    "sample_weight,match",
    [
        (np.ones(5), r"sample_weight has shape \(5,\); expected \(20,\), one weight per sample"),
        (np.ones((20, 1)), r"sample_weight has shape \(20, 1\)"),
        (np.r_[np.ones(12), -1.0, np.ones(7)], "non-negative; sample 12 has weight -1.0"),
        (np.zeros(20), "sample_weight sums to zero"),
        (np.r_[np.ones(2), np.nan, np.ones(17)], "sample_weight contains NaN at index 2"),
        (["a"] * 20, "sample_weight holds a string, 'a', at index 0"),
    ],
    ids=["length", "2d", "negative", "all-zero", "nan", "string"],
)
def test_bad_sample_weight(cls, sample_weight, match):
    X, y = data()
    with pytest.raises(ValueError, match=match):
        fit(cls, X, y, sample_weight=sample_weight)


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize(
    "params,error,match",
    [
        ({"hidden_layer_sizes": (5, -3)}, ValueError, r"positive integers.*entry 1 is -3"),
        ({"hidden_layer_sizes": (0,)}, ValueError, r"positive integers.*entry 0 is 0"),
        ({"hidden_layer_sizes": (2.5,)}, ValueError, r"positive integers.*entry 0 is 2.5"),
        ({"hidden_layer_sizes": -3}, InvalidParameterError, r"'hidden_layer_sizes'.*\[1, inf\)"),
        ({"learning_rate_init": 0.0}, InvalidParameterError, r"'learning_rate_init'.*\(0.0, inf"),
        ({"learning_rate_init": -1}, InvalidParameterError, "'learning_rate_init'"),
        ({"momentum": 1.5}, InvalidParameterError, r"'momentum'.*\[0.0, 1.0\]. Got 1.5"),
        ({"momentum": -0.1}, InvalidParameterError, r"'momentum'.*\[0.0, 1.0\]"),
        ({"alpha": -1.0}, InvalidParameterError, "'alpha'"),
        ({"batch_size": 0}, InvalidParameterError, "'batch_size'"),
        ({"max_iter": 0}, InvalidParameterError, "'max_iter'"),
        ({"solver": "newton"}, InvalidParameterError, r"'solver'.*among \{.*'lbfgs'"),
        ({"activation": "swishy"}, ValueError, "unknown activation 'swishy'; valid names are"),
        ({"output_activation": "swishy"}, ValueError, "unknown activation 'swishy'; valid"),
        ({"early_stopping": True, "validation_fraction": 0.0}, ValueError, "validation_fract"),
    ],
)
def test_invalid_parameters_are_named(cls, params, error, match):
    X, y = data()
    with pytest.raises(error, match=match) as info:
        quiet(cls()).set_params(**params).fit(X, y)
    if "swishy" in match:
        for name in cr.activations.activation_names():
            assert repr(name) in str(info.value)
    if params.get("solver"):
        for name in ("adam", "lbfgs", "sgd"):
            assert repr(name) in str(info.value)


def test_unknown_loss_lists_the_valid_names():
    X, y = data()
    with pytest.raises(InvalidParameterError, match="'loss' parameter") as info:
        quiet(MLPRegressor(loss="hinge")).fit(X, y)
    for name in ("squared_error", "absolute_error", "huber", "poisson"):
        assert repr(name) in str(info.value)


@pytest.mark.parametrize("output", ["identity", "exponential", "tanh", "relu", "softplus"])
def test_classifier_output_that_is_not_a_probability_is_refused(output):
    """predict_proba must be a probability: an output activation that leaves [0, 1] is
    refused at fit, before anything is trained (it gave -4.1 to 5.5, or up to 674, before)."""
    X, y = data()
    with pytest.raises(ValueError, match=rf"output_activation='{output}' gives values outside"):
        quiet(MLPClassifier(output_activation=output)).fit(X, y)


def test_classifier_output_checks_user_activations_and_a_one_unit_softmax():
    X, y = data()
    doubled = cr.Activation("doubled_sigmoid", lambda z: 2 / (1 + np.exp(-z)),
                            lambda a: a * (1 - a / 2), of_output=True)  # fmt: skip
    with pytest.raises(ValueError, match=r"'doubled_sigmoid' gives values outside \[0, 1\]"):
        quiet(MLPClassifier(output_activation=doubled)).fit(X, y)
    with pytest.raises(ValueError, match=r"over the one output unit .* is always 1"):
        quiet(MLPClassifier(output_activation="softmax")).fit(X, y)  # a binary target
    squashed = cr.Activation("squashed_tanh", lambda z: (1 + np.tanh(z)) / 2,
                             lambda a: 2 * a * (1 - a), of_output=True)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = quiet(MLPClassifier(output_activation=squashed)).fit(X, y)  # in [0, 1]: accepted
        ovr = quiet(MLPClassifier(output_activation="sigmoid")).fit(X, np.arange(20) % 3)
    for proba in (clf.predict_proba(X), ovr.predict_proba(X)):
        assert ((proba >= 0) & (proba <= 1)).all()


def test_a_network_larger_than_the_memory_is_refused_before_allocation(monkeypatch):
    """Sizes whose parameters alone need terabytes: a MemoryError that names the need and
    the machine's memory, before any array is allocated (numpy's raw MemoryError before)."""
    X, y = data()
    big = MLPClassifier(hidden_layer_sizes=(10**6, 10**6))
    with pytest.raises(MemoryError, match=r"needs at least 29.1 TiB \(parameters and gradient"):
        big.fit(X, y)
    assert not hasattr(big, "network_")
    # the limit is the machine's memory: 1 MiB refuses hidden layers (300, 300), 92,101 float64
    # parameters with their gradient and momentum (2.11 MiB) and z, a, delta of 601 units for
    # 20 rows (0.28 MiB), and takes (8,), 49 parameters
    monkeypatch.setattr(preflight, "physical_memory", lambda: 2**20)
    with pytest.raises(MemoryError, match=r"needs at least 2.38 MiB .* machine's 1 MiB of"):
        MLPRegressor(hidden_layer_sizes=(300, 300), solver="sgd").fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", max_iter=2).fit(X, y)


# == property-based: random input gives a model or a clear error ==================================

#: the exceptions a caller may get for bad input; anything else is a bug
CLEAR = (ValueError, TypeError)


#: CHAINRULE_FUZZ_EXAMPLES=5000 runs a longer search than the suite's default
PROPERTY = settings(
    max_examples=int(os.environ.get("CHAINRULE_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@contextlib.contextmanager
def strict():
    """numpy's warnings (RuntimeWarning) become errors; ConvergenceWarning and UserWarning (a
    batch_size larger than the data) are expected and ignored."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("error", RuntimeWarning)
        yield


def assert_clear(error: Exception) -> None:
    assert isinstance(error, CLEAR), f"{type(error).__name__}: {error}"
    assert len(str(error)) > 10, repr(error)
    event(f"refused: {str(error)[:40]}")  # pytest --hypothesis-show-statistics lists them


@st.composite
def arrays(draw, cols=4):
    """Random X: mostly 2-D with ``cols`` columns, sometimes 1-D, 3-D, empty or another width;
    many dtypes and containers (DataFrame, sparse); NaN and infinities sprinkled."""
    ndim = draw(st.sampled_from([2] * 6 + [1, 3]))
    rows = draw(st.sampled_from([1, 2, 3, 5, 8, 8, 8, 8, 0]))
    width = draw(st.sampled_from([cols] * 5 + [0, 1, cols + 1]))
    shape = (rows, width, 2)[:ndim]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    values = rng.normal(scale=draw(st.sampled_from([1.0, 10.0])), size=shape)
    if values.size and draw(st.booleans()):
        holes = rng.random(shape) < draw(st.sampled_from([0.05, 0.3, 1.0]))
        pattern = draw(st.sampled_from([[np.nan], [np.inf], [-np.inf], [np.nan, np.inf, -np.inf]]))
        values[holes] = rng.choice(pattern, size=int(holes.sum()))
    kind = draw(
        st.sampled_from(["float64"] * 4 + ["float32"] * 2 + ["int64", "bool", "object", "str"])
        | st.sampled_from(["cplx", "frame", "sparse"])
    )
    if kind == "object":
        out = values.astype(object)
        if out.size and draw(st.booleans()):
            out.flat[rng.integers(out.size)] = draw(st.sampled_from(["x", None, {"k": 1}, b"7"]))
        return out
    if kind == "str":
        return values.astype(str)
    if kind == "cplx":
        return values + 1j
    if kind in ("int64", "bool"):
        return np.nan_to_num(values, nan=0.0, posinf=1e6, neginf=-1e6).astype(kind)
    if kind == "frame" and ndim == 2:
        return pd.DataFrame(values, columns=[f"f{j}" for j in range(width)])
    if kind == "sparse" and ndim == 2:
        values[rng.random(shape) < 0.5] = 0.0
        return sp.csr_matrix(values)
    return values.astype("float32" if kind == "float32" else "float64")


@st.composite
def targets(draw, n):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = draw(st.sampled_from(["labels", "labels", "one", "float", "nan", "str", "2d"]))
    n = max(n, 0)
    if kind == "labels":
        return rng.integers(0, draw(st.integers(2, 3)), size=n)
    if kind == "one":
        return np.zeros(n, dtype=int)
    if kind == "float":
        return rng.normal(size=n)
    if kind == "nan":
        y = rng.normal(size=n)
        y[rng.random(n) < 0.5] = np.nan
        return y
    if kind == "str":
        return np.array(["a", "b"])[rng.integers(0, 2, size=n)]
    return rng.integers(0, 2, size=(n, draw(st.integers(0, 3))))


PARAMS = {
    "hidden_layer_sizes": st.sampled_from([(3,), (2, 2), (), 4, (0,), (-1,), (2.5,), "x"]),
    "activation": st.sampled_from(["relu", "tanh", "logistic", "identity", "elu", "nope", 3]),
    "solver": st.sampled_from(["adam", "sgd", "lbfgs", "newton"]),
    "learning_rate_init": st.sampled_from([1e-3, 1e-2, 0.0, -1.0, np.nan]),
    "momentum": st.sampled_from([0.0, 0.9, 1.0, -0.1, 1.5]),
    "alpha": st.sampled_from([0.0, 1e-4, 1.0, -1.0]),
    "batch_size": st.sampled_from(["auto", 1, 4, 0]),
    "max_iter": st.sampled_from([1, 3, 0]),
    "early_stopping": st.booleans(),
    "validation_fraction": st.sampled_from([0.1, 0.5, 0.0]),
    "dtype": st.sampled_from([None, "float32", "float64", "float16"]),
    "n_init": st.sampled_from([1, 2, 0]),
    "output_activation": st.sampled_from([None, "softmax", "sigmoid", "identity", "exponential"]),
}


def check_predictions(model, X) -> None:
    out = model.predict(X)
    event("fitted, finite predictions")
    assert len(out) == X.shape[0]
    if isinstance(model, MLPClassifier):
        proba = model.predict_proba(X)
        assert np.isfinite(proba).all() and ((proba >= 0) & (proba <= 1)).all()
        if model._label_binarizer.y_type_ != "multilabel-indicator":
            np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-5)
        assert not np.isnan(model.predict_log_proba(X)).any()
    else:
        assert np.isfinite(out).all()


@PROPERTY
@given(st.data())
def test_fit_on_random_input_gives_a_model_or_a_clear_error(data_):
    cls = data_.draw(st.sampled_from(ESTIMATORS))
    X = data_.draw(arrays())
    y = data_.draw(targets(X.shape[0]))
    n = data_.draw(st.sampled_from([X.shape[0]] * 3 + [X.shape[0] + 1]))
    weights = st.sampled_from([1.0, 1.0, 0.5, 3.0, 0.0, -1.0, np.nan, np.inf])
    sample_weight = data_.draw(st.none() | st.lists(weights, min_size=n, max_size=n))
    model = cls(hidden_layer_sizes=(3,), max_iter=3, random_state=0)
    with strict():
        try:
            model.fit(X, y, sample_weight=sample_weight)
        except Exception as e:
            assert_clear(e)
            return
        check_predictions(model, X)


@PROPERTY
@given(st.data())
def test_random_parameters_give_a_model_or_a_clear_error(data_):
    cls = data_.draw(st.sampled_from(ESTIMATORS))
    params = {k: data_.draw(v) for k, v in PARAMS.items() if data_.draw(st.booleans())}
    X, y = data(n=data_.draw(st.integers(1, 12)), d=data_.draw(st.integers(1, 3)))
    model = cls(random_state=0, max_iter=3, hidden_layer_sizes=(3,))
    with strict():
        try:
            model.set_params(**params).fit(X, y)
        except Exception as e:
            assert_clear(e)
            return
        check_predictions(model, X)


@PROPERTY
@given(X=arrays())
def test_predict_on_random_input_gives_finite_output_or_a_clear_error(fitted, X):
    with strict():
        for model in fitted.values():
            try:
                check_predictions(model, X)
            except Exception as e:
                assert_clear(e)


@PROPERTY
@given(
    X=arrays(cols=3),
    Y=arrays(cols=2),
    sample_weight=st.none() | st.lists(st.sampled_from([0.0, 1.0, 2.5, -1.0, np.nan]), max_size=5),
)
def test_network_on_random_input_gives_finite_output_or_a_clear_error(X, Y, sample_weight):
    net = cr.Network([3, 4, 2], activation="tanh", random_state=0)
    with strict():
        for call in (
            lambda: net.forward(X),
            lambda: net.cost(X, Y, sample_weight),
            lambda: net.cost_and_gradient(X, Y, sample_weight)[1],
        ):
            try:
                out = call()
            except Exception as e:
                assert_clear(e)
                continue
            assert np.isfinite(out).all()


@PROPERTY
@given(
    raw=st.binary(max_size=2048) | st.sampled_from([b"", b"PK\x03\x04", b"PK\x05\x06" + bytes(18)])
)
def test_load_on_random_bytes_raises_model_format_error(raw):
    with strict(), pytest.raises(ModelFormatError):
        cr.load(io.BytesIO(raw))


@pytest.fixture(scope="module")
def saved_model(fitted, tmp_path_factory):
    path = tmp_path_factory.mktemp("bad_input") / "model.crm"
    cr.save(fitted[MLPClassifier], path)
    return path.read_bytes()


@PROPERTY
@given(st.data())
def test_load_on_damaged_bytes_gives_the_model_or_model_format_error(saved_model, data_):
    raw = bytearray(saved_model)
    for _ in range(data_.draw(st.integers(1, 4))):
        i = data_.draw(st.integers(0, len(raw) - 1))
        raw[i] = data_.draw(st.integers(0, 255))
    if data_.draw(st.booleans()):
        raw = raw[: data_.draw(st.integers(0, len(raw)))]
    with strict():
        try:
            model = cr.load(io.BytesIO(bytes(raw)))
        except ModelFormatError:
            return
        check_predictions(model, data()[0])
