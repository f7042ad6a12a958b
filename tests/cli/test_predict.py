"""``chainrule predict`` and ``evaluate`` (:mod:`chainrule.cli.predict`,
:mod:`chainrule.cli.evaluate`): predictions saved bit for bit, scores, outputs checked first."""

from __future__ import annotations

import csv
import os
import stat

import numpy as np
import pytest
from sklearn.datasets import load_iris

import chainrule as cr

from commands import run


def test_predict_and_evaluate(trained, tmp_path):
    out, _, path = trained
    pred = tmp_path / "pred.csv"
    run("predict", out / "model.crm", path, "--proba", "-o", pred)
    with pred.open() as f:
        rows = list(csv.reader(f))
    assert rows[0][:2] == ["prediction", "proba_0"] and len(rows) == 151
    assert sum(float(v) for v in rows[1][1:]) == pytest.approx(1.0, abs=1e-4)
    printed = run("predict", out / "model.crm", path).stdout.splitlines()
    assert printed[0] == "prediction" and len(printed) == 151
    # the iris CSV has string labels; the model learned integer ones: evaluate on a numeric copy
    numeric = tmp_path / "numeric.csv"
    with path.open() as f, numeric.open("w", newline="") as g:
        rows = list(csv.reader(f))
        names = list(load_iris().target_names)
        w = csv.writer(g)
        w.writerow(rows[0])
        for row in rows[1:]:
            w.writerow([*row[:-1], names.index(row[-1])])
    result = run("evaluate", out / "model.crm", numeric, "--target", "species")
    assert "accuracy" in result.stdout and "confusion matrix" in result.stdout


def test_saved_predictions_are_bit_identical(trained):
    out, _, _ = trained
    model = cr.load(out / "model.crm")
    again = cr.load(out / "model.crm")
    X = load_iris().data
    np.testing.assert_array_equal(model.predict_proba(X), again.predict_proba(X))


def test_predict_output_is_a_regular_file_checked_before_predicting(trained, tmp_path):
    out, _, iris = trained
    os.mkfifo(tmp_path / "fifo.csv")
    (tmp_path / "dir.csv").mkdir()
    for name, kind in [("fifo.csv", "is a FIFO"), ("dir.csv", "is a directory")]:
        result = run("predict", out, iris, "-o", tmp_path / name, check=False)
        assert result.returncode == 1 and kind in result.stderr, result.stderr
        assert len(result.stderr.splitlines()) == 1
    assert stat.S_ISFIFO((tmp_path / "fifo.csv").stat().st_mode)
    real, link = tmp_path / "real.csv", tmp_path / "link.csv"
    real.write_text("old")
    real.chmod(0o640)
    link.symlink_to(real)
    run("predict", out, iris, "-o", link)
    assert link.is_symlink() and len(real.read_text().splitlines()) == 151
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert sorted(os.listdir(tmp_path)) == ["dir.csv", "fifo.csv", "link.csv", "real.csv"]
