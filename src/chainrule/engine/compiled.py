"""The compiled backend: the reference engine's equations fused by numba, for built-in networks.

A network is built-in when its hidden activations are among relu, tanh, sigmoid (slope 1) and
identity and its output activation and cost are a canonical pair (identity + squared error,
softmax + categorical cross-entropy, sigmoid + binary cross-entropy). For those,
:class:`CompiledBackend` runs one minibatch in one compiled call
(:func:`chainrule.engine.kernels.cost_and_gradient`: BLAS products, and the bias, activation,
output, ReLU mask, ``db^m`` and L2 term each fused into one pass), the optimizer's update fused
into one pass over the flat buffers (looked up by the optimizer's name, :data:`FUSED_STEPS`),
and the gather of a minibatch compiled. For small networks and minibatches, where BLAS calls
cost more than they compute, one compiled kernel runs a whole epoch with the products as loops
(:meth:`CompiledBackend.run_epoch`). On large problems, when the BLAS leaves a core idle,
minibatch k + 1 is gathered on a worker thread during step k (:meth:`CompiledBackend.prefetched`).

A float32 ``X`` trains a float64 network without a float64 copy of the data: each minibatch is
cast as it is gathered. Without shuffling, the minibatches are slices of ``X`` read in place.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import ThreadpoolController

from chainrule.engine import kernels
from chainrule.engine.reference import uses_canonical_link

#: the hidden activations of the kernels, by their code there (kernels.bias_activate)
HIDDEN_CODES = {"identity": 0, "relu": 1, "tanh": 2, "sigmoid": 3}
#: the canonical (output activation, cost) pairs, by their code (kernels.output_layer)
OUTPUT_CODES = {
    ("identity", "squared_error"): 0,
    ("softmax", "categorical_cross_entropy"): 1,
    ("sigmoid", "binary_cross_entropy"): 2,
}


def builtin_name(act) -> str | None:
    """The activation's name if it is a built-in one with no parameter (slope 1), else None."""
    if act.name == "sigmoid" and getattr(act, "beta", 1.0) != 1.0:
        return None
    return act.name if type(act).__module__ == "chainrule.activations" else None


def network_codes(net) -> tuple[np.ndarray, np.ndarray, int] | None:
    """``(sizes, hidden codes, output code)`` of a built-in network, else None."""
    hidden = [HIDDEN_CODES.get(builtin_name(a)) for a in net.activations[:-1]]
    output = net.activations[-1]
    if not uses_canonical_link(output, net.cost_function):
        return None
    out_code = OUTPUT_CODES.get((builtin_name(output), net.cost_function.name))
    if out_code is None or None in hidden:
        return None
    sizes = np.asarray(net.layer_sizes, dtype=np.int64)
    return sizes, np.asarray(hidden, dtype=np.int64), out_code


# -- fused optimizer steps, by the optimizer's name ----------------------------------------------


def _gradient_descent(opt, theta, grad) -> None:
    kernels.descent_step(theta, grad, theta.dtype.type(opt.learning_rate))


def _momentum(opt, theta, grad) -> None:
    opt.init_state(theta)
    dt = theta.dtype.type
    kernels.momentum_step(
        theta, grad, opt.velocity, dt(opt.momentum), dt(opt.learning_rate), opt.nesterov
    )


def _adam(opt, theta, grad) -> None:
    opt.init_state(theta)
    opt.t += 1
    dt = theta.dtype.type
    b1, b2 = opt.beta_1, opt.beta_2
    kernels.adam_step(
        theta, grad, opt.m, opt.v, dt(b1), dt(1 - b1), dt(b2), dt(1 - b2), dt(opt.epsilon),
        dt(opt.step_size(opt.t)),
    )  # fmt: skip


#: ``optimizer.name -> step(optimizer, theta, grad)``: the update rule in one pass
FUSED_STEPS: dict[str, Callable] = {
    "gradient_descent": _gradient_descent,
    "momentum": _momentum,
    "adam": _adam,
}


