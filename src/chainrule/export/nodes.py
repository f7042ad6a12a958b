"""The forward pass of an :class:`~chainrule.export.describe.MLPSpec` as ONNX operators.

Each layer computes ``z^m = a^(m-1) W^m + b^m`` (rows are samples, ``W^m`` as ``coefs_``) and
``a^m = sigma^m(z^m)``; a classifier then turns ``a^L`` into probabilities and a label as
:meth:`~chainrule.MLPClassifier.predict_proba` and :meth:`~chainrule.MLPClassifier.predict` do.
:func:`write_mlp` writes the nodes through a :class:`GraphWriter`; skl2onnx's container is the one
:func:`~chainrule.export.to_onnx` and ``skl2onnx.to_onnx`` use.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from onnx import TensorProto
from onnx.helper import np_dtype_to_tensor_dtype

from chainrule.export.describe import MLPSpec

#: the oldest opset the graph is written for (Softmax over one axis, GreaterOrEqual)
MIN_OPSET = 13

#: the slope of chainrule's built-in leaky_relu, ``a = z`` for ``z >= 0``, ``slope z`` otherwise
LEAKY_RELU_SLOPE = 0.01


class GraphWriter(Protocol):
    """Where nodes and constants go; each call returns the name of the tensor it made."""

    def constant(self, hint: str, value: np.ndarray) -> str: ...

    def node(
        self, op_type: str, inputs: list[str], hint: str, output: str | None = None, **attrs
    ) -> str: ...


def label_dtype(classes: np.ndarray, nocl: bool = False) -> np.dtype:
    """The dtype of the ``label`` output, as skl2onnx's MLP converter gives it: int64 for
    integer, bool and float labels (a classifier's float labels are integers) and for the class
    indices that ``nocl`` gives, str for strings and objects."""
    if nocl or np.asarray(classes).dtype.kind in "biuf":
        return np.dtype(np.int64)
    return np.dtype(str)


def compute_dtype(spec: MLPSpec, input_dtype: np.dtype) -> np.dtype:
    """The precision the graph computes in: the input's when it is float32 or float64 (as
    skl2onnx's MLP converter: a float64 model given float32 input computes and answers in
    float32), the model's for any other input."""
    input_dtype = np.dtype(input_dtype)
    return input_dtype if input_dtype in (np.float32, np.float64) else spec.dtype


def write_mlp(
    spec: MLPSpec,
    g: GraphWriter,
    X: str,
    input_dtype: np.dtype,
    outputs: list[str],
    values_dtype: np.dtype | None = None,
    nocl: bool = False,
) -> None:
    """Write the nodes from the input ``X`` (of ``input_dtype``) to ``outputs``: the predictions
    of a regressor; the label, the probabilities (in ``values_dtype``, by default the computing
    precision) and optionally the class labels of a classifier (the class indices with
    ``nocl``)."""
    dtype = compute_dtype(spec, input_dtype)
    a = _cast(g, X, np.dtype(input_dtype), dtype, "a0")
    n_layers = len(spec.coefs)
    for m, (W, b) in enumerate(zip(spec.coefs, spec.intercepts, strict=True), start=1):
        # z^m = a^(m-1) W^m + b^m
        zW = g.node("MatMul", [a, g.constant(f"W{m}", W.astype(dtype))], f"zW{m}")
        z = g.node("Add", [zW, g.constant(f"b{m}", b.astype(dtype))], f"z{m}")
        if m == n_layers:
            break
        a = _activation(spec.activations[m - 1], g, z, dtype, f"a{m}")  # a^m = sigma^m(z^m)
    output = spec.activations[-1]
    if spec.kind == "regressor":
        _activation(output, g, z, dtype, "aL", outputs[0])
        return
    label, probabilities, *class_labels = outputs
    aL = _activation(output, g, z, dtype, "aL")
    values_dtype = dtype if values_dtype is None else np.dtype(values_dtype)
    proba = probabilities if values_dtype == dtype else None
    if spec.kind == "binary":
        # [1 - a, a]; a sigmoid's first column is sigmoid(-beta z), which keeps its digits
        if output["name"] == "sigmoid":
            minus_z = g.node("Neg", [_scaled_logits(output, g, z, dtype)], "minus_z")
            first = g.node("Sigmoid", [minus_z], "p0")
        else:
            first = g.node("Sub", [g.constant("one", np.ones(1, dtype)), aL], "p0")
        proba = g.node("Concat", [first, aL], "proba", proba, axis=1)
    else:
        proba = g.node("Identity", [aL], "proba", proba)
    if proba != probabilities:  # ZipMap takes float32 only
        g.node("Cast", [proba], "proba32", probabilities, to=np_dtype_to_tensor_dtype(values_dtype))
    classes = np.arange(len(spec.classes)) if nocl else spec.classes
    classes = np.asarray(classes).astype(label_dtype(classes))
    _label(spec, g, aL, label, classes, dtype)
    for name in class_labels:
        g.node("Identity", [g.constant("classes", classes)], "class_labels", name)


