"""Training: one fit from start to end (:class:`Trainer`: restarts, the held-out samples,
resuming, checkpoints), the loop (epochs, minibatches, schedules, early stopping, divergence
guard), L-BFGS, and the seed's XOR run.

The estimators hand a :class:`Trainer` their data and settings; it calls the engine through
:class:`EpochRunner` and the network's public methods only.
"""

from chainrule.training.batches import ArraySource, shuffle_order
from chainrule.training.data import HeldOut, InMemoryData, TrainingData, minibatch_rows
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
from chainrule.training.state import TrainingRecord, restart_generators
from chainrule.training.trainer import (
    FitObserver,
    FitResult,
    FitSettings,
    Progress,
    Resumed,
    Trainer,
    best_run,
    new_record,
)
from chainrule.training.xor import train_xor

__all__ = [
    "SKLEARN_MLP_MODULE",
    "SOLVERS",
    "ArraySource",
    "Diverged",
    "EpochRunner",
    "FitObserver",
    "FitResult",
    "FitSettings",
    "HeldOut",
    "InMemoryData",
    "LearningRateSchedule",
    "LoopHooks",
    "LoopSettings",
    "MinibatchSteps",
    "PlateauMonitor",
    "Progress",
    "Resumed",
    "Trainer",
    "TrainingData",
    "TrainingDivergedWarning",
    "TrainingRecord",
    "best_run",
    "clip_gradient",
    "fit_lbfgs",
    "make_optimizer",
    "minibatch_rows",
    "new_record",
    "restart_generators",
    "shuffle_order",
    "train_epochs",
    "train_lbfgs",
    "train_xor",
    "warn_like_sklearn",
]
