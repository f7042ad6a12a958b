"""Full-batch training with scipy's L-BFGS-B (``solver="lbfgs"``)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize

from chainrule._arrays import copy, device, namespace, to_numpy
from chainrule.training.notices import warn_like_sklearn
from chainrule.training.state import TrainingRecord

#: ``theta -> (C, dC/dtheta)``, the full-batch cost and its gradient (float64)
Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


def fit_lbfgs(
    net,
    cost_and_gradient: Objective,
    *,
    max_iter: int,
    max_fun: int,
    tol: float,
    verbose: bool = False,
    on_iteration: Callable[[float], bool] | None = None,
) -> tuple[float, int, list[float]]:
    """Minimise ``cost_and_gradient(theta) -> (C, dC/dtheta)`` over ``net``'s weights with
    scipy's L-BFGS-B, starting from ``net.theta`` and leaving the result there; returns the
    cost, the number of iterations and the cost after each iteration. ``on_iteration(cost)``
    may return True to stop. The objective is a closure over the engine in memory
    (:meth:`~chainrule.training.ArraySource.objective`) or a sum over blocks on a cluster
    (``chainrule.scale.BlockObjective``)."""
    theta = net.theta
    xp, where = namespace(theta), device(theta)  # scipy's steps come back to theta's device
    curve: list[float] = []

    def callback(intermediate_result):
        curve.append(float(intermediate_result.fun))
        if verbose:
            print(f"Iteration {len(curve)}, loss = {curve[-1]:.8f}")
        if on_iteration is not None and on_iteration(curve[-1]):
            raise StopIteration

    result = minimize(
        cost_and_gradient,
        to_numpy(theta).astype(np.float64),
        method="L-BFGS-B",
        jac=True,
        callback=callback,
        options={"maxiter": max_iter, "maxfun": max_fun, "gtol": tol},
    )
    theta[...] = result.x if xp is np else xp.asarray(result.x, dtype=theta.dtype, device=where)
    if result.status == 1:
        warn_like_sklearn(
            f"lbfgs stopped after {result.nit} iterations and {result.nfev} cost evaluations "
            f"(max_iter={max_iter}, max_fun={max_fun}) before converging; "
            "increase max_iter or max_fun, or scale the features"
        )
    return float(result.fun), int(result.nit), curve


def train_lbfgs(
    net,
    source,
    record: TrainingRecord,
    *,
    max_iter: int,
    max_fun: int,
    tol: float,
    verbose: bool,
    on_iteration: Callable[[float], bool] | None,
    warn_diverged: Callable[[float], None],
) -> bool:
    """Train ``net`` on the whole of ``source`` (its ``objective(net)``: in memory, or over a
    cluster's blocks) and fill ``record``; returns whether a KeyboardInterrupt stopped it.
    Non-finite weights at the end put the starting weights back (``warn_diverged(cost)`` says
    so)."""
    objective = source.objective(net)
    interrupted = False
    start = copy(net.theta)
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            record.loss, record.n_iter, curve = fit_lbfgs(
                net, objective, max_iter=max_iter, max_fun=max_fun, tol=tol,
                verbose=verbose, on_iteration=on_iteration,
            )  # fmt: skip
    except KeyboardInterrupt:
        interrupted = True
        record.loss = source.cost(net)
        curve = []
        warnings.warn(
            "training interrupted; the model keeps the weights reached so far",
            UserWarning,
            stacklevel=5,
        )
    xp = namespace(net.theta)
    if not (bool(xp.all(xp.isfinite(net.theta))) and math.isfinite(record.loss)):
        net.theta[...] = start  # L-BFGS ended on non-finite weights: back to the start
        record.optimizer = None
        warn_diverged(record.loss)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            record.loss = source.cost(net)
        curve = [c for c in curve if math.isfinite(c)]
    record.loss_curve = curve or [record.loss]
    record.best_loss = min(record.loss_curve)
    return interrupted
