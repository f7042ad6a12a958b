"""Training that blows up, checkpoints and exact resumes, SIGKILL at a random moment."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning

import chainrule as cr
from chainrule import MLPClassifier, MLPRegressor, Network
from chainrule.engine import select
from chainrule.estimators import base
from chainrule.estimators.preflight import fit_memory_need
from chainrule.training import TrainingDivergedWarning

ENGINES = ["reference", "compiled"]


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


# -- training that blows up ---------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("scale,lr,activation", [(1e6, 0.001, "relu"), (1.0, 1e3, "tanh")])
def test_a_blow_up_stops_with_finite_weights_and_advice(engine, scale, lr, activation):
    """Unscaled features, or a learning rate far too large."""
    X, y = load_diabetes(return_X_y=True)
    reg = MLPRegressor(
        hidden_layer_sizes=(32,),
        activation=activation,
        solver="sgd",
        learning_rate_init=lr,
        max_iter=50,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no numpy warning escapes
        with select.use_engine(engine), pytest.warns(TrainingDivergedWarning) as record:
            reg.fit(X * scale, y)
    message = str(record[0].message)
    assert "the cost became" in message and "Scale the features" in message
    assert "lower learning_rate_init" in message and "max_grad_norm" in message
    assert np.isfinite(reg.network_.theta).all()
    assert np.isfinite(reg.predict(X * scale)).all()
    assert reg.n_iter_ < 50 and all(np.isfinite(reg.loss_curve_))


def test_a_blow_up_is_noticed_in_the_step_where_it_happens(monkeypatch):
    X, y = load_diabetes(return_X_y=True)
    reg = MLPRegressor(
        hidden_layer_sizes=(8,),
        solver="sgd",
        learning_rate_init=0.01,
        batch_size=50,
        max_iter=3,
        random_state=0,
    )
    steps = []
    original = Network.batch_cost_and_gradient

    def record(self, *args):
        cost, grads = original(self, *args)
        steps.append(cost)
        if len(steps) == 12:  # the 12th minibatch (in the second epoch) blows up
            cost = float("inf")
        return cost, grads

    monkeypatch.setattr(Network, "batch_cost_and_gradient", record)
    with select.use_engine("reference"), pytest.warns(TrainingDivergedWarning, match="epoch 2"):
        reg.fit(X, y)
    assert len(steps) == 12 and reg.n_iter_ == 1  # no step after the blow-up ran


def test_max_grad_norm_clips_each_step():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 3)) * 100, rng.normal(size=20) * 100
    kw = dict(
        hidden_layer_sizes=(4,),
        solver="sgd",
        momentum=0.0,
        learning_rate_init=1.0,
        batch_size=20,
        shuffle=False,
        random_state=0,
    )
    clipped = MLPRegressor(max_grad_norm=0.5, **kw)
    start = MLPRegressor(max_iter=1, **kw).partial_fit(X[:1], y[:1])  # weights to start from
    clipped.coefs_ = [W.copy() for W in start.coefs_]
    clipped.intercepts_ = [b.copy() for b in start.intercepts_]
    clipped.partial_fit(X, y)
    step = clipped.network_.theta - start.network_.theta
    assert np.linalg.norm(step) == pytest.approx(0.5)  # eta * max_grad_norm, the gradient ~1e4
    plain = MLPRegressor(**kw)
    plain.coefs_ = [W.copy() for W in start.coefs_]
    plain.intercepts_ = [b.copy() for b in start.intercepts_]
    plain.partial_fit(X, y)
    assert np.linalg.norm(plain.network_.theta - start.network_.theta) > 100


# -- checkpoints and exact resumes --------------------------------------------------------------


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("early_stopping", [False, True])
def test_resume_gives_the_uninterrupted_model(solver, early_stopping, digits, tmp_path):
    X, y = digits
    kw = dict(
        hidden_layer_sizes=(16,),
        solver=solver,
        random_state=0,
        n_iter_no_change=3,
        early_stopping=early_stopping,
        learning_rate="adaptive",
    )
    path = tmp_path / "fit.ckpt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        whole = MLPClassifier(max_iter=12, **kw).fit(X, y)
        MLPClassifier(max_iter=5, checkpoint=path, **kw).fit(X, y)  # "killed" after epoch 5
        resumed = MLPClassifier(max_iter=12, checkpoint=path, resume=True, **kw).fit(X, y)
    np.testing.assert_array_equal(resumed.network_.theta, whole.network_.theta)
    assert resumed.loss_curve_ == whole.loss_curve_ and resumed.n_iter_ == whole.n_iter_
    assert resumed.validation_scores_ == whole.validation_scores_


def test_checkpoint_every_and_the_file_is_a_model(digits, tmp_path):
    X, y = digits
    path = tmp_path / "fit.ckpt"
    written = []
    original = base.write_checkpoint

    def spy(path, kind, model, progress, data_fingerprint):
        written.append((progress.record.n_iter, progress.finished))
        return original(path, kind, model, progress, data_fingerprint)

    clf = MLPClassifier(
        hidden_layer_sizes=(8,), max_iter=7, checkpoint=path, checkpoint_every=3, random_state=0
    )
    with pytest.MonkeyPatch.context() as mp, warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mp.setattr(base, "write_checkpoint", spy)
        clf.fit(X, y)
    assert written == [(3, False), (6, False), (7, False)]  # max_iter ran out: not finished
    model = cr.load(path)
    np.testing.assert_array_equal(model.predict_proba(X), clf.predict_proba(X))


def test_resuming_a_finished_fit_changes_nothing(digits, tmp_path):
    X, y = digits
    path = tmp_path / "fit.ckpt"
    kw = dict(
        hidden_layer_sizes=(8,),
        early_stopping=True,
        n_iter_no_change=2,
        random_state=0,
        max_iter=500,
        checkpoint=path,
    )
    first = MLPClassifier(**kw).fit(X, y)
    assert first.n_iter_ < 500
    again = MLPClassifier(**kw, resume=True).fit(X, y)
    np.testing.assert_array_equal(again.network_.theta, first.network_.theta)
    assert again.n_iter_ == first.n_iter_


def test_resume_without_a_checkpoint_starts_fresh(digits, tmp_path):
    X, y = digits
    kw = dict(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = MLPClassifier(**kw).fit(X, y)
        fresh = MLPClassifier(**kw, checkpoint=tmp_path / "new.ckpt", resume=True).fit(X, y)
    np.testing.assert_array_equal(fresh.network_.theta, plain.network_.theta)
    assert (tmp_path / "new.ckpt").is_file()


def test_resume_refuses_other_parameters_or_data(digits, tmp_path):
    X, y = digits
    path = tmp_path / "fit.ckpt"
    kw = dict(max_iter=2, random_state=0, checkpoint=path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        MLPClassifier(hidden_layer_sizes=(8,), **kw).fit(X, y)
    with pytest.raises(ValueError, match=r"hidden_layer_sizes=\[8\].*hidden_layer_sizes=\[9\]"):
        MLPClassifier(hidden_layer_sizes=(9,), resume=True, **kw).fit(X, y)
    with pytest.raises(ValueError, match="other data"):
        MLPClassifier(hidden_layer_sizes=(8,), resume=True, **kw).fit(X[:-1], y[:-1])
    with pytest.raises(ValueError, match="n_init=1"):
        MLPClassifier(n_init=2, **kw).fit(X, y)
    with pytest.raises(ValueError, match="solver='sgd' or 'adam'"):
        MLPClassifier(solver="lbfgs", **kw).fit(X, y)
    with pytest.raises(cr.ModelFormatError, match="not a checkpoint of a MLPRegressor"):
        MLPRegressor(hidden_layer_sizes=(8,), resume=True, **kw).fit(X, y)


def test_same_random_state_same_predictions_across_runs_and_files(digits, tmp_path):
    X, y = digits
    a = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=3)
    b = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a.fit(X, y)
        b.fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    a.save(tmp_path / "a.crm")
    np.testing.assert_array_equal(cr.load(tmp_path / "a.crm").predict_proba(X), a.predict_proba(X))


# -- SIGKILL at a random moment ----------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import sys, warnings
    import numpy as np
    from sklearn.datasets import load_digits
    from chainrule import MLPClassifier

    X, y = load_digits(return_X_y=True)
    warnings.simplefilter("ignore")
    clf = MLPClassifier(hidden_layer_sizes=(128, 64), max_iter=60, random_state=0,
                        batch_size=16, checkpoint=sys.argv[1], resume=True, verbose=True)
    clf.fit(X / 16.0, y)
    np.save(sys.argv[2], clf.network_.theta)
    """
)
PARAMS = dict(hidden_layer_sizes=(128, 64), max_iter=60, random_state=0, batch_size=16)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
def test_sigkill_at_random_moments_then_resume_gives_the_uninterrupted_model(tmp_path):
    X, y = load_digits(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        whole = MLPClassifier(**PARAMS).fit(X / 16.0, y)
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    ckpt, out = tmp_path / "fit.ckpt", tmp_path / "theta.npy"
    rng = np.random.default_rng()
    kills = []
    for attempt in range(5):
        child = subprocess.Popen(
            [sys.executable, "-u", str(script), str(ckpt), str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        if attempt < 4:
            # let it train a random number of epochs, then kill it at a random moment inside
            # the next one (perhaps in the middle of writing the checkpoint)
            epochs = int(rng.integers(1, 12))
            for _ in range(epochs):
                if not child.stdout.readline():
                    break
            time.sleep(rng.uniform(0.0, 0.03))
            if child.poll() is None:
                os.kill(child.pid, signal.SIGKILL)
                kills.append(epochs)
        child.communicate(timeout=300)
        if out.exists():
            break
    assert kills, "the child was never killed"
    assert out.exists(), "the resumed fit never finished"
    np.testing.assert_array_equal(np.load(out), whole.network_.theta)


# -- estimators and training (issue 17) ---------------------------------------------------------


def test_a_loaded_model_never_carries_a_path_it_would_write_to(digits, tmp_path):
    X, y = digits
    clf = MLPClassifier((8,), max_iter=2, random_state=0, checkpoint=tmp_path / "ck.crm")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X[:200], y[:200])
    clf.save(tmp_path / "model.crm")
    loaded = cr.load(tmp_path / "model.crm")
    assert loaded.checkpoint is None
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


@pytest.mark.parametrize("scale", [1e200, 1e308])
@pytest.mark.parametrize("engine", ENGINES)
def test_a_blow_up_on_huge_features_keeps_finite_outputs_or_says_why(scale, engine):
    """Features around 1e200 (or 1e308) with sgd: either the weights kept give finite outputs
    on the training data, or fit raises a clear error; no numpy RuntimeWarning escapes."""
    rng = np.random.default_rng(0)
    X = rng.uniform(0.5, 1.5, size=(60, 3)) * scale
    y = rng.normal(size=60)
    reg = MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", TrainingDivergedWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        with select.use_engine(engine):
            try:
                reg.fit(X, y)
            except ValueError as error:
                assert "Scale them" in str(error) and "infinite or NaN cost" in str(error)
                return
        assert np.isfinite(reg.predict(X)).all()


def test_partial_fit_with_another_number_of_targets_is_refused():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    reg = MLPRegressor(hidden_layer_sizes=(4,), random_state=0)
    reg.partial_fit(X, rng.normal(size=30))
    with pytest.raises(ValueError, match="y has 2 target column"):
        reg.partial_fit(X, rng.normal(size=(30, 2)))


@pytest.mark.parametrize("weight", [-1.0, float("nan"), float("inf")])
def test_class_weight_must_be_finite_and_non_negative(weight):
    X, y = np.random.default_rng(0).normal(size=(20, 2)), np.arange(20) % 2
    clf = MLPClassifier((3,), max_iter=1, class_weight={0: 1.0, 1: weight})
    with pytest.raises(ValueError, match="class_weight must map classes to finite weights"):
        clf.fit(X, y)


def test_standardized_scales_huge_features_without_overflow():
    from chainrule.estimators import Standardized

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2)) * 1e200 + 3e200
    y = (X[:, 0] > 3e200).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = Standardized.fit(MLPClassifier((6,), solver="lbfgs", random_state=0), X, y)
    Z = model.transform(X)
    assert np.isfinite(Z).all() and np.abs(Z).max() > 0.5
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(Z.std(axis=0), 1, rtol=1e-5)
    assert model.score(X, y) > 0.8


