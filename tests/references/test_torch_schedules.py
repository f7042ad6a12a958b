"""Each learning-rate schedule takes PyTorch's steps: from the same weights, on the same
minibatches, ``torch.optim`` stepped by a ``torch.optim.lr_scheduler`` once an epoch gives the
weights chainrule's fit gives, in float64.

The tolerance, 1e-10 relative (issue 26), is far above what the two computations can differ
by: the same equations summed in another order, a rounding of ``u = 1.1e-16`` per operation
over 36 steps of a 3-4-1 network, about 1e-14. A rate off by one epoch moves the weights by
some 1e-3 relative, a rate off by a factor ``(e + 1) / (W + 1)`` more.

scikit-learn's sgd momentum ``v <- mu v - eta g`` keeps each step's rate in its velocity,
PyTorch's ``b <- mu b + g``, ``w <- w - eta b`` applies the rate of the day to all of it: the two
agree only while the rate is constant, so sgd is compared without momentum. scikit-learn's Adam
adds ``epsilon`` to ``sqrt(v)``, PyTorch's to ``sqrt(v) / sqrt(1 - b2^t)``: with ``epsilon =
1e-300`` (under every ``sqrt(v)`` here, so added it rounds away) both are ``eta sqrt(1 - b2^t) /
(1 - b1^t) m / sqrt(v)``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from chainrule import MLPRegressor

torch = pytest.importorskip("torch")
sched = torch.optim.lr_scheduler

N_SAMPLES, BATCH, EPOCHS, ETA_0, ALPHA, EPS = 30, 10, 12, 0.05, 1e-3, 1e-300
RTOL = 1e-10


def problem():
    """The data and the initial weights ``W^1``, ``b^1``, ``W^2``, ``b^2`` (seed's shapes)."""
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, (N_SAMPLES, 3))
    y = np.sin(X @ np.array([1.0, -2.0, 0.5]))
    weights = [rng.normal(0, 0.5, (4, 3)), rng.normal(0, 0.1, 4)]
    weights += [rng.normal(0, 0.5, (1, 4)), rng.normal(0, 0.1, 1)]
    return X, y, weights


def chainrule_weights(solver: str, X, y, weights, **schedule) -> list[np.ndarray]:
    model = MLPRegressor(
        hidden_layer_sizes=(4,), activation="tanh", solver=solver, alpha=ALPHA,
        batch_size=BATCH, shuffle=False, learning_rate_init=ETA_0, max_iter=EPOCHS,
        momentum=0.0, epsilon=EPS, tol=0.0, n_iter_no_change=np.inf, warm_start=True,
        **schedule,
    )  # fmt: skip
    model.coefs_ = [weights[0].T.copy(), weights[2].T.copy()]
    model.intercepts_ = [weights[1].copy(), weights[3].copy()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    assert model.n_iter_ == EPOCHS
    W1, W2 = model.coefs_
    b1, b2 = model.intercepts_
    return [W1.T, b1, W2.T, b2]


def torch_weights(solver: str, X, y, weights, make_scheduler) -> list[np.ndarray]:
    """The same fit, written with torch.optim and a scheduler stepped after each epoch."""
    params = [torch.tensor(w, requires_grad=True) for w in weights]
    W1, b1, W2, b2 = params
    if solver == "sgd":
        optimizer = torch.optim.SGD(params, lr=ETA_0)
    else:
        optimizer = torch.optim.Adam(params, lr=ETA_0, eps=EPS, foreach=False)
    scheduler = make_scheduler(optimizer)
    X_t, y_t = torch.tensor(X), torch.tensor(y)
    for _ in range(EPOCHS):
        for start in range(0, N_SAMPLES, BATCH):
            X_b, y_b = X_t[start : start + BATCH], y_t[start : start + BATCH]
            out = (torch.tanh(X_b @ W1.T + b1) @ W2.T + b2)[:, 0]
            # scikit-learn's squared error and its L2 term alpha / (2 n_b) sum_m ||W^m||^2
            C = 0.5 * ((out - y_b) ** 2).mean()
            C = C + ALPHA / (2 * len(y_b)) * ((W1**2).sum() + (W2**2).sum())
            optimizer.zero_grad()
            C.backward()
            optimizer.step()
        scheduler.step()
    return [p.detach().numpy() for p in params]


def halve_every_other(epoch: int) -> float:
    return 0.5 ** (epoch // 2) * (1 + 0.1 * math.sin(epoch))


W = 3  # warm-up epochs

#: chainrule's parameters, and the PyTorch scheduler of the same schedule
SCHEDULES = {
    "cosine": (
        {"learning_rate": "cosine", "learning_rate_min": 1e-3},
        lambda opt: sched.CosineAnnealingLR(opt, T_max=EPOCHS, eta_min=1e-3),
    ),
    "cosine-restarts": (
        {"learning_rate": "cosine", "restart_epochs": 3, "restart_mult": 2},
        lambda opt: sched.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2),
    ),
    "cosine-restarts-every-5": (
        {"learning_rate": "cosine", "restart_epochs": 5, "learning_rate_min": 2e-3},
        lambda opt: sched.CosineAnnealingWarmRestarts(opt, T_0=5, eta_min=2e-3),
    ),
    "warmup": (
        {"warmup_epochs": W},
        lambda opt: sched.LinearLR(opt, start_factor=1 / (W + 1), total_iters=W),
    ),
    "warmup-cosine": (
        {"learning_rate": "cosine", "warmup_epochs": W},
        lambda opt: sched.SequentialLR(
            opt,
            [
                sched.LinearLR(opt, start_factor=1 / (W + 1), total_iters=W),
                sched.CosineAnnealingLR(opt, T_max=EPOCHS - W),
            ],
            milestones=[W],
        ),
    ),
    "step": (
        {"learning_rate": "step", "step_epochs": 4, "step_factor": 0.5},
        lambda opt: sched.StepLR(opt, step_size=4, gamma=0.5),
    ),
    "callable": (
        {"learning_rate": halve_every_other},
        lambda opt: sched.LambdaLR(opt, halve_every_other),
    ),
}


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule_takes_pytorchs_steps(name, solver):
    params, make_scheduler = SCHEDULES[name]
    X, y, weights = problem()
    ours = chainrule_weights(solver, X, y, weights, **params)
    theirs = torch_weights(solver, X, y, weights, make_scheduler)
    for a, b, what in zip(ours, theirs, ("W^1", "b^1", "W^2", "b^2"), strict=True):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=RTOL * np.abs(b).max(), err_msg=what)
    # and the schedule mattered: a constant rate ends elsewhere
    constant = chainrule_weights(solver, X, y, weights)
    assert not np.allclose(constant[0], ours[0], rtol=1e-6)