def fused_step(optimizer, theta: np.ndarray) -> Callable[[np.ndarray, np.ndarray], None]:
    """``step(theta, grad)``: the optimizer's fused form if it has one, else its own step."""
    fused = FUSED_STEPS.get(optimizer.name)
    state = [s for s in optimizer.state().values() if isinstance(s, np.ndarray)]
    if fused is None or any(s.dtype != theta.dtype or s.shape != theta.shape for s in state):
        return optimizer.step
    return lambda theta, grad: fused(optimizer, theta, grad)


def epoch_optimizer(optimizer, theta: np.ndarray) -> tuple | None:
    """The arguments of :func:`kernels.run_epoch` for the optimizer's rule, or None."""
    if optimizer.name not in FUSED_STEPS:
        return None
    optimizer.init_state(theta)
    state = [s for s in optimizer.state().values() if isinstance(s, np.ndarray)]
    if any(s.dtype != theta.dtype or s.shape != theta.shape for s in state):
        return None
    empty = np.empty(0, dtype=theta.dtype)
    if optimizer.name == "adam":
        o = optimizer
        return 3, o.m, o.v, o.beta_1, o.beta_2, o.epsilon, o.t
    if optimizer.name == "momentum":
        code = 2 if optimizer.nesterov else 1
        return code, optimizer.velocity, empty, optimizer.momentum, 0.0, 0.0, 0
    return 0, empty, empty, 0.0, 0.0, 0.0, 0


# -- the backend --------------------------------------------------------------------------------


