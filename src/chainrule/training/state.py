"""What a fit carries from epoch to epoch (:class:`TrainingRecord`), the random generators of
restarts, and the JSON-able form of generators and optimizers that checkpoints store."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from chainrule._arrays import copy, is_numpy, to_numpy
from chainrule.optimizers import Optimizer
from chainrule.training.schedules import PlateauMonitor


@dataclass
class TrainingRecord:
    """The state of one run that the training loop advances: the estimator publishes it as its
    fitted attributes (``loss_curve_``, ``n_iter_``, ``t_``, ...), and checkpoints store it."""

    monitor: PlateauMonitor
    rng: np.random.Generator
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


def restart_generators(random_state, n_init: int) -> list[np.random.Generator]:
    """One generator per restart. The first is the one a single run with ``random_state``
    uses, so ``n_init > 1`` only adds runs."""
    if isinstance(random_state, np.random.RandomState):
        random_state = int(random_state.randint(np.iinfo(np.int32).max))
    first = np.random.default_rng(random_state)
    if n_init == 1:
        return [first]
    if isinstance(random_state, np.random.Generator):
        return [first, *random_state.spawn(n_init - 1)]
    children = np.random.SeedSequence(random_state).spawn(n_init)[1:]
    return [first, *(np.random.default_rng(s) for s in children)]


def generator_state(rng: np.random.Generator) -> dict:
    """The JSON-able state of a generator (its bit generator's name and state)."""
    return rng.bit_generator.state


def generator_from_state(state: dict) -> np.random.Generator:
    """A generator that continues exactly where :func:`generator_state` left it."""
    name = state.get("bit_generator")
    if name not in ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"):
        raise ValueError(f"unknown bit generator {name!r} in the checkpoint")
    bit_generator = getattr(np.random, name)()
    bit_generator.state = state
    return np.random.Generator(bit_generator)


def optimizer_payload(optimizer: Optimizer) -> tuple[dict, dict[str, np.ndarray]]:
    """An optimizer's learning rate, step count and moments, as JSON and arrays."""
    meta: dict = {"learning_rate": optimizer.learning_rate}
    arrays = {}
    for name, value in optimizer.state().items():
        if hasattr(value, "shape") and not (is_numpy(value) and value.ndim == 0):
            arrays[name] = to_numpy(value)
        elif value is not None:
            meta[name] = value
    return meta, arrays


def restore_optimizer(optimizer: Optimizer, meta: dict, arrays: dict[str, np.ndarray]) -> None:
    """Put back what :func:`optimizer_payload` saved."""
    optimizer.learning_rate = float(meta["learning_rate"])
    state = {name: meta.get(name) for name in optimizer.state()}
    state.update({name: copy(arrays[name]) for name in state if name in arrays})
    optimizer.load_state(state)
