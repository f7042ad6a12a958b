"""chainrule's estimators as skl2onnx operators, with the outputs and options of skl2onnx's own
MLP converter.

After :func:`register_skl2onnx`, ``skl2onnx.to_onnx`` converts :class:`~chainrule.MLPClassifier`,
:class:`~chainrule.MLPRegressor` and :class:`~chainrule.estimators.Standardized`, alone or inside a
:class:`~sklearn.pipeline.Pipeline`. A classifier takes skl2onnx's classifier options:

- ``zipmap`` (``True``, the default): the outputs ``output_label`` and ``output_probability``, a
  sequence of ``{class: probability}`` maps (float32, ZipMap's only type); ``"columns"``: one
  output per class; ``False``: the tensors ``label`` and ``probabilities``.
- ``output_class_labels`` (with ``zipmap=False``): a third output, ``class_labels``.
- ``nocl``: the class indices ``0 .. n_classes - 1`` in place of the class labels.

A regressor's output is ``variable``, of shape ``(n_samples, n_outputs_)``.
"""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, numpy_helper
from onnx.helper import np_dtype_to_tensor_dtype, tensor_dtype_to_np_dtype
from skl2onnx import get_model_alias, update_registered_converter

# skl2onnx's own ZipMap step after a classifier (the one its custom-converter examples use)
from skl2onnx._parse import _apply_zipmap
from skl2onnx.common.data_types import (
    DoubleTensorType,
    FloatTensorType,
    Int64TensorType,
    StringTensorType,
)

from chainrule.estimators import MLPClassifier, MLPRegressor, Standardized
from chainrule.export.describe import MLPSpec, describe
from chainrule.export.nodes import MIN_OPSET, compute_dtype, label_dtype, write_mlp

#: skl2onnx tensor types by numpy dtype
TENSOR_TYPES = {
    np.dtype(np.float32): FloatTensorType,
    np.dtype(np.float64): DoubleTensorType,
    np.dtype(np.int64): Int64TensorType,
    np.dtype(str): StringTensorType,
}

#: the options of skl2onnx's MLP converter, with the values it allows (the first the default)
CLASSIFIER_OPTIONS = {
    "zipmap": [True, False, "columns"],
    "output_class_labels": [False, True],
    "nocl": [False, True],
}


def register_skl2onnx() -> None:
    """Register chainrule's parsers, shape calculators and converters with skl2onnx."""
    update_registered_converter(
        MLPClassifier,
        "ChainruleMLPClassifier",
        calculate_shapes,
        convert,
        parser=parse_classifier,
        options=CLASSIFIER_OPTIONS,
    )
    update_registered_converter(
        MLPRegressor, "ChainruleMLPRegressor", calculate_shapes, convert, parser=parse_regressor
    )
    update_registered_converter(
        Standardized,
        "ChainruleStandardized",
        calculate_scaled_shape,
        convert_scaling,
        parser=parse_standardized,
        options=CLASSIFIER_OPTIONS,
    )


def _options(scope, model) -> dict:
    defaults = {name: values[0] for name, values in CLASSIFIER_OPTIONS.items()}
    return scope.get_options(model, defaults)


def _input_dtype(variable) -> np.dtype:
    return np.dtype(tensor_dtype_to_np_dtype(variable.type.to_onnx_type().tensor_type.elem_type))


def parse_classifier(scope, model, inputs, custom_parsers=None):
    """Declare the operator and the outputs that skl2onnx's MLP converter gives for
    ``options``."""
    options = _options(scope, model)
    zipmap = options["zipmap"]
    if zipmap is not False and options["output_class_labels"]:
        raise RuntimeError("Option 'output_class_labels' is not compatible with option 'zipmap'.")
    spec = describe(model)
    values = compute_dtype(spec, _input_dtype(inputs[0]))
    if zipmap is not False:  # ZipMap's maps hold float32 probabilities only
        values = np.dtype(np.float32)
    label = TENSOR_TYPES[label_dtype(spec.classes, options["nocl"])]
    operator = scope.declare_local_operator(get_model_alias(type(model)), model)
    operator.inputs = inputs
    names = [("label", label), ("probabilities", TENSOR_TYPES[values])]
    if options["output_class_labels"]:
        names.append(("class_labels", label))
    for name, tensor_type in names:
        operator.outputs.append(scope.declare_local_variable(name, tensor_type()))
    if zipmap is False:
        return operator.outputs
    return _apply_zipmap(zipmap, scope, model, FloatTensorType(), operator.outputs)


