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

from chainrule._arrays import device, is_numpy, namespace, numpy_dtype
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
    W: Sequence[Array],
    b: Sequence[Array],
    activations: Sequence[Activation],
    a0: Array,
    masks: Sequence[Array | None] | None = None,
) -> tuple[list[Array], list[Array]]:
    """Every ``z^m`` and ``a^m`` of the forward pass (``a[0]`` is the input ``a^0``); with
    dropout's ``masks`` (:func:`dropout_masks`, one per hidden layer) ``a^m`` is the kept one."""
    z, a = [], [a0]
    for m, (W_m, b_m, sigma) in enumerate(zip(W, b, activations, strict=True)):
        z.append(affine(W_m, b_m, a[-1]))
        a.append(sigma(z[-1]))  # a^m = sigma^m(z^m)
        if masks is not None and m < len(masks) and masks[m] is not None:
            a[-1] = a[-1] * masks[m]  # dropout: a^m = sigma^m(z^m) o r^m / (1 - p^m)
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
    masks: Sequence[Array | None] | None = None,
    l1_ratio: float = 0.0,
) -> tuple[list[Array], list[Array], list[Array]]:
    """Backpropagation from ``delta^L`` (rows already weighted by ``w_i``): ``(delta, dW, db)``.

    ``alpha / n`` scales the penalty's gradient (``n`` the batch's sample count, or the sum of
    its sample weights), ``l1_ratio`` its share of L1 (:func:`penalty`); ``masks``: dropout's,
    as :func:`forward` applied them.
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
            dC_da, sigma, a_m = delta[m] @ W[m], activations[m - 1], a[m]
            if masks is not None and masks[m - 1] is not None:
                dC_da = dC_da * masks[m - 1]  # dropout: (W^mT delta^m) o r^(m-1) / (1 - p)
                a_m = sigma(z[m - 1])  # sigma' reads a^(m-1) as it was before its mask
            # delta^(m-1) = (W^mT delta^m) o sigma'^(m-1)(z^(m-1))
            delta[m - 1] = sigma.backward(z[m - 1], a_m, dC_da)
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


# -- dropout's masks: a counter-based hash, the same in the compiled engine (native_passes.pxd) --

#: splitmix64's constants (Steele, Lea and Flood, 2014)
_GOLDEN, _MIX1, _MIX2 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB


def splitmix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's output function of ``x + golden`` (uint64 arrays, wrapping)."""
    x = x + np.uint64(_GOLDEN)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(_MIX1)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(_MIX2)
    return x ^ (x >> np.uint64(31))


def dropout_mask(key: int, step: int, m: int, shape: tuple[int, int], p: float, dtype) -> Array:
    """``r^m / (1 - p)`` of hidden layer ``m`` (from 0) at ``step`` of an epoch whose masks
    ``key`` draws (NumPy, of ``dtype``): unit ``u = i N^m + j`` of the minibatch is kept
    (``r = 1``) where 32 bits of ``splitmix64(layer_key + u // 2)`` (the low ones for even
    ``u``) are below ``(1 - p) 2^32``, ``layer_key = splitmix64(splitmix64(key + step) + m)``."""
    layer = splitmix64(splitmix64(np.array([key + step], dtype=np.uint64)) + np.uint64(m))
    u = np.arange(shape[0] * shape[1], dtype=np.uint64)
    h = splitmix64(layer + (u >> np.uint64(1)))
    bits = np.where(u & np.uint64(1), h >> np.uint64(32), h & np.uint64(0xFFFFFFFF))
    kept = bits < np.uint64(int((1 - p) * 2.0**32))
    scale = np.dtype(dtype).type(1 / (1 - p))  # inverted dropout: E[r / (1 - p)] = 1
    return np.where(kept, scale, np.dtype(dtype).type(0)).reshape(shape)


def dropout_masks(
    rates: Sequence[float], key: int, step: int, sizes: Sequence[int], n: int, like: Array
) -> list[Array | None]:
    """:func:`dropout_mask` of each hidden layer for a minibatch of ``n`` rows (None where the
    rate is 0), arrays of the namespace, device and dtype of ``like`` (the weights), for
    :func:`forward` and :func:`backward`."""
    xp, dtype = namespace(like), numpy_dtype(like.dtype)
    masks = [
        None if p == 0 else dropout_mask(key, step, m, (n, sizes[m + 1]), p, dtype)
        for m, p in enumerate(rates)
    ]
    return [None if r is None else xp.asarray(r, device=device(like)) for r in masks]
