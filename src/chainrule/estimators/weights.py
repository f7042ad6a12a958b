"""The initial weights (scikit-learn's draws, or weights assigned before the fit) and the
fitted weights in scikit-learn's orientation, settable as in scikit-learn:
``coefs_[i]`` is ``W^(i+1)`` transposed, ``(N^i, N^(i+1))``; ``intercepts_[i]`` is ``b^(i+1)``."""

from __future__ import annotations

import numpy as np

from chainrule._arrays import device, is_numpy, move, namespace, numpy_dtype, to_numpy
from chainrule.initializers import draw_layer
from chainrule.network import Network

#: scikit-learn's names for the output activations it uses
SKLEARN_OUTPUT_NAMES = {"sigmoid": "logistic", "exponential": "exp"}


class LayerWeights(list):
    """The live list ``coefs_`` (``kind="coefs"``) or ``intercepts_`` of a network: a list (as
    scikit-learn's, so ``coefs_ + intercepts_`` and friends work) whose entries are views into
    the network; assigning an entry checks its shape and writes it in. Changing the list's
    length would leave the network behind, so it raises instead."""

    def __init__(self, net, kind: str) -> None:
        views = [W.T for W in net.W] if kind == "coefs" else list(net.b)
        super().__init__(views)
        self.kind = kind

    def __setitem__(self, i, value) -> None:
        if isinstance(i, slice):
            indices = range(len(self))[i]
            values = list(value)
            if len(values) != len(indices):
                self._refuse()
            for j, v in zip(indices, values, strict=True):
                self[j] = v
            return
        target = self[i]
        target[...] = checked_layer(value, target, f"{self.kind}_[{i}]")

    def _refuse(self, *args, **kwargs):
        raise TypeError(
            f"{self.kind}_ has one array per layer of the network: assign entries or the whole "
            f"list (model.{self.kind}_ = [...]), its length cannot change"
        )

    def __reduce_ex__(self, protocol):
        # copies and pickles are plain lists of arrays, detached from the network
        return list, (list(self),)

    append = extend = insert = pop = remove = clear = sort = reverse = _refuse
    __delitem__ = __iadd__ = __imul__ = _refuse


def checked_layer(value, target: np.ndarray, name: str) -> np.ndarray:
    """``value`` as an array that may replace ``target``: same shape, real numbers that cast to
    the network's dtype without changing kind; else a ValueError naming the entry."""
    array = to_numpy(value)  # checked on the host, whatever its namespace
    dtype = numpy_dtype(target.dtype)
    if array.dtype.kind not in "biuf" or not np.can_cast(array.dtype, dtype, "same_kind"):
        raise ValueError(
            f"{name} has dtype {array.dtype}; this network needs real numbers ({dtype})"
        )
    if array.shape != tuple(target.shape):
        raise ValueError(f"{name} has shape {array.shape}; this network needs {target.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} holds infinite or NaN values")
    if is_numpy(target):
        return array
    return move(array.astype(dtype), namespace(target), device(target))  # where the network is


def set_layers(net, kind: str, values) -> None:
    """Write the list ``values`` into the network's ``coefs_`` or ``intercepts_`` (all checked
    before any is written, so a bad entry leaves the network whole)."""
    if not isinstance(values, list | tuple | LayerWeights):
        raise ValueError(f"{kind}_ must be a list of arrays, got {type(values).__name__}")
    layers = LayerWeights(net, kind)
    if len(values) != len(layers):
        raise ValueError(
            f"{kind}_ has {len(values)} arrays; this network has {len(layers)} layers of weights"
        )
    arrays = [checked_layer(v, layers[i], f"{kind}_[{i}]") for i, v in enumerate(values)]
    for i, array in enumerate(arrays):
        layers[i][...] = array


class LayerList:
    """The fitted attribute ``coefs_`` or ``intercepts_`` (a descriptor, named by the attribute
    it is assigned to). Before a fit, assigned values are kept as given (scikit-learn's way of
    presetting weights for ``partial_fit`` or a warm start: :func:`preset_weights`); after,
    they come from ``network_`` and assigning them writes into it."""

    def __set_name__(self, owner, name: str) -> None:
        self.kind = name.rstrip("_")
        self.key = f"_preset_{self.kind}"  # no trailing _: check_is_fitted ignores it

    def __get__(self, estimator, owner=None):
        if estimator is None:
            return self
        net = vars(estimator).get("network_")
        if net is not None:
            return LayerWeights(net, self.kind)
        pending = vars(estimator).get(self.key)
        if pending is None:
            raise AttributeError(f"{owner.__name__} has no {self.kind}_ before it is fitted")
        return pending

    def __set__(self, estimator, values) -> None:
        net = vars(estimator).get("network_")
        if net is None:
            vars(estimator)[self.key] = values  # kept as given, used by the next fit
        else:
            set_layers(net, self.kind, values)


class NetworkFact:
    """A fitted attribute that the network fixes (``n_layers_``, ``n_outputs_``,
    ``out_activation_``: a descriptor): ``derive(network_)``. Before a fit an assigned value
    is kept (the fit sets the real one); after, it may only be assigned its own value."""

    def __init__(self, derive, doc: str) -> None:
        self.derive, self.__doc__ = derive, doc

    def __set_name__(self, owner, name: str) -> None:
        self.name, self.key = name, f"_preset_{name.rstrip('_')}"

    def __get__(self, estimator, owner=None):
        if estimator is None:
            return self
        net = vars(estimator).get("network_")
        if net is not None:
            return self.derive(net)
        if self.key not in vars(estimator):
            raise AttributeError(f"{owner.__name__} has no {self.name} before it is fitted")
        return vars(estimator)[self.key]

    def __set__(self, estimator, value) -> None:
        if vars(estimator).get("network_") is None:
            vars(estimator)[self.key] = value
            return
        current = self.__get__(estimator, type(estimator))
        if value != current:
            raise ValueError(
                f"{self.name} is {current!r}, fixed by the fitted network; it cannot become "
                f"{value!r}"
            )


def output_name(net) -> str:
    """scikit-learn's name for the network's output activation."""
    name = net.activations[-1].name
    return SKLEARN_OUTPUT_NAMES.get(name, name)


def preset_weights(estimator, drop: bool = False) -> tuple[list, list] | None:
    """The weights assigned to ``estimator`` before its first fit, as ``(coefs,
    intercepts)``, or None; ``drop``: forget them (the fit has used them)."""
    held = vars(estimator)
    coefs, intercepts = held.get("_preset_coefs"), held.get("_preset_intercepts")
    if drop:
        held.pop("_preset_coefs", None)
        held.pop("_preset_intercepts", None)
    if coefs is None or intercepts is None:
        return None
    return list(coefs), list(intercepts)


def initial_network(config: dict, init: str, preset, rng):
    """The :class:`~chainrule.network.Network` of ``config`` (its arguments) with the weights
    assigned before the fit (``preset``: ``(coefs, intercepts)``), else drawn from ``rng`` by
    ``init`` (scikit-learn's factor: 2 for logistic hidden layers, else 6)."""
    net = Network(**config, init="glorot_uniform", random_state=0)  # overwritten below
    if preset is not None:
        set_layers(net, "coefs", preset[0])
        set_layers(net, "intercepts", preset[1])
        return net
    logistic = all(a.name == "sigmoid" for a in net.activations[:-1])
    for W, b in zip(net.W, net.b, strict=True):
        n_out, n_in = W.shape
        W[...], b[...] = draw_layer(init, n_out, n_in, rng, factor=2.0 if logistic else 6.0)
    return net
