"""MLPClassifier and MLPRegressor: scikit-learn compatibility, hand-worked steps, extras."""

from __future__ import annotations

import pickle
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import make_classification, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.inspection import permutation_importance
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import (
    check_sample_weight_equivalence_on_dense_data,
    parametrize_with_checks,
)

import chainrule as cr
from chainrule import MLPClassifier, MLPRegressor
from chainrule.estimators.inputs import hidden_layer_sizes
from chainrule.training import EpochRunner

from rounding import assert_same_objective, rounding_bounds, starting_objectives


@parametrize_with_checks([MLPClassifier(max_iter=100), MLPRegressor(max_iter=100)])
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


@pytest.mark.parametrize(
    "estimator",
    [
        MLPClassifier(solver="lbfgs", max_iter=100),
        MLPRegressor(solver="sgd", tol=1e-2, random_state=42, max_iter=100),
    ],
)
def test_sample_weight_equivalence_with_sklearns_parameters(estimator):
    """scikit-learn runs this check on its own MLPs with these parameters."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check_sample_weight_equivalence_on_dense_data(type(estimator).__name__, estimator)


# -- drop-in: the same parameters, methods and attributes as scikit-learn ---------------------


@pytest.mark.parametrize(
    "ours,theirs", [("MLPClassifier", "MLPClassifier"), ("MLPRegressor", "MLPRegressor")]
)
def test_every_sklearn_parameter_keeps_its_name_and_default(ours, theirs):
    import sklearn.neural_network as skn

    sk_params = getattr(skn, theirs)().get_params()
    our_params = getattr(cr, ours)().get_params()
    for name, default in sk_params.items():
        assert name in our_params, name
        assert our_params[name] == default, name


def test_binary_multiclass_multilabel_and_regression_outputs():
    X, y = make_classification(120, 6, n_informative=4, random_state=0)
    clf = MLPClassifier((10,), solver="lbfgs", random_state=0).fit(X, y)
    assert clf.out_activation_ == "logistic" and clf.predict_proba(X).shape == (120, 2)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), clf.predict_proba(X))
    Xm, Ym = make_multilabel_classification(100, 6, n_classes=3, random_state=0)
    ml = MLPClassifier((10,), solver="lbfgs", max_iter=300, random_state=0).fit(Xm, Ym)
    assert ml.predict(Xm).shape == (100, 3) and ml.out_activation_ == "logistic"
    reg = MLPRegressor(hidden_layer_sizes=(10,), solver="lbfgs", random_state=0).fit(
        X, np.c_[X[:, 0], X[:, 1]]
    )
    assert reg.predict(X).shape == (120, 2)
    assert MLPRegressor(hidden_layer_sizes=(5,), max_iter=5).fit(X, X[:, 0]).predict(X).shape == (
        120,
    )


def test_sparse_input_gives_the_dense_result(iris, monkeypatch):
    """Sparse X computes the same math as dense X: only the summation order of the products
    with X (``z^1 = W^1 a^0 + b^1`` and ``dC/dW^1 = delta^1 a^0T``) differs. Each result is
    within the running error bound of :func:`rounding.rounding_bounds` of the exact value (about
    1e-13 of the values here), so sparse and dense differ by at most twice that bound: the cost
    and gradient L-BFGS starts from, at the same initial weights, and the probabilities of one
    fitted model. (The weights after a fit are not compared: L-BFGS amplifies a rounding
    difference by a factor nothing bounds.)"""
    X, y = iris
    X = np.where(np.abs(X) < 0.5, 0.0, X)  # a third of the entries zero: a sparse product
    seen = starting_objectives(monkeypatch)
    dense = MLPClassifier((8, 5), activation="tanh", solver="lbfgs", random_state=0, max_iter=5)
    sparse = clone(dense)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dense.fit(X, y)
        sparse.fit(sp.csr_matrix(X), y)
    (net, from_dense), (net_s, from_sparse) = seen
    np.testing.assert_array_equal(net_s.theta, net.theta)  # the same starting point
    Y = np.eye(3)[y]
    assert_same_objective(from_sparse, from_dense, rounding_bounds(net, X, Y))
    E_proba = rounding_bounds(dense.network_, X, Y).a
    proba = dense.predict_proba(X)
    for given in (sp.csr_matrix(X), sp.csc_matrix(X)):
        assert np.all(np.abs(dense.predict_proba(given) - proba) <= 2 * E_proba)


def test_works_inside_sklearn_tools(iris):
    X, y = iris
    pipe = make_pipeline(StandardScaler(), MLPClassifier((8,), solver="lbfgs", random_state=0))
    assert cross_val_score(pipe, X, y, cv=3).mean() > 0.9
    grid = GridSearchCV(
        MLPClassifier(solver="lbfgs", random_state=0, max_iter=200),
        {"hidden_layer_sizes": [(4,), (8,)], "activation": ["tanh", "logistic"]},
        cv=3,
        n_jobs=2,
    ).fit(X, y)
    assert grid.best_score_ > 0.9
    clf = MLPClassifier((8,), solver="lbfgs", random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert clone(clf).get_params() == clf.get_params() and not hasattr(clone(clf), "network_")
    cal = CalibratedClassifierCV(MLPClassifier((8,), solver="lbfgs", random_state=0), cv=3)
    assert cal.fit(X, y).predict_proba(X).shape == (150, 3)
    result = permutation_importance(clf, X, y, n_repeats=3, random_state=0)
    assert result.importances_mean.shape == (4,) and result.importances_mean.max() > 0.05


# -- hand-worked partial_fit steps -----------------------------------------------------------


def _one_step(solver, **params):
    """partial_fit on one full batch, and the network it started from."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(12, 3)), np.arange(12) % 3
    est = MLPClassifier(
        (4,),
        activation="tanh",
        solver=solver,
        batch_size=12,
        shuffle=False,
        learning_rate_init=0.1,
        alpha=0.01,
        random_state=7,
        **params,
    )
    start = cr.Network(
        [3, 4, 3],
        activation="tanh",
        output_activation="softmax",
        cost="categorical_cross_entropy",
        alpha=0.01,
        random_state=7,
    )
    _, g = start.cost_and_gradient(X, np.eye(3)[y])
    est.coefs_ = [W.T.copy() for W in start.W]  # scikit-learn's way of presetting weights
    est.intercepts_ = [b.copy() for b in start.b]
    est.partial_fit(X, y, classes=[0, 1, 2])
    return est, start.theta, g


