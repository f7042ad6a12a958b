"""Minibatch sources: where the training loop's minibatches come from.

The loop asks a source for its minibatches (:meth:`ArraySource.minibatches`) and, when the
source holds its data as dense in-memory arrays, for those arrays (:meth:`ArraySource.dense`),
which a backend that gathers its own minibatches (the compiled engine's) takes. A source of
another kind (blocks streamed from disk or a cluster, ``chainrule.scale.BlockSource``)
implements ``n_samples``, ``weight_sum``, ``batch_size``, ``cost``, ``objective`` (for L-BFGS)
and either ``minibatches`` or ``run_steps(steps, rng, dtype)``, which runs an epoch of
:class:`~chainrule.training.epoch.MinibatchSteps` itself (where its data is, say), and returns
None from ``dense``: the loop then trains it minibatch by minibatch.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from scipy.sparse import issparse

from chainrule._arrays import device, is_numpy, namespace, numpy_dtype, to_numpy
from chainrule.engine import ReferenceBackend, backend_for, minibatch_weights


def shuffle_order(order: np.ndarray, rng) -> np.ndarray:
    """The next epoch's order of the samples: the previous order permuted, drawn as
    scikit-learn's ``sklearn.utils.shuffle(order, random_state=rng)`` draws it (a shuffle of
    ``0, 1, ..., n - 1`` by ``rng``, a ``RandomState`` or a ``Generator``).

    >>> shuffle_order(np.arange(5), np.random.RandomState(0)).tolist()
    [2, 0, 1, 3, 4]
    """
    idx = np.arange(order.shape[0])
    rng.shuffle(idx)
    return order[idx]


class ArraySource:
    """Minibatches of ``batch_size`` rows of in-memory ``X`` (dense or scipy sparse), ``Y`` and
    sample weights ``sw``, in a new order each epoch when ``shuffle``: the previous epoch's
    order shuffled (:func:`shuffle_order`), starting from ``sample_order`` (by default
    ``0, 1, ..., n - 1``, as each call to scikit-learn's ``fit`` starts).

    ``X`` may be float32 for a float64 network: each minibatch is cast as it is taken.
    """

    def __init__(
        self, X, Y: np.ndarray, sw: np.ndarray, batch_size: int, shuffle: bool, sample_order=None
    ) -> None:
        self.X, self.Y, self.sw = X, Y, sw
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.n_samples = X.shape[0]
        # the weights on the host too: a minibatch's weight costs no device round trip
        self.sw_host = to_numpy(sw)
        self.weight_sum = float(self.sw_host.sum())
        self.sample_order = np.arange(self.n_samples) if sample_order is None else sample_order

    def order(self, rng) -> np.ndarray:
        """The order of the samples in the next epoch (draws from ``rng`` when shuffling)."""
        if self.shuffle:
            self.sample_order = shuffle_order(self.sample_order, rng)
        return self.sample_order

    def index_batches(self, order: np.ndarray) -> Iterator[np.ndarray]:
        """The index arrays of an epoch's minibatches, cut from ``order``."""
        for start in range(0, self.n_samples, self.batch_size):
            yield order[start : start + self.batch_size]

    def minibatches(self, rng, dtype) -> Iterator[tuple]:
        """``(X_b, Y_b, w, n_b)`` for each minibatch of an epoch, in ``dtype``: ``w`` sums to 1,
        ``n_b`` is the minibatch's weight (minibatches of weight 0 are skipped)."""
        if not is_numpy(self.Y):
            yield from self._minibatches_xp(rng, dtype)
            return
        casts = self.X.dtype != dtype
        for idx in self.index_batches(self.order(rng)):
            w, n_b = minibatch_weights(self.sw[idx])
            if n_b == 0:
                continue
            X_b = self.X[idx].astype(dtype) if casts else self.X[idx]
            yield X_b, self.Y[idx], w, n_b

    def _minibatches_xp(self, rng: np.random.Generator, dtype) -> Iterator[tuple]:
        """:meth:`minibatches` of arrays of another namespace: the same order, from the same
        generator, moved to the device once an epoch; rows taken with ``xp.take``."""
        xp = namespace(self.X)
        order = self.order(rng)
        on_device = xp.asarray(order, device=device(self.X))
        casts = numpy_dtype(self.X.dtype) != np.dtype(dtype)
        for start in range(0, self.n_samples, self.batch_size):
            stop = min(start + self.batch_size, self.n_samples)
            n_b = float(self.sw_host[order[start:stop]].sum())
            if n_b == 0:
                continue
            idx = on_device[start:stop]
            X_b = xp.take(self.X, idx, axis=0)
            if casts:
                X_b = xp.astype(X_b, self.Y.dtype)
            w, _ = minibatch_weights(xp.take(self.sw, idx, axis=0), n_b)
            yield X_b, xp.take(self.Y, idx, axis=0), w, n_b

    def dense(self, dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """``(X, Y, sw)`` when they are C-contiguous dense arrays that a network of ``dtype``
        trains on without a copy (``X`` of ``dtype``, or float32 for float64), else None."""
        X, Y, sw = self.X, self.Y, self.sw
        if not is_numpy(Y) or issparse(X) or Y.dtype != dtype:
            return None
        if not (X.dtype == dtype or np.can_cast(X.dtype, dtype)):
            return None
        if not all(a.flags.c_contiguous for a in (X, Y, sw)):
            return None
        return X, Y, sw

    def cost(self, net) -> float:
        """The network's cost on the whole data (weighted mean, with the L2 term)."""
        return net.batch_cost(self.X, self.Y, *minibatch_weights(self.sw, self.weight_sum))

    def objective(self, net):
        """``theta -> (C, dC/dtheta)`` of the network's cost on the whole data, the gradient in
        float64 (for scipy's L-BFGS); each call writes ``theta`` into the network. The full
        batch through the backend of the engine in use (one minibatch of every row) where the
        data is dense NumPy arrays, else through the reference engine's."""
        theta, xp = net.theta, namespace(net.theta)
        grad, where = xp.empty_like(theta), device(theta)
        X, Y = self.X, self.Y
        w, n = minibatch_weights(self.sw, self.weight_sum)
        dense = self.dense(net.dtype) is not None
        backend = backend_for(net, self.n_samples) if dense else ReferenceBackend(net, 0)
        if backend.gathers:  # the kernels read C-contiguous arrays of the network's dtype
            X, w = np.ascontiguousarray(X, dtype=net.dtype), np.ascontiguousarray(w, net.dtype)

        def cost_and_gradient(x):
            # scipy works on float64 NumPy arrays: x goes to theta's device, the gradient back
            theta[...] = x if xp is np else xp.asarray(x, dtype=theta.dtype, device=where)
            cost = backend.cost_and_gradient((X, Y, w, n), grad)
            return cost, to_numpy(grad).astype(np.float64)

        return cost_and_gradient
