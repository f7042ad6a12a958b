"""``to_onnx``: a fitted chainrule model as a standalone ONNX graph."""

from __future__ import annotations

from numbers import Integral

import numpy as np
import onnx
from onnx import helper, numpy_helper

from chainrule.export.describe import MLPSpec, describe
from chainrule.export.nodes import MIN_OPSET, label_dtype, write_mlp

#: the opset of the graph when ``target_opset`` is not given (onnxruntime 1.13 and later)
DEFAULT_OPSET = 17


class StandaloneGraph:
    """A :class:`~chainrule.export.nodes.GraphWriter` that collects nodes and initializers."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._names: set[str] = set()

    def unique(self, hint: str) -> str:
        name, i = hint, 1
        while name in self._names:
            name, i = f"{hint}_{i}", i + 1
        self._names.add(name)
        return name

    def constant(self, hint: str, value: np.ndarray) -> str:
        name = self.unique(hint)
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(self, op_type, inputs, hint, output=None, **attrs) -> str:
        output = output or self.unique(hint)
        self.nodes.append(
            helper.make_node(
                op_type, inputs, [output], name=self.unique(f"{op_type}_{hint}"), **attrs
            )
        )
        return output


def to_onnx(
    model,
    X_sample=None,
    *,
    target_opset: int | None = None,
    name: str = "chainrule",
) -> onnx.ModelProto:
    """A fitted :class:`~chainrule.MLPClassifier`, :class:`~chainrule.MLPRegressor` or
    :class:`~chainrule.estimators.Standardized` as an ONNX model.

    The graph computes ``z^m = a^(m-1) W^m + b^m`` and ``a^m = sigma^m(z^m)`` layer by layer.
    Its input ``X`` has shape ``(n_samples, n_features_in_)``. A classifier's outputs are
    ``label`` (as :meth:`predict`) and ``probabilities`` (as :meth:`predict_proba`); a
    regressor's is ``variable``, of shape ``(n_samples, n_outputs_)``.

    Parameters
    ----------
    model : fitted chainrule estimator
    X_sample : array-like, optional
        A few rows of input. Its dtype, float32 or float64, becomes the input's; without it (or
        for other dtypes) the input has the model's dtype. A float64 input on a float32 model is
        cast to float32 in the graph, as ``predict`` casts it, and the outputs stay float32.
    target_opset : int, optional
        The ONNX opset (13 or later; default 17).
    name : str, default="chainrule"
        The graph's name.

    Returns
    -------
    onnx.ModelProto
    """
    spec = describe(model)
    input_dtype = _input_dtype(spec, X_sample)
    opset = DEFAULT_OPSET if target_opset is None else target_opset
    if (
        isinstance(opset, bool)
        or not isinstance(opset, Integral)
        or not MIN_OPSET <= opset <= onnx.defs.onnx_opset_version()
    ):
        raise ValueError(
            f"target_opset={opset!r} is not supported; give an integer opset from {MIN_OPSET} to "
            f"{onnx.defs.onnx_opset_version()}"
        )
    graph = StandaloneGraph()
    outputs = ["variable"] if spec.kind == "regressor" else ["label", "probabilities"]
    for output in ["X", *outputs]:
        graph.unique(output)
    write_mlp(spec, graph, "X", input_dtype, outputs)
    proto = helper.make_graph(
        graph.nodes,
        name,
        [helper.make_tensor_value_info("X", _elem(input_dtype), [None, spec.n_features])],
        _output_infos(spec, outputs),
        graph.initializers,
    )
    onnx_model = helper.make_model_gen_version(
        proto, opset_imports=[helper.make_opsetid("", opset)], producer_name="chainrule"
    )
    onnx.checker.check_model(onnx_model)
    return onnx_model


def _elem(dtype: np.dtype) -> int:
    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def _input_dtype(spec: MLPSpec, X_sample) -> np.dtype:
    """``X_sample``'s dtype if it is float32 or float64, else the model's."""
    if X_sample is None:
        return np.dtype(np.float64) if spec.mean is not None else spec.dtype
    X = np.asarray(X_sample)
    if X.ndim != 2 or X.shape[1] != spec.n_features:
        raise ValueError(
            f"X_sample has shape {X.shape}; the model takes rows of {spec.n_features} features"
        )
    return X.dtype if X.dtype in (np.float32, np.float64) else spec.dtype


def _output_infos(spec: MLPSpec, outputs: list[str]) -> list[onnx.ValueInfoProto]:
    values = helper.make_tensor_value_info(outputs[-1], _elem(spec.dtype), [None, spec.n_outputs])
    if spec.kind == "regressor":
        return [values]
    if spec.kind == "multilabel":
        label = helper.make_tensor_value_info(
            outputs[0], onnx.TensorProto.INT64, [None, spec.n_outputs]
        )
    else:
        label = helper.make_tensor_value_info(outputs[0], _elem(label_dtype(spec.classes)), [None])
    return [label, values]
