"""Arrays of any array-API namespace (issue 15): torch tensors and array_api_strict arrays flow
through fit, partial_fit, predict, predict_proba, predict_log_proba and score.

scikit-learn's rule, with ``sklearn.set_config(array_api_dispatch=True)``: everything follows
``X``. The computation stays in X's namespace and on X's device; the fitted ``coefs_`` and
``intercepts_`` and every output are arrays of that namespace and device, in X's float dtype.
A fit on such arrays equals the NumPy fit from the same seed (same initial weights, same
minibatch order) up to rounding. Without dispatch, scikit-learn's usual conversion to NumPy
applies. ``tests/conftest.py`` sets ``SCIPY_ARRAY_API=1`` before scipy is imported.
"""

from __future__ import annotations

import os
import subprocess

import numpy as np
import pytest
import sklearn
from array_api_compat import array_namespace
from array_api_compat import device as array_device
from sklearn.datasets import make_classification, make_regression
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import (
    check_array_api_input,
    check_array_api_mixed_inputs,
    check_array_api_same_namespace,
)

import chainrule as cr
from chainrule import MLPClassifier, MLPRegressor
from chainrule.persistence import read_archive

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

#: how close a fit on another namespace comes to the NumPy fit (measured: the engines differ by
#: at most 4e-6 relative in float32 and 7e-15 in float64 after 30 epochs)
TOL = {"float32": {"rtol": 1e-3, "atol": 1e-4}, "float64": {"rtol": 1e-7, "atol": 1e-9}}

NAMESPACES = ["torch", "array_api_strict"]
DTYPES = ["float32", "float64"]


# -- helpers ------------------------------------------------------------------------------------


def as_namespace(module, a: np.ndarray, device=None):
    """``a`` as an array of ``module`` (torch, array_api_strict) on ``device`` (its default)."""
    if device is None:
        return module.asarray(a)
    return module.asarray(a, device=device)


def host(a) -> np.ndarray:
    """Any array (NumPy, torch on any device, array_api_strict) as a NumPy array on the CPU."""
    if isinstance(a, np.ndarray):
        return a
    if hasattr(a, "detach"):  # torch
        return a.detach().cpu().numpy()
    return np.from_dlpack(a)


def assert_follows(out, X) -> None:
    """``out`` is an array of X's namespace, on X's device."""
    assert array_namespace(out) is array_namespace(X), (type(out), type(X))
    assert array_device(out) == array_device(X)


def dtype_name(a) -> str:
    return host(a).dtype.name


def flat_weights(model) -> np.ndarray:
    return np.concatenate([host(c).ravel() for c in [*model.coefs_, *model.intercepts_]])


@pytest.fixture(params=NAMESPACES)
def module(request):
    """The array library under test (skipped, with its reason, where it is not installed)."""
    return pytest.importorskip(request.param)


@pytest.fixture
def dispatch():
    """``array_api_dispatch=True`` for the test's duration (restored afterwards)."""
    assert os.environ.get("SCIPY_ARRAY_API") == "1", "tests/conftest.py sets SCIPY_ARRAY_API=1"
    with sklearn.config_context(array_api_dispatch=True):
        yield


@pytest.fixture(scope="module")
def multiclass():
    X, y = make_classification(
        n_samples=60, n_features=5, n_informative=4, n_redundant=0, n_classes=3, random_state=0
    )
    return X, y


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(n_samples=60, n_features=5, random_state=1)
    return X, y


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=60, n_features=5, noise=0.1, random_state=2)
    return X, y / np.std(y)


def small(cls, **params):
    """A small, smooth (tanh) network that trains in a few milliseconds."""
    defaults = dict(hidden_layer_sizes=(8,), activation="tanh", max_iter=15, batch_size=16)
    return cls(**{**defaults, "random_state": 0, **params})


# -- the tag --------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_estimators_declare_array_api_support(cls):
    assert get_tags(cls()).array_api_support is True


