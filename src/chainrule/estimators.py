"""``MLPClassifier`` and ``MLPRegressor``: the seed's ``MLP`` class behind the scikit-learn
interface, as drop-in replacements for :mod:`sklearn.neural_network`.

Every parameter of scikit-learn 1.9's MLP keeps its name, meaning and default. Beyond it:
per-layer and user-supplied activations, ``output_activation``, the regressor's ``loss``,
``n_init`` restarts from several initial weights (the seed: "training several networks using
a range of starting values"), ``init``, ``class_weight``, ``scoring`` for early stopping,
``validation_loss_curve_``, ``dtype``, and scikit-learn 1.9 callbacks.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import time
import warnings
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from scipy.sparse import issparse
from scipy.special import expit, log_expit, log_softmax
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.callback import CallbackSupportMixin, with_callbacks
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, check_scoring, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import assert_all_finite, compute_sample_weight
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from chainrule import _fast
from chainrule._checks import (
    as_float_array,
    check_finite,
    check_sample_weight,
    explain_validation_error,
    nonfinite_message,
    sum_is_finite,
)
from chainrule.activations import Activation
from chainrule.costs import Cost
from chainrule.network import INITS, Network
from chainrule.persistence import (
    ModelFormatError,
    network_from_payload,
    network_payload,
    read_archive,
    register_model_class,
    save,
    write_archive,
)
from chainrule.training import (
    Diverged,
    LearningRateSchedule,
    PlateauMonitor,
    TrainingDivergedWarning,
    clip_gradient,
    fit_lbfgs,
    generator_from_state,
    generator_state,
    make_optimizer,
    minibatches,
    optimizer_payload,
    restart_generators,
    restore_optimizer,
)

#: scikit-learn's names for the output activations it uses
_SKLEARN_OUTPUT_NAMES = {"sigmoid": "logistic"}


#: the sparse formats fit and predict accept
_SPARSE_FORMATS = ["csr", "csc"]


class _BaseMLP(CallbackSupportMixin, BaseEstimator):
    """What the classifier and the regressor share: validation, the training loop, restarts."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [str, Activation, list, tuple],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state", np.random.Generator],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "output_activation": [str, Activation, None],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions(set(INITS)), None],
        "scoring": [str, callable, None],
        "dtype": [StrOptions({"float32", "float64"}), None],
        "max_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
        "checkpoint": [str, os.PathLike, None],
        "checkpoint_every": [Interval(Integral, 1, None, closed="left")],
        "resume": ["boolean"],
    }

    def __init__(
        self,
        hidden_layer_sizes,
        activation,
        *,
        solver,
        alpha,
        batch_size,
        learning_rate,
        learning_rate_init,
        power_t,
        max_iter,
        shuffle,
        random_state,
        tol,
        verbose,
        warm_start,
        momentum,
        nesterovs_momentum,
        early_stopping,
        validation_fraction,
        beta_1,
        beta_2,
        epsilon,
        n_iter_no_change,
        max_fun,
        output_activation,
        n_init,
        init,
        scoring,
        dtype,
        max_grad_norm,
        checkpoint,
        checkpoint_every,
        resume,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.output_activation = output_activation
        self.n_init = n_init
        self.init = init
        self.scoring = scoring
        self.dtype = dtype
        self.max_grad_norm = max_grad_norm
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every
        self.resume = resume

    # -- fitted attributes in scikit-learn's orientation --------------------------------------

    @property
    def coefs_(self) -> list[np.ndarray]:
        """``coefs_[i]`` is ``W^(i+1)`` transposed, ``(n_in, n_out)``: a view, not a copy."""
        return [W.T for W in self.network_.W]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """``intercepts_[i]`` is ``b^(i+1)``: a view, not a copy."""
        return list(self.network_.b)

    @property
    def n_layers_(self) -> int:
        """Layers including the input and the output, as scikit-learn counts them."""
        return len(self.network_.layer_sizes)

    @property
    def n_outputs_(self) -> int:
        return self.network_.layer_sizes[-1]

    @property
    def out_activation_(self) -> str:
        name = self.network_.activations[-1].name
        return _SKLEARN_OUTPUT_NAMES.get(name, name)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True  # multilabel and multi-output targets
        return tags

    # -- what the subclasses define ------------------------------------------------------------

    def _cost_name(self) -> str | Cost:
        raise NotImplementedError

    def _default_output_activation(self) -> str:
        raise NotImplementedError

    def _encode_targets(self, y, first_call: bool, classes=None, dtype=np.float64) -> np.ndarray:
        """The targets ``Y`` the network learns (one row per sample), in ``dtype``."""
        raise NotImplementedError

    def _default_score(self, X, y) -> float:
        raise NotImplementedError

    # -- fitting -------------------------------------------------------------------------------

    def _input_dtype(self):
        return (np.float64, np.float32) if self.dtype is None else np.dtype(self.dtype)

    def _validate_input(self, X, y, first_call: bool):
        dtype = self._input_dtype()
        # dtype="float64" with float32 data: X stays float32 (no float64 copy of the whole data
        # set); the minibatches are cast as they are gathered (_run_epoch). L-BFGS works on the
        # whole of X at every iteration, so it gets the float64 copy once.
        keep_float32 = self.dtype == "float64" and self.solver != "lbfgs"
        try:
            X_checked, y_checked = self._validated(
                X,
                y,
                reset=first_call,
                dtype=(np.float64, np.float32) if keep_float32 else dtype,
                multi_output=True,
                y_numeric=isinstance(self, RegressorMixin),
            )
        except (ValueError, TypeError, OverflowError) as e:
            self._explain_input_error(e, {"X": X, "y": y})
        if issparse(X_checked) and X_checked.dtype != self._training_dtype(X_checked):
            X_checked = X_checked.astype(self._training_dtype(X_checked))  # sparse: cast once
        return X_checked, y_checked

    def _validated(self, X, *y, **check_params):
        """scikit-learn's ``validate_data`` (sparse X in CSR or CSC), but X's finiteness test
        is :func:`~chainrule._checks.sum_is_finite` (a sum on two threads), with scikit-learn's
        exact test only when that sum is not finite. Casting a value too large for float32
        overflows and the sum meets inf + -inf: both end as errors, not numpy warnings."""
        with np.errstate(over="ignore", invalid="ignore"):
            try:
                checked = validate_data(
                    self, X, *y, accept_sparse=_SPARSE_FORMATS, ensure_all_finite=False,
                    **check_params,
                )  # fmt: skip
            except ValueError:
                # scikit-learn reports a NaN or infinity in X before any problem with y or
                # with the number of features: so does this
                dtype = check_params.get("dtype", "numeric")
                check_array(X, accept_sparse=_SPARSE_FORMATS, dtype=dtype, input_name="X")
                raise
            X_checked = checked[0] if y else checked
            if not sum_is_finite(X_checked.data if issparse(X_checked) else X_checked):
                assert_all_finite(X_checked, input_name="X", estimator_name=type(self).__name__)
        return checked

    def _training_dtype(self, X) -> np.dtype:
        """The network's dtype: ``dtype`` if set, else that of the validated ``X``."""
        return np.dtype(self.dtype) if self.dtype is not None else X.dtype

    def _explain_input_error(self, error: Exception, inputs: dict) -> None:
        """Re-raise scikit-learn's validation ``error``, naming the first offending entry."""
        name = type(self).__name__
        needs = {
            "X": f"{name} needs numeric features",
            "y": f"{name} needs numeric targets (MLPClassifier takes labels)",
        }
        dtype = np.float32 if self.dtype == "float32" else np.float64
        better = explain_validation_error(error, inputs, name, needs, dtype)
        if better is None:
            if isinstance(error, OverflowError):
                raise ValueError(f"{error}; {needs['X']}") from error
            raise error
        raise better from error

    def _sample_weight(self, sample_weight, y, n_samples: int, dtype) -> np.ndarray:
        if sample_weight is None:
            sw = np.ones(n_samples, dtype=dtype)
        else:
            sw = check_sample_weight(sample_weight, n_samples, dtype, allow_scalar=True)
        class_weight = getattr(self, "class_weight", None)
        if class_weight is not None:
            sw = sw * compute_sample_weight(class_weight, y).astype(dtype)
        return sw

    def _hidden_layer_sizes(self) -> list[int]:
        """``hidden_layer_sizes`` as a list of positive ints, or an error naming the bad one."""
        hidden = self.hidden_layer_sizes
        hidden = [hidden] if isinstance(hidden, Integral) else list(hidden)
        for i, h in enumerate(hidden):
            if isinstance(h, bool) or not isinstance(h, Integral) or h < 1:
                raise ValueError(
                    f"hidden_layer_sizes must hold positive integers (units per hidden layer); "
                    f"entry {i} is {h!r}, in {self.hidden_layer_sizes!r}"
                )
        return [int(h) for h in hidden]

    def _build_network(self, n_features: int, n_outputs: int, dtype, rng) -> Network:
        hidden = self._hidden_layer_sizes()
        activation = self.activation
        if isinstance(activation, list | tuple) and len(activation) != len(hidden):
            raise ValueError(
                f"activation lists {len(activation)} activations for "
                f"{len(hidden)} hidden layers; give one per hidden layer, or one for all"
            )
        return Network(
            [n_features, *hidden, n_outputs],
            activation=activation,
            output_activation=self.output_activation or self._default_output_activation(),
            cost=self._cost_name(),
            alpha=self.alpha,
            init=self.init,
            dtype=dtype,
            random_state=rng,
        )

    def _fit(self, X, y, sample_weight=None, *, incremental=False, classes=None):
        first_call = not (incremental or self.warm_start) or not hasattr(self, "network_")
        if incremental and self.solver == "lbfgs":
            raise ValueError("partial_fit is not available for solver='lbfgs'; use fit")
        if self.early_stopping and not incremental and self.validation_fraction == 0:
            raise ValueError(
                "early_stopping=True needs validation samples, but validation_fraction=0; "
                "set it in (0, 1), e.g. 0.1"
            )
        X, y = self._validate_input(X, y, first_call)
        dtype = self._training_dtype(X)  # X may be float32 for a float64 network
        Y = self._encode_targets(y, first_call, classes, dtype)
        sw = self._sample_weight(sample_weight, y, X.shape[0], dtype)
        resumed = self._resume_from_checkpoint(X, Y, sw, incremental)
        if resumed == "finished":
            return self
        first_call = first_call and not resumed

        n_runs = self.n_init if first_call and not incremental else 1
        rngs = restart_generators(self.random_state, n_runs)
        rng = rngs[0] if first_call else self._rng
        validation = None
        if self.early_stopping and not incremental:
            if not resumed:
                self._split_seed = int(rng.integers(np.iinfo(np.int32).max))
            X, Y, sw, y, validation = self._split_validation(X, Y, sw, y, self._split_seed)
        n_subtasks = 1 if incremental else self.max_iter * n_runs
        ctx = self._init_callback_context(max_subtasks=n_subtasks)
        ctx.call_on_fit_task_begin(estimator=self, X=X, y=y)

        best = None
        for run, run_rng in enumerate(rngs):
            if first_call:
                self.network_ = self._build_network(X.shape[1], Y.shape[1], dtype, run_rng)
                self._reset_training_state()
            if not resumed:
                self._rng = run_rng
            interrupted = self._train(X, Y, sw, y, validation, incremental, ctx)
            criterion = self._run_criterion()
            if best is None or criterion > best[0]:
                best = (criterion, run, self._snapshot())
            if interrupted:
                break
        if len(rngs) > 1:
            self._restore(best[2])
            self.best_run_ = best[1]
        ctx.call_on_fit_task_end(estimator=self, X=X, y=y)
        return self

    def _split_validation(self, X, Y, sw, y, seed: int):
        """Hold out ``validation_fraction`` of the samples (stratified where it can be)."""
        stratify = None
        if isinstance(self, ClassifierMixin) and self._label_binarizer.y_type_ != "multilabel":
            counts = np.unique(y, return_counts=True)[1]
            n_val = int(np.ceil(self.validation_fraction * len(y)))
            if counts.min() >= 2 and n_val >= len(counts):
                stratify = y
        parts = train_test_split(
            X, Y, sw, y, test_size=self.validation_fraction, random_state=seed, stratify=stratify
        )
        X_tr, X_val, Y_tr, Y_val, sw_tr, sw_val, y_tr, y_val = parts
        if X_val.shape[0] < 2:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} leaves {X_val.shape[0]} "
                "validation sample(s); early stopping needs at least 2"
            )
        return X_tr, Y_tr, sw_tr, y_tr, (X_val, Y_val, sw_val, y_val)

    def _reset_training_state(self):
        self.loss_curve_ = []
        self.t_ = 0
        self.n_iter_ = 0
        self._steps = 0
        self.validation_scores_ = [] if self.early_stopping else None
        self.validation_loss_curve_ = [] if self.early_stopping else None
        self.best_validation_score_ = None
        self.best_loss_ = None if self.early_stopping else np.inf
        self._optimizer = None
        self._monitor = PlateauMonitor(self.tol, higher_is_better=self.early_stopping)

    def _run_criterion(self) -> float:
        """Higher is better: the best validation score, or minus the final training loss."""
        if self.early_stopping and self.solver != "lbfgs":
            return self.best_validation_score_
        return -self.loss_

    def _snapshot(self):
        attrs = (
            "loss_curve_ t_ n_iter_ _steps validation_scores_ validation_loss_curve_ "
            "best_validation_score_ best_loss_ loss_ _optimizer _monitor _rng"
        ).split()
        return self.network_, {a: getattr(self, a, None) for a in attrs}

    def _restore(self, snapshot):
        self.network_, attrs = snapshot
        for name, value in attrs.items():
            setattr(self, name, value)

    def _batch_size(self, n_samples: int) -> int:
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(
                f"batch_size={self.batch_size} is larger than the {n_samples} training samples; "
                "using full batches",
                UserWarning,
                stacklevel=4,
            )
        return min(self.batch_size, n_samples)

    def _train(self, X, Y, sw, y, validation, incremental, ctx) -> bool:
        """Train one run; returns whether a KeyboardInterrupt stopped it."""
        if self.solver == "lbfgs":
            return self._train_lbfgs(X, Y, sw, ctx)
        return self._train_stochastic(X, Y, sw, y, validation, incremental, ctx)

    def _train_lbfgs(self, X, Y, sw, ctx) -> bool:
        net = self.network_
        w_sum = float(sw.sum())
        epoch_ctx = [ctx.subcontext(task_name="iteration")]
        epoch_ctx[0].call_on_fit_task_begin(estimator=self, X=X)

        def on_iteration(cost):
            stop = epoch_ctx[0].call_on_fit_task_end(
                estimator=self, X=X, reconstruction_attributes=self._reconstruction
            )
            epoch_ctx[0] = ctx.subcontext(task_name="iteration")
            epoch_ctx[0].call_on_fit_task_begin(estimator=self, X=X)
            return bool(stop)

        interrupted = False
        start = net.theta.copy()
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                self.loss_, self.n_iter_, curve = fit_lbfgs(
                    net,
                    X,
                    Y,
                    sw / w_sum,
                    w_sum,
                    max_iter=self.max_iter,
                    max_fun=self.max_fun,
                    tol=self.tol,
                    verbose=bool(self.verbose),
                    on_iteration=on_iteration if hasattr(self, "_skl_callbacks") else None,
                )
        except KeyboardInterrupt:
            interrupted = True
            self.loss_ = net._cost(X, Y, sw / w_sum, w_sum)
            curve = []
            warnings.warn(
                "training interrupted; the model keeps the weights reached so far",
                UserWarning,
                stacklevel=4,
            )
        epoch_ctx[0].call_on_fit_task_end(estimator=self)
        if not (np.isfinite(net.theta).all() and math.isfinite(self.loss_)):
            net.theta[...] = start  # L-BFGS ended on non-finite weights: back to the start
            self._optimizer = None
            self._warn_diverged(self.loss_)
            self.loss_ = net._cost(X, Y, sw / w_sum, w_sum)
            curve = [c for c in curve if math.isfinite(c)]
        self.loss_curve_ = curve or [self.loss_]
        self.best_loss_ = min(self.loss_curve_)
        self.t_ = X.shape[0]
        return interrupted

    def _reconstruction(self):
        """The fitted attributes a callback's ``fitted_estimator`` needs at this point."""
        return {"network_": self.network_.copy()}

    def _train_stochastic(self, X, Y, sw, y, validation, incremental, ctx) -> bool:
        net = self.network_
        n = X.shape[0]
        resuming = self.__dict__.pop("_resuming", False)
        if self._optimizer is None or not (incremental or resuming):
            self._optimizer = self._make_optimizer()
        optimizer = self._optimizer
        schedule = LearningRateSchedule(
            self.learning_rate if self.solver == "sgd" else "constant",
            self.learning_rate_init,
            self.power_t,
        )
        batch_size = self._batch_size(n)
        grad = np.empty_like(net.theta)
        monitor = self._monitor
        callbacks = hasattr(self, "_skl_callbacks")
        interrupted = False
        epoch_start = np.empty_like(net.theta)  # the last weights known to give a finite cost
        reached_max_iter = False
        epochs = 1 if incremental else self.max_iter - (self.n_iter_ if resuming else 0)
        for _ in range(epochs):
            started = time.perf_counter()
            epoch_ctx = ctx.subcontext(task_name="epoch")
            epoch_ctx.call_on_fit_task_begin(estimator=self, X=X, y=y)
            epoch_start[...] = net.theta
            try:
                # a blow-up is caught by the finiteness checks below, not by numpy's warnings
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    loss = self._run_epoch(net, optimizer, X, Y, sw, batch_size, grad)
                    if not np.isfinite(net.theta).all():
                        raise Diverged(loss)
            except KeyboardInterrupt:
                interrupted = True
                epoch_ctx.call_on_fit_task_end(estimator=self)
                break
            except Diverged as blow_up:
                net.theta[...] = epoch_start
                epoch_ctx.call_on_fit_task_end(estimator=self)
                self._warn_diverged(blow_up.cost)
                break
            self.loss_ = loss
            self.n_iter_ += 1
            self.t_ += n
            self.loss_curve_.append(self.loss_)
            schedule.after_epoch(optimizer, self._steps)
            if self.early_stopping and validation is not None:
                score, val_loss = self._validate(validation)
                self.validation_scores_.append(score)
                self.validation_loss_curve_.append(val_loss)
                monitor.update(score, net.theta, self.n_iter_)
                self.best_validation_score_ = monitor.best
            else:
                monitor.update(self.loss_, net.theta, self.n_iter_)
                self.best_loss_ = monitor.best
            if self.verbose:
                self._print_epoch(time.perf_counter() - started)
            stop = epoch_ctx.call_on_fit_task_end(
                estimator=self,
                X=X,
                y=y,
                reconstruction_attributes=self._reconstruction if callbacks else None,
            )
            if stop:
                break
            if monitor.stale_epochs > self.n_iter_no_change:
                stopping, reason = schedule.on_plateau(optimizer)
                if self.verbose:
                    print(
                        f"Training loss did not improve more than tol={self.tol} for "
                        f"{self.n_iter_no_change} consecutive epochs: {reason}."
                    )
                if stopping:
                    break
                monitor.stale_epochs = 0
            if self.checkpoint is not None and self.n_iter_ % self.checkpoint_every == 0:
                self._write_checkpoint(finished=False)
        else:
            reached_max_iter = True
            if not incremental:
                warnings.warn(
                    f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and "
                    "the optimization hasn't converged yet.",
                    ConvergenceWarning,
                    stacklevel=4,
                )
        if interrupted:
            warnings.warn(
                f"training interrupted after {self.n_iter_} epochs; the model keeps the best "
                f"weights so far (epoch {max(monitor.best_epoch, 0)})",
                UserWarning,
                stacklevel=4,
            )
        if (self.early_stopping and not incremental) or interrupted:
            monitor.restore(net.theta)
        self.__dict__.pop("_fast_engine", None)  # the minibatch buffers are per fit
        if not self.loss_curve_:
            self.loss_ = net._cost(X, Y, sw / sw.sum(), float(sw.sum()))
        if self.checkpoint is not None and not interrupted:
            # a fit that stopped (converged, early-stopped, diverged) is over; one that ran out
            # of max_iter may go on with a larger max_iter
            self._write_checkpoint(finished=not reached_max_iter)
        return interrupted

    def _make_optimizer(self):
        return make_optimizer(
            self.solver,
            learning_rate_init=self.learning_rate_init,
            momentum=self.momentum,
            nesterovs_momentum=self.nesterovs_momentum,
            beta_1=self.beta_1,
            beta_2=self.beta_2,
            epsilon=self.epsilon,
        )

    def _warn_diverged(self, cost: float) -> None:
        if self.solver == "lbfgs":
            where, advice = "L-BFGS", "Scale the features (e.g. StandardScaler) or raise alpha."
        else:
            where = f"epoch {self.n_iter_ + 1}"
            advice = (
                "Scale the features (e.g. StandardScaler), lower learning_rate_init (now "
                f"{self._optimizer.learning_rate:g}), or set max_grad_norm to clip the gradients."
            )
        warnings.warn(
            f"training diverged in {where}: the cost became {cost}. Training stopped and the "
            f"last weights known to give a finite cost were restored. {advice}",
            TrainingDivergedWarning,
            stacklevel=5,
        )

    def _run_epoch(self, net, optimizer, X, Y, sw, batch_size, grad) -> float:
        """One pass over the data in minibatches; returns the mean minibatch cost.

        Dense data of the network's dtype runs on the fast paths of :mod:`chainrule._fast`
        (preallocated buffers, fused kernels); anything else, or ``CHAINRULE_ENGINE=reference``,
        on ``Network._cost_and_gradient``. Both compute the same steps.
        """
        total, w_total = 0.0, float(sw.sum())
        engine = _fast.engine()
        # float32 X for a float64 network (dtype="float64") is cast minibatch by minibatch
        casts = X.dtype != net.dtype and np.can_cast(X.dtype, net.dtype)
        dense = not issparse(X) and Y.dtype == net.dtype and (X.dtype == net.dtype or casts)
        if engine != "reference" and dense:
            fast = getattr(self, "_fast_engine", None)
            if fast is None or not fast.matches(net, batch_size):
                fast = self._fast_engine = _fast.MinibatchEngine(net, batch_size)
            whole_epoch = self.max_grad_norm is None and _fast.small_problem(net, batch_size)
            if engine == "numba" and whole_epoch:
                done = fast.run_epoch(optimizer, X, Y, sw, self._rng, self.shuffle, grad)
                if done is not None:
                    total, steps = done  # the kernel stops at a step whose cost is not finite
                    self._steps += steps
                    if not math.isfinite(total):
                        raise Diverged(total)
                    return total / w_total
            batches = minibatches(X.shape[0], batch_size, self._rng, self.shuffle)
            with contextlib.ExitStack() as stack:
                if self.shuffle and _fast.prefetch_pays(batch_size, X, Y):
                    # minibatch k + 1 is gathered on a worker thread during step k
                    batches = stack.enter_context(fast.prefetched(X, Y, sw, batches))
                else:
                    batches = ((idx, None) for idx in batches)
                for idx, minibatch in batches:
                    cost, n_b = fast.cost_and_gradient(
                        X, Y, sw, idx, grad, not self.shuffle, minibatch
                    )
                    if n_b == 0:
                        continue
                    total += self._step(optimizer, net.theta, grad, cost) * n_b
            return total / w_total
        for idx in minibatches(X.shape[0], batch_size, self._rng, self.shuffle):
            sw_b = sw[idx]
            n_b = float(sw_b.sum())
            if n_b == 0:
                continue
            X_b = X[idx].astype(net.dtype) if casts else X[idx]
            cost, _ = net._cost_and_gradient(X_b, Y[idx], sw_b / n_b, n_b, grad)
            total += self._step(optimizer, net.theta, grad, cost) * n_b
        return total / w_total

    def _step(self, optimizer, theta: np.ndarray, grad: np.ndarray, cost: float) -> float:
        """One optimizer step from a minibatch's gradient (clipped to ``max_grad_norm``);
        stops the epoch when the minibatch's cost is not finite."""
        if not math.isfinite(cost):
            raise Diverged(cost)
        if self.max_grad_norm is not None:
            clip_gradient(grad, self.max_grad_norm)
        optimizer.step(theta, grad)
        self._steps += 1
        return cost

    def _validate(self, validation) -> tuple[float, float]:
        X_val, Y_val, sw_val, y_val = validation
        w_sum = float(sw_val.sum())
        val_loss = self.network_._cost(X_val, Y_val, sw_val / w_sum, w_sum)
        if self.scoring == "loss":
            return -val_loss, val_loss
        if self.scoring is None:
            return self._default_score(X_val, y_val), val_loss
        return float(check_scoring(self, self.scoring)(self, X_val, y_val)), val_loss

    def _print_epoch(self, seconds: float) -> None:
        line = f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}"
        if self.early_stopping:
            line += f", validation score = {self.validation_scores_[-1]:.6f}"
        print(f"{line} ({seconds:.3f} s)")

    # -- saving and loading (chainrule.persistence) ------------------------------------------

    #: fitted attributes saved as JSON, beside the arrays in _SAVED_ARRAYS
    _SAVED_SCALARS = (
        "n_features_in_",
        "n_iter_",
        "t_",
        "loss_",
        "best_loss_",
        "best_validation_score_",
        "best_run_",
    )
    _SAVED_ARRAYS = (
        "loss_curve_",
        "validation_scores_",
        "validation_loss_curve_",
        "feature_names_in_",
    )

    def save(self, path) -> None:
        """Write the fitted model to ``path`` in chainrule's safe, versioned format (atomically).

        ``chainrule.load(path)`` reads it back; predictions are bit-identical.
        """
        check_is_fitted(self, "network_")
        save(self, path)

    def _param_config(self) -> dict:
        """The parameters as JSON: Activation and Cost objects by their config."""
        params = {}
        for name, value in self.get_params().items():
            if isinstance(value, Activation | Cost):
                value = value.get_config()
            elif isinstance(value, list | tuple) and name == "activation":
                value = [a.get_config() if isinstance(a, Activation) else a for a in value]
            elif isinstance(value, os.PathLike):
                value = os.fspath(value)
            elif isinstance(value, np.random.Generator | np.random.RandomState):
                value = None  # a generator's state is not part of the model
            elif callable(value):
                raise ValueError(
                    f"{name}={value!r} is a Python callable, which a model file cannot hold "
                    "(loading never runs code); use a scorer name instead"
                )
            params[name] = value
        return params

    def to_payload(self) -> tuple[dict, dict]:
        params = self._param_config()
        net_meta, arrays = network_payload(self.network_)
        fitted = {a: _json_scalar(getattr(self, a, None)) for a in self._SAVED_SCALARS}
        for name in self._SAVED_ARRAYS:
            value = getattr(self, name, None)
            if value is not None:
                # feature names are an object array in scikit-learn: stored as text, no pickle
                arrays[name] = np.asarray(value, dtype=str if name == "feature_names_in_" else None)
        target, target_arrays = self._target_payload()
        arrays.update(target_arrays)
        return {"params": params, "network": net_meta, "fitted": fitted, "target": target}, arrays

    @classmethod
    def from_payload(cls, meta: dict, arrays: dict):
        net = network_from_payload(meta["network"], arrays)
        params = dict(meta["params"])
        # an Activation or Cost object was stored as its config: take the one the network
        # rebuilt (registered user objects included)
        hidden = params.get("activation")
        if isinstance(hidden, dict):
            params["activation"] = net.activations[0]
        elif isinstance(hidden, list):
            params["activation"] = [
                act if isinstance(v, dict) else v
                for v, act in zip(hidden, net.activations[:-1], strict=True)
            ]
        if isinstance(params.get("output_activation"), dict):
            params["output_activation"] = net.activations[-1]
        if isinstance(params.get("loss"), dict):
            params["loss"] = net.cost_function
        model = cls(**params)
        model.network_ = net
        for name, value in meta["fitted"].items():
            if value is not None or name in ("best_loss_", "best_validation_score_"):
                setattr(model, name, value)
        for name in cls._SAVED_ARRAYS:
            if name in arrays:
                value = arrays[name]
                setattr(
                    model,
                    name,
                    value.astype(object) if name == "feature_names_in_" else value.tolist(),
                )
            elif name != "feature_names_in_":
                setattr(model, name, None)
        model._restore_target_encoding(meta, arrays)
        return model

    def _target_payload(self) -> tuple[dict, dict]:
        """How targets are encoded, for :meth:`save`."""
        raise NotImplementedError

    def _restore_target_encoding(self, meta: dict, arrays: dict) -> None:
        raise NotImplementedError

    # -- checkpoints: the whole training state, written atomically, to resume from -----------

    #: parameters that may differ between a checkpoint and the estimator that resumes it
    _RESUMABLE_CHANGES = frozenset(
        {"checkpoint", "checkpoint_every", "resume", "verbose", "max_iter"}
    )

    def _write_checkpoint(self, finished: bool) -> None:
        """The model file of :meth:`save` plus the optimizer's moments, the random generator,
        the early-stopping monitor and the epoch: everything an exact resume needs."""
        meta, arrays = self.to_payload()
        opt_meta, opt_arrays = optimizer_payload(self._optimizer)
        monitor = self._monitor
        meta["training"] = {
            "finished": finished,
            "steps": self._steps,
            "split_seed": getattr(self, "_split_seed", None),
            "rng": generator_state(self._rng),
            "optimizer": opt_meta,
            "monitor": {
                "best": monitor.best,
                "best_epoch": monitor.best_epoch,
                "stale_epochs": monitor.stale_epochs,
            },
            "data": self._data_fingerprint,
        }
        arrays.update({f"train.optimizer.{k}": v for k, v in opt_arrays.items()})
        if monitor.best_theta is not None:
            arrays["train.best_theta"] = monitor.best_theta
        write_archive(self.checkpoint, {"kind": type(self).__name__, **meta}, arrays)

    def _resume_from_checkpoint(self, X, Y, sw, incremental: bool):
        """With ``checkpoint`` set: False to train from the start, True to go on from the
        checkpoint's state (``resume=True`` and the file exists), ``"finished"`` when the
        checkpointed fit had already ended."""
        if self.checkpoint is None:
            return False
        if incremental or self.solver == "lbfgs" or self.n_init != 1:
            raise ValueError(
                "checkpoint needs fit (not partial_fit) with solver='sgd' or 'adam' and n_init=1"
            )
        self._param_config()  # a parameter a file cannot hold fails now, not after an epoch
        self._data_fingerprint = _fingerprint(X, Y, sw)
        if not (self.resume and Path(self.checkpoint).exists()):
            return False
        meta, arrays = read_archive(self.checkpoint)
        training = meta.pop("training", None)
        if meta.pop("kind") != type(self).__name__ or not isinstance(training, dict):
            raise ModelFormatError(
                f"{self.checkpoint} is not a checkpoint of a {type(self).__name__}"
            )
        mine = json.loads(json.dumps(self._param_config(), default=_json_scalar))  # as stored
        changed = [
            k
            for k, v in meta["params"].items()
            if k not in self._RESUMABLE_CHANGES and mine.get(k) != v
        ]
        if changed:
            name = changed[0]
            raise ValueError(
                f"{self.checkpoint} was written with {name}={meta['params'][name]!r}, but this "
                f"estimator has {name}={mine.get(name)!r}; resume with the same parameters "
                "(only max_iter, verbose and the checkpoint settings may change)"
            )
        if training["data"] != self._data_fingerprint:
            raise ValueError(
                f"{self.checkpoint} was written while training on other data; resume with the "
                "same X, y and sample_weight, or delete the checkpoint to start afresh"
            )
        saved = type(self).from_payload(meta, arrays)
        self.__dict__.update(
            {
                k: v
                for k, v in vars(saved).items()
                if k.endswith("_") or k in ("_label_binarizer", "_y_ndim")
            }
        )
        self._steps = int(training["steps"])
        self._split_seed = training["split_seed"]
        self._rng = generator_from_state(training["rng"])
        self._optimizer = self._make_optimizer()
        prefix = "train.optimizer."
        restore_optimizer(
            self._optimizer,
            training["optimizer"],
            {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)},
        )
        self._monitor = PlateauMonitor(self.tol, higher_is_better=self.early_stopping)
        self._monitor.best = float(training["monitor"]["best"])
        self._monitor.best_epoch = int(training["monitor"]["best_epoch"])
        self._monitor.stale_epochs = int(training["monitor"]["stale_epochs"])
        if "train.best_theta" in arrays:
            self._monitor.best_theta = arrays["train.best_theta"].copy()
        if training["finished"]:
            return "finished"
        self._resuming = True
        return True

    @with_callbacks
    def fit(self, X, y, sample_weight=None):
        """Fit the model to ``X`` and ``y`` by backpropagation.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), optional
            The cost becomes the weighted mean ``sum_i w_i C_i / sum_i w_i``.

        Returns
        -------
        self
        """
        self._validate_params()
        return self._fit(X, y, sample_weight)

    def _checked_input(self, X):
        check_is_fitted(self, "network_")
        try:
            X_checked = self._validated(X, dtype=self._input_dtype(), reset=False)
        except (ValueError, TypeError, OverflowError) as e:
            self._explain_input_error(e, {"X": X})
        if X_checked.dtype == self.network_.dtype:
            return X_checked
        # float64 input to a float32 model: a value beyond float32's range would become inf
        with np.errstate(over="ignore"):
            X_checked = X_checked.astype(self.network_.dtype)
        if not np.isfinite(X_checked.data if issparse(X_checked) else X_checked).all():
            found = nonfinite_message(X, "X", self.network_.dtype)
            raise ValueError(f"{found}; this model computes in {self.network_.dtype.name}")
        return X_checked

    def _predict_output(self, X) -> np.ndarray:
        """``a^L`` for each row of ``X``."""
        X = self._checked_input(X)
        return self.network_._forward(X)

    def _logits(self, X) -> np.ndarray:
        """``beta z^L``: the output activation's argument (scaled by a sigmoid's slope)."""
        X = self._checked_input(X)
        return self.network_._logits(X) * self.network_.activations[-1].link_scale

    def _output_name(self) -> str:
        check_is_fitted(self, "network_")
        return self.network_.activations[-1].name


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier trained by backpropagation.

    Binary targets use one sigmoid output and the binary cross-entropy; several classes a
    softmax output and the categorical cross-entropy; multilabel targets one sigmoid per label.
    Parameters are scikit-learn's :class:`~sklearn.neural_network.MLPClassifier`'s, with the
    same defaults, plus:

    Parameters
    ----------
    activation : str, Activation or list, default="relu"
        The hidden layers' activation: a name (``"logistic"`` is the sigmoid), a
        :class:`chainrule.Activation`, or one per hidden layer.
    output_activation : str or Activation, optional
        By default ``"sigmoid"`` (binary, multilabel) or ``"softmax"`` (multiclass).
    n_init : int, default=1
        Train from this many initial weights and keep the best run (lowest final training loss,
        or best validation score with early stopping). The first run is the one ``n_init=1``
        makes with the same ``random_state``.
    init : {"glorot_uniform", "he_normal", "normal"}, optional
        Weight initialisation (by default He for the ReLU family, Glorot otherwise).
    scoring : str, callable or None, default=None
        What early stopping watches: ``None`` for accuracy, ``"loss"`` for the validation loss,
        or any scikit-learn scorer.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the cost, as in scikit-learn's linear models.
    dtype : {"float32", "float64"} or None, default=None
        The precision; by default float32 input stays float32 and anything else is float64.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from chainrule import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(hidden_layer_sizes=(16,), solver="lbfgs", random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.95
    True
    >>> clf.coefs_[0].shape
    (4, 16)
    """

    _parameter_constraints: dict = {
        **_BaseMLP._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        output_activation=None,
        n_init=1,
        init=None,
        scoring=None,
        class_weight=None,
        dtype=None,
        max_grad_norm=None,
        checkpoint=None,
        checkpoint_every=1,
        resume=False,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            output_activation=output_activation,
            n_init=n_init,
            init=init,
            scoring=scoring,
            dtype=dtype,
            max_grad_norm=max_grad_norm,
            checkpoint=checkpoint,
            checkpoint_every=checkpoint_every,
            resume=resume,
        )
        self.class_weight = class_weight

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def _is_multiclass(self) -> bool:
        return self._label_binarizer.y_type_ == "multiclass"

    def _cost_name(self):
        return "categorical_cross_entropy" if self._is_multiclass() else "binary_cross_entropy"

    def _default_output_activation(self):
        return "softmax" if self._is_multiclass() else "sigmoid"

    def _encode_targets(self, y, first_call, classes=None, dtype=np.float64):
        if first_call:
            target_type = type_of_target(y, input_name="y")
            if target_type not in ("binary", "multiclass", "multilabel-indicator"):
                raise ValueError(
                    f"Unknown label type: {target_type}; MLPClassifier takes binary, multiclass "
                    "or multilabel-indicator targets (use MLPRegressor for continuous targets)"
                )
            self._label_binarizer = LabelBinarizer()
            if classes is not None and target_type != "multilabel-indicator":
                self._label_binarizer.fit(np.asarray(classes))
                unknown = _unknown_labels(y, self._label_binarizer.classes_)
                if unknown:
                    raise ValueError(
                        f"y contains labels not in classes: {unknown}; classes="
                        f"{_plain(self._label_binarizer.classes_)} must list every label"
                    )
            elif target_type == "multilabel-indicator":
                self._label_binarizer.fit(y)
            else:  # the classes alone: LabelBinarizer.fit(y) would find them again, twice
                self._label_binarizer.fit(np.unique(y))
            self.classes_ = self._label_binarizer.classes_
            if len(self.classes_) < 2 and target_type != "multilabel-indicator":
                source = "classes" if classes is not None else "y"
                raise ValueError(
                    f"{source} has only one class ({_plain(self.classes_)[0]!r}); a classifier "
                    "needs at least 2"
                )
        elif type_of_target(y) != "multilabel-indicator":
            unknown = _unknown_labels(y, self.classes_)
            if unknown:
                raise ValueError(
                    f"y contains labels not seen in the first call: {unknown}; "
                    f"expected a subset of {_plain(self.classes_)}"
                )
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        if y.ndim == 2 or self._label_binarizer.y_type_.startswith("multilabel"):
            return self._label_binarizer.transform(y).astype(dtype, copy=False)
        # one-hot rows, as LabelBinarizer.transform (which takes ~4x as long): y_ik = 1 where
        # y_i is class k; binary targets get one column, 1 for the second class
        codes = np.searchsorted(self.classes_, y)  # every label is known (checked above)
        if len(self.classes_) == 2:
            return (codes == 1).astype(dtype).reshape(-1, 1)
        Y = np.zeros((len(y), len(self.classes_)), dtype=dtype)
        Y[np.arange(len(y)), codes] = 1
        return Y

    def _default_score(self, X, y) -> float:
        return float(accuracy_score(y, self.predict(X)))

    def _target_payload(self):
        return {"y_type": self._label_binarizer.y_type_}, {"classes_": self.classes_}

    def _restore_target_encoding(self, meta, arrays):
        # a LabelBinarizer fitted on the saved classes, without refitting on data
        self._label_binarizer = LabelBinarizer().fit(arrays["classes_"])
        self._label_binarizer.y_type_ = meta["target"]["y_type"]
        self.classes_ = self._label_binarizer.classes_

    @with_callbacks
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch of minibatch updates on ``X``, ``y``.

        ``classes`` (every label that will ever appear) is required on the first call for
        binary and multiclass targets; a multilabel indicator ``y`` names its labels itself.
        """
        if not hasattr(self, "network_"):
            self._validate_params()
            if classes is None and type_of_target(y) != "multilabel-indicator":
                raise ValueError("classes must be passed on the first call to partial_fit")
        elif classes is not None and not np.array_equal(np.sort(classes), self.classes_):
            raise ValueError(
                f"classes={list(classes)} differs from the classes of the first call, "
                f"{self.classes_.tolist()}"
            )
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities ``a^L``; binary outputs become the two columns ``[1 - a, a]``."""
        if self._output_name() == "sigmoid" and self._label_binarizer.y_type_ == "binary":
            # 1 - sigmoid(z) loses every digit once a -> 1; sigmoid(-z) keeps them
            zL = self._logits(X)
            return np.hstack([expit(-zL), expit(zL)])
        proba = self._predict_output(X)
        if self._label_binarizer.y_type_ == "binary":
            return np.hstack([1 - proba, proba])
        return proba

    def predict_log_proba(self, X) -> np.ndarray:
        """``log`` of :meth:`predict_proba`, computed from the logits so it stays finite."""
        zL = self._logits(X)
        if self._output_name() == "softmax":
            return log_softmax(zL, axis=1)
        if self._output_name() == "sigmoid":
            if self._label_binarizer.y_type_ == "binary":
                return np.hstack([log_expit(-zL), log_expit(zL)])  # log(1 - a) = log sigmoid(-z)
            return log_expit(zL)
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X) -> np.ndarray:
        """The most probable class (binary, multiclass) or each label above 0.5 (multilabel)."""
        proba = self._predict_output(X)
        if self._label_binarizer.y_type_ == "multiclass":
            return self.classes_[np.argmax(proba, axis=1)]
        return self._label_binarizer.inverse_transform(proba, threshold=0.5)


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor trained by backpropagation.

    Parameters are scikit-learn's :class:`~sklearn.neural_network.MLPRegressor`'s, with the same
    defaults, plus ``output_activation``, ``n_init``, ``init``, ``scoring`` and ``dtype`` (see
    :class:`MLPClassifier`), and:

    Parameters
    ----------
    loss : {"squared_error", "absolute_error", "huber", "poisson"}, default="squared_error"
        The cost of one sample, summed over the outputs; the cost of a batch is the mean over
        samples, and the gradients are the gradient of that same number (scikit-learn's MLP
        reports a mean over outputs but back-propagates a sum). ``"poisson"`` uses an
        exponential output activation.

    Examples
    --------
    >>> import numpy as np
    >>> from chainrule import MLPRegressor
    >>> X = np.linspace(-2, 2, 200).reshape(-1, 1); y = np.sin(2 * X).ravel()
    >>> reg = MLPRegressor(hidden_layer_sizes=(32,), activation="tanh", solver="lbfgs",
    ...                    random_state=0).fit(X, y)
    >>> reg.score(X, y) > 0.99
    True
    """

    _parameter_constraints: dict = {
        **_BaseMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "absolute_error", "huber", "poisson"}), Cost],
    }

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        output_activation=None,
        n_init=1,
        init=None,
        scoring=None,
        dtype=None,
        max_grad_norm=None,
        checkpoint=None,
        checkpoint_every=1,
        resume=False,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            output_activation=output_activation,
            n_init=n_init,
            init=init,
            scoring=scoring,
            dtype=dtype,
            max_grad_norm=max_grad_norm,
            checkpoint=checkpoint,
            checkpoint_every=checkpoint_every,
            resume=resume,
        )
        self.loss = loss

    def _cost_name(self):
        return self.loss

    def _default_output_activation(self):
        return "exponential" if self.loss == "poisson" else "identity"

    def _encode_targets(self, y, first_call, classes=None, dtype=np.float64):
        if y.dtype.kind not in "biuf":  # scikit-learn lets string targets through
            needs = "MLPRegressor needs numeric targets (MLPClassifier takes labels)"
            raw, y = y, as_float_array(y, np.float64, "y", needs)
            check_finite(y, "y", raw)
        elif not np.isfinite(y).all():  # an object y's None becomes NaN after validation
            raise ValueError(
                f"{nonfinite_message(y, 'y')}; MLPRegressor does not accept missing or infinite "
                "targets: drop those samples"
            )
        if first_call:
            self._y_ndim = y.ndim
        if self.loss == "poisson" and (y < 0).any():
            where = np.argwhere(y < 0)[0]
            index = f"y[{', '.join(str(int(i)) for i in where)}]"
            raise ValueError(
                f"loss='poisson' needs non-negative targets y; {index} is {y[tuple(where)]}"
            )
        return (y.reshape(-1, 1) if y.ndim == 1 else y).astype(dtype, copy=False)

    def _default_score(self, X, y) -> float:
        return float(r2_score(y, self.predict(X)))

    def _target_payload(self):
        return {"y_ndim": self._y_ndim}, {}

    def _restore_target_encoding(self, meta, arrays):
        self._y_ndim = int(meta["target"]["y_ndim"])

    @with_callbacks
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch of minibatch updates on ``X``, ``y`` (not for ``solver="lbfgs"``)."""
        if not hasattr(self, "network_"):
            self._validate_params()
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X) -> np.ndarray:
        """The network's output ``a^L``, shaped like the ``y`` of ``fit``."""
        out = self._predict_output(X)
        return out.ravel() if self._y_ndim == 1 else out


