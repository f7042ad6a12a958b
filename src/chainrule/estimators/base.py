"""What the classifier and the regressor share: scikit-learn's face over one fit.

``fit`` validates and encodes the data (:mod:`~chainrule.estimators.inputs`, or the dask
blocks of :mod:`~chainrule.estimators.distributed`), hands a
:class:`~chainrule.training.Trainer` the data, the settings its parameters ask for and a way to
build the network, and publishes what it hands back as the fitted attributes (``coefs_``,
``loss_curve_``, ...). Files go through :mod:`chainrule.persistence`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from sklearn.base import BaseEstimator, is_classifier
from sklearn.callback import CallbackSupportMixin, with_callbacks
from sklearn.utils.validation import check_is_fitted

from chainrule._arrays import device, namespace
from chainrule.estimators import inputs
from chainrule.estimators.callbacks import CallbackObserver, StaleEpochs
from chainrule.estimators.distributed import (
    dask_data,
    dask_given_validation,
    dask_input,
    restart_context,
    score_blocks,
)
from chainrule.estimators.params import DOCS_URL, FIT_DOC, PARAMETER_CONSTRAINTS
from chainrule.estimators.preflight import (
    check_checkpointed_fit,
    check_loaded_network,
    check_memory,
    continue_network,
)
from chainrule.estimators.validation import (
    check_early_stopping,
    check_validation_set,
    given_validation,
    held_out_score,
)
from chainrule.estimators.weights import (
    LayerList,
    NetworkFact,
    initial_network,
    output_name,
    preset_weights,
)
from chainrule.network import Network
from chainrule.persistence import (
    ModelFormatError,
    estimator_fields,
    estimator_payload,
    fingerprint,
    param_config,
    pickled_state,
    read_checkpoint,
    restore_record,
    resumable,
    save,
    unpickled_state,
    write_checkpoint,
)
from chainrule.training import (
    FitSettings,
    InMemoryData,
    LearningRateSchedule,
    PlateauMonitor,
    Resumed,
    Trainer,
    TrainingRecord,
    make_optimizer,
    restart_generators,
)

#: training-record fields and the fitted attributes they are published as
PUBLISHED = {
    "loss_curve": "loss_curve_",
    "validation_scores": "validation_scores_",
    "validation_loss_curve": "validation_loss_curve_",
    "n_iter": "n_iter_",
    "t": "t_",
    "steps": "_steps",
    "loss": "loss_",
    "best_loss": "best_loss_",
    "best_validation_score": "best_validation_score_",
    "optimizer": "_optimizer",  # scikit-learn's name; its learning_rate is read by its tests
}


def stochastic_solver(estimator) -> bool:
    """``partial_fit`` exists for the stochastic solvers only (scikit-learn's rule; for
    :func:`sklearn.utils.metaestimators.available_if`)."""
    if estimator.solver not in ("sgd", "adam"):
        raise AttributeError(
            f"partial_fit is only available for stochastic optimizers. {estimator.solver} is "
            "not stochastic."
        )
    return True


class BaseMLP(CallbackSupportMixin, BaseEstimator):
    """The estimators' shared part. The subclasses define the targets: the default output
    activation and the cost (``_output_and_cost()``), the encoding of ``y`` in memory
    (``_encode_targets``) and on dask (``_encode_dask_targets``), the default score
    (``_score_output(out, y, sample_weight)``, ``_dask_score_kind()``) and the encoding in
    files (``_target_payload()``, ``_restore_target_encoding(meta, arrays)``,
    ``_check_target_shape(n_outputs)``, ``_TARGET_STATE``)."""

    _parameter_constraints: dict = PARAMETER_CONSTRAINTS
    # the HTML repr links to chainrule's documentation (scikit-learn's mechanism)
    _doc_link_module = "chainrule"
    _doc_link_template = DOCS_URL + "api/chainrule.{estimator_name}.html"

    coefs_ = LayerList()  # coefs_[i] is W^(i+1) transposed, (n_in, n_out): a view
    intercepts_ = LayerList()  # intercepts_[i] is b^(i+1): a view
    n_layers_ = NetworkFact(lambda net: len(net.layer_sizes), "Layers, input and output too.")
    n_outputs_ = NetworkFact(lambda net: net.layer_sizes[-1], "Units of the output layer.")
    out_activation_ = NetworkFact(output_name, "scikit-learn's name of the output activation.")
    _no_improvement_count = StaleEpochs(record="_record")

    def __init__(self, **params):
        for name, value in params.items():
            setattr(self, name, value)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True  # multilabel and multi-output targets
        tags.array_api_support = True  # with array_api_dispatch, everything follows X
        return tags

    #: the attributes that hold the target encoding (pickled as ``_target_payload()``)
    _TARGET_STATE: tuple[str, ...] = ()

    # -- fitting -------------------------------------------------------------------------------

    @with_callbacks
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None):
        self._validate_params()
        given = (X_val, y_val, sample_weight_val)
        if not check_validation_set(*given, solver=self.solver, on_dask=dask_input(X)):
            given = None
        return self._fit(X, y, sample_weight, validation_set=given)

    fit.__doc__ = FIT_DOC

    def _stops_early(self) -> bool:
        """Whether the validation score stops the epochs (L-BFGS has none: it ignores it)."""
        return self.early_stopping and self.solver != "lbfgs"

    def _fit(
        self, X, y, sample_weight=None, *, incremental=False, classes=None, validation_set=None
    ):
        """``fit`` (``incremental``: one epoch of ``partial_fit``); ``validation_set``: the
        caller's ``(X_val, y_val, sample_weight_val)``, or None."""
        check_early_stopping(self, self._stops_early(), incremental, validation_set is not None)
        on_dask = dask_input(X)
        first_call = not (incremental or self.warm_start) or not hasattr(self, "network_")
        parallel = not incremental and self._restarts_apply()
        given = validation_set is not None
        data = self._fit_data(X, y, sample_weight, first_call, classes, on_dask, given)
        held_out = None
        if validation_set is not None and on_dask:
            encode = self._encode_dask_targets
            held_out = dask_given_validation(self, encode, *validation_set, data.X, data.Y)
        elif validation_set is not None:
            held_out = given_validation(self._training_data, *validation_set, data.X, data.Y)
        n_features, n_outputs = data.X.shape[1], data.Y.shape[1]
        dtype = inputs.training_dtype(data.X, self.dtype)
        if not first_call:
            asked = self.dtype or self.network_.dtype
            continue_network(self.network_, self._network_config(n_features, n_outputs, asked))
        digest = None if self.checkpoint is None else fingerprint(data.X, data.Y, data.sw)
        resumed = self._resumed(data, digest, incremental)
        if resumed == "finished":
            return self
        n_runs = self.n_init if first_call and resumed is None and not incremental else 1
        preset = preset_weights(self, drop=True) if incremental or self.warm_start else None
        build = partial(self._build_network, n_features, n_outputs, dtype, preset, data)
        per_run = self.max_iter + (self.solver == "lbfgs")
        ctx = self._init_callback_context(max_subtasks=1 if incremental else per_run * n_runs)
        ctx.call_on_fit_task_begin(estimator=self, X=data.X, y=y)
        observer = None
        if hasattr(self, "_skl_callbacks"):  # scikit-learn sets it with callbacks
            observer = CallbackObserver(self, ctx, data.X, y, self._publish)
        trainer = Trainer(
            data,
            self._settings(incremental),
            build_network=build if first_call else lambda rng, net=self.network_: net,
            make_optimizer=self._make_optimizer,
            score=self._scorer(on_dask),
            held_out=held_out,
            record=None if first_call else self._continued_record(),
            resumed=resumed,
            observer=observer,
            checkpoint=None if digest is None else partial(self._write_checkpoint, digest),
        )
        rngs = restart_generators(self.random_state, n_runs)
        if parallel:
            result = trainer.fit_in_parallel(rngs, restart_context(on_dask))
        else:
            result = trainer.fit(rngs)
        self._publish(result.net, result.record)
        if n_runs > 1:
            self.best_run_ = result.best_run
        ctx.call_on_fit_task_end(estimator=self, X=data.X, y=y)
        return self

    def _fit_data(self, X, y, sample_weight, first_call, classes, on_dask: bool, given: bool):
        """The training data for a :class:`~chainrule.training.Trainer`: validated and
        encoded in memory, or dask blocks (``given``: with a validation set of the caller's)."""
        if on_dask:
            encode = self._encode_dask_targets
            return dask_data(self, X, y, sample_weight, first_call, classes, encode, given)
        X_in, y_in, Y, sw, _ = self._training_data(X, y, sample_weight, first_call, classes)
        stratify = is_classifier(self) and Y.shape[1] == 1
        return InMemoryData(X_in, Y, sw, y_in, X, stratify=stratify)

    def _scorer(self, on_dask: bool) -> Callable:
        """``(net, held_out) -> (score, loss)`` on held-out samples or blocks."""
        if not on_dask:
            return partial(held_out_score, self, self._score_output)
        return partial(score_blocks, "loss" if self.scoring == "loss" else self._dask_score_kind())

    def _restarts_apply(self) -> bool:
        """Whether ``fit`` runs its restarts as joblib tasks: ``n_init > 1`` from scratch
        (no fitted network or weights assigned before a warm start), without callbacks (they
        report to this process) or a checkpoint (one file)."""
        continues = hasattr(self, "network_") or preset_weights(self) is not None
        fresh = not (self.warm_start and continues) and not hasattr(self, "_skl_callbacks")
        return self.n_init > 1 and fresh and self.checkpoint is None

    def _settings(self, incremental: bool) -> FitSettings:
        """The parameters, read once, in the training loop's terms."""
        return FitSettings(
            solver=self.solver,
            max_iter=self.max_iter,
            max_fun=self.max_fun,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            verbose=bool(self.verbose),
            schedule=LearningRateSchedule.from_params(vars(self)),  # the parameters
            batch_size=self.batch_size,
            shuffle=self.shuffle,
            early_stopping=self._stops_early(),
            validation_fraction=self.validation_fraction,
            max_grad_norm=self.max_grad_norm,
            incremental=incremental,
            checkpoint_every=self.checkpoint_every,
        )

    def _make_optimizer(self):
        return make_optimizer(
            self.solver,
            learning_rate_init=self.learning_rate_init,
            momentum=self.momentum,
            nesterovs_momentum=self.nesterovs_momentum,
            beta_1=self.beta_1,
            beta_2=self.beta_2,
            epsilon=self.epsilon,
            weight_decay=self.weight_decay,
        )

    def _network_config(self, n_features: int, n_outputs: int, dtype, hidden=None) -> dict:
        """The arguments of the :class:`~chainrule.network.Network` the parameters ask for."""
        output, cost = self._output_and_cost()
        output = self.output_activation or output
        return inputs.network_config(
            self, n_features, n_outputs, dtype, output=output, cost=cost, hidden=hidden
        )

    def _build_network(self, n_features, n_outputs, dtype, preset, data, rng) -> Network:
        """A network for ``n_features`` inputs and ``n_outputs`` outputs, where ``data`` is:
        from the weights assigned before the fit (``preset``), else drawn from ``rng`` by
        ``init``; first a MemoryError if a fit on ``data`` would not fit in memory."""
        hidden = None if preset is None else [W.shape[1] for W in preset[0][:-1]]
        config = self._network_config(n_features, n_outputs, dtype, hidden)
        check_memory(config, self.get_params(), data.in_memory_rows, type(self).__name__)
        return data.place(initial_network(config, self.init or "sklearn", preset, rng))

    def _training_data(self, X, y, sample_weight, first_call: bool, classes, held_out=False):
        """``(X, y, Y, sw, dtype)``, validated and encoded (:func:`.inputs.training_data`)."""
        encode = self._encode_targets
        return inputs.training_data(
            self, encode, X, y, sample_weight, first_call, classes, held_out=held_out
        )

    # -- the training record, checkpoints ------------------------------------------------------

    def _publish(self, net, record: TrainingRecord) -> None:
        """Set ``network_`` and the fitted attributes (``loss_curve_``, ``n_iter_``, ...)."""
        self.network_, self._record = net, record
        for field, attr in PUBLISHED.items():
            value = getattr(record, field)
            if value is not None or field != "loss":
                setattr(self, attr, value)

    def _continued_record(self) -> TrainingRecord:
        """The record of the fit so far (warm start, partial_fit), or one rebuilt from the
        fitted attributes (of a loaded model)."""
        record = vars(self).get("_record")
        if record is None:
            record = self._record_from_attributes(restart_generators(self.random_state, 1)[0])
        return record

    def _record_from_attributes(self, rng) -> TrainingRecord:
        """A training record that continues from the fitted attributes."""
        record = TrainingRecord(PlateauMonitor(self.tol, self._stops_early()), rng)
        for field, attr in PUBLISHED.items():
            value = getattr(self, attr, None)
            if value is not None:
                setattr(record, field, list(value) if isinstance(value, list) else value)
        return record

    def _write_checkpoint(self, data_fingerprint: str, progress) -> None:
        self._publish(progress.net, progress.record)
        kind = type(self).__name__
        write_checkpoint(self.checkpoint, kind, self.to_payload(), progress, data_fingerprint)

    def _resumed(self, data, digest: str | None, incremental: bool) -> Resumed | str | None:
        """With ``checkpoint`` set and ``resume=True``, the checkpoint's state to go on from
        (its fitted attributes published), ``"finished"`` when its fit had ended; else None."""
        if self.checkpoint is None:
            return None
        check_checkpointed_fit(incremental, self.solver, self.n_init)
        params = param_config(self.get_params())  # a parameter a file cannot hold fails now
        if not resumable(self.checkpoint, self.resume):
            return None
        kind, place = type(self).__name__, (namespace(data.X), device(data.X))
        found = read_checkpoint(self.checkpoint, kind, params, digest, *place)
        saved, params = type(self).from_payload(found.meta, found.arrays), self.get_params()
        for name, value in vars(saved).items():  # the fitted attributes, target encoding too
            if name not in params:
                setattr(self, name, value)
        record = self._record_from_attributes(None)
        found.restore_record(record, self._make_optimizer())
        self._publish(data.place(saved.network_), record)
        if found.finished:
            return "finished"
        return Resumed(self.network_, record, found.sample_order, found.split)

    def save(self, path) -> None:
        """Write the fitted model to ``path`` in chainrule's safe, versioned format (atomically);
        ``chainrule.load(path)`` reads it back, and its predictions are bit-identical."""
        check_is_fitted(self, "network_")
        save(self, path)

    def to_payload(self) -> tuple[dict, dict]:
        """The model as ``(meta, arrays)`` for :func:`chainrule.persistence.save`."""
        return estimator_payload(self, self._target_payload())

    @classmethod
    def from_payload(cls, meta: dict, arrays: dict):
        """The model that :meth:`to_payload` described (path parameters are not restored)."""
        params, net, fitted = estimator_fields(meta, arrays)
        model = cls(**params)
        try:
            model._validate_params()  # scikit-learn's constraints, as fit checks them
        except (TypeError, ValueError) as e:
            raise ModelFormatError(f"invalid parameter: {e}") from e
        model.network_ = net
        for name, value in fitted.items():
            setattr(model, name, value)
        model._restore_target_encoding(meta, arrays)
        model._check_target_shape(net.layer_sizes[-1])
        # the parameters must ask for this network; its hidden sizes rule, since weights
        # assigned before a fit set them whatever hidden_layer_sizes says, as in scikit-learn
        sizes = net.layer_sizes
        dtype = model.dtype or net.dtype
        check_loaded_network(net, partial(model._network_config, sizes[0], sizes[-1], dtype))
        return model

    def __getstate__(self) -> dict:
        """Plain data only (numbers, strings, lists, dicts, arrays), so that skops trusts a
        pickled model without trusting chainrule's internal types: the network, the target
        encoding and the training record as their payloads."""
        state = dict(super().__getstate__())
        encoded = any(state.pop(name, None) is not None for name in self._TARGET_STATE)
        record, _ = state.pop("_record", None), state.pop("_optimizer", None)
        return pickled_state(state, record, self._target_payload() if encoded else None)

    def __setstate__(self, state: dict) -> None:
        state, net, record, target = unpickled_state(state)
        super().__setstate__(state)
        if net is not None:
            self.network_ = net
        if target is not None:
            self._restore_target_encoding({"target": target["meta"]}, target["arrays"])
        if isinstance(record, dict):  # its payload: a plain-data pickle
            rebuilt = self._record_from_attributes(None)
            optimizer = self._make_optimizer() if "optimizer" in record["meta"] else None
            restore_record(rebuilt, record["meta"], record["arrays"], optimizer)
            record = rebuilt
        if record is not None:
            self._publish(net, record)
