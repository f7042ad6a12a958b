"""numba kernels for :mod:`chainrule._fast` (imported only when numba is installed).

Each kernel is the equation of the NumPy reference written as one loop, in the same order of
operations and in the arrays' own precision (scalars are cast to it by the callers), so the
optimizer kernels reproduce the reference bit for bit and the epoch kernel up to the order of
the sums in the matrix products.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}


@njit(**_JIT)
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


@njit(**_JIT)
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


@njit(**_JIT)
def _activate(code, Z, A, T):  # pragma: no cover - compiled
    """``a = sigma(z)`` for the hidden codes identity 0, relu 1, tanh 2, sigmoid 3; ``T`` keeps
    ``sigma'(z)``."""
    n, k = Z.shape
    one = Z.dtype.type(1)
    zero = Z.dtype.type(0)
    for i in range(n):
        for j in range(k):
            z = Z[i, j]
            if code == 1:
                t = one if z >= 0 else zero
                A[i, j] = z * t
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


@njit(**_JIT)
def _affine(a, W, b, WT, Z):  # pragma: no cover - compiled
    """``Z = a W^T + b``, row by row as ``z_i = b + sum_k a_ik W[:, k]`` (contiguous loops)."""
    n_out, n_in = W.shape
    for k in range(n_in):
        for j in range(n_out):
            WT[k, j] = W[j, k]
    for i in range(a.shape[0]):
        for j in range(n_out):
            Z[i, j] = b[j]
        for k in range(n_in):
            aik = a[i, k]
            if aik != 0:
                for j in range(n_out):
                    Z[i, j] += aik * WT[k, j]


