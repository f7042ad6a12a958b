"""``chainrule data NAME`` (:mod:`chainrule.cli.data`): a built-in data set as CSV, its
features then its target, the numbers reading back as the same floats."""

from __future__ import annotations

import numpy as np

from chainrule import datasets
from chainrule.datasets import read_csv

from commands import call


def test_the_csv_reads_back_as_the_data_set_bit_for_bit(tmp_path, capsys):
    path = tmp_path / "iris.csv"
    status, _, err = call(capsys, "data", "iris", "-o", path)
    assert status == 0 and f"wrote iris to {path}: 150 rows, 4 feature columns" in err
    expected, read = datasets.load("iris"), read_csv(path)
    assert read.feature_names == expected.feature_names
    np.testing.assert_array_equal(read.X, expected.X)
    np.testing.assert_array_equal(read.y, expected.y)
    status, out, _ = call(capsys, "data", "iris")  # no -o: standard output, the same text
    assert status == 0 and out == path.read_text()
