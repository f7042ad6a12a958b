"""Fast paths for minibatch training: the same equations as :mod:`chainrule.network`, run in
buffers allocated once per fit, and optional numba kernels that fuse them.

Three engines compute one minibatch step (``chainrule.network`` stays the reference):

``"reference"``
    ``Network._cost_and_gradient(X[idx], ...)`` then ``optimizer.step``: the readable path,
    allocating every intermediate array.
``"numpy"``
    :class:`MinibatchEngine`: the minibatch is gathered with ``np.take`` into a preallocated
    buffer; every ``z^m``, ``a^m``, ``delta^m`` lives in a buffer made once per fit and is
    written with ``out=``; ReLU's derivative is a multiply by the mask ``z >= 0`` kept from the
    forward pass; ``db^m`` is a matrix-vector product with a vector of ones.
``"numba"`` (the default when numba is installed: ``pip install chainrule[fast]``)
    The numpy engine's buffers, with each minibatch of a built-in network (the hidden
    activations relu, tanh, logistic, identity; a canonical output and cost) computed in one
    compiled call (:func:`chainrule._kernels.cost_and_gradient`: BLAS products, and the bias,
    activation, output, ReLU mask, ``db^m`` and L2 term each fused into one pass), the
    optimizer update fused into one pass over the flat buffers, and the gather of a minibatch
    compiled. For small networks and minibatches, where BLAS calls cost more than they
    compute, one compiled kernel runs a whole epoch with the products as loops
    (:func:`chainrule._kernels.run_epoch`). On large problems, when the BLAS leaves a core idle
    (1 BLAS thread on 2 cores), minibatch k + 1 is gathered on a worker thread during step k
    (:meth:`MinibatchEngine.prefetched`, :func:`prefetch_pays`).

Without shuffling, the minibatches are slices of ``X`` read in place (no gather). A float32
``X`` trains a float64 network (``dtype="float64"``) without a float64 copy of the data: each
minibatch is cast as it is gathered.

All three give the same weights up to floating-point rounding (``tests/test_fast_paths.py``).
Choose one with ``CHAINRULE_ENGINE=reference|numpy|numba`` or :func:`use_engine`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy.special import expit

ENGINES = ("reference", "numpy", "numba")

_override: list[str] = []
_numba_state: dict = {}


def numba_available() -> bool:
    """Whether numba can be imported (it is imported only when first asked)."""
    if "ok" not in _numba_state:
        try:
            import numba  # noqa: F401
        except Exception:  # pragma: no cover - numba missing or broken
            _numba_state["ok"] = False
        else:
            _numba_state["ok"] = True
    return _numba_state["ok"]


def engine() -> str:
    """The engine in use: :func:`use_engine`'s, else ``$CHAINRULE_ENGINE``, else the fastest
    available (``"numba"`` when numba is installed, ``"numpy"`` otherwise)."""
    name = _override[-1] if _override else os.environ.get("CHAINRULE_ENGINE", "").strip()
    if not name:
        return "numba" if numba_available() else "numpy"
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}; valid names are {list(ENGINES)}")
    if name == "numba" and not numba_available():
        return "numpy"
    return name


@contextlib.contextmanager
def use_engine(name: str) -> Iterator[None]:
    """Train with engine ``name`` inside the ``with`` block."""
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}; valid names are {list(ENGINES)}")
    _override.append(name)
    try:
        yield
    finally:
        _override.pop()


def kernels():
    """The compiled kernels module, or None when the engine is not ``"numba"``."""
    if engine() != "numba":
        return None
    from chainrule import _kernels

    return _kernels


# -- the numpy engine ---------------------------------------------------------------------------

#: the hidden activations of the compiled kernels, by their code there (_kernels._bias_activate)
_HIDDEN_CODES = {"identity": 0, "relu": 1, "tanh": 2, "sigmoid": 3}


def _plain(act) -> str | None:
    """The activation's name if it is a built-in one with no parameter (slope 1), else None."""
    if act.name == "sigmoid" and getattr(act, "beta", 1.0) != 1.0:
        return None
    return act.name if type(act).__module__ == "chainrule.activations" else None


