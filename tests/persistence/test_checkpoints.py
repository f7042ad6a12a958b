"""Checkpoints and exact resumes (:mod:`chainrule.persistence.checkpoints`): the whole training
state written atomically every few epochs, a resumed fit equal to the uninterrupted one (SIGKILL
at a random moment included), and a resume that refuses other parameters or data."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

import chainrule as cr
from chainrule import MLPClassifier, MLPRegressor
from chainrule.estimators import base


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


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


@pytest.mark.parametrize("weight", [-1.0, float("nan"), float("inf")])
def test_class_weight_must_be_finite_and_non_negative(weight):
    X, y = np.random.default_rng(0).normal(size=(20, 2)), np.arange(20) % 2
    clf = MLPClassifier((3,), max_iter=1, class_weight={0: 1.0, 1: weight})
    with pytest.raises(ValueError, match="class_weight must map classes to finite weights"):
        clf.fit(X, y)


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
