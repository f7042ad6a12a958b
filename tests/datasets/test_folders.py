"""Folders of Parquet or ``.npy`` files (:mod:`chainrule.datasets.folders`): one lazy block a
file, the target column found or named, classification told from regression, and every bad
folder or file named."""

from __future__ import annotations

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

from chainrule.datasets import read_folder  # noqa: E402


def test_npy_files_stack_by_rows_the_last_column_the_target(tmp_path):
    rng = np.random.default_rng(0)
    parts = [np.column_stack([rng.normal(size=(n, 2)), rng.integers(0, 3, n)]) for n in (4, 6)]
    for k, part in enumerate(parts):
        np.save(tmp_path / f"part{k}.npy", part)
    data = read_folder(tmp_path)
    assert isinstance(data.X, da.Array) and data.X.chunks == ((4, 6), (2,))
    table = np.vstack(parts)
    np.testing.assert_array_equal(data.X.compute(), table[:, :2])
    assert data.task == "classification" and data.y.dtype.kind == "i"  # whole numbers: classes
    np.testing.assert_array_equal(data.y.compute(), table[:, 2])
    assert data.feature_names == ["x1", "x2"] and data.target_name == "target"
    assert data.name == tmp_path.name
    first = read_folder(tmp_path, target="0")  # a column index: the first column
    np.testing.assert_array_equal(first.X.compute(), table[:, 1:])
    assert first.task == "regression"  # not whole numbers
    counts = tmp_path / "counts"
    counts.mkdir()
    np.save(counts / "0.npy", np.column_stack([np.ones(21), np.arange(21.0)]))
    assert read_folder(counts).task == "regression"  # whole numbers, but more than 20 of them
    np.save(counts / "0.npy", np.column_stack([np.ones(20), np.arange(20.0)]))
    assert read_folder(counts).task == "classification"


def test_parquet_files_keep_their_column_names_and_labels(tmp_path):
    for k in range(3):
        frame = pd.DataFrame({"a": [1.0 * k, 2.0], "b": [3, 4], "kind": ["cat", f"dog{k}"]})
        frame.to_parquet(tmp_path / f"part{k}.parquet")
    data = read_folder(tmp_path)
    assert data.feature_names == ["a", "b"] and data.target_name == "kind"
    assert data.X.chunks == ((2, 2, 2), (2,)) and data.X.dtype == float
    assert data.task == "classification"
    assert data.y.compute().tolist() == ["cat", "dog0", "cat", "dog1", "cat", "dog2"]
    numbers = tmp_path / "numbers"
    numbers.mkdir()
    pd.DataFrame({"a": [0.5, 2.0], "b": [3, 4], "c": [1.0, 0.0]}).to_parquet(numbers / "0.parquet")
    by_name = read_folder(numbers, target="a")
    assert by_name.feature_names == ["b", "c"] and by_name.task == "regression"
    np.testing.assert_array_equal(by_name.X.compute(), [[3, 1], [4, 0]])
    np.testing.assert_array_equal(by_name.y.compute(), [0.5, 2.0])


def test_a_bad_folder_is_named(tmp_path):
    with pytest.raises(NotADirectoryError, match="is not a folder"):
        read_folder(tmp_path / "nowhere")
    with pytest.raises(ValueError, match=r"holds no \.parquet or \.npy files"):
        read_folder(tmp_path)
    np.save(tmp_path / "a.npy", np.zeros((3, 3)))
    np.save(tmp_path / "b.npy", np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"different numbers of columns \[3, 4\]"):
        read_folder(tmp_path)
    (tmp_path / "b.npy").unlink()
    with pytest.raises(ValueError, match="give --target as a column index"):
        read_folder(tmp_path, target="label")
    with pytest.raises(ValueError, match=r"--target 3 is out of range: the \.npy files have 3"):
        read_folder(tmp_path, target="3")
    np.save(tmp_path / "a.npy", np.zeros((0, 3)))
    with pytest.raises(ValueError, match="hold no rows"):
        read_folder(tmp_path)
    np.save(tmp_path / "a.npy", np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="holds a 3-D float64 array"):
        read_folder(tmp_path)
    (tmp_path / "a.npy").write_text("not numpy")
    with pytest.raises(ValueError, match=r"is not a \.npy file numpy can read"):
        read_folder(tmp_path)


def test_bad_parquet_files_are_named(tmp_path):
    pd.DataFrame({"a": [1.0], "y": [0]}).to_parquet(tmp_path / "0.parquet")
    with pytest.raises(ValueError, match=r"has no column 'z'; its columns are \['a', 'y'\]"):
        read_folder(tmp_path, target="z")
    pd.DataFrame({"b": [1.0], "y": [0]}).to_parquet(tmp_path / "1.parquet")
    with pytest.raises(ValueError, match=r"1.parquet lacks the columns \['a'\]"):
        read_folder(tmp_path)
    (tmp_path / "1.parquet").unlink()
    pd.DataFrame({"y": [0]}).to_parquet(tmp_path / "0.parquet")
    with pytest.raises(ValueError, match="no feature columns besides the target 'y'"):
        read_folder(tmp_path)
    pd.DataFrame({"a": [1.0], "name": ["x"], "y": [0]}).to_parquet(tmp_path / "0.parquet")
    with pytest.raises(ValueError, match=r"feature columns must be numeric; \['name'\] are not"):
        read_folder(tmp_path)
