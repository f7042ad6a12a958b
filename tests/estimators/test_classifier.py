"""MLPClassifier's own behaviour: its targets (LabelBinarizer's), partial_fit's classes,
class_weight, multilabel."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning

from chainrule import MLPClassifier


@pytest.mark.parametrize(
    "y, classes",
    [
        ([2, 0, 1, 2, 1, 0, 2], None),
        ([1, 0, 0, 1, 1, 0, 1], None),  # binary: one column, 1 for the second class
        (["b", "a", "c", "a", "b", "c", "c"], None),
        (["no", "yes", "yes", "no", "no", "yes", "no"], None),
        ([0, 2, 2, 0, 2, 0, 0], [0, 1, 2]),  # partial_fit's classes: class 1 absent from y
        ([5, 7, 5, 7, 7, 5, 5], [5, 7]),
        ([[1], [0], [0], [1], [1], [0], [1]], None),  # a column vector
    ],
)
def test_targets_are_the_label_binarizers(y, classes):
    """The one-hot targets the network learns are LabelBinarizer's, in the network's dtype."""
    from sklearn.preprocessing import LabelBinarizer

    X = np.random.default_rng(0).normal(size=(7, 3))
    clf = MLPClassifier((3,), random_state=0)
    if classes:
        clf.partial_fit(X, y, classes=classes)
    else:
        clf.fit(X, y)
    expected = LabelBinarizer().fit(classes or np.ravel(y)).transform(np.ravel(y))
    for dtype in (np.float32, np.float64):
        Y = clf._encode_targets(np.ravel(y) if classes else np.asarray(y), False, None, dtype)
        assert Y.dtype == dtype
        np.testing.assert_array_equal(Y, expected)


def test_partial_fit_needs_classes_and_rejects_unknown_labels():
    X = np.random.default_rng(0).normal(size=(6, 2))
    with pytest.raises(ValueError, match="classes must be passed"):
        MLPClassifier().partial_fit(X, [0, 1, 0, 1, 0, 1])
    clf = MLPClassifier((3,)).partial_fit(X, [0, 1, 0, 1, 0, 1], classes=[0, 1, 2])
    assert clf.classes_.tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match=r"labels not seen.*\[5\]"):
        clf.partial_fit(X, [0, 1, 5, 1, 0, 1])


def test_partial_fit_multilabel():
    X, Y = make_multilabel_classification(60, 5, n_classes=4, random_state=0)
    clf = MLPClassifier((8,), random_state=0)
    for _ in range(3):
        clf.partial_fit(X, Y)
    # n_iter_ counts the epochs of the last call, t_ every sample seen (scikit-learn's)
    assert clf.predict(X).shape == (60, 4) and clf.n_iter_ == 1 and clf.t_ == 180


def test_class_weight_balanced_equals_the_sample_weight():
    X, y = make_classification(90, 4, weights=[0.8, 0.2], random_state=0)
    params = dict(hidden_layer_sizes=(5,), solver="lbfgs", random_state=0, max_iter=50)
    balanced = np.bincount(y).sum() / (2 * np.bincount(y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = MLPClassifier(**params, class_weight="balanced").fit(X, y)
        b = MLPClassifier(**params).fit(X, y, sample_weight=balanced[y])
    np.testing.assert_allclose(a.network_.theta, b.network_.theta, rtol=1e-10)


def test_multilabel_early_stopping_is_not_stratified(quiet_fit):
    X, Y = make_multilabel_classification(40, 5, n_classes=3, random_state=0)
    Y[0] = [1, 1, 1]  # a label combination seen once: a stratified split would fail
    clf = quiet_fit(MLPClassifier((4,), early_stopping=True, max_iter=3, random_state=0), X, Y)
    assert len(clf.validation_scores_) == clf.n_iter_
