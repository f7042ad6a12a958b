# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""The costs of the compiled engine: each ``C`` beside its ``dC/da``, and the output layer's
``delta^L = dC/dz^L``."""

from libc.float cimport DBL_EPSILON, DBL_MIN, FLT_EPSILON, FLT_MIN
from libc.math cimport fabs, log

from .native_activations cimport output_activation, softplus
from .native_layout cimport (
    ABSOLUTE_ERROR, BINARY_CROSS_ENTROPY, CATEGORICAL_CROSS_ENTROPY, HUBER, POISSON, SOFTMAX,
    SQUARED_ERROR, Spec, floating,
)


cdef inline double xlogy(double x, double y) noexcept nogil:
    return 0.0 if x == 0 else x * log(y)


cdef inline double cost_term(int cost, double h, double y, double a, double eps, double tiny,
                             double* dC_da) noexcept nogil:
    """One output's term of ``C(a, y)``; ``dC/da`` into ``dC_da[0]``."""
    cdef double r = a - y, c
    if cost == SQUARED_ERROR:
        dC_da[0] = r  # dC/da = a - y
        return 0.5 * r * r  # C = 1/2 (y - a)^T (y - a)
    if cost == ABSOLUTE_ERROR:
        dC_da[0] = (r > 0) - (r < 0)  # dC/da = sign(a - y)
        return fabs(r)  # C = sum_k |a_k - y_k|
    if cost == HUBER:
        dC_da[0] = -h if r < -h else h if r > h else r  # dC/da = clip(a - y, -delta, delta)
        r = fabs(r)
        return r * r / 2 if r <= h else (r - h / 2) * h  # C = sum_k huber(a_k - y_k)
    if cost == POISSON:
        c = a if a > tiny else tiny
        dC_da[0] = 1 - y / c  # dC/da = 1 - y / a
        return a - xlogy(y, c) + xlogy(y, y) - y  # C = sum_k y log(y / a) - y + a
    c = eps if a < eps else 1 - eps if a > 1 - eps else a  # a clipped to [eps, 1 - eps]
    if cost == BINARY_CROSS_ENTROPY:
        dC_da[0] = (c - y) / (c * (1 - c))  # dC/da = (a - y) / (a (1 - a))
        return -(xlogy(y, c) + xlogy(1 - y, 1 - c))  # C = -y log a - (1 - y) log(1 - a)
    dC_da[0] = -y / c  # dC/da = -y / a
    return -xlogy(y, c)  # C = -sum_k y_k log a_k


cdef inline double output_layer(const Spec* s, floating* z, const floating* y, floating w,
                                floating* a, floating* d, Py_ssize_t k) noexcept nogil:
    """``a^L``, ``w_i delta^L`` of one sample from its ``z^L``; returns its cost ``C_i``."""
    cdef double c = 0, g = 0, lse, gdota = 0, beta = s.beta[s.L - 1]
    cdef double eps = FLT_EPSILON if floating is float else DBL_EPSILON
    cdef double tiny = FLT_MIN if floating is float else DBL_MIN
    cdef Py_ssize_t j
    lse = output_activation(s, z, a, d, k)
    if s.from_logits and s.cost == CATEGORICAL_CROSS_ENTROPY:
        for j in range(k):
            c += y[j] * (lse - z[j])  # C = sum_k y_k (logsumexp(z) - z_k)
    elif s.from_logits:
        for j in range(k):
            c += softplus(z[j] * beta) - y[j] * z[j] * beta  # C = log(1 + e^z) - y z
    for j in range(k):
        if not s.from_logits:
            c += cost_term(s.cost, s.huber, y[j], a[j], eps, tiny, &g)
        if s.canonical:
            # matching pairs (seed, "Sigmoid network with cross-entropy loss"): a^L - y
            d[j] = ((a[j] - y[j]) * <floating>beta if beta != 1 else a[j] - y[j]) * w
        elif s.acts[s.L - 1] == SOFTMAX:
            d[j] = g  # dC/da, then the softmax's Jacobian-vector product below
            gdota += g * a[j]
        else:
            d[j] = g * d[j] * w  # dC/dz^L = dC/da^L o sigma'(z^L)
    if not s.canonical and s.acts[s.L - 1] == SOFTMAX:
        for j in range(k):
            d[j] = a[j] * (d[j] - gdota) * w  # dC/dz = a o (dC/da - <dC/da, a>)
    return c
