"""What the classifier and the regressor share: parameters, fitted attributes in
scikit-learn's orientation, and ``fit`` as a walk down the layers: validate and encode
(:mod:`~chainrule.estimators.inputs`) -> the training loop (:mod:`chainrule.training`) ->
the engine, and back once with the fitted state."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.callback import CallbackSupportMixin, with_callbacks
from sklearn.utils.validation import check_is_fitted

from chainrule._arrays import (
    namespace,
)
from chainrule.costs import Cost
from chainrule.estimators.checkpoint import Checkpoints
from chainrule.estimators.distributed import DaskInput, dask_input
from chainrule.estimators.hooks import FitHooks
from chainrule.estimators.inputs import InputValidation
from chainrule.estimators.params import DOCS_URL, FIT_DOC, PARAMETER_CONSTRAINTS
from chainrule.estimators.preflight import check_memory
from chainrule.estimators.restarts import Restarts
from chainrule.estimators.state import ModelState
from chainrule.estimators.validation import EarlyStopping, check_validation_set
from chainrule.estimators.weights import FittedWeights, set_layers
from chainrule.initializers import draw_layer
from chainrule.network import Network, by_rows
from chainrule.training import (
    ArraySource,
    EpochRunner,
    LearningRateSchedule,
    LoopSettings,
    PlateauMonitor,
    TrainingDivergedWarning,
    TrainingRecord,
    make_optimizer,
    restart_generators,
    train_epochs,
    train_lbfgs,
    warn_like_sklearn,
)


def stochastic_solver(estimator) -> bool:
    """``partial_fit`` exists for the stochastic solvers only (scikit-learn's rule; for
    :func:`sklearn.utils.metaestimators.available_if`)."""
    if estimator.solver not in ("sgd", "adam"):
        raise AttributeError(
            f"partial_fit is only available for stochastic optimizers. {estimator.solver} is "
            "not stochastic."
        )
    return True


class BaseMLP(
    FittedWeights,
    EarlyStopping,
    InputValidation,
    ModelState,
    Checkpoints,
    DaskInput,
    Restarts,
    CallbackSupportMixin,
    BaseEstimator,
):
    """The estimators' shared part; the subclasses define the target encoding."""

    _parameter_constraints: dict = PARAMETER_CONSTRAINTS
    # the HTML repr links to chainrule's documentation (scikit-learn's mechanism)
    _doc_link_module = "chainrule"
    _doc_link_template = DOCS_URL + "api/chainrule.{estimator_name}.html"

    def __init__(self, **params):
        for name, value in params.items():
            setattr(self, name, value)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True  # multilabel and multi-output targets
        tags.array_api_support = True  # with array_api_dispatch, everything follows X
        return tags

    # -- what the subclasses define ------------------------------------------------------------

    def _cost_name(self) -> str | Cost:
        raise NotImplementedError

    def _default_output_activation(self) -> str:
        raise NotImplementedError

    def _encode_targets(
        self, y, first_call: bool, classes=None, dtype=np.float64, *, held_out: bool = False
    ) -> np.ndarray:
        """The targets ``Y`` the network learns (one row per sample), in ``dtype``;
        ``held_out``: of a validation set (any of the fitted classes, also with warm start)."""
        raise NotImplementedError

    # -- fitting -------------------------------------------------------------------------------

    @with_callbacks
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None):
        self._validate_params()
        on_dask = dask_input(X)  # dask arrays and DataFrames stream block by block
        given = (X_val, y_val, sample_weight_val)
        if not check_validation_set(*given, solver=self.solver, on_dask=on_dask):
            given = None
        if self._restarts_apply():  # n_init restarts as joblib tasks
            return self._fit_restarts(X, y, sample_weight, on_dask=on_dask, validation_set=given)
        if on_dask:
            return self._fit_dask(X, y, sample_weight, validation_set=given)
        return self._fit(X, y, sample_weight, validation_set=given)

    fit.__doc__ = FIT_DOC

    def _build_network(self, n_features, n_outputs, dtype, rng, preset=None, n_samples=0):
        """A network for ``n_features`` inputs and ``n_outputs`` outputs: from the weights
        assigned before the fit (``preset``), else drawn from ``rng`` by ``init``; first a
        MemoryError if a fit on ``n_samples`` samples would not fit in memory."""
        hidden = None if preset is None else [W.shape[1] for W in preset[0][:-1]]
        config = self._network_config(n_features, n_outputs, dtype, hidden)
        check_memory(config, self.get_params(), n_samples, type(self).__name__)
        # the initial weights are overwritten below
        net = Network(**config, init="glorot_uniform", random_state=0)
        if preset is not None:
            set_layers(net, "coefs", preset[0])
            set_layers(net, "intercepts", preset[1])
            return net
        # scikit-learn's factor: 2 for logistic hidden layers, else 6
        logistic = all(a.name == "sigmoid" for a in net.activations[:-1])
        factor = 2.0 if logistic else 6.0
        for W, b in zip(net.W, net.b, strict=True):
            n_out, n_in = W.shape
            W[...], b[...] = draw_layer(self.init or "sklearn", n_out, n_in, rng, factor=factor)
        return net

    def _fit(self, X, y, sample_weight=None, *, incremental=False, classes=None,
             validation_set=None):  # fmt: skip
        """``validation_set``: the caller's ``(X_val, y_val, sample_weight_val)``, or None."""
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        early_stopping = self.early_stopping and self.solver != "lbfgs"  # lbfgs ignores it
        if early_stopping and self.validation_fraction == 0 and validation_set is None:
            raise ValueError(
                "early_stopping=True needs validation samples, but validation_fraction=0; "
                "set it in (0, 1), e.g. 0.1"
            )
        first_call = not (incremental or self.warm_start) or not hasattr(self, "network_")
        X_given = X
        X, y, Y, sw, dtype = self._training_data(X, y, sample_weight, first_call, classes)
        given = None if validation_set is None else self._given_validation(*validation_set, X, Y)
        if not first_call:
            self._continue_network(X.shape[1], Y.shape[1])
        self._blew_up = False
        resumed = self._resume_from_checkpoint(X, Y, sw, incremental)
        if resumed == "finished":
            return self
        first_call = first_call and not resumed
        n_runs = self.n_init if first_call and not incremental else 1
        # scikit-learn reads random_state afresh at every call: an int replays its stream
        rngs = restart_generators(self.random_state, n_runs)
        preset = self._preset_weights() if incremental or self.warm_start else None
        record = None if first_call else self._continued_record()
        # one subtask per epoch; L-BFGS opens one more, for the iteration after the last
        per_run = self.max_iter + (self.solver == "lbfgs")
        ctx = self._init_callback_context(max_subtasks=1 if incremental else per_run * n_runs)
        ctx.call_on_fit_task_begin(estimator=self, X=X, y=y)
        data, validation, best = (X, Y, sw, y), given, None
        for run, run_rng in enumerate(rngs):
            if first_call:
                n_samples, n_features = X.shape
                net = self._build_network(n_features, Y.shape[1], dtype, run_rng, preset, n_samples)
                self.network_ = self._in_place_of(X, net)
                record = self._new_record(run_rng, early_stopping, given is not None)
            elif not resumed:
                record.rng = run_rng
            self._drop_preset_weights()
            # the split is drawn after the initial weights, as scikit-learn draws it
            if early_stopping and run == 0 and given is None:
                split = self.__dict__.pop("_restart_split", None)  # run 0's, for a restart
                if split is not None:
                    self._split_indices = split
                elif not (resumed and "_split_indices" in self.__dict__):
                    self._split_indices = self._validation_split(Y, record.rng)
                data, validation = self._split(X_given, X, Y, sw, y, self._split_indices)
            if validation is not None and record.validation_scores is None:
                self._start_curves(record, early_stopping)
            self._publish(record)
            source = ArraySource(*data[:3], self._batch_size(data[0].shape[0]), self.shuffle,
                                 sample_order=self.__dict__.pop("_resume_order", None))  # fmt: skip
            self._source = source
            hooks = self._fit_hooks(ctx, data[0], data[3], self._validation_step(validation))
            # the parameter decides, as in scikit-learn: a validation set given with
            # early_stopping=False is recorded, not watched
            interrupted = self._train(source, record, hooks, incremental, early_stopping)
            self._publish(record)
            criterion = self._run_criterion()
            if best is None or criterion > best[0]:
                best = (criterion, run, self.network_, record)
            if interrupted:
                break
        if len(rngs) > 1:
            self.network_ = best[2]
            self._publish(best[3])
            self.best_run_ = best[1]
        for transient in ("_source", "_split_indices"):  # kept for checkpoints during the fit
            self.__dict__.pop(transient, None)
        self._check_weights_finite(data[0])
        ctx.call_on_fit_task_end(estimator=self, X=data[0], y=data[3])
        return self

    def _new_record(self, rng, early_stopping: bool, validated: bool = False) -> TrainingRecord:
        """A fresh record; validation curves with early stopping or a ``validated`` fit."""
        monitor = PlateauMonitor(self.tol, higher_is_better=early_stopping)
        record = TrainingRecord(monitor=monitor, rng=rng)
        curves = early_stopping or validated
        record.validation_scores = [] if curves else None
        record.validation_loss_curve = [] if curves else None
        record.best_loss = None if early_stopping else np.inf
        return record

    def _continued_record(self) -> TrainingRecord:
        """The record of the fit so far (warm start, partial_fit), or one rebuilt from the
        fitted attributes of a loaded model."""
        record = self.__dict__.get("_record")
        if record is None:
            stochastic_early_stopping = self.early_stopping and self.solver != "lbfgs"
            monitor = PlateauMonitor(self.tol, higher_is_better=stochastic_early_stopping)
            record = self._record_from_attributes(
                monitor, restart_generators(self.random_state, 1)[0]
            )
        return record

    def _run_criterion(self, run=None) -> float:
        """Higher is better: the best validation score, or minus the final training loss, of
        ``run`` (a fitted copy of this estimator; by default this one)."""
        run = self if run is None else run
        if self.early_stopping and self.solver != "lbfgs":
            return run.best_validation_score_
        return -run.loss_

    def _train(self, source, record, hooks, incremental: bool, stops_early=None) -> bool:
        """Train one run; returns whether a KeyboardInterrupt stopped it. ``stops_early``:
        whether the validation score stops it (None: wherever the record has curves)."""
        net = self.network_
        if self.solver == "lbfgs":
            on_iteration = hooks.lbfgs_begin()
            interrupted = train_lbfgs(
                net, source, record, max_iter=self.max_iter, max_fun=self.max_fun, tol=self.tol,
                verbose=bool(self.verbose), on_iteration=on_iteration,
                warn_diverged=self._warn_diverged,
            )  # fmt: skip
            hooks.lbfgs_end()
            return interrupted
        resuming = self.__dict__.pop("_resuming", False)
        if record.optimizer is None or not (incremental or resuming):
            record.optimizer = self._make_optimizer()
        if not resuming:
            record.n_iter = 0  # n_iter_ counts the epochs of this call, as scikit-learn's
        settings = LoopSettings(
            epochs=1 if incremental else self.max_iter - (record.n_iter if resuming else 0),
            schedule=LearningRateSchedule.from_params(vars(self)),  # the parameters
            n_iter_no_change=self.n_iter_no_change, tol=self.tol, incremental=incremental,
            early_stopping=(
                record.validation_scores is not None if stops_early is None else stops_early
            ),
            verbose=bool(self.verbose),
            checkpoint_every=None if self.checkpoint is None else self.checkpoint_every,
            max_iter=self.max_iter,
        )  # fmt: skip
        return train_epochs(EpochRunner(net, source, self.max_grad_norm), record, settings, hooks)

    def _make_optimizer(self):
        return make_optimizer(
            self.solver, learning_rate_init=self.learning_rate_init, momentum=self.momentum,
            nesterovs_momentum=self.nesterovs_momentum, beta_1=self.beta_1, beta_2=self.beta_2,
            epsilon=self.epsilon, weight_decay=self.weight_decay,
        )  # fmt: skip

    def _check_weights_finite(self, X) -> None:
        """After a blow-up, the weights kept must give a finite cost and finite outputs on the
        training data (scikit-learn's error when they do not)."""
        if not self._blew_up:
            return
        xp = namespace(self.network_.theta)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            finite = bool(xp.all(xp.isfinite(self.network_.forward(X, validate=False))))
        if not (finite and np.isfinite(self.loss_)):
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may contain "
                "large values and need to be preprocessed. (Training diverged, and even the "
                "weights it started from give an infinite or NaN cost on the training data: "
                f"the features are too large for the network ({self.network_.dtype.name}). "
                "Scale them, e.g. with StandardScaler, and fit again.)"
            )

    def _warn_diverged(self, cost: float) -> None:
        self._blew_up = True
        if self.solver == "lbfgs":
            where, advice = "L-BFGS", "Scale the features (e.g. StandardScaler) or raise alpha."
        else:
            where = f"epoch {self._record.n_iter + 1}"
            advice = (
                "Scale the features (e.g. StandardScaler), lower learning_rate_init (now "
                f"{self._record.optimizer.learning_rate:g}), or set max_grad_norm to clip the "
                "gradients."
            )
        warn_like_sklearn(
            f"training diverged in {where}: the cost became {cost}. Training stopped and the "
            f"last weights known to give a finite cost were restored. {advice}",
            TrainingDivergedWarning,
        )

    def _fit_hooks(self, ctx, X, y, validate) -> FitHooks:
        """The training loop's hooks into this estimator, with ``validate`` for its
        validation data (in memory or on dask)."""
        return FitHooks(
            self, ctx, X, y,
            validate=validate,
            diverged=self._warn_diverged,
            publish=lambda: self._publish(self._record),
            checkpoint=self._write_checkpoint,
            reconstruction=self._reconstruction,
        )  # fmt: skip

    def _reconstruction(self):
        """The fitted attributes a callback's ``fitted_estimator`` needs at this point."""
        return {"network_": self.network_.copy()}

    # -- predicting ---------------------------------------------------------------------------

    def _predicting_network(self) -> Network:
        """``network_``, or scikit-learn's NotFittedError."""
        net = self.__dict__.get("network_")
        if net is None:
            check_is_fitted(self, "network_")
        return net

    def _predicted(self, X, compute: Callable[[Network, np.ndarray], np.ndarray]) -> np.ndarray:
        """``compute(network_, rows)`` for the rows of the checked ``X`` in the network's dtype,
        in chunks of :data:`~chainrule.network.PREDICT_ROWS` rows written into one output
        (:func:`~chainrule.network.by_rows`): a float64 ``X`` on a float32 model gives float32
        predictions, and the memory beyond the output is one chunk's."""
        net = self._predicting_network()
        X_checked = self._checked_input(X, net)

        def chunk(rows):
            rows = self._network_rows(rows, X, net)
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                return compute(net, rows)

        return by_rows(X_checked, chunk)


def output(net: Network, rows) -> np.ndarray:
    """``a^L`` of each row."""
    return net.forward(rows, validate=False)


def scaled_logits(net: Network, rows) -> np.ndarray:
    """``beta z^L``: the output activation's argument (scaled by a sigmoid's slope)."""
    return net.logits(rows, validate=False) * net.activations[-1].link_scale
