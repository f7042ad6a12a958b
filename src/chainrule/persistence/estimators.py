"""The estimators' model files: their parameters as JSON, their network, their fitted scalars
and curves, each read back checked (a file never sets an attribute that is not listed here).

The estimator's target encoding (a classifier's classes, a regressor's ``y`` shape) is its own:
it hands it over as ``(meta, arrays)`` and reads it back from ``meta["target"]``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping

import numpy as np

from chainrule.activations import Activation
from chainrule.costs import Cost
from chainrule.network import Network
from chainrule.persistence.format import ModelFormatError
from chainrule.persistence.models import model_class, network_from_payload, network_payload
from chainrule.persistence.reader import declared
from chainrule.persistence.records import record_payload

#: parameters naming a file the estimator writes: never restored from a model file
PATH_PARAMETERS = ("checkpoint",)

#: fitted attributes saved as JSON, beside the arrays in :data:`FITTED_ARRAYS`
FITTED_SCALARS = (
    "n_features_in_",
    "n_iter_",
    "t_",
    "loss_",
    "best_loss_",
    "best_validation_score_",
    "best_run_",
)
FITTED_ARRAYS = (
    "loss_curve_",
    "validation_scores_",
    "validation_loss_curve_",
    "feature_names_in_",
)

#: fitted scalars that are counts (integers >= 0); the others are numbers (or None)
COUNTS = ("n_features_in_", "n_iter_", "t_", "best_run_")


def json_scalar(value):
    """A fitted scalar as JSON: numpy numbers become Python ones; inf stays a float."""
    return value.item() if isinstance(value, np.generic) else value


def param_config(params: dict) -> dict:
    """Estimator parameters as JSON: Activation and Cost objects by their config; a ValueError
    for a Python callable, which a file cannot hold."""
    config = {}
    for name, value in params.items():
        if isinstance(value, Activation | Cost):
            value = value.get_config()
        elif isinstance(value, list | tuple) and name == "activation":
            value = [a.get_config() if isinstance(a, Activation) else a for a in value]
        elif isinstance(value, os.PathLike):
            value = os.fspath(value)
        elif isinstance(value, np.random.Generator | np.random.RandomState):
            value = None  # a generator's state is not part of the model
        elif callable(value):
            named = "a named schedule such as 'cosine'" if name == "learning_rate" else None
            raise ValueError(
                f"{name}={value!r} is a Python callable, which a model file cannot hold "
                f"(loading never runs code); use {named or 'a scorer name'} instead"
            )
        config[name] = value
    return config


def estimator_payload(estimator, target: tuple[dict, dict]) -> tuple[dict, dict]:
    """A fitted estimator as ``(meta, arrays)``: its parameters, network, fitted attributes
    and ``target``, its target encoding's ``(meta, arrays)``."""
    params = param_config(estimator.get_params())
    net_meta, arrays = network_payload(estimator.network_)
    fitted = {a: json_scalar(getattr(estimator, a, None)) for a in FITTED_SCALARS}
    for name in FITTED_ARRAYS:
        value = getattr(estimator, name, None)
        if value is not None:
            # feature names are an object array in scikit-learn: stored as text, no pickle
            arrays[name] = np.asarray(value, dtype=str if name == "feature_names_in_" else None)
    target_meta, target_arrays = target
    arrays.update(target_arrays)
    meta = {"params": params, "network": net_meta, "fitted": fitted, "target": target_meta}
    return meta, arrays


