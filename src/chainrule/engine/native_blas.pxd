# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""The matrix products of the compiled engine: BLAS (scipy's ``cython_blas``, as scikit-learn's
own loops call it) on row-major arrays."""

from scipy.linalg.cython_blas cimport ddot, dgemm, sdot, sgemm

from .native_layout cimport floating

cdef enum:
    # OpenBLAS runs a product of at most 100^3 multiply-adds in its small-matrix kernels, which
    # skip the packing of both matrices (on AVX-512 CPUs): a product of many rows runs faster cut
    # into pieces of rows under that (a 200-row weight gradient of 128 x 40: 0.74x the time in
    # two; a 5000-row one of 100 x 20: 0.42x in ten). Not below 64 rows a piece: a wide layer's
    # product stays whole, its packed kernel wins.
    SMALL_PRODUCT = 1000000
    FEWEST_ROWS = 64


cdef inline void gemm(bint trans_a, bint trans_b, int M, int N, int K, const floating* A,
                      const floating* B, floating* C, bint accumulate=False) noexcept nogil:
    """``C = op(A) op(B)`` (``C += op(A) op(B)`` if ``accumulate``) of row-major matrices (``C``
    is ``M x N``): BLAS is column-major, so it computes ``C^T = op(B)^T op(A)^T``."""
    cdef char ta = b"T" if trans_b else b"N"
    cdef char tb = b"T" if trans_a else b"N"
    cdef int lda = K if trans_b else N
    cdef int ldb = M if trans_a else K
    cdef floating one = 1, beta = 1 if accumulate else 0
    if floating is float:
        sgemm(&ta, &tb, &N, &M, &K, &one, <float*>B, &lda, <float*>A, &ldb, &beta, C, &N)
    else:
        dgemm(&ta, &tb, &N, &M, &K, &one, <double*>B, &lda, <double*>A, &ldb, &beta, C, &N)


cdef inline double dot(const floating* x, Py_ssize_t size) noexcept nogil:
    """``||x||^2`` (BLAS, in the dtype, as NumPy's ``np.dot(x, x)``)."""
    cdef int count = <int>size, one = 1
    if floating is float:
        return sdot(&count, <float*>x, &one, <float*>x, &one)
    else:
        return ddot(&count, <double*>x, &one, <double*>x, &one)


cdef inline Py_ssize_t piece_rows(Py_ssize_t rows, Py_ssize_t per_row) noexcept nogil:
    """The rows of each piece (the last one may have fewer) when a product of ``rows x per_row``
    multiply-adds is cut into the fewest pieces of at most ``SMALL_PRODUCT`` each, of equal
    size; ``rows`` (one piece) when it is no bigger or pieces would have under ``FEWEST_ROWS``."""
    cdef Py_ssize_t most = SMALL_PRODUCT // per_row  # the rows a piece may have
    if rows <= most or most < FEWEST_ROWS:
        return rows
    cdef Py_ssize_t parts = (rows + most - 1) // most
    return (rows + parts - 1) // parts
