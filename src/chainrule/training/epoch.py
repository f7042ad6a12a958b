"""One epoch of minibatch steps, on the compiled engine where it can run, else the reference
engine; both compute the same steps (``tests/test_native.py``)."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from scipy.sparse import issparse
from sklearn.exceptions import ConvergenceWarning

from chainrule._arrays import namespace
from chainrule.engine import compiled_backend
from chainrule.engine.reference import dropout_masks
from chainrule.engine.select import compiled_module
from chainrule.optimizers import weight_slices
from chainrule.training.schedules import clip_gradient
from chainrule.training.state import TrainingRecord


class TrainingDivergedWarning(ConvergenceWarning):
    """The cost became infinite or NaN: training stopped and finite weights were restored."""


class Diverged(ArithmeticError):
    """Raised inside an epoch when a minibatch's cost is not finite."""

    def __init__(self, cost: float) -> None:
        super().__init__(f"the cost became {cost}")
        self.cost = cost


class EpochRunner:
    """Runs epochs of a network over a minibatch source (:mod:`chainrule.training.batches`),
    keeping the compiled engine's buffers from one epoch to the next."""

    def __init__(self, net, source, max_grad_norm: float | None = None) -> None:
        self.net = net
        self.source = source
        self.max_grad_norm = max_grad_norm
        self.dropout_key: int | None = None  # the epoch's, drawn by run
        self.grad = namespace(net.theta).empty_like(net.theta)
        self.batch_size = min(source.batch_size, source.n_samples)
        # the compiled engine from the first step, for every built-in network on NumPy arrays
        self.backend = compiled_backend(net, self.batch_size)
        # dense arrays: the compiled engine gathers them itself; without (blocks streamed from
        # a cluster), the minibatches the source hands over take its minibatch step
        self.arrays = source.dense(net.dtype) if self.backend is not None else None
        if self.arrays is not None:
            X, Y, sw = self.arrays
            self.arrays = X, Y, np.ascontiguousarray(sw, dtype=net.dtype)

    def run(self, optimizer, record: TrainingRecord) -> float:
        """One pass over the data; returns the epoch's loss as scikit-learn's: the minibatch
        costs weighted by their numbers of rows, ``sum_b |b| C_b / n``. Raises :class:`Diverged`
        at the first minibatch whose cost is not finite (before stepping on it)."""
        optimizer.decayed = weight_slices(self.net.layer_sizes)  # decay W^m, not b^m
        # dropout: one key an epoch from the fit's random source, which masks each step
        # (chainrule.engine.reference.dropout_mask); no draw without dropout
        self.dropout_key = dropout_key(record.rng) if any(self.net.dropout) else None
        if self.arrays is None:
            return self._run_minibatches(optimizer, record)
        return self._run_compiled(optimizer, record)

    def _run_minibatches(self, optimizer, record: TrainingRecord, batches=None) -> float:
        """The minibatches one by one (:class:`MinibatchSteps`): ``batches``' index arrays
        gathered by the compiled engine, else the source's, here or, for a source that keeps
        its data elsewhere and has ``run_steps``, where the data is."""
        net = self.net
        steps = MinibatchSteps(net, optimizer, self.max_grad_norm, self.backend)
        steps.dropout_key = self.dropout_key
        run_steps = getattr(self.source, "run_steps", None)
        if batches is not None:
            total, n_steps, cost = steps.run(steps.gathered(*self.arrays, batches))
        elif run_steps is not None:
            total, n_steps, cost = run_steps(steps, record.rng, net.dtype)
        else:
            total, n_steps, cost = steps.run(self.source.minibatches(record.rng, net.dtype))
        record.steps += n_steps
        if cost is not None:
            raise Diverged(cost)
        return total / self.source.n_samples

    def _run_compiled(self, optimizer, record: TrainingRecord) -> float:
        """The whole epoch in one call to the compiled engine, or, for an optimizer it has no
        rule for, its minibatches gathered and differentiated there and stepped here."""
        X, Y, sw = self.arrays
        order, backend = self.source.order(record.rng), self.backend
        update = compiled_module().rule(optimizer, self.net.theta)
        if update is None:
            return self._run_minibatches(optimizer, record, self.source.index_batches(order))
        try:
            total, diverged = backend.run_epoch(
                optimizer,
                update,
                X,
                Y,
                sw,
                order,
                self.grad,
                self.max_grad_norm,
                self.dropout_key,
            )
        finally:
            record.steps += backend.steps  # Ctrl-C included
        if diverged or not math.isfinite(total):  # a cost, or the sum of the costs
            raise Diverged(backend.last_cost if diverged else total)
        return total / self.source.n_samples


