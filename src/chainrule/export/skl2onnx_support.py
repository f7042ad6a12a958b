"""chainrule's MLPClassifier and MLPRegressor as skl2onnx operators.

After :func:`register_skl2onnx`, ``skl2onnx.to_onnx`` converts them alone or inside a
:class:`~sklearn.pipeline.Pipeline`. A classifier's operator has the outputs ``label`` and
``probabilities`` (a tensor, no ZipMap), a regressor's ``variable``, as in
:func:`~chainrule.export.to_onnx`.
"""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, numpy_helper
from onnx.helper import tensor_dtype_to_np_dtype
from skl2onnx import get_model_alias, update_registered_converter
from skl2onnx.common.data_types import (
    DoubleTensorType,
    FloatTensorType,
    Int64TensorType,
    StringTensorType,
)

from chainrule.estimators import MLPClassifier, MLPRegressor
from chainrule.export.describe import describe
from chainrule.export.nodes import MIN_OPSET, label_dtype, write_mlp

#: skl2onnx tensor types by numpy dtype kind and size
_TENSOR_TYPES = {
    np.dtype(np.float32): FloatTensorType,
    np.dtype(np.float64): DoubleTensorType,
    np.dtype(np.int64): Int64TensorType,
    np.dtype(str): StringTensorType,
}


def register_skl2onnx() -> None:
    """Register chainrule's parser, shape calculator and converter with skl2onnx."""
    for cls in (MLPClassifier, MLPRegressor):
        update_registered_converter(
            cls, f"Chainrule{cls.__name__}", calculate_shapes, convert, parser=parse
        )


def parse(scope, model, inputs, custom_parsers=None):
    """Declare the operator and its outputs, typed by the model's dtype and classes."""
    spec = describe(model)
    operator = scope.declare_local_operator(get_model_alias(type(model)), model)
    operator.inputs = inputs
    values = _TENSOR_TYPES[spec.dtype]()
    if spec.kind == "regressor":
        operator.outputs.append(scope.declare_local_variable("variable", values))
        return operator.outputs
    label_type = Int64TensorType() if spec.kind == "multilabel" else _label_type(spec.classes)
    operator.outputs.append(scope.declare_local_variable("label", label_type))
    operator.outputs.append(scope.declare_local_variable("probabilities", values))
    return operator.outputs


def _label_type(classes):
    return _TENSOR_TYPES[label_dtype(classes)]()


def calculate_shapes(operator) -> None:
    """``(N, n_outputs)`` values; a ``(N,)`` label (``(N, n_labels)`` for multilabel)."""
    spec = describe(operator.raw_operator)
    n = operator.inputs[0].get_first_dimension()
    operator.outputs[-1].type.shape = [n, spec.n_outputs]
    if spec.kind != "regressor":
        operator.outputs[0].type.shape = [n, spec.n_outputs] if spec.kind == "multilabel" else [n]


def convert(scope, operator, container) -> None:
    """Write the network's nodes into skl2onnx's container."""
    if container.target_opset < MIN_OPSET:
        raise RuntimeError(
            f"chainrule's ONNX converter needs opset {MIN_OPSET} or later; "
            f"got target_opset={container.target_opset}"
        )
    spec = describe(operator.raw_operator)
    X = operator.inputs[0]
    input_dtype = tensor_dtype_to_np_dtype(X.type.to_onnx_type().tensor_type.elem_type)
    writer = ContainerWriter(scope, container)
    write_mlp(
        spec,
        writer,
        X.full_name,
        input_dtype,
        [output.full_name for output in operator.outputs],
    )


class ContainerWriter:
    """A :class:`~chainrule.export.nodes.GraphWriter` over skl2onnx's scope and container."""

    def __init__(self, scope, container) -> None:
        self.scope = scope
        self.container = container

    def constant(self, hint: str, value: np.ndarray) -> str:
        name = self.scope.get_unique_variable_name(hint)
        value = np.asarray(value)
        if value.dtype.kind == "U":  # strings travel as a list, not as raw bytes
            self.container.add_initializer(
                name, TensorProto.STRING, list(value.shape), value.tolist()
            )
        else:
            self.container.add_initializer(name, None, None, numpy_helper.from_array(value))
        return name

    def node(self, op_type, inputs, hint, output=None, **attrs) -> str:
        output = output or self.scope.get_unique_variable_name(hint)
        name = self.scope.get_unique_operator_name(f"{op_type}_{hint}")
        self.container.add_node(op_type, inputs, [output], name=name, **attrs)
        return output