def test_partial_fit_sgd_step_is_the_seed_momentum_rule():
    est, theta, g = _one_step("sgd", momentum=0.9, nesterovs_momentum=False)
    # Delta w^1 = -eta dC/dw + alpha * 0; w <- w + Delta w^1
    np.testing.assert_allclose(est.network_.theta, theta - 0.1 * g, rtol=1e-12)


def test_partial_fit_nesterov_step():
    est, theta, g = _one_step("sgd", momentum=0.9, nesterovs_momentum=True)
    v = -0.1 * g
    np.testing.assert_allclose(est.network_.theta, theta + 0.9 * v - 0.1 * g, rtol=1e-12)


def test_partial_fit_adam_step():
    est, theta, g = _one_step("adam")
    m, v = 0.1 * g, 0.001 * g * g
    eta_1 = 0.1 * np.sqrt(1 - 0.999) / (1 - 0.9)
    np.testing.assert_allclose(
        est.network_.theta, theta - eta_1 * m / (np.sqrt(v) + 1e-8), rtol=1e-10
    )


@pytest.mark.parametrize("Model", [MLPClassifier, MLPRegressor])
def test_partial_fit_does_not_exist_for_lbfgs(Model):
    assert not hasattr(Model(solver="lbfgs"), "partial_fit")
    with pytest.raises(AttributeError, match="partial_fit"):
        Model(solver="lbfgs").partial_fit(np.zeros((3, 2)), np.zeros(3))
    assert hasattr(Model(solver="sgd"), "partial_fit")


# -- beyond scikit-learn ------------------------------------------------------------------------


def test_n_init_first_run_is_the_single_run_and_best_wins(iris):
    X, y = iris
    params = dict(hidden_layer_sizes=(3,), max_iter=40, random_state=3, activation="tanh")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        single = MLPClassifier(**params).fit(X, y)
        runs = [MLPClassifier(**params, n_init=k).fit(X, y) for k in (1, 2, 4)]
    np.testing.assert_array_equal(runs[0].network_.theta, single.network_.theta)
    losses = [r.loss_ for r in runs]
    assert losses[0] >= losses[1] >= losses[2]  # more restarts never end worse
    assert runs[2].best_run_ in range(4)
    if runs[2].best_run_ == 0:
        assert runs[2].loss_ == single.loss_


