"""The backend protocol: what the training loop asks of an engine, and the reference engine's
backend.

Every engine is a backend with one protocol (:class:`Backend`); the training loop
(:mod:`chainrule.training.epoch`) calls nothing else of it:

* :meth:`~Backend.epoch`: a whole epoch of minibatch steps in one call, or None where the
  engine has no such kernel for the optimizer (the loop then runs its one Python minibatch
  loop over :meth:`~Backend.gather`, :meth:`~Backend.cost_and_gradient` and
  :meth:`~Backend.update`);
* a minibatch step: :meth:`~Backend.gather` takes a minibatch ``(X_b, Y_b, w, n_b)``,
  :meth:`~Backend.cost_and_gradient` gives its cost ``C_b`` and ``dC_b/dtheta``, and
  :meth:`~Backend.update` is the optimizer's update as this engine runs it;
* the full-batch cost and gradient (L-BFGS): :meth:`~Backend.cost_and_gradient` of the whole
  data as one minibatch (:func:`minibatch_weights` of every row).

:class:`ReferenceBackend` runs the reference engine (:mod:`chainrule.engine.reference`, through
the network's methods) on any array namespace with the optimizer's own step;
:class:`chainrule.engine.compiled.CompiledBackend` runs the compiled kernels.
:func:`chainrule.engine.select.backend_for` picks one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from chainrule.engine.reference import dropout_masks

#: ``step(theta, grad)``: one optimizer update, in place
Update = Callable[[Any, Any], None]


def minibatch_weights(sw_b, n_b: float | None = None) -> tuple[Any, float]:
    """``(w, n_b)``: the minibatch's weight ``n_b = sum_i s_i`` (given, or summed here) and the
    rows' weights ``w_i = s_i / n_b``, which sum to 1 (``w`` is ``s`` where ``n_b`` is 0: such a
    minibatch is skipped). Its cost is ``C_b = sum_i w_i C_i + alpha / (2 n_b) ||W||^2``.

    >>> import numpy as np
    >>> minibatch_weights(np.array([1.0, 3.0]))
    (array([0.25, 0.75]), 4.0)
    """
    if n_b is None:
        n_b = float(sw_b.sum())
    return (sw_b / n_b if n_b != 0 else sw_b), n_b


class Backend(Protocol):
    """What the training loop calls of an engine (see the module's text)."""

    #: the most rows a minibatch has
    batch_size: int
    #: whether it takes the dense in-memory arrays and gathers its minibatches itself (then
    #: :meth:`epoch` may run a whole epoch); else the minibatch source gathers them
    gathers: bool
    #: the optimizer steps of the last :meth:`epoch` (counted even when Ctrl-C stopped it)
    steps: int

    def gather(self, X, Y, sw, idx) -> tuple:
        """The minibatch ``(X[idx], Y[idx], w, n_b)`` (:func:`minibatch_weights` of
        ``sw[idx]``)."""
        ...

    def cost_and_gradient(self, minibatch: tuple, grad, key=None, step: int = 0) -> float:
        """The cost of a minibatch ``(X_b, Y_b, w, n_b)`` (or of the whole data) and its
        gradient in ``grad``, laid out like the network's ``theta``; through dropout's masks of
        ``step`` of the epoch whose key is ``key`` (None: none)."""
        ...

    def update(self, optimizer) -> Update:
        """``step(theta, grad)``: the optimizer's update as this engine runs it."""
        ...

    def epoch(
        self, optimizer, X, Y, sw, order, grad, max_grad_norm: float | None, key=None
    ) -> tuple[float, int, float | None] | None:
        """A whole epoch of minibatches of ``X[order]`` in one call (dropout's ``key``):
        ``(sum_b |b| C_b, steps, None)``, or ``(..., cost)`` with the first cost that was not
        finite (no step taken on it); None where this engine has no whole-epoch kernel for
        ``optimizer``."""
        ...


class ReferenceBackend:
    """The reference engine as a :class:`Backend`: the network's equations
    (:meth:`chainrule.Network.batch_cost_and_gradient`, written once against ``xp``) on
    arrays of any namespace, and the optimizer's own :meth:`~chainrule.optimizers.Optimizer.step`.
    """

    gathers = False
    steps = 0

    def __init__(self, net, batch_size: int) -> None:
        self.net, self.batch_size = net, int(batch_size)

    def gather(self, X, Y, sw, idx) -> tuple:
        return X[idx], Y[idx], *minibatch_weights(sw[idx])

    def cost_and_gradient(self, minibatch: tuple, grad, key=None, step: int = 0) -> float:
        X_b, Y_b, w, n_b = minibatch
        net, masks = self.net, None
        if key is not None:  # dropout's masks of this step of the epoch
            args = key, step, net.layer_sizes, X_b.shape[0], net.theta
            masks = dropout_masks(net.dropout, *args)
        return net.batch_cost_and_gradient(X_b, Y_b, w, n_b, grad, masks)[0]

    def update(self, optimizer) -> Update:
        return optimizer.step

    def epoch(self, optimizer, X, Y, sw, order, grad, max_grad_norm, key=None) -> None:
        return None  # no whole-epoch kernel: the loop runs the minibatches one by one
