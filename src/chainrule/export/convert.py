"""``to_onnx``: a fitted chainrule model as an ONNX graph, converted as skl2onnx converts
scikit-learn's MLP."""

from __future__ import annotations

from numbers import Integral

import numpy as np
import onnx
import skl2onnx

from chainrule.estimators import Standardized
from chainrule.export.describe import n_features
from chainrule.export.nodes import MIN_OPSET
from chainrule.export.skl2onnx_support import TENSOR_TYPES, register_skl2onnx

#: the opset of the graph when ``target_opset`` is not given (onnxruntime 1.13 and later)
DEFAULT_OPSET = 17


def to_onnx(
    model,
    X_sample=None,
    *,
    options: dict | None = None,
    target_opset: int | None = None,
    name: str = "chainrule",
) -> onnx.ModelProto:
    """A fitted :class:`~chainrule.MLPClassifier`, :class:`~chainrule.MLPRegressor` or
    :class:`~chainrule.estimators.Standardized` as an ONNX model, as skl2onnx converts
    scikit-learn's MLP.

    The graph computes ``z^m = a^(m-1) W^m + b^m`` and ``a^m = sigma^m(z^m)`` layer by layer.
    Its input ``X`` has shape ``(n_samples, n_features_in_)``. The outputs are skl2onnx's: a
    classifier's ``output_label`` (as :meth:`predict`) and ``output_probability`` (as
    :meth:`predict_proba`, one ``{class: probability}`` map per row), or with
    ``options={"zipmap": False}`` the tensors ``label`` and ``probabilities``; a regressor's
    ``variable``, of shape ``(n_samples, n_outputs_)``. A model fitted on torch or CuPy arrays
    converts as well.

    Parameters
    ----------
    model : fitted chainrule estimator
    X_sample : array-like, optional
        A few rows of input. Its dtype becomes the input's (float32, float64, or for other
        dtypes the model's); without it the input has the model's dtype (float64 for a
        ``Standardized`` model). The graph computes in the input's precision, as skl2onnx's
        MLP converter does: a float64 model given float32 input answers in float32.
    options : dict, optional
        skl2onnx's options of a classifier: ``zipmap`` (``True``, ``False`` or
        ``"columns"``), ``output_class_labels`` and ``nocl``.
    target_opset : int, optional
        The ONNX opset (13 or later; default 17).
    name : str, default="chainrule"
        The graph's name.

    Returns
    -------
    onnx.ModelProto

    Examples
    --------
    >>> import numpy as np, chainrule as cr
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    >>> clf = cr.MLPClassifier((4,), solver="lbfgs", random_state=0).fit(X, [0, 1, 1, 0])
    >>> graph = to_onnx(clf, X.astype(np.float32), options={"zipmap": False})
    >>> [output.name for output in graph.graph.output]
    ['label', 'probabilities']
    """
    features = n_features(model)  # checks the model
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
    register_skl2onnx()
    input_type = TENSOR_TYPES[_input_dtype(model, X_sample, features)]([None, features])
    onnx_model = skl2onnx.to_onnx(
        model, initial_types=[("X", input_type)], target_opset=opset, options=options, name=name
    )
    onnx_model.producer_name = "chainrule"
    onnx.checker.check_model(onnx_model)
    return onnx_model


def _input_dtype(model, X_sample, features: int) -> np.dtype:
    """``X_sample``'s dtype if it is float32 or float64, else the model's (float64 for a
    ``Standardized`` model, whose scaling is float64)."""
    scaled = isinstance(model, Standardized)
    own = np.dtype(np.float64) if scaled else np.dtype(model.network_.dtype)
    if X_sample is None:
        return own
    X = np.asarray(X_sample)
    if X.ndim != 2 or X.shape[1] != features:
        raise ValueError(
            f"X_sample has shape {X.shape}; the model takes rows of {features} features"
        )
    return X.dtype if X.dtype in (np.float32, np.float64) else own
