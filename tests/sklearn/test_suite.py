"""scikit-learn's own MLP tests, run against chainrule's estimators.

The test module shipped inside the installed scikit-learn
(``sklearn/neural_network/tests/test_mlp.py``) is loaded from its file, unchanged, as a new
module in which ``from sklearn.neural_network import MLPClassifier, MLPRegressor`` resolves to
:class:`chainrule.MLPClassifier` and :class:`chainrule.MLPRegressor`: its globals get their own
``__builtins__`` whose ``__import__`` answers that one import with chainrule's classes. Nothing
else is touched, so scikit-learn itself (and every other test in the session) still sees its own
MLP. Its ``test_*`` functions, with their parametrizations and marks, are re-exported here, where
pytest collects them (``tests/sklearn/test_suite.py::test_fit`` and so on).

The tests listed in :data:`PRIVATE` read scikit-learn's private attributes or methods, which a
different implementation need not have; they are skipped with the reason.
"""

from __future__ import annotations

import builtins
import importlib.machinery
import importlib.util
import os
import types

import pytest

import chainrule

#: the scikit-learn module whose tests run here, and the names substituted in it
SUITE = "sklearn.neural_network.tests.test_mlp"
SUBSTITUTED = {"MLPClassifier": chainrule.MLPClassifier, "MLPRegressor": chainrule.MLPRegressor}

#: tests that read scikit-learn's private internals, with the reason each is skipped
PRIVATE = {
    "test_gradient": (
        "calls the private method MLPClassifier._loss_grad_lbfgs(theta, X, Y, sample_weight, "
        "activations, deltas, coef_grads, intercept_grads) with scikit-learn's internal buffer "
        "layout; chainrule's gradients are checked against central differences and PyTorch "
        "in tests/test_network.py and tests/references/test_torch.py"
    ),
}


def _substitute(real_import):
    """An ``__import__`` that hands out chainrule's classes for ``sklearn.neural_network``."""

    def substituting_import(name, globals=None, locals=None, fromlist=(), level=0):
        module = real_import(name, globals, locals, fromlist, level)
        if name != "sklearn.neural_network" or level != 0 or not fromlist:
            return module
        view = types.ModuleType(name)
        view.__dict__.update({k: getattr(module, k) for k in fromlist if hasattr(module, k)})
        view.__dict__.update({k: v for k, v in SUBSTITUTED.items() if k in fromlist})
        return view

    return substituting_import


class SubstitutingLoader(importlib.machinery.SourceFileLoader):
    """Loads a source file as usual, but its imports go through :func:`_substitute`."""

    def exec_module(self, module: types.ModuleType) -> None:
        module.__builtins__ = {**vars(builtins), "__import__": _substitute(builtins.__import__)}
        super().exec_module(module)


def load_suite(name: str = SUITE) -> types.ModuleType:
    """scikit-learn's test module ``name``, executed with chainrule's classes substituted."""
    path = importlib.util.find_spec(name).origin
    loader = SubstitutingLoader(f"chainrule_suite.{name}", path)
    spec = importlib.util.spec_from_file_location(loader.name, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


suite = load_suite()
assert suite.MLPClassifier is chainrule.MLPClassifier
assert suite.MLPRegressor is chainrule.MLPRegressor


@pytest.fixture
def global_random_seed() -> int:
    """scikit-learn's fixture (its conftest): ``SKLEARN_TESTS_GLOBAL_RANDOM_SEED``, else 42."""
    return int(os.environ.get("SKLEARN_TESTS_GLOBAL_RANDOM_SEED", "42"))


for _name, _test in vars(suite).items():
    if _name.startswith("test_") and callable(_test):
        if _name in PRIVATE:
            _test = pytest.mark.skip(reason=PRIVATE[_name])(_test)
        globals()[_name] = _test
