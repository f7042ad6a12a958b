# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""The update rules of :mod:`chainrule.optimizers` on the compiled engine, one pass each: the
scalars rounded to the arrays' dtype as NumPy rounds them, so each equals its NumPy line bit for
bit."""

from libc.math cimport pow, sqrt

from .native_blas cimport dot
from .native_layout cimport Spec, floating


cdef inline void decay_weights(const Spec* s, floating* theta, floating factor) noexcept nogil:
    """Decoupled weight decay ``W^m <- W^m - eta lambda W^m`` (``factor = 1 - eta lambda``) of
    every ``W^m``; the biases are left."""
    cdef Py_ssize_t m, j
    cdef floating* W
    for m in range(s.L):
        W = theta + s.poff[m]
        for j in range(s.sizes[m + 1] * s.sizes[m]):
            W[j] *= factor  # W <- W - eta lambda W


cdef inline void descent(floating* theta, const floating* g, Py_ssize_t size,
                         floating eta) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(size):
        theta[i] -= eta * g[i]  # w <- w - eta dC/dw


cdef inline void momentum(floating* theta, const floating* g, floating* v, Py_ssize_t size,
                          floating mu, floating eta, bint nesterov) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(size):
        v[i] = v[i] * mu - eta * g[i]  # Delta w^t = -eta dC/dw + mu Delta w^(t-1)
        if nesterov:
            theta[i] += mu * v[i] - eta * g[i]  # look ahead along the new velocity
        else:
            theta[i] += v[i]  # w <- w + Delta w^t


cdef inline void adam(floating* theta, const floating* g, floating* m, floating* v,
                      Py_ssize_t size, double b1, double b2, floating eps,
                      floating eta_t) noexcept nogil:
    cdef Py_ssize_t i
    cdef floating c1 = <floating>(1 - b1), c2 = <floating>(1 - b2), root
    for i in range(size):
        m[i] = m[i] * <floating>b1 + g[i] * c1  # m <- b1 m + (1 - b1) g
        v[i] = v[i] * <floating>b2 + (g[i] * g[i]) * c2  # v <- b2 v + (1 - b2) g^2
        root = <floating>sqrt(v[i])
        theta[i] -= m[i] / (root + eps) * eta_t  # w <- w - eta_t m / (sqrt(v) + eps)


cdef inline double adam_step_size(double eta, double b1, double b2, long t) noexcept nogil:
    """``eta_t = eta sqrt(1 - b2^t) / (1 - b1^t)``: the bias corrections of step ``t``."""
    return eta * sqrt(1 - pow(b2, t)) / (1 - pow(b1, t))


cdef inline void clip(floating* g, Py_ssize_t size, double max_norm) noexcept nogil:
    """Scale ``g`` so that ``||g|| <= max_norm``."""
    cdef double norm = sqrt(dot(g, size))
    cdef floating scale
    cdef Py_ssize_t i
    if floating is float:
        norm = <float>norm
    if norm > max_norm:
        scale = <floating>(max_norm / norm)
        for i in range(size):
            g[i] *= scale  # g <- g max_norm / ||g||
