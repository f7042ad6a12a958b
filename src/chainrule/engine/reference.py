"""The reference engine: every equation of the derivation, written once.

Seed names throughout (see ``docs/derivation.md``): ``W[m - 1]`` is ``W^m`` of shape
``(N^m, N^(m-1))``, ``b[m - 1]`` is ``b^m``, ``z[m - 1] = z^m``, ``a[m] = a^m`` (``a[0]`` the
input), ``delta[m - 1] = delta^m = dC/dz^m``. Samples are rows: a batch ``A^(m-1)`` of shape
``(n, N^(m-1))`` holds one ``a^(m-1)`` per row, so the column equation
``z^m = W^m a^(m-1) + b^m`` reads ``Z^m = A^(m-1) W^mT + b^m``.

The functions take and return arrays of one array namespace ``xp``
(:func:`chainrule._arrays.namespace` of the weights): NumPy, and any array-API library
(torch, CuPy, array_api_strict) through the same lines. The input ``a^0`` may also be a scipy
sparse matrix: every line that touches it is a product with a dense array.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule._arrays import is_numpy, namespace
from chainrule.activations import Activation
from chainrule.costs import Cost

Array = Any


def uses_canonical_link(output: Activation, cost: Cost) -> bool:
    """Whether ``sigma^L`` is the cost's matching activation (then ``dC/dz^L = a^L - y``)."""
    return cost.canonical_link == output.name


def affine(W_m: Array, b_m: Array, a: Array) -> Array:
    """``z^m`` of each row of ``a = A^(m-1)``."""
    return a @ W_m.T + b_m  # z^m = W^m a^(m-1) + b^m


def logits(W: Sequence[Array], b: Sequence[Array], activations: Sequence[Activation], a: Array):
    """``z^L``: the forward pass up to the output activation, keeping nothing else."""
    for m in range(len(W) - 1):
        a = activations[m](affine(W[m], b[m], a))  # a^m = sigma^m(z^m)
    return affine(W[-1], b[-1], a)


def forward(
    W: Sequence[Array], b: Sequence[Array], activations: Sequence[Activation], a0: Array
) -> tuple[list[Array], list[Array]]:
    """Every ``z^m`` and ``a^m`` of the forward pass (``a[0]`` is the input ``a^0``)."""
    z, a = [], [a0]
    for W_m, b_m, sigma in zip(W, b, activations, strict=True):
        z.append(affine(W_m, b_m, a[-1]))
        a.append(sigma(z[-1]))  # a^m = sigma^m(z^m)
    return z, a


def sample_costs(zL: Array, aL: Array, Y: Array, output: Activation, cost: Cost) -> Array:
    """``C_i = C(a^L_i, y_i)`` of each sample; from the logits ``z^L`` when the output is the
    cost's matching activation and the cost has that form (exact where ``a^L`` rounds to 0 or 1)."""
    if uses_canonical_link(output, cost) and cost.has_logit_form:
        return cost.from_logits(Y, zL * output.link_scale)
    return cost(Y, aL)


def output_delta(zL: Array, aL: Array, Y: Array, output: Activation, cost: Cost) -> Array:
    """``dC_i/dz^L`` of each sample's cost (one row per sample)."""
    if uses_canonical_link(output, cost):
        # matching pairs (seed, "Sigmoid network with cross-entropy loss"): dC/dz^L = a^L - y
        scale = output.link_scale
        return (aL - Y) * scale if scale != 1.0 else aL - Y
    # dC/dz^L = dC/da^L o sigma'(z^L) (a Jacobian-vector product for softmax)
    return output.backward(zL, aL, cost.derivative(Y, aL))


def backward(
    W: Sequence[Array],
    activations: Sequence[Activation],
    z: Sequence[Array],
    a: Sequence[Array],
    delta_L: Array,
    alpha: float,
    n: float,
    l1_ratio: float = 0.0,
) -> tuple[list[Array], list[Array], list[Array]]:
    """Backpropagation from ``delta^L`` (rows already weighted by ``w_i``): ``(delta, dW, db)``.

    ``alpha / n`` scales the penalty's gradient (``n`` the batch's sample count, or the sum of
    its sample weights), ``l1_ratio`` its share of L1 (:func:`penalty`).
    """
    xp = namespace(*W)
    L = len(W)
    delta, dW, db = [None] * L, [None] * L, [None] * L
    delta[-1] = delta_L
    alpha_2, alpha_1 = alpha * (1 - l1_ratio), alpha * l1_ratio  # the L2 and L1 weights
    for m in range(L - 1, -1, -1):
        # dC/dW^m = delta^m a^(m-1)T, summed over the batch (written (a^T delta)^T for sparse a)
        dW[m] = (a[m].T @ delta[m]).T
        if alpha_2:
            dW[m] = dW[m] + W[m] * (alpha_2 / n)  # d/dW^m of alpha_2/(2n) ||W^m||^2
        if alpha_1:
            # d/dW^m of alpha_1/n |W^m|_1: the subgradient sign(W^m), 0 at 0 (as PyTorch's)
            dW[m] = dW[m] + xp.sign(W[m]) * (alpha_1 / n)
        db[m] = xp.sum(delta[m], axis=0)  # dC/db^m = delta^m, summed over the batch
        if m > 0:
            # delta^(m-1) = (W^mT delta^m) o sigma'^(m-1)(z^(m-1))
            delta[m - 1] = activations[m - 1].backward(z[m - 1], a[m], delta[m] @ W[m])
    return delta, dW, db


def penalty(W: Sequence[Array], alpha: float, n: float, l1_ratio: float = 0.0) -> float | Array:
    """The penalty ``alpha / n sum_m (l1_ratio |W^m|_1 + (1 - l1_ratio) / 2 ||W^m||^2)``
    (``l1_ratio`` 0: scikit-learn's L2 term ``alpha / (2 n) sum_m ||W^m||^2``): a float for
    NumPy weights, a 0-d array on their device otherwise (no transfer to the host)."""
    if alpha == 0:
        return 0.0
    xp = namespace(*W)
    alpha_2, alpha_1 = alpha * (1 - l1_ratio), alpha * l1_ratio  # the L2 and L1 weights
    if is_numpy(W[0]):
        total = 0.5 * alpha_2 / n * float(sum(float(xp.sum(W_m * W_m)) for W_m in W))
        if alpha_1:
            total += alpha_1 / n * float(sum(float(xp.sum(xp.abs(W_m))) for W_m in W))
        return total
    total = 0.5 * alpha_2 / n * sum(xp.sum(W_m * W_m) for W_m in W)
    if alpha_1:
        total = total + alpha_1 / n * sum(xp.sum(xp.abs(W_m)) for W_m in W)
    return total


def batch_cost(costs: Array, w: Array) -> float | Array:
    """``C = sum_i w_i C_i`` (``w`` sums to 1): a float for NumPy arrays, a 0-d array on their
    device otherwise."""
    xp = namespace(costs, w)
    total = xp.sum(w * costs)
    return float(total) if xp is np else total