def _plain(values) -> list:
    """Labels as plain Python values, for messages (``[0, 1]``, not ``[np.int64(0), ...]``)."""
    return np.asarray(values).tolist()


def _unknown_labels(y, classes) -> list:
    """The labels of ``y`` that are not among ``classes``, sorted as plain Python values."""
    known = set(_plain(classes))
    return [label for label in _plain(unique_labels(y)) if label not in known]


def _json_scalar(value):
    """A fitted scalar as JSON: numpy numbers become Python ones; inf stays a float."""
    return value.item() if isinstance(value, np.generic) else value


class Standardized:
    """A fitted model behind feature standardisation ``x' = (x - mean) / scale``.

    This is what ``chainrule train`` saves, so that ``chainrule predict`` scales new data as
    training did. ``info`` records where the model came from (data set, feature and target
    names). Everything else is the wrapped ``model``'s.
    """

    def __init__(self, model, mean: np.ndarray, scale: np.ndarray, info: dict | None = None):
        self.model = model
        self.mean = np.asarray(mean, dtype=float)
        self.scale = np.asarray(scale, dtype=float)
        self.info = dict(info or {})

    @classmethod
    def fit(cls, model, X, y, info: dict | None = None, **fit_params) -> Standardized:
        """Standardise ``X`` (zero mean, unit variance per column) and fit ``model`` to it."""
        X = np.asarray(X, dtype=float)
        mean, scale = X.mean(axis=0), X.std(axis=0)
        scale[scale == 0] = 1.0  # a constant column stays as it is
        model.fit((X - mean) / scale, y, **fit_params)
        return cls(model, mean, scale, info)

    def transform(self, X) -> np.ndarray:
        """``(X - mean) / scale``, cast to the model's precision."""
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.mean.shape[0]:
            raise ValueError(
                f"X has shape {X.shape}; the model takes {self.mean.shape[0]} features"
            )
        return ((X - self.mean) / self.scale).astype(self.model.network_.dtype, copy=False)

    def predict(self, X) -> np.ndarray:
        return self.model.predict(self.transform(X))

    def predict_proba(self, X) -> np.ndarray:
        return self.model.predict_proba(self.transform(X))

    def score(self, X, y) -> float:
        return self.model.score(self.transform(X), y)

    def save(self, path) -> None:
        """Write the model and its scaling to ``path`` (see :meth:`MLPClassifier.save`)."""
        save(self, path)

    def to_payload(self) -> tuple[dict, dict]:
        inner_meta, inner_arrays = self.model.to_payload()
        arrays = {f"model.{k}": v for k, v in inner_arrays.items()}
        arrays.update({"mean": self.mean, "scale": self.scale})
        meta = {"model_kind": type(self.model).__name__, "model": inner_meta, "info": self.info}
        return meta, arrays

    @classmethod
    def from_payload(cls, meta: dict, arrays: dict) -> Standardized:
        kinds = {"MLPClassifier": MLPClassifier, "MLPRegressor": MLPRegressor}
        if meta["model_kind"] not in kinds:
            raise ValueError(f"unknown wrapped model kind {meta['model_kind']!r}")
        inner = {k.removeprefix("model."): v for k, v in arrays.items() if k.startswith("model.")}
        model = kinds[meta["model_kind"]].from_payload(meta["model"], inner)
        return cls(model, arrays["mean"], arrays["scale"], meta.get("info"))


register_model_class(MLPClassifier)
register_model_class(MLPRegressor)
register_model_class(Standardized)


def _fingerprint(X, Y, sw) -> str:
    """A digest of the training data, so that a checkpoint resumes only on the same data."""
    digest = hashlib.blake2b(digest_size=16)
    for a in (X.data, X.indices, X.indptr) if issparse(X) else (X,):
        digest.update(np.ascontiguousarray(a))
    for a in (Y, sw):
        digest.update(np.ascontiguousarray(a))
    return digest.hexdigest()
