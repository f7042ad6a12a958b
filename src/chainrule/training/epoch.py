"""One epoch of minibatch steps through an engine's backend (the protocol of
:mod:`chainrule.engine.backend`): a whole epoch in one call where the backend has one for the
optimizer, else the one Python minibatch loop (:class:`MinibatchSteps`). The compiled and the
reference engine compute the same steps (``tests/test_native.py``)."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from chainrule._arrays import namespace
from chainrule.engine import ReferenceBackend, backend_for
from chainrule.optimizers import weight_slices
from chainrule.training.schedules import clip_gradient
from chainrule.training.state import TrainingRecord


class TrainingDivergedWarning(ConvergenceWarning):
    """The cost became infinite or NaN: training stopped and finite weights were restored."""


class Diverged(ArithmeticError):
    """The cost became infinite or NaN (most often, the learning rate is too large): raised at
    the first minibatch whose cost is not finite, before stepping on it."""

    def __init__(self, cost: float, message: str | None = None) -> None:
        super().__init__(message or f"the cost became {cost}")
        self.cost = cost


class EpochRunner:
    """Runs epochs of a network over a minibatch source (:mod:`chainrule.training.batches`)
    through the backend of the engine in use (:func:`chainrule.engine.backend_for`), which
    keeps its buffers from one epoch to the next."""

    def __init__(self, net, source, max_grad_norm: float | None = None) -> None:
        self.net = net
        self.source = source
        self.max_grad_norm = max_grad_norm
        self.dropout_key: int | None = None  # the epoch's, drawn by run
        self.grad = namespace(net.theta).empty_like(net.theta)
        self.batch_size = min(source.batch_size, source.n_samples)
        self.backend = backend_for(net, self.batch_size)
        # dense arrays for a backend that gathers them itself; else (another engine, blocks
        # streamed from a cluster) the source hands over its minibatches
        self.arrays = source.dense(net.dtype) if self.backend.gathers else None
        if self.arrays is not None:
            X, Y, sw = self.arrays
            self.arrays = X, Y, np.ascontiguousarray(sw, dtype=net.dtype)

    def run(self, optimizer, record: TrainingRecord) -> float:
        """One pass over the data; returns the epoch's loss as scikit-learn's: the minibatch
        costs weighted by their numbers of rows, ``sum_b |b| C_b / n``. Raises :class:`Diverged`
        at the first minibatch whose cost is not finite (before stepping on it)."""
        net, source = self.net, self.source
        optimizer.decayed = weight_slices(net.layer_sizes)  # decay W^m, not b^m
        # dropout: one key an epoch from the fit's random source, which masks each step
        # (chainrule.engine.reference.dropout_mask); no draw without dropout
        key = self.dropout_key = dropout_key(record.rng) if any(net.dropout) else None
        steps = MinibatchSteps(net, optimizer, self.max_grad_norm, self.backend)
        steps.dropout_key = key
        if self.arrays is not None:  # the backend gathers the minibatches itself
            order = source.order(record.rng)
            try:
                outcome = self.backend.epoch(
                    optimizer, *self.arrays, order, self.grad, self.max_grad_norm, key
                )
            except KeyboardInterrupt:
                record.steps += self.backend.steps  # the steps taken before Ctrl-C
                raise
            if outcome is None:  # no whole-epoch kernel for this optimizer
                outcome = steps.run(steps.gathered(*self.arrays, source.index_batches(order)))
        elif getattr(source, "run_steps", None) is not None:  # where the source's data is
            outcome = source.run_steps(steps, record.rng, net.dtype)
        else:
            outcome = steps.run(source.minibatches(record.rng, net.dtype))
        total, n_steps, cost = outcome
        record.steps += n_steps
        if cost is not None:
            raise Diverged(cost)
        return total / source.n_samples


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
    """The Python minibatch loop: one optimizer step per minibatch ``(X_b, Y_b, w, n_b)``
    handed over, through a backend's minibatch step (its cost and gradient, its update), the
    reference engine's by default. It holds the network and the optimizer and pickles with
    them (a compiled backend's buffers are made again where it is unpickled), so a source that
    keeps its data elsewhere (``chainrule.scale.BlockSource`` on a cluster) can run the steps
    where the data is and hand the updated pair back."""

    def __init__(self, net, optimizer, max_grad_norm: float | None, backend=None) -> None:
        self.net, self.optimizer = net, optimizer
        self.max_grad_norm = max_grad_norm
        self.backend = ReferenceBackend(net, 0) if backend is None else backend
        self.dropout_key: int | None = None  # the epoch's (EpochRunner.run draws it)
        self.taken = 0  # the epoch's steps so far, block after block: they number the masks

    def run(self, minibatches, grad=None) -> tuple[float, int, float | None]:
        """``(sum_b |b| C_b, steps, None)`` over ``minibatches``; at the first minibatch whose
        cost is not finite it stops before stepping and returns that cost third. ``grad``, a
        buffer laid out like ``theta``, holds the last minibatch's gradient after. Dropout's
        masks are those of step :attr:`taken` of the epoch, counted on."""
        net, total, n_steps = self.net, 0.0, 0
        if grad is None:
            grad = namespace(net.theta).empty_like(net.theta)
        backend, key = self.backend, self.dropout_key
        step = backend.update(self.optimizer)
        for minibatch in minibatches:
            cost = backend.cost_and_gradient(minibatch, grad, key, self.taken)
            if not math.isfinite(cost):
                return total, n_steps, cost
            take_step(step, grad, net.theta, self.max_grad_norm)
            n_steps += 1
            self.taken += 1
            total += cost * minibatch[0].shape[0]
        return total, n_steps, None

    def gathered(self, X, Y, sw, batches) -> Iterator[tuple]:
        """``(X_b, Y_b, w, n_b)`` for each index array of ``batches``, gathered by the backend
        (into its buffers, each minibatch valid until the next); ``w`` sums to 1, minibatches
        of weight 0 are skipped."""
        backend = self.backend
        for idx in batches:
            minibatch = backend.gather(X, Y, sw, idx)
            if minibatch[3] != 0:
                yield minibatch

    def adopt(self, other: MinibatchSteps) -> None:
        """Take over the weights and the optimizer's state of ``other`` (a copy of this one
        that ran elsewhere), in place: the network keeps its arrays."""
        self.net.theta[...] = other.net.theta
        vars(self.optimizer).update(vars(other.optimizer))
