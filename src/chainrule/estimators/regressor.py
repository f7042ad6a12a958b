"""``MLPRegressor``: the seed's MLP for continuous targets, as scikit-learn's."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.callback import with_callbacks
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from chainrule._arrays import reshape
from chainrule._checks import as_float_array, check_finite, nonfinite_message
from chainrule.costs import Cost
from chainrule.estimators.base import BaseMLP, stochastic_solver
from chainrule.estimators.distributed import (
    as_dask,
    dask_input,
    dask_regression_targets,
    predict_dask,
    score_dask,
)
from chainrule.estimators.inputs import check_same_place, output, predicted
from chainrule.estimators.params import PARAMETER_CONSTRAINTS, documented
from chainrule.persistence import ModelFormatError


def check_target_columns(y: np.ndarray, n_outputs: int) -> None:
    """A later ``partial_fit`` must bring as many target columns as the first did."""
    n = 1 if y.ndim == 1 else y.shape[1]
    if n != n_outputs:
        raise ValueError(
            f"y has {n} target column(s), but the model was fitted on {n_outputs}; every call "
            "to partial_fit (and warm_start fit) must bring the same number of targets"
        )


@documented
class MLPRegressor(RegressorMixin, BaseMLP):
    """Multi-layer perceptron regressor trained by backpropagation.

    Parameters are scikit-learn's :class:`~sklearn.neural_network.MLPRegressor`'s, with the same
    defaults, and chainrule's own (``output_activation`` to ``resume``; ``loss`` takes more):

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
        **PARAMETER_CONSTRAINTS,
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
        l1_ratio=0.0,
        weight_decay=0.0,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        warmup_epochs=0,
        restart_epochs=None,
        restart_mult=1,
        learning_rate_min=0.0,
        step_epochs=30,
        step_factor=0.1,
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
        dropout=0.0,
    ):
        params = {k: v for k, v in locals().items() if k not in ("self", "__class__")}
        super().__init__(**params)

    _TARGET_STATE = ("_y_ndim",)

    def _output_and_cost(self):
        return "exponential" if self.loss == "poisson" else "identity", self.loss

    def _encode_dask_targets(self, y, first_call, classes, dtype):
        y = as_dask(y, "y")
        if first_call:
            self._y_ndim = y.ndim
        n_outputs = None if first_call else self.n_outputs_
        return dask_regression_targets(y, n_outputs, dtype, self.loss == "poisson"), None

    def _dask_score_kind(self) -> str:
        return "r2"

    def _encode_targets(self, y, first_call, classes=None, dtype=np.float64, *, held_out=False):
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
        elif not held_out:  # a validation set's columns are checked against the training Y's
            check_target_columns(y, self.n_outputs_)
        if self.loss == "poisson" and (y < 0).any():
            where = np.argwhere(y < 0)[0]
            index = f"y[{', '.join(str(int(i)) for i in where)}]"
            raise ValueError(
                f"loss='poisson' needs non-negative targets y; {index} is {y[tuple(where)]}"
            )
        return (y.reshape(-1, 1) if y.ndim == 1 else y).astype(dtype, copy=False)

    def _score_output(self, out, y, sample_weight) -> float:
        return float(r2_score(y, out.ravel() if y.ndim == 1 else out, sample_weight=sample_weight))

    def _target_payload(self):
        return {"y_ndim": self._y_ndim}, {}

    def _restore_target_encoding(self, meta, arrays):
        self._y_ndim = int(meta["target"]["y_ndim"])

    def _check_target_shape(self, n_outputs: int) -> None:
        if self._y_ndim == 1 and n_outputs != 1:
            raise ModelFormatError(
                f"the model was fitted on a 1-D y but its network has {n_outputs} outputs"
            )

    @available_if(stochastic_solver)
    @with_callbacks
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch of minibatch updates on ``X``, ``y`` (absent for ``solver="lbfgs"``)."""
        if not hasattr(self, "network_"):
            self._validate_params()
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X) -> np.ndarray:
        """The network's output ``a^L``, shaped like the ``y`` of ``fit``, in the network's
        dtype (float32 for a float32 model, also for float64 ``X``)."""
        if dask_input(X):  # a lazy dask array
            check_is_fitted(self, "network_")
            n_outputs = None if self._y_ndim == 1 else self.n_outputs_
            return predict_dask(self, "predict", X, n_outputs, self.network_.dtype)
        check_same_place(self, X, "predict")
        out = predicted(self, X, output)
        return reshape(out, (-1,)) if self._y_ndim == 1 else out

    def score(self, X, y, sample_weight=None):
        """R^2 on ``X``, ``y`` (scikit-learn's); a lazy dask scalar for dask ``X``."""
        if dask_input(X):
            return score_dask(self, X, y, sample_weight)
        return super().score(X, y, sample_weight)
