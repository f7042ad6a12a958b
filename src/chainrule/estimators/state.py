"""Saving and loading the estimators (the payload protocol of :mod:`chainrule.persistence`),
and the training record published as fitted attributes."""

from __future__ import annotations

import os

import numpy as np
from sklearn.utils.validation import check_is_fitted

from chainrule.activations import Activation
from chainrule.costs import Cost
from chainrule.estimators.preflight import network_mismatch
from chainrule.persistence import ModelFormatError, network_from_payload, network_payload, save
from chainrule.training import PlateauMonitor, TrainingRecord, record_payload, restore_record

#: parameters naming a file the estimator writes: never restored from a model file
PATH_PARAMETERS = ("checkpoint",)

#: training-record fields and the fitted attributes they are published as
PUBLISHED = {
    "loss_curve": "loss_curve_",
    "validation_scores": "validation_scores_",
    "validation_loss_curve": "validation_loss_curve_",
    "n_iter": "n_iter_",
    "t": "t_",
    "steps": "_steps",
    "loss": "loss_",
    "best_loss": "best_loss_",
    "best_validation_score": "best_validation_score_",
    "optimizer": "_optimizer",  # scikit-learn's name; its learning_rate is read by its tests
}


def _rebuildable(net) -> bool:
    """Whether a network's payload rebuilds it (its activations and cost built in or
    registered); else it is pickled as the object."""
    try:
        network_from_payload(*network_payload(net))
    except (ModelFormatError, ValueError, TypeError):
        return False
    return True


#: fitted scalars that are counts (integers >= 0); the others are numbers (or None)
COUNTS = ("n_features_in_", "n_iter_", "t_", "best_run_")


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


def json_scalar(value):
    """A fitted scalar as JSON: numpy numbers become Python ones; inf stays a float."""
    return value.item() if isinstance(value, np.generic) else value


