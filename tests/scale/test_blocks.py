"""Dask input as row blocks (:mod:`chainrule.scale.blocks`): cut where ``X``'s chunks are,
``Y`` and the weights aligned on the same rows, whole blocks held out, a block's shared tasks
computed once, and NaN or infinities named by row and block.

Tests that take ``client`` run on dask's local threaded scheduler and on a two-process
``LocalCluster`` (tests/scale/conftest.py)."""

from __future__ import annotations

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")

from chainrule.scale import Blocks, finite, iter_blocks, minibatches  # noqa: E402


def test_validation_holds_out_whole_blocks(client, indexed_data, visited):
    _, (dX, dY, dsw) = indexed_data()
    blocks = Blocks.from_dask(dX, dY, dsw)
    train, val = blocks.split(0.25, np.random.default_rng(0))
    assert len(val) == 2 and len(train) == len(blocks) - 2
    held = np.concatenate([Xk[:, 0] for Xk, _, _ in iter_blocks(val)]).astype(int)
    trained, _ = visited(minibatches(train, 64, np.random.default_rng(0)))
    assert sorted(np.concatenate([held, trained])) == list(range(1000))
    starts = np.cumsum((0, *blocks.rows))
    block_of = np.searchsorted(starts, held, side="right") - 1
    assert sum(blocks.rows[k] for k in set(block_of)) == len(held)  # whole blocks only


def test_one_block_cannot_be_split():
    blocks = Blocks.from_dask(da.ones((10, 2), chunks=10), da.ones(10, chunks=10))
    with pytest.raises(ValueError, match=r"whole blocks.*rechunk"):
        blocks.split(0.1, np.random.default_rng(0))


def test_dask_dataframe_input(client, indexed_data, visited):
    pd = pytest.importorskip("pandas")
    (X, Y, _), _ = indexed_data(n=200, weighted=False)
    frame = dd.from_pandas(pd.DataFrame(X, columns=list("abcd")), npartitions=3)
    target = dd.from_pandas(pd.Series(Y[:, 0]), npartitions=3)
    blocks = Blocks.from_dask(frame, target)
    assert blocks.n_samples == 200 and len(blocks) == 3
    rows, _ = visited(minibatches(blocks, 16, np.random.default_rng(0)))
    assert sorted(rows) == list(range(200))


def test_bad_input_is_named():
    with pytest.raises(TypeError, match="X must be a dask array"):
        Blocks.from_dask(np.ones((3, 2)), da.ones(3))
    with pytest.raises(ValueError, match="Y has 4 rows but X has 3"):
        Blocks.from_dask(da.ones((3, 2)), da.ones(4))
    with pytest.raises(TypeError, match="real numbers"):
        Blocks.from_dask(da.from_array(np.array([["a"], ["b"]])), da.ones(2))


def test_blocks_follow_x_and_align_y_and_the_weights(client):
    X = np.arange(20.0).reshape(10, 2)
    sw = np.linspace(0.5, 2.0, 10)
    dX = da.from_array(X, chunks=((4, 0, 3, 3), (2,)))  # as a filter can leave a block
    blocks = Blocks.from_dask(dX, X[:, :1], da.from_array(sw, chunks=5))  # Y held here
    assert blocks.rows == (4, 3, 3)  # the empty block dropped, X's cuts kept
    assert blocks.row_nbytes == 8 * (2 + 1 + 1) and blocks.nbytes == 10 * 32
    for k, start in enumerate((0, 4, 7)):
        Xk, Yk, sk = dask.compute(*blocks.block(k))
        rows = slice(start, start + blocks.rows[k])
        np.testing.assert_array_equal(Xk, X[rows])
        np.testing.assert_array_equal(Yk, X[rows, :1])
        np.testing.assert_array_equal(sk, sw[rows])
    np.testing.assert_allclose(blocks.weight_sums(), [sw[:4].sum(), sw[4:7].sum(), sw[7:].sum()])
    taken = blocks.take([2, 0])
    assert taken.rows == (3, 4) and taken.weight_sums()[1] == blocks.weight_sums()[0]
    np.testing.assert_array_equal(Blocks.from_dask(dX, X).weight_sums(), [4, 3, 3])


def test_a_task_that_x_and_y_share_is_computed_once_a_block():
    """``y`` computed from ``X``: block ``k``'s parts, computed in one call, compute ``X_k`` once
    (fused into each part, it would be computed twice)."""
    calls = []

    def make(k):
        calls.append(k)
        return np.full((5, 2), float(k))

    parts = [da.from_delayed(dask.delayed(make)(k), (5, 2), float) for k in range(3)]
    X = da.concatenate(parts)
    blocks = Blocks.from_dask(X, X[:, 0] * 2)
    _, Yk, _ = dask.compute(*blocks.block(1), scheduler="sync")
    assert calls == [1]  # block 1's own task, once
    np.testing.assert_array_equal(Yk, np.full((5, 1), 2.0))


def test_finite_names_the_value_the_row_the_column_and_the_block():
    X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 1e300]])
    big = finite(da.from_array(X, chunks=(2, 2)), "X", np.float32)
    with pytest.raises(ValueError, match=r"X holds 1e\+300 \(infinite in float32\) at row 2, "
                       r"column 1 \(block 1, rows 2 to 2\)"):  # fmt: skip
        big.compute()
    y = np.array([0.0, 1.0, 2.0, np.nan])
    with pytest.raises(ValueError, match=r"^y holds NaN at row 3 \(block 1, rows 2 to 3\)"):
        finite(da.from_array(y, chunks=2), "y", float).compute()
    ok = finite(da.from_array(X[:2], chunks=1), "X", np.float32).compute()
    assert ok.dtype == np.float32 and ok.tolist() == X[:2].tolist()
