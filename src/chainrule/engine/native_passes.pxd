# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""A minibatch on the compiled engine: the forward pass, and the backward pass from the output
layer's ``delta^L`` to every gradient."""

from libc.math cimport fabs

from .native_activations cimport activate, cap_of
from .native_blas cimport dot, gemm, piece_rows
from .native_costs cimport output_layer
from .native_dropout cimport drop_units
from .native_layout cimport Spec, floating


cdef inline void forward(const Spec* s, const floating* X, Py_ssize_t n, const floating* theta,
                         floating* Z, floating* T,
                         const unsigned long long* step_key) noexcept nogil:
    """``z^m`` of every layer into ``Z``, each hidden one's ``a^m = sigma^m(z^m)`` in its place
    and ``sigma'(z^m)`` into ``T`` (unless NULL); the output layer's activation is the
    caller's. With a ``step_key`` (and ``T``), dropout's masks of that step apply to both."""
    cdef Py_ssize_t m, i, j, n_in, n_out
    cdef floating* Zm
    cdef floating* Tm
    cdef const floating* a = X
    cdef const floating* b
    for m in range(s.L):
        n_in, n_out = s.sizes[m], s.sizes[m + 1]
        Zm, b = Z + n * s.uoff[m], theta + s.poff[m] + n_out * n_in
        Tm = NULL if T == NULL else T + n * s.uoff[m]
        gemm(False, True, n, n_out, n_in, a, theta + s.poff[m], Zm)
        for i in range(n):  # row by row, so that the activation reads z^m from the cache
            for j in range(n_out):
                Zm[i * n_out + j] += b[j]  # z^m = W^m a^(m-1) + b^m
            if m < s.L - 1:  # a^m = sigma^m(z^m), in place of z^m; sigma'(z^m) into T
                activate(s.acts[m], s.beta[m], cap_of(Zm[0]), Zm + i * n_out, Zm + i * n_out,
                         NULL if Tm == NULL else Tm + i * n_out, n_out)
        if m < s.L - 1 and step_key != NULL and T != NULL and s.drop[m] != 0:
            drop_units(s, m, step_key[0], n * n_out, Zm, Tm)
        a = Zm


cdef inline double minibatch(const Spec* s, const floating* X, const floating* Y,
                             const floating* w, double n_b, Py_ssize_t n,
                             const floating* theta, floating* grad, floating* work,
                             const unsigned long long* step_key) noexcept nogil:
    """The cost ``sum_i w_i C_i + alpha/n_b sum_m (l1_ratio |W^m|_1 + (1 - l1_ratio)/2
    ||W^m||^2)`` of a minibatch and its gradient into ``grad`` (``w`` sums to 1; ``n_b`` the
    minibatch's weight), through dropout's masks of ``step_key`` (:func:`drop_units`) unless
    it is NULL."""
    cdef Py_ssize_t units = s.uoff[s.L], L = s.L, m, i, j, n_in, n_out, r, rows
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
    forward(s, X, n, theta, work, work + n * units, step_key)
    # z^L, and a^L where sigma'(z^L) would be (the output layer's sigma' is output_layer's)
    Z = work + n * s.uoff[L - 1]
    A, D = Z + n * units, Z + 2 * n * units
    for i in range(n):  # C = sum_i w_i C_i, delta^L weighted by w_i
        cost += w[i] * output_layer(s, Z + i * k, Y + i * k, w[i], A + i * k, D + i * k, k)
    for m in range(L - 1, -1, -1):
        n_in, n_out = s.sizes[m], s.sizes[m + 1]
        W, dW = theta + s.poff[m], grad + s.poff[m]
        db, D = dW + n_out * n_in, work + n * (2 * units + s.uoff[m])
        a = X if m == 0 else work + n * s.uoff[m - 1]
        rows = piece_rows(n, n_out * n_in)  # the rows in pieces for BLAS's small kernels
        r = 0
        while r < n:  # dC/dW^m = delta^m a^(m-1)T, summed over the pieces
            gemm(True, False, n_out, n_in, min(rows, n - r), D + r * n_out, a + r * n_in, dW,
                 r > 0)
            r += rows
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
            r = 0
            while r < n:
                gemm(False, False, min(rows, n - r), n_in, n_out, D + r * n_out, W,
                     Dp + r * n_in)
                r += rows
            for j in range(n * n_in):
                Dp[j] *= T[j]
    cost += 0.5 * alpha_2 / n_b * sumsq  # + the L2 term alpha_2/(2n) sum_m ||W^m||^2
    if alpha_1 != 0:
        cost += alpha_1 / n_b * abssum  # + the L1 term alpha_1/n sum_m |W^m|_1
    return cost
