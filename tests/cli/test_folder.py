"""``chainrule train`` on a folder of Parquet or ``.npy`` files (:mod:`chainrule.cli.folder`):
whole blocks held out for the test report, the features standardised with moments from one pass,
the estimator streaming the blocks."""

from __future__ import annotations

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

from chainrule import MLPRegressor  # noqa: E402
from chainrule.cli import main  # noqa: E402
from chainrule.cli.folder import split_blocks, standardized_fit  # noqa: E402
from chainrule.datasets import Dataset  # noqa: E402

from rounding import gamma  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def write_parts(folder, kind, n_files=4, rows=150):
    folder.mkdir()
    rng = np.random.default_rng(0)
    for k in range(n_files):
        X = rng.normal(size=(rows, 3))
        y = (X[:, 0] - X[:, 1] > 0).astype(int)
        if kind == "npy":
            np.save(folder / f"part{k}.npy", np.column_stack([X, y]))
        else:
            frame = pd.DataFrame(X, columns=["a", "b", "c"])
            frame["label"] = np.where(y > 0, "up", "down")
            frame.to_parquet(folder / f"part{k}.parquet")


@pytest.mark.parametrize("kind", ["npy", "parquet"])
def test_cli_trains_on_a_folder_of_files(tmp_path, capsys, kind):
    write_parts(tmp_path / "data", kind)
    out = tmp_path / "run"
    code = main(["train", "--data", str(tmp_path / "data"), "--out", str(out), "--quiet",
                 "--epochs", "30", "--hidden", "8", "--learning-rate", "0.01"])  # fmt: skip
    text = capsys.readouterr().out
    assert code == 0, text
    assert "600 samples, 3 features" in text and "test accuracy" in text
    accuracy = float(text.split("test accuracy")[1].split()[0])
    assert accuracy > 0.85
    assert (out / "model.crm").is_file()
    from chainrule import load

    model = load(out / "model.crm")
    expected = ["down", "up"] if kind == "parquet" else [0, 1]
    assert model.model.classes_.tolist() == expected


def test_cli_folder_errors(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["train", "--data", str(tmp_path / "empty"), "--out", str(tmp_path / "o")]) == 1
    assert "no .parquet or .npy files" in capsys.readouterr().err
    write_parts(tmp_path / "data", "npy", n_files=1)
    assert main(["train", "--data", str(tmp_path / "data"), "--target", "c"]) == 1
    assert "column index" in capsys.readouterr().err


def lazy_data(rows):
    """A data set of dask ``X`` (row ``i``: ``[i, 1]``) and ``y`` cut into blocks of ``rows``."""
    n = sum(rows)
    X = np.column_stack([np.arange(n, dtype=float), np.ones(n)])
    Xd = da.from_array(X, chunks=(tuple(rows), 2))
    yd = da.from_array(np.arange(n) % 2, chunks=n)  # cut as X is by split_blocks
    return Dataset("parts", Xd, yd, "classification", ["a", "b"])


def test_whole_blocks_are_held_out_drawn_by_the_seed():
    data = lazy_data([10, 20, 30, 40, 50])
    X_tr, X_te, _, y_te = split_blocks(data, 0.25, seed=3)
    assert len(X_te.chunks[0]) == 2 and len(X_tr.chunks[0]) == 3  # ceil(0.25 * 5) blocks
    held = X_te[:, 0].compute().astype(int)
    starts = {0: 10, 10: 20, 30: 30, 60: 40, 100: 50}  # each block's first row: its length
    first = [s for s in starts if s in held]
    assert sorted(held) == sorted(np.concatenate([np.arange(s, s + starts[s]) for s in first]))
    assert sorted(np.concatenate([held, X_tr[:, 0].compute()])) == list(range(150))
    np.testing.assert_array_equal(y_te.compute(), held % 2)  # y cut as X is
    again = split_blocks(data, 0.25, seed=3)[1]
    np.testing.assert_array_equal(again.compute(), X_te.compute())
    other = [split_blocks(data, 0.25, seed=s)[1][:, 0].compute() for s in range(4, 8)]
    assert any(not np.array_equal(o, held) for o in other)


def test_too_few_blocks_train_on_everything_and_say_so(capsys):
    for rows, test_size in (([30], 0.25), ([10, 20], 0.75)):  # 1 block; 2 of 2 held
        data = lazy_data(rows)
        X_tr, X_te, _, y_te = split_blocks(data, test_size, seed=0)
        assert X_te is None and y_te is None and X_tr.shape[0] == sum(rows)
        assert "too few to hold whole ones out" in capsys.readouterr().err


def test_the_features_are_standardised_with_the_moments_of_the_training_blocks():
    data = lazy_data([40, 40, 40])
    X = data.X * da.from_array(np.array([2.0, 1.0])) + da.from_array(np.array([5.0, 0.0]))
    model = MLPRegressor(hidden_layer_sizes=(2,), max_iter=2, random_state=0)
    X_val = np.array([[5.0, 1.0], [243.0, 1.0]])
    bundle = standardized_fit(model, X, data.y, {"data": "parts"}, X_val, np.array([0, 1]))
    # the mean of integers: exact sums, one division; the standard deviation, summed by dask
    # in another order, within gamma_(2n + 8) (tests/rounding.py)
    col = 2 * np.arange(120.0) + 5
    np.testing.assert_array_equal(bundle.mean, [col.mean(), 1.0])
    np.testing.assert_allclose(bundle.scale, [col.std(), 1.0], rtol=gamma(2 * 120 + 8), atol=0)
    assert bundle.model is model and model.n_iter_ == 2 and bundle.info == {"data": "parts"}
    assert model.n_features_in_ == 2 and not hasattr(model, "feature_names_in_")
