"""The full-batch cost and gradient over dask blocks (:mod:`chainrule.scale.objective`): the
in-memory ones within the rounding bound, weighted or not, the L2 term counted once, for scipy's
L-BFGS.

Tests that take ``client`` run on dask's local threaded scheduler and on a two-process
``LocalCluster`` (tests/scale/conftest.py)."""

from __future__ import annotations

import numpy as np
import pytest

da = pytest.importorskip("dask.array")

from scipy.optimize import minimize  # noqa: E402

import chainrule as cr  # noqa: E402
from chainrule.scale import BlockObjective, Blocks  # noqa: E402

from rounding import assert_same_objective, rounding_bounds  # noqa: E402


def regression_problem(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(600, 5))
    Y = np.stack([np.sin(X[:, 0]) + X[:, 1], X[:, 2] * X[:, 3]], axis=1)
    sw = rng.uniform(0.2, 3.0, 600)
    net = cr.Network([5, 8, 2], activation="tanh", alpha=0.05, random_state=seed)
    return net, X, Y, sw


def test_block_objective_equals_in_memory_cost_and_gradient(client):
    net, X, Y, sw = regression_problem()
    sw[100:200] = 0.0  # a block of zero weight adds nothing
    blocks = Blocks.from_dask(da.from_array(X, chunks=(100, 5)), da.from_array(Y), sw)
    objective = BlockObjective(net, blocks)
    assert len(objective.blocks) == 5
    cost, grad = objective(net.theta)
    cost_mem, grad_mem = net.cost_and_gradient(X, Y, sw)
    assert_same_objective((cost, grad), (cost_mem, grad_mem), rounding_bounds(net, X, Y, sw))


def test_block_objective_unweighted_equals_in_memory(client):
    _, X, Y, _ = regression_problem(1)
    net1 = cr.Network([5, 8, 1], activation="tanh", alpha=0.05, random_state=1)
    objective = BlockObjective(net1, Blocks.from_dask(da.from_array(X, chunks=(77, 5)), Y[:, :1]))
    cost, grad = objective(net1.theta)
    cost_mem, grad_mem = net1.cost_and_gradient(X, Y[:, :1])
    assert_same_objective((cost, grad), (cost_mem, grad_mem), rounding_bounds(net1, X, Y[:, :1]))


def test_lbfgs_on_blocks_minimises_the_in_memory_cost(client):
    """scipy's L-BFGS driven by the blocks' objective learns, and wherever it goes the objective
    is the in-memory one within the rounding bound. (The weights after the same number of
    iterations are not compared: the two sums differ in their last bits, and L-BFGS's curvature
    pairs amplify that on a non-convex cost by a factor nothing bounds, as between two BLAS
    builds.)"""
    net, X, Y, sw = regression_problem(2)
    x0 = net.theta.copy()
    objective = BlockObjective(net, Blocks.from_dask(da.from_array(X, chunks=(150, 5)), Y, sw))
    options = {"maxiter": 50, "gtol": 1e-12}
    on_blocks = minimize(objective, x0, jac=True, method="L-BFGS-B", options=options)
    assert on_blocks.nit == 50
    assert on_blocks.fun < 0.5 * objective(x0)[0]  # it learned
    net.theta[...] = on_blocks.x
    in_memory = net.cost_and_gradient(X, Y, sw)
    assert_same_objective(objective(on_blocks.x), in_memory, rounding_bounds(net, X, Y, sw))


def test_all_zero_weights_are_an_error():
    net, X, Y, _ = regression_problem()
    blocks = Blocks.from_dask(da.from_array(X, chunks=(100, 5)), Y, np.zeros(600))
    with pytest.raises(ValueError, match="sums to zero"):
        BlockObjective(net, blocks)
