"""The estimators' file formats (:mod:`chainrule.persistence.estimators`): one registry of
what may be restored, the wrapped model of ``Standardized`` included."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from chainrule import MLPRegressor, load
from chainrule.estimators import Standardized
from chainrule.persistence import ModelFormatError, model_class, register_model_class


class Wider(MLPRegressor):
    """A user's estimator class, registered for files."""


def test_a_wrapped_model_is_any_registered_class(tmp_path, monkeypatch):
    """``Standardized`` restores its model through the one registry: a registered class is
    restored, an unregistered kind is refused with the registry's message."""
    from chainrule.persistence import models

    monkeypatch.setattr(models, "_MODEL_CLASSES", dict(models._MODEL_CLASSES))
    register_model_class(Wider)
    X = np.random.default_rng(0).normal(size=(40, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter reached
        wrapped = Standardized.fit(Wider(hidden_layer_sizes=2, max_iter=3), X, X[:, 0])
    wrapped.save(tmp_path / "w.crm")
    again = load(tmp_path / "w.crm")
    assert type(again.model) is Wider
    np.testing.assert_array_equal(again.predict(X), wrapped.predict(X))
    del models._MODEL_CLASSES["Wider"]
    with pytest.raises(ModelFormatError, match="unknown kind 'Wider'"):
        load(tmp_path / "w.crm")


def test_model_class_names_the_known_kinds():
    assert model_class("MLPRegressor") is MLPRegressor
    with pytest.raises(ModelFormatError, match="known kinds: \\['Network', 'MLPClassifier'"):
        model_class("Mystery")
