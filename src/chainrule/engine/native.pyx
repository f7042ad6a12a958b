# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""The compiled engine: the reference engine's equations for built-in networks, in C.

Built when the package installs (``setup.py``; no compiler at run time). Each equation of
:mod:`chainrule.engine.reference` and :mod:`chainrule.optimizers` is written once, with a
comment naming it, in the arrays' own precision where the reference rounds (the optimizer
updates), in double precision inside the elementwise functions. The kernels live by concept in
``.pxd`` files that this module cimports (their functions ``inline``, compiled into this one
extension): ``native_layout`` (the dtypes, the codes, a network's ``Spec``), ``native_blas``
(the products: scipy's ``cython_blas``, as scikit-learn's own loops call it),
``native_activations``, ``native_costs`` (the output layer), ``native_passes`` (a minibatch's
forward and backward passes) and ``native_updates`` (the optimizers). This module holds the
epoch loop and the entry points. Every function computes without the GIL: fits in threads run
in parallel. ``tests/engine/test_compiled.py`` holds each kernel to the reference engine in float32
and float64.

Layout of the arrays: ``theta`` (and a gradient) is ``W^1, b^1, W^2, b^2, ...``, each ``W^m``
row-major of shape ``(N^m, N^(m-1))``; samples are rows, so a minibatch's ``Z^m`` is
``(n, N^m)``. ``work`` holds ``Z`` (each hidden ``a^m`` in place of its
``z^m``), ``T = sigma'(z)`` and ``D = delta`` of every layer (``3 n sum_m N^m`` values).
"""

from cpython.exc cimport PyErr_CheckSignals
from libc.math cimport isfinite

from .native_activations cimport output_activation
from .native_dropout cimport splitmix64
from .native_layout cimport (
    ABSOLUTE_ERROR, ADAM, BINARY_CROSS_ENTROPY, CATEGORICAL_CROSS_ENTROPY, DIVERGED, DONE, ELU,
    EXPONENTIAL, GRADIENT_DESCENT, HUBER, IDENTITY, LEAKY_RELU, MOMENTUM, NESTEROV, POISSON,
    RELU, SIGMOID, SOFTMAX, SOFTPLUS, SQUARED_ERROR, TANH, Spec, data_t, floating,
)
from .native_passes cimport forward, minibatch
from .native_updates cimport adam, adam_step_size, clip, decay_weights, descent, momentum

import numpy as np


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
    PREFETCH_ROWS = 8  # how far ahead a minibatch's gather asks for the rows it will copy
    CACHE_LINE = 64  # bytes

cdef extern from *:
    """
    #if defined(__GNUC__) || defined(__clang__)
    #define CHAINRULE_PREFETCH(p) __builtin_prefetch(p)
    #else
    #define CHAINRULE_PREFETCH(p) ((void)0)
    #endif
    """
    void prefetch "CHAINRULE_PREFETCH"(const void* address) noexcept nogil

cdef extern from *:
    """
    #if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    #define CHAINRULE_HAS_AVX2() (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    #else
    #define CHAINRULE_HAS_AVX2() 0
    #endif
    """
    bint has_avx2 "CHAINRULE_HAS_AVX2"() noexcept nogil


def cpu_has_avx2():
    """Whether this CPU (and its operating system) runs AVX2 and FMA instructions, those of the
    build :mod:`chainrule.engine.native_avx2`."""
    return has_avx2()


cdef class Layout:
    """A built-in network's shape, activations and cost, as the kernels read them."""

    cdef Spec spec
    cdef Py_ssize_t[::1] sizes, poff, uoff
    cdef int[::1] acts
    cdef double[::1] beta, drop
    cdef readonly Py_ssize_t units

    def __init__(self, sizes, acts, beta, int cost, double huber, bint canonical,
                 bint from_logits, double alpha, double l1_ratio=0, dropout=()):
        N = np.asarray(sizes, dtype=np.intp)
        L = len(N) - 1
        self.sizes = N
        self.poff = np.concatenate([[0], np.cumsum(N[1:] * N[:L] + N[1:])]).astype(np.intp)
        self.uoff = np.concatenate([[0], np.cumsum(N[1:])]).astype(np.intp)
        self.acts = np.ascontiguousarray(acts, dtype=np.intc)
        self.beta = np.ascontiguousarray(beta, dtype=np.float64)
        self.units = self.uoff[L]
        # dropout's rate of each layer: the hidden ones' (none: 0), then 0 for the output
        drop = np.zeros(L, dtype=np.float64)
        drop[:len(dropout)] = dropout
        self.drop = drop
        self.spec = Spec(L, &self.sizes[0], &self.poff[0], &self.uoff[0], &self.acts[0],
                         &self.beta[0], cost, huber, canonical, from_logits, alpha,
                         l1_ratio, &self.drop[0])

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


# -- an epoch: gather each minibatch, its gradient, one update ------------------------------------

cdef double gather(const data_t* X, const floating* Y, const floating* sw,
                   const Py_ssize_t* idx, Py_ssize_t n, Py_ssize_t d, Py_ssize_t k,
                   floating* Xb, floating* Yb, floating* w) noexcept nogil:
    """The minibatch ``X[idx]``, ``Y[idx]`` (cast to the buffers' dtype) and ``w = sw[idx] /
    n_b``; returns ``n_b = sum_i sw[idx[i]]`` (``w`` is left unscaled when it is 0)."""
    cdef Py_ssize_t i, j, ahead, line = CACHE_LINE // sizeof(data_t)
    cdef double n_b = 0
    for i in range(n):
        if i + PREFETCH_ROWS < n:  # the rows are scattered: ask for a later one's lines now
            ahead = idx[i + PREFETCH_ROWS]
            for j in range((d + line - 1) // line):
                prefetch(X + ahead * d + j * line)
            prefetch(Y + ahead * k)
            prefetch(sw + ahead)
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
                     floating* Yb, floating* w, floating* work, double* progress,
                     const unsigned long long* key) except -1 nogil:
    """One epoch of minibatches of ``size`` rows of ``X[order]``; ``progress`` gets
    ``(sum_b |b| C_b, steps, the last cost)``. Stops before stepping on a cost that is not
    finite (returns DIVERGED); raises KeyboardInterrupt at Ctrl-C. With the epoch's dropout
    ``key`` (else NULL), step ``t`` of the epoch drops the units of ``splitmix64(key + t)``."""
    cdef Py_ssize_t start, n, d = s.sizes[0], k = s.sizes[s.L], P = s.poff[s.L]
    cdef Py_ssize_t b
    cdef double n_b, cost
    cdef unsigned long long step_key = 0
    for b in range((N + size - 1) // size):
        start = b * size
        n = size if start + size <= N else N - start
        n_b = gather(X, Y, sw, order + start, n, d, k, Xb, Yb, w)
        if n_b == 0:
            continue
        if key != NULL:  # dropout's masks of this step
            step_key = splitmix64(key[0] + <unsigned long long>progress[1])
        cost = minibatch(s, Xb, Yb, w, n_b, n, theta, grad, work,
                         NULL if key == NULL else &step_key)
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
          double[::1] progress, key=None, double weight_decay=0):
    """One epoch of ``rule`` (a key of :data:`OPTIMIZERS`) over ``X[order]``: see
    :func:`epoch_steps`; returns whether it diverged. ``max_norm`` 0: no clipping. ``key``:
    the epoch's dropout key (an int below 2^63), None for no dropout; ``weight_decay``: lambda
    of the decoupled decay of each ``W^m`` before each step."""
    cdef Rule r = Rule(OPTIMIZERS[rule], eta, p1, p2, eps, max_norm, weight_decay, t)
    cdef int status
    cdef unsigned long long epoch_key = 0 if key is None else key
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
                             &Xb[0, 0], &Yb[0, 0], &w[0], &work[0], &progress[0],
                             NULL if key is None else &epoch_key)
    return status == DIVERGED


