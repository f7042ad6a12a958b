"""The derivation view: one sample's forward and backward pass, layer by layer, as numbers.

Every number comes from :meth:`chainrule.Network.backprop` on that one sample (so ``delta^m`` is
``dC/dz^m`` of the sample's own cost), and the update from a copy of the session's optimizer
applied to a copy of the network: what one step on this sample alone would do.

=====================  ==============================================================
forward, layer ``m``   ``z^m = W^m a^(m-1) + b^m``, ``a^m = sigma^m(z^m)``
dropout (training)     ``a^m o r^m / (1 - p)``, ``r^m ~ Bernoulli(1 - p)``: shown, not applied
output                 ``delta^L = a^L - y`` (matching cost) or ``dC/da^L o sigma'(z^L)``
backward, layer ``m``  ``delta^m = (W^(m+1)T delta^(m+1)) o sigma'(z^m)``
gradients              ``dC/dW^m = delta^m a^(m-1)T (+ alpha_2 W^m + alpha_1 sign(W^m))``,
                       ``dC/db^m = delta^m``
update                 the solver's rule, e.g. ``W^m <- W^m - eta dC/dW^m`` (weight decay:
                       ``W^m <- (1 - eta lambda) W^m`` first)
=====================  ==============================================================
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from chainrule.differences import numeric_gradient
from chainrule.engine.reference import penalty
from chainrule.network import Network
from chainrule.optimizers import Adam, Momentum, Optimizer


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
        # dropout's rate while training: a^m o r^m / (1 - p) there; these numbers keep all
        "dropout": net.dropout[m - 1] if m < net.L and net.dropout else 0.0,
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
        # the change itself: what the update adds to W^m and b^m
        "W_step": _list(updated.W[m - 1] - net.W[m - 1]),
        "b_step": _list(updated.b[m - 1] - net.b[m - 1]),
    }
    if m < net.L:
        # W^(m+1)T delta^(m+1): what layer m + 1 sends back
        entry["W_next"] = _list(net.W[m])
        entry["delta_next"] = _list(trace.delta[m][0])
        entry["backsum"] = _list(trace.delta[m][0] @ net.W[m])
    else:
        entry["dC_da"] = _list(net.cost_function.derivative(Y, trace.a[m])[0])
    return entry


def _state_of(net: Network, state: dict[str, Any]) -> dict[str, Any]:
    """An optimizer's flat state arrays split per layer: ``{name: [(W part, b part), ...]}``
    (None for an array not yet allocated), and its scalars as they are."""
    split: dict[str, Any] = {}
    for name, value in state.items():
        if isinstance(value, np.ndarray):
            W, b = net.unflatten(value)
            split[name] = [(_list(W_m), _list(b_m)) for W_m, b_m in zip(W, b, strict=True)]
        else:
            split[name] = value
    return split


def optimizer_view(
    net: Network, before: Optimizer, after: Optimizer, solver: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The update rule's constants and its state for each layer, before and after the step:
    momentum's velocity ``v`` (``Delta w^t = mu v - eta dC/dw``); Adam's moments ``m``, ``v``,
    step ``t``, bias corrections ``1 - b1^t``, ``1 - b2^t`` and step size
    ``eta_t = eta sqrt(1 - b2^t) / (1 - b1^t)``."""
    rule: dict[str, Any] = {"solver": solver, "learning_rate": after.learning_rate}
    if isinstance(after, Momentum):
        rule.update(momentum=after.momentum, nesterov=after.nesterov)
    if isinstance(after, Adam):
        t = after.t
        rule.update(
            beta_1=after.beta_1,
            beta_2=after.beta_2,
            epsilon=after.epsilon,
            t=t,
            correction_1=1 - after.beta_1**t,  # 1 - b1^t
            correction_2=1 - after.beta_2**t,  # 1 - b2^t
            step_size=after.step_size(t),  # eta sqrt(1 - b2^t) / (1 - b1^t)
        )
    old, new = _state_of(net, before.state()), _state_of(net, after.state())
    layers = []
    for m in range(net.L):
        entry = {}
        for name, parts in new.items():
            if isinstance(parts, list):
                prev = old.get(name)
                entry[name] = {"W": parts[m][0], "b": parts[m][1]}
                entry[name + "_before"] = (
                    {"W": prev[m][0], "b": prev[m][1]} if isinstance(prev, list) else None
                )
        layers.append(entry)
    return rule, layers


