"""Training: the loop (epochs, minibatches, schedules, early stopping, divergence guard,
callbacks and checkpoints through hooks), L-BFGS, restarts, and the seed's XOR run.

The estimators assemble these; they call the engine through :class:`EpochRunner` and the
network's public methods only.
"""

from chainrule.training.batches import ArraySource, shuffle_order
from chainrule.training.epoch import (
    Diverged,
    EpochRunner,
    MinibatchSteps,
    TrainingDivergedWarning,
)
from chainrule.training.lbfgs import fit_lbfgs, train_lbfgs
from chainrule.training.loop import LoopHooks, LoopSettings, train_epochs
from chainrule.training.notices import SKLEARN_MLP_MODULE, warn_like_sklearn
from chainrule.training.schedules import (
    LearningRateSchedule,
    PlateauMonitor,
    clip_gradient,
)
from chainrule.training.solvers import SOLVERS, make_optimizer
from chainrule.training.state import (
    TrainingRecord,
    generator_from_state,
    generator_state,
    optimizer_payload,
    record_payload,
    restart_generators,
    restore_optimizer,
    restore_record,
)
from chainrule.training.xor import train_xor

__all__ = [
    "SKLEARN_MLP_MODULE",
    "SOLVERS",
    "ArraySource",
    "Diverged",
    "EpochRunner",
    "LearningRateSchedule",
    "LoopHooks",
    "LoopSettings",
    "MinibatchSteps",
    "PlateauMonitor",
    "TrainingDivergedWarning",
    "TrainingRecord",
    "clip_gradient",
    "fit_lbfgs",
    "generator_from_state",
    "generator_state",
    "make_optimizer",
    "optimizer_payload",
    "record_payload",
    "restart_generators",
    "restore_optimizer",
    "restore_record",
    "shuffle_order",
    "train_epochs",
    "train_lbfgs",
    "train_xor",
    "warn_like_sklearn",
]
