"""``MLPClassifier``: the seed's MLP for class labels, as scikit-learn's."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.callback import with_callbacks
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted

from chainrule._arrays import (
    device,
    log_sigmoid,
    log_softmax,
    move,
    namespace,
    sigmoid,
    to_numpy,
)
from chainrule.estimators.base import BaseMLP, stochastic_solver
from chainrule.estimators.distributed import (
    dask_classes,
    dask_input,
    dask_label_targets,
    predict_dask,
    score_dask,
)
from chainrule.estimators.inputs import (
    check_same_classes,
    check_same_place,
    output,
    predicted,
    scaled_logits,
)
from chainrule.estimators.params import PARAMETER_CONSTRAINTS, documented
from chainrule.persistence import ModelFormatError, checked_classes

#: the smallest normal number of each dtype: a probability below it loses digits in its log
TINY = {t.char: t.type(np.finfo(t).tiny) for t in (np.dtype(np.float32), np.dtype(np.float64))}


@documented
class MLPClassifier(ClassifierMixin, BaseMLP):
    """Multi-layer perceptron classifier trained by backpropagation.

    Binary targets use one sigmoid output and the binary cross-entropy, several classes a softmax
    and the categorical cross-entropy, multilabel targets one sigmoid per label. Parameters:
    scikit-learn's :class:`~sklearn.neural_network.MLPClassifier`'s (its defaults), ours (off):

    Parameters
    ----------
    output_activation : str or Activation, optional
        By default ``"sigmoid"`` (binary, multilabel) or ``"softmax"`` (multiclass). ``fit``
        refuses (ValueError) any whose values leave [0, 1] (``"identity"``, ``"exponential"``...).
    n_init : int, default=1
        Train from this many initial weights and keep the best run (lowest final training loss,
        or best validation score with early stopping). The first run is the one ``n_init=1``
        makes with the same ``random_state``.
    init : {"sklearn", "glorot_uniform", "he_normal", "normal"}, optional
        Weight initialisation. By default (``"sklearn"``) scikit-learn's: ``W`` and ``b``
        uniform in ``+-sqrt(6 / (fan_in + fan_out))`` (2 instead of 6 for logistic hidden
        layers), drawn from ``check_random_state(random_state)`` in scikit-learn's order, so
        the same ``random_state`` gives scikit-learn's initial weights, early-stopping split and
        shuffles (a ``numpy.random.Generator`` is accepted too, with its own draws).
    scoring : str, callable or None, default=None
        What early stopping watches (and ``validation_scores_`` records): ``None`` for
        accuracy, ``"loss"`` for the validation loss, or any scikit-learn scorer.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the cost, as in scikit-learn's linear models.

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
        **PARAMETER_CONSTRAINTS,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
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
        class_weight=None,
        dtype=None,
        max_grad_norm=None,
        checkpoint=None,
        checkpoint_every=1,
        resume=False,
        dropout=0.0,
    ):
        params = {k: v for k, v in locals().items() if k not in ("self", "__class__")}
        super().__init__(**params)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def _is_multiclass(self) -> bool:
        return self._label_binarizer.y_type_ == "multiclass"

    _TARGET_STATE = ("_label_binarizer",)

    def _output_and_cost(self):
        if self._is_multiclass():
            return "softmax", "categorical_cross_entropy"
        return "sigmoid", "binary_cross_entropy"

    def _encode_targets(self, y, first_call, classes=None, dtype=np.float64, *, held_out=False):
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
        elif self.warm_start and not held_out:
            labels = unique_labels(y)
            if set(_plain(labels)) != set(_plain(self.classes_)):
                raise ValueError(
                    "warm_start can only be used where `y` has the same classes as in the "
                    f"previous call to fit. Previously got {self.classes_}, `y` has {labels}"
                )
        elif type_of_target(y) != "multilabel-indicator":
            unknown = _unknown_labels(y, self.classes_)
            if unknown:
                seen = "in the training y" if held_out else "seen in the first call"
                raise ValueError(
                    f"{'y_val' if held_out else 'y'} contains labels not {seen}: {unknown}; "
                    f"expected a subset of {_plain(self.classes_)}"
                )
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        if (
            y.ndim == 2
            or self._label_binarizer.y_type_.startswith("multilabel")
            or len(self.classes_) == 1  # one class: a column of zeros, as scikit-learn
        ):
            return self._label_binarizer.transform(y).astype(dtype, copy=False)
        return one_hot_rows(y, self.classes_, dtype)  # every label is known (checked above)

    def _encode_dask_targets(self, y, first_call, classes, dtype):
        if first_call:
            self._label_binarizer = LabelBinarizer().fit(dask_classes(y, classes))
            self.classes_ = self._label_binarizer.classes_
        return dask_label_targets(y, self.classes_, dtype)

    def _dask_score_kind(self) -> str:
        return "argmax" if self._is_multiclass() else "threshold"

    def _labels(self, out: np.ndarray) -> np.ndarray:
        """The predicted labels for the network's outputs ``a^L``: the most probable class
        (binary, multiclass) or each label above 0.5 (multilabel)."""
        # on the host (classes_ may be strings), then moved to X's namespace and device
        on_host = to_numpy(out)
        if self._label_binarizer.y_type_ == "multiclass":
            labels = self.classes_[np.argmax(on_host, axis=1)]
        else:
            labels = self._label_binarizer.inverse_transform(on_host, threshold=0.5)
        return labels if on_host is out else move(labels, namespace(out), device(out))

    def _score_output(self, out, y, sample_weight) -> float:
        return float(accuracy_score(y, self._labels(out), sample_weight=sample_weight))

    def _target_payload(self):
        return {"y_type": self._label_binarizer.y_type_}, {"classes_": self.classes_}

    def _restore_target_encoding(self, meta, arrays):
        classes, y_type = checked_classes(arrays["classes_"], meta["target"]["y_type"])
        # a LabelBinarizer fitted on the saved classes, without refitting on data
        self._label_binarizer = LabelBinarizer().fit(classes)
        self._label_binarizer.y_type_ = y_type
        self.classes_ = self._label_binarizer.classes_

    def _check_target_shape(self, n_outputs: int) -> None:
        k = len(self.classes_)
        binary = self._label_binarizer.y_type_ == "binary"
        expected = 1 if binary else k
        if n_outputs != expected or (binary and k != 2):
            raise ModelFormatError(
                f"classes_ holds {k} classes ({self._label_binarizer.y_type_} targets), which "
                f"need {expected} network output(s), but the network has {n_outputs}"
            )

    def transform_labels(self, y) -> np.ndarray:
        """The network's targets for labels ``y``: one-hot rows (one column for binary)."""
        check_is_fitted(self, "network_")
        return self._label_binarizer.transform(y)

    @available_if(stochastic_solver)
    @with_callbacks
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch of minibatch updates on ``X``, ``y``.

        ``classes`` (every label that will ever appear) is required on the first call for
        binary and multiclass targets; a multilabel indicator ``y`` names its labels itself.
        """
        if not hasattr(self, "network_"):
            self._validate_params()
            if dask_input(X):  # dask y is not looked at here
                multilabel = np.ndim(y) == 2 and y.shape[1] > 1
            else:
                multilabel = type_of_target(y) == "multilabel-indicator"
            if classes is None and not multilabel:
                raise ValueError("classes must be passed on the first call to partial_fit")
        else:
            check_same_classes(classes, self.classes_)
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities ``a^L`` in [0, 1]; binary outputs become the columns ``[1 - a, a]``.

        In the network's dtype: a float32 model gives float32 probabilities, for float64 ``X``
        too (``X`` is cast to float32 first).
        """
        if dask_input(X):  # a lazy dask array
            return self._predict_dask("predict_proba", X)
        check_same_place(self, X, "predict_proba")
        return predicted(self, X, self._probabilities)

    def predict_log_proba(self, X) -> np.ndarray:
        """``log(predict_proba(X))``, as scikit-learn's (a probability of exactly 1 gives 0, so
        ties stay ties). Where a probability is below the smallest normal number (0 included),
        its log comes from the logits instead, ``log_softmax(z)`` or ``log sigmoid(+-z)``:
        finite and accurate where ``log(0)`` would be ``-inf``."""
        if dask_input(X):  # a lazy dask array
            return self._predict_dask("predict_log_proba", X)
        check_same_place(self, X, "predict_log_proba")
        return predicted(self, X, self._log_probabilities)

    def predict(self, X) -> np.ndarray:
        """The most probable class (binary, multiclass) or each label above 0.5 (multilabel)."""
        if dask_input(X):  # a lazy dask array
            return self._predict_dask("predict", X)
        check_same_place(self, X, "predict")
        return predicted(self, X, self._predicted_labels)

    def _predict_dask(self, method: str, X):
        """``method`` mapped lazily over the row blocks of dask ``X``."""
        check_is_fitted(self, "network_")
        if method != "predict":
            n_out = 2 if self._binary() else len(self.classes_)
            return predict_dask(self, method, X, n_out, self.network_.dtype)
        if self._label_binarizer.y_type_.startswith("multilabel"):
            return predict_dask(self, method, X, len(self.classes_), self.classes_.dtype)
        return predict_dask(self, method, X, None, self.classes_.dtype)

    def _binary(self) -> bool:
        return self._label_binarizer.y_type_ == "binary"

    def _probabilities(self, net, rows) -> np.ndarray:
        return probabilities(net, rows, self._binary())

    def _log_probabilities(self, net, rows) -> np.ndarray:
        return log_probabilities(net, rows, self._binary())

    def _predicted_labels(self, net, rows) -> np.ndarray:
        return self._labels(output(net, rows))

    def score(self, X, y, sample_weight=None):
        """The mean accuracy on ``X``, ``y`` (scikit-learn's); a lazy dask scalar for dask
        ``X``."""
        if dask_input(X):
            return score_dask(self, X, y, sample_weight)
        return super().score(X, y, sample_weight)


