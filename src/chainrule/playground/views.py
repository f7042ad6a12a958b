"""What the page draws of a network: the output over the plane, every neuron's own heat map,
the weights and the last minibatch's gradients, as JSON-able lists.

>>> grid(3)[:, 1]  # rows run from the top of the square (x2 = 6) down
array([ 6.,  6.,  6.,  0.,  0.,  0., -6., -6., -6.])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule.activations import slider_curves
from chainrule.engine import reference
from chainrule.network import Network
from chainrule.playground.config import BETA_RANGE, number_in_range
from chainrule.playground.data import FEATURES, RADIUS, make_features

#: points per side of the output heat map, and of each neuron's small one
OUTPUT_RESOLUTION = 80
NEURON_RESOLUTION = 24
#: activations that flatten out on both sides, and when one of their units counts as saturated:
#: ``|sigma'(z)|`` below FLAT_SLOPE of its steepest slope on SATURATED_SHARE of the points
SATURATING = ("sigmoid", "tanh")
FLAT_SLOPE, SATURATED_SHARE = 0.01, 0.95


def rounded(a: np.ndarray, digits: int = 4) -> list:
    """``a`` as nested lists of numbers rounded to ``digits`` decimals (what JSON carries)."""
    return np.round(np.asarray(a, dtype=float), digits).tolist()


def grid(resolution: int) -> np.ndarray:
    """``resolution^2`` points ``[x1, x2]`` covering ``[-6, 6]^2`` row by row from the top left."""
    ticks = np.linspace(-RADIUS, RADIUS, resolution)
    x1, x2 = np.meshgrid(ticks, ticks[::-1])
    return np.column_stack([x1.ravel(), x2.ravel()])


def network_view(
    net: Network,
    inputs: Callable[[np.ndarray], np.ndarray],
    grads: tuple[list[np.ndarray], list[np.ndarray]] | None,
) -> dict[str, Any]:
    """Heat maps, weights and gradient magnitudes of ``net``; ``inputs`` maps points to ``a^0``."""
    with np.errstate(all="ignore"):
        output = net.forward(inputs(grid(OUTPUT_RESOLUTION)))[:, 0]
        A0 = inputs(grid(NEURON_RESOLUTION))
        # every a^m over the small grid: the forward pass
        _, a = reference.forward(net.W, net.b, net.activations, A0)
    dW = grads[0] if grads else [np.zeros_like(W) for W in net.W]
    db = grads[1] if grads else [np.zeros_like(b) for b in net.b]
    return {
        "layer_sizes": list(net.layer_sizes),
        "activations": [a.name for a in net.activations],
        "output": {"resolution": OUTPUT_RESOLUTION, "values": rounded(output, 3)},
        "neurons": {
            "resolution": NEURON_RESOLUTION,
            # neurons[m][j]: unit j of layer m over the grid (m = 0 is the input features)
            "values": [rounded(a_m.T, 3) for a_m in a],
        },
        # every feature over the grid, chosen or not (the page's feature tiles)
        "features": rounded(make_features(grid(NEURON_RESOLUTION), list(FEATURES)).T, 3),
        # exact (the page scales edges to them, and shows each on hover)
        "W": [W.tolist() for W in net.W],
        "b": [b.tolist() for b in net.b],
        "dW": [np.abs(g).tolist() for g in dW],
        "db": [np.abs(g).tolist() for g in db],
    }


def seed_curves(beta: float, theta: float) -> dict[str, Any]:
    """The seed's two slider plots over ``h`` in ``[-2, 2]``: ``g(h) = 1 / (1 + exp(-beta h))``
    with ``dg/dh = beta g (1 - g)``, and ``tanh(theta h)`` with derivative
    ``theta (1 - tanh^2(theta h))``."""
    beta = number_in_range("beta", beta, *BETA_RANGE)
    theta = number_in_range("theta", theta, *BETA_RANGE)
    h = np.linspace(-2, 2, 81)
    curves = slider_curves(beta, theta, h)
    return {"beta": beta, "theta": theta, "h": rounded(h)} | {
        name: rounded(values) for name, values in curves.items()
    }


def _units(js: np.ndarray) -> str:
    names = ", ".join(str(j + 1) for j in np.flatnonzero(js))
    return f"unit {names}" if js.sum() == 1 else f"units {names}"


def unit_warnings(
    net: Network, A0: np.ndarray, costs: tuple[float, ...] = ()
) -> list[dict[str, Any]]:
    """Hidden units that cannot learn on the inputs ``A0`` (the training set's ``a^0``):
    **dead** ones, whose ``sigma'(z)`` is 0 on every point (no gradient reaches their weights:
    ``dC/dW^m = delta^m a^(m-1)T`` with ``delta^m = (...) o sigma'(z^m)``), and **saturated**
    ones of a sigmoid or tanh layer, flat on nearly every point. And an overflow anywhere (in
    ``a^m`` or the ``costs``).
    Each warning: ``{"kind", "layer", "units" (0-based), "text"}``."""
    with np.errstate(all="ignore"):
        z, a = reference.forward(net.W, net.b, net.activations, A0)  # every z^m and a^m
        found = []
        if not all(np.all(np.isfinite(a_m)) for a_m in [*a, np.asarray(costs)]):
            text = (
                "the network's numbers overflow float64 (shown as \u201coverflow\u201d): each "
                "exponential layer raises e to the last one's output; use fewer of them, smaller "
                "weights (Reset) or another activation"
            )
            return [{"kind": "overflow", "layer": None, "units": [], "text": text}]
        for m in range(1, net.L):  # hidden layers
            act = net.activations[m - 1]
            slope = np.abs(act.prime(z[m - 1], a[m]))
            dead = np.all(slope == 0, axis=0)
            flat = np.zeros_like(dead)
            if act.name in SATURATING:
                zero = np.zeros(1)
                steepest = abs(float(act.prime(zero, act(zero))[0]))
                flat = (np.mean(slope < FLAT_SLOPE * steepest, axis=0) >= SATURATED_SHARE) & ~dead
            if dead.any():
                text = (
                    f"layer {m}: {_units(dead)} dead: \u03c3\u2032(z) = 0 on every training "
                    "point, so no gradient reaches the weights into it"
                    + ("" if dead.sum() == 1 else " (each)")
                )
                found.append(
                    {
                        "kind": "dead",
                        "layer": m,
                        "units": np.flatnonzero(dead).tolist(),
                        "text": text,
                    }
                )
            if flat.any():
                text = (
                    f"layer {m}: {_units(flat)} saturated: \u03c3\u2032(z) is under "
                    f"{FLAT_SLOPE:.0%} of its peak on {SATURATED_SHARE:.0%} of the training "
                    "points, so its weights barely move (smaller weights or inputs help)"
                )
                found.append(
                    {
                        "kind": "saturated",
                        "layer": m,
                        "units": np.flatnonzero(flat).tolist(),
                        "text": text,
                    }
                )
    return found
