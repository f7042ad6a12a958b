"""``fit(X, y, X_val=, y_val=, sample_weight_val=)`` on dask input: the validation set (a dask
collection, or in memory) is scored block by block on the workers, as held-out blocks are;
early stopping watches it instead of holding blocks of ``X`` out."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from chainrule import MLPClassifier, MLPRegressor
from chainrule.cli import main

from rounding import U, gamma, rounding_bounds

da = pytest.importorskip("dask.array")
pd = pytest.importorskip("pandas")
pytest.importorskip("distributed")


def _data(n=600, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    return X, y, rng.uniform(0.5, 2.0, n)


def _fit(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


def lazy(a, rows=100):
    return da.from_array(a, chunks=(rows, *a.shape[1:]))


PARAMS = dict(hidden_layer_sizes=(6,), activation="tanh", random_state=0, shuffle=False)


@pytest.mark.parametrize("where", ["memory", "dask"])
def test_a_recorded_validation_set_is_scored_on_the_blocks(client, where):
    """Without early stopping the set is only recorded: the weights are those of the fit
    without it, and the last epoch's score and loss are those of the final weights."""
    X, y, _ = _data()
    X_val, y_val, _ = _data(n=150, seed=1)
    given = (X_val, y_val) if where == "memory" else (lazy(X_val, 60), lazy(y_val, 60))
    clf = _fit(
        MLPClassifier(max_iter=4, **PARAMS), lazy(X), lazy(y), X_val=given[0], y_val=given[1]
    )
    plain = _fit(MLPClassifier(max_iter=4, **PARAMS), lazy(X), lazy(y))
    for W, W_plain in zip(clf.coefs_, plain.coefs_, strict=True):
        np.testing.assert_array_equal(W, W_plain)
    assert len(clf.validation_scores_) == len(clf.validation_loss_curve_) == 4
    assert clf.best_validation_score_ is None  # nothing watched it
    # the accuracy: the same forward pass row by row; the share of rows right
    assert clf.validation_scores_[-1] == pytest.approx(clf.score(X_val, y_val), abs=gamma(150))
    # the loss: two float64 computations of one cost, each within the bound of the exact one
    net, Y_val = clf.network_, clf.transform_labels(y_val)
    n = len(y_val)
    cost = net.batch_cost(X_val, Y_val, np.full(n, 1 / n), n)
    bound = rounding_bounds(net, X_val, Y_val).cost
    assert abs(clf.validation_loss_curve_[-1] - cost) <= 2 * bound + 8 * U * abs(cost)


def test_early_stopping_watches_the_given_set_and_holds_no_block_out():
    X, y, _ = _data()
    X_val, y_val, _ = _data(n=150, seed=1)
    clf = MLPClassifier(early_stopping=True, max_iter=200, n_iter_no_change=3, **PARAMS)
    _fit(clf, lazy(X), lazy(y), X_val=lazy(X_val, 50), y_val=lazy(y_val, 50))
    assert clf.n_iter_ < 200  # it stopped early
    assert clf.t_ == clf.n_iter_ * len(X)  # every block of X trained in every epoch
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    # the weights kept are the best epoch's on the given set
    assert clf.score(X_val, y_val) == pytest.approx(clf.best_validation_score_, abs=gamma(150))


def test_sample_weight_val_weighs_score_and_loss_as_in_memory():
    """The validation score of weighted blocks is weighted (as scikit-learn's ``score`` with
    ``sample_weight``), and the loss is the weighted mean, as in memory."""
    X, y, _ = _data()
    X_val, y_val, sw_val = _data(n=150, seed=1)
    clf = MLPClassifier(max_iter=3, **PARAMS)
    _fit(clf, lazy(X), lazy(y), X_val=lazy(X_val, 50), y_val=lazy(y_val, 50),
         sample_weight_val=lazy(sw_val, 50))  # fmt: skip
    expected = clf.score(X_val, y_val, sample_weight=sw_val)
    # sums of 150 weights in another order: within gamma_150 of the exact share each
    assert abs(clf.validation_scores_[-1] - expected) <= 2 * gamma(150)
    net, Y_val = clf.network_, clf.transform_labels(y_val)
    S = sw_val.sum()
    cost = net.batch_cost(X_val, Y_val, sw_val / S, S)
    bound = rounding_bounds(net, X_val, Y_val, sample_weight=sw_val).cost
    assert abs(clf.validation_loss_curve_[-1] - cost) <= 2 * bound + 8 * U * abs(cost)


