"""One fit from start to end: :class:`Trainer`.

A fit is ``n_init`` runs, each from its own initial weights, each of epochs of minibatch steps
(or L-BFGS iterations) over a minibatch source, with the held-out samples that early stopping
watches: a split of the training data, drawn once (scikit-learn's way), or the caller's
validation set. The trainer keeps the training record of each run, keeps the best run (one
rule, :func:`best_run`), resumes from a checkpoint's state and hands its state to a checkpoint
writer. In-memory, sparse and dask data differ only in the
:class:`~chainrule.training.data.TrainingData` it is given (``InMemoryData``; dask blocks in
:mod:`chainrule.estimators.distributed`).

Nothing here knows the estimator: it is handed a network factory, a scorer for the held-out
samples, an observer of the epochs (scikit-learn's callbacks, shown the record) and a
checkpoint writer, and calls them; the training state stays here.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from chainrule.training.data import TrainingData, minibatch_rows
from chainrule.training.epoch import EpochRunner, TrainingDivergedWarning
from chainrule.training.lbfgs import train_lbfgs
from chainrule.training.loop import LoopSettings, train_epochs
from chainrule.training.notices import warn_like_sklearn
from chainrule.training.schedules import LearningRateSchedule, PlateauMonitor
from chainrule.training.state import TrainingRecord


def best_run(criteria: list[float]) -> int:
    """The index of the best run: the highest criterion, the first of equals (a NaN never
    replaces an earlier run)."""
    best = 0
    for k, criterion in enumerate(criteria):
        if criterion > criteria[best]:
            best = k
    return best


@dataclass(frozen=True)
class FitSettings:
    """What a fit does, in the training loop's terms (the estimator's parameters, read once).

    ``early_stopping``: the validation score stops the epochs and picks the weights kept
    (scikit-learn's ``early_stopping`` with a solver that has epochs).
    """

    solver: str
    max_iter: int
    max_fun: int
    tol: float
    n_iter_no_change: float
    verbose: bool
    schedule: LearningRateSchedule
    batch_size: int | str
    shuffle: bool
    early_stopping: bool
    validation_fraction: float
    max_grad_norm: float | None = None
    incremental: bool = False
    checkpoint_every: int | None = None


class FitObserver(Protocol):
    """Who watches the epochs (scikit-learn's callbacks): it is shown the record, and may stop
    the fit; it never changes the training."""

    def run_begin(self, net, record: TrainingRecord) -> None: ...
    def epoch_begin(self) -> None: ...
    def epoch_abort(self) -> None: ...
    def epoch_end(self, record: TrainingRecord) -> bool: ...  # True to stop
    def lbfgs_begin(self) -> Callable[[float], bool] | None: ...
    def lbfgs_end(self) -> None: ...


@dataclass
class Progress:
    """What a checkpoint writer is handed: the network, its record, the source's sample order
    and the validation split (row indices, or None)."""

    net: Any
    record: TrainingRecord
    sample_order: np.ndarray
    split: tuple[np.ndarray, np.ndarray] | None
    finished: bool


@dataclass
class Resumed:
    """A fit's state read back from a checkpoint: the network, the record, the sample order and
    the validation split."""

    net: Any
    record: TrainingRecord
    sample_order: np.ndarray | None
    split: tuple[np.ndarray, np.ndarray] | None


@dataclass
class FitResult:
    """The network and record the fit keeps, the best run's index and whether it was
    interrupted."""

    net: Any
    record: TrainingRecord
    best_run: int
    interrupted: bool = False


def new_record(rng, tol: float, early_stopping: bool, validated: bool) -> TrainingRecord:
    """A fresh record: validation curves with early stopping or held-out samples."""
    record = TrainingRecord(monitor=PlateauMonitor(tol, higher_is_better=early_stopping), rng=rng)
    curves = early_stopping or validated
    record.validation_scores = [] if curves else None
    record.validation_loss_curve = [] if curves else None
    record.best_loss = None if early_stopping else np.inf
    return record


class Trainer:
    """One fit: :meth:`fit` runs the restarts and returns the :class:`FitResult`.

    ``build_network(rng)`` gives each run its network (drawn from ``rng``, or the fitted one a
    fit continues); ``make_optimizer()`` a fresh optimizer; ``score(net, held_out)`` the
    validation ``(score, loss)``; ``held_out``: the caller's validation set (else a split is
    drawn when early stopping); ``record``: the record a fit continues; ``resumed``: a
    checkpoint's state; ``checkpoint(progress)``: writes one.
    """

    def __init__(
        self,
        data: TrainingData,
        settings: FitSettings,
        *,
        build_network: Callable,
        make_optimizer: Callable,
        score: Callable | None = None,
        held_out=None,
        record: TrainingRecord | None = None,
        resumed: Resumed | None = None,
        observer: FitObserver | None = None,
        checkpoint: Callable[[Progress], None] | None = None,
    ) -> None:
        self.data, self.settings = data, settings
        self.build_network, self.make_optimizer = build_network, make_optimizer
        self.score, self.held_out = score, held_out
        self.record, self.resumed = record, resumed
        self.observer, self.checkpoint = observer, checkpoint
        self.division = None  # (split, training part, held-out part), divided once

    def holds_out(self) -> bool:
        """Whether the runs hold out a split of the training data."""
        return self.settings.early_stopping and self.held_out is None

    # -- the runs ------------------------------------------------------------------------------

    def fit(self, rngs: list) -> FitResult:
        """The runs one after another, each from its generator of ``rngs``; the best kept."""
        split = self._split_first(rngs[0])
        runs: list[FitResult] = []
        for k, rng in enumerate(rngs):
            run, split = self.run(k, rng, split)
            runs.append(run)
            if run.interrupted:
                break
        return self._best(runs)

    def fit_in_parallel(self, rngs: list, task_context: Callable = nullcontext) -> FitResult:
        """The runs as joblib tasks (``joblib.parallel_config`` spreads them over processes or
        a cluster's workers), each entered in ``task_context()``; every run holds out the
        split run 0 draws (drawn here beforehand from a copy of run 0's generator)."""
        from joblib import Parallel, delayed

        split = self._split_first(rngs[0])
        if split is None and self.holds_out():
            probe = copy.deepcopy(rngs[0])  # run 0 makes the same draws from the original
            self.build_network(probe)  # the initial weights first, scikit-learn's order
            split = self.data.split(self.settings.validation_fraction, probe)
        # run 0 draws its split itself (the same), as the fit with n_init=1: its generator moves on
        drawn = None if self.holds_out() and not self.data.split_first else split
        tasks = [
            delayed(_run_task)(self, k, rng, drawn if k == 0 else split, task_context)
            for k, rng in enumerate(rngs)
        ]
        return self._best(Parallel()(tasks))

    def _split_first(self, rng):
        """The split of data that draws it before the initial weights (dask blocks)."""
        if self.holds_out() and self.data.split_first:
            return self.data.split(self.settings.validation_fraction, rng)
        if self.resumed is not None:
            return self.resumed.split
        return None

    def _best(self, runs: list[FitResult]) -> FitResult:
        criteria = [self.criterion(run.record) for run in runs]
        chosen = runs[best_run(criteria)] if len(runs) > 1 else runs[0]
        chosen.best_run = best_run(criteria)
        chosen.interrupted = any(run.interrupted for run in runs)
        return chosen

    def criterion(self, record: TrainingRecord) -> float:
        """Higher is better: the best validation score with early stopping, else minus the
        final training loss."""
        if self.settings.early_stopping:
            return record.best_validation_score
        return -record.loss

    def _divided(self, split) -> tuple:
        """The training and held-out parts of ``split``, divided once for every run."""
        if self.division is None or self.division[0] is not split:
            self.division = (split, *self.data.divide(split))
        return self.division[1:]

    def run(self, k: int, rng, split) -> tuple[FitResult, Any]:
        """Run ``k`` from ``rng``; ``split``: the held-out part drawn so far (run 0 draws it,
        after its initial weights). Returns the run and the split."""
        settings, resumed = self.settings, self.resumed
        if resumed is not None:
            net, record = resumed.net, resumed.record
        else:
            net = self.build_network(rng)
            if self.record is None:
                validated = self.held_out is not None or self.holds_out()
                record = new_record(rng, settings.tol, settings.early_stopping, validated)
            else:
                record = self.record
                record.rng = rng
        data, held_out = self.data, self.held_out
        if self.holds_out():
            if split is None:  # the split is drawn after the initial weights, as scikit-learn
                split = data.split(settings.validation_fraction, record.rng)
            data, held_out = self._divided(split)
        if held_out is not None and record.validation_scores is None:
            # a warm start of a fit that had no curves: they start here
            record.validation_scores, record.validation_loss_curve = [], []
            if settings.early_stopping:
                record.monitor = PlateauMonitor(settings.tol, higher_is_better=True)
        rows = minibatch_rows(settings.batch_size, data.n_samples)
        if settings.batch_size != "auto" and settings.batch_size > data.n_samples:
            warnings.warn(
                f"batch_size={settings.batch_size} is larger than the {data.n_samples} training "
                "samples; using full batches",
                UserWarning,
                stacklevel=5,
            )
        order = None if resumed is None else resumed.sample_order
        source = data.source(rows, settings.shuffle, order)
        epochs = _Epochs(self, net, record, source, held_out, split)
        if self.observer is not None:
            self.observer.run_begin(net, record)
        record.diverged = False  # in this call
        interrupted = epochs.train()
        if record.diverged:
            data.check_result(net, record.loss)
        return FitResult(net, record, k, interrupted), split


def _run_task(trainer: Trainer, k: int, rng, split, task_context: Callable) -> FitResult:
    """One run as a joblib task."""
    with task_context():
        return trainer.run(k, rng, split)[0]


class _Epochs:
    """One run's epochs (or L-BFGS iterations): the training loop's hooks
    (:class:`~chainrule.training.LoopHooks`), which report to the trainer's observer, scorer
    and checkpoint writer."""

    def __init__(self, trainer: Trainer, net, record, source, held_out, split) -> None:
        self.trainer, self.net, self.record = trainer, net, record
        self.source, self.held_out, self.split = source, held_out, split
        self.observer = trainer.observer or _Unobserved()

    def train(self) -> bool:
        """Train the run; returns whether a KeyboardInterrupt stopped it."""
        trainer, settings, net, record = self.trainer, self.trainer.settings, self.net, self.record
        if settings.solver == "lbfgs":
            on_iteration = self.observer.lbfgs_begin()
            interrupted = train_lbfgs(
                net,
                self.source,
                record,
                max_iter=settings.max_iter,
                max_fun=settings.max_fun,
                tol=settings.tol,
                verbose=settings.verbose,
                on_iteration=on_iteration,
                warn_diverged=self.diverged,
            )
            self.observer.lbfgs_end()
            return interrupted
        resuming = trainer.resumed is not None
        if record.optimizer is None or not (settings.incremental or resuming):
            record.optimizer = trainer.make_optimizer()
        if not resuming:
            record.n_iter = 0  # n_iter_ counts the epochs of this call, as scikit-learn's
        loop = LoopSettings(
            epochs=1 if settings.incremental else settings.max_iter - record.n_iter,
            schedule=settings.schedule,
            n_iter_no_change=settings.n_iter_no_change,
            tol=settings.tol,
            incremental=settings.incremental,
            early_stopping=settings.early_stopping,
            verbose=settings.verbose,
            checkpoint_every=None if trainer.checkpoint is None else settings.checkpoint_every,
            max_iter=settings.max_iter,
        )
        runner = EpochRunner(net, self.source, settings.max_grad_norm)
        return train_epochs(runner, record, loop, self)

    # -- the training loop's hooks -------------------------------------------------------------

    def epoch_begin(self) -> None:
        self.observer.epoch_begin()

    def epoch_abort(self) -> None:
        self.observer.epoch_abort()

    def validation(self) -> tuple[float, float] | None:
        if self.held_out is None:
            return None
        return self.trainer.score(self.net, self.held_out)

    def epoch_end(self) -> bool:
        return self.observer.epoch_end(self.record)

    def checkpoint(self, finished: bool) -> None:
        order = self.source.sample_order
        split = self.split if isinstance(self.split, tuple) else None
        self.trainer.checkpoint(Progress(self.net, self.record, order, split, finished))

    def diverged(self, cost: float) -> None:
        """Warn that the cost became ``cost`` and the last finite weights were restored."""
        self.record.diverged = True
        if self.trainer.settings.solver == "lbfgs":
            where, advice = "L-BFGS", "Scale the features (e.g. StandardScaler) or raise alpha."
        else:
            where = f"epoch {self.record.n_iter + 1}"
            advice = (
                "Scale the features (e.g. StandardScaler), lower learning_rate_init (now "
                f"{self.record.optimizer.learning_rate:g}), or set max_grad_norm to clip the "
                "gradients."
            )
        warn_like_sklearn(
            f"training diverged in {where}: the cost became {cost}. Training stopped and the "
            f"last weights known to give a finite cost were restored. {advice}",
            TrainingDivergedWarning,
        )


class _Unobserved:
    """The observer of a fit that nobody watches."""

    def run_begin(self, net, record) -> None:
        pass

    def epoch_begin(self) -> None:
        pass

    def epoch_abort(self) -> None:
        pass

    def epoch_end(self, record) -> bool:
        return False

    def lbfgs_begin(self) -> None:
        return None

    def lbfgs_end(self) -> None:
        pass