def cost_and_gradient(Layout layout, const floating[:, ::1] X, const floating[:, ::1] Y,
                      const floating[::1] w, double n_b, const floating[::1] theta,
                      floating[::1] grad, floating[::1] work, key=None, long step=0):
    """The cost of the minibatch ``X``, ``Y`` (rows weighted by ``w``, summing to 1; ``n_b``
    their weight) and its gradient into ``grad``, laid out like ``theta``; through dropout's
    masks of ``step`` of the epoch whose key is ``key`` (None: no dropout)."""
    cdef double cost
    cdef unsigned long long step_key = 0 if key is None else splitmix64(key + step)
    layout.check(X.shape[1], Y.shape[1], theta.shape[0], X.shape[0], work.shape[0], 3)
    if not (Y.shape[0] == w.shape[0] == X.shape[0] > 0 and grad.shape[0] == theta.shape[0]):
        raise ValueError("cost_and_gradient: arrays of mismatched shapes")
    with nogil:
        cost = minibatch(&layout.spec, &X[0, 0], &Y[0, 0], &w[0], n_b, X.shape[0], &theta[0],
                         &grad[0], &work[0], NULL if key is None else &step_key)
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
        forward(s, &X[0, 0], n, &theta[0], &work[0], <floating*>NULL, NULL)
        for i in range(n):
            if logits:
                for j in range(k):
                    out[i, j] = Z[i * k + j]
            else:
                output_activation(s, Z + i * k, &out[i, 0], <floating*>NULL, k)
