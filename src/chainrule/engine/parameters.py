"""The network's parameters and what one pass keeps: ``W^m``, ``b^m`` as views of one flat
buffer (:class:`ParameterList`), and :class:`Trace`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from numpy.typing import ArrayLike

from chainrule._arrays import device, move, namespace

__all__ = ["ParameterList", "Trace", "check_layer_sizes", "check_penalty"]


def check_layer_sizes(layer_sizes: Sequence[int]) -> list[int]:
    """``layer_sizes`` as a list of at least two positive ints, or an error naming the bad one."""
    if isinstance(layer_sizes, str) or not isinstance(layer_sizes, Iterable):
        raise TypeError(
            f"layer_sizes must be a sequence of integers such as [4, 8, 3], got {layer_sizes!r}"
        )
    sizes = list(layer_sizes)
    for m, n in enumerate(sizes):
        if isinstance(n, bool) or not isinstance(n, Real):
            raise TypeError(f"layer_sizes must hold integers; layer {m} is {n!r}, in {sizes}")
        if not (isinstance(n, Integral) or float(n).is_integer()):
            raise ValueError(f"layer_sizes must hold integers; layer {m} is {n!r}, in {sizes}")
    sizes = [int(n) for n in sizes]
    if len(sizes) < 2:
        raise ValueError(
            f"layer_sizes must hold at least two positive integers (the input and the output "
            f"sizes), got {sizes}"
        )
    for m, n in enumerate(sizes):
        if n < 1:
            raise ValueError(f"layer_sizes must be positive; layer {m} has {n} units, in {sizes}")
    return sizes


def check_penalty(alpha: float, l1_ratio: float) -> tuple[float, float]:
    """``(alpha, l1_ratio)`` as floats, or an error naming the bad one."""
    for name, value, kind in (("alpha", alpha, ">= 0"), ("l1_ratio", l1_ratio, "in [0, 1]")):
        if isinstance(value, bool) or not isinstance(value, Real):
            raise TypeError(f"{name} must be a real number {kind}, got {value!r}")
    if not (np.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"alpha must be >= 0 and finite, got {alpha}")
    if not 0 <= l1_ratio <= 1:
        raise ValueError(f"l1_ratio must be in [0, 1], got {l1_ratio}")
    return float(alpha), float(l1_ratio)


class ParameterList(Sequence):
    """The live ``W^m`` (or ``b^m``) arrays: views of the network's flat buffer.

    ``params[m][...] = value`` and ``params[m] = value`` both write into the network.
    """

    def __init__(self, arrays: list[np.ndarray]) -> None:
        self._arrays = arrays

    def __getitem__(self, m):
        return self._arrays[m]

    def __len__(self) -> int:
        return len(self._arrays)

    def __setitem__(self, m: int, value: ArrayLike) -> None:
        target = self._arrays[m]
        xp = namespace(target)
        value = move(value, xp, device(target))
        if xp is not np:
            value = xp.astype(value, target.dtype)  # array_api_strict assigns no other dtype
        if tuple(value.shape) != tuple(target.shape):
            raise ValueError(f"expected an array of shape {target.shape}, got {value.shape}")
        target[...] = value

    def __repr__(self) -> str:
        return f"ParameterList({self._arrays!r})"


@dataclass
class Trace:
    """Everything one forward and backward pass computes (``chainrule explain`` prints it).

    ``z[m - 1]``, ``a[m]``, ``delta[m - 1]``, ``dW[m - 1]``, ``db[m - 1]`` belong to layer ``m``
    (``a[0]`` is the input ``a^0``). Rows of ``z``, ``a`` and ``delta`` are samples; ``delta`` is
    the derivative of the batch cost ``C`` (the mean over samples), so each row carries its
    sample's weight ``1/n``.
    """

    z: list[np.ndarray]
    a: list[np.ndarray]
    delta: list[np.ndarray]
    dW: list[np.ndarray]
    db: list[np.ndarray]
    cost: float
