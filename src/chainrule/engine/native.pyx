# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""The compiled engine: the reference engine's equations for built-in networks, in C.

Built when the package installs (``setup.py``; no compiler at run time). Each equation of
:mod:`chainrule.engine.reference` and :mod:`chainrule.optimizers` is written here once, with a
comment naming it, in the arrays' own precision where the reference rounds (the optimizer
updates), in double precision inside the elementwise functions. The products are BLAS calls
(scipy's ``cython_blas``, as scikit-learn's own loops call it). Every function computes without
the GIL: fits in threads run in parallel. ``tests/test_native.py`` holds each kernel to the
reference engine in float32 and float64.

Layout of the arrays: ``theta`` (and a gradient) is ``W^1, b^1, W^2, b^2, ...``, each ``W^m``
row-major of shape ``(N^m, N^(m-1))``; samples are rows, so a minibatch's ``Z^m`` is
``(n, N^m)``. ``work`` holds ``Z`` (each hidden ``a^m`` in place of its
``z^m``), ``T = sigma'(z)`` and ``D = delta`` of every layer (``3 n sum_m N^m`` values).
"""

from cpython.exc cimport PyErr_CheckSignals
from libc.float cimport DBL_EPSILON, DBL_MIN, FLT_EPSILON, FLT_MIN
from libc.math cimport exp, expm1, fabs, isfinite, log, log1p, pow, sqrt, tanh
from scipy.linalg.cython_blas cimport ddot, dgemm, sdot, sgemm

import numpy as np

ctypedef fused floating:
    float
    double

ctypedef fused data_t:  # the input X: float32 data trains a float64 network without a copy
    float
    double

cdef enum:
    IDENTITY, RELU, TANH, SIGMOID, LEAKY_RELU, ELU, SOFTPLUS, EXPONENTIAL, SOFTMAX

cdef enum:
    SQUARED_ERROR, CATEGORICAL_CROSS_ENTROPY, BINARY_CROSS_ENTROPY, ABSOLUTE_ERROR, HUBER, POISSON

cdef enum:
    GRADIENT_DESCENT, MOMENTUM, NESTEROV, ADAM

cdef enum:
    DONE, DIVERGED

#: the built-in activations by name, and their codes here
ACTIVATIONS = {
    "identity": IDENTITY, "relu": RELU, "tanh": TANH, "sigmoid": SIGMOID,
    "leaky_relu": LEAKY_RELU, "elu": ELU, "softplus": SOFTPLUS, "exponential": EXPONENTIAL,
    "softmax": SOFTMAX,
}
#: the built-in costs by name, and their codes here
COSTS = {
    "squared_error": SQUARED_ERROR, "categorical_cross_entropy": CATEGORICAL_CROSS_ENTROPY,
    "binary_cross_entropy": BINARY_CROSS_ENTROPY, "absolute_error": ABSOLUTE_ERROR,
    "huber": HUBER, "poisson": POISSON,
}
#: the update rules of chainrule.optimizers, by code
OPTIMIZERS = {
    "gradient_descent": GRADIENT_DESCENT, "momentum": MOMENTUM, "nesterov": NESTEROV,
    "adam": ADAM,
}
cdef enum:
    SIGNAL_STEPS = 64  # steps of an epoch between two looks for Ctrl-C


cdef struct Spec:
    int L
    const Py_ssize_t* sizes  # N^0, ..., N^L
    const Py_ssize_t* poff  # W^m starts at poff[m - 1] in theta, b^m after it
    const Py_ssize_t* uoff  # layer m's units start at n * uoff[m - 1] in each block of work
    const int* acts  # sigma^1, ..., sigma^L
    const double* beta  # each sigmoid's slope
    int cost
    double huber  # the Huber cost's delta
    bint canonical  # sigma^L is the cost's matching activation: dC/dz^L = beta (a^L - y)
    bint from_logits  # the cost computed from z^L (a cross-entropy with its matching sigma^L)
    double alpha
    double l1_ratio  # the L1 share of the penalty


cdef class Layout:
    """A built-in network's shape, activations and cost, as the kernels read them."""

    cdef Spec spec
    cdef Py_ssize_t[::1] sizes, poff, uoff
    cdef int[::1] acts
    cdef double[::1] beta
    cdef readonly Py_ssize_t units

    def __init__(self, sizes, acts, beta, int cost, double huber, bint canonical,
                 bint from_logits, double alpha, double l1_ratio=0):
        N = np.asarray(sizes, dtype=np.intp)
        L = len(N) - 1
        self.sizes = N
        self.poff = np.concatenate([[0], np.cumsum(N[1:] * N[:L] + N[1:])]).astype(np.intp)
        self.uoff = np.concatenate([[0], np.cumsum(N[1:])]).astype(np.intp)
        self.acts = np.ascontiguousarray(acts, dtype=np.intc)
        self.beta = np.ascontiguousarray(beta, dtype=np.float64)
        self.units = self.uoff[L]
        self.spec = Spec(L, &self.sizes[0], &self.poff[0], &self.uoff[0], &self.acts[0],
                         &self.beta[0], cost, huber, canonical, from_logits, alpha,
                         l1_ratio)

    cdef check(self, Py_ssize_t d, Py_ssize_t k, Py_ssize_t params, Py_ssize_t rows,
               Py_ssize_t work, Py_ssize_t per_row):
        """A ValueError unless arrays of ``d`` inputs, ``k`` outputs and ``params`` parameters
        fit the network and ``work`` holds ``per_row`` values a unit for ``rows`` rows: the
        kernels read and write through pointers, so a wrong shape would not be caught."""
        L = self.spec.L
        if (d, k, params) != (self.sizes[0], self.sizes[L], self.poff[L]):
            raise ValueError(f"arrays of {d} inputs, {k} outputs, {params} parameters for a "
                             f"network of {self.sizes[0]}, {self.sizes[L]}, {self.poff[L]}")
        if work < per_row * rows * self.units:
            raise ValueError(f"a work buffer of {work} values for {rows} rows")


