"""ONNX export (:func:`chainrule.export.to_onnx`, through :mod:`~chainrule.export.describe` and
:mod:`~chainrule.export.nodes`): onnxruntime's outputs against chainrule's, for every activation,
kind of target and input type (skl2onnx's side: tests/export/test_skl2onnx_support.py)."""

from __future__ import annotations

import os

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")
import sklearn  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import chainrule as cr  # noqa: E402
from chainrule.activations import ACTIVATIONS, Activation  # noqa: E402
from chainrule.estimators import Standardized  # noqa: E402
from chainrule.export import install_skl2onnx_hook, to_onnx  # noqa: E402

from onnx_runs import DTYPES, TENSORS, assert_labels, data, fitted, run_onnx, tolerance  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


HIDDEN = sorted(set(ACTIVATIONS) - {"softmax"})  # every built-in a hidden layer may use


def check_classifier(clf, X, model_proto=None, dtype=None):
    """onnxruntime's label and probabilities against ``predict`` and ``predict_proba``, for input
    of ``dtype`` (default: the model's); the probabilities in the input's precision."""
    X = X.astype(dtype or clf.coefs_[0].dtype)
    out = run_onnx(model_proto or to_onnx(clf, X, options=TENSORS), X)
    tol = tolerance(clf.coefs_[0].dtype, X.dtype if X.dtype.kind == "f" else np.float64)
    expected = clf.predict_proba(X)
    np.testing.assert_allclose(out["probabilities"], expected, **tol)
    label = out["label"]
    assert_labels(label, clf.predict(X), expected if label.ndim == 1 else out["probabilities"], tol)
    assert out["probabilities"].dtype == (X.dtype if X.dtype.kind == "f" else expected.dtype)
    return out


def check_regressor(reg, X):
    out = run_onnx(to_onnx(reg, X), X)
    expected = reg.predict(X)
    assert out["variable"].dtype == X.dtype
    assert out["variable"].shape == (len(X), reg.n_outputs_)  # 2-D, as skl2onnx's regressors
    tol = tolerance(reg.coefs_[0].dtype, X.dtype)
    np.testing.assert_allclose(out["variable"].reshape(expected.shape), expected, **tol)


def target(kind, X):
    """A target of ``kind`` for the rows ``X``."""
    return {
        "binary": lambda: np.array(["no", "yes"])[(X[:, 0] > 0).astype(int)],
        "multiclass": lambda: np.arange(len(X)) % 3,
        "multilabel": lambda: (X[:, :3] > 0).astype(int),
        "regression": lambda: X[:, 0] - X[:, 1] / 2,
        "multi-output": lambda: np.abs(X[:, :2]) / 3,
    }[kind]()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", [*HIDDEN, cr.Sigmoid(beta=2.5)], ids=str)
@pytest.mark.parametrize(
    "kind", ["binary", "multiclass", "multilabel", "regression", "multi-output"]
)
def test_every_hidden_activation_for_every_kind_of_target(kind, activation, dtype):
    X, _ = data()
    y = target(kind, X)
    if kind in ("regression", "multi-output"):
        check_regressor(
            fitted(cr.MLPRegressor, X, y, activation=activation, dtype=dtype), X.astype(dtype)
        )
    else:
        check_classifier(fitted(cr.MLPClassifier, X, y, activation=activation, dtype=dtype), X)


@pytest.mark.parametrize("dtype", DTYPES)
def test_per_layer_activations(dtype):
    X, y = data()
    layers = ["elu", "softplus", {"name": "sigmoid", "beta": 0.5}, "leaky_relu"]
    clf = fitted(
        cr.MLPClassifier, X, y, hidden_layer_sizes=(5, 4, 4, 3), activation=layers, dtype=dtype
    )
    check_classifier(clf, X)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_is_the_identity_in_the_exported_model(dtype):
    """Dropout acts while training only: the graph is the network's, as ``predict_proba``."""
    X, y = data()
    params = dict(hidden_layer_sizes=(6, 5), solver="adam", max_iter=5, dtype=dtype)
    clf = fitted(cr.MLPClassifier, X, y, dropout=[0.3, 0.5], **params)
    assert clf.network_.dropout == (0.3, 0.5)
    check_classifier(clf, X)


