"""The derivation view: one sample's forward and backward pass, layer by layer, as numbers.

Every number comes from :meth:`chainrule.Network.backprop` on that one sample (so ``delta^m`` is
``dC/dz^m`` of the sample's own cost), and the update from a copy of the session's optimizer
applied to a copy of the network: what one step on this sample alone would do.

=====================  ==============================================================
forward, layer ``m``   ``z^m = W^m a^(m-1) + b^m``, ``a^m = sigma^m(z^m)``
output                 ``delta^L = a^L - y`` (matching cost) or ``dC/da^L o sigma'(z^L)``
backward, layer ``m``  ``delta^m = (W^(m+1)T delta^(m+1)) o sigma'(z^m)``
gradients              ``dC/dW^m = delta^m a^(m-1)T (+ alpha W^m)``, ``dC/db^m = delta^m``
update                 the solver's rule, e.g. ``W^m <- W^m - eta dC/dW^m``
=====================  ==============================================================
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from chainrule.network import Network
from chainrule.optimizers import Optimizer


def _list(a: np.ndarray) -> list:
    return np.asarray(a, dtype=float).tolist()


def _prime(net: Network, m: int, z: np.ndarray, a: np.ndarray) -> np.ndarray | None:
    """``sigma'(z^m)`` of layer ``m`` (1-based), or None where it has no elementwise form."""
    act = net.activations[m - 1]
    try:
        return act.prime(z, a)
    except TypeError:  # softmax's Jacobian is full
        return None


def _layer(net: Network, trace: Any, updated: Network, m: int, Y: np.ndarray) -> dict[str, Any]:
    """The numbers of layer ``m`` (1-based) in the sample's trace."""
    z, a = trace.z[m - 1][0], trace.a[m][0]
    entry = {
        "m": m,
        "activation": net.activations[m - 1].name,
        "beta": getattr(net.activations[m - 1], "beta", None),
        "a_prev": _list(trace.a[m - 1][0]),
        "W": _list(net.W[m - 1]),
        "b": _list(net.b[m - 1]),
        "z": _list(z),
        "a": _list(a),
        "sigma_prime": None if (p := _prime(net, m, z, a)) is None else _list(p),
        "delta": _list(trace.delta[m - 1][0]),
        "dW": _list(trace.dW[m - 1]),
        "db": _list(trace.db[m - 1]),
        "W_new": _list(updated.W[m - 1]),
        "b_new": _list(updated.b[m - 1]),
    }
    if m < net.L:
        # W^(m+1)T delta^(m+1): what layer m + 1 sends back
        entry["W_next"] = _list(net.W[m])
        entry["delta_next"] = _list(trace.delta[m][0])
        entry["backsum"] = _list(trace.delta[m][0] @ net.W[m])
    else:
        entry["dC_da"] = _list(net.cost_function.derivative(Y, trace.a[m])[0])
    return entry


def derive(
    net: Network, optimizer: Optimizer, solver: str, a0: np.ndarray, y: float
) -> dict[str, Any]:
    """Every quantity of the seed's equations for the sample ``a0`` with target ``y``;
    ``optimizer`` (of kind ``solver``) is copied, never stepped. Numbers that overflow stay
    ``inf`` or NaN (the page shows them as such), without a warning."""
    X, Y = a0.reshape(1, -1), np.array([[y]], dtype=float)
    with np.errstate(all="ignore"):
        trace = net.backprop(X, Y)
        updated = net.copy()
        copy.deepcopy(optimizer).update(updated, trace.dW, trace.db)
        layers = [_layer(net, trace, updated, m, Y) for m in range(1, net.L + 1)]
    return {
        "x": _list(a0),
        "y": float(y),
        "cost": trace.cost,
        "cost_name": net.cost_function.name,
        "canonical": net.cost_function.canonical_link == net.activations[-1].name,
        "alpha": net.alpha,
        "solver": solver,
        "learning_rate": optimizer.learning_rate,
        "layers": layers,
    }
