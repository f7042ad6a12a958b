"""Costs ``C(a^L, y)``, each next to its derivative ``dC/da^L``.

The seed's table, corrected:

======================  ======================================  ===============================
name                    C (one sample)                          dC/da^L
======================  ======================================  ===============================
squared_error           1/2 (y - a)^T (y - a)                   a - y   (the seed writes y - a)
binary_cross_entropy    -y log a - (1 - y) log(1 - a)           (a - y) / (a (1 - a))
======================  ======================================  ===============================

and beyond it: ``categorical_cross_entropy``, ``absolute_error``, ``huber`` and ``poisson``.
Each cost sums over the outputs of one sample; the cost of a batch is the (sample-weighted)
mean over its samples, and the network's gradients are the gradient of exactly that number.

Saturated outputs: when a cross-entropy meets its matching output activation (sigmoid or
softmax), the cost is computed from the logits ``z^L`` (log-sum-exp forms), which is exact and
finite for any ``z``. Otherwise ``a`` is clipped to ``[eps, 1 - eps]`` (``eps`` the dtype's
machine epsilon) inside the logarithms and in ``dC/da``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from chainrule._arrays import logsumexp, namespace, softplus, total, xlogy
from chainrule._registry import BuiltinState, Registry

ArrayFn2 = Callable[[np.ndarray, np.ndarray], np.ndarray]


class Cost(BuiltinState):
    """A cost ``C(a, y)`` per sample, next to ``dC/da``.

    Parameters
    ----------
    name : str
        The name a saved model stores.
    function : callable
        ``function(y, a)`` returns the cost of each sample, shape ``(n_samples,)``.
    derivative : callable
        ``derivative(y, a)`` returns ``dC/da`` of each sample's cost, shape of ``a``.
    canonical_link : str, optional
        The output activation whose pairing gives ``dC/dz^L = a^L - y`` (seed: "Sigmoid network
        with cross-entropy loss").

    Examples
    --------
    >>> import numpy as np
    >>> cube = Cost("cube", lambda y, a: ((a - y) ** 3).sum(1), lambda y, a: 3 * (a - y) ** 2)
    >>> cube(np.array([[1.0]]), np.array([[3.0]]))
    array([8.])
    """

    #: whether :meth:`from_logits` computes the cost from ``z^L`` for the canonical link
    has_logit_form: bool = False

    def __init__(
        self,
        name: str,
        function: ArrayFn2,
        derivative: ArrayFn2,
        *,
        canonical_link: str | None = None,
    ) -> None:
        self.name = name
        self.function = function
        self.derivative = derivative
        self.canonical_link = canonical_link

    def __call__(self, y: np.ndarray, a: np.ndarray) -> np.ndarray:
        """The cost of each sample, ``C(a_i, y_i)``."""
        return self.function(y, a)

    def from_logits(self, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        """The cost of each sample from ``z^L`` (only for the canonical link)."""
        raise NotImplementedError

    def registry(self) -> Registry:
        return _REGISTRY

    def base(self) -> type:
        return Cost


def _clip01(a):
    xp = namespace(a)
    eps = float(xp.finfo(a.dtype).eps)
    return xp.clip(a, eps, 1 - eps)


class BinaryCrossEntropy(Cost):
    """``C = -sum_k [y_k log a_k + (1 - y_k) log(1 - a_k)]``.

    The seed writes ``(y - 1) log(1 - a) - y log(a)``, the same number.
    """

    builtin = True  # always rebuilt from its config (see BuiltinState)

    has_logit_form = True

    def __init__(self) -> None:
        super().__init__(
            "binary_cross_entropy",
            self._cost,
            self._cost_prime,
            canonical_link="sigmoid",
        )

    @staticmethod
    def _cost(y, a):
        a = _clip01(a)
        return -total(xlogy(y, a) + xlogy(1 - y, 1 - a), axis=1)

    @staticmethod
    def _cost_prime(y, a):
        # dC/da = (a - y) / (a (1 - a))
        a = _clip01(a)
        return (a - y) / (a * (1 - a))

    def from_logits(self, y, z):
        # with a = sigmoid(z): C = log(1 + e^z) - y z, exact for any z
        return total(softplus(z) - y * z, axis=1)


class CategoricalCrossEntropy(Cost):
    """``C = -sum_k y_k log a_k`` for one-hot (or probability) targets ``y``."""

    builtin = True  # always rebuilt from its config (see BuiltinState)

    has_logit_form = True

    def __init__(self) -> None:
        super().__init__(
            "categorical_cross_entropy",
            self._cost,
            self._cost_prime,
            canonical_link="softmax",
        )

    @staticmethod
    def _cost(y, a):
        return -total(xlogy(y, _clip01(a)), axis=1)

    @staticmethod
    def _cost_prime(y, a):
        # dC/da = -y / a
        return -y / _clip01(a)

    def from_logits(self, y, z):
        # with a = softmax(z): log a_k = z_k - logsumexp(z), so C = sum_k y_k (logsumexp(z) - z_k)
        return total(y * (logsumexp(z, axis=1) - z), axis=1)


class Huber(Cost):
    """``C = sum_k h(a_k - y_k)`` with ``h(r) = r^2/2`` for ``|r| <= delta``, else
    ``delta (|r| - delta/2)``; ``dC/da = clip(a - y, -delta, delta)``."""

    builtin = True  # always rebuilt from its config (see BuiltinState)

    def __init__(self, delta: float = 1.0) -> None:
        self.delta = float(delta)
        super().__init__("huber", self._cost, self._cost_prime, canonical_link=None)

    def _cost(self, y, a):
        xp = namespace(a)
        r = xp.abs(a - y)
        d = self.delta
        return total(xp.where(r <= d, r * r / 2, (r - d / 2) * d), axis=1)

    def _cost_prime(self, y, a):
        return namespace(a).clip(a - y, -self.delta, self.delta)

    def get_config(self) -> dict:
        return {"name": "huber", "delta": self.delta}


def _squared_error(y, a):
    # C = 1/2 (y - a)^T (y - a)
    r = a - y
    xp = namespace(r)
    if xp is np:
        return 0.5 * np.einsum("ij,ij->i", r, r)
    return 0.5 * total(r * r, axis=1)


def _squared_error_prime(y, a):
    # dC/da = a - y   (the seed's table has the sign flipped)
    return a - y


def _absolute_error(y, a):
    # C = sum_k |a_k - y_k|
    xp = namespace(a)
    return total(xp.abs(a - y), axis=1)


def _absolute_error_prime(y, a):
    # dC/da = sign(a - y), taken as 0 at the kink
    return namespace(a).sign(a - y)


def _poisson(y, a):
    # the half Poisson deviance, as scikit-learn reports it:
    # C = sum_k y_k log(y_k / a_k) - y_k + a_k (its terms free of a change no gradient)
    xp = namespace(a)
    a_floor = xp.maximum(a, float(xp.finfo(a.dtype).smallest_normal))
    return total(a - xlogy(y, a_floor) + xlogy(y, y) - y, axis=1)


def _poisson_prime(y, a):
    # dC/da = 1 - y / a
    xp = namespace(a)
    return 1 - y / xp.maximum(a, float(xp.finfo(a.dtype).smallest_normal))


#: Built-in costs by name.
COSTS: dict[str, Callable[..., Cost]] = {
    "squared_error": lambda: Cost(
        "squared_error", _squared_error, _squared_error_prime, canonical_link="identity"
    ),
    "binary_cross_entropy": BinaryCrossEntropy,
    "categorical_cross_entropy": CategoricalCrossEntropy,
    "absolute_error": lambda: Cost("absolute_error", _absolute_error, _absolute_error_prime),
    "huber": Huber,
    "poisson": lambda: Cost("poisson", _poisson, _poisson_prime, canonical_link="exponential"),
}

_REGISTRY = Registry("cost", Cost, COSTS)

#: Make a user cost loadable by name (saved models store only the name).
register_cost = _REGISTRY.register
#: Every name :func:`get_cost` accepts.
cost_names = _REGISTRY.names


def get_cost(spec: str | dict | Cost, **params) -> Cost:
    """A :class:`Cost` from a name, a config dict or an instance.

    >>> get_cost("huber", delta=2.0).delta
    2.0
    """
    return _REGISTRY.get(spec, **params)
