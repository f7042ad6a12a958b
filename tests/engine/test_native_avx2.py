"""The AVX2 build of the extension (native_avx2.pyx, native.pyx compiled with 4-wide vectors):
chosen where the CPU has AVX2 and FMA, and the same bits as the build for every CPU, fit for
fit (both are held to the reference engine through the other: tests/engine/test_compiled.py
runs the one this CPU picks)."""

from __future__ import annotations

import platform
import sys
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from chainrule import MLPClassifier, MLPRegressor
from chainrule.engine import compiled, native

X86_64 = sys.platform != "win32" and platform.machine().lower() in ("x86_64", "amd64")


def avx2_build():
    """The AVX2 build: setup.py builds it wherever GCC or Clang builds for x86-64, so its
    absence there is a failure, not a skip; a CPU without AVX2 cannot run it."""
    if not X86_64:
        pytest.skip("the AVX2 build exists on x86-64 only")
    from chainrule.engine import native_avx2

    if not native.cpu_has_avx2():
        pytest.skip("this CPU has no AVX2 and FMA")
    return native_avx2


def test_the_compiled_side_runs_the_avx2_build_where_the_cpu_has_it():
    expected = avx2_build() if X86_64 and native.cpu_has_avx2() else native
    assert compiled.native is expected


def test_cpu_has_avx2_is_what_the_cpu_says():
    if not X86_64:
        assert native.cpu_has_avx2() is False
        return
    with open("/proc/cpuinfo") as f:
        flags = next(line for line in f if line.startswith("flags")).split()
    assert native.cpu_has_avx2() == ("avx2" in flags and "fma" in flags)


#: fits that together pass through every kernel: each hidden activation, each output layer and
#: cost, each update rule, both penalties, dropout, decoupled weight decay, clipping, sample
#: weights, L-BFGS's full-batch cost and gradient
FITS = {
    "relu adam, L2": (MLPClassifier, dict(hidden_layer_sizes=(9, 5), alpha=0.01)),
    "tanh nesterov, L1": (
        MLPClassifier,
        dict(hidden_layer_sizes=(7,), activation="tanh", solver="sgd", alpha=0.1, l1_ratio=0.5),
    ),
    "logistic momentum, clipped": (
        MLPClassifier,
        dict(
            hidden_layer_sizes=(7,),
            activation="logistic",
            solver="sgd",
            nesterovs_momentum=False,
            max_grad_norm=0.5,
        ),
    ),
    "elu adam, dropout, weight decay": (
        MLPClassifier,
        dict(hidden_layer_sizes=(12,), activation="elu", dropout=0.3, weight_decay=0.01),
    ),
    "softplus binary": (MLPClassifier, dict(hidden_layer_sizes=(6,), activation="softplus")),
    "identity lbfgs": (
        MLPClassifier,
        dict(hidden_layer_sizes=(5,), activation="identity", solver="lbfgs"),
    ),
    "relu regression, squared error": (MLPRegressor, dict(hidden_layer_sizes=(8,))),
    "tanh regression, lbfgs": (
        MLPRegressor,
        dict(hidden_layer_sizes=(8,), activation="tanh", solver="lbfgs"),
    ),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(FITS))
def test_both_builds_fit_the_same_bits(name, dtype, monkeypatch):
    """No fused multiply-adds and no reordered sums (-ffp-contract=off, no fast-math): wider
    vectors change how many values one instruction computes, not how each is rounded."""
    avx2 = avx2_build()
    cls, params = FITS[name]
    rng = np.random.default_rng(0)
    X = rng.normal(size=(203, 6)).astype(dtype)
    target = X[:, 0] - X[:, 1] * X[:, 2] + 0.3 * rng.normal(size=len(X))
    y = target if cls is MLPRegressor else (target > 0).astype(int) + (X[:, 3] > 1)
    if name == "softplus binary":
        y = (target > 0).astype(int)
    sw = rng.uniform(0.5, 2.0, size=len(X))
    models = []
    for build in (native, avx2):
        monkeypatch.setattr(compiled, "native", build)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = cls(batch_size=32, max_iter=6, random_state=0, **params)
            models.append(model.fit(X, y, sample_weight=sw))
        out = model.predict_proba(X) if cls is MLPClassifier else model.predict(X)
        models[-1] = (model.network_.theta.tobytes(), model.loss_curve_, out.tobytes())
    assert models[0] == models[1]