cdef check_rows(const Py_ssize_t[::1] idx, Py_ssize_t n):
    """A ValueError unless every index of ``idx`` is a row of an array of ``n`` rows."""
    cdef Py_ssize_t i
    for i in range(idx.shape[0]):
        if not 0 <= idx[i] < n:
            raise IndexError(f"row {idx[i]} of an array of {n} rows")


# -- the matrix product --------------------------------------------------------------------------

cdef void gemm(bint trans_a, bint trans_b, int M, int N, int K, const floating* A,
               const floating* B, floating* C) noexcept nogil:
    """``C = op(A) op(B)`` of row-major matrices (``C`` is ``M x N``): BLAS is column-major,
    so it computes ``C^T = op(B)^T op(A)^T``."""
    cdef char ta = b"T" if trans_b else b"N"
    cdef char tb = b"T" if trans_a else b"N"
    cdef int lda = K if trans_b else N
    cdef int ldb = M if trans_a else K
    cdef floating one = 1, zero = 0
    if floating is float:
        sgemm(&ta, &tb, &N, &M, &K, &one, <float*>B, &lda, <float*>A, &ldb, &zero, C, &N)
    else:
        dgemm(&ta, &tb, &N, &M, &K, &one, <double*>B, &lda, <double*>A, &ldb, &zero, C, &N)


cdef double dot(const floating* x, Py_ssize_t size) noexcept nogil:
    """``||x||^2`` (BLAS, in the dtype, as NumPy's ``np.dot(x, x)``)."""
    cdef int count = <int>size, one = 1
    if floating is float:
        return sdot(&count, <float*>x, &one, <float*>x, &one)
    else:
        return ddot(&count, <double*>x, &one, <double*>x, &one)


# -- activations and costs ----------------------------------------------------

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


cdef inline double xlogy(double x, double y) noexcept nogil:
    return 0.0 if x == 0 else x * log(y)


cdef void activate(int code, double beta, double cap, const floating* z, floating* a,
                   floating* T, Py_ssize_t count) noexcept nogil:
    """``a = sigma(z)`` of an elementwise activation for ``count`` values and ``sigma'(z)`` into
    ``T`` (``a`` may be ``z``; ``T`` may be ``a``, then ``a`` is what is left)."""
    cdef Py_ssize_t i
    cdef double x, y
    if code == RELU:
        for i in range(count):
            x = z[i]
            T[i] = 1 if x > 0 else 0  # sigma'(z) = 1 for z > 0, else 0
            a[i] = x if x > 0 else 0  # a = max(0, z)
    elif code == IDENTITY:
        for i in range(count):
            x = z[i]
            T[i] = 1  # sigma'(z) = 1
            a[i] = x  # a = z
    elif code == LEAKY_RELU:
        for i in range(count):
            x = z[i]
            T[i] = 1 if x > 0 else 0.01  # sigma'(z) = 1 for z > 0, else 0.01
            a[i] = x if x >= 0 else x * 0.01  # a = z for z >= 0, else 0.01 z
    else:
        for i in range(count):
            x = z[i]
            if code == TANH:
                y = tanh(x)
                T[i] = 1 - y * y  # sigma'(z) = 1 - a^2
            elif code == SIGMOID:
                y = expit(x * beta)  # a = 1 / (1 + exp(-beta z))
                T[i] = y * (1 - y) * beta  # sigma'(z) = beta a (1 - a)
            elif code == ELU:
                T[i] = 1 if x > 0 else exp(x)  # sigma'(z) = 1 for z > 0, else exp(z)
                y = x if x > 0 else expm1(x)  # a = z for z > 0, else exp(z) - 1
            elif code == SOFTPLUS:
                T[i] = expit(x)  # sigma'(z) = sigmoid(z)
                y = softplus(x)  # a = log(1 + exp(z))
            else:
                y = exp(x if x < cap else cap)  # a = exp(z), z capped where exp would overflow
                T[i] = y  # sigma'(z) = a
            a[i] = y


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


