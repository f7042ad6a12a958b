"""Full-batch training with scipy's L-BFGS-B (``solver="lbfgs"``)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize

from chainrule.training.notices import warn_like_sklearn
from chainrule.training.state import TrainingRecord


def fit_lbfgs(
    net,
    X,
    Y: np.ndarray,
    w: np.ndarray,
    n: float,
    *,
    max_iter: int,
    max_fun: int,
    tol: float,
    verbose: bool = False,
    on_iteration: Callable[[float], bool] | None = None,
) -> tuple[float, int, list[float]]:
    """Minimise the full-batch cost with scipy's L-BFGS-B; returns the cost, the number of
    iterations and the cost after each iteration. ``on_iteration(cost)`` may return True to
    stop."""
    theta = net.theta
    grad = np.empty_like(theta)
    curve: list[float] = []

    def cost_and_gradient(x):
        theta[...] = x
        cost, _ = net.batch_cost_and_gradient(X, Y, w, n, grad)
        return cost, grad.astype(np.float64)

    def callback(intermediate_result):
        curve.append(float(intermediate_result.fun))
        if verbose:
            print(f"Iteration {len(curve)}, loss = {curve[-1]:.8f}")
        if on_iteration is not None and on_iteration(curve[-1]):
            raise StopIteration

    result = minimize(
        cost_and_gradient,
        theta.astype(np.float64),
        method="L-BFGS-B",
        jac=True,
        callback=callback,
        options={"maxiter": max_iter, "maxfun": max_fun, "gtol": tol},
    )
    theta[...] = result.x
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
    """Train ``net`` on the whole of ``source`` (an :class:`~chainrule.training.ArraySource`)
    and fill ``record``; returns whether a KeyboardInterrupt stopped it. Non-finite weights at
    the end put the starting weights back (``warn_diverged(cost)`` says so)."""
    X, Y, w_sum = source.X, source.Y, source.weight_sum
    w = source.sw / w_sum
    interrupted = False
    start = net.theta.copy()
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            record.loss, record.n_iter, curve = fit_lbfgs(
                net, X, Y, w, w_sum, max_iter=max_iter, max_fun=max_fun, tol=tol,
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
    if not (np.isfinite(net.theta).all() and math.isfinite(record.loss)):
        net.theta[...] = start  # L-BFGS ended on non-finite weights: back to the start
        record.optimizer = None
        warn_diverged(record.loss)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            record.loss = source.cost(net)
        curve = [c for c in curve if math.isfinite(c)]
    record.loss_curve = curve or [record.loss]
    record.best_loss = min(record.loss_curve)
    return interrupted
