"""Prediction for serving: the direct check of plain arrays gives scikit-learn's results and
errors, predictions go in chunks of rows, the dtype of float64 input on a float32 model, and a
short fit in a new process runs on the compiled engine and fits as in a warm one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
import warnings

import numpy as np
import pytest
from scipy import sparse
from scipy.special import log_softmax
from sklearn.exceptions import ConvergenceWarning

from chainrule import MLPClassifier, MLPRegressor
from chainrule.engine import reference
from chainrule.estimators import inputs as input_checks
from chainrule.network import PREDICT_ROWS, by_rows

METHODS = ("predict", "predict_proba", "predict_log_proba")


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def data(n=120, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)
    return X, y


def fitted(dtype=None, **kw):
    X, y = data()
    return MLPClassifier((8,), max_iter=5, random_state=0, dtype=dtype, **kw).fit(X, y), X


def outcome(model, method, X):
    """What ``model.method(X)`` gives: its result, or its error's type and message, and the
    warnings it emits."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = getattr(model, method)(X)
        except Exception as error:
            result = (type(error), str(error))
    return result, [(w.category, str(w.message)) for w in caught]


def assert_same(a, b):
    (res_a, warn_a), (res_b, warn_b) = a, b
    assert warn_a == warn_b
    if isinstance(res_a, tuple):
        assert res_a == res_b
    else:
        assert res_a.dtype == res_b.dtype
        np.testing.assert_array_equal(res_a, res_b)


def inputs(X):
    """Valid and invalid inputs: each goes through the direct check or validate_data."""
    nan, inf, big = X[:3].copy(), X[:3].copy(), X[:3].copy()
    nan[1, 2], inf[2, 0], big[0, 1] = np.nan, -np.inf, 1e300
    return {
        "float64": X[:7],
        "float32": X[:7].astype(np.float32),
        "fortran": np.asfortranarray(X[:7]),
        "one row": X[:1],
        "int": np.round(X[:7] * 3).astype(int),
        "list": X[:4].tolist(),
        "csr": sparse.csr_matrix(np.where(np.abs(X[:6]) < 0.5, 0, X[:6])),
        "csc": sparse.csc_matrix(np.where(np.abs(X[:6]) < 0.5, 0, X[:6])),
        "NaN": nan,
        "inf": inf,
        "too large for float32": big,
        "1-D": X[0],
        "3-D": X[:2, :, None],
        "wrong features": X[:3, :4],
        "no rows": X[:0],
        "strings": np.array([["a"] * 5]),
        "complex": X[:2].astype(complex),
        "float16": X[:3].astype(np.float16),
    }


def assert_direct_check_is_validate_data(model, method, named_inputs, monkeypatch):
    """Each input gives the same result, error and warnings with the direct check of plain
    arrays as through scikit-learn's validate_data alone."""
    for name, X_in in named_inputs.items():
        fast = outcome(model, method, X_in)
        with monkeypatch.context() as mp:
            mp.setattr(input_checks, "plain_input", lambda estimator, X: None)
            slow = outcome(model, method, X_in)
        try:
            assert_same(fast, slow)
        except AssertionError as error:
            raise AssertionError(f"{name}: {error}") from error


@pytest.mark.parametrize("dtype", [None, "float32", "float64"])
@pytest.mark.parametrize("method", METHODS)
def test_the_direct_check_gives_validate_datas_results_and_errors(dtype, method, monkeypatch):
    model, X = fitted(dtype)
    assert_direct_check_is_validate_data(model, method, inputs(X), monkeypatch)


def test_a_float32_model_on_the_direct_check_as_through_validate_data(monkeypatch):
    """dtype=None and float32 data: float64 input is cast (per chunk) with the same errors."""
    X, y = data()
    model = MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(
        X.astype(np.float32), y
    )
    assert model.network_.dtype == np.float32
    assert_direct_check_is_validate_data(model, "predict", inputs(X), monkeypatch)


def test_the_direct_check_takes_plain_finite_arrays_only():
    model, X = fitted()
    assert input_checks.plain_input(model, X[:3]) is not None
    assert input_checks.plain_input(model, X[:3].astype(np.float32)) is not None
    for X_in in (X[:3].tolist(), X[:3, :4], X[:0], X[:3].astype(int), np.full((1, 5), np.nan)):
        assert input_checks.plain_input(model, X_in) is None


def test_feature_names_as_through_validate_data(monkeypatch):
    pd = pytest.importorskip("pandas")
    X, y = data()
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(5)])
    model = MLPClassifier((8,), max_iter=5, random_state=0).fit(frame, y)
    named = {
        "ndarray for a model fitted with names": X[:3],
        "DataFrame": frame[:3],
        "renamed": frame[:3].rename(columns={"f0": "g0"}),
    }
    for method in METHODS:
        assert_direct_check_is_validate_data(model, method, named, monkeypatch)
    _, caught = outcome(model, "predict", X[:3])
    assert any("feature names" in message for _, message in caught)
    assert outcome(model, "predict", named["renamed"])[0][0] is ValueError