def parse_regressor(scope, model, inputs, custom_parsers=None):
    """Declare the operator and its output ``variable``."""
    values = compute_dtype(describe(model), _input_dtype(inputs[0]))
    operator = scope.declare_local_operator(get_model_alias(type(model)), model)
    operator.inputs = inputs
    operator.outputs.append(scope.declare_local_variable("variable", TENSOR_TYPES[values]()))
    return operator.outputs


def parse_standardized(scope, model, inputs, custom_parsers=None):
    """The scaling ``x' = (x - mean) / scale``, then its model's operator, which gets the
    options given for the :class:`~chainrule.estimators.Standardized` model."""
    options = scope.get_options(model)
    if options:
        scope.add_options(id(model.model), options)
    dtype = compute_dtype(describe(model.model), _input_dtype(inputs[0]))
    operator = scope.declare_local_operator(get_model_alias(type(model)), model)
    operator.inputs = inputs
    operator.outputs.append(scope.declare_local_variable("scaled", TENSOR_TYPES[dtype]()))
    parse = parse_classifier if isinstance(model.model, MLPClassifier) else parse_regressor
    return parse(scope, model.model, operator.outputs, custom_parsers)


def calculate_shapes(operator) -> None:
    """``(N, n_outputs)`` values; a ``(N,)`` label (``(N, n_labels)`` for multilabel); the
    class labels ``(n_classes,)``."""
    spec = describe(operator.raw_operator)
    n = operator.inputs[0].get_first_dimension()
    if spec.kind == "regressor":
        operator.outputs[0].type.shape = [n, spec.n_outputs]
        return
    label, values, *class_labels = operator.outputs
    label.type.shape = [n, spec.n_outputs] if spec.kind == "multilabel" else [n]
    values.type.shape = [n, spec.n_outputs]
    for output in class_labels:
        output.type.shape = [len(spec.classes)]


def calculate_scaled_shape(operator) -> None:
    operator.outputs[0].type.shape = list(operator.inputs[0].type.shape)


def convert(scope, operator, container) -> None:
    """Write the network's nodes into skl2onnx's container."""
    _check_opset(container)
    spec: MLPSpec = describe(operator.raw_operator)
    outputs = [output.full_name for output in operator.outputs]
    writer, X = ContainerWriter(scope, container), operator.inputs[0]
    if spec.kind == "regressor":
        write_mlp(spec, writer, X.full_name, _input_dtype(X), outputs)
        return
    nocl = _options(scope, operator.raw_operator)["nocl"]
    values = _input_dtype(operator.outputs[1])  # float32 before a ZipMap
    write_mlp(spec, writer, X.full_name, _input_dtype(X), outputs, values, nocl)


def convert_scaling(scope, operator, container) -> None:
    """``x' = (x - mean) / scale`` in float64, as :class:`~chainrule.estimators.Standardized`
    computes it, then cast to the precision the network computes in."""
    _check_opset(container)
    model = operator.raw_operator
    g = ContainerWriter(scope, container)
    X, scaled = operator.inputs[0], operator.outputs[0]
    X64 = g.node("Cast", [X.full_name], "X64", to=TensorProto.DOUBLE)
    centred = g.node("Sub", [X64, g.constant("mean", np.asarray(model.mean, np.float64))], "xc")
    out_type = np_dtype_to_tensor_dtype(_input_dtype(scaled))
    scale = g.constant("scale", np.asarray(model.scale, np.float64))
    g.node(
        "Cast", [g.node("Div", [centred, scale], "x64")], "scaled", scaled.full_name, to=out_type
    )


def _check_opset(container) -> None:
    if container.target_opset < MIN_OPSET:
        raise RuntimeError(
            f"chainrule's ONNX converter needs opset {MIN_OPSET} or later; "
            f"got target_opset={container.target_opset}"
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