# -- fit: the NumPy fit, in the input's namespace ------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_classifier_fit_in_namespace_equals_numpy_fit(module, dispatch, multiclass, dtype, solver):
    X, y = multiclass
    X = X.astype(dtype)
    expected = small(MLPClassifier, solver=solver).fit(X, y)
    X_xp, y_xp = as_namespace(module, X), as_namespace(module, y)
    model = small(MLPClassifier, solver=solver).fit(X_xp, y_xp)

    assert len(model.coefs_) == len(expected.coefs_) == 2
    wanted = [*expected.coefs_, *expected.intercepts_]
    for got, want in zip([*model.coefs_, *model.intercepts_], wanted, strict=True):
        assert_follows(got, X_xp)
        assert dtype_name(got) == dtype
        assert tuple(got.shape) == want.shape
    np.testing.assert_allclose(flat_weights(model), flat_weights(expected), **TOL[dtype])
    assert model.n_iter_ == expected.n_iter_
    np.testing.assert_allclose(model.loss_curve_, expected.loss_curve_, **TOL[dtype])
    assert all(isinstance(loss, float) for loss in model.loss_curve_)
    np.testing.assert_array_equal(host(model.classes_), expected.classes_)


@pytest.mark.parametrize("dtype", DTYPES)
def test_classifier_outputs_follow_x(module, dispatch, multiclass, dtype):
    X, y = multiclass
    X = X.astype(dtype)
    expected = small(MLPClassifier).fit(X, y)
    X_xp, y_xp = as_namespace(module, X), as_namespace(module, y)
    model = small(MLPClassifier).fit(X_xp, y_xp)

    predicted = model.predict(X_xp)
    assert_follows(predicted, X_xp)
    assert host(predicted).dtype == expected.predict(X).dtype  # the labels' dtype (int64)
    np.testing.assert_array_equal(host(predicted), expected.predict(X))
    for method in ("predict_proba", "predict_log_proba"):
        got = getattr(model, method)(X_xp)
        assert_follows(got, X_xp)
        assert dtype_name(got) == dtype
        np.testing.assert_allclose(host(got), getattr(expected, method)(X), **TOL[dtype])
    score = model.score(X_xp, y_xp)
    assert isinstance(score, float)
    assert score == pytest.approx(expected.score(X, y))


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_classifier_in_namespace(module, dispatch, binary, dtype):
    X, y = binary
    X = X.astype(dtype)
    expected = small(MLPClassifier).fit(X, y)
    X_xp = as_namespace(module, X)
    model = small(MLPClassifier).fit(X_xp, as_namespace(module, y))
    proba = model.predict_proba(X_xp)
    assert_follows(proba, X_xp)
    assert tuple(proba.shape) == (60, 2)
    np.testing.assert_allclose(host(proba), expected.predict_proba(X), **TOL[dtype])
    log_proba = model.predict_log_proba(X_xp)
    np.testing.assert_allclose(host(log_proba), expected.predict_log_proba(X), **TOL[dtype])
    np.testing.assert_array_equal(host(model.predict(X_xp)), expected.predict(X))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_regressor_in_namespace_equals_numpy_fit(module, dispatch, regression, dtype, solver):
    X, y = regression
    X, y = X.astype(dtype), y.astype(dtype)
    expected = small(MLPRegressor, solver=solver).fit(X, y)
    X_xp, y_xp = as_namespace(module, X), as_namespace(module, y)
    model = small(MLPRegressor, solver=solver).fit(X_xp, y_xp)

    for got in [*model.coefs_, *model.intercepts_]:
        assert_follows(got, X_xp)
        assert dtype_name(got) == dtype
    np.testing.assert_allclose(flat_weights(model), flat_weights(expected), **TOL[dtype])
    np.testing.assert_allclose(model.loss_curve_, expected.loss_curve_, **TOL[dtype])
    predicted = model.predict(X_xp)
    assert_follows(predicted, X_xp)
    assert tuple(predicted.shape) == (60,)  # shaped like the y of fit
    assert dtype_name(predicted) == dtype
    np.testing.assert_allclose(host(predicted), expected.predict(X), **TOL[dtype])
    score = model.score(X_xp, y_xp)
    assert isinstance(score, float)
    assert score == pytest.approx(expected.score(X, y), rel=1e-4)


