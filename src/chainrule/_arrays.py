"""Arrays of any array-API namespace: NumPy, torch (CPU, CUDA, MPS), CuPy, array_api_strict.

chainrule computes in the namespace and on the device of its input (scikit-learn's rule with
``array_api_dispatch=True``: everything follows ``X``). The helpers here are the plumbing:
which namespace an array belongs to (:func:`namespace`, NumPy itself for NumPy arrays, without
array-api-compat's lookup, so the NumPy path pays nothing), copies to the host
(:func:`to_numpy`) and back (:func:`move`), dtypes by name, and the few functions of scipy the
equations use, written for any namespace (:func:`sigmoid`, :func:`log_sigmoid`,
:func:`softplus`, :func:`logsumexp`, :func:`log_softmax`, :func:`xlogy`): scipy's own on NumPy
arrays, the same formulas in ``xp`` elsewhere.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
from array_api_compat import (
    array_namespace,
    is_array_api_obj,
    is_cupy_array,
    is_numpy_namespace,
    is_torch_array,
    is_writeable_array,
)
from array_api_compat import device as array_device
from scipy import special
from scipy.sparse import issparse
from sklearn import get_config

__all__ = [
    "copy",
    "device",
    "device_namespace",
    "dispatch_namespace",
    "float_dtype",
    "float_dtypes",
    "has_float64",
    "is_numpy",
    "largest",
    "log_sigmoid",
    "log_softmax",
    "logsumexp",
    "move",
    "namespace",
    "numpy_dtype",
    "reshape",
    "same_place",
    "sigmoid",
    "softplus",
    "take_rows",
    "to_numpy",
    "total",
    "where_scalars",
    "xlogy",
]

Array = Any
_NUMPY_TYPES = (np.ndarray, np.generic)


def is_numpy(a: Any) -> bool:
    """Whether ``a`` is a NumPy array (or scalar), the namespace of the compiled backend."""
    return isinstance(a, _NUMPY_TYPES)


def namespace(*arrays: Array) -> ModuleType:
    """The namespace ``xp`` of ``arrays``: :mod:`numpy` itself for NumPy arrays (and scipy
    sparse matrices), else array-api-compat's (``array_namespace``)."""
    for a in arrays:
        if type(a) is not np.ndarray and not isinstance(a, _NUMPY_TYPES) and not issparse(a):
            return array_namespace(*(a for a in arrays if not issparse(a)))
    return np


def device(a: Array) -> Any:
    """The device ``a`` lives on (``"cpu"`` for NumPy)."""
    return "cpu" if is_numpy(a) else array_device(a)


def same_place(a: Array, b: Array) -> bool:
    """Whether ``a`` and ``b`` are arrays of one namespace, on one device."""
    if is_numpy(a) or is_numpy(b):
        return is_numpy(a) and is_numpy(b)
    return array_namespace(a) is array_namespace(b) and array_device(a) == array_device(b)


def dispatch_namespace(X: Any) -> tuple[ModuleType, Any]:
    """``(xp, device)`` that a fit or prediction on ``X`` computes in: NumPy on the CPU, unless
    scikit-learn's ``array_api_dispatch`` is on and ``X`` is an array of another namespace."""
    if not get_config().get("array_api_dispatch", False):
        return np, "cpu"
    if is_numpy(X) or issparse(X) or not is_array_api_obj(X):
        return np, "cpu"
    if not getattr(array_namespace(X), "__array_api_version__", None):
        return np, "cpu"
    if not is_writeable_array(X):  # JAX
        raise TypeError(
            f"chainrule updates its weights in place, which {type(X).__module__} arrays do not "
            "allow; pass NumPy arrays or torch tensors"
        )
    return array_namespace(X), array_device(X)


