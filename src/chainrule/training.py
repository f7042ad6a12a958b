"""Training: the seed's "MLP learning algorithm" as epochs of minibatch updates.

One epoch draws a fresh permutation of the samples (the seed: "shuffle input vectors to avoid
training in the same order") and, for each minibatch, runs a forward and backward pass and one
optimizer step. This module holds the pieces the estimators assemble: the minibatch order, the
learning-rate schedules, the optimizer factory, L-BFGS, restarts from several initial weights
and the interrupt guard.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning

from chainrule.network import Network
from chainrule.optimizers import Adam, Momentum, Optimizer


def minibatches(
    n_samples: int, batch_size: int, rng: np.random.Generator, shuffle: bool
) -> Iterator[np.ndarray]:
    """Index arrays of the minibatches of one epoch, from one permutation of the samples.

    >>> [b.tolist() for b in minibatches(5, 2, np.random.default_rng(0), shuffle=False)]
    [[0, 1], [2, 3], [4]]
    """
    order = epoch_order(n_samples, rng, shuffle)
    for start in range(0, n_samples, batch_size):
        yield order[start : start + batch_size]


def epoch_order(n_samples: int, rng: np.random.Generator, shuffle: bool) -> np.ndarray:
    """The order of the samples in one epoch: a fresh permutation, or ``0, 1, ..., n - 1``.

    :func:`minibatches` cuts it into consecutive minibatches (the compiled epoch of
    ``chainrule._kernels`` walks the same order).
    """
    return rng.permutation(n_samples) if shuffle else np.arange(n_samples)


def make_optimizer(
    solver: str,
    *,
    learning_rate_init: float,
    momentum: float = 0.9,
    nesterovs_momentum: bool = True,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    epsilon: float = 1e-8,
) -> Optimizer:
    """The optimizer for scikit-learn's ``solver`` name (``"sgd"`` or ``"adam"``)."""
    if solver == "sgd":
        return Momentum(learning_rate_init, momentum=momentum, nesterov=nesterovs_momentum)
    if solver == "adam":
        return Adam(learning_rate_init, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)
    raise ValueError(f"unknown solver {solver!r}; valid names are ['adam', 'lbfgs', 'sgd']")


@dataclass
class LearningRateSchedule:
    """``constant``, ``invscaling`` (``eta_t = eta_0 / (t + 1)^power_t``, ``t`` counting
    optimizer steps, not samples as scikit-learn does) or ``adaptive`` (divide by 5 when the
    monitored quantity stops improving; stop once it falls below 1e-6)."""

    kind: str
    eta_0: float
    power_t: float = 0.5

    def after_epoch(self, optimizer: Optimizer, steps: int) -> None:
        """Set the learning rate for the next epoch."""
        if self.kind == "invscaling":
            optimizer.learning_rate = self.eta_0 / (steps + 1) ** self.power_t

    def on_plateau(self, optimizer: Optimizer) -> tuple[bool, str]:
        """Whether training stops now that it has stopped improving, and why."""
        if self.kind != "adaptive":
            return True, "no improvement"
        if optimizer.learning_rate <= 1e-6:
            return True, "the learning rate fell below 1e-6"
        optimizer.learning_rate /= 5.0
        return False, f"learning rate divided by 5: {optimizer.learning_rate:.3g}"


@dataclass
class PlateauMonitor:
    """Counts epochs without an improvement of more than ``tol`` (scikit-learn's rule) and
    keeps a copy of the best parameters seen."""

    tol: float
    higher_is_better: bool
    best: float = field(default=np.nan)
    best_theta: np.ndarray | None = None
    best_epoch: int = -1
    stale_epochs: int = 0

    def update(self, value: float, theta: np.ndarray, epoch: int) -> None:
        sign = 1.0 if self.higher_is_better else -1.0
        if np.isnan(self.best):
            improved_by_tol, is_best = True, True
        else:
            improved_by_tol = sign * (value - self.best) > self.tol
            is_best = sign * (value - self.best) > 0
        self.stale_epochs = 0 if improved_by_tol else self.stale_epochs + 1
        if is_best:
            self.best, self.best_epoch = value, epoch
            if self.best_theta is None:
                self.best_theta = theta.copy()
            else:
                self.best_theta[...] = theta

    def restore(self, theta: np.ndarray) -> None:
        """Write the best parameters back."""
        if self.best_theta is not None:
            theta[...] = self.best_theta


def fit_lbfgs(
    net: Network,
    X,
    Y: np.ndarray,
    w: np.ndarray,
    n: float,
    *,
    max_iter: int,
    max_fun: int,
    tol: float,
    verbose: bool = False,
    on_iteration: Callable[[float], bool] | None = None,
) -> tuple[float, int, list[float]]:
    """Minimise the full-batch cost with scipy's L-BFGS-B; returns the cost, the number of
    iterations and the cost after each iteration. ``on_iteration(cost)`` may return True to
    stop."""
    theta = net.theta
    grad = np.empty_like(theta)
    curve: list[float] = []

    def cost_and_gradient(x):
        theta[...] = x
        cost, _ = net._cost_and_gradient(X, Y, w, n, grad)
        return cost, grad.astype(np.float64)

    def callback(intermediate_result):
        curve.append(float(intermediate_result.fun))
        if verbose:
            print(f"Iteration {len(curve)}, loss = {curve[-1]:.8f}")
        if on_iteration is not None and on_iteration(curve[-1]):
            raise StopIteration

    result = minimize(
        cost_and_gradient,
        theta.astype(np.float64),
        method="L-BFGS-B",
        jac=True,
        callback=callback,
        options={"maxiter": max_iter, "maxfun": max_fun, "gtol": tol},
    )
    theta[...] = result.x
    if result.status == 1:
        warnings.warn(
            f"lbfgs stopped after {result.nit} iterations and {result.nfev} cost evaluations "
            f"(max_iter={max_iter}, max_fun={max_fun}) before converging; "
            "increase max_iter or max_fun, or scale the features",
            ConvergenceWarning,
            stacklevel=3,
        )
    return float(result.fun), int(result.nit), curve