# -- chunks of rows -------------------------------------------------------------------------


def test_chunked_prediction_equals_the_whole_forward_pass():
    X, y = data(n=2 * PREDICT_ROWS + 37, d=6)
    model = MLPClassifier((9, 7), max_iter=2, random_state=0).fit(X, y)
    net = model.network_
    whole = net.activations[-1](reference.logits(net.W, net.b, net.activations, X))
    np.testing.assert_allclose(model.predict_proba(X), whole, rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(model.predict(X), model.classes_[np.argmax(whole, axis=1)])
    np.testing.assert_allclose(net.forward(X), whole, rtol=1e-13, atol=1e-15)
    rows = [model.predict_proba(X[s : s + 1000]) for s in range(0, len(X), 1000)]
    np.testing.assert_allclose(model.predict_proba(X), np.vstack(rows), rtol=1e-13, atol=1e-15)
    csr = sparse.csr_matrix(np.where(X > 0, X, 0))
    dense = model.predict_proba(csr.toarray())
    np.testing.assert_allclose(model.predict_proba(csr), dense, rtol=1e-12)
    np.testing.assert_allclose(model.predict_proba(csr.tocsc()), dense, rtol=1e-12)


def test_by_rows_stacks_the_chunks_into_one_output():
    X = np.arange(23.0).reshape(-1, 1)
    seen = []

    def compute(rows):
        seen.append(len(rows))
        return np.hstack([rows, 2 * rows])

    out = by_rows(X, compute, rows=5)
    assert seen == [5, 5, 5, 5, 3]
    np.testing.assert_array_equal(out, np.hstack([X, 2 * X]))
    assert by_rows(X[:4], lambda rows: rows.ravel(), rows=5).shape == (4,)


def test_batch_prediction_memory_is_one_chunk_beyond_the_output():
    rng = np.random.default_rng(0)
    X = rng.random((6 * PREDICT_ROWS, 200), dtype=np.float32)
    y = np.arange(len(X)) % 10
    model = MLPClassifier((256, 128), max_iter=1, batch_size=500, random_state=0)
    model.fit(X[:1000], y[:1000])
    model.predict_proba(X[:10])
    tracemalloc.start()
    try:
        proba = model.predict_proba(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    chunk_activations = PREDICT_ROWS * (256 + 128 + 10) * 4
    all_activations = len(X) * (256 + 128 + 10) * 4
    assert proba.dtype == np.float32
    assert peak < proba.nbytes + 2 * chunk_activations < all_activations / 2


# -- the dtype of the predictions --------------------------------------------------------------


def test_float64_input_on_a_float32_model_gives_float32_predictions():
    X, y = data()
    clf = MLPClassifier((8,), max_iter=5, random_state=0, dtype="float32").fit(X, y)
    reg = MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(
        X.astype(np.float32), y
    )
    for model, method in ((clf, "predict_proba"), (clf, "predict_log_proba"), (reg, "predict")):
        got = getattr(model, method)(X)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, getattr(model, method)(X.astype(np.float32)))
    np.testing.assert_array_equal(clf.predict(X), clf.predict(X.astype(np.float32)))
    big = X[:2].copy()
    big[1, 3] = 1e39
    with pytest.raises(ValueError, match=r"too large for float32.*column 3 \(row 1\)"):
        reg.predict(big)
    with pytest.raises(ValueError, match=r"too large for float32.*column 3 \(row 1\)"):
        clf.predict_proba(big)
    float64_model = MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X, y)
    assert float64_model.predict(X[:2].astype(np.float32)).dtype == np.float64


# -- predict_log_proba ----------------------------------------------------------------------


def test_log_proba_is_the_log_of_proba_and_finite_where_it_underflows():
    X, y = data()
    model = MLPClassifier((8,), max_iter=50, random_state=0).fit(X, y)
    X_far = np.vstack([X[:5], 1e3 * X[:5]])  # saturated: probabilities of 0 and 1
    proba, log_proba = model.predict_proba(X_far), model.predict_log_proba(X_far)
    assert (proba == 0).any() and (proba == 1).any()
    normal = proba >= np.finfo(proba.dtype).tiny
    np.testing.assert_array_equal(log_proba[normal], np.log(proba[normal]))
    assert np.isfinite(log_proba).all()
    exact = log_softmax(model.network_.logits(X_far), axis=1)
    np.testing.assert_allclose(log_proba[~normal], exact[~normal], rtol=1e-12)
    np.testing.assert_array_equal(np.argmax(log_proba, axis=1), np.argmax(proba, axis=1))


@pytest.mark.parametrize("multilabel", [False, True])
def test_log_proba_of_sigmoid_outputs(multilabel):
    X, y = data()
    Y = np.column_stack([y > 0, y > 1]).astype(int) if multilabel else (y > 0).astype(int)
    model = MLPClassifier((8,), max_iter=50, random_state=0).fit(X, Y)
    X_far = np.vstack([X[:5], 1e4 * X[:5]])
    proba, log_proba = model.predict_proba(X_far), model.predict_log_proba(X_far)
    assert np.isfinite(log_proba).all() and (proba == 1).any() and (proba == 0).any()
    normal = proba >= np.finfo(proba.dtype).tiny
    np.testing.assert_array_equal(log_proba[normal], np.log(proba[normal]))
    assert (log_proba[proba == 1] == 0).all()  # ties at 1 stay ties, as in scikit-learn