# -- partial_fit, sample weights, early stopping: the same rules -----------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_partial_fit_in_namespace_equals_numpy(module, dispatch, multiclass, dtype):
    X, y = multiclass
    X = X.astype(dtype)
    expected, model = small(MLPClassifier), small(MLPClassifier)
    for part in (slice(0, 30), slice(30, 60), slice(0, 60)):
        expected.partial_fit(X[part], y[part], classes=[0, 1, 2])
        model.partial_fit(
            as_namespace(module, X[part]), as_namespace(module, y[part]), classes=[0, 1, 2]
        )
    assert_follows(model.coefs_[0], as_namespace(module, X))
    np.testing.assert_allclose(flat_weights(model), flat_weights(expected), **TOL[dtype])
    assert model.t_ == expected.t_ == 120


@pytest.mark.parametrize("dtype", DTYPES)
def test_sample_weight_in_namespace(module, dispatch, multiclass, dtype):
    X, y = multiclass
    X = X.astype(dtype)
    weights = np.random.default_rng(0).uniform(0.5, 2.0, size=len(y)).astype(dtype)
    expected = small(MLPClassifier, class_weight="balanced").fit(X, y, sample_weight=weights)
    X_xp, y_xp, w_xp = (as_namespace(module, a) for a in (X, y, weights))
    model = small(MLPClassifier, class_weight="balanced").fit(X_xp, y_xp, sample_weight=w_xp)
    np.testing.assert_allclose(flat_weights(model), flat_weights(expected), **TOL[dtype])


def test_early_stopping_in_namespace_holds_out_the_same_samples(module, dispatch, multiclass):
    X, y = multiclass
    params = dict(early_stopping=True, validation_fraction=0.2, max_iter=30, n_iter_no_change=3)
    expected = small(MLPClassifier, **params).fit(X, y)
    model = small(MLPClassifier, **params).fit(as_namespace(module, X), as_namespace(module, y))
    assert model.n_iter_ == expected.n_iter_
    np.testing.assert_allclose(model.validation_scores_, expected.validation_scores_)
    assert all(isinstance(s, float) for s in model.validation_scores_)
    np.testing.assert_allclose(flat_weights(model), flat_weights(expected), **TOL["float64"])


def test_assigned_weights_go_where_the_network_is(module, dispatch, multiclass):
    X, y = multiclass
    X_xp = as_namespace(module, X)
    model = small(MLPClassifier).fit(X_xp, as_namespace(module, y))
    model.coefs_[0] = np.zeros((5, 8))  # NumPy values into a network of another namespace
    model.intercepts_ = [as_namespace(module, np.ones(8)), as_namespace(module, np.ones(3))]
    assert_follows(model.coefs_[0], X_xp)
    assert float(np.abs(host(model.coefs_[0])).sum()) == 0.0
    np.testing.assert_array_equal(host(model.intercepts_[1]), np.ones(3))
    with pytest.raises(ValueError, match="has shape"):
        model.coefs_[1] = np.zeros((3, 8))


def test_predict_refuses_another_namespace_than_fit(module, dispatch, multiclass):
    X, y = multiclass
    model = small(MLPClassifier).fit(as_namespace(module, X), as_namespace(module, y))
    for method in ("predict", "predict_proba", "predict_log_proba"):
        with pytest.raises(ValueError, match=rf"MLPClassifier\.{method}\(\) must use the same"):
            getattr(model, method)(X)  # NumPy X for a model fitted on another namespace


