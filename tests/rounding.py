"""Float64 rounding-error bounds of a network's output, cost and gradient: the tolerance of the
tests that compare two computations of the same math summed in another order (sparse and dense
X, dask blocks and memory). Each result is within the bound of the exact value, so two of them
differ by at most twice the bound (:func:`assert_same_objective`). :func:`starting_objectives`
records the cost and gradient each L-BFGS fit starts from, where two fits from the same weights
can be compared (their weights after the fit cannot: L-BFGS amplifies a difference in the last
bits by a factor nothing bounds).

A running error analysis of the reference engine's lines (chainrule.engine.reference), to first
order in the unit roundoff ``u``, in absolute terms, element by element:

* a sum of ``k`` products, in any order, is within ``gamma_k`` times the sum of the terms'
  magnitudes (Higham, Accuracy and Stability of Numerical Algorithms, eq. 3.5);
* an elementwise operation adds one rounding ``u`` of its result (NumPy's float64 exp, log and
  tanh are within 4 ULP, ``8 u``: NumPy 1.22 release notes, SIMD transcendental functions);
* an error already in an operand goes through the operation's derivative: tanh, relu and the
  identity have slopes at most 1, softmax moves ``a_k`` by at most
  ``a_k (|dz_k| + sum_j a_j |dz_j|)``, logsumexp by ``sum_j a_j |dz_j|``;
* a sum over the samples also carries, per term, the roundings of its weight ``s_i / S`` (in
  dask's blocks ``s_i / S_k``, times ``S_k``, over ``S``) and of the two weight sums ``S_k`` and
  ``S`` (``gamma_n`` each): ``gamma_(2n + 8)`` covers them.

A relu whose pre-activation lies within its error bound of 0 could take the other branch, where
no bound holds: :func:`rounding_bounds` refuses such a problem.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chainrule.training import train_lbfgs, trainer

#: float64's unit roundoff, eps / 2
U = np.finfo(np.float64).eps / 2
#: NumPy's float64 exp, log and tanh: within 4 ULP
TRANSCENDENTAL = 8 * U


def gamma(k: int) -> float:
    """Higham's ``gamma_k = k u / (1 - k u)``."""
    return k * U / (1 - k * U)


@dataclass
class Bounds:
    """Bounds on the rounding error of ``a^L`` (per element), the cost, and the gradient (laid
    out as ``theta``)."""

    a: np.ndarray
    cost: float
    grad: np.ndarray


def assert_same_objective(got, expected, bound: Bounds) -> None:
    """Two ``(cost, gradient)`` evaluations of the same math within twice ``bound``."""
    assert abs(got[0] - expected[0]) <= 2 * bound.cost
    assert np.all(np.abs(np.asarray(got[1]) - expected[1]) <= 2 * bound.grad)


def starting_objectives(monkeypatch) -> list:
    """Where each L-BFGS fit of an estimator starts: ``(network, (cost, gradient))`` from the
    objective it is handed (in memory, sparse, or summed over dask's blocks), recorded in the
    returned list as the fits run."""
    seen = []

    def spy(net, source, record, **kw):
        seen.append((net.copy(), source.objective(net)(net.theta.astype(np.float64))))
        return train_lbfgs(net, source, record, **kw)

    monkeypatch.setattr(trainer, "train_lbfgs", spy)
    return seen


def rounding_bounds(net, X, Y, sample_weight=None) -> Bounds:
    """:class:`Bounds` of ``net``'s ``forward(X)``, ``cost`` and ``cost_and_gradient(X, Y,
    sample_weight)`` in float64, for hidden layers of tanh, relu or the identity and a softmax
    output with the categorical cross-entropy or an identity output with the squared error."""
    n = X.shape[0]
    w = np.full(n, 1 / n) if sample_weight is None else sample_weight / np.sum(sample_weight)
    trace = net.backprop(X, Y, sample_weight=sample_weight)
    Ea, Ez = _forward_bounds(net, trace, np.asarray(X))
    aL, zL = trace.a[-1], trace.z[-1]
    if net.activations[-1].name == "softmax":
        assert net.cost_function.name == "categorical_cross_entropy"
        EaL, C_i, EC_i = _softmax_cross_entropy(aL, zL, Ez, Y)
    else:
        assert (net.activations[-1].name, net.cost_function.name) == ("identity", "squared_error")
        EaL, (C_i, EC_i) = Ez, _squared_error(aL - Y, Ez)
    sums = gamma(2 * n + 8)  # a sum over the samples (see the module's docstring)
    # C = sum_i w_i C_i + alpha / (2 n) sum_m ||W^m||^2 (in dask's blocks: a few roundings more)
    penalty = 0.5 * net.alpha / n * sum(float(np.sum(W * W)) for W in net.W)
    EC = sums * np.sum(w * np.abs(C_i)) + np.sum(w * EC_i) + 4 * U * penalty + U * abs(trace.cost)
    # delta^L = (a^L - y) w_i, then backwards: delta^(m-1) = (delta^m W^m) o sigma'(z^(m-1))
    Ed = [None] * net.L
    Ed[-1] = w[:, None] * (EaL + 2 * U * np.abs(aL - Y))
    for m in range(net.L - 1, 0, -1):
        Ed[m - 1] = _hidden_delta_bound(net, trace, Ea, Ed, m)
    grad = []
    for m in range(net.L):  # dW^m = delta^mT a^(m-1), db^m = sum_i delta^m: sums over samples
        d, a = np.abs(trace.delta[m]), np.abs(trace.a[m])
        EW = sums * d.T @ a + Ed[m].T @ a + d.T @ Ea[m]
        EW += 4 * U * net.alpha / n * np.abs(net.W[m]) + U * np.abs(trace.dW[m])  # + alpha W / n
        grad += [EW.ravel(), sums * d.sum(axis=0) + Ed[m].sum(axis=0)]
    return Bounds(a=EaL, cost=float(EC), grad=np.concatenate(grad))


