"""Activations ``a^m = sigma^m(z^m)``, each next to its derivative ``da^m/dz^m``.

The seed's table ("Backpropagation in practice"), corrected:

=========  ==============================  =====================================
name       a = sigma(z)                    da/dz
=========  ==============================  =====================================
sigmoid    1 / (1 + exp(-beta z))          beta a (1 - a)
tanh       tanh(z)                         1 - a^2
relu       max(0, z)                       0 for z <= 0, 1 for z > 0
=========  ==============================  =====================================

and beyond it: ``leaky_relu``, ``elu``, ``softplus``, ``identity``, ``exponential``
and ``softmax`` (output layer only; its Jacobian is not diagonal, so it back-propagates
through a Jacobian-vector product instead of an elementwise derivative).

Every function here is safe for ``z`` anywhere in ``[-1e4, 1e4]`` in float32 and float64:
no overflow, no NaN and no numpy warning.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from chainrule._arrays import (
    device,
    largest,
    namespace,
    sigmoid,
    softplus,
    total,
    where_scalars,
)
from chainrule._registry import BuiltinState, Registry

ArrayFn = Callable[[np.ndarray], np.ndarray]


class Activation(BuiltinState):
    """A non-linearity ``sigma`` with its derivative (the seed's "user-supplied non-linearities").

    Parameters
    ----------
    name : str
        The name that models are saved under (and looked up by, see :func:`register_activation`).
    function : callable
        ``a = sigma(z)``, elementwise, returning an array of ``z``'s shape and dtype.
    derivative : callable
        ``da/dz``. A function of ``z``, or of ``a`` when ``of_output=True`` (as the seed's
        table writes ``a(1 - a)`` for the sigmoid).
    of_output : bool, default=False
        Whether ``derivative`` takes the activation ``a`` instead of ``z``.

    Examples
    --------
    >>> import numpy as np
    >>> square = Activation("square", lambda z: z * z, lambda z: 2 * z)
    >>> square(np.array([3.0]))
    array([9.])
    >>> square.backward(np.array([3.0]), np.array([9.0]), np.array([1.0]))
    array([6.])
    """

    #: scale of the matching cost's output delta ``dC/dz^L = link_scale (a - y)``
    link_scale: float = 1.0

    def __init__(
        self,
        name: str,
        function: ArrayFn,
        derivative: ArrayFn,
        *,
        of_output: bool = False,
    ) -> None:
        self.name = name
        self.function = function
        self.derivative = derivative
        self.of_output = of_output

    def __call__(self, z: np.ndarray) -> np.ndarray:
        """``a = sigma(z)``."""
        return self.function(z)

    def prime(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        """``da/dz`` at ``z`` (where ``a = sigma(z)``)."""
        return self.derivative(a if self.of_output else z)

    def backward(self, z: np.ndarray, a: np.ndarray, dC_da: np.ndarray) -> np.ndarray:
        """``dC/dz = dC/da o sigma'(z)`` (elementwise; softmax overrides this)."""
        return dC_da * self.prime(z, a)

    def registry(self) -> Registry:
        return _REGISTRY

    def base(self) -> type:
        return Activation


class Sigmoid(Activation):
    """The logistic sigmoid with slope ``beta``: ``a = 1 / (1 + exp(-beta z))``.

    The seed's table writes ``1 / (1 + e^z)``, which is ``1 - sigma(z)``; the correct form is
    ``1 / (1 + e^-z)``, with derivative ``beta a (1 - a)`` (seed, "The MLP learning algorithm").

    >>> import numpy as np
    >>> Sigmoid()(np.array([0.0, 1e4, -1e4]))
    array([0.5, 1. , 0. ])
    """

    builtin = True  # always rebuilt from its config (see BuiltinState)

    #: the largest slope, either sign: ``beta z`` stays finite in float32 for every
    #: ``|z| <= 1e4`` (the range this module promises to be safe in). A negative or zero slope
    #: is a sigmoid too: the seed's slider runs beta from -1 to 25.
    MAX_BETA = float(np.finfo(np.float32).max) / 1e4

    def __init__(self, beta: float = 1.0) -> None:
        self.beta = float(beta)
        if not abs(self.beta) <= self.MAX_BETA:  # NaN fails every comparison
            raise ValueError(
                f"beta must be a finite number, |beta| up to {self.MAX_BETA:.3g}, got {beta!r}"
            )
        # a = 1 / (1 + exp(-beta z)); expit never overflows
        super().__init__("sigmoid", self._sigma, self._sigma_prime, of_output=True)
        self.link_scale = self.beta

    def _sigma(self, z):
        return sigmoid(z * self.beta) if self.beta != 1.0 else sigmoid(z)

    def _sigma_prime(self, a):
        # da/dz = beta a (1 - a)
        return a * (1 - a) * self.beta if self.beta != 1.0 else a * (1 - a)

    def get_config(self) -> dict:
        return {"name": "sigmoid", "beta": self.beta}

    def __repr__(self) -> str:
        return f"Sigmoid(beta={self.beta})"


class Softmax(Activation):
    """``a_k = exp(z_k) / sum_j exp(z_j)`` over each row; for the output layer only.

    Its Jacobian ``da_k/dz_j = a_k (delta_kj - a_j)`` is full, so :meth:`backward` computes the
    Jacobian-vector product ``dC/dz = a o (dC/da - (dC/da . a))``.
    """

    builtin = True  # always rebuilt from its config (see BuiltinState)

    def __init__(self) -> None:
        super().__init__("softmax", _softmax, _no_elementwise_derivative)

    def backward(self, z: np.ndarray, a: np.ndarray, dC_da: np.ndarray) -> np.ndarray:
        # dC/dz_j = sum_k dC/da_k a_k (delta_kj - a_j) = a_j (dC/da_j - sum_k dC/da_k a_k)
        return a * (dC_da - total(dC_da * a, axis=-1, keepdims=True))


def _softmax(z):
    e = namespace(z).exp(z - largest(z, axis=-1, keepdims=True))
    return e / total(e, axis=-1, keepdims=True)


def _no_elementwise_derivative(z):
    raise TypeError("softmax has no elementwise derivative; use Softmax.backward")


def _elu(z):
    # a = z for z > 0, exp(z) - 1 otherwise; expm1 of min(z, 0) never overflows
    xp = namespace(z)
    return xp.where(z > 0, z, xp.expm1(xp.minimum(z, 0)))


def _elu_prime(z):
    # da/dz = 1 for z > 0, exp(z) otherwise
    xp = namespace(z)
    return xp.where(z > 0, 1.0, xp.exp(xp.minimum(z, 0)))


def _exponential(z):
    # a = exp(z), the canonical link of the Poisson cost; z capped where exp would overflow
    xp = namespace(z)
    top = xp.asarray(xp.finfo(z.dtype).max, dtype=z.dtype, device=device(z))
    return xp.exp(xp.minimum(z, float(xp.log(top)) / 2))


def _leaky_relu(z, slope=0.01):
    # a = z for z >= 0, 0.01 z otherwise
    return namespace(z).where(z >= 0, z, z * slope)


def _leaky_relu_prime(z, slope=0.01):
    # da/dz = 1 for z > 0, the slope for z <= 0 (PyTorch's value at the kink)
    return where_scalars(z > 0, 1.0, slope, z)


def _relu(z):
    # a = max(0, z)
    return namespace(z).maximum(z, 0)


def _relu_prime(z):
    # da/dz = 1 for z > 0, 0 for z <= 0: at the kink 0, as scikit-learn, PyTorch and JAX
    # (the seed takes 1; see the errata of docs/derivation.md)
    return namespace(z).astype(z > 0, z.dtype)


def _softplus(z):
    # a = log(1 + exp(z)), computed as logaddexp(0, z) so it never overflows
    return softplus(z)


def _tanh(z):
    return namespace(z).tanh(z)


def _tanh_prime(a):
    # da/dz = 1 - a^2
    return 1 - a * a


def _identity(z):
    return z


def _ones(z):
    return namespace(z).ones_like(z)


def _exponential_prime(a):
    # d exp(z)/dz = exp(z) = a
    return a


def _Exponential() -> Activation:
    return Activation("exponential", _exponential, _exponential_prime, of_output=True)


#: Built-in activations by name (scikit-learn's "logistic" is the sigmoid).
ACTIVATIONS: dict[str, Callable[[], Activation]] = {
    "sigmoid": Sigmoid,
    "logistic": Sigmoid,
    "tanh": lambda: Activation("tanh", _tanh, _tanh_prime, of_output=True),
    "relu": lambda: Activation("relu", _relu, _relu_prime),
    "leaky_relu": lambda: Activation("leaky_relu", _leaky_relu, _leaky_relu_prime),
    "elu": lambda: Activation("elu", _elu, _elu_prime),
    "softplus": lambda: Activation("softplus", _softplus, sigmoid),  # da/dz = sigmoid(z)
    "identity": lambda: Activation("identity", _identity, _ones),
    "exponential": _Exponential,
    "exp": _Exponential,  # scikit-learn's name (its Poisson out_activation_)
    "softmax": Softmax,
}

#: Activations of the ReLU family, whose default initialisation is He's.
RELU_FAMILY = frozenset({"relu", "leaky_relu", "elu"})

_REGISTRY = Registry("activation", Activation, ACTIVATIONS)

#: Make a user activation loadable by name (saved models store only the name).
register_activation = _REGISTRY.register
#: Every name :func:`get_activation` accepts.
activation_names = _REGISTRY.names


def get_activation(spec: str | dict | Activation, **params) -> Activation:
    """A :class:`Activation` from a name, a config dict or an instance.

    >>> get_activation("logistic")
    Sigmoid(beta=1.0)
    >>> get_activation({"name": "sigmoid", "beta": 2.0}).beta
    2.0
    """
    return _REGISTRY.get(spec, **params)


def slider_curves(beta: float, theta: float, h: np.ndarray) -> dict[str, np.ndarray]:
    """The seed's two slider plots over the points ``h``: ``g(h) = 1 / (1 + exp(-beta h))``
    with ``dg/dh = beta g (1 - g)``, and ``tanh(theta h)`` with ``theta (1 - tanh^2(theta h))``
    (the chain rule: ``d(theta h)/dh = theta``). What the playground and
    :func:`chainrule.plotting.plot_slopes` draw.

    >>> c = slider_curves(2.0, 1.0, np.array([0.0]))
    >>> float(c["sigmoid"][0]), float(c["sigmoid_prime"][0]), float(c["tanh_prime"][0])
    (0.5, 0.5, 1.0)
    """
    sigmoid = get_activation({"name": "sigmoid", "beta": float(beta)})
    tanh = get_activation("tanh")
    g, t = sigmoid(h), tanh(theta * h)
    return {
        "sigmoid": g,
        "sigmoid_prime": sigmoid.prime(h, g),  # beta g (1 - g)
        "tanh": t,
        "tanh_prime": theta * tanh.prime(theta * h, t),  # theta (1 - tanh^2(theta h))
    }
