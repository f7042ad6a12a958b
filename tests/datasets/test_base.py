"""What every reader returns (:class:`chainrule.datasets.base.Dataset`)."""

from __future__ import annotations

import numpy as np

from chainrule.datasets.base import Dataset


def test_a_dataset_names_no_features_and_its_target_target_unless_told():
    X, y = np.zeros((2, 3)), np.array([0, 1])
    a, b = Dataset("a", X, y, "classification"), Dataset("b", X, y, "regression")
    assert (a.feature_names, a.target_name) == ([], "target")
    a.feature_names.append("x1")
    assert b.feature_names == []  # each its own list