def test_n_init_with_early_stopping_keeps_the_best_validation_score(iris):
    X, y = iris
    params = dict(hidden_layer_sizes=(4,), max_iter=60, random_state=0, early_stopping=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        one = MLPClassifier(**params).fit(X, y)
        three = MLPClassifier(**params, n_init=3).fit(X, y)
    assert three.best_validation_score_ >= one.best_validation_score_


def test_per_layer_and_user_activations_and_output_activation(iris):
    X, y = iris
    swish = cr.Activation(
        "swish_test",
        lambda z: z / (1 + np.exp(-z)),
        lambda z: (1 + np.exp(-z) + z * np.exp(-z)) / (1 + np.exp(-z)) ** 2,
    )
    clf = MLPClassifier((6, 5), activation=["tanh", swish], solver="lbfgs", random_state=0).fit(
        X, y
    )
    assert [a.name for a in clf.network_.activations] == ["tanh", "swish_test", "softmax"]
    assert clf.score(X, y) > 0.9
    with pytest.raises(ValueError, match="one per hidden layer"):
        MLPClassifier((6, 5), activation=["tanh"]).fit(X, y)
    reg = MLPRegressor(hidden_layer_sizes=(4,), output_activation="softplus", max_iter=5).fit(X, y)
    assert reg.out_activation_ == "softplus" and (reg.predict(X) > 0).all()


def test_float32_stays_float32_and_float64_y_does_not_upcast():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)).astype(np.float32), rng.normal(size=40)  # y float64
    reg = MLPRegressor(hidden_layer_sizes=(5,), max_iter=3).fit(X, y)
    assert reg.network_.dtype == np.float32 and reg.predict(X).dtype == np.float32
    assert reg.coefs_[0].dtype == np.float32
    assert (
        MLPRegressor(hidden_layer_sizes=(5,), max_iter=3).fit(X.astype(int), y).network_.dtype
        == np.float64
    )
    forced = MLPRegressor(hidden_layer_sizes=(5,), max_iter=3, dtype="float32").fit(
        X.astype(np.float64), y
    )
    assert forced.network_.dtype == np.float32