def device_namespace(where: Any) -> tuple[ModuleType, Any]:
    """``(xp, device)`` for a torch device (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` or a
    ``torch.device``), or a clear error when torch or the device is missing."""
    try:
        import torch
    except ImportError:
        raise ValueError(f"device {str(where)!r} needs torch (pip install torch)") from None
    try:
        where = torch.device(where)
        probe = torch.empty(0, device=where)
    except (RuntimeError, TypeError, AssertionError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(f"device {str(where)!r} is not available: {first}") from None
    return array_namespace(probe), probe.device


def to_numpy(a: Array) -> np.ndarray:
    """``a`` as a NumPy array on the host (``a`` itself when it is one already)."""
    if type(a) is np.ndarray:
        return a
    if is_numpy(a) or not is_array_api_obj(a):
        return np.asarray(a)
    if is_torch_array(a):
        return a.detach().cpu().numpy()
    if is_cupy_array(a):
        return a.get()
    return np.from_dlpack(a)  # array_api_strict and others, on any of their devices


def has_float64(xp: ModuleType, where: Any) -> bool:
    """Whether ``xp`` has float64 on device ``where`` (not on Apple's MPS, for one)."""
    if xp is np:
        return True
    info = xp.__array_namespace_info__()
    return "float64" in info.dtypes(kind="real floating", device=where)


def float_dtype(xp: ModuleType, name: Any, where: Any = None) -> Any:
    """The float dtype of ``xp`` named ``name`` (``"float32"``, ``"float64"`` or a NumPy dtype)."""
    name = np.dtype(name).name if not isinstance(name, str) else name
    if xp is np:
        return np.dtype(name)
    if name == "float64" and not has_float64(xp, where):
        raise ValueError(f"dtype='float64' is not available on {where}; use dtype='float32'")
    return getattr(xp, name)


def float_dtypes(xp: ModuleType, where: Any = None) -> tuple:
    """The float dtypes of ``xp`` on device ``where``, widest first: what input is validated to
    (float32 stays float32, anything else becomes the widest)."""
    if xp is np:
        return (np.float64, np.float32)
    names = ("float64", "float32") if has_float64(xp, where) else ("float32",)
    return tuple(getattr(xp, name) for name in names)


def numpy_dtype(dtype: Any) -> np.dtype:
    """The NumPy dtype of the same name as ``dtype`` (a dtype of any namespace)."""
    try:
        return np.dtype(dtype)
    except TypeError:
        return np.dtype(str(dtype).rsplit(".", 1)[-1])  # torch.float32, array_api_strict.int64


def move(a: Array, xp: ModuleType, where: Any) -> Array:
    """``a`` as an array of namespace ``xp`` on device ``where``, keeping its dtype (float64
    becomes float32 on a device without it); ``a`` itself when it is there already. Labels that
    no namespace but NumPy holds (strings, objects) stay NumPy; None stays None."""
    if a is None or (xp is np and is_numpy(a)):
        return a
    if not is_numpy(a) and not is_array_api_obj(a):
        a = np.asarray(a)
    if xp is np or is_numpy_namespace(xp) or (is_numpy(a) and a.dtype.kind not in "biuf"):
        return to_numpy(a)
    target = xp.empty(0, device=where)
    if not is_numpy(a) and same_place(a, target):
        return a
    xp = array_namespace(target)  # array-api-compat's wrapper of a bare torch or cupy
    host = to_numpy(a)
    if host.dtype == np.float64 and not has_float64(xp, where):
        host = host.astype(np.float32)
    return xp.asarray(np.ascontiguousarray(host), device=where)


def copy(a: Array) -> Array:
    """An independent copy of ``a``, in its namespace and on its device."""
    if type(a) is np.ndarray or is_numpy(a):  # NumPy first, at no call's cost
        return a.copy()
    return array_namespace(a).asarray(a, copy=True)


def total(a: Array, axis: int, keepdims: bool = False) -> Array:
    """The sum of ``a`` along ``axis`` (NumPy's method, which costs less than ``np.sum``)."""
    if type(a) is np.ndarray or is_numpy(a):
        return a.sum(axis=axis, keepdims=keepdims)
    return array_namespace(a).sum(a, axis=axis, keepdims=keepdims)


def largest(a: Array, axis: int, keepdims: bool = False) -> Array:
    """The maximum of ``a`` along ``axis``."""
    if type(a) is np.ndarray or is_numpy(a):
        return a.max(axis=axis, keepdims=keepdims)
    return array_namespace(a).max(a, axis=axis, keepdims=keepdims)


def reshape(a: Array, shape: tuple[int, ...]) -> Array:
    """``a`` viewed with ``shape`` (an error rather than a silent copy where no view exists)."""
    if type(a) is np.ndarray or is_numpy(a):
        return a.reshape(shape)
    return array_namespace(a).reshape(a, shape, copy=False)


def take_rows(a: Array, rows: np.ndarray) -> Array:
    """The rows ``rows`` (NumPy indices) of ``a``, in ``a``'s namespace and on its device."""
    if is_numpy(a) or issparse(a):
        return a[rows]
    xp = array_namespace(a)
    return xp.take(a, xp.asarray(rows, device=array_device(a)), axis=0)


def where_scalars(condition: Array, if_true: float, if_false: float, like: Array) -> Array:
    """``if_true`` where ``condition`` holds, else ``if_false``, in ``like``'s dtype."""
    if is_numpy(like):
        return np.where(condition, if_true, if_false).astype(like.dtype, copy=False)
    xp = array_namespace(like)
    return xp.where(condition, xp.full_like(like, if_true), if_false)


# -- scipy's special functions, in any namespace -------------------------------------------------


def sigmoid(z: Array) -> Array:
    """``1 / (1 + exp(-z))`` without overflow (scipy's ``expit`` on NumPy arrays)."""
    if type(z) is np.ndarray or is_numpy(z):
        return special.expit(z)
    xp = array_namespace(z)
    e = xp.exp(-xp.abs(z))  # in (0, 1]: never overflows
    return xp.where(z >= 0, 1 / (1 + e), e / (1 + e))


def log_sigmoid(z: Array) -> Array:
    """``log sigmoid(z) = -log(1 + exp(-z))``, finite for any ``z``."""
    if type(z) is np.ndarray or is_numpy(z):
        return special.log_expit(z)
    return -softplus(-z)


def softplus(z: Array) -> Array:
    """``log(1 + exp(z))``, computed as ``logaddexp(0, z)`` so that it never overflows."""
    if type(z) is np.ndarray or is_numpy(z):
        return np.logaddexp(0, z)
    return array_namespace(z).logaddexp(0.0, z)


def logsumexp(z: Array, axis: int = 1) -> Array:
    """``log sum_k exp(z_k)`` along ``axis`` (kept, of size 1), shifted by the maximum."""
    if type(z) is np.ndarray or is_numpy(z):
        return special.logsumexp(z, axis=axis, keepdims=True)
    xp = array_namespace(z)
    top = xp.max(z, axis=axis, keepdims=True)
    return top + xp.log(xp.sum(xp.exp(z - top), axis=axis, keepdims=True))


def log_softmax(z: Array, axis: int = 1) -> Array:
    """``log a_k = z_k - log sum_j exp(z_j)``."""
    if type(z) is np.ndarray or is_numpy(z):
        return special.log_softmax(z, axis=axis)
    return z - logsumexp(z, axis)


def xlogy(y: Array, a: Array) -> Array:
    """``y log a``, 0 where ``y == 0`` (whatever ``a``)."""
    if type(a) is np.ndarray or is_numpy(a):
        return special.xlogy(y, a)
    xp = array_namespace(a)
    return y * xp.log(xp.where(y == 0, xp.ones_like(a), a))  # log(1) = 0 where y = 0
