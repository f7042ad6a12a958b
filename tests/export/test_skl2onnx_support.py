"""chainrule's estimators as skl2onnx operators (:mod:`chainrule.export.skl2onnx_support`): the
outputs, types and options of skl2onnx's converter for scikit-learn's MLP, and pipelines."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import chainrule as cr  # noqa: E402
from chainrule.export import install_skl2onnx_hook, to_onnx  # noqa: E402

from onnx_runs import DTYPES, TENSORS, assert_labels, data, fitted, run_onnx, tolerance  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


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