@njit(**_JIT)
def run_epoch(  # pragma: no cover - compiled
    X,
    Y,
    sw,
    order,
    batch_size,
    theta,
    grad,
    sizes,
    hidden,
    out_code,
    alpha,
    opt_code,
    eta,
    p1,
    p2,
    eps,
    state1,
    state2,
    t0,
    work,
):
    """One epoch of minibatch steps over ``X[order]``; returns ``(sum_b n_b C_b, steps)``.

    ``out_code``: 0 identity + squared error, 1 softmax + categorical cross-entropy, 2 sigmoid +
    binary cross-entropy. ``opt_code``: 0 gradient descent, 1 momentum, 2 Nesterov (``p1`` the
    momentum, ``state1`` the velocity), 3 Adam (``p1``, ``p2`` the betas, ``state1``,
    ``state2`` the moments, ``t0`` the steps taken so far).
    """
    dt = theta.dtype.type
    one = dt(1)
    L = sizes.size - 1
    n_samples = X.shape[0]
    width = 0
    for m in range(L + 1):
        width = max(width, sizes[m])
    bs = batch_size
    # the workspace: per layer z^m, a^m, sigma'(z^m), delta^m, then W^T and the minibatch
    offs = np.zeros(L + 1, dtype=np.int64)
    for m in range(L):
        offs[m + 1] = offs[m] + bs * sizes[m + 1]
    total_units = offs[L]
    Zb = work[0:total_units]
    Ab = work[total_units : 2 * total_units]
    Tb = work[2 * total_units : 3 * total_units]
    Db = work[3 * total_units : 4 * total_units]
    base = 4 * total_units
    WTb = work[base : base + width * width]
    base += width * width
    Xb_all = work[base : base + bs * sizes[0]]
    base += bs * sizes[0]
    Yb_all = work[base : base + bs * sizes[L]]
    base += bs * sizes[L]
    wb_all = work[base : base + bs]
    # parameter offsets in theta: W^1, b^1, W^2, b^2, ...
    poff = np.zeros(L + 1, dtype=np.int64)
    for m in range(L):
        poff[m + 1] = poff[m] + sizes[m + 1] * sizes[m] + sizes[m + 1]
    total = 0.0
    steps = 0
    for start in range(0, n_samples, bs):
        nb = min(bs, n_samples - start)
        Xb = Xb_all[: nb * sizes[0]].reshape((nb, sizes[0]))
        Yb = Yb_all[: nb * sizes[L]].reshape((nb, sizes[L]))
        wb = wb_all[:nb]
        n_b = dt(0)
        for i in range(nb):
            r = order[start + i]
            Xb[i, :] = X[r, :]
            Yb[i, :] = Y[r, :]
            wb[i] = sw[r]
        n_b = np.sum(wb)
        if n_b == 0:
            continue
        for i in range(nb):
            wb[i] = wb[i] / n_b
        # forward: z^m = W^m a^(m-1) + b^m, a^m = sigma^m(z^m)
        a = Xb
        for m in range(L):
            n_in, n_out = sizes[m], sizes[m + 1]
            W = theta[poff[m] : poff[m] + n_out * n_in].reshape((n_out, n_in))
            b = theta[poff[m] + n_out * n_in : poff[m + 1]]
            Z = Zb[offs[m] : offs[m] + nb * n_out].reshape((nb, n_out))
            A = Ab[offs[m] : offs[m] + nb * n_out].reshape((nb, n_out))
            T = Tb[offs[m] : offs[m] + nb * n_out].reshape((nb, n_out))
            _affine(a, W, b, WTb[: n_in * n_out].reshape((n_in, n_out)), Z)
            if m < L - 1:
                _activate(hidden[m], Z, A, T)
            a = A
        # the output layer, its cost and delta^L = (a^L - y) w_i
        n_out = sizes[L]
        Z = Zb[offs[L - 1] : offs[L - 1] + nb * n_out].reshape((nb, n_out))
        A = Ab[offs[L - 1] : offs[L - 1] + nb * n_out].reshape((nb, n_out))
        D = Db[offs[L - 1] : offs[L - 1] + nb * n_out].reshape((nb, n_out))
        cost = 0.0
        for i in range(nb):
            ci = dt(0)
            if out_code == 1:
                mx = Z[i, 0]
                for j in range(n_out):
                    mx = max(mx, Z[i, j])
                s = dt(0)
                for j in range(n_out):
                    e = math.exp(Z[i, j] - mx)
                    A[i, j] = e
                    s += e
                lse = math.log(s) + mx
                for j in range(n_out):
                    A[i, j] = A[i, j] / s
                    ci += Yb[i, j] * (lse - Z[i, j])  # C = sum_k y_k (logsumexp(z) - z_k)
            elif out_code == 2:
                for j in range(n_out):
                    z = Z[i, j]
                    A[i, j] = one / (one + math.exp(-z))
                    # C = log(1 + e^z) - y z
                    ci += max(z, dt(0)) + math.log1p(math.exp(-abs(z))) - Yb[i, j] * z
            else:
                for j in range(n_out):
                    A[i, j] = Z[i, j]
                    r = Z[i, j] - Yb[i, j]
                    ci += dt(0.5) * r * r  # C = 1/2 (y - a)^T (y - a)
            for j in range(n_out):
                D[i, j] = (A[i, j] - Yb[i, j]) * wb[i]  # dC/dz^L = a^L - y
            cost += float(wb[i]) * float(ci)
        if alpha != 0:
            sq = 0.0
            for m in range(L):
                n_in, n_o = sizes[m], sizes[m + 1]
                for p in range(poff[m], poff[m] + n_o * n_in):
                    sq += float(theta[p]) * float(theta[p])
            cost += 0.5 * float(alpha) / float(n_b) * sq
        total += cost * float(n_b)
        if not np.isfinite(cost):  # a blow-up: stop before stepping on it
            break
        # backward
        for m in range(L - 1, -1, -1):
            n_in, n_out = sizes[m], sizes[m + 1]
            W = theta[poff[m] : poff[m] + n_out * n_in].reshape((n_out, n_in))
            dW = grad[poff[m] : poff[m] + n_out * n_in].reshape((n_out, n_in))
            db = grad[poff[m] + n_out * n_in : poff[m + 1]]
            D = Db[offs[m] : offs[m] + nb * n_out].reshape((nb, n_out))
            if m == 0:
                a = Xb
            else:
                a = Ab[offs[m - 1] : offs[m - 1] + nb * n_in].reshape((nb, n_in))
            # dC/dW^m = delta^m a^(m-1)T and dC/db^m = delta^m, summed over the batch
            dW[:, :] = 0
            db[:] = 0
            for i in range(nb):
                for j in range(n_out):
                    d = D[i, j]
                    db[j] += d
                    if d != 0:
                        for k in range(n_in):
                            dW[j, k] += d * a[i, k]
            if alpha != 0:
                c = dt(alpha / n_b)
                for j in range(n_out):
                    for k in range(n_in):
                        dW[j, k] += W[j, k] * c
            if m > 0:
                # delta^(m-1) = (W^mT delta^m) o sigma'^(m-1)(z^(m-1))
                Dp = Db[offs[m - 1] : offs[m - 1] + nb * n_in].reshape((nb, n_in))
                Tp = Tb[offs[m - 1] : offs[m - 1] + nb * n_in].reshape((nb, n_in))
                for i in range(nb):
                    for k in range(n_in):
                        Dp[i, k] = 0
                    for j in range(n_out):
                        d = D[i, j]
                        if d != 0:
                            for k in range(n_in):
                                Dp[i, k] += d * W[j, k]
                    for k in range(n_in):
                        Dp[i, k] *= Tp[i, k]
        # the optimizer step
        steps += 1
        if opt_code == 3:
            t = t0 + steps
            eta_t = dt(eta * math.sqrt(1 - p2 ** float(t)) / (1 - p1 ** float(t)))
            c1, c2 = dt(1 - p1), dt(1 - p2)
            adam_step(theta, grad, state1, state2, dt(p1), c1, dt(p2), c2, dt(eps), eta_t)
        elif opt_code == 0:
            e = dt(eta)
            for p in range(theta.size):
                theta[p] -= e * grad[p]
        else:
            momentum_step(theta, grad, state1, dt(p1), dt(eta), opt_code == 2)
    return total, steps


# -- pieces of the minibatch engine (chainrule._fast.MinibatchEngine) ---------------------------


@njit(**_JIT)
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


@njit(**_JIT)
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


@njit(**_JIT)
def bias_activate(code, Z, b, A, T):  # pragma: no cover - compiled
    """``z += b`` then :func:`_activate` (``a = sigma(z)``, ``T = sigma'(z)``) in one pass."""
    n, k = Z.shape
    for i in range(n):
        for j in range(k):
            Z[i, j] += b[j]
    _activate(code, Z, A, T)


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


@njit(**_JIT)
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


@njit(**_JIT)
def softmax_xent(Z, Y, w, A, D, costs):  # pragma: no cover - compiled
    """Softmax ``a^L``, the cross-entropy ``C_i = sum_k y_k (logsumexp(z) - z_k)`` and
    ``delta^L = (a^L - y) w_i``, row by row."""
    n, k = Z.shape
    for i in range(n):
        mx = Z[i, 0]
        for j in range(k):
            mx = max(mx, Z[i, j])
        s = Z.dtype.type(0)
        for j in range(k):
            e = math.exp(Z[i, j] - mx)
            A[i, j] = e
            s += e
        lse = math.log(s) + mx
        c = Z.dtype.type(0)
        for j in range(k):
            A[i, j] = A[i, j] / s
            c += Y[i, j] * (lse - Z[i, j])
            D[i, j] = (A[i, j] - Y[i, j]) * w[i]
        costs[i] = c
