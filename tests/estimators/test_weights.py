"""The fitted weights as scikit-learn's lists (coefs_, intercepts_): views of the network,
checked when assigned, and the facts derived from it (n_layers_, out_activation_)."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from chainrule import MLPClassifier


def test_fitted_attributes_and_views(iris):
    X, y = iris
    clf = MLPClassifier((8, 5), max_iter=30, random_state=0)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    for attr in (
        "classes_",
        "loss_",
        "best_loss_",
        "loss_curve_",
        "t_",
        "coefs_",
        "intercepts_",
        "n_features_in_",
        "n_iter_",
        "n_layers_",
        "n_outputs_",
        "out_activation_",
    ):
        assert hasattr(clf, attr), attr
    assert [c.shape for c in clf.coefs_] == [(4, 8), (8, 5), (5, 3)]
    assert clf.n_layers_ == 4 and clf.n_outputs_ == 3 and clf.out_activation_ == "softmax"
    assert clf.n_iter_ == 30 and len(clf.loss_curve_) == 30 and clf.t_ == 30 * len(y)
    clf.coefs_[0][0, 0] = 123.0  # coefs_ are views of the engine's W, not copies
    assert clf.network_.W[0][0, 0] == 123.0
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None


def test_assigned_weights_are_checked_and_written_into_the_network(iris, quiet_fit):
    X, y = iris
    clf = quiet_fit(MLPClassifier((5,), max_iter=5, random_state=0), X, y)
    before = clf.network_.theta.copy()
    with pytest.raises(ValueError, match=r"coefs_\[1\] has shape \(5, 2\); this network needs"):
        clf.coefs_ = [np.zeros((4, 5)), np.zeros((5, 2))]
    with pytest.raises(ValueError, match=r"intercepts_ has 1 arrays; this network has 2"):
        clf.intercepts_ = [np.zeros(5)]
    with pytest.raises(ValueError, match=r"coefs_\[0\] has dtype complex128"):
        clf.coefs_[0] = np.zeros((4, 5), dtype=complex)
    with pytest.raises(ValueError, match=r"n_layers_ is 3"):
        clf.n_layers_ = 4
    np.testing.assert_array_equal(clf.network_.theta, before)  # nothing written by a failure
    clf.coefs_[1] = np.ones((5, 3))  # item assignment writes into the network
    np.testing.assert_array_equal(clf.network_.W[1], np.ones((3, 5)))
    clf.intercepts_ = [np.zeros(5), np.arange(3.0)]
    np.testing.assert_array_equal(clf.network_.b[1], [0, 1, 2])
    assert len(clf.coefs_[:1]) == 1 and clf.out_activation_ == "softmax"


def test_fitted_weights_are_lists_as_scikit_learns(iris, quiet_fit):
    """User code written for scikit-learn's lists keeps working; a length change raises."""
    X, y = iris
    clf = quiet_fit(MLPClassifier((5,), max_iter=5, random_state=0), X, y)
    assert isinstance(clf.coefs_, list) and len(clf.coefs_ + clf.intercepts_) == 4
    saved = copy.deepcopy(clf.coefs_)  # a detached copy, as for scikit-learn's
    clf.coefs_[0][...] = 0.0
    assert type(saved) is list and np.abs(saved[0]).sum() > 0
    restored = pickle.loads(pickle.dumps(clf.intercepts_))
    assert type(restored) is list and restored[1].shape == (3,)
    clf.coefs_[:] = saved  # slice assignment writes every layer
    np.testing.assert_array_equal(clf.network_.W[0], saved[0].T)
    for change in (lambda c: c.append(saved[0]), lambda c: c.pop(), lambda c: c.__delitem__(0)):
        with pytest.raises(TypeError, match="its length cannot change"):
            change(clf.coefs_)
    assert len(clf.coefs_) == 2


def test_weights_assigned_before_partial_fit_are_its_starting_point():
    """scikit-learn's test_fit way: preset coefs_/intercepts_ on an unfitted model."""
    X = np.array([[0.6, 0.8, 0.7]])
    clf = MLPClassifier(
        hidden_layer_sizes=(2,), activation="logistic", solver="sgd", learning_rate_init=0.1,
        alpha=0.1, momentum=0, max_iter=1, batch_size=1,
    )  # fmt: skip
    clf.coefs_ = [np.array([[0.1, 0.2], [0.3, 0.1], [0.5, 0]]), np.array([[0.1], [0.2]])]
    clf.intercepts_ = [np.array([0.1, 0.1]), np.array([1.0])]
    assert clf.coefs_[1].tolist() == [[0.1], [0.2]]  # the list as given
    clf.partial_fit(X, [0], classes=[0, 1])
    assert clf.n_layers_ == 3 and clf.coefs_[0].shape == (3, 2)
    np.testing.assert_allclose(clf.coefs_[1][:, 0], [0.04706, 0.154089], atol=1e-3)  # as sklearn
