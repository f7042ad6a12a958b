"""The compiled backend's kernels: the equations of :mod:`chainrule.engine.reference`, fused.

Each kernel is a reference equation written as one loop, in the same order of operations and in
the arrays' own precision (scalars are cast to it by the callers), so the optimizer kernels
reproduce the update rules of :mod:`chainrule.optimizers` bit for bit, and
:func:`cost_and_gradient` (a whole minibatch in one call) the reference engine up to the order
of the sums in the matrix products. This module and the reference engine are the only places an
equation of the derivation is written.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from chainrule.engine.blas import JIT, NO_TRANS, TRANS, gemm


@njit(**JIT)
def adam_step(theta, grad, m, v, b1, c1, b2, c2, eps, eta_t):  # pragma: no cover - compiled
    """``m <- b1 m + (1-b1) g``, ``v <- b2 v + (1-b2) g^2``, ``w <- w - eta_t m/(sqrt(v)+eps)``
    in one pass (``c1 = 1 - b1``, ``c2 = 1 - b2``)."""
    for i in range(theta.size):
        g = grad[i]
        mi = m[i] * b1 + g * c1
        vi = v[i] * b2 + (g * g) * c2
        m[i] = mi
        v[i] = vi
        theta[i] -= mi / (math.sqrt(vi) + eps) * eta_t


@njit(**JIT)
def descent_step(theta, grad, eta):  # pragma: no cover - compiled
    """``w <- w - eta dC/dw`` in one pass."""
    for i in range(theta.size):
        theta[i] -= eta * grad[i]


@njit(**JIT)
def momentum_step(theta, grad, vel, mu, eta, nesterov):  # pragma: no cover - compiled
    """``Delta w = mu Delta w - eta g``; ``w <- w + Delta w`` (or Nesterov's look-ahead)."""
    for i in range(theta.size):
        g = grad[i]
        vi = vel[i] * mu - eta * g
        vel[i] = vi
        if nesterov:
            theta[i] += mu * vi - eta * g
        else:
            theta[i] += vi


# -- one minibatch: the reference engine's equations as one compiled call -----------------------


@njit(**JIT)
def bias_activate(code, Z, b, A, T):  # pragma: no cover - compiled
    """``z = Z + b``, ``a = sigma(z)`` into ``A`` and ``sigma'(z)`` into ``T``, for the hidden
    codes identity 0, relu 1, tanh 2, sigmoid 3 (``Z`` is left without its bias)."""
    n, k = Z.shape
    one = Z.dtype.type(1)
    zero = Z.dtype.type(0)
    for i in range(n):
        for j in range(k):
            z = Z[i, j] + b[j]  # z^m = W^m a^(m-1) + b^m
            if code == 1:
                t = one if z > 0 else zero
                A[i, j] = z * t  # max(0, z)
                T[i, j] = t
            elif code == 2:
                a = math.tanh(z)
                A[i, j] = a
                T[i, j] = one - a * a
            elif code == 3:
                a = one / (one + math.exp(-z))
                A[i, j] = a
                T[i, j] = a * (one - a)
            else:
                A[i, j] = z
                T[i, j] = one


@njit(**JIT)
def times_transpose(a, W, Z, WT, blas):  # pragma: no cover - compiled
    """``Z = a W^T``: each row ``z_i = W a_i``. With ``blas``, one BLAS call; else loops with a
    contiguous inner loop (``z_i = sum_k a_ik W[:, k]``, ``W^T`` copied into the flat buffer
    ``WT``), faster than BLAS on small matrices."""
    if blas:
        gemm(NO_TRANS, TRANS, a, W, Z)
        return
    n_out, n_in = W.shape
    WT = WT[: n_in * n_out].reshape((n_in, n_out))
    for k in range(n_in):
        for j in range(n_out):
            WT[k, j] = W[j, k]
    for i in range(a.shape[0]):
        for j in range(n_out):
            Z[i, j] = 0
        for k in range(n_in):
            aik = a[i, k]
            if aik != 0:
                for j in range(n_out):
                    Z[i, j] += aik * WT[k, j]


@njit(**JIT)
def transpose_times(D, a, dW, blas):  # pragma: no cover - compiled
    """``dW = D^T a``: the sum over the rows of ``delta_i a_i^T``."""
    if blas:
        gemm(TRANS, NO_TRANS, D, a, dW)
        return
    dW[:, :] = 0
    for i in range(D.shape[0]):
        for j in range(D.shape[1]):
            d = D[i, j]
            if d != 0:
                for k in range(a.shape[1]):
                    dW[j, k] += d * a[i, k]


@njit(**JIT)
def times(D, W, out, blas):  # pragma: no cover - compiled
    """``out = D W``: each row ``W^T delta_i``."""
    if blas:
        gemm(NO_TRANS, NO_TRANS, D, W, out)
        return
    for i in range(D.shape[0]):
        for k in range(W.shape[1]):
            out[i, k] = 0
        for j in range(W.shape[0]):
            d = D[i, j]
            if d != 0:
                for k in range(W.shape[1]):
                    out[i, k] += d * W[j, k]


@njit(**JIT)
def output_layer(code, Z, b, Y, w, A, D):  # pragma: no cover - compiled
    """``z^L = Z + b^L``, ``a^L``, ``delta^L = (a^L - y) w_i`` and ``sum_i w_i C_i`` for the
    output codes 0 identity + squared error, 1 softmax + categorical cross-entropy, 2 sigmoid +
    binary cross-entropy (each cost from the logits ``z^L``, as the reference computes it)."""
    dt = Z.dtype.type
    n, k = Z.shape
    cost = 0.0
    for i in range(n):
        for j in range(k):
            Z[i, j] += b[j]
        c = dt(0)
        if code == 1:
            mx = Z[i, 0]
            for j in range(k):
                mx = max(mx, Z[i, j])
            s = dt(0)
            for j in range(k):
                e = math.exp(Z[i, j] - mx)
                A[i, j] = e
                s += e
            lse = math.log(s) + mx
            for j in range(k):
                A[i, j] = A[i, j] / s
                c += Y[i, j] * (lse - Z[i, j])  # C = sum_k y_k (logsumexp(z) - z_k)
        elif code == 2:
            for j in range(k):
                z = Z[i, j]
                A[i, j] = dt(1) / (dt(1) + math.exp(-z))
                c += max(z, dt(0)) + math.log1p(math.exp(-abs(z))) - Y[i, j] * z  # log(1+e^z) - yz
        else:
            for j in range(k):
                A[i, j] = Z[i, j]
                r = Z[i, j] - Y[i, j]
                c += dt(0.5) * r * r  # C = 1/2 (y - a)^T (y - a)
        for j in range(k):
            D[i, j] = (A[i, j] - Y[i, j]) * w[i]  # dC/dz^L = a^L - y (canonical link)
        cost += float(w[i]) * float(c)
    return cost


@njit(**JIT)
def block(buffer, offsets, m, rows, cols):  # pragma: no cover - compiled
    """Layer ``m``'s ``rows x cols`` block of a flat buffer."""
    return buffer[offsets[m] : offsets[m] + rows * cols].reshape((rows, cols))


@njit(**JIT)
def cost_and_gradient(  # pragma: no cover - compiled
    Xb, Yb, w, n_b, theta, grad, sizes, hidden, out_code, alpha, work, WT, blas
):
    """The reference engine's cost and gradient for built-in networks, as one call: the cost of the
    minibatch ``Xb``, ``Yb`` (rows weighted by ``w``, summing to 1; ``n_b`` their weight before
    scaling) and its gradient in ``grad``, laid out like ``theta`` (W^1, b^1, W^2, ...).

    ``hidden``: a code per hidden layer (see :func:`bias_activate`); ``out_code``: see
    :func:`output_layer`. ``work`` holds ``4 * len(Xb) * sum(sizes[1:])`` values (``z``, ``a``,
    ``sigma'(z)``, ``delta`` of every layer). The products are BLAS calls with ``blas``, loops
    otherwise (``WT``: room for the largest ``W^T``).
    """
    dt = theta.dtype.type
    L = sizes.size - 1
    nb = Xb.shape[0]
    poff = np.zeros(L + 1, dtype=np.int64)  # W^m, b^m start at poff[m] in theta and grad
    offs = np.zeros(L + 1, dtype=np.int64)  # layer m's units start at offs[m] in each block
    for m in range(L):
        poff[m + 1] = poff[m] + sizes[m + 1] * sizes[m] + sizes[m + 1]
        offs[m + 1] = offs[m] + nb * sizes[m + 1]
    units = offs[L]
    Zs, As = work[:units], work[units : 2 * units]
    Ts, Ds = work[2 * units : 3 * units], work[3 * units : 4 * units]
    # forward: z^m = W^m a^(m-1) + b^m, a^m = sigma^m(z^m)
    a = Xb
    cost = 0.0  # sum_i w_i C_i, from the output layer
    for m in range(L):
        n_in, n_out = sizes[m], sizes[m + 1]
        W = block(theta, poff, m, n_out, n_in)
        b = theta[poff[m] + n_out * n_in : poff[m + 1]]
        Z, A = block(Zs, offs, m, nb, n_out), block(As, offs, m, nb, n_out)
        times_transpose(a, W, Z, WT, blas)
        if m < L - 1:
            bias_activate(hidden[m], Z, b, A, block(Ts, offs, m, nb, n_out))
        else:
            cost = output_layer(out_code, Z, b, Yb, w, A, block(Ds, offs, m, nb, n_out))
        a = A
    # backward, from delta^L
    sumsq = 0.0  # sum_m ||W^m||^2, for the cost's L2 term
    for m in range(L - 1, -1, -1):
        n_in, n_out = sizes[m], sizes[m + 1]
        W, dW = block(theta, poff, m, n_out, n_in), block(grad, poff, m, n_out, n_in)
        D = block(Ds, offs, m, nb, n_out)
        if m == L - 1:
            db = grad[poff[m] + n_out * n_in : poff[m + 1]]
            for j in range(n_out):
                db[j] = 0
            for i in range(nb):
                for j in range(n_out):
                    db[j] += D[i, j]  # dC/db^L = delta^L, summed over the minibatch
        a = Xb if m == 0 else block(As, offs, m - 1, nb, n_in)
        transpose_times(D, a, dW, blas)  # dC/dW^m = delta^m a^(m-1)T, summed
        if alpha != 0:
            sumsq += add_scaled_sumsq(dW, W, dt(alpha / n_b))  # + alpha W^m / n
        if m > 0:
            # delta^(m-1) = (W^mT delta^m) o sigma'(z^(m-1)); dC/db^(m-1) = delta^(m-1), summed
            Dp = block(Ds, offs, m - 1, nb, n_in)
            times(D, W, Dp, blas)
            db = grad[poff[m - 1] + n_in * sizes[m - 1] : poff[m]]
            mask_colsum(Dp, block(Ts, offs, m - 1, nb, n_in), db)
    return cost + 0.5 * alpha / n_b * sumsq


@njit(**JIT)
def run_epoch(  # pragma: no cover - compiled
    X, Y, sw, order, theta, grad, sizes, hidden, out_code, alpha, opt_code, eta, p1, p2, eps,
    state1, state2, t0, Xb_all, Yb_all, wb_all, work, WT,
):  # fmt: skip
    """One epoch of minibatch steps over ``X[order]`` (minibatches of ``len(wb_all)`` rows,
    gathered into ``Xb_all``, ``Yb_all``, ``wb_all``), the products by loops; returns
    ``(sum_b |b| C_b, steps)`` (``|b|`` the rows of minibatch ``b``). Stops before stepping on
    a cost that is not finite.

    ``opt_code``: 0 gradient descent, 1 momentum, 2 Nesterov (``p1`` the momentum, ``state1``
    the velocity), 3 Adam (``p1``, ``p2`` the betas, ``state1``, ``state2`` the moments, ``t0``
    the steps taken so far).
    """
    dt = theta.dtype.type
    bs = wb_all.size
    total = 0.0
    steps = 0
    for start in range(0, X.shape[0], bs):
        nb = min(bs, X.shape[0] - start)
        Xb, Yb, wb = Xb_all[:nb], Yb_all[:nb], wb_all[:nb]
        n_b = gather_minibatch(X, Y, sw, order[start : start + nb], Xb, Yb, wb)
        if n_b == 0:
            continue
        cost = cost_and_gradient(
            Xb, Yb, wb, n_b, theta, grad, sizes, hidden, out_code, alpha, work, WT, False
        )
        total += cost * nb  # the epoch's loss: batch costs weighted by their rows
        if not np.isfinite(cost):  # a blow-up: stop before stepping on it
            break
        steps += 1
        if opt_code == 3:
            t = t0 + steps
            eta_t = dt(eta * math.sqrt(1 - p2 ** float(t)) / (1 - p1 ** float(t)))
            c1, c2 = dt(1 - p1), dt(1 - p2)
            adam_step(theta, grad, state1, state2, dt(p1), c1, dt(p2), c2, dt(eps), eta_t)
        elif opt_code == 0:
            descent_step(theta, grad, dt(eta))
        else:
            momentum_step(theta, grad, state1, dt(p1), dt(eta), opt_code == 2)
    return total, steps


# -- pieces of the compiled backend (chainrule.engine.compiled) ---------------------------------


@njit(**JIT)
def gather_rows(X, idx, out):  # pragma: no cover - compiled
    """``out[i] = X[idx[i]]``: the minibatch, copied into its buffer (and cast to its dtype:
    float32 data trains a float64 network without a float64 copy of the whole of ``X``).

    An explicit inner loop: numba compiles it to a vectorised copy, twice as fast as the
    slice assignment ``out[i, :] = X[r, :]``."""
    d = X.shape[1]
    for i in range(idx.size):
        r = idx[i]
        for j in range(d):
            out[i, j] = X[r, j]


@njit(**JIT)
def gather_minibatch(X, Y, sw, idx, Xb, Yb, w):  # pragma: no cover - compiled
    """The minibatch ``X[idx]``, ``Y[idx]`` (cast to the buffers' dtype) and ``w = sw[idx] /
    n_b`` in one call; returns ``n_b = sum_i sw[idx[i]]`` (``w`` is left unscaled if it is 0)."""
    gather_rows(X, idx, Xb)
    gather_rows(Y, idx, Yb)
    n_b = w.dtype.type(0)
    for i in range(idx.size):
        w[i] = sw[idx[i]]
        n_b += w[i]
    if n_b != 0:
        for i in range(idx.size):
            w[i] = w[i] / n_b
    return float(n_b)


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc"})
def add_scaled_sumsq(y, x, c):  # pragma: no cover - compiled
    """``y += x c`` (the L2 term ``dW^m += W^m alpha/n``), returning ``||x||^2`` for the cost's
    L2 term, summed in float64 in any order (the only reassociated sum; ``y`` is exact)."""
    s = 0.0
    for i in range(y.shape[0]):
        for j in range(y.shape[1]):
            xij = x[i, j]
            y[i, j] += xij * c
            s += np.float64(xij) * np.float64(xij)
    return s


@njit(**JIT)
def mask_colsum(D, T, db):  # pragma: no cover - compiled
    """``delta *= sigma'(z)`` (``T``, kept from the forward pass), then ``db = sum_i delta_i``
    (``dC/db^m``: the column sums), in one pass."""
    n, k = D.shape
    for j in range(k):
        db[j] = 0
    for i in range(n):
        for j in range(k):
            d = D[i, j] * T[i, j]
            D[i, j] = d
            db[j] += d
