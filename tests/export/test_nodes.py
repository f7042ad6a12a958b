"""The ONNX graph's dtypes (:mod:`chainrule.export.nodes`), as skl2onnx's MLP converter gives
them: the labels' and the precision the graph computes in."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.export.describe import MLPSpec
from chainrule.export.nodes import compute_dtype, label_dtype


@pytest.mark.parametrize(
    ("classes", "nocl", "dtype"),
    [
        ([0, 1, 2], False, np.int64),
        ([False, True], False, np.int64),
        ([0.0, 1.0], False, np.int64),
        (["a", "b"], False, np.dtype(str)),
        (np.array(["a", 1], dtype=object), False, np.dtype(str)),
        (["a", "b"], True, np.int64),
    ],
)
def test_the_labels_dtype(classes, nocl, dtype):
    assert label_dtype(np.asarray(classes), nocl) == dtype


@pytest.mark.parametrize("model_dtype", [np.float32, np.float64])
def test_the_graph_computes_in_the_inputs_float_precision_else_the_models(model_dtype):
    spec = MLPSpec([np.zeros((3, 2), model_dtype)], [np.zeros(2, model_dtype)], [], "regressor")
    assert compute_dtype(spec, np.float32) == np.float32
    assert compute_dtype(spec, np.float64) == np.float64
    assert compute_dtype(spec, np.int64) == model_dtype