class MinibatchEngine:
    """Forward and backward passes of minibatches of up to ``batch_size`` rows of a dense
    ``X`` (of the network's dtype, or float32 for a float64 network: each minibatch is cast as
    it is gathered), in buffers allocated once.

    :meth:`cost_and_gradient` is ``Network._cost_and_gradient`` of the rows ``idx``: the same
    equations in the same order, written into preallocated arrays.
    """

    def __init__(self, net, batch_size: int) -> None:
        self.net = net
        self.batch_size = bs = int(batch_size)
        dt = net.dtype
        sizes = net.layer_sizes
        self.X = np.empty((bs, sizes[0]), dtype=dt)
        self.Y = np.empty((bs, sizes[-1]), dtype=dt)
        self.w = np.empty(bs, dtype=dt)
        self.ones = np.ones(bs, dtype=dt)
        self.Z = [np.empty((bs, n), dtype=dt) for n in sizes[1:]]
        self.A = [np.empty((bs, n), dtype=dt) for n in sizes[1:]]
        self.D = [np.empty((bs, n), dtype=dt) for n in sizes[1:]]
        self.T = [np.empty((bs, n), dtype=dt) for n in sizes[1:]]  # sigma'(z^m) or the mask
        self.wtmp = np.empty(max(W.size for W in net.W), dtype=dt)
        self.hidden = [_plain(a) for a in net.activations[:-1]]
        out = net.activations[-1]
        pair = (_plain(out), net.cost_function.name if net._uses_canonical_link() else None)
        self.output = {
            ("softmax", "categorical_cross_entropy"): "softmax_xent",
            ("sigmoid", "binary_cross_entropy"): "sigmoid_xent",
            ("identity", "squared_error"): "identity_se",
        }.get(pair)
        self.kernels = kernels()
        # built-in networks run a whole minibatch in one compiled call (_kernels.cost_and_gradient)
        self.compiled = None
        if self.kernels is not None and all(h in _HIDDEN_CODES for h in self.hidden):
            out_code = {"identity_se": 0, "softmax_xent": 1, "sigmoid_xent": 2}.get(self.output)
            if out_code is not None:
                hidden = np.array([_HIDDEN_CODES[h] for h in self.hidden], dtype=np.int64)
                self.compiled = np.asarray(sizes, dtype=np.int64), hidden, out_code
                self.work = np.empty(4 * bs * sum(sizes[1:]), dtype=dt)  # z, a, sigma', delta
                self.no_WT = np.empty(0, dtype=dt)

    def matches(self, net, batch_size: int) -> bool:
        return self.net is net and self.batch_size == batch_size and self.kernels is kernels()

    def gather(
        self, X, Y, sw, idx, contiguous: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """The minibatch ``X[idx]``, ``Y[idx]`` and ``w = sw[idx] / n_b`` in the buffers.

        ``X`` may be float32 for a float64 network: the rows are cast as they are gathered (no
        float64 copy of the whole data set is ever made). ``contiguous``: ``idx`` is a run
        ``i, i + 1, ...`` (no shuffling), so ``X`` and ``Y`` are read in place when their dtype
        is the network's.
        """
        nb = len(idx)
        Xb, Yb, wb = self.X[:nb], self.Y[:nb], self.w[:nb]
        k = self.kernels
        if contiguous and X.dtype == Xb.dtype and X.flags.c_contiguous:
            rows = slice(int(idx[0]), int(idx[0]) + nb)
            Xb, Yb = X[rows], Y[rows]
            np.copyto(wb, sw[rows])
        elif k is not None and X.flags.c_contiguous and Y.flags.c_contiguous:
            n_b = k.gather_minibatch(X, Y, sw, idx, Xb, Yb, wb)  # the lines below, fused
            return Xb, Yb, wb, n_b
        else:
            if X.dtype == Xb.dtype:
                np.take(X, idx, axis=0, out=Xb, mode="clip")
            else:  # float32 data, float64 network: gather in X's dtype, then cast
                if getattr(self, "X_raw", None) is None or self.X_raw.dtype != X.dtype:
                    self.X_raw = np.empty(self.X.shape, dtype=X.dtype)
                np.take(X, idx, axis=0, out=self.X_raw[:nb], mode="clip")
                Xb[...] = self.X_raw[:nb]
            np.take(Y, idx, axis=0, out=Yb, mode="clip")
            np.take(sw, idx, out=wb, mode="clip")
        n_b = float(wb.sum())
        if n_b != 0:
            np.divide(wb, n_b, out=wb)
        return Xb, Yb, wb, n_b

    def forward(self, a: np.ndarray) -> None:
        """``z^m = W^m a^(m-1) + b^m`` and ``a^m = sigma^m(z^m)`` into ``Z[m]``, ``A[m]``."""
        net, nb = self.net, a.shape[0]
        for m in range(net.L):
            Z, A, T = self.Z[m][:nb], self.A[m][:nb], self.T[m][:nb]
            np.matmul(a, net.W[m].T, out=Z)
            name = self.hidden[m] if m < net.L - 1 else None
            Z += net.b[m]  # z^m = W^m a^(m-1) + b^m
            if name == "relu":
                np.greater_equal(Z, 0, out=T)  # sigma'(z) = 1 for z >= 0, kept for backward
                np.multiply(Z, T, out=A)  # a = max(0, z) = z (z >= 0)
            elif name == "tanh":
                np.tanh(Z, out=A)
            elif name == "sigmoid" or (m == net.L - 1 and self.output == "sigmoid_xent"):
                expit(Z, out=A)
            elif name == "identity" or (m == net.L - 1 and self.output == "identity_se"):
                A[...] = Z
            elif m == net.L - 1 and self.output == "softmax_xent":
                # a_k = exp(z_k - max z) / sum_j exp(z_j - max z)
                np.subtract(Z, Z.max(axis=1, keepdims=True), out=A)
                np.exp(A, out=A)
                A /= A.sum(axis=1, keepdims=True)
            else:
                A[...] = net.activations[m](Z)
            a = A

    @contextlib.contextmanager
    def prefetched(self, X, Y, sw, batches: Iterable[np.ndarray]):
        """``(idx, minibatch)`` for each ``idx`` of ``batches``, the minibatch (what
        :meth:`gather` returns) gathered by the compiled kernel on a worker thread while the
        caller computes the step of the one before: the kernel releases the GIL, so with 1 BLAS
        thread the copy runs on the second core. The same rows, copied the same way, into two
        buffers used in turn. The worker is joined when the ``with`` block exits, however it
        exits."""
        if getattr(self, "X2", None) is None:
            self.X2, self.Y2, self.w2 = (np.empty_like(B) for B in (self.X, self.Y, self.w))
        buffers = ((self.X, self.Y, self.w), (self.X2, self.Y2, self.w2))
        gather_minibatch = self.kernels.gather_minibatch

        def gather(idx, buffer):
            Xb, Yb, wb = (B[: len(idx)] for B in buffer)
            return Xb, Yb, wb, gather_minibatch(X, Y, sw, idx, Xb, Yb, wb)

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

    def cost_and_gradient(
        self, X, Y, sw, idx, grad, contiguous: bool = False, minibatch=None
    ) -> tuple[float, float]:
        """The cost of the minibatch ``idx`` and its gradient in ``grad``; returns ``(cost,
        n_b)`` with ``n_b`` the sum of its sample weights (no step is due when it is 0).
        ``minibatch``: that minibatch already gathered (:meth:`prefetched`)."""
        net = self.net
        Xb, Yb, w, n_b = minibatch or self.gather(X, Y, sw, idx, contiguous)
        if n_b == 0:
            return 0.0, 0.0
        arrays = (Xb, Yb, net.theta, grad)
        if self.compiled is not None and all(B.flags.c_contiguous for B in arrays):
            sizes, hidden, out = self.compiled
            cost = self.kernels.cost_and_gradient(
                Xb, Yb, w, n_b, net.theta, grad, sizes, hidden, out, float(net.alpha),
                self.work, self.no_WT, True,
            )  # fmt: skip
            return cost, n_b
        nb = Xb.shape[0]
        self.forward(Xb)
        L = net.L
        zL, aL, D = self.Z[-1][:nb], self.A[-1][:nb], self.D[-1][:nb]
        # delta^L = dC/dz^L, each row weighted by w_i
        if self.output is not None:
            np.subtract(aL, Yb, out=D)  # canonical link: dC/dz^L = a^L - y
            costs = self._output_costs(zL, aL, Yb)
        else:
            D[...] = net._output_delta(zL, aL, Yb)
            costs = net._sample_costs(zL, aL, Yb)
        D *= w[:, None]
        cost = float(w @ costs)
        if getattr(self, "views", None) is None or self.views[0] is not grad:
            self.views = (grad, *net.unflatten(grad))
        _, dW, db = self.views
        for m in range(L - 1, -1, -1):
            D = self.D[m][:nb]
            a_prev = Xb if m == 0 else self.A[m - 1][:nb]
            np.matmul(D.T, a_prev, out=dW[m])  # dC/dW^m = delta^m a^(m-1)T, summed
            if net.alpha:
                c = net.alpha / n_b  # d/dW^m of alpha/(2n) ||W^m||^2 is alpha W^m / n
                tmp = self.wtmp[: net.W[m].size].reshape(net.W[m].shape)
                np.multiply(net.W[m], c, out=tmp)
                dW[m] += tmp
            np.matmul(self.ones[:nb], D, out=db[m])  # dC/db^m = delta^m, summed
            if m > 0:
                # delta^(m-1) = (W^mT delta^m) o sigma'^(m-1)(z^(m-1))
                Dp, Zp, Ap, Tp = (B[m - 1][:nb] for B in (self.D, self.Z, self.A, self.T))
                np.matmul(D, net.W[m], out=Dp)
                name = self.hidden[m - 1]
                if name == "relu":
                    Dp *= Tp  # the mask z >= 0, kept from the forward pass
                elif name == "tanh":
                    np.multiply(Ap, Ap, out=Tp)
                    np.subtract(1, Tp, out=Tp)  # da/dz = 1 - a^2
                    Dp *= Tp
                elif name == "sigmoid":
                    np.subtract(1, Ap, out=Tp)
                    Tp *= Ap  # da/dz = a (1 - a)
                    Dp *= Tp
                elif name != "identity":
                    Dp[...] = net.activations[m - 1].backward(Zp, Ap, Dp)
        return cost + net._penalty(n_b), n_b

    def _output_costs(self, zL, aL, Y) -> np.ndarray:
        """``C_i`` of each sample for the canonical pairs (from the logits, as the reference)."""
        if self.output == "softmax_xent":
            # C = sum_k y_k (logsumexp(z) - z_k), logsumexp(z) = max z + log sum_j exp(z_j - max z)
            mx = zL.max(axis=1, keepdims=True)
            lse = np.log(np.exp(zL - mx).sum(axis=1, keepdims=True)) + mx
            return (Y * (lse - zL)).sum(axis=1)
        if self.output == "sigmoid_xent":
            return (np.logaddexp(0, zL) - Y * zL).sum(axis=1)  # C = log(1 + e^z) - y z
        r = aL - Y
        return 0.5 * np.einsum("ij,ij->i", r, r)  # C = 1/2 (y - a)^T (y - a)

    # -- the whole-epoch kernel -------------------------------------------------------------

    def run_epoch(self, optimizer, X, Y, sw, rng, shuffle: bool, grad):
        """A whole epoch in the compiled kernel; returns ``(sum_b n_b C_b, steps)``, or None
        (nothing done, no random number drawn) when the kernel does not handle the case."""
        from chainrule.optimizers import Adam, GradientDescent, Momentum
        from chainrule.training import epoch_order

        net = self.net
        theta = net.theta
        arrays = (X, Y, sw, theta, grad)
        if self.compiled is None or not all(a.flags.c_contiguous for a in arrays):
            return None
        dt = theta.dtype
        empty = np.empty(0, dtype=dt)
        s1 = s2 = empty
        p1, p2, t0, eps = 0.0, 0.0, 0, 0.0
        if type(optimizer) is Adam:
            if optimizer.m is None:
                optimizer.m, optimizer.v = np.zeros_like(theta), np.zeros_like(theta)
            opt, s1, s2, p1, p2 = 3, optimizer.m, optimizer.v, optimizer.beta_1, optimizer.beta_2
            t0, eps = optimizer.t, optimizer.epsilon
        elif type(optimizer) is Momentum:
            if optimizer.velocity is None:
                optimizer.velocity = np.zeros_like(theta)
            opt, s1, p1 = (2 if optimizer.nesterov else 1), optimizer.velocity, optimizer.momentum
        elif type(optimizer) is GradientDescent:
            opt = 0
        else:
            return None
        if any(a.dtype != dt or a.shape != theta.shape for a in (s1, s2) if a is not empty):
            return None
        if getattr(self, "WT", None) is None:
            self.WT = np.empty(max(W.size for W in net.W), dtype=dt)  # room for any W^T
        sizes, hidden, out = self.compiled
        order = epoch_order(X.shape[0], rng, shuffle).astype(np.int64, copy=False)
        total, steps = self.kernels.run_epoch(
            X, Y, sw, order, theta, grad, sizes, hidden, out, float(net.alpha), opt,
            float(optimizer.learning_rate), float(p1), float(p2), float(eps), s1, s2,
            int(t0), self.X, self.Y, self.w, self.work, self.WT,
        )  # fmt: skip
        if type(optimizer) is Adam:
            optimizer.t += int(steps)
        return float(total), int(steps)


def small_problem(net, batch_size: int) -> bool:
    """Whether a step is small enough that numpy's per-call cost dominates it (the epoch
    kernel's loops then beat BLAS): about 500k multiply-adds per forward pass or fewer."""
    macs = sum(W.size for W in net.W) * batch_size
    return macs <= 500_000


def prefetch_pays(batch_size: int, X, Y) -> bool:
    """Whether to gather each minibatch on a second thread (:meth:`MinibatchEngine.prefetched`):
    with the compiled gather and C-contiguous data, when the BLAS leaves a core idle (with as
    many BLAS threads as cores, the gather slows the products down more than it saves) and
    minibatches hold at least ~64k values (below, handing one to the thread costs about what
    copying it does)."""
    return (
        kernels() is not None
        and X.flags.c_contiguous
        and Y.flags.c_contiguous
        and batch_size * X.shape[1] >= 65536
        and blas_threads() < _cores()
    )


_blas: list = []


def blas_threads() -> int:
    """The most threads a loaded BLAS runs a product on now (``threadpoolctl``)."""
    if not _blas:
        from threadpoolctl import ThreadpoolController

        _blas.append(ThreadpoolController().select(user_api="blas"))
    return max((lib.num_threads for lib in _blas[0].lib_controllers), default=1)


def _cores() -> int:
    """The CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # pragma: no cover - macOS, Windows
