"""Update rules: each moves the parameters against the gradient, in place.

They are pure update rules: no optimizer imports an engine. A compiled backend that fuses a
rule into one pass looks it up by the optimizer's :attr:`~Optimizer.name` (a subclass that
changes the rule sets its own name). Every optimizer works on flat buffers (``Network.theta``
and a gradient laid out like it), so a step is a handful of whole-buffer operations whatever the
number of layers. :meth:`Optimizer.update` takes a network and its ``(dW, db)`` as the seed
writes them. ``mu`` is the momentum.

======================  =====================================================================
``GradientDescent``     ``w <- w - eta dC/dw``  (seed, "Standard gradient descent")
``Momentum``            ``Delta w^t = -eta dC/dw + mu Delta w^(t-1)``, ``w <- w + Delta w^t``
                        (seed, "A weight update with momentum")
``Momentum(nesterov)``  ``v <- mu v - eta g``, ``w <- w + mu v - eta g`` (Sutskever et al. 2013)
``Adam``                ``m <- b1 m + (1-b1) g``, ``v <- b2 v + (1-b2) g^2``,
                        ``w <- w - eta sqrt(1-b2^t)/(1-b1^t) m / (sqrt(v) + eps)``
``weight_decay``        ``W <- W - eta lambda W`` first (``lambda`` the weight decay), then
                        the rule's step (any of the above; Adam with it is AdamW)
======================  =====================================================================

Decoupled weight decay (Loshchilov and Hutter, "Decoupled Weight Decay Regularization", 2019)
shrinks the weights by ``eta lambda W`` (``eta`` the current learning rate, as PyTorch's
``AdamW``) before the rule's step and outside the gradient, so Adam's moments never see it (an
L2 term, ``alpha``, is in the gradient and is rescaled by them). It shrinks the parts of
``theta`` named by :attr:`Optimizer.decayed` (a network's weights ``W^m``, not its biases, as
``alpha``); all of ``theta`` where that is None.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np

from chainrule._arrays import is_numpy, namespace


def weight_slices(layer_sizes: Sequence[int]) -> list[slice]:
    """The slices of a flat ``theta`` laid out ``W^1, b^1, W^2, b^2, ...`` (a network's, for
    ``layer_sizes`` ``N^0, ..., N^L``) that hold each ``W^m``: what weight decay shrinks.

    >>> weight_slices([2, 3, 1])  # W^1 (3 x 2), b^1 (3), W^2 (1 x 3), b^2 (1)
    [slice(0, 6, None), slice(9, 12, None)]
    """
    parts, offset = [], 0
    for n_in, n_out in pairwise(layer_sizes):
        parts.append(slice(offset, offset + n_out * n_in))
        offset += n_out * n_in + n_out
    return parts


class Optimizer:
    """The base class: ``learning_rate`` may be changed between steps (schedules do);
    ``weight_decay`` is ``lambda`` of the decoupled decay ``W <- W - eta lambda W``."""

    #: the rule's name, by which a compiled backend finds its fused form (None: no fused form)
    name: str | None = None

    def __init__(self, learning_rate: float, weight_decay: float = 0.0) -> None:
        if not learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {learning_rate}")
        if not 0 <= weight_decay < np.inf:
            raise ValueError(f"weight_decay must be >= 0 and finite, got {weight_decay}")
        self.learning_rate = float(learning_rate)
        self.weight_decay = float(weight_decay)
        #: the slices of ``theta`` that weight decay shrinks (None: all of it)
        self.decayed: Sequence[slice] | None = None

    def decay(self, theta: np.ndarray) -> None:
        """``W <- W - eta lambda W``, written ``W <- (1 - eta lambda) W``, on the slices
        :attr:`decayed` of ``theta`` (nothing when ``weight_decay`` is 0).

        >>> theta = np.array([1.0, 2.0]); opt = GradientDescent(0.1, weight_decay=0.5)
        >>> opt.decayed = [slice(0, 1)]; opt.decay(theta); theta  # 1 - 0.1 * 0.5 * 1
        array([0.95, 2.  ])
        """
        if self.weight_decay:
            factor = 1 - self.learning_rate * self.weight_decay
            for part in (slice(None),) if self.decayed is None else self.decayed:
                theta[part] *= factor  # W <- W - eta lambda W

    def step(self, theta: np.ndarray, grad: np.ndarray) -> None:
        """Update the flat parameters ``theta`` in place from the flat gradient ``grad``."""
        raise NotImplementedError

    def update(self, net, dW: Sequence[np.ndarray], db: Sequence[np.ndarray]) -> None:
        """Update ``net.W`` and ``net.b`` in place from ``dC/dW^m`` and ``dC/db^m``."""
        if self.decayed is None:
            self.decayed = weight_slices(net.layer_sizes)  # weight decay shrinks W^m, not b^m
        grad = namespace(net.theta).empty_like(net.theta)
        gW, gb = net.unflatten(grad)
        for m in range(net.L):
            gW[m][...] = dW[m]
            gb[m][...] = db[m]
        self.step(net.theta, grad)

    def init_state(self, theta: np.ndarray) -> None:
        """Allocate the state (velocity, moments) for parameters shaped like ``theta``, if none."""

    def state(self) -> dict[str, Any]:
        """The optimizer's state (moments, step count) for checkpoints."""
        return {}

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state` returned."""


class GradientDescent(Optimizer):
    """Plain gradient descent: ``w <- w - eta dC/dw``.

    >>> theta = np.array([1.0, 2.0]); GradientDescent(0.5).step(theta, np.array([2.0, -2.0]))
    >>> theta
    array([0., 3.])
    """

    name = "gradient_descent"

    def step(self, theta: np.ndarray, grad: np.ndarray) -> None:
        self.decay(theta)
        theta -= self.learning_rate * grad  # w <- w - eta dC/dw


class Momentum(Optimizer):
    """Gradient descent with momentum, the seed's rule (or Nesterov's with ``nesterov=True``).

    ``Delta w^t = -eta dC/dw + mu Delta w^(t-1)`` (``mu`` the momentum); ``w <- w + Delta w^t``.

    >>> theta = np.zeros(1); opt = Momentum(0.1, momentum=0.9)
    >>> opt.step(theta, np.ones(1)); opt.step(theta, np.ones(1))
    >>> theta  # -0.1, then -0.1 + 0.9 * -0.1
    array([-0.29])
    """

    name = "momentum"

    def __init__(
        self,
        learning_rate: float,
        momentum: float = 0.9,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(learning_rate, weight_decay)
        if not 0 <= momentum <= 1:
            raise ValueError(f"momentum must be in [0, 1], got {momentum}")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.velocity: np.ndarray | None = None

    def init_state(self, theta: np.ndarray) -> None:
        if self.velocity is None:
            self.velocity = namespace(theta).zeros_like(theta)

    def step(self, theta: np.ndarray, grad: np.ndarray) -> None:
        self.init_state(theta)
        v, eta, mu = self.velocity, self.learning_rate, self.momentum
        self.decay(theta)
        v *= mu
        v -= eta * grad  # Delta w^t = -eta dC/dw + mu Delta w^(t-1)
        if self.nesterov:
            theta += mu * v - eta * grad  # look ahead along the new velocity
        else:
            theta += v  # w <- w + Delta w^t

    def state(self) -> dict[str, Any]:
        return {"velocity": self.velocity}

    def load_state(self, state: dict[str, Any]) -> None:
        self.velocity = state["velocity"]


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015), with the bias corrections folded into the step size; with
    ``weight_decay`` it is AdamW (Loshchilov and Hutter, 2019).

    ``epsilon`` sits where scikit-learn puts it, ``sqrt(v) + eps`` beside the folded step size;
    PyTorch's ``Adam``/``AdamW`` add it to ``sqrt(v / (1 - b2^t))``: the same steps but for
    that term.

    >>> theta = np.zeros(1); Adam(0.1).step(theta, np.array([4.0]))
    >>> theta.round(6)  # the first step is eta * sign(g), up to epsilon
    array([-0.1])
    """

    name = "adam"

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(learning_rate, weight_decay)
        for name, value in (("beta_1", beta_1), ("beta_2", beta_2)):
            if not 0 <= value < 1:
                raise ValueError(f"{name} must be in [0, 1), got {value}")
        if not epsilon > 0:
            raise ValueError(f"epsilon must be > 0, got {epsilon}")
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self.t = 0
        self.m: np.ndarray | None = None
        self.v: np.ndarray | None = None
        self._buffer: np.ndarray | None = None

    def init_state(self, theta: np.ndarray) -> None:
        if self.m is None:
            xp = namespace(theta)
            self.m, self.v = xp.zeros_like(theta), xp.zeros_like(theta)

    def step_size(self, t: int) -> float:
        """``eta_t = eta sqrt(1 - b2^t) / (1 - b1^t)``: the bias corrections of step ``t``."""
        return self.learning_rate * float(np.sqrt(1 - self.beta_2**t)) / (1 - self.beta_1**t)

    def step(self, theta: np.ndarray, grad: np.ndarray) -> None:
        self.init_state(theta)
        self.decay(theta)
        if not is_numpy(theta):
            self._step_xp(theta, grad)
            return
        if self._buffer is None or self._buffer.shape != theta.shape:
            self._buffer = np.empty_like(theta)
        b1, b2, m, v, tmp = self.beta_1, self.beta_2, self.m, self.v, self._buffer
        self.t += 1
        # m <- b1 m + (1 - b1) g
        m *= b1
        np.multiply(grad, 1 - b1, out=tmp)
        m += tmp
        # v <- b2 v + (1 - b2) g^2
        v *= b2
        np.multiply(grad, grad, out=tmp)
        tmp *= 1 - b2
        v += tmp
        # w <- w - eta_t m / (sqrt(v) + eps), eta_t = eta sqrt(1 - b2^t) / (1 - b1^t)
        eta_t = self.step_size(self.t)
        np.sqrt(v, out=tmp)
        tmp += self.epsilon
        np.divide(m, tmp, out=tmp)
        tmp *= float(eta_t)
        theta -= tmp

    def _step_xp(self, theta, grad) -> None:
        """:meth:`step` in any array namespace (the same equations, without ``out=``)."""
        b1, b2, m, v = self.beta_1, self.beta_2, self.m, self.v
        self.t += 1
        m *= b1
        m += (1 - b1) * grad  # m <- b1 m + (1 - b1) g
        v *= b2
        v += (1 - b2) * (grad * grad)  # v <- b2 v + (1 - b2) g^2
        # w <- w - eta_t m / (sqrt(v) + eps)
        theta -= self.step_size(self.t) * (m / (namespace(v).sqrt(v) + self.epsilon))

    def state(self) -> dict[str, Any]:
        return {"t": self.t, "m": self.m, "v": self.v}

    def load_state(self, state: dict[str, Any]) -> None:
        self.t, self.m, self.v = int(state["t"]), state["m"], state["v"]