class CompiledBackend:
    """Minibatches of up to ``batch_size`` rows of a dense C-contiguous ``X`` (of the network's
    dtype, or float32 for a float64 network) through the kernels, in buffers allocated once.
    Make one with :meth:`for_network`, which says None for a network that is not built-in."""

    def __init__(self, net, batch_size: int, codes: tuple) -> None:
        self.net = net
        self.batch_size = bs = int(batch_size)
        dt, sizes = net.dtype, net.layer_sizes
        self.X = np.empty((bs, sizes[0]), dtype=dt)
        self.Y = np.empty((bs, sizes[-1]), dtype=dt)
        self.w = np.empty(bs, dtype=dt)
        self.X2 = self.Y2 = self.w2 = None  # the second buffers of prefetched
        self.codes = codes
        self.work = np.empty(4 * bs * sum(sizes[1:]), dtype=dt)  # z, a, sigma', delta
        self.WT = np.empty(max(W.size for W in net.W), dtype=dt)  # room for any W^T
        self.no_WT = np.empty(0, dtype=dt)

    @classmethod
    def for_network(cls, net, batch_size: int) -> CompiledBackend | None:
        codes = network_codes(net)
        return None if codes is None else cls(net, batch_size, codes)

    def matches(self, net, batch_size: int) -> bool:
        return self.net is net and self.batch_size == batch_size

    def gather(self, X, Y, sw, idx, contiguous: bool = False):
        """The minibatch ``(X[idx], Y[idx], w = sw[idx] / n_b, n_b)`` in the buffers.

        ``contiguous``: ``idx`` is a run ``i, i + 1, ...`` (no shuffling), so ``X`` and ``Y`` are
        read in place when their dtype is the network's."""
        nb = len(idx)
        Xb, Yb, wb = self.X[:nb], self.Y[:nb], self.w[:nb]
        if contiguous and X.dtype == Xb.dtype:
            rows = slice(int(idx[0]), int(idx[0]) + nb)
            np.copyto(wb, sw[rows])
            n_b = float(wb.sum())
            if n_b != 0:
                np.divide(wb, n_b, out=wb)
            return X[rows], Y[rows], wb, n_b
        return Xb, Yb, wb, kernels.gather_minibatch(X, Y, sw, idx, Xb, Yb, wb)

    @contextlib.contextmanager
    def prefetched(self, X, Y, sw, batches: Iterable[np.ndarray]):
        """``(idx, minibatch)`` for each ``idx`` of ``batches``, the minibatch (what
        :meth:`gather` returns) gathered by the compiled kernel on a worker thread while the
        caller computes the step of the one before: the kernel releases the GIL, so with 1 BLAS
        thread the copy runs on the second core. The worker is joined when the block exits."""
        if self.X2 is None:
            self.X2, self.Y2, self.w2 = (np.empty_like(B) for B in (self.X, self.Y, self.w))
        buffers = ((self.X, self.Y, self.w), (self.X2, self.Y2, self.w2))

        def gather(idx, buffer):
            Xb, Yb, wb = (B[: len(idx)] for B in buffer)
            return Xb, Yb, wb, kernels.gather_minibatch(X, Y, sw, idx, Xb, Yb, wb)

        def pipeline(pool):
            rest = iter(batches)
            idx = next(rest, None)
            if idx is None:
                return
            # the first minibatch has nothing to overlap with: gathered here, in the thread
            # where numba loads the other kernels (loading one in the worker costs memory)
            current = idx, gather(idx, buffers[0])
            for i, idx in enumerate(rest, start=1):
                # buffer i % 2 is free: the caller is done with minibatch i - 2
                future = pool.submit(gather, idx, buffers[i % 2])
                yield current
                current = idx, future.result()
            yield current

        pool = ThreadPoolExecutor(1, thread_name_prefix="chainrule-gather")
        try:
            yield pipeline(pool)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def cost_and_gradient(self, minibatch, grad: np.ndarray) -> float:
        """The cost of a gathered minibatch and its gradient in ``grad`` (one compiled call)."""
        Xb, Yb, w, n_b = minibatch
        if not (Xb.flags.c_contiguous and Yb.flags.c_contiguous):
            Xb, Yb = np.ascontiguousarray(Xb), np.ascontiguousarray(Yb)
        sizes, hidden, out = self.codes
        net = self.net
        return kernels.cost_and_gradient(
            Xb, Yb, w, n_b, net.theta, grad, sizes, hidden, out, float(net.alpha), self.work,
            self.no_WT, True,
        )  # fmt: skip

    def run_epoch(self, optimizer, X, Y, sw, order: np.ndarray, grad) -> tuple[float, int] | None:
        """A whole epoch over ``X[order]`` in one kernel; returns ``(sum_b |b| C_b, steps)``, or
        None (nothing done) when the kernel does not handle the optimizer."""
        theta = self.net.theta
        args = epoch_optimizer(optimizer, theta)
        if args is None:
            return None
        code, s1, s2, p1, p2, eps, t0 = args
        sizes, hidden, out = self.codes
        total, steps = kernels.run_epoch(
            X, Y, sw, order.astype(np.int64, copy=False), theta, grad, sizes, hidden, out,
            float(self.net.alpha), code, float(optimizer.learning_rate), float(p1), float(p2),
            float(eps), s1, s2, int(t0), self.X, self.Y, self.w, self.work, self.WT,
        )  # fmt: skip
        if code == 3:
            optimizer.t += int(steps)
        return float(total), int(steps)


def small_problem(net, batch_size: int) -> bool:
    """Whether a step is small enough that numpy's per-call cost dominates it (the epoch
    kernel's loops then beat BLAS): about 500k multiply-adds per forward pass or fewer."""
    return sum(W.size for W in net.W) * batch_size <= 500_000


def prefetch_pays(batch_size: int, X) -> bool:
    """Whether to gather each minibatch on a second thread: when the BLAS leaves a core idle
    (with as many BLAS threads as cores, the gather slows the products down more than it
    saves) and minibatches hold at least ~64k values (below, handing one to the thread costs
    about what copying it does)."""
    return batch_size * X.shape[1] >= 65536 and blas_threads() < cores()


_blas: list = []


def blas_threads() -> int:
    """The most threads a loaded BLAS runs a product on now (``threadpoolctl``)."""
    if not _blas:
        _blas.append(ThreadpoolController().select(user_api="blas"))
    return max((lib.num_threads for lib in _blas[0].lib_controllers), default=1)


def cores() -> int:
    """The CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # pragma: no cover - macOS, Windows