# -- cold start ----------------------------------------------------------------------------

COLD = """
import json, sys, warnings
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from chainrule import MLPClassifier
from chainrule.engine import select
warnings.simplefilter("ignore", ConvergenceWarning)
X, y = load_digits(return_X_y=True); X = X / 16.0
def fit(max_iter):
    model = MLPClassifier((32,), max_iter=max_iter, random_state=0).fit(X, y)
    return model.network_.theta.tolist(), model.predict_proba(X[:3]).tolist()
cold = fit(5)
after_short = "chainrule.engine.native" in sys.modules and select.compiled_available()
long = fit(30)
after_long = select.engine()
print(json.dumps({"cold": cold, "warm": fit(5), "after_short": after_short,
                  "after_long": after_long, "long": long, "long_again": fit(30)}))
"""


def test_a_short_fit_runs_compiled_and_fits_as_in_a_warm_process():
    env = {k: v for k, v in os.environ.items() if k != "CHAINRULE_ENGINE"}  # no engine chosen
    run = subprocess.run([sys.executable, "-c", COLD], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout)
    assert got["after_short"]  # no size threshold: the first fit ran on the compiled engine
    assert got["cold"] == got["warm"]  # the same weights and probabilities, bit for bit
    assert got["long"] == got["long_again"]
    assert got["after_long"] == "compiled"


# -- dropout (chainrule's addition) --------------------------------------------------------------


def _dropout_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 5))
    return X, (X[:, 0] + X[:, 1] ** 2 > 0.5).astype(int)


def test_dropout_zero_draws_nothing_and_gives_todays_weights():
    from chainrule import MLPClassifier

    X, y = _dropout_data()
    kw = dict(hidden_layer_sizes=(6, 4), max_iter=3, random_state=0)
    plain = MLPClassifier(**kw).fit(X, y).network_.theta
    zero = MLPClassifier(dropout=[0.0, 0.0], **kw).fit(X, y).network_.theta
    dropped = MLPClassifier(dropout=0.3, **kw).fit(X, y).network_.theta
    assert np.array_equal(plain, zero)
    assert not np.allclose(plain, dropped)


def test_dropout_fits_replay_in_a_new_process_and_resume_with_the_same_masks(tmp_path):
    import subprocess
    import sys

    script = """
import warnings; warnings.simplefilter("ignore")
import numpy as np
from chainrule import MLPClassifier
rng = np.random.default_rng(0)
X = rng.normal(size=(120, 5)); y = (X[:, 0] + X[:, 1] ** 2 > 0.5).astype(int)
clf = MLPClassifier((6, 4), dropout=[0.2, 0.5], max_iter=4, random_state=0).fit(X, y)
print(clf.network_.theta.tobytes().hex())
"""
    runs = [
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
        for _ in range(2)
    ]
    assert runs[0].stdout and runs[0].stdout == runs[1].stdout
    from chainrule import MLPClassifier

    X, y = _dropout_data()
    kw = dict(hidden_layer_sizes=(6, 4), dropout=[0.2, 0.5], random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        here = MLPClassifier(max_iter=4, **kw).fit(X, y).network_.theta
        assert runs[0].stdout.strip() == here.tobytes().hex()
        path = tmp_path / "fit.ckpt"
        MLPClassifier(max_iter=2, checkpoint=path, **kw).fit(X, y)
        resumed = MLPClassifier(max_iter=4, checkpoint=path, resume=True, **kw).fit(X, y)
    assert np.array_equal(resumed.network_.theta, here)


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(dropout=0.5, solver="lbfgs"), "needs a stochastic solver"),
        (dict(dropout=[0.1, 0.2, 0.3]), "3 rates for 2 hidden layers"),
        (dict(dropout=[0.1, 1.0]), r"in \[0, 1\)"),
    ],
)
def test_bad_dropout_is_a_clear_error(params, message):
    from chainrule import MLPClassifier

    X, y = _dropout_data()
    with pytest.raises(ValueError, match=message):
        MLPClassifier((6, 4), max_iter=2, **params).fit(X, y)


def test_a_new_dropout_applies_when_a_fit_continues():
    from chainrule import MLPClassifier

    X, y = _dropout_data()
    clf = MLPClassifier((6, 4), max_iter=2, random_state=0, warm_start=True).fit(X, y)
    assert clf.network_.dropout == (0.0, 0.0)
    clf.set_params(dropout=[0.5, 0.0]).fit(X, y)
    assert clf.network_.dropout == (0.5, 0.0)
    clf.set_params(dropout=0.0).partial_fit(X, y)
    assert clf.network_.dropout == (0.0, 0.0)