def test_a_regressor_scores_r2_on_weighted_blocks():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(400, 3))
    y = X[:, 0] - 2 * X[:, 1] + 0.1 * rng.normal(size=400)
    X_val, y_val, sw_val = X[:120] + 0.05, y[:120], rng.uniform(0.5, 2.0, 120)
    reg = MLPRegressor(max_iter=3, **PARAMS)
    _fit(reg, lazy(X), lazy(y), X_val=lazy(X_val, 40), y_val=lazy(y_val, 40),
         sample_weight_val=lazy(sw_val, 40))  # fmt: skip
    from sklearn.metrics import r2_score

    expected = r2_score(y_val, reg.predict(X_val), sample_weight=sw_val)
    # moments combined block by block (Chan) against one pass: a few roundings per sample
    assert reg.validation_scores_[-1] == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_bad_validation_sets_on_dask_are_named():
    X, y, _ = _data()
    X_val, y_val, _ = _data(n=150, seed=1)
    clf = MLPClassifier(max_iter=1, **PARAMS)
    with pytest.raises(ValueError, match=r"validation set .*X_val has shape \(150, 4\)"):
        clf.fit(lazy(X), lazy(y), X_val=X_val[:, :4], y_val=y_val)
    with pytest.raises(ValueError, match=r"y_val has labels not among the classes: \[7\]"):
        clf.fit(lazy(X), lazy(y), X_val=X_val, y_val=np.where(y_val == 0, 7, y_val))
    with pytest.raises(ValueError, match="scoring='accuracy' is not available with dask input"):
        MLPClassifier(max_iter=1, scoring="accuracy").fit(
            lazy(X), lazy(y), X_val=X_val, y_val=y_val
        )
    # dask validation sets with in-memory X: refused, saying what to do
    with pytest.raises(ValueError, match=r"X is in memory.*\.compute\(\)"):
        clf.fit(X, y, X_val=lazy(X_val), y_val=y_val)


def test_cli_validation_file_with_a_folder(tmp_path, capsys):
    """``chainrule train --data FOLDER --validation FILE``: the folder's blocks train, the
    file (in memory, standardised as the blocks are) validates."""
    folder = tmp_path / "data"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for k in range(4):
        X = rng.normal(size=(150, 3))
        frame = pd.DataFrame(X, columns=["a", "b", "c"])
        frame["label"] = np.where(X[:, 0] - X[:, 1] > 0, "up", "down")
        frame.to_parquet(folder / f"part{k}.parquet")
    X = rng.normal(size=(80, 3))
    val = pd.DataFrame(X, columns=["c", "a", "b"])[["c", "a", "b"]]
    val["c"], val["a"], val["b"] = X[:, 2], X[:, 0], X[:, 1]
    val["label"] = np.where(X[:, 0] - X[:, 1] > 0, "up", "down")
    val.to_csv(tmp_path / "val.csv", index=False)
    out = tmp_path / "run"
    code = main(["train", "--data", str(folder), "--validation", str(tmp_path / "val.csv"),
                 "--out", str(out), "--quiet", "--epochs", "5", "--hidden", "4"])  # fmt: skip
    text, err = capsys.readouterr()
    assert code == 0, err
    from chainrule import load

    bundle = load(out / "model.crm")
    assert len(bundle.model.validation_loss_curve_) == bundle.model.n_iter_
    accuracy = np.mean(bundle.predict(X) == val["label"].to_numpy())
    assert f"validation accuracy  {accuracy:.4f}" in text