def derive(
    net: Network, optimizer: Optimizer, solver: str, a0: np.ndarray, y: float
) -> dict[str, Any]:
    """Every quantity of the seed's equations for the sample ``a0`` with target ``y``;
    ``optimizer`` (of kind ``solver``) is copied, never stepped. Numbers that overflow stay
    ``inf`` or NaN (the page shows them as such), without a warning."""
    X, Y = a0.reshape(1, -1), np.array([[y]], dtype=float)
    with np.errstate(all="ignore"):
        trace = net.backprop(X, Y)
        updated, stepped = net.copy(), copy.deepcopy(optimizer)
        stepped.update(updated, trace.dW, trace.db)
        layers = [_layer(net, trace, updated, m, Y) for m in range(1, net.L + 1)]
        rule, states = optimizer_view(net, optimizer, stepped, solver)
    for entry, state in zip(layers, states, strict=True):
        entry["optimizer_state"] = state
    return {
        "x": _list(a0),
        "y": float(y),
        "cost": trace.cost,
        # C = the sample's own cost + the penalty
        # alpha / n sum_m (l1_ratio |W^m|_1 + (1 - l1_ratio) / 2 ||W^m||^2), n = 1
        "cost_l2": penalty(net.W, net.alpha, 1, net.l1_ratio),
        "cost_name": net.cost_function.name,
        "canonical": net.cost_function.canonical_link == net.activations[-1].name,
        "alpha": net.alpha,
        "l1_ratio": net.l1_ratio,
        "weight_decay": optimizer.weight_decay,
        "solver": solver,
        "learning_rate": optimizer.learning_rate,
        "optimizer": rule,
        "layers": layers,
    }


#: the step of the central differences: about the cube root of float64's epsilon, where the
#: truncation error (h^2) and the rounding error (eps / h) of (C(w + h) - C(w - h)) / 2h meet
GRADCHECK_STEP = 1e-5


def gradient_check(net: Network, a0: np.ndarray, y: float) -> dict[str, Any]:
    """Backpropagation's ``dC/dw`` of the sample against central differences
    ``(C(w + h) - C(w - h)) / 2h`` for every weight and bias
    (:func:`chainrule.differences.numeric_gradient`, with ``h = GRADCHECK_STEP``), and their
    relative error ``||g_bp - g_fd|| / (||g_bp|| + ||g_fd||)``: about 1e-7 or less when
    backpropagation is right (float64, h = 1e-5), above 1e-3 when it is wrong; a ReLU's kink
    between ``w - h`` and ``w + h`` can raise it for that weight alone."""
    X, Y = a0.reshape(1, -1), np.array([[y]], dtype=float)
    h = GRADCHECK_STEP
    with np.errstate(all="ignore"):
        trace = net.backprop(X, Y)
        backprop = np.concatenate(
            [np.concatenate([dW.ravel(), db]) for dW, db in zip(trace.dW, trace.db, strict=True)]
        )
        # (C(w + h) - C(w - h)) / 2h for every weight and bias, each put back exactly after
        numeric, _ = numeric_gradient(lambda _: net.cost(X, Y), net.theta, step=h)
        scale = np.linalg.norm(backprop) + np.linalg.norm(numeric)
        error = float(np.linalg.norm(backprop - numeric) / scale) if scale > 0 else 0.0
        worst = int(np.argmax(np.abs(backprop - numeric)))
    return {
        "step": h,
        "parameters": len(backprop),
        "relative_error": error,
        "verdict": "good" if error < 1e-6 else "suspect" if error < 1e-3 else "wrong",
        "worst": {
            "index": worst,
            "backprop": float(backprop[worst]),
            "numeric": float(numeric[worst]),
        },
    }
