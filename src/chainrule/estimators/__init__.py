"""``MLPClassifier`` and ``MLPRegressor``: the seed's ``MLP`` class behind the scikit-learn
interface, as drop-in replacements for :mod:`sklearn.neural_network`; and ``Standardized``.

Every parameter of scikit-learn 1.9's MLP keeps its name, meaning and default. Beyond it:
per-layer and user-supplied activations, ``output_activation``, the regressor's ``loss``,
``n_init`` restarts from several initial weights (the seed: "training several networks using
a range of starting values"), ``init``, ``class_weight``, ``scoring`` for early stopping,
``validation_loss_curve_``, ``dtype``, and scikit-learn 1.9 callbacks.

``fit`` walks down the layers once: validate and encode (:mod:`.inputs`, the subclasses) -> the
training loop (:mod:`chainrule.training`) -> the engine, and back with the fitted state.
"""

from chainrule.estimators.classifier import MLPClassifier
from chainrule.estimators.regressor import MLPRegressor
from chainrule.estimators.standardized import Standardized
from chainrule.persistence import register_model_class

register_model_class(MLPClassifier)
register_model_class(MLPRegressor)
register_model_class(Standardized)

__all__ = ["MLPClassifier", "MLPRegressor", "Standardized"]
