"""``chainrule train``: train an MLP on a data set, report on it, save the model and its loss
curve into a run directory.

Everything that can be checked is checked before training: the arguments (by the parser), the
output folder and files (:mod:`chainrule.cli.preflight`: an old run is not replaced without
``--force``), that the model can be saved, and the data (a NaN or a value past the float range
is an error naming file and line). A fit that stops before its last epoch says why in the
report. Ctrl-C stops training at the end of the epoch (twice: at once), saves the model kept
so far and exits 130; a Ctrl-C during that final save waits for it.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import time
import warnings
from pathlib import Path

from chainrule import datasets
from chainrule.cli import preflight, validation
from chainrule.cli.common import (
    DEFAULT_OUT,
    non_negative_float,
    open_unit_interval,
    positive_float,
    positive_int,
    report,
    unit_interval,
)
from chainrule.cli.schedule import SCHEDULE_HELP, schedule

NAME = "train"
HELP = "train a model and report on it"
#: the fewest samples a test split is taken from; smaller data sets are trained on whole
MIN_SAMPLES_TO_SPLIT = 10
#: the share of the training samples early stopping holds out (the estimators' default)
VALIDATION_FRACTION = 0.1
#: the fewest samples that validation split must hold: on fewer (12 for iris) the validation
#: loss is too noisy to stop on, and training runs its epochs
MIN_VALIDATION_SAMPLES = 30
#: the minibatch size unless --batch-size is given: scikit-learn's min(200, n), but for data
#: in memory small enough for 200 to make fewer updates an epoch than this (iris: 1 before),
#: n / MIN_UPDATES_PER_EPOCH, so that 10 epochs without progress are some 100 updates
DEFAULT_BATCH_SIZE, MIN_UPDATES_PER_EPOCH = 200, 10
#: the hidden activations offered: every built-in one but those made for the output layer
#: (softmax, exp/exponential); tests hold this list to the registry
HIDDEN_ACTIVATIONS = [
    "relu",
    "tanh",
    "logistic",
    "sigmoid",
    "leaky_relu",
    "elu",
    "softplus",
    "identity",
]


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes such as 64,32, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"hidden layer sizes must be positive, got {text!r}")
    return sizes


def add_regularization_arguments(parser: argparse.ArgumentParser) -> None:
    """The penalty and decoupled weight decay (chainrule's additions beyond scikit-learn's MLP),
    a group of their own in ``--help``."""
    group = parser.add_argument_group("regularization")
    group.add_argument(
        "--alpha", type=non_negative_float, default=0.0001, help="penalty (default: 0.0001)"
    )
    group.add_argument(
        "--l1-ratio",
        type=unit_interval,
        default=0.0,
        help="L1 share of the --alpha penalty: 0 is L2 alone, 1 is L1 alone (default: 0)",
    )
    group.add_argument(
        "--weight-decay",
        type=non_negative_float,
        default=0.0,
        help="decoupled weight decay W <- W - eta lambda W each step (adam: AdamW) (default: 0)",
    )


def _dropout(text: str) -> float | list[float]:
    """``--dropout``: one rate for every hidden layer, or a comma list, one a layer."""
    try:
        rates = [float(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected rates such as 0.2,0.5, got {text!r}") from None
    if not rates or not all(0 <= p < 1 for p in rates):
        raise argparse.ArgumentTypeError(f"dropout rates must be in [0, 1), got {text!r}")
    return rates[0] if len(rates) == 1 else rates


def add_arguments(parser: argparse.ArgumentParser) -> None:
    names = ", ".join(datasets.BUILTIN)
    parser.add_argument(
        "--data",
        default="digits",
        help=f"{names}, a CSV path, - for standard input, or a folder of Parquet or .npy "
        "files, streamed block by block (dask) (default: digits)",
    )
    parser.add_argument(
        "--target",
        help="the target column of a CSV or Parquet file, or its index in .npy files "
        "(default: the last)",
    )
    parser.add_argument("--hidden", type=_sizes, default=[64], help="hidden sizes, e.g. 64,32")
    parser.add_argument(
        "--activation",
        default="relu",
        choices=HIDDEN_ACTIVATIONS,
        metavar="NAME",
        help=f"hidden activation: {', '.join(HIDDEN_ACTIVATIONS)} (default: relu)",
    )
    parser.add_argument("--solver", default="adam", choices=["adam", "sgd", "lbfgs"])
    parser.add_argument("--epochs", type=positive_int, default=200, help="maximum epochs")
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        help=f"minibatch size (default: min({DEFAULT_BATCH_SIZE}, n / "
        f"{MIN_UPDATES_PER_EPOCH}), at least {MIN_UPDATES_PER_EPOCH} updates an epoch)",
    )
    parser.add_argument("--learning-rate", type=positive_float, default=0.001)
    parser.add_argument("--momentum", type=unit_interval, default=0.9, help="for --solver sgd")
    add_regularization_arguments(parser)
    parser.add_argument(
        "--schedule", type=schedule, default={}, metavar="NAME[:P=V,...]", help=SCHEDULE_HELP
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--dropout",
        type=_dropout,
        default=0.0,
        help="dropout rate of the hidden layers while training: one, or one a layer, e.g. "
        "0.2,0.5 (default: 0)",
    )
    parser.add_argument(
        "--test-size",
        type=open_unit_interval,
        default=0.25,
        help="fraction held out for the test report (default: 0.25; none for tiny data sets)",
    )
    parser.add_argument(
        "--no-early-stopping",
        dest="early_stopping",
        action="store_false",
        help="train all epochs instead of stopping on the validation score",
    )
    parser.add_argument(
        "--out", default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})"
    )
    parser.add_argument(
        "--force", action="store_true", help="replace the run that --out holds already"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--device",
        default="cpu",
        help="cpu (NumPy, the default), or a torch device to train on: cuda, cuda:1, mps",
    )
    parser.add_argument(
        "--resume",
        metavar="PATH",
        help="checkpoint every epoch to PATH, and continue from it if it exists",
    )
    validation.add_argument(parser)


def _split(data, args):
    """``(X_tr, X_te, y_tr, y_te)``; no test split (``X_te`` None) for a tiny data set."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    n = len(data.y)
    classify = data.task == "classification"
    counts = np.unique(data.y, return_counts=True)[1] if classify else None
    n_test = int(np.ceil(args.test_size * n))
    too_small = n < MIN_SAMPLES_TO_SPLIT or n - n_test < 1 or n_test < 1
    if classify and (counts.min() < 2 or n_test < len(counts) or n - n_test < len(counts)):
        too_small = True
    if too_small:
        print(
            f"chainrule train: note: {data.name} has only {n} samples, too few to hold some "
            "out: training and reporting on all of them (no test split)",
            file=sys.stderr,
        )
        return data.X, None, data.y, None
    return train_test_split(
        data.X,
        data.y,
        test_size=args.test_size,
        random_state=args.seed,
        stratify=data.y if classify else None,
    )


