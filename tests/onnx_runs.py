"""What the ONNX tests share (tests/export/, tests/cli/test_export.py): models fitted briefly,
run in onnxruntime, and compared within a derived tolerance."""

from __future__ import annotations

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")

DTYPES = ["float32", "float64"]


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
