"""Matrix products for the compiled kernels: numpy's own BLAS, called from numba code.

The products of the compiled kernels call ``cblas_sgemm`` / ``cblas_dgemm`` of the BLAS numpy
was built with, as numpy's matmul does. numba's ``np.dot`` would call scipy's, which the PyPI
wheels bundle as a second OpenBLAS with its own threads: with 2 BLAS threads, the two libraries'
idle threads spin on the same cores, and the first numpy products after a fit took 50 to 80 ms
longer. Where numpy's BLAS exports no ILP64 ``cblas_?gemm``, a stand-in on ``np.dot`` is used.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np
from llvmlite import binding
from numba import carray, cfunc, from_dtype, njit, types

JIT = {"cache": True, "nogil": True, "error_model": "numpy"}

ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112


def gemm_signature(dtype) -> types.Signature:
    """cblas_?gemm with 64-bit integers (ILP64): order, transA, transB, M, N, K, alpha, A, lda,
    B, ldb, beta, C, ldc."""
    i32, i64, ptr, real = types.int32, types.int64, types.voidptr, from_dtype(np.dtype(dtype))
    return types.void(i32, i32, i32, i64, i64, i64, real, ptr, i64, ptr, i64, real, ptr, i64)


def numpy_cblas_gemm(letter: str) -> int | None:
    """The address of ``cblas_<letter>gemm`` (ILP64) in the BLAS numpy loaded, or None."""
    if np.lib.NumpyVersion(np.__version__) >= "2.0.0":
        from numpy._core import _multiarray_umath
    else:  # pragma: no cover - numpy 1 (whose numpy._core is a shim of .py files)
        from numpy.core import _multiarray_umath
    folder = Path(np.__file__).parent
    libraries = [_multiarray_umath.__file__]  # dlsym searches its dependencies too
    for libs in (folder.parent / "numpy.libs", folder / ".dylibs"):  # Windows, macOS wheels
        libraries += sorted(str(f) for f in libs.glob("*openblas*")) if libs.is_dir() else []
    for library in libraries:
        try:
            handle = ctypes.CDLL(library)
        except OSError:
            continue
        for name in (f"scipy_cblas_{letter}gemm64_", f"cblas_{letter}gemm64_"):
            function = getattr(handle, name, None)
            if function is not None:
                return ctypes.cast(function, ctypes.c_void_p).value
    return None


def gemm_by_numba(dtype):
    """cblas_?gemm's signature and ``C = op(A) op(B)`` (alpha 1, beta 0: all the kernels ask,
    row-major, each leading dimension the row's length) with numba's np.dot: used where numpy's
    BLAS exports no ILP64 cblas_?gemm."""

    @cfunc(gemm_signature(dtype), cache=True)
    def gemm(order, transa, transb, M, N, K, alpha, pa, lda, pb, ldb, beta, pc, ldc):
        C = carray(pc, (M, N), dtype)
        if transa == NO_TRANS and transb == NO_TRANS:
            np.dot(carray(pa, (M, K), dtype), carray(pb, (K, N), dtype), C)
        elif transa == NO_TRANS:
            np.dot(carray(pa, (M, K), dtype), carray(pb, (N, K), dtype).T, C)
        elif transb == NO_TRANS:
            np.dot(carray(pa, (K, M), dtype).T, carray(pb, (K, N), dtype), C)
        else:
            np.dot(carray(pa, (K, M), dtype).T, carray(pb, (N, K), dtype).T, C)

    return gemm


_fallbacks = []  # the stand-ins in use, kept alive as long as the kernels may call them
for _letter, _dtype in (("s", np.float32), ("d", np.float64)):
    _address = numpy_cblas_gemm(_letter)
    if _address is None:
        _fallbacks.append(gemm_by_numba(_dtype))
        _address = _fallbacks[-1].address
    binding.add_symbol(f"chainrule_cblas_{_letter}gemm", _address)
_sgemm = types.ExternalFunction("chainrule_cblas_sgemm", gemm_signature(np.float32))
_dgemm = types.ExternalFunction("chainrule_cblas_dgemm", gemm_signature(np.float64))


@njit(**JIT)
def gemm(transa, transb, A, B, C):  # pragma: no cover - compiled
    """``C = op(A) op(B)`` for C-contiguous matrices, ``op`` the transpose where ``trans*`` is
    ``TRANS``: one call to numpy's BLAS."""
    M, N = C.shape
    K = A.shape[0] if transa == TRANS else A.shape[1]
    lda, ldb = A.shape[1], B.shape[1]
    if C.itemsize == 4:  # float32
        one, zero = np.float32(1), np.float32(0)
        _sgemm(ROW_MAJOR, transa, transb, M, N, K, one, A.ctypes, lda, B.ctypes, ldb, zero,
               C.ctypes, N)  # fmt: skip
    else:
        _dgemm(ROW_MAJOR, transa, transb, M, N, K, 1.0, A.ctypes, lda, B.ctypes, ldb, 0.0,
               C.ctypes, N)  # fmt: skip
