"""The compiled engine's Python side: which networks it runs and the buffers it runs them in.

The equations are in the extension :mod:`chainrule.engine.native` (``native.pyx``, built when
the package installs), built twice on x86-64: ``native`` for every CPU, and ``native_avx2``
with 4-wide vectors, the same bits in less time on its elementwise loops (the optimizers'
updates, the activations); ``native`` here is the one this CPU runs. It runs a network whose
activations and cost are chainrule's built-in ones (:func:`layout`); :class:`CompiledBackend`
holds a fit's minibatch buffers and runs a whole epoch (gather, forward, backward, the
optimizer's update) in one call without the GIL, or one minibatch's cost and gradient for an
optimizer it has no rule for. Importing this module fails where the extension cannot be
imported (:mod:`chainrule.engine.select` then says so).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable

import numpy as np

from chainrule.activations import get_activation
from chainrule.costs import get_cost
from chainrule.engine import native
from chainrule.engine.backend import ReferenceBackend, Update
from chainrule.engine.reference import uses_canonical_link

if native.cpu_has_avx2():
    try:
        from chainrule.engine import native_avx2 as native
    except ImportError:  # built without it (not x86-64, or another compiler): the one for all
        pass


def _same(f, g) -> bool:
    return getattr(f, "__func__", f) is getattr(g, "__func__", g)


def compilable(obj, get, codes: dict) -> bool:
    """Whether the kernels run an activation or cost: it is the built-in one of its name
    (``get`` makes that) and they have a code for it (a user's, registered under its own name,
    has none). "Built-in" alone, elsewhere, means registered by chainrule."""
    if obj.name not in codes:
        return False
    try:
        fresh = get(obj.name)
    except (KeyError, TypeError, ValueError):
        return False
    return (
        type(obj) is type(fresh)
        and _same(obj.function, fresh.function)
        and _same(obj.derivative, fresh.derivative)
        and getattr(obj, "of_output", None) == getattr(fresh, "of_output", None)
    )


def layout(net) -> native.Layout | None:
    """The network as the kernels read it, or None unless every activation and the cost are
    built-in (user ones train on the reference engine)."""
    acts, cost = net.activations, net.cost_function
    if not (
        all(compilable(a, get_activation, native.ACTIVATIONS) for a in acts)
        and compilable(cost, get_cost, native.COSTS)
    ):
        return None
    canonical = uses_canonical_link(acts[-1], cost)
    return native.Layout(
        net.layer_sizes,
        [native.ACTIVATIONS[a.name] for a in acts],
        [getattr(a, "beta", 1.0) for a in acts],
        native.COSTS[cost.name],
        getattr(cost, "delta", 0.0),
        canonical,
        canonical and cost.has_logit_form,
        net.alpha,
        net.l1_ratio,
        net.dropout,
    )


# -- the update rules, by the optimizer's name -----------------------------------------------------


#: the one table from an optimizer (by its ``name``) to the kernels' update: its rule's name and
#: constants ``(p1, p2, eps)``, and its state arrays ``(s1, s2)`` laid out like ``theta``
RULES: dict[str, Callable] = {
    "gradient_descent": lambda o: ("gradient_descent", 0.0, 0.0, 0.0, ()),
    "momentum": lambda o: (
        "nesterov" if o.nesterov else "momentum",
        o.momentum,
        0.0,
        0.0,
        (o.velocity,),
    ),
    "adam": lambda o: ("adam", o.beta_1, o.beta_2, o.epsilon, (o.m, o.v)),
}


def rule(optimizer, theta: np.ndarray) -> tuple | None:
    """``(rule, eta, p1, p2, eps, s1, s2)``: the optimizer's update as the kernels run it
    (:data:`RULES`, by its name), or None where they have no such rule or its state is not
    laid out like ``theta``."""
    read = RULES.get(optimizer.name)
    if read is None:
        return None
    optimizer.init_state(theta)
    name, p1, p2, eps, state = read(optimizer)
    for s in state:
        if type(s) is not np.ndarray or s.dtype != theta.dtype or s.shape != theta.shape:
            return None
    none = theta[:1]  # a state the rule does not read
    s1, s2 = (*state, none, none)[:2]
    return name, optimizer.learning_rate, p1, p2, eps, s1, s2


def fused_step(optimizer, theta: np.ndarray) -> Callable[[np.ndarray, np.ndarray], None]:
    """``step(theta, grad)``: the optimizer's update in one compiled pass, else its own step."""
    if rule(optimizer, theta) is None:
        return optimizer.step

    def step(theta: np.ndarray, grad: np.ndarray) -> None:
        # read again: a schedule may change the learning rate
        name, eta, p1, p2, eps, s1, s2 = rule(optimizer, theta)
        t = 0
        if name == "adam":
            optimizer.t = t = optimizer.t + 1
        optimizer.decay(theta)  # decoupled weight decay first, as the epoch's kernel
        native.step(name, theta, grad, eta, p1, p2, eps, s1, s2, t)

    return step


# -- the backend ----------------------------------------------------------------------------------