def estimator_fields(meta: dict, arrays) -> tuple[dict, Network, dict]:
    """What :func:`estimator_payload` wrote: ``(params, network, fitted)``, the parameters
    with the network's own activation and cost objects for those stored as configs and no
    path parameter (a loaded model never writes to a path it was not given), and the fitted
    attributes checked (ModelFormatError naming a bad one)."""
    net = network_from_payload(meta["network"], arrays)
    params = dict(meta["params"])
    hidden = params.get("activation")
    if isinstance(hidden, dict):
        params["activation"] = net.activations[0]
    elif isinstance(hidden, list):
        params["activation"] = [
            act if isinstance(v, dict) else v
            for v, act in zip(hidden, net.activations[:-1], strict=True)
        ]
    if isinstance(params.get("output_activation"), dict):
        params["output_activation"] = net.activations[-1]
    if isinstance(params.get("loss"), dict):
        params["loss"] = net.cost_function
    for name in PATH_PARAMETERS:
        params[name] = None
    stored = meta["fitted"]
    if not isinstance(stored, dict):
        raise ModelFormatError(f"the fitted attributes are not an object: {stored!r:.80}")
    fitted = {}
    for name in FITTED_SCALARS:
        if name in stored and (
            stored[name] is not None or name in ("best_loss_", "best_validation_score_")
        ):
            fitted[name] = _checked_scalar(name, stored[name])
    for name in FITTED_ARRAYS:
        if name in arrays:
            value = _checked_array(name, arrays[name])
            fitted[name] = value.astype(object) if name == "feature_names_in_" else value.tolist()
        elif name != "feature_names_in_":
            fitted[name] = None
    _check_inputs(fitted, net)
    return params, net, fitted


def checked_classes(classes: np.ndarray, y_type) -> tuple[np.ndarray, str]:
    """A classifier's saved ``classes_`` and target type, checked: distinct, finite, sorted
    labels (output unit ``k`` is the ``k``-th) of a known type; else ModelFormatError."""
    if y_type not in ("binary", "multiclass", "multilabel-indicator"):
        raise ModelFormatError(f"unknown target type {y_type!r}")
    if classes.ndim != 1 or len(np.unique(classes)) != len(classes):
        raise ModelFormatError(f"classes_ must be distinct labels, got {classes[:10]!r}")
    if classes.dtype.kind == "f" and not np.isfinite(classes).all():
        raise ModelFormatError("classes_ holds NaN or an infinity")
    if not (classes[:-1] < classes[1:]).all():
        raise ModelFormatError(f"classes_ must be sorted, got {classes[:10]!r}")
    return classes, y_type


def _checked_scalar(name: str, value):
    """A fitted scalar read from a model file: a count, or a number (None for the best
    scores); else ModelFormatError naming it."""
    if name in COUNTS:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ModelFormatError(f"{name} must be an integer >= 0, got {value!r:.80}")
    elif isinstance(value, bool) or not isinstance(value, int | float | None):
        raise ModelFormatError(f"{name} must be a number, got {value!r:.80}")
    return value


def _checked_array(name: str, value: np.ndarray) -> np.ndarray:
    """A fitted array read from a model file: 1-D, of text for ``feature_names_in_`` and of
    numbers for the curves; else ModelFormatError naming it."""
    kinds = "U" if name == "feature_names_in_" else "iuf"
    if value.ndim != 1 or value.dtype.kind not in kinds:
        what = "text" if kinds == "U" else "numbers"
        raise ModelFormatError(
            f"{name} must be a 1-D array of {what}, got a {value.dtype} array of shape "
            f"{value.shape}"
        )
    return value


def _check_inputs(fitted: dict, net: Network) -> None:
    """The fitted number of features and feature names must agree with the network."""
    n_inputs = net.layer_sizes[0]
    n_features = fitted.get("n_features_in_")
    if n_features is not None and n_features != n_inputs:
        raise ModelFormatError(
            f"n_features_in_={n_features} disagrees with the network's {n_inputs} inputs "
            f"(W^1 has shape {net.W[0].shape})"
        )
    names = fitted.get("feature_names_in_")
    if names is not None and len(names) != n_inputs:
        raise ModelFormatError(
            f"feature_names_in_ has {len(names)} names for the network's {n_inputs} inputs"
        )


def rebuildable(net: Network) -> bool:
    """Whether a network's payload rebuilds it (its activations and cost built in or
    registered); else a pickle holds it as the object."""
    try:
        network_from_payload(*network_payload(net))
    except (ModelFormatError, ValueError, TypeError):
        return False
    return True


