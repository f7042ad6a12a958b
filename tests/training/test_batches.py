"""The minibatches' order (:mod:`chainrule.training.batches`): each epoch's shuffle is the one
scikit-learn's ``sklearn.utils.shuffle`` draws from the same generator."""

from __future__ import annotations

import numpy as np
from sklearn.utils import shuffle

from chainrule.training.batches import shuffle_order


def test_each_epochs_order_is_sklearns_shuffle_of_the_previous():
    ours, theirs = np.random.RandomState(0), np.random.RandomState(0)
    order = expected = np.arange(12)
    for _ in range(3):  # three epochs: each permutes the previous order
        order = shuffle_order(order, ours)
        expected = shuffle(expected, random_state=theirs)
        np.testing.assert_array_equal(order, expected)
    assert sorted(order) == list(range(12)) and not np.array_equal(order, np.arange(12))