def test_a_model_file_whose_shapes_disagree_is_refused(digits):
    X, y = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier((8,), max_iter=2, random_state=0).fit(X[:200], y[:200])
        binary = MLPClassifier((4,), max_iter=2, random_state=0).fit(X[:200], y[:200] % 2)
    meta, arrays = clf.to_payload()
    meta["fitted"]["n_features_in_"] = 63
    with pytest.raises(cr.ModelFormatError, match="n_features_in_=63"):
        MLPClassifier.from_payload(meta, arrays)
    meta, arrays = clf.to_payload()
    arrays["classes_"] = arrays["classes_"][:7]
    with pytest.raises(cr.ModelFormatError, match="classes_ holds 7 classes"):
        MLPClassifier.from_payload(meta, arrays)
    meta, arrays = binary.to_payload()
    arrays["classes_"] = np.arange(3)  # three classes, one sigmoid output
    meta["target"]["y_type"] = "multiclass"
    with pytest.raises(cr.ModelFormatError, match="need 3 network output"):
        MLPClassifier.from_payload(meta, arrays)


@pytest.mark.parametrize(
    "dtype,value", [("float64", 1.79e308), ("float64", -1.79e308), ("float32", 1e39)]
)
def test_standardizing_past_the_float_range_names_the_value_not_infinity(dtype, value):
    """A finite value whose standardised value leaves the model's float range (issue 17.4):
    an error naming the sample, column and value, not "X contains infinity"."""
    from chainrule.estimators import Standardized

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3)) * 0.5  # every scale below 1
    y = (X[:, 0] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = Standardized.fit(MLPClassifier((4,), max_iter=3, dtype=dtype), X, y)
    assert (model.scale < 1).all()
    X_new = X[:3].copy()
    X_new[1, 2] = value
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(ValueError, match=r"X\[1, 2\] = .*past the " + dtype) as caught:
            model.predict(X_new)
    assert "infinity" not in str(caught.value)


def test_standardizing_values_near_the_float_range_is_correct():
    """``x - mean`` overflows but ``(x - mean) / scale`` is in range: computed exactly, and
    only there (the other cells keep the direct formula)."""
    from chainrule.estimators import Standardized

    model = Standardized(None, mean=[-1.5e308, 1e308], scale=[1e307, 0.5])
    X = np.array([[1e308, 1e308], [0.0, 9.9e307]])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        Z = model.scaled(X)
    np.testing.assert_allclose(Z, [[25.0, 0.0], [15.0, (9.9e307 - 1e308) / 0.5]], rtol=1e-12)


# -- memory -------------------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_the_memory_estimate_is_at_most_what_a_fit_allocates(solver):
    """The estimate a fit is refused by counts only buffers the fit holds at once (parameters,
    gradient, optimizer state, a minibatch's z, a and delta), so it never exceeds the peak that
    tracemalloc (which sees every NumPy allocation) measures: a refused fit would not have
    fitted."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(400, 20)), rng.integers(0, 3, size=400)
    clf = MLPClassifier((300, 300), solver=solver, max_iter=1, random_state=0)
    need = fit_memory_need([20, 300, 300, 3], np.float64, clf.get_params(), 400)
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sum(need.values()) <= peak


# -- this page's promises ---------------------------------------------------------------------


def test_every_test_this_page_names_exists():
    """docs/reliability.md names the test that holds each promise: each must be defined in
    tests/ (it named a test removed when the behaviour changed), and each file it names, with
    the tests it names there, must exist (a test file moved or a test moved to another file)."""
    tests = Path(__file__).parents[1]
    page = (tests.parent / "docs" / "reliability.md").read_text(encoding="utf-8")

    def defined_in(source: Path) -> set[str]:
        return set(re.findall(r"^def (test_\w+)", source.read_text(encoding="utf-8"), re.M))

    defined = set().union(*(defined_in(source) for source in tests.rglob("*.py")))
    named = set(re.findall(r"\btest_\w+", page)) - {p.stem for p in tests.rglob("test_*.py")}
    assert named and named <= defined, sorted(named - defined)
    files = set(re.findall(r"\b(tests/[\w/]+\.py)", page))
    missing = sorted(f for f in files if not (tests.parent / f).is_file())
    assert files and not missing, missing
    cited = set(re.findall(r"\b(tests/[\w/]+\.py)::(test_\w+)", page))
    elsewhere = sorted(f"{f}::{t}" for f, t in cited if t not in defined_in(tests.parent / f))
    assert cited and not elsewhere, elsewhere