def probabilities(net, rows, binary: bool) -> np.ndarray:
    """``a^L`` of each row; a binary output ``a`` becomes the columns ``[1 - a, a]``."""
    if not binary:
        return output(net, rows)
    if net.activations[-1].name == "sigmoid":
        # 1 - sigmoid(z) loses every digit once a -> 1; sigmoid(-z) keeps them
        z = scaled_logits(net, rows)
        return namespace(z).concat([sigmoid(-z), sigmoid(z)], axis=1)
    a = output(net, rows)
    return namespace(a).concat([1 - a, a], axis=1)


def log_probabilities(net, rows, binary: bool) -> np.ndarray:
    """``log`` of :func:`probabilities`; below the smallest normal number, from the logits."""
    proba = probabilities(net, rows, binary)
    xp = namespace(proba)
    log_proba = xp.log(proba)
    if xp is np:
        tiny = TINY[proba.dtype.char]
        underflows = np.minimum.reduce(proba, axis=None) < tiny
    else:
        tiny = float(xp.finfo(proba.dtype).smallest_normal)
        underflows = bool(xp.min(proba) < tiny)
    if underflows:  # rare: from the logits
        name = net.activations[-1].name
        if name in ("softmax", "sigmoid"):
            z = scaled_logits(net, rows)
            if name == "softmax":
                exact = log_softmax(z, axis=1)
            elif binary:
                exact = xp.concat([log_sigmoid(-z), log_sigmoid(z)], axis=1)  # log s(-z)
            else:
                exact = log_sigmoid(z)
            log_proba = xp.where(proba < tiny, exact, log_proba)
    return log_proba


def one_hot_rows(y, classes, dtype) -> np.ndarray:
    """One-hot rows, as ``LabelBinarizer.transform`` (which takes ~4x as long): ``Y_ik = 1``
    where ``y_i`` is class ``k``; binary targets get one column, 1 for the second class."""
    codes = np.searchsorted(classes, y)
    if len(classes) == 2:
        return (codes == 1).astype(dtype).reshape(-1, 1)
    Y = np.zeros((len(y), len(classes)), dtype=dtype)
    Y[np.arange(len(y)), codes] = 1
    return Y


def _plain(values) -> list:
    """Labels as plain Python values, for messages (``[0, 1]``, not ``[np.int64(0), ...]``)."""
    return to_numpy(values).tolist()


def _unknown_labels(y, classes) -> list:
    """The labels of ``y`` that are not among ``classes``, sorted as plain Python values."""
    known = set(_plain(classes))
    return [label for label in _plain(unique_labels(y)) if label not in known]
