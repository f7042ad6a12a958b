# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""The activations of the compiled engine: ``a = sigma(z)`` and ``sigma'(z)``, in double precision
inside, rounded once to the arrays' dtype."""

from libc.math cimport exp, expm1, fabs, log, log1p, tanh

from .native_layout cimport (
    ELU, EXPONENTIAL, IDENTITY, LEAKY_RELU, RELU, SIGMOID, SOFTMAX, SOFTPLUS, TANH, Spec,
    floating,
)


cdef inline double expit(double z) noexcept nogil:
    """``1 / (1 + exp(-z))`` without overflow."""
    cdef double e
    if z >= 0:
        return 1 / (1 + exp(-z))
    e = exp(z)
    return e / (1 + e)


cdef inline double softplus(double z) noexcept nogil:
    """``log(1 + exp(z))`` without overflow."""
    return (z if z > 0 else 0.0) + log1p(exp(-fabs(z)))



cdef inline double cap_of(floating x) noexcept nogil:
    """``log(max) / 2`` of the dtype: where the exponential activation stops growing."""
    return 44.36141955583649 if floating is float else 354.891356446692



cdef inline void activate(int code, double beta, double cap, const floating* z, floating* a,
                          floating* T, Py_ssize_t count) noexcept nogil:
    """``a = sigma(z)`` of an elementwise activation for ``count`` values (``a`` may be ``z``)
    and ``sigma'(z)`` into ``T``, unless ``T`` is NULL (a prediction: ``a`` alone, in a loop
    that knows no third array, so that it vectorises)."""
    cdef Py_ssize_t i
    cdef double x, y, d
    if code == RELU:
        for i in range(count):
            x = z[i]
            if T != NULL:
                T[i] = 1 if x > 0 else 0  # sigma'(z) = 1 for z > 0, else 0
            a[i] = x if x > 0 else 0  # a = max(0, z)
    elif code == IDENTITY:
        for i in range(count):
            if T != NULL:
                T[i] = 1  # sigma'(z) = 1
            a[i] = z[i]  # a = z
    else:
        for i in range(count):
            x = z[i]
            if code == LEAKY_RELU:
                d = 1 if x > 0 else 0.01  # sigma'(z) = 1 for z > 0, else 0.01
                y = x if x >= 0 else x * 0.01  # a = z for z >= 0, else 0.01 z
            elif code == TANH:
                y = tanh(x)
                d = 1 - y * y  # sigma'(z) = 1 - a^2
            elif code == SIGMOID:
                y = expit(x * beta)  # a = 1 / (1 + exp(-beta z))
                d = y * (1 - y) * beta  # sigma'(z) = beta a (1 - a)
            elif code == ELU:
                d = 1 if x > 0 else exp(x)  # sigma'(z) = 1 for z > 0, else exp(z)
                y = x if x > 0 else expm1(x)  # a = z for z > 0, else exp(z) - 1
            elif code == SOFTPLUS:
                d = expit(x)  # sigma'(z) = sigmoid(z)
                y = softplus(x)  # a = log(1 + exp(z))
            else:
                y = exp(x if x < cap else cap)  # a = exp(z), z capped where exp would overflow
                d = y  # sigma'(z) = a
            if T != NULL:
                T[i] = d
            a[i] = y


cdef inline double output_activation(const Spec* s, floating* z, floating* a, floating* prime,
                                     Py_ssize_t k) noexcept nogil:
    """``a^L = sigma^L(z^L)`` of one sample (``sigma'`` into ``prime`` unless softmax); returns
    ``logsumexp(z)`` for the softmax (0 otherwise)."""
    cdef int code = s.acts[s.L - 1]
    cdef double top = z[0], total = 0
    cdef Py_ssize_t j
    if code == SOFTMAX:  # a_k = exp(z_k) / sum_j exp(z_j), shifted by the largest z
        for j in range(k):
            top = z[j] if z[j] > top else top
        for j in range(k):
            a[j] = exp(z[j] - top)
            total += a[j]
        for j in range(k):
            a[j] = a[j] / total
        return log(total) + top
    activate(code, s.beta[s.L - 1], cap_of(z[0]), z, a, prime, k)
    return 0