def _fit(model, X, y, info, lazy: bool = False, device=None, val=None):
    """``(bundle, diverged)``: ``Standardized.fit``, its warnings printed one line each, and
    whether training diverged. ``lazy``: dask ``X``, ``y`` (a folder), streamed; ``device``: a
    torch device to train on (torch tensors there); ``val``: ``(X_val, y_val)`` or None."""
    from sklearn.exceptions import ConvergenceWarning

    from chainrule.cli.folder import standardized_fit
    from chainrule.estimators import Standardized
    from chainrule.training import TrainingDivergedWarning

    given = {} if val is None else {"X_val": val[0], "y_val": val[1]}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        if lazy:
            bundle = standardized_fit(model, X, y, info=info, **given)
        else:
            bundle = Standardized.fit(model, X, y, info=info, device=device, **given)
    for message in dict.fromkeys(str(w.message) for w in caught):
        print(f"chainrule train: warning: {message}", file=sys.stderr)
    return bundle, any(issubclass(w.category, TrainingDivergedWarning) for w in caught)


def _params(args, n_train: int, lazy: bool, validates: bool) -> dict:
    """The estimator's parameters: the arguments, and the command line's defaults."""
    params = dict(
        hidden_layer_sizes=args.hidden,
        activation=args.activation,
        solver=args.solver,
        max_iter=args.epochs,
        learning_rate_init=args.learning_rate,
        momentum=args.momentum,
        alpha=args.alpha,
        l1_ratio=args.l1_ratio,
        weight_decay=args.weight_decay,
        random_state=args.seed,
        early_stopping=args.early_stopping and validates,
        validation_fraction=VALIDATION_FRACTION,
        scoring="loss",  # the validation loss is smooth where a small set's accuracy jumps
    )
    if args.batch_size or not lazy:
        few = math.ceil(n_train / MIN_UPDATES_PER_EPOCH)
        params["batch_size"] = args.batch_size or min(DEFAULT_BATCH_SIZE, few)
    if args.resume:
        params.update(checkpoint=args.resume, resume=True)
    params.update(args.schedule)  # learning_rate and its schedule's parameters
    if args.dropout:
        params["dropout"] = args.dropout
    return params


def stopping_line(model, epochs: int, diverged: bool = False) -> str | None:
    """Why a stochastic fit ended before its last epoch, for the report (None otherwise)."""
    n = model.n_iter_
    if diverged or model.solver == "lbfgs" or n >= epochs:
        return None
    rule = f"by more than tol={model.tol:g} for {model.n_iter_no_change} epochs"
    if not model.early_stopping:
        return f"stopped at epoch {n} of {epochs}: the training loss did not improve {rule}"
    import numpy as np

    curve = np.asarray(model.validation_loss_curve_, dtype=float)
    best = int(np.nanargmin(curve)) + 1
    return (
        f"stopped early at epoch {n} of {epochs}: the validation loss did not improve {rule}; "
        f"the model keeps the weights of epoch {best} (validation loss {curve[best - 1]:.4g})"
    )


