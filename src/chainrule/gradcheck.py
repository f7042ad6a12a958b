"""Derivatives checked against central differences (:func:`chainrule.differences.numeric_gradient`
and the same step rule): a network's backpropagated gradient (:func:`check_gradients`), and a
user-supplied :class:`~chainrule.Activation` or :class:`~chainrule.Cost`, the first time a
:class:`~chainrule.Network` uses it (built-ins skip that).

Bottom layer: the network, activation and cost arrive as arguments; nothing here imports them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from chainrule.differences import central_difference, numeric_gradient, step_size

__all__ = ["check_activation", "check_cost", "check_gradients"]


def check_gradients(
    net: Any,
    X: ArrayLike,
    Y: ArrayLike,
    sample_weight: ArrayLike | None = None,
    *,
    step: float | None = None,
) -> float:
    """The largest relative error between backprop's gradient and central differences.

    For every parameter ``theta_j``: ``|g_bp - g_fd| / max(|g_bp|, |g_fd|, s)`` where
    ``g_fd = (C(theta + h e_j) - C(theta - h e_j)) / 2h``
    (:func:`chainrule.differences.numeric_gradient`)
    and ``s = 0.01 max_k |g_fd_k| + 1e-12`` keeps components far below the gradient's own scale,
    which central differences cannot resolve to many digits, from dominating.
    The check runs on a float64 copy of ``net``, so a float32 network is checked exactly too.

    >>> import numpy as np
    >>> from chainrule import Network
    >>> net = Network([3, 4, 2], activation="tanh", random_state=0)
    >>> X = np.random.default_rng(0).normal(size=(5, 3)); Y = np.zeros((5, 2))
    >>> check_gradients(net, X, Y) < 1e-6
    True
    """
    net64 = net.copy(np.float64)
    _, g_bp = net64.cost_and_gradient(X, Y, sample_weight)
    g_fd, _ = numeric_gradient(lambda _: net64.cost(X, Y, sample_weight), net64.theta, step=step)
    floor = 0.01 * float(np.max(np.abs(g_fd))) + 1e-12
    scale = np.maximum(np.maximum(np.abs(g_bp), np.abs(g_fd)), floor)
    return float(np.max(np.abs(g_bp - g_fd) / scale))


# -- derivative checks of user activations and costs --------------------------------------------

#: where a user activation's derivative is checked: away from 0 and from (half-)integers, where
#: hand-written activations put their kinks
_Z_POINTS = np.linspace(-2.27, 2.13, 9)


def _differences(g, x: np.ndarray, out: np.ndarray) -> tuple[np.ndarray, tuple, float]:
    """Central differences of ``g`` (entry ``i`` depends on ``x_i`` only) at ``x``, the two
    one-sided ones, and the relative tolerance they allow.

    One step rule, :func:`~chainrule.differences.step_size`, for the precision of ``g``'s values
    ``out`` (float32 ones take longer steps).  A one-sided difference ``(g(x + h) - g(x)) / h``
    is the central difference at ``x + h/2`` with step ``h/2``.
    """
    dtype = out.dtype if out.dtype.kind == "f" else np.dtype(np.float64)
    h = step_size(x, 1, dtype)
    fd, _ = central_difference(g, x, h)
    up, _ = central_difference(g, x + h / 2, h / 2)
    down, _ = central_difference(g, x - h / 2, h / 2)
    return fd, (up, down), max(1e-4, 100 * float(np.finfo(dtype).eps) ** (2 / 3))


def _worst(d, fd, one_sided, rtol, atol):
    """Index of the worst disagreement of ``d`` with ``fd`` (None if all agree) and its error.

    A point also agrees if ``d`` matches one of the one-sided differences: the activation has
    a kink there and ``d`` is one of its one-sided derivatives.
    """
    with np.errstate(all="ignore"):
        err = np.abs(d - fd)
        ok = ~np.isfinite(d) | ~np.isfinite(fd) | (err <= rtol * np.maximum(abs(d), abs(fd)) + atol)
        for side in one_sided:
            ok |= ~np.isfinite(side) | (np.abs(d - side) <= 10 * rtol * abs(d) + 10 * atol)
        rel = err / np.maximum(np.maximum(abs(d), abs(fd)), 1e-300)
    if ok.all():
        return None, 0.0
    idx = np.unravel_index(int(np.argmax(np.where(ok, -np.inf, rel))), d.shape)
    return idx, float(rel[idx])


def check_activation(act: Any, width: int = 1) -> None:
    """Raise ``ValueError`` if a user activation's derivative disagrees with central differences
    of its function (built-ins are not checked; the caller skips activations with their own
    ``backward``)."""
    if act.builtin:
        return
    rows = np.arange(len(_Z_POINTS))[:, None] + np.arange(max(int(width), 1))[None, :]
    z = _Z_POINTS[rows % len(_Z_POINTS)]
    with np.errstate(all="ignore"):
        a = np.asarray(act(z))
        if a.shape != z.shape:
            raise ValueError(
                f"activation {act.name!r}: its function returned shape {a.shape} for an input of "
                f"shape {z.shape}; an activation works elementwise"
            )
        fd, one_sided, rtol = _differences(act, z, a)
        atol = 1e-6 * (1 + np.abs(a.astype(float)))

        def derivative(of_output: bool) -> np.ndarray:
            d = np.asarray(act.derivative(a if of_output else z), dtype=float)
            try:
                return np.broadcast_to(d, z.shape)
            except ValueError:
                raise ValueError(
                    f"activation {act.name!r}: its derivative returned shape {d.shape} for an "
                    f"input of shape {z.shape}"
                ) from None

        d = derivative(act.of_output)
        idx, rel = _worst(d, fd, one_sided, rtol, atol)
        if idx is None:
            return
        hint = (
            "with of_output=True the derivative takes a = sigma(z)"
            if act.of_output
            else "the derivative takes z"
        )
        if not act.of_output:
            try:
                of_a = _worst(derivative(True), fd, one_sided, rtol, atol)[0] is None
            except Exception:  # a derivative that only takes z
                of_a = False
            if of_a:
                hint = "it looks like a function of a = sigma(z): pass of_output=True"
    raise ValueError(
        f"activation {act.name!r}: derivative {d[idx]:.6g} at z={z[idx]:.6g} disagrees with "
        f"central differences {fd[idx]:.6g} (relative error {rel:.2g}); {hint}"
    )


def check_cost(cost: Any, n_outputs: int = 1) -> None:
    """Raise ``ValueError`` if a user cost's ``dC/da`` disagrees with central differences of
    ``C`` (built-ins are not checked)."""
    if cost.builtin:
        return
    n = 6
    k = max(int(n_outputs), 1)
    grid = (np.arange(n)[:, None] * 0.618034 + np.arange(k)[None, :] * 0.381966) % 1.0
    a = 0.13 + 0.74 * grid  # inside (0, 1): valid for cross-entropies and positive outputs
    y = np.eye(max(k, 2))[np.arange(n) % max(k, 2)][:, :k]  # one-hot-like, so 0s and 1s
    y[-1] = 0.5  # and one target between them
    with np.errstate(all="ignore"):
        c = np.asarray(cost(y, a), dtype=float)
        if c.shape != (n,):
            raise ValueError(
                f"cost {cost.name!r}: its function returned shape {c.shape} for {n} samples; "
                f"it must return one cost per sample, shape ({n},)"
            )
        d = np.asarray(cost.derivative(y, a), dtype=float)
        try:
            d = np.broadcast_to(d, a.shape)
        except ValueError:
            raise ValueError(
                f"cost {cost.name!r}: its derivative returned shape {d.shape}; dC/da has the "
                f"shape of a, {a.shape}"
            ) from None
        fd = np.empty_like(a)
        one_sided = (np.empty_like(a), np.empty_like(a))
        for j in range(k):  # along output j; each sample's cost depends on its own row only

            def along(t: np.ndarray, j: int = j) -> np.ndarray:
                moved = a.copy()
                moved[:, j] = t
                return cost(y, moved)

            fd[:, j], (one_sided[0][:, j], one_sided[1][:, j]), rtol = _differences(
                along, a[:, j], c
            )
        atol = 1e-6 * (1 + np.abs(c))[:, None]
        idx, rel = _worst(d, fd, one_sided, rtol, atol)
    if idx is not None:
        raise ValueError(
            f"cost {cost.name!r}: derivative dC/da {d[idx]:.6g} at a={a[idx]:.6g}, "
            f"y={y[idx]:.6g} disagrees with central differences {fd[idx]:.6g} "
            f"(relative error {rel:.2g}); derivative(y, a) must be dC/da of function(y, a)"
        )