def _cast(g: GraphWriter, x: str, dtype: np.dtype, to: np.dtype, hint: str) -> str:
    if dtype == to:
        return x
    return g.node("Cast", [x], hint, to=np_dtype_to_tensor_dtype(to))


def _scaled_logits(config: dict, g: GraphWriter, z: str, dtype: np.dtype) -> str:
    """``beta z`` for a sigmoid of slope ``beta``, ``z`` otherwise."""
    beta = config.get("beta", 1.0)
    if beta == 1.0:
        return z
    return g.node("Mul", [z, g.constant("beta", np.array([beta], dtype))], "beta_z")


def _activation(
    config: dict, g: GraphWriter, z: str, dtype: np.dtype, hint: str, output: str | None = None
) -> str:
    """``a = sigma(z)`` for the built-in activation that ``config`` names."""
    name = config["name"]
    if name == "sigmoid":  # a = 1 / (1 + exp(-beta z))
        return g.node("Sigmoid", [_scaled_logits(config, g, z, dtype)], hint, output)
    if name == "leaky_relu":  # a = z for z >= 0, slope z otherwise
        slope = g.constant("slope", np.array([LEAKY_RELU_SLOPE], dtype))
        positive = g.node(
            "GreaterOrEqual", [z, g.constant("zero", np.zeros(1, dtype))], f"{hint}_pos"
        )
        return g.node(
            "Where", [positive, z, g.node("Mul", [z, slope], f"{hint}_neg")], hint, output
        )
    if name == "elu":  # a = z for z > 0, exp(z) - 1 otherwise (onnxruntime has no float64 Elu)
        zero, one = g.constant("zero", np.zeros(1, dtype)), g.constant("one", np.ones(1, dtype))
        exp = g.node("Exp", [g.node("Min", [z, zero], f"{hint}_min")], f"{hint}_exp")
        positive = g.node("Greater", [z, zero], f"{hint}_pos")
        return g.node(
            "Where", [positive, z, g.node("Sub", [exp, one], f"{hint}_em1")], hint, output
        )
    if name == "softplus":  # a = log(1 + exp(z)) = max(z, 0) + log(1 + exp(-|z|))
        minus_abs = g.node("Neg", [g.node("Abs", [z], f"{hint}_abs")], f"{hint}_nabs")
        one = g.constant("one", np.ones(1, dtype))
        tail = g.node("Add", [one, g.node("Exp", [minus_abs], f"{hint}_exp")], f"{hint}_1pe")
        log = g.node("Log", [tail], f"{hint}_log")
        return g.node("Add", [g.node("Relu", [z], f"{hint}_relu"), log], hint, output)
    if name == "exponential":  # a = exp(z), z capped where exp would overflow
        cap = g.constant("cap", np.array([np.log(np.finfo(dtype).max) / 2], dtype))
        return g.node("Exp", [g.node("Min", [z, cap], f"{hint}_min")], hint, output)
    if name == "softmax":  # a_k = exp(z_k) / sum_j exp(z_j)
        return g.node("Softmax", [z], hint, output, axis=1)
    ops = {"tanh": "Tanh", "relu": "Relu", "identity": "Identity"}
    return g.node(ops[name], [z], hint, output)


def _label(
    spec: MLPSpec, g: GraphWriter, aL: str, label: str, classes: np.ndarray, dtype: np.dtype
) -> None:
    """``predict``: the most probable class, or (binary, multilabel) each output above 0.5."""
    if spec.kind == "multiclass":
        index = g.node("ArgMax", [aL], "index", axis=1, keepdims=0)
    else:
        above = g.node("Greater", [aL, g.constant("half", np.array([0.5], dtype))], "above")
        if spec.kind == "multilabel":  # the 0/1 indicator matrix
            g.node("Cast", [above], "label", label, to=TensorProto.INT64)
            return
        flat = g.node("Reshape", [above, g.constant("flat", np.array([-1], np.int64))], "flat")
        index = g.node("Cast", [flat], "index", to=TensorProto.INT64)
    g.node("Gather", [g.constant("classes", classes), index], "label", label, axis=0)
