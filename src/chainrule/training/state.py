"""What a fit carries from epoch to epoch (:class:`TrainingRecord`) and the random generators of
restarts (their files: :mod:`chainrule.persistence.records`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state

from chainrule.optimizers import Optimizer
from chainrule.training.schedules import PlateauMonitor


@dataclass
class TrainingRecord:
    """The state of one run that the training loop advances: the estimator publishes it as its
    fitted attributes (``loss_curve_``, ``n_iter_``, ``t_``, ...), and checkpoints store it."""

    monitor: PlateauMonitor
    rng: np.random.RandomState | np.random.Generator
    optimizer: Optimizer | None = None
    loss_curve: list = field(default_factory=list)
    validation_scores: list | None = None
    validation_loss_curve: list | None = None
    n_iter: int = 0
    t: int = 0
    steps: int = 0
    loss: float | None = None
    best_loss: float | None = None
    best_validation_score: float | None = None
    diverged: bool = False  # the cost became infinite or NaN in this call; finite weights kept


def restart_generators(random_state, n_init: int) -> list:
    """One random source per restart. The first is the one a single run with ``random_state``
    uses, so ``n_init > 1`` only adds runs: scikit-learn's ``check_random_state(random_state)``
    (an int seeds a ``RandomState``; None is numpy's global one), or the
    ``numpy.random.Generator`` given (chainrule's addition)."""
    if isinstance(random_state, np.random.Generator):
        return [random_state, *random_state.spawn(n_init - 1)]
    first = check_random_state(random_state)
    if n_init == 1:
        return [first]
    if isinstance(random_state, Integral):
        entropy = int(random_state)
    else:  # the state's key seeds the other runs, without drawing from the first
        entropy = [int(k) for k in first.get_state(legacy=False)["state"]["key"][:8]]
    children = np.random.SeedSequence(entropy).spawn(n_init - 1)
    return [first, *(np.random.RandomState(np.random.MT19937(s)) for s in children)]
