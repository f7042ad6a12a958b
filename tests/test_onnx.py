"""ONNX export: onnxruntime's outputs against chainrule's, alone, in skl2onnx, from the CLI."""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")

from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import chainrule as cr  # noqa: E402
from chainrule.activations import ACTIVATIONS, Activation  # noqa: E402
from chainrule.estimators import Standardized  # noqa: E402
from chainrule.export import install_skl2onnx_hook, to_onnx  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

DTYPES = ["float32", "float64"]
HIDDEN = sorted(set(ACTIVATIONS) - {"softmax"})  # every built-in a hidden layer may use
TOL = {"rtol": 1e-5, "atol": 1e-5}


def data(n=40, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    return X, np.arange(n) % k


def fitted(cls, X, y, **params):
    params = {"hidden_layer_sizes": (6,), "solver": "lbfgs", "max_iter": 15, **params}
    return cls(random_state=0, **params).fit(X, y)


def run_onnx(model_proto, X):
    session = ort.InferenceSession(
        model_proto.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    name = session.get_inputs()[0].name
    return dict(
        zip([o.name for o in session.get_outputs()], session.run(None, {name: X}), strict=True)
    )


def check_classifier(clf, X, model_proto=None, dtype=None):
    X = X.astype(dtype or clf.coefs_[0].dtype)
    out = run_onnx(model_proto or to_onnx(clf, X), X)
    np.testing.assert_allclose(out["probabilities"], clf.predict_proba(X), **TOL)
    np.testing.assert_array_equal(out["label"], clf.predict(X))
    assert out["probabilities"].dtype == clf.coefs_[0].dtype
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", [*HIDDEN, cr.Sigmoid(beta=2.5)], ids=str)
def test_every_hidden_activation(activation, dtype):
    X, y = data()
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
@pytest.mark.parametrize("output", sorted(ACTIVATIONS))
def test_every_output_activation_of_a_regressor(output, dtype):
    X, _ = data()
    Y = np.abs(X[:, :2]) / 3  # two outputs in (0, 1): fit for every output activation
    reg = fitted(cr.MLPRegressor, X, Y, activation="tanh", output_activation=output, dtype=dtype)
    X = X.astype(dtype)
    out = run_onnx(to_onnx(reg), X)
    np.testing.assert_allclose(out["variable"], reg.predict(X), **TOL)


@pytest.mark.parametrize("dtype", DTYPES)
def test_poisson_regressor_with_one_output(dtype):
    X, _ = data()
    y = np.random.default_rng(1).poisson(np.exp(X[:, 0] / 2))
    reg = fitted(cr.MLPRegressor, X, y, loss="poisson", dtype=dtype)
    assert reg.out_activation_ == "exp"  # scikit-learn's name
    out = run_onnx(to_onnx(reg), X.astype(dtype))
    assert out["variable"].shape == (len(X), 1)  # 2-D, as skl2onnx's regressors
    np.testing.assert_allclose(out["variable"].ravel(), reg.predict(X.astype(dtype)), **TOL)


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
    # 10 L-BFGS iterations: more saturate float32 sigmoids to ties, which argmax may break
    # either way
    clf = fitted(cr.MLPClassifier, X, labels, output_activation=output, dtype=dtype, max_iter=10)
    check_classifier(clf, X)


@pytest.mark.parametrize("dtype", DTYPES)
def test_multilabel_classifier_gives_the_indicator_matrix(dtype):
    X, _ = data()
    Y = (X[:, :3] > 0).astype(int)
    clf = fitted(cr.MLPClassifier, X, Y, dtype=dtype)
    out = check_classifier(clf, X)
    assert out["label"].shape == Y.shape


def test_float64_input_on_a_float32_model_is_cast_to_float32():
    X, y = data()
    clf = fitted(cr.MLPClassifier, X, y, dtype="float32")
    model_proto = to_onnx(clf, X)  # X is float64
    assert model_proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    out = check_classifier(clf, X, model_proto, dtype=np.float64)
    assert out["probabilities"].dtype == np.float32  # as chainrule's predict_proba


def test_standardized_model_scales_its_input():
    X, y = data()
    model = Standardized.fit(cr.MLPClassifier((5,), solver="lbfgs", max_iter=15), X * 10 + 3, y)
    out = run_onnx(to_onnx(model), X * 10 + 3)
    np.testing.assert_allclose(out["probabilities"], model.predict_proba(X * 10 + 3), **TOL)
    np.testing.assert_array_equal(out["label"], model.predict(X * 10 + 3))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls", [cr.MLPClassifier, cr.MLPRegressor])
def test_pipeline_converts_through_skl2onnx(cls, dtype):
    install_skl2onnx_hook()  # skl2onnx is imported: registers at once
    X, y = data()
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            (
                "mlp",
                cls(
                    hidden_layer_sizes=(5,),
                    solver="lbfgs",
                    max_iter=15,
                    activation=["elu"],
                    dtype=dtype,
                ),
            ),
        ]
    ).fit(X * 5, y)
    Xt = (X * 5).astype(dtype)
    out = run_onnx(skl2onnx.to_onnx(pipe, Xt), Xt)
    if cls is cr.MLPRegressor:
        np.testing.assert_allclose(out["variable"].ravel(), pipe.predict(Xt), **TOL)
        return
    np.testing.assert_allclose(out["probabilities"], pipe.predict_proba(Xt), **TOL)
    np.testing.assert_array_equal(out["label"], pipe.predict(Xt))


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
    assert result.stdout.strip() == "['label', 'probabilities']"


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
    assert "outputs label, probabilities" in capsys.readouterr().out
    check_classifier(clf, X, onnx.load(tmp_path / "model.onnx"))
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


def test_integer_input_through_skl2onnx_is_cast_to_the_model_dtype():
    install_skl2onnx_hook()
    X = np.random.default_rng(0).integers(0, 5, size=(30, 3))
    clf = fitted(cr.MLPClassifier, X, np.arange(30) % 3, dtype="float32")
    check_classifier(clf, X, skl2onnx.to_onnx(clf, X), dtype=np.int64)