def restart_generators(random_state, n_init: int) -> list[np.random.Generator]:
    """One generator per restart. The first is the one a single run with ``random_state``
    uses, so ``n_init > 1`` only adds runs."""
    if isinstance(random_state, np.random.RandomState):
        random_state = int(random_state.randint(np.iinfo(np.int32).max))
    first = np.random.default_rng(random_state)
    if n_init == 1:
        return [first]
    if isinstance(random_state, np.random.Generator):
        return [first, *random_state.spawn(n_init - 1)]
    children = np.random.SeedSequence(random_state).spawn(n_init)[1:]
    return [first, *(np.random.default_rng(s) for s in children)]


def train_xor(
    seed: int = 0, *, epochs: int = 1000, learning_rate: float = 1.0, max_restarts: int = 20
) -> tuple[Network, list[int]]:
    """The seed's toy run: a ``[2, 2, 1]`` sigmoid network learns XOR.

    Cross-entropy, full-batch gradient descent ``W^m <- W^m - lambda dC/dW^m`` (and the same for
    every ``b^m``, which the seed's toy code never updated), learning rate 1, 1000 epochs, the
    seed's standard-normal initial weights. A 2-2-1 network sometimes ends in a local minimum
    (the seed says so); then it restarts from new weights. Returns the network and the seeds of
    the runs that failed.

    >>> net, failed = train_xor(seed=1)
    >>> (net.forward([[0, 0], [1, 0], [0, 1], [1, 1]]) > 0.5).ravel().astype(int).tolist()
    [0, 1, 1, 0]
    """
    from chainrule.datasets import xor
    from chainrule.optimizers import GradientDescent

    X, y = xor()
    Y = y.reshape(-1, 1).astype(float)
    failed = []
    for run_seed in range(seed, seed + max_restarts):
        net = Network(
            [2, 2, 1],
            activation="sigmoid",
            cost="binary_cross_entropy",
            init="normal",
            random_state=run_seed,
        )
        descent = GradientDescent(learning_rate)
        for _ in range(epochs):
            _, grad = net.cost_and_gradient(X, Y)
            descent.step(net.theta, grad)
        if ((net.forward(X) > 0.5).ravel() == y).all():
            return net, failed
        failed.append(run_seed)
    raise RuntimeError(f"none of {max_restarts} initial weights learned XOR")


def clip_gradient(grad: np.ndarray, max_norm: float) -> float:
    """Scale ``grad`` in place so that ``||grad|| <= max_norm``; returns the norm before.

    >>> g = np.array([3.0, 4.0]); clip_gradient(g, 1.0); g
    5.0
    array([0.6, 0.8])
    """
    norm = float(np.sqrt(np.dot(grad, grad)))
    if norm > max_norm:
        grad *= max_norm / norm
    return norm


class TrainingDivergedWarning(ConvergenceWarning):
    """The cost became infinite or NaN: training stopped and finite weights were restored."""


class Diverged(ArithmeticError):
    """Raised inside an epoch when a minibatch's cost is not finite."""

    def __init__(self, cost: float) -> None:
        super().__init__(f"the cost became {cost}")
        self.cost = cost


# -- training state, for checkpoints ----------------------------------------------------------


def generator_state(rng: np.random.Generator) -> dict:
    """The JSON-able state of a generator (its bit generator's name and state)."""
    return rng.bit_generator.state


def generator_from_state(state: dict) -> np.random.Generator:
    """A generator that continues exactly where :func:`generator_state` left it."""
    name = state.get("bit_generator")
    if name not in ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"):
        raise ValueError(f"unknown bit generator {name!r} in the checkpoint")
    bit_generator = getattr(np.random, name)()
    bit_generator.state = state
    return np.random.Generator(bit_generator)


def optimizer_payload(optimizer: Optimizer) -> tuple[dict, dict[str, np.ndarray]]:
    """An optimizer's learning rate, step count and moments, as JSON and arrays."""
    meta: dict = {"learning_rate": optimizer.learning_rate}
    arrays = {}
    for name, value in optimizer.state().items():
        if isinstance(value, np.ndarray):
            arrays[name] = value
        elif value is not None:
            meta[name] = value
    return meta, arrays


def restore_optimizer(optimizer: Optimizer, meta: dict, arrays: dict[str, np.ndarray]) -> None:
    """Put back what :func:`optimizer_payload` saved."""
    optimizer.learning_rate = float(meta["learning_rate"])
    state = {name: meta.get(name) for name in optimizer.state()}
    state.update({name: arrays[name].copy() for name in state if name in arrays})
    optimizer.load_state(state)
