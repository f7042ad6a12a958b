"""The multi-layer perceptron: forward pass and backpropagation, vectorised over a minibatch.

Notation follows the seed ("Notation"): ``L`` layers, ``N^m`` units in layer ``m``,
``W^m`` of shape ``(N^m, N^(m-1))``, ``b^m`` of shape ``(N^m,)``, ``z^m = W^m a^(m-1) + b^m``,
``a^m = sigma^m(z^m)``, ``delta^m = dC/dz^m``. Python indexes layers from 0, so ``W[m - 1]`` is
``W^m``.

Batch convention: samples are rows. A batch ``A^(m-1)`` of shape ``(n, N^(m-1))`` holds one
``a^(m-1)`` per row, so the seed's column equation ``z^m = W^m a^(m-1) + b^m`` becomes
``Z^m = A^(m-1) W^mT + b^m`` and ``dC/dW^m = delta^m a^(m-1)T`` summed over the samples becomes
``dW^m = Delta^mT A^(m-1)``.

All parameters live in one flat buffer, :attr:`Network.theta`; ``W`` and ``b`` are views of it
(so are the gradients), which lets an optimizer update every parameter in a few whole-buffer
operations.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike
from scipy.sparse import issparse

from chainrule._checks import (
    as_float_array,
    check_activation,
    check_cost,
    check_finite,
    check_sample_weight,
)
from chainrule.activations import RELU_FAMILY, Activation, get_activation
from chainrule.costs import Cost, get_cost

INITS = ("glorot_uniform", "he_normal", "normal")

#: rows per block of the prediction forward pass (:meth:`Network._logits`)
_PREDICT_BLOCK = 2048


def _layer_sizes(layer_sizes: Sequence[int]) -> list[int]:
    """``layer_sizes`` as a list of at least two positive ints, or an error naming the bad one."""
    if isinstance(layer_sizes, str) or not isinstance(layer_sizes, Iterable):
        raise TypeError(
            f"layer_sizes must be a sequence of integers such as [4, 8, 3], got {layer_sizes!r}"
        )
    sizes = list(layer_sizes)
    for m, n in enumerate(sizes):
        if isinstance(n, bool) or not isinstance(n, Real):
            raise TypeError(f"layer_sizes must hold integers; layer {m} is {n!r}, in {sizes}")
        if not (isinstance(n, Integral) or float(n).is_integer()):
            raise ValueError(f"layer_sizes must hold integers; layer {m} is {n!r}, in {sizes}")
    sizes = [int(n) for n in sizes]
    if len(sizes) < 2:
        raise ValueError(
            f"layer_sizes must hold at least two positive integers (the input and the output "
            f"sizes), got {sizes}"
        )
    for m, n in enumerate(sizes):
        if n < 1:
            raise ValueError(f"layer_sizes must be positive; layer {m} has {n} units, in {sizes}")
    return sizes


class ParameterList(Sequence):
    """The live ``W^m`` (or ``b^m``) arrays: views of the network's flat buffer.

    ``params[m][...] = value`` and ``params[m] = value`` both write into the network.
    """

    def __init__(self, arrays: list[np.ndarray]) -> None:
        self._arrays = arrays

    def __getitem__(self, m):
        return self._arrays[m]

    def __len__(self) -> int:
        return len(self._arrays)

    def __setitem__(self, m: int, value: ArrayLike) -> None:
        target = self._arrays[m]
        value = np.asarray(value)
        if value.shape != target.shape:
            raise ValueError(f"expected an array of shape {target.shape}, got {value.shape}")
        target[...] = value

    def __repr__(self) -> str:
        return f"ParameterList({self._arrays!r})"


@dataclass
class Trace:
    """Everything one forward and backward pass computes (``chainrule explain`` prints it).

    ``z[m - 1]``, ``a[m]``, ``delta[m - 1]``, ``dW[m - 1]``, ``db[m - 1]`` belong to layer ``m``
    (``a[0]`` is the input ``a^0``). Rows of ``z``, ``a`` and ``delta`` are samples; ``delta`` is
    the derivative of the batch cost ``C`` (the mean over samples), so each row carries its
    sample's weight ``1/n``.
    """

    z: list[np.ndarray]
    a: list[np.ndarray]
    delta: list[np.ndarray]
    dW: list[np.ndarray]
    db: list[np.ndarray]
    cost: float


class Network:
    """A fully connected network trained by backpropagation.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``[N^0, N^1, ..., N^L]``, the input dimensionality first (the seed's ``layer_sizes``).
    activation : str, Activation or list of them, default="sigmoid"
        ``sigma^m`` of the hidden layers: one for all, or one per hidden layer.
    output_activation : str or Activation, optional
        ``sigma^L``. By default the cost's matching activation (``identity`` for squared error,
        ``sigmoid`` for binary and ``softmax`` for categorical cross-entropy).
    cost : str or Cost, default="squared_error"
        ``C(a^L, y)`` of one sample; the batch cost is the (weighted) mean over samples.
    alpha : float, default=0.0
        L2 penalty: ``C += alpha / (2 n) sum_m ||W^m||^2`` for a batch of ``n`` samples
        (scikit-learn's convention; ``n`` is the sum of the sample weights when given).
    init : {"glorot_uniform", "he_normal", "normal"}, optional
        Weight initialisation. By default He for layers with a ReLU-family activation and
        Glorot-uniform otherwise; ``"normal"`` is the seed's ``np.random.randn`` for ``W``
        and ``b``.
    dtype : float32 or float64, default=float64
        The precision of the parameters and of every computation.
    random_state : int, numpy.random.Generator or None
        Seeds the initial weights.

    Examples
    --------
    >>> import numpy as np
    >>> net = Network([4, 8, 3], activation="tanh", output_activation="softmax",
    ...               cost="categorical_cross_entropy", random_state=0)
    >>> net.W[0].shape, net.b[0].shape
    ((8, 4), (8,))
    >>> X = np.ones((5, 4)); Y = np.eye(3)[[0, 1, 2, 0, 1]]
    >>> net.forward(X).shape
    (5, 3)
    >>> dW, db = net.gradients(X, Y)
    >>> [g.shape for g in dW]
    [(8, 4), (3, 8)]
    """

    def __init__(
        self,
        layer_sizes: Sequence[int],
        activation: str | Activation | Sequence[str | Activation] = "sigmoid",
        output_activation: str | Activation | None = None,
        cost: str | Cost = "squared_error",
        alpha: float = 0.0,
        init: str | None = None,
        dtype: DTypeLike = np.float64,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        sizes = _layer_sizes(layer_sizes)
        self.layer_sizes = tuple(sizes)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}")
        if isinstance(alpha, bool) or not isinstance(alpha, Real):
            raise TypeError(f"alpha must be a real number >= 0, got {alpha!r}")
        if not (np.isfinite(alpha) and alpha >= 0):
            raise ValueError(f"alpha must be >= 0 and finite, got {alpha}")
        self.alpha = float(alpha)
        self.cost_function = get_cost(cost)
        hidden = (
            activation if isinstance(activation, list | tuple) else [activation] * self.L_hidden
        )
        if len(hidden) != self.L_hidden:
            raise ValueError(
                f"got {len(hidden)} hidden activations for {self.L_hidden} hidden layers"
            )
        if output_activation is None:
            output_activation = self.cost_function.canonical_link or "identity"
        self.activations = [get_activation(s) for s in hidden] + [get_activation(output_activation)]
        for act in self.activations[:-1]:
            if act.name == "softmax":
                raise ValueError("softmax is for the output layer only")
        # a user activation or cost must be differentiated right: check it against central
        # differences now, before it is used (built-ins skip this; so does whatever the
        # cost's matching output activation makes unused)
        canonical = self._uses_canonical_link()
        for m, act in enumerate(self.activations):
            if not (canonical and m == self.L - 1):
                check_activation(act, width=sizes[m + 1])
        if not canonical:
            check_cost(self.cost_function, n_outputs=sizes[-1])
        shapes = [(n_out, n_in) for n_in, n_out in pairwise(sizes)]
        self.theta = np.zeros(sum(r * c + r for r, c in shapes), dtype=self.dtype)
        W, b = self.unflatten(self.theta)
        self.W, self.b = ParameterList(W), ParameterList(b)
        self.initialize(init, random_state)

    # -- structure ---------------------------------------------------------------------------

    @property
    def L(self) -> int:
        """The number of layers with weights (the seed's ``L``)."""
        return len(self.layer_sizes) - 1

    @property
    def L_hidden(self) -> int:
        """The number of hidden layers, ``L - 1``."""
        return len(self.layer_sizes) - 2

    @property
    def n_params(self) -> int:
        """The number of weights and biases."""
        return self.theta.size

    def unflatten(self, flat: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Views ``(W, b)`` of a flat parameter-shaped buffer (``theta`` or a gradient).

        The buffer holds ``W^1, b^1, W^2, b^2, ...`` in order, each ``W^m`` row-major.
        """
        W, b, offset = [], [], 0
        for n_in, n_out in pairwise(self.layer_sizes):
            W.append(flat[offset : offset + n_out * n_in].reshape(n_out, n_in))
            offset += n_out * n_in
            b.append(flat[offset : offset + n_out])
            offset += n_out
        return W, b

    def initialize(
        self, init: str | None = None, random_state: int | np.random.Generator | None = None
    ) -> Network:
        """Draw new initial weights in place; returns the network.

        Glorot-uniform: ``W_ij ~ U(-r, r)``, ``r = sqrt(6 / (N^(m-1) + N^m))``, ``b = 0``.
        He: ``W_ij ~ N(0, 2 / N^(m-1))``, ``b = 0``. Normal (the seed): ``W_ij, b_i ~ N(0, 1)``.
        """
        if init is not None and init not in INITS:
            raise ValueError(f"unknown init {init!r}; valid names are {list(INITS)}")
        rng = np.random.default_rng(random_state)
        for m in range(self.L):
            n_out, n_in = self.W[m].shape
            scheme = init or (
                "he_normal" if self.activations[m].name in RELU_FAMILY else "glorot_uniform"
            )
            if scheme == "glorot_uniform":
                bound = np.sqrt(6.0 / (n_in + n_out))
                self.W[m][...] = rng.uniform(-bound, bound, size=(n_out, n_in))
                self.b[m][...] = 0
            elif scheme == "he_normal":
                self.W[m][...] = rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_out, n_in))
                self.b[m][...] = 0
            else:
                self.W[m][...] = rng.standard_normal((n_out, n_in))
                self.b[m][...] = rng.standard_normal(n_out)
        return self

    def copy(self, dtype: DTypeLike | None = None) -> Network:
        """An independent copy, optionally in another precision."""
        new = object.__new__(Network)
        new.__dict__.update(self.__dict__)
        new.dtype = np.dtype(dtype or self.dtype)
        new.theta = self.theta.astype(new.dtype, copy=True)
        W, b = new.unflatten(new.theta)
        new.W, new.b = ParameterList(W), ParameterList(b)
        new.activations = list(self.activations)
        return new

    def __getstate__(self) -> dict:
        # W and b are views of theta: pickle theta alone and rebuild the views on loading
        state = self.__dict__.copy()
        del state["W"], state["b"]
        state["dtype"] = self.dtype.name
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.dtype = np.dtype(state["dtype"])
        W, b = self.unflatten(self.theta)
        self.W, self.b = ParameterList(W), ParameterList(b)

    def __repr__(self) -> str:
        acts = ", ".join(a.name for a in self.activations)
        return (
            f"Network({list(self.layer_sizes)}, activations=[{acts}], "
            f"cost={self.cost_function.name!r}, alpha={self.alpha}, dtype={self.dtype.name})"
        )

    # -- input checks ------------------------------------------------------------------------

    def _as_input(self, X: ArrayLike) -> np.ndarray:
        """``X`` as a finite ``(n_samples, N^0)`` array of the network's dtype, or a ValueError
        (TypeError for non-numbers) that names the problem and the first offending entry."""
        n_in = self.layer_sizes[0]
        if issparse(X):
            raise TypeError(
                "X is a scipy sparse matrix; Network takes dense arrays (use X.toarray()), "
                "while MLPClassifier and MLPRegressor take sparse input"
            )
        X = np.asarray(X)
        if X.ndim == 1 and X.shape[0] == n_in:
            X = X.reshape(1, -1)  # one sample
        if X.ndim != 2:
            hint = "; a single sample is X.reshape(1, -1)" if X.ndim == 1 else ""
            raise ValueError(
                f"X must be a 2-D array of shape (n_samples, {n_in}), got a {X.ndim}-D array "
                f"of shape {X.shape}{hint}"
            )
        if X.shape[1] != n_in:
            raise ValueError(
                f"X has {X.shape[1]} features but the network's input layer has {n_in}: "
                f"X must have shape (n_samples, {n_in}), got {X.shape}"
            )
        if X.shape[0] == 0:
            raise ValueError(f"X has 0 samples (shape {X.shape}); at least 1 is needed")
        raw = X
        X = as_float_array(X, self.dtype, "X", "the network's input must be numeric")
        check_finite(X, "X", raw)
        return X

    def _as_target(self, Y: ArrayLike, n_samples: int) -> np.ndarray:
        """``Y`` as a finite ``(n_samples, N^L)`` array of the network's dtype."""
        n_out = self.layer_sizes[-1]
        if issparse(Y):
            raise TypeError("Y is a scipy sparse matrix; Network takes dense targets")
        Y = np.asarray(Y)
        if Y.ndim == 1 and n_out == 1:
            Y = Y.reshape(-1, 1)
        if Y.shape != (n_samples, n_out):
            raise ValueError(
                f"Y must have shape ({n_samples}, {n_out}), one row of {n_out} target(s) per "
                f"sample of X, got {Y.shape}"
            )
        raw = Y
        Y = as_float_array(Y, self.dtype, "Y", "targets must be numeric")
        check_finite(Y, "Y", raw)
        return Y

    def _sample_weights(self, sample_weight: ArrayLike | None, n_samples: int) -> np.ndarray:
        """``w_i`` with ``sum_i w_i = 1``: the batch cost is ``C = sum_i w_i C_i``."""
        if sample_weight is None:
            return np.full(n_samples, 1.0 / n_samples, dtype=self.dtype)
        sw = check_sample_weight(sample_weight, n_samples, self.dtype)
        return sw / sw.sum()

    # -- the forward pass --------------------------------------------------------------------

    def forward(self, X: ArrayLike) -> np.ndarray:
        """The output ``a^L`` for each row of ``X``: ``a^m = sigma^m(W^m a^(m-1) + b^m)``."""
        return self._forward(self._as_input(X))

    def _forward(self, a: np.ndarray) -> np.ndarray:
        """:meth:`forward` for an input already checked (dense or scipy sparse ``a^0``)."""
        return self.activations[-1](self._logits(a))  # a^L = sigma^L(z^L)

    def _logits(self, a: np.ndarray) -> np.ndarray:
        """``z^L`` for a checked input: the forward pass up to the output activation.

        A large dense input goes through in blocks of rows, so that each ``z^m`` stays in the
        cache between its product, its bias and its activation.
        """
        n = a.shape[0]
        if issparse(a) or n <= 2 * _PREDICT_BLOCK:
            return self._logits_block(a)
        blocks = [
            self._logits_block(a[s : s + _PREDICT_BLOCK]) for s in range(0, n, _PREDICT_BLOCK)
        ]
        return np.concatenate(blocks)

    def _logits_block(self, a: np.ndarray) -> np.ndarray:
        for W, b, sigma in zip(self.W[:-1], self.b[:-1], self.activations[:-1], strict=True):
            z = a @ W.T
            z += b  # z^m = W^m a^(m-1) + b^m
            a = sigma(z)  # a^m = sigma^m(z^m)
        z = a @ self.W[-1].T
        z += self.b[-1]  # z^L = W^L a^(L-1) + b^L
        return z

    def _forward_trace(self, X: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        z, a = [], [X]  # a^0 is the input
        for W, b, sigma in zip(self.W, self.b, self.activations, strict=True):
            z.append(a[-1] @ W.T + b)  # z^m = W^m a^(m-1) + b^m
            a.append(sigma(z[-1]))  # a^m = sigma^m(z^m)
        return z, a

    # -- the cost ----------------------------------------------------------------------------

    def _uses_canonical_link(self) -> bool:
        return self.cost_function.canonical_link == self.activations[-1].name

    def _sample_costs(self, zL: np.ndarray, aL: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """``C_i``, from the logits when the output activation is the cost's matching one."""
        cost = self.cost_function
        if self._uses_canonical_link() and cost.has_logit_form:
            return cost.from_logits(Y, zL * self.activations[-1].link_scale)
        return cost(Y, aL)

    def _penalty(self, w_sum: float) -> float:
        """The L2 term ``alpha / (2 n) sum_m ||W^m||^2``."""
        if self.alpha == 0:
            return 0.0
        return 0.5 * self.alpha / w_sum * float(sum(np.vdot(W, W) for W in self.W))

    def cost(self, X: ArrayLike, Y: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
        """The batch cost ``C = sum_i w_i C(a^L_i, y_i) + alpha / (2 n) sum_m ||W^m||^2``.

        ``w_i = 1/n`` (the mean) unless ``sample_weight`` is given (then ``w`` is it, normalised).
        """
        X = self._as_input(X)
        Y = self._as_target(Y, X.shape[0])
        w = self._sample_weights(sample_weight, X.shape[0])
        n = X.shape[0] if sample_weight is None else float(np.sum(sample_weight))
        return self._cost(X, Y, w, n)

    # -- backpropagation ---------------------------------------------------------------------

    def _output_delta(self, zL: np.ndarray, aL: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """``dC_i/dz^L`` of each sample's cost."""
        if self._uses_canonical_link():
            # matching pairs (seed, "Sigmoid network with cross-entropy loss"): dC/dz^L = a^L - y
            scale = self.activations[-1].link_scale
            return (aL - Y) * scale if scale != 1.0 else aL - Y
        # dC/dz^L = dC/da^L o sigma'(z^L) (a Jacobian-vector product for softmax)
        return self.activations[-1].backward(zL, aL, self.cost_function.derivative(Y, aL))

    def backprop(self, X: ArrayLike, Y: ArrayLike, sample_weight: ArrayLike | None = None) -> Trace:
        """One forward and backward pass, keeping every ``z^m``, ``a^m``, ``delta^m``, ``dW^m``,
        ``db^m`` and the cost (see :class:`Trace`)."""
        X = self._as_input(X)
        Y = self._as_target(Y, X.shape[0])
        w = self._sample_weights(sample_weight, X.shape[0])
        n = X.shape[0] if sample_weight is None else float(np.sum(sample_weight))
        grad = np.empty_like(self.theta)
        z, a, delta = self._backward(X, Y, w, n, grad)
        dW, db = self.unflatten(grad)
        cost = float(w @ self._sample_costs(z[-1], a[-1], Y)) + self._penalty(n)
        return Trace(z=z, a=a, delta=delta, dW=dW, db=db, cost=cost)

    def _backward(
        self, X: np.ndarray, Y: np.ndarray, w: np.ndarray, n: float, grad: np.ndarray
    ) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
        """Backpropagation into the flat buffer ``grad``; returns ``z``, ``a`` and ``delta``."""
        z, a = self._forward_trace(X)
        dW, db = self.unflatten(grad)
        delta = [None] * self.L
        # delta^L = dC/dz^L, each sample's row weighted by w_i (the batch cost is sum_i w_i C_i)
        delta[-1] = self._output_delta(z[-1], a[-1], Y) * w[:, None]
        for m in range(self.L - 1, -1, -1):
            # dC/dW^m = delta^m a^(m-1)T, summed over the batch
            if issparse(a[m]):
                dW[m][...] = (a[m].T @ delta[m]).T
            else:
                np.matmul(delta[m].T, a[m], out=dW[m])
            if self.alpha:
                dW[m] += self.W[m] * (self.alpha / n)  # d/dW^m of alpha/(2n) ||W^m||^2
            # dC/db^m = delta^m, summed over the batch
            np.sum(delta[m], axis=0, out=db[m])
            if m > 0:
                # delta^(m-1) = (W^mT delta^m) o sigma'^(m-1)(z^(m-1))
                delta[m - 1] = self.activations[m - 1].backward(
                    z[m - 1], a[m], delta[m] @ self.W[m]
                )
        return z, a, delta

    def gradients(
        self, X: ArrayLike, Y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """``(dW, db)``: ``dC/dW^m``, ``dC/db^m`` of :meth:`cost`, shaped like ``W`` and ``b``."""
        trace = self.backprop(X, Y, sample_weight)
        return trace.dW, trace.db

    def cost_and_gradient(
        self,
        X: ArrayLike,
        Y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        out: np.ndarray | None = None,
    ) -> tuple[float, np.ndarray]:
        """The cost and its gradient as one flat vector laid out like :attr:`theta`."""
        X = self._as_input(X)
        Y = self._as_target(Y, X.shape[0])
        w = self._sample_weights(sample_weight, X.shape[0])
        n = X.shape[0] if sample_weight is None else float(np.sum(sample_weight))
        return self._cost_and_gradient(X, Y, w, n, out)

    def _cost_and_gradient(
        self, X, Y: np.ndarray, w: np.ndarray, n: float, out: np.ndarray | None = None
    ) -> tuple[float, np.ndarray]:
        """:meth:`cost_and_gradient` for checked inputs (``w`` sums to 1; ``n`` scales L2)."""
        grad = np.empty_like(self.theta) if out is None else out
        z, a, _ = self._backward(X, Y, w, n, grad)
        return float(w @ self._sample_costs(z[-1], a[-1], Y)) + self._penalty(n), grad

    def _cost(self, X, Y: np.ndarray, w: np.ndarray, n: float) -> float:
        """:meth:`cost` for checked inputs (a forward pass only)."""
        z, a = self._forward_trace(X)
        return float(w @ self._sample_costs(z[-1], a[-1], Y)) + self._penalty(n)

    def get_config(self) -> dict[str, Any]:
        """The JSON-able constructor arguments (the weights are :attr:`theta`)."""
        return {
            "layer_sizes": list(self.layer_sizes),
            "activation": [a.get_config() for a in self.activations[:-1]],
            "output_activation": self.activations[-1].get_config(),
            "cost": self.cost_function.get_config(),
            "alpha": self.alpha,
            "dtype": self.dtype.name,
        }


def check_gradients(
    net: Network,
    X: ArrayLike,
    Y: ArrayLike,
    sample_weight: ArrayLike | None = None,
    *,
    step: float | None = None,
) -> float:
    """The largest relative error between backprop's gradient and central differences.

    For every parameter ``theta_j``: ``|g_bp - g_fd| / max(|g_bp|, |g_fd|, s)`` where
    ``g_fd = (C(theta + h e_j) - C(theta - h e_j)) / 2h``
    (:func:`chainrule.differences.numeric_gradient`).
    and ``s = 0.01 max_k |g_fd_k| + 1e-12`` keeps components far below the gradient's own scale,
    which central differences cannot resolve to many digits, from dominating.
    The check runs on a float64 copy of ``net``, so a float32 network is checked exactly too.

    >>> import numpy as np
    >>> net = Network([3, 4, 2], activation="tanh", random_state=0)
    >>> X = np.random.default_rng(0).normal(size=(5, 3)); Y = np.zeros((5, 2))
    >>> check_gradients(net, X, Y) < 1e-6
    True
    """
    from chainrule.differences import numeric_gradient

    net64 = net.copy(np.float64)
    X = net64._as_input(X)
    Y = net64._as_target(Y, X.shape[0])
    _, g_bp = net64.cost_and_gradient(X, Y, sample_weight)
    g_fd, _ = numeric_gradient(lambda _: net64.cost(X, Y, sample_weight), net64.theta, step=step)
    floor = 0.01 * float(np.max(np.abs(g_fd))) + 1e-12
    scale = np.maximum(np.maximum(np.abs(g_bp), np.abs(g_fd)), floor)
    return float(np.max(np.abs(g_bp - g_fd) / scale))
