"""The solver names and the optimizer each one makes: one meaning of each name everywhere.

The estimators take scikit-learn's names (``"sgd"``, ``"adam"``, and ``"lbfgs"``, which
makes no optimizer: :mod:`chainrule.training.lbfgs` trains the whole batch); the playground
offers the seed's rules by their own names.

>>> make_optimizer("sgd", learning_rate_init=0.1).nesterov  # scikit-learn's sgd
True
>>> type(make_optimizer("gradient_descent", learning_rate_init=0.1)).__name__
'GradientDescent'
"""

from __future__ import annotations

from chainrule.optimizers import Adam, GradientDescent, Momentum, Optimizer

#: each solver name that makes an optimizer, and its update rule
SOLVERS = {
    "gradient_descent": "w <- w - eta dC/dw (the seed's standard gradient descent)",
    "momentum": "v <- mu v - eta dC/dw, w <- w + v (the seed's momentum)",
    "nesterov": "v <- mu v - eta dC/dw, w <- w + mu v - eta dC/dw (Nesterov's momentum)",
    "sgd": "scikit-learn's: Nesterov's momentum, or the seed's with nesterovs_momentum=False",
    "adam": "Adam (Kingma and Ba, 2015)",
}


def make_optimizer(
    solver: str,
    *,
    learning_rate_init: float,
    momentum: float = 0.9,
    nesterovs_momentum: bool = True,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    epsilon: float = 1e-8,
    weight_decay: float = 0.0,
) -> Optimizer:
    """The optimizer of a solver name of :data:`SOLVERS` (scikit-learn's ``"sgd"`` and
    ``"adam"`` with its parameters), with the decoupled ``weight_decay`` (Adam with it is
    AdamW)."""
    if solver == "gradient_descent":
        return GradientDescent(learning_rate_init, weight_decay)
    if solver in ("sgd", "momentum", "nesterov"):
        nesterov = nesterovs_momentum if solver == "sgd" else solver == "nesterov"
        return Momentum(learning_rate_init, momentum, nesterov, weight_decay=weight_decay)
    if solver == "adam":
        return Adam(learning_rate_init, beta_1, beta_2, epsilon, weight_decay=weight_decay)
    names = sorted([*SOLVERS, "lbfgs"])
    raise ValueError(f"unknown solver {solver!r}; valid names are {names}")
