# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""Dropout on the compiled engine: the masks ``r^m`` drawn by a counter-based hash
(splitmix64, Steele, Lea and Flood 2014), the same bits as ``reference.dropout_mask``, so that
both engines drop the same units of the same step."""

from .native_layout cimport Spec, floating


cdef inline unsigned long long splitmix64(unsigned long long x) noexcept nogil:
    """splitmix64's output function of ``x + golden`` (wrapping, as uint64 arithmetic)."""
    x = x + 0x9E3779B97F4A7C15ULL
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL
    return x ^ (x >> 31)


cdef inline void drop_units(const Spec* s, Py_ssize_t m, unsigned long long step_key,
                            Py_ssize_t i, Py_ssize_t width, floating* a,
                            floating* T) noexcept nogil:
    """Row ``i`` of hidden layer ``m`` (from 0) through its mask: ``a^m o r^m / (1 - p)`` and
    ``sigma'(z^m) o r^m / (1 - p)``, which the backward pass multiplies into ``delta^m``. Unit
    ``u = i N^m + j`` is kept where 32 bits of ``splitmix64(layer_key + u // 2)`` (the low ones
    for even ``u``) are below ``(1 - p) 2^32``."""
    cdef double p = s.drop[m]
    cdef unsigned long long layer = splitmix64(step_key + <unsigned long long>m), h = 0, bits
    cdef unsigned long long keep = <unsigned long long>((1 - p) * 4294967296.0)
    cdef unsigned long long u
    cdef floating scale = <floating>(1 / (1 - p))  # inverted dropout: E[r / (1 - p)] = 1
    cdef Py_ssize_t j
    for j in range(width):
        u = <unsigned long long>(i * width + j)
        if j == 0 or (u & 1) == 0:
            h = splitmix64(layer + (u >> 1))
        bits = (h >> 32) if (u & 1) else (h & 0xFFFFFFFFULL)
        if bits < keep:
            a[j] *= scale  # dropout: a^m = sigma^m(z^m) o r^m / (1 - p), r = 1
            T[j] *= scale  # and delta^m = (W^(m+1)T delta^(m+1)) o r^m / (1 - p) o sigma'
        else:
            a[j] = 0  # r = 0: the unit is dropped from a^m
            T[j] = 0  # and from delta^m