class _DeferredInterrupts:
    """Ctrl-C while training and saving. During the fit, the first asks for a stop at the end
    of the epoch (the callback ``progress`` stops the fit, which keeps its best weights); a
    second stops at once (the estimator keeps the weights reached so far) unless it comes in
    the middle of a checkpoint write, which is finished first. Once ``saving`` is set, every
    Ctrl-C waits for the saves. ``progress.stop_requested`` tells whether one came."""

    def __init__(self, progress) -> None:
        self.progress, self.saving = progress, False

    def __call__(self, signum, frame) -> None:
        if self.progress.stop_requested and not self.saving and not _inside_a_write(frame):
            raise KeyboardInterrupt
        if not self.progress.stop_requested:
            then = "after saving" if self.saving else "after this epoch (Ctrl-C again: at once)"
            print(f"\nchainrule train: stopping {then}", file=sys.stderr)
        self.progress.stop_requested = True

    def __enter__(self) -> _DeferredInterrupts:
        self.previous = signal.signal(signal.SIGINT, self)
        return self

    def __exit__(self, *exc_info) -> None:
        signal.signal(signal.SIGINT, self.previous)


def _inside_a_write(frame) -> bool:
    """Whether ``frame`` runs inside ``chainrule.persistence``'s safe writer."""
    from chainrule.persistence import atomic_write

    code = atomic_write.__wrapped__.__code__
    while frame is not None:
        if frame.f_code is code:
            return True
        frame = frame.f_back
    return False


def _device(args, lazy: bool):
    """The torch device to train on (None: NumPy), checked to exist now."""
    if args.device == "cpu":
        return None
    from chainrule._arrays import device_namespace

    if lazy:
        raise ValueError(f"--device {args.device} trains data in memory, not a folder's blocks")
    # scikit-learn's array_api_dispatch asks for it; chainrule needs none of scipy's
    os.environ.setdefault("SCIPY_ARRAY_API", "1")
    device_namespace(args.device)  # torch and the device exist, or a one-line error now
    return args.device


def run(args: argparse.Namespace) -> int:
    from chainrule.cli import folder
    from chainrule.cli.progress import EpochProgress
    from chainrule.estimators import MLPClassifier, MLPRegressor
    from chainrule.plotting import plot_loss, save_figure

    validation.check_arguments(args)
    lazy = Path(args.data).is_dir()  # a folder of Parquet or .npy files: dask arrays
    device = _device(args, lazy)
    data = preflight.load_data(args, datasets.read_folder if lazy else datasets.load)
    info = {
        "data": args.data,
        "task": data.task,
        "features": data.feature_names,
        "target": data.target_name,
    }
    if args.validation is not None:
        info["validation"] = args.validation
    preflight.check_savable(info, len(args.hidden) + 1)
    model_path, plot_path = preflight.run_folder(args)
    val = validation.read(args, data)  # (X_val, y_val), or None without --validation
    classify = data.task == "classification"
    if lazy:
        X_tr, X_te, y_tr, y_te = folder.split_blocks(data, args.test_size, args.seed)
    else:
        X_tr, X_te, y_tr, y_te = _split(data, args)
    # early stopping holds out whole blocks of a folder: it needs at least 2
    validates = len(y_tr) * VALIDATION_FRACTION >= MIN_VALIDATION_SAMPLES and (
        not lazy or X_tr.numblocks[0] >= 2
    )
    validates = validates or val is not None  # a --validation file is used whatever its size
    params = _params(args, len(y_tr), lazy, validates)
    model = (MLPClassifier if classify else MLPRegressor)(**params)
    progress = EpochProgress(args.epochs, quiet=args.quiet or args.solver == "lbfgs")
    model.set_callbacks(progress)
    with _DeferredInterrupts(progress) as interrupts:
        started = time.perf_counter()
        bundle, diverged = _fit(model, X_tr, y_tr, info, lazy, device, val)
        seconds = time.perf_counter() - started
        interrupts.saving = True  # a Ctrl-C from here on waits for the model and the plot
        bundle.save(model_path)
        save_figure(plot_loss(model), plot_path)

    print(
        f"chainrule train: {data.name}, {len(data.y)} samples, {data.X.shape[1]} features, "
        f"net {[data.X.shape[1], *args.hidden]} -> {model.n_outputs_}, solver {args.solver}"
    )
    splits = [("train", X_tr, y_tr)] + ([("validation", *val)] if val is not None else [])
    splits += [("test", X_te, y_te)] if X_te is not None else []
    if lazy:  # the estimator itself on the lazily scaled blocks: predictions block by block
        splits = [(name, folder.scaled(bundle, X), y) for name, X, y in splits]
    print(report(model if lazy else bundle, splits, classify))
    print(f"epochs: {model.n_iter_}   seconds: {seconds:.2f}")
    stopped = None if progress.stop_requested else stopping_line(model, args.epochs, diverged)
    if stopped:
        print(stopped)
    print(f"saved the model to {model_path}")
    print(f"saved the loss curve to {plot_path}")
    if progress.stop_requested:
        print("chainrule train: interrupted; saved the model kept so far", file=sys.stderr)
        return 130
    return 0
