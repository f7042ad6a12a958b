"""Fixtures of the command-line tests: one model trained by ``chainrule train``, read by every
command's tests."""

from __future__ import annotations

import csv

import pytest
from sklearn.datasets import load_iris

from commands import run


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """A model trained by `chainrule train` on iris, and a CSV of iris with string labels."""
    out = tmp_path_factory.mktemp("iris")
    result = run(
        "train",
        "--data",
        "iris",
        "--hidden",
        "8",
        "--learning-rate",
        "0.01",
        "--quiet",
        "--out",
        out,
    )
    data = load_iris()
    path = out / "iris.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow([*data.feature_names, "species"])
        for row, t in zip(data.data, data.target, strict=True):
            w.writerow([*row, data.target_names[t]])
    return out, result, path
