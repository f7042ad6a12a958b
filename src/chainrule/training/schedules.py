"""Learning-rate schedules, the optimizer for a solver name, the plateau monitor of early
stopping and gradient clipping."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

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


#: the schedules of scikit-learn's ``learning_rate``, sgd's only (adam ignores them, as there)
SKLEARN_SCHEDULES = ("constant", "invscaling", "adaptive")
#: the schedules chainrule adds, for every stochastic solver, set before each epoch
EPOCH_SCHEDULES = ("cosine", "step")


@dataclass
class LearningRateSchedule:
    """The learning rate ``eta_e`` of each epoch ``e``, held for the whole epoch (a PyTorch
    scheduler stepped once an epoch). ``e`` counts the epochs since the weights were
    initialised (``len(loss_curve_)``, as scikit-learn's ``t_`` counts samples), so
    ``partial_fit``, ``warm_start`` and a resumed fit go on with the schedule.

    scikit-learn's three, for ``solver="sgd"``: ``constant``, ``invscaling``
    (``eta_t = eta_0 / (t + 1)^power_t``, ``t`` the samples seen since the weights were
    initialised, scikit-learn's ``t_``; constant within an epoch) or ``adaptive`` (divide by 5
    when the monitored quantity stops improving; stop once it falls below 1e-6).

    chainrule's, for sgd and adam, after ``W = warmup_epochs`` epochs of linear warm-up
    ``eta_e = eta_0 (e + 1) / (W + 1)`` (``e < W``), with ``k = e - W``:

    - ``constant``: ``eta_0``;
    - ``cosine``: ``eta_min + (eta_0 - eta_min) (1 + cos(pi k_i / T_i)) / 2``, ``k_i`` the
      epochs since the last restart and ``T_i`` its period: ``T_0 = cosine_epochs`` and
      ``T_(i+1) = restart_mult T_i`` with restarts, else ``k_0 = min(k, T_0)`` (annealed
      once, then held at ``eta_min``);
    - ``step``: ``eta_0 step_factor^floor(k / step_epochs)``;
    - a callable ``f``: ``eta_0 f(k)``.

    >>> s = LearningRateSchedule("cosine", 0.1, cosine_epochs=4)
    >>> [round(s.rate(e), 6) for e in range(6)]
    [0.1, 0.085355, 0.05, 0.014645, 0.0, 0.0]
    """

    kind: str | Callable[[int], float]
    eta_0: float
    power_t: float = 0.5
    warmup_epochs: int = 0
    cosine_epochs: int = 1
    restart_mult: int | None = None  # None: no restarts
    eta_min: float = 0.0
    step_epochs: int = 30
    step_factor: float = 0.1

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> LearningRateSchedule:
        """The schedule an estimator's parameters ask for (``solver``, ``learning_rate``,
        ``learning_rate_init``, ``power_t``, ``max_iter``, ``warmup_epochs``,
        ``restart_epochs``, ``restart_mult``, ``learning_rate_min``, ``step_epochs``,
        ``step_factor``)."""
        kind, warmup = params["learning_rate"], params.get("warmup_epochs", 0)
        if warmup and kind in ("invscaling", "adaptive"):
            raise ValueError(
                f"warmup_epochs={warmup} does not combine with learning_rate={kind!r}, which "
                "keeps scikit-learn's meaning; use 'constant', 'cosine', 'step' or a callable"
            )
        if params["solver"] != "sgd" and kind in SKLEARN_SCHEDULES:
            kind = "constant"  # scikit-learn's three are sgd's: adam ignores them
        restart = params.get("restart_epochs")
        period = params["max_iter"] - warmup if restart is None else restart
        if kind == "cosine" and period < 1:
            raise ValueError(
                f"learning_rate='cosine' anneals over the max_iter={params['max_iter']} epochs "
                f"after warmup_epochs={warmup}, which leaves none; lower warmup_epochs or set "
                "restart_epochs"
            )
        return cls(
            kind,
            float(params["learning_rate_init"]),
            power_t=params["power_t"],
            warmup_epochs=warmup,
            cosine_epochs=period,
            restart_mult=None if restart is None else params.get("restart_mult", 1),
            eta_min=params.get("learning_rate_min", 0.0),
            step_epochs=params.get("step_epochs", 30),
            step_factor=params.get("step_factor", 0.1),
        )

    @property
    def per_epoch(self) -> bool:
        """Whether the rate is set before each epoch (else scikit-learn's rules set it)."""
        return callable(self.kind) or self.kind in EPOCH_SCHEDULES or self.warmup_epochs > 0

    def rate(self, epoch: int) -> float:
        """``eta_e``, the rate of epoch ``e`` (0 for the first) of a per-epoch schedule."""
        eta_0, W = self.eta_0, self.warmup_epochs
        if epoch < W:
            return eta_0 * (epoch + 1) / (W + 1)  # linear warm-up: eta_0 (e + 1) / (W + 1)
        k = epoch - W
        if callable(self.kind):
            return eta_0 * _factor(self.kind, k)  # eta_0 f(k)
        if self.kind == "step":
            return eta_0 * self.step_factor ** (k // self.step_epochs)  # eta_0 gamma^floor(k/s)
        if self.kind == "cosine":
            k_i, T_i = self._cycle(k)
            # eta_min + (eta_0 - eta_min) (1 + cos(pi k_i / T_i)) / 2
            return self.eta_min + (eta_0 - self.eta_min) * (1 + math.cos(math.pi * k_i / T_i)) / 2
        return eta_0

    def _cycle(self, k: int) -> tuple[int, int]:
        """``(k_i, T_i)``: the epochs since the cosine's last restart, and its period."""
        T_i, mult = self.cosine_epochs, self.restart_mult
        if mult is None:
            return min(k, T_i), T_i
        if mult == 1:
            return k % T_i, T_i
        while k >= T_i:  # T_(i+1) = restart_mult T_i
            k, T_i = k - T_i, T_i * mult
        return k, T_i

    def before_epoch(self, optimizer: Optimizer, epoch: int) -> None:
        """Set the rate of epoch ``epoch`` (counted from the weights' initialisation)."""
        if self.per_epoch:
            optimizer.learning_rate = self.rate(epoch)

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


def _factor(f: Callable[[int], float], k: int) -> float:
    """``f(k)``, a callable schedule's factor: a finite number >= 0, else a ValueError."""
    value = f(k)
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 <= value < math.inf:
        raise ValueError(
            f"learning_rate={f!r} must return a finite number >= 0 (the factor of "
            f"learning_rate_init) for each epoch, got {value!r} for epoch {k}"
        )
    return float(value)


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
