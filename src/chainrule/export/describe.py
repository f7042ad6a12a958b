"""What an ONNX graph needs to know about a fitted chainrule model, read from public attributes.

:func:`describe` turns a fitted :class:`~chainrule.MLPClassifier` or
:class:`~chainrule.MLPRegressor` into an :class:`MLPSpec`: the weights ``W^m`` (as ``coefs_``,
shape ``(N^(m-1), N^m)``), the biases ``b^m``, each layer's activation config, the kind of output
and the class labels, all NumPy arrays on the host whatever arrays (torch, CuPy) the model was
fitted on.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.utils.validation import check_is_fitted

from chainrule._arrays import is_numpy
from chainrule.activations import get_activation
from chainrule.estimators import MLPClassifier, MLPRegressor, Standardized

#: the activations an ONNX graph can compute, by their config name
CONVERTIBLE_ACTIVATIONS = (
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "softplus",
    "identity",
    "exponential",
    "softmax",
)


@dataclass(frozen=True)
class MLPSpec:
    """A fitted network as the converter sees it.

    ``kind`` is ``"regressor"``, ``"binary"`` (one sigmoid output unit, two classes),
    ``"multiclass"`` or ``"multilabel"``.
    """

    coefs: list[np.ndarray]
    intercepts: list[np.ndarray]
    activations: list[dict]
    kind: str
    classes: np.ndarray | None = None

    @property
    def dtype(self) -> np.dtype:
        """The precision the network computes in (float32 or float64)."""
        return self.coefs[0].dtype

    @property
    def n_features(self) -> int:
        return self.coefs[0].shape[0]

    @property
    def n_outputs(self) -> int:
        """Columns of the probabilities (classifiers) or of the predictions (regressors)."""
        if self.kind == "binary":
            return 2
        return self.coefs[-1].shape[1]


def n_features(model) -> int:
    """The number of input features of a fitted chainrule model (checked: an error names what is
    missing)."""
    if isinstance(model, Standardized):
        check_model(model.model)
        return len(model.mean)
    check_model(model)
    return model.n_features_in_


def check_model(model) -> None:
    """A TypeError unless ``model`` is a chainrule MLP; scikit-learn's NotFittedError unless it
    is fitted."""
    if not isinstance(model, MLPClassifier | MLPRegressor):
        raise TypeError(
            f"to_onnx converts chainrule's MLPClassifier, MLPRegressor and Standardized models; "
            f"got {type(model).__name__}"
        )
    check_is_fitted(model)


def describe(model) -> MLPSpec:
    """The :class:`MLPSpec` of a fitted chainrule MLP, or an error naming what is missing."""
    check_model(model)
    model = on_host(model)
    activations = _layer_activations(model)
    coefs, intercepts = list(model.coefs_), list(model.intercepts_)
    if isinstance(model, MLPRegressor):
        return MLPSpec(coefs, intercepts, activations, "regressor")
    return MLPSpec(coefs, intercepts, activations, _classifier_kind(model), model.classes_)


def on_host(model):
    """``model`` itself when its network holds NumPy arrays, else a copy whose network does (a
    model fitted on torch or CuPy tensors); the model itself is left as it is."""
    if is_numpy(model.network_.theta):
        return model
    host = copy.copy(model)
    host.network_ = model.network_.to(np)
    return host


def _layer_activations(model) -> list[dict]:
    """The config of ``sigma^m`` for every layer, the output's last."""
    n_hidden = len(model.coefs_) - 1
    hidden = model.activation
    hidden = list(hidden) if isinstance(hidden, list | tuple) else [hidden] * n_hidden
    output = model.output_activation
    output = get_activation(model.out_activation_ if output is None else output)
    if output.name != get_activation(model.out_activation_).name or len(hidden) != n_hidden:
        raise ValueError(
            f"{type(model).__name__}'s activation parameters no longer match its fitted network "
            "(set_params after fit?); fit it again before exporting"
        )
    configs = [get_activation(spec).get_config() for spec in hidden] + [output.get_config()]
    for m, config in enumerate(configs, start=1):
        if config["name"] not in CONVERTIBLE_ACTIVATIONS:
            raise ValueError(
                f"layer {m}'s activation {config['name']!r} has no ONNX form; to_onnx converts "
                f"the built-in activations {list(CONVERTIBLE_ACTIVATIONS)}"
            )
    return configs


def _classifier_kind(model) -> str:
    if model.n_outputs_ == 1:
        return "binary"
    # a multilabel classifier predicts a 0/1 indicator row per sample, the others one label
    probe = np.zeros((1, model.n_features_in_), dtype=model.coefs_[0].dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "X does not have valid feature names"
        return "multilabel" if np.ndim(model.predict(probe)) == 2 else "multiclass"
