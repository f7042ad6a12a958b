"""warn_like_sklearn: chainrule's warnings as scikit-learn's filters see them."""

from __future__ import annotations

import warnings

import pytest
from sklearn.exceptions import ConvergenceWarning

from chainrule import MLPClassifier


def test_convergence_warning_and_verbose(iris, capsys):
    X, y = iris
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        MLPClassifier((4,), max_iter=3, verbose=True).fit(X, y)
    out = capsys.readouterr().out
    assert out.count("Iteration") == 3 and "loss = " in out


def test_convergence_warnings_pass_scikit_learns_filters(iris):
    """A filter written for scikit-learn's MLP (``module="sklearn"``, as its gallery does)
    catches chainrule's ConvergenceWarning; the warning points at the caller's line."""
    X, y = iris
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=ConvergenceWarning, module="sklearn")
        MLPClassifier((3,), max_iter=2).fit(X, y)
        MLPClassifier((3,), solver="lbfgs", max_iter=2).fit(X, y)
    assert caught == []
    with pytest.warns(ConvergenceWarning, match="Maximum iterations") as record:
        MLPClassifier((3,), max_iter=2).fit(X, y)
    assert record[0].filename == __file__
