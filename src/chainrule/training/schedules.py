"""Learning-rate schedules, the optimizer for a solver name, the plateau monitor of early
stopping and gradient clipping."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from chainrule._arrays import copy, is_numpy, namespace
from chainrule.optimizers import Adam, Momentum, Optimizer


def make_optimizer(
    solver: str,
    *,
    learning_rate_init: float,
    momentum: float = 0.9,
    nesterovs_momentum: bool = True,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    epsilon: float = 1e-8,
    weight_decay: float = 0.0,
) -> Optimizer:
    """The optimizer for scikit-learn's ``solver`` name (``"sgd"`` or ``"adam"``), with the
    decoupled ``weight_decay`` (Adam with it is AdamW)."""
    if solver == "sgd":
        return Momentum(
            learning_rate_init,
            momentum=momentum,
            nesterov=nesterovs_momentum,
            weight_decay=weight_decay,
        )
    if solver == "adam":
        return Adam(
            learning_rate_init,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            weight_decay=weight_decay,
        )
    raise ValueError(f"unknown solver {solver!r}; valid names are ['adam', 'lbfgs', 'sgd']")


@dataclass
class LearningRateSchedule:
    """``constant``, ``invscaling`` (``eta_t = eta_0 / (t + 1)^power_t``, ``t`` the samples
    seen since the weights were initialised, scikit-learn's ``t_``; constant within an epoch)
    or ``adaptive`` (divide by 5 when the monitored quantity stops improving; stop once it
    falls below 1e-6)."""

    kind: str
    eta_0: float
    power_t: float = 0.5

    def after_epoch(self, optimizer: Optimizer, t: int) -> None:
        """Set the learning rate for the next epoch, ``t`` samples after initialisation."""
        if self.kind == "invscaling":
            optimizer.learning_rate = float(self.eta_0) / (t + 1) ** self.power_t

    def on_plateau(self, optimizer: Optimizer) -> tuple[bool, str]:
        """Whether training stops now that it has stopped improving, and why."""
        if self.kind != "adaptive":
            return True, "no improvement"
        if optimizer.learning_rate <= 1e-6:
            return True, "the learning rate fell below 1e-6"
        optimizer.learning_rate /= 5.0
        return False, f"learning rate divided by 5: {optimizer.learning_rate:.3g}"


@dataclass
class PlateauMonitor:
    """Counts epochs without an improvement of more than ``tol`` (scikit-learn's rule) and
    keeps a copy of the best parameters seen."""

    tol: float
    higher_is_better: bool
    best: float = field(default=np.nan)
    best_theta: np.ndarray | None = None
    best_epoch: int = -1
    stale_epochs: int = 0

    def update(self, value: float, theta: np.ndarray, epoch: int) -> None:
        sign = 1.0 if self.higher_is_better else -1.0
        if np.isnan(self.best):
            improved_by_tol, is_best = True, True
        else:
            improved_by_tol = sign * (value - self.best) > self.tol
            is_best = sign * (value - self.best) > 0
        self.stale_epochs = 0 if improved_by_tol else self.stale_epochs + 1
        if is_best:
            self.best, self.best_epoch = value, epoch
            if self.best_theta is None:
                self.best_theta = copy(theta)
            else:
                self.best_theta[...] = theta

    def restore(self, theta: np.ndarray) -> None:
        """Write the best parameters back."""
        if self.best_theta is not None:
            theta[...] = self.best_theta


def clip_gradient(grad: np.ndarray, max_norm: float) -> float:
    """Scale ``grad`` in place so that ``||grad|| <= max_norm``; returns the norm before.

    >>> g = np.array([3.0, 4.0]); clip_gradient(g, 1.0); g
    5.0
    array([0.6, 0.8])
    """
    if is_numpy(grad):
        norm = float(np.sqrt(np.dot(grad, grad)))
    else:
        norm = float(namespace(grad).linalg.vector_norm(grad))
    if norm > max_norm:
        grad *= max_norm / norm
    return norm
