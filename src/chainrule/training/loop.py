"""The training loop: the seed's "MLP learning algorithm" as epochs of minibatch updates.

One epoch draws a fresh permutation of the samples (the seed: "shuffle input vectors to avoid
training in the same order") and, for each minibatch, runs a forward and backward pass and one
optimizer step (:class:`~chainrule.training.epoch.EpochRunner`). Around the epochs:
learning-rate schedules, early stopping on a plateau, the divergence guard, interrupts and the
caller's hooks (:class:`LoopHooks`: validation, callbacks, checkpoints).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from chainrule._arrays import namespace
from chainrule.training.epoch import Diverged, EpochRunner
from chainrule.training.notices import warn_like_sklearn
from chainrule.training.schedules import LearningRateSchedule
from chainrule.training.state import TrainingRecord


class LoopHooks(Protocol):
    """What the caller of :func:`train_epochs` does around each epoch."""

    def epoch_begin(self) -> None: ...
    def epoch_abort(self) -> None: ...  # an epoch interrupted or diverged
    def diverged(self, cost: float) -> None: ...
    def validation(self) -> tuple[float, float] | None: ...  # (score, loss), or None
    def epoch_end(self) -> bool: ...  # True to stop
    def checkpoint(self, finished: bool) -> None: ...


@dataclass
class LoopSettings:
    epochs: int
    schedule: LearningRateSchedule
    n_iter_no_change: float
    tol: float
    incremental: bool = False
    early_stopping: bool = False  # stop on the validation score and keep its best weights
    verbose: bool = False
    checkpoint_every: int | None = None
    max_iter: int = 0  # for the warning when it is reached


def train_epochs(
    runner: EpochRunner, record: TrainingRecord, settings: LoopSettings, hooks: LoopHooks
) -> bool:
    """Up to ``settings.epochs`` epochs; returns whether a KeyboardInterrupt stopped them."""
    net, optimizer, monitor = runner.net, record.optimizer, record.monitor
    interrupted, reached_max_iter = False, False
    xp = namespace(net.theta)
    epoch_start = xp.empty_like(net.theta)  # the last weights known to give a finite cost
    for _ in range(settings.epochs):
        started = time.perf_counter()
        hooks.epoch_begin()
        settings.schedule.before_epoch(optimizer, len(record.loss_curve))  # eta_e of epoch e
        epoch_start[...] = net.theta
        try:
            # a blow-up is caught by the finiteness checks, not by numpy's warnings
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                loss = runner.run(optimizer, record)
                if not bool(xp.all(xp.isfinite(net.theta))):
                    raise Diverged(loss)
        except KeyboardInterrupt:
            interrupted = True
            hooks.epoch_abort()
            break
        except Diverged as blow_up:
            net.theta[...] = epoch_start
            hooks.epoch_abort()
            if record.validation_scores is not None:  # scikit-learn scores a blow-up NaN
                record.validation_scores.append(float("nan"))
                record.validation_loss_curve.append(float("nan"))
            hooks.diverged(blow_up.cost)
            break
        _record_epoch(record, loss, runner.source.n_samples)
        settings.schedule.after_epoch(optimizer, record.t)
        _monitor_epoch(record, hooks.validation(), net.theta, settings.early_stopping)
        if settings.verbose:
            _print_epoch(record, time.perf_counter() - started)
        if hooks.epoch_end():
            break
        if monitor.stale_epochs > settings.n_iter_no_change:
            stopping, reason = settings.schedule.on_plateau(optimizer)
            if settings.verbose:
                print(
                    f"Training loss did not improve more than tol={settings.tol} for "
                    f"{settings.n_iter_no_change} consecutive epochs: {reason}."
                )
            if stopping:
                break
            monitor.stale_epochs = 0
        every = settings.checkpoint_every
        if every is not None and record.n_iter % every == 0:
            hooks.checkpoint(finished=False)
    else:
        reached_max_iter = True
        if not settings.incremental:
            warn_like_sklearn(
                f"Stochastic Optimizer: Maximum iterations ({settings.max_iter}) reached and "
                "the optimization hasn't converged yet."
            )
    _finish(runner, record, settings, interrupted)
    if settings.checkpoint_every is not None and not interrupted:
        # a fit that stopped (converged, early-stopped, diverged) is over; one that ran out
        # of max_iter may go on with a larger max_iter
        hooks.checkpoint(finished=not reached_max_iter)
    return interrupted


def _record_epoch(record: TrainingRecord, loss: float, n_samples: int) -> None:
    record.loss = loss
    record.n_iter += 1
    record.t += n_samples
    record.loss_curve.append(loss)


def _monitor_epoch(record: TrainingRecord, validation, theta: np.ndarray, watch: bool) -> None:
    """The validation score and loss are recorded when there are validation samples; early
    stopping (``watch``) watches the score, else the plateau monitor watches the loss."""
    if validation is not None:
        score, val_loss = validation
        record.validation_scores.append(score)
        record.validation_loss_curve.append(val_loss)
    if validation is not None and watch:
        record.monitor.update(score, theta, record.n_iter)
        record.best_validation_score = record.monitor.best
    else:
        record.monitor.update(record.loss, theta, record.n_iter)
        record.best_loss = record.monitor.best


def _print_epoch(record: TrainingRecord, seconds: float) -> None:
    line = f"Iteration {record.n_iter}, loss = {record.loss:.8f}"
    if record.validation_scores:
        line += f", validation score = {record.validation_scores[-1]:.6f}"
    print(f"{line} ({seconds:.3f} s)")


def _finish(runner: EpochRunner, record, settings: LoopSettings, interrupted: bool) -> None:
    """Keep the best weights where early stopping or an interrupt asks for them."""
    net, monitor = runner.net, record.monitor
    if interrupted:
        warnings.warn(
            f"training interrupted after {record.n_iter} epochs; the model keeps the best "
            f"weights so far (epoch {max(monitor.best_epoch, 0)})",
            UserWarning,
            stacklevel=5,
        )
    if (settings.early_stopping and not settings.incremental) or interrupted:
        monitor.restore(net.theta)
    if not record.loss_curve:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            record.loss = runner.source.cost(net)
