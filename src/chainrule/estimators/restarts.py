"""``n_init`` restarts as joblib tasks: ``joblib.parallel_config(backend="dask")`` (or
``"loky"``, ``n_jobs``) spreads them over a cluster's workers (or this machine's cores), as it
does a ``GridSearchCV``; by default they run one after another in this process.

Run ``k`` is a copy of the estimator with ``n_init=1`` and ``random_state`` the ``k``-th
generator of :func:`chainrule.training.restart_generators`, so each run is the one the
in-process loop makes, run 0 is the fit with ``n_init=1``, and the results do not depend on
where the runs ran. The best run wins (the first of equals): the highest validation score with
early stopping, else the lowest final loss.
"""

from __future__ import annotations

from joblib import Parallel, delayed
from sklearn.base import clone

from chainrule.training import restart_generators


def _fit_one(estimator, X, y, sample_weight):
    """One restart (a joblib task): the fitted copy."""
    return estimator.fit(X, y, sample_weight=sample_weight)


class Restarts:
    """``n_init`` restarts through joblib (a mixin of
    :class:`~chainrule.estimators.base.BaseMLP`)."""

    def _restarts_apply(self) -> bool:
        """Whether this ``fit`` runs its restarts as joblib tasks: ``n_init > 1`` from scratch,
        without callbacks (they report to this process) or a checkpoint (one file), and
        without early stopping (its restarts share one validation split, drawn once)."""
        fresh = not (self.warm_start and hasattr(self, "network_"))
        return (
            self.n_init > 1
            and fresh
            and self.checkpoint is None
            and not self.early_stopping
            and not hasattr(self, "_skl_callbacks")
        )

    def _fit_restarts(self, X, y, sample_weight=None):
        """Fit ``n_init`` copies as joblib tasks and keep the best one's fitted state."""
        rngs = restart_generators(self.random_state, self.n_init)
        template = clone(self).set_params(n_init=1)
        runs = Parallel()(
            delayed(_fit_one)(clone(template).set_params(random_state=rng), X, y, sample_weight)
            for rng in rngs
        )
        # no early stopping here (see above): the best run has the lowest final training loss
        best = min(range(len(runs)), key=lambda k: (runs[k].loss_, k))
        params = self.get_params(deep=False)
        for name, value in vars(runs[best]).items():
            if name not in params:
                setattr(self, name, value)
        self.best_run_ = best
        return self