# -- a minibatch: forward, output layer, backward -------------------------------------------------

cdef inline double cap_of(floating x) noexcept nogil:
    """``log(max) / 2`` of the dtype: where the exponential activation stops growing."""
    return 44.36141955583649 if floating is float else 354.891356446692


cdef double output_activation(const Spec* s, floating* z, floating* a, floating* prime,
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
    activate(code, s.beta[s.L - 1], cap_of(z[0]), z, a, a if prime == NULL else prime, k)
    return 0


cdef double output_layer(const Spec* s, floating* z, const floating* y, floating w,
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


cdef void forward(const Spec* s, const floating* X, Py_ssize_t n, const floating* theta,
                  floating* Z, floating* T) noexcept nogil:
    """``z^m`` of every layer into ``Z``, each hidden one's ``a^m = sigma^m(z^m)`` in its place
    and ``sigma'(z^m)`` into ``T`` (unless NULL); the output layer's activation is the
    caller's."""
    cdef Py_ssize_t m, i, j, n_in, n_out
    cdef floating* Zm
    cdef const floating* a = X
    cdef const floating* b
    for m in range(s.L):
        n_in, n_out = s.sizes[m], s.sizes[m + 1]
        Zm, b = Z + n * s.uoff[m], theta + s.poff[m] + n_out * n_in
        gemm(False, True, n, n_out, n_in, a, theta + s.poff[m], Zm)
        for i in range(n):  # row by row, so that the activation reads z^m from the cache
            for j in range(n_out):
                Zm[i * n_out + j] += b[j]  # z^m = W^m a^(m-1) + b^m
            if m < s.L - 1:  # a^m = sigma^m(z^m)
                activate(s.acts[m], s.beta[m], cap_of(Zm[0]), Zm + i * n_out, Zm + i * n_out,
                         (Zm if T == NULL else T + n * s.uoff[m]) + i * n_out, n_out)
        a = Zm


cdef double minibatch(const Spec* s, const floating* X, const floating* Y, const floating* w,
                      double n_b, Py_ssize_t n, const floating* theta, floating* grad,
                      floating* work) noexcept nogil:
    """The cost ``sum_i w_i C_i + alpha/n_b sum_m (l1_ratio |W^m|_1 + (1 - l1_ratio)/2
    ||W^m||^2)`` of a minibatch and its gradient into ``grad`` (``w`` sums to 1; ``n_b`` the
    minibatch's weight)."""
    cdef Py_ssize_t units = s.uoff[s.L], L = s.L, m, i, j, n_in, n_out
    cdef Py_ssize_t k = s.sizes[L]
    cdef floating* Z
    cdef floating* A
    cdef floating* D
    cdef floating* Dp
    cdef floating* T
    cdef floating* dW
    cdef floating* db
    cdef const floating* W
    cdef const floating* a
    cdef double alpha_2 = s.alpha * (1 - s.l1_ratio), alpha_1 = s.alpha * s.l1_ratio
    cdef floating decay = <floating>(alpha_2 / n_b), shrink = <floating>(alpha_1 / n_b)
    cdef double cost = 0, sumsq = 0, abssum = 0
    forward(s, X, n, theta, work, work + n * units)
    # z^L, and a^L where sigma'(z^L) would be (the output layer's sigma' is output_layer's)
    Z, A, D = work + n * s.uoff[L - 1], work + n * (units + s.uoff[L - 1]), work + n * (2 * units + s.uoff[L - 1])
    for i in range(n):  # C = sum_i w_i C_i, delta^L weighted by w_i
        cost += w[i] * output_layer(s, Z + i * k, Y + i * k, w[i], A + i * k, D + i * k, k)
    for m in range(L - 1, -1, -1):
        n_in, n_out = s.sizes[m], s.sizes[m + 1]
        W, dW = theta + s.poff[m], grad + s.poff[m]
        db, D = dW + n_out * n_in, work + n * (2 * units + s.uoff[m])
        a = X if m == 0 else work + n * s.uoff[m - 1]
        gemm(True, False, n_out, n_in, n, D, a, dW)  # dC/dW^m = delta^m a^(m-1)T, summed
        if s.alpha != 0:
            for j in range(n_out * n_in):
                dW[j] += W[j] * decay  # d/dW^m of alpha_2/(2n) ||W^m||^2
            sumsq += dot(W, n_out * n_in)  # ||W^m||^2, for the cost's L2 term
        if alpha_1 != 0:
            for j in range(n_out * n_in):
                # d/dW^m of alpha_1/n |W^m|_1: the subgradient sign(W^m), 0 at 0
                dW[j] += <floating>((W[j] > 0) - (W[j] < 0)) * shrink
                abssum += fabs(W[j])  # |W^m|_1, for the cost's L1 term
        for j in range(n_out):
            db[j] = 0
        for i in range(n):
            for j in range(n_out):
                db[j] += D[i * n_out + j]  # dC/db^m = delta^m, summed over the minibatch
        if m > 0:
            # delta^(m-1) = (W^mT delta^m) o sigma'^(m-1)(z^(m-1))
            Dp, T = work + n * (2 * units + s.uoff[m - 1]), work + n * (units + s.uoff[m - 1])
            gemm(False, False, n, n_in, n_out, D, W, Dp)
            for j in range(n * n_in):
                Dp[j] *= T[j]
    cost += 0.5 * alpha_2 / n_b * sumsq  # + the L2 term alpha_2/(2n) sum_m ||W^m||^2
    if alpha_1 != 0:
        cost += alpha_1 / n_b * abssum  # + the L1 term alpha_1/n sum_m |W^m|_1
    return cost


# -- the update rules of chainrule.optimizers, one pass each ---------------------------------------

cdef void decay_weights(const Spec* s, floating* theta, floating factor) noexcept nogil:
    """Decoupled weight decay ``W^m <- W^m - eta lambda W^m`` (``factor = 1 - eta lambda``) of
    every ``W^m``; the biases are left."""
    cdef Py_ssize_t m, j
    cdef floating* W
    for m in range(s.L):
        W = theta + s.poff[m]
        for j in range(s.sizes[m + 1] * s.sizes[m]):
            W[j] *= factor  # W <- W - eta lambda W


cdef void descent(floating* theta, const floating* g, Py_ssize_t size,
                  floating eta) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(size):
        theta[i] -= eta * g[i]  # w <- w - eta dC/dw


cdef void momentum(floating* theta, const floating* g, floating* v, Py_ssize_t size,
                   floating mu, floating eta, bint nesterov) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(size):
        v[i] = v[i] * mu - eta * g[i]  # Delta w^t = -eta dC/dw + mu Delta w^(t-1)
        if nesterov:
            theta[i] += mu * v[i] - eta * g[i]  # look ahead along the new velocity
        else:
            theta[i] += v[i]  # w <- w + Delta w^t


cdef void adam(floating* theta, const floating* g, floating* m, floating* v, Py_ssize_t size,
               double b1, double b2, floating eps, floating eta_t) noexcept nogil:
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


cdef void clip(floating* g, Py_ssize_t size, double max_norm) noexcept nogil:
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


# -- an epoch: gather each minibatch, its gradient, one update ------------------------------------

cdef double gather(const data_t* X, const floating* Y, const floating* sw,
                   const Py_ssize_t* idx, Py_ssize_t n, Py_ssize_t d, Py_ssize_t k,
                   floating* Xb, floating* Yb, floating* w) noexcept nogil:
    """The minibatch ``X[idx]``, ``Y[idx]`` (cast to the buffers' dtype) and ``w = sw[idx] /
    n_b``; returns ``n_b = sum_i sw[idx[i]]`` (``w`` is left unscaled when it is 0)."""
    cdef Py_ssize_t i, j
    cdef double n_b = 0
    for i in range(n):
        for j in range(d):
            Xb[i * d + j] = <floating>X[idx[i] * d + j]
        for j in range(k):
            Yb[i * k + j] = Y[idx[i] * k + j]
        w[i] = sw[idx[i]]
        n_b += w[i]
    if n_b != 0:
        for i in range(n):
            w[i] = w[i] / <floating>n_b
    return n_b


cdef struct Rule:
    int code
    double eta, p1, p2, eps, max_norm  # p1: the momentum or beta_1; p2: beta_2
    double weight_decay  # lambda of the decoupled decay (0: none)
    long t  # Adam's steps so far


cdef int epoch_steps(const Spec* s, const data_t* X, const floating* Y, const floating* sw,
                     const Py_ssize_t* order, Py_ssize_t N, Py_ssize_t size, floating* theta,
                     floating* grad, Rule* rule, floating* s1, floating* s2, floating* Xb,
                     floating* Yb, floating* w, floating* work, double* progress) except -1 nogil:
    """One epoch of minibatches of ``size`` rows of ``X[order]``; ``progress`` gets
    ``(sum_b |b| C_b, steps, the last cost)``. Stops before stepping on a cost that is not
    finite (returns DIVERGED); raises KeyboardInterrupt at Ctrl-C."""
    cdef Py_ssize_t start, n, d = s.sizes[0], k = s.sizes[s.L], P = s.poff[s.L]
    cdef Py_ssize_t b
    cdef double n_b, cost
    for b in range((N + size - 1) // size):
        start = b * size
        n = size if start + size <= N else N - start
        n_b = gather(X, Y, sw, order + start, n, d, k, Xb, Yb, w)
        if n_b == 0:
            continue
        cost = minibatch(s, Xb, Yb, w, n_b, n, theta, grad, work)
        progress[2] = cost
        progress[0] += cost * n  # the epoch's loss: minibatch costs weighted by their rows
        if not isfinite(cost):
            return DIVERGED
        if rule.max_norm > 0:
            clip(grad, P, rule.max_norm)
        if rule.weight_decay != 0:
            decay_weights(s, theta, <floating>(1 - rule.eta * rule.weight_decay))
        if rule.code == ADAM:
            rule.t += 1
            adam(theta, grad, s1, s2, P, rule.p1, rule.p2, <floating>rule.eps,
                 <floating>adam_step_size(rule.eta, rule.p1, rule.p2, rule.t))
        elif rule.code == GRADIENT_DESCENT:
            descent(theta, grad, P, <floating>rule.eta)
        else:
            momentum(theta, grad, s1, P, <floating>rule.p1, <floating>rule.eta,
                     rule.code == NESTEROV)
        progress[1] += 1
        if (<long>progress[1]) % SIGNAL_STEPS == 0:
            with gil:
                PyErr_CheckSignals()
    return DONE


# -- the entry points ----------------------------------------------------------------------------

def epoch(Layout layout, const data_t[:, ::1] X, const floating[:, ::1] Y,
          const floating[::1] sw, const Py_ssize_t[::1] order, Py_ssize_t size,
          floating[::1] theta, floating[::1] grad, str rule, double eta, double p1, double p2,
          double eps, floating[::1] s1, floating[::1] s2, long t, double max_norm,
          floating[:, ::1] Xb, floating[:, ::1] Yb, floating[::1] w, floating[::1] work,
          double[::1] progress, double weight_decay=0):
    """One epoch of ``rule`` (a key of :data:`OPTIMIZERS`) over ``X[order]``: see
    :func:`epoch_steps`; returns whether it diverged. ``max_norm`` 0: no clipping;
    ``weight_decay``: lambda of the decoupled decay of each ``W^m`` before each step."""
    cdef Rule r = Rule(OPTIMIZERS[rule], eta, p1, p2, eps, max_norm, weight_decay, t)
    cdef int status
    cdef Py_ssize_t P = theta.shape[0]
    layout.check(X.shape[1], Y.shape[1], P, size, work.shape[0], 3)
    layout.check(Xb.shape[1], Yb.shape[1], grad.shape[0], size, w.shape[0], 0)
    if not (Y.shape[0] == sw.shape[0] == X.shape[0] and min(Xb.shape[0], Yb.shape[0],
            w.shape[0]) >= size > 0 and progress.shape[0] >= 3 and s1.shape[0] >= P * (
            r.code != GRADIENT_DESCENT) and s2.shape[0] >= P * (r.code == ADAM)):
        raise ValueError("epoch: arrays of mismatched shapes")
    check_rows(order, X.shape[0])
    with nogil:
        status = epoch_steps(&layout.spec, &X[0, 0], &Y[0, 0], &sw[0], &order[0],
                             X.shape[0], size, &theta[0], &grad[0], &r, &s1[0], &s2[0],
                             &Xb[0, 0], &Yb[0, 0], &w[0], &work[0], &progress[0])
    return status == DIVERGED


def cost_and_gradient(Layout layout, const floating[:, ::1] X, const floating[:, ::1] Y,
                      const floating[::1] w, double n_b, const floating[::1] theta,
                      floating[::1] grad, floating[::1] work):
    """The cost of the minibatch ``X``, ``Y`` (rows weighted by ``w``, summing to 1; ``n_b``
    their weight) and its gradient into ``grad``, laid out like ``theta``."""
    cdef double cost
    layout.check(X.shape[1], Y.shape[1], theta.shape[0], X.shape[0], work.shape[0], 3)
    if not (Y.shape[0] == w.shape[0] == X.shape[0] > 0 and grad.shape[0] == theta.shape[0]):
        raise ValueError("cost_and_gradient: arrays of mismatched shapes")
    with nogil:
        cost = minibatch(&layout.spec, &X[0, 0], &Y[0, 0], &w[0], n_b, X.shape[0], &theta[0],
                         &grad[0], &work[0])
    return cost


def gather_minibatch(const data_t[:, ::1] X, const floating[:, ::1] Y, const floating[::1] sw,
                     const Py_ssize_t[::1] idx, floating[:, ::1] Xb, floating[:, ::1] Yb,
                     floating[::1] w):
    """The rows ``idx`` of ``X``, ``Y`` into ``Xb``, ``Yb`` and ``w = sw[idx] / n_b``; returns
    ``n_b``."""
    cdef double n_b
    if not (X.shape[0] == Y.shape[0] == sw.shape[0] and X.shape[1] == Xb.shape[1] and
            Y.shape[1] == Yb.shape[1] and min(Xb.shape[0], Yb.shape[0], w.shape[0]) >= len(idx)):
        raise ValueError("gather_minibatch: arrays of mismatched shapes")
    check_rows(idx, X.shape[0])
    with nogil:
        n_b = gather(&X[0, 0], &Y[0, 0], &sw[0], &idx[0], idx.shape[0], X.shape[1],
                     Y.shape[1], &Xb[0, 0], &Yb[0, 0], &w[0])
    return n_b


def step(str rule, floating[::1] theta, floating[::1] grad, double eta, double p1=0,
         double p2=0, double eps=0, floating[::1] s1=None, floating[::1] s2=None, long t=0):
    """One update of ``rule`` (a key of :data:`OPTIMIZERS`; ``t``: Adam's step, from 1)."""
    cdef int code = OPTIMIZERS[rule]
    cdef Py_ssize_t P = theta.shape[0]
    if grad.shape[0] != P or (code != GRADIENT_DESCENT and (s1 is None or s1.shape[0] != P)) or (
            code == ADAM and (s2 is None or s2.shape[0] != P)):
        raise ValueError("step: arrays of mismatched shapes")
    with nogil:
        if code == ADAM:
            adam(&theta[0], &grad[0], &s1[0], &s2[0], P, p1, p2, <floating>eps,
                 <floating>adam_step_size(eta, p1, p2, t))
        elif code == GRADIENT_DESCENT:
            descent(&theta[0], &grad[0], P, <floating>eta)
        else:
            momentum(&theta[0], &grad[0], &s1[0], P, <floating>p1, <floating>eta,
                     code == NESTEROV)


def predict(Layout layout, const floating[:, ::1] X, const floating[::1] theta,
            floating[:, ::1] out, floating[::1] work, bint logits):
    """``a^L`` (or ``z^L`` with ``logits``) of each row of ``X`` into ``out``; ``work`` holds
    ``len(X) sum_m N^m`` values."""
    cdef const Spec* s = &layout.spec
    cdef Py_ssize_t n = X.shape[0], k = s.sizes[s.L], i, j
    cdef floating* Z
    layout.check(X.shape[1], out.shape[1], theta.shape[0], n, work.shape[0], 1)
    if out.shape[0] != n or n == 0:
        raise ValueError("predict: arrays of mismatched shapes")
    Z = &work[0] + n * s.uoff[s.L - 1]
    with nogil:
        forward(s, &X[0, 0], n, &theta[0], &work[0], <floating*>NULL)
        for i in range(n):
            if logits:
                for j in range(k):
                    out[i, j] = Z[i * k + j]
            else:
                output_activation(s, Z + i * k, &out[i, 0], <floating*>NULL, k)
