"""scikit-learn's callbacks on a fit: a progress bar and a scoring monitor per epoch."""

from __future__ import annotations

import warnings

import pytest
from sklearn.exceptions import ConvergenceWarning

from chainrule import MLPClassifier


def test_callbacks_progress_bar_and_scoring_monitor(iris):
    pytest.importorskip("rich")
    from sklearn.callback import ProgressBar, ScoringMonitor

    X, y = iris
    monitor = ScoringMonitor(scoring="accuracy")
    clf = MLPClassifier((8,), max_iter=4, random_state=0).set_callbacks(ProgressBar(), monitor)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    rows = [r for r in monitor.get_logs().data if r.get("task_name") == "epoch"]
    assert len(rows) == 4 and all(0 <= r["accuracy"] <= 1 for r in rows)