def test_without_dispatch_tensors_are_converted_to_numpy(multiclass):
    """scikit-learn's default: array_api_dispatch=False turns CPU tensors into NumPy arrays."""
    torch = pytest.importorskip("torch")
    X, y = multiclass
    expected = small(MLPClassifier).fit(X, y)
    model = small(MLPClassifier).fit(torch.asarray(X), torch.asarray(y))
    assert all(isinstance(c, np.ndarray) for c in model.coefs_)
    np.testing.assert_array_equal(flat_weights(model), flat_weights(expected))
    assert isinstance(model.predict(torch.asarray(X)), np.ndarray)


# -- scikit-learn's own array-API checks ----------------------------------------------------------

#: (namespace, device, dtype) as scikit-learn's yield_namespace_device_dtype_combinations names
#: them, the CPU ones
CHECK_COMBINATIONS = [
    ("numpy", None, None),
    ("array_api_strict", "CPU_DEVICE", "float64"),
    ("array_api_strict", "device1", "float32"),
    ("torch", "cpu", "float64"),
    ("torch", "cpu", "float32"),
]

CHECKED = [
    MLPClassifier(hidden_layer_sizes=(8,), max_iter=20),
    MLPRegressor(hidden_layer_sizes=(8,), max_iter=20),
]


@pytest.mark.parametrize("estimator", CHECKED, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize(("namespace", "device", "dtype"), CHECK_COMBINATIONS)
@pytest.mark.parametrize("with_sample_weight", [False, True])
def test_check_array_api_input(estimator, namespace, device, dtype, with_sample_weight):
    if namespace != "numpy":
        pytest.importorskip(namespace)
    assert os.environ.get("SCIPY_ARRAY_API") == "1"  # else the check skips itself
    check_array_api_input(
        type(estimator).__name__,
        estimator,
        array_namespace=namespace,
        device_name=device,
        dtype_name=dtype,
        check_sample_weight=with_sample_weight,
    )


@pytest.mark.parametrize("estimator", CHECKED, ids=lambda e: type(e).__name__)
def test_check_array_api_mixed_inputs(estimator):
    """X a torch CPU tensor, y and sample_weight arrays on array_api_strict's second device: the
    pair scikit-learn runs without special hardware; y and the weights must follow X."""
    pytest.importorskip("array_api_strict")
    pytest.importorskip("torch")
    from sklearn.utils._array_api import NamespaceAndDevice

    check_array_api_mixed_inputs(
        type(estimator).__name__,
        estimator,
        X_ns_and_device=NamespaceAndDevice("torch", "cpu"),
        other_ns_and_device=NamespaceAndDevice("array_api_strict", "device1"),
    )


@pytest.mark.parametrize("estimator", CHECKED, ids=lambda e: type(e).__name__)
def test_check_array_api_same_namespace(estimator):
    pytest.importorskip("array_api_strict")
    check_array_api_same_namespace(
        type(estimator).__name__, estimator, array_namespace="array_api_strict"
    )


# -- saving and loading ---------------------------------------------------------------------------


def test_save_of_a_torch_model_writes_the_numpy_format(dispatch, multiclass, tmp_path):
    torch = pytest.importorskip("torch")
    X, y = multiclass
    X = X.astype(np.float32)
    numpy_model = small(MLPClassifier).fit(X, y)
    torch_model = small(MLPClassifier).fit(torch.asarray(X), torch.asarray(y))
    numpy_model.save(tmp_path / "numpy.crm")
    torch_model.save(tmp_path / "torch.crm")

    numpy_meta, numpy_arrays = read_archive(tmp_path / "numpy.crm")
    torch_meta, torch_arrays = read_archive(tmp_path / "torch.crm")
    assert torch_meta["network"] == numpy_meta["network"]
    assert torch_meta["params"] == numpy_meta["params"]
    assert sorted(torch_arrays) == sorted(numpy_arrays)
    for name, array in torch_arrays.items():
        assert isinstance(array, np.ndarray)
        assert array.dtype == numpy_arrays[name].dtype and array.shape == numpy_arrays[name].shape
    np.testing.assert_allclose(torch_arrays["theta"], numpy_arrays["theta"], **TOL["float32"])


@pytest.mark.parametrize("target", ["cpu", "torch.device"])
def test_load_onto_a_torch_device(dispatch, multiclass, tmp_path, target):
    torch = pytest.importorskip("torch")
    X, y = multiclass
    X_t, y_t = torch.asarray(X.astype(np.float32)), torch.asarray(y)
    model = small(MLPClassifier).fit(X_t, y_t)
    model.save(tmp_path / "m.crm")

    on_host = cr.load(tmp_path / "m.crm")  # no device: NumPy, as always
    assert all(isinstance(c, np.ndarray) for c in on_host.coefs_)
    np.testing.assert_array_equal(flat_weights(on_host), flat_weights(model))
    np.testing.assert_array_equal(on_host.predict(host(X_t)), host(model.predict(X_t)))

    device = "cpu" if target == "cpu" else torch.device("cpu")
    loaded = cr.load(tmp_path / "m.crm", device=device)
    for c in [*loaded.coefs_, *loaded.intercepts_]:
        assert_follows(c, X_t)
    np.testing.assert_array_equal(flat_weights(loaded), flat_weights(model))
    np.testing.assert_array_equal(host(loaded.predict_proba(X_t)), host(model.predict_proba(X_t)))


def test_float32_where_the_device_has_no_float64(dispatch, multiclass, monkeypatch):
    """On a device without float64 (Apple's MPS), float64 input trains in float32, and
    dtype="float64" is an error naming the dtype (simulated: torch's CPU without float64)."""
    torch = pytest.importorskip("torch")
    from chainrule import _arrays

    monkeypatch.setattr(_arrays, "has_float64", lambda xp, where: xp is np)
    X, y = multiclass  # float64
    X_t, y_t = torch.asarray(X), torch.asarray(y)
    model = small(MLPClassifier).fit(X_t, y_t)
    assert all(c.dtype == torch.float32 for c in [*model.coefs_, *model.intercepts_])
    assert model.predict_proba(X_t).dtype == torch.float32
    with pytest.raises(ValueError, match="dtype='float64' is not available"):
        small(MLPClassifier, dtype="float64").fit(X_t, y_t)


def test_checkpoint_resumes_a_torch_fit_exactly(dispatch, multiclass, tmp_path):
    """A checkpoint of a fit on torch tensors holds host arrays; resuming it goes on in torch
    and ends where one uninterrupted fit ends."""
    torch = pytest.importorskip("torch")
    X, y = multiclass
    params = dict(early_stopping=True, n_iter_no_change=100, checkpoint=tmp_path / "c.crm")
    X_t, y_t = torch.asarray(X), torch.asarray(y)
    small(MLPClassifier, max_iter=3, resume=True, **params).fit(X_t, y_t)
    _, arrays = read_archive(tmp_path / "c.crm")
    assert all(isinstance(a, np.ndarray) for a in arrays.values())
    resumed = small(MLPClassifier, max_iter=6, resume=True, **params).fit(X_t, y_t)
    whole = small(MLPClassifier, max_iter=6, early_stopping=True, n_iter_no_change=100).fit(X, y)
    assert_follows(resumed.coefs_[0], X_t)
    assert resumed.n_iter_ == whole.n_iter_ == 6
    np.testing.assert_allclose(flat_weights(resumed), flat_weights(whole), **TOL["float64"])


def test_network_moves_between_namespaces(module):
    net = cr.Network([3, 4, 2], activation="tanh", random_state=0)
    X = np.random.default_rng(0).normal(size=(5, 3))
    moved = net.to(module, None if module.__name__ == "torch" else module.Device("device1"))
    assert array_namespace(moved.theta) is array_namespace(moved.W[0]) is not np
    moved.W[0][...] = 0.0  # views of its own buffer: the original keeps its weights
    assert float(np.abs(host(moved.theta)).sum()) < float(np.abs(net.theta).sum())
    back = moved.to(np)
    np.testing.assert_array_equal(back.theta, host(moved.theta))
    z = net.to(module, None).forward(as_namespace(module, X), validate=False)
    np.testing.assert_allclose(host(z), net.forward(X), rtol=1e-12)


def test_load_onto_a_missing_device_is_a_clear_error(multiclass, tmp_path):
    pytest.importorskip("torch")
    if _cuda_available():
        pytest.skip("a CUDA device exists here")
    X, y = multiclass
    small(MLPClassifier).fit(X, y).save(tmp_path / "m.crm")
    with pytest.raises(ValueError, match="device 'cuda' is not available"):
        cr.load(tmp_path / "m.crm", device="cuda")


# -- the GPU and the command line -----------------------------------------------------------------


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


@pytest.mark.skipif(
    not _cuda_available(), reason="needs torch with a CUDA device (torch.cuda.is_available())"
)
def test_fit_predict_save_load_on_cuda(dispatch, multiclass, tmp_path):
    import torch

    X, y = multiclass
    X = X.astype(np.float32)
    expected = small(MLPClassifier).fit(X, y)
    X_gpu, y_gpu = torch.asarray(X, device="cuda"), torch.asarray(y, device="cuda")
    model = small(MLPClassifier).fit(X_gpu, y_gpu)
    for c in [*model.coefs_, *model.intercepts_]:
        assert c.device.type == "cuda" and c.dtype == torch.float32
    np.testing.assert_allclose(flat_weights(model), flat_weights(expected), **TOL["float32"])
    proba = model.predict_proba(X_gpu)
    assert proba.device.type == "cuda"
    np.testing.assert_allclose(host(proba), expected.predict_proba(X), **TOL["float32"])

    model.save(tmp_path / "gpu.crm")
    loaded = cr.load(tmp_path / "gpu.crm", device="cuda")
    assert loaded.coefs_[0].device.type == "cuda"
    np.testing.assert_array_equal(host(loaded.predict(X_gpu)), host(model.predict(X_gpu)))


def test_cli_train_on_cuda(tmp_path):
    """``chainrule train --device cuda``: trains on the GPU where torch has one, else a one-line
    error (exit 1) that names the missing device."""
    import shutil

    chainrule = shutil.which("chainrule") or pytest.fail("the chainrule command is not installed")
    args = [chainrule, "train", "--data", "iris", "--hidden", "8", "--epochs", "20", "--quiet"]
    result = subprocess.run(
        [*args, "--device", "cuda", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if _cuda_available():
        assert result.returncode == 0, result.stderr
        model = cr.load(tmp_path / "model.crm")  # saved in the ordinary format, on the host
        assert all(isinstance(c, np.ndarray) for c in model.model.coefs_)
    else:
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert "cuda" in result.stderr.lower()


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_l1_and_weight_decay_in_namespace_equal_the_numpy_fit(module, dispatch, multiclass, solver):
    """The L1 subgradient (xp.sign) and the decoupled decay of the weights' slices run in the
    input's namespace as in NumPy."""
    X, y = multiclass
    params = dict(solver=solver, alpha=0.05, l1_ratio=0.5, weight_decay=0.1)
    expected = small(MLPClassifier, **params).fit(X, y)
    model = small(MLPClassifier, **params).fit(as_namespace(module, X), as_namespace(module, y))
    np.testing.assert_allclose(flat_weights(model), flat_weights(expected), **TOL["float64"])
    np.testing.assert_allclose(model.loss_curve_, expected.loss_curve_, **TOL["float64"])
