"""scipy's L-BFGS-B over a network's weights (:func:`chainrule.training.lbfgs.fit_lbfgs`): it
leaves the minimiser in ``net.theta``, records the cost per iteration, stops when asked, and
warns as scikit-learn does when it runs out of iterations."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import chainrule as cr
from chainrule.training.lbfgs import fit_lbfgs


@pytest.fixture
def quadratic():
    """``C = 1/2 sum s_i (theta_i - c_i)^2`` with scales s from 1 to 100 and the network whose
    theta it is over: a problem L-BFGS cannot solve in one step."""
    net = cr.Network([2, 3, 1], random_state=0)
    rng = np.random.default_rng(0)
    c, s = rng.normal(size=net.theta.size), np.linspace(1.0, 100.0, net.theta.size)

    def cost_and_gradient(theta):
        return 0.5 * float(s @ (theta - c) ** 2), s * (theta - c)

    return net, cost_and_gradient, c


def test_the_minimiser_is_left_in_theta_and_each_iterations_cost_recorded(quadratic):
    net, cost_and_gradient, _ = quadratic
    start = cost_and_gradient(net.theta.copy())[0]
    cost, n_iter, curve = fit_lbfgs(net, cost_and_gradient, max_iter=500, max_fun=15000, tol=1e-10)
    assert cost_and_gradient(net.theta)[0] == cost < start  # theta holds the point found
    assert len(curve) == n_iter > 1 and curve[-1] == cost
    assert np.all(np.diff(curve) <= 0)  # each accepted step decreases C (the line search)


def test_on_iteration_stops_it_and_running_out_of_iterations_warns(quadratic):
    net, cost_and_gradient, _ = quadratic
    calls = []
    _, _, curve = fit_lbfgs(
        net.copy(), cost_and_gradient, max_iter=500, max_fun=15000, tol=1e-10,
        on_iteration=lambda cost: calls.append(cost) or len(calls) == 2,
    )  # fmt: skip
    assert curve == calls and len(curve) == 2
    with pytest.warns(ConvergenceWarning, match="lbfgs stopped after 1 iterations"):
        fit_lbfgs(net, cost_and_gradient, max_iter=1, max_fun=15000, tol=1e-10)
