"""``n_init`` restarts as joblib tasks: ``joblib.parallel_config(backend="dask")`` (or
``"loky"``, ``"threading"``, ``n_jobs``) spreads them over a cluster's workers (or this
machine's cores), as it does a ``GridSearchCV``; by default they run one after another in this
process. In-memory and dask input alike, with or without early stopping.

Run ``k`` is a copy of the estimator with ``n_init=1`` and ``random_state`` the ``k``-th
generator of :func:`chainrule.training.restart_generators`, so each run is the one the
in-process loop makes, run 0 is the fit with ``n_init=1``, and the results do not depend on
where the runs ran. With early stopping every run holds out run 0's validation split, drawn
once from run 0's generator (as the in-process loop does): run 0 draws it as the fit with
``n_init=1`` does; runs ``k > 0`` are handed it and draw none. In memory that is the split's
row indices (drawn here, beforehand, from a copy of run 0's generator after its initial
weights, scikit-learn's order); on dask input it is a copy of run 0's generator as it was
before any draw, from which each run draws the same held-out blocks. The best run wins (the
first of equals): the highest validation score with early stopping, else the lowest final
loss.

On dask input each run streams the blocks itself: run in this process (joblib's default and
``"threading"`` backends) it computes through the calling thread's dask client; under
``joblib.parallel_config(backend="dask")`` it is a task on a worker that streams through that
worker's client, out of the worker's thread pool while it waits (``distributed.worker_client``),
so the restarts cannot take every thread and wait for blocks that then have none to run on.

Callbacks and ``checkpoint`` keep the in-process loop (:meth:`Restarts._restarts_apply`):
callbacks report to the estimator in this process, and a checkpoint is one file that one fit
writes.
"""

from __future__ import annotations

import copy

from joblib import Parallel, delayed
from joblib.parallel import get_active_backend
from sklearn.base import clone

from chainrule.training import restart_generators


def _fit_one(estimator, X, y, sample_weight, on_dask=False, client=None, validation=None):
    """One restart (a joblib task): the fitted copy. On dask input it computes through
    ``client``, the calling thread's dask client, when the task runs in this process (joblib's
    threads do not inherit ``client.as_current()``); on a dask worker (joblib's dask backend)
    through the worker's client, out of the worker's thread pool while it fits, so that the
    blocks it waits for can run on that worker too. ``validation``: the caller's
    ``(X_val, y_val, sample_weight_val)``, the same for every run, or None."""
    names = ("X_val", "y_val", "sample_weight_val")
    given = {} if validation is None else dict(zip(names, validation, strict=True))
    if client is not None:
        with client.as_current():
            return estimator.fit(X, y, sample_weight=sample_weight, **given)
    if on_dask and _on_dask_worker():
        from distributed import worker_client

        with worker_client():
            return estimator.fit(X, y, sample_weight=sample_weight, **given)
    return estimator.fit(X, y, sample_weight=sample_weight, **given)


def _calling_client():
    """The dask client this thread computes with, for tasks that joblib runs in this process
    (its sequential and threading backends); None elsewhere, or without one."""
    from chainrule.scale import default_client

    backend, _ = get_active_backend()
    return default_client() if getattr(backend, "supports_sharedmem", False) else None


def _on_dask_worker() -> bool:
    """Whether this code runs in a task on a dask worker."""
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):  # no distributed, or not on a worker
        return False
    return True


def _best_run(criteria: list[float]) -> int:
    """The index of the best run: the highest criterion, the first of equals (a NaN never
    replaces an earlier run), as the in-process loop keeps it."""
    best = 0
    for k, criterion in enumerate(criteria):
        if criterion > criteria[best]:
            best = k
    return best


class Restarts:
    """``n_init`` restarts through joblib (a mixin of
    :class:`~chainrule.estimators.base.BaseMLP`)."""

    def _restarts_apply(self) -> bool:
        """Whether this ``fit`` runs its restarts as joblib tasks: ``n_init > 1`` from scratch
        (no fitted network or weights assigned before a warm start), without callbacks (they
        report to this process) or a checkpoint (one file)."""
        fresh = not (
            self.warm_start and (hasattr(self, "network_") or self._preset_weights() is not None)
        )
        return (
            self.n_init > 1
            and fresh
            and self.checkpoint is None
            and not hasattr(self, "_skl_callbacks")
        )

    def _fit_restarts(self, X, y, sample_weight=None, *, on_dask=False, validation_set=None):
        """Fit ``n_init`` copies as joblib tasks (``on_dask``: ``X`` is a dask collection;
        ``validation_set``: the caller's, which every run scores) and keep the best one's
        fitted state."""
        rngs = restart_generators(self.random_state, self.n_init)
        template = clone(self).set_params(n_init=1)
        shared = {}
        if self.early_stopping and validation_set is None:  # a given set: no split to share
            shared = self._run0_split(X, y, sample_weight, rngs[0], on_dask)
        client = _calling_client() if on_dask else None
        tasks = []
        for k, rng in enumerate(rngs):
            run = clone(template).set_params(random_state=rng)
            if k > 0:  # run 0 draws the split itself, as the fit with n_init=1
                run.__dict__.update(copy.deepcopy(shared))  # a copy each: no run draws another's
            task = delayed(_fit_one)(run, X, y, sample_weight, on_dask, client, validation_set)
            tasks.append(task)
        runs = Parallel()(tasks)
        best = _best_run([self._run_criterion(run) for run in runs])
        params = self.get_params(deep=False)
        for name, value in vars(runs[best]).items():
            if name not in params:
                setattr(self, name, value)
        self.best_run_ = best
        return self

    def _run0_split(self, X, y, sample_weight, rng, on_dask: bool) -> dict:
        """What runs ``k > 0`` are handed so that they hold out run 0's validation split, as
        private attributes: on dask input a copy of run 0's generator before any draw
        (``_split_rng``, the blocks are drawn first); in memory the split's row indices
        (``_restart_split``), drawn from a copy of run 0's generator after its initial
        weights, as run 0 draws them."""
        rng = copy.deepcopy(rng)  # run 0 makes the same draws from the original
        if on_dask:
            return {"_split_rng": rng}
        if self.solver == "lbfgs" or self.validation_fraction == 0:
            return {}  # L-BFGS ignores early stopping in memory; no split: the runs say why
        probe = type(self)(**self.get_params(deep=False))  # a copy to draw with
        X, _, Y, _, dtype = probe._training_data(X, y, sample_weight, True, None)
        probe._build_network(X.shape[1], Y.shape[1], dtype, rng)  # the initial weights first
        return {"_restart_split": probe._validation_split(Y, rng)}
