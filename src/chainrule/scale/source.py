"""The training loop's minibatch source over dask blocks, and held-out blocks scored where they
are.

:class:`BlockSource` has the members the training loop asks a source for
(:mod:`chainrule.training.batches`): ``n_samples``, ``weight_sum``, ``batch_size``,
``run_steps(steps, rng, dtype)`` (an epoch's minibatch steps, block by block, here or where
the blocks are), ``dense`` (None: the blocks are never one array), ``cost(net)``, and
``objective(net)`` for L-BFGS. :func:`evaluate` computes the cost and a score of held-out
blocks on the workers, block by block, and combines the per-block sums on the client.
"""

from __future__ import annotations

import dask
import numpy as np

from chainrule.network import Network
from chainrule.scale.blocks import Blocks
from chainrule.scale.objective import BlockObjective
from chainrule.scale.stream import default_client
from chainrule.scale.visit import (
    model_nbytes,
    stream_blocks,
    visit_blocks,
    visits_pay,
    workers_elsewhere,
)

#: what :func:`evaluate` scores: the cost only, the argmax class, labels above 0.5, or R^2
SCORES = ("loss", "argmax", "threshold", "r2")


class BlockSource:
    """Minibatches of ``batch_size`` rows streamed from ``blocks`` (seeded block order, rows
    shuffled inside a block when ``shuffle``, the next block prefetched)."""

    def __init__(self, blocks: Blocks, batch_size: int, shuffle: bool, *, prefetch: int = 2):
        self.blocks = blocks
        self.n_samples = blocks.n_samples
        self.batch_size = int(min(batch_size, self.n_samples))
        self.shuffle = bool(shuffle)
        self.prefetch = prefetch
        self.weight_sums = blocks.weight_sums()
        self.weight_sum = float(self.weight_sums.sum())
        if not self.weight_sum > 0:
            raise ValueError("sample_weight sums to zero: no sample would be learned from")

    def run_steps(self, steps, rng: np.random.Generator, dtype) -> tuple[float, int, float | None]:
        """An epoch of ``steps`` (:class:`chainrule.training.MinibatchSteps`): the model visits
        the blocks on the workers (:func:`visit_blocks`) where :func:`visits_pay`, else the
        blocks come here (:func:`stream_blocks`). ``dask.config.set({"chainrule.visit-blocks":
        True})`` (or ``False``) decides instead."""
        client = default_client()
        if client is None or not self._visits(steps, client):
            return stream_blocks(
                steps, self.blocks, self.batch_size, rng, dtype,
                shuffle=self.shuffle, prefetch=self.prefetch,
            )  # fmt: skip
        return visit_blocks(
            steps, self.blocks, self.batch_size, rng, dtype,
            client=client, shuffle=self.shuffle, prefetch=self.prefetch,
        )  # fmt: skip

    def _visits(self, steps, client) -> bool:
        """Whether the model travels to the blocks (rather than the blocks to the model)."""
        choice = dask.config.get("chainrule.visit-blocks", "auto")
        if choice not in ("auto", True, False):
            raise ValueError(
                "dask config 'chainrule.visit-blocks' must be 'auto', True or False, got "
                f"{choice!r}"
            )
        if choice != "auto":
            return choice
        block = self.blocks.nbytes / len(self.blocks)
        return visits_pay(model_nbytes(steps), block, workers_elsewhere(client))

    def dense(self, dtype) -> None:
        """None: streamed blocks are never one in-memory array."""
        return None

    def cost(self, net: Network) -> float:
        """The network's cost on every block (weighted mean, with the L2 term)."""
        return evaluate(net, self.blocks, "loss", self.weight_sums)[1]

    def objective(self, net: Network) -> BlockObjective:
        """``theta -> (C, dC/dtheta)`` over every block, on the workers (for L-BFGS)."""
        return BlockObjective(net, self.blocks)


def _block_stats(net: Network, X, Y, sw, S: float, score: str) -> tuple:
    """One block's ``(S_k C_k / S ...)`` share of the cost and its score statistics."""
    S_k = float(len(X) if sw is None else np.sum(sw, dtype=np.float64))
    cost = 0.0
    if S_k > 0:
        w = np.full(len(X), 1.0 / S_k) if sw is None else sw / S_k
        # C = sum_k (S_k / S) C_k, each C_k carrying the whole batch's L2 term (n = S)
        cost = S_k / S * net.batch_cost(X, Y, w.astype(net.dtype), S)
    if score == "loss":
        return cost, None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        a = net.forward(X, validate=False)
    if score in ("argmax", "threshold"):
        if score == "argmax":
            right = a.argmax(axis=1) == Y.argmax(axis=1)
        else:
            right = ((a > 0.5) == (Y > 0.5)).all(axis=1)
        if sw is None:
            return cost, (int(right.sum()), len(X))
        return cost, (float(np.sum(sw[right], dtype=np.float64)), S_k)
    if sw is None:
        mean = Y.mean(axis=0)
        return cost, (len(X), mean, ((Y - mean) ** 2).sum(axis=0), ((Y - a) ** 2).sum(axis=0))
    w = np.asarray(sw, dtype=np.float64)[:, None]  # weighted moments, as r2_score weighs them
    mean = (w * Y).sum(axis=0) / S_k if S_k > 0 else np.zeros(Y.shape[1])
    return cost, (S_k, mean, (w * (Y - mean) ** 2).sum(axis=0), (w * (Y - a) ** 2).sum(axis=0))


def _r2(stats: list[tuple]) -> float:
    """R^2 (mean over outputs) from per-block ``(n, mean, M2, SS_res)``, ``n`` a weight sum
    for weighted blocks (Chan's combination of means and squared deviations)."""
    n, mean, M2, ss_res = stats[0]
    for n_k, mean_k, M2_k, res_k in stats[1:]:
        if n + n_k == 0:  # blocks that weigh nothing so far
            continue
        delta = mean_k - mean
        M2 = M2 + M2_k + delta**2 * n * n_k / (n + n_k)
        mean = mean + delta * n_k / (n + n_k)
        n, ss_res = n + n_k, ss_res + res_k
    # scikit-learn's r2_score: a constant target scores 1 when predicted exactly, else 0
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(M2 > 0, 1 - ss_res / M2, np.where(ss_res == 0, 1.0, 0.0))
    return float(np.mean(r2))


def evaluate(
    net: Network, blocks: Blocks, score: str, weight_sums: np.ndarray | None = None
) -> tuple[float, float]:
    """``(score, cost)`` of ``net`` on ``blocks``, each block on the workers: the cost is the
    weighted mean with the L2 term; the score is the accuracy (``"argmax"``: the most probable
    class, ``"threshold"``: every output on the right side of 0.5), R^2 (``"r2"``, the mean
    over outputs) or minus the cost (``"loss"``). Scores are weighted by the blocks' sample
    weights, as scikit-learn's ``score`` with ``sample_weight`` (unweighted without them)."""
    if score not in SCORES:
        raise ValueError(f"unknown score {score!r}; valid names are {list(SCORES)}")
    sums = blocks.weight_sums() if weight_sums is None else weight_sums
    S = float(sums.sum())
    copy = dask.delayed(net.copy())
    parts = [
        dask.delayed(_block_stats)(copy, *blocks.block(k), S, score) for k in range(len(blocks))
    ]
    results = dask.compute(*parts)
    cost = float(sum(c for c, _ in results))
    if score == "loss":
        return -cost, cost
    stats = [s for _, s in results]
    if score == "r2":
        return _r2(stats), cost
    return sum(c for c, _ in stats) / sum(n for _, n in stats), cost
