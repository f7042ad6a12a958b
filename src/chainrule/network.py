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

from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from chainrule._arrays import copy as copy_array
from chainrule._arrays import device as array_device
from chainrule._arrays import float_dtype, move, namespace, numpy_dtype, reshape
from chainrule._checks import batch_weights, dropout_rates, network_input, network_target
from chainrule.activations import RELU_FAMILY, Activation, get_activation
from chainrule.costs import Cost, get_cost
from chainrule.engine import reference, select
from chainrule.engine.parameters import ParameterList, Trace, check_layer_sizes, check_penalty
from chainrule.gradcheck import check_activation, check_cost, check_gradients
from chainrule.initializers import INITS, check_init, draw_layer

__all__ = [
    "INITS",
    "PREDICT_ROWS",
    "Network",
    "ParameterList",
    "Trace",
    "by_rows",
    "check_gradients",
]

#: rows per chunk of a prediction (:func:`by_rows`): each ``z^m`` of a chunk stays in the cache
#: between its product, its bias and its activation, and a prediction holds one chunk's
#: activations at a time
PREDICT_ROWS = 2048


def by_rows(X: Any, compute: Callable[[Any], np.ndarray], rows: int = PREDICT_ROWS) -> np.ndarray:
    """``compute(X[s : s + rows])`` for consecutive chunks of ``rows`` rows of ``X`` (dense or
    scipy sparse CSR), stacked into one output allocated once: the memory a prediction needs
    beyond its output is that of one chunk, whatever the number of rows."""
    n = X.shape[0]
    if n <= rows:
        return compute(X)
    first = compute(X[:rows])
    xp = namespace(first)
    out = xp.empty((n, *first.shape[1:]), dtype=first.dtype, device=array_device(first))
    out[:rows] = first
    for s in range(rows, n, rows):
        stop = min(s + rows, n)  # array_api_strict refuses a slice past the end
        out[s:stop] = compute(X[s:stop])
    return out


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
        The penalty ``C += alpha / n sum_m (l1_ratio |W^m|_1 + (1 - l1_ratio) / 2 ||W^m||^2)``
        (``n`` the batch's rows or weight; scikit-learn's L2 term at ``l1_ratio=0``).
    l1_ratio : float, default=0.0
        The L1 share of the penalty (scikit-learn's linear models' name); subgradient ``sign(W)``.
    init : {"glorot_uniform", "he_normal", "normal"}, optional
        Weight initialisation. By default He for layers with a ReLU-family activation and
        Glorot-uniform otherwise; ``"normal"`` is the seed's ``np.random.randn`` for ``W``
        and ``b``.
    dtype : float32 or float64, default=float64
        The precision of the parameters and of every computation.
    random_state : int, numpy.random.Generator or None
        Seeds the initial weights.
    dropout : float or sequence of float, default=0.0
        Dropout's rate ``p^m`` of each hidden layer (one for all, or one per hidden layer)
        when training steps pass masks (:func:`~chainrule.engine.reference.dropout_masks`).

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

    dropout: tuple[float, ...] = ()  # each hidden layer's rate; () in older pickles: none

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
        l1_ratio: float = 0.0,
        dropout: float | Sequence[float] = 0.0,
    ) -> None:
        sizes = check_layer_sizes(layer_sizes)
        self.layer_sizes = tuple(sizes)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}")
        self.alpha, self.l1_ratio = check_penalty(alpha, l1_ratio)
        self.dropout = dropout_rates(dropout, len(sizes) - 2)  # while training only
        self.cost_function = get_cost(cost)
        self.activations = layer_activations(
            activation, output_activation, self.cost_function, sizes
        )
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
            W.append(reshape(flat[offset : offset + n_out * n_in], (n_out, n_in)))
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
        check_init(init)
        rng = np.random.default_rng(random_state)
        for m in range(self.L):
            n_out, n_in = self.W[m].shape
            he = self.activations[m].name in RELU_FAMILY
            scheme = init or ("he_normal" if he else "glorot_uniform")
            self.W[m], self.b[m] = draw_layer(scheme, n_out, n_in, rng)
        return self

    def copy(self, dtype: DTypeLike | None = None) -> Network:
        """An independent copy, optionally in another precision."""
        xp, where = namespace(self.theta), array_device(self.theta)
        target = float_dtype(xp, dtype or self.dtype, where)
        return self._with_theta(xp.astype(self.theta, target, copy=True))

    def to(self, xp, device=None) -> Network:
        """An independent copy whose parameters are arrays of the array namespace ``xp``
        (``numpy``, ``torch``, ...) on ``device``; float64 becomes float32 on a device without
        float64."""
        return self._with_theta(copy_array(move(self.theta, xp, device)))

    def _with_theta(self, theta) -> Network:
        """This network with the flat parameters ``theta`` (and ``W``, ``b`` views of them)."""
        new = object.__new__(Network)
        new.__dict__.update(self.__dict__)
        new.dtype = numpy_dtype(theta.dtype)
        new.theta = theta
        W, b = new.unflatten(theta)
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

    # -- the forward pass (chainrule.engine.reference) ----------------------------------------

    def forward(self, X: ArrayLike, *, validate: bool = True) -> np.ndarray:
        """The output ``a^L`` for each row of ``X``: ``a^m = sigma^m(W^m a^(m-1) + b^m)``.

        ``validate=False`` skips the input checks: for an ``X`` already checked (dense of the
        network's dtype, or scipy sparse). A large input goes through in chunks of
        :data:`PREDICT_ROWS` rows (:func:`by_rows`).
        """
        a = network_input(X, self.layer_sizes[0], self.dtype) if validate else X
        return by_rows(a, self._forward_rows)

    def logits(self, X: ArrayLike, *, validate: bool = True) -> np.ndarray:
        """``z^L``: the forward pass up to the output activation (in chunks of rows, as
        :meth:`forward`)."""
        a = network_input(X, self.layer_sizes[0], self.dtype) if validate else X
        return by_rows(a, self._logits_rows)

    def _logits_rows(self, a) -> np.ndarray:
        predict = select.compiled_predictor(self, a)  # None: the reference engine
        if predict is not None:
            return predict(a, True)
        return reference.logits(self.W, self.b, self.activations, a)

    def _forward_rows(self, a) -> np.ndarray:
        predict = select.compiled_predictor(self, a)
        if predict is not None:
            return predict(a, False)
        return self.activations[-1](self._logits_rows(a))  # a^L = sigma^L(z^L)

    # -- the cost and backpropagation --------------------------------------------------------

    def uses_canonical_link(self) -> bool:
        """Whether the output activation is the cost's matching one (``dC/dz^L = a^L - y``)."""
        return reference.uses_canonical_link(self.activations[-1], self.cost_function)

    def _checked(self, X, Y, sample_weight) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """``X``, ``Y``, the weights ``w_i`` summing to 1 and ``n`` (the L2 term's scale)."""
        X = network_input(X, self.layer_sizes[0], self.dtype)
        Y = network_target(Y, X.shape[0], self.layer_sizes[-1], self.dtype)
        w = batch_weights(sample_weight, X.shape[0], self.dtype)
        n = X.shape[0] if sample_weight is None else float(np.sum(sample_weight))
        return X, Y, w, n

    def cost(self, X: ArrayLike, Y: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
        """The batch cost ``C = sum_i w_i C(a^L_i, y_i) + alpha / (2 n) sum_m ||W^m||^2``.

        ``w_i = 1/n`` (the mean) unless ``sample_weight`` is given (then ``w`` is it, normalised).
        """
        return self.batch_cost(*self._checked(X, Y, sample_weight))

    def batch_cost(self, X, Y: np.ndarray, w: np.ndarray, n: float) -> float:
        """:meth:`cost` for checked inputs (``w`` sums to 1; ``n`` scales the L2 term)."""
        z, a = reference.forward(self.W, self.b, self.activations, X)
        return self._total_cost(z[-1], a[-1], Y, w, n)

    def _total_cost(self, zL, aL, Y, w, n) -> float:
        costs = reference.sample_costs(zL, aL, Y, self.activations[-1], self.cost_function)
        penalty = reference.penalty(self.W, self.alpha, n, self.l1_ratio)
        # one transfer to the host on a device: C = sum_i w_i C_i + the penalty
        return float(reference.batch_cost(costs, w) + penalty)

    def _backward(self, X, Y, w, n, grad, masks=None) -> tuple[list, list, list, float]:
        """Backpropagation into the flat buffer ``grad`` (through dropout's ``masks``, if any);
        returns ``z``, ``a``, ``delta``, C."""
        z, a = reference.forward(self.W, self.b, self.activations, X, masks)
        out, cost = self.activations[-1], self.cost_function
        # delta^L = dC/dz^L, each sample's row weighted by w_i (the batch cost is sum_i w_i C_i)
        delta_L = reference.output_delta(z[-1], a[-1], Y, out, cost) * w[:, None]
        delta, dW, db = reference.backward(
            self.W, self.activations, z, a, delta_L, self.alpha, n, masks, self.l1_ratio
        )
        grad_W, grad_b = self.unflatten(grad)
        for m in range(self.L):
            grad_W[m][...], grad_b[m][...] = dW[m], db[m]
        return z, a, delta, self._total_cost(z[-1], a[-1], Y, w, n)

    def backprop(self, X: ArrayLike, Y: ArrayLike, sample_weight: ArrayLike | None = None) -> Trace:
        """One forward and backward pass, keeping every ``z^m``, ``a^m``, ``delta^m``, ``dW^m``,
        ``db^m`` and the cost (see :class:`Trace`)."""
        grad = namespace(self.theta).empty_like(self.theta)
        z, a, delta, cost = self._backward(*self._checked(X, Y, sample_weight), grad)
        dW, db = self.unflatten(grad)
        return Trace(z=z, a=a, delta=delta, dW=dW, db=db, cost=cost)

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
        return self.batch_cost_and_gradient(*self._checked(X, Y, sample_weight), out)

    def batch_cost_and_gradient(
        self,
        X,
        Y: np.ndarray,
        w: np.ndarray,
        n: float,
        out: np.ndarray | None = None,
        masks: Sequence | None = None,
    ) -> tuple[float, np.ndarray]:
        """:meth:`cost_and_gradient` for checked inputs (``w`` sums to 1; ``n`` scales L2),
        through dropout's ``masks`` if given (one per hidden layer, None for none)."""
        grad = namespace(self.theta).empty_like(self.theta) if out is None else out
        return self._backward(X, Y, w, n, grad, masks)[3], grad

    def get_config(self) -> dict[str, Any]:
        """The JSON-able constructor arguments (the weights are :attr:`theta`)."""
        return {
            "layer_sizes": list(self.layer_sizes),
            "activation": [a.get_config() for a in self.activations[:-1]],
            "output_activation": self.activations[-1].get_config(),
            "cost": self.cost_function.get_config(),
            "alpha": self.alpha,
            "l1_ratio": self.l1_ratio,
            "dtype": self.dtype.name,
            **({"dropout": list(self.dropout)} if any(self.dropout) else {}),
        }


def layer_activations(activation, output_activation, cost: Cost, sizes) -> list[Activation]:
    """``sigma^1, ..., sigma^L`` of a network of layer ``sizes``: the hidden ``activation``
    (one for all, or one per hidden layer) and the output's (by default the cost's matching
    one); a user activation or cost is checked against central differences now, before it is
    used (built-ins skip this; so does whatever the cost's matching output makes unused)."""
    n_hidden = len(sizes) - 2
    hidden = activation if isinstance(activation, list | tuple) else [activation] * n_hidden
    if len(hidden) != n_hidden:
        raise ValueError(f"got {len(hidden)} hidden activations for {n_hidden} hidden layers")
    if output_activation is None:
        output_activation = cost.canonical_link or "identity"
    activations = [get_activation(s) for s in hidden] + [get_activation(output_activation)]
    for act in activations[:-1]:
        if act.name == "softmax":
            raise ValueError("softmax is for the output layer only")
    canonical = reference.uses_canonical_link(activations[-1], cost)
    for m, act in enumerate(activations):
        own_backward = type(act).backward is not Activation.backward  # softmax's JVP
        if not (canonical and m == len(activations) - 1) and not own_backward:
            check_activation(act, width=sizes[m + 1])
    if not canonical:
        check_cost(cost, n_outputs=sizes[-1])
    return activations