def dropout_key(rng) -> int:
    """An epoch's dropout key: 63 bits of the fit's random source (a ``RandomState`` or a
    ``Generator``), so that a fit replays, and a resumed one goes on with, the same masks."""
    return int.from_bytes(rng.bytes(8), "little") >> 1


def take_step(step, grad, theta, max_grad_norm: float | None) -> None:
    """One optimizer step from a minibatch's gradient, clipped to ``max_grad_norm``."""
    if max_grad_norm is not None:
        clip_gradient(grad, max_grad_norm)
    step(theta, grad)


class MinibatchSteps:
    """One optimizer step per minibatch ``(X_b, Y_b, w, n_b)`` handed over: the compiled
    minibatch step where a compiled ``backend`` is given (a built-in network, dense minibatches
    of its dtype), else the reference engine. It holds the network and the optimizer and
    pickles with them (the backend's buffers are made again where it is unpickled), so a source
    that keeps its data elsewhere (``chainrule.scale.BlockSource`` on a cluster) can run the
    steps where the data is and hand the updated pair back."""

    def __init__(self, net, optimizer, max_grad_norm: float | None, backend=None) -> None:
        self.net, self.optimizer = net, optimizer
        self.max_grad_norm = max_grad_norm
        self.backend = backend
        self.batch_size = None if backend is None else backend.batch_size
        self.dropout_key: int | None = None  # the epoch's (EpochRunner.run draws it)
        self.taken = 0  # the epoch's steps so far, block after block: they number the masks

    def run(self, minibatches) -> tuple[float, int, float | None]:
        """``(sum_b |b| C_b, steps, None)`` over ``minibatches``; at the first minibatch whose
        cost is not finite it stops before stepping and returns that cost third."""
        net, total, n_steps = self.net, 0.0, 0
        grad = namespace(net.theta).empty_like(net.theta)
        backend, step = self._backend(), self.optimizer.step
        if backend is not None:
            step = compiled_module().fused_step(self.optimizer, net.theta)
        key = self.dropout_key
        for X_b, Y_b, w, n_b in minibatches:
            if backend is not None and not issparse(X_b) and X_b.dtype == Y_b.dtype == net.dtype:
                cost = backend.cost_and_gradient((X_b, Y_b, w, n_b), grad, key, self.taken)
            else:
                masks = None
                if key is not None:  # dropout's masks of this step of the epoch
                    args = key, self.taken, net.layer_sizes, X_b.shape[0], net.theta
                    masks = dropout_masks(net.dropout, *args)
                cost, _ = net.batch_cost_and_gradient(X_b, Y_b, w, n_b, grad, masks)
            if not math.isfinite(cost):
                return total, n_steps, cost
            take_step(step, grad, net.theta, self.max_grad_norm)
            n_steps += 1
            self.taken += 1
            total += cost * X_b.shape[0]
        return total, n_steps, None

    def gathered(self, X, Y, sw, batches) -> Iterator[tuple]:
        """``(X_b, Y_b, w, n_b)`` for each index array of ``batches``: the rows of the dense
        ``X``, ``Y`` (of the network's dtype) and weights ``sw``, gathered into the compiled
        backend's buffers (each minibatch is valid until the next), else taken by indexing;
        ``w`` sums to 1, minibatches of weight 0 are skipped."""
        backend = self._backend()
        for idx in batches:
            if backend is not None:
                minibatch = backend.gather(X, Y, sw, idx)
            else:
                sw_b = sw[idx]
                n_b = float(sw_b.sum())
                minibatch = X[idx], Y[idx], sw_b / (n_b or 1.0), n_b
            if minibatch[3] != 0:
                yield minibatch

    def _backend(self):
        """The compiled backend for this network, or None (the reference engine)."""
        if self.backend is None and self.batch_size is not None:  # unpickled: buffers anew
            module = compiled_module()
            self.backend = module.CompiledBackend.for_network(self.net, self.batch_size)
        return self.backend

    def __getstate__(self) -> dict:
        return {**self.__dict__, "backend": None}  # its buffers are made again where needed

    def adopt(self, other: MinibatchSteps) -> None:
        """Take over the weights and the optimizer's state of ``other`` (a copy of this one
        that ran elsewhere), in place: the network keeps its arrays."""
        self.net.theta[...] = other.net.theta
        vars(self.optimizer).update(vars(other.optimizer))
