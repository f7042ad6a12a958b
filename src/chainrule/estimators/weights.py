"""The fitted weights in scikit-learn's orientation, settable as in scikit-learn:
``coefs_[i]`` is ``W^(i+1)`` transposed, ``(N^i, N^(i+1))``; ``intercepts_[i]`` is ``b^(i+1)``."""

from __future__ import annotations

import numpy as np

from chainrule._arrays import device, is_numpy, move, namespace, numpy_dtype, to_numpy

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


class FittedWeights:
    """``coefs_``, ``intercepts_``, ``n_layers_``, ``n_outputs_`` and ``out_activation_`` (a
    mixin of :class:`~chainrule.estimators.base.BaseMLP`). Before a fit, assigned values are
    kept as given (scikit-learn's way of presetting weights for ``partial_fit`` or a warm
    start); after, they come from the network and assigning them writes into it."""

    def _fitted_network(self):
        return self.__dict__.get("network_")

    @property
    def coefs_(self):
        """``coefs_[i]`` is ``W^(i+1)`` transposed, ``(n_in, n_out)``: a view, not a copy."""
        return self._layers("coefs")

    @coefs_.setter
    def coefs_(self, values) -> None:
        self._set_layers("coefs", values)

    @property
    def intercepts_(self):
        """``intercepts_[i]`` is ``b^(i+1)``: a view, not a copy."""
        return self._layers("intercepts")

    @intercepts_.setter
    def intercepts_(self, values) -> None:
        self._set_layers("intercepts", values)

    def _layers(self, kind: str):
        net = self._fitted_network()
        if net is not None:
            return LayerWeights(net, kind)
        pending = self.__dict__.get(f"_preset_{kind}")
        if pending is None:
            raise AttributeError(f"{type(self).__name__} has no {kind}_ before it is fitted")
        return pending

    def _set_layers(self, kind: str, values) -> None:
        net = self._fitted_network()
        if net is None:
            self.__dict__[f"_preset_{kind}"] = values  # kept as given, used by the next fit
        else:
            set_layers(net, kind, values)

    def _preset_weights(self) -> tuple[list, list] | None:
        """The weights assigned before the first fit, as ``(coefs, intercepts)``, or None."""
        coefs = self.__dict__.get("_preset_coefs")
        intercepts = self.__dict__.get("_preset_intercepts")
        if coefs is None or intercepts is None:
            return None
        return list(coefs), list(intercepts)

    def _drop_preset_weights(self) -> None:
        for kind in ("coefs", "intercepts"):
            self.__dict__.pop(f"_preset_{kind}", None)

    @property
    def n_layers_(self) -> int:
        """Layers including the input and the output, as scikit-learn counts them."""
        return self._network_attribute("n_layers_", lambda net: len(net.layer_sizes))

    @n_layers_.setter
    def n_layers_(self, value) -> None:
        self._set_network_attribute("n_layers_", value)

    @property
    def n_outputs_(self) -> int:
        return self._network_attribute("n_outputs_", lambda net: net.layer_sizes[-1])

    @n_outputs_.setter
    def n_outputs_(self, value) -> None:
        self._set_network_attribute("n_outputs_", value)

    @property
    def out_activation_(self) -> str:
        def name(net):
            act = net.activations[-1].name
            return SKLEARN_OUTPUT_NAMES.get(act, act)

        return self._network_attribute("out_activation_", name)

    @out_activation_.setter
    def out_activation_(self, value) -> None:
        self._set_network_attribute("out_activation_", value)

    def _network_attribute(self, name: str, derive):
        net = self._fitted_network()
        if net is not None:
            return derive(net)
        key = f"_preset_{name.rstrip('_')}"  # no trailing _: check_is_fitted ignores it
        if key not in self.__dict__:
            raise AttributeError(f"{type(self).__name__} has no {name} before it is fitted")
        return self.__dict__[key]

    def _set_network_attribute(self, name: str, value) -> None:
        """Before a fit the value is kept (the fit sets the real one); after, it is fixed by the
        network and may only be assigned its own value."""
        net = self._fitted_network()
        if net is None:
            self.__dict__[f"_preset_{name.rstrip('_')}"] = value
            return
        current = getattr(self, name)
        if value != current:
            raise ValueError(
                f"{name} is {current!r}, fixed by the fitted network; it cannot become {value!r}"
            )