def _forward_bounds(net, trace, X):
    """The bounds of each hidden ``a^m`` (``Ea[0] = 0``: the input is exact) and of ``z^L``."""
    Ea = [np.zeros_like(X, dtype=np.float64)]
    for m in range(net.L):  # z^m = W^m a^(m-1) + b^m: N^(m-1) products and the bias
        absW = np.abs(net.W[m])
        terms = np.abs(trace.a[m]) @ absW.T + np.abs(net.b[m])
        Ez = gamma(net.layer_sizes[m] + 1) * terms + Ea[m] @ absW.T
        if m == net.L - 1:
            return Ea, Ez
        name = net.activations[m].name
        if name == "tanh":
            Ea.append(Ez + TRANSCENDENTAL * np.abs(trace.a[m + 1]))
        else:
            assert name in ("relu", "identity"), name
            if name == "relu":  # the branch taken must be the same in both computations
                assert (np.abs(trace.z[m]) > Ez).all(), "a pre-activation within rounding of 0"
            Ea.append(Ez)
    raise AssertionError("unreachable")


def _softmax_cross_entropy(aL, zL, Ez, Y):
    """Bounds of ``a^L = exp(z - max z) / sum exp(z - max z)`` and of
    ``C_i = logsumexp(z^L) - z^L_y`` (one-hot ``y``), row by row."""
    spread = np.ptp(zL, axis=1, keepdims=True)
    moved = aL * Ez + aL * (aL * Ez).sum(axis=1, keepdims=True)
    s_error = U * spread + TRANSCENDENTAL + gamma(aL.shape[1])  # relative, of sum exp(z - max)
    EaL = moved + aL * (2 * s_error + U)
    top = zL.max(axis=1, keepdims=True)
    log_s = np.log(np.exp(zL - top).sum(axis=1, keepdims=True))
    E_lse = (aL * Ez).sum(axis=1, keepdims=True) + s_error + TRANSCENDENTAL * log_s
    E_lse += U * np.abs(top + log_s)
    d = top + log_s - zL
    return EaL, (Y * d).sum(axis=1), (Y * (E_lse + Ez + U * np.abs(d))).sum(axis=1)


def _squared_error(r, Er):
    """``C_i = 1/2 sum_k r_k^2`` with ``r = a - y`` (``a`` within ``Er``), and its bound."""
    Er = Er + U * np.abs(r)  # the subtraction
    r2 = (r * r).sum(axis=1)
    return 0.5 * r2, 0.5 * (gamma(r.shape[1]) * r2 + (2 * np.abs(r) * Er).sum(axis=1))


def _hidden_delta_bound(net, trace, Ea, Ed, m):
    """Bound of ``delta^m = (delta^(m+1) W^(m+1)) o sigma'(z^m)`` (Python's ``m - 1``)."""
    absW = np.abs(net.W[m])
    g = trace.delta[m] @ net.W[m]
    Eg = gamma(net.layer_sizes[m + 1]) * np.abs(trace.delta[m]) @ absW + Ed[m] @ absW
    name, a = net.activations[m - 1].name, trace.a[m]
    if name == "tanh":  # sigma' = 1 - a^2
        s = 1 - a * a
        Es = 2 * np.abs(a) * Ea[m] + U * (a * a + np.abs(s))
        return Eg * np.abs(s) + np.abs(g) * Es + U * np.abs(g * s)
    if name == "relu":  # sigma' is 0 or 1, the same in both (see _forward_bounds): exact
        return Eg * (trace.z[m - 1] > 0)
    return Eg  # the identity
