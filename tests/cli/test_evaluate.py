"""``chainrule evaluate`` (:mod:`chainrule.cli.evaluate`): the model's scores on a labelled CSV,
its columns taken by the names the model learned, whatever their order in the file."""

from __future__ import annotations

import csv

from sklearn.datasets import load_iris

from commands import call


def _numeric_iris(path, order):
    """Iris with integer labels (what the model learned) in its first column, ``target`` (not
    the last, which read_csv would take), the feature columns in ``order``."""
    data = load_iris()
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["target", *(data.feature_names[i] for i in order)])
        for row, t in zip(data.data, data.target, strict=True):
            w.writerow([t, *(row[i] for i in order)])
    return path


def test_the_columns_are_the_learned_ones_in_any_order_and_the_target_the_trained_one(
    trained, tmp_path, capsys
):
    out, _, _ = trained
    as_trained = _numeric_iris(tmp_path / "a.csv", [0, 1, 2, 3])
    reordered = _numeric_iris(tmp_path / "b.csv", [3, 1, 0, 2])
    status, first, _ = call(capsys, "evaluate", out / "model.crm", as_trained)
    assert status == 0 and "150 samples from" in first and "accuracy" in first
    status, second, _ = call(capsys, "evaluate", out / "model.crm", reordered)
    assert status == 0
    assert first.splitlines()[1:] == second.splitlines()[1:]  # the same scores