class ModelState:
    """Fitted state in and out (a mixin of :class:`~chainrule.estimators.base.BaseMLP`)."""

    def _publish(self, record: TrainingRecord) -> None:
        """Set the fitted attributes (``loss_curve_``, ``n_iter_``, ...) from ``record``."""
        self._record = record
        for field, attr in PUBLISHED.items():
            value = getattr(record, field)
            if value is not None or field != "loss":
                setattr(self, attr, value)

    @property
    def _no_improvement_count(self) -> int:
        """scikit-learn's name for the plateau monitor's count of epochs without improvement
        (its tests read it)."""
        record = self.__dict__.get("_record")
        if record is None:
            raise AttributeError("_no_improvement_count exists once training has started")
        return record.monitor.stale_epochs

    @_no_improvement_count.setter
    def _no_improvement_count(self, value: int) -> None:
        record = self.__dict__.get("_record")
        if record is not None:
            record.monitor.stale_epochs = int(value)
        elif value != 0:  # a fit starts counting from 0
            raise ValueError("_no_improvement_count can only be 0 before training starts")

    def _record_from_attributes(self, monitor, rng) -> TrainingRecord:
        """A training record that continues from the fitted attributes (a loaded model's)."""
        record = TrainingRecord(monitor=monitor, rng=rng)
        for field, attr in PUBLISHED.items():
            value = getattr(self, attr, None)
            if value is not None:
                setattr(record, field, list(value) if isinstance(value, list) else value)
        return record

    def __getstate__(self) -> dict:
        """Plain data only (numbers, strings, lists, dicts, arrays), so that skops trusts a
        pickled model without trusting chainrule's internal types: the network as its payload,
        the target encoding as its payload, the training record (optimizer moments, random
        state, plateau monitor) as :func:`~chainrule.training.record_payload`."""
        state = dict(super().__getstate__())
        for transient in ("_source", "_split_indices", "_optimizer", "_record"):
            state.pop(transient, None)
        net = state.get("network_")
        if net is not None and _rebuildable(net):
            state["network_"] = dict(zip(("meta", "arrays"), network_payload(net), strict=True))
        record = self.__dict__.get("_record")
        if record is not None:
            state["_record"] = dict(zip(("meta", "arrays"), record_payload(record), strict=True))
        if "_label_binarizer" in state:
            del state["_label_binarizer"]
            state["_target"] = dict(zip(("meta", "arrays"), self._target_payload(), strict=True))
        return state

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        net, record, target = (state.pop(k, None) for k in ("network_", "_record", "_target"))
        super().__setstate__(state)
        if isinstance(net, dict):
            net = network_from_payload(net["meta"], net["arrays"])
        if net is not None:
            self.network_ = net
        if target is not None:
            self._restore_target_encoding({"target": target["meta"]}, target["arrays"])
        if isinstance(record, TrainingRecord):  # a pickle written before plain-data state
            self._publish(record)
        elif record is not None:
            stochastic_early_stopping = self.early_stopping and self.solver != "lbfgs"
            monitor = PlateauMonitor(self.tol, higher_is_better=stochastic_early_stopping)
            rebuilt = self._record_from_attributes(monitor, None)
            optimizer = self._make_optimizer() if "optimizer" in record["meta"] else None
            restore_record(rebuilt, record["meta"], record["arrays"], optimizer)
            self._publish(rebuilt)

    #: fitted attributes saved as JSON, beside the arrays in _SAVED_ARRAYS
    _SAVED_SCALARS = (
        "n_features_in_",
        "n_iter_",
        "t_",
        "loss_",
        "best_loss_",
        "best_validation_score_",
        "best_run_",
    )
    _SAVED_ARRAYS = (
        "loss_curve_",
        "validation_scores_",
        "validation_loss_curve_",
        "feature_names_in_",
    )

    def save(self, path) -> None:
        """Write the fitted model to ``path`` in chainrule's safe, versioned format (atomically).

        ``chainrule.load(path)`` reads it back; predictions are bit-identical.
        """
        check_is_fitted(self, "network_")
        save(self, path)

    def _param_config(self) -> dict:
        """The parameters as JSON: Activation and Cost objects by their config."""
        params = {}
        for name, value in self.get_params().items():
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
            params[name] = value
        return params

    def to_payload(self) -> tuple[dict, dict]:
        """The model as ``(meta, arrays)`` for :func:`chainrule.persistence.save`."""
        params = self._param_config()
        net_meta, arrays = network_payload(self.network_)
        fitted = {a: json_scalar(getattr(self, a, None)) for a in self._SAVED_SCALARS}
        for name in self._SAVED_ARRAYS:
            value = getattr(self, name, None)
            if value is not None:
                # feature names are an object array in scikit-learn: stored as text, no pickle
                arrays[name] = np.asarray(value, dtype=str if name == "feature_names_in_" else None)
        target, target_arrays = self._target_payload()
        arrays.update(target_arrays)
        return {"params": params, "network": net_meta, "fitted": fitted, "target": target}, arrays

    @classmethod
    def from_payload(cls, meta: dict, arrays: dict):
        """The model that :meth:`to_payload` described. Path parameters (``checkpoint``) are
        not restored: a loaded model never writes to a path it was not given."""
        net = network_from_payload(meta["network"], arrays)
        params = dict(meta["params"])
        # an Activation or Cost object was stored as its config: take the one the network
        # rebuilt (registered user objects included)
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
        model = cls(**params)
        try:
            model._validate_params()  # scikit-learn's constraints, as fit checks them
        except (TypeError, ValueError) as e:
            raise ModelFormatError(f"invalid parameter: {e}") from e
        model.network_ = net
        fitted = meta["fitted"]
        if not isinstance(fitted, dict):
            raise ModelFormatError(f"the fitted attributes are not an object: {fitted!r:.80}")
        for name in cls._SAVED_SCALARS:  # only these: a file never sets other attributes
            if name in fitted and (
                fitted[name] is not None or name in ("best_loss_", "best_validation_score_")
            ):
                setattr(model, name, _checked_scalar(name, fitted[name]))
        for name in cls._SAVED_ARRAYS:
            if name in arrays:
                value = _checked_array(name, arrays[name])
                setattr(
                    model,
                    name,
                    value.astype(object) if name == "feature_names_in_" else value.tolist(),
                )
            elif name != "feature_names_in_":
                setattr(model, name, None)
        model._restore_target_encoding(meta, arrays)
        model._check_loaded_shapes()
        return model

    def _check_loaded_shapes(self) -> None:
        """A model file's fitted attributes must agree with its network."""
        sizes = self.network_.layer_sizes
        n_features = getattr(self, "n_features_in_", None)
        if n_features is not None and n_features != sizes[0]:
            raise ModelFormatError(
                f"n_features_in_={n_features} disagrees with the network's {sizes[0]} inputs "
                f"(W^1 has shape {self.network_.W[0].shape})"
            )
        names = getattr(self, "feature_names_in_", None)
        if names is not None and len(names) != sizes[0]:
            raise ModelFormatError(
                f"feature_names_in_ has {len(names)} names for the network's {sizes[0]} inputs"
            )
        self._check_target_shape(sizes[-1])
        # the parameters must ask for this network; its hidden sizes rule, since weights
        # assigned before a fit set them whatever hidden_layer_sizes says, as in scikit-learn
        net = self.network_
        try:
            asked = self._network_config(sizes[0], sizes[-1], self.dtype or net.dtype, sizes[1:-1])
        except ValueError as e:  # a classifier's output that gives no probability, say
            raise ModelFormatError(f"the parameters disagree with the network: {e}") from None
        mismatch = network_mismatch(net, asked)
        if mismatch is not None:
            name, have, wanted = mismatch
            raise ModelFormatError(
                f"the parameters disagree with the network: its {name} is {have}, the "
                f"parameters say {wanted}"
            )

    def _check_target_shape(self, n_outputs: int) -> None:
        """Raise ModelFormatError if the target encoding does not fit ``n_outputs`` outputs."""
        raise NotImplementedError

    def _target_payload(self) -> tuple[dict, dict]:
        """How targets are encoded, for :meth:`save`."""
        raise NotImplementedError

    def _restore_target_encoding(self, meta: dict, arrays: dict) -> None:
        raise NotImplementedError
