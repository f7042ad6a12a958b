"""Models in files: the registry of saveable classes, ``Network`` payloads, ``save`` and
``load``.

A saveable class has ``to_payload(self) -> (meta, arrays)`` and a classmethod
``from_payload(meta, arrays)`` and registers itself with :func:`register_model_class`; files
record it as ``kind = cls.__name__``. A :class:`~chainrule.Network` needs no registration.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from itertools import pairwise
from typing import Any, BinaryIO

import numpy as np

from chainrule._arrays import device_namespace, to_numpy
from chainrule.activations import activation_names, get_activation
from chainrule.costs import cost_names, get_cost
from chainrule.network import Network, dropout_rates
from chainrule.persistence.format import DEFAULT_MAX_BYTES, ModelFormatError
from chainrule.persistence.reader import declared, describe, open_archive
from chainrule.persistence.writer import write_archive

__all__ = [
    "load",
    "model_class",
    "network_from_payload",
    "network_payload",
    "register_model_class",
    "save",
]

_MODEL_CLASSES: dict[str, type] = {}
# what a loader raises on a payload of the wrong shape (a list for an object, a missing key...)
_MALFORMED = (
    LookupError,
    TypeError,
    ValueError,
    AttributeError,
    ArithmeticError,
    MemoryError,
    RecursionError,
)


def register_model_class(cls: type) -> type:
    """Make ``cls`` loadable by :func:`load`; returns ``cls`` (usable as a decorator).

    ``cls`` needs ``to_payload(self) -> (meta, arrays)`` and a classmethod
    ``from_payload(meta, arrays)``; files record it as ``kind = cls.__name__``.
    """
    if not isinstance(cls, type):
        raise TypeError(f"expected a class, got {type(cls).__name__}")
    for method in ("to_payload", "from_payload"):
        if not callable(getattr(cls, method, None)):
            raise TypeError(f"{cls.__name__} has no {method} method")
    if cls.__name__ == "Network":
        raise ValueError("the kind 'Network' is reserved for chainrule.Network")
    _MODEL_CLASSES[cls.__name__] = cls
    return cls


def model_class(kind: str) -> type:
    """The registered class that files of ``kind`` hold (:func:`register_model_class`); the
    one registry of what may be restored. ModelFormatError for an unknown kind."""
    if kind not in _MODEL_CLASSES:
        raise ModelFormatError(
            f"a model of unknown kind {kind!r} (known kinds: "
            f"{['Network', *sorted(_MODEL_CLASSES)]}); import the module that defines it "
            "(chainrule.estimators for chainrule's estimators, which chainrule.load imports), "
            f"or call chainrule.persistence.register_model_class({kind}) first"
        )
    return _MODEL_CLASSES[kind]


# -- Network payloads --------------------------------------------------------------------------


def network_payload(net: Network) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """A network's ``(meta, arrays)``: its config and its flat weights ``theta``.

    The arrays are the network's own buffers, not copies (host copies of a network that
    lives in another array namespace or on a device: the file format is the same).
    """
    return {"config": net.get_config()}, {"theta": to_numpy(net.theta)}


def network_from_payload(meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Network:
    """Rebuild the :class:`~chainrule.Network` that :func:`network_payload` described.

    Raises
    ------
    ModelFormatError
        If the payload is malformed, holds weights that are not finite, or names an activation
        or cost that is neither built in nor registered.
    """
    config = meta.get("config")
    if not isinstance(config, dict):
        raise ModelFormatError("the Network payload has no 'config' object")
    missing = {"layer_sizes", "activation", "output_activation", "cost", "alpha", "dtype"}
    missing -= set(config)
    if missing:
        raise ModelFormatError(f"the Network config lacks {sorted(missing)}")
    sizes = config["layer_sizes"]
    if not (
        isinstance(sizes, list)
        and len(sizes) >= 2
        and all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in sizes)
    ):
        raise ModelFormatError(f"invalid layer_sizes {sizes!r}")
    dtype = config["dtype"]
    if dtype not in ("float32", "float64"):
        raise ModelFormatError(f"invalid dtype {dtype!r}; expected 'float32' or 'float64'")
    # the parameter count W^m and b^m imply, checked against what the file declares before
    # theta is read (or anything of that size allocated)
    n_params = sum(n_out * n_in + n_out for n_in, n_out in pairwise(sizes))
    shape, found = declared(arrays, "theta") or (None, None)
    if shape != (n_params,):
        raise ModelFormatError(
            f"theta must have shape ({n_params},) for layer_sizes {sizes}, got {shape}"
        )
    if found != np.dtype(dtype):
        raise ModelFormatError(f"theta has dtype {found}, the config says {dtype}")
    theta = arrays["theta"]
    if not np.isfinite(theta).all():
        bad = int(np.flatnonzero(~np.isfinite(theta))[0])
        raise ModelFormatError(f"theta holds a non-finite weight ({theta[bad]} at index {bad})")
    hidden = config["activation"]
    if not isinstance(hidden, list) or len(hidden) != len(sizes) - 2:
        raise ModelFormatError(f"expected {len(sizes) - 2} hidden activations, got {hidden!r}")
    # files written before l1_ratio have the L2 term alone; Network checks the ranges
    penalty = {"alpha": config["alpha"], "l1_ratio": config.get("l1_ratio", 0.0)}
    for name, value in penalty.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ModelFormatError(f"invalid {name} {value!r}")
    acts = [_component(get_activation, activation_names, spec, "activation") for spec in hidden]
    output = _component(get_activation, activation_names, config["output_activation"], "activation")
    cost = _component(get_cost, cost_names, config["cost"], "cost")
    try:  # dropout's rates while training (in files of networks that drop units)
        dropout = dropout_rates(config.get("dropout", 0.0), len(sizes) - 2)
    except (TypeError, ValueError) as e:
        raise ModelFormatError(f"invalid dropout {config.get('dropout')!r}: {e}") from e
    net = Network(
        sizes, activation=acts, output_activation=output, cost=cost, dtype=dtype, **penalty
    )
    net.dropout = dropout
    net.theta[...] = theta
    return net


def _component(getter, names, spec, what: str):
    """An activation or cost from its stored config, with advice when its name is unknown."""
    name = spec.get("name") if isinstance(spec, dict) else spec
    if not isinstance(name, str):
        raise ModelFormatError(f"invalid {what} config {spec!r}")
    if name not in names():
        raise ModelFormatError(
            f"the model uses the {what} {name!r}, which is neither built in nor registered: "
            f"call chainrule.register_{what}(...) with it before loading "
            f"(known {what}s: {names()})"
        )
    try:
        return getter(spec)
    except (TypeError, ValueError) as e:
        raise ModelFormatError(f"invalid {what} config {spec!r}: {e}") from e


# -- save and load -----------------------------------------------------------------------------


def save(model: Any, path: str | os.PathLike | BinaryIO) -> None:
    """Write ``model`` to ``path``, a path (atomically: a failed save leaves the old file
    whole) or a writable binary file object (see :func:`write_archive`).

    ``model`` is a :class:`~chainrule.Network` or an instance of a class registered with
    :func:`register_model_class`.
    """
    if hasattr(model, "to_payload"):
        kind = type(model).__name__
        if _MODEL_CLASSES.get(kind) is not type(model):
            raise ValueError(
                f"{kind} is not registered, so a saved file could not be loaded: "
                f"call chainrule.persistence.register_model_class({kind}) first"
            )
        meta, arrays = model.to_payload()
    elif isinstance(model, Network):
        kind = "Network"
        meta, arrays = network_payload(model)
    else:
        raise TypeError(f"cannot save a {type(model).__name__}: it has no to_payload method")
    if "kind" in meta:
        raise ValueError("the payload's meta may not hold a 'kind' key (save sets it)")
    write_archive(path, {"kind": kind, **meta}, arrays)


def load(
    path: str | os.PathLike | BinaryIO,
    *,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    device: Any = None,
) -> Any:
    """Read a model that :func:`save` wrote.

    Parameters
    ----------
    path : path or binary file object
    max_bytes : int or None, default=DEFAULT_MAX_BYTES (1 GiB)
        Refuse files whose declared arrays add up to more than this many bytes; ``None`` lifts
        the cap (for a file you trust). Only the arrays the model uses are read.
    device : str or torch.device, optional
        Load the weights as torch tensors on this device (``"cpu"``, ``"cuda"``, ``"mps"``):
        the model then predicts on torch input under scikit-learn's
        ``array_api_dispatch=True``. By default NumPy arrays. A float64 model becomes float32
        on a device without float64.

    Raises
    ------
    ModelFormatError
        If the file is damaged, hostile, from a newer chainrule, or of an unknown kind.
    """
    with open_archive(path, max_bytes=max_bytes) as (meta, arrays):
        kind = meta.pop("kind")
        where = describe(path)
        if kind == "Network":
            loader = network_from_payload
        else:
            try:
                loader = model_class(kind).from_payload
            except ModelFormatError as e:
                raise ModelFormatError(f"{where} holds {e}") from None
        try:
            model = loader(meta, arrays)
        except ModelFormatError as e:
            message = str(e)  # the reader's own messages already name the file
            raise ModelFormatError(message if where in message else f"{where}: {message}") from e
        except _MALFORMED as e:
            raise ModelFormatError(f"{where}: invalid {kind} payload: {e!r}") from e
    if device is None:
        return model
    return _moved(model, *device_namespace(device))


def _moved(model: Any, xp, where) -> Any:
    """``model`` with its networks (its own, or a wrapped model's) moved to ``xp``, ``where``."""
    if isinstance(model, Network):
        return model.to(xp, where)
    for holder in (model, getattr(model, "model", None)):
        if isinstance(getattr(holder, "network_", None), Network):
            holder.network_ = holder.network_.to(xp, where)
    return model
