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
                            Py_ssize_t count, floating* a, floating* T) noexcept nogil:
    """Hidden layer ``m`` (from 0) of a minibatch (``count = n N^m`` values, row-major) through
    its mask: ``a^m o r^m / (1 - p)`` and ``sigma'(z^m) o r^m / (1 - p)``, which the backward
    pass multiplies into ``delta^m``. Unit ``u = i N^m + j`` is kept where 32 bits of
    ``splitmix64(layer_key + u // 2)`` (the low ones for even ``u``) are below
    ``(1 - p) 2^32``."""
    cdef double p = s.drop[m]
    cdef unsigned long long layer = splitmix64(step_key + <unsigned long long>m), h, bits
    cdef unsigned long long keep = <unsigned long long>((1 - p) * 4294967296.0)
    cdef unsigned long long u
    cdef floating r[2]  # r^m / (1 - p) of a dropped unit (r = 0), of a kept one (r = 1)
    r[0], r[1] = 0, <floating>(1 / (1 - p))  # inverted dropout: E[r / (1 - p)] = 1
    for u in range(<unsigned long long>count):
        h = splitmix64(layer + (u >> 1))  # one hash a pair of units, its halves theirs
        bits = (h >> ((u & 1) << 5)) & 0xFFFFFFFFULL
        # kept where bits < keep, read from r by index: a branch on these coin flips would
        # be mispredicted half the time (+20% a step at p = 0.5)
        a[u] *= r[bits < keep]  # dropout: a^m = sigma^m(z^m) o r^m / (1 - p)
        T[u] *= r[bits < keep]  # and delta^m = (W^(m+1)T delta^(m+1)) o r^m/(1 - p) o sigma'