def as_plain(meta_and_arrays: tuple[dict, dict]) -> dict:
    """A payload as the plain ``{"meta": ..., "arrays": ...}`` a pickle holds (skops trusts
    plain data)."""
    return dict(zip(("meta", "arrays"), meta_and_arrays, strict=True))


# -- a model behind feature standardisation (chainrule.Standardized) ---------------------------


def standardized_payload(model, mean, scale, info: dict) -> tuple[dict, dict]:
    """A registered ``model`` behind the scaling ``(x - mean) / scale`` as ``(meta, arrays)``:
    the model's own payload under ``model``, its arrays prefixed ``model.``."""
    inner_meta, inner_arrays = model.to_payload()
    arrays = {f"{WRAPPED}{k}": v for k, v in inner_arrays.items()}
    arrays.update({"mean": mean, "scale": scale})
    meta = {"model_kind": type(model).__name__, "model": inner_meta, "info": info}
    return meta, arrays


def standardized_fields(meta: dict, arrays) -> tuple[object, np.ndarray, np.ndarray, dict]:
    """What :func:`standardized_payload` wrote: ``(model, mean, scale, info)``, the model of
    a registered class (the one registry, :func:`~chainrule.persistence.models.model_class`)."""
    cls = model_class(meta["model_kind"])
    inner = _Prefixed(arrays, WRAPPED)  # looked up lazily: unused arrays are never read
    model = cls.from_payload(meta["model"], inner)
    n = model.network_.layer_sizes[0]
    mean, scale = (_scaling(arrays[name], name, n) for name in ("mean", "scale"))
    if not (scale > 0).all():
        raise ModelFormatError(f"scale must be positive, got {float(scale[~(scale > 0)][0])}")
    return model, mean, scale, meta.get("info")


#: the prefix of a wrapped model's arrays
WRAPPED = "model."


def _scaling(value: np.ndarray, name: str, n_features: int) -> np.ndarray:
    """A loaded ``mean`` or ``scale``: ``n_features`` finite numbers, else ModelFormatError."""
    if value.dtype.kind not in "iuf" or value.shape != (n_features,):
        raise ModelFormatError(
            f"{name} must hold {n_features} numbers (one per feature), got a {value.dtype} "
            f"array of shape {value.shape}"
        )
    if not np.isfinite(value).all():
        raise ModelFormatError(f"{name} holds a non-finite value ({value[~np.isfinite(value)][0]})")
    return value.astype(float)


class _Prefixed(Mapping):
    """The arrays of ``arrays`` whose names start with ``prefix``, by their names without it;
    nothing is read until it is looked up."""

    def __init__(self, arrays: Mapping, prefix: str) -> None:
        self._arrays, self._prefix = arrays, prefix

    def __getitem__(self, name: str) -> np.ndarray:
        return self._arrays[self._prefix + name]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._prefix + name in self._arrays

    def __iter__(self) -> Iterator[str]:
        return (k.removeprefix(self._prefix) for k in self._arrays if k.startswith(self._prefix))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def declared(self, name: str):
        return declared(self._arrays, self._prefix + name)


def pickled_state(state: dict, record, target: tuple[dict, dict] | None) -> dict:
    """An estimator's pickled ``state`` in plain data only (numbers, strings, lists, dicts,
    arrays), so that skops trusts it without trusting chainrule's types: the network, the
    training ``record`` and the ``target`` encoding as their payloads."""
    net = state.get("network_")
    if net is not None and rebuildable(net):
        state["network_"] = as_plain(network_payload(net))
    if record is not None:
        state["_record"] = as_plain(record_payload(record))
    if target is not None:
        state["_target"] = as_plain(target)
    return state


def unpickled_state(state: dict) -> tuple[dict, Network | None, object, dict | None]:
    """What :func:`pickled_state` made: ``(state, network, record, target)``, the record a
    payload (or a record object, in a pickle written before plain-data state)."""
    state = dict(state)
    net, record, target = (state.pop(k, None) for k in ("network_", "_record", "_target"))
    if isinstance(net, dict):
        net = network_from_payload(net["meta"], net["arrays"])
    return state, net, record, target