def test_invscaling_counts_samples_seen():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(100, 2)), rng.normal(size=100)
    reg = MLPRegressor(
        hidden_layer_sizes=(3,),
        solver="sgd",
        learning_rate="invscaling",
        batch_size=10,
        learning_rate_init=0.1,
        power_t=0.5,
        max_iter=2,
        shuffle=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
    # 2 epochs of 100 samples: eta = 0.1 / (t_ + 1)^0.5 with t_ = 200, as scikit-learn
    assert reg.t_ == 200
    assert reg._optimizer.learning_rate == 0.1 / (200 + 1) ** 0.5


def test_adaptive_learning_rate_divides_by_five():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 2)), rng.normal(size=60)
    reg = MLPRegressor(
        hidden_layer_sizes=(3,),
        solver="sgd",
        learning_rate="adaptive",
        tol=10.0,
        n_iter_no_change=1,
        max_iter=5,
        learning_rate_init=0.01,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
    assert reg._record.optimizer.learning_rate < 0.01 / 4


def test_early_stopping_curves_scoring_and_best_weights(iris):
    X, y = iris
    clf = MLPClassifier(
        (8,),
        early_stopping=True,
        scoring="loss",
        random_state=0,
        max_iter=300,
        validation_fraction=0.2,
    )
    clf.fit(X, y)
    assert len(clf.validation_scores_) == len(clf.validation_loss_curve_) == clf.n_iter_
    np.testing.assert_allclose(clf.validation_scores_, -np.asarray(clf.validation_loss_curve_))
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.best_loss_ is None
    f1 = MLPClassifier((8,), early_stopping=True, scoring="f1_macro", random_state=0, max_iter=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        f1.fit(X, y)
    assert 0 < f1.best_validation_score_ <= 1


def test_early_stopping_restores_the_best_weights():
    # few noisy samples and a wide network: the validation loss turns up after a while
    X, y = make_classification(80, 10, flip_y=0.3, random_state=0)
    clf = MLPClassifier(
        hidden_layer_sizes=(64,),
        early_stopping=True,
        scoring="loss",
        tol=0.0,
        random_state=0,
        n_iter_no_change=3,
        max_iter=500,
        learning_rate_init=0.05,
        validation_fraction=0.3,
    )
    clf.fit(X, y)
    assert clf.n_iter_ < 500
    best_epoch = int(np.argmax(clf.validation_scores_)) + 1
    # with tol=0 it stops after n_iter_no_change + 1 epochs without a better score ...
    assert best_epoch == clf.n_iter_ - 4
    # ... and goes back to the weights of the best epoch
    np.testing.assert_array_equal(clf.network_.theta, clf._record.monitor.best_theta)
    assert clf._record.monitor.best_epoch == best_epoch


def test_keyboard_interrupt_keeps_the_best_weights(iris, monkeypatch):
    X, y = iris
    clf = MLPClassifier((8,), random_state=0, max_iter=50)
    original = EpochRunner.run
    calls = {"n": 0}

    def interrupt_at_epoch_6(self, *args):
        calls["n"] += 1
        if calls["n"] == 6:
            raise KeyboardInterrupt
        return original(self, *args)

    monkeypatch.setattr(EpochRunner, "run", interrupt_at_epoch_6)
    with pytest.warns(UserWarning, match="interrupted after 5 epochs.*best weights"):
        clf.fit(X, y)
    assert clf.n_iter_ == 5 and np.isfinite(clf.network_.theta).all()
    np.testing.assert_array_equal(clf.network_.theta, clf._record.monitor.best_theta)
    assert clf.predict(X).shape == (150,)


def test_quality_matches_sklearn_on_two_data_sets():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    try:
        import quality
    finally:
        sys.path.pop(0)
    for name in ("iris", "breast_cancer"):
        scores = quality.cv_scores(name)
        assert scores["chainrule"] >= scores["scikit-learn"] - 0.01, (name, scores)


def test_same_hyper_parameters_as_sklearn_give_a_comparable_fit(iris):
    X, y = iris
    ours = MLPClassifier((10,), solver="lbfgs", random_state=0).fit(X, y)
    theirs = SkMLPClassifier((10,), solver="lbfgs", random_state=0).fit(X, y)
    assert ours.score(X, y) >= theirs.score(X, y) - 0.02


@pytest.mark.parametrize(
    "params,match",
    [
        ({"hidden_layer_sizes": (0,)}, "hidden_layer_sizes"),
        ({"learning_rate_init": 0.0}, "learning_rate_init"),
        ({"momentum": 1.5}, "momentum"),
        ({"solver": "newton"}, "solver"),
        ({"activation": "swishy"}, "unknown activation 'swishy'"),
    ],
)
def test_bad_parameters_are_named(params, match, iris):
    X, y = iris
    with pytest.raises(ValueError, match=match):
        MLPClassifier(**params).fit(X, y)


@pytest.mark.parametrize(
    "estimator",
    [
        MLPClassifier((8,), activation="tanh", max_iter=20, random_state=0),
        MLPClassifier((8,), activation=cr.Sigmoid(2.0), solver="sgd", max_iter=5, random_state=0),
        MLPClassifier((8,), solver="lbfgs", random_state=0),
        MLPRegressor(
            loss=cr.costs.Huber(2.0),
            hidden_layer_sizes=(3,),
            early_stopping=True,
            max_iter=5,
            random_state=0,
        ),
    ],
)
def test_skops_round_trip_trusts_only_chainrule_classes(estimator, iris, tmp_path):
    sio = pytest.importorskip("skops.io")
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y if isinstance(estimator, MLPClassifier) else X[:, 0])
    path = tmp_path / "model.skops"
    sio.dump(estimator, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted and all(name.startswith("chainrule.") for name in untrusted), untrusted
    again = sio.load(path, trusted=untrusted)
    np.testing.assert_array_equal(again.predict(X), estimator.predict(X))
    assert again.network_.activations == estimator.network_.activations
    assert np.shares_memory(again.network_.W[0], again.network_.theta)


# -- scikit-learn's ways, item 2 and 8 of issue 12 -----------------------------------------------


@pytest.mark.parametrize(
    "change, named",
    [
        ({"hidden_layer_sizes": (7, 2)}, r"hidden_layer_sizes is \(5,\), .* ask for \(7, 2\)"),
        ({"hidden_layer_sizes": 6}, r"hidden_layer_sizes is \(5,\), .* ask for \(6,\)"),
        ({"activation": "tanh"}, r"activation is \['relu'\], .* ask for \['tanh'\]"),
        ({"dtype": "float32"}, r"dtype is 'float64', .* ask for 'float32'"),
        ({"output_activation": "sigmoid"}, r"output_activation is 'softmax', .* 'sigmoid'"),
    ],
)
@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
def test_continuing_a_fit_with_another_architecture_raises(iris, change, named, how, quiet_fit):
    """warm_start and partial_fit continue the fitted network: parameters asking for another
    one raise (scikit-learn's MLP fails on new sizes with a shape error) instead of training
    the old network silently."""
    X, y = iris
    clf = quiet_fit(MLPClassifier((5,), max_iter=5, random_state=0, warm_start=True), X, y)
    before = clf.network_.theta.copy()
    clf.set_params(**change)
    with pytest.raises(ValueError, match=named):
        clf.partial_fit(X, y) if how == "partial_fit" else clf.fit(X, y)
    np.testing.assert_array_equal(clf.network_.theta, before)
    clf.set_params(warm_start=False)
    assert list(quiet_fit(clf, X, y).network_.layer_sizes[1:-1]) == hidden_layer_sizes(
        clf.hidden_layer_sizes
    )


def test_continuing_a_fit_with_another_loss_raises_and_a_new_alpha_applies(iris, quiet_fit):
    X, y = iris
    reg = MLPRegressor(hidden_layer_sizes=(5,), max_iter=5, random_state=0, warm_start=True)
    quiet_fit(reg, X, y)
    with pytest.raises(ValueError, match=r"loss is 'squared_error', .* ask for 'poisson'"):
        reg.set_params(loss="poisson").fit(X, y)
    reg.set_params(loss="squared_error", alpha=0.5)  # no change of network: applies
    assert quiet_fit(reg, X, y).network_.alpha == 0.5
    with_dtype = quiet_fit(MLPClassifier((5,), max_iter=5, warm_start=True), X, y)
    quiet_fit(with_dtype.set_params(dtype="float64", activation=["relu"]), X, y)  # the same


def test_early_stopping_is_ignored_by_lbfgs(iris, quiet_fit):
    X, y = iris
    kw = dict(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=30, random_state=0)
    plain = quiet_fit(MLPClassifier(**kw), X, y)
    flagged = quiet_fit(MLPClassifier(early_stopping=True, validation_fraction=0, **kw), X, y)
    np.testing.assert_array_equal(flagged.network_.theta, plain.network_.theta)
    assert flagged.validation_scores_ is None


def test_skops_trusts_only_the_estimator_class_and_the_optimizer_survives(iris, quiet_fit):
    sio = pytest.importorskip("skops.io")
    X, y = iris
    clf = quiet_fit(MLPClassifier((5,), max_iter=5, random_state=0), X, y)
    data = sio.dumps(clf)
    assert sio.get_untrusted_types(data=data) == ["chainrule.estimators.classifier.MLPClassifier"]
    loaded = sio.loads(data, trusted=["chainrule.estimators.classifier.MLPClassifier"])
    pickled = pickle.loads(pickle.dumps(clf))
    for model in (clf, loaded, pickled):
        model.partial_fit(X, y)  # adam's moments and step count carry over
    np.testing.assert_array_equal(loaded.network_.theta, clf.network_.theta)
    np.testing.assert_array_equal(pickled.network_.theta, clf.network_.theta)


def test_html_repr_links_to_chainrules_docs():
    from sklearn.utils import estimator_html_repr

    link = MLPRegressor()._get_doc_link()
    assert link.startswith("https://") and link.endswith("/api/chainrule.MLPRegressor.html")
    assert link in estimator_html_repr(MLPRegressor())


def test_a_state_holding_objects_still_unpickles(iris, quiet_fit):
    """Pickles written before the plain-data state held the network and the training record
    as objects: they load the same."""
    X, y = iris
    clf = quiet_fit(MLPClassifier((3,), max_iter=3, random_state=0), X, y)
    old = MLPClassifier.__new__(MLPClassifier)
    old.__setstate__(dict(vars(clf)))
    np.testing.assert_array_equal(old.predict_proba(X), clf.predict_proba(X))
    assert old._optimizer is clf._optimizer
