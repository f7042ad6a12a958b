"""The full-batch cost and gradient over dask blocks: map on the workers, sum, then L-BFGS.

For block ``k`` with total weight ``S_k = sum_(i in k) s_i``, the engine returns
``C_k = sum_(i in k) s_i C_i / S_k`` and its gradient ``g_k``. The full-batch cost over
``S = sum_k S_k`` is then

    C = sum_k S_k C_k / S + alpha / (2 S) sum_m ||W^m||^2,

so each block runs the engine with ``alpha = 0`` except one, which runs it with ``alpha``: its
``S_k C_k`` then carries ``alpha / 2 sum_m ||W^m||^2`` and the division by ``S`` makes it the
L2 term of the whole batch, counted once (the gradient likewise carries ``alpha W^m``).
Only ``theta`` travels to the workers and only one ``(S, S C, S g)`` comes back.
"""

from __future__ import annotations

import dask
import numpy as np
from dask.delayed import Delayed

from chainrule.network import Network
from chainrule.scale.blocks import Blocks
from chainrule.scale.stream import default_client


def _block_sums(
    net: Network, theta: np.ndarray, X: np.ndarray, Y: np.ndarray, sw: np.ndarray | None
) -> tuple[float, float, np.ndarray]:
    """``(S_k, S_k C_k, S_k g_k)`` of one block, on a worker."""
    net = net.copy()  # the template is shared by the tasks of a threaded worker
    net.theta[...] = theta
    cost, grad = net.cost_and_gradient(X, Y, sw)
    S_k = float(len(X) if sw is None else np.sum(sw, dtype=np.float64))
    grad *= S_k
    return S_k, S_k * cost, grad


def _add(a: tuple, b: tuple) -> tuple:
    return tuple(x + y for x, y in zip(a, b, strict=True))


def _tree_sum(parts: list[Delayed]) -> Delayed:
    """The sum of ``parts`` as a binary tree of tasks (pairs are added on the workers)."""
    while len(parts) > 1:
        pairs = [dask.delayed(_add)(a, b) for a, b in zip(parts[::2], parts[1::2], strict=False)]
        parts = pairs + parts[len(pairs) * 2 :]
    return parts[0]


class BlockObjective:
    """``theta -> (C, dC/dtheta)`` of ``net``'s full-batch cost over every block.

    Drives ``scipy.optimize.minimize(objective, theta0, jac=True, method="L-BFGS-B")``; each
    call computes the blocks' costs and gradients on the workers. ``persist`` keeps the blocks in
    the cluster's memory between calls (default: when a ``distributed.Client`` is in use; off,
    every call recomputes them from their source).

    Blocks whose weights sum to zero are left out (they add nothing to the cost).
    """

    def __init__(self, net: Network, blocks: Blocks, *, persist: bool | None = None) -> None:
        if persist is None:
            persist = default_client() is not None
        sums = blocks.weight_sums()
        if not (sums > 0).any():
            raise ValueError("sample_weight sums to zero: no sample would be learned from")
        blocks = blocks.take(np.flatnonzero(sums > 0))
        self.blocks = blocks.persist() if persist else blocks
        self.dtype = net.dtype
        config = net.get_config()
        # the L2 term rides on the first block only (see the module's docstring)
        self._nets = (
            dask.delayed(Network(**config), pure=True),
            dask.delayed(Network(**{**config, "alpha": 0.0}), pure=True),
        )

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """The cost ``C`` and gradient ``dC/dtheta`` (float64) at the flat weights ``theta``."""
        theta = dask.delayed(np.asarray(theta, dtype=self.dtype), pure=True)
        parts = [
            dask.delayed(_block_sums, pure=True)(self._nets[k > 0], theta, *self.blocks.block(k))
            for k in range(len(self.blocks))
        ]
        (S, SC, Sg) = dask.compute(_tree_sum(parts))[0]
        return SC / S, np.asarray(Sg, dtype=np.float64) / S
