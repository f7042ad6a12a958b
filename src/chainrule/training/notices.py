"""Warnings that scikit-learn's MLP also issues, issued so that the filters written for it
catch chainrule's too."""

from __future__ import annotations

import inspect
import warnings

from sklearn.exceptions import ConvergenceWarning

#: the module scikit-learn's MLP warnings come from; ``warnings.filterwarnings(...,
#: module="sklearn")`` (scikit-learn's gallery) matches it
SKLEARN_MLP_MODULE = "sklearn.neural_network._multilayer_perceptron"


def warn_like_sklearn(message: str, category: type[Warning] = ConvergenceWarning) -> None:
    """Issue ``message`` under scikit-learn's MLP module name, at the caller's line (the first
    frame outside chainrule and scikit-learn, where the user called ``fit``), so that both
    ``category`` filters and ``module="sklearn"`` filters apply as to scikit-learn's MLP."""
    frame = inspect.currentframe().f_back
    while frame is not None and frame.f_globals.get("__name__", "").partition(".")[0] in (
        "chainrule",
        "sklearn",
    ):
        frame = frame.f_back
    if frame is None:
        filename, lineno, registry = "<chainrule>", 0, None
    else:
        filename, lineno = frame.f_code.co_filename, frame.f_lineno
        registry = frame.f_globals.setdefault("__warningregistry__", {})
    warnings.warn_explicit(
        message, category, filename, lineno, module=SKLEARN_MLP_MODULE, registry=registry
    )
