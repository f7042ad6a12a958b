"""The training loop's minibatch source over dask blocks (:mod:`chainrule.scale.source`):
whether the model visits the blocks or they come to it, and held-out blocks scored where they
are, block by block, as scikit-learn scores the rows in memory.

Tests that take ``client`` run on dask's local threaded scheduler and on a two-process
``LocalCluster`` (tests/scale/conftest.py)."""

from __future__ import annotations

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")

from sklearn.metrics import accuracy_score, r2_score  # noqa: E402

import chainrule as cr  # noqa: E402
from chainrule.scale import Blocks, BlockSource, evaluate  # noqa: E402
from chainrule.scale.visit import visits_pay, workers_elsewhere  # noqa: E402

from rounding import gamma, rounding_bounds  # noqa: E402


def test_the_model_visits_remote_blocks_smaller_than_it(cluster_client, monkeypatch, fit_regressor):
    import chainrule.scale.source as source

    assert visits_pay(200e3, 16e6, elsewhere=True)
    assert not visits_pay(20e6, 16e6, elsewhere=True)  # a model larger than a block stays
    assert not visits_pay(200e3, 16e6, elsewhere=False)  # one machine: copies are cheap
    assert not workers_elsewhere(cluster_client)  # the loopback cluster is on this machine
    visits = []
    original = source.visit_blocks

    def spy(*args, **kwargs):
        visits.append(args[0].net.n_params)
        return original(*args, **kwargs)

    monkeypatch.setattr(source, "visit_blocks", spy)
    X, Y = np.random.default_rng(0).normal(size=(400, 5)), np.random.default_rng(1).normal(size=400)
    dX, dY = da.from_array(X, chunks=(200, 5)), da.from_array(Y, chunks=200)  # 9.6 kB a block
    with cluster_client.as_current():
        fit_regressor(dX, dY, hidden_layer_sizes=(4,), max_iter=1)  # here: the blocks come
        monkeypatch.setattr(source, "workers_elsewhere", lambda client: True)
        fit_regressor(dX, dY, hidden_layer_sizes=(4,), max_iter=1)  # 29 parameters: it visits
        fit_regressor(dX, dY, hidden_layer_sizes=(400,), max_iter=1)  # 2801: blocks come here
    assert visits == [29]
    with cluster_client.as_current(), dask.config.set({"chainrule.visit-blocks": "sometimes"}):
        with pytest.raises(ValueError, match="'auto', True or False"):
            fit_regressor(dX, dY, max_iter=1)


# -- held-out blocks scored where they are -------------------------------------------------------


def scored_problem(n_out, output, cost, seed=0):
    """A network, ``X``, ``Y`` and weights (one block of zero weight), and the blocks of 60 rows."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(300, 4))
    sw = rng.uniform(0.5, 2.0, 300)
    sw[60:120] = 0.0  # a block that weighs nothing
    net = cr.Network([4, 6, n_out], activation="tanh", output_activation=output, cost=cost,
                     alpha=0.1, random_state=seed)  # fmt: skip
    Y = net.forward(X + rng.normal(scale=0.5, size=X.shape))  # targets the net almost fits
    if output == "softmax":
        Y = np.eye(n_out)[Y.argmax(axis=1)]
    return net, X, Y, sw


def blocks_of(X, Y, sw):
    return Blocks.from_dask(da.from_array(X, chunks=(60, 4)), Y, sw)


@pytest.mark.parametrize("weighted", [True, False])
def test_r2_and_the_cost_of_blocks_are_those_of_the_rows(client, weighted):
    """R^2 combined from the blocks' means and squared deviations (Chan) is scikit-learn's on
    the rows: ``1 - R / M``, each of ``R`` and ``M`` a sum of ``n`` non-negative terms with a few
    roundings each (within ``gamma_(2n + 8)``, tests/rounding.py), so ``R / M`` within twice
    that, relatively, in each computation; the cost within twice its rounding bound."""
    net, X, Y, sw = scored_problem(2, "identity", "squared_error")
    sw = sw if weighted else None
    score, cost = evaluate(net, blocks_of(X, Y, sw), "r2")
    expected = r2_score(Y, net.forward(X), sample_weight=sw)
    assert 0.5 < expected < 1  # a score with something to combine
    assert abs(score - expected) <= 2 * (1 - expected) * 2 * gamma(2 * len(X) + 8)
    assert abs(cost - net.cost(X, Y, sw)) <= 2 * rounding_bounds(net, X, Y, sw).cost
    assert evaluate(net, blocks_of(X, Y, sw), "loss") == (-cost, cost)


def test_accuracy_of_blocks_is_that_of_the_rows(client):
    """The share (weighted: the weight) of rows predicted right: counts are exact; weight sums
    in another order within ``gamma_(2n + 8)`` each, relatively."""
    net, X, Y, sw = scored_problem(3, "softmax", "categorical_cross_entropy")
    labels, predicted = Y.argmax(axis=1), net.forward(X).argmax(axis=1)
    unweighted, _ = evaluate(net, blocks_of(X, Y, None), "argmax")
    assert unweighted == accuracy_score(labels, predicted)
    weighted, _ = evaluate(net, blocks_of(X, Y, sw), "argmax")
    expected = accuracy_score(labels, predicted, sample_weight=sw)
    assert expected != unweighted and abs(weighted - expected) <= 4 * gamma(2 * len(X) + 8)
    # multilabel: a row is right when every output is on the right side of 0.5
    multi = cr.Network([4, 6, 3], activation="tanh", output_activation="sigmoid",
                       cost="binary_cross_entropy", random_state=1)  # fmt: skip
    Y = (X[:, :3] > 0).astype(float)
    right = ((multi.forward(X) > 0.5) == (Y > 0.5)).all(axis=1)
    score, _ = evaluate(multi, blocks_of(X, Y, None), "threshold")
    assert score == right.mean() and 0 < score < 1
    with pytest.raises(ValueError, match="unknown score 'f1'; valid names are"):
        evaluate(net, blocks_of(X, Y, None), "f1")


def test_a_source_of_blocks_that_weigh_nothing_is_refused():
    X = np.ones((20, 2))
    blocks = Blocks.from_dask(da.from_array(X, chunks=5), X[:, 0], np.zeros(20))
    with pytest.raises(ValueError, match="sample_weight sums to zero"):
        BlockSource(blocks, batch_size=8, shuffle=True)
    source = BlockSource(Blocks.from_dask(da.from_array(X, chunks=5), X[:, 0]), 200, False)
    assert source.batch_size == 20 and source.weight_sum == 20.0 and source.dense(float) is None
