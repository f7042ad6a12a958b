"""The data sets the command line trains on (:mod:`chainrule.datasets`): each built-in one by
name with its task and feature names, the seed's XOR, CSV files by path, and an unknown name
refused with the names it could have been."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule import datasets


@pytest.mark.parametrize("name", sorted(datasets.BUILTIN))
def test_every_builtin_data_set_loads_with_its_task(name):
    data = datasets.load(name)
    assert data.name == name and data.task == datasets.BUILTIN[name]
    n, d = data.X.shape
    assert data.X.dtype == float and data.y.shape == (n,) and len(data.feature_names) == d
    if data.task == "classification":
        assert 2 <= len(np.unique(data.y)) <= 10
    else:
        assert len(np.unique(data.y)) > 20


def test_feature_names_are_the_data_sets_or_numbered():
    assert datasets.load("iris").feature_names[0] == "sepal length (cm)"
    assert datasets.load("moons").feature_names == ["x1", "x2"]
    X, y = datasets.xor()
    np.testing.assert_array_equal(X, [[0, 0], [1, 0], [0, 1], [1, 1]])
    assert y.tolist() == [0, 1, 1, 0]  # the seed's table


def test_a_path_is_a_csv_file_and_an_unknown_name_is_refused(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("y,a,b\n1,2.5,3\n0,4,5\n")
    data = datasets.load(str(path), target="y")
    assert data.feature_names == ["a", "b"] and data.y.tolist() == [1, 0]
    with pytest.raises(ValueError, match=r"unknown data set 'irises': give one of \['breast_"):
        datasets.load("irises")
