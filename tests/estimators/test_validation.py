"""``fit(X, y, X_val=, y_val=, sample_weight_val=)``: a validation set given by the caller (as
scikit-learn's ``HistGradientBoosting*`` name it), in place of early stopping's split."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.datasets import load_iris, make_regression
from sklearn.exceptions import ConvergenceWarning, UnsetMetadataPassedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from chainrule import MLPClassifier, MLPRegressor
from chainrule.persistence import read_archive

from rounding import U, rounding_bounds


@pytest.fixture(scope="module")
def halves():
    """Iris, scaled, in a training half and a validation half (every class in both)."""
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return X[::2], y[::2], X[1::2], y[1::2]


def _fit(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


PARAMS = dict(hidden_layer_sizes=(5,), activation="tanh", random_state=0)


def _hand_loss(clf, X, y) -> float:
    """The categorical cross-entropy of ``X``, ``y`` plus the L2 term, from the logits:
    ``mean_i (logsumexp(z_i) - z_(i, y_i)) + alpha / (2 n) sum_m ||W^m||^2``."""
    z = clf.network_.logits(X)
    top = z.max(axis=1)
    lse = top + np.log(np.exp(z - top[:, None]).sum(axis=1))
    codes = np.searchsorted(clf.classes_, y)
    penalty = clf.alpha / (2 * len(y)) * sum(float(np.sum(W * W)) for W in clf.network_.W)
    return float(np.mean(lse - z[np.arange(len(y)), codes]) + penalty)


def test_validation_scores_are_the_scores_of_each_epochs_weights(halves):
    """Without early stopping the set is recorded, not watched: epoch ``k``'s score and loss are
    those of the weights a fit of ``k`` epochs ends with (the same training: same weights)."""
    X, y, X_val, y_val = halves
    n_epochs = 6
    clf = _fit(MLPClassifier(max_iter=n_epochs, **PARAMS), X, y, X_val=X_val, y_val=y_val)
    assert len(clf.validation_scores_) == len(clf.validation_loss_curve_) == n_epochs
    assert clf.best_validation_score_ is None  # nothing watched it
    Y_val = clf.transform_labels(y_val)
    for k in range(1, n_epochs + 1):
        after_k = _fit(MLPClassifier(max_iter=k, **PARAMS), X, y)
        # the same forward pass on the same weights: the same accuracy
        assert clf.validation_scores_[k - 1] == after_k.score(X_val, y_val)
        # two float64 computations of the same cost, each within the bound of the exact one
        bound = rounding_bounds(after_k.network_, X_val, Y_val).cost
        hand = _hand_loss(after_k, X_val, y_val)
        assert abs(clf.validation_loss_curve_[k - 1] - hand) <= 2 * bound + 8 * U * abs(hand)
    # recorded only: every weight and the training curve are those of a fit without it
    plain = _fit(MLPClassifier(max_iter=n_epochs, **PARAMS), X, y)
    for W, W_plain in zip(clf.coefs_, plain.coefs_, strict=True):
        np.testing.assert_array_equal(W, W_plain)
    assert clf.loss_curve_ == plain.loss_curve_
    assert clf.best_loss_ == plain.best_loss_


def test_early_stopping_watches_the_given_set_and_does_not_split_X(halves):
    X, y, X_val, y_val = halves
    clf = MLPClassifier(early_stopping=True, max_iter=300, learning_rate_init=0.01, **PARAMS)
    _fit(clf, X, y, X_val=X_val, y_val=y_val, sample_weight_val=np.ones(len(y_val)))
    assert clf.n_iter_ < 300  # it stopped early
    # every row of X trained in every epoch: t_ counts the samples seen
    assert clf.t_ == clf.n_iter_ * len(X)
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    # the weights kept are the best epoch's, scored on the given set
    assert clf.score(X_val, y_val) == clf.best_validation_score_
    # validation_fraction is ignored (HistGradientBoosting's rule): no split, same fit
    other = clf.get_params() | {"validation_fraction": 0.5}
    same = _fit(MLPClassifier(**other), X, y, X_val=X_val, y_val=y_val)
    np.testing.assert_array_equal(same.coefs_[0], clf.coefs_[0])


def test_early_stopping_without_a_given_set_still_splits(halves):
    X, y, _, _ = halves
    clf = _fit(MLPClassifier(early_stopping=True, max_iter=5, **PARAMS), X, y)
    n_train = len(X) - int(np.ceil(0.1 * len(X)))  # train_test_split's rounding
    assert clf.t_ == clf.n_iter_ * n_train


def test_sample_weight_val_weighs_the_score(halves):
    X, y, X_val, y_val = halves
    sw = np.where(y_val == 0, 3.0, 1.0)
    clf = _fit(
        MLPClassifier(max_iter=3, **PARAMS), X, y, X_val=X_val, y_val=y_val, sample_weight_val=sw
    )
    assert clf.validation_scores_[-1] == clf.score(X_val, y_val, sample_weight=sw)


def test_sparse_validation_set_scores_as_dense(halves):
    X, y, X_val, y_val = halves
    dense = _fit(MLPClassifier(max_iter=4, **PARAMS), X, y, X_val=X_val, y_val=y_val)
    sparse = _fit(
        MLPClassifier(max_iter=4, **PARAMS),
        sp.csr_matrix(X),
        y,
        X_val=sp.csr_matrix(X_val),
        y_val=y_val,
    )
    assert sparse.validation_scores_ == dense.validation_scores_


def test_regressor_with_a_validation_set():
    X, y = make_regression(n_samples=120, n_features=4, noise=1.0, random_state=0)
    y = y / y.std()
    reg = MLPRegressor(early_stopping=True, max_iter=40, random_state=0, learning_rate_init=0.01)
    _fit(reg, X[:80], y[:80], X_val=X[80:], y_val=y[80:])
    assert reg.t_ == reg.n_iter_ * 80
    assert reg.score(X[80:], y[80:]) == reg.best_validation_score_
    with pytest.raises(ValueError, match="validation set"):
        reg.fit(X[:80], y[:80], X_val=X[80:], y_val=np.c_[y[80:], y[80:]])  # 2 outputs, not 1


def test_warm_start_takes_a_validation_set_with_fewer_classes(halves):
    """A validation set may hold a subset of the classes, also when warm starting (where the
    training ``y`` must keep every class)."""
    X, y, X_val, y_val = halves
    clf = MLPClassifier(max_iter=2, warm_start=True, **PARAMS)
    _fit(clf, X, y)
    some = y_val != 2
    _fit(clf, X, y, X_val=X_val[some], y_val=y_val[some])
    assert len(clf.validation_scores_) == 2


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"X_val": "X"}, "X_val is provided, but y_val was not provided"),
        ({"y_val": "y"}, "y_val is provided, but X_val was not provided"),
        ({"sample_weight_val": "w"}, "sample_weight_val is provided, but X_val and y_val"),
        ({"X_val": "X3", "y_val": "y"}, "X has 3 features, but MLPClassifier is expecting 4"),
        ({"X_val": "X", "y_val": "y9"}, r"y_val contains labels not in the training y: \[9\]"),
        ({"X_val": "X", "y_val": "y", "sample_weight_val": "w1"}, "sample_weight"),
        ({"X_val": "Xnan", "y_val": "y"}, "NaN"),
    ],
)
def test_bad_validation_sets_are_refused(halves, given, message):
    X, y, X_val, y_val = halves
    Xnan = X_val.copy()
    Xnan[3, 1] = np.nan
    values = {
        "X": X_val,
        "y": y_val,
        "X3": X_val[:, :3],
        "y9": np.r_[y_val[:-1], 9],
        "w": np.ones(len(y_val)),
        "w1": np.ones(3),
        "Xnan": Xnan,
    }
    kwargs = {name: values[key] for name, key in given.items()}
    with pytest.raises(ValueError, match=message):
        MLPClassifier(max_iter=1, **PARAMS).fit(X, y, **kwargs)


def test_lbfgs_refuses_a_validation_set(halves):
    X, y, X_val, y_val = halves
    with pytest.raises(ValueError, match="solver='lbfgs' has no epochs"):
        MLPClassifier(solver="lbfgs").fit(X, y, X_val=X_val, y_val=y_val)


def test_feature_names_of_the_validation_set_are_checked(halves):
    pd = pytest.importorskip("pandas")
    X, y, X_val, y_val = halves
    columns = ["a", "b", "c", "d"]
    # a scorer is called with X_val as given: a DataFrame of the fitted names
    clf = MLPClassifier(max_iter=2, early_stopping=True, scoring="accuracy", **PARAMS)
    frame, val_frame = pd.DataFrame(X, columns=columns), pd.DataFrame(X_val, columns=columns)
    _fit(clf, frame, y, X_val=val_frame, y_val=y_val)
    assert len(clf.validation_scores_) == clf.n_iter_
    with pytest.raises(ValueError, match="feature names"):
        clf.fit(frame, y, X_val=val_frame[columns[::-1]], y_val=y_val)


@pytest.mark.parametrize("in_process", [False, True])
def test_every_restart_uses_the_given_set(halves, in_process, monkeypatch):
    """``n_init`` runs as joblib tasks, or in this process (as with callbacks), all score the
    given set; run 0 is the ``n_init=1`` fit."""
    X, y, X_val, y_val = halves
    params = dict(early_stopping=True, max_iter=40, **PARAMS)
    single = _fit(MLPClassifier(**params), X, y, X_val=X_val, y_val=y_val)
    clf = MLPClassifier(n_init=3, **params)
    if in_process:
        monkeypatch.setattr(MLPClassifier, "_restarts_apply", lambda self: False)
    _fit(clf, X, y, X_val=X_val, y_val=y_val)
    assert clf.t_ == clf.n_iter_ * len(X)
    assert clf.score(X_val, y_val) == clf.best_validation_score_
    assert clf.best_validation_score_ >= single.best_validation_score_
    if clf.best_run_ == 0:
        np.testing.assert_array_equal(clf.coefs_[0], single.coefs_[0])


def test_grid_search_routes_the_validation_set(halves):
    """With metadata routing, ``X_val``/``y_val`` requested by ``set_fit_request`` reach each
    fit (scikit-learn's ``HistGradientBoosting*`` behaviour); unrequested, they are refused."""
    X, y, X_val, y_val = halves
    X_val, y_val = X_val[:70], y_val[:70]  # not len(X) rows: else CV would index them as X's
    with sklearn.config_context(enable_metadata_routing=True):
        est = MLPClassifier(early_stopping=True, max_iter=30, **PARAMS)
        with pytest.raises(UnsetMetadataPassedError):
            GridSearchCV(est, {"alpha": [1e-4, 1e-2]}, cv=2).fit(X, y, X_val=X_val, y_val=y_val)
        est = est.set_fit_request(X_val=True, y_val=True)
        search = GridSearchCV(est, {"alpha": [1e-4, 1e-2]}, cv=2)
        _fit(search, X, y, X_val=X_val, y_val=y_val)
    best = search.best_estimator_
    assert best.t_ == best.n_iter_ * len(X)
    assert best.score(X_val, y_val) == best.best_validation_score_


def test_pipeline_transforms_the_validation_set(halves):
    """``Pipeline(..., transform_input=["X_val"])`` scales ``X_val`` as it scales ``X``."""
    X, y, X_val, y_val = halves
    X, X_val = 10 * X + 3, 10 * X_val + 3
    with sklearn.config_context(enable_metadata_routing=True):
        mlp = MLPClassifier(early_stopping=True, max_iter=30, **PARAMS)
        mlp.set_fit_request(X_val=True, y_val=True)
        pipe = Pipeline([("scale", StandardScaler()), ("mlp", mlp)], transform_input=["X_val"])
        _fit(pipe, X, y, X_val=X_val, y_val=y_val)
    assert pipe.score(X_val, y_val) == pipe[-1].best_validation_score_


def test_checkpoint_does_not_store_the_validation_set(halves, tmp_path):
    """A checkpoint holds no validation rows; resuming with the same set is the uninterrupted
    fit, curves included."""
    X, y, X_val, y_val = halves
    path = tmp_path / "fit.crm"
    params = dict(max_iter=6, **PARAMS)
    whole = _fit(MLPClassifier(**params), X, y, X_val=X_val, y_val=y_val)
    _fit(MLPClassifier(**params | {"max_iter": 3}, checkpoint=path), X, y, X_val=X_val, y_val=y_val)
    _, arrays = read_archive(path)
    # no array of rows (X_val, its one-hot targets); the sample order is 1-D
    assert not [k for k, v in arrays.items() if v.ndim == 2 and len(v) == len(X_val)]
    resumed = _fit(
        MLPClassifier(**params, checkpoint=path, resume=True), X, y, X_val=X_val, y_val=y_val
    )
    assert resumed.validation_scores_ == whole.validation_scores_
    assert resumed.validation_loss_curve_ == whole.validation_loss_curve_
    np.testing.assert_array_equal(resumed.coefs_[0], whole.coefs_[0])


def test_validation_set_in_the_namespace_of_X(halves):
    """With ``array_api_dispatch``, a validation set of X's namespace scores as in NumPy (within
    tests/test_arrays.py's float64 tolerance of a fit in another namespace); one of another
    namespace is refused."""
    torch = pytest.importorskip("torch")
    X, y, X_val, y_val = halves
    expected = _fit(MLPClassifier(max_iter=5, **PARAMS), X, y, X_val=X_val, y_val=y_val)
    X_t, y_t, X_val_t, y_val_t = (torch.asarray(a) for a in (X, y, X_val, y_val))
    with sklearn.config_context(array_api_dispatch=True):
        model = _fit(MLPClassifier(max_iter=5, **PARAMS), X_t, y_t, X_val=X_val_t, y_val=y_val_t)
        with pytest.raises(ValueError, match="X_val must be of the namespace and on the device"):
            MLPClassifier(max_iter=1, **PARAMS).fit(X_t, y_t, X_val=X_val, y_val=y_val)
    np.testing.assert_allclose(model.validation_scores_, expected.validation_scores_, rtol=1e-7)
    np.testing.assert_allclose(
        model.validation_loss_curve_, expected.validation_loss_curve_, rtol=1e-7
    )


@pytest.mark.parametrize("given", [False, True])
def test_warm_start_from_a_fit_without_validation(halves, given):
    """Validation curves start at a warm start that adds them (a split, or a given set) and
    early stopping then watches the score (this crashed before the validation set existed)."""
    X, y, X_val, y_val = halves
    clf = _fit(MLPClassifier(max_iter=3, warm_start=True, **PARAMS), X, y)
    clf.set_params(early_stopping=True, max_iter=8)
    _fit(clf, X, y, **({"X_val": X_val, "y_val": y_val} if given else {}))
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
