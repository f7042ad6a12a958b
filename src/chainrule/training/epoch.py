"""One epoch of minibatch steps, on the compiled backend where it can run, else the reference
engine; both compute the same steps (``tests/test_fast_paths.py``)."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator

from scipy.sparse import issparse
from sklearn.exceptions import ConvergenceWarning

from chainrule._arrays import namespace
from chainrule.engine import compiled_backend
from chainrule.engine.select import compiled_module
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
    keeping the compiled backend's buffers from one epoch to the next."""

    def __init__(self, net, source, max_grad_norm: float | None = None) -> None:
        self.net = net
        self.source = source
        self.max_grad_norm = max_grad_norm
        self.grad = namespace(net.theta).empty_like(net.theta)
        self.arrays = source.dense(net.dtype)
        self.batch_size = min(source.batch_size, source.n_samples)
        # dense arrays: the compiled backend gathers them itself; without (blocks streamed
        # from a cluster), the minibatches the source hands over take its minibatch step
        self.backend = self.minibatch_backend = None
        if self.arrays is not None:
            self.backend = compiled_backend(net, self.batch_size, source.n_samples)

    def run(self, optimizer, record: TrainingRecord) -> float:
        """One pass over the data; returns the epoch's loss as scikit-learn's: the minibatch
        costs weighted by their numbers of rows, ``sum_b |b| C_b / n``. Raises :class:`Diverged`
        at the first minibatch whose cost is not finite (before stepping on it)."""
        if self.backend is None and self.minibatch_backend is None:  # a long fit moves to it
            seen = record.steps * self.batch_size + self.source.n_samples
            backend = compiled_backend(self.net, self.batch_size, seen)
            if self.arrays is not None:
                self.backend = backend
            else:
                self.minibatch_backend = backend
        if self.backend is None:
            return self._run_reference(optimizer, record)
        return self._run_compiled(optimizer, record)

    def _step(self, step, cost: float, record: TrainingRecord) -> None:
        """One optimizer step from a minibatch's gradient, unless its cost is not finite."""
        if not math.isfinite(cost):
            raise Diverged(cost)
        take_step(step, self.grad, self.net.theta, self.max_grad_norm)
        record.steps += 1

    def _run_reference(self, optimizer, record: TrainingRecord) -> float:
        """The source's minibatches one by one (:class:`MinibatchSteps`), here or, for a source
        that keeps its data elsewhere and has ``run_steps``, where the data is."""
        net = self.net
        steps = MinibatchSteps(net, optimizer, self.max_grad_norm, self.minibatch_backend)
        run_steps = getattr(self.source, "run_steps", None)
        if run_steps is not None:
            total, n_steps, cost = run_steps(steps, record.rng, net.dtype)
        else:
            total, n_steps, cost = steps.run(self.source.minibatches(record.rng, net.dtype))
        record.steps += n_steps
        if cost is not None:
            raise Diverged(cost)
        return total / self.source.n_samples

    def _run_compiled(self, optimizer, record: TrainingRecord) -> float:
        compiled, backend, source = compiled_module(), self.backend, self.source
        X, Y, sw = self.arrays
        order = source.order(record.rng)
        if self.max_grad_norm is None and compiled.small_problem(self.net, backend.batch_size):
            done = backend.run_epoch(optimizer, X, Y, sw, order, self.grad)
            if done is not None:
                total, steps = done  # the kernel stops at a step whose cost is not finite
                record.steps += steps
                if not math.isfinite(total):
                    raise Diverged(total)
                return total / source.n_samples
        step = compiled.fused_step(optimizer, self.net.theta)
        batches = source.index_batches(order)
        total = 0.0
        with contextlib.ExitStack() as stack:
            if source.shuffle and compiled.prefetch_pays(backend.batch_size, X):
                # minibatch k + 1 is gathered on a worker thread during step k
                batches = stack.enter_context(backend.prefetched(X, Y, sw, batches))
            else:
                batches = (
                    (idx, backend.gather(X, Y, sw, idx, not source.shuffle)) for idx in batches
                )
            for idx, minibatch in batches:
                if minibatch[3] == 0:  # no weight
                    continue
                cost = backend.cost_and_gradient(minibatch, self.grad)
                self._step(step, cost, record)
                total += cost * len(idx)
        return total / source.n_samples


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

    def run(self, minibatches) -> tuple[float, int, float | None]:
        """``(sum_b |b| C_b, steps, None)`` over ``minibatches``; at the first minibatch whose
        cost is not finite it stops before stepping and returns that cost third."""
        net, total, n_steps = self.net, 0.0, 0
        grad = namespace(net.theta).empty_like(net.theta)
        backend, step = self._backend(), self.optimizer.step
        if backend is not None:
            step = compiled_module().fused_step(self.optimizer, net.theta)
        for X_b, Y_b, w, n_b in minibatches:
            if backend is not None and not issparse(X_b) and X_b.dtype == Y_b.dtype == net.dtype:
                cost = backend.cost_and_gradient((X_b, Y_b, w, n_b), grad)
            else:
                cost, _ = net.batch_cost_and_gradient(X_b, Y_b, w, n_b, grad)
            if not math.isfinite(cost):
                return total, n_steps, cost
            take_step(step, grad, net.theta, self.max_grad_norm)
            n_steps += 1
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
