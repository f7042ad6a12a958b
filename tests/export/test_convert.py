"""ONNX export: onnxruntime's outputs against chainrule's, alone, in skl2onnx, from the CLI, and
as skl2onnx converts scikit-learn's MLP (the same output names, types and options)."""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")

import sklearn  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import chainrule as cr  # noqa: E402
from chainrule.activations import ACTIVATIONS, Activation  # noqa: E402
from chainrule.estimators import Standardized  # noqa: E402
from chainrule.export import install_skl2onnx_hook, to_onnx  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

DTYPES = ["float32", "float64"]
HIDDEN = sorted(set(ACTIVATIONS) - {"softmax"})  # every built-in a hidden layer may use
TENSORS = {"zipmap": False}  # skl2onnx's option for the tensors label and probabilities


def tolerance(*dtypes) -> dict:
    """rtol = atol between onnxruntime and chainrule, both computing in the lower precision
    ``eps`` of ``dtypes``. An output is at most 5 layers deep; each layer is a dot product of at
    most 8 terms and one activation, each operation within eps/2: 5 * (8 + 2) * eps/2 = 25 eps
    per side, on values (probabilities, z) of order 1, and both sides round: 2 * 25 eps, then a
    factor 2 for exp and log in the activations (within one ulp, not half): 100 eps."""
    eps = max(np.finfo(dtype).eps for dtype in dtypes)
    return {"rtol": 100 * eps, "atol": 100 * eps}