@pytest.mark.parametrize(
    "extra",
    [dict(weight_decay=0.1), dict(alpha=0.01, l1_ratio=1.0), dict(learning_rate="cosine")],
    ids=str,
)
def test_models_trained_with_decay_l1_or_a_schedule_export(extra):
    """Weight decay, L1 and the schedule act while training only: the exported graph is the
    trained network's."""
    X, y = data()
    clf = fitted(
        cr.MLPClassifier, X, y, hidden_layer_sizes=(6,), solver="adam", max_iter=5, **extra
    )
    check_classifier(clf, X)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("output", sorted(ACTIVATIONS))
def test_every_output_activation_of_a_regressor(output, dtype):
    X, _ = data()
    Y = np.abs(X[:, :2]) / 3  # two outputs in (0, 1): fit for every output activation
    reg = fitted(cr.MLPRegressor, X, Y, activation="tanh", output_activation=output, dtype=dtype)
    check_regressor(reg, X.astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_poisson_regressor_with_one_output(dtype):
    X, _ = data()
    y = np.random.default_rng(1).poisson(np.exp(X[:, 0] / 2))
    reg = fitted(cr.MLPRegressor, X, y, loss="poisson", dtype=dtype)
    assert reg.out_activation_ == "exp"  # scikit-learn's name
    check_regressor(reg, X.astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("labels", [[3, 7], ["no", "yes"]], ids=["int", "str"])
def test_binary_classifier_has_one_output_unit_and_two_probabilities(labels, dtype):
    X, y = data(k=2)
    clf = fitted(cr.MLPClassifier, X, np.asarray(labels)[y], dtype=dtype)
    assert clf.n_outputs_ == 1
    out = check_classifier(clf, X)
    assert out["probabilities"].shape == (len(X), 2)
    assert out["label"].dtype.kind == ("i" if isinstance(labels[0], int) else "O")


def test_binary_classifier_with_a_sigmoid_slope_at_the_output():
    X, y = data(k=2)
    check_classifier(fitted(cr.MLPClassifier, X, y, output_activation=cr.Sigmoid(3.0)), X)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
def test_multiclass_classifier_with_string_labels(output, dtype):
    X, y = data(k=4)
    labels = np.array(["ant", "bee", "cat", "dog"])[y]
    clf = fitted(cr.MLPClassifier, X, labels, output_activation=output, dtype=dtype)
    check_classifier(clf, X)


@pytest.mark.parametrize("labels", [[0.0, 1.0, 2.0], [False, True]], ids=["float", "bool"])
def test_float_and_bool_labels_are_int64(labels):
    """As skl2onnx's MLP converter gives them (a classifier's float labels are integers)."""
    X, y = data(k=len(labels))
    clf = fitted(cr.MLPClassifier, X, np.asarray(labels)[y])
    out = check_classifier(clf, X)
    assert out["label"].dtype == np.int64


@pytest.mark.parametrize("dtype", DTYPES)
def test_multilabel_classifier_gives_the_indicator_matrix(dtype):
    X, _ = data()
    Y = (X[:, :3] > 0).astype(int)
    clf = fitted(cr.MLPClassifier, X, Y, dtype=dtype)
    out = check_classifier(clf, X)
    assert out["label"].shape == Y.shape


@pytest.mark.parametrize("model_dtype", DTYPES)
@pytest.mark.parametrize("input_dtype", DTYPES)
def test_the_graph_computes_and_answers_in_the_input_type(model_dtype, input_dtype):
    """As skl2onnx's MLP converter: a float64 model given float32 input answers in float32, a
    float32 model given float64 input in float64."""
    X, y = data()
    clf = fitted(cr.MLPClassifier, X, y, dtype=model_dtype)
    reg = fitted(cr.MLPRegressor, X, X[:, :2], dtype=model_dtype)
    X = X.astype(input_dtype)
    proto = to_onnx(clf, X, options=TENSORS)
    elem = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(input_dtype))
    assert proto.graph.input[0].type.tensor_type.elem_type == elem
    assert proto.graph.output[1].type.tensor_type.elem_type == elem
    check_classifier(clf, X, proto, dtype=input_dtype)
    check_regressor(reg, X)


def test_integer_input_is_computed_in_the_models_precision():
    X = np.random.default_rng(0).integers(0, 5, size=(30, 3))
    clf = fitted(cr.MLPClassifier, X, np.arange(30) % 3, dtype="float32")
    install_skl2onnx_hook()
    check_classifier(clf, X, skl2onnx.to_onnx(clf, X, options=TENSORS), dtype=np.int64)


@pytest.mark.parametrize("dtype", DTYPES)
def test_standardized_model_scales_its_input(dtype):
    X, y = data()
    model = Standardized.fit(
        cr.MLPClassifier((5,), solver="lbfgs", max_iter=15, dtype=dtype), X * 10 + 3, y
    )
    X = (X * 10 + 3).astype(dtype)
    out = run_onnx(to_onnx(model, X, options=TENSORS), X)
    assert out["probabilities"].dtype == X.dtype
    tol = tolerance(dtype)
    expected = model.predict_proba(X)
    np.testing.assert_allclose(out["probabilities"], expected, **tol)
    assert_labels(out["label"], model.predict(X), expected, tol)
    out = run_onnx(to_onnx(model), X.astype(np.float64))  # float64 by default, zipmap on
    assert list(out) == ["output_label", "output_probability"]
    assert_labels(out["output_label"], model.predict(X), expected, tol)
    reg = Standardized.fit(
        cr.MLPRegressor(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=15), X, X[:, :2]
    )
    out = run_onnx(to_onnx(reg), X.astype(np.float64))
    np.testing.assert_allclose(out["variable"], reg.predict(X), **tolerance(np.float64))


def test_a_model_fitted_on_torch_tensors_exports():
    """Its weights are torch tensors (on any device); the graph gets them as NumPy arrays, and
    the model is left as it is."""
    torch = pytest.importorskip("torch")
    assert os.environ.get("SCIPY_ARRAY_API") == "1"  # tests/conftest.py
    X, y = data()
    with sklearn.config_context(array_api_dispatch=True):
        T = torch.asarray(X)
        clf = fitted(cr.MLPClassifier, T, torch.asarray(y))
        reg = fitted(cr.MLPRegressor, T, torch.asarray(X[:, :2]))
        Y = (X[:, :3] > 0).astype(int)
        multilabel = fitted(cr.MLPClassifier, T, torch.asarray(Y))
        expected = {
            "proba": clf.predict_proba(T).numpy(),
            "label": clf.predict(T).numpy(),
            "variable": reg.predict(T).numpy(),
            "indicator": multilabel.predict(T).numpy(),
        }
    assert isinstance(clf.coefs_[0], torch.Tensor)
    tol = tolerance(np.float64)
    out = run_onnx(to_onnx(clf, X, options=TENSORS), X)
    np.testing.assert_allclose(out["probabilities"], expected["proba"], **tol)
    assert_labels(out["label"], expected["label"], expected["proba"], tol)
    out = run_onnx(to_onnx(reg, X), X)
    np.testing.assert_allclose(out["variable"], expected["variable"], **tol)
    out = run_onnx(to_onnx(multilabel, X, options=TENSORS), X)
    assert_labels(out["label"], expected["indicator"], out["probabilities"], tol)
    assert isinstance(clf.coefs_[0], torch.Tensor)  # still a torch model


def test_unconvertible_models_get_clear_errors():
    X, y = data()
    with pytest.raises(NotFittedError):
        to_onnx(cr.MLPClassifier())
    with pytest.raises(TypeError, match="converts chainrule's MLPClassifier"):
        to_onnx(StandardScaler().fit(X))
    square = Activation("onnx_test_square", lambda z: z * z, lambda z: 2 * z)
    clf = fitted(cr.MLPClassifier, X, y, activation=square)
    with pytest.raises(ValueError, match="'onnx_test_square' has no ONNX form"):
        to_onnx(clf)
    clf = fitted(cr.MLPClassifier, X, y)
    with pytest.raises(ValueError, match=r"X_sample has shape \(3, 2\)"):
        to_onnx(clf, X[:3, :2])
    with pytest.raises(ValueError, match="target_opset=9 is not supported"):
        to_onnx(clf, target_opset=9)
    for opset in ("17", 17.5, True):
        with pytest.raises(ValueError, match=f"target_opset={opset!r} is not supported"):
            to_onnx(clf, target_opset=opset)