class CompiledBackend(ReferenceBackend):
    """The compiled engine as a :class:`~chainrule.engine.backend.Backend`: minibatches of up
    to ``batch_size`` rows of a dense C-contiguous ``X`` (of the network's dtype, or float32
    for a float64 network) through the kernels, in buffers allocated once; a minibatch the
    kernels cannot take (sparse, another dtype) goes to the reference engine. Make one with
    :meth:`for_network`, which says None for a network that is not built-in."""

    gathers = True

    def __init__(self, net, batch_size: int, plan: native.Layout) -> None:
        super().__init__(net, batch_size)
        self.layout, bs = plan, self.batch_size
        dt, sizes = net.dtype, net.layer_sizes
        self.X = np.empty((bs, sizes[0]), dtype=dt)
        self.Y = np.empty((bs, sizes[-1]), dtype=dt)
        self.w = np.empty(bs, dtype=dt)
        self.work = np.empty(3 * bs * plan.units, dtype=dt)  # z then a, sigma', delta
        self.progress = np.zeros(3)

    @classmethod
    def for_network(cls, net, batch_size: int) -> CompiledBackend | None:
        plan = layout(net)
        return None if plan is None else cls(net, batch_size, plan)

    def __reduce__(self) -> tuple:
        # pickled without its buffers (to a cluster's worker, say): made again there
        return type(self).for_network, (self.net, self.batch_size)

    def gather(self, X, Y, sw, idx):
        """The minibatch ``(X[idx], Y[idx], w = sw[idx] / n_b, n_b)`` in the buffers."""
        nb = len(idx)
        Xb, Yb, wb = self.X[:nb], self.Y[:nb], self.w[:nb]
        idx = np.ascontiguousarray(idx, dtype=np.intp)
        dt = self.net.dtype
        if (
            all(a.flags.c_contiguous for a in (X, Y, sw))
            and X.dtype in (np.float32, dt)
            and Y.dtype == sw.dtype == dt
        ):
            return Xb, Yb, wb, native.gather_minibatch(X, Y, sw, idx, Xb, Yb, wb)
        # strided or other dtypes (a block of a data frame): taken by indexing, cast once
        Xb[...], Yb[...], wb[...] = X[idx], Y[idx], sw[idx]
        n_b = float(wb.sum(dtype=np.float64))
        if n_b != 0:
            wb /= dt.type(n_b)
        return Xb, Yb, wb, n_b

    def cost_and_gradient(self, minibatch, grad: np.ndarray, key=None, step: int = 0) -> float:
        """The cost of a minibatch ``(X_b, Y_b, w, n_b)`` and its gradient in ``grad``,
        through dropout's masks of ``step`` of the epoch whose key is ``key`` (None: none)."""
        Xb, Yb, w, n_b = minibatch
        dt = self.net.dtype
        if not (isinstance(Xb, np.ndarray) and Xb.dtype == Yb.dtype == dt):
            return super().cost_and_gradient(minibatch, grad, key, step)  # sparse, other dtype
        Xb, Yb, w = np.ascontiguousarray(Xb), np.ascontiguousarray(Yb), np.ascontiguousarray(w)
        theta, work = self.net.theta, self.work
        return native.cost_and_gradient(self.layout, Xb, Yb, w, n_b, theta, grad, work, key, step)

    def update(self, optimizer) -> Update:
        return fused_step(optimizer, self.net.theta)

    def epoch(self, optimizer, X, Y, sw, order, grad, max_grad_norm, key=None):
        update = rule(optimizer, self.net.theta)
        if update is None:
            return None  # no kernel for this optimizer: its minibatches one by one
        total, diverged = self.run_epoch(
            optimizer, update, X, Y, sw, order, grad, max_grad_norm, key
        )
        if diverged or not math.isfinite(total):  # a cost, or the sum of the costs
            return total, self.steps, (self.last_cost if diverged else total)
        return total, self.steps, None

    def run_epoch(self, optimizer, update, X, Y, sw, order, grad, max_grad_norm, key=None):
        """A whole epoch over ``X[order]`` in one call, ``update`` the optimizer's
        :func:`rule`, ``key`` dropout's for the epoch: ``(sum_b |b| C_b, diverged)``. The
        steps taken (:attr:`steps`) are counted in ``optimizer.t`` (Adam) even when Ctrl-C
        stops the epoch."""
        name, eta, p1, p2, eps, s1, s2 = update
        progress = self.progress
        progress[:] = 0
        t0 = optimizer.t if name == "adam" else 0
        order = np.ascontiguousarray(order, dtype=np.intp)
        try:
            diverged = native.epoch(
                self.layout, X, Y, sw, order, self.batch_size, self.net.theta, grad, name, eta,
                p1, p2, eps, s1, s2, t0, max_grad_norm or 0.0, self.X, self.Y, self.w,
                self.work, progress, key, optimizer.weight_decay,
            )  # fmt: skip
        finally:
            if name == "adam":
                optimizer.t = t0 + self.steps
        return float(progress[0]), diverged

    @property
    def steps(self) -> int:
        """The optimizer steps of the last :meth:`run_epoch`."""
        return int(self.progress[1])

    @property
    def last_cost(self) -> float:
        """The cost of the last minibatch of the last :meth:`run_epoch`."""
        return float(self.progress[2])


# -- prediction -----------------------------------------------------------------------------------

_layouts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def predictor(net) -> Callable | None:
    """``predict(a, logits) -> a^L`` (or ``z^L``) of the rows of a dense C-contiguous ``a`` of
    the network's dtype, or None for a network that is not built-in."""
    key = (net.layer_sizes, net.cost_function, *net.activations)
    cached = _layouts.get(net)
    if cached is None or cached[0] != key:
        cached = _layouts[net] = key, layout(net)
    plan = cached[1]
    if plan is None:
        return None

    def predict(a: np.ndarray, logits: bool) -> np.ndarray:
        out = np.empty((a.shape[0], net.layer_sizes[-1]), dtype=net.dtype)
        if a.shape[0]:
            work = np.empty(a.shape[0] * plan.units, dtype=net.dtype)
            native.predict(plan, a, net.theta, out, work, logits)
        return out

    return predict