def data(n=40, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    return X, np.arange(n) % k


def fitted(cls, X, y, **params):
    params = {"hidden_layer_sizes": (6,), "solver": "lbfgs", "max_iter": 15, **params}
    return cls(random_state=0, **params).fit(X, y)


def session(model_proto):
    return ort.InferenceSession(model_proto.SerializeToString(), providers=["CPUExecutionProvider"])


def run_onnx(model_proto, X):
    s = session(model_proto)
    name = s.get_inputs()[0].name
    return dict(zip([o.name for o in s.get_outputs()], s.run(None, {name: X}), strict=True))


def assert_labels(label, expected, proba, tol):
    """The labels equal, except where the two largest probabilities are within ``tol``: a tie
    that rounding in either precision may break either way."""
    if proba.ndim == 2 and label.ndim == 1:
        top = np.sort(proba, axis=1)
        clear = top[:, -1] - top[:, -2] > 2 * tol["atol"]
    else:
        clear = np.abs(proba - 0.5) > tol["atol"]
    np.testing.assert_array_equal(label[clear], np.asarray(expected)[clear])


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


# -- the outputs, types and options of skl2onnx's converter for scikit-learn's MLP ------------

LABELS = {
    "int": lambda X: np.array([3, 5, 7])[np.arange(len(X)) % 3],
    "str": lambda X: np.array(["ant", "bee", "cat"])[np.arange(len(X)) % 3],
    "binary": lambda X: (X[:, 0] > 0).astype(int),
    "multilabel": lambda X: (X[:, :3] > 0).astype(int),
}
OPTIONS = [
    None,
    {"zipmap": False},
    {"zipmap": "columns"},
    {"zipmap": False, "output_class_labels": True},
    {"nocl": True},
    {"nocl": True, "zipmap": False},
]


def both(labels, **params):
    """chainrule's and scikit-learn's MLPClassifier, fitted alike on the same data."""
    X, _ = data()
    y = LABELS[labels](X)
    return (fitted(cls, X, y, **params) for cls in (cr.MLPClassifier, SklearnMLPClassifier)), X


def signature(model_proto):
    """The graph's inputs and outputs: names and types (element types, maps, sequences; not
    the shapes: skl2onnx declares a multilabel label of scikit-learn's as 1-D, though it is
    ``(n_samples, n_labels)``)."""
    values = []
    for value in [*model_proto.graph.input, *model_proto.graph.output]:
        kind = onnx.TypeProto()
        kind.CopyFrom(value.type)
        if kind.HasField("tensor_type"):
            kind.tensor_type.ClearField("shape")
        values.append((value.name, onnx.helper.printable_type(kind)))
    return values


@pytest.mark.parametrize("options", OPTIONS, ids=str)
@pytest.mark.parametrize("labels", sorted(LABELS))
def test_outputs_and_types_are_those_of_scikit_learns_mlp(labels, options):
    (ours, theirs), X = both(labels)
    X32 = X.astype(np.float32)
    if labels == "str" and options and options.get("nocl"):
        # skl2onnx's MLP graph then declares int64 labels but writes strings (onnxruntime
        # refuses it); the nocl labels are the class indices, int64
        theirs = fitted(SklearnMLPClassifier, X, LABELS["int"](X))
        expected = signature(skl2onnx.to_onnx(theirs, X32, options=options))
    else:
        expected = signature(skl2onnx.to_onnx(theirs, X32, options=options))
    assert signature(to_onnx(ours, X32, options=options)) == expected


@pytest.mark.parametrize("labels", ["int", "str"])
def test_the_options_do_what_they_do_for_scikit_learns_mlp(labels):
    (clf, _), X = both(labels)
    X = X.astype(np.float32)
    tol, proba, predicted = tolerance(np.float32), clf.predict_proba(X), clf.predict(X)
    out = run_onnx(to_onnx(clf, X), X)  # zipmap: one {class: probability} per row
    assert list(out) == ["output_label", "output_probability"]
    maps = np.array([[row[c] for c in clf.classes_] for row in out["output_probability"]])
    np.testing.assert_allclose(maps, proba, **tol)
    assert_labels(out["output_label"], predicted, proba, tol)
    out = run_onnx(to_onnx(clf, X, options={"zipmap": "columns"}), X)  # a column per class
    prefix = "i" if labels == "int" else "s"
    columns = np.column_stack([out[f"{prefix}{c}"] for c in clf.classes_])
    np.testing.assert_allclose(columns, proba, **tol)
    options = {"zipmap": False, "output_class_labels": True}
    out = run_onnx(to_onnx(clf, X, options=options), X)
    np.testing.assert_array_equal(out["class_labels"], clf.classes_)
    out = run_onnx(to_onnx(clf, X, options={"nocl": True, "zipmap": False}), X)
    assert_labels(out["label"], np.searchsorted(clf.classes_, predicted), proba, tol)
    out = run_onnx(to_onnx(clf, X, options={"nocl": True}), X)
    assert sorted(out["output_probability"][0]) == [0, 1, 2]
    with pytest.raises(RuntimeError, match="'output_class_labels' is not compatible"):
        to_onnx(clf, X, options={"output_class_labels": True})


def test_zipmap_on_float64_input_holds_float32_probabilities():
    """ONNX's ZipMap takes float32 only: the maps of a float64 graph hold the probabilities
    rounded to float32; the label is computed in float64."""
    X, y = data()
    clf = fitted(cr.MLPClassifier, X, y)
    out = run_onnx(to_onnx(clf), X)  # float64 input, zipmap on: the defaults
    proba = clf.predict_proba(X)
    maps = np.array([[row[c] for c in clf.classes_] for row in out["output_probability"]])
    np.testing.assert_allclose(maps, proba, **tolerance(np.float32))
    assert_labels(out["output_label"], clf.predict(X), proba, tolerance(np.float64))


def test_a_regressor_has_no_options_as_scikit_learns():
    X, _ = data()
    reg = fitted(cr.MLPRegressor, X, X[:, 0])
    with pytest.raises(NameError, match="Option 'zipmap' not in"):
        to_onnx(reg, X, options={"zipmap": False})
    with pytest.raises(ValueError, match="zipmap"):  # a value skl2onnx does not allow
        to_onnx(fitted(cr.MLPClassifier, X, X[:, 0] > 0), X, options={"zipmap": "rows"})


def predictions(onnx_bytes: bytes, X: np.ndarray) -> list[dict]:
    """Serving code written for scikit-learn's MLPClassifier converted by skl2onnx (default
    options, float32 input): each row's label and its probability per class."""
    s = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    labels, probabilities = s.run(["output_label", "output_probability"], {"X": X})
    return [
        {"label": label, "scores": {str(k): float(v) for k, v in scores.items()}}
        for label, scores in zip(labels.tolist(), probabilities, strict=True)
    ]


def table(onnx_bytes: bytes, X: np.ndarray) -> np.ndarray:
    """Serving code for the tensors (zipmap=False): the probabilities, a class per column."""
    s = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    assert [o.type for o in s.get_outputs()][1] == "tensor(float)"
    return s.run(["probabilities"], {"X": X})[0]


@pytest.mark.parametrize("labels", ["int", "str", "binary"])
def test_a_chainrule_model_serves_where_scikit_learns_mlp_served(labels):
    """The same serving code runs on the ONNX graph of scikit-learn's MLP (skl2onnx) and on
    chainrule's (to_onnx), and gives each model's own predictions."""
    models, X = both(labels)
    X = X[:12].astype(np.float32)
    tol = tolerance(np.float32)
    for model, convert in zip(models, (to_onnx, skl2onnx.to_onnx), strict=True):
        served = predictions(convert(model, X).SerializeToString(), X)
        proba = model.predict_proba(X)
        scores = np.array([[row["scores"][str(c)] for c in model.classes_] for row in served])
        np.testing.assert_allclose(scores, proba, **tol)
        assert_labels(np.array([row["label"] for row in served]), model.predict(X), proba, tol)
        tensors = convert(model, X, options=TENSORS).SerializeToString()
        np.testing.assert_allclose(table(tensors, X), proba, **tol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls", [cr.MLPClassifier, cr.MLPRegressor])
def test_pipeline_converts_through_skl2onnx(cls, dtype):
    install_skl2onnx_hook()  # skl2onnx is imported: registers at once
    X, y = data()
    mlp = cls(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=15, activation=["elu"], dtype=dtype)
    pipe = Pipeline([("scale", StandardScaler()), ("mlp", mlp)]).fit(X * 5, y)
    Xt = (X * 5).astype(dtype)
    tol = tolerance(dtype)
    if cls is cr.MLPRegressor:
        out = run_onnx(skl2onnx.to_onnx(pipe, Xt), Xt)
        np.testing.assert_allclose(out["variable"].ravel(), pipe.predict(Xt), **tol)
        return
    out = run_onnx(skl2onnx.to_onnx(pipe, Xt, options={id(mlp): TENSORS}), Xt)
    proba = pipe.predict_proba(Xt)
    np.testing.assert_allclose(out["probabilities"], proba, **tol)
    assert_labels(out["label"], pipe.predict(Xt), proba, tol)
    out = run_onnx(skl2onnx.to_onnx(pipe, Xt, options={cr.MLPClassifier: TENSORS}), Xt)
    assert list(out) == ["label", "probabilities"]
    assert list(run_onnx(skl2onnx.to_onnx(pipe, Xt), Xt)) == ["output_label", "output_probability"]


def test_hook_registers_when_skl2onnx_is_imported_later():
    script = textwrap.dedent("""
        import sys
        import numpy as np
        import chainrule as cr
        from chainrule.export import install_skl2onnx_hook
        install_skl2onnx_hook()
        assert "onnx" not in sys.modules and "skl2onnx" not in sys.modules
        X = np.random.default_rng(0).normal(size=(20, 3)); y = np.arange(20) % 2
        clf = cr.MLPClassifier((4,), solver="lbfgs", max_iter=5).fit(X, y)
        import skl2onnx
        outputs = [o.name for o in skl2onnx.to_onnx(clf, X).graph.output]
        print(outputs)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['output_label', 'output_probability']"


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


def load_cli_module():
    """``chainrule.cli.export``, loaded from its file (independent of the cli package)."""
    path = Path(cr.__file__).parent / "cli" / "export.py"
    spec = importlib.util.spec_from_file_location("chainrule_cli_export", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse(module, argv):
    parser = argparse.ArgumentParser(prog=f"chainrule {module.NAME}")
    module.add_arguments(parser)
    return parser.parse_args(argv)


def test_cli_export_writes_an_onnx_file(tmp_path, capsys):
    module = load_cli_module()
    X, y = data()
    clf = fitted(cr.MLPClassifier, X, np.array(["a", "b", "c"])[y])
    clf.save(tmp_path / "model.crm")
    assert module.run(parse(module, [str(tmp_path / "model.crm")])) == 0
    assert "outputs output_label, output_probability" in capsys.readouterr().out
    out = run_onnx(onnx.load(tmp_path / "model.onnx"), X)  # float64 input, as the model's
    proba = clf.predict_proba(X)
    maps = np.array([[row[c] for c in clf.classes_] for row in out["output_probability"]])
    np.testing.assert_allclose(maps, proba, **tolerance(np.float32))  # ZipMap's float32
    assert_labels(out["output_label"], clf.predict(X), proba, tolerance(np.float64))
    out = tmp_path / "other.onnx"
    assert module.run(parse(module, [str(tmp_path / "model.crm"), "-o", str(out)])) == 0
    assert out.exists()


def test_cli_export_reports_a_bad_path(tmp_path):
    module = load_cli_module()
    with pytest.raises(FileNotFoundError, match=r"missing\.crm"):
        module.run(parse(module, [str(tmp_path / "missing.crm")]))
    X, y = data()
    fitted(cr.MLPClassifier, X, y).save(tmp_path / "model.crm")
    args = parse(module, [str(tmp_path / "model.crm"), "-o", str(tmp_path / "no" / "m.onnx")])
    with pytest.raises(FileNotFoundError, match="does not exist"):
        module.run(args)
    with pytest.raises(cr.ModelFormatError):
        (tmp_path / "junk.crm").write_bytes(b"not a model")
        module.run(parse(module, [str(tmp_path / "junk.crm")]))
